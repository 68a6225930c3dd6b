/**
 * Dirty pages and writeback against mm/page-writeback.c and fs/fs-writeback.c
 * (6.18): Dirty:/Writeback: and the vmstat counters, the flusher on the
 * virtual clock (dirty_writeback_centisecs, dirty_expire_centisecs), the
 * thresholds worked by hand from domain_dirty_limits(), the dirty knobs'
 * exclusivity and errnos, sync/fsync waiting for the disk, and
 * balance_dirty_pages throttling a writer above the free-run ceiling.
 */
import { readFileSync } from 'node:fs';
import { expect, test } from 'vitest';
import { O_CREAT, O_DSYNC, O_RDWR, O_SYNC } from '../../src/fs/fcntl.js';
import { WB_REASON_BACKGROUND, WB_REASON_PERIODIC, WB_REASON_VMSCAN } from '../../src/fs/fs-writeback.js';
import { boot, type Kernel } from '../../src/kernel.js';
import { PG } from '../../src/memory/page.js';
import { pageCache } from '../../src/vm/filemap.js';
import type { Task } from '../../src/vm/fork.js';
import { MAP_ANONYMOUS, MAP_PRIVATE, PROT_READ, PROT_WRITE } from '../../src/vm/mman.js';
import { domainDirtyLimits, wakeupFlusherThreads, writeback } from '../../src/vm/page-writeback.js';
import { tinyElf } from './helpers.js';

const EBADF = 9;

