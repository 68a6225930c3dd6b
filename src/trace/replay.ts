/**
 * Replay a kernel's kmem tracepoints through a kmem machine.
 *
 * Every slab and page event is performed, in file order, on the CPU the
 * trace names, so per-CPU caches fill and drain, and remote frees happen,
 * as they did on the traced machine:
 *
 *   kmalloc, kmalloc_node        kmalloc(bytes_req, gfp): the same kmalloc
 *                                cache the traced kernel used, or a large
 *                                kmalloc from the page allocator above 8 KiB
 *   kmem_cache_alloc[_node]      kmem_cache_alloc() from the cache named by
 *                                name= (6.18+), else by the name= its free
 *                                reports later (5.12+; see "lookahead"), else
 *                                by its call site and bytes_alloc
 *   kfree, kmem_cache_free       the object the pointer was allocated as
 *   mm_page_alloc                alloc_pages(order, gfp)
 *   mm_page_free[_batched]       __free_pages() of the block at that pfn
 *   mm_page_alloc_zone_locked,   the traced allocator's own pcp refills and
 *   mm_page_pcpu_drain           drains: counted, not performed (kmem's pcp
 *                                lists do their own)
 *
 * Pointers pair an allocation with its free by their printed value (hashed
 * or raw, the low 48 bits); a free of a pointer the trace never allocated
 * (the object is older than the trace) is counted, not an error. So is a
 * NULL allocation (it failed on the traced machine) and an allocation of a
 * pointer still live (the trace lost the free).
 *
 * Names: kmem_cache_alloc printed no cache name before 6.18, but
 * kmem_cache_free has printed name= since 5.12. A regular file is read
 * twice: the first pass (CacheNames) finds, for every unnamed allocation,
 * the name= its free prints however far later, and for each call site and
 * bytes_alloc the cache its named objects went to; the second pass reads
 * the file into typed-array rows (columns.ts) and performs them as they
 * come. A pipe is read once, through a lookahead window: events are held
 * back (1024 by default) before they are performed; when a named free
 * arrives while its allocation is still in the window, the allocation takes
 * that name, and the call site + bytes_alloc is remembered for the
 * allocations that come later. Either way, an allocation still without a
 * name uses what was learned, then a table of well-known call sites (only
 * where the cache's slot is the traced bytes_alloc), then a cache of its
 * own named `<function>-<bytes_alloc>`, which the report marks unknown.
 *
 * bytes_alloc: on 6.x it is the slot size of the cache the kernel used;
 * every allocation whose bytes_alloc is not the slot of the cache it is
 * replayed into is counted (per cache and in all) and reported.
 *
 * Statistics come from two places: the trace's own numbers (objects, bytes
 * requested and allocated, internal waste) tracked per cache and per call
 * site, and the machine (slabs, CONFIG_SLUB_STATS fast/slow path counters,
 * page allocator state).
 *
 * What-if (compare.ts): replayFileMany reads a file's two passes once and
 * hands every batch of rows to several machines, each booted with its own
 * options; each ends as a replay of its own would.
 *
 * Slab pages: a trace that recorded both slab and page events shows the
 * slab allocator's own page allocations (and large kmallocs' pages) as
 * mm_page_alloc. On a no_hash_pointers trace the first object found in
 * such a block gives it back (kmem's SLUB allocates its own) and its
 * mm_page_free is ignored, so they count once (slabObjectPage). With
 * hashed pointers the block is recognised by how allocate_slab fetched it
 * (its gfp and order, and the allocation right after it: hashedSlabPage).
 *
 * Before the trace: the ring buffers the trace was recorded in were
 * allocated before its first event (at least the boot CPU's); options
 * .ringBuffer allocates them first (preTraceRingBuffer), reported as
 * pages.preTrace.
 *
 * Kernel generation: a trace whose kmem_cache_alloc events print no name=
 * while its kmem_cache_free events do (5.12 .. 6.17) is replayed on 6.1's
 * geometry (boot option kernel: '6.1'), with the caches of a real 6.1
 * machine made before the first event (src/slub/known_caches_6_1.ts);
 * an unnamed allocation nothing else names then goes to that machine's
 * cache of its slot and object size that no event names. A cache the
 * trace names is never merged into another (the name is a root's).
 */

import { statSync } from 'node:fs';
import { type BootOptions, boot, type Kernel } from '../kernel.js';
import {
  __GFP_ACCOUNT,
  __GFP_COMP,
  __GFP_DIRECT_RECLAIM,
  __GFP_DMA,
  __GFP_DMA32,
  __GFP_FS,
  __GFP_HARDWALL,
  __GFP_HIGH,
  __GFP_HIGHMEM,
  __GFP_IO,
  __GFP_KSWAPD_RECLAIM,
  __GFP_MEMALLOC,
  __GFP_MOVABLE,
  __GFP_NOMEMALLOC,
  __GFP_NORETRY,
  __GFP_NOWARN,
  __GFP_RECLAIMABLE,
  __GFP_RETRY_MAYFAIL,
  __GFP_ZERO,
  GFP_ATOMIC,
  GFP_HIGHUSER_MOVABLE,
  GFP_KERNEL,
  GFP_MOVABLE_MASK,
  parseGfpText,
} from '../page_alloc/gfp.js';
import { MAX_PAGE_ORDER, MIGRATE_TYPES, migratetypeNames, NR_PAGE_ORDERS } from '../page_alloc/mmzone.js';
import { getCache, REAL_CACHES } from '../slub/known_caches.js';
import { REAL_CACHES_6_1 } from '../slub/known_caches_6_1.js';
import { MAX_CACHES, NR_SLUB_STAT_ITEMS, statNames } from '../slub/slab.js';
import { SLAB_HWCACHE_ALIGN, SLAB_NO_MERGE } from '../slub/slab_flags.js';
import {
  C_KFREE,
  C_KMALLOC,
  C_KMALLOC_NODE,
  C_KMEM_CACHE_ALLOC,
  C_KMEM_CACHE_ALLOC_NODE,
  C_KMEM_CACHE_FREE,
  C_MM_PAGE_ALLOC,
  C_MM_PAGE_FREE,
  C_MM_PAGE_FREE_BATCHED,
  type EventColumns,
  ptrKey,
  StringTable,
} from './columns.js';
import { KMEM_EVENT_KINDS, type KmemEvent, type PageEvent, type SlabAllocEvent, type SlabFreeEvent, TraceParseError, TraceReplayError } from './events.js';
import { maxCpuSeen, resetTraceHeader, type TraceHeader, traceHeader } from './ftrace.js';
import { type ReplayDesign, replayDesign } from './replay_design.js';
import { readTraceBatches, readTraceColumns, STDIN_NAME, STDIN_PATH, type TraceReadStats } from './stream.js';

export { ptrKey };

/** get_order(): the smallest order whose block holds `size` bytes. */
function getOrderOf(size: number): number {
  let o = 0;
  while (4096 * 2 ** o < size) o++;
  return o;
}

/** The constructor of a replayed cache that had one: the geometry needs it (free pointer outside the object), the bytes do not. */
function noCtor(_addr: number): void {}

// ───────────────────────── pointers and gfp flags ─────────────────────────

/**
 * An open-addressing hash table from pointer keys (non-negative integers
 * below 2^48) to slot numbers, on typed arrays: no boxed number per key.
 * Linear probing; deletion shifts the following entries back.
 */
export class PtrTable {
  private keys: Float64Array;
  private vals: Int32Array;
  private mask: number;
  size = 0;

  constructor(capacity = 1 << 12) {
    let cap = 16;
    while (cap < capacity) cap <<= 1;
    this.keys = new Float64Array(cap).fill(-1);
    this.vals = new Int32Array(cap);
    this.mask = cap - 1;
  }

  private static hash(key: number): number {
    // ToInt32 keeps the low 32 bits of an integer as `% 2^32` would, without the fmod
    const lo = key | 0;
    const hi = (key / 4294967296) | 0;
    let h = Math.imul(lo ^ Math.imul(hi, 0x27d4eb2d), 0x9e3779b1);
    h ^= h >>> 15;
    return Math.imul(h, 0x85ebca6b) ^ (h >>> 13);
  }

  /** The value for key, or -1. */
  get(key: number): number {
    const keys = this.keys;
    const mask = this.mask;
    for (let i = PtrTable.hash(key) & mask; ; i = (i + 1) & mask) {
      const k = keys[i]!;
      if (k === key) return this.vals[i]!;
      if (k === -1) return -1;
    }
  }

  set(key: number, value: number): void {
    if ((this.size + 1) * 2 > this.keys.length) this.grow();
    const keys = this.keys;
    const mask = this.mask;
    for (let i = PtrTable.hash(key) & mask; ; i = (i + 1) & mask) {
      const k = keys[i]!;
      if (k === key) {
        this.vals[i] = value;
        return;
      }
      if (k === -1) {
        keys[i] = key;
        this.vals[i] = value;
        this.size++;
        return;
      }
    }
  }

  /** Remove key; returns its value, or -1 when it was not there. */
  delete(key: number): number {
    const keys = this.keys;
    const vals = this.vals;
    const mask = this.mask;
    let i = PtrTable.hash(key) & mask;
    for (; ; i = (i + 1) & mask) {
      const k = keys[i]!;
      if (k === key) break;
      if (k === -1) return -1;
    }
    const value = vals[i]!;
    // shift back the entries of the cluster that probed past i
    let hole = i;
    for (let j = (i + 1) & mask; keys[j] !== -1; j = (j + 1) & mask) {
      const home = PtrTable.hash(keys[j]!) & mask;
      // is home cyclically in (hole, j]? then the entry stays
      if (hole <= j ? home > hole && home <= j : home > hole || home <= j) continue;
      keys[hole] = keys[j]!;
      vals[hole] = vals[j]!;
      hole = j;
    }
    keys[hole] = -1;
    this.size--;
    return value;
  }

  /** Every value. */
  *values(): Generator<number> {
    for (let i = 0; i < this.keys.length; i++) if (this.keys[i] !== -1) yield this.vals[i]!;
  }

  private grow(): void {
    const oldKeys = this.keys;
    const oldVals = this.vals;
    const cap = oldKeys.length * 2;
    this.keys = new Float64Array(cap).fill(-1);
    this.vals = new Int32Array(cap);
    this.mask = cap - 1;
    this.size = 0;
    for (let i = 0; i < oldKeys.length; i++) if (oldKeys[i] !== -1) this.set(oldKeys[i]!, oldVals[i]!);
  }
}

/**
 * The flags a replayed allocation passes: the traced flags that choose a
 * zone, a migratetype, a kmalloc type or a reserve, plus __GFP_NOWARN (a
 * smaller machine's failures are counted, not printed one by one). Dropped:
 * __GFP_ZERO (zeroing changes no allocator decision), __GFP_NOFAIL and the
 * rest.
 */
const GFP_REPLAY_MASK =
  __GFP_DMA |
  __GFP_HIGHMEM |
  __GFP_DMA32 |
  __GFP_MOVABLE |
  __GFP_RECLAIMABLE |
  __GFP_HIGH |
  __GFP_IO |
  __GFP_FS |
  __GFP_DIRECT_RECLAIM |
  __GFP_KSWAPD_RECLAIM |
  __GFP_RETRY_MAYFAIL |
  __GFP_NORETRY |
  __GFP_MEMALLOC |
  __GFP_NOMEMALLOC |
  __GFP_HARDWALL |
  __GFP_ACCOUNT |
  __GFP_COMP;

/** Migratetype → flags, for page events whose gfp_flags say nothing. */
const GFP_FOR_MIGRATETYPE = [GFP_KERNEL, GFP_HIGHUSER_MOVABLE, GFP_KERNEL | __GFP_RECLAIMABLE, GFP_ATOMIC];

/** The function of a call site as printed: `getname_flags+0x4f/0x1f0 [mod]` → `getname_flags`. */
export function callSiteFunction(site: string): string {
  let s = site;
  if (s.charCodeAt(0) === 40 /* ( */ && s.endsWith(')')) s = s.slice(1, -1);
  const plus = s.indexOf('+');
  if (plus > 0) return s.slice(0, plus);
  const sp = s.indexOf(' ');
  return sp > 0 ? s.slice(0, sp) : s;
}

/**
 * Where well-known call sites allocate from on a 6.x kernel, for traces
 * that never name their caches (before 5.12).
 */
