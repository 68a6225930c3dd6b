/**
 * kmalloc size classes and kmalloc cache types (include/linux/slab.h,
 * mm/slab_common.c, mm/slab.h), as on x86-64 with 4 KiB pages.
 *
 *   KMALLOC_SHIFT_LOW  = 3   KMALLOC_MIN_SIZE       = 8
 *   KMALLOC_SHIFT_HIGH = 13  KMALLOC_MAX_CACHE_SIZE = 8 KiB (PAGE_SHIFT + 1: an order-1 page)
 *   KMALLOC_SHIFT_MAX  = 22  KMALLOC_MAX_SIZE       = 4 MiB (MAX_PAGE_ORDER + PAGE_SHIFT)
 *
 * Requests up to 8 KiB come from a kmalloc cache; larger ones go to the page
 * allocator (kmalloc_large). kmalloc_caches[type][index] is a 2-D table: the
 * index is a kmalloc_info[] row (index n covers 2^(n-1)+1 .. 2^n bytes, with
 * the odd rows 1 = 96 and 2 = 192), the type one of the kmalloc cache types.
 *
 * kmalloc cache types, enum kmalloc_cache_type (6.2 .. 6.18):
 *
 *   KMALLOC_NORMAL = 0                 "kmalloc-"      unaccounted, the common case
 *   KMALLOC_RANDOM_START..END          "kmalloc-rnd-NN-" 15 extra copies with
 *                                      CONFIG_RANDOM_KMALLOC_CACHES (6.6+)
 *   KMALLOC_RECLAIM                    "kmalloc-rcl-"  __GFP_RECLAIMABLE (not with SLUB_TINY)
 *   KMALLOC_DMA                        "dma-kmalloc-"  __GFP_DMA (CONFIG_ZONE_DMA)
 *   KMALLOC_CGROUP                     "kmalloc-cg-"   __GFP_ACCOUNT (CONFIG_MEMCG)
 *
 * A type whose CONFIG option is off is an alias of KMALLOC_NORMAL. A typical
 * x86-64 distro kernel (ZONE_DMA=y, MEMCG=y, RANDOM_KMALLOC_CACHES=n) has
 * NORMAL = 0, RECLAIM = 1, DMA = 2, CGROUP = 3, NR_KMALLOC_TYPES = 4: the
 * constants below. Linux 6.0 and 6.1 put CGROUP second (NORMAL, CGROUP,
 * RECLAIM, DMA); 6.2 moved it last when SLUB_TINY made RECLAIM optional.
 */

import { PAGE_SHIFT, PAGE_SIZE } from '../memory/memblock.js';
import { MAX_PAGE_ORDER } from '../page_alloc/mmzone.js';
import { type CacheGeometry, computeCacheGeometry, fls, getOrder, LINUX_VERSION_DEFAULT, LINUX_VERSION_MIN } from './calculate.js';
import { SLAB_ACCOUNT, SLAB_CACHE_DMA, SLAB_HWCACHE_ALIGN, SLAB_KMALLOC, SLAB_NO_MERGE, SLAB_NO_OBJ_EXT, SLAB_RECLAIM_ACCOUNT } from './slab_flags.js';

/** The two limits the kmalloc fast path tests, as a const enum so compiled code holds the numbers. */
export const enum KmallocConst {
  /** What kmalloc(0) returns; kfree() ignores it like NULL (ZERO_OR_NULL_PTR is <= 16). */
  ZERO_SIZE_PTR = 16,
  /** Largest request served from a kmalloc cache: 1 << KMALLOC_SHIFT_HIGH (8 KiB). */
  MAX_CACHE_SIZE = 8192,
}

