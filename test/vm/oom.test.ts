/**
 * The OOM killer (mm/oom_kill.c, 6.18) on a 64 MiB machine without swap:
 * three holder tasks of different RSS and a hog that touches new anonymous
 * pages until the page allocator's slow path calls out_of_memory().
 *
 * Expected values are worked by hand from 6.18's rules: oom_badness() is
 * rss + swap entries + page-table pages + oom_score_adj * (totalpages / 1000),
 * proc_oom_score() scales it to (1000 + badness * 1000 / totalpages) * 2 / 3,
 * the highest badness is killed (init and oom_score_adj -1000 never). The
 * numbers of the report are checked against the tasks' own /proc/PID/statm
 * and status (other renderers), and its format against a real report from
 * Linux 6.1 (test/fixtures/oom/linux-6.1-qemu-oom.txt), with 6.18's changes.
 */
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { KernelPanic, Killed } from '../../src/index.js';
import { boot, type Kernel } from '../../src/kernel.js';
import type { Task } from '../../src/vm/fork.js';
import { MAP_ANONYMOUS, MAP_NORESERVE, MAP_POPULATE, MAP_PRIVATE, PROT_READ, PROT_WRITE } from '../../src/vm/mman.js';
import { bootWithProgram, tinyElf } from './helpers.js';

const P = 4096;
const RW = PROT_READ | PROT_WRITE;
const ANON = MAP_PRIVATE | MAP_ANONYMOUS;

/** The real 6.1 report, without timestamps, and its extra sections. */
const fixtureText = readFileSync(new URL('../fixtures/oom/linux-6.1-qemu-oom.txt', import.meta.url), 'utf8');
const fixtureReport = fixtureText
  .split('\n')
  .filter((l) => /^\[ *\d+\.\d+\] /.test(l))
  .map((l) => l.replace(/^\[ *\d+\.\d+\] /, ''));

interface Holder {
  t: Task;
  base: number;
  pages: number;
}

interface Machine {
  k: Kernel;
  parent: Task;
  a: Holder;
  b: Holder;
  c: Holder;
  hog: Task;
}

/** A parent (pid 2) with children a, b, c holding 1000, 8000, 2000 touched anonymous pages, each page stamped with its pid and index; the hog is a fourth child. */
function setup(): Machine {
  const k = bootWithProgram('64M');
  for (const name of ['a', 'b', 'c', 'hog']) k.fs.writeFile(`/bin/${name}`, tinyElf());
  const parent = k.spawn('/bin/tiny', ['tiny']);
  const holder = (name: string, pages: number): Holder => {
    const t = parent.fork();
    expect(t.execve(`/bin/${name}`, [name])).toBe(0);
    const base = t.mmap(0, pages * P, RW, ANON, -1, 0);
    for (let i = 0; i < pages; i++) t.write32(base + i * P, t.pid * 65536 + i);
    return { t, base, pages };
  };
  const a = holder('a', 1000);
  const b = holder('b', 8000);
  const c = holder('c', 2000);
  const hog = parent.fork();
  expect(hog.execve('/bin/hog', ['hog'])).toBe(0);
  return { k, parent, a, b, c, hog };
}

/** The hog touches one new page after another until `until()` holds (or it is killed itself); the number of pages it touched. */
function runHog(m: Machine, until: () => boolean): { touched: number; error: unknown } {
  const h = m.hog.mmap(0, 1 << 30, RW, ANON | MAP_NORESERVE, -1, 0);
  let i = 0;
  try {
    for (; !until() && i < 1 << 18; i++) m.hog.write32(h + i * P, i);
  } catch (e) {
    return { touched: i, error: e };
  }
  return { touched: i, error: null };
}

/** Every page of a surviving holder still holds its stamp. */
function intact(h: Holder): boolean {
  for (let i = 0; i < h.pages; i++) if (h.t.read32(h.base + i * P) !== h.t.pid * 65536 + i) return false;
  return true;
}

/** /proc/PID/statm and VmPTE, read before the OOM: what the report must print for the task. */
function usage(k: Kernel, t: Task) {
  const [size, resident, shared] = k.proc.read(`/proc/${t.pid}/statm`).split(' ').map(Number) as [number, number, number];
  const pte = Number(/^VmPTE:\s+(\d+) kB$/m.exec(k.proc.read(`/proc/${t.pid}/status`))![1]);
  return { totalVm: size, rss: resident, anon: resident - shared, file: shared, pgtablesBytes: pte * 1024 };
}

/** The lines of the last OOM report, from "invoked oom-killer" to the end of the log. */
function lastReport(k: Kernel): string[] {
  const lines = k.dmesg().map((l) => l.replace(/^\[ *\d+\.\d+\] /, ''));
  let start = lines.length - 1;
  while (start >= 0 && !lines[start]!.includes(' invoked oom-killer: ')) start--;
  expect(start).toBeGreaterThanOrEqual(0);
  return lines.slice(start);
}

/** dump_task()'s row by the format strings, written out here: 6.18 "[%7d] %5d %5d %8lu %8lu %8lu %8lu %9lu %8ld %8lu         %5hd %s", 6.1 without the rss split. */
function taskRow(v: '6.1' | '6.18', f: number[], name: string): string {
  const w = v === '6.18' ? [7, 5, 5, 8, 8, 8, 8, 9, 8, 8] : [7, 5, 5, 8, 8, 8, 8];
  const cols = w.map((width, i) => String(f[i]).padStart(width));
  return `[${cols[0]}] ${cols.slice(1).join(' ')}         ${String(f[w.length]).padStart(5)} ${name}`;
}

