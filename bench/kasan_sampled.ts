/**
 * The KASAN-on contender (sampled stacks) of bench/kasan.bench.ts, each loop in a function
 * of its own in a module of its own (the same code as the other module's:
 * every k.mem call site stays monomorphic, as in a program that boots one
 * machine). Each returns the operations it did.
 */
import { GFP_KERNEL, type Kernel } from '../src/index.js';
import { sink } from './harness.js';

/** kmalloc(64) then kfree, n times. */
export function kasanPairSampled(k: Kernel, n: number): number {
  let s = 0;
  for (let i = 0; i < n; i++) {
    const p = k.kmalloc(64, GFP_KERNEL);
    s ^= p;
    k.kfree(p);
  }
  sink(s);
  return n;
}
