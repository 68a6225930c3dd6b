/**
 * Page allocator benchmarks: order-0 alloc+free through the per-CPU lists,
 * order-3 and order-4 alloc+free, and a mixed-order churn, each against an
 * ideal typed-array LIFO freelist (an Int32Array stack of pfns) in the same
 * rounds. Issue goal: the order-0 pair within 3x of the ideal freelist.
 *
 * bench/harness.ts: each contender's loop in a module of its own
 * (page_alloc_kmem.ts, page_alloc_ideal.ts), rounds interleaved, min and
 * median; every benchmark runs in two processes.
 */
import { boot, GFP_KERNEL } from '../src/index.js';
import { interleaved, table, twice, xorshift32 } from './harness.js';
import { churnOrder, IdealFreelist, idealAlloc, idealPageChurn, idealPagePair } from './page_alloc_ideal.js';
import { kmemPageChurn, kmemPagePair0, kmemPagePairOrder } from './page_alloc_kmem.js';

const ROUNDS = { rounds: 21, targetMs: 20 };

/**
 * order 0, 3 and 4 alloc + free (4: the first order past the pcp lists),
 * each on a machine of its own: a machine's allocPages/freePages are
 * closures of that machine (src/page_alloc/fastpath.ts) whose type feedback
 * is their own, so orders 3 and 4 going through the general path from the
 * same closures would make V8 inline that path into the order-0 loop too
 * (it inlines a call taken in more than 15% of calls) and crowd out the
 * fast path's own inlining: 17-23 ns for the order-0 pair instead of 13.
 */
function pairs(): void {
  const k0 = boot({ memory: '512M', cpus: 2 });
  const k3 = boot({ memory: '512M', cpus: 2 });
  const k4 = boot({ memory: '512M', cpus: 2 });
  const ideal = new IdealFreelist(4096, 1 << 16);
  const rows = interleaved(
    [
      { name: 'ideal: Int32Array LIFO freelist alloc + free', run: (n) => idealPagePair(ideal, n) },
      { name: 'kmem: allocPages(0, GFP_KERNEL) + freePages (pcp list)', run: (n) => kmemPagePair0(k0, n) },
      { name: 'kmem: allocPages(3, GFP_KERNEL) + freePages (pcp list)', run: (n) => kmemPagePairOrder(k3, 3, n) },
      { name: 'kmem: allocPages(4, GFP_KERNEL) + freePages (buddy lists)', run: (n) => kmemPagePairOrder(k4, 4, n) },
    ],
    ROUNDS,
  );
  table('page alloc + free (goal: order 0 <= 3x the ideal freelist)', rows, rows[0]!, 60);
}

/**
 * Mixed-order churn: 4096 live blocks of orders 0..6 (mostly small); each
 * step frees a random live block and allocates a new one of a random order.
 * Splits, merges, refills and drains.
 */
function churn(): void {
  const LIVE = 4096;
  const rk = xorshift32(12345);
  const k = boot({ memory: '512M', cpus: 2 });
  const kaddr = new Float64Array(LIVE);
  const kord = new Uint8Array(LIVE);
  for (let i = 0; i < LIVE; i++) {
    kord[i] = churnOrder(rk);
    kaddr[i] = k.allocPages(kord[i]!, GFP_KERNEL);
  }
  const ri = xorshift32(12345);
  const stacks = Array.from({ length: 7 }, (_, o) => new IdealFreelist(4096 + o * (1 << 17), 1 << 14));
  const iaddr = new Float64Array(LIVE);
  const iord = new Uint8Array(LIVE);
  for (let i = 0; i < LIVE; i++) {
    iord[i] = churnOrder(ri);
    iaddr[i] = idealAlloc(stacks[iord[i]!]!);
  }
  const rows = interleaved(
    [
      { name: 'ideal: one LIFO freelist per order, same churn', run: (n) => idealPageChurn(stacks, iaddr, iord, ri, n) },
      { name: 'kmem: free a random live block, allocate orders 0..6', run: (n) => kmemPageChurn(k, kaddr, kord, rk, n) },
    ],
    ROUNDS,
  );
  table('mixed-order churn, 4096 live blocks, per step (free + alloc)', rows, rows[0]!, 60);
}

export const benches = {
  ...twice('benchPageAlloc', pairs),
  ...twice('benchPageChurn', churn),
};
