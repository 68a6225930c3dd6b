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
 *
 * Speed. The order-0 pair is two short chains of small functions that V8
 * inlines into whoever calls them, so a constant order and gfp fold away:
 * allocPagesPfn (get_page_from_freelist's common case: first zone of the
 * zonelist, zoneWatermarkFast, rmqueuePcpHead, prepNewPage) and freePagesPfn
 * (free_pages_prepare, freeUnrefPageCommit). Together they are some 1200
 * bytes of bytecode, more than V8's inlining budget for one caller (920), so
 * a loop that does both inlines one and calls the other. They use only const
 * enums (Order, MT, ZONE, Z, ALLOC, PCP, EV, PGTY, PG, Gfp, GfpMask, Page: tsc
 * writes the numbers into the compiled code, where an imported or
 * module-level const costs a load and a hole check at every use), typed
 * arrays held directly as fields of this object (no `this.pages.next`
 * chains), int32 arithmetic, and no allocation. Everything rare (refills,
 * drains, the buddy lists, other zones, bad-page reports, __GFP_ZERO and
 * __GFP_COMP, hooks, the slow path) is a separate method, called only when
 * needed, with as few arguments as it can take: call sites count against the
 * inlining budget too. The order-0 watermark answer is cached per zone until
 * NR_FREE_PAGES or a zone field changes (Zones.wmarkOk0), and the pcp
 * allocations are counted per CPU and summed into the events on read
 * (pcpAllocDiff), so a pcp hit reads one zone field and writes one counter.
 */
import type { PhysMem } from '../memory/memblock.js';
import { Page } from '../memory/memblock.js';
import { type PageArray, PG, PGTY } from '../memory/page.js';
import { ALLOC } from './alloc_flags.js';
import { Gfp, GfpMask, gfpMigratetype, gfpZone } from './gfp.js';
import { fallbacks, MT, Order, WMARK, Z, ZONE, Zones } from './mmzone.js';

/** Per (cpu, zone) pageset fields, rows of PCP.FIELDS in PageAlloc.pcp; PCP_* alias them. */
export const enum PCP {
  COUNT = 0,
  HIGH = 1,
  BATCH = 2,
  HIGH_MIN = 3,
  HIGH_MAX = 4,
  FREE_FACTOR = 5,
  FIELDS = 6,
  /** One pcp list per (order 0..3, pcp migratetype): MIGRATE_PCPTYPES * (PAGE_ALLOC_COSTLY_ORDER + 1). */
  NR_LISTS = 12,
}
/** One pcp list per (order 0..3, pcp migratetype). */
export const NR_PCP_LISTS: number = PCP.NR_LISTS;
export const PCP_COUNT: number = PCP.COUNT;
export const PCP_HIGH: number = PCP.HIGH;
export const PCP_BATCH: number = PCP.BATCH;
export const PCP_HIGH_MIN: number = PCP.HIGH_MIN;
export const PCP_HIGH_MAX: number = PCP.HIGH_MAX;
export const PCP_FREE_FACTOR: number = PCP.FREE_FACTOR;
export const PCP_FIELDS: number = PCP.FIELDS;

/** vm_event_item counters this layer owns, indexes into PageAlloc.events; EV_* alias them. */
export const enum EV {
  /** MAX_NR_ZONES slots, one per zone */
  PGALLOC = 0,
  PGFREE = 5,
  ALLOCSTALL = 6,
  PGALLOC_FAIL = 7,
  EXTFRAG = 8,
  /** NUMA_HIT per zone (MAX_NR_ZONES slots): one per allocation, as zone_statistics(..., 1). */
  NUMA_HIT = 9,
  NR = 14,
}
export const EV_PGALLOC: number = EV.PGALLOC; // MAX_NR_ZONES slots, one per zone
export const EV_PGFREE: number = EV.PGFREE;
export const EV_ALLOCSTALL: number = EV.ALLOCSTALL;
export const EV_PGALLOC_FAIL: number = EV.PGALLOC_FAIL;
export const EV_EXTFRAG: number = EV.EXTFRAG;
/** NUMA_HIT per zone (MAX_NR_ZONES slots): one per allocation, as zone_statistics(..., 1). */
export const EV_NUMA_HIT: number = EV.NUMA_HIT;
export const NR_EVENTS: number = EV.NR;

/** PageAlloc.pcpFastKey's layout: indexed by gfp & KEY_MASK; entries ci | z << Z_SHIFT | mt << MT_SHIFT. */
export const enum PcpFastKey {
  KEY_MASK = 0x1f,
  NR = 32,
  CI_MASK = 0xff,
  Z_SHIFT = 8,
  Z_MASK = 7,
  MT_SHIFT = 12,
}

/** Row length of PageAlloc's zonelists: up to MAX_NR_ZONES zones and a -1 end. */
const enum ZL {
  STRIDE = 6,
}

// BUILD_BUG_ON(__GFP_KSWAPD_RECLAIM != ALLOC_KSWAPD): allocPagesPfn() copies the bit across.
// And the sizes written out as numbers in the enums above.
if (
  (Gfp.KSWAPD_RECLAIM as number) !== (ALLOC.KSWAPD as number) ||
  PCP.NR_LISTS !== MT.PCPTYPES * (Order.COSTLY + 1) ||
  ZL.STRIDE !== ZONE.MAX_NR + 1 ||
  PcpFastKey.KEY_MASK !== (GfpMask.ZONEMASK | GfpMask.MOVABLE_MASK)
) {
  throw new Error('page_alloc.ts: an enum no longer matches what it is derived from');
}

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
  /**
   * out_of_memory() (mm/oom_kill.c), set by the virtual-memory half when it
   * starts: true when it made progress (a victim was killed and its memory
   * freed), so the allocation is retried. Absent: no OOM killer.
   */
  outOfMemory?: ((order: number, gfp: number) => boolean) | null;
  /** tsk_is_oom_victim(current): the allocating task was killed, so it may dig into the OOM reserves (ALLOC_OOM). */
  oomVictim?: (() => boolean) | null;
  /** wakeup_kswapd() for the node (src/vm/vmscan.ts; set when the VM half starts). */
  wakeKswapd?: ((order: number, gfp: number, highestZone: number) => void) | null;
  /**
   * __perform_reclaim() (try_to_free_pages): the pages reclaimed, or -1 when
   * the caller may not reclaim (already reclaiming: PF_MEMALLOC).
   */
  directReclaim?: ((order: number, gfp: number) => number) | null;
  /** zone_reclaimable_pages() for should_reclaim_retry() */
  zoneReclaimablePages?: ((zone: number) => number) | null;
  /**
   * __alloc_pages_direct_compact() (src/vm/compaction.ts): compact the
   * zonelist for the request at compact priority `prio`, then `retry`
   * (get_page_from_freelist with the request's flags). The page got, or
   * -1 - compact_result when none. Absent: kmem does not compact.
   */
  directCompact?: ((order: number, gfp: number, allocFlags: number, highest: number, prio: number, retry: () => number) => number) | null;
  /**
   * The virtual-memory half's counters show_free_areas() prints at its end
   * (NR_FILE_PAGES, total_swapcache_pages(), get_nr_swap_pages(),
   * total_swap_pages); set when the VM half starts. Absent: all 0.
   */
  showMemVmStats?: (() => ShowMemVmStats) | null;
}

/** The page counts show_free_areas() and show_swap_cache_info() print. */
export interface ShowMemVmStats {
  filePages: number;
  swapCache: number;
  freeSwap: number;
  totalSwap: number;
}

/** MAX_RECLAIM_RETRIES (mm/internal.h) */
export const MAX_RECLAIM_RETRIES = 16;
/** MAX_COMPACT_RETRIES (mm/page_alloc.c) */
export const MAX_COMPACT_RETRIES = 16;

/** enum compact_result (include/linux/compaction.h), in the kernel's order: a larger one is "more done". */
export const enum CompactResult {
  NOT_SUITABLE_ZONE = 0,
  SKIPPED = 1,
  DEFERRED = 2,
  NO_SUITABLE_PAGE = 3,
  CONTINUE = 4,
  COMPLETE = 5,
  PARTIAL_SKIPPED = 6,
  CONTENDED = 7,
  SUCCESS = 8,
}

/** enum compact_priority: a lower value tries harder. */
export const enum CompactPrio {
  SYNC_FULL = 0,
  SYNC_LIGHT = 1,
  ASYNC = 2,
  /** INIT_COMPACT_PRIORITY */
  INIT = ASYNC,
  /** DEF_COMPACT_PRIORITY */
  DEF = SYNC_LIGHT,
}

