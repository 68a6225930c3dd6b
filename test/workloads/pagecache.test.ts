/**
 * The pagecache workload: cat streams a file of 17/16 of RAM twice through
 * 128 KiB read()s. Checked against the kernel's rules: the cache never
 * holds more than RAM (kswapd reclaims the inactive file list behind the
 * reader, so what was read past RAM was stolen); readahead issues the
 * requests mm/readahead.c sizes (diskstats' reads completed, worked by
 * hand for 128 KiB and 4 KiB reads); without swap only file
 * pages are scanned; a sequential stream bigger than the cache misses on
 * every page of the second pass, and each of those misses finds the shadow
 * entry its eviction left (a refault), too far back to be activated with
 * the active file list empty; the disk is unchanged; the processes are
 * gone at the end. The workload itself compares every byte read with the
 * disk's (it throws otherwise).
 */
import { expect, test } from 'vitest';
import { boot } from '../../src/kernel.js';
import { CAT_PATH, LAYOUT_BLOCKS, pagecacheWorkload, STREAM_PATH, STREAM_TAG } from '../../src/workloads/pagecache.js';
import { meminfoKb, vmstatItems } from '../../src/workloads/pressure.js';
import { recountLru } from '../vm/lru_check.js';

test('two passes over a file bigger than RAM: Cached bounded by RAM, kswapd steals, the second pass refaults', () => {
  const k = boot({ memory: '48M', seed: 3 });
  const stats = { bytesRead: 0, reads: 0, passesDone: 0 };
  const w = pagecacheWorkload(k, {}, stats);
  const v0 = vmstatItems(k);
  const total = meminfoKb(k).MemTotal!;
  const size = Math.ceil(((48 << 20) * 17) / 16 / (1 << 20)) * (1 << 20);
  const pages = size / 4096;
  let maxCached = 0;
  // the login, then cat's fork+exec with the first 16 MiB of the disk laid out: the two programs' files are read then
  let steps = w.run(2);
  const disk0 = k.proc
    .read('/proc/diskstats')
    .split('\n')
    .find((l) => / vda /.test(l))!
    .trim()
    .split(/\s+/)
    .map(Number);
  while (!w.finished) {
    steps += w.run(16);
    const m = meminfoKb(k);
    maxCached = Math.max(maxCached, m.Cached!);
    expect(m.Cached).toBeLessThanOrEqual(m.MemTotal!);
  }
  // a step per read() that returned data (the read that returns 0 ends a pass in the same step), the login, the mmap,
  // and the disk laid out 16 MiB a step (the first with cat's fork+exec)
  expect(stats.passesDone).toBe(2);
  expect(stats.bytesRead).toBe(2 * size);
  expect(stats.reads).toBe((2 * size) / (128 << 10));
  expect(steps).toBe(stats.reads + 2 + Math.ceil(pages / LAYOUT_BLOCKS));
  const v = vmstatItems(k);
  const d = (n: string) => v[n]! - v0[n]!;
  // The cache filled most of RAM and no more.
  expect(maxCached).toBeGreaterThan(total * 0.75);
  expect(maxCached).toBeLessThan(total);
  // Everything read past what RAM holds was reclaimed, by kswapd (the reader allocates with __GFP_KSWAPD_RECLAIM and stays above min).
  expect(d('pgsteal_kswapd')).toBeGreaterThanOrEqual(2 * pages - total / 4);
  expect(d('pgscan_kswapd')).toBeGreaterThanOrEqual(d('pgsteal_kswapd'));
  expect(d('pageoutrun')).toBeGreaterThan(0);
  // No swap: get_scan_count() leaves the anon lists alone.
  expect(d('pgscan_anon')).toBe(0);
  expect(d('pgsteal_file')).toBe(d('pgsteal_kswapd') + d('pgsteal_direct'));
  // Second pass: every page misses, and every miss is a refault of a page evicted in the first.
  expect(d('workingset_refault_file')).toBe(pages);
  expect(d('workingset_activate_file')).toBe(0);
  // Readahead: a 128 KiB read() at 0 starts a window of get_init_ra_size(32, 32) = 32 pages, and each
  // async window after it is get_next_ra_size(32, 32) = 32 pages: one 128 KiB request per read().
  const disk1 = k.proc
    .read('/proc/diskstats')
    .split('\n')
    .find((l) => / vda /.test(l))!
    .trim()
    .split(/\s+/)
    .map(Number);
  expect(disk1[3]! - disk0[3]!).toBe((2 * pages) / 32);
  expect(disk1[5]! - disk0[5]!).toBe((2 * size) / 512);
  // So both passes read the whole file from the disk (pgpgin counts KiB), besides the two programs' files, read once at exec.
  const programKb = ['/bin/sh', CAT_PATH].reduce((n, p) => n + Math.ceil(k.fs.lookup(p)!.data.length / 4096) * 4, 0);
  expect(d('pgpgin')).toBe((2 * size) / 1024 + programKb);
  // The disk is as laid out: each block its number and the tag, then zeros.
  const disk = k.fs.lookup(STREAM_PATH)!.data;
  expect(disk.length).toBe(size);
  const words = new Uint32Array(disk.buffer, disk.byteOffset, size / 4);
  for (let b = 0; b < pages; b += 97) {
    expect(words[b * 1024]).toBe(b);
    expect(words[b * 1024 + 1]).toBe(STREAM_TAG);
    expect(words[b * 1024 + 2 + (b % 1022)]).toBe(0);
  }
  // cat and its shell exited and were reaped; the LRU lists recount.
  expect(k.tasks().filter((t) => t.comm === 'cat' || t.comm === 'sh')).toEqual([]);
  expect(k.fs.lookup(CAT_PATH)).toBeDefined();
  recountLru(k);
});

