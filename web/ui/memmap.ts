/**
 * The physical memory map: one cell per page frame on a canvas.
 *
 * The cells live in an off-screen canvas of one pixel per page; each frame
 * the page states are recomputed from struct page (a linear pass, well under
 * a millisecond for 64k pages) and only pixels whose colour changed are
 * written. The visible canvas is redrawn only when a pixel changed, scaled
 * up without smoothing, with the migratetype strip, zone boundaries and, when
 * zoomed in, the outline of every buddy block, slab and allocation.
 */
import type { Kernel } from '../../src/index.js';
import { migratetypeNames, pageblock_nr_pages } from '../../src/inspect.js';
import { hex, pagesToSize } from '../model/format.js';
import {
  blockMigratetype,
  cellOfPfn,
  cellSize,
  colorOf,
  computePageStates,
  cssOf,
  type MapView,
  MT_COLORS,
  pageInfo,
  pfnAtCell,
  S_ALLOC,
  S_FREE,
  S_LARGE,
  S_PCP,
  S_SLAB,
  stateNames,
  viewAt,
  viewRows,
  zoneStarts,
} from '../model/memmap.js';
import { h, setText, sizeCanvas } from './dom.js';

const GUTTER = 66;
const STRIP = 8;
const X0 = GUTTER + STRIP + 2;
const CELLS_W = 512;
const MAX_H = 512;

export interface MapCallbacks {
  /** A slab page was clicked: show its cache. */
  openSlab(cache: number, slab: number): void;
}

export class MemMapView {
  readonly root: HTMLElement;
  private base: HTMLCanvasElement;
  /** Migratetype strip, zone lines and labels: redrawn only when they change. */
  private decor: HTMLCanvasElement;
  private decorKey = '';
  private overlay: HTMLCanvasElement;
  private cells = document.createElement('canvas');
  private cellsCtx: CanvasRenderingContext2D;
  private img: ImageData | null = null;
  private pix: Uint32Array | null = null;
  private info: HTMLElement;
  private title: HTMLElement;
  private state = new Uint8Array(0);
  private cache = new Int32Array(0);
  private head = new Int32Array(0);
  private k: Kernel | null = null;
  private version = -1;
  private generation = -1;
  level = 0;
  private focus = 0;
  view: MapView = { start: 0, count: 0, cols: 256 };
  private cw = 2;
  private ch = 2;
  private hover = -1;
  private pinned = -1;
  /** The block the last operation touched. */
  private mark = -1;
  /** Redraws of the visible canvas (for the tests and the fps check). */
  redraws = 0;
  /** Pixels written since boot. */
  pixelsWritten = 0;

  constructor(private readonly cb: MapCallbacks) {
    this.base = h('canvas', { id: 'map-canvas', class: 'map-base' });
    this.decor = h('canvas', { class: 'map-layer' });
    this.overlay = h('canvas', { class: 'map-overlay' });
    this.cellsCtx = this.cells.getContext('2d')!;
    this.title = h('span', { class: 'map-range' });
    this.info = h('div', { id: 'page-info', class: 'page-info' }, 'Hover a page frame to see its struct page; click to keep it here.');
    const btn = (label: string, title: string, f: () => void, id?: string) => h('button', { type: 'button', title, onclick: f, id }, label);
    const stack = h('div', { class: 'map-stack' }, this.base, this.decor, this.overlay);
    this.root = h(
      'section',
      { id: 'map-panel', class: 'panel' },
      h(
        'div',
        { class: 'panel-head' },
        h('h2', {}, 'Physical memory'),
        this.title,
        h(
          'span',
          { class: 'zoom' },
          btn('whole machine', 'zoom out to every page frame', () => this.setLevel(0, this.focus), 'zoom-all'),
          btn('−', 'zoom out', () => this.setLevel(this.level - 1, this.focus), 'zoom-out'),
          btn('+', 'zoom in (or use the mouse wheel)', () => this.setLevel(this.level + 1, this.focus), 'zoom-in'),
          btn('◀', 'previous region', () => this.pan(-1)),
          btn('▶', 'next region', () => this.pan(1)),
        ),
      ),
      stack,
      legend(),
      this.info,
    );
    this.overlay.addEventListener('mousemove', (e) => this.onMove(e));
    this.overlay.addEventListener('mouseleave', () => {
      this.hover = -1;
      this.drawOverlay();
      if (this.pinned < 0) this.showInfo(-1);
    });
    this.overlay.addEventListener('click', (e) => {
      const pfn = this.pfnAt(e);
      this.pinned = pfn === this.pinned ? -1 : pfn;
      this.showInfo(pfn);
      this.drawOverlay();
    });
    this.overlay.addEventListener('dblclick', (e) => this.setLevel(this.level + 1, this.pfnAt(e)));
    this.overlay.addEventListener(
      'wheel',
      (e) => {
        e.preventDefault();
        const pfn = this.pfnAt(e);
        this.setLevel(this.level + (e.deltaY < 0 ? 1 : -1), pfn >= 0 ? pfn : this.focus);
      },
      { passive: false },
    );
  }

