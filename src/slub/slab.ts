/**
 * SLUB's state, all in typed arrays (mm/slab.h, mm/slub.c struct definitions).
 *
 * struct kmem_cache — numeric fields per cache id, rows of C_FIELDS in `cf`:
 *
 *   C_SIZE .. C_USERSIZE    geometry fixed at creation (calculate_sizes/order)
 *   C_XOR_LO, C_XOR_HI      freelist hardening: the low word of s->random with
 *                           the constant low word of swab(ptr_addr) folded in,
 *                           and the high word of s->random (0 when not hardened)
 *   C_NR_PARTIAL ..         kmem_cache_node: partial list head/tail (pfns), counts
 *
 * struct kmem_cache_cpu — per (cpu, cache), index cpu * MAX_CACHES + id:
 *
 *   cpuFreelist  u32  the lockless freelist: next free object's address, 0 = NULL
 *   cpuSlab      i32  the cpu slab (pfn of its head page), -1 = none
 *   cpuTid       u32  transaction id, bumped by TID_STEP on every change
 *   cpuPartial   i32  first cpu partial slab (pfn), chained through slabNext
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
 * so the fast path reads and decodes only the low word.
 */

/** Caches a machine can have at once (the kernel has a few hundred). */
export const MAX_CACHES = 1024;

export const C_SIZE = 0;
export const C_OBJECT_SIZE = 1;
export const C_OFFSET = 2;
export const C_INUSE = 3;
export const C_ALIGN = 4;
export const C_RED_LEFT_PAD = 5;
export const C_ORDER = 6;
export const C_OBJECTS = 7;
export const C_MIN_ORDER = 8;
export const C_MIN_OBJECTS = 9;
export const C_FLAGS = 10;
export const C_MIN_PARTIAL = 11;
export const C_CPU_PARTIAL = 12;
export const C_CPU_PARTIAL_SLABS = 13;
export const C_XOR_LO = 14;
export const C_XOR_HI = 15;
export const C_REFCOUNT = 16;
export const C_ALLOCFLAGS = 17;
export const C_USEROFFSET = 18;
export const C_USERSIZE = 19;
export const C_ALIVE = 20;
/** 1 when the cache is a debug cache (slow paths only, no cpu partial lists). */
export const C_DEBUG = 21;
// kmem_cache_node
export const C_NR_PARTIAL = 22;
export const C_PARTIAL_HEAD = 23;
export const C_PARTIAL_TAIL = 24;
export const C_NR_SLABS = 25;
export const C_TOTAL_OBJECTS = 26;
export const C_FULL_HEAD = 27;
/** Per-cache count of large... objects allocated (for slabtop-like rates): allocs and frees. */
export const C_ALLOCS = 28;
export const C_FREES = 29;
export const C_FIELDS = 30;

/** The high word of a direct-map pointer. */
export const DIRECT_MAP_HI = 0xffff8880 | 0;
/** bswap32(DIRECT_MAP_HI): the low word of swab(&fp) for any direct-map &fp. */
export const SWAB_LO = 0x8088ffff | 0;

export function bswap32(x: number): number {
  return ((x & 0xff) << 24) | ((x & 0xff00) << 8) | ((x >>> 8) & 0xff00) | (x >>> 24);
}

// CONFIG_SLUB_STATS counters (enum stat_item), in the kernel's order.
export const statNames = [
  'alloc_fastpath', 'alloc_slowpath', 'free_fastpath', 'free_slowpath', 'free_frozen', 'free_add_partial',
  'free_remove_partial', 'alloc_from_partial', 'alloc_slab', 'alloc_refill', 'alloc_node_mismatch', 'free_slab',
  'cpuslab_flush', 'deactivate_full', 'deactivate_empty', 'deactivate_to_head', 'deactivate_to_tail',
  'deactivate_remote_frees', 'deactivate_bypass', 'order_fallback', 'cmpxchg_double_cpu_fail',
  'cmpxchg_double_fail', 'cpu_partial_alloc', 'cpu_partial_free', 'cpu_partial_node', 'cpu_partial_drain',
] as const;
export const ALLOC_FASTPATH = 0;
export const ALLOC_SLOWPATH = 1;
export const FREE_FASTPATH = 2;
export const FREE_SLOWPATH = 3;
export const FREE_FROZEN = 4;
export const FREE_ADD_PARTIAL = 5;
export const FREE_REMOVE_PARTIAL = 6;
export const ALLOC_FROM_PARTIAL = 7;
export const ALLOC_SLAB = 8;
export const ALLOC_REFILL = 9;
export const ALLOC_NODE_MISMATCH = 10;
export const FREE_SLAB = 11;
export const CPUSLAB_FLUSH = 12;
export const DEACTIVATE_FULL = 13;
export const DEACTIVATE_EMPTY = 14;
export const DEACTIVATE_TO_HEAD = 15;
export const DEACTIVATE_TO_TAIL = 16;
export const DEACTIVATE_REMOTE_FREES = 17;
export const DEACTIVATE_BYPASS = 18;
export const ORDER_FALLBACK = 19;
export const CMPXCHG_DOUBLE_CPU_FAIL = 20;
export const CMPXCHG_DOUBLE_FAIL = 21;
export const CPU_PARTIAL_ALLOC = 22;
export const CPU_PARTIAL_FREE = 23;
export const CPU_PARTIAL_NODE = 24;
export const CPU_PARTIAL_DRAIN = 25;
export const NR_SLUB_STAT_ITEMS = 26;

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
  readonly cpuTid: Uint32Array;
  readonly cpuPartial: Int32Array;
  /** CONFIG_SLUB_STATS: [cpu][cache][item], empty when off. */
  readonly stats: Float64Array;

  constructor(cpus: number, shared: boolean, slubStats: boolean) {
    const B = shared ? SharedArrayBuffer : ArrayBuffer;
    this.cpus = cpus;
    this.cf = new Int32Array(new B(MAX_CACHES * C_FIELDS * 4));
    const n = cpus * MAX_CACHES;
    this.cpuFreelist = new Uint32Array(new B(n * 4));
    this.cpuSlab = new Int32Array(new B(n * 4)).fill(-1);
    this.cpuTid = new Uint32Array(new B(n * 4));
    this.cpuPartial = new Int32Array(new B(n * 4)).fill(-1);
    this.stats = new Float64Array(new B(slubStats ? n * NR_SLUB_STAT_ITEMS * 8 : 0));
  }
}
