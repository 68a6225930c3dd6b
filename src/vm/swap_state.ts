/**
 * The swap cache and swap-in (mm/swap_state.c, mm/page_io.c, and
 * do_swap_page() of mm/memory.c).
 *
 * The swap cache maps a swap slot to the page that holds its data while
 * both exist: 6.18 keeps it in a swap table per cluster (one word per
 * slot); kmem's SwapInfo.swapCache is that table for the whole area, the
 * page's pfn + 1 by slot (0: none). A page in it has PG_swapcache
 * (PG_owner_priv_1, only ever with PG_swapbacked), page->private holding
 * its swap entry (vm.pagePrivate), counts in NR_FILE_PAGES and
 * NR_SWAPCACHE, and one reference (the cache's, as the page cache holds
 * one on a file page). Its slot's swap_map has SWAP_HAS_CACHE.
 *
 * References, kmem's convention: a user page's refcount is one per PTE
 * mapping it, plus one for the swap cache. So for reclaim (h1's
 * shrink_folio_list), with the page in the swap cache:
 *   addToSwap          +1 (the cache's)
 *   unmapAnonPte       -1 per PTE (try_to_unmap_one's folio_put; never the last)
 *   swapWritepage       0
 *   deleteFromSwapCache 0: the cache's reference passes to the caller,
 *                      who drops it with vm.putPage (as __remove_mapping
 *                      leaves the freeing to shrink_folio_list).
 *
 * Anonymous refaults: reclaim leaves workingset_eviction()'s shadow in the
 * slot it takes a page from (SwapInfo.shadows, 6.18's swap table holding a
 * shadow where the folio was); the page read back into the slot finds it
 * and goes through workingset_refault() (workingset_refault_anon, and
 * _activate_anon / _restore_anon as the refault distance says) before it
 * joins the LRU. Freeing the slot drops the shadow.
 *
 * Swap I/O is synchronous (kmem's disk completes requests at once): a
 * page written out is clean as soon as swapWritepage returns.
 *
 * Swap-in readahead (swapin_readahead) is swap_cluster_readahead on a
 * rotational disk (kmem's default, as 6.18 sees virtio-blk): the aligned
 * block of 2^n slots around the faulting one, n from swapin_nr_pages()'s
 * global hit count; and swap_vma_readahead with SWP_SOLIDSTATE: the PTEs
 * around the fault, from the VMA's swap_readahead_info.
 */

import { SWAP_INO } from '../fs/blkdev.js';
import { PG } from '../memory/page.js';
import { PG_readahead, pageCache } from './filemap.js';
import { invalidateTlbPage, VM_FAULT_OOM } from './memory.js';
import { type Mm, PMD_SIZE, VMA } from './mm_types.js';
import { VM } from './mman.js';
import { _PAGE_ACCESSED, _PAGE_DIRTY, _PAGE_RW, _PAGE_SOFT_DIRTY } from './pgtable.js';
import { folioAddLru } from './swap.js';
import { SWAP_HAS_CACHE, SWP_SOLIDSTATE, type SwapInfo } from './swapfile.js';
import { isSwapPte, pteSwpExclusive, pteSwpOffset, pteSwpType, swpEntryToPteHi, swpEntryToPteLo } from './swapops.js';
import type { Vm } from './vm.js';
import { workingsetRefault } from './workingset.js';

/** PG_anon_exclusive (PG_owner_2 on an anonymous page): no other mapping or swap entry shares the page */
export const PG_anon_exclusive = PG.owner_2;
export const ANON_EXCLUSIVE = 1 << PG_anon_exclusive;

/** PG_swapcache = PG_owner_priv_1 */
export const PG_swapcache = PG.owner_priv_1;
const SWAPCACHE = 1 << PG_swapcache;
const DIRTY = 1 << PG.dirty;

/** folio_test_swapcache(): PG_swapcache with PG_swapbacked */
export function pageSwapCache(vm: Vm, pfn: number): boolean {
  const f = vm.k.pages.flags[pfn]!;
  return (f & SWAPCACHE) !== 0 && (f & (1 << PG.swapbacked)) !== 0;
}

