/**
 * The multi-gen LRU's eviction (mm/vmscan.c: lru_gen_shrink_node,
 * try_to_shrink_lruvec, get_nr_to_scan, should_run_aging, evict_folios,
 * isolate_folios, scan_folios, sort_folio, isolate_folio, get_type_to_scan,
 * get_tier_idx) and kswapd's lru_gen_age_node (min_ttl_ms).
 *
 * Reclaim scans the oldest generation of one type, chosen by comparing the
 * two types' refault rates weighed by swappiness (a PID controller: the
 * set point is anon, the process variable file). Within it, folios read
 * through file descriptors more often than the tier the controller allows
 * (get_tier_idx: tiers whose refault rate is no higher than tier 0's, with
 * a 2:3 margin) are protected into the next generation; the rest are
 * isolated and go through shrink_folio_list(), shared with the classic
 * LRU. When the oldest generations empty, min_seq moves; when only
 * MIN_NR_GENS are left, aging opens a new youngest one.
 */
import { PG } from '../memory/page.js';
import { GFP_KERNEL, Gfp } from '../page_alloc/gfp.js';
import { MAX_NR_ZONES, WMARK_HIGH, Z_MANAGED, Z_WMARK } from '../page_alloc/mmzone.js';
import {
  type CtrlPos,
  folioLruGen,
  folioLruRefs,
  LRU_GEN_ANON,
  LRU_GEN_FILE,
  LRU_REFS_FLAGS,
  LRU_REFS_MASK,
  LRU_REFS_WIDTH,
  type LruGen,
  lruGenFromSeq,
  lruGenOf,
  lruTierFromRefs,
  MAX_LRU_BATCH,
  MAX_NR_GENS,
  MAX_NR_TIERS,
  MIN_LRU_BATCH,
  MIN_NR_GENS,
  positiveCtrlErr,
} from './lru_gen.js';
import { folioIsFileLru, LRU_INACTIVE_ANON, LRU_INACTIVE_FILE } from './mm_inline.js';
import { outOfMemory } from './oom_kill.js';
import { shrinkSlab } from './shrinker.js';
import { folioEvictable } from './swap.js';
import { KIND_ANON, type Vm } from './vm.js';
import {
  canReclaimAnonPages,
  DEF_PRIORITY,
  MAX_SWAPPINESS,
  moveFoliosToLru,
  type Reclaim,
  reclaimState,
  ScanControl,
  shrinkFolioList,
  wakeupFlusherThreads,
} from './vmscan.js';

const EINVAL = 22;
const ERANGE = 34;

const LRU = 1 << PG.lru;
const ACTIVE = 1 << PG.active;
const REFERENCED = 1 << PG.referenced;
const WORKINGSET = 1 << PG.workingset;
const UNEVICTABLE = 1 << PG.unevictable;
const RECLAIM = 1 << PG.reclaim;
const DIRTY = 1 << PG.dirty;
const WRITEBACK = 1 << PG.writeback;
const SWAPCACHE = 1 << PG.owner_priv_1;

/**
 * The batch of isolated folios (at most MIN_LRU_BATCH), those kept, the
 * clean ones retried, and a zone's skipped ones. Sized with a literal, and
 * the controller positions plain objects: this module is evaluated inside
 * the src/vm import cycle (lru_gen -> memory -> ... -> vmscan -> here),
 * where lru_gen.ts's exports may not be initialized yet.
 */
const BATCH = 64;
const isolated = new Int32Array(BATCH);
const keep = new Int32Array(BATCH);
const skipped = new Int32Array(BATCH);
const sp: CtrlPos = { refaulted: 0, total: 0, gain: 0 };
const pv: CtrlPos = { refaulted: 0, total: 0, gain: 0 };
/** What the last isolate_folios() took: the count, and the type. */
let nrIsolated = 0;
let typeScanned = 0;
/** should_run_aging()'s *nr_to_scan */
let agingNrToScan = 0;
/** sc->proactive: the debugfs '-' command reclaims (counted as pgscan_proactive / pgsteal_proactive) */
let proactive = false;

