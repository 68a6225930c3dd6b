/**
 * boot(): wire the layers together the way start_kernel() does: memory and
 * struct pages, zones and the buddy allocator, watermarks and per-CPU
 * pagesets, then the slab allocator on top.
 */

import type { RootFs } from './fs/rootfs.js';
import { Kasan } from './kasan/common.js';
import { KernelBug, type KernelBugKind } from './lib/bug.js';
import { Printk } from './lib/printk.js';
import { RateLimit } from './lib/ratelimit.js';
import { beginEntry, captureStack, endEntry, entryStackTrace, formatFrame } from './lib/stacktrace.js';
import { hexPrefixed } from './lib/vsprintf.js';
import { MemAccess } from './memory/access.js';
import { KasanMemAccess } from './memory/kasan_access.js';
import { MAX_MEMORY, memparse, PAGE_SHIFT, PAGE_SIZE, Page, PhysMem } from './memory/memblock.js';
import { PageArray } from './memory/page.js';
import { dumpPage } from './page_alloc/debug.js';
import { __GFP_NOWARN, __GFP_ZERO, formatGfp, formatGfpMode, GFP_SLAB_BUG_MASK, GfpMask } from './page_alloc/gfp.js';
import {
  MAX_DMA_PFN,
  MAX_DMA32_PFN,
  MAX_NR_ZONES,
  MAX_PAGE_ORDER,
  Order,
  pageblock_nr_pages,
  Z_MANAGED,
  Z_PRESENT,
  Z_SPANNED,
  Z_START_PFN,
  ZONE_DMA,
  ZONE_DMA32,
  ZONE_MOVABLE,
  ZONE_NORMAL,
  zoneNames,
} from './page_alloc/mmzone.js';
import { EV_PGALLOC, EV_PGFREE, PageAlloc } from './page_alloc/page_alloc.js';
import { showFreeAreas } from './page_alloc/show_mem.js';
import {
  calculateMinFreeKbytes,
  recommendedMinFreeKbytes,
  setupPerZoneLowmemReserve,
  setupPerZoneWmarks,
  zoneSetPagesetHighAndBatch,
} from './page_alloc/watermark.js';
import { ProcFs } from './proc/procfs.js';
import { slabinfo, sysSlabRead } from './proc/slabinfo.js';
import { getOrder } from './slub/calculate.js';
import { printTainted, printTaintedVerbose, SlubDebug, TAINT_BAD_PAGE, TAINT_WARN } from './slub/debug.js';
import { Kmalloc } from './slub/kmalloc.js';
import { KMALLOC_MAX_SIZE, KmallocConst, kmallocSizeRoundup, ZERO_SIZE_PTR } from './slub/kmalloc_info.js';
import { C_ALLOCS, C_FIELDS, C_FREES, C_MIN_ORDER, C_NR_SLABS, C_OBJECT_SIZE, C_ORDER, C_SIZE, C_TOTAL_OBJECTS, CF } from './slub/slab.js';
import { type KmemCacheArgs, SlabCommon } from './slub/slab_common.js';
import { Slub } from './slub/slub.js';
import { kmemCacheFlags, parseSlubDebug } from './slub/slub_debug_param.js';
import type { Task as VmTask } from './vm/fork.js';
import { Vm } from './vm/vm.js';

/** A kmem_cache handle: the cache's id. */
export type KmemCache = number;

/** Zone sizes for a machine laid out by hand (each a byte count or a size string). */
export interface ZoneSizes {
  DMA?: number | string;
  DMA32?: number | string;
  Normal?: number | string;
  Movable?: number | string;
}

export interface BootOptions {
  /** RAM, bytes or a size string ('64M', '1G'). Default 128M. */
  memory?: number | string;
  /** Number of CPUs. Default 2. */
  cpus?: number;
  /** Zone sizes; default: the x86-64 layout (DMA below 16M, DMA32 below 4G). */
  zones?: ZoneSizes;
  /** Back RAM and all allocator state with SharedArrayBuffers. */
  shared?: boolean;
  /** Seed for every random choice the kernel makes. Default 1. */
  seed?: number;
  /** What a caught bug does after its report: 'report' (default) or 'throw'. */
  onBug?: 'report' | 'throw';
  /** vm.min_free_kbytes set by the user (wins over the computed value if larger). */
  minFreeKbytes?: number;
  /**
   * transparent_hugepage= (default 'madvise', as distributions ship it):
   * unless 'never', khugepaged raises min_free_kbytes to keep free
   * pageblocks for huge pages (set_recommended_min_free_kbytes).
   */
  transparentHugepage?: 'always' | 'madvise' | 'never';
  /** slab_min_order= */
  slubMinOrder?: number;
  /** slab_max_order= (default PAGE_ALLOC_COSTLY_ORDER, 3) */
  slubMaxOrder?: number;
  /** slab_min_objects= (0: from the CPU count) */
  slubMinObjects?: number;
  /** slab_nomerge */
  slabNomerge?: boolean;
  /** slub_debug= ('FZPU', 'FZ,kmalloc-64', '-', 'O', ...) */
  slubDebug?: string | boolean;
  /** CONFIG_SLUB_STATS */
  slubStats?: boolean;
  /** CONFIG_SLAB_FREELIST_HARDENED (default on, as distributions ship it) */
  freelistHardened?: boolean;
  /** CONFIG_SLAB_FREELIST_RANDOM (default off) */
  freelistRandom?: boolean;
  /** CONFIG_KASAN_GENERIC: shadow memory, checked `k.mem`, quarantine, reports. Default off. */
  kasan?: 'generic' | false;
  /** kasan_multi_shot: print every KASAN report, not only the first. */
  kasanMultiShot?: boolean;
}

