/**
 * What a trace replay needs to know of the slab allocator design the machine
 * was booted with (`allocator: 'slub' | 'slab' | 'slob'`): which cache a
 * kmalloc of n bytes lands in, a cache's name, handle, slot size and slabs,
 * and whether an allocation or free took the design's fast path. The replay
 * (src/trace/replay.ts) asks these questions only; each design answers
 * from its own structures.
 *
 *   design  cache ids               fast path                slow path
 *   SLUB    SLUB's kmem ids         CONFIG_SLUB_STATS        the rest
 *                                   alloc/free_fastpath, or
 *                                   the cpu sheaf's (6.18's
 *                                   alloc/free_cpu_sheaf, 7.0's
 *                                   alloc/free_fastpath)
 *   SLAB    SLAB's cache ids        head array hit           allocmiss (cache_alloc_refill),
 *                                   (allochit, freehit)      freemiss (cache_flusharray)
 *   SLOB    SlobCaches ids, and     the block came from a    pages taken from the buddy
 *           one pseudo cache per    page already in the      allocator (alloc: a new heap
 *           free list for kmalloc   heap                     page or a large kmalloc), pages
 *           (and one for pages)                              given back to it (free)
 *
 * SLAB's fast/slow split is CONFIG_DEBUG_SLAB's STATS_INC_ALLOCHIT/MISS and
 * FREEHIT/MISS, read from the head array before the call (an empty array
 * on allocation, a full one on free, is the miss).
 */
import type { Kernel } from '../kernel.js';
import { PAGE_SIZE } from '../memory/memblock.js';
import { PGTY } from '../memory/page.js';
import type { SlabCaches } from '../slab/slab_common.js';
import type { SlobCaches } from '../slob/slab_common.js';
import { SLOB_MINALIGN, type Slob, slobListFor, slobListNames } from '../slob/slob.js';
import { ALLOC_FASTPATH, CF, FREE_FASTPATH, KmemHandle, MAX_CACHES, NR_SLUB_STAT_ITEMS, SlubStat } from '../slub/slab.js';

/** The design questions a replay asks of its machine. */
export interface ReplayDesign {
  readonly allocator: 'slub' | 'slab' | 'slob';
  /** kmalloc_slab(): the id of the cache a kmalloc of size (1..8192) bytes with gfp lands in, -1 for none. */
  kmallocId(size: number, gfp: number): number;
  /** A live cache's name. */
  name(id: number): string;
  /** The API handle of cache id (what kmemCacheAlloc takes). */
  handleOf(id: number): number;
  /** The id of an API handle. */
  idOf(handle: number): number;
  /** The newest live cache of that name's id, or -1. */
  findByName(name: string): number;
  /** Cache id is live. */
  has(id: number): boolean;
  /** The slot an object takes (cachep->size / s->size); 0 when objects have no fixed slot (SLOB). */
  slotSize(id: number): number;
  objectSize(id: number): number;
  /** Slab order; 0 for SLOB. */
  order(id: number): number;
  /** Slabs the cache has (SLOB: heap pages, shared by every cache). */
  nrSlabs(id: number): number;
  /** Object slots in those slabs (0 for SLOB). */
  totalObjects(id: number): number;
  /** Objects handed out (0 for SLOB, which does not count them per cache). */
  liveObjects(id: number): number;
  /** The slab (first page's pfn) an address lies in, or -1. */
  slabOf(addr: number): number;
  /** kfree() cannot take a cache's object (SLOB: it reads a kmalloc size header), so those go back by kmem_cache_free(). */
  readonly freeByCache: boolean;
  /** Fast and slow paths are counted (SLUB: with CONFIG_SLUB_STATS). */
  readonly counts: boolean;
  /** A reading before an allocation (alloc true) or free on cpu of cache id; `fast` compares it with the state after. */
  before(cpu: number, id: number, alloc: boolean): number;
  fast(cpu: number, id: number, alloc: boolean, before: number): boolean;
}

/** The design of machine k. */
export function replayDesign(k: Kernel): ReplayDesign {
  const m = k.machine;
  if (m.slabCaches !== null) return slabDesign(m.slabCaches);
  if (m.slob !== null && m.slobCaches !== null) return slobDesign(m.slob, m.slobCaches);
  return slubDesign(k);
}

/** SLUB: the kmem ids of src/slub, its cf array and CONFIG_SLUB_STATS. */
function slubDesign(k: Kernel): ReplayDesign {
  const cf = k.slub.cf;
  const stats = k.slub.statsOn ? k.slub.st.stats : new Float64Array(0);
  const at = (id: number, f: number) => cf[id * CF.FIELDS + f]!;
  // a fast path is the cpu freelist's (alloc_fastpath, free_fastpath) or, for a cache with sheaves (every cache under 7.0), the cpu sheaf's (ALLOC_PCS, FREE_PCS)
  const si = (cpu: number, id: number, alloc: boolean) => (cpu * MAX_CACHES + id) * NR_SLUB_STAT_ITEMS + (alloc ? ALLOC_FASTPATH : FREE_FASTPATH);
  const pi = (cpu: number, id: number, alloc: boolean) => (cpu * MAX_CACHES + id) * NR_SLUB_STAT_ITEMS + (alloc ? SlubStat.ALLOC_PCS : SlubStat.FREE_PCS);
  const fastCount = (cpu: number, id: number, alloc: boolean) => stats[si(cpu, id, alloc)]! + stats[pi(cpu, id, alloc)]!;
  return {
    allocator: 'slub',
    kmallocId: (size, gfp) => k.slab.kmallocSlab(size, gfp),
    name: (id) => k.slub.caches[id]!.name,
    handleOf: (id) => k.slab.handleOf(id),
    idOf: (handle) => k.slab.cacheOf(handle),
    findByName: (name) => k.slab.findByName(name),
    has: (id) => k.slub.caches[id] !== undefined,
    slotSize: (id) => at(id, CF.SIZE),
    objectSize: (id) => at(id, CF.OBJECT_SIZE),
    order: (id) => at(id, CF.ORDER),
    nrSlabs: (id) => at(id, CF.NR_SLABS),
    totalObjects: (id) => at(id, CF.TOTAL_OBJECTS),
    liveObjects: (id) => k.slab.liveObjects(id),
    slabOf: (addr) => k.slub.virtToSlab(addr),
    freeByCache: false,
    counts: stats.length !== 0,
    before: fastCount,
    fast: (cpu, id, alloc, before) => fastCount(cpu, id, alloc) > before,
  };
}

