/**
 * The buddy allocator's exact behaviour (mm/page_alloc.c): the boot layout of
 * free memory, splitting by expand(), merging by __free_one_page(), zone
 * selection by GFP flags, compound pages and __GFP_ZERO.
 */
import { describe, expect, it } from 'vitest';
import {
  __GFP_COMP,
  __GFP_DMA32,
  __GFP_MEMALLOC,
  __GFP_MOVABLE,
  __GFP_NOWARN,
  __GFP_ZERO,
  boot,
  GFP_DMA,
  GFP_DMA32,
  GFP_KERNEL,
  type Kernel,
} from '../../src/index.js';
import { PG_head } from '../../src/memory/page.js';
import { ZONE_DMA, ZONE_DMA32, ZONE_NORMAL } from '../../src/page_alloc/mmzone.js';
import {
  bootBlocks,
  booted,
  buddyinfoCounts,
  canonicalCounts,
  canonicalFreeBlocks,
  expectCanonical,
  freeBlocks,
  InvariantChecker,
  PAGE,
  zoneRange,
} from './invariants.js';

const M = 1024 * 1024;

/** One /proc/buddyinfo line as frag_show_print() prints it: "Node %d, zone %8s " then "%6lu " per order. */
function line(zone: string, counts: number[]): string {
  return `Node 0, zone ${zone.padStart(8)} ${counts.map((n) => `${String(n).padStart(6)} `).join('')}\n`;
}
const ones = (last: number) => [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, last];
const only = (order: number, n: number) => Array.from({ length: 11 }, (_, o) => (o === order ? n : 0));

/**
 * DMA 16M, DMA32 112M (pfn 4096..32767, exactly the DMA32 of a 128M machine)
 * and a 16M Normal zone. The slab layer's boot caches (GFP_KERNEL) come from
 * the preferred zone, Normal, so DMA and DMA32 stay as boot freed them and a
 * GFP_DMA32 request sees a pristine DMA32.
 */
const M144 = { memory: '144M', zones: { DMA: '16M', DMA32: '112M', Normal: '16M' } } as const;

