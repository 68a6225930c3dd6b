/**
 * Model-based property test (fast-check fc.commands) of random
 * mmap/munmap/mprotect/madvise/brk/fork/exit/read/write sequences against a
 * simple model of each address space (at least 10^5 operations a run): for every page of a 64-page window
 * (and of the heap) whether it is mapped, its protection, its bytes, and
 * whether it is resident. Every read must return what the model says, every
 * access the model calls illegal must be a SIGSEGV, RSS must recount exactly,
 * and after every task exits the machine's free pages are back.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Kernel } from '../../src/kernel.js';
import { Segfault } from '../../src/vm/fault.js';
import type { Task } from '../../src/vm/fork.js';
import {
  EEXIST,
  EFAULT,
  EINVAL,
  ENOMEM,
  MADV_DONTNEED,
  MAP_ANONYMOUS,
  MAP_FIXED,
  MAP_FIXED_NOREPLACE,
  MAP_PRIVATE,
  MAP_SHARED,
  MREMAP_FIXED,
  MREMAP_MAYMOVE,
  PROT_READ,
  PROT_WRITE,
} from '../../src/vm/mman.js';
import { bootWithProgram } from './helpers.js';

const P = 4096;
const W = 0x10000000;
const NP = 64;

interface PageM {
  prot: number;
  /** null: all zeros */
  data: Uint8Array | null;
  /** MAP_SHARED|MAP_ANONYMOUS: the bytes live in a box every task's copy shares */
  box?: { data: Uint8Array | null };
  resident: boolean;
}

interface TaskM {
  pages: (PageM | null)[];
  heap: number;
  heapPages: (PageM | null)[];
  baseRss: number;
}

interface Model {
  tasks: TaskM[];
}

interface Real {
  k: Kernel;
  tasks: Task[];
  startBrk: number;
}

let ops = 0;
let moved = 0;

function rssKb(k: Kernel, t: Task): number {
  return Number(/^VmRSS:\s+(\d+) kB$/m.exec(k.proc.read(`/proc/${t.pid}/status`))![1]);
}

let rssChecks = 0;
let rssSteps = 0;

/**
 * RSS recounted from the model every 4th step (and for every task at the end
 * of a run): the mm's counters, and /proc/PID/status every 16th recount.
 */
function checkRss(m: TaskM, r: Real, t: Task, always = false): void {
  if (!always && (rssSteps++ & 3) !== 0) return;
  let res = 0;
  for (const p of m.pages) if (p?.resident) res++;
  for (const p of m.heapPages) if (p?.resident) res++;
  if ((rssChecks++ & 15) === 0) expect(rssKb(r.k, t)).toBe((m.baseRss + res) * 4);
  else expect(t.mm!.rss()).toBe(m.baseRss + res);
}

abstract class Cmd implements fc.Command<Model, Real> {
  check(m: Readonly<Model>): boolean {
    return m.tasks.length > 0;
  }
  abstract run(m: Model, r: Real): void;
  abstract toString(): string;
}

class MmapCmd extends Cmd {
  constructor(
    readonly ti: number,
    readonly page: number,
    readonly n: number,
    readonly prot: number,
    readonly noreplace: boolean,
    readonly shared = false,
  ) {
    super();
  }
  run(m: Model, r: Real): void {
    const i = this.ti % m.tasks.length;
    const tm = m.tasks[i]!;
    const t = r.tasks[i]!;
    const n = Math.min(this.n, NP - this.page);
    const flags = (this.shared ? MAP_SHARED : MAP_PRIVATE) | MAP_ANONYMOUS | (this.noreplace ? MAP_FIXED_NOREPLACE : MAP_FIXED);
    const got = t.mmap(W + this.page * P, n * P, this.prot, flags, -1, 0);
    const overlap = tm.pages.slice(this.page, this.page + n).some((p) => p !== null);
    if (this.noreplace && overlap) {
      expect(got).toBe(-EEXIST);
    } else {
      expect(got).toBe(W + this.page * P);
      for (let p = this.page; p < this.page + n; p++)
        tm.pages[p] = this.shared ? { prot: this.prot, data: null, resident: false, box: { data: null } } : { prot: this.prot, data: null, resident: false };
    }
    checkRss(tm, r, t);
    ops++;
  }
  toString(): string {
    return `mmap(t${this.ti}, page ${this.page}, ${this.n}, prot ${this.prot}${this.noreplace ? ', NOREPLACE' : ''}${this.shared ? ', SHARED' : ''})`;
  }
}

