/**
 * SLOB, the Simple List Of Blocks (mm/slob.c, Linux 2.6.16 to 6.3), as 6.3
 * had it: a K&R-style first-fit heap carved out of order-0 pages, with
 * aligned allocation, under one lock, no per-CPU state and no per-cache
 * slabs. kmalloc prepends a size header; anything of PAGE_SIZE or more goes
 * straight to the page allocator.
 *
 * The heap is every page that has a free block, on one of three lists by
 * the size of the request that last used or freed into it:
 *
 *   free_slob_small   requests <  SLOB_BREAK1 (256 bytes)
 *   free_slob_medium  requests <  SLOB_BREAK2 (1024 bytes)
 *   free_slob_large   the rest (up to a page)
 *
 * A search walks one list from its head (pages with too few free units are
 * skipped), first fit inside each page; after a success that left the page on
 * the list, the list is rotated so the next search starts at that page
 * (list_rotate_to_front, Knuth's next fit). A page with no free unit leaves
 * its list; a page whose last block is freed goes back to the buddy
 * allocator at once.
 *
 * Inside a page, free blocks form a singly linked list in address order.
 * Sizes and links are in SLOB_UNITs (2 bytes: slobidx_t is s16 with 4 KiB
 * pages), offsets counted from the start of the page:
 *
 *   a free block of n >= 2 units        a free block of 1 unit
 *   ┌────────────┬────────────┬ ─ ─      ┌────────────┐
 *   │ s16 n      │ s16 next   │ ...      │ s16 -next  │
 *   └────────────┴────────────┴ ─ ─      └────────────┘
 *
 * `next` is the unit offset of the next free block; reaching the end of the
 * page (offset 2048, so the address's page offset wraps to 0) ends the list.
 *
 * struct slab's SLOB fields live in kmem's page arrays (src/memory/page.ts):
 *   pageType     PGTY_slab while the page belongs to SLOB (6.3's PG_slab)
 *   flags        PG_private is PG_slob_free: the page is on a free list
 *   slabCounters slab->units: the free units left in the page
 *   slabObjects  slab->freelist: unit offset of the first free block
 *   next, prev   slab->slab_list, circular; a list is its first page's pfn
 * slabCache stays -1: a SLOB page belongs to no cache.
 */
import { PAGE_SIZE, type PhysMem } from '../memory/memblock.js';
import { type PageArray, PG, PG_slob_free, PGTY } from '../memory/page.js';
import { __GFP_COMP, __GFP_NOWARN, __GFP_ZERO } from '../page_alloc/gfp.js';
import { MAX_PAGE_ORDER } from '../page_alloc/mmzone.js';
import type { PageAlloc } from '../page_alloc/page_alloc.js';

/** sizeof(slob_t): slobidx_t is s16 while PAGE_SIZE <= 32767 * 2. */
export const SLOB_UNIT = 2;
/** SLOB_UNITS(PAGE_SIZE): the units in one page. */
export const SLOB_PAGE_UNITS = PAGE_SIZE / SLOB_UNIT;
export const SLOB_BREAK1 = 256;
export const SLOB_BREAK2 = 1024;
/** SLOB_ALIGN = L1_CACHE_BYTES on x86-64. */
export const SLOB_ALIGN = 64;
/** max(ARCH_KMALLOC_MINALIGN, arch_slab_minalign()): __alignof__(unsigned long long) on x86-64. */
export const SLOB_MINALIGN = 8;
/** The three lists. */
export const SLOB_SMALL = 0;
export const SLOB_MEDIUM = 1;
export const SLOB_LARGE = 2;
export const slobListNames = ['free_slob_small', 'free_slob_medium', 'free_slob_large'] as const;

/** SLOB_UNITS(size) */
export function slobUnits(size: number): number {
  return (size + SLOB_UNIT - 1) >>> 1;
}

/** The list slob_alloc() searches, and slob_free() puts a newly partial page on, for a request of size bytes. */
export function slobListFor(size: number): number {
  return size < SLOB_BREAK1 ? SLOB_SMALL : size < SLOB_BREAK2 ? SLOB_MEDIUM : SLOB_LARGE;
}

