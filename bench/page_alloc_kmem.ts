/**
 * The kmem contenders of bench/page_alloc.bench.ts, each loop in a function
 * of its own. Each returns the operations it did.
 */
import { GFP_KERNEL, type Kernel } from '../src/index.js';
import { sink } from './harness.js';
import { churnOrder } from './page_alloc_ideal.js';

/** allocPages(0) then freePages, n times: a pcp list pop and push. */
export function kmemPagePair0(k: Kernel, n: number): number {
  let s = 0;
  for (let i = 0; i < n; i++) {
    const a = k.allocPages(0, GFP_KERNEL);
    s ^= a;
    k.freePages(a, 0);
  }
  sink(s);
  return n;
}

/** allocPages(order) then freePages, n times (orders above 0). */
export function kmemPagePairOrder(k: Kernel, order: number, n: number): number {
  let s = 0;
  for (let i = 0; i < n; i++) {
    const a = k.allocPages(order, GFP_KERNEL);
    s ^= a;
    k.freePages(a, order);
  }
  sink(s);
  return n;
}

/** n steps of the churn: free a random live block, allocate one of a random order in its place. */
export function kmemPageChurn(k: Kernel, addr: Float64Array, ord: Uint8Array, rnd: () => number, n: number): number {
  const live = addr.length;
  for (let s = 0; s < n; s++) {
    const i = Math.floor(rnd() * live);
    k.freePages(addr[i]!, ord[i]!);
    const o = churnOrder(rnd);
    ord[i] = o;
    addr[i] = k.allocPages(o, GFP_KERNEL);
  }
  return n;
}
