/**
 * Memory compaction (mm/compaction.c): make free blocks of a high order by
 * moving movable pages (anonymous, page cache, shmem: the LRU's) out of the
 * way.
 *
 * Two scanners walk a zone towards each other a pageblock at a time: the
 * migrate scanner from the bottom (cc.migratePfn) isolates pages that can
 * move, the free scanner from the top (cc.freePfn) isolates free buddy
 * blocks to move them into. migrate_pages() (src/vm/migrate.ts) copies each
 * page into a free one taken from the top, so free pages gather at the
 * bottom and merge in the buddy lists. compact_zone() runs until
 * __compact_finished() sees a free block of the order asked for (of the
 * request's migratetype, or one it may steal) once the migrate scanner is at
 * a pageblock boundary, or until the scanners meet.
 *
 *   zone start                                                  zone end
 *   |[migrate scanner -->]  . . . . . . . . . .  [<-- free scanner]|
 *    isolate LRU pages                            isolate free pages
 *
 * Entry points: direct compaction from the page allocator's slow path
 * (__alloc_pages_direct_compact through the directCompact hook:
 * try_to_compact_pages over the zonelist, compaction_deferred() and
 * defer_compaction() by zone, COMPACT_* results, compact_stall / _fail /
 * _success), and /proc/sys/vm/compact_memory (compact_nodes(): every zone,
 * MIGRATE_SYNC, whole zone). compaction_suitable() asks the order-0 min (or
 * low, for costly orders) watermark plus compact_gap() first, and for
 * costly orders a fragmentation_index() above vm.extfrag_threshold.
 *
 * What kmem leaves out, all of it heuristics that change where a scan starts
 * or which pageblocks it skips, not what it may move: the PG_migrate_skip
 * pageblock bits (every pageblock is suitable), fast_find_migrateblock()
 * and fast_isolate_freepages() (the scanners are linear), the capture of a
 * page freed during compaction (the allocation is retried from the free
 * lists), and too_many_isolated() throttling. kcompactd runs when kswapd,
 * going back to sleep after a high-order request, wakes it; like kswapd in
 * kmem it runs at once, synchronously.
 *
 * Proactive compaction: kcompactd also wakes every
 * HPAGE_FRAG_CHECK_INTERVAL_MSEC (500 ms) of the virtual clock, a timer,
 * while vm.compaction_proactiveness is not 0. When the node's
 * fragmentation score (each zone's external fragmentation for order 9,
 * weighted by the zone's share of the node's present pages) is above
 * 100 - proactiveness + 10, proactive_compact_node() compacts each zone
 * whole until the zone's own score is no more than 100 - proactiveness (at
 * least 5); a pass that did not lower the node's score puts the next check
 * off by 2^COMPACT_MAX_DEFER_SHIFT intervals (32 s). kswapd_is_running() is
 * a reclaim in progress (kmem's kswapd runs inside the allocation that
 * wakes it).
 * Migration never waits: a page under writeback or pinned fails at once
 * (the kernel's MIGRATE_SYNC_LIGHT may wait, and retries -EAGAIN up to ten
 * times; here a retry would find the same state).
 */
import { Timer } from '../lib/timer.js';
import { PG } from '../memory/page.js';
import { ALLOC_CMA, ALLOC_WMARK_MASK } from '../page_alloc/alloc_flags.js';
import { GFP_KERNEL, Gfp, gfpMigratetype } from '../page_alloc/gfp.js';
import {
  fallbacks,
  MAX_NR_ZONES,
  MT,
  NR_PAGE_ORDERS,
  Order,
  WMARK_LOW,
  WMARK_MIN,
  Z_FREE,
  Z_PRESENT,
  Z_SPANNED,
  Z_START_PFN,
  Z_WMARK,
} from '../page_alloc/mmzone.js';
import { CompactPrio, CompactResult } from '../page_alloc/page_alloc.js';
import { fillContigPageInfo, fragmentationIndex } from '../proc/buddyinfo.js';
import { MIGRATEPAGE_SUCCESS, migrateFolio } from './migrate.js';
import { folioIsFileLru } from './mm_inline.js';
import { lruAdd } from './swap.js';
import { KIND_ANON, KIND_FILE, KIND_SHMEM, type Vm } from './vm.js';
import { reclaimState, zoneReclaimablePages } from './vmscan.js';

/** enum migrate_mode */
export const MIGRATE_ASYNC = 0;
export const MIGRATE_SYNC_LIGHT = 1;
export const MIGRATE_SYNC = 2;
/** COMPACT_CLUSTER_MAX = SWAP_CLUSTER_MAX */
export const COMPACT_CLUSTER_MAX = 32;
/** COMPACT_MAX_DEFER_SHIFT */
export const COMPACT_MAX_DEFER_SHIFT = 6;
const PAGEBLOCK_NR = Order.PAGEBLOCK_NR_PAGES as number;
const COSTLY = Order.COSTLY as number;

/** The vm events compaction and migration count, by their /proc/vmstat names. */
export class CompactEvents {
  pgmigrateSuccess = 0;
  pgmigrateFail = 0;
  compactMigrateScanned = 0;
  compactFreeScanned = 0;
  compactIsolated = 0;
  compactStall = 0;
  compactFail = 0;
  compactSuccess = 0;
  compactDaemonWake = 0;
  compactDaemonMigrateScanned = 0;
  compactDaemonFreeScanned = 0;
}

/** The zone fields compaction keeps (struct zone's compact_*), indexed by zone. */
export class CompactState {
  readonly ev = new CompactEvents();
  /** compact_cached_migrate_pfn[0] (async) and [1] (sync), compact_cached_free_pfn, compact_init_migrate_pfn */
  readonly cachedMigrateAsync = new Float64Array(MAX_NR_ZONES).fill(-1);
  readonly cachedMigrateSync = new Float64Array(MAX_NR_ZONES).fill(-1);
  readonly cachedFree = new Float64Array(MAX_NR_ZONES).fill(-1);
  /** compact_considered, compact_defer_shift, compact_order_failed */
  readonly considered = new Int32Array(MAX_NR_ZONES);
  readonly deferShift = new Int32Array(MAX_NR_ZONES);
  readonly orderFailed = new Int32Array(MAX_NR_ZONES);
  /** compact_blockskip_flush */
  readonly blockskipFlush = new Uint8Array(MAX_NR_ZONES);
  /** pgdat->kcompactd_max_order, kcompactd_highest_zoneidx */
  kcompactdMaxOrder = 0;
  kcompactdHighestZoneidx = MAX_NR_ZONES - 1;
  /** pgdat->proactive_compact_trigger */
  proactiveCompactTrigger = false;
  /** kcompactd's sleep with a timeout (wait_event_freezable_timeout): the timer that ends it; made by installCompactionHooks */
  kcompactdTimer: Timer | null = null;
  /** proactive passes run (for tests and the inspector) */
  proactiveRuns = 0;
}

