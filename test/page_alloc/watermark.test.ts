/**
 * Watermarks, lowmem_reserve and the zonelist walk (mm/page_alloc.c:
 * __setup_per_zone_wmarks, setup_per_zone_lowmem_reserve, __zone_watermark_ok,
 * get_page_from_freelist, gfp_to_alloc_flags) and the allocation-failure
 * warning (warn_alloc, show_free_areas).
 */
import { describe, expect, it } from 'vitest';
import {
  __GFP_HIGH,
  __GFP_MOVABLE,
  __GFP_NOWARN,
  type BootOptions,
  boot as bootKernel,
  GFP_ATOMIC,
  GFP_DMA,
  GFP_DMA32,
  GFP_KERNEL,
  GFP_NOWAIT,
  type Kernel,
} from '../../src/index.js';
import { Z_RESERVED_HIGHATOMIC, ZONE_DMA, ZONE_DMA32 } from '../../src/page_alloc/mmzone.js';
import { booted, dmesgText, freeBlocks, InvariantChecker, PAGE, pageblockCounts, zoneinfoField } from './invariants.js';

/**
 * The numbers here are worked out from calculate_min_free_kbytes() alone:
 * THP off (transparent_hugepage=never), so khugepaged does not raise
 * min_free_kbytes (watermark.test.ts checks that raise).
 */
const boot = (o: BootOptions) => bootKernel({ transparentHugepage: 'never', ...o });

/** Allocate order-`order` blocks with gfp until one fails; the zone of each success, in order. */
function drainWith(k: Kernel, order: number, gfp: number): number[] {
  const zones: number[] = [];
  for (;;) {
    const a = k.allocPages(order, gfp | __GFP_NOWARN);
    if (a === 0) return zones;
    zones.push(k.pageAlloc.pageZone(a / PAGE));
  }
}

/** Run-length encoding of a zone sequence: [[zone, count], ...]. */
function runs(zones: number[]): [number, number][] {
  const out: [number, number][] = [];
  for (const z of zones) {
    const last = out[out.length - 1];
    if (last && last[0] === z) last[1]++;
    else out.push([z, 1]);
  }
  return out;
}

const freePages = (k: Kernel, zone: string) => zoneinfoField(k, zone, /\n {2}pages free {5}(\d+)/);

describe('watermarks and lowmem_reserve computed by hand', () => {
  it('128M: min/low/high/promo and protection of both zones', () => {
    // lowmem 32767 pages -> min_free_kbytes 1448 -> pages_min 362.
    // DMA:   tmp = 362*4095/32767 = 45, delta = max(45>>2, 4095*10/10000) = 11.
    // DMA32: tmp = 362*28672/32767 = 316, delta = max(79, 28) = 79.
    // DMA protection[j] = managed pages of DMA32..j / 256 = 28672/256 = 112.
    const k = boot({ memory: '128M' });
    const f = (zone: string, name: string) => zoneinfoField(k, zone, new RegExp(`\\n {8}${name} +(\\d+)`));
    expect(['min', 'low', 'high', 'promo'].map((n) => f('DMA', n))).toEqual([45, 56, 67, 78]);
    expect(['min', 'low', 'high', 'promo'].map((n) => f('DMA32', n))).toEqual([316, 395, 474, 553]);
    expect(k.proc.read('/proc/zoneinfo')).toContain('\n        protection: (0, 112, 112, 112, 112)\n');
    expect(k.minFreeKbytes).toBe(1448);
  });

  it('a larger user min_free_kbytes wins; a smaller one does not', () => {
    expect(boot({ memory: '128M', minFreeKbytes: 4096 }).minFreeKbytes).toBe(4096);
    expect(boot({ memory: '128M', minFreeKbytes: 512 }).minFreeKbytes).toBe(1448);
    // 4096 kB = 1024 pages: DMA32 min = 1024*28672/32767 = 896.
    expect(zoneinfoField(boot({ memory: '128M', minFreeKbytes: 4096 }), 'DMA32', /\n {8}min {6}(\d+)/)).toBe(896);
  });
});

