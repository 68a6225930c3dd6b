/** posix_fadvise (mm/fadvise.c generic_fadvise) and drop_caches' page-cache part, by the kernel's rules. */
import { expect, test } from 'vitest';
import { O_DIRECT, O_RDONLY, O_RDWR, POSIX_FADV_DONTNEED, POSIX_FADV_RANDOM, POSIX_FADV_SEQUENTIAL, POSIX_FADV_WILLNEED } from '../../src/fs/fcntl.js';
import { pageCache } from '../../src/vm/filemap.js';
import { EBADF, EINVAL, MAP_ANONYMOUS, MAP_PRIVATE, PROT_READ, PROT_WRITE } from '../../src/vm/mman.js';
import { bootWithProgram } from '../vm/helpers.js';

const MiB = 1 << 20;

function setup(size = MiB) {
  const k = bootWithProgram('64M');
  k.fs.writeFile(
    '/data/f',
    Uint8Array.from({ length: size }, (_, i) => i & 0xff),
  );
  const t = k.spawn('/bin/tiny');
  const buf = t.mmap(0, 65536, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  const pc = pageCache(k.vm);
  const ino = k.fs.lookup('/data/f')!.ino;
  pc.raLog.length = 0;
  pc.bdev.log.length = 0;
  return { k, t, buf, pc, ino };
}

test('WILLNEED reads the range at once (force_page_cache_ra, up to max(io_pages 320, ra_pages)); later reads do no I/O', () => {
  const { t, buf, pc, ino } = setup();
  const fd = t.open('/data/f', O_RDONLY);
  expect(t.posixFadvise(fd, 0, MiB, POSIX_FADV_WILLNEED)).toBe(0);
  expect(pc.bdev.log).toEqual([{ op: 'read', ino, index: 0, pages: 256 }]);
  expect(pc.raLog).toEqual([]);
  while (t.read(fd, buf, 65536) > 0);
  expect(pc.bdev.log.length).toBe(1);
  expect(t.posixFadvise(fd, 0, -1, POSIX_FADV_WILLNEED)).toBe(-EINVAL);
  expect(t.posixFadvise(fd, 0, 0, 99)).toBe(-EINVAL);
  expect(t.posixFadvise(42, 0, 0, POSIX_FADV_WILLNEED)).toBe(-EBADF);
});

test('RANDOM: each miss reads only what was asked, no windows', () => {
  const { t, buf, pc, ino } = setup();
  const fd = t.open('/data/f', O_RDONLY);
  expect(t.posixFadvise(fd, 0, 0, POSIX_FADV_RANDOM)).toBe(0);
  for (let i = 0; i < 3; i++) expect(t.read(fd, buf, 4096)).toBe(4096);
  expect(pc.raLog).toEqual([]);
  expect(pc.bdev.log).toEqual([0, 1, 2].map((index) => ({ op: 'read', ino, index, pages: 1 })));
});

test('SEQUENTIAL doubles ra_pages to 64: the windows ramp 4, 8, 16, 32, 64 and stay at 64', () => {
  const { t, buf, pc, ino } = setup();
  const fd = t.open('/data/f', O_RDONLY);
  expect(t.posixFadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL)).toBe(0);
  for (let i = 0; i < 200; i++) expect(t.read(fd, buf, 4096)).toBe(4096);
  // get_init_ra_size(1, 64) = 4 (1 <= 64/32); get_next_ra_size: 4 is not < 64/16 = 4, so x2 = 8; 16; 32
  // (<= 32: x2 = 64 next); 64 > 32: max 64. Each window opens when the read meets the previous window's
  // marker (its first page here): 1, 4, 12, 28, 60, 124, 188 are all below 200.
  expect(pc.raLog.map((w) => [w.start, w.size, w.asyncSize])).toEqual([
    [0, 4, 3],
    [4, 8, 8],
    [12, 16, 16],
    [28, 32, 32],
    [60, 64, 64],
    [124, 64, 64],
    [188, 64, 64],
    [252, 64, 64],
  ]);
  expect(pc.raLog.every((w) => w.ino === ino)).toBe(true);
});

