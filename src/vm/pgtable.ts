/**
 * x86-64 4-level page tables (arch/x86/include/asm/pgtable_types.h,
 * pgtable_64_types.h, mm/pgalloc-track.h), in physical pages the buddy
 * allocator hands out, 512 eight-byte entries each, written into kmem's RAM.
 *
 *   virtual address (47 bits)
 *   ┌────────┬────────┬────────┬────────┬────────────┐
 *   │ 47..39 │ 38..30 │ 29..21 │ 20..12 │   11..0    │
 *   │  PGD   │  PUD   │  PMD   │  PTE   │   offset   │
 *   └────────┴────────┴────────┴────────┴────────────┘
 *   (P4D is folded into the PGD with 4 levels.)
 *
 *   an entry, as two little-endian u32 words in RAM
 *   63 62..59 58  57 ... 52..32 │ 31 ........ 12 11   10  9   8  7   6  5  4   3   2  1  0
 *   NX  PKEY  SW5 SW4    PFN hi │   PFN (low)    SD  UW SP  G  PSE D  A PCD PWT US RW P
 *
 * kmem's RAM is below 4 GiB, so the PFN's high bits are always 0 and an
 * entry's low word alone names the frame: pfn = lo >>> 12.
 */

import type { PageArray } from '../memory/page.js';
import { PGTY } from '../memory/page.js';
import { __GFP_ZERO, GFP_KERNEL_ACCOUNT } from '../page_alloc/gfp.js';
import type { PageAlloc } from '../page_alloc/page_alloc.js';

/** _PAGE_BIT_* as masks of the low word */
export const _PAGE_PRESENT = 1 << 0;
export const _PAGE_RW = 1 << 1;
export const _PAGE_USER = 1 << 2;
export const _PAGE_PWT = 1 << 3;
export const _PAGE_PCD = 1 << 4;
export const _PAGE_ACCESSED = 1 << 5;
export const _PAGE_DIRTY = 1 << 6;
export const _PAGE_PSE = 1 << 7;
export const _PAGE_GLOBAL = 1 << 8;
/** _PAGE_BIT_SOFTW1: no struct page behind it (the zero page) */
export const _PAGE_SPECIAL = 1 << 9;
/** _PAGE_BIT_SOFTW2: userfaultfd write-protect */
export const _PAGE_UFFD_WP = 1 << 10;
/** _PAGE_BIT_SOFTW3: soft-dirty tracking */
export const _PAGE_SOFT_DIRTY = 1 << 11;
/** _PAGE_PROTNONE reuses the global bit when PRESENT is clear */
export const _PAGE_PROTNONE = _PAGE_GLOBAL;
/** Bit 63 (bit 31 of the high word): no-execute */
export const _PAGE_NX_HI = 0x80000000;
/** _PAGE_BIT_SOFTW5 (58): saved dirty (bit 26 of the high word) */
export const _PAGE_SAVED_DIRTY_HI = 1 << 26;

/** _PAGE_TABLE: what an entry pointing at a lower table carries */
export const _PAGE_TABLE = _PAGE_PRESENT | _PAGE_RW | _PAGE_USER | _PAGE_ACCESSED | _PAGE_DIRTY;
/** PAGE_NONE, PAGE_READONLY/PAGE_COPY, PAGE_SHARED (low words; every one but the exec ones has NX) */
export const PAGE_NONE = _PAGE_PROTNONE | _PAGE_ACCESSED;
export const PAGE_READONLY = _PAGE_PRESENT | _PAGE_USER | _PAGE_ACCESSED;
export const PAGE_SHARED = _PAGE_PRESENT | _PAGE_RW | _PAGE_USER | _PAGE_ACCESSED;

export const PTRS_PER_TABLE = 512;
export const PGDIR_SHIFT = 39;
export const PUD_SHIFT = 30;
export const PMD_SHIFT = 21;

/** GFP_PGTABLE_USER */
const GFP_PGTABLE_USER = GFP_KERNEL_ACCOUNT | __GFP_ZERO;

/**
 * The page-table pages of every address space: allocation (pte_alloc and
 * friends), the walk, and freeing (free_pgtables). nrPageTables is
 * NR_PAGETABLE, the PageTables: line of meminfo.
 */
export class PageTables {
  nrPageTables = 0;
  /**
   * The last walk's PTE table (a one-entry paging-structure cache, as the
   * MMU keeps for the upper levels): the PGD and the address bits above the
   * PMD index it was for, and the u32 index of the table. Page tables are
   * freed only through freeTable()/freePgd(), which forget it, so a hit is
   * the same table a full walk would reach.
   */
  private cPgd = -1;
  private cHi = 0;
  private cPmd = 0;
  private cBase = 0;

  constructor(
    readonly u32: Uint32Array,
    readonly pages: PageArray,
    readonly pageAlloc: PageAlloc,
  ) {}

  /** pagetable_alloc() + pagetable_ctor(): a zeroed page typed PGTY_table; -1 if none. */
  allocTable(): number {
    const pfn = this.pageAlloc.allocPagesPfn(0, GFP_PGTABLE_USER);
    if (pfn < 0) return -1;
    this.pages.pageType[pfn] = PGTY.table;
    this.nrPageTables++;
    return pfn * 4096;
  }

  /**
   * pgd_alloc(): the PGD is an order-1 block with CONFIG_PAGE_TABLE_ISOLATION
   * (the user copy of the PGD sits in the second page); -1 if none. It is not
   * counted in mm->pgtables_bytes (VmPTE), only in NR_PAGETABLE.
   */
  allocPgd(): number {
    const pfn = this.pageAlloc.allocPagesPfn(1, GFP_PGTABLE_USER);
    if (pfn < 0) return -1;
    this.pages.pageType[pfn] = PGTY.table;
    this.nrPageTables += 2;
    return pfn * 4096;
  }

