/**
 * The stacks a KASAN machine keeps for each object: recorded once where the
 * API call was entered, they begin with the caller's own frame whichever
 * entry point was used (kzalloc goes through kmalloc, kcalloc through
 * kmalloc_array), a bulk call gives every object the same stack, and an
 * allocation made by a constructor (a callback from inside kmem) records the
 * constructor's frame. A track keeps the 16 innermost caller frames
 * (TRACK_ADDRS_COUNT), however deep the caller, and its time is the clock's
 * at the save: never before an earlier save, never past the clock.
 */
import { describe, expect, it } from 'vitest';
import type { Kernel } from '../../src/index.js';
import { GFP_KERNEL } from '../../src/page_alloc/gfp.js';
import { kasanBoot } from './helpers.js';

/** A chain of `depth` functions named lvl1 (innermost, which runs `f`) to lvl<depth> (outermost). */
function chain<T>(depth: number, f: () => T): () => T {
  let next = f;
  for (let i = 1; i <= depth; i++) {
    const inner = next;
    const name = `lvl${i}`;
    next = { [name]: () => inner() }[name]!;
  }
  return next;
}

/** The times of the alloc and free tracks of object p, from a use-after-free report on it. */
function trackTimes(k: Kernel, p: number): [number, number] {
  k.mem.read8(p);
  const r = k.kasan!.reports().at(-1)!;
  return [r.alloc!.timestampNs, r.free!.timestampNs];
}

/** The function of a track's first stack line (" fn (file:line)"). */
const firstFn = (stack: string[] | undefined) => stack?.[0]?.trim().split(' ')[0];

describe('KASAN alloc and free stacks, recorded at the API entry', () => {
  it('each entry point records the caller first', () => {
    const k = kasanBoot();
    function viaKzalloc() {
      return k.kzalloc(40, GFP_KERNEL);
    }
    function viaKcalloc() {
      return k.kcalloc(4, 10, GFP_KERNEL);
    }
    function freer(p: number) {
      k.kfree(p);
    }
    for (const [alloc, name] of [
      [viaKzalloc, 'viaKzalloc'],
      [viaKcalloc, 'viaKcalloc'],
    ] as const) {
      const p = alloc();
      freer(p);
      k.mem.read8(p); // use-after-free: the report carries both tracks
      const r = k.kasan!.reports().at(-1)!;
      expect(r.bugType).toBe('slab-use-after-free');
      expect(firstFn(r.alloc?.stack)).toBe(name);
      expect(firstFn(r.free?.stack)).toBe('freer');
    }
  });

  it('a bulk allocation gives every object its caller', () => {
    const k = kasanBoot();
    const c = k.kmemCacheCreate('bulk_stacks', 48, {});
    const out = new Uint32Array(8);
    function bulkCaller() {
      k.kmemCacheAllocBulk(c, 8, out);
    }
    bulkCaller();
    k.kmemCacheFreeBulk(c, Array.from(out));
    for (const p of [out[0]!, out[7]!]) {
      k.mem.read8(p);
      expect(firstFn(k.kasan!.reports().at(-1)!.alloc?.stack)).toBe('bulkCaller');
    }
  });

  it("an allocation made by a constructor records the constructor's frame", () => {
    const k = kasanBoot();
    const inner: number[] = [];
    function makeThing(addr: number) {
      inner.push(k.kmalloc(24, GFP_KERNEL));
      return addr;
    }
    const c = k.kmemCacheCreate('with_ctor', 64, { ctor: makeThing });
    function outerCaller() {
      return k.kmemCacheAlloc(c, GFP_KERNEL);
    }
    outerCaller();
    expect(inner.length).toBeGreaterThan(0);
    k.kfree(inner[0]!);
    k.mem.read8(inner[0]!);
    const stack = k.kasan!.reports().at(-1)!.alloc?.stack ?? [];
    expect(firstFn(stack)).toMatch(/\bmakeThing$/);
    expect(stack.some((l) => l.includes('outerCaller'))).toBe(true);
  });

  it('a caller 20 functions deep: each track keeps the 16 innermost frames, innermost first', () => {
    const k = kasanBoot();
    let p = 0;
    chain(20, () => {
      p = k.kmalloc(40, GFP_KERNEL);
    })();
    chain(20, () => k.kfree(p))();
    k.mem.read8(p);
    const r = k.kasan!.reports().at(-1)!;
    const names = Array.from({ length: 16 }, (_, i) => `lvl${i + 1}`);
    // The innermost frame is the arrow passed to chain(), then lvl1 ... lvl15.
    expect(r.alloc!.stack.map((l) => l.trim().split(' ')[0])).toEqual(['<anonymous>', ...names.slice(0, 15)]);
    expect(r.free!.stack.map((l) => l.trim().split(' ')[0])).toEqual(['<anonymous>', ...names.slice(0, 15)]);
  });

  it("track times: the virtual clock's at the save, never before an earlier save's, never past the clock", () => {
    const k = kasanBoot();
    // The clock read between pairs: each pair's times lie between the reads around it.
    const objs: number[] = [];
    const clock: number[] = [];
    k.syncClock();
    clock.push(k.printk.nowNs);
    for (let i = 0; i < 100; i++) {
      const p = k.kmalloc(40, GFP_KERNEL);
      k.kfree(p);
      objs.push(p);
      k.syncClock();
      clock.push(k.printk.nowNs);
    }
    // Then 300 pairs with no read between them (the times of saves between two syncs of the clock).
    for (let i = 0; i < 300; i++) {
      const p = k.kmalloc(40, GFP_KERNEL);
      k.kfree(p);
      objs.push(p);
    }
    k.syncClock();
    const end = k.printk.nowNs;
    let prev = 0;
    objs.forEach((p, i) => {
      const [a, f] = trackTimes(k, p);
      expect(a).toBeGreaterThanOrEqual(prev);
      expect(f).toBeGreaterThanOrEqual(a);
      if (i < 100) {
        expect(a).toBeGreaterThanOrEqual(clock[i]!);
        expect(f).toBeLessThanOrEqual(clock[i + 1]!);
      }
      expect(f).toBeLessThanOrEqual(end);
      prev = f;
    });
    // 299 allocations done between the first save and the last, each an object operation of 50 ns
    // (Machine.syncClock; a quarantined free is not one yet): the last track's time counts them, all but
    // the one the sync before it may not have counted yet.
    const [first] = trackTimes(k, objs[100]!);
    const [, last] = trackTimes(k, objs[399]!);
    expect(last - first).toBeGreaterThanOrEqual(298 * 50);
  });
});
