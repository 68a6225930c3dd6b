/**
 * The reverse map (mm/rmap.c): from a page to every PTE that maps it.
 *
 * Each user page records what page->mapping and page->index would: for an
 * anonymous page the anon_vma of the VMA it was faulted in (vm.pageMapping)
 * and its linear index vm_pgoff + (va - vm_start) / PAGE_SIZE (pages.index),
 * which mremap and stack growth keep valid by moving vm_pgoff with vm_start;
 * for a page-cache or shmem page its inode number and file offset. A VMA
 * maps the page at vm_start + (index - vm_pgoff) * PAGE_SIZE if that lies
 * inside it.
 *
 * The kernel finds the VMAs through the anon_vma's interval tree of
 * anon_vma_chains (anon pages) and the inode's i_mmap tree (file pages).
 * kmem keeps the same relation in a JavaScript index, anon_vma -> [mm, VMA]
 * for every chain entry and inode -> [mm, VMA] for every file VMA, rebuilt
 * from the mms' VMA lists and chains when something changed them (vma.ts
 * and fork.ts bump vm.rmapGen wherever a VMA, a chain entry or an mm comes
 * or goes). Reclaim changes no VMA, so one pass over the LRU uses one index.
 *
 * Invariant of the walks: a PTE is visited only if it is present (or
 * PROT_NONE), not special, and holds this pfn, so a stale or missing index
 * entry can only make a walk miss PTEs, never touch a wrong one; callers
 * check the mapcount afterwards (a page still mapped is kept).
 */
import { PG } from '../memory/page.js';
import { pageCache } from './filemap.js';
import { invalidateTlbPage } from './memory.js';
import { ANON_VMA, AVC, type Mm, VMA } from './mm_types.js';
import { VM } from './mman.js';
import { _PAGE_ACCESSED, _PAGE_DIRTY, _PAGE_PRESENT, _PAGE_PROTNONE, _PAGE_SPECIAL } from './pgtable.js';
import { folioAddLruVma, mlockVmaFolio } from './swap.js';
import { KIND_ANON, KIND_FILE, KIND_SHMEM, type Vm } from './vm.js';

/** One VMA that may map pages of an anon_vma or inode. */
interface RmapVma {
  mm: Mm;
  v: number;
}

/** The index rmap walks use, and the generation of the VMA state it was built from. */
class RmapIndex {
  gen = -1;
  readonly anon = new Map<number, RmapVma[]>();
  readonly file = new Map<number, RmapVma[]>();
}

const indexes = new WeakMap<Vm, RmapIndex>();

function rmapIndex(vm: Vm): RmapIndex {
  let ix = indexes.get(vm);
  if (ix === undefined) {
    ix = new RmapIndex();
    indexes.set(vm, ix);
  }
  if (ix.gen !== vm.rmapGen) {
    ix.anon.clear();
    ix.file.clear();
    const s = vm.s;
    for (const mm of vm.mms.values()) {
      for (const v of mm.vmas) {
        for (let e = s.get64(v, VMA.CHAIN); e !== 0; e = s.get64(e, AVC.NEXT)) {
          const av = s.get64(e, AVC.ANON_VMA);
          const l = ix.anon.get(av);
          if (l === undefined) ix.anon.set(av, [{ mm, v }]);
          else l.push({ mm, v });
        }
        const ino = s.vmFile(v);
        if (ino !== 0) {
          const l = ix.file.get(ino);
          if (l === undefined) ix.file.set(ino, [{ mm, v }]);
          else l.push({ mm, v });
        }
      }
    }
    ix.gen = vm.rmapGen;
  }
  return ix;
}

/** The VMAs that may map the page (the anon_vma's or the inode's), or none. */
function candidates(vm: Vm, pfn: number): RmapVma[] | undefined {
  const kind = vm.pageKind[pfn];
  const ix = rmapIndex(vm);
  const key = vm.pageMapping[pfn]!;
  if (key === 0) return undefined;
  if (kind === KIND_ANON) return ix.anon.get(key);
  if (kind === KIND_FILE || kind === KIND_SHMEM) return ix.file.get(key);
  return undefined;
}