export const KNOWN_CALL_SITES: Readonly<Record<string, string>> = {
  // kmem_cache_create(): the descriptor and its per-node structures (6.1 prints no name for them)
  kmem_cache_create_usercopy: 'kmem_cache',
  create_cache: 'kmem_cache',
  __kmem_cache_create: 'kmem_cache_node',
  init_kmem_cache_nodes: 'kmem_cache_node',
  // lib/radix-tree.c: every node from radix_tree_node_cachep
  radix_tree_node_alloc: 'radix_tree_node',
  __radix_tree_preload: 'radix_tree_node',
  getname_flags: 'names_cache',
  getname_kernel: 'names_cache',
  __alloc_file: 'filp',
  alloc_empty_file: 'filp',
  alloc_empty_file_noaccount: 'filp',
  security_file_alloc: 'lsm_file_cache',
  __build_skb: 'skbuff_head_cache',
  __napi_build_skb: 'skbuff_head_cache',
  __alloc_skb: 'skbuff_head_cache',
  napi_skb_cache_get: 'skbuff_head_cache',
  skb_clone: 'skbuff_head_cache',
  prepare_creds: 'cred_jar',
  prepare_kernel_cred: 'cred_jar',
  copy_creds: 'cred_jar',
  vm_area_alloc: 'vm_area_struct',
  vm_area_dup: 'vm_area_struct',
  mas_alloc_nodes: 'maple_node',
  mt_alloc_one: 'maple_node',
  __d_alloc: 'dentry',
  d_alloc: 'dentry',
  alloc_inode: 'inode_cache',
  dup_task_struct: 'task_struct',
  mm_alloc: 'mm_struct',
  dup_mm: 'mm_struct',
  anon_vma_alloc: 'anon_vma',
  anon_vma_clone: 'anon_vma_chain',
  __anon_vma_prepare: 'anon_vma_chain',
  anon_vma_fork: 'anon_vma_chain',
  alloc_pid: 'pid',
  copy_signal: 'signal_cache',
  copy_sighand: 'sighand_cache',
  dup_fd: 'files_cache',
  copy_fs_struct: 'fs_cache',
  sock_alloc_inode: 'sock_inode_cache',
  sk_prot_alloc: 'TCP',
  reqsk_alloc: 'request_sock_TCP',
  inet_reqsk_alloc: 'request_sock_TCP',
};

/**
 * Call sites of KNOWN_CALL_SITES that allocate from more than the one cache
 * named there: the replay takes the one whose slot is the traced
 * bytes_alloc, and none when none is (the cache is then unknown).
 */
export const OTHER_CACHES_OF_CALL_SITE: Readonly<Record<string, readonly string[]>> = {
  // anon_vma_fork allocates the child's anon_vma and the chain that links it
  anon_vma_fork: ['anon_vma'],
  // every protocol's socket: TCP, UDP, UNIX, RAW, ... (only slot sizes tell them apart)
  sk_prot_alloc: ['UDP', 'UNIX', 'RAW', 'PING', 'TCPv6', 'UDPv6', 'RAWv6', 'NETLINK'],
};

// ───────────────────────── statistics rows ─────────────────────────

/**
 * Call sites counted one by one at most. When a new call site finds the
 * table full, the half of the call sites with nothing live and the fewest
 * allocations are summed into one row, OTHER_CALL_SITES; when every call
 * site still has live objects the new one goes to that row directly. So a
 * trace of any number of distinct call sites (raw addresses, modules
 * loaded and unloaded) replays in bounded memory, and the busy call sites
 * keep rows of their own.
 */
export const MAX_CALL_SITES = 16384;

/** The row that sums the call sites past MAX_CALL_SITES. */
export const OTHER_CALL_SITES = '(other call sites)';

/** What the replay counts for one cache or one call site. */
class Row {
  allocs = 0;
  frees = 0;
  live = 0;
  peak = 0;
  /** bytes_alloc of the live objects, and its peak */
  liveBytes = 0;
  peakBytes = 0;
  /** bytes_req of the live objects */
  liveReq = 0;
  /** bytes_alloc - bytes_req of the live objects, its peak, and over every allocation */
  liveWaste = 0;
  peakWaste = 0;
  totalWaste = 0;
  allocFast = 0;
  allocSlow = 0;
  freeFast = 0;
  freeSlow = 0;
  remoteFrees = 0;
  /** kmem could not allocate (the replaying machine ran out) */
  failed = 0;

  alloc(req: number, bytes: number): void {
    this.allocs++;
    if (++this.live > this.peak) this.peak = this.live;
    this.liveReq += req;
    this.liveBytes += bytes;
    if (this.liveBytes > this.peakBytes) this.peakBytes = this.liveBytes;
    const w = bytes > req ? bytes - req : 0;
    this.totalWaste += w;
    this.liveWaste += w;
    if (this.liveWaste > this.peakWaste) this.peakWaste = this.liveWaste;
  }

  /** Add a row that has nothing live (its peaks as the larger of the two). */
  fold(r: Row): void {
    this.allocs += r.allocs;
    this.frees += r.frees;
    this.totalWaste += r.totalWaste;
    this.allocFast += r.allocFast;
    this.allocSlow += r.allocSlow;
    this.freeFast += r.freeFast;
    this.freeSlow += r.freeSlow;
    this.remoteFrees += r.remoteFrees;
    this.failed += r.failed;
    if (r.peak > this.peak) this.peak = r.peak;
    if (r.peakBytes > this.peakBytes) this.peakBytes = r.peakBytes;
    if (r.peakWaste > this.peakWaste) this.peakWaste = r.peakWaste;
  }

  /** An object goes; `counted` false for one whose free the trace lost. */
  free(req: number, bytes: number, counted: boolean): void {
    if (counted) this.frees++;
    this.live--;
    this.liveReq -= req;
    this.liveBytes -= bytes;
    this.liveWaste -= bytes > req ? bytes - req : 0;
  }
}

class CacheRow extends Row {
  readonly name: string;
  /** Position in the replayer's list of rows. */
  readonly index: number;
  /** The kmem cache's id (SLUB's arrays are indexed by it), -1 for large kmallocs (page allocator), -2 when kmem could not create it. */
  readonly kmemId: number;
  /** The cache's API handle (kmemCacheAlloc takes it), or kmemId's -1/-2. */
  readonly handle: number;
  peakSlabs = 0;
  /** Allocations whose traced bytes_alloc is not this cache's slot size. */
  sizeMismatches = 0;
  /** No name for it anywhere in the trace: a cache kmem made up (`<function>-<bytes_alloc>`). */
  unknown = false;
  /** kmem_cache or kmem_cache_node: the descriptors of caches, which kmem allocates itself. */
  readonly descriptor: boolean;
  constructor(name: string, kmemId: number, handle: number, index: number) {
    super();
    this.descriptor = name === 'kmem_cache' || name === 'kmem_cache_node';
    this.name = name;
    this.kmemId = kmemId;
    this.handle = handle;
    this.index = index;
  }
}

class SiteRow extends Row {
  readonly callSite: string;
  readonly index: number;
  readonly func: string;
  /** The cache an unnamed kmem_cache_alloc of this call site uses, by bytes_alloc. */
  readonly cacheByBytes = new Map<number, CacheRow>();
  /** The caches this site allocated from (by name, with counts). */
  readonly caches = new Map<string, number>();
  lastCache: CacheRow | null = null;
  constructor(callSite: string, index: number) {
    super();
    this.callSite = callSite;
    this.index = index;
    this.func = callSiteFunction(callSite);
  }
}

/** A copy of a string that does not keep the (large) string it was sliced from alive. */
function flat(s: string): string {
  // latin1 keeps one byte per character: only for text that fits in it.
  const enc = /[^\u0000-\u00ff]/.test(s) ? 'utf16le' : 'latin1';
  return Buffer.from(s, enc).toString(enc);
}

// ───────────────────────── report shapes ─────────────────────────

export interface PeakFinal {
  peak: number;
  final: number;
}

export interface ReplayCacheReport {
  name: string;
  /** object_size and slot size of the kmem cache (null for large kmallocs) */
  objectSize: number | null;
  slabSize: number | null;
  order: number | null;
  allocs: number;
  frees: number;
  objects: PeakFinal;
  /** null for large kmallocs */
  slabs: PeakFinal | null;
  /** sum of bytes_alloc of the live objects */
  bytes: PeakFinal;
  /** sum of bytes_req of the live objects at the end */
  requestedBytes: number;
  /** bytes_alloc - bytes_req */
  waste: PeakFinal & { total: number };
  /** objects in use / object slots in the cache's slabs at the end, percent (null without slabs) */
  utilisation: number | null;
  fastpath: { alloc: number; free: number };
  slowpath: { alloc: number; free: number };
  remoteFrees: number;
  replayFailures: number;
  /** allocations whose traced bytes_alloc is not this cache's slot size */
  sizeMismatches: number;
  /** true when no event of the trace names this cache: kmem made it up from the call site and bytes_alloc */
  unknown: boolean;
  /**
   * Created before the trace's first event, so its counts may lack objects
   * the trace never saw: the kmalloc caches and the kmem_cache/kmem_cache_node
   * descriptors' caches (made at boot, before any tracing), and any cache a
   * kmem_cache_free names for an object the trace never saw allocated.
   */
  bornBeforeTrace: boolean;
}

export interface ReplaySiteReport {
  callSite: string;
  caches: string[];
  allocs: number;
  frees: number;
  objects: PeakFinal;
  /** slabs holding the site's live objects at the end */
  slabs: { final: number };
  bytes: PeakFinal;
  waste: PeakFinal & { total: number };
  fastpath: { alloc: number };
  slowpath: { alloc: number };
  remoteFrees: number;
}

export interface ReplayPageReport {
  /** allocations[order][migratetype name] */
  allocations: { order: number; byMigratetype: Record<string, number>; total: number }[];
  frees: number;
  unknownFrees: number;
  failures: number;
  live: PeakFinal;
  /** mm_page_alloc_zone_locked and mm_page_pcpu_drain seen (not performed) */
  zoneLockedRefills: number;
  pcpDrains: number;
  /**
   * Traced page blocks recognised as slab or large-kmalloc pages (an object
   * lies in them on no_hash_pointers traces; by gfp, order and the next
   * allocation on hashed ones) and given back, since kmem's
   * SLUB allocates its own; directBase: the page_offset_base found, -1 none.
   */
  slabPages: { blocks: number; pages: number; directBase: number };
  /** Allocated before the first event for the ring buffer the trace was recorded in (options.ringBuffer): pages and kmalloc objects. */
  preTrace: { ringBufferPages: number; objects: number };
}

export interface ReplayReport {
  events: Record<string, number>;
  slab: {
    allocs: number;
    frees: number;
    /** frees of pointers the trace never allocated (older than the trace) */
    unknownFrees: number;
    nullFrees: number;
    /** NULL returned on the traced machine */
    failedInTrace: number;
    /** NULL returned by the replaying machine */
    failedInReplay: number;
    /** a pointer allocated again while still live: the free was lost */
    lostFrees: number;
    /** allocations whose traced bytes_alloc is not the slot size of the cache replayed into */
    sizeMismatches: number;
    remoteFrees: number;
    /**
     * kmem_cache_alloc resolved by a later name=, by learning, by the table
     * of call sites, by the traced 6.1 machine's cache of that slot (one the
     * trace never names), or by a cache of their own (unknown)
     */
    resolved: { byName: number; byLaterFree: number; learned: number; knownCallSite: number; bySlot: number; ownCache: number };
    /** Traced kmem_cache / kmem_cache_node allocations (cache creations) not performed: kmem allocates its own descriptors. */
    descriptorAllocs: number;
    /**
     * Frees of objects the trace never allocated that lie in a slab page
     * allocated during the trace: allocated by an untraced path (6.1's
     * kmem_cache_alloc_bulk). unknownFrees counts the rest: objects older
     * than the trace. No_hash_pointers traces only.
     */
    untracedFrees: number;
  };
  caches: ReplayCacheReport[];
  callSites: ReplaySiteReport[];
  pages: ReplayPageReport;
  /** events on a CPU the machine does not have, folded onto cpu % cpus */
  foldedCpuEvents: number;
  /** distinct call sites summed in the OTHER_CALL_SITES row (past MAX_CALL_SITES) */
  otherCallSites: number;
  /** allocations whose gfp_flags held both __GFP_MOVABLE and __GFP_RECLAIMABLE, replayed as __GFP_RECLAIMABLE */
  bothMobilityBits: number;
  /**
   * What the trace asked of memory, whether or not the replaying machine
   * could give it: peaks of the pages its page events held and of the
   * bytes_alloc of its live slab objects, and the pages in use when the
   * replay began (boot).
   */
  demand: { peakPages: number; peakSlabBytes: number; bootPages: number; totalPages: number };
  /** CONFIG_SLUB_STATS counters per cache (non-zero ones), with --allocator-stats */
  slubStats?: Record<string, Record<string, number>>;
}

