/**
 * Generic KASAN: the hooks the allocators call (mm/kasan/common.c), the
 * range check and the reports (generic.c, report.c), globals, mempool
 * annotations. A KASAN machine has one `Kasan`, reachable as `k.kasan`.
 *
 * Who poisons what:
 *
 *   page allocated (post_alloc_hook)        whole block 00
 *   page freed (free_pages_prepare)         whole block ff               KASAN_PAGE_FREE
 *   new slab (kasan_poison_slab)            whole slab  fc               KASAN_SLAB_REDZONE
 *   object allocated (kasan_slab_alloc,     [obj, obj+size) 00.. with the partial last granule,
 *     kasan_kmalloc)                        the rest of object_size fc
 *   object freed (kasan_slab_free)          round_up(object_size, 8) fb, first granule fa while
 *                                           the free track is valid; then into the quarantine
 *   large kmalloc (kasan_kmalloc_large)     [p, p+size) 00.., the rest of its pages fe
 *   global (register_global)                [g, g+size) 00.., the compiler's redzone f9
 *
 * Frees are checked before anything is touched: a pointer that is not the
 * start of an object is an invalid-free, one whose first byte is already
 * poisoned a double-free; either way the object is left alone.
 */
import type { KernelBugKind } from '../lib/bug.js';
import type { Printk } from '../lib/printk.js';
import { STACK_NOT_SAMPLED, StackDepot } from '../lib/stackdepot.js';
import type { PhysMem } from '../memory/memblock.js';
import { type PageArray, PGTY_slab } from '../memory/page.js';
import type { SlabWords } from '../page_alloc/debug.js';
import { __GFP_DIRECT_RECLAIM, GFP_KERNEL } from '../page_alloc/gfp.js';
import { Z_MANAGED } from '../page_alloc/mmzone.js';
import type { PageAlloc } from '../page_alloc/page_alloc.js';
import { CF } from '../slub/slab.js';
import { SLAB_KMALLOC, SLAB_TYPESAFE_BY_RCU } from '../slub/slab_flags.js';
import type { Slub } from '../slub/slub.js';
import {
  KASAN_GLOBAL_REDZONE,
  KASAN_GRANULE_MASK,
  KASAN_GRANULE_SIZE,
  KASAN_PAGE_FREE,
  KASAN_PAGE_REDZONE,
  KASAN_SLAB_FREE,
  KASAN_SLAB_FREE_META,
  KASAN_SLAB_REDZONE,
  type KasanReport,
} from './kasan.js';
import { ObjectMeta } from './meta.js';
import { Quarantine } from './quarantine.js';
import { kasanReport, type ReportSource } from './report.js';
import { Shadow } from './shadow.js';

const PAGE_SHIFT = 12;
const PAGE_SIZE = 1 << PAGE_SHIFT;
const MAX_NR_ZONES = 5;
/** Track saves between two full syncs of the virtual clock (Machine.syncClock sums every cache's counters). */
const CLOCK_SYNC_SAVES = 64;
/** The virtual clock's charge per object operation (Machine.syncClock). */
const NS_PER_OP = 50;

/** What KASAN needs of the machine; `Kernel` provides it. */
export interface KasanHost {
  readonly phys: PhysMem;
  readonly pages: PageArray;
  readonly pageAlloc: PageAlloc;
  readonly slub: Slub;
  readonly printk: Printk;
  readonly cpus: number;
  readonly task: { pid: number; comm: string };
  readonly currentCpu: number;
  dumpStack(): string[];
  reportBug(kind: KernelBugKind, lines: string[]): void;
  /** Bring printk's virtual clock up to date (for track timestamps). */
  syncClock?(): void;
}

export interface KasanOptions {
  /** kasan_multi_shot: print every report, not only the first. */
  multiShot?: boolean;
  /** Back the shadow with a SharedArrayBuffer. */
  shared?: boolean;
  /**
   * With CPU threads (smp: 'workers', src/smp/kasan_smp.ts): the metadata,
   * stack depot and quarantine, shared between threads, made here instead
   * of the thread-local ones.
   */
  smpParts?: (ramBytes: number, release: (cache: number, obj: number) => void) => { meta: ObjectMeta; depot: StackDepot; quarantine: Quarantine };
}

