/**
 * The calls of test/fixtures/vm/mmap_file.c replayed through a Task and
 * compared with what this machine's Linux 6.18 printed (mmap_file.out, run
 * under setarch -R): the addresses mmap chose, every errno, the bytes seen
 * through the mappings and read(), SIGBUS past the end of the file, and the
 * /proc/PID/maps lines of the file, /dev/shm and shared anonymous mappings,
 * byte for byte but for inode numbers. The real program catches SIGBUS with
 * a handler; kmem has no signal handlers, so each access that may raise it is
 * made by a forked child (same mappings), as the probe's outcome.
 */
import { readFileSync } from 'node:fs';
import { expect, test } from 'vitest';
import { O_CREAT, O_DIRECTORY, O_RDONLY, O_RDWR, O_TRUNC, O_WRONLY } from '../../src/fs/fcntl.js';
import type { Kernel } from '../../src/kernel.js';
import { BusError, Segfault } from '../../src/vm/fault.js';
import type { Task } from '../../src/vm/fork.js';
import {
  MAP_ANONYMOUS,
  MAP_FIXED,
  MAP_GROWSDOWN,
  MAP_PRIVATE,
  MAP_SHARED,
  MAP_SHARED_VALIDATE,
  MREMAP_MAYMOVE,
  MS_ASYNC,
  MS_INVALIDATE,
  MS_SYNC,
  PROT_NONE,
  PROT_READ,
  PROT_WRITE,
} from '../../src/vm/mman.js';
import { bootWithProgram } from './helpers.js';

const P = 4096;
/** scratch bytes in the tiny program's bss (what the C program keeps in `c`) */
const SCRATCH = 0x403000;
const real = readFileSync(new URL('../fixtures/vm/mmap_file.out', import.meta.url), 'utf8').split('\n');
const noIno = (l: string) => l.replace(/ ([0-9a-f]{2}:[0-9a-f]{2}) \d+ +/, ' $1 INO ');

/** smaps lines the real program printed: a VMA's head line and its memory fields */
const SMAPS_LINE = /^([0-9a-f]+-|Rss:|Pss:|Shared_|Private_|Anonymous:|VmFlags)/;

/** The lines the real program printed after "== title", up to the next header or message. */
function realBlock(title: string): string[] {
  const i = real.indexOf(`== ${title}`);
  expect(i).toBeGreaterThan(0);
  const r: string[] = [];
  for (let j = i + 1; j < real.length && SMAPS_LINE.test(real[j]!); j++) r.push(noIno(real[j]!));
  return r;
}

/** The same fields of /proc/PID/smaps for the VMA that starts at lo. */
function smaps(k: Kernel, t: Task, lo: number): string[] {
  const r: string[] = [];
  let show = false;
  for (const l of k.proc.read(`/proc/${t.pid}/smaps`).split('\n')) {
    if (/^[0-9a-f]+-/.test(l)) {
      show = Number.parseInt(l, 16) === lo;
      if (show) r.push(noIno(l));
    } else if (show && SMAPS_LINE.test(l)) r.push(l);
  }
  return r;
}
const realLine = (prefix: string) => real.find((l) => l.startsWith(prefix));

function maps(k: Kernel, t: Task): string[] {
  return k.proc
    .read(`/proc/${t.pid}/maps`)
    .split('\n')
    .filter((l) => l.includes('kmem_h5') || l.includes('/dev/zero'))
    .map(noIno);
}

/** The signal an access by a copy of t raises: 0, 7 (SIGBUS) or 11 (SIGSEGV). */
function probe(t: Task, va: number, write: boolean): number {
  const c = t.fork();
  let sig = 0;
  try {
    if (write) c.write8(va, 0x77);
    else c.read8(va);
    c.exit(0);
  } catch (e) {
    if (e instanceof BusError) sig = e.signal;
    else if (e instanceof Segfault) sig = e.signal;
    else throw e;
  }
  t.wait();
  return sig;
}

