/**
 * k.inspect on a KASAN machine (accessible bytes per object, quarantined
 * objects, the structured reports), and the promise every method makes:
 * results are copies, so mutating one changes nothing in the machine or in
 * the next snapshot.
 */
import { describe, expect, it } from 'vitest';
import { boot, GFP_KERNEL, SLAB_HWCACHE_ALIGN, SLAB_NO_MERGE } from '../../src/index.js';
import { accessibleBytes, OBJ_QUARANTINED } from '../../src/inspect.js';

describe('k.inspect on a KASAN machine', () => {
  it('a kmalloc(100) object has 100 accessible bytes; a freed one is quarantined, on no freelist', () => {
    const k = boot({ memory: '32M', cpus: 1, kasan: 'generic' });
    expect(k.inspect.kasanEnabled).toBe(true);
    const a = k.kmalloc(100, GFP_KERNEL);
    const b = k.kmalloc(100, GFP_KERNEL);
    k.kfree(b);
    const id = k.kmemCacheByName('kmalloc-128');
    const { head } = k.inspect.slabOf(a);
    const s = k.inspect.slab(id, head);
    const ia = k.inspect.objectIndex(id, head, a);
    const ib = k.inspect.objectIndex(id, head, b);
    expect(s.accessible![ia]).toBe(100);
    expect(s.states[ib]).toBe(OBJ_QUARANTINED);
    expect(s.cpuFreelist).not.toContain(ib);
    expect(s.slabFreelist).not.toContain(ib);
    expect(k.inspect.cacheSlabs(id).totals.quarantined).toBe(1);
    // kmalloc-128's redzone past the 100 requested bytes: 96 + 4 accessible, then KASAN_SLAB_REDZONE.
    const sh = k.inspect.shadow(a, 128)!;
    expect(sh[12]).toBe(4);
    expect(accessibleBytes(sh, 0, 128)).toBe(100);
  });

  it('kasanReports() gives the report’s fields: an out-of-bounds read 0 bytes right of a 100-byte region', () => {
    const k = boot({ memory: '32M', cpus: 1, kasan: 'generic' });
    const a = k.kmalloc(100, GFP_KERNEL);
    k.mem.read8(a + 100);
    const [r, ...rest] = k.inspect.kasanReports();
    expect(rest).toEqual([]);
    expect(r).toMatchObject({
      bugType: 'slab-out-of-bounds',
      access: 'read',
      size: 1,
      addr: a + 100,
      cache: 'kmalloc-128',
      object: a,
      objectSize: 128,
      allocSize: 100,
      relation: 'to the right',
      relBytes: 0,
    });
    expect(r!.lines.find((l) => l.startsWith('BUG: KASAN:'))).toMatch(/^BUG: KASAN: slab-out-of-bounds in /);
  });

  it('without KASAN: no shadow, no reports, no accessible bytes', () => {
    const k = boot({ memory: '16M', cpus: 1 });
    expect(k.inspect.kasanEnabled).toBe(false);
    expect(k.inspect.kasanReports()).toEqual([]);
    const a = k.kmalloc(100, GFP_KERNEL);
    const { cache, head } = k.inspect.slabOf(a);
    expect(k.inspect.slab(cache, head).accessible).toBeNull();
  });
});

describe('k.inspect results are copies', () => {
  it('mutating a snapshot changes neither the machine nor the next snapshot', () => {
    const k = boot({ memory: '32M', cpus: 2, slubStats: true, kasan: 'generic' });
    const id = k.kmemCacheCreate('inspect_copy', 256, { flags: SLAB_HWCACHE_ALIGN | SLAB_NO_MERGE });
    const objs = [0, 1, 2, 3].map(() => k.kmemCacheAlloc(id, GFP_KERNEL));
    k.onCpu(1, () => k.kmemCacheFree(id, objs[1]!));
    const p = k.kmalloc(100, GFP_KERNEL);
    k.mem.read8(p + 100);
    const { head } = k.inspect.slabOf(objs[0]!);

    const take = () => ({
      detail: k.inspect.cacheSlabs(id),
      slab: k.inspect.slab(id, head),
      cpus: k.inspect.kmemCacheCpus(id),
      geometry: k.inspect.cacheGeometry(id),
      counters: k.inspect.cacheCounters(id),
      stats: k.inspect.slubStats(id),
      totals: k.inspect.slubStatTotals(id),
      ids: k.inspect.cacheIds(),
      slabinfo: k.inspect.slabinfo(),
      states: k.inspect.pageStates(),
      mts: k.inspect.pageblockMigratetypes(),
      areas: k.inspect.freeAreas(),
      counts: k.inspect.pageAllocCounters(),
      page: k.inspect.structPage(head),
      reports: k.inspect.kasanReports(),
      shadow: k.inspect.shadow(p, 128),
    });
    const a = take();
    const fingerprint = JSON.stringify(take(), (_, v) => (ArrayBuffer.isView(v) ? Array.from(v as Uint8Array) : v));
    const freeBefore = k.proc.read('/proc/buddyinfo');

    // Scribble over everything the first snapshot holds.
    a.detail.cpus[0]!.slab!.states.fill(7);
    a.detail.cpus[0]!.slab!.cpuFreelist.length = 0;
    a.detail.cpus[0]!.slab!.slabFreelist.push(99);
    a.detail.cpus[0]!.slab!.accessible!.fill(1);
    a.detail.totals.slabs = 1000;
    a.detail.geometry.size = 1;
    a.slab.states[0] = 9;
    a.cpus[0]!.partial.push(123);
    a.cpus[0]!.slab = -5;
    a.geometry.objects = 0;
    a.counters.allocs = -1;
    a.stats![0]!.perCpu[0] = 1e9;
    a.totals.fill(5);
    a.ids.push(77);
    a.slabinfo[0]!.numObjs = -1;
    a.states.state.fill(0);
    a.states.cache.fill(42);
    a.states.head.fill(0);
    a.mts.fill(3);
    a.areas[0]!.free[0]![0] = -1;
    a.areas[0]!.nrFree.fill(0);
    a.counts.nrFree.fill(9);
    a.page.slab!.inuse = 0;
    a.reports[0]!.lines.push('x');
    a.reports[0]!.lines[0] = 'changed';
    a.shadow!.fill(0xff);

    expect(JSON.stringify(take(), (_, v) => (ArrayBuffer.isView(v) ? Array.from(v as Uint8Array) : v))).toBe(fingerprint);
    expect(k.proc.read('/proc/buddyinfo')).toBe(freeBefore);
    // The machine still allocates from the freelist the snapshot showed: objects 0-3 went out, 1 came back remotely.
    expect(take().slab.cpuFreelist[0]).toBe(4);
    const next = k.kmemCacheAlloc(id, GFP_KERNEL);
    expect(k.inspect.objectIndex(id, head, next)).toBe(4);
  });
});
