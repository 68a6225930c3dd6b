/**
 * The page: controls, the memory map, the panels, and the frame loop that
 * runs operations and redraws what changed.
 *
 * Each animation frame runs a batch of operations (as many as the speed asks
 * for, within a time budget), then redraws: the memory map every frame (it
 * writes only the pixels that changed), the panel in front at most a few
 * times a second while playing, everything at once when paused.
 */
import { describeOp, opChips } from './model/describe.js';
import { DESIGN_SCENARIOS } from './model/designs.js';
import type { Op } from './model/ops.js';
import { checkChoice, checkSeed, machineFromParams } from './model/params.js';
import { PRESSURE_SCENARIOS } from './model/pressure.js';
import { PROC_SCENARIOS } from './model/processes.js';
import { SCENARIOS, type Scenario, StepContext, scenarioById, scenarioOps, stepBounds } from './model/scenarios.js';
import { DEFAULT_CONFIG, kasanAvailable, type MachineConfig, Session } from './model/session.js';
import { Timeline } from './model/timeline.js';
import { looksLikeMallocTrace, TraceConverter, type TraceResult } from './model/traces.js';
import { WORKLOADS, workloadById } from './model/workloads.js';
import { BuddyPanel } from './ui/buddy.js';
import { CachesPanel } from './ui/caches.js';
import { ChartsPanel } from './ui/charts.js';
import { DesignsPanel } from './ui/designs.js';
import { byId, h, setText } from './ui/dom.js';
import { KasanPanel } from './ui/kasan.js';
import { MemMapView } from './ui/memmap.js';
import { PressurePanel } from './ui/pressure.js';
import { ProcPanel } from './ui/proc.js';
import { ProcessesPanel } from './ui/processes.js';
import { smpSection } from './ui/smp.js';

type Tab = 'caches' | 'buddy' | 'kasan' | 'charts' | 'dmesg' | 'procs' | 'pressure' | 'designs';
const TABS: [Tab, string][] = [
  ['caches', 'Caches'],
  ['buddy', 'Buddy allocator'],
  ['kasan', 'KASAN'],
  ['charts', 'Over time'],
  ['dmesg', 'dmesg & /proc'],
  ['procs', 'Processes'],
  ['pressure', 'Memory pressure'],
  ['designs', 'Designs'],
];
const SPEEDS: [number, string][] = [
  [1, '1 op/s'],
  [5, '5 ops/s'],
  [20, '20 ops/s'],
  [100, '100 ops/s'],
  [1000, '1000 ops/s'],
  [10000, '10k ops/s'],
  [Number.POSITIVE_INFINITY, 'as fast as it goes'],
];
const MEMORY = ['32M', '64M', '128M', '256M', '512M', '1G'];

type Source =
  | { kind: 'workload'; id: string }
  | { kind: 'trace'; name: string; ops: Op[]; result: TraceResult }
  | { kind: 'scenario'; id: string }
  | { kind: 'none' };

/** Frame timings, for the page's fps line and the end-to-end test. */
export interface Perf {
  frames: number;
  /** Milliseconds of work in each of the last frames. */
  work: number[];
  /** Timestamps of the last frames. */
  stamps: number[];
  opsRun: number;
}

export class App {
  session: Session;
  timeline = new Timeline();
  readonly map: MemMapView;
  readonly caches: CachesPanel;
  readonly buddy: BuddyPanel;
  readonly kasan: KasanPanel;
  readonly charts: ChartsPanel;
  readonly proc: ProcPanel;
  readonly procs: ProcessesPanel;
  readonly pressure: PressurePanel;
  readonly designs: DesignsPanel;
  cfg: MachineConfig;
  source: Source = { kind: 'none' };
  playing = false;
  speed = 100;
  tab: Tab = 'caches';
  scenario: Scenario | null = null;
  private bounds: number[] = [];
  perf: Perf = { frames: 0, work: [], stamps: [], opsRun: 0 };
  private pendingSeek: number | null = null;
  private acc = 0;
  private lastT = 0;
  private rendered = -1;
  private lastHeavy = 0;
  private lastLog = 0;
  private lastLight = 0;
  private heavyVersion = -1;
  private el: Record<string, HTMLElement> = {};
  /** The last error a frame threw (shown once). */
  private frameError = '';
  readonly kasanAvailable: boolean;

