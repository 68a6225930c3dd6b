/**
 * SLAB's object paths step by step, worked by hand from mm/slab.c:
 * cache_alloc_refill's batch (16 while the head array is untouched, else
 * batchcount), growth and the colour of each new slab, the shared array
 * between CPUs (cache_flusharray, transfer_objects), the reaper's fifth,
 * and shrink. The cache `obj64` (64 bytes, no flags) has 64 objects per
 * page with the index array in a free object, limit 120, batchcount 60,
 * shared 8 (a shared array of 480) on two CPUs.
 */
import { describe, expect, it } from 'vitest';
import { boot } from '../../src/kernel.js';
import { GFP_KERNEL } from '../../src/page_alloc/gfp.js';
import { SLAB_MAX_ORDER_HI } from '../../src/slab/calculate.js';
import { SLABS_FREE, SLABS_FULL, SLABS_PARTIAL, SlabAllocator } from '../../src/slab/slab.js';
import { SLAB_HWCACHE_ALIGN, SLAB_NOLEAKTRACE, SLAB_RECLAIM_ACCOUNT, SLAB_TYPESAFE_BY_RCU } from '../../src/slub/slab_flags.js';

const PAGE = 4096;
const bits = { hwcacheAlign: SLAB_HWCACHE_ALIGN, typesafeByRcu: SLAB_TYPESAFE_BY_RCU, reclaimAccount: SLAB_RECLAIM_ACCOUNT, noLeakTrace: SLAB_NOLEAKTRACE };

function setup() {
  const k = boot({ memory: '32M', cpus: 2 });
  const s = new SlabAllocator(k.pageAlloc, k.pages, k.phys, 2, bits, SLAB_MAX_ORDER_HI);
  s.initKmalloc();
  const id = s.createCache('obj64', 64, 0, 0, null);
  return { k, s, id, c: s.caches[id]! };
}

describe('SLAB allocation', () => {
  it('an untouched head array refills 16 from a new slab; a touched one a whole batch', () => {
    const { s, id, c } = setup();
    expect([c.limit, c.batchcount, c.shared, c.sharedEntry.length, c.freeLimit]).toEqual([120, 60, 8, 480, 3 * 60 + 64]);
    const a = s.cacheAlloc(id, GFP_KERNEL, 0);
    const S1 = a - (a % PAGE);
    // Indices 0..15 went to the array; the pop takes the last, index 15.
    expect(a).toBe(S1 + 15 * 64);
    expect(c.acAvail[0]).toBe(15);
    expect([c.totalSlabs, c.freeSlabs, c.freeObjects]).toEqual([1, 0, 48]);
    expect(c.heads[SLABS_PARTIAL]).toBe(S1 / PAGE);
    for (let i = 14; i >= 0; i--) expect(s.cacheAlloc(id, GFP_KERNEL, 0)).toBe(S1 + i * 64);
    // Touched now: the refill wants 60, the slab has 48 (indices 16..63), and
    // then neither a partial nor a free slab: it stops there.
    expect(s.cacheAlloc(id, GFP_KERNEL, 0)).toBe(S1 + 63 * 64);
    expect(c.acAvail[0]).toBe(47);
    expect([c.totalSlabs, c.freeObjects, c.freeTouched]).toEqual([1, 0, true]);
    expect(c.heads[SLABS_FULL]).toBe(S1 / PAGE);
    // A full OBJFREELIST slab has no index array.
    expect(s.pages.slabNext[S1 / PAGE]).toBe(0);
  });

  it('colours successive slabs one cache line further each, the first at colour 1', () => {
    const { s } = setup();
    const id = s.createCache('obj3000', 3000, 0, 0, null);
    const c = s.caches[id]!;
    expect([c.g.gfporder, c.g.num, c.g.colour, c.limit, c.batchcount]).toEqual([1, 2, 34, 24, 12]);
    const a = s.cacheAlloc(id, GFP_KERNEL, 0);
    const A = a - (a % (2 * PAGE));
    expect(s.pages.index[A / PAGE]).toBe(64);
    expect(a).toBe(A + 64 + 3000);
    s.cacheAlloc(id, GFP_KERNEL, 0);
    const b = s.cacheAlloc(id, GFP_KERNEL, 0);
    const B = b - (b % (2 * PAGE));
    expect(B).not.toBe(A);
    expect(s.pages.index[B / PAGE]).toBe(128);
  });
});