/** get_swappiness(): 0 (file only) when the reclaim may not swap or swap has less than MIN_LRU_BATCH free slots. */
export function getSwappiness(vm: Vm, sc: ScanControl): number {
  if (!sc.maySwap) return 0;
  if ((vm.reclaimSwap?.nrFreeSlots() ?? 0) < MIN_LRU_BATCH) return 0;
  return vm.k.proc.sysctl.swappiness ?? 60;
}

/**
 * get_type_to_scan(): file at swappiness 0 or 1, anon at MAX_SWAPPINESS;
 * otherwise file if its refault rate over all tiers, weighed by
 * MAX_SWAPPINESS - swappiness, is within anon's weighed by swappiness.
 */
export function getTypeToScan(g: LruGen, swappiness: number): number {
  if (swappiness <= 1) return LRU_GEN_FILE;
  if (swappiness >= MAX_SWAPPINESS) return LRU_GEN_ANON;
  g.ctrlPos(LRU_GEN_ANON, MAX_NR_TIERS, swappiness, sp);
  g.ctrlPos(LRU_GEN_FILE, MAX_NR_TIERS, MAX_SWAPPINESS - swappiness, pv);
  return positiveCtrlErr(sp, pv) ? LRU_GEN_FILE : LRU_GEN_ANON;
}

/**
 * get_tier_idx(): the highest tier to evict: tiers 1.. are evicted while
 * their refault rate stays within tier 0's (gains 2:3, a margin for
 * noise); the first above it, and every tier past it, is protected.
 */
export function getTierIdx(g: LruGen, type: number): number {
  g.ctrlPos(type, 0, 2, sp);
  let tier = 1;
  for (; tier < MAX_NR_TIERS; tier++) {
    g.ctrlPos(type, tier, 3, pv);
    if (!positiveCtrlErr(sp, pv)) break;
  }
  return tier - 1;
}

/**
 * sort_folio(): true if the folio at the oldest generation's tail was
 * moved instead of being isolated: to the unevictable list (mlocked), to
 * the generation aging promoted it to, to the next generation when its
 * tier is protected, when its zone is above reclaim_idx, or when it waits
 * for writeback (a dirty file folio, with PG_reclaim).
 */
function sortFolio(vm: Vm, g: LruGen, sc: ScanControl, pfn: number, tierIdx: number): boolean {
  const f = vm.k.pages.flags;
  const v = f[pfn]!;
  const gen = folioLruGen(v);
  const type = folioIsFileLru(v) ? LRU_GEN_FILE : LRU_GEN_ANON;
  const zone = vm.k.pageAlloc.pageZone(pfn);
  const refs = folioLruRefs(v);
  const ws = (v & WORKINGSET) !== 0;
  const tier = lruTierFromRefs(refs, ws);
  if (!folioEvictable(v)) {
    g.delFolio(pfn, true);
    f[pfn] = f[pfn]! | UNEVICTABLE;
    vm.lruvec.addClassic(pfn);
    vm.lruEv.unevictablePgsCulled++;
    return true;
  }
  if (gen !== lruGenFromSeq(g.minSeq[type]!)) {
    g.move(pfn, gen, type, zone, false);
    return true;
  }
  if (tier > tierIdx || refs + (ws ? 1 : 0) === (1 << LRU_REFS_WIDTH) + 1) {
    const to = g.incGen(pfn, false);
    g.move(pfn, to, type, zone, false);
    g.countProtected(type, refs, ws, 1);
    return true;
  }
  if ((v & LRU) === 0 || zone > sc.reclaimIdx) {
    const to = g.incGen(pfn, false);
    g.move(pfn, to, type, zone, true);
    return true;
  }
  const dirty = (v & DIRTY) !== 0;
  const writeback = (v & WRITEBACK) !== 0;
  if (type === LRU_GEN_FILE && dirty) {
    sc.nrFileTaken++;
    if (!writeback) sc.nrUnqueuedDirty++;
  }
  if (writeback || (type === LRU_GEN_FILE && dirty)) {
    const to = g.incGen(pfn, true);
    g.move(pfn, to, type, zone, false);
    return true;
  }
  return false;
}

