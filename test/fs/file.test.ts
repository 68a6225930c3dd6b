/**
 * The file system calls on Task against the kernel's rules (fs/open.c,
 * fs/read_write.c, mm/filemap.c): errnos, offsets, O_* flags, the fd table
 * across fork and exit, and the page cache under them (one page per file
 * offset, shared by read() and a file mapping; xarray nodes from the
 * radix_tree_node cache).
 */
import { beforeEach, expect, test } from 'vitest';
import { O_APPEND, O_CREAT, O_EXCL, O_RDONLY, O_RDWR, O_TRUNC, O_WRONLY, SEEK_CUR, SEEK_END, SEEK_SET } from '../../src/fs/fcntl.js';
import type { Kernel } from '../../src/kernel.js';
import { PG } from '../../src/memory/page.js';
import { pageCache } from '../../src/vm/filemap.js';
import type { Task } from '../../src/vm/fork.js';
import { EBADF, EEXIST, EFAULT, EINVAL, EISDIR, ENOENT, ENOTDIR, MAP_ANONYMOUS, MAP_PRIVATE, PROT_READ, PROT_WRITE } from '../../src/vm/mman.js';
import { bootWithProgram, buildElf } from '../vm/helpers.js';

let k: Kernel;
let t: Task;
let buf: number;