  constructor(root: HTMLElement) {
    this.kasanAvailable = kasanAvailable();
    const params = new URLSearchParams(location.search);
    // A bad parameter is named in the page and its default used instead.
    const parsed = machineFromParams(params, this.kasanAvailable, globalThis.crossOriginIsolated === true);
    const problems = parsed.problems;
    this.cfg = parsed.cfg;
    try {
      this.session = new Session(this.cfg);
    } catch (e) {
      problems.push(`could not boot ${describeCfg(this.cfg)}: ${(e as Error).message}; booted the default machine instead`);
      this.cfg = this.defaultConfig();
      this.session = new Session(this.cfg);
    }
    this.map = new MemMapView({ openSlab: (cache, slab) => this.openCache(this.session.k.inspect.cacheName(cache) ?? '', slab * 4096) });
    this.caches = new CachesPanel({ inspect: (addr) => this.kasan.setFocus(addr) });
    this.buddy = new BuddyPanel();
    this.kasan = new KasanPanel({ showObject: (cache, addr) => this.openCache(cache, addr), changed: () => this.invalidate() });
    this.kasan.available = this.kasanAvailable;
    this.charts = new ChartsPanel();
    this.proc = new ProcPanel(() => this.invalidate());
    this.procs = new ProcessesPanel(() => this.invalidate(), this.cfg.seed);
    this.pressure = new PressurePanel(() => this.invalidate(), this.cfg.seed);
    this.designs = new DesignsPanel(() => this.invalidate(), this.cfg.seed);
    root.replaceChildren(this.header(), this.errorBar(), this.controls(), this.narration(), this.mainArea());
    this.installDrop();
    this.installKeys();
    const sc = params.get('scenario');
    const wl = params.get('workload');
    const tab = params.get('tab');
    const speed = params.get('speed');
    problems.push(
      ...[
        checkChoice('scenario', sc, [
          ...SCENARIOS.map((s) => s.id),
          ...PROC_SCENARIOS.map((s) => s.id),
          ...PRESSURE_SCENARIOS.map((s) => s.id),
          ...DESIGN_SCENARIOS.map((s) => s.id),
        ]),
        checkChoice(
          'workload',
          wl,
          WORKLOADS.map((w) => w.id),
        ),
        checkChoice(
          'tab',
          tab,
          TABS.map(([t]) => t),
        ),
        speed !== null && !(Number(speed) > 0) ? `speed: expected operations per second (a number above 0), got '${speed}'` : null,
      ].filter((p): p is string => p !== null),
    );
    this.guardBoot(() => {
      if (sc && scenarioById(sc)) this.startScenario(sc);
      else this.loadWorkload(wl && workloadById(wl) ? wl : 'boot');
    });
    if (Number(speed) > 0) this.setSpeed(Number(speed));
    if (tab && TABS.some(([t]) => t === tab)) this.showTab(tab as Tab);
    if (sc && PROC_SCENARIOS.some((s) => s.id === sc)) {
      this.procs.start(sc);
      this.showTab('procs');
    }
    if (sc && PRESSURE_SCENARIOS.some((s) => s.id === sc)) {
      this.pressure.start(sc);
      this.showTab('pressure');
    }
    if (sc && DESIGN_SCENARIOS.some((s) => s.id === sc)) {
      this.designs.start(sc);
      this.showTab('designs');
    }
    if (params.get('play') === '1') this.play(true);
    if (problems.length > 0) this.showError(problems, true);
    requestAnimationFrame((t) => this.frame(t));
  }

  /** The default machine, on this page (shared memory when the page may use it). */
  private defaultConfig(): MachineConfig {
    return { ...DEFAULT_CONFIG, slubDebug: '', shared: globalThis.crossOriginIsolated === true };
  }

  // ───────────────────────── errors ─────────────────────────

  /** The bar that says what went wrong (a bad URL parameter, a trace that cannot be read), with a way back. */
  private errorBar(): HTMLElement {
    this.el.errorText = h('div', { id: 'error-text', class: 'error-text' });
    this.el.error = h(
      'section',
      { id: 'error', class: 'error-bar', role: 'alert', hidden: true },
      this.el.errorText,
      h(
        'div',
        { class: 'error-buttons' },
        h(
          'button',
          {
            id: 'error-default',
            type: 'button',
            title: 'boot 128M, 2 CPUs, seed 1 with the system boot workload, and drop the URL parameters',
            onclick: () => this.bootDefault(),
          },
          'boot the default machine',
        ),
        h('button', { id: 'error-close', type: 'button', onclick: () => this.hideError() }, 'dismiss'),
      ),
    );
    return this.el.error;
  }

