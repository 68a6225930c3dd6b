/**
 * The buddy page allocator (mm/page_alloc.c).
 *
 * Free memory of each zone sits on free_area[order].free_list[migratetype]:
 * blocks of 2^order pages, aligned to their size. A free block's head page has
 * pageType PGTY_buddy and its order in pages.order; every other page of the
 * block is unmarked. Allocation takes the smallest block that fits and splits
 * it (rmqueueSmallest/expand); freeing merges a block with its buddy
 * (pfn ^ (1 << order)) for as long as the buddy is free, of the same order and
 * in the same zone (freeOnePage).
 *
 * Orders 0..PAGE_ALLOC_COSTLY_ORDER go through per-CPU page lists first: each
 * CPU keeps up to `high` pages per zone, refilled and drained `batch` at a
 * time, so most order-0 allocations and frees never touch the zone lists.
 * pcp pages have refcount 0 and no page type; their migratetype is kept in
 * pages.index as the kernel keeps it in page->index.
 *
 * Locking, when CPUs become workers: the zone lists and counters are the
 * zone->lock's; a pcp list is touched only by its own CPU.
 */
import type { PhysMem } from '../memory/memblock.js';
import { PAGE_SHIFT, PAGE_SIZE } from '../memory/memblock.js';
import { type PageArray, PG_head, PGTY_buddy, PGTY_NONE } from '../memory/page.js';
import {
  ALLOC_CPUSET,
  ALLOC_HIGHATOMIC,
  ALLOC_KSWAPD,
  ALLOC_MIN_RESERVE,
  ALLOC_NO_WATERMARKS,
  ALLOC_NOFRAGMENT,
  ALLOC_NON_BLOCK,
  ALLOC_OOM,
  ALLOC_RESERVES,
  ALLOC_WMARK_LOW,
  ALLOC_WMARK_MASK,
  ALLOC_WMARK_MIN,
} from './alloc_flags.js';
import {
  __GFP_COMP,
  __GFP_DIRECT_RECLAIM,
  __GFP_HIGH,
  __GFP_KSWAPD_RECLAIM,
  __GFP_MEMALLOC,
  __GFP_NOMEMALLOC,
  __GFP_NOWARN,
  __GFP_ZERO,
  gfpMigratetype,
  gfpZone,
} from './gfp.js';
import {
  fallbacks,
  listIndex,
  MAX_NR_ZONES,
  MAX_PAGE_ORDER,
  MIGRATE_HIGHATOMIC,
  MIGRATE_ISOLATE,
  MIGRATE_MOVABLE,
  MIGRATE_PCPTYPES,
  MIGRATE_RECLAIMABLE,
  MIGRATE_UNMOVABLE,
  NR_PAGE_ORDERS,
  PAGE_ALLOC_COSTLY_ORDER,
  pageblock_nr_pages,
  pageblock_order,
  Z_BOOST,
  Z_FIELDS,
  Z_FREE,
  Z_LOWMEM_RESERVE,
  Z_MANAGED,
  Z_PCP_BATCH,
  Z_PCP_HIGH_MAX,
  Z_PCP_HIGH_MIN,
  Z_PRESENT,
  Z_RESERVED_HIGHATOMIC,
  Z_SPANNED,
  Z_START_PFN,
  Z_WMARK,
  ZONE_NORMAL,
  Zones,
} from './mmzone.js';

/** One pcp list per (order 0..3, pcp migratetype). */
export const NR_PCP_LISTS = MIGRATE_PCPTYPES * (PAGE_ALLOC_COSTLY_ORDER + 1);

// Per (cpu, zone) pageset fields, rows of PCP_FIELDS in PageAlloc.pcp.
export const PCP_COUNT = 0;
export const PCP_HIGH = 1;
export const PCP_BATCH = 2;
export const PCP_HIGH_MIN = 3;
export const PCP_HIGH_MAX = 4;
export const PCP_FREE_FACTOR = 5;
export const PCP_FIELDS = 6;

// vm_event_item counters this layer owns, indexes into PageAlloc.events.
export const EV_PGALLOC = 0; // MAX_NR_ZONES slots, one per zone
export const EV_PGFREE = 5;
export const EV_ALLOCSTALL = 6;
export const EV_PGALLOC_FAIL = 7;
export const EV_EXTFRAG = 8;
/** NUMA_HIT per zone (MAX_NR_ZONES slots): one per allocation, as zone_statistics(..., 1). */
export const EV_NUMA_HIT = 9;
export const NR_EVENTS = 14;

/** Why a free was refused: the bad_page() reason and what to show. */
export interface BadPageInfo {
  pfn: number;
  reason: string;
}

export interface PageAllocHooks {
  /** Called with the block's address and order after it is handed out. */
  postAlloc: ((addr: number, order: number) => void) | null;
  /** Called before a block goes back to the free lists. */
  freePrepare: ((addr: number, order: number) => void) | null;
  /** bad_page(): report a refused free. */
  badPage: (info: BadPageInfo) => void;
  /** warn_alloc(): an allocation failed without __GFP_NOWARN. */
  warnAlloc: (order: number, gfp: number) => void;
}

