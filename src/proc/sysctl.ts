/**
 * /proc/sys/vm/* and /proc/sys/kernel/randomize_va_space: the knobs kmem
 * models, with the kernel's parsers and bounds (kernel/sysctl.c
 * proc_dointvec, proc_dointvec_minmax, proc_doulongvec_minmax; the tables of
 * mm/util.c, mm/mmap.c, mm/page_alloc.c, fs/drop_caches.c, kernel/sysctl.c)
 * and the side effects of their handlers.
 *
 * The values live here, in the procfs every machine has from boot, so that a
 * knob can be read and written before the virtual-memory half exists; the
 * vm half (src/vm/vm.ts) reads them through accessors.
 *
 * A write that the kernel refuses throws an Error with the kernel's errno
 * (`code: 'EINVAL'`, `errno: 22`) and changes nothing.
 */

import {
  MAX_NR_ZONES,
  WMARK_HIGH,
  WMARK_LOW,
  WMARK_MIN,
  WMARK_PROMO,
  Z_BOOST,
  Z_MANAGED,
  Z_PCP_BATCH,
  Z_PCP_HIGH_MAX,
  Z_PCP_HIGH_MIN,
  Z_WMARK,
  ZONE_MOVABLE,
  type Zones,
} from '../page_alloc/mmzone.js';
import { type PageAlloc, PCP_BATCH, PCP_FIELDS, PCP_HIGH_MAX, PCP_HIGH_MIN } from '../page_alloc/page_alloc.js';
import { zoneSetPagesetHighAndBatch } from '../page_alloc/watermark.js';
import type { GendiskView } from './partitions.js';

export const EINVAL = 22;
export const EACCES = 13;
export const EIO = 5;
export const ERANGE = 34;

const INT_MAX = 2 ** 31 - 1;
const INT_MIN = -(2 ** 31);
const ULONG_MAX = 2n ** 64n - 1n;

/** An Error carrying the errno the kernel's write(2) or read(2) would return. */
export function errnoError(path: string, code: 'EINVAL' | 'EACCES' | 'EIO' | 'ERANGE', errno: number, what: string): Error {
  const err = new Error(`${path}: ${what}`) as Error & { code: string; errno: number };
  err.code = code;
  err.errno = errno;
  return err;
}

/** The vm-half counters and page cache the /proc files read (src/vm/vm.ts's Vm has them). */
export interface VmCounters {
  readonly pt: { readonly nrPageTables: number };
  readonly nrAnonMapped: number;
  readonly nrFileMapped: number;
  readonly nrShmem: number;
  nrFilePages: number;
  readonly pgfault: number;
  readonly pgmajfault: number;
  readonly pgreuse: number;
  /** KiB read from / written to the disk (vmstat_start() shows the sector counts halved) */
  readonly pgpgin?: number;
  readonly pgpgout?: number;
  readonly pageCache: { get(key: number): number | undefined; has(key: number): boolean; readonly size: number };
  /** What each frame holds, by pfn: 1 anonymous, 2 file page cache, 3 shmem (KIND_* of src/vm/vm.ts), 0 else. */
  readonly pageKind: Uint8Array;
  isShmem(ino: number): boolean;
  putPage(pfn: number): void;
  /** drop_caches 1: invalidate_mapping_pages() over every regular file's cache; the pages dropped. */
  dropPagecache(): number;
  /** drop_slab(): every shrinker at priority 0 until little more is freed (src/vm/shrinker.ts) */
  dropSlab?(): number;
  committedAs(): number;
  commitLimit(): number;
  /** vm event OOM_KILL (mm/oom_kill.c) */
  readonly oomKillCount?: number;
  /** swap (src/vm/swapfile.ts, swap_state.ts): NR_SWAPCACHE, total_swap_pages, free slots, the area's /proc/swaps line */
  readonly nrSwapcached?: number;
  readonly totalSwapPages?: number;
  readonly nrSwapPages?: number;
  readonly swap?: { swapsLine(): string } | null;
  /** compaction's and migration's vm events by name (compact_*, pgmigrate_*); undefined for others */
  compactStat?(name: string): number | undefined;
  /** compact_nodes(): a write of 1 to /proc/sys/vm/compact_memory */
  compactMemory?(): void;
  /** the block devices (/proc/partitions) */
  blockDevices?(): readonly GendiskView[];
  /** compaction_proactiveness_sysctl_handler()'s wake-up of kcompactd after a write of a non-zero value */
  proactiveCompactTrigger?(): void;
  /** swap's vmstat counters by name (nr_swapcached, pswpin, pswpout, swap_ra, swap_ra_hit, swpin_zero, swpout_zero); undefined for others */
  swapStat?(name: string): number | undefined;
  /** The LRU lists' sizes and the reclaim / workingset counters by /proc/vmstat name: zone >= 0 a zone item, -1 a node item or event; undefined if not the LRU's. */
  lruStat(name: string, zone: number): number | undefined;
  /** NR_FILE_DIRTY, NR_WRITEBACK, NR_DIRTIED, NR_WRITTEN */
  readonly nrFileDirty?: number;
  readonly nrWriteback?: number;
  readonly nrDirtied?: number;
  readonly nrWritten?: number;
  /** global_dirty_limits(): [thresh, bg_thresh] in pages */
  dirtyThresholds?(): [number, number];
}

