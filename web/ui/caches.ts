/**
 * The caches panel: the slabinfo table, and one cache's slabs drawn as
 * objects with their freelists, per CPU and per list.
 */
import type { Kernel } from '../../src/index.js';
import {
  type CacheDetail,
  type CacheRow,
  cacheDetail,
  cacheRows,
  fastShare,
  filterRows,
  O_ALLOC,
  O_FREE_CPU,
  O_FREE_SLAB,
  O_QUARANTINE,
  objectAddr,
  objectIndex,
  objectStateNames,
  type SlabView,
  type SortKey,
  slabinfoCounts,
  sortRows,
} from '../model/caches.js';
import { bytesToSize, hex, pagesToSize, px } from '../model/format.js';
import { cacheColor, cssOf } from '../model/memmap.js';
import { byId, h, setText } from './dom.js';
import { drawSlab, objectAt, objectStateColors, type SlabLayout } from './slabdraw.js';

/** Slabs drawn per list before the rest is summed up in one line. */
const MAX_TILES = 24;

const COLUMNS: [SortKey, string, string][] = [
  ['name', 'name', 'cache name'],
  ['activeObjs', 'active_|objs', 'objects in use, as /proc/slabinfo counts them'],
  ['numObjs', 'num_|objs', 'objects in all slabs'],
  ['objsize', 'obj|size', 'slot size (s->size)'],
  ['objperslab', 'obj|per|slab', 'objects per slab'],
  ['pagesperslab', 'pages/|slab', 'pages per slab (2^order)'],
  ['numSlabs', 'slabs', 'slabs'],
  ['cacheKb', 'size', 'memory the slabs hold'],
  ['use', 'use', 'active_objs / num_objs'],
];

export interface CachesCallbacks {
  /** An object was clicked: show its shadow in the KASAN panel. */
  inspect(addr: number): void;
}

export class CachesPanel {
  readonly root: HTMLElement;
  private tbody: HTMLTableSectionElement;
  private rowEls = new Map<string, HTMLTableRowElement>();
  private sortKey: SortKey = 'cacheKb';
  private desc = true;
  private filter: HTMLInputElement;
  private hideEmpty: HTMLInputElement;
  private detail: HTMLElement;
  private k: Kernel | null = null;
  /** The chosen cache, by name (ids change when the machine is rebooted). */
  selected: string | null = null;
  /** Object to outline: [slab pfn, object index]. */
  private highlight: [number, number] = [-1, -1];
  private fingerprint = '';
  private tooltip: HTMLElement;
  /** The last detail drawn (tests read it through the page). */
  last: CacheDetail | null = null;
  /** Slab tiles drawn last time, by pfn, with what they showed: unchanged slabs are not redrawn. */
  private tileCache = new Map<number, { fig: HTMLElement; key: string }>();
  private tileUsed = new Set<number>();
  private tileFor = '';
  /** Tiles drawn (not reused) since the page opened. */
  tilesDrawn = 0;
  private skeleton: { head: HTMLElement; stats: { el: HTMLElement; update: (d: CacheDetail) => void }; lists: HTMLElement; totals: HTMLElement } | null = null;
  /** Milliseconds the last detail took: the view-model, and all of it. */
  modelMs = 0;
  detailMs = 0;

  constructor(private readonly cb: CachesCallbacks) {
    this.filter = h('input', { id: 'cache-filter', type: 'search', placeholder: 'filter caches…', oninput: () => this.renderTable(true) });
    this.hideEmpty = h('input', { id: 'cache-hide-empty', type: 'checkbox', checked: true, onchange: () => this.renderTable(true) });
    this.tbody = h('tbody');
    const head = h(
      'tr',
      {},
      ...COLUMNS.map(([key, label, title]) =>
        // /proc/slabinfo's column names, allowed to break where "|" is (a narrow panel keeps every column).
        h(
          'th',
          { 'data-key': key, title, onclick: () => this.sortBy(key), class: key === 'name' ? 'l' : '' },
          ...label.split('|').flatMap((part, i) => (i ? [h('wbr'), part] : [part])),
        ),
      ),
    );
    this.detail = h('div', { id: 'cache-detail', class: 'cache-detail' }, h('p', { class: 'hint' }, 'Choose a cache in the table to see its slabs.'));
    this.tooltip = h('div', { class: 'tooltip', hidden: true });
    this.root = h(
      'section',
      { id: 'tab-caches', class: 'tab' },
      h(
        'div',
        { class: 'toolbar' },
        this.filter,
        h('label', {}, this.hideEmpty, ' hide empty caches'),
        h('span', { class: 'hint' }, '/proc/slabinfo — click a column to sort, a row to open the cache'),
      ),
      h('div', { class: 'table-wrap' }, h('table', { id: 'slabinfo', class: 'slabinfo' }, h('thead', {}, head), this.tbody)),
      this.detail,
      this.tooltip,
    );
  }