/** The swap cache's page for a slot, or -1. */
export function swapCacheLookup(si: SwapInfo, offset: number): number {
  return si.swapCache[offset]! - 1;
}

/** add_to_swap_cache(): the page caches `offset`; takes the cache's reference. */
function addToSwapCache(vm: Vm, si: SwapInfo, pfn: number, offset: number): void {
  const p = vm.k.pages;
  p.refcount[pfn] = p.refcount[pfn]! + 1;
  p.flags[pfn] = p.flags[pfn]! | SWAPCACHE;
  vm.pagePrivate[pfn] = offset;
  si.swapCache[offset] = pfn + 1;
  si.shadows[offset] = -1;
  vm.nrFilePages++;
  vm.nrSwapcached++;
}

/**
 * add_to_swap() / folio_alloc_swap(): give an anonymous page a swap slot
 * and put it in the swap cache, marked dirty (it must be written before it
 * can go). False when there is no swap or it is full. A page already in
 * the swap cache keeps its slot (shrink_folio_list calls add_to_swap only
 * for one that is not): true.
 */
export function addToSwap(vm: Vm, pfn: number): boolean {
  const si = vm.swap;
  if (si === null) return false;
  if (pageSwapCache(vm, pfn)) return true;
  const offset = si.allocSlot();
  if (offset === 0) return false;
  addToSwapCache(vm, si, pfn, offset);
  vm.k.pages.flags[pfn] = vm.k.pages.flags[pfn]! | DIRTY;
  return true;
}

/**
 * try_to_unmap_one()'s anonymous part for one PTE: the PTE becomes the
 * swap PTE of the page's entry (exclusive if this was the page's only
 * mapping and reference), the slot gains a reference, MM_ANONPAGES moves
 * to MM_SWAPENTS, the mapping and its page reference go, a dirty PTE
 * dirties the page, and the TLB forgets va.
 */
export function unmapAnonPte(vm: Vm, mm: Mm, va: number, pteIdx: number, pfn: number): void {
  const si = vm.swap;
  if (si === null || !pageSwapCache(vm, pfn)) throw new Error(`kmem: unmapAnonPte: page ${pfn} is not in the swap cache`);
  const u32 = vm.k.phys.u32;
  const p = vm.k.pages;
  const lo = u32[pteIdx]!;
  if (lo >>> 12 !== pfn) throw new Error(`kmem: unmapAnonPte: the PTE for 0x${va.toString(16)} does not map page ${pfn}`);
  const offset = vm.pagePrivate[pfn]!;
  if ((lo & _PAGE_DIRTY) !== 0) p.flags[pfn] = p.flags[pfn]! | DIRTY;
  // PageAnonExclusive moves to the swap PTE (folio_try_share_anon_rmap_pte). With it the page's only
  // mapping is this PTE and no swap PTE names the slot yet; checked, to be safe. The references: the PTE's and
  // the swap cache's, plus reclaim's isolation reference when called from try_to_unmap (kmem has no GUP pins).
  const exclusive = (p.flags[pfn]! & ANON_EXCLUSIVE) !== 0 && p.mapcount[pfn] === 1 && p.refcount[pfn]! <= 3 && si.swapCount(offset) === 0;
  p.flags[pfn] = p.flags[pfn]! & ~ANON_EXCLUSIVE;
  si.duplicate(offset);
  u32[pteIdx] = swpEntryToPteLo(offset, exclusive);
  u32[pteIdx + 1] = swpEntryToPteHi(si.type, offset);
  mm.rssAnon--;
  mm.swapEnts++;
  const mc = p.mapcount[pfn]! - 1;
  p.mapcount[pfn] = mc;
  if (mc === 0) vm.nrAnonMapped--;
  p.refcount[pfn] = p.refcount[pfn]! - 1;
  invalidateTlbPage(mm, Math.floor(va / 4096));
}

