/**
 * shmem swap-out (mm/shmem.c shmem_writeout, shmem_swapin_folio): tmpfs and
 * MAP_SHARED|MAP_ANONYMOUS pages reclaimed to swap and read back, with the
 * meminfo counters the kernel moves (Shmem, SwapCached, SwapFree) worked
 * out by hand beside each step.
 */
import { describe, expect, test } from 'vitest';
import { O_CREAT, O_RDWR } from '../../src/fs/fcntl.js';
import { boot, type Kernel } from '../../src/kernel.js';
import type { Task } from '../../src/vm/fork.js';
import { MADV_PAGEOUT, MAP_ANONYMOUS, MAP_PRIVATE, MAP_SHARED, PROT_READ, PROT_WRITE } from '../../src/vm/mman.js';
import { shmemOf } from '../../src/vm/shmem.js';
import { meminfoKb as meminfo, pagePattern as pattern, tinyElf, vmstatValue as vmstat } from './helpers.js';
import { recountLru } from './lru_check.js';

const P = 4096;

function machine(opts: object = {}): Kernel {
  const k = boot({ memory: '64M', cpus: 1, seed: 1, aslr: 0, swap: '256M', ...opts });
  k.fs.writeFile('/bin/tiny', tinyElf());
  return k;
}

function same(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

function shared(t: Task, pages: number): number {
  const a = t.mmap(0, pages * P, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  expect(a).toBeGreaterThan(0);
  return a;
}

describe('shmem pages to swap and back', () => {
  test('MADV_PAGEOUT of a shared anonymous mapping: the pages go to swap, Shmem falls, every byte comes back on access', () => {
    const k = machine();
    const t = k.spawn('/bin/tiny');
    const n = 64;
    const a = shared(t, n);
    // 63 pages of bytes and one left all zeros (written with zeros: dirty, but is_folio_zero_filled).
    for (let i = 0; i < n - 1; i++) t.writeBytes(a + i * P, pattern(i + 1));
    t.writeBytes(a + (n - 1) * P, new Uint8Array(P));
    const shmem0 = meminfo(k, 'Shmem');
    const free0 = meminfo(k, 'SwapFree');
    const cached0 = meminfo(k, 'Cached');
    expect(t.madvise(a, n * P, MADV_PAGEOUT)).toBe(0);
    // shmem_writeout for each: a slot (the inode's reference), out of the page cache, written (pswpout) or, for the
    // zero page, marked in the zeromap (swpout_zero); then reclaim frees it from the swap cache.
    expect(meminfo(k, 'Shmem')).toBe(shmem0 - n * 4);
    expect(meminfo(k, 'SwapFree')).toBe(free0 - n * 4);
    expect(meminfo(k, 'SwapCached')).toBe(0);
    expect(meminfo(k, 'Cached')).toBe(cached0 - n * 4);
    expect(vmstat(k, 'pswpout')).toBe(n - 1);
    expect(vmstat(k, 'swpout_zero')).toBe(1);
    expect(vmstat(k, 'nr_shmem')).toBe(shmem0 / 4 - n);
    const ino = [...shmemOf(k.vm).swapped.keys()][0]!;
    expect(shmemOf(k.vm).nrSwapped(ino)).toBe(n);
    // RssShmem: the PTEs were cleared.
    expect(/^RssShmem:\s+0 kB$/m.test(k.proc.read(`/proc/${t.pid}/status`))).toBe(true);
    // The first access reads a swap-readahead window (page-cluster 3: the aligned 8 slots around it) into the swap
    // cache; the faulting page goes back to the page cache dirty and its slot is freed; the other seven wait in the
    // swap cache (SwapCached) until their own access.
    const pswpin0 = vmstat(k, 'pswpin');
    expect(same(t.readBytes(a, P), pattern(1))).toBe(true);
    expect(meminfo(k, 'Shmem')).toBe(shmem0 - (n - 1) * 4);
    expect(vmstat(k, 'pswpin') - pswpin0).toBeGreaterThanOrEqual(1);
    for (let i = 1; i < n - 1; i++) expect(same(t.readBytes(a + i * P, P), pattern(i + 1))).toBe(true);
    expect(same(t.readBytes(a + (n - 1) * P, P), new Uint8Array(P))).toBe(true);
    // Everything back: the page cache holds all of it again, every slot free, nothing cached.
    expect(meminfo(k, 'Shmem')).toBe(shmem0);
    expect(meminfo(k, 'SwapFree')).toBe(free0);
    expect(meminfo(k, 'SwapCached')).toBe(0);
    expect(vmstat(k, 'pswpin') - pswpin0).toBe(n - 1);
    expect(vmstat(k, 'swpin_zero')).toBe(1);
    expect(shmemOf(k.vm).nrSwapped(ino)).toBe(0);
    recountLru(k);
  });

  test('a tmpfs file under memory pressure: reclaim swaps its pages out, read() brings them back intact', () => {
    const k = machine();
    const t = k.spawn('/bin/tiny');
    const n = 2048; // 8 MiB of tmpfs
    const buf = t.mmap(0, P, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    const fd = t.open('/dev/shm/big', O_RDWR | O_CREAT);
    expect(fd).toBeGreaterThanOrEqual(0);
    for (let i = 0; i < n; i++) {
      t.writeBytes(buf, pattern(i + 7));
      expect(t.pwrite(fd, buf, P, i * P)).toBe(P);
    }
    const ino = k.fs.lookup('/dev/shm/big')!.ino;
    expect(meminfo(k, 'Shmem')).toBeGreaterThanOrEqual(n * 4);
    // Anonymous memory well past RAM: reclaim scans the anon LRU, where shmem pages live, and swaps both kinds.
    const m = 20000;
    const a = t.mmap(0, m * P, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    for (let i = 0; i < m; i++) t.write32(a + i * P, i + 1);
    const out = shmemOf(k.vm).nrSwapped(ino);
    expect(out).toBeGreaterThan(0);
    // Each swapped-out page is off the page cache: Shmem counts the resident ones only.
    const resident = k.vm.pageCache;
    let inCache = 0;
    for (let i = 0; i < n; i++) if (resident.has(ino * 2 ** 32 + i)) inCache++;
    expect(inCache + out).toBe(n);
    // Swap holds the anon swap entries and shmem's: SwapTotal - SwapFree = their slots (plus those the swap cache still holds).
    recountLru(k);
    for (let i = 0; i < m; i += 97) expect(t.read32(a + i * P)).toBe(i + 1);
    for (let i = 0; i < n; i++) {
      expect(t.pread(fd, buf, P, i * P)).toBe(P);
      if (!same(t.readBytes(buf, P), pattern(i + 7))) throw new Error(`tmpfs page ${i} changed`);
    }
    expect(shmemOf(k.vm).nrSwapped(ino)).toBeLessThan(out);
    recountLru(k);
  });

  test('truncate and unlink let the swapped-out pages go: their slots are freed', () => {
    const k = machine();
    const t = k.spawn('/bin/tiny');
    const buf = t.mmap(0, P, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    const fd = t.open('/dev/shm/tr', O_RDWR | O_CREAT);
    for (let i = 0; i < 16; i++) {
      t.writeBytes(buf, pattern(i + 100));
      t.pwrite(fd, buf, P, i * P);
    }
    const free0 = meminfo(k, 'SwapFree');
    const a = t.mmap(0, 16 * P, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    // Map the file and page it out through the mapping (each page mapped once: MADV_PAGEOUT takes it).
    for (let i = 0; i < 16; i++) t.read8(a + i * P);
    expect(t.madvise(a, 16 * P, MADV_PAGEOUT)).toBe(0);
    expect(meminfo(k, 'SwapFree')).toBe(free0 - 64);
    // ftruncate to 8 pages: shmem_undo_range frees the 8 entries past it.
    expect(t.ftruncate(fd, 8 * P)).toBe(0);
    expect(meminfo(k, 'SwapFree')).toBe(free0 - 32);
    expect(same(t.readBytes(a + 7 * P, P), pattern(107))).toBe(true);
    expect(meminfo(k, 'SwapFree')).toBe(free0 - 28);
    // Unlink, close and unmap: the inode goes, and its last swap entries with it.
    expect(t.munmap(a, 16 * P)).toBe(0);
    expect(t.unlink('/dev/shm/tr')).toBe(0);
    expect(t.close(fd)).toBe(0);
    expect(meminfo(k, 'SwapFree')).toBe(free0);
    expect(meminfo(k, 'SwapCached')).toBe(0);
  });

  test('swapoff brings shmem pages back into the page cache (shmem_unuse)', () => {
    const k = machine();
    const t = k.spawn('/bin/tiny');
    const n = 32;
    const a = shared(t, n);
    for (let i = 0; i < n; i++) t.writeBytes(a + i * P, pattern(i + 50));
    const shmem0 = meminfo(k, 'Shmem');
    expect(t.madvise(a, n * P, MADV_PAGEOUT)).toBe(0);
    expect(meminfo(k, 'Shmem')).toBe(shmem0 - n * 4);
    expect(k.swapoff()).toBe(0);
    expect(meminfo(k, 'Shmem')).toBe(shmem0);
    expect(meminfo(k, 'SwapCached')).toBe(0);
    expect(meminfo(k, 'SwapTotal')).toBe(0);
    const major = vmstat(k, 'pgmajfault');
    for (let i = 0; i < n; i++) expect(same(t.readBytes(a + i * P, P), pattern(i + 50))).toBe(true);
    // Back in the page cache: the faults are minor.
    expect(vmstat(k, 'pgmajfault')).toBe(major);
    recountLru(k);
  });

  test('without swap shmem pages stay: reclaim never scans the anon LRU they are on', () => {
    const k = boot({ memory: '64M', cpus: 1, seed: 1, aslr: 0 });
    k.fs.writeFile('/bin/tiny', tinyElf());
    const t = k.spawn('/bin/tiny');
    const a = shared(t, 16);
    for (let i = 0; i < 16; i++) t.writeBytes(a + i * P, pattern(i + 9));
    const shmem0 = meminfo(k, 'Shmem');
    // MADV_PAGEOUT still tries (reclaim_pages): shmem_writeout finds no swap and redirties; the pages stay.
    expect(t.madvise(a, 16 * P, MADV_PAGEOUT)).toBe(0);
    expect(meminfo(k, 'Shmem')).toBe(shmem0);
    for (let i = 0; i < 16; i++) expect(same(t.readBytes(a + i * P, P), pattern(i + 9))).toBe(true);
  });
});