  /** Zoom to a level around a pfn (level 0: the whole machine, 3: one pageblock). */
  setLevel(level: number, pfn: number): void {
    this.level = Math.max(0, Math.min(3, level));
    if (pfn >= 0) this.focus = pfn;
    this.layout();
  }

  /** The centre of pfn's cell in the canvas (CSS pixels), or null when not in view. */
  cellCenter(pfn: number): { x: number; y: number } | null {
    const c = cellOfPfn(this.view, pfn);
    if (!c) return null;
    return { x: X0 + c.col * this.cw + Math.floor(this.cw / 2), y: 1 + c.row * this.ch + Math.floor(this.ch / 2) };
  }

  /** Point at a block (the last operation's), zooming to `level` around it if given. */
  setMark(pfn: number, zoomLevel?: number): void {
    this.mark = pfn;
    if (zoomLevel !== undefined && pfn >= 0) this.setLevel(zoomLevel, pfn);
    else this.drawOverlay();
  }

  private pan(dir: number): void {
    if (this.level === 0 || !this.k) return;
    const next = this.view.start + dir * this.view.count;
    if (next < 0 || next >= this.k.inspect.nrPages) return;
    this.focus = next;
    this.layout();
  }

  private layout(): void {
    if (!this.k) return;
    this.view = viewAt(this.k.inspect.nrPages, this.level, this.focus);
    const { w, h: hh } = cellSize(this.view, CELLS_W, MAX_H);
    this.cw = w;
    this.ch = hh;
    const rows = viewRows(this.view);
    const width = X0 + this.view.cols * w + 2;
    const height = rows * hh + 2;
    sizeCanvas(this.base, width, height);
    sizeCanvas(this.decor, width, height);
    sizeCanvas(this.overlay, width, height);
    this.decorKey = '';
    this.overlayKey = '';
    this.cells.width = this.view.cols;
    this.cells.height = rows;
    this.img = this.cellsCtx.createImageData(this.view.cols, rows);
    this.pix = new Uint32Array(this.img.data.buffer);
    this.pix.fill(0);
    const end = this.view.start + this.view.count;
    setText(
      this.title,
      `pfn ${hex(this.view.start)}–${hex(end - 1)} · ${pagesToSize(this.view.count)}${this.level ? ` · ${this.view.count / pageblock_nr_pages} pageblock${this.view.count > pageblock_nr_pages ? 's' : ''}` : ''}`,
    );
    this.root.dataset.level = String(this.level);
    this.paint(true);
  }

  /** Bring the map up to date with the machine; cheap when nothing changed. */
  update(k: Kernel, version: number, generation: number): void {
    if (k !== this.k || generation !== this.generation) {
      this.k = k;
      this.generation = generation;
      const nr = k.inspect.nrPages;
      if (this.state.length !== nr) {
        this.state = new Uint8Array(nr);
        this.cache = new Int32Array(nr);
        this.head = new Int32Array(nr);
        this.focus = Math.min(this.focus, nr - 1);
      }
      this.version = -1;
      this.layout();
    }
    if (version === this.version) return;
    this.version = version;
    computePageStates(k, this.state, this.cache, this.head);
    this.paint(false);
    if (this.pinned >= 0) this.showInfo(this.pinned);
  }

