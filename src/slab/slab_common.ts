/**
 * The cache lifecycle and the kmalloc family on a SLAB machine
 * (mm/slab_common.c over mm/slab.c, 6.4): kmem_cache_create() with its
 * alignment and the SLAB geometry, the kmalloc-32 .. kmalloc-8192 caches
 * (and kmalloc-96, kmalloc-192), kmalloc() above 8 KiB straight from the
 * page allocator (kmalloc_large, 6.1+), kfree(), ksize(), and destroy.
 *
 * kmem simplifications, stated: no cache merging, the kmalloc caches of
 * the normal type only (DMA / reclaimable / cgroup requests are served by
 * them), and the descriptors (struct kmem_cache, kmem_cache_node, the
 * shared arrays) take no slab memory.
 */
import { describe } from '../lib/argcheck.js';
import { PAGE_SIZE } from '../memory/memblock.js';
import { PG, PGTY } from '../memory/page.js';
import { __GFP_COMP, __GFP_NOWARN } from '../page_alloc/gfp.js';
import { MAX_PAGE_ORDER } from '../page_alloc/mmzone.js';
import { KMALLOC_MAX_SIZE } from '../slub/kmalloc_info.js';
import { KmemHandle, newHandle, SlabLimit } from '../slub/slab.js';
import type { KmemCacheArgs } from '../slub/slab_common.js';
import { SLAB_TYPESAFE_BY_RCU } from '../slub/slab_flags.js';
import type { SlabAllocator } from './slab.js';

/** KMALLOC_MAX_CACHE_SIZE: 1 << (PAGE_SHIFT + 1) since 6.1. */
export const SLAB_KMALLOC_MAX_CACHE_SIZE = 8192;

/** A cache's user-visible identity: name and handle, beside its SLAB id. */
interface Entry {
  readonly name: string;
  readonly handle: number;
  readonly id: number;
  readonly isKmalloc: boolean;
  refcount: number;
}

export class SlabCaches {
  readonly s: SlabAllocator;
  /** slab_caches, oldest first (printed newest first). */
  readonly list: Entry[] = [];
  private readonly byId: (Entry | null)[] = [];
  private largeOrderWarned = false;
  private readonly warn: (text: string, file: string) => void;

  constructor(s: SlabAllocator, warn: (text: string, file: string) => void) {
    this.s = s;
    this.warn = warn;
    s.initKmalloc();
    for (const c of s.caches) this.add(c.name, c.id, true);
  }

  private add(name: string, id: number, isKmalloc: boolean): Entry {
    const e: Entry = { name, handle: newHandle(id), id, isKmalloc, refcount: 1 };
    this.byId[id] = e;
    this.list.push(e);
    return e;
  }

  /** kmem_cache_create(): the new cache's handle (arguments checked as SLUB's are); 0 when the kernel returns -E2BIG. */
  create(name: string, size: number, args: KmemCacheArgs): number {
    if (typeof name !== 'string' || name.length === 0) throw new TypeError('name: expected a non-empty string');
    if (typeof size !== 'number' || !Number.isInteger(size)) throw new TypeError(`size: expected an integer, got ${describe(size)}`);
    if (size < 1 || size > KMALLOC_MAX_SIZE) throw new RangeError(`size: ${size} is outside 1..${KMALLOC_MAX_SIZE}`);
    if (args === null || typeof args !== 'object') throw new TypeError('args: expected an object');
    const align = args.align ?? 0;
    if (!Number.isInteger(align) || align < 0 || (align & (align - 1)) !== 0) {
      throw new RangeError(`args.align: expected 0 or a power of two, got ${describe(align)}`);
    }
    const flags = args.flags ?? 0;
    if (!Number.isInteger(flags) || flags < 0) throw new RangeError(`args.flags: invalid SLAB_* flags ${describe(flags)}`);
    if (args.ctor !== undefined && typeof args.ctor !== 'function') throw new TypeError('args.ctor: expected a function');
    if (args.freeptrOffset !== undefined && !(flags & SLAB_TYPESAFE_BY_RCU)) {
      throw new RangeError('args.freeptrOffset: only a SLAB_TYPESAFE_BY_RCU cache may place its free pointer');
    }
    if (args.sheafCapacity !== undefined && args.sheafCapacity !== 0) {
      throw new RangeError("args.sheafCapacity: SLAB has no sheaves (booted with allocator: 'slab')");
    }
    if (this.s.caches.length >= SlabLimit.MAX_CACHES) throw new RangeError(`name: no room for a cache beyond ${SlabLimit.MAX_CACHES}`);
    const id = this.s.createCache(name, size, align, flags, args.ctor ?? null);
    return id < 0 ? 0 : this.add(name, id, false).handle;
  }