// ───────────────────────── the replayer ─────────────────────────

/** Where each kind is counted. */
const N_KMALLOC = KMEM_EVENT_KINDS.indexOf('kmalloc');
const N_KMALLOC_NODE = KMEM_EVENT_KINDS.indexOf('kmalloc_node');
const N_KFREE = KMEM_EVENT_KINDS.indexOf('kfree');
const N_KMEM_CACHE_ALLOC = KMEM_EVENT_KINDS.indexOf('kmem_cache_alloc');
const N_KMEM_CACHE_ALLOC_NODE = KMEM_EVENT_KINDS.indexOf('kmem_cache_alloc_node');
const N_KMEM_CACHE_FREE = KMEM_EVENT_KINDS.indexOf('kmem_cache_free');
const N_MM_PAGE_ALLOC = KMEM_EVENT_KINDS.indexOf('mm_page_alloc');
const N_MM_PAGE_FREE = KMEM_EVENT_KINDS.indexOf('mm_page_free');
const N_MM_PAGE_FREE_BATCHED = KMEM_EVENT_KINDS.indexOf('mm_page_free_batched');
const N_MM_PAGE_ALLOC_ZONE_LOCKED = KMEM_EVENT_KINDS.indexOf('mm_page_alloc_zone_locked');
const N_MM_PAGE_PCPU_DRAIN = KMEM_EVENT_KINDS.indexOf('mm_page_pcpu_drain');

export interface ReplayOptions {
  /**
   * On 6.1's geometry, make the traced 6.1 machine's caches (src/slub/known_caches_6_1.ts)
   * before the first event, as its boot did. Default true.
   */
  kernelCaches?: boolean;
  /** Events held back to learn kmem_cache_alloc cache names from later frees (default 1024, 0 = none). */
  lookahead?: number;
  /** Call sites with a row of their own at most (default MAX_CALL_SITES). */
  maxCallSites?: number;
  /** Count and skip events kmem refuses to perform (a TraceReplayError) instead of throwing at the first. */
  skipBad?: boolean;
  onBad?: (err: TraceParseError) => void;
  /** The trace's name in errors. */
  file?: string;
  /**
   * The ftrace ring buffers the traced machine allocated before its first
   * event (preTraceRingBuffer): `buffers`, the data pages of each ring
   * buffer one CPU has (ringBufferPages of tracing/buffer_size_kb for the
   * main one; a trace of a machine whose second CPU came up while tracing
   * shows that CPU's: on Debian's 6.1, 2, 4113 and 2 pages for
   * trace_buf_size=16M), for `cpus` CPUs (default 1: the boot CPU, whose
   * buffers trace_init makes before any event can be recorded; a CPU
   * brought up later allocates its own, and the trace shows it).
   */
  ringBuffer?: { buffers: readonly number[]; cpus?: number };
}

/** Keys below this are hashed pointers (%p without no_hash_pointers prints a 32-bit hash); slab objects' direct-map addresses are far above. */
const HASHED_PTR_LIMIT = 2 ** 32;

/** BUF_PAGE_SIZE: a ring buffer page's bytes for events (PAGE_SIZE less its 16-byte header). */
const BUF_PAGE_SIZE = 4096 - 16;

/**
 * The data pages of one CPU's ring buffer whose buffer_size_kb reads kb:
 * the kernel prints (nr_pages * BUF_PAGE_SIZE) >> 10, so exactly one
 * nr_pages gives each kb it can print (4113 for trace_buf_size=16M's
 * 16387). RangeError for a kb no ring buffer prints.
 */
export function ringBufferPages(kb: number): number {
  if (!Number.isSafeInteger(kb) || kb <= 0) throw new RangeError(`kb: a positive integer, got ${kb}`);
  const n = Math.max(2, Math.ceil((kb * 1024) / BUF_PAGE_SIZE));
  if (Math.floor((n * BUF_PAGE_SIZE) / 1024) !== kb) throw new RangeError(`kb: no ring buffer has buffer_size_kb ${kb}`);
  return n;
}

/**
 * Replays parsed kmem events through a machine. Feed events in file order
 * with push(); finish() performs what is still held back; report() sums up.
 */
export class TraceReplayer {
  readonly k: Kernel;
  /** Events replayed, per kind in KMEM_EVENT_KINDS order. */
  private readonly kindCounts = new Float64Array(KMEM_EVENT_KINDS.length);
  foldedCpuEvents = 0;

  // slab objects: ptr key -> slot
  private readonly live = new PtrTable();
  private sAddr = new Uint32Array(1024);
  private sCache = new Int32Array(1024);
  private sSite = new Int32Array(1024);
  private sCpu = new Int32Array(1024);
  private sReq = new Int32Array(1024);
  private sBytes = new Int32Array(1024);
  private freeSlots: number[] = [];
  private nextSlot = 0;

  private readonly cacheRows: CacheRow[] = [];
  private readonly rowsByName = new Map<string, CacheRow>();
  /** Caches a kmem_cache_free names for an object older than the trace: they existed before its first event. */
  private readonly bornBefore = new Set<string>();
  private readonly rowOfKmalloc = new Int32Array(MAX_CACHES).fill(-1);
  private largeRow: CacheRow | null = null;
  /** Call site rows by index (undefined: an index free for reuse). */
  private readonly siteRows: (SiteRow | undefined)[] = [];
  private readonly siteFree: number[] = [];
  private siteCount = 0;
  private otherSite: SiteRow | null = null;
  private otherSites = 0;
  private readonly sites = new Map<string, number>();
  private readonly maxCallSites: number;
  private bothMobility = 0;
  /** Pages and slab bytes_alloc the trace holds (failed replays included), and their peaks. */
  private wantPages = 0;
  private peakWantPages = 0;
  private wantSlabBytes = 0;
  private peakWantSlabBytes = 0;
  private readonly bootPages: number;
  /** Events kmem refused to perform, skipped (skipBad). */
  refused = 0;
  private readonly opts: ReplayOptions;

  private allocs = 0;
  private frees = 0;
  private unknownFrees = 0;
  /** Frees of objects allocated after the trace began by an untraced path (inTracedSlab). */
  private untracedFrees = 0;
  private nullFrees = 0;
  private failedInTrace = 0;
  private failedInReplay = 0;
  private sizeMismatches = 0;
  /** Traced allocations of kmem_cache / kmem_cache_node objects (cache creations), not performed: kmem allocates its own. */
  private descriptorAllocs = 0;
  private lostFrees = 0;
  private remoteFrees = 0;
  private readonly resolved = { byName: 0, byLaterFree: 0, learned: 0, knownCallSite: 0, bySlot: 0, ownCache: 0 };

  // pages: trace pfn -> slot
  private readonly pages = new PtrTable(256);
  private pAddr = new Uint32Array(256);
  private pOrder = new Uint8Array(256);
  private pFree: number[] = [];
  private pNext = 0;
  private readonly pageAllocs = new Float64Array(NR_PAGE_ORDERS * 8);
  private pageFrees = 0;
  private pageUnknownFrees = 0;
  private pageFailures = 0;
  private livePages = 0;
  private peakPages = 0;

  // lookahead window
  private readonly ring: (KmemEvent | undefined)[];
  private readonly mask: number;
  private head = 0;
  private count = 0;
  /** Unnamed kmem_cache_allocs in the window, by ptr key: a slot of pendingEv (a table, not a Map: the keys are not small integers). */
  private readonly pending = new PtrTable(2048);
  private readonly pendingEv: (SlabAllocEvent | undefined)[] = [];
  private readonly pendingFree: number[] = [];
  private readonly out: KmemEvent[] = [];

  // the run being replayed (one CPU)
  private runEvents: readonly KmemEvent[] = [];
  private runFrom = 0;
  private runTo = 0;
  private readonly runFn = () => this.replayRun();
  private lastTs = Number.NaN;
  private readonly stats: Float64Array;
  private readonly cf: Int32Array;
  /** The machine's slab allocator design (SLUB, SLAB or SLOB), as the replay asks of it. */
  private readonly d: ReplayDesign;

  /** Linux version code whose geometry the replaying machine has (601 for `kernel: '6.1'`). */
  private readonly version: number;

  constructor(k: Kernel, opts: ReplayOptions = {}) {
    this.k = k;
    this.version = k.slab.opts.version ?? 618;
    const want = opts.lookahead ?? 1024;
    let cap = 1;
    while (cap < want) cap <<= 1;
    this.ring = want <= 0 ? [] : new Array(cap);
    this.mask = cap - 1;
    this.stats = k.slub.statsOn ? k.slub.st.stats : new Float64Array(0);
    this.cf = k.slub.cf;
    this.d = replayDesign(k);
    this.maxCallSites = Math.max(2, opts.maxCallSites ?? MAX_CALL_SITES);
    this.opts = opts;
    if (this.version < 618 && opts.kernelCaches !== false) this.makeKernelCaches();
    if (opts.ringBuffer !== undefined) this.preTraceRingBuffer(opts.ringBuffer);
    this.bootPages = k.phys.nrPages - freePages(k);
  }

  /**
   * The caches the traced 6.1 kernel made at boot, made here in its order
   * (oldest first), empty, so the replaying machine's /proc/slabinfo has the
   * same names in the same order as the traced machine's, and kmem_cache
   * holds as many descriptors. Caches the trace then names are these.
   */
  private makeKernelCaches(): void {
    const all = [...REAL_CACHES_6_1.keys()];
    for (let i = all.length - 1; i >= 0; i--) {
      const name = all[i]!;
      if (this.d.findByName(name) < 0) this.makeCache(name, 0, 0);
    }
  }

  /** What preTraceRingBuffer allocated: pages, and kmalloc objects (buffer_page and ring_buffer_per_cpu descriptors). */
  private preTrace = { ringBufferPages: 0, objects: 0 };

  /**
   * The ring buffers that existed before the first event, allocated as 6.1's
   * rb_allocate_cpu_buffer does for each CPU buffer: a 512-byte descriptor
   * (kzalloc of ring_buffer_per_cpu), a reader page (a 64-byte buffer_page
   * and an order-0 GFP_KERNEL page), then per data page a buffer_page and an
   * order-0 GFP_KERNEL|__GFP_RETRY_MAYFAIL page (__rb_allocate_pages). The
   * trace shows exactly this sequence when CPU 1 comes up. Never freed.
   */
  private preTraceRingBuffer(rb: { buffers: readonly number[]; cpus?: number }): void {
    const cpus = rb.cpus ?? 1;
    if (!Number.isSafeInteger(cpus) || cpus < 0 || cpus > this.k.cpus) throw new RangeError(`ringBuffer.cpus: 0..${this.k.cpus}, got ${cpus}`);
    for (const n of rb.buffers)
      if (!Number.isSafeInteger(n) || n < 2) throw new RangeError(`ringBuffer.buffers: data pages of each buffer, at least 2, got ${n}`);
    const k = this.k;
    const buffer = (nr: number) => {
      const objs = [k.kmalloc(512, GFP_KERNEL | __GFP_ZERO), k.kmalloc(64, GFP_KERNEL | __GFP_ZERO)];
      const pages = [k.allocPages(0, GFP_KERNEL)];
      for (let i = 0; i < nr; i++) {
        objs.push(k.kmalloc(64, GFP_KERNEL | __GFP_RETRY_MAYFAIL | __GFP_ZERO));
        pages.push(k.allocPages(0, GFP_KERNEL | __GFP_RETRY_MAYFAIL));
      }
      this.preTrace.objects += objs.filter((a) => a !== 0).length;
      this.preTrace.ringBufferPages += pages.filter((a) => a !== 0).length;
    };
    for (let cpu = 0; cpu < cpus; cpu++) for (const n of rb.buffers) buffer(n);
  }

  /** Feed events in file order. */
  push(batch: readonly KmemEvent[]): void {
    const ring = this.ring;
    if (ring.length === 0) {
      this.replayEvents(batch);
      return;
    }
    const out = this.out;
    const mask = this.mask;
    for (let i = 0; i < batch.length; i++) {
      const e = batch[i]!;
      const kind = e.kind;
      if (kind === 'kmem_cache_alloc' || kind === 'kmem_cache_alloc_node') {
        if ((e as SlabAllocEvent).name === null) {
          const key = ptrKey(e.ptr);
          if (key > 0) this.setPending(key, e as SlabAllocEvent);
        }
      } else if (kind === 'kmem_cache_free' && e.name !== null && this.pending.size !== 0) {
        const key = ptrKey(e.ptr);
        const at = key > 0 ? this.pending.get(key) : -1;
        if (at >= 0) {
          const p = this.pendingEv[at]!;
          this.dropPending(key);
          p.name = e.name;
          this.resolved.byLaterFree++;
          this.learn(p, e.name);
        }
      }
      if (this.count === ring.length) {
        out.push(this.leave(ring[this.head]!));
        ring[this.head] = undefined;
        this.head = (this.head + 1) & mask;
        this.count--;
      }
      ring[(this.head + this.count) & mask] = e;
      this.count++;
    }
    if (out.length !== 0) {
      this.replayEvents(out);
      out.length = 0;
    }
  }

