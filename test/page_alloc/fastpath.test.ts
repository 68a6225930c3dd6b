/**
 * The order-0 fast paths installed on a plain machine's Kernel instance
 * (src/page_alloc/fastpath.ts) against Kernel.prototype's general
 * allocPages/freePages on a twin machine: the same random operations on
 * both must hand out the same addresses, report the same bad frees and
 * leave the same /proc files (vmstat's pgalloc_* / pgfree / numa_hit,
 * zoneinfo's pcp count, high and batch per CPU, buddyinfo, pagetypeinfo,
 * meminfo), with every page on exactly one list. The fast side takes its
 * order-0 __GFP_ZERO requests through pcpAllocZeroed (the anonymous fault's
 * allocation), whose pages must come back zeroed: every block is dirtied
 * before it is freed.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  __GFP_COMP,
  __GFP_HIGH,
  __GFP_MOVABLE,
  __GFP_RECLAIMABLE,
  __GFP_ZERO,
  boot,
  GFP_ATOMIC,
  GFP_DMA,
  GFP_DMA32,
  GFP_HIGHUSER_MOVABLE,
  GFP_KERNEL,
  GFP_NOWAIT,
  type Kernel,
} from '../../src/index.js';
import { pcpAllocZeroed } from '../../src/page_alloc/fastpath.js';
import { bootBlocks, dmesgText, InvariantChecker, type LiveBlock, PAGE } from './invariants.js';

const GFPS = [
  GFP_KERNEL,
  GFP_KERNEL,
  GFP_HIGHUSER_MOVABLE,
  GFP_KERNEL | __GFP_RECLAIMABLE,
  GFP_KERNEL | __GFP_ZERO,
  GFP_ATOMIC,
  GFP_NOWAIT,
  GFP_DMA,
  GFP_DMA32,
  GFP_KERNEL | __GFP_COMP,
  GFP_KERNEL | __GFP_HIGH,
  GFP_HIGHUSER_MOVABLE | __GFP_COMP | __GFP_ZERO,
  GFP_HIGHUSER_MOVABLE | __GFP_COMP | __GFP_ZERO,
  GFP_DMA | __GFP_ZERO,
] as const;

const PROC = ['/proc/vmstat', '/proc/zoneinfo', '/proc/buddyinfo', '/proc/pagetypeinfo', '/proc/meminfo'] as const;

type Op =
  | { t: 'alloc'; order: number; gfp: number; n: number }
  | { t: 'free'; pick: number; n: number }
  | { t: 'double'; pick: number }
  | { t: 'wrongOrder'; pick: number }
  | { t: 'cpu'; cpu: number }
  | { t: 'drain' };

const op: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({
      t: fc.constant('alloc' as const),
      order: fc.constantFrom(0, 0, 0, 0, 1, 3, 4),
      gfp: fc.constantFrom(...GFPS),
      n: fc.integer({ min: 1, max: 300 }),
    }),
  },
  { weight: 6, arbitrary: fc.record({ t: fc.constant('free' as const), pick: fc.nat(), n: fc.integer({ min: 1, max: 300 }) }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('double' as const), pick: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('wrongOrder' as const), pick: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('cpu' as const), cpu: fc.constantFrom(0, 1) }) },
  { weight: 1, arbitrary: fc.constant({ t: 'drain' as const }) },
);

/** One machine driven through either entry point; `cpu` is the CPU the operations run on. */
class Side {
  readonly live: LiveBlock[] = [];
  cpu = 0;
  constructor(
    readonly k: Kernel,
    private readonly alloc: (order: number, gfp: number) => number,
    private readonly free: (addr: number, order: number) => void,
  ) {}
  run(o: Op): number[] {
    return this.k.onCpu(this.cpu, () => this.step(o));
  }
  private step(o: Op): number[] {
    const out: number[] = [];
    switch (o.t) {
      case 'alloc':
        for (let i = 0; i < o.n; i++) {
          const a = this.alloc(o.order, o.gfp);
          out.push(a);
          // __GFP_ZERO: every byte of the block reads 0 (the blocks were dirtied before their free).
          if (a !== 0 && (o.gfp & __GFP_ZERO) !== 0) out.push(this.k.phys.u8.subarray(a, a + (PAGE << o.order)).some((b) => b !== 0) ? 1 : 0);
          if (a !== 0) this.live.push({ pfn: a / PAGE, order: o.order });
        }
        break;
      case 'free':
        for (let i = 0; i < o.n && this.live.length > 0; i++) {
          const [b] = this.live.splice((o.pick + i * 7919) % this.live.length, 1);
          out.push(b!.pfn);
          this.k.phys.u8.fill(0x5a, b!.pfn * PAGE, (b!.pfn + (1 << b!.order)) * PAGE);
          this.free(b!.pfn * PAGE, b!.order);
        }
        break;
      case 'double':
        // A page freed twice: bad_page() on the second free (nonzero _refcount), nothing freed.
        if (this.live.length > 0) {
          const [b] = this.live.splice(o.pick % this.live.length, 1);
          this.free(b!.pfn * PAGE, b!.order);
          this.free(b!.pfn * PAGE, b!.order);
        }
        break;
      case 'wrongOrder':
        // An order-0 free of a higher-order block (or order 1 of an order-0 page): refused and reported.
        if (this.live.length > 0) {
          const b = this.live[o.pick % this.live.length]!;
          this.free(b.pfn * PAGE, b.order === 0 ? 1 : 0);
        }
        break;
      case 'cpu':
        this.cpu = o.cpu;
        break;
      case 'drain':
        this.k.drainAllPages();
        break;
    }
    return out;
  }
}

