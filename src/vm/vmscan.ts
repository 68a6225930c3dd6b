/**
 * Page reclaim (mm/vmscan.c, the classic LRU without MGLRU): shrink_node()
 * → shrink_lruvec() with get_scan_count()'s anon/file balance →
 * shrink_active_list() (aging, folio_referenced) and shrink_inactive_list()
 * → shrink_folio_list() (unmap, write back, free); kswapd's balance_pgdat()
 * and direct reclaim's try_to_free_pages(); shrink_slab() over the
 * registered shrinkers (src/vm/shrinker.ts).
 *
 * When kswapd runs: kmem is single-threaded, so kswapd runs synchronously
 * at the moment the page allocator's slow path wakes it
 * (wakeup_kswapd → one balance_pgdat() to the high watermark), before the
 * woken allocation goes on. The kswapd_*_wmark_hit_quickly counters, which
 * depend on how long kswapd sleeps, stay 0.
 *
 * Reclaim is entered only for allocations of user memory (__GFP_MOVABLE:
 * anonymous pages and the page cache). Kernel allocations (slab pages, page
 * tables, xarray nodes) neither wake kswapd nor reclaim directly: kmem's
 * SLUB and xarray are not written to be re-entered from inside an
 * allocation, as the kernel's are. A flag stands for PF_MEMALLOC: nothing
 * reclaims while reclaim runs.
 *
 * Dirty page-cache pages: as the kernel, reclaim does not write them from
 * direct reclaim; it marks them PG_reclaim and activates them, and wakes
 * the flushers when every page it took was dirty and unqueued
 * (wakeup_flusher_threads): kmem's flusher is synchronous, so every dirty
 * inode is written back at once (filemap's writeback()), and the PG_reclaim
 * pages rotate to the inactive tail. kswapd, once PGDAT_DIRTY is set,
 * writes a PG_reclaim page itself (pageout: one 4 KiB write request).
 */
import { PG } from '../memory/page.js';
import { GFP_KERNEL, Gfp, gfpZone } from '../page_alloc/gfp.js';
import { MAX_NR_ZONES, WMARK_HIGH, Z_BOOST, Z_FREE, Z_MANAGED, Z_WMARK } from '../page_alloc/mmzone.js';
import { MAX_RECLAIM_RETRIES } from '../page_alloc/page_alloc.js';
import { wakeupKcompactd } from './compaction.js';
import { pageCache } from './filemap.js';
import { lruGenSetRefs } from './lru_gen.js';
import { lruGenAgeNode, lruGenShrinkNode } from './lru_gen_reclaim.js';
import {
  folioIsFileLru,
  isActiveLru,
  isFileLru,
  LRU_ACTIVE,
  LRU_ACTIVE_ANON,
  LRU_ACTIVE_FILE,
  LRU_FILE,
  LRU_INACTIVE_ANON,
  LRU_INACTIVE_FILE,
  NR_LRU_LISTS,
  SWAP_CLUSTER_MAX,
} from './mm_inline.js';
import { VM } from './mman.js';
import { folioReferenced, referencedVmFlags, tryToUnmap } from './rmap.js';
import { shmemWriteout } from './shmem.js';
import { shrinkSlab, workingsetNodes } from './shrinker.js';
import { lruAdd, lruNoteCost } from './swap.js';
import { KIND_ANON, KIND_FILE, KIND_SHMEM, type Vm } from './vm.js';
import { workingsetAgeNonresident, workingsetEviction } from './workingset.js';

export const DEF_PRIORITY = 12;
/** MAX_SWAPPINESS */
export const MAX_SWAPPINESS = 200;
/** SWAP_CLUSTER_MAX_SKIPPED */
const SWAP_CLUSTER_MAX_SKIPPED = SWAP_CLUSTER_MAX << 10;
const DEACTIVATE_ANON = 1;
const DEACTIVATE_FILE = 2;

const enum Ref {
  ACTIVATE = 0,
  KEEP = 1,
  RECLAIM = 2,
  RECLAIM_CLEAN = 3,
}

const enum Balance {
  EQUAL = 0,
  FRACT = 1,
  ANON = 2,
  FILE = 3,
}

/** struct scan_control */
export class ScanControl {
  /** shrink_folio_list()'s ignore_references (reclaim_pages: MADV_PAGEOUT) */
  ignoreReferences = false;
  nrToReclaim = 0;
  gfp = 0;
  order = 0;
  priority = DEF_PRIORITY;
  reclaimIdx = MAX_NR_ZONES - 1;
  mayWritepage = true;
  mayUnmap = true;
  maySwap = true;
  mayDeactivate = 0;
  forceDeactivate = false;
  skippedDeactivate = false;
  cacheTrimMode = false;
  cacheTrimModeFailed = false;
  noCacheTrimMode = false;
  fileIsTiny = false;
  anonCost = 0;
  fileCost = 0;
  nrScanned = 0;
  nrReclaimed = 0;
  kswapd = false;
  // sc->nr
  nrDirty = 0;
  nrUnqueuedDirty = 0;
  nrCongested = 0;
  nrWriteback = 0;
  nrImmediate = 0;
  nrTaken = 0;
  nrFileTaken = 0;
}

/** struct reclaim_stat for one shrink_folio_list() */
class ReclaimStat {
  nrDirty = 0;
  nrUnqueuedDirty = 0;
  nrCongested = 0;
  nrWriteback = 0;
  nrImmediate = 0;
  nrPageout = 0;
  nrActivateAnon = 0;
  nrActivateFile = 0;
  nrRefKeep = 0;
  nrUnmapFail = 0;
  reset(): void {
    this.nrDirty = this.nrUnqueuedDirty = this.nrCongested = this.nrWriteback = this.nrImmediate = 0;
    this.nrPageout = this.nrActivateAnon = this.nrActivateFile = this.nrRefKeep = this.nrUnmapFail = 0;
  }
}

