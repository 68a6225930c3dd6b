/**
 * Sessions: the path each operation took, read from counter deltas, and
 * time travel (going back rebuilds the same state by replay).
 */
import { describe, expect, it } from 'vitest';
import { __GFP_NOWARN, GFP_HIGHUSER_MOVABLE } from '../../src/page_alloc/gfp.js';
import { SLAB_HWCACHE_ALIGN, SLAB_NO_MERGE } from '../../src/slub/slab_flags.js';
import { cacheDetail } from '../../web/model/caches.js';
import { describeOp, opChips } from '../../web/model/describe.js';
import { ListSource, type Op } from '../../web/model/ops.js';
import { Session } from '../../web/model/session.js';
import { WORKLOADS, workloadById } from '../../web/model/workloads.js';

const cfg = { memory: '32M', cpus: 2, seed: 1, kasan: false };
const chips = (s: Session, i: number) => opChips(s, i).map((c) => c.id);

function snapshot(s: Session): string {
  return ['/proc/slabinfo', '/proc/buddyinfo', '/proc/pagetypeinfo', '/proc/vmstat'].map((f) => s.k.proc.read(f)).join('\n');
}

describe('paths', () => {
  it('names new slab, fast path, remote free, refill, bypass and the cpu partial list', () => {
    const ops: Op[] = [{ t: 'create', name: 'demo_obj', size: 256, flags: SLAB_HWCACHE_ALIGN | SLAB_NO_MERGE }];
    for (let h = 1; h <= 4; h++) ops.push({ t: 'alloc', cpu: 0, cache: 'demo_obj', h });
    ops.push({ t: 'free', cpu: 0, h: 1 }, { t: 'free', cpu: 1, h: 2 });
    for (let h = 5; h <= 17; h++) ops.push({ t: 'alloc', cpu: 0, cache: 'demo_obj', h });
    ops.push({ t: 'alloc', cpu: 0, cache: 'demo_obj', h: 18 }, { t: 'alloc', cpu: 0, cache: 'demo_obj', h: 19 }, { t: 'free', cpu: 1, h: 3 });
    const s = new Session(cfg, null, ops);
    s.seek(ops.length);
    expect(chips(s, 1)).toContain('new-slab');
    expect(chips(s, 1)).toContain('pcp-alloc');
    expect(chips(s, 2)).toEqual(['fast']);
    expect(chips(s, 5)).toEqual(['fast-free']);
    expect(chips(s, 6)).toEqual(['remote-free']);
    expect(opChips(s, 6)[0]!.label).toBe('remote free to slab->freelist (CPU0’s cpu slab)');
    // 13 objects were on c->freelist after A came back: the 14th allocation refills from slab->freelist.
    for (let i = 7; i <= 19; i++) expect(chips(s, i)).toEqual(['fast']);
    expect(chips(s, 20)).toEqual(['refill']);
    expect(s.rec.addr[20]).toBe(s.rec.addr[2]);
    expect(chips(s, 21)).toEqual(expect.arrayContaining(['bypass', 'new-slab']));
    expect(chips(s, 22)).toEqual(['free-slow', 'to-cpu-partial']);
    expect(describeOp(s, 6)).toMatch(/^CPU1 kmem_cache_free\(demo_obj, ffff8880[0-9a-f]{8}\)$/);
    expect(describeOp(s, 1)).toMatch(/^CPU0 kmem_cache_alloc\(demo_obj\) = ffff8880[0-9a-f]{8}$/);
  });

  it('names buddy splits and merges, the pcp lists and their drain', () => {
    const mov = GFP_HIGHUSER_MOVABLE;
    const ops: Op[] = [
      { t: 'pages', cpu: 0, order: 4, gfp: mov, h: 1 },
      { t: 'pages', cpu: 0, order: 4, gfp: mov, h: 2 },
      { t: 'freepages', cpu: 0, h: 1 },
      { t: 'freepages', cpu: 0, h: 2 },
      { t: 'pages', cpu: 0, order: 0, gfp: mov, h: 3 },
      { t: 'freepages', cpu: 0, h: 3 },
      { t: 'drain' },
    ];
    const s = new Session({ ...cfg, memory: '64M' }, null, ops);
    s.seek(ops.length);
    expect(chips(s, 0)).toEqual(['zone-alloc', 'buddy-split']);
    expect(opChips(s, 0)[1]!.label).toBe('buddy split from order 10');
    expect(chips(s, 1)).toEqual(['zone-alloc']);
    expect(chips(s, 2)).toEqual(['zone-free']);
    expect(chips(s, 3)).toEqual(['zone-free', 'buddy-merge']);
    expect(opChips(s, 3)[1]!.label).toBe('buddy merge up to order 10');
    expect(chips(s, 4)).toEqual(expect.arrayContaining(['pcp-alloc', 'pcp-refill', 'buddy-split']));
    expect(chips(s, 5)).toEqual(['pcp-free']);
    expect(chips(s, 6)).toEqual(expect.arrayContaining(['pcp-drain', 'buddy-merge']));
    expect(describeOp(s, 0)).toMatch(/^CPU0 alloc_pages\(GFP_HIGHUSER_MOVABLE, order 4\) = pfn [0-9a-f]+$/);
  });

  it('names deactivate_slab, node partial and an empty slab going back', () => {
    const ops: Op[] = [{ t: 'create', name: 'demo_obj', size: 256, flags: SLAB_HWCACHE_ALIGN | SLAB_NO_MERGE }];
    for (let h = 1; h <= 3; h++) ops.push({ t: 'alloc', cpu: 0, cache: 'demo_obj', h });
    ops.push({ t: 'free', cpu: 1, h: 2 }, { t: 'shrink', cpu: 0, cache: 'demo_obj' }, { t: 'alloc', cpu: 0, cache: 'demo_obj', h: 4 });
    ops.push({ t: 'free', cpu: 0, h: 1 }, { t: 'free', cpu: 0, h: 3 }, { t: 'free', cpu: 0, h: 4 }, { t: 'shrink', cpu: 0, cache: 'demo_obj' });
    const s = new Session(cfg, null, ops);
    s.seek(ops.length);
    expect(chips(s, 5)).toEqual(['deactivate']);
    expect(chips(s, 6)).toEqual(['node-partial']);
    expect(chips(s, 10)).toEqual(expect.arrayContaining(['deactivate', 'slab-freed']));
  });

  it('a failed allocation and a refused call are named as such', () => {
    const s = new Session(cfg, null, [
      { t: 'pages', cpu: 0, order: 10, gfp: GFP_HIGHUSER_MOVABLE | __GFP_NOWARN, h: 1 },
      { t: 'alloc', cpu: 0, cache: 'no_such_cache', h: 2 },
    ]);
    for (let i = 0; i < 40; i++) s.ops.splice(1, 0, { t: 'pages', cpu: 0, order: 10, gfp: GFP_HIGHUSER_MOVABLE | __GFP_NOWARN, h: 3 + i });
    s.seek(s.ops.length);
    expect(chips(s, s.ops.length - 2)).toEqual(['failed']);
    expect(chips(s, s.ops.length - 1)).toEqual(['error']);
    expect(s.lastError?.message).toMatch(/no_such_cache/);
  });
});

