/**
 * The kmem API: what a program does with a booted machine (the kernel's
 * allocation interfaces, in camelCase), on top of the layers start_kernel()
 * wired together (src/init/main.ts).
 *
 * Each entry point checks its arguments (a TypeError/RangeError naming the
 * argument) and calls into its layer; the allocation fast paths accept
 * every valid argument with one test each and take the full checks out of
 * line. The fields marked internal are the layers themselves: for kmem's own
 * front ends and tests, not part of the published API (`k.inspect` is the
 * read-only view for tools).
 */

import type { RootFs } from './fs/rootfs.js';
import type { BootOptions, DiskConfig } from './init/boot_options.js';
import { checkBootOptions } from './init/boot_options.js';
import { Machine, type Task } from './init/main.js';
import { Inspector } from './inspect.js';
import type { Kasan } from './kasan/common.js';
import { kernel70Class } from './kernel70.js';
import { checkFunction, checkInteger, describe } from './lib/argcheck.js';
import type { BugReporter, KernelBugKind } from './lib/bug.js';
import type { Printk } from './lib/printk.js';
import { beginEntry, captureStack, endEntry, entryLimit, entryStackTrace, NativeError } from './lib/stacktrace.js';
import type { TimerBase } from './lib/timer.js';
import type { MemAccess } from './memory/access.js';
import { PAGE_SIZE, Page, type PhysMem } from './memory/memblock.js';
import type { PageArray } from './memory/page.js';
import { pageAllocFastPaths, pageAllocFastPathsApply } from './page_alloc/fastpath.js';
import { __GFP_NOMEMALLOC, __GFP_NORETRY, __GFP_NOWARN, __GFP_ZERO, GFP_KERNEL, GfpMask } from './page_alloc/gfp.js';
import { MAX_PAGE_ORDER, Order } from './page_alloc/mmzone.js';
import type { PageAlloc } from './page_alloc/page_alloc.js';
import type { ProcFs } from './proc/procfs.js';
import { slabKernelClass } from './slab_kernel.js';
import { slobKernelClass } from './slob_kernel.js';
import { slubFastPaths, slubFastPathsApply } from './slub/fastpath.js';
import { Kmalloc } from './slub/kmalloc.js';
import { KMALLOC_MAX_SIZE, KmallocConst, kmallocSizeRoundup, ZERO_SIZE_PTR } from './slub/kmalloc_info.js';
import { KvfreeRcu } from './slub/kvfree_rcu.js';
import type { PrefilledSheaf } from './slub/sheaf.js';
import { CF, KmemHandle, MAX_CACHES } from './slub/slab.js';
import type { KmemCacheArgs, SlabCommon } from './slub/slab_common.js';
import type { Slub } from './slub/slub.js';
import { smpCacheCreate, smpCacheDestroy } from './smp/cache_table.js';
import type { PageAllocSmp } from './smp/page_alloc_smp.js';
import type { Task as VmTask } from './vm/fork.js';
import { registerLruGenSysfs } from './vm/lru_gen_sysfs.js';
import { ksysSync } from './vm/page-writeback.js';
import { DEFAULT_SEEKS, registerShrinker, SHRINK_EMPTY, SHRINK_STOP } from './vm/shrinker.js';
import { Vm } from './vm/vm.js';

export type { BootOptions, DiskOptions, RamBuffer, ZoneSizes } from './init/boot_options.js';
export type { Task } from './init/main.js';

/** What attach() takes: k.handle of a machine booted with smp: 'workers'. */
export interface SmpHandle {
  readonly kmemSmp: 1;
  readonly options: BootOptions;
  readonly buffers: SharedArrayBuffer[];
}
export { UTS_RELEASE } from './lib/utsrelease.js';

/** A kmem_cache handle. */
export type KmemCache = number;

export class Kernel {
  /** Loads and stores in physical memory (checked against KASAN's shadow on a KASAN machine). */
  readonly mem: MemAccess;
  /** Number of CPUs. */
  readonly cpus: number;
  /** The seed every random choice follows. */
  readonly seed: number;
  /** What a caught bug does after its report. */
  readonly onBug: 'report' | 'throw';
  /** /proc and /sys: `k.proc.read(path)`. */
  readonly proc: ProcFs;
  /** The same files: `k.sys.read('/sys/kernel/slab/<cache>/<attr>')`. */
  readonly sys: ProcFs;
  /** A read-only view of the machine's state for tools: caches, slabs, pages, zones, shadow. */
  readonly inspect: Inspector;
  /** @internal Generic KASAN, when booted with `kasan: 'generic'`; null otherwise. */
  readonly kasan: Kasan | null;
  /** @internal */ readonly machine: Machine;
  /** @internal */ readonly phys: PhysMem;
  /** @internal */ readonly pages: PageArray;
  /** @internal */ readonly pageAlloc: PageAlloc;
  /** @internal */ readonly printk: Printk;
  /** @internal */ readonly bugs: BugReporter;
  /** @internal */ readonly slub: Slub;
  /** @internal */ readonly slab: SlabCommon;
  /** @internal */ readonly kmallocApi: Kmalloc;

