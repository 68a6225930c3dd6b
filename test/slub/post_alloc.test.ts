/**
 * What slab_post_alloc_hook() and the bulk paths promise callers: how much
 * __GFP_ZERO clears, that kmem_cache_free_bulk() leaves the caller's array
 * alone, and that every bad pointer in a batch is refused on its own.
 */
import { describe, expect, it } from 'vitest';
import { boot } from '../../src/kernel.js';
import { directMapAddress } from '../../src/lib/vsprintf.js';
import { __GFP_ZERO, GFP_KERNEL } from '../../src/page_alloc/gfp.js';
import { SLAB_NO_MERGE } from '../../src/slub/slab_flags.js';
import { sid } from './handle_id.js';

function activeObjs(k: ReturnType<typeof boot>, name: string): number {
  const line = k.proc
    .read('/proc/slabinfo')
    .split('\n')
    .find((l) => l.split(' ')[0] === name);
  return Number(line!.split(/\s+/)[1]);
}

describe('__GFP_ZERO (slab_post_alloc_hook zero_size)', () => {
  it('clears the whole object_size of a kmalloc object without slub_debug', () => {
    const k = boot({ memory: '64M', cpus: 1 });
    const p = k.kmalloc(64, GFP_KERNEL);
    k.mem.u8.fill(0xff, p, p + 64);
    k.kfree(p);
    // LIFO: the same object comes back, asked for 50 bytes of kmalloc-64.
    const q = k.kzalloc(50, GFP_KERNEL);
    expect(q).toBe(p);
    expect([...k.mem.u8.subarray(q, q + 64)].every((b) => b === 0)).toBe(true);
  });

  it('clears only the requested size when slub_debug keeps orig_size (U on a kmalloc cache); the rest stays kmalloc redzone', () => {
    const k = boot({ memory: '64M', cpus: 1, slubDebug: 'ZU,kmalloc-64' });
    const q = k.kmalloc(50, GFP_KERNEL | __GFP_ZERO);
    const bytes = [...k.mem.u8.subarray(q, q + 64)];
    expect(bytes.slice(0, 50).every((b) => b === 0)).toBe(true);
    // SLUB_RED_ACTIVE over orig_size..object_size.
    expect(bytes.slice(50).every((b) => b === 0xcc)).toBe(true);
    k.kfree(q);
    expect(k.slabValidate(k.kmemCacheByName('kmalloc-64'))).toBe(0);
  });

  it('clears object_size of a kmem_cache_alloc object', () => {
    const k = boot({ memory: '64M', cpus: 1 });
    const c = k.kmemCacheCreate('zeroed', 40, {});
    const p = k.kmemCacheAlloc(c, GFP_KERNEL);
    k.mem.u8.fill(0xab, p, p + 40);
    k.kmemCacheFree(c, p);
    const q = k.kmemCacheAlloc(c, GFP_KERNEL | __GFP_ZERO);
    expect(q).toBe(p);
    expect([...k.mem.u8.subarray(q, q + 40)].every((b) => b === 0)).toBe(true);
  });
});

describe('krealloc __GFP_ZERO (__do_krealloc)', () => {
  it('shrinking in place clears from the new size to object_size', () => {
    const k = boot({ memory: '64M', cpus: 1 });
    const p = k.kmalloc(64, GFP_KERNEL);
    k.mem.u8.fill(0xff, p, p + 64);
    expect(k.krealloc(p, 48, GFP_KERNEL | __GFP_ZERO)).toBe(p);
    const bytes = [...k.mem.u8.subarray(p, p + 64)];
    expect(bytes.slice(0, 48).every((b) => b === 0xff)).toBe(true);
    expect(bytes.slice(48).every((b) => b === 0)).toBe(true);
  });

  it('growing in place without slub_debug clears only past the new size: the kernel does not know the old size', () => {
    const k = boot({ memory: '64M', cpus: 1 });
    const p = k.kmalloc(40, GFP_KERNEL);
    k.mem.u8.fill(0xff, p, p + 64);
    expect(k.krealloc(p, 60, GFP_KERNEL | __GFP_ZERO)).toBe(p);
    const bytes = [...k.mem.u8.subarray(p, p + 64)];
    expect(bytes.slice(0, 60).every((b) => b === 0xff)).toBe(true);
    expect(bytes.slice(60).every((b) => b === 0)).toBe(true);
  });

  it('growing in place with orig_size tracked (slub_debug U) clears from the old size to the new one', () => {
    const k = boot({ memory: '64M', cpus: 1, slubDebug: 'U,kmalloc-64' });
    const p = k.kmalloc(40, GFP_KERNEL);
    k.mem.u8.fill(0xff, p, p + 40);
    expect(k.krealloc(p, 60, GFP_KERNEL | __GFP_ZERO)).toBe(p);
    const bytes = [...k.mem.u8.subarray(p, p + 60)];
    expect(bytes.slice(0, 40).every((b) => b === 0xff)).toBe(true);
    expect(bytes.slice(40).every((b) => b === 0)).toBe(true);
  });

  it('moving copies the whole old object and frees it', () => {
    const k = boot({ memory: '64M', cpus: 1 });
    const p = k.kmalloc(64, GFP_KERNEL);
    for (let i = 0; i < 64; i++) k.mem.u8[p + i] = i;
    const q = k.krealloc(p, 100, GFP_KERNEL);
    expect(q).not.toBe(p);
    expect([...k.mem.u8.subarray(q, q + 64)]).toEqual([...Array(64).keys()]);
    expect(k.kmalloc(64, GFP_KERNEL)).toBe(p);
  });
});

