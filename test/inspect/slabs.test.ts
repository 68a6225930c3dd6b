/**
 * k.inspect's cache and slab snapshots against SLUB's rules, on driven
 * states of a fresh cache (256-byte objects, SLAB_NO_MERGE so no other
 * user shares it; freelists in address order: no CONFIG_SLAB_FREELIST_RANDOM).
 *
 * The rules used: the first allocation finds no cpu slab and no partial
 * slab, takes a new slab and makes its whole freelist the CPU's lockless
 * c->freelist (the slab is frozen, inuse = objects); later allocations pop
 * c->freelist (the fast path); a free by the owning CPU pushes onto
 * c->freelist, a free by another CPU onto slab->freelist (inuse drops); a
 * cpu slab whose freelists are both empty is dropped to no list (full); the
 * first free into a full slab puts it on the freeing CPU's cpu partial list
 * (unfrozen: since Linux 6.8 only cpu slabs are frozen).
 */
import { describe, expect, it } from 'vitest';
import { boot, GFP_KERNEL, type Kernel, SLAB_HWCACHE_ALIGN, SLAB_NO_MERGE } from '../../src/index.js';
import { OBJ_ALLOCATED, OBJ_FREE_CPU, OBJ_FREE_SLAB, slubStatNames } from '../../src/inspect.js';

const range = (a: number, b: number) => Array.from({ length: b - a }, (_, i) => a + i);

function fresh(cpus = 2, slubStats = false): { k: Kernel; id: number } {
  const k = boot({ memory: '32M', cpus, slubStats });
  const id = k.kmemCacheCreate('inspect_t256', 256, { flags: SLAB_HWCACHE_ALIGN | SLAB_NO_MERGE });
  return { k, id };
}

function allocs(k: Kernel, id: number, cpu: number, n: number): number[] {
  return k.onCpu(cpu, () => range(0, n).map(() => k.kmemCacheAlloc(id, GFP_KERNEL)));
}

