/**
 * Per-CPU page lists (mm/page_alloc.c: zone_batchsize, zone_highsize,
 * rmqueue_pcplist, free_unref_page_commit, nr_pcp_free, free_pcppages_bulk).
 */
import { describe, expect, it } from 'vitest';
import { __GFP_MOVABLE, type BootOptions, boot as bootKernel, GFP_DMA, GFP_DMA32, GFP_KERNEL, type Kernel } from '../../src/index.js';
import { MIGRATE_MOVABLE, MIGRATE_PCPTYPES, MIGRATE_UNMOVABLE, ZONE_DMA, ZONE_DMA32 } from '../../src/page_alloc/mmzone.js';
import { booted, InvariantChecker, PAGE, pcpCount, pcpListPages, zoneinfoField } from './invariants.js';

/**
 * The numbers here are worked out from calculate_min_free_kbytes() alone:
 * THP off (transparent_hugepage=never), so khugepaged does not raise
 * min_free_kbytes (watermark.test.ts checks that raise).
 */
const boot = (o: BootOptions) => bootKernel({ transparentHugepage: 'never', ...o });

/** DMA32 exactly as on 128M (pfn 4096..32767, batch 7), with the slab layer's boot pages in a Normal zone. */
const M144 = { memory: '144M', zones: { DMA: '16M', DMA32: '112M', Normal: '16M' }, cpus: 2 } as const;

interface Pageset {
  batch: number;
  high: number;
  highMin: number;
  highMax: number;
}

function pageset(k: Kernel, zone: string, cpu = 0): Pageset {
  const text = k.proc.read('/proc/zoneinfo');
  const start = text.indexOf(`Node 0, zone ${zone.padStart(8)}\n`);
  const block = text.slice(start, text.indexOf('\nNode 0, zone ', start + 1));
  const cpuAt = block.indexOf(`\n    cpu: ${cpu}\n`);
  const c = block.slice(cpuAt);
  const get = (name: string) => Number(new RegExp(`\\n {14}${name}: +(\\d+)`).exec(c)![1]);
  return { batch: get('batch'), high: get('high'), highMin: get('high_min'), highMax: get('high_max') };
}

describe('pageset sizing: batch from zone_batchsize(), high from the low watermark over the CPUs', () => {
  // Hand computation for each machine (pages; integer division throughout):
  //   min_free_kbytes = int_sqrt(lowmem_kbytes * 16), pages_min = min_free_kbytes / 4
  //   zone min = pages_min * managed / lowmem_pages
  //   low = min + max(min / 4, managed * 10 / 10000)
  //   batch = rounddown_pow_of_two(b + b/2) - 1 with b = min(managed / 1024, 256) / 4
  //   high = max(low / cpus, 4 * batch); high_max = max(managed / 8 / cpus, 4 * batch)

  it('128M default layout, 2 CPUs: DMA32 (28672 pages) batch 7, high 197 (low 395 / 2), high_max 1792', () => {
    // lowmem 32767 pages = 131068 kB -> min_free_kbytes int_sqrt(2097088) = 1448, pages_min 362.
    // DMA32: min 362*28672/32767 = 316, low 316 + max(79, 28) = 395.
    // DMA:   min 362*4095/32767 = 45,   low 45 + max(11, 4) = 56.
    const k = boot({ memory: '128M', cpus: 2 });
    for (const cpu of [0, 1]) {
      expect(pageset(k, 'DMA32', cpu)).toEqual({ batch: 7, high: 197, highMin: 197, highMax: 1792 });
      expect(pageset(k, 'DMA', cpu)).toEqual({ batch: 1, high: 28, highMin: 28, highMax: 255 });
    }
  });

  it('the same machine with 4 CPUs splits high four ways: DMA32 98 / 896, DMA 14 / 127', () => {
    const k = boot({ memory: '128M', cpus: 4 });
    expect(pageset(k, 'DMA32', 3)).toEqual({ batch: 7, high: 98, highMin: 98, highMax: 896 });
    expect(pageset(k, 'DMA', 2)).toEqual({ batch: 1, high: 14, highMin: 14, highMax: 127 });
  });

  it('a 128 MiB DMA32 zone (32768 pages): batch 7, high 212, high_max 2048', () => {
    // lowmem 36863 pages = 147452 kB -> int_sqrt(2359232) = 1535, pages_min 383.
    // min 383*32768/36863 = 340, low 340 + max(85, 32) = 425.
    const k = boot({ memory: '144M', zones: { DMA: '16M', DMA32: '128M' } });
    expect(pageset(k, 'DMA32')).toEqual({ batch: 7, high: 212, highMin: 212, highMax: 2048 });
  });

  it('a 256 MiB DMA32 zone (65536 pages): batch 15, high 310, high_max 4096', () => {
    // lowmem 69631 pages = 278524 kB -> int_sqrt(4456384) = 2111, pages_min 527.
    // min 527*65536/69631 = 496, low 496 + max(124, 65) = 620.
    const k = boot({ memory: '272M', zones: { DMA: '16M', DMA32: '256M' } });
    expect(pageset(k, 'DMA32')).toEqual({ batch: 15, high: 310, highMin: 310, highMax: 4096 });
  });

  it('a 1 GiB DMA32 zone (262144 pages): batch 63, high 638, high_max 16384', () => {
    // lowmem 266239 pages = 1064956 kB -> int_sqrt(17039296) = 4127, pages_min 1031.
    // min 1031*262144/266239 = 1015, low 1015 + max(253, 262) = 1277 (the scale factor wins).
    // DMA: min 1031*4095/266239 = 15, low 15 + max(3, 4) = 19, high max(9, 4).
    const k = boot({ memory: '1040M', zones: { DMA: '16M', DMA32: '1G' } });
    expect(pageset(k, 'DMA32')).toEqual({ batch: 63, high: 638, highMin: 638, highMax: 16384 });
    expect(pageset(k, 'DMA')).toEqual({ batch: 1, high: 9, highMin: 9, highMax: 255 });
    expect(zoneinfoField(k, 'DMA32', /\n {8}min {6}(\d+)/)).toBe(1015);
    expect(zoneinfoField(k, 'DMA32', /\n {8}low {6}(\d+)/)).toBe(1277);
    expect(zoneinfoField(k, 'DMA32', /\n {8}high {5}(\d+)/)).toBe(1539);
    expect(zoneinfoField(k, 'DMA32', /\n {8}promo {4}(\d+)/)).toBe(1801);
  });
});

