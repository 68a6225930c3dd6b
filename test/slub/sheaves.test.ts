/**
 * 6.18's opt-in per-CPU sheaves (src/slub/sheaf.ts): the barn's limits,
 * refill and flush, the SLUB stats counted exactly for driven states, all
 * worked by hand from mm/slub.c's rules (alloc_from_pcs,
 * __pcs_replace_empty_main, free_to_pcs, __pcs_replace_full_main,
 * __pcs_install_empty_sheaf, pcs_flush_all, barn_shrink).
 */
import { describe, expect, it } from 'vitest';
import { boot, type Kernel } from '../../src/kernel.js';
import { GFP_ATOMIC, GFP_KERNEL } from '../../src/page_alloc/gfp.js';
import { slabinfoRows } from '../../src/proc/slabinfo.js';
import { CF } from '../../src/slub/slab.js';
import { SLAB_RED_ZONE } from '../../src/slub/slab_flags.js';
import { sid } from './handle_id.js';

function setup(cpus: number, sheafCapacity: number, name = 'sheaf_obj') {
  const k = boot({ memory: '64M', cpus, slubStats: true });
  const c = k.kmemCacheCreate(name, 64, { sheafCapacity });
  const attr = (a: string) => k.sys.read(`/sys/kernel/slab/${name}/${a}`);
  const stat = (a: string) => Number(attr(a).split(' ')[0]);
  return { k, c, attr, stat };
}

function active(k: Kernel, name: string): number {
  return slabinfoRows(k.slab).find((r) => r.name === name)!.activeObjs;
}

describe('sheaves: creation and sysfs', () => {
  it('sheaf_capacity prints the capacity; 0 for caches without sheaves', () => {
    const { k, attr } = setup(2, 32);
    expect(attr('sheaf_capacity')).toBe('32\n');
    expect(k.sys.read('/sys/kernel/slab/kmalloc-64/sheaf_capacity')).toBe('0\n');
    // init_percpu_sheaves(): an empty main sheaf per CPU, counted on the creating CPU.
    expect(attr('sheaf_alloc')).toBe('2 C0=2\n');
    // No cpu slab below the sheaves in kmem: no cpu partial slabs either.
    expect(attr('cpu_partial')).toBe('0\n');
  });

  it('the 6.18 stat files exist in the kernel order, the sheaf ones included', async () => {
    const { statNames } = await import('../../src/slub/slab.js');
    expect(statNames.slice(0, 7)).toEqual([
      'alloc_cpu_sheaf',
      'alloc_fastpath',
      'alloc_slowpath',
      'free_cpu_sheaf',
      'free_rcu_sheaf',
      'free_rcu_sheaf_fail',
      'free_fastpath',
    ]);
    expect(statNames.slice(-13)).toEqual([
      'sheaf_flush',
      'sheaf_refill',
      'sheaf_alloc',
      'sheaf_free',
      'barn_get',
      'barn_get_fail',
      'barn_put',
      'barn_put_fail',
      'sheaf_prefill_fast',
      'sheaf_prefill_slow',
      'sheaf_prefill_oversize',
      'sheaf_return_fast',
      'sheaf_return_slow',
    ]);
  });

  it('a cache with slub_debug flags gets no sheaves (do_kmem_cache_create)', () => {
    const k = boot({ memory: '64M', cpus: 2 });
    k.kmemCacheCreate('dbg_sheaf', 64, { sheafCapacity: 8, flags: SLAB_RED_ZONE });
    expect(k.sys.read('/sys/kernel/slab/dbg_sheaf/sheaf_capacity')).toBe('0\n');
    const k2 = boot({ memory: '64M', cpus: 2, slubDebug: 'F' });
    k2.kmemCacheCreate('dbg_sheaf', 64, { sheafCapacity: 8 });
    expect(k2.sys.read('/sys/kernel/slab/dbg_sheaf/sheaf_capacity')).toBe('0\n');
  });

  it('a cache with sheaves neither merges nor is merged into', () => {
    const k = boot({ memory: '64M', cpus: 2 });
    const a = k.kmemCacheCreate('plain_a', 64, {});
    const b = k.kmemCacheCreate('sheafy', 64, { sheafCapacity: 4 });
    const c = k.kmemCacheCreate('plain_c', 64, {});
    expect(sid(k, b)).not.toBe(sid(k, a));
    expect(sid(k, c)).not.toBe(sid(k, b));
    expect(k.sys.read('/sys/kernel/slab/sheafy/aliases')).toBe('0\n');
  });

  it('rejects a bad capacity, naming the argument', () => {
    const k = boot({ memory: '64M', cpus: 1 });
    expect(() => k.kmemCacheCreate('x', 64, { sheafCapacity: -1 })).toThrow(/args\.sheafCapacity/);
    expect(() => k.kmemCacheCreate('x', 64, { sheafCapacity: 1.5 })).toThrow(/args\.sheafCapacity/);
  });
});

