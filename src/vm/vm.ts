/**
 * The virtual-memory half's state for one Kernel: the slab caches of the
 * process structures, the shared zero page, the page tables' allocator, the
 * process table and the fault counters. Created on first use (k.spawn).
 */

import type { BlockDevice } from '../fs/blkdev.js';
import { RootFs } from '../fs/rootfs.js';
import type { Printk } from '../lib/printk.js';
import type { RateLimit } from '../lib/ratelimit.js';
import type { TimerBase } from '../lib/timer.js';
import type { PhysMem } from '../memory/memblock.js';
import type { PageArray } from '../memory/page.js';
import { PG } from '../memory/page.js';
import { pcpAllocZeroed } from '../page_alloc/fastpath.js';
import { __GFP_COMP, __GFP_ZERO, GFP_HIGHUSER_MOVABLE, GFP_KERNEL } from '../page_alloc/gfp.js';
import { MAX_NR_ZONES, Z_MANAGED } from '../page_alloc/mmzone.js';
import type { PageAlloc } from '../page_alloc/page_alloc.js';
import type { ProcFs } from '../proc/procfs.js';
import type { KmemCacheArgs } from '../slub/slab_common.js';
import { SLAB_ACCOUNT, SLAB_HWCACHE_ALIGN, SLAB_PANIC, SLAB_TYPESAFE_BY_RCU } from '../slub/slab_flags.js';
import { execve } from './binfmt_elf.js';
import { compactNodes, compactVmstat, installCompactionHooks, proactiveCompactTrigger } from './compaction.js';
import { PageCacheIndex, pageCache } from './filemap.js';
import { mmAlloc, Task } from './fork.js';
import { LRU_GEN_ALL_CAPS, lruGenSetCaps } from './lru_gen_sysfs.js';
import { LruEvents, Lruvec } from './mm_inline.js';
import { KStruct, type Mm } from './mm_types.js';
import { VM } from './mman.js';
import { exitOomVictims, OomState, outOfMemory, procPidOomWrite } from './oom_kill.js';
import { globalDirtyLimits, writeback } from './page-writeback.js';
import { PageTables } from './pgtable.js';
import type { AnonUnmapper } from './rmap.js';
import { shmemOf } from './shmem.js';
import { attachSuperBlock, dropSlab } from './shrinker.js';
import { lruFreeFolio } from './swap.js';
import { addToSwap, deleteFromSwapCache, folioFreeSwap, swapCacheLookup, swapWritepage, unmapAnonPte } from './swap_state.js';
import { SWAP_DEVICE, type SwapInfo, swapoff, swapon } from './swapfile.js';
import { procPidRead } from './task_mmu.js';
import { installReclaimHooks, lruVmstat, reclaimState } from './vmscan.js';

/** What shrink_folio_list() asks of swap besides unmapping (src/vm/swap_state.ts). */
export interface ReclaimSwapOps {
  /** get_nr_swap_pages(): free swap slots */
  nrFreeSlots(): number;
  addToSwap(vm: Vm, pfn: number): boolean;
  swapWritepage(vm: Vm, pfn: number): void;
  /** `shadow`: workingset_eviction()'s entry left in the slot (reclaim), or none */
  deleteFromSwapCache(vm: Vm, pfn: number, shadow?: number): void;
}

/** A kmem_cache handle, as the slab API hands it out. */
type KmemCache = number;

/**
 * What the virtual-memory half uses of the machine below it (a booted
 * Kernel is one): the page allocator, struct pages and RAM, the slab API,
 * printk and the procfs it registers /proc/PID in.
 */
export interface VmHost {
  readonly phys: PhysMem;
  readonly pages: PageArray;
  readonly pageAlloc: PageAlloc;
  readonly printk: Printk;
  readonly proc: ProcFs;
  readonly cpus: number;
  readonly currentCpu: number;
  /** the `swap` boot option: bytes of swap partition to swapon (0 or absent: none) */
  readonly swapBytes?: number;
  /** the `lruGen` boot option: the multi-gen LRU holds the evictable folios from boot */
  readonly lruGen?: boolean;
  rand32(): number;
  log(lines: string[]): void;
  /** The task reports name when no Task runs, and the way to name another (the OOM report's dump_stack). */
  readonly task: { readonly pid: number; readonly comm: string };
  setTask(task: { pid?: number; comm?: string }): void;
  dumpStack(): string[];
  slabPages(reclaimable: boolean): number;
  readonly bugs: { ratelimited(rs: RateLimit): boolean };
  syncClock(): void;
  kmemCacheCreate(name: string, size: number, args?: KmemCacheArgs): KmemCache;
  kmemCacheByName(name: string): KmemCache;
  kmemCacheAlloc(cache: KmemCache, gfp: number): number;
  kmemCacheFree(cache: KmemCache, addr: number): void;
  /** timers on the virtual clock (the flusher, the disk's completions) */
  readonly timers: TimerBase;
  /** the `disk` boot option (the block device's size, latency and rate) */
  readonly disk?: { readonly sizeBytes: number; readonly latencyUs: number; readonly mbps: number };
}