describe('refill and drain', () => {
  it('an empty list is refilled with batch pages in physical order; the first is handed out, the rest stay on the list', () => {
    const { k } = booted(boot(M144));
    const a = k.allocPages(0, GFP_DMA32);
    expect(a / PAGE).toBe(4096);
    expect(pcpCount(k, 0, ZONE_DMA32)).toBe(6);
    expect(pcpCount(k, 1, ZONE_DMA32)).toBe(0);
    const lists = pcpListPages(k, 0, ZONE_DMA32);
    expect(lists[0 * MIGRATE_PCPTYPES + MIGRATE_UNMOVABLE]).toEqual([4097, 4098, 4099, 4100, 4101, 4102]);
    // NR_FREE_PAGES counts the buddy lists only: the whole batch of 7 left them.
    expect(zoneinfoField(k, 'DMA32', /\n {2}pages free {5}(\d+)/)).toBe(28672 - 7);
    expect(zoneinfoField(k, 'DMA32', /\n {14}count: +(\d+)/)).toBe(6);
    // The next six allocations come off the list without touching the zone.
    for (let i = 1; i <= 6; i++) expect(k.allocPages(0, GFP_DMA32) / PAGE).toBe(4096 + i);
    expect(pcpCount(k, 0, ZONE_DMA32)).toBe(0);
    expect(zoneinfoField(k, 'DMA32', /\n {2}pages free {5}(\d+)/)).toBe(28672 - 7);
    // The eighth refills again.
    expect(k.allocPages(0, GFP_DMA32) / PAGE).toBe(4103);
    expect(pcpCount(k, 0, ZONE_DMA32)).toBe(6);
  });

  it('a freed page goes to the head of the list (LIFO) and is the next one handed out', () => {
    const { k } = booted(boot(M144));
    const a = k.allocPages(0, GFP_DMA32);
    const b = k.allocPages(0, GFP_DMA32);
    k.freePages(a, 0);
    expect(pcpListPages(k, 0, ZONE_DMA32)[MIGRATE_UNMOVABLE]![0]).toBe(a / PAGE);
    expect(pcpCount(k, 0, ZONE_DMA32)).toBe(6);
    expect(k.allocPages(0, GFP_DMA32)).toBe(a);
    k.freePages(b, 0);
    expect(k.allocPages(0, GFP_DMA32)).toBe(b);
  });

  it('orders 1..3 have their own lists, refilled with max(batch >> order, 2) blocks', () => {
    const { k } = booted(boot(M144));
    const a = k.allocPages(2, GFP_DMA32 | __GFP_MOVABLE);
    expect(a % (4 * PAGE)).toBe(0);
    const lists = pcpListPages(k, 0, ZONE_DMA32);
    // batch 7 >> 2 = 1, raised to 2: two order-2 blocks came over, one is left.
    expect(lists[2 * MIGRATE_PCPTYPES + MIGRATE_MOVABLE]).toEqual([a / PAGE + 4]);
    expect(pcpCount(k, 0, ZONE_DMA32)).toBe(4);
    // A batch of 1 (the DMA zone) is not scaled: one block per refill.
    k.allocPages(1, GFP_DMA);
    expect(pcpCount(k, 0, ZONE_DMA)).toBe(0);
  });

  it('a free that fills the list to high gives back nr_pcp_free() pages: batch, doubling while frees continue, at most high - batch', () => {
    const { k, boot: held, bootPages } = booted(boot({ memory: '128M', cpus: 2 }));
    const pages: number[] = [];
    for (let i = 0; i < 500; i++) pages.push(k.allocPages(0, GFP_KERNEL));
    // 500 pages took 72 refills of 7 (504 pages): 4 are left on the list.
    expect(pcpCount(k, 0, ZONE_DMA32)).toBe(4);
    const drains: [number, number, number][] = [];
    for (let i = 1; i <= 500; i++) {
      const before = pcpCount(k, 0, ZONE_DMA32);
      k.freePages(pages[i - 1]!, 0);
      const after = pcpCount(k, 0, ZONE_DMA32);
      if (after !== before + 1) drains.push([i, before + 1, after]);
    }
    // high 197, batch 7: each time the count reaches 197 it drops by 7 << free_factor,
    // clamped to high - batch = 190; free_factor grows while 7 << factor < 190.
    expect(drains).toEqual([
      [193, 197, 190],
      [200, 197, 183],
      [214, 197, 169],
      [242, 197, 141],
      [298, 197, 85],
      [410, 197, 7],
    ]);
    expect(pcpCount(k, 0, ZONE_DMA32)).toBe(97);
    // Everything the drains gave back is on the buddy lists again.
    expect(zoneinfoField(k, 'DMA32', /\n {2}pages free {5}(\d+)/)).toBe(28672 - bootPages(ZONE_DMA32) - 97);
    new InvariantChecker(k).check(held);
  });

  it('drainAllPages() empties every CPU list of every zone', () => {
    const { k, boot: held, bootPages } = booted(boot({ memory: '128M', cpus: 3 }));
    for (const cpu of [0, 1, 2]) {
      k.onCpu(cpu, () => {
        k.freePages(k.allocPages(0, GFP_KERNEL), 0);
        k.freePages(k.allocPages(0, GFP_DMA), 0);
        k.freePages(k.allocPages(3, GFP_KERNEL | __GFP_MOVABLE), 3);
      });
    }
    expect(pcpCount(k, 2, ZONE_DMA32)).toBeGreaterThan(0);
    k.drainAllPages();
    for (const cpu of [0, 1, 2]) {
      expect(pcpCount(k, cpu, ZONE_DMA32)).toBe(0);
      expect(pcpCount(k, cpu, ZONE_DMA)).toBe(0);
    }
    new InvariantChecker(k).check(held);
    expect(zoneinfoField(k, 'DMA32', /\n {2}pages free {5}(\d+)/)).toBe(28672 - bootPages(ZONE_DMA32));
  });
});

