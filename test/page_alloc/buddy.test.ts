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
  GFP_KERNEL,
  type Kernel,
  MAX_PAGE_ORDER,
} from '../../src/index.js';
import { PG_head } from '../../src/memory/page.js';
import { ZONE_DMA, ZONE_DMA32, ZONE_NORMAL } from '../../src/page_alloc/mmzone.js';
import { freeBlocks, InvariantChecker, PAGE, zoneRange } from './invariants.js';

const M = 1024 * 1024;

/** One /proc/buddyinfo line as frag_show_print() prints it: "Node %d, zone %8s " then "%6lu " per order. */
function line(zone: string, counts: number[]): string {
  return `Node 0, zone ${zone.padStart(8)} ${counts.map((n) => `${String(n).padStart(6)} `).join('')}\n`;
}
const ones = (last: number) => [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, last];
const only = (order: number, n: number) => Array.from({ length: 11 }, (_, o) => (o === order ? n : 0));

describe('boot: every zone is freed in maximal aligned blocks', () => {
  it('128M: DMA (pfn 1..4095) gives one block of each order 0..9 and three order-10 blocks; DMA32 28 order-10 blocks', () => {
    const k = boot({ memory: '128M' });
    expect(k.proc.read('/proc/buddyinfo')).toBe(line('DMA', ones(3)) + line('DMA32', only(10, 28)));
  });

  it('16M: only the DMA zone exists', () => {
    expect(boot({ memory: '16M' }).proc.read('/proc/buddyinfo')).toBe(line('DMA', ones(3)));
  });

  it('4M: pfn 1..1023 is one block of each order 0..9', () => {
    expect(boot({ memory: '4M' }).proc.read('/proc/buddyinfo')).toBe(line('DMA', ones(0)));
  });

  it('18M: the 2M of DMA32 is one order-9 block', () => {
    expect(boot({ memory: '18M' }).proc.read('/proc/buddyinfo')).toBe(line('DMA', ones(3)) + line('DMA32', only(9, 1)));
  });

  it('16M + 3 pages: DMA32 [4096, 4099) is an order-1 and an order-0 block', () => {
    const k = boot({ memory: 16 * M + 3 * PAGE });
    expect(k.proc.read('/proc/buddyinfo')).toBe(line('DMA', ones(3)) + line('DMA32', [1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0]));
    const dma32 = freeBlocks(k, ZONE_DMA32).map((b) => [b.pfn, b.order]);
    expect(dma32.sort((a, b) => a[0]! - b[0]!)).toEqual([
      [4096, 1],
      [4098, 0],
    ]);
  });

  it('1G: DMA32 [16M, 1G) is 252 order-10 blocks', () => {
    expect(boot({ memory: '1G' }).proc.read('/proc/buddyinfo')).toBe(line('DMA', ones(3)) + line('DMA32', only(10, 252)));
  });

  it('zones {DMA: 16M, DMA32: 32M, Normal: 16M}: 8 and 4 order-10 blocks above DMA', () => {
    const k = boot({ memory: '64M', zones: { DMA: '16M', DMA32: '32M', Normal: '16M' } });
    expect(k.proc.read('/proc/buddyinfo')).toBe(line('DMA', ones(3)) + line('DMA32', only(10, 8)) + line('Normal', only(10, 4)));
    expect(zoneRange(k, ZONE_DMA32)).toEqual([4096, 12288]);
    expect(zoneRange(k, ZONE_NORMAL)).toEqual([12288, 16384]);
  });

  it.each([
    ['4M', undefined],
    ['5M', undefined],
    ['21M', undefined],
    ['100M', undefined],
    ['8M', { DMA: '4M', DMA32: '2M', Normal: '2M' }],
    ['14M', { DMA: '2M', DMA32: '6M', Normal: '6M' }],
  ] as const)('%s %o: free blocks tile each zone, aligned, and no two free buddies are left unmerged', (memory, zones) => {
    const k = boot({ memory, ...(zones ? { zones } : {}) });
    new InvariantChecker(k).check([]);
    for (let z = 0; z < 5; z++) {
      if (!k.pageAlloc.zones.populated(z)) continue;
      const [s, e] = zoneRange(k, z);
      const blocks = freeBlocks(k, z).sort((a, b) => a.pfn - b.pfn);
      let pfn = s;
      for (const b of blocks) {
        expect(b.pfn).toBe(pfn);
        // Maximal: a block is as large as its alignment and the zone's end allow.
        const align = Math.min(MAX_PAGE_ORDER, 31 - Math.clz32(b.pfn & -b.pfn));
        let best = align;
        while (b.pfn + (1 << best) > e) best--;
        expect(b.order).toBe(best);
        pfn += 1 << b.order;
      }
      expect(pfn).toBe(e);
    }
  });
});

