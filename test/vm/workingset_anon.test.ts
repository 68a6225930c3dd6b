/**
 * Anonymous refault shadows (6.18: __remove_mapping() leaves
 * workingset_eviction()'s shadow in the swap table where the swap-cache
 * folio was; the swap-in that fills the slot again finds it and calls
 * workingset_refault() before folio_add_lru()). The refault distance is
 * worked by hand from mm/workingset.c's rules: each eviction and each
 * refault activation ages the node's nonresident clock by one page; a
 * refault is activated when its distance (the clock now minus the clock at
 * eviction) is at most the workingset it competes with, for an anon page
 * NR_ACTIVE_FILE + NR_INACTIVE_FILE, plus NR_ACTIVE_ANON while swap has
 * free slots; a page evicted with PG_workingset is restored as such.
 * MADV_PAGEOUT takes the pages (reclaim_pages(), in address order), and
 * vm.page-cluster = 0 makes every swap-in read one page only.
 */
import { expect, test } from 'vitest';
import { boot } from '../../src/index.js';
import { PG } from '../../src/memory/page.js';
import { MADV_PAGEOUT, MAP_ANONYMOUS, MAP_PRIVATE, PROT_READ, PROT_WRITE } from '../../src/vm/mman.js';
import { tinyElf, vmstatValue } from './helpers.js';

const P = 4096;

function setup(pages: number) {
  const k = boot({ memory: '64M', cpus: 2, seed: 1, aslr: 0, swap: '16M' });
  k.fs.writeFile('/bin/tiny', tinyElf());
  k.proc.write('/proc/sys/vm/page-cluster', '0');
  const t = k.spawn('/bin/tiny', ['tiny']);
  const a = t.mmap(0, pages * P, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  expect(a).toBeGreaterThan(0);
  for (let i = 0; i < pages; i++) t.write32(a + i * P, 0x1000 + i);
  const ws = (name: string) => vmstatValue(k, `workingset_${name}_anon`);
  /** workingset_test_recent()'s workingset for an anon refault (swap has room) */
  const workingset = () => vmstatValue(k, 'nr_active_file') + vmstatValue(k, 'nr_inactive_file') + vmstatValue(k, 'nr_active_anon');
  const pfnOf = (va: number) => k.vm.k.phys.u32[k.vm.pt.walk(t.mm!.pgd, va)]! >>> 12;
  return { k, t, a, ws, workingset, pfnOf };
}

test('a swap-in where reclaim left a shadow is a refault; activated iff the distance is within the workingset (the boundary worked by hand)', () => {
  const { k, t, a, ws, workingset } = setup(96);
  const w = workingset();
  const n = 96;
  expect(w + 2).toBeLessThan(n);
  const out0 = vmstatValue(k, 'pswpout');
  expect(t.madvise(a, n * P, MADV_PAGEOUT)).toBe(0);
  // every page went out (none is all zeros), and no refault yet
  expect(vmstatValue(k, 'pswpout') - out0).toBe(n);
  expect(ws('refault')).toBe(0);
  expect(workingset()).toBe(w);
  // Page j was evicted at clock c0 + j, and the clock is c0 + n now: its refault distance is n - j.
  const j1 = n - (w + 1); // distance w + 1: just beyond the workingset
  expect(t.read32(a + j1 * P)).toBe(0x1000 + j1);
  expect([ws('refault'), ws('activate'), ws('restore')]).toEqual([1, 0, 0]);
  expect(workingset()).toBe(w); // it went to the inactive anon list, outside the anon workingset
  const j2 = n - w; // distance w: within it (no activation aged the clock since)
  const active0 = vmstatValue(k, 'nr_active_anon');
  expect(t.read32(a + j2 * P)).toBe(0x1000 + j2);
  expect([ws('refault'), ws('activate'), ws('restore')]).toEqual([2, 1, 0]);
  expect(vmstatValue(k, 'nr_active_anon')).toBe(active0 + 1);
  // A page never swapped out since has no shadow: a plain fault on a present page counts nothing.
  expect(t.read32(a + j2 * P)).toBe(0x1000 + j2);
  expect(ws('refault')).toBe(2);
});

test('an active page paged out carries PG_workingset into its shadow: its refault is restored (workingset_restore_anon)', () => {
  const { k, t, a, ws, pfnOf } = setup(8);
  expect(t.madvise(a, 8 * P, MADV_PAGEOUT)).toBe(0);
  // the last page: distance 1, activated
  expect(t.read32(a + 7 * P)).toBe(0x1007);
  expect([ws('refault'), ws('activate'), ws('restore')]).toEqual([1, 1, 0]);
  const flags = k.vm.k.pages.flags;
  const pfn = pfnOf(a + 7 * P);
  expect(flags[pfn]! & (1 << PG.active)).not.toBe(0);
  expect(flags[pfn]! & (1 << PG.workingset)).toBe(0);
  // MADV_PAGEOUT of an active folio sets PG_workingset; its eviction is the last tick of the clock: distance 1 again.
  expect(t.madvise(a + 7 * P, P, MADV_PAGEOUT)).toBe(0);
  expect(t.read32(a + 7 * P)).toBe(0x1007);
  expect([ws('refault'), ws('activate'), ws('restore')]).toEqual([2, 2, 1]);
  const again = pfnOf(a + 7 * P);
  expect(flags[again]! & (1 << PG.workingset)).not.toBe(0);
  // the file counters are untouched by anon refaults
  expect(vmstatValue(k, 'workingset_refault_file')).toBe(0);
});

test('a freed swap slot forgets its shadow: munmap of swapped-out pages leaves no shadow behind', () => {
  const { k, t, a, ws } = setup(8);
  expect(t.madvise(a, 8 * P, MADV_PAGEOUT)).toBe(0);
  const si = k.vm.swap!;
  let shadows = 0;
  for (let o = 0; o < si.max; o++) if (si.shadows[o]! >= 0) shadows++;
  expect(shadows).toBe(8);
  expect(t.munmap(a, 8 * P)).toBe(0);
  for (let o = 0; o < si.max; o++) expect(si.shadows[o]).toBe(-1);
  expect(ws('refault')).toBe(0);
});