/** What SLOB reports through the machine. */
export interface SlobReports {
  /** WARN_ON_ONCE() in file. */
  warn(text: string, file: string): void;
  /** BUG_ON(): kernel BUG at where. */
  bugOn(where: string, text: string): void;
}

export class Slob {
  readonly pa: PageAlloc;
  readonly pages: PageArray;
  readonly u8: Uint8Array;
  /** RAM as slob_t words (every block is 2-byte aligned). */
  private readonly i16: Int16Array;
  private readonly dv: DataView;
  /** The first page of each list (pfn), -1 when empty. */
  readonly heads = new Int32Array(3).fill(-1);
  /** NR_SLAB_UNRECLAIMABLE_B in pages: SLOB's pages and its large kmallocs and cache objects. */
  slabPagesUnreclaimable = 0;
  /** Pages SLOB heaps blocks in (PGTY_slab), for the accounting checks. */
  heapPages = 0;
  private readonly reports: SlobReports;
  /** slob_page_alloc() took the page off its list (its page_removed_from_list). */
  private removed = false;
  /** WARN_ON_ONCE_GFP(order > MAX_PAGE_ORDER) in the page allocator has fired. */
  private largeOrderWarned = false;

  constructor(pa: PageAlloc, pages: PageArray, phys: PhysMem, reports: SlobReports) {
    this.pa = pa;
    this.pages = pages;
    this.u8 = phys.u8;
    this.i16 = new Int16Array(phys.buffer, 0, phys.size >>> 1);
    this.dv = phys.dv;
    this.reports = reports;
  }

  // ───────────────────────── the free-block encoding ─────────────────────────

  /** set_slob(): block s holds size units, and links to the free block at address next. */
  private setSlob(s: number, size: number, next: number): void {
    const offset = (next - (s & ~(PAGE_SIZE - 1))) >>> 1;
    const i = s >>> 1;
    if (size > 1) {
      this.i16[i] = size;
      this.i16[i + 1] = offset;
    } else {
      this.i16[i] = -offset;
    }
  }

  /** slob_units(): the size of free block s in units. */
  blockUnits(s: number): number {
    const v = this.i16[s >>> 1]!;
    return v > 0 ? v : 1;
  }

  /** slob_next(): the address of the free block after s (the page's end for the last). */
  blockNext(s: number): number {
    const i = s >>> 1;
    const v = this.i16[i]!;
    const next = v < 0 ? -v : this.i16[i + 1]!;
    return (s & ~(PAGE_SIZE - 1)) + next * SLOB_UNIT;
  }

  /** slob_last(): s is the last free block of its page. */
  private blockLast(s: number): boolean {
    return (this.blockNext(s) & (PAGE_SIZE - 1)) === 0;
  }

  // ───────────────────────── the lists ─────────────────────────

  /** slob_page_free(): the page is on a list (PG_slob_free). */
  onList(pfn: number): boolean {
    return (this.pages.flags[pfn]! & (1 << PG_slob_free)) !== 0;
  }

  /** set_slob_page_free(): list_add() at the head of list l, and PG_slob_free. */
  private setPageFree(pfn: number, l: number): void {
    const p = this.pages;
    const head = this.heads[l]!;
    if (head < 0) {
      p.next[pfn] = pfn;
      p.prev[pfn] = pfn;
    } else {
      const last = p.prev[head]!;
      p.next[pfn] = head;
      p.prev[pfn] = last;
      p.next[last] = pfn;
      p.prev[head] = pfn;
    }
    this.heads[l] = pfn;
    p.flags[pfn]! |= 1 << PG_slob_free;
  }

  /** clear_slob_page_free(): list_del() from whichever list holds the page, and PG_slob_free off. */
  private clearPageFree(pfn: number): void {
    const p = this.pages;
    const next = p.next[pfn]!;
    const prev = p.prev[pfn]!;
    for (let l = 0; l < 3; l++) {
      if (this.heads[l] === pfn) this.heads[l] = next === pfn ? -1 : next;
    }
    p.next[prev] = next;
    p.prev[next] = prev;
    p.next[pfn] = -1;
    p.prev[pfn] = -1;
    p.flags[pfn]! &= ~(1 << PG_slob_free);
  }