  /** Show problems in the page, one line each; `params`: they came from the URL. */
  showError(lines: string[], params = false): void {
    const text = this.el.errorText!;
    text.replaceChildren(
      h('b', {}, params ? (lines.length > 1 ? 'These URL parameters were not understood:' : 'A URL parameter was not understood:') : 'Error:'),
      ...lines.map((l) => h('div', { class: 'error-line' }, l)),
    );
    if (params)
      text.append(
        h(
          'div',
          { class: 'hint' },
          `Each was left at its default (mem=${DEFAULT_CONFIG.memory}, cpus=${DEFAULT_CONFIG.cpus}, seed=${DEFAULT_CONFIG.seed}, workload=boot); the rest of the page works as usual.`,
        ),
      );
    this.el.error!.hidden = false;
  }

  hideError(): void {
    this.el.error!.hidden = true;
  }

  /** Back to the machine the page opens with, without URL parameters. */
  bootDefault(): void {
    history.replaceState(null, '', location.pathname);
    this.hideError();
    this.cfg = this.defaultConfig();
    this.guardBoot(() => this.loadWorkload('boot'));
  }

  /**
   * Boot (a workload, a scenario, a trace) where the settings may be bad:
   * the error is shown in the page instead of killing it, and the page
   * goes on with the default machine.
   */
  private guardBoot(fn: () => void): boolean {
    try {
      fn();
      return true;
    } catch (e) {
      this.play(false);
      const msg = (e as Error)?.message ?? String(e);
      const tried = describeCfg(this.session.cfg);
      this.cfg = this.defaultConfig();
      this.exitScenario(false);
      this.source = { kind: 'workload', id: 'boot' };
      const w = workloadById('boot')!;
      this.session.reset(this.cfg, w.make(this.cfg.cpus, this.cfg.seed));
      this.resetViews();
      this.showError([`could not boot ${tried}: ${msg}; booted the default machine instead`]);
      return false;
    }
  }

  // ───────────────────────── building the page ─────────────────────────

  private header(): HTMLElement {
    const mem = h(
      'select',
      { id: 'cfg-mem', title: 'RAM of the machine' },
      ...MEMORY.map((m) => h('option', { value: m, selected: m === this.cfg.memory }, m)),
    );
    const cpus = h(
      'select',
      { id: 'cfg-cpus', title: 'CPUs' },
      ...[1, 2, 4, 8].map((n) => h('option', { value: n, selected: n === this.cfg.cpus }, `${n} CPU${n > 1 ? 's' : ''}`)),
    );
    const seed = h('input', { id: 'cfg-seed', type: 'number', value: this.cfg.seed, min: 0, title: 'seed: the same seed gives the same machine' });
    const kasan = h('input', { id: 'cfg-kasan', type: 'checkbox', checked: this.cfg.kasan, disabled: !this.kasanAvailable });
    const debug = h(
      'select',
      {
        id: 'cfg-slub-debug',
        title: 'slub_debug= boot option: red zones, poisoning and sanity checks on every cache (debug caches always take the slow path)',
      },
      ...[
        ['', 'slub_debug off'],
        ['FZPU', 'slub_debug=FZPU'],
        ['ZP', 'slub_debug=ZP'],
        ['P', 'slub_debug=P'],
      ].map(([v, l]) => h('option', { value: v, selected: v === (this.cfg.slubDebug ?? '') }, l)),
    );
    const bootBtn = h(
      'button',
      {
        id: 'cfg-boot',
        type: 'button',
        onclick: () => {
          const s = checkSeed(seed.value);
          if (typeof s === 'string') {
            this.showError([`${s} (the seed box takes 0, 1, 2, ...)`]);
            return;
          }
          this.hideError();
          this.cfg = { ...this.cfg, memory: mem.value, cpus: Number(cpus.value), seed: s, kasan: kasan.checked, slubDebug: debug.value };
          this.guardBoot(() => this.reload());
        },
      },
      'Boot',
    );
    this.el.mem = mem;
    this.el.cpus = cpus;
    this.el.seed = seed;
    this.el.kasan = kasan;
    this.el.debug = debug;
    this.el.status = h('span', { id: 'status', class: 'status' });
    this.el.fps = h('span', { id: 'fps', class: 'fps' });
    return h(
      'header',
      {},
      h('h1', {}, 'kmem', h('span', {}, 'Linux’s buddy allocator, SLUB and KASAN, running in this page')),
      h(
        'div',
        { class: 'machine' },
        mem,
        cpus,
        h('label', {}, 'seed ', seed),
        h('label', { title: this.kasanAvailable ? 'boot with KASAN (generic)' : 'this kmem has no KASAN yet' }, kasan, ' KASAN'),
        debug,
        bootBtn,
        this.el.status,
        this.el.fps,
      ),
    );
  }

