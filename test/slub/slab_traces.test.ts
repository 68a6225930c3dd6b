/**
 * /sys/kernel/debug/slab/<cache>/alloc_traces and free_traces, and the
 * sysfs sheaf_capacity of 6.18, for driven states whose expected lines are
 * worked out here from mm/slub.c (slab_debug_trace_open, process_slab,
 * add_location, slab_debugfs_show) and lib/sort.c.
 *
 * The caller a track saves is the first frame of the user's stack (kmem's
 * stand-in for "%pS" of the return address): "<function> (<file>:<line>)".
 * The lines of this file's call sites are found by marker comments.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { cacheReport, findSlabCache } from '../../src/cli/slabinfo_tool.js';
import { boot, GFP_KERNEL, type Kernel } from '../../src/index.js';
import { slabAttrNames } from '../../src/proc/slabinfo.js';
import { kernelSort } from '../../src/slub/debug.js';

const SRC = readFileSync(fileURLToPath(import.meta.url), 'utf8').split('\n');
const FILE = 'test/slub/slab_traces.test.ts';
/** "<fn> (<this file>:<line of the marker>)". */
const at = (fn: string, marker: string) => {
  const line = SRC.findIndex((l) => l.includes(`// ${marker}`) && !l.includes('at(')) + 1;
  expect(line).toBeGreaterThan(0);
  return `${fn} (${FILE}:${line})`;
};

let k: Kernel;
function siteA(size: number): number {
  return k.kmalloc(size, GFP_KERNEL); // site A
}
function siteB(): number {
  return k.kmalloc(192, GFP_KERNEL); // site B
}
function siteF(p: number): void {
  k.kfree(p); // site F
}

/** HZ = 250: one jiffy is 4 ms of the virtual clock; kmem boots at about 1 ms, in jiffy 0. */
const JIFFY = 4_000_000;

/**
 * kmalloc-192 with U only (slub_debug=U,kmalloc-192), 2 CPUs, nothing in it after boot.
 *   jiffy 1, pid 1, CPU 0: A(150) A(150) A(150)      a1 a2 a3
 *   jiffy 3, pid 7, CPU 1: A(150) A(130)             a4 a5 (129..192 bytes: kmalloc-192 too)
 *   jiffy 4, pid 9, CPU 0: B()                        b1
 *   jiffy 5, pid 9, CPU 1: F(a1); then on CPU 0: B()  b2 (a1's slot: the freelist is LIFO)
 * and the files are read at jiffy 6. Nothing happens at jiffy 0: add_location() takes a track
 * whose `when` is 0 for an empty one and adds neither its age nor its pid nor its CPU.
 */
function driven(): { a: number[]; b: number[] } {
  k = boot({ memory: '32M', cpus: 2, slubDebug: 'U,kmalloc-192', seed: 1 });
  expect(k.proc.read('/sys/kernel/debug/slab/kmalloc-192/alloc_traces')).toBe('No data\n');
  const a: number[] = [];
  const b: number[] = [];
  // Each kind of step calls its site from one line, so equal steps save equal stacks.
  const plan: [jiffy: number, pid: number, cpu: number, what: 'A' | 'B' | 'F', size: number][] = [
    [1, 1, 0, 'A', 150],
    [1, 1, 0, 'A', 150],
    [1, 1, 0, 'A', 150],
    [3, 7, 1, 'A', 150],
    [3, 7, 1, 'A', 130],
    [4, 9, 0, 'B', 0],
    [5, 9, 1, 'F', 0],
    [5, 9, 0, 'B', 0],
  ];
  let jiffy = 0;
  for (const [j, pid, cpu, what, size] of plan) {
    for (; jiffy < j; jiffy++) k.tick(JIFFY);
    k.setTask({ pid });
    if (what === 'A') k.onCpu(cpu, () => a.push(siteA(size)));
    else if (what === 'B') k.onCpu(cpu, () => b.push(siteB()));
    else k.onCpu(cpu, () => siteF(a[0]!));
  }
  expect(b[1]).toBe(a[0]);
  k.tick(JIFFY);
  return { a, b };
}

/** The entries of a traces file: header lines ("%7ld ..."), each with the 8-space stack lines under it. */
function entries(text: string): { head: string; stack: string[] }[] {
  expect(text.endsWith('\n')).toBe(true);
  const out: { head: string; stack: string[] }[] = [];
  const lines = text.slice(0, -1).split('\n');
  for (let i = 0; i < lines.length; i++) {
    const head = lines[i]!;
    expect(head).toMatch(/^ *\d+ \S/);
    const stack: string[] = [];
    if (lines[i + 1]?.startsWith('        ')) {
      // "\n", then "        %pS\n" per frame, then the entry's own "\n": a blank line.
      while (lines[i + 1]?.startsWith('        ')) stack.push(lines[++i]!.slice(8));
      expect(lines[++i]).toBe('');
    }
    out.push({ head, stack });
  }
  return out;
}

