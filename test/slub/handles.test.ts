/**
 * kmem_cache handles: the kernel's kmem_cache pointer can't name a cache
 * that no longer exists without being a use-after-free, and never names
 * another machine's cache. kmem's cache ids are small reused integers, so
 * the handle kmemCacheCreate() and kmemCacheByName() return adds a creation
 * serial (id | serial << 12), checked against the handle word in the
 * cache's row: in one compare on the allocation fast paths.
 */
import { describe, expect, it } from 'vitest';
import { boot, GFP_KERNEL, SLAB_NO_MERGE } from '../../src/index.js';
import { CF } from '../../src/slub/slab.js';

describe('kmem_cache handles', () => {
  it('a live cache: its handle maps back to its id, accepted in one compare', () => {
    const k = boot({ memory: '16M', cpus: 2 });
    const h = k.kmemCacheCreate('a', 64);
    const id = k.slab.cacheOf(h);
    expect(h & 0xfff).toBe(id);
    expect(h).not.toBe(id);
    expect(k.slab.handleOf(id)).toBe(h);
    expect(k.kmallocApi.handleAccepted(h)).toBe(true);
    expect(k.slub.cf[id * CF.FIELDS + CF.HANDLE]).toBe(h);
    expect(k.kmemCacheByName('a')).toBe(h);
    expect(k.kmemCacheByName('no such cache')).toBe(-1);
    const o = k.kmemCacheAlloc(h, GFP_KERNEL);
    expect(o).toBeGreaterThan(0);
    k.kmemCacheFree(h, o);
  });

  it("a destroyed cache's handle is refused, though a new cache took its id", () => {
    const k = boot({ memory: '16M', cpus: 2 });
    const a = k.kmemCacheCreate('a', 64, { flags: SLAB_NO_MERGE });
    const idA = k.slab.cacheOf(a);
    k.kmemCacheDestroy(a);
    const b = k.kmemCacheCreate('b', 128, { flags: SLAB_NO_MERGE });
    expect(k.slab.cacheOf(b)).toBe(idA); // the id is reused ...
    expect(b).not.toBe(a); // ... the handle is not
    expect(k.kmallocApi.handleAccepted(a)).toBe(false);
    expect(() => k.kmemCacheAlloc(a, GFP_KERNEL)).toThrow(RangeError);
    expect(() => k.kmemCacheAlloc(a, GFP_KERNEL)).toThrow(/^cache: \d+ is not a live kmem_cache of this kernel/);
    expect(() => k.kmemCacheFree(a, 4096)).toThrow(/^cache: /);
    expect(() => k.kmemCacheDestroy(a)).toThrow(/^cache: /);
  });

  it("another kernel's handle is refused, even where that kernel has a cache of the same id", () => {
    const k1 = boot({ memory: '16M', cpus: 2 });
    const k2 = boot({ memory: '16M', cpus: 2 });
    const c1 = k1.kmemCacheCreate('a', 64);
    const c2 = k2.kmemCacheCreate('a', 64);
    expect(k2.slab.cacheOf(c2)).toBe(k1.slab.cacheOf(c1));
    expect(() => k2.kmemCacheAlloc(c1, GFP_KERNEL)).toThrow(/^cache: .*another kernel/);
    // The kmalloc caches too: created in the same order on both machines, with other serials.
    const km1 = k1.kmemCacheByName('kmalloc-64');
    expect(k2.kmallocApi.handleAccepted(km1)).toBe(false);
    expect(() => k2.kmemCacheShrink(km1)).toThrow(RangeError);
  });

  it('not a handle at all: a TypeError or RangeError naming the argument', () => {
    const k = boot({ memory: '16M', cpus: 2 });
    const h = k.kmemCacheCreate('a', 64);
    for (const bad of [h + 0.5, -h, 0, h & 0xfff, 2 ** 40 + h, Number.NaN]) {
      expect(k.kmallocApi.handleAccepted(bad)).toBe(false);
      expect(() => k.kmemCacheAlloc(bad, GFP_KERNEL)).toThrow(/^cache: /);
    }
    expect(() => k.kmemCacheAlloc('x' as never, GFP_KERNEL)).toThrow(TypeError);
  });
});
