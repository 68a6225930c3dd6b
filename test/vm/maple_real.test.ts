/**
 * kmem's maple_node traffic against a real Linux 6.18 (this project's helper
 * machine, 6.18.44) running test/fixtures/vm/maple/maple_count.c: a child
 * process makes N VMAs (prot: mprotect of every odd page of one N-page
 * mapping; asc / desc: N one-page mappings with a page of gap after each, in
 * ascending / descending order), unmaps every odd one, then the lower half of
 * the region in one call, then exits.
 *
 * The real figures are the maple_node allocations the kernel's
 * kmem:kmem_cache_alloc trace events show in the child between checkpoints
 * (run_trace.sh, maple_trace.out): exact, with no noise from other
 * processes. They count every node the tree makes: the RCU-mode copies of a
 * leaf, the split / push / rebalance nodes, and the side tree a munmap of
 * many VMAs builds (mt_detach). Frees are not traced (6.18 frees maple nodes
 * with kfree_rcu through the slab's sheaves), and /proc/slabinfo's
 * active_objs, read at the same checkpoints (maple_count.out), moves by
 * thousands with the other processes of a busy machine and the per-CPU
 * slabs, so it bounds the live count only loosely (checked below with its
 * median over 7 runs).
 */

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { Kernel } from '../../src/kernel.js';
import { boot } from '../../src/kernel.js';
import type { Task } from '../../src/vm/fork.js';
import { MAP_ANONYMOUS, MAP_FIXED_NOREPLACE, MAP_PRIVATE, PROT_READ, PROT_WRITE } from '../../src/vm/mman.js';
import { buildElf } from './helpers.js';

const PG = 4096;
const BASE = 0x100000000;
const FIX = new URL('../fixtures/vm/maple/', import.meta.url);

/** maple_trace.out: `${mode} ${n} ${step}` -> maple_node objects allocated in that step. */
function realAllocs(): Map<string, number> {
  const m = new Map<string, number>();
  for (const l of readFileSync(new URL('maple_trace.out', FIX), 'utf8').split('\n')) {
    const r = /^(\w+) (\d+) after (\w+): (\d+)/.exec(l);
    if (r) m.set(`${r[1]} ${r[2]} ${r[3]}`, Number(r[4]));
  }
  return m;
}

function allocs(k: Kernel): number {
  return k.inspect.cacheCounters(k.vm.caches.mapleNode).allocs;
}

interface Run {
  /** allocations in the steps: created, odd unmapped, half unmapped */
  allocs: number[];
  /** the child's tree nodes after each step (from before the first) */
  nodes: number[];
}

/**
 * A static binary laid out as gcc -static lays out maple_count (its maps on
 * the real machine: r--p 0x400000-0x401000, r-xp to 0x479000, r--p to
 * 0x4a0000, then the data segment whose first 0x4000 glibc's start-up makes
 * read-only (RELRO), its bss to 0x4ac000), so the tree the VMAs go into
 * starts as the real one does: NULL, six VMAs, NULL, [heap], the big gap, the
 * vDSO's VMAs, [stack].
 */
function staticLikeElf(): Uint8Array {
  return buildElf(
    [
      { vaddr: 0x400000, flags: 4, data: new Uint8Array(0x1000), offset: 0 },
      { vaddr: 0x401000, flags: 5, data: new Uint8Array(0x78000).fill(0x90) },
      { vaddr: 0x479000, flags: 4, data: new Uint8Array(0x27000) },
      { vaddr: 0x4a0000, flags: 6, data: new Uint8Array(0x7000), memsz: 0xc000 },
    ],
    0x401000,
  );
}

const runs = new Map<string, Run>();

/** maple_count's child, step for step, through a kmem Task (once per mode and N). */
function runKmem(mode: string, n: number): Run {
  const key = `${mode} ${n}`;
  let r = runs.get(key);
  if (r === undefined) {
    r = runKmemOnce(mode, n);
    runs.set(key, r);
  }
  return r;
}

