/**
 * The Designs panel: the other slab allocator designs' per-CPU and per-node
 * layers, each on a machine of its own driven by a guided scenario
 * (web/model/designs.ts):
 *
 *   SLAB     each CPU's head array (a cell per slot up to `limit`, filled
 *            for the objects it holds, the top last), the node's shared
 *            array, and slabs_partial / slabs_full / slabs_free with each
 *            slab's active objects out of objperslab
 *   SLOB     free_slob_small / _medium / _large, each page a bar of its 2048
 *            units with its free blocks drawn where they lie
 *   sheaves  each CPU's main and spare sheaf (a cell per slot up to the
 *            capacity), the barn's full and empty lists
 *
 * and, below, the memory each design takes for one workload (uPlot).
 */
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import type { SheafSnapshot } from '../../src/inspect.js';
import { type CompareSeries, type CompareTable, compareDesigns, compareFromJson, DESIGN_SCENARIOS, DesignLab, type DesignScenario } from '../model/designs.js';
import { h, scenarioControls, setText } from './dom.js';

const SERIES_COLOURS = ['#4dabf7', '#fab005', '#12b886'];
/** SLOB_UNITs in a page (4096 / 2). */
const PAGE_UNITS = 2048;

/** A row of `slots` cells, the first `filled` of them full: an array cache or a sheaf. */
function cells(slots: number, filled: number, cls: string, max = 128): HTMLElement {
  const shown = Math.min(slots, max);
  const row = h('span', { class: `ds-cells ${cls}`, 'data-filled': filled, 'data-slots': slots });
  for (let i = 0; i < shown; i++) row.append(h('i', { class: i < filled ? 'on' : '' }));
  if (slots > shown) row.append(h('span', { class: 'hint' }, ` +${slots - shown}`));
  return row;
}