  /** Write changed pixels; redraw the canvas if any changed (or `force`). */
  private paint(force: boolean): void {
    const k = this.k;
    const pix = this.pix;
    if (!k || !pix || !this.img || this.state.length === 0) return;
    const v = this.view;
    let changed = 0;
    const state = this.state;
    const cache = this.cache;
    const lut = STATE_LUT;
    for (let i = 0; i < v.count; i++) {
      const pfn = v.start + i;
      const st = state[pfn]!;
      const c = st === S_SLAB ? cacheLut(cache[pfn]!) : lut[st]!;
      if (pix[i] !== c) {
        pix[i] = c;
        changed++;
      }
    }
    this.pixelsWritten += changed;
    if (changed === 0 && !force) return;
    this.cellsCtx.putImageData(this.img, 0, 0);
    this.redraw();
  }

  private redraw(): void {
    const k = this.k;
    if (!k) return;
    this.redraws++;
    const W = parseFloat(this.base.style.width);
    const H = parseFloat(this.base.style.height);
    const ctx = sizeCanvas(this.base, W, H);
    const v = this.view;
    const rows = viewRows(v);
    ctx.clearRect(0, 0, W, H);
    ctx.imageSmoothingEnabled = false;
    ctx.drawImage(this.cells, 0, 0, v.cols, rows, X0, 1, v.cols * this.cw, rows * this.ch);
    // Block outlines when cells are big enough to see them.
    if (this.cw >= 8) {
      ctx.strokeStyle = 'rgba(0,0,0,0.45)';
      ctx.lineWidth = 1;
      ctx.beginPath();
      for (let r = 0; r < rows; r++) {
        for (let c = 0; c < v.cols; c++) {
          const pfn = pfnAtCell(v, c, r);
          if (pfn < 0) continue;
          const x = X0 + c * this.cw + 0.5;
          const y = 1 + r * this.ch + 0.5;
          if (c === 0 || this.head[pfn - 1] !== this.head[pfn]) {
            ctx.moveTo(x, y);
            ctx.lineTo(x, y + this.ch);
          }
          if (r === 0 || this.head[pfn - v.cols] !== this.head[pfn]) {
            ctx.moveTo(x, y);
            ctx.lineTo(x + this.cw, y);
          }
        }
      }
      ctx.stroke();
    }
    if (this.cw >= 16) this.labelBlocks(ctx, k);
    this.drawDecor(k);
    this.drawOverlay();
  }

  /** At the closest zoom, name each block in its first row: its order, its cache. */
  private labelBlocks(ctx: CanvasRenderingContext2D, k: Kernel): void {
    const v = this.view;
    ctx.font = '11px system-ui, sans-serif';
    ctx.textBaseline = 'middle';
    const end = v.start + v.count;
    for (let pfn = v.start; pfn < end; ) {
      const head = this.head[pfn]!;
      let n = 1;
      while (pfn + n < end && this.head[pfn + n] === head) n++;
      const st = this.state[pfn]!;
      let label = '';
      if (st >= S_FREE && st <= S_FREE + 10) label = `free, order ${st - S_FREE}`;
      else if (st === S_SLAB) label = k.inspect.cacheName(this.cache[pfn]!) ?? 'slab';
      else if (st === S_ALLOC) label = `alloc_pages, order ${k.inspect.page(head).order}`;
      else if (st === S_PCP) label = 'pcp';
      else if (st === S_LARGE) label = 'kmalloc';
      const cell = cellOfPfn(v, pfn)!;
      const w = Math.min(n, v.cols - cell.col) * this.cw;
      if (label && ctx.measureText(label).width + 6 <= w) {
        ctx.fillStyle = st >= S_FREE + 6 && st <= S_FREE + 10 ? 'rgba(255,255,255,0.85)' : 'rgba(0,0,0,0.8)';
        ctx.fillText(label, X0 + cell.col * this.cw + 4, 1 + cell.row * this.ch + this.ch / 2);
      }
      pfn += n;
    }
  }

