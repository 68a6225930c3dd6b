/**
 * The buddy panel: per zone, the free_area table (orders × migratetypes),
 * the watermarks against the free pages, and the fragmentation indices.
 * Cells that changed since the last refresh flash.
 */
import { type Kernel, NR_PAGE_ORDERS } from '../../src/index.js';
import { buddyView, MT_NAMES, thousandths, watermarkState, type ZoneBuddy } from '../model/buddy.js';
import { pagesToSize } from '../model/format.js';
import { cssOf, MT_COLORS } from '../model/memmap.js';
import { h, setText } from './dom.js';

export class BuddyPanel {
  readonly root: HTMLElement;
  private body: HTMLElement;
  private zoneKey = '';
  private cells = new Map<string, HTMLElement>();
  private prev = new Map<string, string>();

  constructor() {
    this.body = h('div', { class: 'buddy-body' });
    this.root = h(
      'section',
      { id: 'tab-buddy', class: 'tab' },
      h(
        'p',
        { class: 'hint' },
        'free_area[order].free_list[migratetype]: free blocks of 2^order pages on each list (what /proc/pagetypeinfo prints); nr_free is /proc/buddyinfo. A block merges with its buddy (pfn XOR 2^order) when both are free.',
      ),
      this.body,
    );
  }

  update(k: Kernel): void {
    const zones = buddyView(k);
    const key = zones.map((z) => z.name).join(',');
    if (key !== this.zoneKey) {
      this.zoneKey = key;
      this.cells.clear();
      this.prev.clear();
      this.body.replaceChildren(...zones.map((z) => this.zoneCard(z)));
    }
    for (const z of zones) this.fill(z);
  }

  private cell(id: string, cls = ''): HTMLElement {
    const el = h('td', { class: cls, 'data-cell': id });
    this.cells.set(id, el);
    return el;
  }

  private zoneCard(z: ZoneBuddy): HTMLElement {
    const orders = Array.from({ length: NR_PAGE_ORDERS }, (_, o) => o);
    const head = h('tr', {}, h('th', { class: 'l' }, 'order'), ...orders.map((o) => h('th', {}, String(o))));
    const rows = MT_NAMES.map((name, mt) =>
      h(
        'tr',
        {},
        h('th', { class: 'l' }, h('i', { class: 'sw', style: `background:${cssOf(MT_COLORS[mt]!)}` }), name),
        ...orders.map((o) => this.cell(`${z.name}:${mt}:${o}`)),
      ),
    );
    const total = h('tr', { class: 'total' }, h('th', { class: 'l' }, 'nr_free'), ...orders.map((o) => this.cell(`${z.name}:nr:${o}`)));
    const pages = h('tr', { class: 'pages' }, h('th', { class: 'l' }, 'pages'), ...orders.map((o) => this.cell(`${z.name}:pg:${o}`)));
    const unusable = h(
      'tr',
      { class: 'frag' },
      h('th', { class: 'l', title: 'unusable free index: the share of free memory in blocks too small for this order' }, 'unusable'),
      ...orders.map((o) => this.cell(`${z.name}:un:${o}`)),
    );
    const extfrag = h(
      'tr',
      { class: 'frag' },
      h(
        'th',
        { class: 'l', title: 'extfrag index: near 1 a failure at this order would be fragmentation, near 0 lack of memory; -1 means a block is free' },
        'extfrag',
      ),
      ...orders.map((o) => this.cell(`${z.name}:ex:${o}`)),
    );
    return h(
      'div',
      { class: 'zone-card', 'data-zone': z.name },
      h('h3', {}, `Zone ${z.name}`, h('span', { class: 'zone-sum', 'data-sum': z.name })),
      h('div', { class: 'wmark', 'data-wmark': z.name }),
      h('table', { class: 'free-area' }, h('thead', {}, head), h('tbody', {}, ...rows, total, pages, unusable, extfrag)),
    );
  }

  private set(id: string, text: string, intensity = -1): void {
    const el = this.cells.get(id);
    if (!el) return;
    const old = this.prev.get(id);
    if (old !== text) {
      el.textContent = text;
      if (old !== undefined) {
        // Two identical animations under different names: switching restarts it without a reflow.
        const a = el.classList.contains('flash-a');
        el.classList.toggle('flash-a', !a);
        el.classList.toggle('flash-b', a);
      }
      this.prev.set(id, text);
    }
    if (intensity >= 0) el.style.background = intensity === 0 ? '' : `rgba(64,192,87,${(0.12 + 0.6 * intensity).toFixed(2)})`;
  }

  private fill(z: ZoneBuddy): void {
    let max = 1;
    for (const row of z.free) for (const v of row) max = Math.max(max, v);
    for (let mt = 0; mt < z.free.length; mt++) {
      for (let o = 0; o < NR_PAGE_ORDERS; o++) {
        const v = z.free[mt]![o]!;
        this.set(`${z.name}:${mt}:${o}`, v ? String(v) : '·', v ? Math.log1p(v) / Math.log1p(max) : 0);
      }
    }
    for (let o = 0; o < NR_PAGE_ORDERS; o++) {
      this.set(`${z.name}:nr:${o}`, String(z.nrFree[o]));
      this.set(`${z.name}:pg:${o}`, String(z.nrFree[o]! << o));
      this.set(`${z.name}:un:${o}`, thousandths(z.unusable[o]!));
      this.set(`${z.name}:ex:${o}`, thousandths(z.extfrag[o]!));
    }
    const sum = this.body.querySelector<HTMLElement>(`[data-sum="${z.name}"]`);
    if (sum) setText(sum, ` · ${z.freePages} free pages (${pagesToSize(z.freePages)}) of ${z.managed} managed · ${z.pcpPages} on pcp lists`);
    const wm = this.body.querySelector<HTMLElement>(`[data-wmark="${z.name}"]`);
    if (wm) this.watermarks(wm, z);
  }

  /** Free pages against min/low/high, on a scale that shows the marks (4 × high), and the whole zone. */
  private watermarks(el: HTMLElement, z: ZoneBuddy): void {
    const scale = Math.max(z.wmark.high * 4, 1);
    const pct = (v: number) => `${Math.min(100, (v / scale) * 100).toFixed(2)}%`;
    const key = `${z.freePages}:${z.pcpPages}:${z.wmark.min}:${z.wmark.low}:${z.wmark.high}`;
    if (el.dataset.key === key) return;
    el.dataset.key = key;
    const over = z.freePages > scale;
    el.replaceChildren(
      h(
        'div',
        { class: 'wm-bar', title: `0 … ${scale} pages (4 × the high watermark)` },
        h('i', { class: 'wm-free', style: `width:${pct(z.freePages)}` }),
        h('i', { class: 'wm-pcp', style: `left:${pct(z.freePages)};width:${pct(Math.min(z.pcpPages, Math.max(0, scale - z.freePages)))}` }),
        ...(['min', 'low', 'high'] as const).map((n) =>
          h('b', { class: `wm-mark ${n}`, style: `left:${pct(z.wmark[n])}` }, h('span', {}, `${n} ${z.wmark[n]}`)),
        ),
        over ? h('em', {}, `free ${z.freePages} →`) : null,
      ),
      h('div', { class: 'wm-text' }, `free ${z.freePages} pages: ${watermarkState(z)}`),
    );
  }
}
