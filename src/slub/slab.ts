/**
 * SLUB's state, all in typed arrays (mm/slab.h, mm/slub.c struct definitions).
 *
 * struct kmem_cache — numeric fields per cache id, rows of CF.FIELDS in `cf`:
 *
 *   CF.SIZE .. CF.USERSIZE  geometry fixed at creation (calculate_sizes/order)
 *   CF.XOR_LO, CF.XOR_HI    freelist hardening: the low word of s->random with
 *                           the constant low word of swab(ptr_addr) folded in,
 *                           and the high word of s->random (0 when not hardened)
 *   CF.NR_PARTIAL ..        kmem_cache_node: partial list head/tail (pfns), counts
 *
 * struct kmem_cache_cpu — per (cpu, cache), index cpu * MAX_CACHES + id:
 *
 *   cpuFreelist  u32  the lockless freelist: next free object's address, 0 = NULL
 *   cpuSlab      i32  the cpu slab (pfn of its head page), -1 = none
 *   cpuPartial   i32  first cpu partial slab (pfn), chained through slabNext
 *   cpuBadFp*         a corrupt free pointer met on the cpu freelist (see below)
 *
 * The kernel's kmem_cache_cpu also has a tid, read and compared with
 * this_cpu_cmpxchg_double() so that a preempted fast path notices the CPU
 * changed under it. kmem's fast path runs to its end on one CPU, so there
 * is no tid.
 *
 * A slot, as calculate_sizes() lays it out (offsets from the slot start):
 *
 *   ┌────────────┬──────────────────┬─────────┬────────────────────────────┬─────────┐
 *   │ red_left   │ object           │ right   │ metadata: free pointer if  │ padding │
 *   │ pad (Z)    │ object_size      │ redzone │ moved out, tracks (U),     │ to size │
 *   │            │ [fp mid-object]  │ (Z)     │ orig_size, KASAN meta      │         │
 *   └────────────┴──────────────────┴─────────┴────────────────────────────┴─────────┘
 *   the object pointer is slot + red_left_pad; s->offset and s->inuse count from it.
 *
 * The free pointer in a free object holds the next free object's address as
 * the kernel's 64-bit direct-map pointer, little-endian: low word = phys, high
 * word = 0xffff8880 (0 for NULL). With CONFIG_SLAB_FREELIST_HARDENED the stored
 * value is ptr ^ s->random ^ swab(&fp); on a 64-bit little-endian layout that is
 *   low  word: phys ^ random_lo ^ 0x8088ffff   (bswap32 of the map's high word)
 *   high word: hi   ^ random_hi ^ bswap32(&fp's phys)
 * so the fast path reads and decodes only the low word, and takes it only
 * when it points into the object's own slab block (CF.SLAB_SHIFT). Anything
 * else -- NULL, or a pointer a use-after-free write corrupted -- goes
 * through Slub.loadFreelist, which checks both words and the object start
 * and never follows a bad one: the kernel, which does follow it, oopses on
 * the next pop, and so does kmem (cpuBadFp below, src/slub/oops.ts).
 */

export const enum SlabLimit {
  /** Caches a machine can have at once (the kernel has a few hundred). */
  MAX_CACHES = 1024,
}
export const MAX_CACHES = SlabLimit.MAX_CACHES;

/**
 * The fields of a cache's row in cf. A const enum so that tsc writes the
 * numbers into the compiled fast paths: an imported `const` costs a load and
 * a hole check at every use. It is the one spelling of these fields.
 */
