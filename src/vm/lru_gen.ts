/**
 * The multi-gen LRU (mm/vmscan.c's "multi-gen LRU" section, the lru_gen
 * parts of include/linux/mm_inline.h and mm/workingset.c): the lists, the
 * generation numbers, aging and the per-tier refault statistics. Eviction
 * is in lru_gen_reclaim.ts, the sysfs and debugfs files in lru_gen_sysfs.ts.
 *
 * Instead of an active and an inactive list per type, each type (anon,
 * file) has MAX_NR_GENS generations, numbered by sequence: max_seq is the
 * youngest, shared by both types; min_seq[type] the oldest of each. A
 * folio's generation is gen = seq % MAX_NR_GENS, kept in its flags; each
 * (gen, type, zone) is a list threaded through struct page's lru field.
 * Aging (inc_max_seq) opens a new youngest generation after walking the
 * page tables and promoting every folio found accessed to the generation
 * that was youngest; eviction takes folios from min_seq's lists and
 * advances min_seq when they empty. At least MIN_NR_GENS generations exist
 * per type; the two youngest count as "active" for /proc/meminfo and
 * /proc/vmstat (lru_gen_update_size).
 *
 * A struct page's flags word (u32) carries what the kernel keeps in the
 * upper bits of folio->flags:
 *
 *   bit 31..29  28..27         26..24        23..0
 *      unused | LRU_REFS     | LRU_GEN     | PG_* bits
 *             | extra reads  | gen + 1     |
 *             | (0..3)       | (0: none)   |
 *
 * so the page allocator's free (flags = 0) clears them as
 * PAGE_FLAGS_CHECK_AT_PREP does. Accesses through file descriptors
 * (folio_mark_accessed) climb tiers: the first sets PG_referenced, the next
 * three count in LRU_REFS, the one after sets PG_workingset; a folio's tier
 * is order_base_2 of its accesses, or the last tier with PG_workingset.
 *
 * kmem's one node has no memcg: this is the root memcg's lruvec, the only one.
 * NR_HIST_GENS is 1 (CONFIG_LRU_GEN_STATS off, as distributions ship it).
 *
 * kmem's differences: aging walks every mm's page tables each time (the
 * kernel's mm list skips mms that have not run since the last walk, and its
 * Bloom filters skip PMDs with no young entries; neither changes which
 * folios are promoted when every mm did run); reclaim's rmap walk does not
 * look around a young PTE's neighbours (lru_gen_look_around); debugfs has
 * no lru_gen_full; the debugfs eviction's swappiness 'max' (anon only) is
 * refused; folios are single pages.
 */
import { PG } from '../memory/page.js';
import { MAX_NR_ZONES } from '../page_alloc/mmzone.js';
import { forEachPte, invalidateTlbPage } from './memory.js';
import { folioIsFileLru, LRU_ACTIVE, LRU_INACTIVE_FILE, type LruGenLists, type Lruvec, NR_LRU_LISTS } from './mm_inline.js';
import { VM } from './mman.js';
import { _PAGE_ACCESSED, _PAGE_PRESENT, _PAGE_SPECIAL } from './pgtable.js';
import type { Vm } from './vm.js';

export const MAX_NR_GENS = 4;
export const MIN_NR_GENS = 2;
export const MAX_NR_TIERS = 4;
/** LRU_GEN_FILE / LRU_GEN_ANON: the type index (folio_is_file_lru) */
export const LRU_GEN_ANON = 0;
export const LRU_GEN_FILE = 1;
/** MIN_LRU_BATCH (BITS_PER_LONG) and MAX_LRU_BATCH */
export const MIN_LRU_BATCH = 64;
export const MAX_LRU_BATCH = MIN_LRU_BATCH * 64;
/** HZ of the jiffies the generations' birth times are kept in */
const HZ = 250;
const NS_PER_JIFFY = 1e9 / HZ;

export const LRU_GEN_PGOFF = 24;
export const LRU_GEN_MASK = 7 << LRU_GEN_PGOFF;
export const LRU_REFS_PGOFF = 27;
export const LRU_REFS_WIDTH = 2;
export const LRU_REFS_MASK = ((1 << LRU_REFS_WIDTH) - 1) << LRU_REFS_PGOFF;
const REFERENCED = 1 << PG.referenced;
const WORKINGSET = 1 << PG.workingset;
const ACTIVE = 1 << PG.active;
const UNEVICTABLE = 1 << PG.unevictable;
const SWAPCACHE = 1 << PG.owner_priv_1;
const RECLAIM = 1 << PG.reclaim;
const DIRTY = 1 << PG.dirty;
const WRITEBACK = 1 << PG.writeback;
/** LRU_REFS_FLAGS: what moving to another generation forgets of the accesses */
export const LRU_REFS_FLAGS = LRU_REFS_MASK | REFERENCED;

