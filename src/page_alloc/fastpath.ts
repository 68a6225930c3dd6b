/**
 * The order-0 page allocator fast paths as entry points of a plain machine
 * (PageAlloc itself, no KASAN hooks, no CPU threads): allocPages(0, gfp)
 * pops the head of the running CPU's pcp list (rmqueue_pcplist()'s common
 * case behind __alloc_pages()'s first get_page_from_freelist()), and
 * freePages(addr, 0) pushes the page on it (free_pages_prepare() and
 * free_unref_page_commit()), each written out in one small function over
 * the allocator's arrays.
 *
 * Why closures: the same reason as src/slub/fastpath.ts. V8 inlines a
 * closure into a caller's loop knowing its context, so every typed array
 * captured here is a constant of the compiled code; a method reached
 * through an object reloads each array (and its data pointer) at every
 * use and again after every store. The closures are installed on the
 * Kernel instance at boot (own properties, only for `new Kernel` on a
 * machine that qualifies), and hand everything they do not take, with
 * nothing changed, to Kernel.prototype's methods, which do the same work
 * with every check and report.
 *
 * Each fast path does exactly what PageAlloc.allocPagesPfn and
 * PageAlloc.freePagesPfn do for the case it takes: the same loads, the
 * same stores, the same counters, the same list order.
 */
import { Page } from '../memory/memblock.js';
import { PG } from '../memory/page.js';
import { Gfp } from './gfp.js';
import { MT, Order, ZONE } from './mmzone.js';
import { PageAlloc, PCP, PcpFastKey } from './page_alloc.js';

/** The entry points the fast paths replace on the instance. */
export interface PageAllocFastPaths {
  allocPages(order: number, gfp: number): number;
  freePages(addr: number, order: number): void;
}

/**
 * May a machine take the fast paths: the page allocator is PageAlloc itself
 * (PageAllocSmp takes zone->lock around its list work), and no hook runs on
 * an allocation or a free (KASAN's unpoison and poison)? Decided at boot.
 */
export function pageAllocFastPathsApply(pa: PageAlloc, kasan: boolean, smp: boolean): boolean {
  return Object.getPrototypeOf(pa) === PageAlloc.prototype && !kasan && !smp && pa.hooks.postAlloc === null && pa.hooks.freePrepare === null;
}

/**
 * The fast entry points of the API object k over pa's arrays (memSize bytes
 * of memory); `slow` holds the general ones (Kernel.prototype's), called
 * with k as `this`.
 */
export function pageAllocFastPaths(pa: PageAlloc, memSize: number, k: object, slow: PageAllocFastPaths): PageAllocFastPaths {
  const a = pa.fastArrays();
  const pcp = a.pcp;
  const pcpHead = a.pcpHead;
  const pcpTail = a.pcpTail;
  const next = a.pgNext;
  const prev = a.pgPrev;
  const index = a.pgIndex;
  const pgOrder = a.pgOrder;
  const pgType = a.pgType;
  const refcount = a.pgRefcount;
  const pgHead = a.pgHead;
  const flags = a.pgFlags;
  const slabCache = a.pgSlabCache;
  const blockZone = a.blockZone;
  const blockMt = a.blockMt;
  /** Addresses of page frames 1.., counted from PAGE_SIZE. */
  const span = memSize - Page.SIZE;
  const slowAlloc = slow.allocPages;
  const slowFree = slow.freePages;

  const pop = pcpPop(pa);

  /**
   * free_pages_prepare() + free_unref_page_commit() for an order-0 page
   * that passes every bad-page check, is no compound head, and sits in a
   * pageblock of a pcp migratetype: true, the page pushed on the running
   * CPU's list (and the list drained when over high); false, with nothing
   * changed, for anything else.
   */
  function push(pfn: number): boolean {
    // Not a tail and no slab (both -1), refcount > 0, no page type (PGTY_NONE is 0), order 0, not PG_head.
    if ((pgHead[pfn]! & slabCache[pfn]!) >= 0 || refcount[pfn]! <= 0 || (pgType[pfn]! | pgOrder[pfn]! | (flags[pfn]! & (1 << PG.head))) !== 0) return false;
    const block = pfn >>> Order.PAGEBLOCK;
    const mt = blockMt[block]!;
    if (mt >= MT.PCPTYPES) return false;
    const zone = blockZone[block]!;
    refcount[pfn] = 0;
    flags[pfn] = 0;
    const cz = pa.cpu * ZONE.MAX_NR + zone;
    // PGFREE: the count's rise, folded on read (PageAlloc.pcpFreeBase).
    index[pfn] = mt;
    const li = cz * PCP.NR_LISTS + mt;
    const h = pcpHead[li]!;
    next[pfn] = h;
    prev[pfn] = -1;
    if (h < 0) pcpTail[li] = pfn;
    pcpHead[li] = pfn;
    const row = cz * PCP.FIELDS;
    const count = pcp[row + PCP.COUNT]! + 1;
    pcp[row + PCP.COUNT] = count;
    if (count >= pcp[row + PCP.HIGH]!) pa.pcpDrainHigh(zone, row, mt);
    return true;
  }

  return {
    allocPages(order: number, gfp: number): number {
      // Order 0 and flags of 31 bits without __GFP_ZERO (typeof first: a BigInt or Symbol throws in &; a forbidden zone or mobility mix has no pcpFastKey entry).
      if (order === 0 && typeof gfp === 'number' && (gfp & (0x7fffffff & ~Gfp.ZERO)) === gfp) {
        const pfn = pop(gfp);
        if (pfn >= 0) return pfn * Page.SIZE;
      }
      return slowAlloc.call(k, order, gfp);
    },

    freePages(addr: number, order: number): void {
      // A page-aligned address of a page frame other than 0 (typeof first: a BigInt or Symbol throws in >>>).
      if (order === 0 && typeof addr === 'number' && addr >>> 0 === addr && (addr - Page.SIZE) >>> 0 < span && (addr & (Page.SIZE - 1)) === 0) {
        if (push(addr >>> Page.SHIFT)) return;
      }
      slowFree.call(k, addr, order);
    },
  };
}