export interface Task {
  pid: number;
  comm: string;
}

export const UTS_RELEASE = '6.18.0-kmem';

export class Kernel {
  readonly mem: MemAccess;
  /** Generic KASAN, when booted with `kasan: 'generic'`; null otherwise. */
  readonly kasan: Kasan | null = null;
  readonly phys: PhysMem;
  readonly pages: PageArray;
  readonly pageAlloc: PageAlloc;
  readonly cpus: number;
  readonly seed: number;
  readonly onBug: 'report' | 'throw';
  readonly proc: ProcFs;
  readonly sys: ProcFs;
  readonly printk: Printk;
  /** slab_out_of_memory()'s and warn_alloc()'s ratelimit states (DEFAULT_RATELIMIT_*). */
  private readonly slubOomRs = new RateLimit('slab_out_of_memory');
  private readonly nopageRs = new RateLimit('warn_alloc');
  /** free_large_kmalloc()'s WARN_ON_ONCE has fired. */
  private notKmallocWarned = false;
  minFreeKbytes = 0;
  readonly slub: Slub;
  readonly slab: SlabCommon;
  readonly kmallocApi: Kmalloc;
  private rngState: number;
  /** The task every report names ("by task comm/pid"). */
  task: Task = { pid: 1, comm: 'kmem' };
  private tainted = false;
  /** tainted_mask (kernel/panic.c): TAINT_* bits. */
  private taintMask = 0;
  /** debug_locks: cleared by the first taint that makes lockdep unreliable. */
  private debugLocks = true;

  constructor(opts: BootOptions = {}) {
    const memory = memparse(opts.memory ?? '128M', 'memory');
    const cpus = opts.cpus ?? 2;
    if (typeof cpus !== 'number' || !Number.isInteger(cpus) || cpus < 1 || cpus > 256) {
      throw new RangeError(`cpus: expected an integer 1..256, got ${String(cpus)}`);
    }
    const seed = opts.seed ?? 1;
    if (typeof seed !== 'number' || !Number.isInteger(seed)) throw new TypeError(`seed: expected an integer, got ${String(seed)}`);
    const onBug = opts.onBug ?? 'report';
    if (onBug !== 'report' && onBug !== 'throw') throw new RangeError(`onBug: expected 'report' or 'throw', got ${String(onBug)}`);
    if (memory > MAX_MEMORY) throw new RangeError(`memory: ${memory} bytes is more than kmem supports (${MAX_MEMORY})`);
    this.cpus = cpus;
    this.seed = seed;
    this.onBug = onBug;
    const shared = opts.shared === true;
    const layout = zoneLayout(memory, opts.zones);
    this.phys = new PhysMem(layout.total, shared);
    this.pages = new PageArray(this.phys.nrPages, shared);
    this.printk = new Printk();
    this.mem = new MemAccess(this.phys);
    this.pageAlloc = new PageAlloc(this.phys, this.pages, cpus, shared, {
      postAlloc: null,
      freePrepare: null,
      badPage: (info) => this.badPage(info.pfn, info.reason),
      warnAlloc: (order, gfp) => this.warnAlloc(order, gfp),
    });
    this.proc = new ProcFs(this);
    this.sys = this.proc;
    const thp = opts.transparentHugepage ?? 'madvise';
    if (thp !== 'always' && thp !== 'madvise' && thp !== 'never') {
      throw new RangeError(`transparentHugepage: expected 'always', 'madvise' or 'never', got ${String(thp)}`);
    }
    this.bootPageAlloc(layout.ranges, opts.minFreeKbytes, thp);
    this.rngState = (seed ^ 0x9e3779b9) >>> 0;
    const checkInt = (v: unknown, name: string, lo: number, hi: number, dflt: number): number => {
      if (v === undefined) return dflt;
      if (typeof v !== 'number' || !Number.isInteger(v) || v < lo || v > hi) throw new RangeError(`${name}: expected an integer ${lo}..${hi}, got ${String(v)}`);
      return v;
    };
    // slub_min_order= raises the maximum to itself, slub_max_order= lowers
    // the minimum to itself (6.7+); given both, as if in this order, the
    // maximum wins.
    let slubMinOrder = checkInt(opts.slubMinOrder, 'slubMinOrder', 0, MAX_PAGE_ORDER, 0);
    const slubMaxOrder = checkInt(opts.slubMaxOrder, 'slubMaxOrder', 0, MAX_PAGE_ORDER, Math.max(3, slubMinOrder));
    slubMinOrder = Math.min(slubMinOrder, slubMaxOrder);
    const slubMinObjects = checkInt(opts.slubMinObjects, 'slubMinObjects', 0, 32767, 0);
    const debug = parseSlubDebug(opts.slubDebug);
    for (const w of debug.warnings) this.printk.printk(`${w}\n`);
    this.slub = new Slub(
      this.pageAlloc,
      this.pages,
      this.phys.u8,
      cpus,
      shared,
      { slubStats: opts.slubStats === true, freelistRandom: opts.freelistRandom === true, rand: () => this.rand32() / 2 ** 32 },
      { poisonSlab: null, slabAlloc: null, slabFree: null, largeFree: null, checkByte: null, krealloc: null, kmallocLarge: null, cacheShrink: null },
      {
        warn: (text, file) => this.warn(text, file),
        fixFlags: (gfp) => this.kmallocFixFlags(gfp),
        bugOn: (where, text) => this.bugOn(where, text),
        invalidFree: (cache, obj) => this.slub.debug!.invalidObjectPointer(cache, this.slub.virtToSlab(obj), obj),
        outOfMemory: (cache, gfp) => this.slabOutOfMemory(cache, gfp),
        notKmalloc: (pfn) => {
          // free_large_kmalloc(): WARN_ON_ONCE(!large_kmalloc), then dump_page() each time.
          if (!this.notKmallocWarned) {
            this.notKmallocWarned = true;
            this.warn('');
          }
          this.log(dumpPage(this.pages, pfn, this.pageAlloc.pageZone(pfn), 'Not a kmalloc allocation'));
        },
      },
    );
    // slub_debug (CONFIG_SLUB_DEBUG=y): its reports go through this machine's printk, taint and onBug.
    this.slub.debug = new SlubDebug(this.slub, {
      printk: (text) => {
        this.syncClock();
        this.printk.printk(text);
      },
      dumpStack: () => this.dumpStack(),
      printTainted: () => printTainted(this.taintMask),
      addTaint: (flag, unreliable) => this.addTaint(flag, unreliable),
      bug: (kind, lines) => {
        if (this.onBug === 'throw') throw new KernelBug(kind, lines);
      },
      cpu: () => this.currentCpu,
      pid: () => this.task.pid,
      nowNs: () => {
        this.syncClock();
        return this.printk.nowNs;
      },
      pageZone: (pfn) => this.pageAlloc.pageZone(pfn),
    });
    // KASAN (mm/kasan/): shadow for every page, the allocator hooks, the checked k.mem.
    if (opts.kasan !== undefined && opts.kasan !== false && opts.kasan !== 'generic') {
      throw new RangeError(`kasan: expected 'generic' or false, got ${String(opts.kasan)}`);
    }
    if (opts.kasan === 'generic') {
      this.kasan = new Kasan(this, { multiShot: opts.kasanMultiShot === true, shared });
      this.kasan.install();
      this.recordStacksAtEntry();
      this.mem = new KasanMemAccess(this.phys, this.kasan);
    }
    this.slab = new SlabCommon(this.slub, {
      cpus,
      slubMinOrder,
      slubMaxOrder,
      slubMinObjects,
      slabNomerge: opts.slabNomerge === true,
      hardened: opts.freelistHardened !== false,
      kasan: this.kasan !== null,
      debugFlagsFor: (name, flags) => kmemCacheFlags(debug, name, flags),
      disableHigherOrderDebug: debug.disableHigherOrderDebug,
      rand32: () => this.rand32(),
    });
    this.kmallocApi = new Kmalloc(this.slab, this.phys.size);
    this.printk.printk(`SLUB: HWalign=64, Order=${slubMinOrder}-${slubMaxOrder}, MinObjects=${slubMinObjects}, CPUs=${cpus}, Nodes=1\n`);
    this.slab.init();
    this.kmallocApi.buildSizeTable();
    this.proc.register('/proc/slabinfo', () => slabinfo(this.slab));
    this.proc.registerDir((path) => sysSlabRead(this.slab, path));
  }

