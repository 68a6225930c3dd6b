/**
 * SLAB's cache geometry and default tunables (mm/slab.c, removed in 6.8):
 * the first piece of the SLAB design (issue 15), pure functions that the
 * allocator proper will build on. Not selectable at boot yet.
 *
 * A SLAB slab is 2^gfporder pages holding `num` objects of `size` bytes,
 * first object at page + colour * colour_off, and a stack of free object
 * indices (freelist_idx_t: one byte with 4 KiB pages, so at most 255
 * objects) kept in one of three places, tried in this order:
 *
 *   OBJFREELIST  inside one of the slab's own free objects (no ctor, not
 *                SLAB_TYPESAFE_BY_RCU, and num index bytes fit in an object)
 *   OFF_SLAB     in an object of the kmalloc cache that fits num bytes, when
 *                the slab's leftover could not hold the array anyway
 *   on-slab      at the end of the slab, each object costing one byte more
 */

/** BYTES_PER_WORD */
const WORD = 8;
const PAGE_SIZE = 4096;
/** cache_line_size() on x86-64. */
export const SLAB_CACHE_LINE = 64;
/** SLAB_OBJ_MIN_SIZE: min(KMALLOC_MIN_SIZE (32 under SLAB), 16). */
export const SLAB_OBJ_MIN_SIZE = 16;
/** sizeof(freelist_idx_t): FREELIST_BYTE_INDEX holds ((PAGE_SIZE >> 8) <= SLAB_OBJ_MIN_SIZE). */
export const FREELIST_IDX_SIZE = 1;
/** SLAB_OBJ_MAX_NUM */
export const SLAB_OBJ_MAX_NUM = 255;
/** KMALLOC_MAX_ORDER (KMALLOC_SHIFT_MAX - PAGE_SHIFT): calculate_slab_order() tries orders up to it. */
export const SLAB_KMALLOC_MAX_ORDER = 10;
/** SLAB_MAX_ORDER_HI: slab_max_order once the machine has more than 32 MiB (kmem_cache_init). */
export const SLAB_MAX_ORDER_HI = 1;
export const SLAB_MAX_ORDER_LO = 0;

/** The SLAB_* flags this file reads (the kernel's bit values, as src/slub/slab_flags.ts has them). */
export interface SlabFlagBits {
  hwcacheAlign: number;
  typesafeByRcu: number;
  reclaimAccount: number;
  noLeakTrace: number;
}

export type FreelistPlacement = 'objfreelist' | 'off_slab' | 'on_slab';

export interface SlabGeometry {
  /** cachep->size: the object rounded to its alignment (at least SLAB_OBJ_MIN_SIZE). */
  size: number;
  align: number;
  /** colour_off: the cache line, or the alignment if larger. */
  colourOff: number;
  /** Number of colours: leftover bytes / colour_off. */
  colour: number;
  num: number;
  gfporder: number;
  placement: FreelistPlacement;
  /** num * sizeof(freelist_idx_t). */
  freelistSize: number;
  /** Bytes of a slab left over (what colouring spends). */
  leftOver: number;
}

/** A kmalloc cache as SLAB's OFF_SLAB choice sees it: its object size and whether it is itself off-slab. */
export interface FreelistCache {
  size: number;
  offSlab: boolean;
}

export interface SlabCacheSpec {
  objectSize: number;
  /** The requested alignment (kmem_cache_create's align argument). */
  align: number;
  flags: number;
  hasCtor: boolean;
  /** slab_max_order (SLAB_MAX_ORDER_HI above 32 MiB of RAM unless set on the command line). */
  slabMaxOrder: number;
  /** kmalloc_slab(n): the kmalloc cache n bytes would come from, null if none exists yet. */
  kmallocSlab: (n: number) => FreelistCache | null;
  bits: SlabFlagBits;
}

/** calculate_alignment() of mm/slab_common.c. */
export function slabCalculateAlignment(hwcacheAlign: boolean, align: number, size: number): number {
  if (hwcacheAlign) {
    let ralign = SLAB_CACHE_LINE;
    while (size <= ralign / 2) ralign /= 2;
    align = Math.max(align, ralign);
  }
  align = Math.max(align, WORD);
  return Math.ceil(align / WORD) * WORD;
}

/** cache_estimate(): objects of `size` in a slab of 2^order pages, and the bytes left over. */
export function cacheEstimate(order: number, size: number, indexInObjectOrOff: boolean): { num: number; leftOver: number } {
  const slab = PAGE_SIZE * 2 ** order;
  const per = indexInObjectOrOff ? size : size + FREELIST_IDX_SIZE;
  return { num: Math.floor(slab / per), leftOver: slab % per };
}

