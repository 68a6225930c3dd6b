/**
 * The Memory pressure panel: the node's LRU lists drawn as queues (head on
 * the left, where new and activated pages arrive; tail on the right, where
 * reclaim takes them), each page a cell that moves between the queues from
 * one step to the next; the chart zone's free pages over the step against
 * min/low/high with kswapd's wake-ups marked; the page cache per file; the
 * swap slots; and the OOM killer's report from dmesg.
 */
import { LP_ACTIVE, LP_DIRTY, LP_REFERENCED, LP_SWAPCACHE, LP_WRITEBACK, type LruPage, lruListNames } from '../../src/inspect.js';
import { PRESSURE_SCENARIOS, PressureLab, type PressureScenario } from '../model/pressure.js';
import { h, scenarioControls, setText, sizeCanvas } from './dom.js';

const OWNER_COLOURS: Record<LruPage['owner'], string> = { file: '#b197fc', anon: '#51cf66', shmem: '#3bc9db', other: '#868e96' };
const LANE_LABELS = ['inactive anon', 'active anon', 'inactive file', 'active file', 'unevictable'];
/** Pixels of a lane's label column, a cell's pitch, and a lane's height. */
const LABEL_W = 150;
const PITCH = 12;
const LANE_H = 30;

export class PressurePanel {
  readonly root: HTMLElement;
  private labNow: PressureLab | null = null;
  private scenario: PressureScenario | null = null;
  private step = 0;
  private readonly pick: HTMLSelectElement;
  private readonly next: HTMLButtonElement;
  private readonly stepNo: HTMLElement;
  private readonly text: HTMLElement;
  private readonly counters: HTMLElement;
  private readonly lanes: HTMLElement;
  private readonly zonesEl: HTMLElement;
  private readonly chart: HTMLCanvasElement;
  private readonly cacheEl: HTMLElement;
  private readonly swapEl: HTMLElement;
  private readonly oomEl: HTMLElement;
  /** The drawn page cells by pfn (kept across steps so they move). */
  private readonly cells = new Map<number, HTMLElement>();
  version = 0;
  private drawn = -1;

  constructor(
    private readonly changed: () => void,
    private readonly seed = 1,
  ) {
    ({
      pick: this.pick,
      next: this.next,
      stepNo: this.stepNo,
      text: this.text,
    } = scenarioControls(
      'pr',
      PRESSURE_SCENARIOS,
      'Pick a scenario and start it: each step reads files or fills memory with real Task calls on a 64 MiB machine of its own, and the queues below move as the kernel moves the pages.',
      () => this.nextStep(),
    ));
    this.counters = h('div', { id: 'pr-counters', class: 'pr-counters' });
    this.lanes = h('div', { id: 'pr-lru', class: 'pr-lru' });
    this.zonesEl = h('div', { id: 'pr-zones', class: 'pr-zones' });
    this.chart = h('canvas', { id: 'pr-chart', class: 'pr-chart' });
    this.cacheEl = h('div', { id: 'pr-cache', class: 'pr-cache' });
    this.swapEl = h('div', { id: 'pr-swap', class: 'pr-swap' });
    this.oomEl = h('pre', { id: 'pr-oom', class: 'pr-oom', hidden: true });
    const legend = h(
      'div',
      { class: 'ps-legend' },
      ...(['file', 'anon', 'shmem'] as const).map((o) => h('span', {}, h('i', { style: `background:${OWNER_COLOURS[o]}` }), o)),
      h('span', {}, h('i', { class: 'pr-page ref', style: 'position:relative;background:#666' }), 'PG_referenced'),
      h('span', {}, h('i', { class: 'pr-page dirty', style: 'position:relative;background:#666' }), 'dirty'),
      h('span', {}, h('i', { class: 'pr-page wb', style: 'position:relative;background:#666' }), 'writeback'),
      h('span', {}, h('i', { class: 'pr-page focus', style: 'position:relative;background:#666' }), 'the scenario’s file'),
      h('span', { class: 'hint' }, 'head (new, activated) ← … → tail (reclaimed next)'),
    );
    this.root = h(
      'section',
      { id: 'tab-pressure', class: 'tab' },
      h(
        'div',
        { class: 'toolbar' },
        h('label', {}, 'scenario ', this.pick),
        h('button', { id: 'pr-start', type: 'button', onclick: () => this.start(this.pick.value) }, 'start'),
        this.next,
        this.stepNo,
      ),
      this.text,
      this.counters,
      h('h3', {}, 'LRU lists'),
      legend,
      this.lanes,
      h('h3', {}, 'Free pages against the watermarks'),
      this.zonesEl,
      this.chart,
      h('h3', {}, 'Page cache'),
      this.cacheEl,
      h('h3', {}, 'Swap'),
      this.swapEl,
      this.oomEl,
    );
  }