/** is_folio_zero_filled() */
function zeroFilled(u32: Uint32Array, pfn: number): boolean {
  for (let i = pfn * 1024, end = i + 1024; i < end; i++) if (u32[i] !== 0) return false;
  return true;
}

/**
 * swap_writeout() + __swap_writepage(): a zero-filled page only sets its
 * slot's bit in the zeromap (swpout_zero, no I/O); any other page's 4 KiB
 * go to its slot on the disk (pswpout, pgpgout). The page is clean after.
 */
export function swapWritepage(vm: Vm, pfn: number): void {
  const si = vm.swap;
  if (si === null || !pageSwapCache(vm, pfn)) throw new Error(`kmem: swapWritepage: page ${pfn} is not in the swap cache`);
  const offset = vm.pagePrivate[pfn]!;
  const p = vm.k.pages;
  p.flags[pfn] = p.flags[pfn]! & ~DIRTY;
  if (zeroFilled(vm.k.phys.u32, pfn)) {
    si.zeromap[offset] = 1;
    vm.swpoutZero++;
    return;
  }
  si.zeromap[offset] = 0;
  si.writeSlot(offset, vm.k.phys.u8, pfn * 4096);
  const pc = pageCache(vm);
  pc.ioUs += pc.bdev.submit('write', SWAP_INO, offset, 1);
  pc.pgpgout += 4;
  vm.pswpout++;
}

/**
 * __swap_cache_del_folio() + put_swap_folio(): the page leaves the swap
 * cache; the slot keeps the references its swap PTEs hold (freed if none)
 * and, from reclaim, the page's shadow entry (workingset_eviction) where
 * the page was. The cache's page reference passes to the caller, who puts it.
 */
export function deleteFromSwapCache(vm: Vm, pfn: number, shadow = -1): void {
  const si = vm.swap;
  if (si === null || !pageSwapCache(vm, pfn)) throw new Error(`kmem: deleteFromSwapCache: page ${pfn} is not in the swap cache`);
  const offset = vm.pagePrivate[pfn]!;
  si.swapCache[offset] = 0;
  si.shadows[offset] = shadow;
  vm.pagePrivate[pfn] = 0;
  const p = vm.k.pages;
  p.flags[pfn] = p.flags[pfn]! & ~SWAPCACHE;
  vm.nrFilePages--;
  vm.nrSwapcached--;
  si.putCache(offset);
}

/**
 * folio_free_swap(): a swap-cache page whose slot no swap PTE names leaves
 * the cache (dirty: its copy on disk is about to be stale) and the cache's
 * reference is dropped. False if it is not in the cache or still swapped.
 */
export function folioFreeSwap(vm: Vm, pfn: number): boolean {
  const si = vm.swap;
  if (si === null || !pageSwapCache(vm, pfn)) return false;
  if (si.swapCount(vm.pagePrivate[pfn]!) !== 0) return false;
  deleteFromSwapCache(vm, pfn);
  vm.k.pages.flags[pfn] = vm.k.pages.flags[pfn]! | DIRTY;
  vm.putPage(pfn);
  return true;
}

/**
 * free_swap_and_cache() for a swap PTE being zapped: the slot loses the
 * reference; if only the swap cache still holds it, its page leaves the
 * cache when unmapped or when swap is more than half full
 * (__try_to_reclaim_swap with TTRS_UNMAPPED | TTRS_FULL).
 */
export function freeSwapAndCache(vm: Vm, lo: number, hi: number): void {
  const si = swapOf(vm, lo, hi);
  const offset = pteSwpOffset(lo, hi);
  si.put(offset);
  if (si.swapMap[offset] !== SWAP_HAS_CACHE) return;
  const pfn = swapCacheLookup(si, offset);
  if (pfn < 0) return;
  if (vm.k.pages.mapcount[pfn] === 0 || si.swapFull()) folioFreeSwap(vm, pfn);
}

