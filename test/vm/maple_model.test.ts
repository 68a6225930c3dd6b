/**
 * Model-based test (fast-check fc.commands) of a process's maple tree: random
 * mmap / munmap / mprotect / mremap / brk (and a fork now and then) through a Task, and after
 * every step the mm's tree holds exactly mm->vmas and the NULL gaps between
 * them, every node keeps the kernel's occupancy invariants (mt_validate), and
 * the maple_node objects in the slab are exactly the trees' nodes.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Kernel } from '../../src/kernel.js';
import type { Task } from '../../src/vm/fork.js';
import { MT_MAX } from '../../src/vm/maple_tree.js';
import { MAP_ANONYMOUS, MAP_FIXED, MAP_PRIVATE, MREMAP_MAYMOVE, PROT_READ, PROT_WRITE } from '../../src/vm/mman.js';
import { bootWithProgram } from './helpers.js';
import { liveMaple, mapleRanges, validateMaple } from './maple_check.js';

const P = 4096;
/** A window of pages with room for some hundred VMAs. */
const W = 0x10000000;
const NP = 512;

/** The tallest tree a run reached: the runs must reach internal nodes above internal nodes. */
let maxHeight = 0;

interface Real {
  k: Kernel;
  tasks: Task[];
  base: number;
}

/** The tree's ranges against mm->vmas plus gaps, the invariants, and the slab's count. */
function check(r: Real): void {
  let nodes = 0;
  for (const t of r.tasks) {
    const mm = t.mm!;
    const tree = mm.mapleTree!;
    expect(validateMaple(tree)).toBeNull();
    const want: number[] = [];
    let cur = 0;
    for (const v of mm.vmas) {
      const st = r.k.vm.s.vmStart(v);
      if (st > cur) want.push(cur, st - 1, 0);
      want.push(st, r.k.vm.s.vmEnd(v) - 1, v);
      cur = r.k.vm.s.vmEnd(v);
    }
    want.push(cur, MT_MAX, 0);
    expect(mapleRanges(tree)).toEqual(want);
    nodes += tree.nodes;
    maxHeight = Math.max(maxHeight, tree.height());
  }
  expect(liveMaple(r.k) - r.base).toBe(nodes);
}

class Mmap implements fc.Command<object, Real> {
  constructor(
    readonly ti: number,
    readonly page: number,
    readonly n: number,
    readonly prot: number,
  ) {}
  check(): boolean {
    return true;
  }
  run(_m: object, r: Real): void {
    const t = r.tasks[this.ti % r.tasks.length]!;
    const n = Math.min(this.n, NP - this.page);
    expect(t.mmap(W + this.page * P, n * P, this.prot, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0)).toBe(W + this.page * P);
    check(r);
  }
  toString(): string {
    return `mmap(t${this.ti}, ${this.page}, ${this.n}, ${this.prot})`;
  }
}

class Munmap implements fc.Command<object, Real> {
  constructor(
    readonly ti: number,
    readonly page: number,
    readonly n: number,
  ) {}
  check(): boolean {
    return true;
  }
  run(_m: object, r: Real): void {
    const t = r.tasks[this.ti % r.tasks.length]!;
    expect(t.munmap(W + this.page * P, Math.min(this.n, NP - this.page) * P)).toBe(0);
    check(r);
  }
  toString(): string {
    return `munmap(t${this.ti}, ${this.page}, ${this.n})`;
  }
}

class Mprotect implements fc.Command<object, Real> {
  constructor(
    readonly ti: number,
    readonly page: number,
    readonly n: number,
    readonly prot: number,
  ) {}
  check(): boolean {
    return true;
  }
  run(_m: object, r: Real): void {
    const t = r.tasks[this.ti % r.tasks.length]!;
    // ENOMEM over unmapped pages is fine: the tree must still match.
    t.mprotect(W + this.page * P, Math.min(this.n, NP - this.page) * P, this.prot);
    check(r);
  }
  toString(): string {
    return `mprotect(t${this.ti}, ${this.page}, ${this.n}, ${this.prot})`;
  }
}

/** mprotect of every other page of a run: up to n VMAs at once, as maple_count's prot mode makes them. */
class Stripe implements fc.Command<object, Real> {
  constructor(
    readonly ti: number,
    readonly page: number,
    readonly n: number,
    readonly prot: number,
  ) {}
  check(): boolean {
    return true;
  }
  run(_m: object, r: Real): void {
    const t = r.tasks[this.ti % r.tasks.length]!;
    for (let p = this.page; p < Math.min(NP, this.page + 2 * this.n); p += 2) t.mprotect(W + p * P, P, this.prot);
    check(r);
  }
  toString(): string {
    return `stripe(t${this.ti}, ${this.page}, ${this.n}, ${this.prot})`;
  }
}

