/**
 * The caches panel's view-model: the slabinfo rows, and for one cache every
 * slab with its objects' states and its free pointers as arrows, checked
 * against SLUB's rules and against /proc/slabinfo.
 */
import { describe, expect, it } from 'vitest';
import { SLAB_HWCACHE_ALIGN, SLAB_NO_MERGE } from '../../src/slub/slab_flags.js';
import {
  allSlabs,
  cacheDetail,
  cacheRows,
  filterRows,
  freelistArrows,
  O_ALLOC,
  O_FREE_CPU,
  O_FREE_SLAB,
  objectIndex,
  slabinfoCounts,
  sortRows,
} from '../../web/model/caches.js';
import type { Op } from '../../web/model/ops.js';
import { Session } from '../../web/model/session.js';
import { workloadById } from '../../web/model/workloads.js';

const DEMO: Op = { t: 'create', name: 'demo_obj', size: 256, flags: SLAB_HWCACHE_ALIGN | SLAB_NO_MERGE };

function procLine(s: Session, name: string): number[] {
  const line = s.k.proc
    .read('/proc/slabinfo')
    .split('\n')
    .find((l) => l.split(/\s+/)[0] === name);
  if (!line) throw new Error(`${name} not in /proc/slabinfo`);
  const f = line.split(/\s+/);
  // name active_objs num_objs objsize objperslab pagesperslab : tunables 0 0 0 : slabdata active num 0
  return [Number(f[1]), Number(f[2]), Number(f[14])];
}

describe('one cache, one slab', () => {
  const ops: Op[] = [
    DEMO,
    { t: 'alloc', cpu: 0, cache: 'demo_obj', h: 1 },
    { t: 'alloc', cpu: 0, cache: 'demo_obj', h: 2 },
    { t: 'alloc', cpu: 0, cache: 'demo_obj', h: 3 },
    { t: 'alloc', cpu: 0, cache: 'demo_obj', h: 4 },
    { t: 'free', cpu: 0, h: 1 },
    { t: 'free', cpu: 1, h: 2 },
  ];

  it('a remote free lands on slab->freelist, a local one on c->freelist', () => {
    const s = new Session({ memory: '32M', cpus: 2, seed: 1, kasan: false }, null, ops);
    s.seek(5);
    const addrA = s.addrOf(1);
    const addrB = s.addrOf(2);
    s.seek(7);
    const id = s.cacheId('demo_obj');
    const d = cacheDetail(s.k, id);
    expect(d.geometry.objects).toBe(16);
    const slab = d.cpus[0]!.slab!;
    expect(slab).not.toBeNull();
    expect(d.cpus[1]!.slab).toBeNull();
    const a = objectIndex(s.k, id, slab.pfn, addrA);
    const b = objectIndex(s.k, id, slab.pfn, addrB);
    expect([a, b]).toEqual([0, 1]);
    // c->freelist: A pushed in front of the 12 objects never handed out.
    expect(slab.cpuFreelist).toEqual([0, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15]);
    expect(slab.slabFreelist).toEqual([1]);
    expect(slab.states[0]).toBe(O_FREE_CPU);
    expect(slab.states[1]).toBe(O_FREE_SLAB);
    expect(slab.states[2]).toBe(O_ALLOC);
    expect(slab.states[3]).toBe(O_ALLOC);
    // inuse counts everything not on slab->freelist: 16 - 1.
    expect(slab.inuse).toBe(15);
    expect(slab.frozen).toBe(true);
    expect(slab.handedOut).toBe(2);
    const arrows = freelistArrows(slab);
    expect(arrows.filter((x) => x.list === 'cpu')).toHaveLength(12);
    expect(arrows.filter((x) => x.list === 'slab')).toHaveLength(0);
    expect(arrows[0]).toEqual({ from: 0, to: 4, list: 'cpu', seq: 0 });
    expect(arrows[11]).toEqual({ from: 14, to: 15, list: 'cpu', seq: 11 });
    expect(slabinfoCounts(d)).toEqual({ numObjs: 16, activeObjs: 16, numSlabs: 1 });
    expect(procLine(s, 'demo_obj')).toEqual([16, 16, 1]);
  });

  it('after kmem_cache_shrink the slab is on the node partial list with inuse = objects handed out', () => {
    const s = new Session({ memory: '32M', cpus: 2, seed: 1, kasan: false }, null, [...ops, { t: 'shrink', cpu: 0, cache: 'demo_obj' }]);
    s.seek(8);
    const id = s.cacheId('demo_obj');
    const d = cacheDetail(s.k, id);
    expect(d.cpus.every((c) => c.slab === null && c.partial.length === 0)).toBe(true);
    expect(d.nodePartial).toHaveLength(1);
    const slab = d.nodePartial[0]!;
    expect(slab.where).toBe('node-partial');
    expect(slab.inuse).toBe(2);
    expect(slab.frozen).toBe(false);
    // deactivate_slab spliced c->freelist in front of slab->freelist.
    expect(slab.slabFreelist).toEqual([0, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 1]);
    expect(freelistArrows(slab).filter((x) => x.list === 'slab')).toHaveLength(13);
    // /proc/slabinfo counts the node partial slab's free objects as free.
    expect(slabinfoCounts(d)).toEqual({ numObjs: 16, activeObjs: 2, numSlabs: 1 });
    expect(procLine(s, 'demo_obj')).toEqual([2, 16, 1]);
  });

  it('a full slab is found although it is on no list', () => {
    const fill: Op[] = [DEMO];
    for (let h = 1; h <= 17; h++) fill.push({ t: 'alloc', cpu: 0, cache: 'demo_obj', h });
    const s = new Session({ memory: '32M', cpus: 1, seed: 1, kasan: false }, null, fill);
    s.seek(fill.length);
    const d = cacheDetail(s.k, s.cacheId('demo_obj'));
    expect(d.full).toHaveLength(1);
    expect(d.full[0]!.inuse).toBe(16);
    expect(d.full[0]!.handedOut).toBe(16);
    expect(d.cpus[0]!.slab!.handedOut).toBe(1);
    expect(d.totals).toMatchObject({ slabs: 2, objects: 32, handedOut: 17 });
  });
});

