/**
 * Model-based property tests of the page allocator (fast-check fc.commands):
 * random allocations of random orders with random GFP zone, mobility and
 * reserve flags on random CPUs, frees of random live blocks, and drains. After
 * every single step the invariant checker walks the allocator's typed arrays:
 * no two blocks overlap, allocated + free + pcp = managed per zone, every free
 * block is aligned, inside one zone, on the list of its order and marked as a
 * buddy, nr_free and NR_FREE_PAGES equal a recount, and no two free buddies
 * below pageblock order were left unmerged.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  __GFP_COMP,
  __GFP_DMA,
  __GFP_DMA32,
  __GFP_HIGH,
  __GFP_HIGHMEM,
  __GFP_MEMALLOC,
  __GFP_MOVABLE,
  __GFP_NOWARN,
  __GFP_RECLAIMABLE,
  __GFP_ZERO,
  type BootOptions,
  boot,
  GFP_ATOMIC,
  GFP_KERNEL,
  GFP_NOWAIT,
  gfpZone,
  type Kernel,
  MAX_PAGE_ORDER,
} from '../../src/index.js';
import { Z_RESERVED_HIGHATOMIC } from '../../src/page_alloc/mmzone.js';
import { EV_EXTFRAG } from '../../src/page_alloc/page_alloc.js';
import { booted, InvariantChecker, type LiveBlock, PAGE, pcpCount } from './invariants.js';

interface Model {
  /** Blocks the test holds, in no particular order (swap-remove on free). */
  live: (LiveBlock & { addr: number; tag: number })[];
  /** A high-order atomic request reserved a HighAtomic pageblock at some point. */
  maybeHighatomic: boolean;
  tags: number;
}

interface Real {
  k: Kernel;
  checker: InvariantChecker;
  cpus: number;
  /** Blocks boot left allocated (the slab layer's boot caches). */
  held: LiveBlock[];
}

function check(m: Model, r: Real): void {
  r.checker.check(r.held.length === 0 ? m.live : [...r.held, ...m.live]);
}

let steps = 0;
/** Runs that ended with every page merged back into the boot layout. */
let mergedBack = 0;
/** Allocations that failed (memory pressure was reached) and steals from other migratetypes. */
let failed = 0;
let fallbacks = 0;

/** Check the marker the test wrote into the first and last byte of each page of a live block. */
function checkTag(k: Kernel, b: { addr: number; order: number; tag: number }): void {
  const u8 = k.phys.u8;
  for (let i = 0; i < 1 << b.order; i++) {
    const a = b.addr + i * PAGE;
    if (u8[a] !== b.tag || u8[a + PAGE - 1] !== b.tag) {
      throw new Error(`block ${b.addr.toString(16)} order ${b.order}: page ${i} was overwritten while allocated`);
    }
  }
}

class AllocCommand implements fc.Command<Model, Real> {
  constructor(
    readonly order: number,
    readonly gfp: number,
    readonly cpu: number,
  ) {}
  check(): boolean {
    return true;
  }
  run(m: Model, r: Real): void {
    const { k } = r;
    const cpu = this.cpu % r.cpus;
    const a = k.onCpu(cpu, () => k.allocPages(this.order, this.gfp));
    // A HighAtomic pageblock does not merge with its neighbours at pageblock order, and one that
    // was reserved and given back is not re-merged: then the end state need not be the boot state.
    for (let z = 0; z < 5; z++) if (k.pageAlloc.zones.get(z, Z_RESERVED_HIGHATOMIC) > 0) m.maybeHighatomic = true;
    if (a === 0) failed++;
    if (a !== 0) {
      const pfn = a / PAGE;
      if (!Number.isInteger(pfn) || pfn % (1 << this.order) !== 0) throw new Error(`address ${a} not aligned to order ${this.order}`);
      const zone = k.pageAlloc.pageZone(pfn);
      if (zone > gfpZone(this.gfp)) throw new Error(`gfp ${this.gfp.toString(16)} allows zones up to ${gfpZone(this.gfp)}, got zone ${zone}`);
      const u8 = k.phys.u8;
      if (this.gfp & __GFP_ZERO) {
        for (let i = 0; i < 1 << this.order; i++) {
          const p = a + i * PAGE;
          if (u8[p] !== 0 || u8[p + 1000] !== 0 || u8[p + PAGE - 1] !== 0) throw new Error(`__GFP_ZERO block ${a} page ${i} is not zeroed`);
        }
      }
      m.tags = (m.tags % 250) + 1;
      const tag = m.tags;
      for (let i = 0; i < 1 << this.order; i++) {
        u8[a + i * PAGE] = tag;
        u8[a + i * PAGE + PAGE - 1] = tag;
        u8[a + i * PAGE + 1000] = tag;
      }
      m.live.push({ pfn, order: this.order, addr: a, tag });
    }
    check(m, r);
    steps++;
  }
  toString(): string {
    return `alloc(order ${this.order}, gfp 0x${this.gfp.toString(16)}, cpu ${this.cpu})`;
  }
}

class FreeCommand implements fc.Command<Model, Real> {
  constructor(
    readonly pick: number,
    readonly cpu: number,
  ) {}
  check(m: Readonly<Model>): boolean {
    return m.live.length > 0;
  }
  run(m: Model, r: Real): void {
    const { k } = r;
    const i = this.pick % m.live.length;
    const b = m.live[i]!;
    checkTag(k, b);
    m.live[i] = m.live[m.live.length - 1]!;
    m.live.pop();
    k.onCpu(this.cpu % r.cpus, () => k.freePages(b.addr, b.order));
    check(m, r);
    steps++;
  }
  toString(): string {
    return `free(#${this.pick}, cpu ${this.cpu})`;
  }
}