/**
 * isolate_folio(): take a folio off the oldest generation for
 * shrink_folio_list() (PG_lru cleared, a reference held, PG_reclaim
 * cleared, the read count forgotten unless PG_referenced). Refused without
 * __GFP_IO for a dirty folio or an anonymous one not yet in swap.
 */
function isolateFolio(vm: Vm, g: LruGen, sc: ScanControl, pfn: number): boolean {
  const p = vm.k.pages;
  const f = p.flags;
  const v = f[pfn]!;
  if ((sc.gfp & Gfp.IO) === 0 && ((v & DIRTY) !== 0 || (vm.pageKind[pfn] === KIND_ANON && (v & SWAPCACHE) === 0))) return false;
  if ((v & LRU) === 0) return false;
  p.refcount[pfn] = p.refcount[pfn]! + 1;
  let nv = v & ~(LRU | RECLAIM);
  if ((nv & REFERENCED) === 0) nv &= ~LRU_REFS_MASK;
  f[pfn] = nv;
  g.delFolio(pfn, true);
  return true;
}

/**
 * scan_folios(): sort or isolate folios from the tail of the oldest
 * generation of `type`, zone by zone from reclaim_idx down (then the
 * zones above, whose folios are all sorted as ineligible), until
 * MIN_LRU_BATCH are isolated or skipped in a zone or nrToScan (at most
 * MAX_LRU_BATCH) were looked at. Returns the folios looked at, or 0 if
 * none could be isolated and the budget was not used up.
 */
function scanFolios(vm: Vm, g: LruGen, sc: ScanControl, nrToScan: number, type: number, tierIdx: number): number {
  nrIsolated = 0;
  if (g.nrGens(type) === MIN_NR_GENS) return 0;
  const ev = vm.lruEv;
  const gen = lruGenFromSeq(g.minSeq[type]!);
  let remaining = Math.min(nrToScan, MAX_LRU_BATCH);
  let sorted = 0;
  let scanned = 0;
  let taken = 0;
  for (let i = MAX_NR_ZONES; i > 0; i--) {
    const zone = (sc.reclaimIdx + i) % MAX_NR_ZONES;
    let skippedZone = 0;
    for (;;) {
      const pfn = g.listTail(gen, type, zone);
      if (pfn < 0) break;
      scanned++;
      if (sortFolio(vm, g, sc, pfn, tierIdx)) sorted++;
      else if (isolateFolio(vm, g, sc, pfn)) isolated[taken++] = pfn;
      else {
        g.unlink(pfn);
        skipped[skippedZone++] = pfn;
      }
      if (--remaining === 0 || Math.max(taken, skippedZone) >= MIN_LRU_BATCH) break;
    }
    if (skippedZone > 0) {
      // list_splice(&moved, head): back at the head, the last skipped first
      for (let k = 0; k < skippedZone; k++) g.relink(skipped[k]!, gen, type, zone);
      ev.pgskip[zone]! += skippedZone;
    }
    if (remaining === 0 || taken >= MIN_LRU_BATCH) break;
  }
  if (sc.kswapd) ev.pgscanKswapd += taken;
  else if (proactive) ev.pgscanProactive += taken;
  else ev.pgscanDirect += taken;
  ev.pgrefill += sorted;
  if (type === LRU_GEN_FILE) {
    ev.pgscanFile += taken;
    sc.nrFileTaken += taken;
  } else ev.pgscanAnon += taken;
  nrIsolated = taken;
  return taken > 0 || remaining === 0 ? scanned : 0;
}

