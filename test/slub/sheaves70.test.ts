/**
 * boot({ kernel: '7.0' }): sheaves as the per-CPU layer of every cache
 * ("slab: sheaves for all", Linux 7.0). Expectations worked by hand from
 * 7.0's mm/slub.c: calculate_sheaf_capacity(), bootstrap_kmalloc_sheaves(),
 * alloc_from_pcs() / __pcs_replace_empty_main() / refill_objects() (node
 * partial slabs first, then new slabs), free_to_pcs() /
 * __pcs_replace_full_main() / barn_replace_full_sheaf() (MAX_FULL_SHEAVES
 * 10), pcs_flush_all() / sheaf_flush_main() (batches of PCS_BATCH_MAX 32),
 * the stat items 7.0 keeps ("mm/slub: cleanup and repurpose some stat
 * items": ALLOC_FASTPATH / FREE_FASTPATH count the sheaves, FREE_SLOWPATH
 * only a user's free that missed them) and the sysfs files it shows
 * (cpu_partial "0", slabs_cpu_partial "0(0)", no cpu slabs).
 */
import { describe, expect, it } from 'vitest';
import { boot, type Kernel } from '../../src/kernel.js';
import { GFP_ATOMIC, GFP_KERNEL } from '../../src/page_alloc/gfp.js';
import { slabinfoRows } from '../../src/proc/slabinfo.js';
import { calculateSheafCapacity } from '../../src/slub/sheaf.js';
import { statNames70 } from '../../src/slub/slab.js';
import { SLAB_NO_OBJ_EXT, SLAB_NOLEAKTRACE, SLAB_POISON, SLAB_RED_ZONE, SLAB_STORE_USER } from '../../src/slub/slab_flags.js';
import { sid } from './handle_id.js';

function setup(cpus = 2, size = 64, name = 'obj70') {
  const k = boot({ memory: '64M', cpus, slubStats: true, kernel: '7.0' });
  const c = k.kmemCacheCreate(name, size, {});
  const attr = (a: string) => k.sys.read(`/sys/kernel/slab/${name}/${a}`);
  const stat = (a: string) => Number(attr(a).split(' ')[0]);
  return { k, c, attr, stat };
}

function row(k: Kernel, name: string) {
  return slabinfoRows(k.slab).find((r) => r.name === name)!;
}