function rowFields(line: string): { nums: number[]; name: string } {
  const m = /^\[ *(\d+)\]((?: +-?\d+)+) (\S+)$/.exec(line);
  if (m === null) throw new Error(`not a task row: ${line}`);
  return { nums: [Number(m[1]), ...m[2]!.trim().split(/ +/).map(Number)], name: m[3]! };
}

const TABLE_61 = '[  pid  ]   uid  tgid total_vm      rss pgtables_bytes swapents oom_score_adj name';
const TABLE_618 = '[  pid  ]   uid  tgid total_vm      rss rss_anon rss_file rss_shmem pgtables_bytes swapents oom_score_adj name';
const INVOKED = /^(\S+) invoked oom-killer: gfp_mask=0x([0-9a-f]+)\(([A-Za-z0-9_|]+)\), order=(\d+), oom_score_adj=(-?\d+)$/;
const OOM_KILL_LINE = /^oom-kill:constraint=CONSTRAINT_NONE,nodemask=\(null\),cpuset=\/,mems_allowed=0,global_oom,task_memcg=\/,task=(\S+),pid=(\d+),uid=0$/;
const KILLED =
  /^Out of memory: Killed process (\d+) \((\S+)\) total-vm:(\d+)kB, anon-rss:(\d+)kB, file-rss:(\d+)kB, shmem-rss:(\d+)kB, UID:0 pgtables:(\d+)kB oom_score_adj:(-?\d+)$/;

