/**
 * SLUB geometry against the kernel's real numbers.
 *
 * Every expectation is a value a real kernel printed (test/fixtures/realdata/, the 6.1
 * oracle run) or a value worked out by hand from the kernel's rules in the
 * comment beside it; none was produced by running kmem.
 *
 * Hand-calculation rules used in the comments (mm/slub.c calculate_order):
 *   min_objects = 4 * (fls(cpus) + 1): 1 CPU 8, 2 CPUs 12, 4 CPUs 16, 8 CPUs 20,
 *   capped at the objects an order-3 slab holds; start at
 *   order = get_order(min_objects * size) and accept the first order whose
 *   leftover (PAGE_SIZE << order) % size is <= 1/16 of the slab (then 1/8, 1/4, 1/2).
 */
import { describe, expect, it } from 'vitest';
import { boot } from '../../src/kernel.js';
import {
  calcSlabOrder,
  calculateAlignment,
  calculateOrder,
  calculateOrderLegacy,
  computeCacheGeometry,
  cpuPartialFor,
  cpuPartialSlabs,
  createBootCacheAlign,
  ffs,
  fls,
  getOrder,
  kasanCacheCreate,
  LINUX_VERSION_DEFAULT,
  linuxVersion,
  minPartialFor,
  ooMake,
  ooObjects,
  ooOrder,
  optimalRedzone,
  orderObjects,
  slubMinObjectsFor,
  TRACK_SIZE,
} from '../../src/slub/calculate.js';
import {
  bootCacheGeometry,
  KMALLOC_CGROUP,
  KMALLOC_DMA,
  KMALLOC_MAX_CACHE_SIZE,
  KMALLOC_MAX_ORDER,
  KMALLOC_MAX_SIZE,
  KMALLOC_MIN_SIZE,
  KMALLOC_NORMAL,
  KMALLOC_RECLAIM,
  KMALLOC_SHIFT_HIGH,
  KMALLOC_SHIFT_LOW,
  KMALLOC_SHIFT_MAX,
  kmalloc_info,
  kmallocCreationOrder,
  kmallocIndex,
  kmallocSizeIndex,
  kmallocSizeRoundup,
  kmallocSlabIndex,
  kmallocTypes,
  kmemCacheNodeObjectSize,
  kmemCacheObjectSize,
  NR_KMALLOC_TYPES,
  sizeIndexElem,
  ZERO_SIZE_PTR,
} from '../../src/slub/kmalloc_info.js';
import {
  __CMPXCHG_DOUBLE,
  __OBJECT_POISON,
  createUniqueId,
  DEBUG_DEFAULT_FLAGS,
  DEBUG_METADATA_FLAGS,
  SLAB_ACCOUNT,
  SLAB_CACHE_DMA,
  SLAB_CACHE_DMA32,
  SLAB_CONSISTENCY_CHECKS,
  SLAB_DEBUG_FLAGS,
  SLAB_FAILSLAB,
  SLAB_HWCACHE_ALIGN,
  SLAB_KASAN,
  SLAB_KMALLOC,
  SLAB_MERGE_SAME,
  SLAB_NEVER_MERGE,
  SLAB_NO_CMPXCHG,
  SLAB_NO_MERGE,
  SLAB_NO_OBJ_EXT,
  SLAB_NO_USER_FLAGS,
  SLAB_NOLEAKTRACE,
  SLAB_PANIC,
  SLAB_POISON,
  SLAB_RECLAIM_ACCOUNT,
  SLAB_RED_ZONE,
  SLAB_SKIP_KFENCE,
  SLAB_STORE_USER,
  SLAB_TEMPORARY,
  SLAB_TRACE,
  SLAB_TYPESAFE_BY_RCU,
  slabFlagsToString,
  slabFlagsToUniqueIdLetters,
} from '../../src/slub/slab_flags.js';

const V6_1 = linuxVersion(6, 1);
const V6_6 = linuxVersion(6, 6);
const V6_18 = linuxVersion(6, 18);
const FZPU = DEBUG_DEFAULT_FLAGS;

/** Geometry of kmalloc-<size> (a NORMAL kmalloc cache). */
function kmalloc(size: number, cpus: number, extra: Partial<Parameters<typeof computeCacheGeometry>[0]> = {}) {
  return computeCacheGeometry({ objectSize: size, cpus, isKmalloc: true, ...extra });
}

describe('slab_flags: SLAB_* bits (include/linux/slab.h enum _slab_flag_bits, 6.10+)', () => {
  it('are exported by the public API for kmemCacheCreate', async () => {
    const api: Record<string, unknown> = await import('../../src/index.js');
    const flags = {
      SLAB_ACCOUNT,
      SLAB_CACHE_DMA,
      SLAB_CACHE_DMA32,
      SLAB_CONSISTENCY_CHECKS,
      SLAB_FAILSLAB,
      SLAB_HWCACHE_ALIGN,
      SLAB_KMALLOC,
      SLAB_NO_MERGE,
      SLAB_NO_USER_FLAGS,
      SLAB_NOLEAKTRACE,
      SLAB_PANIC,
      SLAB_POISON,
      SLAB_RECLAIM_ACCOUNT,
      SLAB_RED_ZONE,
      SLAB_STORE_USER,
      SLAB_TEMPORARY,
      SLAB_TRACE,
      SLAB_TYPESAFE_BY_RCU,
    };
    for (const [name, bit] of Object.entries(flags)) expect(api[name], name).toBe(bit);
  });

  it('numbers the flags as the enum does with SLUB_DEBUG, FAILSLAB, MEMCG, KASAN_GENERIC, KFENCE, !SLUB_TINY', () => {
    expect(SLAB_CONSISTENCY_CHECKS).toBe(1 << 0);
    expect(SLAB_RED_ZONE).toBe(1 << 1);
    expect(SLAB_POISON).toBe(1 << 2);
    expect(SLAB_KMALLOC).toBe(1 << 3);
    expect(SLAB_HWCACHE_ALIGN).toBe(1 << 4);
    expect(SLAB_CACHE_DMA).toBe(1 << 5);
    expect(SLAB_CACHE_DMA32).toBe(1 << 6);
    expect(SLAB_STORE_USER).toBe(1 << 7);
    expect(SLAB_PANIC).toBe(1 << 8);
    expect(SLAB_TYPESAFE_BY_RCU).toBe(1 << 9);
    expect(SLAB_TRACE).toBe(1 << 10);
    // _SLAB_DEBUG_OBJECTS is absent (CONFIG_DEBUG_OBJECTS=n), so the next bit is 11.
    expect(SLAB_NOLEAKTRACE).toBe(1 << 11);
    expect(SLAB_NO_MERGE).toBe(1 << 12);
    expect(SLAB_FAILSLAB).toBe(1 << 13);
    expect(SLAB_ACCOUNT).toBe(1 << 14);
    expect(SLAB_KASAN).toBe(1 << 15);
    expect(SLAB_NO_USER_FLAGS).toBe(1 << 16);
    expect(SLAB_SKIP_KFENCE).toBe(1 << 17);
    expect(SLAB_RECLAIM_ACCOUNT).toBe(1 << 18);
    expect(__OBJECT_POISON).toBe(1 << 19);
    expect(__CMPXCHG_DOUBLE).toBe(1 << 20);
    expect(SLAB_NO_OBJ_EXT).toBe(1 << 21);
    expect(SLAB_TEMPORARY).toBe(SLAB_RECLAIM_ACCOUNT);
  });

  it('keeps every flag and mask a positive number below 2^31', () => {
    for (const f of [SLAB_NEVER_MERGE, SLAB_MERGE_SAME, SLAB_DEBUG_FLAGS, DEBUG_DEFAULT_FLAGS, SLAB_NO_OBJ_EXT]) {
      expect(f).toBeGreaterThan(0);
      expect(f).toBeLessThan(2 ** 31);
    }
  });

  it('builds the composite masks from the kernel definitions', () => {
    // mm/slub.c
    expect(DEBUG_DEFAULT_FLAGS).toBe(SLAB_CONSISTENCY_CHECKS | SLAB_RED_ZONE | SLAB_POISON | SLAB_STORE_USER);
    expect(DEBUG_METADATA_FLAGS).toBe(SLAB_RED_ZONE | SLAB_POISON | SLAB_STORE_USER);
    expect(SLAB_NO_CMPXCHG).toBe(SLAB_CONSISTENCY_CHECKS | SLAB_STORE_USER | SLAB_TRACE);
    // mm/slab.h
    expect(SLAB_DEBUG_FLAGS).toBe(SLAB_RED_ZONE | SLAB_POISON | SLAB_STORE_USER | SLAB_TRACE | SLAB_CONSISTENCY_CHECKS);
    // mm/slab_common.c (6.10+: SLAB_NO_MERGE replaced kasan_never_merge())
    expect(SLAB_NEVER_MERGE).toBe(
      SLAB_RED_ZONE | SLAB_POISON | SLAB_STORE_USER | SLAB_TRACE | SLAB_TYPESAFE_BY_RCU | SLAB_NOLEAKTRACE | SLAB_FAILSLAB | SLAB_NO_MERGE,
    );
    expect(SLAB_MERGE_SAME).toBe(SLAB_RECLAIM_ACCOUNT | SLAB_CACHE_DMA | SLAB_CACHE_DMA32 | SLAB_ACCOUNT);
  });

  it('spells unique ids the way create_unique_id() does: d D a F A, a dash, %07u', () => {
    expect(slabFlagsToUniqueIdLetters(0)).toBe('');
    expect(slabFlagsToUniqueIdLetters(SLAB_ACCOUNT | SLAB_CONSISTENCY_CHECKS | SLAB_RECLAIM_ACCOUNT | SLAB_CACHE_DMA32 | SLAB_CACHE_DMA)).toBe('dDaFA');
    expect(slabFlagsToUniqueIdLetters(SLAB_HWCACHE_ALIGN | SLAB_POISON | SLAB_STORE_USER)).toBe('');
    // Real names from the 6.1 oracle's /sys/kernel/slab: filp -> :A-0000256, buffer_head -> :a-0000104.
    expect(createUniqueId(0, 64)).toBe(':0000064');
    expect(createUniqueId(SLAB_ACCOUNT | SLAB_HWCACHE_ALIGN, 256)).toBe(':A-0000256');
    expect(createUniqueId(SLAB_RECLAIM_ACCOUNT, 104)).toBe(':a-0000104');
    expect(createUniqueId(SLAB_ACCOUNT, 4480)).toBe(':A-0004480');
  });

  it('names flags for messages', () => {
    expect(slabFlagsToString(0)).toBe('0');
    expect(slabFlagsToString(SLAB_HWCACHE_ALIGN | SLAB_PANIC)).toBe('SLAB_HWCACHE_ALIGN|SLAB_PANIC');
  });

  it('rejects non-flags', () => {
    expect(() => slabFlagsToUniqueIdLetters(-1)).toThrow(RangeError);
    expect(() => slabFlagsToUniqueIdLetters(1.5)).toThrow(RangeError);
    expect(() => slabFlagsToUniqueIdLetters(1 << 30)).toThrow(/flags/);
    expect(() => slabFlagsToUniqueIdLetters('4' as unknown as number)).toThrow(TypeError);
    expect(() => createUniqueId(0, -8)).toThrow(/size/);
  });
});

describe('primitives: fls, ffs, get_order, order_objects, oo_make', () => {
  it('fls and ffs', () => {
    expect([0, 1, 2, 3, 4, 7, 8, 12, 64, 0x80000000].map(fls)).toEqual([0, 1, 2, 2, 3, 3, 4, 4, 7, 32]);
    expect([0, 1, 2, 96, 192, 8192, 24].map(ffs)).toEqual([0, 1, 2, 6, 7, 14, 4]);
  });

  it('get_order', () => {
    expect(getOrder(1)).toBe(0);
    expect(getOrder(4096)).toBe(0);
    expect(getOrder(4097)).toBe(1);
    expect(getOrder(8192)).toBe(1);
    expect(getOrder(12288)).toBe(2);
    expect(getOrder(32768)).toBe(3);
    expect(getOrder(4 * 1024 * 1024)).toBe(10);
    expect(() => getOrder(0)).toThrow(/get_order\(0\)/);
    expect(() => getOrder(-1)).toThrow(RangeError);
    expect(() => getOrder(Number.NaN)).toThrow(RangeError);
  });

  it('order_objects and the packed oo word (order << 16 | objects)', () => {
    expect(orderObjects(0, 96)).toBe(42);
    expect(orderObjects(1, 416)).toBe(19);
    expect(orderObjects(3, 1088)).toBe(30);
    const oo = ooMake(2, 1088); // (2 << 16) + 15
    expect(oo).toBe(0x2000f);
    expect(ooOrder(oo)).toBe(2);
    expect(ooObjects(oo)).toBe(15);
  });

  it('min_objects = 4 * (fls(nr_cpus) + 1), nr_cpu_ids when one CPU is present', () => {
    expect([1, 2, 3, 4, 7, 8, 16, 64, 128].map((c) => slubMinObjectsFor(c))).toEqual([8, 12, 12, 16, 16, 20, 24, 32, 36]);
    // One present CPU out of 8 possible: num_present_cpus() is 1, so nr_cpu_ids (8) decides.
    expect(slubMinObjectsFor(1, 8)).toBe(20);
  });

  it('calc_slab_order() stops at the first order within the waste fraction', () => {
    // 1088-byte slots: order 2 leaves 16384 - 15*1088 = 64 <= 1024.
    expect(calcSlabOrder(1088, 2, 3, 16)).toBe(2);
    // 12224-byte slots from order 3 never waste <= 1/4; the caller gets max_order + 1.
    expect(calcSlabOrder(12224, 3, 3, 4)).toBe(4);
    expect(calcSlabOrder(12224, 3, 3, 2)).toBe(3);
  });
});

describe('calculate_alignment() and create_boot_cache()', () => {
  it('halves the cache line while the object fits in half of it (SLAB_HWCACHE_ALIGN)', () => {
    expect(calculateAlignment(SLAB_HWCACHE_ALIGN, 0, 1088)).toBe(64);
    expect(calculateAlignment(SLAB_HWCACHE_ALIGN, 0, 33)).toBe(64);
    expect(calculateAlignment(SLAB_HWCACHE_ALIGN, 0, 32)).toBe(32);
    expect(calculateAlignment(SLAB_HWCACHE_ALIGN, 0, 24)).toBe(32);
    expect(calculateAlignment(SLAB_HWCACHE_ALIGN, 0, 16)).toBe(16);
    expect(calculateAlignment(SLAB_HWCACHE_ALIGN, 0, 4)).toBe(8); // never below arch_slab_minalign()
    expect(calculateAlignment(SLAB_HWCACHE_ALIGN, 256, 128)).toBe(256); // never below the request
  });

  it('otherwise uses the requested alignment, at least 8', () => {
    expect(calculateAlignment(0, 0, 100)).toBe(8);
    expect(calculateAlignment(0, 4, 100)).toBe(8);
    expect(calculateAlignment(0, 64, 6208)).toBe(64); // task_struct: __alignof__ 64 (6.1 oracle align 64)
    expect(calculateAlignment(0, 256, 256)).toBe(256); // maple_node asks for its own size
  });

  it('6.11+: kmalloc caches align to the largest power of two dividing the size', () => {
    expect(createBootCacheAlign(SLAB_KMALLOC, 8)).toBe(8);
    expect(createBootCacheAlign(SLAB_KMALLOC, 96)).toBe(32);
    expect(createBootCacheAlign(SLAB_KMALLOC, 192)).toBe(64);
    expect(createBootCacheAlign(SLAB_KMALLOC, 2048)).toBe(2048);
    expect(createBootCacheAlign(SLAB_KMALLOC, 8192)).toBe(8192);
    // kmem_cache_node is not a kmalloc cache: only SLAB_HWCACHE_ALIGN applies.
    expect(createBootCacheAlign(SLAB_HWCACHE_ALIGN | SLAB_NO_OBJ_EXT, 72)).toBe(64);
  });

  it('before 6.11: every power-of-two boot cache aligns to its size, 96 and 192 stay at 8 (6.1 oracle)', () => {
    expect(createBootCacheAlign(SLAB_KMALLOC, 96, V6_1)).toBe(8);
    expect(createBootCacheAlign(SLAB_KMALLOC, 192, V6_1)).toBe(8);
    expect(createBootCacheAlign(SLAB_KMALLOC, 1024, V6_1)).toBe(1024);
    expect(createBootCacheAlign(SLAB_HWCACHE_ALIGN, 64, V6_1)).toBe(64);
  });
});

