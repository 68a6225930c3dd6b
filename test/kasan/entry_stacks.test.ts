/**
 * The stacks a KASAN machine keeps for each object: recorded once where the
 * API call was entered, they begin with the caller's own frame whichever
 * entry point was used (kzalloc goes through kmalloc, kcalloc through
 * kmalloc_array), a bulk call gives every object the same stack, and an
 * allocation made by a constructor (a callback from inside kmem) records the
 * constructor's frame.
 */
import { describe, expect, it } from 'vitest';
import { GFP_KERNEL } from '../../src/page_alloc/gfp.js';
import { kasanBoot } from './helpers.js';

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
});