/** isolate_folios(): scan the type get_type_to_scan() picks, then the other if nothing could be scanned. */
function isolateFolios(vm: Vm, g: LruGen, sc: ScanControl, nrToScan: number, swappiness: number): number {
  let type = getTypeToScan(g, swappiness);
  const types = swappiness === 0 ? 1 : 2;
  for (let i = 0; i < types; i++) {
    const tier = getTierIdx(g, type);
    typeScanned = type;
    const scanned = scanFolios(vm, g, sc, nrToScan, type, tier);
    if (scanned > 0) return scanned;
    type = 1 - type;
  }
  nrIsolated = 0;
  return 0;
}

/**
 * evict_folios(): isolate a batch, let min_seq pass emptied generations,
 * and reclaim the batch with shrink_folio_list(). Folios it kept go back:
 * clean unmapped ones that were not activated get one more try (they may
 * have missed folio_rotate_reclaimable), and a folio that would land in
 * the oldest generation again is activated instead. Returns the folios
 * scanned (0 when eviction must wait for aging).
 */
function evictFolios(vm: Vm, g: LruGen, r: Reclaim, sc: ScanControl, nrToScan: number, swappiness: number): number {
  let scanned = isolateFolios(vm, g, sc, nrToScan, swappiness);
  if (g.tryToIncMinSeq(swappiness)) scanned++;
  if (g.evictableMinSeq(swappiness) + MIN_NR_GENS > g.maxSeq) scanned = 0;
  let n = nrIsolated;
  if (n === 0) return scanned;
  const type = typeScanned;
  const ev = vm.lruEv;
  const p = vm.k.pages;
  const f = p.flags;
  let skipRetry = false;
  for (;;) {
    r.stat.reset();
    const reclaimed = shrinkFolioList(vm, r, sc, isolated, n);
    sc.nrUnqueuedDirty += r.stat.nrUnqueuedDirty;
    sc.nrReclaimed += reclaimed;
    const kept = r.keptCount;
    let nKeep = 0;
    let nClean = 0;
    for (let i = 0; i < kept; i++) {
      const pfn = isolated[i]!;
      const v = f[pfn]!;
      if (!folioEvictable(v)) {
        keep[nKeep++] = pfn;
        continue;
      }
      if (!skipRetry && (v & (ACTIVE | DIRTY | WRITEBACK)) === 0 && p.mapcount[pfn]! <= 0) {
        isolated[nClean++] = pfn;
        continue;
      }
      // don't add rejected folios to the oldest generation
      if (g.folioSeq(v, type, false) === g.minSeq[type]) f[pfn] = (v & ~LRU_REFS_FLAGS) | ACTIVE;
      keep[nKeep++] = pfn;
    }
    moveFoliosToLru(vm, keep, nKeep);
    if (sc.kswapd) ev.pgstealKswapd += reclaimed;
    else if (proactive) ev.pgstealProactive += reclaimed;
    else ev.pgstealDirect += reclaimed;
    if (type === LRU_GEN_FILE) ev.pgstealFile += reclaimed;
    else ev.pgstealAnon += reclaimed;
    if (nClean === 0) break;
    skipRetry = true;
    n = nClean;
  }
  return scanned;
}

/**
 * should_run_aging(): aging is needed when the evictable types are down
 * to MIN_NR_GENS generations, and better when only one more is left.
 * agingNrToScan gets the evictable folios (0 when aging is needed).
 */
function shouldRunAging(g: LruGen, swappiness: number): boolean {
  agingNrToScan = 0;
  const minSeq = g.evictableMinSeq(swappiness);
  if (minSeq + MIN_NR_GENS > g.maxSeq) return true;
  agingNrToScan = g.evictableSize(swappiness);
  return minSeq + MIN_NR_GENS === g.maxSeq;
}

/**
 * get_nr_to_scan(): the evictable folios >> priority; when aging is due
 * (and not at DEF_PRIORITY) it runs instead, and -1 stops this pass (0
 * if another reclaimer aged first).
 */
