/**
 * SLUB (mm/slub.c): objects carved out of slabs of 2^order pages.
 *
 * Where a free object can be, and who may touch it:
 *   - on its CPU's lockless freelist (cpuFreelist), if its slab is that CPU's
 *     cpu slab; only that CPU touches it, so the fast paths need no lock;
 *   - on its slab's own freelist (slab->freelist in slabCounters), reached by
 *     every other free: a remote free, or any free to a slab that is not the
 *     current cpu slab. Updated as one word (freelist | inuse | frozen), the
 *     way the kernel's cmpxchg_double updates freelist + counters.
 *
 * A slab is in exactly one of four states (mm/slub.c header comment):
 *   cpu slab       frozen, owned by one CPU, on no list
 *   cpu partial    not frozen, on one CPU's partial chain (slabNext)
 *   node partial   not frozen, on the node partial list (PG_workingset set)
 *   full           not frozen, on no list (debug caches keep a full list)
 *
 * inuse counts objects not on slab->freelist; objects on a cpu freelist count
 * as in use until deactivateSlab gives them back.
 */
import { endEntry, suspendEntry } from '../lib/stacktrace.js';
import { PAGE_SHIFT } from '../memory/memblock.js';
import { type PageArray, PG, PGTY, SlabWord } from '../memory/page.js';
import { GFP_CONSTRAINT_MASK, GFP_RECLAIM_MASK, GFP_SLAB_BUG_MASK, Gfp } from '../page_alloc/gfp.js';
import type { PageAlloc } from '../page_alloc/page_alloc.js';
import type { SlubDebug } from './debug.js';
import { freepointerOops } from './oops.js';
import { Sheaves } from './sheaf.js';
import { bswap32, type CacheInfo, CF, DirectMap, isObjectOffset, listAdd, listDel, MAX_CACHES, reciprocalIndex, SlabState, SlubStat } from './slab.js';
import { SLAB_KMALLOC, SLAB_STORE_USER } from './slab_flags.js';

/** Hooks a KASAN or slub_debug machine installs at boot; null when off. */
export interface SlubHooks {
  /** A new slab's pages were taken: poison them (kasan_poison_slab). */
  poisonSlab: ((s: number, base: number, bytes: number) => void) | null;
  /** An object leaves the allocator with `gfp`: unpoison `size` bytes (kasan_slab_alloc / kasan_kmalloc); gfp 0 for a ctor's object. */
  slabAlloc: ((s: number, obj: number, size: number, gfp: number) => void) | null;
  /** An object is freed: return true to keep it (quarantine) instead of freeing now. */
  slabFree: ((s: number, obj: number) => boolean) | null;
  /** A large kmalloc is freed at addr (head pfn given): check it (the free goes on regardless). */
  largeFree: ((headPfn: number, addr: number) => void) | null;
  /** kasan_check_byte(): is the first byte of an object accessible? Reports if not. */
  checkByte: ((addr: number) => boolean) | null;
  /** krealloc() kept the object at a new size: re-poison it. */
  krealloc: ((addr: number, newSize: number) => void) | null;
  /** A large kmalloc of `size` bytes was handed out at addr (kasan_kmalloc_large). */
  kmallocLarge: ((addr: number, size: number, gfp: number) => void) | null;
  /** A cache is shrunk or destroyed: give back its quarantined objects first (kasan_cache_shrink). */
  cacheShrink: ((s: number) => void) | null;
}

/** Reports the slab layer raises; the kernel object supplies them. */
export interface SlubReports {
  /** WARN() in `file` (mm/slub.c by default); an empty text is a WARN_ON(). */
  warn(text: string, file?: string): void;
  /** A kernel BUG_ON() that kmem survives (the object is not freed). */
  bugOn(where: string, text: string): void;
  /** slab_err() of a pointer given to free that is no object start. */
  invalidFree(s: number, obj: number): void;
  /** kfree() of a page that is neither a slab nor a large kmalloc. */
  notKmalloc(pfn: number): void;
  /** slab_out_of_memory(). */
  outOfMemory(s: number, gfp: number): void;
  /** kmalloc_fix_flags(): warn about GFP_SLAB_BUG_MASK bits and return gfp without them. */
  fixFlags(gfp: number): number;
}

export class Slub {
  readonly st: SlabState;
  readonly cf: Int32Array;
  /** The kmem_cache_cpu arrays of st, held directly so the fast paths load one field each. */
  readonly cpuFreelist: Uint32Array;
  readonly cpuSlab: Int32Array;
  readonly cpuPartial: Int32Array;
  /** Objects allocated / freed per (cpu, cache) (SlabState.cpuAllocs, cpuFrees). */
  readonly cpuAllocs: Int32Array;
  readonly cpuFrees: Int32Array;
  // The struct slab arrays of pages, held directly for the same reason.
  readonly slabCounters: Uint32Array;
  readonly slabObjects: Uint16Array;
  readonly slabNext: Int32Array;
  readonly slabSlabs: Int32Array;
  readonly pages: PageArray;
  /**
   * The cache of every page of a live slab, tail pages too (-1 elsewhere):
   * virt_to_cache() in one load of a 2-byte entry, for the 7.0 free fast
   * path (src/slub/fastpath70.ts), where a random free would otherwise read
   * the page's head and then the head's slab_cache, two dependent misses.
   */
  readonly pageCache: Int16Array;
  readonly pa: PageAlloc;
  readonly u32: Uint32Array;
  readonly u8: Uint8Array;
  /** The same memory for big-endian stores (the free pointer's high word). */
  readonly dv: DataView;
  readonly caches: (CacheInfo | undefined)[] = [];
  readonly hooks: SlubHooks;
  readonly reports: SlubReports;
  /** slub_debug (src/slub/debug.ts): the slow paths of debug caches (CF.DEBUG), validate, reports. */
  debug: SlubDebug | null = null;
  /** The per-CPU sheaves and barns of the caches created with a sheaf capacity (src/slub/sheaf.ts). */
  readonly sheaves: Sheaves;
  /** Running CPU times MAX_CACHES: the row of this CPU's kmem_cache_cpu entries. */
  cpuBase = 0;
  cpu = 0;
  readonly statsOn: boolean;
  /** Booted with kernel: '7.0' (src/slub/slub70.ts): sheaves for every cache, no cpu slab. */
  readonly kernel70: boolean;
  /** Nonzero when every allocation needs postAlloc (SLUB stats or a KASAN hook): see hooksChanged. */
  allocHooked = 0;
  /** Nonzero when no free may take slabFreeFast (SLUB stats, a KASAN hook, no freelist hardening). */
  freeHooked = 0;
  /** CONFIG_SLAB_FREELIST_HARDENED; set by SlabCommon, which chooses each cache's random. */
  freelistHardened = true;
  /** 1 / s->size per cache, for object index arithmetic without a division. */
  readonly invSize = new Float64Array(MAX_CACHES);
  /**
   * -(1 << CF.SLAB_SHIFT) per cache: the bits above a slab block of the
   * cache's order. The lockless pop tests a free pointer against it with one
   * AND ((next ^ obj) & mask) where a shift by CF.SLAB_SHIFT would need a
   * variable shift (x86's count in cl: register moves around it in V8's code).
   */
  readonly slabMask = new Int32Array(MAX_CACHES);
  readonly freelistRandom: boolean;
  private rand: () => number;
  /**
   * Slab pages per reclaimable / unreclaimable accounting (NR_SLAB_*_B in
   * pages): per-CPU counters in st.slabPages (as the kernel's vmstat diffs),
   * summed on read; a write adds its change to the running CPU's counter.
   */
  get slabPagesReclaimable(): number {
    return this.sumSlabPages(0);
  }
  set slabPagesReclaimable(v: number) {
    this.st.slabPages[this.cpu * 2]! += v - this.sumSlabPages(0);
  }
  get slabPagesUnreclaimable(): number {
    return this.sumSlabPages(1);
  }
  set slabPagesUnreclaimable(v: number) {
    this.st.slabPages[this.cpu * 2 + 1]! += v - this.sumSlabPages(1);
  }
  private sumSlabPages(which: number): number {
    let n = 0;
    for (let c = 0; c < this.st.cpus; c++) n += this.st.slabPages[c * 2 + which]!;
    return n;
  }

