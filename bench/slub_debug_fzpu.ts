/**
 * The slub_debug=FZPU contender of bench/slub_debug.bench.ts: its loop in a module
 * of its own (the same code as its peers', so each machine's call sites stay
 * monomorphic, as in a program that boots one machine). Returns the
 * operations it did.
 */
import { GFP_KERNEL, type Kernel } from '../src/index.js';
import { sink } from './harness.js';

/** kmalloc(64) then kfree, n times. */
export function slubDebugFzpuPair(k: Kernel, n: number): number {
  let s = 0;
  for (let i = 0; i < n; i++) {
    const p = k.kmalloc(64, GFP_KERNEL);
    s ^= p;
    k.kfree(p);
  }
  sink(s);
  return n;
}
