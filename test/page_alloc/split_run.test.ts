/**
 * rmqueue_bulk()'s split runs (PageAlloc.rmqueueSplitRun): a pcp refill that
 * splits one larger block takes all its units in one pass. The kernel calls
 * __rmqueue_smallest() once per unit; with splitRuns off kmem does too. Two
 * machines driven by the same random allocations and frees, one each way,
 * must agree on every address handed out, on every free list (order,
 * migratetype, position), on every pcp list and on every counter /proc shows.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { __GFP_MOVABLE, __GFP_NOWARN, __GFP_RECLAIMABLE, boot, GFP_ATOMIC, GFP_KERNEL, type Kernel } from '../../src/index.js';
import { MAX_NR_ZONES, MIGRATE_TYPES, NR_PAGE_ORDERS } from '../../src/page_alloc/mmzone.js';
import { InvariantChecker, PAGE, pcpListPages } from './invariants.js';

const GFPS = [GFP_KERNEL, GFP_KERNEL | __GFP_MOVABLE, GFP_KERNEL | __GFP_RECLAIMABLE, GFP_ATOMIC];

/** Every free list of every zone, head to tail, as pfn:order. */
function freeLists(k: Kernel): string[] {
  const zs = k.pageAlloc.zones;
  const out: string[] = [];
  for (let z = 0; z < MAX_NR_ZONES; z++)
    for (let o = 0; o < NR_PAGE_ORDERS; o++)
      for (let mt = 0; mt < MIGRATE_TYPES; mt++) {
        const li = (z * NR_PAGE_ORDERS + o) * MIGRATE_TYPES + mt;
        const l: number[] = [];
        for (let pfn = zs.freeHead[li]!; pfn >= 0; pfn = k.pages.next[pfn]!) l.push(pfn);
        if (l.length > 0) out.push(`${z}/${o}/${mt}: ${l.join(' ')}`);
      }
  return out;
}

function state(k: Kernel): unknown {
  const pcp: number[][][] = [];
  for (let cpu = 0; cpu < k.pageAlloc.cpus; cpu++) for (let z = 0; z < MAX_NR_ZONES; z++) pcp.push(pcpListPages(k, cpu, z));
  return {
    free: freeLists(k),
    pcp,
    buddyinfo: k.proc.read('/proc/buddyinfo'),
    pagetypeinfo: k.proc.read('/proc/pagetypeinfo'),
    zoneinfo: k.proc.read('/proc/zoneinfo'),
    vmstat: k.proc.read('/proc/vmstat'),
  };
}

describe('rmqueue_bulk split runs', () => {
  it('a refill from a fresh order-10 block: the units in address order, the rest as one block per order', () => {
    const k = boot({ memory: '512M', cpus: 1, transparentHugepage: 'never' });
    const ref = boot({ memory: '512M', cpus: 1, transparentHugepage: 'never' });
    ref.pageAlloc.splitRuns = false;
    // Order 2, reclaimable: its lists are empty after boot, so the refill splits a larger block.
    for (const m of [k, ref]) m.drainAllPages();
    const a = k.allocPages(2, GFP_KERNEL | __GFP_RECLAIMABLE);
    const b = ref.allocPages(2, GFP_KERNEL | __GFP_RECLAIMABLE);
    expect(a).toBe(b);
    expect(state(k)).toEqual(state(ref));
    // The pcp list holds the next units of the block, 4 pages apart.
    const list = pcpListPages(k, 0, k.pageAlloc.pageZone(a / PAGE))[2 * 3 + 2]!;
    expect(list.length).toBeGreaterThan(1);
    for (let i = 0; i < list.length; i++) expect(list[i]).toBe(a / PAGE + 4 * (i + 1));
  });

  it('random allocations and frees of orders 0..5 leave both machines alike', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ alloc: fc.boolean(), order: fc.integer({ min: 0, max: 5 }), gfp: fc.integer({ min: 0, max: GFPS.length - 1 }), pick: fc.nat() }), {
          minLength: 50,
          maxLength: 400,
        }),
        fc.integer({ min: 1, max: 2 }),
        (ops, cpus) => {
          const ks = [boot({ memory: '64M', cpus, transparentHugepage: 'never' }), boot({ memory: '64M', cpus, transparentHugepage: 'never' })];
          ks[1]!.pageAlloc.splitRuns = false;
          const live: [number, number][][] = [[], []];
          for (const op of ops) {
            const got: number[] = [];
            for (let m = 0; m < 2; m++) {
              const k = ks[m]!;
              const l = live[m]!;
              if (op.alloc || l.length === 0) {
                const a = k.allocPages(op.order, GFPS[op.gfp]! | __GFP_NOWARN);
                got.push(a);
                if (a !== 0) l.push([a, op.order]);
              } else {
                const [a, o] = l.splice(op.pick % l.length, 1)[0]!;
                got.push(a);
                k.freePages(a, o);
              }
            }
            expect(got[0]).toBe(got[1]);
          }
          expect(state(ks[0]!)).toEqual(state(ks[1]!));
          new InvariantChecker(ks[0]!).check(null);
        },
      ),
      { numRuns: 25 },
    );
  });
});