class MunmapCmd extends Cmd {
  constructor(
    readonly ti: number,
    readonly page: number,
    readonly n: number,
  ) {
    super();
  }
  run(m: Model, r: Real): void {
    const i = this.ti % m.tasks.length;
    const tm = m.tasks[i]!;
    const t = r.tasks[i]!;
    expect(t.munmap(W + (this.page - 2) * P, this.n * P)).toBe(0);
    for (let p = this.page - 2; p < this.page - 2 + this.n; p++) if (p >= 0 && p < NP) tm.pages[p] = null;
    checkRss(tm, r, t);
    ops++;
  }
  toString(): string {
    return `munmap(t${this.ti}, page ${this.page - 2}, ${this.n})`;
  }
}

class MprotectCmd extends Cmd {
  constructor(
    readonly ti: number,
    readonly page: number,
    readonly n: number,
    readonly prot: number,
  ) {
    super();
  }
  run(m: Model, r: Real): void {
    const i = this.ti % m.tasks.length;
    const tm = m.tasks[i]!;
    const t = r.tasks[i]!;
    const n = Math.min(this.n, NP - this.page);
    const got = t.mprotect(W + this.page * P, n * P, this.prot);
    // The kernel changes the mapped run from the start and fails with ENOMEM at the first hole.
    let p = this.page;
    if (tm.pages[p] === null) {
      expect(got).toBe(-ENOMEM);
    } else {
      while (p < this.page + n && tm.pages[p] !== null) tm.pages[p++]!.prot = this.prot;
      expect(got).toBe(p === this.page + n ? 0 : -ENOMEM);
    }
    ops++;
  }
  toString(): string {
    return `mprotect(t${this.ti}, page ${this.page}, ${this.n}, ${this.prot})`;
  }
}

class DontneedCmd extends Cmd {
  constructor(
    readonly ti: number,
    readonly page: number,
    readonly n: number,
  ) {
    super();
  }
  run(m: Model, r: Real): void {
    const i = this.ti % m.tasks.length;
    const tm = m.tasks[i]!;
    const t = r.tasks[i]!;
    const n = Math.min(this.n, NP - this.page);
    const got = t.madvise(W + this.page * P, n * P, MADV_DONTNEED);
    let hole = false;
    for (let p = this.page; p < this.page + n; p++) {
      const pm = tm.pages[p];
      if (pm === null || pm === undefined) hole = true;
      else {
        if (pm.box === undefined) pm.data = null;
        pm.resident = false;
      }
    }
    expect(got).toBe(hole ? -ENOMEM : 0);
    checkRss(tm, r, t);
    ops++;
  }
  toString(): string {
    return `madvise(t${this.ti}, page ${this.page}, ${this.n}, DONTNEED)`;
  }
}