  private controls(): HTMLElement {
    const wl = h('select', { id: 'workload' }, ...WORKLOADS.map((w) => h('option', { value: w.id, title: w.about }, w.name)));
    const sc = h(
      'select',
      { id: 'scenario' },
      ...SCENARIOS.map((s) =>
        h(
          'option',
          { value: s.id, disabled: s.needsKasan && !this.kasanAvailable, title: s.about },
          s.title + (s.needsKasan && !this.kasanAvailable ? ' (needs KASAN)' : ''),
        ),
      ),
    );
    const file = h('input', { id: 'trace-file', type: 'file', accept: '.txt,.trace,.gz,.log,text/plain' });
    file.addEventListener('change', () => {
      const f = file.files?.[0];
      if (f) void this.loadTrace(f);
    });
    const speed = h(
      'select',
      { id: 'speed', onchange: () => this.setSpeed(Number(speed.value)) },
      ...SPEEDS.map(([v, l]) => h('option', { value: v, selected: v === this.speed }, l)),
    );
    this.el.speed = speed;
    const scrub = h('input', { id: 'scrubber', type: 'range', min: 0, max: 0, value: 0 });
    scrub.addEventListener('input', () => {
      this.play(false);
      this.pendingSeek = Number((scrub as HTMLInputElement).value);
    });
    this.el.scrub = scrub;
    this.el.playBtn = h('button', { id: 'play', type: 'button', title: 'play / pause (space)', onclick: () => this.play(!this.playing) }, '▶ play');
    this.el.counter = h('span', { id: 'counter', class: 'counter' });
    this.el.now = h('div', { id: 'now', class: 'now' });
    this.el.source = h('span', { id: 'source', class: 'hint' });
    return h(
      'section',
      { id: 'controls', class: 'controls' },
      h(
        'div',
        { class: 'row' },
        h('label', {}, 'workload ', wl),
        h('button', { id: 'load-workload', type: 'button', onclick: () => this.loadWorkload(wl.value) }, 'Load'),
        h('span', { class: 'sep' }),
        h(
          'label',
          {
            class: 'file',
            title: 'a kmem ftrace (kmem:kmalloc, kfree, kmem_cache_*, mm_page_*) or a malloc trace (Alloc(n), Free(i)); you can also drop it on the page',
          },
          'trace file ',
          file,
        ),
        h('span', { class: 'sep' }),
        h('label', {}, 'guided scenario ', sc),
        h('button', { id: 'start-scenario', type: 'button', onclick: () => this.startScenario(sc.value) }, 'Start'),
      ),
      h(
        'div',
        { class: 'row transport' },
        h('button', { id: 'to-start', type: 'button', title: 'back to boot', onclick: () => this.seek(0) }, '⇤ boot'),
        h('button', { id: 'step-back', type: 'button', title: 'one operation back (←)', onclick: () => this.seek(this.session.pos - 1) }, '◀ back'),
        this.el.playBtn,
        h('button', { id: 'step', type: 'button', title: 'one operation (→)', onclick: () => this.step() }, 'step ▶|'),
        speed,
        scrub,
        this.el.counter,
        this.el.source,
      ),
      this.el.now,
    );
  }

  private narration(): HTMLElement {
    this.el.narration = h(
      'section',
      { id: 'narration', class: 'narration', hidden: true },
      h('div', { class: 'n-head' }, h('b', { id: 'n-title' }), h('span', { id: 'n-step' })),
      h('p', { id: 'n-text' }),
      h(
        'div',
        { class: 'n-buttons' },
        h('button', { id: 'n-back', type: 'button', onclick: () => this.scenarioGo(-1) }, '◀ back'),
        h('button', { id: 'n-next', type: 'button', onclick: () => this.scenarioGo(1) }, 'next ▶'),
        h('button', { id: 'n-exit', type: 'button', onclick: () => this.exitScenario() }, 'leave the scenario'),
      ),
    );
    return this.el.narration;
  }

  private mainArea(): HTMLElement {
    this.el.log = h('ol', { id: 'oplog', class: 'oplog' });
    const left = h('div', { class: 'left' }, this.map.root, h('section', { class: 'panel' }, h('h2', {}, 'Operations'), this.el.log));
    const nav = h('nav', { class: 'tabs' }, ...TABS.map(([t, label]) => h('button', { type: 'button', 'data-tab': t, onclick: () => this.showTab(t) }, label)));
    this.el.tabs = nav;
    const right = h(
      'div',
      { class: 'right' },
      nav,
      this.caches.root,
      this.buddy.root,
      this.kasan.root,
      this.charts.root,
      this.proc.root,
      this.procs.root,
      this.pressure.root,
      this.designs.root,
    );
    this.el.right = right;
    // Real CPUs (smp: 'workers'): a button under the kernel's text files.
    this.proc.root.append(smpSection());
    const main = h('main', {}, left, right);
    this.showTab(this.tab, main);
    return main;
  }