  /** @internal Use boot(). */
  constructor(m: Machine) {
    this.machine = m;
    this.mem = m.mem;
    this.cpus = m.cpus;
    this.seed = m.seed;
    this.onBug = m.onBug;
    this.proc = m.proc;
    this.sys = m.proc;
    this.kasan = m.kasan;
    this.phys = m.phys;
    this.pages = m.pages;
    this.pageAlloc = m.pageAlloc;
    this.printk = m.printk;
    this.bugs = m.bugs;
    this.slub = m.slub;
    this.slab = m.slab;
    this.kmallocApi = m.kmallocApi;
    // 6.18's lockless fast paths as own closures of a plain machine (src/slub/fastpath.ts).
    if (new.target === Kernel && slubFastPathsApply(m.slub, m.allocator === 'slub', m.kasan !== null, m.smp !== null)) {
      Object.assign(this, slubFastPaths(m.slub, m.kmallocApi.sizeToCache, m.phys.size, this, Kernel.prototype));
    }
    // The order-0 page allocator's pcp fast paths, likewise (src/page_alloc/fastpath.ts).
    if (new.target === Kernel && pageAllocFastPathsApply(m.pageAlloc, m.kasan !== null, m.smp !== null)) {
      Object.assign(this, pageAllocFastPaths(m.pageAlloc, m.phys.size, this, Kernel.prototype));
    }
    this.inspect = new Inspector(m, () => this.vmState);
    this.swapBytes = m.swapBytes;
    this.lruGen = m.lruGen;
    registerLruGenSysfs(
      this.proc,
      () => this.vmState,
      () => this.vm,
    );
    // swapon at boot: the swap partition needs the VM half (its disk and the swap cache).
    if (m.swapBytes > 0 || m.lruGen) void this.vm;
  }

  /** @internal The `swap` boot option in bytes (0: no swap). */
  readonly swapBytes: number;
  /** @internal The `lruGen` boot option. */
  readonly lruGen: boolean;

  /** vm.min_free_kbytes. */
  get minFreeKbytes(): number {
    return this.machine.minFreeKbytes;
  }

  // ───────────────────────── CPUs and tasks ─────────────────────────

  /** The CPU that runs now: whose per-CPU lists allocations use. */
  get currentCpu(): number {
    return this.pageAlloc.cpu;
  }

  /** Run fn as CPU n and return its result; the previous CPU is restored after. */
  onCpu<T>(n: number, fn: () => T): T {
    checkInteger(n, 'cpu', 0, this.cpus - 1);
    checkFunction(fn, 'fn');
    const smp = this.machine.smp;
    if (smp !== null && n !== smp.cpu) throw new RangeError(`cpu: with smp: 'workers' this thread is CPU ${smp.cpu}; CPU ${n} is another thread's (attach())`);
    const prev = this.pageAlloc.cpu;
    this.setCpu(n);
    try {
      return fn();
    } finally {
      this.setCpu(prev);
    }
  }

  /** Switch the running CPU (layers above keep their own copy in sync). */
  private setCpu(n: number): void {
    this.pageAlloc.cpu = n;
    this.slub.setCpu(n);
  }

  // ───────────────────────── CPU threads (smp: 'workers') ─────────────────────────

  /**
   * What a worker needs to attach to this machine as another CPU:
   * structured-cloneable (postMessage it). Booted with smp: 'workers' only.
   */
  get handle(): SmpHandle {
    const m = this.machine;
    if (m.smp === null) throw new Error("handle: boot with smp: 'workers' to run CPUs on other threads");
    return { kmemSmp: 1, options: m.smpOptions, buffers: m.smpBuffers };
  }

  /**
   * Serve the requests other CPUs queued to this one (flush_all,
   * drain_all_pages) and catch up with the caches they created: call it
   * when a CPU thread idles.
   */
  poll(): void {
    const smp = this.machine.smp;
    if (smp === null) return;
    smp.poll();
    smp.syncCaches();
  }

  /**
   * Take this CPU offline (an attached thread, before it ends): its cpu
   * slabs, cpu partial lists and pcp lists go back (the kernel's CPU-dead
   * callbacks), and another thread may attach to it.
   */
  detach(): void {
    const smp = this.machine.smp;
    if (smp === null || !smp.attached) throw new Error('detach: only a kernel made by attach() can go offline');
    const cpu = smp.cpu;
    smp.syncCaches();
    // Every live cache, those destroyed with objects left (off slab_caches) too.
    for (let s = 0; s < MAX_CACHES; s++) if (this.slub.cf[s * CF.FIELDS + CF.ALIVE] === 1) this.slub.flushCpuSlab(s, cpu);
    (this.pageAlloc as PageAllocSmp).drainCpu(cpu);
    smp.release();
    smp.attached = false;
  }

  /** The task that reports name ("by task comm/pid"). */
  get task(): Task {
    return this.machine.task;
  }