  /** The machine the panel shows (booted when first needed: the page opens without it). */
  get lab(): PressureLab {
    if (this.labNow === null) {
      this.labNow = new PressureLab(this.seed);
      // Scenarios this kmem cannot run are offered greyed out.
      const noWb = !this.labNow.hasWriteback;
      for (const o of Array.from(this.pick.options)) {
        const sc = PRESSURE_SCENARIOS.find((x) => x.id === o.value);
        if (sc?.needsWriteback === true && noWb) {
          o.disabled = true;
          o.textContent = `${sc.title} (needs writeback)`;
        }
      }
    }
    return this.labNow;
  }

  /** Boot a fresh machine for the scenario and run its first step. */
  start(id: string): void {
    const sc = PRESSURE_SCENARIOS.find((s) => s.id === id);
    if (sc === undefined || (sc.needsWriteback === true && !this.lab.hasWriteback)) return;
    this.pick.value = id;
    this.labNow = new PressureLab(this.seed, sc.config);
    for (const c of this.cells.values()) c.remove();
    this.cells.clear();
    this.scenario = sc;
    this.step = 0;
    this.nextStep();
  }

  nextStep(): void {
    const sc = this.scenario;
    if (sc === null || this.step >= sc.steps.length) return;
    const st = sc.steps[this.step]!;
    this.lab.step = this.step + 1;
    this.lab.failure = '';
    st.run(this.lab);
    this.step++;
    let text: string;
    try {
      text = st.text(this.lab);
    } catch (e) {
      text = `(the step ran; its text failed: ${(e as Error).message})`;
    }
    setText(this.text, text);
    setText(this.stepNo, `${sc.title}: step ${this.step} of ${sc.steps.length}`);
    this.next.disabled = this.step >= sc.steps.length;
    this.root.dataset.step = String(this.step);
    this.touch();
  }

  private touch(): void {
    this.version++;
    this.changed();
  }

  update(): void {
    if (this.drawn === this.version) return;
    this.drawn = this.version;
    this.drawCounters();
    this.drawLanes();
    this.drawZones();
    this.drawChart();
    this.drawCache();
    this.drawSwap();
    this.drawOom();
  }

  private drawCounters(): void {
    const r = this.lab.k.inspect.reclaim();
    if (r === null) {
      this.counters.replaceChildren();
      return;
    }
    const items: [string, string, number | string][] = [
      ['kswapdRuns', 'kswapd runs', r.kswapdRuns],
      ['pgscanKswapd', 'pgscan_kswapd', r.pgscanKswapd],
      ['pgstealKswapd', 'pgsteal_kswapd', r.pgstealKswapd],
      ['pgscanDirect', 'pgscan_direct', r.pgscanDirect],
      ['pgstealDirect', 'pgsteal_direct', r.pgstealDirect],
      ['allocstall', 'allocstall', r.allocstall],
      ['pgactivate', 'pgactivate', r.pgactivate],
      ['pgdeactivate', 'pgdeactivate', r.pgdeactivate],
      ['refaultFile', 'workingset_refault_file', r.workingsetRefaultFile],
      ['unreclaimable', 'node_unreclaimable', r.nodeUnreclaimable ? 1 : 0],
      ['dirtyKb', 'Dirty kB', this.lab.meminfo('Dirty')],
      ['writebackKb', 'Writeback kB', this.lab.meminfo('Writeback')],
    ];
    this.counters.replaceChildren(...items.map(([k, label, v]) => h('span', { 'data-k': k, 'data-v': v }, `${label} `, h('b', { class: 'pr-v' }, String(v)))));
  }

