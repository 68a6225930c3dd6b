/**
 * The SLAB allocator's object paths (mm/slab.c, to 6.4), on one node: the
 * per-CPU head arrays, the node's shared array, the three slab lists, slab
 * growth with colouring, and the index-array freelist of each slab. Not
 * selectable at boot yet (issue 15): what is here is the allocator core the
 * SLAB machine will stand on, tested by itself (test/slab/).
 *
 * Per cache and CPU, an array_cache: a LIFO stack of up to `limit` free
 * objects. Allocation pops it; an empty stack is refilled with up to
 * `batchcount` objects (16 while the stack has not been touched since the
 * last reap) from the shared array, else from the partial then the free
 * slabs, else from a new slab. Free pushes; a full stack first hands its
 * oldest `batchcount` objects to the shared array if it has room, else back
 * to their slabs (free_block), where a node with more than `free_limit` free
 * objects destroys its free slabs.
 *
 * A slab's page (struct slab's fields, in kmem's page arrays):
 *   pageType     PGTY_slab          slabCache  the cache's SLAB id
 *   slabCounters active: objects handed out; the stack pointer of the index array
 *   index        colour offset: s_mem = page address + index
 *   slabNext     freelist: address of the index array (u8 entries; entries
 *                [active, num) are the free objects' indices), 0 for an
 *                OBJFREELIST slab that is full
 *   next, prev   slab_list: on slabs_partial, slabs_full or slabs_free
 */
import { PAGE_SIZE, type PhysMem } from '../memory/memblock.js';
import type { PageArray } from '../memory/page.js';
import { PGTY } from '../memory/page.js';
import { __GFP_COMP, __GFP_RECLAIMABLE, __GFP_ZERO } from '../page_alloc/gfp.js';
import type { PageAlloc } from '../page_alloc/page_alloc.js';
import { enableCpucache, type FreelistCache, type SlabFlagBits, type SlabGeometry, slabCacheGeometry, slabFreeLimit } from './calculate.js';

/** BATCHREFILL_LIMIT: the refill of a head array not touched since the last reap. */
export const BATCHREFILL_LIMIT = 16;
/** REAPTIMEOUT_AC (2 s) and REAPTIMEOUT_NODE (4 s) in ns; the first per-CPU reap about a second after boot (start_cpu_timer). */
export const REAPTIMEOUT_AC_NS = 2e9;
export const REAPTIMEOUT_NODE_NS = 4e9;
export const FIRST_REAP_NS = 1e9;
/** Lists of a node. */
export const SLABS_PARTIAL = 0;
export const SLABS_FULL = 1;
export const SLABS_FREE = 2;

/** One SLAB cache: its geometry, tunables, head arrays and its node. */
export interface SlabCache {
  readonly id: number;
  readonly name: string;
  readonly objectSize: number;
  readonly g: SlabGeometry;
  readonly flags: number;
  readonly ctor: ((addr: number) => void) | null;
  /** The kmalloc cache OFF_SLAB index arrays come from. */
  readonly freelistCache: number;
  limit: number;
  batchcount: number;
  shared: number;
  /** Head arrays: cpu * limit + i. */
  acEntry: Uint32Array;
  readonly acAvail: Int32Array;
  readonly acTouched: Uint8Array;
  /** The node's shared array (shared * batchcount entries), or none. */
  sharedEntry: Uint32Array;
  sharedAvail: number;
  sharedTouched: boolean;
  /** slabs_partial, slabs_full, slabs_free: the first page's pfn, -1 when empty. */
  readonly heads: Int32Array;
  totalSlabs: number;
  freeSlabs: number;
  freeObjects: number;
  freeLimit: number;
  colourNext: number;
  freeTouched: boolean;
}

export class SlabAllocator {
  readonly pa: PageAlloc;
  readonly pages: PageArray;
  readonly u8: Uint8Array;
  readonly cpus: number;
  readonly bits: SlabFlagBits;
  readonly caches: SlabCache[] = [];
  /** kmalloc-N by N (32 .. 8192, 96, 192), once created. */
  readonly kmallocBySize = new Map<number, number>();
  /** NR_SLAB_RECLAIMABLE_B / NR_SLAB_UNRECLAIMABLE_B in pages. */
  slabPagesReclaimable = 0;
  slabPagesUnreclaimable = 0;
  private readonly slabMaxOrder: number;
  /** When each CPU's cache_reap work runs next (virtual ns). */
  readonly nextReap: Float64Array;
  /** n->next_reap per cache (virtual ns). */
  private readonly nodeNextReap: number[] = [];

