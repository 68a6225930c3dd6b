/**
 * SLUB cache geometry: how big a slot is, where the free pointer and the debug
 * and KASAN metadata sit in it, and how many slots a slab of which order holds.
 *
 * Every function here is pure and is named after the kernel function whose
 * rule it keeps (mm/slub.c, mm/slab_common.c, mm/kasan/generic.c). kmem models
 * Linux 6.18 on x86-64 with 4 KiB pages; a few rules changed during 6.x and
 * take a `version` (major * 100 + minor, e.g. 618 or 601) so that kmem can be
 * checked against real machines running older 6.x kernels:
 *
 *   6.2   saving orig_size (kmalloc + SLAB_STORE_USER) moves the free pointer
 *         out of the object
 *   6.7   calculate_order() lost its min_objects loop and tries up to 1/2 waste
 *   6.10  every slab is allocated with __GFP_COMP (was: only order > 0)
 *   6.11  kmalloc caches are aligned to the largest power of two dividing
 *         their size (was: every boot cache whose size is a power of two is
 *         aligned to its size); orig_size alone no longer moves the free
 *         pointer out of the object, only together with SLAB_RED_ZONE
 *   6.12  kmem_cache_args.freeptr_offset for SLAB_TYPESAFE_BY_RCU caches
 *   6.13  generic KASAN keeps its free meta out of kmalloc objects that
 *         track orig_size
 *
 * One slot, top to bottom. Slots sit back to back from slab offset 0, s->size
 * apart. Every offset in CacheGeometry counts from the object start, which is
 * the slot start plus red_left_pad. [Brackets] mark parts that only some
 * caches have.
 *
 *   slot + 0                +----------------------------------+
 *                           | [left redzone]                   | RED_ZONE: red_left_pad = ALIGN(8, align)
 *                           |                                  | bytes, 0xbb while free, 0xcc while in use
 *   object + 0              +----------------------------------+
 *                           | object                           | object_size bytes. The free pointer sits
 *                           |                                  | at `offset` inside it unless moved out;
 *                           |                                  | KASAN free meta at 0 while it is free
 *   object + object_size    +----------------------------------+
 *                           | [right redzone]                  | word-alignment slack; RED_ZONE adds a
 *                           |                                  | word if there is none
 *   object + inuse          +----------------------------------+
 *                           | [free pointer]                   | 8 B when it may not live in the object:
 *                           |                                  | RCU, ctor, POISON, RED_ZONE with a tiny
 *                           |                                  | object or with orig_size
 *   object + trackOffset    +----------------------------------+
 *                           | [track alloc][track free]        | STORE_USER: 2 x 32 B
 *   object + origSizeOffset +----------------------------------+
 *                           | [orig_size]                      | kmalloc + STORE_USER: u32 request size
 *   + kasanAllocMetaOffset  +----------------------------------+
 *                           | [KASAN alloc meta]               | 16 B
 *   + kasanFreeMetaOffset   +----------------------------------+
 *                           | [KASAN free meta]                | 16 B, when it may not live in the object
 *                           +----------------------------------+
 *                           | [KASAN redzone]                  | up to object_size + optimal_redzone()
 *                           +----------------------------------+
 *                           | [redzone word]                   | RED_ZONE: 8 B
 *                           +----------------------------------+
 *                           | padding                          | up to a multiple of s->align (0x5a)
 *   slot + size             +----------------------------------+
 */

import { PAGE_SHIFT, PAGE_SIZE } from '../memory/memblock.js';
import { MAX_PAGE_ORDER, PAGE_ALLOC_COSTLY_ORDER } from '../page_alloc/mmzone.js';
import {
  __CMPXCHG_DOUBLE,
  __OBJECT_POISON,
  checkFlagsArg,
  DEBUG_METADATA_FLAGS,
  SLAB_DEBUG_FLAGS,
  SLAB_FAILSLAB,
  SLAB_FLAGS_PERMITTED,
  SLAB_HWCACHE_ALIGN,
  SLAB_KASAN,
  SLAB_KMALLOC,
  SLAB_NO_CMPXCHG,
  SLAB_NO_MERGE,
  SLAB_NO_OBJ_EXT,
  SLAB_POISON,
  SLAB_RED_ZONE,
  SLAB_SKIP_KFENCE,
  SLAB_STORE_USER,
  SLAB_TYPESAFE_BY_RCU,
} from './slab_flags.js';

// ---------------------------------------------------------------------------
// Constants
// ---------------------------------------------------------------------------

/** Linux version code kmem models by default: 6.18. */
export const LINUX_VERSION_DEFAULT = 618;
/** Oldest version whose rules kmem knows: 6.0. */
export const LINUX_VERSION_MIN = 600;

/** `version` code for Linux major.minor (6.1 -> 601, 6.18 -> 618). */
export function linuxVersion(major: number, minor: number): number {
  if (!Number.isInteger(major) || major !== 6) throw new RangeError(`major must be 6, got ${String(major)}`);
  if (!Number.isInteger(minor) || minor < 0 || minor > 18) {
    throw new RangeError(`minor must be an integer 0..18, got ${String(minor)}`);
  }
  return major * 100 + minor;
}

/** sizeof(void *) on x86-64: word size, free pointer size, minimum slot alignment step. */
export const SIZEOF_POINTER = 8;
/** cache_line_size() on x86-64 (also the `SLUB: HWalign=64` boot line). */
export const CACHE_LINE_SIZE = 64;
/** arch_slab_minalign() = ARCH_SLAB_MINALIGN = __alignof__(unsigned long long) on x86-64. */
export const ARCH_SLAB_MINALIGN = 8;
/** ARCH_KMALLOC_MINALIGN on x86-64 (no ARCH_DMA_MINALIGN above 8). */
export const ARCH_KMALLOC_MINALIGN = 8;

