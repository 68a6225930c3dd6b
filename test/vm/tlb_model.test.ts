/**
 * The software TLB (mm.tlbTag/tlbPhys, filled by Task.translate) is never
 * stale: model-based (fast-check fc.commands) runs of loads, stores, mmap,
 * munmap, mprotect, mremap, madvise (DONTNEED, FREE, COLD, PAGEOUT,
 * POPULATE_WRITE: copy-on-write breaks outside a user access), mlock, fork
 * (the parent's private PTEs write-protected), copy-on-write breaks,
 * msync/sync of shared file pages (clean PTEs write-protected), reclaim
 * (MADV_PAGEOUT unmaps into swap), compaction (migration unmaps) and exit.
 *
 * The kernel's rule: a translation the CPU may still use must match the page
 * tables, so every PTE change that takes a permission or a frame away is
 * followed by a TLB flush for that address (flush_tlb_page/range/mm) before
 * anyone can use the old translation. The property checked after every
 * command, for every live task: each valid load entry names a present PTE
 * for that page whose frame is the entry's frame, and each valid store
 * entry additionally a writable, dirty PTE. A store through a store entry
 * or a load through a load entry therefore always goes where a fresh page
 * table walk would send it. Each load also checks its value against the
 * byte at the frame a fresh walk finds.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { O_CREAT, O_RDWR } from '../../src/fs/fcntl.js';
import type { Kernel } from '../../src/kernel.js';
import type { Task } from '../../src/vm/fork.js';
import {
  MADV_COLD,
  MADV_DONTNEED,
  MADV_FREE,
  MADV_PAGEOUT,
  MADV_POPULATE_WRITE,
  MAP_ANONYMOUS,
  MAP_FIXED,
  MAP_PRIVATE,
  MAP_SHARED,
  MREMAP_FIXED,
  MREMAP_MAYMOVE,
  MS_SYNC,
  PROT_READ,
  PROT_WRITE,
} from '../../src/vm/mman.js';
import { _PAGE_DIRTY, _PAGE_PRESENT, _PAGE_RW } from '../../src/vm/pgtable.js';
import { bootWithProgram } from './helpers.js';

const P = 4096;
/**
 * The commands work on NP pages: two runs of NP / 2 pages, 256 pages apart,
 * so the two runs' pages share TLB slots (vpn & 255).
 */
const W = 0x20000000;
const NP = 32;
const va = (s: number): number => W + (s < NP / 2 ? s : 256 + s - NP / 2) * P;

interface Real {
  k: Kernel;
  /** tasks[0] is the parent; children come and go. */
  tasks: Task[];
  fd: number;
}

/** Every valid TLB entry of t's mm agrees with a fresh walk of its page tables. */
function checkTlb(r: Real, t: Task): void {
  const mm = t.mm;
  if (mm === null) return;
  const u32 = r.k.phys.u32;
  const pt = r.k.vm.pt;
  for (let s = 0; s < mm.tlbTagR.length; s++) {
    for (const write of [false, true]) {
      const vpn = write ? mm.tlbTagW[s]! : mm.tlbTagR[s]!;
      if (vpn < 0) continue;
      expect(vpn & (mm.tlbTagR.length - 1), 'slot of the entry').toBe(s);
      const idx = pt.walk(mm.pgd, vpn * P);
      const where = `${write ? 'store' : 'load'} TLB entry for va ${(vpn * P).toString(16)} in pid ${t.pid}`;
      expect(idx, `${where}: no page table`).toBeGreaterThanOrEqual(0);
      const lo = u32[idx]!;
      expect(lo & _PAGE_PRESENT, `${where}: PTE not present`).not.toBe(0);
      expect((lo & ~0xfff) >>> 0, `${where}: PTE maps another frame`).toBe(write ? mm.tlbPhysW[s] : mm.tlbPhysR[s]);
      if (write) expect(lo & (_PAGE_RW | _PAGE_DIRTY), `${where}: PTE not writable and dirty`).toBe(_PAGE_RW | _PAGE_DIRTY);
    }
  }
}

function checkAll(r: Real): void {
  for (const t of r.tasks) checkTlb(r, t);
}