/** SLAB (mm/slab.c): SlabAllocator's cache ids; a head-array hit is the fast path. */
function slabDesign(sc: SlabCaches): ReplayDesign {
  const s = sc.s;
  const p = s.pages;
  return {
    allocator: 'slab',
    kmallocId: (size) => s.kmallocSlab(size),
    name: (id) => s.caches[id]!.name,
    handleOf: (id) => sc.entry(id)!.handle,
    idOf: (handle) => sc.cacheOf(handle),
    findByName: (name) => {
      const h = sc.handleByName(name);
      return h < 0 ? -1 : sc.cacheOf(h);
    },
    has: (id) => sc.entry(id) !== null,
    slotSize: (id) => s.caches[id]!.g.size,
    objectSize: (id) => s.caches[id]!.objectSize,
    order: (id) => s.caches[id]!.g.gfporder,
    nrSlabs: (id) => s.caches[id]!.totalSlabs,
    totalObjects: (id) => s.caches[id]!.totalSlabs * s.caches[id]!.g.num,
    liveObjects: (id) => {
      const c = s.caches[id]!;
      let inArrays = c.sharedAvail;
      for (let cpu = 0; cpu < s.cpus; cpu++) inArrays += c.acAvail[cpu]!;
      return c.totalSlabs * c.g.num - c.freeObjects - inArrays;
    },
    slabOf: (addr) => {
      const pfn = p.compoundHead(Math.floor(addr / PAGE_SIZE));
      return p.pageType[pfn] === PGTY.slab ? pfn : -1;
    },
    freeByCache: false,
    counts: true,
    before: (cpu, id) => s.caches[id]!.acAvail[cpu]!,
    // ____cache_alloc(): a miss when the head array was empty; ___cache_free(): when it was full
    fast: (_cpu, id, alloc, before) => (alloc ? before > 0 : before < s.caches[id]!.limit),
  };
}

/** SLOB pseudo ids for kmalloc: one per free list, and one for the kmallocs that go straight to pages, above every SlobCaches id. */
const SLOB_KMALLOC_ID = MAX_CACHES - 4;
const SLOB_KMALLOC_NAMES = [...slobListNames, 'pages'];

/** SLOB (6.3's mm/slob.c): kmalloc's blocks counted by the free list their size picks; a new heap page is the slow path. */
function slobDesign(slob: Slob, sc: SlobCaches): ReplayDesign {
  const byId = (id: number) => sc.list.find((c) => (c.handle & KmemHandle.ID_MASK) === id);
  return {
    allocator: 'slob',
    // __do_kmalloc_node(): the block is size + the minalign header, on the list for that size
    kmallocId: (size) => SLOB_KMALLOC_ID + (size < PAGE_SIZE - SLOB_MINALIGN ? slobListFor(size + SLOB_MINALIGN) : 3),
    name: (id) => (id >= SLOB_KMALLOC_ID ? `kmalloc (${SLOB_KMALLOC_NAMES[id - SLOB_KMALLOC_ID]})` : byId(id)!.name),
    handleOf: (id) => (id >= SLOB_KMALLOC_ID ? -1 : byId(id)!.handle),
    idOf: (handle) => (handle < 0 ? -1 : sc.cacheOf(handle).handle & KmemHandle.ID_MASK),
    findByName: (name) => {
      const h = sc.handleByName(name);
      return h < 0 ? -1 : h & KmemHandle.ID_MASK;
    },
    has: (id) => id >= SLOB_KMALLOC_ID || byId(id) !== undefined,
    slotSize: () => 0,
    objectSize: (id) => (id >= SLOB_KMALLOC_ID ? 0 : byId(id)!.objectSize),
    order: () => 0,
    nrSlabs: () => slob.heapPages,
    totalObjects: () => 0,
    liveObjects: () => 0,
    slabOf: (addr) => {
      const pfn = Math.floor(addr / PAGE_SIZE);
      return slob.pages.pageType[pfn] === PGTY.slab ? pfn : -1;
    },
    freeByCache: true,
    counts: true,
    // every page SLOB takes or gives back (heap pages, large kmallocs, big cache objects) is in NR_SLAB_UNRECLAIMABLE_B
    before: () => slob.slabPagesUnreclaimable,
    fast: (_cpu, _id, alloc, before) => (alloc ? slob.slabPagesUnreclaimable <= before : slob.slabPagesUnreclaimable >= before),
  };
}