export class DesignsPanel {
  readonly root: HTMLElement;
  private labNow: DesignLab | null = null;
  private scenario: DesignScenario | null = null;
  private step = 0;
  private readonly pick: HTMLSelectElement;
  private readonly next: HTMLButtonElement;
  private readonly stepNo: HTMLElement;
  private readonly text: HTMLElement;
  private readonly draw: HTMLElement;
  private readonly chartEl: HTMLElement;
  private chart: uPlot | null = null;
  private readonly fileChartEl: HTMLElement;
  private readonly fileNote: HTMLElement;
  private fileChart: uPlot | null = null;
  private readonly fileTable: HTMLTableElement = h('table', { id: 'ds-compare-table', class: 'ds-table' });
  private series: CompareSeries[] | null = null;
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
      'ds',
      DESIGN_SCENARIOS,
      'Pick a design and start its scenario: each step makes real allocations and frees on a 2-CPU machine booted with that design, and the drawing shows where the free objects are.',
      () => this.nextStep(),
    ));
    this.draw = h('div', { id: 'ds-draw', class: 'ds-draw' });
    this.chartEl = h('div', { class: 'chart', id: 'ds-chart' });
    this.fileChartEl = h('div', { class: 'chart', id: 'ds-compare-chart' });
    this.fileNote = h('span', { id: 'ds-compare-note', class: 'hint' });
    const input = h('input', { id: 'ds-compare-file', type: 'file', accept: '.json,application/json' });
    input.addEventListener('change', () => {
      const f = input.files?.[0];
      if (f !== undefined) void f.text().then((t) => this.loadCompare(t, f.name));
    });
    this.root = h(
      'section',
      { id: 'tab-designs', class: 'tab' },
      h(
        'div',
        { class: 'toolbar' },
        h('label', {}, 'design ', this.pick),
        h('button', { id: 'ds-start', type: 'button', onclick: () => this.start(this.pick.value) }, 'start'),
        this.next,
        this.stepNo,
      ),
      this.text,
      this.draw,
      h('h3', {}, 'Slab memory per design (kB), one workload'),
      h(
        'p',
        { class: 'hint' },
        "Slab: of /proc/meminfo while the same seeded kmalloc/kfree workload runs on a machine of each design, as `kmem replay TRACE --compare 'allocator=slab' 'allocator=slob' default` compares them on a real trace.",
      ),
      this.chartEl,
      h('h3', {}, 'A comparison of your own'),
      h(
        'p',
        { class: 'hint' },
        "The JSON of `kmem replay TRACE --compare 'allocator=slab' 'allocator=slob' default --json`: Slab: kB, the free bytes in partial slabs (SLOB: partially used pages) and the internal waste of each configuration. ",
        h('label', {}, 'file ', input),
        ' ',
        this.fileNote,
      ),
      this.fileChartEl,
      this.fileTable,
    );
  }

  /** Draw the output of kmem replay --compare --json (text), or say what is wrong with it. */
  loadCompare(text: string, name = 'comparison'): void {
    let t: CompareTable;
    try {
      t = compareFromJson(text);
    } catch (e) {
      setText(this.fileNote, `${name}: ${(e as Error).message}`);
      return;
    }
    setText(this.fileNote, `${name}: ${t.labels.length} configurations`);
    // two bars a configuration, side by side: Slab: to the left of its tick, the free bytes of partial slabs to the right
    const left = uPlot.paths.bars!({ size: [0.35, 60], align: -1 });
    const right = uPlot.paths.bars!({ size: [0.35, 60], align: 1 });
    const x = t.labels.map((_, i) => i);
    this.fileChart?.destroy();
    this.fileChart = new uPlot(
      {
        width: Math.max(320, this.root.clientWidth - 24 || 600),
        height: 220,
        series: [
          { label: 'configuration', value: (_u, v) => (v === null ? '--' : (t.labels[v] ?? '')) },
          { label: 'Slab kB', stroke: SERIES_COLOURS[0], fill: `${SERIES_COLOURS[0]}88`, paths: left, points: { show: false } },
          { label: 'partial free kB', stroke: SERIES_COLOURS[1], fill: `${SERIES_COLOURS[1]}88`, paths: right, points: { show: false } },
        ],
        axes: [
          { stroke: '#aab', grid: { show: false }, splits: () => x, values: (_u, vals) => vals.map((v) => t.labels[v] ?? '') },
          { stroke: '#aab', grid: { stroke: '#2a2f3a' }, size: 60 },
        ],
        scales: { x: { time: false, range: [-0.5, t.labels.length - 0.5] }, y: { range: (_u, _min, max) => [0, max * 1.1 || 1] } },
        legend: { show: true, live: true },
      },
      [x, t.slabKb, t.partialKb],
      this.fileChartEl,
    );
    const cell = (v: number) => h('td', {}, Number.isInteger(v) ? String(v) : v.toFixed(1));
    this.fileTable.replaceChildren(
      h('tr', {}, ...['configuration', 'Slab kB', 'partial free kB', 'internal waste kB', 'slow allocs'].map((c) => h('th', {}, c))),
      ...t.labels.map((l, i) =>
        h('tr', { 'data-label': l }, h('td', {}, l), cell(t.slabKb[i]!), cell(t.partialKb[i]!), cell(t.internalKb[i]!), cell(t.slowAlloc[i]!)),
      ),
    );
    this.fileChartEl.dataset.configurations = String(t.labels.length);
  }

  get lab(): DesignLab | null {
    return this.labNow;
  }

  /** Boot a machine of the scenario's design and run its first step. */
  start(id: string): void {
    const sc = DESIGN_SCENARIOS.find((s) => s.id === id);
    if (sc === undefined) return;
    this.pick.value = id;
    this.labNow = new DesignLab(sc.id, this.seed);
    this.scenario = sc;
    this.step = 0;
    this.draw.replaceChildren();
    this.nextStep();
  }

  nextStep(): void {
    const sc = this.scenario;
    const lab = this.labNow;
    if (sc === null || lab === null || this.step >= sc.steps.length) return;
    const st = sc.steps[this.step]!;
    st.run(lab);
    this.step++;
    let text: string;
    try {
      text = st.text(lab);
    } catch (e) {
      text = `(the step ran; its text failed: ${(e as Error).message})`;
    }
    setText(this.text, text);
    setText(this.stepNo, `${sc.title}: step ${this.step} of ${sc.steps.length}`);
    this.next.disabled = this.step >= sc.steps.length;
    this.root.dataset.step = String(this.step);
    this.root.dataset.design = sc.id;
    this.version++;
    this.changed();
  }

  update(width = 600): void {
    if (this.series === null) {
      this.series = compareDesigns(this.seed);
      this.drawChart(width);
    }
    if (this.drawn === this.version) return;
    this.drawn = this.version;
    const lab = this.labNow;
    if (lab === null) return;
    if (lab.design === 'slab') this.drawSlab(lab);
    else if (lab.design === 'slob') this.drawSlob(lab);
    else this.drawSheaves(lab);
  }

  private drawSlab(lab: DesignLab): void {
    const s = lab.slab();
    if (s === null) return;
    const slabBox = (x: { pfn: number; active: number }) =>
      h('span', { class: 'ds-slab', title: `pfn ${x.pfn}: ${x.active} of ${s.objperslab} objects in use` }, `${x.active}/${s.objperslab}`);
    const list = (name: string, xs: { pfn: number; active: number }[]) =>
      h('div', { class: 'ds-list', 'data-list': name, 'data-n': xs.length }, h('b', {}, `${name} (${xs.length})`), ...xs.slice(0, 40).map(slabBox));
    this.draw.replaceChildren(
      h('h3', {}, `${s.name}: head arrays (limit ${s.limit}, batchcount ${s.batchcount})`),
      ...s.cpus.map((c) =>
        h(
          'div',
          { class: 'ds-cpu', 'data-cpu': c.cpu },
          h('b', {}, `CPU ${c.cpu} avail ${c.objects.length}/${s.limit}${c.touched ? ' (touched)' : ''}`),
          cells(s.limit, c.objects.length, 'ac'),
        ),
      ),
      h(
        'div',
        { class: 'ds-cpu', 'data-shared': s.shared.objects.length },
        h('b', {}, `shared array ${s.shared.objects.length}/${s.shared.limit}`),
        cells(s.shared.limit, s.shared.objects.length, 'shared'),
      ),
      h('h3', {}, `the node's slabs (free objects ${s.freeObjects}, free_limit ${s.freeLimit})`),
      list('slabs_partial', s.partial),
      list('slabs_full', s.full),
      list('slabs_free', s.free),
    );
    this.draw.dataset.design = 'slab';
  }

  private drawSlob(lab: DesignLab): void {
    const s = lab.slob();
    if (s === null) return;
    const page = (p: { pfn: number; units: number; freeBlocks: [number, number][] }) => {
      const bar = h('span', { class: 'ds-page', title: `pfn ${p.pfn}: ${p.units} free units in ${p.freeBlocks.length} blocks`, 'data-units': p.units });
      for (const [addr, units] of p.freeBlocks) {
        const off = (addr % 4096) / 2;
        bar.append(
          h('i', {
            class: 'ds-block',
            style: `left:${(off / PAGE_UNITS) * 100}%;width:${Math.max(0.4, (units / PAGE_UNITS) * 100)}%`,
            title: `${units} units at ${off}`,
          }),
        );
      }
      return h('div', { class: 'ds-pagerow' }, h('span', { class: 'hint' }, `pfn ${p.pfn} · ${p.units} units free`), bar);
    };
    this.draw.replaceChildren(
      h('h3', {}, `SLOB's heap: ${s.heapPages} pages, ${s.freeBytes} free bytes in partially used pages`),
      ...s.lists.map((l) =>
        h(
          'div',
          { class: 'ds-list', 'data-list': l.name, 'data-n': l.pages.length },
          h('b', {}, `${l.name} (${l.pages.length} pages)`),
          ...l.pages.slice(0, 12).map(page),
        ),
      ),
      h('p', { class: 'hint' }, 'Each bar is a page of 2048 two-byte units; the light blocks are free, in address order.'),
    );
    this.draw.dataset.design = 'slob';
  }

  private drawSheaves(lab: DesignLab): void {
    const s = lab.sheaves();
    if (s === null) return;
    const sheaf = (label: string, x: SheafSnapshot | null) =>
      h(
        'span',
        { class: 'ds-sheaf', 'data-size': x === null ? -1 : x.objects.length },
        `${label} `,
        x === null ? h('i', { class: 'hint' }, 'none') : cells(s.capacity, x.objects.length, 'sh'),
      );
    this.draw.replaceChildren(
      h('h3', {}, `${s.name}: sheaves of ${s.capacity}`),
      ...s.cpus.map((c) =>
        h(
          'div',
          { class: 'ds-cpu', 'data-cpu': c.cpu },
          h('b', {}, `CPU ${c.cpu}`),
          sheaf('main', c.main),
          sheaf('spare', c.spare),
          sheaf('rcu_free', c.rcuFree),
        ),
      ),
      h('h3', {}, 'the barn'),
      h(
        'div',
        { class: 'ds-list', 'data-list': 'sheaves_full', 'data-n': s.barnFull.length },
        h('b', {}, `full (${s.barnFull.length})`),
        ...s.barnFull.map((x) => sheaf('', x)),
      ),
      h(
        'div',
        { class: 'ds-list', 'data-list': 'sheaves_empty', 'data-n': s.barnEmpty.length },
        h('b', {}, `empty (${s.barnEmpty.length})`),
        ...s.barnEmpty.map((x) => sheaf('', x)),
      ),
    );
    this.draw.dataset.design = 'sheaves';
  }

  private drawChart(width: number): void {
    const ser = this.series;
    if (ser === null || ser.length === 0) return;
    const data: uPlot.AlignedData = [ser[0]!.ops, ...ser.map((x) => x.kB)];
    this.chart?.destroy();
    this.chart = new uPlot(
      {
        width: Math.max(320, width),
        height: 220,
        series: [{ label: 'operation' }, ...ser.map((x, i) => ({ label: x.label, stroke: SERIES_COLOURS[i % SERIES_COLOURS.length], width: 2 }))],
        axes: [
          { stroke: '#aab', grid: { stroke: '#2a2f3a' }, label: 'operations' },
          { stroke: '#aab', grid: { stroke: '#2a2f3a' }, size: 60 },
        ],
        scales: { x: { time: false } },
        legend: { show: true, live: true },
      },
      data,
      this.chartEl,
    );
    this.chartEl.dataset.series = String(ser.length);
  }
}