/** log2 of the smallest kmalloc size. */
export const KMALLOC_SHIFT_LOW = 3;
/** Smallest kmalloc object (1 << KMALLOC_SHIFT_LOW); ARCH_KMALLOC_MINALIGN is 8 on x86-64. */
export const KMALLOC_MIN_SIZE = 1 << KMALLOC_SHIFT_LOW;
/** log2 of the largest size served by a kmalloc cache: PAGE_SHIFT + 1. */
export const KMALLOC_SHIFT_HIGH = PAGE_SHIFT + 1;
/** log2 of the largest kmalloc() size: MAX_PAGE_ORDER + PAGE_SHIFT. */
export const KMALLOC_SHIFT_MAX = MAX_PAGE_ORDER + PAGE_SHIFT;
/** Largest request served from a kmalloc cache (8 KiB); larger ones take whole pages. */
export const KMALLOC_MAX_CACHE_SIZE = KmallocConst.MAX_CACHE_SIZE;
/** Largest kmalloc() request (4 MiB). */
export const KMALLOC_MAX_SIZE = 2 ** KMALLOC_SHIFT_MAX;
/** Largest page order kmalloc_large() uses: KMALLOC_SHIFT_MAX - PAGE_SHIFT. */
export const KMALLOC_MAX_ORDER = KMALLOC_SHIFT_MAX - PAGE_SHIFT;
/** SLAB_OBJ_MIN_SIZE: KMALLOC_MIN_SIZE when it is below 16. */
export const SLAB_OBJ_MIN_SIZE = Math.min(KMALLOC_MIN_SIZE, 16);
export const ZERO_SIZE_PTR = KmallocConst.ZERO_SIZE_PTR;
/** Extra random kmalloc copies with CONFIG_RANDOM_KMALLOC_CACHES. */
export const RANDOM_KMALLOC_CACHES_NR = 15;

/** KMALLOC_NORMAL: unaccounted, non-reclaimable, non-DMA objects. */
export const KMALLOC_NORMAL = 0;
/** KMALLOC_RANDOM_START (= KMALLOC_NORMAL) in the default configuration. */
export const KMALLOC_RANDOM_START = 0;
/** KMALLOC_RANDOM_END: KMALLOC_RANDOM_START + 0 without CONFIG_RANDOM_KMALLOC_CACHES. */
export const KMALLOC_RANDOM_END = 0;
/** KMALLOC_RECLAIM: __GFP_RECLAIMABLE objects. */
export const KMALLOC_RECLAIM = 1;
/** KMALLOC_DMA: __GFP_DMA objects. */
export const KMALLOC_DMA = 2;
/** KMALLOC_CGROUP: __GFP_ACCOUNT objects. */
export const KMALLOC_CGROUP = 3;
/** NR_KMALLOC_TYPES in the default configuration. */
export const NR_KMALLOC_TYPES = 4;

/** The name of a kmalloc type, as the kernel's enumerator. */
export type KmallocTypeName = 'KMALLOC_NORMAL' | 'KMALLOC_RANDOM' | 'KMALLOC_RECLAIM' | 'KMALLOC_DMA' | 'KMALLOC_CGROUP';

/** Cache-name prefix of each kmalloc type (`kmalloc-rnd-NN-` for random copy NN). */
export const KMALLOC_TYPE_PREFIX: Readonly<Record<Exclude<KmallocTypeName, 'KMALLOC_RANDOM'>, string>> = {
  KMALLOC_NORMAL: 'kmalloc-',
  KMALLOC_RECLAIM: 'kmalloc-rcl-',
  KMALLOC_DMA: 'dma-kmalloc-',
  KMALLOC_CGROUP: 'kmalloc-cg-',
};

/** One row of kmalloc_info[]: the object size and the short name used in cache names. */
export interface KmallocInfo {
  /** Object size in bytes (0 for the unused row 0). */
  readonly size: number;
  /** Size as it appears in names: '8', '96', '1k', '2M'. */
  readonly shortSize: string;
  /** The KMALLOC_NORMAL cache name: 'kmalloc-96', 'kmalloc-1k'. */
  readonly name: string;
}

/** Short size as INIT_KMALLOC_INFO spells it: bytes below 1024, then k, then M. */
function shortSizeOf(size: number): string {
  if (size >= 1 << 20) return `${size >> 20}M`;
  if (size >= 1 << 10) return `${size >> 10}k`;
  return String(size);
}

/**
 * kmalloc_info[] (mm/slab_common.c): index -> size and name, rows 0..21.
 * Row 0 is unused, 1 is 96, 2 is 192, and row n >= 3 is 2^n bytes, up to
 * kmalloc-2M (what __kmalloc_index() can return); x86-64 creates caches for
 * rows 1..13 only (up to KMALLOC_SHIFT_HIGH).
 */
