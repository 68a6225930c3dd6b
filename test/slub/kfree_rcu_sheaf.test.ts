/**
 * kfree_rcu() through the rcu_free sheaf (6.18's "slab: add sheaf support
 * for batching kfree_rcu() operations"; every cache's under 7.0), worked from
 * __kfree_rcu_sheaf() and rcu_free_sheaf():
 * - the object is pushed on the CPU's rcu_free sheaf, which is taken from an
 *   empty spare, else the barn's empty list, else a new sheaf (free_rcu_sheaf);
 * - a sheaf that fills is detached and handed to call_rcu(); after the grace
 *   period it joins the barn's full list (barn_put) and the next allocation
 *   that finds the main sheaf empty takes it from there (barn_get): the
 *   objects are reused without going back to their slabs;
 * - a partly filled rcu_free sheaf waits until it fills: nothing drains it on
 *   a timer; kvfree_rcu_barrier() flushes it (call_rcu to
 *   rcu_free_sheaf_nobarn: its objects back to the slabs, the sheaf freed);
 * - a cache without sheaves: 6.18 falls back silently to the per-CPU batches;
 *   7.0 counts free_rcu_sheaf_fail for a capacity-0 (debug or boot) cache.
 */
import { describe, expect, it } from 'vitest';
import { boot, GFP_KERNEL, type Kernel } from '../../src/index.js';

const GP = 8_000_000;

/** A stat attribute's total (the number before the per-CPU " Cn=" terms). */
function stat(k: Kernel, cache: string, item: string): number {
  return Number.parseInt(k.sys.read(`/sys/kernel/slab/${cache}/${item}`), 10);
}