/** The caches kernel/fork.c, mm/mmap.c, mm/rmap.c, lib/maple_tree.c and kernel/pid.c create, with 6.18 x86-64 sizes. */
const HW = SLAB_HWCACHE_ALIGN;
const ACC = SLAB_ACCOUNT;
const RCU = SLAB_TYPESAFE_BY_RCU;
const CACHE_SPECS = {
  taskStruct: ['task_struct', 4288, HW | ACC],
  mmStruct: ['mm_struct', 1344, HW | ACC | SLAB_PANIC],
  vma: ['vm_area_struct', 176, HW | ACC | RCU | SLAB_PANIC],
  mapleNode: ['maple_node', 256, HW | SLAB_PANIC],
  anonVma: ['anon_vma', 96, SLAB_PANIC | RCU | ACC],
  avc: ['anon_vma_chain', 64, SLAB_PANIC | ACC],
  pid: ['pid', 112, HW | SLAB_PANIC | ACC],
} as const;

export const KIND_ANON = 1;
export const KIND_FILE = 2;
export const KIND_SHMEM = 3;

export type VmCaches = { [K in keyof typeof CACHE_SPECS]: KmemCache };

export class Vm {
  readonly s: KStruct;
  readonly pt: PageTables;
  readonly caches: VmCaches;
  /** empty_zero_page's frame (the kernel's lives in its image; kmem takes one page at boot of the VM half) */
  readonly zeroPfn: number;
  readonly tasks = new Map<number, Task>();
  nextPid = 1;
  /** vm_event PGFAULT, PGMAJFAULT, PGREUSE (not rendered in /proc/vmstat yet) */
  pgfault = 0;
  pgmajfault = 0;
  pgreuse = 0;
  /** NR_ANON_MAPPED (AnonPages) */
  nrAnonMapped = 0;
  /** NR_FILE_MAPPED (Mapped) */
  nrFileMapped = 0;
  /**
   * kernel.randomize_va_space: 0 none, 1 stack, mmap base and vDSO, 2 also
   * brk. The boot option `aslr` sets it (default 2, as the kernel's); it is
   * the sysctl's value (/proc/sys/kernel/randomize_va_space), kept in procfs.
   */
  get aslr(): number {
    return this.k.proc.sysctl.randomizeVaSpace;
  }
  set aslr(v: number) {
    this.k.proc.sysctl.randomizeVaSpace = v;
  }
  /** vm_event PGPGIN / PGPGOUT: KiB the page cache read from and wrote to the disk (/proc/vmstat's pgpgin, pgpgout) */
  get pgpgin(): number {
    return pageCache(this).pgpgin;
  }
  get pgpgout(): number {
    return pageCache(this).pgpgout;
  }
  /** vm.max_map_count (the sysctl's value) */
  get maxMapCount(): number {
    return this.k.proc.sysctl.maxMapCount;
  }
  set maxMapCount(v: number) {
    this.k.proc.sysctl.maxMapCount = v;
  }
  readonly fs: RootFs;
  init!: Task;
  /** The task whose system call or fault runs now (current); null before any has. */
  current: Task | null = null;
  /** The OOM killer's state (mm/oom_kill.c). */
  readonly oom = new OomState();
  /** vm event OOM_KILL */
  get oomKillCount(): number {
    return this.oom.oomKill;
  }
  /** The swap area (swap_info[0]), or null without swap. */
  swap: SwapInfo | null = null;
  /** page->private by pfn: the swap entry of a swap-cache page */
  readonly pagePrivate: Float64Array;
  /** NR_SWAPCACHE */
  nrSwapcached = 0;
  /** vm events PSWPIN, PSWPOUT, SWAP_RA, SWAP_RA_HIT, SWPIN_ZERO, SWPOUT_ZERO */
  pswpin = 0;
  pswpout = 0;
  swapRa = 0;
  swapRaHit = 0;
  swpinZero = 0;
  swpoutZero = 0;