/** What the handlers touch of the machine. */
export interface SysctlHost {
  readonly pageAlloc: PageAlloc;
  /** vm.min_free_kbytes as it stands (the Machine's field, written back here). */
  minFreeKbytes?: number;
  readonly task?: { readonly pid: number; readonly comm: string };
  readonly bugs?: { log(lines: readonly string[]): void };
}

/**
 * proc_get_long() as the proc_do*vec writers use it: optional spaces, an
 * optional '-', a number in C's base-0 notation (0x hex, leading-0 octal,
 * decimal), then whitespace or the end; anything else is -EINVAL. Returns
 * the value as a BigInt (so an unsigned long fits), negative if '-' was given.
 */
function parseOne(path: string, text: string): bigint {
  const m = /^[ \t\n]*(-?)(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)(?:[ \t\n]|$)/.exec(text);
  if (m === null) throw errnoError(path, 'EINVAL', EINVAL, `invalid value ${JSON.stringify(text)}`);
  const digits = m[2]!;
  let v: bigint;
  if (/^0[xX]/.test(digits)) v = BigInt(digits);
  else if (digits.length > 1 && digits[0] === '0') v = BigInt(`0o${digits.slice(1)}`);
  else v = BigInt(digits);
  if (v > ULONG_MAX) throw errnoError(path, 'EINVAL', EINVAL, `value out of range ${JSON.stringify(text)}`);
  return m[1] === '-' ? -v : v;
}

/** proc_dointvec_minmax (min/max undefined: proc_dointvec): an int in [min, max], else -EINVAL. */
function parseInt32(path: string, text: string, min = INT_MIN, max = INT_MAX): number {
  const v = parseOne(path, text);
  if (v < BigInt(INT_MIN) || v > BigInt(INT_MAX) || v < BigInt(min) || v > BigInt(max)) {
    throw errnoError(path, 'EINVAL', EINVAL, `${v} is outside ${min}..${max}`);
  }
  return Number(v);
}

/** proc_doulongvec_minmax without bounds: an unsigned long; a '-' is -EINVAL. */
function parseUlong(path: string, text: string): number {
  const v = parseOne(path, text);
  if (v < 0n) throw errnoError(path, 'EINVAL', EINVAL, `negative value ${v}`);
  return Number(v);
}

/**
 * __setup_per_zone_wmarks() with a watermark_scale_factor: each zone's share
 * of min_free_kbytes by managed pages (ZONE_MOVABLE gets a small fixed min),
 * low/high/promo each a further max(min/4, managed * factor / 10000);
 * any watermark boost is dropped.
 */