export const enum CF {
  SIZE = 0,
  OBJECT_SIZE = 1,
  OFFSET = 2,
  INUSE = 3,
  ALIGN = 4,
  RED_LEFT_PAD = 5,
  ORDER = 6,
  OBJECTS = 7,
  MIN_ORDER = 8,
  MIN_OBJECTS = 9,
  FLAGS = 10,
  MIN_PARTIAL = 11,
  CPU_PARTIAL = 12,
  CPU_PARTIAL_SLABS = 13,
  XOR_LO = 14,
  XOR_HI = 15,
  REFCOUNT = 16,
  ALLOCFLAGS = 17,
  USEROFFSET = 18,
  USERSIZE = 19,
  ALIVE = 20,
  /** 1 when the cache is a debug cache (slow paths only, no cpu partial lists). */
  DEBUG = 21,
  // kmem_cache_node
  NR_PARTIAL = 22,
  PARTIAL_HEAD = 23,
  PARTIAL_TAIL = 24,
  NR_SLABS = 25,
  TOTAL_OBJECTS = 26,
  FULL_HEAD = 27,
  /**
   * Objects allocated and freed, for slabtop-like rates: what the 7.0 paths
   * count; 6.18's count per CPU (SlabState.cpuAllocs, cpuFrees), and
   * Slub.allocsOf / freesOf add both up.
   */
  ALLOCS = 28,
  FREES = 29,
  /**
   * off / size for off < 2^15 (any offset in a slab of order <= 3) as
   * (off * RECIP_MUL) >>> RECIP_SHIFT (reciprocalIndex): RECIP_MUL = ceil(2^k / size)
   * with k = 15 + ceil(log2 size) is exact there and keeps the product below
   * 2^31 (reciprocal_divide()'s idea, in int32).
   */
  RECIP_MUL = 30,
  RECIP_SHIFT = 31,
  /**
   * bswap32(DirectMap.HI ^ XOR_HI): the free pointer's high word written
   * big-endian is then this ^ &fp, with no byte swap at run time (hardened only).
   */
  FP_HI_BE = 32,
  /**
   * 12 + order: a slab is a naturally aligned block of 2^order pages, so a
   * free pointer of the cache's slabs shares obj's bits from here up. The
   * fast path pops only such a pointer ((next ^ obj) >>> SLAB_SHIFT === 0);
   * anything else, NULL included, takes loadFreelist, which checks it.
   */
  SLAB_SHIFT = 33,
  /**
   * The cache's handle (KmemHandle): id | serial << 12, serial unique per
   * creation in this JavaScript realm; 0 once the cache is released. A
   * handle is live when the word in its id's row is the handle itself.
   */
  HANDLE = 34,
  /**
   * s->sheaf_capacity (6.18, kmem_cache_args.sheaf_capacity): nonzero when
   * the cache has per-CPU sheaves (src/slub/sheaf.ts), decided at creation.
   */
  SHEAF_CAPACITY = 35,
  /**
   * The red_left_pad slabFreeFast reads: RED_LEFT_PAD, or for a cache with
   * sheaves RED_LEFT_PAD + 2^30, which no object offset matches, so its
   * frees leave the lockless path for slab_free() and free_to_pcs() at no
   * cost to the caches without sheaves.
   */
  FAST_FREE_PAD = 36,
  FIELDS = 37,
}

/**
 * A kmem_cache handle as users hold it: the id in the low 12 bits and a
 * creation serial above, so that a handle of a destroyed cache (whose id a
 * new cache took) or of another booted kernel matches no row's CF.HANDLE.
 * Serials run 1 .. 2^19 - 1 and wrap, keeping every handle a positive int32.
 */
export const enum KmemHandle {
  ID_BITS = 12,
  ID_MASK = 0xfff,
  SERIAL_LIMIT = 1 << 19,
}

let handleSerial = 0;

/** A fresh handle for cache id: the next serial of this realm (every booted kernel shares the counter). */
export function newHandle(id: number): number {
  handleSerial = handleSerial + 1 === KmemHandle.SERIAL_LIMIT ? 1 : handleSerial + 1;
  return id | (handleSerial << KmemHandle.ID_BITS);
}

/**
 * off / size by a cache's int32 reciprocal (CF.RECIP_MUL, CF.RECIP_SHIFT),
 * on off's low 15 bits: exact for 0 <= off < 2^15, with both products below
 * 2^31 (plain int32 multiplies); for any other off, index * size !== off,
 * which is how the object-start tests reject it.
 */
export function reciprocalIndex(off: number, mul: number, shift: number): number {
  return ((off & 0x7fff) * mul) >>> shift;
}

/**
 * The object-start test of the free paths, in one place: is `off` (an
 * address minus the slab's first object) idx * size for an idx below
 * `objects`? Exact for offsets below 2^15 (reciprocalIndex); any other
 * offset fails it, and callers that may meet one take a slower test.
 */
export function isObjectOffset(off: number, mul: number, shift: number, size: number, objects: number): boolean {
  const idx = reciprocalIndex(off, mul, shift);
  return idx * size === off && idx < objects;
}

/**
 * list_add() / list_add_tail() on a list of pfns chained through next and
 * prev (struct page's lru), whose head and tail are the words headAt and
 * tailAt of cf; tailAt < 0 for a list that keeps no tail (the full list).
 */
