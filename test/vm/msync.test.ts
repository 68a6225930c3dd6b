/**
 * msync(2) as 6.18's mm/msync.c decides: the argument checks in their order,
 * the walk over the VMAs of the range (a hole is -ENOMEM once the rest is
 * done, at once for plain MS_ASYNC; MS_INVALIDATE on a VM_LOCKED VMA is
 * -EBUSY), and MS_SYNC as vfs_fsync_range() of each shared file VMA's part
 * of the range: those file pages written (one request per run of dirty
 * pages), the disk's cache flushed; private and anonymous VMAs, MS_ASYNC and
 * shmem write nothing.
 */
import { expect, test } from 'vitest';
import { O_CREAT, O_RDWR } from '../../src/fs/fcntl.js';
import { pageCache } from '../../src/vm/filemap.js';
import {
  EBUSY,
  EINVAL,
  ENOMEM,
  MAP_ANONYMOUS,
  MAP_FIXED,
  MAP_PRIVATE,
  MAP_SHARED,
  MS_ASYNC,
  MS_INVALIDATE,
  MS_SYNC,
  PROT_READ,
  PROT_WRITE,
} from '../../src/vm/mman.js';
import { bootWithProgram } from './helpers.js';

const P = 4096;

function setup() {
  const k = bootWithProgram();
  k.fs.writeFile('/a', new Uint8Array(8 * P));
  k.fs.writeFile('/b', new Uint8Array(8 * P));
  const t = k.spawn('/bin/tiny', ['tiny']);
  const fa = t.open('/a', O_RDWR);
  const fb = t.open('/b', O_RDWR);
  const bdev = pageCache(k.vm).bdev;
  return { k, t, fa, fb, bdev };
}

test('argument checks in the kernel’s order', () => {
  const { t, fa } = setup();
  const m = t.mmap(0, 5 * P, PROT_READ | PROT_WRITE, MAP_SHARED, fa, 0);
  t.munmap(m + 4 * P, P);
  // unknown flag first, then the alignment, then ASYNC with SYNC
  expect(t.msync(m + 1, P, 8)).toBe(-EINVAL);
  expect(t.msync(m + 1, P, MS_SYNC)).toBe(-EINVAL);
  expect(t.msync(m, P, MS_ASYNC | MS_SYNC)).toBe(-EINVAL);
  expect(t.msync(m, P, MS_ASYNC | MS_INVALIDATE)).toBe(0);
  expect(t.msync(m, P, MS_SYNC | MS_INVALIDATE)).toBe(0);
  // flags 0 is accepted (neither ASYNC nor SYNC); a zero length is 0 whatever is mapped
  expect(t.msync(m, P, 0)).toBe(0);
  expect(t.msync(0x1000, 0, MS_SYNC)).toBe(0);
  // the length rounds up to pages: one byte past the mapping's end is a hole
  expect(t.msync(m, 4 * P + 1, MS_SYNC)).toBe(-ENOMEM);
  expect(t.msync(m, 4 * P, MS_SYNC)).toBe(0);
});

test('holes: -ENOMEM after syncing the mapped parts; plain MS_ASYNC stops at the hole', () => {
  const { k, t, fa, bdev } = setup();
  const m = t.mmap(0, 4 * P, PROT_READ | PROT_WRITE, MAP_SHARED, fa, 0);
  t.munmap(m + P, P);
  t.write8(m + 2 * P, 5);
  const w = bdev.writes;
  // [m, m+4P) starts in a VMA, then a hole, then the VMA that holds the dirty page: it is written, the result is -ENOMEM.
  expect(t.msync(m, 4 * P, MS_SYNC)).toBe(-ENOMEM);
  // one data write, and an empty REQ_PREFLUSH write for each of the two VMAs' vfs_fsync_range
  expect(bdev.writes - w).toBe(3);
  expect(bdev.log.at(-1)!.index).toBe(2);
  expect(k.fs.readFile('/a')![2 * P]).toBe(5);
  expect(t.msync(m, 4 * P, MS_ASYNC)).toBe(-ENOMEM);
  expect(t.msync(m, 4 * P, MS_INVALIDATE)).toBe(-ENOMEM);
  // Starting in the hole: -ENOMEM too; a range wholly in the hole as well.
  expect(t.msync(m + P, 2 * P, MS_SYNC)).toBe(-ENOMEM);
  expect(t.msync(m + P, P, MS_SYNC)).toBe(-ENOMEM);
  // Past every VMA.
  expect(t.msync(0x7fff00000000 - 0x10000000, P, MS_SYNC)).toBe(-ENOMEM);
});