/** mm/slub.c OO_SHIFT: order lives above bit 16 of kmem_cache_order_objects.x. */
export const OO_SHIFT = 16;
/** mm/slub.c OO_MASK: objects live in the low 16 bits. */
export const OO_MASK = (1 << OO_SHIFT) - 1;
/** mm/slub.c MAX_OBJS_PER_PAGE: slab->objects is a 15-bit field. */
export const MAX_OBJS_PER_PAGE = 32767;
/** mm/slub.c MIN_PARTIAL: fewest empty slabs kept on a node partial list. */
export const MIN_PARTIAL = 5;
/** mm/slub.c MAX_PARTIAL: most empty slabs kept on a node partial list. */
export const MAX_PARTIAL = 10;
/** -ENOSYS, what calculate_order() returns when even one object needs more than MAX_PAGE_ORDER. */
export const ENOSYS = 38;

/**
 * sizeof(struct track) (mm/slub.c) on x86-64 with CONFIG_STACKDEPOT, which
 * CONFIG_SLUB_DEBUG selects since 5.17:
 *   addr (unsigned long) 0..8, handle (u32) 8..12, cpu (int) 12..16,
 *   pid (int) 16..20, 4 bytes of padding, when (unsigned long) 24..32.
 * Until 5.16 the track held `unsigned long addrs[16]` instead of the handle:
 * 8 + 128 + 4 + 4 + 8 = 152 bytes, which is what realdata/slub-debug-1.txt
 * (5.11) shows: kmalloc-32 under FZPU has a 416-byte stride.
 */
export const TRACK_SIZE = 32;
/**
 * Bytes for the saved kmalloc request size, `unsigned int` in 6.1 .. 6.18.
 * (A January 2026 fix, "mm/slab: use unsigned long for orig_size to ensure
 * proper metadata align", makes it 8 bytes after 6.18 and was sent to stable.)
 */
export const ORIG_SIZE_SIZE = 4;
/** sizeof(struct kasan_alloc_meta), generic KASAN: alloc_track (pid u32 + stack u32) + aux_stack[2]. */
export const KASAN_ALLOC_META_SIZE = 16;
/** sizeof(struct kasan_free_meta), generic KASAN: quarantine_link (pointer) + free_track (8). */
export const KASAN_FREE_META_SIZE = 16;

/** KMALLOC_MAX_SIZE (1 << (MAX_PAGE_ORDER + PAGE_SHIFT)); repeated here so kmalloc_info.ts can import this file. */
const KMALLOC_MAX_SIZE_HERE = 2 ** (MAX_PAGE_ORDER + PAGE_SHIFT);
/** Largest CONFIG_NR_CPUS on x86-64 (MAXSMP). */
const NR_CPUS_MAX = 8192;

// ---------------------------------------------------------------------------
// Small helpers (include/linux/bitops.h, include/asm-generic/getorder.h)
// ---------------------------------------------------------------------------

/** ALIGN(x, a) for a power-of-two a. */
function alignUp(x: number, a: number): number {
  return Math.ceil(x / a) * a;
}

/** ALIGN_DOWN(x, a) for a power-of-two a. */
function alignDown(x: number, a: number): number {
  return Math.floor(x / a) * a;
}

/** is_power_of_2(). */
function isPowerOf2(x: number): boolean {
  return Number.isInteger(x) && x > 0 && 2 ** Math.round(Math.log2(x)) === x;
}

/**
 * fls(): find last (most significant) set bit, 1-based; fls(0) = 0.
 * Rule: fls(1) = 1, fls(2..3) = 2, fls(4..7) = 3, fls(2^31) = 32.
 */
export function fls(x: number): number {
  checkUint(x, 'x', 0xffffffff);
  return x === 0 ? 0 : 32 - Math.clz32(x);
}

/**
 * ffs(): find first (least significant) set bit, 1-based; ffs(0) = 0.
 * Rule: 1 << (ffs(n) - 1) is the largest power of two dividing n.
 */
export function ffs(x: number): number {
  checkUint(x, 'x', 0xffffffff);
  if (x === 0) return 0;
  let n = 1;
  while (x % 2 ** n === 0) n++;
  return n;
}

/**
 * get_order(): the smallest order whose block (PAGE_SIZE << order) holds `size` bytes.
 * Rule: get_order(1..4096) = 0, get_order(4097..8192) = 1, ...; get_order(0) is
 * undefined in the kernel, so it is an error here.
 */
export function getOrder(size: number): number {
  checkUint(size, 'size', Number.MAX_SAFE_INTEGER);
  if (size === 0) throw new RangeError('size must be at least 1: get_order(0) is undefined');
  let order = 0;
  while (PAGE_SIZE * 2 ** order < size) order++;
  return order;
}

/**
 * order_objects(): how many `size`-byte slots fit in a slab of `order`.
 * Rule: (PAGE_SIZE << order) / size, rounded down; objects start at offset 0.
 */
export function orderObjects(order: number, size: number): number {
  checkUint(order, 'order', 30);
  checkUint(size, 'size', Number.MAX_SAFE_INTEGER);
  if (size === 0) throw new RangeError('size must be at least 1');
  return Math.floor((PAGE_SIZE * 2 ** order) / size);
}

/**
 * oo_make(): pack an order and its object count into kmem_cache_order_objects.x.
 * Rule: (order << OO_SHIFT) + order_objects(order, size).
 */
export function ooMake(order: number, size: number): number {
  return order * 2 ** OO_SHIFT + orderObjects(order, size);
}

/** oo_order(): the order half of a packed kmem_cache_order_objects. Rule: x >> OO_SHIFT. */
export function ooOrder(x: number): number {
  checkUint(x, 'x', 0xffffffff);
  return Math.floor(x / 2 ** OO_SHIFT);
}

/** oo_objects(): the objects half of a packed kmem_cache_order_objects. Rule: x & OO_MASK. */
export function ooObjects(x: number): number {
  checkUint(x, 'x', 0xffffffff);
  return x % 2 ** OO_SHIFT;
}

// ---------------------------------------------------------------------------
// Alignment (mm/slab_common.c)
// ---------------------------------------------------------------------------

/**
 * calculate_alignment() (mm/slab_common.c): the alignment of a cache's slots.
 * Rule: with SLAB_HWCACHE_ALIGN start from the cache line (64) and halve it
 * while the object fits in half of it, and never go below the requested
 * alignment; then at least arch_slab_minalign() (8); then round up to a
 * multiple of sizeof(void *).
 */