  constructor(
    pa: PageAlloc,
    pages: PageArray,
    u8: Uint8Array,
    cpus: number,
    shared: boolean,
    opts: { slubStats: boolean; freelistRandom: boolean; rand: () => number; kernel70?: boolean },
    hooks: SlubHooks,
    reports: SlubReports,
  ) {
    this.pa = pa;
    this.pages = pages;
    this.u8 = u8;
    this.u32 = new Uint32Array(u8.buffer, u8.byteOffset, u8.byteLength >>> 2);
    this.dv = new DataView(u8.buffer, u8.byteOffset, u8.byteLength);
    this.st = new SlabState(cpus, shared, opts.slubStats);
    this.cf = this.st.cf;
    this.cpuFreelist = this.st.cpuFreelist;
    this.cpuSlab = this.st.cpuSlab;
    this.cpuPartial = this.st.cpuPartial;
    this.cpuAllocs = this.st.cpuAllocs;
    this.cpuFrees = this.st.cpuFrees;
    this.slabCounters = pages.slabCounters;
    this.slabObjects = pages.slabObjects;
    this.slabNext = pages.slabNext;
    this.slabSlabs = pages.slabSlabs;
    this.pageCache = new Int16Array(new (shared ? SharedArrayBuffer : ArrayBuffer)(pages.nr * 2)).fill(-1);
    this.statsOn = opts.slubStats;
    this.kernel70 = opts.kernel70 === true;
    this.freelistRandom = opts.freelistRandom;
    this.rand = opts.rand;
    this.hooks = hooks;
    this.reports = reports;
    this.sheaves = new Sheaves(this);
    this.hooksChanged();
  }

  /** Recompute allocHooked after the hooks were installed (KASAN, once at boot). */
  hooksChanged(): void {
    this.allocHooked = this.statsOn || this.hooks.slabAlloc !== null ? 1 : 0;
    this.freeHooked = this.statsOn || this.hooks.slabFree !== null || !this.freelistHardened ? 1 : 0;
  }

  /** Objects of cache s allocated so far, all CPUs. */
  allocsOf(s: number): number {
    let n = this.cf[s * CF.FIELDS + CF.ALLOCS]!;
    for (let c = 0; c < this.st.cpus; c++) n += this.cpuAllocs[c * MAX_CACHES + s]!;
    return n;
  }

  /** Objects of cache s freed so far, all CPUs. */
  freesOf(s: number): number {
    let n = this.cf[s * CF.FIELDS + CF.FREES]!;
    for (let c = 0; c < this.st.cpus; c++) n += this.cpuFrees[c * MAX_CACHES + s]!;
    return n;
  }

  setCpu(cpu: number): void {
    this.cpu = cpu;
    this.cpuBase = cpu * MAX_CACHES;
  }

  /** stat(): CONFIG_SLUB_STATS counter, nothing when the option is off. */
  stat(s: number, item: number, n = 1): void {
    if (this.statsOn) this.st.stats[(this.cpuBase + s) * SlubStat.NR_SLUB_STAT_ITEMS + item]! += n;
  }

  // ───────────────────────── free pointers ─────────────────────────

  /** get_freepointer(): decode the next free object's address stored in obj. */
  getFreepointer(s: number, obj: number): number {
    return (this.u32[(obj + this.cf[s * CF.FIELDS + CF.OFFSET]!) >>> 2]! ^ this.cf[s * CF.FIELDS + CF.XOR_LO]!) >>> 0;
  }

  /**
   * set_freepointer(): store fp (0 = NULL) in obj, encoded. With hardening,
   * storing an object's own address in itself is the naive double-free check.
   */
  setFreepointer(s: number, obj: number, fp: number): void {
    const r = s * CF.FIELDS;
    const loc = obj + this.cf[r + CF.OFFSET]!;
    if (this.cf[r + CF.XOR_HI] !== 0) {
      this.setFreepointerHardened(r, loc, fp);
    } else {
      this.u32[loc >>> 2] = fp;
      this.u32[(loc >>> 2) + 1] = fp === 0 ? 0 : DirectMap.HI;
    }
  }

  /**
   * The kernel stores ptr ^ s->random ^ swab(&fp) in 64 bits at loc = &fp
   * (cache row r). For direct-map addresses the low word is fp ^ XOR_LO
   * (random's low word with swab's constant low word folded in), and the
   * high word ptr's high word (0 for NULL) ^ random's ^ bswap32(loc): stored
   * big-endian, that is loc ^ FP_HI_BE (^ bswap32(HI) for NULL), no swap.
   */
  setFreepointerHardened(r: number, loc: number, fp: number): void {
    this.u32[loc >>> 2] = fp ^ this.cf[r + CF.XOR_LO]!;
    this.dv.setUint32(loc + 4, loc ^ this.cf[r + CF.FP_HI_BE]! ^ (fp === 0 ? DirectMap.SWAB_LO : 0), false);
  }

  // ───────────────────────── struct slab ─────────────────────────

  /** First object's address in the slab headed by pfn. */
  slabBase(s: number, pfn: number): number {
    return pfn * 4096 + this.cf[s * CF.FIELDS + CF.RED_LEFT_PAD]!;
  }

  /** slab->freelist as an address (0 = NULL). */
  slabFreelist(s: number, pfn: number): number {
    const idx = (this.slabCounters[pfn]! & SlabWord.FREELIST_MASK) >>> SlabWord.FREELIST_SHIFT;
    return idx === 0 ? 0 : pfn * 4096 + this.cf[s * CF.FIELDS + CF.RED_LEFT_PAD]! + (idx - 1) * this.cf[s * CF.FIELDS + CF.SIZE]!;
  }

  slabInuse(pfn: number): number {
    return this.slabCounters[pfn]! & SlabWord.INUSE_MASK;
  }

  slabFrozen(pfn: number): boolean {
    return (this.slabCounters[pfn]! & SlabWord.FROZEN) !== 0;
  }

  /** Object index of an address in its slab (the address must be an object start). */
  objIndex(s: number, pfn: number, obj: number): number {
    return this.offsetToIndex(s, obj - this.slabBase(s, pfn));
  }

  /**
   * off / s->size without a division: the int32 reciprocal for offsets below
   * 2^15, the scaled float reciprocal beyond (slabs above order 3). Exact
   * for every multiple of size; for other offsets it is some index whose
   * product with size differs from off, which is how callers tell them apart.
   */
  offsetToIndex(s: number, off: number): number {
    const r = s * CF.FIELDS;
    return (off & ~0x7fff) === 0 ? reciprocalIndex(off, this.cf[r + CF.RECIP_MUL]!, this.cf[r + CF.RECIP_SHIFT]!) : (off * this.invSize[s]!) | 0;
  }