function machine(opts: { memory?: string; disk?: object } = {}): { k: Kernel; t: Task; buf: number } {
  const k = boot({ memory: opts.memory ?? '64M', cpus: 2, seed: 1, aslr: 0, disk: opts.disk });
  k.fs.writeFile('/bin/tiny', tinyElf());
  k.fs.mkdirs('/data');
  const t = k.spawn('/bin/tiny');
  const buf = t.mmap(0, 1 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  return { k, t, buf };
}

function meminfoKb(k: Kernel, name: string): number {
  const m = new RegExp(`^${name.replace(/[()]/g, '\\$&')}:\\s+(\\d+) kB$`, 'm').exec(k.proc.read('/proc/meminfo'));
  if (m === null) throw new Error(`no ${name} in meminfo`);
  return Number(m[1]);
}

function vmstat(k: Kernel, name: string): number {
  const m = new RegExp(`^${name} (\\d+)$`, 'm').exec(k.proc.read('/proc/vmstat'));
  if (m === null) throw new Error(`no ${name} in vmstat`);
  return Number(m[1]);
}

const pattern = (n: number, seed: number) => Uint8Array.from({ length: n }, (_, i) => (i * 13 + seed) & 0xff);

test('a write makes its pages dirty: Dirty: is pages x 4 kB, nr_dirty and nr_dirtied count them, the disk is untouched', () => {
  const { k, t, buf } = machine();
  const fd = t.open('/data/f', O_RDWR | O_CREAT);
  t.writeBytes(buf, pattern(40960, 1));
  expect(t.write(fd, buf, 40960)).toBe(40960);
  expect(meminfoKb(k, 'Dirty')).toBe(40);
  expect(meminfoKb(k, 'Writeback')).toBe(0);
  expect(vmstat(k, 'nr_dirty')).toBe(10);
  expect(vmstat(k, 'nr_dirtied')).toBe(10);
  expect(vmstat(k, 'nr_written')).toBe(0);
  // Rewriting a dirty page does not dirty it again.
  expect(t.pwrite(fd, buf, 100, 0)).toBe(100);
  expect(vmstat(k, 'nr_dirtied')).toBe(10);
  expect(pageCache(k.vm).bdev.writes).toBe(0);
  expect(k.fs.readFile('/data/f')!.every((b) => b === 0)).toBe(true);
});

test('the flusher writes a file dirtied 30 s ago at its wake-up then, not before; Writeback: holds the pages until the request completes', () => {
  const { k, t, buf } = machine();
  const fd = t.open('/data/f', O_RDWR | O_CREAT);
  const data = pattern(40960, 3);
  t.writeBytes(buf, data);
  const t0 = k.printk.nowNs;
  expect(t.write(fd, buf, 40960)).toBe(40960);
  // The write itself waits for nothing: dirtied_when is t0.
  expect(k.printk.nowNs).toBe(t0);
  const wb = writeback(k.vm).wb;
  const bdev = pageCache(k.vm).bdev;
  // Up to 30 s (dirty_expire_centisecs 3000) less 1 ns: nothing written, though the flusher woke every 5 s.
  k.tick(30e9 - 1);
  expect(meminfoKb(k, 'Dirty')).toBe(40);
  expect(bdev.writes).toBe(0);
  const wakes = wb.log.filter(([, r]) => r === WB_REASON_PERIODIC).map(([at]) => at - t0);
  expect(wakes).toEqual([5e9, 10e9, 15e9, 20e9, 25e9]);
  // At 30 s the flusher's sixth wake-up finds the inode expired: one request of 10 pages, submitted, not complete.
  k.tick(1);
  expect(meminfoKb(k, 'Dirty')).toBe(0);
  expect(meminfoKb(k, 'Writeback')).toBe(40);
  expect(vmstat(k, 'nr_writeback')).toBe(10);
  expect(bdev.writes).toBe(1);
  expect(bdev.writeSectors).toBe(80);
  const f = k.vm.fs.lookup('/data/f')!;
  const pfn = pageCache(k.vm).mapping(f.ino).xa.load(0);
  expect((k.pages.flags[pfn]! >> PG.writeback) & 1).toBe(1);
  expect((k.pages.flags[pfn]! >> PG.dirty) & 1).toBe(0);
  // 100 us + 40960 bytes at 500 MB/s = 181.92 us later it completes.
  k.tick(181_919);
  expect(meminfoKb(k, 'Writeback')).toBe(40);
  k.tick(1);
  expect(meminfoKb(k, 'Writeback')).toBe(0);
  expect(vmstat(k, 'nr_written')).toBe(10);
  expect((k.pages.flags[pfn]! >> PG.writeback) & 1).toBe(0);
  // The bytes on the disk are the bytes written.
  expect(k.fs.readFile('/data/f')).toEqual(data);
  // diskstats: 1 write, 80 sectors.
  const ds = k.proc
    .read('/proc/diskstats')
    .split('\n')
    .find((l) => / vda /.test(l))!
    .trim()
    .split(/\s+/)
    .map(Number);
  expect(ds[7]).toBe(1);
  expect(ds[9]).toBe(80);
});

test('dirty_expire_centisecs and dirty_writeback_centisecs set the times; 0 turns periodic writeback off', () => {
  const { k, t, buf } = machine();
  k.proc.write('/proc/sys/vm/dirty_expire_centisecs', '1000');
  k.proc.write('/proc/sys/vm/dirty_writeback_centisecs', '200');
  const fd = t.open('/data/f', O_RDWR | O_CREAT);
  const t0 = k.printk.nowNs;
  expect(t.write(fd, buf, 8192)).toBe(8192);
  k.tick(10e9 - 1);
  expect(meminfoKb(k, 'Dirty')).toBe(8);
  // The wake-ups every 2 s: the fifth, at 10 s, writes the file.
  k.tick(1);
  expect(meminfoKb(k, 'Dirty')).toBe(0);
  const wakes = writeback(k.vm)
    .wb.log.filter(([at]) => at > t0)
    .map(([at, , n]) => [at - t0, n]);
  expect(wakes).toEqual([
    [2e9, 0],
    [4e9, 0],
    [6e9, 0],
    [8e9, 0],
    [10e9, 2],
  ]);
  // Periodic writeback off: a minute later the page is still dirty; sync writes it.
  k.proc.write('/proc/sys/vm/dirty_writeback_centisecs', '0');
  expect(t.write(fd, buf, 4096)).toBe(4096);
  k.tick(60e9);
  expect(meminfoKb(k, 'Dirty')).toBe(4);
  k.sync();
  expect(meminfoKb(k, 'Dirty')).toBe(0);
  expect(meminfoKb(k, 'Writeback')).toBe(0);
});

test('a new dirty_writeback_centisecs value wakes the flusher, which writes every dirty page however young', () => {
  const { k, t, buf } = machine();
  const fd = t.open('/data/f', O_RDWR | O_CREAT);
  expect(t.write(fd, buf, 12288)).toBe(12288);
  k.proc.write('/proc/sys/vm/dirty_writeback_centisecs', '500');
  k.tick(0);
  // The same value: nothing.
  expect(meminfoKb(k, 'Dirty')).toBe(12);
  k.proc.write('/proc/sys/vm/dirty_writeback_centisecs', '600');
  k.tick(0);
  expect(meminfoKb(k, 'Dirty')).toBe(0);
  expect(meminfoKb(k, 'Writeback')).toBe(12);
});

/** calculate_totalreserve_pages() worked from /proc/zoneinfo: per zone min(max protection + high, managed). */
function totalreserveFromZoneinfo(k: Kernel): number {
  let total = 0;
  for (const zone of k.proc
    .read('/proc/zoneinfo')
    .split(/^Node 0, zone/m)
    .slice(1)) {
    const high = /\n\s+high\s+(\d+)/.exec(zone);
    const managed = /\n\s+managed\s+(\d+)/.exec(zone);
    const prot = /protection: \(([^)]*)\)/.exec(zone);
    if (high === null || managed === null || prot === null) throw new Error('zoneinfo');
    const max = Math.max(...prot[1]!.split(',').map(Number));
    total += Math.min(max + Number(high[1]), Number(managed[1]));
  }
  return total;
}

