/**
 * The LRU lists of the one node (include/linux/mm_inline.h, include/linux/mmzone.h's
 * struct lruvec): five lists, LRU_INACTIVE_ANON, LRU_ACTIVE_ANON,
 * LRU_INACTIVE_FILE, LRU_ACTIVE_FILE, LRU_UNEVICTABLE, each a doubly linked
 * list threaded through struct page's lru field (pages.next / pages.prev by
 * pfn, -1 = none; the head's prev and the tail's next are -1). New folios go
 * to the head (list_add), reclaim takes from the tail (lru_to_folio is
 * list->prev). The sizes are kept per zone as NR_ZONE_LRU_BASE + lru and
 * summed for the node's NR_LRU_BASE + lru, as update_lru_size() does.
 *
 * Invariant: a page is on exactly the list folio_lru_list() names for its
 * flags iff PG_lru is set, and nrZone[zone * NR_LRU_LISTS + lru] is the
 * number of that zone's pages on that list.
 */
import { type PageArray, PG } from '../memory/page.js';
import { MAX_NR_ZONES } from '../page_alloc/mmzone.js';

export const LRU_INACTIVE_ANON = 0;
export const LRU_ACTIVE_ANON = 1;
export const LRU_INACTIVE_FILE = 2;
export const LRU_ACTIVE_FILE = 3;
export const LRU_UNEVICTABLE = 4;
export const NR_LRU_LISTS = 5;
/** SWAP_CLUSTER_MAX: the batch reclaim isolates and the unit of lru_note_cost's I/O */
export const SWAP_CLUSTER_MAX = 32;
/** LRU_ACTIVE and LRU_FILE: what is added to an inactive anon index */
export const LRU_ACTIVE = 1;
export const LRU_FILE = 2;

const ACTIVE = 1 << PG.active;
const UNEVICTABLE = 1 << PG.unevictable;
const SWAPBACKED = 1 << PG.swapbacked;

/** folio_is_file_lru(): page cache that is not swap-backed (shmem and anon are the anon lists'). */
export function folioIsFileLru(flags: number): boolean {
  return (flags & SWAPBACKED) === 0;
}

/** folio_lru_list(): the list a folio with these flags belongs on. */
export function folioLruList(flags: number): number {
  if ((flags & UNEVICTABLE) !== 0) return LRU_UNEVICTABLE;
  const lru = (flags & SWAPBACKED) === 0 ? LRU_INACTIVE_FILE : LRU_INACTIVE_ANON;
  return (flags & ACTIVE) !== 0 ? lru + LRU_ACTIVE : lru;
}

/** is_file_lru() / is_active_lru() */
export function isFileLru(lru: number): boolean {
  return lru === LRU_INACTIVE_FILE || lru === LRU_ACTIVE_FILE;
}
export function isActiveLru(lru: number): boolean {
  return lru === LRU_ACTIVE_ANON || lru === LRU_ACTIVE_FILE;
}

/**
 * The multi-gen LRU's side of lruvec_add_folio() / lruvec_del_folio()
 * (lru_gen_add_folio / lru_gen_del_folio, src/vm/lru_gen.ts): each returns
 * false for a folio it does not take (unevictable, or not on its lists).
 */
export interface LruGenLists {
  addFolio(pfn: number, reclaiming: boolean): boolean;
  delFolio(pfn: number, reclaiming: boolean): boolean;
}

/** struct lruvec of the node: the lists, their sizes per zone, and what reclaim remembers between passes. */
export class Lruvec {
  /** The multi-gen LRU while it is enabled (lru_gen_enabled()), else null: the classic lists alone. */
  gen: LruGenLists | null = null;
  /** current->in_lru_fault: a page fault outside VM_SEQ_READ / VM_RAND_READ is running (lru_gen_enter_fault). */
  inFault = false;
  readonly head = new Int32Array(NR_LRU_LISTS).fill(-1);
  readonly tail = new Int32Array(NR_LRU_LISTS).fill(-1);
  /** NR_ZONE_LRU_BASE + lru, per zone: [zone * NR_LRU_LISTS + lru] */
  readonly nrZone = new Float64Array(MAX_NR_ZONES * NR_LRU_LISTS);
  /** lruvec->anon_cost / file_cost (lru_note_cost) */
  anonCost = 0;
  fileCost = 0;
  /** lruvec->nonresident_age (workingset.c): evictions and activations */
  nonresidentAge = 0;
  /** lruvec->refaults[WORKINGSET_ANON / FILE]: WORKINGSET_ACTIVATE_* at the last snapshot_refaults() */
  refaultsAnon = 0;
  refaultsFile = 0;

  constructor(
    private readonly pages: PageArray,
    private readonly pageZone: (pfn: number) => number,
  ) {}