/** The PTE (u32 index of its low word) that maps pfn in VMA v of mm, or -1. */
function pteOf(vm: Vm, mm: Mm, v: number, pfn: number): number {
  const s = vm.s;
  const va = s.vmStart(v) + (vm.k.pages.index[pfn]! - s.vmPgoff(v)) * 4096;
  if (va < s.vmStart(v) || va >= s.vmEnd(v)) return -1;
  const idx = vm.pt.walk(mm.pgd, va);
  if (idx < 0) return -1;
  const lo = vm.k.phys.u32[idx]!;
  if ((lo & (_PAGE_PRESENT | _PAGE_PROTNONE)) === 0 || (lo & _PAGE_SPECIAL) !== 0 || lo >>> 12 !== pfn) return -1;
  return idx;
}

/** The user address of pfn in VMA v (valid once pteOf found it). */
function vaOf(vm: Vm, v: number, pfn: number): number {
  return vm.s.vmStart(v) + (vm.k.pages.index[pfn]! - vm.s.vmPgoff(v)) * 4096;
}

/**
 * rmap_walk(): call fn(mm, va, pteIdx, vma) for every PTE that maps the
 * page, through its anon_vma (anonymous) or its inode's i_mmap (file,
 * shmem); stop early when fn returns false.
 */
export function rmapWalk(vm: Vm, pfn: number, fn: (mm: Mm, va: number, pteIdx: number, vma: number) => boolean | undefined): void {
  const list = candidates(vm, pfn);
  if (list === undefined) return;
  for (let i = 0; i < list.length; i++) {
    const { mm, v } = list[i]!;
    if (mm.pgd === 0) continue;
    const idx = pteOf(vm, mm, v, pfn);
    if (idx < 0) continue;
    if (fn(mm, vaOf(vm, v, pfn), idx, v) === false) return;
  }
}

/** The VMA flags folio_referenced() collected on its last call (VM_LOCKED if it found the page mlocked). */
export let referencedVmFlags = 0;

/**
 * folio_referenced(): test and clear the accessed bit of every PTE that
 * maps the page (the software TLB entry goes with it, as a flush would, so
 * the next access sets the bit again). Returns the number of VMAs in which
 * the page was referenced; referencedVmFlags gets their flags. A mapping in
 * a VM_LOCKED VMA mlocks the page and ends the walk with VM_LOCKED set.
 */
export function folioReferenced(vm: Vm, pfn: number): number {
  referencedVmFlags = 0;
  let mapcount = vm.k.pages.mapcount[pfn]!;
  if (mapcount <= 0) return 0;
  if (vm.pageMapping[pfn] === 0) return 0;
  const u32 = vm.k.phys.u32;
  const s = vm.s;
  let referenced = 0;
  rmapWalk(vm, pfn, (mm, va, idx, v) => {
    const flags = s.vmFlags(v);
    if ((flags & VM.LOCKED) !== 0) {
      mlockVmaFolio(vm, pfn);
      referencedVmFlags |= VM.LOCKED;
      return false;
    }
    const lo = u32[idx]!;
    mapcount--;
    if ((lo & _PAGE_ACCESSED) !== 0) {
      u32[idx] = (lo & ~_PAGE_ACCESSED) >>> 0;
      invalidateTlbPage(mm, Math.floor(va / 4096));
      referenced++;
      referencedVmFlags |= flags & ~VM.LOCKED;
    }
    return mapcount > 0;
  });
  return referenced;
}

/**
 * What try_to_unmap() needs for anonymous pages: h2's swap-out of one PTE
 * (src/vm/swap_state.ts unmapAnonPte). Null while the machine has no swap.
 */
export interface AnonUnmapper {
  unmapAnonPte(vm: Vm, mm: Mm, va: number, pteIdx: number, pfn: number): void;
}

/**
 * try_to_unmap(): remove every PTE that maps the page. A file or shmem
 * PTE is cleared (its dirty bit dirties the folio; the mm's file/shmem rss
 * and the page's mapcount and reference drop); an anonymous one becomes a
 * swap entry through `anon` (the page must be in the swap cache). A
 * VM_LOCKED VMA stops the walk and mlocks the page. The caller checks
 * folio_mapped() afterwards.
 */