function machines(): [Side, Side] {
  const opts = { memory: '64M', cpus: 2, zones: { DMA: '16M', DMA32: '48M' }, transparentHugepage: 'never' } as const;
  const kf = boot(opts);
  const ks = boot(opts);
  const zeroed = pcpAllocZeroed(kf.pageAlloc);
  const fast = new Side(
    kf,
    (o, g) => {
      if (o !== 0 || (g & __GFP_ZERO) === 0) return kf.allocPages(o, g);
      const pfn = zeroed(g);
      return pfn < 0 ? 0 : pfn * PAGE;
    },
    (a, o) => kf.freePages(a, o),
  );
  // Kernel.prototype's methods: the general paths the instance's own fast paths stand in front of.
  const proto = Object.getPrototypeOf(ks) as Kernel;
  const slow = new Side(
    ks,
    (o, g) => proto.allocPages.call(ks, o, g),
    (a, o) => proto.freePages.call(ks, a, o),
  );
  return [fast, slow];
}

describe('order-0 fast paths (src/page_alloc/fastpath.ts)', () => {
  it('are installed on a plain machine, and not with KASAN or CPU threads', () => {
    const [fast] = machines();
    expect(Object.hasOwn(fast.k, 'allocPages') && Object.hasOwn(fast.k, 'freePages')).toBe(true);
    expect(Object.hasOwn(boot({ memory: '64M', kasan: 'generic' }), 'allocPages')).toBe(false);
  });

  it('do what Kernel.prototype.allocPages/freePages do: same addresses, reports and /proc files', () => {
    fc.assert(
      fc.property(fc.array(op, { minLength: 1, maxLength: 40 }), (ops) => {
        const [fast, slow] = machines();
        const check = new InvariantChecker(fast.k);
        const bootLive = bootBlocks(fast.k);
        for (const o of ops) {
          expect(fast.run(o)).toEqual(slow.run(o));
        }
        for (const f of PROC) expect(fast.k.proc.read(f), f).toBe(slow.k.proc.read(f));
        // The reports' call traces differ only in which line of this file called.
        const dmesg = (k: Kernel) => dmesgText(k).map((l) => l.replace(/fastpath\.test\.ts:\d+/, 'fastpath.test.ts'));
        expect(dmesg(fast.k)).toEqual(dmesg(slow.k));
        check.check([...bootLive, ...fast.live]);
      }),
      { numRuns: 25 },
    );
  });

  it('pop the head of the pcp list (LIFO): a freed page comes back first, and the pcp count and pgfree follow', () => {
    const [fast] = machines();
    const k = fast.k;
    const a = k.allocPages(0, GFP_KERNEL);
    const b = k.allocPages(0, GFP_KERNEL);
    const vm0 = vmstat(k);
    k.freePages(a, 0);
    k.freePages(b, 0);
    expect(k.allocPages(0, GFP_KERNEL)).toBe(b);
    expect(k.allocPages(0, GFP_KERNEL)).toBe(a);
    const vm1 = vmstat(k);
    expect(vm1.pgfree! - vm0.pgfree!).toBe(2);
    expect(vm1.pgalloc_dma32! - vm0.pgalloc_dma32!).toBe(2);
    expect(vm1.numa_hit! - vm0.numa_hit!).toBe(2);
  });

  it('leave bad flags to the general path, which throws: both mobility bits, a forbidden zone mix', () => {
    const [fast] = machines();
    expect(() => fast.k.allocPages(0, GFP_KERNEL | __GFP_RECLAIMABLE | __GFP_MOVABLE)).toThrow(/__GFP_MOVABLE and __GFP_RECLAIMABLE/);
    expect(() => fast.k.allocPages(0, GFP_DMA | GFP_DMA32)).toThrow(RangeError);
    expect(() => fast.k.allocPages(0, -1)).toThrow(RangeError);
    expect(() => fast.k.freePages(4097, 0)).not.toThrow();
    expect(() => fast.k.freePages(-4096, 0)).toThrow(RangeError);
  });

  it('leave a bad free to the general path: a double free is reported once and frees nothing', () => {
    const [fast] = machines();
    const k = fast.k;
    const a = k.allocPages(0, GFP_KERNEL);
    k.freePages(a, 0);
    const before = k.proc.read('/proc/zoneinfo');
    const n = dmesgText(k).length;
    k.freePages(a, 0);
    expect(
      dmesgText(k)
        .slice(n)
        .some((l) => l.includes('BUG: Bad page state')),
    ).toBe(true);
    expect(k.proc.read('/proc/zoneinfo')).toBe(before);
  });
});

function vmstat(k: Kernel): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of k.proc.read('/proc/vmstat').split('\n')) {
    const [name, v] = line.split(' ');
    if (name) out[name] = Number(v);
  }
  return out;
}