const states = new WeakMap<Vm, CompactState>();

/** The machine's compaction state (made on first use). */
export function compactState(vm: Vm): CompactState {
  let s = states.get(vm);
  if (s === undefined) {
    s = new CompactState();
    states.set(vm, s);
  }
  return s;
}

/** struct compact_control */
export class CompactControl {
  /** -1: /proc/sys/vm/compact_memory */
  order = -1;
  zone = 0;
  mode = MIGRATE_ASYNC;
  migratetype: number = MT.MOVABLE;
  gfp = GFP_KERNEL;
  allocFlags = 0;
  highestZoneidx = 0;
  directCompaction = false;
  wholeZone = false;
  ignoreBlockSuitable = false;
  finishPageblock = false;
  migratePfn = 0;
  freePfn = 0;
  nrMigratepages = 0;
  nrFreepages = 0;
  totalMigrateScanned = 0;
  totalFreeScanned = 0;
  /** cc->proactive_compaction */
  proactiveCompaction = false;
  /** cc->migratepages: the isolated pages, most recently isolated first (list_add) */
  readonly migratepages: number[] = [];
  /** cc->freepages[order]: isolated free blocks by order */
  readonly freepages: number[][] = Array.from({ length: NR_PAGE_ORDERS }, () => []);
}

function zoneStart(vm: Vm, z: number): number {
  return vm.k.pageAlloc.zones.get(z, Z_START_PFN);
}
function zoneEnd(vm: Vm, z: number): number {
  return zoneStart(vm, z) + vm.k.pageAlloc.zones.get(z, Z_SPANNED);
}
const pageblockStart = (pfn: number) => pfn - (pfn % PAGEBLOCK_NR);
const pageblockEnd = (pfn: number) => pageblockStart(pfn) + PAGEBLOCK_NR;
const blockEndPfn = (pfn: number, order: number) => pfn - (pfn % (1 << order)) + (1 << order);

/** compact_scanners_met(): the free scanner's pageblock is at or below the migrate scanner's. */
function scannersMet(cc: CompactControl): boolean {
  return Math.floor(cc.freePfn / PAGEBLOCK_NR) <= Math.floor(cc.migratePfn / PAGEBLOCK_NR);
}

// ───────────────────────── deferral ─────────────────────────

/** defer_compaction(): compaction failed for this order; skip the next 1 << defer_shift attempts. */
export function deferCompaction(s: CompactState, z: number, order: number): void {
  s.considered[z] = 0;
  s.deferShift[z] = Math.min(s.deferShift[z]! + 1, COMPACT_MAX_DEFER_SHIFT);
  if (order < s.orderFailed[z]!) s.orderFailed[z] = order;
}

/** compaction_deferred(): should this attempt be skipped? Counts the attempt. */
export function compactionDeferred(s: CompactState, z: number, order: number): boolean {
  const limit = 1 << s.deferShift[z]!;
  if (order < s.orderFailed[z]!) return false;
  if (++s.considered[z]! >= limit) {
    s.considered[z] = limit;
    return false;
  }
  return true;
}

/** compaction_defer_reset(): compaction worked (alloc_success: the allocation too). */
export function compactionDeferReset(s: CompactState, z: number, order: number, allocSuccess: boolean): void {
  if (allocSuccess) {
    s.considered[z] = 0;
    s.deferShift[z] = 0;
  }
  if (order >= s.orderFailed[z]!) s.orderFailed[z] = order + 1;
}

// ───────────────────────── suitability ─────────────────────────

/** fragmentation_index(): 0..1000 (towards 1000: a failure would be fragmentation), -1000 when a block is free. */
export function zoneFragmentationIndex(vm: Vm, z: number, order: number): number {
  return fragmentationIndex(order, fillContigPageInfo(vm.k.pageAlloc, z, order));
}

/**
 * __compaction_suitable(): enough free order-0 pages to migrate into: the
 * min watermark (low for costly orders) plus compact_gap() = 2 << order.
 */
function compactionSuitableFree(vm: Vm, z: number, order: number, highest: number, free: number): boolean {
  const zones = vm.k.pageAlloc.zones;
  const mark = zones.get(z, Z_WMARK + (order > COSTLY ? WMARK_LOW : WMARK_MIN)) + (2 << order);
  return vm.k.pageAlloc.zoneWatermarkOkFree(z, 0, mark, highest, ALLOC_CMA, free);
}

/**
 * compaction_suitable(): the watermark test, and for costly orders a
 * fragmentation index above vm.extfrag_threshold (else the failure is
 * lack of memory, for reclaim to fix).
 */
export function compactionSuitable(vm: Vm, z: number, order: number, highest: number): boolean {
  if (!compactionSuitableFree(vm, z, order, highest, vm.k.pageAlloc.zones.get(z, Z_FREE))) return false;
  if (order > COSTLY) {
    const fragindex = zoneFragmentationIndex(vm, z, order);
    if (fragindex >= 0 && fragindex <= vm.k.proc.sysctl.extfragThreshold) return false;
  }
  return true;
}

/** compaction_zonelist_suitable(): would some zone pass __compaction_suitable with its reclaimable pages / order added? */
export function compactionZonelistSuitable(vm: Vm, order: number, highest: number): boolean {
  for (let z = highest; z >= 0; z--) {
    if (!vm.k.pageAlloc.zones.populated(z)) continue;
    const available = Math.floor(zoneReclaimablePages(vm, z) / order) + vm.k.pageAlloc.zones.get(z, Z_FREE);
    if (compactionSuitableFree(vm, z, order, highest, available)) return true;
  }
  return false;
}