  // ───────────────────────── pages ─────────────────────────

  /** slob_new_pages(): 2^order pages counted as NR_SLAB_UNRECLAIMABLE_B; the pfn, or -1. */
  private newPages(gfp: number, order: number): number {
    if (order > MAX_PAGE_ORDER) {
      // The page allocator refuses it: WARN_ON_ONCE_GFP(), then NULL.
      if (!(gfp & __GFP_NOWARN) && !this.largeOrderWarned) {
        this.largeOrderWarned = true;
        this.reports.warn('', 'mm/page_alloc.c');
      }
      return -1;
    }
    const pfn = this.pa.allocPagesPfn(order, gfp);
    if (pfn < 0) return -1;
    this.slabPagesUnreclaimable += 1 << order;
    return pfn;
  }

  /** slob_free_pages(): back to the buddy allocator, and out of NR_SLAB_UNRECLAIMABLE_B. */
  private freePages(pfn: number, order: number): void {
    this.slabPagesUnreclaimable -= 1 << order;
    this.pa.freePagesPfn(pfn, order);
  }

  // ───────────────────────── the allocator proper ─────────────────────────

  /**
   * slob_page_alloc(): first fit in page pfn for size bytes such that
   * block + alignOffset is a multiple of align. A head fragment cut off for
   * the alignment stays a free block; an exact fit unlinks the block, else
   * its tail becomes a free block in its place. Keeps the page's units equal
   * to the sum of its free blocks; a page left with none leaves its list
   * (this.removed). The block's address, or 0 if nothing fits.
   */
  private pageAlloc(pfn: number, size: number, align: number, alignOffset: number): number {
    const p = this.pages;
    const base = pfn * PAGE_SIZE;
    const units = slobUnits(size);
    this.removed = false;
    let prev = 0;
    let cur = base + p.slabObjects[pfn]! * SLOB_UNIT;
    for (;;) {
      let avail = this.blockUnits(cur);
      let delta = 0;
      let aligned = cur;
      if (align) {
        aligned = Math.ceil((cur + alignOffset) / align) * align - alignOffset;
        delta = (aligned - cur) / SLOB_UNIT;
      }
      if (avail >= units + delta) {
        if (delta) {
          // Cut the head off to align: it stays free, in front of the block.
          const next = this.blockNext(cur);
          this.setSlob(aligned, avail - delta, next);
          this.setSlob(cur, delta, aligned);
          prev = cur;
          cur = aligned;
          avail = this.blockUnits(cur);
        }
        const next = this.blockNext(cur);
        if (avail === units) {
          if (prev) this.setSlob(prev, this.blockUnits(prev), next);
          else p.slabObjects[pfn] = (next - base) / SLOB_UNIT;
        } else {
          const rest = cur + units * SLOB_UNIT;
          if (prev) this.setSlob(prev, this.blockUnits(prev), rest);
          else p.slabObjects[pfn] = (rest - base) / SLOB_UNIT;
          this.setSlob(rest, avail - units, next);
        }
        p.slabCounters[pfn] = p.slabCounters[pfn]! - units;
        if (p.slabCounters[pfn] === 0) {
          this.clearPageFree(pfn);
          this.removed = true;
        }
        return cur;
      }
      if (this.blockLast(cur)) return 0;
      prev = cur;
      cur = this.blockNext(cur);
    }
  }