/** The node's reclaim state: kswapd's wake-up request and failures, PGDAT_DIRTY, PF_MEMALLOC. */
export class Reclaim {
  /** pgdat->kswapd_order, kswapd_highest_zoneidx (MAX_NR_ZONES = none asked) */
  kswapdOrder = 0;
  kswapdHighestZoneidx = MAX_NR_ZONES;
  /** pgdat->kswapd_failures */
  kswapdFailures = 0;
  /** PGDAT_DIRTY */
  pgdatDirty = false;
  /** PF_MEMALLOC of the task that reclaims (kswapd or a direct reclaimer) */
  inReclaim = false;
  /** balance_pgdat() runs (for tests: how often kswapd woke and worked) */
  kswapdRuns = 0;
  /** the free pages of each zone when kswapd last stopped */
  readonly lastKswapdFree = new Float64Array(MAX_NR_ZONES);
  // Isolation buffers (no allocation per batch).
  readonly hold = new Int32Array(SWAP_CLUSTER_MAX);
  readonly lActive = new Int32Array(SWAP_CLUSTER_MAX);
  readonly lInactive = new Int32Array(SWAP_CLUSTER_MAX);
  readonly skipped = new Int32Array(SWAP_CLUSTER_MAX_SKIPPED);
  readonly stat = new ReclaimStat();
  /** nr[] and targets[] of shrink_lruvec */
  readonly nr = new Float64Array(NR_LRU_LISTS);
  readonly targets = new Float64Array(NR_LRU_LISTS);
  lastNrScanned = 0;
  /** the folios shrink_folio_list() kept (left at the front of its buffer) */
  keptCount = 0;
}

const states = new WeakMap<Vm, Reclaim>();

/** The node's reclaim state (made on first use). */
export function reclaimState(vm: Vm): Reclaim {
  let r = states.get(vm);
  if (r === undefined) {
    r = new Reclaim();
    states.set(vm, r);
  }
  return r;
}

/** vm.swappiness (the sysctl's value, default 60) */
function swappiness(vm: Vm): number {
  return vm.k.proc.sysctl.swappiness ?? 60;
}

/** get_nr_swap_pages(): free swap slots (0 without swap). */
function nrSwapPages(vm: Vm): number {
  return vm.reclaimSwap?.nrFreeSlots() ?? 0;
}

/** can_reclaim_anon_pages() without memcg or demotion: swap has room. */
export function canReclaimAnonPages(vm: Vm): boolean {
  return nrSwapPages(vm) > 0;
}

/** int_sqrt() */
function intSqrt(x: number): number {
  return Math.floor(Math.sqrt(x));
}

/**
 * inactive_is_low(): the inactive list is too small next to the active
 * one; the wanted ratio grows with the square root of the lists' size in
 * GiB (1:1 below 1 GiB, 3:1 at 1 GiB, 10:1 at 10 GiB).
 */
export function inactiveIsLow(vm: Vm, inactiveLru: number): boolean {
  const lv = vm.lruvec;
  const inactive = lv.size(inactiveLru);
  const active = lv.size(inactiveLru + LRU_ACTIVE);
  const gb = Math.floor((inactive + active) / 2 ** (30 - 12));
  const ratio = gb > 0 ? intSqrt(10 * gb) : 1;
  return inactive * ratio < active;
}

/**
 * isolate_lru_folios(): take up to nrToScan folios from the tail of list
 * `lru` into dst (each gets a reference and loses PG_lru); folios of zones
 * above reclaim_idx are skipped (put back at the head, pgskip_*). Sets
 * r.lastNrScanned to the folios looked at; returns the number taken.
 */
function isolateLruFolios(vm: Vm, r: Reclaim, sc: ScanControl, lru: number, nrToScan: number, dst: Int32Array): number {
  const lv = vm.lruvec;
  const p = vm.k.pages;
  const f = p.flags;
  let scan = 0;
  let totalScan = 0;
  let taken = 0;
  let nSkipped = 0;
  let pfn = lv.tail[lru]!;
  while (scan < nrToScan && pfn >= 0) {
    const prev = p.prev[pfn]!;
    totalScan++;
    const zone = vm.k.pageAlloc.pageZone(pfn);
    if (nSkipped < SWAP_CLUSTER_MAX_SKIPPED && zone > sc.reclaimIdx) {
      lv.del(pfn);
      r.skipped[nSkipped++] = pfn;
      vm.lruEv.pgskip[zone]!++;
      pfn = prev;
      continue;
    }
    scan++;
    if (!sc.mayUnmap && p.mapcount[pfn]! > 0) {
      // list_move to the head of its list
      lv.del(pfn);
      lv.add(pfn);
      pfn = prev;
      continue;
    }
    lv.del(pfn);
    f[pfn] = f[pfn]! & ~(1 << PG.lru);
    p.refcount[pfn] = p.refcount[pfn]! + 1;
    dst[taken++] = pfn;
    pfn = prev;
  }
  // list_splice(&folios_skipped, src): the skipped folios go back at the head, in the order they were met.
  for (let i = nSkipped - 1; i >= 0; i--) lv.add(r.skipped[i]!);
  r.lastNrScanned = totalScan;
  if (isFileLru(lru)) vm.lruEv.nrIsolatedFile += taken;
  else vm.lruEv.nrIsolatedAnon += taken;
  return taken;
}

/**
 * move_folios_to_lru(): the isolated folios in buf[0..n) back onto the LRU
 * heads (in that order), each losing the isolation reference; a folio
 * whose last reference that was is freed instead; an mlocked one goes to
 * the unevictable list. Active folios age the workingset clock. Returns
 * the number moved.
 */
export function moveFoliosToLru(vm: Vm, buf: Int32Array, n: number): number {
  const p = vm.k.pages;
  let moved = 0;
  for (let i = 0; i < n; i++) {
    const pfn = buf[i]!;
    if (p.refcount[pfn]! <= 1) {
      // folio_put_testzero(): the isolation reference was the last.
      vm.putPage(pfn);
      continue;
    }
    p.refcount[pfn] = p.refcount[pfn]! - 1;
    lruAdd(vm, pfn);
    moved++;
    if ((p.flags[pfn]! & (1 << PG.active)) !== 0) workingsetAgeNonresident(vm, 1);
  }
  return moved;
}

/**
 * folio_check_references(): what the accessed bits (through rmap) and
 * PG_referenced say of an inactive folio. Mapped folios need two looks
 * (PG_referenced set by the first) or two mappings referencing it to be
 * activated; executable file folios one; an unmapped one referenced through
 * read() is reclaimed only if clean.
 */
