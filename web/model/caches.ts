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
import type { Kernel } from '../../src/kernel.js';
import { PGTY_slab, SLAB_FROZEN, SLAB_INUSE_MASK } from '../../src/memory/page.js';
import { type SlabinfoRow, slabinfoRows } from '../../src/proc/slabinfo.js';
import {
  C_CPU_PARTIAL,
  C_CPU_PARTIAL_SLABS,
  C_FIELDS,
  C_FLAGS,
  C_INUSE,
  C_MIN_PARTIAL,
  C_NR_PARTIAL,
  C_OBJECT_SIZE,
  C_OBJECTS,
  C_OFFSET,
  C_ORDER,
  C_PARTIAL_HEAD,
  C_RED_LEFT_PAD,
  C_SIZE,
  MAX_CACHES,
  NR_SLUB_STAT_ITEMS,
  statNames,
} from '../../src/slub/slab.js';
import { SLAB_POISON, SLAB_RED_ZONE } from '../../src/slub/slab_flags.js';
import { shadowOf } from './kasan.js';

// ───────────────────────── the slabinfo table ─────────────────────────

export interface CacheRow extends SlabinfoRow {
  id: number;
  /** Pages the cache's slabs hold, in KiB (slabtop's CACHE SIZE). */
  cacheKb: number;
  /** active_objs / num_objs in percent. */
  use: number;
}