test('nr_dirty_threshold and nr_dirty_background_threshold: domain_dirty_limits() by hand, ratios in 1/4096 units', () => {
  const { k, t, buf } = machine();
  const fd = t.open('/data/f', O_RDWR | O_CREAT);
  expect(t.write(fd, buf, 1 << 20)).toBe(1 << 20);
  const free = meminfoKb(k, 'MemFree') / 4;
  const file = (meminfoKb(k, 'Active(file)') + meminfoKb(k, 'Inactive(file)')) / 4;
  const reserve = totalreserveFromZoneinfo(k);
  // global_dirtyable_memory(): free less totalreserve, plus the file LRU lists (NR_ACTIVE_FILE + NR_INACTIVE_FILE), plus 1.
  const avail = free - Math.min(free, reserve) + file + 1;
  // dirty_ratio 20: (20 * 4096) / 100 = 819 per 4096; background 10: 409.
  expect(vmstat(k, 'nr_dirty_threshold')).toBe(Math.floor((819 * avail) / 4096));
  expect(vmstat(k, 'nr_dirty_background_threshold')).toBe(Math.floor((409 * avail) / 4096));
  // dirty_ratio 30: 1228 per 4096 (not 30% exactly).
  k.proc.write('/proc/sys/vm/dirty_ratio', '30');
  expect(vmstat(k, 'nr_dirty_threshold')).toBe(Math.floor((1228 * avail) / 4096));
  // A background ratio at or above the dirty ratio: bg_thresh = thresh / 2.
  k.proc.write('/proc/sys/vm/dirty_background_ratio', '40');
  const thresh = vmstat(k, 'nr_dirty_threshold');
  expect(vmstat(k, 'nr_dirty_background_threshold')).toBe(Math.floor(thresh / 2));
  // Bytes: DIV_ROUND_UP(bytes, 4096).
  k.proc.write('/proc/sys/vm/dirty_bytes', String(8 * 1024 * 1024 + 1));
  k.proc.write('/proc/sys/vm/dirty_background_bytes', String(4 * 1024 * 1024));
  expect(vmstat(k, 'nr_dirty_threshold')).toBe(2049);
  expect(vmstat(k, 'nr_dirty_background_threshold')).toBe(1024);
});

