/**
 * slub_debug's quick checks (src/slub/debug_geometry.ts) must never hide
 * what the kernel's checks report, nor change their order: a quick check
 * that finds anything hands over to the faithful check_slab(),
 * check_object() and on_freelist().
 *
 * A cache of 64-byte objects aligned to 64 under slub_debug=FZP, worked by
 * hand from calculate_sizes(): red_left_pad = ALIGN(8, 64) = 64; the object,
 * then 8 bytes of right redzone (inuse 72), the free pointer moved out of
 * the poisoned object to offset 72, info_end 80; size ALIGN(80, 64) + 64 =
 * 192, so padding 0x5a fills object+80 .. object+128; 4096 / 192 = 21
 * objects and 64 bytes of slab padding after the last one. A free object is
 * 0xbb | 0x6b x 63, 0xa5 | 0xbb x 8 | fp | 0x5a x 48 (init_object(INACTIVE)).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { boot, GFP_KERNEL, type Kernel, type KmemCache } from '../../src/index.js';

function since(k: Kernel, from: number): string[] {
  return k
    .dmesg()
    .slice(from)
    .flatMap((l) => l.replace(/^\[\s*\d+\.\d{6}\] ?/, '').split('\n'));
}

function machine(): { k: Kernel; c: KmemCache } {
  const k = boot({ memory: '64M', cpus: 2, slubDebug: 'FZP' });
  const c = k.kmemCacheCreate('speed64', 64, { align: 64 });
  return { k, c };
}

/** The region reports ("[... overwritten] ...") among report lines, in order. */
const regions = (lines: string[]) => lines.filter((l) => /^\[.+ overwritten\]/.test(l)).map((l) => l.slice(1, l.indexOf(']')));