  /** The machine's seeded random number generator (xorshift32). */
  rand32(): number {
    let x = this.rngState;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.rngState = x >>> 0;
    return this.rngState;
  }

  // ───────────────────────── boot ─────────────────────────

  private bootPageAlloc(ranges: [number, number][], userMinFree: number | undefined, thp: 'always' | 'madvise' | 'never'): void {
    const pa = this.pageAlloc;
    const pk = (s: string) => this.printk.printk(`${s}\n`);
    const hexAddr = (n: number) => `0x${n.toString(16).padStart(16, '0')}`;
    pk('Zone ranges:');
    for (let z = 0; z < MAX_NR_ZONES; z++) {
      if (z === ZONE_MOVABLE) continue;
      const [s, e] = ranges[z]!;
      const name = zoneNames[z]!.padEnd(8);
      pk(e > s ? `  ${name} [mem ${hexAddr(s * PAGE_SIZE)}-${hexAddr(e * PAGE_SIZE - 1)}]` : `  ${name} empty`);
    }
    pk('Movable zone start for each node');
    pk('Early memory node ranges');
    pk(`  node   0: [mem ${hexAddr(PAGE_SIZE)}-${hexAddr(this.phys.size - 1)}]`);
    pk(`Initmem setup node 0 [mem ${hexAddr(PAGE_SIZE)}-${hexAddr(this.phys.size - 1)}]`);
    for (let z = 0; z < MAX_NR_ZONES; z++) {
      const [s, e] = ranges[z]!;
      if (e > s) pa.initZone(z, s, e);
    }
    let totalManaged = 0;
    let totalPresent = 0;
    let lowmem = 0;
    for (let z = 0; z < MAX_NR_ZONES; z++) {
      totalManaged += pa.zones.get(z, Z_MANAGED);
      totalPresent += pa.zones.get(z, Z_PRESENT);
      if (z !== ZONE_MOVABLE) lowmem += pa.zones.get(z, Z_MANAGED);
    }
    let policy = 0;
    for (let z = ZONE_NORMAL; z >= 0; z--) {
      if (pa.zones.populated(z)) {
        policy = z;
        break;
      }
    }
    pk(`Built 1 zonelists, mobility grouping on.  Total pages: ${totalManaged}`);
    pk(`Policy zone: ${zoneNames[policy]}`);
    // mem_init_print_info(): reserved = physpages (the zones' present pages) - totalram_pages.
    const reservedK = (totalPresent - totalManaged) * 4;
    pk(
      `Memory: ${totalManaged * 4}K/${totalPresent * 4}K available (0K kernel code, 0K rwdata, 0K rodata, 0K init, 0K bss, ${reservedK}K reserved, 0K cma-reserved)`,
    );
    let minFree = calculateMinFreeKbytes(lowmem);
    if (userMinFree !== undefined) {
      if (!Number.isInteger(userMinFree) || userMinFree < 0) {
        throw new RangeError(`minFreeKbytes: expected a non-negative integer, got ${userMinFree}`);
      }
      if (userMinFree > minFree) minFree = userMinFree;
    }
    setupPerZoneWmarks(pa.zones, minFree);
    // khugepaged's start (hugepage_init) raises min_free_kbytes for THP.
    if (thp !== 'never') {
      const recommended = recommendedMinFreeKbytes(pa.zones);
      if (recommended > minFree) {
        if (userMinFree !== undefined) pk(`raising min_free_kbytes from ${minFree} to ${recommended} to help transparent hugepage allocations`);
        minFree = recommended;
        setupPerZoneWmarks(pa.zones, minFree);
      }
    }
    this.minFreeKbytes = minFree;
    setupPerZoneLowmemReserve(pa.zones);
    for (let z = 0; z < MAX_NR_ZONES; z++) zoneSetPagesetHighAndBatch(pa.zones, z, this.cpus);
    pa.setupPagesets();
  }

