/**
 * `k.inspect`: a read-only view of a machine for tools (the CLI, the
 * browser view, a user's own dashboard).
 *
 * Every result is a copy: each call returns a fresh snapshot made of plain
 * objects, plain arrays and typed arrays the caller owns. Nothing returned
 * aliases the kernel's state (mutating a result changes nothing in the
 * machine, and later kernel activity changes nothing in a result), and no
 * call here changes the machine.
 */
import type { Machine } from './init/main.js';
import { type SheavesSnapshot, type SlabListsSnapshot, sheavesOf, slabLists } from './inspect_designs.js';
import { type LruListSnapshot, lruLists, type PageCacheFile, pageCacheFiles, type ReclaimSnapshot, reclaimSnapshot } from './inspect_pressure.js';
import type { KasanReport } from './kasan/kasan.js';
import { PAGE_SIZE } from './memory/memblock.js';
import {
  PG_head,
  PG_workingset,
  PGTY_buddy,
  PGTY_large_kmalloc,
  PGTY_slab,
  pageTypeNames,
  SLAB_FREELIST_MASK,
  SLAB_FREELIST_SHIFT,
  SLAB_FROZEN,
  SLAB_INUSE_MASK,
} from './memory/page.js';
import {
  listIndex,
  MAX_NR_ZONES,
  MIGRATE_PCPTYPES,
  MIGRATE_TYPES,
  NR_PAGE_ORDERS,
  pageblock_order,
  WMARK_HIGH,
  WMARK_LOW,
  WMARK_MIN,
  Z_FREE,
  Z_MANAGED,
  Z_PRESENT,
  Z_SPANNED,
  Z_START_PFN,
  Z_WMARK,
  zoneNames,
} from './page_alloc/mmzone.js';
import { EV_EXTFRAG, EV_PGALLOC, EV_PGFREE, NR_PCP_LISTS, PCP_COUNT, PCP_FIELDS } from './page_alloc/page_alloc.js';
import { fillContigPageInfo, fragmentationIndex, unusableFreeIndex } from './proc/buddyinfo.js';
import { type SlabinfoRow, slabinfoRows } from './proc/slabinfo.js';
import { slobListNames } from './slob/slob.js';
import { KMALLOC_MAX_CACHE_SIZE } from './slub/kmalloc_info.js';
import { CF, KmemHandle, MAX_CACHES, NR_SLUB_STAT_ITEMS, statNames } from './slub/slab.js';
import { SLAB_POISON, SLAB_RED_ZONE } from './slub/slab_flags.js';
import type { Task as VmTask } from './vm/fork.js';
import { STACK_GUARD_GAP, STACK_TOP, specialMappingNames, TASK_SIZE } from './vm/mm_types.js';
import { SWAP_DEVICE } from './vm/swapfile.js';
import { vmaFileName } from './vm/task_mmu.js';
import { KIND_ANON, KIND_FILE, KIND_SHMEM, type Vm } from './vm/vm.js';

// ───────────────────────── constants for reading snapshots ─────────────────────────

export type { SheafSnapshot, SheavesSnapshot, SlabListsSnapshot, SlabSlabSnapshot } from './inspect_designs.js';
export {
  LP_ACTIVE,
  LP_DIRTY,
  LP_LRU,
  LP_REFERENCED,
  LP_SWAPCACHE,
  LP_UNEVICTABLE,
  LP_WORKINGSET,
  LP_WRITEBACK,
  type LruListSnapshot,
  type LruOwner,
  type LruPage,
  lruListNames,
  type PageCacheFile,
  type ReclaimSnapshot,
} from './inspect_pressure.js';
export { MAX_MEMORY, MIN_MEMORY, memparse } from './memory/memblock.js';
export { pageflagNames, pageTypeNames } from './memory/page.js';
export { MIGRATE_PCPTYPES, MIGRATE_TYPES, migratetypeNames, pageblock_nr_pages } from './page_alloc/mmzone.js';
export type { SlabinfoRow } from './proc/slabinfo.js';
export { KMALLOC_MAX_CACHE_SIZE, KMALLOC_MAX_SIZE } from './slub/kmalloc_info.js';
export { statNames as slubStatNames } from './slub/slab.js';

/** The low bits of a cache handle: the cache's index, stable across machines booted alike (a colour per cache, say). */
export const CACHE_INDEX_MASK: number = KmemHandle.ID_MASK;
// The ftrace kmem events and their parser, for tools that read a trace next to a machine.

/** Object state in a slab (SlabSnapshot.states): handed out. */
export const OBJ_ALLOCATED = 0;
/** Object state: free on the CPU's lockless freelist (c->freelist, cpu slab only). */
export const OBJ_FREE_CPU = 1;
/** Object state: free on the slab's own freelist (slab->freelist). */
export const OBJ_FREE_SLAB = 2;
/** Object state: freed and held in KASAN's quarantine (poisoned, on no freelist). */
export const OBJ_QUARANTINED = 3;
/** The object states' names, by code. */
export const objectStateNames: readonly string[] = ['allocated', 'free on c->freelist', 'free on slab->freelist', 'quarantined (KASAN)'];

/** Page-frame state (PageStates.state): outside every zone, or reserved. */
export const PAGE_RESERVED = 0;
/** Page-frame state: in a free buddy block of order o is PAGE_FREE + o (0..10). */
export const PAGE_FREE = 1;
/** Page-frame state: on some CPU's pcp list. */
export const PAGE_PCP = 12;
/** Page-frame state: part of a slab (PageSlab). */
export const PAGE_SLAB = 13;
/** Page-frame state: part of a large kmalloc (PageLargeKmalloc). */
export const PAGE_LARGE_KMALLOC = 14;
/** Page-frame state: allocated pages (refcount > 0, no page type). */
export const PAGE_ALLOCATED = 15;
/** Page-frame state: in a zone, but none of the above (free, refcount 0, on no list). */
export const PAGE_UNKNOWN = 16;

/** One cache as /proc/slabinfo and /sys/kernel/slab describe it. */
export interface CacheSnapshot {
  /** The handle kmemCacheByName() gives for this name. */
  handle: number;
  name: string;
  /** The object size asked for (object_size). */
  objectSize: number;
  /** The slot stride with metadata (slabinfo's objsize). */
  size: number;
  align: number;
  order: number;
  objsPerSlab: number;
  activeObjs: number;
  numObjs: number;
  slabs: number;
}

/** One zone: its span, counts and watermarks (pages), and its free lists. */
export interface ZoneSnapshot {
  /** The zone's index (ZONE_DMA, ZONE_DMA32, ...). */
  zone: number;
  name: string;
  startPfn: number;
  spanned: number;
  present: number;
  managed: number;
  free: number;
  watermarks: { min: number; low: number; high: number };
  /** Pages parked on the CPUs' pcp lists (free, but not in the buddy lists). */
  pcpPages: number;
  /** nr_free per order (free_area[order].nr_free). */
  nrFree: number[];
}

/** One page frame. */
/** SLOB's heap (a machine booted with `allocator: 'slob'`): its three lists of partially free pages. */
export interface SlobSnapshot {
  /** free_slob_small, free_slob_medium, free_slob_large, each from its head. */
  lists: { name: string; pages: { pfn: number; units: number; freeBlocks: [number, number][] }[] }[];
  /** Pages the heap holds (on a list or full). */
  heapPages: number;
  /** NR_SLAB_UNRECLAIMABLE_B in pages: the heap and the page-sized objects. */
  slabPages: number;
  /** Free bytes in the partially free heap pages (the lists' pages). */
  freeBytes: number;
}

/** The swap area (a machine booted with `swap`): its slots and clusters, copied. */
export interface SwapSnapshot {
  /** the swap partition, as /proc/swaps names it */
  device: string;
  /** usable slots (the header's excluded), in use (swap entries or the swap cache), held by the swap cache */
  pages: number;
  inuse: number;
  cached: number;
  priority: number;
  /** swap_map by slot: the swap entries naming it, | 0x40 when the swap cache holds it; slot 0 (the header) 0x3f */
  map: Uint8Array;
  /** per cluster of 512 slots: the slots counted as used, and the list it is on */
  clusters: { count: number; list: 'none' | 'free' | 'nonfull' | 'frag' | 'full' }[];
}