export function calculateAlignment(flags: number, align: number, size: number): number {
  checkFlagsArg(flags, 'flags');
  checkAlign(align, 'align');
  checkUint(size, 'size', KMALLOC_MAX_SIZE_HERE);
  if (flags & SLAB_HWCACHE_ALIGN) {
    let ralign = CACHE_LINE_SIZE;
    while (size <= ralign / 2) ralign /= 2;
    align = Math.max(align, ralign);
  }
  align = Math.max(align, ARCH_SLAB_MINALIGN);
  return alignUp(align, SIZEOF_POINTER);
}

/**
 * create_boot_cache() (mm/slab_common.c): the alignment of a kmalloc cache or
 * of the bootstrap caches kmem_cache / kmem_cache_node.
 * Rule (6.11+): start from ARCH_KMALLOC_MINALIGN; a SLAB_KMALLOC cache is also
 * aligned to the largest power of two dividing its size (kmalloc-96 -> 32,
 * kmalloc-192 -> 64, kmalloc-2k -> 2048); then calculate_alignment().
 * Rule (6.0 .. 6.10): any boot cache whose size is a power of two is aligned
 * to its size (kmalloc-96 and kmalloc-192 stay at 8).
 * The caller's align is not used: create_boot_cache() has none.
 */
export function createBootCacheAlign(flags: number, size: number, version = LINUX_VERSION_DEFAULT): number {
  checkFlagsArg(flags, 'flags');
  checkUint(size, 'size', KMALLOC_MAX_SIZE_HERE);
  checkVersion(version);
  if (size === 0) throw new RangeError('size must be at least 1');
  let align = ARCH_KMALLOC_MINALIGN;
  if (version >= 611) {
    if (flags & SLAB_KMALLOC) align = Math.max(align, 2 ** (ffs(size) - 1));
  } else if (isPowerOf2(size)) {
    align = Math.max(align, size);
  }
  return calculateAlignment(flags, align, size);
}

// ---------------------------------------------------------------------------
// Order (mm/slub.c)
// ---------------------------------------------------------------------------

/**
 * The min_objects calculate_order() aims for when slub_min_objects is 0.
 * Rule: 4 * (fls(nr_cpus) + 1) with nr_cpus = num_present_cpus(), or
 * nr_cpu_ids when only one CPU is present: 1 CPU -> 8, 2 -> 12, 4 -> 16, 8 -> 20.
 */
export function slubMinObjectsFor(cpus: number, nrCpuIds = cpus): number {
  checkCpus(cpus, 'cpus');
  checkCpus(nrCpuIds, 'nrCpuIds');
  const nrCpus = cpus <= 1 ? nrCpuIds : cpus;
  return 4 * (fls(nrCpus) + 1);
}

/**
 * calc_slab_order() (mm/slub.c, 6.7+): the first order in [minOrder, maxOrder]
 * whose leftover is small enough.
 * Rule: stop at the first order with (PAGE_SIZE << order) % size <=
 * (PAGE_SIZE << order) / fractLeftover; return maxOrder + 1 if none.
 */
export function calcSlabOrder(size: number, minOrder: number, maxOrder: number, fractLeftover: number): number {
  checkUint(size, 'size', Number.MAX_SAFE_INTEGER);
  if (size === 0) throw new RangeError('size must be at least 1');
  checkUint(minOrder, 'minOrder', 30);
  checkUint(maxOrder, 'maxOrder', 30);
  checkUint(fractLeftover, 'fractLeftover', 1 << 16);
  if (fractLeftover === 0) throw new RangeError('fractLeftover must be at least 1');
  let order = minOrder;
  for (; order <= maxOrder; order++) {
    const slabSize = PAGE_SIZE * 2 ** order;
    if (slabSize % size <= Math.floor(slabSize / fractLeftover)) break;
  }
  return order;
}

/**
 * calculate_order() (mm/slub.c, 6.7 .. 6.18): the slab order for slots of `size` bytes.
 * Rule: min_objects = slub_min_objects or 4 * (fls(cpus) + 1), capped at what
 * fits in a slub_max_order slab (at least 1); min_order = max(slub_min_order,
 * get_order(min_objects * size)); if min_order would hold more than 32767
 * objects return get_order(size * 32767) - 1; otherwise take the first order
 * from min_order to slub_max_order that wastes at most 1/16 of the slab, then
 * 1/8, 1/4, 1/2; failing all, get_order(size) if it is <= MAX_PAGE_ORDER,
 * else -ENOSYS.
 */
export function calculateOrder(
  size: number,
  cpus: number,
  slubMinOrder = 0,
  slubMaxOrder = PAGE_ALLOC_COSTLY_ORDER,
  slubMinObjects = 0,
  nrCpuIds = cpus,
): number {
  checkOrderArgs(size, cpus, nrCpuIds, slubMinOrder, slubMaxOrder, slubMinObjects);
  let minObjects = slubMinObjects || slubMinObjectsFor(cpus, nrCpuIds);
  const maxObjects = Math.max(orderObjects(slubMaxOrder, size), 1);
  minObjects = Math.min(minObjects, maxObjects);
  const minOrder = Math.max(slubMinOrder, getOrder(minObjects * size));
  if (orderObjects(minOrder, size) > MAX_OBJS_PER_PAGE) return getOrder(size * MAX_OBJS_PER_PAGE) - 1;
  for (let fraction = 16; fraction > 1; fraction /= 2) {
    const order = calcSlabOrder(size, minOrder, slubMaxOrder, fraction);
    if (order <= slubMaxOrder) return order;
  }
  const order = getOrder(size);
  return order <= MAX_PAGE_ORDER ? order : -ENOSYS;
}

/**
 * calculate_order() as Linux 6.0 .. 6.6 had it (before the 6.7 rework).
 * Rule: for min_objects from the CPU-derived value down to 2, try waste
 * fractions 1/16, 1/8, 1/4 from order max(slub_min_order,
 * get_order(min_objects * size)) up to slub_max_order; if nothing fits, take
 * the order of a single object: max(slub_min_order, get_order(size)) if that
 * is <= slub_max_order, else get_order(size) up to MAX_PAGE_ORDER. It differs
 * from 6.7+ only for very large objects (e.g. a 12224-byte task_struct gets
 * 1 object per order-2 slab here, 2 per order-3 slab in 6.7+).
 */