function folioCheckReferences(vm: Vm, pfn: number): Ref {
  const f = vm.k.pages.flags;
  const referencedPtes = folioReferenced(vm, pfn);
  const vmFlags = referencedVmFlags;
  // The multi-gen LRU: a second look at a mapped, accessed folio activates it (lru_gen_set_refs).
  if (vm.lruvec.gen !== null) {
    if ((vmFlags & VM.LOCKED) !== 0) return Ref.ACTIVATE;
    if (referencedPtes === 0) return Ref.RECLAIM;
    return lruGenSetRefs(vm, pfn) ? Ref.ACTIVATE : Ref.KEEP;
  }
  const referencedFolio = (f[pfn]! & (1 << PG.referenced)) !== 0;
  f[pfn] = f[pfn]! & ~(1 << PG.referenced);
  if ((vmFlags & VM.LOCKED) !== 0) return Ref.ACTIVATE;
  const file = folioIsFileLru(f[pfn]!);
  if (referencedPtes > 0) {
    f[pfn] = f[pfn]! | (1 << PG.referenced);
    if (referencedFolio || referencedPtes > 1) return Ref.ACTIVATE;
    if ((vmFlags & VM.EXEC) !== 0 && file) return Ref.ACTIVATE;
    return Ref.KEEP;
  }
  if (referencedFolio && file) return Ref.RECLAIM_CLEAN;
  return Ref.RECLAIM;
}

/** pageout() of a page-cache page: its 4 KiB written to the file (one request), clean. Returns false if there is no file. */
function pageoutFile(vm: Vm, pfn: number): boolean {
  const pc = pageCache(vm);
  const ino = vm.pageMapping[pfn]!;
  const inode = vm.fs.byIno(ino);
  if (inode === undefined) return false;
  const index = vm.k.pages.index[pfn]!;
  const as = pc.mapping(ino);
  const from = index * 4096;
  const to = Math.min(from + 4096, inode.data.length);
  if (to > from) inode.data.set(vm.k.phys.u8.subarray(pfn * 4096, pfn * 4096 + (to - from)), from);
  pc.ioUs += pc.bdev.submit('write', ino, index, 1);
  pc.pgpgout += 4;
  const f = vm.k.pages.flags;
  if ((f[pfn]! & (1 << PG.dirty)) !== 0) {
    f[pfn] = f[pfn]! & ~(1 << PG.dirty);
    as.xa.clearMark(index, 0);
    pc.nrDirty--;
  }
  // folio_end_writeback(): PG_reclaim cleared (the folio is isolated, so not rotated).
  f[pfn] = f[pfn]! & ~(1 << PG.reclaim);
  vm.lruEv.nrVmscanWrite++;
  return true;
}

/**
 * wakeup_flusher_threads(WB_REASON_VMSCAN): kmem's flusher writes every
 * inode with dirty pages back at once.
 */
export function wakeupFlusherThreads(vm: Vm): void {
  const pc = pageCache(vm);
  if (pc.nrDirty === 0) return;
  for (const ino of [...pc.spaces.keys()]) {
    const inode = vm.fs.byIno(ino);
    if (inode !== undefined) pc.writeback(inode);
  }
}

/**
 * shrink_folio_list(): try to free each isolated folio in buf[0..n).
 * Those kept are written back to buf[0..kept) (r.keptCount), with
 * PG_active set on those to activate. Returns the pages freed.
 */
export function shrinkFolioList(vm: Vm, r: Reclaim, sc: ScanControl, buf: Int32Array, n: number): number {
  const p = vm.k.pages;
  const f = p.flags;
  const stat = r.stat;
  const swap = vm.reclaimSwap;
  let kept = 0;
  let nrReclaimed = 0;
  for (let i = 0; i < n; i++) {
    const pfn = buf[i]!;
    sc.nrScanned++;
    let v = f[pfn]!;
    let activate = false;
    let free = false;
    let references = Ref.RECLAIM;
    const kind = vm.pageKind[pfn];
    const file = folioIsFileLru(v);
    // folio_trylock(): a folio under I/O (not uptodate yet: readahead is filling it) is locked.
    if ((v & (1 << PG.locked)) !== 0 || (v & (1 << PG.uptodate)) === 0) {
      buf[kept++] = pfn;
      continue;
    }
    page: {
      if ((v & (1 << PG.mlocked)) !== 0) {
        activate = true;
        break page;
      }
      if (!sc.mayUnmap && p.mapcount[pfn]! > 0) break page;
      const dirty = (v & (1 << PG.dirty)) !== 0;
      const writeback = (v & (1 << PG.writeback)) !== 0;
      if (dirty || writeback) stat.nrDirty++;
      if (dirty && !writeback) stat.nrUnqueuedDirty++;
      if (writeback && (v & (1 << PG.reclaim)) !== 0) stat.nrCongested++;
      if (writeback) {
        // Case 2 of the kernel's three: mark it for immediate reclaim and move on.
        f[pfn] = f[pfn]! | (1 << PG.reclaim);
        stat.nrWriteback++;
        activate = true;
        break page;
      }
      if (!sc.ignoreReferences) references = folioCheckReferences(vm, pfn);
      if (references === Ref.ACTIVATE) {
        activate = true;
        break page;
      }
      if (references === Ref.KEEP) {
        stat.nrRefKeep++;
        break page;
      }
      v = f[pfn]!;
      // Anonymous memory needs swap space first (add_to_swap, which dirties the folio).
      if (kind === KIND_ANON && (v & (1 << PG.owner_priv_1)) === 0) {
        if ((sc.gfp & Gfp.IO) === 0) break page;
        if (swap === null || !sc.maySwap || !swap.addToSwap(vm, pfn)) {
          activate = true;
          break page;
        }
      }
      if (p.mapcount[pfn]! > 0) {
        tryToUnmap(vm, pfn, swap);
        if (p.mapcount[pfn]! > 0) {
          stat.nrUnmapFail++;
          activate = true;
          break page;
        }
      }
      v = f[pfn]!;
      if ((v & (1 << PG.dirty)) !== 0) {
        // Only kswapd writes file folios, and only ones seen again with PG_reclaim on a node marked dirty.
        if (file && (!sc.kswapd || (v & (1 << PG.reclaim)) === 0 || !r.pgdatDirty)) {
          vm.lruEv.nrVmscanImmediate++;
          f[pfn] = v | (1 << PG.reclaim);
          activate = true;
          break page;
        }
        if (references === Ref.RECLAIM_CLEAN) break page;
        // may_enter_fs(): __GFP_FS for the page cache (shmem's too), __GFP_IO for swap.
        const shmemPage = kind === KIND_SHMEM && (f[pfn]! & (1 << PG.owner_priv_1)) === 0;
        if ((sc.gfp & (file || shmemPage ? Gfp.FS : Gfp.IO)) === 0) break page;
        if (!sc.mayWritepage) break page;
        if (file) {
          if (!pageoutFile(vm, pfn)) break page;
        } else if (shmemPage) {
          // pageout() -> shmem_writeout(): AOP_WRITEPAGE_ACTIVATE when it cannot swap.
          if (!shmemWriteout(vm, pfn)) {
            activate = true;
            break page;
          }
        } else {
          swap!.swapWritepage(vm, pfn);
        }
        stat.nrPageout++;
        if ((f[pfn]! & ((1 << PG.dirty) | (1 << PG.writeback))) !== 0) break page;
      }
      // __remove_mapping(): only the cache and this isolation may hold the folio.
      if (p.refcount[pfn] !== 2 || (f[pfn]! & (1 << PG.dirty)) !== 0) break page;
      if (kind === KIND_FILE) {
        const pc = pageCache(vm);
        const shadow = workingsetEviction(vm, pfn);
        pc.deleteFolio(pc.mapping(vm.pageMapping[pfn]!), p.index[pfn]!, shadow);
      } else if (kind === KIND_SHMEM && (f[pfn]! & (1 << PG.owner_priv_1)) === 0) {
        // A clean shmem page (never written: zeros) leaves its page cache; no shadow, it is not a file LRU page.
        const pc = pageCache(vm);
        pc.deleteFolio(pc.mapping(vm.pageMapping[pfn]!), p.index[pfn]!);
      } else {
        // The swap cache's reference passes to us (h2's convention): put it, leaving the isolation's.
        // The slot keeps the folio's shadow (__remove_mapping's workingset_eviction for a swap-cache folio).
        swap!.deleteFromSwapCache(vm, pfn, workingsetEviction(vm, pfn));
        vm.putPage(pfn);
      }
      free = true;
    }
    if (free) {
      nrReclaimed++;
      // the isolation reference, now the last one
      vm.putPage(pfn);
      continue;
    }
    if (activate && (f[pfn]! & (1 << PG.mlocked)) === 0) {
      f[pfn] = f[pfn]! | (1 << PG.active);
      if (file) stat.nrActivateFile++;
      else stat.nrActivateAnon++;
    }
    buf[kept++] = pfn;
  }
  vm.lruEv.pgactivate += stat.nrActivateAnon + stat.nrActivateFile;
  r.keptCount = kept;
  return nrReclaimed;
}