/** free_swap_cache(): after a PTE of a swap-cache page is zapped, an unmapped page whose slot nothing else names leaves the cache. */
export function freeSwapCache(vm: Vm, pfn: number): void {
  if (vm.k.pages.mapcount[pfn] === 0) folioFreeSwap(vm, pfn);
}

/** The swap area a swap PTE names; a PTE naming none is a corrupt page table. */
function swapOf(vm: Vm, lo: number, hi: number, va = -1): SwapInfo {
  const si = vm.swap;
  if (si === null || pteSwpType(hi) !== si.type || pteSwpOffset(lo, hi) >= si.max || pteSwpOffset(lo, hi) === 0) {
    const at = va >= 0 ? ` at 0x${va.toString(16)}` : '';
    throw new Error(`kmem: corrupt PTE 0x${hi.toString(16).padStart(8, '0')}${lo.toString(16).padStart(8, '0')}${at}: a swap entry of no swap area`);
  }
  return si;
}

/** copy_nonpresent_pte() for a swap PTE at fork: the slot gains a reference, the child a swap entry; both PTEs lose the exclusive mark. */
export function copySwapPte(vm: Vm, dst: Mm, srcIdx: number): number {
  const u32 = vm.k.phys.u32;
  const lo = u32[srcIdx]!;
  const hi = u32[srcIdx + 1]!;
  swapOf(vm, lo, hi).duplicate(pteSwpOffset(lo, hi));
  const shared = (lo & ~0x8) >>> 0;
  u32[srcIdx] = shared;
  dst.swapEnts++;
  return shared;
}

// ───────────────────────── swap-in ─────────────────────────

/** swap_readahead_info packing (SWAP_RA_*): the last fault address, the window and the hits. */
const SWAP_RA_WIN_SHIFT = 6;
const SWAP_RA_HITS_MASK = (1 << SWAP_RA_WIN_SHIFT) - 1;
const SWAP_RA_WIN_MASK = 0xfff & ~SWAP_RA_HITS_MASK;
/** SWAP_RA_ORDER_CEILING on 64-bit */
const SWAP_RA_ORDER_CEILING = 5;

const raAddr = (v: number) => v - (v % 4096);
const raWin = (v: number) => (v & SWAP_RA_WIN_MASK) >>> SWAP_RA_WIN_SHIFT;
const raHits = (v: number) => v & SWAP_RA_HITS_MASK;
const raVal = (addr: number, win: number, hits: number) => raAddr(addr) + ((win << SWAP_RA_WIN_SHIFT) & SWAP_RA_WIN_MASK) + (hits & SWAP_RA_HITS_MASK);

/** GET_SWAP_RA_VAL(): the VMA's swap_readahead_info, or 4 (four hits, to start with a small window). */
function getRaVal(vm: Vm, v: number): number {
  return vm.s.get64(v, VMA.SWAP_RA) || 4;
}

/**
 * __swapin_nr_pages(): the readahead window. hits + 2 rounded up to a
 * power of two from 4; with no hits, 1 unless the fault is next to the
 * last one; at most max_pages; never below half the last window.
 */
export function swapinNrPages(prevOffset: number, offset: number, hits: number, maxPages: number, prevWin: number): number {
  let pages = hits + 2;
  if (pages === 2) {
    if (offset !== prevOffset + 1 && offset !== prevOffset - 1) pages = 1;
  } else {
    let roundup = 4;
    while (roundup < pages) roundup <<= 1;
    pages = roundup;
  }
  if (pages > maxPages) pages = maxPages;
  const lastRa = prevWin >>> 1;
  if (pages < lastRa) pages = lastRa;
  return pages;
}