  constructor(pa: PageAlloc, pages: PageArray, phys: PhysMem, cpus: number, bits: SlabFlagBits, slabMaxOrder: number) {
    this.pa = pa;
    this.pages = pages;
    this.u8 = phys.u8;
    this.cpus = cpus;
    this.bits = bits;
    this.slabMaxOrder = slabMaxOrder;
    this.nextReap = new Float64Array(cpus).fill(FIRST_REAP_NS);
  }

  // ───────────────────────── caches ─────────────────────────

  /** kmalloc_slab(): the kmalloc cache n bytes come from (size_index up to 192, then powers of two), or -1. */
  kmallocSlab(n: number): number {
    const bucket = n <= 32 ? 32 : n <= 64 ? 64 : n <= 96 ? 96 : n <= 128 ? 128 : n <= 192 ? 192 : 2 ** Math.ceil(Math.log2(n));
    return this.kmallocBySize.get(bucket) ?? -1;
  }

  /** kmem_cache_init() and create_kmalloc_caches(): kmalloc-128 (struct kmem_cache_node) first, then 32 up to 8192. */
  initKmalloc(): void {
    for (const s of [128, 32, 64, 96, 192, 256, 512, 1024, 2048, 4096, 8192]) {
      this.kmallocBySize.set(s, this.createCache(`kmalloc-${s}`, s, 0, this.bits.hwcacheAlign, null));
    }
  }

  /** __kmem_cache_create() and enable_cpucache(): the cache's id, or -1 for -E2BIG. */
  createCache(name: string, objectSize: number, align: number, flags: number, ctor: ((addr: number) => void) | null): number {
    const g = slabCacheGeometry({
      objectSize,
      align,
      flags,
      hasCtor: ctor !== null,
      slabMaxOrder: this.slabMaxOrder,
      kmallocSlab: (n) => this.freelistCacheOf(n),
      bits: this.bits,
    });
    if (g === null) return -1;
    const t = enableCpucache(g.size, this.cpus);
    const id = this.caches.length;
    const c: SlabCache = {
      id,
      name,
      objectSize,
      g,
      flags,
      ctor,
      freelistCache: g.placement === 'off_slab' ? this.kmallocSlab(g.freelistSize) : -1,
      limit: t.limit,
      batchcount: t.batchcount,
      shared: t.shared,
      acEntry: new Uint32Array(this.cpus * t.limit),
      acAvail: new Int32Array(this.cpus),
      acTouched: new Uint8Array(this.cpus),
      sharedEntry: new Uint32Array(t.shared * t.batchcount),
      sharedAvail: 0,
      sharedTouched: false,
      heads: new Int32Array(3).fill(-1),
      totalSlabs: 0,
      freeSlabs: 0,
      freeObjects: 0,
      freeLimit: slabFreeLimit(this.cpus, t.batchcount, g.num),
      colourNext: 0,
      freeTouched: false,
    };
    this.caches.push(c);
    this.nodeNextReap[id] = REAPTIMEOUT_NODE_NS;
    return id;
  }

  private freelistCacheOf(n: number): FreelistCache | null {
    const id = this.kmallocSlab(n);
    if (id < 0) return null;
    const c = this.caches[id]!;
    return { size: c.g.size, offSlab: c.g.placement === 'off_slab' };
  }

  // ───────────────────────── slab lists ─────────────────────────

  private listAdd(c: SlabCache, l: number, pfn: number, tail: boolean): void {
    const p = this.pages;
    const head = c.heads[l]!;
    if (head < 0) {
      p.next[pfn] = pfn;
      p.prev[pfn] = pfn;
      c.heads[l] = pfn;
      return;
    }
    const last = p.prev[head]!;
    p.next[pfn] = head;
    p.prev[pfn] = last;
    p.next[last] = pfn;
    p.prev[head] = pfn;
    if (!tail) c.heads[l] = pfn;
  }

  /** list_del() from list l. */
  private listDel(c: SlabCache, l: number, pfn: number): void {
    const p = this.pages;
    const next = p.next[pfn]!;
    const prev = p.prev[pfn]!;
    if (c.heads[l] === pfn) c.heads[l] = next === pfn ? -1 : next;
    p.next[prev] = next;
    p.prev[next] = prev;
    p.next[pfn] = -1;
    p.prev[pfn] = -1;
  }

