/**
 * Error paths of the page allocator API: bad arguments throw at once and name
 * the argument; frees the kernel's bad-page checks catch print
 * "BUG: Bad page state" with the page dump (mm/page_alloc.c bad_page(),
 * mm/debug.c dump_page()) and, with onBug: 'throw', throw a KernelBug.
 */
import { describe, expect, it } from 'vitest';
import {
  __GFP_COMP,
  __GFP_DMA,
  __GFP_DMA32,
  __GFP_HIGHMEM,
  __GFP_MOVABLE,
  __GFP_RECLAIMABLE,
  boot,
  GFP_KERNEL,
  type Kernel,
  KernelBug,
} from '../../src/index.js';
import { type Booted, booted, dmesgText, freeBlocks, InvariantChecker, type LiveBlock, PAGE } from './invariants.js';

/** A page inside a free order-10 block of the zone: never allocated. */
function freeInnerPfn(b: Booted, zone: number): number {
  const blk = freeBlocks(b.k, zone).find((f) => f.order === 10)!;
  return blk.pfn + 5;
}

const hex5 = (pfn: number) => pfn.toString(16).padStart(5, '0');

describe('bad arguments throw and name the argument', () => {
  const { k, boot: held } = booted(boot({ memory: '16M' }));
  const before = k.proc.read('/proc/buddyinfo');

  it.each([11, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 31])('allocPages(order %o) throws a RangeError naming order', (order) => {
    expect(() => k.allocPages(order, GFP_KERNEL)).toThrow(RangeError);
    expect(() => k.allocPages(order, GFP_KERNEL)).toThrow(/^order: /);
  });

  it.each(['1', undefined, null, {}, 1n])('allocPages(order %o) throws a TypeError naming order', (order) => {
    expect(() => k.allocPages(order as unknown as number, GFP_KERNEL)).toThrow(TypeError);
    expect(() => k.allocPages(order as unknown as number, GFP_KERNEL)).toThrow(/^order: /);
  });

  it.each([-1, 1.5, Number.NaN, 2 ** 32])('allocPages(0, gfp %o) throws a RangeError naming gfp', (gfp) => {
    expect(() => k.allocPages(0, gfp)).toThrow(RangeError);
    expect(() => k.allocPages(0, gfp)).toThrow(/^gfp/);
  });

  it.each(['GFP_KERNEL', undefined, [0xcc0]])('allocPages(0, gfp %o) throws a TypeError naming gfp', (gfp) => {
    expect(() => k.allocPages(0, gfp as unknown as number)).toThrow(TypeError);
    expect(() => k.allocPages(0, gfp as unknown as number)).toThrow(/^gfp/);
  });

  it.each([
    ['__GFP_DMA | __GFP_DMA32', __GFP_DMA | __GFP_DMA32],
    ['__GFP_DMA | __GFP_HIGHMEM', __GFP_DMA | __GFP_HIGHMEM],
    ['__GFP_DMA32 | __GFP_HIGHMEM', __GFP_DMA32 | __GFP_HIGHMEM],
  ])('zone modifiers that cannot go together (%s) throw a RangeError naming gfp', (_name, bits) => {
    expect(() => k.allocPages(0, GFP_KERNEL | bits)).toThrow(RangeError);
    expect(() => k.allocPages(0, GFP_KERNEL | bits)).toThrow(/^gfp/);
  });

  it('__GFP_MOVABLE with __GFP_RECLAIMABLE names no migratetype: a RangeError naming gfp, from the page and slab allocators alike', () => {
    const bits = __GFP_MOVABLE | __GFP_RECLAIMABLE;
    expect(() => k.allocPages(0, GFP_KERNEL | bits)).toThrow(/^gfp: __GFP_MOVABLE and __GFP_RECLAIMABLE together/);
    expect(() => k.kmalloc(64, GFP_KERNEL | bits)).toThrow(RangeError);
    expect(() => k.kmalloc(64, GFP_KERNEL | bits)).toThrow(/^gfp/);
  });

  it.each([-PAGE, 16 * 1024 * 1024, 2 ** 40])('freePages(addr %o) outside memory throws a RangeError naming addr', (addr) => {
    expect(() => k.freePages(addr, 0)).toThrow(RangeError);
    expect(() => k.freePages(addr, 0)).toThrow(/^addr: /);
  });

  it.each([1.5, Number.NaN, '4096', undefined])('freePages(addr %o) that is not an integer throws a TypeError naming addr', (addr) => {
    expect(() => k.freePages(addr as number, 0)).toThrow(TypeError);
    expect(() => k.freePages(addr as number, 0)).toThrow(/^addr: /);
  });

  it.each([11, -1, 0.5, Number.NaN])('freePages(addr, order %o) throws a RangeError naming order', (order) => {
    const a = k.allocPages(0, GFP_KERNEL);
    expect(() => k.freePages(a, order)).toThrow(RangeError);
    expect(() => k.freePages(a, order)).toThrow(/^order: /);
    k.freePages(a, 0);
  });

  it('the same checks guard getFreePages, getZeroedPage and freePagesAddr', () => {
    expect(() => k.getFreePages(GFP_KERNEL, 12)).toThrow(/^order: /);
    expect(() => k.getZeroedPage('x' as unknown as number)).toThrow(/^gfp/);
    expect(() => k.freePagesAddr(-1, 0)).toThrow(/^addr: /);
  });

  it('none of this touched the allocator, and nothing was reported', () => {
    k.drainAllPages();
    expect(k.proc.read('/proc/buddyinfo')).toBe(before);
    expect(k.dmesg().some((l) => l.includes('BUG'))).toBe(false);
    new InvariantChecker(k).check(held);
  });
});

