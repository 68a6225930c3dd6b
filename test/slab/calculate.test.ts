/**
 * SLAB's cache geometry and default tunables (mm/slab.c's
 * __kmem_cache_create, calculate_slab_order, cache_estimate, the
 * set_*_slab_cache trio, enable_cpucache), worked by hand from the kernel's
 * rules. The kmalloc caches are created in kmem_cache_init()'s order: the
 * one holding struct kmem_cache_node (kmalloc-128 on x86-64) first, then
 * create_kmalloc_caches() from kmalloc-32 up, kmalloc-96 after kmalloc-64
 * and kmalloc-192 after kmalloc-128, all SLAB_HWCACHE_ALIGN
 * (ARCH_KMALLOC_FLAGS); an OFF_SLAB index array can only come from a
 * kmalloc cache that already exists. Since 6.1 the largest kmalloc cache
 * under SLAB too is kmalloc-8192 (KMALLOC_SHIFT_HIGH = PAGE_SHIFT + 1);
 * larger kmallocs go to the page allocator.
 */
import { describe, expect, it } from 'vitest';
import {
  cacheEstimate,
  enableCpucache,
  type FreelistCache,
  SLAB_MAX_ORDER_HI,
  type SlabCacheSpec,
  type SlabGeometry,
  slabCacheGeometry,
  slabFreeLimit,
} from '../../src/slab/calculate.js';
import { SLAB_HWCACHE_ALIGN, SLAB_NOLEAKTRACE, SLAB_RECLAIM_ACCOUNT, SLAB_TYPESAFE_BY_RCU } from '../../src/slub/slab_flags.js';

const bits = { hwcacheAlign: SLAB_HWCACHE_ALIGN, typesafeByRcu: SLAB_TYPESAFE_BY_RCU, reclaimAccount: SLAB_RECLAIM_ACCOUNT, noLeakTrace: SLAB_NOLEAKTRACE };

/** The kmalloc caches made so far, by size, and kmalloc_slab() over them. */
class KmallocCaches {
  readonly made = new Map<number, SlabGeometry>();
  slab = (n: number): FreelistCache | null => {
    // kmalloc_slab(): sizes up to 192 through size_index (32, 64, 96, 128, 192 buckets), then powers of two.
    const bucket = n <= 32 ? 32 : n <= 64 ? 64 : n <= 96 ? 96 : n <= 128 ? 128 : n <= 192 ? 192 : 2 ** Math.ceil(Math.log2(n));
    const g = this.made.get(bucket);
    return g === undefined ? null : { size: g.size, offSlab: g.placement === 'off_slab' };
  };
  create(size: number): SlabGeometry {
    const g = slabCacheGeometry(spec({ objectSize: size, flags: SLAB_HWCACHE_ALIGN, kmallocSlab: this.slab }));
    if (g === null) throw new Error(`kmalloc-${size}: -E2BIG`);
    this.made.set(size, g);
    return g;
  }
}

function spec(o: Partial<SlabCacheSpec> & { objectSize: number }): SlabCacheSpec {
  return { align: 0, flags: 0, hasCtor: false, slabMaxOrder: SLAB_MAX_ORDER_HI, kmallocSlab: () => null, bits, ...o };
}

function bootKmalloc(): KmallocCaches {
  const k = new KmallocCaches();
  k.create(128); // INDEX_NODE: struct kmem_cache_node
  for (const s of [32, 64, 96, 192, 256, 512, 1024, 2048, 4096, 8192]) k.create(s);
  return k;
}

describe('SLAB geometry of the kmalloc caches', () => {
  const k = bootKmalloc();
  const row = (s: number) => {
    const g = k.made.get(s)!;
    return [g.size, g.num, 2 ** g.gfporder, g.placement, g.colour];
  };

  it('kmalloc-32: 128 per page would need a 128-byte index array: on-slab, 124 objects of 33 bytes', () => {
    // OBJFREELIST: 128 index bytes do not fit a 32-byte object. OFF_SLAB: the
    // array would come from kmalloc-128, more than half of 32. Order 1: 256 > 255.
    expect(row(32)).toEqual([32, 124, 1, 'on_slab', 0]);
    expect(k.made.get(32)!.leftOver).toBe(4096 - 124 * 33);
  });

  it('kmalloc-64 and up keep the index array in a free object', () => {
    expect(row(128)).toEqual([128, 32, 1, 'objfreelist', 0]);
    expect(row(64)).toEqual([64, 64, 1, 'objfreelist', 0]);
    // kmalloc-96 is cache-line aligned (96 > 32): 128-byte objects.
    expect(row(96)).toEqual([128, 32, 1, 'objfreelist', 0]);
    // 21 * 192 = 4032: 64 bytes left, one colour.
    expect(row(192)).toEqual([192, 21, 1, 'objfreelist', 1]);
    expect(row(256)).toEqual([256, 16, 1, 'objfreelist', 0]);
    expect(row(1024)).toEqual([1024, 4, 1, 'objfreelist', 0]);
    expect(row(2048)).toEqual([2048, 2, 1, 'objfreelist', 0]);
    expect(row(4096)).toEqual([4096, 1, 1, 'objfreelist', 0]);
  });

  it('objects above a page take the first order that holds one (slab_max_order 1 stops the search there)', () => {
    expect(row(8192)).toEqual([8192, 1, 2, 'objfreelist', 0]);
    expect(slabCacheGeometry(spec({ objectSize: 16384 }))).toMatchObject({ num: 1, gfporder: 2 });
    expect(slabCacheGeometry(spec({ objectSize: 4194304 }))).toMatchObject({ num: 1, gfporder: 10 });
    // Above KMALLOC_MAX_ORDER nothing fits: -E2BIG.
    expect(slabCacheGeometry(spec({ objectSize: 4194305 }))).toBeNull();
  });
});