/** The lru_gen_caps bits of /sys/kernel/mm/lru_gen/enabled. */
export const LRU_GEN_CORE = 0;
export const LRU_GEN_MM_WALK = 1;
export const LRU_GEN_NONLEAF_YOUNG = 2;
export const NR_LRU_GEN_CAPS = 3;

/** The index of list (gen, type, zone) */
function listIdx(gen: number, type: number, zone: number): number {
  return (gen * 2 + type) * MAX_NR_ZONES + zone;
}

/** The index of (type, tier) in the tier statistics */
function tierIdx(type: number, tier: number): number {
  return type * MAX_NR_TIERS + tier;
}

/** lru_gen_from_seq() */
export function lruGenFromSeq(seq: number): number {
  return seq % MAX_NR_GENS;
}

/** folio_lru_gen(): the folio's generation, -1 if it is on no multi-gen list. */
export function folioLruGen(flags: number): number {
  return ((flags & LRU_GEN_MASK) >>> LRU_GEN_PGOFF) - 1;
}

/** folio_lru_refs(): its accesses through file descriptors (0 without PG_referenced, else 1 + the LRU_REFS count). */
export function folioLruRefs(flags: number): number {
  if ((flags & REFERENCED) === 0) return 0;
  return ((flags & LRU_REFS_MASK) >>> LRU_REFS_PGOFF) + 1;
}

/** order_base_2() for the small counts of accesses */
function orderBase2(n: number): number {
  return n <= 1 ? 0 : 32 - Math.clz32(n - 1);
}

/** lru_tier_from_refs(): the last tier for the workingset, else order_base_2(refs). */
export function lruTierFromRefs(refs: number, workingset: boolean): number {
  return workingset ? MAX_NR_TIERS - 1 : orderBase2(refs);
}

/**
 * struct lru_gen_folio of the node's lruvec, and lru_gen's global state
 * (the caps and min_ttl). Invariants: min_seq[type] <= max_seq - 1 (at
 * least MIN_NR_GENS generations per type); a folio is on list
 * listOf[pfn] - 1 iff its LRU_GEN bits are set (the list can lag its
 * generation: aging promotes in the flags and sizes at once, the list
 * moves when eviction sorts it); nrPages[gen, type, zone] counts the
 * folios whose flags name that generation.
 */
export class LruGen implements LruGenLists {
  /** the youngest generation's sequence number */
  maxSeq = MIN_NR_GENS + 1;
  /** the oldest generation's sequence number, per type */
  readonly minSeq = new Float64Array(2);
  /** each generation's birth, in jiffies */
  readonly timestamps = new Float64Array(MAX_NR_GENS);
  /** list heads and tails, -1 = empty: [listIdx(gen, type, zone)] */
  readonly head = new Int32Array(MAX_NR_GENS * 2 * MAX_NR_ZONES).fill(-1);
  readonly tail = new Int32Array(MAX_NR_GENS * 2 * MAX_NR_ZONES).fill(-1);
  /** nr_pages[gen][type][zone] */
  readonly nrPages = new Float64Array(MAX_NR_GENS * 2 * MAX_NR_ZONES);
  /** the list a folio is on + 1, by pfn (0: none) */
  readonly listOf: Uint16Array;
  /** avg_refaulted and avg_total per [type][tier]: the moving averages of the PID controller */
  readonly avgRefaulted = new Float64Array(2 * MAX_NR_TIERS);
  readonly avgTotal = new Float64Array(2 * MAX_NR_TIERS);
  /** refaulted, evicted and protected per [type][tier] since min_seq[type] last moved (NR_HIST_GENS = 1) */
  readonly refaulted = new Float64Array(2 * MAX_NR_TIERS);
  readonly evicted = new Float64Array(2 * MAX_NR_TIERS);
  readonly protected = new Float64Array(2 * MAX_NR_TIERS);
  /** lru_gen_caps: bit LRU_GEN_CORE is lru_gen_enabled() */
  caps = 0;
  /** lru_gen_min_ttl, in jiffies */
  minTtl = 0;
  /** aging runs (inc_max_seq), for tests and the inspector */
  nrAging = 0;