describe('k.inspect: one cache', () => {
  it('cacheGeometry(): 256-byte objects, 16 to an order-0 slab', () => {
    const { k, id } = fresh();
    const g = k.inspect.cacheGeometry(id);
    expect(g).toMatchObject({ name: 'inspect_t256', objectSize: 256, size: 256, redLeftPad: 0, order: 0, objects: 16, redZone: false, poison: false });
    expect(g.flags & SLAB_NO_MERGE).toBeTruthy();
    expect(k.inspect.cacheName(id)).toBe('inspect_t256');
    expect(k.inspect.cacheIds()).toContain(id);
    expect(k.inspect.cacheCounters(id)).toEqual({ nrSlabs: 0, nrPartial: 0, totalObjects: 0, allocs: 0, frees: 0, pages: 0 });
    expect(k.inspect.cacheSlabs(id).totals.slabs).toBe(0);
    expect(() => k.inspect.cacheGeometry(9999)).toThrow(RangeError);
  });

  it('after 3 allocations on CPU0: one frozen cpu slab, 13 objects on c->freelist, none on slab->freelist', () => {
    const { k, id } = fresh();
    const objs = allocs(k, id, 0, 3);
    const cpus = k.inspect.kmemCacheCpus(id);
    const slab = Math.floor(objs[0]! / 4096);
    expect(cpus[0]!.slab).toBe(slab);
    expect(cpus[0]!.freelist).toBe(k.inspect.objectAddr(id, slab, 3));
    expect(cpus[0]!.partial).toEqual([]);
    expect(cpus[1]).toEqual({ cpu: 1, slab: -1, freelist: 0, partial: [] });
    expect(objs.map((a) => k.inspect.objectIndex(id, slab, a))).toEqual([0, 1, 2]);

    const d = k.inspect.cacheSlabs(id);
    const s = d.cpus[0]!.slab!;
    expect(s).toMatchObject({ pfn: slab, where: 'cpu', cpu: 0, objects: 16, inuse: 16, frozen: true, handedOut: 3, corrupt: false, accessible: null });
    expect(s.cpuFreelist).toEqual(range(3, 16));
    expect(s.slabFreelist).toEqual([]);
    expect([...s.states]).toEqual([...range(0, 3).map(() => OBJ_ALLOCATED), ...range(3, 16).map(() => OBJ_FREE_CPU)]);
    expect(d.cpus[1]!.slab).toBeNull();
    expect(d.nodePartial).toEqual([]);
    expect(d.full).toEqual([]);
    expect(d.totals).toEqual({ slabs: 1, objects: 16, inuse: 16, handedOut: 3, freeCpu: 13, freeSlab: 0, quarantined: 0 });
    expect(k.inspect.cacheCounters(id)).toMatchObject({ nrSlabs: 1, nrPartial: 0, totalObjects: 16, allocs: 3, frees: 0, pages: 1 });
    expect(k.inspect.slab(id, slab)).toEqual(s);
    expect(k.inspect.slabOf(objs[1]! + 5)).toEqual({ cache: id, head: slab });
  });

  it('a local free goes to the head of c->freelist, a remote free onto slab->freelist', () => {
    const { k, id } = fresh();
    const objs = allocs(k, id, 0, 3);
    const slab = Math.floor(objs[0]! / 4096);
    k.onCpu(0, () => k.kmemCacheFree(id, objs[1]!));
    let s = k.inspect.slab(id, slab);
    expect(s.cpuFreelist).toEqual([1, ...range(3, 16)]);
    expect(s.inuse).toBe(16);
    k.onCpu(1, () => k.kmemCacheFree(id, objs[0]!));
    s = k.inspect.slab(id, slab);
    expect(s.where).toBe('cpu');
    expect(s.slabFreelist).toEqual([0]);
    expect(s.cpuFreelist).toEqual([1, ...range(3, 16)]);
    expect(s.inuse).toBe(15);
    expect(s.frozen).toBe(true);
    expect(s.states[0]).toBe(OBJ_FREE_SLAB);
    expect(s.states[2]).toBe(OBJ_ALLOCATED);
    expect(s.handedOut).toBe(1);
    expect(k.inspect.structPage(slab).slab).toMatchObject({ cache: id, head: slab, inuse: 15, objects: 16, frozen: true, freelist: 0, where: 'cpu', cpu: 0 });
  });

  it('a used-up cpu slab goes to no list; the first free into it puts it on the cpu partial list', () => {
    const { k, id } = fresh();
    const objs = allocs(k, id, 0, 17);
    const first = Math.floor(objs[0]! / 4096);
    const second = Math.floor(objs[16]! / 4096);
    expect(second).not.toBe(first);
    let d = k.inspect.cacheSlabs(id);
    expect(d.cpus[0]!.slab!.pfn).toBe(second);
    expect(d.cpus[0]!.slab!.cpuFreelist).toHaveLength(15);
    expect(d.full.map((s) => [s.pfn, s.where, s.inuse, s.frozen, s.handedOut])).toEqual([[first, 'full', 16, false, 16]]);
    expect(k.inspect.slabWhere(id, first)).toEqual({ where: 'full', cpu: -1 });

    k.onCpu(1, () => k.kmemCacheFree(id, objs[5]!));
    d = k.inspect.cacheSlabs(id);
    expect(d.full).toEqual([]);
    expect(d.cpus[1]!.slab).toBeNull();
    expect(d.cpus[1]!.partial.map((s) => [s.pfn, s.where, s.cpu, s.inuse, s.frozen])).toEqual([[first, 'cpu-partial', 1, 15, false]]);
    expect(d.cpus[1]!.partial[0]!.slabFreelist).toEqual([5]);
    expect(k.inspect.kmemCacheCpus(id)[1]!.partial).toEqual([first]);
    expect(d.totals).toMatchObject({ slabs: 2, objects: 32, handedOut: 16, freeCpu: 15, freeSlab: 1 });
  });

  it('kmem_cache_shrink() flushes the cpu slab to the node partial list with both freelists spliced', () => {
    const { k, id } = fresh(1);
    const objs = allocs(k, id, 0, 3);
    const slab = Math.floor(objs[0]! / 4096);
    k.kmemCacheShrink(id);
    const d = k.inspect.cacheSlabs(id);
    expect(d.cpus[0]!.slab).toBeNull();
    expect(d.nodePartial.map((s) => [s.pfn, s.where, s.inuse, s.frozen])).toEqual([[slab, 'node-partial', 3, false]]);
    expect(d.nodePartial[0]!.slabFreelist.slice().sort((a, b) => a - b)).toEqual(range(3, 16));
    expect(k.inspect.cacheCounters(id).nrPartial).toBe(1);
    expect(k.inspect.structPage(slab).slab?.where).toBe('node-partial');
  });

  it('slubStats(): the first allocation is the slow path with a new slab, the rest the fast path', () => {
    const { k, id } = fresh(2, true);
    allocs(k, id, 1, 3);
    const rows = k.inspect.slubStats(id)!;
    const v = (n: string) => rows.find((r) => r.name === n)!;
    expect(v('alloc_slowpath')).toEqual({ name: 'alloc_slowpath', total: 1, perCpu: [0, 1] });
    expect(v('alloc_slab').total).toBe(1);
    expect(v('alloc_fastpath')).toEqual({ name: 'alloc_fastpath', total: 2, perCpu: [0, 2] });
    const totals = k.inspect.slubStatTotals(id);
    expect(totals).toHaveLength(slubStatNames.length);
    expect(totals[slubStatNames.indexOf('alloc_fastpath')]).toBe(2);
    const plain = fresh(1, false);
    expect(plain.k.inspect.slubStats(plain.id)).toBeNull();
    // Another kernel's handle is refused by name.
    expect(() => plain.k.inspect.slubStats(id)).toThrow(/^cache: /);
  });

  it('kmallocCache() names the kmalloc cache a size goes to, -1 above KMALLOC_MAX_CACHE_SIZE', () => {
    const k = boot({ memory: '32M' });
    const name = (n: number) => k.inspect.cacheName(k.inspect.kmallocCache(n, GFP_KERNEL));
    expect([name(1), name(8), name(9), name(96), name(100), name(192), name(193), name(8192)]).toEqual([
      'kmalloc-8',
      'kmalloc-8',
      'kmalloc-16',
      'kmalloc-96',
      'kmalloc-128',
      'kmalloc-192',
      'kmalloc-256',
      'kmalloc-8k',
    ]);
    expect(k.inspect.kmallocCache(8193, GFP_KERNEL)).toBe(-1);
    expect(k.inspect.kmallocCache(0, GFP_KERNEL)).toBe(-1);
  });

  it('slabinfo() rows carry each cache handle and agree with /proc/slabinfo', () => {
    const { k, id } = fresh();
    allocs(k, id, 0, 20);
    const rows = k.inspect.slabinfo();
    const r = rows.find((x) => x.name === 'inspect_t256')!;
    expect(r).toMatchObject({ id, numObjs: 32, objsize: 256, objperslab: 16, pagesperslab: 1, numSlabs: 2, cacheKb: 8 });
    const line = k.proc
      .read('/proc/slabinfo')
      .split('\n')
      .find((l) => l.startsWith('inspect_t256 '))!
      .split(/\s+/);
    expect([r.activeObjs, r.numObjs]).toEqual([Number(line[1]), Number(line[2])]);
    expect(r.use).toBe(Math.floor((r.activeObjs * 100) / r.numObjs));
  });
});