// ───────────────────────── the migrate scanner ─────────────────────────

/** suitable_migration_source(): async direct compaction takes pages only from pageblocks of its own kind (movable for movable). */
function suitableMigrationSource(vm: Vm, cc: CompactControl, pfn: number): boolean {
  if (cc.mode !== MIGRATE_ASYNC || !cc.directCompaction) return true;
  const mt = vm.k.pageAlloc.getPageblockMigratetype(pfn);
  if (cc.migratetype === MT.MOVABLE) return mt === MT.MOVABLE;
  return mt === cc.migratetype;
}

/** update_cached_migrate(): where the next compaction of the zone starts its migrate scanner. */
function updateCachedMigrate(vm: Vm, cc: CompactControl, pfn: number): void {
  const s = compactState(vm);
  pfn = pageblockEnd(pfn);
  if (pfn > s.cachedMigrateAsync[cc.zone]!) s.cachedMigrateAsync[cc.zone] = pfn;
  if (cc.mode !== MIGRATE_ASYNC && pfn > s.cachedMigrateSync[cc.zone]!) s.cachedMigrateSync[cc.zone] = pfn;
}

/** folio_isolate_lru() for compaction: off its list, PG_lru cleared, a reference taken, NR_ISOLATED_*. */
function isolateLruPage(vm: Vm, pfn: number): void {
  const p = vm.k.pages;
  vm.lruvec.del(pfn);
  p.flags[pfn] = p.flags[pfn]! & ~(1 << PG.lru);
  p.refcount[pfn] = p.refcount[pfn]! + 1;
  if (folioIsFileLru(p.flags[pfn]!)) vm.lruEv.nrIsolatedFile++;
  else vm.lruEv.nrIsolatedAnon++;
}

/** folio_putback_lru() of an isolated page migration did not move: back on its list, the isolation's reference dropped. */
function putbackLruPage(vm: Vm, pfn: number): void {
  const p = vm.k.pages;
  if (folioIsFileLru(p.flags[pfn]!)) vm.lruEv.nrIsolatedFile--;
  else vm.lruEv.nrIsolatedAnon--;
  lruAdd(vm, pfn);
  vm.putPage(pfn);
}

/** putback_movable_pages() */
function putbackMovablePages(vm: Vm, cc: CompactControl): void {
  for (const pfn of cc.migratepages) putbackLruPage(vm, pfn);
  cc.migratepages.length = 0;
  cc.nrMigratepages = 0;
}

/**
 * isolate_migratepages_block()'s tests of one page: on the LRU, user memory,
 * not pinned (an anonymous page outside the swap cache with references its
 * PTEs do not explain), a page with a mapping only under __GFP_FS, an
 * unevictable one only if allowed, none under writeback in async mode.
 */
function mayIsolate(vm: Vm, cc: CompactControl, pfn: number, asyncMode: boolean, unevictableAllowed: boolean): boolean {
  const p = vm.k.pages;
  const v = p.flags[pfn]!;
  const kind = vm.pageKind[pfn];
  if ((v & (1 << PG.lru)) === 0 || p.refcount[pfn]! <= 0) return false;
  if (kind !== KIND_ANON && kind !== KIND_FILE && kind !== KIND_SHMEM) return false;
  // folio_mapping(): the page cache's, or the swap cache's for an anonymous page in it.
  const hasMapping = kind !== KIND_ANON || (v & (1 << PG.owner_priv_1)) !== 0;
  if (!hasMapping && p.refcount[pfn]! > p.mapcount[pfn]!) return false;
  if ((cc.gfp & Gfp.FS) === 0 && hasMapping) return false;
  if (!unevictableAllowed && (v & (1 << PG.unevictable)) !== 0) return false;
  return !(asyncMode && (v & (1 << PG.writeback)) !== 0);
}

/**
 * isolate_migratepages_block(): from lowPfn to endPfn, isolate the LRU pages
 * that can move: free blocks are stepped over, and a page is passed by when
 * it is not on the LRU (slab, page tables, free on a pcp list), when an
 * anonymous page has references its mappings do not explain (pinned), when
 * a page-cache page is asked for without __GFP_FS, when unevictable pages
 * are not allowed, and in async mode when under writeback. Stops after
 * COMPACT_CLUSTER_MAX pages unless the pageblock is to be finished. Async
 * direct compaction gives up a cc.order-aligned block at its first failure
 * (skip_on_failure), putting back what it took from it.
 */
function isolateMigratepagesBlock(vm: Vm, cc: CompactControl, lowPfn: number, endPfn: number): void {
  const pa = vm.k.pageAlloc;
  const asyncMode = cc.mode !== MIGRATE_SYNC;
  const unevictableAllowed = vm.k.proc.sysctl.compactUnevictableAllowed !== 0;
  let nrScanned = 0;
  let nrIsolated = 0;
  let skipOnFailure = false;
  let nextSkipPfn = 0;
  if (cc.directCompaction && cc.mode === MIGRATE_ASYNC && cc.order > 0) {
    skipOnFailure = true;
    nextSkipPfn = blockEndPfn(lowPfn, cc.order);
  }
  for (; lowPfn < endPfn; lowPfn++) {
    if (skipOnFailure && lowPfn >= nextSkipPfn) {
      // A whole cc.order block was isolated without failure: migrate it.
      if (nrIsolated > 0) break;
      nextSkipPfn = blockEndPfn(lowPfn, cc.order);
    }
    nrScanned++;
    const bo = pa.buddyOrder(lowPfn);
    if (bo >= 0) {
      if (bo > 0 && bo <= Order.MAX) {
        lowPfn += (1 << bo) - 1;
        nrScanned += (1 << bo) - 1;
      }
      continue;
    }
    if (mayIsolate(vm, cc, lowPfn, asyncMode, unevictableAllowed)) {
      isolateLruPage(vm, lowPfn);
      cc.migratepages.unshift(lowPfn);
      cc.nrMigratepages++;
      nrIsolated++;
      if (cc.nrMigratepages >= COMPACT_CLUSTER_MAX && !cc.finishPageblock) {
        lowPfn++;
        break;
      }
      continue;
    }
    // isolate_fail:
    if (!skipOnFailure) continue;
    if (nrIsolated > 0) {
      putbackMovablePages(vm, cc);
      nrIsolated = 0;
    }
    if (lowPfn < nextSkipPfn) {
      lowPfn = nextSkipPfn - 1;
      nextSkipPfn += 1 << cc.order;
    }
  }
  if (lowPfn > endPfn) lowPfn = endPfn;
  if (lowPfn === endPfn && (nrIsolated === 0 || cc.finishPageblock)) updateCachedMigrate(vm, cc, lowPfn);
  cc.totalMigrateScanned += nrScanned;
  if (nrIsolated > 0) compactState(vm).ev.compactIsolated += nrIsolated;
  cc.migratePfn = lowPfn;
}