test('dirty_bytes and dirty_ratio exclude each other (as do the background pair); the kernel errnos', () => {
  const { k } = machine();
  const r = (n: string) => k.proc.read(`/proc/sys/vm/${n}`);
  const w = (n: string, v: string) => k.proc.write(`/proc/sys/vm/${n}`, v);
  expect([r('dirty_ratio'), r('dirty_background_ratio'), r('dirty_bytes'), r('dirty_background_bytes')]).toEqual(['20\n', '10\n', '0\n', '0\n']);
  expect([r('dirty_writeback_centisecs'), r('dirty_expire_centisecs'), r('dirtytime_expire_seconds')]).toEqual(['500\n', '3000\n', '43200\n']);
  w('dirty_bytes', '16777216');
  expect([r('dirty_ratio'), r('dirty_bytes')]).toEqual(['0\n', '16777216\n']);
  // dirty_ratio_handler zeroes dirty_bytes only when the ratio changes: writing the 0 it holds keeps the bytes.
  w('dirty_ratio', '0');
  expect(r('dirty_bytes')).toBe('16777216\n');
  w('dirty_ratio', '15');
  expect([r('dirty_ratio'), r('dirty_bytes')]).toEqual(['15\n', '0\n']);
  // The background pair: any successful write zeroes the other.
  w('dirty_background_bytes', '1');
  expect([r('dirty_background_ratio'), r('dirty_background_bytes')]).toEqual(['0\n', '1\n']);
  w('dirty_background_ratio', '0');
  expect([r('dirty_background_ratio'), r('dirty_background_bytes')]).toEqual(['0\n', '0\n']);
  const errno = (n: string, v: string) => {
    try {
      w(n, v);
    } catch (e) {
      return (e as { code: string }).code;
    }
    return 'ok';
  };
  // dirty_bytes' minimum is 2 pages; dirty_background_bytes' 1; the ratios 0..100; expire from 0.
  expect(errno('dirty_bytes', '8191')).toBe('EINVAL');
  expect(errno('dirty_bytes', '0')).toBe('EINVAL');
  expect(errno('dirty_bytes', '-1')).toBe('EINVAL');
  expect(errno('dirty_background_bytes', '0')).toBe('EINVAL');
  expect(errno('dirty_ratio', '101')).toBe('EINVAL');
  expect(errno('dirty_background_ratio', '-1')).toBe('EINVAL');
  expect(errno('dirty_expire_centisecs', '-1')).toBe('EINVAL');
  expect(errno('dirtytime_expire_seconds', '-1')).toBe('EINVAL');
  expect(errno('dirty_ratio', 'x')).toBe('EINVAL');
  // More than UINT_MAX pages: -ERANGE, the old value kept.
  expect(errno('dirty_bytes', String(4294967296 * 4096))).toBe('ERANGE');
  expect(errno('dirty_background_bytes', String(4294967296 * 4096))).toBe('ERANGE');
  expect([r('dirty_ratio'), r('dirty_bytes'), r('dirty_background_bytes')]).toEqual(['15\n', '0\n', '0\n']);
  expect(errno('dirty_bytes', '8192')).toBe('ok');
  expect(errno('dirty_writeback_centisecs', '0')).toBe('ok');
});

test('sync() writes every dirty page and returns when the disk has completed them and its flush; fsync writes only its file', () => {
  // 1 ms per request, 1 MB/s: a page is 4096 us on the wire.
  const { k, t, buf } = machine({ disk: { latencyUs: 1000, mbps: 1 } });
  const a = t.open('/data/a', O_RDWR | O_CREAT);
  const b = t.open('/data/b', O_RDWR | O_CREAT);
  t.writeBytes(buf, pattern(5 * 4096, 7));
  expect(t.write(a, buf, 3 * 4096)).toBe(3 * 4096);
  expect(t.write(b, buf, 5 * 4096)).toBe(5 * 4096);
  // fsync(a): one request of 3 pages (1000 + 12288 us), then the flush (1000 us).
  let t0 = k.printk.nowNs;
  expect(t.fsync(a)).toBe(0);
  expect(k.printk.nowNs - t0).toBe(14_288_000);
  expect(meminfoKb(k, 'Dirty')).toBe(20);
  expect(meminfoKb(k, 'Writeback')).toBe(0);
  expect(k.fs.readFile('/data/a')).toEqual(pattern(3 * 4096, 7));
  // Both dirty again: sync submits a's 2 pages and b's 5, waits for both, then flushes: 3000 + 28672 us.
  expect(t.pwrite(a, buf, 8192, 4096)).toBe(8192);
  t0 = k.printk.nowNs;
  k.sync();
  expect(k.printk.nowNs - t0).toBe(1000_000 + 8_192_000 + 1000_000 + 20_480_000 + 1000_000);
  expect(meminfoKb(k, 'Dirty')).toBe(0);
  expect(meminfoKb(k, 'Writeback')).toBe(0);
  expect(k.fs.readFile('/data/b')).toEqual(pattern(5 * 4096, 7));
  // Task.sync and syncfs: nothing dirty, only the flush's millisecond.
  t0 = k.printk.nowNs;
  t.sync();
  expect(k.printk.nowNs - t0).toBe(1_000_000);
  expect(t.syncfs(a)).toBe(0);
  expect(t.syncfs(99)).toBe(-EBADF);
});