/** A SLAB cache (a machine booted with `allocator: 'slab'`): geometry, tunables and where its free objects are. */
export interface SlabCacheSnapshot {
  handle: number;
  name: string;
  objsize: number;
  objperslab: number;
  order: number;
  colours: number;
  /** Where each slab keeps its index array. */
  freelist: 'objfreelist' | 'off_slab' | 'on_slab';
  limit: number;
  batchcount: number;
  shared: number;
  /** Objects in each CPU's head array, and in the shared array. */
  cpuAvail: number[];
  sharedAvail: number;
  activeObjs: number;
  numObjs: number;
  activeSlabs: number;
  numSlabs: number;
}

export interface PageSnapshot {
  pfn: number;
  addr: number;
  /** page_type's name ('buddy', 'slab', 'large_kmalloc', ...) or '' for none. */
  type: string;
  /** The order of the block this page heads (buddy and compound pages), else 0. */
  order: number;
  refcount: number;
  /** The pfn of the compound head, or the page itself. */
  head: number;
  /** The cache's name for a slab page, else null. */
  cache: string | null;
  /** The cache's handle for a slab page, else -1. */
  cacheId: number;
}

/** A /proc/slabinfo row with the cache's handle and size. */
export interface SlabinfoEntry extends SlabinfoRow {
  /** The cache's handle. */
  id: number;
  /** Pages the cache's slabs hold, in KiB (slabtop's CACHE SIZE). */
  cacheKb: number;
  /** active_objs / num_objs in percent (rounded down). */
  use: number;
}

/** A cache's slot layout and tunables (struct kmem_cache). */
export interface CacheGeometry {
  name: string;
  /** object_size: the size asked for. */
  objectSize: number;
  /** size: the slot stride with metadata. */
  size: number;
  /** offset: where the free pointer sits in a free object. */
  offset: number;
  /** inuse: bytes of the slot in use before the tracking metadata. */
  inuseBytes: number;
  redLeftPad: number;
  align: number;
  order: number;
  /** Objects per slab (oo_objects(s->oo)). */
  objects: number;
  minPartial: number;
  cpuPartial: number;
  cpuPartialSlabs: number;
  /** The cache's SLAB_* flags. */
  flags: number;
  redZone: boolean;
  poison: boolean;
}

/** A cache's running counts. */
export interface CacheCounters {
  /** Slabs the cache holds (nr_slabs). */
  nrSlabs: number;
  /** Slabs on the node partial list (nr_partial). */
  nrPartial: number;
  /** Objects in all slabs (total_objects). */
  totalObjects: number;
  /** Objects allocated and freed since boot. */
  allocs: number;
  frees: number;
  /** Pages the slabs hold (nr_slabs << order). */
  pages: number;
}

/** One SLUB_STATS counter of a cache: its total and each CPU's count. */
export interface SlubStatRow {
  name: string;
  total: number;
  perCpu: number[];
}

/** Where a slab is. */
export type SlabWhere = 'cpu' | 'cpu-partial' | 'node-partial' | 'full';

/** One slab with its objects' states and freelists (object indexes). */
export interface SlabSnapshot {
  /** The slab's head pfn. */
  pfn: number;
  order: number;
  objects: number;
  /** slab->inuse as SLUB counts it (objects on a cpu freelist count as in use). */
  inuse: number;
  frozen: boolean;
  where: SlabWhere;
  /** The CPU for a cpu slab or cpu partial slab, else -1. */
  cpu: number;
  /** Per object: OBJ_ALLOCATED, OBJ_FREE_CPU, OBJ_FREE_SLAB, OBJ_QUARANTINED. */
  states: Uint8Array;
  /** Object indexes on the CPU's lockless freelist, in order (cpu slab only). */
  cpuFreelist: number[];
  /** Object indexes on slab->freelist, in order. */
  slabFreelist: number[];
  /** Objects actually handed out (allocated and not quarantined). */
  handedOut: number;
  /** Bytes of each object KASAN lets one touch (null without KASAN). */
  accessible: Uint16Array | null;
  /** A freelist ran off the slab or looped: the free pointers are corrupt. */
  corrupt: boolean;
}

/** One CPU's kmem_cache_cpu for a cache, as pfns and an address. */
export interface KmemCacheCpu {
  cpu: number;
  /** The cpu slab's head pfn, or -1. */
  slab: number;
  /** c->freelist as an address (0 = NULL). */
  freelist: number;
  /** The cpu partial list's slabs (head pfns), in list order. */
  partial: number[];
}

/** One CPU's slabs of a cache. */
export interface CpuSlabs {
  cpu: number;
  slab: SlabSnapshot | null;
  /** c->freelist as an address (0 = NULL). */
  freelist: number;
  partial: SlabSnapshot[];
}

/** Every slab of a cache, by where it is, with totals over all of them. */
export interface CacheSlabs {
  id: number;
  geometry: CacheGeometry;
  cpus: CpuSlabs[];
  nodePartial: SlabSnapshot[];
  /** Full slabs (on no list), found by scanning struct pages. */
  full: SlabSnapshot[];
  totals: { slabs: number; objects: number; inuse: number; handedOut: number; freeCpu: number; freeSlab: number; quarantined: number };
  /** SLUB_STATS counters, or null when SLUB_STATS is off. */
  stats: SlubStatRow[] | null;
}

/** Every page frame's state, one entry per pfn. */
export interface PageStates {
  /** PAGE_RESERVED, PAGE_FREE + order, PAGE_PCP, PAGE_SLAB, PAGE_LARGE_KMALLOC, PAGE_ALLOCATED, PAGE_UNKNOWN. */
  state: Uint8Array;
  /** The slab cache's handle for slab pages, else -1. */
  cache: Int32Array;
  /** The pfn of the block each page belongs to (buddy block, pcp block, compound page), else the page itself. */
  head: Int32Array;
}

/** A page on a pcp list: the CPU, the list's order and migratetype. */
export interface PcpPlace {
  cpu: number;
  order: number;
  mt: number;
}

/** struct page's fields for one pfn, as dump_page() names them. */
export interface StructPage {
  pfn: number;
  flags: number;
  /** page_type's number (0 = none). */
  pageType: number;
  order: number;
  refcount: number;
  /** _mapcount as stored (the kernel's value is this minus 1). */
  mapcount: number;
  /** compound_head's pfn for a tail page, else -1. */
  compoundHead: number;
  /** PG_head is set. */
  isHead: boolean;
  index: number;
  /** lru.next / lru.prev as pfns (-1 = none). */
  lruNext: number;
  lruPrev: number;
  /** The zone's index, or -1 outside every populated zone. */
  zone: number;
  /** The migratetype of the pageblock holding the page. */
  migratetype: number;
  /** The struct slab when the page is (part of) a slab, else null. */
  slab: {
    cache: number;
    head: number;
    inuse: number;
    objects: number;
    frozen: boolean;
    /** The first free object's index on slab->freelist, or -1 (NULL). */
    freelist: number;
    where: SlabWhere;
    /** The CPU for a cpu slab or cpu partial slab, else -1. */
    cpu: number;
  } | null;
  /** The requested size of a large kmalloc (its head's index), else 0. */
  largeKmallocSize: number;
}

/** One zone's free lists (/proc/pagetypeinfo, /proc/buddyinfo) and fragmentation indices. */
export interface FreeAreaSnapshot {
  zone: number;
  name: string;
  /** free[mt][order]: free blocks on each free list. */
  free: number[][];
  /** nr_free per order (all migratetypes). */
  nrFree: number[];
  freePages: number;
  managed: number;
  /** Pages on the zone's pcp lists, all CPUs. */
  pcpPages: number;
  wmark: { min: number; low: number; high: number };
  /** debugfs extfrag/unusable_index per order, in thousandths. */
  unusable: number[];
  /** debugfs extfrag/extfrag_index per order, in thousandths. */
  extfrag: number[];
}