/** Run fn and return the dmesg lines it added, without timestamps. */
function newLines(k: Kernel, fn: () => void): string[] {
  const n = k.dmesg().length;
  fn();
  return dmesgText(k).slice(n);
}

/** The report's structure: BUG line, dump_page() lines, reason, modules, stack. */
function expectBadPage(lines: string[], pfn: number, reason: string, comm = 'kmem'): void {
  expect(lines[0]).toBe(`BUG: Bad page state in process ${comm}  pfn:${hex5(pfn)}`);
  expect(lines[1]).toMatch(new RegExp(`^page: refcount:-?\\d+ mapcount:-?\\d+ mapping:[0-9a-f]{16} index:0x[0-9a-f]+ pfn:0x${pfn.toString(16)}$`));
  const flags = lines.find((l) => l.startsWith('flags: '));
  expect(flags).toMatch(/^flags: 0x[0-9a-f]+\((?:[a-z_0-9]+\|)*node=0\|zone=\d\|lastcpupid=0x[0-9a-f]+\)$/);
  const raws = lines.filter((l) => l.startsWith('raw: '));
  expect(raws.length).toBe(2);
  for (const r of raws) expect(r).toMatch(/^raw: [0-9a-f]{16} [0-9a-f]{16} [0-9a-f]{16} [0-9a-f]{16}$/);
  expect(lines).toContain(`page dumped because: ${reason}`);
  expect(lines).toContain('Modules linked in:');
  expect(lines.some((l) => /^CPU: \d+ UID: 0 PID: \d+ Comm: /.test(l))).toBe(true);
  expect(lines).toContain('Call Trace:');
}