describe('boot: every zone is freed in maximal aligned blocks', () => {
  it('128M: DMA (pfn 1..4095) holds one block of each order 0..9 and three order-10 blocks', () => {
    const { k, boot: held } = booted(boot({ memory: '128M' }));
    expect(k.proc.read('/proc/buddyinfo').split('\n')[0]).toBe(line('DMA', ones(3)).slice(0, -1));
    // The only pages in use are the slab layer's boot caches, taken from the preferred zone DMA32.
    expect(held.length).toBeGreaterThan(0);
    expect(held.length).toBeLessThan(64);
    for (const b of held) {
      expect(k.pageAlloc.pageZone(b.pfn)).toBe(ZONE_DMA32);
      expect(k.pages.slabCache[b.pfn]).toBeGreaterThanOrEqual(0);
    }
    // Everything else is free and fully merged: 28 order-10 blocks less what the slab pages break up.
    expectCanonical(k, held);
    expect(buddyinfoCounts(k, 'DMA32')).toEqual(canonicalCounts(k, ZONE_DMA32, held));
    expect(buddyinfoCounts(k, 'DMA32')[10]).toBe(27);
  });

  it('with the slab layer in ZONE_NORMAL, DMA32 [16M, 128M) is 28 order-10 blocks', () => {
    const { k, boot: held } = booted(boot(M144));
    const text = k.proc.read('/proc/buddyinfo').split('\n');
    expect(text[0]).toBe(line('DMA', ones(3)).slice(0, -1));
    expect(text[1]).toBe(line('DMA32', only(10, 28)).slice(0, -1));
    for (const b of held) expect(k.pageAlloc.pageZone(b.pfn)).toBe(ZONE_NORMAL);
    expectCanonical(k, held);
  });

  it('16M: only the DMA zone exists', () => {
    const { k, boot: held } = booted(boot({ memory: '16M' }));
    expect(k.proc.read('/proc/buddyinfo').split('\n').length).toBe(2);
    expectCanonical(k, held);
    expect(canonicalCounts(k, ZONE_DMA, [])).toEqual(ones(3));
  });

  it('4M: pfn 1..1023 is one block of each order 0..9', () => {
    const { k, boot: held } = booted(boot({ memory: '4M' }));
    expect(canonicalCounts(k, ZONE_DMA, [])).toEqual(ones(0));
    expectCanonical(k, held);
  });

  it('18M: the 2M of DMA32 is one order-9 block', () => {
    const { k, boot: held } = booted(boot({ memory: '18M' }));
    expect(k.proc.read('/proc/buddyinfo').split('\n')[0]).toBe(line('DMA', ones(3)).slice(0, -1));
    expect(canonicalCounts(k, ZONE_DMA32, [])).toEqual(only(9, 1));
    expectCanonical(k, held);
  });

  it('16M + 3 pages: DMA32 [4096, 4099) is an order-1 and an order-0 block', () => {
    const { k, boot: held } = booted(boot({ memory: 16 * M + 3 * PAGE }));
    expect(zoneRange(k, ZONE_DMA32)).toEqual([4096, 4099]);
    expect(canonicalFreeBlocks(k, ZONE_DMA32, [])).toEqual([
      [4096, 1],
      [4098, 0],
    ]);
    expectCanonical(k, held);
  });

  it('1G: DMA32 [16M, 1G) is 252 order-10 blocks', () => {
    const { k, boot: held } = booted(boot({ memory: '1G' }));
    expect(k.proc.read('/proc/buddyinfo').split('\n')[0]).toBe(line('DMA', ones(3)).slice(0, -1));
    expect(canonicalCounts(k, ZONE_DMA32, [])).toEqual(only(10, 252));
    expectCanonical(k, held);
  });

  it('zones {DMA: 16M, DMA32: 32M, Normal: 16M}: 8 and 4 order-10 blocks above DMA', () => {
    const { k, boot: held } = booted(boot({ memory: '64M', zones: { DMA: '16M', DMA32: '32M', Normal: '16M' } }));
    const text = k.proc.read('/proc/buddyinfo').split('\n');
    expect(text[0]).toBe(line('DMA', ones(3)).slice(0, -1));
    expect(text[1]).toBe(line('DMA32', only(10, 8)).slice(0, -1));
    expect(canonicalCounts(k, ZONE_NORMAL, [])).toEqual(only(10, 4));
    expect(zoneRange(k, ZONE_DMA32)).toEqual([4096, 12288]);
    expect(zoneRange(k, ZONE_NORMAL)).toEqual([12288, 16384]);
    expectCanonical(k, held);
  });

  it.each([
    ['4M', undefined],
    ['5M', undefined],
    ['21M', undefined],
    ['100M', undefined],
    ['14M', { DMA: '4M', DMA32: '2M', Normal: '8M' }],
    ['14M', { DMA: '2M', DMA32: '6M', Normal: '6M' }],
    ['24M', { DMA: '16M', Movable: '8M' }],
  ] as const)('%s %o: the free blocks are exactly the maximal aligned blocks around the pages boot allocated', (memory, zones) => {
    const { k, boot: held } = booted(boot({ memory, ...(zones ? { zones } : {}) }));
    new InvariantChecker(k).check(held);
    expectCanonical(k, held);
  });
});

