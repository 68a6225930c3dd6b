/**
 * The ideal peer of bench/page_alloc.bench.ts, each loop in a function of
 * its own: a LIFO stack of free pfns in an Int32Array (alloc pops one and
 * returns its address, free pushes it back), and one such stack per order
 * for the churn (no splitting or merging at all).
 */

export class IdealFreelist {
  readonly stack: Int32Array;
  top = 0;
  constructor(first: number, count: number) {
    this.stack = new Int32Array(count);
    for (let i = count - 1; i >= 0; i--) this.stack[this.top++] = first + i;
  }
}

/** The churn's orders: mostly 0, a tail to 6. */
export function churnOrder(rnd: () => number): number {
  const r = rnd();
  return r < 0.6 ? 0 : r < 0.75 ? 1 : r < 0.85 ? 2 : r < 0.92 ? 3 : r < 0.96 ? 4 : r < 0.99 ? 5 : 6;
}

/** alloc then free, n times. */
export function idealPagePair(f: IdealFreelist, n: number): number {
  const stack = f.stack;
  let top = f.top;
  let s = 0;
  for (let i = 0; i < n; i++) {
    const a = top > 0 ? stack[--top]! * 4096 : 0;
    s ^= a;
    stack[top++] = a / 4096;
  }
  f.top = top;
  return n + (s & 0);
}

/** Pop one pfn's address from a freelist (0 when empty). */
export function idealAlloc(f: IdealFreelist): number {
  return f.top > 0 ? f.stack[--f.top]! * 4096 : 0;
}

/** n steps of the churn with one freelist per order. */
export function idealPageChurn(stacks: IdealFreelist[], addr: Float64Array, ord: Uint8Array, rnd: () => number, n: number): number {
  const live = addr.length;
  for (let s = 0; s < n; s++) {
    const i = Math.floor(rnd() * live);
    const f = stacks[ord[i]!]!;
    f.stack[f.top++] = addr[i]! / 4096;
    const o = churnOrder(rnd);
    ord[i] = o;
    addr[i] = idealAlloc(stacks[o]!);
  }
  return n;
}
