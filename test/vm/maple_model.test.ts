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

/** One call on task ti (fork/exit works on the task list), then the tree checked against the VMAs. */
class Op implements fc.Command<object, Real> {
  constructor(
    readonly text: string,
    readonly ti: number,
    readonly act: (t: Task, r: Real) => void,
  ) {}
  check(): boolean {
    return true;
  }
  run(_m: object, r: Real): void {
    this.act(r.tasks[this.ti % r.tasks.length]!, r);
    check(r);
  }
  toString(): string {
    return this.text;
  }
}

const page = fc.integer({ min: 0, max: NP - 1 });
const len = fc.oneof(fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 64 }));
const prot = fc.constantFrom(PROT_READ, PROT_READ | PROT_WRITE, 0);
const ti = fc.integer({ min: 0, max: 2 });
const mmap = fc.tuple(ti, page, len, prot).map(
  ([i, pg, n, pr]) =>
    new Op(`mmap(t${i}, ${pg}, ${n}, ${pr})`, i, (t) => {
      const m = Math.min(n, NP - pg);
      expect(t.mmap(W + pg * P, m * P, pr, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0)).toBe(W + pg * P);
    }),
);
// ENOMEM over unmapped pages is fine for mprotect: the tree must still match.
const mprotect = fc
  .tuple(ti, page, len, prot)
  .map(([i, pg, n, pr]) => new Op(`mprotect(t${i}, ${pg}, ${n}, ${pr})`, i, (t) => void t.mprotect(W + pg * P, Math.min(n, NP - pg) * P, pr)));
const commands = [
  mmap,
  mmap,
  fc.tuple(ti, page, len).map(([i, pg, n]) => new Op(`munmap(t${i}, ${pg}, ${n})`, i, (t) => expect(t.munmap(W + pg * P, Math.min(n, NP - pg) * P)).toBe(0))),
  mprotect,
  mprotect,
  // mprotect of every other page of a run: up to n VMAs at once, as maple_count's prot mode makes them.
  fc.tuple(ti, page, fc.integer({ min: 1, max: 64 }), prot).map(
    ([i, pg, n, pr]) =>
      new Op(`stripe(t${i}, ${pg}, ${n}, ${pr})`, i, (t) => {
        for (let p = pg; p < Math.min(NP, pg + 2 * n); p += 2) t.mprotect(W + p * P, P, pr);
      }),
  ),
  // mremap of a range to a new length, moving when it must (MREMAP_MAYMOVE); errors are fine.
  fc
    .tuple(ti, page, len, fc.integer({ min: 1, max: 64 }))
    .map(
      ([i, pg, n, m]) => new Op(`mremap(t${i}, ${pg}, ${n}, ${m})`, i, (t) => void t.mremap(W + pg * P, Math.min(n, NP - pg) * P, m * P, MREMAP_MAYMOVE, 0)),
    ),
  // brk up or down by some pages: the [heap] VMA grows, shrinks, appears or goes.
  fc.tuple(ti, fc.integer({ min: -8, max: 8 })).map(
    ([i, pages]) =>
      new Op(`brk(t${i}, ${pages})`, i, (t) => {
        const cur = t.brk(0);
        t.brk(Math.max(0, cur + pages * P));
      }),
  ),
  ti.map(
    (i) =>
      new Op(`fork/exit(t${i})`, i, (t, r) => {
        if (r.tasks.length >= 3) {
          const x = r.tasks.pop()!;
          x.exit(0);
          x.wait?.();
        } else r.tasks.push(t.fork());
      }),
  ),
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