export function calculateOrderLegacy(
  size: number,
  cpus: number,
  slubMinOrder = 0,
  slubMaxOrder = PAGE_ALLOC_COSTLY_ORDER,
  slubMinObjects = 0,
  nrCpuIds = cpus,
): number {
  checkOrderArgs(size, cpus, nrCpuIds, slubMinOrder, slubMaxOrder, slubMinObjects);
  // The old calc_slab_order() took min_objects and derived its start order itself.
  const calcSlabOrderLegacy = (minObjects: number, maxOrder: number, fract: number): number => {
    if (orderObjects(slubMinOrder, size) > MAX_OBJS_PER_PAGE) return getOrder(size * MAX_OBJS_PER_PAGE) - 1;
    return calcSlabOrder(size, Math.max(slubMinOrder, getOrder(minObjects * size)), maxOrder, fract);
  };
  let minObjects = slubMinObjects || slubMinObjectsFor(cpus, nrCpuIds);
  const maxObjects = orderObjects(slubMaxOrder, size);
  minObjects = Math.min(minObjects, maxObjects);
  while (minObjects > 1) {
    for (let fraction = 16; fraction >= 4; fraction /= 2) {
      const order = calcSlabOrderLegacy(minObjects, slubMaxOrder, fraction);
      if (order <= slubMaxOrder) return order;
    }
    minObjects--;
  }
  let order = calcSlabOrderLegacy(1, slubMaxOrder, 1);
  if (order <= slubMaxOrder) return order;
  order = getOrder(size);
  return order <= MAX_PAGE_ORDER ? order : -ENOSYS;
}

// ---------------------------------------------------------------------------
// Per-cache tunables (mm/slub.c)
// ---------------------------------------------------------------------------

/**
 * set_min_partial() (mm/slub.c): empty slabs a node partial list may keep.
 * Rule: ilog2(s->size) / 2, clamped to [MIN_PARTIAL, MAX_PARTIAL] = [5, 10].
 */
export function minPartialFor(size: number): number {
  checkUint(size, 'size', Number.MAX_SAFE_INTEGER);
  if (size === 0) throw new RangeError('size must be at least 1');
  const ilog2 = Math.floor(Math.log2(size));
  return Math.min(MAX_PARTIAL, Math.max(MIN_PARTIAL, Math.floor(ilog2 / 2)));
}

/**
 * set_cpu_partial() (mm/slub.c): objects a CPU may keep on its partial slabs.
 * Rule: 0 for a debug cache (any SLAB_DEBUG_FLAGS bit); otherwise by s->size:
 * >= PAGE_SIZE -> 6, >= 1024 -> 24, >= 256 -> 52, else 120.
 * (6.18's opt-in per-CPU sheaves are not modelled here; after 6.18 sheaves
 * replace the per-CPU partial slabs altogether.)
 */
export function cpuPartialFor(size: number, flags: number): number {
  checkUint(size, 'size', Number.MAX_SAFE_INTEGER);
  checkFlagsArg(flags, 'flags');
  if (flags & SLAB_DEBUG_FLAGS) return 0;
  if (size >= PAGE_SIZE) return 6;
  if (size >= 1024) return 24;
  if (size >= 256) return 52;
  return 120;
}

/**
 * slub_set_cpu_partial() (mm/slub.c): cpu_partial_slabs, the same limit in slabs.
 * Rule: DIV_ROUND_UP(cpu_partial * 2, oo_objects(s->oo)), assuming half-full slabs.
 */
export function cpuPartialSlabs(cpuPartial: number, objects: number): number {
  checkUint(cpuPartial, 'cpuPartial', 1 << 16);
  checkUint(objects, 'objects', MAX_OBJS_PER_PAGE);
  if (objects === 0) throw new RangeError('objects must be at least 1');
  return Math.ceil((cpuPartial * 2) / objects);
}

// ---------------------------------------------------------------------------
// KASAN metadata (mm/kasan/generic.c)
// ---------------------------------------------------------------------------

/**
 * optimal_redzone() (mm/kasan/generic.c): the redzone generic KASAN wants after an object.
 * Rule (from userspace ASan): <= 48 -> 16, <= 96 -> 32, <= 448 -> 64,
 * <= 3968 -> 128, <= 16128 -> 256, <= 32256 -> 512, <= 64512 -> 1024, else 2048.
 */
export function optimalRedzone(objectSize: number): number {
  checkUint(objectSize, 'objectSize', Number.MAX_SAFE_INTEGER);
  if (objectSize <= 64 - 16) return 16;
  if (objectSize <= 128 - 32) return 32;
  if (objectSize <= 512 - 64) return 64;
  if (objectSize <= 4096 - 128) return 128;
  if (objectSize <= (1 << 14) - 256) return 256;
  if (objectSize <= (1 << 15) - 512) return 512;
  if (objectSize <= (1 << 16) - 1024) return 1024;
  return 2048;
}

/** What kasan_cache_create() decided: the new slot size and where its metadata went. */
export interface KasanCacheLayout {
  /** Slot size after KASAN's additions. */
  size: number;
  /** Object offset of struct kasan_alloc_meta, or -1 if it did not fit (the kernel stores 0). */
  allocMetaOffset: number;
  /** Object offset of struct kasan_free_meta: 0 inside the object, -1 if none (KASAN_NO_FREE_META). */
  freeMetaOffset: number;
}

/**
 * kasan_cache_create() (mm/kasan/generic.c): append generic KASAN's metadata to a slot.
 * Rule: alloc meta (16 B) goes at the current end of the slot. Free meta
 * (16 B) goes after it when the object may not be overwritten once freed
 * (SLAB_TYPESAFE_BY_RCU, a ctor, or, since 6.13, a kmalloc cache that keeps
 * orig_size); otherwise into the object itself; an object smaller than 16
 * bytes keeps the head of free meta in the object and pushes alloc meta back
 * by the rest, unless slub_debug is enabled, in which case free meta goes
 * after alloc meta. Metadata that would make the slot exceed KMALLOC_MAX_SIZE
 * is dropped. Finally the slot grows to object_size + optimal_redzone() if it
 * is still smaller.
 */
