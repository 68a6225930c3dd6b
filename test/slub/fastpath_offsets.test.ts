/**
 * The lockless free's object-start test (src/slub/fastpath.ts: off / size
 * by a multiply with Slub.invSize, the cpu slab's bounds by Slub.slabMask)
 * on slabs of order 0 to 3 and object sizes that are not powers of two.
 * The kernel's geometry: a slab of order o holds (PAGE_SIZE << o) / size
 * objects at base + i * size (order_objects(), no red zone without
 * slub_debug). Every object start goes back on the cpu freelist; a pointer
 * into an object or into the slab's leftover tail is "Invalid object
 * pointer" and frees nothing.
 */
import { describe, expect, it } from 'vitest';
import { boot, GFP_KERNEL, SLAB_NO_MERGE } from '../../src/index.js';

describe('the lockless free takes exactly the object starts of the cpu slab', () => {
  for (const objectSize of [96, 192, 1000, 3000, 5000]) {
    it(`object size ${objectSize}`, () => {
      const k = boot({ memory: '64M', cpus: 1 });
      const name = `fp_off_${objectSize}`;
      const c = k.kmemCacheCreate(name, objectSize, { flags: SLAB_NO_MERGE });
      const size = Number(k.sys.read(`/sys/kernel/slab/${name}/slab_size`));
      const order = Number(k.sys.read(`/sys/kernel/slab/${name}/order`));
      const objects = Number(k.sys.read(`/sys/kernel/slab/${name}/objs_per_slab`));
      expect(size).toBe(Math.ceil(objectSize / 8) * 8);
      expect(objects).toBe(Math.floor((4096 << order) / size));

      // The first slab, allocated whole: its objects are base + i * size.
      const objs = Array.from({ length: objects }, () => k.kmemCacheAlloc(c, GFP_KERNEL));
      const base = objs[0]! - (objs[0]! % (4096 << order));
      expect(objs.map((p) => (p - base) / size).sort((a, b) => a - b)).toEqual(Array.from({ length: objects }, (_, i) => i));

      // All back, in an order unlike the allocation's: each is an object start of the cpu slab.
      for (let i = 0; i < objects; i += 2) k.kmemCacheFree(c, objs[i]!);
      for (let i = 1; i < objects; i += 2) k.kmemCacheFree(c, objs[i]!);
      expect(k.dmesg().join('\n')).not.toMatch(/BUG|WARN/);

      // Pointers that are not object starts: inside the last-freed object, and past the last object.
      const p = k.kmemCacheAlloc(c, GFP_KERNEL);
      const bad = [p + 8, p + size / 2 - ((size / 2) % 8), p + size - 8];
      const tail = base + objects * size;
      if (tail + 8 <= base + (4096 << order)) bad.push(tail);
      for (const a of bad) k.kmemCacheFree(c, a);
      const invalid = k.dmesg().filter((l) => l.includes('Invalid object pointer'));
      expect(invalid).toHaveLength(bad.length);
      // Nothing was freed: p is still allocated, and frees and reallocates as the freelist head.
      k.kmemCacheFree(c, p);
      expect(k.kmemCacheAlloc(c, GFP_KERNEL)).toBe(p);
      expect(k.dmesg().filter((l) => l.includes('BUG '))).toHaveLength(bad.length);
    });
  }
});