test('balance_dirty_pages: a writer past the free-run ceiling is throttled to the disk, background writeback starts above bg_thresh', () => {
  // 128 MiB, a 20 MB/s disk: 204.8 us per page on the wire.
  const { k, t, buf } = machine({ memory: '128M', disk: { latencyUs: 100, mbps: 20 } });
  const pc = pageCache(k.vm);
  const w = writeback(k.vm);
  const fd = t.open('/data/big', O_RDWR | O_CREAT);
  const thresh = vmstat(k, 'nr_dirty_threshold');
  const bg = vmstat(k, 'nr_dirty_background_threshold');
  const freerun = Math.floor((thresh + bg) / 2);
  const chunk = 65536;
  const total = 48 << 20;
  t.writeBytes(buf, pattern(chunk, 5));
  const t0 = k.printk.nowNs;
  let maxDirty = 0;
  let lateSum = 0;
  let lateN = 0;
  let writesAtBg = -1;
  for (let done = 0; done < total; done += chunk) {
    expect(t.write(fd, buf, chunk)).toBe(chunk);
    const dirtied = (done + chunk) / 4096;
    // (bg_thresh moves by a page or two as the xarray's nodes take free pages: a margin of 16)
    if (dirtied <= bg - 16) expect(pc.bdev.writes).toBe(0);
    if (writesAtBg < 0 && dirtied > bg + 64 + 16) writesAtBg = pc.bdev.writes;
    maxDirty = Math.max(maxDirty, pc.nrDirty + pc.nrWriteback);
    if (done >= total / 2) {
      lateSum += pc.nrDirty + pc.nrWriteback;
      lateN++;
    }
  }
  const elapsedUs = (k.printk.nowNs - t0) / 1000;
  const pages = total / 4096;
  // Above bg_thresh the flusher was started in the background (within a poll interval of 64 pages and a write of 16).
  expect(writesAtBg).toBeGreaterThan(0);
  expect(w.wb.log.some(([, r]) => r === WB_REASON_BACKGROUND)).toBe(true);
  // Throttled: the writer slept, and the dirty + writeback pages stayed below the limit.
  expect(w.throttleLog.length).toBeGreaterThan(0);
  expect(w.throttleLog.every((e) => e.pause > 0 && e.pause <= 50)).toBe(true);
  expect(maxDirty).toBeGreaterThan(freerun);
  // The estimates start from INIT_BW (100 MB/s), five times this disk, and follow it over seconds: the writer
  // may pass thresh by the pages it dirties between two calls (the kernel's dirty_exceeded case, where
  // pos_ratio is 0, it sleeps max_pause at a time and calls back every 8 pages), a few percent here ...
  expect(maxDirty).toBeLessThanOrEqual(thresh * 1.05);
  // ... and on average over the second half it is held between the free-run ceiling and thresh.
  expect(lateSum / lateN).toBeGreaterThan(freerun);
  expect(lateSum / lateN).toBeLessThanOrEqual(thresh);
  // The pages that left dirty + writeback were written at 204.8 us a page at best: the clock moved at least that much.
  const completed = pages - (pc.nrDirty + pc.nrWriteback);
  expect(elapsedUs).toBeGreaterThanOrEqual(completed * 204.8);
  // ... and the writer was not held much longer than the disk needed for them.
  expect(elapsedUs).toBeLessThan(pages * 204.8 * 1.25);
  // Everything reaches the disk.
  k.sync();
  expect(k.fs.readFile('/data/big')!.subarray(total - chunk)).toEqual(pattern(chunk, 5));
  expect(vmstat(k, 'nr_written')).toBe(pages);
});