  constructor(
    readonly vm: Vm,
    readonly lruvec: Lruvec,
  ) {
    this.listOf = new Uint16Array(vm.k.phys.nrPages);
    const now = this.jiffies();
    for (let i = 0; i <= MIN_NR_GENS + 1; i++) this.timestamps[i] = now;
  }

  /** jiffies on the virtual clock */
  jiffies(): number {
    return Math.floor(this.vm.k.timers.now / NS_PER_JIFFY);
  }

  /** lru_gen_is_active(): the two youngest generations count as active. */
  isActive(gen: number): boolean {
    const max = this.maxSeq;
    return gen === lruGenFromSeq(max) || gen === lruGenFromSeq(max - 1);
  }

  /** get_nr_gens() */
  nrGens(type: number): number {
    return this.maxSeq - this.minSeq[type]! + 1;
  }

  /**
   * lru_gen_update_size(): move a folio's count from oldGen to newGen (-1:
   * none), keeping the node's active/inactive counts what
   * lru_gen_is_active() says of its generation.
   */
  updateSize(type: number, zone: number, oldGen: number, newGen: number): void {
    const nz = this.lruvec.nrZone;
    const lru = type * LRU_INACTIVE_FILE;
    if (oldGen >= 0) this.nrPages[listIdx(oldGen, type, zone)]!--;
    if (newGen >= 0) this.nrPages[listIdx(newGen, type, zone)]!++;
    if (oldGen < 0) {
      nz[zone * NR_LRU_LISTS + lru + (this.isActive(newGen) ? LRU_ACTIVE : 0)]!++;
      return;
    }
    if (newGen < 0) {
      nz[zone * NR_LRU_LISTS + lru + (this.isActive(oldGen) ? LRU_ACTIVE : 0)]!--;
      return;
    }
    // promotion; demotion needs isolation (and so goes through deletion and addition)
    if (!this.isActive(oldGen) && this.isActive(newGen)) {
      nz[zone * NR_LRU_LISTS + lru]!--;
      nz[zone * NR_LRU_LISTS + lru + LRU_ACTIVE]!++;
    }
  }

  /** list_add() / list_add_tail() onto list l */
  link(pfn: number, l: number, tail: boolean): void {
    const next = this.vm.k.pages.next;
    const prev = this.vm.k.pages.prev;
    if (tail) {
      const t = this.tail[l]!;
      prev[pfn] = t;
      next[pfn] = -1;
      if (t < 0) this.head[l] = pfn;
      else next[t] = pfn;
      this.tail[l] = pfn;
    } else {
      const h = this.head[l]!;
      next[pfn] = h;
      prev[pfn] = -1;
      if (h < 0) this.tail[l] = pfn;
      else prev[h] = pfn;
      this.head[l] = pfn;
    }
    this.listOf[pfn] = l + 1;
  }

  /** list_del() from whichever list the folio is on */
  unlink(pfn: number): void {
    const l = this.listOf[pfn]! - 1;
    const next = this.vm.k.pages.next;
    const prev = this.vm.k.pages.prev;
    const n = next[pfn]!;
    const p = prev[pfn]!;
    if (p < 0) this.head[l] = n;
    else next[p] = n;
    if (n < 0) this.tail[l] = p;
    else prev[n] = p;
    next[pfn] = -1;
    prev[pfn] = -1;
    this.listOf[pfn] = 0;
  }

  /** list_add() of a folio on no list to (gen, type, zone)'s head */
  relink(pfn: number, gen: number, type: number, zone: number): void {
    this.link(pfn, listIdx(gen, type, zone), false);
  }

  /** list_move() / list_move_tail() to (gen, type, zone) */
  move(pfn: number, gen: number, type: number, zone: number, tail: boolean): void {
    this.unlink(pfn);
    this.link(pfn, listIdx(gen, type, zone), tail);
  }