  /**
   * Is addr the start of an object in slab `head` of cache s? All in int32:
   * addr and head << 12 may wrap, but their difference is the small offset.
   * The index is off / size by a multiply with the reciprocal (as
   * reciprocal_divide() does, offsetToIndex), and an
   * exact product proves an object start.
   */
  isObjectStart(s: number, head: number, addr: number): boolean {
    const cf = this.cf;
    const r = s * CF.FIELDS;
    const off = (((addr | 0) - (head << 12)) | 0) - cf[r + CF.RED_LEFT_PAD]!;
    if ((off & ~0x7fff) !== 0) return this.isObjectStartFar(s, head, off);
    return isObjectOffset(off, cf[r + CF.RECIP_MUL]!, cf[r + CF.RECIP_SHIFT]!, cf[r + CF.SIZE]!, this.slabObjects[head]!);
  }

  /** isObjectStart for an offset outside 0..2^15 - 1 (slabs above order 3, or below the slab). */
  private isObjectStartFar(s: number, head: number, off: number): boolean {
    if (off < 0) return false;
    const idx = this.offsetToIndex(s, off);
    return Math.imul(idx, this.cf[s * CF.FIELDS + CF.SIZE]!) === off && idx < this.slabObjects[head]!;
  }

  /** slab_update_freelist(): set freelist, inuse and frozen in one word. */
  setSlabCounters(s: number, pfn: number, freelist: number, inuse: number, frozen: boolean): void {
    const idx = freelist === 0 ? 0 : this.objIndex(s, pfn, freelist) + 1;
    this.slabCounters[pfn] = ((idx << SlabWord.FREELIST_SHIFT) | inuse | (frozen ? SlabWord.FROZEN : 0)) >>> 0;
  }

  /** The slab (head pfn) an address belongs to, or -1 if it is not in a slab. */
  virtToSlab(addr: number): number {
    const pfn = Math.floor(addr / 4096);
    if (pfn <= 0 || pfn >= this.pages.nr) return -1;
    const head = this.pages.compoundHead(pfn);
    return this.pages.pageType[head] === PGTY.slab ? head : -1;
  }

  // ───────────────────────── node partial list ─────────────────────────

  /** __add_partial(): onto the node partial list at head or tail; marks PG.workingset. */
  addPartial(s: number, pfn: number, toTail: boolean): void {
    const r = s * CF.FIELDS;
    const p = this.pages;
    this.cf[r + CF.NR_PARTIAL]!++;
    p.flags[pfn]! |= 1 << PG.workingset;
    listAdd(p.next, p.prev, this.cf, r + CF.PARTIAL_HEAD, r + CF.PARTIAL_TAIL, pfn, toTail);
  }

  /** remove_partial() */
  removePartial(s: number, pfn: number): void {
    const r = s * CF.FIELDS;
    const p = this.pages;
    listDel(p.next, p.prev, this.cf, r + CF.PARTIAL_HEAD, r + CF.PARTIAL_TAIL, pfn);
    p.flags[pfn]! &= ~(1 << PG.workingset);
    this.cf[r + CF.NR_PARTIAL]!--;
  }

  onNodePartial(pfn: number): boolean {
    return (this.pages.flags[pfn]! & (1 << PG.workingset)) !== 0;
  }

  // ───────────────────────── new and discarded slabs ─────────────────────────

  /**
   * allocate_slab(): the preferred order without warnings or retries first,
   * then the minimum order with the caller's flags (SlubStat.ORDER_FALLBACK). The new
   * slab's objects are linked in address order, or in the cache's shuffled
   * order with CONFIG_SLAB_FREELIST_RANDOM; the ctor runs on each.
   */
  newSlab(s: number, gfp: number): number {
    const cf = this.cf;
    const r = s * CF.FIELDS;
    // new_slab(): the zone and mobility come from the cache (allocflags), only
    // the caller's reclaim behaviour and placement constraints pass on.
    if ((gfp & GFP_SLAB_BUG_MASK) !== 0) gfp = this.reports.fixFlags(gfp);
    const flags = cf[r + CF.ALLOCFLAGS]! | (gfp & (GFP_RECLAIM_MASK | GFP_CONSTRAINT_MASK));
    let order = cf[r + CF.ORDER]!;
    let objects = cf[r + CF.OBJECTS]!;
    let allocGfp = (flags | Gfp.NOWARN | Gfp.NORETRY) & ~Gfp.NOFAIL;
    if (allocGfp & Gfp.DIRECT_RECLAIM && order > cf[r + CF.MIN_ORDER]!) allocGfp = (allocGfp | Gfp.NOMEMALLOC) & ~Gfp.RECLAIM;
    let pfn = this.pa.allocPagesPfn(order, order > 0 ? allocGfp | Gfp.COMP : allocGfp);
    if (pfn < 0) {
      order = cf[r + CF.MIN_ORDER]!;
      objects = cf[r + CF.MIN_OBJECTS]!;
      pfn = this.pa.allocPagesPfn(order, order > 0 ? flags | Gfp.COMP : flags);
      if (pfn < 0) return -1;
      this.stat(s, SlubStat.ORDER_FALLBACK);
    }
    const p = this.pages;
    p.pageType[pfn] = PGTY.slab;
    p.slabCache[pfn] = s;
    this.pageCache.fill(s, pfn, pfn + (1 << order));
    p.slabObjects[pfn] = objects;
    p.slabNext[pfn] = -1;
    p.order[pfn] = order;
    const base = pfn * 4096;
    const bytes = 4096 << order;
    const info = this.caches[s]!;
    if (this.hooks.poisonSlab !== null) this.hooks.poisonSlab(s, base, bytes);
    // slub_debug: setup_slab_debug() and setup_object_debug() (poison, red zones, tracks).
    if (cf[r + CF.DEBUG] !== 0) this.debug!.setupSlab(s, pfn);
    // Link the freelist: in order, or through the shuffled sequence. A
    // constructor that throws (the kernel's can't) gives the pages back
    // before the exception goes on: nothing was counted yet.
    let head: number;
    try {
      head = this.linkFreelist(s, info, pfn, objects);
    } catch (e) {
      this.freeSlabPages(pfn, order);
      throw e;
    }
    this.setSlabCounters(s, pfn, head, 0, false);
    // inc_slabs_node() and the vmstat slab accounting.
    this.incSlabsNode(s, objects);
    this.st.slabPages[this.cpu * 2 + (this.isReclaimable(s) ? 0 : 1)]! += 1 << order;
    this.stat(s, SlubStat.ALLOC_SLAB);
    return pfn;
  }