  /** total_swap_pages */
  get totalSwapPages(): number {
    return this.swap === null ? 0 : this.swap.totalPages;
  }

  /** get_nr_swap_pages(): free swap slots */
  get nrSwapPages(): number {
    return this.swap === null ? 0 : this.swap.nrSwapPages;
  }

  /** The vm events and node counters swap keeps, by /proc/vmstat name; undefined for any other. */
  swapStat(name: string): number | undefined {
    switch (name) {
      case 'nr_swapcached':
        return this.nrSwapcached;
      case 'pswpin':
        return this.pswpin;
      case 'pswpout':
        return this.pswpout;
      case 'swap_ra':
        return this.swapRa;
      case 'swap_ra_hit':
        return this.swapRaHit;
      case 'swpin_zero':
        return this.swpinZero;
      case 'swpout_zero':
        return this.swpoutZero;
      default:
        return undefined;
    }
  }
  /** The node's LRU lists (mm_inline.ts) and the reclaim / workingset counters. */
  readonly lruvec: Lruvec;
  readonly lruEv = new LruEvents();
  /** page->mapping by pfn: the anon_vma's address of an anonymous page, the inode number of a file or shmem page (0 = none). */
  readonly pageMapping: Float64Array;
  /** Every live mm by its mm_struct address (the rmap index reads their VMAs). */
  readonly mms = new Map<number, Mm>();
  /** Bumped whenever a VMA, an anon_vma_chain or an mm comes or goes: the rmap index is rebuilt when it moved. */
  rmapGen = 0;
  /** Swap for reclaim: the anonymous-page operations of src/vm/swap_state.ts while swap has room; null = no swap. */
  reclaimSwap: (AnonUnmapper & ReclaimSwapOps) | null = null;

  /** allocPagesPfn(0, gfp) for a gfp with __GFP_ZERO, its pcp common case written out (src/page_alloc/fastpath.ts). */
  readonly allocZeroedPfn: (gfp: number) => number;

  constructor(readonly k: VmHost) {
    this.allocZeroedPfn = pcpAllocZeroed(k.pageAlloc);
    this.s = new KStruct(k.phys.u32);
    this.pageKind = new Uint8Array(k.phys.nrPages);
    this.pagePrivate = new Float64Array(k.phys.nrPages);
    this.pageMapping = new Float64Array(k.phys.nrPages);
    this.lruvec = new Lruvec(k.pages, (pfn) => k.pageAlloc.pageZone(pfn));
    this.pt = new PageTables(k.phys.u32, k.pages, k.pageAlloc);
    const c = {} as Record<string, KmemCache>;
    for (const [key, [name, size, flags]] of Object.entries(CACHE_SPECS)) {
      const id = k.kmemCacheByName(name);
      c[key] = id >= 0 ? id : k.kmemCacheCreate(name, size, { flags });
    }
    this.caches = c as VmCaches;
    this.zeroPfn = k.pageAlloc.allocPagesPfn(0, GFP_KERNEL | __GFP_ZERO);
    k.pages.flags[this.zeroPfn] = k.pages.flags[this.zeroPfn]! | (1 << PG.reserved);
    this.fs = new RootFs();
    // init (pid 1): its mm maps nothing; every spawn forks it and then execs.
    this.init = new Task(this, this.nextPid++, 'init', null);
    this.init.mm = mmAlloc(this);
    this.tasks.set(1, this.init);
    k.proc.registerDir((path) => procPidRead(this, path));
    k.proc.registerDirWriter((path, text) => procPidOomWrite(this, path, text));
    // __alloc_pages_may_oom(): the page allocator's slow path calls the OOM killer from now on.
    // PF_MEMALLOC: an allocation made by reclaim itself (direct reclaim or kswapd) goes to nopage, never to the OOM killer.
    k.pageAlloc.hooks.outOfMemory = (order, gfp) => !reclaimState(this).inReclaim && outOfMemory(this, order, gfp);
    // show_free_areas()'s page cache and swap lines (the page allocator reads them through its hooks).
    k.pageAlloc.hooks.showMemVmStats = () => ({
      filePages: this.nrFilePages,
      swapCache: this.nrSwapcached,
      freeSwap: this.nrSwapPages,
      totalSwap: this.totalSwapPages,
    });
    k.pageAlloc.hooks.oomVictim = () => this.current?.oomVictim === true && !this.current.exited;
    k.proc.attachVm(this);
    // The page cache and its block device (/proc/diskstats) exist with the vm half, the flusher with them, and the tmpfs at /dev/shm.
    pageCache(this);
    writeback(this);
    shmemOf(this);
    // kswapd and direct reclaim: the page allocator's slow path calls up into vmscan.
    installReclaimHooks(this);
    if (k.lruGen === true) lruGenSetCaps(this, LRU_GEN_ALL_CAPS);
    // Direct compaction in the slow path, and /proc/sys/vm/compact_memory.
    installCompactionHooks(this);
    attachSuperBlock(this);
    if ((k.swapBytes ?? 0) > 0) this.swapon(SWAP_DEVICE);
  }