export function kasanCacheCreate(
  size: number,
  objectSize: number,
  flags: number,
  hasCtor: boolean,
  slubDebugEnabled: boolean,
  version = LINUX_VERSION_DEFAULT,
): KasanCacheLayout {
  checkUint(size, 'size', Number.MAX_SAFE_INTEGER);
  checkUint(objectSize, 'objectSize', KMALLOC_MAX_SIZE_HERE);
  checkFlagsArg(flags, 'flags');
  checkBool(hasCtor, 'hasCtor');
  checkBool(slubDebugEnabled, 'slubDebugEnabled');
  checkVersion(version);

  let okSize = size;
  let allocMetaOffset = size;
  let freeMetaOffset = 0;
  size += KASAN_ALLOC_META_SIZE;
  if (size > KMALLOC_MAX_SIZE_HERE) {
    allocMetaOffset = -1;
    size = okSize;
  }
  okSize = size;
  const origAllocMetaOffset = allocMetaOffset;

  const freeMetaOutside = (flags & SLAB_TYPESAFE_BY_RCU) !== 0 || hasCtor || (version >= 613 && slubDebugOrigSize(flags));
  if (freeMetaOutside) {
    freeMetaOffset = size;
    size += KASAN_FREE_META_SIZE;
  } else if (KASAN_FREE_META_SIZE <= objectSize) {
    // Free meta fits in the object: offset 0.
  } else if (!slubDebugEnabled) {
    const rest = KASAN_FREE_META_SIZE - objectSize;
    size += rest;
    if (allocMetaOffset !== -1) allocMetaOffset += rest;
  } else {
    freeMetaOffset = size;
    size += KASAN_FREE_META_SIZE;
  }
  if (size > KMALLOC_MAX_SIZE_HERE) {
    freeMetaOffset = -1;
    allocMetaOffset = origAllocMetaOffset;
    size = okSize;
  }

  const optimalSize = Math.min(objectSize + optimalRedzone(objectSize), KMALLOC_MAX_SIZE_HERE);
  if (size < optimalSize) size = optimalSize;
  return { size, allocMetaOffset, freeMetaOffset };
}

// ---------------------------------------------------------------------------
// Slot layout and order (mm/slub.c calculate_sizes)
// ---------------------------------------------------------------------------

/**
 * slub_debug_orig_size() (mm/slub.c): does the cache save each kmalloc request size?
 * Rule: SLAB_STORE_USER and SLAB_KMALLOC together.
 */
export function slubDebugOrigSize(flags: number): boolean {
  return (flags & SLAB_STORE_USER) !== 0 && (flags & SLAB_KMALLOC) !== 0;
}

/** Input of calculateSizes(): a kmem_cache as do_kmem_cache_create() has filled it in. */
export interface CalculateSizesInput {
  /** s->object_size. */
  objectSize: number;
  /** s->align, already through calculate_alignment(). */
  align: number;
  /** s->flags after kmem_cache_flags(): creation flags plus slub_debug's. */
  flags: number;
  /** Whether the cache has a constructor. */
  hasCtor: boolean;
  /** Generic KASAN is on (CONFIG_KASAN_GENERIC). */
  kasan: boolean;
  /** kmem_cache_args.freeptr_offset when use_freeptr_offset is set; undefined otherwise. */
  freeptrOffset?: number;
  /** The slub_debug_enabled static key (any slub_debug or debug-flagged cache so far). */
  slubDebugEnabled: boolean;
  /** num_present_cpus(). */
  cpus: number;
  /** nr_cpu_ids, used when only one CPU is present; defaults to cpus. */
  nrCpuIds?: number;
  slubMinOrder: number;
  slubMaxOrder: number;
  slubMinObjects: number;
  /** Linux version code (major * 100 + minor). */
  version: number;
}

/** Output of calculateSizes(): the fields calculate_sizes() sets. */
export interface SlotLayout {
  /** s->size: the slot stride. */
  size: number;
  /** s->offset: object offset of the free pointer. */
  offset: number;
  /** s->inuse: object offset where metadata starts (object plus right redzone). */
  inuse: number;
  /** s->red_left_pad; 0 without SLAB_RED_ZONE. */
  redLeftPad: number;
  /** s->flags with __OBJECT_POISON set or cleared and KASAN's flags added. */
  flags: number;
  /** Object offset of the alloc track (the free track follows), or -1 without SLAB_STORE_USER. */
  trackOffset: number;
  /** Object offset of the saved kmalloc request size, or -1. */
  origSizeOffset: number;
  /** Object offset of KASAN alloc meta, or -1. */
  kasanAllocMetaOffset: number;
  /** Object offset of KASAN free meta (0 = in the object), or -1. */
  kasanFreeMetaOffset: number;
  /** oo_order(s->oo). */
  order: number;
  /** oo_objects(s->oo). */
  objects: number;
  /** oo_order(s->min) = get_order(size): the fallback order. */
  minOrder: number;
  /** oo_objects(s->min). */
  minObjects: number;
  /** s->allocflags has __GFP_COMP. */
  allocflagsComp: boolean;
}

/**
 * calculate_sizes() (mm/slub.c): lay out one slot and choose the slab order.
 * Rule, step by step (6.18):
 *  1. size = ALIGN(object_size, 8).
 *  2. SLAB_POISON without SLAB_TYPESAFE_BY_RCU and without a ctor sets
 *     __OBJECT_POISON (else it is cleared).
 *  3. SLAB_RED_ZONE with no slack after the object adds one word (right redzone).
 *  4. inuse = size.
 *  5. The free pointer moves out of the object (offset = size, size += 8) for
 *     TYPESAFE_BY_RCU without freeptr_offset, POISON, a ctor, or RED_ZONE
 *     with object_size < 8 or with orig_size (6.2 .. 6.10: orig_size alone;
 *     6.1: orig_size did not matter);
 *     RCU with freeptr_offset keeps it at freeptr_offset; otherwise it sits
 *     at ALIGN_DOWN(object_size / 2, 8).
 *  6. SLAB_STORE_USER adds two struct tracks (2 x 32), and for a kmalloc
 *     cache the u32 orig_size.
 *  7. kasan_cache_create() appends KASAN metadata.
 *  8. SLAB_RED_ZONE adds a trailing word and a left redzone of
 *     red_left_pad = ALIGN(8, align) bytes.
 *  9. size = ALIGN(size, align); order = calculate_order(size) (the 6.6 one
 *     before 6.7); oo = (order, objects), min = (get_order(size), ...).
 */