/** swap_vma_ra_win(): the window for a fault at va, and [start, end) within the VMA and the PMD. */
function swapVmaRaWin(vm: Vm, v: number, va: number): { win: number; start: number; end: number } {
  const maxWin = 1 << Math.min(vm.k.proc.sysctl.pageCluster, SWAP_RA_ORDER_CEILING);
  const faddr = raAddr(va);
  if (maxWin === 1) return { win: 1, start: faddr, end: faddr + 4096 };
  const ra = getRaVal(vm, v);
  const prev = raAddr(ra);
  const win = swapinNrPages(prev / 4096, faddr / 4096, raHits(ra), maxWin, raWin(ra));
  vm.s.set64(v, VMA.SWAP_RA, raVal(faddr, win, 0));
  if (win === 1) return { win, start: faddr, end: faddr + 4096 };
  let left: number;
  if (faddr === prev + 4096) left = faddr;
  else if (prev === faddr + 4096) left = faddr - win * 4096 + 4096;
  else left = faddr - Math.floor((win - 1) / 2) * 4096;
  const right = left + win * 4096;
  if (left < 0) left = 0;
  const pmd = faddr - (faddr % PMD_SIZE);
  return { win, start: Math.max(left, vm.s.vmStart(v), pmd), end: Math.min(right, vm.s.vmEnd(v), pmd + PMD_SIZE) };
}

/** swap_use_vma_readahead(): VMA-based readahead unless a swap area is on a rotational disk (nr_rotate_swap). */
export function swapUseVmaReadahead(si: SwapInfo): boolean {
  return (si.flags & SWP_SOLIDSTATE) !== 0;
}

/**
 * swap_update_readahead(): a fault found its page in the swap cache; a
 * page readahead brought in is a hit (swap_ra_hit) that widens the next
 * window: the VMA's with VMA readahead, else the global hit count.
 */
function swapUpdateReadahead(vm: Vm, si: SwapInfo, v: number, va: number, pfn: number): void {
  const p = vm.k.pages;
  const readahead = (p.flags[pfn]! & (1 << PG_readahead)) !== 0;
  if (readahead) p.flags[pfn] = p.flags[pfn]! & ~(1 << PG_readahead);
  const vmaRa = swapUseVmaReadahead(si);
  if (vmaRa) {
    const ra = getRaVal(vm, v);
    const hits = readahead ? Math.min(raHits(ra) + 1, SWAP_RA_HITS_MASK) : raHits(ra);
    vm.s.set64(v, VMA.SWAP_RA, raVal(va, raWin(ra), hits));
  }
  if (readahead) {
    vm.swapRaHit++;
    if (!vmaRa) si.raHits++;
  }
}

/**
 * swapin_nr_pages(): the window of cluster readahead from the global
 * state: the hits since the last window (taken), the last offset faulted
 * without hits, the last window.
 */
function swapinNrPagesGlobal(vm: Vm, si: SwapInfo, offset: number): number {
  const maxPages = 2 ** vm.k.proc.sysctl.pageCluster;
  if (maxPages <= 1) return 1;
  const hits = si.raHits;
  si.raHits = 0;
  const pages = swapinNrPages(si.raPrevOffset, offset, hits, maxPages, si.raLastPages);
  if (hits === 0) si.raPrevOffset = offset;
  si.raLastPages = pages;
  return pages;
}

/**
 * swap_cluster_readahead(): read the naturally aligned block of slots
 * (swapin_nr_pages() of them) around the faulting slot, skipping the
 * header and unused slots; each new page but the faulting one is marked
 * PG_readahead (swap_ra). Then the faulting entry. The page, or -1.
 */
function swapClusterReadahead(vm: Vm, si: SwapInfo, offset: number): number {
  const plug = new SwapPlug(vm);
  const out = { allocated: false };
  const mask = swapinNrPagesGlobal(vm, si, offset) - 1;
  let held = -1;
  if (mask !== 0) {
    let start = offset - (offset & mask);
    let end = start + mask;
    if (start === 0) start = 1;
    if (end >= si.max) end = si.max - 1;
    for (let o = start; o <= end; o++) {
      const pfn = readSwapCacheAsync(vm, si, o, plug, out);
      if (pfn < 0) continue;
      if (o === offset) {
        held = holdTarget(vm, held, pfn);
        continue;
      }
      if (!out.allocated) continue;
      vm.k.pages.flags[pfn] = vm.k.pages.flags[pfn]! | (1 << PG_readahead);
      vm.swapRa++;
    }
  }
  if (held < 0) held = holdTarget(vm, held, readSwapCacheAsync(vm, si, offset, plug, out));
  plug.flush();
  return held;
}