export function listAdd(next: Int32Array, prev: Int32Array, cf: Int32Array, headAt: number, tailAt: number, pfn: number, toTail: boolean): void {
  if (toTail) {
    const t = cf[tailAt]!;
    prev[pfn] = t;
    next[pfn] = -1;
    if (t < 0) cf[headAt] = pfn;
    else next[t] = pfn;
    cf[tailAt] = pfn;
  } else {
    const h = cf[headAt]!;
    next[pfn] = h;
    prev[pfn] = -1;
    if (h >= 0) prev[h] = pfn;
    else if (tailAt >= 0) cf[tailAt] = pfn;
    cf[headAt] = pfn;
  }
}

/** list_del() of pfn from the list listAdd() describes, leaving its links -1. */
export function listDel(next: Int32Array, prev: Int32Array, cf: Int32Array, headAt: number, tailAt: number, pfn: number): void {
  const n = next[pfn]!;
  const pr = prev[pfn]!;
  if (pr < 0) cf[headAt] = n;
  else next[pr] = n;
  if (n >= 0) prev[n] = pr;
  else if (tailAt >= 0) cf[tailAt] = pr;
  next[pfn] = -1;
  prev[pfn] = -1;
}

/** CF.RECIP_SHIFT for an object size: 15 + ceil(log2 size). */
export function recipShift(size: number): number {
  return 15 + (32 - Math.clz32(size - 1));
}

/** CF.RECIP_MUL for an object size: ceil(2^RECIP_SHIFT / size), below 2^16. */
export function recipMul(size: number): number {
  return Math.ceil(2 ** recipShift(size) / size);
}

/** The words of a direct-map pointer, as a const enum for the fast paths. */
export const enum DirectMap {
  /** The high word of a direct-map pointer. */
  HI = 0xffff8880 | 0,
  /** bswap32(HI): the low word of swab(&fp) for any direct-map &fp. */
  SWAB_LO = 0x8088ffff | 0,
}
export const DIRECT_MAP_HI = DirectMap.HI;
export const SWAB_LO = DirectMap.SWAB_LO;

export function bswap32(x: number): number {
  return ((x & 0xff) << 24) | ((x & 0xff00) << 8) | ((x >>> 8) & 0xff00) | (x >>> 24);
}

// CONFIG_SLUB_STATS counters (6.18's enum stat_item, with the sheaf items of
// the opt-in sheaves), in the kernel's order; the sysfs file names.
export const statNames = [
  'alloc_cpu_sheaf',
  'alloc_fastpath',
  'alloc_slowpath',
  'free_cpu_sheaf',
  'free_rcu_sheaf',
  'free_rcu_sheaf_fail',
  'free_fastpath',
  'free_slowpath',
  'free_frozen',
  'free_add_partial',
  'free_remove_partial',
  'alloc_from_partial',
  'alloc_slab',
  'alloc_refill',
  'alloc_node_mismatch',
  'free_slab',
  'cpuslab_flush',
  'deactivate_full',
  'deactivate_empty',
  'deactivate_to_head',
  'deactivate_to_tail',
  'deactivate_remote_frees',
  'deactivate_bypass',
  'order_fallback',
  'cmpxchg_double_cpu_fail',
  'cmpxchg_double_fail',
  'cpu_partial_alloc',
  'cpu_partial_free',
  'cpu_partial_node',
  'cpu_partial_drain',
  'sheaf_flush',
  'sheaf_refill',
  'sheaf_alloc',
  'sheaf_free',
  'barn_get',
  'barn_get_fail',
  'barn_put',
  'barn_put_fail',
  'sheaf_prefill_fast',
  'sheaf_prefill_slow',
  'sheaf_prefill_oversize',
  'sheaf_return_fast',
  'sheaf_return_slow',
] as const;
/** enum stat_item, as a const enum for the fast paths; the plain names alias it. */
export const enum SlubStat {
  ALLOC_PCS = 0,
  ALLOC_FASTPATH = 1,
  ALLOC_SLOWPATH = 2,
  FREE_PCS = 3,
  FREE_RCU_SHEAF = 4,
  FREE_RCU_SHEAF_FAIL = 5,
  FREE_FASTPATH = 6,
  FREE_SLOWPATH = 7,
  FREE_FROZEN = 8,
  FREE_ADD_PARTIAL = 9,
  FREE_REMOVE_PARTIAL = 10,
  ALLOC_FROM_PARTIAL = 11,
  ALLOC_SLAB = 12,
  ALLOC_REFILL = 13,
  ALLOC_NODE_MISMATCH = 14,
  FREE_SLAB = 15,
  CPUSLAB_FLUSH = 16,
  DEACTIVATE_FULL = 17,
  DEACTIVATE_EMPTY = 18,
  DEACTIVATE_TO_HEAD = 19,
  DEACTIVATE_TO_TAIL = 20,
  DEACTIVATE_REMOTE_FREES = 21,
  DEACTIVATE_BYPASS = 22,
  ORDER_FALLBACK = 23,
  CMPXCHG_DOUBLE_CPU_FAIL = 24,
  CMPXCHG_DOUBLE_FAIL = 25,
  CPU_PARTIAL_ALLOC = 26,
  CPU_PARTIAL_FREE = 27,
  CPU_PARTIAL_NODE = 28,
  CPU_PARTIAL_DRAIN = 29,
  SHEAF_FLUSH = 30,
  SHEAF_REFILL = 31,
  SHEAF_ALLOC = 32,
  SHEAF_FREE = 33,
  BARN_GET = 34,
  BARN_GET_FAIL = 35,
  BARN_PUT = 36,
  BARN_PUT_FAIL = 37,
  SHEAF_PREFILL_FAST = 38,
  SHEAF_PREFILL_SLOW = 39,
  SHEAF_PREFILL_OVERSIZE = 40,
  SHEAF_RETURN_FAST = 41,
  SHEAF_RETURN_SLOW = 42,
  NR_SLUB_STAT_ITEMS = 43,
}
/**
 * 7.0's enum stat_item (after "mm/slub: cleanup and repurpose some stat
 * items"): the cpu slab's items are gone, ALLOC_FASTPATH and FREE_FASTPATH
 * now count the sheaves (6.18's ALLOC_PCS and FREE_PCS, whose files
 * alloc_cpu_sheaf and free_cpu_sheaf went away). The sysfs file names in
 * the kernel's order, and the counter of SlubStat each one reads.
 */
