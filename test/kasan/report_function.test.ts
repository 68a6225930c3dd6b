/**
 * The function a KASAN report names on its BUG line: for a bad access the
 * caller's code that made it; for a bad free (6.x) the freeing function the
 * report's ip is in: kfree, kmem_cache_free, kmem_cache_free_bulk.
 */
import { describe, expect, it } from 'vitest';
import { GFP_KERNEL } from '../../src/page_alloc/gfp.js';
import { kasanBoot } from './helpers.js';

const bugLine = (k: ReturnType<typeof kasanBoot>) => k.kasan!.reports().at(-1)!.lines[1];

describe('the BUG: KASAN line names the function', () => {
  it('of the bad access: the caller', () => {
    const k = kasanBoot();
    function readsPastTheEnd(p: number) {
      return k.mem.read8(p + 64);
    }
    readsPastTheEnd(k.kmalloc(64, GFP_KERNEL));
    expect(bugLine(k)).toBe('BUG: KASAN: slab-out-of-bounds in readsPastTheEnd');
  });

  it('of a bad free: kfree, kmem_cache_free, kmem_cache_free_bulk', () => {
    const k = kasanBoot();
    function freesTwice(p: number) {
      k.kfree(p);
      k.kfree(p);
    }
    freesTwice(k.kmalloc(64, GFP_KERNEL));
    expect(bugLine(k)).toBe('BUG: KASAN: double-free in kfree');
    k.kfree(k.kmalloc(20000, GFP_KERNEL) + 8);
    expect(bugLine(k)).toBe('BUG: KASAN: invalid-free in kfree');
    const c = k.kmemCacheCreate('freed_twice', 80, {});
    const o = k.kmemCacheAlloc(c, GFP_KERNEL);
    k.kmemCacheFree(c, o);
    k.kmemCacheFree(c, o);
    expect(bugLine(k)).toBe('BUG: KASAN: double-free in kmem_cache_free');
    const p = k.kmemCacheAlloc(c, GFP_KERNEL);
    k.kmemCacheFreeBulk(c, [p + 1]);
    expect(bugLine(k)).toBe('BUG: KASAN: invalid-free in kmem_cache_free_bulk');
  });
});