/**
 * The order-0 pop of the running CPU's pcp list behind every fast path here
 * (one closure per caller, so each call site keeps its own type feedback).
 */
function pcpPop(pa: PageAlloc): (gfp: number) => number {
  const a = pa.fastArrays();
  const fastKey = a.pcpFastKey;
  const pcp = a.pcp;
  const pcpHead = a.pcpHead;
  const allocDiff = a.pcpAllocDiff;
  const next = a.pgNext;
  const index = a.pgIndex;
  const refcount = a.pgRefcount;

  /**
   * __alloc_pages() for order 0 when the zonelist's first zone passes its
   * cached low watermark and the running CPU's pcp list has a page: the
   * pfn, with the page prepared (refcount 1) and counted; -1, with nothing
   * changed, for anything else.
   */
  return function pop(gfp: number): number {
    // gfp_zone(), gfp_migratetype() and the zonelist's first zone, looked up at once (PageAlloc.pcpFastKey).
    // An entry only while zone_watermark_fast() for order 0, ALLOC_WMARK_LOW and no reserves is known to pass (Zones.pcpFastKey).
    const e = fastKey[gfp & PcpFastKey.KEY_MASK]!;
    if (e < 0) return -1;
    const z = (e >> PcpFastKey.Z_SHIFT) & PcpFastKey.Z_MASK;
    const cz = pa.cpu * ZONE.MAX_NR + z;
    const li = cz * PCP.NR_LISTS + (e >> PcpFastKey.MT_SHIFT);
    const pfn = pcpHead[li]!;
    if (pfn < 0) return -1;
    const row = cz * PCP.FIELDS;
    const ff = pcp[row + PCP.FREE_FACTOR]!;
    if (ff !== 0) pcp[row + PCP.FREE_FACTOR] = ff >> 1;
    pcpHead[li] = next[pfn]!;
    next[pfn] = -1;
    pcp[row + PCP.COUNT]! -= 1;
    allocDiff[cz * (Order.COSTLY + 1)]!++;
    // prep_new_page()
    refcount[pfn] = 1;
    // (pages.order is already 0: a pcp page is never the head of a free block.)
    index[pfn] = 0;
    return pfn;
  };
}

/**
 * vma_alloc_zeroed_movable_folio()'s allocation for order 0 (gfp has
 * __GFP_ZERO): the pcp pop of allocPagesPfn's common case, then
 * prep_new_page()'s clear of the page's 4 KiB, once; anything else
 * (no pcp page, a watermark not known to pass, a post-alloc hook, a
 * PageAlloc subclass) is pa.allocPagesPfn(0, gfp) itself. Same loads,
 * stores and counters as that path.
 */
export function pcpAllocZeroed(pa: PageAlloc): (gfp: number) => number {
  const u8 = pa.mem.u8;
  const hooks = pa.hooks;
  if (Object.getPrototypeOf(pa) !== PageAlloc.prototype) return (gfp) => pa.allocPagesPfn(0, gfp);
  const pop = pcpPop(pa);
  return (gfp: number): number => {
    if (hooks.postAlloc === null) {
      const pfn = pop(gfp);
      if (pfn >= 0) {
        const a = pfn * Page.SIZE;
        u8.fill(0, a, a + Page.SIZE);
        return pfn;
      }
    }
    return pa.allocPagesPfn(0, gfp);
  };
}