describe('splitting and merging', () => {
  const boot128 = () => boot({ memory: '128M', cpus: 2 });

  it('one order-0 GFP_KERNEL page splits an order-10 block: after draining, one free block at each order 0..9 in DMA32', () => {
    const k = boot128();
    const bootText = k.proc.read('/proc/buddyinfo');
    const addr = k.allocPages(0, GFP_KERNEL);
    // The lowest pfn of DMA32: boot frees go to the tail, so 4096 heads the list.
    expect(addr).toBe(0x1000000);
    k.drainAllPages();
    expect(k.proc.read('/proc/buddyinfo')).toBe(line('DMA', ones(3)) + line('DMA32', ones(27)));
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
    const k = boot128();
    k.allocPages(0, GFP_KERNEL);
    // Pages 4096..4102 went to the pcp list; 4103 (order 0), 4104 (order 3), ... 4608 (order 9) stay free.
    expect(k.proc.read('/proc/buddyinfo')).toBe(line('DMA', ones(3)) + line('DMA32', [1, 0, 0, 1, 1, 1, 1, 1, 1, 1, 27]));
  });

  it('order 3: the pcp refill takes max(batch >> 3, 2) = 2 blocks; draining returns the second', () => {
    const k = boot128();
    const boot0 = k.proc.read('/proc/buddyinfo');
    const a = k.allocPages(3, GFP_KERNEL);
    expect(a).toBe(0x1000000);
    expect(k.proc.read('/proc/buddyinfo')).toBe(line('DMA', ones(3)) + line('DMA32', [0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 27]));
    k.drainAllPages();
    expect(k.proc.read('/proc/buddyinfo')).toBe(line('DMA', ones(3)) + line('DMA32', [0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 27]));
    k.freePages(a, 3);
    k.drainAllPages();
    expect(k.proc.read('/proc/buddyinfo')).toBe(boot0);
  });

  it('order 10 bypasses the pcp lists: the first order-10 block of DMA32 goes and comes back whole', () => {
    const k = boot128();
    const boot0 = k.proc.read('/proc/buddyinfo');
    const a = k.allocPages(10, GFP_KERNEL);
    expect(a).toBe(0x1000000);
    expect(k.proc.read('/proc/buddyinfo')).toBe(line('DMA', ones(3)) + line('DMA32', only(10, 27)));
    k.freePages(a, 10);
    expect(k.proc.read('/proc/buddyinfo')).toBe(boot0);
  });

  it('an order-9 and an order-5 block: expand() leaves exactly the upper halves', () => {
    const k = boot128();
    const a = k.allocPages(9, GFP_KERNEL);
    expect(a).toBe(4096 * PAGE);
    const b = k.allocPages(5, GFP_KERNEL);
    // The order-9 half at 4608 is split for the order-5 request (orders 5..8 go back).
    expect(b).toBe(4608 * PAGE);
    k.drainAllPages();
    expect(k.proc.read('/proc/buddyinfo')).toBe(line('DMA', ones(3)) + line('DMA32', [0, 0, 0, 0, 0, 1, 1, 1, 1, 0, 27]));
    k.freePages(b, 5);
    expect(k.proc.read('/proc/buddyinfo')).toBe(line('DMA', ones(3)) + line('DMA32', [0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 27]));
    k.freePages(a, 9);
    expect(k.proc.read('/proc/buddyinfo')).toBe(line('DMA', ones(3)) + line('DMA32', only(10, 28)));
  });

  it('freeing in any order merges back to the boot state', () => {
    const k = boot128();
    const boot0 = k.proc.read('/proc/buddyinfo');
    const blocks: [number, number][] = [];
    for (const o of [0, 3, 1, 10, 2, 0, 5, 9, 4, 7, 0, 0, 6, 8, 1]) blocks.push([k.allocPages(o, GFP_KERNEL), o]);
    for (const [a] of blocks) expect(a).not.toBe(0);
    // Free odd positions first, then the rest backwards.
    const order = [...blocks.filter((_, i) => i % 2 === 1), ...blocks.filter((_, i) => i % 2 === 0).reverse()];
    for (const [a, o] of order) k.freePages(a, o);
    k.drainAllPages();
    expect(k.proc.read('/proc/buddyinfo')).toBe(boot0);
    new InvariantChecker(k).check([]);
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
    expect(k.allocPages(0, GFP_KERNEL) / PAGE).toBe(12288);
    const d = k.allocPages(0, GFP_KERNEL | __GFP_DMA32) / PAGE;
    expect(d).toBe(4096);
  });

  it('merging never crosses a zone boundary: the order-9 blocks of DMA32 [1024,1536) and Normal [1536,2048) are buddies but stay apart', () => {
    const k = boot({ memory: '8M', zones: { DMA: '4M', DMA32: '2M', Normal: '2M' } });
    const expected = line('DMA', ones(0)) + line('DMA32', only(9, 1)) + line('Normal', only(9, 1));
    expect(k.proc.read('/proc/buddyinfo')).toBe(expected);
    // An order-9 block is the whole zone, above every watermark: only __GFP_MEMALLOC gets it, and
    // only once DMA's own order-9 block (pfn 512) is gone, since the zonelist would fall back to it.
    const dma = k.allocPages(9, GFP_DMA);
    expect(dma / PAGE).toBe(512);
    expect(k.allocPages(9, GFP_KERNEL | __GFP_NOWARN)).toBe(0);
    const n = k.allocPages(9, GFP_KERNEL | __GFP_MEMALLOC);
    const d = k.allocPages(9, GFP_KERNEL | __GFP_MEMALLOC);
    expect([n / PAGE, d / PAGE]).toEqual([1536, 1024]);
    // Freeing the Normal block while its buddy (the DMA32 block) is free: no merge across zones.
    k.freePages(d, 9);
    k.freePages(n, 9);
    k.freePages(dma, 9);
    expect(k.proc.read('/proc/buddyinfo')).toBe(expected);
    // Order-0 pages from both sides, freed, merge back only within their zone.
    const pages: number[] = [];
    for (let i = 0; i < 64; i++) pages.push(k.allocPages(0, GFP_KERNEL | __GFP_MEMALLOC));
    for (const a of pages) k.freePages(a, 0);
    k.drainAllPages();
    expect(k.proc.read('/proc/buddyinfo')).toBe(expected);
  });
});

describe('compound pages and zeroing', () => {
  const pageOf = (k: Kernel, a: number) => a / PAGE;

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
    new InvariantChecker(k).check([]);
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
