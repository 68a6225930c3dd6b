/**
 * MADV_PAGEOUT and MADV_COLD (mm/madvise.c: madvise_cold_or_pageout_pte_range,
 * then reclaim_pages() for pageout).
 *
 * The pages considered are the present, normal pages of the range that are
 * on the LRU and mapped once (folio_maybe_mapped_shared() skips a small
 * folio whose mapcount is above 1), anonymous, file and shmem alike (kmem's
 * caller may always page files out: can_do_file_pageout for root). MADV_COLD
 * makes their PTEs old (MADV_PAGEOUT does not: reclaim ignores references),
 * and PG_referenced is cleared (PG_workingset set on an
 * active folio). MADV_COLD deactivates each (folio_deactivate); MADV_PAGEOUT
 * isolates each (folio_isolate_lru) and hands the list to reclaim_pages():
 * shrink_folio_list() with ignore_references (src/vm/vmscan.ts), which swaps
 * anonymous pages out, drops clean file pages, and keeps dirty file pages
 * (only kswapd writes them) and shmem (no shmem_writeout in kmem).
 */

import { PG } from '../memory/page.js';
import { forEachPte, invalidateTlbPage } from './memory.js';
import type { Mm } from './mm_types.js';
import { EINVAL, VM } from './mman.js';
import { _PAGE_ACCESSED, _PAGE_DIRTY, _PAGE_PRESENT, _PAGE_SAVED_DIRTY_HI, _PAGE_SPECIAL } from './pgtable.js';
import { folioDeactivate } from './swap.js';
import { folioFreeSwap, freeSwapAndCache, pageSwapCache } from './swap_state.js';
import { isSwapPte } from './swapops.js';
import type { Vm } from './vm.js';
import { reclaimPages } from './vmscan.js';

/**
 * madvise_pageout() / madvise_cold() over [start, end) of VMA v: 0, or
 * -EINVAL for a VMA reclaim may not touch (can_madv_lru_vma: locked,
 * PFN-mapped, hugetlb).
 */
export function madviseColdOrPageout(vm: Vm, mm: Mm, v: number, start: number, end: number, pageout: boolean): number {
  if ((vm.s.vmFlags(v) & (VM.LOCKED | VM.PFNMAP | VM.HUGETLB)) !== 0) return -EINVAL;
  const u32 = vm.k.phys.u32;
  const p = vm.k.pages;
  const list: number[] = [];
  forEachPte(vm, mm.pgd, start, end, (idx, va) => {
    const lo = u32[idx]!;
    if ((lo & _PAGE_PRESENT) === 0 || (lo & _PAGE_SPECIAL) !== 0) return;
    const pfn = lo >>> 12;
    // Not on the LRU, or maybe mapped by another process: left alone.
    if ((p.flags[pfn]! & (1 << PG.lru)) === 0 || p.mapcount[pfn]! > 1) return;
    // MADV_COLD: the PTE made old. MADV_PAGEOUT leaves it young (6.10+: reclaim_pages() ignores references instead).
    if (!pageout && (lo & _PAGE_ACCESSED) !== 0) {
      u32[idx] = (lo & ~_PAGE_ACCESSED) >>> 0;
      invalidateTlbPage(mm, Math.floor(va / 4096));
    }
    // folio_clear_referenced(): reclaim could not take the folio otherwise; an active one keeps PG_workingset.
    let fl = p.flags[pfn]! & ~(1 << PG.referenced);
    if ((fl & (1 << PG.active)) !== 0) fl |= 1 << PG.workingset;
    p.flags[pfn] = fl;
    // madvise_cold: folio_deactivate() (lru_deactivate: an active folio to its inactive list's head).
    if (!pageout) {
      folioDeactivate(vm, pfn);
      return;
    }
    // folio_isolate_lru(): off its list with a reference; an unevictable one goes back (folio_putback_lru).
    if ((fl & (1 << PG.unevictable)) !== 0) return;
    vm.lruvec.del(pfn);
    p.flags[pfn] = p.flags[pfn]! & ~(1 << PG.lru);
    p.refcount[pfn] = p.refcount[pfn]! + 1;
    list.push(pfn);
  });
  // madvise_pageout: reclaim_pages() of the folios isolated
  if (list.length > 0) reclaimPages(vm, list);
  return 0;
}

/**
 * MADV_FREE over [start, end) of VMA v (mm/madvise.c: madvise_free_single_vma,
 * madvise_free_pte_range): 0, or -EINVAL for a VMA that is not anonymous
 * (file, shmem, special) or is locked / PFN-mapped.
 *
 * A swap PTE is dropped with its swap slot (a swap-in would cost more than a
 * fresh zeroed page). A present page mapped by this PTE only leaves the swap
 * cache, loses PG_dirty, and its PTE loses Accessed and Dirty: reclaim may
 * then discard it, and a later write re-dirties it. A page shared with
 * another mm (mapcount above 1) or the zero page is left alone.
 *
 * Not modelled: folio_mark_lazyfree()'s move to the inactive file list with
 * PG_swapbacked cleared (the kernel queues it in a per-CPU batch, so until a
 * drain smaps' LazyFree stays 0, as kmem's always does); kmem's reclaim
 * therefore swaps such a page rather than discarding it.
 */
export function madviseFree(vm: Vm, mm: Mm, v: number, start: number, end: number): number {
  const s = vm.s;
  if ((s.vmFlags(v) & (VM.LOCKED | VM.PFNMAP | VM.HUGETLB)) !== 0) return -EINVAL;
  // vma_is_anonymous(): no file and no vm_ops.
  if (s.vmFile(v) !== 0 || s.vmOps(v) !== 0) return -EINVAL;
  const u32 = vm.k.phys.u32;
  const p = vm.k.pages;
  forEachPte(vm, mm.pgd, start, end, (idx, va) => {
    const lo = u32[idx]!;
    if ((lo & _PAGE_PRESENT) === 0) {
      if (isSwapPte(lo, u32[idx + 1]!)) {
        mm.swapEnts--;
        freeSwapAndCache(vm, lo, u32[idx + 1]!);
        u32[idx] = 0;
        u32[idx + 1] = 0;
      }
      return;
    }
    if ((lo & _PAGE_SPECIAL) !== 0) return;
    const pfn = lo >>> 12;
    if (p.mapcount[pfn]! > 1) return;
    if (pageSwapCache(vm, pfn)) folioFreeSwap(vm, pfn);
    p.flags[pfn] = p.flags[pfn]! & ~(1 << PG.dirty);
    const hi = u32[idx + 1]!;
    if ((lo & (_PAGE_ACCESSED | _PAGE_DIRTY)) !== 0 || (hi & _PAGE_SAVED_DIRTY_HI) !== 0) {
      u32[idx] = (lo & ~(_PAGE_ACCESSED | _PAGE_DIRTY)) >>> 0;
      u32[idx + 1] = (hi & ~_PAGE_SAVED_DIRTY_HI) >>> 0;
      invalidateTlbPage(mm, Math.floor(va / 4096));
    }
  });
  return 0;
}