const ISOLATE_NONE = 0;
const ISOLATE_SUCCESS = 1;

/**
 * isolate_migratepages(): from the migrate scanner's pageblock upwards,
 * never past the free scanner, the first pageblock that is a suitable
 * source is scanned; its isolated pages are the next batch to migrate.
 */
function isolateMigratepages(vm: Vm, cc: CompactControl): number {
  const zStart = zoneStart(vm, cc.zone);
  let lowPfn = cc.migratePfn;
  let blockStart = Math.max(pageblockStart(lowPfn), zStart);
  let blockEnd = pageblockEnd(lowPfn);
  for (; blockEnd <= cc.freePfn; cc.migratePfn = lowPfn = blockEnd, blockStart = blockEnd, blockEnd += PAGEBLOCK_NR) {
    // pageblock_pfn_to_page(): the block must lie in the zone.
    if (blockEnd > zoneEnd(vm, cc.zone)) continue;
    if (!suitableMigrationSource(vm, cc, blockStart)) {
      updateCachedMigrate(vm, cc, blockEnd);
      continue;
    }
    isolateMigratepagesBlock(vm, cc, lowPfn, blockEnd);
    break;
  }
  return cc.nrMigratepages > 0 ? ISOLATE_SUCCESS : ISOLATE_NONE;
}

// ───────────────────────── the free scanner ─────────────────────────

/**
 * suitable_migration_target(): a pageblock to take free pages from: not one
 * whose free block is already as big as the order sought (a pageblock for
 * compact_memory), and movable unless block suitability is ignored.
 */
function suitableMigrationTarget(vm: Vm, cc: CompactControl, pfn: number): boolean {
  const pa = vm.k.pageAlloc;
  const bo = pa.buddyOrder(pfn);
  if (bo >= 0 && bo >= (cc.order > 0 ? cc.order : Order.PAGEBLOCK)) return false;
  if (cc.ignoreBlockSuitable) return true;
  return pa.getPageblockMigratetype(pfn) === MT.MOVABLE;
}

/**
 * isolate_freepages_block(): take the free blocks from startPfn to endPfn
 * (every stride-th page looked at, a free block stepped over whole) onto
 * cc.freepages by order, until there are as many free pages as pages to
 * migrate. Returns where it stopped.
 */
function isolateFreepagesBlock(vm: Vm, cc: CompactControl, startPfn: number, endPfn: number, stride: number): number {
  const pa = vm.k.pageAlloc;
  let nrScanned = 0;
  let totalIsolated = 0;
  let pfn = startPfn;
  for (; pfn < endPfn; pfn += stride) {
    nrScanned++;
    if (pa.buddyOrder(pfn) < 0) continue;
    const order = pa.isolateFreePage(pfn);
    if (order < 0) break;
    const isolated = 1 << order;
    nrScanned += isolated - 1;
    totalIsolated += isolated;
    cc.nrFreepages += isolated;
    cc.freepages[order]!.push(pfn);
    if (cc.nrMigratepages <= cc.nrFreepages) {
      pfn += isolated;
      break;
    }
    pfn += isolated - 1;
  }
  if (pfn > endPfn) pfn = endPfn;
  cc.totalFreeScanned += nrScanned;
  if (totalIsolated > 0) compactState(vm).ev.compactIsolated += totalIsolated;
  return pfn;
}

/**
 * isolate_freepages(): from the free scanner's pageblock downwards, while
 * above the migrate scanner's, isolate free pages from suitable pageblocks
 * until there are enough for the batch; the stride doubles (to 32) across
 * pageblocks that gave nothing in async mode.
 */
function isolateFreepages(vm: Vm, cc: CompactControl): void {
  let isolateStart = cc.freePfn;
  let blockStart = pageblockStart(isolateStart);
  let blockEnd = Math.min(blockStart + PAGEBLOCK_NR, zoneEnd(vm, cc.zone));
  const lowPfn = pageblockEnd(cc.migratePfn);
  let stride = cc.mode === MIGRATE_ASYNC ? COMPACT_CLUSTER_MAX : 1;
  const zStart = zoneStart(vm, cc.zone);
  for (; blockStart >= lowPfn; blockEnd = blockStart, blockStart -= PAGEBLOCK_NR, isolateStart = blockStart) {
    if (blockStart < zStart) continue;
    if (!suitableMigrationTarget(vm, cc, blockStart)) continue;
    const before = cc.nrFreepages;
    isolateStart = isolateFreepagesBlock(vm, cc, isolateStart, blockEnd, stride);
    const nrIsolated = cc.nrFreepages - before;
    if (cc.nrFreepages >= cc.nrMigratepages) {
      // Restart at the previous pageblock if this one is done.
      if (isolateStart >= blockEnd) isolateStart = blockStart - PAGEBLOCK_NR;
      break;
    }
    if (isolateStart < blockEnd) break;
    if (nrIsolated > 0) stride = 1;
    else stride = Math.min(COMPACT_CLUSTER_MAX, stride << 1);
  }
  cc.freePfn = isolateStart;
}

/**
 * compaction_alloc(): a free page to migrate into: the first block on the
 * smallest non-empty order list, split down to order 0 (the upper halves
 * back on the lists); the free scanner runs once if the lists are empty.
 * -1 when none can be had.
 */