  /** The new slab's freelist, with setup_object() (the ctor) on each object: returns the first. */
  private linkFreelist(s: number, info: CacheInfo, pfn: number, objects: number): number {
    const cf = this.cf;
    const r = s * CF.FIELDS;
    const size = cf[r + CF.SIZE]!;
    const first = pfn * 4096 + cf[r + CF.RED_LEFT_PAD]!;
    let head: number;
    const seq = this.freelistRandom && objects >= 2 ? info.randomSeq : null;
    if (seq === null) {
      head = first;
      for (let i = 0; i < objects; i++) {
        const obj = first + i * size;
        this.setupObject(s, info, obj);
        this.setFreepointer(s, obj, i + 1 < objects ? obj + size : 0);
      }
    } else {
      // shuffle_freelist(): start at a random position, walk the sequence cyclically.
      const count = seq.length;
      let pos = Math.floor(this.rand() * count);
      const next = (): number => {
        for (;;) {
          const idx = seq[pos]!;
          pos = pos + 1 === count ? 0 : pos + 1;
          if (idx < objects) return idx;
        }
      };
      let cur = first + next() * size;
      head = cur;
      this.setupObject(s, info, cur);
      for (let i = 1; i < objects; i++) {
        const nxt = first + next() * size;
        this.setupObject(s, info, nxt);
        this.setFreepointer(s, cur, nxt);
        cur = nxt;
      }
      this.setFreepointer(s, cur, 0);
    }
    return head;
  }

  /** A slab's pages back to the buddy allocator, its struct slab fields cleared. */
  private freeSlabPages(pfn: number, order: number): void {
    const p = this.pages;
    p.pageType[pfn] = PGTY.NONE;
    p.slabCache[pfn] = -1;
    this.pageCache.fill(-1, pfn, pfn + (1 << order));
    p.slabCounters[pfn] = 0;
    p.slabObjects[pfn] = 0;
    p.slabNext[pfn] = -1;
    p.flags[pfn]! &= ~(1 << PG.workingset);
    this.pa.freePagesPfn(pfn, order);
  }

  /** setup_object(): the constructor, if any, on a fresh object. */
  private setupObject(s: number, info: CacheInfo, obj: number): void {
    if (info.ctor !== null) {
      const slabAlloc = this.hooks.slabAlloc;
      if (slabAlloc !== null) slabAlloc(s, obj, this.cf[s * CF.FIELDS + CF.OBJECT_SIZE]!, 0);
      const entry = suspendEntry();
      try {
        info.ctor(obj);
      } finally {
        endEntry(entry);
      }
      if (this.hooks.poisonSlab !== null) this.hooks.poisonSlab(s, obj, this.cf[s * CF.FIELDS + CF.OBJECT_SIZE]!);
    }
  }

  isReclaimable(s: number): boolean {
    return (this.cf[s * CF.FIELDS + CF.ALLOCFLAGS]! & 0x10) !== 0; // Gfp.RECLAIMABLE
  }

  /** inc_slabs_node(): nr_slabs and total_objects (atomic_long_t in the kernel: SlubSmp adds atomically). */
  protected incSlabsNode(s: number, objects: number): void {
    this.cf[s * CF.FIELDS + CF.NR_SLABS]!++;
    this.cf[s * CF.FIELDS + CF.TOTAL_OBJECTS]! += objects;
  }

  /** dec_slabs_node() */
  protected decSlabsNode(s: number, objects: number): void {
    this.cf[s * CF.FIELDS + CF.NR_SLABS]!--;
    this.cf[s * CF.FIELDS + CF.TOTAL_OBJECTS]! -= objects;
  }

  /** discard_slab(): dec_slabs_node() and the pages back to the buddy allocator. */
  discardSlab(s: number, pfn: number): void {
    const p = this.pages;
    const order = p.order[pfn]!;
    this.decSlabsNode(s, p.slabObjects[pfn]!);
    this.st.slabPages[this.cpu * 2 + (this.isReclaimable(s) ? 0 : 1)]! -= 1 << order;
    this.freeSlabPages(pfn, order);
  }

  // ───────────────────────── allocation ─────────────────────────

  /**
   * slab_alloc_node(): pop the CPU's lockless freelist when it has an object;
   * otherwise ___slab_alloc. Returns the object or 0.
   * Invariant: cpuFreelist != 0 only while cpuSlab >= 0, and every object on
   * it belongs to that slab. Kept small so it inlines: everything optional
   * (stats, Gfp.ZERO, the KASAN hook) is behind one test (allocHooked).
   */
  slabAlloc(s: number, gfp: number, origSize: number): number {
    const i = this.cpuBase + s;
    const freelist = this.cpuFreelist;
    const obj = freelist[i]!;
    if (obj === 0 || ((gfp & Gfp.ZERO) | this.allocHooked) !== 0) return this.slabAllocHooked(s, gfp, origSize);
    this.popCpuFreelist(s, i, obj);
    this.cpuAllocs[i]!++;
    return obj;
  }

  /**
   * Pop obj, the head of cpu freelist i: its free pointer becomes the head.
   * Only a pointer into obj's own slab block is taken as it is; NULL (once a
   * slab) and anything corrupt go through loadFreelist, which checks it.
   */
  popCpuFreelist(s: number, i: number, obj: number): void {
    const cf = this.cf;
    const r = s * CF.FIELDS;
    const next = (this.u32[(obj + cf[r + CF.OFFSET]!) >>> 2]! ^ cf[r + CF.XOR_LO]!) >>> 0;
    if ((next ^ obj) >>> cf[r + CF.SLAB_SHIFT]! === 0) this.cpuFreelist[i] = next;
    else this.loadFreelist(s, i, obj);
  }

  /** Push obj on cpu freelist i, whose head is `head` (set_freepointer, then obj is the head). */
  pushCpuFreelist(s: number, i: number, obj: number, head: number): void {
    this.setFreepointer(s, obj, head);
    this.cpuFreelist[i] = obj;
  }

  /** slabAlloc with the post-alloc work (stats, Gfp.ZERO, the KASAN hook), or ___slab_alloc. */
  private slabAllocHooked(s: number, gfp: number, origSize: number): number {
    const i = this.cpuBase + s;
    let obj = this.cpuFreelist[i]!;
    const fast = obj !== 0;
    if (fast) this.popCpuFreelist(s, i, obj);
    else if (this.cf[s * CF.FIELDS + CF.SHEAF_CAPACITY] !== 0) obj = this.allocFromSheaves(s, gfp);
    else obj = this.slabAllocSlow(s, gfp, i, origSize);
    if (obj === 0) return 0;
    this.cpuAllocs[i]!++;
    if (((gfp & Gfp.ZERO) | this.allocHooked) !== 0) this.postAlloc(s, gfp, obj, origSize, fast);
    return obj;
  }

  /**
   * slab_post_alloc_hook(): Gfp.ZERO clears object_size bytes, or only the
   * requested size where slub_debug keeps it (a kmalloc cache with U, whose
   * tail is kmalloc redzone); then the KASAN hook.
   */
  private postAlloc(s: number, gfp: number, obj: number, origSize: number, fast: boolean): void {
    if (fast && this.statsOn) this.stat(s, SlubStat.ALLOC_FASTPATH);
    if (gfp & Gfp.ZERO) {
      const r = s * CF.FIELDS;
      const origKept = (this.cf[r + CF.FLAGS]! & (SLAB_STORE_USER | SLAB_KMALLOC)) === (SLAB_STORE_USER | SLAB_KMALLOC);
      this.u8.fill(0, obj, obj + (origKept ? origSize : this.cf[r + CF.OBJECT_SIZE]!));
    }
    const hook = this.hooks.slabAlloc;
    if (hook !== null) hook(s, obj, origSize, gfp);
  }

