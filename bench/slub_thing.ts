/**
 * @thi.ng/malloc's MemPool as the SLUB benchmarks' peer, each loop in a
 * function of its own.
 */
import type { MemPool } from '@thi.ng/malloc';
import { sink } from './harness.js';
import { mixedSize } from './mixed_sizes.js';

/** malloc(64) then free, n times. */
export function thingPair(pool: MemPool, n: number): number {
  let s = 0;
  for (let i = 0; i < n; i++) {
    const p = pool.malloc(64);
    s ^= p;
    pool.free(p);
  }
  sink(s);
  return n;
}

/** n times: 256 malloc(64), then the 256 frees in reverse; per object. */
export function thingSlow256(pool: MemPool, ptrs: Float64Array, n: number): number {
  for (let r = 0; r < n; r++) {
    for (let i = 0; i < 256; i++) ptrs[i] = pool.malloc(64);
    for (let i = 255; i >= 0; i--) pool.free(ptrs[i]!);
  }
  return n * 256;
}

/** n steps of the mixed workload on the pool. */
export function thingMixed(pool: MemPool, live: Float64Array, rnd: () => number, n: number): number {
  const count = live.length;
  for (let i = 0; i < n; i++) {
    const at = Math.floor(rnd() * count);
    pool.free(live[at]!);
    live[at] = pool.malloc(mixedSize(rnd));
  }
  return n;
}
