/**
 * Grouping by mobility (mm/page_alloc.c: __rmqueue_fallback,
 * find_suitable_fallback, can_steal_fallback, steal_suitable_fallback,
 * alloc_flags_nofragment): which free list a request is served from, and when
 * a whole pageblock changes type.
 */
import { describe, expect, it } from 'vitest';
import {
  __GFP_DMA32,
  __GFP_MEMALLOC,
  __GFP_MOVABLE,
  __GFP_NOWARN,
  __GFP_RECLAIMABLE,
  boot,
  GFP_DMA,
  GFP_DMA32,
  GFP_KERNEL,
  type Kernel,
} from '../../src/index.js';
import { ZONE_DMA32, ZONE_NORMAL, zoneNames } from '../../src/page_alloc/mmzone.js';
import { booted, buddyinfoCounts, InvariantChecker, type LiveBlock, PAGE, pageblockCounts, pagetypeRow, zoneRange } from './invariants.js';

const M = 1024 * 1024;
const all = (n: number) => Array.from({ length: 11 }, (_, o) => (o < 10 ? n : 0));

/** DMA32 exactly as on 128M, pristine: the slab layer's boot pages are in the Normal zone. */
const M144 = { memory: '144M', zones: { DMA: '16M', DMA32: '112M', Normal: '16M' } } as const;

describe('fallback and pageblock stealing on a fresh zone', () => {
  it('every pageblock starts Movable', () => {
    const { k } = booted(boot(M144));
    expect(pageblockCounts(k, 'DMA')).toEqual([0, 8, 0, 0, 0]);
    expect(pageblockCounts(k, 'DMA32')).toEqual([0, 56, 0, 0, 0]);
  });

  it("the slab layer's first unmovable page at boot claimed a whole order-10 Movable block of its zone", () => {
    const { k } = booted(boot(M144));
    expect(pageblockCounts(k, 'Normal')).toEqual([2, 6, 0, 0, 0]);
  });

  it('an unmovable page claims a whole order-10 Movable block: two pageblocks become Unmovable', () => {
    const { k } = booted(boot(M144));
    k.allocPages(0, GFP_DMA32);
    expect(pageblockCounts(k, 'DMA32')).toEqual([2, 54, 0, 0, 0]);
    expect(pageblockCounts(k, 'DMA')).toEqual([0, 8, 0, 0, 0]);
    k.drainAllPages();
    // The split remains are Unmovable free blocks of orders 0..9.
    expect(pagetypeRow(k, 'DMA32', 'Unmovable')).toEqual(all(1));
    expect(pagetypeRow(k, 'DMA32', 'Movable')).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 27]);
  });

  it('a reclaimable page falls back past the Unmovable lists (no order-10 block there) to the next Movable order-10 block', () => {
    const { k } = booted(boot(M144));
    k.allocPages(0, GFP_DMA32);
    k.allocPages(0, GFP_DMA32 | __GFP_RECLAIMABLE);
    expect(pageblockCounts(k, 'DMA32')).toEqual([2, 52, 2, 0, 0]);
    // A movable page has its own lists: no pageblock changes.
    const m = k.allocPages(0, GFP_DMA32 | __GFP_MOVABLE);
    expect(m / PAGE).toBe(6144);
    expect(pageblockCounts(k, 'DMA32')).toEqual([2, 52, 2, 0, 0]);
    k.drainAllPages();
    expect(pagetypeRow(k, 'DMA32', 'Unmovable')).toEqual(all(1));
    expect(pagetypeRow(k, 'DMA32', 'Reclaimable')).toEqual(all(1));
    expect(pagetypeRow(k, 'DMA32', 'Movable')).toEqual([1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 25]);
  });

  it('once its own lists have pages, an unmovable request stays on them', () => {
    const { k } = booted(boot(M144));
    const pages: number[] = [];
    for (let i = 0; i < 1000; i++) pages.push(k.allocPages(0, GFP_DMA32));
    // 1000 pages fit in the first claimed order-10 block.
    expect(pageblockCounts(k, 'DMA32')).toEqual([2, 54, 0, 0, 0]);
    for (const a of pages) expect(a / PAGE).toBeLessThan(4096 + 1024);
  });
});

/**
 * Every page of `zone` taken with movable order-0 requests (all its pageblocks
 * end up Movable: a movable request claims the blocks it falls back to), then
 * the lower half of every pageblock given back: each pageblock is then half
 * free, as an order-8 block whose buddy is allocated, and no free block of
 * pageblock order exists. Lower zones are filled first and given back at the
 * end, so they are untouched afterwards.
 */
function halfFreePageblocks(k: Kernel, zone: number, gfpZoneBits: number, held: LiveBlock[]): void {
  const [s, e] = zoneRange(k, zone);
  const lower: number[] = [];
  for (let z = 0; z < zone; z++) {
    for (;;) {
      // Movable requests, so the lower zones' pageblocks stay Movable.
      const a = k.allocPages(0, (z === 0 ? GFP_DMA : GFP_KERNEL | __GFP_DMA32) | __GFP_MOVABLE | __GFP_MEMALLOC | __GFP_NOWARN);
      if (a === 0) break;
      lower.push(a);
    }
  }
  const mine: number[] = [];
  for (;;) {
    const a = k.allocPages(0, GFP_KERNEL | gfpZoneBits | __GFP_MOVABLE | __GFP_MEMALLOC | __GFP_NOWARN);
    if (a === 0) break;
    mine.push(a);
  }
  const heldPages = held.filter((b) => b.pfn >= s && b.pfn < e).reduce((n, b) => n + (1 << b.order), 0);
  expect(mine.length).toBe(e - s - heldPages);
  expect(pageblockCounts(k, zoneNames[zone]!)).toEqual([0, (e - s) / 512, 0, 0, 0]);
  for (const a of mine) if ((a / PAGE) % 512 < 256) k.freePages(a, 0);
  for (const a of lower) k.freePages(a, 0);
  k.drainAllPages();
}