  /** The list a slab is on, from its fill (the lists are kept by that rule). */
  listOf(c: SlabCache, pfn: number): number {
    const active = this.pages.slabCounters[pfn]!;
    return active === 0 ? SLABS_FREE : active === c.g.num ? SLABS_FULL : SLABS_PARTIAL;
  }

  // ───────────────────────── one slab ─────────────────────────

  /** slab_get_obj(): the object whose index sits at the stack pointer; active++. */
  private slabGetObj(c: SlabCache, pfn: number): number {
    const p = this.pages;
    const active = p.slabCounters[pfn]!;
    const idx = this.u8[(p.slabNext[pfn]! >>> 0) + active]!;
    p.slabCounters[pfn] = active + 1;
    return pfn * PAGE_SIZE + p.index[pfn]! + c.g.size * idx;
  }

  /** slab_put_obj(): active--, the object's index at the stack pointer; an OBJFREELIST slab with no array keeps it in this object. */
  private slabPutObj(c: SlabCache, pfn: number, obj: number): void {
    const p = this.pages;
    const idx = (obj - pfn * PAGE_SIZE - p.index[pfn]!) / c.g.size;
    const active = p.slabCounters[pfn]! - 1;
    p.slabCounters[pfn] = active;
    if (p.slabNext[pfn] === 0) p.slabNext[pfn] = obj | 0;
    this.u8[(p.slabNext[pfn]! >>> 0) + active] = idx;
  }

  /** fixup_slab_list(): onto slabs_full (an OBJFREELIST slab gives up its array) or slabs_partial. */
  private fixupSlabList(c: SlabCache, pfn: number): void {
    if (this.pages.slabCounters[pfn] === c.g.num) {
      this.listAdd(c, SLABS_FULL, pfn, false);
      if (c.g.placement === 'objfreelist') this.pages.slabNext[pfn] = 0;
    } else {
      this.listAdd(c, SLABS_PARTIAL, pfn, false);
    }
  }

  /**
   * cache_grow_begin(): a new slab of 2^gfporder pages, its first object
   * shifted by the next colour, its index array placed (in the last object,
   * from the kmalloc cache, or at the slab's end) holding 0 .. num-1, the
   * constructor run on every object. The head pfn, or -1.
   */
  private cacheGrowBegin(c: SlabCache, gfp: number, cpu: number): number {
    const reclaimable = (c.flags & this.bits.reclaimAccount) !== 0;
    const pfn = this.pa.allocPagesPfn(c.g.gfporder, (gfp & ~__GFP_ZERO) | __GFP_COMP | (reclaimable ? __GFP_RECLAIMABLE : 0));
    if (pfn < 0) return -1;
    // The next colour first, then use it: a cache's first slab has colour 1 (when it has two or more).
    c.colourNext++;
    if (c.colourNext >= c.g.colour) c.colourNext = 0;
    const colour = (c.colourNext >= c.g.colour ? 0 : c.colourNext) * c.g.colourOff;
    const p = this.pages;
    const base = pfn * PAGE_SIZE;
    let freelist: number;
    if (c.g.placement === 'objfreelist') freelist = base + colour + c.g.size * (c.g.num - 1);
    else if (c.g.placement === 'off_slab') {
      freelist = this.cacheAlloc(c.freelistCache, gfp & ~__GFP_ZERO, cpu);
      if (freelist === 0) {
        this.pa.freePagesPfn(pfn, c.g.gfporder);
        return -1;
      }
    } else freelist = base + PAGE_SIZE * 2 ** c.g.gfporder - c.g.freelistSize;
    p.pageType[pfn] = PGTY.slab;
    p.slabCache[pfn] = c.id;
    p.slabCounters[pfn] = 0;
    p.index[pfn] = colour;
    p.slabNext[pfn] = freelist | 0;
    for (let i = 0; i < c.g.num; i++) {
      if (c.ctor !== null) c.ctor(base + colour + c.g.size * i);
      this.u8[freelist + i] = i;
    }
    if (reclaimable) this.slabPagesReclaimable += 2 ** c.g.gfporder;
    else this.slabPagesUnreclaimable += 2 ** c.g.gfporder;
    return pfn;
  }

