/**
 * LRU list operations (mm/swap.c, mm/mlock.c's new-folio part):
 * folio_add_lru(), folio_add_lru_vma(), folio_mark_accessed(),
 * folio_activate(), folio_deactivate(), folio_rotate_reclaimable(),
 * lru_note_cost(), and taking a page off its list when it is freed.
 *
 * The kernel queues these moves in per-CPU folio batches (cpu_fbatches,
 * PAGEVEC_SIZE 31) and applies them when a batch fills or is drained; kmem
 * applies each at once, as if every batch were drained immediately
 * (lru_add_drain() after each call). The lists and counts are therefore
 * what the kernel shows after lru_add_drain_all(); the pgactivate /
 * pgrotated counts are the same, counted when the move happens.
 */
import { PG } from '../memory/page.js';
import { lruGenIncRefs } from './lru_gen.js';
import { folioIsFileLru, SWAP_CLUSTER_MAX } from './mm_inline.js';
import { VM } from './mman.js';
import type { Vm } from './vm.js';
import { reclaimState } from './vmscan.js';
import { workingsetActivation } from './workingset.js';

const LRU = 1 << PG.lru;
const ACTIVE = 1 << PG.active;
const REFERENCED = 1 << PG.referenced;
const UNEVICTABLE = 1 << PG.unevictable;
const MLOCKED = 1 << PG.mlocked;
const DIRTY = 1 << PG.dirty;
const LOCKED = 1 << PG.locked;

/** folio_evictable(): not mlocked (kmem has no unevictable mappings: ramfs, SHM_LOCK). */
export function folioEvictable(flags: number): boolean {
  return (flags & MLOCKED) === 0;
}

/**
 * lru_add(): PG_lru set and onto its list's head; an mlocked folio goes to
 * the unevictable list (inactive, PG_unevictable), counted as culled unless
 * it already was unevictable; an evictable one that was is rescued.
 */
export function lruAdd(vm: Vm, pfn: number): void {
  const f = vm.k.pages.flags;
  let v = f[pfn]!;
  const wasUnevictable = (v & UNEVICTABLE) !== 0;
  v &= ~UNEVICTABLE;
  if (folioEvictable(v)) {
    if (wasUnevictable) vm.lruEv.unevictablePgsRescued++;
  } else {
    v = (v & ~ACTIVE) | UNEVICTABLE;
    if (!wasUnevictable) vm.lruEv.unevictablePgsCulled++;
  }
  f[pfn] = v | LRU;
  vm.lruvec.add(pfn);
}

/** folio_add_lru(): a new anonymous or page-cache folio joins the LRU (its inactive list unless PG_active was set, by a workingset refault). */
export function folioAddLru(vm: Vm, pfn: number): void {
  // The multi-gen LRU: a folio faulted in starts active (see lru_gen_folio_seq); not one reclaim adds (PF_MEMALLOC).
  const lv = vm.lruvec;
  if (lv.gen !== null && lv.inFault && (vm.k.pages.flags[pfn]! & UNEVICTABLE) === 0 && !reclaimState(vm).inReclaim)
    vm.k.pages.flags[pfn] = vm.k.pages.flags[pfn]! | ACTIVE;
  lruAdd(vm, pfn);
}

/**
 * folio_add_lru_vma(): in a VM_LOCKED (and not VM_SPECIAL) VMA the new folio
 * is mlocked at once (mlock_new_folio: PG_mlocked, NR_MLOCK,
 * unevictable_pgs_mlocked) and goes to the unevictable list.
 */
export function folioAddLruVma(vm: Vm, pfn: number, vmFlags: number): void {
  if ((vmFlags & (VM.LOCKED | VM.IO | VM.DONTEXPAND | VM.PFNMAP | VM.MIXEDMAP)) === VM.LOCKED) {
    mlockNewFolio(vm, pfn);
    return;
  }
  folioAddLru(vm, pfn);
}

/** mlock_new_folio() */
function mlockNewFolio(vm: Vm, pfn: number): void {
  const f = vm.k.pages.flags;
  f[pfn] = f[pfn]! | MLOCKED | UNEVICTABLE;
  vm.lruEv.nrMlock[vm.k.pageAlloc.pageZone(pfn)]!++;
  vm.lruEv.unevictablePgsMlocked++;
  f[pfn] = f[pfn]! | LRU;
  vm.lruvec.add(pfn);
}