beforeEach(() => {
  k = bootWithProgram('64M');
  t = k.spawn('/bin/tiny');
  buf = t.mmap(0, 1 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
});

const pattern = (n: number, seed = 1) => Uint8Array.from({ length: n }, (_, i) => (i * 7 + seed) & 0xff);

test('open: ENOENT without O_CREAT, O_CREAT makes the file at the lowest free fd, O_EXCL is EEXIST', () => {
  expect(t.open('/data/log', O_RDWR)).toBe(-ENOENT);
  // No such directory: ENOENT even with O_CREAT.
  expect(t.open('/nodir/log', O_RDWR | O_CREAT)).toBe(-ENOENT);
  // A spawned task here has no stdin/stdout/stderr: the first fd is 0.
  expect(t.open('/bin/log', O_RDWR | O_CREAT, 0o644)).toBe(0);
  expect(t.open('/bin/log', O_RDWR | O_CREAT | O_EXCL)).toBe(-EEXIST);
  expect(t.open('/bin/log', O_RDONLY)).toBe(1);
  expect(t.close(0)).toBe(0);
  expect(t.open('/bin/log', O_WRONLY)).toBe(0);
  expect(t.close(0)).toBe(0);
  expect(t.close(0)).toBe(-EBADF);
  expect(t.open('/bin/log', 3)).toBe(-EINVAL); // O_ACCMODE 3
  // A file used as a directory.
  expect(t.open('/bin/tiny/x', O_RDONLY)).toBe(-ENOTDIR);
});

test('directories: EISDIR for a write open or O_CREAT, and for read() of a directory fd', () => {
  expect(t.open('/bin', O_RDWR)).toBe(-EISDIR);
  expect(t.open('/bin', O_WRONLY | O_CREAT)).toBe(-EISDIR);
  const fd = t.open('/bin', O_RDONLY);
  expect(fd).toBe(0);
  expect(t.read(fd, buf, 10)).toBe(-EISDIR);
  expect(t.unlink('/bin')).toBe(-EISDIR);
});

test('write then read back through the page cache; lseek SET/CUR/END; read at the end is 0', () => {
  const fd = t.open('/bin/f', O_RDWR | O_CREAT);
  const data = pattern(10000);
  t.writeBytes(buf, data);
  expect(t.write(fd, buf, 10000)).toBe(10000);
  expect(t.lseek(fd, 0, SEEK_CUR)).toBe(10000);
  expect(t.lseek(fd, 0, SEEK_END)).toBe(10000);
  expect(t.lseek(fd, -1, SEEK_SET)).toBe(-EINVAL);
  expect(t.lseek(fd, 0, 7)).toBe(-EINVAL);
  expect(t.lseek(fd, 0, SEEK_SET)).toBe(0);
  expect(t.read(fd, buf + 65536, 20000)).toBe(10000);
  expect(t.readBytes(buf + 65536, 10000)).toEqual(data);
  expect(t.read(fd, buf, 100)).toBe(0);
  // pread/pwrite leave the offset alone.
  t.writeBytes(buf, [1, 2, 3]);
  expect(t.pwrite(fd, buf, 3, 4095)).toBe(3);
  expect(t.pread(fd, buf + 100, 5, 4094)).toBe(5);
  expect([...t.readBytes(buf + 100, 5)]).toEqual([data[4094], 1, 2, 3, data[4098]]);
  expect(t.lseek(fd, 0, SEEK_CUR)).toBe(10000);
  expect(t.pread(fd, buf, 10, -1)).toBe(-EINVAL);
  // Seeking past the end and writing leaves a hole of zeros.
  expect(t.lseek(fd, 20000, SEEK_SET)).toBe(20000);
  expect(t.write(fd, buf, 1)).toBe(1);
  expect(t.pread(fd, buf + 200, 10, 10000)).toBe(10);
  expect([...t.readBytes(buf + 200, 10)]).toEqual(new Array(10).fill(0));
  expect(t.lseek(fd, 0, SEEK_END)).toBe(20001);
});

test('access modes: EBADF reading a write-only fd and writing a read-only one', () => {
  const w = t.open('/bin/g', O_WRONLY | O_CREAT);
  const r = t.open('/bin/g', O_RDONLY);
  expect(t.read(w, buf, 1)).toBe(-EBADF);
  expect(t.write(r, buf, 1)).toBe(-EBADF);
  expect(t.read(99, buf, 1)).toBe(-EBADF);
  expect(t.ftruncate(r, 0)).toBe(-EINVAL);
  expect(t.read(r, buf, -1)).toBe(-EINVAL);
});

test('a bad user buffer is -EFAULT (no signal); a read stopping at an unmapped page returns what it copied', () => {
  const fd = t.open('/bin/h', O_RDWR | O_CREAT);
  t.writeBytes(buf, pattern(8192));
  expect(t.write(fd, buf, 8192)).toBe(8192);
  // At the end of the file a read returns 0 before touching the buffer, as filemap_read does.
  expect(t.read(fd, 0x10, 100)).toBe(0);
  expect(t.pread(fd, 0x10, 100, 0)).toBe(-EFAULT);
  expect(t.write(fd, 0x10, 100)).toBe(-EFAULT);
  // Past the user address space: access_ok() fails first.
  expect(t.pread(fd, 2 ** 47, 100, 0)).toBe(-EFAULT);
  expect(t.exited).toBe(false);
  // A window of one page followed by nothing mapped.
  const one = t.mmap(0, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  expect(t.munmap(one + 4096, 4096)).toBe(0);
  expect(t.pread(fd, one + 4000, 1000, 0)).toBe(96);
  // A read-only buffer cannot be read into.
  const ro = t.mmap(0, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  expect(t.pread(fd, ro, 10, 0)).toBe(-EFAULT);
  expect(t.pwrite(fd, ro, 10, 0)).toBe(10); // reading from it is fine (the zero page)
});

test('O_TRUNC empties, O_APPEND writes at the end whatever the offset, ftruncate shrinks and grows', () => {
  t.writeBytes(buf, pattern(5000));
  let fd = t.open('/bin/a', O_WRONLY | O_CREAT);
  expect(t.write(fd, buf, 5000)).toBe(5000);
  t.close(fd);
  fd = t.open('/bin/a', O_RDWR | O_APPEND);
  expect(t.lseek(fd, 0, SEEK_SET)).toBe(0);
  expect(t.write(fd, buf, 10)).toBe(10);
  expect(t.lseek(fd, 0, SEEK_CUR)).toBe(5010);
  expect(t.ftruncate(fd, 4100)).toBe(0);
  expect(t.lseek(fd, 0, SEEK_END)).toBe(4100);
  expect(t.ftruncate(fd, 9000)).toBe(0);
  // The bytes past the old 4100 read as zeros, the ones before are kept.
  expect(t.pread(fd, buf + 65536, 9000, 0)).toBe(9000);
  const back = t.readBytes(buf + 65536, 9000);
  expect(back.subarray(0, 4100)).toEqual(pattern(5000).subarray(0, 4100));
  expect(back.subarray(4100).every((b) => b === 0)).toBe(true);
  expect(t.ftruncate(fd, -1)).toBe(-EINVAL);
  t.close(fd);
  fd = t.open('/bin/a', O_RDWR | O_TRUNC);
  expect(t.lseek(fd, 0, SEEK_END)).toBe(0);
  expect(t.read(fd, buf, 10)).toBe(0);
});

test('write dirties page-cache pages; fsync writes each run of dirty pages as one request and cleans them', () => {
  const pc = pageCache(k.vm);
  const fd = t.open('/bin/d', O_RDWR | O_CREAT);
  t.writeBytes(buf, pattern(10000));
  expect(t.write(fd, buf, 10000)).toBe(10000);
  // Not on the disk yet: the size is, the bytes are not.
  expect(k.fs.readFile('/bin/d')!.length).toBe(10000);
  expect(k.fs.readFile('/bin/d')!.every((b) => b === 0)).toBe(true);
  expect(pc.nrDirty).toBe(3);
  const ino = k.fs.lookup('/bin/d')!.ino;
  const as = pc.mapping(ino);
  const pfn = as.xa.load(0);
  const flags = k.vm.k.pages.flags[pfn]!;
  expect(flags & (1 << PG.dirty)).not.toBe(0);
  expect(flags & (1 << PG.uptodate)).not.toBe(0);
  expect(flags & (1 << PG.lru)).not.toBe(0);
  pc.bdev.log.length = 0;
  expect(t.fsync(fd)).toBe(0);
  expect(pc.bdev.log).toEqual([{ op: 'write', ino, index: 0, pages: 3 }]);
  expect(pc.nrDirty).toBe(0);
  expect(k.vm.k.pages.flags[pfn]! & (1 << PG.dirty)).toBe(0);
  expect(k.fs.readFile('/bin/d')).toEqual(pattern(10000));
  // Pages 0 and 2 dirty again: two requests.
  expect(t.pwrite(fd, buf, 1, 0)).toBe(1);
  expect(t.pwrite(fd, buf, 1, 8192)).toBe(1);
  pc.bdev.log.length = 0;
  expect(t.fsync(fd)).toBe(0);
  expect(pc.bdev.log.map((r) => [r.index, r.pages])).toEqual([
    [0, 1],
    [2, 1],
  ]);
  expect(t.fsync(77)).toBe(-EBADF);
});

test('fork shares the open file (and its offset); exit closes; an unlinked file lives until the last close', () => {
  const pc = pageCache(k.vm);
  const fd = t.open('/bin/s', O_RDWR | O_CREAT);
  t.writeBytes(buf, pattern(8192));
  expect(t.write(fd, buf, 8192)).toBe(8192);
  expect(t.lseek(fd, 0, SEEK_SET)).toBe(0);
  const child = t.fork();
  expect(child.read(fd, buf, 100)).toBe(100);
  expect(t.lseek(fd, 0, SEEK_CUR)).toBe(100);
  const before = k.vm.nrFilePages;
  expect(t.unlink('/bin/s')).toBe(0);
  expect(t.unlink('/bin/s')).toBe(-ENOENT);
  expect(t.open('/bin/s', O_RDONLY)).toBe(-ENOENT);
  // Still readable through the open file.
  expect(t.pread(fd, buf + 65536, 8192, 0)).toBe(8192);
  expect(t.readBytes(buf + 65536, 8192)).toEqual(pattern(8192));
  child.exit(0);
  expect(k.vm.nrFilePages).toBe(before);
  t.close(fd);
  // The last reference went: its two pages left the cache.
  expect(k.vm.nrFilePages).toBe(before - 2);
  expect(pc.nrDirty).toBe(0);
});

test('rename moves the name (replacing a file there); unlink and rename errnos', () => {
  const fd = t.open('/bin/old', O_RDWR | O_CREAT);
  t.writeBytes(buf, [9, 8, 7]);
  t.write(fd, buf, 3);
  t.close(fd);
  const fd2 = t.open('/bin/other', O_RDWR | O_CREAT);
  t.close(fd2);
  expect(t.rename('/bin/old', '/bin/other')).toBe(0);
  expect(t.open('/bin/old', O_RDONLY)).toBe(-ENOENT);
  const r = t.open('/bin/other', O_RDONLY);
  expect(t.read(r, buf + 10, 10)).toBe(3);
  expect([...t.readBytes(buf + 10, 3)]).toEqual([9, 8, 7]);
  expect(t.rename('/bin/nothing', '/bin/x')).toBe(-ENOENT);
  expect(t.rename('/bin/other', '/nodir/x')).toBe(-ENOENT);
  expect(t.rename('/bin/other', '/bin')).toBe(-EISDIR);
  expect(t.unlink('/nope/x')).toBe(-ENOENT);
});

test('xarray nodes are radix_tree_node objects: none for a one-page file, one up to 64 pages, 1 + 64ths after', () => {
  const pc = pageCache(k.vm);
  const live = () => k.inspect.liveObjects(pc.radixCache);
  const base = live();
  const fd = t.open('/bin/x', O_RDWR | O_CREAT);
  const ino = k.fs.lookup('/bin/x')!.ino;
  const as = pc.mapping(ino);
  expect(t.pwrite(fd, buf, 4096, 0)).toBe(4096);
  // A lone page at index 0 sits in xa_head: no node.
  expect(as.xa.nodes).toBe(0);
  expect(live()).toBe(base);
  expect(t.pwrite(fd, buf, 4096, 4096)).toBe(4096);
  expect(as.xa.nodes).toBe(1);
  expect(live()).toBe(base + 1);
  // 256 pages: a root of shift 6 over four leaves of 64.
  for (let i = 2; i < 256; i++) expect(t.pwrite(fd, buf, 4096, i * 4096)).toBe(4096);
  expect(as.xa.nodes).toBe(5);
  expect(live()).toBe(base + 5);
  // Page 4096 (shift 12 needed): a new root, and a leaf under a new middle node.
  expect(t.pwrite(fd, buf, 1, 4096 * 4096)).toBe(1);
  expect(as.xa.nodes).toBe(5 + 3);
  expect(as.xa.load(4096)).toBeGreaterThan(0);
  for (let i = 0; i < 256; i++) expect(as.xa.load(i)).toBe(k.vm.pageCache.get(ino * 2 ** 32 + i));
  // Truncating to one page frees every node; the last page goes back to the head.
  expect(t.ftruncate(fd, 100)).toBe(0);
  expect(as.xa.nodes).toBe(0);
  expect(live()).toBe(base);
  expect(as.nrpages).toBe(1);
  expect(t.ftruncate(fd, 0)).toBe(0);
  expect(as.nrpages).toBe(0);
});

test('read() and a file mapping share the page: exec maps the page-cache page read() filled', () => {
  const pc = pageCache(k.vm);
  const elf = buildElf([{ vaddr: 0x401000, flags: 5, data: new Uint8Array(100).fill(0x90) }]);
  k.fs.writeFile('/bin/prog', elf);
  const fd = t.open('/bin/prog', O_RDONLY);
  expect(t.read(fd, buf, elf.length)).toBe(elf.length);
  const ino = k.fs.lookup('/bin/prog')!.ino;
  const cached = pc.mapping(ino).xa.load(1);
  expect(cached).toBeGreaterThan(0);
  const before = pc.bdev.reads;
  const p = k.spawn('/bin/prog');
  expect(p.read8(0x401000)).toBe(0x90);
  // The text page at file offset 4096 is the same frame (pagemap: PFN in bits 0-54).
  const pm = p.pagemap(0x401000, 1);
  expect(Number(pm[0]! & ((1n << 55n) - 1n))).toBe(cached);
  expect(pc.bdev.reads).toBe(before);
});