/** /proc/slabinfo's rows (newest cache first, as the kernel prints them), with ids and sizes. */
export function cacheRows(k: Kernel): CacheRow[] {
  const rows = slabinfoRows(k.slab);
  const ids = k.slab.slabCaches;
  return rows.map((r, i) => {
    const id = ids[ids.length - 1 - i]!;
    return { ...r, id, cacheKb: r.numSlabs * r.pagesperslab * 4, use: r.numObjs ? Math.floor((r.activeObjs * 100) / r.numObjs) : 0 };
  });
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

export const O_ALLOC = 0;
export const O_FREE_CPU = 1;
export const O_FREE_SLAB = 2;
export const O_QUARANTINE = 3;

export const objectStateNames = ['allocated', 'free on c->freelist', 'free on slab->freelist', 'quarantined (KASAN)'];

export type SlabWhere = 'cpu' | 'cpu-partial' | 'node-partial' | 'full';

export interface SlabView {
  pfn: number;
  order: number;
  objects: number;
  /** slab->inuse as SLUB counts it (objects on a cpu freelist count as in use). */
  inuse: number;
  frozen: boolean;
  where: SlabWhere;
  /** The CPU for a cpu slab or cpu partial slab, else -1. */
  cpu: number;
  /** Per object: O_ALLOC, O_FREE_CPU, O_FREE_SLAB, O_QUARANTINE. */
  states: Uint8Array;
  /** Object indexes on the CPU's lockless freelist, in order (cpu slab only). */
  cpuFreelist: number[];
  /** Object indexes on slab->freelist, in order. */
  slabFreelist: number[];
  /** Objects actually handed out (allocated and not quarantined). */
  handedOut: number;
  /** Bytes of each object KASAN lets one touch (null without KASAN). */
  accessible: Uint16Array | null;
  /** A freelist ran off the slab or looped: the free pointers are corrupt. */
  corrupt: boolean;
}

export interface CpuView {
  cpu: number;
  slab: SlabView | null;
  /** c->freelist as an address (0 = NULL). */
  freelist: number;
  partial: SlabView[];
}

export interface CacheGeometryView {
  name: string;
  objectSize: number;
  size: number;
  offset: number;
  inuseBytes: number;
  redLeftPad: number;
  order: number;
  objects: number;
  minPartial: number;
  cpuPartial: number;
  cpuPartialSlabs: number;
  redZone: boolean;
  poison: boolean;
}

export interface StatRow {
  name: string;
  total: number;
  perCpu: number[];
}

export interface CacheDetail {
  id: number;
  geometry: CacheGeometryView;
  cpus: CpuView[];
  nodePartial: SlabView[];
  full: SlabView[];
  /** Every slab, each once. */
  totals: { slabs: number; objects: number; inuse: number; handedOut: number; freeCpu: number; freeSlab: number; quarantined: number };
  stats: StatRow[] | null;
}

/** Slot layout of a cache. */
export function cacheGeometry(k: Kernel, id: number): CacheGeometryView {
  const cf = k.slub.cf;
  const r = id * C_FIELDS;
  const flags = cf[r + C_FLAGS]!;
  return {
    name: k.slub.caches[id]?.name ?? String(id),
    objectSize: cf[r + C_OBJECT_SIZE]!,
    size: cf[r + C_SIZE]!,
    offset: cf[r + C_OFFSET]!,
    inuseBytes: cf[r + C_INUSE]!,
    redLeftPad: cf[r + C_RED_LEFT_PAD]!,
    order: cf[r + C_ORDER]!,
    objects: cf[r + C_OBJECTS]!,
    minPartial: cf[r + C_MIN_PARTIAL]!,
    cpuPartial: cf[r + C_CPU_PARTIAL]!,
    cpuPartialSlabs: cf[r + C_CPU_PARTIAL_SLABS]!,
    redZone: (flags & SLAB_RED_ZONE) !== 0,
    poison: (flags & SLAB_POISON) !== 0,
  };
}

/** The object index of an address in a slab, or -1 if it is not an object start. */
export function objectIndex(k: Kernel, cache: number, slab: number, addr: number): number {
  const cf = k.slub.cf;
  const r = cache * C_FIELDS;
  const off = addr - slab * 4096 - cf[r + C_RED_LEFT_PAD]!;
  const size = cf[r + C_SIZE]!;
  if (off < 0 || off % size !== 0) return -1;
  const i = off / size;
  return i < k.pages.slabObjects[slab]! ? i : -1;
}

/** The address of object i of a slab. */
export function objectAddr(k: Kernel, cache: number, slab: number, i: number): number {
  const cf = k.slub.cf;
  return slab * 4096 + cf[cache * C_FIELDS + C_RED_LEFT_PAD]! + i * cf[cache * C_FIELDS + C_SIZE]!;
}

/** Walk a freelist from `head`, as object indexes of `slab`; stops on a pointer outside the slab or a loop. */
function walkFreelist(k: Kernel, cache: number, slab: number, head: number, seen: Uint8Array): { list: number[]; corrupt: boolean } {
  const list: number[] = [];
  let corrupt = false;
  for (let a = head; a !== 0; ) {
    const i = objectIndex(k, cache, slab, a);
    if (i < 0 || seen[i] === 1) {
      corrupt = true;
      break;
    }
    seen[i] = 1;
    list.push(i);
    a = k.slub.getFreepointer(cache, a);
  }
  return { list, corrupt };
}

/** One slab, with its objects' states and freelists. */
export function slabView(k: Kernel, cache: number, slab: number, where: SlabWhere, cpu: number): SlabView {
  const p = k.pages;
  const objects = p.slabObjects[slab]!;
  const counters = p.slabCounters[slab]!;
  const seen = new Uint8Array(objects);
  const states = new Uint8Array(objects);
  let cpuFreelist: number[] = [];
  let corrupt = false;
  if (where === 'cpu') {
    const w = walkFreelist(k, cache, slab, k.slub.st.cpuFreelist[cpu * MAX_CACHES + cache]!, seen);
    cpuFreelist = w.list;
    corrupt ||= w.corrupt;
  }
  const w = walkFreelist(k, cache, slab, k.slub.slabFreelist(cache, slab), seen);
  corrupt ||= w.corrupt;
  for (const i of cpuFreelist) states[i] = O_FREE_CPU;
  for (const i of w.list) states[i] = O_FREE_SLAB;
  const shadow = shadowOf(k);
  let accessible: Uint16Array | null = null;
  let handedOut = 0;
  const objSize = k.slub.cf[cache * C_FIELDS + C_OBJECT_SIZE]!;
  if (shadow !== null) accessible = new Uint16Array(objects);
  for (let i = 0; i < objects; i++) {
    if (shadow !== null) {
      const a = objectAddr(k, cache, slab, i);
      const n = accessibleBytes(shadow, a, objSize);
      accessible![i] = n;
      if (states[i] === O_ALLOC) {
        const b = shadow[a >>> 3]!;
        if (b === 0xfb || b === 0xfa) states[i] = O_QUARANTINE;
      }
    }
    if (states[i] === O_ALLOC) handedOut++;
  }
  return {
    pfn: slab,
    order: p.order[slab]!,
    objects,
    inuse: counters & SLAB_INUSE_MASK,
    frozen: (counters & SLAB_FROZEN) !== 0,
    where,
    cpu,
    states,
    cpuFreelist,
    slabFreelist: w.list,
    handedOut,
    accessible,
    corrupt,
  };
}

/** Bytes from addr on that KASAN's shadow lets one access, up to max. */
export function accessibleBytes(shadow: Uint8Array, addr: number, max: number): number {
  let n = 0;
  for (let a = addr; n < max; a += 8) {
    const b = shadow[a >>> 3];
    if (b === undefined) break;
    if (b === 0) n += 8;
    else {
      if (b < 8) n += b;
      break;
    }
  }
  return Math.min(n, max);
}

/** Everything the cache panel shows about one cache. */
export function cacheDetail(k: Kernel, id: number): CacheDetail {
  const st = k.slub.st;
  const p = k.pages;
  const cf = k.slub.cf;
  const placed = new Set<number>();
  const cpus: CpuView[] = [];
  for (let cpu = 0; cpu < st.cpus; cpu++) {
    const i = cpu * MAX_CACHES + id;
    const cs = st.cpuSlab[i]!;
    const slab = cs >= 0 ? slabView(k, id, cs, 'cpu', cpu) : null;
    if (cs >= 0) placed.add(cs);
    const partial: SlabView[] = [];
    let guard = p.nr;
    for (let s = st.cpuPartial[i]!; s >= 0 && guard-- > 0; s = p.slabNext[s]!) {
      partial.push(slabView(k, id, s, 'cpu-partial', cpu));
      placed.add(s);
    }
    cpus.push({ cpu, slab, freelist: st.cpuFreelist[i]!, partial });
  }
  const nodePartial: SlabView[] = [];
  let guard = p.nr;
  for (let s = cf[id * C_FIELDS + C_PARTIAL_HEAD]!; s >= 0 && guard-- > 0; s = p.next[s]!) {
    nodePartial.push(slabView(k, id, s, 'node-partial', -1));
    placed.add(s);
  }
  // Full slabs are on no list (unless slub_debug keeps one): find them by scanning struct pages.
  const full: SlabView[] = [];
  for (let pfn = 0; pfn < p.nr; ) {
    if (p.pageType[pfn] === PGTY_slab) {
      if (p.slabCache[pfn] === id && !placed.has(pfn)) full.push(slabView(k, id, pfn, 'full', -1));
      pfn += 1 << p.order[pfn]!;
    } else pfn++;
  }
  const totals = { slabs: 0, objects: 0, inuse: 0, handedOut: 0, freeCpu: 0, freeSlab: 0, quarantined: 0 };
  const add = (s: SlabView) => {
    totals.slabs++;
    totals.objects += s.objects;
    totals.inuse += s.inuse;
    totals.handedOut += s.handedOut;
    totals.freeCpu += s.cpuFreelist.length;
    totals.freeSlab += s.slabFreelist.length;
    for (let i = 0; i < s.objects; i++) if (s.states[i] === O_QUARANTINE) totals.quarantined++;
  };
  for (const c of cpus) {
    if (c.slab) add(c.slab);
    c.partial.forEach(add);
  }
  nodePartial.forEach(add);
  full.forEach(add);
  return { id, geometry: cacheGeometry(k, id), cpus, nodePartial, full, totals, stats: cacheStats(k, id) };
}

/** The SLUB_STATS counters of a cache, total and per CPU (null when SLUB_STATS is off). */
export function cacheStats(k: Kernel, id: number): StatRow[] | null {
  if (!k.slub.statsOn) return null;
  const st = k.slub.st;
  return statNames.map((name, item) => {
    const perCpu: number[] = [];
    let total = 0;
    for (let cpu = 0; cpu < st.cpus; cpu++) {
      const v = st.stats[(cpu * MAX_CACHES + id) * NR_SLUB_STAT_ITEMS + item]!;
      perCpu.push(v);
      total += v;
    }
    return { name, total, perCpu };
  });
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
  return k.slub.cf[id * C_FIELDS + C_NR_PARTIAL]!;
}
