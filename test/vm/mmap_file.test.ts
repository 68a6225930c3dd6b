/**
 * mmap of a file descriptor: shared mappings write into the page cache (seen
 * by read() at once, on the disk after msync/fsync, never before), private
 * ones copy on write and never reach the file; write-notify (a clean page of
 * a shared file mapping is mapped read-only, so the first store faults and
 * dirties it; writeback write-protects it again); SIGBUS past i_size; the
 * mapping holds the file past close and unlink. The expected values follow
 * the kernel's rules (do_read_fault / do_shared_fault / wp_page_shared /
 * folio_mkclean / filemap_fault's i_size check), worked by hand.
 */
import { readFileSync } from 'node:fs';
import { expect, test } from 'vitest';
import { O_CREAT, O_RDONLY, O_RDWR } from '../../src/fs/fcntl.js';
import { MS_SYNC as PUBLIC_MS_SYNC, BusError as PublicBusError } from '../../src/index.js';
import type { Kernel } from '../../src/kernel.js';
import { BusError } from '../../src/vm/fault.js';
import { pageCache } from '../../src/vm/filemap.js';
import type { Task } from '../../src/vm/fork.js';
import {
  EBADF,
  EFAULT,
  EOPNOTSUPP,
  MAP_ANONYMOUS,
  MAP_FIXED_NOREPLACE,
  MAP_PRIVATE,
  MAP_SHARED,
  MAP_SHARED_VALIDATE,
  MREMAP_MAYMOVE,
  MS_ASYNC,
  MS_SYNC,
  PROT_READ,
  PROT_WRITE,
} from '../../src/vm/mman.js';
import { bootWithProgram } from './helpers.js';

const P = 4096;
const PATH = '/data/file';

/** A machine with a 4-page file of known bytes (byte i = i % 251) and a task that has it open O_RDWR. */
function setup(pages = 4): { k: Kernel; t: Task; fd: number; bytes: Uint8Array } {
  const k = bootWithProgram();
  const bytes = new Uint8Array(pages * P);
  for (let i = 0; i < bytes.length; i++) bytes[i] = i % 251;
  k.fs.writeFile(PATH, bytes);
  const t = k.spawn('/bin/tiny', ['tiny']);
  const fd = t.open(PATH, O_RDWR);
  return { k, t, fd, bytes };
}
const disk = (k: Kernel) => k.fs.readFile(PATH)!;
const dirty = (k: Kernel) => pageCache(k.vm).nrDirty;