describe('kmalloc caches: objects per slab and order by CPU count (no debugging)', () => {
  // Worked out by hand. A power-of-two size divides every slab, so the order is
  // just get_order(min(min_objects, objects in an order-3 slab) * size):
  //   kmalloc-8..128: min_objects * size <= 4096 for up to 20 objects of 128 -> order 0
  //   kmalloc-96:  20*96 = 1920 -> order 0, 4096 % 96 = 64 <= 256 -> 42 objects
  //   kmalloc-192: 20*192 = 3840 -> order 0, 4096 % 192 = 64 <= 256 -> 21 objects
  //   kmalloc-256: 8/12/16 objects fit 4096 -> order 0 (16); 20*256 = 5120 -> order 1 (32)
  //   kmalloc-512: 8*512 = 4096 -> 0 (8); 12 or 16 -> 8192, order 1 (16); 20 -> 10240, order 2 (32)
  //   kmalloc-1k:  8 -> 8192, order 1 (8); 12/16 -> order 2 (16); 20 -> 20480, order 3 (32)
  //   kmalloc-2k:  8 -> order 2 (8); 12 -> 24576, order 3 (16); 16, and 20 capped at 16 -> order 3 (16)
  //   kmalloc-4k:  capped at 8 per order-3 slab -> order 3 (8)
  //   kmalloc-8k:  capped at 4 -> order 3 (4)
  // The 2-CPU column is realdata/slabinfo-1.txt (and the 6.1 oracle), the 4-CPU
  // column realdata/slabinfo-2.txt (6.6): kmalloc-96 42/1 page, -1k 16/4 pages, -8k 4/8 pages.
  const table: [size: number, byCpus: Record<1 | 2 | 4 | 8, [objects: number, order: number]>][] = [
    [8, { 1: [512, 0], 2: [512, 0], 4: [512, 0], 8: [512, 0] }],
    [16, { 1: [256, 0], 2: [256, 0], 4: [256, 0], 8: [256, 0] }],
    [32, { 1: [128, 0], 2: [128, 0], 4: [128, 0], 8: [128, 0] }],
    [64, { 1: [64, 0], 2: [64, 0], 4: [64, 0], 8: [64, 0] }],
    [96, { 1: [42, 0], 2: [42, 0], 4: [42, 0], 8: [42, 0] }],
    [128, { 1: [32, 0], 2: [32, 0], 4: [32, 0], 8: [32, 0] }],
    [192, { 1: [21, 0], 2: [21, 0], 4: [21, 0], 8: [21, 0] }],
    [256, { 1: [16, 0], 2: [16, 0], 4: [16, 0], 8: [32, 1] }],
    [512, { 1: [8, 0], 2: [16, 1], 4: [16, 1], 8: [32, 2] }],
    [1024, { 1: [8, 1], 2: [16, 2], 4: [16, 2], 8: [32, 3] }],
    [2048, { 1: [8, 2], 2: [16, 3], 4: [16, 3], 8: [16, 3] }],
    [4096, { 1: [8, 3], 2: [8, 3], 4: [8, 3], 8: [8, 3] }],
    [8192, { 1: [4, 3], 2: [4, 3], 4: [4, 3], 8: [4, 3] }],
  ];
  for (const [size, byCpus] of table) {
    for (const cpus of [1, 2, 4, 8] as const) {
      it(`kmalloc-${kmalloc_info[kmallocIndex(size)]!.shortSize} on ${cpus} CPU(s): ${byCpus[cpus][0]} objects, order ${byCpus[cpus][1]}`, () => {
        for (const version of [V6_1, V6_6, V6_18]) {
          const g = kmalloc(size, cpus, { version });
          expect([g.size, g.objects, g.order]).toEqual([size, ...byCpus[cpus]]);
        }
      });
    }
  }

  it('2 CPUs, as listed in realdata/slabinfo-1.txt', () => {
    const row = (size: number) => {
      const g = kmalloc(size, 2);
      return [g.objects, 1 << g.order];
    };
    expect(row(96)).toEqual([42, 1]);
    expect(row(192)).toEqual([21, 1]);
    expect(row(256)).toEqual([16, 1]);
    expect(row(512)).toEqual([16, 2]);
    expect(row(1024)).toEqual([16, 4]);
    expect(row(2048)).toEqual([16, 8]);
    expect(row(4096)).toEqual([8, 8]);
    expect(row(8192)).toEqual([4, 8]);
  });

  it('LKP dump (16 <= nr_cpu_ids < 128): kmalloc-128 32/1, -256 32/2, -512 32/4, -1k 32/8 pages', () => {
    // 16 CPUs: min_objects 24. 24*256 = 6144 -> order 1; 24*512 -> order 2; 24*1024 -> order 3.
    const pages = (size: number) => {
      const g = kmalloc(size, 16);
      return [g.objects, 1 << g.order];
    };
    expect(pages(128)).toEqual([32, 1]);
    expect(pages(256)).toEqual([32, 2]);
    expect(pages(512)).toEqual([32, 4]);
    expect(pages(1024)).toEqual([32, 8]);
  });

  it('a present-CPU count of 1 falls back to nr_cpu_ids', () => {
    // 1 present of 8 possible: min_objects 20, so kmalloc-256 takes order 1 as with 8 CPUs.
    expect(kmalloc(256, 1, { nrCpuIds: 8 }).order).toBe(1);
    expect(kmalloc(256, 1).order).toBe(0);
  });

  it('min_partial = clamp(ilog2(size) / 2, 5, 10); cpu_partial 120/52/24/6 (6.1 oracle values)', () => {
    expect([8, 256, 1024, 2048, 4096, 8192].map(minPartialFor)).toEqual([5, 5, 5, 5, 6, 6]);
    expect(minPartialFor(1 << 20)).toBe(10);
    expect(minPartialFor(1 << 22)).toBe(10);
    expect([8, 192, 255, 256, 1023, 1024, 4095, 4096, 8192].map((s) => cpuPartialFor(s, 0))).toEqual([120, 120, 120, 52, 52, 24, 24, 6, 6]);
    expect(cpuPartialFor(8, SLAB_CONSISTENCY_CHECKS)).toBe(0);
    expect(cpuPartialFor(8, SLAB_HWCACHE_ALIGN | SLAB_ACCOUNT)).toBe(120);
    // cpu_partial_slabs = DIV_ROUND_UP(cpu_partial * 2, objects)
    expect(cpuPartialSlabs(120, 512)).toBe(1);
    expect(cpuPartialSlabs(24, 16)).toBe(3);
    expect(cpuPartialSlabs(6, 8)).toBe(2);
    expect(cpuPartialSlabs(6, 4)).toBe(3);
    const k4 = kmalloc(4096, 2);
    expect([k4.minPartial, k4.cpuPartial, k4.cpuPartialSlabs]).toEqual([6, 6, 2]);
    const k1 = kmalloc(1024, 2);
    expect([k1.minPartial, k1.cpuPartial, k1.cpuPartialSlabs]).toEqual([5, 24, 3]);
  });

  it('fills the other geometry fields of a plain kmalloc cache', () => {
    const g = kmalloc(96, 2);
    expect(g).toMatchObject({
      objectSize: 96,
      size: 96,
      align: 32, // 6.11+ rule
      offset: 48, // ALIGN_DOWN(96 / 2, 8)
      inuse: 96,
      redLeftPad: 0,
      minOrder: 0,
      minObjects: 42,
      allocflagsComp: true, // 6.10+: every slab is __GFP_COMP
      kasanAllocMetaOffset: -1,
      kasanFreeMetaOffset: -1,
      origSizeOffset: -1,
      trackOffset: -1,
      useroffset: 0,
      usersize: 0,
    });
    expect(g.flags).toBe(SLAB_KMALLOC | __CMPXCHG_DOUBLE);
    // Before 6.10 an order-0 slab was allocated without __GFP_COMP.
    expect(kmalloc(96, 2, { version: V6_6 }).allocflagsComp).toBe(false);
    expect(kmalloc(512, 2, { version: V6_6 }).allocflagsComp).toBe(true);
  });
});

describe('dedicated caches from real machines', () => {
  it('signal_cache (1088 bytes, SLAB_HWCACHE_ALIGN): 15 per order-2 slab on 2 CPUs, 30 per order-3 slab on 4', () => {
    // 2 CPUs: 12*1088 = 13056 -> order 2; 16384 - 15*1088 = 64 <= 1024.
    // 4 CPUs: 16*1088 = 17408 -> order 3; 32768 - 30*1088 = 128 <= 2048.
    for (const version of [V6_1, V6_6, V6_18]) {
      const two = computeCacheGeometry({ objectSize: 1088, flags: SLAB_HWCACHE_ALIGN, cpus: 2, version });
      const four = computeCacheGeometry({ objectSize: 1088, flags: SLAB_HWCACHE_ALIGN, cpus: 4, version });
      expect([two.size, two.objects, two.order]).toEqual([1088, 15, 2]);
      expect([four.size, four.objects, four.order]).toEqual([1088, 30, 3]);
    }
  });

  // realdata/slabinfo-2.txt, Linux 6.6.119 with 4 CPUs: name, objsize (the stride),
  // objperslab, pagesperslab. Where the object size is not known, the stride is
  // used as an unaligned object without flags, which gives that stride.
  //   mm_struct 1344: 16*1344 = 21504 -> order 3; 32768 - 24*1344 = 512 <= 2048
  //   inode_cache 624: 16*624 = 9984 -> order 2; 16384 - 26*624 = 160 <= 1024
  //   dentry 192: 16*192 = 3072 -> order 0; 4096 - 21*192 = 64
  //   vm_area_struct 168: order 0; 4096 - 24*168 = 64
  //   task_struct 4288: capped at 7 per order-3 slab -> order 3; leftover 2752 > 2048, <= 4096 (1/8)
  //   maple_node 256, kmem_cache 256: order 0, 16
  //   vma_lock 40: order 0; 4096 - 102*40 = 16
  //   radix_tree_node 584: 16*584 = 9344 -> order 2; 16384 - 28*584 = 32
  const sixSix: [name: string, stride: number, objects: number, pages: number][] = [
    ['mm_struct', 1344, 24, 8],
    ['inode_cache', 624, 26, 4],
    ['dentry', 192, 21, 1],
    ['vm_area_struct', 168, 24, 1],
    ['task_struct', 4288, 7, 8],
    ['maple_node', 256, 16, 1],
    ['vma_lock', 40, 102, 1],
    ['kmem_cache', 256, 16, 1],
    ['radix_tree_node', 584, 28, 4],
    ['signal_cache', 1088, 30, 8],
  ];
  for (const [name, stride, objects, pages] of sixSix) {
    it(`6.6, 4 CPUs: ${name} ${stride} ${objects} ${pages}`, () => {
      for (const version of [V6_6, V6_18]) {
        const g = computeCacheGeometry({ objectSize: stride, cpus: 4, version });
        expect([g.size, g.objects, 1 << g.order]).toEqual([stride, objects, pages]);
      }
    });
  }

  it('6.6 caches with their real flags give the same strides', () => {
    // radix_tree_node: 576-byte object, ctor radix_tree_node_ctor, SLAB_RECLAIM_ACCOUNT (6.1 oracle
    // shows object_size 576, slab_size 584): the ctor moves the free pointer out of the object.
    const rtn = computeCacheGeometry({
      objectSize: 576,
      flags: SLAB_RECLAIM_ACCOUNT | SLAB_PANIC,
      hasCtor: true,
      cpus: 4,
      version: V6_6,
    });
    expect([rtn.size, rtn.objects, rtn.order, rtn.offset, rtn.inuse]).toEqual([584, 28, 2, 576, 576]);
    // maple_node: kmem_cache_create("maple_node", sizeof (256), sizeof (256), SLAB_PANIC, NULL).
    const mn = computeCacheGeometry({ objectSize: 256, align: 256, flags: SLAB_PANIC, cpus: 4, version: V6_6 });
    expect([mn.size, mn.align, mn.objects, mn.order]).toEqual([256, 256, 16, 0]);
  });

  it('request_sock_TCP-like SLAB_TYPESAFE_BY_RCU: 296 -> 304, free pointer outside the object', () => {
    const g = computeCacheGeometry({ objectSize: 296, flags: SLAB_TYPESAFE_BY_RCU, cpus: 2 });
    expect([g.size, g.offset, g.inuse]).toEqual([304, 296, 296]);
    // 2 CPUs: 12*304 = 3648 -> order 0, 4096 - 13*304 = 144 <= 256.
    expect([g.objects, g.order]).toEqual([13, 0]);
    // slabinfo-tool-5.4-vmware.txt: 53 per order-2 slab with a large nr_cpu_ids
    // (128: min_objects 36 -> 10944 bytes -> order 2; 16384 - 53*304 = 272 <= 1024).
    const vmware = computeCacheGeometry({ objectSize: 296, flags: SLAB_TYPESAFE_BY_RCU, cpus: 128 });
    expect([vmware.size, vmware.objects, vmware.order]).toEqual([304, 53, 2]);
  });

  it('6.12+ freeptr_offset keeps an RCU cache free pointer inside the object', () => {
    const g = computeCacheGeometry({ objectSize: 296, flags: SLAB_TYPESAFE_BY_RCU, freeptrOffset: 16, cpus: 2 });
    expect([g.size, g.offset, g.inuse]).toEqual([296, 16, 296]);
    // A ctor still moves it out in 6.18 (ctor + freeptr_offset came later).
    const ctor = computeCacheGeometry({
      objectSize: 296,
      flags: SLAB_TYPESAFE_BY_RCU,
      freeptrOffset: 16,
      hasCtor: true,
      cpus: 2,
    });
    expect([ctor.size, ctor.offset]).toEqual([304, 296]);
  });

  it('task_struct 12224: 6.6 takes 1 object per order-2 slab, 6.7+ 2 per order-3 slab', () => {
    // max_objects = 32768 / 12224 = 2; get_order(2 * 12224) = 3; order 3 wastes 8320 bytes,
    // more than 1/4 of the slab. 6.6 then falls back to one object: get_order(12224) = 2.
    // 6.7+ first tries 1/2 waste: 8320 <= 16384 -> order 3 with 2 objects.
    expect(calculateOrderLegacy(12224, 2)).toBe(2);
    expect(calculateOrder(12224, 2)).toBe(3);
    const old = computeCacheGeometry({ objectSize: 12224, align: 64, cpus: 2, version: V6_6 });
    expect([old.objects, 1 << old.order]).toEqual([1, 4]); // the EC2 blog dump: `12224 1 4`
    const now = computeCacheGeometry({ objectSize: 12224, align: 64, cpus: 2 });
    expect([now.objects, 1 << now.order]).toEqual([2, 8]);
  });

  it('calculate_order() corner cases', () => {
    // A 64 KiB object cannot fit slab_max_order 3: get_order(size) = 4.
    expect(calculateOrder(65536, 2)).toBe(4);
    expect(calculateOrderLegacy(65536, 2)).toBe(4);
    // slab_min_order=8 would put 131072 8-byte objects in a slab: get_order(8 * 32767) - 1 = 5.
    expect(calculateOrder(8, 2, 8, 10)).toBe(5);
    expect(calculateOrderLegacy(8, 2, 8, 10)).toBe(5);
    // slab_min_objects overrides the CPU count.
    expect(calculateOrder(256, 2, 0, 3, 64)).toBe(2);
    // slab_max_order=0 forces order 0 where a single object fits.
    expect(calculateOrder(2048, 2, 0, 0)).toBe(0);
    // More than an order-10 block holds: -ENOSYS.
    expect(calculateOrder(4 * 1024 * 1024 + 8, 2)).toBe(-38);
  });
});

