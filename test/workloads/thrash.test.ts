/**
 * The thrash workload without swap: a file of 9/8 of RAM read with random
 * pread()s of 64 blocks, three passes. The first pass only fills the cache;
 * from then on a miss finds the shadow entry its eviction left (a refault,
 * workingset_refault_file), and pages read twice were activated, so the
 * active file list is the workingset a refault's distance is held against
 * (workingset_activate_file for those that would have stayed). Every block
 * read is compared with the disk's by the workload; nothing is scanned on
 * the anon lists and nothing goes to swap.
 */
import { expect, test } from 'vitest';
import { boot } from '../../src/kernel.js';
import { meminfoKb, vmstatItems } from '../../src/workloads/pressure.js';
import { BATCH } from '../../src/workloads/reclaim.js';
import { thrashWorkload } from '../../src/workloads/thrash.js';
import { recountLru } from '../vm/lru_check.js';

test('a file working set bigger than RAM read at random: refaults and activations, every block right', () => {
  const k = boot({ memory: '32M', seed: 2 });
  const v0 = vmstatItems(k);
  const stats = { kind: 'anon' as 'anon' | 'file', pages: 0, passesDone: 0, pagesChecked: 0 };
  const w = thrashWorkload(k, {}, stats);
  expect(stats.kind).toBe('file');
  expect(stats.pages).toBe(Math.floor(((32 << 20) / 4096) * 1.125));
  while (!w.finished) {
    w.run(32);
    const m = meminfoKb(k);
    expect(m.Cached).toBeLessThan(m.MemTotal!);
  }
  const v = vmstatItems(k);
  const d = (n: string) => v[n]! - v0[n]!;
  expect(stats.passesDone).toBe(3);
  expect(stats.pagesChecked).toBe(3 * Math.ceil(stats.pages / BATCH) * BATCH);
  expect(d('workingset_refault_file')).toBeGreaterThan(0);
  expect(d('workingset_activate_file')).toBeGreaterThan(0);
  expect(d('workingset_activate_file')).toBeLessThanOrEqual(d('workingset_refault_file'));
  // each refault was a page stolen earlier
  expect(d('workingset_refault_file')).toBeLessThanOrEqual(d('pgsteal_file'));
  expect(d('pgscan_anon')).toBe(0);
  expect(d('pswpout') || 0).toBe(0);
  expect(k.tasks().filter((t) => t.comm === 'stress' || t.comm === 'sh')).toEqual([]);
  recountLru(k);
});

test('with swap the working set is anonymous: each pass swaps it out and in, every byte right', () => {
  const k = boot({ memory: '32M', swap: '32M', seed: 2 });
  const v0 = vmstatItems(k);
  const m0 = meminfoKb(k);
  const stats = { kind: 'file' as 'anon' | 'file', pages: 0, passesDone: 0, pagesChecked: 0 };
  const w = thrashWorkload(k, {}, stats);
  expect(stats.kind).toBe('anon');
  // 9/8 of RAM, as MemAvailable + half the swap allow
  expect(stats.pages).toBe(Math.min(Math.floor(((32 << 20) / 4096) * 1.125), Math.floor(m0.MemAvailable! / 4) + Math.floor(m0.SwapTotal! / 8)));
  w.run(1e6);
  expect(w.finished).toBe(true);
  const v = vmstatItems(k);
  const d = (n: string) => v[n]! - v0[n]!;
  expect(stats.pagesChecked).toBe(3 * stats.pages);
  // A loop over more than RAM: every pass has to write pages out and read them back.
  expect(d('pswpout')).toBeGreaterThan(stats.pages - (32 << 20) / 4096);
  expect(d('pswpin')).toBeGreaterThan(2 * (stats.pages - (32 << 20) / 4096));
  const m = meminfoKb(k);
  expect(m.SwapFree).toBe(m.SwapTotal);
  expect(m.AnonPages).toBe(0);
  recountLru(k);
});

test('options are checked; anonymous thrash needs swap', () => {
  const k = boot({ memory: '16M' });
  expect(() => thrashWorkload(k, { kind: 'anon' })).toThrow(/needs swap/);
  expect(() => thrashWorkload(k, { passes: 0 })).toThrow(/passes/);
  expect(() => thrashWorkload(k, { pages: -1 })).toThrow(/pages/);
  expect(() => thrashWorkload(k, { kind: 'x' as 'file' })).toThrow(/kind/);
});