  private setPending(key: number, e: SlabAllocEvent): void {
    const at = this.pending.get(key);
    if (at >= 0) {
      this.pendingEv[at] = e;
      return;
    }
    let slot: number;
    if (this.pendingFree.length !== 0) {
      slot = this.pendingFree.pop()!;
      this.pendingEv[slot] = e;
    } else {
      slot = this.pendingEv.length;
      this.pendingEv.push(e);
    }
    this.pending.set(key, slot);
  }

  private dropPending(key: number): void {
    const slot = this.pending.delete(key);
    this.pendingEv[slot] = undefined;
    this.pendingFree.push(slot);
  }

  /**
   * An event leaves the window: an unnamed kmem_cache_alloc still waiting
   * for its free's name= takes its cache now (what was learned, the table
   * of call sites, or a cache of its own), so what a later free can name
   * depends on the window alone, not on where a batch of events ended.
   */
  private leave(e: KmemEvent): KmemEvent {
    if ((e.kind === 'kmem_cache_alloc' || e.kind === 'kmem_cache_alloc_node') && (e as SlabAllocEvent).name === null) {
      const a = e as SlabAllocEvent;
      const key = ptrKey(a.ptr);
      if (key > 0) {
        this.settle(key, a);
        a.name = this.unnamedRow(this.site(a.callSite), a.callSite, a.bytesReq, a.bytesAlloc).name;
        this.namedOnLeaving++;
      }
    }
    return e;
  }

  /** An allocation being performed is no longer waiting for its name. */
  private settle(key: number, e: SlabAllocEvent): void {
    if (key <= 0 || this.pending.size === 0) return;
    const at = this.pending.get(key);
    if (at >= 0 && this.pendingEv[at] === e) this.dropPending(key);
  }

  // ───────────────────────── columns ─────────────────────────

  private strings: StringTable | null = null;
  private names: CacheNames | null = null;
  private siteOfId: (SiteRow | undefined)[] = [];
  private rowOfNameId: (CacheRow | undefined)[] = [];
  private gfpOfId: number[] = [];
  private cols: EventColumns | null = null;

  /**
   * Perform a batch of rows (columns.ts) now, in file order: there is no
   * lookahead window on this path (make the replayer with lookahead 0). An
   * unnamed kmem_cache_alloc takes the name `names` learned for it over the
   * whole file (its free's name=, else what its call site and bytes_alloc
   * allocate elsewhere in the file); strings must be the table the rows'
   * ids come from.
   */
  pushColumns(cols: EventColumns, strings: StringTable, names: CacheNames | null): void {
    if (this.count !== 0) throw new Error('pushColumns after push with a lookahead window');
    if (this.strings !== strings) {
      this.strings = strings;
      this.siteOfId = [];
      this.rowOfNameId = [];
      this.gfpOfId = [];
    }
    this.names = names;
    this.cols = cols;
    const k = this.k;
    const cpus = k.cpus;
    const n = cols.n;
    const cpuCol = cols.cpu;
    let i = 0;
    while (i < n) {
      const c0 = cpuCol[i]!;
      let cpu = Math.max(c0, 0);
      let j = i + 1;
      while (j < n && cpuCol[j] === c0) j++;
      if (cpu >= cpus) {
        this.foldedCpuEvents += j - i;
        cpu %= cpus;
      }
      const ts = cols.ts[j - 1]!;
      if (ts > this.lastTs) {
        k.tick(Math.round((ts - this.lastTs) * 1e9));
        this.lastTs = ts;
      } else if (Number.isNaN(this.lastTs) && !Number.isNaN(ts)) this.lastTs = ts;
      this.runFrom = i;
      this.runTo = j;
      if (k.currentCpu === cpu) this.replayColumnsRun();
      else k.onCpu(cpu, this.colsFn);
      i = j;
    }
    this.cols = null;
  }

  private readonly colsFn = () => this.replayColumnsRun();

  private replayColumnsRun(): void {
    const c = this.cols!;
    const counts = this.kindCounts;
    const kind = c.kind;
    const ptr = c.ptr;
    const to = this.runTo;
    let i = this.runFrom;
    while (i < to) {
      try {
        for (; i < to; i++) {
          const kd = kind[i]!;
          counts[kd]!++;
          switch (kd) {
            case C_KMALLOC:
            case C_KMALLOC_NODE: {
              const key = ptr[i]!;
              if (key === 0) this.failedInTrace++;
              else this.kmallocAt(key, this.siteOf(c.site[i]!), c.req[i]!, c.alloc[i]!, this.gfpAt(c, i));
              break;
            }
            case C_KFREE:
              this.freeKey(ptr[i]!);
              break;
            case C_KMEM_CACHE_FREE:
              if (this.freeKey(ptr[i]!) && c.name[i]! >= 0) this.bornBefore.add(this.strings!.strings[c.name[i]!]!);
              break;
            case C_KMEM_CACHE_ALLOC:
            case C_KMEM_CACHE_ALLOC_NODE:
              this.cacheAllocAt(c, i);
              break;
            case C_MM_PAGE_ALLOC: {
              const mt = c.mt[i]!;
              const gv = c.gfpValue[i]!;
              const g = c.gfp[i]!;
              this.pageAlloc(c.pfn[i]!, c.order[i]!, Math.max(mt, 0), gv >= 0 ? gv : g < 0 ? 0 : this.gfpOfTextId(g));
              break;
            }
            case C_MM_PAGE_FREE:
            case C_MM_PAGE_FREE_BATCHED:
              this.pageFree(c.pfn[i]!);
              break;
          }
        }
      } catch (err) {
        if (!(err instanceof RangeError || err instanceof TypeError)) throw err;
        const kd = kind[i]!;
        const refused = new TraceReplayError(err.message, KMEM_EVENT_KINDS[kd]!, this.opts.file ?? null, c.lineNo[i]!);
        if (!this.opts.skipBad) throw refused;
        this.kindCounts[kd]!--;
        this.refused++;
        this.opts.onBad?.(refused);
        i++;
      }
    }
  }

  private siteOf(id: number): SiteRow {
    const known = this.siteOfId[id];
    if (known !== undefined && this.siteRows[known.index] === known) return known;
    const row = this.site(this.strings!.strings[id]!);
    // the other-call-sites row stands for many: looked up by text each time
    if (row !== this.otherSite) this.siteOfId[id] = row;
    return row;
  }

  private gfpAt(c: EventColumns, i: number): number {
    const v = c.gfpValue[i]!;
    return this.replayGfp(v >= 0 ? v : this.gfpOfTextId(c.gfp[i]!));
  }

  private gfpOfTextId(id: number): number {
    let v = this.gfpOfId[id];
    if (v === undefined) {
      v = parseGfpText(this.strings!.strings[id]!);
      this.gfpOfId[id] = v;
    }
    return v;
  }

  private rowOfName(id: number, req: number, bytes: number): CacheRow {
    let row = this.rowOfNameId[id];
    if (row === undefined) {
      row = this.namedRow(this.strings!.strings[id]!, req, bytes);
      this.rowOfNameId[id] = row;
    }
    return row;
  }

  private cacheAllocAt(c: EventColumns, i: number): void {
    const nameId = c.name[i]!;
    const key = c.ptr[i]!;
    if (key === 0) {
      this.failedInTrace++;
      return;
    }
    const siteId = c.site[i]!;
    const site = this.siteOf(siteId);
    const req = c.req[i]!;
    const bytes = c.alloc[i]!;
    let row: CacheRow;
    if (nameId >= 0) row = this.rowOfName(nameId, req, bytes);
    else {
      const names = this.names;
      const byFree = names === null ? -1 : names.nameAt(c.lineNo[i]!, siteId, bytes);
      if (byFree >= 0) {
        row = this.rowOfName(byFree, req, bytes);
        this.resolved.byLaterFree++;
      } else {
        const bySite = names === null ? -1 : names.siteName(siteId, bytes);
        if (bySite >= 0) {
          row = this.rowOfName(bySite, req, bytes);
          this.resolved.learned++;
        } else row = this.unnamedRow(site, this.strings!.strings[siteId]!, req, bytes);
        this.namedOnLeaving++;
      }
    }
    this.namedAllocs++;
    this.allocate(key, req, bytes, row, this.gfpAt(c, i), false, site);
  }

  /** The trace's own header, when the reader saw one (set by replayTraceFile). */
  header: TraceHeader | null = null;

  /** Perform every event still held back. */
  finish(): void {
    const out = this.out;
    while (this.count > 0) {
      out.push(this.leave(this.ring[this.head]!));
      this.ring[this.head] = undefined;
      this.head = (this.head + 1) & this.mask;
      this.count--;
    }
    this.replayEvents(out);
    out.length = 0;
  }

  /** Perform events now, in runs of one CPU. */
  private replayEvents(events: readonly KmemEvent[]): void {
    const k = this.k;
    const cpus = k.cpus;
    let i = 0;
    const n = events.length;
    while (i < n) {
      const first = events[i]!;
      let cpu = Math.max(first.cpu, 0);
      let j = i + 1;
      while (j < n && events[j]!.cpu === first.cpu) j++;
      if (cpu >= cpus) {
        this.foldedCpuEvents += j - i;
        cpu %= cpus;
      }
      const ts = events[j - 1]!.timestamp;
      if (ts > this.lastTs) {
        k.tick(Math.round((ts - this.lastTs) * 1e9));
        this.lastTs = ts;
      } else if (Number.isNaN(this.lastTs) && !Number.isNaN(ts)) this.lastTs = ts;
      this.runEvents = events;
      this.runFrom = i;
      this.runTo = j;
      if (k.currentCpu === cpu) this.replayRun();
      else k.onCpu(cpu, this.runFn);
      i = j;
    }
  }

  private replayRun(): void {
    const events = this.runEvents;
    const counts = this.kindCounts;
    const to = this.runTo;
    let i = this.runFrom;
    // one try around the loop, not one per event: the hot loop stays as it was
    while (i < to) {
      try {
        for (; i < to; i++) {
          const e = events[i]!;
          switch (e.kind) {
            case 'kmalloc':
              counts[N_KMALLOC]!++;
              this.kmallocEvent(e);
              break;
            case 'kmalloc_node':
              counts[N_KMALLOC_NODE]!++;
              this.kmallocEvent(e);
              break;
            case 'kfree':
              counts[N_KFREE]!++;
              this.freeEvent(e);
              break;
            case 'kmem_cache_alloc':
              counts[N_KMEM_CACHE_ALLOC]!++;
              this.cacheAllocEvent(e);
              break;
            case 'kmem_cache_alloc_node':
              counts[N_KMEM_CACHE_ALLOC_NODE]!++;
              this.cacheAllocEvent(e);
              break;
            case 'kmem_cache_free':
              counts[N_KMEM_CACHE_FREE]!++;
              this.freeEvent(e);
              break;
            case 'mm_page_alloc':
              counts[N_MM_PAGE_ALLOC]!++;
              this.pageAllocEvent(e);
              break;
            case 'mm_page_free':
              counts[N_MM_PAGE_FREE]!++;
              this.pageFreeEvent(e);
              break;
            case 'mm_page_free_batched':
              counts[N_MM_PAGE_FREE_BATCHED]!++;
              this.pageFreeEvent(e);
              break;
            case 'mm_page_alloc_zone_locked':
              counts[N_MM_PAGE_ALLOC_ZONE_LOCKED]!++;
              break;
            case 'mm_page_pcpu_drain':
              counts[N_MM_PAGE_PCPU_DRAIN]!++;
              break;
          }
        }
      } catch (err) {
        this.refuse(events[i]!, err);
        i++;
      }
    }
  }

  /** An event kmem's argument checks refused (its own bugs propagate): an error at its line, or skipped. */
  private refuse(e: KmemEvent, err: unknown): void {
    if (!(err instanceof RangeError || err instanceof TypeError)) throw err;
    const refused = new TraceReplayError(err.message, e.kind, this.opts.file ?? null, e.lineNo);
    if (!this.opts.skipBad) throw refused;
    // counted as replayed before it was refused
    this.kindCounts[KMEM_EVENT_KINDS.indexOf(e.kind)]!--;
    this.refused++;
    this.opts.onBad?.(refused);
  }