  /** The queues: cells keyed by pfn, placed absolutely so a page that changes list or place slides there. */
  private drawLanes(): void {
    const width = Math.max(480, this.lanes.clientWidth || this.root.clientWidth - 24 || 800);
    const cap = Math.max(8, Math.floor((width - LABEL_W - 76) / PITCH));
    const headN = Math.ceil(cap * 0.6);
    const tailN = cap - headN;
    const lists = this.lab.k.inspect.lruLists(headN);
    const seen = new Set<number>();
    const focus = this.lab.focusIno;
    if (this.lanes.childElementCount === 0) {
      for (let i = 0; i < lruListNames.length; i++) {
        this.lanes.append(
          h(
            'div',
            { class: 'pr-lane', id: `pr-lane-${lruListNames[i]}`, style: `top:${i * LANE_H}px;height:${LANE_H - 4}px` },
            h('span', { class: 'pr-lane-label' }, LANE_LABELS[i]!, ' ', h('b', { class: 'pr-count' })),
            h('span', { class: 'pr-more' }),
          ),
        );
      }
    }
    this.lanes.style.height = `${lruListNames.length * LANE_H}px`;
    lists.forEach((l, i) => {
      const lane = this.lanes.querySelector<HTMLElement>(`#pr-lane-${l.name}`)!;
      lane.dataset.count = String(l.count);
      setText(lane.querySelector('.pr-count')!, String(l.count));
      const tail = l.tail.slice(Math.max(0, l.tail.length - tailN));
      const hidden = l.count - l.head.length - tail.length;
      const more = lane.querySelector<HTMLElement>('.pr-more')!;
      more.style.left = `${LABEL_W + l.head.length * PITCH + 2}px`;
      setText(more, hidden > 0 ? `… ${hidden} …` : '');
      const gap = hidden > 0 ? 56 : 0;
      const place = (p: LruPage, x: number) => {
        seen.add(p.pfn);
        let c = this.cells.get(p.pfn);
        if (c === undefined) {
          c = h('i', { class: 'pr-page fresh' });
          c.style.left = `${x}px`;
          c.style.top = `${i * LANE_H + 8}px`;
          this.lanes.append(c);
          this.cells.set(p.pfn, c);
          const el = c;
          requestAnimationFrame(() => el.classList.remove('fresh'));
        }
        c.style.left = `${x}px`;
        c.style.top = `${i * LANE_H + 8}px`;
        c.style.background = OWNER_COLOURS[p.owner];
        c.className = `pr-page${c.classList.contains('fresh') ? ' fresh' : ''}${p.bits & LP_REFERENCED ? ' ref' : ''}${p.bits & LP_DIRTY ? ' dirty' : ''}${p.bits & LP_WRITEBACK ? ' wb' : ''}${p.bits & LP_SWAPCACHE ? ' swapcache' : ''}${focus !== 0 && p.ino === focus ? ' focus' : ''}`;
        c.dataset.pfn = String(p.pfn);
        c.dataset.lru = l.name;
        c.dataset.owner = p.owner;
        c.dataset.ino = String(p.ino);
        c.dataset.index = String(p.index);
        c.dataset.bits = String(p.bits);
        c.title = `pfn ${p.pfn}: ${p.owner}${p.owner === 'anon' ? '' : ` ino ${p.ino}`} index ${p.index}${p.bits & LP_ACTIVE ? ' active' : ''}${p.bits & LP_REFERENCED ? ' referenced' : ''}${p.bits & LP_DIRTY ? ' dirty' : ''}${p.bits & LP_WRITEBACK ? ' writeback' : ''}${p.bits & LP_SWAPCACHE ? ' swapcache' : ''}`;
      };
      l.head.forEach((p, j) => {
        place(p, LABEL_W + j * PITCH);
      });
      tail.forEach((p, j) => {
        place(p, LABEL_W + (l.head.length + j) * PITCH + gap);
      });
    });
    for (const [pfn, c] of this.cells) {
      if (!seen.has(pfn)) {
        c.remove();
        this.cells.delete(pfn);
      }
    }
  }