/** The byte a fresh walk finds at va (-1: not present). */
function walkByte(r: Real, t: Task, a: number): number {
  const idx = r.k.vm.pt.walk(t.mm!.pgd, a);
  if (idx < 0) return -1;
  const lo = r.k.phys.u32[idx]!;
  if ((lo & _PAGE_PRESENT) === 0) return -1;
  return r.k.phys.u8[((lo & ~0xfff) >>> 0) + (a % P)]!;
}

/** The task a command acts on. */
const pick = (r: Real, i: number): Task => r.tasks[i % r.tasks.length]!;

/** Run a user access; a signal is a legal outcome (the mapping may be gone or read-only), but then the task is dead. */
function access(r: Real, ti: number, fn: (t: Task) => void): void {
  const t = pick(r, ti);
  try {
    fn(t);
  } catch (e) {
    const name = (e as Error).constructor.name;
    if (name !== 'Segfault' && name !== 'BusError') throw e;
    // The task died of the signal: it leaves the set (the parent is replaced by a fresh process).
    r.tasks.splice(r.tasks.indexOf(t), 1);
    if (t.parent !== null && t.parent.mm !== null) t.parent.wait();
    if (r.tasks.length === 0) r.tasks.push(spawnParent(r));
  }
}

function spawnParent(r: Real): Task {
  const t = r.k.spawn('/bin/tiny', ['tiny']);
  r.fd = t.open('/data/f', O_RDWR | O_CREAT);
  return t;
}

type Cmd = fc.Command<object, Real>;

/** A command that does `run` and then checks every task's TLB. */
function cmd(name: string, run: (r: Real) => void): Cmd {
  return {
    check: () => true,
    run: (_m, r) => {
      run(r);
      checkAll(r);
    },
    toString: () => name,
  };
}

const slot = fc.integer({ min: 0, max: NP - 1 });
const len = fc.integer({ min: 1, max: 8 });
const task = fc.nat(3);

const commands = [
  fc
    .tuple(task, slot, fc.integer({ min: 0, max: 255 }))
    .map(([ti, s, v]) => cmd(`write8(t${ti}, ${s}, ${v})`, (r) => access(r, ti, (t) => t.write8(va(s) + (v % 64), v)))),
  fc.tuple(task, slot).map(([ti, s]) =>
    cmd(`read8(t${ti}, ${s})`, (r) =>
      access(r, ti, (t) => {
        const a = va(s) + 5;
        const got = t.read8(a);
        // The load went through the TLB or a walk; a fresh walk must find the same byte.
        expect(got).toBe(walkByte(r, t, a));
      }),
    ),
  ),
  fc.tuple(task, slot, len, fc.constantFrom('private', 'shared', 'file')).map(([ti, s, n, kind]) =>
    cmd(`mmap(t${ti}, ${s}, ${n}, ${kind})`, (r) => {
      const t = pick(r, ti);
      const flags = MAP_FIXED | (kind === 'private' ? MAP_PRIVATE | MAP_ANONYMOUS : kind === 'shared' ? MAP_SHARED | MAP_ANONYMOUS : MAP_SHARED);
      t.mmap(va(s), n * P, PROT_READ | PROT_WRITE, flags, kind === 'file' ? r.fd : -1, 0);
    }),
  ),
  fc.tuple(task, slot, len).map(([ti, s, n]) => cmd(`munmap(t${ti}, ${s}, ${n})`, (r) => void pick(r, ti).munmap(va(s), n * P))),
  fc
    .tuple(task, slot, len, fc.constantFrom(0, PROT_READ, PROT_READ | PROT_WRITE))
    .map(([ti, s, n, prot]) => cmd(`mprotect(t${ti}, ${s}, ${n}, ${prot})`, (r) => void pick(r, ti).mprotect(va(s), n * P, prot))),
  fc
    .tuple(task, slot, len, fc.constantFrom(MADV_DONTNEED, MADV_FREE, MADV_COLD, MADV_PAGEOUT, MADV_POPULATE_WRITE))
    .map(([ti, s, n, adv]) => cmd(`madvise(t${ti}, ${s}, ${n}, ${adv})`, (r) => void pick(r, ti).madvise(va(s), n * P, adv))),
  fc
    .tuple(task, slot, len, slot)
    .map(([ti, s, n, d]) =>
      cmd(`mremap(t${ti}, ${s}, ${n} -> ${d})`, (r) => void pick(r, ti).mremap(va(s), n * P, n * P, MREMAP_MAYMOVE | MREMAP_FIXED, va(d))),
    ),
  fc.tuple(task, slot, len).map(([ti, s, n]) => cmd(`mlock(t${ti}, ${s}, ${n})`, (r) => void pick(r, ti).mlock(va(s), n * P))),
  fc.tuple(task, slot, len).map(([ti, s, n]) => cmd(`munlock(t${ti}, ${s}, ${n})`, (r) => void pick(r, ti).munlock(va(s), n * P))),
  fc.tuple(task, slot, len).map(([ti, s, n]) => cmd(`msync(t${ti}, ${s}, ${n})`, (r) => void pick(r, ti).msync(va(s), n * P, MS_SYNC))),
  fc.constant(cmd('sync', (r) => r.k.sync())),
  fc.constant(cmd('compact_memory', (r) => r.k.proc.write('/proc/sys/vm/compact_memory', '1'))),
  fc.nat(3).map((ti) =>
    cmd(`fork(t${ti})`, (r) => {
      if (r.tasks.length < 4) r.tasks.push(pick(r, ti).fork());
    }),
  ),
  fc.nat(3).map((ti) =>
    cmd(`exit(t${ti})`, (r) => {
      if (r.tasks.length < 2) return;
      const t = pick(r, ti);
      if (t === r.tasks[0]) return;
      t.exit(0);
      r.tasks.splice(r.tasks.indexOf(t), 1);
      if (t.parent !== null && t.parent.mm !== null) t.parent.wait();
    }),
  ),
];