  // ───────────────────────── CPUs and tasks ─────────────────────────

  /** The CPU that runs now: whose per-CPU lists allocations use. */
  get currentCpu(): number {
    return this.pageAlloc.cpu;
  }

  /** Run fn as CPU n and return its result; the previous CPU is restored after. */
  onCpu<T>(n: number, fn: () => T): T {
    if (typeof n !== 'number' || !Number.isInteger(n) || n < 0 || n >= this.cpus) {
      throw new RangeError(`cpu: expected an integer 0..${this.cpus - 1}, got ${String(n)}`);
    }
    if (typeof fn !== 'function') throw new TypeError('fn: expected a function');
    const prev = this.pageAlloc.cpu;
    this.setCpu(n);
    try {
      return fn();
    } finally {
      this.setCpu(prev);
    }
  }

  /** Switch the running CPU (layers above keep their own copy in sync). */
  protected setCpu(n: number): void {
    this.pageAlloc.cpu = n;
    this.slub.setCpu(n);
  }

  setTask(task: Partial<Task>): void {
    if (task.pid !== undefined && (!Number.isInteger(task.pid) || task.pid < 0)) {
      throw new RangeError(`task.pid: expected a non-negative integer, got ${String(task.pid)}`);
    }
    if (task.comm !== undefined && typeof task.comm !== 'string') throw new TypeError('task.comm: expected a string');
    this.task = { pid: task.pid ?? this.task.pid, comm: (task.comm ?? this.task.comm).slice(0, 15) };
  }

  // ───────────────────────── printk and bugs ─────────────────────────

  /** Every line in the printk ring, with timestamps. */
  dmesg(): string[] {
    return this.printk.dmesg();
  }

  /** Advance the virtual clock by ns nanoseconds. */
  tick(ns: number): void {
    this.printk.advance(ns);
  }

  /** The CPU/Hardware/Call Trace block of dump_stack(). */
  dumpStack(): string[] {
    const lines = [
      `CPU: ${this.currentCpu} UID: 0 PID: ${this.task.pid} Comm: ${this.task.comm} ${printTainted(this.taintMask)} ${UTS_RELEASE} #1`,
      ...(this.taintMask !== 0 ? [printTaintedVerbose(this.taintMask)] : []),
      'Hardware name: kmem virtual machine, BIOS kmem 01/01/2026',
      'Call Trace:',
      ' <TASK>',
    ];
    for (const f of captureStack()) lines.push(formatFrame(f));
    lines.push(' </TASK>');
    return lines;
  }

  /**
   * The virtual clock: boot is at 0, and every page or object operation since
   * counts as 50 ns of kernel time, so reports carry plausible timestamps
   * without a clock read on any hot path.
   */
  syncClock(): void {
    const ev = this.pageAlloc.events;
    let ops = ev[EV_PGFREE]!;
    for (let z = 0; z < MAX_NR_ZONES; z++) ops += ev[EV_PGALLOC + z]!;
    const cf = this.slub.cf;
    for (const id of this.slab.slabCaches) ops += cf[id * C_FIELDS + C_ALLOCS]! + cf[id * C_FIELDS + C_FREES]!;
    const ns = 1_000_000 + ops * 50;
    if (ns > this.printk.nowNs) this.printk.setClock(ns);
  }

  /** printk() a block of lines at the current virtual time. */
  log(lines: string[]): void {
    this.syncClock();
    this.printk.printk(`${lines.join('\n')}\n`);
  }

  /** Print a report for a bug the kernel catches, then follow onBug. */
  reportBug(kind: KernelBugKind, lines: string[]): void {
    this.log(lines);
    this.addTaint(TAINT_BAD_PAGE, true);
    if (this.onBug === 'throw') throw new KernelBug(kind, lines);
  }

  /**
   * add_taint(): set a TAINT_* bit; the first taint that leaves lockdep
   * unreliable (LOCKDEP_NOW_UNRELIABLE) turns lock debugging off, saying so.
   */
  addTaint(flag: number, lockdepUnreliable: boolean): void {
    if (lockdepUnreliable && this.debugLocks) {
      this.debugLocks = false;
      this.printk.printk('Disabling lock debugging due to kernel taint\n');
    }
    this.taintMask |= 1 << flag;
    this.tainted = true;
  }