  /** Name the task later reports blame: `{ pid, comm }` (comm cut to 15 characters, as TASK_COMM_LEN). */
  setTask(task: Partial<Task>): void {
    if (typeof task !== 'object' || task === null) throw new TypeError(`task: expected an object { pid, comm }, got ${describe(task)}`);
    if (task.pid !== undefined) checkInteger(task.pid, 'task.pid', 0, 4194304);
    if (task.comm !== undefined && typeof task.comm !== 'string') throw new TypeError(`task.comm: expected a string, got ${describe(task.comm)}`);
    const cur = this.machine.task;
    this.machine.task = { pid: task.pid ?? cur.pid, comm: (task.comm ?? cur.comm).slice(0, 15) };
  }

  // ───────────────────────── printk and bugs ─────────────────────────

  /** Every line in the printk ring, with timestamps. */
  dmesg(): string[] {
    return this.printk.dmesg();
  }

  /**
   * Advance the virtual clock by ns nanoseconds. The timers that fall due on
   * the way run at their own times (src/lib/timer.ts): the flusher thread
   * (writeback of expired dirty pages every dirty_writeback_centisecs), the
   * completions of the disk's requests.
   */
  tick(ns: number): void {
    if (typeof ns !== 'number') throw new TypeError(`ns: expected a number of nanoseconds, got ${describe(ns)}`);
    if (!Number.isFinite(ns) || ns < 0) throw new RangeError(`ns: expected a non-negative number of nanoseconds, got ${describe(ns)}`);
    this.machine.timers.sleep(ns);
  }

  // ───────────────────────── RCU and kfree_rcu ─────────────────────────

  private kvfreeRcuState: KvfreeRcu | null = null;

  /** @internal kfree_rcu()'s per-CPU batching (src/slub/kvfree_rcu.ts), made on first use. */
  get kvfreeRcu(): KvfreeRcu {
    if (this.kvfreeRcuState === null) {
      if (this.machine.smp !== null) throw new Error("kfreeRcu: RCU is not shared between CPU threads yet (smp: 'workers')");
      // the VM half holds the shrinkers, the "slab-kvfree-rcu" one among them
      void this.vm;
      const rcu = this.machine.rcu;
      this.kvfreeRcuState = new KvfreeRcu(
        {
          rcu,
          timers: this.machine.timers,
          cpu: () => this.pageAlloc.cpu,
          getFreePage: () => this.allocPages(0, GFP_KERNEL | __GFP_NORETRY | __GFP_NOMEMALLOC | __GFP_NOWARN),
          freePage: (addr) => this.freePages(addr, 0),
          kvfree: (addr) => this.kfree(addr),
          recordAuxStack: (addr) => this.kasan?.recordAuxStack(addr),
          // kfree_bulk(): kmem frees each record as build_detached_freelist() takes them, from the last
          kfreeBulk: (addrs) => {
            for (let i = addrs.length - 1; i >= 0; i--) this.kfree(addrs[i]!);
          },
          sheafFree: this.machine.allocator === 'slub' && this.kasan === null ? (addr) => this.kfreeRcuSheaf(addr) : null,
          flushAllRcuSheaves: this.machine.allocator === 'slub' ? () => this.flushAllRcuSheaves() : null,
        },
        this.cpus,
      );
      this.slub.sheaves.rcuCall = (fn) => rcu.callRcu(fn);
    }
    return this.kvfreeRcuState;
  }

  /** kfree_rcu_sheaf(): a slab object of a cache with sheaves (every cache under 7.0) goes to the CPU's rcu_free sheaf. */
  private kfreeRcuSheaf(addr: number): boolean {
    const slub = this.slub;
    const head = slub.virtToSlab(addr);
    if (head < 0) return false;
    const s = this.pages.slabCache[head]!;
    if (!slub.kernel70 && slub.sheaves.caches[s] === undefined) return false;
    return slub.sheaves.kfreeRcuSheaf(s, addr, (fn) => this.machine.rcu.callRcu(fn));
  }

  /** flush_all_rcu_sheaves(): every CPU's rcu_free sheaf of every cache to call_rcu(), then rcu_barrier(). */
  private flushAllRcuSheaves(): void {
    const sheaves = this.slub.sheaves;
    for (const s of this.slab.slabCaches) {
      if (sheaves.caches[s] === undefined) continue;
      for (let cpu = 0; cpu < this.cpus; cpu++) sheaves.flushRcuSheaf(s, cpu);
    }
    this.machine.rcu.barrier();
  }

  /**
   * kfree_rcu(ptr, rhf): free a kmalloc'd or kmem_cache object after an RCU
   * grace period, batched per CPU as 6.18 batches it (a page of pointers,
   * drained 5 s later or as soon as a page is full, then freed a grace period
   * after that). The object must embed an rcu_head: kfree_rcu() may not
   * allocate. NULL does nothing.
   */
  kfreeRcu(addr: number): void {
    this.kvfreeCallRcu(addr, true);
  }

  /** kvfree_rcu_mightsleep(ptr): kfree_rcu() of an object without an rcu_head; may allocate, and may wait for a grace period. */
  kfreeRcuMightsleep(addr: number): void {
    this.kvfreeCallRcu(addr, false);
  }

  /** kvfree_call_rcu() behind both: the address checked, NULL and ZERO_SIZE_PTR ignored, the clock brought up to the call. */
  private kvfreeCallRcu(addr: number, hasHead: boolean): void {
    this.kmallocApi.checkAddr(addr);
    if (addr <= ZERO_SIZE_PTR) return;
    this.machine.syncClock();
    this.kvfreeRcu.kvfreeCallRcu(addr, hasHead);
  }