describe('kmem_cache_free_bulk', () => {
  it("frees every object and leaves the caller's array as it was", () => {
    const k = boot({ memory: '64M', cpus: 2 });
    const c = k.kmemCacheCreate('bulk_obj', 64, {});
    const out = new Uint32Array(40);
    expect(k.kmemCacheAllocBulk(c, 40, out)).toBe(40);
    expect(new Set(out).size).toBe(40);
    expect(activeObjs(k, 'bulk_obj')).toBeGreaterThanOrEqual(40);
    const copy = out.slice();
    k.kmemCacheFreeBulk(c, out);
    expect(out).toEqual(copy);
    // Everything went back: the same 40 come out again (in some order).
    const again = new Uint32Array(40);
    expect(k.kmemCacheAllocBulk(c, 40, again)).toBe(40);
    expect(new Set([...again, ...copy]).size).toBe(40);
    k.kmemCacheFreeBulk(c, again);
  });

  it('refuses a pointer into the middle of an object and frees the rest of the batch', () => {
    const k = boot({ memory: '64M', cpus: 1 });
    const c = k.kmemCacheCreate('bulk_bad', 64, {});
    const out = new Uint32Array(8);
    k.kmemCacheAllocBulk(c, 8, out);
    const bad = Array.from(out);
    bad[3] = bad[3]! + 8;
    k.kmemCacheFreeBulk(c, bad);
    // slab_err() prints the direct-map address, as slub_debug does.
    expect(k.dmesg().join('\n')).toContain(`Invalid object pointer 0x${directMapAddress(out[3]! + 8).toString(16)}`);
    // The seven good ones are free again and the bad one's object is still allocated.
    const next = new Uint32Array(7);
    k.kmemCacheAllocBulk(c, 7, next);
    expect(new Set(next)).toEqual(new Set(Array.from(out).filter((_, i) => i !== 3)));
  });

  it('an object twice in one batch is the naive double free BUG, and the freelist stays sound', () => {
    const k = boot({ memory: '64M', cpus: 1 });
    const c = k.kmemCacheCreate('bulk_twice', 64, {});
    const out = new Uint32Array(4);
    k.kmemCacheAllocBulk(c, 4, out);
    const [a, b] = [out[0]!, out[1]!];
    k.kmemCacheFreeBulk(c, [a, b, b]);
    expect(k.dmesg().join('\n')).toContain('kernel BUG at mm/slub.c');
    // a and b are free once each: the next allocations give distinct objects.
    const next = new Uint32Array(8);
    k.kmemCacheAllocBulk(c, 8, next);
    expect(new Set(next).size).toBe(8);
    expect(Array.from(next).filter((x) => x === a || x === b).length).toBe(2);
  });

  it('names the bad entry of the array', () => {
    const k = boot({ memory: '64M', cpus: 1 });
    const c = k.kmemCacheCreate('bulk_arg', 64, {});
    expect(() => k.kmemCacheFreeBulk(c, [0, 1.5])).toThrow(/addrs\[1\]/);
    expect(() => k.kmemCacheFreeBulk(c, [-4096])).toThrow(/addrs\[0\]/);
  });
});