  /**
   * lru_gen_folio_seq(): the generation a folio joins. Activated ones (a
   * workingset refault, a rejected one from reclaim) the second youngest,
   * the youngest if also workingset; a folio put back for reclaim the
   * oldest; a new anonymous one (or one under writeback for reclaim) the
   * second youngest; a page-cache one the oldest, the third youngest if
   * workingset. Never below min_seq.
   */
  folioSeq(flags: number, type: number, reclaiming: boolean): number {
    let gen: number;
    const ws = (flags & WORKINGSET) !== 0 ? 1 : 0;
    if ((flags & ACTIVE) !== 0) gen = MIN_NR_GENS - ws;
    else if (reclaiming) gen = MAX_NR_GENS;
    else if ((type === LRU_GEN_ANON && (flags & SWAPCACHE) === 0) || ((flags & RECLAIM) !== 0 && (flags & (DIRTY | WRITEBACK)) !== 0)) gen = MIN_NR_GENS;
    else gen = MAX_NR_GENS - ws;
    return Math.max(this.maxSeq - gen + 1, this.minSeq[type]!);
  }

  /** lru_gen_add_folio(): onto its generation's list (the tail when reclaiming); false for an unevictable folio. */
  addFolio(pfn: number, reclaiming: boolean): boolean {
    const f = this.vm.k.pages.flags;
    const v = f[pfn]!;
    if ((v & UNEVICTABLE) !== 0) return false;
    const type = folioIsFileLru(v) ? LRU_GEN_FILE : LRU_GEN_ANON;
    const zone = this.vm.k.pageAlloc.pageZone(pfn);
    const gen = lruGenFromSeq(this.folioSeq(v, type, reclaiming));
    // see the comment on MIN_NR_GENS: PG_active only says where to add
    f[pfn] = (v & ~(LRU_GEN_MASK | ACTIVE)) | ((gen + 1) << LRU_GEN_PGOFF);
    this.updateSize(type, zone, -1, gen);
    this.link(pfn, listIdx(gen, type, zone), reclaiming);
    return true;
  }

  /** lru_gen_del_folio(): off its list; PG_active set on a folio of an active generation unless reclaiming (for migration). */
  delFolio(pfn: number, reclaiming: boolean): boolean {
    const f = this.vm.k.pages.flags;
    const v = f[pfn]!;
    const gen = folioLruGen(v);
    if (gen < 0) return false;
    const type = folioIsFileLru(v) ? LRU_GEN_FILE : LRU_GEN_ANON;
    const zone = this.vm.k.pageAlloc.pageZone(pfn);
    f[pfn] = (v & ~LRU_GEN_MASK) | (!reclaiming && this.isActive(gen) ? ACTIVE : 0);
    this.updateSize(type, zone, gen, -1);
    this.unlink(pfn);
    return true;
  }

  /**
   * folio_inc_gen(): protect a folio in the oldest generation by moving it
   * to the next one, forgetting its accesses (PG_reclaim set when the
   * caller waits for its writeback). A folio aging already promoted keeps
   * its generation. Returns the generation; the caller moves the list.
   */
  incGen(pfn: number, reclaiming: boolean): number {
    const f = this.vm.k.pages.flags;
    const v = f[pfn]!;
    const type = folioIsFileLru(v) ? LRU_GEN_FILE : LRU_GEN_ANON;
    const oldGen = lruGenFromSeq(this.minSeq[type]!);
    const cur = folioLruGen(v);
    if (cur >= 0 && cur !== oldGen) return cur;
    const newGen = (oldGen + 1) % MAX_NR_GENS;
    f[pfn] = (v & ~(LRU_GEN_MASK | LRU_REFS_FLAGS)) | ((newGen + 1) << LRU_GEN_PGOFF) | (reclaiming ? RECLAIM : 0);
    this.updateSize(type, this.vm.k.pageAlloc.pageZone(pfn), oldGen, newGen);
    return newGen;
  }

  /**
   * folio_update_gen(): a folio found accessed through a page table. The
   * first time it only gets PG_referenced; one already referenced (or
   * workingset) moves to gen with PG_workingset, its read counts
   * forgotten. Returns the generation it left, -1 if it did not move.
   */
  updateGen(pfn: number, gen: number): number {
    const f = this.vm.k.pages.flags;
    const v = f[pfn]!;
    if ((v & (REFERENCED | WORKINGSET)) === 0) {
      f[pfn] = (v & ~LRU_REFS_MASK) | REFERENCED;
      return -1;
    }
    if ((v & LRU_GEN_MASK) === 0) return -1;
    f[pfn] = (v & ~(LRU_GEN_MASK | LRU_REFS_FLAGS)) | ((gen + 1) << LRU_GEN_PGOFF) | WORKINGSET;
    return folioLruGen(v);
  }