/** A global variable defined with defineGlobal(). */
export interface KasanGlobal {
  name: string;
  addr: number;
  size: number;
  /** Size with the compiler's redzone (what kallsyms would give as the symbol size). */
  sizeWithRedzone: number;
}

function roundUp(n: number, a: number): number {
  return Math.ceil(n / a) * a;
}

/**
 * The redzone the compiler puts after a global (LLVM's AddressSanitizer, as
 * the kernel builds it): at least 32 bytes, about a quarter of the size for
 * big ones, and enough to end on a 32-byte boundary.
 */
export function globalRedzone(size: number): number {
  const minRz = 32;
  let rz = Math.max(minRz, Math.min(1 << 18, Math.floor(size / minRz / 4) * minRz));
  if (size % minRz) rz += minRz - (size % minRz);
  return rz;
}

export class Kasan {
  readonly shadow: Shadow;
  /** The shadow bytes (shadow.sh), for the checked accessors. */
  readonly sh: Uint8Array;
  readonly quarantine: Quarantine;
  /** Alloc, free and aux stacks; the handles live in `meta`. */
  readonly depot: StackDepot;
  readonly meta: ObjectMeta;
  /** kasan_multi_shot */
  multiShot: boolean;
  /** kasan.stacktrace: save alloc and free stacks (the expensive part of an allocation). */
  stackCollection = true;
  /**
   * kasanStacks: 'sampled': save the stacks of 1 allocation in this many
   * (and its free's), 1 for every allocation. The others keep their pid,
   * cpu and time, and a handle that reports print as "not sampled".
   */
  stackSampling = 1;
  /** Allocations until the next sampled one. */
  private sampleCountdown = 1;
  /** Track saves until the next full clock sync, and the time the next track gets at least (trackTime). */
  private clockCountdown = 0;
  private clockNs = 0;
  private readonly host: KasanHost;
  private readonly memSize: number;
  private reported = false;
  private readonly list: KasanReport[] = [];
  /** Objects of a new slab still to run through their constructor (setup_object()). */
  private ctorPending = 0;
  private readonly globalsList: KasanGlobal[] = [];
  private globalsCursor = 0;
  private globalsEnd = 0;

  constructor(host: KasanHost, opts: KasanOptions = {}) {
    this.host = host;
    this.memSize = host.phys.size;
    this.multiShot = opts.multiShot === true;
    this.shadow = new Shadow(this.memSize, opts.shared === true);
    this.sh = this.shadow.sh;
    // Every page is free when KASAN starts (boot freed them all to the buddy allocator).
    this.sh.fill(KASAN_PAGE_FREE);
    let managed = 0;
    for (let z = 0; z < MAX_NR_ZONES; z++) managed += host.pageAlloc.zones.get(z, Z_MANAGED);
    const release = (s: number, obj: number) => this.qlinkFree(s, obj);
    const parts = opts.smpParts?.(managed * PAGE_SIZE, release);
    this.meta = parts?.meta ?? new ObjectMeta(host.pages.nr);
    this.depot = parts?.depot ?? new StackDepot(this.meta);
    this.quarantine = parts?.quarantine ?? new Quarantine(managed * PAGE_SIZE, host.cpus, release);
    Object.assign(this.reportSource, { host, memSize: this.memSize, shadow: this.shadow, depot: this.depot, meta: this.meta });
  }

  /** Install the allocator hooks (once, at boot). */
  install(): void {
    const ph = this.host.pageAlloc.hooks;
    ph.postAlloc = (addr, order) => this.shadow.unpoison(addr, PAGE_SIZE << order);
    ph.freePrepare = (addr, order) => this.freePages(addr, order);
    const sh = this.host.slub.hooks;
    sh.poisonSlab = (s, base, bytes) => this.poisonSlab(s, base, bytes);
    sh.slabAlloc = (s, obj, size, gfp) => this.slabAlloc(s, obj, size, gfp);
    sh.slabFree = (s, obj) => this.slabFree(s, obj);
    // kasan_kfree_large(): report what is wrong; free_large_kmalloc() frees the block regardless.
    sh.largeFree = (head, addr) => {
      this.checkPageAllocation(head, addr);
    };
    sh.checkByte = (addr) => this.checkByte(addr);
    sh.krealloc = (addr, size) => this.krealloc(addr, size);
    sh.kmallocLarge = (addr, size, gfp) => this.kmallocLarge(addr, size, (gfp & __GFP_DIRECT_RECLAIM) !== 0);
    sh.cacheShrink = (s) => this.quarantine.removeCache(s);
    this.host.slub.hooksChanged();
  }

