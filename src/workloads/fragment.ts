/**
 * The built-in "fragment" workload: page-level churn that fragments the
 * buddy allocator.
 *
 * A mix of long-lived unmovable kernel pages (page tables, kernel stacks,
 * slab-like order-1..3 blocks), reclaimable pages and short-lived movable
 * user pages is allocated up to about half of memory and freed in random
 * order, movable pages much sooner than the rest. The unmovable pages left
 * behind pin the pageblocks they sit in, and when a migratetype's own
 * pageblocks run dry the allocator steals from the others (the fallback
 * path, counted in /proc/vmstat). Now and then a transparent-huge-page sized
 * (order-9) or order-4 allocation is tried without reclaim, the way THP
 * faults and network drivers try: it succeeds at first and fails more and
 * more as the free memory breaks up. /proc/buddyinfo and
 * /sys/kernel/debug/extfrag/unusable_index show the result.
 */

import type { Kernel } from '../kernel.js';
import { __GFP_NORETRY, __GFP_NOWARN, __GFP_RECLAIMABLE, GFP_HIGHUSER_MOVABLE, GFP_KERNEL, GFP_TRANSHUGE_LIGHT } from '../page_alloc/gfp.js';
import { generatorWorkload, rnd, rndInt, takeRandom, type Workload, type WorkloadSteps } from './workload.js';

interface Block {
  addr: number;
  order: number;
}

/** Counters a caller can read while the workload runs. */
export interface FragmentStats {
  highOrderTries: number;
  highOrderFailures: number;
}

export function* fragmentSteps(k: Kernel, stats: FragmentStats = { highOrderTries: 0, highOrderFailures: 0 }): WorkloadSteps {
  let managed = 0;
  for (const z of k.inspect.zones()) managed += z.managed;
  const target = Math.floor(managed * 0.5);
  const movable: Block[] = [];
  const kernel: Block[] = [];
  let held = 0;

  const take = (order: number, gfp: number, into: Block[]) => {
    const addr = k.allocPages(order, gfp);
    if (addr !== 0) {
      into.push({ addr, order });
      held += 1 << order;
    }
  };
  const drop = (list: Block[]) => {
    const b = takeRandom(k, list);
    k.freePages(b.addr, b.order);
    held -= 1 << b.order;
  };

  for (;;) {
    const cpu = rndInt(k, k.cpus);
    const r = rnd(k);
    k.onCpu(cpu, () => {
      if (held < target && r < 0.6) {
        const u = rnd(k);
        if (u < 0.62) take(0, GFP_HIGHUSER_MOVABLE, movable);
        else if (u < 0.85) take(0, GFP_KERNEL, kernel);
        else if (u < 0.93) take(0, GFP_KERNEL | __GFP_RECLAIMABLE, kernel);
        else take(1 + rndInt(k, 3), GFP_KERNEL | __GFP_NOWARN, kernel);
      } else if (r < 0.97) {
        // user memory comes and goes; kernel memory mostly stays
        if (movable.length > 0 && (kernel.length === 0 || rnd(k) < 0.9)) drop(movable);
        else if (kernel.length > 0) drop(kernel);
      } else {
        // a THP fault or a driver's order-4 buffer, no reclaim, no warning
        const order = rnd(k) < 0.5 ? 9 : 4;
        const gfp = order === 9 ? GFP_TRANSHUGE_LIGHT | __GFP_NOWARN : GFP_KERNEL | __GFP_NOWARN | __GFP_NORETRY;
        stats.highOrderTries++;
        const addr = k.allocPages(order, gfp);
        if (addr === 0) stats.highOrderFailures++;
        else if (order === 9) movable.push({ addr, order });
        else kernel.push({ addr, order });
        if (addr !== 0) held += 1 << order;
      }
    });
    k.tick(2_000);
    yield;
  }
}

export function fragmentWorkload(k: Kernel): Workload {
  return generatorWorkload('fragment', fragmentSteps(k));
}
