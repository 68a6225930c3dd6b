/**
 * Overcommit (mm/util.c __vm_enough_memory): mode 0 refuses one charge larger
 * than RAM + swap (test/fixtures/vm/overcommit.out: on a 23.5 GiB machine a
 * 23 GiB private writable mapping is made and 24 GiB refused, MAP_NORESERVE
 * and read-only mappings are not charged); mode 1 never refuses; mode 2 keeps
 * Committed_AS under CommitLimit (overcommit_ratio % of RAM + swap).
 */
import { expect, test } from 'vitest';
import { ENOMEM, MAP_ANONYMOUS, MAP_NORESERVE, MAP_PRIVATE, PROT_READ, PROT_WRITE } from '../../src/vm/mman.js';
import { bootWithProgram } from './helpers.js';

const RW = PROT_READ | PROT_WRITE;
const ANON = MAP_PRIVATE | MAP_ANONYMOUS;

test('mode 0: a charge larger than RAM is -ENOMEM; NORESERVE and read-only mappings are not charged', () => {
  const k = bootWithProgram();
  const t = k.spawn('/bin/tiny', ['tiny']);
  const ram = k.vm.totalramPages() * 4096;
  const a = t.mmap(0, ram, RW, ANON, -1, 0);
  expect(a).toBeGreaterThan(0);
  t.munmap(a, ram);
  expect(t.mmap(0, ram + 4096, RW, ANON, -1, 0)).toBe(-ENOMEM);
  expect(k.dmesg().some((l) => l.includes(`__vm_enough_memory: pid: ${t.pid}, comm: tiny, bytes: ${ram + 4096} not enough memory for the allocation`))).toBe(
    true,
  );
  expect(t.mmap(0, 2 ** 40, RW, ANON | MAP_NORESERVE, -1, 0)).toBeGreaterThan(0);
  expect(t.mmap(0, 2 ** 40, PROT_READ, ANON, -1, 0)).toBeGreaterThan(0);
  // brk is charged too.
  expect(t.brk(t.brk(0) + ram + 4096)).toBe(t.brk(0));
  k.vm.overcommitMemory = 1;
  expect(t.mmap(0, 2 ** 40, RW, ANON, -1, 0)).toBeGreaterThan(0);
});

test('mode 2: Committed_AS stays under CommitLimit; it moves with mmap, munmap, fork and exit', () => {
  const k = bootWithProgram();
  k.vm.overcommitMemory = 2;
  const t = k.spawn('/bin/tiny', ['tiny']);
  const limit = k.vm.commitLimit();
  expect(limit).toBe(Math.floor((k.vm.totalramPages() * 50) / 100));
  const c0 = k.vm.committedAs();
  const a = t.mmap(0, 1 << 20, RW, ANON, -1, 0);
  expect(k.vm.committedAs() - c0).toBe(256);
  expect(t.mmap(0, limit * 4096, RW, ANON, -1, 0)).toBe(-ENOMEM);
  // A read-only mapping is free, but making it writable charges it.
  const r = t.mmap(0, limit * 4096, PROT_READ, ANON, -1, 0);
  expect(r).toBeGreaterThan(0);
  expect(t.mprotect(r, limit * 4096, RW)).toBe(-ENOMEM);
  const before = k.vm.committedAs();
  const c = t.fork();
  // The child's copies of the accounted VMAs are charged again.
  expect(k.vm.committedAs()).toBe(2 * before);
  c.exit(0);
  t.wait();
  t.munmap(a, 1 << 20);
  expect(k.vm.committedAs()).toBe(c0);
  t.exit(0);
  expect(k.vm.committedAs()).toBe(0);
});
