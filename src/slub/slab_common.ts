/**
 * Cache lifecycle and the kmalloc family (mm/slab_common.c, and the kmalloc
 * parts of mm/slub.c): kmem_cache_create with merging into existing caches,
 * kmem_cache_destroy, the kmalloc caches created at boot, kmalloc/kfree and
 * large kmalloc straight from the page allocator.
 */
import { describe } from '../lib/argcheck.js';
import { PAGE_SIZE } from '../memory/memblock.js';
import { PGTY_large_kmalloc, PGTY_NONE } from '../memory/page.js';
import {
  __GFP_ACCOUNT,
  __GFP_COMP,
  __GFP_DMA,
  __GFP_DMA32,
  __GFP_NOWARN,
  __GFP_RECLAIMABLE,
  __GFP_ZERO,
  GFP_KERNEL,
  GFP_SLAB_BUG_MASK,
} from '../page_alloc/gfp.js';
import { type CacheGeometry, computeCacheGeometry, getOrder } from './calculate.js';
import {
  bootCacheGeometry,
  KMALLOC_CGROUP,
  KMALLOC_DMA,
  KMALLOC_MAX_CACHE_SIZE,
  KMALLOC_MAX_SIZE,
  KMALLOC_NORMAL,
  KMALLOC_RECLAIM,
  kmallocCreationOrder,
  kmallocSizeIndex,
  kmallocSizeRoundup,
  kmallocTypes,
  NR_KMALLOC_TYPES,
  ZERO_SIZE_PTR,
} from './kmalloc_info.js';
import { calculateSheafCapacity, SheafLimit } from './sheaf.js';
import { bswap32, type CacheInfo, CF, DIRECT_MAP_HI, KmemHandle, MAX_CACHES, newHandle, recipMul, recipShift, SlabLimit, SWAB_LO } from './slab.js';
import {
  __CMPXCHG_DOUBLE,
  __OBJECT_POISON,
  createUniqueId,
  SLAB_ACCOUNT,
  SLAB_CACHE_DMA,
  SLAB_CACHE_DMA32,
  SLAB_DEBUG_FLAGS,
  SLAB_KASAN,
  SLAB_MERGE_SAME,
  SLAB_NEVER_MERGE,
  SLAB_NO_USER_FLAGS,
  SLAB_POISON,
  SLAB_RECLAIM_ACCOUNT,
  SLAB_RED_ZONE,
  SLAB_STORE_USER,
  SLAB_TYPESAFE_BY_RCU,
} from './slab_flags.js';
import type { Slub } from './slub.js';

export interface KmemCacheArgs {
  align?: number;
  flags?: number;
  ctor?: (addr: number) => void;
  useroffset?: number;
  usersize?: number;
  freeptrOffset?: number;
  /**
   * kmem_cache_args.sheaf_capacity (6.18): per-CPU sheaves of this many
   * objects in front of the slabs (src/slub/sheaf.ts). Ignored for a cache
   * with slub_debug flags, as the kernel ignores it; such a cache never
   * merges with another.
   */
  sheafCapacity?: number;
}

export interface SlabCommonOptions {
  cpus: number;
  slubMinOrder: number;
  slubMaxOrder: number;
  slubMinObjects: number;
  slabNomerge: boolean;
  hardened: boolean;
  kasan: boolean;
  /** slub_debug= flags for a cache name (kmem_cache_flags). */
  debugFlagsFor: (name: string, flags: number) => number;
  disableHigherOrderDebug: boolean;
  rand32: () => number;
  /** Linux version code whose SLUB geometry to use (601 for `kernel: '6.1'`); default 618. */
  version?: number;
}

/** kmalloc_size_index[] as a typed array for the hot path. */
const SIZE_INDEX = Int8Array.from(kmallocSizeIndex);

/** A record of the CPU threads' shared cache table (src/smp/smp.ts): a cache created, merged into, or destroyed. */
export type CacheRecord =
  | { t: 'create'; id: number; info: Record<string, unknown> }
  | { t: 'alias'; id: number; name: string }
  | { t: 'destroy'; id: number; released: boolean };

