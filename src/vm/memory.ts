/**
 * Page faults and page-table range operations (mm/memory.c):
 * handle_mm_fault() with do_anonymous_page(), the file faults (do_read_fault
 * with fault-around, do_cow_fault, do_shared_fault; SIGBUS past i_size) and
 * do_wp_page(), zapping a range (unmap_page_range, and unmap_mapping_range
 * over a file's mappers), copying one at fork (copy_page_range), and
 * populating one (MAP_POPULATE's faults).
 *
 * Page state the fault paths keep, per frame (struct page fields):
 *   refcount   one reference per PTE that maps the page (the zero page: none),
 *              plus the page cache's on a file or shmem page, and the swap
 *              cache's on a swap-cache page (src/vm/swap_state.ts)
 *   mapcount   the PTEs that map it (_mapcount + 1)
 *   vm.pageKind anonymous, file or shmem (what page->mapping tells)
 *   vm.pageMapping, pages.index: the anon_vma or inode, and the linear or
 *              file index, for the reverse map (src/vm/rmap.ts)
 * New anonymous pages join the LRU (folio_add_lru_vma) as they are mapped.
 * Any allocation may reclaim: a fault holds a reference on a page it still
 * uses across an allocation, and rechecks the PTE after (pte_same).
 * A private page is reused on a write fault when its refcount is 1 (no
 * other mm maps it: wp_can_reuse_anon_folio()). A swap PTE (a non-present
 * entry naming a swap slot) faults through do_swap_page; zap and fork
 * treat it as zap_nonpresent_ptes and copy_nonpresent_pte do.
 */

import { PG } from '../memory/page.js';
import { __GFP_COMP, __GFP_ZERO, GFP_HIGHUSER_MOVABLE } from '../page_alloc/gfp.js';
import { filemapFault, PG_readahead, pageCache } from './filemap.js';
import type { Task } from './fork.js';
import { folioLruList, NR_LRU_LISTS } from './mm_inline.js';
import { MMAP_MIN_ADDR, type Mm, STACK_GUARD_GAP, TWO32, VMA, VMA_OPS_VDSO } from './mm_types.js';
import { VM, X86_PF_PROT, X86_PF_USER, X86_PF_WRITE } from './mman.js';
import { balanceDirtyPagesRatelimited } from './page-writeback.js';
import { _PAGE_ACCESSED, _PAGE_DIRTY, _PAGE_PRESENT, _PAGE_PROTNONE, _PAGE_RW, _PAGE_SOFT_DIRTY, _PAGE_SPECIAL, PGDIR_SHIFT, PMD_SHIFT } from './pgtable.js';
import { folioAddFileRmapPte, folioAddNewAnonRmap, folioRemoveRmapPte } from './rmap.js';
import { SGP_CACHE, SHMEM_EINVAL, shmemMarkDirty, shmemOf } from './shmem.js';
import { lruAdd, munlockFolio } from './swap.js';
import { ANON_EXCLUSIVE, copySwapPte, doSwapPage, folioFreeSwap, freeSwapAndCache, freeSwapCache, pageSwapCache, VM_FAULT_MAJOR } from './swap_state.js';
import { isSwapPte } from './swapops.js';
import { VDSO_PAGES, vdsoPage } from './vdso.js';
import { KIND_ANON, KIND_SHMEM, type Vm } from './vm.js';
import { anonVmaPrepare, findVmaIndex, syncMapleNodes } from './vma.js';

/** Result of handleMmFault: 0 handled, the x86 error code of the SIGSEGV to send (> 0), VM_FAULT_OOM or VM_FAULT_SIGBUS. */
export type FaultResult = number;
export const VM_FAULT_OOM = -1;
/** The fault found no page to map: past the end of the file (the caller sends SIGBUS). */
export const VM_FAULT_SIGBUS = -3;
/** doAnonymousWriteFast(): its case does not apply, nothing was done. */
export const FAST_FAULT_NA = -2;

/**
 * do_user_addr_fault() for a user access at va that missed in the page
 * tables (or hit a PTE that does not allow it): 0 when handled, the error
 * code when the access is bad (the caller sends SIGSEGV), VM_FAULT_OOM,
 * VM_FAULT_SIGBUS.
 */
export function doUserAddrFault(vm: Vm, t: Task, va: number, write: boolean, pteIdx: number): number {
  const mm = t.mm!;
  const s = vm.s;
  const u32 = vm.k.phys.u32;
  const present = pteIdx >= 0 && (u32[pteIdx]! & _PAGE_PRESENT) !== 0;
  const err = X86_PF_USER | (write ? X86_PF_WRITE : 0) | (present ? X86_PF_PROT : 0);
  if (va >= mm.taskSize) return err;
  // lock_mm_and_find_vma()
  let i = findVmaHinted(vm, mm, va);
  if (i < 0) return err;
  let v = mm.vmas[i]!;
  if (s.vmStart(v) > va) {
    if ((s.vmFlags(v) & VM.GROWSDOWN) === 0) return err;
    if (!expandDownwards(vm, t, mm, i, va)) return err;
    i = findVmaIndex(vm, mm, va);
    v = mm.vmas[i]!;
  }
  // access_error()
  const flags = s.vmFlags(v);
  if (write) {
    if ((flags & VM.WRITE) === 0) return err;
  } else {
    if (present) return err;
    if ((flags & (VM.READ | VM.WRITE | VM.EXEC)) === 0) return err;
  }
  // handle_mm_fault(): counted in PGFAULT, and as a major or minor fault of the task when it succeeds (mm_account_fault).
  vm.pgfault++;
  faultMajor = false;
  faultDirtied = -1;
  // lru_gen_enter_fault() / lru_gen_exit_fault()
  vm.lruvec.inFault = (flags & (VM.SEQ_READ | VM.RAND_READ)) === 0;
  const r = handlePteFault(vm, mm, v, va, write, pteIdx);
  vm.lruvec.inFault = false;
  // fault_dirty_shared_page(): the page tables are done with; the writer may wait here for writeback.
  if (faultDirtied >= 0) {
    const newly = faultDirtied;
    faultDirtied = -1;
    balanceDirtyPagesRatelimited(vm, t, newly);
  }
  if (r === 0) {
    if (faultMajor) t.majFlt++;
    else t.minFlt++;
  } else if (r === VM_FAULT_MAJOR) {
    t.majFlt++;
    return 0;
  }
  return r;
}