  private sortBy(key: SortKey): void {
    if (this.sortKey === key) this.desc = !this.desc;
    else {
      this.sortKey = key;
      this.desc = key !== 'name';
    }
    this.renderTable(true);
  }

  /** Open a cache, optionally outlining one object (by address). */
  select(name: string | null, addr = 0): void {
    this.selected = name;
    this.highlight = [-1, -1];
    if (name && addr && this.k) {
      const id = this.k.kmemCacheByName(name);
      const { head } = this.k.inspect.slabOf(addr);
      if (id >= 0) this.highlight = [head, objectIndex(this.k, id, head, addr)];
    }
    this.fingerprint = '';
    this.renderTable(true);
    if (this.k) this.renderDetail(this.k, true);
  }

  /** Refresh from the machine; `full`: the detail too. */
  update(k: Kernel, full: boolean): void {
    this.k = k;
    this.renderTable(false);
    if (full) this.renderDetail(k, false);
  }

  private renderTable(force: boolean): void {
    const k = this.k;
    if (!k) return;
    const rows = sortRows(filterRows(cacheRows(k), this.filter.value, this.hideEmpty.checked), this.sortKey, this.desc);
    const keep = new Set<string>();
    let i = 0;
    for (const r of rows) {
      keep.add(r.name);
      let tr = this.rowEls.get(r.name);
      if (!tr) {
        tr = this.makeRow(r);
        this.rowEls.set(r.name, tr);
      }
      this.fillRow(tr, r);
      tr.classList.toggle('sel', r.name === this.selected);
      if (this.tbody.children[i] !== tr) this.tbody.insertBefore(tr, this.tbody.children[i] ?? null);
      i++;
    }
    for (const [name, tr] of this.rowEls) {
      if (!keep.has(name)) {
        tr.remove();
        this.rowEls.delete(name);
      }
    }
    if (force) {
      for (const th of this.root.querySelectorAll('th')) {
        th.classList.toggle('sorted', th.dataset.key === this.sortKey);
        th.classList.toggle('desc', th.dataset.key === this.sortKey && this.desc);
      }
    }
  }

  private makeRow(r: CacheRow): HTMLTableRowElement {
    const tr = h('tr', { 'data-cache': r.name, onclick: () => this.select(r.name) });
    for (const [key] of COLUMNS) tr.append(h('td', { 'data-col': key, class: key === 'name' ? 'l' : '' }));
    const sw = h('i', { class: 'sw', style: `background:${cssOf(cacheColor(r.id))}` });
    tr.firstElementChild!.append(sw, h('span'));
    return tr;
  }

  private fillRow(tr: HTMLTableRowElement, r: CacheRow): void {
    const cells = tr.children;
    (cells[0]!.firstElementChild as HTMLElement).style.background = cssOf(cacheColor(r.id));
    setText(cells[0]!.lastElementChild!, r.name);
    setText(cells[1]!, String(r.activeObjs));
    setText(cells[2]!, String(r.numObjs));
    setText(cells[3]!, String(r.objsize));
    setText(cells[4]!, String(r.objperslab));
    setText(cells[5]!, String(r.pagesperslab));
    setText(cells[6]!, String(r.numSlabs));
    setText(cells[7]!, `${r.cacheKb}K`);
    setText(cells[8]!, `${r.use}%`);
  }

  /** A cheap summary of a cache's state: redraw the detail only when it changes. */
  private stateKey(k: Kernel, id: number): string {
    const c = k.inspect.cacheCounters(id);
    let key = `${id}:${c.allocs}:${c.frees}:${c.nrSlabs}:${c.nrPartial}:${this.highlight.join(',')}`;
    for (const cc of k.inspect.kmemCacheCpus(id)) key += `:${cc.slab}:${cc.freelist}:${cc.partial[0] ?? -1}`;
    return `${key}:${k.inspect.printkLines}`;
  }