export class SlabCommon {
  readonly slub: Slub;
  readonly opts: SlabCommonOptions;
  /** slab_caches in creation order (printed newest first). */
  readonly slabCaches: number[] = [];
  /** kmalloc_caches[type][index] -> cache id, -1 where none. */
  readonly kmallocCaches: Int32Array;
  /**
   * Name -> the caches of that name, oldest first. The kernel lets two
   * caches share a name (nothing in kmem_cache_create() checks); sysfs then
   * shows the newest (sysfs_slab_add() and sysfs_slab_alias() first remove
   * whatever had the name). kmem looks names up the same way, newest first,
   * and when the newest is destroyed the older one is found again (the
   * kernel's sysfs would have lost it for good: kmem never loses a kmalloc
   * cache's name).
   */
  private readonly byName = new Map<string, number[]>();
  private freeIds: number[] = [];
  /** The kmem_cache and kmem_cache_node caches, once bootstrapped. */
  private kmemCacheId = -1;
  private kmemCacheNodeId = -1;
  private nextId = 0;
  /** 1 for a cache created with an explicit args.sheafCapacity (7.0: only those never merge). */
  private readonly sheafRequested = new Uint8Array(MAX_CACHES);

  constructor(slub: Slub, opts: SlabCommonOptions) {
    this.slub = slub;
    this.opts = opts;
    this.kmallocCaches = new Int32Array(NR_KMALLOC_TYPES * 32).fill(-1);
    slub.freelistHardened = opts.hardened;
    slub.hooksChanged();
  }

  // ───────────────────────── boot ─────────────────────────

  /** WARN_ON_ONCE_GFP(order > MAX_PAGE_ORDER) has fired (a large kmalloc above KMALLOC_MAX_SIZE). */
  private largeOrderWarned = false;

  /** kmem_cache_init() + create_kmalloc_caches(). */
  init(): void {
    const version = this.opts.version;
    const boot = bootCacheGeometry({ cpus: this.opts.cpus, kasan: this.opts.kasan, version });
    // create_boot_cache() leaves refcount -1 (exempt from merging): the two
    // boot caches keep it, so sysfs names them plainly and no
    // kmem_cache_destroy() can take them down.
    const kc = this.createFromGeometry('kmem_cache', this.bootGeometry(boot.kmemCache, 'kmem_cache'), null, '', false, -1);
    const kcn = this.createFromGeometry('kmem_cache_node', this.bootGeometry(boot.kmemCacheNode, 'kmem_cache_node'), null, '', false, -1);
    // bootstrap(): from here on every cache's descriptors are objects of
    // these two caches, the boot caches' own included.
    this.kmemCacheId = kc;
    this.kmemCacheNodeId = kcn;
    this.allocDescriptors(kcn);
    this.allocDescriptors(kc);
    // kmalloc_caches[] is indexed by kmallocType()'s (6.18) type numbers, whatever order the version creates the types in
    const typeOf = new Map(kmallocTypes().map((t) => [t.typeName, t.type]));
    for (const spec of kmallocCreationOrder({ version })) {
      // create_kmalloc_cache(): the whole object may be copied to or from
      // user space (usersize = size, CONFIG_HARDENED_USERCOPY), which also
      // makes every kmalloc cache unmergeable.
      const id = this.createCache(spec.name, spec.size, { flags: spec.flags, useroffset: 0, usersize: spec.size }, true);
      this.kmallocCaches[typeOf.get(spec.typeName)! * 32 + spec.index] = id;
    }
  }

  private bootGeometry(g: CacheGeometry, name: string): CacheGeometry {
    // kmem_cache_flags() sees the creation flags, not calculate_sizes()' internal ones.
    const created = g.flags & ~(__CMPXCHG_DOUBLE | __OBJECT_POISON | SLAB_KASAN);
    const flags = this.opts.debugFlagsFor(name, created);
    if (flags === created) return g;
    return this.geometry(name, g.objectSize, 0, flags, false, false, {});
  }

  get cf(): Int32Array {
    return this.slub.cf;
  }

  // ───────────────────────── creation ─────────────────────────

