/**
 * Anonymous memory of a process: first-touch faults, the zero page, COW
 * after fork, mprotect splits and merges, MADV_DONTNEED, munmap, errnos,
 * SIGSEGV. Expected values come from test/fixtures/vm/anon_faults.c run on
 * this machine's 6.18 kernel under `setarch x86_64 -R` (anon_faults.out):
 * a static program has the same mmap layout as kmem's static test program.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import type { Kernel } from '../../src/kernel.js';
import { Segfault } from '../../src/vm/fault.js';
import type { Task } from '../../src/vm/fork.js';
import {
  EEXIST,
  EINVAL,
  ENOMEM,
  MADV_DONTNEED,
  MAP_ANONYMOUS,
  MAP_FIXED,
  MAP_FIXED_NOREPLACE,
  MAP_POPULATE,
  MAP_PRIVATE,
  PROT_NONE,
  PROT_READ,
  PROT_WRITE,
} from '../../src/vm/mman.js';
import { bootWithProgram } from './helpers.js';
import { mapleRanges, validateMaple } from './maple_check.js';

const P = 4096;
const RW = PROT_READ | PROT_WRITE;
const ANON = MAP_PRIVATE | MAP_ANONYMOUS;
const fixture = readFileSync(new URL('../fixtures/vm/anon_faults.out', import.meta.url), 'utf8').split('\n');

/** The maps lines the fixture printed after the line starting with `after`. */
function fixtureLines(after: string, n: number): string[] {
  const i = fixture.findIndex((l) => l.startsWith(after));
  if (i < 0) throw new Error(`fixture: no line ${after}`);
  return fixture.slice(i + 1, i + 1 + n).filter((l) => /^[0-9a-f]+-/.test(l));
}

function mapsIn(k: Kernel, t: Task, lo: number, hi: number): string[] {
  return k.proc
    .read(`/proc/${t.pid}/maps`)
    .split('\n')
    .filter((l) => {
      const s = Number.parseInt(l.split('-')[0]!, 16);
      return l !== '' && s >= lo && s < hi;
    });
}

function statusKb(k: Kernel, t: Task, field: string): number {
  const m = new RegExp(`^${field}:\\s+(\\d+) kB$`, 'm').exec(k.proc.read(`/proc/${t.pid}/status`));
  return Number(m![1]);
}

function freePages(k: Kernel): number {
  k.drainAllPages();
  return Number(/^nr_free_pages (\d+)$/m.exec(k.proc.read('/proc/vmstat'))![1]);
}

function setup() {
  const k = bootWithProgram();
  const t = k.spawn('/bin/tiny', ['tiny']);
  const a = t.mmap(0, 16 * P, RW, ANON, -1, 0);
  const b = t.mmap(0, 16 * P, RW, ANON, -1, 0);
  return { k, t, a, b };
}

