/**
 * The charts over time (uPlot): slab memory per cache, free pages per order,
 * and the allocation rate, against the operation count, with a line at the
 * operation the machine is at now.
 */
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import type { Timeline } from '../model/timeline.js';
import { h } from './dom.js';

const PALETTE = ['#4dabf7', '#e64980', '#fab005', '#7950f2', '#12b886', '#fd7e14', '#228be6', '#be4bdb', '#868e96'];
const TOP = 8;

export class ChartsPanel {
  readonly root: HTMLElement;
  private slabEl: HTMLElement;
  private freeEl: HTMLElement;
  private rateEl: HTMLElement;
  private slab: uPlot | null = null;
  private free: uPlot | null = null;
  private rate: uPlot | null = null;
  private topKey = '';
  /** The operation count the machine is at (the vertical line). */
  pos = 0;
  private width = 600;

  constructor() {
    this.slabEl = h('div', { class: 'chart', id: 'chart-slab' });
    this.freeEl = h('div', { class: 'chart', id: 'chart-free' });
    this.rateEl = h('div', { class: 'chart', id: 'chart-rate' });
    this.root = h(
      'section',
      { id: 'tab-charts', class: 'tab' },
      h('h3', {}, 'Slab memory per cache (KiB)'),
      this.slabEl,
      h('h3', {}, 'Free pages in blocks of each order (log scale)'),
      this.freeEl,
      h('h3', {}, 'Allocation rate (per 100 operations)'),
      this.rateEl,
    );
  }

  private cursorPlugin(): uPlot.Plugin {
    return {
      hooks: {
        draw: [
          (u: uPlot) => {
            const x = u.valToPos(this.pos, 'x', true);
            if (!Number.isFinite(x)) return;
            const ctx = u.ctx;
            ctx.save();
            ctx.strokeStyle = '#ff2d55';
            ctx.lineWidth = 2;
            ctx.beginPath();
            ctx.moveTo(x, u.bbox.top);
            ctx.lineTo(x, u.bbox.top + u.bbox.height);
            ctx.stroke();
            ctx.restore();
          },
        ],
      },
    };
  }

  private opts(title: string, series: uPlot.Series[], height: number, log = false): uPlot.Options {
    return {
      title: undefined,
      width: this.width,
      height,
      series: [{ label: 'operation' }, ...series],
      axes: [
        { stroke: '#aab', grid: { stroke: '#2a2f3a' }, label: title },
        { stroke: '#aab', grid: { stroke: '#2a2f3a' }, size: 72 },
      ],
      scales: { x: { time: false }, ...(log ? { y: { distr: 3, log: 10 } } : {}) },
      legend: { show: true, live: true },
      cursor: { drag: { x: true, y: false } },
      plugins: [this.cursorPlugin()],
    };
  }

  /** Draw the timeline; `width` is the panel's width. */
  update(t: Timeline, width: number): void {
    this.width = Math.max(320, width - 10);
    const x = t.x;
    const top = t.topCaches(TOP);
    const key = top.join(',');
    if (key !== this.topKey || !this.slab) {
      this.topKey = key;
      this.slab?.destroy();
      const series: uPlot.Series[] = top.map((name, i) => ({ label: name, stroke: PALETTE[i % PALETTE.length], width: 1.5 }));
      series.push({ label: 'other caches', stroke: '#868e96', width: 1, dash: [4, 4] });
      this.slab = new uPlot(this.opts('operations', series, 200), [[]], this.slabEl);
    }
    const toKb = (a: number[]) => a.map((v) => v * 4);
    this.slab.setData([x, ...top.map((n) => toKb(t.slabPages.get(n) ?? [])), toKb(t.otherCaches(top))]);
    if (!this.free) {
      const series: uPlot.Series[] = t.freeByOrder.map((_, o) => ({ label: `order ${o}`, stroke: `hsl(${Math.round((o * 300) / 10)}, 75%, 60%)`, width: 1.5 }));
      this.free = new uPlot(this.opts('operations', series, 220, true), [[]], this.freeEl);
    }
    // A log scale (orders 0..10 differ by thousands): an empty order is a gap, not a zero.
    this.free.setData([x, ...t.freeByOrder.map((a) => a.map((v) => (v > 0 ? v : null)))]);
    if (!this.rate) {
      this.rate = new uPlot(
        this.opts(
          'operations',
          [
            { label: 'objects allocated', stroke: '#4dabf7', width: 1.5 },
            { label: 'objects freed', stroke: '#f76707', width: 1.5 },
            { label: 'pages allocated', stroke: '#40c057', width: 1.5 },
            { label: 'pages freed', stroke: '#fab005', width: 1.5 },
          ],
          170,
        ),
        [[]],
        this.rateEl,
      );
    }
    this.rate.setData([x, t.objAllocs, t.objFrees, t.pageAllocs, t.pageFrees]);
    for (const u of [this.slab, this.free, this.rate]) if (u.width !== this.width) u.setSize({ width: this.width, height: u.height });
  }

  /** Redraw only the "now" line. */
  redrawCursor(): void {
    for (const u of [this.slab, this.free, this.rate]) u?.redraw(false, false);
  }

  reset(): void {
    for (const u of [this.slab, this.free, this.rate]) u?.destroy();
    this.slab = this.free = this.rate = null;
    this.topKey = '';
  }
}
