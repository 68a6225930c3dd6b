/** The block device under the page cache: requests counted as the block layer counts them, /proc/diskstats in 6.18's format. */
import { expect, test } from 'vitest';
import { BlockDevice } from '../../src/fs/blkdev.js';
import { O_CREAT, O_RDONLY, O_RDWR } from '../../src/fs/fcntl.js';
import { pageCache } from '../../src/vm/filemap.js';
import { MAP_ANONYMOUS, MAP_PRIVATE, PROT_READ, PROT_WRITE } from '../../src/vm/mman.js';
import { bootWithProgram } from '../vm/helpers.js';

test('a request costs the latency plus its bytes at the rate', () => {
  const d = new BlockDevice('vda', 254, 0, 100, 500);
  // 128 KiB at 500 MB/s = 131072 / 500 us = 262.144 us, plus 100 us.
  expect(d.submit('read', 2, 0, 32)).toBeCloseTo(362.144, 6);
  expect(d.reads).toBe(1);
  expect(d.readSectors).toBe(256);
});

test('/proc/diskstats: the 20 fields of diskstats_show() ("%4d %7d %pg" then 17 counters) with reads, writes and flushes', () => {
  // This machine's line, for the shape: " 254       0 vda 92828 14996 5552562 59697 109600 62444 10921328 67349 0 35616 145351 46096 144 3418280 10323 19807 7980"
  const shape = /^ {0,3}\d+ {1,7}\d+ vda( \d+){17}$/;
  expect(' 254       0 vda 92828 14996 5552562 59697 109600 62444 10921328 67349 0 35616 145351 46096 144 3418280 10323 19807 7980').toMatch(shape);
  const k = bootWithProgram('64M');
  k.fs.writeFile('/data/f', new Uint8Array(1 << 20).fill(3));
  const t = k.spawn('/bin/tiny');
  const buf = t.mmap(0, 65536, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  const pc = pageCache(k.vm);
  const r0 = pc.bdev.reads;
  const s0 = pc.bdev.readSectors;
  const fd = t.open('/data/f', O_RDONLY);
  while (t.read(fd, buf, 65536) > 0);
  const w = t.open('/data/g', O_RDWR | O_CREAT);
  expect(t.write(w, buf, 65536)).toBe(65536);
  expect(t.fsync(w)).toBe(0);
  // no swap: the file system on the whole disk, one line
  const text = k.proc.read('/proc/diskstats');
  expect(text.split('\n').length).toBe(2);
  const line = text.split('\n').find((l) => / vda /.test(l))!;
  expect(line).toMatch(shape);
  const f = line.trim().split(/\s+/);
  expect(f.slice(0, 3)).toEqual(['254', '0', 'vda']);
  // reads completed and sectors read: the whole 1 MiB file once (256 pages = 2048 sectors).
  expect(Number(f[3]) - r0).toBeGreaterThan(0);
  expect(Number(f[5]) - s0).toBe(2048);
  // one write of 16 pages (128 sectors) and fsync's empty REQ_PREFLUSH write (0 sectors), one flush
  expect(Number(f[7])).toBe(2);
  expect(Number(f[9])).toBe(128);
  expect(Number(f[18])).toBe(1);
});