  // ───────────────────────── slab events ─────────────────────────

  private lastSite: SiteRow | null = null;
  /** The string lastSite was last looked up by: the parser interns call sites, so a repeat is the same string. */
  private lastSiteText = '';
  private site(callSite: string): SiteRow {
    const last = this.lastSite;
    if (callSite === this.lastSiteText && last !== null) return last;
    this.lastSiteText = callSite;
    if (last !== null && last.callSite === callSite) return last;
    const at = this.sites.get(callSite);
    const row = at !== undefined ? this.siteRows[at]! : this.newSite(callSite);
    this.lastSite = row;
    return row;
  }

  private newSite(callSite: string): SiteRow {
    if (this.siteCount >= this.maxCallSites) this.foldIdleSites();
    if (this.siteCount >= this.maxCallSites) {
      this.otherSites++;
      return this.other();
    }
    const row = new SiteRow(flat(callSite), this.siteFree.pop() ?? this.siteRows.length);
    this.siteRows[row.index] = row;
    this.sites.set(row.callSite, row.index);
    this.siteCount++;
    return row;
  }

  /** The OTHER_CALL_SITES row (not in the table: never folded). */
  private other(): SiteRow {
    if (this.otherSite === null) {
      this.otherSite = new SiteRow(OTHER_CALL_SITES, this.siteRows.length);
      this.siteRows.push(this.otherSite);
    }
    return this.otherSite;
  }

  /** Sum half the table's call sites, those without live objects and with the fewest allocations, into the other row. */
  private foldIdleSites(): void {
    const idle: SiteRow[] = [];
    for (const r of this.siteRows) if (r !== undefined && r !== this.otherSite && r.live === 0) idle.push(r);
    if (idle.length === 0) return;
    idle.sort((a, b) => a.allocs - b.allocs);
    const n = Math.min(idle.length, Math.max(1, this.maxCallSites >> 1));
    const other = this.other();
    for (let i = 0; i < n; i++) {
      const r = idle[i]!;
      other.fold(r);
      for (const [name, c] of r.caches) other.caches.set(name, (other.caches.get(name) ?? 0) + c);
      this.sites.delete(r.callSite);
      this.siteRows[r.index] = undefined;
      this.siteFree.push(r.index);
    }
    this.siteCount -= n;
    this.otherSites += n;
    this.lastSite = null;
    this.lastSiteText = '';
  }

  private gfpOf(e: SlabAllocEvent): number {
    return this.replayGfp(e.gfpValue ?? this.gfpText(e.gfp));
  }

  /**
   * The traced flags as the replay passes them. Both mobility bits at once
   * are a caller bug the kernel only warns about (with CONFIG_DEBUG_VM; its
   * arithmetic then takes MIGRATE_HIGHATOMIC's free lists, and kmalloc the
   * reclaimable caches): the replay keeps __GFP_RECLAIMABLE and counts them.
   */
  private replayGfp(traced: number): number {
    let g = (traced & GFP_REPLAY_MASK) | __GFP_NOWARN;
    if ((g & GFP_MOVABLE_MASK) === GFP_MOVABLE_MASK) {
      g &= ~__GFP_MOVABLE;
      this.bothMobility++;
    }
    return g;
  }

  private readonly gfpCache = new Map<string, number>();
  private lastGfpText = '';
  private lastGfp = 0;
  private gfpText(text: string): number {
    if (text === this.lastGfpText) return this.lastGfp;
    let v = this.gfpCache.get(text);
    if (v === undefined) {
      v = parseGfpText(text);
      this.gfpCache.set(flat(text), v);
    }
    // the text as given: the parser interns gfp flags, so a repeat is the same string
    this.lastGfpText = text;
    this.lastGfp = v;
    return v;
  }

  private kmallocRow(id: number): CacheRow {
    const at = this.rowOfKmalloc[id]!;
    if (at >= 0) return this.cacheRows[at]!;
    const name = this.d.name(id);
    let row = this.rowsByName.get(name);
    if (row === undefined) row = this.addRow(name, this.d.handleOf(id), id);
    this.rowOfKmalloc[id] = row.index;
    return row;
  }

  private addRow(name: string, handle: number, id = handle >= 0 ? this.d.idOf(handle) : handle): CacheRow {
    const row = new CacheRow(name, id, handle, this.cacheRows.length);
    this.cacheRows.push(row);
    this.rowsByName.set(name, row);
    return row;
  }

  private kmallocEvent(e: SlabAllocEvent): void {
    const key = ptrKey(e.ptr);
    if (key === 0) {
      this.failedInTrace++;
      return;
    }
    this.kmallocAt(key, this.site(e.callSite), e.bytesReq, e.bytesAlloc, this.gfpOf(e));
  }

  private kmallocAt(key: number, site: SiteRow, size: number, bytes: number, gfp: number): void {
    let row: CacheRow;
    if (size > 8192) {
      row = this.largeRow ??= this.addRow('(large kmalloc)', -1);
    } else if (size === 0) {
      this.record(key, size, bytes, 16, null, site, 0);
      return;
    } else {
      let id = this.d.kmallocId(size, gfp);
      if (id < 0) id = this.d.kmallocId(size, gfp & ~(__GFP_DMA | __GFP_RECLAIMABLE | __GFP_ACCOUNT));
      row = this.kmallocRow(id);
    }
    this.allocate(key, size, bytes, row, gfp, true, site);
  }

  private cacheAllocEvent(e: SlabAllocEvent): void {
    const key = ptrKey(e.ptr);
    if (key === 0) {
      this.failedInTrace++;
      return;
    }
    const site = this.site(e.callSite);
    let row: CacheRow;
    if (e.name !== null) {
      this.settle(key, e);
      row = this.namedRow(e.name, e.bytesReq, e.bytesAlloc);
      this.namedAllocs++;
    } else {
      this.settle(key, e);
      row = this.unnamedRow(site, e.callSite, e.bytesReq, e.bytesAlloc);
    }
    this.allocate(key, e.bytesReq, e.bytesAlloc, row, this.gfpOf(e), false, site);
  }

  /** kmem_cache_alloc events replayed with a name (printed, learned from their free, or given on leaving the window). */
  private namedAllocs = 0;
  /** Of those, the ones given their cache on leaving the window (counted by how, in `resolved`). */
  private namedOnLeaving = 0;

  private learn(p: SlabAllocEvent, name: string): void {
    const site = this.site(p.callSite);
    const row = this.namedRow(name, p.bytesReq, p.bytesAlloc);
    // the other row stands for many call sites: what one of them uses says nothing of the rest
    if (site !== this.otherSite) site.cacheByBytes.set(p.bytesAlloc, row);
  }

  private unnamedRow(site: SiteRow, callSite: string, req: number, bytes: number): CacheRow {
    const other = site === this.otherSite;
    const known = other ? undefined : site.cacheByBytes.get(bytes);
    if (known !== undefined) {
      this.resolved.learned++;
      return known;
    }
    const func = other ? callSiteFunction(callSite) : site.func;
    const table = this.tableCache(func, bytes, req);
    let row: CacheRow;
    if (table !== undefined) {
      row = this.namedRow(table, req, bytes);
      if (KNOWN_CALL_SITES[func.replace(/\.(constprop|isra|part|cold)\.\d+$/, '')] === undefined) this.resolved.bySlot++;
      else this.resolved.knownCallSite++;
    } else {
      // no name anywhere in the trace: a cache of its own, reported as unknown
      row = this.namedRow(`${func}-${bytes}`, req, bytes);
      row.unknown = true;
      this.resolved.ownCache++;
    }
    if (!other) site.cacheByBytes.set(bytes, row);
    return row;
  }

  /**
   * The cache the table of well-known call sites gives for an allocation of
   * `bytes` from `func`, or undefined. The traced bytes_alloc is the slot
   * size, so of the caches a call site allocates from the one whose slot it
   * is; a cache of unknown slot size fits when it is the only one the call
   * site has, and so does a slot smaller than bytes_alloc (a kernel with
   * slub_debug metadata).
   */
  private tableCache(fn: string, bytes: number, req = 0): string | undefined {
    // gcc's clones (foo.constprop.0, foo.isra.0, foo.part.0) allocate where foo does
    const func = fn.replace(/\.(constprop|isra|part|cold)\.\d+$/, '');
    const first = KNOWN_CALL_SITES[func];
    if (first === undefined) return this.version < 618 ? this.unnamedCacheOfSlot(req, bytes) : undefined;
    const others = OTHER_CACHES_OF_CALL_SITE[func];
    if (bytes <= 0) return first;
    const all = others === undefined ? [first] : [first, ...others];
    for (const name of all) if (this.slotOf(name) === bytes) return name;
    if (others !== undefined) return undefined;
    const slot = this.slotOf(first);
    return slot === -1 || slot < bytes ? first : undefined;
  }

  /** Names the trace prints somewhere (the whole file when read twice, else those met so far), made on first ask. */
  private printedNames: Set<string> | null = null;

  /**
   * The cache of the traced 6.1 machine whose slot is `bytes` among those no
   * event of the trace names (a named cache's objects have taken their
   * name from their frees; what is never named is what the trace never
   * frees: inodes of internal mounts, mempool reserves, boot-time tables).
   * 6.1's bytes_req of a kmem_cache_alloc is the cache's object_size, so a
   * cache whose object_size is `req` comes first; then the oldest such
   * cache when several share the slot; undefined if none.
   */
  private unnamedCacheOfSlot(req: number, bytes: number): string | undefined {
    let printed = this.printedNames;
    if (printed === null || this.names === null) {
      printed = new Set(this.rowsByName.keys());
      const names = this.names;
      const strings = this.strings;
      if (names !== null && strings !== null) {
        for (let id = 0; id < strings.size; id++) if (names.printsName(id)) printed.add(strings.strings[id]!);
        this.printedNames = printed;
      }
    }
    let found: string | undefined;
    let exact: string | undefined;
    // REAL_CACHES_6_1 lists the newest first: the last match is the oldest
    for (const [name, spec] of REAL_CACHES_6_1) {
      if (spec.slot !== bytes || printed.has(name)) continue;
      found = name;
      if (spec.size === req) exact = name;
    }
    return exact ?? found;
  }

  /** The slot size of kmem's cache `name`, or of the one REAL_CACHES would make; -1 when not known. */
  private slotOf(name: string): number {
    const id = this.d.findByName(name);
    if (id >= 0) return this.d.slotSize(id);
    if (this.version < 618) return REAL_CACHES_6_1.get(name)?.slot ?? -1;
    const spec = REAL_CACHES[name];
    if (spec === undefined) return -1;
    const align = (spec.flags & SLAB_HWCACHE_ALIGN) !== 0 ? 64 : 8;
    return (spec.size + align - 1) & ~(align - 1);
  }

  /** The row (and kmem cache) for a cache name, made on first use. */
  private namedRow(name: string, req: number, bytes: number): CacheRow {
    const row = this.rowsByName.get(name);
    if (row !== undefined) return row;
    const own = flat(name);
    let id: number;
    try {
      id = this.d.findByName(own) >= 0 ? getCache(this.k, own) : this.makeCache(own, req, bytes);
    } catch {
      id = -2;
    }
    return this.addRow(own, id);
  }

  /**
   * A cache the trace names, made the first time it is used. A name the
   * trace prints is the cache's own (kmem_cache_free prints s->name, and a
   * merged cache's s is its root's), so the cache is made unmergeable: it
   * must not vanish into another. Its shape, in order: the traced kernel's
   * table (6.1: the real 6.1 machine's caches; 6.18: REAL_CACHES), else the
   * traced bytes_alloc, which is the slot size, as the object size.
   */
  private makeCache(name: string, req: number, bytes: number): number {
    const k = this.k;
    if (this.version < 618) {
      const spec = REAL_CACHES_6_1.get(name);
      if (spec !== undefined) {
        return k.kmemCacheCreate(name, spec.size, {
          align: spec.align,
          flags: spec.flags | SLAB_NO_MERGE,
          ...(spec.ctor === true ? { ctor: noCtor } : {}),
          ...(spec.usersize !== undefined ? { useroffset: 0, usersize: spec.usersize } : {}),
        });
      }
    } else if (REAL_CACHES[name] !== undefined) return getCache(k, name);
    const size = Math.max(req, 1);
    // the slot is bytes_alloc: an object of that size (a multiple of 8) gets it exactly
    if (bytes >= size && bytes % 8 === 0) return k.kmemCacheCreate(name, bytes, { flags: SLAB_NO_MERGE });
    const flags = bytes % 64 === 0 && bytes > ((size + 7) & ~7) ? SLAB_HWCACHE_ALIGN : 0;
    return k.kmemCacheCreate(name, size, { flags: flags | SLAB_NO_MERGE });
  }

