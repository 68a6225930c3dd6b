/**
 * Workingset detection (mm/workingset.c, the classic LRU's part).
 *
 * The node keeps a clock, lruvec->nonresident_age, advanced by every
 * eviction and every activation. A reclaimed page-cache folio leaves a
 * shadow entry where it was: the clock's value at eviction and whether the
 * folio was in the workingset (PG_workingset). When the page is read again
 * (a refault), the distance the clock moved since is how much the inactive
 * list would have had to grow to keep the page; if it is no more than the
 * workingset the page competes with (the active file list, plus the anon
 * lists when swap has room), the refaulting folio starts on the active list
 * (workingset_activate_*), and if it was workingset before eviction it is
 * restored as such (workingset_restore_*, and its refault counts as I/O
 * cost of its type).
 *
 * kmem's difference: the kernel stores the shadow as an xa_value entry in
 * the page-cache xarray's slot; kmem keeps it beside the xarray, in the
 * address_space's `shadows` map (index -> shadow), which also counts the
 * shadows of each 64-index block (what one xa_node leaf covers): a block
 * with shadows and no page stands for a shadow-only xa_node (workingset_nodes,
 * and the shadow-node shrinker's objects, src/vm/shrinker.ts). With 64-bit longs EVICTION_SHIFT leaves
 * 36 bits for the clock and bucket_order is 0 below 2^36 pages of RAM: the
 * shadow holds the clock value itself (kmem packs it as eviction * 2 + the
 * workingset bit, a safe integer).
 */
import { PG } from '../memory/page.js';
import { lruGenEviction, lruGenRefault } from './lru_gen.js';
import { folioIsFileLru, LRU_ACTIVE_ANON, LRU_ACTIVE_FILE, LRU_INACTIVE_ANON, LRU_INACTIVE_FILE } from './mm_inline.js';
import { lruNoteCostRefault } from './swap.js';
import type { Vm } from './vm.js';

/** XA_CHUNK_SHIFT: the indices one leaf xa_node covers */
export const SHADOW_BLOCK_SHIFT = 6;

/**
 * A mapping's shadow entries, index -> shadow, with per 64-index block the
 * shadows and the cached pages in it (filemap tells it of pages coming and
 * going), and the number of blocks holding shadows but no page: the
 * shadow-only xa_nodes the kernel's shadow_nodes list_lru counts.
 */
export class ShadowMap extends Map<number, number> {
  /** block (index >> 6) -> shadows in it */
  readonly blocks = new Map<number, number>();
  /** block -> page-cache pages in it */
  readonly pages = new Map<number, number>();
  /** blocks with shadows and no page */
  shadowOnly = 0;

  override set(index: number, shadow: number): this {
    if (!this.has(index)) {
      const b = Math.floor(index / 2 ** SHADOW_BLOCK_SHIFT);
      const n = (this.blocks.get(b) ?? 0) + 1;
      this.blocks.set(b, n);
      if (n === 1 && !this.pages.has(b)) this.shadowOnly++;
    }
    return super.set(index, shadow);
  }

  override delete(index: number): boolean {
    if (!super.delete(index)) return false;
    const b = Math.floor(index / 2 ** SHADOW_BLOCK_SHIFT);
    const n = this.blocks.get(b)! - 1;
    if (n === 0) {
      this.blocks.delete(b);
      if (!this.pages.has(b)) this.shadowOnly--;
    } else this.blocks.set(b, n);
    return true;
  }

  override clear(): void {
    for (const b of this.blocks.keys()) if (!this.pages.has(b)) this.shadowOnly--;
    this.blocks.clear();
    super.clear();
  }

  /** A page entered the mapping at index. */
  pageAdded(index: number): void {
    const b = Math.floor(index / 2 ** SHADOW_BLOCK_SHIFT);
    const n = (this.pages.get(b) ?? 0) + 1;
    this.pages.set(b, n);
    if (n === 1 && this.blocks.has(b)) this.shadowOnly--;
  }

  /** A page left the mapping at index. */
  pageRemoved(index: number): void {
    const b = Math.floor(index / 2 ** SHADOW_BLOCK_SHIFT);
    const n = this.pages.get(b)! - 1;
    if (n === 0) {
      this.pages.delete(b);
      if (this.blocks.has(b)) this.shadowOnly++;
    } else this.pages.set(b, n);
  }
}

/** workingset_age_nonresident() */
export function workingsetAgeNonresident(vm: Vm, nr: number): void {
  vm.lruvec.nonresidentAge += nr;
}

/** workingset_activation(): a folio activated by folio_mark_accessed() ages the clock. */
export function workingsetActivation(vm: Vm, _pfn: number): void {
  workingsetAgeNonresident(vm, 1);
}

/**
 * workingset_eviction(): the shadow entry for a folio being reclaimed (its
 * clock value before the eviction ages the clock, and PG_workingset).
 */
export function workingsetEviction(vm: Vm, pfn: number): number {
  if (vm.lruvec.gen !== null) return lruGenEviction(vm, pfn);
  const eviction = vm.lruvec.nonresidentAge;
  workingsetAgeNonresident(vm, 1);
  const ws = (vm.k.pages.flags[pfn]! & (1 << PG.workingset)) !== 0 ? 1 : 0;
  return eviction * 2 + ws;
}

/**
 * workingset_test_recent(): would the folio have stayed resident had the
 * inactive list been bigger by the refault distance? `swapFree` is
 * get_nr_swap_pages() (free swap slots).
 */
export function workingsetTestRecent(vm: Vm, shadow: number, file: boolean, swapFree: number): boolean {
  const eviction = Math.floor(shadow / 2);
  const lv = vm.lruvec;
  const refaultDistance = lv.nonresidentAge - eviction;
  let workingsetSize = lv.size(LRU_ACTIVE_FILE);
  if (!file) workingsetSize += lv.size(LRU_INACTIVE_FILE);
  if (swapFree > 0) {
    workingsetSize += lv.size(LRU_ACTIVE_ANON);
    if (file) workingsetSize += lv.size(LRU_INACTIVE_ANON);
  }
  return refaultDistance <= workingsetSize;
}

/**
 * workingset_refault(): a folio read back where a shadow was (before it is
 * added to the LRU). Counts workingset_refault_*; activates it if the
 * refault distance is within the workingset (workingset_activate_*), and
 * marks it workingset again if it was (workingset_restore_*).
 */
export function workingsetRefault(vm: Vm, pfn: number, shadow: number, swapFree: number): void {
  if (vm.lruvec.gen !== null) {
    lruGenRefault(vm, pfn, shadow);
    return;
  }
  const f = vm.k.pages.flags;
  const file = folioIsFileLru(f[pfn]!);
  const ev = vm.lruEv;
  if (file) ev.workingsetRefaultFile++;
  else ev.workingsetRefaultAnon++;
  if (!workingsetTestRecent(vm, shadow, file, swapFree)) return;
  f[pfn] = f[pfn]! | (1 << PG.active);
  workingsetAgeNonresident(vm, 1);
  if (file) ev.workingsetActivateFile++;
  else ev.workingsetActivateAnon++;
  if (shadow % 2 === 1) {
    f[pfn] = f[pfn]! | (1 << PG.workingset);
    lruNoteCostRefault(vm, pfn);
    if (file) ev.workingsetRestoreFile++;
    else ev.workingsetRestoreAnon++;
  }
}