  // ───────────────────────── the page allocator ─────────────────────────

  /** free_pages_prepare(): poison the block; a slab's metadata records go with it. */
  private freePages(addr: number, order: number): void {
    this.shadow.poison(addr, PAGE_SIZE << order, KASAN_PAGE_FREE);
    const pfn = addr >>> PAGE_SHIFT;
    if (this.meta.hasSlab(pfn)) this.meta.releaseSlab(pfn);
  }

  // ───────────────────────── slabs and objects ─────────────────────────

  /**
   * kasan_poison_slab() for a whole new slab (page-aligned, its full size);
   * otherwise kasan_poison_new_object() after a constructor ran.
   */
  private poisonSlab(s: number, base: number, bytes: number): void {
    const pfn = base >>> PAGE_SHIFT;
    const p = this.host.pages;
    if (base === pfn * PAGE_SIZE && p.pageType[pfn] === PGTY_slab && p.slabCache[pfn] === s && bytes === PAGE_SIZE << p.order[pfn]!) {
      this.shadow.poison(base, bytes, KASAN_SLAB_REDZONE);
      const objects = p.slabObjects[pfn]!;
      this.meta.initSlab(pfn, objects);
      this.ctorPending = this.host.slub.caches[s]?.ctor ? objects : 0;
      return;
    }
    this.shadow.poison(base, roundUp(bytes, KASAN_GRANULE_SIZE), KASAN_SLAB_REDZONE);
    if (this.ctorPending > 0) this.ctorPending--;
  }

  /** The slab head pfn of a slab address. */
  private slabHead(addr: number): number {
    const pfn = addr >>> PAGE_SHIFT;
    const h = this.host.pages.head[pfn]!;
    return h < 0 ? pfn : h;
  }

  /** nearest_obj(): the object whose slot holds addr (the last one past the end). */
  nearestObj(s: number, head: number, addr: number): number {
    const cf = this.host.slub.cf;
    const size = cf[s * CF.FIELDS + CF.SIZE]!;
    const slabAddr = head * PAGE_SIZE;
    let obj = addr - ((addr - slabAddr) % size);
    const last = slabAddr + (this.host.pages.slabObjects[head]! - 1) * size;
    if (obj > last) obj = last;
    return obj + cf[s * CF.FIELDS + CF.RED_LEFT_PAD]!;
  }

  /** The metadata record of the object at obj in the slab at head, or -1. */
  private record(s: number, head: number, obj: number): number {
    const cf = this.host.slub.cf;
    const off = obj - head * PAGE_SIZE - cf[s * CF.FIELDS + CF.RED_LEFT_PAD]!;
    return this.meta.record(head, Math.floor(off / cf[s * CF.FIELDS + CF.SIZE]!));
  }

  /**
   * The time a track saved now records. Syncing the virtual clock sums the
   * counters of every cache (a sizable part of a pair's cost), so it is
   * synced at every CLOCK_SYNC_SAVES-th save only. In between, a track gets
   * the time of the last sync plus NS_PER_OP for each allocation saved since
   * (each is a counted object operation by the next save; a free is not
   * counted until the quarantine gives the object back), or printk's clock
   * if that went further. Invariant: the next track's time (clockNs) never
   * counts an operation not yet done, so track times never run ahead of the
   * virtual clock, and they never go backwards.
   */
  private trackTime(alloc: boolean): number {
    if (--this.clockCountdown <= 0) {
      this.clockCountdown = CLOCK_SYNC_SAVES;
      this.host.syncClock?.();
      // The sync may or may not count this allocation yet: the next save adds nothing for it.
      this.clockNs = this.host.printk.nowNs;
      return this.clockNs;
    }
    const now = this.host.printk.nowNs;
    const ts = Math.max(this.clockNs, now);
    this.clockNs = alloc ? ts + NS_PER_OP : ts;
    return ts;
  }

