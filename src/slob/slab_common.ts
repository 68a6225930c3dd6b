/**
 * kmem_cache_create() and friends under SLOB (mm/slab_common.c and the
 * "SLAB emulation" half of mm/slob.c, 6.3). A SLOB cache is only a
 * descriptor: SLOB has no per-cache slabs, so a cache records its size,
 * alignment, flags and constructor, and every object comes from the shared
 * SLOB heap (or from the page allocator at PAGE_SIZE and above).
 *
 * The descriptor itself is a struct kmem_cache of 64 bytes, allocated from
 * the heap like any object of the boot cache `kmem_cache` (kmem_cache_boot:
 * size sizeof(struct kmem_cache), align ARCH_KMALLOC_MINALIGN), zeroed, with
 * the fields SLOB's struct kmem_cache has (mm/slab.h under CONFIG_SLOB):
 *
 *   0 object_size  4 size  8 align  12 flags  16 useroffset  20 usersize
 *   24 name (pointer)  32 refcount  40 ctor (pointer)  48 list (2 pointers)
 *
 * SLOB never merges caches (__kmem_cache_alias() is NULL under SLOB) and
 * cannot tell whether a destroyed cache still has objects
 * (__kmem_cache_shutdown() returns 0), so a destroy is silent.
 */
import { describe } from '../lib/argcheck.js';
import { __GFP_ZERO } from '../page_alloc/gfp.js';
import { KMALLOC_MAX_SIZE } from '../slub/kmalloc_info.js';
import { KmemHandle, newHandle, SlabLimit } from '../slub/slab.js';
import type { KmemCacheArgs } from '../slub/slab_common.js';
import { SLAB_HWCACHE_ALIGN, SLAB_TYPESAFE_BY_RCU } from '../slub/slab_flags.js';
import { SLOB_MINALIGN, type Slob } from './slob.js';

/** sizeof(struct kmem_cache) under CONFIG_SLOB on x86-64. */
export const SLOB_KMEM_CACHE_SIZE = 64;
/** sizeof(struct slob_rcu): an rcu_head (16) and an int, padded to 8. */
export const SLOB_RCU_SIZE = 24;
/** cache_line_size() on x86-64. */
const CACHE_LINE_SIZE = 64;

/** A SLOB cache: what __kmem_cache_create() keeps. */
export interface SlobCache {
  readonly name: string;
  readonly objectSize: number;
  /** c->size: the object, plus struct slob_rcu for a SLAB_TYPESAFE_BY_RCU cache. */
  readonly size: number;
  readonly align: number;
  readonly flags: number;
  readonly ctor: ((addr: number) => void) | null;
  /** Address of the struct kmem_cache in the SLOB heap. */
  readonly desc: number;
  readonly handle: number;
  refcount: number;
}

/** calculate_alignment() of mm/slab_common.c. */
export function calculateAlignment(flags: number, align: number, size: number): number {
  if (flags & SLAB_HWCACHE_ALIGN) {
    let ralign = CACHE_LINE_SIZE;
    while (size <= ralign / 2) ralign /= 2;
    align = Math.max(align, ralign);
  }
  align = Math.max(align, SLOB_MINALIGN);
  return (align + 7) & ~7;
}

export class SlobCaches {
  readonly slob: Slob;
  /** slab_caches in creation order. */
  readonly list: SlobCache[] = [];
  private readonly byId: (SlobCache | null)[] = [];
  private freeIds: number[] = [];
  /** slob_alloc_node()'s WARN_ON_ONCE(flags & __GFP_ZERO) for a cache with a constructor has fired. */
  private zeroCtorWarned = false;
  private readonly warn: (text: string, file: string) => void;

  constructor(slob: Slob, warn: (text: string, file: string) => void) {
    this.slob = slob;
    this.warn = warn;
  }