  /**
   * Take the cpu freelist's first object and make the rest the cpu freelist
   * (load_freelist), checking the free pointer it leaves there: NULL or an
   * object of the same slab, stored as set_freepointer() stores it. A
   * corrupt one (a use-after-free write) is not followed: the object still
   * goes out, as in the kernel, and the fault the kernel takes on its next
   * pop is left pending (cpuBadFpPending) for slabAllocSlow to report.
   */
  loadFreelist(s: number, i: number, freelist: number): number {
    const next = this.getFreepointer(s, freelist);
    if (!this.freepointerValid(s, freelist, next)) {
      this.cpuFreelist[i] = 0;
      this.st.cpuBadFpPending[i] = 1;
      this.st.cpuBadFp[2 * i] = next;
      this.st.cpuBadFp[2 * i + 1] = this.freepointerHi(s, freelist);
      return freelist;
    }
    this.cpuFreelist[i] = next;
    return freelist;
  }

  /**
   * Is next (obj's decoded free pointer) one SLUB could have stored: both
   * words as set_freepointer() writes them, and NULL or an object start of
   * obj's slab?
   */
  freepointerValid(s: number, obj: number, next: number): boolean {
    const cf = this.cf;
    const r = s * CF.FIELDS;
    const loc = obj + cf[r + CF.OFFSET]!;
    if (cf[r + CF.XOR_HI] !== 0) {
      if ((this.dv.getUint32(loc + 4, false) ^ loc ^ cf[r + CF.FP_HI_BE]!) !== (next === 0 ? DirectMap.SWAB_LO : 0)) return false;
    } else if (this.u32[(loc >>> 2) + 1] !== (next === 0 ? 0 : DirectMap.HI >>> 0)) {
      return false;
    }
    if (next === 0) return true;
    const head = this.virtToSlab(obj);
    return head >= 0 && this.virtToSlab(next) === head && this.isObjectStart(s, head, next);
  }

  /** The oops of a read through the bad free pointer hi:lo (src/slub/oops.ts; it needs the machine's printk, through slub_debug's env). */
  protected freepointerFault(hi: number, lo: number): void {
    if (this.debug !== null) freepointerOops(this.debug.env, hi, lo);
    else this.reports.bugOn('get_freepointer', `free pointer ${hi.toString(16)}:${lo.toString(16)} is corrupt`);
  }

  /** The high word of obj's decoded free pointer (the kernel's 64-bit value is hi:next). */
  protected freepointerHi(s: number, obj: number): number {
    const cf = this.cf;
    const r = s * CF.FIELDS;
    const loc = obj + cf[r + CF.OFFSET]!;
    const stored = this.u32[(loc >>> 2) + 1]!;
    if (cf[r + CF.XOR_HI] === 0) return stored;
    // stored = hi ^ random_hi ^ bswap32(loc), as setFreepointerHardened writes it.
    return (stored ^ cf[r + CF.XOR_HI]! ^ bswap32(loc)) >>> 0;
  }

  /**
   * The fault the kernel takes reading through a corrupt free pointer: the
   * cpu slab is given up with what is left of its freelist (the objects
   * beyond the bad pointer stay lost, counted in use, as the kernel's
   * "Isolate corrupted freechain" leaves them), then the oops. This
   * allocation returns NULL, where the kernel's task would have died.
   */
  private freelistFault(s: number, i: number): number {
    this.st.cpuBadFpPending[i] = 0;
    const slab = this.cpuSlab[i]!;
    this.cpuSlab[i] = -1;
    this.cpuFreelist[i] = 0;
    if (slab >= 0) this.deactivateSlab(s, slab, 0);
    this.freepointerFault(this.st.cpuBadFp[2 * i + 1]!, this.st.cpuBadFp[2 * i]!);
    return 0;
  }

  /**
   * ___slab_alloc(): in the kernel's order — the cpu slab's own freelist
   * (remote frees), the cpu partial list, the node partial list, a new slab.
   */
  slabAllocSlow(s: number, gfp: number, i: number, origSize = -1): number {
    if (this.st.cpuBadFpPending[i] !== 0) return this.freelistFault(s, i);
    this.stat(s, SlubStat.ALLOC_SLOWPATH);
    // slub_debug: alloc_single_from_partial / alloc_single_from_new_slab under the list lock.
    if (this.cf[s * CF.FIELDS + CF.DEBUG] !== 0) return this.debug!.alloc(s, gfp, origSize);
    let slab = this.cpuSlab[i]!;
    if (slab >= 0) {
      const freelist = this.getFreelist(s, slab);
      if (freelist !== 0) {
        this.stat(s, SlubStat.ALLOC_REFILL);
        return this.loadFreelist(s, i, freelist);
      }
      this.cpuSlab[i] = -1;
      this.stat(s, SlubStat.DEACTIVATE_BYPASS);
    }
    // new_slab: the cpu partial list.
    while (this.cpuPartial[i]! >= 0) {
      slab = this.cpuPartial[i]!;
      this.cpuPartial[i] = this.slabNext[slab]!;
      if (this.cpuPartial[i]! >= 0) this.slabSlabs[this.cpuPartial[i]!] = this.slabSlabs[slab]! - 1;
      this.slabNext[slab] = -1;
      this.stat(s, SlubStat.CPU_PARTIAL_ALLOC);
      const freelist = this.freezeSlab(s, slab);
      if (freelist === 0) continue;
      this.cpuSlab[i] = slab;
      return this.loadFreelist(s, i, freelist);
    }
    // new_objects: the node partial list.
    slab = this.getPartialNode(s);
    if (slab >= 0) {
      const freelist = this.freezeSlab(s, slab);
      this.cpuSlab[i] = slab;
      return this.loadFreelist(s, i, freelist);
    }
    slab = this.newSlab(s, gfp);
    if (slab < 0) {
      if (!(gfp & Gfp.NOWARN)) this.reports.outOfMemory(s, gfp);
      return 0;
    }
    const freelist = this.slabFreelist(s, slab);
    this.setSlabCounters(s, slab, 0, this.slabObjects[slab]!, true);
    this.cpuSlab[i] = slab;
    return this.loadFreelist(s, i, freelist);
  }

  /**
   * slab_alloc_node() of a cache with sheaves (whose cpu freelist is always
   * empty, so its allocations all come here): alloc_from_pcs(), then one
   * object from the slabs when the sheaves can't serve it.
   */
  private allocFromSheaves(s: number, gfp: number): number {
    const obj = this.sheaves.alloc(s, gfp);
    if (obj !== 0) return obj;
    const one = this.sheaves.allocSlow(s, gfp);
    if (one === 0 && !(gfp & Gfp.NOWARN)) this.reports.outOfMemory(s, gfp);
    return one;
  }

  /**
   * Take n objects from the slabs into out[at..at + n), all or none: from
   * the node partial list, first slab first, then from new slabs (the
   * refill of a sheaf, as 7.0's __refill_objects; 6.18 went through the
   * cpu slab). A slab left full leaves the partial list; a new slab with
   * objects left joins it at the head. On failure what was taken goes back
   * and nothing is reported (the caller does).
   */
  takeObjects(s: number, gfp: number, n: number, out: Uint32Array, at: number): boolean {
    const cf = this.cf;
    const r = s * CF.FIELDS;
    let k = 0;
    let slab = cf[r + CF.PARTIAL_HEAD]!;
    while (k < n && slab >= 0) {
      const next = this.pages.next[slab]!;
      k = this.takeFromSlab(s, slab, n, out, at, k);
      if (this.slabInuse(slab) === this.slabObjects[slab]!) this.removePartial(s, slab);
      slab = next;
    }
    try {
      while (k < n) {
        slab = this.newSlab(s, gfp);
        if (slab < 0) {
          if (k > 0) this.freeObjectsToSlabs(s, out, at, k);
          return false;
        }
        k = this.takeFromSlab(s, slab, n, out, at, k);
        if (this.slabInuse(slab) < this.slabObjects[slab]!) this.addPartial(s, slab, false);
      }
    } catch (e) {
      // A constructor threw while a new slab was set up (newSlab gave its pages back).
      if (k > 0) this.freeObjectsToSlabs(s, out, at, k);
      throw e;
    }
    return true;
  }