  private geometry(_name: string, size: number, align: number, flags: number, hasCtor: boolean, isKmalloc: boolean, args: KmemCacheArgs): CacheGeometry {
    return computeCacheGeometry({
      objectSize: size,
      align,
      flags,
      hasCtor,
      cpus: this.opts.cpus,
      slubMinOrder: this.opts.slubMinOrder,
      slubMaxOrder: this.opts.slubMaxOrder,
      slubMinObjects: this.opts.slubMinObjects,
      kasan: this.opts.kasan,
      isKmalloc,
      freeptrOffset: args.freeptrOffset,
      useroffset: args.useroffset ?? 0,
      usersize: args.usersize ?? 0,
      disableHigherOrderDebug: this.opts.disableHigherOrderDebug,
      version: this.opts.version,
    });
  }

  /**
   * __kmem_cache_create_args(): validate, apply slub_debug flags, merge into an
   * existing cache when the kernel would (__kmem_cache_alias), else create.
   * Returns the cache id.
   */
  createCache(name: string, size: number, args: KmemCacheArgs, isKmalloc = false): number {
    if (typeof name !== 'string' || name.length === 0) throw new TypeError('name: expected a non-empty string');
    if (typeof size !== 'number' || !Number.isInteger(size)) throw new TypeError(`size: expected an integer, got ${describe(size)}`);
    if (size < 1 || size > KMALLOC_MAX_SIZE) throw new RangeError(`size: ${size} is outside 1..${KMALLOC_MAX_SIZE}`);
    if (args === null || typeof args !== 'object') throw new TypeError('args: expected an object');
    const align = args.align ?? 0;
    if (!Number.isInteger(align) || align < 0 || (align & (align - 1)) !== 0) {
      throw new RangeError(`args.align: expected 0 or a power of two, got ${describe(align)}`);
    }
    let flags = args.flags ?? 0;
    if (!Number.isInteger(flags) || flags < 0) throw new RangeError(`args.flags: invalid SLAB_* flags ${describe(flags)}`);
    if (args.ctor !== undefined && typeof args.ctor !== 'function') throw new TypeError('args.ctor: expected a function');
    if (args.freeptrOffset !== undefined && !(flags & SLAB_TYPESAFE_BY_RCU)) {
      throw new RangeError('args.freeptrOffset: only a SLAB_TYPESAFE_BY_RCU cache may place its free pointer');
    }
    const sheafCapacity = args.sheafCapacity ?? 0;
    if (!Number.isInteger(sheafCapacity) || sheafCapacity < 0 || sheafCapacity > SheafLimit.MAX_CAPACITY) {
      throw new RangeError(`args.sheafCapacity: expected an integer 0..${SheafLimit.MAX_CAPACITY}, got ${describe(sheafCapacity)}`);
    }
    if (!(flags & SLAB_NO_USER_FLAGS)) flags = this.opts.debugFlagsFor(name, flags);
    const ctor = args.ctor ?? null;
    // __kmem_cache_create_args(): a cache asking for sheaves is never an alias.
    if (!isKmalloc && !args.usersize && args.freeptrOffset === undefined && sheafCapacity === 0) {
      const alias = this.findMergeable(size, align, flags, ctor);
      if (alias >= 0) {
        const r = alias * CF.FIELDS;
        this.cf[r + CF.REFCOUNT]!++;
        this.cf[r + CF.OBJECT_SIZE] = Math.max(this.cf[r + CF.OBJECT_SIZE]!, size);
        this.cf[r + CF.INUSE] = Math.max(this.cf[r + CF.INUSE]!, (size + 7) & ~7);
        this.slub.caches[alias]!.aliases.push(name);
        this.nameAdd(name, alias);
        return alias;
      }
    }
    const g = this.geometry(name, size, align, flags, ctor !== null, isKmalloc, args);
    // do_kmem_cache_create(): sheaves only without debug flags (and not under SLUB_TINY);
    // 7.0: every cache's capacity from calculate_sheaf_capacity() (src/slub/sheaf.ts).
    let withSheaves = (g.flags & SLAB_DEBUG_FLAGS) === 0 ? sheafCapacity : 0;
    if (this.slub.kernel70) withSheaves = calculateSheafCapacity(g.size, g.flags, sheafCapacity);
    const id = this.createFromGeometry(name, g, ctor, ctor ? ctor.name || 'ctor' : '', isKmalloc, 1, withSheaves);
    if (sheafCapacity !== 0) this.sheafRequested[id] = 1;
    return id;
  }

