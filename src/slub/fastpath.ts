/**
 * 6.18's lockless SLUB fast paths as the entry points of a plain machine
 * (SLUB 6.18, no KASAN, no SLUB stats, a hardened freelist, no CPU
 * threads): kmalloc() and kmem_cache_alloc() pop the running CPU's
 * freelist (slab_alloc_node()'s this_cpu_cmpxchg), kfree() and
 * kmem_cache_free() push on it (do_slab_free()), each written out in one
 * small function over the machine's arrays.
 *
 * Why closures: V8 compiles `k.kmalloc(...)` in a caller's loop by inlining
 * the function it saw there; for a closure it then knows the closure's
 * context, so every array captured below is a constant of the compiled
 * code (no load of the array from an object, of its data pointer, of its
 * length). A method on Kernel.prototype reached through a `k` the caller
 * holds in a variable loads all of those on every call, and again after
 * each store (a store makes V8 forget what it had loaded): about twice the
 * work. The closures are installed on the instance (own properties, only
 * for `new Kernel`: the subclasses keep their own methods), and hand
 * everything they do not take to Kernel.prototype's methods, which do the
 * same operation with every check and report. A machine with CPU threads
 * keeps the methods (attach() rebinds the arrays it finds in fields;
 * arrays held in a closure would stay this thread's).
 *
 * Each fast path takes exactly the case Slub.slabAlloc + popCpuFreelist
 * and Slub.slabFreeFast take without a call: the same decisions (the slab
 * test by Slub.slabMask and the object index by Slub.invSize, where those
 * use shifts), the same stores, the same counters (cpuAllocs, cpuFrees);
 * anything else (an empty cpu freelist, a free pointer outside the cpu
 * slab's block, an object of another slab than the cpu slab, the freelist
 * head freed again, not an object start, __GFP_ZERO, bad arguments) goes to
 * the general path unchanged.
 */
import { Gfp, GfpMask } from '../page_alloc/gfp.js';
import { KmallocConst } from './kmalloc_info.js';
import { CF, DirectMap, KmemHandle } from './slab.js';
import { Slub } from './slub.js';

/** The entry points the fast paths replace on the instance (kmem_cache handles are numbers). */
export interface SlubFastPaths {
  kmalloc(size: number, gfp: number): number;
  kfree(addr: number): void;
  kmemCacheAlloc(cache: number, gfp: number): number;
  kmemCacheFree(cache: number, addr: number): void;
}

/**
 * May a machine take the fast paths: SLUB 6.18 with no hook on any object,
 * on one thread (decided at boot, never tested per call)? The slub must be
 * Slub itself: a subclass may change the fast paths these copy (SlubSmp
 * keeps kmem_cache_cpu's tid on them).
 */
export function slubFastPathsApply(slub: Slub, slubAllocator: boolean, kasan: boolean, smp: boolean): boolean {
  return Object.getPrototypeOf(slub) === Slub.prototype && slubAllocator && !slub.kernel70 && slub.allocHooked === 0 && slub.freeHooked === 0 && !kasan && !smp;
}

/**
 * The fast entry points of the API object k over slub's arrays (memSize
 * bytes of memory, kmalloc_slab()'s table sizeToCache); `slow` holds the
 * general ones (Kernel.prototype's), called with k as `this`.
 */