/** mremap of a range to a new length, moving when it must (MREMAP_MAYMOVE); errors are fine. */
class Mremap implements fc.Command<object, Real> {
  constructor(
    readonly ti: number,
    readonly page: number,
    readonly n: number,
    readonly m: number,
  ) {}
  check(): boolean {
    return true;
  }
  run(_m: object, r: Real): void {
    const t = r.tasks[this.ti % r.tasks.length]!;
    const n = Math.min(this.n, NP - this.page);
    t.mremap(W + this.page * P, n * P, this.m * P, MREMAP_MAYMOVE, 0);
    check(r);
  }
  toString(): string {
    return `mremap(t${this.ti}, ${this.page}, ${this.n}, ${this.m})`;
  }
}

/** brk up or down by some pages: the [heap] VMA grows, shrinks, appears or goes. */
class Brk implements fc.Command<object, Real> {
  constructor(
    readonly ti: number,
    readonly pages: number,
  ) {}
  check(): boolean {
    return true;
  }
  run(_m: object, r: Real): void {
    const t = r.tasks[this.ti % r.tasks.length]!;
    const cur = t.brk(0);
    t.brk(Math.max(0, cur + this.pages * P));
    check(r);
  }
  toString(): string {
    return `brk(t${this.ti}, ${this.pages})`;
  }
}

class Fork implements fc.Command<object, Real> {
  constructor(readonly ti: number) {}
  check(_m: object): boolean {
    return true;
  }
  run(_m: object, r: Real): void {
    if (r.tasks.length >= 3) {
      const t = r.tasks.pop()!;
      t.exit(0);
      t.wait?.();
    } else r.tasks.push(r.tasks[this.ti % r.tasks.length]!.fork());
    check(r);
  }
  toString(): string {
    return `fork/exit(t${this.ti})`;
  }
}

const page = fc.integer({ min: 0, max: NP - 1 });
const len = fc.oneof(fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 64 }));
const prot = fc.constantFrom(PROT_READ, PROT_READ | PROT_WRITE, 0);
const ti = fc.integer({ min: 0, max: 2 });
const commands = [
  fc.tuple(ti, page, len, prot).map(([a, b, c, d]) => new Mmap(a, b, c, d)),
  fc.tuple(ti, page, len, prot).map(([a, b, c, d]) => new Mmap(a, b, c, d)),
  fc.tuple(ti, page, len).map(([a, b, c]) => new Munmap(a, b, c)),
  fc.tuple(ti, page, len, prot).map(([a, b, c, d]) => new Mprotect(a, b, c, d)),
  fc.tuple(ti, page, len, prot).map(([a, b, c, d]) => new Mprotect(a, b, c, d)),
  fc.tuple(ti, page, fc.integer({ min: 1, max: 64 }), prot).map(([a, b, c, d]) => new Stripe(a, b, c, d)),
  fc.tuple(ti, page, len, fc.integer({ min: 1, max: 64 })).map(([a, b, c, d]) => new Mremap(a, b, c, d)),
  fc.tuple(ti, fc.integer({ min: -8, max: 8 })).map(([a, b]) => new Brk(a, b)),
  ti.map((a) => new Fork(a)),
];

describe('maple tree model', () => {
  it('the tree is mm->vmas plus gaps after every mmap / munmap / mprotect / fork, nodes within occupancy, slab count exact', () => {
    const k = bootWithProgram('64M');
    fc.assert(
      fc.property(fc.commands(commands, { maxCommands: 300, size: 'max' }), (cmds) => {
        const base = liveMaple(k);
        const t = k.spawn('/bin/tiny', ['tiny']);
        // The spawned task's nodes are in the slab now: count from before the spawn.
        const r: Real = { k, tasks: [t], base };
        check(r);
        fc.modelRun(() => ({ model: {}, real: r }), cmds);
        for (const x of r.tasks) x.exit(0);
        expect(liveMaple(k)).toBe(base);
      }),
      { numRuns: 30, seed: 1305 },
    );
    expect(maxHeight).toBeGreaterThanOrEqual(3);
  });
});