/** shrink_inactive_list(): reclaim from the tail of an inactive list. Returns the pages freed. */
function shrinkInactiveList(vm: Vm, r: Reclaim, sc: ScanControl, lru: number, nrToScan: number): number {
  const file = isFileLru(lru);
  const ev = vm.lruEv;
  const buf = r.hold;
  const nrTaken = isolateLruFolios(vm, r, sc, lru, nrToScan, buf);
  const nrScanned = r.lastNrScanned;
  if (sc.kswapd) ev.pgscanKswapd += nrScanned;
  else ev.pgscanDirect += nrScanned;
  if (file) ev.pgscanFile += nrScanned;
  else ev.pgscanAnon += nrScanned;
  if (nrTaken === 0) return 0;
  const stat = r.stat;
  stat.reset();
  const nrReclaimed = shrinkFolioList(vm, r, sc, buf, nrTaken);
  const kept = r.keptCount;
  moveFoliosToLru(vm, buf, kept);
  if (file) ev.nrIsolatedFile -= nrTaken;
  else ev.nrIsolatedAnon -= nrTaken;
  if (sc.kswapd) ev.pgstealKswapd += nrReclaimed;
  else ev.pgstealDirect += nrReclaimed;
  if (file) ev.pgstealFile += nrReclaimed;
  else ev.pgstealAnon += nrReclaimed;
  lruNoteCost(vm, file, stat.nrPageout, nrScanned - nrReclaimed);
  // Every folio taken was dirty and not queued for I/O: the flushers are behind.
  if (stat.nrUnqueuedDirty === nrTaken) wakeupFlusherThreads(vm);
  sc.nrDirty += stat.nrDirty;
  sc.nrCongested += stat.nrCongested;
  sc.nrUnqueuedDirty += stat.nrUnqueuedDirty;
  sc.nrWriteback += stat.nrWriteback;
  sc.nrImmediate += stat.nrImmediate;
  sc.nrTaken += nrTaken;
  if (file) sc.nrFileTaken += nrTaken;
  return nrReclaimed;
}

/**
 * shrink_active_list(): age the tail of an active list. Referenced
 * executable file folios get another trip around the active list; every
 * other folio goes to the inactive list, PG_active cleared and
 * PG_workingset set (pgrefill, pgdeactivate).
 */
function shrinkActiveList(vm: Vm, r: Reclaim, sc: ScanControl, lru: number, nrToScan: number): void {
  const file = isFileLru(lru);
  const f = vm.k.pages.flags;
  const ev = vm.lruEv;
  const hold = r.hold;
  const nrTaken = isolateLruFolios(vm, r, sc, lru, nrToScan, hold);
  ev.pgrefill += r.lastNrScanned;
  let nActive = 0;
  let nInactive = 0;
  let nrRotated = 0;
  for (let i = 0; i < nrTaken; i++) {
    const pfn = hold[i]!;
    if ((f[pfn]! & (1 << PG.mlocked)) !== 0) {
      // folio_putback_lru(): to the unevictable list.
      r.lActive[nActive++] = pfn;
      continue;
    }
    if (folioReferenced(vm, pfn) !== 0 && (referencedVmFlags & VM.EXEC) !== 0 && folioIsFileLru(f[pfn]!)) {
      nrRotated++;
      r.lActive[nActive++] = pfn;
      continue;
    }
    f[pfn] = (f[pfn]! & ~(1 << PG.active)) | (1 << PG.workingset);
    r.lInactive[nInactive++] = pfn;
  }
  moveFoliosToLru(vm, r.lActive, nActive);
  const nrDeactivate = moveFoliosToLru(vm, r.lInactive, nInactive);
  ev.pgdeactivate += nrDeactivate;
  if (file) ev.nrIsolatedFile -= nrTaken;
  else ev.nrIsolatedAnon -= nrTaken;
  if (nrRotated > 0) lruNoteCost(vm, file, 0, nrRotated);
}