class DrainCommand implements fc.Command<Model, Real> {
  check(): boolean {
    return true;
  }
  run(m: Model, r: Real): void {
    r.k.drainAllPages();
    for (let cpu = 0; cpu < r.cpus; cpu++) {
      for (let z = 0; z < 5; z++) {
        if (pcpCount(r.k, cpu, z) !== 0) throw new Error(`cpu ${cpu} zone ${z} pcp not empty after drain`);
      }
    }
    check(m, r);
    steps++;
  }
  toString(): string {
    return 'drainAllPages()';
  }
}

const orderArb = fc.oneof(
  { weight: 12, arbitrary: fc.integer({ min: 0, max: 3 }) },
  { weight: 4, arbitrary: fc.integer({ min: 4, max: 8 }) },
  { weight: 1, arbitrary: fc.integer({ min: 9, max: MAX_PAGE_ORDER }) },
);

const gfpArb = fc
  .record({
    base: fc.constantFrom(GFP_KERNEL, GFP_KERNEL, GFP_ATOMIC, GFP_NOWAIT, GFP_KERNEL | __GFP_HIGH),
    zone: fc.constantFrom(0, 0, __GFP_DMA, __GFP_DMA32, __GFP_HIGHMEM),
    mobility: fc.constantFrom(0, __GFP_MOVABLE, __GFP_MOVABLE, __GFP_RECLAIMABLE),
    comp: fc.boolean(),
    zero: fc.integer({ min: 0, max: 9 }).map((n) => n === 0),
    memalloc: fc.integer({ min: 0, max: 19 }).map((n) => n === 0),
  })
  .map((g) => g.base | g.zone | g.mobility | __GFP_NOWARN | (g.comp ? __GFP_COMP : 0) | (g.zero ? __GFP_ZERO : 0) | (g.memalloc ? __GFP_MEMALLOC : 0));

const commands = fc.commands(
  [
    // Three allocations to two frees, so that runs reach memory pressure.
    fc.tuple(orderArb, gfpArb, fc.nat(7)).map(([o, g, c]) => new AllocCommand(o, g, c)),
    fc.tuple(orderArb, gfpArb, fc.nat(7)).map(([o, g, c]) => new AllocCommand(o, g, c)),
    fc.tuple(orderArb, gfpArb, fc.nat(7)).map(([o, g, c]) => new AllocCommand(o, g, c)),
    fc.tuple(fc.nat(), fc.nat(7)).map(([p, c]) => new FreeCommand(p, c)),
    fc.tuple(fc.nat(), fc.nat(7)).map(([p, c]) => new FreeCommand(p, c)),
    fc.constant(new DrainCommand()),
  ],
  { maxCommands: 3000, size: 'max' },
);

function runModel(opts: BootOptions, numRuns: number): void {
  const bootText = booted(boot(opts)).k.proc.read('/proc/buddyinfo');
  fc.assert(
    fc.property(commands, (cmds) => {
      const { k, boot: held } = booted(boot(opts));
      const real: Real = { k, checker: new InvariantChecker(k), cpus: opts.cpus ?? 2, held };
      const model: Model = { live: [], maybeHighatomic: false, tags: 0 };
      fc.modelRun(() => ({ model, real }), cmds);
      // Give everything back: the zones must be whole again.
      for (const b of model.live) {
        checkTag(k, b);
        k.freePages(b.addr, b.order);
      }
      model.live = [];
      fallbacks += k.pageAlloc.events[EV_EXTFRAG]!;
      k.drainAllPages();
      real.checker.check(held);
      if (!model.maybeHighatomic) {
        expect(k.proc.read('/proc/buddyinfo')).toBe(bootText);
        mergedBack++;
      }
    }),
    { numRuns },
  );
}

describe('model-based: random alloc/free/drain sequences keep every invariant after every step', () => {
  it('16M with three zones (DMA 4M, DMA32 6M, Normal 6M) and 3 CPUs', () => {
    runModel({ memory: '16M', zones: { DMA: '4M', DMA32: '6M', Normal: '6M' }, cpus: 3 }, 66);
  });

  it('64M default x86-64 layout (DMA + DMA32, pcp batch 3) and 2 CPUs', () => {
    runModel({ memory: '64M', cpus: 2 }, 6);
  });

  it('24M: DMA and a Movable zone (GFP_HIGHUSER_MOVABLE only) and 4 CPUs', () => {
    runModel({ memory: '24M', zones: { DMA: '16M', Movable: '8M' }, cpus: 4 }, 12);
  });

  it('ran at least 10^5 allocator operations, each followed by a full check', () => {
    console.log(
      `page allocator model: ${steps} operations checked, ${failed} failed allocations, ${fallbacks} migratetype fallbacks, ${mergedBack} runs merged back to the boot layout`,
    );
    expect(steps).toBeGreaterThanOrEqual(100_000);
    // The sequences reach memory pressure and mix migratetypes within pageblocks.
    expect(failed).toBeGreaterThan(1000);
    expect(fallbacks).toBeGreaterThan(1000);
    expect(mergedBack).toBeGreaterThan(0);
  });
});