test('MS_INVALIDATE on a locked VMA is -EBUSY; MS_SYNC of it is fine', () => {
  const { t } = setup();
  const a = t.mmap(0, 2 * P, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  expect(t.mlock(a + P, P)).toBe(0);
  expect(t.msync(a, 2 * P, MS_INVALIDATE)).toBe(-EBUSY);
  expect(t.msync(a, P, MS_INVALIDATE)).toBe(0);
  expect(t.msync(a, 2 * P, MS_SYNC)).toBe(0);
});

test('MS_SYNC writes only the file pages of the range, one request per run, then flushes; across two files', () => {
  const { k, t, fa, fb, bdev } = setup();
  // /a's mapping with /b's right above it: two VMAs of different files in one range.
  const a = t.mmap(0, 10 * P, PROT_READ | PROT_WRITE, MAP_SHARED, fa, 0);
  const b = t.mmap(a + 8 * P, 2 * P, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, fb, 3 * P);
  expect(b).toBe(a + 8 * P);
  for (const i of [1, 2, 3, 6]) t.write8(a + i * P, i);
  t.write8(b + P, 0x44); // /b's page 4
  const pc = pageCache(k.vm);
  expect(pc.nrDirty).toBe(5);
  const log0 = bdev.log.length;
  const flushes = bdev.flushes;
  // [a + 2P, a + 4P) of /a: pages 2 and 3 (one run) written, 1 and 6 not.
  expect(t.msync(a + 2 * P, 2 * P, MS_SYNC)).toBe(0);
  expect(bdev.log.slice(log0).map((r) => [r.op, r.index, r.pages])).toEqual([['write', 2, 2]]);
  expect(bdev.flushes - flushes).toBe(1);
  expect(pc.nrDirty).toBe(3);
  expect(k.fs.readFile('/a')![P]).toBe(0);
  expect(k.fs.readFile('/a')![2 * P]).toBe(2);
  // From a + 5P across into /b: /a's page 6 and /b's page 4, one fsync each.
  const log1 = bdev.log.length;
  expect(t.msync(a + 5 * P, 5 * P, MS_SYNC)).toBe(0);
  const inoB = k.fs.lookup('/b')!.ino;
  expect(bdev.log.slice(log1).map((r) => [r.ino === inoB ? 'b' : 'a', r.index, r.pages])).toEqual([
    ['a', 6, 1],
    ['b', 4, 1],
  ]);
  expect(bdev.flushes - flushes).toBe(3);
  expect(k.fs.readFile('/b')![4 * P]).toBe(0x44);
  expect(pc.nrDirty).toBe(1);
});

test('private, anonymous and shmem mappings: MS_SYNC writes nothing', () => {
  const { k, t, fa, bdev } = setup();
  const pm = t.mmap(0, 2 * P, PROT_READ | PROT_WRITE, MAP_PRIVATE, fa, 0);
  const an = t.mmap(0, 2 * P, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  const sh = t.mmap(0, 2 * P, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  const sfd = t.open('/dev/shm/x', O_RDWR | O_CREAT);
  t.ftruncate(sfd, 2 * P);
  const tm = t.mmap(0, 2 * P, PROT_READ | PROT_WRITE, MAP_SHARED, sfd, 0);
  for (const a of [pm, an, sh, tm]) t.write8(a, 1);
  const w = bdev.writes;
  const fl = bdev.flushes;
  for (const a of [pm, an, sh, tm]) expect(t.msync(a, 2 * P, MS_SYNC)).toBe(0);
  expect(bdev.writes).toBe(w);
  expect(bdev.flushes).toBe(fl);
  expect(k.fs.readFile('/a')![0]).toBe(0);
});