/** shrink_list() */
function shrinkList(vm: Vm, r: Reclaim, sc: ScanControl, lru: number, nrToScan: number): number {
  if (isActiveLru(lru)) {
    if ((sc.mayDeactivate & (isFileLru(lru) ? DEACTIVATE_FILE : DEACTIVATE_ANON)) !== 0) shrinkActiveList(vm, r, sc, lru, nrToScan);
    else sc.skippedDeactivate = true;
    return 0;
  }
  return shrinkInactiveList(vm, r, sc, lru, nrToScan);
}

/**
 * get_scan_count(): how many folios of each evictable list to scan at this
 * priority: each list's size >> priority, all file when swap is full or
 * absent (or anon is not to be swapped), all file in cache-trim mode, all
 * anon when the file lists are tiny, in proportion to the lists at priority
 * 0, otherwise split by swappiness against the types' reclaim costs.
 */
function getScanCount(vm: Vm, sc: ScanControl, nr: Float64Array): void {
  const sw = swappiness(vm);
  let balance: Balance;
  let fa = 0;
  let ff = 0;
  let denominator = 1;
  if (!sc.maySwap || !canReclaimAnonPages(vm)) balance = Balance.FILE;
  else if (sc.priority === 0 && sw !== 0) balance = Balance.EQUAL;
  else if (sc.fileIsTiny) balance = Balance.ANON;
  else if (sc.cacheTrimMode) balance = Balance.FILE;
  else {
    balance = Balance.FRACT;
    // calculate_pressure_balance()
    let totalCost = sc.anonCost + sc.fileCost;
    const anonCost = totalCost + sc.anonCost;
    const fileCost = totalCost + sc.fileCost;
    totalCost = anonCost + fileCost;
    fa = Math.floor((sw * (totalCost + 1)) / (anonCost + 1));
    ff = Math.floor(((MAX_SWAPPINESS - sw) * (totalCost + 1)) / (fileCost + 1));
    denominator = fa + ff;
  }
  for (let lru = 0; lru < LRU_ACTIVE_FILE + 1; lru++) {
    const file = isFileLru(lru);
    let scan = Math.floor(vm.lruvec.sizeUpTo(lru, sc.reclaimIdx) / 2 ** sc.priority);
    if (balance === Balance.FRACT) scan = Math.floor((scan * (file ? ff : fa)) / denominator);
    else if (balance === Balance.FILE || balance === Balance.ANON) {
      if ((balance === Balance.FILE) !== file) scan = 0;
    }
    nr[lru] = scan;
  }
}

/** shrink_lruvec(): scan the lists in SWAP_CLUSTER_MAX batches until get_scan_count's targets (or nr_to_reclaim) are met. */
function shrinkLruvec(vm: Vm, r: Reclaim, sc: ScanControl): void {
  const nr = r.nr;
  const targets = r.targets;
  getScanCount(vm, sc, nr);
  targets.set(nr);
  const proportionalReclaim = !sc.kswapd && sc.priority === DEF_PRIORITY;
  let nrReclaimed = 0;
  const nrToReclaim = sc.nrToReclaim;
  while (nr[LRU_INACTIVE_ANON]! > 0 || nr[LRU_ACTIVE_FILE]! > 0 || nr[LRU_INACTIVE_FILE]! > 0) {
    for (let lru = 0; lru <= LRU_ACTIVE_FILE; lru++) {
      if (nr[lru]! > 0) {
        const nrToScan = Math.min(nr[lru]!, SWAP_CLUSTER_MAX);
        nr[lru] = nr[lru]! - nrToScan;
        nrReclaimed += shrinkList(vm, r, sc, lru, nrToScan);
      }
    }
    if (nrReclaimed < nrToReclaim || proportionalReclaim) continue;
    // Reclaimed enough: scan the other type only in proportion to what was asked of it.
    const nrFile = nr[LRU_INACTIVE_FILE]! + nr[LRU_ACTIVE_FILE]!;
    const nrAnon = nr[LRU_INACTIVE_ANON]! + nr[LRU_ACTIVE_ANON]!;
    if (nrFile === 0 || nrAnon === 0) break;
    let lru: number;
    let percentage: number;
    if (nrFile > nrAnon) {
      const scanTarget = targets[LRU_INACTIVE_ANON]! + targets[LRU_ACTIVE_ANON]! + 1;
      lru = 0;
      percentage = Math.floor((nrAnon * 100) / scanTarget);
    } else {
      const scanTarget = targets[LRU_INACTIVE_FILE]! + targets[LRU_ACTIVE_FILE]! + 1;
      lru = LRU_FILE;
      percentage = Math.floor((nrFile * 100) / scanTarget);
    }
    nr[lru] = 0;
    nr[lru + LRU_ACTIVE] = 0;
    lru = lru === LRU_FILE ? 0 : LRU_FILE;
    for (const l of [lru, lru + LRU_ACTIVE]) {
      const scanned = targets[l]! - nr[l]!;
      let n = Math.floor((targets[l]! * (100 - percentage)) / 100);
      n -= Math.min(n, scanned);
      nr[l] = n;
    }
  }
  sc.nrReclaimed += nrReclaimed;
  // Rebalance the anon lists even when anon was not scanned.
  if (canReclaimAnonPages(vm) && inactiveIsLow(vm, LRU_INACTIVE_ANON)) shrinkActiveList(vm, r, sc, LRU_ACTIVE_ANON, SWAP_CLUSTER_MAX);
}

/** prepare_scan_control(): the costs, which active lists may be deactivated, cache-trim mode and the tiny-file test. */
function prepareScanControl(vm: Vm, sc: ScanControl): void {
  const lv = vm.lruvec;
  const ev = vm.lruEv;
  sc.anonCost = lv.anonCost;
  sc.fileCost = lv.fileCost;
  if (!sc.forceDeactivate) {
    if (ev.workingsetActivateAnon !== lv.refaultsAnon || inactiveIsLow(vm, LRU_INACTIVE_ANON)) sc.mayDeactivate |= DEACTIVATE_ANON;
    else sc.mayDeactivate &= ~DEACTIVATE_ANON;
    if (ev.workingsetActivateFile !== lv.refaultsFile || inactiveIsLow(vm, LRU_INACTIVE_FILE)) sc.mayDeactivate |= DEACTIVATE_FILE;
    else sc.mayDeactivate &= ~DEACTIVATE_FILE;
  } else sc.mayDeactivate = DEACTIVATE_ANON | DEACTIVATE_FILE;
  const inactiveFile = lv.size(LRU_INACTIVE_FILE);
  sc.cacheTrimMode = Math.floor(inactiveFile / 2 ** sc.priority) > 0 && (sc.mayDeactivate & DEACTIVATE_FILE) === 0 && !sc.noCacheTrimMode;
  // The cache trap: file LRU and free pages below the high watermarks, anon not low too.
  const zones = vm.k.pageAlloc.zones;
  let free = 0;
  let totalHigh = 0;
  for (let z = 0; z < MAX_NR_ZONES; z++) {
    if (zones.get(z, Z_MANAGED) === 0) continue;
    free += zones.get(z, Z_FREE);
    totalHigh += zones.get(z, Z_WMARK + WMARK_HIGH);
  }
  const file = lv.size(LRU_ACTIVE_FILE) + inactiveFile;
  const anon = lv.size(LRU_INACTIVE_ANON);
  sc.fileIsTiny = file + free <= totalHigh && (sc.mayDeactivate & DEACTIVATE_ANON) === 0 && Math.floor(anon / 2 ** sc.priority) > 0;
}