function getNrToScan(g: LruGen, sc: ScanControl, swappiness: number): number {
  const maxSeq = g.maxSeq;
  const success = shouldRunAging(g, swappiness);
  if (!success || sc.priority === DEF_PRIORITY) return Math.floor(agingNrToScan / 2 ** sc.priority);
  return g.tryToIncMaxSeq(maxSeq, swappiness) ? -1 : 0;
}

/**
 * should_abort_scan(): enough reclaimed (nr_to_reclaim, or compact_gap for
 * a high order), or for kswapd at order 0 every eligible zone above its
 * high watermark plus MIN_LRU_BATCH.
 */
function shouldAbortScan(vm: Vm, sc: ScanControl): boolean {
  if (sc.nrReclaimed >= Math.max(sc.nrToReclaim, 2 << sc.order)) return true;
  if (!sc.kswapd || sc.order > 0) return false;
  const pa = vm.k.pageAlloc;
  const zones = pa.zones;
  for (let z = 0; z <= sc.reclaimIdx && z < MAX_NR_ZONES; z++) {
    if (zones.get(z, Z_MANAGED) === 0) continue;
    if (!pa.zoneWatermarkOk(z, 0, zones.get(z, Z_WMARK + WMARK_HIGH) + MIN_LRU_BATCH, sc.reclaimIdx, 0)) return false;
  }
  return true;
}

/** try_to_shrink_lruvec(): evict until the scan target, an abort, or no progress; true when aging said stop (-1). */
function tryToShrinkLruvec(vm: Vm, g: LruGen, r: Reclaim, sc: ScanControl): boolean {
  const swappiness = getSwappiness(vm, sc);
  let scanned = 0;
  let nrToScan: number;
  for (;;) {
    nrToScan = getNrToScan(g, sc, swappiness);
    if (nrToScan <= 0) break;
    const delta = evictFolios(vm, g, r, sc, nrToScan, swappiness);
    if (delta === 0) break;
    scanned += delta;
    if (scanned >= nrToScan) break;
    if (shouldAbortScan(vm, sc)) break;
  }
  // Too much of the oldest generation's file cache was dirty: wake the flushers.
  if (sc.nrUnqueuedDirty > 0 && sc.nrUnqueuedDirty === sc.nrFileTaken) wakeupFlusherThreads(vm);
  return nrToScan < 0;
}

/** fls_long() */
function fls(x: number): number {
  return x <= 0 ? 0 : Math.floor(Math.log2(x)) + 1;
}

/**
 * set_initial_priority(): at DEF_PRIORITY with a target of at least
 * MIN_LRU_BATCH, start at the priority where inactive >> priority is about
 * the target (the inactive share standing for the reclaimable ratio),
 * clamped to DEF_PRIORITY / 2 .. DEF_PRIORITY.
 */
function setInitialPriority(vm: Vm, sc: ScanControl): void {
  if (sc.priority !== DEF_PRIORITY || sc.nrToReclaim < MIN_LRU_BATCH) return;
  const lv = vm.lruvec;
  let reclaimable = lv.size(LRU_INACTIVE_FILE);
  if (canReclaimAnonPages(vm)) reclaimable += lv.size(LRU_INACTIVE_ANON);
  const priority = fls(reclaimable) - 1 - fls(sc.nrToReclaim - 1);
  sc.priority = Math.min(Math.max(priority, DEF_PRIORITY / 2), DEF_PRIORITY);
}

/**
 * lru_gen_shrink_node(): shrink_node() with the multi-gen LRU (kmem's
 * one lruvec is the root memcg's: shrink_one). Skipped when the reclaim
 * may not write or unmap (boosted kswapd): unmapped clean folios are
 * already first. kswapd counts its progress from 0 for should_abort_scan.
 */