  /** kvfree_rcu_barrier(): every kfree_rcu() so far has freed its object when this returns (the clock moves). */
  kvfreeRcuBarrier(): void {
    this.kvfreeRcuState?.barrier();
  }

  /**
   * call_rcu(head, func): func(head) runs after a grace period (when the
   * virtual clock gets there: k.tick, synchronizeRcu, rcuBarrier). head is
   * the rcu_head's address, inside the object the callback will free; KASAN
   * records the caller's stack on that object (kasan_record_aux_stack), so a
   * later report on it shows "Last potentially related work creation".
   */
  callRcu(head: number, fn: (head: number) => void): void {
    this.kmallocApi.checkAddr(head, 'head');
    checkFunction(fn, 'fn');
    this.kasan?.recordAuxStack(head);
    this.machine.rcu.callRcu(() => fn(head));
  }

  /** synchronize_rcu(): wait for a full grace period (the virtual clock moves 8 ms, two jiffies). */
  synchronizeRcu(): void {
    this.machine.rcu.synchronize();
  }

  /** rcu_barrier(): wait until every call_rcu() callback queued so far has run. */
  rcuBarrier(): void {
    this.machine.rcu.barrier();
  }

  /** rcu_read_lock(): a grace period that would end inside the critical section waits for rcuReadUnlock(). */
  rcuReadLock(): void {
    this.machine.rcu.readLock();
  }

  /** rcu_read_unlock() */
  rcuReadUnlock(): void {
    this.machine.rcu.readUnlock();
  }

  /** @internal Timers on the virtual clock. */
  get timers(): TimerBase {
    return this.machine.timers;
  }

  /** @internal The disk the `disk` boot option describes. */
  get disk(): DiskConfig {
    return this.machine.disk;
  }

  /**
   * swapoff(2) of the swap partition ('/dev/vda2'): every swapped page comes
   * back into memory; 0, -EINVAL (not a swap area), -ENOMEM (memory cannot
   * hold it; the area stays on).
   */
  swapoff(path = '/dev/vda2'): number {
    return this.vm.swapoff(path);
  }

  /** swapon(2) of the swap partition the `swap` boot option made: 0, -EINVAL, -EBUSY (already on). */
  swapon(path = '/dev/vda2'): number {
    return this.vm.swapon(path);
  }

  /**
   * sync(2): every dirty page of every file is written, and the call returns
   * once the disk has completed every write (the virtual clock moves on by
   * the time that takes).
   */
  sync(): void {
    ksysSync(this.vm);
  }

  /** Has any report tainted the kernel? */
  get isTainted(): boolean {
    return this.bugs.taint.mask !== 0;
  }

  /** @internal The CPU/Hardware/Call Trace block of dump_stack(). */
  dumpStack(): string[] {
    return this.bugs.dumpStack();
  }

  /** @internal Bring the virtual clock up to date. */
  syncClock(): void {
    this.machine.syncClock();
  }

  /** @internal printk() a block of lines at the current virtual time. */
  log(lines: string[]): void {
    this.bugs.log(lines);
  }

  /** @internal Print a report for a bug the kernel catches, then follow onBug. */
  reportBug(kind: KernelBugKind, lines: string[]): void {
    this.bugs.reportBug(kind, lines);
  }

  /** @internal add_taint() */
  addTaint(flag: number, lockdepUnreliable: boolean): void {
    this.bugs.addTaint(flag, lockdepUnreliable);
  }

  /** @internal WARN() in `file`. */
  warn(text: string, file = 'mm/slub.c'): void {
    this.bugs.warn(text, file);
  }

  /** @internal The machine's seeded random number generator. */
  rand32(): number {
    return this.machine.rand32();
  }

  /** @internal Pages held by slabs and large kmallocs. */
  slabPages(reclaimable: boolean): number {
    return this.machine.slabPages(reclaimable);
  }

  /** slab validate (/sys/kernel/slab/<cache>/validate): the errors found, counted as lib/slub_kunit.c counts them. */
  slabValidate(cache: KmemCache): number {
    const s = this.slab.cacheOf(cache);
    // validate_store(): only a cache with slub_debug flags (kmem_cache_debug), else -EINVAL.
    if (this.slub.cf[s * CF.FIELDS + CF.DEBUG] === 0) {
      throw new RangeError(`cache: ${this.slub.caches[s]!.name} has no slub_debug flags; validate needs them (the kernel's validate_store returns -EINVAL)`);
    }
    return this.slub.debug!.validate(s);
  }

  // ───────────────────────── the slab allocator API ─────────────────────────