export function setupWmarks(zones: Zones, minFreeKbytes: number, scaleFactor: number): void {
  const pagesMin = minFreeKbytes >> 2;
  let lowmemPages = 0;
  for (let z = 0; z < MAX_NR_ZONES; z++) if (z !== ZONE_MOVABLE) lowmemPages += zones.get(z, Z_MANAGED);
  for (let z = 0; z < MAX_NR_ZONES; z++) {
    const managed = zones.get(z, Z_MANAGED);
    const share = lowmemPages > 0 ? Math.floor((pagesMin * managed) / lowmemPages) : 0;
    const min = z === ZONE_MOVABLE ? Math.min(Math.max(Math.floor(managed / 1024), 32), 128) : share;
    const step = Math.max(share >> 2, Math.floor((managed * scaleFactor) / 10000));
    zones.set(z, Z_WMARK + WMARK_MIN, min);
    zones.set(z, Z_WMARK + WMARK_LOW, min + step);
    zones.set(z, Z_WMARK + WMARK_HIGH, min + 2 * step);
    zones.set(z, Z_WMARK + WMARK_PROMO, min + 3 * step);
    zones.set(z, Z_BOOST, 0);
  }
}

type Knob = { read?: () => string; write?: (text: string) => void };

export class Sysctl {
  /** vm.overcommit_memory: 0 heuristic, 1 always, 2 never */
  overcommitMemory = 0;
  overcommitRatio = 50;
  overcommitKbytes = 0;
  /** DEFAULT_MAX_MAP_COUNT */
  maxMapCount = 65530;
  /** vm.swappiness (mm/vmscan.c vm_swappiness): 0..MAX_SWAPPINESS (200), default 60 */
  swappiness = 60;
  watermarkScaleFactor = 10;
  /**
   * vm.page-cluster: swap readahead reads up to 2^page_cluster pages.
   * swap_setup() makes it 3 (2 below 16 MiB of RAM, smaller than any kmem machine).
   */
  pageCluster = 3;
  /** kernel.randomize_va_space; the boot option `aslr` sets it (default 2, as the kernel's). */
  randomizeVaSpace = 2;
  /** vm.vfs_cache_pressure and vm.vfs_cache_pressure_denom (fs/dcache.c): the superblock shrinker's count is scaled by their ratio */
  vfsCachePressure = 100;
  vfsCachePressureDenom = 100;
  /** vm.drop_caches: the last value written (the file is write-only) */
  dropCaches = 0;
  /** vm events DROP_PAGECACHE and DROP_SLAB */
  dropPagecache = 0;
  dropSlab = 0;
  /**
   * The writeback knobs (mm/page-writeback.c, fs/fs-writeback.c) with their
   * defaults: a dirty_*_bytes knob, when non-zero, replaces its ratio (and
   * writing one zeroes the other, as the handlers do).
   */
  dirtyRatio = 20;
  dirtyBackgroundRatio = 10;
  dirtyBytes = 0;
  dirtyBackgroundBytes = 0;
  dirtyWritebackCentisecs = 500;
  dirtyExpireCentisecs = 3000;
  dirtytimeExpireSeconds = 12 * 60 * 60;
  /** dirty_writeback_centisecs_handler's wakeup_flusher_threads(WB_REASON_PERIODIC) (the vm half sets it) */
  onDirtyWritebackChange: (() => void) | null = null;
  /** dirty_ratio_handler's / dirty_bytes_handler's writeback_set_ratelimit() (the vm half sets it) */
  onDirtyLimitChange: (() => void) | null = null;
  /** mm/oom_kill.c: vm.panic_on_oom (0..2), vm.oom_kill_allocating_task, vm.oom_dump_tasks (default 1) */
  panicOnOom = 0;
  oomKillAllocatingTask = 0;
  oomDumpTasks = 1;
  /** mm/compaction.c: vm.extfrag_threshold (0..1000, default 500), vm.compact_unevictable_allowed (0..1, default 1) */
  extfragThreshold = 500;
  compactUnevictableAllowed = 1;
  /** mm/compaction.c: vm.compaction_proactiveness (0..100, default 20; 0 disables proactive compaction) */
  compactionProactiveness = 20;
  /** drop_caches' "stfu": bit 4 once written silences the message for good */
  private stfu = 0;
  readonly knobs = new Map<string, Knob>();