describe('stealing below pageblock order', () => {
  it('an unmovable page takes a half-free Movable pageblock: free (256) + alike (512 - 256) >= 256 claims it', () => {
    const { k, boot: held } = booted(boot({ memory: '128M' }));
    halfFreePageblocks(k, ZONE_DMA32, __GFP_DMA32, held);
    expect(buddyinfoCounts(k, 'DMA32')[8]).toBeGreaterThanOrEqual(55);
    expect(buddyinfoCounts(k, 'DMA32').slice(9)).toEqual([0, 0]);
    const a = k.allocPages(0, GFP_KERNEL);
    expect(k.pageAlloc.pageZone(a / PAGE)).toBe(ZONE_DMA32);
    expect(pageblockCounts(k, 'DMA32')).toEqual([1, 55, 0, 0, 0]);
    new InvariantChecker(k).check(null);
  });

  it('the preferred zone is DMA32 (ZONE_NORMAL is empty), so no ALLOC_NOFRAGMENT: DMA32 is fragmented before DMA is touched', () => {
    // alloc_flags_nofragment() looks at ac->preferred_zoneref, the first populated zone
    // at or below gfp_zone(): with no Normal memory that is DMA32, not ZONE_NORMAL.
    const { k, boot: held } = booted(boot({ memory: '128M' }));
    halfFreePageblocks(k, ZONE_DMA32, __GFP_DMA32, held);
    const dmaBefore = pageblockCounts(k, 'DMA');
    const dmaFree = buddyinfoCounts(k, 'DMA');
    const a = k.allocPages(0, GFP_KERNEL);
    expect(a).toBeGreaterThanOrEqual(16 * M);
    expect(pageblockCounts(k, 'DMA')).toEqual(dmaBefore);
    expect(buddyinfoCounts(k, 'DMA')).toEqual(dmaFree);
  });

  it('with a populated ZONE_NORMAL, ALLOC_NOFRAGMENT makes an unmovable request claim a whole pageblock in a lower zone first', () => {
    const { k, boot: held } = booted(boot({ memory: '64M', zones: { DMA: '16M', DMA32: '32M', Normal: '16M' } }));
    halfFreePageblocks(k, ZONE_NORMAL, 0, held);
    expect(buddyinfoCounts(k, 'Normal').slice(9)).toEqual([0, 0]);
    const normalBlocks = pageblockCounts(k, 'Normal');
    expect(pageblockCounts(k, 'DMA32')).toEqual([0, 16, 0, 0, 0]);
    // The first pass refuses to split a Normal pageblock and claims a whole DMA32 order-10 block instead.
    const a = k.allocPages(0, GFP_KERNEL);
    expect(k.pageAlloc.pageZone(a / PAGE)).toBe(ZONE_DMA32);
    expect(pageblockCounts(k, 'Normal')).toEqual(normalBlocks);
    expect(pageblockCounts(k, 'DMA32')).toEqual([2, 14, 0, 0, 0]);
  });

  it('a movable request may claim a block of order pageblock_order/2 = 4 (integer division): a pageblock with 256 pages free as order-4 blocks becomes Movable', () => {
    // DMA [1, 512), DMA32 [512, 1024) is exactly one pageblock, Normal [1024, 1536) takes the slab pages.
    const { k } = booted(boot({ memory: '6M', zones: { DMA: '2M', DMA32: '2M', Normal: '2M' } }));
    while (k.allocPages(0, GFP_DMA | __GFP_MEMALLOC | __GFP_NOWARN) !== 0);
    const blocks: number[] = [];
    for (;;) {
      const a = k.allocPages(4, GFP_KERNEL | __GFP_DMA32 | __GFP_MEMALLOC | __GFP_NOWARN);
      if (a === 0) break;
      blocks.push(a);
    }
    expect(blocks.length).toBe(32);
    // The first unmovable request claimed the order-9 block: the pageblock is Unmovable.
    expect(pageblockCounts(k, 'DMA32')).toEqual([1, 0, 0, 0, 0]);
    blocks.sort((a, b) => a - b);
    for (let i = 0; i < 32; i += 2) k.freePages(blocks[i]!, 4);
    expect(pagetypeRow(k, 'DMA32', 'Unmovable')).toEqual([0, 0, 0, 0, 16, 0, 0, 0, 0, 0, 0]);
    // The movable request finds its largest fallback at order 4; can_steal_fallback(4, MOVABLE)
    // holds (4 >= 9 / 2), and 256 free pages are half the block: the pageblock turns Movable.
    const a = k.allocPages(0, GFP_KERNEL | __GFP_DMA32 | __GFP_MOVABLE);
    expect(k.pageAlloc.pageZone(a / PAGE)).toBe(ZONE_DMA32);
    expect(pageblockCounts(k, 'DMA32')).toEqual([0, 1, 0, 0, 0]);
    expect(pagetypeRow(k, 'DMA32', 'Unmovable')).toEqual(all(0));
    new InvariantChecker(k).check(null);
  });
});
