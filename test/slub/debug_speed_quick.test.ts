/**
 * slub_debug=FZP's quick alloc and free (src/slub/debug_geometry.ts
 * allocQuick, freeQuick and the freelist's shadow) stand in for the
 * kernel's alloc_single_from_partial() / free_to_partial_list() only when
 * every check would pass without a word and no list changes. So a machine
 * that takes them and one that never does (setQuick(false): the faithful
 * paths of debug.ts, checked against the kernel's reports in debug.test.ts
 * and debug_speed.test.ts) must print the same reports and leave the same
 * bytes in their slabs, whatever is written into the slabs between calls.
 *
 * The cache is the one debug_speed.test.ts works out by hand: 64-byte
 * objects aligned to 64, red_left_pad 64, inuse 72, the free pointer at 72,
 * padding 0x5a from 80 to 128, size 192, 21 objects per slab and 64 bytes of
 * slab padding.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { boot, GFP_KERNEL, type Kernel, type KmemCache } from '../../src/index.js';

interface Quick {
  geometry: { setQuick(on: boolean): void };
}

interface Machine {
  k: Kernel;
  c: KmemCache;
}

function machine(quick: boolean, freelistHardened = true): Machine {
  const k = boot({ memory: '64M', cpus: 2, slubDebug: 'FZP', seed: 7, freelistHardened });
  (k.slub.debug as unknown as Quick).geometry.setQuick(quick);
  const c = k.kmemCacheCreate('speed64', 64, { align: 64 });
  return { k, c };
}

/** dmesg since `from` without the timestamps. */
function since(k: Kernel, from: number): string[] {
  return k
    .dmesg()
    .slice(from)
    .flatMap((l) => l.replace(/^\[\s*\d+\.\d{6}\] ?/, '').split('\n'));
}

/** What one call did: its result or its error, and what it printed. */
function run(m: Machine, f: (m: Machine) => number | undefined): { result: number | undefined; error: string; lines: string[] } {
  const from = m.k.dmesg().length;
  let result: number | undefined;
  let error = '';
  try {
    result = f(m);
  } catch (e) {
    error = String(e);
  }
  return { result, error, lines: since(m.k, from) };
}

interface Model {
  /** Objects handed out and not freed, in order. */
  live: number[];
  /** Objects freed once (candidates for a double free). */
  freed: number[];
  /** Slab pages seen. */
  slabs: Set<number>;
}

type Real = { quick: Machine; slow: Machine };

/** Both machines the same call; the same result, error and reports; the same bytes in every slab page seen. */
function both(model: Model, real: Real, f: (m: Machine) => number | undefined): number | undefined {
  // One call site for both: the reports' Call Trace names it.
  const [a, b] = [real.quick, real.slow].map((m) => run(m, f));
  expect(a).toEqual(b);
  for (const pfn of model.slabs) {
    const x = real.quick.k.phys.u8;
    const y = real.slow.k.phys.u8;
    let i = pfn * 4096;
    const end = i + 4096;
    while (i < end && x[i] === y[i]) i++;
    // The first byte that differs, if any, with where it is.
    expect(i === end ? null : { at: i, quick: x[i], slow: y[i] }).toBeNull();
  }
  return a!.result;
}

class Alloc implements fc.Command<Model, Real> {
  check = () => true;
  run(model: Model, real: Real): void {
    const p = both(model, real, (m) => m.k.kmemCacheAlloc(m.c, GFP_KERNEL));
    if (p !== undefined && p !== 0) {
      model.live.push(p);
      model.slabs.add(Math.floor(p / 4096));
      model.freed = model.freed.filter((q) => q !== p);
    }
  }
  toString = () => 'alloc';
}

class Free implements fc.Command<Model, Real> {
  constructor(readonly pick: number) {}
  check = (m: Readonly<Model>) => m.live.length > 0;
  run(model: Model, real: Real): void {
    const p = model.live.splice(this.pick % model.live.length, 1)[0]!;
    both(model, real, (m) => {
      m.k.kmemCacheFree(m.c, p);
      return undefined;
    });
    model.freed.push(p);
  }
  toString = () => `free(${this.pick})`;
}

class DoubleFree implements fc.Command<Model, Real> {
  constructor(readonly pick: number) {}
  check = (m: Readonly<Model>) => m.freed.length > 0;
  run(model: Model, real: Real): void {
    const p = model.freed[this.pick % model.freed.length]!;
    both(model, real, (m) => {
      m.k.kmemCacheFree(m.c, p);
      return undefined;
    });
  }
  toString = () => `doubleFree(${this.pick})`;
}

/**
 * A byte written into a slab seen: into slot `slot` (its left red zone, object, right red zone, free
 * pointer or padding: 192 bytes from the slot's start), or with slot 21 into the slab's 64 bytes of tail.
 */
class Scribble implements fc.Command<Model, Real> {
  constructor(
    readonly pick: number,
    readonly slot: number,
    readonly off: number,
    readonly byte: number,
  ) {}
  check = (m: Readonly<Model>) => m.slabs.size > 0;
  run(model: Model, real: Real): void {
    const pfn = [...model.slabs][this.pick % model.slabs.size]!;
    const at = pfn * 4096 + this.slot * 192 + (this.slot === 21 ? this.off % 64 : this.off);
    for (const m of [real.quick, real.slow]) m.k.phys.u8[at] = this.byte;
  }
  toString = () => `scribble(${this.pick}, ${this.slot}, ${this.off}, 0x${this.byte.toString(16)})`;
}