  /** Redraw the panel in front on the next frame. */
  invalidate(): void {
    this.heavyVersion = -1;
  }

  showTab(tab: Tab, within: HTMLElement = document.body): void {
    this.tab = tab;
    for (const [t] of TABS) {
      const sec = within.querySelector<HTMLElement>(`#tab-${t}`);
      if (sec) sec.hidden = t !== tab;
    }
    for (const b of within.querySelectorAll<HTMLElement>('nav.tabs button')) b.classList.toggle('on', b.dataset.tab === tab);
    this.heavyVersion = -1;
  }

  // ───────────────────────── sources ─────────────────────────

  /** Show the running machine's settings in the header (a scenario may have changed them). */
  private syncForm(): void {
    const c = this.session.cfg;
    addOption(this.el.mem as HTMLSelectElement, c.memory, c.memory);
    addOption(this.el.cpus as HTMLSelectElement, String(c.cpus), `${c.cpus} CPU${c.cpus > 1 ? 's' : ''}`);
    addOption(this.el.debug as HTMLSelectElement, c.slubDebug ?? '', `slub_debug=${c.slubDebug}`);
    (this.el.mem as HTMLSelectElement).value = c.memory;
    (this.el.cpus as HTMLSelectElement).value = String(c.cpus);
    (this.el.seed as HTMLInputElement).value = String(c.seed);
    (this.el.kasan as HTMLInputElement).checked = c.kasan && this.kasanAvailable;
    (this.el.debug as HTMLSelectElement).value = c.slubDebug ?? '';
  }

  private resetViews(): void {
    this.syncForm();
    this.timeline = new Timeline();
    this.charts.reset();
    this.rendered = -1;
    this.heavyVersion = -1;
    this.timeline.sample(this.session.k, 0);
  }

  loadWorkload(id: string): void {
    const w = workloadById(id) ?? WORKLOADS[0]!;
    this.exitScenario(false);
    this.play(false);
    this.source = { kind: 'workload', id: w.id };
    this.session.reset(this.cfg, w.make(this.cfg.cpus, this.cfg.seed));
    const sel = document.getElementById('workload') as HTMLSelectElement | null;
    if (sel) sel.value = w.id;
    setText(this.el.source!, `${w.name}: ${w.about}`);
    this.resetViews();
  }

  /** Boot again with the current settings and the same source. */
  private reload(): void {
    const s = this.source;
    if (s.kind === 'workload') this.loadWorkload(s.id);
    else if (s.kind === 'scenario') this.startScenario(s.id);
    else if (s.kind === 'trace') this.useTrace(s.name, s.result);
    else {
      this.session.reset(this.cfg, null);
      this.resetViews();
    }
  }

  async loadTrace(file: File): Promise<void> {
    this.play(false);
    const before = this.el.source!.textContent ?? '';
    try {
      await this.readTrace(file);
    } catch (e) {
      // A truncated .gz, a file that is not text: say so, and keep the machine as it was.
      setText(this.el.source!, before);
      this.showError([`trace file ${file.name}: ${traceError(file, e)}; nothing was loaded`]);
    }
  }

  private async readTrace(file: File): Promise<void> {
    setText(this.el.source!, `reading ${file.name}…`);
    const head = new Uint8Array(await file.slice(0, 2).arrayBuffer());
    let stream = file.stream() as ReadableStream<BufferSource>;
    if (head[0] === 0x1f && head[1] === 0x8b) stream = stream.pipeThrough(new DecompressionStream('gzip')) as ReadableStream<BufferSource>;
    const reader = stream.pipeThrough(new TextDecoderStream()).getReader();
    let conv: TraceConverter | null = null;
    let rest = '';
    for (;;) {
      const { value, done } = await reader.read();
      const text = rest + (value ?? '');
      const lines = text.split('\n');
      rest = done ? '' : lines.pop()!;
      if (conv === null && (lines.length > 0 || done)) conv = new TraceConverter(looksLikeMallocTrace(text) ? 'malloc' : 'kmem', this.cfg.cpus);
      for (const l of lines) conv!.line(l);
      if (conv) setText(this.el.source!, `reading ${file.name}: ${conv.ops.length} operations…`);
      if (done || conv?.truncated) break;
    }
    if (!conv) return;
    const result = conv.result();
    this.hideError();
    this.guardBoot(() => this.useTrace(file.name, result));
  }