describe('splitting and merging (GFP_DMA32 on a pristine DMA32 zone of 28 order-10 blocks)', () => {
  const fresh = () => booted(boot({ ...M144, cpus: 2 })).k;
  const dma32Line = (k: Kernel) => k.proc.read('/proc/buddyinfo').split('\n')[1];

  it('one order-0 page splits an order-10 block: after draining, one free block at each order 0..9 in DMA32', () => {
    const k = fresh();
    const bootText = k.proc.read('/proc/buddyinfo');
    const addr = k.allocPages(0, GFP_DMA32);
    // The lowest pfn of DMA32: boot frees go to the tail, so 4096 heads the list.
    expect(addr).toBe(0x1000000);
    k.drainAllPages();
    expect(dma32Line(k)).toBe(line('DMA32', ones(27)).slice(0, -1));
    // expand() hands back the upper halves: pfn 4097 (order 0), 4098 (1), 4100 (2) ... 4608 (9).
    const small = freeBlocks(k, ZONE_DMA32)
      .filter((b) => b.order < 10)
      .map((b) => [b.order, b.pfn])
      .sort((a, b) => a[0]! - b[0]!);
    expect(small).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9].map((o) => [o, 4096 + (1 << o)]));
    k.freePages(addr, 0);
    k.drainAllPages();
    expect(k.proc.read('/proc/buddyinfo')).toBe(bootText);
  });

  it('without the drain, the pcp refill of batch=7 pages is missing from the free lists', () => {
    const k = fresh();
    k.allocPages(0, GFP_DMA32);
    // Pages 4096..4102 went to the pcp list; 4103 (order 0), 4104 (order 3), ... 4608 (order 9) stay free.
    expect(dma32Line(k)).toBe(line('DMA32', [1, 0, 0, 1, 1, 1, 1, 1, 1, 1, 27]).slice(0, -1));
  });

  it('order 3: the pcp refill takes max(batch >> 3, 2) = 2 blocks; draining returns the second', () => {
    const k = fresh();
    const boot0 = k.proc.read('/proc/buddyinfo');
    const a = k.allocPages(3, GFP_DMA32);
    expect(a).toBe(0x1000000);
    expect(dma32Line(k)).toBe(line('DMA32', [0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 27]).slice(0, -1));
    k.drainAllPages();
    expect(dma32Line(k)).toBe(line('DMA32', [0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 27]).slice(0, -1));
    k.freePages(a, 3);
    k.drainAllPages();
    expect(k.proc.read('/proc/buddyinfo')).toBe(boot0);
  });

  it('order 10 bypasses the pcp lists: the first order-10 block of DMA32 goes and comes back whole', () => {
    const k = fresh();
    const boot0 = k.proc.read('/proc/buddyinfo');
    const a = k.allocPages(10, GFP_DMA32);
    expect(a).toBe(0x1000000);
    expect(dma32Line(k)).toBe(line('DMA32', only(10, 27)).slice(0, -1));
    k.freePages(a, 10);
    expect(k.proc.read('/proc/buddyinfo')).toBe(boot0);
  });

  it('an order-9 and an order-5 block: expand() leaves exactly the upper halves', () => {
    const k = fresh();
    const a = k.allocPages(9, GFP_DMA32);
    expect(a).toBe(4096 * PAGE);
    const b = k.allocPages(5, GFP_DMA32);
    // The order-9 half at 4608 is split for the order-5 request (orders 5..8 go back).
    expect(b).toBe(4608 * PAGE);
    expect(dma32Line(k)).toBe(line('DMA32', [0, 0, 0, 0, 0, 1, 1, 1, 1, 0, 27]).slice(0, -1));
    k.freePages(b, 5);
    expect(dma32Line(k)).toBe(line('DMA32', [0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 27]).slice(0, -1));
    k.freePages(a, 9);
    expect(dma32Line(k)).toBe(line('DMA32', only(10, 28)).slice(0, -1));
  });

  it('freeing in any order merges back to the boot state', () => {
    const { k, boot: held } = booted(boot({ ...M144, cpus: 2 }));
    const boot0 = k.proc.read('/proc/buddyinfo');
    const blocks: [number, number][] = [];
    for (const o of [0, 3, 1, 10, 2, 0, 5, 9, 4, 7, 0, 0, 6, 8, 1]) blocks.push([k.allocPages(o, GFP_DMA32), o]);
    for (const [a] of blocks) expect(a).not.toBe(0);
    // Free odd positions first, then the rest backwards.
    const order = [...blocks.filter((_, i) => i % 2 === 1), ...blocks.filter((_, i) => i % 2 === 0).reverse()];
    for (const [a, o] of order) k.freePages(a, o);
    k.drainAllPages();
    expect(k.proc.read('/proc/buddyinfo')).toBe(boot0);
    new InvariantChecker(k).check(held);
  });
});