describe('slub_debug layouts', () => {
  it('5.11 kmalloc-32 under FZPU (realdata/slub-debug-1.txt) has a 416 stride: a 152-byte struct track', () => {
    // The dump shows a 32-byte left redzone, 32-byte object, 8-byte right redzone and 32 bytes
    // of padding before the next slot; objects=19 in an order-1 slab, objects at 32 + k * 416.
    // 32 (object) + 8 (redzone word: no slack) + 8 (free pointer: POISON moves it out)
    // + 2 * track + 8 (trailing redzone word) + 32 (red_left_pad = ALIGN(8, 32)) = 416 after
    // ALIGN(.., 32) needs 2 * track in 297..328, and the padding line count (off = 48 + 2 * track,
    // padding = 416 - 32 - off = 32) pins it: track = 152 = 8 (addr) + 16 * 8 (addrs[16]) + 4 + 4 + 8.
    const track511 = 8 + 16 * 8 + 4 + 4 + 8;
    expect(track511).toBe(152);
    const stride = Math.ceil((32 + 8 + 8 + 2 * track511 + 8 + 32) / 32) * 32;
    expect(stride).toBe(416);
    expect(416 - 32 - (48 + 2 * track511)).toBe(32); // the two "Padding" lines
    expect(orderObjects(1, stride)).toBe(19);
    expect(calculateOrderLegacy(stride, 4)).toBe(1);
  });

  it('5.17+ uses a stack depot handle: struct track is 32 bytes', () => {
    // addr 8, handle 4, cpu 4, pid 4, 4 bytes padding, when 8.
    expect(TRACK_SIZE).toBe(32);
  });

  it('6.18 kmalloc-32 under FZPU: stride 160, 25 objects per order-0 slab', () => {
    // align 32 (kmalloc-32); 32 -> +8 right redzone = 40 = inuse; free pointer at 40 (POISON) -> 48;
    // tracks 48..112; orig_size (u32) 112..116; +8 -> 124; red_left_pad ALIGN(8, 32) = 32 -> 156;
    // ALIGN(156, 32) = 160. 2 CPUs: 12 * 160 = 1920 -> order 0, 4096 - 25 * 160 = 96 <= 256.
    const g = kmalloc(32, 2, { flags: FZPU });
    expect(g).toMatchObject({
      size: 160,
      align: 32,
      inuse: 40,
      offset: 40,
      trackOffset: 48,
      origSizeOffset: 112,
      redLeftPad: 32,
      objects: 25,
      order: 0,
      cpuPartial: 0,
      cpuPartialSlabs: 0,
      minPartial: 5,
    });
    expect(g.flags & __OBJECT_POISON).toBe(__OBJECT_POISON);
    expect(g.flags & __CMPXCHG_DOUBLE).toBe(0); // F and U are SLAB_NO_CMPXCHG flags
    expect(g.flags & FZPU).toBe(FZPU);
    // 6.1 (oracle kernel) has orig_size too and gives the same numbers.
    expect(kmalloc(32, 2, { flags: FZPU, version: V6_1 }).size).toBe(160);
  });

  it('6.18 kmalloc-8 under FZPU: 8 +8 +8 free pointer +64 tracks +4 orig_size +8 +8 left pad = 108 -> 112', () => {
    const g = kmalloc(8, 2, { flags: FZPU });
    expect([g.size, g.redLeftPad, g.offset, g.trackOffset, g.origSizeOffset]).toEqual([112, 8, 16, 24, 88]);
    // 12 * 112 = 1344 -> order 0; 4096 - 36 * 112 = 64 <= 256.
    expect([g.objects, g.order]).toEqual([36, 0]);
  });

  it('POISON is not applied to the object of an RCU or ctor cache, but still moves the free pointer', () => {
    const rcu = computeCacheGeometry({ objectSize: 64, flags: SLAB_POISON | SLAB_TYPESAFE_BY_RCU, cpus: 2 });
    expect(rcu.flags & __OBJECT_POISON).toBe(0);
    expect([rcu.offset, rcu.size]).toEqual([64, 72]);
    const plain = computeCacheGeometry({ objectSize: 64, flags: SLAB_POISON, cpus: 2 });
    expect(plain.flags & __OBJECT_POISON).toBe(__OBJECT_POISON);
  });

  it('RED_ZONE alone: a word of right redzone only without slack, free pointer stays inside', () => {
    // 60 -> ALIGN 64 leaves slack, so no extra word; free pointer at ALIGN_DOWN(30, 8) = 24;
    // + 8 trailing word + 8 left pad = 80.
    const g = computeCacheGeometry({ objectSize: 60, flags: SLAB_RED_ZONE, cpus: 2 });
    expect([g.inuse, g.offset, g.redLeftPad, g.size]).toEqual([64, 24, 8, 80]);
    // A 4-byte object under RED_ZONE: 4 -> 8 (slack); the free pointer must move out.
    const tiny = computeCacheGeometry({ objectSize: 4, flags: SLAB_RED_ZONE, cpus: 2 });
    expect([tiny.inuse, tiny.offset, tiny.size]).toEqual([8, 8, 32]);
  });

  it('U and ZU on a kmalloc cache: orig_size moves the free pointer out only with RED_ZONE since 6.11', () => {
    const u = kmalloc(64, 2, { flags: SLAB_STORE_USER });
    expect([u.offset, u.trackOffset, u.origSizeOffset]).toEqual([32, 64, 128]);
    const zu = kmalloc(64, 2, { flags: SLAB_RED_ZONE | SLAB_STORE_USER });
    expect([zu.inuse, zu.offset, zu.trackOffset]).toEqual([72, 72, 80]);
    // 6.2..6.10 moved it for orig_size alone; 6.1 saved orig_size but left the free pointer inside.
    const u6 = kmalloc(64, 2, { flags: SLAB_STORE_USER, version: V6_6 });
    expect([u6.offset, u6.trackOffset]).toEqual([64, 72]);
    const u61 = kmalloc(64, 2, { flags: SLAB_STORE_USER, version: V6_1 });
    expect([u61.offset, u61.trackOffset, u61.origSizeOffset]).toEqual([32, 64, 128]);
  });

  it('slub_debug=O drops Z, P and U from kmalloc-4k, whose debug slot would need order 2', () => {
    // FZPU kmalloc-4k: 4096 +8 +8 +64 +4 +8 + red_left_pad 4096 = 8284 -> ALIGN(.., 4096) = 12288;
    // get_order(12288) = 2 > get_order(4096) = 0. Without O: 2 per order-3 slab (max_objects 2,
    // 32768 % 12288 = 8192 > 1/8, <= 1/4).
    const full = kmalloc(4096, 2, { flags: FZPU });
    expect([full.size, full.objects, full.order, full.redLeftPad]).toEqual([12288, 2, 3, 4096]);
    const o = kmalloc(4096, 2, { flags: FZPU, disableHigherOrderDebug: true });
    expect([o.size, o.objects, o.order, o.redLeftPad, o.offset, o.trackOffset]).toEqual([4096, 8, 3, 0, 2048, -1]);
    expect(o.flags & DEBUG_METADATA_FLAGS).toBe(0);
    expect(o.flags & SLAB_CONSISTENCY_CHECKS).toBe(SLAB_CONSISTENCY_CHECKS);
    expect(o.flags & __OBJECT_POISON).toBe(0);
    expect(o.cpuPartial).toBe(0); // F alone is still a debug cache
    // kmalloc-32's debug slot stays order 0, so O keeps its flags.
    expect(kmalloc(32, 2, { flags: FZPU, disableHigherOrderDebug: true }).size).toBe(160);
  });
});

describe('generic KASAN (kasan_cache_create)', () => {
  it('optimal_redzone() table', () => {
    expect([1, 48, 49, 96, 97, 448, 449, 3968, 3969, 16128, 16129, 32256, 32257, 64512, 64513].map(optimalRedzone)).toEqual([
      16, 16, 32, 32, 64, 64, 128, 128, 256, 256, 512, 512, 1024, 1024, 2048,
    ]);
  });

  it('kmalloc-32 slots are 64 bytes apart (realdata/kasan-slab-out-of-bounds-2.txt: 64 objects per page)', () => {
    // 32 + 16 alloc meta = 48; free meta fits in the object; 32 + optimal_redzone(32) = 48;
    // ALIGN(48, 32) = 64. The report's slab counters 0x80400040 decode to objects=64.
    const g = kmalloc(32, 2, { kasan: true });
    expect([g.size, g.objects, g.order]).toEqual([64, 64, 0]);
    expect([g.kasanAllocMetaOffset, g.kasanFreeMetaOffset]).toEqual([32, 0]);
    expect(g.flags & (SLAB_KASAN | SLAB_NO_MERGE)).toBe(SLAB_KASAN | SLAB_NO_MERGE);
  });

  it('kmalloc-96: 128-byte slots, 32 per page (kasan-use-after-free-1.txt, 5.17: counters 0x00200020)', () => {
    expect([kmalloc(96, 2, { kasan: true }).size, kmalloc(96, 2, { kasan: true }).objects]).toEqual([128, 32]);
  });

  it('kmalloc-192: 256-byte slots, 16 per order-0 slab (kasan-slab-use-after-free-1.txt, 6.13)', () => {
    // The shadow dump shows the object at page offset 0x100 with fc from 0xc0 to 0x100,
    // and the slab counters 0x80100010 decode to objects=16.
    const g = kmalloc(192, 2, { kasan: true });
    expect([g.size, g.objects, g.order]).toEqual([256, 16, 0]);
  });

  it('kmalloc-512: 1024-byte slots, 16 per order-2 slab (kasan-slab-out-of-bounds-3.txt, 5.4: 0x00100010)', () => {
    // 512 + 16 = 528 < 512 + 128 = 640 -> ALIGN(640, 512) = 1024; 12 * 1024 -> order 2.
    const g = kmalloc(512, 2, { kasan: true });
    expect([g.size, g.objects, g.order]).toEqual([1024, 16, 2]);
  });

  it('btrfs_inode (2256, ctor): free meta after alloc meta, 13 per order-3 slab (kasan-slab-use-after-free-2.txt, 6.4)', () => {
    // 2256 -> free pointer out (ctor) 2264 -> alloc meta 2264..2280 -> free meta 2280..2296;
    // 2256 + optimal_redzone 128 = 2384 is larger. 32768 - 13 * 2384 = 1776 <= 2048.
    // The report's counters 0x000d000d decode to objects=13.
    const g = computeCacheGeometry({
      objectSize: 2256,
      flags: SLAB_RECLAIM_ACCOUNT | SLAB_ACCOUNT,
      hasCtor: true,
      cpus: 2,
      kasan: true,
      version: linuxVersion(6, 4),
    });
    expect([g.size, g.objects, g.order, g.kasanAllocMetaOffset, g.kasanFreeMetaOffset]).toEqual([2384, 13, 3, 2264, 2280]);
  });

  it('the whole kmalloc table under KASAN on 2 CPUs (6.18)', () => {
    // size: slot = ALIGN(max(size + 16, size + optimal_redzone(size)), align) -> objects/order
    //   8: 8+16 alloc meta, +8 for the free-meta tail (8 < 16) = 32 -> 128/0
    //   16: 32 -> 128/0        32: 64 -> 64/0          64: 96 -> ALIGN 64 = 128 -> 32/0
    //   96: 128 (align 32) -> 32/0    128: 192 -> ALIGN 128 = 256 -> 16/0    192: 256 -> 16/0
    //   256: 320 -> 512; 12*512 -> order 1, 16     512: 640 -> 1024; order 2, 16
    //   1k: 1152 -> 2048; 12*2048 -> order 3, 16   2k: 2176 -> 4096; 8 per order 3
    //   4k: 4352 -> 8192; 4 per order 3           8k: 8448 -> 16384; 2 per order 3
    const expected: [number, number, number, number][] = [
      [8, 32, 128, 0],
      [16, 32, 128, 0],
      [32, 64, 64, 0],
      [64, 128, 32, 0],
      [96, 128, 32, 0],
      [128, 256, 16, 0],
      [192, 256, 16, 0],
      [256, 512, 16, 1],
      [512, 1024, 16, 2],
      [1024, 2048, 16, 3],
      [2048, 4096, 8, 3],
      [4096, 8192, 4, 3],
      [8192, 16384, 2, 3],
    ];
    for (const [size, stride, objects, order] of expected) {
      const g = kmalloc(size, 2, { kasan: true });
      expect([size, g.size, g.objects, g.order]).toEqual([size, stride, objects, order]);
    }
  });

  it('objects under 16 bytes keep the head of free meta inside; slub_debug moves it after alloc meta', () => {
    const g = kmalloc(8, 2, { kasan: true });
    expect([g.kasanAllocMetaOffset, g.kasanFreeMetaOffset]).toEqual([16, 0]);
    const k = kasanCacheCreate(8, 8, SLAB_KMALLOC, false, true);
    expect(k).toEqual({ size: 40, allocMetaOffset: 8, freeMetaOffset: 24 });
  });

  it('FZPU + KASAN kmalloc-32: orig_size keeps free meta out of the object (6.13+)', () => {
    // ... 116 after orig_size; alloc meta 116..132; free meta 132..148; +8 +32 = 188 -> 192.
    const g = kmalloc(32, 2, { flags: FZPU, kasan: true });
    expect([g.size, g.kasanAllocMetaOffset, g.kasanFreeMetaOffset]).toEqual([192, 116, 132]);
    // Before 6.13 the free meta went into the object: 116 + 16 = 132, +8 +32 = 172 -> 192.
    const old = kmalloc(32, 2, { flags: FZPU, kasan: true, version: V6_6 });
    expect([old.size, old.kasanFreeMetaOffset]).toEqual([192, 0]);
  });
});

// Real /sys/kernel/slab of Debian's 6.1.0-56-amd64 kernel booted under qemu by the
// project's oracle runner (NR_CPUS 8192, one NUMA node), transcribed here. Columns: name object_size
// slab_size align order objs_per_slab min_partial cpu_partial, then the flag bits
// hwcache_align red_zone poison store_user sanity_checks reclaim_account cache_dma
// destroy_by_rcu as one 8-digit word, then 1 if the cache has a ctor. Merged caches
// (':...') show the largest object_size merged into them.

