/**
 * KASAN when each CPU is a worker thread (boot({ smp: 'workers', kasan:
 * 'generic' })): what src/kasan keeps in thread-local arrays, kept in
 * SharedArrayBuffers instead, so that an object freed on one CPU and then
 * touched on another is reported there with both tracks. The shadow is
 * already shared (Shadow's `shared` option); this file gives
 *
 *   SharedObjectMeta    the per-object alloc / free / aux tracks
 *   SharedQuarantine    mm/kasan/quarantine.c's per-CPU qlists and global
 *                       ring of batches, with its locks
 *   kasanSmpParts()     both, and the shared stack depot, for Kasan's constructor
 *
 * Metadata records are addressed directly, not allocated: object i of the
 * slab headed at pfn has record pfn * R + i, R = RECORDS_PER_PAGE. A slab of
 * 2^order pages owns the records of its pfns, R << order of them, which is
 * enough while no slot is smaller than PAGE_SIZE / R bytes (KASAN's
 * metadata makes every slot at least 32). A slab with more objects than
 * that gets no records (its tracks are not saved, as when the kernel cannot
 * fit the metadata). Nothing to allocate means nothing to lock: a record is
 * written only by the CPU that allocates or frees its object, and SLUB's
 * own ordering (the cmpxchg of the slab's freelist, the list locks) orders
 * one CPU's free before another's allocation of the same object.
 *
 * Records take RAM / PAGE_SIZE * R * 64 bytes of address space; a
 * SharedArrayBuffer's pages that are never touched cost no memory.
 */

import type { Kasan } from '../kasan/common.js';
import { QUARANTINE_PERCPU_SIZE } from '../kasan/kasan.js';
import {
  I_ALLOC_CPU,
  I_ALLOC_PID,
  I_ALLOC_STACK,
  I_AUX0,
  I_AUX1,
  I_FIELDS,
  I_FREE_CPU,
  I_FREE_PID,
  I_FREE_STACK,
  ObjectMeta,
  type RawTrack,
} from '../kasan/meta.js';
import { Quarantine, type QuarantineRelease } from '../kasan/quarantine.js';
import type { StackDepot } from '../lib/stackdepot.js';
import type { PageArray } from '../memory/page.js';
import { CF } from '../slub/slab.js';
import type { Slub } from '../slub/slub.js';
import type { SmpState } from './smp.js';
import { spinLock, spinUnlock } from './spinlock.js';
import type { SharedStackDepot } from './stackdepot_shared.js';

const PAGE_SHIFT = 12;
const PAGE_SIZE = 1 << PAGE_SHIFT;
/** Records per page of RAM: one per 32 bytes, KASAN's smallest slot. */
const RECORDS_PER_PAGE = PAGE_SIZE / 32;

/** ObjectMeta's records in shared memory, addressed by pfn and object index (see above). */
export class SharedObjectMeta extends ObjectMeta {
  private readonly pagesRef: PageArray;
  /** Objects with records of the slab headed at pfn (0: none). */
  private readonly count: Int32Array;
  private readonly ri32: Int32Array;
  private readonly rf64: Float64Array;
  /** Records there are (nrPages * RECORDS_PER_PAGE). */
  readonly capacity: number;

  constructor(pages: PageArray) {
    super(1);
    this.pagesRef = pages;
    this.capacity = pages.nr * RECORDS_PER_PAGE;
    this.count = new Int32Array(new SharedArrayBuffer(pages.nr * 4));
    this.ri32 = new Int32Array(new SharedArrayBuffer(this.capacity * I_FIELDS * 4));
    this.rf64 = new Float64Array(new SharedArrayBuffer(this.capacity * 2 * 8));
  }

  /** A new slab (on the CPU that allocated it): its records zeroed. */
  override initSlab(pfn: number, objects: number): void {
    const fits = objects <= RECORDS_PER_PAGE << this.pagesRef.order[pfn]!;
    const base = pfn * RECORDS_PER_PAGE;
    if (fits) {
      this.ri32.fill(0, base * I_FIELDS, (base + objects) * I_FIELDS);
      this.rf64.fill(0, base * 2, (base + objects) * 2);
    }
    this.count[pfn] = fits ? objects : 0;
  }

  override releaseSlab(pfn: number): void {
    this.count[pfn] = 0;
  }