describe('zones: GFP zone modifiers and the zonelist', () => {
  it('GFP_DMA comes from ZONE_DMA: an order-10 request gets the first DMA order-10 block (pfn 1024)', () => {
    const k = boot({ memory: '128M' });
    expect(k.allocPages(10, GFP_DMA)).toBe(1024 * PAGE);
  });

  it('GFP_DMA order 0: a movable request takes the order-0 block at pfn 1; an unmovable one steals the largest block', () => {
    const k = boot({ memory: '128M' });
    // Movable pages come from the smallest Movable block: pfn 1.
    expect(k.allocPages(0, GFP_DMA | __GFP_MOVABLE)).toBe(1 * PAGE);
    // Unmovable has no free list of its own yet; __rmqueue_fallback() searches from
    // MAX_PAGE_ORDER down and claims the whole order-10 block at pfn 1024.
    const a = k.allocPages(0, GFP_DMA);
    expect(a).toBe(1024 * PAGE);
    expect(k.pageAlloc.pageZone(a / PAGE)).toBe(ZONE_DMA);
  });

  it('GFP_KERNEL and GFP_DMA32 prefer DMA32 on a machine without ZONE_NORMAL', () => {
    const k = boot({ memory: '128M' });
    expect(k.allocPages(0, GFP_KERNEL)).toBeGreaterThanOrEqual(16 * M);
    expect(k.allocPages(2, GFP_KERNEL | __GFP_DMA32)).toBeGreaterThanOrEqual(16 * M);
  });

  it('GFP_KERNEL prefers ZONE_NORMAL when it exists; GFP_DMA32 never gets Normal memory', () => {
    const k = boot({ memory: '64M', zones: { DMA: '16M', DMA32: '32M', Normal: '16M' } });
    expect(k.pageAlloc.pageZone(k.allocPages(0, GFP_KERNEL) / PAGE)).toBe(ZONE_NORMAL);
    expect(k.allocPages(0, GFP_KERNEL | __GFP_DMA32) / PAGE).toBe(4096);
  });

  it('merging never crosses a zone boundary: the order-9 blocks of DMA32 [1024,1536) and Normal [1536,2048) are buddies but stay apart', () => {
    // DMA [1,1024), DMA32 [1024,1536), Normal [1536,3584): the slab layer's boot pages come from
    // Normal's order-10 block at 2048, so Normal's order-9 block at 1536 is free.
    const { k, boot: held } = booted(boot({ memory: '14M', zones: { DMA: '4M', DMA32: '2M', Normal: '8M' } }));
    const at = (zone: number) => freeBlocks(k, zone).map((b) => [b.pfn, b.order]);
    expect(at(ZONE_DMA32)).toEqual([[1024, 9]]);
    expect(at(ZONE_NORMAL)).toContainEqual([1536, 9]);
    expectCanonical(k, held);
    // An order-9 block is the whole DMA32 zone, under every watermark: only __GFP_MEMALLOC gets it,
    // and only once DMA's own order-9 block (pfn 512) is gone, since the zonelist would fall back to it.
    const dma = k.allocPages(9, GFP_DMA);
    expect(dma / PAGE).toBe(512);
    expect(k.allocPages(9, GFP_DMA32 | __GFP_NOWARN)).toBe(0);
    const d = k.allocPages(9, GFP_KERNEL | __GFP_DMA32 | __GFP_MEMALLOC);
    expect(d / PAGE).toBe(1024);
    // Free it while its buddy (Normal's free order-9 block at 1536) sits on the lists: no merge.
    k.freePages(d, 9);
    expect(at(ZONE_DMA32)).toEqual([[1024, 9]]);
    expect(at(ZONE_NORMAL)).toContainEqual([1536, 9]);
    k.freePages(dma, 9);
    expectCanonical(k, held);
  });
});