/** The page allocator's counters (/proc/vmstat and free block counts), summed over zones. */
export interface PageAllocCounters {
  /** Free blocks per order, all zones. */
  nrFree: number[];
  /** NR_FREE_PAGES, all zones. */
  freePages: number;
  /** Pages on pcp lists, all CPUs and zones. */
  pcpPages: number;
  /** pgalloc_* summed over zones (pages). */
  pgalloc: number;
  /** pgfree (pages), as /proc/vmstat counts it: with the pages freed to the buddy lists at boot. */
  pgfree: number;
  /** extfrag events (a fallback to another migratetype). */
  extfrag: number;
}

// ───────────────────────── processes and address spaces (src/vm) ─────────────────────────

/** A user page's state (VmaSnapshot.pages): no PTE, or a PTE that is not present. */
export const UPAGE_NONE = 0;
/** The PTE maps the shared zero page (a read of untouched anonymous memory). */
export const UPAGE_ZERO = 1;
/** An anonymous page only this PTE maps (mapcount 1). */
export const UPAGE_PRIVATE = 2;
/** An anonymous page more than one PTE maps (mapcount > 1: after fork, copy-on-write). */
export const UPAGE_SHARED_COW = 3;
/** A page of a file's page cache, or of shmem. */
export const UPAGE_FILE = 4;
/** The user page states' names, by code. */
export const userPageStateNames: readonly string[] = ['not present', 'zero page', 'private anonymous', 'shared copy-on-write', 'file / shmem'];

/** One process. */
export interface TaskSnapshot {
  pid: number;
  comm: string;
  /** The parent's pid (0 for init). */
  ppid: number;
  /** exit() has run (a zombie or reaped). */
  exited: boolean;
  /** Resident pages (MM_FILEPAGES + MM_ANONPAGES + MM_SHMEMPAGES), 0 without an mm. */
  rss: number;
  minFlt: number;
  majFlt: number;
}

/** One VMA, as a /proc/PID/maps line sees it. */
export interface VmaSnapshot {
  start: number;
  end: number;
  /** vm_flags (VM_READ 1, VM_WRITE 2, VM_EXEC 4, VM_SHARED 8, VM_MAYSHARE 0x80, VM_GROWSDOWN 0x100, ...). */
  flags: number;
  /** 'r-xp' and the like. */
  perms: string;
  /** vm_pgoff (pages). */
  pgoff: number;
  /** The name column of maps: a file's path, [heap], [stack], [vvar], [vdso], '/dev/zero (deleted)', or ''. */
  name: string;
  /** The mapped file's inode (0 when anonymous). */
  ino: number;
  anon: boolean;
}

/** Where a process's pieces are, and the random offsets execve chose. */
export interface LayoutSnapshot {
  taskSize: number;
  startCode: number;
  endCode: number;
  startData: number;
  endData: number;
  startBrk: number;
  brk: number;
  mmapBase: number;
  /** The initial stack pointer's page region (mm->start_stack). */
  startStack: number;
  /** The top of the stack VMA (STACK_TOP less the random offset). */
  stackTop: number;
  /** PF_RANDOMIZE was set at execve. */
  randomized: boolean;
  /** STACK_TOP - stackTop (bytes). */
  stackRnd: number;
  /** Where mmap_base would be without randomization, less where it is (bytes). */
  mmapRnd: number;
  /** The start of the executable's lowest mapping, when it is a PIE (ET_DYN above ELF_ET_DYN_BASE), else null. */
  pieBase: number | null;
}

/** One level of a page-table walk. */
export interface WalkLevel {
  /** 'PGD', 'PUD', 'PMD', 'PTE'. */
  level: string;
  /** The table's physical address (the PGD's is CR3). */
  table: number;
  tablePfn: number;
  /** The 9 bits of the address that index this table. */
  index: number;
  /** The entry's physical address. */
  entryAddr: number;
  /** The 64-bit entry. */
  entry: bigint;
  present: boolean;
  /** The entry's flag names (present, rw, user, accessed, dirty, special, nx, ...). */
  bits: string[];
  /** The frame the entry points at (the next table, or the data page), -1 when not present. */
  pfn: number;
}

/** A walk of one virtual address, CR3 to the byte. */
export interface PageWalk {
  va: number;
  /** mm->pgd's physical address, what CR3 holds while the task runs. */
  cr3: number;
  /** The levels reached (fewer than four when a table is missing). */
  levels: WalkLevel[];
  /** The physical address of the byte, or -1 when the walk ends early. */
  phys: number;
  /** The byte there (-1 when not mapped). */
  byte: number;
}

const PTE_BIT_NAMES: [number, string][] = [
  [0, 'present'],
  [1, 'rw'],
  [2, 'user'],
  [3, 'pwt'],
  [4, 'pcd'],
  [5, 'accessed'],
  [6, 'dirty'],
  [7, 'pse'],
  [8, 'global'],
  [9, 'special'],
  [10, 'uffd_wp'],
  [11, 'soft_dirty'],
];
const LEVEL_NAMES = ['PGD', 'PUD', 'PMD', 'PTE'];
const PF_RANDOMIZE = 0x400000;
const ELF_ET_DYN_BASE = 0x555555554aaa - (0x555555554aaa % PAGE_SIZE);

export class Inspector {
  /**
   * `vmOf`: the machine's virtual-memory half if it exists yet (never creating it).
   * Without it, the Inspector learns the vm half from the first Task passed to it.
   */
  constructor(
    private readonly m: Machine,
    private readonly vmOf: () => Vm | null = () => null,
  ) {}

  private vmSeen: Vm | null = null;

  /** The vm half, if this machine has one yet; never creates it. */
  private vm(): Vm | null {
    const v = this.vmOf();
    if (v !== null) return v;
    return this.vmSeen;
  }

  /** The Task for a pid or Task; null when it is unknown or belongs to another machine. */
  private taskOf(t: number | VmTask): VmTask | null {
    if (typeof t === 'number') return this.vm()?.tasks.get(t) ?? null;
    if (t.vm.k.phys !== this.m.phys) throw new RangeError('task: a task of another machine');
    if (this.vmSeen === null) this.vmSeen = t.vm;
    return t;
  }

  /** Every live process (init, pid 1, first), or [] when no process was ever made. */
  processes(): TaskSnapshot[] {
    const vm = this.vm();
    if (vm === null) return [];
    return [...vm.tasks.values()].map((t) => {
      const mm = t.mm;
      return { pid: t.pid, comm: t.comm, ppid: t.parent?.pid ?? 0, exited: t.exited, rss: mm === null ? 0 : mm.rss(), minFlt: t.minFlt, majFlt: t.majFlt };
    });
  }

  /** A process's VMAs in address order, named as /proc/PID/maps names them ([] without an mm). */
  vmas(task: number | VmTask): VmaSnapshot[] {
    const t = this.taskOf(task);
    const vm = this.vm();
    if (t === null || vm === null || t.mm === null) return [];
    const mm = t.mm;
    const s = vm.s;
    return mm.vmas.map((v) => {
      const start = s.vmStart(v);
      const end = s.vmEnd(v);
      const f = s.vmFlags(v);
      const ino = s.vmFile(v);
      let name = '';
      if (ino !== 0) name = vmaFileName(vm, ino);
      else if (s.vmOps(v) !== 0) name = specialMappingNames[s.vmOps(v)] ?? '';
      else if (start < mm.brk && end > mm.startBrk) name = '[heap]';
      else if (start <= mm.startStack && end >= mm.startStack) name = '[stack]';
      const perms = `${f & 1 ? 'r' : '-'}${f & 2 ? 'w' : '-'}${f & 4 ? 'x' : '-'}${f & 0x80 ? 's' : 'p'}`;
      return { start, end, flags: f, perms, pgoff: s.vmPgoff(v), name, ino, anon: ino === 0 };
    });
  }