  /** Replace the session with a trace's operations. */
  useTrace(name: string, result: TraceResult): void {
    this.exitScenario(false);
    this.source = { kind: 'trace', name, ops: result.ops, result };
    this.session.reset(this.cfg, null, result.ops);
    const notes = [
      `${result.kind === 'malloc' ? 'malloc trace' : 'kmem trace'}: ${result.ops.length} operations`,
      result.skipped ? `${result.skipped} other lines skipped` : '',
      result.bad ? `${result.bad} lines not understood` : '',
      result.unmatched ? `${result.unmatched} frees of objects allocated before the trace began` : '',
      result.truncated ? 'cut at a million operations' : '',
    ].filter(Boolean);
    setText(this.el.source!, `${name} — ${notes.join(', ')}`);
    this.resetViews();
  }

  private installDrop(): void {
    document.addEventListener('dragover', (e) => {
      e.preventDefault();
      document.body.classList.add('dropping');
    });
    document.addEventListener('dragleave', () => document.body.classList.remove('dropping'));
    document.addEventListener('drop', (e) => {
      e.preventDefault();
      document.body.classList.remove('dropping');
      const f = e.dataTransfer?.files?.[0];
      if (f) void this.loadTrace(f);
    });
  }

  private installKeys(): void {
    document.addEventListener('keydown', (e) => {
      const t = e.target as HTMLElement;
      if (t && (t.tagName === 'INPUT' || t.tagName === 'SELECT' || t.tagName === 'TEXTAREA')) return;
      if (e.key === ' ') {
        e.preventDefault();
        this.play(!this.playing);
      } else if (e.key === 'ArrowRight') this.step();
      else if (e.key === 'ArrowLeft') this.seek(this.session.pos - 1);
    });
  }

  // ───────────────────────── scenarios ─────────────────────────

  startScenario(id: string): void {
    const sc = scenarioById(id);
    if (!sc) return;
    if (sc.needsKasan && !this.kasanAvailable) {
      setText(this.el.source!, `“${sc.title}” needs KASAN, which this kmem does not have yet.`);
      return;
    }
    this.play(false);
    this.scenario = sc;
    this.bounds = stepBounds(sc);
    this.source = { kind: 'scenario', id };
    const cfg: MachineConfig = { ...this.cfg, ...sc.config, shared: this.cfg.shared };
    this.session.reset(cfg, null, scenarioOps(sc));
    this.setSpeed(1);
    setText(this.el.source!, `scenario: ${sc.title} — ${sc.about}`);
    this.resetViews();
    this.el.narration!.hidden = false;
    setText(byId('n-title'), sc.title);
    this.scenarioShow();
  }

  /** The step whose end the machine is at (or is inside of), -1 before the first. */
  private scenarioStep(): number {
    const pos = this.session.pos;
    for (let i = this.bounds.length - 2; i >= 0; i--) if (pos >= this.bounds[i + 1]!) return i;
    return -1;
  }

  private scenarioGo(dir: number): void {
    if (!this.scenario) return;
    const i = this.scenarioStep();
    const target = dir > 0 ? Math.min(i + 1, this.scenario.steps.length - 1) : Math.max(i - 1, -1);
    this.seek(this.bounds[target + 1]!);
    this.scenarioShow();
    const f = target >= 0 ? this.scenario.steps[target]!.focus : undefined;
    if (f) this.applyFocus(f);
  }

  private scenarioShow(): void {
    const sc = this.scenario;
    if (!sc) return;
    const i = this.scenarioStep();
    const exact = i < 0 ? this.session.pos === 0 : this.session.pos === this.bounds[i + 1];
    setText(byId('n-step'), ` · step ${i + 1} of ${sc.steps.length}`);
    let text: string;
    if (i < 0) text = `${sc.about[0]!.toUpperCase()}${sc.about.slice(1)}. Press “next” to run the first step.`;
    else if (!exact) text = 'Between two steps: press “next” to finish this one.';
    else {
      try {
        text = sc.steps[i]!.text(new StepContext(this.session));
      } catch (e) {
        text = `(the step ran; its text failed: ${(e as Error).message})`;
      }
    }
    setText(byId('n-text'), text);
    (byId('n-back') as HTMLButtonElement).disabled = i < 0;
    (byId('n-next') as HTMLButtonElement).disabled = i >= sc.steps.length - 1 && exact;
    this.el.narration!.dataset.step = String(i);
  }

  private applyFocus(f: NonNullable<Scenario['steps'][number]['focus']>): void {
    if (f.tab) this.showTab(f.tab);
    const addr = f.handle !== undefined ? this.session.addrOf(f.handle) || new StepContext(this.session).lastAddr(f.handle) : 0;
    if (f.cache) this.caches.select(f.cache, addr);
    else if (addr) {
      const [c] = this.session.slabOf(addr);
      if (c >= 0) this.caches.select(this.session.k.inspect.cacheName(c), addr);
    }
    if (addr) {
      this.kasan.setFocus(addr + (f.offset ?? 0));
      this.map.setMark(Math.floor(addr / 4096), 3);
    }
    if (f.zoomHandle !== undefined) {
      const a = this.session.addrOf(f.zoomHandle) || new StepContext(this.session).lastAddr(f.zoomHandle);
      if (a) this.map.setMark(Math.floor(a / 4096), 3);
    }
  }