export function lruGenShrinkNode(vm: Vm, r: Reclaim, sc: ScanControl): void {
  const reclaimed = sc.nrReclaimed;
  if (sc.mayWritepage && sc.mayUnmap) {
    const g = lruGenOf(vm);
    setInitialPriority(vm, sc);
    if (sc.kswapd) sc.nrReclaimed = 0;
    tryToShrinkLruvec(vm, g, r, sc);
    shrinkSlab(vm, sc.gfp, sc.priority);
    if (sc.kswapd) sc.nrReclaimed += reclaimed;
  }
  if (sc.nrReclaimed > reclaimed) r.kswapdFailures = 0;
}

/** lruvec_is_sizable(): evictable folios >> priority (the root memcg is online). */
function lruvecIsSizable(g: LruGen, sc: ScanControl, swappiness: number): boolean {
  return Math.floor(g.evictableSize(swappiness) / 2 ** sc.priority) > 0;
}

/**
 * lru_gen_age_node(): kswapd's check of min_ttl_ms: when it is set and
 * the oldest evictable generation is younger than it, the working set
 * would be thrashed; the OOM killer is called instead.
 */
export function lruGenAgeNode(vm: Vm, sc: ScanControl): void {
  const g = lruGenOf(vm);
  const minTtl = g.minTtl;
  setInitialPriority(vm, sc);
  if (minTtl === 0) return;
  const swappiness = getSwappiness(vm, sc);
  let reclaimable = false;
  if (lruvecIsSizable(g, sc, swappiness)) {
    const birth = g.timestamps[lruGenFromSeq(g.evictableMinSeq(swappiness))]!;
    reclaimable = g.jiffies() > birth + minTtl;
  }
  if (!reclaimable) outOfMemory(vm, 0, sc.gfp);
}

/**
 * run_aging() of the debugfs '+' command: age once if max_gen_nr is
 * max_seq (0 if it is older: already done; EINVAL if younger). Without
 * force_scan, ERANGE when the types already have MAX_NR_GENS generations.
 * Returns 0 or -errno.
 */
export function runAging(vm: Vm, seq: number, swappiness: number, forceScan: boolean): number {
  const g = lruGenOf(vm);
  if (seq < g.maxSeq) return 0;
  if (seq > g.maxSeq) return -EINVAL;
  if (!forceScan && g.minSeq[swappiness === 0 ? 1 : 0]! + MAX_NR_GENS - 1 <= g.maxSeq) return -ERANGE;
  g.tryToIncMaxSeq(g.maxSeq, swappiness);
  return 0;
}

/**
 * run_eviction() of the debugfs '-' command: evict (proactive reclaim:
 * GFP_KERNEL, every zone, may write, unmap and swap) until the oldest
 * evictable generation is past min_gen_nr, nrToReclaim pages were freed,
 * or eviction stops. EINVAL if min_gen_nr is not older than max_seq -
 * MIN_NR_GENS + 1. A swappiness outside 0..MAX_SWAPPINESS + 1 means the
 * node's own (get_swappiness). Returns 0 or -errno.
 */
export function runEviction(vm: Vm, seq: number, swappiness: number, nrToReclaim: number): number {
  const g = lruGenOf(vm);
  const r = reclaimState(vm);
  const sc = new ScanControl();
  sc.mayWritepage = true;
  sc.mayUnmap = true;
  sc.maySwap = true;
  sc.reclaimIdx = MAX_NR_ZONES - 1;
  sc.gfp = GFP_KERNEL;
  if (swappiness < 0 || swappiness > MAX_SWAPPINESS + 1) swappiness = getSwappiness(vm, sc);
  if (seq + MIN_NR_GENS > g.maxSeq) return -EINVAL;
  sc.nrReclaimed = 0;
  const wasInReclaim = r.inReclaim;
  r.inReclaim = true;
  proactive = true;
  try {
    for (;;) {
      if (seq < g.evictableMinSeq(swappiness)) return 0;
      if (sc.nrReclaimed >= nrToReclaim) return 0;
      if (evictFolios(vm, g, r, sc, nrToReclaim - sc.nrReclaimed, swappiness) === 0) return 0;
    }
  } finally {
    proactive = false;
    r.inReclaim = wasInReclaim;
  }
}