  /** slab validate (/sys/kernel/slab/<cache>/validate): the errors found, counted as lib/slub_kunit.c counts them. */
  slabValidate(cache: KmemCache): number {
    this.slab.checkCache(cache);
    // validate_store(): only a cache with slub_debug flags (kmem_cache_debug), else -EINVAL.
    if (this.slub.cf[cache * C_FIELDS + CF.DEBUG] === 0) {
      throw new RangeError(`cache: ${this.slub.caches[cache]!.name} has no slub_debug flags; validate needs them (the kernel's validate_store returns -EINVAL)`);
    }
    return this.slub.debug!.validate(cache);
  }

  get isTainted(): boolean {
    return this.tainted;
  }

  /** bad_page(): "BUG: Bad page state" with the page dump and the stack. */
  private badPage(pfn: number, reason: string): void {
    const zone = this.pageAlloc.pageZone(pfn);
    const lines = [`BUG: Bad page state in process ${this.task.comm}  pfn:${pfn.toString(16).padStart(5, '0')}`];
    lines.push(...dumpPage(this.pages, pfn, zone, reason));
    lines.push('Modules linked in:');
    lines.push(...this.dumpStack());
    this.reportBug('bad_page', lines);
  }

  /** warn_alloc(): the allocation-failure warning and the Mem-Info summary. */
  private warnAlloc(order: number, gfp: number): void {
    if (!this.ratelimited(this.nopageRs)) return;
    const lines = [
      // cpuset_print_current_mems_allowed() (CONFIG_CPUSETS) ends the line.
      `${this.task.comm}: page allocation failure: order:${order}, mode:${formatGfpMode(gfp)}, nodemask=(null),cpuset=/,mems_allowed=0`,
      ...this.dumpStack(),
      ...showFreeAreas(this.pageAlloc, this.slabPages(true), this.slabPages(false)),
    ];
    this.log(lines);
  }

  /** Pages held by slabs and large kmallocs (NR_SLAB_RECLAIMABLE_B / UNRECLAIMABLE_B in pages). */
  slabPages(reclaimable: boolean): number {
    return reclaimable ? this.slub.slabPagesReclaimable : this.slub.slabPagesUnreclaimable;
  }

  /** WARN() in `file`: the cut-here block with the stack; an empty text is a WARN_ON() (no message line). */
  warn(text: string, file = 'mm/slub.c'): void {
    const lines = ['------------[ cut here ]------------'];
    if (text !== '') lines.push(text);
    lines.push(`WARNING: CPU: ${this.currentCpu} PID: ${this.task.pid} at ${file}`);
    lines.push('Modules linked in:');
    lines.push(...this.dumpStack());
    lines.push('---[ end trace 0000000000000000 ]---');
    this.log(lines);
    this.addTaint(TAINT_WARN, false);
  }

  /** A BUG_ON() the kernel would die of; kmem reports it and refuses the operation. */
  bugOn(where: string, text: string): void {
    this.reportBug('bug', [
      '------------[ cut here ]------------',
      `kernel BUG at mm/slub.c:${where}!`,
      'Oops: invalid opcode: 0000 [#1] PREEMPT SMP NOPTI',
      ...this.dumpStack(),
      `kmem: ${text}`,
    ]);
  }

  /** slab_out_of_memory() (6.12+ wording): the rate-limited SLUB allocation failure lines. */
  private slabOutOfMemory(cache: number, gfp: number): void {
    if (gfp & __GFP_NOWARN || !this.ratelimited(this.slubOomRs)) return;
    const r = cache * C_FIELDS;
    const cf = this.slub.cf;
    const info = this.slub.caches[cache]!;
    const objectSize = cf[r + C_OBJECT_SIZE]!;
    const minOrder = cf[r + C_MIN_ORDER]!;
    const lines = [
      `SLUB: Unable to allocate memory on CPU ${this.currentCpu} (of node 0) on node -1, gfp=${formatGfpMode(gfp)}`,
      `  cache: ${info.name}, object size: ${objectSize}, buffer size: ${cf[r + C_SIZE]}, default order: ${cf[r + C_ORDER]}, min order: ${minOrder}`,
    ];
    if (minOrder > getOrder(objectSize)) lines.push(`  ${info.name} debugging increased min order, use slab_debug=O to disable.`);
    lines.push(`  node 0: slabs: ${cf[r + C_NR_SLABS]}, objs: ${cf[r + C_TOTAL_OBJECTS]}, free: ${this.slub.countPartialFreeApprox(cache)}`);
    this.log(lines);
  }

  /** kmalloc_fix_flags(): the bits a slab allocation must not carry, dropped with a warning and a stack. */
  private kmallocFixFlags(gfp: number): number {
    const invalid = (gfp & GFP_SLAB_BUG_MASK) >>> 0;
    const fixed = (gfp & ~GFP_SLAB_BUG_MASK) >>> 0;
    this.log([
      `Unexpected gfp: ${hexPrefixed(invalid)} (${formatGfp(invalid)}). Fixing up to gfp: ${hexPrefixed(fixed)} (${formatGfp(fixed)}). Fix your code!`,
      ...this.dumpStack(),
    ]);
    return fixed;
  }