function compactionAlloc(vm: Vm, cc: CompactControl): number {
  let isolatedOnce = false;
  for (;;) {
    let o = 0;
    while (o < NR_PAGE_ORDERS && cc.freepages[o]!.length === 0) o++;
    if (o === NR_PAGE_ORDERS) {
      if (isolatedOnce) return -1;
      isolateFreepages(vm, cc);
      isolatedOnce = true;
      continue;
    }
    const pfn = cc.freepages[o]!.shift()!;
    while (o > 0) {
      o--;
      cc.freepages[o]!.unshift(pfn + (1 << o));
    }
    vm.k.pageAlloc.prepIsolatedBlock(pfn, 0);
    cc.nrFreepages--;
    cc.nrMigratepages--;
    return pfn;
  }
}

/** compaction_free(): a target page that was not used goes back on the order-0 list. */
function compactionFree(vm: Vm, cc: CompactControl, pfn: number): void {
  vm.k.pages.refcount[pfn] = 0;
  cc.freepages[0]!.unshift(pfn);
  cc.nrFreepages++;
  cc.nrMigratepages++;
}

/** release_free_list(): the free pages left go back to the buddy allocator; the highest pfn among them, or 0. */
function releaseFreepages(vm: Vm, cc: CompactControl): number {
  const pa = vm.k.pageAlloc;
  let high = 0;
  for (let o = 0; o < NR_PAGE_ORDERS; o++) {
    for (const pfn of cc.freepages[o]!) {
      pa.prepIsolatedBlock(pfn, o);
      pa.freePagesPfn(pfn, o);
      if (pfn > high) high = pfn;
    }
    cc.freepages[o]!.length = 0;
  }
  cc.nrFreepages = 0;
  return high;
}

/**
 * migrate_pages() with compaction_alloc/compaction_free: each isolated page
 * (in list order) into a new page; pgmigrate_success / _fail. Those that
 * failed stay on cc.migratepages for the caller to put back. -ENOMEM when
 * the free scanner found no page for one (it counts as failed, those after
 * it are not tried), else the number that failed.
 */
function migratePages(vm: Vm, cc: CompactControl): number {
  const ev = compactState(vm).ev;
  const list = cc.migratepages;
  const failed: number[] = [];
  let err = 0;
  while (list.length > 0) {
    const src = list[0]!;
    const dst = compactionAlloc(vm, cc);
    if (dst < 0) {
      // -ENOMEM: the page that found no target fails; the rest are put back untried.
      ev.pgmigrateFail++;
      err = -12;
      break;
    }
    list.shift();
    const isFile = folioIsFileLru(vm.k.pages.flags[src]!);
    const rc = migrateFolio(vm, src, dst);
    if (rc === MIGRATEPAGE_SUCCESS) {
      ev.pgmigrateSuccess++;
      if (isFile) vm.lruEv.nrIsolatedFile--;
      else vm.lruEv.nrIsolatedAnon--;
    } else {
      compactionFree(vm, cc, dst);
      ev.pgmigrateFail++;
      failed.push(src);
    }
  }
  list.push(...failed);
  cc.nrMigratepages = list.length;
  return err !== 0 ? err : failed.length;
}

// ───────────────────────── compact_zone ─────────────────────────

/**
 * __compact_finished(): the scanners met (COMPLETE for a whole-zone run,
 * PARTIAL_SKIPPED else; the cached positions start over); compact_memory
 * goes on; otherwise, at a pageblock boundary, SUCCESS when a free block of
 * the order is on the request's migratetype list or one it may fall back to.
 */
function compactFinished(vm: Vm, cc: CompactControl): number {
  const s = compactState(vm);
  if (scannersMet(cc)) {
    resetCachedPositions(vm, s, cc.zone);
    if (cc.directCompaction) s.blockskipFlush[cc.zone] = 1;
    return cc.wholeZone ? CompactResult.COMPLETE : CompactResult.PARTIAL_SKIPPED;
  }
  if (cc.proactiveCompaction) {
    if (kswapdIsRunning(vm)) return CompactResult.PARTIAL_SKIPPED;
    return fragmentationScoreZone(vm, cc.zone) > fragmentationScoreWmark(vm, true) ? CompactResult.CONTINUE : CompactResult.SUCCESS;
  }
  if (cc.order < 0) return CompactResult.CONTINUE;
  if (cc.migratePfn % PAGEBLOCK_NR !== 0) return CompactResult.CONTINUE;
  const zones = vm.k.pageAlloc.zones;
  for (let o = cc.order; o < NR_PAGE_ORDERS; o++) {
    const base = (cc.zone * NR_PAGE_ORDERS + o) * MT.TYPES;
    if (zones.freeHead[base + cc.migratetype]! >= 0) return CompactResult.SUCCESS;
    // find_suitable_fallback(..., only_stealable = true)
    if (cc.migratetype < MT.PCPTYPES && zones.nrFree[cc.zone * NR_PAGE_ORDERS + o]! > 0) {
      const canSteal = o >= Order.PAGEBLOCK || o >= Order.PAGEBLOCK >> 1 || cc.migratetype === MT.RECLAIMABLE || cc.migratetype === MT.UNMOVABLE;
      if (canSteal && fallbacks[cc.migratetype]!.some((fmt) => zones.freeHead[base + fmt]! >= 0)) return CompactResult.SUCCESS;
    }
  }
  return CompactResult.CONTINUE;
}

/** reset_cached_positions() */
function resetCachedPositions(vm: Vm, s: CompactState, z: number): void {
  s.cachedMigrateAsync[z] = zoneStart(vm, z);
  s.cachedMigrateSync[z] = zoneStart(vm, z);
  s.cachedFree[z] = pageblockStart(zoneEnd(vm, z) - 1);
}

/**
 * compact_zone(): unless compacting for compact_memory, nothing to do if
 * the allocation would already succeed (SUCCESS) or compaction is not
 * suitable (SKIPPED). The scanners start at the zone's cached positions
 * (its ends for a whole-zone run); then batches are isolated and migrated
 * until compact_finished() says otherwise. After each batch whose pageblock
 * the migrate scanner has left, this CPU's pcp lists for the zone are
 * drained so the freed pages merge. Free pages isolated and not used go
 * back at the end; compact_migrate_scanned / compact_free_scanned counted.
 */