test('DONTNEED starts writeback (not waiting), then drops whole clean pages of the range (a partial last page stays)', () => {
  const { k, t, buf, pc } = setup(3 * 4096);
  const fd = t.open('/data/f', O_RDWR);
  expect(t.read(fd, buf, 3 * 4096)).toBe(3 * 4096);
  expect(t.pwrite(fd, buf, 10, 0)).toBe(10);
  const before = k.vm.nrFilePages;
  // [0, 6000): endbyte 5999 is inside page 1 and not the file's last byte: only page 0 may go, but it was
  // dirty: its writeback started (WB_SYNC_NONE) and is not complete, so mapping_try_invalidate keeps it.
  expect(t.posixFadvise(fd, 0, 6000, POSIX_FADV_DONTNEED)).toBe(0);
  expect(pc.nrDirty).toBe(0);
  expect(pc.nrWriteback).toBe(1);
  expect(k.vm.nrFilePages).toBe(before);
  // Once the write has completed (a millisecond of virtual time), the same advice drops it.
  k.tick(1e6);
  expect(pc.nrWriteback).toBe(0);
  expect(t.posixFadvise(fd, 0, 6000, POSIX_FADV_DONTNEED)).toBe(0);
  expect(k.vm.nrFilePages).toBe(before - 1);
  // Up to the end of the file (len 0): the other two go.
  expect(t.posixFadvise(fd, 0, 0, POSIX_FADV_DONTNEED)).toBe(0);
  expect(k.vm.nrFilePages).toBe(before - 3);
  // The data is the file's still (read back from the disk, with the write that was written back).
  pc.bdev.log.length = 0;
  expect(t.pread(fd, buf + 32768, 4096, 0)).toBe(4096);
  expect(t.readBytes(buf + 32768, 10)).toEqual(t.readBytes(buf, 10));
  expect(pc.bdev.log.length).toBe(1);
});

test("drop_caches' page-cache part drops every clean unmapped page: Cached (vm.nrFilePages) falls by the file's size", () => {
  const { k, t, buf, pc } = setup(MiB);
  expect(t.read8(0x401000)).toBe(0x90);
  const fd = t.open('/data/f', O_RDONLY);
  while (t.read(fd, buf, 65536) > 0);
  const before = k.vm.nrFilePages;
  const dropped = pc.dropPagecache();
  // The file's 256 pages, and any cached page of /bin/tiny no task maps.
  expect(k.vm.nrFilePages).toBe(before - dropped);
  expect(dropped).toBeGreaterThanOrEqual(256);
  expect(pc.mapping(k.fs.lookup('/data/f')!.ino).nrpages).toBe(0);
  // The text page the task maps stays.
  expect(pc.mapping(k.fs.lookup('/bin/tiny')!.ino).nrpages).toBeGreaterThan(0);
  expect(t.read8(0x401000)).toBe(0x90);
});

test('O_DIRECT: aligned I/O bypasses the cache (one request, no pages), unaligned is -EINVAL, dirty pages go first', () => {
  const { k, t, buf, pc, ino } = setup(64 * 1024);
  const fd = t.open('/data/f', O_RDWR | O_DIRECT);
  expect(t.pread(fd, buf, 4096, 100)).toBe(-EINVAL);
  expect(t.pread(fd, buf + 1, 4096, 0)).toBe(-EINVAL);
  expect(t.pread(fd, buf, 1000, 0)).toBe(-EINVAL);
  expect(t.pread(fd, buf, 8192, 4096)).toBe(8192);
  expect(t.readBytes(buf, 4)).toEqual(Uint8Array.from([0, 1, 2, 3]));
  expect(pc.mapping(ino).nrpages).toBe(0);
  expect(pc.bdev.log).toEqual([{ op: 'read', ino, index: 1, pages: 2 }]);
  // A buffered write leaves a dirty page; a direct write over it writes it back and drops it first.
  const b = t.open('/data/f', O_RDWR);
  t.writeBytes(buf, new Uint8Array(512).fill(0xee));
  expect(t.pwrite(b, buf, 512, 0)).toBe(512);
  expect(pc.nrDirty).toBe(1);
  t.writeBytes(buf, new Uint8Array(512).fill(0x11));
  expect(t.pwrite(fd, buf, 512, 512)).toBe(512);
  expect(pc.nrDirty).toBe(0);
  expect(pc.mapping(ino).nrpages).toBe(0);
  const disk = k.fs.readFile('/data/f')!;
  expect(disk[0]).toBe(0xee);
  expect(disk[512]).toBe(0x11);
  expect(disk[1024]).toBe(1024 & 0xff);
});
