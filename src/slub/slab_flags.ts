/**
 * SLAB_* cache flags (include/linux/slab.h, mm/slab.h, mm/slab_common.c, mm/slub.c).
 *
 * Since Linux 6.10 the flags are not hand-written hex values any more: slab.h
 * numbers them with `enum _slab_flag_bits { _SLAB_CONSISTENCY_CHECKS, ... }`
 * and each SLAB_FOO is `1U << _SLAB_FOO`. Several enumerators exist only with a
 * CONFIG option, so the bit numbers depend on the configuration. kmem fixes
 * the configuration of a typical x86-64 distro kernel with the debugging
 * features kmem models:
 *
 *   CONFIG_SLUB_DEBUG=y  CONFIG_FAILSLAB=y  CONFIG_MEMCG=y  CONFIG_KASAN_GENERIC=y
 *   CONFIG_KFENCE=y  CONFIG_SLAB_OBJ_EXT=y (selected by MEMCG)  CONFIG_SLUB_TINY=n
 *   CONFIG_DEBUG_OBJECTS=n
 *
 * which gives this numbering (6.10 .. 6.18):
 *
 *   bit  flag                       bit  flag
 *    0   SLAB_CONSISTENCY_CHECKS     11   SLAB_NOLEAKTRACE
 *    1   SLAB_RED_ZONE               12   SLAB_NO_MERGE
 *    2   SLAB_POISON                 13   SLAB_FAILSLAB        (CONFIG_FAILSLAB)
 *    3   SLAB_KMALLOC                14   SLAB_ACCOUNT         (CONFIG_MEMCG)
 *    4   SLAB_HWCACHE_ALIGN          15   SLAB_KASAN           (CONFIG_KASAN_GENERIC)
 *    5   SLAB_CACHE_DMA              16   SLAB_NO_USER_FLAGS
 *    6   SLAB_CACHE_DMA32            17   SLAB_SKIP_KFENCE     (CONFIG_KFENCE)
 *    7   SLAB_STORE_USER             18   SLAB_RECLAIM_ACCOUNT (!CONFIG_SLUB_TINY)
 *    8   SLAB_PANIC                  19   __OBJECT_POISON      (slub internal)
 *    9   SLAB_TYPESAFE_BY_RCU        20   __CMPXCHG_DOUBLE     (slub internal)
 *   10   SLAB_TRACE                  21   SLAB_NO_OBJ_EXT      (CONFIG_SLAB_OBJ_EXT)
 *
 * A flag whose CONFIG option is off is `__SLAB_FLAG_UNUSED` (0) in the kernel;
 * SLAB_DEBUG_OBJECTS is such a flag here. SLAB_MEM_SPREAD was removed in 6.8
 * (defined as 0, then deleted).
 *
 * Every bit is below 31, so the masks are plain non-negative JavaScript
 * numbers and `&`, `|`, `~` work on them directly (`flags & ~X` stays
 * non-negative because every flags value we build is < 2^31). Before 6.10 the
 * two internal flags were the high bits __OBJECT_POISON = 0x80000000 and
 * __CMPXCHG_DOUBLE = 0x40000000; bit 31 would turn negative in a JS int32,
 * which is one more reason kmem uses the 6.10+ enum numbering for every
 * version it models (the numeric value of a flag is never visible to users:
 * sysfs and slabinfo print names, not bits).
 */

/** `enum _slab_flag_bits` (include/linux/slab.h) for kmem's configuration: bit numbers. */
export const _SLAB_CONSISTENCY_CHECKS = 0;
export const _SLAB_RED_ZONE = 1;
export const _SLAB_POISON = 2;
export const _SLAB_KMALLOC = 3;
export const _SLAB_HWCACHE_ALIGN = 4;
export const _SLAB_CACHE_DMA = 5;
export const _SLAB_CACHE_DMA32 = 6;
export const _SLAB_STORE_USER = 7;
export const _SLAB_PANIC = 8;
export const _SLAB_TYPESAFE_BY_RCU = 9;
export const _SLAB_TRACE = 10;
// _SLAB_DEBUG_OBJECTS would come here, with CONFIG_DEBUG_OBJECTS (off in kmem's configuration).
export const _SLAB_NOLEAKTRACE = 11;
export const _SLAB_NO_MERGE = 12;
export const _SLAB_FAILSLAB = 13;
export const _SLAB_ACCOUNT = 14;
export const _SLAB_KASAN = 15;
export const _SLAB_NO_USER_FLAGS = 16;
export const _SLAB_SKIP_KFENCE = 17;
export const _SLAB_RECLAIM_ACCOUNT = 18;
export const _SLAB_OBJECT_POISON = 19;
export const _SLAB_CMPXCHG_DOUBLE = 20;
export const _SLAB_NO_OBJ_EXT = 21;
/** One past the last flag bit. */
export const _SLAB_FLAGS_LAST_BIT = 22;