describe('kmem_cache_destroy under KASAN', () => {
  it("frees the cache's own kmem_cache and kmem_cache_node objects through KASAN, which poisons them", () => {
    const k = boot({ memory: '64M', cpus: 1, kasan: 'generic' });
    const c = k.kmemCacheCreate('short_lived', 48, {});
    const info = k.slub.caches[sid(k, c)]!;
    const self = info.selfAddr;
    const node = info.nodeAddr;
    expect(k.kasan!.accessible(self)).toBe(true);
    expect(k.kasan!.accessible(node)).toBe(true);
    k.kmemCacheDestroy(c);
    expect(k.kasan!.accessible(self)).toBe(false);
    expect(k.kasan!.accessible(node)).toBe(false);
  });
});

describe('the object-start check on free', () => {
  it('refuses the bytes before the first object of a slab (left red zone) and past the last object', () => {
    const k = boot({ memory: '64M', cpus: 1 });
    const p = k.kmalloc(64, GFP_KERNEL);
    const slab = p & ~4095;
    // kmalloc-64: 64 objects fill the page exactly, so every 64-byte step is an
    // object start and any other offset is not.
    for (const off of [1, 8, 63, 4095]) {
      const before = k.dmesg().length;
      k.kfree(slab + off);
      expect(k.dmesg().slice(before).join('\n')).toContain('Invalid object pointer');
    }
    k.kfree(p);
  });
});

describe('kmem_cache_free_bulk: the detached freelists of build_detached_freelist()', () => {
  /**
   * The kernel's walk, on plain arrays: take the last entry, gather the
   * others of its slab from the end down (swapping each to the end of what
   * is left), stop after three misses; each group goes to the front of its
   * slab's freelist.
   */
  function model(p: number[], slabOf: (o: number) => number): { lists: Map<number, number[]>; groups: number } {
    const lists = new Map<number, number[]>();
    let groups = 0;
    let size = p.length;
    while (size > 0) {
      const first = p[--size]!;
      const slab = slabOf(first);
      const chain = [first];
      let same = size;
      let lookahead = 3;
      while (size > 0) {
        const o = p[--size]!;
        if (slabOf(o) === slab) {
          chain.unshift(o);
          same--;
          if (size !== same) [p[size], p[same]] = [p[same]!, p[size]!];
          continue;
        }
        if (--lookahead === 0) break;
      }
      size = same;
      groups++;
      lists.set(slab, [...chain, ...(lists.get(slab) ?? [])]);
    }
    return { lists, groups };
  }

  it('builds the same chains, in the same order, as the kernel', () => {
    const k = boot({ memory: '64M', cpus: 1, slubStats: true });
    const c = k.kmemCacheCreate('bulk_order', 64, { flags: SLAB_NO_MERGE });
    const slowFrees = () => Number(k.sys.read('/sys/kernel/slab/bulk_order/free_slowpath').split(' ')[0]);
    // Four full slabs; the last is the cpu slab, left out.
    const all = Array.from({ length: 256 }, () => k.kmemCacheAlloc(c, GFP_KERNEL));
    const slabOf = (o: number) => Math.floor(o / 4096);
    const bySlab = [...new Set(all.map(slabOf))].sort((a, b) => a - b);
    expect(bySlab).toHaveLength(4);
    const cpuSlab = slabOf(all[255]!);
    const [s0, s1, s2] = bySlab.filter((s) => s !== cpuSlab).map((s) => all.filter((o) => slabOf(o) === s));
    // Interleaved so that the look-ahead runs out and the swaps matter.
    const p = [s0![0]!, s1![0]!, s0![1]!, s2![0]!, s1![1]!, s2![1]!, s2![2]!, s0![2]!, s1![2]!, s0![3]!, s2![3]!, s1![3]!, s0![4]!];
    const want = model([...p], slabOf);
    const before = slowFrees();
    k.kmemCacheFreeBulk(c, p);
    // One __slab_free per detached freelist: the look-ahead decides how many.
    expect(slowFrees() - before).toBe(want.groups);
    expect(want.groups).toBe(7); // worked by hand: A4+A3, C3, B3+B2, A2, C2+C1+C0, B1+B0, A1+A0
    for (const [slab, chain] of want.lists) {
      const got: number[] = [];
      for (let o = k.slub.slabFreelist(sid(k, c), slab); o !== 0; o = k.slub.getFreepointer(sid(k, c), o)) got.push(o);
      expect(got).toEqual(chain);
    }
    // The caller's array is left as it was.
    expect(p[0]).toBe(s0![0]);
    expect(p[12]).toBe(s0![4]);
  });
});
