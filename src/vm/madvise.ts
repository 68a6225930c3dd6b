/**
 * MADV_PAGEOUT and MADV_COLD (mm/madvise.c: madvise_cold_or_pageout_pte_range,
 * then reclaim_pages() for pageout).
 *
 * The pages considered are the present, normal pages of the range that are
 * mapped once (folio_maybe_mapped_shared() skips a small folio whose
 * mapcount is above 1); their PTEs are made old. For MADV_PAGEOUT each
 * private anonymous one is reclaimed at once: it gets a swap slot and
 * enters the swap cache (add_to_swap), its PTE becomes a swap PTE
 * (try_to_unmap), it is written to its slot (pageout), and, the write
 * being synchronous in kmem, it leaves the swap cache and is freed
 * (__remove_mapping). Without swap (or with swap full) an anonymous page
 * stays. File and shmem pages are left to reclaim proper (h1's
 * shrink_folio_list; the lead will route pageout through it): their PTEs
 * are only aged. MADV_COLD clears PG_referenced (PG_workingset set on an
 * active folio) and deactivates the folio (folio_deactivate), anonymous
 * and file alike.
 */

import { PG } from '../memory/page.js';
import { forEachPte, invalidateTlbPage } from './memory.js';
import type { Mm } from './mm_types.js';
import { EINVAL, VM } from './mman.js';
import { _PAGE_ACCESSED, _PAGE_PRESENT, _PAGE_SPECIAL } from './pgtable.js';
import { folioDeactivate } from './swap.js';
import { addToSwap, deleteFromSwapCache, pageSwapCache, swapWritepage, unmapAnonPte } from './swap_state.js';
import { KIND_ANON, type Vm } from './vm.js';

/**
 * madvise_pageout() / madvise_cold() over [start, end) of VMA v: 0, or
 * -EINVAL for a VMA reclaim may not touch (can_madv_lru_vma: locked,
 * PFN-mapped, hugetlb).
 */
export function madviseColdOrPageout(vm: Vm, mm: Mm, v: number, start: number, end: number, pageout: boolean): number {
  if ((vm.s.vmFlags(v) & (VM.LOCKED | VM.PFNMAP | VM.HUGETLB)) !== 0) return -EINVAL;
  const u32 = vm.k.phys.u32;
  const p = vm.k.pages;
  const anonVma = (vm.s.vmFlags(v) & VM.SHARED) === 0;
  forEachPte(vm, mm.pgd, start, end, (idx, va) => {
    const lo = u32[idx]!;
    if ((lo & _PAGE_PRESENT) === 0 || (lo & _PAGE_SPECIAL) !== 0) return;
    const pfn = lo >>> 12;
    // Not on the LRU, or maybe mapped by another process: left alone.
    if ((p.flags[pfn]! & (1 << PG.lru)) === 0 || p.mapcount[pfn]! > 1) return;
    // ptep_test_and_clear_young()
    if ((lo & _PAGE_ACCESSED) !== 0) {
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
    if (!anonVma || vm.pageKind[pfn] !== KIND_ANON) return;
    // shrink_folio_list() for one anonymous folio, with ignore_references.
    if (!pageSwapCache(vm, pfn) && !addToSwap(vm, pfn)) return;
    unmapAnonPte(vm, mm, va, idx, pfn);
    // Still mapped elsewhere (another mm's PTE): it stays in the swap cache.
    if (p.mapcount[pfn] !== 0) return;
    if ((p.flags[pfn]! & (1 << PG.dirty)) !== 0) swapWritepage(vm, pfn);
    deleteFromSwapCache(vm, pfn);
    vm.putPage(pfn);
  });
  return 0;
}