/** DEBUG: perform (expensive) checks on alloc/free (slub_debug=F). */
export const SLAB_CONSISTENCY_CHECKS = 1 << _SLAB_CONSISTENCY_CHECKS;
/** DEBUG: red zone objects in a cache (slub_debug=Z). */
export const SLAB_RED_ZONE = 1 << _SLAB_RED_ZONE;
/** DEBUG: poison objects (slub_debug=P). */
export const SLAB_POISON = 1 << _SLAB_POISON;
/** Marks a kmalloc cache (set by create_kmalloc_cache()). */
export const SLAB_KMALLOC = 1 << _SLAB_KMALLOC;
/** Align objects on cache lines. */
export const SLAB_HWCACHE_ALIGN = 1 << _SLAB_HWCACHE_ALIGN;
/** Use GFP_DMA memory. */
export const SLAB_CACHE_DMA = 1 << _SLAB_CACHE_DMA;
/** Use GFP_DMA32 memory. */
export const SLAB_CACHE_DMA32 = 1 << _SLAB_CACHE_DMA32;
/** DEBUG: store the last owner for bug hunting (slub_debug=U). */
export const SLAB_STORE_USER = 1 << _SLAB_STORE_USER;
/** Panic if kmem_cache_create() fails. */
export const SLAB_PANIC = 1 << _SLAB_PANIC;
/** Defer freeing slabs to RCU (objects may be reused at once; only the memory stays typed). */
export const SLAB_TYPESAFE_BY_RCU = 1 << _SLAB_TYPESAFE_BY_RCU;
/** Trace allocations and frees (slub_debug=T). */
export const SLAB_TRACE = 1 << _SLAB_TRACE;
/** Prevent checks on free: needs CONFIG_DEBUG_OBJECTS, which kmem's configuration lacks, so 0. */
export const SLAB_DEBUG_OBJECTS = 0;
/** Avoid kmemleak tracing. */
export const SLAB_NOLEAKTRACE = 1 << _SLAB_NOLEAKTRACE;
/** Prevent merging with compatible caches. */
export const SLAB_NO_MERGE = 1 << _SLAB_NO_MERGE;
/** Fault injection mark (CONFIG_FAILSLAB; slub_debug=A). */
export const SLAB_FAILSLAB = 1 << _SLAB_FAILSLAB;
/** Account to memcg (CONFIG_MEMCG; CONFIG_MEMCG_KMEM before 6.10). */
export const SLAB_ACCOUNT = 1 << _SLAB_ACCOUNT;
/** Set by kasan_cache_create() on caches that carry generic-KASAN metadata (CONFIG_KASAN_GENERIC). */
export const SLAB_KASAN = 1 << _SLAB_KASAN;
/** Ignore user specified debugging flags (slub_debug=...). */
export const SLAB_NO_USER_FLAGS = 1 << _SLAB_NO_USER_FLAGS;
/** Do not allocate from KFENCE (CONFIG_KFENCE). */
export const SLAB_SKIP_KFENCE = 1 << _SLAB_SKIP_KFENCE;
/** Objects are reclaimable (__GFP_RECLAIMABLE pages); unused (0) with CONFIG_SLUB_TINY. */
export const SLAB_RECLAIM_ACCOUNT = 1 << _SLAB_RECLAIM_ACCOUNT;
/** Objects are short-lived: an alias of SLAB_RECLAIM_ACCOUNT. */
export const SLAB_TEMPORARY = SLAB_RECLAIM_ACCOUNT;
/** Obsolete since 6.8 (was "spread some memory over cpuset"); always 0. */
export const SLAB_MEM_SPREAD = 0;
/** Slab created with create_boot_cache(): no slabobj_ext vector (CONFIG_SLAB_OBJ_EXT). */
export const SLAB_NO_OBJ_EXT = 1 << _SLAB_NO_OBJ_EXT;