  /**
   * reset_ctrl_pos() with carryover, when min_seq[type] moves: the
   * statistics of the generation leaving fold into the moving averages
   * (halved each time) and start again from 0.
   */
  resetCtrlPos(type: number): void {
    for (let tier = 0; tier < MAX_NR_TIERS; tier++) {
      const i = tierIdx(type, tier);
      this.avgRefaulted[i] = Math.floor((this.avgRefaulted[i]! + this.refaulted[i]!) / 2);
      this.avgTotal[i] = Math.floor((this.avgTotal[i]! + this.protected[i]! + this.evicted[i]!) / 2);
      this.refaulted[i] = 0;
      this.evicted[i] = 0;
      this.protected[i] = 0;
    }
  }

  /** Count delta pages protected in a tier (sort_folio, inc_min_seq), unless they are the workingset being lazily promoted. */
  countProtected(type: number, refs: number, workingset: boolean, delta: number): void {
    if (refs + (workingset ? 1 : 0) === (1 << LRU_REFS_WIDTH) + 1) return;
    this.protected[tierIdx(type, lruTierFromRefs(refs, workingset))]! += delta;
  }

  /**
   * inc_min_seq(): retire the oldest generation of a type, first moving
   * what is left in it to the next one (counted as protected): the type's
   * cold folios must not end up younger than its hot ones. With
   * swappiness 0 the anon type is not evictable and skips the sorting.
   * Returns false when MAX_LRU_BATCH folios were moved without finishing.
   */
  incMinSeq(type: number, swappiness: number): boolean {
    let remaining = MAX_LRU_BATCH;
    const oldGen = lruGenFromSeq(this.minSeq[type]!);
    const f = this.vm.k.pages.flags;
    if (type === LRU_GEN_FILE || swappiness !== 0) {
      for (let zone = 0; zone < MAX_NR_ZONES; zone++) {
        const l = listIdx(oldGen, type, zone);
        while (this.tail[l]! >= 0) {
          const pfn = this.tail[l]!;
          const v = f[pfn]!;
          const refs = folioLruRefs(v);
          const ws = (v & WORKINGSET) !== 0;
          const newGen = this.incGen(pfn, false);
          this.move(pfn, newGen, type, zone, true);
          this.countProtected(type, refs, ws, 1);
          if (--remaining === 0) return false;
        }
      }
    }
    this.resetCtrlPos(type);
    this.minSeq[type] = this.minSeq[type]! + 1;
    return true;
  }

  /**
   * try_to_inc_min_seq(): min_seq[type] passes the empty generations at
   * the old end (never closer than MIN_NR_GENS to max_seq); with both types
   * evictable neither may pass max_seq - MIN_NR_GENS while the other is
   * below it. Returns whether either moved.
   */
  tryToIncMinSeq(swappiness: number): boolean {
    const minSeq = [this.minSeq[0]!, this.minSeq[1]!];
    let moved = false;
    for (let type = swappiness === 0 ? 1 : 0; type <= 1; type++) {
      scan: while (minSeq[type]! + MIN_NR_GENS <= this.maxSeq) {
        const gen = lruGenFromSeq(minSeq[type]!);
        for (let zone = 0; zone < MAX_NR_ZONES; zone++) if (this.head[listIdx(gen, type, zone)]! >= 0) break scan;
        minSeq[type]!++;
        moved = true;
      }
    }
    if (!moved) return false;
    if (swappiness !== 0) {
      const seq = this.maxSeq - MIN_NR_GENS;
      if (minSeq[LRU_GEN_ANON]! > seq && minSeq[LRU_GEN_FILE]! < seq) minSeq[LRU_GEN_ANON] = seq;
      else if (minSeq[LRU_GEN_FILE]! > seq && minSeq[LRU_GEN_ANON]! < seq) minSeq[LRU_GEN_FILE] = seq;
    }
    let success = false;
    for (let type = swappiness === 0 ? 1 : 0; type <= 1; type++) {
      if (minSeq[type]! <= this.minSeq[type]!) continue;
      this.resetCtrlPos(type);
      this.minSeq[type] = minSeq[type]!;
      success = true;
    }
    return success;
  }