  /** kasan_save_track(): who, where and when, now. */
  private saveAlloc(s: number, obj: number): void {
    if (!this.stackCollection || this.host.slub.caches[s]!.kasanAllocMetaOffset < 0) return;
    const r = this.record(s, this.slabHead(obj), obj);
    if (r < 0) return;
    const ts = this.trackTime(true);
    let h = STACK_NOT_SAMPLED;
    if (--this.sampleCountdown <= 0) {
      this.sampleCountdown = this.stackSampling;
      h = this.depot.save();
    }
    this.meta.setAlloc(r, this.host.task.pid, this.host.currentCpu, ts, h);
    if (h !== STACK_NOT_SAMPLED) this.depot.bind(h, this.meta.allocStackAt(r));
  }

  /**
   * kasan_slab_alloc() + kasan_kmalloc(): unpoison exactly `size` bytes (the
   * kmalloc request, or object_size) and make the rest of the object redzone.
   * An allocation that may block first shrinks an over-full quarantine by a
   * batch, in each of the two hooks a kmalloc passes through.
   */
  private slabAlloc(s: number, obj: number, size: number, gfp: number): void {
    const cf = this.host.slub.cf;
    const objectSize = cf[s * CF.FIELDS + CF.OBJECT_SIZE]!;
    if (this.ctorPending > 0) {
      // kasan_unpoison_new_object(): the constructor may write the object.
      this.shadow.unpoison(obj, objectSize);
      return;
    }
    if (gfp & __GFP_DIRECT_RECLAIM) {
      const q = this.quarantine;
      if (q.size > q.maxSize) q.reduce();
      if (cf[s * CF.FIELDS + CF.FLAGS]! & SLAB_KMALLOC && q.size > q.maxSize) q.reduce();
    }
    this.unpoisonObject(s, obj, size, objectSize);
  }

  private unpoisonObject(s: number, obj: number, size: number, objectSize: number): void {
    this.shadow.unpoison(obj, size);
    if (size < objectSize) {
      const start = roundUp(obj + size, KASAN_GRANULE_SIZE);
      this.shadow.poison(start, roundUp(obj + objectSize, KASAN_GRANULE_SIZE) - start, KASAN_SLAB_REDZONE);
    }
    this.saveAlloc(s, obj);
  }

  /**
   * check_slab_allocation(): invalid-free for a pointer that is not an
   * object's start, double-free for an object whose first byte is poisoned.
   * Returns true (after the report) when the free must not go on.
   */
  private checkSlabAllocation(s: number, obj: number): boolean {
    const head = this.slabHead(obj);
    if (this.nearestObj(s, head, obj) !== obj) {
      this.reportFree(obj, 'invalid-free');
      return true;
    }
    if (!this.shadow.byteAccessible(obj)) {
      this.reportFree(obj, 'double-free');
      return true;
    }
    return false;
  }

  /** poison_slab_object(): KASAN_SLAB_FREE, and the free track with its 0xFA marker. */
  private poisonSlabObject(s: number, obj: number): void {
    const objectSize = this.host.slub.cf[s * CF.FIELDS + CF.OBJECT_SIZE]!;
    this.shadow.poison(obj, roundUp(objectSize, KASAN_GRANULE_SIZE), KASAN_SLAB_FREE);
    if (!this.stackCollection || this.host.slub.caches[s]!.kasanFreeMetaOffset < 0) return;
    const r = this.record(s, this.slabHead(obj), obj);
    if (r < 0) return;
    const ts = this.trackTime(false);
    // Sampled: the free of an object whose allocation was sampled, and no other.
    const h = this.stackSampling > 1 && this.meta.allocStack(r) === STACK_NOT_SAMPLED ? STACK_NOT_SAMPLED : this.depot.save();
    this.meta.setFree(r, this.host.task.pid, this.host.currentCpu, ts, h);
    if (h !== STACK_NOT_SAMPLED) this.depot.bind(h, this.meta.freeStackAt(r));
    this.sh[obj >>> 3] = KASAN_SLAB_FREE_META;
  }