describe('the real report (Linux 6.1 under qemu) and kmem’s (6.18 formats)', () => {
  test('the same sections in the same order, each line in its version’s format', () => {
    const m = setup();
    const { error } = runHog(m, () => m.b.t.exited);
    expect(error).toBeNull();
    const ours = lastReport(m.k);
    const sections = [
      ' invoked oom-killer: ',
      'CPU: ',
      'Hardware name: ',
      'Call Trace:',
      ' <TASK>',
      ' </TASK>',
      'Mem-Info:',
      'Tasks state (memory values in pages):',
      '[  pid  ]',
      'oom-kill:',
      'Out of memory: Killed process',
    ];
    for (const report of [fixtureReport, ours]) {
      const at = sections.map((s) => report.findIndex((l) => l.includes(s)));
      expect(at.every((i) => i >= 0)).toBe(true);
      expect([...at].sort((x, y) => x - y)).toEqual(at);
      // The table runs from its header to the oom-kill line, one row per task.
      const rows = report.slice(at[8]! + 1, at[9]!);
      expect(rows.length).toBeGreaterThan(0);
      // The kill line comes right after the summary line.
      expect(at[10]).toBe(at[9]! + 1);
    }
    // The first line: same format; the same request (an anonymous fault: vma_alloc_zeroed_movable_folio's
    // GFP_HIGHUSER_MOVABLE | __GFP_COMP | __GFP_ZERO). 6.1 names the single flags in its hand-made order
    // (__GFP_COMP|__GFP_ZERO), 6.18 in bit order (__GFP_ZERO|__GFP_COMP).
    const real = INVOKED.exec(fixtureReport[0]!)!;
    const mine = INVOKED.exec(ours[0]!)!;
    expect(real[2]).toBe('140dca');
    expect(mine[2]).toBe('140dca');
    expect(real[3]).toBe('GFP_HIGHUSER_MOVABLE|__GFP_COMP|__GFP_ZERO');
    expect(mine[3]).toBe('GFP_HIGHUSER_MOVABLE|__GFP_ZERO|__GFP_COMP');
    expect([real[4], real[5], mine[4], mine[5]]).toEqual(['0', '0', '0', '0']);
    expect(mine[1]).toBe('hog');
    // dump_stack()'s first line: 6.11+ add "UID: n" before the PID.
    expect(fixtureReport[1]).toMatch(/^CPU: \d+ PID: 87 Comm: hog Not tainted \S+ #1/);
    expect(ours[1]).toMatch(new RegExp(`^CPU: \\d+ UID: 0 PID: ${m.hog.pid} Comm: hog Not tainted \\S+ #1$`));
    // The task table: 6.1's header and rows, 6.18's with the rss split into anon, file and shmem.
    expect(fixtureReport).toContain(TABLE_61);
    expect(ours).toContain(TABLE_618);
    for (const [v, report] of [
      ['6.1', fixtureReport],
      ['6.18', ours],
    ] as const) {
      const h = report.indexOf(v === '6.1' ? TABLE_61 : TABLE_618);
      const end = report.findIndex((l) => l.startsWith('oom-kill:'));
      const rows = report.slice(h + 1, end);
      for (const r of rows) {
        const { nums, name } = rowFields(r);
        expect(taskRow(v, nums, name)).toBe(r);
      }
      // The summary and the kill line name the task with the highest badness (rss + pgtables + swapents), its numbers those of its row.
      const score = (nums: number[]) => (v === '6.18' ? nums[4]! + Math.floor(nums[8]! / 4096) + nums[9]! : nums[4]! + Math.floor(nums[5]! / 4096) + nums[6]!);
      const parsed = rows.map(rowFields);
      const best = parsed.reduce((x, y) => (score(y.nums) >= score(x.nums) ? y : x));
      const sum = OOM_KILL_LINE.exec(report[end]!)!;
      expect([sum[1], Number(sum[2])]).toEqual([best.name, best.nums[0]]);
      const k = KILLED.exec(report[end + 1]!)!;
      expect(Number(k[1])).toBe(best.nums[0]);
      expect(Number(k[3])).toBe(best.nums[3]! * 4);
      expect(Number(k[4]) + Number(k[5]) + Number(k[6])).toBe(best.nums[4]! * 4);
      expect(Number(k[7])).toBe(Math.floor(best.nums[v === '6.18' ? 8 : 5]! / 1024));
      if (v === '6.18') expect([Number(k[4]), Number(k[5]), Number(k[6])]).toEqual([best.nums[5]! * 4, best.nums[6]! * 4, best.nums[7]! * 4]);
    }
    // Init (pid 1) is in neither table.
    expect(fixtureReport.some((l) => /^\[ +1\]/.test(l))).toBe(false);
    expect(ours.some((l) => /^\[ +1\]/.test(l))).toBe(false);
  });

  test('a sleeping victim (not the allocating task) exits at once: no OOM reaper line, in the real run and in kmem', () => {
    const real = readFileSync(new URL('../fixtures/oom/linux-6.1-qemu-oom-sleeping-victim.txt', import.meta.url), 'utf8')
      .split('\n')
      .filter((l) => /^\[ *\d+\.\d+\] /.test(l))
      .map((l) => l.replace(/^\[ *\d+\.\d+\] /, ''));
    const invoker = Number(/^CPU: \d+ PID: (\d+) /.exec(real[1]!)![1]);
    const victim = Number(KILLED.exec(real.at(-1)!)![1]);
    expect(victim).not.toBe(invoker);
    expect(real.some((l) => l.startsWith('oom_reaper:'))).toBe(false);
    const m = setup();
    runHog(m, () => m.b.t.exited);
    const ours = lastReport(m.k);
    expect(Number(KILLED.exec(ours.at(-1)!)![1])).toBe(m.b.t.pid);
    expect(Number(/^CPU: \d+ UID: 0 PID: (\d+) /.exec(ours[1]!)![1])).toBe(m.hog.pid);
    expect(m.k.dmesg().some((l) => l.includes('oom_reaper:'))).toBe(false);
  });

  test('oom_score of the real survivors follows proc_oom_score() from their rss and page tables', () => {
    // totalpages: the real machine's managed pages (DMA 15360 kB + DMA32 129856 kB), no swap.
    const totalpages = (15360 + 129856) / 4;
    const table = new Map(fixtureReport.filter((l) => /^\[ +\d+\] /.test(l)).map((l) => [rowFields(l).nums[0]!, rowFields(l).nums]));
    const scores = fixtureText.split('=====BEGIN oom-score.txt=====\n')[1]!.split('\n=====END')[0]!.split('\n');
    expect(scores).toHaveLength(3);
    for (const line of scores) {
      const [pid, score, adj, oomAdj, , resident] = line.split(' ').map(Number) as number[];
      const row = table.get(pid!)!;
      expect(row[4]).toBe(resident);
      const badness = resident! + Math.floor(row[5]! / 4096);
      expect(Math.trunc(((1000 + Math.trunc((badness * 1000) / totalpages)) * 2) / 3)).toBe(score);
      expect([adj, oomAdj]).toEqual([0, 0]);
    }
  });
});

describe('the real 6.18 of this build machine', () => {
  test('its oom_score and oom_adj follow from statm, VmPTE, VmSwap and oom_score_adj by 6.18’s formulas', () => {
    const text = readFileSync(new URL('../fixtures/oom/linux-6.18-host-oom-score.txt', import.meta.url), 'utf8');
    const kb = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB$`, 'm').exec(text)![1]);
    const totalpages = kb('MemTotal') / 4 + kb('SwapTotal') / 4;
    const rows = text.split('\n').filter((l) => /^\d+ \d+ -?\d+ -?\d+ \|/.test(l));
    expect(rows).toHaveLength(5);
    const adjs: number[] = [];
    for (const row of rows) {
      const [head, statm, status] = row.split(' | ') as [string, string, string];
      const [, score, adj, oomAdj] = head.split(' ').map(Number) as [number, number, number, number];
      const resident = Number(statm.split(' ')[1]);
      const pte = Number(/VmPTE: (\d+) kB/.exec(status)![1]);
      const swap = Number(/VmSwap: (\d+) kB/.exec(status)![1]);
      const badness = resident + swap / 4 + Math.floor(pte / 4) + adj * Math.floor(totalpages / 1000);
      expect(Math.trunc(((1000 + Math.trunc((badness * 1000) / totalpages)) * 2) / 3)).toBe(score);
      expect(oomAdj).toBe(adj === 1000 ? 15 : Math.trunc((adj * 17) / 1000));
      adjs.push(adj);
    }
    expect(adjs.sort((x, y) => x - y)).toEqual([0, 0, 0, 500, 1000]);
  });
});

describe('out_of_memory() chooses and kills', () => {
  test('the biggest task is killed with the kernel’s report; the numbers are its own; no other task’s bytes change', () => {
    const m = setup();
    const { k, a, b, c, hog, parent } = m;
    const before = new Map([a, b, c].map((h) => [h.t.pid, usage(k, h.t)]));
    const hogBase = usage(k, hog);
    const vmstat0 = Number(/^oom_kill (\d+)$/m.exec(k.proc.read('/proc/vmstat'))![1]);
    const { touched, error } = runHog(m, () => b.t.exited);
    expect(error).toBeNull();
    const r = lastReport(k);
    expect(r[0]).toBe('hog invoked oom-killer: gfp_mask=0x140dca(GFP_HIGHUSER_MOVABLE|__GFP_ZERO|__GFP_COMP), order=0, oom_score_adj=0');
    // The table: parent and the four children, in pid order, each with its own numbers.
    const h = r.indexOf(TABLE_618);
    const rows = r.slice(
      h + 1,
      r.findIndex((l) => l.startsWith('oom-kill:')),
    );
    expect(rows.map((l) => rowFields(l).nums[0])).toEqual([parent.pid, a.t.pid, b.t.pid, c.t.pid, hog.pid]);
    for (const hd of [a, b, c]) {
      const u = before.get(hd.t.pid)!;
      const row = rows.find((l) => rowFields(l).nums[0] === hd.t.pid)!;
      expect(row).toBe(taskRow('6.18', [hd.t.pid, 0, hd.t.pid, u.totalVm, u.rss, u.anon, u.file, 0, u.pgtablesBytes, 0, 0], hd.t.comm));
    }
    // The fault of the hog's last page called the OOM killer: the pages before it were in its rss.
    const hogRow = rowFields(rows.at(-1)!).nums;
    expect(hogRow[5]).toBe(hogBase.anon + touched - 1);
    const u = before.get(b.t.pid)!;
    expect(r).toContain(`oom-kill:constraint=CONSTRAINT_NONE,nodemask=(null),cpuset=/,mems_allowed=0,global_oom,task_memcg=/,task=b,pid=${b.t.pid},uid=0`);
    expect(r).toContain(
      `Out of memory: Killed process ${b.t.pid} (b) total-vm:${u.totalVm * 4}kB, anon-rss:${u.anon * 4}kB, file-rss:${u.file * 4}kB, shmem-rss:0kB, UID:0 pgtables:${u.pgtablesBytes / 1024}kB oom_score_adj:0`,
    );
    // User memory outweighs the slabs: no "Unreclaimable slab info".
    expect(r).not.toContain('Unreclaimable slab info:');
    // b was asleep: it exits at once, before the OOM reaper's delay, so the report ends with the kill (as in the real
    // 6.1 run with a sleeping victim) and nothing of b stays resident.
    expect(r.at(-1)).toMatch(/^Out of memory: Killed process /);
    expect(k.dmesg().some((l) => l.includes('oom_reaper:'))).toBe(false);
    expect(k.proc.read(`/proc/${b.t.pid}/statm`)).toBe('0 0 0 0 0 0 0\n');
    // The others are untouched, byte for byte; the hog goes on.
    expect(intact(a) && intact(c)).toBe(true);
    expect([a.t.exited, c.t.exited, hog.exited]).toEqual([false, false, false]);
    hog.write32(0x403000, 5);
    expect(Number(/^oom_kill (\d+)$/m.exec(k.proc.read('/proc/vmstat'))![1])).toBe(vmstat0 + 1);
    // The victim died of SIGKILL: wait() gives status 9 (the shell's 137); its later calls throw Killed.
    expect(parent.wait()).toBe(b.t.pid);
    expect(parent.wstatus).toBe(9);
    expect(() => b.t.read32(b.base)).toThrow(Killed);
    expect(() => b.t.mmap(0, P, RW, ANON, -1, 0)).toThrow(/b\[\d+\]: killed by signal 9 \(SIGKILL\)/);
  });

  test('oom_score_adj -1000 protects the biggest task (and the hog): the next biggest is killed', () => {
    const m = setup();
    for (const t of [m.b.t, m.hog]) m.k.proc.write(`/proc/${t.pid}/oom_score_adj`, '-1000');
    expect(m.k.proc.read(`/proc/${m.b.t.pid}/oom_score`)).toBe('0\n');
    const { error } = runHog(m, () => m.c.t.exited || m.a.t.exited);
    expect(error).toBeNull();
    const killed = m.k.dmesg().filter((l) => l.includes('Out of memory: Killed process'));
    // b holds 8000 pages and the hog more and more, but neither may be chosen: c (2000 pages) goes before a (1000).
    expect(killed).toHaveLength(1);
    expect(killed[0]).toMatch(new RegExp(`Killed process ${m.c.t.pid} \\(c\\) .* oom_score_adj:0$`));
    const r = lastReport(m.k);
    expect(r.some((l) => / -1000 b$/.test(l) && l.startsWith(`[${String(m.b.t.pid).padStart(7)}]`))).toBe(true);
    expect([m.a.t.exited, m.b.t.exited, m.hog.exited]).toEqual([false, false, false]);
    expect(intact(m.a) && intact(m.b)).toBe(true);
  });

  test('oom_score_adj 1000 makes the smallest task the victim', () => {
    const m = setup();
    m.k.proc.write(`/proc/${m.a.t.pid}/oom_score_adj`, '1000');
    const { error } = runHog(m, () => m.a.t.exited);
    expect(error).toBeNull();
    const r = lastReport(m.k);
    expect(r.find((l) => l.startsWith('Out of memory: Killed'))).toMatch(
      new RegExp(`^Out of memory: Killed process ${m.a.t.pid} \\(a\\) .* oom_score_adj:1000$`),
    );
    expect(intact(m.b) && intact(m.c)).toBe(true);
  });

  test('the allocating task is killed itself: it dies on its way out of the fault; its caller gets Killed', () => {
    const m = setup();
    m.k.proc.write('/proc/sys/vm/oom_kill_allocating_task', '1');
    const { error } = runHog(m, () => false);
    expect(error).toBeInstanceOf(Killed);
    expect((error as Killed).pid).toBe(m.hog.pid);
    const r = lastReport(m.k);
    expect(r.at(-1)).toMatch(new RegExp(`^Out of memory \\(oom_kill_allocating_task\\): Killed process ${m.hog.pid} \\(hog\\) total-vm:`));
    expect(r.some((l) => l.startsWith('oom_reaper:'))).toBe(false);
    expect(r).toContain(`oom-kill:constraint=CONSTRAINT_NONE,nodemask=(null),cpuset=/,mems_allowed=0,global_oom,task_memcg=/,task=hog,pid=${m.hog.pid},uid=0`);
    expect(m.parent.wait()).toBe(m.hog.pid);
    expect(m.parent.wstatus).toBe(9);
    expect(intact(m.a) && intact(m.b) && intact(m.c)).toBe(true);
  });

  test('oom_kill_allocating_task spares an allocating task with oom_score_adj -1000: the biggest is killed instead', () => {
    const m = setup();
    m.k.proc.write('/proc/sys/vm/oom_kill_allocating_task', '1');
    m.k.proc.write(`/proc/${m.hog.pid}/oom_score_adj`, '-1000');
    const { error } = runHog(m, () => m.b.t.exited);
    expect(error).toBeNull();
    expect(lastReport(m.k).at(-1)).toMatch(new RegExp(`^Out of memory: Killed process ${m.b.t.pid} \\(b\\) `));
  });

  test('vm.oom_dump_tasks 0 leaves the task table out', () => {
    const m = setup();
    m.k.proc.write('/proc/sys/vm/oom_dump_tasks', '0');
    runHog(m, () => m.b.t.exited);
    const r = lastReport(m.k);
    expect(r).not.toContain(TABLE_618);
    expect(r.some((l) => l.startsWith('oom-kill:'))).toBe(true);
  });

  test('panic_on_oom 1 and 2 panic with the kernel’s message after the header, killing nothing', () => {
    for (const [v, word] of [
      ['1', 'system-wide'],
      ['2', 'compulsory'],
    ] as const) {
      const m = setup();
      m.k.proc.write('/proc/sys/vm/panic_on_oom', v);
      const { error } = runHog(m, () => false);
      expect(error).toBeInstanceOf(KernelPanic);
      expect((error as Error).message).toBe(`Kernel panic - not syncing: Out of memory: ${word} panic_on_oom is enabled`);
      const r = lastReport(m.k);
      expect(r).toContain(TABLE_618);
      expect(r.some((l) => l.includes('Killed process'))).toBe(false);
      expect(r).toContain(`Kernel panic - not syncing: Out of memory: ${word} panic_on_oom is enabled`);
      expect(r.at(-1)).toBe(`---[ end Kernel panic - not syncing: Out of memory: ${word} panic_on_oom is enabled ]---`);
    }
    const k = bootWithProgram('64M');
    expect(() => k.proc.write('/proc/sys/vm/panic_on_oom', '3')).toThrow(expect.objectContaining({ code: 'EINVAL' }));
    expect(k.proc.read('/proc/sys/vm/panic_on_oom')).toBe('0\n');
    expect(k.proc.read('/proc/sys/vm/oom_dump_tasks')).toBe('1\n');
    expect(k.proc.read('/proc/sys/vm/oom_kill_allocating_task')).toBe('0\n');
  });

  test('with nothing killable the machine panics: "System is deadlocked on memory"', () => {
    const m = setup();
    for (const t of [m.parent, m.a.t, m.b.t, m.c.t, m.hog]) m.k.proc.write(`/proc/${t.pid}/oom_score_adj`, '-1000');
    const { error } = runHog(m, () => false);
    expect(error).toBeInstanceOf(KernelPanic);
    expect((error as Error).message).toBe('Kernel panic - not syncing: System is deadlocked on memory');
    const r = lastReport(m.k);
    expect(r).toContain('Out of memory and no killable processes...');
    expect(r.indexOf('Out of memory and no killable processes...')).toBeLessThan(r.indexOf('Kernel panic - not syncing: System is deadlocked on memory'));
    expect(r.some((l) => l.includes('Killed process'))).toBe(false);
    // The machine is dead: every task's next call says so.
    expect(() => m.a.t.mmap(0, P, RW, ANON, -1, 0)).toThrow(KernelPanic);
    expect(() => m.parent.fork()).toThrow('Kernel panic - not syncing: System is deadlocked on memory');
  });

  test('the killed task’s pages and objects all come back after wait()', () => {
    const k = bootWithProgram('64M');
    for (const name of ['b', 'hog']) k.fs.writeFile(`/bin/${name}`, tinyElf());
    const parent = k.spawn('/bin/tiny', ['tiny']);
    /** b fills most of memory, the hog runs until the OOM killer has killed b, then exits; the parent reaps both. */
    const round = () => {
      const b = parent.fork();
      b.execve('/bin/b', ['b']);
      const base = b.mmap(0, 12000 * P, RW, ANON, -1, 0);
      for (let i = 0; i < 12000; i++) b.write8(base + i * P, 1);
      const hog = parent.fork();
      hog.execve('/bin/hog', ['hog']);
      const h = hog.mmap(0, 1 << 28, RW, ANON | MAP_NORESERVE, -1, 0);
      for (let i = 0; !b.exited; i++) hog.write8(h + i * P, 1);
      hog.exit(0);
      const reaped = [parent.wait(), parent.wstatus, parent.wait(), parent.wstatus];
      expect(reaped).toEqual([b.pid, 9, hog.pid, 0]);
      expect(parent.wait()).toBeLessThan(0);
    };
    const snapshot = () => {
      k.drainAllPages();
      const slabs = k.proc
        .read('/proc/slabinfo')
        .split('\n')
        .filter((l) => /^(task_struct|mm_struct|vm_area_struct|maple_node|anon_vma|anon_vma_chain|pid) /.test(l))
        .map((l) => l.split(/\s+/).slice(0, 3).join(' '));
      return { buddy: k.proc.read('/proc/buddyinfo'), slabs, free: /^nr_free_pages (\d+)$/m.exec(k.proc.read('/proc/vmstat'))![1] };
    };
    // A first round leaves the program files cached and the slab caches grown, as on a real machine.
    round();
    const s0 = snapshot();
    round();
    expect(snapshot()).toEqual(s0);
    round();
    expect(snapshot()).toEqual(s0);
  });
});

describe('the victim is the task of highest badness, by hand', () => {
  // At most 4 holders of 1400 pages on a 32 MiB machine (8192 pages): they fit, and only the hog runs out.
  test('random holders and oom_score_adj values: the first kill names the argmax of rss + page-table pages + adj * (totalpages / 1000), the last on a tie; all -1000 panics', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ pages: fc.integer({ min: 0, max: 1400 }), adj: fc.constantFrom(-1000, -999, -300, 0, 0, 0, 1, 250, 1000) }), {
          minLength: 1,
          maxLength: 4,
        }),
        fc.constantFrom(-1000, 0),
        (specs, parentAdj) => {
          const k = bootWithProgram('32M');
          const parent = k.spawn('/bin/tiny', ['tiny']);
          k.proc.write(`/proc/${parent.pid}/oom_score_adj`, String(parentAdj));
          const holders = specs.map(({ pages, adj }) => {
            const t = parent.fork();
            if (pages > 0) {
              const base = t.mmap(0, pages * P, RW, ANON, -1, 0);
              for (let i = 0; i < pages; i++) t.write8(base + i * P, 1);
            }
            k.proc.write(`/proc/${t.pid}/oom_score_adj`, String(adj));
            return t;
          });
          const hog = parent.fork();
          k.proc.write(`/proc/${hog.pid}/oom_score_adj`, '-1000');
          const totalpages = Number(/^MemTotal:\s+(\d+) kB$/m.exec(k.proc.read('/proc/meminfo'))![1]) / 4;
          let expected = -1;
          let best = Number.NEGATIVE_INFINITY;
          for (const t of [parent, ...holders]) {
            if (t.oomScoreAdj === -1000) continue;
            const u = usage(k, t);
            const badness = u.rss + u.pgtablesBytes / 4096 + t.oomScoreAdj * Math.floor(totalpages / 1000);
            if (badness >= best) {
              best = badness;
              expected = t.pid;
            }
          }
          const h = hog.mmap(0, 1 << 26, RW, ANON | MAP_NORESERVE, -1, 0);
          let error: unknown = null;
          try {
            for (let i = 0; !holders.concat(parent).some((t) => t.exited) && i < 1 << 14; i++) hog.write8(h + i * P, 1);
          } catch (e) {
            error = e;
          }
          if (expected < 0) {
            expect(error).toBeInstanceOf(KernelPanic);
            return;
          }
          // The first kill is the model's; if what it freed is not enough, the next OOM finds the rest (or nothing: a panic).
          const killed = k.dmesg().filter((l) => l.includes('Out of memory: Killed process'));
          expect(killed.length).toBeGreaterThanOrEqual(1);
          expect(killed[0]).toMatch(new RegExp(`Killed process ${expected} \\(`));
          if (error !== null) expect(error).toBeInstanceOf(KernelPanic);
        },
      ),
      { numRuns: 12 },
    );
  });
});

describe('random workloads under memory pressure', () => {
  test('tasks touch random amounts; every byte of every living task stays; only tasks the report names die; all memory returns', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ who: fc.integer({ min: 0, max: 3 }), pages: fc.integer({ min: 1, max: 4000 }), adj: fc.constantFrom(-500, 0, 0, 300) }), {
          minLength: 1,
          maxLength: 10,
        }),
        (steps) => {
          const k = bootWithProgram('32M');
          const parent = k.spawn('/bin/tiny', ['tiny']);
          // The parent stays (its children inherit 0 here, then their own adj): what it holds is the baseline.
          k.proc.write(`/proc/${parent.pid}/oom_score_adj`, '-1000');
          const warm = parent.fork();
          warm.exit(0);
          parent.wait();
          const memory = () => {
            k.drainAllPages();
            const kb = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB$`, 'm').exec(k.proc.read('/proc/meminfo'))![1]);
            // Cached too: reclaim may drop the program's clean page-cache pages under pressure.
            return kb('MemFree') + kb('Slab') + kb('Cached');
          };
          const m0 = memory();
          const slots: ({ t: Task; base: number; n: number } | null)[] = [null, null, null, null];
          const everyone: Task[] = [];
          for (const { who, pages, adj } of steps) {
            let s = slots[who];
            if (s == null || s.t.exited) {
              const t = parent.fork();
              everyone.push(t);
              k.proc.write(`/proc/${t.pid}/oom_score_adj`, String(adj));
              s = { t, base: t.mmap(0, 8192 * P, RW, ANON | MAP_NORESERVE, -1, 0), n: 0 };
              slots[who] = s;
            }
            try {
              for (let i = 0; i < pages && s.n < 8192; i++, s.n++) s.t.write32(s.base + s.n * P, s.t.pid * 65536 + s.n);
            } catch (e) {
              expect(e).toBeInstanceOf(Killed);
            }
            const killedPids = new Set(
              k
                .dmesg()
                .flatMap((l) => /Out of memory: Killed process (\d+) /.exec(l)?.[1] ?? [])
                .map(Number),
            );
            for (const t of everyone) {
              if (t.exited) expect(killedPids.has(t.pid)).toBe(true);
            }
            let wrong = 0;
            for (const x of slots) {
              if (x == null || x.t.exited) continue;
              for (let i = 0; i < x.n; i++) if (x.t.read32(x.base + i * P) !== x.t.pid * 65536 + i) wrong++;
            }
            expect(wrong).toBe(0);
          }
          for (const x of slots) if (x != null && !x.t.exited) x.t.exit(0);
          while (parent.wait() > 0);
          expect(memory()).toBe(m0);
        },
      ),
      { numRuns: 6 },
    );
  });
});