  /** The state (UPAGE_*) of each page that [start, end) touches in a process, read from its page tables (no fault is taken). */
  userPages(task: number | VmTask, start: number, end: number): Uint8Array {
    const t = this.taskOf(task);
    const vm = this.vm();
    const n = Math.max(0, Math.ceil(end / PAGE_SIZE) - Math.floor(start / PAGE_SIZE));
    const out = new Uint8Array(n);
    if (t === null || vm === null || t.mm === null) return out;
    const pgd = t.mm.pgd;
    const u32 = this.m.phys.u32;
    const mapcount = this.m.pages.mapcount;
    const base = Math.floor(start / PAGE_SIZE) * PAGE_SIZE;
    for (let i = 0; i < n; i++) {
      const pi = vm.pt.walk(pgd, base + i * PAGE_SIZE);
      if (pi < 0) continue;
      const e = u32[pi]!;
      if ((e & 1) === 0) continue;
      const pfn = e >>> 12;
      const kind = vm.pageKind[pfn];
      if (pfn === vm.zeroPfn) out[i] = UPAGE_ZERO;
      else if (kind === KIND_FILE || kind === KIND_SHMEM) out[i] = UPAGE_FILE;
      else if (kind === KIND_ANON) out[i] = mapcount[pfn]! > 1 ? UPAGE_SHARED_COW : UPAGE_PRIVATE;
      else out[i] = UPAGE_PRIVATE;
    }
    return out;
  }

  /** The segment bounds of a process and the random offsets of its layout; null without an mm. */
  layout(task: number | VmTask): LayoutSnapshot | null {
    const t = this.taskOf(task);
    if (t === null || t.mm === null) return null;
    const mm = t.mm;
    const vmas = this.vmas(t);
    const stack = vmas.find((v) => v.name === '[stack]');
    const stackTop = stack === undefined ? STACK_TOP : stack.end;
    const randomized = (t.flags & PF_RANDOMIZE) !== 0;
    let gap = mm.stackRlimit + STACK_GUARD_GAP + (randomized ? 0x3fffff * PAGE_SIZE : 0);
    gap = Math.min(Math.max(gap, 128 * 1024 * 1024), (TASK_SIZE / 6) * 5);
    const base0 = Math.ceil((TASK_SIZE - gap) / PAGE_SIZE) * PAGE_SIZE;
    const code = vmas.find((v) => v.start <= mm.startCode && mm.startCode < v.end);
    let pieBase: number | null = null;
    if (code !== undefined && code.ino !== 0 && mm.startCode >= ELF_ET_DYN_BASE && mm.startCode < mm.mmapBase) {
      pieBase = Math.min(...vmas.filter((v) => v.ino === code.ino).map((v) => v.start));
    }
    return {
      taskSize: mm.taskSize,
      startCode: mm.startCode,
      endCode: mm.endCode,
      startData: mm.startData,
      endData: mm.endData,
      startBrk: mm.startBrk,
      brk: mm.brk,
      mmapBase: mm.mmapBase,
      startStack: mm.startStack,
      stackTop,
      randomized,
      stackRnd: STACK_TOP - stackTop,
      mmapRnd: base0 - mm.mmapBase,
      pieBase,
    };
  }

  /**
   * The MMU's walk of one virtual address in a process: CR3 (mm->pgd), then
   * each level's table, index and entry, down to the byte. Takes no fault.
   */
  walk(task: number | VmTask, va: number): PageWalk | null {
    const t = this.taskOf(task);
    if (t === null || t.mm === null) return null;
    if (!Number.isSafeInteger(va) || va < 0 || va >= 2 ** 48) throw new RangeError(`va: expected a user address, got ${va}`);
    const u32 = this.m.phys.u32;
    const cr3 = t.mm.pgd;
    const levels: WalkLevel[] = [];
    let table = cr3;
    let phys = -1;
    for (let l = 0; l < 4; l++) {
      const shift = 39 - 9 * l;
      const index = Math.floor(va / 2 ** shift) & 511;
      const entryAddr = table + index * 8;
      const lo = u32[entryAddr >>> 2]!;
      const hi = u32[(entryAddr >>> 2) + 1]!;
      const present = (lo & 1) !== 0;
      const bits = PTE_BIT_NAMES.filter(([b]) => (lo & (1 << b)) !== 0).map(([, n]) => n);
      if ((hi & 0x80000000) !== 0) bits.push('nx');
      const pfn = present ? lo >>> 12 : -1;
      levels.push({
        level: LEVEL_NAMES[l]!,
        table,
        tablePfn: table / PAGE_SIZE,
        index,
        entryAddr,
        entry: (BigInt(hi) << 32n) | BigInt(lo),
        present,
        bits,
        pfn,
      });
      if (!present) break;
      table = (lo & ~0xfff) >>> 0;
      if (l === 3) phys = table + (va % PAGE_SIZE);
    }
    return { va, cr3, levels, phys, byte: phys < 0 ? -1 : this.m.phys.u8[phys]! };
  }

  /** The shared zero page's frame, or -1 when the vm half does not exist yet. */
  zeroPagePfn(): number {
    return this.vm()?.zeroPfn ?? -1;
  }

  /** Bytes of RAM. */
  get memory(): number {
    return this.m.phys.size;
  }

  /** Page frames, pfn 0 .. nrPages-1. */
  get nrPages(): number {
    return this.m.phys.nrPages;
  }

  /** A SLUB cache id's handle; -1 for a slab page of no SLUB cache (a SLOB page). */
  private slubHandle(id: number): number {
    return id >= 0 && this.m.allocator === 'slub' ? this.m.slab.handleOf(id) : -1;
  }

  /** The swap area's slots and clusters, or null without swap. */
  swap(): SwapSnapshot | null {
    const si = this.vm()?.swap ?? null;
    if (si === null) return null;
    const lists = ['none', 'free', 'nonfull', 'frag', 'full'] as const;
    return {
      device: SWAP_DEVICE,
      pages: si.pages,
      inuse: si.inusePages,
      cached: this.vm()!.nrSwapcached,
      priority: si.prio,
      map: si.swapMap.slice(),
      clusters: Array.from({ length: si.nrClusters }, (_, c) => ({ count: si.clusterCount[c]!, list: lists[si.clusterFlags[c]!] ?? 'none' })),
    };
  }

  /** SLOB's lists and their pages' free blocks ([address, units] in address order), or null on a SLUB machine. */
  slob(): SlobSnapshot | null {
    const slob = this.m.slob;
    if (slob === null) return null;
    return {
      lists: slobListNames.map((name, l) => ({
        name,
        pages: slob.listPages(l).map((pfn) => ({ pfn, units: this.m.pages.slabCounters[pfn] as number, freeBlocks: slob.freeBlocks(pfn) })),
      })),
      heapPages: slob.heapPages,
      slabPages: slob.slabPagesUnreclaimable,
      freeBytes: slob.freeBytes(),
    };
  }

  /** A SLAB cache's head arrays (their objects), shared array and three slab lists; null on a machine of another design or for an unknown handle. */
  slabLists(cache: number): SlabListsSnapshot | null {
    return slabLists(this.m, cache);
  }

  /** A SLUB cache's per-CPU main and spare sheaves and its barn's full and empty lists; null for a cache without sheaves. */
  sheaves(cache: number): SheavesSnapshot | null {
    return sheavesOf(this.m, cache);
  }

