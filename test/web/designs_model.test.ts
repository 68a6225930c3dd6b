/**
 * The Designs view's model and the k.inspect snapshots it draws from, in
 * node: the scenarios' states worked by hand from the kernel's rules (see
 * test/web/designs.test.ts for the working), the snapshots' copies, and the
 * --compare JSON reader's refusals.
 */
import { describe, expect, it } from 'vitest';
import { boot } from '../../src/index.js';
import { compareFromJson, DESIGN_SCENARIOS, DesignLab } from '../../web/model/designs.js';

const GFP_KERNEL = 0xcc0;

describe('the Designs model', () => {
  it('SLAB: the first allocation refills 16 (BATCHREFILL_LIMIT) from one new slab and pops one', () => {
    const l = new DesignLab('slab', 1);
    DESIGN_SCENARIOS.find((s) => s.id === 'slab')!.steps[0]!.run(l);
    const s = l.slab()!;
    expect(s.limit).toBe(120);
    expect(s.batchcount).toBe(60);
    expect(s.objperslab).toBe(16);
    expect(s.cpus.map((c) => c.objects.length)).toEqual([15, 0]);
    expect([s.partial.length, s.full.length, s.free.length]).toEqual([0, 1, 0]);
    expect(s.full[0]!.active).toBe(16);
    // the object handed out is the one that was on top of the array: not on it any more
    expect(s.cpus[0]!.objects).not.toContain(l.live[0]);
  });

  it('sheaves: refill to capacity, the spare and the barn as the frees fill them', () => {
    const l = new DesignLab('sheaves', 1);
    const steps = DESIGN_SCENARIOS.find((s) => s.id === 'sheaves')!.steps;
    steps[0]!.run(l);
    expect(l.sheaves()!.cpus[0]!.main!.objects).toHaveLength(7);
    steps[1]!.run(l);
    steps[2]!.run(l);
    const s = l.sheaves()!;
    expect([s.cpus[1]!.main!.objects.length, s.cpus[1]!.spare!.objects.length]).toEqual([7, 8]);
    expect(s.barnFull.map((x) => x.objects.length)).toEqual([8, 8]);
    steps[3]!.run(l);
    const t = l.sheaves()!;
    expect([t.barnFull.length, t.barnEmpty.length]).toEqual([0, 2]);
    // kfree_rcu: CPU 0's rcu_free sheaf comes from the barn's empty list, fills at 8, goes to call_rcu, and joins the barn a grace period later
    const queued = l.live.slice(0, 8);
    steps[4]!.run(l);
    expect(l.sheaves()!.cpus[0]!.rcuFree!.objects).toEqual(queued.slice(0, 5));
    expect(l.sheaves()!.barnEmpty).toHaveLength(1);
    steps[5]!.run(l);
    expect(l.sheaves()!.cpus[0]!.rcuFree).toBe(null);
    expect(l.sheaves()!.barnFull).toHaveLength(0);
    steps[6]!.run(l);
    expect(l.sheaves()!.barnFull.map((x) => x.objects)).toEqual([queued]);
  });

  it('k.inspect.sheaves() is null for a cache without sheaves and under another design; slabLists() null off SLAB', () => {
    const k = boot({ memory: '64M', cpus: 2 });
    const c = k.kmemCacheCreate('plain', 64);
    expect(k.inspect.sheaves(c)).toBeNull();
    expect(k.inspect.slabLists(c)).toBeNull();
    const slob = boot({ memory: '64M', allocator: 'slob' });
    expect(slob.inspect.sheaves(slob.kmemCacheCreate('x', 64))).toBeNull();
  });

  it('snapshots are copies: freeing after one leaves it as it was', () => {
    const k = boot({ memory: '64M', cpus: 1, allocator: 'slab' });
    const c = k.kmemCacheCreate('obj', 128);
    const a = k.kmemCacheAlloc(c, GFP_KERNEL);
    const before = k.inspect.slabLists(c)!;
    const n = before.cpus[0]!.objects.length;
    k.kmemCacheFree(c, a);
    expect(before.cpus[0]!.objects).toHaveLength(n);
    expect(k.inspect.slabLists(c)!.cpus[0]!.objects).toHaveLength(n + 1);
    expect(k.inspect.slabLists(c)!.cpus[0]!.objects.at(-1)).toBe(a);
  });

  it('reads kmem replay --compare --json, and names what is missing otherwise', () => {
    const t = compareFromJson(
      JSON.stringify({
        configurations: [
          { label: 'allocator=slab', slab: { kB: 264 }, partial: { freeBytes: 2048 }, waste: { internal: 1024 }, slowpath: { alloc: 6 } },
          { label: 'allocator=slob', slab: { kB: 68 }, partial: { freeBytes: 512 }, waste: { internal: 32 }, slowpath: { alloc: 4 } },
        ],
      }),
    );
    expect(t).toEqual({ labels: ['allocator=slab', 'allocator=slob'], slabKb: [264, 68], partialKb: [2, 0.5], internalKb: [1, 0.03125], slowAlloc: [6, 4] });
    expect(() => compareFromJson('{')).toThrow(RangeError);
    expect(() => compareFromJson('{"rows": []}')).toThrow(/^configurations:/);
    expect(() => compareFromJson('{"configurations": [{"label": 1}]}')).toThrow(/^configurations\[0\]:/);
  });
});