class AccessCmd extends Cmd {
  constructor(
    readonly ti: number,
    readonly page: number,
    readonly off: number,
    readonly write: boolean,
    readonly value: number,
    readonly heap: boolean,
    readonly raw: boolean,
  ) {
    super();
  }
  run(m: Model, r: Real): void {
    const i = this.ti % m.tasks.length;
    const tm = m.tasks[i]!;
    const t = r.tasks[i]!;
    const pages = this.heap ? tm.heapPages : tm.pages;
    let pg = this.heap ? this.page % 8 : this.page;
    if (!this.raw) {
      // Mostly aim at a page the access is legal on, so tasks live long enough to matter.
      const ok: number[] = [];
      pages.forEach((p, n) => {
        if (p !== null && (this.write ? (p.prot & PROT_WRITE) !== 0 : p.prot !== 0)) ok.push(n);
      });
      if (ok.length > 0) pg = ok[this.page % ok.length]!;
    }
    const va = (this.heap ? r.startBrk : W) + pg * P + this.off;
    const pm = pages[pg] ?? null;
    const legal = pm !== null && (this.write ? (pm.prot & PROT_WRITE) !== 0 : pm.prot !== 0);
    let err: unknown = null;
    let got = -1;
    try {
      if (this.write) t.write8(va, this.value);
      else got = t.read8(va);
    } catch (e) {
      err = e;
    }
    ops++;
    if (!legal) {
      expect(err).toBeInstanceOf(Segfault);
      expect(t.wait()).toBe(-10);
      m.tasks.splice(i, 1);
      r.tasks.splice(i, 1);
      return;
    }
    expect(err).toBe(null);
    const holder = pm.box ?? pm;
    if (this.write) {
      if (holder.data === null) holder.data = new Uint8Array(P);
      holder.data[this.off] = this.value;
      pm.resident = true;
    } else {
      expect(got).toBe(holder.data === null ? 0 : holder.data[this.off]);
      // A read of shmem brings in a real page; of private memory, the zero page.
      if (pm.box !== undefined) pm.resident = true;
      // A shmem read fault also maps, around it, the shmem pages already in memory (fault-around,
      // clamped to the VMA, which the model does not track): take those from the page table.
      if (pm.box !== undefined && !this.heap) {
        const from = Math.max(0, pg - 16);
        const e = t.pagemap(W + from * P, Math.min(NP, pg + 17) - from);
        for (let j = 0; j < e.length; j++) {
          const q = tm.pages[from + j];
          if (q?.box !== undefined && e[j]! >> 63n === 1n) q.resident = true;
        }
      }
    }
    checkRss(tm, r, t);
  }
  toString(): string {
    return `${this.write ? `write8(t${this.ti}` : `read8(t${this.ti}`}, ${this.heap ? 'heap' : 'window'} ${this.raw ? 'page' : 'legal page #'}${this.page}+${this.off}${this.write ? `, ${this.value}` : ''})`;
  }
}

class BrkCmd extends Cmd {
  constructor(
    readonly ti: number,
    readonly pages: number,
  ) {
    super();
  }
  run(m: Model, r: Real): void {
    const i = this.ti % m.tasks.length;
    const tm = m.tasks[i]!;
    const t = r.tasks[i]!;
    const want = r.startBrk + this.pages * P;
    expect(t.brk(want)).toBe(want);
    for (let p = 0; p < 8; p++) {
      if (p < this.pages) tm.heapPages[p] ??= { prot: PROT_READ | PROT_WRITE, data: null, resident: false };
      else tm.heapPages[p] = null;
    }
    tm.heap = this.pages;
    checkRss(tm, r, t);
    ops++;
  }
  toString(): string {
    return `brk(t${this.ti}, +${this.pages} pages)`;
  }
}

class ForkCmd extends Cmd {
  constructor(readonly ti: number) {
    super();
  }
  override check(m: Readonly<Model>): boolean {
    return m.tasks.length > 0 && m.tasks.length < 6;
  }
  run(m: Model, r: Real): void {
    const i = this.ti % m.tasks.length;
    const tm = m.tasks[i]!;
    const c = r.tasks[i]!.fork();
    const copy = (p: PageM | null): PageM | null =>
      p === null
        ? null
        : p.box !== undefined
          ? // Shared: the same bytes, but the child has no PTE until it faults (no anon_vma: nothing copied).
            { prot: p.prot, data: null, resident: false, box: p.box }
          : { prot: p.prot, data: p.data === null ? null : p.data.slice(), resident: p.resident };
    m.tasks.push({ pages: tm.pages.map(copy), heap: tm.heap, heapPages: tm.heapPages.map(copy), baseRss: tm.baseRss });
    r.tasks.push(c);
    checkRss(m.tasks[m.tasks.length - 1]!, r, c);
    ops++;
  }
  toString(): string {
    return `fork(t${this.ti})`;
  }
}

class MremapCmd extends Cmd {
  constructor(
    readonly ti: number,
    readonly src: number,
    readonly oldN: number,
    readonly newN: number,
    readonly dst: number,
  ) {
    super();
  }
  run(m: Model, r: Real): void {
    const i = this.ti % m.tasks.length;
    const tm = m.tasks[i]!;
    const t = r.tasks[i]!;
    const oldN = Math.min(this.oldN, NP - this.src);
    // A grown shmem mapping would show the inode's pages past the old end, which the model does not keep: no growing shmem.
    const newN = Math.min(tm.pages[this.src]?.box !== undefined ? Math.min(this.newN, oldN) : this.newN, NP - this.dst);
    const got = t.mremap(W + this.src * P, oldN * P, newN * P, MREMAP_MAYMOVE | MREMAP_FIXED, W + this.dst * P);
    ops++;
    const overlap = this.src + oldN > this.dst && this.dst + newN > this.src;
    if (overlap) {
      expect(got).toBe(-EINVAL);
      return;
    }
    const run = tm.pages.slice(this.src, this.src + oldN);
    if (run.some((p) => p === null)) {
      // The range is not inside one VMA.
      expect(got).toBe(-EFAULT);
      return;
    }
    // A mapped run may still span two VMAs (the model does not know where they split): then -EFAULT and nothing moves.
    if (got === -EFAULT) return;
    expect(got).toBe(W + this.dst * P);
    moved++;
    const prot = run[0]!.prot;
    for (let p = this.dst; p < this.dst + newN; p++) {
      const from = p - this.dst < oldN ? run[p - this.dst]! : null;
      tm.pages[p] = from ?? (run[0]!.box !== undefined ? { prot, data: null, resident: false, box: { data: null } } : { prot, data: null, resident: false });
    }
    for (let p = this.src; p < this.src + oldN; p++) if (p < this.dst || p >= this.dst + newN) tm.pages[p] = null;
    checkRss(tm, r, t);
  }
  toString(): string {
    return `mremap(t${this.ti}, page ${this.src}, ${this.oldN} -> ${this.newN}, FIXED page ${this.dst})`;
  }
}

class SpawnCmd extends Cmd {
  override check(m: Readonly<Model>): boolean {
    return m.tasks.length < 2;
  }
  run(m: Model, r: Real): void {
    const t = r.k.spawn('/bin/tiny', ['tiny']);
    r.tasks.push(t);
    m.tasks.push({ pages: new Array(NP).fill(null), heap: 0, heapPages: new Array(8).fill(null), baseRss: rssKb(r.k, t) / 4 });
    ops++;
  }
  toString(): string {
    return 'spawn()';
  }
}

class ExitCmd extends Cmd {
  constructor(readonly ti: number) {
    super();
  }
  run(m: Model, r: Real): void {
    const i = this.ti % m.tasks.length;
    r.tasks[i]!.exit(0);
    m.tasks.splice(i, 1);
    r.tasks.splice(i, 1);
    ops++;
  }
  toString(): string {
    return `exit(t${this.ti})`;
  }
}

const ti = fc.nat(7);
const page = fc.nat(NP - 1);
const len = fc.integer({ min: 1, max: 12 });
const prot = fc.constantFrom(0, PROT_READ, PROT_READ | PROT_WRITE, PROT_READ | PROT_WRITE, PROT_WRITE);
const commands = fc.commands(
  [
    fc.tuple(ti, page, len, prot, fc.boolean()).map(([a, b, c, d, e]) => new MmapCmd(a, b, c, d, e)),
    fc.tuple(ti, page, len, prot, fc.boolean()).map(([a, b, c, d, e]) => new MmapCmd(a, b, c, d, e)),
    fc.tuple(ti, page, len, prot, fc.boolean()).map(([a, b, c, d, e]) => new MmapCmd(a, b, c, d, e, true)),
    fc.tuple(ti, fc.nat(NP + 3), len).map(([a, b, c]) => new MunmapCmd(a, b, c)),
    fc.tuple(ti, page, len, prot).map(([a, b, c, d]) => new MprotectCmd(a, b, c, d)),
    fc.tuple(ti, page, len).map(([a, b, c]) => new DontneedCmd(a, b, c)),
    fc
      .tuple(ti, page, fc.nat(P - 1), fc.boolean(), fc.nat(255), fc.nat(9), fc.nat(19))
      .map(([a, b, c, d, e, h, x]) => new AccessCmd(a, b, c, d, e, h === 0, x === 0)),
    fc
      .tuple(ti, page, fc.nat(P - 1), fc.boolean(), fc.nat(255), fc.nat(9), fc.nat(19))
      .map(([a, b, c, d, e, h, x]) => new AccessCmd(a, b, c, d, e, h === 0, x === 0)),
    fc
      .tuple(ti, page, fc.nat(P - 1), fc.boolean(), fc.nat(255), fc.nat(9), fc.nat(19))
      .map(([a, b, c, d, e, h, x]) => new AccessCmd(a, b, c, d, e, h === 0, x === 0)),
    fc.tuple(ti, fc.nat(8)).map(([a, b]) => new BrkCmd(a, b)),
    ti.map((a) => new ForkCmd(a)),
    ti.map((a) => new ExitCmd(a)),
    fc.constant(new SpawnCmd()),
    fc.tuple(ti, page, len, len, page).map(([a, b, c, d, e]) => new MremapCmd(a, b, c, d, e)),
  ],
  { maxCommands: 3000, size: 'max' },
);

describe('model-based: random address-space operations against a model', () => {
  it('every read, SIGSEGV and RSS matches; every page comes back when the tasks exit', { timeout: 240_000 }, () => {
    const k = bootWithProgram();
    // Warm the page cache and the slab caches once.
    k.spawn('/bin/tiny', ['tiny']).exit(0);
    k.drainAllPages();
    const free0 = () => {
      k.drainAllPages();
      // Free pages plus slab pages: SLUB may keep an empty slab on a CPU's partial list.
      return Number(/^nr_free_pages (\d+)$/m.exec(k.proc.read('/proc/vmstat'))![1]) + k.slabPages(false) + k.slabPages(true);
    };
    const before = free0();
    fc.assert(
      fc.property(commands, (cmds) => {
        const t = k.spawn('/bin/tiny', ['tiny']);
        const real: Real = { k, tasks: [t], startBrk: t.brk(0) };
        const model: Model = {
          tasks: [{ pages: new Array(NP).fill(null), heap: 0, heapPages: new Array(8).fill(null), baseRss: rssKb(k, t) / 4 }],
        };
        try {
          fc.modelRun(() => ({ model, real }), cmds);
          for (let i = 0; i < model.tasks.length; i++) checkRss(model.tasks[i]!, real, real.tasks[i]!, true);
        } finally {
          for (const x of real.tasks) x.exit(0);
        }
        expect(k.tasks()).toEqual([]);
        expect(free0()).toBe(before);
        expect(k.vm.nrAnonMapped).toBe(0);
        expect(k.vm.nrShmem).toBe(0);
        expect(k.vm.shmemRefs.size).toBe(0);
        expect(k.vm.pt.nrPageTables).toBe(2); // init's PGD
      }),
      { numRuns: 150 },
    );
    console.log(`vm model: ${ops} operations checked, ${moved} mremap moves`);
    expect(moved).toBeGreaterThan(0);
    expect(ops).toBeGreaterThanOrEqual(100_000);
  });
});