export function tryToUnmap(vm: Vm, pfn: number, anon: AnonUnmapper | null): void {
  const u32 = vm.k.phys.u32;
  const p = vm.k.pages;
  const kind = vm.pageKind[pfn];
  if (kind === KIND_ANON && anon === null) return;
  rmapWalk(vm, pfn, (mm, va, idx, v) => {
    if ((vm.s.vmFlags(v) & VM.LOCKED) !== 0) {
      mlockVmaFolio(vm, pfn);
      return false;
    }
    if (kind === KIND_ANON) {
      // h2's convention: unmapAnonPte drops the mapping (and NR_ANON_MAPPED with the last), the PTE's reference and MM_ANONPAGES.
      mm.updateHiwaterRss();
      anon!.unmapAnonPte(vm, mm, va, idx, pfn);
      return p.mapcount[pfn]! > 0;
    }
    const lo = u32[idx]!;
    u32[idx] = 0;
    u32[idx + 1] = 0;
    invalidateTlbPage(mm, Math.floor(va / 4096));
    if ((lo & _PAGE_DIRTY) !== 0) folioMarkDirtyMapped(vm, pfn);
    mm.updateHiwaterRss();
    if (kind === KIND_SHMEM) mm.rssShmem--;
    else mm.rssFile--;
    folioRemoveRmapPte(vm, pfn);
    vm.putPage(pfn);
    return p.mapcount[pfn]! > 0;
  });
}

/** folio_mark_dirty() for a page found dirty in a PTE: a page-cache page gets the xarray's dirty mark too. */
function folioMarkDirtyMapped(vm: Vm, pfn: number): void {
  if (vm.pageKind[pfn] === KIND_FILE) {
    const pc = pageCache(vm);
    pc.markDirty(pc.mapping(vm.pageMapping[pfn]!), vm.k.pages.index[pfn]!, pfn);
  } else vm.k.pages.flags[pfn] = vm.k.pages.flags[pfn]! | (1 << PG.dirty);
}

/**
 * folio_add_new_anon_rmap() + folio_add_lru_vma() for a page a fault just
 * made in VMA v at va: mapped once (NR_ANON_MAPPED), page->mapping = the
 * VMA's anon_vma, page->index = its linear index, onto the LRU.
 */
export function folioAddNewAnonRmap(vm: Vm, pfn: number, v: number, va: number): void {
  const s = vm.s;
  const p = vm.k.pages;
  p.mapcount[pfn] = 1;
  vm.nrAnonMapped++;
  vm.pageMapping[pfn] = s.anonVma(v);
  p.index[pfn] = s.vmPgoff(v) + Math.floor((va - s.vmStart(v)) / 4096);
  folioAddLruVma(vm, pfn, s.vmFlags(v));
}

/** folio_add_file_rmap_pte(): one more PTE maps the page-cache or shmem page (NR_FILE_MAPPED on the first). */
export function folioAddFileRmapPte(vm: Vm, pfn: number): void {
  const p = vm.k.pages;
  if (p.mapcount[pfn] === 0) vm.nrFileMapped++;
  p.mapcount[pfn] = p.mapcount[pfn]! + 1;
}

/** folio_remove_rmap_pte(): one PTE less; the last one takes the page out of NR_ANON_MAPPED / NR_FILE_MAPPED. */
export function folioRemoveRmapPte(vm: Vm, pfn: number): void {
  const p = vm.k.pages;
  const mc = p.mapcount[pfn]! - 1;
  p.mapcount[pfn] = mc;
  if (mc === 0) {
    if (vm.pageKind[pfn] === KIND_ANON) vm.nrAnonMapped--;
    else vm.nrFileMapped--;
  }
}

/** The anon_vma's root (for tests and the inspector). */
export function anonVmaRoot(vm: Vm, av: number): number {
  return vm.s.get64(av, ANON_VMA.ROOT);
}
