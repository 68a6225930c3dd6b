/**
 * start_kernel() for a kmem machine: memory and struct pages, the zones and
 * the buddy allocator, watermarks and per-CPU pagesets, then the slab
 * allocator, KASAN and the /proc files, in the order init/main.c brings
 * them up, with the boot messages the kernel prints on the way.
 *
 * The Machine is everything boot made; the API (src/kernel.ts) is built on
 * it. Nothing here runs after boot except the report callbacks the layers
 * were given.
 */
import { Kasan } from '../kasan/common.js';
import { KasanMemAccess } from '../kasan/kasan_access.js';
import { checkInteger } from '../lib/argcheck.js';
import { BugReporter, KernelBug } from '../lib/bug.js';
import { Printk } from '../lib/printk.js';
import { RateLimit } from '../lib/ratelimit.js';
import { Rcu } from '../lib/rcu.js';
import { TimerBase } from '../lib/timer.js';
import { MemAccess } from '../memory/access.js';
import { PAGE_SIZE, PhysMem } from '../memory/memblock.js';
import { PageArray } from '../memory/page.js';
import { badPageLines, dumpPage } from '../page_alloc/debug.js';
import { __GFP_NOWARN } from '../page_alloc/gfp.js';
import { MAX_NR_ZONES, MAX_PAGE_ORDER, pageblock_nr_pages, Z_MANAGED, Z_PRESENT, ZONE_MOVABLE, ZONE_NORMAL, zoneNames } from '../page_alloc/mmzone.js';
import { EV_PGALLOC, EV_PGFREE, PageAlloc } from '../page_alloc/page_alloc.js';
import { showFreeAreas, warnAllocHeader } from '../page_alloc/show_mem.js';
import {
  calculateMinFreeKbytes,
  recommendedMinFreeKbytes,
  setupPerZoneLowmemReserve,
  setupPerZoneWmarks,
  zoneSetPagesetHighAndBatch,
} from '../page_alloc/watermark.js';
import { totalramPages } from '../proc/meminfo.js';
import { ProcFs } from '../proc/procfs.js';
import { slabinfo, sysSlabRead } from '../proc/slabinfo.js';
import { slabinfoWrite, slabSlabinfo } from '../proc/slabinfo_slab.js';
import { uptime } from '../proc/uptime.js';
import { SLAB_MAX_ORDER_HI, SLAB_MAX_ORDER_LO } from '../slab/calculate.js';
import { SlabAllocator } from '../slab/slab.js';
import { SlabCaches } from '../slab/slab_common.js';
import { SlobCaches } from '../slob/slab_common.js';
import { Slob } from '../slob/slob.js';
import { kmallocFixFlags, slabOutOfMemoryLines } from '../slub/alloc_warn.js';
import { SlubDebug } from '../slub/debug.js';
import { Kmalloc } from '../slub/kmalloc.js';
import { SlabCommon } from '../slub/slab_common.js';
import { SLAB_HWCACHE_ALIGN, SLAB_NOLEAKTRACE, SLAB_RECLAIM_ACCOUNT, SLAB_TYPESAFE_BY_RCU } from '../slub/slab_flags.js';
import { Slub } from '../slub/slub.js';
import { kmemCacheFlags, parseSlubDebug } from '../slub/slub_debug_param.js';
import { Kmalloc70, Slub70 } from '../slub/slub70.js';
import { kasanSmpParts, kasanSmpReports } from '../smp/kasan_smp.js';
import { PageAllocSmp } from '../smp/page_alloc_smp.js';
import { collectShared } from '../smp/rebind.js';
import { SlubSmp } from '../smp/slub_smp.js';
import { Ipi, SmpState } from '../smp/smp.js';
import { SharedStackDepot } from '../smp/stackdepot_shared.js';
import type { BootOptions, CheckedOptions, DiskConfig } from './boot_options.js';

/** The task every report names ("by task comm/pid"). */
export interface Task {
  pid: number;
  comm: string;
}

/** totalram_pages() below which hugepage_init() leaves THP off (and khugepaged never starts). */
const THP_MIN_TOTALRAM_PAGES = (512 * 1024 * 1024) / PAGE_SIZE;