/** mm/slub.c internal: the object itself is poisoned (POISON without ctor and without RCU). */
export const __OBJECT_POISON = 1 << _SLAB_OBJECT_POISON;
/** mm/slub.c internal: the slab freelist uses the lockless double-word cmpxchg (cmpxchg16b). */
export const __CMPXCHG_DOUBLE = 1 << _SLAB_CMPXCHG_DOUBLE;

/**
 * mm/slab.h SLAB_DEBUG_FLAGS: the flags that make a cache a debug cache
 * (no lockless fast path, no cpu partial lists, kmem_cache_debug() true).
 */
export const SLAB_DEBUG_FLAGS = SLAB_RED_ZONE | SLAB_POISON | SLAB_STORE_USER | SLAB_TRACE | SLAB_CONSISTENCY_CHECKS;

/** mm/slub.c DEBUG_DEFAULT_FLAGS: what a bare `slub_debug` turns on (F, Z, P, U). */
export const DEBUG_DEFAULT_FLAGS = SLAB_CONSISTENCY_CHECKS | SLAB_RED_ZONE | SLAB_POISON | SLAB_STORE_USER;

/**
 * mm/slub.c DEBUG_METADATA_FLAGS: debug flags that store metadata in the slot;
 * `slub_debug=O` drops them from caches whose minimum order they would raise.
 */
export const DEBUG_METADATA_FLAGS = SLAB_RED_ZONE | SLAB_POISON | SLAB_STORE_USER;

/**
 * mm/slub.c SLAB_NO_CMPXCHG: debug flags whose checks cannot run under the
 * lockless cmpxchg-double update, so such caches never get __CMPXCHG_DOUBLE.
 */
export const SLAB_NO_CMPXCHG = SLAB_CONSISTENCY_CHECKS | SLAB_STORE_USER | SLAB_TRACE;

/**
 * mm/slab_common.c SLAB_NEVER_MERGE (6.10+): a cache with any of these is never
 * merged. Before 6.10 the list ended with `SLAB_KASAN` via kasan_never_merge();
 * now kasan_cache_create() sets SLAB_NO_MERGE itself.
 */
export const SLAB_NEVER_MERGE =
  SLAB_RED_ZONE | SLAB_POISON | SLAB_STORE_USER | SLAB_TRACE | SLAB_TYPESAFE_BY_RCU | SLAB_NOLEAKTRACE | SLAB_FAILSLAB | SLAB_NO_MERGE;

/** mm/slab_common.c SLAB_MERGE_SAME: flags that must be equal for two caches to merge. */
export const SLAB_MERGE_SAME = SLAB_RECLAIM_ACCOUNT | SLAB_CACHE_DMA | SLAB_CACHE_DMA32 | SLAB_ACCOUNT;

/** mm/slab.h SLAB_CORE_FLAGS: the non-debug flags kmem_cache_create() accepts. */
export const SLAB_CORE_FLAGS =
  SLAB_HWCACHE_ALIGN |
  SLAB_CACHE_DMA |
  SLAB_CACHE_DMA32 |
  SLAB_PANIC |
  SLAB_TYPESAFE_BY_RCU |
  SLAB_DEBUG_OBJECTS |
  SLAB_NOLEAKTRACE |
  SLAB_RECLAIM_ACCOUNT |
  SLAB_TEMPORARY |
  SLAB_ACCOUNT |
  SLAB_NO_USER_FLAGS |
  SLAB_KMALLOC |
  SLAB_NO_MERGE;

/** mm/slab.h SLAB_FLAGS_PERMITTED: any other bit makes kmem_cache_create() fail with -EINVAL. */
export const SLAB_FLAGS_PERMITTED = SLAB_CORE_FLAGS | SLAB_DEBUG_FLAGS;

/** Every flag bit that exists in kmem's configuration (public and internal). */
export const SLAB_FLAGS_ALL = (1 << _SLAB_FLAGS_LAST_BIT) - 1;

/** Flags kmem_cache_create() itself never accepts but slub_debug, sysfs or boot code may set. */
export const SLAB_FLAGS_INTERNAL = __OBJECT_POISON | __CMPXCHG_DOUBLE | SLAB_KASAN;

/**
 * The letters create_unique_id() (mm/slub.c) puts before the size in the
 * sysfs name `:[flags-]%07u` of a mergeable cache. The order is fixed:
 * `d` SLAB_CACHE_DMA, `D` SLAB_CACHE_DMA32, `a` SLAB_RECLAIM_ACCOUNT,
 * `F` SLAB_CONSISTENCY_CHECKS, `A` SLAB_ACCOUNT. They cover every flag in
 * SLAB_MERGE_SAME, so two caches that may merge get the same id.
 */