  /**
   * inc_max_seq(): open a new youngest generation. A type already at
   * MAX_NR_GENS first retires its oldest (inc_min_seq). The generation
   * leaving the two youngest moves its count from active to inactive, the
   * one reused (max_seq + 1, which may still hold anon folios when swap is
   * constrained) the other way.
   */
  incMaxSeq(seq: number, swappiness: number): boolean {
    for (;;) {
      if (seq !== this.maxSeq) return false;
      let restart = false;
      for (let type = 0; type < 2; type++) {
        if (this.nrGens(type) !== MAX_NR_GENS) continue;
        if (this.incMinSeq(type, swappiness)) continue;
        restart = true;
        break;
      }
      if (!restart) break;
    }
    const prev = lruGenFromSeq(this.maxSeq - 1);
    const next = lruGenFromSeq(this.maxSeq + 1);
    const nz = this.lruvec.nrZone;
    for (let type = 0; type < 2; type++) {
      for (let zone = 0; zone < MAX_NR_ZONES; zone++) {
        const lru = type * LRU_INACTIVE_FILE;
        const delta = this.nrPages[listIdx(prev, type, zone)]! - this.nrPages[listIdx(next, type, zone)]!;
        if (delta === 0) continue;
        nz[zone * NR_LRU_LISTS + lru]! += delta;
        nz[zone * NR_LRU_LISTS + lru + LRU_ACTIVE]! -= delta;
      }
    }
    this.timestamps[next] = this.jiffies();
    this.maxSeq++;
    this.nrAging++;
    return true;
  }

  /**
   * try_to_inc_max_seq() with walk_mm(): walk every mm's page tables,
   * test and clear the accessed bit of each present PTE of an LRU folio
   * and promote the folio (folio_update_gen) to the youngest generation;
   * then inc_max_seq(). VMAs a walk skips: VM_SEQ_READ / VM_RAND_READ
   * hinted, VM_IO / VM_PFNMAP / VM_LOCKED ones, anonymous ones when anon is
   * not evictable (swappiness 0). kmem walks every mm on each aging (the
   * kernel's mm list skips mms that did not run since the last walk).
   */
  tryToIncMaxSeq(seq: number, swappiness: number): boolean {
    if (seq !== this.maxSeq) return false;
    this.walkMms(lruGenFromSeq(seq), swappiness);
    return this.incMaxSeq(seq, swappiness);
  }

  /** walk_mm() over every mm: promote what the page tables say was accessed to generation newGen. */
  private walkMms(newGen: number, swappiness: number): void {
    const vm = this.vm;
    const s = vm.s;
    const u32 = vm.k.phys.u32;
    const f = vm.k.pages.flags;
    const skip = VM.SEQ_READ | VM.RAND_READ | VM.IO | VM.PFNMAP | VM.LOCKED;
    for (const mm of vm.mms.values()) {
      if (mm.pgd === 0) continue;
      for (const v of mm.vmas) {
        const flags = s.vmFlags(v);
        if ((flags & skip) !== 0) continue;
        // should_skip_vma(): anonymous memory is not aged while it cannot be evicted
        if (swappiness === 0 && s.vmFile(v) === 0) continue;
        forEachPte(vm, mm.pgd, s.vmStart(v), s.vmEnd(v), (idx, va) => {
          const lo = u32[idx]!;
          if ((lo & _PAGE_PRESENT) === 0 || (lo & (_PAGE_SPECIAL | _PAGE_ACCESSED)) !== _PAGE_ACCESSED) return;
          const pfn = lo >>> 12;
          if (pfn >= f.length || folioLruGen(f[pfn]!) < 0) return;
          u32[idx] = (lo & ~_PAGE_ACCESSED) >>> 0;
          invalidateTlbPage(mm, Math.floor(va / 4096));
          const oldGen = this.updateGen(pfn, newGen);
          if (oldGen >= 0 && oldGen !== newGen) {
            const type = folioIsFileLru(f[pfn]!) ? LRU_GEN_FILE : LRU_GEN_ANON;
            this.updateSize(type, vm.k.pageAlloc.pageZone(pfn), oldGen, newGen);
          }
        });
      }
    }
  }

  /** Pages in generations min_seq[type]..max_seq of the types evictable at this swappiness. */
  evictableSize(swappiness: number): number {
    let size = 0;
    for (let type = swappiness === 0 ? 1 : 0; type <= 1; type++) {
      for (let seq = this.minSeq[type]!; seq <= this.maxSeq; seq++) {
        const gen = lruGenFromSeq(seq);
        for (let zone = 0; zone < MAX_NR_ZONES; zone++) size += Math.max(this.nrPages[listIdx(gen, type, zone)]!, 0);
      }
    }
    return size;
  }

