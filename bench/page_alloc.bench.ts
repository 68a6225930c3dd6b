/**
 * Page allocator benchmarks: order-0 alloc+free through the per-CPU lists,
 * order-3 alloc+free, and a mixed-order churn, each against an ideal typed-array
 * LIFO freelist (an Int32Array stack of pfns) measured in the same run.
 * Issue goal: the order-0 pair within 3x of the ideal freelist.
 */
import { do_not_optimize } from 'mitata';
import { boot, GFP_KERNEL } from '../src/index.js';
import { ns, print, type Row, xorshift32 } from './report.js';

/** The ideal freelist: a stack of free pfns; alloc pops one and returns its address, free pushes it back. */
class IdealFreelist {
  private readonly stack: Int32Array;
  private top = 0;
  constructor(first: number, count: number) {
    this.stack = new Int32Array(count);
    for (let i = count - 1; i >= 0; i--) this.stack[this.top++] = first + i;
  }
  alloc(): number {
    return this.top > 0 ? this.stack[--this.top]! * 4096 : 0;
  }
  free(addr: number): void {
    this.stack[this.top++] = addr / 4096;
  }
}

export async function benchPageAlloc(): Promise<void> {
  const k = boot({ memory: '512M', cpus: 2 });
  const pa = k.pageAlloc;
  const ideal = new IdealFreelist(4096, 1 << 16);

  // 1. order-0 alloc + free: a pcp list pop and push on CPU 0.
  const pair: Row[] = [];
  pair.push({
    name: 'ideal Int32Array LIFO freelist alloc + free',
    ns: await ns(() => {
      const a = ideal.alloc();
      do_not_optimize(a);
      ideal.free(a);
    }),
  });
  pair.push({
    name: 'kmem allocPages(0, GFP_KERNEL) + freePages',
    ns: await ns(() => {
      const a = k.allocPages(0, GFP_KERNEL);
      do_not_optimize(a);
      k.freePages(a, 0);
    }),
  });
  pair.push({
    name: '  of which PageAlloc.allocPagesPfn + freePagesPfn',
    ns: await ns(() => {
      const p = pa.allocPagesPfn(0, GFP_KERNEL);
      do_not_optimize(p);
      pa.freePagesPfn(p, 0);
    }),
  });
  print('order-0 alloc + free through the pcp lists (goal: <= 3x the ideal freelist)', pair, pair[0]!, 56);

  // 2. order-3 alloc + free: the order-3 pcp list.
  const o3: Row[] = [pair[0]!];
  o3.push({
    name: 'kmem allocPages(3, GFP_KERNEL) + freePages',
    ns: await ns(() => {
      const a = k.allocPages(3, GFP_KERNEL);
      do_not_optimize(a);
      k.freePages(a, 3);
    }),
  });
  o3.push({
    name: 'kmem allocPages(4, GFP_KERNEL) + freePages (buddy lists)',
    ns: await ns(() => {
      const a = k.allocPages(4, GFP_KERNEL);
      do_not_optimize(a);
      k.freePages(a, 4);
    }),
  });
  print('order-3 alloc + free (and order 4, the first order past the pcp lists)', o3, o3[0]!, 56);

  // 3. mixed-order churn: 4096 live blocks of orders 0..6 (mostly small); each op frees a random
  // live block and allocates a new one of a random order. Splits, merges, refills and drains.
  const rnd = xorshift32(12345);
  const order = () => {
    const r = rnd();
    return r < 0.6 ? 0 : r < 0.75 ? 1 : r < 0.85 ? 2 : r < 0.92 ? 3 : r < 0.96 ? 4 : r < 0.99 ? 5 : 6;
  };
  const LIVE = 4096;
  const kc = boot({ memory: '512M', cpus: 2 });
  const addr = new Float64Array(LIVE);
  const ord = new Uint8Array(LIVE);
  for (let i = 0; i < LIVE; i++) {
    ord[i] = order();
    addr[i] = kc.allocPages(ord[i]!, GFP_KERNEL);
  }
  const churn: Row[] = [pair[0]!];
  churn.push({
    name: 'kmem: free a random live block, allocate orders 0..6',
    ns: await ns(() => {
      const i = Math.floor(rnd() * LIVE);
      kc.freePages(addr[i]!, ord[i]!);
      const o = order();
      ord[i] = o;
      addr[i] = kc.allocPages(o, GFP_KERNEL);
    }),
  });
  // The same churn with one ideal freelist per order (no splitting or merging at all).
  const stacks = Array.from({ length: 7 }, (_, o) => new IdealFreelist(4096 + o * (1 << 17), 1 << 14));
  const iaddr = new Float64Array(LIVE);
  const iord = new Uint8Array(LIVE);
  for (let i = 0; i < LIVE; i++) {
    iord[i] = order();
    iaddr[i] = stacks[iord[i]!]!.alloc();
  }
  churn.push({
    name: 'ideal: one LIFO freelist per order, same churn',
    ns: await ns(() => {
      const i = Math.floor(rnd() * LIVE);
      stacks[iord[i]!]!.free(iaddr[i]!);
      const o = order();
      iord[i] = o;
      iaddr[i] = stacks[o]!.alloc();
    }),
  });
  print('mixed-order churn, 4096 live blocks, per operation (free + alloc)', churn, pair[0]!, 56);
}
