/**
 * Model-based property test (fast-check fc.commands) of compaction mixed
 * with faults, frees and reclaim: a task with anonymous memory, a shared
 * anonymous (shmem) mapping and a regular file it writes through the page
 * cache, over a zone fragmented by a ballast of pages every other one of
 * which was freed; random writes, MADV_DONTNEED frees, MADV_PAGEOUT, direct reclaim,
 * compact_memory, and high-order kernel allocations that compact directly.
 * The model holds every page's bytes. After every step every byte the task
 * reads is the model's, the LRU lists recount exactly, nothing is left
 * isolated, and the compaction counters agree with each other
 * (compact_stall = compact_success + compact_fail).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { O_CREAT, O_RDWR } from '../../src/fs/fcntl.js';
import { boot, type Kernel } from '../../src/kernel.js';
import { __GFP_MEMALLOC, __GFP_NORETRY, __GFP_NOWARN, GFP_HIGHUSER_MOVABLE, GFP_KERNEL, GFP_NOWAIT } from '../../src/page_alloc/gfp.js';
import type { Task } from '../../src/vm/fork.js';
import { MADV_DONTNEED, MADV_PAGEOUT, MAP_ANONYMOUS, MAP_FIXED, MAP_PRIVATE, MAP_SHARED, PROT_READ, PROT_WRITE } from '../../src/vm/mman.js';
import { tryToFreePages } from '../../src/vm/vmscan.js';
import { pagePattern as fill, tinyElf, vmstatValue as vmstat } from './helpers.js';
import { recountLru } from './lru_check.js';

const P = 4096;
const ANON = 0x10000000;
const SHM = 0x20000000;
const BUF = 0x30000000;
/** Ballast: NB pages touched at the start and every other one freed, so the zone is fragmented and compaction has work. */
const BALLAST = 0x40000000;
const NB = 4000;
const NA = 24;
const NS = 12;
const NF = 12;

/** Which region: 0 anonymous, 1 shmem, 2 the file. */
type Region = 0 | 1 | 2;

interface Model {
  pages: (Uint8Array | null)[][];
}

interface Real {
  k: Kernel;
  t: Task;
  fd: number;
  held: [number, number][];
}

/** The bytes of page i of a region, as the task reads them. */
function readPage(r: Real, region: Region, i: number): Uint8Array {
  if (region === 0) return r.t.readBytes(ANON + i * P, P);
  if (region === 1) return r.t.readBytes(SHM + i * P, P);
  expect(r.t.pread(r.fd, BUF, P, i * P)).toBe(P);
  return r.t.readBytes(BUF, P);
}

function check(m: Model, r: Real): void {
  const sizes = [NA, NS, NF];
  for (let region = 0; region < 3; region++) {
    for (let i = 0; i < sizes[region]!; i++) {
      const want = m.pages[region]![i] ?? new Uint8Array(P);
      const got = readPage(r, region as Region, i);
      for (let j = 0; j < P; j++) if (got[j] !== want[j]) throw new Error(`region ${region} page ${i} byte ${j}: ${got[j]} != ${want[j]}`);
    }
  }
  for (let i = 1; i < NB; i += 2) if (r.t.read32(BALLAST + i * P) !== i) throw new Error(`ballast page ${i} changed`);
  recountLru(r.k);
  expect(vmstat(r.k, 'nr_isolated_anon')).toBe(0);
  expect(vmstat(r.k, 'nr_isolated_file')).toBe(0);
  expect(vmstat(r.k, 'compact_stall')).toBe(vmstat(r.k, 'compact_success') + vmstat(r.k, 'compact_fail'));
}

class WriteCmd implements fc.Command<Model, Real> {
  constructor(
    readonly region: Region,
    readonly page: number,
    readonly seed: number,
  ) {}
  check(): boolean {
    return true;
  }
  run(m: Model, r: Real): void {
    const i = this.page % [NA, NS, NF][this.region]!;
    const b = fill(this.seed);
    if (this.region === 0) r.t.writeBytes(ANON + i * P, b);
    else if (this.region === 1) r.t.writeBytes(SHM + i * P, b);
    else {
      r.t.writeBytes(BUF, b);
      expect(r.t.pwrite(r.fd, BUF, P, i * P)).toBe(P);
    }
    m.pages[this.region]![i] = b;
    check(m, r);
  }
  toString(): string {
    return `write(${this.region}, ${this.page}, ${this.seed})`;
  }
}

class FreeCmd implements fc.Command<Model, Real> {
  constructor(
    readonly page: number,
    readonly n: number,
  ) {}
  check(): boolean {
    return true;
  }
  run(m: Model, r: Real): void {
    const i = this.page % NA;
    const n = Math.min(this.n, NA - i);
    expect(r.t.madvise(ANON + i * P, n * P, MADV_DONTNEED)).toBe(0);
    for (let j = i; j < i + n; j++) m.pages[0]![j] = null;
    check(m, r);
  }
  toString(): string {
    return `free(${this.page}, ${this.n})`;
  }
}