describe('slub_debug=FZP quick checks: the same reports, in the kernel order', () => {
  it('the geometry is the hand-worked one', () => {
    const { k } = machine();
    expect(k.sys.read('/sys/kernel/slab/speed64/slab_size').trim()).toBe('192');
    expect(k.sys.read('/sys/kernel/slab/speed64/objs_per_slab').trim()).toBe('21');
  });

  // Offsets from a free object's start, what the kernel finds there and the byte it expected.
  const cases: [string, number, string, number][] = [
    ['left redzone', -1, 'Left Redzone', 0xbb],
    ['right redzone', 64, 'Right Redzone', 0xbb],
    ['poison', 10, 'Poison', 0x6b],
    ['end poison', 63, 'End Poison', 0xa5],
    ['padding', 100, 'Object padding', 0x5a],
  ];
  for (const [label, off, what, want] of cases) {
    it(`a byte written into the ${label} of a free object is reported when the object is allocated again`, () => {
      const { k, c } = machine();
      const keep = k.kmemCacheAlloc(c, GFP_KERNEL);
      const p = k.kmemCacheAlloc(c, GFP_KERNEL);
      k.kmemCacheFree(c, p);
      k.phys.u8[p + off] = 0x42;
      const from = k.dmesg().length;
      k.kmemCacheAlloc(c, GFP_KERNEL);
      const lines = since(k, from);
      const fault = lines.find((l) => l.startsWith(`[${what} overwritten]`));
      const at = p + off - Math.floor(p / 4096) * 4096;
      expect(fault).toMatch(
        new RegExp(`^\\[${what} overwritten\\] 0x[0-9a-f]{16}-0x[0-9a-f]{16} @offset=${at}\\. First byte 0x42 instead of 0x${want.toString(16)}$`),
      );
      expect(lines).toContain('BUG speed64 (Not tainted): Object corrupt');
      expect(lines.find((l) => l.startsWith('FIX speed64: Restoring'))).toBe(
        `FIX speed64: Restoring ${what} 0x${(0xffff888000000000n + BigInt(p + off)).toString(16)}-0x${(0xffff888000000000n + BigInt(p + off)).toString(16)}=0x${want.toString(16)}`,
      );
      k.kmemCacheFree(c, keep);
    });
  }

  it('several damaged regions are reported in check_object() order: left, right, poison, end poison, padding', () => {
    const { k, c } = machine();
    k.kmemCacheAlloc(c, GFP_KERNEL);
    const p = k.kmemCacheAlloc(c, GFP_KERNEL);
    k.kmemCacheFree(c, p);
    for (const off of [100, 63, 10, 64, -3]) k.phys.u8[p + off] = 0x42;
    const from = k.dmesg().length;
    k.kmemCacheAlloc(c, GFP_KERNEL);
    expect(regions(since(k, from))).toEqual([
      'Left Redzone overwritten',
      'Right Redzone overwritten',
      'Poison overwritten',
      'End Poison overwritten',
      'Object padding overwritten',
    ]);
  });

  it('the slab padding after the last object is reported by check_slab() on the next allocation', () => {
    const { k, c } = machine();
    const p = k.kmemCacheAlloc(c, GFP_KERNEL);
    const slab = Math.floor(p / 4096) * 4096;
    k.phys.u8[slab + 21 * 192 + 5] = 0x00;
    const from = k.dmesg().length;
    k.kmemCacheAlloc(c, GFP_KERNEL);
    const lines = since(k, from);
    const at = 21 * 192 + 5;
    expect(lines.find((l) => l.startsWith('BUG speed64'))).toMatch(
      new RegExp(`^BUG speed64 \\(Not tainted\\): Padding overwritten\\. 0x[0-9a-f]{16}-0x[0-9a-f]{16} @offset=${at}$`),
    );
  });

  it('a corrupt free pointer in the freelist is found by on_freelist() at the next free (Freechain corrupt)', () => {
    const { k, c } = machine();
    const ps = [0, 1, 2, 3].map(() => k.kmemCacheAlloc(c, GFP_KERNEL));
    k.kmemCacheFree(c, ps[1]!);
    k.kmemCacheFree(c, ps[2]!); // freelist: ps[2] -> ps[1] -> the never-used rest
    const at = (ps[1]! + 72) >>> 2;
    k.phys.u32[at] = k.phys.u32[at]! ^ 0x10; // its free pointer now points inside an object
    const from = k.dmesg().length;
    k.kmemCacheFree(c, ps[3]!);
    expect(since(k, from)).toContain('BUG speed64 (Not tainted): Freechain corrupt');
  });

  it('a double free is still "Object already free" wherever the object sits on the freelist', () => {
    const { k, c } = machine();
    const ps = Array.from({ length: 8 }, () => k.kmemCacheAlloc(c, GFP_KERNEL));
    for (const p of ps.slice(0, 7)) k.kmemCacheFree(c, p);
    const from = k.dmesg().length;
    k.kmemCacheFree(c, ps[3]!); // fourth from the end of the chain
    const lines = since(k, from);
    expect(lines).toContain('BUG speed64 (Not tainted): Object already free');
    expect(lines.at(-1)).toMatch(/^FIX speed64: Object at 0x[0-9a-f]{16} not freed$/);
  });

  /**
   * The invariant itself, over random damage: each quick check says
   * "clean" exactly when the faithful check it stands in front of
   * (check_slab, check_object of each object, on_freelist) returns true and
   * prints nothing. Damage: a few bytes anywhere in the slots, and maybe in
   * the slab padding.
   */
  it('property: each quick check is clean exactly when its faithful check prints nothing', () => {
    interface Checks {
      geometry: {
        objectClean(s: number, pfn: number, obj: number, val: number): boolean;
        slabClean(s: number, pfn: number): boolean;
        freelistWalk(s: number, pfn: number, search: number): number;
      };
      checkSlabSlow(s: number, pfn: number): boolean;
      checkObjectSlow(s: number, pfn: number, obj: number, val: number): boolean;
      onFreelistSlow(s: number, pfn: number, search: number): boolean;
    }
    fc.assert(
      fc.property(
        fc.array(fc.record({ slot: fc.integer({ min: 0, max: 20 }), off: fc.integer({ min: 0, max: 191 }), byte: fc.integer({ min: 0, max: 255 }) }), {
          minLength: 1,
          maxLength: 3,
        }),
        fc.option(fc.record({ off: fc.integer({ min: 0, max: 63 }), byte: fc.integer({ min: 0, max: 255 }) })),
        (damage, padding) => {
          const { k, c } = machine();
          const ps = Array.from({ length: 21 }, () => k.kmemCacheAlloc(c, GFP_KERNEL));
          for (const p of ps.slice(1)) k.kmemCacheFree(c, p); // ps[0] stays in use
          const pfn = Math.floor(ps[0]! / 4096);
          const slab = pfn * 4096;
          const u8 = k.phys.u8;
          for (const d of damage) u8[slab + d.slot * 192 + d.off] = d.byte;
          if (padding !== null) u8[slab + 21 * 192 + padding.off] = padding.byte;
          const s = k.slub.caches.findIndex((x) => x?.name === 'speed64');
          const d = k.slub.debug as unknown as Checks;
          const q = d.geometry;
          // Each quick check (it changes nothing) just before its faithful one, on the same bytes: the faithful
          // ones repair (check_object sets a corrupt free pointer to NULL, which can mend the chain on_freelist walks).
          const silent = (check: () => boolean) => {
            const from = k.dmesg().length;
            return check() && k.dmesg().length === from;
          };
          const slabQuick = q.slabClean(s, pfn);
          expect(silent(() => d.checkSlabSlow(s, pfn))).toBe(slabQuick);
          ps.forEach((p, i) => {
            const val = i === 0 ? 0xcc : 0xbb;
            const objQuick = q.objectClean(s, pfn, p, val);
            expect(silent(() => d.checkObjectSlow(s, pfn, p, val))).toBe(objQuick);
          });
          const walkQuick = q.freelistWalk(s, pfn, 0);
          expect(silent(() => d.onFreelistSlow(s, pfn, 0))).toBe(walkQuick === 0);
        },
      ),
      // The first example is the damage CI's run found when the quick walk ran before check_object's repair:
      // the chain's last free object's free pointer corrupted, then mended to NULL.
      { numRuns: 40, examples: [[[{ slot: 1, off: 136, byte: 0 }], null]] },
    );
  });
  /**
   * The fused quick checks of the debug alloc and free (allocChecksClean,
   * freeChecksClean) over random damage: "clean" only when every faithful
   * check of alloc_consistency_checks() / free_consistency_checks() (after
   * check_slab) passes and prints nothing; and init_object() a word at a
   * time leaves the same bytes as memset by memset.
   */
  it('property: the fused alloc and free checks are clean only when the faithful ones print nothing; word-wide init_object writes what the memsets write', () => {
    interface Fused {
      geometry: {
        allocChecksClean(s: number, pfn: number, obj: number): boolean;
        freeChecksClean(s: number, pfn: number, obj: number): boolean;
        freelistWalk(s: number, pfn: number, search: number): number;
        initObject(s: number, obj: number, val: number, active: boolean): void;
        initObjectBytes(g: number, obj: number, val: number, active: boolean): void;
        row(s: number): number;
      };
      checkSlabSlow(s: number, pfn: number): boolean;
      checkObjectSlow(s: number, pfn: number, obj: number, val: number): boolean;
      onFreelistSlow(s: number, pfn: number, search: number): boolean;
    }
    fc.assert(
      fc.property(
        fc.array(fc.record({ slot: fc.integer({ min: 0, max: 20 }), off: fc.integer({ min: 0, max: 191 }), byte: fc.integer({ min: 0, max: 255 }) }), {
          minLength: 0,
          maxLength: 2,
        }),
        fc.integer({ min: 1, max: 20 }),
        fc.integer({ min: 0, max: 255 }),
        fc.option(fc.record({ off: fc.integer({ min: 0, max: 191 }), byte: fc.integer({ min: 0, max: 255 }) })),
        (damage, freeSlot, fill, own) => {
          const { k, c } = machine();
          const ps = Array.from({ length: 21 }, () => k.kmemCacheAlloc(c, GFP_KERNEL));
          // ps[0] and ps[freeSlot] stay in use, the rest is free.
          ps.forEach((p, i) => {
            if (i !== 0 && i !== freeSlot) k.kmemCacheFree(c, p);
          });
          const pfn = Math.floor(ps[0]! / 4096);
          const slab = pfn * 4096;
          const u8 = k.phys.u8;
          for (const d of damage) u8[slab + d.slot * 192 + d.off] = d.byte;
          // Maybe a byte of the slot of the object to be freed itself.
          if (own !== null) u8[slab + freeSlot * 192 + own.off] = own.byte;
          const s = k.slub.caches.findIndex((x) => x?.name === 'speed64');
          const d = k.slub.debug as unknown as Fused;
          const q = d.geometry;
          const silent = (check: () => boolean) => {
            const from = k.dmesg().length;
            return check() && k.dmesg().length === from;
          };
          const obj = ps[freeSlot]!;
          // The free of an object in use: not on the freelist, red zones active.
          const walk = q.freelistWalk(s, pfn, obj);
          if (walk >= 0) expect(silent(() => d.onFreelistSlow(s, pfn, obj) === (walk === 1))).toBe(true);
          if (q.freeChecksClean(s, pfn, obj)) {
            expect(silent(() => d.checkSlabSlow(s, pfn))).toBe(true);
            expect(silent(() => !d.onFreelistSlow(s, pfn, obj))).toBe(true);
            expect(silent(() => d.checkObjectSlow(s, pfn, obj, 0xcc))).toBe(true);
          }
          // The allocation of the freelist's head: red zones inactive, poisoned.
          const head = k.slub.slabFreelist(s, pfn);
          if (head > 0 && q.allocChecksClean(s, pfn, head)) {
            expect(silent(() => d.checkSlabSlow(s, pfn))).toBe(true);
            expect(silent(() => d.checkObjectSlow(s, pfn, head, 0xbb))).toBe(true);
          }
          // init_object(): a slot of `fill` bytes, word-wide and memset by memset, both values.
          for (const [val, active] of [
            [0xbb, false],
            [0xcc, true],
          ] as const) {
            const slot = slab + freeSlot * 192;
            u8.fill(fill, slot, slot + 192);
            q.initObject(s, slot + 64, val, active);
            const words = u8.slice(slot, slot + 192);
            u8.fill(fill, slot, slot + 192);
            q.initObjectBytes(q.row(s), slot + 64, val, active);
            expect(words).toEqual(u8.slice(slot, slot + 192));
          }
        },
      ),
      { numRuns: 60 },
    );
  });
});
