/**
 * Which path an operation took, derived from counters read before and after it.
 *
 * Nothing in the engine is instrumented for the view: the SLUB_STATS counters
 * of the operation's cache (summed over CPUs), the buddy allocator's free
 * block counts per order, the pcp page counts and the vm events say what
 * happened, the way one reads /sys/kernel/slab/<cache>/alloc_fastpath and
 * /proc/vmstat around an experiment on a real machine.
 */
import { type Kernel, NR_PAGE_ORDERS, PAGE_ALLOC_COSTLY_ORDER } from '../../src/index.js';
import { slubStatNames } from '../../src/inspect.js';

/** A SLUB_STATS item's index in k.inspect.slubStatTotals(). */
function stat(name: (typeof slubStatNames)[number]): number {
  return slubStatNames.indexOf(name);
}
const ALLOC_FASTPATH = stat('alloc_fastpath');
const ALLOC_FROM_PARTIAL = stat('alloc_from_partial');
const ALLOC_REFILL = stat('alloc_refill');
const ALLOC_SLAB = stat('alloc_slab');
const ALLOC_SLOWPATH = stat('alloc_slowpath');
const CPU_PARTIAL_ALLOC = stat('cpu_partial_alloc');
const CPU_PARTIAL_DRAIN = stat('cpu_partial_drain');
const CPU_PARTIAL_FREE = stat('cpu_partial_free');
const CPU_PARTIAL_NODE = stat('cpu_partial_node');
const DEACTIVATE_BYPASS = stat('deactivate_bypass');
const DEACTIVATE_EMPTY = stat('deactivate_empty');
const DEACTIVATE_FULL = stat('deactivate_full');
const DEACTIVATE_REMOTE_FREES = stat('deactivate_remote_frees');
const DEACTIVATE_TO_HEAD = stat('deactivate_to_head');
const DEACTIVATE_TO_TAIL = stat('deactivate_to_tail');
const FREE_ADD_PARTIAL = stat('free_add_partial');
const FREE_FASTPATH = stat('free_fastpath');
const FREE_FROZEN = stat('free_frozen');
const FREE_SLAB = stat('free_slab');
const FREE_SLOWPATH = stat('free_slowpath');

// Path bits, one per thing an operation can do.
export const P_ALLOC_FAST = 1 << 0;
export const P_ALLOC_REFILL = 1 << 1;
export const P_CPU_PARTIAL = 1 << 2;
export const P_NODE_PARTIAL = 1 << 3;
export const P_NEW_SLAB = 1 << 4;
export const P_BYPASS = 1 << 5;
export const P_FREE_FAST = 1 << 6;
export const P_REMOTE_FREE = 1 << 7;
export const P_FREE_SLOW = 1 << 8;
export const P_TO_CPU_PARTIAL = 1 << 9;
export const P_CPU_PARTIAL_DRAIN = 1 << 10;
export const P_TO_NODE_PARTIAL = 1 << 11;
export const P_SLAB_FREED = 1 << 12;
export const P_DEACTIVATE = 1 << 13;
export const P_PCP_ALLOC = 1 << 14;
export const P_PCP_REFILL = 1 << 15;
export const P_PCP_FREE = 1 << 16;
export const P_PCP_DRAIN = 1 << 17;
export const P_BUDDY_SPLIT = 1 << 18;
export const P_BUDDY_MERGE = 1 << 19;
export const P_FALLBACK = 1 << 20;
export const P_ZONE_ALLOC = 1 << 21;
export const P_ZONE_FREE = 1 << 22;
export const P_QUARANTINE = 1 << 23;
export const P_REPORT = 1 << 24;
export const P_FAILED = 1 << 25;
export const P_ERROR = 1 << 26;
export const P_CPU_PARTIAL_FILL = 1 << 27;
export const P_ACCESS_OK = 1 << 28;
export const P_ALLOC_SLOW = 1 << 29;

/** The counters a path is read from. */
export class Counters {
  readonly stats = new Float64Array(slubStatNames.length);
  readonly nrFree = new Float64Array(NR_PAGE_ORDERS);
  zoneFree = 0;
  pcp = 0;
  pgalloc = 0;
  pgfree = 0;
  extfrag = 0;
  slabs = 0;
  lines = 0;