describe('bad page state', () => {
  it('double free while the page sits on a pcp list: refcount underflows to -1', () => {
    const { k, boot: held } = booted(boot({ memory: '32M' }));
    const a = k.allocPages(0, GFP_KERNEL);
    k.freePages(a, 0);
    const lines = newLines(k, () => k.freePages(a, 0));
    expectBadPage(lines, a / PAGE, 'nonzero _refcount');
    expect(lines[1]).toMatch(/^page: refcount:-1 /);
    // The first report taints the kernel and turns lock debugging off, once.
    expect(lines).toContain('Disabling lock debugging due to kernel taint');
    expect(k.isTainted).toBe(true);
    new InvariantChecker(k).check(held);
  });

  it('double free after the page went back to the buddy lists: the dump shows the buddy page type', () => {
    const { k, boot: held } = booted(boot({ memory: '32M' }));
    const a = k.allocPages(0, GFP_KERNEL);
    k.freePages(a, 0);
    k.drainAllPages();
    const bootText = k.proc.read('/proc/buddyinfo');
    const lines = newLines(k, () => k.freePages(a, 0));
    expectBadPage(lines, a / PAGE, 'nonzero _refcount');
    expect(lines).toContain('page_type: f0(buddy)');
    expect(k.proc.read('/proc/buddyinfo')).toBe(bootText);
    new InvariantChecker(k).check(held);
  });

  it('a page that was never allocated (inside a free block)', () => {
    const b = booted(boot({ memory: '32M' }));
    const pfn = freeInnerPfn(b, 1);
    const lines = newLines(b.k, () => b.k.freePages(pfn * PAGE, 0));
    expectBadPage(lines, pfn, 'nonzero _refcount');
    new InvariantChecker(b.k).check(b.boot);
  });

  it('a tail page of a compound page', () => {
    const { k, boot: held } = booted(boot({ memory: '32M' }));
    const a = k.allocPages(2, GFP_KERNEL | __GFP_COMP);
    const lines = newLines(k, () => k.freePages(a + PAGE, 0));
    expectBadPage(lines, a / PAGE + 1, 'freeing a tail page of a compound page');
    // dump_page() of a tail page describes its head too.
    expect(lines).toContain('head: order:2 mapcount:0 entire_mapcount:0 nr_pages_mapped:0 pincount:0');
    new InvariantChecker(k).check([...held, { pfn: a / PAGE, order: 2 }]);
    k.freePages(a, 2);
    k.drainAllPages();
    new InvariantChecker(k).check(held);
  });

  it.each([
    [2, 1],
    [2, 3],
    [0, 10],
    [3, 0],
  ])('an order-%i block freed as order %i', (order, wrong) => {
    const { k, boot: held } = booted(boot({ memory: '32M' }));
    const bootText = k.proc.read('/proc/buddyinfo');
    const a = k.allocPages(order, GFP_KERNEL);
    const lines = newLines(k, () => k.freePages(a, wrong));
    expectBadPage(lines, a / PAGE, `freeing order ${wrong}, allocated as order ${order}`);
    // Nothing was freed: the block is still allocated and can be freed right.
    new InvariantChecker(k).check([...held, { pfn: a / PAGE, order }]);
    k.freePages(a, order);
    k.drainAllPages();
    new InvariantChecker(k).check(held);
    expect(k.proc.read('/proc/buddyinfo')).toBe(bootText);
  });

  it('an address that is not page-aligned', () => {
    const { k, boot: held } = booted(boot({ memory: '32M' }));
    const a = k.allocPages(1, GFP_KERNEL);
    const lines = newLines(k, () => k.freePages(a + 8, 1));
    expectBadPage(lines, a / PAGE, 'free_pages: address is not page-aligned');
    new InvariantChecker(k).check([...held, { pfn: a / PAGE, order: 1 }]);
  });

  it('names the current task', () => {
    const b = booted(boot({ memory: '32M' }));
    const k = b.k;
    const pfn = freeInnerPfn(b, 0);
    k.setTask({ pid: 42, comm: 'kworker/0:1' });
    const lines = newLines(k, () => k.freePages(pfn * PAGE, 0));
    expectBadPage(lines, pfn, 'nonzero _refcount', 'kworker/0:1');
    expect(lines.some((l) => /^CPU: 0 UID: 0 PID: 42 Comm: kworker\/0:1 /.test(l))).toBe(true);
  });

  it('after many bad frees mixed with good ones, the accounting still holds', () => {
    const { k, boot: held } = booted(boot({ memory: '32M', cpus: 2 }));
    const live = new Map<number, LiveBlock>();
    const rnd = (() => {
      let x = 12345;
      return (n: number) => {
        x ^= x << 13;
        x ^= x >>> 17;
        x ^= x << 5;
        return (x >>> 0) % n;
      };
    })();
    const freed: [number, number][] = [];
    for (let i = 0; i < 600; i++) {
      const r = rnd(10);
      if (r < 5 || live.size === 0) {
        const order = rnd(4);
        const a = k.allocPages(order, GFP_KERNEL | (rnd(2) ? __GFP_COMP : 0));
        if (a) live.set(a, { pfn: a / PAGE, order });
      } else if (r < 8) {
        const [a, b] = [...live.entries()][rnd(live.size)]!;
        k.onCpu(rnd(2), () => k.freePages(a, b.order));
        live.delete(a);
        freed.push([a, b.order]);
      } else if (freed.length > 0) {
        // A double free, or a free with a wrong order of a live block.
        if (rnd(2)) {
          const [a, o] = freed[rnd(freed.length)]!;
          if (!live.has(a)) k.freePages(a, o);
        } else if (live.size > 0) {
          const [a, b] = [...live.entries()][rnd(live.size)]!;
          k.freePages(a, (b.order + 1) % 4);
        }
      }
      new InvariantChecker(k).check([...held, ...live.values()]);
    }
    expect(k.dmesg().filter((l) => l.includes('BUG: Bad page state')).length).toBeGreaterThan(10);
  });
});