  /**
   * On a KASAN machine every object keeps the stacks of its allocation and
   * free: record the caller's stack once, as each API call that allocates
   * or frees objects begins (lib/stacktrace.ts beginEntry), rather than
   * deep inside the allocator for each save. Calls made from inside kmem
   * (kzalloc through kmalloc) use the record already there.
   */
  private recordStacksAtEntry(): void {
    const self = this as unknown as Record<string, (...args: unknown[]) => unknown>;
    const kasan = this.kasan!;
    const k = this;
    for (const name of STACK_ENTRY_POINTS) {
      const inner = self[name]!;
      self[name] = function entryPoint(...args: unknown[]): unknown {
        if (entryStackTrace() !== null || !kasan.stackCollection) return inner.apply(k, args);
        const outer = beginEntry();
        try {
          return inner.apply(k, args);
        } finally {
          endEntry(outer);
        }
      };
    }
  }

  /** __ratelimit() on the virtual clock, printing its "callbacks suppressed" line. */
  private ratelimited(rs: RateLimit): boolean {
    this.syncClock();
    return rs.allow(this.printk.nowNs, (line) => this.printk.printk(`${line}\n`));
  }

  // ───────────────────────── the slab allocator API ─────────────────────────

  /** kmem_cache_create(): a cache id (an existing one if the new cache merges into it). */
  kmemCacheCreate(name: string, size: number, args: KmemCacheArgs = {}): KmemCache {
    return this.slab.createCache(name, size, args);
  }

  /** kmem_cache_destroy(): objects left are reported as the kernel reports them. */
  kmemCacheDestroy(cache: KmemCache): void {
    this.slab.checkCache(cache);
    const name = this.slub.caches[cache]!.name;
    const left = this.slab.destroy(cache);
    if (left > 0) {
      // __kmem_cache_shutdown(): free_partial() lists each partial slab's objects (list_slab_objects).
      const debug = this.slub.debug!;
      debug.listSlabObjects(cache);
      const caller = captureStack(1)[0];
      const from = caller !== undefined ? `${caller.fn} (${caller.file}:${caller.line})` : 'kmemCacheDestroy';
      this.warn(`kmem_cache_destroy ${name}: Slab cache still has objects when called from ${from}`, 'mm/slab_common.c');
      debug.flush();
    }
  }

  /** kmem_cache_shrink(): flush the CPUs and free empty slabs. */
  kmemCacheShrink(cache: KmemCache): void {
    this.slab.checkCache(cache);
    this.slub.shrink(cache);
  }

  kmemCacheAlloc(cache: KmemCache, gfp: number): number {
    if (this.kmallocApi.cacheAccepted(cache) && gfpAccepted(gfp)) return this.kmallocApi.cacheAlloc(cache, gfp);
    return this.kmemCacheAllocChecked(cache, gfp);
  }

  /** kmem_cache_alloc() with the full argument checks and their messages. */
  private kmemCacheAllocChecked(cache: KmemCache, gfp: number): number {
    this.slab.checkCache(cache);
    checkGfp(gfp);
    return this.kmallocApi.cacheAlloc(cache, gfp);
  }

  kmemCacheFree(cache: KmemCache, addr: number): void {
    if (!this.kmallocApi.cacheAccepted(cache)) this.slab.checkCache(cache);
    this.kmallocApi.cacheFree(cache, addr);
  }

  /** kmem_cache_alloc_bulk(): n objects into out, returns n, or 0 (nothing allocated). */
  kmemCacheAllocBulk(cache: KmemCache, n: number, out: Uint32Array | number[], gfp = 0xcc0): number {
    this.slab.checkCache(cache);
    if (!Number.isInteger(n) || n < 0) throw new RangeError(`n: expected a non-negative integer, got ${String(n)}`);
    if (!out || typeof out.length !== 'number') throw new TypeError('out: expected an array or Uint32Array');
    if (out.length < n && out instanceof Uint32Array) throw new RangeError(`out: holds ${out.length} entries, ${n} needed`);
    checkGfp(gfp);
    return this.kmallocApi.allocBulk(cache, gfp, n, out);
  }

  kmemCacheFreeBulk(cache: KmemCache, addrs: ArrayLike<number>): void {
    this.slab.checkCache(cache);
    if (!addrs || typeof addrs.length !== 'number') throw new TypeError('addrs: expected an array or Uint32Array of addresses');
    this.kmallocApi.freeBulk(cache, addrs);
  }

  /** kmalloc(): 0 on failure, ZERO_SIZE_PTR (16) for size 0. */
  kmalloc(size: number, gfp: number): number {
    // The fast path, behind one test per argument: a whole size of a kmalloc
    // cache, and valid GFP_KERNEL-like flags (no kmalloc type bits: the
    // normal caches, through a size -> cache table, no kmalloc_type()).
    if (typeof size === 'number' && size >>> 0 === size && (size - 1) >>> 0 < KmallocConst.MAX_CACHE_SIZE && typeof gfp === 'number' && (gfp & GfpMask.KMALLOC_NORMAL) === gfp) {
      return this.slub.slabAlloc(this.kmallocApi.sizeToCache[size]!, gfp, size);
    }
    return this.kmallocChecked(size, gfp);
  }

  /** kmalloc() off the fast path: the full argument checks, size 0, large sizes, the other kmalloc types. */
  private kmallocChecked(size: number, gfp: number): number {
    if (typeof size !== 'number' || (size >>> 0) !== size) Kmalloc.checkSize(size);
    if (!gfpAccepted(gfp)) checkGfp(gfp);
    return this.kmallocApi.kmalloc(size, gfp);
  }


  kzalloc(size: number, gfp: number): number {
    return this.kmalloc(size, gfp | __GFP_ZERO);
  }

