/**
 * The tmpfs at /dev/shm (mm/shmem.c): a file created there is a shmem inode
 * whose pages live only in the page cache (PG_swapbacked, in Shmem: and
 * Cached:, never on the disk). A hole reads as zeros and takes no page
 * (SGP_READ); a store or write() takes a zeroed one; fsync is noop_fsync;
 * drop_caches keeps written pages; unlink frees the pages once the last
 * mapping and fd go; a page past i_size is SIGBUS; rename out of the mount
 * is -EXDEV. shm_open() is glibc's open of /dev/shm/NAME.
 */
import { readFileSync } from 'node:fs';
import { expect, test } from 'vitest';
import { O_CREAT, O_EXCL, O_RDONLY, O_RDWR, O_TRUNC, SEEK_DATA, SEEK_END, SEEK_HOLE } from '../../src/fs/fcntl.js';
import type { Kernel } from '../../src/kernel.js';
import { BusError } from '../../src/vm/fault.js';
import { pageCache } from '../../src/vm/filemap.js';
import type { Task } from '../../src/vm/fork.js';
import { EXDEV, MAP_ANONYMOUS, MAP_PRIVATE, MAP_SHARED, PROT_READ, PROT_WRITE } from '../../src/vm/mman.js';
import { bootWithProgram } from './helpers.js';

const P = 4096;
const meminfo = (k: Kernel, field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB$`, 'm').exec(k.proc.read('/proc/meminfo'))![1]);
const status = (k: Kernel, t: Task, field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB$`, 'm').exec(k.proc.read(`/proc/${t.pid}/status`))![1]);