/**
 * doUserAddrFault() -> handlePteFault() -> doAnonymousPage() for their most
 * common case, written out in one function for Task.translate: a store to an
 * empty PTE (its page table present, idx) inside the VMA the last fault
 * found, a writable anonymous VMA that already has its anon_vma, is not
 * VM_LOCKED (folio_add_lru_vma would mlock the page) and the classic LRU
 * (the multi-gen LRU places a faulted page by its own rule). The same steps
 * in the same order as that path (PGFAULT, the zeroed page, rmap and LRU,
 * PageAnonExclusive, MM_ANONPAGES and hiwater_rss, the PTE, the task's minor
 * fault), each written out from the VMA's fields as read once here, so the
 * state after it is the general path's. Returns the new page's pfn (>= 0:
 * a small integer, so the return boxes nothing where a PTE word above 2^31
 * would), VM_FAULT_OOM as that path would, or FAST_FAULT_NA having changed
 * nothing when the case does not apply (the caller takes the general path).
 */
export function doAnonymousWriteFast(vm: Vm, t: Task, mm: Mm, va: number, idx: number): number {
  const vmas = mm.vmas;
  if (hintMm !== mm || hintIdx >= vmas.length || va >= mm.taskSize) return FAST_FAULT_NA;
  const v = vmas[hintIdx]!;
  const u32 = vm.k.phys.u32;
  const w = v >>> 2;
  // vm_start <= va < vm_end (u64 fields as two words), VM_WRITE without VM_LOCKED, no vm_file, an anon_vma.
  const start = u32[w + (VMA.START >>> 2)]! + u32[w + (VMA.START >>> 2) + 1]! * TWO32;
  if (start > va || u32[w + (VMA.END >>> 2)]! + u32[w + (VMA.END >>> 2) + 1]! * TWO32 <= va) return FAST_FAULT_NA;
  const flags = u32[w + (VMA.FLAGS >>> 2)]!;
  if ((flags & (VM.WRITE | VM.LOCKED)) !== VM.WRITE || (u32[w + (VMA.FILE >>> 2)]! | u32[w + (VMA.FILE >>> 2) + 1]!) !== 0) return FAST_FAULT_NA;
  const anonVma = u32[w + (VMA.ANON_VMA >>> 2)]! + u32[w + (VMA.ANON_VMA >>> 2) + 1]! * TWO32;
  if (anonVma === 0 || vm.lruvec.gen !== null) return FAST_FAULT_NA;
  vm.pgfault++;
  faultMajor = false;
  faultDirtied = -1;
  // Vm.allocUserPage(true): vma_alloc_zeroed_movable_folio(), an anonymous, swap-backed, up-to-date page.
  const pfn = vm.allocZeroedPfn(GFP_HIGHUSER_MOVABLE | __GFP_COMP | __GFP_ZERO);
  if (pfn < 0) return VM_FAULT_OOM;
  vm.pageKind[pfn] = KIND_ANON;
  const p = vm.k.pages;
  const f = p.flags[pfn]! | (1 << PG.swapbacked) | (1 << PG.uptodate);
  // folio_add_new_anon_rmap(RMAP_EXCLUSIVE): the first mapping, the anon_vma and the linear index.
  p.mapcount[pfn] = 1;
  vm.nrAnonMapped++;
  vm.pageMapping[pfn] = anonVma;
  p.index[pfn] = u32[w + (VMA.PGOFF >>> 2)]! + u32[w + (VMA.PGOFF >>> 2) + 1]! * TWO32 + Math.floor((va - start) / 4096);
  // folio_add_lru_vma() of a VMA that is not VM_LOCKED: folio_add_lru() onto the classic lists; then PageAnonExclusive.
  // lru_add() of a page neither mlocked nor unevictable only sets PG_lru (no event): written out with
  // Lruvec.addClassic()'s list steps, the three flag updates in one store. Any other page: lruAdd() itself.
  if ((f & ((1 << PG.mlocked) | (1 << PG.unevictable))) === 0) {
    p.flags[pfn] = f | (1 << PG.lru) | ANON_EXCLUSIVE;
    const lv = vm.lruvec;
    const lru = folioLruList(f);
    const h = lv.head[lru]!;
    p.next[pfn] = h;
    p.prev[pfn] = -1;
    if (h < 0) lv.tail[lru] = pfn;
    else p.prev[h] = pfn;
    lv.head[lru] = pfn;
    lv.nrZone[vm.k.pageAlloc.pageZone(pfn) * NR_LRU_LISTS + lru]!++;
  } else {
    p.flags[pfn] = f;
    lruAdd(vm, pfn);
    p.flags[pfn] = p.flags[pfn]! | ANON_EXCLUSIVE;
  }
  mm.rssAnon++;
  mm.updateHiwaterRss();
  // VM_WRITE is set: writable and dirty at once.
  u32[idx] = ((pfn * 4096) | u32[w + (VMA.PAGE_PROT >>> 2)]! | _PAGE_ACCESSED | _PAGE_RW | _PAGE_DIRTY | _PAGE_SOFT_DIRTY) >>> 0;
  u32[idx + 1] = u32[w + (VMA.PAGE_PROT >>> 2) + 1]!;
  t.minFlt++;
  prefetchNextFrame(vm.k.phys.u8, pfn);
  return pfn;
}

