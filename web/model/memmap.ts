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
import type { Kernel } from '../../src/kernel.js';
import { PG_head, PG_workingset, PGTY_buddy, PGTY_large_kmalloc, PGTY_slab, pageflagNames, pageTypeNames, SLAB_FREELIST_MASK, SLAB_FREELIST_SHIFT, SLAB_FROZEN, SLAB_INUSE_MASK } from '../../src/memory/page.js';
import { MAX_NR_ZONES, MIGRATE_PCPTYPES, migratetypeNames, pageblock_nr_pages, pageblock_order, Z_PRESENT, Z_SPANNED, Z_START_PFN, zoneNames } from '../../src/page_alloc/mmzone.js';
import { NR_PCP_LISTS } from '../../src/page_alloc/page_alloc.js';
import { MAX_CACHES } from '../../src/slub/slab.js';
import { hex } from './format.js';

// Page states. Free blocks are S_FREE + order.
export const S_RESERVED = 0;
export const S_FREE = 1;
export const S_PCP = 12;
export const S_SLAB = 13;
export const S_LARGE = 14;
export const S_ALLOC = 15;
export const S_UNKNOWN = 16;

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
 * Fill `state` (one byte per pfn) and `cache` (the slab cache per pfn, -1
 * elsewhere) from the machine's struct pages and pcp lists.
 */
export function computePageStates(k: Kernel, state: Uint8Array, cache: Int32Array, head?: Int32Array): void {
  const p = k.pages;
  const pa = k.pageAlloc;
  const zs = pa.zones;
  const nr = p.nr;
  state.fill(S_RESERVED, 0, nr);
  cache.fill(-1, 0, nr);
  if (head) for (let i = 0; i < nr; i++) head[i] = i;
  for (let z = 0; z < MAX_NR_ZONES; z++) {
    if (zs.get(z, Z_PRESENT) <= 0) continue;
    const start = zs.get(z, Z_START_PFN);
    const end = Math.min(nr, start + zs.get(z, Z_SPANNED));
    let pfn = start;
    while (pfn < end) {
      const t = p.pageType[pfn]!;
      let n = 1;
      let s = S_UNKNOWN;
      if (t === PGTY_buddy) {
        const o = p.order[pfn]!;
        n = 1 << o;
        s = S_FREE + o;
      } else if (t === PGTY_slab) {
        n = 1 << p.order[pfn]!;
        s = S_SLAB;
        cache.fill(p.slabCache[pfn]!, pfn, Math.min(end, pfn + n));
      } else if (t === PGTY_large_kmalloc) {
        n = 1 << p.order[pfn]!;
        s = S_LARGE;
      } else if (p.refcount[pfn]! > 0) {
        n = 1 << p.order[pfn]!;
        s = S_ALLOC;
      }
      state.fill(s, pfn, Math.min(end, pfn + n));
      if (head) head.fill(pfn, pfn, Math.min(end, pfn + n));
      pfn += n;
    }
  }
  // Pages on pcp lists: refcount 0 and no page type; find them from the lists.
  const per = MAX_NR_ZONES * NR_PCP_LISTS;
  for (let li = 0; li < pa.cpus * per; li++) {
    const order = Math.floor((li % NR_PCP_LISTS) / MIGRATE_PCPTYPES);
    let guard = nr;
    for (let pfn = pa.pcpHead[li]!; pfn >= 0 && guard-- > 0; pfn = p.next[pfn]!) {
      state.fill(S_PCP, pfn, Math.min(nr, pfn + (1 << order)));
      if (head) head.fill(pfn, pfn, Math.min(nr, pfn + (1 << order)));
    }
  }
}

/** The CPU whose pcp list holds pfn, with the list's order; null if none. */
export function pcpOwner(k: Kernel, pfn: number): { cpu: number; order: number; mt: number } | null {
  const pa = k.pageAlloc;
  const per = MAX_NR_ZONES * NR_PCP_LISTS;
  for (let li = 0; li < pa.cpus * per; li++) {
    let guard = k.pages.nr;
    for (let x = pa.pcpHead[li]!; x >= 0 && guard-- > 0; x = k.pages.next[x]!) {
      const order = Math.floor((li % NR_PCP_LISTS) / MIGRATE_PCPTYPES);
      if (pfn >= x && pfn < x + (1 << order)) return { cpu: Math.floor(li / per), order, mt: li % MIGRATE_PCPTYPES };
    }
  }
  return null;
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
      return cacheColor(cache);
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
  const out = [];
  const zs = k.pageAlloc.zones;
  for (let z = 0; z < MAX_NR_ZONES; z++) {
    if (zs.get(z, Z_PRESENT) <= 0) continue;
    const start = zs.get(z, Z_START_PFN);
    out.push({ zone: z, name: zoneNames[z]!, start, end: start + zs.get(z, Z_SPANNED) });
  }
  return out;
}

