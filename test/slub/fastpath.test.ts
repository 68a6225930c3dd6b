/**
 * The API's fast paths (src/slub/fastpath.ts for 6.18, fastpath70.ts for
 * 7.0) against what the kernel does on the same calls: virt_to_cache()
 * reads the cache from any page of a slab, tail pages included (Slub's
 * pageCache, checked against each page's head and its slab_cache through
 * every order a kmalloc cache uses), 7.0's cross-cache WARN
 * (warn_free_bad_obj) for an object on a tail page, and a fast-path machine
 * against one whose fast paths are off (SLUB stats on) doing the same
 * calls: the same objects in the same order.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { boot, GFP_KERNEL, type Kernel, SLAB_NO_MERGE } from '../../src/index.js';

/** For every page: the cache of the slab it belongs to (through its head), or -1. */
function expectPageCacheExact(k: Kernel): void {
  const { head, slabCache, nr } = k.pages;
  const pc = k.slub.pageCache;
  const bad: string[] = [];
  for (let pfn = 0; pfn < nr; pfn++) {
    const h = head[pfn]!;
    const want = slabCache[h < 0 ? pfn : h]!;
    if (pc[pfn] !== want) bad.push(`pfn ${pfn}: ${pc[pfn]} want ${want}`);
    if (bad.length > 4) break;
  }
  expect(bad).toEqual([]);
}

describe('virt_to_cache from any page of a slab', () => {
  for (const kernel of ['6.18', '7.0'] as const) {
    it(`${kernel}: pageCache is the head's slab_cache on every page, through order-0..3 slabs, frees and shrink`, () => {
      const k = boot({ memory: '64M', cpus: 2, kernel });
      // kmalloc-64 .. kmalloc-8k: order 0 up to order 3 slabs on x86-64.
      const sizes = [64, 512, 1024, 2048, 4096, 8192];
      const live: number[] = [];
      for (const size of sizes) for (let i = 0; i < 40; i++) live.push(k.kmalloc(size, GFP_KERNEL));
      expect(live.every((p) => p > 0)).toBe(true);
      expectPageCacheExact(k);
      for (let i = 0; i < live.length; i += 2) k.kfree(live[i]!);
      expectPageCacheExact(k);
      for (let i = 1; i < live.length; i += 2) k.kfree(live[i]!);
      for (const size of sizes) k.kmemCacheShrink(k.kmemCacheByName(`kmalloc-${size >= 1024 ? `${size / 1024}k` : size}`));
      expectPageCacheExact(k);
      expect(k.dmesg().join('\n')).not.toMatch(/BUG|WARN/);
    });
  }

  it("7.0: kmemCacheFree of another cache's object on a slab's tail page warns as warn_free_bad_obj() does", () => {
    const k = boot({ memory: '64M', kernel: '7.0' });
    const a = k.kmemCacheCreate('cache_a', 2048, { flags: SLAB_NO_MERGE });
    const b = k.kmemCacheCreate('cache_b', 2048, { flags: SLAB_NO_MERGE });
    // 2 KiB objects: an order-3 slab of 16; the third object lies on the slab's second page.
    const objs = Array.from({ length: 3 }, () => k.kmemCacheAlloc(b, GFP_KERNEL));
    const tail = objs.find((p) => k.pages.head[p >>> 12]! >= 0);
    expect(tail).toBeDefined();
    k.kmemCacheFree(a, tail!);
    // 7.0's mm/slub.c warn_free_bad_obj(): "kmem_cache_free(%s, %px): object belongs to different cache %s".
    expect(k.dmesg().join('\n')).toContain(
      `kmem_cache_free(cache_a, ffff888${tail!.toString(16).padStart(9, '0')}): object belongs to different cache cache_b`,
    );
  });
});

describe('the fast paths change nothing the general path would do', () => {
  // slubStats: true turns the fast paths off (every operation is counted on the general path).
  const cmd = fc.oneof(
    fc.record({ op: fc.constant('kmalloc' as const), size: fc.integer({ min: 1, max: 2048 }) }),
    fc.record({ op: fc.constant('kfree' as const), at: fc.nat() }),
    fc.record({ op: fc.constant('cacheAlloc' as const) }),
    fc.record({ op: fc.constant('cacheFree' as const), at: fc.nat() }),
  );
  for (const kernel of ['6.18', '7.0'] as const) {
    it(`${kernel}: the same objects, in the same order, with and without the fast paths`, () => {
      fc.assert(
        fc.property(fc.array(cmd, { maxLength: 300 }), (cmds) => {
          const run = (slubStats: boolean): number[] => {
            const k = boot({ memory: '32M', cpus: 2, kernel, slubStats });
            const c = k.kmemCacheCreate('fp_cache', 96, { flags: SLAB_NO_MERGE });
            const kl: number[] = [];
            const cl: number[] = [];
            const out: number[] = [];
            for (const x of cmds) {
              if (x.op === 'kmalloc') kl.push(k.kmalloc(x.size, GFP_KERNEL));
              else if (x.op === 'cacheAlloc') cl.push(k.kmemCacheAlloc(c, GFP_KERNEL));
              else {
                const list = x.op === 'kfree' ? kl : cl;
                if (list.length === 0) continue;
                const [p] = list.splice(x.at % list.length, 1);
                if (x.op === 'kfree') k.kfree(p!);
                else k.kmemCacheFree(c, p!);
              }
              out.push(kl.length > 0 ? kl[kl.length - 1]! : 0, cl.length > 0 ? cl[cl.length - 1]! : 0);
            }
            expect(k.dmesg().join('\n')).not.toMatch(/BUG|WARN/);
            return out;
          };
          expect(run(false)).toEqual(run(true));
        }),
        { numRuns: 40 },
      );
    });
  }
});