  /**
   * kmem_cache_create(): a cache handle (an existing cache's if the new one
   * merges into it). A handle names one cache of this kernel: after the
   * cache is destroyed, or on another booted kernel, it is a RangeError.
   */
  kmemCacheCreate(name: string, size: number, args: KmemCacheArgs = {}): KmemCache {
    if (typeof args !== 'object' || args === null) throw new TypeError(`args: expected an object of cache arguments, got ${describe(args)}`);
    const smp = this.machine.smp;
    if (smp !== null) {
      if (args.ctor !== undefined) throw new RangeError("args.ctor: a constructor cannot run on the other CPUs' threads (smp: 'workers')");
      if (args.sheafCapacity) throw new RangeError("args.sheafCapacity: sheaves are not shared between CPU threads yet (smp: 'workers')");
      return this.slab.handleOf(smpCacheCreate(smp, this.slab, name, () => this.slab.createCache(name, size, args)));
    }
    return this.slab.handleOf(this.slab.createCache(name, size, args));
  }

  /** kmem_cache_destroy(): objects left are reported as the kernel reports them. */
  kmemCacheDestroy(cache: KmemCache): void {
    const s = this.slab.cacheOf(cache);
    // in-flight kfree_rcu()s may hold objects of this cache: kvfree_rcu_barrier()
    this.kvfreeRcuState?.barrier();
    const name = this.slub.caches[s]!.name;
    const smp = this.machine.smp;
    const left = smp !== null ? smpCacheDestroy(smp, this.slab, s, () => this.slab.destroy(s)) : this.slab.destroy(s);
    if (left > 0) {
      // __kmem_cache_shutdown(): free_partial() lists each partial slab's objects (list_slab_objects).
      const debug = this.slub.debug!;
      debug.listSlabObjects(s);
      const caller = captureStack(1)[0];
      const from = caller !== undefined ? `${caller.fn} (${caller.file}:${caller.line})` : 'kmemCacheDestroy';
      this.warn(`kmem_cache_destroy ${name}: Slab cache still has objects when called from ${from}`, 'mm/slab_common.c');
      debug.flush();
    }
  }

  /** kmem_cache_shrink(): flush the CPUs and free empty slabs. */
  kmemCacheShrink(cache: KmemCache): void {
    this.slub.shrink(this.slab.cacheOf(cache));
  }

  kmemCacheAlloc(cache: KmemCache, gfp: number): number {
    if (this.kmallocApi.handleAccepted(cache) && gfpAccepted(gfp)) return this.kmallocApi.cacheAlloc(cache & KmemHandle.ID_MASK, gfp);
    return this.kmemCacheAllocChecked(cache, gfp);
  }

  /** kmem_cache_alloc() with the full argument checks and their messages. */
  private kmemCacheAllocChecked(cache: KmemCache, gfp: number): number {
    const s = this.slab.cacheOf(cache);
    checkGfp(gfp);
    return this.kmallocApi.cacheAlloc(s, gfp);
  }

  kmemCacheFree(cache: KmemCache, addr: number): void {
    const s = this.kmallocApi.handleAccepted(cache) ? cache & KmemHandle.ID_MASK : this.slab.cacheOf(cache);
    this.kmallocApi.cacheFree(s, addr);
  }

  /** kmem_cache_alloc_bulk(): n objects into out, returns n, or 0 (nothing allocated). */
  kmemCacheAllocBulk(cache: KmemCache, n: number, out: Uint32Array | number[], gfp = 0xcc0): number {
    const s = this.slab.cacheOf(cache);
    Kmalloc.checkSize(n, 'n');
    if (typeof out !== 'object' || out === null || typeof out.length !== 'number')
      throw new TypeError(`out: expected an array or Uint32Array, got ${describe(out)}`);
    if (out.length < n && out instanceof Uint32Array) throw new RangeError(`out: holds ${out.length} entries, ${n} needed`);
    checkGfp(gfp);
    return this.kmallocApi.allocBulk(s, gfp, n, out);
  }

  kmemCacheFreeBulk(cache: KmemCache, addrs: ArrayLike<number>): void {
    const s = this.slab.cacheOf(cache);
    if (typeof addrs !== 'object' || addrs === null || typeof addrs.length !== 'number')
      throw new TypeError(`addrs: expected an array or Uint32Array of addresses, got ${describe(addrs)}`);
    this.kmallocApi.freeBulk(s, addrs);
  }

  /**
   * kmem_cache_prefill_sheaf(): a sheaf of at least `size` objects of a cache
   * created with `sheafCapacity`, taken ahead of a section that must not
   * fail to allocate; null when memory runs out.
   */
  kmemCachePrefillSheaf(cache: KmemCache, gfp: number, size: number): PrefilledSheaf | null {
    const s = this.slab.cacheOf(cache);
    checkGfp(gfp);
    return this.kmallocApi.prefillSheaf(s, gfp, size);
  }

  /** kmem_cache_alloc_from_sheaf(): an object from a prefilled sheaf, 0 once it is empty. */
  kmemCacheAllocFromSheaf(cache: KmemCache, gfp: number, sheaf: PrefilledSheaf): number {
    const s = this.slab.cacheOf(cache);
    checkGfp(gfp);
    return this.kmallocApi.allocFromSheaf(s, gfp, sheaf);
  }

  /** kmem_cache_sheaf_size(): the objects left in a prefilled sheaf. */
  kmemCacheSheafSize(cache: KmemCache, sheaf: PrefilledSheaf): number {
    return this.kmallocApi.sheafSize(this.slab.cacheOf(cache), sheaf);
  }