  /** SLAB's caches, newest first as /proc/slabinfo prints them, or null on a machine of another design. */
  slabCaches(): SlabCacheSnapshot[] | null {
    const sc = this.m.slabCaches;
    if (sc === null) return null;
    const out: SlabCacheSnapshot[] = [];
    for (let i = sc.list.length - 1; i >= 0; i--) {
      const e = sc.list[i]!;
      const c = sc.s.caches[e.id]!;
      const r = sc.s.slabinfo(e.id);
      out.push({
        handle: e.handle,
        name: e.name,
        objsize: c.g.size,
        objperslab: c.g.num,
        order: c.g.gfporder,
        colours: c.g.colour,
        freelist: c.g.placement,
        limit: c.limit,
        batchcount: c.batchcount,
        shared: c.shared,
        cpuAvail: [...c.acAvail],
        sharedAvail: c.sharedAvail,
        activeObjs: r.activeObjs,
        numObjs: r.numObjs,
        activeSlabs: r.activeSlabs,
        numSlabs: r.numSlabs,
      });
    }
    return out;
  }

  /** Every cache /proc/slabinfo lists, newest first as the kernel prints them. */
  caches(): CacheSnapshot[] {
    const slab = this.m.slab;
    const cf = this.m.slub.cf;
    const ids = slab.slabCaches;
    return slabinfoRows(slab).map((row, i) => {
      const id = ids[ids.length - 1 - i] as number;
      const r = id * CF.FIELDS;
      return {
        handle: slab.handleOf(id),
        name: row.name,
        objectSize: cf[r + CF.OBJECT_SIZE] as number,
        size: row.objsize,
        align: cf[r + CF.ALIGN] as number,
        order: cf[r + CF.ORDER] as number,
        objsPerSlab: row.objperslab,
        activeObjs: row.activeObjs,
        numObjs: row.numObjs,
        slabs: row.numSlabs,
      };
    });
  }

  // ───────────── memory pressure (src/inspect_pressure.ts) ─────────────

  /**
   * The node's five LRU lists (enum lru_list order), each with its count and
   * its first `n` pages from the head and last `n` up to the tail; [] before
   * the machine has a vm half.
   */
  lruLists(n = 32): LruListSnapshot[] {
    if (typeof n !== 'number' || !Number.isInteger(n) || n < 0) throw new RangeError(`n: expected an integer >= 0, got ${String(n)}`);
    const vm = this.vm();
    return vm === null ? [] : lruLists(this.m, vm, n);
  }

  /** Every file with pages in the page cache, by inode number, with each page's index and flags; [] without a vm half. */
  pageCache(): PageCacheFile[] {
    const vm = this.vm();
    return vm === null ? [] : pageCacheFiles(this.m, vm);
  }

  /** kswapd's state (runs, failures, node_unreclaimable) and the reclaim counters; null without a vm half. */
  reclaim(): ReclaimSnapshot | null {
    const vm = this.vm();
    return vm === null ? null : reclaimSnapshot(vm);
  }

  /** The populated zones. */
  zones(): ZoneSnapshot[] {
    const zs = this.m.pageAlloc.zones;
    const out: ZoneSnapshot[] = [];
    for (let z = 0; z < MAX_NR_ZONES; z++) {
      if (!zs.populated(z)) continue;
      const nrFree: number[] = [];
      for (let o = 0; o < NR_PAGE_ORDERS; o++) nrFree.push(zs.nrFree[z * NR_PAGE_ORDERS + o] as number);
      out.push({
        zone: z,
        name: zoneNames[z] as string,
        startPfn: zs.get(z, Z_START_PFN),
        spanned: zs.get(z, Z_SPANNED),
        present: zs.get(z, Z_PRESENT),
        managed: zs.get(z, Z_MANAGED),
        pcpPages: this.m.pageAlloc.pcpPages(z),
        free: zs.get(z, Z_FREE),
        watermarks: { min: zs.get(z, Z_WMARK + WMARK_MIN), low: zs.get(z, Z_WMARK + WMARK_LOW), high: zs.get(z, Z_WMARK + WMARK_HIGH) },
        nrFree,
      });
    }
    return out;
  }

  /** One page frame. */
  page(pfn: number): PageSnapshot {
    if (typeof pfn !== 'number' || !Number.isInteger(pfn) || pfn < 0 || pfn >= this.m.phys.nrPages) {
      throw new RangeError(`pfn: expected an integer 0..${this.m.phys.nrPages - 1}, got ${String(pfn)}`);
    }
    const p = this.m.pages;
    const h = p.head[pfn] as number;
    const head = h < 0 ? pfn : h;
    const type = p.pageType[head] as number;
    const cacheId = type === PGTY_slab && this.m.allocator === 'slub' ? (p.slabCache[head] as number) : -1; // SLUB's caches only
    return {
      pfn,
      addr: pfn * PAGE_SIZE,
      type: pageTypeNames[type] ?? '',
      order: p.order[pfn] as number,
      refcount: p.refcount[pfn] as number,
      head,
      cache: cacheId >= 0 ? (this.m.slub.caches[cacheId]?.name ?? null) : null,
      cacheId: cacheId >= 0 ? this.m.slab.handleOf(cacheId) : -1,
    };
  }

  /** KASAN's shadow bytes for [addr, addr + len) (one per 8 bytes), or null without KASAN. */
  shadow(addr: number, len: number): Uint8Array | null {
    const kasan = this.m.kasan;
    if (kasan === null) return null;
    if (!Number.isInteger(addr) || !Number.isInteger(len) || addr < 0 || len < 0 || addr + len > this.m.phys.size) {
      throw new RangeError(`addr: [${String(addr)}, +${String(len)}) is outside physical memory`);
    }
    return kasan.sh.slice(addr >>> 3, (addr + len + 7) >>> 3);
  }

  /** Is generic KASAN on in this machine? */
  get kasanEnabled(): boolean {
    return this.m.kasan !== null;
  }

  /** Is CONFIG_SLUB_STATS on (slubStats at boot)? */
  get slubStatsEnabled(): boolean {
    return this.m.slub.statsOn;
  }

  /** Lines in the printk ring (what k.dmesg() would return, counted without copying them). */
  get printkLines(): number {
    return this.m.printk.length;
  }

  // ───────────────────────── caches ─────────────────────────

  /** The handles of every live cache (slab_caches), oldest first. */
  cacheIds(): number[] {
    return this.m.slab.slabCaches.map((id) => this.m.slab.handleOf(id));
  }

  /** A cache's name, or null for no such handle. */
  cacheName(cache: number): string | null {
    const slob = this.m.slobCaches ?? this.m.slabCaches;
    if (slob !== null) return slob.list.find((c) => c.handle === cache)?.name ?? null;
    const id = cache & KmemHandle.ID_MASK;
    return typeof cache === 'number' && this.m.slub.cf[id * CF.FIELDS + CF.HANDLE] === cache ? (this.m.slub.caches[id]?.name ?? null) : null;
  }

  /** /proc/slabinfo's rows (newest cache first), each with the cache's handle, KiB and use. */
  slabinfo(): SlabinfoEntry[] {
    const ids = this.m.slab.slabCaches;
    return slabinfoRows(this.m.slab).map((r, i) => ({
      ...r,
      id: this.m.slab.handleOf(ids[ids.length - 1 - i] as number),
      cacheKb: (r.numSlabs * r.pagesperslab * PAGE_SIZE) / 1024,
      use: r.numObjs ? Math.floor((r.activeObjs * 100) / r.numObjs) : 0,
    }));
  }

  /** A cache's slot layout and tunables. */
  cacheGeometry(cache: number): CacheGeometry {
    const id = this.idOf(cache);
    const cf = this.m.slub.cf;
    const r = id * CF.FIELDS;
    const flags = cf[r + CF.FLAGS] as number;
    return {
      name: this.m.slub.caches[id]?.name ?? String(id),
      objectSize: cf[r + CF.OBJECT_SIZE] as number,
      size: cf[r + CF.SIZE] as number,
      offset: cf[r + CF.OFFSET] as number,
      inuseBytes: cf[r + CF.INUSE] as number,
      redLeftPad: cf[r + CF.RED_LEFT_PAD] as number,
      align: cf[r + CF.ALIGN] as number,
      order: cf[r + CF.ORDER] as number,
      objects: cf[r + CF.OBJECTS] as number,
      minPartial: cf[r + CF.MIN_PARTIAL] as number,
      cpuPartial: cf[r + CF.CPU_PARTIAL] as number,
      cpuPartialSlabs: cf[r + CF.CPU_PARTIAL_SLABS] as number,
      flags,
      redZone: (flags & SLAB_RED_ZONE) !== 0,
      poison: (flags & SLAB_POISON) !== 0,
    };
  }