/** shrink_node(): the LRU lists and the slab caches of the node, once at this priority. */
function shrinkNode(vm: Vm, r: Reclaim, sc: ScanControl): void {
  sc.nrDirty = sc.nrUnqueuedDirty = sc.nrCongested = sc.nrWriteback = sc.nrImmediate = sc.nrTaken = sc.nrFileTaken = 0;
  if (vm.lruvec.gen !== null) {
    lruGenShrinkNode(vm, r, sc);
    return;
  }
  const nrReclaimed = sc.nrReclaimed;
  prepareScanControl(vm, sc);
  shrinkLruvec(vm, r, sc);
  shrinkSlab(vm, sc.gfp, sc.priority);
  const nrNodeReclaimed = sc.nrReclaimed - nrReclaimed;
  if (sc.kswapd) {
    // Allow kswapd to write pages itself once every file page it took was dirty and unqueued.
    if (sc.nrUnqueuedDirty > 0 && sc.nrUnqueuedDirty === sc.nrFileTaken) r.pgdatDirty = true;
  }
  if (nrNodeReclaimed > 0) r.kswapdFailures = 0;
  else if (sc.cacheTrimMode) sc.cacheTrimModeFailed = true;
}

/** snapshot_refaults(): remember the refault activations seen, for prepare_scan_control's next test. */
function snapshotRefaults(vm: Vm): void {
  vm.lruvec.refaultsAnon = vm.lruEv.workingsetActivateAnon;
  vm.lruvec.refaultsFile = vm.lruEv.workingsetActivateFile;
}

/**
 * pgdat_balanced(): some zone up to highestZoneidx (checked bottom up)
 * meets its high watermark for the order; a node with no managed zone
 * there needs no balancing.
 */
export function pgdatBalanced(vm: Vm, order: number, highestZoneidx: number): boolean {
  const pa = vm.k.pageAlloc;
  const zones = pa.zones;
  let any = false;
  for (let z = 0; z <= highestZoneidx && z < MAX_NR_ZONES; z++) {
    if (zones.get(z, Z_MANAGED) === 0) continue;
    any = true;
    const mark = zones.get(z, Z_WMARK + WMARK_HIGH);
    if (pa.zoneWatermarkOk(z, order, mark, highestZoneidx, 0)) return true;
  }
  return !any;
}

/** pgdat_watermark_boosted() */
function pgdatWatermarkBoosted(vm: Vm, highestZoneidx: number): boolean {
  const zones = vm.k.pageAlloc.zones;
  for (let z = highestZoneidx; z >= 0; z--) if (zones.get(z, Z_MANAGED) > 0 && zones.get(z, Z_BOOST) > 0) return true;
  return false;
}

/** kswapd_age_node(): with swap, age the active anon list when the inactive one is low. */
function kswapdAgeNode(vm: Vm, r: Reclaim, sc: ScanControl): void {
  if (vm.lruvec.gen !== null) {
    lruGenAgeNode(vm, sc);
    return;
  }
  if (!canReclaimAnonPages(vm)) return;
  if (!inactiveIsLow(vm, LRU_INACTIVE_ANON)) return;
  shrinkActiveList(vm, r, sc, LRU_ACTIVE_ANON, SWAP_CLUSTER_MAX);
}

/** kswapd_shrink_node(): reclaim the sum of the zones' high watermarks; true if enough was scanned at this priority. */
function kswapdShrinkNode(vm: Vm, r: Reclaim, sc: ScanControl): boolean {
  const zones = vm.k.pageAlloc.zones;
  const nrReclaimed = sc.nrReclaimed;
  sc.nrToReclaim = 0;
  for (let z = 0; z <= sc.reclaimIdx && z < MAX_NR_ZONES; z++) {
    if (zones.get(z, Z_MANAGED) === 0) continue;
    sc.nrToReclaim += Math.max(zones.get(z, Z_WMARK + WMARK_HIGH), SWAP_CLUSTER_MAX);
  }
  shrinkNode(vm, r, sc);
  // compact_gap(order) = 2 << order
  if (sc.order > 0 && sc.nrReclaimed >= 2 << sc.order) sc.order = 0;
  return Math.max(sc.nrScanned, sc.nrReclaimed - nrReclaimed) >= sc.nrToReclaim;
}

/**
 * balance_pgdat(): kswapd's work. From DEF_PRIORITY down, reclaim until
 * the node is balanced (a zone above its high watermark), raising the
 * priority when a pass scanned too little or freed nothing. A pass that
 * frees nothing at all counts a kswapd failure. Returns the order reached.
 */