  /** slab_unmergeable() */
  unmergeable(id: number): boolean {
    const r = id * CF.FIELDS;
    const info = this.slub.caches[id]!;
    return (
      this.opts.slabNomerge ||
      (this.cf[r + CF.FLAGS]! & (SLAB_NEVER_MERGE | SLAB_KASAN)) !== 0 ||
      info.ctor !== null ||
      this.cf[r + CF.USERSIZE]! !== 0 ||
      (this.slub.kernel70 ? this.sheafRequested[id] !== 0 : this.cf[r + CF.SHEAF_CAPACITY]! !== 0) ||
      this.cf[r + CF.REFCOUNT]! < 0
    );
  }

  /**
   * find_mergeable(): the oldest live cache whose slot fits this object with
   * less than a pointer of slack, with the same accounting/DMA flags and a
   * compatible alignment.
   */
  private findMergeable(size: number, align: number, flags: number, ctor: unknown): number {
    if (this.opts.slabNomerge || ctor !== null) return -1;
    if (flags & SLAB_NEVER_MERGE || this.opts.kasan) return -1;
    const g = this.geometry('', size, align, flags, false, false, {});
    const want = g.size;
    const galign = g.align;
    for (const id of this.slabCaches) {
      if (this.unmergeable(id)) continue;
      const r = id * CF.FIELDS;
      const ssize = this.cf[r + CF.SIZE]!;
      if (want > ssize) continue;
      if ((this.cf[r + CF.FLAGS]! & SLAB_MERGE_SAME) !== (flags & SLAB_MERGE_SAME)) continue;
      if ((ssize & ~(galign - 1)) !== ssize) continue;
      if (ssize - want >= 8) continue;
      return id;
    }
    return -1;
  }

  private allocId(): number {
    const id = this.freeIds.length > 0 ? this.freeIds.pop()! : this.nextId++;
    if (id >= MAX_CACHES) throw new RangeError(`kmemCacheCreate: more than ${MAX_CACHES} caches`);
    return id;
  }

