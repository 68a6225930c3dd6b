/**
 * Readahead as 6.18's mm/readahead.c decides it, for single-page folios,
 * with read_ahead_kb 128 (ra_pages = 32) and the windows worked out by hand
 * from the kernel's rules:
 *
 *   get_init_ra_size(n, 32): roundup_pow_of_two(n); x4 if <= 32/32 = 1,
 *     x2 if <= 32/4 = 8, else 32.
 *   get_next_ra_size(cur, 32): 4 * cur if cur < 32/16 = 2, 2 * cur if
 *     cur <= 16, else 32.
 *   page_cache_sync_ra (a miss at index; req_count pages asked): at index 0
 *     or a sequential miss, start = index, size = get_init_ra_size(req),
 *     async_size = size - req (when size > req).
 *   page_cache_async_ra (the PG_readahead page at index): when index ==
 *     start + size - async_size, start += size, size = max(size,
 *     get_next_ra_size(size)), async_size = size.
 *   page_cache_ra_unbounded sets PG_readahead on page start + size -
 *     async_size (when async_size <= the pages left to read); do_page_cache_ra
 *     stops at the page holding the last byte of the file.
 */
import { readFileSync } from 'node:fs';
import { expect, test } from 'vitest';
import { O_RDONLY } from '../../src/fs/fcntl.js';
import { pageCache } from '../../src/vm/filemap.js';
import { MAP_ANONYMOUS, MAP_PRIVATE, PROT_READ, PROT_WRITE } from '../../src/vm/mman.js';
import { bootWithProgram, buildElf } from '../vm/helpers.js';

const MiB = 1 << 20;