  constructor(
    private readonly host: SysctlHost,
    private readonly vm: () => VmCounters | null,
  ) {
    const int = (path: string, get: () => number, set: (v: number) => void, min?: number, max?: number) =>
      this.knobs.set(path, { read: () => `${get()}\n`, write: (t) => set(parseInt32(path, t, min, max)) });
    // mm/util.c: overcommit_policy_handler (0..2), overcommit_ratio_handler (proc_dointvec; clears
    // overcommit_kbytes), overcommit_kbytes_handler (proc_doulongvec_minmax; clears overcommit_ratio).
    int(
      '/proc/sys/vm/overcommit_memory',
      () => this.overcommitMemory,
      (v) => {
        this.overcommitMemory = v;
      },
      0,
      2,
    );
    int(
      '/proc/sys/vm/overcommit_ratio',
      () => this.overcommitRatio,
      (v) => {
        this.overcommitRatio = v;
        this.overcommitKbytes = 0;
      },
    );
    this.knobs.set('/proc/sys/vm/overcommit_kbytes', {
      read: () => `${this.overcommitKbytes}\n`,
      write: (t) => {
        this.overcommitKbytes = parseUlong('/proc/sys/vm/overcommit_kbytes', t);
        this.overcommitRatio = 0;
      },
    });
    // mm/mmap.c: max_map_count, proc_dointvec_minmax from 0.
    int(
      '/proc/sys/vm/max_map_count',
      () => this.maxMapCount,
      (v) => {
        this.maxMapCount = v;
      },
      0,
    );
    // mm/page_alloc.c: min_free_kbytes_sysctl_handler (from 0), watermark_scale_factor (1..3000);
    // each write runs setup_per_zone_wmarks().
    int(
      '/proc/sys/vm/min_free_kbytes',
      () => this.host.minFreeKbytes ?? 0,
      (v) => {
        this.host.minFreeKbytes = v;
        this.setupPerZoneWmarks();
      },
      0,
    );
    int(
      '/proc/sys/vm/watermark_scale_factor',
      () => this.watermarkScaleFactor,
      (v) => {
        this.watermarkScaleFactor = v;
        this.setupPerZoneWmarks();
      },
      1,
      3000,
    );
    // mm/swap.c: page-cluster, proc_dointvec_minmax from 0 to page_cluster_max (31).
    int(
      '/proc/sys/vm/page-cluster',
      () => this.pageCluster,
      (v) => {
        this.pageCluster = v;
      },
      0,
      31,
    );
    // fs/drop_caches.c: mode 0200 (a read is -EACCES, even for root), values 1..4 (SYSCTL_ONE..SYSCTL_FOUR).
    // This build machine's vendor 6.18 takes up to 63 (a local patch adds bits); upstream's bound is kept.
    int(
      '/proc/sys/vm/swappiness',
      () => this.swappiness,
      (v) => {
        this.swappiness = v;
      },
      0,
      200,
    );
    // mm/compaction.c vm_compaction[]: compact_memory is write-only (0200) and takes 1 only
    // (proc_dointvec_minmax from SYSCTL_ONE to SYSCTL_ONE); extfrag_threshold 0..1000; compact_unevictable_allowed 0..1.
    this.knobs.set('/proc/sys/vm/compact_memory', {
      write: (t) => {
        parseInt32('/proc/sys/vm/compact_memory', t, 1, 1);
        this.vm()?.compactMemory?.();
      },
    });
    int(
      '/proc/sys/vm/extfrag_threshold',
      () => this.extfragThreshold,
      (v) => {
        this.extfragThreshold = v;
      },
      0,
      1000,
    );
    // compaction_proactiveness 0..100: a write of a non-zero value wakes kcompactd for a proactive pass.
    int(
      '/proc/sys/vm/compaction_proactiveness',
      () => this.compactionProactiveness,
      (v) => {
        this.compactionProactiveness = v;
        if (v !== 0) this.vm()?.proactiveCompactTrigger?.();
      },
      0,
      100,
    );
    int(
      '/proc/sys/vm/compact_unevictable_allowed',
      () => this.compactUnevictableAllowed,
      (v) => {
        this.compactUnevictableAllowed = v;
      },
      0,
      1,
    );
    // vm_dcache_sysctls: vfs_cache_pressure >= 0 (SYSCTL_ZERO), vfs_cache_pressure_denom >= 100 (SYSCTL_ONE_HUNDRED)
    int(
      '/proc/sys/vm/vfs_cache_pressure',
      () => this.vfsCachePressure,
      (v) => (this.vfsCachePressure = v),
      0,
    );
    int(
      '/proc/sys/vm/vfs_cache_pressure_denom',
      () => this.vfsCachePressureDenom,
      (v) => (this.vfsCachePressureDenom = v),
      100,
    );
    this.knobs.set('/proc/sys/vm/drop_caches', { write: (t) => this.dropCachesWrite(parseInt32('/proc/sys/vm/drop_caches', t, 1, 4)) });
    this.writebackKnobs(int);
    // mm/oom_kill.c vm_oom_kill_table: panic_on_oom is proc_dointvec_minmax 0..2, the other two plain proc_dointvec.
    int(
      '/proc/sys/vm/panic_on_oom',
      () => this.panicOnOom,
      (v) => {
        this.panicOnOom = v;
      },
      0,
      2,
    );
    int(
      '/proc/sys/vm/oom_kill_allocating_task',
      () => this.oomKillAllocatingTask,
      (v) => {
        this.oomKillAllocatingTask = v;
      },
    );
    int(
      '/proc/sys/vm/oom_dump_tasks',
      () => this.oomDumpTasks,
      (v) => {
        this.oomDumpTasks = v;
      },
    );
    // kernel/sysctl.c: randomize_va_space is a plain proc_dointvec (no bounds).
    int(
      '/proc/sys/kernel/randomize_va_space',
      () => this.randomizeVaSpace,
      (v) => {
        this.randomizeVaSpace = v;
      },
    );
  }