test("the thresholds match this machine's real 6.18 (test/fixtures/vm/dirty_limits.txt): free less totalreserve, plus the file LRU, plus 1", () => {
  const text = readFileSync(new URL('../fixtures/vm/dirty_limits.txt', import.meta.url), 'utf8');
  let reserve = 0;
  const samples: number[][] = [];
  for (const line of text.split('\n')) {
    const f = line.split(' ');
    if (f[0] === 'zone') {
      const [high, managed, ...prot] = f.slice(2).map(Number);
      reserve += Math.min(Math.max(...prot) + high!, managed!);
    } else if (f[0] === 'sample') samples.push(f.slice(1).map(Number));
  }
  expect(reserve).toBe(3840 + 14528 + 17301);
  expect(samples.length).toBe(2);
  for (const [memFreeKb, , inactive, active, thresh, bg] of samples) {
    const free = memFreeKb! / 4;
    const avail = free - Math.min(free, reserve) + inactive! + active! + 1;
    expect(domainDirtyLimits(avail, { dirtyRatio: 20, dirtyBackgroundRatio: 10, dirtyBytes: 0, dirtyBackgroundBytes: 0 })).toEqual({ thresh, bgThresh: bg });
  }
});

test('nr_zone_write_pending: the dirty and writeback page-cache pages, per zone in zoneinfo and summed in vmstat', () => {
  const { k, t, buf } = machine();
  const fd = t.open('/data/f', O_RDWR | O_CREAT);
  expect(t.write(fd, buf, 5 * 4096)).toBe(5 * 4096);
  expect(vmstat(k, 'nr_zone_write_pending')).toBe(5);
  // Under writeback they are still pending; once complete, not.
  k.proc.write('/proc/sys/vm/dirty_writeback_centisecs', '100');
  k.tick(0);
  expect(meminfoKb(k, 'Writeback')).toBe(20);
  expect(vmstat(k, 'nr_zone_write_pending')).toBe(5);
  const perZone = [...k.proc.read('/proc/zoneinfo').matchAll(/nr_zone_write_pending (\d+)/g)].map((m) => Number(m[1]));
  expect(perZone.reduce((a, b) => a + b, 0)).toBe(5);
  k.tick(1e9);
  expect(vmstat(k, 'nr_zone_write_pending')).toBe(0);
});

test('as on the real 6.18 (test/fixtures/vm/writeback_expire.out): two files dirtied 2.3 s apart are written by periodic wake-ups 5 s apart, each 30-35 s after its write', () => {
  const out = readFileSync(new URL('../fixtures/vm/writeback_expire.out', import.meta.url), 'utf8');
  // The real runs: the time each file's pages went clean, from its own write().
  const real = [...out.matchAll(/^(\d+\.\d+) dirty=0 writeback=0$/gm)].map((m) => Number(m[1]));
  expect(real.length).toBe(2);
  for (const s of real) {
    expect(s).toBeGreaterThanOrEqual(30);
    // one dirty_writeback_centisecs interval, plus the timer wheel's slack (1/8 of it at most)
    expect(s).toBeLessThanOrEqual(35 + 5 / 8);
  }
  const { k, t, buf } = machine();
  const f1 = t.open('/data/f1', O_RDWR | O_CREAT);
  const f2 = t.open('/data/f2', O_RDWR | O_CREAT);
  const pc = pageCache(k.vm);
  const dirtyOf = (path: string) => {
    let n = 0;
    pc.mapping(k.fs.lookup(path)!.ino).xa.forEach(() => {
      n++;
    }, 0);
    return n;
  };
  const w1 = k.printk.nowNs;
  expect(t.write(f1, buf, 64 * 4096)).toBe(64 * 4096);
  k.tick(2.3e9);
  const w2 = k.printk.nowNs;
  expect(t.write(f2, buf, 64 * 4096)).toBe(64 * 4096);
  const clean: number[] = [];
  for (let step = 0; step < 450; step++) {
    k.tick(100e6);
    if (clean[0] === undefined && dirtyOf('/data/f1') === 0) clean[0] = (k.printk.nowNs - w1) / 1e9;
    if (clean[1] === undefined && dirtyOf('/data/f2') === 0) clean[1] = (k.printk.nowNs - w2) / 1e9;
  }
  // kmem's flusher has its phase from the first dirtying (f1): f1 at 30 s, f2 at the next wake-up, 35 s after f1's write.
  expect(clean[0]).toBeCloseTo(30, 6);
  expect(clean[1]).toBeCloseTo(32.7, 6);
  for (const s of clean) {
    expect(s).toBeGreaterThanOrEqual(30);
    expect(s).toBeLessThanOrEqual(35);
  }
  // One interval apart in absolute time, as the real runs (31.679 and 2.3 + 34.496: 5.1 s apart).
  expect(clean[1]! + 2.3 - clean[0]!).toBeCloseTo(5, 6);
  expect(real[1]! + 2.3 - real[0]!).toBeGreaterThanOrEqual(5);
  expect(real[1]! + 2.3 - real[0]!).toBeLessThanOrEqual(5 + 5 / 8 + 0.1);
});