  private renderDetail(k: Kernel, force: boolean): void {
    const name = this.selected;
    const id = name ? k.kmemCacheByName(name) : -1;
    if (id < 0) {
      if (this.fingerprint !== 'none') {
        this.fingerprint = 'none';
        this.last = null;
        this.skeleton = null;
        this.detail.replaceChildren(
          h('p', { class: 'hint' }, name ? `No cache named ${name} on this machine (yet).` : 'Choose a cache in the table to see its slabs.'),
        );
      }
      return;
    }
    const key = this.stateKey(k, id);
    if (!force && key === this.fingerprint) return;
    this.fingerprint = key;
    const t0 = performance.now();
    const d = cacheDetail(k, id);
    this.modelMs = performance.now() - t0;
    this.last = d;
    const color = cssOf(cacheColor(id));
    const tileFor = `${id}:${name}:${k.inspect.nrPages}`;
    if (tileFor !== this.tileFor || force || !this.skeleton) {
      // A new cache: the parts that stay (heading, counters, legend) are built once.
      this.tileFor = tileFor;
      this.tileCache.clear();
      this.skeleton = this.buildSkeleton(d, color);
      this.detail.replaceChildren(this.skeleton.head, this.skeleton.stats.el, objLegend(), this.skeleton.lists, this.skeleton.totals);
    }
    this.tileUsed.clear();
    this.skeleton.stats.update(d);
    const parts: HTMLElement[] = [];
    for (const c of d.cpus) {
      const row = h('div', { class: 'cpu-row', 'data-cpu': c.cpu });
      row.append(
        h('div', { class: 'lbl' }, h('b', {}, `CPU${c.cpu}`), h('br'), 'cpu slab'),
        c.slab ? this.tile(k, d, c.slab, color) : h('div', { class: 'none' }, 'no cpu slab'),
      );
      // Not class "cpu-partial": that is the class of a slab tile on a cpu partial list.
      const partial = h('div', { class: 'cpu-partials' }, h('div', { class: 'lbl' }, `cpu partial (${c.partial.length})`));
      this.tiles(k, d, c.partial, color, partial);
      row.append(partial);
      parts.push(row);
    }
    const node = h(
      'div',
      { class: 'list-row', id: 'node-partial' },
      h('div', { class: 'lbl' }, h('b', {}, 'node 0'), h('br'), `partial list (${d.nodePartial.length})`),
    );
    this.tiles(k, d, d.nodePartial, color, node);
    parts.push(node);
    const full = h('div', { class: 'list-row', id: 'full-slabs' }, h('div', { class: 'lbl' }, h('b', {}, 'full'), h('br'), `on no list (${d.full.length})`));
    this.tiles(k, d, d.full, color, full);
    parts.push(full);
    this.skeleton.lists.replaceChildren(...parts);
    this.fillTotals(k, d, this.skeleton.totals);
    for (const pfn of this.tileCache.keys()) if (!this.tileUsed.has(pfn)) this.tileCache.delete(pfn);
    this.detailMs = performance.now() - t0;
  }

  private buildSkeleton(d: CacheDetail, color: string): NonNullable<CachesPanel['skeleton']> {
    const g = d.geometry;
    const head = h(
      'div',
      { class: 'detail-head' },
      h('h3', {}, h('i', { class: 'sw', style: `background:${color}` }), g.name),
      h(
        'p',
        { class: 'geom' },
        `object_size ${g.objectSize} · slot ${g.size} bytes · free pointer at +${g.offset} · ${g.objects} objects per order-${g.order} slab (${pagesToSize(1 << g.order)}) · min_partial ${g.minPartial} · cpu_partial ${g.cpuPartial} (${g.cpuPartialSlabs} slabs)`,
        g.redZone ? ' · red zones' : '',
        g.poison ? ' · poisoning' : '',
      ),
    );
    return { head, stats: this.statsBlock(d), lists: h('div', { class: 'lists' }), totals: h('p', { id: 'cache-totals', class: 'totals' }) };
  }

  /** The count of objects in the picture against /proc/slabinfo's line for the cache. */
  private fillTotals(k: Kernel, d: CacheDetail, el: HTMLElement): void {
    const si = slabinfoCounts(d);
    const proc = cacheRows(k).find((r) => r.id === d.id);
    const match = proc !== undefined && proc.numObjs === si.numObjs && proc.activeObjs === si.activeObjs && proc.numSlabs === si.numSlabs;
    const t = d.totals;
    el.className = `totals ${match ? 'ok' : 'bad'}`;
    el.dataset.slabs = String(t.slabs);
    el.dataset.objects = String(t.objects);
    el.dataset.active = String(si.activeObjs);
    el.dataset.handedOut = String(t.handedOut);
    el.replaceChildren(
      `In the picture: ${t.slabs} slabs, ${t.objects} objects — ${t.handedOut} handed out, ${t.freeCpu} free on c->freelists, ${t.freeSlab} free on slab freelists${t.quarantined ? `, ${t.quarantined} quarantined` : ''}. `,
      `/proc/slabinfo counts num_objs ${proc?.numObjs ?? '?'}, active_objs ${proc?.activeObjs ?? '?'} (num_objs minus the free objects of node partial slabs: objects on c->freelists and cpu partial slabs count as active), slabs ${proc?.numSlabs ?? '?'}: `,
      h('b', {}, match ? 'the picture matches' : 'MISMATCH'),
    );
  }