  /**
   * mm/page-writeback.c's vm_page_writeback_sysctls and fs-writeback.c's
   * dirtytime_expire_seconds: the ratios proc_dointvec_minmax 0..100, the
   * byte counts proc_doulongvec_minmax with a minimum (dirty_bytes 2 pages,
   * dirty_background_bytes 1) and -ERANGE (the old value kept) when the
   * count in pages passes UINT_MAX; dirty_expire_centisecs and
   * dirtytime_expire_seconds from 0; dirty_writeback_centisecs a plain
   * proc_dointvec whose new non-zero value wakes the flusher.
   */
  private writebackKnobs(int: (path: string, get: () => number, set: (v: number) => void, min?: number, max?: number) => void): void {
    const bytes = (path: string, min: number, get: () => number, set: (v: number) => void) =>
      this.knobs.set(path, {
        read: () => `${get()}\n`,
        write: (t) => {
          const v = parseUlong(path, t);
          if (v < min) throw errnoError(path, 'EINVAL', EINVAL, `${v} is below ${min}`);
          if (Math.ceil(v / 4096) > 2 ** 32 - 1) throw errnoError(path, 'ERANGE', ERANGE, `${v} bytes is more than UINT_MAX pages`);
          set(v);
        },
      });
    int(
      '/proc/sys/vm/dirty_background_ratio',
      () => this.dirtyBackgroundRatio,
      (v) => {
        this.dirtyBackgroundRatio = v;
        this.dirtyBackgroundBytes = 0;
      },
      0,
      100,
    );
    bytes(
      '/proc/sys/vm/dirty_background_bytes',
      1,
      () => this.dirtyBackgroundBytes,
      (v) => {
        this.dirtyBackgroundBytes = v;
        this.dirtyBackgroundRatio = 0;
      },
    );
    // dirty_ratio_handler / dirty_bytes_handler: the other knob is zeroed only when the value changed.
    int(
      '/proc/sys/vm/dirty_ratio',
      () => this.dirtyRatio,
      (v) => {
        if (v === this.dirtyRatio) return;
        this.dirtyRatio = v;
        this.dirtyBytes = 0;
        this.onDirtyLimitChange?.();
      },
      0,
      100,
    );
    bytes(
      '/proc/sys/vm/dirty_bytes',
      2 * 4096,
      () => this.dirtyBytes,
      (v) => {
        if (v === this.dirtyBytes) return;
        this.dirtyBytes = v;
        this.dirtyRatio = 0;
        this.onDirtyLimitChange?.();
      },
    );
    int(
      '/proc/sys/vm/dirty_writeback_centisecs',
      () => this.dirtyWritebackCentisecs,
      (v) => {
        const old = this.dirtyWritebackCentisecs;
        this.dirtyWritebackCentisecs = v;
        if (v !== 0 && v !== old) this.onDirtyWritebackChange?.();
      },
    );
    int(
      '/proc/sys/vm/dirty_expire_centisecs',
      () => this.dirtyExpireCentisecs,
      (v) => {
        this.dirtyExpireCentisecs = v;
      },
      0,
    );
    int(
      '/proc/sys/vm/dirtytime_expire_seconds',
      () => this.dirtytimeExpireSeconds,
      (v) => {
        this.dirtytimeExpireSeconds = v;
      },
      0,
    );
  }