/** 2 CPUs, 128 MiB (the oracle's c2-128M run). */
const ORACLE_6_1_2CPU = `
  :0000024 24 24 8 0 170 5 120 00000000 0
  :0000032 32 32 8 0 128 5 120 00000000 0
  :0000048 48 48 8 0 85 5 120 00000000 0
  :0000056 56 56 8 0 73 5 120 00000000 0
  :0000064 64 64 8 0 64 5 120 00000000 0
  :0000072 72 72 8 0 56 5 120 00000000 0
  :0000080 80 80 8 0 51 5 120 00000000 0
  :0000088 88 88 8 0 46 5 120 00000000 0
  :0000096 96 96 8 0 42 5 120 00000000 0
  :0000112 112 112 8 0 36 5 120 00000000 0
  :0000128 128 128 8 0 32 5 120 00000000 0
  :0000184 184 184 8 0 22 5 120 00000000 0
  :0000192 176 192 64 0 21 5 120 10000000 0
  :0000200 200 200 8 0 20 5 120 00000000 0
  :0000216 216 216 8 0 18 5 120 00000000 0
  :0000256 256 256 256 0 16 5 52 00000000 0
  :0000272 272 272 8 0 15 5 52 00000000 0
  :0000320 304 320 64 0 12 5 52 10000000 0
  :0000416 416 416 8 1 19 5 52 00000000 0
  :0000512 512 512 64 1 16 5 52 10000000 0
  :0000576 576 576 64 1 14 5 52 10000000 0
  :0000640 640 640 64 1 12 5 52 00000000 0
  :0000768 736 768 64 2 21 5 52 10000000 0
  :0000968 968 968 8 2 16 5 52 00000000 0
  :0001024 1024 1024 64 2 16 5 24 10000000 0
  :0001088 1056 1088 64 2 15 5 24 10000000 0
  :0001232 1232 1232 8 2 13 5 24 00000000 0
  :0001360 1360 1360 8 2 12 5 24 00000000 0
  :0002048 2048 2048 64 3 16 5 24 10000000 0
  :0002112 2080 2112 64 3 15 5 24 10000000 0
  :0004096 4096 4096 64 3 8 6 6 10000000 0
  :A-0000016 16 16 8 0 256 5 120 00000000 0
  :A-0000032 32 32 8 0 128 5 120 00000000 0
  :A-0000040 40 40 8 0 102 5 120 00000000 0
  :A-0000048 48 48 8 0 85 5 120 00000000 0
  :A-0000056 56 56 8 0 73 5 120 00000000 0
  :A-0000064 64 64 8 0 64 5 120 00000000 0
  :A-0000072 72 72 8 0 56 5 120 00000000 0
  :A-0000080 80 80 8 0 51 5 120 00000000 0
  :A-0000120 120 120 8 0 34 5 120 00000000 0
  :A-0000128 128 128 64 0 32 5 120 10000000 0
  :A-0000136 136 136 8 0 30 5 120 00000000 0
  :A-0000152 152 152 8 0 26 5 120 00000000 0
  :A-0000192 184 192 64 0 21 5 120 10000000 0
  :A-0000256 256 256 64 0 16 5 52 10000000 0
  :A-0000320 320 320 64 0 12 5 52 10000000 0
  :A-0000624 624 624 8 1 13 5 52 00000000 0
  :A-0000704 704 704 64 2 23 5 52 10000000 0
  :A-0001024 1024 1024 64 2 16 5 24 10000000 0
  :A-0001152 1152 1152 64 2 14 5 24 10000000 0
  :A-0001216 1200 1216 64 2 13 5 24 10000000 0
  :A-0001344 1344 1344 64 2 12 5 24 10000000 0
  :A-0004480 4480 4480 64 3 7 6 6 00000000 0
  :a-0000104 104 104 8 0 39 5 120 00000100 0
  :a-0000128 128 128 8 0 32 5 120 00000100 0
  :a-0000256 208 256 64 0 16 5 52 10000100 0
  MPTCP 1952 1984 64 3 16 5 24 10000001 0
  MPTCPv6 2112 2176 64 3 15 5 24 10000001 0
  RAW 1000 1024 64 2 16 5 24 10000000 0
  RAWv6 1200 1216 64 2 13 5 24 10000000 0
  TCP 2280 2304 64 3 14 5 24 10000001 0
  TCPv6 2440 2496 64 3 13 5 24 10000001 0
  anon_vma 96 104 8 0 39 5 120 00000001 1
  bdev_cache 1560 1600 64 3 20 5 24 10000100 1
  bio-192 192 256 64 0 16 5 52 10000001 0
  bio-256 256 320 64 0 12 5 52 10000001 0
  dax_cache 776 832 64 2 19 5 52 10000100 1
  dentry 192 192 8 0 21 5 120 00000100 0
  dma-kmalloc-128 128 128 128 0 32 5 120 00000010 0
  dma-kmalloc-16 16 16 16 0 256 5 120 00000010 0
  dma-kmalloc-192 192 192 8 0 21 5 120 00000010 0
  dma-kmalloc-1k 1024 1024 1024 2 16 5 24 00000010 0
  dma-kmalloc-256 256 256 256 0 16 5 52 00000010 0
  dma-kmalloc-2k 2048 2048 2048 3 16 5 24 00000010 0
  dma-kmalloc-32 32 32 32 0 128 5 120 00000010 0
  dma-kmalloc-4k 4096 4096 4096 3 8 6 6 00000010 0
  dma-kmalloc-512 512 512 512 1 16 5 52 00000010 0
  dma-kmalloc-64 64 64 64 0 64 5 120 00000010 0
  dma-kmalloc-8 8 8 8 0 512 5 120 00000010 0
  dma-kmalloc-8k 8192 8192 8192 3 4 6 6 00000010 0
  dma-kmalloc-96 96 96 8 0 42 5 120 00000010 0
  fsverity_info 256 256 8 0 16 5 52 00000100 0
  hugetlbfs_inode_cache 656 664 8 1 12 5 52 00000000 1
  iint_cache 120 128 8 0 32 5 120 00000000 1
  inode_cache 632 640 8 1 12 5 52 00000100 1
  kmalloc-128 128 128 128 0 32 5 120 00000000 0
  kmalloc-16 16 16 16 0 256 5 120 00000000 0
  kmalloc-192 192 192 8 0 21 5 120 00000000 0
  kmalloc-1k 1024 1024 1024 2 16 5 24 00000000 0
  kmalloc-256 256 256 256 0 16 5 52 00000000 0
  kmalloc-2k 2048 2048 2048 3 16 5 24 00000000 0
  kmalloc-32 32 32 32 0 128 5 120 00000000 0
  kmalloc-4k 4096 4096 4096 3 8 6 6 00000000 0
  kmalloc-512 512 512 512 1 16 5 52 00000000 0
  kmalloc-64 64 64 64 0 64 5 120 00000000 0
  kmalloc-8 8 8 8 0 512 5 120 00000000 0
  kmalloc-8k 8192 8192 8192 3 4 6 6 00000000 0
  kmalloc-96 96 96 8 0 42 5 120 00000000 0
  kmalloc-cg-128 128 128 128 0 32 5 120 00000000 0
  kmalloc-cg-16 16 16 16 0 256 5 120 00000000 0
  kmalloc-cg-192 192 192 8 0 21 5 120 00000000 0
  kmalloc-cg-1k 1024 1024 1024 2 16 5 24 00000000 0
  kmalloc-cg-256 256 256 256 0 16 5 52 00000000 0
  kmalloc-cg-2k 2048 2048 2048 3 16 5 24 00000000 0
  kmalloc-cg-32 32 32 32 0 128 5 120 00000000 0
  kmalloc-cg-4k 4096 4096 4096 3 8 6 6 00000000 0
  kmalloc-cg-512 512 512 512 1 16 5 52 00000000 0
  kmalloc-cg-64 64 64 64 0 64 5 120 00000000 0
  kmalloc-cg-8 8 8 8 0 512 5 120 00000000 0
  kmalloc-cg-8k 8192 8192 8192 3 4 6 6 00000000 0
  kmalloc-cg-96 96 96 8 0 42 5 120 00000000 0
  kmalloc-rcl-128 128 128 128 0 32 5 120 00000100 0
  kmalloc-rcl-16 16 16 16 0 256 5 120 00000100 0
  kmalloc-rcl-192 192 192 8 0 21 5 120 00000100 0
  kmalloc-rcl-1k 1024 1024 1024 2 16 5 24 00000100 0
  kmalloc-rcl-256 256 256 256 0 16 5 52 00000100 0
  kmalloc-rcl-2k 2048 2048 2048 3 16 5 24 00000100 0
  kmalloc-rcl-32 32 32 32 0 128 5 120 00000100 0
  kmalloc-rcl-4k 4096 4096 4096 3 8 6 6 00000100 0
  kmalloc-rcl-512 512 512 512 1 16 5 52 00000100 0
  kmalloc-rcl-64 64 64 64 0 64 5 120 00000100 0
  kmalloc-rcl-8 8 8 8 0 512 5 120 00000100 0
  kmalloc-rcl-8k 8192 8192 8192 3 4 6 6 00000100 0
  kmalloc-rcl-96 96 96 8 0 42 5 120 00000100 0
  kmem_cache 224 256 64 0 16 5 52 10000000 0
  kmem_cache_node 64 64 64 0 64 5 120 10000000 0
  mm_struct 1104 1152 64 2 14 5 24 10000000 0
  mqueue_inode_cache 952 960 64 2 17 5 52 10000000 1
  names_cache 4096 4096 64 3 8 6 6 10000000 0
  proc_dir_entry 192 192 8 0 21 5 120 00000000 0
  proc_inode_cache 704 712 8 2 23 5 52 00000100 1
  radix_tree_node 576 584 8 1 14 5 52 00000100 1
  request_sock_TCP 304 312 8 0 13 5 52 00000001 0
  request_sock_TCPv6 304 312 8 0 13 5 52 00000001 0
  request_sock_subflow_v4 376 384 8 1 21 5 52 00000001 0
  request_sock_subflow_v6 376 384 8 1 21 5 52 00000001 0
  shmem_inode_cache 776 784 8 2 20 5 52 00000000 1
  sighand_cache 2080 2112 64 3 15 5 24 10000001 1
  skbuff_head_cache 232 256 64 0 16 5 52 10000000 0
  sock_inode_cache 768 832 64 2 19 5 52 10000100 1
  task_struct 6208 6208 64 3 5 6 6 00000000 0
  tw_sock_TCP 264 272 8 0 15 5 52 00000001 0
  tw_sock_TCPv6 264 272 8 0 15 5 52 00000001 0
  userfaultfd_ctx_cache 128 192 64 0 21 5 120 10000000 1
  uts_namespace 432 432 8 1 18 5 52 00000000 0
`;

/** 4 CPUs, 256 MiB: every order follows min_objects 16. */
const ORACLE_6_1_4CPU = `
  :0000024 24 24 8 0 170 5 120 00000000 0
  :0000032 32 32 8 0 128 5 120 00000000 0
  :0000048 48 48 8 0 85 5 120 00000000 0
  :0000056 56 56 8 0 73 5 120 00000000 0
  :0000064 64 64 8 0 64 5 120 00000000 0
  :0000072 72 72 8 0 56 5 120 00000000 0
  :0000080 80 80 8 0 51 5 120 00000000 0
  :0000088 88 88 8 0 46 5 120 00000000 0
  :0000096 96 96 8 0 42 5 120 00000000 0
  :0000112 112 112 8 0 36 5 120 00000000 0
  :0000128 128 128 8 0 32 5 120 00000000 0
  :0000184 184 184 8 0 22 5 120 00000000 0
  :0000192 176 192 64 0 21 5 120 10000000 0
  :0000200 200 200 8 0 20 5 120 00000000 0
  :0000216 216 216 8 0 18 5 120 00000000 0
  :0000256 256 256 256 0 16 5 52 00000000 0
  :0000272 272 272 8 1 30 5 52 00000000 0
  :0000320 304 320 64 1 25 5 52 10000000 0
  :0000416 416 416 8 1 19 5 52 00000000 0
  :0000512 512 512 64 1 16 5 52 10000000 0
  :0000576 576 576 64 2 28 5 52 10000000 0
  :0000640 640 640 64 2 25 5 52 00000000 0
  :0000768 736 768 64 2 21 5 52 10000000 0
  :0000968 968 968 8 2 16 5 52 00000000 0
  :0001024 1024 1024 64 2 16 5 24 10000000 0
  :0001088 1056 1088 64 3 30 5 24 10000000 0
  :0001232 1232 1232 8 3 26 5 24 00000000 0
  :0001360 1360 1360 8 3 24 5 24 00000000 0
  :0002048 2048 2048 64 3 16 5 24 10000000 0
  :0002112 2080 2112 64 3 15 5 24 10000000 0
  :0004096 4096 4096 64 3 8 6 6 10000000 0
  :A-0000016 16 16 8 0 256 5 120 00000000 0
  :A-0000032 32 32 8 0 128 5 120 00000000 0
  :A-0000040 40 40 8 0 102 5 120 00000000 0
  :A-0000048 48 48 8 0 85 5 120 00000000 0
  :A-0000056 56 56 8 0 73 5 120 00000000 0
  :A-0000064 64 64 8 0 64 5 120 00000000 0
  :A-0000072 72 72 8 0 56 5 120 00000000 0
  :A-0000080 80 80 8 0 51 5 120 00000000 0
  :A-0000120 120 120 8 0 34 5 120 00000000 0
  :A-0000128 128 128 64 0 32 5 120 10000000 0
  :A-0000136 136 136 8 0 30 5 120 00000000 0
  :A-0000152 152 152 8 0 26 5 120 00000000 0
  :A-0000192 184 192 64 0 21 5 120 10000000 0
  :A-0000256 256 256 64 0 16 5 52 10000000 0
  :A-0000320 320 320 64 1 25 5 52 10000000 0
  :A-0000624 624 624 8 2 26 5 52 00000000 0
  :A-0000704 704 704 64 2 23 5 52 10000000 0
  :A-0001024 1024 1024 64 2 16 5 24 10000000 0
  :A-0001152 1152 1152 64 3 28 5 24 10000000 0
  :A-0001216 1200 1216 64 3 26 5 24 10000000 0
  :A-0001344 1344 1344 64 3 24 5 24 10000000 0
  :A-0004480 4480 4480 64 3 7 6 6 00000000 0
  :a-0000104 104 104 8 0 39 5 120 00000100 0
  :a-0000128 128 128 8 0 32 5 120 00000100 0
  :a-0000256 208 256 64 0 16 5 52 10000100 0
  MPTCP 1952 1984 64 3 16 5 24 10000001 0
  MPTCPv6 2112 2176 64 3 15 5 24 10000001 0
  RAW 1000 1024 64 2 16 5 24 10000000 0
  RAWv6 1200 1216 64 3 26 5 24 10000000 0
  TCP 2280 2304 64 3 14 5 24 10000001 0
  TCPv6 2440 2496 64 3 13 5 24 10000001 0
  anon_vma 96 104 8 0 39 5 120 00000001 1
  bdev_cache 1560 1600 64 3 20 5 24 10000100 1
  bio-192 192 256 64 0 16 5 52 10000001 0
  bio-256 256 320 64 1 25 5 52 10000001 0
  dax_cache 776 832 64 2 19 5 52 10000100 1
  dentry 192 192 8 0 21 5 120 00000100 0
  dma-kmalloc-128 128 128 128 0 32 5 120 00000010 0
  dma-kmalloc-16 16 16 16 0 256 5 120 00000010 0
  dma-kmalloc-192 192 192 8 0 21 5 120 00000010 0
  dma-kmalloc-1k 1024 1024 1024 2 16 5 24 00000010 0
  dma-kmalloc-256 256 256 256 0 16 5 52 00000010 0
  dma-kmalloc-2k 2048 2048 2048 3 16 5 24 00000010 0
  dma-kmalloc-32 32 32 32 0 128 5 120 00000010 0
  dma-kmalloc-4k 4096 4096 4096 3 8 6 6 00000010 0
  dma-kmalloc-512 512 512 512 1 16 5 52 00000010 0
  dma-kmalloc-64 64 64 64 0 64 5 120 00000010 0
  dma-kmalloc-8 8 8 8 0 512 5 120 00000010 0
  dma-kmalloc-8k 8192 8192 8192 3 4 6 6 00000010 0
  dma-kmalloc-96 96 96 8 0 42 5 120 00000010 0
  fsverity_info 256 256 8 0 16 5 52 00000100 0
  hugetlbfs_inode_cache 656 664 8 2 24 5 52 00000000 1
  iint_cache 120 128 8 0 32 5 120 00000000 1
  inode_cache 632 640 8 2 25 5 52 00000100 1
  kmalloc-128 128 128 128 0 32 5 120 00000000 0
  kmalloc-16 16 16 16 0 256 5 120 00000000 0
  kmalloc-192 192 192 8 0 21 5 120 00000000 0
  kmalloc-1k 1024 1024 1024 2 16 5 24 00000000 0
  kmalloc-256 256 256 256 0 16 5 52 00000000 0
  kmalloc-2k 2048 2048 2048 3 16 5 24 00000000 0
  kmalloc-32 32 32 32 0 128 5 120 00000000 0
  kmalloc-4k 4096 4096 4096 3 8 6 6 00000000 0
  kmalloc-512 512 512 512 1 16 5 52 00000000 0
  kmalloc-64 64 64 64 0 64 5 120 00000000 0
  kmalloc-8 8 8 8 0 512 5 120 00000000 0
  kmalloc-8k 8192 8192 8192 3 4 6 6 00000000 0
  kmalloc-96 96 96 8 0 42 5 120 00000000 0
  kmalloc-cg-128 128 128 128 0 32 5 120 00000000 0
  kmalloc-cg-16 16 16 16 0 256 5 120 00000000 0
  kmalloc-cg-192 192 192 8 0 21 5 120 00000000 0
  kmalloc-cg-1k 1024 1024 1024 2 16 5 24 00000000 0
  kmalloc-cg-256 256 256 256 0 16 5 52 00000000 0
  kmalloc-cg-2k 2048 2048 2048 3 16 5 24 00000000 0
  kmalloc-cg-32 32 32 32 0 128 5 120 00000000 0
  kmalloc-cg-4k 4096 4096 4096 3 8 6 6 00000000 0
  kmalloc-cg-512 512 512 512 1 16 5 52 00000000 0
  kmalloc-cg-64 64 64 64 0 64 5 120 00000000 0
  kmalloc-cg-8 8 8 8 0 512 5 120 00000000 0
  kmalloc-cg-8k 8192 8192 8192 3 4 6 6 00000000 0
  kmalloc-cg-96 96 96 8 0 42 5 120 00000000 0
  kmalloc-rcl-128 128 128 128 0 32 5 120 00000100 0
  kmalloc-rcl-16 16 16 16 0 256 5 120 00000100 0
  kmalloc-rcl-192 192 192 8 0 21 5 120 00000100 0
  kmalloc-rcl-1k 1024 1024 1024 2 16 5 24 00000100 0
  kmalloc-rcl-256 256 256 256 0 16 5 52 00000100 0
  kmalloc-rcl-2k 2048 2048 2048 3 16 5 24 00000100 0
  kmalloc-rcl-32 32 32 32 0 128 5 120 00000100 0
  kmalloc-rcl-4k 4096 4096 4096 3 8 6 6 00000100 0
  kmalloc-rcl-512 512 512 512 1 16 5 52 00000100 0
  kmalloc-rcl-64 64 64 64 0 64 5 120 00000100 0
  kmalloc-rcl-8 8 8 8 0 512 5 120 00000100 0
  kmalloc-rcl-8k 8192 8192 8192 3 4 6 6 00000100 0
  kmalloc-rcl-96 96 96 8 0 42 5 120 00000100 0
  kmem_cache 224 256 64 0 16 5 52 10000000 0
  kmem_cache_node 64 64 64 0 64 5 120 10000000 0
  mm_struct 1104 1152 64 3 28 5 24 10000000 0
  mqueue_inode_cache 952 960 64 2 17 5 52 10000000 1
  names_cache 4096 4096 64 3 8 6 6 10000000 0
  proc_dir_entry 192 192 8 0 21 5 120 00000000 0
  proc_inode_cache 704 712 8 2 23 5 52 00000100 1
  radix_tree_node 576 584 8 2 28 5 52 00000100 1
  request_sock_TCP 304 312 8 1 26 5 52 00000001 0
  request_sock_TCPv6 304 312 8 1 26 5 52 00000001 0
  request_sock_subflow_v4 376 384 8 1 21 5 52 00000001 0
  request_sock_subflow_v6 376 384 8 1 21 5 52 00000001 0
  shmem_inode_cache 776 784 8 2 20 5 52 00000000 1
  sighand_cache 2080 2112 64 3 15 5 24 10000001 1
  skbuff_head_cache 232 256 64 0 16 5 52 10000000 0
  sock_inode_cache 768 832 64 2 19 5 52 10000100 1
  task_struct 6208 6208 64 3 5 6 6 00000000 0
  tw_sock_TCP 264 272 8 1 30 5 52 00000001 0
  tw_sock_TCPv6 264 272 8 1 30 5 52 00000001 0
  userfaultfd_ctx_cache 128 192 64 0 21 5 120 10000000 1
  uts_namespace 432 432 8 1 18 5 52 00000000 0
`;

