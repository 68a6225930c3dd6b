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
 * An anonymous (or shmem) folio reclaimed from the swap cache leaves its
 * shadow in its swap slot instead (SwapInfo.shadows, src/vm/swap_state.ts),
 * and the swap-in that fills the slot again is the refault
 * (workingset_*_anon).
 *
 * kmem's difference: the kernel stores the page cache's shadow as an xa_value entry in
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

/** A block's record: its 64 shadows (-1: none), then the shadows in it and the page-cache pages in it. */
const BLOCK = 1 << SHADOW_BLOCK_SHIFT;
const B_SHADOWS = BLOCK;
const B_PAGES = BLOCK + 1;
const B_SIZE = BLOCK + 2;

/**
 * A mapping's shadow entries, index -> shadow, kept per 64-index block
 * (what one leaf xa_node covers) in a Float64Array record: the block's 64
 * slots (-1 where there is no shadow), the shadows in it and the
 * page-cache pages in it (filemap tells it of pages coming and going). The
 * blocks holding shadows are listed in `blocks` in the order they got their
 * first shadow (oldest first, as the kernel's shadow_nodes list_lru), and
 * `shadowOnly` counts those with no page: the shadow-only xa_nodes.
 *
 * Invariant: a block has a record iff it holds a shadow or a page; it is
 * in `blocks` iff it holds a shadow; `size` is the sum of the shadows. A
 * stream touches one block 64 times running, so the last record used is
 * kept at hand: most operations cost no Map lookup.
 */
export class ShadowMap {
  /** block -> its record */
  private readonly recs = new Map<number, Float64Array>();
  /** the blocks holding shadows, oldest first (the values are their records) */
  readonly blocks = new Map<number, Float64Array>();
  /** the blocks holding page-cache pages */
  readonly pages = { has: (b: number): boolean => (this.recs.get(b)?.[B_PAGES] ?? 0) > 0 };
  /** blocks with shadows and no page */
  shadowOnly = 0;
  /** shadows in all */
  size = 0;
  private lastBlock = -1;
  private lastRec: Float64Array | null = null;

  /** The block's record, or null. */
  private rec(b: number): Float64Array | null {
    if (b === this.lastBlock) return this.lastRec;
    const r = this.recs.get(b) ?? null;
    if (r !== null) {
      this.lastBlock = b;
      this.lastRec = r;
    }
    return r;
  }

  /** The block's record, made empty if it has none. */
  private recOrNew(b: number): Float64Array {
    let r = this.rec(b);
    if (r === null) {
      r = new Float64Array(B_SIZE).fill(-1);
      r[B_SHADOWS] = 0;
      r[B_PAGES] = 0;
      this.recs.set(b, r);
      this.lastBlock = b;
      this.lastRec = r;
    }
    return r;
  }

  /** A record with neither shadows nor pages goes. */
  private drop(b: number, r: Float64Array): void {
    if (r[B_SHADOWS] !== 0 || r[B_PAGES] !== 0) return;
    this.recs.delete(b);
    if (this.lastBlock === b) {
      this.lastBlock = -1;
      this.lastRec = null;
    }
  }

  get(index: number): number | undefined {
    const r = this.rec(Math.floor(index / BLOCK));
    if (r === null) return undefined;
    const v = r[index % BLOCK]!;
    return v < 0 ? undefined : v;
  }

  has(index: number): boolean {
    return this.get(index) !== undefined;
  }

  set(index: number, shadow: number): this {
    const b = Math.floor(index / BLOCK);
    const r = this.recOrNew(b);
    const o = index % BLOCK;
    if (r[o]! < 0) {
      this.size++;
      r[B_SHADOWS] = r[B_SHADOWS]! + 1;
      if (r[B_SHADOWS] === 1) {
        this.blocks.set(b, r);
        if (r[B_PAGES] === 0) this.shadowOnly++;
      }
    }
    r[o] = shadow;
    return this;
  }

  delete(index: number): boolean {
    const b = Math.floor(index / BLOCK);
    const r = this.rec(b);
    const o = index % BLOCK;
    if (r === null || r[o]! < 0) return false;
    r[o] = -1;
    this.size--;
    r[B_SHADOWS] = r[B_SHADOWS]! - 1;
    if (r[B_SHADOWS] === 0) {
      this.blocks.delete(b);
      if (r[B_PAGES] === 0) this.shadowOnly--;
      this.drop(b, r);
    }
    return true;
  }

  clear(): void {
    for (const [b, r] of [...this.blocks]) {
      for (let o = 0; o < BLOCK; o++) r[o] = -1;
      r[B_SHADOWS] = 0;
      this.drop(b, r);
    }
    this.blocks.clear();
    this.shadowOnly = 0;
    this.size = 0;
  }

  /** The (index, shadow) pairs, block by block (oldest block first), each block's in index order. */
  *entries(): IterableIterator<[number, number]> {
    for (const [b, r] of [...this.blocks]) for (let o = 0; o < BLOCK; o++) if (r[o]! >= 0) yield [b * BLOCK + o, r[o]!];
  }

  *keys(): IterableIterator<number> {
    for (const [i] of this.entries()) yield i;
  }

  *values(): IterableIterator<number> {
    for (const [, v] of this.entries()) yield v;
  }

  [Symbol.iterator](): IterableIterator<[number, number]> {
    return this.entries();
  }

  /** A page entered the mapping at index. */
  pageAdded(index: number): void {
    const r = this.recOrNew(Math.floor(index / BLOCK));
    r[B_PAGES] = r[B_PAGES]! + 1;
    if (r[B_PAGES] === 1 && r[B_SHADOWS]! > 0) this.shadowOnly--;
  }

  /** A page left the mapping at index. */
  pageRemoved(index: number): void {
    const b = Math.floor(index / BLOCK);
    const r = this.rec(b)!;
    r[B_PAGES] = r[B_PAGES]! - 1;
    if (r[B_PAGES] === 0) {
      if (r[B_SHADOWS]! > 0) this.shadowOnly++;
      else this.drop(b, r);
    }
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