/**
 * mlock_vma_folio() for a folio reclaim found mapped in a VM_LOCKED VMA:
 * PG_mlocked (NR_MLOCK, unevictable_pgs_mlocked); the folio is moved to the
 * unevictable list when it is put back (it is isolated here).
 */
export function mlockVmaFolio(vm: Vm, pfn: number): void {
  const f = vm.k.pages.flags;
  if ((f[pfn]! & MLOCKED) !== 0) return;
  f[pfn] = f[pfn]! | MLOCKED;
  vm.lruEv.nrMlock[vm.k.pageAlloc.pageZone(pfn)]!++;
  vm.lruEv.unevictablePgsMlocked++;
}

/**
 * mlock_folio() for a page already mapped when its VMA is locked: PG_mlocked
 * (NR_MLOCK, unevictable_pgs_mlocked) and, if it is on the LRU, onto the
 * unevictable list (unevictable_pgs_culled). kmem keeps no mlock_count:
 * a page is mlocked or not.
 */
export function mlockFolio(vm: Vm, pfn: number): void {
  const f = vm.k.pages.flags;
  mlockVmaFolio(vm, pfn);
  const v = f[pfn]!;
  if ((v & LRU) === 0 || (v & UNEVICTABLE) !== 0) return;
  vm.lruvec.del(pfn);
  f[pfn] = (f[pfn]! & ~ACTIVE) | UNEVICTABLE;
  vm.lruvec.add(pfn);
  vm.lruEv.unevictablePgsCulled++;
}

/**
 * munlock_folio(): the page leaves PG_mlocked (NR_MLOCK, unevictable_pgs_munlocked)
 * and, now evictable, moves from the unevictable list to its inactive list
 * (unevictable_pgs_rescued).
 */
export function munlockFolio(vm: Vm, pfn: number): void {
  const f = vm.k.pages.flags;
  const v = f[pfn]!;
  if ((v & MLOCKED) === 0) return;
  f[pfn] = v & ~MLOCKED;
  vm.lruEv.nrMlock[vm.k.pageAlloc.pageZone(pfn)]!--;
  vm.lruEv.unevictablePgsMunlocked++;
  if ((v & LRU) === 0 || (v & UNEVICTABLE) === 0) return;
  vm.lruvec.del(pfn);
  f[pfn] = f[pfn]! & ~UNEVICTABLE;
  vm.lruvec.add(pfn);
  vm.lruEv.unevictablePgsRescued++;
}

/**
 * The LRU side of __folio_put(): a page whose last reference goes leaves its
 * list (and an mlocked one its NR_MLOCK count) before it is freed.
 */
export function lruFreeFolio(vm: Vm, pfn: number): void {
  const f = vm.k.pages.flags;
  const v = f[pfn]!;
  if ((v & LRU) !== 0) vm.lruvec.del(pfn);
  if ((v & MLOCKED) !== 0) vm.lruEv.nrMlock[vm.k.pageAlloc.pageZone(pfn)]!--;
  f[pfn] = f[pfn]! & ~(LRU | MLOCKED | UNEVICTABLE | ACTIVE);
}

/** lru_activate() of folio_activate(): an inactive evictable folio on the LRU moves to its active list. */
export function folioActivate(vm: Vm, pfn: number): void {
  const f = vm.k.pages.flags;
  const v = f[pfn]!;
  if ((v & LRU) === 0 || (v & (ACTIVE | UNEVICTABLE)) !== 0) return;
  vm.lruvec.del(pfn);
  f[pfn] = f[pfn]! | ACTIVE;
  vm.lruvec.add(pfn);
  vm.lruEv.pgactivate++;
}

/**
 * folio_mark_accessed(): the first access sets PG_referenced; the second
 * (referenced, inactive, evictable) activates the folio, clears
 * PG_referenced and ages the workingset clock (workingset_activation). An
 * unevictable folio is left alone; a dropbehind one is not marked.
 */
export function folioMarkAccessed(vm: Vm, pfn: number): void {
  const f = vm.k.pages.flags;
  const v = f[pfn]!;
  if ((v & (1 << PG.dropbehind)) !== 0) return;
  if (vm.lruvec.gen !== null) {
    lruGenIncRefs(vm, pfn);
    return;
  }
  if ((v & REFERENCED) === 0) {
    f[pfn] = v | REFERENCED;
  } else if ((v & UNEVICTABLE) !== 0) {
    // the unevictable list is never rotated: nothing to do
  } else if ((v & ACTIVE) === 0) {
    if ((v & LRU) !== 0) folioActivate(vm, pfn);
    // __lru_cache_activate_folio(): a folio not yet on the LRU would be marked active in its batch.
    else f[pfn] = f[pfn]! | ACTIVE;
    f[pfn] = f[pfn]! & ~REFERENCED;
    workingsetActivation(vm, pfn);
  }
}