  /** Fill struct kmem_cache from a computed geometry and link it into slab_caches. */
  private createFromGeometry(
    name: string,
    g: CacheGeometry,
    ctor: ((addr: number) => void) | null,
    ctorName: string,
    isKmalloc: boolean,
    refcount = 1,
    sheafCapacity = 0,
  ): number {
    const id = this.allocId();
    const cf = this.cf;
    const r = id * CF.FIELDS;
    cf.fill(0, r, r + CF.FIELDS);
    for (let c = 0; c < this.slub.st.cpus; c++) {
      this.slub.cpuAllocs[c * MAX_CACHES + id] = 0;
      this.slub.cpuFrees[c * MAX_CACHES + id] = 0;
    }
    cf[r + CF.SIZE] = g.size;
    // 1/size scaled by (1 + 2^-30): off * invSize truncates to off / size for every exact multiple.
    this.slub.invSize[id] = (1 + 2 ** -30) / g.size;
    this.cf[id * CF.FIELDS + CF.RECIP_MUL] = recipMul(g.size);
    this.cf[id * CF.FIELDS + CF.RECIP_SHIFT] = recipShift(g.size);
    cf[r + CF.OBJECT_SIZE] = g.objectSize;
    cf[r + CF.OFFSET] = g.offset;
    cf[r + CF.INUSE] = g.inuse;
    cf[r + CF.ALIGN] = g.align;
    cf[r + CF.RED_LEFT_PAD] = g.redLeftPad;
    cf[r + CF.SHEAF_CAPACITY] = sheafCapacity;
    // 2^30 past any object: slabFreeFast never takes a free of a cache with sheaves (nor any under 7.0).
    const noCpuSlab = sheafCapacity !== 0 || this.slub.kernel70;
    cf[r + CF.FAST_FREE_PAD] = g.redLeftPad + (noCpuSlab ? 0x40000000 : 0);
    cf[r + CF.ORDER] = g.order;
    cf[r + CF.SLAB_SHIFT] = 12 + g.order;
    this.slub.slabMask[id] = -(1 << (12 + g.order));
    cf[r + CF.OBJECTS] = g.objects;
    cf[r + CF.MIN_ORDER] = g.minOrder;
    cf[r + CF.MIN_OBJECTS] = g.minObjects;
    cf[r + CF.FLAGS] = g.flags;
    cf[r + CF.MIN_PARTIAL] = g.minPartial;
    // kmem's caches with sheaves keep no cpu slab and so no cpu partial slabs (src/slub/sheaf.ts).
    // 7.0 has neither (kmem_cache_cpu and CONFIG_SLUB_CPU_PARTIAL are gone).
    cf[r + CF.CPU_PARTIAL] = noCpuSlab ? 0 : g.cpuPartial;
    cf[r + CF.CPU_PARTIAL_SLABS] = noCpuSlab ? 0 : g.cpuPartialSlabs;
    cf[r + CF.USEROFFSET] = g.useroffset;
    cf[r + CF.USERSIZE] = g.usersize;
    cf[r + CF.REFCOUNT] = refcount;
    cf[r + CF.ALIVE] = 1;
    cf[r + CF.HANDLE] = newHandle(id);
    cf[r + CF.DEBUG] = (g.flags & SLAB_DEBUG_FLAGS) !== 0 ? 1 : 0;
    cf[r + CF.PARTIAL_HEAD] = -1;
    cf[r + CF.PARTIAL_TAIL] = -1;
    cf[r + CF.FULL_HEAD] = -1;
    let allocflags = 0;
    if (g.flags & SLAB_CACHE_DMA) allocflags |= __GFP_DMA;
    if (g.flags & SLAB_CACHE_DMA32) allocflags |= __GFP_DMA32;
    if (g.flags & SLAB_RECLAIM_ACCOUNT) allocflags |= __GFP_RECLAIMABLE;
    cf[r + CF.ALLOCFLAGS] = allocflags;
    if (this.opts.hardened) {
      cf[r + CF.XOR_LO] = this.opts.rand32() ^ SWAB_LO;
      cf[r + CF.XOR_HI] = this.opts.rand32() | 1;
      cf[r + CF.FP_HI_BE] = bswap32(DIRECT_MAP_HI ^ cf[r + CF.XOR_HI]!);
    }
    let randomSeq: Int32Array | null = null;
    if (this.slub.freelistRandom && g.objects >= 2) {
      // freelist_randomize(): a Fisher-Yates shuffle of 0..objects-1.
      randomSeq = new Int32Array(g.objects);
      for (let i = 0; i < g.objects; i++) randomSeq[i] = i;
      for (let i = g.objects - 1; i > 0; i--) {
        const j = (this.opts.rand32() >>> 0) % (i + 1);
        const t = randomSeq[i]!;
        randomSeq[i] = randomSeq[j]!;
        randomSeq[j] = t;
      }
    }
    const info: CacheInfo = {
      id,
      name,
      ctor,
      ctorName,
      isKmalloc,
      aliases: [],
      sysfsName: name,
      trackOffset: g.trackOffset,
      origSizeOffset: g.origSizeOffset,
      kasanAllocMetaOffset: g.kasanAllocMetaOffset,
      kasanFreeMetaOffset: g.kasanFreeMetaOffset,
      randomSeq,
      selfAddr: 0,
      nodeAddr: 0,
    };
    this.slub.caches[id] = info;
    // sysfs_slab_add(): a mergeable cache lives under its unique id.
    if (!this.unmergeable(id)) info.sysfsName = createUniqueId(g.flags, g.size);
    this.slabCaches.push(id);
    this.nameAdd(name, id);
    if (this.kmemCacheId >= 0) this.allocDescriptors(id);
    if (sheafCapacity !== 0) this.slub.sheaves.create(id, sheafCapacity);
    return id;
  }

  /** kmem_cache_zalloc(kmem_cache) and init_kmem_cache_nodes(): the cache's own descriptors. */
  private allocDescriptors(id: number): void {
    const info = this.slub.caches[id]!;
    const kc = this.kmemCacheId;
    const kcn = this.kmemCacheNodeId;
    info.selfAddr = this.slub.slabAlloc(kc, GFP_KERNEL | __GFP_ZERO, this.cf[kc * CF.FIELDS + CF.OBJECT_SIZE]!);
    info.nodeAddr = this.slub.slabAlloc(kcn, GFP_KERNEL | __GFP_ZERO, this.cf[kcn * CF.FIELDS + CF.OBJECT_SIZE]!);
  }