export class PageAlloc {
  readonly mem: PhysMem;
  readonly pages: PageArray;
  readonly zones: Zones;
  readonly cpus: number;
  /** The CPU whose pcp lists are used; set by Kernel.onCpu. */
  cpu = 0;
  /** Pageset fields per (cpu, zone). */
  readonly pcp: Int32Array;
  readonly pcpHead: Int32Array;
  readonly pcpTail: Int32Array;
  readonly events: Float64Array;
  /** Pages freed to the buddy lists at boot: /proc/vmstat's pgfree includes them (events[EV_PGFREE] does not). */
  bootFreePages = 0;
  readonly hooks: PageAllocHooks;
  /** Zone index per pageblock, copied from zones for a quick page_zone(). */
  private readonly blockZone: Uint8Array;
  private readonly zf: Float64Array;

  constructor(mem: PhysMem, pages: PageArray, cpus: number, shared: boolean, hooks: PageAllocHooks) {
    this.mem = mem;
    this.pages = pages;
    this.cpus = cpus;
    this.zones = new Zones(mem.nrPages, shared);
    this.zf = this.zones.f;
    this.blockZone = this.zones.pageblockZone;
    const B = shared ? SharedArrayBuffer : ArrayBuffer;
    this.pcp = new Int32Array(new B(cpus * MAX_NR_ZONES * PCP_FIELDS * 4));
    this.pcpHead = new Int32Array(new B(cpus * MAX_NR_ZONES * NR_PCP_LISTS * 4)).fill(-1);
    this.pcpTail = new Int32Array(new B(cpus * MAX_NR_ZONES * NR_PCP_LISTS * 4)).fill(-1);
    this.events = new Float64Array(new B(NR_EVENTS * 8));
    this.hooks = hooks;
  }

  // ───────────────────────── struct page helpers ─────────────────────────

  pageZone(pfn: number): number {
    return this.blockZone[pfn >>> pageblock_order]!;
  }

  getPageblockMigratetype(pfn: number): number {
    return this.zones.pageblockMt[pfn >>> pageblock_order]!;
  }

  setPageblockMigratetype(pfn: number, mt: number): void {
    this.zones.pageblockMt[pfn >>> pageblock_order] = mt;
  }

  // ───────────────────────── free lists ─────────────────────────

  /** __add_to_free_list(): link a block's head at the head or tail of its list. */
  private addToFreeList(pfn: number, zone: number, order: number, mt: number, tail: boolean): void {
    const p = this.pages;
    const li = listIndex(zone, order, mt);
    const zs = this.zones;
    p.pageType[pfn] = PGTY_buddy;
    p.order[pfn] = order;
    p.index[pfn] = mt;
    if (tail) {
      const t = zs.freeTail[li]!;
      p.prev[pfn] = t;
      p.next[pfn] = -1;
      if (t < 0) zs.freeHead[li] = pfn;
      else p.next[t] = pfn;
      zs.freeTail[li] = pfn;
    } else {
      const h = zs.freeHead[li]!;
      p.next[pfn] = h;
      p.prev[pfn] = -1;
      if (h < 0) zs.freeTail[li] = pfn;
      else p.prev[h] = pfn;
      zs.freeHead[li] = pfn;
    }
    zs.freeCount[li]!++;
    zs.nrFree[zone * NR_PAGE_ORDERS + order]!++;
  }

  /** del_page_from_free_list(): unlink a free block and clear its buddy marking. */
  private delFromFreeList(pfn: number, zone: number, order: number): void {
    const p = this.pages;
    const zs = this.zones;
    const li = listIndex(zone, order, p.index[pfn]!);
    const n = p.next[pfn]!;
    const pr = p.prev[pfn]!;
    if (pr < 0) zs.freeHead[li] = n;
    else p.next[pr] = n;
    if (n < 0) zs.freeTail[li] = pr;
    else p.prev[n] = pr;
    p.next[pfn] = -1;
    p.prev[pfn] = -1;
    p.pageType[pfn] = PGTY_NONE;
    p.order[pfn] = 0;
    zs.freeCount[li]!--;
    zs.nrFree[zone * NR_PAGE_ORDERS + order]!--;
  }

  /** move_to_free_list(): a free block changes migratetype list, keeping its order. */
  private moveToFreeList(pfn: number, zone: number, order: number, mt: number): void {
    this.delFromFreeList(pfn, zone, order);
    this.addToFreeList(pfn, zone, order, mt, true);
  }

  /** page_is_buddy(): pfn heads a free block of exactly `order` in `zone`. */
  private pageIsBuddy(pfn: number, order: number, zone: number): boolean {
    const p = this.pages;
    return (
      pfn > 0 &&
      pfn < p.nr &&
      p.pageType[pfn] === PGTY_buddy &&
      p.order[pfn] === order &&
      this.blockZone[pfn >>> pageblock_order] === zone
    );
  }

  // ───────────────────────── allocation from the zone ─────────────────────────

  /**
   * expand(): the block at pfn of order `high` is cut down to order `low`; the
   * upper halves go back on the free lists at each order in between, so the
   * caller keeps the lowest-addressed 2^low pages.
   */
  private expand(zone: number, pfn: number, low: number, high: number, mt: number): void {
    let size = 1 << high;
    while (high > low) {
      high--;
      size >>= 1;
      this.addToFreeList(pfn + size, zone, high, mt, false);
    }
  }

