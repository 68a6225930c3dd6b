/**
 * KASAN against a byte-validity model: random programs of kmalloc, kfree,
 * loads, stores and mem* ranges. The model knows which bytes belong to a
 * live allocation; KASAN must report every access that touches any other
 * byte (no false negatives) and no access that stays inside (no false
 * positives), at byte precision, and catch every double and invalid free.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { boot, GFP_KERNEL, type Kernel } from '../../src/index.js';

type Op =
  | { op: 'alloc'; size: number }
  | { op: 'free'; pick: number }
  | { op: 'doubleFree'; pick: number }
  | { op: 'invalidFree'; pick: number; delta: number }
  | { op: 'access'; pick: number; off: number; width: 1 | 2 | 4 | 8; write: boolean }
  | { op: 'range'; pick: number; off: number; len: number; kind: 'memset' | 'readBytes' | 'memchr' };

const sizeArb = fc.oneof({ weight: 8, arbitrary: fc.integer({ min: 1, max: 300 }) }, { weight: 1, arbitrary: fc.constantFrom(1024, 4096, 8200, 9001, 12000) });
const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 4, arbitrary: sizeArb.map((size) => ({ op: 'alloc' as const, size })) },
  { weight: 2, arbitrary: fc.nat().map((pick) => ({ op: 'free' as const, pick })) },
  { weight: 1, arbitrary: fc.nat().map((pick) => ({ op: 'doubleFree' as const, pick })) },
  {
    weight: 1,
    arbitrary: fc.record({ op: fc.constant('invalidFree' as const), pick: fc.nat(), delta: fc.integer({ min: 1, max: 40 }) }),
  },
  {
    weight: 10,
    arbitrary: fc.record({
      op: fc.constant('access' as const),
      pick: fc.nat(),
      off: fc.integer({ min: -8, max: 1 << 14 }),
      width: fc.constantFrom(1 as const, 2 as const, 4 as const, 8 as const),
      write: fc.boolean(),
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      op: fc.constant('range' as const),
      pick: fc.nat(),
      off: fc.integer({ min: -8, max: 1 << 14 }),
      len: fc.integer({ min: 1, max: 64 }),
      kind: fc.constantFrom('memset' as const, 'readBytes' as const, 'memchr' as const),
    }),
  },
);

interface Alloc {
  addr: number;
  size: number;
  live: boolean;
}

/** The model: a byte is valid iff some live allocation holds it. */
function valid(allocs: Alloc[], a: number, n: number): boolean {
  for (let b = a; b < a + n; b++) {
    if (!allocs.some((x) => x.live && b >= x.addr && b < x.addr + x.size)) return false;
  }
  return true;
}