  /**
   * slab_free_hook() with KASAN: true keeps the object from SLUB (reported,
   * or quarantined); false lets SLUB free it now.
   */
  private slabFree(s: number, obj: number): boolean {
    if (this.checkSlabAllocation(s, obj)) return true;
    // SLAB_TYPESAFE_BY_RCU objects stay accessible after free (no CONFIG_SLUB_RCU_DEBUG).
    if (this.host.slub.cf[s * CF.FIELDS + CF.FLAGS]! & SLAB_TYPESAFE_BY_RCU) return false;
    this.poisonSlabObject(s, obj);
    // kasan_quarantine_put(): no free meta, no quarantine.
    if (this.host.slub.caches[s]!.kasanFreeMetaOffset < 0) return false;
    this.quarantine.push(s, obj, this.host.slub.cf[s * CF.FIELDS + CF.SIZE]!, this.host.currentCpu);
    return true;
  }

  /** qlink_free(): an object leaves the quarantine for SLUB's freelist; its metadata stays. */
  private qlinkFree(s: number, obj: number): void {
    this.host.slub.doSlabFree(s, this.slabHead(obj), obj);
  }

  /**
   * check_page_allocation(): invalid-free for a pointer that is not the
   * block's start, double-free for a block whose first byte is poisoned.
   * Returns true (after the report) when something was wrong.
   */
  private checkPageAllocation(head: number, addr: number): boolean {
    if (addr !== head * PAGE_SIZE) {
      this.reportFree(addr, 'invalid-free');
      return true;
    }
    if (!this.shadow.byteAccessible(addr)) {
      this.reportFree(addr, 'double-free');
      return true;
    }
    return false;
  }

  /** kasan_kmalloc_large(): size bytes accessible, the rest of the pages KASAN_PAGE_REDZONE. */
  private kmallocLarge(addr: number, size: number, mayReduce: boolean): void {
    if (mayReduce && this.quarantine.size > this.quarantine.maxSize) this.quarantine.reduce();
    const pfn = addr >>> PAGE_SHIFT;
    const end = addr + (PAGE_SIZE << this.host.pages.order[pfn]!);
    this.shadow.unpoison(addr, size);
    const start = roundUp(addr + size, KASAN_GRANULE_SIZE);
    this.shadow.poison(start, end - start, KASAN_PAGE_REDZONE);
  }

  /** The struct slab words of slab page `head` for dump_page(), or undefined for any other page. */
  private slabWords(head: number): SlabWords | undefined {
    const { pages, slub } = this.host;
    if (pages.pageType[head] !== PGTY_slab) return undefined;
    const s = pages.slabCache[head]!;
    const info = slub.caches[s]!;
    const direct = (a: number) => (a === 0 ? 0n : 0xffff888000000000n + BigInt(a));
    const frozen = slub.slabFrozen(head) ? 0x80000000 : 0;
    return {
      cache: direct(info.selfAddr),
      freelist: direct(slub.slabFreelist(s, head)),
      counters: (slub.slabInuse(head) | (pages.slabObjects[head]! << 16) | frozen) >>> 0,
    };
  }

  /** kasan_check_byte(): reports (a 1-byte read) and returns false if the byte is poisoned. */
  checkByte(addr: number): boolean {
    if (addr >= PAGE_SIZE && addr < this.memSize && this.shadow.byteAccessible(addr)) return true;
    this.report(addr, 1, false);
    return false;
  }

  /** kasan_krealloc(): the object shrinks or grows in place; poison to the new size exactly. */
  private krealloc(addr: number, size: number): void {
    const head = this.slabHead(addr);
    const p = this.host.pages;
    if (p.pageType[head] === PGTY_slab) {
      const s = p.slabCache[head]!;
      this.unpoisonObject(s, addr, size, this.host.slub.cf[s * CF.FIELDS + CF.OBJECT_SIZE]!);
    } else {
      this.kmallocLarge(addr, size, false);
    }
  }

  // ───────────────────────── mempool (kasan_mempool_*) ─────────────────────────