  /** evictable_min_seq(): the oldest generation of the evictable types. */
  evictableMinSeq(swappiness: number): number {
    return swappiness === 0 ? this.minSeq[LRU_GEN_FILE]! : Math.min(this.minSeq[0]!, this.minSeq[1]!);
  }

  /** The size of generation seq of a type (all zones). */
  genSize(seq: number, type: number): number {
    const gen = lruGenFromSeq(seq);
    let n = 0;
    for (let zone = 0; zone < MAX_NR_ZONES; zone++) n += Math.max(this.nrPages[listIdx(gen, type, zone)]!, 0);
    return n;
  }

  /** The folio at the tail of list (gen, type, zone), -1 if empty (lru_to_folio). */
  listTail(gen: number, type: number, zone: number): number {
    return this.tail[listIdx(gen, type, zone)]!;
  }

  /** read_ctrl_pos(): tier `tier`'s refaults and total (evicted + protected) with the averages; tier MAX_NR_TIERS sums all. */
  ctrlPos(type: number, tier: number, gain: number, pos: CtrlPos): void {
    pos.gain = gain;
    pos.refaulted = 0;
    pos.total = 0;
    const last = Math.min(tier, MAX_NR_TIERS - 1);
    for (let t = tier % MAX_NR_TIERS; t <= last; t++) {
      const i = tierIdx(type, t);
      pos.refaulted += this.avgRefaulted[i]! + this.refaulted[i]!;
      pos.total += this.avgTotal[i]! + this.protected[i]! + this.evicted[i]!;
    }
  }

  /** Count an eviction (lru_gen_eviction) or a refault (lru_gen_refault) in a tier. */
  countEvicted(type: number, tier: number): void {
    this.evicted[tierIdx(type, tier)]!++;
  }
  countRefaulted(type: number, tier: number): void {
    this.refaulted[tierIdx(type, tier)]!++;
  }

  /**
   * lru_gen_change_state(): enabling moves every evictable folio from the
   * classic lists to the generations (fill_evictable, each as
   * lru_gen_add_folio places it); disabling moves them back
   * (drain_evictable: the two youngest generations to the active lists).
   */
  changeState(enabled: boolean): void {
    const lv = this.lruvec;
    if (enabled === (lv.gen !== null)) return;
    if (enabled) {
      lv.gen = this;
      for (let lru = 0; lru < LRU_INACTIVE_FILE + 2; lru++) {
        while (lv.tail[lru]! >= 0) {
          const pfn = lv.tail[lru]!;
          lv.delClassic(pfn);
          this.addFolio(pfn, false);
        }
      }
      return;
    }
    for (let l = 0; l < this.head.length; l++) {
      while (this.tail[l]! >= 0) {
        const pfn = this.tail[l]!;
        this.delFolio(pfn, false);
        lv.addClassic(pfn);
      }
    }
    lv.gen = null;
  }
}

/** struct ctrl_pos: a PID controller's position (refaults over total, and the gain). */
export class CtrlPos {
  refaulted = 0;
  total = 0;
  gain = 0;
}

/**
 * positive_ctrl_err(): whether the process variable is within the set
 * point: few refaults (< MIN_LRU_BATCH), or a refault rate no higher than
 * the set point's, each weighed by its gain.
 */
export function positiveCtrlErr(sp: CtrlPos, pv: CtrlPos): boolean {
  return pv.refaulted < MIN_LRU_BATCH || pv.refaulted * (sp.total + MIN_LRU_BATCH) * sp.gain <= (sp.refaulted + 1) * pv.total * pv.gain;
}

const states = new WeakMap<Vm, LruGen>();

/** The node's lrugen (lru_gen_init_lruvec on first use: max_seq MIN_NR_GENS + 1, min_seq 0, every birth now). */
export function lruGenOf(vm: Vm): LruGen {
  let g = states.get(vm);
  if (g === undefined) {
    g = new LruGen(vm, vm.lruvec);
    states.set(vm, g);
  }
  return g;
}

/** lru_gen_enabled(): the multi-gen LRU holds the evictable folios. */
export function lruGenEnabled(vm: Vm): boolean {
  return vm.lruvec.gen !== null;
}