  /** A cache's slab and object counts. */
  cacheCounters(cache: number): CacheCounters {
    const id = this.idOf(cache);
    const cf = this.m.slub.cf;
    const r = id * CF.FIELDS;
    const nrSlabs = cf[r + CF.NR_SLABS] as number;
    return {
      nrSlabs,
      nrPartial: cf[r + CF.NR_PARTIAL] as number,
      totalObjects: cf[r + CF.TOTAL_OBJECTS] as number,
      allocs: this.m.slub.allocsOf(id),
      frees: this.m.slub.freesOf(id),
      pages: nrSlabs * 2 ** (cf[r + CF.ORDER] as number),
    };
  }

  /** Each CPU's kmem_cache_cpu for a cache: its cpu slab, c->freelist and cpu partial list. */
  kmemCacheCpus(cache: number): KmemCacheCpu[] {
    const id = this.idOf(cache);
    const st = this.m.slub.st;
    const out: KmemCacheCpu[] = [];
    for (let cpu = 0; cpu < st.cpus; cpu++) {
      const i = cpu * MAX_CACHES + id;
      out.push({ cpu, slab: st.cpuSlab[i] as number, freelist: st.cpuFreelist[i] as number, partial: this.cpuPartialList(i) });
    }
    return out;
  }

  /** The SLUB_STATS counters of a cache, total and per CPU (null when SLUB_STATS is off). */
  slubStats(cache: number): SlubStatRow[] | null {
    const id = this.idOf(cache);
    if (!this.m.slub.statsOn) return null;
    const st = this.m.slub.st;
    return statNames.map((name, item) => {
      const perCpu: number[] = [];
      let total = 0;
      for (let cpu = 0; cpu < st.cpus; cpu++) {
        const v = st.stats[(cpu * MAX_CACHES + id) * NR_SLUB_STAT_ITEMS + item] as number;
        perCpu.push(v);
        total += v;
      }
      return { name, total, perCpu };
    });
  }

  /** The SLUB_STATS counters of a cache summed over CPUs, indexed as slubStatNames (all 0 when SLUB_STATS is off). */
  slubStatTotals(cache: number): Float64Array {
    const id = this.idOf(cache);
    const out = new Float64Array(NR_SLUB_STAT_ITEMS);
    if (!this.m.slub.statsOn) return out;
    const st = this.m.slub.st;
    for (let cpu = 0; cpu < st.cpus; cpu++) {
      const base = (cpu * MAX_CACHES + id) * NR_SLUB_STAT_ITEMS;
      for (let i = 0; i < NR_SLUB_STAT_ITEMS; i++) out[i] = (out[i] as number) + (st.stats[base + i] as number);
    }
    return out;
  }

  /** kmalloc_slab(): the cache kmalloc(size, gfp) takes its object from, or -1 (size 0 or above KMALLOC_MAX_CACHE_SIZE). */
  kmallocCache(size: number, gfp: number): number {
    if (!Number.isInteger(size) || size <= 0 || size > KMALLOC_MAX_CACHE_SIZE) return -1;
    return this.m.slab.handleOf(this.m.slab.kmallocSlab(size, gfp));
  }

  // ───────────────────────── slabs and objects ─────────────────────────

  /** The slab cache an address lies in and its slab's head pfn: {cache: -1} outside slabs, {head: -1} outside RAM. */
  slabOf(addr: number): { cache: number; head: number } {
    if (!Number.isFinite(addr) || addr < 0 || addr >= this.m.phys.size) return { cache: -1, head: -1 };
    const p = this.m.pages;
    const head = p.compoundHead(Math.floor(addr / PAGE_SIZE));
    return { cache: p.pageType[head] === PGTY_slab ? this.slubHandle(p.slabCache[head] as number) : -1, head };
  }

  /** The index of the object starting at addr in a slab, or -1 if addr is not an object's start. */
  objectIndex(cache: number, slab: number, addr: number): number {
    const id = this.idOf(cache);
    const cf = this.m.slub.cf;
    const r = id * CF.FIELDS;
    const off = addr - slab * PAGE_SIZE - (cf[r + CF.RED_LEFT_PAD] as number);
    const size = cf[r + CF.SIZE] as number;
    if (size <= 0 || off < 0 || off % size !== 0) return -1;
    const i = off / size;
    return i < (this.m.pages.slabObjects[slab] as number) ? i : -1;
  }

  /** The address of object i of a slab. */
  objectAddr(cache: number, slab: number, i: number): number {
    const id = this.idOf(cache);
    const cf = this.m.slub.cf;
    const r = id * CF.FIELDS;
    return slab * PAGE_SIZE + (cf[r + CF.RED_LEFT_PAD] as number) + i * (cf[r + CF.SIZE] as number);
  }

  /** Where a slab of a cache is: a CPU's cpu slab or cpu partial list, the node partial list, or full (on no list). */
  slabWhere(cache: number, head: number): { where: SlabWhere; cpu: number } {
    const id = this.idOf(cache);
    const st = this.m.slub.st;
    for (let cpu = 0; cpu < st.cpus; cpu++) {
      const i = cpu * MAX_CACHES + id;
      if (st.cpuSlab[i] === head) return { where: 'cpu', cpu };
      if (this.cpuPartialList(i).includes(head)) return { where: 'cpu-partial', cpu };
    }
    // A slab on the node partial list carries PG_workingset (slab_set_node_partial()).
    if ((this.m.pages.flags[head] as number) & (1 << PG_workingset)) return { where: 'node-partial', cpu: -1 };
    return { where: 'full', cpu: -1 };
  }

  /** One slab of a cache (by its head pfn): its objects' states and freelists. */
  slab(cache: number, head: number): SlabSnapshot {
    const id = this.idOf(cache);
    const p = this.m.pages;
    if (!Number.isInteger(head) || head < 0 || head >= p.nr || p.pageType[head] !== PGTY_slab || p.slabCache[head] !== id) {
      throw new RangeError(`slab: pfn ${String(head)} is not the head of a slab of cache ${String(id)}`);
    }
    const w = this.slabWhere(cache, head);
    return this.slabSnapshot(id, head, w.where, w.cpu);
  }

  /** Every slab of a cache, by where it is (cpu slabs, cpu partial, node partial, full), with totals and SLUB_STATS. */
  cacheSlabs(cache: number): CacheSlabs {
    const id = this.idOf(cache);
    const st = this.m.slub.st;
    const p = this.m.pages;
    const placed = new Set<number>();
    const cpus: CpuSlabs[] = [];
    for (let cpu = 0; cpu < st.cpus; cpu++) {
      const i = cpu * MAX_CACHES + id;
      const cs = st.cpuSlab[i] as number;
      const slab = cs >= 0 ? this.slabSnapshot(id, cs, 'cpu', cpu) : null;
      if (cs >= 0) placed.add(cs);
      const partial: SlabSnapshot[] = [];
      for (const s of this.cpuPartialList(i)) {
        partial.push(this.slabSnapshot(id, s, 'cpu-partial', cpu));
        placed.add(s);
      }
      cpus.push({ cpu, slab, freelist: st.cpuFreelist[i] as number, partial });
    }
    const nodePartial: SlabSnapshot[] = [];
    let guard = p.nr;
    for (let s = this.m.slub.cf[id * CF.FIELDS + CF.PARTIAL_HEAD] as number; s >= 0 && guard-- > 0; s = p.next[s] as number) {
      nodePartial.push(this.slabSnapshot(id, s, 'node-partial', -1));
      placed.add(s);
    }
    // Full slabs are on no list (unless slub_debug keeps one): find them by scanning struct pages.
    const full: SlabSnapshot[] = [];
    for (let pfn = 0; pfn < p.nr; ) {
      if (p.pageType[pfn] === PGTY_slab) {
        if (p.slabCache[pfn] === id && !placed.has(pfn)) full.push(this.slabSnapshot(id, pfn, 'full', -1));
        pfn += 2 ** (p.order[pfn] as number);
      } else pfn++;
    }
    const totals = { slabs: 0, objects: 0, inuse: 0, handedOut: 0, freeCpu: 0, freeSlab: 0, quarantined: 0 };
    const add = (s: SlabSnapshot) => {
      totals.slabs++;
      totals.objects += s.objects;
      totals.inuse += s.inuse;
      totals.handedOut += s.handedOut;
      totals.freeCpu += s.cpuFreelist.length;
      totals.freeSlab += s.slabFreelist.length;
      for (let i = 0; i < s.objects; i++) if (s.states[i] === OBJ_QUARANTINED) totals.quarantined++;
    };
    for (const c of cpus) {
      if (c.slab) add(c.slab);
      c.partial.forEach(add);
    }
    nodePartial.forEach(add);
    full.forEach(add);
    return { id: cache, geometry: this.cacheGeometry(cache), cpus, nodePartial, full, totals, stats: this.slubStats(cache) };
  }