export const kmalloc_info: readonly KmallocInfo[] = Object.freeze(
  [0, 96, 192, ...Array.from({ length: 19 }, (_, i) => 2 ** (i + 3))].map((size) =>
    Object.freeze({ size, shortSize: shortSizeOf(size), name: `kmalloc-${shortSizeOf(size)}` }),
  ),
);

/**
 * kmalloc_size_index[24] (mm/slab_common.c): kmalloc_info row for each 8-byte
 * step of sizes 1..192, indexed by size_index_elem(size) = (size - 1) / 8.
 * Rule: 1-8 -> 3 (8), 9-16 -> 4 (16), 17-32 -> 5 (32), 33-64 -> 6 (64),
 * 65-96 -> 1 (96), 97-128 -> 7 (128), 129-192 -> 2 (192).
 * setup_kmalloc_cache_index_table() changes nothing on x86-64 (KMALLOC_MIN_SIZE 8).
 */
export const kmallocSizeIndex: readonly number[] = Object.freeze([3, 4, 5, 5, 6, 6, 6, 6, 1, 1, 1, 1, 7, 7, 7, 7, 2, 2, 2, 2, 2, 2, 2, 2]);

/** size_index_elem() (mm/slab.h): the kmalloc_size_index[] slot of a size 1..192. Rule: (size - 1) / 8. */
export function sizeIndexElem(bytes: number): number {
  checkSize(bytes, 'bytes', 192);
  if (bytes === 0) throw new RangeError('bytes must be at least 1');
  return Math.floor((bytes - 1) / 8);
}

/**
 * The kmalloc_info row kmalloc_slab() (mm/slab.h) picks for a request.
 * Rule: sizes 1..192 go through kmalloc_size_index[]; larger sizes up to
 * KMALLOC_MAX_CACHE_SIZE use fls(size - 1), the next power of two. Size 0 is
 * ZERO_SIZE_PTR and never reaches a cache, so it is an error here, as is
 * anything above 8 KiB (kmalloc_large's job).
 */
export function kmallocSlabIndex(size: number): number {
  checkSize(size, 'size', KMALLOC_MAX_CACHE_SIZE);
  if (size === 0) throw new RangeError('size must be at least 1: kmalloc(0) returns ZERO_SIZE_PTR');
  if (size <= 192) return kmallocSizeIndex[sizeIndexElem(size)]!;
  return fls(size - 1);
}

/**
 * __kmalloc_index() (include/linux/slab.h): the kmalloc_info row of a
 * compile-time constant size.
 * Rule: 0 -> 0; <= KMALLOC_MIN_SIZE -> KMALLOC_SHIFT_LOW; 65..96 -> 1;
 * 129..192 -> 2; otherwise n with 2^(n-1) < size <= 2^n, up to 2 MiB (21).
 * The kernel BUG()s above 2 MiB; here that is a RangeError.
 */
export function kmallocIndex(size: number): number {
  checkSize(size, 'size', 2 * 1024 * 1024);
  if (size === 0) return 0;
  if (size <= KMALLOC_MIN_SIZE) return KMALLOC_SHIFT_LOW;
  if (size > 64 && size <= 96) return 1;
  if (size > 128 && size <= 192) return 2;
  return fls(size - 1);
}

/**
 * kmalloc_size_roundup() (mm/slab_common.c): the bytes a kmalloc(size) really gets.
 * Rule: 1..8 KiB -> the object_size of the kmalloc cache kmalloc_slab() picks;
 * up to KMALLOC_MAX_SIZE -> PAGE_SIZE << get_order(size); 0 and anything
 * larger come back unchanged (kmalloc(0) is ZERO_SIZE_PTR, huge sizes fail).
 */
export function kmallocSizeRoundup(size: number): number {
  checkSize(size, 'size', Number.MAX_SAFE_INTEGER);
  if (size !== 0 && size <= KMALLOC_MAX_CACHE_SIZE) return kmalloc_info[kmallocSlabIndex(size)]!.size;
  if (size !== 0 && size <= KMALLOC_MAX_SIZE) return PAGE_SIZE * 2 ** getOrder(size);
  return size;
}