  /** kmalloc_array(): NULL when n * size overflows size_t. */
  kmallocArray(n: number, size: number, gfp: number): number {
    Kmalloc.checkSize(n, 'n');
    Kmalloc.checkSize(size);
    if (BigInt(n) * BigInt(size) > 0xffffffffffffffffn) return 0;
    const bytes = n * size;
    if (bytes > KMALLOC_MAX_SIZE) {
      checkGfp(gfp);
      return this.kmallocApi.kmalloc(Math.min(bytes , Number.MAX_SAFE_INTEGER), gfp);
    }
    return this.kmalloc(bytes, gfp);
  }

  kcalloc(n: number, size: number, gfp: number): number {
    return this.kmallocArray(n, size, gfp | __GFP_ZERO);
  }

  krealloc(addr: number, newSize: number, gfp: number): number {
    Kmalloc.checkSize(newSize, 'newSize');
    checkGfp(gfp);
    if (addr > ZERO_SIZE_PTR) this.kmallocApi.checkAddr(addr);
    return this.kmallocApi.krealloc(addr, newSize, gfp);
  }

  kfree(addr: number): void {
    this.kmallocApi.kfree(addr);
  }

  /** kfree_sensitive(): zero the whole usable size, then free. */
  kfreeSensitive(addr: number): void {
    if (addr <= ZERO_SIZE_PTR && addr >= 0) return;
    this.kmallocApi.checkAddr(addr);
    const n = this.kmallocApi.ksize(addr);
    if (n > 0 && (this.slub.hooks.checkByte === null || this.slub.hooks.checkByte(addr))) this.phys.u8.fill(0, addr, addr + n);
    this.kmallocApi.kfree(addr);
  }

  ksize(addr: number): number {
    if (addr <= ZERO_SIZE_PTR && addr >= 0) return 0;
    this.kmallocApi.checkAddr(addr);
    // kasan_check_byte(): a report, and 0, for a freed object.
    if (this.kasan !== null && !this.kasan.checkByte(addr)) return 0;
    return this.kmallocApi.ksize(addr);
  }

  /** kasan_check_read(): check an access made some other way than k.mem; true if valid. */
  kasanCheckRead(addr: number, size: number): boolean {
    return this.kasan === null || this.kasan.checkRange(addr, size, false);
  }

  /** kasan_check_write() */
  kasanCheckWrite(addr: number, size: number): boolean {
    return this.kasan === null || this.kasan.checkRange(addr, size, true);
  }

  /** kmemdup(): a kmalloc'd copy of len bytes at src. */
  kmemdup(src: number, len: number, gfp: number): number {
    Kmalloc.checkSize(len, 'len');
    const p = this.kmalloc(len, gfp);
    if (p > ZERO_SIZE_PTR) this.mem.memcpy(p, src, len);
    return p;
  }

  kmallocSizeRoundup(n: number): number {
    Kmalloc.checkSize(n, 'n');
    return kmallocSizeRoundup(n);
  }

  /** A cache id by name (aliases resolve), or -1. */
  kmemCacheByName(name: string): KmemCache {
    return this.slab.findByName(name);
  }

  // ───────────────────────── the page allocator API ─────────────────────────

  /** alloc_pages(gfp, order): the physical address of a 2^order block, or 0. */
  allocPages(order: number, gfp: number): number {
    // One unsigned compare each accepts every valid argument; the full checks
    // (and their messages) run only for the rest.
    if (!orderAccepted(order)) checkOrder(order);
    if (!gfpAccepted(gfp)) checkGfp(gfp);
    const pfn = this.pageAlloc.allocPagesPfn(order, gfp);
    return pfn < 0 ? 0 : pfn * Page.SIZE;
  }

  /** __free_pages() by address: the block allocPages returned, with its order. */
  freePages(addr: number, order: number): void {
    if (!orderAccepted(order)) checkOrder(order);
    if (this.kmallocApi.addrAccepted(addr) && addr !== 0 && (addr & (Page.SIZE - 1)) === 0) {
      this.pageAlloc.freePagesPfn(addr >>> Page.SHIFT, order);
      return;
    }
    this.freePagesChecked(addr, order);
  }

  /** freePages() for everything the one-compare test did not accept: NULL, bad and unaligned addresses. */
  private freePagesChecked(addr: number, order: number): void {
    if (typeof addr !== 'number' || !Number.isInteger(addr)) throw new TypeError(`addr: expected an integer address, got ${String(addr)}`);
    if (addr === 0) return;
    if (addr < 0 || addr >= this.phys.size) throw new RangeError(`addr: 0x${addr.toString(16)} is outside physical memory`);
    const pfn = Math.floor(addr / PAGE_SIZE);
    if (addr % PAGE_SIZE !== 0) {
      this.badPage(pfn, 'free_pages: address is not page-aligned');
      return;
    }
    this.pageAlloc.freePagesPfn(pfn, order);
  }

  /** __get_free_pages(): the same as allocPages for kmem's direct-mapped RAM. */
  getFreePages(gfp: number, order: number): number {
    return this.allocPages(order, gfp);
  }

  /** get_zeroed_page(gfp). */
  getZeroedPage(gfp: number): number {
    checkGfp(gfp);
    return this.allocPages(0, gfp | __GFP_ZERO);
  }

  /** free_pages(addr, order). */
  freePagesAddr(addr: number, order: number): void {
    this.freePages(addr, order);
  }

  /** drain_all_pages(): every CPU's pcp lists back to the zones. */
  drainAllPages(): void {
    this.pageAlloc.drainAllPages();
  }