  /**
   * __rmqueue_smallest(): the first block on the smallest non-empty list of
   * this migratetype at or above `order`, split down to `order`. Returns the
   * pfn or -1. NR_FREE_PAGES is the caller's to adjust.
   */
  rmqueueSmallest(zone: number, order: number, mt: number): number {
    const zs = this.zones;
    for (let cur = order; cur < NR_PAGE_ORDERS; cur++) {
      const pfn = zs.freeHead[listIndex(zone, cur, mt)]!;
      if (pfn < 0) continue;
      this.delFromFreeList(pfn, zone, cur);
      this.expand(zone, pfn, order, cur, mt);
      this.pages.index[pfn] = mt;
      return pfn;
    }
    return -1;
  }

  /** can_steal_fallback(): may this request claim a whole pageblock of another type? */
  private canStealFallback(order: number, startMt: number): boolean {
    if (order >= pageblock_order) return true;
    // pageblock_order / 2 is C integer division: 4, not 4.5.
    return order >= pageblock_order >> 1 || startMt === MIGRATE_RECLAIMABLE || startMt === MIGRATE_UNMOVABLE;
  }

  /**
   * find_suitable_fallback(): the first fallback migratetype with a free block
   * at this order; sets this.canSteal as the kernel's out-parameter does.
   */
  private canSteal = false;
  private findSuitableFallback(zone: number, order: number, mt: number): number {
    this.canSteal = false;
    if (this.zones.nrFree[zone * NR_PAGE_ORDERS + order] === 0) return -1;
    const fb = fallbacks[mt]!;
    for (let i = 0; i < fb.length; i++) {
      const fmt = fb[i]!;
      if (this.zones.freeHead[listIndex(zone, order, fmt)]! < 0) continue;
      if (this.canStealFallback(order, mt)) this.canSteal = true;
      return fmt;
    }
    return -1;
  }

  /**
   * move_freepages_block(): every free block inside pfn's pageblock moves to
   * `mt`'s lists. Returns the number of free pages moved.
   */
  private moveFreepagesBlock(zone: number, pfn: number, mt: number): number {
    const p = this.pages;
    const start = pfn & ~(pageblock_nr_pages - 1);
    const end = Math.min(start + pageblock_nr_pages, p.nr);
    const zStart = this.zf[zone * Z_FIELDS + Z_START_PFN]!;
    const zEnd = zStart + this.zf[zone * Z_FIELDS + Z_SPANNED]!;
    if (start < zStart || end > zEnd) return 0;
    let moved = 0;
    for (let i = start; i < end; ) {
      if (p.pageType[i] === PGTY_buddy) {
        const o = p.order[i]!;
        this.moveToFreeList(i, zone, o, mt);
        i += 1 << o;
        moved += 1 << o;
      } else {
        i++;
      }
    }
    return moved;
  }

  /**
   * steal_suitable_fallback(): the block at pfn (another type's) is taken for
   * startType. A big enough block, or a pageblock that is at least half free,
   * changes type as a whole so later allocations of startType stay together.
   */
  private stealSuitableFallback(zone: number, pfn: number, startType: number, wholeBlock: boolean): void {
    const curOrder = this.pages.order[pfn]!;
    const oldType = this.getPageblockMigratetype(pfn);
    if (oldType !== MIGRATE_HIGHATOMIC) {
      if (curOrder >= pageblock_order) {
        for (let b = pfn; b < pfn + (1 << curOrder); b += pageblock_nr_pages) this.setPageblockMigratetype(b, startType);
      } else if (wholeBlock) {
        const freePages = this.moveFreepagesBlock(zone, pfn, startType);
        if (freePages > 0) {
          // kmem has no LRU pages, so nothing in a block counts as movable.
          const alike =
            startType === MIGRATE_MOVABLE ? 0 : oldType === MIGRATE_MOVABLE ? pageblock_nr_pages - freePages : 0;
          if (freePages + alike >= 1 << (pageblock_order - 1)) this.setPageblockMigratetype(pfn, startType);
          return;
        }
      }
    }
    this.moveToFreeList(pfn, zone, curOrder, startType);
  }

  /**
   * __rmqueue_fallback(): when startType's lists are empty, take the largest
   * free block of a fallback type (claiming whole pageblocks keeps types apart);
   * a movable request that cannot claim the block takes the smallest instead.
   * With ALLOC_NOFRAGMENT only whole pageblocks may be taken.
   */
  private rmqueueFallback(zone: number, order: number, startType: number, allocFlags: number): boolean {
    const minOrder = allocFlags & ALLOC_NOFRAGMENT ? pageblock_order : order;
    let cur = MAX_PAGE_ORDER;
    let fmt = -1;
    for (; cur >= minOrder; cur--) {
      fmt = this.findSuitableFallback(zone, cur, startType);
      if (fmt === -1) continue;
      if (!this.canSteal && startType === MIGRATE_MOVABLE && cur > order) {
        for (cur = order; cur < NR_PAGE_ORDERS; cur++) {
          fmt = this.findSuitableFallback(zone, cur, startType);
          if (fmt !== -1) break;
        }
      }
      const pfn = this.zones.freeHead[listIndex(zone, cur, fmt)]!;
      this.stealSuitableFallback(zone, pfn, startType, this.canSteal);
      this.events[EV_EXTFRAG]!++;
      return true;
    }
    return false;
  }