  // ───────────────────────── page frames ─────────────────────────

  /**
   * Every page frame's state, cache and block head, from struct pages and
   * the pcp lists. `into` (arrays of at least nrPages entries the caller
   * owns) is filled and returned instead of new arrays.
   */
  pageStates(into?: PageStates): PageStates {
    const p = this.m.pages;
    const pa = this.m.pageAlloc;
    const zs = pa.zones;
    const nr = p.nr;
    const out = into ?? { state: new Uint8Array(nr), cache: new Int32Array(nr), head: new Int32Array(nr) };
    if (out.state.length < nr || out.cache.length < nr || out.head.length < nr) throw new RangeError(`into: arrays of at least ${nr} entries expected`);
    const { state, cache, head } = out;
    state.fill(PAGE_RESERVED, 0, nr);
    cache.fill(-1, 0, nr);
    for (let i = 0; i < nr; i++) head[i] = i;
    for (let z = 0; z < MAX_NR_ZONES; z++) {
      if (zs.get(z, Z_PRESENT) <= 0) continue;
      const start = zs.get(z, Z_START_PFN);
      const end = Math.min(nr, start + zs.get(z, Z_SPANNED));
      let pfn = start;
      while (pfn < end) {
        const t = p.pageType[pfn] as number;
        let n = 1;
        let s = PAGE_UNKNOWN;
        if (t === PGTY_buddy) {
          const o = p.order[pfn] as number;
          n = 2 ** o;
          s = PAGE_FREE + o;
        } else if (t === PGTY_slab) {
          n = 2 ** (p.order[pfn] as number);
          s = PAGE_SLAB;
          cache.fill(this.slubHandle(p.slabCache[pfn] as number), pfn, Math.min(end, pfn + n));
        } else if (t === PGTY_large_kmalloc) {
          n = 2 ** (p.order[pfn] as number);
          s = PAGE_LARGE_KMALLOC;
        } else if ((p.refcount[pfn] as number) > 0) {
          n = 2 ** (p.order[pfn] as number);
          s = PAGE_ALLOCATED;
        }
        state.fill(s, pfn, Math.min(end, pfn + n));
        head.fill(pfn, pfn, Math.min(end, pfn + n));
        pfn += n;
      }
    }
    // Pages on pcp lists: refcount 0 and no page type; find them from the lists.
    const per = MAX_NR_ZONES * NR_PCP_LISTS;
    for (let li = 0; li < pa.cpus * per; li++) {
      const n = 2 ** Math.floor((li % NR_PCP_LISTS) / MIGRATE_PCPTYPES);
      let guard = nr;
      for (let pfn = pa.pcpHead[li] as number; pfn >= 0 && guard-- > 0; pfn = p.next[pfn] as number) {
        state.fill(PAGE_PCP, pfn, Math.min(nr, pfn + n));
        head.fill(pfn, pfn, Math.min(nr, pfn + n));
      }
    }
    return out;
  }

  /** The pcp list holding pfn (its CPU, order and migratetype), or null. */
  pcpPlace(pfn: number): PcpPlace | null {
    const pa = this.m.pageAlloc;
    const next = this.m.pages.next;
    const per = MAX_NR_ZONES * NR_PCP_LISTS;
    for (let li = 0; li < pa.cpus * per; li++) {
      const order = Math.floor((li % NR_PCP_LISTS) / MIGRATE_PCPTYPES);
      let guard = this.m.pages.nr;
      for (let x = pa.pcpHead[li] as number; x >= 0 && guard-- > 0; x = next[x] as number) {
        if (pfn >= x && pfn < x + 2 ** order) return { cpu: Math.floor(li / per), order, mt: li % MIGRATE_PCPTYPES };
      }
    }
    return null;
  }

  /** One struct page's fields, with its zone, pageblock migratetype and struct slab. */
  structPage(pfn: number): StructPage {
    this.checkPfn(pfn);
    const p = this.m.pages;
    const pa = this.m.pageAlloc;
    const head = p.compoundHead(pfn);
    const flags = p.flags[pfn] as number;
    let slab: StructPage['slab'] = null;
    if (p.pageType[head] === PGTY_slab && (p.slabCache[head] as number) >= 0 && this.m.allocator === 'slub') {
      const cache = this.m.slab.handleOf(p.slabCache[head] as number);
      const c = p.slabCounters[head] as number;
      const fl = (c & SLAB_FREELIST_MASK) >>> SLAB_FREELIST_SHIFT;
      const w = this.slabWhere(cache, head);
      slab = {
        cache,
        head,
        inuse: c & SLAB_INUSE_MASK,
        objects: p.slabObjects[head] as number,
        frozen: (c & SLAB_FROZEN) !== 0,
        freelist: fl - 1,
        where: w.where,
        cpu: w.cpu,
      };
    }
    const z = pa.pageZone(pfn);
    return {
      pfn,
      flags,
      pageType: p.pageType[pfn] as number,
      order: p.order[pfn] as number,
      refcount: p.refcount[pfn] as number,
      mapcount: p.mapcount[pfn] as number,
      compoundHead: p.head[pfn] as number,
      isHead: (flags & (1 << PG_head)) !== 0,
      index: p.index[pfn] as number,
      lruNext: p.next[pfn] as number,
      lruPrev: p.prev[pfn] as number,
      zone: z >= 0 && z < MAX_NR_ZONES && pa.zones.get(z, Z_PRESENT) > 0 ? z : -1,
      migratetype: this.pageblockMigratetype(pfn),
      slab,
      largeKmallocSize: p.pageType[head] === PGTY_large_kmalloc ? (p.index[head] as number) : 0,
    };
  }

  /** The migratetype of the pageblock holding pfn. */
  pageblockMigratetype(pfn: number): number {
    this.checkPfn(pfn);
    return this.m.pageAlloc.zones.pageblockMt[pfn >>> pageblock_order] as number;
  }

  /** Every pageblock's migratetype, pageblock by pageblock. */
  pageblockMigratetypes(): Uint8Array {
    return this.m.pageAlloc.zones.pageblockMt.slice();
  }

  // ───────────────────────── the buddy allocator ─────────────────────────