/**
 * A read of the first byte of frame pfn + 1, the frame the next order-0
 * allocation most often returns (a block split on the pcp refill hands its
 * frames out in ascending order): the host CPU's TLB entry and first cache
 * line of that frame are then loaded while the caller goes on, and the next
 * fault's __GFP_ZERO fill starts warm. It changes nothing kmem shows (a load
 * of RAM, stored in a sink only so that the JIT does not drop it); measured on
 * the first-touch bench: about 10% less time per fault.
 */
function prefetchNextFrame(u8: Uint8Array, pfn: number): void {
  const a = (pfn + 1) * 4096;
  if (a < u8.length) prefetchSink[0] = u8[a]!;
}

/** Where prefetchNextFrame() puts the byte it read (a store the JIT must keep). */
const prefetchSink = new Uint8Array(1);

/** The mm and VMA index of the last fault's lookup: a run of faults in one VMA skips the search. */
let hintMm: Mm | null = null;
let hintIdx = 0;

/**
 * find_vma() for a fault: the VMA the last fault found when it still holds
 * va (VMAs never overlap, so it is the one the search would return), else
 * the search. The hint is only a guess, checked against the VMA array as it
 * is now.
 */
function findVmaHinted(vm: Vm, mm: Mm, va: number): number {
  const vmas = mm.vmas;
  if (hintMm === mm && hintIdx < vmas.length) {
    const v = vmas[hintIdx]!;
    if (vm.s.vmStart(v) <= va && va < vm.s.vmEnd(v)) return hintIdx;
  }
  const i = findVmaIndex(vm, mm, va);
  hintMm = mm;
  hintIdx = Math.max(0, i);
  return i;
}

/**
 * expand_downwards(): grow the stack VMA down to va's page, within
 * RLIMIT_STACK and keeping stack_guard_gap above the VMA below.
 */
function expandDownwards(vm: Vm, t: Task, mm: Mm, i: number, va: number): boolean {
  const s = vm.s;
  const v = mm.vmas[i]!;
  const addr = va - (va % 4096);
  if (addr < MMAP_MIN_ADDR) return false;
  if (i > 0) {
    const prev = mm.vmas[i - 1]!;
    const pf = s.vmFlags(prev);
    if ((pf & VM.GROWSDOWN) === 0 && (pf & (VM.READ | VM.WRITE | VM.EXEC)) !== 0 && addr - s.vmEnd(prev) < STACK_GUARD_GAP) return false;
  }
  // acct_stack_growth()
  const size = s.vmEnd(v) - addr;
  const grow = (s.vmStart(v) - addr) / 4096;
  if (size > mm.stackRlimit) return false;
  if ((s.vmFlags(v) & VM.ACCOUNT) !== 0 && !vm.enoughMemory(t, grow)) return false;
  anonVmaPrepare(vm, v);
  s.set64(v, VMA.START, addr);
  s.set64(v, VMA.PGOFF, s.vmPgoff(v) - grow);
  vm.statAccount(mm, s.vmFlags(v), grow);
  mm.updateHiwaterVm();
  // vma_iter_store(): the stack's new range goes into mm_mt at once.
  syncMapleNodes(vm, mm);
  return true;
}

/**
 * handle_pte_fault(): 0 done, VM_FAULT_MAJOR (done, the disk was read:
 * swap-in), VM_FAULT_OOM, VM_FAULT_SIGBUS. pteIdx is the PTE the MMU's walk
 * reached (-1 when a table on the way was missing): page tables go only at
 * munmap and exit, never within a fault, so it is still va's PTE and the
 * walk is not done again.
 */
function handlePteFault(vm: Vm, mm: Mm, v: number, va: number, write: boolean, pteIdx: number): number {
  const idx = pteIdx >= 0 ? pteIdx : vm.pt.walkAlloc(mm.pgd, va, mm);
  if (idx < 0) return VM_FAULT_OOM;
  const u32 = vm.k.phys.u32;
  const lo = u32[idx]!;
  if ((lo & _PAGE_PRESENT) === 0) {
    // A non-present PTE is empty, PROT_NONE, or a swap entry (do_swap_page).
    if (lo !== 0 || u32[idx + 1] !== 0) {
      if ((lo & _PAGE_PROTNONE) === 0) return doSwapPage(vm, mm, v, va, write, idx, doWpPage);
    }
    if (vm.s.vmFile(v) !== 0) return doFileFault(vm, mm, v, va, write, idx);
    if (vm.s.vmOps(v) === VMA_OPS_VDSO) return doVdsoFault(vm, mm, v, va, write, idx);
    return doAnonymousPage(vm, mm, v, va, write, idx);
  }
  if (write && (lo & _PAGE_RW) === 0) return doWpPage(vm, mm, v, va, idx);
  // A spurious fault: the PTE allows it; mark it young (and dirty for a write).
  u32[idx] = (lo | _PAGE_ACCESSED | (write ? _PAGE_DIRTY | _PAGE_SOFT_DIRTY : 0)) >>> 0;
  return 0;
}

/**
 * do_cow_fault()'s tail: the new anonymous page pfn gets a copy of page src,
 * joins the VMA's anon_vma as exclusive (folio_add_new_anon_rmap with
 * RMAP_EXCLUSIVE: PageAnonExclusive), counts in MM_ANONPAGES, and is mapped
 * writable, dirty and young at PTE idx with the VMA's protection bits.
 */
