/**
 * The preallocation API of 6.18's sheaves through the public Kernel: a
 * prefilled sheaf hands out exactly the objects it was filled with, from
 * the cache's own slabs, and refuses another cache's or a returned sheaf.
 */
import { describe, expect, it } from 'vitest';
import { boot, GFP_KERNEL } from '../../src/index.js';

describe('kmemCachePrefillSheaf / AllocFromSheaf / SheafSize / ReturnSheaf', () => {
  it('a sheaf of n objects gives n distinct objects of the cache, then 0', () => {
    const k = boot({ memory: '32M' });
    const c = k.kmemCacheCreate('sheafy', 128, { sheafCapacity: 8 });
    expect(k.sys.read('/sys/kernel/slab/sheafy/sheaf_capacity')).toBe('8\n');
    const sheaf = k.kmemCachePrefillSheaf(c, GFP_KERNEL, 5)!;
    expect(sheaf).not.toBeNull();
    const n = k.kmemCacheSheafSize(c, sheaf);
    expect(n).toBeGreaterThanOrEqual(5);
    const objs = Array.from({ length: n }, () => k.kmemCacheAllocFromSheaf(c, GFP_KERNEL, sheaf));
    expect(new Set(objs).size).toBe(n);
    for (const o of objs) expect(k.inspect.page(Math.floor(o / 4096)).cache).toBe('sheafy');
    expect(k.kmemCacheAllocFromSheaf(c, GFP_KERNEL, sheaf)).toBe(0);
    k.kmemCacheReturnSheaf(c, GFP_KERNEL, sheaf);
    expect(() => k.kmemCacheAllocFromSheaf(c, GFP_KERNEL, sheaf)).toThrow(/^sheaf: already returned/);
    for (const o of objs) k.kmemCacheFree(c, o);
  });

  it('refuses a cache without sheaves, another cache, a bad gfp and a non-sheaf by name', () => {
    const k = boot({ memory: '32M' });
    const a = k.kmemCacheCreate('with_sheaves', 64, { sheafCapacity: 4 });
    const b = k.kmemCacheCreate('also_sheaves', 256, { sheafCapacity: 4 });
    const plain = k.kmemCacheCreate('plain', 96, {});
    expect(() => k.kmemCachePrefillSheaf(plain, GFP_KERNEL, 2)).toThrow(/^cache: plain has no sheaves/);
    const sheaf = k.kmemCachePrefillSheaf(a, GFP_KERNEL, 2)!;
    expect(() => k.kmemCacheAllocFromSheaf(b, GFP_KERNEL, sheaf)).toThrow(/^sheaf: belongs to with_sheaves/);
    expect(() => k.kmemCacheAllocFromSheaf(a, -1, sheaf)).toThrow(/^gfp: /);
    expect(() => k.kmemCacheAllocFromSheaf(a, GFP_KERNEL, {} as never)).toThrow(TypeError);
    k.kmemCacheReturnSheaf(a, GFP_KERNEL, sheaf);
  });
});