/** 2 CPUs, 256 MiB, slub_debug=FZPU: every cache a debug cache (SLUB_DEBUG_ON-like). */
const ORACLE_6_1_2CPU_FZPU = `
  Acpi-Namespace 48 144 8 0 28 5 0 01111000 0
  Acpi-Operand 72 168 8 0 24 5 0 01111000 0
  Acpi-Parse 56 152 8 0 26 5 0 01111000 0
  Acpi-ParseExt 80 176 8 0 23 5 0 01111000 0
  Acpi-State 80 176 8 0 23 5 0 01111000 0
  MPTCP 1952 2112 64 3 15 5 0 11111001 0
  MPTCPv6 2112 2304 64 3 14 5 0 11111001 0
  PING 992 1152 64 2 14 5 0 11111000 0
  PINGv6 1200 1408 64 3 23 5 0 11111000 0
  RAW 1000 1152 64 2 14 5 0 11111000 0
  RAWv6 1200 1408 64 3 23 5 0 11111000 0
  TCP 2280 2432 64 3 13 5 0 11111001 0
  TCPv6 2440 2624 64 3 12 5 0 11111001 0
  UDP 1152 1344 64 2 12 5 0 11111000 0
  UDP-Lite 1152 1344 64 2 12 5 0 11111000 0
  UDPLITEv6 1344 1536 64 3 21 5 0 11111000 0
  UDPv6 1344 1536 64 3 21 5 0 11111000 0
  UNIX 1024 1216 64 2 13 5 0 11111000 0
  UNIX-STREAM 1024 1216 64 2 13 5 0 11111000 0
  aio_kiocb 176 384 64 1 21 5 0 11111000 0
  anon_vma 96 192 8 0 21 5 0 01111001 1
  anon_vma_chain 64 160 8 0 25 5 0 01111000 0
  audit_buffer 24 120 8 0 34 5 0 01111000 0
  audit_tree_mark 80 176 8 0 23 5 0 01111000 0
  bdev_cache 1560 1728 64 3 18 5 0 11111100 1
  bio-192 192 384 64 1 21 5 0 11111001 0
  bio-256 256 448 64 1 18 5 0 11111001 0
  bio_integrity_payload 160 320 64 0 12 5 0 11111000 0
  biovec-128 2048 2240 64 3 14 5 0 11111000 0
  biovec-16 256 448 64 1 18 5 0 11111000 0
  biovec-64 1024 1216 64 2 13 5 0 11111000 0
  biovec-max 4096 4288 64 3 7 6 0 11111000 0
  blkdev_ioc 88 184 8 0 22 5 0 01111000 0
  btree_node 128 320 64 0 12 5 0 11111000 0
  buffer_head 104 200 8 0 20 5 0 01111100 0
  cred_jar 176 384 64 1 21 5 0 11111000 0
  dax_cache 776 960 64 2 17 5 0 11111100 1
  dentry 192 288 8 0 14 5 0 01111100 0
  dio 640 832 64 2 19 5 0 01111000 0
  dma-kmalloc-128 128 384 128 1 21 5 0 01111010 0
  dma-kmalloc-16 16 128 16 0 32 5 0 01111010 0
  dma-kmalloc-192 192 296 8 0 13 5 0 01111010 0
  dma-kmalloc-1k 1024 3072 1024 3 10 5 0 01111010 0
  dma-kmalloc-256 256 768 256 2 21 5 0 01111010 0
  dma-kmalloc-2k 2048 6144 2048 3 5 6 0 01111010 0
  dma-kmalloc-32 32 160 32 0 25 5 0 01111010 0
  dma-kmalloc-4k 4096 12288 4096 3 2 6 0 01111010 0
  dma-kmalloc-512 512 1536 512 3 21 5 0 01111010 0
  dma-kmalloc-64 64 256 64 0 16 5 0 01111010 0
  dma-kmalloc-8 8 112 8 0 36 5 0 01111010 0
  dma-kmalloc-8k 8192 24576 8192 3 1 7 0 01111010 0
  dma-kmalloc-96 96 200 8 0 20 5 0 01111010 0
  dmaengine-unmap-128 1056 1216 64 2 13 5 0 11111000 0
  dmaengine-unmap-16 160 320 64 0 12 5 0 11111000 0
  dmaengine-unmap-2 48 256 64 0 16 5 0 11111000 0
  dmaengine-unmap-256 2080 2240 64 3 14 5 0 11111000 0
  dnotify_mark 80 176 8 0 23 5 0 01111000 0
  dnotify_struct 32 128 8 0 32 5 0 01111000 0
  dquot 208 384 64 1 21 5 0 11111100 0
  ep_head 16 112 8 0 36 5 0 01111000 0
  eventpoll_epi 120 320 64 0 12 5 0 11111000 0
  eventpoll_pwq 64 160 8 0 25 5 0 01111000 0
  fanotify_fid_event 72 168 8 0 24 5 0 01111000 0
  fanotify_path_event 64 160 8 0 25 5 0 01111000 0
  fanotify_perm_event 72 168 8 0 24 5 0 01111000 0
  fasync_cache 48 144 8 0 28 5 0 01111000 0
  fib6_nodes 72 256 64 0 16 5 0 11111000 0
  file_lock_cache 216 312 8 0 13 5 0 01111000 0
  file_lock_ctx 56 152 8 0 26 5 0 01111000 0
  files_cache 704 896 64 2 18 5 0 11111000 0
  filp 232 384 64 1 21 5 0 11111000 0
  fs_cache 56 256 64 0 16 5 0 11111000 0
  fscrypt_info 128 224 8 0 18 5 0 01111100 0
  fsnotify_mark 72 168 8 0 24 5 0 01111000 0
  fsnotify_mark_connector 32 128 8 0 32 5 0 01111000 0
  fsverity_info 256 352 8 1 23 5 0 01111100 0
  ftrace_event_field 56 152 8 0 26 5 0 01111000 0
  hugetlbfs_inode_cache 656 752 8 2 21 5 0 01111000 1
  iint_cache 120 216 8 0 18 5 0 01111000 1
  inet_peer_cache 160 320 64 0 12 5 0 11111000 0
  inode_cache 632 728 8 2 22 5 0 01111100 1
  inotify_inode_mark 80 176 8 0 23 5 0 01111000 0
  io_kiocb 216 384 64 1 21 5 0 11111000 0
  iommu_iova 40 192 64 0 21 5 0 11111000 0
  ip4-frags 200 296 8 0 13 5 0 01111000 0
  ip6-frags 184 280 8 0 14 5 0 01111000 0
  ip6_dst_cache 232 384 64 1 21 5 0 11111000 0
  ip6_mrt_cache 184 384 64 1 21 5 0 11111000 0
  ip_dst_cache 176 384 64 1 21 5 0 11111000 0
  ip_fib_alias 56 152 8 0 26 5 0 01111000 0
  ip_fib_trie 48 144 8 0 28 5 0 01111000 0
  ip_mrt_cache 160 320 64 0 12 5 0 11111000 0
  kernfs_iattrs_cache 88 184 8 0 22 5 0 01111000 0
  kernfs_node_cache 128 224 8 0 18 5 0 01111000 0
  key_jar 232 384 64 1 21 5 0 11111000 0
  khugepaged_mm_slot 112 208 8 0 19 5 0 01111000 0
  kioctx 576 768 64 2 21 5 0 11111000 0
  kmalloc-128 128 384 128 1 21 5 0 01111000 0
  kmalloc-16 16 128 16 0 32 5 0 01111000 0
  kmalloc-192 192 296 8 0 13 5 0 01111000 0
  kmalloc-1k 1024 3072 1024 3 10 5 0 01111000 0
  kmalloc-256 256 768 256 2 21 5 0 01111000 0
  kmalloc-2k 2048 6144 2048 3 5 6 0 01111000 0
  kmalloc-32 32 160 32 0 25 5 0 01111000 0
  kmalloc-4k 4096 12288 4096 3 2 6 0 01111000 0
  kmalloc-512 512 1536 512 3 21 5 0 01111000 0
  kmalloc-64 64 256 64 0 16 5 0 01111000 0
  kmalloc-8 8 112 8 0 36 5 0 01111000 0
  kmalloc-8k 8192 24576 8192 3 1 7 0 01111000 0
  kmalloc-96 96 200 8 0 20 5 0 01111000 0
  kmalloc-cg-128 128 384 128 1 21 5 0 01111000 0
  kmalloc-cg-16 16 128 16 0 32 5 0 01111000 0
  kmalloc-cg-192 192 296 8 0 13 5 0 01111000 0
  kmalloc-cg-1k 1024 3072 1024 3 10 5 0 01111000 0
  kmalloc-cg-256 256 768 256 2 21 5 0 01111000 0
  kmalloc-cg-2k 2048 6144 2048 3 5 6 0 01111000 0
  kmalloc-cg-32 32 160 32 0 25 5 0 01111000 0
  kmalloc-cg-4k 4096 12288 4096 3 2 6 0 01111000 0
  kmalloc-cg-512 512 1536 512 3 21 5 0 01111000 0
  kmalloc-cg-64 64 256 64 0 16 5 0 01111000 0
  kmalloc-cg-8 8 112 8 0 36 5 0 01111000 0
  kmalloc-cg-8k 8192 24576 8192 3 1 7 0 01111000 0
  kmalloc-cg-96 96 200 8 0 20 5 0 01111000 0
  kmalloc-rcl-128 128 384 128 1 21 5 0 01111100 0
  kmalloc-rcl-16 16 128 16 0 32 5 0 01111100 0
  kmalloc-rcl-192 192 296 8 0 13 5 0 01111100 0
  kmalloc-rcl-1k 1024 3072 1024 3 10 5 0 01111100 0
  kmalloc-rcl-256 256 768 256 2 21 5 0 01111100 0
  kmalloc-rcl-2k 2048 6144 2048 3 5 6 0 01111100 0
  kmalloc-rcl-32 32 160 32 0 25 5 0 01111100 0
  kmalloc-rcl-4k 4096 12288 4096 3 2 6 0 01111100 0
  kmalloc-rcl-512 512 1536 512 3 21 5 0 01111100 0
  kmalloc-rcl-64 64 256 64 0 16 5 0 01111100 0
  kmalloc-rcl-8 8 112 8 0 36 5 0 01111100 0
  kmalloc-rcl-8k 8192 24576 8192 3 1 7 0 01111100 0
  kmalloc-rcl-96 96 200 8 0 20 5 0 01111100 0
  kmem_cache 224 384 64 1 21 5 0 11111000 0
  kmem_cache_node 64 256 64 0 16 5 0 11111000 0
  ksm_mm_slot 48 144 8 0 28 5 0 01111000 0
  ksm_rmap_item 64 160 8 0 25 5 0 01111000 0
  ksm_stable_node 64 160 8 0 25 5 0 01111000 0
  lsm_file_cache 24 120 8 0 34 5 0 01111000 0
  lsm_inode_cache 32 128 8 0 32 5 0 01111000 0
  maple_node 256 768 256 2 21 5 0 01111000 0
  mm_struct 1104 1280 64 2 12 5 0 11111000 0
  mnt_cache 320 512 64 1 16 5 0 11111000 0
  mqueue_inode_cache 952 1152 64 2 14 5 0 11111000 1
  names_cache 4096 4288 64 3 7 6 0 11111000 0
  net_namespace 4480 4672 64 3 7 6 0 01111000 0
  nsproxy 72 168 8 0 24 5 0 01111000 0
  numa_policy 272 368 8 1 22 5 0 01111000 0
  pde_opener 40 136 8 0 30 5 0 01111000 0
  perf_event 1232 1328 8 2 12 5 0 01111000 0
  pid 112 320 64 0 12 5 0 11111000 0
  pid_namespace 136 232 8 0 17 5 0 01111000 0
  pool_workqueue 256 768 256 2 21 5 0 01111000 0
  posix_timers_cache 256 352 8 1 23 5 0 01111000 0
  proc_dir_entry 192 288 8 0 14 5 0 01111000 0
  proc_inode_cache 704 800 8 2 20 5 0 01111100 1
  radix_tree_node 576 672 8 1 12 5 0 01111100 1
  request_queue 968 1064 8 2 15 5 0 01111000 0
  request_queue_srcu 1360 1456 8 3 22 5 0 01111000 0
  request_sock_TCP 304 400 8 1 20 5 0 01111001 0
  request_sock_TCPv6 304 400 8 1 20 5 0 01111001 0
  request_sock_subflow_v4 376 472 8 1 17 5 0 01111001 0
  request_sock_subflow_v6 376 472 8 1 17 5 0 01111001 0
  seq_file 120 216 8 0 18 5 0 01111000 0
  sgpool-128 4096 4288 64 3 7 6 0 11111000 0
  sgpool-16 512 704 64 2 23 5 0 11111000 0
  sgpool-32 1024 1216 64 2 13 5 0 11111000 0
  sgpool-64 2048 2240 64 3 14 5 0 11111000 0
  sgpool-8 256 448 64 1 18 5 0 11111000 0
  shared_policy_node 48 144 8 0 28 5 0 01111000 0
  shmem_inode_cache 776 872 8 2 18 5 0 01111000 1
  sighand_cache 2080 2240 64 3 14 5 0 11111001 1
  signal_cache 1112 1280 64 2 12 5 0 11111000 0
  sigqueue 80 176 8 0 23 5 0 01111000 0
  skbuff_ext_cache 160 320 64 0 12 5 0 11111000 0
  skbuff_fclone_cache 472 640 64 1 12 5 0 11111000 0
  skbuff_head_cache 232 384 64 1 21 5 0 11111000 0
  sock_inode_cache 768 960 64 2 17 5 0 11111100 1
  task_delay_info 128 224 8 0 18 5 0 01111000 0
  task_group 640 832 64 2 19 5 0 01111000 0
  task_struct 6208 6400 64 3 5 6 0 01111000 0
  taskstats 416 512 8 1 16 5 0 01111000 0
  tcp_bind2_bucket 64 256 64 0 16 5 0 11111000 0
  tcp_bind_bucket 72 256 64 0 16 5 0 11111000 0
  trace_event_file 96 192 8 0 21 5 0 01111000 0
  tw_sock_TCP 264 360 8 1 22 5 0 01111001 0
  tw_sock_TCPv6 264 360 8 1 22 5 0 01111001 0
  uid_cache 144 320 64 0 12 5 0 11111000 0
  user_namespace 624 720 8 2 22 5 0 01111000 0
  userfaultfd_ctx_cache 128 320 64 0 12 5 0 11111000 1
  uts_namespace 432 528 8 1 15 5 0 01111000 0
  vm_area_struct 152 248 8 0 16 5 0 01111000 0
  vmap_area 64 160 8 0 25 5 0 01111000 0
  xfrm_dst_cache 304 512 64 1 16 5 0 11111000 0
  xfrm_state 736 896 64 2 18 5 0 11111000 0
  zswap_entry 64 160 8 0 25 5 0 01111000 0
`;