  private allocate(key: number, req: number, bytes: number, row: CacheRow, gfp: number, kmalloc: boolean, site: SiteRow): void {
    const k = this.k;
    this.slabObjectPage(key, kmalloc && req > 8192 ? getOrderOf(req) : -1, row.kmemId);
    if (row.descriptor && !kmalloc) {
      // a traced kmem_cache_create(): kmem made this descriptor itself when the replay made the cache
      this.descriptorAllocs++;
      this.record(key, req, bytes, 0, null, site, k.currentCpu);
      return;
    }
    const id = row.kmemId;
    const cpu = k.currentCpu;
    const d = this.d;
    const fastBefore = id >= 0 && d.counts ? d.before(cpu, id, true) : 0;
    let addr = 0;
    if (id === -2) addr = 0;
    else if (kmalloc) addr = k.kmalloc(req, gfp);
    else addr = k.kmemCacheAlloc(row.handle, gfp);
    if (addr === 0) {
      row.failed++;
      this.failedInReplay++;
      // remember it, so its free is not counted as unknown
      this.record(key, req, bytes, 0, null, site, cpu);
      return;
    }
    if (id >= 0) {
      // the traced bytes_alloc is the slot size the traced kernel used
      const slot = d.slotSize(id);
      if (bytes > 0 && slot !== 0 && slot !== bytes) {
        row.sizeMismatches++;
        this.sizeMismatches++;
      }
      if (d.counts) {
        if (d.fast(cpu, id, true, fastBefore)) {
          row.allocFast++;
          site.allocFast++;
        } else {
          row.allocSlow++;
          site.allocSlow++;
        }
      }
      const slabs = d.nrSlabs(id);
      if (slabs > row.peakSlabs) row.peakSlabs = slabs;
    }
    this.record(key, req, bytes, addr, row, site, cpu);
  }

  /** Track a live object (addr 0: the replay failed; row null: not counted). */
  private record(key: number, req: number, bytes: number, addr: number, row: CacheRow | null, site: SiteRow, cpu: number): void {
    if (key < 0) return; // a pointer that cannot be paired
    const old = this.live.delete(key);
    if (old >= 0) {
      // allocated again while live: the trace lost its free
      this.lostFrees++;
      this.release(old, cpu, false);
    }
    let slot: number;
    if (this.freeSlots.length !== 0) slot = this.freeSlots.pop()!;
    else {
      slot = this.nextSlot++;
      if (slot === this.sAddr.length) this.growSlots();
    }
    this.sAddr[slot] = addr;
    this.sCpu[slot] = cpu;
    this.sSite[slot] = site.index;
    this.sBytes[slot] = bytes;
    this.wantSlabBytes += bytes;
    if (this.wantSlabBytes > this.peakWantSlabBytes) this.peakWantSlabBytes = this.wantSlabBytes;
    this.live.set(key, slot);
    if (row === null || addr === 0) {
      this.sCache[slot] = -1;
      return;
    }
    this.sCache[slot] = row.index;
    this.sReq[slot] = req;
    this.allocs++;
    row.alloc(req, bytes);
    site.alloc(req, bytes);
    if (site.lastCache !== row) {
      site.lastCache = row;
      site.caches.set(row.name, (site.caches.get(row.name) ?? 0) + 1);
    }
  }

  private growSlots(): void {
    const n = this.sAddr.length * 2;
    const grow = <T extends Uint32Array | Int32Array>(a: T, make: (n: number) => T): T => {
      const b = make(n);
      b.set(a);
      return b;
    };
    this.sAddr = grow(this.sAddr, (m) => new Uint32Array(m));
    this.sCache = grow(this.sCache, (m) => new Int32Array(m));
    this.sSite = grow(this.sSite, (m) => new Int32Array(m));
    this.sCpu = grow(this.sCpu, (m) => new Int32Array(m));
    this.sReq = grow(this.sReq, (m) => new Int32Array(m));
    this.sBytes = grow(this.sBytes, (m) => new Int32Array(m));
  }

  /** Free a tracked object on the running CPU and forget its slot. */
  private release(slot: number, cpu: number, count: boolean): void {
    const addr = this.sAddr[slot]!;
    const at = this.sCache[slot]!;
    this.freeSlots.push(slot);
    this.wantSlabBytes -= this.sBytes[slot]!;
    if (addr === 0 || at < 0) {
      if (addr > 16) this.k.kfree(addr);
      return;
    }
    const row = this.cacheRows[at]!;
    const site = this.siteRows[this.sSite[slot]!]!;
    const id = row.kmemId;
    const d = this.d;
    const fastBefore = id >= 0 && d.counts ? d.before(cpu, id, false) : 0;
    if (d.freeByCache && row.handle >= 0) this.k.kmemCacheFree(row.handle, addr);
    else this.k.kfree(addr);
    if (id >= 0 && d.counts) {
      if (d.fast(cpu, id, false, fastBefore)) row.freeFast++;
      else row.freeSlow++;
    }
    const req = this.sReq[slot]!;
    const bytes = this.sBytes[slot]!;
    row.free(req, bytes, count);
    site.free(req, bytes, count);
    if (count) {
      this.frees++;
      if (this.sCpu[slot] !== cpu) {
        this.remoteFrees++;
        row.remoteFrees++;
        site.remoteFrees++;
      }
    }
  }

  private freeEvent(e: SlabFreeEvent): void {
    if (this.freeKey(ptrKey(e.ptr)) && e.name !== null) this.bornBefore.add(e.name);
  }

  /** Frees the object at key; true when it is older than the trace (neither traced nor in a slab the trace allocated). */
  private freeKey(key: number): boolean {
    if (key === 0) {
      this.nullFrees++;
      return false;
    }
    const slot = key > 0 ? this.live.delete(key) : -1;
    if (slot < 0) {
      if (key > 0 && this.inTracedSlab(key)) this.untracedFrees++;
      else {
        this.unknownFrees++;
        return true;
      }
      return false;
    }
    this.release(slot, this.k.currentCpu, true);
    return false;
  }

  /**
   * A free of an object the trace never allocated: true when the object
   * lies in a page block allocated during the trace (a slab page already
   * recognised, or a traced block no traced object had shown to be a slab
   * page yet, which is then given back to kmem as such): its object was
   * allocated after the trace began, by a path with no tracepoint (6.1's
   * kmem_cache_alloc_bulk: maple tree nodes, the NAPI skb cache). False
   * without the direct map's base (hashed pointers) or outside such blocks:
   * the object is older than the trace.
   */
  private inTracedSlab(key: number): boolean {
    const base = this.directBase;
    if (base < 0) return false;
    const q = Math.floor((key - base) / 4096);
    if (q < 0) return false;
    for (let o = 0; o <= 3; o++) {
      const head = q - (q % 2 ** o);
      if (this.slabPages.size !== 0) {
        const order = this.slabPages.get(head);
        if (order === o) return true;
      }
      const slot = this.pages.get(head);
      if (slot >= 0 && this.pOrder[slot] === o) {
        this.pages.delete(head);
        this.releasePage(slot);
        this.slabPages.set(head, o);
        this.slabPageBlocks++;
        this.slabPageCount += 2 ** o;
        return true;
      }
    }
    return false;
  }

  // ───────────────────────── page events ─────────────────────────

  private pageAllocEvent(e: PageEvent): void {
    this.pageAlloc(e.pfn, e.order, e.migratetype ?? 0, e.gfpValue ?? (e.gfp === null ? 0 : this.gfpText(e.gfp)));
  }

  private pageAlloc(pfn: number, order: number, mt: number, traced: number): void {
    this.pageAllocs[Math.min(order, MAX_PAGE_ORDER) * 8 + Math.min(Math.max(mt, 0), 7)]!++;
    if (order > MAX_PAGE_ORDER) {
      this.pageFailures++;
      return;
    }
    let gfp = traced;
    // flags kmem cannot read: the migratetype the trace names decides
    if (gfp === 0) gfp = GFP_FOR_MIGRATETYPE[mt] ?? GFP_KERNEL;
    gfp = this.replayGfp(gfp);
    if (order > 0) gfp |= __GFP_COMP;
    const addr = this.k.allocPages(order, gfp);
    this.wantPages += 1 << order;
    if (this.wantPages > this.peakWantPages) this.peakWantPages = this.wantPages;
    if (addr === 0) this.pageFailures++;
    else {
      this.livePages += 1 << order;
      if (this.livePages > this.peakPages) this.peakPages = this.livePages;
    }
    const old = this.pages.delete(pfn);
    if (old >= 0) this.releasePage(old);
    let slot: number;
    if (this.pFree.length !== 0) slot = this.pFree.pop()!;
    else {
      slot = this.pNext++;
      if (slot === this.pAddr.length) {
        const a = new Uint32Array(slot * 2);
        a.set(this.pAddr);
        this.pAddr = a;
        const o = new Uint8Array(slot * 2);
        o.set(this.pOrder);
        this.pOrder = o;
      }
    }
    this.pAddr[slot] = addr;
    this.pOrder[slot] = order;
    this.pages.set(pfn, slot);
    if (this.slabPages.size !== 0) this.slabPages.delete(pfn);
    const cpu = this.k.currentCpu & 255;
    this.lastPagePfn[cpu] = pfn;
    this.lastPageOrder[cpu] = order;
    this.lastPageGfp[cpu] = traced;
  }

  // ───────────────────────── slab pages of the trace ─────────────────────────

  /** page_offset_base (its low 48 bits) once two slab pages agree on it, else -1. */
  private directBase = -1;
  private baseGuess = -1;
  /** Per CPU: the last traced page block (pfn, order), and the page of the last object checked. */
  private readonly lastPagePfn = new Float64Array(256).fill(-1);
  private readonly lastPageOrder = new Uint8Array(256);
  private readonly lastPageGfp = new Float64Array(256);
  private readonly lastObjectPage = new Float64Array(256).fill(-1);
  /** Traced page blocks recognised as slab or large-kmalloc pages: pfn -> order (kmem's SLUB has its own). */
  private readonly slabPages = new PtrTable(256);
  private slabPageBlocks = 0;
  private slabPageCount = 0;

  /**
   * A trace of slab and page events shows each slab's pages twice: the
   * mm_page_alloc that fetched them, then objects inside them. kmem's SLUB
   * allocates its own pages, so a traced block some object lies in is
   * given back at once and its later mm_page_free ignored: only kmem's
   * SLUB holds slab pages. Objects are placed on pages through the direct
   * map: pfn = (ptr - page_offset_base) >> 12, page_offset_base being a
   * multiple of 1 GiB that the trace itself gives (a slab object right
   * after its slab's mm_page_alloc on the same CPU; two must agree). A
   * trace with hashed pointers never gives it, and keeps its pages twice.
   * `largeOrder`: the block order of a large kmalloc, -1 for a slab object
   * of kmem cache `id`. A hashed pointer (32 bits) is left to hashedSlabPage.
   */
  private slabObjectPage(key: number, largeOrder: number, id: number): void {
    if (key <= 0) return;
    const cpu = this.k.currentCpu & 255;
    let base = this.directBase;
    if (base < 0) {
      if (key < HASHED_PTR_LIMIT) {
        this.hashedSlabPage(cpu, largeOrder, id);
        return;
      }
      const pfn = this.lastPagePfn[cpu]!;
      if (pfn < 0) return;
      const block = 4096 * 2 ** this.lastPageOrder[cpu]!;
      const guess = key - (key % block) - pfn * 4096;
      if (guess <= 0 || guess % 2 ** 30 !== 0) return;
      if (guess !== this.baseGuess) {
        this.baseGuess = guess;
        return;
      }
      this.directBase = base = guess;
    }
    const q = Math.floor((key - base) / 4096);
    if (q === this.lastObjectPage[cpu] || q < 0) return;
    this.lastObjectPage[cpu] = q;
    const pages = this.pages;
    if (pages.size === 0) return;
    for (let o = Math.max(largeOrder, 0), top = largeOrder < 0 ? 3 : largeOrder; o <= top; o++) {
      const head = q - (q % 2 ** o);
      const slot = pages.get(head);
      if (slot < 0 || this.pOrder[slot] !== o) continue;
      pages.delete(head);
      this.releasePage(slot);
      this.slabPages.set(head, o);
      this.slabPageBlocks++;
      this.slabPageCount += 2 ** o;
      return;
    }
  }