test('the same seed gives the same machine; 4 KiB reads read the same bytes', () => {
  const run = (seed: number, readBytes?: number) => {
    const k = boot({ memory: '16M', seed });
    const w = pagecacheWorkload(k, { fileBytes: 20 << 20, readBytes, passes: 1 });
    w.run(1e6);
    expect(w.finished).toBe(true);
    const reads = Number(
      k.proc
        .read('/proc/diskstats')
        .split('\n')
        .find((l) => / vda /.test(l))!
        .trim()
        .split(/\s+/)[3],
    );
    return { vmstat: k.proc.read('/proc/vmstat'), meminfo: k.proc.read('/proc/meminfo'), ops: w.ops, reads };
  };
  const a = run(5);
  expect(run(5)).toEqual(a);
  const small = run(5, 4096);
  // a step per read(), the login, the mmap of the buffer, and the disk laid out 16 MiB a step (the first with cat's fork+exec)
  expect(small.ops).toBe((20 << 20) / 4096 + 2 + 2);
  // 128 KiB reads: one 32-page request each, plus the two programs' (one each).
  expect(a.reads).toBe((20 << 20) / (128 << 10) + 2);
  // 4 KiB reads: the initial window is get_init_ra_size(1, 32) = 4 pages, then get_next_ra_size() doubles it
  // to 8, 16 and the 32-page maximum: 28 pages in 3 requests, then 5092 = 159 x 32 + 4 in 160 (the last cut at EOF).
  expect(small.reads).toBe(3 + 160 + 2);
});

test('bad options are RangeErrors naming the option', () => {
  const k = boot({ memory: '16M' });
  expect(() => pagecacheWorkload(k, { fileBytes: 1000 }).run(1)).toThrow(/fileBytes/);
  expect(() => pagecacheWorkload(k, { readBytes: 0 }).run(1)).toThrow(/readBytes/);
  expect(() => pagecacheWorkload(k, { passes: 1.5 }).run(1)).toThrow(/passes/);
});