function mapCowCopy(vm: Vm, mm: Mm, v: number, va: number, idx: number, src: number, pfn: number, protLo: number, protHi: number): void {
  const u32 = vm.k.phys.u32;
  vm.k.phys.u8.copyWithin(pfn * 4096, src * 4096, src * 4096 + 4096);
  folioAddNewAnonRmap(vm, pfn, v, va);
  vm.k.pages.flags[pfn] = vm.k.pages.flags[pfn]! | ANON_EXCLUSIVE;
  mm.rssAnon++;
  mm.updateHiwaterRss();
  u32[idx] = ((pfn * 4096) | protLo | _PAGE_RW | _PAGE_DIRTY | _PAGE_SOFT_DIRTY | _PAGE_ACCESSED) >>> 0;
  u32[idx + 1] = protHi;
}

/**
 * vdso_fault() + finish_fault() for a [vdso] VMA: a read maps the image's
 * page read-only as a file page is (MM_FILEPAGES, NR_FILE_MAPPED; no
 * fault-around: the special mapping has no map_pages); a write (after an
 * mprotect that allowed it, as a debugger does) gets a private anonymous
 * copy (do_cow_fault). Past the image: SIGBUS.
 */
function doVdsoFault(vm: Vm, mm: Mm, v: number, va: number, write: boolean, idx: number): number {
  const s = vm.s;
  const u32 = vm.k.phys.u32;
  const i = s.vmPgoff(v) + Math.floor((va - s.vmStart(v)) / 4096);
  if (i >= VDSO_PAGES) return VM_FAULT_SIGBUS;
  const page = vdsoPage(vm, i);
  if (page < 0) return VM_FAULT_OOM;
  const protLo = u32[(v + VMA.PAGE_PROT) >>> 2]!;
  const protHi = u32[((v + VMA.PAGE_PROT) >>> 2) + 1]!;
  if (write && (s.vmFlags(v) & VM.SHARED) === 0) {
    const pfn = anonVmaPrepare(vm, v) ? vm.allocUserPage(false) : -1;
    if (pfn < 0) return VM_FAULT_OOM;
    mapCowCopy(vm, mm, v, va, idx, page, pfn, protLo, protHi);
    return 0;
  }
  vm.k.pages.refcount[page] = vm.k.pages.refcount[page]! + 1;
  folioAddFileRmapPte(vm, page);
  mm.rssFile++;
  mm.updateHiwaterRss();
  u32[idx] = ((page * 4096) | protLo | _PAGE_ACCESSED) >>> 0;
  u32[idx + 1] = protHi;
  return 0;
}

/**
 * __do_fault(): the page of the file at pgoff, from filemap_fault() (the
 * page cache and mmap readahead) or shmem_fault(). A page at or past i_size
 * is VM_FAULT_SIGBUS (filemap_fault's max_idx check; shmem_get_folio's
 * -EINVAL); VM_FAULT_OOM when memory is out.
 */
function doFault(vm: Vm, ino: number, pgoff: number): number {
  const sh = shmemOf(vm);
  if (sh.isShmem(ino)) {
    const pfn = sh.getFolio(ino, pgoff, SGP_CACHE);
    if (pfn === SHMEM_EINVAL) return VM_FAULT_SIGBUS;
    if (pfn < 0) return VM_FAULT_OOM;
    // shmem_fault() hands the page over with a reference (filemap_fault takes its own).
    const rc = vm.k.pages.refcount;
    rc[pfn] = rc[pfn]! + 1;
    return pfn;
  }
  const inode = vm.fs.byIno(ino);
  if (inode === undefined || pgoff >= Math.ceil(inode.data.length / 4096)) return VM_FAULT_SIGBUS;
  // filemap_fault(): a page not in the cache is read from the disk: PGMAJFAULT, and VM_FAULT_MAJOR for the task.
  if ((pageCache(vm).spaces.get(ino)?.xa.load(pgoff) ?? -1) < 0) {
    vm.pgmajfault++;
    faultMajor = true;
  }
  const pfn = filemapFault(vm, ino, pgoff);
  return pfn < 0 ? VM_FAULT_OOM : pfn;
}

/** Set by a fault that had to read its page from the disk (VM_FAULT_MAJOR); read by whoever accounts the fault. */
let faultMajor = false;

/**
 * folio_mark_dirty() of a page-cache page written through a shared mapping
 * (fault_dirty_shared_page): PG_dirty with NR_FILE_DIRTY and the xarray's
 * dirty tag for a file that is written back; PG_dirty alone for shmem.
 */
function markSharedDirty(vm: Vm, ino: number, pgoff: number, pfn: number): void {
  if (vm.pageKind[pfn] === KIND_SHMEM) shmemMarkDirty(vm, pfn);
  else {
    const pc = pageCache(vm);
    // The file's vm_ops has page_mkwrite (filemap_page_mkwrite), so the fault balances even when the page was dirty already.
    faultDirtied = pc.markDirty(pc.mapping(ino), pgoff, pfn) ? 1 : 0;
  }
}

/**
 * Set by a shared write fault that dirtied a page of a file that is written
 * back: the pages newly dirtied (0 or 1), -1 for none. After the fault,
 * fault_dirty_shared_page() throttles the task with
 * balance_dirty_pages_ratelimited() (tmpfs's noop bdi has no
 * BDI_CAP_WRITEBACK: its pages never balance).
 */
let faultDirtied = -1;

