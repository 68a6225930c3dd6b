/**
 * The `disk` boot option and I/O in virtual time: the option checked as the
 * others are, a request costing latency + bytes / rate on the virtual clock
 * (the reader waits: the clock moves by its request's cost), /proc/diskstats'
 * ms fields following, and the file system's size bounding writes (-ENOSPC).
 */
import { expect, test } from 'vitest';
import { O_CREAT, O_DIRECT, O_RDONLY, O_RDWR, POSIX_FADV_RANDOM } from '../../src/fs/fcntl.js';
import { boot, type Kernel } from '../../src/kernel.js';
import { pageCache } from '../../src/vm/filemap.js';
import { MAP_ANONYMOUS, MAP_PRIVATE, PROT_READ, PROT_WRITE } from '../../src/vm/mman.js';
import { tinyElf } from '../vm/helpers.js';

const ENOSPC = 28;

function machine(disk: object, memory = '64M'): Kernel {
  const k = boot({ memory, cpus: 2, seed: 1, aslr: 0, disk });
  k.fs.writeFile('/bin/tiny', tinyElf());
  k.fs.mkdirs('/data');
  return k;
}

function diskstats(k: Kernel): number[] {
  const f = k.proc
    .read('/proc/diskstats')
    .split('\n')
    .find((l) => / vda /.test(l))!
    .trim()
    .split(/\s+/);
  return f.slice(3).map(Number);
}

test('disk: bad values are errors naming the field', () => {
  expect(() => boot({ disk: 5 as never })).toThrow(TypeError);
  expect(() => boot({ disk: 5 as never })).toThrow(/^disk:/);
  expect(() => boot({ disk: { size: 'lots' } })).toThrow(RangeError);
  expect(() => boot({ disk: { size: 'lots' } })).toThrow(/disk\.size/);
  expect(() => boot({ disk: { size: true as never } })).toThrow(TypeError);
  expect(() => boot({ disk: { size: 100 } })).toThrow(/disk\.size/);
  expect(() => boot({ disk: { latencyUs: -1 } })).toThrow(RangeError);
  expect(() => boot({ disk: { latencyUs: -1 } })).toThrow(/disk\.latencyUs/);
  expect(() => boot({ disk: { latencyUs: Number.NaN } })).toThrow(/disk\.latencyUs/);
  expect(() => boot({ disk: { mbps: 0 } })).toThrow(RangeError);
  expect(() => boot({ disk: { mbps: 0 } })).toThrow(/disk\.mbps/);
  expect(() => boot({ disk: { mbps: '5' as never } })).toThrow(TypeError);
  expect(() => boot({ disk: { speed: 5 } as never })).toThrow(/disk\.speed/);
  expect(() => boot({ disk: { size: '1G', latencyUs: 100, mbps: 500 } })).not.toThrow();
});