  /**
   * kasan_mempool_poison_object(): an element goes back into a pool: checked
   * like a free, then poisoned as freed. false (after a report) if it must
   * not be added.
   */
  mempoolPoisonObject(ptr: number): boolean {
    const head = this.slabHead(ptr);
    const p = this.host.pages;
    if (p.pageType[head] !== PGTY_slab) {
      if (this.checkPageAllocation(head, ptr)) return false;
      this.shadow.poison(ptr, PAGE_SIZE << p.order[head]!, KASAN_PAGE_FREE);
      return true;
    }
    const s = p.slabCache[head]!;
    if (this.checkSlabAllocation(s, ptr)) return false;
    this.poisonSlabObject(s, ptr);
    return true;
  }

  /** kasan_mempool_unpoison_object(): an element leaves a pool as if kmalloc'd with size. */
  mempoolUnpoisonObject(ptr: number, size: number): void {
    const head = this.slabHead(ptr);
    const p = this.host.pages;
    if (p.pageType[head] !== PGTY_slab) {
      this.kmallocLarge(ptr, size, false);
      return;
    }
    const s = p.slabCache[head]!;
    this.unpoisonObject(s, ptr, size, this.host.slub.cf[s * CF.FIELDS + CF.OBJECT_SIZE]!);
  }

  /** kasan_mempool_poison_pages(): a page element goes back into its pool. */
  mempoolPoisonPages(addr: number, order: number): boolean {
    if (addr !== this.slabHead(addr) * PAGE_SIZE) {
      this.reportFree(addr, 'invalid-free');
      return false;
    }
    if (!this.shadow.byteAccessible(addr)) {
      this.reportFree(addr, 'double-free');
      return false;
    }
    this.shadow.poison(addr, PAGE_SIZE << order, KASAN_PAGE_FREE);
    return true;
  }

  /** kasan_mempool_unpoison_pages() */
  mempoolUnpoisonPages(addr: number, order: number): void {
    this.shadow.unpoison(addr, PAGE_SIZE << order);
  }

  // ───────────────────────── aux stacks, globals ─────────────────────────

  /**
   * kasan_record_aux_stack(): what call_rcu(), queue_work() and
   * task_work_add() do, so that a later report on the object shows where
   * the deferred work was created.
   */
  recordAuxStack(addr: number): void {
    if (!Number.isInteger(addr) || addr < PAGE_SIZE || addr >= this.memSize) return;
    const head = this.slabHead(addr);
    if (this.host.pages.pageType[head] !== PGTY_slab) return;
    const s = this.host.pages.slabCache[head]!;
    if (this.host.slub.caches[s]!.kasanAllocMetaOffset < 0) return;
    const r = this.record(s, head, this.nearestObj(s, head, addr));
    if (r < 0) return;
    const h = this.depot.save();
    this.meta.addAux(r, h);
    this.depot.bind(h, this.meta.auxStackAt(r));
  }

  /**
   * A global variable of `size` bytes with the compiler's redzone after it,
   * as __asan_register_globals() registers it: zeroed, `size` bytes
   * accessible, the redzone KASAN_GLOBAL_REDZONE. Globals sit 32-byte
   * aligned in pages taken once for them, behind a 32-byte redzone.
   */
  defineGlobal(name: string, size: number): number {
    if (typeof name !== 'string' || name.length === 0) throw new TypeError('name: expected a non-empty string');
    if (!Number.isInteger(size) || size <= 0) throw new RangeError(`size: expected a positive integer, got ${String(size)}`);
    const total = size + globalRedzone(size);
    if (this.globalsCursor + total > this.globalsEnd) {
      let order = 0;
      while (PAGE_SIZE << order < total + 32) order++;
      const pfn = this.host.pageAlloc.allocPagesPfn(Math.max(order, 2), GFP_KERNEL);
      if (pfn < 0) throw new RangeError(`defineGlobal: no memory for ${total} bytes of globals`);
      const base = pfn * PAGE_SIZE;
      const bytes = PAGE_SIZE << Math.max(order, 2);
      this.host.phys.u8.fill(0, base, base + bytes);
      this.shadow.poison(base, bytes, KASAN_GLOBAL_REDZONE);
      this.globalsCursor = base + 32;
      this.globalsEnd = base + bytes;
    }
    const addr = this.globalsCursor;
    this.globalsCursor += total;
    this.shadow.unpoison(addr, size);
    this.globalsList.push({ name, addr, size, sizeWithRedzone: total });
    return addr;
  }