  /** lruvec_page_state(NR_LRU_BASE + lru): the node's size of a list */
  size(lru: number): number {
    let n = 0;
    for (let z = 0; z < MAX_NR_ZONES; z++) n += this.nrZone[z * NR_LRU_LISTS + lru]!;
    return n;
  }

  /** lruvec_lru_size(lruvec, lru, zone_idx): the list's pages in zones 0..zoneIdx */
  sizeUpTo(lru: number, zoneIdx: number): number {
    let n = 0;
    for (let z = 0; z <= zoneIdx && z < MAX_NR_ZONES; z++) n += this.nrZone[z * NR_LRU_LISTS + lru]!;
    return n;
  }

  /** lruvec_add_folio(): onto the head of its list (the caller has set PG_lru); the multi-gen LRU's when enabled. */
  add(pfn: number): void {
    if (this.gen?.addFolio(pfn, false)) return;
    this.addClassic(pfn);
  }

  /** The classic lists' part of lruvec_add_folio(). */
  addClassic(pfn: number): void {
    const lru = folioLruList(this.pages.flags[pfn]!);
    const next = this.pages.next;
    const prev = this.pages.prev;
    const h = this.head[lru]!;
    next[pfn] = h;
    prev[pfn] = -1;
    if (h < 0) this.tail[lru] = pfn;
    else prev[h] = pfn;
    this.head[lru] = pfn;
    this.nrZone[this.pageZone(pfn) * NR_LRU_LISTS + lru]!++;
  }

  /** lruvec_add_folio_tail(): onto the tail (the next to be reclaimed). */
  addTail(pfn: number): void {
    if (this.gen?.addFolio(pfn, true)) return;
    const lru = folioLruList(this.pages.flags[pfn]!);
    const next = this.pages.next;
    const prev = this.pages.prev;
    const t = this.tail[lru]!;
    prev[pfn] = t;
    next[pfn] = -1;
    if (t < 0) this.head[lru] = pfn;
    else next[t] = pfn;
    this.tail[lru] = pfn;
    this.nrZone[this.pageZone(pfn) * NR_LRU_LISTS + lru]!++;
  }

  /** lruvec_del_folio(): off the list its flags name (call before changing PG_active / PG_unevictable). */
  del(pfn: number): void {
    if (this.gen?.delFolio(pfn, false)) return;
    this.delClassic(pfn);
  }

  /** The classic lists' part of lruvec_del_folio(). */
  delClassic(pfn: number): void {
    const lru = folioLruList(this.pages.flags[pfn]!);
    const next = this.pages.next;
    const prev = this.pages.prev;
    const n = next[pfn]!;
    const p = prev[pfn]!;
    if (p < 0) this.head[lru] = n;
    else next[p] = n;
    if (n < 0) this.tail[lru] = p;
    else prev[n] = p;
    next[pfn] = -1;
    prev[pfn] = -1;
    this.nrZone[this.pageZone(pfn) * NR_LRU_LISTS + lru]!--;
  }
}

/**
 * The vm_event_item and node_stat_item counters the LRU, reclaim and
 * workingset code count (mm/vmstat.c's names in the comments).
 */
export class LruEvents {
  pgactivate = 0;
  pgdeactivate = 0;
  pgrefill = 0;
  pgrotated = 0;
  pgstealKswapd = 0;
  pgstealDirect = 0;
  /** pgscan_proactive / pgsteal_proactive: reclaim asked by a user (the lru_gen debugfs '-' command) */
  pgscanProactive = 0;
  pgstealProactive = 0;
  pgscanKswapd = 0;
  pgscanDirect = 0;
  pgscanAnon = 0;
  pgscanFile = 0;
  pgstealAnon = 0;
  pgstealFile = 0;
  pageoutrun = 0;
  /** allocstall_<zone> */
  readonly allocstall = new Float64Array(MAX_NR_ZONES);
  /** pgskip_<zone> */
  readonly pgskip = new Float64Array(MAX_NR_ZONES);
  kswapdLowWmarkHitQuickly = 0;
  kswapdHighWmarkHitQuickly = 0;
  slabsScanned = 0;
  unevictablePgsCulled = 0;
  unevictablePgsMlocked = 0;
  unevictablePgsRescued = 0;
  unevictablePgsMunlocked = 0;
  /** node stats: WORKINGSET_* and NR_VMSCAN_IMMEDIATE, NR_ISOLATED_* */
  workingsetRefaultAnon = 0;
  workingsetRefaultFile = 0;
  workingsetActivateAnon = 0;
  workingsetActivateFile = 0;
  workingsetRestoreAnon = 0;
  workingsetRestoreFile = 0;
  workingsetNodereclaim = 0;
  nrVmscanImmediate = 0;
  nrVmscanWrite = 0;
  nrIsolatedAnon = 0;
  nrIsolatedFile = 0;
  /** NR_MLOCK per zone */
  readonly nrMlock = new Float64Array(MAX_NR_ZONES);
}