export function calculateSizes(input: CalculateSizesInput): SlotLayout {
  const { objectSize, align, hasCtor, kasan, freeptrOffset, version } = input;
  const flags = input.flags;
  let sFlags = flags;
  let size = alignUp(objectSize, SIZEOF_POINTER);

  if (flags & SLAB_POISON && !(flags & SLAB_TYPESAFE_BY_RCU) && !hasCtor) sFlags |= __OBJECT_POISON;
  else sFlags &= ~__OBJECT_POISON;

  if (flags & SLAB_RED_ZONE && size === objectSize) size += SIZEOF_POINTER;

  const inuse = size;
  const useFreeptrOffset = freeptrOffset !== undefined;
  const origSize = slubDebugOrigSize(flags);
  const rcu = (flags & SLAB_TYPESAFE_BY_RCU) !== 0;
  const redZone = (flags & SLAB_RED_ZONE) !== 0;
  // 6.2 added "orig_size alone moves it" (kmalloc redzone), 6.11 narrowed it to RED_ZONE + orig_size.
  const origSizeMoves = version >= 611 ? redZone && origSize : version >= 602 && origSize;
  const moveOut = (rcu && !useFreeptrOffset) || (flags & SLAB_POISON) !== 0 || hasCtor || (redZone && objectSize < SIZEOF_POINTER) || origSizeMoves;
  let offset: number;
  if (moveOut) {
    offset = size;
    size += SIZEOF_POINTER;
  } else if (rcu && useFreeptrOffset) {
    offset = freeptrOffset;
  } else {
    offset = alignDown(Math.floor(objectSize / 2), SIZEOF_POINTER);
  }

  let trackOffset = -1;
  let origSizeOffset = -1;
  if (flags & SLAB_STORE_USER) {
    trackOffset = size;
    size += 2 * TRACK_SIZE;
    if (flags & SLAB_KMALLOC) {
      origSizeOffset = size;
      size += ORIG_SIZE_SIZE;
    }
  }

  let kasanAllocMetaOffset = -1;
  let kasanFreeMetaOffset = -1;
  if (kasan) {
    sFlags |= SLAB_KASAN | SLAB_NO_MERGE;
    const k = kasanCacheCreate(size, objectSize, sFlags, hasCtor, input.slubDebugEnabled, version);
    size = k.size;
    kasanAllocMetaOffset = k.allocMetaOffset;
    kasanFreeMetaOffset = k.freeMetaOffset;
  }

  let redLeftPad = 0;
  if (redZone) {
    size += SIZEOF_POINTER;
    redLeftPad = alignUp(SIZEOF_POINTER, align);
    size += redLeftPad;
  }

  size = alignUp(size, align);

  const orderFn = version >= 607 ? calculateOrder : calculateOrderLegacy;
  const order = orderFn(size, input.cpus, input.slubMinOrder, input.slubMaxOrder, input.slubMinObjects, input.nrCpuIds ?? input.cpus);
  if (order < 0) {
    throw new RangeError(`objectSize ${objectSize} needs ${size}-byte slots, more than an order-${MAX_PAGE_ORDER} slab holds`);
  }
  const minOrder = getOrder(size);
  return {
    size,
    offset,
    inuse,
    redLeftPad,
    flags: sFlags,
    trackOffset,
    origSizeOffset,
    kasanAllocMetaOffset,
    kasanFreeMetaOffset,
    order,
    objects: orderObjects(order, size),
    minOrder,
    minObjects: orderObjects(minOrder, size),
    allocflagsComp: version >= 610 || order > 0,
  };
}

// ---------------------------------------------------------------------------
// Whole cache (mm/slab_common.c + mm/slub.c do_kmem_cache_create)
// ---------------------------------------------------------------------------

/** Input of computeCacheGeometry(). Only objectSize and cpus are required. */
export interface CacheGeometryInput {
  /** Object size in bytes, 1 .. KMALLOC_MAX_SIZE (4 MiB). */
  objectSize: number;
  /** Requested alignment: 0 or a power of two (ignored for kmalloc and boot caches). Default 0. */
  align?: number;
  /** SLAB_* creation flags, plus slub_debug's (F/Z/P/U/T/A). Default 0. */
  flags?: number;
  /** The cache has a constructor. Default false. */
  hasCtor?: boolean;
  /** num_present_cpus(). */
  cpus: number;
  /** nr_cpu_ids when only one CPU is present (default cpus). */
  nrCpuIds?: number;
  /** slab_min_order= (default 0). */
  slubMinOrder?: number;
  /** slab_max_order= (default PAGE_ALLOC_COSTLY_ORDER = 3). */
  slubMaxOrder?: number;
  /** slab_min_objects= (default 0: derive from the CPU count). */
  slubMinObjects?: number;
  /** Generic KASAN (CONFIG_KASAN_GENERIC) is on. Default false. */
  kasan?: boolean;
  /** A kmalloc cache: adds SLAB_KMALLOC and uses create_boot_cache()'s alignment. Default false. */
  isKmalloc?: boolean;
  /** kmem_cache or kmem_cache_node: create_boot_cache()'s alignment. Default false. */
  isBootCache?: boolean;
  /** kmem_cache_args.freeptr_offset (6.12+, SLAB_TYPESAFE_BY_RCU only). */
  freeptrOffset?: number;
  /** kmem_cache_args.useroffset (hardened usercopy window start). Default 0. */
  useroffset?: number;
  /** kmem_cache_args.usersize (hardened usercopy window size). Default 0. */
  usersize?: number;
  /** slub_debug=O: drop metadata debug flags if they would raise the cache's minimum order. */
  disableHigherOrderDebug?: boolean;
  /** The slub_debug_enabled static key; default: flags has a SLAB_DEBUG_FLAGS bit. */
  slubDebugEnabled?: boolean;
  /** system_has_freelist_aba() (cmpxchg16b); default true as on every x86-64 kmem models. */
  hasCmpxchgDouble?: boolean;
  /** Linux version code (major * 100 + minor), 600 .. 618; default 618. */
  version?: number;
}