  /** Each populated zone's free lists (free blocks per migratetype and order), watermarks and fragmentation indices. */
  freeAreas(): FreeAreaSnapshot[] {
    const pa = this.m.pageAlloc;
    const zs = pa.zones;
    const out: FreeAreaSnapshot[] = [];
    for (let z = 0; z < MAX_NR_ZONES; z++) {
      if (zs.get(z, Z_PRESENT) <= 0) continue;
      const free: number[][] = [];
      for (let mt = 0; mt < MIGRATE_TYPES; mt++) {
        const row: number[] = [];
        for (let o = 0; o < NR_PAGE_ORDERS; o++) row.push(zs.freeCount[listIndex(z, o, mt)] as number);
        free.push(row);
      }
      const nrFree: number[] = [];
      const unusable: number[] = [];
      const extfrag: number[] = [];
      for (let o = 0; o < NR_PAGE_ORDERS; o++) {
        nrFree.push(zs.nrFree[z * NR_PAGE_ORDERS + o] as number);
        const info = fillContigPageInfo(pa, z, o);
        unusable.push(unusableFreeIndex(o, info));
        extfrag.push(fragmentationIndex(o, info));
      }
      out.push({
        zone: z,
        name: zoneNames[z] as string,
        free,
        nrFree,
        freePages: zs.get(z, Z_FREE),
        managed: zs.get(z, Z_MANAGED),
        pcpPages: pa.pcpPages(z),
        wmark: { min: zs.wmark(z, WMARK_MIN), low: zs.wmark(z, WMARK_LOW), high: zs.wmark(z, WMARK_HIGH) },
        unusable,
        extfrag,
      });
    }
    return out;
  }

  /** The page allocator's event counters and free block counts, summed over zones. */
  pageAllocCounters(): PageAllocCounters {
    const pa = this.m.pageAlloc;
    const zs = pa.zones;
    const nrFree: number[] = new Array<number>(NR_PAGE_ORDERS).fill(0);
    let freePages = 0;
    let pcpPages = 0;
    let pgalloc = 0;
    for (let z = 0; z < MAX_NR_ZONES; z++) {
      for (let o = 0; o < NR_PAGE_ORDERS; o++) nrFree[o] = (nrFree[o] as number) + (zs.nrFree[z * NR_PAGE_ORDERS + o] as number);
      freePages += zs.get(z, Z_FREE);
      for (let cpu = 0; cpu < pa.cpus; cpu++) pcpPages += pa.pcp[(cpu * MAX_NR_ZONES + z) * PCP_FIELDS + PCP_COUNT] as number;
      pgalloc += pa.events[EV_PGALLOC + z] as number;
    }
    return { nrFree, freePages, pcpPages, pgalloc, pgfree: (pa.events[EV_PGFREE] as number) + pa.bootFreePages, extfrag: pa.events[EV_EXTFRAG] as number };
  }

  // ───────────────────────── KASAN ─────────────────────────

  /** KASAN's reports so far, deep copies (empty without KASAN). */
  kasanReports(): KasanReport[] {
    const kasan = this.m.kasan;
    return kasan === null ? [] : structuredClone(kasan.reports());
  }

  // ───────────────────────── helpers ─────────────────────────

  /**
   * A cache's directory under /sys/kernel/slab (its name, or the unique id
   * ':A-0000064' of a mergeable cache), and the name tools/mm/slabinfo shows
   * for it (the cache's own name when nothing is merged into it).
   */
  slabSysfs(cache: number): { dir: string; name: string; aliases: number } {
    const id = this.idOf(cache);
    const info = this.m.slub.caches[id];
    if (info === undefined) throw new RangeError(`cache: no cache with id ${id}`);
    const refs = 1 + info.aliases.length;
    return { dir: info.sysfsName, name: info.sysfsName.startsWith(':') && refs === 1 ? info.name : info.sysfsName, aliases: info.aliases.length };
  }

  /** Objects of a cache allocated and not freed (on no freelist, in no quarantine). */
  liveObjects(cache: number): number {
    const id = this.idOf(cache);
    return this.m.slab.liveObjects(id);
  }

  /** slub_debug's alloc/free tracks of the object at addr, as print_tracking() prints them (empty without U). */
  objectTracks(cache: number, addr: number): string[] {
    const id = this.idOf(cache);
    return this.m.slub.debug?.printTracking(id, addr) ?? [];
  }

  /** The cache id behind a handle (kmemCacheCreate/kmemCacheByName/cacheIds), or the error naming `cache`. */
  private idOf(cache: number): number {
    return this.m.slab.cacheOf(cache);
  }

  private checkPfn(pfn: number): void {
    if (typeof pfn !== 'number' || !Number.isInteger(pfn) || pfn < 0 || pfn >= this.m.phys.nrPages) {
      throw new RangeError(`pfn: expected an integer 0..${this.m.phys.nrPages - 1}, got ${String(pfn)}`);
    }
  }

  /** The cpu partial list of kmem_cache_cpu row i, as head pfns. */
  private cpuPartialList(i: number): number[] {
    const out: number[] = [];
    const next = this.m.pages.slabNext;
    let guard = this.m.pages.nr;
    for (let s = this.m.slub.st.cpuPartial[i] as number; s >= 0 && guard-- > 0; s = next[s] as number) out.push(s);
    return out;
  }

  /** Walk a freelist from `head`, as object indexes of `slab`; stops on a pointer outside the slab or a loop. */
  private walkFreelist(id: number, slab: number, head: number, seen: Uint8Array): { list: number[]; corrupt: boolean } {
    const list: number[] = [];
    let corrupt = false;
    for (let a = head; a !== 0; ) {
      const i = this.objectIndex(this.m.slab.handleOf(id), slab, a);
      if (i < 0 || seen[i] === 1) {
        corrupt = true;
        break;
      }
      seen[i] = 1;
      list.push(i);
      a = this.m.slub.getFreepointer(id, a);
    }
    return { list, corrupt };
  }

  /** One slab, with its objects' states and freelists, placed at `where`. */
  private slabSnapshot(id: number, slab: number, where: SlabWhere, cpu: number): SlabSnapshot {
    const p = this.m.pages;
    const slub = this.m.slub;
    const objects = p.slabObjects[slab] as number;
    const counters = p.slabCounters[slab] as number;
    const seen = new Uint8Array(objects);
    const states = new Uint8Array(objects);
    let cpuFreelist: number[] = [];
    let corrupt = false;
    if (where === 'cpu') {
      const w = this.walkFreelist(id, slab, slub.st.cpuFreelist[cpu * MAX_CACHES + id] as number, seen);
      cpuFreelist = w.list;
      corrupt ||= w.corrupt;
    }
    const w = this.walkFreelist(id, slab, slub.slabFreelist(id, slab), seen);
    corrupt ||= w.corrupt;
    for (const i of cpuFreelist) states[i] = OBJ_FREE_CPU;
    for (const i of w.list) states[i] = OBJ_FREE_SLAB;
    const shadow = this.m.kasan?.sh ?? null;
    const accessible = shadow !== null ? new Uint16Array(objects) : null;
    let handedOut = 0;
    const objSize = slub.cf[id * CF.FIELDS + CF.OBJECT_SIZE] as number;
    for (let i = 0; i < objects; i++) {
      if (shadow !== null && accessible !== null) {
        const a = this.objectAddr(this.m.slab.handleOf(id), slab, i);
        accessible[i] = accessibleBytes(shadow, a, objSize);
        if (states[i] === OBJ_ALLOCATED) {
          const b = shadow[a >>> 3];
          if (b === 0xfb || b === 0xfa) states[i] = OBJ_QUARANTINED;
        }
      }
      if (states[i] === OBJ_ALLOCATED) handedOut++;
    }
    return {
      pfn: slab,
      order: p.order[slab] as number,
      objects,
      inuse: counters & SLAB_INUSE_MASK,
      frozen: (counters & SLAB_FROZEN) !== 0,
      where,
      cpu,
      states,
      cpuFreelist,
      slabFreelist: w.list,
      handedOut,
      accessible,
      corrupt,
    };
  }
}

/** Bytes from addr on that KASAN's shadow (one byte per 8 bytes, shadow[addr >> 3]) lets one access, up to max. */
export function accessibleBytes(shadow: Uint8Array, addr: number, max: number): number {
  let n = 0;
  for (let a = addr; n < max; a += 8) {
    const b = shadow[a >>> 3];
    if (b === undefined) break;
    if (b === 0) n += 8;
    else {
      if (b < 8) n += b;
      break;
    }
  }
  return Math.min(n, max);
}