  /** kmem_cache_return_sheaf(): give a prefilled sheaf back (what is left in it goes to the barn or the slabs). */
  kmemCacheReturnSheaf(cache: KmemCache, gfp: number, sheaf: PrefilledSheaf): void {
    const s = this.slab.cacheOf(cache);
    checkGfp(gfp);
    this.kmallocApi.returnSheaf(s, gfp, sheaf);
  }

  /** kmalloc(): 0 on failure, ZERO_SIZE_PTR (16) for size 0. */
  kmalloc(size: number, gfp: number): number {
    // The fast path, behind one test per argument: a whole size of a kmalloc
    // cache, and valid GFP_KERNEL-like flags (no kmalloc type bits: the
    // normal caches, through a size -> cache table, no kmalloc_type()).
    if (
      typeof size === 'number' &&
      size >>> 0 === size &&
      (size - 1) >>> 0 < KmallocConst.MAX_CACHE_SIZE &&
      typeof gfp === 'number' &&
      (gfp & GfpMask.KMALLOC_NORMAL) === gfp
    ) {
      return this.slub.slabAlloc(this.kmallocApi.sizeToCache[size]!, gfp, size);
    }
    return this.kmallocChecked(size, gfp);
  }

  /** kmalloc() off the fast path: the full argument checks, size 0, large sizes, the other kmalloc types. */
  private kmallocChecked(size: number, gfp: number): number {
    if (typeof size !== 'number' || size >>> 0 !== size) Kmalloc.checkSize(size);
    if (!gfpAccepted(gfp)) checkGfp(gfp);
    return this.kmallocApi.kmalloc(size, gfp);
  }

  kzalloc(size: number, gfp: number): number {
    if (!gfpAccepted(gfp)) checkGfp(gfp);
    return this.kmalloc(size, gfp | __GFP_ZERO);
  }

  /** kmalloc_array(): NULL when n * size overflows size_t. */
  kmallocArray(n: number, size: number, gfp: number): number {
    Kmalloc.checkSize(n, 'n');
    Kmalloc.checkSize(size);
    checkGfp(gfp);
    if (BigInt(n) * BigInt(size) > 0xffffffffffffffffn) return 0;
    const bytes = n * size;
    if (bytes > KMALLOC_MAX_SIZE) {
      checkGfp(gfp);
      return this.kmallocApi.kmalloc(Math.min(bytes, Number.MAX_SAFE_INTEGER), gfp);
    }
    return this.kmalloc(bytes, gfp);
  }

  kcalloc(n: number, size: number, gfp: number): number {
    checkGfp(gfp);
    return this.kmallocArray(n, size, gfp | __GFP_ZERO);
  }

  krealloc(addr: number, newSize: number, gfp: number): number {
    this.kmallocApi.checkAddr(addr);
    Kmalloc.checkSize(newSize, 'newSize');
    checkGfp(gfp);
    return this.kmallocApi.krealloc(addr, newSize, gfp);
  }

  kfree(addr: number): void {
    this.kmallocApi.kfree(addr);
  }

  /** kfree_sensitive(): zero the whole usable size, then free. */
  kfreeSensitive(addr: number): void {
    this.kmallocApi.checkAddr(addr);
    if (addr <= ZERO_SIZE_PTR) return;
    const n = this.kmallocApi.ksize(addr);
    if (n > 0 && (this.slub.hooks.checkByte === null || this.slub.hooks.checkByte(addr))) this.phys.u8.fill(0, addr, addr + n);
    this.kmallocApi.kfree(addr);
  }

  ksize(addr: number): number {
    this.kmallocApi.checkAddr(addr);
    if (addr <= ZERO_SIZE_PTR) return 0;
    // kasan_check_byte(): a report, and 0, for a freed object.
    if (this.kasan !== null && !this.kasan.checkByte(addr)) return 0;
    return this.kmallocApi.ksize(addr);
  }

  /** kasan_check_read(): check an access made some other way than k.mem; true if valid. */
  kasanCheckRead(addr: number, size: number): boolean {
    this.checkRange(addr, size);
    return this.kasan === null || this.kasan.checkRange(addr, size, false);
  }

  /** kasan_check_write() */
  kasanCheckWrite(addr: number, size: number): boolean {
    this.checkRange(addr, size);
    return this.kasan === null || this.kasan.checkRange(addr, size, true);
  }

  /** An address and a size whose range lies in physical memory, else the error naming which. */
  private checkRange(addr: number, size: number): void {
    this.kmallocApi.checkAddr(addr);
    Kmalloc.checkSize(size);
    if (addr + size > this.phys.size) throw new RangeError(`size: ${size} bytes at 0x${addr.toString(16)} run past the end of physical memory`);
  }

  /** kmemdup(): a kmalloc'd copy of len bytes at src. */
  kmemdup(src: number, len: number, gfp: number): number {
    this.kmallocApi.checkAddr(src, 'src');
    Kmalloc.checkSize(len, 'len');
    checkGfp(gfp);
    const p = this.kmalloc(len, gfp);
    if (p > ZERO_SIZE_PTR) this.mem.memcpy(p, src, len);
    return p;
  }