  /**
   * setup_per_zone_wmarks(): the watermarks from min_free_kbytes and
   * watermark_scale_factor (totalreserve_pages follows: it is worked out
   * from them when read), then zone_pcp_update() for each populated zone:
   * the per-CPU batch, high_min and high_max, which follow the low
   * watermark. lowmem_reserve is not recomputed (only its own sysctl does that).
   */
  private setupPerZoneWmarks(): void {
    const pa = this.host.pageAlloc;
    setupWmarks(pa.zones, this.host.minFreeKbytes ?? 0, this.watermarkScaleFactor);
    for (let z = 0; z < MAX_NR_ZONES; z++) {
      if (!pa.zones.populated(z)) continue;
      zoneSetPagesetHighAndBatch(pa.zones, z, pa.cpus);
      for (let cpu = 0; cpu < pa.cpus; cpu++) {
        const row = (cpu * MAX_NR_ZONES + z) * PCP_FIELDS;
        pa.pcp[row + PCP_BATCH] = Math.max(1, pa.zones.get(z, Z_PCP_BATCH));
        pa.pcp[row + PCP_HIGH_MIN] = pa.zones.get(z, Z_PCP_HIGH_MIN);
        pa.pcp[row + PCP_HIGH_MAX] = pa.zones.get(z, Z_PCP_HIGH_MAX);
      }
    }
  }

  /**
   * drop_caches_sysctl_handler(): 1 drops the clean, unmapped page-cache
   * pages of regular files (invalidate_mapping_pages over every inode; shmem
   * pages are not page cache that can be dropped), 2 runs the slab
   * shrinkers (drop_slab(): the root file system's unused dentries and
   * inodes are freed, and workingset's shadow nodes over their limit;
   * SLUB's empty slabs are not a shrinker's to free), 3 both; each
   * counts its vm event. The message names the writer unless 4 was ever written.
   */
  private dropCachesWrite(v: number): void {
    this.dropCaches = v;
    if (v & 1) {
      const vm = this.vm();
      if (vm !== null) dropPagecache(vm, this.host);
      this.dropPagecache++;
    }
    if (v & 2) {
      this.vm()?.dropSlab?.();
      this.dropSlab++;
    }
    if (!this.stfu) {
      const t = this.host.task ?? { pid: 1, comm: 'kmem' };
      this.host.bugs?.log([`${t.comm} (${t.pid}): drop_caches: ${v}`]);
    }
    this.stfu |= v & 4;
  }

  has(path: string): boolean {
    return this.knobs.has(path);
  }

  read(path: string): string {
    const k = this.knobs.get(path)!;
    if (k.read === undefined) throw errnoError(path, 'EACCES', EACCES, 'Permission denied');
    return k.read();
  }

  /** write(2) of text; an empty write is accepted and changes nothing (proc_dointvec's `!*lenp` return). */
  write(path: string, text: string): void {
    const k = this.knobs.get(path)!;
    if (k.write === undefined) throw errnoError(path, 'EACCES', EACCES, 'Permission denied');
    if (text === '') return;
    k.write(text);
  }
}

/** invalidate_mapping_pages() over the root file system's page cache: the vm half drops what no one maps and is clean. */
function dropPagecache(vm: VmCounters, _host: SysctlHost): void {
  vm.dropPagecache();
}