describe('sheaves: refill, barn and flush, worked by hand', () => {
  it('capacity 4: the first allocations refill from a new slab, then from the partial slab', () => {
    const { k, c, attr, stat } = setup(2, 4);
    const objs: number[] = [];
    for (let j = 0; j < 5; j++) objs.push(k.kmemCacheAlloc(c, GFP_KERNEL));
    // #1: main empty, no spare, barn empty: BARN_GET_FAIL, alloc_full_sheaf
    // (SHEAF_ALLOC) refilled with 4 objects of a new slab; the empty main goes to the barn.
    // #2..#4 pop; #5: BARN_GET_FAIL, the barn's empty sheaf refilled (4 more
    // from the partial slab), the empty main back to the barn.
    expect(stat('alloc_cpu_sheaf')).toBe(5);
    expect(stat('barn_get_fail')).toBe(2);
    expect(stat('barn_get')).toBe(0);
    expect(stat('sheaf_refill')).toBe(8);
    expect(stat('sheaf_alloc')).toBe(3);
    expect(stat('alloc_slab')).toBe(1);
    expect(stat('alloc_fastpath')).toBe(0);
    expect(new Set(objs).size).toBe(5);
    // 5 handed out + 3 in the main sheaf: all 8 count as active.
    expect(active(k, 'sheaf_obj')).toBe(8);
    expect(attr('objects')).toBe('8 N0=8\n');
    // Frees: #1 fills main (3 -> 4); #2 finds it full, no spare: the barn's
    // empty sheaf becomes main and the full one the spare; #3..#5 fill it.
    for (const o of objs) k.kmemCacheFree(c, o);
    expect(stat('free_cpu_sheaf')).toBe(5);
    expect(stat('free_fastpath')).toBe(0);
    expect(stat('barn_put')).toBe(0);
    expect(active(k, 'sheaf_obj')).toBe(8);
    // kmem_cache_shrink(): pcs_flush_all on each CPU (spare flushed and freed,
    // main flushed), barn_shrink (nothing left there), then the empty slab goes.
    k.kmemCacheShrink(c);
    expect(stat('sheaf_flush')).toBe(8);
    expect(stat('sheaf_free')).toBe(1);
    expect(active(k, 'sheaf_obj')).toBe(0);
    expect(attr('slabs')).toBe('0\n');
  });

  it('capacity 1: barn_put up to MAX_FULL_SHEAVES, then barn_put_fail flushes the spare', () => {
    const { k, c, attr, stat } = setup(1, 1);
    const objs: number[] = [];
    for (let j = 0; j < 30; j++) objs.push(k.kmemCacheAlloc(c, GFP_KERNEL));
    // Each allocation: main empty, barn without full sheaves (BARN_GET_FAIL),
    // refill one object; the first makes a new sheaf, the others reuse the
    // barn's empty one, the empty main going back each time.
    expect(stat('barn_get_fail')).toBe(30);
    expect(stat('sheaf_refill')).toBe(30);
    expect(stat('sheaf_alloc')).toBe(2);
    expect(stat('alloc_cpu_sheaf')).toBe(30);
    for (const o of objs) k.kmemCacheFree(c, o);
    // free 1 fills main; free 2 takes the barn's empty sheaf (main -> spare);
    // frees 3..12: both full, the barn has no empty one but fewer than 10
    // full: a new empty sheaf, main to the barn (BARN_PUT) -- 10 of them;
    // frees 13..30: the barn is at its limit (BARN_PUT_FAIL), the full spare
    // is flushed to its slab and installed: main -> spare, it -> main.
    expect(stat('free_cpu_sheaf')).toBe(30);
    expect(stat('sheaf_alloc')).toBe(12);
    expect(stat('barn_put')).toBe(10);
    expect(stat('barn_put_fail')).toBe(18);
    expect(stat('sheaf_flush')).toBe(18);
    // Main, spare and 10 full sheaves of the barn hold 12 objects: active.
    expect(active(k, 'sheaf_obj')).toBe(12);
    expect(k.slub.sheaves.caches[sid(k, c)]!.nrFull).toBe(10);
    k.kmemCacheShrink(c);
    // pcs_flush_all: spare (1) flushed and freed, main (1) flushed; barn_shrink: 10 flushed, 10 freed.
    expect(stat('sheaf_flush')).toBe(30);
    expect(stat('sheaf_free')).toBe(11);
    expect(active(k, 'sheaf_obj')).toBe(0);
    expect(attr('total_objects')).toBe('0\n');
    // The next allocation starts over: a new sheaf refilled from a new slab.
    const o = k.kmemCacheAlloc(c, GFP_KERNEL);
    expect(o).not.toBe(0);
    expect(stat('barn_get_fail')).toBe(31);
    expect(stat('sheaf_alloc')).toBe(13);
  });

  it('a full sheaf of the barn serves an empty main (barn_get), on another CPU too', () => {
    const { k, c, stat } = setup(2, 2);
    const objs: number[] = [];
    for (let j = 0; j < 6; j++) objs.push(k.kmemCacheAlloc(c, GFP_KERNEL));
    // Freed on CPU 1: main fills (2), then barn's empty -> main, full -> spare (2 more),
    // then both full and the barn has no empty: new sheaf, main to the barn (BARN_PUT).
    k.onCpu(1, () => {
      for (const o of objs) k.kmemCacheFree(c, o);
    });
    expect(stat('barn_put')).toBe(1);
    expect(k.sys.read('/sys/kernel/slab/sheaf_obj/free_cpu_sheaf')).toBe('6 C1=6\n');
    // CPU 0's main is empty (refills of 2 served allocs 1..6 exactly): BARN_GET trades it for the full sheaf.
    const gets = stat('barn_get');
    const o = k.kmemCacheAlloc(c, GFP_KERNEL);
    expect(stat('barn_get')).toBe(gets + 1);
    expect(objs).toContain(o);
  });

  it('an allocation that may not block and finds no sheaf takes one object from the slabs', () => {
    const { k, c, stat } = setup(1, 4);
    const o = k.kmemCacheAlloc(c, GFP_ATOMIC);
    expect(o).not.toBe(0);
    expect(stat('barn_get_fail')).toBe(1);
    expect(stat('alloc_slowpath')).toBe(1);
    expect(stat('sheaf_refill')).toBe(0);
    expect(stat('alloc_cpu_sheaf')).toBe(0);
    expect(active(k, 'sheaf_obj')).toBe(1);
    k.kmemCacheFree(c, o);
    expect(stat('free_cpu_sheaf')).toBe(1);
  });

  it('kfree of a sheaf object goes to the sheaf; a repeated free of the top entry is caught', () => {
    const { k, c, stat } = setup(1, 4);
    const o = k.kmemCacheAlloc(c, GFP_KERNEL);
    k.kfree(o);
    expect(stat('free_cpu_sheaf')).toBe(1);
    k.kfree(o);
    expect(stat('free_cpu_sheaf')).toBe(1);
    expect(k.dmesg().join('\n')).toMatch(/already the freelist head|BUG/);
  });

  it('bulk: alloc_from_pcs_bulk then the slabs; free_to_pcs_bulk then the slabs', () => {
    const { k, c, stat } = setup(1, 4);
    const out = new Uint32Array(10);
    // The main sheaf is empty and the barn has nothing: all 10 from the slabs.
    expect(k.kmemCacheAllocBulk(c, 10, out)).toBe(10);
    expect(stat('alloc_cpu_sheaf')).toBe(0);
    expect(stat('barn_get_fail')).toBe(1);
    expect(new Set(out).size).toBe(10);
    // Free: main takes 4; full, no spare, no empty sheaf in the barn: the rest to the slabs.
    k.kmemCacheFreeBulk(c, out);
    expect(stat('free_cpu_sheaf')).toBe(4);
    expect(active(k, 'sheaf_obj')).toBe(4);
    // Alloc 6: 4 from the main sheaf, then (no spare, no full sheaf in the barn) 2 from the slabs.
    const out2 = new Uint32Array(6);
    expect(k.kmemCacheAllocBulk(c, 6, out2)).toBe(6);
    expect(stat('alloc_cpu_sheaf')).toBe(4);
    expect(new Set(out2).size).toBe(6);
    k.kmemCacheFreeBulk(c, out2);
  });

  it('kmem_cache_destroy flushes every sheaf and gives every slab back', () => {
    const { k, c } = setup(2, 8);
    const before = k.slub.slabPagesUnreclaimable;
    const objs: number[] = [];
    for (let j = 0; j < 100; j++) objs.push(k.onCpu(j & 1, () => k.kmemCacheAlloc(c, GFP_KERNEL)));
    for (let j = 0; j < 100; j++) k.onCpu((j >> 1) & 1, () => k.kmemCacheFree(c, objs[j]!));
    const id = sid(k, c);
    k.kmemCacheDestroy(c);
    expect(k.dmesg().join('\n')).not.toMatch(/still has objects/);
    expect(k.slub.cf[id * CF.FIELDS + CF.NR_SLABS]).toBe(0);
    expect(k.slub.slabPagesUnreclaimable).toBeLessThanOrEqual(before);
    expect(() => k.kmemCacheAlloc(c, GFP_KERNEL)).toThrow(RangeError);
  });
});