  override hasSlab(pfn: number): boolean {
    return this.count[pfn]! > 0;
  }

  override record(pfn: number, index: number): number {
    if (index < 0 || index >= this.count[pfn]!) return -1;
    return pfn * RECORDS_PER_PAGE + index;
  }

  override setAlloc(r: number, pid: number, cpu: number, ts: number, stack: number): void {
    const o = r * I_FIELDS;
    const a = this.ri32;
    a[o + I_ALLOC_PID] = pid;
    a[o + I_ALLOC_CPU] = cpu;
    a[o + I_ALLOC_STACK] = stack;
    a[o + I_AUX0] = 0;
    a[o + I_AUX1] = 0;
    this.rf64[r * 2] = ts;
  }

  override setFree(r: number, pid: number, cpu: number, ts: number, stack: number): void {
    const o = r * I_FIELDS;
    this.ri32[o + I_FREE_PID] = pid;
    this.ri32[o + I_FREE_CPU] = cpu;
    this.ri32[o + I_FREE_STACK] = stack;
    this.rf64[r * 2 + 1] = ts;
  }

  override addAux(r: number, stack: number): void {
    const o = r * I_FIELDS;
    this.ri32[o + I_AUX1] = this.ri32[o + I_AUX0]!;
    this.ri32[o + I_AUX0] = stack;
  }

  override allocStack(r: number): number {
    return this.ri32[r * I_FIELDS + I_ALLOC_STACK]!;
  }

  override alloc(r: number): RawTrack {
    const o = r * I_FIELDS;
    return { pid: this.ri32[o + I_ALLOC_PID]!, cpu: this.ri32[o + I_ALLOC_CPU]!, ts: this.rf64[r * 2]!, stack: this.ri32[o + I_ALLOC_STACK]! };
  }

  override free(r: number): RawTrack {
    const o = r * I_FIELDS;
    return { pid: this.ri32[o + I_FREE_PID]!, cpu: this.ri32[o + I_FREE_CPU]!, ts: this.rf64[r * 2 + 1]!, stack: this.ri32[o + I_FREE_STACK]! };
  }

  override aux(r: number): [number, number] {
    const o = r * I_FIELDS;
    return [this.ri32[o + I_AUX0]!, this.ri32[o + I_AUX1]!];
  }

  // The shared depot's handles are final when saved: it never asks where they went.
  override holds(_where: number, _handle: number): boolean {
    return false;
  }

  override replace(_where: number, _handle: number, _resolved: number): void {}
}

const enum QCtl {
  /** quarantine_lock: the global ring, its head, tail and size. */
  LOCK = 0,
  HEAD = 1,
  TAIL = 2,
  /** quarantine_size in bytes (read unlocked, as READ_ONCE). */
  SIZE = 3,
  /** Then one lock per CPU's qlist. */
  CPU_LOCKS = 4,
}

/**
 * The quarantine with CPU threads. As mm/kasan/quarantine.c: a free goes on
 * its CPU's qlist; past QUARANTINE_PERCPU_SIZE the whole qlist moves to the
 * global tail batch under quarantine_lock; reduce() detaches the oldest
 * batch under the lock and frees it after dropping it (the objects go back
 * to SLUB from whichever CPU reduces: remote frees).
 *
 * The kernel's per-CPU qlist needs no lock (only its CPU touches it, with
 * interrupts off), and kasan_quarantine_remove_cache() reaches the other
 * CPUs' qlists by IPI. kmem gives each qlist a lock word instead, taken by
 * its CPU on each free (uncontended: one compareExchange) and by
 * removeCache() from whichever CPU destroys the cache. Lock order: a CPU's
 * qlist lock, then quarantine_lock.
 *
 * The qlist nodes are indexed by the object's metadata record (each object
 * is in the quarantine at most once), so queueing allocates nothing.
 */
export class SharedQuarantine extends Quarantine {
  private readonly qctl: Int32Array;
  private readonly qh: Int32Array;
  private readonly qt: Int32Array;
  private readonly qb: Int32Array;
  private readonly nx: Int32Array;
  private readonly nobj: Uint32Array;
  private readonly ncache: Int32Array;
  private readonly nsize: Int32Array;
  private readonly nq: number;
  private readonly ncpus: number;
  private readonly rel: QuarantineRelease;
  private readonly recordOf: (cache: number, obj: number) => number;