test('a sequential read of a 4 MiB file in 4 KiB reads: the kernel windows, then a second read does no I/O', () => {
  const k = bootWithProgram('64M');
  const bytes = Uint8Array.from({ length: 4 * MiB }, (_, i) => (i * 13) & 0xff);
  k.fs.writeFile('/data/big', bytes);
  const t = k.spawn('/bin/tiny');
  const buf = t.mmap(0, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  const pc = pageCache(k.vm);
  const ino = k.fs.lookup('/data/big')!.ino;
  pc.raLog.length = 0;
  pc.bdev.log.length = 0;
  const reads0 = pc.bdev.reads;
  const sectors0 = pc.bdev.readSectors;

  const fd = t.open('/data/big', O_RDONLY);
  let n = 0;
  for (;;) {
    const r = t.read(fd, buf, 4096);
    if (r === 0) break;
    expect(r).toBe(4096);
    if (n % 97 === 0) expect(t.readBytes(buf, 4096)).toEqual(bytes.subarray(n * 4096, n * 4096 + 4096));
    n++;
  }
  expect(n).toBe(1024);

  // read 0 (index 0, a miss): sync, start 0, size get_init_ra_size(1) = 1*4 = 4, async 4-1 = 3; marker on page 1.
  // read 1 meets the marker: 1 == 0+4-3, so start 4, size get_next(4) = 8 (4 <= 16: x2), async 8; marker on 4.
  // read 4: 4 == 4+8-8: start 12, size 16, async 16; marker on 12.
  // read 12: start 28, size 32 (16 <= 16: x2), async 32; marker on 28.
  // from then on the size stays 32 (32 > 16: max): starts 60, 92, ..., 60 + 32 * 30 = 1020.
  // The last window (1020, 32, 32) reads only pages 1020..1023 (the file's end): 4 pages, no marker.
  const expected = [
    { kind: 'sync', ino, start: 0, size: 4, asyncSize: 3 },
    { kind: 'async', ino, start: 4, size: 8, asyncSize: 8 },
    { kind: 'async', ino, start: 12, size: 16, asyncSize: 16 },
    { kind: 'async', ino, start: 28, size: 32, asyncSize: 32 },
  ];
  for (let s = 60; s <= 1020; s += 32) expected.push({ kind: 'async', ino, start: s, size: 32, asyncSize: 32 });
  expect(pc.raLog).toEqual(expected);
  expect(pc.raLog.length).toBe(35);
  // One read request per window, of its pages (the last cut at the end of the file); every page read once.
  const reqs = expected.map((w) => ({ op: 'read', ino, index: w.start, pages: Math.min(w.size, 1024 - w.start) }));
  expect(pc.bdev.log).toEqual(reqs);
  expect(pc.bdev.reads - reads0).toBe(35);
  expect(pc.bdev.readSectors - sectors0).toBe((4 * MiB) / 512);
  expect(pc.mapping(ino).nrpages).toBe(1024);

  // Every marker was consumed on the way: reading it all again (a new open) issues nothing.
  t.close(fd);
  const fd2 = t.open('/data/big', O_RDONLY);
  for (let i = 0; i < 1024; i++) expect(t.read(fd2, buf, 4096)).toBe(4096);
  expect(t.read(fd2, buf, 4096)).toBe(0);
  expect(pc.raLog.length).toBe(35);
  expect(pc.bdev.reads - reads0).toBe(35);
});

test('a small random read reads only the page asked for and opens no window', () => {
  const k = bootWithProgram('64M');
  k.fs.writeFile('/data/r', new Uint8Array(MiB).fill(5));
  const t = k.spawn('/bin/tiny');
  const buf = t.mmap(0, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  const pc = pageCache(k.vm);
  const ino = k.fs.lookup('/data/r')!.ino;
  pc.bdev.log.length = 0;
  pc.raLog.length = 0;
  const fd = t.open('/data/r', O_RDONLY);
  // prev_pos is -1 (index - prev_index is huge), page 99 is not cached: contig_count = 100 - 99 - 1 = 0 <= 1,
  // so do_page_cache_ra(1 page, no lookahead).
  expect(t.pread(fd, buf, 4096, 100 * 4096)).toBe(4096);
  expect(pc.raLog).toEqual([]);
  expect(pc.bdev.log).toEqual([{ op: 'read', ino, index: 100, pages: 1 }]);
  // The next page is a sequential miss: prev_pos is the end of the last read, 101 * 4096, so
  // index - prev_index = 101 - 101 = 0 <= 1: start 101, size get_init_ra_size(1) = 4, async 3.
  expect(t.pread(fd, buf, 4096, 101 * 4096)).toBe(4096);
  expect(pc.raLog).toEqual([{ kind: 'sync', ino, start: 101, size: 4, asyncSize: 3 }]);
  // A miss at index 0 always opens a window: start 0, size 4, async 3.
  expect(t.pread(fd, buf, 4096, 0)).toBe(4096);
  expect(pc.raLog[1]).toEqual({ kind: 'sync', ino, start: 0, size: 4, asyncSize: 3 });
});

test('a 64 KiB read at the start of a file: get_init_ra_size(16) = 32, async 16', () => {
  const k = bootWithProgram('64M');
  k.fs.writeFile('/data/s', new Uint8Array(MiB).fill(1));
  const t = k.spawn('/bin/tiny');
  const buf = t.mmap(0, 65536, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  const pc = pageCache(k.vm);
  const ino = k.fs.lookup('/data/s')!.ino;
  pc.raLog.length = 0;
  const fd = t.open('/data/s', O_RDONLY);
  expect(t.read(fd, buf, 65536)).toBe(65536);
  // Page 16 (= 32 - 16) carries the marker; the second 64 KiB read meets it at once:
  // 16 == 0 + 32 - 16, so start 32, size get_next_ra_size(32) = 32, async 32.
  expect(t.read(fd, buf, 65536)).toBe(65536);
  expect(pc.raLog).toEqual([
    { kind: 'sync', ino, start: 0, size: 32, asyncSize: 16 },
    { kind: 'async', ino, start: 32, size: 32, asyncSize: 32 },
  ]);
});

test('mmap read-around on a fault (do_sync_mmap_readahead) and async readahead at its marker', () => {
  const k = bootWithProgram('64M');
  // Text of 200 pages at file offset 4096: page pgoff = 1 + (va - 0x401000) / 4096.
  k.fs.writeFile('/bin/big', buildElf([{ vaddr: 0x401000, flags: 5, data: new Uint8Array(200 * 4096).fill(0xc3) }]));
  const pc = pageCache(k.vm);
  const ino = k.fs.lookup('/bin/big')!.ino;
  const t = k.spawn('/bin/big');
  pc.raLog.length = 0;
  pc.bdev.log.length = 0;
  // A fault at pgoff 101: start = 101 - 32/2 = 85, size 32, async 32/4 = 8; marker on 85 + 24 = 109.
  expect(t.read8(0x401000 + 100 * 4096)).toBe(0xc3);
  expect(pc.raLog).toEqual([{ kind: 'mmap', ino, start: 85, size: 32, asyncSize: 8 }]);
  expect(pc.bdev.log).toEqual([{ op: 'read', ino, index: 85, pages: 32 }]);
  // pgoff 108 is cached: fault-around maps it, no I/O.
  expect(t.read8(0x401000 + 107 * 4096)).toBe(0xc3);
  expect(pc.bdev.log.length).toBe(1);
  // pgoff 109 has PG_readahead: fault-around leaves it, filemap_fault finds the marker:
  // 109 == 85 + 32 - 8, so page_cache_async_ra moves the window to 117, size 32, async 32.
  expect(t.read8(0x401000 + 108 * 4096)).toBe(0xc3);
  expect(pc.raLog[1]).toEqual({ kind: 'async', ino, start: 117, size: 32, asyncSize: 32 });
  expect(pc.bdev.log[1]).toEqual({ op: 'read', ino, index: 117, pages: 32 });
});

test("this machine's 6.18 (ext2, tracefs readahead events): the same first windows; large folios change the rest", () => {
  // test/fs/fixtures/readahead_ext2_4M.trace: page_cache_ra_order lines are the windows (index = start).
  const lines = readFileSync(new URL('./fixtures/readahead_ext2_4M.trace', import.meta.url), 'utf8').split('\n');
  const windows = lines
    .filter((l) => l.includes('page_cache_ra_order:'))
    .map((l) => {
      const f = (name: string) => Number(new RegExp(`${name}=(\\d+)`).exec(l)![1]);
      return { start: f('index'), size: f('size'), asyncSize: f('async_size'), order: f('order') };
    });
  // The sync window at 0 and the first async one are the classic ones kmem issues.
  expect(windows.slice(0, 2).map(({ start, size, asyncSize }) => ({ start, size, asyncSize }))).toEqual([
    { start: 0, size: 4, asyncSize: 3 },
    { start: 4, size: 8, asyncSize: 8 },
  ]);
  // From the third on, ext2's large folios (ra->order += 2 per async window) reshape the windows
  // ((12, 4, 4) at order 4, then 8-, 16- and 32-page windows); kmem has single-page folios only.
  expect(windows[2]).toEqual({ start: 12, size: 4, asyncSize: 4, order: 4 });
  // Both settle on ra_pages = 32 per window.
  expect(windows.at(-1)!.size).toBe(32);
});