/**
 * The file fault paths of do_fault(): do_read_fault() (fault-around, then
 * the page mapped with vm_page_prot: read-only in a private mapping or a
 * shared one that wants write notification), do_cow_fault() (a private
 * write: the page copied into a new anonymous page) and do_shared_fault()
 * (a shared write: the page-cache page dirtied, then mapped writable and
 * dirty). Invariant kept: a writable PTE of a page of a written-back file
 * exists only while the page is PG_dirty (writeback's folio_mkclean takes
 * RW away again).
 */
function doFileFault(vm: Vm, mm: Mm, v: number, va: number, write: boolean, idx: number): number {
  const s = vm.s;
  const u32 = vm.k.phys.u32;
  const ino = s.vmFile(v);
  const pgoff = s.vmPgoff(v) + Math.floor((va - s.vmStart(v)) / 4096);
  // do_read_fault(): fault-around first; if it mapped the faulting page, done.
  if (!write && faultAround(vm, mm, v, va, ino) && (u32[idx]! & _PAGE_PRESENT) !== 0) return 0;
  // The fault holds a reference on the page (vmf->page), so reclaim cannot free it under the fault.
  const cache = doFault(vm, ino, pgoff);
  if (cache < 0) return cache;
  // A read that waited for the disk returns VM_FAULT_RETRY, and the retried do_read_fault() runs fault-around
  // again over the pages mmap read-around brought in: the faulting page is mapped with its neighbours.
  if (!write && faultMajor && faultAround(vm, mm, v, va, ino) && (u32[idx]! & _PAGE_PRESENT) !== 0) {
    vm.putPage(cache);
    return 0;
  }
  const protLo = u32[(v + VMA.PAGE_PROT) >>> 2]!;
  const protHi = u32[((v + VMA.PAGE_PROT) >>> 2) + 1]!;
  const shared = (s.vmFlags(v) & VM.SHARED) !== 0;
  if (write && !shared) {
    const pfn = anonVmaPrepare(vm, v) ? vm.allocUserPage(false) : -1;
    if (pfn < 0) {
      vm.putPage(cache);
      return VM_FAULT_OOM;
    }
    mapCowCopy(vm, mm, v, va, idx, cache, pfn, protLo, protHi);
    vm.putPage(cache);
    return 0;
  }
  // do_shared_fault(): do_page_mkwrite() / fault_dirty_shared_page() dirty the page; the PTE is writable and dirty.
  if (write) markSharedDirty(vm, ino, pgoff, cache);
  // The fault's reference becomes the PTE's.
  folioAddFileRmapPte(vm, cache);
  if (vm.pageKind[cache] === KIND_SHMEM) mm.rssShmem++;
  else mm.rssFile++;
  mm.updateHiwaterRss();
  u32[idx] = ((cache * 4096) | protLo | _PAGE_ACCESSED | (write ? _PAGE_RW | _PAGE_DIRTY | _PAGE_SOFT_DIRTY : 0)) >>> 0;
  u32[idx + 1] = protHi;
  return 0;
}

/** fault_around_bytes / PAGE_SIZE */
const FAULT_AROUND_PAGES = 16;

/** The pages of the file: its i_size rounded up to a page. */
function filePages(vm: Vm, ino: number): number {
  const sh = shmemOf(vm);
  if (sh.isShmem(ino)) return Math.ceil(sh.size(ino) / 4096);
  const inode = vm.fs.byIno(ino);
  return inode === undefined ? 0 : Math.ceil(inode.data.length / 4096);
}

/**
 * do_fault_around() + filemap_map_pages(): map the cached pages of the
 * fault_around_bytes-aligned window around va, clamped to the VMA, its PTE
 * table and the file's end. Returns true if it ran.
 */
function faultAround(vm: Vm, mm: Mm, v: number, va: number, ino: number): boolean {
  const s = vm.s;
  const u32 = vm.k.phys.u32;
  const p = vm.k.pages;
  const pteOff = Math.floor(va / 4096) % 512;
  const vmaOff = Math.floor((va - s.vmStart(v)) / 4096);
  const fromPte = Math.max(pteOff - (pteOff % FAULT_AROUND_PAGES), pteOff - Math.min(pteOff, vmaOff));
  const vmaPages = (s.vmEnd(v) - s.vmStart(v)) / 4096;
  const toPte = Math.min(fromPte + FAULT_AROUND_PAGES, 512, pteOff + vmaPages - vmaOff) - 1;
  const pgoff = s.vmPgoff(v) + vmaOff;
  const eof = filePages(vm, ino);
  const protLo = u32[(v + VMA.PAGE_PROT) >>> 2]!;
  const protHi = u32[((v + VMA.PAGE_PROT) >>> 2) + 1]!;
  const base = va - (va % 4096) - (pteOff - fromPte) * 4096;
  for (let i = fromPte; i <= toPte; i++) {
    const off = pgoff + (i - pteOff);
    if (off >= eof) break;
    if (!vm.pageCache.has(ino * 2 ** 32 + off)) continue;
    // The table first (its allocation may reclaim), then the page as the cache holds it now.
    const a = base + (i - fromPte) * 4096;
    const e = vm.pt.walkAlloc(mm.pgd, a, mm);
    if (e < 0 || u32[e] !== 0 || u32[e + 1] !== 0) continue;
    const pfn = vm.pageCache.get(ino * 2 ** 32 + off);
    // next_uptodate_folio(): a page with the readahead marker is left for its fault.
    if (pfn === undefined || (p.flags[pfn]! & (1 << PG_readahead)) !== 0) continue;
    p.refcount[pfn] = p.refcount[pfn]! + 1;
    folioAddFileRmapPte(vm, pfn);
    if (vm.pageKind[pfn] === KIND_SHMEM) mm.rssShmem++;
    else mm.rssFile++;
    u32[e] = ((pfn * 4096) | protLo | _PAGE_ACCESSED) >>> 0;
    u32[e + 1] = protHi;
  }
  mm.updateHiwaterRss();
  return true;
}