const errnoOf = (r: number) => (r < 0 ? -r : 0);
const ch = (n: number) => String.fromCharCode(n);

test('mmap of a file, msync, SIGBUS, truncate, merging, /dev/shm and unlink replayed against the real 6.18', () => {
  const k = bootWithProgram();
  const bytes = new Uint8Array(3 * P + 100);
  for (let i = 0; i < bytes.length; i++) bytes[i] = 97 + (i % 26);
  k.fs.writeFile('/tmp/kmem_h5_file', bytes);
  const t = k.spawn('/bin/tiny', ['tiny']);
  const fd = t.open('/tmp/kmem_h5_file', O_RDWR);
  const s = t.mmap(0, 5 * P, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  const p = t.mmap(0, 2 * P, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, P);
  expect(`shared 0x${s.toString(16)} private 0x${p.toString(16)}`).toBe(realLine('shared 0x'));
  expect(maps(k, t)).toEqual(realBlock('mapped'));

  const ro = t.open('/tmp/kmem_h5_file', O_RDONLY);
  const wo = t.open('/tmp/kmem_h5_file', O_WRONLY);
  const dir = t.open('/tmp', O_RDONLY | O_DIRECTORY);
  expect(`errno shared rw on O_RDONLY: ${errnoOf(t.mmap(0, P, PROT_READ | PROT_WRITE, MAP_SHARED, ro, 0))}`).toBe(realLine('errno shared rw on O_RDONLY'));
  const r = t.mmap(0, P, PROT_READ, MAP_SHARED, ro, 0);
  expect(`errno shared r on O_RDONLY: ${errnoOf(r)}, then mprotect rw: ${errnoOf(t.mprotect(r, P, PROT_READ | PROT_WRITE))}`).toBe(
    realLine('errno shared r on O_RDONLY'),
  );
  expect(maps(k, t)).toEqual(realBlock('shared read-only on an O_RDONLY fd'));
  t.munmap(r, P);
  const e = (label: string, v: number) => expect(`errno ${label}: ${errnoOf(v)}`).toBe(realLine(`errno ${label}:`));
  e('private r on O_WRONLY', t.mmap(0, P, PROT_READ, MAP_PRIVATE, wo, 0));
  e('shared w on O_WRONLY', t.mmap(0, P, PROT_WRITE, MAP_SHARED, wo, 0));
  e('private rw on O_RDONLY', t.mmap(0, P, PROT_READ | PROT_WRITE, MAP_PRIVATE, ro, 0));
  e('bad fd', t.mmap(0, P, PROT_READ, MAP_SHARED, 99, 0));
  e('unaligned offset', t.mmap(0, P, PROT_READ, MAP_SHARED, fd, 100));
  e('unaligned offset, bad fd', t.mmap(0, P, PROT_READ, MAP_SHARED, 99, 100));
  e('directory', t.mmap(0, P, PROT_READ, MAP_PRIVATE, dir, 0));
  e('len 0', t.mmap(0, 0, PROT_READ, MAP_SHARED, fd, 0));
  e('bad type', t.mmap(0, P, PROT_READ, 0, fd, 0));
  e('growsdown', t.mmap(0, P, PROT_READ, MAP_PRIVATE | MAP_GROWSDOWN, fd, 0));
  e('validate unknown flag', t.mmap(0, P, PROT_READ, MAP_SHARED_VALIDATE | 0x200000, fd, 0));
  e('shared unknown flag', t.mmap(0, P, PROT_READ, MAP_SHARED | 0x200000, fd, 0));
  t.close(ro);
  t.close(wo);
  t.close(dir);

  const pread1 = (f: number, off: number) => {
    t.pread(f, SCRATCH, 1, off);
    return ch(t.read8(SCRATCH));
  };
  t.write8(s, 'X'.charCodeAt(0));
  expect(`shared write seen by pread: ${pread1(fd, 0)}`).toBe(realLine('shared write seen by pread'));
  t.write8(p, 'Y'.charCodeAt(0));
  expect(`private write, pread sees: ${pread1(fd, P)}, shared sees: ${ch(t.read8(s + P))}`).toBe(realLine('private write, pread sees'));
  t.write8(s + P + 1, 'Q'.charCodeAt(0));
  expect(`shared write after private COW, private sees: ${ch(t.read8(p + 1))}`).toBe(realLine('shared write after private COW'));
  expect(`shared byte past EOF in the last page: ${t.read8(s + 3 * P + 100)}`).toBe(realLine('shared byte past EOF'));
  t.write8(s + 3 * P + 200, 'Z'.charCodeAt(0));
  expect(smaps(k, t, s)).toEqual(realBlock('smaps shared, dirty'));
  expect(smaps(k, t, p)).toEqual(realBlock('smaps private'));
  expect(`msync MS_SYNC: ${errnoOf(t.msync(s, 5 * P, MS_SYNC))}`).toBe(realLine('msync MS_SYNC'));
  expect(smaps(k, t, s)).toEqual(realBlock('smaps shared, after msync'));
  const size = k.fs.readFile('/tmp/kmem_h5_file')!.length;
  expect(`size after msync: ${size}, byte past EOF now ${t.read8(s + 3 * P + 200)}`).toBe(realLine('size after msync'));
  expect(`read page 4 (past EOF): signal ${probe(t, s + 4 * P, false)}`).toBe(realLine('read page 4'));
  expect(`write page 4 (past EOF): signal ${probe(t, s + 4 * P, true)}`).toBe(realLine('write page 4'));
  expect(`read page 3 (partial): signal ${probe(t, s + 3 * P + 4000, false)}`).toBe(realLine('read page 3'));

  const m = (label: string, v: number) => expect(`msync ${label}: ${errnoOf(v)}`).toBe(realLine(`msync ${label}:`));
  m('unaligned', t.msync(s + 1, P, MS_SYNC));
  m('ASYNC|SYNC', t.msync(s, P, MS_SYNC | MS_ASYNC));
  m('bad flag', t.msync(s, P, 8));
  m('len 0', t.msync(s, 0, MS_SYNC));
  m('MS_ASYNC', t.msync(s, P, MS_ASYNC));
  m('MS_INVALIDATE', t.msync(s, P, MS_INVALIDATE));
  const hole = t.mmap(0, 3 * P, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  t.munmap(hole + P, P);
  expect(
    `msync over a hole SYNC: ${errnoOf(t.msync(hole, 3 * P, MS_SYNC))}, ASYNC: ${errnoOf(t.msync(hole, 3 * P, MS_ASYNC))}, INVALIDATE: ${errnoOf(t.msync(hole, 3 * P, MS_INVALIDATE))}`,
  ).toBe(realLine('msync over a hole'));
  m('unmapped', t.msync(hole + P, P, MS_SYNC));
  t.mlock(hole, P);
  expect(`msync MS_INVALIDATE on locked: ${errnoOf(t.msync(hole, P, MS_INVALIDATE))}, MS_SYNC: ${errnoOf(t.msync(hole, P, MS_SYNC))}`).toBe(
    realLine('msync MS_INVALIDATE on locked'),
  );
  t.munmap(hole, 3 * P);

  const c = t.fork();
  c.write8(s + 2, 'C'.charCodeAt(0));
  c.exit(0);
  t.wait();
  expect(`child wrote through the shared mapping: ${ch(t.read8(s + 2))}; private copy ${ch(t.read8(p + 2))}`).toBe(realLine('child wrote'));

  t.ftruncate(fd, P + 10);
  expect(
    `after ftruncate to ${P + 10}: page 2 read signal ${probe(t, s + 2 * P, false)}, private page 1 (pgoff 2) read signal ${probe(t, p + P, false)}, private page 0 read signal ${probe(t, p, false)}, shared page 1 read signal ${probe(t, s + P + 20, false)}`,
  ).toBe(realLine('after ftruncate to'));
  expect(`shared byte past the new EOF: ${t.read8(s + P + 20)}`).toBe(realLine('shared byte past the new EOF'));
  expect(maps(k, t)).toEqual(realBlock('after ftruncate'));

  t.ftruncate(fd, 8 * P);
  const area = t.mmap(0, 6 * P, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  expect(t.mmap(area, 2 * P, PROT_READ, MAP_SHARED | MAP_FIXED, fd, 0)).toBe(area);
  expect(t.mmap(area + 2 * P, 2 * P, PROT_READ, MAP_SHARED | MAP_FIXED, fd, 2 * P)).toBe(area + 2 * P);
  expect(t.mmap(area + 4 * P, 2 * P, PROT_READ, MAP_SHARED | MAP_FIXED, fd, 5 * P)).toBe(area + 4 * P);
  expect(`area 0x${area.toString(16)}`).toBe(realLine('area 0x'));
  expect(maps(k, t)).toEqual(realBlock('adjacent file mappings'));
  t.mprotect(area + P, P, PROT_NONE);
  expect(maps(k, t)).toEqual(realBlock('mprotect one page'));
  t.mprotect(area + P, P, PROT_READ);
  expect(maps(k, t)).toEqual(realBlock('mprotect back'));
  t.munmap(area, 6 * P);

  const sfd = t.open('/dev/shm/kmem_h5', O_RDWR | O_CREAT | O_TRUNC, 0o600);
  t.ftruncate(sfd, 3 * P);
  const shm = t.mmap(0, 4 * P, PROT_READ | PROT_WRITE, MAP_SHARED, sfd, 0);
  const mp = t.mmap(0, 2 * P, PROT_READ | PROT_WRITE, MAP_PRIVATE, sfd, 0);
  const rssShmem = () => Number(/^RssShmem:\s+(\d+) kB$/m.exec(k.proc.read(`/proc/${t.pid}/status`))![1]);
  const sh0 = rssShmem();
  t.write8(shm, 'S'.charCodeAt(0));
  t.write8(shm + P, 'T'.charCodeAt(0));
  t.read8(shm + 2 * P);
  expect(`shm 0x${shm.toString(16)} private 0x${mp.toString(16)}: RssShmem +${rssShmem() - sh0} kB`).toBe(realLine('shm 0x'));
  expect(`shm pread: ${pread1(sfd, P)}; private sees ${ch(t.read8(mp))}`).toBe(realLine('shm pread'));
  t.write8(mp, 'U'.charCodeAt(0));
  expect(`shm private write, pread sees ${pread1(sfd, 0)}`).toBe(realLine('shm private write'));
  expect(`shm page 3 read signal ${probe(t, shm + 3 * P, false)}`).toBe(realLine('shm page 3'));
  expect(`shm msync: ${errnoOf(t.msync(shm, 3 * P, MS_SYNC))}`).toBe(realLine('shm msync'));
  expect(maps(k, t)).toEqual(realBlock('shm'));

  const z = t.mmap(0, 2 * P, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  t.write8(z, 1);
  const z2 = t.mremap(z, 2 * P, 4 * P, MREMAP_MAYMOVE);
  expect(`shared anon grown by mremap: page 1 signal ${probe(t, z2 + P, false)}, page 3 signal ${probe(t, z2 + 3 * P, false)}`).toBe(
    realLine('shared anon grown by mremap'),
  );
  expect(maps(k, t)).toEqual(realBlock('shared anon grown'));

  t.unlink('/tmp/kmem_h5_file');
  t.unlink('/dev/shm/kmem_h5');
  expect(maps(k, t)).toEqual(realBlock('unlinked'));
  t.close(fd);
  t.close(sfd);
  expect(maps(k, t)).toEqual(realBlock('closed'));
  // The last reference goes with the process: every page-cache and shmem page of the two files and the /dev/zero inode.
  t.exit(0);
  expect(k.vm.nrShmem).toBe(0);
  expect(k.vm.fs.list()).not.toContain('/tmp/kmem_h5_file');
});