describe('compound pages and zeroing', () => {
  const pageOf = (_k: Kernel, a: number) => a / PAGE;

  it('__GFP_COMP: PG_head and the order on the head, every tail points at its head; the marking is undone on free', () => {
    const k = boot({ memory: '32M' });
    const a = k.allocPages(3, GFP_KERNEL | __GFP_COMP);
    const pfn = pageOf(k, a);
    const p = k.pages;
    expect(p.flags[pfn]! & (1 << PG_head)).not.toBe(0);
    expect(p.order[pfn]).toBe(3);
    expect(p.head[pfn]).toBe(-1);
    for (let i = 1; i < 8; i++) {
      expect(p.head[pfn + i]).toBe(pfn);
      expect(p.flags[pfn + i]! & (1 << PG_head)).toBe(0);
      expect(p.compoundHead(pfn + i)).toBe(pfn);
    }
    expect(p.head[pfn + 8]).toBe(-1);
    k.freePages(a, 3);
    expect(p.flags[pfn]! & (1 << PG_head)).toBe(0);
    for (let i = 1; i < 8; i++) expect(p.head[pfn + i]).toBe(-1);
  });

  it('without __GFP_COMP a high-order block is not compound', () => {
    const k = boot({ memory: '32M' });
    const pfn = pageOf(k, k.allocPages(2, GFP_KERNEL));
    expect(k.pages.flags[pfn]! & (1 << PG_head)).toBe(0);
    for (let i = 1; i < 4; i++) expect(k.pages.head[pfn + i]).toBe(-1);
    expect(k.pages.order[pfn]).toBe(2);
  });

  it('__GFP_ZERO zeroes every byte of the block; without it the old contents stay', () => {
    const k = boot({ memory: '32M' });
    const u8 = k.phys.u8;
    const a = k.allocPages(1, GFP_KERNEL);
    u8.fill(0xab, a, a + 2 * PAGE);
    k.freePages(a, 1);
    // The pcp lists are LIFO: the same block comes back, dirty.
    const b = k.allocPages(1, GFP_KERNEL);
    expect(b).toBe(a);
    expect(u8[b]).toBe(0xab);
    expect(u8[b + 2 * PAGE - 1]).toBe(0xab);
    k.freePages(b, 1);
    const c = k.allocPages(1, GFP_KERNEL | __GFP_ZERO);
    expect(c).toBe(a);
    expect(u8.subarray(c, c + 2 * PAGE).every((x) => x === 0)).toBe(true);
    // Only the block: the byte after it is untouched.
    u8[c + 2 * PAGE] = 0x5a;
    k.freePages(c, 1);
    k.allocPages(1, GFP_KERNEL | __GFP_ZERO);
    expect(u8[c + 2 * PAGE]).toBe(0x5a);
  });

  it('getZeroedPage() is an order-0 __GFP_ZERO page; getFreePages/freePagesAddr are allocPages/freePages', () => {
    const k = boot({ memory: '32M' });
    const a = k.getFreePages(GFP_KERNEL, 0);
    k.phys.u8.fill(0xcc, a, a + PAGE);
    k.freePagesAddr(a, 0);
    const z = k.getZeroedPage(GFP_KERNEL);
    expect(z).toBe(a);
    expect(k.phys.u8.subarray(z, z + PAGE).every((x) => x === 0)).toBe(true);
    const big = k.getFreePages(GFP_KERNEL, 4);
    expect(big % (16 * PAGE)).toBe(0);
    k.freePagesAddr(big, 4);
    k.freePagesAddr(z, 0);
    k.drainAllPages();
    new InvariantChecker(k).check(bootBlocks(k));
  });

  it('freeing address 0 (NULL) does nothing', () => {
    const k = boot({ memory: '32M' });
    const before = k.proc.read('/proc/buddyinfo');
    k.freePages(0, 0);
    k.freePagesAddr(0, 3);
    expect(k.proc.read('/proc/buddyinfo')).toBe(before);
    expect(k.dmesg().some((l) => l.includes('Bad page'))).toBe(false);
  });
});