/** Everything start_kernel() made. */
export class Machine {
  readonly cpus: number;
  readonly seed: number;
  /** the `swap` boot option: the swap partition's bytes (0: none) */
  readonly swapBytes: number;
  /** the `lruGen` boot option: the multi-gen LRU from boot */
  readonly lruGen: boolean;
  readonly onBug: 'report' | 'throw';
  readonly phys: PhysMem;
  readonly pages: PageArray;
  readonly printk: Printk;
  readonly bugs: BugReporter;
  readonly pageAlloc: PageAlloc;
  readonly slub: Slub;
  readonly slab: SlabCommon;
  readonly kmallocApi: Kmalloc;
  readonly kasan: Kasan | null = null;
  /** The slab allocator design boot chose ('slub'; 'slab': mm/slab.c to 6.4; 'slob': 6.3's mm/slob.c). */
  readonly allocator: 'slub' | 'slab' | 'slob';
  /** SLAB and its caches when booted with `allocator: 'slab'`; null otherwise. */
  readonly slabCaches: SlabCaches | null = null;
  /** SLOB and its caches when booted with `allocator: 'slob'`; null otherwise. */
  readonly slob: Slob | null = null;
  readonly slobCaches: SlobCaches | null = null;
  readonly mem: MemAccess;
  readonly proc: ProcFs;
  /** vm.min_free_kbytes as boot left it. */
  minFreeKbytes = 0;
  /** The task every report names. */
  task: Task = { pid: 1, comm: 'kmem' };
  /** Timers on the virtual clock (src/lib/timer.ts): the flusher, I/O completions. k.tick runs them. */
  readonly timers: TimerBase;
  /** RCU's grace periods on the virtual clock (src/lib/rcu.ts). */
  readonly rcu: Rcu;
  /** The block device the `disk` boot option describes (the vm half builds it). */
  readonly disk: DiskConfig;
  /** slab_out_of_memory()'s and warn_alloc()'s ratelimit states (DEFAULT_RATELIMIT_*). */
  private readonly slubOomRs = new RateLimit('slab_out_of_memory');
  private readonly nopageRs = new RateLimit('warn_alloc');
  /** free_large_kmalloc()'s WARN_ON_ONCE has fired. */
  private notKmallocWarned = false;
  private rngState: number;
  /** The SMP control block with smp: 'workers' (src/smp/smp.ts); null on one thread. */
  readonly smp: SmpState | null = null;
  /** With smp: 'workers', the SharedArrayBuffers boot made, in the order attach() finds them. */
  smpBuffers: SharedArrayBuffer[] = [];
  /** With smp: 'workers', the boot options (plain data: a worker boots the same machine from them). */
  smpOptions: BootOptions = {};