  /**
   * A hashed pointer says nothing of its page, so a traced block is taken
   * for a slab page by how 6.1's allocate_slab fetched it: the first slab
   * allocation on the CPU right after it (the event is emitted once the
   * object is taken from the new slab) is from a cache of that block's
   * order, and the gfp has what allocate_slab adds to the first try,
   * __GFP_NOWARN|__GFP_NORETRY, with __GFP_COMP exactly when the order is
   * above 0 (s->allocflags). A large kmalloc's block (kmalloc_large: the
   * caller's gfp | __GFP_COMP) is the one right before it of its order.
   * Either way the block is given back and its free ignored, as
   * slabObjectPage does; the CPU's last block is used up by the check.
   */
  private hashedSlabPage(cpu: number, largeOrder: number, id: number): void {
    const pfn = this.lastPagePfn[cpu]!;
    if (pfn < 0) return;
    this.lastPagePfn[cpu] = -1;
    const order = this.lastPageOrder[cpu]!;
    const gfp = this.lastPageGfp[cpu]!;
    if (largeOrder >= 0) {
      if (order !== largeOrder || (gfp & __GFP_COMP) === 0) return;
    } else {
      if (id < 0 || this.d.order(id) !== order) return;
      if ((gfp & (__GFP_NOWARN | __GFP_NORETRY)) !== (__GFP_NOWARN | __GFP_NORETRY)) return;
      if (((gfp & __GFP_COMP) !== 0) !== order > 0) return;
    }
    const slot = this.pages.get(pfn);
    if (slot < 0 || this.pOrder[slot] !== order) return;
    this.pages.delete(pfn);
    this.releasePage(slot);
    this.slabPages.set(pfn, order);
    this.slabPageBlocks++;
    this.slabPageCount += 2 ** order;
  }

  private releasePage(slot: number): void {
    const addr = this.pAddr[slot]!;
    const order = this.pOrder[slot]!;
    this.pFree.push(slot);
    this.wantPages -= 1 << order;
    if (addr !== 0) {
      this.k.freePages(addr, order);
      this.livePages -= 1 << order;
    }
  }

  private pageFreeEvent(e: PageEvent): void {
    this.pageFree(e.pfn);
  }

  private pageFree(pfn: number): void {
    const slot = this.pages.delete(pfn);
    if (slot < 0) {
      // a slab page's free: kmem's SLUB frees its own
      if (this.slabPages.size !== 0 && this.slabPages.delete(pfn) >= 0) return;
      this.pageUnknownFrees++;
      return;
    }
    this.pageFrees++;
    this.releasePage(slot);
  }

  // ───────────────────────── the report ─────────────────────────

  /** The kmem ids of the caches the replay used (SLUB's arrays are indexed by them), in the order it first used them. */
  cacheIds(): number[] {
    const ids: number[] = [];
    for (const r of this.cacheRows) if (r.kmemId >= 0 && !ids.includes(r.kmemId)) ids.push(r.kmemId);
    return ids;
  }

  /** Sum up (call after finish()). */
  report(opts: { allocatorStats?: boolean } = {}): ReplayReport {
    // slabs holding each call site's live objects
    const siteSlabs = new Map<number, Set<number>>();
    for (const slot of this.live.values()) {
      const addr = this.sAddr[slot]!;
      if (addr <= 16 || this.sCache[slot]! < 0) continue;
      const slab = this.d.slabOf(addr);
      if (slab < 0) continue;
      const s = this.sSite[slot]!;
      let set = siteSlabs.get(s);
      if (set === undefined) {
        set = new Set();
        siteSlabs.set(s, set);
      }
      set.add(slab);
    }
    const caches: ReplayCacheReport[] = this.cacheRows.map((r) => {
      const id = r.kmemId;
      const d = this.d;
      const has = id >= 0 && d.has(id);
      const total = has ? d.totalObjects(id) : 0;
      return {
        name: r.name,
        objectSize: has ? d.objectSize(id) : null,
        slabSize: has && d.slotSize(id) !== 0 ? d.slotSize(id) : null,
        order: has ? d.order(id) : null,
        allocs: r.allocs,
        frees: r.frees,
        objects: { peak: r.peak, final: r.live },
        slabs: has ? { peak: r.peakSlabs, final: d.nrSlabs(id) } : null,
        bytes: { peak: r.peakBytes, final: r.liveBytes },
        requestedBytes: r.liveReq,
        waste: { peak: r.peakWaste, final: r.liveWaste, total: r.totalWaste },
        utilisation: has && total > 0 ? Math.round((d.liveObjects(id) * 1000) / total) / 10 : null,
        fastpath: { alloc: r.allocFast, free: r.freeFast },
        slowpath: { alloc: r.allocSlow, free: r.freeSlow },
        remoteFrees: r.remoteFrees,
        replayFailures: r.failed,
        sizeMismatches: r.sizeMismatches,
        unknown: r.unknown,
        bornBeforeTrace: r.kmemId !== -1 && !r.unknown && (r.descriptor || /^(dma-)?kmalloc-/.test(r.name) || this.bornBefore.has(r.name)),
      };
    });
    const callSites: ReplaySiteReport[] = this.siteRows
      .filter((s): s is SiteRow => s !== undefined && s.allocs > 0)
      .map((s) => {
        const at = s.index;
        return {
          callSite: s.callSite,
          caches: [...s.caches.keys()],
          allocs: s.allocs,
          frees: s.frees,
          objects: { peak: s.peak, final: s.live },
          slabs: { final: siteSlabs.get(at)?.size ?? 0 },
          bytes: { peak: s.peakBytes, final: s.liveBytes },
          waste: { peak: s.peakWaste, final: s.liveWaste, total: s.totalWaste },
          fastpath: { alloc: s.allocFast },
          slowpath: { alloc: s.allocSlow },
          remoteFrees: s.remoteFrees,
        };
      });
    const allocations: ReplayPageReport['allocations'] = [];
    for (let o = 0; o < NR_PAGE_ORDERS; o++) {
      const byMigratetype: Record<string, number> = {};
      let total = 0;
      for (let mt = 0; mt < 8; mt++) {
        const n = this.pageAllocs[o * 8 + mt]!;
        if (n === 0) continue;
        byMigratetype[mt < MIGRATE_TYPES ? migratetypeNames[mt]! : `type${mt}`] = n;
        total += n;
      }
      if (total > 0) allocations.push({ order: o, byMigratetype, total });
    }
    const rep: ReplayReport = {
      events: Object.fromEntries(KMEM_EVENT_KINDS.map((kind, i) => [kind, this.kindCounts[i]!]).filter(([, n]) => n !== 0)),
      slab: {
        allocs: this.allocs,
        frees: this.frees,
        unknownFrees: this.unknownFrees,
        nullFrees: this.nullFrees,
        failedInTrace: this.failedInTrace,
        failedInReplay: this.failedInReplay,
        lostFrees: this.lostFrees,
        sizeMismatches: this.sizeMismatches,
        remoteFrees: this.remoteFrees,
        resolved: { ...this.resolved, byName: this.namedAllocs - this.resolved.byLaterFree - this.namedOnLeaving },
        descriptorAllocs: this.descriptorAllocs,
        untracedFrees: this.untracedFrees,
      },
      caches,
      callSites,
      pages: {
        allocations,
        frees: this.pageFrees,
        unknownFrees: this.pageUnknownFrees,
        failures: this.pageFailures,
        live: { peak: this.peakPages, final: this.livePages },
        zoneLockedRefills: this.kindCounts[N_MM_PAGE_ALLOC_ZONE_LOCKED]!,
        pcpDrains: this.kindCounts[N_MM_PAGE_PCPU_DRAIN]!,
        slabPages: { blocks: this.slabPageBlocks, pages: this.slabPageCount, directBase: this.directBase },
        preTrace: { ...this.preTrace },
      },
      foldedCpuEvents: this.foldedCpuEvents,
      otherCallSites: this.otherSites,
      bothMobilityBits: this.bothMobility,
      demand: { peakPages: this.peakWantPages, peakSlabBytes: this.peakWantSlabBytes, bootPages: this.bootPages, totalPages: this.k.phys.nrPages },
    };
    if (opts.allocatorStats) rep.slubStats = this.slubStats();
    return rep;
  }

  /** CONFIG_SLUB_STATS of the caches the trace used: non-zero counters summed over CPUs. */
  private slubStats(): Record<string, Record<string, number>> {
    const out: Record<string, Record<string, number>> = {};
    const st = this.stats;
    if (st.length === 0) return out;
    const seen = new Set<number>();
    for (const r of this.cacheRows) {
      const id = r.kmemId;
      if (id < 0 || seen.has(id) || this.k.slub.caches[id] === undefined) continue;
      seen.add(id);
      const c: Record<string, number> = {};
      for (let item = 0; item < NR_SLUB_STAT_ITEMS; item++) {
        let sum = 0;
        for (let cpu = 0; cpu < this.k.cpus; cpu++) sum += st[(cpu * MAX_CACHES + id) * NR_SLUB_STAT_ITEMS + item]!;
        if (sum !== 0) c[statNames[item]!] = sum;
      }
      out[this.k.slub.caches[id]!.name] = c;
    }
    return out;
  }
}

/** Free pages of every zone (nr_free_pages of /proc/vmstat). */
function freePages(k: Kernel): number {
  const m = /^nr_free_pages (\d+)$/m.exec(k.proc.read('/proc/vmstat'));
  return m ? Number(m[1]) : 0;
}

// ───────────────────────── names over the whole file ─────────────────────────

/**
 * What a first pass over a file learns about the caches of kmem_cache_alloc
 * events that print no name= (before 6.18): for the n-th such event, the
 * name= its object's kmem_cache_free printed, however far later; and for a
 * call site and bytes_alloc, the cache the first named object of that pair
 * went to, for the objects never freed in the trace.
 */
export class CacheNames {
  private readonly bySiteBytes = new Map<number, number>();
  /**
   * One bit per line: the unnamed kmem_cache_alloc there was named by its
   * free. Its name is the one learned for its call site and bytes_alloc,
   * unless it is one of the exceptions (a site whose allocations go to
   * more than one cache), kept as (line, name) pairs: memory grows by a
   * bit a line, not by words an allocation.
   */
  private namedLines = new Uint8Array(1 << 12);
  private exLine: number[] = [];
  private exName: number[] = [];
  /** The exceptions in line order (sorted once, when the second pass first asks). */
  private order: Int32Array | null = null;
  /** Where nameAt() looks next among the exceptions (the second pass asks in file order). */
  private cursor = 0;
  /** Unnamed kmem_cache_allocs seen. */
  count = 0;
  /** Of those, named by their free. */
  named = 0;
  /** kmem_cache_allocs that print their cache's name= (6.18+). */
  namedAllocs = 0;
  /** kmem_cache_frees that print name= (5.12+). */
  namedFrees = 0;

  // the first pass: unnamed allocations waiting for their free, by ptr key
  private readonly pending = new PtrTable(1 << 12);
  private pLine = new Float64Array(1 << 12);
  private pSite = new Int32Array(1 << 12);
  private pBytes = new Float64Array(1 << 12);
  private readonly pFree: number[] = [];
  private pNext = 0;

  /**
   * The name id the free of the unnamed kmem_cache_alloc at line lineNo
   * printed (site and bytes: its call site id and bytes_alloc), or -1.
   * Asked in file order.
   */
  nameAt(lineNo: number, site: number, bytes: number): number {
    const bits = this.namedLines;
    const byte = lineNo >>> 3;
    if (byte >= bits.length || (bits[byte]! & (1 << (lineNo & 7))) === 0) return -1;
    let order = this.order;
    if (order === null) {
      order = Int32Array.from(this.exLine.keys()).sort((x, y) => this.exLine[x]! - this.exLine[y]!);
      this.order = order;
    }
    let c = this.cursor;
    while (c < order.length && this.exLine[order[c]!]! < lineNo) c++;
    this.cursor = c;
    if (c < order.length && this.exLine[order[c]!] === lineNo) return this.exName[order[c]!]!;
    return this.siteName(site, bytes);
  }

  /** The name id learned for a call site and bytes_alloc, or -1. */
  siteName(site: number, bytes: number): number {
    return this.bySiteBytes.get(site * 4294967296 + bytes) ?? -1;
  }