function setup() {
  const k = bootWithProgram();
  const t = k.spawn('/bin/tiny', ['tiny']);
  const buf = t.mmap(0, 4 * P, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  return { k, t, buf };
}

test('Shmem: and Cached: grow by the pages touched; holes read as zeros and take no page; RssShmem; the maps line', () => {
  const { k, t, buf } = setup();
  const shmem0 = meminfo(k, 'Shmem');
  const cached0 = meminfo(k, 'Cached');
  const fd = t.open('/dev/shm/seg', O_RDWR | O_CREAT | O_EXCL, 0o600);
  expect(fd).toBeGreaterThanOrEqual(0);
  expect(t.ftruncate(fd, 8 * P)).toBe(0);
  expect(meminfo(k, 'Shmem')).toBe(shmem0);
  // read() of a hole: zeros, no page.
  t.writeBytes(buf, new Uint8Array(16).fill(0xff));
  expect(t.pread(fd, buf, 16, 3 * P)).toBe(16);
  expect([...t.readBytes(buf, 16)]).toEqual(new Array(16).fill(0));
  expect(meminfo(k, 'Shmem')).toBe(shmem0);
  const m = t.mmap(0, 8 * P, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  const rss0 = status(k, t, 'RssShmem');
  t.write8(m, 1);
  t.write8(m + 5 * P, 2);
  t.read8(m + 7 * P); // a read fault of a shared shmem mapping takes a page too (SGP_CACHE)
  expect(meminfo(k, 'Shmem') - shmem0).toBe(12);
  expect(meminfo(k, 'Cached') - cached0).toBe(12);
  expect(status(k, t, 'RssShmem') - rss0).toBe(12);
  // write() allocates and dirties a page, without NR_FILE_DIRTY.
  t.writeBytes(buf, [9, 8, 7]);
  expect(t.pwrite(fd, buf, 3, 2 * P + 10)).toBe(3);
  expect(meminfo(k, 'Shmem') - shmem0).toBe(16);
  expect(pageCache(k.vm).nrDirty).toBe(0);
  expect(t.read8(m + 2 * P + 11)).toBe(8);
  const ino = k.fs.lookup('/dev/shm/seg')!.ino;
  const hex = (n: number) => n.toString(16).padStart(8, '0');
  expect(k.proc.read(`/proc/${t.pid}/maps`)).toContain(`${`${hex(m)}-${hex(m + 8 * P)} rw-s 00000000 00:1b ${ino}`.padEnd(73)}/dev/shm/seg\n`);
});

test('unlink and munmap give back every page; a linked file keeps its bytes with no fd and no mapping', () => {
  const { k, t, buf } = setup();
  const shmem0 = meminfo(k, 'Shmem');
  const fd = t.open('/dev/shm/keep', O_RDWR | O_CREAT);
  t.ftruncate(fd, 4 * P);
  const m = t.mmap(0, 4 * P, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  for (let i = 0; i < 4; i++) t.write32(m + i * P, 0x1000 + i);
  t.munmap(m, 4 * P);
  t.close(fd);
  expect(meminfo(k, 'Shmem') - shmem0).toBe(16);
  // drop_caches does not take tmpfs pages that were written; fsync writes nothing.
  k.proc.write('/proc/sys/vm/drop_caches', '1');
  expect(meminfo(k, 'Shmem') - shmem0).toBe(16);
  const cached1 = meminfo(k, 'Cached');
  const files1 = k.vm.nrFilePages;
  const fd2 = t.open('/dev/shm/keep', O_RDONLY);
  const bdev = pageCache(k.vm).bdev;
  const w = bdev.writes;
  expect(t.fsync(fd2)).toBe(0);
  expect(bdev.writes).toBe(w);
  expect(bdev.flushes).toBe(0);
  expect(t.pread(fd2, buf, 4, 3 * P)).toBe(4);
  expect(t.read32(buf)).toBe(0x1003);
  expect(t.lseek(fd2, 0, SEEK_END)).toBe(4 * P);
  // Mapped again, then unlinked: the pages stay until the mapping and the fd go.
  const m2 = t.mmap(0, 4 * P, PROT_READ, MAP_SHARED, fd2, 0);
  expect(t.unlink('/dev/shm/keep')).toBe(0);
  expect(t.read32(m2 + 2 * P)).toBe(0x1002);
  expect(k.proc.read(`/proc/${t.pid}/maps`)).toContain('/dev/shm/keep (deleted)');
  t.close(fd2);
  expect(meminfo(k, 'Shmem') - shmem0).toBe(16);
  t.munmap(m2, 4 * P);
  expect(meminfo(k, 'Shmem')).toBe(shmem0);
  expect(meminfo(k, 'Cached')).toBe(cached1 - 16);
  expect(k.vm.nrFilePages).toBe(files1 - 4);
  expect(k.vm.nrShmem).toBe(0);
});

test('ftruncate shrinks: pages past the end go, the partial page is zeroed past it, a mapping there is SIGBUS', () => {
  const { k, t } = setup();
  const shmem0 = meminfo(k, 'Shmem');
  const fd = t.open('/dev/shm/cut', O_RDWR | O_CREAT);
  t.ftruncate(fd, 4 * P);
  const m = t.mmap(0, 4 * P, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  for (let i = 0; i < 4; i++) t.write8(m + i * P + 100, 0x40 + i);
  expect(meminfo(k, 'Shmem') - shmem0).toBe(16);
  expect(t.ftruncate(fd, P + 50)).toBe(0);
  expect(meminfo(k, 'Shmem') - shmem0).toBe(8);
  expect(t.read8(m + 100)).toBe(0x40);
  expect(t.read8(m + P + 100)).toBe(0);
  const c = t.fork();
  expect(() => c.read8(m + 2 * P)).toThrow(BusError);
  expect(c.exitCode).toBe(7);
  t.wait();
  // Growing back: the new pages are holes (zeros).
  t.ftruncate(fd, 4 * P);
  expect(t.read8(m + 3 * P + 100)).toBe(0);
});

test('MAP_PRIVATE of a tmpfs file copies on write; fork shares the MAP_SHARED one', () => {
  const { k, t, buf } = setup();
  const fd = t.open('/dev/shm/pc', O_RDWR | O_CREAT);
  t.ftruncate(fd, 2 * P);
  const s = t.mmap(0, 2 * P, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  const p = t.mmap(0, 2 * P, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
  t.write8(s, 0x11);
  expect(t.read8(p)).toBe(0x11);
  const anon0 = status(k, t, 'RssAnon');
  t.write8(p, 0x22);
  expect(status(k, t, 'RssAnon') - anon0).toBe(4);
  expect(t.read8(s)).toBe(0x11);
  t.pread(fd, buf, 1, 0);
  expect(t.read8(buf)).toBe(0x11);
  const c = t.fork();
  c.write8(s + P, 0x33);
  c.write8(p + P, 0x44);
  c.exit(0);
  t.wait();
  expect(t.read8(s + P)).toBe(0x33);
  expect(t.read8(p + P)).toBe(0x33);
});

test('rename across the mount is -EXDEV; within /dev/shm it renames', () => {
  const { k, t } = setup();
  const fd = t.open('/dev/shm/a', O_RDWR | O_CREAT);
  t.close(fd);
  k.fs.writeFile('/tmp/f', 'x');
  expect(t.rename('/dev/shm/a', '/tmp/a')).toBe(-EXDEV);
  expect(t.rename('/tmp/f', '/dev/shm/f')).toBe(-EXDEV);
  expect(t.rename('/dev/shm/a', '/dev/shm/b')).toBe(0);
  expect(t.open('/dev/shm/b', O_RDONLY)).toBeGreaterThanOrEqual(0);
});

test('MAP_SHARED|MAP_ANONYMOUS is shmem too: its pages in Shmem:, gone with the last mapping', () => {
  const { k, t } = setup();
  const shmem0 = meminfo(k, 'Shmem');
  const z = t.mmap(0, 3 * P, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  t.write8(z, 1);
  t.write8(z + 2 * P, 1);
  expect(meminfo(k, 'Shmem') - shmem0).toBe(8);
  const c = t.fork();
  t.munmap(z, 3 * P);
  expect(meminfo(k, 'Shmem') - shmem0).toBe(8);
  expect(c.read8(z + 2 * P)).toBe(1);
  c.exit(0);
  t.wait();
  expect(meminfo(k, 'Shmem')).toBe(shmem0);
});

test('a process that fills a /dev/shm file, maps it and unlinks it gives back every page when it is gone', () => {
  const k = bootWithProgram();
  k.spawn('/bin/tiny', ['tiny']).exit(0);
  const free = () => {
    k.drainAllPages();
    // Free pages plus slab pages: SLUB may keep an empty slab on a CPU's partial list.
    return Number(/^nr_free_pages (\d+)$/m.exec(k.proc.read('/proc/vmstat'))![1]) + k.slabPages(false) + k.slabPages(true);
  };
  const before = free();
  const t = k.spawn('/bin/tiny', ['tiny']);
  const fd = t.open('/dev/shm/big', O_RDWR | O_CREAT);
  t.ftruncate(fd, 256 * P);
  const m = t.mmap(0, 256 * P, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  for (let i = 0; i < 256; i += 2) t.write32(m + i * P, i);
  const c = t.fork();
  expect(c.read32(m + 254 * P)).toBe(254);
  c.exit(0);
  t.wait();
  expect(free()).toBeLessThan(before - 128);
  expect(t.unlink('/dev/shm/big')).toBe(0);
  t.exit(0);
  expect(k.vm.nrShmem).toBe(0);
  expect(free()).toBe(before);
});

test('SEEK_DATA / SEEK_HOLE on a tmpfs file find its pages and holes as the real 6.18 does (shm_seek.out)', () => {
  const { t, buf } = setup();
  const fd = t.open('/dev/shm/kmem_h5_seek', O_RDWR | O_CREAT | O_TRUNC, 0o600);
  t.ftruncate(fd, 8 * P + 100);
  t.writeBytes(buf, [0x78, 0x79]);
  t.pwrite(fd, buf, 1, 2 * P + 10);
  t.pwrite(fd, buf + 1, 1, 5 * P);
  const real = readFileSync(new URL('../fixtures/vm/shm_seek.out', import.meta.url), 'utf8')
    .split('\n')
    .filter((l) => /^\d+:/.test(l));
  expect(real.length).toBe(9);
  const got = real.map((l) => {
    const off = Number.parseInt(l, 10);
    const d = t.lseek(fd, off, SEEK_DATA);
    const h = t.lseek(fd, off, SEEK_HOLE);
    return `${off}: SEEK_DATA ${d < 0 ? -1 : d} (${d < 0 ? -d : 0}) SEEK_HOLE ${h < 0 ? -1 : h} (${h < 0 ? -h : 0})`;
  });
  expect(got).toEqual(real);
});