describe("kernel: '7.0' calculate_sheaf_capacity()", () => {
  // struct slab_sheaf is 32 bytes before objects[] (the 16-byte union, cache, size, node);
  // the base capacity is raised until 32 + 8 * capacity fills its kmalloc bucket.
  it('gives 60, 28, 12, 4 by s->size: 512, 256, 128 and 64-byte sheaves', () => {
    // < 256: 60 -> 32 + 480 = 512 bytes, kmalloc-512 exactly: 60.
    expect(calculateSheafCapacity(8, 0, 0)).toBe(60);
    expect(calculateSheafCapacity(192, 0, 0)).toBe(60);
    expect(calculateSheafCapacity(255, 0, 0)).toBe(60);
    // >= 256: 26 -> 32 + 208 = 240, rounded up to kmalloc-256: (256 - 32) / 8 = 28.
    expect(calculateSheafCapacity(256, 0, 0)).toBe(28);
    expect(calculateSheafCapacity(1016, 0, 0)).toBe(28);
    // >= 1024: 12 -> 32 + 96 = 128, kmalloc-128 exactly: 12.
    expect(calculateSheafCapacity(1024, 0, 0)).toBe(12);
    expect(calculateSheafCapacity(4088, 0, 0)).toBe(12);
    // >= PAGE_SIZE: 4 -> 32 + 32 = 64, kmalloc-64 exactly: 4.
    expect(calculateSheafCapacity(4096, 0, 0)).toBe(4);
    expect(calculateSheafCapacity(8192, 0, 0)).toBe(4);
  });

  it('respects a larger explicit args.sheaf_capacity, and gives 0 to debug, boot and NOLEAKTRACE caches', () => {
    expect(calculateSheafCapacity(64, 0, 32)).toBe(60); // maple_node's 32 is below 60
    expect(calculateSheafCapacity(64, 0, 100)).toBe(100);
    expect(calculateSheafCapacity(4096, 0, 32)).toBe(32);
    expect(calculateSheafCapacity(64, SLAB_RED_ZONE, 32)).toBe(0);
    expect(calculateSheafCapacity(64, SLAB_POISON, 0)).toBe(0);
    expect(calculateSheafCapacity(64, SLAB_STORE_USER, 0)).toBe(0);
    expect(calculateSheafCapacity(64, SLAB_NO_OBJ_EXT, 0)).toBe(0);
    expect(calculateSheafCapacity(64, SLAB_NOLEAKTRACE, 0)).toBe(0);
  });

  it('every cache of a booted 7.0 machine has its capacity in sysfs; the boot caches none', () => {
    const k = boot({ memory: '64M', cpus: 2, kernel: '7.0' });
    const cap = (c: string) => k.sys.read(`/sys/kernel/slab/${c}/sheaf_capacity`);
    expect(cap('kmalloc-8')).toBe('60\n');
    expect(cap('kmalloc-192')).toBe('60\n');
    expect(cap('kmalloc-256')).toBe('28\n');
    expect(cap('kmalloc-512')).toBe('28\n');
    expect(cap('kmalloc-1k')).toBe('12\n');
    expect(cap('kmalloc-2k')).toBe('12\n');
    expect(cap('kmalloc-4k')).toBe('4\n');
    expect(cap('kmalloc-8k')).toBe('4\n');
    expect(cap('kmalloc-rcl-64')).toBe('60\n');
    expect(cap('dma-kmalloc-64')).toBe('60\n');
    expect(cap('kmem_cache')).toBe('0\n');
    expect(cap('kmem_cache_node')).toBe('0\n');
    k.kmemCacheCreate('user70', 100, {}); // size 104
    expect(cap('user70')).toBe('60\n');
    // The default 6.18 machine: no sheaves unless asked for.
    expect(boot({ memory: '64M' }).sys.read('/sys/kernel/slab/kmalloc-64/sheaf_capacity')).toBe('0\n');
  });

  it('slub_debug caches get no sheaves (calculate_sheaf_capacity returns 0 for SLAB_DEBUG_FLAGS)', () => {
    const k = boot({ memory: '64M', cpus: 2, kernel: '7.0', slubDebug: 'FZP,kmalloc-64' });
    expect(k.sys.read('/sys/kernel/slab/kmalloc-64/sheaf_capacity')).toBe('0\n');
    expect(k.sys.read('/sys/kernel/slab/kmalloc-128/sheaf_capacity')).toBe('60\n');
  });

  it('caches still merge, except one created with an explicit capacity', () => {
    const k = boot({ memory: '64M', cpus: 2, kernel: '7.0' });
    const a = k.kmemCacheCreate('m70_a', 96, {});
    const b = k.kmemCacheCreate('m70_b', 96, {});
    expect(sid(k, a)).toBe(sid(k, b));
    const c = k.kmemCacheCreate('m70_c', 96, { sheafCapacity: 32 });
    expect(sid(k, c)).not.toBe(sid(k, a));
    expect(k.sys.read('/sys/kernel/slab/m70_c/sheaf_capacity')).toBe('60\n');
  });

  it("rejects '7.0' beside SLAB or SLOB, naming the option", () => {
    expect(() => boot({ kernel: '7.0', allocator: 'slab' })).toThrow(/^kernel: /);
    expect(() => boot({ kernel: '7.0', allocator: 'slob' })).toThrow(RangeError);
    expect(() => boot({ kernel: '7.1' as '7.0' })).toThrow(/^kernel: expected '6.18', '7.0'/);
  });
});

describe("kernel: '7.0' sysfs", () => {
  it("shows 7.0's stat files in its enum stat_item order, and none of the cpu slab's", () => {
    const { k, attr } = setup();
    expect(statNames70.length).toBe(26);
    for (const n of statNames70) expect(attr(n)).toMatch(/^\d+/);
    for (const gone of [
      'alloc_cpu_sheaf',
      'free_cpu_sheaf',
      'free_frozen',
      'alloc_from_partial',
      'alloc_refill',
      'cpuslab_flush',
      'deactivate_full',
      'deactivate_empty',
      'deactivate_to_head',
      'deactivate_to_tail',
      'deactivate_remote_frees',
      'deactivate_bypass',
      'cmpxchg_double_cpu_fail',
      'cpu_partial_alloc',
      'cpu_partial_free',
      'cpu_partial_node',
      'cpu_partial_drain',
    ]) {
      expect(() => attr(gone), gone).toThrow(/No such file/);
    }
    const o = k.kmalloc(64, GFP_KERNEL);
    expect(o).not.toBe(0);
    // cpu_partial_show() prints 0, slabs_cpu_partial_show() "0(0)", cpu_slabs (SO_CPU) counts nothing.
    expect(attr('cpu_partial')).toBe('0\n');
    expect(attr('slabs_cpu_partial')).toBe('0(0)\n');
    expect(k.sys.read('/sys/kernel/slab/kmalloc-64/cpu_slabs')).toBe('0\n');
    expect(k.sys.read('/sys/kernel/slab/kmalloc-64/cpu_partial')).toBe('0\n');
  });
});