  /** The first pass: rows of kmem_cache_alloc[_node] and kmem_cache_free in file order (scanNamesInto). */
  push(c: EventColumns): void {
    for (let i = 0; i < c.n; i++) {
      const kind = c.kind[i]!;
      const key = c.ptr[i]!;
      if (kind === C_KMEM_CACHE_FREE) {
        const nm = c.name[i]!;
        if (nm >= 0) {
          this.namedFrees++;
          this.sawName(nm);
        }
        if (key <= 0) continue;
        const slot = this.pending.delete(key);
        if (slot < 0) continue;
        this.pFree.push(slot);
        const name = c.name[i]!;
        if (name < 0) continue;
        const line = this.pLine[slot]!;
        const byte = line >>> 3;
        while (byte >= this.namedLines.length) {
          const g = new Uint8Array(this.namedLines.length * 2);
          g.set(this.namedLines);
          this.namedLines = g;
        }
        this.namedLines[byte]! |= 1 << (line & 7);
        this.named++;
        const site = this.pSite[slot]!;
        const bytes = this.pBytes[slot]!;
        this.learn(site, bytes, name);
        if (this.siteName(site, bytes) !== name) {
          this.exLine.push(line);
          this.exName.push(name);
          this.order = null;
        }
        continue;
      }
      const name = c.name[i]!;
      if (name >= 0) {
        this.namedAllocs++;
        this.sawName(name);
        this.learn(c.site[i]!, c.alloc[i]!, name);
        continue;
      }
      this.count++;
      if (key <= 0) continue;
      let slot = this.pending.get(key);
      if (slot < 0) {
        slot = this.pFree.pop() ?? this.pNext++;
        if (slot >= this.pLine.length) this.grow();
        this.pending.set(key, slot);
      }
      this.pLine[slot] = c.lineNo[i]!;
      this.pSite[slot] = c.site[i]!;
      this.pBytes[slot] = c.alloc[i]!;
    }
  }

  /** Name ids some event of the trace prints (a bit each). */
  private seen = new Uint8Array(256);

  private sawName(id: number): void {
    while (id >> 3 >= this.seen.length) {
      const g = new Uint8Array(this.seen.length * 2);
      g.set(this.seen);
      this.seen = g;
    }
    this.seen[id >> 3]! |= 1 << (id & 7);
  }

  /** Some event of the trace prints the name with this id. */
  printsName(id: number): boolean {
    return id >> 3 < this.seen.length && (this.seen[id >> 3]! & (1 << (id & 7))) !== 0;
  }

  private learn(site: number, bytes: number, name: number): void {
    const key = site * 4294967296 + bytes;
    if (!this.bySiteBytes.has(key)) this.bySiteBytes.set(key, name);
  }

  private grow(): void {
    const n = this.pLine.length * 2;
    const l = new Float64Array(n);
    l.set(this.pLine);
    this.pLine = l;
    const s = new Int32Array(n);
    s.set(this.pSite);
    this.pSite = s;
    const b = new Float64Array(n);
    b.set(this.pBytes);
    this.pBytes = b;
  }
}

// ───────────────────────── a whole file ─────────────────────────

export interface ReplayFileOptions extends ReplayOptions {
  /** The machine; cpus left out means: as many as the trace's first events use (at least 2). */
  boot?: BootOptions;
  skipBad?: boolean;
  onBad?: (err: TraceParseError) => void;
  /** After each chunk: bytes of the file read, lines and events so far. */
  onProgress?: (bytes: number, lines: number, events: number) => void;
  /** Chunk size for the reader (default 1 MiB). */
  chunkSize?: number;
  /** false: read a regular file once, with the lookahead window, as a pipe is (default: twice, names from the whole file). */
  twoPass?: boolean;
}

export interface ReplayFileResult {
  kernel: Kernel;
  replayer: TraceReplayer;
  read: TraceReadStats;
  /** The CPU count came from the trace (no boot.cpus given). */
  cpusFromTrace: boolean;
  /** The trace's header (#P:N, entries-in-buffer/entries-written) as read; null on the one-pass path. */
  header: TraceHeader | null;
}

/** The share of the events the trace lost (entries-in-buffer below entries-written), 0 when none or not known. */
export function lostShare(h: TraceHeader | null): number {
  if (h === null || h.entriesWritten <= 0 || h.entriesInBuffer < 0 || h.entriesInBuffer >= h.entriesWritten) return 0;
  return (h.entriesWritten - h.entriesInBuffer) / h.entriesWritten;
}

/** True when path names a regular file (read twice); false for standard input, a pipe, or what cannot be opened. */
export function isRegularFile(path: string): boolean {
  if (path === STDIN_PATH) return false;
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/** One machine a trace is replayed into (replayFileMany). */
export interface ReplayRun {
  kernel: Kernel;
  replayer: TraceReplayer;
  /** The CPU count came from the trace (the run's boot options gave none). */
  cpusFromTrace: boolean;
  /** Seconds spent booting this machine and performing the events on it (the reading and parsing excluded). */
  seconds: number;
}

/** A trace replayed into several machines (replayFileMany). */
export interface ReplayManyResult {
  runs: ReplayRun[];
  read: TraceReadStats;
  header: TraceHeader;
  /** Seconds of both passes spent reading and parsing (shared by every run). */
  parseSeconds: number;
}

/** CONFIG_SLUB_STATS on for a SLUB machine (SLAB and SLOB have no such option: the replay reads their own structures). */
function slubStatsFor(given: BootOptions | undefined): BootOptions {
  return given?.allocator === undefined || given.allocator === 'slub' ? { slubStats: true } : {};
}

/** The boot options of a run: CONFIG_SLUB_STATS on (SLUB), and the CPUs from the trace's header when none are given. */
function runBootOptions(given: BootOptions | undefined, header: TraceHeader, kernel?: BootOptions['kernel']): BootOptions {
  const o: BootOptions = { ...(given ?? {}), ...slubStatsFor(given) };
  if (given?.kernel === undefined && kernel !== undefined) o.kernel = kernel;
  if (given?.cpus === undefined) o.cpus = Math.min(256, Math.max(header.cpus > 0 ? header.cpus : 2, header.cpus > 0 ? 1 : maxCpuSeen() + 1));
  return o;
}

/**
 * The kernel generation a trace comes from, as far as kmem tells them apart,
 * from its kmem_cache_alloc events: 6.18 prints the cache's name= there;
 * before it (5.12 .. 6.17: the name only on kmem_cache_free) the trace is
 * replayed with 6.1's geometry, the older kernel kmem knows. `unnamed` and
 * `named`: kmem_cache_allocs without and with name=; `namedFrees`:
 * kmem_cache_frees with name=. Undefined when neither tells (no
 * kmem_cache_alloc, or a kernel before 5.12 that names no cache at all:
 * the default, 6.18, stands).
 */
export function traceKernel(unnamed: number, named: number, namedFrees: number): '6.1' | '6.18' | undefined {
  if (named > 0) return '6.18';
  return unnamed > 0 && namedFrees > 0 ? '6.1' : undefined;
}

/**
 * A regular file, read twice: the first pass learns the caches of unnamed
 * kmem_cache_alloc events from the whole file (CacheNames) and reads the
 * header; the second reads the rows once and replays each batch into every
 * machine in turn (one per boot options), with no window. Every machine
 * sees the same rows in the same order, so each ends as a replay of its
 * own would.
 */
export async function replayFileMany(path: string, boots: readonly (BootOptions | undefined)[], opts: ReplayFileOptions = {}): Promise<ReplayManyResult> {
  if (boots.length === 0) throw new RangeError('boots: at least one machine expected');
  const strings = new StringTable();
  const names = new CacheNames();
  const t0 = performance.now();
  // malformed lines are reported (or skipped) by the second pass, at their place
  await readTraceColumns(path, strings, (c) => names.push(c), { namesOnly: true, skipBad: true, chunkSize: opts.chunkSize });
  const header: TraceHeader = { ...traceHeader };
  let replaySeconds = 0;
  const runs: ReplayRun[] = boots.map((b) => {
    const t = performance.now();
    const kernel = boot(runBootOptions(b, header, traceKernel(names.count, names.namedAllocs, names.namedFrees)));
    const replayer = new TraceReplayer(kernel, { ...opts, lookahead: 0, file: path });
    replayer.header = header;
    const seconds = (performance.now() - t) / 1000;
    replaySeconds += seconds;
    return { kernel, replayer, cpusFromTrace: b?.cpus === undefined, seconds };
  });
  let events = 0;
  const read = await readTraceColumns(
    path,
    strings,
    (c) => {
      events += c.n;
      for (const r of runs) {
        const t = performance.now();
        r.replayer.pushColumns(c, strings, names);
        const s = (performance.now() - t) / 1000;
        r.seconds += s;
        replaySeconds += s;
      }
    },
    {
      skipBad: opts.skipBad,
      onBad: opts.onBad,
      chunkSize: opts.chunkSize,
      onProgress: (bytes, lines) => opts.onProgress?.(bytes, lines, events),
    },
  );
  for (const r of runs) {
    const t = performance.now();
    r.replayer.finish();
    const s = (performance.now() - t) / 1000;
    r.seconds += s;
    replaySeconds += s;
  }
  return { runs, read, header, parseSeconds: (performance.now() - t0) / 1000 - replaySeconds };
}

/** A regular file, read twice (replayFileMany with one machine). */
async function replayTwoPass(path: string, opts: ReplayFileOptions): Promise<ReplayFileResult> {
  const m = await replayFileMany(path, [opts.boot], opts);
  const run = m.runs[0]!;
  return { kernel: run.kernel, replayer: run.replayer, read: m.read, cpusFromTrace: run.cpusFromTrace, header: m.header };
}

/** Events read before the machine boots when its CPU count comes from the trace. */
const CPU_PROBE_EVENTS = 20_000;

/**
 * Stream a kmem trace file (ftrace, trace-cmd report or perf script text,
 * plain or gzip'd) through a new machine booted with CONFIG_SLUB_STATS.
 * Throws TraceFileError (missing file, directory) and TraceParseError
 * (malformed line, unless skipBad).
 */
export async function replayTraceFile(path: string, opts: ReplayFileOptions = {}): Promise<ReplayFileResult> {
  if (opts.twoPass !== false && isRegularFile(path)) return replayTwoPass(path, opts);
  const bootOpts: BootOptions = { ...(opts.boot ?? {}), ...slubStatsFor(opts.boot) };
  const cpusFromTrace = opts.boot?.cpus === undefined;
  let k: Kernel | null = null;
  let rp: TraceReplayer | null = null;
  const held: KmemEvent[][] = [];
  let heldEvents = 0;
  let maxCpu = 0;
  let events = 0;
  const kernelFromTrace = opts.boot?.kernel === undefined;
  const start = (): TraceReplayer => {
    if (cpusFromTrace) bootOpts.cpus = Math.min(256, traceHeader.cpus > 0 ? traceHeader.cpus : Math.max(2, maxCpu + 1));
    if (kernelFromTrace) {
      // the events read so far tell the kernel generation (a pipe: what the first batches show)
      let named = 0;
      let unnamed = 0;
      let namedFrees = 0;
      for (const b of held) {
        for (const e of b) {
          if (e.kind === 'kmem_cache_alloc' || e.kind === 'kmem_cache_alloc_node') {
            if ((e as SlabAllocEvent).name === null) unnamed++;
            else named++;
          } else if (e.kind === 'kmem_cache_free' && e.name !== null) namedFrees++;
        }
      }
      const kernel = traceKernel(unnamed, named, namedFrees);
      if (kernel !== undefined) bootOpts.kernel = kernel;
    }
    k = boot(bootOpts);
    rp = new TraceReplayer(k, { ...opts, file: path === STDIN_PATH ? STDIN_NAME : path });
    for (const b of held) rp.push(b);
    held.length = 0;
    return rp;
  };
  resetTraceHeader();
  if (!cpusFromTrace && !kernelFromTrace) start();
  let readBytes = 0;
  let readLines = 0;
  const it = readTraceBatches(path, {
    skipBad: opts.skipBad,
    onBad: opts.onBad,
    chunkSize: opts.chunkSize,
    onProgress: (bytes, lines) => {
      readBytes = bytes;
      readLines = lines;
    },
  });
  let read: TraceReadStats;
  for (;;) {
    const r = await it.next();
    if (r.done === true) {
      read = r.value;
      break;
    }
    const batch = r.value;
    events += batch.length;
    if (rp !== null) (rp as TraceReplayer).push(batch);
    else {
      for (let i = 0; i < batch.length; i++) if (batch[i]!.cpu > maxCpu) maxCpu = batch[i]!.cpu;
      held.push(batch);
      heldEvents += batch.length;
      if (heldEvents >= CPU_PROBE_EVENTS) start();
    }
    opts.onProgress?.(readBytes, readLines, events);
  }
  const replayer: TraceReplayer = rp ?? start();
  replayer.finish();
  const header: TraceHeader = { ...traceHeader };
  replayer.header = header;
  return { kernel: k!, replayer, read, cpusFromTrace, header };
}

export { TraceParseError };