/**
 * The faulting entry's page gets the fault's reference as soon as it is in
 * the swap cache (the folio the readahead returns is held), so nothing the
 * rest of the readahead allocates can reclaim it. Returns the held page.
 */
function holdTarget(vm: Vm, held: number, pfn: number): number {
  if (held >= 0 || pfn < 0) return held >= 0 ? held : pfn;
  vm.k.pages.refcount[pfn] = vm.k.pages.refcount[pfn]! + 1;
  return pfn;
}

/** The swap reads a readahead plugs together: consecutive slots go to the disk as one request. */
class SwapPlug {
  private start = -1;
  private n = 0;
  constructor(readonly vm: Vm) {}
  add(offset: number): void {
    if (this.n > 0 && offset === this.start + this.n) {
      this.n++;
      return;
    }
    this.flush();
    this.start = offset;
    this.n = 1;
  }
  flush(): void {
    if (this.n === 0) return;
    const pc = pageCache(this.vm);
    pc.ioUs += pc.bdev.submit('read', SWAP_INO, this.start, this.n);
    pc.pgpgin += this.n * 4;
    this.n = 0;
  }
}

/**
 * __read_swap_cache_async() + swap_read_folio(): the swap-cache page of a
 * slot, read from the disk (or zero-filled, for a zeromap slot) into a new
 * page if not cached. -1 when the slot is no longer in use or memory is
 * out; `allocated` tells the caller a new page was read.
 */
function readSwapCacheAsync(vm: Vm, si: SwapInfo, offset: number, plug: SwapPlug, out: { allocated: boolean }): number {
  out.allocated = false;
  const have = swapCacheLookup(si, offset);
  if (have >= 0) return have;
  if (si.swapCount(offset) === 0) return -1;
  const pfn = vm.allocUserPage(false);
  if (pfn < 0) return -1;
  if (!si.cachePrepare(offset)) {
    vm.putPage(pfn);
    return -1;
  }
  // The new page's own reference becomes the swap cache's.
  const p = vm.k.pages;
  p.flags[pfn] = p.flags[pfn]! | SWAPCACHE;
  vm.pagePrivate[pfn] = offset;
  si.swapCache[offset] = pfn + 1;
  // The page takes the slot's place in the swap table: a shadow there makes this read a refault.
  const shadow = si.shadows[offset]!;
  si.shadows[offset] = -1;
  vm.nrFilePages++;
  vm.nrSwapcached++;
  // Not anon-mapped yet (do_swap_page gives it its anon_vma and index); it joins the anon LRU now,
  // on the active list if workingset_refault() says the refault distance is within the workingset.
  vm.pageMapping[pfn] = 0;
  if (shadow >= 0) workingsetRefault(vm, pfn, shadow, si.nrSwapPages);
  folioAddLru(vm, pfn);
  if (si.zeromap[offset] === 1) {
    vm.k.phys.u32.fill(0, pfn * 1024, pfn * 1024 + 1024);
    vm.swpinZero++;
  } else {
    si.readSlot(offset, vm.k.phys.u8, pfn * 4096);
    plug.add(offset);
    vm.pswpin++;
  }
  out.allocated = true;
  return pfn;
}

/**
 * swap_vma_readahead(): read the swap PTEs around the fault within the
 * window (each new page but the faulting one marked PG_readahead and
 * counted in swap_ra), then the faulting entry itself. The page, or -1.
 */