  constructor(totalRamBytes: number, cpus: number, records: number, release: QuarantineRelease, recordOf: (cache: number, obj: number) => number) {
    super(totalRamBytes, cpus, release);
    this.ncpus = cpus;
    this.rel = release;
    this.recordOf = recordOf;
    this.nq = cpus + this.batches;
    const sab = (bytes: number) => new SharedArrayBuffer(bytes);
    this.qctl = new Int32Array(sab((QCtl.CPU_LOCKS + cpus) * 4));
    this.qh = new Int32Array(sab(this.nq * 4)).fill(-1);
    this.qt = new Int32Array(sab(this.nq * 4)).fill(-1);
    this.qb = new Int32Array(sab(this.nq * 4));
    this.nx = new Int32Array(sab(records * 4));
    this.nobj = new Uint32Array(sab(records * 4));
    this.ncache = new Int32Array(sab(records * 4));
    this.nsize = new Int32Array(sab(records * 4));
    // quarantine_size is shared: every CPU reads the one word.
    Object.defineProperty(this, 'size', { get: () => Atomics.load(this.qctl, QCtl.SIZE), set: () => {}, enumerable: false, configurable: true });
  }

  /** qlist_put(), the caller holding q's lock. */
  private putNode(q: number, node: number): void {
    this.nx[node] = -1;
    if (this.qh[q]! < 0) this.qh[q] = node;
    else this.nx[this.qt[q]!] = node;
    this.qt[q] = node;
    this.qb[q]! += this.nsize[node]!;
  }

  /** qlist_move_all(), the caller holding both lists' locks. */
  private moveList(from: number, to: number): void {
    const h = this.qh[from]!;
    if (h < 0) return;
    if (this.qh[to]! < 0) this.qh[to] = h;
    else this.nx[this.qt[to]!] = h;
    this.qt[to] = this.qt[from]!;
    this.qb[to]! += this.qb[from]!;
    this.qh[from] = -1;
    this.qt[from] = -1;
    this.qb[from] = 0;
  }

  /** kasan_quarantine_put() on `cpu` (this thread's CPU). */
  override push(cache: number, obj: number, slotSize: number, cpu: number): void {
    const node = this.recordOf(cache, obj);
    if (node < 0) {
      // No record to link it by: it skips the quarantine.
      this.rel(cache, obj);
      return;
    }
    this.nobj[node] = obj;
    this.ncache[node] = cache;
    this.nsize[node] = slotSize;
    const ctl = this.qctl;
    spinLock(ctl, QCtl.CPU_LOCKS + cpu);
    this.putNode(cpu, node);
    if (this.qb[cpu]! > QUARANTINE_PERCPU_SIZE) {
      spinLock(ctl, QCtl.LOCK);
      const bytes = this.qb[cpu]!;
      const tail = ctl[QCtl.TAIL]!;
      const t = this.ncpus + tail;
      this.moveList(cpu, t);
      Atomics.add(ctl, QCtl.SIZE, bytes);
      if (this.qb[t]! >= this.batchSize) {
        let next = tail + 1;
        if (next === this.batches) next = 0;
        if (next !== ctl[QCtl.HEAD]) ctl[QCtl.TAIL] = next;
      }
      spinUnlock(ctl, QCtl.LOCK);
    }
    spinUnlock(ctl, QCtl.CPU_LOCKS + cpu);
  }

  /** kasan_quarantine_reduce(): the oldest batch detached under quarantine_lock, freed after it. */
  override reduce(): void {
    const ctl = this.qctl;
    if (Atomics.load(ctl, QCtl.SIZE) <= this.maxSize) return;
    spinLock(ctl, QCtl.LOCK);
    let node = -1;
    if (ctl[QCtl.SIZE]! > this.maxSize) {
      const head = ctl[QCtl.HEAD]!;
      const q = this.ncpus + head;
      node = this.qh[q]!;
      Atomics.sub(ctl, QCtl.SIZE, this.qb[q]!);
      this.qh[q] = -1;
      this.qt[q] = -1;
      this.qb[q] = 0;
      ctl[QCtl.HEAD] = head + 1 === this.batches ? 0 : head + 1;
    }
    spinUnlock(ctl, QCtl.LOCK);
    this.freeChain(node);
  }

