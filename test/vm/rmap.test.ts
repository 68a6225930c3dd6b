/**
 * The reverse map (mm/rmap.c) against the kernel's rules: an anonymous page
 * is found through its anon_vma in every mm that maps it after fork, and
 * only in its own after a COW; _mapcount and _refcount count the PTEs; a
 * file page is found through its inode in every mapping; page->index is the
 * linear index vm_pgoff + (va - vm_start) / PAGE_SIZE, so a page moved by
 * mremap is found at its new address; folio_referenced() tests and clears
 * the accessed bits.
 */
import { expect, test } from 'vitest';
import { PG } from '../../src/memory/page.js';
import type { Task } from '../../src/vm/fork.js';
import type { Mm } from '../../src/vm/mm_types.js';
import { MAP_ANONYMOUS, MAP_FIXED, MAP_PRIVATE, MREMAP_MAYMOVE, PROT_READ, PROT_WRITE } from '../../src/vm/mman.js';
import { _PAGE_ACCESSED } from '../../src/vm/pgtable.js';
import { folioReferenced, rmapWalk } from '../../src/vm/rmap.js';
import { KIND_ANON, KIND_FILE } from '../../src/vm/vm.js';
import { bootWithProgram } from './helpers.js';

function pfnOf(t: Task, va: number): number {
  return Math.floor(t.userPhys(va, false) / 4096);
}

/** Every (mm, va) rmapWalk visits for the page. */
function mappers(t: Task, pfn: number): [Mm, number][] {
  const out: [Mm, number][] = [];
  rmapWalk(t.vm, pfn, (mm, va) => {
    out.push([mm, va]);
    return true;
  });
  return out;
}