describe('SLAB free and the shared array', () => {
  it('a full head array hands its oldest batch to the shared array, where another CPU refills from the top', () => {
    const { s, id, c } = setup();
    const objs: number[] = [];
    for (let i = 0; i < 121; i++) objs.push(s.cacheAlloc(id, GFP_KERNEL, 0));
    // 16 from slab 1, then its other 48, then 60 of slab 2's 64 (indices 0..59,
    // popped from 59 down): 121 handed out, slab 2's indices 0, 1, 2 still in the array.
    const S2 = objs[64]! - (objs[64]! % PAGE);
    expect(objs[64]).toBe(S2 + 59 * 64);
    expect(c.acAvail[0]).toBe(3);
    expect([c.totalSlabs, c.freeObjects]).toEqual([2, 4]);
    for (const o of objs) s.cacheFree(id, o, 0);
    // The 118th free found 120 in the array: its bottom 60 (the three, then
    // objs[0..56]) went to the shared array; 3 more frees followed.
    expect(c.acAvail[0]).toBe(64);
    expect(c.sharedAvail).toBe(60);
    expect([...c.sharedEntry.subarray(0, 60)]).toEqual([S2, S2 + 64, S2 + 128, ...objs.slice(0, 57)]);
    expect([...c.acEntry.subarray(0, 64)]).toEqual(objs.slice(57));
    // CPU 1, untouched: 16 from the top of the shared array (objs[41..56]), pop objs[56].
    expect(s.cacheAlloc(id, GFP_KERNEL, 1)).toBe(objs[56]);
    expect(c.acAvail[1]).toBe(15);
    expect(c.sharedAvail).toBe(44);
    expect(c.sharedTouched).toBe(true);
    // Freeing the object on top of the array again is refused (__free_one's hardened check).
    const top = s.cacheAlloc(id, GFP_KERNEL, 1);
    expect(s.cacheFree(id, top, 1)).toBe(true);
    expect(s.cacheFree(id, top, 1)).toBe(false);
  });

  it('the reaper skips a touched array once, then frees (limit + 4) / 5 of it from the bottom; shrink empties everything', () => {
    const { k, s, id, c } = setup();
    const objs: number[] = [];
    for (let i = 0; i < 121; i++) objs.push(s.cacheAlloc(id, GFP_KERNEL, 0));
    for (const o of objs) s.cacheFree(id, o, 0);
    const before = c.freeObjects;
    // (The array holds objs[57..120], as in the test above.)
    s.reapCache(id, 0, false);
    expect(c.acAvail[0]).toBe(64);
    expect(c.acTouched[0]).toBe(0);
    s.reapCache(id, 0, false);
    expect(c.acAvail[0]).toBe(64 - 24);
    expect(c.freeObjects).toBe(before + 24);
    // objs[57..80] went back to their slabs; objs[81] is now at the bottom.
    expect(c.acEntry[0]).toBe(objs[81]);
    expect(s.shrink(id, 0)).toBe(false);
    expect([c.totalSlabs, c.freeSlabs, c.freeObjects, c.acAvail[0], c.sharedAvail]).toEqual([0, 0, 0, 0, 0]);
    expect(c.heads[SLABS_FREE]).toBe(-1);
    expect(s.slabPagesUnreclaimable).toBe(0);
    expect(k.pages.pageType[objs[0]! >>> 12]).toBe(0);
  });
});
