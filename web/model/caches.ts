/**
 * The caches panel's view-model: the slabinfo table (sortable, filterable)
 * and, for one cache, every slab it has, where each slab sits (a CPU's cpu
 * slab, a cpu partial list, the node partial list, or full on no list), the
 * state of each object and the free pointers in freelist order.
 *
 * An object is free on the CPU's lockless freelist (c->freelist, only for
 * the cpu slab), free on the slab's own freelist (slab->freelist, where
 * every other free lands), quarantined by KASAN (freed, poisoned, on no
 * freelist), or allocated.
 */
import type { Kernel } from '../../src/index.js';
import {
  type CacheGeometry,
  type CacheSlabs,
  type CpuSlabs,
  OBJ_ALLOCATED,
  OBJ_FREE_CPU,
  OBJ_FREE_SLAB,
  OBJ_QUARANTINED,
  type SlabinfoEntry,
  type SlabSnapshot,
  type SlabWhere,
  type SlubStatRow,
  objectStateNames as stateNames,
} from '../../src/inspect.js';

export { accessibleBytes } from '../../src/inspect.js';

// ───────────────────────── the slabinfo table ─────────────────────────

export type CacheRow = SlabinfoEntry;

/** /proc/slabinfo's rows (newest cache first, as the kernel prints them), with ids and sizes. */
export function cacheRows(k: Kernel): CacheRow[] {
  return k.inspect.slabinfo();
}

export type SortKey = 'name' | 'activeObjs' | 'numObjs' | 'objsize' | 'objperslab' | 'pagesperslab' | 'numSlabs' | 'cacheKb' | 'use';

/** Sort rows by a column (names A-Z, numbers largest first when `desc`). */
export function sortRows(rows: CacheRow[], key: SortKey, desc: boolean): CacheRow[] {
  const out = rows.slice();
  out.sort((a, b) => {
    const x = a[key];
    const y = b[key];
    const c = typeof x === 'string' ? x.localeCompare(y as string) : (x as number) - (y as number);
    return (desc ? -c : c) || a.name.localeCompare(b.name);
  });
  return out;
}

/** Rows whose name contains the filter text (case-insensitive), optionally without empty caches. */
export function filterRows(rows: CacheRow[], text: string, hideEmpty: boolean): CacheRow[] {
  const t = text.trim().toLowerCase();
  return rows.filter((r) => (!hideEmpty || r.numSlabs > 0) && (t === '' || r.name.toLowerCase().includes(t)));
}

// ───────────────────────── one cache ─────────────────────────
// The snapshots come from k.inspect (src/inspect.ts); these are the view's names for them.

export const O_ALLOC = OBJ_ALLOCATED;
export const O_FREE_CPU = OBJ_FREE_CPU;
export const O_FREE_SLAB = OBJ_FREE_SLAB;
export const O_QUARANTINE = OBJ_QUARANTINED;

export const objectStateNames = stateNames;

export type { SlabWhere };
export type SlabView = SlabSnapshot;
export type CpuView = CpuSlabs;
export type CacheGeometryView = CacheGeometry;
export type StatRow = SlubStatRow;
export type CacheDetail = CacheSlabs;

/** Slot layout of a cache. */
export function cacheGeometry(k: Kernel, id: number): CacheGeometryView {
  return k.inspect.cacheGeometry(id);
}

/** The object index of an address in a slab, or -1 if it is not an object start. */
export function objectIndex(k: Kernel, cache: number, slab: number, addr: number): number {
  return k.inspect.objectIndex(cache, slab, addr);
}

/** The address of object i of a slab. */
export function objectAddr(k: Kernel, cache: number, slab: number, i: number): number {
  return k.inspect.objectAddr(cache, slab, i);
}

/** One slab, with its objects' states and freelists. */
export function slabView(k: Kernel, cache: number, slab: number): SlabView {
  return k.inspect.slab(cache, slab);
}

/** Everything the cache panel shows about one cache. */
export function cacheDetail(k: Kernel, id: number): CacheDetail {
  return k.inspect.cacheSlabs(id);
}

/** The SLUB_STATS counters of a cache, total and per CPU (null when SLUB_STATS is off). */
export function cacheStats(k: Kernel, id: number): StatRow[] | null {
  return k.inspect.slubStats(id);
}

/** Fast-path share of allocations and frees, from the stats. */
export function fastShare(stats: StatRow[]): { alloc: number; free: number; allocs: number; frees: number } {
  const v = (n: string) => stats.find((s) => s.name === n)?.total ?? 0;
  const af = v('alloc_fastpath');
  const as = v('alloc_slowpath');
  const ff = v('free_fastpath');
  const fs = v('free_slowpath');
  return { alloc: af + as ? af / (af + as) : 0, free: ff + fs ? ff / (ff + fs) : 0, allocs: af + as, frees: ff + fs };
}

export interface Arrow {
  from: number;
  to: number;
  list: 'cpu' | 'slab';
  /** Position in the freelist, 0 for the first link. */
  seq: number;
}

/** The free pointers of a slab as arrows, in freelist order: c->freelist's first, then slab->freelist's. */
export function freelistArrows(s: SlabView): Arrow[] {
  const out: Arrow[] = [];
  for (const [list, l] of [
    ['cpu', s.cpuFreelist],
    ['slab', s.slabFreelist],
  ] as const) {
    for (let i = 0; i + 1 < l.length; i++) out.push({ from: l[i]!, to: l[i + 1]!, list, seq: i });
  }
  return out;
}

/** All slabs of a detail, each once, in the panel's order. */
export function allSlabs(d: CacheDetail): SlabView[] {
  const out: SlabView[] = [];
  for (const c of d.cpus) {
    if (c.slab) out.push(c.slab);
    out.push(...c.partial);
  }
  out.push(...d.nodePartial, ...d.full);
  return out;
}

/** How /proc/slabinfo counts this cache: num_objs, and active_objs = num_objs minus node-partial free objects. */
export function slabinfoCounts(d: CacheDetail): { numObjs: number; activeObjs: number; numSlabs: number } {
  let nodeFree = 0;
  for (const s of d.nodePartial) nodeFree += s.objects - s.inuse;
  return { numObjs: d.totals.objects, activeObjs: d.totals.objects - nodeFree, numSlabs: d.totals.slabs };
}

/** The node partial list's length as the cache keeps it (for a consistency check). */
export function nrPartial(k: Kernel, id: number): number {
  return k.inspect.cacheCounters(id).nrPartial;
}