describe("onBug: 'throw'", () => {
  it('throws a KernelBug whose message is the first line of the report, after printing it', () => {
    const { k, boot: held } = booted(boot({ memory: '32M', onBug: 'throw' }));
    const a = k.allocPages(0, GFP_KERNEL);
    k.freePages(a, 0);
    const n = k.dmesg().length;
    let caught: unknown;
    try {
      k.freePages(a, 0);
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(KernelBug);
    const bug = caught as KernelBug;
    expect(bug.message).toBe(`BUG: Bad page state in process kmem  pfn:${hex5(a / PAGE)}`);
    expect(bug.kind).toBe('bad_page');
    expect(bug.report.split('\n')).toContain('page dumped because: nonzero _refcount');
    expect(dmesgText(k).slice(n)[0]).toBe(bug.message);
    // The machine goes on: the accounting holds and the page can be used again.
    new InvariantChecker(k).check(held);
    expect(k.allocPages(0, GFP_KERNEL)).toBe(a);
    k.freePages(a, 0);
  });

  it.each([
    ['a tail page', (k: Kernel, a: number) => k.freePages(a + PAGE, 0), 'freeing a tail page of a compound page'],
    ['a wrong order', (k: Kernel, a: number) => k.freePages(a, 1), 'freeing order 1, allocated as order 2'],
    ['an unaligned address', (k: Kernel, a: number) => k.freePages(a + 1, 2), 'free_pages: address is not page-aligned'],
  ])('%s throws, and the block stays allocated', (_what, bad, reason) => {
    const { k, boot: held } = booted(boot({ memory: '32M', onBug: 'throw' }));
    const a = k.allocPages(2, GFP_KERNEL | __GFP_COMP);
    expect(() => bad(k, a)).toThrow(KernelBug);
    expect(dmesgText(k)).toContain(`page dumped because: ${reason}`);
    new InvariantChecker(k).check([...held, { pfn: a / PAGE, order: 2 }]);
    k.freePages(a, 2);
    new InvariantChecker(k).check(held);
  });

  it('bad arguments still throw their TypeError/RangeError, not a KernelBug', () => {
    const k = boot({ memory: '16M', onBug: 'throw' });
    expect(() => k.allocPages(11, GFP_KERNEL)).toThrow(RangeError);
    expect(() => k.freePages(1.5, 0)).toThrow(TypeError);
  });
});