  exitScenario(resetSource = true): void {
    if (!this.scenario) return;
    this.scenario = null;
    this.el.narration!.hidden = true;
    if (resetSource) setText(this.el.source!, 'scenario left: the machine stays as it is; load a workload to go on');
  }

  // ───────────────────────── transport ─────────────────────────

  setSpeed(v: number): void {
    this.speed = v;
    const sel = this.el.speed as HTMLSelectElement | undefined;
    if (sel) sel.value = String(v);
  }

  play(on: boolean): void {
    if (on && !this.session.canStep()) on = false;
    this.playing = on;
    this.acc = 0;
    // Whatever was throttled while playing is brought up to date at once.
    this.rendered = -1;
    this.lastLog = 0;
    this.heavyVersion = -1;
    if (this.el.playBtn) setText(this.el.playBtn, on ? '‖ pause' : '▶ play');
    document.body.classList.toggle('playing', on);
  }

  step(): void {
    this.play(false);
    if (this.session.step()) this.afterOps(1);
    if (this.scenario) this.scenarioShow();
  }

  seek(n: number): void {
    this.play(false);
    this.session.seek(Math.max(0, n));
    this.afterOps(0);
    if (this.scenario) this.scenarioShow();
  }

  /** Openings from other panels: show a cache with one object outlined. */
  openCache(name: string, addr: number): void {
    this.showTab('caches');
    this.caches.select(name, addr);
    this.kasan.setFocus(addr);
  }

  private afterOps(n: number): void {
    this.perf.opsRun += n;
    this.timeline.sample(this.session.k, this.session.pos);
    const i = this.session.pos - 1;
    if (i >= 0 && i < this.session.rec.n) this.map.setMark(this.session.rec.pfn[i]!);
    else this.map.setMark(-1);
  }

  // ───────────────────────── the frame loop ─────────────────────────

  private frame(t: number): void {
    try {
      this.frameWork(t);
    } catch (e) {
      // Whatever broke, the page goes on: paused, with the error shown (once, if it repeats).
      this.play(false);
      const msg = `${(e as Error)?.message ?? String(e)} (the view paused)`;
      if (msg !== this.frameError) {
        this.frameError = msg;
        this.showError([msg]);
        console.warn(e);
      }
      this.perf.frames++;
    }
    requestAnimationFrame((tt) => this.frame(tt));
  }

  private frameWork(t: number): void {
    const t0 = performance.now();
    if (this.pendingSeek !== null) {
      this.session.seek(this.pendingSeek);
      this.pendingSeek = null;
      this.afterOps(0);
      if (this.scenario) this.scenarioShow();
    }
    const dt = this.lastT ? Math.min(100, t - this.lastT) : 16;
    this.lastT = t;
    if (this.playing) {
      let n: number;
      if (this.speed === Number.POSITIVE_INFINITY) n = 1e9;
      else {
        this.acc += (this.speed * dt) / 1000;
        n = Math.floor(this.acc);
        this.acc -= n;
      }
      if (n > 0) {
        const ran = this.session.run(n, t0 + 8);
        if (ran > 0) this.afterOps(ran);
        if (ran < n && !this.session.canStep()) this.play(false);
        if (this.scenario) this.scenarioShow();
      }
    }
    this.render(t0);
    const work = performance.now() - t0;
    const p = this.perf;
    p.frames++;
    p.work.push(work);
    p.stamps.push(t);
    if (p.work.length > 120) {
      p.work.shift();
      p.stamps.shift();
    }
  }