test('a store through MAP_SHARED is seen by read() at once and reaches the disk only at msync(MS_SYNC)', () => {
  const { k, t, fd } = setup();
  const m = t.mmap(0, 4 * P, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  const buf = t.mmap(0, P, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  t.writeBytes(m + P + 10, [1, 2, 3, 4]);
  expect(dirty(k)).toBe(1);
  expect(t.pread(fd, buf, 4, P + 10)).toBe(4);
  expect([...t.readBytes(buf, 4)]).toEqual([1, 2, 3, 4]);
  // Not on the disk yet: nothing wrote it back. MS_ASYNC does nothing since 2.6.19.
  expect(disk(k)[P + 10]).toBe((P + 10) % 251);
  expect(t.msync(m, 4 * P, MS_ASYNC)).toBe(0);
  expect(disk(k)[P + 10]).toBe((P + 10) % 251);
  expect(dirty(k)).toBe(1);
  expect(t.msync(m, 4 * P, MS_SYNC)).toBe(0);
  expect([...disk(k).subarray(P + 10, P + 14)]).toEqual([1, 2, 3, 4]);
  expect(dirty(k)).toBe(0);
  // Bytes around the store are the file's own.
  expect(disk(k)[P + 9]).toBe((P + 9) % 251);
  expect(disk(k)[P + 14]).toBe((P + 14) % 251);
});

test('write-notify: a read maps a clean page read-only, the first store faults and dirties it, writeback write-protects it again', () => {
  const { k, t, fd } = setup();
  const m = t.mmap(0, 4 * P, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  let f = t.minFlt;
  const maj = t.majFlt;
  const pgmaj = k.vm.pgmajfault;
  // do_read_fault(): the page is not cached: filemap_fault reads it (a major fault, with mmap read-around),
  // then fault-around maps the four pages read-only.
  t.read8(m);
  expect(t.minFlt - f).toBe(0);
  expect(t.majFlt - maj).toBe(1);
  expect(k.vm.pgmajfault - pgmaj).toBe(1);
  f = t.minFlt;
  t.write8(m + 2 * P, 9); // wp_page_shared()
  expect(t.minFlt - f).toBe(1);
  expect(dirty(k)).toBe(1);
  f = t.minFlt;
  t.write8(m + 2 * P + 1, 10); // the PTE is writable and dirty now: no fault
  expect(t.minFlt - f).toBe(0);
  expect(t.fsync(fd)).toBe(0);
  expect([...disk(k).subarray(2 * P, 2 * P + 2)]).toEqual([9, 10]);
  expect(dirty(k)).toBe(0);
  // folio_mkclean() took RW away: the next store faults and dirties the page again, and fsync writes it.
  f = t.minFlt;
  t.write8(m + 2 * P + 2, 11);
  expect(t.minFlt - f).toBe(1);
  expect(dirty(k)).toBe(1);
  expect(disk(k)[2 * P + 2]).toBe((2 * P + 2) % 251);
  t.fsync(fd);
  expect(disk(k)[2 * P + 2]).toBe(11);
  // A first store to an unmapped page of the mapping is do_shared_fault(): one fault, mapped writable.
  const m2 = t.mmap(0, 4 * P, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  f = t.minFlt;
  t.write8(m2 + 3 * P, 12);
  t.write8(m2 + 3 * P + 1, 13);
  expect(t.minFlt - f).toBe(1);
  expect(t.read8(m + 3 * P)).toBe(12);
});

test('mprotect of a dirty shared page back to writable needs no fault (can_change_shared_pte_writable); a clean one does', () => {
  const { t, fd } = setup();
  const m = t.mmap(0, 2 * P, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  t.write8(m, 1);
  t.read8(m + P);
  expect(t.mprotect(m, 2 * P, PROT_READ)).toBe(0);
  expect(t.mprotect(m, 2 * P, PROT_READ | PROT_WRITE)).toBe(0);
  let f = t.minFlt;
  t.write8(m + 1, 2);
  expect(t.minFlt - f).toBe(0);
  f = t.minFlt;
  t.write8(m + P, 3);
  expect(t.minFlt - f).toBe(1);
});

test('MAP_PRIVATE stores copy the page and never reach the file, even after msync and fsync', () => {
  const { k, t, fd, bytes } = setup();
  const m = t.mmap(0, 4 * P, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
  const buf = t.mmap(0, P, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  const anon0 = k.vm.nrAnonMapped;
  t.write32(m + 100, 0xdeadbeef);
  expect(k.vm.nrAnonMapped - anon0).toBe(1);
  expect(t.read32(m + 100)).toBe(0xdeadbeef);
  expect(t.msync(m, 4 * P, MS_SYNC)).toBe(0);
  expect(t.fsync(fd)).toBe(0);
  expect(dirty(k)).toBe(0);
  expect(disk(k)).toEqual(bytes);
  t.pread(fd, buf, 4, 100);
  expect([...t.readBytes(buf, 4)]).toEqual([...bytes.subarray(100, 104)]);
  // A write() to the file shows through the private mapping's pages not yet copied, not through the copied one.
  t.writeBytes(buf, [7, 7, 7, 7]);
  t.pwrite(fd, buf, 4, P);
  t.pwrite(fd, buf, 4, 100);
  expect(t.read8(m + P)).toBe(7);
  expect(t.read32(m + 100)).toBe(0xdeadbeef);
});

test('two processes mapping one file MAP_SHARED see each other’s stores; fork shares the mapping', () => {
  const { k, t, fd } = setup();
  const u = k.spawn('/bin/tiny', ['tiny']);
  const ufd = u.open(PATH, O_RDWR);
  const a = t.mmap(0, 4 * P, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  const b = u.mmap(0, 4 * P, PROT_READ | PROT_WRITE, MAP_SHARED, ufd, P);
  t.write32(a + 2 * P + 8, 0x11223344);
  expect(u.read32(b + P + 8)).toBe(0x11223344);
  u.write32(b, 0x55667788);
  expect(t.read32(a + P)).toBe(0x55667788);
  const c = t.fork();
  c.write8(a + 3 * P, 0xaa);
  expect(t.read8(a + 3 * P)).toBe(0xaa);
  expect(u.read8(b + 2 * P)).toBe(0xaa);
  c.exit(0);
  t.wait();
  // Both the tasks' mappings were written back by one fsync: the pages are the file's.
  u.fsync(ufd);
  expect(disk(k)[2 * P + 8]).toBe(0x44);
  expect(disk(k)[P]).toBe(0x88);
  expect(disk(k)[3 * P]).toBe(0xaa);
  // After writeback both tasks' PTEs are write-protected: each faults once on its next store.
  const ft = t.minFlt;
  const fu = u.minFlt;
  t.write8(a + P + 1, 1);
  u.write8(b + 1, 2);
  expect([t.minFlt - ft, u.minFlt - fu]).toEqual([1, 1]);
});

test('the mapping holds the file: close and unlink keep it; the last munmap frees the inode and its pages', () => {
  const { k, t, fd } = setup();
  const ino = k.fs.lookup(PATH)!.ino;
  const files0 = k.vm.nrFilePages;
  const m = t.mmap(0, 4 * P, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  expect(t.close(fd)).toBe(0);
  expect(t.unlink(PATH)).toBe(0);
  expect(t.read8(m + 5)).toBe(5);
  t.write8(m + 6, 66);
  expect(t.read8(m + 6)).toBe(66);
  expect(k.vm.fs.byIno(ino)).toBeDefined();
  expect(k.proc.read(`/proc/${t.pid}/maps`)).toContain(`${PATH} (deleted)`);
  expect(k.vm.nrFilePages - files0).toBe(4);
  t.munmap(m, 4 * P);
  expect(k.vm.fs.byIno(ino)).toBeUndefined();
  expect(k.vm.nrFilePages).toBe(files0);
  expect(dirty(k)).toBe(0);
});

test('SIGBUS for a page wholly past i_size: BusError, the task dies with signal 7, no message; the partial last page reads zeros', () => {
  const k = bootWithProgram();
  k.fs.writeFile(PATH, new Uint8Array(P + 10).fill(0x61));
  const t = k.spawn('/bin/tiny', ['tiny']);
  const fd = t.open(PATH, O_RDONLY);
  const m = t.mmap(0, 3 * P, PROT_READ, MAP_PRIVATE, fd, 0);
  expect(t.read8(m + P + 9)).toBe(0x61);
  expect(t.read8(m + P + 10)).toBe(0);
  expect(t.read8(m + 2 * P - 1)).toBe(0);
  // read() into a buffer past the end: copy_to_user fails, -EFAULT, no signal.
  const fd2 = t.open(PATH, O_RDWR);
  const w = t.mmap(0, 3 * P, PROT_READ | PROT_WRITE, MAP_SHARED, fd2, 0);
  expect(t.pread(fd, w + 2 * P, 4, 0)).toBe(-EFAULT);
  expect(t.exited).toBe(false);
  const lines = k.dmesg().length;
  const pgfault = k.vm.pgfault;
  const minflt = t.minFlt;
  let err: unknown;
  try {
    t.read8(m + 2 * P + 5);
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(BusError);
  // The public API exports the same class and the msync flags.
  expect(err).toBeInstanceOf(PublicBusError);
  expect(PUBLIC_MS_SYNC).toBe(MS_SYNC);
  expect((err as BusError).signal).toBe(7);
  expect((err as BusError).address).toBe(m + 2 * P + 5);
  expect(t.exited).toBe(true);
  expect(t.exitCode).toBe(7);
  expect(k.dmesg().length).toBe(lines);
  // handle_mm_fault counted it; mm_account_fault does not count a failed fault as the task's.
  expect(k.vm.pgfault - pgfault).toBe(1);
  expect(t.minFlt).toBe(minflt);
});

test('stores through a shared mapping into the last page past i_size never reach the file, and writeback zeroes them', () => {
  const k = bootWithProgram();
  k.fs.writeFile(PATH, new Uint8Array(100).fill(0x62));
  const t = k.spawn('/bin/tiny', ['tiny']);
  const fd = t.open(PATH, O_RDWR);
  const m = t.mmap(0, P, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  t.write8(m + 50, 1);
  t.write8(m + 200, 2);
  expect(t.read8(m + 200)).toBe(2);
  expect(t.msync(m, P, MS_SYNC)).toBe(0);
  expect(disk(k).length).toBe(100);
  expect(disk(k)[50]).toBe(1);
  expect(t.read8(m + 200)).toBe(0);
});

test('closed or bad descriptors are -EBADF; MAP_ANONYMOUS ignores fd', () => {
  const { t, fd } = setup();
  expect(t.close(fd)).toBe(0);
  expect(t.mmap(0, P, PROT_READ, MAP_SHARED, fd, 0)).toBe(-EBADF);
  expect(t.mmap(0, P, PROT_READ, MAP_SHARED, -1, 0)).toBe(-EBADF);
  // MAP_ANONYMOUS ignores fd.
  expect(t.mmap(0, P, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, 1234, 0)).toBeGreaterThan(0);
});

test('munmap, mremap and mprotect of file VMAs keep vm_pgoff; a moved mapping still maps the same file pages', () => {
  const { k, t, fd } = setup(8);
  const m = t.mmap(0, 6 * P, PROT_READ | PROT_WRITE, MAP_SHARED, fd, P);
  expect(t.munmap(m + 2 * P, P)).toBe(0);
  const lines = k.proc
    .read(`/proc/${t.pid}/maps`)
    .split('\n')
    .filter((l) => l.endsWith(PATH));
  const ino = k.fs.lookup(PATH)!.ino;
  const hex = (n: number) => n.toString(16).padStart(8, '0');
  const line = (a: number, b: number, pg: number) => `${hex(a)}-${hex(b)} rw-s ${hex(pg * P)} fe:00 ${ino}`.padEnd(73) + PATH;
  expect(lines).toEqual([line(m, m + 2 * P, 1), line(m + 3 * P, m + 6 * P, 4)]);
  const n = t.mremap(m + 3 * P, 3 * P, 4 * P, MREMAP_MAYMOVE);
  expect(n).toBeGreaterThan(0);
  expect(t.read8(n)).toBe((4 * P) % 251);
  expect(t.read8(n + 3 * P + 7)).toBe((7 * P + 7) % 251);
  t.write8(n + P, 0x5a);
  const buf = t.mmap(0, P, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  t.pread(fd, buf, 1, 5 * P);
  expect(t.read8(buf)).toBe(0x5a);
});

test('a dirty shared page unmapped by exit stays dirty in the cache and is written by a later fsync', () => {
  const { k, t, fd } = setup();
  const m = t.mmap(0, P, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  t.write8(m + 3, 0xee);
  t.exit(0);
  expect(dirty(k)).toBe(1);
  const u = k.spawn('/bin/tiny', ['tiny']);
  const ufd = u.open(PATH, O_RDONLY);
  expect(u.fsync(ufd)).toBe(0);
  expect(disk(k)[3]).toBe(0xee);
  expect(dirty(k)).toBe(0);
});

test('MAP_SHARED_VALIDATE takes LEGACY_MAP_MASK’s flags and refuses the others with -EOPNOTSUPP (as map_validate.out recorded)', () => {
  const { t, fd } = setup();
  const real = readFileSync(new URL('../fixtures/vm/map_validate.out', import.meta.url), 'utf8')
    .split('\n')
    .filter((l) => /^0x/.test(l));
  const got = real.map((l) => {
    const flag = Number.parseInt(l, 16);
    const r = t.mmap(0, P, PROT_READ, MAP_SHARED_VALIDATE | flag, fd, 0);
    if (r > 0) t.munmap(r, P);
    return `0x${flag.toString(16)}: ${r < 0 ? -r : 0}`;
  });
  expect(got).toEqual(real);
  expect(got).toContain(`0x${MAP_FIXED_NOREPLACE.toString(16)}: ${EOPNOTSUPP}`);
});

test('placement of big file mappings as thp_get_unmapped_area decides (mmap_file_thp.out, the real 6.18 under setarch -R)', () => {
  const k = bootWithProgram();
  k.fs.writeFile('/tmp/kmem_h5_big', new Uint8Array(0));
  const t = k.spawn('/bin/tiny', ['tiny']);
  const fd = t.open('/tmp/kmem_h5_big', O_RDWR);
  t.ftruncate(fd, 16 << 20);
  const sfd = t.open('/dev/shm/kmem_h5_big', O_RDWR | O_CREAT);
  t.ftruncate(sfd, 16 << 20);
  const real = readFileSync(new URL('../fixtures/vm/mmap_file_thp.out', import.meta.url), 'utf8')
    .split('\n')
    .filter((l) => /^(file|shm) /.test(l));
  expect(real.length).toBe(9);
  const got = real.map((l) => {
    const [, kind, len, off] = /^(\w+) len (0x[0-9a-f]+) off (0x[0-9a-f]+|0):/.exec(l)!;
    const a = t.mmap(0, Number(len), PROT_READ, MAP_SHARED, kind === 'shm' ? sfd : fd, Number(off));
    return `${kind} len ${len} off ${off}: 0x${a.toString(16)}`;
  });
  expect(got).toEqual(real);
});

test('fault counts on a shared file mapping match the real 6.18 (mmap_file_faults.out): the major fault’s retry maps the read-around pages', () => {
  const k = bootWithProgram();
  // Written behind the page cache's back: like the real file after POSIX_FADV_DONTNEED, nothing of it is cached.
  k.fs.writeFile('/tmp/kmem_h5_faults', new Uint8Array(64 * P).fill(0x78));
  const t = k.spawn('/bin/tiny', ['tiny']);
  const fd = t.open('/tmp/kmem_h5_faults', O_RDWR);
  const m = t.mmap(0, 64 * P, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  let mn = t.minFlt;
  let mj = t.majFlt;
  const got: string[] = [];
  const show = (what: string) => {
    got.push(`${what}: +${t.minFlt - mn} minor +${t.majFlt - mj} major`);
    mn = t.minFlt;
    mj = t.majFlt;
  };
  t.read8(m);
  show('read page 0');
  const rss = Number(
    /^Rss:\s+(\d+) kB$/m.exec(
      k.proc
        .read(`/proc/${t.pid}/smaps`)
        .split(/^(?=[0-9a-f]+-)/m)
        .find((b) => Number.parseInt(b, 16) === m)!,
    )![1],
  );
  got.push(`Rss of the mapping: ${rss} kB`);
  t.read8(m + P);
  t.read8(m + 15 * P);
  show('read pages 1 and 15');
  t.write8(m + 2 * P, 1);
  show('store page 2');
  t.write8(m + 2 * P + 1, 1);
  show('store page 2 again');
  t.write8(m + 3 * P, 1);
  show('store page 3');
  t.fsync(fd);
  show('fsync');
  t.write8(m + 2 * P, 2);
  show('store page 2 after fsync');
  t.write8(m + 3 * P, 2);
  show('store page 3 after fsync');
  t.read8(m + 2 * P);
  show('read page 2');
  const real = readFileSync(new URL('../fixtures/vm/mmap_file_faults.out', import.meta.url), 'utf8').split('\n');
  // (The real program's "smaps" line counts the faults of its own reading of smaps.)
  expect(got).toEqual(real.slice(real.findIndex((l) => l.startsWith('read page 0'))).filter((l) => l !== '' && !l.startsWith('smaps:')));
});

test('mremap with old_len 0 duplicates a shared file mapping; -ENOMEM without MAYMOVE, -EINVAL and a warning once for a private one (mremap_dup.out)', () => {
  const k = bootWithProgram();
  k.fs.writeFile('/tmp/kmem_h5_dup', new Uint8Array(4 * P));
  const t = k.spawn('/bin/tiny', ['tiny']);
  const fd = t.open('/tmp/kmem_h5_dup', O_RDWR);
  const a = t.mmap(0, 4 * P, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  const b = t.mremap(a + P, 0, 2 * P, MREMAP_MAYMOVE);
  const got = [`a 0x${a.toString(16)} dup 0x${b.toString(16)}`];
  t.write8(b, 'D'.charCodeAt(0));
  got.push(`a[4096] = ${String.fromCharCode(t.read8(a + P))}`);
  got.push(`no MAYMOVE: ${-t.mremap(a + P, 0, 2 * P, 0)}`);
  const p = t.mmap(0, P, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  const lines = k.dmesg().length;
  got.push(`private: ${-t.mremap(p, 0, P, MREMAP_MAYMOVE)}`);
  expect(k.dmesg().slice(lines).join('\n')).toContain(`tiny (${t.pid}): attempted to duplicate a private mapping with mremap.  This is not supported.`);
  expect(t.mremap(p, 0, P, MREMAP_MAYMOVE)).toBe(-22);
  expect(
    k
      .dmesg()
      .slice(lines)
      .filter((l) => l.includes('attempted to duplicate')).length,
  ).toBe(1);
  for (const l of k.proc.read(`/proc/${t.pid}/maps`).split('\n')) if (l.includes('kmem_h5')) got.push(l.replace(/ fe:00 \d+ +/, ' fe:00 INO '));
  // A move to 2 MiB: shmem's get_unmapped_area for shared anonymous memory (no THP alignment), the anonymous one for private, the file's for a file.
  const z = t.mmap(0, P, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  const q = t.mmap(0, P, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  got.push(`shared anon 0x${z.toString(16)} moved to 0x${t.mremap(z, P, 2 << 20, MREMAP_MAYMOVE).toString(16)}`);
  got.push(`private anon 0x${q.toString(16)} moved to 0x${t.mremap(q, P, 2 << 20, MREMAP_MAYMOVE).toString(16)}`);
  got.push(`file 0x${a.toString(16)} moved to 0x${t.mremap(a, 4 * P, 4 << 20, MREMAP_MAYMOVE).toString(16)}`);
  const real = readFileSync(new URL('../fixtures/vm/mremap_dup.out', import.meta.url), 'utf8')
    .split('\n')
    .filter((l) => l !== '' && !l.startsWith('#'))
    .map((l) => l.replace(/ fe:00 \d+ +/, ' fe:00 INO '));
  expect(got).toEqual(real);
});