function swapVmaReadahead(vm: Vm, si: SwapInfo, mm: Mm, v: number, va: number, offset: number): number {
  const plug = new SwapPlug(vm);
  const out = { allocated: false };
  const { win, start, end } = swapVmaRaWin(vm, v, va);
  let held = -1;
  if (win !== 1) {
    const u32 = vm.k.phys.u32;
    const faddr = raAddr(va);
    for (let addr = start; addr < end; addr += 4096) {
      const idx = vm.pt.walk(mm.pgd, addr);
      if (idx < 0) break;
      const lo = u32[idx]!;
      const hi = u32[idx + 1]!;
      if (!isSwapPte(lo, hi) || pteSwpType(hi) !== si.type) continue;
      const pfn = readSwapCacheAsync(vm, si, pteSwpOffset(lo, hi), plug, out);
      if (pfn < 0) continue;
      if (addr === faddr) held = holdTarget(vm, held, pfn);
      else if (out.allocated) {
        vm.k.pages.flags[pfn] = vm.k.pages.flags[pfn]! | (1 << PG_readahead);
        vm.swapRa++;
      }
    }
  }
  if (held < 0) held = holdTarget(vm, held, readSwapCacheAsync(vm, si, offset, plug, out));
  plug.flush();
  return held;
}

/** Result of doSwapPage when the fault read the disk (VM_FAULT_MAJOR): handled. */
export const VM_FAULT_MAJOR = -2;

/**
 * do_swap_page(): a fault on a swap PTE. The page comes from the swap
 * cache, else swap readahead reads it (a major fault, pgmajfault). The
 * slot loses this PTE's reference (swap_free); the page leaves the swap
 * cache when swap is over half full, the VMA is locked, or a write fault
 * finds it mapped nowhere else. It is mapped writable when the swap PTE
 * was exclusive or nothing else holds the page; a write fault otherwise
 * goes on to do_wp_page (the caller's `wp`). Returns 0, VM_FAULT_MAJOR or
 * VM_FAULT_OOM.
 */
export function doSwapPage(
  vm: Vm,
  mm: Mm,
  v: number,
  va: number,
  write: boolean,
  idx: number,
  wp: (vm: Vm, mm: Mm, v: number, va: number, idx: number) => number,
): number {
  const u32 = vm.k.phys.u32;
  const p = vm.k.pages;
  const lo = u32[idx]!;
  const hi = u32[idx + 1]!;
  const si = swapOf(vm, lo, hi, va);
  const offset = pteSwpOffset(lo, hi);
  let major = false;
  // The page comes back with the fault's reference held (it becomes the new PTE's).
  let pfn = swapCacheLookup(si, offset);
  if (pfn >= 0) {
    p.refcount[pfn] = p.refcount[pfn]! + 1;
    swapUpdateReadahead(vm, si, v, va, pfn);
  } else {
    // swapin_readahead()
    pfn = swapUseVmaReadahead(si) ? swapVmaReadahead(vm, si, mm, v, va, offset) : swapClusterReadahead(vm, si, offset);
    if (pfn < 0) return VM_FAULT_OOM;
    major = true;
    vm.pgmajfault++;
  }
  const exclusive = pteSwpExclusive(lo);
  si.put(offset);
  const flags = vm.s.vmFlags(v);
  // should_try_to_free_swap(): the cache's and the fault's references only, on a write.
  if (si.swapFull() || (flags & VM.LOCKED) !== 0 || (write && p.refcount[pfn] === 2)) folioFreeSwap(vm, pfn);
  mm.rssAnon++;
  mm.swapEnts--;
  mm.updateHiwaterRss();
  const protLo = u32[(v + VMA.PAGE_PROT) >>> 2]!;
  const protHi = u32[((v + VMA.PAGE_PROT) >>> 2) + 1]!;
  let pte = (pfn * 4096) | protLo | _PAGE_ACCESSED;
  let writeDone = false;
  if (exclusive || p.refcount[pfn] === 1) {
    // RMAP_EXCLUSIVE
    p.flags[pfn] = p.flags[pfn]! | ANON_EXCLUSIVE;
    if ((flags & VM.WRITE) !== 0) {
      pte |= _PAGE_RW;
      if (write) {
        pte |= _PAGE_DIRTY | _PAGE_SOFT_DIRTY;
        writeDone = true;
      }
    }
  } else pte &= ~_PAGE_RW;
  // folio_add_new_anon_rmap() for a page swap-in read (page->mapping = the VMA's anon_vma, page->index
  // its linear index); folio_add_anon_rmap_ptes() for one that kept its anon_vma in the swap cache.
  if (vm.pageMapping[pfn] === 0) {
    vm.pageMapping[pfn] = vm.s.anonVma(v);
    p.index[pfn] = vm.s.vmPgoff(v) + Math.floor((va - vm.s.vmStart(v)) / 4096);
  }
  if (p.mapcount[pfn] === 0) vm.nrAnonMapped++;
  p.mapcount[pfn] = p.mapcount[pfn]! + 1;
  u32[idx] = pte >>> 0;
  u32[idx + 1] = protHi;
  invalidateTlbPage(mm, Math.floor(va / 4096));
  if (write && !writeDone) {
    const r = wp(vm, mm, v, va, idx);
    if (r !== 0) return r;
  }
  return major ? VM_FAULT_MAJOR : 0;
}