/** Kernel configuration and version that decide which kmalloc caches exist. */
export interface KmallocConfig {
  /** Linux version code (major * 100 + minor), 600 .. 618; default 618. */
  version?: number;
  /** CONFIG_MEMCG (CONFIG_MEMCG_KMEM before 6.10) and kmem accounting on: kmalloc-cg-*. Default true. */
  memcg?: boolean;
  /** CONFIG_ZONE_DMA: dma-kmalloc-*. Default true (x86-64). */
  zoneDma?: boolean;
  /** CONFIG_RANDOM_KMALLOC_CACHES (6.6+): kmalloc-rnd-01..15-*. Default false. */
  randomKmallocCaches?: boolean;
  /** CONFIG_SLUB_TINY: no kmalloc-rcl-* (they alias kmalloc-*). Default false. */
  slubTiny?: boolean;
}

/** One kmalloc cache type that exists in a configuration. */
export interface KmallocType {
  /** Enum value in this configuration. */
  readonly type: number;
  readonly typeName: KmallocTypeName;
  /** For KMALLOC_RANDOM: the copy number 1..15; 0 otherwise. */
  readonly randomCopy: number;
  /** Cache-name prefix, e.g. 'kmalloc-cg-' or 'kmalloc-rnd-03-'. */
  readonly prefix: string;
  /** Flags new_kmalloc_cache() gives caches of this type (SLAB_KMALLOC included). */
  readonly flags: number;
}

/**
 * The kmalloc cache types of a configuration in enum order, which is the
 * order create_kmalloc_caches() walks them. Aliased types (config off) are
 * left out.
 * Rule for flags (new_kmalloc_cache(), 6.10+): RECLAIM gets
 * SLAB_RECLAIM_ACCOUNT, CGROUP SLAB_ACCOUNT, DMA SLAB_CACHE_DMA; random copies
 * get SLAB_NO_MERGE; KMALLOC_NORMAL gets SLAB_NO_MERGE when memcg is on (from
 * 6.5, when SLAB_NO_MERGE appeared; before that the same effect came from
 * refcount = -1); create_kmalloc_cache() adds SLAB_KMALLOC to all.
 */
export function kmallocTypes(config: KmallocConfig = {}): KmallocType[] {
  const { version, memcg, zoneDma, random, slubTiny } = readConfig(config);
  const types: KmallocType[] = [];
  const noMerge = version >= 605 ? SLAB_NO_MERGE : 0;
  const add = (typeName: KmallocTypeName, prefix: string, flags: number, randomCopy = 0): void => {
    types.push(Object.freeze({ type: types.length, typeName, randomCopy, prefix, flags: flags | SLAB_KMALLOC }));
  };
  add('KMALLOC_NORMAL', KMALLOC_TYPE_PREFIX.KMALLOC_NORMAL, memcg || random ? noMerge : 0);
  if (version < 602) {
    if (memcg) add('KMALLOC_CGROUP', KMALLOC_TYPE_PREFIX.KMALLOC_CGROUP, SLAB_ACCOUNT);
    add('KMALLOC_RECLAIM', KMALLOC_TYPE_PREFIX.KMALLOC_RECLAIM, SLAB_RECLAIM_ACCOUNT);
    if (zoneDma) add('KMALLOC_DMA', KMALLOC_TYPE_PREFIX.KMALLOC_DMA, SLAB_CACHE_DMA);
    return types;
  }
  if (random) {
    for (let n = 1; n <= RANDOM_KMALLOC_CACHES_NR; n++) {
      add('KMALLOC_RANDOM', `kmalloc-rnd-${String(n).padStart(2, '0')}-`, SLAB_NO_MERGE, n);
    }
  }
  if (!slubTiny) add('KMALLOC_RECLAIM', KMALLOC_TYPE_PREFIX.KMALLOC_RECLAIM, SLAB_RECLAIM_ACCOUNT);
  if (zoneDma) add('KMALLOC_DMA', KMALLOC_TYPE_PREFIX.KMALLOC_DMA, SLAB_CACHE_DMA);
  if (memcg) add('KMALLOC_CGROUP', KMALLOC_TYPE_PREFIX.KMALLOC_CGROUP, SLAB_ACCOUNT);
  return types;
}

/** One cache create_kmalloc_caches() creates. */
export interface KmallocCacheSpec {
  /** Enum value of its kmalloc type in the configuration. */
  readonly type: number;
  readonly typeName: KmallocTypeName;
  /** kmalloc_info[] row (kmalloc_caches[type][index]). */
  readonly index: number;
  /** Cache name, e.g. 'kmalloc-rcl-96', 'dma-kmalloc-8k'. */
  readonly name: string;
  /** object_size. */
  readonly size: number;
  /** Creation flags (SLAB_KMALLOC plus the type's flags). */
  readonly flags: number;
}