test('O_DSYNC / O_SYNC: the write returns once its own pages are on the disk (generic_write_sync over the range written)', () => {
  const { k, t, buf } = machine({ disk: { latencyUs: 1000, mbps: 1 } });
  const plain = t.open('/data/f', O_RDWR | O_CREAT);
  expect(t.write(plain, buf, 4096)).toBe(4096);
  const dsync = t.open('/data/f', O_RDWR | O_DSYNC);
  const t0 = k.printk.nowNs;
  // Pages 1 and 2: one request of 8192 bytes (1000 + 8192 us) and the flush (1000 us); page 0, dirty before, is not in the range.
  expect(t.pwrite(dsync, buf, 8192, 4096)).toBe(8192);
  expect(k.printk.nowNs - t0).toBe(10_192_000);
  expect(meminfoKb(k, 'Dirty')).toBe(4);
  expect(meminfoKb(k, 'Writeback')).toBe(0);
  const sync = t.open('/data/f', O_RDWR | O_SYNC);
  expect(t.pwrite(sync, buf, 100, 0)).toBe(100);
  expect(meminfoKb(k, 'Dirty')).toBe(0);
  // A plain write after it is not waited for.
  const t1 = k.printk.nowNs;
  expect(t.pwrite(plain, buf, 100, 0)).toBe(100);
  expect(k.printk.nowNs).toBe(t1);
});

test('the estimators by hand: wb_update_write_bandwidth blends over a 1024-jiffy period, wb_update_dirty_ratelimit steps toward the balanced rate', () => {
  const { k } = machine();
  const w = writeback(k.vm);
  const pc = pageCache(k.vm);
  const now = w.jiffies();
  expect([w.writeBw, w.avgWriteBw, w.dirtyRatelimit, w.balancedDirtyRatelimit]).toEqual([25600, 25600, 25600, 25600]);
  // The domain's dirty_limit was updated this interval: it stays.
  w.domDirtyLimit = 6400;
  w.domDirtyLimitTstamp = now;
  // 200 ms (50 jiffies): 8000 pages dirtied (40000/s), 250 written.
  w.bwTimeStamp = now - 50;
  w.dirtiedStamp = 0;
  w.writtenStamp = 0;
  pc.nrDirtied = 8000;
  pc.nrWritten = 250;
  const dtc = { dirty: 6000, thresh: 6400, bgThresh: 3200, posRatio: 512 };
  w.updateBandwidth(dtc);
  // task_ratelimit = 25600 * 0.5 + 1 = 12801; balanced = 12801 * 25600 / 40001 = 8192.
  expect(w.balancedDirtyRatelimit).toBe(8192);
  // dirty 6000 is above the setpoint (4800 + 6400) / 2: step toward max3(25600, 8192, 12801) = 25600: none.
  expect(w.dirtyRatelimit).toBe(25600);
  // write_bandwidth = (250 * 250 + 25600 * (1024 - 50)) / 1024 = 24411; the average waits for a trend.
  expect(w.writeBw).toBe(24411);
  expect(w.avgWriteBw).toBe(25600);
  expect(w.bwTimeStamp).toBe(now);
  // The same again 200 ms later.
  w.bwTimeStamp = now - 50;
  pc.nrDirtied = 16000;
  pc.nrWritten = 500;
  w.updateBandwidth(dtc);
  // max3(8192, 8192, 12801) = 12801 < 25600: step 12799, shift 25600 / 25599 = 1, (12799 >> 1) / 8 rounded up = 800.
  expect(w.dirtyRatelimit).toBe(24800);
  // (62500 + 24411 * 974) / 1024 = 23280; avg 25600 > old 24411 >= 23280: avg -= 1189 >> 3.
  expect(w.writeBw).toBe(23280);
  expect(w.avgWriteBw).toBe(25600 - 148);
  expect(w.domDirtyLimit).toBe(6400);
});

