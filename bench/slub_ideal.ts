/**
 * The ideal peer of the SLUB benchmarks, each loop in a function of its
 * own: a LIFO freelist in an Int32Array (a stack of preallocated slot
 * offsets), what an allocator with no checks and no structure costs.
 */
import { mixedSize } from './mixed_sizes.js';

export class IdealLifo {
  readonly stack: Int32Array;
  top: number;
  constructor(slots: number, slotSize: number) {
    this.stack = new Int32Array(slots);
    for (let i = 0; i < slots; i++) this.stack[i] = i * slotSize;
    this.top = slots;
  }
}

/** pop then push, n times. */
export function idealPair(l: IdealLifo, n: number): number {
  const stack = l.stack;
  let top = l.top;
  let s = 0;
  for (let i = 0; i < n; i++) {
    const p = stack[--top]!;
    s ^= p;
    stack[top++] = p;
  }
  l.top = top;
  return n + (s & 0);
}

/** n times: 16 pops into out, 16 pushes back in reverse; per object. */
export function idealBulk16(l: IdealLifo, out: Uint32Array, n: number): number {
  const stack = l.stack;
  let top = l.top;
  for (let r = 0; r < n; r++) {
    for (let i = 0; i < 16; i++) out[i] = stack[--top]!;
    for (let i = 15; i >= 0; i--) stack[top++] = out[i]!;
  }
  l.top = top;
  return n * 16;
}

/**
 * The mixed churn's own floor: the same steps with no allocator (a random
 * live slot read and rewritten, the next size drawn), what every
 * contender's step pays before it allocates or frees anything; at 1M live
 * the slot's load misses the caches.
 */
export function idealMixedFloor(live: Float64Array, rnd: () => number, n: number): number {
  const count = live.length;
  let s = 0;
  for (let i = 0; i < n; i++) {
    const at = Math.floor(rnd() * count);
    const v = live[at]!;
    s ^= v;
    live[at] = v + mixedSize(rnd) * 0;
  }
  return n + (s & 0);
}