export function slubFastPaths(slub: Slub, sizeToCache: Int16Array, memSize: number, k: object, slow: SlubFastPaths): SlubFastPaths {
  const fl = slub.cpuFreelist;
  const cpuSlab = slub.cpuSlab;
  const allocs = slub.cpuAllocs;
  const frees = slub.cpuFrees;
  const cf = slub.cf;
  const u32 = slub.u32;
  const dv = slub.dv;
  const pageHead = slub.pages.head;
  const slabCache = slub.pages.slabCache;
  const slabObjects = slub.pages.slabObjects;
  const slabMask = slub.slabMask;
  const invSize = slub.invSize;
  /** Addresses an object may have, counted from ZERO_SIZE_PTR + 1. */
  const span = memSize - KmallocConst.ZERO_SIZE_PTR - 1;
  /**
   * The general entry points, called through this array's elements with
   * .call(): TurboFan never inlines such a call (the target is not a
   * constant to it and .call's feedback names Function.prototype.call, not
   * the target), so the general paths stay out of the fast paths' own
   * compiled code and out of a caller's inlining budget (920 bytes of
   * bytecode, counting what a callee's optimized code already inlined).
   * Inlined, they used to crowd kfree out of the caller's loop in about one
   * process in three: the pair then took 15 ns instead of 11.5.
   */
  const general = [slow.kmalloc, slow.kfree, slow.kmemCacheAlloc, slow.kmemCacheFree] as const;

  /**
   * Pop cache s's cpu freelist of the running CPU: the object, or 0 when
   * the general path must allocate (empty, or a free pointer that is not a
   * plain pointer into the same slab block: loadFreelist checks those).
   * Invariant: loads first, stores last.
   */
  function pop(s: number): number {
    const i = (slub.cpuBase + s) | 0;
    const obj = fl[i]!;
    if (obj === 0) return 0;
    const r = Math.imul(s, CF.FIELDS);
    const next = (u32[(obj + cf[r + CF.OFFSET]!) >>> 2]! ^ cf[r + CF.XOR_LO]!) >>> 0;
    if (((next ^ obj) & slabMask[s]!) !== 0) return 0;
    const n = (allocs[i]! + 1) | 0;
    fl[i] = next;
    allocs[i] = n;
    return obj;
  }

  /**
   * Push obj, in the slab headed by pfn `slab` of cache s, on the running
   * CPU's freelist when that slab is its cpu slab, obj an object start and
   * not the freelist head; false, with nothing changed, otherwise. The free
   * pointer is stored as set_freepointer() does with
   * CONFIG_SLAB_FREELIST_HARDENED (Slub.setFreepointerHardened).
   */
  function push(s: number, slab: number, obj: number): boolean {
    const i = (slub.cpuBase + s) | 0;
    const r = Math.imul(s, CF.FIELDS);
    const head = fl[i]!;
    // FAST_FREE_PAD is RED_LEFT_PAD, or 2^30 more for a cache with sheaves (never a fast free).
    const off = ((obj - (slab << 12)) | 0) - cf[r + CF.FAST_FREE_PAD]!;
    // off / size for an exact multiple below 2^15 (invSize is 1/size scaled by 1 + 2^-30), by a
    // multiply where the reciprocal's shift by CF.RECIP_SHIFT would be a variable shift; any
    // other off (negative, 2^15 or more, not a multiple) fails idx * size === off.
    const idx = ((off & 0x7fff) * invSize[s]!) | 0;
    if (Math.imul(idx, cf[r + CF.SIZE]!) !== off || idx >= slabObjects[slab]! || obj === head || slab !== cpuSlab[i]) return false;
    const loc = obj + cf[r + CF.OFFSET]!;
    const lo = head ^ cf[r + CF.XOR_LO]!;
    const hi = loc ^ cf[r + CF.FP_HI_BE]! ^ (head === 0 ? DirectMap.SWAB_LO : 0);
    const n = (frees[i]! + 1) | 0;
    // The head and the counter first, then the free pointer: the next pop's first load is the
    // head, forwarded from this store. Measured 0.15-0.6 ns less a pair than the free pointer
    // first; nothing can see the order (one thread, no exception between the stores).
    fl[i] = obj;
    frees[i] = n;
    u32[loc >>> 2] = lo;
    dv.setUint32(loc + 4, hi, false);
    return true;
  }

  return {
    kmalloc(size: number, gfp: number): number {
      // A whole size of a kmalloc cache and GFP_KERNEL-like flags without __GFP_ZERO: the normal caches by size.
      if (
        typeof size === 'number' &&
        size >>> 0 === size &&
        (size - 1) >>> 0 < KmallocConst.MAX_CACHE_SIZE &&
        typeof gfp === 'number' &&
        (gfp & (GfpMask.KMALLOC_NORMAL & ~Gfp.ZERO)) === gfp
      ) {
        const p = pop(sizeToCache[size]!);
        if (p !== 0) return p;
      }
      // An address below 4 GiB or 0, so >>> 0 changes nothing; V8 then keeps the
      // result untagged (a uint32, as on the fast path) in the caller's loop.
      return general[0].call(k, size, gfp) >>> 0;
    },

    kfree(addr: number): void {
      if (typeof addr === 'number' && addr >>> 0 === addr && (addr - (KmallocConst.ZERO_SIZE_PTR + 1)) >>> 0 < span) {
        const pfn = addr >>> 12;
        const h = pageHead[pfn]!;
        const slab = h < 0 ? pfn : h;
        // slab_cache >= 0 exactly while the page is a slab: one load stands for PageSlab().
        const s = slabCache[slab]!;
        if (s >= 0 && push(s, slab, addr)) return;
      }
      general[1].call(k, addr);
    },

    kmemCacheAlloc(cache: number, gfp: number): number {
      if (
        typeof cache === 'number' &&
        cf[(cache & KmemHandle.ID_MASK) * CF.FIELDS + CF.HANDLE] === cache &&
        typeof gfp === 'number' &&
        (gfp & (GfpMask.KMALLOC_NORMAL & ~Gfp.ZERO)) === gfp
      ) {
        const p = pop(cache & KmemHandle.ID_MASK);
        if (p !== 0) return p;
      }
      return general[2].call(k, cache, gfp) >>> 0;
    },

    kmemCacheFree(cache: number, addr: number): void {
      if (
        typeof cache === 'number' &&
        cf[(cache & KmemHandle.ID_MASK) * CF.FIELDS + CF.HANDLE] === cache &&
        typeof addr === 'number' &&
        addr >>> 0 === addr &&
        (addr - (KmallocConst.ZERO_SIZE_PTR + 1)) >>> 0 < span
      ) {
        const pfn = addr >>> 12;
        const h = pageHead[pfn]!;
        const slab = h < 0 ? pfn : h;
        // cache_from_obj(): the slab's cache must be this one; anything else takes the general path's WARN.
        if (slabCache[slab] === (cache & KmemHandle.ID_MASK) && push(cache & KmemHandle.ID_MASK, slab, addr)) return;
      }
      general[3].call(k, cache, addr);
    },
  };
}
