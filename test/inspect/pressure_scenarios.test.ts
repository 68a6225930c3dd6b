/**
 * The browser view's memory-pressure scenarios (web/model/pressure.ts) run
 * in node: each step's real Task calls leave the machine as the kernel's
 * rules say (the two-touch rule, an active working set surviving a stream,
 * kswapd reclaiming the page cache for anonymous memory).
 */
import { expect, test } from 'vitest';
import { LP_ACTIVE, LP_REFERENCED } from '../../src/inspect.js';
import { PRESSURE_SCENARIOS, PressureLab } from '../../web/model/pressure.js';

function run(id: string, upTo: number): PressureLab {
  const sc = PRESSURE_SCENARIOS.find((s) => s.id === id)!;
  const lab = new PressureLab(1, sc.config);
  for (let i = 0; i < upTo; i++) {
    lab.step = i + 1;
    sc.steps[i]!.run(lab);
    expect(sc.steps[i]!.text(lab)).not.toMatch(/undefined|NaN/);
  }
  return lab;
}

test('a file read twice: inactive and referenced after one read, active after two, still active after a 72 MiB stream', () => {
  const lab = run('read-twice', 1);
  const notes = () => lab.k.inspect.pageCache().find((f) => f.path === '/data/notes')!;
  expect(notes().nrpages).toBe(16);
  expect(Array.from(notes().bits).every((b) => (b & (LP_ACTIVE | LP_REFERENCED)) === LP_REFERENCED)).toBe(true);
  const sc = PRESSURE_SCENARIOS.find((s) => s.id === 'read-twice')!;
  lab.step = 2;
  sc.steps[1]!.run(lab);
  expect(notes().active).toBe(16);
  const active = lab.k.inspect.lruLists(16)[3]!;
  expect(active.head.filter((p) => p.ino === lab.focusIno)).toHaveLength(16);
  lab.step = 3;
  sc.steps[2]!.run(lab);
  expect(lab.reclaim().kswapdRuns).toBeGreaterThan(0);
  expect(notes().active).toBe(16);
  // samples were taken through the stream; kswapd's runs only grow
  expect(lab.samples.length).toBeGreaterThan(20);
  for (let i = 1; i < lab.samples.length; i++) expect(lab.samples[i]!.kswapdRuns).toBeGreaterThanOrEqual(lab.samples[i - 1]!.kswapdRuns);
});

test('memory runs out: the page cache gives way to anonymous memory, then anonymous pages go to swap', () => {
  const lab = run('memory-runs-out', 2);
  const lists = lab.k.inspect.lruLists(0);
  expect(lists[0]!.count + lists[1]!.count).toBeGreaterThanOrEqual(40 * 256);
  expect(lab.reclaim().pgstealKswapd + lab.reclaim().pgstealDirect).toBeGreaterThan(0);
  const log = lab.k.inspect.pageCache().find((f) => f.path === '/data/log')!;
  expect(log.nrpages).toBeLessThan(64 * 256 - 40 * 256);
});

test('memory runs out, step 3: with 32 MiB of swap, reclaim writes anonymous pages to swap slots (/proc/swaps and inspect.swap() agree)', () => {
  const lab = run('memory-runs-out', 3);
  expect(lab.hasSwap).toBe(true);
  const [total, used] = lab.swapUsage();
  expect(total).toBe(32 * 256 - 1);
  expect(used).toBeGreaterThan(0);
  const sw = lab.k.inspect.swap()!;
  expect(sw.inuse).toBe(used);
  expect(lab.reclaim().pgstealKswapd + lab.reclaim().pgstealDirect).toBeGreaterThan(used);
  expect(lab.k.dmesg().filter((l) => /Killed process/.test(l))).toEqual([]);
});

test('memory runs out, step 4: swap full, nothing reclaimable: the OOM killer kills hog, the largest task, and its slots are freed', () => {
  const lab = run('memory-runs-out', 4);
  const killed = lab.k.dmesg().filter((l) => /Out of memory: Killed process/.test(l));
  expect(killed).toHaveLength(1);
  expect(killed[0]).toMatch(/Killed process \d+ \(hog\)/);
  expect(lab.task('hog').exited).toBe(true);
  expect(lab.oomReport()[0]).toMatch(/hog invoked oom-killer/);
  expect(lab.oomReport().at(-1)).toMatch(/Killed process/);
  // hog's swap entries went with it; cat's few remain.
  expect(lab.swapUsage()[1]).toBeLessThan(64);
});

test('dirty pages written back: write() dirties, the flusher writes pages older than 30 s, sync() at once', () => {
  const lab = run('writeback', 1);
  const f = (p: string) => lab.k.inspect.pageCache().find((x) => x.path === p)!;
  expect(f('/data/draft').dirty).toBe(512);
  expect(lab.meminfo('Dirty')).toBe(2048);
  const sc = PRESSURE_SCENARIOS.find((s) => s.id === 'writeback')!;
  lab.step = 2;
  sc.steps[1]!.run(lab);
  // 10 s: the flusher woke twice (every 5 s) but the inode is not 30 s old
  expect(f('/data/draft').dirty).toBe(512);
  lab.step = 3;
  sc.steps[2]!.run(lab);
  expect(f('/data/draft').dirty).toBe(0);
  expect(f('/data/draft').writeback).toBe(0);
  expect(lab.meminfo('Dirty')).toBe(0);
  lab.step = 4;
  sc.steps[3]!.run(lab);
  expect(f('/data/draft2').nrpages).toBe(256);
  expect(f('/data/draft2').dirty).toBe(0);
});