  /** The descriptors go back to their caches when a cache is destroyed. */
  private freeDescriptors(info: CacheInfo): void {
    for (const [cache, addr] of [
      [this.kmemCacheId, info.selfAddr],
      [this.kmemCacheNodeId, info.nodeAddr],
    ] as const) {
      if (addr === 0) continue;
      const slab = this.slub.virtToSlab(addr);
      // kmem_cache_free(): KASAN poisons (and may quarantine) the descriptor like any object.
      const hook = this.slub.hooks.slabFree;
      if (slab >= 0 && (hook === null || !hook(cache, addr))) this.slub.doSlabFree(cache, slab, addr);
    }
  }

  /**
   * A cache's descriptor as plain data, for the CPU threads' shared cache
   * table (src/smp/smp.ts): everything but the ctor, which another thread
   * cannot call.
   */
  cacheRecord(id: number): CacheRecord {
    const { ctor: _ctor, randomSeq, ...rest } = this.slub.caches[id]!;
    return { t: 'create', id, info: { ...rest, aliases: [...rest.aliases], randomSeq: randomSeq === null ? null : Array.from(randomSeq) } };
  }

  /**
   * Apply a record another CPU's thread wrote to the cache table: the cache
   * descriptors (struct kmem_cache's fields are shared already; this is the
   * part that lives in JavaScript), its names, and the id bookkeeping, so
   * that every CPU hands out the same next id.
   */
  applyRecord(rec: CacheRecord): void {
    if (rec.t === 'create') {
      const info = rec.info as unknown as CacheInfo & { randomSeq: number[] | null };
      const id = rec.id;
      this.slub.caches[id] = { ...info, ctor: null, aliases: [...info.aliases], randomSeq: info.randomSeq === null ? null : Int32Array.from(info.randomSeq) };
      this.slub.invSize[id] = (1 + 2 ** -30) / this.cf[id * CF.FIELDS + CF.SIZE]!;
      this.slub.slabMask[id] = -(1 << this.cf[id * CF.FIELDS + CF.SLAB_SHIFT]!);
      this.slabCaches.push(id);
      this.nameAdd(info.name, id);
      this.freeIds = this.freeIds.filter((x) => x !== id);
      if (id >= this.nextId) this.nextId = id + 1;
    } else if (rec.t === 'alias') {
      this.slub.caches[rec.id]?.aliases.push(rec.name);
      this.nameAdd(rec.name, rec.id);
    } else {
      const info = this.slub.caches[rec.id];
      if (info === undefined) return;
      for (const n of [info.name, ...info.aliases]) this.nameRemove(n, rec.id);
      const at = this.slabCaches.indexOf(rec.id);
      if (at >= 0) this.slabCaches.splice(at, 1);
      if (rec.released) {
        this.slub.caches[rec.id] = undefined;
        this.freeIds.push(rec.id);
      }
    }
  }

  /** A cache by name (aliases resolve to their target); the newest of that name. */
  findByName(name: string): number {
    const ids = this.byName.get(name);
    return ids === undefined ? -1 : ids[ids.length - 1]!;
  }

  /** All names that resolve to a cache, with the cache they resolve to. */
  names(): [string, number][] {
    return [...this.byName.entries()].map(([n, ids]) => [n, ids[ids.length - 1]!]);
  }

  private nameAdd(name: string, id: number): void {
    const ids = this.byName.get(name);
    if (ids === undefined) this.byName.set(name, [id]);
    else ids.push(id);
  }

  /** A destroyed cache's names no longer lead to it; an older cache of the same name is found again. */
  private nameRemove(name: string, id: number): void {
    const ids = this.byName.get(name);
    if (ids === undefined) return;
    const left = ids.filter((x) => x !== id);
    if (left.length === 0) this.byName.delete(name);
    else this.byName.set(name, left);
  }

  /** The handle users hold for cache id (see KmemHandle). */
  handleOf(id: number): number {
    return this.cf[id * CF.FIELDS + CF.HANDLE]!;
  }

  /** kmemCacheByName() in handles: the newest cache of that name, or -1. */
  handleByName(name: string): number {
    const id = this.findByName(name);
    return id < 0 ? -1 : this.handleOf(id);
  }