describe('software TLB', () => {
  it('never holds a translation the page tables no longer give (model-based)', () => {
    fc.assert(
      fc.property(fc.commands(commands, { maxCommands: 120 }), (cmds) => {
        const k = bootWithProgram('32M');
        const r: Real = { k, tasks: [], fd: -1 };
        k.fs.writeFile('/data/f', new Uint8Array(300 * P).fill(3));
        r.tasks.push(spawnParent(r));
        fc.modelRun(() => ({ model: {}, real: r }), cmds);
        for (const t of [...r.tasks].reverse()) {
          if (t === r.tasks[0]) continue;
          t.exit(0);
        }
      }),
      { numRuns: 60 },
    );
  });

  it('a store entry goes when fork write-protects the page, and the COW break maps a new frame', () => {
    const k = bootWithProgram('32M');
    const r: Real = { k, tasks: [], fd: -1 };
    k.fs.writeFile('/data/f', new Uint8Array(P));
    const t = spawnParent(r);
    r.tasks.push(t);
    const a = t.mmap(W, P, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    t.write8(a, 1);
    const mm = t.mm!;
    const s = (a / P) & 255;
    expect(mm.tlbTagW[s]).toBe(a / P);
    const frame = mm.tlbPhysW[s];
    const child = t.fork();
    r.tasks.push(child);
    // fork write-protected the parent's PTE: no store entry may survive it.
    expect(mm.tlbTagW[s]).toBe(-1);
    checkAll(r);
    t.write8(a, 2);
    expect(child.read8(a)).toBe(1);
    expect(t.read8(a)).toBe(2);
    // Refcount 2 at the fault: the parent got a copy.
    expect(mm.tlbPhysW[s]).not.toBe(frame);
    checkAll(r);
  });

  it('a load entry goes when mlock breaks copy-on-write outside a user access', () => {
    const k = bootWithProgram('32M');
    const r: Real = { k, tasks: [], fd: -1 };
    k.fs.writeFile('/data/f', new Uint8Array(P));
    const t = spawnParent(r);
    r.tasks.push(t);
    const a = t.mmap(W, P, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    t.write8(a, 1);
    r.tasks.push(t.fork());
    // A load entry for the shared, write-protected frame.
    expect(t.read8(a)).toBe(1);
    const mm = t.mm!;
    const s = (a / P) & 255;
    expect(mm.tlbTagR[s]).toBe(a / P);
    // mlock's populate writes (FOLL_WRITE) through the fault path: the parent gets its own copy.
    expect(t.mlock(a, P)).toBe(0);
    checkAll(r);
  });
});