  /** __rmqueue(): own lists first, then fallback, retrying after a steal. */
  private rmqueue1(zone: number, order: number, mt: number, allocFlags: number): number {
    for (;;) {
      const pfn = this.rmqueueSmallest(zone, order, mt);
      if (pfn >= 0) return pfn;
      if (!this.rmqueueFallback(zone, order, mt, allocFlags)) return -1;
    }
  }

  /**
   * rmqueue_bulk(): up to `count` blocks of `order` for a pcp list, appended at
   * its tail so the list runs in physical order as expand() produced it.
   */
  private rmqueueBulk(zone: number, order: number, count: number, li: number, mt: number, allocFlags: number): number {
    let i = 0;
    for (; i < count; i++) {
      const pfn = this.rmqueue1(zone, order, mt, allocFlags);
      if (pfn < 0) break;
      this.pcpAddTail(li, pfn);
    }
    this.zf[zone * Z_FIELDS + Z_FREE]! -= i << order;
    return i;
  }

  // ───────────────────────── per-CPU page lists ─────────────────────────

  private pcpAddHead(li: number, pfn: number): void {
    const p = this.pages;
    const h = this.pcpHead[li]!;
    p.next[pfn] = h;
    p.prev[pfn] = -1;
    if (h < 0) this.pcpTail[li] = pfn;
    else p.prev[h] = pfn;
    this.pcpHead[li] = pfn;
  }

  private pcpAddTail(li: number, pfn: number): void {
    const p = this.pages;
    const t = this.pcpTail[li]!;
    p.prev[pfn] = t;
    p.next[pfn] = -1;
    if (t < 0) this.pcpHead[li] = pfn;
    else p.next[t] = pfn;
    this.pcpTail[li] = pfn;
  }

  private pcpUnlink(li: number, pfn: number): void {
    const p = this.pages;
    const n = p.next[pfn]!;
    const pr = p.prev[pfn]!;
    if (pr < 0) this.pcpHead[li] = n;
    else p.next[pr] = n;
    if (n < 0) this.pcpTail[li] = pr;
    else p.prev[n] = pr;
    p.next[pfn] = -1;
    p.prev[pfn] = -1;
  }

  /**
   * rmqueue_pcplist(): pop the hottest page of this CPU's list, refilling the
   * list with `batch` (scaled down by order) blocks from the zone when empty.
   */
  private rmqueuePcplist(zone: number, order: number, mt: number, allocFlags: number): number {
    const row = (this.cpu * MAX_NR_ZONES + zone) * PCP_FIELDS;
    const pcp = this.pcp;
    pcp[row + PCP_FREE_FACTOR]! >>= 1;
    const li = (this.cpu * MAX_NR_ZONES + zone) * NR_PCP_LISTS + order * MIGRATE_PCPTYPES + mt;
    let pfn = this.pcpHead[li]!;
    if (pfn < 0) {
      let batch = pcp[row + PCP_BATCH]!;
      if (batch > 1) batch = Math.max(batch >> order, 2);
      const got = this.rmqueueBulk(zone, order, batch, li, mt, allocFlags);
      pcp[row + PCP_COUNT]! += got << order;
      pfn = this.pcpHead[li]!;
      if (pfn < 0) return -1;
    }
    this.pcpUnlink(li, pfn);
    pcp[row + PCP_COUNT]! -= 1 << order;
    return pfn;
  }

  /**
   * free_pcppages_bulk(): return `count` pages to the zone, taking the coldest
   * page (tail) of each list in turn, starting with the list just freed to.
   */
  private freePcppagesBulk(cpu: number, zone: number, count: number, pindex: number): void {
    const row = (cpu * MAX_NR_ZONES + zone) * PCP_FIELDS;
    const base = (cpu * MAX_NR_ZONES + zone) * NR_PCP_LISTS;
    const pcp = this.pcp;
    count = Math.min(pcp[row + PCP_COUNT]!, count);
    pindex = pindex - 1;
    while (count > 0) {
      let li: number;
      do {
        if (++pindex > NR_PCP_LISTS - 1) pindex = 0;
        li = base + pindex;
      } while (this.pcpHead[li]! < 0);
      const order = (pindex / MIGRATE_PCPTYPES) | 0;
      const nr = 1 << order;
      do {
        const pfn = this.pcpTail[li]!;
        let mt = this.pages.index[pfn]!;
        this.pcpUnlink(li, pfn);
        count -= nr;
        pcp[row + PCP_COUNT]! -= nr;
        const blockMt = this.getPageblockMigratetype(pfn);
        if (blockMt === MIGRATE_ISOLATE) mt = blockMt;
        this.freeOnePage(pfn, zone, order, mt, false);
      } while (count > 0 && this.pcpHead[li]! >= 0);
    }
  }