  /** Every global defined so far. */
  globals(): readonly KasanGlobal[] {
    return this.globalsList;
  }

  private globalAt(addr: number): KasanGlobal | null {
    for (const g of this.globalsList) if (addr >= g.addr && addr < g.addr + g.sizeWithRedzone) return g;
    return null;
  }

  // ───────────────────────── checks ─────────────────────────

  /**
   * kasan_check_range(): true if [addr, addr+size) may be accessed; false
   * after a printed report (the kernel's mem* functions then skip the
   * access). A negative size is size_t wrapping around (2^64 + size).
   */
  checkRange(addr: number, size: number, write: boolean): boolean {
    if (typeof addr !== 'number' || !Number.isInteger(addr) || addr < 0) {
      throw new RangeError(`addr: expected a non-negative integer address, got ${String(addr)}`);
    }
    if (typeof size !== 'number' || !Number.isInteger(size)) throw new RangeError(`size: expected an integer, got ${String(size)}`);
    if (size === 0) return true;
    if (size < 0) return !this.report(addr, (1n << 64n) + BigInt(size), write);
    if (!(addr >= PAGE_SIZE && addr + size <= this.memSize)) return !this.report(addr, size, write);
    if (!this.shadow.poisoned(addr, size)) return true;
    return !this.report(addr, size, write);
  }

  // ───────────────────────── reports ─────────────────────────

  /** Every report so far (printed or, after the first without multi-shot, not). */
  reports(): KasanReport[] {
    return this.list.slice();
  }

  /** Forget the reports (and the "already reported" state, as a test suite's restore does). */
  clearReports(): void {
    this.list.length = 0;
    this.reported = false;
  }

  /** report_enabled(): multi-shot, or nothing reported yet. */
  private reportEnabled(): boolean {
    if (this.multiShot) return true;
    if (this.reported) return false;
    this.reported = true;
    return true;
  }

  /** kasan_report(): a bad access. Returns whether the report was printed. */
  report(addr: number, size: number | bigint, write: boolean): boolean {
    return kasanReport(this.reportSource, addr, size, write ? 'write' : 'read', null);
  }

  /** kasan_report_invalid_free() */
  reportFree(addr: number, type: 'invalid-free' | 'double-free'): boolean {
    return kasanReport(this.reportSource, addr, 0, 'free', type);
  }

  /** What report.ts reads of this instance to write a report. */
  private readonly reportSource: ReportSource = {
    host: null as unknown as KasanHost,
    memSize: 0,
    shadow: null as unknown as Shadow,
    depot: null as unknown as StackDepot,
    meta: null as unknown as ObjectMeta,
    reportEnabled: () => this.reportEnabled(),
    record: (s, head, obj) => this.record(s, head, obj),
    nearestObj: (s, head, addr) => this.nearestObj(s, head, addr),
    globalAt: (addr) => this.globalAt(addr),
    slabWords: (head) => this.slabWords(head),
    push: (rep) => {
      this.list.push(rep);
    },
    stackSampling: () => this.stackSampling,
  };

  // ───────────────────────── inspection ─────────────────────────

  /** The shadow bytes of [addr, addr + n * 8), one per granule. */
  shadowBytes(addr: number, n: number): number[] {
    const out: number[] = [];
    for (let i = 0; i < n; i++) out.push(this.shadow.get(addr + i * KASAN_GRANULE_SIZE));
    return out;
  }

  /** Is the byte at addr accessible (the byte-precise truth the checks implement)? */
  accessible(addr: number): boolean {
    if (addr < PAGE_SIZE || addr >= this.memSize) return false;
    const s = this.shadow.get(addr);
    return s === 0 || (s < KASAN_GRANULE_SIZE && (addr & KASAN_GRANULE_MASK) < s);
  }
}