export const statNames70 = [
  'alloc_fastpath',
  'alloc_slowpath',
  'free_rcu_sheaf',
  'free_rcu_sheaf_fail',
  'free_fastpath',
  'free_slowpath',
  'free_add_partial',
  'free_remove_partial',
  'alloc_slab',
  'alloc_node_mismatch',
  'free_slab',
  'order_fallback',
  'cmpxchg_double_fail',
  'sheaf_flush',
  'sheaf_refill',
  'sheaf_alloc',
  'sheaf_free',
  'barn_get',
  'barn_get_fail',
  'barn_put',
  'barn_put_fail',
  'sheaf_prefill_fast',
  'sheaf_prefill_slow',
  'sheaf_prefill_oversize',
  'sheaf_return_fast',
  'sheaf_return_slow',
] as const;
export const statItems70: readonly number[] = statNames70.map((n) =>
  n === 'alloc_fastpath' ? SlubStat.ALLOC_PCS : n === 'free_fastpath' ? SlubStat.FREE_PCS : (statNames as readonly string[]).indexOf(n),
);
export const ALLOC_FASTPATH = SlubStat.ALLOC_FASTPATH;
export const ALLOC_SLOWPATH = SlubStat.ALLOC_SLOWPATH;
export const FREE_FASTPATH = SlubStat.FREE_FASTPATH;
export const FREE_SLOWPATH = SlubStat.FREE_SLOWPATH;
export const FREE_FROZEN = SlubStat.FREE_FROZEN;
export const FREE_ADD_PARTIAL = SlubStat.FREE_ADD_PARTIAL;
export const FREE_REMOVE_PARTIAL = SlubStat.FREE_REMOVE_PARTIAL;
export const ALLOC_FROM_PARTIAL = SlubStat.ALLOC_FROM_PARTIAL;
export const ALLOC_SLAB = SlubStat.ALLOC_SLAB;
export const ALLOC_REFILL = SlubStat.ALLOC_REFILL;
export const ALLOC_NODE_MISMATCH = SlubStat.ALLOC_NODE_MISMATCH;
export const FREE_SLAB = SlubStat.FREE_SLAB;
export const CPUSLAB_FLUSH = SlubStat.CPUSLAB_FLUSH;
export const DEACTIVATE_FULL = SlubStat.DEACTIVATE_FULL;
export const DEACTIVATE_EMPTY = SlubStat.DEACTIVATE_EMPTY;
export const DEACTIVATE_TO_HEAD = SlubStat.DEACTIVATE_TO_HEAD;
export const DEACTIVATE_TO_TAIL = SlubStat.DEACTIVATE_TO_TAIL;
export const DEACTIVATE_REMOTE_FREES = SlubStat.DEACTIVATE_REMOTE_FREES;
export const DEACTIVATE_BYPASS = SlubStat.DEACTIVATE_BYPASS;
export const ORDER_FALLBACK = SlubStat.ORDER_FALLBACK;
export const CMPXCHG_DOUBLE_CPU_FAIL = SlubStat.CMPXCHG_DOUBLE_CPU_FAIL;
export const CMPXCHG_DOUBLE_FAIL = SlubStat.CMPXCHG_DOUBLE_FAIL;
export const CPU_PARTIAL_ALLOC = SlubStat.CPU_PARTIAL_ALLOC;
export const CPU_PARTIAL_FREE = SlubStat.CPU_PARTIAL_FREE;
export const CPU_PARTIAL_NODE = SlubStat.CPU_PARTIAL_NODE;
export const CPU_PARTIAL_DRAIN = SlubStat.CPU_PARTIAL_DRAIN;
export const NR_SLUB_STAT_ITEMS = SlubStat.NR_SLUB_STAT_ITEMS;