/** do_anonymous_page(): a read maps the zero page, a write a new zeroed page. */
function doAnonymousPage(vm: Vm, mm: Mm, v: number, va: number, write: boolean, idx: number): number {
  const s = vm.s;
  const u32 = vm.k.phys.u32;
  const protLo = u32[(v + VMA.PAGE_PROT) >>> 2]!;
  const protHi = u32[((v + VMA.PAGE_PROT) >>> 2) + 1]!;
  if (!write) {
    // pte_mkspecial(pfn_pte(my_zero_pfn(addr), vma->vm_page_prot)): read-only whatever the VMA allows.
    u32[idx] = ((vm.zeroPfn * 4096) | (protLo & ~_PAGE_RW) | _PAGE_SPECIAL) >>> 0;
    u32[idx + 1] = protHi;
    return 0;
  }
  if (!anonVmaPrepare(vm, v)) return VM_FAULT_OOM;
  const pfn = vm.allocUserPage(true);
  if (pfn < 0) return VM_FAULT_OOM;
  folioAddNewAnonRmap(vm, pfn, v, va);
  // folio_add_new_anon_rmap(RMAP_EXCLUSIVE): PageAnonExclusive
  vm.k.pages.flags[pfn] = vm.k.pages.flags[pfn]! | ANON_EXCLUSIVE;
  mm.rssAnon++;
  mm.updateHiwaterRss();
  let e = (pfn * 4096) | protLo | _PAGE_ACCESSED;
  if ((s.vmFlags(v) & VM.WRITE) !== 0) e |= _PAGE_RW | _PAGE_DIRTY | _PAGE_SOFT_DIRTY;
  u32[idx] = e >>> 0;
  u32[idx + 1] = protHi;
  return 0;
}

/**
 * do_wp_page(): a write to a present, write-protected PTE in a writable
 * VMA. The zero page and shared pages are copied (wp_page_copy); a page
 * only this PTE holds is made writable in place (wp_page_reuse).
 */
function doWpPage(vm: Vm, mm: Mm, v: number, va: number, idx: number): number {
  const u32 = vm.k.phys.u32;
  const p = vm.k.pages;
  const lo = u32[idx]!;
  const old = lo >>> 12;
  const protLo = u32[(v + VMA.PAGE_PROT) >>> 2]!;
  const protHi = u32[((v + VMA.PAGE_PROT) >>> 2) + 1]!;
  const vpn = Math.floor(va / 4096);
  if ((vm.s.vmFlags(v) & VM.SHARED) !== 0) {
    // wp_page_shared(): the page is dirtied (do_page_mkwrite, fault_dirty_shared_page) and becomes writable where it is.
    markSharedDirty(vm, vm.s.vmFile(v), vm.s.vmPgoff(v) + Math.floor((va - vm.s.vmStart(v)) / 4096), old);
    u32[idx] = (lo | _PAGE_RW | _PAGE_DIRTY | _PAGE_SOFT_DIRTY | _PAGE_ACCESSED) >>> 0;
    invalidateTlbPage(mm, vpn);
    return 0;
  }
  // wp_can_reuse_anon_folio(): a swap-cache page only this PTE maps leaves the cache first.
  if ((lo & _PAGE_SPECIAL) === 0 && p.refcount[old] === 2 && pageSwapCache(vm, old)) folioFreeSwap(vm, old);
  if ((lo & _PAGE_SPECIAL) === 0 && p.refcount[old] === 1 && vm.pageKind[old] === KIND_ANON) {
    // wp_page_reuse(): the page is this mapping's alone (PageAnonExclusive)
    vm.pgreuse++;
    p.flags[old] = p.flags[old]! | ANON_EXCLUSIVE;
    u32[idx] = (lo | _PAGE_RW | _PAGE_DIRTY | _PAGE_SOFT_DIRTY | _PAGE_ACCESSED) >>> 0;
    invalidateTlbPage(mm, vpn);
    return 0;
  }
  // wp_page_copy(): the old page is held (get_page) while the new one is
  // allocated, which may reclaim; if the PTE changed meanwhile (reclaim
  // unmapped it), the fault is retried (pte_same() failed).
  if (!anonVmaPrepare(vm, v)) return VM_FAULT_OOM;
  const zero = (lo & _PAGE_SPECIAL) !== 0;
  if (!zero) p.refcount[old] = p.refcount[old]! + 1;
  const pfn = vm.allocUserPage(zero);
  if (pfn < 0 || u32[idx] !== lo) {
    if (pfn >= 0) vm.putPage(pfn);
    if (!zero) vm.putPage(old);
    return pfn < 0 ? VM_FAULT_OOM : 0;
  }
  const u8 = vm.k.phys.u8;
  if (!zero) {
    u8.copyWithin(pfn * 4096, old * 4096, old * 4096 + 4096);
    vm.putPage(old);
  }
  folioAddNewAnonRmap(vm, pfn, v, va);
  // folio_add_new_anon_rmap(RMAP_EXCLUSIVE): PageAnonExclusive
  p.flags[pfn] = p.flags[pfn]! | ANON_EXCLUSIVE;
  if (zero) {
    mm.rssAnon++;
  } else {
    if (vm.pageKind[old] !== KIND_ANON) {
      decRss(vm, mm, old);
      mm.rssAnon++;
    }
    dropMapping(vm, old);
  }
  mm.updateHiwaterRss();
  u32[idx] = ((pfn * 4096) | protLo | _PAGE_RW | _PAGE_DIRTY | _PAGE_SOFT_DIRTY | _PAGE_ACCESSED) >>> 0;
  u32[idx + 1] = protHi;
  invalidateTlbPage(mm, vpn);
  return 0;
}