  /** pgd_free() */
  freePgd(phys: number): void {
    this.cPgd = -1;
    const pfn = phys >>> 12;
    this.pages.pageType[pfn] = PGTY.NONE;
    this.nrPageTables -= 2;
    this.pageAlloc.freePagesPfn(pfn, 1);
  }

  /** pagetable_dtor() + pagetable_free() */
  freeTable(phys: number): void {
    this.cPgd = -1;
    const pfn = phys >>> 12;
    this.pages.pageType[pfn] = PGTY.NONE;
    this.nrPageTables--;
    this.pageAlloc.freePagesPfn(pfn, 0);
  }

  /**
   * The u32 index of the low word of va's PTE, or -1 when a table on the way
   * is missing (the walk the MMU does; huge leaves are not used yet).
   */
  walk(pgd: number, va: number): number {
    const u32 = this.u32;
    // The four 9-bit indices from the address's two 32-bit halves (one division).
    const hi = Math.floor(va / 4294967296);
    const lo = va >>> 0;
    if (lo >>> 21 === this.cPmd && hi === this.cHi && pgd === this.cPgd) return this.cBase + (((lo >>> 12) & 511) << 1);
    let e = u32[(pgd >>> 2) + (((hi >>> 7) & 511) << 1)]!;
    if ((e & _PAGE_PRESENT) === 0) return -1;
    e = u32[((e & ~0xfff) >>> 2) + ((((hi << 2) | (lo >>> 30)) & 511) << 1)]!;
    if ((e & _PAGE_PRESENT) === 0) return -1;
    e = u32[((e & ~0xfff) >>> 2) + (((lo >>> 21) & 511) << 1)]!;
    if ((e & _PAGE_PRESENT) === 0) return -1;
    const base = (e & ~0xfff) >>> 2;
    this.cPgd = pgd;
    this.cHi = hi;
    this.cPmd = lo >>> 21;
    this.cBase = base;
    return base + (((lo >>> 12) & 511) << 1);
  }

  /**
   * __pud_alloc/__pmd_alloc/__pte_alloc on the way down: the PTE's u32 index,
   * allocating missing tables; -1 on out of memory. bytes counts mm->pgtables_bytes.
   */
  walkAlloc(pgd: number, va: number, acct: { pgtablesBytes: number }): number {
    const u32 = this.u32;
    // The four 9-bit indices from the address's two 32-bit halves, as walk() takes them (no division per level).
    const hi = Math.floor(va / 4294967296);
    const lo = va >>> 0;
    let table = pgd;
    for (let level = 0; level < 3; level++) {
      const sub = level === 0 ? (hi >>> 7) & 511 : level === 1 ? ((hi << 2) | (lo >>> 30)) & 511 : (lo >>> 21) & 511;
      const i = (table >>> 2) + (sub << 1);
      let e = u32[i]!;
      if ((e & _PAGE_PRESENT) === 0) {
        const t = this.allocTable();
        if (t < 0) return -1;
        acct.pgtablesBytes += 4096;
        e = (t | _PAGE_TABLE) >>> 0;
        u32[i] = e;
        u32[i + 1] = 0;
      }
      table = (e & ~0xfff) >>> 0;
    }
    return (table >>> 2) + (((lo >>> 12) & 511) << 1);
  }

  /**
   * free_pgd_range(): free the tables that map nothing but [start, end) once
   * the VMAs there are gone, at each level only if the whole span the table
   * covers lies within [floor, ceiling) (the neighbouring VMAs' ends), as
   * free_pgtables() decides. A ceiling of 0 means the top of the address space.
   */
  freeRange(pgd: number, start: number, end: number, floor: number, ceiling: number, acct: { pgtablesBytes: number }): void {
    const top = ceiling === 0 ? 2 ** 48 : ceiling;
    this.freeLevel(pgd, PGDIR_SHIFT, 0, start, end, floor, top, acct);
  }

  /** One level of freeRange: returns true when the table at `table` became empty. */
  private freeLevel(table: number, shift: number, base: number, start: number, end: number, floor: number, top: number, acct: { pgtablesBytes: number }): void {
    const span = 2 ** shift;
    const first = Math.max(0, Math.floor((start - base) / span));
    const last = Math.min(511, Math.floor((end - 1 - base) / span));
    for (let idx = first; idx <= last; idx++) {
      const i = (table >>> 2) + (idx << 1);
      const e = this.u32[i]!;
      if ((e & _PAGE_PRESENT) === 0) continue;
      const lo = base + idx * span;
      const hi = lo + span;
      const child = (e & ~0xfff) >>> 0;
      if (shift > PMD_SHIFT) this.freeLevel(child, shift - 9, lo, Math.max(start, lo), Math.min(end, hi), floor, top, acct);
      // The child table may go only if nothing outside [floor, top) can need it.
      if (lo >= floor && hi <= top && this.tableEmpty(child)) {
        this.u32[i] = 0;
        this.u32[i + 1] = 0;
        this.freeTable(child);
        acct.pgtablesBytes -= 4096;
      }
    }
  }

  private tableEmpty(table: number): boolean {
    const b = table >>> 2;
    for (let i = 0; i < 1024; i++) if (this.u32[b + i] !== 0) return false;
    return true;
  }

  /** Free every table under a PGD, and the PGD (free_pgtables over everything + pgd_free). */
  freeAll(pgd: number, acct: { pgtablesBytes: number }): void {
    this.freeRange(pgd, 0, 2 ** 47, 0, 0, acct);
    this.freePgd(pgd);
  }
}