test('a read miss costs latency + size / rate on the clock, and diskstats counts it', () => {
  // 5 ms per request, 1 MB/s: one page (4096 bytes) is 5000 + 4096 us = 9.096 ms.
  const k = machine({ size: '1G', latencyUs: 5000, mbps: 1 });
  k.fs.writeFile('/data/f', new Uint8Array(64 * 1024).fill(9));
  const t = k.spawn('/bin/tiny');
  const buf = t.mmap(0, 65536, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  const fd = t.open('/data/f', O_RDONLY);
  // POSIX_FADV_RANDOM: no readahead, the miss reads the one page asked for.
  expect(t.posixFadvise(fd, 0, 0, POSIX_FADV_RANDOM)).toBe(0);
  const before = diskstats(k);
  const t0 = k.printk.nowNs;
  expect(t.pread(fd, buf, 4096, 8192)).toBe(4096);
  expect(k.printk.nowNs - t0).toBe(9_096_000);
  const after = diskstats(k);
  // reads completed, sectors read, ms reading, ms doing I/O
  expect(after[0]! - before[0]!).toBe(1);
  expect(after[2]! - before[2]!).toBe(8);
  expect(after[3]! - before[3]!).toBe(9);
  expect(after[9]! - before[9]!).toBe(9);
  // A hit costs no time.
  const t1 = k.printk.nowNs;
  expect(t.pread(fd, buf, 4096, 8192)).toBe(4096);
  expect(k.printk.nowNs).toBe(t1);
  // Two pages in one miss: one request of 8192 bytes (5000 + 8192 us).
  expect(t.pread(fd, buf, 8192, 32768)).toBe(8192);
  expect(k.printk.nowNs - t1).toBe(13_192_000);
});

test('O_DIRECT: the caller waits for its one request', () => {
  const k = machine({ latencyUs: 1000, mbps: 4 });
  k.fs.writeFile('/data/f', new Uint8Array(16384));
  const t = k.spawn('/bin/tiny');
  const buf = t.mmap(0, 65536, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  const fd = t.open('/data/f', O_RDWR | O_DIRECT);
  const t0 = k.printk.nowNs;
  // 8192 bytes at 4 MB/s = 2048 us, plus 1000 us.
  expect(t.pwrite(fd, buf, 8192, 0)).toBe(8192);
  expect(k.printk.nowNs - t0).toBe(3_048_000);
});

test('the disk size bounds the files: a write past it is -ENOSPC, a partial write returns what fit, unlink gives the space back', () => {
  // 1 MiB = 256 blocks of 4 KiB; /bin/tiny (8256 bytes) holds 3 of them.
  expect(tinyElf().length).toBe(8256);
  const k = machine({ size: '1M' });
  const t = k.spawn('/bin/tiny');
  const buf = t.mmap(0, 1 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  t.writeBytes(buf, new Uint8Array(8192).fill(0x5a));
  const fd = t.open('/data/big', O_RDWR | O_CREAT);
  // 252 blocks fit and one is left.
  for (let i = 0; i < 252; i++) expect(t.write(fd, buf, 4096)).toBe(4096);
  // Two pages asked, one fits: the write returns the bytes written.
  expect(t.write(fd, buf, 8192)).toBe(4096);
  expect(t.write(fd, buf, 1)).toBe(-ENOSPC);
  // A write inside the file needs no new block.
  expect(t.pwrite(fd, buf, 4096, 0)).toBe(4096);
  // Nor does filling the last block: the file ends at a block boundary, so nothing is left.
  const g = t.open('/data/g', O_RDWR | O_CREAT);
  expect(t.write(g, buf, 1)).toBe(-ENOSPC);
  expect(() => k.fs.writeFile('/data/h', 'x')).toThrow(/No space left on device/);
  // O_DIRECT growing the file: -ENOSPC too.
  const d = t.open('/data/big', O_RDWR | O_DIRECT);
  expect(t.pwrite(d, buf, 4096, 253 * 4096)).toBe(-ENOSPC);
  // The data written is all there after sync.
  k.sync();
  expect(k.fs.readFile('/data/big')!.length).toBe(253 * 4096);
  expect(k.fs.readFile('/data/big')!.every((b) => b === 0x5a)).toBe(true);
  // Unlinked and closed, its blocks are free again.
  expect(t.unlink('/data/big')).toBe(0);
  expect(t.close(fd)).toBe(0);
  expect(t.close(d)).toBe(0);
  expect(t.write(g, buf, 8192)).toBe(8192);
});

test('diskstats in_flight counts the write requests submitted and not yet complete', () => {
  const k = machine({ latencyUs: 1000, mbps: 1 });
  const t = k.spawn('/bin/tiny');
  const buf = t.mmap(0, 65536, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  const fd = t.open('/data/f', O_RDWR | O_CREAT);
  expect(t.write(fd, buf, 8192)).toBe(8192);
  // Wake the flusher at once (a new dirty_writeback_centisecs value): it submits and returns.
  k.proc.write('/proc/sys/vm/dirty_writeback_centisecs', '400');
  k.tick(0);
  expect(diskstats(k)[8]).toBe(1);
  expect(pageCache(k.vm).nrWriteback).toBe(2);
  // 1000 + 8192 us later the request completes.
  k.tick(9_191_999);
  expect(diskstats(k)[8]).toBe(1);
  k.tick(1);
  expect(diskstats(k)[8]).toBe(0);
  expect(pageCache(k.vm).nrWriteback).toBe(0);
});

test('writeback goes out in bios of at most 256 pages (BIO_MAX_VECS): 600 contiguous dirty pages are 3 requests', () => {
  const k = machine({ latencyUs: 1000, mbps: 100 });
  const t = k.spawn('/bin/tiny');
  const buf = t.mmap(0, 600 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  const fd = t.open('/data/f', O_RDWR | O_CREAT);
  expect(t.write(fd, buf, 600 * 4096)).toBe(600 * 4096);
  const before = diskstats(k);
  const t0 = k.printk.nowNs;
  expect(t.fsync(fd)).toBe(0);
  const after = diskstats(k);
  // three data requests, and fsync's empty REQ_PREFLUSH write (0 sectors; the flush itself in the flush fields)
  expect(after[4]! - before[4]!).toBe(4);
  expect(after[15]! - before[15]!).toBe(1);
  expect(after[6]! - before[6]!).toBe(600 * 8);
  expect(
    pageCache(k.vm)
      .bdev.log.slice(-3)
      .map((r) => [r.index, r.pages]),
  ).toEqual([
    [0, 256],
    [256, 256],
    [512, 88],
  ]);
  // Three latencies, 2457600 bytes at 100 MB/s (24576 us), then the flush's latency.
  expect(k.printk.nowNs - t0).toBe(3_000_000 + 24_576_000 + 1_000_000);
});