/** 2 CPUs, 256 MiB, slub_debug=FZPUO: Z, P and U dropped where they would raise the minimum order. */
const ORACLE_6_1_2CPU_FZPUO = `
  Acpi-Namespace 48 144 8 0 28 5 0 01111000 0
  Acpi-Operand 72 168 8 0 24 5 0 01111000 0
  Acpi-Parse 56 152 8 0 26 5 0 01111000 0
  Acpi-ParseExt 80 176 8 0 23 5 0 01111000 0
  Acpi-State 80 176 8 0 23 5 0 01111000 0
  MPTCP 1952 2112 64 3 15 5 0 11111001 0
  MPTCPv6 2112 2304 64 3 14 5 0 11111001 0
  PING 992 1152 64 2 14 5 0 11111000 0
  PINGv6 1200 1408 64 3 23 5 0 11111000 0
  RAW 1000 1152 64 2 14 5 0 11111000 0
  RAWv6 1200 1408 64 3 23 5 0 11111000 0
  TCP 2280 2432 64 3 13 5 0 11111001 0
  TCPv6 2440 2624 64 3 12 5 0 11111001 0
  UDP 1152 1344 64 2 12 5 0 11111000 0
  UDP-Lite 1152 1344 64 2 12 5 0 11111000 0
  UDPLITEv6 1344 1536 64 3 21 5 0 11111000 0
  UDPv6 1344 1536 64 3 21 5 0 11111000 0
  UNIX 1024 1216 64 2 13 5 0 11111000 0
  UNIX-STREAM 1024 1216 64 2 13 5 0 11111000 0
  aio_kiocb 176 384 64 1 21 5 0 11111000 0
  anon_vma 96 192 8 0 21 5 0 01111001 1
  anon_vma_chain 64 160 8 0 25 5 0 01111000 0
  audit_buffer 24 120 8 0 34 5 0 01111000 0
  audit_tree_mark 80 176 8 0 23 5 0 01111000 0
  bdev_cache 1560 1728 64 3 18 5 0 11111100 1
  bio-192 192 384 64 1 21 5 0 11111001 0
  bio-256 256 448 64 1 18 5 0 11111001 0
  bio_integrity_payload 160 320 64 0 12 5 0 11111000 0
  biovec-128 2048 2240 64 3 14 5 0 11111000 0
  biovec-16 256 448 64 1 18 5 0 11111000 0
  biovec-64 1024 1216 64 2 13 5 0 11111000 0
  biovec-max 4096 4096 64 3 8 6 0 10001000 0
  blkdev_ioc 88 184 8 0 22 5 0 01111000 0
  btree_node 128 320 64 0 12 5 0 11111000 0
  buffer_head 104 200 8 0 20 5 0 01111100 0
  cred_jar 176 384 64 1 21 5 0 11111000 0
  dax_cache 776 960 64 2 17 5 0 11111100 1
  dentry 192 288 8 0 14 5 0 01111100 0
  dio 640 832 64 2 19 5 0 01111000 0
  dma-kmalloc-128 128 384 128 1 21 5 0 01111010 0
  dma-kmalloc-16 16 128 16 0 32 5 0 01111010 0
  dma-kmalloc-192 192 296 8 0 13 5 0 01111010 0
  dma-kmalloc-1k 1024 3072 1024 3 10 5 0 01111010 0
  dma-kmalloc-256 256 768 256 2 21 5 0 01111010 0
  dma-kmalloc-2k 2048 2048 2048 3 16 5 0 00001010 0
  dma-kmalloc-32 32 160 32 0 25 5 0 01111010 0
  dma-kmalloc-4k 4096 4096 4096 3 8 6 0 00001010 0
  dma-kmalloc-512 512 1536 512 3 21 5 0 01111010 0
  dma-kmalloc-64 64 256 64 0 16 5 0 01111010 0
  dma-kmalloc-8 8 112 8 0 36 5 0 01111010 0
  dma-kmalloc-8k 8192 8192 8192 3 4 6 0 00001010 0
  dma-kmalloc-96 96 200 8 0 20 5 0 01111010 0
  dmaengine-unmap-128 1056 1216 64 2 13 5 0 11111000 0
  dmaengine-unmap-16 160 320 64 0 12 5 0 11111000 0
  dmaengine-unmap-2 48 256 64 0 16 5 0 11111000 0
  dmaengine-unmap-256 2080 2240 64 3 14 5 0 11111000 0
  dnotify_mark 80 176 8 0 23 5 0 01111000 0
  dnotify_struct 32 128 8 0 32 5 0 01111000 0
  dquot 208 384 64 1 21 5 0 11111100 0
  ep_head 16 112 8 0 36 5 0 01111000 0
  eventpoll_epi 120 320 64 0 12 5 0 11111000 0
  eventpoll_pwq 64 160 8 0 25 5 0 01111000 0
  fanotify_fid_event 72 168 8 0 24 5 0 01111000 0
  fanotify_path_event 64 160 8 0 25 5 0 01111000 0
  fanotify_perm_event 72 168 8 0 24 5 0 01111000 0
  fasync_cache 48 144 8 0 28 5 0 01111000 0
  fib6_nodes 72 256 64 0 16 5 0 11111000 0
  file_lock_cache 216 312 8 0 13 5 0 01111000 0
  file_lock_ctx 56 152 8 0 26 5 0 01111000 0
  files_cache 704 896 64 2 18 5 0 11111000 0
  filp 232 384 64 1 21 5 0 11111000 0
  fs_cache 56 256 64 0 16 5 0 11111000 0
  fscrypt_info 128 224 8 0 18 5 0 01111100 0
  fsnotify_mark 72 168 8 0 24 5 0 01111000 0
  fsnotify_mark_connector 32 128 8 0 32 5 0 01111000 0
  fsverity_info 256 352 8 1 23 5 0 01111100 0
  ftrace_event_field 56 152 8 0 26 5 0 01111000 0
  hugetlbfs_inode_cache 656 752 8 2 21 5 0 01111000 1
  iint_cache 120 216 8 0 18 5 0 01111000 1
  inet_peer_cache 160 320 64 0 12 5 0 11111000 0
  inode_cache 632 728 8 2 22 5 0 01111100 1
  inotify_inode_mark 80 176 8 0 23 5 0 01111000 0
  io_kiocb 216 384 64 1 21 5 0 11111000 0
  iommu_iova 40 192 64 0 21 5 0 11111000 0
  ip4-frags 200 296 8 0 13 5 0 01111000 0
  ip6-frags 184 280 8 0 14 5 0 01111000 0
  ip6_dst_cache 232 384 64 1 21 5 0 11111000 0
  ip6_mrt_cache 184 384 64 1 21 5 0 11111000 0
  ip_dst_cache 176 384 64 1 21 5 0 11111000 0
  ip_fib_alias 56 152 8 0 26 5 0 01111000 0
  ip_fib_trie 48 144 8 0 28 5 0 01111000 0
  ip_mrt_cache 160 320 64 0 12 5 0 11111000 0
  kernfs_iattrs_cache 88 184 8 0 22 5 0 01111000 0
  kernfs_node_cache 128 224 8 0 18 5 0 01111000 0
  key_jar 232 384 64 1 21 5 0 11111000 0
  khugepaged_mm_slot 112 208 8 0 19 5 0 01111000 0
  kioctx 576 768 64 2 21 5 0 11111000 0
  kmalloc-128 128 384 128 1 21 5 0 01111000 0
  kmalloc-16 16 128 16 0 32 5 0 01111000 0
  kmalloc-192 192 296 8 0 13 5 0 01111000 0
  kmalloc-1k 1024 3072 1024 3 10 5 0 01111000 0
  kmalloc-256 256 768 256 2 21 5 0 01111000 0
  kmalloc-2k 2048 2048 2048 3 16 5 0 00001000 0
  kmalloc-32 32 160 32 0 25 5 0 01111000 0
  kmalloc-4k 4096 4096 4096 3 8 6 0 00001000 0
  kmalloc-512 512 1536 512 3 21 5 0 01111000 0
  kmalloc-64 64 256 64 0 16 5 0 01111000 0
  kmalloc-8 8 112 8 0 36 5 0 01111000 0
  kmalloc-8k 8192 8192 8192 3 4 6 0 00001000 0
  kmalloc-96 96 200 8 0 20 5 0 01111000 0
  kmalloc-cg-128 128 384 128 1 21 5 0 01111000 0
  kmalloc-cg-16 16 128 16 0 32 5 0 01111000 0
  kmalloc-cg-192 192 296 8 0 13 5 0 01111000 0
  kmalloc-cg-1k 1024 3072 1024 3 10 5 0 01111000 0
  kmalloc-cg-256 256 768 256 2 21 5 0 01111000 0
  kmalloc-cg-2k 2048 2048 2048 3 16 5 0 00001000 0
  kmalloc-cg-32 32 160 32 0 25 5 0 01111000 0
  kmalloc-cg-4k 4096 4096 4096 3 8 6 0 00001000 0
  kmalloc-cg-512 512 1536 512 3 21 5 0 01111000 0
  kmalloc-cg-64 64 256 64 0 16 5 0 01111000 0
  kmalloc-cg-8 8 112 8 0 36 5 0 01111000 0
  kmalloc-cg-8k 8192 8192 8192 3 4 6 0 00001000 0
  kmalloc-cg-96 96 200 8 0 20 5 0 01111000 0
  kmalloc-rcl-128 128 384 128 1 21 5 0 01111100 0
  kmalloc-rcl-16 16 128 16 0 32 5 0 01111100 0
  kmalloc-rcl-192 192 296 8 0 13 5 0 01111100 0
  kmalloc-rcl-1k 1024 3072 1024 3 10 5 0 01111100 0
  kmalloc-rcl-256 256 768 256 2 21 5 0 01111100 0
  kmalloc-rcl-2k 2048 2048 2048 3 16 5 0 00001100 0
  kmalloc-rcl-32 32 160 32 0 25 5 0 01111100 0
  kmalloc-rcl-4k 4096 4096 4096 3 8 6 0 00001100 0
  kmalloc-rcl-512 512 1536 512 3 21 5 0 01111100 0
  kmalloc-rcl-64 64 256 64 0 16 5 0 01111100 0
  kmalloc-rcl-8 8 112 8 0 36 5 0 01111100 0
  kmalloc-rcl-8k 8192 8192 8192 3 4 6 0 00001100 0
  kmalloc-rcl-96 96 200 8 0 20 5 0 01111100 0
  kmem_cache 224 384 64 1 21 5 0 11111000 0
  kmem_cache_node 64 256 64 0 16 5 0 11111000 0
  ksm_mm_slot 48 144 8 0 28 5 0 01111000 0
  ksm_rmap_item 64 160 8 0 25 5 0 01111000 0
  ksm_stable_node 64 160 8 0 25 5 0 01111000 0
  lsm_file_cache 24 120 8 0 34 5 0 01111000 0
  lsm_inode_cache 32 128 8 0 32 5 0 01111000 0
  maple_node 256 768 256 2 21 5 0 01111000 0
  mm_struct 1104 1280 64 2 12 5 0 11111000 0
  mnt_cache 320 512 64 1 16 5 0 11111000 0
  mqueue_inode_cache 952 1152 64 2 14 5 0 11111000 1
  names_cache 4096 4096 64 3 8 6 0 10001000 0
  net_namespace 4480 4672 64 3 7 6 0 01111000 0
  nsproxy 72 168 8 0 24 5 0 01111000 0
  numa_policy 272 368 8 1 22 5 0 01111000 0
  pde_opener 40 136 8 0 30 5 0 01111000 0
  perf_event 1232 1328 8 2 12 5 0 01111000 0
  pid 112 320 64 0 12 5 0 11111000 0
  pid_namespace 136 232 8 0 17 5 0 01111000 0
  pool_workqueue 256 768 256 2 21 5 0 01111000 0
  posix_timers_cache 256 352 8 1 23 5 0 01111000 0
  proc_dir_entry 192 288 8 0 14 5 0 01111000 0
  proc_inode_cache 704 800 8 2 20 5 0 01111100 1
  radix_tree_node 576 672 8 1 12 5 0 01111100 1
  request_queue 968 1064 8 2 15 5 0 01111000 0
  request_queue_srcu 1360 1456 8 3 22 5 0 01111000 0
  request_sock_TCP 304 400 8 1 20 5 0 01111001 0
  request_sock_TCPv6 304 400 8 1 20 5 0 01111001 0
  request_sock_subflow_v4 376 472 8 1 17 5 0 01111001 0
  request_sock_subflow_v6 376 472 8 1 17 5 0 01111001 0
  seq_file 120 216 8 0 18 5 0 01111000 0
  sgpool-128 4096 4096 64 3 8 6 0 10001000 0
  sgpool-16 512 704 64 2 23 5 0 11111000 0
  sgpool-32 1024 1216 64 2 13 5 0 11111000 0
  sgpool-64 2048 2240 64 3 14 5 0 11111000 0
  sgpool-8 256 448 64 1 18 5 0 11111000 0
  shared_policy_node 48 144 8 0 28 5 0 01111000 0
  shmem_inode_cache 776 872 8 2 18 5 0 01111000 1
  sighand_cache 2080 2240 64 3 14 5 0 11111001 1
  signal_cache 1112 1280 64 2 12 5 0 11111000 0
  sigqueue 80 176 8 0 23 5 0 01111000 0
  skbuff_ext_cache 160 320 64 0 12 5 0 11111000 0
  skbuff_fclone_cache 472 640 64 1 12 5 0 11111000 0
  skbuff_head_cache 232 384 64 1 21 5 0 11111000 0
  sock_inode_cache 768 960 64 2 17 5 0 11111100 1
  task_delay_info 128 224 8 0 18 5 0 01111000 0
  task_group 640 832 64 2 19 5 0 01111000 0
  task_struct 6208 6400 64 3 5 6 0 01111000 0
  taskstats 416 512 8 1 16 5 0 01111000 0
  tcp_bind2_bucket 64 256 64 0 16 5 0 11111000 0
  tcp_bind_bucket 72 256 64 0 16 5 0 11111000 0
  trace_event_file 96 192 8 0 21 5 0 01111000 0
  tw_sock_TCP 264 360 8 1 22 5 0 01111001 0
  tw_sock_TCPv6 264 360 8 1 22 5 0 01111001 0
  uid_cache 144 320 64 0 12 5 0 11111000 0
  user_namespace 624 720 8 2 22 5 0 01111000 0
  userfaultfd_ctx_cache 128 320 64 0 12 5 0 11111000 1
  uts_namespace 432 528 8 1 15 5 0 01111000 0
  vm_area_struct 152 248 8 0 16 5 0 01111000 0
  vmap_area 64 160 8 0 25 5 0 01111000 0
  xfrm_dst_cache 304 512 64 1 16 5 0 11111000 0
  xfrm_state 736 896 64 2 18 5 0 11111000 0
  zswap_entry 64 160 8 0 25 5 0 01111000 0
`;