function runKmemOnce(mode: string, n: number): Run {
  const k = boot({ memory: '256M', cpus: 2, seed: 1, aslr: 2 });
  k.fs.writeFile('/bin/maple_count', staticLikeElf());
  const parent = k.spawn('/bin/maple_count', ['maple_count']);
  // glibc's start-up: RELRO read-only, then stdio's first buffer from brk.
  expect(parent.mprotect(0x4a0000, 0x4000, PROT_READ)).toBe(0);
  const brk0 = parent.brk(0);
  expect(parent.brk(brk0 + 0x22000)).toBe(brk0 + 0x22000);
  const t: Task = parent.fork();
  const tree = () => t.mm!.mapleTree!.nodes;
  const out: Run = { allocs: [], nodes: [tree()] };
  let a = allocs(k);
  const step = () => {
    const b = allocs(k);
    out.allocs.push(b - a);
    out.nodes.push(tree());
    a = b;
  };
  const RW = PROT_READ | PROT_WRITE;
  const F = MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE;
  let span: number;
  if (mode === 'prot') {
    span = n * PG;
    expect(t.mmap(BASE, span, RW, F, -1, 0)).toBe(BASE);
    for (let i = 1; i < n; i += 2) expect(t.mprotect(BASE + i * PG, PG, PROT_READ)).toBe(0);
  } else {
    span = 2 * n * PG;
    for (let j = 0; j < n; j++) {
      const i = mode === 'asc' ? j : n - 1 - j;
      expect(t.mmap(BASE + 2 * i * PG, PG, RW, F, -1, 0)).toBe(BASE + 2 * i * PG);
    }
  }
  step();
  const stride = mode === 'prot' ? PG : 2 * PG;
  for (let i = 1; i < n; i += 2) expect(t.munmap(BASE + i * stride, PG)).toBe(0);
  step();
  expect(t.munmap(BASE, span / 2)).toBe(0);
  step();
  t.exit(0);
  parent.exit(0);
  return out;
}

/**
 * kmem's allocations within 2% (or 3 nodes) of the kernel's, step by step.
 * Why 2%: the creation steps and both munmap steps of asc and desc come out
 * exact (the same node stores, splits and pushes left and right as the
 * kernel's call sites count them); prot's odd munmaps differ by 2 of ~100
 * (N = 1000) and 2 of ~550 (N = 5000), from the spanning stores of a NULL at a
 * leaf's end, whose rebuild kmem models after the observed allocations (one
 * new node per level up to the first parent that stays sufficient) rather
 * than the 6.18 source. And the tree before the first step differs a little:
 * kmem's [vvar]/[vdso] and the heap's place are not the real process's.
 */
function close(got: number, want: number): boolean {
  return Math.abs(got - want) <= Math.max(3, want * 0.02);
}

describe('maple_node traffic against a real 6.18', () => {
  const real = realAllocs();
  for (const n of [1000, 5000]) {
    for (const mode of ['prot', 'asc', 'desc']) {
      it(`${mode}, N = ${n}: the maple_node objects each step allocates`, () => {
        const r = runKmem(mode, n);
        // The real creation step is "after child_mapped" (prot's one mmap is in "after child_start").
        const want = [
          real.get(`${mode} ${n} child_mapped`)! + (mode === 'prot' ? real.get(`${mode} ${n} child_start`)! : 0),
          real.get(`${mode} ${n} child_created`)!,
          real.get(`${mode} ${n} child_unmapped_odd`)!,
        ];
        for (let i = 0; i < 3; i++) expect(close(r.allocs[i]!, want[i]!), `step ${i}: kmem ${r.allocs[i]}, 6.18 ${want[i]}`).toBe(true);
        // The tree holds about one node per 13 VMAs after the creation (leaves 15 full, mostly), and half after the half munmap.
        expect(r.nodes[1]! / n).toBeGreaterThan(1 / 16);
        expect(r.nodes[1]! / n).toBeLessThan(1 / 5);
      });
    }
  }
});