/**
 * create_kmalloc_caches() (mm/slab_common.c): every kmalloc cache in creation order.
 * Rule (6.10+): for each type in enum order, first the two non-power-of-two
 * caches kmalloc-96 (row 1) and kmalloc-192 (row 2), then rows
 * KMALLOC_SHIFT_LOW..KMALLOC_SHIFT_HIGH (8 .. 8k). Before 6.10 the odd sizes
 * were created right after their power-of-two neighbours: 8, 16, 32, 64, 96,
 * 128, 192, 256, ... The slab_caches list is LIFO, so /proc/slabinfo shows
 * this list backwards: the last cache created (dma-kmalloc-8k or
 * kmalloc-cg-8k) is the first kmalloc row.
 */
export function kmallocCreationOrder(config: KmallocConfig = {}): KmallocCacheSpec[] {
  const { version } = readConfig(config);
  const rows: number[] = [];
  if (version >= 610) {
    rows.push(1, 2);
    for (let i = KMALLOC_SHIFT_LOW; i <= KMALLOC_SHIFT_HIGH; i++) rows.push(i);
  } else {
    for (let i = KMALLOC_SHIFT_LOW; i <= KMALLOC_SHIFT_HIGH; i++) {
      rows.push(i);
      if (KMALLOC_MIN_SIZE <= 32 && i === 6) rows.push(1);
      if (KMALLOC_MIN_SIZE <= 64 && i === 7) rows.push(2);
    }
  }
  const specs: KmallocCacheSpec[] = [];
  for (const t of kmallocTypes(config)) {
    for (const index of rows) {
      const info = kmalloc_info[index]!;
      specs.push(
        Object.freeze({
          type: t.type,
          typeName: t.typeName,
          index,
          name: `${t.prefix}${info.shortSize}`,
          size: info.size,
          flags: t.flags,
        }),
      );
    }
  }
  return specs;
}

// ---------------------------------------------------------------------------
// Bootstrap caches: kmem_cache_node and kmem_cache (mm/slub.c kmem_cache_init)
// ---------------------------------------------------------------------------

/**
 * sizeof(struct kmem_cache_node) on x86-64 with CONFIG_SLUB_DEBUG and a 4-byte
 * spinlock_t (no lockdep): list_lock 4 + pad 4, nr_partial 8, partial 16,
 * nr_slabs 8, total_objects 8, full 16 = 64 bytes; 6.18's sheaves add
 * `struct node_barn *barn` = 72 bytes.
 * Rule: 64 before 6.18 (realdata: `kmem_cache_node 64 64 1` on 6.6 and the
 * 6.1 oracle), 72 from 6.18, which HWCACHE_ALIGN pads to a 128-byte slot.
 */
export function kmemCacheNodeObjectSize(version = LINUX_VERSION_DEFAULT): number {
  checkVersionArg(version);
  return version >= 618 ? 72 : 64;
}

/**
 * The object size create_boot_cache() gives kmem_cache:
 * offsetof(struct kmem_cache, node) + nr_node_ids * sizeof(pointer). Neither
 * NR_CPUS (cpu_slab is a per-cpu pointer) nor MAX_NUMNODES (node[] is cut to
 * nr_node_ids) enters it.
 * Rule: offsetof(node) is 216 on a Debian x86-64 6.1 kernel (measured: the
 * oracle's kmem_cache object_size is 224 with one node); 6.18 adds the
 * cpu_sheaves pointer and sheaf_capacity, 224 by the struct layout (not
 * measured). Generic KASAN adds struct kasan_cache and padding: +16 (layout
 * estimate). Any value 193..256 gives the 256-byte stride seen in realdata
 * (6.6 ChromeOS: `kmem_cache 256 16 1`).
 */
