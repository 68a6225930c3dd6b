/**
 * The reclaim workload on a machine with swap: four workers write 5/4 of
 * RAM of anonymous memory (every page stamped with its owner and index)
 * and read all of it back. Reclaim has to put anonymous pages on swap:
 * pswpout counts the pages written to the swap area, pswpin those read
 * back from it (a page found still in the swap cache is not read), so
 * 0 < pswpin <= pswpout; every byte read back is what was written (the
 * workload's check throws otherwise); at the end every process is reaped,
 * so every swap slot is free again and no anonymous page is left.
 */
import { expect, test } from 'vitest';
import { boot } from '../../src/kernel.js';
import { installPrograms } from '../../src/workloads/fork_exec.js';
import { checkPage, meminfoKb, stampPage, vmstatItems } from '../../src/workloads/pressure.js';
import { reclaimWorkload } from '../../src/workloads/reclaim.js';
import { recountLru } from '../vm/lru_check.js';

test('anonymous memory past RAM goes to swap and comes back byte for byte', () => {
  const k = boot({ memory: '32M', swap: '32M', seed: 4 });
  const m0 = meminfoKb(k);
  expect(m0.SwapTotal).toBe(32 * 1024 - 4);
  const v0 = vmstatItems(k);
  const stats = { pagesWritten: 0, pagesChecked: 0 };
  const w = reclaimWorkload(k, {}, stats);
  w.run(1e6);
  expect(w.finished).toBe(true);
  const v = vmstatItems(k);
  const d = (n: string) => v[n]! - v0[n]!;
  const ram = (32 << 20) / 4096;
  // 5/4 of RAM unless MemAvailable + half the swap is less
  expect(stats.pagesWritten).toBe(Math.min(Math.floor(ram * 1.25), Math.floor(m0.MemAvailable! / 4) + Math.floor(m0.SwapTotal! / 8)));
  expect(stats.pagesWritten).toBeGreaterThan(ram);
  expect(stats.pagesChecked).toBe(stats.pagesWritten);
  expect(d('pswpout')).toBeGreaterThan(stats.pagesWritten - ram);
  expect(d('pswpin')).toBeGreaterThan(0);
  expect(d('pswpin')).toBeLessThanOrEqual(d('pswpout'));
  expect(d('pgsteal_anon')).toBeGreaterThan(0);
  const m = meminfoKb(k);
  expect(m.SwapFree).toBe(m.SwapTotal);
  expect(m.AnonPages).toBe(0);
  expect(k.tasks().filter((t) => t.comm === 'stress' || t.comm === 'sh')).toEqual([]);
  recountLru(k);
});

test('reclaim needs swap; a wrong byte is found', () => {
  expect(() => reclaimWorkload(boot({ memory: '16M' }))).toThrow(/no swap/);
  const k = boot({ memory: '16M' });
  installPrograms(k);
  const t = k.spawn('/bin/sh');
  const va = t.mmap(0, 4096, 3, 0x22, -1, 0);
  stampPage(t, va, 9, 5);
  expect(checkPage(t, va, 9, 5)).toBe(-1);
  expect(checkPage(t, va, 9, 6)).toBe(0);
  t.write8(va + 1000, 1);
  expect(checkPage(t, va, 9, 5)).toBe(1000);
});

test('asked for more than RAM + swap, workers the OOM killer takes drop out and the rest finish; all reaped', () => {
  const k = boot({ memory: '16M', swap: '8M', seed: 6 });
  const stats = { pagesWritten: 0, pagesChecked: 0, killed: 0 };
  const w = reclaimWorkload(k, { pages: (32 << 20) / 4096, workers: 4 }, stats);
  w.run(1e6);
  expect(w.finished).toBe(true);
  expect(stats.killed).toBeGreaterThan(0);
  expect(stats.killed).toBeLessThan(4);
  const kills = k.dmesg().flatMap((l) => /Out of memory: Killed process \d+ \((\w+)\)/.exec(l)?.[1] ?? []);
  expect(kills).toEqual(Array(stats.killed).fill('stress'));
  expect(k.tasks()).toEqual([]);
  const m = meminfoKb(k);
  expect(m.SwapFree).toBe(m.SwapTotal);
  expect(m.AnonPages).toBe(0);
});