const commands = [
  fc.constant(new Alloc()),
  fc.constant(new Alloc()),
  fc.nat(64).map((n) => new Free(n)),
  fc.nat(64).map((n) => new DoubleFree(n)),
  fc
    .tuple(fc.nat(8), fc.integer({ min: 0, max: 21 }), fc.integer({ min: 0, max: 191 }), fc.integer({ min: 0, max: 255 }))
    .map(([p, s, o, b]) => new Scribble(p, s, o, b)),
];

describe('slub_debug=FZP: the quick alloc and free print and write what the faithful paths do', () => {
  // Hardened free pointers (the default) look random: the shadow compares them 8 bytes at a time, as doubles.
  // Plain ones are NaNs as doubles (the high word 0xffff8880): the shadow compares them as int32 pairs.
  for (const hardened of [true, false]) {
    it(`model: random alloc, free, double free and scribbles on two machines, quick paths on and off (freelist hardened: ${hardened})`, () => {
      fc.assert(
        fc.property(fc.commands(commands, { maxCommands: 80, size: 'max' }), (cmds) => {
          const model: Model = { live: [], freed: [], slabs: new Set() };
          fc.modelRun(() => ({ model, real: { quick: machine(true, hardened), slow: machine(false, hardened) } }), cmds);
        }),
        { numRuns: 30 },
      );
    });
  }

  it('full and empty slabs: the quick free moves them between the lists as free_to_partial_list() does', () => {
    // 7 slabs of 21 objects, all full, then every object freed in allocation order. min_partial of a
    // 192-byte cache is ilog2(192) / 2 = 3, raised to MIN_PARTIAL 5. The first free of each slab finds it full
    // (no freelist): back on the partial list. Its last free leaves it empty: kept while fewer than 5 slabs are
    // partial, freed from then on. Slabs 1 to 4 stay; slabs 5, 6 and 7 each make the 5th and are freed: 4 left.
    const machines = [machine(true), machine(false)];
    const counts = machines.map(({ k, c }) => {
      const ps = Array.from({ length: 7 * 21 }, () => k.kmemCacheAlloc(c, GFP_KERNEL));
      const from = k.dmesg().length;
      for (const p of ps) k.kmemCacheFree(c, p);
      expect(since(k, from)).toEqual([]);
      const read = (f: string) => Number.parseInt(k.sys.read(`/sys/kernel/slab/speed64/${f}`), 10);
      return { slabs: read('slabs'), partial: read('partial'), objects: read('objects') };
    });
    expect(counts[0]).toEqual({ slabs: 4, partial: 4, objects: 0 });
    expect(counts[1]).toEqual(counts[0]);
  });

  it('the quick paths serve an FZP cache: a clean pair prints nothing and leaves the object as init_object() does', () => {
    const { k, c } = machine(true);
    const keep = k.kmemCacheAlloc(c, GFP_KERNEL);
    const from = k.dmesg().length;
    const p = k.kmemCacheAlloc(c, GFP_KERNEL);
    const u8 = k.phys.u8;
    // Allocated: red zones 0xcc, the object still poisoned 0x6b .. 0xa5.
    expect([...u8.subarray(p - 64, p)].every((b) => b === 0xcc)).toBe(true);
    expect([...u8.subarray(p + 64, p + 72)].every((b) => b === 0xcc)).toBe(true);
    expect([...u8.subarray(p, p + 63)].every((b) => b === 0x6b)).toBe(true);
    expect(u8[p + 63]).toBe(0xa5);
    u8.fill(0x11, p, p + 64);
    k.kmemCacheFree(c, p);
    // Freed: red zones 0xbb, poison again, padding 0x5a untouched.
    expect([...u8.subarray(p - 64, p)].every((b) => b === 0xbb)).toBe(true);
    expect([...u8.subarray(p + 64, p + 72)].every((b) => b === 0xbb)).toBe(true);
    expect([...u8.subarray(p, p + 63)].every((b) => b === 0x6b)).toBe(true);
    expect(u8[p + 63]).toBe(0xa5);
    expect([...u8.subarray(p + 80, p + 128)].every((b) => b === 0x5a)).toBe(true);
    expect(since(k, from)).toEqual([]);
    k.kmemCacheFree(c, keep);
  });

  it('a free pointer changed behind the shadow is still "Freechain corrupt" at the next free', () => {
    // Pairs first, so the freelist's shadow is in place and kept by the quick paths; then the free
    // pointer of the second free object is made to point inside an object. on_freelist() reports the
    // object that holds it (object_err "Freechain corrupt") and cuts the chain there.
    const { k, c } = machine(true);
    const keep = k.kmemCacheAlloc(c, GFP_KERNEL);
    for (let i = 0; i < 10; i++) k.kmemCacheFree(c, k.kmemCacheAlloc(c, GFP_KERNEL));
    const p = k.kmemCacheAlloc(c, GFP_KERNEL);
    const q = k.kmemCacheAlloc(c, GFP_KERNEL);
    k.kmemCacheFree(c, q); // freelist: q -> the rest
    const pfn = Math.floor(p / 4096);
    const s = k.slub.caches.findIndex((x) => x?.name === 'speed64');
    const second = k.slub.getFreepointer(s, q);
    const at = (second + 72) >>> 2;
    k.phys.u32[at] = k.phys.u32[at]! ^ 0x10;
    const from = k.dmesg().length;
    k.kmemCacheFree(c, p);
    const lines = since(k, from);
    expect(lines).toContain('BUG speed64 (Not tainted): Freechain corrupt');
    expect(lines.find((l) => l.startsWith('Object 0x'))).toMatch(new RegExp(`^Object 0x[0-9a-f]{16} @offset=${second - pfn * 4096} fp=0x`));
    k.kmemCacheFree(c, keep);
  });
});