/** One /sys/kernel/slab row of an oracle fixture. */
interface OracleRow {
  name: string;
  objectSize: number;
  slabSize: number;
  align: number;
  order: number;
  objects: number;
  minPartial: number;
  cpuPartial: number;
  flags: number;
  hasCtor: boolean;
}

/** Parses an oracle fixture; the flag word is hwcache red_zone poison store_user sanity reclaim dma rcu. */
function parseOracle(text: string): OracleRow[] {
  const bits = [
    SLAB_HWCACHE_ALIGN,
    SLAB_RED_ZONE,
    SLAB_POISON,
    SLAB_STORE_USER,
    SLAB_CONSISTENCY_CHECKS,
    SLAB_RECLAIM_ACCOUNT,
    SLAB_CACHE_DMA,
    SLAB_TYPESAFE_BY_RCU,
  ];
  return text
    .trim()
    .split('\n')
    .map((line) => {
      const [name, objectSize, slabSize, align, order, objects, minPartial, cpuPartial, word, ctor] = line.trim().split(/\s+/) as [
        string,
        string,
        string,
        string,
        string,
        string,
        string,
        string,
        string,
        string,
      ];
      let flags = 0;
      bits.forEach((bit, i) => {
        if (word[i] === '1') flags |= bit;
      });
      return {
        name,
        objectSize: Number(objectSize),
        slabSize: Number(slabSize),
        align: Number(align),
        order: Number(order),
        objects: Number(objects),
        minPartial: Number(minPartial),
        cpuPartial: Number(cpuPartial),
        flags,
        hasCtor: ctor === '1',
      };
    });
}

const isKmallocName = (name: string) => /^(dma-)?kmalloc-/.test(name);

/**
 * Recomputes one oracle row with kmem. The sysfs align is s->align after
 * calculate_alignment(); fed back as the requested alignment it reproduces
 * itself. kmalloc and boot caches compute their own (create_boot_cache()).
 */
function recompute(row: OracleRow, cpus: number, extra: Partial<Parameters<typeof computeCacheGeometry>[0]> = {}) {
  const isKmalloc = isKmallocName(row.name);
  return computeCacheGeometry({
    objectSize: row.objectSize,
    align: isKmalloc ? 0 : row.align,
    flags: row.flags,
    hasCtor: row.hasCtor,
    cpus,
    isKmalloc,
    isBootCache: row.name === 'kmem_cache' || row.name === 'kmem_cache_node',
    version: V6_1,
    ...extra,
  });
}

/** The sysfs view of a geometry, in the fixture's column order. */
const sysfs = (g: ReturnType<typeof computeCacheGeometry>) => [
  g.size,
  g.align,
  g.order,
  g.objects,
  g.minPartial,
  g.cpuPartial,
  g.flags & (SLAB_RED_ZONE | SLAB_POISON | SLAB_STORE_USER | SLAB_CONSISTENCY_CHECKS),
];
const expected = (r: OracleRow) => [
  r.slabSize,
  r.align,
  r.order,
  r.objects,
  r.minPartial,
  r.cpuPartial,
  r.flags & (SLAB_RED_ZONE | SLAB_POISON | SLAB_STORE_USER | SLAB_CONSISTENCY_CHECKS),
];

describe('the 6.1 oracle, 2 CPUs: every cache of a real machine', () => {
  const rows = parseOracle(ORACLE_6_1_2CPU);

  it('has all 145 caches, among them the 52 kmalloc caches', () => {
    expect(rows).toHaveLength(145);
    expect(rows.filter((r) => isKmallocName(r.name))).toHaveLength(52);
  });

  for (const row of rows) {
    it(`${row.name}: ${row.objectSize} -> ${row.slabSize}, align ${row.align}, ${row.objects} per order-${row.order} slab`, () => {
      expect(sysfs(recompute(row, 2))).toEqual(expected(row));
      if (isKmallocName(row.name)) {
        // The same machine on 6.18: only kmalloc-96 and -192 change, their align (32 and 64).
        const now = kmalloc(row.objectSize, 2, { flags: row.flags });
        const newAlign = row.objectSize === 96 ? 32 : row.objectSize === 192 ? 64 : row.align;
        expect([now.size, now.align, now.order, now.objects]).toEqual([row.slabSize, newAlign, row.order, row.objects]);
      }
    });
  }
});

describe('the 6.1 oracle, 4 CPUs', () => {
  const rows = parseOracle(ORACLE_6_1_4CPU);
  it('has 145 caches', () => expect(rows).toHaveLength(145));
  for (const row of rows) {
    it(`${row.name}: ${row.slabSize}, ${row.objects} per order-${row.order} slab`, () => {
      expect(sysfs(recompute(row, 4))).toEqual(expected(row));
    });
  }
  it('signal_cache-sized :0001088 takes 30 per order-3 slab, as on realdata/slabinfo-2.txt', () => {
    const row = rows.find((r) => r.name === ':0001088')!;
    expect([row.slabSize, row.objects, row.order]).toEqual([1088, 30, 3]);
  });
});

describe('the 6.1 oracle, 2 CPUs, slub_debug=FZPU', () => {
  const rows = parseOracle(ORACLE_6_1_2CPU_FZPU);
  it('has 199 caches, all with F, Z, P and U (slub_debug also unmerges them)', () => {
    expect(rows).toHaveLength(199);
    for (const r of rows) expect(r.flags & FZPU, r.name).toBe(FZPU);
  });
  for (const row of rows) {
    it(`${row.name}: ${row.objectSize} -> ${row.slabSize}, ${row.objects} per order-${row.order} slab`, () => {
      expect(sysfs(recompute(row, 2))).toEqual(expected(row));
    });
  }
  it('kmalloc-32: 160-byte slots, 25 per order-0 slab (32-byte struct track, u32 orig_size)', () => {
    const row = rows.find((r) => r.name === 'kmalloc-32')!;
    expect([row.slabSize, row.objects, row.order]).toEqual([160, 25, 0]);
  });
});

describe('the 6.1 oracle, 2 CPUs, slub_debug=FZPUO', () => {
  const rows = parseOracle(ORACLE_6_1_2CPU_FZPUO);
  it('keeps F everywhere but drops Z, P, U where they would raise the minimum order', () => {
    expect(rows).toHaveLength(199);
    const k4 = rows.find((r) => r.name === 'kmalloc-4k')!;
    expect([k4.slabSize, k4.objects, k4.order, k4.flags & FZPU]).toEqual([4096, 8, 3, SLAB_CONSISTENCY_CHECKS]);
    const k32 = rows.find((r) => r.name === 'kmalloc-32')!;
    expect([k32.slabSize, k32.flags & FZPU]).toEqual([160, FZPU]);
  });
  for (const row of rows) {
    it(`${row.name}: ${row.slabSize}, ${row.objects} per order-${row.order} slab`, () => {
      // slub_debug=FZPUO asked for FZPU on every cache; kmem must decide which keep it.
      const g = recompute({ ...row, flags: row.flags | FZPU }, 2, { disableHigherOrderDebug: true });
      expect(sysfs(g)).toEqual(expected(row));
    });
  }
});

describe('kmalloc_info, size_index, kmalloc_index, kmalloc_size_roundup', () => {
  it('constants for x86-64 with 4 KiB pages', () => {
    expect([KMALLOC_SHIFT_LOW, KMALLOC_SHIFT_HIGH, KMALLOC_SHIFT_MAX]).toEqual([3, 13, 22]);
    expect([KMALLOC_MIN_SIZE, KMALLOC_MAX_CACHE_SIZE, KMALLOC_MAX_SIZE, KMALLOC_MAX_ORDER]).toEqual([8, 8192, 4 * 1024 * 1024, 10]);
    expect(ZERO_SIZE_PTR).toBe(16);
  });

  it('kmalloc_info[] rows and names', () => {
    expect(kmalloc_info).toHaveLength(22);
    expect(kmalloc_info.slice(0, 14).map((r) => [r.size, r.name])).toEqual([
      [0, 'kmalloc-0'],
      [96, 'kmalloc-96'],
      [192, 'kmalloc-192'],
      [8, 'kmalloc-8'],
      [16, 'kmalloc-16'],
      [32, 'kmalloc-32'],
      [64, 'kmalloc-64'],
      [128, 'kmalloc-128'],
      [256, 'kmalloc-256'],
      [512, 'kmalloc-512'],
      [1024, 'kmalloc-1k'],
      [2048, 'kmalloc-2k'],
      [4096, 'kmalloc-4k'],
      [8192, 'kmalloc-8k'],
    ]);
    expect(kmalloc_info[14]!.name).toBe('kmalloc-16k');
    expect(kmalloc_info[20]!.name).toBe('kmalloc-1M');
    expect(kmalloc_info[21]!).toMatchObject({ size: 2 * 1024 * 1024, name: 'kmalloc-2M' });
  });

  it('kmalloc_size_index[] is the kernel table', () => {
    expect(kmallocSizeIndex).toEqual([3, 4, 5, 5, 6, 6, 6, 6, 1, 1, 1, 1, 7, 7, 7, 7, 2, 2, 2, 2, 2, 2, 2, 2]);
    expect(sizeIndexElem(1)).toBe(0);
    expect(sizeIndexElem(8)).toBe(0);
    expect(sizeIndexElem(9)).toBe(1);
    expect(sizeIndexElem(192)).toBe(23);
  });

  it('maps every request 1..192 to its cache', () => {
    for (let size = 1; size <= 192; size++) {
      // 1-8 -> 8, 9-16 -> 16, 17-32 -> 32, 33-64 -> 64, 65-96 -> 96, 97-128 -> 128, 129-192 -> 192
      const want = size <= 8 ? 8 : size <= 16 ? 16 : size <= 32 ? 32 : size <= 64 ? 64 : size <= 96 ? 96 : size <= 128 ? 128 : 192;
      expect(kmalloc_info[kmallocSlabIndex(size)]!.size, `size ${size}`).toBe(want);
      expect(kmallocSizeRoundup(size), `roundup ${size}`).toBe(want);
      expect(kmalloc_info[kmallocIndex(size)]!.size, `kmalloc_index ${size}`).toBe(want);
    }
  });

  it('maps 193..8192 to the next power of two with fls(size - 1)', () => {
    for (let size = 193; size <= 8192; size++) {
      const want = 2 ** Math.ceil(Math.log2(size));
      expect(kmalloc_info[kmallocSlabIndex(size)]!.size).toBe(want);
      expect(kmallocIndex(size)).toBe(kmallocSlabIndex(size));
    }
    expect(kmallocSlabIndex(193)).toBe(8);
    expect(kmallocSlabIndex(1025)).toBe(11);
    expect(kmallocSlabIndex(8192)).toBe(13);
  });

  it('__kmalloc_index() goes up to 2 MiB', () => {
    expect(kmallocIndex(0)).toBe(0);
    expect(kmallocIndex(8193)).toBe(14);
    expect(kmallocIndex(2 * 1024 * 1024)).toBe(21);
    expect(() => kmallocIndex(2 * 1024 * 1024 + 1)).toThrow(RangeError);
  });

  it('kmalloc_size_roundup(): cache size, then whole pages, then unchanged', () => {
    expect(kmallocSizeRoundup(0)).toBe(0);
    expect(kmallocSizeRoundup(126)).toBe(128); // the kernel-doc example
    expect(kmallocSizeRoundup(200)).toBe(256);
    expect(kmallocSizeRoundup(8192)).toBe(8192);
    expect(kmallocSizeRoundup(8193)).toBe(12288 + 4096); // PAGE_SIZE << get_order(8193) = 16384
    expect(kmallocSizeRoundup(20000)).toBe(32768);
    expect(kmallocSizeRoundup(4 * 1024 * 1024)).toBe(4 * 1024 * 1024);
    expect(kmallocSizeRoundup(4 * 1024 * 1024 + 1)).toBe(4 * 1024 * 1024 + 1);
  });

  it('rejects bad sizes', () => {
    expect(() => kmallocSlabIndex(0)).toThrow(/ZERO_SIZE_PTR/);
    expect(() => kmallocSlabIndex(8193)).toThrow(RangeError);
    expect(() => kmallocSizeRoundup(-1)).toThrow(RangeError);
    expect(() => kmallocSizeRoundup(1.5)).toThrow(/size/);
    expect(() => kmallocIndex(Number.NaN)).toThrow(RangeError);
    expect(() => sizeIndexElem(193)).toThrow(/bytes/);
  });
});