export function compactZone(vm: Vm, cc: CompactControl): number {
  const s = compactState(vm);
  const pa = vm.k.pageAlloc;
  const z = cc.zone;
  const start = zoneStart(vm, z);
  const end = zoneEnd(vm, z);
  const sync = cc.mode !== MIGRATE_ASYNC;
  cc.totalMigrateScanned = 0;
  cc.totalFreeScanned = 0;
  cc.nrMigratepages = 0;
  cc.nrFreepages = 0;
  cc.migratetype = gfpMigratetype(cc.gfp);
  if (cc.order >= 0) {
    const mark = pa.zones.get(z, Z_WMARK + (cc.allocFlags & ALLOC_WMARK_MASK));
    if (pa.zoneWatermarkOk(z, cc.order, mark, cc.highestZoneidx, cc.allocFlags)) return CompactResult.SUCCESS;
    if (!compactionSuitable(vm, z, cc.order, cc.highestZoneidx)) return CompactResult.SKIPPED;
  }
  if (cc.wholeZone) {
    cc.migratePfn = start;
    cc.freePfn = pageblockStart(end - 1);
  } else {
    cc.migratePfn = sync ? s.cachedMigrateSync[z]! : s.cachedMigrateAsync[z]!;
    cc.freePfn = s.cachedFree[z]!;
    if (cc.freePfn < start || cc.freePfn >= end) {
      cc.freePfn = pageblockStart(end - 1);
      s.cachedFree[z] = cc.freePfn;
    }
    if (cc.migratePfn < start || cc.migratePfn >= end) {
      cc.migratePfn = start;
      s.cachedMigrateAsync[z] = start;
      s.cachedMigrateSync[z] = start;
    }
    // compact_init_migrate_pfn: the zone's first pageblock (no skip bits to move it).
    if (cc.migratePfn <= start) cc.wholeZone = true;
  }
  let lastMigratedPfn = 0;
  let ret: number;
  for (;;) {
    ret = compactFinished(vm, cc);
    if (ret !== CompactResult.CONTINUE) break;
    const iterationStart = cc.migratePfn;
    cc.finishPageblock = lastMigratedPfn !== 0 && pageblockStart(lastMigratedPfn) === pageblockStart(iterationStart);
    let rescanned = false;
    for (;;) {
      const isolated = isolateMigratepages(vm, cc);
      if (isolated === ISOLATE_NONE) break;
      lastMigratedPfn = Math.max(start, pageblockStart(cc.migratePfn - 1));
      const err = migratePages(vm, cc);
      if (err !== 0) {
        putbackMovablePages(vm, cc);
        if (err === -12 && !scannersMet(cc)) {
          ret = CompactResult.CONTENDED;
          break;
        }
        // An async or sync-light run that failed inside a pageblock finishes that pageblock.
        if (!rescanned && cc.migratePfn % PAGEBLOCK_NR !== 0 && !cc.finishPageblock && cc.mode < MIGRATE_SYNC) {
          cc.finishPageblock = true;
          if (cc.order === Order.PAGEBLOCK) lastMigratedPfn = 0;
          rescanned = true;
          continue;
        }
      }
      break;
    }
    if (ret === CompactResult.CONTENDED) break;
    // check_drain: the migrate scanner left the cc.order block it migrated from.
    if (cc.order > 0 && lastMigratedPfn !== 0) {
      const currentBlockStart = cc.migratePfn - (cc.migratePfn % (1 << cc.order));
      if (lastMigratedPfn < currentBlockStart) {
        pa.drainPagesZone(pa.cpu, z);
        lastMigratedPfn = 0;
      }
    }
  }
  if (cc.nrFreepages > 0 || cc.freepages.some((l) => l.length > 0)) {
    const freePfn = pageblockStart(releaseFreepages(vm, cc));
    if (freePfn > s.cachedFree[z]!) s.cachedFree[z] = freePfn;
  }
  s.ev.compactMigrateScanned += cc.totalMigrateScanned;
  s.ev.compactFreeScanned += cc.totalFreeScanned;
  return ret;
}

/**
 * try_to_compact_pages() + __alloc_pages_direct_compact(): compact each
 * zone of the zonelist whose compaction is not deferred (unless at the
 * highest priority), stopping at the first that reports SUCCESS; a sync
 * run that ended COMPLETE or PARTIAL_SKIPPED defers the zone. Unless every
 * zone was skipped, a stall is counted and the allocation retried: success
 * resets the deferral, failure counts compact_fail. Returns the page, or
 * -1 - compact_result. Not for a caller already reclaiming (PF_MEMALLOC).
 */
export function allocPagesDirectCompact(vm: Vm, order: number, gfp: number, allocFlags: number, highest: number, prio: number, retry: () => number): number {
  const r = reclaimState(vm);
  if (order === 0 || r.inReclaim) return -1 - CompactResult.SKIPPED;
  const s = compactState(vm);
  const pa = vm.k.pageAlloc;
  let rc: number = CompactResult.SKIPPED;
  r.inReclaim = true;
  try {
    for (let z = highest; z >= 0; z--) {
      if (!pa.zones.populated(z)) continue;
      if (prio > CompactPrio.SYNC_FULL && compactionDeferred(s, z, order)) {
        rc = Math.max(rc, CompactResult.DEFERRED);
        continue;
      }
      const cc = new CompactControl();
      cc.order = order;
      cc.gfp = gfp;
      cc.zone = z;
      cc.mode = prio === CompactPrio.ASYNC ? MIGRATE_ASYNC : MIGRATE_SYNC_LIGHT;
      cc.allocFlags = allocFlags;
      cc.highestZoneidx = highest;
      cc.directCompaction = true;
      cc.wholeZone = prio === CompactPrio.SYNC_FULL;
      cc.ignoreBlockSuitable = prio === CompactPrio.SYNC_FULL;
      const status = compactZone(vm, cc);
      rc = Math.max(rc, status);
      if (status === CompactResult.SUCCESS) {
        compactionDeferReset(s, z, order, false);
        break;
      }
      if (prio !== CompactPrio.ASYNC && (status === CompactResult.COMPLETE || status === CompactResult.PARTIAL_SKIPPED)) deferCompaction(s, z, order);
    }
  } finally {
    r.inReclaim = false;
  }
  if (rc === CompactResult.SKIPPED) return -1 - rc;
  s.ev.compactStall++;
  const pfn = retry();
  if (pfn >= 0) {
    const z = pa.pageZone(pfn);
    s.blockskipFlush[z] = 0;
    compactionDeferReset(s, z, order, true);
    s.ev.compactSuccess++;
    return pfn;
  }
  s.ev.compactFail++;
  return -1 - rc;
}