  /** Read the machine's counters; `cache` is the operation's cache or -1. */
  read(k: Kernel, cache: number): this {
    const ins = k.inspect;
    if (cache >= 0) this.stats.set(ins.slubStatTotals(cache));
    else this.stats.fill(0);
    this.slabs = cache >= 0 ? ins.cacheCounters(cache).nrSlabs : 0;
    const pc = ins.pageAllocCounters();
    for (let o = 0; o < NR_PAGE_ORDERS; o++) this.nrFree[o] = pc.nrFree[o]!;
    this.zoneFree = pc.freePages;
    this.pcp = pc.pcpPages;
    this.pgalloc = pc.pgalloc;
    this.pgfree = pc.pgfree;
    this.extfrag = pc.extfrag;
    this.lines = ins.printkLines;
    return this;
  }
}

/** What derivePath found. */
export interface PathInfo {
  bits: number;
  /** The order of the block a split started from, or -1. */
  splitFrom: number;
  /** The order a merge ended at, or -1. */
  mergeTo: number;
  /** Pages moved between a pcp list and the zone (refill or drain). */
  pcpMoved: number;
}

/**
 * The path bits between two readings. `allocOrder` is the order of the page
 * block the operation may have allocated (-1 if unknown): orders up to
 * PAGE_ALLOC_COSTLY_ORDER always go through the pcp lists.
 */
export function derivePath(b: Counters, a: Counters, allocOrder = -1): PathInfo {
  let bits = 0;
  const d = (i: number) => a.stats[i]! - b.stats[i]!;
  if (d(ALLOC_FASTPATH) > 0) bits |= P_ALLOC_FAST;
  if (d(ALLOC_REFILL) > 0) bits |= P_ALLOC_REFILL;
  if (d(CPU_PARTIAL_ALLOC) > 0) bits |= P_CPU_PARTIAL;
  if (d(ALLOC_FROM_PARTIAL) > 0) bits |= P_NODE_PARTIAL;
  if (d(CPU_PARTIAL_NODE) > 0) bits |= P_CPU_PARTIAL_FILL;
  if (d(ALLOC_SLAB) > 0) bits |= P_NEW_SLAB;
  if (d(DEACTIVATE_BYPASS) > 0) bits |= P_BYPASS;
  if (d(FREE_FASTPATH) > 0) bits |= P_FREE_FAST;
  if (d(FREE_FROZEN) > 0) bits |= P_REMOTE_FREE;
  else if (d(FREE_SLOWPATH) > 0) bits |= P_FREE_SLOW;
  if (d(CPU_PARTIAL_FREE) > 0) bits |= P_TO_CPU_PARTIAL;
  if (d(CPU_PARTIAL_DRAIN) > 0) bits |= P_CPU_PARTIAL_DRAIN;
  if (d(FREE_ADD_PARTIAL) > 0) bits |= P_TO_NODE_PARTIAL;
  if (d(FREE_SLAB) > 0 || a.slabs < b.slabs) bits |= P_SLAB_FREED;
  if (d(DEACTIVATE_FULL) + d(DEACTIVATE_EMPTY) + d(DEACTIVATE_TO_HEAD) + d(DEACTIVATE_TO_TAIL) + d(DEACTIVATE_REMOTE_FREES) > 0) {
    bits |= P_DEACTIVATE;
  }
  // A debug cache allocates every object on the slow path, straight from a slab's freelist.
  if (d(ALLOC_SLOWPATH) > 0 && (bits & (P_ALLOC_REFILL | P_CPU_PARTIAL | P_NODE_PARTIAL | P_NEW_SLAB)) === 0) bits |= P_ALLOC_SLOW;

  const dAlloc = a.pgalloc - b.pgalloc;
  const dFree = a.pgfree - b.pgfree;
  const dPcp = a.pcp - b.pcp;
  const dZone = a.zoneFree - b.zoneFree;
  let pcpMoved = 0;
  if (dAlloc > 0) {
    const viaPcp = allocOrder >= 0 && allocOrder <= PAGE_ALLOC_COSTLY_ORDER;
    if (dZone === 0 || dPcp !== 0 || viaPcp) {
      bits |= P_PCP_ALLOC;
      if (dZone < 0) {
        bits |= P_PCP_REFILL;
        pcpMoved = -dZone;
      }
    } else bits |= P_ZONE_ALLOC;
  }
  if (dFree > 0) {
    if (dPcp > -dFree && dPcp !== 0) bits |= P_PCP_FREE;
    else if (dZone > 0 && dPcp === 0) bits |= P_ZONE_FREE;
  }
  if (dZone > 0 && dPcp < 0) {
    bits |= P_PCP_DRAIN;
    pcpMoved = Math.max(pcpMoved, -dPcp);
  }
  // Free block counts per order: a split removes one high block and adds one
  // at each order below it; a merge removes blocks below and adds one above.
  let hiNeg = -1;
  let hiPos = -1;
  let loNeg = NR_PAGE_ORDERS;
  let loPos = NR_PAGE_ORDERS;
  for (let o = 0; o < NR_PAGE_ORDERS; o++) {
    const x = a.nrFree[o]! - b.nrFree[o]!;
    if (x < 0) {
      hiNeg = o;
      if (loNeg === NR_PAGE_ORDERS) loNeg = o;
    } else if (x > 0) {
      hiPos = o;
      if (loPos === NR_PAGE_ORDERS) loPos = o;
    }
  }
  let splitFrom = -1;
  let mergeTo = -1;
  if (hiNeg >= 0 && loPos < hiNeg && dZone <= 0) {
    bits |= P_BUDDY_SPLIT;
    splitFrom = hiNeg;
  }
  if (hiPos >= 0 && loNeg < hiPos && dZone >= 0) {
    bits |= P_BUDDY_MERGE;
    mergeTo = hiPos;
  }
  if (a.extfrag > b.extfrag) bits |= P_FALLBACK;
  if (a.lines !== b.lines) bits |= P_REPORT;
  return { bits, splitFrom, mergeTo, pcpMoved };
}