test('after fork both processes map the anonymous page; after the child writes, each page has one mapper', () => {
  const k = bootWithProgram('64M');
  const t = k.spawn('/bin/tiny');
  const vm = k.vm;
  const p = k.pages;
  const a = t.mmap(0, 3 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  t.writeBytes(a + 4096, [1, 2, 3]);
  const pfn = pfnOf(t, a + 4096);
  expect(vm.pageKind[pfn]).toBe(KIND_ANON);
  // page->index: an anonymous VMA's vm_pgoff is vm_start >> PAGE_SHIFT.
  expect(p.index[pfn]).toBe((a + 4096) / 4096);
  expect(vm.pageMapping[pfn]).not.toBe(0);
  expect(mappers(t, pfn)).toEqual([[t.mm, a + 4096]]);
  expect(p.mapcount[pfn]).toBe(1);
  expect(p.refcount[pfn]).toBe(1);

  const c = t.fork();
  // copy_page_range(): the child's PTE maps the same page, both write-protected.
  expect(p.mapcount[pfn]).toBe(2);
  expect(p.refcount[pfn]).toBe(2);
  const m = mappers(t, pfn);
  expect(m).toHaveLength(2);
  expect(new Set(m.map(([mm]) => mm))).toEqual(new Set([t.mm, c.mm]));
  expect(m.every(([, va]) => va === a + 4096)).toBe(true);

  // The child writes: wp_page_copy gives it a new page in its own anon_vma.
  c.writeBytes(a + 4096, [9]);
  const cpfn = pfnOf(c, a + 4096);
  expect(cpfn).not.toBe(pfn);
  expect(p.mapcount[pfn]).toBe(1);
  expect(p.refcount[pfn]).toBe(1);
  expect(p.mapcount[cpfn]).toBe(1);
  expect(p.refcount[cpfn]).toBe(1);
  expect(mappers(t, pfn)).toEqual([[t.mm, a + 4096]]);
  expect(mappers(c, cpfn)).toEqual([[c.mm, a + 4096]]);
  // The child's page belongs to the child VMA's own anon_vma (anon_vma_fork), not the parent's.
  expect(vm.pageMapping[cpfn]).not.toBe(vm.pageMapping[pfn]);
  expect(c.readBytes(a + 4096, 3)).toEqual(Uint8Array.from([9, 2, 3]));
  expect(t.readBytes(a + 4096, 3)).toEqual(Uint8Array.from([1, 2, 3]));

  // The parent writes its page: only it maps it, so it is reused in place (no copy).
  t.writeBytes(a + 4096, [5]);
  expect(pfnOf(t, a + 4096)).toBe(pfn);

  // munmap in the child frees its page and takes it off the LRU.
  expect(c.munmap(a, 3 * 4096)).toBe(0);
  expect(p.refcount[cpfn]).toBe(0);
  expect(p.flags[cpfn]! & (1 << PG.lru)).toBe(0);
  expect(mappers(t, pfn)).toEqual([[t.mm, a + 4096]]);
  c.exit(0);
});

test('a page shared by three generations is found in all three until each lets go', () => {
  const k = bootWithProgram('64M');
  const t = k.spawn('/bin/tiny');
  const p = k.pages;
  const a = t.mmap(0, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  t.writeBytes(a, [7]);
  const pfn = pfnOf(t, a);
  const c = t.fork();
  const g = c.fork();
  expect(p.mapcount[pfn]).toBe(3);
  expect(new Set(mappers(t, pfn).map(([mm]) => mm))).toEqual(new Set([t.mm, c.mm, g.mm]));
  c.exit(0);
  expect(p.mapcount[pfn]).toBe(2);
  expect(new Set(mappers(t, pfn).map(([mm]) => mm))).toEqual(new Set([t.mm, g.mm]));
  t.exit(0);
  expect(p.mapcount[pfn]).toBe(1);
  expect(p.refcount[pfn]).toBe(1);
  expect(mappers(g, pfn).map(([mm]) => mm)).toEqual([g.mm]);
  expect(g.readBytes(a, 1)[0]).toBe(7);
});

test('mremap moves the page: vm_pgoff moves with it, and the walk finds it at the new address', () => {
  const k = bootWithProgram('64M');
  const t = k.spawn('/bin/tiny');
  const a = t.mmap(0, 2 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  t.writeBytes(a + 4096, [3]);
  const pfn = pfnOf(t, a + 4096);
  // Grow it so it must move (a neighbour right above it blocks growth in place).
  t.mmap(a + 2 * 4096, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
  const b = t.mremap(a, 2 * 4096, 8 * 4096, MREMAP_MAYMOVE);
  expect(b).not.toBe(a);
  expect(pfnOf(t, b + 4096)).toBe(pfn);
  expect(mappers(t, pfn)).toEqual([[t.mm, b + 4096]]);
});

test('file pages: the text page of a program is found in every process that faulted it', () => {
  const k = bootWithProgram('64M');
  const t = k.spawn('/bin/tiny');
  const p = k.pages;
  t.readBytes(0x401000, 1);
  const pfn = pfnOf(t, 0x401000);
  expect(k.vm.pageKind[pfn]).toBe(KIND_FILE);
  expect(k.vm.pageMapping[pfn]).toBe(k.fs.lookup('/bin/tiny')!.ino);
  // tinyElf() puts the text segment at file offset 4096: page->index is the file page, 1.
  expect(p.index[pfn]).toBe(1);
  expect(mappers(t, pfn)).toEqual([[t.mm, 0x401000]]);
  const u = k.spawn('/bin/tiny');
  u.readBytes(0x401000, 1);
  expect(pfnOf(u, 0x401000)).toBe(pfn);
  expect(new Set(mappers(t, pfn).map(([mm]) => mm))).toEqual(new Set([t.mm, u.mm]));
  // one reference for the page cache, one per PTE
  expect(p.mapcount[pfn]).toBe(2);
  expect(p.refcount[pfn]).toBe(3);
  u.exit(0);
  expect(mappers(t, pfn)).toEqual([[t.mm, 0x401000]]);
  expect(p.refcount[pfn]).toBe(2);
});

test('folio_referenced() counts the mappings whose PTE was young and clears the bits; an access sets them again', () => {
  const k = bootWithProgram('64M');
  const t = k.spawn('/bin/tiny');
  const a = t.mmap(0, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  t.writeBytes(a, [1]);
  const pfn = pfnOf(t, a);
  const c = t.fork();
  // The child's PTE starts old (copy_present_pte clears young), the parent's is young.
  expect(folioReferenced(k.vm, pfn)).toBe(1);
  expect(folioReferenced(k.vm, pfn)).toBe(0);
  t.readBytes(a, 1);
  c.readBytes(a, 1);
  expect(folioReferenced(k.vm, pfn)).toBe(2);
  rmapWalk(k.vm, pfn, (_mm, _va, idx) => {
    expect(k.phys.u32[idx]! & _PAGE_ACCESSED).toBe(0);
    return true;
  });
  c.readBytes(a, 1);
  expect(folioReferenced(k.vm, pfn)).toBe(1);
});