  /**
   * The cache id of a user's handle, or a TypeError (not an integer) /
   * RangeError (a destroyed cache's, another kernel's, or no handle) that
   * names the argument.
   */
  cacheOf(handle: unknown, argName = 'cache'): number {
    if (typeof handle !== 'number' || !Number.isInteger(handle)) throw new TypeError(`${argName}: expected a kmem_cache handle, got ${describe(handle)}`);
    const id = handle & KmemHandle.ID_MASK;
    if (handle <= 0 || handle > 0x7fffffff || this.cf[id * CF.FIELDS + CF.HANDLE] !== handle) {
      throw new RangeError(`${argName}: ${handle} is not a live kmem_cache of this kernel (destroyed, or another kernel's)`);
    }
    return id;
  }

  /** Throws unless id names a live cache. */
  checkCache(id: unknown, argName = 'cache'): asserts id is number {
    // (id >>> 0) !== id rejects every other non-number, fraction and negative in one compare.
    if (typeof id !== 'number' || id >>> 0 !== id || id >= SlabLimit.MAX_CACHES || this.cf[id * CF.FIELDS + CF.ALIVE] !== 1) {
      throw new TypeError(`${argName}: not a live kmem_cache (got ${describe(id)})`);
    }
  }

  /**
   * kmem_cache_destroy() as 6.12+ does it: drop a reference (a boot cache's
   * -1 never reaches 0); the last one flushes the CPUs and frees every empty
   * slab, then the cache leaves /proc/slabinfo, sysfs and name lookup even
   * when objects are left. Such a cache is leaked, not released: its slabs
   * stay and its objects can still be freed into it. Returns the number of
   * objects still allocated (the caller reports them).
   */
  destroy(id: number): number {
    const r = id * CF.FIELDS;
    const info = this.slub.caches[id]!;
    // create_kmalloc_cache() leaves refcount 1, so the kernel would shut a
    // kmalloc cache down -- and free it, when empty -- while kmalloc_caches[]
    // still points at it: the next kmalloc() of that size would use freed
    // memory. kmem refuses instead, changing nothing.
    if (info.isKmalloc) {
      throw new RangeError(`cache: ${info.name} is a kmalloc cache; kmem_cache_destroy() would free it while kmalloc_caches[] still points at it`);
    }
    if (--this.cf[r + CF.REFCOUNT]! !== 0) return 0;
    if (this.slub.hooks.cacheShrink !== null) this.slub.hooks.cacheShrink(id);
    this.slub.flushAll(id);
    // __kmem_cache_shutdown(): the barn is emptied before free_partial().
    if (this.cf[r + CF.SHEAF_CAPACITY] !== 0) this.slub.sheaves.barnShrink(id);
    // Free the empty partial slabs (free_partial); count what remains.
    for (let slab = this.cf[r + CF.PARTIAL_HEAD]!; slab >= 0; ) {
      const next = this.slub.pages.next[slab]!;
      if (this.slub.slabInuse(slab) === 0) {
        this.slub.removePartial(id, slab);
        this.slub.discardSlab(id, slab);
      }
      slab = next;
    }
    const left = this.cf[r + CF.NR_SLABS]! > 0 ? this.liveObjects(id) : 0;
    // list_del() and sysfs_slab_unlink(), with or without objects left.
    for (const n of [info.name, ...info.aliases]) this.nameRemove(n, id);
    const at = this.slabCaches.indexOf(id);
    if (at >= 0) this.slabCaches.splice(at, 1);
    if (left > 0) return left;
    this.cf[r + CF.ALIVE] = 0;
    this.cf[r + CF.HANDLE] = 0;
    this.cf[r + CF.SHEAF_CAPACITY] = 0;
    this.sheafRequested[id] = 0;
    this.slub.sheaves.destroy(id);
    this.slub.caches[id] = undefined;
    this.freeIds.push(id);
    this.freeDescriptors(info);
    return 0;
  }

