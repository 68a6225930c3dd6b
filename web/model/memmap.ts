/**
 * The physical memory map's view-model: one state per page frame, the
 * colours, the layout of cells on the canvas, and a page's struct page
 * fields for the hover box.
 *
 * A page's state comes from struct page the way the kernel would tell:
 * PageBuddy with its order (free), on some CPU's pcp list (walked from the
 * list heads), PageSlab with slab_cache, PageLargeKmalloc, a refcounted
 * allocation, or outside every zone (reserved, like pfn 0).
 */
import { type Kernel, pageblock_order, zoneNames } from '../../src/index.js';
import {
  CACHE_INDEX_MASK,
  migratetypeNames,
  PAGE_ALLOCATED,
  PAGE_FREE,
  PAGE_LARGE_KMALLOC,
  PAGE_PCP,
  PAGE_RESERVED,
  PAGE_SLAB,
  PAGE_UNKNOWN,
  type PcpPlace,
  pageblock_nr_pages,
  pageflagNames,
  pageTypeNames,
  type SlabWhere,
} from '../../src/inspect.js';
import { hex } from './format.js';

// Page states. Free blocks are S_FREE + order.
export const S_RESERVED = PAGE_RESERVED;
export const S_FREE = PAGE_FREE;
export const S_PCP = PAGE_PCP;
export const S_SLAB = PAGE_SLAB;
export const S_LARGE = PAGE_LARGE_KMALLOC;
export const S_ALLOC = PAGE_ALLOCATED;
export const S_UNKNOWN = PAGE_UNKNOWN;

export const stateNames: Record<number, string> = {
  [S_RESERVED]: 'reserved',
  [S_PCP]: 'pcp list',
  [S_SLAB]: 'slab',
  [S_LARGE]: 'large kmalloc',
  [S_ALLOC]: 'allocated pages',
  [S_UNKNOWN]: 'unaccounted',
};
for (let o = 0; o <= 10; o++) stateNames[S_FREE + o] = `free, order ${o}`;

/**
 * Fill `state` (one byte per pfn), `cache` (the slab cache per pfn, -1
 * elsewhere) and `head` (the block's first pfn) from k.inspect.pageStates().
 */
export function computePageStates(k: Kernel, state: Uint8Array, cache: Int32Array, head?: Int32Array): void {
  k.inspect.pageStates({ state, cache, head: head ?? new Int32Array(state.length) });
}

/** The CPU whose pcp list holds pfn, with the list's order; null if none. */
export function pcpOwner(k: Kernel, pfn: number): PcpPlace | null {
  return k.inspect.pcpPlace(pfn);
}

// ───────────────────────── colours ─────────────────────────

/** RGBA packed little-endian (as a Uint32Array over ImageData sees it: 0xAABBGGRR). */
export function rgba(r: number, g: number, b: number): number {
  return ((255 << 24) | (b << 16) | (g << 8) | r) >>> 0;
}

export function cssOf(c: number): string {
  return `rgb(${c & 255},${(c >>> 8) & 255},${(c >>> 16) & 255})`;
}

/** Free blocks: pale green for order 0 to a quiet dark green for order 10. */
const FREE_COLORS: number[] = [];
for (let o = 0; o <= 10; o++) {
  const t = o / 10;
  FREE_COLORS.push(rgba(Math.round(200 - 165 * t), Math.round(236 - 158 * t), Math.round(200 - 145 * t)));
}

export const COLOR_RESERVED = rgba(52, 52, 58);
export const COLOR_PCP = rgba(247, 200, 60);
export const COLOR_LARGE = rgba(232, 89, 12);
export const COLOR_ALLOC = rgba(141, 110, 99);
export const COLOR_UNKNOWN = rgba(255, 0, 255);

/** A slab cache's colour: hues from blue to pink, spread by the cache id. */
export function cacheColor(id: number): number {
  const hue = 195 + ((id * 47) % 140);
  const light = 0.5 + ((id * 7) % 3) * 0.08;
  return hsl(hue, 0.62, light);
}