/** Each entry's header, and the frames of this file its stack starts with (deeper frames are vitest's). */
function expectEntries(text: string, want: { head: string; frames: string[] }[]): void {
  const got = entries(text);
  expect(got.map((e) => e.head)).toEqual(want.map((w) => w.head));
  // A track without a stack (handle 0) prints its header alone.
  want.forEach((w, i) => {
    expect(w.frames.length === 0 ? got[i]!.stack : got[i]!.stack.slice(0, w.frames.length)).toEqual(w.frames);
  });
}

describe('alloc_traces', () => {
  it('merges the tracks by caller, stack and waste, prints waste, age min/avg/max, pid and cpu ranges, sorted by count', () => {
    driven();
    // In use: a2 a3 (A, 150 bytes: waste 192 - 150 = 42, jiffy 1, pid 1, CPU 0), a4 (A, 42, jiffy 3, pid 7, CPU 1),
    // a5 (A, waste 192 - 130 = 62, jiffy 3, pid 7, CPU 1), b1 b2 (B, 192 bytes: waste 0, jiffies 4 and 5, pid 9, CPU 0); now jiffy 6.
    //   A/42: count 3, ages 5 5 3: sum 13, min 3, avg 13/3 = 4, max 5; pids 1..7; CPUs 0 and 1.
    //   A/62: count 1, age 3, pid 7, CPU 1.
    //   B:    count 2, ages 2 and 1: "age=1/1/2" (3/2 = 1); pid 9; CPU 0; no waste= (0).
    // add_location() keeps A/42 before A/62 (same caller and stack, smaller waste first), B on
    // whichever side its stack handle puts it; sorting by count gives 3, 2, 1 either way.
    const text = k.proc.read('/sys/kernel/debug/slab/kmalloc-192/alloc_traces');
    const A = at('siteA', 'site A');
    const B = at('siteB', 'site B');
    expectEntries(text, [
      { head: `      3 ${A} waste=126/42 age=3/4/5 pid=1-7 cpus=0-1`, frames: [A] },
      { head: `      2 ${B} age=1/1/2 pid=9 cpus=0`, frames: [B] },
      { head: `      1 ${A} waste=62/62 age=3 pid=7 cpus=1`, frames: [A] },
    ]);
  });

  it('is in debugfs only for a cache with SLAB_STORE_USER, at /sys/kernel/debug/slab/<name>/', () => {
    driven();
    expect(() => k.proc.read('/sys/kernel/debug/slab/kmalloc-128/alloc_traces')).toThrow(/No such file or directory/);
    expect(() => k.proc.read('/sys/kernel/slab/kmalloc-192/alloc_traces')).toThrow(/No such file or directory/);
    const u = boot({ memory: '32M', slubDebug: 'U' });
    // Every cache has U here; kmalloc-128 holds nothing after boot.
    expect(u.proc.read('/sys/kernel/debug/slab/kmalloc-128/free_traces')).toBe('No data\n');
  });

  it('one CPU online: no cpus= field (num_online_cpus() > 1 is false)', () => {
    k = boot({ memory: '32M', cpus: 1, slubDebug: 'U,kmalloc-192', seed: 1 });
    const p = siteA(160);
    expect(p).not.toBe(0);
    k.tick(3 * JIFFY);
    const A = at('siteA', 'site A');
    expectEntries(k.proc.read('/sys/kernel/debug/slab/kmalloc-192/alloc_traces'), [{ head: `      1 ${A} waste=32/32 age=3 pid=1`, frames: [A] }]);
  });
});

describe('free_traces', () => {
  it("walks the objects in use, as alloc_traces does: their free tracks are the slots' previous lives", () => {
    driven();
    // In use: a2 a3 a4 a5 b1, whose slots were never freed (zeroed tracks: no caller, when 0, pid 0,
    // CPU 0), and b2 in a1's slot, freed by F at jiffy 5 by pid 9 on CPU 1.
    //   <not-available>: count 5, age = jiffies - 0 = 6 for the first, later ones add nothing (when is 0).
    //   F: count 1, age 1, pid 9, CPU 1.
    // add_location() puts the caller 0 first; sort() then leaves 5 before 1.
    const F = at('siteF', 'site F');
    expectEntries(k.proc.read('/sys/kernel/debug/slab/kmalloc-192/free_traces'), [
      { head: '      5 <not-available> age=6 pid=0 cpus=0', frames: [] },
      { head: `      1 ${F} age=1 pid=9 cpus=1`, frames: [F] },
    ]);
  });
});