/**
 * swapin_readahead() for swapoff's unuse_pte_range(): the slot's page (from
 * the swap cache, else read with readahead), with a reference held for the
 * caller; -1 when memory is out.
 */
export function swapinForUnuse(vm: Vm, si: SwapInfo, mm: Mm, v: number, va: number, offset: number): number {
  const have = swapCacheLookup(si, offset);
  if (have >= 0) {
    vm.k.pages.refcount[have] = vm.k.pages.refcount[have]! + 1;
    return have;
  }
  return swapUseVmaReadahead(si) ? swapVmaReadahead(vm, si, mm, v, va, offset) : swapClusterReadahead(vm, si, offset);
}

/**
 * unuse_pte(): the swap PTE at idx (VMA v of mm, address va) maps the page
 * pfn again, which the caller holds (that reference becomes the PTE's):
 * old (no accessed bit) and with the VMA's page protection (read-only in a
 * private writable VMA: a write goes through do_wp_page, which reuses an
 * exclusive page; kmem's swap PTEs carry no soft-dirty bit, as 6.18
 * built without CONFIG_MEM_SOFT_DIRTY), PageAnonExclusive from the swap PTE;
 * the slot loses the reference, MM_SWAPENTS moves back to MM_ANONPAGES.
 */
export function unusePte(vm: Vm, mm: Mm, v: number, va: number, idx: number, pfn: number): void {
  const u32 = vm.k.phys.u32;
  const p = vm.k.pages;
  const si = vm.swap!;
  const lo = u32[idx]!;
  const offset = pteSwpOffset(lo, u32[idx + 1]!);
  const exclusive = pteSwpExclusive(lo);
  si.put(offset);
  mm.rssAnon++;
  mm.swapEnts--;
  mm.updateHiwaterRss();
  if (exclusive) p.flags[pfn] = p.flags[pfn]! | ANON_EXCLUSIVE;
  if (vm.pageMapping[pfn] === 0) {
    vm.pageMapping[pfn] = vm.s.anonVma(v);
    p.index[pfn] = vm.s.vmPgoff(v) + Math.floor((va - vm.s.vmStart(v)) / 4096);
  }
  if (p.mapcount[pfn] === 0) vm.nrAnonMapped++;
  p.mapcount[pfn] = p.mapcount[pfn]! + 1;
  const protLo = u32[(v + VMA.PAGE_PROT) >>> 2]!;
  const protHi = u32[((v + VMA.PAGE_PROT) >>> 2) + 1]!;
  u32[idx] = (((pfn * 4096) | protLo) & ~_PAGE_ACCESSED) >>> 0;
  u32[idx + 1] = protHi;
  invalidateTlbPage(mm, Math.floor(va / 4096));
}

/** swapin_readahead() without a VMA (shmem's shmem_swapin_cluster): the slot's page with a reference held, or -1. */
export function swapinReadahead(vm: Vm, si: SwapInfo, offset: number): number {
  return swapClusterReadahead(vm, si, offset);
}