  /**
   * swapon(2) of the swap partition (the `swap` boot option's size): 0,
   * -EINVAL for another path or without a swap partition, -EBUSY when on.
   */
  swapon(path: string): number {
    if (typeof path !== 'string') throw new TypeError(`path: expected a string, got ${typeof path}`);
    if (path !== SWAP_DEVICE || (this.k.swapBytes ?? 0) <= 0) return -22;
    if (this.swap !== null) return -16;
    const si = swapon(this, this.k.swapBytes!);
    // cluster_scan_range()'s reclaim of a slot only its swap-cache page holds (swap over half full).
    si.reclaimCacheOnly = (offset) => {
      const pfn = swapCacheLookup(si, offset);
      return pfn >= 0 && folioFreeSwap(this, pfn);
    };
    this.swap = si;
    // shrink_folio_list()'s swap operations (src/vm/vmscan.ts)
    this.reclaimSwap = { nrFreeSlots: () => si.nrSwapPages, addToSwap, swapWritepage, deleteFromSwapCache, unmapAnonPte };
    return 0;
  }

  /** swapoff(2) (src/vm/swapfile.ts): 0 or -errno. */
  swapoff(path: string): number {
    if (typeof path !== 'string') throw new TypeError(`path: expected a string, got ${typeof path}`);
    return swapoff(this, path);
  }

  /** fork from init, then execve: the new Task. Throws (with errno) when execve fails. */
  spawn(path: string, argv: string[] = [path], envp: string[] = []): Task {
    if (typeof path !== 'string') throw new TypeError(`path: expected a string, got ${typeof path}`);
    if (!Array.isArray(argv) || argv.some((a) => typeof a !== 'string')) throw new TypeError('argv: expected an array of strings');
    if (!Array.isArray(envp) || envp.some((a) => typeof a !== 'string')) throw new TypeError('envp: expected an array of strings');
    const t = this.init.fork();
    this.current = t;
    const r = execve(this, t, path, argv, envp);
    this.current = null;
    if (r < 0) {
      t.doExit((-r & 0xff) << 8);
      const err = new Error(`execve ${path}: error ${-r}`) as Error & { errno: number };
      err.errno = -r;
      throw err;
    }
    return t;
  }

  /** Every live task but init, by pid. */
  list(): Task[] {
    exitOomVictims(this);
    return [...this.tasks.values()].filter((t) => t.pid !== 1);
  }

  /**
   * What page->mapping would say of each frame user memory uses, by pfn:
   * KIND_ANON (an anon_vma), KIND_FILE (a file's page cache), KIND_SHMEM (a
   * shmem inode), 0 for anything else.
   */
  readonly pageKind: Uint8Array;
  /** NR_SHMEM */
  nrShmem = 0;

  /** Is the inode a shmem one (tmpfs under /dev/shm, or behind MAP_SHARED|MAP_ANONYMOUS)? */
  isShmem(ino: number): boolean {
    return shmemOf(this).isShmem(ino);
  }

  /** shmem_zero_setup()'s inodes that VMAs still hold: ino -> their references and i_size */
  get shmemRefs(): ReadonlyMap<number, unknown> {
    return shmemOf(this).zero;
  }