/**
 * A cache's geometry: the fields of struct kmem_cache that follow from its
 * parameters. Offsets are from the object start; see the slot diagram at the
 * top of this file for where each part lies.
 */
export interface CacheGeometry {
  /** s->object_size. */
  objectSize: number;
  /** s->size: slot stride (/proc/slabinfo objsize, sysfs slab_size). */
  size: number;
  /** s->align (sysfs align). */
  align: number;
  /** s->offset: object offset of the free pointer. */
  offset: number;
  /** s->inuse: object offset where metadata starts. */
  inuse: number;
  /** s->red_left_pad: bytes of left redzone before each object; 0 without SLAB_RED_ZONE. */
  redLeftPad: number;
  /** s->flags, with __OBJECT_POISON, __CMPXCHG_DOUBLE, SLAB_KASAN and SLAB_NO_MERGE as set by creation. */
  flags: number;
  /** oo_order(s->oo): the preferred slab order (sysfs order). */
  order: number;
  /** oo_objects(s->oo): objects per preferred slab (sysfs objs_per_slab). */
  objects: number;
  /** oo_order(s->min): the fallback order, get_order(size). */
  minOrder: number;
  /** oo_objects(s->min). */
  minObjects: number;
  /** s->min_partial (sysfs min_partial). */
  minPartial: number;
  /** s->cpu_partial in objects (sysfs cpu_partial); 0 for debug caches. */
  cpuPartial: number;
  /** s->cpu_partial_slabs; 0 when cpuPartial is 0. */
  cpuPartialSlabs: number;
  /** s->allocflags includes __GFP_COMP. */
  allocflagsComp: boolean;
  /** Object offset of struct kasan_alloc_meta, or -1. */
  kasanAllocMetaOffset: number;
  /** Object offset of struct kasan_free_meta: 0 = inside the object, -1 = none. */
  kasanFreeMetaOffset: number;
  /** Object offset of the saved kmalloc request size (u32), or -1. */
  origSizeOffset: number;
  /** Object offset of the alloc track (free track at +32), or -1. */
  trackOffset: number;
  /** s->useroffset. */
  useroffset: number;
  /** s->usersize. */
  usersize: number;
}

/**
 * do_kmem_cache_create() with __kmem_cache_create_args() / create_boot_cache()
 * in front of it: the full geometry of one cache.
 * Rule: align from calculate_alignment() (create_boot_cache() for kmalloc and
 * boot caches); calculate_sizes(); with slub_debug=O, if get_order(size) >
 * get_order(object_size) drop SLAB_RED_ZONE|POISON|STORE_USER and lay out
 * again; __CMPXCHG_DOUBLE unless a SLAB_NO_CMPXCHG flag is set;
 * set_min_partial(ilog2(size) / 2); set_cpu_partial().
 */