  constructor(c: CheckedOptions) {
    const { opts, cpus, shared } = c;
    this.cpus = cpus;
    this.seed = c.seed;
    this.swapBytes = c.swap;
    this.lruGen = opts.lruGen === true;
    this.onBug = c.onBug;
    this.allocator = opts.allocator ?? 'slub';
    this.rngState = (c.seed ^ 0x9e3779b9) >>> 0;
    this.phys = new PhysMem(c.layout.total, shared, c.buffer);
    this.pages = new PageArray(this.phys.nrPages, shared);
    this.printk = new Printk();
    this.timers = new TimerBase(this.printk);
    this.rcu = new Rcu(this.timers);
    this.disk = c.disk;
    this.bugs = new BugReporter({
      printk: this.printk,
      onBug: this.onBug,
      cpu: () => this.pageAlloc.cpu,
      task: () => this.task,
      syncClock: () => this.syncClock(),
      release: opts.kernel === '7.0' ? '7.0.0-kmem' : undefined,
    });
    this.mem = new MemAccess(this.phys);
    // smp: 'workers' chooses the classes with real locks and IPIs once, here.
    this.pageAlloc = new (c.smp ? PageAllocSmp : PageAlloc)(this.phys, this.pages, cpus, shared, {
      postAlloc: null,
      freePrepare: null,
      badPage: (info) => this.badPage(info.pfn, info.reason),
      warnAlloc: (order, gfp) => this.warnAlloc(order, gfp),
    });
    if (c.smp) {
      this.smp = new SmpState(cpus, c.smpJitter);
      (this.pageAlloc as PageAllocSmp).attachSmp(this.smp);
    }
    this.proc = new ProcFs(this, { aslr: opts.aslr });
    this.pageAllocInit(c.layout.ranges, opts.minFreeKbytes, c.thp, c.reservedPages);
    // swap_setup(): page-cluster 2 below 16 MiB of RAM, else 3.
    if (totalramPages(this.pageAlloc.zones) < 16 * 256) this.proc.sysctl.pageCluster = 2;

    // slub_min_order= raises the maximum to itself, slub_max_order= lowers
    // the minimum to itself (6.7+); given both, as if in this order, the
    // maximum wins.
    let slubMinOrder = intOption(opts.slubMinOrder, 'slubMinOrder', 0, MAX_PAGE_ORDER, 0);
    const slubMaxOrder = intOption(opts.slubMaxOrder, 'slubMaxOrder', 0, MAX_PAGE_ORDER, Math.max(3, slubMinOrder));
    slubMinOrder = Math.min(slubMinOrder, slubMaxOrder);
    const slubMinObjects = intOption(opts.slubMinObjects, 'slubMinObjects', 0, 32767, 0);
    const debug = parseSlubDebug(opts.slubDebug);
    for (const w of debug.warnings) this.printk.printk(`${w}\n`);
    const bugs = this.bugs;
    // kernel: '7.0' picks the SLUB of 7.0 (src/slub/slub70.ts) once, here; smp: 'workers' the SLUB with real CPUs.
    const kernel70 = opts.kernel === '7.0';
    this.slub = new (c.smp ? SlubSmp : kernel70 ? Slub70 : Slub)(
      this.pageAlloc,
      this.pages,
      this.phys.u8,
      cpus,
      shared,
      { slubStats: opts.slubStats === true, freelistRandom: opts.freelistRandom === true, rand: () => this.rand32() / 2 ** 32, kernel70 },
      { poisonSlab: null, slabAlloc: null, slabFree: null, largeFree: null, checkByte: null, krealloc: null, kmallocLarge: null, cacheShrink: null },
      {
        warn: (text, file) => bugs.warn(text, file),
        fixFlags: (gfp) => {
          const { fixed, line } = kmallocFixFlags(gfp);
          bugs.log([line, ...bugs.dumpStack()]);
          return fixed;
        },
        bugOn: (where, text) => bugs.bugOn(where, text),
        invalidFree: (cache, obj) => this.slub.debug!.invalidObjectPointer(cache, this.slub.virtToSlab(obj), obj),
        outOfMemory: (cache, gfp) => {
          if (gfp & __GFP_NOWARN || !bugs.ratelimited(this.slubOomRs)) return;
          bugs.log(slabOutOfMemoryLines(this.slub, cache, gfp, this.pageAlloc.cpu));
        },
        notKmalloc: (pfn) => {
          // free_large_kmalloc(): WARN_ON_ONCE(!large_kmalloc), then dump_page() each time.
          if (!this.notKmallocWarned) {
            this.notKmallocWarned = true;
            bugs.warn('');
          }
          bugs.log(dumpPage(this.pages, pfn, this.pageAlloc.pageZone(pfn), 'Not a kmalloc allocation'));
        },
      },
    );
    if (this.smp !== null) (this.slub as SlubSmp).attachSmp(this.smp);
    // slub_debug (CONFIG_SLUB_DEBUG=y): its reports go through this machine's printk, taint and onBug.
    // With CPU threads, one stack depot in shared memory for U tracks and KASAN alike (src/smp/stackdepot_shared.ts).
    const smpDepot = c.smp ? new SharedStackDepot() : undefined;
    this.slub.debug = new SlubDebug(this.slub, {
      ...(smpDepot ? { depot: smpDepot } : {}),
      printk: (text) => {
        this.syncClock();
        this.printk.printk(text);
      },
      dumpStack: () => bugs.dumpStack(),
      printTainted: () => bugs.printTainted(),
      addTaint: (flag, unreliable) => bugs.addTaint(flag, unreliable),
      bug: (kind, lines) => {
        if (this.onBug === 'throw') throw new KernelBug(kind, lines);
      },
      cpu: () => this.pageAlloc.cpu,
      pid: () => this.task.pid,
      nowNs: () => {
        this.syncClock();
        return this.printk.nowNs;
      },
      pageZone: (pfn) => this.pageAlloc.pageZone(pfn),
    });
    // KASAN (mm/kasan/): shadow for every page, the allocator hooks, the checked k.mem.
    if (opts.kasan === 'generic') {
      const smpParts = smpDepot ? kasanSmpParts(this.pages, this.slub, cpus, smpDepot) : undefined;
      this.kasan = new Kasan(this, { multiShot: opts.kasanMultiShot === true, shared, ...(smpParts ? { smpParts } : {}) });
      this.kasan.stackCollection = opts.kasanStacks !== 'off';
      if (opts.kasanStacks === 'sampled') this.kasan.stackSampling = opts.kasanStackSample ?? 64;
      this.kasan.install();
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
      ...(opts.kernel === '6.1' ? { version: 601 } : {}),
    });
    this.kmallocApi = new (kernel70 ? Kmalloc70 : Kmalloc)(this.slab, this.phys.size);
    this.proc.register('/proc/uptime', () => {
      this.syncClock();
      return uptime(this.printk.nowNs, cpus);
    });
    if (this.allocator === 'slob') {
      // CONFIG_SLOB: kmem_cache_init() sets up nothing but the static boot
      // cache and prints nothing; no kmalloc caches, no /proc/slabinfo
      // (neither CONFIG_SLAB nor CONFIG_SLUB_DEBUG), no /sys/kernel/slab.
      // SLUB's structures stay built and empty (kmem's tools read them).
      this.slob = new Slob(this.pageAlloc, this.pages, this.phys, {
        warn: (text, file) => bugs.warn(text, file),
        bugOn: (where, text) => bugs.bugOn(where, text, 'mm/slob.c'),
      });
      this.slobCaches = new SlobCaches(this.slob, (text, file) => bugs.warn(text, file));
      return;
    }
    if (this.allocator === 'slab') {
      // CONFIG_SLAB: kmem_cache_init() sets slab_max_order to 1 above 32 MiB
      // of RAM, then the kmalloc caches; /proc/slabinfo with SLAB's tunables
      // (writable), no /sys/kernel/slab.
      const slabMaxOrder = this.phys.size > 32 * 1024 * 1024 ? SLAB_MAX_ORDER_HI : SLAB_MAX_ORDER_LO;
      const flagBits = {
        hwcacheAlign: SLAB_HWCACHE_ALIGN,
        typesafeByRcu: SLAB_TYPESAFE_BY_RCU,
        reclaimAccount: SLAB_RECLAIM_ACCOUNT,
        noLeakTrace: SLAB_NOLEAKTRACE,
      };
      const s = new SlabAllocator(this.pageAlloc, this.pages, this.phys, cpus, flagBits, slabMaxOrder);
      this.slabCaches = new SlabCaches(s, (text, file) => bugs.warn(text, file));
      const sc = this.slabCaches;
      this.proc.register('/proc/slabinfo', () => slabSlabinfo(sc));
      this.proc.registerWrite('/proc/slabinfo', (text) => slabinfoWrite(sc, text, this.pageAlloc.cpu));
      return;
    }
    this.printk.printk(`SLUB: HWalign=64, Order=${slubMinOrder}-${slubMaxOrder}, MinObjects=${slubMinObjects}, CPUs=${cpus}, Nodes=1\n`);
    this.slab.init();
    this.kmallocApi.buildSizeTable();
    this.proc.register('/proc/slabinfo', () => slabinfo(this.slab));
    this.proc.registerDir((path) => sysSlabRead(this.slab, path));
    if (c.smp) this.smpInit(c);
  }

  /** smp_init() for CPU threads: the control block, the IPIs each layer serves, and the buffers a worker attaches to. */
  private smpInit(c: CheckedOptions): void {
    const smp = this.smp!;
    this.smpOptions = structuredClone(c.opts);
    const pa = this.pageAlloc as PageAllocSmp;
    const slub = this.slub as SlubSmp;
    smp.handler = (op, arg) => {
      if (op === Ipi.FLUSH_CPU_SLAB) slub.flushOwn(arg);
      else if (op === Ipi.DRAIN_PAGES) pa.drainCpu(smp.cpu);
    };
    smp.applyRecord = (rec) => this.slab.applyRecord(rec);
    if (this.kasan !== null) kasanSmpReports(this.kasan, smp);
    // /proc/slabinfo lists the caches every CPU created: catch up with the cache table first.
    this.proc.register('/proc/slabinfo', () => {
      smp.syncCaches();
      return slabinfo(this.slab);
    });
    this.smpBuffers = collectShared(this);
  }

  // The KasanHost side: what KASAN's reports read of the machine.
  get currentCpu(): number {
    return this.pageAlloc.cpu;
  }
  dumpStack(): string[] {
    return this.bugs.dumpStack();
  }
  reportBug(kind: string, lines: string[]): void {
    this.bugs.reportBug(kind, lines);
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

  /** Pages held by slabs and large kmallocs (NR_SLAB_RECLAIMABLE_B / UNRECLAIMABLE_B in pages). */
  slabPages(reclaimable: boolean): number {
    if (this.slob !== null) return reclaimable ? 0 : this.slob.slabPagesUnreclaimable;
    if (this.slabCaches !== null) return reclaimable ? this.slabCaches.s.slabPagesReclaimable : this.slabCaches.s.slabPagesUnreclaimable;
    return reclaimable ? this.slub.slabPagesReclaimable : this.slub.slabPagesUnreclaimable;
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
    for (const id of this.slab.slabCaches) ops += this.slub.allocsOf(id) + this.slub.freesOf(id);
    const ns = 1_000_000 + ops * 50;
    if (ns > this.printk.nowNs) this.printk.setClock(ns);
  }

  /** bad_page(): "BUG: Bad page state" with the page dump and the stack. */
  badPage(pfn: number, reason: string): void {
    const zone = this.pageAlloc.pageZone(pfn);
    this.bugs.reportBug('bad_page', [...badPageLines(this.pages, pfn, zone, reason, this.task.comm), ...this.bugs.dumpStack()]);
  }

  /** warn_alloc(): the allocation-failure warning and the Mem-Info summary. */
  private warnAlloc(order: number, gfp: number): void {
    if (!this.bugs.ratelimited(this.nopageRs)) return;
    this.bugs.log([
      warnAllocHeader(this.task.comm, order, gfp),
      ...this.bugs.dumpStack(),
      ...showFreeAreas(this.pageAlloc, this.slabPages(true), this.slabPages(false)),
    ]);
  }

  /**
   * free_area_init() and mm_core_init()'s page allocator part: the zones,
   * the boot messages, the watermarks (init_per_zone_wmark_min, then
   * hugepage_init()'s raise when THP is on), lowmem reserves and pagesets.
   */
  private pageAllocInit(ranges: [number, number][], userMinFree: number | undefined, thp: 'always' | 'madvise' | 'never', reserved = 0): void {
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
    // memblock's reservations, top-down: from the highest zone's top, each zone keeping a pageblock
    const take: number[] = new Array(MAX_NR_ZONES).fill(0);
    let left = reserved;
    for (let z = MAX_NR_ZONES - 1; z >= 0 && left > 0; z--) {
      const [s, e] = ranges[z]!;
      const t = Math.min(left, Math.max(0, e - s - pageblock_nr_pages));
      take[z] = t;
      left -= t;
    }
    if (left > 0) throw new RangeError(`reserved: ${reserved} pages do not fit beside a pageblock of each zone`);
    for (let z = 0; z < MAX_NR_ZONES; z++) {
      const [s, e] = ranges[z]!;
      if (e > s) pa.initZone(z, s, e, take[z]!);
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
      // Above half of lowmem the min watermark alone takes more than half of
      // every zone and the low watermark most of it: nothing could be
      // allocated. The kernel takes such a value and fails every allocation;
      // kmem refuses it.
      const limit = Math.floor((lowmem * 4) / 2);
      if (userMinFree > limit)
        throw new RangeError(`minFreeKbytes: ${userMinFree} kB is more than half of this machine's lowmem (${limit} kB): every allocation would fail`);
      if (userMinFree > minFree) minFree = userMinFree;
    }
    setupPerZoneWmarks(pa.zones, minFree);
    // hugepage_init(): on a machine under 512 MiB THP stays off and
    // khugepaged never starts; otherwise set_recommended_min_free_kbytes()
    // raises min_free_kbytes to keep pageblocks free for huge pages.
    if (thp !== 'never' && totalManaged >= THP_MIN_TOTALRAM_PAGES) {
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
}

function intOption(v: unknown, name: string, lo: number, hi: number, dflt: number): number {
  if (v === undefined) return dflt;
  checkInteger(v, name, lo, hi);
  return v;
}