  private statsBlock(d: CacheDetail): { el: HTMLElement; update: (d: CacheDetail) => void } {
    if (!d.stats) return { el: h('p', { class: 'hint' }, 'SLUB_STATS is off on this machine.'), update: () => {} };
    const bar = (label: string) => {
      const fast = h('i', { class: 'fast' });
      const slow = h('i', { class: 'slow' });
      const n = h('span', { class: 'fb-n' });
      const el = h('div', { class: 'fastbar' }, h('span', { class: 'fb-l' }, label), h('span', { class: 'fb-bar' }, fast, slow), n);
      return {
        el,
        set: (share: number, count: number) => {
          fast.style.width = `${(share * 100).toFixed(1)}%`;
          slow.style.width = `${(100 - share * 100).toFixed(1)}%`;
          setText(n, count ? `${(share * 100).toFixed(1)}% fast of ${count}` : 'none yet');
        },
      };
    };
    const a = bar('alloc');
    const f = bar('free');
    const cells: HTMLElement[][] = [];
    const trs: HTMLElement[] = [];
    for (const st of d.stats) {
      const row = [h('td'), ...st.perCpu.map(() => h('td'))];
      cells.push(row);
      trs.push(h('tr', {}, h('th', {}, st.name), ...row));
    }
    const el = h(
      'div',
      { class: 'stats' },
      a.el,
      f.el,
      h(
        'details',
        { id: 'slub-stats' },
        h('summary', {}, 'SLUB_STATS counters (/sys/kernel/slab/<cache>/*)'),
        h('table', { class: 'stat-table' }, h('tr', {}, h('th', {}, 'counter'), h('th', {}, 'total'), ...d.cpus.map((c) => h('th', {}, `C${c.cpu}`))), ...trs),
      ),
    );
    const update = (dd: CacheDetail) => {
      if (!dd.stats) return;
      const share = fastShare(dd.stats);
      a.set(share.alloc, share.allocs);
      f.set(share.free, share.frees);
      dd.stats.forEach((st, i) => {
        const row = cells[i]!;
        setText(row[0]!, String(st.total));
        st.perCpu.forEach((v, c) => {
          setText(row[c + 1]!, String(v));
        });
        trs[i]!.classList.toggle('nz', st.total !== 0);
      });
    };
    return { el, update };
  }

  private tiles(k: Kernel, d: CacheDetail, slabs: SlabView[], color: string, into: HTMLElement): void {
    const wrap = h('div', { class: 'tiles' });
    for (const s of slabs.slice(0, MAX_TILES)) wrap.append(this.tile(k, d, s, color));
    if (slabs.length > MAX_TILES) {
      const rest = slabs.slice(MAX_TILES);
      const objs = rest.reduce((n, s) => n + s.objects, 0);
      const inuse = rest.reduce((n, s) => n + s.inuse, 0);
      wrap.append(
        h('div', { class: 'more', 'data-objects': objs, 'data-slabs': rest.length }, `+ ${rest.length} more slabs (${objs} objects, inuse ${inuse})`),
      );
    }
    if (slabs.length === 0) wrap.append(h('div', { class: 'none' }, 'empty'));
    into.append(wrap);
  }