describe('sheaves: the preallocation API (kmem_cache_prefill_sheaf and friends)', () => {
  it('prefill takes the spare or the barn, return gives back as spare or to the barn; oversize sheaves', () => {
    const { k, c, stat } = setup(1, 4);
    const api = k.kmallocApi;
    const s = sid(k, c);
    // No spare, nothing in the barn: SLOW, BARN_GET_FAIL, a new sheaf refilled to capacity.
    const a = api.prefillSheaf(s, GFP_KERNEL, 3)!;
    expect(stat('sheaf_prefill_slow')).toBe(1);
    expect(stat('barn_get_fail')).toBe(1);
    expect(stat('sheaf_alloc')).toBe(2);
    expect(stat('sheaf_refill')).toBe(4);
    expect(api.sheafSize(s, a)).toBe(4);
    const got: number[] = [];
    for (let j = 0; j < 4; j++) got.push(api.allocFromSheaf(s, GFP_KERNEL, a));
    expect(api.allocFromSheaf(s, GFP_KERNEL, a)).toBe(0);
    expect(new Set(got).size).toBe(4);
    expect(active(k, 'sheaf_obj')).toBe(4);
    // The CPU has no spare: the (empty) sheaf becomes it.
    api.returnSheaf(s, GFP_KERNEL, a);
    expect(stat('sheaf_return_fast')).toBe(1);
    expect(() => api.sheafSize(s, a)).toThrow(/already returned/);
    // The spare is taken (FAST) and refilled (4 more); returned as the spare again.
    const b = api.prefillSheaf(s, GFP_KERNEL, 2)!;
    expect(stat('sheaf_prefill_fast')).toBe(1);
    expect(stat('sheaf_refill')).toBe(8);
    api.returnSheaf(s, GFP_KERNEL, b);
    expect(stat('sheaf_return_fast')).toBe(2);
    // Two at once: the spare (full, no refill), then a new sheaf (SLOW, BARN_GET_FAIL, refill).
    const c1 = api.prefillSheaf(s, GFP_KERNEL, 1)!;
    const c2 = api.prefillSheaf(s, GFP_KERNEL, 1)!;
    expect(stat('sheaf_prefill_fast')).toBe(2);
    expect(stat('sheaf_prefill_slow')).toBe(2);
    expect(stat('barn_get_fail')).toBe(2);
    expect(stat('sheaf_refill')).toBe(12);
    api.returnSheaf(s, GFP_KERNEL, c1);
    expect(stat('sheaf_return_fast')).toBe(3);
    // The spare is there: SLOW, refilled (already full) and put in the barn.
    api.returnSheaf(s, GFP_KERNEL, c2);
    expect(stat('sheaf_return_slow')).toBe(1);
    expect(stat('barn_put')).toBe(1);
    api.prefillSheaf(s, GFP_KERNEL, 1);
    const d = api.prefillSheaf(s, GFP_KERNEL, 1)!;
    expect(stat('barn_get')).toBe(1);
    expect(api.sheafSize(s, d)).toBe(4);
    // Beyond the capacity: an oversize sheaf of exactly that many objects.
    const big = api.prefillSheaf(s, GFP_KERNEL, 10)!;
    expect(stat('sheaf_prefill_oversize')).toBe(1);
    expect(api.sheafSize(s, big)).toBe(10);
    const first = api.allocFromSheaf(s, GFP_KERNEL, big);
    expect(first).not.toBe(0);
    api.returnSheaf(s, GFP_KERNEL, big);
    // 9 flushed back to the slabs.
    expect(stat('sheaf_flush')).toBe(9);
    for (const o of [...got, first]) k.kmemCacheFree(c, o);
  });

  it('a cache without sheaves has no prefilled sheaves in kmem', () => {
    const k = boot({ memory: '64M', cpus: 1 });
    const c = k.kmemCacheCreate('nosheaf', 64, {});
    expect(() => k.kmallocApi.prefillSheaf(sid(k, c), GFP_KERNEL, 4)).toThrow(/no sheaves/);
  });
});

describe('sheaves under KASAN', () => {
  it('objects pass the KASAN hooks on their way into and out of the sheaves', () => {
    const k = boot({ memory: '64M', cpus: 2, kasan: 'generic' });
    const c = k.kmemCacheCreate('kasan_sheaf', 64, { sheafCapacity: 8 });
    const objs: number[] = [];
    for (let j = 0; j < 40; j++) objs.push(k.kmemCacheAlloc(c, GFP_KERNEL));
    expect(new Set(objs).size).toBe(40);
    k.mem.write32(objs[0]!, 1);
    for (const o of objs) k.kmemCacheFree(c, o);
    // A use after free of an object now in quarantine or a sheaf is reported.
    k.mem.read8(objs[5]!);
    expect(k.dmesg().join('\n')).toMatch(/BUG: KASAN: slab-use-after-free/);
    k.kmemCacheShrink(c);
    k.kmemCacheDestroy(c);
    expect(k.dmesg().join('\n')).not.toMatch(/still has objects/);
  });
});