describe('kmalloc cache types and creation order', () => {
  it('a distro 6.18 (ZONE_DMA, MEMCG) has NORMAL 0, RECLAIM 1, DMA 2, CGROUP 3', () => {
    expect([KMALLOC_NORMAL, KMALLOC_RECLAIM, KMALLOC_DMA, KMALLOC_CGROUP, NR_KMALLOC_TYPES]).toEqual([0, 1, 2, 3, 4]);
    const types = kmallocTypes();
    expect(types.map((t) => [t.type, t.typeName, t.prefix])).toEqual([
      [0, 'KMALLOC_NORMAL', 'kmalloc-'],
      [1, 'KMALLOC_RECLAIM', 'kmalloc-rcl-'],
      [2, 'KMALLOC_DMA', 'dma-kmalloc-'],
      [3, 'KMALLOC_CGROUP', 'kmalloc-cg-'],
    ]);
    // new_kmalloc_cache(): NORMAL is SLAB_NO_MERGE under memcg; create_kmalloc_cache() adds SLAB_KMALLOC.
    expect(types.map((t) => t.flags)).toEqual([
      SLAB_KMALLOC | SLAB_NO_MERGE,
      SLAB_KMALLOC | SLAB_RECLAIM_ACCOUNT,
      SLAB_KMALLOC | SLAB_CACHE_DMA,
      SLAB_KMALLOC | SLAB_ACCOUNT,
    ]);
    expect(kmallocTypes({ memcg: false })[0]!.flags).toBe(SLAB_KMALLOC);
  });

  it('6.10+ creates 96 and 192 first in each type, then 8 .. 8k', () => {
    const order = kmallocCreationOrder();
    expect(order).toHaveLength(52);
    expect(order.slice(0, 15).map((c) => c.name)).toEqual([
      'kmalloc-96',
      'kmalloc-192',
      'kmalloc-8',
      'kmalloc-16',
      'kmalloc-32',
      'kmalloc-64',
      'kmalloc-128',
      'kmalloc-256',
      'kmalloc-512',
      'kmalloc-1k',
      'kmalloc-2k',
      'kmalloc-4k',
      'kmalloc-8k',
      'kmalloc-rcl-96',
      'kmalloc-rcl-192',
    ]);
    expect(order.at(-1)).toMatchObject({ name: 'kmalloc-cg-8k', size: 8192, index: 13, type: KMALLOC_CGROUP });
    expect(order[13]).toMatchObject({ typeName: 'KMALLOC_RECLAIM', flags: SLAB_KMALLOC | SLAB_RECLAIM_ACCOUNT });
  });

  it('6.1: /proc/slabinfo of the oracle lists the kmalloc caches in reverse creation order', () => {
    const slabinfo6_1 =
      'dma-kmalloc-8k dma-kmalloc-4k dma-kmalloc-2k dma-kmalloc-1k dma-kmalloc-512 dma-kmalloc-256 dma-kmalloc-192 dma-kmalloc-128 dma-kmalloc-96 dma-kmalloc-64 dma-kmalloc-32 dma-kmalloc-16 dma-kmalloc-8 kmalloc-rcl-8k kmalloc-rcl-4k kmalloc-rcl-2k kmalloc-rcl-1k kmalloc-rcl-512 kmalloc-rcl-256 kmalloc-rcl-192 kmalloc-rcl-128 kmalloc-rcl-96 kmalloc-rcl-64 kmalloc-rcl-32 kmalloc-rcl-16 kmalloc-rcl-8 kmalloc-cg-8k kmalloc-cg-4k kmalloc-cg-2k kmalloc-cg-1k kmalloc-cg-512 kmalloc-cg-256 kmalloc-cg-192 kmalloc-cg-128 kmalloc-cg-96 kmalloc-cg-64 kmalloc-cg-32 kmalloc-cg-16 kmalloc-cg-8 kmalloc-8k kmalloc-4k kmalloc-2k kmalloc-1k kmalloc-512 kmalloc-256 kmalloc-192 kmalloc-128 kmalloc-96 kmalloc-64 kmalloc-32 kmalloc-16 kmalloc-8';
    const created = kmallocCreationOrder({ version: V6_1 }).map((c) => c.name);
    expect(created.reverse().join(' ')).toBe(slabinfo6_1);
  });

  it('6.6 without kmalloc-cg (realdata/slabinfo-2.txt, ChromeOS) in reverse creation order', () => {
    const slabinfo6_6 =
      'dma-kmalloc-8k dma-kmalloc-4k dma-kmalloc-2k dma-kmalloc-1k dma-kmalloc-512 dma-kmalloc-256 dma-kmalloc-192 dma-kmalloc-128 dma-kmalloc-96 dma-kmalloc-64 dma-kmalloc-32 dma-kmalloc-16 dma-kmalloc-8 kmalloc-rcl-8k kmalloc-rcl-4k kmalloc-rcl-2k kmalloc-rcl-1k kmalloc-rcl-512 kmalloc-rcl-256 kmalloc-rcl-192 kmalloc-rcl-128 kmalloc-rcl-96 kmalloc-rcl-64 kmalloc-rcl-32 kmalloc-rcl-16 kmalloc-rcl-8 kmalloc-8k kmalloc-4k kmalloc-2k kmalloc-1k kmalloc-512 kmalloc-256 kmalloc-192 kmalloc-128 kmalloc-96 kmalloc-64 kmalloc-32 kmalloc-16 kmalloc-8';
    const created = kmallocCreationOrder({ version: V6_6, memcg: false }).map((c) => c.name);
    expect(created.reverse().join(' ')).toBe(slabinfo6_6);
  });

  it('random kmalloc caches come between NORMAL and RECLAIM', () => {
    const types = kmallocTypes({ randomKmallocCaches: true });
    expect(types).toHaveLength(19);
    expect(types[1]).toMatchObject({ type: 1, typeName: 'KMALLOC_RANDOM', prefix: 'kmalloc-rnd-01-', randomCopy: 1 });
    expect(types[15]!.prefix).toBe('kmalloc-rnd-15-');
    expect(types[16]!.typeName).toBe('KMALLOC_RECLAIM');
    expect(types[1]!.flags & SLAB_NO_MERGE).toBe(SLAB_NO_MERGE);
    expect(kmallocCreationOrder({ randomKmallocCaches: true })[13]!.name).toBe('kmalloc-rnd-01-96');
    expect(() => kmallocTypes({ randomKmallocCaches: true, version: V6_1 })).toThrow(RangeError);
    expect(() => kmallocTypes({ memcg: 'yes' as unknown as boolean })).toThrow(TypeError);
  });
});

describe('bootstrap caches kmem_cache and kmem_cache_node', () => {
  it('6.6 on 4 CPUs (realdata/slabinfo-2.txt): kmem_cache 256 16 1, kmem_cache_node 64 64 1', () => {
    const { kmemCache, kmemCacheNode } = bootCacheGeometry({ cpus: 4, version: V6_6 });
    expect([kmemCacheNode.objectSize, kmemCacheNode.size, kmemCacheNode.objects, 1 << kmemCacheNode.order]).toEqual([64, 64, 64, 1]);
    expect([kmemCache.size, kmemCache.objects, 1 << kmemCache.order]).toEqual([256, 16, 1]);
    // Any object size from 193 to 256 gives that row.
    for (const objectSize of [193, 224, 256]) {
      expect(bootCacheGeometry({ cpus: 4, version: V6_6, kmemCacheObjectSize: objectSize }).kmemCache.size).toBe(256);
    }
  });

  it('6.1 on 2 CPUs (oracle): kmem_cache object 224 (216 + 1 node pointer), slot 256', () => {
    expect(kmemCacheObjectSize(1, V6_1)).toBe(224);
    const { kmemCache, kmemCacheNode } = bootCacheGeometry({ cpus: 2, version: V6_1 });
    expect([kmemCache.objectSize, kmemCache.size, kmemCache.align, kmemCache.objects, kmemCache.cpuPartial]).toEqual([224, 256, 64, 16, 52]);
    expect([kmemCacheNode.size, kmemCacheNode.align, kmemCacheNode.objects, kmemCacheNode.cpuPartial]).toEqual([64, 64, 64, 120]);
  });

  it('6.18: struct kmem_cache_node grows a barn pointer (72 bytes) and takes a 128-byte slot', () => {
    expect(kmemCacheNodeObjectSize(V6_6)).toBe(64);
    expect(kmemCacheNodeObjectSize()).toBe(72);
    const { kmemCache, kmemCacheNode } = bootCacheGeometry({ cpus: 2 });
    expect([kmemCacheNode.size, kmemCacheNode.objects, kmemCacheNode.order]).toEqual([128, 32, 0]);
    expect([kmemCache.objectSize, kmemCache.size]).toEqual([232, 256]);
    expect(kmemCache.flags & SLAB_NO_OBJ_EXT).toBe(SLAB_NO_OBJ_EXT);
  });

  it('eight CPUs push kmem_cache to order 1 (20 * 256 = 5120 bytes)', () => {
    const { kmemCache } = bootCacheGeometry({ cpus: 8 });
    expect([kmemCache.objects, kmemCache.order]).toEqual([32, 1]);
  });
});

describe('argument checking', () => {
  const base = { objectSize: 64, cpus: 2 };
  it('names the bad argument', () => {
    expect(() => computeCacheGeometry({ ...base, objectSize: -1 })).toThrow(/objectSize/);
    expect(() => computeCacheGeometry({ ...base, objectSize: 1.5 })).toThrow(RangeError);
    expect(() => computeCacheGeometry({ ...base, objectSize: Number.NaN })).toThrow(/objectSize/);
    expect(() => computeCacheGeometry({ ...base, objectSize: 0 })).toThrow(/objectSize/);
    expect(() => computeCacheGeometry({ ...base, objectSize: KMALLOC_MAX_SIZE + 1 })).toThrow(/objectSize/);
    expect(() => computeCacheGeometry({ ...base, objectSize: '64' as unknown as number })).toThrow(TypeError);
    expect(() => computeCacheGeometry({ ...base, align: 24 })).toThrow(/align/);
    expect(() => computeCacheGeometry({ ...base, align: -8 })).toThrow(/align/);
    expect(() => computeCacheGeometry({ ...base, flags: -1 })).toThrow(/flags/);
    expect(() => computeCacheGeometry({ ...base, flags: __OBJECT_POISON })).toThrow(/flags/);
    expect(() => computeCacheGeometry({ ...base, flags: SLAB_KASAN })).toThrow(/flags/);
    expect(() => computeCacheGeometry({ ...base, cpus: 0 })).toThrow(/cpus/);
    expect(() => computeCacheGeometry({ ...base, cpus: 2.5 })).toThrow(/cpus/);
    expect(() => computeCacheGeometry({ ...base, slubMinOrder: 4 })).toThrow(/slubMinOrder/);
    expect(() => computeCacheGeometry({ ...base, slubMaxOrder: 11 })).toThrow(/slubMaxOrder/);
    expect(() => computeCacheGeometry({ ...base, slubMinObjects: -1 })).toThrow(/slubMinObjects/);
    expect(() => computeCacheGeometry({ ...base, kasan: 1 as unknown as boolean })).toThrow(TypeError);
    expect(() => computeCacheGeometry({ ...base, hasCtor: 'no' as unknown as boolean })).toThrow(/hasCtor/);
    expect(() => computeCacheGeometry({ ...base, version: 599 })).toThrow(/version/);
    expect(() => computeCacheGeometry({ ...base, version: 619 })).toThrow(/version/);
    expect(() => computeCacheGeometry(null as unknown as Parameters<typeof computeCacheGeometry>[0])).toThrow(TypeError);
  });

  it('checks freeptr_offset the way create_cache() does (-EINVAL)', () => {
    expect(() => computeCacheGeometry({ ...base, freeptrOffset: 8 })).toThrow(/SLAB_TYPESAFE_BY_RCU/);
    const rcu = { ...base, flags: SLAB_TYPESAFE_BY_RCU };
    expect(() => computeCacheGeometry({ ...rcu, freeptrOffset: 12 })).toThrow(/freeptrOffset/);
    expect(() => computeCacheGeometry({ ...rcu, freeptrOffset: 64 })).toThrow(/freeptrOffset/);
    expect(() => computeCacheGeometry({ ...rcu, freeptrOffset: 8, version: V6_6 })).toThrow(/6\.12/);
    expect(computeCacheGeometry({ ...rcu, freeptrOffset: 56 }).offset).toBe(56);
  });

  it('checks the usercopy window', () => {
    expect(() => computeCacheGeometry({ ...base, useroffset: 8 })).toThrow(/useroffset/);
    expect(() => computeCacheGeometry({ ...base, useroffset: 32, usersize: 40 })).toThrow(/usersize/);
    expect(computeCacheGeometry({ ...base, useroffset: 16, usersize: 48 })).toMatchObject({ useroffset: 16, usersize: 48 });
  });

  it('checks the helpers too', () => {
    expect(() => calculateAlignment(0, 3, 64)).toThrow(/align/);
    expect(() => calculateOrder(0, 2)).toThrow(/size/);
    expect(() => calculateOrder(64, 0)).toThrow(/cpus/);
    expect(() => calculateOrder(64, 2, 3, 1)).toThrow(/slubMinOrder/);
    expect(() => orderObjects(0, 0)).toThrow(/size/);
    expect(() => minPartialFor(0)).toThrow(/size/);
    expect(() => cpuPartialSlabs(6, 0)).toThrow(/objects/);
    expect(() => fls(-1)).toThrow(/x/);
    expect(() => linuxVersion(5, 15)).toThrow(/major/);
    expect(() => kmemCacheObjectSize(0)).toThrow(/nrNodeIds/);
    expect(LINUX_VERSION_DEFAULT).toBe(V6_18);
  });
});

describe('boot options slubMinOrder, slubMaxOrder, slubMinObjects, slabNomerge', () => {
  const bootLine = (k: ReturnType<typeof boot>) =>
    k
      .dmesg()
      .find((l) => l.includes('SLUB: HWalign='))!
      .replace(/^\[[ \d.]+\] /, '');
  const order = (k: ReturnType<typeof boot>, name: string) => k.sys.read(`/sys/kernel/slab/${name}/order`);

  it('slub_min_order above the default maximum raises the maximum (6.7+)', () => {
    const k = boot({ memory: '64M', cpus: 2, slubMinOrder: 4 });
    expect(bootLine(k)).toBe('SLUB: HWalign=64, Order=4-4, MinObjects=0, CPUs=2, Nodes=1');
    expect(order(k, 'kmalloc-8')).toBe('4\n');
    expect(k.sys.read('/sys/kernel/slab/kmalloc-8/objs_per_slab')).toBe(`${(4096 << 4) / 8}\n`);
  });

  it('slub_max_order below slub_min_order lowers the minimum', () => {
    const k = boot({ memory: '64M', cpus: 2, slubMinOrder: 3, slubMaxOrder: 1 });
    expect(bootLine(k)).toBe('SLUB: HWalign=64, Order=1-1, MinObjects=0, CPUs=2, Nodes=1');
    expect(order(k, 'kmalloc-8k')).toBe('1\n');
  });

  it('slub_max_order=0 makes every slab one page', () => {
    const k = boot({ memory: '64M', cpus: 2, slubMaxOrder: 0 });
    expect(bootLine(k)).toBe('SLUB: HWalign=64, Order=0-0, MinObjects=0, CPUs=2, Nodes=1');
    for (const name of ['kmalloc-1k', 'kmalloc-2k', 'kmalloc-4k']) expect(order(k, name)).toBe('0\n');
    // kmalloc-8k does not fit in one page: calculate_order() falls back to get_order(size).
    expect(order(k, 'kmalloc-8k')).toBe('1\n');
  });

  it('slub_min_objects raises the order for more objects per slab', () => {
    const k = boot({ memory: '64M', cpus: 2, slubMinObjects: 32 });
    expect(bootLine(k)).toBe('SLUB: HWalign=64, Order=0-3, MinObjects=32, CPUs=2, Nodes=1');
    // 32 x 1k wants order 3 (the default min_objects of 2 CPUs, 12, gives order 2).
    expect(order(k, 'kmalloc-1k')).toBe('3\n');
  });

  it('slab_nomerge keeps caches that would merge apart', () => {
    const merged = boot({ memory: '64M', cpus: 2 });
    expect(merged.kmemCacheCreate('one', 200, {})).toBe(merged.kmemCacheCreate('two', 200, {}));
    const apart = boot({ memory: '64M', cpus: 2, slabNomerge: true });
    expect(apart.kmemCacheCreate('one', 200, {})).not.toBe(apart.kmemCacheCreate('two', 200, {}));
    expect(apart.slub.caches[apart.slab.findByName('one')]!.sysfsName).toBe('one');
  });
});