/**
 * compact_nodes() for a write of 1 to /proc/sys/vm/compact_memory: every
 * populated zone compacted whole (order -1: until the scanners meet),
 * MIGRATE_SYNC; free pages are taken from movable pageblocks only.
 */
export function compactNodes(vm: Vm): void {
  const pa = vm.k.pageAlloc;
  // lru_add_drain_all() has nothing to do: kmem adds pages to the LRU at once. The pcp lists are not drained.
  for (let z = 0; z < MAX_NR_ZONES; z++) {
    if (!pa.zones.populated(z)) continue;
    const cc = new CompactControl();
    cc.order = -1;
    cc.zone = z;
    cc.mode = MIGRATE_SYNC;
    cc.wholeZone = true;
    cc.gfp = GFP_KERNEL;
    compactZone(vm, cc);
  }
}

/**
 * compaction_suit_allocation_order(): SUCCESS when the order is already
 * free above the watermark alloc_flags names, SKIPPED when compaction is not
 * suitable, else CONTINUE.
 */
function compactionSuitAllocationOrder(vm: Vm, z: number, order: number, highest: number, allocFlags: number): number {
  const pa = vm.k.pageAlloc;
  if (pa.zoneWatermarkOk(z, order, pa.zones.get(z, Z_WMARK + (allocFlags & ALLOC_WMARK_MASK)), highest, allocFlags)) return CompactResult.SUCCESS;
  if (!compactionSuitable(vm, z, order, highest)) return CompactResult.SKIPPED;
  return CompactResult.CONTINUE;
}

/**
 * wakeup_kcompactd(): kswapd asks for `order` (recorded as the node's
 * kcompactd_max_order); kcompactd wakes if some zone would compact for it
 * (kcompactd_node_suitable) and, as kmem runs it, works at once.
 */
export function wakeupKcompactd(vm: Vm, order: number, highest: number): void {
  if (order === 0) return;
  const s = compactState(vm);
  if (s.kcompactdMaxOrder < order) s.kcompactdMaxOrder = order;
  if (s.kcompactdHighestZoneidx > highest) s.kcompactdHighestZoneidx = highest;
  const pa = vm.k.pageAlloc;
  let suitable = false;
  for (let z = 0; z <= s.kcompactdHighestZoneidx && !suitable; z++) {
    if (pa.zones.populated(z) && compactionSuitAllocationOrder(vm, z, s.kcompactdMaxOrder, s.kcompactdHighestZoneidx, 0) === CompactResult.CONTINUE)
      suitable = true;
  }
  if (!suitable) return;
  kcompactdDoWork(vm, s);
  // Back to sleep with the default timeout (the proactive check's timer starts over).
  kcompactdSleep(vm, s, HPAGE_FRAG_CHECK_INTERVAL_MSEC);
}

/**
 * kcompactd_do_work(): compact each zone up to the highest asked for, at
 * the max order asked for, MIGRATE_SYNC_LIGHT, unless deferred or not
 * suitable; a zone that ended without success has its pcp lists drained
 * and is deferred, as sync direct compaction would be. compact_daemon_wake
 * and the daemon's scanned counts.
 */
function kcompactdDoWork(vm: Vm, s: CompactState): void {
  const pa = vm.k.pageAlloc;
  const order = s.kcompactdMaxOrder;
  const highest = s.kcompactdHighestZoneidx;
  s.ev.compactDaemonWake++;
  for (let z = 0; z <= highest; z++) {
    if (!pa.zones.populated(z)) continue;
    if (compactionDeferred(s, z, order)) continue;
    if (compactionSuitAllocationOrder(vm, z, order, z, 0) !== CompactResult.CONTINUE) continue;
    const cc = new CompactControl();
    cc.order = order;
    cc.zone = z;
    cc.highestZoneidx = highest;
    cc.mode = MIGRATE_SYNC_LIGHT;
    cc.gfp = GFP_KERNEL;
    const status = compactZone(vm, cc);
    if (status === CompactResult.SUCCESS) compactionDeferReset(s, z, order, false);
    else if (status === CompactResult.PARTIAL_SKIPPED || status === CompactResult.COMPLETE) {
      for (let cpu = 0; cpu < pa.cpus; cpu++) pa.drainPagesZone(cpu, z);
      deferCompaction(s, z, order);
    }
    s.ev.compactDaemonMigrateScanned += cc.totalMigrateScanned;
    s.ev.compactDaemonFreeScanned += cc.totalFreeScanned;
  }
  if (s.kcompactdMaxOrder <= order) s.kcompactdMaxOrder = 0;
  if (s.kcompactdHighestZoneidx >= highest) s.kcompactdHighestZoneidx = MAX_NR_ZONES - 1;
}

// ───────────────────────── proactive compaction ─────────────────────────

/** COMPACTION_HPAGE_ORDER: HPAGE_PMD_ORDER on x86-64 */
export const COMPACTION_HPAGE_ORDER = 9;
/** HPAGE_FRAG_CHECK_INTERVAL_MSEC: kcompactd's proactive check interval */
export const HPAGE_FRAG_CHECK_INTERVAL_MSEC = 500;

/** vm.compaction_proactiveness */
function proactiveness(vm: Vm): number {
  return vm.k.proc.sysctl.compactionProactiveness;
}

/** kswapd_is_running(): kmem's kswapd runs inside the allocation that wakes it, so: a reclaim in progress. */
function kswapdIsRunning(vm: Vm): boolean {
  return reclaimState(vm).inReclaim;
}

/**
 * fragmentation_score_zone() = extfrag_for_order(zone, 9): the percentage
 * of the zone's free pages that lie in blocks smaller than order 9 (0 when
 * nothing is free).
 */