  /**
   * nr_pcp_free(): how many pages a full pcp list gives back; doubles with each
   * free that finds the list full again without an allocation in between,
   * always leaving at least one batch behind.
   */
  private nrPcpFree(row: number, high: number, batch: number): number {
    const pcp = this.pcp;
    if (high < batch) return 1;
    const minNr = batch;
    const maxNr = high - batch;
    batch <<= pcp[row + PCP_FREE_FACTOR]!;
    if (batch < maxNr) pcp[row + PCP_FREE_FACTOR]!++;
    return Math.min(Math.max(batch, minNr), maxNr);
  }

  /** free_unref_page_commit(): onto this CPU's list; drain if over high. */
  private freeUnrefPageCommit(pfn: number, zone: number, order: number, mt: number): void {
    const cpu = this.cpu;
    const row = (cpu * MAX_NR_ZONES + zone) * PCP_FIELDS;
    const pcp = this.pcp;
    this.events[EV_PGFREE]! += 1 << order;
    // A highatomic block rides on the movable list but remembers its own type.
    const pindex = order * MIGRATE_PCPTYPES + (mt < MIGRATE_PCPTYPES ? mt : MIGRATE_MOVABLE);
    this.pages.index[pfn] = mt;
    this.pcpAddHead((cpu * MAX_NR_ZONES + zone) * NR_PCP_LISTS + pindex, pfn);
    pcp[row + PCP_COUNT]! += 1 << order;
    const count = pcp[row + PCP_COUNT]!;
    const high = pcp[row + PCP_HIGH]!;
    if (count >= high) {
      this.freePcppagesBulk(cpu, zone, this.nrPcpFree(row, high, pcp[row + PCP_BATCH]!), pindex);
    }
  }

  /** drain_pages_zone(): everything on one CPU's lists for a zone goes back. */
  drainPagesZone(cpu: number, zone: number): void {
    const row = (cpu * MAX_NR_ZONES + zone) * PCP_FIELDS;
    const count = this.pcp[row + PCP_COUNT]!;
    if (count > 0) this.freePcppagesBulk(cpu, zone, count, 0);
  }

  /** drain_all_pages(NULL): every CPU's pcp lists, every zone. */
  drainAllPages(): void {
    for (let cpu = 0; cpu < this.cpus; cpu++) {
      for (let z = 0; z < MAX_NR_ZONES; z++) this.drainPagesZone(cpu, z);
    }
  }

  /** Pages on pcp lists of a zone, all CPUs. */
  pcpPages(zone: number): number {
    let n = 0;
    for (let cpu = 0; cpu < this.cpus; cpu++) n += this.pcp[(cpu * MAX_NR_ZONES + zone) * PCP_FIELDS + PCP_COUNT]!;
    return n;
  }

  /** setup_pageset values (after watermarks): every CPU's high and batch. */
  setupPagesets(): void {
    for (let z = 0; z < MAX_NR_ZONES; z++) {
      for (let cpu = 0; cpu < this.cpus; cpu++) {
        const row = (cpu * MAX_NR_ZONES + z) * PCP_FIELDS;
        const populated = this.zones.populated(z);
        this.pcp[row + PCP_BATCH] = populated ? this.zones.get(z, Z_PCP_BATCH) : 1;
        this.pcp[row + PCP_HIGH_MIN] = populated ? this.zones.get(z, Z_PCP_HIGH_MIN) : 0;
        this.pcp[row + PCP_HIGH_MAX] = populated ? this.zones.get(z, Z_PCP_HIGH_MAX) : 0;
        this.pcp[row + PCP_HIGH] = this.pcp[row + PCP_HIGH_MIN]!;
      }
    }
  }

  // ───────────────────────── freeing to the zone ─────────────────────────

  /**
   * __free_one_page(): merge the block with its buddy for as long as the buddy
   * is a free block of the same order in the same zone, never joining two
   * pageblocks of which one may not be merged (isolated or highatomic), then
   * put the result at the head of its list, or at the tail when a merge at the
   * next order looks likely or the caller asked for the tail (boot frees).
   */
  freeOnePage(pfn: number, zone: number, order: number, mt: number, toTail: boolean): void {
    const start = order;
    let buddyPfn = 0;
    while (order < MAX_PAGE_ORDER) {
      buddyPfn = pfn ^ (1 << order);
      if (!this.pageIsBuddy(buddyPfn, order, zone)) break;
      if (order >= pageblock_order) {
        const buddyMt = this.getPageblockMigratetype(buddyPfn);
        if (mt !== buddyMt && (mt >= MIGRATE_PCPTYPES || buddyMt >= MIGRATE_PCPTYPES)) break;
      }
      this.delFromFreeList(buddyPfn, zone, order);
      pfn &= buddyPfn;
      order++;
    }
    if (!toTail && order < MAX_PAGE_ORDER - 1) {
      // buddy_merge_likely(): is the next-order buddy of the merged block free?
      const higher = pfn & buddyPfn;
      toTail = this.pageIsBuddy(higher ^ (1 << (order + 1)), order + 1, zone);
    }
    this.addToFreeList(pfn, zone, order, mt, toTail);
    this.zf[zone * Z_FIELDS + Z_FREE]! += 1 << start;
  }

  // ───────────────────────── watermarks ─────────────────────────