describe('a system call that runs out of memory', () => {
  test('the allocating task killed inside mmap(MAP_POPULATE): the call ends, then the task dies and its caller gets Killed', () => {
    const m = setup();
    const { k, hog } = m;
    k.proc.write('/proc/sys/vm/oom_kill_allocating_task', '1');
    let error: unknown = null;
    try {
      // Populating 8000 anonymous pages (no swap: nothing to reclaim them to) runs out inside the system call.
      hog.mmap(0, 8000 * P, RW, ANON | MAP_POPULATE, -1, 0);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(Killed);
    expect(lastReport(k).some((l) => l.startsWith(`Out of memory (oom_kill_allocating_task): Killed process ${hog.pid} (hog)`))).toBe(true);
    expect(hog.exited).toBe(true);
    expect(intact(m.a) && intact(m.b) && intact(m.c)).toBe(true);
  });
});

describe('/proc/PID/oom_score, oom_score_adj, oom_adj', () => {
  test('oom_score is (1000 + badness * 1000 / totalpages) * 2 / 3, worked from statm and VmPTE', () => {
    const m = setup();
    const { k } = m;
    const totalpages = Number(/^MemTotal:\s+(\d+) kB$/m.exec(k.proc.read('/proc/meminfo'))![1]) / 4;
    const score = (badness: number) => Math.trunc(((1000 + Math.trunc((badness * 1000) / totalpages)) * 2) / 3);
    for (const t of [m.a.t, m.b.t, m.c.t, m.hog]) {
      const u = usage(k, t);
      expect(k.proc.read(`/proc/${t.pid}/oom_score`)).toBe(`${score(u.rss + u.pgtablesBytes / 4096)}\n`);
    }
    // oom_score_adj adds adj * (totalpages / 1000) to the badness; -1000 is 0 whatever the task holds; init is 0.
    const u = usage(k, m.b.t);
    k.proc.write(`/proc/${m.b.t.pid}/oom_score_adj`, '500');
    expect(k.proc.read(`/proc/${m.b.t.pid}/oom_score`)).toBe(`${score(u.rss + u.pgtablesBytes / 4096 + 500 * Math.floor(totalpages / 1000))}\n`);
    k.proc.write(`/proc/${m.b.t.pid}/oom_score_adj`, '-999');
    expect(k.proc.read(`/proc/${m.b.t.pid}/oom_score`)).toBe(`${score(u.rss + u.pgtablesBytes / 4096 - 999 * Math.floor(totalpages / 1000))}\n`);
    k.proc.write(`/proc/${m.b.t.pid}/oom_score_adj`, '-1000');
    expect(k.proc.read(`/proc/${m.b.t.pid}/oom_score`)).toBe('0\n');
    expect(k.proc.read('/proc/1/oom_score')).toBe('0\n');
  });

  test('oom_score_adj takes -1000..1000 (kstrtoint, base 0); oom_adj is the legacy scale, deprecated once', () => {
    const m = setup();
    const { k } = m;
    const p = `/proc/${m.a.t.pid}`;
    expect(k.proc.read(`${p}/oom_score_adj`)).toBe('0\n');
    for (const bad of ['1001', '-1001', 'abc', '12x', '']) {
      if (bad === '') continue;
      expect(() => k.proc.write(`${p}/oom_score_adj`, bad)).toThrow(expect.objectContaining({ code: 'EINVAL', errno: 22 }));
    }
    expect(k.proc.read(`${p}/oom_score_adj`)).toBe('0\n');
    k.proc.write(`${p}/oom_score_adj`, ' 0x10\n');
    expect(k.proc.read(`${p}/oom_score_adj`)).toBe('16\n');
    k.proc.write(`${p}/oom_score_adj`, '-500\n');
    expect(m.a.t.oomScoreAdj).toBe(-500);
    // oom_adj reads oom_score_adj * 17 / 1000 (truncated), 1000 reads 15.
    expect(k.proc.read(`${p}/oom_adj`)).toBe('-8\n');
    // Writes: 15 is 1000, -17 is -1000, others n * 1000 / 17 truncated; -18 and 16 are refused.
    k.proc.write(`${p}/oom_adj`, '8');
    expect(k.proc.read(`${p}/oom_score_adj`)).toBe('470\n');
    expect(k.proc.read(`${p}/oom_adj`)).toBe('7\n');
    k.proc.write(`${p}/oom_adj`, '15');
    expect(k.proc.read(`${p}/oom_score_adj`)).toBe('1000\n');
    expect(k.proc.read(`${p}/oom_adj`)).toBe('15\n');
    k.proc.write(`${p}/oom_adj`, '-17');
    expect(k.proc.read(`${p}/oom_score_adj`)).toBe('-1000\n');
    for (const bad of ['-18', '16']) expect(() => k.proc.write(`${p}/oom_adj`, bad)).toThrow(expect.objectContaining({ code: 'EINVAL' }));
    const warned = k.dmesg().filter((l) => l.includes('oom_adj is deprecated'));
    expect(warned).toHaveLength(1);
    expect(warned[0]).toMatch(new RegExp(`: /proc/${m.a.t.pid}/oom_adj is deprecated, please use /proc/${m.a.t.pid}/oom_score_adj instead\\.$`));
    // fork copies signal->oom_score_adj.
    const child = m.a.t.fork();
    expect(k.proc.read(`/proc/${child.pid}/oom_score_adj`)).toBe('-1000\n');
    // The property refuses what the file refuses.
    expect(() => {
      m.a.t.oomScoreAdj = 1001;
    }).toThrow(RangeError);
    expect(() => {
      m.a.t.oomScoreAdj = 1.5;
    }).toThrow(/oomScoreAdj/);
  });
});

describe('kernel memory runs out', () => {
  test('kmalloc fills memory: the report lists the unreclaimable slabs (they outweigh the LRU), then kills the only task; then nothing is left to kill', () => {
    const k = bootWithProgram('32M');
    const t = k.spawn('/bin/tiny', ['tiny']);
    const a = t.mmap(0, 64 * P, RW, ANON, -1, 0);
    for (let i = 0; i < 64; i++) t.write8(a + i * P, 1);
    let error: unknown = null;
    try {
      while (!t.exited) {
        if (k.kmalloc(2048, 0xcc0) === 0) break;
        k.tasks();
      }
    } catch (e) {
      error = e;
    }
    expect(error).toBeNull();
    expect(t.exited).toBe(true);
    const r = lastReport(k);
    expect(r[0]).toBe('kmem invoked oom-killer: gfp_mask=0xcc0(GFP_KERNEL), order=0, oom_score_adj=0');
    const at = r.indexOf('Unreclaimable slab info:');
    expect(at).toBeGreaterThan(r.indexOf('Mem-Info:'));
    expect(at).toBeLessThan(r.indexOf('Tasks state (memory values in pages):'));
    expect(r[at + 1]).toBe('Name                      Used          Total');
    const rows = r.slice(at + 2, r.indexOf('Tasks state (memory values in pages):'));
    for (const row of rows) expect(row).toMatch(/^\S+ *( {0,9}\d+)KB ( {0,9}\d+)KB$/);
    const names = rows.map((l) => l.split(' ')[0]!);
    // slab_caches order, as /proc/slabinfo lists them; no SLAB_RECLAIM_ACCOUNT cache.
    const order = k.proc
      .read('/proc/slabinfo')
      .split('\n')
      .slice(2)
      .map((l) => l.split(' ')[0]!);
    expect(names.map((n) => order.indexOf(n))).toEqual([...names.map((n) => order.indexOf(n))].sort((x, y) => x - y));
    for (const n of names) expect(k.proc.read(`/sys/kernel/slab/${n}/reclaim_account`)).toBe('0\n');
    // kmalloc-2k: 2048-byte slots, every one in use at the time.
    const row = rows.find((l) => l.startsWith('kmalloc-2k '))!;
    const [, used, total] = /^kmalloc-2k +(\d+)KB +(\d+)KB$/.exec(row)!;
    expect(Number(used)).toBe(Number(total));
    expect(Number(total)).toBeGreaterThan(16 * 1024);
    expect(row).toBe(`kmalloc-2k        ${used!.padStart(10)}KB ${total!.padStart(10)}KB`);
    // Only init is left: the next OOM panics.
    expect(() => {
      for (;;) if (k.kmalloc(2048, 0xcc0) === 0) break;
    }).toThrow(KernelPanic);
  });
});

describe('the other allocator designs', () => {
  test.each(['slab', 'slob'] as const)(
    'allocator %s: kmalloc fills memory, the task is killed; no unreclaimable-slab dump (SLUB’s files only)',
    (allocator) => {
      const k = boot({ memory: '32M', seed: 1, aslr: 0, allocator });
      k.fs.writeFile('/bin/tiny', tinyElf());
      const t = k.spawn('/bin/tiny', ['tiny']);
      const a = t.mmap(0, 64 * P, RW, ANON, -1, 0);
      for (let i = 0; i < 64; i++) t.write8(a + i * P, 1);
      while (!t.exited) {
        if (k.kmalloc(2048, 0xcc0) === 0) break;
        k.tasks();
      }
      expect(t.exited).toBe(true);
      const r = lastReport(k);
      expect(r.at(-1)).toMatch(new RegExp(`^Out of memory: Killed process ${t.pid} \\(tiny\\) total-vm:`));
      expect(r).not.toContain('Unreclaimable slab info:');
    },
  );
});

describe('where the OOM killer is not called', () => {
  test('a machine without processes fails the allocation with warn_alloc and no OOM report', () => {
    const k = boot({ memory: '64M', seed: 1 });
    const got: number[] = [];
    for (;;) {
      const a = k.allocPages(0, 0xcc0);
      if (a === 0) break;
      got.push(a);
    }
    expect(k.dmesg().some((l) => l.includes('page allocation failure: order:0'))).toBe(true);
    expect(k.dmesg().some((l) => l.includes('invoked oom-killer'))).toBe(false);
  });

  test('__GFP_NORETRY, __GFP_RETRY_MAYFAIL, costly orders, GFP_NOFS and GFP_DMA32 fail, GFP_ATOMIC digs into its reserves: no OOM killer for any', () => {
    const m = setup();
    const { k } = m;
    const held: number[] = [];
    // GFP_KERNEL | __GFP_NORETRY until memory is out; then each of the others just fails.
    for (let a = k.allocPages(0, 0xcc0 | 0x10000); a !== 0; a = k.allocPages(0, 0xcc0 | 0x10000)) held.push(a);
    expect(k.allocPages(0, 0xcc0 | 0x4000)).toBe(0); // __GFP_RETRY_MAYFAIL: the caller has a fallback
    expect(k.allocPages(4, 0xcc0)).toBe(0); // order > PAGE_ALLOC_COSTLY_ORDER
    expect(k.allocPages(0, 0xc40)).toBe(0); // GFP_NOFS (kmem: fails at once; the kernel keeps retrying)
    expect(k.allocPages(0, 0xcc4)).toBe(0); // GFP_DMA32: not for lowmem
    expect(k.allocPages(0, 0xa20)).not.toBe(0); // GFP_ATOMIC: may not reclaim; its reserves below min give it a page
    expect(k.dmesg().some((l) => l.includes('invoked oom-killer'))).toBe(false);
    // A plain GFP_KERNEL page now calls it; the kernel context is not a task, so the report names the machine's task.
    expect(k.allocPages(0, 0xcc0)).not.toBe(0);
    const r = lastReport(k);
    expect(r[0]).toBe('kmem invoked oom-killer: gfp_mask=0xcc0(GFP_KERNEL), order=0, oom_score_adj=0');
    expect(r.some((l) => l.startsWith(`Out of memory: Killed process ${m.b.t.pid} (b)`))).toBe(true);
  });
});