describe('slub_debug', () => {
  it('a debug cache takes every object on the slow path and shows its red zones and poisoning', () => {
    const s = new Session({ ...cfg, slubDebug: 'FZPU' }, null, [
      { t: 'kmalloc', cpu: 0, size: 64, h: 1 },
      { t: 'kmalloc', cpu: 0, size: 64, h: 2 },
      { t: 'free', cpu: 0, h: 1 },
    ]);
    s.seek(3);
    expect(chips(s, 1)).toEqual(['slow']);
    expect(chips(s, 2)).toContain('free-slow');
    const d = cacheDetail(s.k, s.k.kmemCacheByName('kmalloc-64'));
    expect(d.geometry).toMatchObject({ redZone: true, poison: true });
    expect(d.geometry.redLeftPad).toBeGreaterThan(0);
    expect(d.cpus.every((c) => c.slab === null)).toBe(true);
    expect(d.totals.handedOut).toBe(1);
  });
});

describe('time travel', () => {
  it('going back rebuilds exactly the state a fresh replay reaches, and going forward again returns', () => {
    const s = new Session({ memory: '64M', cpus: 4, seed: 5, kasan: false }, workloadById('boot')!.make(4, 5));
    s.seek(3000);
    const at3000 = snapshot(s);
    const bits = Array.from(s.rec.bits.slice(0, 3000));
    s.seek(1200);
    expect(s.pos).toBe(1200);
    const fresh = new Session({ memory: '64M', cpus: 4, seed: 5, kasan: false }, null, s.ops.slice(0, 1200));
    fresh.seek(1200);
    expect(snapshot(s)).toBe(snapshot(fresh));
    s.seek(3000);
    expect(snapshot(s)).toBe(at3000);
    // The recorded paths stay as measured the first time.
    expect(Array.from(s.rec.bits.slice(0, 3000))).toEqual(bits);
    expect(s.rec.n).toBe(3000);
  });

  it('step and run move one operation and n operations; a finished list stops', () => {
    const s = new Session(
      cfg,
      new ListSource('two', [
        { t: 'kmalloc', cpu: 0, size: 8, h: 1 },
        { t: 'free', cpu: 1, h: 1 },
      ]),
    );
    expect(s.step()).toBe(true);
    expect(s.addrOf(1)).toBeGreaterThan(0);
    expect(s.run(10)).toBe(1);
    expect(s.addrOf(1)).toBe(0);
    expect(s.step()).toBe(false);
    expect(s.canStep()).toBe(false);
    s.seek(1);
    expect(s.addrOf(1)).toBeGreaterThan(0);
  });

  it('every workload is deterministic for its seed', () => {
    for (const w of WORKLOADS) {
      const a = new Session(cfg, w.make(2, 9));
      const b = new Session(cfg, w.make(2, 9));
      a.seek(1500);
      b.seek(1500);
      expect(JSON.stringify(a.ops)).toBe(JSON.stringify(b.ops));
      expect(snapshot(a)).toBe(snapshot(b));
    }
  });
});
