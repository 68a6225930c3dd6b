/**
 * Reclaim of anonymous memory through the swap interface shrink_folio_list()
 * uses (vm.reclaimSwap: add_to_swap, try_to_unmap's anonymous PTE,
 * swap_writepage, __remove_mapping of a swap-cache page), here served by a
 * minimal in-test swap device that keeps each written page's bytes, with
 * the reference convention of src/vm/swap_state.ts (the swap cache holds one
 * reference; unmapping a PTE drops the PTE's; deleting from the swap cache
 * hands the cache's to reclaim). Checks the kernel's rules: anon is scanned
 * only while swap has room (get_scan_count), every page written out holds
 * exactly what the task wrote, pswpout-like counts match pgsteal_anon, and
 * the LRU lists recount.
 */
import { expect, test } from 'vitest';
import { PG } from '../../src/memory/page.js';
import { invalidateTlbPage } from '../../src/vm/memory.js';
import { LRU_ACTIVE_ANON, LRU_INACTIVE_ANON } from '../../src/vm/mm_inline.js';
import type { Mm } from '../../src/vm/mm_types.js';
import { MAP_ANONYMOUS, MAP_PRIVATE, PROT_READ, PROT_WRITE } from '../../src/vm/mman.js';
import type { Vm } from '../../src/vm/vm.js';
import { bootWithProgram } from './helpers.js';
import { recountLru, vmstat } from './lru_check.js';

const SWAPCACHE = 1 << PG.owner_priv_1;

/** A swap device of `slots` pages: slot -> the bytes written; the PTE of a swapped page holds the slot (not present, not PROT_NONE). */
class FakeSwap {
  readonly data = new Map<number, Uint8Array>();
  readonly entry = new Map<number, number>();
  /** slot -> (mm, va) of the PTE that names it */
  readonly owner = new Map<number, [Mm, number]>();
  next = 1;
  used = 0;
  writes = 0;
  constructor(readonly slots: number) {}
  nrFreeSlots(): number {
    return this.slots - this.used;
  }
  addToSwap(vm: Vm, pfn: number): boolean {
    if (this.used >= this.slots) return false;
    this.used++;
    const p = vm.k.pages;
    p.refcount[pfn] = p.refcount[pfn]! + 1;
    p.flags[pfn] = p.flags[pfn]! | SWAPCACHE | (1 << PG.dirty);
    this.entry.set(pfn, this.next++);
    return true;
  }
  unmapAnonPte(vm: Vm, mm: Mm, va: number, pteIdx: number, pfn: number): void {
    const u32 = vm.k.phys.u32;
    const p = vm.k.pages;
    const slot = this.entry.get(pfn)!;
    if ((u32[pteIdx]! & 0x40) !== 0) p.flags[pfn] = p.flags[pfn]! | (1 << PG.dirty);
    u32[pteIdx] = (slot * 4096 + 0x2) >>> 0;
    u32[pteIdx + 1] = 0;
    this.owner.set(slot, [mm, va]);
    mm.rssAnon--;
    p.mapcount[pfn] = p.mapcount[pfn]! - 1;
    if (p.mapcount[pfn] === 0) vm.nrAnonMapped--;
    p.refcount[pfn] = p.refcount[pfn]! - 1;
    invalidateTlbPage(mm, Math.floor(va / 4096));
  }
  swapWritepage(vm: Vm, pfn: number): void {
    this.writes++;
    this.data.set(this.entry.get(pfn)!, vm.k.phys.u8.slice(pfn * 4096, pfn * 4096 + 4096));
    vm.k.pages.flags[pfn] = vm.k.pages.flags[pfn]! & ~(1 << PG.dirty);
  }
  deleteFromSwapCache(vm: Vm, pfn: number): void {
    vm.k.pages.flags[pfn] = vm.k.pages.flags[pfn]! & ~SWAPCACHE;
    this.entry.delete(pfn);
  }
}

test('anonymous memory past RAM with swap: pages are swapped out through rmap, each holding what was written', () => {
  const k = bootWithProgram('32M');
  k.proc.write('/proc/sys/vm/overcommit_memory', '1');
  const t = k.spawn('/bin/tiny');
  const swap = new FakeSwap(16384);
  k.vm.reclaimSwap = swap;
  const pages = 12288; // 48 MiB through a 32M machine
  const a = t.mmap(0, pages * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  const stamp = (i: number) => [i & 0xff, (i >> 8) & 0xff, 0x5a, 0xa5];
  for (let i = 0; i < pages; i++) t.writeBytes(a + i * 4096 + 8, stamp(i));
  const v = vmstat(k);
  // get_scan_count(): with swap there is anon to scan; every page stolen from the anon lists was written to swap.
  expect(v.pgscan_anon).toBeGreaterThan(0);
  expect(v.pgsteal_anon).toBeGreaterThan(pages - 8192);
  expect(swap.writes).toBe(v.pgsteal_anon);
  expect(v.pgsteal_kswapd! + v.pgsteal_direct!).toBe(v.pgsteal_anon! + v.pgsteal_file!);
  // Every swapped page's bytes are the task's: find each slot's PTE and check its stamp.
  let inRegion = 0;
  for (const [slot, bytes] of swap.data) {
    const [, va] = swap.owner.get(slot)!;
    // The task's other anonymous pages (its stack, its data) may go too.
    if (va < a || va >= a + pages * 4096) continue;
    inRegion++;
    const i = (va - a) / 4096;
    expect([...bytes.subarray(8, 12)]).toEqual(stamp(i));
    expect(bytes.every((x, j) => (j >= 8 && j < 12) || x === 0)).toBe(true);
  }
  // The pages still resident read back right, and count: resident + swapped = all.
  const mm = t.mm!;
  const lists = recountLru(k);
  expect(lists[LRU_INACTIVE_ANON]! + lists[LRU_ACTIVE_ANON]!).toBe(k.vm.nrAnonMapped);
  let resident = 0;
  for (let i = 0; i < pages; i++) {
    const idx = k.vm.pt.walk(mm.pgd, a + i * 4096);
    if (idx >= 0 && (k.phys.u32[idx]! & 1) !== 0) {
      resident++;
      expect([...t.readBytes(a + i * 4096 + 8, 4)]).toEqual(stamp(i));
    }
  }
  expect(resident + inRegion).toBe(pages);
  k.vm.reclaimSwap = null;
});

test('with swap full, anon is not scanned any more (SCAN_FILE) and the allocation fails once the file cache is gone', () => {
  const k = bootWithProgram('32M');
  k.proc.write('/proc/sys/vm/overcommit_memory', '1');
  const t = k.spawn('/bin/tiny');
  const swap = new FakeSwap(1024);
  k.vm.reclaimSwap = swap;
  const a = t.mmap(0, 16384 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  let failedAt = -1;
  for (let i = 0; i < 16384; i++) {
    try {
      t.writeBytes(a + i * 4096, [1]);
    } catch {
      failedAt = i;
      break;
    }
  }
  expect(failedAt).toBeGreaterThan(0);
  expect(swap.used).toBe(1024);
  expect(vmstat(k).pgsteal_anon).toBe(1024);
  k.vm.reclaimSwap = null;
});