  private render(now: number): void {
    const s = this.session;
    this.map.update(s.k, s.version, s.generation);
    // While playing, text that changes every operation is refreshed ten times a second
    // (nobody reads faster), the log four times, the panel in front a few times.
    if (s.version !== this.rendered && (!this.playing || now - this.lastLight > 100)) {
      this.rendered = s.version;
      this.lastLight = now;
      (this.el.scrub as HTMLInputElement).max = String(s.ops.length);
      (this.el.scrub as HTMLInputElement).value = String(s.pos);
      setText(this.el.counter!, `operation ${s.pos} of ${s.ops.length}${s.source ? '+' : ''}`);
      this.renderNow();
      if (!this.playing || now - this.lastLog > 250) {
        this.lastLog = now;
        this.renderLog();
      }
    }
    const every = this.tab === 'charts' ? 700 : 300;
    const heavyDue = !this.playing || now - this.lastHeavy > every;
    if (heavyDue && this.heavyVersion !== s.version) {
      this.lastHeavy = now;
      this.heavyVersion = s.version;
      this.renderTab();
    }
    if (this.perf.frames % 30 === 0) {
      const st = this.perf.stamps;
      const fps = st.length > 1 ? ((st.length - 1) * 1000) / (st[st.length - 1]! - st[0]!) : 0;
      const avg = this.perf.work.reduce((a, b) => a + b, 0) / Math.max(1, this.perf.work.length);
      setText(this.el.fps!, `${fps.toFixed(0)} fps · ${avg.toFixed(1)} ms/frame`);
      setText(
        this.el.status!,
        `${s.cfg.memory} · ${s.k.cpus} CPUs · seed ${s.cfg.seed}${s.kasan ? ' · KASAN' : ''}${s.cfg.slubDebug ? ` · slub_debug=${s.cfg.slubDebug}` : ''}${s.cfg.shared ? ' · SharedArrayBuffer' : ''}`,
      );
    }
  }

  private renderTab(): void {
    const k = this.session.k;
    switch (this.tab) {
      case 'caches':
        this.caches.update(k, true);
        break;
      case 'buddy':
        this.buddy.update(k);
        break;
      case 'kasan':
        this.kasan.update(k, this.session.kasan);
        break;
      case 'charts':
        this.charts.pos = this.session.pos;
        this.charts.update(this.timeline, this.el.right!.clientWidth - 20);
        break;
      case 'dmesg':
        this.proc.update(k, this.session.version);
        break;
      case 'procs':
        this.procs.update();
        break;
      case 'pressure':
        this.pressure.update();
        break;
      case 'designs':
        this.designs.update(this.el.right!.clientWidth - 20);
        break;
    }
  }

  private renderNow(): void {
    const s = this.session;
    const i = s.pos - 1;
    if (i < 0) {
      this.el.now!.replaceChildren(
        h('span', { class: 'hint' }, `Machine booted (${s.cfg.memory}, ${s.k.cpus} CPUs). Press play or step to run the first operation.`),
      );
      return;
    }
    const chips = opChips(s, i);
    this.el.now!.replaceChildren(
      h('span', { class: 'op-index' }, `#${i + 1}`),
      h('code', { class: 'op-text' }, describeOp(s, i)),
      ...chips.map((c) => h('span', { class: `chip ${c.kind} ${c.id}`, title: c.tip, 'data-chip': c.id }, c.label)),
    );
    this.el.now!.dataset.chips = chips.map((c) => c.id).join(' ');
  }

  private renderLog(): void {
    const s = this.session;
    const from = Math.max(0, s.pos - 14);
    const to = Math.min(s.ops.length, s.pos + 4);
    const items: HTMLElement[] = [];
    for (let i = from; i < to; i++) {
      const chips = opChips(s, i);
      items.push(
        h(
          'li',
          {
            class: i === s.pos - 1 ? 'cur' : i >= s.pos ? 'ahead' : '',
            value: i + 1,
            title: 'go to the state after this operation',
            onclick: () => this.seek(i + 1),
          },
          h('code', {}, describeOp(s, i)),
          ...chips.map((c) => h('span', { class: `chip ${c.kind}`, title: c.tip }, c.label)),
        ),
      );
    }
    if (items.length === 0) items.push(h('li', { class: 'ahead' }, 'No operations yet: load a workload, a trace or a scenario, then play or step.'));
    this.el.log!.replaceChildren(...items);
  }
}

/** A machine's settings as the status line shows them. */
function describeCfg(c: MachineConfig): string {
  return `${c.memory}, ${c.cpus} CPU${c.cpus === 1 ? '' : 's'}, seed ${c.seed}${c.kasan ? ', KASAN' : ''}${c.slubDebug ? `, slub_debug=${c.slubDebug}` : ''}`;
}

/** Give a select an option for a value it does not list (a machine booted from the URL). */
function addOption(sel: HTMLSelectElement, value: string, label: string): void {
  if (!Array.from(sel.options).some((o) => o.value === value)) sel.append(h('option', { value }, label));
}

/** Why a trace could not be read, in words (the browser's own message after them). */
function traceError(file: File, e: unknown): string {
  const msg = (e as Error)?.message ?? String(e);
  if (/\.gz$/i.test(file.name) || /compress|gzip|inflate|zlib/i.test(msg)) return `the gzip data is damaged or cut short (${msg})`;
  return msg;
}