  /** qlist_free_all() of a detached chain. */
  private freeChain(node: number): void {
    while (node >= 0) {
      const next = this.nx[node]!;
      this.nx[node] = -1;
      this.rel(this.ncache[node]!, this.nobj[node]!);
      node = next;
    }
  }

  /** kasan_quarantine_remove_cache(): every CPU's qlist under its lock, then the global ring under quarantine_lock. */
  override removeCache(cache: number): void {
    let chosenHead = -1;
    let chosenTail = -1;
    const ctl = this.qctl;
    const take = (q: number): number => {
      let node = this.qh[q]!;
      this.qh[q] = -1;
      this.qt[q] = -1;
      this.qb[q] = 0;
      let moved = 0;
      while (node >= 0) {
        const next = this.nx[node]!;
        if (this.ncache[node] === cache) {
          this.nx[node] = -1;
          if (chosenHead < 0) chosenHead = node;
          else this.nx[chosenTail] = node;
          chosenTail = node;
          moved += this.nsize[node]!;
        } else {
          this.putNode(q, node);
        }
        node = next;
      }
      return moved;
    };
    for (let cpu = 0; cpu < this.ncpus; cpu++) {
      spinLock(ctl, QCtl.CPU_LOCKS + cpu);
      take(cpu);
      spinUnlock(ctl, QCtl.CPU_LOCKS + cpu);
    }
    spinLock(ctl, QCtl.LOCK);
    for (let q = this.ncpus; q < this.nq; q++) Atomics.sub(ctl, QCtl.SIZE, take(q));
    spinUnlock(ctl, QCtl.LOCK);
    this.freeChain(chosenHead);
  }

  /** Objects and bytes held (a snapshot taken without the locks: for tests and the CLI). */
  override stats(): { objects: number; bytes: number; globalBytes: number } {
    let objects = 0;
    let bytes = 0;
    for (let q = 0; q < this.nq; q++) {
      for (let node = this.qh[q]!; node >= 0; node = this.nx[node]!) objects++;
      bytes += this.qb[q]!;
    }
    return { objects, bytes, globalBytes: Atomics.load(this.qctl, QCtl.SIZE) };
  }

  override contains(obj: number): boolean {
    for (let q = 0; q < this.nq; q++) {
      for (let node = this.qh[q]!; node >= 0; node = this.nx[node]!) if (this.nobj[node] === obj) return true;
    }
    return false;
  }
}

/** What Kasan's constructor takes instead of its thread-local parts (KasanOptions.smpParts). */
export interface KasanParts {
  meta: ObjectMeta;
  depot: StackDepot;
  quarantine: Quarantine;
}

/** The shared metadata and quarantine of a KASAN machine with CPU threads, and the machine's shared stack depot. */
export function kasanSmpParts(
  pages: PageArray,
  slub: Slub,
  cpus: number,
  depot: SharedStackDepot,
): (ramBytes: number, release: QuarantineRelease) => KasanParts {
  return (ramBytes, release) => {
    const meta = new SharedObjectMeta(pages);
    const recordOf = (s: number, obj: number): number => {
      const pfn = obj >>> PAGE_SHIFT;
      const h = pages.head[pfn]!;
      const head = h < 0 ? pfn : h;
      const r = s * CF.FIELDS;
      return meta.record(head, Math.floor((obj - head * PAGE_SIZE - slub.cf[r + CF.RED_LEFT_PAD]!) / slub.cf[r + CF.SIZE]!));
    };
    return { meta, depot, quarantine: new SharedQuarantine(ramBytes, cpus, meta.capacity, release, recordOf) };
  };
}

/**
 * A report describes the object's cache, which another CPU may have
 * created since this one last looked at the cache table: each report
 * catches up first (the allocator hooks do the same, src/smp/slub_smp.ts).
 */
export function kasanSmpReports(kasan: Kasan, smp: SmpState): void {
  const report = kasan.report.bind(kasan);
  const reportFree = kasan.reportFree.bind(kasan);
  kasan.report = (addr, size, write) => {
    smp.syncCaches();
    return report(addr, size, write);
  };
  kasan.reportFree = (addr, type) => {
    smp.syncCaches();
    return reportFree(addr, type);
  };
}