test("reclaim's interface: wakeup_flusher_threads(WB_REASON_VMSCAN) writes every dirty page at the next poll; each page's end of writeback is reported", () => {
  const { k, t, buf } = machine();
  const fd = t.open('/data/f', O_RDWR | O_CREAT);
  expect(t.write(fd, buf, 3 * 4096)).toBe(3 * 4096);
  const pc = pageCache(k.vm);
  const ended: number[] = [];
  pc.onFolioEndWriteback = (pfn) => ended.push(pfn);
  wakeupFlusherThreads(k.vm);
  expect(meminfoKb(k, 'Dirty')).toBe(12);
  k.tick(0);
  expect(meminfoKb(k, 'Dirty')).toBe(0);
  expect(meminfoKb(k, 'Writeback')).toBe(12);
  expect(writeback(k.vm).wb.log.at(-1)?.[1]).toBe(WB_REASON_VMSCAN);
  expect(ended).toEqual([]);
  k.tick(1e6);
  const as = pc.mapping(k.fs.lookup('/data/f')!.ino);
  expect(ended).toEqual([as.xa.load(0), as.xa.load(1), as.xa.load(2)]);
});

test("writeback_set_ratelimit(): a new dirty_ratio sets the domain's dirty_limit to the new threshold at once", () => {
  const { k } = machine();
  const w = writeback(k.vm);
  // Set at boot (page_writeback_init), it has not followed the pages allocated since.
  expect(w.domDirtyLimit).toBeGreaterThan(vmstat(k, 'nr_dirty_threshold'));
  k.proc.write('/proc/sys/vm/dirty_ratio', '5');
  expect(w.domDirtyLimit).toBe(vmstat(k, 'nr_dirty_threshold'));
  k.proc.write('/proc/sys/vm/dirty_bytes', String(1 << 20));
  expect(w.domDirtyLimit).toBe(256);
});

test('bdp_ratelimits: a CPU that dirtied ratelimit_pages (thresh / (CPUs * 32), at least 16) makes the next dirtier call in, whatever its own pause', () => {
  const { k, t, buf } = machine();
  // dirty_bytes 1 MiB: thresh 256 pages, ratelimit_pages max(16, 256 / 64) = 16; bg_thresh (10% of much more) capped to 128.
  k.proc.write('/proc/sys/vm/dirty_bytes', String(1 << 20));
  const w = writeback(k.vm);
  expect(w.ratelimitPages).toBe(16);
  const t2 = k.spawn('/bin/tiny');
  const buf2 = t2.mmap(0, 65536, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  const a = t.open('/data/a', O_RDWR | O_CREAT);
  const b = t2.open('/data/b', O_RDWR | O_CREAT);
  expect(t.write(a, buf, 10 * 4096)).toBe(10 * 4096);
  expect(w.taskState(t)).toEqual({ nrDirtied: 10, nrDirtiedPause: 32, dirtyPausedWhen: 0 });
  // t2's sixth page brings this CPU to 16: t2 calls in (free run: dirty 16 <= (256 + 128) / 2), resets its count
  // and takes the poll interval 1 << (ilog2(256 - 16) >> 1) = 8; its last four pages count from 0.
  expect(t2.write(b, buf2, 10 * 4096)).toBe(10 * 4096);
  expect(w.taskState(t2).nrDirtied).toBe(4);
  expect(w.taskState(t2).nrDirtiedPause).toBe(8);
  expect(w.taskState(t).nrDirtied).toBe(10);
});

test('dirty_throttle_leaks: the pages an exiting task dirtied without calling in are counted to the next dirtier on its CPU', () => {
  const { k, t, buf } = machine();
  const w = writeback(k.vm);
  const t2 = k.spawn('/bin/tiny');
  const a = t.open('/data/a', O_RDWR | O_CREAT);
  expect(t.write(a, buf, 10 * 4096)).toBe(10 * 4096);
  expect(w.taskState(t).nrDirtied).toBe(10);
  t.exit(0);
  expect(w.dirtyThrottleLeaks[k.currentCpu]).toBe(10);
  const buf2 = t2.mmap(0, 65536, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  const b = t2.open('/data/b', O_RDWR | O_CREAT);
  // One page of its own, the ten left behind: 11, below its pause of 32.
  expect(t2.write(b, buf2, 4096)).toBe(4096);
  expect(w.taskState(t2).nrDirtied).toBe(11);
  expect(w.dirtyThrottleLeaks[k.currentCpu]).toBe(0);
});