class PageoutCmd implements fc.Command<Model, Real> {
  constructor(readonly region: 0 | 1) {}
  check(): boolean {
    return true;
  }
  run(m: Model, r: Real): void {
    const at = this.region === 0 ? ANON : SHM;
    expect(r.t.madvise(at, (this.region === 0 ? NA : NS) * P, MADV_PAGEOUT)).toBe(0);
    check(m, r);
  }
  toString(): string {
    return `pageout(${this.region})`;
  }
}

class ReclaimCmd implements fc.Command<Model, Real> {
  check(): boolean {
    return true;
  }
  run(m: Model, r: Real): void {
    tryToFreePages(r.k.vm, 0, GFP_HIGHUSER_MOVABLE);
    check(m, r);
  }
  toString(): string {
    return 'reclaim';
  }
}

class CompactMemoryCmd implements fc.Command<Model, Real> {
  check(): boolean {
    return true;
  }
  run(m: Model, r: Real): void {
    r.k.proc.write('/proc/sys/vm/compact_memory', '1');
    check(m, r);
  }
  toString(): string {
    return 'compact_memory';
  }
}

/** A high-order kernel allocation (kept), or the oldest one freed. */
class HighOrderCmd implements fc.Command<Model, Real> {
  constructor(
    readonly order: number,
    readonly free: boolean,
  ) {}
  check(): boolean {
    return true;
  }
  run(m: Model, r: Real): void {
    if (this.free && r.held.length > 0) {
      const [a, o] = r.held.shift()!;
      r.k.freePages(a, o);
    } else {
      const a = r.k.allocPages(this.order, GFP_KERNEL | __GFP_NOWARN | __GFP_NORETRY);
      if (a !== 0) r.held.push([a, this.order]);
    }
    check(m, r);
  }
  toString(): string {
    return this.free ? 'free_pages' : `alloc_pages(${this.order})`;
  }
}

const commands = fc.commands(
  [
    fc.tuple(fc.constantFrom<Region>(0, 1, 2), fc.nat(63), fc.integer({ min: 1, max: 1 << 20 })).map(([g, p, s]) => new WriteCmd(g, p, s)),
    fc.tuple(fc.nat(63), fc.integer({ min: 1, max: 8 })).map(([p, n]) => new FreeCmd(p, n)),
    fc.constantFrom<0 | 1>(0, 1).map((g) => new PageoutCmd(g)),
    fc.constant(new ReclaimCmd()),
    fc.constant(new CompactMemoryCmd()),
    fc.tuple(fc.integer({ min: 1, max: 5 }), fc.boolean()).map(([o, f]) => new HighOrderCmd(o, f)),
  ],
  { maxCommands: 30 },
);

describe('compaction with faults, frees and reclaim (model-based)', () => {
  it('keeps every byte and the LRU lists exact', () => {
    fc.assert(
      fc.property(commands, (cmds) => {
        const k = boot({ memory: '32M', cpus: 1, seed: 1, aslr: 0, swap: '16M' });
        k.fs.writeFile('/bin/tiny', tinyElf());
        const t = k.spawn('/bin/tiny');
        expect(t.mmap(ANON, NA * P, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0)).toBe(ANON);
        expect(t.mmap(SHM, NS * P, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS | MAP_FIXED, -1, 0)).toBe(SHM);
        expect(t.mmap(BUF, P, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0)).toBe(BUF);
        expect(t.mmap(BALLAST, NB * P, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0)).toBe(BALLAST);
        for (let i = 0; i < NB; i++) t.write32(BALLAST + i * P, i);
        // The kernel takes every free block of order 1 and up (no watermark): high orders must now come from compaction.
        const pinned: [number, number][] = [];
        for (let o = 10; o >= 1; o--) {
          for (let a = k.allocPages(o, GFP_NOWAIT | __GFP_MEMALLOC); a !== 0; a = k.allocPages(o, GFP_NOWAIT | __GFP_MEMALLOC)) pinned.push([a, o]);
        }
        for (let i = 0; i < NB; i += 2) t.madvise(BALLAST + i * P, P, MADV_DONTNEED);
        const fd = t.open('/data', O_RDWR | O_CREAT);
        expect(t.pwrite(fd, BUF, P, (NF - 1) * P)).toBe(P);
        const real: Real = { k, t, fd, held: [] };
        const model: Model = { pages: [Array(NA).fill(null), Array(NS).fill(null), Array(NF).fill(null)] };
        fc.modelRun(() => ({ model, real }), cmds);
        for (const [a, o] of real.held) k.freePages(a, o);
        for (const [a, o] of pinned) k.freePages(a, o);
      }),
      { numRuns: 25 },
    );
  });
});