  /** The migratetype strip, pageblock and zone lines, labels: only when a pageblock changed type. */
  private drawDecor(k: Kernel): void {
    const v = this.view;
    const rows = viewRows(v);
    let key = `${v.start}:${v.count}:${v.cols}:${this.cw}:${this.ch}:`;
    for (let r = 0; r < rows; r++) key += blockMigratetype(k, v.start + r * v.cols);
    if (key === this.decorKey) return;
    this.decorKey = key;
    const W = parseFloat(this.decor.style.width);
    const H = parseFloat(this.decor.style.height);
    const ctx = sizeCanvas(this.decor, W, H);
    ctx.clearRect(0, 0, W, H);
    for (let r = 0; r < rows; r++) {
      const pfn = v.start + r * v.cols;
      ctx.fillStyle = cssOf(MT_COLORS[blockMigratetype(k, pfn)] ?? MT_COLORS[4]!);
      ctx.fillRect(GUTTER, 1 + r * this.ch, STRIP, this.ch);
    }
    ctx.textBaseline = 'top';
    if (this.level > 0) {
      ctx.strokeStyle = 'rgba(255,255,255,0.9)';
      ctx.beginPath();
      for (let pfn = v.start; pfn < v.start + v.count; pfn += pageblock_nr_pages) {
        const cell = cellOfPfn(v, pfn);
        if (!cell || cell.row === 0) continue;
        const y = 1 + cell.row * this.ch + 0.5;
        ctx.moveTo(X0, y);
        ctx.lineTo(X0 + v.cols * this.cw, y);
      }
      ctx.stroke();
    }
    const labelled: number[] = [];
    for (const z of zoneStarts(k)) {
      if (z.end <= v.start || z.start >= v.start + v.count) continue;
      const at = Math.max(z.start, v.start);
      const cell = cellOfPfn(v, at)!;
      const y = 1 + cell.row * this.ch;
      if (z.start > v.start) {
        ctx.strokeStyle = '#fff';
        ctx.lineWidth = 2;
        ctx.beginPath();
        ctx.moveTo(2, y);
        ctx.lineTo(X0 + v.cols * this.cw, y);
        ctx.stroke();
        ctx.lineWidth = 1;
      }
      ctx.fillStyle = '#fff';
      ctx.font = 'bold 12px system-ui, sans-serif';
      ctx.fillText(z.name, 4, y + 2);
      labelled.push(y);
    }
    ctx.font = '10px ui-monospace, monospace';
    ctx.fillStyle = '#aab';
    const every = Math.max(1, Math.ceil(28 / this.ch));
    for (let r = 0; r < rows; r += every) {
      const y = 1 + r * this.ch;
      if (labelled.some((ly) => Math.abs(ly - y) < 26)) continue;
      ctx.fillText(hex(v.start + r * v.cols), 4, y + 1);
    }
  }

  /** Outlines for the hovered cell, the pinned page and the last operation's block. */
  private overlayKey = '';
  private drawOverlay(): void {
    const key = `${this.blockRange(this.mark)}:${this.blockRange(this.pinned)}:${this.blockRange(this.hover)}:${this.view.start}:${this.cw}`;
    if (key === this.overlayKey) return;
    this.overlayKey = key;
    const ctx = sizeCanvas(this.overlay, parseFloat(this.overlay.style.width), parseFloat(this.overlay.style.height));
    ctx.clearRect(0, 0, this.overlay.width, this.overlay.height);
    if (this.mark >= 0) this.outlineBlock(ctx, this.mark, '#ff2d55', 2);
    if (this.pinned >= 0) this.outlineBlock(ctx, this.pinned, '#fff', 2);
    if (this.hover >= 0) this.outlineBlock(ctx, this.hover, '#000', 1);
  }

  /** The [first, end) pfns of the block holding pfn, as text (for change checks). */
  private blockRange(pfn: number): string {
    if (pfn < 0 || pfn >= this.head.length) return '-';
    const head = this.head[pfn]!;
    let end = head;
    while (end < this.head.length && this.head[end] === head) end++;
    return `${head}-${end}`;
  }