  /**
   * Objects off slab->freelist into out[at + k ..] until n are there or the
   * slab has none left; returns the new k. A free pointer SLUB could not
   * have stored ends the freelist there: the objects beyond stay lost (in
   * use), and the fault the kernel takes on it is reported.
   */
  private takeFromSlab(s: number, slab: number, n: number, out: Uint32Array, at: number, k: number): number {
    const shift = this.cf[s * CF.FIELDS + CF.SLAB_SHIFT]!;
    let obj = this.slabFreelist(s, slab);
    let inuse = this.slabInuse(slab);
    let bad = false;
    let badHi = 0;
    let badLo = 0;
    while (k < n && obj !== 0) {
      out[at + k++] = obj;
      inuse++;
      const next = this.getFreepointer(s, obj);
      if ((next ^ obj) >>> shift !== 0 && !this.freepointerValid(s, obj, next)) {
        bad = true;
        badLo = next;
        badHi = this.freepointerHi(s, obj);
        inuse = this.slabObjects[slab]!;
        obj = 0;
        break;
      }
      obj = next;
    }
    this.setSlabCounters(s, slab, obj, inuse, false);
    if (bad) this.freepointerFault(badHi, badLo);
    return k;
  }

  /**
   * __kmem_cache_free_bulk() of objs[from..from + n) for a cache without a
   * cpu slab (one with sheaves): build_detached_freelist() takes the last
   * object, gathers the others of its slab (three misses in a row end the
   * look-ahead, and the gathered ones are swapped to the end, as the kernel
   * permutes p[]), and each group goes to __slab_free in one piece. The
   * objects are trusted: they passed the free checks on their way in.
   */
  freeObjectsToSlabs(s: number, objs: Uint32Array, from: number, n: number): void {
    const head = this.pages.head;
    let left = n;
    while (left > 0) {
      const tail = objs[from + --left]!;
      const tp = tail >>> 12;
      const th = head[tp]!;
      const slab = th < 0 ? tp : th;
      let dHead = tail;
      let cnt = 1;
      let lookahead = 3;
      let same = left;
      for (let j = left; j > 0; ) {
        const o = objs[from + --j]!;
        const op = o >>> 12;
        const oh = head[op]!;
        if ((oh < 0 ? op : oh) !== slab) {
          if (--lookahead === 0) break;
          continue;
        }
        same--;
        if (j !== same) {
          objs[from + j] = objs[from + same]!;
          objs[from + same] = o;
        }
        this.setFreepointer(s, o, dHead);
        dHead = o;
        cnt++;
      }
      left = same;
      this.slabFreeSlow(s, slab, dHead, tail, cnt);
    }
  }

  /**
   * get_freelist(): take the frozen cpu slab's whole freelist; inuse becomes
   * objects, and the slab stays frozen only if there was something to take.
   */
  protected getFreelist(s: number, slab: number): number {
    const freelist = this.slabFreelist(s, slab);
    this.slabCounters[slab] = (this.slabObjects[slab]! | (freelist !== 0 ? SlabWord.FROZEN : 0)) >>> 0;
    return freelist;
  }

  /** freeze_slab(): take a partial slab's freelist and freeze it as the cpu slab. */
  protected freezeSlab(s: number, slab: number): number {
    const freelist = this.slabFreelist(s, slab);
    this.slabCounters[slab] = (this.slabObjects[slab]! | SlabWord.FROZEN) >>> 0;
    return freelist;
  }

  /**
   * get_partial_node(): the first slab of the node partial list becomes the
   * cpu slab; more slabs follow onto the cpu partial list until there are
   * more than cpu_partial_slabs / 2 of them.
   */
  protected getPartialNode(s: number): number {
    const cf = this.cf;
    const r = s * CF.FIELDS;
    let slab = cf[r + CF.PARTIAL_HEAD]!;
    let got = -1;
    let partialSlabs = 0;
    while (slab >= 0) {
      const next = this.pages.next[slab]!;
      this.removePartial(s, slab);
      if (got < 0) {
        got = slab;
        this.stat(s, SlubStat.ALLOC_FROM_PARTIAL);
        if (cf[r + CF.CPU_PARTIAL]! === 0) break;
      } else {
        this.putCpuPartial(s, slab, false);
        this.stat(s, SlubStat.CPU_PARTIAL_NODE);
        if (++partialSlabs > cf[r + CF.CPU_PARTIAL_SLABS]! >> 1) break;
      }
      slab = next;
    }
    return got;
  }

  // ───────────────────────── free ─────────────────────────

  /**
   * do_slab_free(): objects of the running CPU's cpu slab go on its lockless
   * freelist; everything else takes __slab_free. `slab` is the head pfn.
   * The free pointer is written as set_freepointer() does, inline.
   */
  doSlabFree(s: number, slab: number, obj: number): void {
    const i = this.cpuBase + s;
    const head = this.cpuFreelist[i]!;
    this.cpuFrees[i]!++;
    if (slab !== this.cpuSlab[i] || obj === head || this.statsOn) {
      this.doSlabFreeSlow(s, slab, obj, head);
      return;
    }
    this.pushCpuFreelist(s, i, obj, head);
  }

  /**
   * slab_free() -> do_slab_free() for kfree, in one piece: obj must be an
   * object start of slab; one of the running CPU's cpu slab goes on the
   * lockless freelist, any other takes __slab_free. Returns false, having
   * changed nothing, for the rest (not an object start, an offset past
   * 2^15, the freelist head again), which the caller frees the long way,
   * with its checks and reports. Kept this small (V8 inlines by bytecode
   * size) so that the whole of kfree inlines into a caller's loop.
   */
  slabFreeFast(s: number, slab: number, obj: number): boolean {
    const cf = this.cf;
    const r = s * CF.FIELDS;
    // FAST_FREE_PAD is RED_LEFT_PAD, or for a cache with sheaves 2^30 more,
    // which fails the test below: its frees go to slab_free() and the sheaves.
    const off = (((obj | 0) - (slab << 12)) | 0) - cf[r + CF.FAST_FREE_PAD]!;
    // An offset outside 0..2^15 - 1 can't match idx * size (reciprocalIndex).
    const idx = reciprocalIndex(off, cf[r + CF.RECIP_MUL]!, cf[r + CF.RECIP_SHIFT]!);
    const i = this.cpuBase + s;
    const head = this.cpuFreelist[i]!;
    if (idx * cf[r + CF.SIZE]! !== off || idx >= this.slabObjects[slab]! || obj === head) return false;
    this.cpuFrees[i]!++;
    if (slab !== this.cpuSlab[i]) {
      this.slabFreeSlow(s, slab, obj, obj, 1);
      return true;
    }
    // pushCpuFreelist for a hardened cache (freeHooked sends the others the long way).
    this.setFreepointerHardened(r, obj + cf[r + CF.OFFSET]!, head);
    this.cpuFreelist[i] = obj;
    return true;
  }