/** What never changes after a cache is created: kept as a plain object by id. */
export interface CacheInfo {
  readonly id: number;
  readonly name: string;
  readonly ctor: ((addr: number) => void) | null;
  readonly ctorName: string;
  readonly isKmalloc: boolean;
  /** Names that resolved to this cache by merging (the kernel's aliases). */
  readonly aliases: string[];
  /** The sysfs directory: the name, or the unique :[flags-]NNNNNNN id of a mergeable cache. */
  sysfsName: string;
  /** Alloc/free track offsets etc. for slub_debug and KASAN, from the geometry. */
  readonly trackOffset: number;
  readonly origSizeOffset: number;
  readonly kasanAllocMetaOffset: number;
  readonly kasanFreeMetaOffset: number;
  /** Freelist randomisation: the shuffled index sequence (CONFIG_SLAB_FREELIST_RANDOM). */
  randomSeq: Int32Array | null;
  /** Where this cache's struct kmem_cache lives (an object of the kmem_cache cache), 0 before bootstrap. */
  selfAddr: number;
  /** Its struct kmem_cache_node (an object of kmem_cache_node). */
  nodeAddr: number;
}

export class SlabState {
  readonly cpus: number;
  readonly cf: Int32Array;
  readonly cpuFreelist: Uint32Array;
  readonly cpuSlab: Int32Array;
  readonly cpuPartial: Int32Array;
  /**
   * A cpu freelist whose next free pointer was found corrupt: 1 while the
   * fault is pending (the kernel would fault on the next pop), with the
   * decoded 64-bit pointer in cpuBadFp[2i] (low word) and [2i + 1] (high).
   */
  readonly cpuBadFpPending: Uint8Array;
  readonly cpuBadFp: Uint32Array;
  /** CONFIG_SLUB_STATS: [cpu][cache][item], empty when off. */
  readonly stats: Float64Array;
  /**
   * Objects allocated and freed per (cpu, cache), index cpu * MAX_CACHES +
   * id, summed on read (slabtop's rates, the virtual clock): each CPU adds
   * to its own word only, so CPU threads neither lose adds nor share a line.
   */
  readonly cpuAllocs: Int32Array;
  readonly cpuFrees: Int32Array;
  /** Slab pages per CPU: [cpu * 2] reclaimable, [cpu * 2 + 1] unreclaimable (summed on read). */
  readonly slabPages: Int32Array;

  constructor(cpus: number, shared: boolean, slubStats: boolean) {
    const B = shared ? SharedArrayBuffer : ArrayBuffer;
    this.cpus = cpus;
    this.cf = new Int32Array(new B(MAX_CACHES * CF.FIELDS * 4));
    const n = cpus * MAX_CACHES;
    this.cpuFreelist = new Uint32Array(new B(n * 4));
    this.cpuSlab = new Int32Array(new B(n * 4)).fill(-1);
    this.cpuPartial = new Int32Array(new B(n * 4)).fill(-1);
    this.cpuBadFpPending = new Uint8Array(new B(n));
    this.cpuBadFp = new Uint32Array(new B(n * 8));
    this.stats = new Float64Array(new B(slubStats ? n * NR_SLUB_STAT_ITEMS * 8 : 0));
    this.slabPages = new Int32Array(new B(cpus * 8));
    this.cpuAllocs = new Int32Array(new B(n * 4));
    this.cpuFrees = new Int32Array(new B(n * 4));
  }
}