describe('SLAB geometry of other caches', () => {
  const k = bootKmalloc();

  it('a constructor rules out OBJFREELIST; OFF_SLAB is taken only when the leftover could not hold the array', () => {
    // 512 with a ctor: off-slab gives 8 per page with nothing left (the 8-byte
    // array from kmalloc-32, at most half of 512); on-slab would give 7.
    expect(slabCacheGeometry(spec({ objectSize: 512, hasCtor: true, kmallocSlab: k.slab }))).toMatchObject({
      placement: 'off_slab',
      num: 8,
      gfporder: 0,
      colour: 0,
    });
    // 1000 with a ctor: off-slab leaves 96 bytes, enough for the 4-byte array,
    // so on-slab: 4096 / 1001 = 4, 92 left, one colour of 64.
    expect(slabCacheGeometry(spec({ objectSize: 1000, hasCtor: true, kmallocSlab: k.slab }))).toMatchObject({
      placement: 'on_slab',
      num: 4,
      colour: 1,
      leftOver: 92,
    });
    // SLAB_NOLEAKTRACE never goes off-slab.
    expect(slabCacheGeometry(spec({ objectSize: 512, hasCtor: true, flags: SLAB_NOLEAKTRACE, kmallocSlab: k.slab }))).toMatchObject({
      placement: 'on_slab',
      num: 7,
    });
    // 24 with a ctor: off-slab needs kmalloc-192 for 170 entries (> 12): on-slab, 4096 / 25.
    expect(slabCacheGeometry(spec({ objectSize: 24, hasCtor: true, kmallocSlab: k.slab }))).toMatchObject({ placement: 'on_slab', num: 163, leftOver: 21 });
  });

  it('objects below SLAB_OBJ_MIN_SIZE are padded to 16 bytes so a byte index can count them', () => {
    // 256 would not fit a byte index: on-slab, 4096 / 17 = 240.
    expect(slabCacheGeometry(spec({ objectSize: 8, kmallocSlab: k.slab }))).toMatchObject({ size: 16, placement: 'on_slab', num: 240 });
  });

  it('waste above an eighth moves to the next order, except for SLAB_RECLAIM_ACCOUNT caches', () => {
    // 3000: order 0 wastes 1096 bytes (> 512): order 1, 2 objects, 2192 left, 34 colours.
    expect(slabCacheGeometry(spec({ objectSize: 3000 }))).toMatchObject({ gfporder: 1, num: 2, colour: 34 });
    expect(slabCacheGeometry(spec({ objectSize: 3000, flags: SLAB_RECLAIM_ACCOUNT }))).toMatchObject({ gfporder: 0, num: 1, colour: 17 });
    // With slab_max_order 0 (machines of 32 MiB or less) order 0 is kept.
    expect(slabCacheGeometry(spec({ objectSize: 3000, slabMaxOrder: 0 }))).toMatchObject({ gfporder: 0, num: 1 });
  });

  it('a larger alignment sets the colour step', () => {
    const g = slabCacheGeometry(spec({ objectSize: 200, align: 128 }))!;
    expect([g.size, g.align, g.colourOff, g.num, g.colour]).toEqual([256, 128, 128, 16, 0]);
    // SLAB_TYPESAFE_BY_RCU also rules out OBJFREELIST: 200 -> 200 bytes on-slab, 4096 / 201 = 20, 76 left, 1 colour.
    expect(slabCacheGeometry(spec({ objectSize: 200, flags: SLAB_TYPESAFE_BY_RCU, kmallocSlab: k.slab }))).toMatchObject({
      placement: 'on_slab',
      num: 20,
      colour: 1,
    });
  });

  it('cache_estimate counts the index byte per object only on-slab', () => {
    expect(cacheEstimate(0, 100, true)).toEqual({ num: 40, leftOver: 96 });
    expect(cacheEstimate(0, 100, false)).toEqual({ num: 40, leftOver: 56 });
    expect(cacheEstimate(1, 100, false)).toEqual({ num: 81, leftOver: 11 });
  });
});

describe('SLAB tunables', () => {
  it("enable_cpucache()'s table: limit by object size, batchcount half of it, shared 8 on SMP up to a page", () => {
    expect(enableCpucache(32, 2)).toEqual({ limit: 120, batchcount: 60, shared: 8 });
    expect(enableCpucache(256, 2)).toEqual({ limit: 120, batchcount: 60, shared: 8 });
    expect(enableCpucache(257, 2)).toEqual({ limit: 54, batchcount: 27, shared: 8 });
    expect(enableCpucache(1024, 2)).toEqual({ limit: 54, batchcount: 27, shared: 8 });
    expect(enableCpucache(2048, 2)).toEqual({ limit: 24, batchcount: 12, shared: 8 });
    expect(enableCpucache(4096, 2)).toEqual({ limit: 24, batchcount: 12, shared: 8 });
    expect(enableCpucache(8192, 2)).toEqual({ limit: 8, batchcount: 4, shared: 0 });
    expect(enableCpucache(131072, 2)).toEqual({ limit: 8, batchcount: 4, shared: 0 });
    expect(enableCpucache(262144, 2)).toEqual({ limit: 1, batchcount: 1, shared: 0 });
    expect(enableCpucache(32, 1)).toEqual({ limit: 120, batchcount: 60, shared: 0 });
  });

  it('free_limit: a batch per CPU on the node and one more, plus a slab', () => {
    expect(slabFreeLimit(2, 60, 124)).toBe(304);
    expect(slabFreeLimit(1, 4, 1)).toBe(9);
  });
});