  /** cache_grow_end(): count the slab and put it on its list. */
  private cacheGrowEnd(c: SlabCache, pfn: number): void {
    c.totalSlabs++;
    if (this.pages.slabCounters[pfn] === 0) {
      this.listAdd(c, SLABS_FREE, pfn, true);
      c.freeSlabs++;
    } else {
      this.fixupSlabList(c, pfn);
    }
    c.freeObjects += c.g.num - this.pages.slabCounters[pfn]!;
  }

  /** slab_destroy(): the pages back to the buddy allocator (the off-slab index array back to its cache). */
  private slabDestroy(c: SlabCache, pfn: number, cpu: number): void {
    const p = this.pages;
    const freelist = p.slabNext[pfn]! >>> 0;
    p.pageType[pfn] = PGTY.NONE;
    p.slabCache[pfn] = -1;
    p.slabCounters[pfn] = 0;
    p.index[pfn] = 0;
    p.slabNext[pfn] = -1;
    if (c.flags & this.bits.reclaimAccount) this.slabPagesReclaimable -= 2 ** c.g.gfporder;
    else this.slabPagesUnreclaimable -= 2 ** c.g.gfporder;
    this.pa.freePagesPfn(pfn, c.g.gfporder);
    if (c.g.placement === 'off_slab') this.cacheFree(c.freelistCache, freelist, cpu);
  }

  // ───────────────────────── the object paths ─────────────────────────

  /** ____cache_alloc(): pop this CPU's head array, else refill it. 0 on failure. */
  cacheAlloc(id: number, gfp: number, cpu: number): number {
    const c = this.caches[id]!;
    const avail = c.acAvail[cpu]!;
    let obj: number;
    if (avail > 0) {
      c.acTouched[cpu] = 1;
      c.acAvail[cpu] = avail - 1;
      obj = c.acEntry[cpu * c.limit + avail - 1]!;
    } else {
      obj = this.cacheAllocRefill(c, gfp, cpu);
      if (obj === 0) return 0;
    }
    if (gfp & __GFP_ZERO) this.u8.fill(0, obj, obj + c.objectSize);
    return obj;
  }

  /**
   * cache_alloc_refill(): fill the empty head array with a batch (at most
   * BATCHREFILL_LIMIT unless touched) from the shared array, else from the
   * partial and free slabs, else from a new slab; then pop one.
   */
  private cacheAllocRefill(c: SlabCache, gfp: number, cpu: number): number {
    let batch = c.batchcount;
    if (!c.acTouched[cpu] && batch > BATCHREFILL_LIMIT) batch = BATCHREFILL_LIMIT;
    const base = cpu * c.limit;
    if (c.freeObjects !== 0 || c.sharedAvail !== 0) {
      // transfer_objects() from the top of the shared stack.
      const nr = Math.min(c.sharedAvail, batch, c.limit - c.acAvail[cpu]!);
      if (nr > 0) {
        c.acEntry.set(c.sharedEntry.subarray(c.sharedAvail - nr, c.sharedAvail), base + c.acAvail[cpu]!);
        c.sharedAvail -= nr;
        c.acAvail[cpu] = c.acAvail[cpu]! + nr;
        c.sharedTouched = true;
      } else {
        while (batch > 0) {
          // get_first_slab(): a partial slab, else a free one.
          let pfn = c.heads[SLABS_PARTIAL]!;
          if (pfn >= 0) this.listDel(c, SLABS_PARTIAL, pfn);
          else {
            c.freeTouched = true;
            pfn = c.heads[SLABS_FREE]!;
            if (pfn < 0) break;
            this.listDel(c, SLABS_FREE, pfn);
            c.freeSlabs--;
          }
          batch = this.allocBlock(c, pfn, batch, cpu);
          this.fixupSlabList(c, pfn);
        }
        c.freeObjects -= c.acAvail[cpu]!;
      }
    }
    if (c.acAvail[cpu] === 0) {
      const pfn = this.cacheGrowBegin(c, gfp, cpu);
      if (pfn < 0) return 0;
      this.allocBlock(c, pfn, batch, cpu);
      this.cacheGrowEnd(c, pfn);
    }
    c.acTouched[cpu] = 1;
    const avail = c.acAvail[cpu]! - 1;
    c.acAvail[cpu] = avail;
    return c.acEntry[base + avail]!;
  }