/** A path step as the page names it. */
export interface PathChip {
  /** Stable id, used as a CSS class and by tests. */
  id: string;
  label: string;
  /** One sentence of what it means. */
  tip: string;
  /** 'fast' | 'slow' | 'page' | 'bug': the chip's colour. */
  kind: 'fast' | 'slow' | 'page' | 'bug';
}

const CHIPS: [number, string, string, PathChip['kind'], string][] = [
  [P_ALLOC_FAST, 'fast', 'fast path', 'fast', 'popped from this CPU’s lockless freelist (c->freelist), no lock, no atomics'],
  [P_FREE_FAST, 'fast-free', 'fast path', 'fast', 'pushed on this CPU’s lockless freelist: the object belongs to its cpu slab'],
  [P_ALLOC_SLOW, 'slow', 'slow path', 'slow', 'taken on the slow path from a slab’s own freelist (a debug cache never uses the lockless one)'],
  [P_BYPASS, 'bypass', 'cpu slab full', 'slow', 'the cpu slab had no free object left: dropped without deactivate_slab (deactivate_bypass)'],
  [P_ALLOC_REFILL, 'refill', 'slab->freelist refill', 'slow', 'c->freelist was empty: took the objects remote frees had put on the cpu slab’s own freelist'],
  [P_CPU_PARTIAL, 'cpu-partial', 'cpu partial', 'slow', 'the next slab on this CPU’s partial list became the cpu slab'],
  [P_NODE_PARTIAL, 'node-partial', 'node partial', 'slow', 'took a slab from the node partial list (under the list lock)'],
  [P_CPU_PARTIAL_FILL, 'cpu-partial-fill', 'refilled cpu partial', 'slow', 'more node partial slabs moved to this CPU’s partial list'],
  [P_NEW_SLAB, 'new-slab', 'new slab', 'slow', 'no partial slab anywhere: allocate_slab() asked the buddy allocator for pages'],
  [
    P_REMOTE_FREE,
    'remote-free',
    'remote free to slab->freelist',
    'slow',
    'the slab is another CPU’s cpu slab (frozen): the object goes on the slab’s own freelist, not the lockless one',
  ],
  [P_FREE_SLOW, 'free-slow', 'slow free to slab->freelist', 'slow', 'not this CPU’s cpu slab: __slab_free() put the object on the slab’s freelist'],
  [P_TO_CPU_PARTIAL, 'to-cpu-partial', 'slab to cpu partial', 'slow', 'the slab was full and now has a free object: put on this CPU’s partial list'],
  [P_CPU_PARTIAL_DRAIN, 'cpu-partial-drain', 'cpu partial drained', 'slow', 'this CPU’s partial list was full: its slabs moved to the node partial list'],
  [P_TO_NODE_PARTIAL, 'to-node-partial', 'slab to node partial', 'slow', 'a slab went onto the node partial list'],
  [
    P_DEACTIVATE,
    'deactivate',
    'deactivate_slab',
    'slow',
    'a cpu slab was given back: its lockless freelist spliced onto slab->freelist, inuse recounted, unfrozen',
  ],
  [P_SLAB_FREED, 'slab-freed', 'empty slab freed', 'slow', 'a slab with no object in use went back to the buddy allocator'],
  [P_QUARANTINE, 'quarantine', 'KASAN quarantine', 'bug', 'KASAN kept the freed object in its quarantine: it is poisoned and not reused yet'],
  [P_PCP_ALLOC, 'pcp-alloc', 'pcp list', 'page', 'the page came from this CPU’s per-CPU page list'],
  [P_PCP_REFILL, 'pcp-refill', 'pcp refill (rmqueue_bulk)', 'page', 'the pcp list was empty: a batch of pages came from the zone’s free lists'],
  [P_ZONE_ALLOC, 'zone-alloc', 'zone free list', 'page', 'taken from the zone’s free_area under the zone lock'],
  [P_BUDDY_SPLIT, 'buddy-split', 'buddy split', 'page', 'a bigger free block was split: expand() put the unused halves back one order down each'],
  [P_FALLBACK, 'fallback', 'migratetype fallback', 'page', 'no free block of this migratetype: one was stolen from another type (__rmqueue_fallback)'],
  [P_PCP_FREE, 'pcp-free', 'freed to pcp list', 'page', 'the page went onto this CPU’s pcp list, not back to the buddy lists'],
  [P_PCP_DRAIN, 'pcp-drain', 'pcp drain', 'page', 'pages went from a pcp list back to the zone (free_pcppages_bulk)'],
  [P_ZONE_FREE, 'zone-free', 'freed to zone', 'page', 'freed straight to the zone’s free lists'],
  [P_BUDDY_MERGE, 'buddy-merge', 'buddy merge', 'page', 'the freed block merged with its free buddy, order after order'],
  [P_ACCESS_OK, 'access-ok', 'access allowed', 'fast', 'the load or store touched only bytes the shadow marks accessible'],
  [P_REPORT, 'report', 'kernel report', 'bug', 'the kernel printed a report (see the KASAN panel and dmesg)'],
  [P_FAILED, 'failed', 'allocation failed', 'bug', 'no memory: the call returned NULL'],
  [P_ERROR, 'error', 'refused', 'bug', 'the call threw: bad arguments'],
];

/** The chips of a path, in the order the kernel takes the steps. */
export function pathChips(info: { bits: number; splitFrom: number; mergeTo: number; pcpMoved: number }): PathChip[] {
  const out: PathChip[] = [];
  for (const [bit, id, label, kind, tip] of CHIPS) {
    if ((info.bits & bit) === 0) continue;
    let l = label;
    if (bit === P_BUDDY_SPLIT && info.splitFrom >= 0) l = `buddy split from order ${info.splitFrom}`;
    if (bit === P_BUDDY_MERGE && info.mergeTo >= 0) l = `buddy merge up to order ${info.mergeTo}`;
    if ((bit === P_PCP_REFILL || bit === P_PCP_DRAIN) && info.pcpMoved > 0) l = `${label}: ${info.pcpMoved} pages`;
    out.push({ id, label: l, tip, kind });
  }
  return out;
}