/** folio_remove_rmap_pte() + put_page() */
function dropMapping(vm: Vm, pfn: number): void {
  folioRemoveRmapPte(vm, pfn);
  vm.putPage(pfn);
}

/** dec_mm_counter() for the counter the page's kind belongs to. */
function decRss(vm: Vm, mm: Mm, pfn: number): void {
  const kind = vm.pageKind[pfn];
  if (kind === KIND_ANON) mm.rssAnon--;
  else if (kind === KIND_SHMEM) mm.rssShmem--;
  else mm.rssFile--;
}

export function invalidateTlbPage(mm: Mm, vpn: number): void {
  const s = vpn & 255;
  if (mm.tlbTagR[s] === vpn) mm.tlbTagR[s] = -1;
  if (mm.tlbTagW[s] === vpn) mm.tlbTagW[s] = -1;
}

/**
 * Call fn(u32 index of the entry's low word, va) for every non-empty PTE in
 * [start, end), skipping missing tables at every level.
 */
export function forEachPte(vm: Vm, pgd: number, start: number, end: number, fn: (idx: number, va: number) => void): void {
  walkLevel(vm.k.phys.u32, pgd, PGDIR_SHIFT, 0, start, end, fn);
}

function walkLevel(u32: Uint32Array, table: number, shift: number, base: number, start: number, end: number, fn: (idx: number, va: number) => void): void {
  const span = 2 ** shift;
  const first = Math.max(0, Math.floor((start - base) / span));
  const last = Math.min(511, Math.floor((end - 1 - base) / span));
  for (let k = first; k <= last; k++) {
    const i = (table >>> 2) + (k << 1);
    const e = u32[i]!;
    const lo = base + k * span;
    if (shift === 12) {
      if (e !== 0 || u32[i + 1] !== 0) fn(i, lo);
      continue;
    }
    if ((e & _PAGE_PRESENT) === 0) continue;
    walkLevel(u32, (e & ~0xfff) >>> 0, shift - 9, lo, Math.max(start, lo), Math.min(end, lo + span), fn);
  }
}

/** zap_pte_range() over [start, end): every mapped page loses this mapping; the tables stay. */
export function zapRange(vm: Vm, mm: Mm, start: number, end: number): void {
  const u32 = vm.k.phys.u32;
  const p = vm.k.pages;
  forEachPte(vm, mm.pgd, start, end, (idx) => {
    const lo = u32[idx]!;
    if ((lo & (_PAGE_PRESENT | _PAGE_PROTNONE)) !== 0 && (lo & _PAGE_SPECIAL) === 0) {
      const pfn = lo >>> 12;
      decRss(vm, mm, pfn);
      // zap_present_ptes(): a dirty PTE of a file or shmem page dirties the page.
      if ((lo & _PAGE_DIRTY) !== 0 && vm.pageKind[pfn] !== KIND_ANON) p.flags[pfn] = p.flags[pfn]! | (1 << PG.dirty);
      const swapCache = pageSwapCache(vm, pfn);
      dropMapping(vm, pfn);
      // munlock_vma_folio() when the last mapping goes (kmem keeps no mlock_count): a page-cache page stays, evictable.
      if (p.mapcount[pfn] === 0 && p.refcount[pfn]! > 0 && (p.flags[pfn]! & (1 << PG.mlocked)) !== 0) munlockFolio(vm, pfn);
      // free_pages_and_swap_cache(): an unmapped swap-cache page may leave the cache.
      if (swapCache) freeSwapCache(vm, pfn);
    } else if (isSwapPte(lo, u32[idx + 1]!)) {
      // zap_nonpresent_ptes(): a swap entry
      mm.swapEnts--;
      freeSwapAndCache(vm, lo, u32[idx + 1]!);
    }
    u32[idx] = 0;
    u32[idx + 1] = 0;
  });
  mm.flushTlb();
}

/**
 * unmap_mapping_range(mapping, first << PAGE_SHIFT, 0, even_cows = 1): in
 * every VMA that maps the file (its i_mmap), the PTEs of file pages from
 * index `first` on are zapped, private copies (COWed anonymous pages)
 * included, as truncate_pagecache() does before the pages leave the cache.
 */
export function unmapMappingRange(vm: Vm, ino: number, first: number): void {
  const as = pageCache(vm).spaces.get(ino);
  if (as === undefined) return;
  const s = vm.s;
  for (const v of as.iMmap) {
    const pg = s.vmPgoff(v);
    const pages = (s.vmEnd(v) - s.vmStart(v)) / 4096;
    const from = Math.max(first, pg);
    if (from >= pg + pages) continue;
    const mm = vm.mmByAddr(s.get64(v, VMA.MM));
    if (mm !== null) zapRange(vm, mm, s.vmStart(v) + (from - pg) * 4096, s.vmEnd(v));
  }
}

/**
 * copy_page_range() for one VMA at fork: the child maps the same pages;
 * in a private writable (COW) mapping both PTEs lose RW. The child's PTEs
 * are old (not accessed). Returns false on out of memory.
 */