/**
 * calculate_slab_order(): the first order whose slab holds objects and
 * either is reclaim-accounted, reaches slab_max_order, or wastes at most an
 * eighth; for OFF_SLAB only orders whose index array has a kmalloc cache
 * that is itself not off-slab and at most half the (creation-time) object
 * size. num 0 when no order qualifies.
 */
function calculateSlabOrder(
  spec: SlabCacheSpec,
  createSize: number,
  size: number,
  placement: FreelistPlacement,
): { num: number; gfporder: number; leftOver: number } {
  let best = { num: 0, gfporder: 0, leftOver: 0 };
  for (let order = 0; order <= SLAB_KMALLOC_MAX_ORDER; order++) {
    const { num, leftOver } = cacheEstimate(order, size, placement !== 'on_slab');
    if (num === 0) continue;
    if (num > SLAB_OBJ_MAX_NUM) break;
    if (placement === 'off_slab') {
      const fc = spec.kmallocSlab(num * FREELIST_IDX_SIZE);
      if (fc === null || fc.offSlab || fc.size > Math.floor(createSize / 2)) continue;
    }
    best = { num, gfporder: order, leftOver };
    if (spec.flags & spec.bits.reclaimAccount) break;
    if (order >= spec.slabMaxOrder) break;
    if (leftOver * 8 <= PAGE_SIZE * 2 ** order) break;
  }
  return best;
}

/**
 * __kmem_cache_create()'s geometry for a cache without debug flags: the
 * object padded to a word and to its alignment, then the index array's
 * placement (OBJFREELIST, OFF_SLAB, on-slab, the first that works), the
 * order and the colours. null where the kernel returns -E2BIG.
 */
export function slabCacheGeometry(spec: SlabCacheSpec): SlabGeometry | null {
  const align = slabCalculateAlignment((spec.flags & spec.bits.hwcacheAlign) !== 0, spec.align, spec.objectSize);
  const colourOff = Math.max(SLAB_CACHE_LINE, align);
  let size = Math.ceil(spec.objectSize / WORD) * WORD;
  size = Math.ceil(size / align) * align;
  if (size < SLAB_OBJ_MIN_SIZE) size = Math.ceil(SLAB_OBJ_MIN_SIZE / align) * align;
  const done = (o: { num: number; gfporder: number; leftOver: number }, placement: FreelistPlacement): SlabGeometry => ({
    size,
    align,
    colourOff,
    colour: Math.floor(o.leftOver / colourOff),
    num: o.num,
    gfporder: o.gfporder,
    placement,
    freelistSize: o.num * FREELIST_IDX_SIZE,
    leftOver: o.leftOver,
  });
  // set_objfreelist_slab_cache()
  if (!spec.hasCtor && !(spec.flags & spec.bits.typesafeByRcu)) {
    const o = calculateSlabOrder(spec, spec.objectSize, size, 'objfreelist');
    if (o.num !== 0 && o.num * FREELIST_IDX_SIZE <= spec.objectSize) return done(o, 'objfreelist');
  }
  // set_off_slab_cache(): not worth it when the leftover could hold the array on the slab.
  if (!(spec.flags & spec.bits.noLeakTrace)) {
    const o = calculateSlabOrder(spec, spec.objectSize, size, 'off_slab');
    if (o.num !== 0 && o.leftOver < o.num * FREELIST_IDX_SIZE) return done(o, 'off_slab');
  }
  // set_on_slab_cache()
  const o = calculateSlabOrder(spec, spec.objectSize, size, 'on_slab');
  return o.num !== 0 ? done(o, 'on_slab') : null;
}

/** The per-CPU array tunables enable_cpucache() sets (no CONFIG_DEBUG_SLAB). */
export interface SlabTunables {
  limit: number;
  batchcount: number;
  /** The shared array holds shared * batchcount objects. */
  shared: number;
}

/** enable_cpucache(): the head array's limit by object size, half of it per batch, a shared array on SMP for objects up to a page. */
export function enableCpucache(size: number, possibleCpus: number): SlabTunables {
  let limit: number;
  if (size > 131072) limit = 1;
  else if (size > PAGE_SIZE) limit = 8;
  else if (size > 1024) limit = 24;
  else if (size > 256) limit = 54;
  else limit = 120;
  const shared = size <= PAGE_SIZE && possibleCpus > 1 ? 8 : 0;
  return { limit, batchcount: Math.floor((limit + 1) / 2), shared };
}

/** init_cache_node(): the free objects a node keeps before free slabs go back to the page allocator. */
export function slabFreeLimit(cpusOnNode: number, batchcount: number, num: number): number {
  return (1 + cpusOnNode) * batchcount + num;
}