function hsl(h: number, s: number, l: number): number {
  const a = s * Math.min(l, 1 - l);
  const f = (n: number) => {
    const kk = (n + h / 30) % 12;
    return Math.round(255 * (l - a * Math.max(-1, Math.min(kk - 3, 9 - kk, 1))));
  };
  return rgba(f(0), f(8), f(4));
}

/** The colour of a cell. */
export function colorOf(state: number, cache: number): number {
  if (state >= S_FREE && state <= S_FREE + 10) return FREE_COLORS[state - S_FREE]!;
  switch (state) {
    case S_PCP:
      return COLOR_PCP;
    case S_SLAB:
      return cacheColor(cache & CACHE_INDEX_MASK);
    case S_LARGE:
      return COLOR_LARGE;
    case S_ALLOC:
      return COLOR_ALLOC;
    case S_RESERVED:
      return COLOR_RESERVED;
    default:
      return COLOR_UNKNOWN;
  }
}

/** Migratetype strip colours: Unmovable, Movable, Reclaimable, HighAtomic, Isolate. */
export const MT_COLORS = [rgba(224, 49, 49), rgba(47, 158, 68), rgba(245, 159, 0), rgba(112, 72, 232), rgba(134, 142, 150)];

// ───────────────────────── layout ─────────────────────────

/** Which pfns the canvas shows and how: `cols` cells per row from `start`. */
export interface MapView {
  start: number;
  count: number;
  cols: number;
}

/** The zoom levels: columns per row (level 0 depends on the machine's size). */
export const ZOOM_COLS = [0, 128, 64, 32] as const;
/** Pageblocks shown at each zoom level other than the whole machine. */
export const ZOOM_BLOCKS = [0, 32, 4, 1] as const;

/**
 * The view at a zoom level around pfn. Level 0 is the whole machine, 256
 * pages a row (two rows a pageblock) up to 256 MiB, 512 above; level 3 is
 * one pageblock of 32 × 16 pages.
 */
export function viewAt(nrPages: number, level: number, pfn: number): MapView {
  if (level <= 0) return { start: 0, count: nrPages, cols: nrPages / 256 <= 256 ? 256 : 512 };
  const lv = Math.min(level, ZOOM_COLS.length - 1);
  const blocks = ZOOM_BLOCKS[lv]!;
  const span = blocks * pageblock_nr_pages;
  let start = Math.floor(pfn / span) * span;
  if (start + span > nrPages) start = Math.max(0, nrPages - span);
  start -= start % pageblock_nr_pages;
  return { start, count: Math.min(span, nrPages - start), cols: ZOOM_COLS[lv]! };
}

/** Rows the view needs. */
export function viewRows(v: MapView): number {
  return Math.ceil(v.count / v.cols);
}

/** The pfn of cell (col, row), or -1 outside the view. */
export function pfnAtCell(v: MapView, col: number, row: number): number {
  if (col < 0 || col >= v.cols || row < 0) return -1;
  const off = row * v.cols + col;
  return off < v.count ? v.start + off : -1;
}

/** The cell (col, row) of a pfn, or null outside the view. */
export function cellOfPfn(v: MapView, pfn: number): { col: number; row: number } | null {
  const off = pfn - v.start;
  if (off < 0 || off >= v.count) return null;
  return { col: off % v.cols, row: Math.floor(off / v.cols) };
}

/** Cell size in pixels for a canvas width and a maximum height. */
export function cellSize(v: MapView, width: number, maxHeight: number): { w: number; h: number } {
  const w = Math.max(1, Math.floor(width / v.cols));
  const rows = viewRows(v);
  const h = v.cols <= 128 ? w : Math.max(1, Math.min(w * 8, Math.floor(maxHeight / rows)));
  return { w, h };
}