  /**
   * __zone_watermark_ok(): free pages above mark + lowmem_reserve, with the
   * reserves an atomic or __GFP_HIGH request may dip into; for order > 0 a
   * block of at least that order must also be free.
   */
  zoneWatermarkOk(zone: number, order: number, mark: number, highestZone: number, allocFlags: number): boolean {
    const zf = this.zf;
    const r = zone * Z_FIELDS;
    let free = zf[r + Z_FREE]!;
    let min = mark;
    free -= (1 << order) - 1;
    if (allocFlags & ALLOC_RESERVES) {
      if (allocFlags & ALLOC_MIN_RESERVE) {
        min -= Math.floor(min / 2);
        if (allocFlags & ALLOC_NON_BLOCK) min -= Math.floor(min / 4);
      }
      if (allocFlags & ALLOC_OOM) min -= Math.floor(min / 2);
    } else {
      free -= zf[r + Z_RESERVED_HIGHATOMIC]!;
    }
    if (free <= min + zf[r + Z_LOWMEM_RESERVE + highestZone]!) return false;
    if (order === 0) return true;
    const zs = this.zones;
    for (let o = order; o < NR_PAGE_ORDERS; o++) {
      if (zs.nrFree[zone * NR_PAGE_ORDERS + o] === 0) continue;
      for (let mt = 0; mt < MIGRATE_PCPTYPES; mt++) {
        if (zs.freeHead[listIndex(zone, o, mt)]! >= 0) return true;
      }
      if (allocFlags & (ALLOC_HIGHATOMIC | ALLOC_OOM) && zs.freeHead[listIndex(zone, o, MIGRATE_HIGHATOMIC)]! >= 0)
        return true;
    }
    return false;
  }

  /** zone_watermark_fast(): the order-0 check inline, the full one otherwise. */
  private zoneWatermarkFast(zone: number, order: number, mark: number, highestZone: number, allocFlags: number): boolean {
    const r = zone * Z_FIELDS;
    const zf = this.zf;
    if (order === 0) {
      let usable = zf[r + Z_FREE]!;
      if (!(allocFlags & ALLOC_RESERVES)) usable -= Math.min(usable, zf[r + Z_RESERVED_HIGHATOMIC]!);
      if (usable > mark + zf[r + Z_LOWMEM_RESERVE + highestZone]!) return true;
    }
    return this.zoneWatermarkOk(zone, order, mark, highestZone, allocFlags);
  }

  // ───────────────────────── the allocation paths ─────────────────────────

  /** rmqueue(): pcp lists for small orders, else the zone under its lock. */
  private rmqueue(zone: number, order: number, mt: number, allocFlags: number): number {
    if (order <= PAGE_ALLOC_COSTLY_ORDER) {
      const pfn = this.rmqueuePcplist(zone, order, mt, allocFlags);
      if (pfn >= 0) {
        this.events[EV_PGALLOC + zone]! += 1 << order;
        this.events[EV_NUMA_HIT + zone]!++;
        return pfn;
      }
    }
    let pfn = -1;
    if (allocFlags & ALLOC_HIGHATOMIC) pfn = this.rmqueueSmallest(zone, order, MIGRATE_HIGHATOMIC);
    if (pfn < 0) {
      pfn = this.rmqueue1(zone, order, mt, allocFlags);
      if (pfn < 0 && allocFlags & ALLOC_OOM) pfn = this.rmqueueSmallest(zone, order, MIGRATE_HIGHATOMIC);
      if (pfn < 0) return -1;
    }
    this.zf[zone * Z_FIELDS + Z_FREE]! -= 1 << order;
    this.events[EV_PGALLOC + zone]! += 1 << order;
    this.events[EV_NUMA_HIT + zone]!++;
    return pfn;
  }

  /**
   * reserve_highatomic_pageblock(): a high-order atomic allocation that
   * succeeded reserves its pageblock for later ones, up to 1% of the zone.
   */
  private reserveHighatomicPageblock(pfn: number, zone: number): void {
    const maxManaged = Math.floor(this.zones.get(zone, Z_MANAGED) / 100) + pageblock_nr_pages;
    if (this.zones.get(zone, Z_RESERVED_HIGHATOMIC) >= maxManaged) return;
    const mt = this.getPageblockMigratetype(pfn);
    if (mt === MIGRATE_HIGHATOMIC || mt === MIGRATE_ISOLATE) return;
    // move_freepages_block() refuses a pageblock that straddles the zone's edge
    // (DMA's first block holds pfn 0): then nothing is reserved.
    const start = pfn & ~(pageblock_nr_pages - 1);
    const zStart = this.zf[zone * Z_FIELDS + Z_START_PFN]!;
    if (start < zStart || start + pageblock_nr_pages > zStart + this.zf[zone * Z_FIELDS + Z_SPANNED]!) return;
    this.zones.add(zone, Z_RESERVED_HIGHATOMIC, pageblock_nr_pages);
    this.setPageblockMigratetype(pfn, MIGRATE_HIGHATOMIC);
    this.moveFreepagesBlock(zone, pfn, MIGRATE_HIGHATOMIC);
  }