  private drawZones(): void {
    const zones = this.lab.k.inspect.zones();
    const r = this.lab.k.inspect.reclaim();
    const rows = zones
      .filter((z) => z.managed > 0)
      .map((z) => {
        // A log scale up to the zone's managed pages: the watermarks (a few percent of it) stay readable.
        const scale = Math.log1p(Math.max(z.managed, z.free, 1));
        const pct = (v: number) => `${Math.min(100, (100 * Math.log1p(v)) / scale).toFixed(2)}%`;
        const state =
          z.free <= z.watermarks.min
            ? 'below min'
            : z.free <= z.watermarks.low
              ? 'below low: kswapd wakes'
              : z.free <= z.watermarks.high
                ? 'between low and high'
                : 'above high';
        return h(
          'div',
          { class: 'pr-zone', 'data-zone': z.name, 'data-free': z.free },
          h('span', { class: 'pr-zone-name' }, z.name),
          h(
            'div',
            { class: 'pr-bar' },
            h('div', { class: 'pr-fill', style: `width:${pct(z.free)}` }),
            ...(['min', 'low', 'high'] as const).map((w) =>
              h('div', { class: `pr-wmark ${w}`, style: `left:${pct(z.watermarks[w])}`, title: `${w} ${z.watermarks[w]}` }),
            ),
          ),
          h(
            'span',
            { class: 'hint' },
            `free ${z.free} of ${z.managed} managed (log scale) · min ${z.watermarks.min} low ${z.watermarks.low} high ${z.watermarks.high} · ${state}`,
          ),
        );
      });
    // kswapd's runs during the step shown: the samples of this step against the last one before it.
    const s = this.lab.samples;
    const i0 = s.findIndex((x) => x.step === this.lab.step);
    const woke = i0 < 0 ? 0 : s[s.length - 1]!.kswapdRuns - (s[i0 - 1]?.kswapdRuns ?? 0);
    const k =
      r === null
        ? ''
        : `kswapd: ${r.kswapdRuns} run${r.kswapdRuns === 1 ? '' : 's'} (${woke} in this step: woken whenever no zone was above its low watermark, it reclaims until one is above high), ${r.kswapdFailures} failed in a row${r.nodeUnreclaimable ? ' — node unreclaimable' : ''}`;
    this.zonesEl.replaceChildren(...rows, h('div', { id: 'pr-kswapd', class: `hint${woke > 0 ? ' pr-woke' : ''}`, 'data-woke': woke }, k));
  }

  /** Free pages of the followed zone over the samples, min/low/high dashed, a tick where kswapd ran, a line between steps. */
  private drawChart(): void {
    const w = Math.max(300, this.root.clientWidth - 24);
    const hgt = 130;
    const ctx = sizeCanvas(this.chart, w, hgt);
    ctx.clearRect(0, 0, w, hgt);
    const s = this.lab.samples;
    const z = this.lab.k.inspect.zones().find((x) => x.zone === this.lab.zone)!;
    // The band around the watermarks is what matters: free pages above 4 x high are drawn at the top.
    const top = Math.max(z.watermarks.high * 4, 1);
    const y = (v: number) => hgt - 14 - ((hgt - 24) * Math.min(v, top)) / top;
    const x = (i: number) => 40 + ((w - 50) * i) / Math.max(1, s.length - 1);
    ctx.font = '10px sans-serif';
    ctx.fillStyle = '#8a94a6';
    ctx.fillText(`${z.name} free`, 2, 10);
    for (const [name, v, col] of [
      ['min', z.watermarks.min, '#fa5252'],
      ['low', z.watermarks.low, '#fab005'],
      ['high', z.watermarks.high, '#40c057'],
    ] as const) {
      ctx.strokeStyle = col;
      ctx.setLineDash([4, 3]);
      ctx.beginPath();
      ctx.moveTo(40, y(v));
      ctx.lineTo(w - 10, y(v));
      ctx.stroke();
      ctx.fillStyle = col;
      // the three lines are a few pixels apart: high's label above its line, min's below, low's beside
      ctx.fillText(name, name === 'low' ? 20 : 4, y(v) + (name === 'high' ? -2 : name === 'min' ? 9 : 3));
    }
    ctx.setLineDash([]);
    for (let i = 1; i < s.length; i++) {
      if (s[i]!.step !== s[i - 1]!.step) {
        ctx.strokeStyle = '#3a4150';
        ctx.beginPath();
        ctx.moveTo(x(i), 12);
        ctx.lineTo(x(i), hgt - 12);
        ctx.stroke();
      }
      if (s[i]!.kswapdRuns > s[i - 1]!.kswapdRuns) {
        ctx.fillStyle = '#ff922b';
        ctx.fillRect(x(i) - 1, hgt - 12, 2, 8);
      }
    }
    ctx.strokeStyle = '#74c0fc';
    ctx.beginPath();
    s.forEach((p, i) => {
      if (i === 0) ctx.moveTo(x(i), y(p.free));
      else ctx.lineTo(x(i), y(p.free));
    });
    ctx.stroke();
    const wakes = s.reduce((n, p, i) => n + (i > 0 && p.kswapdRuns > s[i - 1]!.kswapdRuns ? 1 : 0), 0);
    this.chart.dataset.samples = String(s.length);
    this.chart.dataset.wakes = String(wakes);
    ctx.fillStyle = '#ff922b';
    if (wakes > 0) ctx.fillText('▮ kswapd woke', w - 90, 10);
  }