/** The zone boundaries inside a view: [pfn, zone name] of each zone start. */
export function zoneStarts(k: Kernel): { zone: number; name: string; start: number; end: number }[] {
  return k.inspect.zones().map((z) => ({ zone: z.zone, name: z.name, start: z.startPfn, end: z.startPfn + z.spanned }));
}

/** The migratetype of the pageblock holding pfn. */
export function blockMigratetype(k: Kernel, pfn: number): number {
  return k.inspect.pageblockMigratetype(pfn);
}

// ───────────────────────── struct page ─────────────────────────

/** One struct page, its fields as dump_page() names them, plus where the page is. */
export interface PageInfo {
  pfn: number;
  state: string;
  zone: string;
  pageblock: string;
  fields: [string, string][];
  /** The slab cache id when the page is (part of) a slab. */
  cache: number;
  /** The slab's head pfn when the page is (part of) a slab. */
  slabHead: number;
}

/** The hover box's content for a pfn. */
export function pageInfo(k: Kernel, pfn: number, state: number): PageInfo {
  const p = k.inspect.structPage(pfn);
  const fields: [string, string][] = [];
  const flags = p.flags;
  const names = pageflagNames.filter(([bit]) => flags & (1 << bit)).map(([, n]) => n);
  fields.push(['flags', `${hex(flags)}${names.length ? `(${names.join('|')})` : ''}`]);
  const t = p.pageType;
  fields.push(['page_type', t ? (pageTypeNames[t] ?? hex(t)) : '-']);
  fields.push(['order', String(p.order)]);
  fields.push(['_refcount', String(p.refcount)]);
  fields.push(['_mapcount', String(p.mapcount - 1)]);
  if (p.compoundHead >= 0) fields.push(['compound_head', `pfn ${hex(p.compoundHead)}`]);
  if (p.isHead) fields.push(['compound_order', String(p.order)]);
  fields.push(['index', String(p.index)]);
  if (p.lruNext >= 0 || p.lruPrev >= 0) fields.push(['lru', `next ${lnk(p.lruNext)} prev ${lnk(p.lruPrev)}`]);
  let cache = -1;
  let slabHead = -1;
  const sl = p.slab;
  if (sl !== null) {
    slabHead = sl.head;
    cache = sl.cache;
    fields.push(['slab_cache', k.inspect.cacheName(cache) ?? String(cache)]);
    fields.push(['inuse/objects', `${sl.inuse}/${sl.objects}`]);
    fields.push(['frozen', sl.frozen ? '1' : '0']);
    fields.push(['freelist', sl.freelist < 0 ? 'NULL' : `object ${sl.freelist}`]);
    fields.push(['slab list', whereText(sl.where, sl.cpu)]);
  }
  if (p.largeKmallocSize > 0) fields.push(['kmalloc size', String(p.largeKmallocSize)]);
  const zone = p.zone >= 0 ? zoneNames[p.zone]! : '-';
  let st = stateNames[state] ?? '?';
  if (state === S_PCP) {
    const o = pcpOwner(k, pfn);
    if (o) st = `on CPU${o.cpu}'s pcp list (order ${o.order}, ${migratetypeNames[o.mt]})`;
  }
  return {
    pfn,
    state: st,
    zone,
    pageblock: `${pfn >>> pageblock_order} (${migratetypeNames[p.migratetype]})`,
    fields,
    cache,
    slabHead,
  };
}

function lnk(x: number): string {
  return x < 0 ? '-' : hex(x);
}

/** A slab's place in words. */
function whereText(where: SlabWhere, cpu: number): string {
  switch (where) {
    case 'cpu':
      return `CPU${cpu}'s cpu slab`;
    case 'cpu-partial':
      return `CPU${cpu}'s cpu partial list`;
    case 'node-partial':
      return 'node partial list';
    case 'full':
      return 'full (on no list)';
  }
}

/** Where a slab is: a CPU's cpu slab, a cpu partial list, the node partial list, or full. */
export function slabWhere(k: Kernel, cache: number, head: number): string {
  const w = k.inspect.slabWhere(cache, head);
  return whereText(w.where, w.cpu);
}
