/**
 * kmem_cache handles (KmemHandle): the kernel's kmem_cache pointer can't
 * name a cache that no longer exists without being a use-after-free, and
 * never names another machine's cache. kmem's cache ids are small reused
 * integers, so a handle adds a creation serial: id | serial << 12, checked
 * against the handle word in the cache's row (SlabCommon.cacheOf, and
 * Kmalloc.handleAccepted in one compare for the fast paths).
 */
import { describe, expect, it } from 'vitest';
import { boot } from '../../src/kernel.js';
import { CF } from '../../src/slub/slab.js';
import { SLAB_NO_MERGE } from '../../src/slub/slab_flags.js';

describe('kmem_cache handles', () => {
  it('a live cache: its handle maps back to its id, accepted in one compare', () => {
    const k = boot({ memory: '16M', cpus: 2 });
    const id = k.kmemCacheCreate('a', 64);
    const h = k.slab.handleOf(id);
    expect(h & 0xfff).toBe(id);
    expect(h).not.toBe(id);
    expect(k.slab.cacheOf(h)).toBe(id);
    expect(k.kmallocApi.handleAccepted(h)).toBe(true);
    expect(k.slub.cf[id * CF.FIELDS + CF.HANDLE]).toBe(h);
    expect(k.slab.handleByName('a')).toBe(h);
    expect(k.slab.handleByName('no such cache')).toBe(-1);
  });

  it("a destroyed cache's handle is refused, though a new cache took its id", () => {
    const k = boot({ memory: '16M', cpus: 2 });
    const a = k.kmemCacheCreate('a', 64, { flags: SLAB_NO_MERGE });
    const ha = k.slab.handleOf(a);
    k.kmemCacheDestroy(a);
    const b = k.kmemCacheCreate('b', 128, { flags: SLAB_NO_MERGE });
    expect(b).toBe(a); // the id is reused ...
    expect(k.slab.handleOf(b)).not.toBe(ha); // ... the handle is not
    expect(k.kmallocApi.handleAccepted(ha)).toBe(false);
    expect(() => k.slab.cacheOf(ha)).toThrow(RangeError);
    expect(() => k.slab.cacheOf(ha)).toThrow(/^cache: /);
  });

  it("another kernel's handle is refused, even where that kernel has a cache of the same id", () => {
    const k1 = boot({ memory: '16M', cpus: 2 });
    const k2 = boot({ memory: '16M', cpus: 2 });
    const c1 = k1.kmemCacheCreate('a', 64);
    const c2 = k2.kmemCacheCreate('a', 64);
    expect(c2).toBe(c1);
    const h1 = k1.slab.handleOf(c1);
    expect(k2.kmallocApi.handleAccepted(h1)).toBe(false);
    expect(() => k2.slab.cacheOf(h1)).toThrow(/^cache: .*another kernel/);
    // The kmalloc caches too: created in the same order on both machines, with other serials.
    const km1 = k1.slab.handleOf(k1.slab.findByName('kmalloc-64'));
    expect(k2.kmallocApi.handleAccepted(km1)).toBe(false);
  });

  it('not a handle at all: a TypeError or RangeError naming the argument', () => {
    const k = boot({ memory: '16M', cpus: 2 });
    const h = k.slab.handleOf(k.kmemCacheCreate('a', 64));
    for (const bad of [h + 0.5, -h, 0, h & 0xfff, 2 ** 40 + h, Number.NaN]) expect(k.kmallocApi.handleAccepted(bad)).toBe(false);
    expect(() => k.slab.cacheOf('x', 'cache')).toThrow(TypeError);
    expect(() => k.slab.cacheOf(h + 0.5)).toThrow(/^cache: /);
    expect(() => k.slab.cacheOf(-1)).toThrow(RangeError);
    expect(() => k.slab.cacheOf(h & 0xfff)).toThrow(RangeError);
  });
});