/**
 * The live count. maple_settle*.out: /proc/slabinfo's active_objs of maple_node and vm_area_struct
 * at maple_count's checkpoints, each read 15 s after the step (the replaced nodes' RCU frees done).
 * The other processes of the machine move both caches by thousands in 15 s; their share is taken
 * out with the VMAs: the vm_area_struct delta beyond the step's own VMAs (known exactly), times
 * the machine's maple_node / vm_area_struct ratio at the start of the run, is subtracted from the
 * maple_node delta. The median over the runs of that corrected delta must be within 25% (or 250
 * nodes) of kmem's tree. Why: the correction is rough (other processes' trees are not all alike);
 * the corrected deltas of one step still spread by up to 350-500 nodes between runs (asc, N = 5000,
 * the half munmap: -472, 56, -282), so 250 nodes is the floor of what this machine can tell, and at
 * N = 5000 only the creation step stands above it. At N = 20000 kmem comes within 5% of every step
 * (prot: 1503 / 0 / -750 against 1472 / 29 / -783). The allocation counts above are the close check;
 * this one says the live count, what slabinfo shows, is the real one's.
 */
interface Checkpoints {
  [tag: string]: [number, number];
}

function settleRuns(file: string): Map<string, Checkpoints[]> {
  const m = new Map<string, Checkpoints[]>();
  let cur: Checkpoints[] | null = null;
  for (const l of readFileSync(new URL(file, FIX), 'utf8').split('\n')) {
    const r = /^run (\w+) (\d+) \d+$/.exec(l);
    if (r) {
      const key = `${r[1]} ${r[2]}`;
      if (!m.has(key)) m.set(key, []);
      cur = m.get(key)!;
      cur.push({});
      continue;
    }
    const c = /^(\w+) maple_node (\d+) vm_area_struct (\d+)$/.exec(l);
    if (c && cur) cur[cur.length - 1]![c[1]!] = [Number(c[2]), Number(c[3])];
  }
  return m;
}

function median(a: number[]): number {
  const b = a.slice().sort((x, y) => x - y);
  return b.length % 2 ? b[b.length >> 1]! : (b[b.length / 2 - 1]! + b[b.length / 2]!) / 2;
}

describe('live maple_node objects against /proc/slabinfo of a real 6.18', () => {
  const cases: [string, string, number][] = [
    ['maple_settle_5000.out', 'prot', 5000],
    ['maple_settle_5000.out', 'asc', 5000],
    ['maple_settle_5000.out', 'desc', 5000],
    ['maple_settle.out', 'prot', 20000],
  ];
  // asc and desc at N = 20000 take kmem minutes (its mmap path is linear in the VMAs); the tree's
  // shape repeats every few dozen VMAs, so kmem's N = 5000 counts times 4 stand for them (kmem's
  // counts at 1000 and 5000 are linear to 3%), within 10% here.
  cases.push(['maple_settle.out', 'asc', 20000], ['maple_settle.out', 'desc', 20000]);
  for (const [file, mode, n] of cases) {
    it(`${mode}, N = ${n}: the tree's nodes after each step, as slabinfo sees them`, { timeout: 300_000 }, () => {
      const real = settleRuns(file).get(`${mode} ${n}`)!;
      expect(real.length).toBeGreaterThanOrEqual(3);
      const scaled = mode !== 'prot' && n === 20000;
      const k5 = scaled ? runKmem(mode, 5000) : null;
      const r: Run = k5 !== null ? { allocs: k5.allocs.map((x) => 4 * x), nodes: k5.nodes.map((x) => 4 * x) } : runKmem(mode, n);
      // The steps' own VMAs: created, odd ones unmapped, the lower half unmapped.
      const vmas = [mode === 'prot' ? n - 1 : n, -n / 2, -n / 4];
      const tags = ['child_mapped', 'child_created', 'child_unmapped_odd', 'child_unmapped_half'];
      for (let i = 0; i < 3; i++) {
        const got = r.nodes[i + 1]! - r.nodes[i]!;
        const corrected = real
          .filter((c) => c[tags[i]!] && c[tags[i + 1]!] && c.parent_before)
          .map((c) => {
            const [m0, v0] = c[tags[i]!]!;
            const [m1, v1] = c[tags[i + 1]!]!;
            const ratio = c.parent_before![0] / c.parent_before![1];
            return m1 - m0 - ratio * (v1 - v0 - vmas[i]!);
          });
        const want = median(corrected);
        const tol = Math.max((scaled ? 0.1 : 0.25) * Math.abs(got), 250);
        expect(Math.abs(got - want), `step ${i}: kmem ${got}, 6.18 about ${Math.round(want)} (${corrected.map(Math.round)})`).toBeLessThanOrEqual(tol);
      }
    });
  }
});