  /**
   * unreserve_highatomic_pageblock(): under pressure, give reserved pageblocks
   * back to the requesting type before the allocation is failed.
   */
  private unreserveHighatomicPageblock(mt: number): boolean {
    for (let z = 0; z < MAX_NR_ZONES; z++) {
      if (this.zones.get(z, Z_RESERVED_HIGHATOMIC) <= 0) continue;
      for (let o = 0; o < NR_PAGE_ORDERS; o++) {
        const pfn = this.zones.freeHead[listIndex(z, o, MIGRATE_HIGHATOMIC)]!;
        if (pfn < 0) continue;
        if (this.getPageblockMigratetype(pfn) === MIGRATE_HIGHATOMIC) {
          this.zones.add(z, Z_RESERVED_HIGHATOMIC, -Math.min(pageblock_nr_pages, this.zones.get(z, Z_RESERVED_HIGHATOMIC)));
          this.setPageblockMigratetype(pfn, mt);
        }
        // Done only if something moved; otherwise try the next order (the kernel's ret > 0).
        if (this.moveFreepagesBlock(z, pfn, mt) > 0) return true;
      }
    }
    return false;
  }

  /**
   * get_page_from_freelist(): walk the zonelist from the highest zone the gfp
   * allows downwards and take from the first zone above its watermark.
   * ALLOC_NOFRAGMENT (a Normal-zone request when DMA32 exists) first refuses to
   * split other types' pageblocks, and is dropped if that finds nothing.
   */
  private getPageFromFreelist(gfp: number, order: number, allocFlags: number, highest: number, mt: number): number {
    const zf = this.zf;
    for (;;) {
      for (let z = highest; z >= 0; z--) {
        const r = z * Z_FIELDS;
        if (zf[r + Z_PRESENT] === 0) continue;
        if (!(allocFlags & ALLOC_NO_WATERMARKS)) {
          const mark = zf[r + Z_WMARK + (allocFlags & ALLOC_WMARK_MASK)]! + zf[r + Z_BOOST]!;
          if (!this.zoneWatermarkFast(z, order, mark, highest, allocFlags)) continue;
        }
        const pfn = this.rmqueue(z, order, mt, allocFlags);
        if (pfn >= 0) {
          this.prepNewPage(pfn, order, gfp);
          if (allocFlags & ALLOC_HIGHATOMIC) this.reserveHighatomicPageblock(pfn, z);
          return pfn;
        }
      }
      if (!(allocFlags & ALLOC_NOFRAGMENT)) return -1;
      allocFlags &= ~ALLOC_NOFRAGMENT;
    }
  }

  /** gfp_to_alloc_flags(): the slow path's rights for this request. */
  private gfpToAllocFlags(gfp: number, order: number): number {
    let f = ALLOC_WMARK_MIN | ALLOC_CPUSET;
    if (gfp & __GFP_HIGH) f |= ALLOC_MIN_RESERVE;
    if (gfp & __GFP_KSWAPD_RECLAIM) f |= ALLOC_KSWAPD;
    if (!(gfp & __GFP_DIRECT_RECLAIM)) {
      if (!(gfp & __GFP_NOMEMALLOC)) {
        f |= ALLOC_NON_BLOCK;
        if (order > 0) f |= ALLOC_HIGHATOMIC;
      }
      if (f & ALLOC_MIN_RESERVE) f &= ~ALLOC_CPUSET;
    }
    return f;
  }

  /**
   * __alloc_pages_slowpath(): the min watermark with the request's reserves,
   * then __GFP_MEMALLOC's no-watermark access, then the highatomic reserves.
   * kmem has nothing to reclaim or compact, so that is where it ends.
   */
  private allocPagesSlowpath(gfp: number, order: number, highest: number, mt: number): number {
    const allocFlags = this.gfpToAllocFlags(gfp, order);
    let pfn = this.getPageFromFreelist(gfp, order, allocFlags, highest, mt);
    if (pfn >= 0) return pfn;
    if (gfp & __GFP_MEMALLOC && !(gfp & __GFP_NOMEMALLOC)) {
      pfn = this.getPageFromFreelist(gfp, order, allocFlags | ALLOC_NO_WATERMARKS, highest, mt);
      if (pfn >= 0) return pfn;
    }
    if (gfp & __GFP_DIRECT_RECLAIM) {
      this.events[EV_ALLOCSTALL]!++;
      this.drainAllPages();
      while (this.unreserveHighatomicPageblock(mt)) {
        pfn = this.getPageFromFreelist(gfp, order, allocFlags, highest, mt);
        if (pfn >= 0) return pfn;
      }
      pfn = this.getPageFromFreelist(gfp, order, allocFlags, highest, mt);
      if (pfn >= 0) return pfn;
    }
    this.events[EV_PGALLOC_FAIL]!++;
    if (!(gfp & __GFP_NOWARN)) this.hooks.warnAlloc(order, gfp);
    return -1;
  }

  /**
   * __alloc_pages(): the fast path at the low watermark, then the slow path.
   * Returns the first pfn of a 2^order block, or -1.
   */
  allocPagesPfn(order: number, gfp: number): number {
    const highest = gfpZone(gfp);
    const mt = gfpMigratetype(gfp);
    let allocFlags = ALLOC_WMARK_LOW;
    if (gfp & __GFP_KSWAPD_RECLAIM) allocFlags |= ALLOC_KSWAPD;
    // alloc_flags_nofragment(): only when the preferred zone (the first populated
    // zone at or below the highest allowed one) is ZONE_NORMAL.
    let preferred = highest;
    while (preferred > 0 && this.zf[preferred * Z_FIELDS + Z_PRESENT] === 0) preferred--;
    if (preferred === ZONE_NORMAL) allocFlags |= ALLOC_NOFRAGMENT;
    const pfn = this.getPageFromFreelist(gfp, order, allocFlags, highest, mt);
    if (pfn >= 0) return pfn;
    return this.allocPagesSlowpath(gfp, order, highest, mt);
  }