describe('onCpu and currentCpu', () => {
  it("onCpu(n, fn) runs fn on CPU n's lists and returns its result; the previous CPU comes back", () => {
    const { k } = booted(boot({ memory: '128M', cpus: 2 }));
    expect(k.currentCpu).toBe(0);
    const a = k.onCpu(1, () => {
      expect(k.currentCpu).toBe(1);
      return k.allocPages(0, GFP_KERNEL);
    });
    expect(k.currentCpu).toBe(0);
    expect(pcpCount(k, 1, ZONE_DMA32)).toBe(6);
    expect(pcpCount(k, 0, ZONE_DMA32)).toBe(0);
    // A remote free lands on the freeing CPU's list, as free_unref_page() does.
    k.freePages(a, 0);
    expect(pcpCount(k, 0, ZONE_DMA32)).toBe(1);
    expect(pcpCount(k, 1, ZONE_DMA32)).toBe(6);
    // CPU 1 keeps handing out its own pages; CPU 0 hands back the freed one.
    expect(k.onCpu(1, () => k.allocPages(0, GFP_KERNEL))).toBe(a + PAGE);
    expect(k.allocPages(0, GFP_KERNEL)).toBe(a);
  });

  it('nested onCpu calls restore each level, also when fn throws', () => {
    const k = boot({ memory: '16M', cpus: 4 });
    k.onCpu(2, () => {
      k.onCpu(3, () => expect(k.currentCpu).toBe(3));
      expect(k.currentCpu).toBe(2);
      expect(() =>
        k.onCpu(1, () => {
          throw new Error('boom');
        }),
      ).toThrow('boom');
      expect(k.currentCpu).toBe(2);
    });
    expect(k.currentCpu).toBe(0);
  });

  it.each([2, -1, 0.5, Number.NaN])('onCpu(%o) on a 2-CPU machine throws a RangeError naming the cpu', (n) => {
    const k = boot({ memory: '16M', cpus: 2 });
    expect(() => k.onCpu(n, () => 0)).toThrow(RangeError);
    expect(() => k.onCpu(n, () => 0)).toThrow(/^cpu: /);
  });

  it("onCpu('1') (not a number) throws a TypeError naming the cpu", () => {
    const k = boot({ memory: '16M', cpus: 2 });
    expect(() => k.onCpu('1' as unknown as number, () => 0)).toThrow(TypeError);
    expect(() => k.onCpu('1' as unknown as number, () => 0)).toThrow(/^cpu: expected an integer, got "1"$/);
  });

  it('onCpu with something that is not a function throws a TypeError naming fn', () => {
    const k = boot({ memory: '16M', cpus: 2 });
    expect(() => k.onCpu(1, 5 as unknown as () => number)).toThrow(TypeError);
    expect(() => k.onCpu(1, 5 as unknown as () => number)).toThrow(/^fn: /);
  });
});