  kmallocSizeRoundup(n: number): number {
    Kmalloc.checkSize(n, 'n');
    return kmallocSizeRoundup(n);
  }

  /** A cache's handle by name (aliases resolve; the newest of a name), or -1. */
  kmemCacheByName(name: string): KmemCache {
    if (typeof name !== 'string') throw new TypeError(`name: expected a string, got ${describe(name)}`);
    this.machine.smp?.syncCaches();
    return this.slab.handleByName(name);
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
    this.kmallocApi.checkAddr(addr);
    if (addr === 0) return;
    const pfn = Math.floor(addr / PAGE_SIZE);
    if (addr % PAGE_SIZE !== 0) {
      this.machine.badPage(pfn, 'free_pages: address is not page-aligned');
      return;
    }
    this.pageAlloc.freePagesPfn(pfn, order);
  }

  /** __get_free_pages(): the same as allocPages for kmem's direct-mapped RAM. */
  getFreePages(gfp: number, order: number): number {
    checkGfp(gfp);
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

  /** @internal The virtual-memory half (src/vm), created on first use. */
  get vm(): Vm {
    if (this.vmState === null) {
      if (this.machine.smp?.attached)
        throw new Error(`the VM half (tasks, files) runs on the boot CPU only; this kernel is attached to CPU ${this.machine.smp.cpu}`);
      this.vmState = new Vm(this);
      // kvfree_rcu_init()'s "slab-kvfree-rcu" shrinker: drains the kfree_rcu batches and their cached pages under pressure
      registerShrinker(this.vmState, {
        name: 'slab-kvfree-rcu',
        countObjects: () => {
          const n = this.kvfreeRcuState?.shrinkCount() ?? 0;
          return n === 0 ? SHRINK_EMPTY : n;
        },
        scanObjects: (_vm, nrToScan) => {
          const freed = this.kvfreeRcuState?.shrinkScan(nrToScan) ?? 0;
          return freed === 0 ? SHRINK_STOP : freed;
        },
        seeks: DEFAULT_SEEKS,
        batch: 0,
        nrDeferred: 0,
      });
    }
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
  checkInteger(order, 'order', 0, MAX_PAGE_ORDER);
}

/**
 * One unsigned compare or two that accept every valid argument; checkOrder()
 * and checkGfp() run only for the rest, to throw with their messages.
 */
function orderAccepted(order: number): boolean {
  return typeof order === 'number' && order >>> 0 === order && order <= Order.MAX;
}

export function gfpAccepted(gfp: number): boolean {
  return typeof gfp === 'number' && (gfp & 0x7fffffff) === gfp && (gfp & GfpMask.MOVABLE_MASK) !== GfpMask.MOVABLE_MASK;
}

export function checkGfp(gfp: unknown): asserts gfp is number {
  if (typeof gfp !== 'number') throw new TypeError(`gfp: expected GFP flags (a number), got ${describe(gfp)}`);
  if (!Number.isInteger(gfp) || gfp < 0 || gfp > 0x7fffffff) throw new RangeError(`gfp: invalid GFP flags ${describe(gfp)}`);
  if ((gfp & GfpMask.MOVABLE_MASK) === GfpMask.MOVABLE_MASK) {
    throw new RangeError(`gfp: __GFP_MOVABLE and __GFP_RECLAIMABLE together name no migratetype (0x${gfp.toString(16)})`);
  }
}

/**
 * The API of a KASAN machine. Every object keeps the stacks of its
 * allocation and free: record the caller's stack once, as each API call
 * that allocates or frees objects begins (lib/stacktrace.ts beginEntry),
 * rather than deep inside the allocator for each save. Calls made from
 * inside kmem (kzalloc through kmalloc) use the record already there.
 * Chosen once at boot, so a machine without KASAN pays nothing for it.
 */
class KasanKernel extends Kernel {
  /**
   * Does this call record its caller's stack? Not inside a call that did
   * (kzalloc through kmalloc); and sampled stacks are recorded deep inside,
   * for the sampled objects only.
   */
  private entryStacks(): boolean {
    return entryStackTrace() === null && this.kasan!.stackCollection && this.kasan!.stackSampling === 1;
  }
  // Each method records the stack in its own frame (the NativeError made as
  // beginEntry's argument, after entryLimit() set the depth), so the record
  // holds the method and its callers and V8 walks no frame more.
  override kmalloc(size: number, gfp: number): number {
    if (!this.entryStacks()) return super.kmalloc(size, gfp);
    const outer = beginEntry(entryLimit(), new NativeError());
    try {
      return super.kmalloc(size, gfp);
    } finally {
      endEntry(outer);
    }
  }
  override kzalloc(size: number, gfp: number): number {
    if (!this.entryStacks()) return super.kzalloc(size, gfp);
    const outer = beginEntry(entryLimit(), new NativeError());
    try {
      return super.kzalloc(size, gfp);
    } finally {
      endEntry(outer);
    }
  }
  override kcalloc(n: number, size: number, gfp: number): number {
    if (!this.entryStacks()) return super.kcalloc(n, size, gfp);
    const outer = beginEntry(entryLimit(), new NativeError());
    try {
      return super.kcalloc(n, size, gfp);
    } finally {
      endEntry(outer);
    }
  }
  override kmallocArray(n: number, size: number, gfp: number): number {
    if (!this.entryStacks()) return super.kmallocArray(n, size, gfp);
    const outer = beginEntry(entryLimit(), new NativeError());
    try {
      return super.kmallocArray(n, size, gfp);
    } finally {
      endEntry(outer);
    }
  }
  override krealloc(addr: number, newSize: number, gfp: number): number {
    if (!this.entryStacks()) return super.krealloc(addr, newSize, gfp);
    const outer = beginEntry(entryLimit(), new NativeError());
    try {
      return super.krealloc(addr, newSize, gfp);
    } finally {
      endEntry(outer);
    }
  }
  override kfree(addr: number): void {
    if (!this.entryStacks()) {
      super.kfree(addr);
      return;
    }
    const outer = beginEntry(entryLimit(), new NativeError());
    try {
      super.kfree(addr);
    } finally {
      endEntry(outer);
    }
  }
  override kfreeSensitive(addr: number): void {
    if (!this.entryStacks()) {
      super.kfreeSensitive(addr);
      return;
    }
    const outer = beginEntry(entryLimit(), new NativeError());
    try {
      super.kfreeSensitive(addr);
    } finally {
      endEntry(outer);
    }
  }
  override kmemdup(src: number, len: number, gfp: number): number {
    if (!this.entryStacks()) return super.kmemdup(src, len, gfp);
    const outer = beginEntry(entryLimit(), new NativeError());
    try {
      return super.kmemdup(src, len, gfp);
    } finally {
      endEntry(outer);
    }
  }
  override kmemCacheAlloc(cache: KmemCache, gfp: number): number {
    if (!this.entryStacks()) return super.kmemCacheAlloc(cache, gfp);
    const outer = beginEntry(entryLimit(), new NativeError());
    try {
      return super.kmemCacheAlloc(cache, gfp);
    } finally {
      endEntry(outer);
    }
  }
  override kmemCacheFree(cache: KmemCache, addr: number): void {
    if (!this.entryStacks()) {
      super.kmemCacheFree(cache, addr);
      return;
    }
    const outer = beginEntry(entryLimit(), new NativeError());
    try {
      super.kmemCacheFree(cache, addr);
    } finally {
      endEntry(outer);
    }
  }
  override kmemCacheAllocBulk(cache: KmemCache, n: number, out: Uint32Array | number[], gfp?: number): number {
    if (!this.entryStacks()) return super.kmemCacheAllocBulk(cache, n, out, gfp);
    const outer = beginEntry(entryLimit(), new NativeError());
    try {
      return super.kmemCacheAllocBulk(cache, n, out, gfp);
    } finally {
      endEntry(outer);
    }
  }
  override kmemCacheFreeBulk(cache: KmemCache, addrs: ArrayLike<number>): void {
    if (!this.entryStacks()) {
      super.kmemCacheFreeBulk(cache, addrs);
      return;
    }
    const outer = beginEntry(entryLimit(), new NativeError());
    try {
      super.kmemCacheFreeBulk(cache, addrs);
    } finally {
      endEntry(outer);
    }
  }
  override kmemCacheShrink(cache: KmemCache): void {
    if (!this.entryStacks()) {
      super.kmemCacheShrink(cache);
      return;
    }
    const outer = beginEntry(entryLimit(), new NativeError());
    try {
      super.kmemCacheShrink(cache);
    } finally {
      endEntry(outer);
    }
  }
  override kmemCacheDestroy(cache: KmemCache): void {
    if (!this.entryStacks()) {
      super.kmemCacheDestroy(cache);
      return;
    }
    const outer = beginEntry(entryLimit(), new NativeError());
    try {
      super.kmemCacheDestroy(cache);
    } finally {
      endEntry(outer);
    }
  }
}

/** The SLOB and SLAB machines' API classes, made on the first boot that needs each. */
let SlobKernel: (new (m: Machine) => Kernel) | null = null;
let SlabKernel: (new (m: Machine) => Kernel) | null = null;
let Kernel70: (new (m: Machine) => Kernel) | null = null;

/**
 * Start a machine: check the options, run start_kernel(), hand back its API.
 * The allocator design picks the API's class once, here: SLUB's is Kernel
 * (KasanKernel with KASAN), SLOB's and SLAB's the classes of
 * src/slob_kernel.ts and src/slab_kernel.ts.
 */
export function boot(opts: BootOptions = {}): Kernel {
  const m = new Machine(checkBootOptions(opts));
  if (m.allocator === 'slob') {
    SlobKernel ??= slobKernelClass(Kernel, { gfpAccepted, checkGfp });
    return new SlobKernel(m);
  }
  if (m.allocator === 'slab') {
    SlabKernel ??= slabKernelClass(Kernel, { gfpAccepted, checkGfp });
    return new SlabKernel(m);
  }
  if (m.kasan !== null) return new KasanKernel(m);
  // kernel: '7.0': the sheaves' fast paths in the entry points (src/kernel70.ts).
  if (m.slub.kernel70) {
    Kernel70 ??= kernel70Class(Kernel);
    return new Kernel70(m);
  }
  return new Kernel(m);
}