  /** Objects allocated from a cache: total minus every free object anywhere. */
  liveObjects(id: number): number {
    const r = id * CF.FIELDS;
    let free = this.slub.countPartialFree(id);
    const st = this.slub.st;
    for (let cpu = 0; cpu < st.cpus; cpu++) {
      const i = cpu * MAX_CACHES + id;
      // The cpu freelist as deactivate_slab() counts it: up to a free pointer SLUB could not have stored.
      for (let o = st.cpuFreelist[i]!; o !== 0; ) {
        free++;
        const next = this.slub.getFreepointer(id, o);
        if (!this.slub.freepointerValid(id, o, next)) break;
        o = next;
      }
      const cs = st.cpuSlab[i]!;
      if (cs >= 0) free += this.slub.pages.slabObjects[cs]! - this.slub.slabInuse(cs);
      for (let s = st.cpuPartial[i]!; s >= 0; s = this.slub.pages.slabNext[s]!) {
        free += this.slub.pages.slabObjects[s]! - this.slub.slabInuse(s);
      }
    }
    return this.cf[r + CF.TOTAL_OBJECTS]! - free;
  }

  // ───────────────────────── kmalloc ─────────────────────────

  /** kmalloc_type(): which family of kmalloc caches serves these flags. */
  kmallocType(gfp: number): number {
    if ((gfp & (__GFP_RECLAIMABLE | __GFP_DMA | __GFP_ACCOUNT)) === 0) return KMALLOC_NORMAL;
    if (gfp & __GFP_DMA) return KMALLOC_DMA;
    if (gfp & __GFP_RECLAIMABLE) return KMALLOC_RECLAIM;
    return KMALLOC_CGROUP;
  }

  /** kmalloc_slab(): the cache for a size 1..KMALLOC_MAX_CACHE_SIZE. */
  kmallocSlab(size: number, gfp: number): number {
    // kmalloc_index(): the size_index table up to 192, fls(size - 1) above.
    const index = size <= 192 ? SIZE_INDEX[(size - 1) >> 3]! : 32 - Math.clz32(size - 1);
    return this.kmallocCaches[this.kmallocType(gfp) * 32 + index]!;
  }

  /**
   * __kmalloc_large_node(): a compound page block, its head marked as a large
   * kmalloc, accounted as unreclaimable slab memory. pages.index keeps the
   * requested size.
   */
  kmallocLarge(size: number, gfp: number): number {
    // The page allocator refuses an order above MAX_PAGE_ORDER with one
    // WARN_ON_ONCE_GFP() per boot (none with __GFP_NOWARN) and NULL.
    if (size > KMALLOC_MAX_SIZE) {
      if (!(gfp & __GFP_NOWARN) && !this.largeOrderWarned) {
        this.largeOrderWarned = true;
        this.slub.reports.warn('', 'mm/page_alloc.c');
      }
      return 0;
    }
    if ((gfp & GFP_SLAB_BUG_MASK) !== 0) gfp = this.slub.reports.fixFlags(gfp);
    const order = getOrder(size);
    const pfn = this.slub.pa.allocPagesPfn(order, gfp | __GFP_COMP);
    if (pfn < 0) return 0;
    const p = this.slub.pages;
    p.pageType[pfn] = PGTY_large_kmalloc;
    p.index[pfn] = size;
    this.slub.slabPagesUnreclaimable += 1 << order;
    return pfn * PAGE_SIZE;
  }

  /** free_large_kmalloc(): the block back to the buddy allocator. */
  freeLargeKmalloc(pfn: number): void {
    const p = this.slub.pages;
    const order = p.order[pfn]!;
    p.pageType[pfn] = PGTY_NONE;
    p.index[pfn] = 0;
    this.slub.slabPagesUnreclaimable -= 1 << order;
    this.slub.pa.freePagesPfn(pfn, order);
  }

  /** ksize() of a slab object (slab_ksize). */
  slabKsize(id: number): number {
    const r = id * CF.FIELDS;
    const flags = this.cf[r + CF.FLAGS]!;
    if (flags & (SLAB_RED_ZONE | SLAB_POISON)) return this.cf[r + CF.OBJECT_SIZE]!;
    if (flags & SLAB_KASAN) return this.cf[r + CF.OBJECT_SIZE]!;
    if (flags & (SLAB_TYPESAFE_BY_RCU | SLAB_STORE_USER)) return this.cf[r + CF.INUSE]!;
    return this.cf[r + CF.SIZE]!;
  }

  roundup(n: number): number {
    return kmallocSizeRoundup(n);
  }
}

export { KMALLOC_MAX_CACHE_SIZE, KMALLOC_MAX_SIZE, SLAB_ACCOUNT, ZERO_SIZE_PTR };