  /**
   * get_file() for a VMA: v maps inode ino. The VMA joins the mapping's
   * i_mmap and holds the inode (an open file description's reference): a
   * file unlinked or closed while mapped lives until its last VMA goes.
   */
  fileGet(ino: number, v: number): void {
    pageCache(this).mapping(ino).iMmap.add(v);
    const sh = shmemOf(this);
    if (sh.zero.has(ino)) sh.zeroGet(ino);
    else {
      const inode = this.fs.byIno(ino);
      if (inode !== undefined) inode.opens++;
    }
  }

  /** fput() of a VMA's file: out of i_mmap; the last reference to an unlinked inode frees it and its pages. */
  filePut(ino: number, v: number): void {
    pageCache(this).spaces.get(ino)?.iMmap.delete(v);
    const sh = shmemOf(this);
    if (sh.zero.has(ino)) sh.zeroPut(ino);
    else {
      const inode = this.fs.byIno(ino);
      if (inode === undefined) return;
      inode.opens--;
      this.fs.maybeEvict(inode);
    }
  }

  /** NR_FILE_DIRTY, NR_WRITEBACK, NR_DIRTIED, NR_WRITTEN (the page cache keeps them) */
  get nrFileDirty(): number {
    return pageCache(this).nrDirty;
  }
  get nrWriteback(): number {
    return pageCache(this).nrWriteback;
  }
  get nrDirtied(): number {
    return pageCache(this).nrDirtied;
  }
  get nrWritten(): number {
    return pageCache(this).nrWritten;
  }
  /** global_dirty_limits(): [thresh, bg_thresh] in pages */
  dirtyThresholds(): [number, number] {
    const l = globalDirtyLimits(this);
    return [l.thresh, l.bgThresh];
  }

  /** The Mm whose mm_struct object is at addr (a VMA's vm_mm), or null. */
  mmByAddr(addr: number): Mm | null {
    for (const t of this.tasks.values()) if (t.mm !== null && t.mm.addr === addr) return t.mm;
    return null;
  }

  /** The page cache of the root file system's files: (inode, index) -> pfn. */
  readonly pageCache = new PageCacheIndex(this);
  /** NR_FILE_PAGES */
  nrFilePages = 0;

  /** vm.overcommit_memory (0 heuristic, 1 always, 2 never), vm.overcommit_ratio, vm.overcommit_kbytes: the sysctls' values */
  get overcommitMemory(): number {
    return this.k.proc.sysctl.overcommitMemory;
  }
  set overcommitMemory(v: number) {
    this.k.proc.sysctl.overcommitMemory = v;
  }
  get overcommitRatio(): number {
    return this.k.proc.sysctl.overcommitRatio;
  }
  set overcommitRatio(v: number) {
    this.k.proc.sysctl.overcommitRatio = v;
  }
  get overcommitKbytes(): number {
    return this.k.proc.sysctl.overcommitKbytes;
  }
  set overcommitKbytes(v: number) {
    this.k.proc.sysctl.overcommitKbytes = v;
  }

  /** totalram_pages(): the zones' managed pages */
  totalramPages(): number {
    let n = 0;
    for (let z = 0; z < MAX_NR_ZONES; z++) n += this.k.pageAlloc.zones.get(z, Z_MANAGED);
    return n;
  }

  /** vm_commit_limit() in pages (no hugetlb yet): CommitLimit, swap included. */
  commitLimit(): number {
    if (this.overcommitKbytes !== 0) return Math.floor(this.overcommitKbytes / 4) + this.totalSwapPages;
    return Math.trunc((this.totalramPages() * this.overcommitRatio) / 100) + this.totalSwapPages;
  }

  /** drop_caches 1: invalidate_mapping_pages() over every regular file's page cache (clean, unmapped pages); the pages dropped. */
  dropPagecache(): number {
    return pageCache(this).dropPagecache();
  }

  /** drop_slab() (drop_caches 2): the objects the shrinkers freed */
  dropSlab(): number {
    return dropSlab(this);
  }

  /**
   * vm_committed_as in pages (Committed_AS): what the VM_ACCOUNT mappings of
   * every process charge, summed over their VMAs (the charges and uncharges
   * the kernel makes keep it equal to that sum).
   */
  committedAs(): number {
    let n = 0;
    for (const t of this.tasks.values()) {
      const mm = t.mm;
      if (mm === null) continue;
      for (const v of mm.vmas) if ((this.s.vmFlags(v) & VM.ACCOUNT) !== 0) n += (this.s.vmEnd(v) - this.s.vmStart(v)) / 4096;
    }
    return n;
  }