describe('anonymous mappings', () => {
  test('mmap is top-down from mmap_base below the vDSO; adjacent anonymous mappings merge', () => {
    const { k, t, a, b } = setup();
    // fixture: mmap a=0x7ffff7fe7000 b=0x7ffff7fd7000 b+16P==a:1
    expect(a).toBe(0x7ffff7fe7000);
    expect(b).toBe(a - 16 * P);
    expect(mapsIn(k, t, b, a + 16 * P)).toEqual(fixtureLines('mmap a=', 1));
  });

  test('writing N untouched pages costs N minor faults and N pages of RSS', () => {
    const { k, t, a } = setup();
    const f0 = t.minFlt;
    const r0 = statusKb(k, t, 'VmRSS');
    for (let i = 0; i < 16; i++) t.write8(a + i * P, 1);
    expect(t.minFlt - f0).toBe(16);
    expect(statusKb(k, t, 'VmRSS') - r0).toBe(64);
    expect(statusKb(k, t, 'RssAnon') - r0 + statusKb(k, t, 'RssFile')).toBeGreaterThanOrEqual(64);
  });

  test('reading untouched pages maps the zero page: faults but no RSS; a later write faults again', () => {
    const { k, t, b } = setup();
    const f0 = t.minFlt;
    const r0 = statusKb(k, t, 'VmRSS');
    const free0 = freePages(k);
    let sum = 0;
    for (let i = 0; i < 16; i++) sum += t.read8(b + i * P);
    expect(sum).toBe(0);
    expect(t.minFlt - f0).toBe(16);
    expect(statusKb(k, t, 'VmRSS') - r0).toBe(0);
    // Only page tables may have been allocated, no data pages.
    expect(free0 - freePages(k)).toBeLessThanOrEqual(1);
    const f1 = t.minFlt;
    for (let i = 0; i < 16; i++) t.write8(b + i * P, 2);
    expect(t.minFlt - f1).toBe(16);
    expect(statusKb(k, t, 'VmRSS') - r0).toBe(64);
  });

  test('loads and stores of every width read back, across page boundaries too', () => {
    const { t, a } = setup();
    t.write32(a + 8, 0xdeadbeef);
    expect(t.read32(a + 8)).toBe(0xdeadbeef);
    expect(t.read16(a + 8)).toBe(0xbeef);
    expect(t.read8(a + 11)).toBe(0xde);
    t.write64(a + P - 4, 0x1122334455667788n);
    expect(t.read64(a + P - 4)).toBe(0x1122334455667788n);
    expect(t.read32(a + P)).toBe(0x11223344);
    t.writeBytes(a + 2 * P - 3, [1, 2, 3, 4, 5, 6]);
    expect([...t.readBytes(a + 2 * P - 3, 6)]).toEqual([1, 2, 3, 4, 5, 6]);
    t.write16(a + 3 * P - 1, 0xabcd);
    expect(t.read16(a + 3 * P - 1)).toBe(0xabcd);
  });

  test('mprotect of a middle range splits into three; restoring merges back (as 6.18 does)', () => {
    const { k, t, a, b } = setup();
    for (let i = 0; i < 16; i++) t.write8(a + i * P, 1);
    expect(t.mprotect(a + 4 * P, 4 * P, PROT_READ)).toBe(0);
    expect(mapsIn(k, t, b, a + 16 * P)).toEqual(fixtureLines('ret 0', 3));
    expect(t.mprotect(a + 4 * P, 4 * P, RW)).toBe(0);
    const merged = fixture.findIndex((l) => l.startsWith('mprotect(a+4P, 4P, PROT_READ|PROT_WRITE)'));
    expect(mapsIn(k, t, b, a + 16 * P)).toEqual([fixture[merged + 2]!]);
    // An exclusive page made writable again by mprotect needs no fault (fixture: +0).
    const f0 = t.minFlt;
    t.write8(a + 5 * P, 3);
    expect(t.minFlt - f0).toBe(0);
    // PROT_NONE on all of a, then back.
    t.mprotect(a, 16 * P, PROT_NONE);
    const none = fixture.findIndex((l) => l.startsWith('mprotect(a, 16P, PROT_NONE)'));
    expect(mapsIn(k, t, b, a + 16 * P)).toEqual(fixture.slice(none + 1, none + 3));
    t.mprotect(a, 16 * P, RW);
    expect(mapsIn(k, t, b, a + 16 * P)).toEqual([fixture[none + 3]!]);
    expect(t.read8(a + 5 * P)).toBe(3);
  });

  test('after fork a write by the child costs one COW fault and one new page; the parent keeps its bytes', () => {
    const { k, t, a } = setup();
    for (let i = 0; i < 16; i++) t.write8(a + i * P, 1);
    t.write8(a, 42);
    const c = t.fork();
    const free0 = freePages(k);
    const f0 = c.minFlt;
    const r0 = statusKb(k, c, 'VmRSS');
    c.write8(a, 7);
    // fixture: child: first write after fork minflt +1 rss +0 kB, second write +0, read of shared page +0
    expect(c.minFlt - f0).toBe(1);
    expect(statusKb(k, c, 'VmRSS') - r0).toBe(0);
    expect(free0 - freePages(k)).toBe(1);
    c.write8(a, 8);
    expect(c.minFlt - f0).toBe(1);
    expect(c.read8(a + P)).toBe(1);
    expect(c.minFlt - f0).toBe(1);
    expect(t.read8(a)).toBe(42);
    c.exit(0);
    expect(t.wait()).toBe(c.pid);
    // The parent's write-protected page is its own again: one fault, reused, no new page.
    const pf = t.minFlt;
    const free1 = freePages(k);
    t.write8(a, 9);
    expect(t.minFlt - pf).toBe(1);
    expect(freePages(k)).toBe(free1);
  });

  test('smaps after fork: shared pages count half in Pss until a COW makes one private (smaps_account rules)', () => {
    const { k, t, a, b } = setup();
    for (let i = 0; i < 4; i++) t.write8(a + i * P, 1);
    const c = t.fork();
    const block = (x: Task) => {
      // a and b merged into one VMA starting at b.
      const sm = k.proc.read(`/proc/${x.pid}/smaps`);
      const start = sm.indexOf(`${b.toString(16)}-`);
      const blk = sm.slice(start, sm.indexOf('VmFlags', start));
      const f = (n: string) => Number(new RegExp(`^${n}:\\s+(\\d+) kB$`, 'm').exec(blk)![1]);
      return [f('Rss'), f('Pss'), f('Shared_Dirty'), f('Private_Dirty'), f('Anonymous')];
    };
    expect(block(t)).toEqual([16, 8, 16, 0, 16]);
    c.write8(a, 2);
    expect(block(t)).toEqual([16, 10, 12, 4, 16]);
    expect(block(c)).toEqual([16, 10, 12, 4, 16]);
    const roll = k.proc.read(`/proc/${t.pid}/smaps_rollup`);
    expect(roll.split('\n')[0]).toMatch(/^00401000-7ffffffff000 ---p 00000000 00:00 0 +\[rollup\]$/);
  });

  test('MADV_DONTNEED drops the pages: RSS falls, reads give zeros', () => {
    const { k, t, a } = setup();
    for (let i = 0; i < 16; i++) t.write8(a + i * P, 5);
    const r0 = statusKb(k, t, 'VmRSS');
    expect(t.madvise(a, 16 * P, MADV_DONTNEED)).toBe(0);
    expect(statusKb(k, t, 'VmRSS') - r0).toBe(-64);
    expect(t.read8(a)).toBe(0);
  });

  test('munmap of a middle range leaves two VMAs', () => {
    const { k, t, a, b } = setup();
    expect(t.munmap(a + 4 * P, 4 * P)).toBe(0);
    expect(mapsIn(k, t, b, a + 16 * P)).toEqual(fixtureLines('munmap(a+4P, 4P) = 0', 2));
  });

  test("argument checks give the kernel's errnos", () => {
    const { t, a } = setup();
    expect(t.mmap(a, P, PROT_READ, ANON | MAP_FIXED_NOREPLACE, -1, 0)).toBe(-EEXIST);
    expect(t.mmap(0, 0, PROT_READ, ANON, -1, 0)).toBe(-EINVAL);
    expect(t.mmap(a + 1, P, PROT_READ, ANON | MAP_FIXED, -1, 0)).toBe(-EINVAL);
    expect(t.mmap(0, P, PROT_READ, MAP_ANONYMOUS, -1, 0)).toBe(-EINVAL);
    expect(t.mmap(0, P, PROT_READ, ANON, -1, 1)).toBe(-EINVAL);
    expect(t.munmap(a + 1, P)).toBe(-EINVAL);
    t.munmap(a + 4 * P, 4 * P);
    expect(t.mprotect(a + 4 * P, P, PROT_READ)).toBe(-ENOMEM);
    // The fixture's values, for the record.
    expect(fixture).toContain('MAP_FIXED_NOREPLACE on a mapping: 0xffffffffffffffff errno 17');
    expect(fixture).toContain('mprotect of a hole: -1 errno 12');
  });

  test('MAP_POPULATE faults every page in at mmap time', () => {
    const { k, t } = setup();
    const r0 = statusKb(k, t, 'VmRSS');
    const f0 = t.minFlt;
    const c = t.mmap(0, 8 * P, RW, ANON | MAP_POPULATE, -1, 0);
    expect(statusKb(k, t, 'VmRSS') - r0).toBe(32);
    expect(t.minFlt - f0).toBe(8);
    t.write8(c + 7 * P, 1);
    expect(t.minFlt - f0).toBe(8);
  });

  test('a store to a read-only page is SIGSEGV: the kernel line in dmesg, a Segfault thrown, the rest runs on', () => {
    const { k, t } = setup();
    const c = t.fork();
    const ro = c.mmap(0, P, PROT_READ, ANON, -1, 0);
    let err: unknown;
    try {
      c.write8(ro, 1);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(Segfault);
    expect((err as Segfault).errorCode).toBe(6);
    const line = k.dmesg().find((l) => l.includes('segfault at'))!;
    // fixture: anon_faults[13584]: segfault at 7ffff7fee000 ip 0000000000401f98 sp 00007fffffffe5f0 error 6 in anon_faults[...] likely on CPU 0 (core 0, socket 0)
    expect(line).toContain(`tiny[${c.pid}]: segfault at ${ro.toString(16)} ip 0000000000000000 sp 0000000000000000 error 6 likely on CPU 0 (core 0, socket 0)`);
    expect(() => c.read8(ro)).toThrow(/exited/);
    expect(t.wait()).toBe(c.pid);
    expect(t.wstatus).toBe(11);
    // Error codes: a read of nothing is 4, a write to nothing 6, a write to a present read-only page 7.
    const d = t.fork();
    expect(() => d.read8(0x1000)).toThrow(Segfault);
    const e2 = t.fork();
    const r = e2.mmap(0, P, PROT_READ, ANON, -1, 0);
    e2.read8(r);
    try {
      e2.write8(r, 1);
    } catch (e) {
      expect((e as Segfault).errorCode).toBe(7);
    }
    t.write8(t.mmap(0, P, RW, ANON, -1, 0), 1);
  });

  test('the stack grows down on a fault below it, within RLIMIT_STACK', () => {
    const { k, t } = setup();
    const stack = mapsIn(k, t, 0x7ff000000000, 0x800000000000).find((l) => l.endsWith('[stack]'))!;
    const lo = Number.parseInt(stack.split('-')[0]!, 16);
    t.write8(lo - 10 * P, 1);
    const grown = mapsIn(k, t, 0x7ff000000000, 0x800000000000).find((l) => l.endsWith('[stack]'))!;
    expect(Number.parseInt(grown.split('-')[0]!, 16)).toBe(lo - 10 * P);
    expect(() => t.write8(0x7ffffffff000 - 9 * 1024 * 1024, 1)).toThrow(Segfault);
  });

  test("the grown stack's range is in the mm's maple tree at once (expand_downwards stores it with vma_iter_store)", () => {
    const { k, t } = setup();
    const mm = t.mm!;
    const stack = mm.vmas[mm.vmas.length - 1]!;
    const lo = k.vm.s.vmStart(stack);
    t.write8(lo - 10 * P, 1);
    // The tree's range holding the stack VMA now starts 10 pages lower; the gap below it ends there.
    const r = mapleRanges(mm.mapleTree!);
    const i = r.findIndex((e, j) => j % 3 === 2 && e === stack);
    expect(r[i - 2]).toBe(lo - 10 * P);
    expect(r[i - 4]).toBe(lo - 10 * P - 1);
    expect(validateMaple(mm.mapleTree!)).toBeNull();
  });
});

describe('/proc/PID/stat', () => {
  test('52 fields as 6.18 prints them; minflt, cminflt after wait, PF_FORKNOEXEC until execve', () => {
    const { k, t, a } = setup();
    const stat = (x: Task) => k.proc.read(`/proc/${x.pid}/stat`).trimEnd().split(' ');
    // This machine's: 29116 (cat) R 29107 29107 8070 0 -1 4194304 100 0 0 0 ... (52 fields)
    expect(stat(t)).toHaveLength(52);
    expect(stat(t)[1]).toBe('(tiny)');
    expect(Number(stat(t)[9])).toBe(t.minFlt);
    const c = t.fork();
    expect(Number(stat(c)[8]) & 0x40).toBe(0x40);
    expect(Number(stat(t)[8]) & 0x40).toBe(0);
    for (let i = 0; i < 5; i++) c.write8(a + i * P, 1);
    const cf = c.minFlt;
    c.exit(0);
    t.wait();
    expect(Number(stat(t)[10])).toBe(cf);
  });
});

describe('processes come and go', () => {
  test('after spawn, fork and exit of many tasks, slab objects and free pages return to where they were', () => {
    const k = bootWithProgram();
    const cycle = () => {
      const t = k.spawn('/bin/tiny', ['tiny']);
      const a = t.mmap(0, 64 * P, RW, ANON, -1, 0);
      for (let i = 0; i < 64; i += 3) t.write8(a + i * P, i);
      t.brk(t.brk(0) + 5 * P);
      t.write8(t.brk(0) - 1, 1);
      const kids: Task[] = [];
      for (let j = 0; j < 4; j++) {
        const c = t.fork();
        c.write8(a + j * P, 1);
        c.mprotect(a + 8 * P, 4 * P, PROT_READ);
        kids.push(c);
      }
      for (const c of kids) c.exit(0);
      while (t.wait() > 0);
      t.exit(0);
    };
    cycle();
    const objs = () => {
      const out: Record<string, string> = {};
      for (const l of k.proc.read('/proc/slabinfo').split('\n')) {
        const f = l.split(/\s+/);
        if (['task_struct', 'mm_struct', 'vm_area_struct', 'maple_node', 'anon_vma', 'anon_vma_chain', 'pid'].includes(f[0]!)) out[f[0]!] = f[1]!;
      }
      return out;
    };
    const o0 = objs();
    const free0 = freePages(k);
    for (let i = 0; i < 20; i++) cycle();
    expect(objs()).toEqual(o0);
    // Page-cache pages of the program stay cached, as on a real machine; everything else comes back.
    expect(freePages(k)).toBe(free0);
    expect(k.tasks()).toEqual([]);
  });
});