  // ── processes and address spaces (src/vm) ──
  private vmState: Vm | null = null;

  /** The virtual-memory half (src/vm), created on first use. */
  get vm(): Vm {
    if (this.vmState === null) this.vmState = new Vm(this);
    return this.vmState;
  }

  /** The root file system programs are loaded from. */
  get fs(): RootFs {
    return this.vm.fs;
  }

  /** Fork from init and execve path: a Task. */
  spawn(path: string, argv?: string[], opts: { envp?: string[] } = {}): VmTask {
    return this.vm.spawn(path, argv ?? [path], opts.envp ?? []);
  }

  /** Every process but init. */
  tasks(): VmTask[] {
    return this.vm.list();
  }
  // ── end of processes and address spaces ──
}

function checkOrder(order: unknown): asserts order is number {
  if (typeof order !== 'number') throw new TypeError(`order: expected a number, got ${typeof order}`);
  if (!Number.isInteger(order) || order < 0 || order > MAX_PAGE_ORDER) {
    throw new RangeError(`order: expected an integer 0..${MAX_PAGE_ORDER}, got ${order}`);
  }
}


/**
 * One unsigned compare or two that accept every valid argument; checkOrder()
 * and checkGfp() run only for the rest, to throw with their messages.
 */
function orderAccepted(order: number): boolean {
  return typeof order === 'number' && order >>> 0 === order && order <= Order.MAX;
}

/** The API calls that allocate or free slab objects: where recordStacksAtEntry() records the stack. */
const STACK_ENTRY_POINTS = [
  'kmalloc', 'kzalloc', 'kcalloc', 'kmallocArray', 'krealloc', 'kfree', 'kfreeSensitive', 'kmemdup',
  'kmemCacheAlloc', 'kmemCacheFree', 'kmemCacheAllocBulk', 'kmemCacheFreeBulk', 'kmemCacheShrink', 'kmemCacheDestroy',
] as const;

function gfpAccepted(gfp: number): boolean {
  return typeof gfp === 'number' && (gfp & 0x7fffffff) === gfp && (gfp & GfpMask.MOVABLE_MASK) !== GfpMask.MOVABLE_MASK;
}

function checkGfp(gfp: unknown): asserts gfp is number {
  if (typeof gfp !== 'number') throw new TypeError(`gfp: expected GFP flags (a number), got ${typeof gfp}`);
  if (!Number.isInteger(gfp) || gfp < 0 || gfp > 0x7fffffff) throw new RangeError(`gfp: invalid GFP flags ${gfp}`);
  if ((gfp & GfpMask.MOVABLE_MASK) === GfpMask.MOVABLE_MASK) {
    throw new RangeError(`gfp: __GFP_MOVABLE and __GFP_RECLAIMABLE together name no migratetype (0x${gfp.toString(16)})`);
  }
}

/**
 * The zones' pfn ranges: x86-64's fixed boundaries, or sizes given by hand
 * laid out in zone order. Pfn 0 is reserved and belongs to no zone.
 */
export function zoneLayout(memory: number, sizes?: ZoneSizes): { total: number; ranges: [number, number][] } {
  const ranges: [number, number][] = [];
  for (let z = 0; z < MAX_NR_ZONES; z++) ranges.push([0, 0]);
  if (sizes === undefined) {
    const nr = Math.floor(memory / PAGE_SIZE);
    ranges[ZONE_DMA] = [1, Math.min(MAX_DMA_PFN, nr)];
    if (nr > MAX_DMA_PFN) ranges[ZONE_DMA32] = [MAX_DMA_PFN, Math.min(MAX_DMA32_PFN, nr)];
    if (nr > MAX_DMA32_PFN) ranges[ZONE_NORMAL] = [MAX_DMA32_PFN, nr];
    return { total: nr * PAGE_SIZE, ranges };
  }
  if (typeof sizes !== 'object' || sizes === null) throw new TypeError('zones: expected an object of zone sizes');
  const order: [keyof ZoneSizes, number][] = [
    ['DMA', ZONE_DMA],
    ['DMA32', ZONE_DMA32],
    ['Normal', ZONE_NORMAL],
    ['Movable', ZONE_MOVABLE],
  ];
  for (const k of Object.keys(sizes)) {
    if (!order.some(([n]) => n === k)) throw new RangeError(`zones: unknown zone '${k}' (expected DMA, DMA32, Normal, Movable)`);
  }
  let pfn = 0;
  for (const [name, z] of order) {
    const v = sizes[name];
    if (v === undefined) continue;
    const bytes = memparse(v, `zones.${name}`);
    if (bytes % (pageblock_nr_pages * PAGE_SIZE) !== 0) {
      throw new RangeError(`zones.${name}: ${bytes} bytes is not a whole number of 2 MiB pageblocks`);
    }
    const start = pfn === 0 ? 1 : pfn;
    pfn += bytes / PAGE_SIZE;
    if (bytes > 0) ranges[z] = [start, pfn];
  }
  if (pfn === 0) throw new RangeError('zones: at least one zone must have memory');
  if (memory !== pfn * PAGE_SIZE && memory !== 128 * 1024 * 1024) {
    throw new RangeError(`zones: sizes add up to ${pfn * PAGE_SIZE} bytes but memory is ${memory}`);
  }
  return { total: pfn * PAGE_SIZE, ranges };
}

/** Start a machine. */
export function boot(opts: BootOptions = {}): Kernel {
  return new Kernel(opts);
}

export { PAGE_SHIFT, PAGE_SIZE, Z_SPANNED, Z_START_PFN };