  /**
   * prep_new_page(): refcount 1 on the first page, zeroed if asked, and for
   * __GFP_COMP a compound page: PG_head and the order on the head, every tail
   * pointing back at it.
   */
  private prepNewPage(pfn: number, order: number, gfp: number): void {
    const p = this.pages;
    p.refcount[pfn] = 1;
    p.index[pfn] = 0;
    p.order[pfn] = order;
    if (gfp & __GFP_ZERO) {
      const a = pfn << PAGE_SHIFT;
      this.mem.u8.fill(0, a, a + (PAGE_SIZE << order));
    }
    if (order > 0 && gfp & __GFP_COMP) {
      p.flags[pfn]! |= 1 << PG_head;
      for (let i = 1, n = 1 << order; i < n; i++) p.head[pfn + i] = pfn;
    }
    const hook = this.hooks.postAlloc;
    if (hook !== null) hook(pfn << PAGE_SHIFT, order);
  }

  // ───────────────────────── the free path ─────────────────────────

  /**
   * free_pages_prepare() and the bad-page checks: a block can only be freed by
   * its first page, once, with the order it was allocated with. Returns false
   * (after reporting) when the free must not happen.
   */
  private freePagesPrepare(pfn: number, order: number): boolean {
    const p = this.pages;
    if (p.head[pfn]! >= 0) {
      this.hooks.badPage({ pfn, reason: 'freeing a tail page of a compound page' });
      return false;
    }
    if (p.refcount[pfn]! <= 0 || p.pageType[pfn] !== PGTY_NONE) {
      p.refcount[pfn] = p.refcount[pfn]! - 1;
      try {
        this.hooks.badPage({ pfn, reason: 'nonzero _refcount' });
      } finally {
        // Also when onBug: 'throw' makes the report throw.
        p.refcount[pfn] = 0;
      }
      return false;
    }
    if (p.order[pfn] !== order) {
      this.hooks.badPage({ pfn, reason: `freeing order ${order}, allocated as order ${p.order[pfn]}` });
      return false;
    }
    if (p.slabCache[pfn]! >= 0) {
      this.hooks.badPage({ pfn, reason: 'PAGE_FLAGS_CHECK_AT_FREE flag(s) set' });
      return false;
    }
    const hook = this.hooks.freePrepare;
    if (hook !== null) hook(pfn << PAGE_SHIFT, order);
    p.refcount[pfn] = 0;
    p.order[pfn] = 0;
    if (p.flags[pfn]! & (1 << PG_head)) {
      for (let i = 1, n = 1 << order; i < n; i++) p.head[pfn + i] = -1;
    }
    p.flags[pfn] = 0;
    return true;
  }

  /** __free_pages(): pcp lists for small orders, the zone for the rest. */
  freePagesPfn(pfn: number, order: number): void {
    if (!this.freePagesPrepare(pfn, order)) return;
    const zone = this.blockZone[pfn >>> pageblock_order]!;
    const mt = this.zones.pageblockMt[pfn >>> pageblock_order]!;
    if (order <= PAGE_ALLOC_COSTLY_ORDER && mt !== MIGRATE_ISOLATE) {
      this.freeUnrefPageCommit(pfn, zone, order, mt);
    } else {
      this.events[EV_PGFREE]! += 1 << order;
      this.freeOnePage(pfn, zone, order, mt, false);
    }
  }

  // ───────────────────────── boot ─────────────────────────

  /**
   * memmap_init() + memblock_free_all(): every pageblock starts Movable, and
   * each zone's pages are freed in the largest aligned blocks that fit, to the
   * tail of the lists (FPI_TO_TAIL) as the kernel's boot frees are.
   */
  initZone(zone: number, startPfn: number, endPfn: number): void {
    const zs = this.zones;
    zs.set(zone, Z_START_PFN, startPfn);
    zs.set(zone, Z_SPANNED, endPfn - startPfn);
    zs.set(zone, Z_PRESENT, endPfn - startPfn);
    zs.set(zone, Z_MANAGED, endPfn - startPfn);
    for (let b = startPfn >>> pageblock_order; b << pageblock_order < endPfn; b++) {
      zs.pageblockZone[b] = zone;
      zs.pageblockMt[b] = MIGRATE_MOVABLE;
    }
    let pfn = startPfn;
    while (pfn < endPfn) {
      let order = Math.min(MAX_PAGE_ORDER, ctz(pfn));
      while (pfn + (1 << order) > endPfn) order--;
      this.freeOnePage(pfn, zone, order, MIGRATE_MOVABLE, true);
      // __free_pages_core() -> __free_pages_ok() counts PGFREE for boot frees too.
      this.bootFreePages += 1 << order;
      pfn += 1 << order;
    }
  }
}

function ctz(x: number): number {
  if (x === 0) return 32;
  return 31 - Math.clz32(x & -x);
}