  /** do_slab_free() off the lockless path: __slab_free, a double free, or counting stats. */
  private doSlabFreeSlow(s: number, slab: number, obj: number, head: number): void {
    const i = this.cpuBase + s;
    if (slab !== this.cpuSlab[i]) {
      this.slabFreeSlow(s, slab, obj, obj, 1);
      return;
    }
    if (obj === head) {
      this.naiveDoubleFree(obj);
      return;
    }
    this.pushCpuFreelist(s, i, obj, head);
    this.stat(s, SlubStat.FREE_FASTPATH);
  }

  /** set_freepointer()'s BUG_ON(object == fp) under CONFIG_SLAB_FREELIST_HARDENED. */
  naiveDoubleFree(obj: number): void {
    this.reports.bugOn('set_freepointer', `object 0x${obj.toString(16)} is already the freelist head`);
  }

  /** The same check against slab->freelist on the slow path. */
  protected slabDoubleFree(obj: number): void {
    this.reports.bugOn('set_freepointer', `object 0x${obj.toString(16)} is already the slab freelist head`);
  }

  /**
   * __slab_free(): put [head..tail] (cnt objects) on slab->freelist. A frozen
   * slab belongs to some CPU: that's all (the remote free). A slab that was
   * full goes to the cpu partial list; one that became empty is discarded once
   * the node already keeps min_partial partial slabs.
   * One function, as in the kernel: too big for V8 to inline into the fast
   * paths (over 460 bytes of bytecode), so kfree stays small wherever it is
   * inlined, and this compiles once with its own helpers inlined.
   */
  slabFreeSlow(s: number, slab: number, head: number, tail: number, cnt: number): void {
    const cf = this.cf;
    const r = s * CF.FIELDS;
    // 7.0 counts FREE_SLOWPATH where a user's free misses the sheaves, not here (Slub70.doSlabFree).
    if (this.statsOn && !this.kernel70) this.stat(s, SlubStat.FREE_SLOWPATH);
    // slub_debug: free_to_partial_list() with free_debug_processing().
    if (cf[r + CF.DEBUG] !== 0) {
      this.debug!.freeToPartialList(s, slab, head, tail, cnt);
      return;
    }
    // slab->freelist and counters, read and written as one word (the cmpxchg_double).
    const counters = this.slabCounters[slab]!;
    const priorIdx = (counters & SlabWord.FREELIST_MASK) >>> SlabWord.FREELIST_SHIFT;
    const base = slab * 4096 + cf[r + CF.RED_LEFT_PAD]!;
    const prior = priorIdx === 0 ? 0 : base + (priorIdx - 1) * cf[r + CF.SIZE]!;
    if (prior === tail || prior === head) {
      this.slabDoubleFree(head);
      return;
    }
    const inuse = (counters & SlabWord.INUSE_MASK) - cnt;
    this.setFreepointer(s, tail, prior);
    this.slabCounters[slab] = (((this.offsetToIndex(s, head - base) + 1) << SlabWord.FREELIST_SHIFT) | inuse | (counters & SlabWord.FROZEN)) >>> 0;
    // Most slow frees end here: a frozen slab (another CPU's), or one that
    // neither was full nor became empty.
    if ((counters & SlabWord.FROZEN) !== 0) {
      if (this.statsOn) this.stat(s, SlubStat.FREE_FROZEN);
      return;
    }
    if (inuse !== 0 && prior !== 0) return;
    // A full slab goes to the cpu partial list (with cpu partials).
    const hasCpuPartial = cf[r + CF.CPU_PARTIAL]! !== 0;
    if (hasCpuPartial && prior === 0) {
      this.putCpuPartial(s, slab, true);
      if (this.statsOn) this.stat(s, SlubStat.CPU_PARTIAL_FREE);
      return;
    }
    // Under n->list_lock: a slab that was partial but not on the node list
    // (a cpu partial one) is left alone; one that became empty is discarded
    // beyond min_partial; a full one without cpu partials goes on the list.
    if (prior !== 0 && !this.onNodePartial(slab)) return;
    if (inuse === 0 && cf[r + CF.NR_PARTIAL]! >= cf[r + CF.MIN_PARTIAL]!) {
      if (prior !== 0) {
        this.removePartial(s, slab);
        if (this.statsOn) this.stat(s, SlubStat.FREE_REMOVE_PARTIAL);
      }
      if (this.statsOn) this.stat(s, SlubStat.FREE_SLAB);
      this.discardSlab(s, slab);
      return;
    }
    if (!hasCpuPartial && prior === 0) {
      this.addPartial(s, slab, true);
      if (this.statsOn) this.stat(s, SlubStat.FREE_ADD_PARTIAL);
    }
  }

  /**
   * put_cpu_partial(): push a slab on the running CPU's partial chain; when
   * draining and the chain already holds cpu_partial_slabs, the old chain goes
   * to the node first (SlubStat.CPU_PARTIAL_DRAIN).
   */
  putCpuPartial(s: number, slab: number, drain: boolean): void {
    const i = this.cpuBase + s;
    const p = this.pages;
    let old = this.cpuPartial[i]!;
    let slabs = 0;
    let toPut = -1;
    if (old >= 0) {
      if (drain && p.slabSlabs[old]! >= this.cf[s * CF.FIELDS + CF.CPU_PARTIAL_SLABS]!) {
        toPut = old;
        old = -1;
      } else {
        slabs = p.slabSlabs[old]!;
      }
    }
    p.slabSlabs[slab] = slabs + 1;
    p.slabNext[slab] = old;
    this.cpuPartial[i] = slab;
    if (toPut >= 0) {
      this.putPartials(s, toPut);
      this.stat(s, SlubStat.CPU_PARTIAL_DRAIN);
    }
  }

  /**
   * __put_partials(): a detached cpu partial chain goes to the node partial
   * list; empty slabs beyond min_partial are discarded instead.
   */
  putPartials(s: number, slab: number): void {
    const cf = this.cf;
    const r = s * CF.FIELDS;
    let discard = -1;
    while (slab >= 0) {
      const next = this.slabNext[slab]!;
      this.slabNext[slab] = -1;
      if (this.slabInuse(slab) === 0 && cf[r + CF.NR_PARTIAL]! >= cf[r + CF.MIN_PARTIAL]!) {
        this.slabNext[slab] = discard;
        discard = slab;
      } else {
        this.addPartial(s, slab, true);
        this.stat(s, SlubStat.FREE_ADD_PARTIAL);
      }
      slab = next;
    }
    while (discard >= 0) {
      const next = this.slabNext[discard]!;
      this.slabNext[discard] = -1;
      this.stat(s, SlubStat.DEACTIVATE_EMPTY);
      this.discardSlab(s, discard);
      this.stat(s, SlubStat.FREE_SLAB);
      discard = next;
    }
  }