/**
 * lru_deactivate_file() of deactivate_file_folio() (invalidation of a
 * folio that could not be dropped): a dirty or under-writeback folio goes to
 * the inactive head with PG_reclaim, a clean one to the inactive tail
 * (pgrotated); an active one counts pgdeactivate.
 */
export function deactivateFileFolio(vm: Vm, pfn: number): void {
  const f = vm.k.pages.flags;
  const v = f[pfn]!;
  if ((v & LRU) === 0 || (v & UNEVICTABLE) !== 0) return;
  // Some process is using it.
  if (vm.k.pages.mapcount[pfn]! > 0) return;
  // under the multi-gen LRU every folio counts as deactivated
  const active = (v & ACTIVE) !== 0 || vm.lruvec.gen !== null;
  vm.lruvec.del(pfn);
  f[pfn] = f[pfn]! & ~(ACTIVE | REFERENCED);
  if ((v & (DIRTY | (1 << PG.writeback))) !== 0) {
    f[pfn] = f[pfn]! | (1 << PG.reclaim);
    vm.lruvec.add(pfn);
  } else {
    vm.lruvec.addTail(pfn);
    vm.lruEv.pgrotated++;
  }
  if (active) vm.lruEv.pgdeactivate++;
}

/**
 * lru_deactivate() of folio_deactivate() (MADV_COLD): an active evictable
 * folio moves to the head of its inactive list, PG_referenced cleared.
 */
export function folioDeactivate(vm: Vm, pfn: number): void {
  const f = vm.k.pages.flags;
  const v = f[pfn]!;
  if ((v & LRU) === 0 || (v & UNEVICTABLE) !== 0) return;
  const gen = vm.lruvec.gen !== null;
  if ((v & ACTIVE) === 0 && (v & REFERENCED) === 0 && !gen) return;
  vm.lruvec.del(pfn);
  f[pfn] = f[pfn]! & ~(ACTIVE | REFERENCED);
  vm.lruvec.add(pfn);
  if ((v & ACTIVE) !== 0 || gen) vm.lruEv.pgdeactivate++;
}

/**
 * folio_rotate_reclaimable() at the end of writeback of a PG_reclaim folio
 * (folio_end_writeback): a clean evictable folio on the LRU moves to the
 * tail of its inactive list to be reclaimed soon (pgrotated).
 */
export function folioRotateReclaimable(vm: Vm, pfn: number): void {
  const f = vm.k.pages.flags;
  const v = f[pfn]!;
  if ((v & (LOCKED | DIRTY | UNEVICTABLE)) !== 0 || (v & LRU) === 0) return;
  vm.lruvec.del(pfn);
  f[pfn] = f[pfn]! & ~ACTIVE;
  vm.lruvec.addTail(pfn);
  vm.lruEv.pgrotated++;
}

/**
 * lru_note_cost(): the cost of reclaiming one type, in pages (I/O counted
 * SWAP_CLUSTER_MAX times a rotation); both costs halve once they pass a
 * quarter of the evictable LRU pages, so old events decay.
 */
export function lruNoteCost(vm: Vm, file: boolean, nrIo: number, nrRotated: number): void {
  const lv = vm.lruvec;
  const cost = nrIo * SWAP_CLUSTER_MAX + nrRotated;
  if (cost === 0) return;
  if (file) lv.fileCost += cost;
  else lv.anonCost += cost;
  const lrusize = lv.size(0) + lv.size(1) + lv.size(2) + lv.size(3);
  if (lv.fileCost + lv.anonCost > Math.floor(lrusize / 4)) {
    lv.fileCost = Math.floor(lv.fileCost / 2);
    lv.anonCost = Math.floor(lv.anonCost / 2);
  }
}

/** lru_note_cost_refault(): a refault of a folio that was active costs its type one page of I/O. */
export function lruNoteCostRefault(vm: Vm, pfn: number): void {
  lruNoteCost(vm, folioIsFileLru(vm.k.pages.flags[pfn]!), 1, 0);
}