describe('slabinfo -r (tools/mm/slabinfo.c show_tracking)', () => {
  const section = (name: string, alloc: string, free: string) =>
    `\n${name}: Kernel object allocation\n${'-'.repeat(71)}\n${alloc}\n${name}: Kernel object freeing\n${'-'.repeat(72)}\n${free}\n${name}: No NUMA information available.\n`;

  it('prints each debugfs file as read, or "No Data" when the cache has no U', () => {
    driven();
    const alloc = k.proc.read('/sys/kernel/debug/slab/kmalloc-192/alloc_traces');
    const free = k.proc.read('/sys/kernel/debug/slab/kmalloc-192/free_traces');
    expect(alloc.length).toBeLessThan(4096);
    expect(cacheReport(k, findSlabCache(k, 'kmalloc-192')!)).toContain(section('kmalloc-192', alloc, free));
    k.kmalloc(100, GFP_KERNEL);
    expect(cacheReport(k, findSlabCache(k, 'kmalloc-128')!)).toContain(section('kmalloc-128', 'No Data\n', 'No Data\n'));
  });

  it('reads at most 4096 bytes of a file (its buffer), printed with no newline added', () => {
    k = boot({ memory: '32M', cpus: 2, slubDebug: 'U,kmalloc-192', seed: 1 });
    // 64 request sizes, 64 wastes: 64 locations with their stacks, far more than 4096 bytes.
    for (let size = 129; size <= 192; size++) siteA(size);
    const alloc = k.proc.read('/sys/kernel/debug/slab/kmalloc-192/alloc_traces');
    expect(entries(alloc).length).toBe(64);
    expect(alloc.length).toBeGreaterThan(4096);
    const free = k.proc.read('/sys/kernel/debug/slab/kmalloc-192/free_traces');
    expect(free).toBe('     64 <not-available> age=0 pid=0 cpus=0\n');
    expect(cacheReport(k, findSlabCache(k, 'kmalloc-192')!)).toContain(section('kmalloc-192', alloc.slice(0, 4096), free));
  });
});

describe("lib/sort.c's heapsort", () => {
  it('leaves equal elements where its swaps put them (not a stable sort)', () => {
    // Four locations by count, largest first, input x1(1) x2(1) x3(2) x4(1); by hand through sort():
    //   build: sift 1 (no move), sift 0 (no move: x1 already "greatest", count 1);
    //   pop x1 to 3: [x4 x2 x3 x1]; children x2, x3: x2 is the greater (count 1), pop it to 2: [x4 x3 x2 x1];
    //   sift 0 over 2 elements: x3 sorts first, x4 after it: no move; last two: swap 0 and 1: [x3 x4 x2 x1].
    const xs = [
      { id: 'x1', count: 1 },
      { id: 'x2', count: 1 },
      { id: 'x3', count: 2 },
      { id: 'x4', count: 1 },
    ];
    kernelSort(xs, (a, b) => (a.count < b.count ? 1 : a.count > b.count ? -1 : 0));
    expect(xs.map((x) => x.id)).toEqual(['x3', 'x4', 'x2', 'x1']);
  });

  it('sorts', () => {
    let seed = 12345;
    const rnd = () => {
      seed = (seed * 1103515245 + 12345) >>> 0;
      return seed >>> 16;
    };
    for (let n = 0; n < 60; n++) {
      const v = Array.from({ length: n }, () => rnd() % 7);
      const w = [...v];
      kernelSort(w, (a, b) => a - b);
      expect(w).toEqual([...v].sort((a, b) => a - b));
    }
  });
});

describe('/sys/kernel/slab/<cache>/ of 6.18', () => {
  it('sheaf_capacity exists and prints 0 for a cache without sheaves', () => {
    const b = boot({ memory: '32M' });
    expect(b.sys.read('/sys/kernel/slab/kmalloc-64/sheaf_capacity')).toBe('0\n');
  });

  it("lists a real 6.18's attributes (without CONFIG_SLUB_STATS), each readable; shrink and validate read empty", () => {
    const real = readFileSync(fileURLToPath(new URL('../fixtures/linux-6.18/sys-kernel-slab-kmalloc-64.txt', import.meta.url)), 'utf8')
      .split('\n')
      .filter((l) => l !== '' && !l.startsWith('#'));
    expect([...slabAttrNames]).toEqual(real);
    const b = boot({ memory: '32M' });
    for (const a of real) expect(typeof b.sys.read(`/sys/kernel/slab/kmalloc-64/${a}`)).toBe('string');
    expect(b.sys.read('/sys/kernel/slab/kmalloc-64/shrink')).toBe('');
    expect(b.sys.read('/sys/kernel/slab/kmalloc-64/validate')).toBe('');
  });
});