export function fragmentationScoreZone(vm: Vm, z: number): number {
  const info = fillContigPageInfo(vm.k.pageAlloc, z, COMPACTION_HPAGE_ORDER);
  if (info.freePages === 0) return 0;
  return Math.floor(((info.freePages - info.freeBlocksSuitable * 2 ** COMPACTION_HPAGE_ORDER) * 100) / info.freePages);
}

/** fragmentation_score_node(): the zones' scores, each weighted by present_pages / (node_present_pages + 1). */
export function fragmentationScoreNode(vm: Vm): number {
  const zones = vm.k.pageAlloc.zones;
  let nodePresent = 0;
  for (let z = 0; z < MAX_NR_ZONES; z++) nodePresent += zones.get(z, Z_PRESENT);
  let score = 0;
  for (let z = 0; z < MAX_NR_ZONES; z++) {
    if (!zones.populated(z)) continue;
    score += Math.floor((zones.get(z, Z_PRESENT) * fragmentationScoreZone(vm, z)) / (nodePresent + 1));
  }
  return score;
}

/** fragmentation_score_wmark(): low = max(100 - proactiveness, 5); high = min(low + 10, 100). */
export function fragmentationScoreWmark(vm: Vm, low: boolean): number {
  const wmarkLow = Math.max(100 - proactiveness(vm), 5);
  return low ? wmarkLow : Math.min(wmarkLow + 10, 100);
}

/** should_proactive_compact_node(): proactiveness on, kswapd not running, the node's score above the high mark. */
function shouldProactiveCompactNode(vm: Vm): boolean {
  if (proactiveness(vm) === 0 || kswapdIsRunning(vm)) return false;
  return fragmentationScoreNode(vm) > fragmentationScoreWmark(vm, false);
}

/**
 * proactive_compact_node(): each populated zone compacted whole,
 * MIGRATE_SYNC_LIGHT, until its own score falls to the low mark
 * (__compact_finished's proactive test) or the scanners meet; the scans
 * count as kcompactd's.
 */
function proactiveCompactNode(vm: Vm, s: CompactState): void {
  const pa = vm.k.pageAlloc;
  s.proactiveRuns++;
  for (let z = 0; z < MAX_NR_ZONES; z++) {
    if (!pa.zones.populated(z)) continue;
    const cc = new CompactControl();
    cc.order = -1;
    cc.zone = z;
    cc.mode = MIGRATE_SYNC_LIGHT;
    cc.wholeZone = true;
    cc.gfp = GFP_KERNEL;
    cc.proactiveCompaction = true;
    compactZone(vm, cc);
    s.ev.compactDaemonMigrateScanned += cc.totalMigrateScanned;
    s.ev.compactDaemonFreeScanned += cc.totalFreeScanned;
  }
}

/** kcompactd goes to sleep for `ms` of the virtual clock; with proactiveness 0 it sleeps until woken (MAX_SCHEDULE_TIMEOUT). */
function kcompactdSleep(vm: Vm, s: CompactState, ms: number): void {
  const t = s.kcompactdTimer;
  if (t === null) return;
  const timers = vm.k.timers;
  if (proactiveness(vm) === 0) timers.delTimer(t);
  else timers.modTimer(t, timers.now + ms * 1e6);
}

/**
 * kcompactd's loop after a sleep that timed out or was ended by the
 * proactiveness trigger: the proactive check; a pass that did not lower
 * the node's score sleeps 2^COMPACT_MAX_DEFER_SHIFT times longer.
 */
function kcompactdProactive(vm: Vm, s: CompactState): void {
  let timeout = HPAGE_FRAG_CHECK_INTERVAL_MSEC;
  if (shouldProactiveCompactNode(vm)) {
    const prevScore = fragmentationScoreNode(vm);
    proactiveCompactNode(vm, s);
    if (fragmentationScoreNode(vm) >= prevScore) timeout = HPAGE_FRAG_CHECK_INTERVAL_MSEC * 2 ** COMPACT_MAX_DEFER_SHIFT;
  }
  s.proactiveCompactTrigger = false;
  kcompactdSleep(vm, s, timeout);
}

/** compaction_proactiveness_sysctl_handler(): a non-zero value written wakes kcompactd for the proactive check at once. */
export function proactiveCompactTrigger(vm: Vm): void {
  const s = compactState(vm);
  if (s.proactiveCompactTrigger || proactiveness(vm) === 0) return;
  s.proactiveCompactTrigger = true;
  kcompactdProactive(vm, s);
}

/** Connect compaction to the page allocator's slow path, and start kcompactd's proactive timer. */
export function installCompactionHooks(vm: Vm): void {
  vm.k.pageAlloc.hooks.directCompact = (order, gfp, allocFlags, highest, prio, retry) =>
    allocPagesDirectCompact(vm, order, gfp, allocFlags, highest, prio, retry);
  const s = compactState(vm);
  s.kcompactdTimer = new Timer('kcompactd', () => kcompactdProactive(vm, s));
  kcompactdSleep(vm, s, HPAGE_FRAG_CHECK_INTERVAL_MSEC);
}

/** The compaction and migration vm events by /proc/vmstat name; undefined for others. */
export function compactVmstat(vm: Vm, name: string): number | undefined {
  const ev = compactState(vm).ev;
  switch (name) {
    case 'pgmigrate_success':
      return ev.pgmigrateSuccess;
    case 'pgmigrate_fail':
      return ev.pgmigrateFail;
    case 'compact_migrate_scanned':
      return ev.compactMigrateScanned;
    case 'compact_free_scanned':
      return ev.compactFreeScanned;
    case 'compact_isolated':
      return ev.compactIsolated;
    case 'compact_stall':
      return ev.compactStall;
    case 'compact_fail':
      return ev.compactFail;
    case 'compact_success':
      return ev.compactSuccess;
    case 'compact_daemon_wake':
      return ev.compactDaemonWake;
    case 'compact_daemon_migrate_scanned':
      return ev.compactDaemonMigrateScanned;
    case 'compact_daemon_free_scanned':
      return ev.compactDaemonFreeScanned;
    default:
      return undefined;
  }
}