  /**
   * deactivate_slab(): give a cpu slab back. Its cpu freelist is counted and
   * spliced in front of slab->freelist, inuse drops by that count, the slab is
   * unfrozen and goes to the node partial list (to the tail if remote frees
   * had refilled it), is discarded if empty, or stays off-list if full.
   */
  deactivateSlab(s: number, slab: number, freelist: number): void {
    const cf = this.cf;
    const r = s * CF.FIELDS;
    let tail = SlubStat.DEACTIVATE_TO_HEAD;
    const old = this.slabFreelist(s, slab);
    if (old !== 0) {
      this.stat(s, SlubStat.DEACTIVATE_REMOTE_FREES);
      tail = SlubStat.DEACTIVATE_TO_TAIL;
    }
    // Count the cpu freelist, trusting no free pointer that SLUB could not
    // have stored: the chain ends before it (its objects stay lost, in use),
    // and the kernel's fault on it is reported once the slab is settled.
    let freeDelta = 0;
    let last = 0;
    let badHi = 0;
    let badLo = 0;
    let bad = false;
    for (let it = freelist; it !== 0; ) {
      last = it;
      freeDelta++;
      const next = this.getFreepointer(s, it);
      if (!this.freepointerValid(s, it, next)) {
        bad = true;
        badLo = next;
        badHi = this.freepointerHi(s, it);
        break;
      }
      if (freeDelta >= this.slabObjects[slab]!) break; // a cycle
      it = next;
    }
    let inuse = this.slabInuse(slab);
    let newFreelist = old;
    if (last !== 0) {
      inuse -= freeDelta;
      this.setFreepointer(s, last, old);
      newFreelist = freelist;
    }
    this.setSlabCounters(s, slab, newFreelist, inuse, false);
    if (inuse === 0 && cf[r + CF.NR_PARTIAL]! >= cf[r + CF.MIN_PARTIAL]!) {
      this.stat(s, SlubStat.DEACTIVATE_EMPTY);
      this.discardSlab(s, slab);
      this.stat(s, SlubStat.FREE_SLAB);
    } else if (newFreelist !== 0) {
      this.addPartial(s, slab, tail === SlubStat.DEACTIVATE_TO_TAIL);
      this.stat(s, tail);
    } else {
      this.stat(s, SlubStat.DEACTIVATE_FULL);
    }
    if (bad) this.freepointerFault(badHi, badLo);
  }

  /** flush_slab() + put_partials_cpu() for one CPU (__flush_cpu_slab). */
  flushCpuSlab(s: number, cpu: number): void {
    const i = cpu * MAX_CACHES + s;
    const slab = this.cpuSlab[i]!;
    const saved = this.cpuBase;
    const savedCpu = this.cpu;
    this.cpuBase = cpu * MAX_CACHES;
    this.cpu = cpu;
    // flush_cpu_slab(): pcs_flush_all() first, for a cache with sheaves.
    if (this.cf[s * CF.FIELDS + CF.SHEAF_CAPACITY] !== 0) this.sheaves.flushCpu(s, cpu);
    if (slab >= 0) {
      const freelist = this.cpuFreelist[i]!;
      this.cpuSlab[i] = -1;
      this.cpuFreelist[i] = 0;
      this.deactivateSlab(s, slab, freelist);
      this.stat(s, SlubStat.CPUSLAB_FLUSH);
    }
    const partial = this.cpuPartial[i]!;
    if (partial >= 0) {
      this.cpuPartial[i] = -1;
      this.putPartials(s, partial);
    }
    this.cpuBase = saved;
    this.cpu = savedCpu;
    // deactivate_slab() would have read through the corrupt pointer the
    // cpu freelist ended in: the fault, now that everything is in place.
    if (this.st.cpuBadFpPending[i] !== 0) {
      this.st.cpuBadFpPending[i] = 0;
      this.freepointerFault(this.st.cpuBadFp[2 * i + 1]!, this.st.cpuBadFp[2 * i]!);
    }
  }

  /** flush_all(): every CPU's cpu slab and partials of a cache. */
  flushAll(s: number): void {
    for (let cpu = 0; cpu < this.st.cpus; cpu++) this.flushCpuSlab(s, cpu);
  }

  /**
   * __kmem_cache_do_shrink(): after flush_all, empty partial slabs are
   * discarded and the rest sorted so the fullest come first (fewest free
   * objects at the head), as the kernel's 32 buckets do.
   */
  shrink(s: number): void {
    if (this.hooks.cacheShrink !== null) this.hooks.cacheShrink(s);
    this.flushAll(s);
    const cf = this.cf;
    const r = s * CF.FIELDS;
    if (cf[r + CF.SHEAF_CAPACITY] !== 0) this.sheaves.barnShrink(s);
    // list_move() puts each slab at the head of its promote[free - 1] bucket;
    // slabs with more than SHRINK_PROMOTE_MAX free stay on the list, behind
    // the buckets spliced to its head.
    const buckets: number[][] = [];
    const rest: number[] = [];
    for (let slab = cf[r + CF.PARTIAL_HEAD]!; slab >= 0; ) {
      const next = this.pages.next[slab]!;
      this.removePartial(s, slab);
      const free = this.slabObjects[slab]! - this.slabInuse(slab);
      if (this.slabInuse(slab) === 0) {
        this.discardSlab(s, slab);
      } else if (free <= 32) {
        if (buckets[free - 1] === undefined) buckets[free - 1] = [];
        buckets[free - 1]!.unshift(slab);
      } else {
        rest.push(slab);
      }
      slab = next;
    }
    for (let b = 0; b < 32; b++) for (const slab of buckets[b] ?? []) this.addPartial(s, slab, true);
    for (const slab of rest) this.addPartial(s, slab, true);
  }

  /** Free objects on the node partial list (count_partial with count_free). */
  countPartialFree(s: number): number {
    let n = 0;
    for (let slab = this.cf[s * CF.FIELDS + CF.PARTIAL_HEAD]!; slab >= 0; slab = this.pages.next[slab]!) {
      n += this.slabObjects[slab]! - this.slabInuse(slab);
    }
    return n;
  }

  /**
   * count_partial_free_approx(): free objects on the node partial list,
   * exact up to MAX_PARTIAL_TO_SCAN (10000) slabs; beyond, 5000 slabs from
   * each end scaled to the list's length (mult_frac), at most the node's
   * objects.
   */
  countPartialFreeApprox(s: number): number {
    const r = s * CF.FIELDS;
    const nrPartial = this.cf[r + CF.NR_PARTIAL]!;
    if (nrPartial <= 10000) return this.countPartialFree(s);
    let x = 0;
    let scanned = 0;
    for (let slab = this.cf[r + CF.PARTIAL_HEAD]!; slab >= 0 && scanned < 5000; slab = this.pages.next[slab]!, scanned++) {
      x += this.slabObjects[slab]! - this.slabInuse(slab);
    }
    for (let slab = this.cf[r + CF.PARTIAL_TAIL]!; slab >= 0 && scanned < 10000; slab = this.pages.prev[slab]!, scanned++) {
      x += this.slabObjects[slab]! - this.slabInuse(slab);
    }
    x = Math.floor(x / scanned) * nrPartial + Math.floor(((x % scanned) * nrPartial) / scanned);
    return Math.min(x, this.cf[r + CF.TOTAL_OBJECTS]!);
  }

  /** Objects in use on the node partial list (count_partial with count_inuse). */
  countPartialInuse(s: number): number {
    let n = 0;
    for (let slab = this.cf[s * CF.FIELDS + CF.PARTIAL_HEAD]!; slab >= 0; slab = this.pages.next[slab]!) {
      n += this.slabInuse(slab);
    }
    return n;
  }

  /** Slabs on a CPU's partial chain (slabs_cpu_partial). */
  cpuPartialCount(s: number, cpu: number): number {
    const head = this.cpuPartial[cpu * MAX_CACHES + s]!;
    return head >= 0 ? this.slabSlabs[head]! : 0;
  }

  get pageShift(): number {
    return PAGE_SHIFT;
  }
}