describe('kfree_rcu() and the rcu_free sheaf', () => {
  it('6.18 opt-in cache: a full rcu_free sheaf joins the barn a grace period later, and allocations reuse its objects', () => {
    const k = boot({ memory: '64M', slubStats: true });
    const c = k.kmemCacheCreate('rcu_obj', 64, { sheafCapacity: 4 });
    // four allocations: a full sheaf refilled from the slabs becomes main (6.18 puts the empty main in the barn), then popped empty
    const objs = [0, 1, 2, 3].map(() => k.kmemCacheAlloc(c, GFP_KERNEL));
    expect(k.inspect.sheaves(c)!.barnEmpty.length).toBe(1);
    const sheafAlloc0 = stat(k, 'rcu_obj', 'sheaf_alloc');
    for (const o of objs.slice(0, 3)) k.kfreeRcu(o);
    let sn = k.inspect.sheaves(c)!;
    // the rcu_free sheaf came from the barn's empty list: no new sheaf
    expect(sn.cpus[0]!.rcuFree!.objects).toEqual(objs.slice(0, 3));
    expect(sn.barnEmpty.length).toBe(0);
    expect(stat(k, 'rcu_obj', 'sheaf_alloc')).toBe(sheafAlloc0);
    expect(stat(k, 'rcu_obj', 'free_rcu_sheaf')).toBe(3);
    k.kfreeRcu(objs[3]!);
    // full: detached, in its grace period
    sn = k.inspect.sheaves(c)!;
    expect(sn.cpus[0]!.rcuFree).toBe(null);
    expect(sn.barnFull.length).toBe(0);
    const barnPut0 = stat(k, 'rcu_obj', 'barn_put');
    k.tick(GP - 1);
    expect(k.inspect.sheaves(c)!.barnFull.length).toBe(0);
    k.tick(1);
    sn = k.inspect.sheaves(c)!;
    expect(sn.barnFull.map((s) => s.objects)).toEqual([objs]);
    expect(stat(k, 'rcu_obj', 'barn_put')).toBe(barnPut0 + 1);
    // the main sheaf is empty: the barn trades it for the full one, whose top is the last object kfree_rcu'd
    expect(k.kmemCacheAlloc(c, GFP_KERNEL)).toBe(objs[3]);
    expect(stat(k, 'rcu_obj', 'barn_get')).toBe(1);
    // the per-CPU kfree_rcu batches were never used
    expect(k.kvfreeRcu.stats()[0]!.waiting).toBe(0);
  });

  it('6.18: a cache without sheaves takes the per-CPU batches, and no sheaf stat moves', () => {
    const k = boot({ memory: '64M', slubStats: true });
    const x = k.kmalloc(64, GFP_KERNEL);
    k.kfreeRcu(x);
    expect(k.kvfreeRcu.stats()[0]!.waiting).toBe(1);
    expect(stat(k, 'kmalloc-64', 'free_rcu_sheaf')).toBe(0);
    expect(stat(k, 'kmalloc-64', 'free_rcu_sheaf_fail')).toBe(0);
  });

  it('7.0: a partly filled rcu_free sheaf waits (no timer drains it) until kvfree_rcu_barrier flushes it back to the slabs', () => {
    const k = boot({ memory: '64M', kernel: '7.0', slubStats: true });
    const x = k.kmalloc(64, GFP_KERNEL);
    const c = k.kmemCacheByName('kmalloc-64');
    k.kfreeRcu(x);
    expect(stat(k, 'kmalloc-64', 'free_rcu_sheaf')).toBe(1);
    expect(k.kvfreeRcu.stats()[0]!.waiting).toBe(0);
    k.tick(60_000_000_000);
    expect(k.inspect.sheaves(c)!.cpus[0]!.rcuFree!.objects).toEqual([x]);
    const flush0 = stat(k, 'kmalloc-64', 'sheaf_flush');
    const sheafFree0 = stat(k, 'kmalloc-64', 'sheaf_free');
    k.kvfreeRcuBarrier();
    expect(k.inspect.sheaves(c)!.cpus[0]!.rcuFree).toBe(null);
    // rcu_free_sheaf_nobarn(): the object flushed to its slab, the sheaf freed
    expect(stat(k, 'kmalloc-64', 'sheaf_flush')).toBe(flush0 + 1);
    expect(stat(k, 'kmalloc-64', 'sheaf_free')).toBe(sheafFree0 + 1);
  });

  it("7.0: sixty kfree_rcu()s fill a 96-byte cache's rcu_free sheaf; none of them comes back before the grace period, all of them after", () => {
    const k = boot({ memory: '64M', kernel: '7.0' });
    const c = k.kmemCacheCreate('rcu70_reuse', 96);
    expect(k.inspect.sheaves(c)!.capacity).toBe(60);
    const objs = Array.from({ length: 60 }, () => k.kmemCacheAlloc(c, GFP_KERNEL));
    for (const o of objs) k.kfreeRcu(o);
    const queued = new Set(objs);
    k.tick(GP - 1);
    // 200 allocations inside the grace period: sheaves refilled from the slabs, never from the rcu_free sheaf
    const during = Array.from({ length: 200 }, () => k.kmemCacheAlloc(c, GFP_KERNEL));
    expect(during.filter((o) => queued.has(o))).toEqual([]);
    k.tick(1);
    expect(k.inspect.sheaves(c)!.barnFull.map((x) => x.objects)).toEqual([objs]);
    // drain the main sheaf; the next refill is the barn's full sheaf: the sixty, last queued first
    const main = k.inspect.sheaves(c)!.cpus[0]!.main!.objects.length;
    for (let i = 0; i < main; i++) k.kmemCacheAlloc(c, GFP_KERNEL);
    const after = Array.from({ length: 60 }, () => k.kmemCacheAlloc(c, GFP_KERNEL));
    expect(after).toEqual([...objs].reverse());
  });

  it('7.0: a debug cache (sheaf capacity 0) counts free_rcu_sheaf_fail and falls back to the batches', () => {
    const k = boot({ memory: '64M', kernel: '7.0', slubStats: true, slubDebug: 'F,dbg_rcu' });
    const c = k.kmemCacheCreate('dbg_rcu', 64);
    const o = k.kmemCacheAlloc(c, GFP_KERNEL);
    k.kfreeRcu(o);
    expect(stat(k, 'dbg_rcu', 'free_rcu_sheaf_fail')).toBe(1);
    expect(stat(k, 'dbg_rcu', 'free_rcu_sheaf')).toBe(0);
    expect(k.kvfreeRcu.stats()[0]!.waiting).toBe(1);
    k.kmemCacheDestroy(c);
    expect(k.dmesg().join('\n')).not.toMatch(/still has objects/);
  });

  it('7.0: kmem_cache_destroy after kfree_rcu into a sheaf leaves nothing behind', () => {
    const k = boot({ memory: '64M', kernel: '7.0' });
    const c = k.kmemCacheCreate('rcu70', 128);
    const objs = Array.from({ length: 100 }, () => k.kmemCacheAlloc(c, GFP_KERNEL));
    for (const o of objs) k.kfreeRcu(o);
    k.kmemCacheDestroy(c);
    expect(k.dmesg().join('\n')).not.toMatch(/still has objects/);
  });
});