function balancePgdat(vm: Vm, r: Reclaim, order: number, highestZoneidx: number): number {
  const sc = new ScanControl();
  sc.gfp = Gfp.IO | Gfp.FS | Gfp.DIRECT_RECLAIM | Gfp.KSWAPD_RECLAIM;
  sc.order = order;
  sc.mayUnmap = true;
  sc.kswapd = true;
  vm.lruEv.pageoutrun++;
  r.kswapdRuns++;
  const zones = vm.k.pageAlloc.zones;
  let nrBoostReclaim = 0;
  for (let z = 0; z <= highestZoneidx && z < MAX_NR_ZONES; z++) if (zones.get(z, Z_MANAGED) > 0) nrBoostReclaim += zones.get(z, Z_BOOST);
  let balancedOut = false;
  for (;;) {
    // restart:
    sc.priority = DEF_PRIORITY;
    do {
      const nrReclaimedBefore = sc.nrReclaimed;
      let raisePriority = true;
      sc.reclaimIdx = highestZoneidx;
      const balanced = pgdatBalanced(vm, sc.order, highestZoneidx);
      if (!balanced && nrBoostReclaim > 0) {
        nrBoostReclaim = 0;
        sc.priority = DEF_PRIORITY;
        continue;
      }
      if (nrBoostReclaim === 0 && balanced) {
        balancedOut = true;
        break;
      }
      if (nrBoostReclaim > 0 && sc.priority === DEF_PRIORITY - 2) raisePriority = false;
      sc.mayWritepage = nrBoostReclaim === 0;
      sc.maySwap = nrBoostReclaim === 0;
      kswapdAgeNode(vm, r, sc);
      if (sc.priority < DEF_PRIORITY - 2) sc.mayWritepage = true;
      sc.nrScanned = 0;
      if (kswapdShrinkNode(vm, r, sc)) raisePriority = false;
      const nrReclaimed = sc.nrReclaimed - nrReclaimedBefore;
      nrBoostReclaim -= Math.min(nrBoostReclaim, nrReclaimed);
      if (nrBoostReclaim > 0 && nrReclaimed === 0) break;
      if (raisePriority || nrReclaimed === 0) sc.priority--;
    } while (sc.priority >= 1);
    if (!balancedOut && sc.nrReclaimed === 0 && sc.priority < 1 && !sc.noCacheTrimMode && sc.cacheTrimModeFailed) {
      sc.noCacheTrimMode = true;
      continue;
    }
    break;
  }
  if (!balancedOut && sc.nrReclaimed === 0) r.kswapdFailures++;
  // A balanced node forgets PGDAT_DIRTY (clear_pgdat_congested).
  if (balancedOut) r.pgdatDirty = false;
  snapshotRefaults(vm);
  for (let z = 0; z < MAX_NR_ZONES; z++) r.lastKswapdFree[z] = zones.get(z, Z_FREE);
  return sc.order;
}

/**
 * wakeup_kswapd(): record the order and zone asked for; unless the node
 * is hopeless (MAX_RECLAIM_RETRIES failed runs) or already balanced (and
 * not boosted), kswapd runs: here, at once (see the file's comment). A
 * hopeless or balanced node wakes kcompactd instead for a high-order
 * request that may not reclaim (nor so compact) itself, of any type.
 */
export function wakeupKswapd(vm: Vm, order: number, gfp: number, highestZoneidx: number): void {
  const r = reclaimState(vm);
  if (r.kswapdHighestZoneidx === MAX_NR_ZONES || r.kswapdHighestZoneidx < highestZoneidx) r.kswapdHighestZoneidx = highestZoneidx;
  if (r.kswapdOrder < order) r.kswapdOrder = order;
  const movable = (gfp & Gfp.MOVABLE) !== 0;
  if (r.inReclaim || (!movable && order === 0)) return;
  if (r.kswapdFailures >= MAX_RECLAIM_RETRIES || (pgdatBalanced(vm, order, highestZoneidx) && !pgdatWatermarkBoosted(vm, highestZoneidx))) {
    // Free memory may be plentiful but too fragmented: kcompactd, for a request that cannot compact itself.
    if (order > 0 && (gfp & Gfp.DIRECT_RECLAIM) === 0) wakeupKcompactd(vm, order, highestZoneidx);
    return;
  }
  if (!movable) return;
  kswapdRun(vm, r);
}

/** One round of kswapd(): take the request, balance the node. */
function kswapdRun(vm: Vm, r: Reclaim): void {
  const order = r.kswapdOrder;
  const highest = r.kswapdHighestZoneidx === MAX_NR_ZONES ? MAX_NR_ZONES - 1 : r.kswapdHighestZoneidx;
  r.kswapdOrder = 0;
  r.kswapdHighestZoneidx = MAX_NR_ZONES;
  r.inReclaim = true;
  let reclaimOrder: number;
  try {
    reclaimOrder = balancePgdat(vm, r, order, highest);
  } finally {
    r.inReclaim = false;
  }
  // kswapd_try_to_sleep(): a node balanced at the order reclaim reached (or hopeless) lets kswapd sleep, and
  // kcompactd is woken to make the order the allocation asked for.
  if (r.kswapdFailures >= MAX_RECLAIM_RETRIES || pgdatBalanced(vm, reclaimOrder, highest)) wakeupKcompactd(vm, order, highest);
}

/**
 * try_to_free_pages() → do_try_to_free_pages(): direct reclaim of
 * SWAP_CLUSTER_MAX pages from DEF_PRIORITY down (allocstall_* counted for
 * the request's zone); if nothing was freed because active lists were
 * spared, once more with forced deactivation. Returns the pages freed, -1
 * when the caller is already reclaiming or may not (see the file's comment).
 */
export function tryToFreePages(vm: Vm, order: number, gfp: number): number {
  const r = reclaimState(vm);
  if (r.inReclaim || (gfp & Gfp.MOVABLE) === 0) return -1;
  const sc = new ScanControl();
  sc.nrToReclaim = SWAP_CLUSTER_MAX;
  sc.gfp = gfp;
  sc.reclaimIdx = gfpZone(gfp);
  sc.order = order;
  sc.priority = DEF_PRIORITY;
  sc.mayWritepage = true;
  sc.mayUnmap = true;
  sc.maySwap = true;
  r.inReclaim = true;
  try {
    const initialPriority = sc.priority;
    for (;;) {
      vm.lruEv.allocstall[sc.reclaimIdx]!++;
      do {
        sc.nrScanned = 0;
        shrinkNode(vm, r, sc);
        if (sc.nrReclaimed >= sc.nrToReclaim) break;
        if (sc.priority < DEF_PRIORITY - 2) sc.mayWritepage = true;
      } while (--sc.priority >= 0);
      snapshotRefaults(vm);
      if (sc.nrReclaimed > 0) return sc.nrReclaimed;
      if (sc.skippedDeactivate) {
        sc.priority = initialPriority;
        sc.forceDeactivate = true;
        sc.skippedDeactivate = false;
        continue;
      }
      return 0;
    }
  } finally {
    r.inReclaim = false;
  }
}

/**
 * reclaim_pages() (MADV_PAGEOUT): the folios in pfns, each taken off its
 * LRU list by the caller (folio_isolate_lru: PG_lru cleared, a reference
 * held), go through shrink_folio_list() with ignore_references, in batches
 * of SWAP_CLUSTER_MAX (kmem's one node); those kept go back to the LRU
 * (folio_putback_lru). Returns the pages freed.
 */