function run(k: Kernel, ops: Op[]): void {
  const allocs: Alloc[] = [];
  const kasan = k.kasan!;
  let seen = 0;
  /** The reports the last step made. */
  const step = (): { bugType: string; access: string; size: number | bigint; addr: number }[] => {
    const all = kasan.reports();
    const got = all.slice(seen);
    seen = all.length;
    return got;
  };
  for (const o of ops) {
    if (o.op === 'alloc') {
      const addr = k.kmalloc(o.size, GFP_KERNEL);
      expect(addr).toBeGreaterThan(16);
      expect(step()).toEqual([]);
      allocs.push({ addr, size: o.size, live: true });
      continue;
    }
    if (allocs.length === 0) continue;
    const x = allocs[o.pick % allocs.length]!;
    if (o.op === 'free') {
      if (!x.live) continue;
      k.kfree(x.addr);
      x.live = false;
      expect(step()).toEqual([]);
    } else if (o.op === 'doubleFree') {
      if (x.live) continue;
      k.kfree(x.addr);
      expect(step().map((r) => [r.bugType, r.addr])).toEqual([['double-free', x.addr]]);
    } else if (o.op === 'invalidFree') {
      if (!x.live || o.delta >= x.size) continue;
      k.kfree(x.addr + o.delta);
      expect(step().map((r) => [r.bugType, r.addr])).toEqual([['invalid-free', x.addr + o.delta]]);
      // Not freed: still accessible.
      k.mem.read8(x.addr);
      expect(step()).toEqual([]);
    } else if (o.op === 'access') {
      // Stay near the object: from 8 bytes before it to 16 after its end,
      // where only its own slot (or pages) lie.
      const span = x.size + 16 - o.width + 8;
      const a = x.addr - 8 + (o.off % (span + 1));
      const ok = valid(allocs, a, o.width);
      const w = o.width;
      if (o.write) {
        if (w === 1) k.mem.write8(a, 0x5a);
        else if (w === 2) k.mem.write16(a, 0x5a5a);
        else if (w === 4) k.mem.write32(a, 0x5a5a5a5a);
        else k.mem.write64(a, 0x5a5a5a5a5a5a5a5an);
      } else if (w === 1) k.mem.read8(a);
      else if (w === 2) k.mem.read16(a);
      else if (w === 4) k.mem.read32(a);
      else k.mem.read64(a);
      const got = step();
      if (ok) expect(got, `valid ${w}-byte access at +${a - x.addr} of ${x.size}`).toEqual([]);
      else {
        expect(
          got.map((r) => [r.access, r.size, r.addr]),
          `invalid ${w}-byte access at +${a - x.addr} of ${x.size}`,
        ).toEqual([[o.write ? 'write' : 'read', w, a]]);
      }
    } else {
      const span = x.size + 16 - o.len + 8;
      if (span < 0) continue;
      const a = x.addr - 8 + (o.off % (span + 1));
      const ok = valid(allocs, a, o.len);
      // memchr() reads byte by byte and stops at a match: each bad byte it reads is a 1-byte report.
      const scanned: [string, number, number][] = [];
      for (let b = a; b < a + o.len; b++) {
        if (!valid(allocs, b, 1)) scanned.push(['read', 1, b]);
        if (k.phys.u8[b] === 0xff) break;
      }
      if (o.kind === 'memset') k.mem.memset(a, 0x11, o.len);
      else if (o.kind === 'readBytes') k.mem.readBytes(a, o.len);
      else k.mem.memchr(a, 0xff, o.len);
      const got = step().map((r) => [r.access, r.size, r.addr]);
      if (o.kind === 'memchr') expect(got).toEqual(scanned);
      else if (ok) expect(got).toEqual([]);
      else expect(got).toEqual([[o.kind === 'memset' ? 'write' : 'read', o.len, a]]);
    }
  }
}

describe('KASAN against a byte-validity model', () => {
  it('reports exactly the invalid accesses and frees of random programs', () => {
    fc.assert(
      fc.property(fc.array(opArb, { minLength: 1, maxLength: 60 }), (ops) => {
        const k = boot({ memory: '16M', cpus: 2, kasan: 'generic' });
        run(k, ops);
      }),
      { numRuns: 80, seed: 0x4b41 },
    );
  });

  it('also holds on one long-running machine, quarantine cycling included', () => {
    const k = boot({ memory: '32M', cpus: 1, kasan: 'generic' });
    const ops = fc.sample(fc.array(opArb, { minLength: 400, maxLength: 400 }), { numRuns: 1, seed: 7 })[0]!;
    // Bring this CPU's quarantine queue close to its 1 MiB limit (kmalloc-4k slots are 8 KiB).
    const q = k.kasan!.quarantine;
    expect(q.maxSize).toBe(0); // 32 MiB / 32 - 1 MiB per CPU
    for (let i = 0; i < 128; i++) k.kfree(k.kmalloc(4096, GFP_KERNEL));
    expect(q.stats()).toEqual({ objects: 128, bytes: 1 << 20, globalBytes: 0 });
    // Frees only of objects allocated here, accesses only while they can be judged: reads
    // of freed memory are safe whether or not it left the quarantine.
    run(
      k,
      ops.map((o) => (o.op === 'access' ? { ...o, write: false } : o.op === 'range' && o.kind === 'memset' ? { ...o, kind: 'readBytes' as const } : o)),
    );
    // The prefill left the quarantine: the queue passed 1 MiB, moved to the ring, and reduce() freed it.
    expect(q.stats().objects).toBeLessThan(128);
  });
});
