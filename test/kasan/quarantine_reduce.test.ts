/**
 * When an allocation shrinks the KASAN quarantine (kasan_quarantine_reduce,
 * one batch per call when the quarantine is over its limit): only an
 * allocation that may block, once in kasan_slab_alloc() and once more in
 * kasan_kmalloc() for a kmalloc, once in kasan_kmalloc_large(); never for
 * GFP_ATOMIC, and never from krealloc().
 */
import { describe, expect, it } from 'vitest';
import type { Kernel } from '../../src/kernel.js';
import { GFP_ATOMIC, GFP_KERNEL } from '../../src/page_alloc/gfp.js';
import { kasanBoot } from './helpers.js';

/**
 * A 256M machine: the quarantine may hold RAM / 32 - 2 CPUs x 1M (~6M) in
 * its global batches of 1M. Free enough 2k objects to hold over 3 batches
 * more than that.
 */
function overfill(k: Kernel): void {
  const q = k.kasan!.quarantine;
  // totalram is 256M less the reserved page frame 0.
  expect([q.maxSize, q.batchSize]).toEqual([Math.floor(((256 << 20) - 4096) / 32) - (2 << 20), 1 << 20]);
  const objs: number[] = [];
  while (objs.length * 2048 < q.maxSize + 4 * q.batchSize) objs.push(k.kmalloc(2048, GFP_ATOMIC));
  for (const o of objs) k.kfree(o);
  expect(q.size).toBeGreaterThan(q.maxSize + 2 * q.batchSize);
}

describe('kasan_quarantine_reduce() on allocation', () => {
  it('GFP_ATOMIC never shrinks the quarantine', () => {
    const k = kasanBoot({ memory: '256M' });
    overfill(k);
    const q = k.kasan!.quarantine;
    const before = q.size;
    k.kfree(k.kmalloc(32, GFP_ATOMIC));
    k.kmalloc(32, GFP_ATOMIC);
    // The free went to CPU 0's queue, not the global batches; no batch left.
    expect(q.size).toBe(before);
  });

  it('a GFP_KERNEL kmalloc frees two batches, a kmem_cache_alloc one, a large kmalloc one', () => {
    const k = kasanBoot({ memory: '256M' });
    overfill(k);
    const q = k.kasan!.quarantine;
    const c = k.kmemCacheCreate('reducer', 100, {});
    const batches = () => q.stats().globalBytes;
    let before = batches();
    k.kmalloc(32, GFP_KERNEL);
    const twoBatches = before - batches();
    before = batches();
    k.kmemCacheAlloc(c, GFP_KERNEL);
    const oneBatch = before - batches();
    expect(oneBatch).toBeGreaterThan(0);
    expect(twoBatches).toBeGreaterThan(oneBatch);
    before = batches();
    k.kmalloc(20000, GFP_KERNEL);
    expect(before - batches()).toBeGreaterThan(0);
  });

  it('krealloc() does not shrink it', () => {
    const k = kasanBoot({ memory: '256M' });
    const p = k.kmalloc(100, GFP_KERNEL);
    overfill(k);
    const q = k.kasan!.quarantine;
    const before = q.size;
    expect(k.krealloc(p, 120, GFP_KERNEL)).toBe(p); // fits in kmalloc-128: stays
    expect(q.size).toBe(before);
  });
});