export function copyPageRange(vm: Vm, dst: Mm, src: Mm, v: number): boolean {
  const s = vm.s;
  const u32 = vm.k.phys.u32;
  const p = vm.k.pages;
  const flags = s.vmFlags(v);
  const cow = (flags & (VM.SHARED | VM.MAYWRITE)) === VM.MAYWRITE;
  let ok = true;
  forEachPte(vm, src.pgd, s.vmStart(v), s.vmEnd(v), (idx, va) => {
    if (!ok) return;
    const d = vm.pt.walkAlloc(dst.pgd, va, dst);
    if (d < 0) {
      ok = false;
      return;
    }
    // Read the source PTE after the child's table exists (its allocation may reclaim and unmap it).
    let lo = u32[idx]!;
    const hi = u32[idx + 1]!;
    if ((lo & (_PAGE_PRESENT | _PAGE_PROTNONE)) !== 0 && (lo & _PAGE_SPECIAL) === 0) {
      const pfn = lo >>> 12;
      p.refcount[pfn] = p.refcount[pfn]! + 1;
      p.mapcount[pfn] = p.mapcount[pfn]! + 1;
      const kind = vm.pageKind[pfn];
      // folio_try_dup_anon_rmap_pte(): a page both mms map is exclusive to neither.
      if (kind === KIND_ANON) p.flags[pfn] = p.flags[pfn]! & ~ANON_EXCLUSIVE;
      if (kind === KIND_ANON) dst.rssAnon++;
      else if (kind === KIND_SHMEM) dst.rssShmem++;
      else dst.rssFile++;
      if (cow && (lo & _PAGE_RW) !== 0) {
        lo = (lo & ~_PAGE_RW) >>> 0;
        u32[idx] = lo;
      }
    } else if (isSwapPte(lo, hi)) {
      // copy_nonpresent_pte(): a swap entry, shared from now on.
      lo = copySwapPte(vm, dst, idx);
    }
    u32[d] = (lo & ~_PAGE_ACCESSED) >>> 0;
    u32[d + 1] = hi;
  });
  dst.updateHiwaterRss();
  return ok;
}

/** populate_vma_page_range(): fault in every page of [start, end) as a write if the VMA is writable, else a read. */
export function populateRange(vm: Vm, t: Task, start: number, end: number): void {
  const mm = t.mm!;
  for (let va = start; va < end; va += 4096) {
    const i = findVmaIndex(vm, mm, va);
    if (i < 0) break;
    const v = mm.vmas[i]!;
    if (vm.s.vmStart(v) > va) {
      va = vm.s.vmStart(v) - 4096;
      continue;
    }
    const flags = vm.s.vmFlags(v);
    if ((flags & (VM.READ | VM.WRITE | VM.EXEC)) === 0) continue;
    // FOLL_WRITE only for a private writable mapping (break COW now); a shared one is read in.
    const write = (flags & (VM.WRITE | VM.SHARED)) === VM.WRITE;
    const idx = vm.pt.walk(mm.pgd, va);
    const lo = idx >= 0 ? u32At(vm, idx) : 0;
    if ((lo & _PAGE_PRESENT) !== 0 && (!write || (lo & _PAGE_RW) !== 0)) continue;
    // GUP faults are counted in PGFAULT and as the task's faults like any other.
    vm.pgfault++;
    faultMajor = false;
    const r = handlePteFault(vm, mm, v, va, write, idx);
    if (r === 0) {
      if (faultMajor) t.majFlt++;
      else t.minFlt++;
    } else if (r === VM_FAULT_MAJOR) t.majFlt++;
  }
}

function u32At(vm: Vm, idx: number): number {
  return vm.k.phys.u32[idx]!;
}

/** Change the protection of the PTEs in [start, end) to the VMA's new vm_page_prot (change_pte_range). */
export function changeProtection(vm: Vm, mm: Mm, v: number, start: number, end: number): void {
  const u32 = vm.k.phys.u32;
  const p = vm.k.pages;
  const flags = vm.s.vmFlags(v);
  const protLo = u32[(v + VMA.PAGE_PROT) >>> 2]!;
  const protHi = u32[((v + VMA.PAGE_PROT) >>> 2) + 1]!;
  const none = (flags & (VM.READ | VM.WRITE | VM.EXEC)) === 0;
  forEachPte(vm, mm.pgd, start, end, (idx) => {
    const lo = u32[idx]!;
    if ((lo & (_PAGE_PRESENT | _PAGE_PROTNONE)) === 0) return;
    const pfn = lo >>> 12;
    // Keep the frame and the A/D/soft-dirty/special bits; take the rest from the new protection.
    const keep = lo & (~0xfff | _PAGE_ACCESSED | _PAGE_DIRTY | _PAGE_SOFT_DIRTY | _PAGE_SPECIAL);
    // A shared mapping takes vm_page_prot as it is: RW without write-notify (shmem), read-only with it.
    let e = (keep | (protLo & ~(_PAGE_ACCESSED | _PAGE_DIRTY))) & ((flags & VM.SHARED) !== 0 ? ~0 : ~_PAGE_RW);
    if (none) e = (e & ~_PAGE_PRESENT) | _PAGE_PROTNONE;
    // can_change_shared_pte_writable(): with write-notify, a PTE already dirty may become writable at once.
    else if ((flags & (VM.SHARED | VM.WRITE)) === (VM.SHARED | VM.WRITE) && (lo & _PAGE_DIRTY) !== 0) e |= _PAGE_RW;
    // can_change_pte_writable(): a private anonymous page nothing else maps may become writable at once.
    else if ((flags & VM.WRITE) !== 0 && (lo & _PAGE_SPECIAL) === 0 && (lo & _PAGE_DIRTY) !== 0 && p.refcount[pfn] === 1 && vm.pageKind[pfn] === KIND_ANON)
      e |= _PAGE_RW;
    u32[idx] = e >>> 0;
    u32[idx + 1] = protHi;
  });
  mm.flushTlb();
}

export { PMD_SHIFT };