export function computeCacheGeometry(input: CacheGeometryInput): CacheGeometry {
  if (typeof input !== 'object' || input === null) throw new TypeError('input must be an object');
  const version = input.version ?? LINUX_VERSION_DEFAULT;
  checkVersion(version);
  const objectSize = input.objectSize;
  checkUint(objectSize, 'objectSize', KMALLOC_MAX_SIZE_HERE);
  if (objectSize === 0) throw new RangeError('objectSize must be at least 1 byte');
  const align = input.align ?? 0;
  checkAlign(align, 'align');
  let flags = input.flags ?? 0;
  checkFlagsArg(flags, 'flags');
  if (flags & ~(SLAB_FLAGS_PERMITTED | SLAB_FAILSLAB | SLAB_SKIP_KFENCE | SLAB_NO_OBJ_EXT)) {
    throw new RangeError(`flags has bits kmem_cache_create() refuses (internal flags): ${String(flags)}`);
  }
  const hasCtor = input.hasCtor ?? false;
  checkBool(hasCtor, 'hasCtor');
  checkCpus(input.cpus, 'cpus');
  const nrCpuIds = input.nrCpuIds ?? input.cpus;
  checkCpus(nrCpuIds, 'nrCpuIds');
  const slubMinOrder = input.slubMinOrder ?? 0;
  const slubMaxOrder = input.slubMaxOrder ?? PAGE_ALLOC_COSTLY_ORDER;
  const slubMinObjects = input.slubMinObjects ?? 0;
  checkUint(slubMinOrder, 'slubMinOrder', MAX_PAGE_ORDER);
  checkUint(slubMaxOrder, 'slubMaxOrder', MAX_PAGE_ORDER);
  if (slubMinOrder > slubMaxOrder) {
    throw new RangeError(`slubMinOrder (${slubMinOrder}) must not exceed slubMaxOrder (${slubMaxOrder})`);
  }
  checkUint(slubMinObjects, 'slubMinObjects', MAX_OBJS_PER_PAGE);
  const kasan = input.kasan ?? false;
  checkBool(kasan, 'kasan');
  const isKmalloc = input.isKmalloc ?? false;
  checkBool(isKmalloc, 'isKmalloc');
  const isBootCache = input.isBootCache ?? false;
  checkBool(isBootCache, 'isBootCache');
  const disableHigherOrderDebug = input.disableHigherOrderDebug ?? false;
  checkBool(disableHigherOrderDebug, 'disableHigherOrderDebug');
  const hasCmpxchgDouble = input.hasCmpxchgDouble ?? true;
  checkBool(hasCmpxchgDouble, 'hasCmpxchgDouble');
  if (isKmalloc) flags |= SLAB_KMALLOC;
  const slubDebugEnabled = input.slubDebugEnabled ?? (flags & SLAB_DEBUG_FLAGS) !== 0;
  checkBool(slubDebugEnabled, 'slubDebugEnabled');

  const useroffset = input.useroffset ?? 0;
  const usersize = input.usersize ?? 0;
  checkUint(useroffset, 'useroffset', KMALLOC_MAX_SIZE_HERE);
  checkUint(usersize, 'usersize', KMALLOC_MAX_SIZE_HERE);
  if ((usersize === 0 && useroffset !== 0) || useroffset + usersize > objectSize) {
    throw new RangeError(`useroffset ${useroffset} + usersize ${usersize} must lie within objectSize ${objectSize} (usersize 0 needs useroffset 0)`);
  }

  const freeptrOffset = input.freeptrOffset;
  if (freeptrOffset !== undefined) {
    checkUint(freeptrOffset, 'freeptrOffset', KMALLOC_MAX_SIZE_HERE);
    if (version < 612) throw new RangeError('freeptrOffset needs Linux 6.12 or later (kmem_cache_args)');
    if (!(flags & SLAB_TYPESAFE_BY_RCU)) {
      throw new RangeError('freeptrOffset is only allowed with SLAB_TYPESAFE_BY_RCU (create_cache() returns -EINVAL)');
    }
    if (freeptrOffset >= objectSize || freeptrOffset % SIZEOF_POINTER !== 0) {
      throw new RangeError(`freeptrOffset must be a multiple of ${SIZEOF_POINTER} below objectSize ${objectSize}, got ${freeptrOffset}`);
    }
  }

  const sAlign = isKmalloc || isBootCache ? createBootCacheAlign(flags, objectSize, version) : calculateAlignment(flags, align, objectSize);

  const sizesInput: CalculateSizesInput = {
    objectSize,
    align: sAlign,
    flags,
    hasCtor,
    kasan,
    freeptrOffset,
    slubDebugEnabled,
    cpus: input.cpus,
    nrCpuIds,
    slubMinOrder,
    slubMaxOrder,
    slubMinObjects,
    version,
  };
  let layout = calculateSizes(sizesInput);
  if (disableHigherOrderDebug && getOrder(layout.size) > getOrder(objectSize)) {
    layout = calculateSizes({ ...sizesInput, flags: layout.flags & ~DEBUG_METADATA_FLAGS });
  }

  let finalFlags = layout.flags;
  if (hasCmpxchgDouble && !(finalFlags & SLAB_NO_CMPXCHG)) finalFlags |= __CMPXCHG_DOUBLE;

  const cpuPartial = cpuPartialFor(layout.size, finalFlags);
  return {
    objectSize,
    size: layout.size,
    align: sAlign,
    offset: layout.offset,
    inuse: layout.inuse,
    redLeftPad: layout.redLeftPad,
    flags: finalFlags,
    order: layout.order,
    objects: layout.objects,
    minOrder: layout.minOrder,
    minObjects: layout.minObjects,
    minPartial: minPartialFor(layout.size),
    cpuPartial,
    cpuPartialSlabs: cpuPartial === 0 ? 0 : cpuPartialSlabs(cpuPartial, layout.objects),
    allocflagsComp: layout.allocflagsComp,
    kasanAllocMetaOffset: layout.kasanAllocMetaOffset,
    kasanFreeMetaOffset: layout.kasanFreeMetaOffset,
    origSizeOffset: layout.origSizeOffset,
    trackOffset: layout.trackOffset,
    useroffset,
    usersize,
  };
}

// ---------------------------------------------------------------------------
// Argument checks
// ---------------------------------------------------------------------------

/** Throws unless `value` is an integer in [0, max]. */
function checkUint(value: unknown, argName: string, max: number): asserts value is number {
  if (typeof value !== 'number') throw new TypeError(`${argName} must be a number, got ${typeof value}`);
  if (!Number.isInteger(value) || value < 0 || value > max) {
    throw new RangeError(`${argName} must be an integer from 0 to ${max}, got ${String(value)}`);
  }
}

/** Throws unless `value` is 0 or a power of two no larger than KMALLOC_MAX_SIZE. */
function checkAlign(value: unknown, argName: string): asserts value is number {
  checkUint(value, argName, KMALLOC_MAX_SIZE_HERE);
  if (value !== 0 && !isPowerOf2(value)) {
    throw new RangeError(`${argName} must be 0 or a power of two, got ${value}`);
  }
}

/** Throws unless `value` is a CPU count from 1 to NR_CPUS. */
function checkCpus(value: unknown, argName: string): asserts value is number {
  checkUint(value, argName, NR_CPUS_MAX);
  if (value < 1) throw new RangeError(`${argName} must be at least 1, got ${value}`);
}

/** Throws unless `value` is a boolean. */
function checkBool(value: unknown, argName: string): asserts value is boolean {
  if (typeof value !== 'boolean') throw new TypeError(`${argName} must be a boolean, got ${typeof value}`);
}

/** Throws unless `version` is a 6.x version code kmem knows. */
function checkVersion(version: unknown): asserts version is number {
  checkUint(version, 'version', LINUX_VERSION_DEFAULT);
  if (version < LINUX_VERSION_MIN) {
    throw new RangeError(`version must be a 6.x code from ${LINUX_VERSION_MIN} to ${LINUX_VERSION_DEFAULT}, got ${version}`);
  }
}

/** Shared argument checks of calculateOrder() and calculateOrderLegacy(). */
function checkOrderArgs(size: number, cpus: number, nrCpuIds: number, slubMinOrder: number, slubMaxOrder: number, slubMinObjects: number): void {
  checkUint(size, 'size', Number.MAX_SAFE_INTEGER);
  if (size === 0) throw new RangeError('size must be at least 1');
  checkCpus(cpus, 'cpus');
  checkCpus(nrCpuIds, 'nrCpuIds');
  checkUint(slubMinOrder, 'slubMinOrder', MAX_PAGE_ORDER);
  checkUint(slubMaxOrder, 'slubMaxOrder', MAX_PAGE_ORDER);
  if (slubMinOrder > slubMaxOrder) {
    throw new RangeError(`slubMinOrder (${slubMinOrder}) must not exceed slubMaxOrder (${slubMaxOrder})`);
  }
  checkUint(slubMinObjects, 'slubMinObjects', MAX_OBJS_PER_PAGE);
}
