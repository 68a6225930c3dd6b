/**
 * The oom workload without swap: two keepers hold a fifth of RAM each,
 * then a hog's MAP_NORESERVE mapping grows past what RAM can hold. Reclaim
 * finds nothing to take but page cache, an allocation fails, and the task
 * killed is the hog (by then the biggest by far); the keepers read back
 * every byte they wrote, and at the end every process is reaped and every
 * page they held is free again.
 */
import { expect, test } from 'vitest';
import { boot } from '../../src/kernel.js';
import { oomWorkload } from '../../src/workloads/oom.js';
import { meminfoKb, vmstatItems } from '../../src/workloads/pressure.js';
import { recountLru } from '../vm/lru_check.js';

test("without swap the hog is the task killed; the keepers' bytes are intact; everything is reaped", () => {
  const k = boot({ memory: '64M', seed: 11 });
  const free0 = meminfoKb(k).MemFree!;
  const stats = { hogPid: 0, hogPages: 0, keeperPids: [] as number[], killed: false, pagesChecked: 0 };
  const w = oomWorkload(k, stats);
  while (!w.finished) {
    w.run(8);
    // the keepers live until the workload's end: the hog is the only one that may die
    if (!w.finished) for (const pid of stats.keeperPids) expect(k.tasks().some((t) => t.pid === pid && !t.exited)).toBe(true);
  }
  expect(stats.killed).toBe(true);
  const ram = (64 << 20) / 4096;
  // The hog got most of what the keepers left, and not all it asked for (RAM + swap: more than there is).
  expect(stats.hogPages).toBeGreaterThan(ram / 2);
  expect(stats.hogPages).toBeLessThan(ram - 2 * Math.floor(ram / 5));
  // Every byte of both keepers' regions was read back right (the check throws otherwise).
  expect(stats.pagesChecked).toBe(2 * Math.floor(ram / 5));
  const log = k.dmesg().join('\n');
  // Exactly one kill, and of the hog.
  const kills = [...log.matchAll(/Out of memory: Killed process (\d+) \((\w+)\)/g)];
  expect(kills.map((m) => [Number(m[1]), m[2]])).toEqual([[stats.hogPid, 'stress']]);
  // Everyone reaped; their memory is free again (within what the page cache and slab kept).
  expect(k.tasks().filter((t) => t.comm === 'stress' || t.comm === 'sh')).toEqual([]);
  expect(meminfoKb(k).MemFree!).toBeGreaterThan(free0 - 4096);
  expect(meminfoKb(k).AnonPages).toBe(0);
  recountLru(k);
});

test('with swap the hog fills RAM and swap first, then it is the one killed; every slot is free at the end', () => {
  const k = boot({ memory: '32M', swap: '16M', seed: 12 });
  const m0 = meminfoKb(k);
  const stats = { hogPid: 0, hogPages: 0, keeperPids: [] as number[], killed: false, pagesChecked: 0 };
  const w = oomWorkload(k, stats);
  w.run(1e6);
  expect(w.finished).toBe(true);
  expect(stats.killed).toBe(true);
  const ram = (32 << 20) / 4096;
  // more than RAM could give it beside the keepers: part of it (or of theirs) was on swap
  expect(stats.hogPages).toBeGreaterThan(ram - 2 * Math.floor(ram / 5));
  expect(stats.hogPages).toBeLessThan(ram + m0.SwapTotal! / 4);
  expect(stats.pagesChecked).toBe(2 * Math.floor(ram / 5));
  expect(vmstatItems(k).pswpout).toBeGreaterThan(0);
  const kills = [
    ...k
      .dmesg()
      .join('\n')
      .matchAll(/Out of memory: Killed process (\d+) \((\w+)\)/g),
  ];
  expect(kills.map((m) => [Number(m[1]), m[2]])).toEqual([[stats.hogPid, 'stress']]);
  const m = meminfoKb(k);
  expect(m.SwapFree).toBe(m.SwapTotal);
  expect(m.AnonPages).toBe(0);
  recountLru(k);
});