describe("kernel: '7.0' sheaves", () => {
  it('100 allocations from a fresh cache: two refills, the second from the partial slab first', () => {
    const { k, c, attr, stat } = setup();
    const objs: number[] = [];
    for (let j = 0; j < 100; j++) objs.push(k.kmemCacheAlloc(c, GFP_KERNEL));
    // Alloc 1: main (made at creation, one per CPU: SHEAF_ALLOC 2) is empty,
    // no spare, no full sheaf in the barn (BARN_GET_FAIL), none empty either:
    // alloc_full_sheaf() (SHEAF_ALLOC 3) refilled with 60 from a new slab A
    // of 64 (4 left: A goes on the partial list); the empty main goes to the
    // barn. Alloc 61: main empty again, BARN_GET_FAIL, the barn's empty sheaf
    // is refilled: A's 4 first, then 56 of a new slab B (8 left).
    expect(stat('alloc_fastpath')).toBe(100);
    expect(stat('alloc_slowpath')).toBe(0);
    expect(stat('sheaf_refill')).toBe(120);
    expect(stat('sheaf_alloc')).toBe(3);
    expect(stat('barn_get_fail')).toBe(2);
    expect(stat('barn_get')).toBe(0);
    expect(stat('alloc_slab')).toBe(2);
    expect(attr('slabs')).toBe('2 N0=2\n');
    expect(attr('partial')).toBe('1 N0=1\n');
    expect(attr('objects_partial')).toBe('56 N0=56\n');
    // The 20 objects left in the main sheaf count as allocated: /proc/slabinfo's line.
    expect(k.proc.read('/proc/slabinfo').split('\n')).toContain(
      'obj70                120    128     64   64    1 : tunables    0    0    0 : slabdata      2      2      0',
    );
    for (const o of objs) k.kmemCacheFree(c, o);
    // Frees 1..40 fill main (20 -> 60); free 41: main full, no spare, the
    // barn's empty sheaf becomes main and the full one the spare; frees
    // 42..100 go into it (60 at the end). Nothing reached a slab.
    expect(stat('free_fastpath')).toBe(100);
    expect(stat('free_slowpath')).toBe(0);
    expect(stat('barn_put')).toBe(0);
    expect(stat('sheaf_flush')).toBe(0);
    expect(row(k, 'obj70').activeObjs).toBe(120);
    k.kmemCacheShrink(c);
    // pcs_flush_all(): the spare (60) flushed and freed, main flushed in
    // batches of 32 + 28; slab A, full, goes back on the partial list
    // (FREE_ADD_PARTIAL); shrink then discards both empty slabs. Flushes are
    // not FREE_SLOWPATH in 7.0.
    expect(stat('sheaf_flush')).toBe(120);
    expect(stat('sheaf_free')).toBe(1);
    expect(stat('free_add_partial')).toBe(1);
    expect(stat('free_slowpath')).toBe(0);
    expect(attr('slabs')).toBe('0\n');
    expect(row(k, 'obj70').activeObjs).toBe(0);
  });

  it('the barn takes 10 full sheaves, then barn_put_fail flushes the spare', () => {
    const { k, c, stat } = setup();
    const objs: number[] = [];
    for (let j = 0; j < 13 * 60; j++) objs.push(k.kmemCacheAlloc(c, GFP_KERNEL));
    // 13 refills of 60; the first into a new sheaf, the others into the
    // barn's one empty sheaf, the emptied main going back each time.
    expect(stat('sheaf_refill')).toBe(780);
    expect(stat('barn_get_fail')).toBe(13);
    expect(stat('sheaf_alloc')).toBe(3);
    for (const o of objs) k.kmemCacheFree(c, o);
    // Frees 1..60 fill main; 61: the barn's empty sheaf becomes main (main
    // -> spare); 121, 181, ..., 661: main and spare full, no empty sheaf in
    // the barn: a new one (SHEAF_ALLOC), the full main to the barn (BARN_PUT)
    // -- 10 times; 721: 10 full sheaves there already (BARN_PUT_FAIL), the
    // spare is flushed (60 objects) and becomes main.
    expect(stat('free_fastpath')).toBe(780);
    expect(stat('barn_put')).toBe(10);
    expect(stat('barn_put_fail')).toBe(1);
    expect(stat('sheaf_flush')).toBe(60);
    expect(stat('sheaf_alloc')).toBe(13);
    expect(k.slub.sheaves.caches[sid(k, c)]!.nrFull).toBe(10);
    // 10 full sheaves in the barn, main and spare full: 720 objects held.
    expect(row(k, 'obj70').activeObjs).toBe(720);
    expect(row(k, 'obj70').numObjs).toBe(13 * 64);
    expect(k.slub.sheaves.objectsHeld(sid(k, c))).toBe(720);
  });

  it('a full sheaf of the barn serves another CPU (barn_get)', () => {
    const { k, c, stat } = setup();
    const objs: number[] = [];
    for (let j = 0; j < 180; j++) objs.push(k.kmemCacheAlloc(c, GFP_KERNEL));
    for (const o of objs) k.kmemCacheFree(c, o);
    // CPU 0 freed 180: main full, spare full, one full sheaf in the barn.
    expect(stat('barn_put')).toBe(1);
    const before = stat('sheaf_refill');
    const got = k.onCpu(1, () => k.kmemCacheAlloc(c, GFP_KERNEL));
    // CPU 1's empty main is traded for the barn's full sheaf: no refill.
    expect(objs).toContain(got);
    expect(stat('barn_get')).toBe(1);
    expect(stat('sheaf_refill')).toBe(before);
    expect(attr70(k, 'alloc_fastpath')).toBe('181 C0=180 C1=1\n');
  });

  it('an allocation that may not block, with no sheaf to refill from, takes one object (alloc_slowpath)', () => {
    const { k, c, stat } = setup();
    const o = k.kmemCacheAlloc(c, GFP_ATOMIC);
    expect(o).not.toBe(0);
    // __pcs_replace_empty_main(): BARN_GET_FAIL, and no refill without
    // blocking; ___slab_alloc() takes one object off a new slab.
    expect(stat('barn_get_fail')).toBe(1);
    expect(stat('sheaf_refill')).toBe(0);
    expect(stat('alloc_slowpath')).toBe(1);
    expect(stat('alloc_fastpath')).toBe(0);
    expect(row(k, 'obj70').activeObjs).toBe(1);
    k.kmemCacheFree(c, o);
    expect(stat('free_fastpath')).toBe(1);
  });

  it('kfree of the object on top of the main sheaf is a double free, caught and not pushed', () => {
    for (const slubStats of [false, true]) {
      const k = boot({ memory: '64M', cpus: 2, kernel: '7.0', slubStats });
      const p = k.kmalloc(100, GFP_KERNEL);
      k.kfree(p);
      k.kfree(p);
      expect(k.dmesg().join('\n')).toMatch(/already the freelist head/);
      // The report's CPU: line names the release kmem models.
      expect(k.dmesg().join('\n')).toMatch(/Comm: kmem .* 7\.0\.0-kmem #1/);
      // Handed out once only.
      const a = k.kmalloc(100, GFP_KERNEL);
      const b = k.kmalloc(100, GFP_KERNEL);
      expect(a).toBe(p);
      expect(b).not.toBe(p);
    }
  });

  it('the fast paths follow the sheaves when their pool grows: a push after the growth is seen by the slow paths', () => {
    const k = boot({ memory: '64M', cpus: 2, kernel: '7.0' });
    // a and b come off the main sheaf: b's slot is where the next push goes.
    const a = k.kmalloc(100, GFP_KERNEL);
    const b = k.kmalloc(100, GFP_KERNEL);
    // Each cache of capacity 4096 takes 2 x 4096 slots for its CPUs' main sheaves: 16 of them
    // need more than a 7.0 machine's first pool, so it grows (by copying) at least once.
    for (let i = 0; i < 16; i++) k.kmemCacheCreate(`big_sheaf${i}`, 32, { sheafCapacity: 4096 });
    k.kfree(a);
    // The second kfree finds a on top of the main sheaf only if the first one pushed it where
    // free_to_pcs() looks (in a stale pool, b would still be there).
    k.kfree(a);
    expect(k.dmesg().join('\n')).toMatch(/already the freelist head/);
    expect(k.kmalloc(100, GFP_KERNEL)).toBe(a);
    const c = k.kmalloc(100, GFP_KERNEL);
    expect(c).not.toBe(a);
    expect(c).not.toBe(b);
  });

  it('the boot caches and debug caches work without sheaves: one object at a time from the slabs', () => {
    const k = boot({ memory: '64M', cpus: 2, kernel: '7.0', slubStats: true, slubDebug: 'FZP,dbg70' });
    const c = k.kmemCacheCreate('dbg70', 64, {});
    const st = (a: string) => Number(k.sys.read(`/sys/kernel/slab/dbg70/${a}`).split(' ')[0]);
    expect(k.sys.read('/sys/kernel/slab/dbg70/sheaf_capacity')).toBe('0\n');
    const objs = [0, 1, 2].map(() => k.kmemCacheAlloc(c, GFP_KERNEL));
    expect(st('alloc_slowpath')).toBe(3);
    expect(st('alloc_fastpath')).toBe(0);
    for (const o of objs) k.kmemCacheFree(c, o);
    expect(st('free_slowpath')).toBe(3);
    expect(st('free_fastpath')).toBe(0);
    // slub_debug still catches a double free on such a cache (the slab is
    // empty by now: free_consistency_checks() sees inuse 0).
    k.kmemCacheFree(c, objs[0]!);
    expect(k.dmesg().join('\n')).toMatch(/BUG dbg70 \(Not tainted\): Slab has 0 allocated objects but 1 are to be freed/);
    expect(st('free_slowpath')).toBe(4);
  });

  it('KASAN still reports a use-after-free of an object that went into a sheaf', () => {
    const k = boot({ memory: '64M', cpus: 2, kernel: '7.0', kasan: 'generic' });
    const p = k.kmalloc(64, GFP_KERNEL);
    k.kfree(p);
    k.mem.read8(p);
    expect(k.dmesg().join('\n')).toMatch(/BUG: KASAN: slab-use-after-free/);
  });

  it('bulk: alloc_from_pcs_bulk then the slabs (kept ALLOC_FASTPATH), free_to_pcs_bulk then the slabs (FREE_SLOWPATH)', () => {
    const { k, c, stat } = setup(1);
    const out = new Uint32Array(200);
    expect(k.kmemCacheAllocBulk(c, 200, out)).toBe(200);
    // The empty main serves nothing and the barn has no full sheaf: all 200 from the slabs.
    expect(stat('alloc_fastpath')).toBe(0);
    expect(stat('alloc_slowpath')).toBe(200);
    expect(stat('barn_get_fail')).toBe(1);
    k.kmemCacheFreeBulk(c, out);
    // main (empty) takes 60, the barn has no empty sheaf for a second one: 140 to the slabs.
    expect(stat('free_fastpath')).toBe(60);
    expect(stat('free_slowpath')).toBe(140);
    expect(row(k, 'obj70').activeObjs).toBe(60);
  });

  it('bulk from and to a main sheaf that holds them: the top n in array order, pushed back in array order', () => {
    for (const slubStats of [false, true]) {
      const k = boot({ memory: '64M', cpus: 2, kernel: '7.0', slubStats });
      const c = k.kmemCacheCreate('bulk70', 64, {});
      const first = k.kmemCacheAlloc(c, GFP_KERNEL); // refills main to 60, takes one: 59 left
      const a = new Uint32Array(16);
      expect(k.kmemCacheAllocBulk(c, 16, a)).toBe(16);
      // alloc_from_pcs_bulk(): memcpy of objects[43..59) -- the next single
      // allocation gets objects[42], just below them.
      const below = k.kmemCacheAlloc(c, GFP_KERNEL);
      expect(new Set([first, below, ...a]).size).toBe(18);
      k.kmemCacheFree(c, below);
      k.kmemCacheFreeBulk(c, a);
      // free_to_pcs_bulk(): a[0..16) on top in array order: the last one is the top.
      expect(k.kmemCacheAlloc(c, GFP_KERNEL)).toBe(a[15]);
      const b = new Uint32Array(15);
      expect(k.kmemCacheAllocBulk(c, 15, b)).toBe(15);
      expect([...b]).toEqual([...a.subarray(0, 15)]);
      expect(k.kmemCacheAlloc(c, GFP_KERNEL)).toBe(below);
      expect(k.dmesg().join('\n')).not.toMatch(/BUG|WARNING/);
    }
  });

  it("kmem_cache_free() of another cache's object: warn_free_bad_obj() warns once and leaks it", () => {
    const k = boot({ memory: '64M', cpus: 2, kernel: '7.0' });
    const a = k.kmemCacheCreate('bad70_a', 64, { sheafCapacity: 8 });
    const b = k.kmemCacheCreate('bad70_b', 64, { sheafCapacity: 8 });
    const o = k.kmemCacheAlloc(a, GFP_KERNEL);
    k.kmemCacheFree(b, o);
    const text = k.dmesg().join('\n');
    expect(text).toContain(`kmem_cache_free(bad70_b, ffff888${o.toString(16).padStart(9, '0')}): object belongs to different cache bad70_a`);
    expect(text).toMatch(/WARNING: CPU: 0 PID: 1 at mm\/slub.c/);
    // Leaked: still allocated in bad70_a (capacity max(60, 8): a refill of 60,
    // 59 left in the sheaf), and nothing went into bad70_b's sheaves.
    expect(row(k, 'bad70_a').activeObjs).toBe(60);
    expect(k.slub.sheaves.objectsHeld(sid(k, a))).toBe(59);
    expect(k.slub.sheaves.objectsHeld(sid(k, b))).toBe(0);
    k.kmemCacheFree(b, k.kmemCacheAlloc(a, GFP_KERNEL));
    expect(
      k
        .dmesg()
        .join('\n')
        .match(/object belongs to different cache/g)!.length,
    ).toBe(1);
  });

  it('any cache with sheaves takes the preallocation API: prefill, alloc from the sheaf, return as spare', () => {
    const { k, c, stat } = setup();
    const sheaf = k.kmemCachePrefillSheaf(c, GFP_KERNEL, 10)!;
    // No spare (SHEAF_PREFILL_SLOW), nothing in the barn (BARN_GET_FAIL): a
    // new sheaf (SHEAF_ALLOC, after the two mains), refilled to the capacity.
    expect(stat('sheaf_prefill_slow')).toBe(1);
    expect(stat('barn_get_fail')).toBe(1);
    expect(stat('sheaf_alloc')).toBe(3);
    expect(stat('sheaf_refill')).toBe(60);
    expect(k.kmemCacheSheafSize(c, sheaf)).toBe(60);
    const got = new Set<number>();
    for (let j = 0; j < 10; j++) got.add(k.kmemCacheAllocFromSheaf(c, GFP_KERNEL, sheaf));
    expect(got.size).toBe(10);
    k.kmemCacheReturnSheaf(c, GFP_KERNEL, sheaf);
    expect(stat('sheaf_return_fast')).toBe(1);
    // The next allocation finds the main empty and the returned sheaf (50) as spare: swapped in, no refill.
    const o = k.kmemCacheAlloc(c, GFP_KERNEL);
    expect(got.has(o)).toBe(false);
    expect(stat('sheaf_refill')).toBe(60);
    expect(stat('alloc_fastpath')).toBe(1);
    expect(row(k, 'obj70').activeObjs).toBe(60);
  });

  it('destroy flushes every sheaf of every CPU and gives every slab back', () => {
    const { k, c } = setup(3);
    const objs: number[] = [];
    for (let cpu = 0; cpu < 3; cpu++)
      k.onCpu(cpu, () => {
        for (let j = 0; j < 150; j++) objs.push(k.kmemCacheAlloc(c, GFP_KERNEL));
      });
    for (let j = 0; j < objs.length; j++) k.onCpu(j % 3, () => k.kmemCacheFree(c, objs[j]!));
    expect(k.slub.sheaves.objectsHeld(sid(k, c))).toBeGreaterThan(0);
    const slabPages = k.slub.slabPagesUnreclaimable;
    k.kmemCacheDestroy(c);
    expect(k.dmesg().join('\n')).not.toMatch(/still has objects|BUG/);
    expect(slabinfoRows(k.slab).some((r) => r.name === 'obj70')).toBe(false);
    // Each CPU took 150 objects in 3 refills of 60: 540 objects, 9 slabs of 64, all given back.
    expect(slabPages - k.slub.slabPagesUnreclaimable).toBe(9);
  });
});

function attr70(k: Kernel, a: string): string {
  return k.sys.read(`/sys/kernel/slab/obj70/${a}`);
}