  private tile(k: Kernel, d: CacheDetail, s: SlabView, color: string): HTMLElement {
    const hl = this.highlight[0] === s.pfn ? this.highlight[1] : -1;
    const key = `${s.where}:${s.cpu}:${s.inuse}:${s.frozen}:${hl}:${s.cpuFreelist.join(',')}|${s.slabFreelist.join(',')}|${s.states.join('')}|${s.accessible?.join(',') ?? ''}`;
    this.tileUsed.add(s.pfn);
    const cached = this.tileCache.get(s.pfn);
    if (cached && cached.key === key) return cached.fig;
    this.tilesDrawn++;
    const canvas = h('canvas');
    const layout = drawSlab(canvas, s, d.geometry, color, hl);
    // Height from the width (CSS may draw the tile narrower in a narrow panel).
    canvas.style.height = 'auto';
    const show = (l: number[]) => (l.length ? l.slice(0, 10).join('→') + (l.length > 10 ? `→… (${l.length})` : '') : 'NULL');
    const cap = h(
      'figcaption',
      {},
      h('b', {}, `pfn ${hex(s.pfn)}`),
      ` inuse ${s.inuse}/${s.objects}${s.frozen ? ' · frozen' : ''}${s.corrupt ? ' · CORRUPT FREELIST' : ''}`,
      h('br'),
      s.where === 'cpu' ? h('span', { class: 'fl cpu' }, `c->freelist: ${show(s.cpuFreelist)}`) : null,
      s.where === 'cpu' ? h('br') : null,
      h('span', { class: 'fl slab' }, `slab->freelist: ${show(s.slabFreelist)}`),
    );
    const fig = h(
      'figure',
      { class: `slab ${s.where}${hl >= 0 ? ' hl' : ''}`, 'data-pfn': s.pfn, 'data-objects': s.objects, 'data-inuse': s.inuse, 'data-where': s.where },
      canvas,
      cap,
    );
    canvas.addEventListener('mousemove', (e) => {
      const i = objectUnder(canvas, layout, s.objects, e);
      if (i < 0) {
        this.tooltip.hidden = true;
        return;
      }
      const a = objectAddr(k, d.id, s.pfn, i);
      const st = s.states[i]!;
      const pos =
        st === O_FREE_CPU ? ` #${s.cpuFreelist.indexOf(i)} on c->freelist` : st === O_FREE_SLAB ? ` #${s.slabFreelist.indexOf(i)} on slab->freelist` : '';
      const acc = s.accessible ? ` · KASAN: ${s.accessible[i]} of ${d.geometry.objectSize} bytes accessible` : '';
      this.tooltip.textContent = `object ${i} · ${px(a)} · ${objectStateNames[st]}${pos}${acc}`;
      this.tooltip.hidden = false;
      const host = this.root.getBoundingClientRect();
      this.tooltip.style.left = `${e.clientX - host.left + 12}px`;
      this.tooltip.style.top = `${e.clientY - host.top + 12}px`;
    });
    canvas.addEventListener('mouseleave', () => {
      this.tooltip.hidden = true;
    });
    canvas.addEventListener('click', (e) => {
      const i = objectUnder(canvas, layout, s.objects, e);
      if (i < 0) return;
      this.highlight = [s.pfn, i];
      this.cb.inspect(objectAddr(k, d.id, s.pfn, i));
      this.renderDetail(k, true);
    });
    canvas.title = `${s.objects} objects, ${bytesToSize(4096 << s.order)} slab`;
    this.tileCache.set(s.pfn, { fig, key });
    return fig;
  }

  /** The number of object cells drawn plus those summed in "+N more" lines (for the tests). */
  static countObjects(): number {
    let n = 0;
    for (const el of byId('cache-detail').querySelectorAll<HTMLElement>('[data-objects]')) {
      if (el.id === 'cache-totals') continue;
      n += Number(el.dataset.objects);
    }
    return n;
  }
}

function objLegend(): HTMLElement {
  return h(
    'div',
    { class: 'legend obj-legend' },
    ...objectStateColors.map(([st, label, color]) =>
      h(
        'span',
        { class: 'lg' },
        h('i', { style: st === O_ALLOC || st === O_QUARANTINE ? `background:${color}` : `background:#f4f6fa;border:2px solid ${color}` }),
        label,
      ),
    ),
    h('span', { class: 'lg' }, h('i', { style: 'background:#555b66' }), 'slot metadata / padding (red: slub_debug red zones)'),
    h('span', { class: 'lg' }, h('i', { class: 'arrow cpu' }), 'c->freelist order'),
    h('span', { class: 'lg' }, h('i', { class: 'arrow slab' }), 'slab->freelist order'),
  );
}

/** The object under the mouse; the tile may be drawn narrower than its canvas (a narrow panel scales it down). */
function objectUnder(canvas: HTMLCanvasElement, layout: SlabLayout, objects: number, e: MouseEvent): number {
  const r = canvas.getBoundingClientRect();
  const scale = r.width > 0 ? layout.width / r.width : 1;
  return objectAt(layout, objects, (e.clientX - r.left) * scale, (e.clientY - r.top) * scale);
}
