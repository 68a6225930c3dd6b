/**
 * The kmem contenders of a machine booted with `kernel: '7.0'` (sheaves for
 * every cache), each loop in a function of its own, in a module of its own:
 * the same loops as bench/slub_kmem.ts, kept apart so V8 compiles them
 * apart from the 6.18 machine's. Each returns the operations it did.
 */
import { GFP_KERNEL, type Kernel, type KmemCache } from '../src/index.js';
import { sink } from './harness.js';
import { mixedSize } from './mixed_sizes.js';

/** kmalloc(64) then kfree, n times. */
export function kmem70KmallocPair(k: Kernel, n: number): number {
  let s = 0;
  for (let i = 0; i < n; i++) {
    const p = k.kmalloc(64, GFP_KERNEL);
    s ^= p;
    k.kfree(p);
  }
  sink(s);
  return n;
}

/** kmem_cache_alloc then kmem_cache_free, n times. */
export function kmem70CachePair(k: Kernel, cache: KmemCache, n: number): number {
  let s = 0;
  for (let i = 0; i < n; i++) {
    const p = k.kmemCacheAlloc(cache, GFP_KERNEL);
    s ^= p;
    k.kmemCacheFree(cache, p);
  }
  sink(s);
  return n;
}

/** n times: 256 kmalloc(64), then the 256 kfree in reverse; per object. */
export function kmem70Slow256(k: Kernel, ptrs: Float64Array, n: number): number {
  for (let r = 0; r < n; r++) {
    for (let i = 0; i < 256; i++) ptrs[i] = k.kmalloc(64, GFP_KERNEL);
    for (let i = 255; i >= 0; i--) k.kfree(ptrs[i]!);
  }
  return n * 256;
}

/** n times: kmem_cache_alloc_bulk of 16 and kmem_cache_free_bulk of them; per object. */
export function kmem70Bulk16(k: Kernel, cache: KmemCache, out: Uint32Array, n: number): number {
  for (let r = 0; r < n; r++) {
    k.kmemCacheAllocBulk(cache, 16, out);
    k.kmemCacheFreeBulk(cache, out);
  }
  return n * 16;
}

/** n steps of the mixed workload: free a random live object, kmalloc a new one of a random size. */
export function kmem70Mixed(k: Kernel, live: Float64Array, rnd: () => number, n: number): number {
  const count = live.length;
  for (let i = 0; i < n; i++) {
    const at = Math.floor(rnd() * count);
    k.kfree(live[at]!);
    live[at] = k.kmalloc(mixedSize(rnd), GFP_KERNEL);
  }
  return n;
}
