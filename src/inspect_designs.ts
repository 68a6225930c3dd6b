/**
 * The slab-design part of `k.inspect` (src/inspect.ts calls these): a SLAB
 * cache's three slab lists and its array caches' objects (mm/slab.c), and a
 * SLUB cache's per-CPU sheaves and its barn (mm/slub.c, 6.18's opt-in
 * sheaves, every cache's under 7.0). SLOB's free lists are k.inspect.slob().
 *
 * Like the rest of k.inspect, every result is a fresh copy and no call here
 * changes the machine: the circular slab lists are walked through
 * pages.next by pfn, the sheaves read from their typed arrays.
 */
import type { Machine } from './init/main.js';
import { SLABS_FREE, SLABS_FULL, SLABS_PARTIAL } from './slab/slab.js';
import { KmemHandle, MAX_CACHES } from './slub/slab.js';

/** One SLAB slab: its first page and the objects it has handed out (slab->active). */
export interface SlabSlabSnapshot {
  pfn: number;
  active: number;
}

/** A SLAB cache's array caches and lists (a machine booted with `allocator: 'slab'`). */
export interface SlabListsSnapshot {
  name: string;
  objperslab: number;
  limit: number;
  batchcount: number;
  /** Each CPU's head array: the objects on it, oldest first (the top is the last). */
  cpus: { cpu: number; objects: number[]; touched: boolean }[];
  /** The node's shared array: its objects (oldest first) and its size (shared * batchcount; 0 for none). */
  shared: { objects: number[]; limit: number };
  /** slabs_partial, slabs_full, slabs_free, each from its head. */
  partial: SlabSlabSnapshot[];
  full: SlabSlabSnapshot[];
  free: SlabSlabSnapshot[];
  /** Free objects in the node's slabs, and how many it keeps before destroying free slabs. */
  freeObjects: number;
  freeLimit: number;
}

/** One sheaf: its id in the cache's sheaf table and the object pointers it holds (the top is the last). */
export interface SheafSnapshot {
  id: number;
  objects: number[];
}

/** A SLUB cache's sheaves: each CPU's main and spare, the barn's full and empty lists (head first). */
export interface SheavesSnapshot {
  name: string;
  capacity: number;
  /** each CPU's main and spare, and its rcu_free sheaf batching kfree_rcu() */
  cpus: { cpu: number; main: SheafSnapshot | null; spare: SheafSnapshot | null; rcuFree: SheafSnapshot | null }[];
  barnFull: SheafSnapshot[];
  barnEmpty: SheafSnapshot[];
}

/** The SLAB id of a handle on a SLAB machine, or -1. */
function slabIdOf(m: Machine, handle: number): number {
  const sc = m.slabCaches;
  if (sc === null) return -1;
  const e = sc.list.find((x) => x.handle === handle);
  return e === undefined ? -1 : e.id;
}

/** A SLAB cache's head arrays, shared array and lists; null when the machine is not SLAB's or the handle names no cache. */
export function slabLists(m: Machine, handle: number): SlabListsSnapshot | null {
  const id = slabIdOf(m, handle);
  if (id < 0) return null;
  const s = m.slabCaches!.s;
  const c = s.caches[id]!;
  const p = s.pages;
  const list = (l: number): SlabSlabSnapshot[] => {
    const out: SlabSlabSnapshot[] = [];
    const head = c.heads[l]!;
    if (head < 0) return out;
    let pfn = head;
    do {
      out.push({ pfn, active: p.slabCounters[pfn]! });
      pfn = p.next[pfn]!;
    } while (pfn !== head && out.length <= p.nr);
    return out;
  };
  return {
    name: c.name,
    objperslab: c.g.num,
    limit: c.limit,
    batchcount: c.batchcount,
    cpus: Array.from({ length: s.cpus }, (_, cpu) => ({
      cpu,
      objects: Array.from(c.acEntry.subarray(cpu * c.limit, cpu * c.limit + c.acAvail[cpu]!)),
      touched: c.acTouched[cpu] !== 0,
    })),
    shared: { objects: Array.from(c.sharedEntry.subarray(0, c.sharedAvail)), limit: c.sharedEntry.length },
    partial: list(SLABS_PARTIAL),
    full: list(SLABS_FULL),
    free: list(SLABS_FREE),
    freeObjects: c.freeObjects,
    freeLimit: c.freeLimit,
  };
}

/** A SLUB cache's sheaves and barn; null when the cache has none (or the machine is not SLUB's). */
export function sheavesOf(m: Machine, handle: number): SheavesSnapshot | null {
  if (m.allocator !== 'slub' || typeof handle !== 'number' || handle <= 0) return null;
  const id = handle & KmemHandle.ID_MASK;
  if (m.slab.handleOf(id) !== handle) return null;
  const sv = m.slub.sheaves;
  const sh = sv.caches[id];
  if (sh === undefined) return null;
  // a CPU's main sheaf keeps its size in pcsSize (size[] is stale while it is main)
  const sheaf = (sid: number, mainOf = -1): SheafSnapshot | null => {
    if (sid < 0) return null;
    const n = mainOf >= 0 ? sv.pcsSize[mainOf * MAX_CACHES + id]! : sh.size[sid]!;
    return { id: sid, objects: Array.from(sv.pool.subarray(sh.base[sid]!, sh.base[sid]! + n)) };
  };
  const stack = (ids: Int32Array, n: number): SheafSnapshot[] => {
    const out: SheafSnapshot[] = [];
    for (let i = n - 1; i >= 0; i--) out.push(sheaf(ids[i]!)!);
    return out;
  };
  return {
    name: m.slub.caches[id]!.name,
    capacity: sh.capacity,
    cpus: Array.from({ length: sh.main.length }, (_, cpu) => ({
      cpu,
      main: sheaf(sh.main[cpu]!, cpu),
      spare: sheaf(sh.spare[cpu]!),
      rcuFree: sheaf(sh.rcuFree[cpu]!),
    })),
    barnFull: stack(sh.barnFull, sh.nrFull),
    barnEmpty: stack(sh.barnEmpty, sh.nrEmpty),
  };
}