export class PageAlloc {
  readonly mem: PhysMem;
  readonly pages: PageArray;
  readonly zones: Zones;
  readonly cpus: number;
  /** The CPU whose pcp lists are used; set by Kernel.onCpu. */
  cpu = 0;
  /**
   * rmqueue_bulk() takes the units of a block it splits in one pass
   * (rmqueueSplitRun); false: one __rmqueue_smallest() per unit, as the
   * kernel's loop goes. Both leave the same state (test/page_alloc/split_run.test.ts).
   */
  splitRuns = true;
  /** Pageset fields per (cpu, zone). */
  readonly pcp: Int32Array;
  /**
   * The pcp lists, singly linked through pages.next from the head (the
   * hottest page) to the tail (the coldest): list_add() and the pop of
   * rmqueue_pcplist() touch the head only, rmqueue_bulk() appends at the
   * tail, free_pcppages_bulk() takes from the tail (walking the list once
   * per visit). pcpTail is meaningful only while the list is not empty;
   * pages.prev of a pcp page is -1, as of every page off a list.
   */
  readonly pcpHead: Int32Array;
  readonly pcpTail: Int32Array;
  /** free_pcppages_bulk()'s walk of one list, head to tail (grows as needed; never shared). */
  private pcpWalk: Int32Array = new Int32Array(256);
  /** The vm_event counters of EV, less what pcpAllocDiff still holds: read them through `events`. */
  private readonly ev: Float64Array;
  /**
   * Per (cpu, zone, order 0..3), the pcp-list allocations not yet added to
   * ev's PGALLOC and NUMA_HIT: the per-CPU part of vm_event_states and
   * vm_numa_event, one store on the fast path instead of two, summed into
   * ev whenever anyone reads the counters.
   */
  private readonly pcpAllocDiff: Float64Array;
  /**
   * Per (cpu, zone), what makes the pcp frees not yet in ev's PGFREE
   * derivable, so the free fast path writes no counter of its own: those
   * frees are pcp.count + (the pages pcpAllocDiff holds) - pcpFreeBase.
   * Every other change of pcp.count (a refill, a drain) moves the base
   * with it; folding sets it to pcp.count.
   */
  private readonly pcpFreeBase: Float64Array;
  /** Pages freed to the buddy lists at boot: /proc/vmstat's pgfree includes them (events[EV_PGFREE] does not). */
  bootFreePages = 0;
  readonly hooks: PageAllocHooks;

  // The arrays the hot paths touch, held directly (one load each instead of
  // this.pages.next / this.zones.freeHead chains). They are the same arrays
  // as pages.* and zones.*.
  private readonly pgNext: Int32Array;
  private readonly pgPrev: Int32Array;
  private readonly pgIndex: Float64Array;
  private readonly pgOrder: Uint8Array;
  private readonly pgType: Uint8Array;
  private readonly pgRefcount: Int32Array;
  private readonly pgHead: Int32Array;
  private readonly pgFlags: Uint32Array;
  private readonly pgSlabCache: Int32Array;
  private readonly nrPages: number;
  private readonly freeHead: Int32Array;
  private readonly freeTail: Int32Array;
  private readonly freeCount: Int32Array;
  private readonly nrFree: Int32Array;
  /** Zone index per pageblock, copied from zones for a quick page_zone(). */
  private readonly blockZone: Uint8Array;
  /** Migratetype per pageblock (zones.pageblockMt). */
  private readonly blockMt: Uint8Array;
  private readonly zf: Float64Array;
  /** zones.wmarkOk0: the order-0 watermark cache. */
  private readonly wmarkOk0: Float64Array;
  /**
   * build_zonelists(): per highest allowed zone, the populated zones from it
   * down to DMA, ended by -1 (rows of ZL.STRIDE). Rebuilt by initZone().
   */
  private readonly zonelist: Int8Array;
  /**
   * Per highest allowed zone, the fast path's alloc_flags: ALLOC_WMARK_LOW,
   * plus ALLOC_NOFRAGMENT when the preferred zone (the zonelist's first) is
   * ZONE_NORMAL (alloc_flags_nofragment()). Rebuilt with the zonelists.
   */
  private readonly fastAllocFlags: Int32Array;
  /**
   * Per gfp & (GFP_ZONEMASK | GFP_MOVABLE_MASK), where an order-0 request
   * of those flags looks first (src/page_alloc/fastpath.ts): the zonelist's
   * first zone z, the migratetype mt and the order-0 low-watermark cache
   * slot ci packed as ci | z << 8 | mt << 12; -1 for a forbidden zone mix,
   * both mobility bits, or no zone. Rebuilt with the zonelists.
   */
  private readonly pcpFastKeyAll: Int32Array;
  /** zones.pcpFastKey: the entries of pcpFastKeyAll whose watermark check is known to pass. */
  private readonly pcpFastKey: Int32Array;
  private readonly fastSlotOpen: Uint8Array;
  private readonly fastZoneOpen: Uint8Array;

  constructor(mem: PhysMem, pages: PageArray, cpus: number, shared: boolean, hooks: PageAllocHooks) {
    this.mem = mem;
    this.pages = pages;
    this.cpus = cpus;
    this.zones = new Zones(mem.nrPages, shared);
    const B = shared ? SharedArrayBuffer : ArrayBuffer;
    this.pcp = new Int32Array(new B(cpus * ZONE.MAX_NR * PCP.FIELDS * 4));
    this.pcpHead = new Int32Array(new B(cpus * ZONE.MAX_NR * PCP.NR_LISTS * 4)).fill(-1);
    this.pcpTail = new Int32Array(new B(cpus * ZONE.MAX_NR * PCP.NR_LISTS * 4)).fill(-1);
    this.ev = new Float64Array(new B(EV.NR * 8));
    this.pcpAllocDiff = new Float64Array(new B(cpus * ZONE.MAX_NR * (Order.COSTLY + 1) * 8));
    this.pcpFreeBase = new Float64Array(new B(cpus * ZONE.MAX_NR * 8));
    this.hooks = hooks;
    this.pgNext = pages.next;
    this.pgPrev = pages.prev;
    this.pgIndex = pages.index;
    this.pgOrder = pages.order;
    this.pgType = pages.pageType;
    this.pgRefcount = pages.refcount;
    this.pgHead = pages.head;
    this.pgFlags = pages.flags;
    this.pgSlabCache = pages.slabCache;
    this.nrPages = pages.nr;
    this.freeHead = this.zones.freeHead;
    this.freeTail = this.zones.freeTail;
    this.freeCount = this.zones.freeCount;
    this.nrFree = this.zones.nrFree;
    this.blockZone = this.zones.pageblockZone;
    this.blockMt = this.zones.pageblockMt;
    this.zf = this.zones.f;
    this.wmarkOk0 = this.zones.wmarkOk0;
    this.zonelist = new Int8Array(ZONE.MAX_NR * ZL.STRIDE).fill(-1);
    this.fastAllocFlags = new Int32Array(ZONE.MAX_NR).fill(ALLOC.WMARK_LOW);
    this.pcpFastKeyAll = new Int32Array(PcpFastKey.NR).fill(-1);
    this.pcpFastKey = this.zones.pcpFastKey;
    this.fastSlotOpen = this.zones.fastSlotOpen;
    this.fastZoneOpen = this.zones.fastZoneOpen;
  }

  /**
   * The vm_event counters (indexes EV.*), exact: what the CPUs' fast paths
   * still hold apart is added in first, as all_vm_events() sums the per-CPU
   * counts on every read.
   */
  get events(): Float64Array {
    this.foldEvents();
    return this.ev;
  }

  /**
   * Move the pcp paths' per-CPU counts into ev: the allocations (PGALLOC by
   * pages, NUMA_HIT by allocations) and the frees (PGFREE, derived through
   * pcpFreeBase). Afterwards every diff is 0 and every base is pcp.count.
   */
  private foldEvents(): void {
    const d = this.pcpAllocDiff;
    const ev = this.ev;
    const pcp = this.pcp;
    for (let cz = 0; cz < this.cpus * ZONE.MAX_NR; cz++) {
      const zone = cz % ZONE.MAX_NR;
      let allocated = 0;
      for (let order = 0; order <= Order.COSTLY; order++) {
        const n = d[cz * (Order.COSTLY + 1) + order]!;
        if (n === 0) continue;
        allocated += n * (1 << order);
        ev[EV.NUMA_HIT + zone]! += n;
        d[cz * (Order.COSTLY + 1) + order] = 0;
      }
      ev[EV.PGALLOC + zone]! += allocated;
      const count = pcp[cz * PCP.FIELDS + PCP.COUNT]!;
      ev[EV.PGFREE]! += count + allocated - this.pcpFreeBase[cz]!;
      this.pcpFreeBase[cz] = count;
    }
  }

  /** The arrays src/page_alloc/fastpath.ts captures: its closures do what allocPagesPfn and freePagesPfn do, on the same arrays. */
  fastArrays() {
    return {
      pcpFastKey: this.pcpFastKey,
      pcp: this.pcp,
      pcpHead: this.pcpHead,
      pcpTail: this.pcpTail,
      pcpAllocDiff: this.pcpAllocDiff,
      pgNext: this.pgNext,
      pgPrev: this.pgPrev,
      pgIndex: this.pgIndex,
      pgOrder: this.pgOrder,
      pgType: this.pgType,
      pgRefcount: this.pgRefcount,
      pgHead: this.pgHead,
      pgFlags: this.pgFlags,
      pgSlabCache: this.pgSlabCache,
      blockZone: this.blockZone,
      blockMt: this.blockMt,
    };
  }