  /**
   * slob_alloc(): size bytes aligned as pageAlloc() says, from the first page
   * of the size's list that has room (next fit across pages), else from a new
   * page put at the list's head. 0 when the page allocator fails.
   */
  slobAlloc(size: number, gfp: number, align: number, alignOffset: number): number {
    const p = this.pages;
    const l = slobListFor(size);
    const need = slobUnits(size);
    let b = 0;
    const first = this.heads[l]!;
    if (first >= 0) {
      let pfn = first;
      do {
        const next = p.next[pfn]!;
        if (p.slabCounters[pfn]! >= need) {
          b = this.pageAlloc(pfn, size, align, alignOffset);
          if (b) {
            // list_rotate_to_front(): the list now begins at this page.
            if (!this.removed) this.heads[l] = pfn;
            break;
          }
        }
        pfn = next;
      } while (pfn !== this.heads[l] && this.heads[l]! >= 0);
    }
    if (!b) {
      const pfn = this.newPages(gfp & ~__GFP_ZERO, 0);
      if (pfn < 0) return 0;
      p.pageType[pfn] = PGTY.slab;
      this.heapPages++;
      const base = pfn * PAGE_SIZE;
      p.slabCounters[pfn] = SLOB_PAGE_UNITS;
      p.slabObjects[pfn] = 0;
      this.setSlob(base, SLOB_PAGE_UNITS, base + PAGE_SIZE);
      this.setPageFree(pfn, l);
      b = this.pageAlloc(pfn, size, align, alignOffset);
      if (!b) this.reports.bugOn('slob_alloc', 'a fresh page did not fit the block');
    }
    if (gfp & __GFP_ZERO) this.u8.fill(0, b, b + size);
    return b;
  }

  /**
   * slob_free(): give back the size bytes at block. A page that becomes
   * wholly free goes to the page allocator; a full page becomes partial with
   * this one block and joins the list for size; otherwise the block is put
   * back in address order, merged with the free blocks just after and just
   * before it. Keeps the page's units equal to the sum of its free blocks.
   */
  slobFree(block: number, size: number): void {
    if (block <= 16) return;
    if (!size) {
      this.reports.bugOn('slob_free', 'size 0');
      return;
    }
    const p = this.pages;
    const pfn = Math.floor(block / PAGE_SIZE);
    const base = pfn * PAGE_SIZE;
    let units = slobUnits(size);
    if (block + units * SLOB_UNIT > base + PAGE_SIZE || p.slabCounters[pfn]! + units > SLOB_PAGE_UNITS) {
      // The kernel would scribble past the page; kmem stops it here.
      this.reports.bugOn('slob_free', `${size} bytes at 0x${block.toString(16)} do not fit their page (a corrupt size header, or a double free)`);
      return;
    }
    if (p.slabCounters[pfn]! + units === SLOB_PAGE_UNITS) {
      // Go directly to the page allocator.
      if (this.onList(pfn)) this.clearPageFree(pfn);
      p.pageType[pfn] = PGTY.NONE;
      p.slabCounters[pfn] = 0;
      p.slabObjects[pfn] = 0;
      this.heapPages--;
      this.freePages(pfn, 0);
      return;
    }
    if (!this.onList(pfn)) {
      // A full page becomes partially free: this block is its whole free list.
      p.slabCounters[pfn] = units;
      p.slabObjects[pfn] = (block - base) / SLOB_UNIT;
      this.setSlob(block, units, base + PAGE_SIZE);
      this.setPageFree(pfn, slobListFor(size));
      return;
    }
    p.slabCounters[pfn] = p.slabCounters[pfn]! + units;
    const head = base + p.slabObjects[pfn]! * SLOB_UNIT;
    if (block < head) {
      let next = head;
      if (block + units * SLOB_UNIT === head) {
        units += this.blockUnits(head);
        next = this.blockNext(head);
      }
      this.setSlob(block, units, next);
      p.slabObjects[pfn] = (block - base) / SLOB_UNIT;
      return;
    }
    let prev = head;
    let next = this.blockNext(prev);
    while (block > next) {
      prev = next;
      next = this.blockNext(prev);
    }
    if (!this.blockLast(prev) && block + units * SLOB_UNIT === next) {
      units += this.blockUnits(next);
      this.setSlob(block, units, this.blockNext(next));
    } else {
      this.setSlob(block, units, next);
    }
    if (prev + this.blockUnits(prev) * SLOB_UNIT === block) {
      this.setSlob(prev, this.blockUnits(block) + this.blockUnits(prev), this.blockNext(block));
    } else {
      this.setSlob(prev, this.blockUnits(prev), block);
    }
  }

  // ───────────────────────── kmalloc ─────────────────────────