export function kmemCacheObjectSize(nrNodeIds = 1, version = LINUX_VERSION_DEFAULT, kasan = false): number {
  if (typeof nrNodeIds !== 'number' || !Number.isInteger(nrNodeIds) || nrNodeIds < 1 || nrNodeIds > 1024) {
    throw new RangeError(`nrNodeIds must be an integer from 1 to 1024, got ${String(nrNodeIds)}`);
  }
  checkVersionArg(version);
  if (typeof kasan !== 'boolean') throw new TypeError(`kasan must be a boolean, got ${typeof kasan}`);
  const offsetofNode = (version >= 618 ? 224 : 216) + (kasan ? 16 : 0);
  return offsetofNode + nrNodeIds * 8;
}

/** Machine parameters for bootCacheGeometry(). */
export interface BootCacheOptions {
  /** num_present_cpus(). */
  cpus: number;
  /** nr_node_ids (default 1). */
  nrNodeIds?: number;
  /** Linux version code; default 618. */
  version?: number;
  /** Generic KASAN. Default false. */
  kasan?: boolean;
  /** Override kmem_cache's object size (see kmemCacheObjectSize()). */
  kmemCacheObjectSize?: number;
}

/**
 * Geometry of the two caches kmem_cache_init() (mm/slub.c) creates with
 * create_boot_cache() before any other: kmem_cache_node, then kmem_cache,
 * both SLAB_HWCACHE_ALIGN | SLAB_NO_OBJ_EXT. bootstrap() then re-adds
 * kmem_cache and then kmem_cache_node to slab_caches, so /proc/slabinfo ends
 * with `kmem_cache_node` followed by `kmem_cache` (the oldest entry).
 */
export function bootCacheGeometry(opts: BootCacheOptions): { kmemCacheNode: CacheGeometry; kmemCache: CacheGeometry } {
  const version = opts.version ?? LINUX_VERSION_DEFAULT;
  const kasan = opts.kasan ?? false;
  const flags = SLAB_HWCACHE_ALIGN | SLAB_NO_OBJ_EXT;
  const common = { flags, cpus: opts.cpus, version, kasan, isBootCache: true } as const;
  return {
    kmemCacheNode: computeCacheGeometry({ ...common, objectSize: kmemCacheNodeObjectSize(version) }),
    kmemCache: computeCacheGeometry({
      ...common,
      objectSize: opts.kmemCacheObjectSize ?? kmemCacheObjectSize(opts.nrNodeIds ?? 1, version, kasan),
    }),
  };
}

// ---------------------------------------------------------------------------
// Argument checks
// ---------------------------------------------------------------------------

/** Throws unless `value` is an integer in [0, max]. */
function checkSize(value: unknown, argName: string, max: number): asserts value is number {
  if (typeof value !== 'number') throw new TypeError(`${argName} must be a number, got ${typeof value}`);
  if (!Number.isInteger(value) || value < 0 || value > max) {
    throw new RangeError(`${argName} must be an integer from 0 to ${max}, got ${String(value)}`);
  }
}

/** Throws unless `version` is a 6.x version code kmem knows. */
function checkVersionArg(version: unknown): asserts version is number {
  checkSize(version, 'version', LINUX_VERSION_DEFAULT);
  if (version < LINUX_VERSION_MIN) {
    throw new RangeError(`version must be from ${LINUX_VERSION_MIN} to ${LINUX_VERSION_DEFAULT}, got ${version}`);
  }
}

/** Validates a KmallocConfig and fills in its defaults. */
function readConfig(config: KmallocConfig): {
  version: number;
  memcg: boolean;
  zoneDma: boolean;
  random: boolean;
  slubTiny: boolean;
} {
  if (typeof config !== 'object' || config === null) throw new TypeError('config must be an object');
  const version = config.version ?? LINUX_VERSION_DEFAULT;
  checkVersionArg(version);
  const out = {
    version,
    memcg: config.memcg ?? true,
    zoneDma: config.zoneDma ?? true,
    random: config.randomKmallocCaches ?? false,
    slubTiny: config.slubTiny ?? false,
  };
  for (const [key, value] of Object.entries({
    memcg: out.memcg,
    zoneDma: out.zoneDma,
    randomKmallocCaches: out.random,
    slubTiny: out.slubTiny,
  })) {
    if (typeof value !== 'boolean') throw new TypeError(`${key} must be a boolean, got ${typeof value}`);
  }
  if (out.random && version < 606) throw new RangeError('randomKmallocCaches needs Linux 6.6 or later');
  if (out.slubTiny && version < 602) throw new RangeError('slubTiny needs Linux 6.2 or later');
  return out;
}