  // ───────────────────────── struct page helpers ─────────────────────────

  pageZone(pfn: number): number {
    return this.blockZone[pfn >>> Order.PAGEBLOCK]!;
  }

  getPageblockMigratetype(pfn: number): number {
    return this.blockMt[pfn >>> Order.PAGEBLOCK]!;
  }

  setPageblockMigratetype(pfn: number, mt: number): void {
    this.blockMt[pfn >>> Order.PAGEBLOCK] = mt;
  }

  // ───────────────────────── free lists ─────────────────────────

  /** __add_to_free_list(): link a block's head at the head or tail of its list. */
  private addToFreeList(pfn: number, zone: number, order: number, mt: number, tail: boolean): void {
    const next = this.pgNext;
    const prev = this.pgPrev;
    const li = (zone * Order.NR + order) * MT.TYPES + mt;
    this.pgType[pfn] = PGTY.buddy;
    this.pgOrder[pfn] = order;
    this.pgIndex[pfn] = mt;
    if (tail) {
      const t = this.freeTail[li]!;
      prev[pfn] = t;
      next[pfn] = -1;
      if (t < 0) this.freeHead[li] = pfn;
      else next[t] = pfn;
      this.freeTail[li] = pfn;
    } else {
      const h = this.freeHead[li]!;
      next[pfn] = h;
      prev[pfn] = -1;
      if (h < 0) this.freeTail[li] = pfn;
      else prev[h] = pfn;
      this.freeHead[li] = pfn;
    }
    this.freeCount[li]!++;
    this.nrFree[zone * Order.NR + order]!++;
  }

  /** del_page_from_free_list(): unlink a free block and clear its buddy marking. */
  private delFromFreeList(pfn: number, zone: number, order: number): void {
    const next = this.pgNext;
    const prev = this.pgPrev;
    const li = (zone * Order.NR + order) * MT.TYPES + this.pgIndex[pfn]!;
    const n = next[pfn]!;
    const pr = prev[pfn]!;
    if (pr < 0) this.freeHead[li] = n;
    else next[pr] = n;
    if (n < 0) this.freeTail[li] = pr;
    else prev[n] = pr;
    next[pfn] = -1;
    prev[pfn] = -1;
    this.pgType[pfn] = PGTY.NONE;
    this.pgOrder[pfn] = 0;
    this.freeCount[li]!--;
    this.nrFree[zone * Order.NR + order]!--;
  }

  /** move_to_free_list(): a free block changes migratetype list, keeping its order. */
  private moveToFreeList(pfn: number, zone: number, order: number, mt: number): void {
    this.delFromFreeList(pfn, zone, order);
    this.addToFreeList(pfn, zone, order, mt, true);
  }

  /** page_is_buddy(): pfn heads a free block of exactly `order` in `zone`. */
  private pageIsBuddy(pfn: number, order: number, zone: number): boolean {
    return pfn > 0 && pfn < this.nrPages && this.pgType[pfn] === PGTY.buddy && this.pgOrder[pfn] === order && this.blockZone[pfn >>> Order.PAGEBLOCK] === zone;
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
    const freeHead = this.freeHead;
    let li = (zone * Order.NR + order) * MT.TYPES + mt;
    for (let cur = order; cur < Order.NR; cur++, li += MT.TYPES) {
      const pfn = freeHead[li]!;
      if (pfn < 0) continue;
      this.delFromFreeList(pfn, zone, cur);
      if (cur > order) this.expand(zone, pfn, order, cur, mt);
      this.pgIndex[pfn] = mt;
      return pfn;
    }
    return -1;
  }

  /** can_steal_fallback(): may this request claim a whole pageblock of another type? */
  private canStealFallback(order: number, startMt: number): boolean {
    if (order >= Order.PAGEBLOCK) return true;
    // pageblock_order / 2 is C integer division: 4, not 4.5.
    return order >= Order.PAGEBLOCK >> 1 || startMt === MT.RECLAIMABLE || startMt === MT.UNMOVABLE;
  }