export function reclaimPages(vm: Vm, pfns: readonly number[]): number {
  const r = reclaimState(vm);
  const sc = new ScanControl();
  sc.gfp = GFP_KERNEL;
  sc.mayWritepage = true;
  sc.mayUnmap = true;
  sc.maySwap = true;
  sc.ignoreReferences = true;
  const buf = r.hold;
  const wasInReclaim = r.inReclaim;
  // memalloc_noreclaim_save(): PF_MEMALLOC while reclaiming
  r.inReclaim = true;
  let freed = 0;
  try {
    for (let at = 0; at < pfns.length; at += SWAP_CLUSTER_MAX) {
      const n = Math.min(SWAP_CLUSTER_MAX, pfns.length - at);
      for (let i = 0; i < n; i++) buf[i] = pfns[at + i]!;
      r.stat.reset();
      freed += shrinkFolioList(vm, r, sc, buf, n);
      moveFoliosToLru(vm, buf, r.keptCount);
    }
  } finally {
    r.inReclaim = wasInReclaim;
  }
  return freed;
}

/** zone_reclaimable_pages(): the zone's file LRU pages, and its anon ones while swap has room. */
export function zoneReclaimablePages(vm: Vm, zone: number): number {
  const nz = vm.lruvec.nrZone;
  const b = zone * NR_LRU_LISTS;
  let n = nz[b + LRU_INACTIVE_FILE]! + nz[b + LRU_ACTIVE_FILE]!;
  if (canReclaimAnonPages(vm)) n += nz[b + LRU_INACTIVE_ANON]! + nz[b + LRU_ACTIVE_ANON]!;
  return n;
}

/** Connect reclaim to the page allocator's slow path (the PageAllocHooks it calls up through). */
export function installReclaimHooks(vm: Vm): void {
  const hooks = vm.k.pageAlloc.hooks;
  hooks.wakeKswapd = (order, gfp, highest) => wakeupKswapd(vm, order, gfp, highest);
  hooks.directReclaim = (order, gfp) => tryToFreePages(vm, order, gfp);
  hooks.zoneReclaimablePages = (zone) => zoneReclaimablePages(vm, zone);
}

const ZONE_SUFFIX = ['dma', 'dma32', 'normal', 'movable', 'device'];
const LRU_NAMES = ['inactive_anon', 'active_anon', 'inactive_file', 'active_file', 'unevictable'];

/**
 * The /proc/vmstat and /proc/zoneinfo values the LRU, reclaim and
 * workingset code keeps: a zone item of zone `zone` (>= 0), or a node item
 * or event (zone -1); undefined for names it does not own.
 */
export function lruVmstat(vm: Vm, name: string, zone: number): number | undefined {
  const ev = vm.lruEv;
  const lv = vm.lruvec;
  if (zone >= 0) {
    if (name.startsWith('nr_zone_')) {
      const l = LRU_NAMES.indexOf(name.slice(8));
      return l >= 0 ? lv.nrZone[zone * NR_LRU_LISTS + l]! : undefined;
    }
    if (name === 'nr_mlock') return ev.nrMlock[zone]!;
    return undefined;
  }
  if (name.startsWith('nr_') && LRU_NAMES.includes(name.slice(3))) return lv.size(LRU_NAMES.indexOf(name.slice(3)));
  if (name.startsWith('allocstall_')) return ev.allocstall[ZONE_SUFFIX.indexOf(name.slice(11))] ?? 0;
  if (name.startsWith('pgskip_')) return ev.pgskip[ZONE_SUFFIX.indexOf(name.slice(7))] ?? 0;
  switch (name) {
    case 'nr_isolated_anon':
      return ev.nrIsolatedAnon;
    case 'nr_isolated_file':
      return ev.nrIsolatedFile;
    case 'workingset_nodes':
      return workingsetNodes(vm);
    case 'workingset_refault_anon':
      return ev.workingsetRefaultAnon;
    case 'workingset_refault_file':
      return ev.workingsetRefaultFile;
    case 'workingset_activate_anon':
      return ev.workingsetActivateAnon;
    case 'workingset_activate_file':
      return ev.workingsetActivateFile;
    case 'workingset_restore_anon':
      return ev.workingsetRestoreAnon;
    case 'workingset_restore_file':
      return ev.workingsetRestoreFile;
    case 'workingset_nodereclaim':
      return ev.workingsetNodereclaim;
    case 'nr_vmscan_write':
      return ev.nrVmscanWrite;
    case 'nr_vmscan_immediate_reclaim':
      return ev.nrVmscanImmediate;
    case 'pgactivate':
      return ev.pgactivate;
    case 'pgdeactivate':
      return ev.pgdeactivate;
    case 'pgrefill':
      return ev.pgrefill;
    case 'pgsteal_kswapd':
      return ev.pgstealKswapd;
    case 'pgsteal_direct':
      return ev.pgstealDirect;
    case 'pgscan_kswapd':
      return ev.pgscanKswapd;
    case 'pgscan_proactive':
      return ev.pgscanProactive;
    case 'pgsteal_proactive':
      return ev.pgstealProactive;
    case 'pgscan_direct':
      return ev.pgscanDirect;
    case 'pgscan_anon':
      return ev.pgscanAnon;
    case 'pgscan_file':
      return ev.pgscanFile;
    case 'pgsteal_anon':
      return ev.pgstealAnon;
    case 'pgsteal_file':
      return ev.pgstealFile;
    case 'pageoutrun':
      return ev.pageoutrun;
    case 'pgrotated':
      return ev.pgrotated;
    case 'slabs_scanned':
      return ev.slabsScanned;
    case 'kswapd_low_wmark_hit_quickly':
      return ev.kswapdLowWmarkHitQuickly;
    case 'kswapd_high_wmark_hit_quickly':
      return ev.kswapdHighWmarkHitQuickly;
    case 'unevictable_pgs_culled':
      return ev.unevictablePgsCulled;
    case 'unevictable_pgs_mlocked':
      return ev.unevictablePgsMlocked;
    case 'unevictable_pgs_rescued':
      return ev.unevictablePgsRescued;
    case 'unevictable_pgs_munlocked':
      return ev.unevictablePgsMunlocked;
    case 'node_unreclaimable':
      // kswapd_test_hopeless()
      return reclaimState(vm).kswapdFailures >= MAX_RECLAIM_RETRIES ? 1 : 0;
    default:
      return undefined;
  }
}