  /**
   * __vm_enough_memory(): may `pages` more be committed? kmem's tasks are
   * root (cap_sys_admin: no admin reserve). On refusal the kernel's warning.
   */
  enoughMemory(t: Task, pages: number): boolean {
    if (this.overcommitMemory === 1) return true;
    let ok: boolean;
    if (this.overcommitMemory === 0) {
      ok = pages <= this.totalramPages() + this.totalSwapPages;
    } else {
      let allowed = this.commitLimit();
      // user_reserve_kbytes: min(3% of free memory, 128 MiB) at boot; taken as 1/32 of total RAM, capped.
      const reserve = Math.min(Math.floor(this.totalramPages() / 32), 32768);
      if (t.mm !== null) allowed -= Math.min(Math.floor(t.mm.totalVm / 32), reserve);
      ok = this.committedAs() + pages < allowed;
    }
    if (!ok) this.k.log([`__vm_enough_memory: pid: ${t.pid}, comm: ${t.comm}, bytes: ${pages * 4096} not enough memory for the allocation`]);
    return ok;
  }

  /** kmem_cache_alloc(GFP_KERNEL) that must succeed (the structures of a process). */
  alloc(cache: KmemCache): number {
    const a = this.k.kmemCacheAlloc(cache, GFP_KERNEL);
    if (a === 0) throw new Error('kmem: out of memory for a process structure');
    return a;
  }

  /**
   * A new anonymous page for user memory, zeroed or not; -1 when memory is
   * out. vma_alloc_folio()'s mask: GFP_HIGHUSER_MOVABLE | __GFP_COMP, with
   * __GFP_ZERO for a zeroed one (vma_alloc_zeroed_movable_folio), as an OOM
   * report prints it.
   */
  allocUserPage(zero: boolean): number {
    const pfn = zero
      ? this.allocZeroedPfn(GFP_HIGHUSER_MOVABLE | __GFP_COMP | __GFP_ZERO)
      : this.k.pageAlloc.allocPagesPfn(0, GFP_HIGHUSER_MOVABLE | __GFP_COMP);
    if (pfn < 0) return -1;
    this.pageKind[pfn] = KIND_ANON;
    this.k.pages.flags[pfn] = this.k.pages.flags[pfn]! | (1 << PG.swapbacked) | (1 << PG.uptodate);
    return pfn;
  }

  /** put_page(): drop a reference; the last one frees the frame. */
  putPage(pfn: number): void {
    const rc = this.k.pages.refcount;
    if (rc[pfn]! <= 1) {
      lruFreeFolio(this, pfn);
      this.pageKind[pfn] = 0;
      this.pageMapping[pfn] = 0;
      this.k.pageAlloc.freePagesPfn(pfn, 0);
    } else rc[pfn] = rc[pfn]! - 1;
  }

  /** The compaction and migration events /proc/vmstat prints (compact_*, pgmigrate_*). */
  compactStat(name: string): number | undefined {
    return compactVmstat(this, name);
  }

  /** compact_nodes(): what a write of 1 to /proc/sys/vm/compact_memory does. */
  compactMemory(): void {
    compactNodes(this);
  }

  /** The machine's disk (vda, with vda1 and vda2 when swap is on it), for /proc/partitions. */
  blockDevices(): readonly BlockDevice[] {
    return [pageCache(this).bdev];
  }

  /** A write of a non-zero vm.compaction_proactiveness: kcompactd wakes for a proactive pass. */
  proactiveCompactTrigger(): void {
    proactiveCompactTrigger(this);
  }

  /** The LRU / reclaim / workingset counters /proc/vmstat and /proc/zoneinfo print (zone -1: node items and events). */
  lruStat(name: string, zone: number): number | undefined {
    return lruVmstat(this, name, zone);
  }

  /** vm_stat_account(): total_vm and the exec/stack/data split. */
  statAccount(mm: Mm, flags: number, npages: number): void {
    mm.totalVm += npages;
    if ((flags & (VM.EXEC | VM.WRITE | VM.GROWSDOWN)) === VM.EXEC) mm.execVm += npages;
    else if ((flags & VM.GROWSDOWN) === VM.GROWSDOWN) mm.stackVm += npages;
    else if ((flags & (VM.WRITE | VM.SHARED | VM.GROWSDOWN)) === VM.WRITE) mm.dataVm += npages;
  }
}