/**
 * lru_gen_inc_refs() of folio_mark_accessed(): an access through a file
 * descriptor. The first sets PG_referenced (clearing any old count), the
 * next ones count in LRU_REFS; past its maximum the folio becomes
 * workingset. Unevictable folios are left alone.
 */
export function lruGenIncRefs(vm: Vm, pfn: number): void {
  const f = vm.k.pages.flags;
  const v = f[pfn]!;
  if ((v & UNEVICTABLE) !== 0) return;
  if ((v & REFERENCED) === 0) {
    f[pfn] = (v & ~LRU_REFS_MASK) | REFERENCED;
    return;
  }
  if ((v & LRU_REFS_MASK) === LRU_REFS_MASK) {
    f[pfn] = v | WORKINGSET;
    return;
  }
  f[pfn] = v + (1 << LRU_REFS_PGOFF);
}

/**
 * lru_gen_set_refs() of folio_check_references(): a folio reclaim found
 * mapped and accessed. One referenced before (PG_referenced or
 * PG_workingset) is activated as workingset (true); else it only gets
 * PG_referenced, and is kept (false).
 */
export function lruGenSetRefs(vm: Vm, pfn: number): boolean {
  const f = vm.k.pages.flags;
  const v = f[pfn]!;
  if ((v & (REFERENCED | WORKINGSET)) === 0) {
    f[pfn] = (v & ~LRU_REFS_MASK) | REFERENCED;
    return false;
  }
  f[pfn] = (v & ~LRU_REFS_FLAGS) | WORKINGSET;
  return true;
}

/**
 * lru_gen_eviction(): the shadow of a folio being reclaimed, its type's
 * min_seq and its read count beyond the first (token = min_seq << 2 |
 * refs - 1) and PG_workingset, packed as token * 2 + workingset; the
 * eviction counts in its tier.
 */
export function lruGenEviction(vm: Vm, pfn: number): number {
  const g = lruGenOf(vm);
  const v = vm.k.pages.flags[pfn]!;
  const type = folioIsFileLru(v) ? LRU_GEN_FILE : LRU_GEN_ANON;
  const refs = folioLruRefs(v);
  const ws = (v & WORKINGSET) !== 0;
  const minSeq = g.minSeq[type]!;
  const token = minSeq * (1 << LRU_REFS_WIDTH) + Math.max(refs - 1, 0);
  g.countEvicted(type, lruTierFromRefs(refs, ws));
  return token * 2 + (ws ? 1 : 0);
}

/**
 * lru_gen_refault(): a folio read back where its shadow was. Counted in
 * workingset_refault_*; if it was evicted less than MAX_NR_GENS
 * generations ago (lru_gen_test_recent) it counts as a refault of its old
 * tier and gets its accesses back: PG_workingset (workingset_restore_*,
 * and workingset_activate_* when it comes back through a page fault, where
 * folio_add_lru() activates it) or its read count.
 */
export function lruGenRefault(vm: Vm, pfn: number, shadow: number): void {
  const g = lruGenOf(vm);
  const f = vm.k.pages.flags;
  const v = f[pfn]!;
  const file = folioIsFileLru(v);
  const type = file ? LRU_GEN_FILE : LRU_GEN_ANON;
  const ev = vm.lruEv;
  if (file) ev.workingsetRefaultFile++;
  else ev.workingsetRefaultAnon++;
  const ws = shadow % 2 === 1;
  const token = Math.floor(shadow / 2);
  const evictedSeq = Math.floor(token / (1 << LRU_REFS_WIDTH));
  if (Math.abs(g.maxSeq - evictedSeq) >= MAX_NR_GENS) return;
  const refs = (token % (1 << LRU_REFS_WIDTH)) + 1;
  g.countRefaulted(type, lruTierFromRefs(refs, ws));
  if (ws) {
    // folio_add_lru() activates what a fault adds: counted for the workingset ones
    if (vm.lruvec.inFault) {
      if (file) ev.workingsetActivateFile++;
      else ev.workingsetActivateAnon++;
    }
    f[pfn] = v | WORKINGSET;
    if (file) ev.workingsetRestoreFile++;
    else ev.workingsetRestoreAnon++;
  } else f[pfn] = (v & ~LRU_REFS_MASK) | ((refs - 1) << LRU_REFS_PGOFF);
}