  /**
   * __do_kmalloc_node(): below PAGE_SIZE - minalign, a SLOB block of
   * size + minalign bytes whose first word holds size, the caller getting
   * what follows (power-of-two sizes naturally aligned); from there on,
   * pages (compound above order 0). 0 on failure; size 0 is the caller's.
   */
  kmalloc(size: number, gfp: number): number {
    if (size < PAGE_SIZE - SLOB_MINALIGN) {
      const align = (size & (size - 1)) === 0 ? Math.max(SLOB_MINALIGN, size) : SLOB_MINALIGN;
      const m = this.slobAlloc(size + SLOB_MINALIGN, gfp, align, SLOB_MINALIGN);
      if (!m) return 0;
      this.dv.setUint32(m, size, true);
      return m + SLOB_MINALIGN;
    }
    const order = getOrder(size);
    const pfn = this.newPages(order ? gfp | __GFP_COMP : gfp, order);
    return pfn < 0 ? 0 : pfn * PAGE_SIZE;
  }

  /** kfree(): a SLOB block by its size header, or the folio the address lies in. */
  kfree(addr: number): void {
    if (addr <= 16) return;
    const pfn = this.pages.compoundHead(Math.floor(addr / PAGE_SIZE));
    if (this.pages.pageType[pfn] === PGTY.slab) {
      const m = addr - SLOB_MINALIGN;
      this.slobFree(m, this.dv.getUint32(m, true) + SLOB_MINALIGN);
      return;
    }
    const order = this.folioOrder(pfn);
    this.freePages(pfn, order);
  }

  /** __ksize(): the header's size in whole units, or the folio's size. */
  ksize(addr: number): number {
    const pfn = this.pages.compoundHead(Math.floor(addr / PAGE_SIZE));
    if (this.pages.pageType[pfn] !== PGTY.slab) return PAGE_SIZE << this.folioOrder(pfn);
    return slobUnits(this.dv.getUint32(addr - SLOB_MINALIGN, true)) * SLOB_UNIT;
  }

  /** folio_order(): the compound order on a head page, 0 for any other page. */
  private folioOrder(pfn: number): number {
    return (this.pages.flags[pfn]! & (1 << PG.head)) !== 0 ? this.pages.order[pfn]! : 0;
  }

  // ───────────────────────── SLAB emulation: kmem_cache objects ─────────────────────────

  /** slob_alloc_node(): size bytes with align from the heap, or pages (not compound) for a page or more. */
  cacheAlloc(size: number, align: number, gfp: number): number {
    if (size < PAGE_SIZE) return this.slobAlloc(size, gfp, align, 0);
    const pfn = this.newPages(gfp, getOrder(size));
    return pfn < 0 ? 0 : pfn * PAGE_SIZE;
  }

  /** __kmem_cache_free() */
  cacheFree(addr: number, size: number): void {
    if (size < PAGE_SIZE) this.slobFree(addr, size);
    else this.freePages(Math.floor(addr / PAGE_SIZE), getOrder(size));
  }

  // ───────────────────────── inspection ─────────────────────────

  /** The pages of list l, from its head. */
  listPages(l: number): number[] {
    const out: number[] = [];
    const head = this.heads[l]!;
    if (head < 0) return out;
    let pfn = head;
    do {
      out.push(pfn);
      pfn = this.pages.next[pfn]!;
    } while (pfn !== head && out.length <= this.pages.nr);
    return out;
  }

  /** Free bytes in the pages on the lists (SLOB's fragmentation: partially free pages). */
  freeBytes(): number {
    let units = 0;
    for (let l = 0; l < 3; l++) for (const pfn of this.listPages(l)) units += this.pages.slabCounters[pfn]!;
    return units * SLOB_UNIT;
  }

  /** A page's free blocks, walked from its freelist: [address, units] pairs. */
  freeBlocks(pfn: number): [number, number][] {
    const out: [number, number][] = [];
    if (!this.onList(pfn)) return out;
    let s = pfn * PAGE_SIZE + this.pages.slabObjects[pfn]! * SLOB_UNIT;
    for (;;) {
      out.push([s, this.blockUnits(s)]);
      if (this.blockLast(s) || out.length > SLOB_PAGE_UNITS) return out;
      s = this.blockNext(s);
    }
  }
}

/** get_order() */
function getOrder(size: number): number {
  let order = 0;
  while (PAGE_SIZE * 2 ** order < size) order++;
  return order;
}