  /**
   * kmem_cache_create(): a new descriptor in the heap and its handle, or 0
   * (NULL) when the heap cannot grow. Arguments are checked as SLUB's are.
   */
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
      throw new RangeError("args.sheafCapacity: SLOB has no sheaves (booted with allocator: 'slob')");
    }
    if (this.freeIds.length === 0 && this.byId.length >= SlabLimit.MAX_CACHES) throw new RangeError(`name: no room for a cache beyond ${SlabLimit.MAX_CACHES}`);
    // create_cache(): kmem_cache_zalloc(kmem_cache, GFP_KERNEL).
    const desc = this.slob.cacheAlloc(SLOB_KMEM_CACHE_SIZE, SLOB_MINALIGN, 0xcc0 | __GFP_ZERO);
    if (desc === 0) return 0;
    const calign = calculateAlignment(flags, align, size);
    // __kmem_cache_create(): room for the rcu footer of a SLAB_TYPESAFE_BY_RCU cache.
    const csize = flags & SLAB_TYPESAFE_BY_RCU ? size + SLOB_RCU_SIZE : size;
    const id = this.freeIds.pop() ?? this.byId.length;
    const c: SlobCache = { name, objectSize: size, size: csize, align: calign, flags, ctor: args.ctor ?? null, desc, handle: newHandle(id), refcount: 1 };
    this.byId[id] = c;
    this.list.push(c);
    const dv = this.slob.pa.mem.dv;
    dv.setUint32(desc, size, true);
    dv.setUint32(desc + 4, csize, true);
    dv.setUint32(desc + 8, calign, true);
    dv.setUint32(desc + 12, flags, true);
    dv.setUint32(desc + 16, args.useroffset ?? 0, true);
    dv.setUint32(desc + 20, args.usersize ?? 0, true);
    dv.setInt32(desc + 32, 1, true);
    return c.handle;
  }

  /** The cache of a user's handle, or a TypeError/RangeError naming the argument. */
  cacheOf(handle: unknown, argName = 'cache'): SlobCache {
    if (typeof handle !== 'number' || !Number.isInteger(handle)) throw new TypeError(`${argName}: expected a kmem_cache handle, got ${describe(handle)}`);
    const c = handle > 0 && handle <= 0x7fffffff ? this.byId[handle & KmemHandle.ID_MASK] : undefined;
    if (c === undefined || c === null || c.handle !== handle) {
      throw new RangeError(`${argName}: ${handle} is not a live kmem_cache of this kernel (destroyed, or another kernel's)`);
    }
    return c;
  }

  /** The newest live cache of that name's handle, or -1. */
  handleByName(name: string): number {
    for (let i = this.list.length - 1; i >= 0; i--) if (this.list[i]!.name === name) return this.list[i]!.handle;
    return -1;
  }

  /** kmem_cache_destroy(): the last reference frees the descriptor; objects left are not noticed. */
  destroy(c: SlobCache): void {
    if (--c.refcount > 0) return;
    this.list.splice(this.list.indexOf(c), 1);
    const id = c.handle & KmemHandle.ID_MASK;
    this.byId[id] = null;
    this.freeIds.push(id);
    // kmem_cache_release() -> kmem_cache_free(kmem_cache, s).
    this.slob.cacheFree(c.desc, SLOB_KMEM_CACHE_SIZE);
  }

  /** slob_alloc_node(): an object, the constructor run on it (SLOB runs it on every allocation); 0 on failure. */
  alloc(c: SlobCache, gfp: number): number {
    const b = this.slob.cacheAlloc(c.size, c.align, gfp);
    if (b !== 0 && c.ctor !== null) {
      // __GFP_ZERO would wipe what the constructor sets up: WARN_ON_ONCE, then run it anyway.
      if (gfp & __GFP_ZERO && !this.zeroCtorWarned) {
        this.zeroCtorWarned = true;
        this.warn('', 'mm/slob.c');
      }
      c.ctor(b);
    }
    return b;
  }

  /**
   * kmem_cache_free(). A SLAB_TYPESAFE_BY_RCU object records its size in
   * its struct slob_rcu footer and would be freed after a grace period;
   * kmem has no RCU readers, so the grace period is over at once.
   */
  free(c: SlobCache, addr: number): void {
    if (c.flags & SLAB_TYPESAFE_BY_RCU) this.slob.pa.mem.dv.setInt32(addr + c.size - SLOB_RCU_SIZE + 16, c.size, true);
    this.slob.cacheFree(addr, c.size);
  }

  /** kmem_cache_alloc_bulk(): all n into out, or none (those taken are freed again) and 0. */
  allocBulk(c: SlobCache, gfp: number, n: number, out: Uint32Array | number[]): number {
    for (let i = 0; i < n; i++) {
      const x = this.alloc(c, gfp);
      out[i] = x;
      if (x === 0) {
        for (let j = 0; j < i; j++) this.free(c, out[j]!);
        return 0;
      }
    }
    return n;
  }

  /** kmem_cache_free_bulk() */
  freeBulk(c: SlobCache, addrs: ArrayLike<number>): void {
    for (let i = 0; i < addrs.length; i++) this.free(c, addrs[i]!);
  }
}