export function slabFlagsToUniqueIdLetters(flags: number): string {
  checkFlagsArg(flags, 'flags');
  let letters = '';
  if (flags & SLAB_CACHE_DMA) letters += 'd';
  if (flags & SLAB_CACHE_DMA32) letters += 'D';
  if (flags & SLAB_RECLAIM_ACCOUNT) letters += 'a';
  if (flags & SLAB_CONSISTENCY_CHECKS) letters += 'F';
  if (flags & SLAB_ACCOUNT) letters += 'A';
  return letters;
}

/**
 * create_unique_id() (mm/slub.c): the sysfs directory name of a mergeable
 * cache, `:` then the flag letters and `-` if there are any, then s->size as
 * %07u. Example: `:0000064`, `:A-0000192`, `:a-0000104`.
 */
export function createUniqueId(flags: number, size: number): string {
  const letters = slabFlagsToUniqueIdLetters(flags);
  if (typeof size !== 'number' || !Number.isInteger(size) || size < 0 || size > 0xffffffff) {
    throw new RangeError(`size must be an unsigned 32-bit integer, got ${String(size)}`);
  }
  return `:${letters ? `${letters}-` : ''}${String(size).padStart(7, '0')}`;
}

/** The kernel's names of the flag bits, lowest bit first (for debugging output). */
const FLAG_NAMES: readonly [number, string][] = [
  [SLAB_CONSISTENCY_CHECKS, 'SLAB_CONSISTENCY_CHECKS'],
  [SLAB_RED_ZONE, 'SLAB_RED_ZONE'],
  [SLAB_POISON, 'SLAB_POISON'],
  [SLAB_KMALLOC, 'SLAB_KMALLOC'],
  [SLAB_HWCACHE_ALIGN, 'SLAB_HWCACHE_ALIGN'],
  [SLAB_CACHE_DMA, 'SLAB_CACHE_DMA'],
  [SLAB_CACHE_DMA32, 'SLAB_CACHE_DMA32'],
  [SLAB_STORE_USER, 'SLAB_STORE_USER'],
  [SLAB_PANIC, 'SLAB_PANIC'],
  [SLAB_TYPESAFE_BY_RCU, 'SLAB_TYPESAFE_BY_RCU'],
  [SLAB_TRACE, 'SLAB_TRACE'],
  [SLAB_NOLEAKTRACE, 'SLAB_NOLEAKTRACE'],
  [SLAB_NO_MERGE, 'SLAB_NO_MERGE'],
  [SLAB_FAILSLAB, 'SLAB_FAILSLAB'],
  [SLAB_ACCOUNT, 'SLAB_ACCOUNT'],
  [SLAB_KASAN, 'SLAB_KASAN'],
  [SLAB_NO_USER_FLAGS, 'SLAB_NO_USER_FLAGS'],
  [SLAB_SKIP_KFENCE, 'SLAB_SKIP_KFENCE'],
  [SLAB_RECLAIM_ACCOUNT, 'SLAB_RECLAIM_ACCOUNT'],
  [__OBJECT_POISON, '__OBJECT_POISON'],
  [__CMPXCHG_DOUBLE, '__CMPXCHG_DOUBLE'],
  [SLAB_NO_OBJ_EXT, 'SLAB_NO_OBJ_EXT'],
];

/** Names of the set flags joined by `|` (`0` when none), for messages and tests. */
export function slabFlagsToString(flags: number): string {
  checkFlagsArg(flags, 'flags');
  const names = FLAG_NAMES.filter(([bit]) => (flags & bit) !== 0).map(([, name]) => name);
  return names.length ? names.join('|') : '0';
}

/** Throws unless `flags` is a non-negative integer made only of kmem's flag bits. */
export function checkFlagsArg(flags: unknown, argName: string): asserts flags is number {
  if (typeof flags !== 'number') {
    throw new TypeError(`${argName} must be a number of SLAB_* bits, got ${typeof flags}`);
  }
  if (!Number.isInteger(flags) || flags < 0 || flags > SLAB_FLAGS_ALL) {
    throw new RangeError(`${argName} has bits outside the SLAB_* flags: ${String(flags)}`);
  }
}