  /** Outline the block (buddy block, slab, allocation) holding pfn. */
  private outlineBlock(ctx: CanvasRenderingContext2D, pfn: number, color: string, width: number): void {
    if (pfn >= this.head.length) return;
    const head = this.head[pfn]!;
    let end = head;
    while (end < this.head.length && this.head[end] === head) end++;
    const v = this.view;
    ctx.strokeStyle = color;
    ctx.lineWidth = width;
    const pad = Math.max(1, width);
    for (let p = Math.max(head, v.start); p < Math.min(end, v.start + v.count); ) {
      const cell = cellOfPfn(v, p)!;
      const n = Math.min(v.cols - cell.col, end - p);
      ctx.strokeRect(X0 + cell.col * this.cw - pad / 2, 1 + cell.row * this.ch - pad / 2, n * this.cw + pad, this.ch + pad);
      p += n;
    }
  }

  private pfnAt(e: MouseEvent): number {
    const r = this.overlay.getBoundingClientRect();
    const x = e.clientX - r.left - X0;
    const y = e.clientY - r.top - 1;
    if (x < 0 || y < 0) return -1;
    return pfnAtCell(this.view, Math.floor(x / this.cw), Math.floor(y / this.ch));
  }

  private onMove(e: MouseEvent): void {
    const pfn = this.pfnAt(e);
    if (pfn === this.hover) return;
    this.hover = pfn;
    this.drawOverlay();
    if (this.pinned < 0) this.showInfo(pfn);
  }

  /** The struct page box for pfn (-1: the hint). */
  private showInfo(pfn: number): void {
    const k = this.k;
    if (!k || pfn < 0) {
      this.info.replaceChildren('Hover a page frame to see its struct page; click to keep it here.');
      return;
    }
    const pi = pageInfo(k, pfn, this.state[pfn]!);
    const rows = pi.fields.map(([n, v]) => h('tr', {}, h('th', {}, n), h('td', {}, v)));
    const head = h(
      'div',
      { class: 'pi-head' },
      h('b', {}, `pfn ${hex(pfn)}`),
      ` · ${pi.state} · zone ${pi.zone} · pageblock ${pi.pageblock}`,
      this.pinned === pfn ? ' · pinned' : '',
    );
    const open =
      pi.cache >= 0
        ? h(
            'button',
            { type: 'button', class: 'link', onclick: () => this.cb.openSlab(pi.cache, pi.slabHead) },
            `open ${k.inspect.cacheName(pi.cache) ?? ''} in the caches panel`,
          )
        : null;
    this.info.replaceChildren(head, h('table', { class: 'pi-fields' }, ...rows), open ?? '');
  }
}

/** Colours by state, and by cache for slab pages, looked up instead of computed per pixel. */
const STATE_LUT = Uint32Array.from({ length: 32 }, (_, st) => colorOf(st, -1));
const CACHE_LUT = new Uint32Array(1024);
function cacheLut(id: number): number {
  if (id < 0 || id >= CACHE_LUT.length) return colorOf(S_SLAB, id);
  let c = CACHE_LUT[id]!;
  if (c === 0) c = CACHE_LUT[id] = colorOf(S_SLAB, id);
  return c;
}

function legend(): HTMLElement {
  const sw = (color: string, label: string, cls = '') => h('span', { class: `lg ${cls}` }, h('i', { style: `background:${color}` }), label);
  const grad = Array.from({ length: 11 }, (_, o) => cssOf(colorOf(S_FREE + o, -1)));
  return h(
    'div',
    { class: 'legend' },
    h('span', { class: 'lg' }, h('i', { class: 'grad', style: `background:linear-gradient(90deg,${grad.join(',')})` }), 'free, order 0 → 10'),
    sw(cssOf(colorOf(12, -1)), 'pcp list'),
    sw(`linear-gradient(90deg,${[0, 1, 2, 3, 4].map((i) => cssOf(colorOf(S_SLAB, i * 3))).join(',')})`, 'slab (a colour per cache)'),
    sw(cssOf(colorOf(14, -1)), 'large kmalloc'),
    sw(cssOf(colorOf(15, -1)), 'alloc_pages'),
    sw(cssOf(colorOf(0, -1)), stateNames[0]!),
    h('span', { class: 'lg-sep' }, 'pageblock:'),
    ...migratetypeNames.slice(0, 4).map((n, i) => sw(cssOf(MT_COLORS[i]!), n, 'mt')),
  );
}