  /** alloc_block(): up to batch objects of one slab onto the head array; the batch left. */
  private allocBlock(c: SlabCache, pfn: number, batch: number, cpu: number): number {
    const base = cpu * c.limit;
    while (this.pages.slabCounters[pfn]! < c.g.num && batch-- > 0) {
      c.acEntry[base + c.acAvail[cpu]!] = this.slabGetObj(c, pfn);
      c.acAvail[cpu] = c.acAvail[cpu]! + 1;
    }
    return batch;
  }

  /**
   * ___cache_free(): push on this CPU's head array, flushing a batch first
   * when it is full. false, and nothing done, when obj is already on top of
   * the array (__free_one()'s CONFIG_SLAB_FREELIST_HARDENED check: the
   * caller WARNs once).
   */
  cacheFree(id: number, obj: number, cpu: number): boolean {
    const c = this.caches[id]!;
    if (c.acAvail[cpu]! >= c.limit) this.cacheFlusharray(c, cpu);
    const avail = c.acAvail[cpu]!;
    const base = cpu * c.limit;
    if (avail > 0 && c.acEntry[base + avail - 1] === obj) return false;
    c.acEntry[base + avail] = obj;
    c.acAvail[cpu] = avail + 1;
    return true;
  }

  /** cache_flusharray(): the oldest batchcount objects to the shared array if it has room (as many as fit), else to their slabs. */
  private cacheFlusharray(c: SlabCache, cpu: number): void {
    const base = cpu * c.limit;
    let batch = c.batchcount;
    const sharedLimit = c.sharedEntry.length;
    const room = sharedLimit - c.sharedAvail;
    if (sharedLimit > 0 && room > 0) {
      if (batch > room) batch = room;
      c.sharedEntry.set(c.acEntry.subarray(base, base + batch), c.sharedAvail);
      c.sharedAvail += batch;
    } else {
      this.freeBlock(c, c.acEntry.subarray(base, base + batch), cpu);
    }
    const avail = c.acAvail[cpu]! - batch;
    c.acEntry.copyWithin(base, base + batch, base + batch + avail);
    c.acAvail[cpu] = avail;
  }

  /**
   * free_block(): each object back into its slab, the slab to the head of
   * slabs_free when empty, else to the tail of slabs_partial; then free
   * slabs beyond free_limit are destroyed, oldest first.
   */
  private freeBlock(c: SlabCache, objs: Uint32Array, cpu: number): void {
    const p = this.pages;
    c.freeObjects += objs.length;
    for (let i = 0; i < objs.length; i++) {
      const obj = objs[i]!;
      const pfn = p.compoundHead(Math.floor(obj / PAGE_SIZE));
      this.listDel(c, this.listOf(c, pfn), pfn);
      this.slabPutObj(c, pfn, obj);
      if (p.slabCounters[pfn] === 0) {
        this.listAdd(c, SLABS_FREE, pfn, false);
        c.freeSlabs++;
      } else {
        this.listAdd(c, SLABS_PARTIAL, pfn, true);
      }
    }
    while (c.freeObjects > c.freeLimit && c.heads[SLABS_FREE]! >= 0) {
      c.freeObjects -= c.g.num;
      const pfn = p.prev[c.heads[SLABS_FREE]!]!;
      this.listDel(c, SLABS_FREE, pfn);
      c.freeSlabs--;
      c.totalSlabs--;
      this.slabDestroy(c, pfn, cpu);
    }
  }

  /**
   * drain_array_locked() on a head array (cpu >= 0) or the shared array
   * (cpu -1): all of it, or (limit + 4) / 5 entries (half of what it holds
   * if fewer) from the bottom.
   */
  private drainArray(c: SlabCache, cpu: number, all: boolean, byCpu: number): void {
    const entries = cpu >= 0 ? c.acEntry.subarray(cpu * c.limit, (cpu + 1) * c.limit) : c.sharedEntry;
    const avail = cpu >= 0 ? c.acAvail[cpu]! : c.sharedAvail;
    if (avail === 0) return;
    const limit = cpu >= 0 ? c.limit : c.sharedEntry.length;
    let tofree = all ? avail : Math.floor((limit + 4) / 5);
    if (tofree > avail) tofree = Math.floor((avail + 1) / 2);
    this.freeBlock(c, entries.slice(0, tofree), byCpu);
    entries.copyWithin(0, tofree, avail);
    if (cpu >= 0) c.acAvail[cpu] = avail - tofree;
    else c.sharedAvail = avail - tofree;
  }