  private drawCache(): void {
    const files = this.lab.k.inspect.pageCache().filter((f) => f.path !== '' && !f.path.startsWith('/bin/'));
    if (files.length === 0) {
      this.cacheEl.replaceChildren(h('p', { class: 'hint' }, 'No file page is in the cache now.'));
      return;
    }
    const maxCells = 256;
    this.cacheEl.replaceChildren(
      ...files.map((f) => {
        const step = Math.max(1, Math.ceil(f.indices.length / maxCells));
        const cells: HTMLElement[] = [];
        for (let i = 0; i < f.indices.length; i += step) {
          const b = f.bits[i]!;
          cells.push(
            h('i', {
              class: `pr-cpage${b & LP_ACTIVE ? ' active' : ''}${b & LP_REFERENCED ? ' ref' : ''}${b & LP_DIRTY ? ' dirty' : ''}${b & LP_WRITEBACK ? ' wb' : ''}`,
              title: `index ${f.indices[i]}`,
            }),
          );
        }
        return h(
          'div',
          { class: 'pr-file', 'data-path': f.path, 'data-nrpages': f.nrpages, 'data-active': f.active, 'data-dirty': f.dirty },
          h(
            'div',
            {},
            h('b', {}, f.path),
            h(
              'span',
              { class: 'hint' },
              ` ino ${f.ino} · ${f.nrpages} pages · ${f.active} active · ${f.dirty} dirty · ${f.writeback} writeback · ${f.shadows} shadow entries${step > 1 ? ` · one cell per ${step} pages` : ''}`,
            ),
          ),
          h('div', { class: 'pr-cpages' }, ...cells),
        );
      }),
    );
  }

  private drawSwap(): void {
    const [total, used] = this.lab.swapUsage();
    if (total === 0) {
      this.swapEl.replaceChildren(h('p', { class: 'hint' }, 'This machine has no swap: anonymous pages cannot be reclaimed.'));
      this.swapEl.dataset.used = '0';
      return;
    }
    this.swapEl.dataset.used = String(used);
    this.swapEl.dataset.total = String(total);
    const sw = this.lab.k.inspect.swap();
    const map = sw === null ? null : slotMap(sw.map, 64);
    this.swapEl.replaceChildren(
      h('div', { class: 'pr-bar' }, h('div', { class: 'pr-fill swap', style: `width:${((100 * used) / total).toFixed(2)}%` })),
      map === null
        ? ''
        : h('div', { class: 'pr-cpages' }, ...Array.from(map, (f: number) => h('i', { class: 'pr-slot', style: `opacity:${(0.15 + 0.85 * f).toFixed(2)}` }))),
      h('span', { class: 'hint' }, `${used} of ${total} slots in use (/proc/swaps)`),
    );
  }

  private drawOom(): void {
    const lines = this.lab.oomReport();
    this.oomEl.hidden = lines.length === 0;
    setText(this.oomEl, lines.join('\n'));
  }
}

/** SWAP_MAP_BAD: the header slot (and bad blocks) */
const SWAP_MAP_BAD = 0x3f;

/** A coarse map of swap_map: `cells` buckets of the slots in order, each the fraction of its good slots in use. */
export function slotMap(swapMap: Uint8Array, cells: number): Float32Array {
  const out = new Float32Array(cells);
  const per = swapMap.length / cells;
  for (let c = 0; c < cells; c++) {
    const from = Math.floor(c * per);
    const to = Math.max(from + 1, Math.floor((c + 1) * per));
    let used = 0;
    let n = 0;
    for (let i = from; i < to && i < swapMap.length; i++) {
      const m = swapMap[i]!;
      if (m === SWAP_MAP_BAD) continue;
      n++;
      if (m !== 0) used++;
    }
    out[c] = n === 0 ? 0 : used / n;
  }
  return out;
}