describe('the zonelist walk: fast path at the low watermark, slow path at min, lowmem_reserve on lower zones', () => {
  // 32M machine: DMA = pfn 1..4095 (4095 pages), DMA32 = 4096..8191 (4096 pages).
  // lowmem 8191 pages = 32764 kB -> min_free_kbytes int_sqrt(524224) = 724 -> pages_min 181.
  //   DMA:   min 181*4095/8191 = 90, low 90 + max(22, 4) = 112
  //   DMA32: min 181*4096/8191 = 90, low 112
  //   DMA lowmem_reserve[DMA32..] = 4096/256 = 16; DMA32's are 0.
  // Both zones have pcp batch 1, so every allocation takes exactly one page
  // from the buddy lists right after its watermark check.
  // The slab layer's boot caches took a few DMA32 pages (GFP_KERNEL, preferred zone DMA32).
  const boot32 = () => booted(boot({ memory: '32M', cpus: 2 }));

  it('zoneinfo shows the hand-computed marks', () => {
    const { k } = boot32();
    for (const z of ['DMA', 'DMA32']) {
      expect(zoneinfoField(k, z, /\n {8}min {6}(\d+)/)).toBe(90);
      expect(zoneinfoField(k, z, /\n {8}low {6}(\d+)/)).toBe(112);
    }
    expect(k.proc.read('/proc/zoneinfo')).toContain('protection: (0, 16, 16, 16, 16)');
  });

  it('GFP_KERNEL: DMA32 down to low, DMA down to low + 16, then DMA32 to min, DMA to min + 16; then failure', () => {
    const { k, bootPages } = boot32();
    const zones = drainWith(k, 0, GFP_KERNEL);
    expect(runs(zones)).toEqual([
      [ZONE_DMA32, 4096 - bootPages(ZONE_DMA32) - 112], // fast path: allowed while free > low
      [ZONE_DMA, 4095 - 128], // fast path in DMA: free > low + protection 16
      [ZONE_DMA32, 112 - 90], // slow path: ALLOC_WMARK_MIN
      [ZONE_DMA, 128 - 106], // slow path in DMA: free > min + 16
    ]);
    expect(freePages(k, 'DMA32')).toBe(90);
    expect(freePages(k, 'DMA')).toBe(106);
    new InvariantChecker(k).check(null);
  });

  it('reserves, step by step: GFP_NOWAIT gets nothing, __GFP_HIGH half of min, GFP_ATOMIC another quarter, GFP_DMA ignores the protection', () => {
    const { k } = boot32();
    drainWith(k, 0, GFP_KERNEL);
    // GFP_NOWAIT cannot block but has no __GFP_HIGH: min stays 90.
    expect(drainWith(k, 0, GFP_NOWAIT)).toEqual([]);
    // __GFP_HIGH (blocking): min - min/2 = 45. DMA32 90 -> 45, DMA 106 -> 45 + 16 = 61.
    expect(runs(drainWith(k, 0, GFP_KERNEL | __GFP_HIGH))).toEqual([
      [ZONE_DMA32, 45],
      [ZONE_DMA, 45],
    ]);
    // GFP_ATOMIC (__GFP_HIGH, non-blocking): 45 - 45/4 = 34. DMA32 45 -> 34, DMA 61 -> 50.
    expect(runs(drainWith(k, 0, GFP_ATOMIC))).toEqual([
      [ZONE_DMA32, 11],
      [ZONE_DMA, 11],
    ]);
    // GFP_DMA | GFP_ATOMIC asks for DMA itself: protection[DMA] is 0, so 50 -> 34.
    expect(runs(drainWith(k, 0, GFP_DMA | GFP_ATOMIC))).toEqual([[ZONE_DMA, 16]]);
    expect(freePages(k, 'DMA32')).toBe(34);
    expect(freePages(k, 'DMA')).toBe(34);
  });

  it('GFP_ATOMIC alone, after GFP_KERNEL has stopped: min 90 -> 34, so 56 pages from DMA32 and 40 from DMA', () => {
    const { k } = boot32();
    drainWith(k, 0, GFP_KERNEL);
    expect(runs(drainWith(k, 0, GFP_ATOMIC))).toEqual([
      [ZONE_DMA32, 56],
      [ZONE_DMA, 106 - 50],
    ]);
  });

  it('128M: GFP_KERNEL leaves min + lowmem_reserve = 45 + 112 = 157 pages in DMA; GFP_DMA then gets exactly 112 more', () => {
    const k = boot({ memory: '128M' });
    const zones = drainWith(k, 0, GFP_KERNEL);
    // DMA32 is used first; DMA only once DMA32 fails its watermark.
    expect(zones[0]).toBe(ZONE_DMA32);
    expect(zones.indexOf(ZONE_DMA)).toBeGreaterThan(28000);
    expect(freePages(k, 'DMA')).toBe(157);
    // DMA32's pcp batch is 7, so it may stop up to 6 pages under its min (316).
    const dma32 = freePages(k, 'DMA32');
    expect(dma32).toBeLessThanOrEqual(316);
    expect(dma32).toBeGreaterThan(316 - 7);
    expect(runs(drainWith(k, 0, GFP_DMA))).toEqual([[ZONE_DMA, 157 - 45]]);
    // GFP_DMA32 is also held off DMA by protection[DMA32] = 112.
    expect(drainWith(k, 0, GFP_DMA32)).toEqual([]);
    new InvariantChecker(k).check(null);
  });

  it('order 10 on 128M: every free order-10 block of DMA32 in address order, then 3 from DMA, then failure', () => {
    const { k } = booted(boot({ memory: '128M' }));
    // The slab layer's boot pages split one of DMA32's 28 blocks; the other 27 are whole.
    const dma32 = freeBlocks(k, ZONE_DMA32)
      .filter((b) => b.order === 10)
      .map((b) => b.pfn)
      .sort((a, b) => a - b);
    expect(dma32.length).toBe(27);
    const addrs: number[] = [];
    for (;;) {
      const a = k.allocPages(10, GFP_KERNEL | __GFP_NOWARN);
      if (a === 0) break;
      addrs.push(a / PAGE);
    }
    // DMA32 gives all 27 (the last leaves 1018 + 1024 - 1023 > low 395); DMA gives its three:
    // 4095 - 1023 * 3 stays above low 56 + protection 112 until no order-10 block is left.
    expect(addrs).toEqual([...dma32, 1024, 2048, 3072]);
  });
});