  /** drain_freelist(): destroy up to tofree free slabs, oldest first; the number destroyed. */
  private drainFreelist(c: SlabCache, tofree: number, cpu: number): number {
    let n = 0;
    while (n < tofree && c.heads[SLABS_FREE]! >= 0) {
      const pfn = this.pages.prev[c.heads[SLABS_FREE]!]!;
      this.listDel(c, SLABS_FREE, pfn);
      c.freeSlabs--;
      c.totalSlabs--;
      c.freeObjects -= c.g.num;
      this.slabDestroy(c, pfn, cpu);
      n++;
    }
    return n;
  }

  /** __kmem_cache_shrink(): every head array and the shared array back to the slabs, every free slab destroyed; true if slabs remain. */
  shrink(id: number, cpu: number): boolean {
    const c = this.caches[id]!;
    for (let k = 0; k < this.cpus; k++) this.drainArray(c, k, true, cpu);
    this.drainArray(c, -1, true, cpu);
    this.drainFreelist(c, Number.MAX_SAFE_INTEGER, cpu);
    return c.totalSlabs > 0;
  }

  /**
   * cache_reap() as CPU cpu runs it for one cache: its head array drained by
   * a fifth unless touched (then only untouched); when the node is due
   * (nodeDue), the shared array likewise and, unless the free list was
   * touched, ceil(free_limit / (5 * num)) free slabs destroyed.
   */
  reapCache(id: number, cpu: number, nodeDue: boolean): void {
    const c = this.caches[id]!;
    if (c.acTouched[cpu]) c.acTouched[cpu] = 0;
    else this.drainArray(c, cpu, false, cpu);
    if (!nodeDue) return;
    if (c.sharedTouched) c.sharedTouched = false;
    else this.drainArray(c, -1, false, cpu);
    if (c.freeTouched) c.freeTouched = false;
    else this.drainFreelist(c, Math.ceil(c.freeLimit / (5 * c.g.num)), cpu);
  }

  /**
   * do_tune_cpucache(): new head arrays of `limit` (their old contents back
   * to the slabs), a new shared array of shared * batchcount (the old one's
   * contents back to the slabs too), and free_limit from the new batch.
   */
  tune(id: number, limit: number, batchcount: number, shared: number, cpu: number): void {
    const c = this.caches[id]!;
    // The old head arrays go back under the old free_limit ...
    for (let k = 0; k < this.cpus; k++) this.drainArray(c, k, true, cpu);
    c.limit = limit;
    c.batchcount = batchcount;
    c.shared = shared;
    c.acEntry = new Uint32Array(this.cpus * limit);
    c.acAvail.fill(0);
    c.acTouched.fill(0);
    // ... then setup_kmem_cache_node(): init_cache_node()'s new free_limit, and the old shared array emptied.
    c.freeLimit = slabFreeLimit(this.cpus, batchcount, c.g.num);
    this.drainArray(c, -1, true, cpu);
    c.sharedEntry = new Uint32Array(shared * batchcount);
    c.sharedAvail = 0;
  }

  /**
   * Run every cache_reap() due by nowNs, in time order across CPUs: each
   * CPU's every REAPTIMEOUT_AC, over every cache (newest first), the node
   * part when its next_reap has come (then REAPTIMEOUT_NODE later).
   */
  reapUntil(nowNs: number, order: readonly number[]): void {
    for (;;) {
      let cpu = -1;
      for (let k = 0; k < this.cpus; k++) if (this.nextReap[k]! <= nowNs && (cpu < 0 || this.nextReap[k]! < this.nextReap[cpu]!)) cpu = k;
      if (cpu < 0) return;
      const t = this.nextReap[cpu]!;
      for (const id of order) {
        const due = this.nodeNextReap[id]! <= t;
        if (due) this.nodeNextReap[id] = t + REAPTIMEOUT_NODE_NS;
        this.reapCache(id, cpu, due);
      }
      this.nextReap[cpu] = t + REAPTIMEOUT_AC_NS;
    }
  }

  /** get_slabinfo(): /proc/slabinfo's numbers for a cache. */
  slabinfo(id: number): { activeObjs: number; numObjs: number; activeSlabs: number; numSlabs: number; sharedAvail: number } {
    const c = this.caches[id]!;
    const numObjs = c.totalSlabs * c.g.num;
    return { activeObjs: numObjs - c.freeObjects, numObjs, activeSlabs: c.totalSlabs - c.freeSlabs, numSlabs: c.totalSlabs, sharedAvail: c.sharedAvail };
  }
}