describe('every cache after a workload', () => {
  it('the slabs drawn hold exactly the objects /proc/slabinfo counts', () => {
    const s = new Session({ memory: '64M', cpus: 4, seed: 3, kasan: false }, workloadById('boot')!.make(4, 3));
    s.seek(4000);
    let checked = 0;
    for (const row of cacheRows(s.k)) {
      const d = cacheDetail(s.k, row.id);
      const c = slabinfoCounts(d);
      expect([row.name, c.numObjs, c.activeObjs, c.numSlabs]).toEqual([row.name, row.numObjs, row.activeObjs, row.numSlabs]);
      const slabs = allSlabs(d);
      expect(new Set(slabs.map((x) => x.pfn)).size).toBe(slabs.length);
      for (const x of slabs) {
        expect(x.corrupt).toBe(false);
        // Every object is in exactly one state; free ones are on exactly one list.
        expect(x.cpuFreelist.length + x.slabFreelist.length + x.handedOut).toBe(x.objects);
        expect(x.objects - x.slabFreelist.length).toBe(x.inuse);
      }
      if (d.totals.slabs > 0) checked++;
    }
    expect(checked).toBeGreaterThan(10);
  });
});

describe('the slabinfo table', () => {
  it('sorts by any column and filters by name', () => {
    const s = new Session({ memory: '32M', cpus: 1, seed: 1, kasan: false });
    s.k.kmalloc(100, 0xcc0);
    const rows = cacheRows(s.k);
    const bySize = sortRows(rows, 'objsize', true);
    for (let i = 1; i < bySize.length; i++) expect(bySize[i - 1]!.objsize).toBeGreaterThanOrEqual(bySize[i]!.objsize);
    const byName = sortRows(rows, 'name', false);
    expect(byName.map((r) => r.name)).toEqual([...rows.map((r) => r.name)].sort((a, b) => a.localeCompare(b)));
    const k128 = filterRows(rows, 'KMALLOC-12', false).map((r) => r.name);
    expect(k128).toContain('kmalloc-128');
    expect(k128.every((n) => n.includes('kmalloc-12'))).toBe(true);
    const nonEmpty = filterRows(rows, '', true);
    expect(nonEmpty.every((r) => r.numSlabs > 0)).toBe(true);
    expect(nonEmpty.map((r) => r.name)).toContain('kmalloc-128');
    const r128 = rows.find((r) => r.name === 'kmalloc-128')!;
    expect(r128.cacheKb).toBe(r128.numSlabs * r128.pagesperslab * 4);
  });
});