describe('allocation failure: warn_alloc() and show_free_areas()', () => {
  /** The 128M machine after its order-10 blocks are gone (see above). */
  function exhausted128(): Kernel {
    const { k } = booted(boot({ memory: '128M' }));
    while (k.allocPages(10, GFP_KERNEL | __GFP_NOWARN) !== 0);
    return k;
  }

  it('returns 0 and prints the kernel warning with the Mem-Info summary', () => {
    const k = exhausted128();
    const before = k.dmesg().length;
    expect(k.allocPages(10, GFP_KERNEL)).toBe(0);
    const lines = dmesgText(k).slice(before);
    expect(lines[0]).toBe('kmem: page allocation failure: order:10, mode:0xcc0(GFP_KERNEL), nodemask=(null),cpuset=/,mems_allowed=0');
    expect(lines[1]).toMatch(/^CPU: 0 UID: 0 PID: 1 Comm: kmem (Not tainted|Tainted: .*) \S+ #1$/);
    expect(lines).toContain('Call Trace:');
    const mi = lines.indexOf('Mem-Info:');
    expect(mi).toBeGreaterThan(0);
    const info = lines.slice(mi);
    const freeDma = freePages(k, 'DMA');
    const freeDma32 = freePages(k, 'DMA32');
    // DMA kept orders 0..9 (1023 pages); DMA32 what the slab pages left of their order-10 block.
    expect(freeDma).toBe(1023);
    expect(info.slice(1, 9)).toEqual([
      'active_anon:0 inactive_anon:0 isolated_anon:0',
      ' active_file:0 inactive_file:0 isolated_file:0',
      ' unevictable:0 dirty:0 writeback:0',
      expect.stringMatching(/^ slab_reclaimable:\d+ slab_unreclaimable:\d+$/),
      ' mapped:0 shmem:0 pagetables:0',
      ' sec_pagetables:0 bounce:0',
      ' kernel_misc_reclaimable:0',
      ` free:${freeDma + freeDma32} free_pcp:0 free_cma:0`,
    ]);
    // Per zone: free/min/low/high in kB (4 kB pages), then lowmem_reserve[].
    const dmaLine = info.find((l) => l.startsWith('Node 0 DMA free:'))!;
    expect(dmaLine).toBe(
      'Node 0 DMA free:4092kB boost:0kB min:180kB low:224kB high:268kB reserved_highatomic:0KB active_anon:0kB inactive_anon:0kB active_file:0kB inactive_file:0kB unevictable:0kB writepending:0kB present:16380kB managed:16380kB mlocked:0kB bounce:0kB free_pcp:0kB local_pcp:0kB free_cma:0kB',
    );
    expect(info[info.indexOf(dmaLine) + 1]).toBe('lowmem_reserve[]: 0 112 112 112 112');
    const dma32Line = info.find((l) => l.startsWith('Node 0 DMA32 free:'))!;
    expect(dma32Line.startsWith(`Node 0 DMA32 free:${freeDma32 * 4}kB boost:0kB min:1264kB low:1580kB high:1896kB reserved_highatomic:0KB `)).toBe(true);
    expect(dma32Line).toContain(' present:114688kB managed:114688kB ');
    expect(info[info.indexOf(dma32Line) + 1]).toBe('lowmem_reserve[]: 0 0 0 0 0');
    // The per-order lines: "%lu*%lukB " and, for a non-empty order, "(%s) " with the migratetype letters.
    expect(info).toContain(
      'Node 0 DMA: 1*4kB (M) 1*8kB (M) 1*16kB (M) 1*32kB (M) 1*64kB (M) 1*128kB (M) 1*256kB (M) 1*512kB (M) 1*1024kB (M) 1*2048kB (M) 0*4096kB = 4092kB',
    );
    const perOrder = info.find((l) => l.startsWith('Node 0 DMA32: '))!;
    expect(perOrder).toMatch(/^Node 0 DMA32: (?:\d+\*\d+kB (?:\([UMEHI]+\) )?){11}= \d+kB$/);
    expect(perOrder.endsWith(` = ${freeDma32 * 4}kB`)).toBe(true);
    // Each "n*SkB" with n > 0 carries its letters, each with n = 0 none.
    for (const m of perOrder.matchAll(/(\d+)\*(\d+)kB (\([UMEHI]+\) )?/g)) expect(m[1] !== '0').toBe(m[3] !== undefined);
    expect(info).toContain('0 total pagecache pages');
    expect(info).toContain('32767 pages RAM');
    expect(info).toContain('0 pages HighMem/MovableOnly');
    expect(info).toContain('0 pages reserved');
  });

  it('several migratetypes in one order print all their letters, in U M E H I order', () => {
    // DMA32 pristine (the slab layer's boot pages are in Normal).
    const { k } = booted(boot({ memory: '144M', zones: { DMA: '16M', DMA32: '112M', Normal: '16M' } }));
    // An unmovable page claims DMA32's first order-10 block and splits it into Unmovable blocks of orders 0..9;
    k.allocPages(0, GFP_DMA32);
    k.drainAllPages();
    // a movable page splits the next (still Movable) order-10 block the same way.
    k.allocPages(0, GFP_DMA32 | __GFP_MOVABLE);
    k.drainAllPages();
    // Any printed failure shows every zone: take DMA's three order-10 blocks, then ask for a fourth.
    for (let i = 0; i < 3; i++) expect(k.allocPages(10, GFP_DMA)).not.toBe(0);
    const before = k.dmesg().length;
    expect(k.allocPages(10, GFP_DMA)).toBe(0);
    const lines = dmesgText(k).slice(before);
    expect(lines[0]).toBe('kmem: page allocation failure: order:10, mode:0x1(GFP_DMA), nodemask=(null),cpuset=/,mems_allowed=0');
    expect(lines).toContain(
      'Node 0 DMA32: 2*4kB (UM) 2*8kB (UM) 2*16kB (UM) 2*32kB (UM) 2*64kB (UM) 2*128kB (UM) 2*256kB (UM) 2*512kB (UM) 2*1024kB (UM) 2*2048kB (UM) 26*4096kB (M) = 114680kB',
    );
    // The DMA order-10 blocks were claimed as Unmovable before they were handed out; orders 0..9 stay Movable.
    expect(lines).toContain(
      'Node 0 DMA: 1*4kB (M) 1*8kB (M) 1*16kB (M) 1*32kB (M) 1*64kB (M) 1*128kB (M) 1*256kB (M) 1*512kB (M) 1*1024kB (M) 1*2048kB (M) 0*4096kB = 4092kB',
    );
  });

  it('__GFP_NOWARN: the same failure prints nothing', () => {
    const k = exhausted128();
    const before = k.dmesg().length;
    expect(k.allocPages(10, GFP_KERNEL | __GFP_NOWARN)).toBe(0);
    expect(k.allocPages(0, GFP_NOWAIT)).not.toBe(0);
    expect(k.dmesg().length).toBe(before);
  });

  it('counts the failure and the stall in /proc/vmstat', () => {
    const k = exhausted128();
    const stalls = () => Number(/\nallocstall_normal (\d+)\n/.exec(k.proc.read('/proc/vmstat'))![1]);
    const s0 = stalls();
    k.allocPages(10, GFP_KERNEL | __GFP_NOWARN);
    expect(stalls()).toBe(s0 + 1);
    // An atomic request cannot stall.
    k.allocPages(10, GFP_ATOMIC | __GFP_NOWARN);
    expect(stalls()).toBe(s0 + 1);
  });
});

describe('high-order atomic reserves', () => {
  it('a high-order GFP_ATOMIC that succeeds in the slow path reserves its pageblock as HighAtomic', () => {
    // 256M: DMA32 has 61440 pages, 1% of it (614) is more than a pageblock, so a
    // reservation is allowed under both the 6.1 and the 6.8+ rule.
    const k = boot({ memory: '256M' });
    while (k.allocPages(0, GFP_KERNEL | __GFP_NOWARN) !== 0);
    expect(pageblockCounts(k, 'DMA32')[3]).toBe(0);
    const a = k.allocPages(1, GFP_ATOMIC);
    expect(a).not.toBe(0);
    expect(k.pageAlloc.pageZone(a / PAGE)).toBe(ZONE_DMA32);
    expect(pageblockCounts(k, 'DMA32')[3]).toBe(1);
    // zone->nr_reserved_highatomic (6.18's zoneinfo does not print it; its show_mem line does, in kB).
    expect(k.pageAlloc.zones.get(ZONE_DMA32, Z_RESERVED_HIGHATOMIC)).toBe(512);
    // The free pages of that pageblock are now on the HighAtomic lists.
    const row = k.proc
      .read('/proc/pagetypeinfo')
      .split('\n')
      .find((l) => l.startsWith('Node    0, zone    DMA32, type   HighAtomic '))!;
    const counts = row.slice(46).trim().split(/\s+/).map(Number);
    expect(counts.reduce((s, n, o) => s + (n << o), 0)).toBeGreaterThan(0);
    new InvariantChecker(k).check(null);
  });

  it("a pageblock that straddles the zone's start (DMA's first block holds pfn 0) is never reserved", () => {
    // move_freepages_block() refuses a block that is not wholly inside the zone, and
    // reserve_highatomic_pageblock() then reserves nothing.
    const k = boot({ memory: '16M' });
    while (k.allocPages(0, GFP_KERNEL | __GFP_NOWARN) !== 0);
    const a = k.allocPages(1, GFP_ATOMIC);
    expect(a).not.toBe(0);
    expect(a / PAGE).toBeLessThan(512);
    expect(k.pageAlloc.zones.get(ZONE_DMA, Z_RESERVED_HIGHATOMIC)).toBe(0);
    expect(pageblockCounts(k, 'DMA')[3]).toBe(0);
    // And a failing blocking request still ends (its unreserve loop finds nothing to give back).
    expect(k.allocPages(0, GFP_KERNEL | __GFP_NOWARN)).toBe(0);
    new InvariantChecker(k).check(null);
  });
});

describe('THP: khugepaged raises min_free_kbytes (set_recommended_min_free_kbytes)', () => {
  // hugepage_init() leaves THP off when totalram_pages() < 512 MiB, so
  // khugepaged never starts and min_free_kbytes keeps
  // calculate_min_free_kbytes()'s value.
  it('below 512 MiB of managed memory THP stays off: 128M keeps 1448 kB, 512M (131071 pages) keeps 2896 kB', () => {
    const k = bootKernel({ memory: '128M' });
    expect(k.minFreeKbytes).toBe(1448);
    expect(k.dmesg().some((l) => l.includes('transparent hugepage'))).toBe(false);
    // 128M: pages_min 362, DMA min 362 * 4095 / 32767 = 45, high 45 + 2 * 11 = 67.
    expect([zoneinfoField(k, 'DMA', /\n {8}min {6}(\d+)/), zoneinfoField(k, 'DMA', /\n {8}high {5}(\d+)/)]).toEqual([45, 67]);
    // 512M: 131071 managed pages (pfn 0 is reserved) < 131072: still off;
    // int_sqrt(131071 * 4 * 16) = 2896.
    expect(bootKernel({ memory: '512M' }).minFreeKbytes).toBe(2896);
    expect(bootKernel({ memory: '128M', minFreeKbytes: 4096 }).minFreeKbytes).toBe(4096);
  });

  // 1G: DMA 4095 and DMA32 258048 managed pages. calculate_min_free_kbytes:
  // int_sqrt(262143 * 4 * 16) = 4095 kB, pages_min 1023: DMA min 15, delta
  // max(15 >> 2, 4095 * 10 / 10000) = 4, high 23; DMA32 min 1007, delta
  // max(251, 258) = 258, high 1523. nr_free_buffer_pages = (4095 - 23) +
  // (258048 - 1523) = 260597. Recommended: 2 zones x 512 x (2 + 3 * 3) =
  // 11264 pages (under the cap 260597 / 20 = 13029) = 45056 kB.
  it('1G with THP (the default): 45056 kB, and the marks follow', () => {
    const k = bootKernel({ memory: '1G' });
    expect(k.minFreeKbytes).toBe(45056);
    // pages_min 11264: DMA min 11264 * 4095 / 262143 = 175, delta max(43, 4) = 43;
    // DMA32 min 11264 * 258048 / 262143 = 11088, delta max(2772, 258) = 2772.
    expect([zoneinfoField(k, 'DMA', /\n {8}min {6}(\d+)/), zoneinfoField(k, 'DMA', /\n {8}high {5}(\d+)/)]).toEqual([175, 261]);
    expect([zoneinfoField(k, 'DMA32', /\n {8}min {6}(\d+)/), zoneinfoField(k, 'DMA32', /\n {8}high {5}(\d+)/)]).toEqual([11088, 16632]);
  });

  it('a user value below the recommendation is raised, with the kernel message', () => {
    // The user's 8192 kB (pages_min 2048) sets the first marks: high DMA 31 + 2 * 7 = 45,
    // DMA32 2016 + 2 * 504 = 3024; (4095 - 45) + (258048 - 3024) = 259074, / 20 = 12953 > 11264.
    const k = bootKernel({ memory: '1G', minFreeKbytes: 8192 });
    expect(k.minFreeKbytes).toBe(45056);
    expect(k.dmesg().some((l) => l.endsWith('raising min_free_kbytes from 8192 to 45056 to help transparent hugepage allocations'))).toBe(true);
    expect(bootKernel({ memory: '1G', minFreeKbytes: 65536 }).minFreeKbytes).toBe(65536);
  });

  it("transparent_hugepage=never keeps calculate_min_free_kbytes()'s value", () => {
    expect(bootKernel({ memory: '1G', transparentHugepage: 'never' }).minFreeKbytes).toBe(4095);
    expect(() => bootKernel({ memory: '128M', transparentHugepage: 'sometimes' as never })).toThrow(/transparentHugepage/);
  });
});

describe('the highatomic reserve (reserve_highatomic_pageblock)', () => {
  /** HighAtomic pageblocks per zone, from /proc/pagetypeinfo's "Number of blocks type" table. */
  const highAtomicBlocks = (k: Kernel) =>
    k.proc
      .read('/proc/pagetypeinfo')
      .split('\n')
      .filter((l) => /^Node 0, zone +\w+( +\d+){5} *$/.test(l))
      .map((l) => Number(l.trim().split(/ +/)[7]));

  it('a high-order GFP_ATOMIC request in the slow path reserves a block; GFP_NOWAIT (no __GFP_HIGH) may not use it', () => {
    const k = bootKernel({ memory: '128M', cpus: 1 });
    while (k.allocPages(0, GFP_KERNEL | __GFP_NOWARN) !== 0);
    // Below the low watermarks now: order-1 requests take the slow path.
    expect(k.allocPages(1, GFP_NOWAIT | __GFP_NOWARN)).toBe(0);
    expect(highAtomicBlocks(k)).toEqual([0, 0]);
    expect(k.allocPages(1, GFP_ATOMIC | __GFP_NOWARN)).toBeGreaterThan(0);
    expect(highAtomicBlocks(k)).toEqual([0, 1]);
    // gfp_to_alloc_flags(): ALLOC_HIGHATOMIC needs ALLOC_MIN_RESERVE, so the
    // reserved block's free pages stay out of a GFP_NOWAIT request's reach.
    expect(k.allocPages(1, GFP_NOWAIT | __GFP_NOWARN)).toBe(0);
    expect(k.allocPages(1, GFP_ATOMIC | __GFP_NOWARN)).toBeGreaterThan(0);
  });
});