  /** The SLAB id of a user's handle, or a TypeError/RangeError naming the argument. */
  cacheOf(handle: unknown, argName = 'cache'): number {
    if (typeof handle !== 'number' || !Number.isInteger(handle)) throw new TypeError(`${argName}: expected a kmem_cache handle, got ${describe(handle)}`);
    const e = handle > 0 && handle <= 0x7fffffff ? this.byId[handle & KmemHandle.ID_MASK] : undefined;
    if (e === undefined || e === null || e.handle !== handle) {
      throw new RangeError(`${argName}: ${handle} is not a live kmem_cache of this kernel (destroyed, or another kernel's)`);
    }
    return e.id;
  }

  /** The newest live cache of that name's handle, or -1. */
  handleByName(name: string): number {
    for (let i = this.list.length - 1; i >= 0; i--) if (this.list[i]!.name === name) return this.list[i]!.handle;
    return -1;
  }

  /** The cache by SLAB id (for /proc/slabinfo). */
  entry(id: number): { name: string; handle: number } | null {
    return this.byId[id] ?? null;
  }

  /**
   * kmem_cache_destroy(): the last reference shuts the cache down
   * (__kmem_cache_shrink); objects left keep it alive, unlisted, and are
   * reported (the caller WARNs). Returns whether objects were left.
   */
  destroy(id: number, cpu: number): boolean {
    const e = this.byId[id]!;
    if (e.isKmalloc) throw new RangeError(`cache: ${e.name} is a kmalloc cache; kmem_cache_destroy() would free it while kmalloc_caches[] still points at it`);
    if (--e.refcount > 0) return false;
    const left = this.s.shrink(id, cpu);
    this.list.splice(this.list.indexOf(e), 1);
    this.byId[id] = null;
    return left;
  }

  /** The periodic cache_reap() work up to nowNs, over slab_caches newest first. */
  reap(nowNs: number): void {
    const order: number[] = [];
    for (let i = this.list.length - 1; i >= 0; i--) order.push(this.list[i]!.id);
    this.s.reapUntil(nowNs, order);
  }

  // ───────────────────────── kmalloc ─────────────────────────

  /** __kmalloc(): a kmalloc cache's object, or pages above KMALLOC_MAX_CACHE_SIZE; 0 on failure (size 0 is the caller's). */
  kmalloc(size: number, gfp: number, cpu: number): number {
    if (size <= SLAB_KMALLOC_MAX_CACHE_SIZE) return this.s.cacheAlloc(this.s.kmallocSlab(size), gfp, cpu);
    return this.kmallocLarge(size, gfp);
  }

  /** kmalloc_large(): a compound page block counted as NR_SLAB_UNRECLAIMABLE_B, its size on the head page. */
  private kmallocLarge(size: number, gfp: number): number {
    let order = 0;
    while (PAGE_SIZE * 2 ** order < size) order++;
    if (order > MAX_PAGE_ORDER) {
      if (!(gfp & __GFP_NOWARN) && !this.largeOrderWarned) {
        this.largeOrderWarned = true;
        this.warn('', 'mm/page_alloc.c');
      }
      return 0;
    }
    const pfn = this.s.pa.allocPagesPfn(order, gfp | __GFP_COMP);
    if (pfn < 0) return 0;
    this.s.slabPagesUnreclaimable += 2 ** order;
    return pfn * PAGE_SIZE;
  }

  /** kfree(): to the object's cache on this CPU, or the large kmalloc's pages back. false for a refused double free. */
  kfree(addr: number, cpu: number): boolean {
    const p = this.s.pages;
    const head = p.compoundHead(Math.floor(addr / PAGE_SIZE));
    if (p.pageType[head] === PGTY.slab) return this.s.cacheFree(p.slabCache[head]!, addr, cpu);
    const order = (p.flags[head]! & (1 << PG.head)) !== 0 ? p.order[head]! : 0;
    this.s.slabPagesUnreclaimable -= 2 ** order;
    this.s.pa.freePagesPfn(head, order);
    return true;
  }

  /** __ksize(): the cache's object size, or the large block's size. */
  ksize(addr: number): number {
    const p = this.s.pages;
    const head = p.compoundHead(Math.floor(addr / PAGE_SIZE));
    if (p.pageType[head] === PGTY.slab) return this.s.caches[p.slabCache[head]!]!.objectSize;
    return PAGE_SIZE << ((p.flags[head]! & (1 << PG.head)) !== 0 ? p.order[head]! : 0);
  }
}