  /**
   * find_suitable_fallback(): the first fallback migratetype with a free block
   * at this order; sets this.canSteal as the kernel's out-parameter does.
   */
  private canSteal = false;
  private findSuitableFallback(zone: number, order: number, mt: number): number {
    this.canSteal = false;
    if (this.nrFree[zone * Order.NR + order] === 0) return -1;
    const fb = fallbacks[mt]!;
    for (let i = 0; i < fb.length; i++) {
      const fmt = fb[i]!;
      if (this.freeHead[(zone * Order.NR + order) * MT.TYPES + fmt]! < 0) continue;
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
    const start = pfn & ~(Order.PAGEBLOCK_NR_PAGES - 1);
    const end = Math.min(start + Order.PAGEBLOCK_NR_PAGES, this.nrPages);
    const zStart = this.zf[zone * Z.FIELDS + Z.START_PFN]!;
    const zEnd = zStart + this.zf[zone * Z.FIELDS + Z.SPANNED]!;
    if (start < zStart || end > zEnd) return 0;
    const type = this.pgType;
    let moved = 0;
    for (let i = start; i < end; ) {
      if (type[i] === PGTY.buddy) {
        const o = this.pgOrder[i]!;
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
    const curOrder = this.pgOrder[pfn]!;
    const oldType = this.getPageblockMigratetype(pfn);
    if (oldType !== MT.HIGHATOMIC) {
      if (curOrder >= Order.PAGEBLOCK) {
        for (let b = pfn; b < pfn + (1 << curOrder); b += Order.PAGEBLOCK_NR_PAGES) this.setPageblockMigratetype(b, startType);
      } else if (wholeBlock) {
        const freePages = this.moveFreepagesBlock(zone, pfn, startType);
        if (freePages > 0) {
          // kmem has no LRU pages, so nothing in a block counts as movable.
          const alike = startType === MT.MOVABLE ? 0 : oldType === MT.MOVABLE ? Order.PAGEBLOCK_NR_PAGES - freePages : 0;
          if (freePages + alike >= 1 << (Order.PAGEBLOCK - 1)) this.setPageblockMigratetype(pfn, startType);
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
    const minOrder = allocFlags & ALLOC.NOFRAGMENT ? Order.PAGEBLOCK : order;
    let cur: number = Order.MAX;
    let fmt = -1;
    for (; cur >= minOrder; cur--) {
      fmt = this.findSuitableFallback(zone, cur, startType);
      if (fmt === -1) continue;
      if (!this.canSteal && startType === MT.MOVABLE && cur > order) {
        for (cur = order; cur < Order.NR; cur++) {
          fmt = this.findSuitableFallback(zone, cur, startType);
          if (fmt !== -1) break;
        }
      }
      const pfn = this.freeHead[(zone * Order.NR + cur) * MT.TYPES + fmt]!;
      this.stealSuitableFallback(zone, pfn, startType, this.canSteal);
      this.ev[EV.EXTFRAG]!++;
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
  protected rmqueueBulk(zone: number, order: number, count: number, li: number, mt: number, allocFlags: number): number {
    let i = 0;
    while (i < count) {
      const run = this.splitRuns ? this.rmqueueSplitRun(zone, order, count - i, li, mt) : 0;
      if (run > 0) {
        i += run;
        continue;
      }
      const pfn = this.rmqueue1(zone, order, mt, allocFlags);
      if (pfn < 0) break;
      this.pcpAddTail(li, pfn);
      i++;
    }
    this.zf[zone * Z.FIELDS + Z.FREE]! -= i << order;
    if (this.fastZoneOpen[zone] !== 0) this.fastKeysClose(zone);
    return i;
  }

  /**
   * Up to `max` of rmqueue_bulk()'s __rmqueue_smallest() calls at once, when
   * they all split one larger block: if mt's lists below the smallest
   * non-empty order `cur` are empty, the next 2^(cur - order) calls hand out
   * that block's units in address order (each split leaves the rest as one
   * free block per order, found first by the next call). Done here in one
   * pass: the units go to the pcp list's tail, and what is left of the block
   * goes to the free lists as the splits would have left it, the aligned
   * blocks from the first unit not taken up to the block's end (each list
   * was empty, so each holds just that block). Returns the units taken, 0
   * when the smallest fit is a block of exactly `order` (or none).
   */
  private rmqueueSplitRun(zone: number, order: number, max: number, li: number, mt: number): number {
    const freeHead = this.freeHead;
    let fl = (zone * Order.NR + order) * MT.TYPES + mt;
    if (freeHead[fl]! >= 0) return 0;
    let cur = order + 1;
    for (fl += MT.TYPES; cur < Order.NR && freeHead[fl]! < 0; cur++) fl += MT.TYPES;
    if (cur >= Order.NR) return 0;
    const block = freeHead[fl]!;
    this.delFromFreeList(block, zone, cur);
    const units = Math.min(max, 1 << (cur - order));
    const index = this.pgIndex;
    for (let u = 0; u < units; u++) {
      const pfn = block + (u << order);
      index[pfn] = mt;
      this.pcpAddTail(li, pfn);
    }
    const end = 1 << cur;
    for (let off = units << order; off < end; ) {
      const size = off & -off;
      this.addToFreeList(block + off, zone, 31 - Math.clz32(size), mt, false);
      off += size;
    }
    return units;
  }

  // ───────────────────────── per-CPU page lists ─────────────────────────

  /** list_add_tail() of rmqueue_bulk(): pfn (fresh from the buddy lists) becomes the list's coldest page. */
  private pcpAddTail(li: number, pfn: number): void {
    this.pgNext[pfn] = -1;
    this.pgPrev[pfn] = -1;
    if (this.pcpHead[li]! < 0) this.pcpHead[li] = pfn;
    else this.pgNext[this.pcpTail[li]!] = pfn;
    this.pcpTail[li] = pfn;
  }

  /**
   * free_pcppages_bulk(): return `count` pages to the zone, taking the coldest
   * page (tail) of each list in turn, starting with the list just freed to.
   */
  protected freePcppagesBulk(cpu: number, zone: number, count: number, pindex: number): void {
    const row = (cpu * ZONE.MAX_NR + zone) * PCP.FIELDS;
    const base = (cpu * ZONE.MAX_NR + zone) * PCP.NR_LISTS;
    const pcp = this.pcp;
    count = Math.min(pcp[row + PCP.COUNT]!, count);
    pindex = pindex - 1;
    while (count > 0) {
      let li: number;
      do {
        if (++pindex > PCP.NR_LISTS - 1) pindex = 0;
        li = base + pindex;
      } while (this.pcpHead[li]! < 0);
      const order = (pindex / MT.PCPTYPES) | 0;
      const nr = 1 << order;
      // The list head to tail, then list_last_entry() + list_del() from its end.
      const next = this.pgNext;
      let walk = this.pcpWalk;
      let n = 0;
      for (let p = this.pcpHead[li]!; p >= 0; p = next[p]!) {
        if (n === walk.length) walk = this.pcpWalkGrow();
        walk[n++] = p;
      }
      do {
        const pfn = walk[--n]!;
        let mt = this.pgIndex[pfn]!;
        if (n === 0) {
          this.pcpHead[li] = -1;
          this.pcpTail[li] = -1;
        } else {
          next[walk[n - 1]!] = -1;
          this.pcpTail[li] = walk[n - 1]!;
        }
        next[pfn] = -1;
        this.pgPrev[pfn] = -1;
        count -= nr;
        pcp[row + PCP.COUNT]! -= nr;
        this.pcpFreeBase[cpu * ZONE.MAX_NR + zone]! -= nr;
        const blockMt = this.getPageblockMigratetype(pfn);
        if (blockMt === MT.ISOLATE) mt = blockMt;
        this.freeOnePage(pfn, zone, order, mt, false);
      } while (count > 0 && n > 0);
    }
  }

  /** pcpWalk, twice as long (a list longer than any walked before). */
  private pcpWalkGrow(): Int32Array {
    const w = new Int32Array(this.pcpWalk.length * 2);
    w.set(this.pcpWalk);
    this.pcpWalk = w;
    return w;
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
    batch <<= pcp[row + PCP.FREE_FACTOR]!;
    if (batch < maxNr) pcp[row + PCP.FREE_FACTOR]!++;
    return Math.min(Math.max(batch, minNr), maxNr);
  }

  /** free_unref_page_commit()'s drain: the list went over high, so nr_pcp_free() pages go back (also src/page_alloc/fastpath.ts's). */
  pcpDrainHigh(zone: number, row: number, pindex: number): void {
    const pcp = this.pcp;
    this.freePcppagesBulk(this.cpu, zone, this.nrPcpFree(row, pcp[row + PCP.HIGH]!, pcp[row + PCP.BATCH]!), pindex);
  }

  /** drain_pages_zone(): everything on one CPU's lists for a zone goes back. */
  drainPagesZone(cpu: number, zone: number): void {
    const row = (cpu * ZONE.MAX_NR + zone) * PCP.FIELDS;
    const count = this.pcp[row + PCP.COUNT]!;
    if (count > 0) this.freePcppagesBulk(cpu, zone, count, 0);
  }

  /** drain_all_pages(NULL): every CPU's pcp lists, every zone. */
  drainAllPages(): void {
    for (let cpu = 0; cpu < this.cpus; cpu++) {
      for (let z = 0; z < ZONE.MAX_NR; z++) this.drainPagesZone(cpu, z);
    }
  }

  /** Pages on pcp lists of a zone, all CPUs. */
  pcpPages(zone: number): number {
    let n = 0;
    for (let cpu = 0; cpu < this.cpus; cpu++) n += this.pcp[(cpu * ZONE.MAX_NR + zone) * PCP.FIELDS + PCP.COUNT]!;
    return n;
  }

  /** setup_pageset values (after watermarks): every CPU's high and batch. */
  setupPagesets(): void {
    for (let z = 0; z < ZONE.MAX_NR; z++) {
      for (let cpu = 0; cpu < this.cpus; cpu++) {
        const row = (cpu * ZONE.MAX_NR + z) * PCP.FIELDS;
        const populated = this.zones.populated(z);
        this.pcp[row + PCP.BATCH] = populated ? this.zones.get(z, Z.PCP_BATCH) : 1;
        this.pcp[row + PCP.HIGH_MIN] = populated ? this.zones.get(z, Z.PCP_HIGH_MIN) : 0;
        this.pcp[row + PCP.HIGH_MAX] = populated ? this.zones.get(z, Z.PCP_HIGH_MAX) : 0;
        this.pcp[row + PCP.HIGH] = this.pcp[row + PCP.HIGH_MIN]!;
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
    while (order < Order.MAX) {
      buddyPfn = pfn ^ (1 << order);
      if (!this.pageIsBuddy(buddyPfn, order, zone)) break;
      if (order >= Order.PAGEBLOCK) {
        const buddyMt = this.getPageblockMigratetype(buddyPfn);
        if (mt !== buddyMt && (mt >= MT.PCPTYPES || buddyMt >= MT.PCPTYPES)) break;
      }
      this.delFromFreeList(buddyPfn, zone, order);
      pfn &= buddyPfn;
      order++;
    }
    if (!toTail && order < Order.MAX - 1) {
      // buddy_merge_likely(): is the next-order buddy of the merged block free?
      const higher = pfn & buddyPfn;
      toTail = this.pageIsBuddy(higher ^ (1 << (order + 1)), order + 1, zone);
    }
    this.addToFreeList(pfn, zone, order, mt, toTail);
    this.zf[zone * Z.FIELDS + Z.FREE]! += 1 << start;
    if (this.fastZoneOpen[zone] !== 0) this.fastKeysClose(zone);
  }

  // ───────────────────────── watermarks ─────────────────────────

  /**
   * __zone_watermark_ok(): free pages above mark + lowmem_reserve, with the
   * reserves an atomic or __GFP_HIGH request may dip into; for order > 0 a
   * block of at least that order must also be free.
   */
  zoneWatermarkOk(zone: number, order: number, mark: number, highestZone: number, allocFlags: number): boolean {
    return this.zoneWatermarkOkFree(zone, order, mark, highestZone, allocFlags, this.zf[zone * Z.FIELDS + Z.FREE]!);
  }

  /** __zone_watermark_ok() with the free pages given (should_reclaim_retry and pgdat_balanced pass their own). */
  zoneWatermarkOkFree(zone: number, order: number, mark: number, highestZone: number, allocFlags: number, freePages: number): boolean {
    const zf = this.zf;
    const r = zone * Z.FIELDS;
    let free = freePages;
    let min = mark;
    free -= (1 << order) - 1;
    if (allocFlags & ALLOC.RESERVES) {
      if (allocFlags & ALLOC.MIN_RESERVE) {
        min -= Math.floor(min / 2);
        if (allocFlags & ALLOC.NON_BLOCK) min -= Math.floor(min / 4);
      }
      if (allocFlags & ALLOC.OOM) min -= Math.floor(min / 2);
    } else {
      free -= zf[r + Z.RESERVED_HIGHATOMIC]!;
    }
    if (free <= min + zf[r + Z.LOWMEM_RESERVE + highestZone]!) return false;
    if (order === 0) return true;
    const freeHead = this.freeHead;
    for (let o = order; o < Order.NR; o++) {
      if (this.nrFree[zone * Order.NR + o] === 0) continue;
      const li = (zone * Order.NR + o) * MT.TYPES;
      for (let mt = 0; mt < MT.PCPTYPES; mt++) {
        if (freeHead[li + mt]! >= 0) return true;
      }
      if (allocFlags & (ALLOC.HIGHATOMIC | ALLOC.OOM) && freeHead[li + MT.HIGHATOMIC]! >= 0) return true;
    }
    return false;
  }

  // ───────────────────────── the allocation paths ─────────────────────────

  /**
   * The rest of rmqueue() and rmqueue_pcplist(): an empty pcp list (free_factor
   * halved, as for every pcp allocation) takes a batch from the zone
   * (rmqueue_bulk) and gives its new head; a refill that found nothing, and
   * orders past the pcp lists, come from the zone's lists (rmqueue_buddy).
   */
  private rmqueueSlow(zone: number, order: number, mt: number, allocFlags: number): number {
    if (order <= Order.COSTLY) {
      const cz = this.cpu * ZONE.MAX_NR + zone;
      const row = cz * PCP.FIELDS;
      const li = cz * PCP.NR_LISTS + order * MT.PCPTYPES + mt;
      const pcp = this.pcp;
      pcp[row + PCP.FREE_FACTOR]! >>= 1;
      let batch = pcp[row + PCP.BATCH]!;
      if (batch > 1) batch = Math.max(batch >> order, 2);
      const got = this.rmqueueBulk(zone, order, batch, li, mt, allocFlags);
      pcp[row + PCP.COUNT]! += got << order;
      this.pcpFreeBase[cz]! += got << order;
      const pfn = this.pcpHead[li]!;
      if (pfn >= 0) {
        this.pcpPop(li, pfn, row, cz, order);
        return pfn;
      }
    }
    return this.rmqueueBuddy(zone, order, mt, allocFlags);
  }

  /** rmqueue()'s pop for rmqueueSlow(): `pfn`, the head of pcp list `li`, leaves it and is counted. */
  private pcpPop(li: number, pfn: number, row: number, cz: number, order: number): void {
    this.pcpHead[li] = this.pgNext[pfn]!;
    this.pgNext[pfn] = -1;
    this.pcp[row + PCP.COUNT]! -= 1 << order;
    this.pcpAllocDiff[cz * (Order.COSTLY + 1) + order]!++;
  }

  /** rmqueue_buddy(): straight from the zone's free lists (orders past the pcp lists, or an empty refill). */
  protected rmqueueBuddy(zone: number, order: number, mt: number, allocFlags: number): number {
    let pfn = -1;
    if (allocFlags & ALLOC.HIGHATOMIC) pfn = this.rmqueueSmallest(zone, order, MT.HIGHATOMIC);
    if (pfn < 0) {
      pfn = this.rmqueue1(zone, order, mt, allocFlags);
      if (pfn < 0 && allocFlags & ALLOC.OOM) pfn = this.rmqueueSmallest(zone, order, MT.HIGHATOMIC);
      if (pfn < 0) return -1;
    }
    this.zf[zone * Z.FIELDS + Z.FREE]! -= 1 << order;
    if (this.fastZoneOpen[zone] !== 0) this.fastKeysClose(zone);
    const ev = this.ev;
    ev[EV.PGALLOC + zone]! += 1 << order;
    ev[EV.NUMA_HIT + zone]!++;
    return pfn;
  }

  /**
   * reserve_highatomic_pageblock(): a high-order atomic allocation that
   * succeeded reserves its pageblock for later ones, up to 1% of the zone.
   */
  private reserveHighatomicPageblock(pfn: number, zone: number): void {
    const maxManaged = Math.floor(this.zones.get(zone, Z.MANAGED) / 100) + Order.PAGEBLOCK_NR_PAGES;
    if (this.zones.get(zone, Z.RESERVED_HIGHATOMIC) >= maxManaged) return;
    const mt = this.getPageblockMigratetype(pfn);
    if (mt === MT.HIGHATOMIC || mt === MT.ISOLATE) return;
    // move_freepages_block() refuses a pageblock that straddles the zone's edge
    // (DMA's first block holds pfn 0): then nothing is reserved.
    const start = pfn & ~(Order.PAGEBLOCK_NR_PAGES - 1);
    const zStart = this.zf[zone * Z.FIELDS + Z.START_PFN]!;
    if (start < zStart || start + Order.PAGEBLOCK_NR_PAGES > zStart + this.zf[zone * Z.FIELDS + Z.SPANNED]!) return;
    this.zones.add(zone, Z.RESERVED_HIGHATOMIC, Order.PAGEBLOCK_NR_PAGES);
    this.setPageblockMigratetype(pfn, MT.HIGHATOMIC);
    this.moveFreepagesBlock(zone, pfn, MT.HIGHATOMIC);
  }

  /**
   * unreserve_highatomic_pageblock(): under pressure, give reserved pageblocks
   * back to the requesting type before the allocation is failed.
   */
  private unreserveHighatomicPageblock(mt: number): boolean {
    for (let z = 0; z < ZONE.MAX_NR; z++) {
      if (this.zones.get(z, Z.RESERVED_HIGHATOMIC) <= 0) continue;
      for (let o = 0; o < Order.NR; o++) {
        const pfn = this.freeHead[(z * Order.NR + o) * MT.TYPES + MT.HIGHATOMIC]!;
        if (pfn < 0) continue;
        if (this.getPageblockMigratetype(pfn) === MT.HIGHATOMIC) {
          this.zones.add(z, Z.RESERVED_HIGHATOMIC, -Math.min(Order.PAGEBLOCK_NR_PAGES, this.zones.get(z, Z.RESERVED_HIGHATOMIC)));
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
   * allocPagesPfn() has the common case written out before it comes here.
   */
  private getPageFromFreelist(gfp: number, order: number, allocFlags: number, highest: number, mt: number): number {
    const zl = this.zonelist;
    for (;;) {
      for (let i = highest * ZL.STRIDE; ; i++) {
        const z = zl[i]!;
        if (z < 0) break;
        if ((allocFlags & ALLOC.NO_WATERMARKS) === 0 && !this.zoneWatermarkFast(z, order, highest, allocFlags)) continue;
        const pfn = this.rmqueue(z, order, mt, allocFlags);
        if (pfn >= 0) {
          this.prepNewPage(pfn, order, gfp);
          if ((allocFlags & ALLOC.HIGHATOMIC) !== 0) this.reserveHighatomicPageblock(pfn, z);
          return pfn;
        }
      }
      if ((allocFlags & ALLOC.NOFRAGMENT) === 0) return -1;
      allocFlags &= ~ALLOC.NOFRAGMENT;
    }
  }

  /**
   * zone_watermark_fast(): the mark alloc_flags selects, plus any boost; order
   * 0 is checked here, everything else by __zone_watermark_ok(). No side effects.
   */
  private zoneWatermarkFast(zone: number, order: number, highestZone: number, allocFlags: number): boolean {
    // An order-0 request without reserves that passed at this very free count passes again (Zones.wmarkOk0).
    if (order === 0 && (allocFlags & ALLOC.RESERVES) === 0) {
      const ci = (zone * ZONE.MAX_NR + highestZone) * WMARK.NR + (allocFlags & ALLOC.WMARK_MASK);
      if (this.zf[zone * Z.FIELDS + Z.FREE] === this.wmarkOk0[ci]) {
        if (this.fastSlotOpen[ci] === 0) this.fastKeysOpen(zone, ci);
        return true;
      }
      return this.zoneWatermarkFill0(zone, highestZone, allocFlags, ci);
    }
    return this.zoneWatermarkCheck(zone, order, highestZone, allocFlags);
  }

  /** zone_watermark_fast() for an order-0 request the cache could not answer; a pass is remembered at this free count. */
  private zoneWatermarkFill0(zone: number, highestZone: number, allocFlags: number, ci: number): boolean {
    const ok = this.zoneWatermarkCheck(zone, 0, highestZone, allocFlags);
    this.wmarkOk0[ci] = ok ? this.zf[zone * Z.FIELDS + Z.FREE]! : -1;
    if (ok) this.fastKeysOpen(zone, ci);
    return ok;
  }

  /**
   * The order-0 check of wmarkOk0 slot ci passed at zone's current free
   * count: the fast path may take the requests whose check that is
   * (pcpFastKeyAll entries of slot ci) until the free count changes.
   */
  private fastKeysOpen(zone: number, ci: number): void {
    this.fastSlotOpen[ci] = 1;
    this.fastZoneOpen[zone] = 1;
    const all = this.pcpFastKeyAll;
    for (let key = 0; key < PcpFastKey.NR; key++) {
      const e = all[key]!;
      if (e >= 0 && (e & PcpFastKey.CI_MASK) === ci) this.pcpFastKey[key] = e;
    }
  }

  /** zone's NR_FREE_PAGES changed: its keys close until a watermark check passes again. */
  private fastKeysClose(zone: number): void {
    this.fastZoneOpen[zone] = 0;
    const slots = ZONE.MAX_NR * WMARK.NR;
    this.fastSlotOpen.fill(0, zone * slots, zone * slots + slots);
    const live = this.pcpFastKey;
    for (let key = 0; key < PcpFastKey.NR; key++) {
      const e = live[key]!;
      if (e >= 0 && ((e >> PcpFastKey.Z_SHIFT) & PcpFastKey.Z_MASK) === zone) live[key] = -1;
    }
  }

  /** zone_watermark_fast() itself, uncached. */
  private zoneWatermarkCheck(zone: number, order: number, highestZone: number, allocFlags: number): boolean {
    const zf = this.zf;
    const r = zone * Z.FIELDS;
    const mark = zf[r + Z.WMARK + (allocFlags & ALLOC.WMARK_MASK)]! + zf[r + Z.BOOST]!;
    if (order === 0) {
      let usable = zf[r + Z.FREE]!;
      if ((allocFlags & ALLOC.RESERVES) === 0) usable -= Math.min(usable, zf[r + Z.RESERVED_HIGHATOMIC]!);
      if (usable > mark + zf[r + Z.LOWMEM_RESERVE + highestZone]!) return true;
    }
    return this.zoneWatermarkOk(zone, order, mark, highestZone, allocFlags);
  }

  /** rmqueue(): the pcp lists for orders up to PAGE_ALLOC_COSTLY_ORDER, else the zone. */
  private rmqueue(zone: number, order: number, mt: number, allocFlags: number): number {
    if (order <= Order.COSTLY) {
      const pfn = this.rmqueuePcpHead(zone, order, mt);
      if (pfn >= 0) return pfn;
    }
    return this.rmqueueSlow(zone, order, mt, allocFlags);
  }

  /**
   * rmqueue_pcplist()'s common case: pop the hottest page (the head) of this
   * CPU's list (list_del(): its prev is already -1), halve free_factor and
   * count the allocation. An empty list returns -1 having changed nothing;
   * rmqueueSlow() then does the halving and the refill.
   */
  private rmqueuePcpHead(zone: number, order: number, mt: number): number {
    const cz = this.cpu * ZONE.MAX_NR + zone;
    const li = cz * PCP.NR_LISTS + order * MT.PCPTYPES + mt;
    const head = this.pcpHead;
    const pfn = head[li]!;
    if (pfn < 0) return -1;
    const pcp = this.pcp;
    const row = cz * PCP.FIELDS;
    const ff = pcp[row + PCP.FREE_FACTOR]!;
    if (ff !== 0) pcp[row + PCP.FREE_FACTOR] = ff >> 1;
    const next = this.pgNext;
    head[li] = next[pfn]!;
    next[pfn] = -1;
    pcp[row + PCP.COUNT]! -= 1 << order;
    // PGALLOC and NUMA_HIT, summed into ev on read (foldEvents).
    this.pcpAllocDiff[cz * (Order.COSTLY + 1) + order]!++;
    return pfn;
  }

  /**
   * prep_new_page(): refcount 1 on the first page; __GFP_ZERO, __GFP_COMP and
   * the post-alloc hook are prepNewPageRest()'s.
   */
  private prepNewPage(pfn: number, order: number, gfp: number): void {
    this.pgRefcount[pfn] = 1;
    this.pgIndex[pfn] = 0;
    this.pgOrder[pfn] = order;
    if ((gfp & (Gfp.ZERO | Gfp.COMP)) !== 0 || this.hooks.postAlloc !== null) this.prepNewPageRest(pfn, order, gfp);
  }

  /** gfp_to_alloc_flags(): the slow path's rights for this request. */
  private gfpToAllocFlags(gfp: number, order: number): number {
    let f = ALLOC.WMARK_MIN | ALLOC.CPUSET;
    if (gfp & Gfp.HIGH) f |= ALLOC.MIN_RESERVE;
    if (gfp & Gfp.KSWAPD_RECLAIM) f |= ALLOC.KSWAPD;
    if (!(gfp & Gfp.DIRECT_RECLAIM)) {
      if (!(gfp & Gfp.NOMEMALLOC)) {
        f |= ALLOC.NON_BLOCK;
        // Only __GFP_HIGH requests (GFP_ATOMIC) take and build the highatomic reserve.
        if (order > 0 && f & ALLOC.MIN_RESERVE) f |= ALLOC.HIGHATOMIC;
      }
      if (f & ALLOC.MIN_RESERVE) f &= ~ALLOC.CPUSET;
    }
    return f;
  }

  /**
   * __alloc_pages_slowpath(): wake kswapd (ALLOC_KSWAPD), the min watermark
   * with the request's reserves, then __GFP_MEMALLOC's no-watermark access;
   * a request that may reclaim then reclaims directly
   * (__alloc_pages_direct_reclaim: try_to_free_pages, the freelists again,
   * then once more after unreserving highatomic blocks and draining the pcp
   * lists) and loops while should_reclaim_retry() sees a chance. Without the
   * VM half (no reclaim hooks) the highatomic reserves and the pcp lists are
   * all it can give back. Direct compaction (the directCompact hook) comes
   * first for costly orders and unmovable high orders, then after each
   * reclaim attempt, with should_compact_retry()'s priority escalation.
   */
  private allocPagesSlowpath(gfp: number, order: number, highest: number, mt: number): number {
    const allocFlags = this.gfpToAllocFlags(gfp, order);
    const hooks = this.hooks;
    const wake = (allocFlags & ALLOC.KSWAPD) !== 0 ? (hooks.wakeKswapd ?? null) : null;
    if (wake !== null) wake(order, gfp, highest);
    let pfn = this.getPageFromFreelist(gfp, order, allocFlags, highest, mt);
    if (pfn >= 0) return pfn;
    const reclaim = hooks.directReclaim ?? null;
    // gfp_compaction_allowed(): __GFP_IO; a costly order, or any high order of an unmovable type, compacts before reclaiming.
    const compact = order > 0 && gfp & Gfp.DIRECT_RECLAIM && gfp & Gfp.IO ? (hooks.directCompact ?? null) : null;
    const retry = () => this.getPageFromFreelist(gfp, order, allocFlags, highest, mt);
    let compactResult = CompactResult.SKIPPED;
    if (compact !== null && (order > Order.COSTLY || mt !== MT.MOVABLE)) {
      pfn = compact(order, gfp, allocFlags, highest, CompactPrio.INIT, retry);
      if (pfn >= 0) return pfn;
      compactResult = -1 - pfn;
      if (order > Order.COSTLY && gfp & Gfp.NORETRY && (compactResult === CompactResult.SKIPPED || compactResult === CompactResult.DEFERRED)) {
        return this.allocFailed(gfp, order);
      }
    }
    if (reclaim !== null && gfp & Gfp.DIRECT_RECLAIM) {
      let noProgressLoops = 0;
      let compactPriority: number = CompactPrio.DEF;
      let compactionRetries = 0;
      for (;;) {
        // retry: keep kswapd awake while looping.
        if (wake !== null) wake(order, gfp, highest);
        if (gfp & Gfp.MEMALLOC && !(gfp & Gfp.NOMEMALLOC)) {
          pfn = this.getPageFromFreelist(gfp, order, allocFlags | ALLOC.NO_WATERMARKS, highest, mt);
          if (pfn >= 0) return pfn;
        }
        pfn = this.getPageFromFreelist(gfp, order, allocFlags, highest, mt);
        if (pfn >= 0) return pfn;
        const progress = reclaim(order, gfp);
        if (progress > 0) {
          pfn = this.getPageFromFreelist(gfp, order, allocFlags, highest, mt);
          if (pfn >= 0) return pfn;
          this.unreserveHighatomicPageblock(mt);
          this.drainAllPages();
          pfn = this.getPageFromFreelist(gfp, order, allocFlags, highest, mt);
          if (pfn >= 0) return pfn;
        }
        // Try direct compaction and then allocating.
        if (compact !== null) {
          pfn = compact(order, gfp, allocFlags, highest, compactPriority, retry);
          if (pfn >= 0) return pfn;
          compactResult = -1 - pfn;
        }
        // PF_MEMALLOC, or a kernel allocation kmem does not reclaim for (see src/vm/vmscan.ts): no retry.
        if (progress < 0) break;
        if (gfp & Gfp.NORETRY) break;
        if (order > Order.COSTLY && (compact === null || !(gfp & Gfp.RETRY_MAYFAIL))) break;
        // should_reclaim_retry()
        if (progress > 0 && order <= Order.COSTLY) noProgressLoops = 0;
        else noProgressLoops++;
        if (noProgressLoops <= MAX_RECLAIM_RETRIES && this.reclaimCouldSucceed(order, highest, allocFlags)) continue;
        // should_compact_retry(), only after reclaim made progress (compaction needs free order-0 pages).
        if (progress <= 0 || compact === null) break;
        if (compactResult === CompactResult.SUCCESS && ++compactionRetries <= (order > Order.COSTLY ? MAX_COMPACT_RETRIES / 4 : MAX_COMPACT_RETRIES)) continue;
        if (compactResult === CompactResult.SKIPPED) break;
        if (compactPriority > (order > Order.COSTLY ? CompactPrio.SYNC_LIGHT : CompactPrio.SYNC_FULL)) {
          compactPriority--;
          compactionRetries = 0;
          continue;
        }
        break;
      }
    } else if (gfp & Gfp.MEMALLOC && !(gfp & Gfp.NOMEMALLOC)) {
      pfn = this.getPageFromFreelist(gfp, order, allocFlags | ALLOC.NO_WATERMARKS, highest, mt);
      if (pfn >= 0) return pfn;
    }
    if (reclaim === null && gfp & Gfp.DIRECT_RECLAIM) {
      this.ev[EV.ALLOCSTALL]!++;
      this.drainAllPages();
      while (this.unreserveHighatomicPageblock(mt)) {
        pfn = this.getPageFromFreelist(gfp, order, allocFlags, highest, mt);
        if (pfn >= 0) return pfn;
      }
      pfn = this.getPageFromFreelist(gfp, order, allocFlags, highest, mt);
      if (pfn >= 0) return pfn;
    }
    // Reclaim has failed us, start killing things: __alloc_pages_may_oom()
    // (only a request that could reclaim gets here in the kernel).
    if (gfp & Gfp.DIRECT_RECLAIM) {
      pfn = this.allocPagesMayOom(gfp, order, allocFlags, highest, mt);
      if (pfn >= 0) return pfn;
    }
    return this.allocFailed(gfp, order);
  }

  /** nopage: count the failure and warn (warn_alloc) unless __GFP_NOWARN. */
  private allocFailed(gfp: number, order: number): number {
    this.ev[EV.PGALLOC_FAIL]!++;
    if (!(gfp & Gfp.NOWARN)) this.hooks.warnAlloc(order, gfp);
    return -1;
  }

  /**
   * __alloc_pages_may_oom() and the slow path's "retry as long as the OOM
   * killer is making progress": not for __GFP_NORETRY, costly orders,
   * __GFP_RETRY_MAYFAIL or __GFP_THISNODE requests, nor below ZONE_NORMAL.
   * Each round first tries the high watermark (a parallel kill may have
   * freed enough), then out_of_memory(); a kill means a retry at the
   * request's own watermark, or, when the allocating task is itself the
   * victim, one last try with ALLOC_OOM's reserves (__gfp_pfmemalloc_flags)
   * before giving up. Every kill removes a task, so the loop ends.
   */
  private allocPagesMayOom(gfp: number, order: number, allocFlags: number, highest: number, mt: number): number {
    const oom = this.hooks.outOfMemory;
    if (oom == null || gfp & Gfp.NORETRY || order > Order.COSTLY) return -1;
    if (gfp & (Gfp.RETRY_MAYFAIL | Gfp.THISNODE) || highest < ZONE.NORMAL) return -1;
    for (;;) {
      let pfn = this.getPageFromFreelist((gfp | Gfp.HARDWALL) & ~Gfp.DIRECT_RECLAIM, order, ALLOC.WMARK_HIGH | ALLOC.CPUSET, highest, mt);
      if (pfn >= 0) return pfn;
      if (!oom(order, gfp)) return -1;
      if (this.hooks.oomVictim?.() && !(gfp & Gfp.NOMEMALLOC)) {
        return this.getPageFromFreelist(gfp, order, ALLOC.OOM | (allocFlags & ALLOC.KSWAPD), highest, mt);
      }
      pfn = this.getPageFromFreelist(gfp, order, allocFlags, highest, mt);
      if (pfn >= 0) return pfn;
    }
  }

  /**
   * should_reclaim_retry()'s test: would some zone of the zonelist pass its
   * min watermark if every reclaimable page in it were free?
   */
  private reclaimCouldSucceed(order: number, highest: number, allocFlags: number): boolean {
    const reclaimable = this.hooks.zoneReclaimablePages ?? null;
    const zf = this.zf;
    for (let i = highest * ZL.STRIDE; ; i++) {
      const z = this.zonelist[i]!;
      if (z < 0) return false;
      const r = z * Z.FIELDS;
      const available = zf[r + Z.FREE]! + (reclaimable === null ? 0 : reclaimable(z));
      // min_wmark_pages() includes the boost.
      if (this.zoneWatermarkOkFree(z, order, zf[r + Z.WMARK]! + zf[r + Z.BOOST]!, highest, allocFlags, available)) return true;
    }
  }

  /**
   * __alloc_pages(): the fast path at the low watermark, then the slow path.
   * Returns the first pfn of a 2^order block, or -1.
   *
   * The common case of get_page_from_freelist() is written out here: the
   * zonelist's first zone is above its watermark and this CPU's pcp list has
   * a page. It calls the same helpers in the same order, and it changes
   * nothing until it knows it will succeed, so anything else simply starts
   * get_page_from_freelist() from the top. Small enough for V8 to inline into
   * callers, where a constant order and gfp fold most of it away.
   */
  allocPagesPfn(order: number, gfp: number): number {
    // gfp_zone(): the packed GFP_ZONE_TABLE lookup; a forbidden mix throws out of line.
    const zbits = gfp & GfpMask.ZONEMASK;
    if (((GfpMask.ZONE_BAD >> zbits) & 1) !== 0) gfpZone(gfp);
    const highest = (GfpMask.ZONE_TABLE >> (zbits * GfpMask.ZONES_SHIFT)) & ((1 << GfpMask.ZONES_SHIFT) - 1);
    // gfp_migratetype()
    const mt = (gfp & GfpMask.MOVABLE_MASK) >> GfpMask.MOVABLE_SHIFT;
    // ALLOC_WMARK_LOW, ALLOC_NOFRAGMENT from alloc_flags_nofragment(), and
    // ALLOC_KSWAPD straight from __GFP_KSWAPD_RECLAIM: the same bit, as in the kernel.
    const allocFlags = this.fastAllocFlags[highest]! | (gfp & Gfp.KSWAPD_RECLAIM);
    const z = this.zonelist[highest * ZL.STRIDE]!;
    if (order <= Order.COSTLY && z >= 0 && this.zoneWatermarkFast(z, order, highest, allocFlags)) {
      const pfn = this.rmqueuePcpHead(z, order, mt);
      if (pfn >= 0) {
        this.prepNewPage(pfn, order, gfp);
        return pfn;
      }
    }
    return this.allocPagesMiss(order, gfp);
  }

  /**
   * The rest of __alloc_pages() when its common case does not apply:
   * get_page_from_freelist() from the top, then the slow path.
   */
  private allocPagesMiss(order: number, gfp: number): number {
    const highest = gfpZone(gfp);
    const mt = gfpMigratetype(gfp);
    const allocFlags = this.fastAllocFlags[highest]! | (gfp & Gfp.KSWAPD_RECLAIM);
    const pfn = this.getPageFromFreelist(gfp, order, allocFlags, highest, mt);
    if (pfn >= 0) return pfn;
    return this.allocPagesSlowpath(gfp, order, highest, mt);
  }

  /**
   * The rest of prep_new_page(), out of the order-0 path: zeroed if asked, and
   * for __GFP_COMP a compound page (PG_head and the order on the head, every
   * tail pointing back at it); then the post-alloc hook (KASAN's unpoisoning).
   */
  private prepNewPageRest(pfn: number, order: number, gfp: number): void {
    if (gfp & Gfp.ZERO) {
      const a = pfn * Page.SIZE;
      this.mem.u8.fill(0, a, a + Page.SIZE * (1 << order));
    }
    if (order > 0 && gfp & Gfp.COMP) {
      this.pgFlags[pfn]! |= 1 << PG.head;
      const head = this.pgHead;
      for (let i = 1, n = 1 << order; i < n; i++) head[pfn + i] = pfn;
    }
    const hook = this.hooks.postAlloc;
    if (hook !== null) hook(pfn * Page.SIZE, order);
  }

  // ───────────────────────── the free path ─────────────────────────

  /** free_tail_page_prepare() for every tail: they stop pointing at the head. */
  private clearCompoundTails(pfn: number, order: number): void {
    const head = this.pgHead;
    for (let i = 1, n = 1 << order; i < n; i++) head[pfn + i] = -1;
  }

  /** bad_page() for free_pages_prepare(): the first check that failed, reported. */
  private freePagesBad(pfn: number, order: number): void {
    const p = this.pages;
    if (p.head[pfn]! >= 0) {
      this.hooks.badPage({ pfn, reason: 'freeing a tail page of a compound page' });
      return;
    }
    if (p.refcount[pfn]! <= 0 || p.pageType[pfn] !== PGTY.NONE) {
      p.refcount[pfn] = p.refcount[pfn]! - 1;
      try {
        this.hooks.badPage({ pfn, reason: 'nonzero _refcount' });
      } finally {
        // Also when onBug: 'throw' makes the report throw.
        p.refcount[pfn] = 0;
      }
      return;
    }
    if (p.order[pfn] !== order) {
      this.hooks.badPage({ pfn, reason: `freeing order ${order}, allocated as order ${p.order[pfn]}` });
      return;
    }
    // The only check left: slabCache >= 0.
    this.hooks.badPage({ pfn, reason: 'PAGE_FLAGS_CHECK_AT_FREE flag(s) set' });
  }

  /**
   * __free_pages(): pcp lists for small orders (free_unref_page()), the zone
   * for the rest (__free_pages_ok()). free_pages_prepare(), which the kernel
   * marks __always_inline, is written into it.
   */
  freePagesPfn(pfn: number, order: number): void {
    // free_pages_prepare() and its bad-page checks: a block can only be freed
    // by its first page, once, with the order it was allocated with. The checks
    // are one test here; which one failed, and the report, are freePagesBad()'s.
    if (this.pgHead[pfn]! >= 0 || this.pgRefcount[pfn]! <= 0 || this.pgType[pfn] !== PGTY.NONE || this.pgOrder[pfn] !== order || this.pgSlabCache[pfn]! >= 0) {
      this.freePagesBad(pfn, order);
      return;
    }
    const hook = this.hooks.freePrepare;
    if (hook !== null) hook(pfn * Page.SIZE, order);
    this.pgRefcount[pfn] = 0;
    this.pgOrder[pfn] = 0;
    const flags = this.pgFlags;
    if ((flags[pfn]! & (1 << PG.head)) !== 0) this.clearCompoundTails(pfn, order);
    flags[pfn] = 0;
    // free_unref_page() for pcp orders unless the pageblock is isolated.
    const block = pfn >>> Order.PAGEBLOCK;
    const mt = this.blockMt[block]!;
    if (order <= Order.COSTLY && mt !== MT.ISOLATE) this.freeUnrefPageCommit(pfn, this.blockZone[block]!, order, mt);
    else this.freePagesZone(pfn, this.blockZone[block]!, order, mt);
  }

  /**
   * free_unref_page_commit(): onto the head of this CPU's list; drain if over
   * high. A highatomic block rides on the movable list but remembers its own type.
   */
  private freeUnrefPageCommit(pfn: number, zone: number, order: number, mt: number): void {
    const cz = this.cpu * ZONE.MAX_NR + zone;
    const row = cz * PCP.FIELDS;
    const pcp = this.pcp;
    // PGFREE: the count's rise, folded on read (pcpFreeBase).
    const pindex = order * MT.PCPTYPES + (mt < MT.PCPTYPES ? mt : MT.MOVABLE);
    this.pgIndex[pfn] = mt;
    // list_add()
    const li = cz * PCP.NR_LISTS + pindex;
    const head = this.pcpHead;
    const h = head[li]!;
    this.pgNext[pfn] = h;
    this.pgPrev[pfn] = -1;
    if (h < 0) this.pcpTail[li] = pfn;
    head[li] = pfn;
    const count = pcp[row + PCP.COUNT]! + (1 << order);
    pcp[row + PCP.COUNT] = count;
    if (count >= pcp[row + PCP.HIGH]!) this.pcpDrainHigh(zone, row, pindex);
  }

  /** __free_pages_ok(): straight to the zone's free lists. */
  protected freePagesZone(pfn: number, zone: number, order: number, mt: number): void {
    this.ev[EV.PGFREE]! += 1 << order;
    this.freeOnePage(pfn, zone, order, mt, false);
  }

  // ───────────────────────── compaction's free pages ─────────────────────────

  /**
   * __isolate_free_page(): the free block headed by pfn leaves the buddy
   * lists (NR_FREE_PAGES drops) for compaction's free scanner, provided the
   * zone stays above its min watermark plus the block; a block of nearly a
   * pageblock or more turns its mergeable pageblocks movable. Returns the
   * block's order, or -1 (not a free block head, or the watermark).
   */
  isolateFreePage(pfn: number): number {
    if (pfn <= 0 || pfn >= this.nrPages || this.pgType[pfn] !== PGTY.buddy) return -1;
    const zone = this.blockZone[pfn >>> Order.PAGEBLOCK]!;
    const order = this.pgOrder[pfn]!;
    if (this.getPageblockMigratetype(pfn) !== MT.ISOLATE) {
      const mark = this.zf[zone * Z.FIELDS + Z.WMARK]! + (1 << order);
      if (!this.zoneWatermarkOk(zone, 0, mark, 0, ALLOC.CMA)) return -1;
    }
    this.delFromFreeList(pfn, zone, order);
    this.zf[zone * Z.FIELDS + Z.FREE]! -= 1 << order;
    if (this.fastZoneOpen[zone] !== 0) this.fastKeysClose(zone);
    if (order >= Order.PAGEBLOCK - 1) {
      for (let b = pfn; b < pfn + (1 << order) - 1; b += Order.PAGEBLOCK_NR_PAGES) {
        const mt = this.getPageblockMigratetype(b);
        if (mt < MT.PCPTYPES && mt !== MT.MOVABLE) {
          this.moveFreepagesBlock(zone, b, MT.MOVABLE);
          this.setPageblockMigratetype(b, MT.MOVABLE);
        }
      }
    }
    return order;
  }

  /**
   * post_alloc_hook() + set_page_refcounted() for a block compaction
   * isolated: refcount 1 on its head, the order recorded, the post-alloc
   * hook run; it can then be freed with freePagesPfn or used as a page.
   */
  prepIsolatedBlock(pfn: number, order: number): void {
    this.pgRefcount[pfn] = 1;
    this.pgIndex[pfn] = 0;
    this.pgOrder[pfn] = order;
    const hook = this.hooks.postAlloc;
    if (hook !== null) hook(pfn * Page.SIZE, order);
  }

  /** Is pfn the head of a free buddy block (PageBuddy), and of what order (-1: not)? */
  buddyOrder(pfn: number): number {
    return this.pgType[pfn] === PGTY.buddy ? this.pgOrder[pfn]! : -1;
  }

  // ───────────────────────── boot ─────────────────────────

  /**
   * memmap_init() + memblock_free_all(): every pageblock starts Movable, and
   * each zone's pages are freed in the largest aligned blocks that fit, to the
   * tail of the lists (FPI_TO_TAIL) as the kernel's boot frees are. The
   * zone's top `reserved` pages are memblock's (present, not managed).
   */
  initZone(zone: number, startPfn: number, endPfn: number, reserved = 0): void {
    const zs = this.zones;
    zs.set(zone, Z.START_PFN, startPfn);
    zs.set(zone, Z.SPANNED, endPfn - startPfn);
    zs.set(zone, Z.PRESENT, endPfn - startPfn);
    zs.set(zone, Z.MANAGED, endPfn - startPfn - reserved);
    for (let b = startPfn >>> Order.PAGEBLOCK; b << Order.PAGEBLOCK < endPfn; b++) {
      zs.pageblockZone[b] = zone;
      zs.pageblockMt[b] = MT.MOVABLE;
    }
    this.buildZonelists();
    // memblock's reservations at the zone's top: PageReserved, never given to the buddy lists
    for (let p = endPfn - reserved; p < endPfn; p++) this.pgFlags[p] = (this.pgFlags[p] as number) | (1 << PG.reserved);
    endPfn -= reserved;
    let pfn = startPfn;
    while (pfn < endPfn) {
      let order = Math.min(Order.MAX, ctz(pfn));
      while (pfn + (1 << order) > endPfn) order--;
      this.freeOnePage(pfn, zone, order, MT.MOVABLE, true);
      // __free_pages_core() -> __free_pages_ok() counts PGFREE for boot frees too.
      this.bootFreePages += 1 << order;
      pfn += 1 << order;
    }
  }

  /**
   * build_zonelists(): for each highest allowed zone, the populated zones from
   * it down to ZONE_DMA, and the fast path's alloc_flags for that zone.
   */
  private buildZonelists(): void {
    const zl = this.zonelist;
    zl.fill(-1);
    for (let highest = 0; highest < ZONE.MAX_NR; highest++) {
      let n = highest * ZL.STRIDE;
      for (let z = highest; z >= 0; z--) {
        if (this.zf[z * Z.FIELDS + Z.PRESENT] !== 0) zl[n++] = z;
      }
      // alloc_flags_nofragment(): only when the preferred zone (the first
      // populated zone at or below the highest allowed one) is ZONE_NORMAL.
      let preferred = highest;
      while (preferred > 0 && this.zf[preferred * Z.FIELDS + Z.PRESENT] === 0) preferred--;
      this.fastAllocFlags[highest] = ALLOC.WMARK_LOW | (preferred === ZONE.NORMAL ? ALLOC.NOFRAGMENT : 0);
    }
    // The gate closes: the entries it would open are rebuilt here.
    this.pcpFastKey.fill(-1);
    this.fastSlotOpen.fill(0);
    this.fastZoneOpen.fill(0);
    for (let key = 0; key < PcpFastKey.NR; key++) {
      const zbits = key & GfpMask.ZONEMASK;
      const mt = (key & GfpMask.MOVABLE_MASK) >> GfpMask.MOVABLE_SHIFT;
      const highest = (GfpMask.ZONE_TABLE >> (zbits * GfpMask.ZONES_SHIFT)) & ((1 << GfpMask.ZONES_SHIFT) - 1);
      const z = zl[highest * ZL.STRIDE]!;
      const ok = ((GfpMask.ZONE_BAD >> zbits) & 1) === 0 && mt < MT.PCPTYPES && z >= 0;
      this.pcpFastKeyAll[key] = ok ? ((z * ZONE.MAX_NR + highest) * WMARK.NR + ALLOC.WMARK_LOW) | (z << PcpFastKey.Z_SHIFT) | (mt << PcpFastKey.MT_SHIFT) : -1;
    }
  }
}

function ctz(x: number): number {
  if (x === 0) return 32;
  return 31 - Math.clz32(x & -x);
}