/** The migratetype of the pageblock holding pfn. */
export function blockMigratetype(k: Kernel, pfn: number): number {
  return k.pageAlloc.zones.pageblockMt[pfn >>> pageblock_order]!;
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
  const p = k.pages;
  const head = p.compoundHead(pfn);
  const fields: [string, string][] = [];
  const flags = p.flags[pfn]!;
  const names = pageflagNames.filter(([bit]) => flags & (1 << bit)).map(([, n]) => n);
  fields.push(['flags', `${hex(flags)}${names.length ? `(${names.join('|')})` : ''}`]);
  const t = p.pageType[pfn]!;
  fields.push(['page_type', t ? pageTypeNames[t] ?? hex(t) : '-']);
  fields.push(['order', String(p.order[pfn])]);
  fields.push(['_refcount', String(p.refcount[pfn])]);
  fields.push(['_mapcount', String(p.mapcount[pfn]! - 1)]);
  if (p.head[pfn]! >= 0) fields.push(['compound_head', `pfn ${hex(p.head[pfn]!)}`]);
  if (flags & (1 << PG_head)) fields.push(['compound_order', String(p.order[pfn])]);
  fields.push(['index', String(p.index[pfn])]);
  if (p.next[pfn]! >= 0 || p.prev[pfn]! >= 0) fields.push(['lru', `next ${lnk(p.next[pfn]!)} prev ${lnk(p.prev[pfn]!)}`]);
  let cache = -1;
  let slabHead = -1;
  if (p.pageType[head] === PGTY_slab) {
    slabHead = head;
    cache = p.slabCache[head]!;
    const c = p.slabCounters[head]!;
    const fl = (c & SLAB_FREELIST_MASK) >>> SLAB_FREELIST_SHIFT;
    fields.push(['slab_cache', k.slub.caches[cache]?.name ?? String(cache)]);
    fields.push(['inuse/objects', `${c & SLAB_INUSE_MASK}/${p.slabObjects[head]}`]);
    fields.push(['frozen', c & SLAB_FROZEN ? '1' : '0']);
    fields.push(['freelist', fl === 0 ? 'NULL' : `object ${fl - 1}`]);
    fields.push(['slab list', slabWhere(k, cache, head)]);
  }
  if (p.pageType[head] === PGTY_large_kmalloc) fields.push(['kmalloc size', String(p.index[head])]);
  const zone = k.pageAlloc.zones.get(k.pageAlloc.pageZone(pfn), Z_PRESENT) > 0 ? zoneNames[k.pageAlloc.pageZone(pfn)]! : '-';
  let st = stateNames[state] ?? '?';
  if (state === S_PCP) {
    const o = pcpOwner(k, pfn);
    if (o) st = `on CPU${o.cpu}'s pcp list (order ${o.order}, ${migratetypeNames[o.mt]})`;
  }
  return {
    pfn,
    state: st,
    zone,
    pageblock: `${pfn >>> pageblock_order} (${migratetypeNames[blockMigratetype(k, pfn)]})`,
    fields,
    cache,
    slabHead,
  };
}

function lnk(x: number): string {
  return x < 0 ? '-' : hex(x);
}

/** Where a slab is: a CPU's cpu slab, a cpu partial list, the node partial list, or full. */
export function slabWhere(k: Kernel, cache: number, head: number): string {
  const st = k.slub.st;
  for (let cpu = 0; cpu < st.cpus; cpu++) {
    const i = cpu * MAX_CACHES + cache;
    if (st.cpuSlab[i] === head) return `CPU${cpu}'s cpu slab`;
    let guard = 100000;
    for (let s = st.cpuPartial[i]!; s >= 0 && guard-- > 0; s = k.pages.slabNext[s]!) if (s === head) return `CPU${cpu}'s cpu partial list`;
  }
  if (k.pages.flags[head]! & (1 << PG_workingset)) return 'node partial list';
  return 'full (on no list)';
}
