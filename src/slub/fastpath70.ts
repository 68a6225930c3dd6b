/**
 * The sheaves' fast paths of a `kernel: '7.0'` machine (src/slub/slub70.ts)
 * as the API's own entry points, closures over the sheaf arrays for the
 * reason src/slub/fastpath.ts gives (V8 inlines a closure into the
 * caller's loop with every captured array a constant):
 *
 *   alloc: the cache (kmalloc_slab() by size, or the handle's), then pop
 *          pcsSize/pcsBase of (running CPU, cache) from the sheaf pool;
 *   free:  virt_to_slab() (the page's head) and slab->slab_cache, then
 *          push, refused when the main sheaf is full or a cache has no
 *          sheaves (capacity 0, the bootstrap sheaf) or the object is the
 *          sheaf's top entry (a double free: the general path reports it).
 *
 * An empty main sheaf (kmalloc) or a full one (kfree) goes straight to
 * __pcs_replace_empty_main() / free_to_pcs() (Sheaves.alloc, Sheaves.free).
 * Everything these refuse (a bad argument, __GFP_ZERO, another kmalloc
 * type, stats on) goes to the Kernel's own entry points, which end in the
 * same sheaves by the slow paths. Only a machine with no hook on any object
 * (no SLUB stats, no KASAN: decided at boot) gets them; they leave kmem's
 * CF.ALLOCS/CF.FREES rates (src/inspect.ts) to the slow paths, as the
 * kernel's fast path keeps no count of its own.
 */
import { GFP_KERNEL, Gfp, GfpMask } from '../page_alloc/gfp.js';
import type { SlubFastPaths } from './fastpath.js';
import { KmallocConst } from './kmalloc_info.js';
import { CF, KmemHandle } from './slab.js';
import type { Slub } from './slub.js';

/** The entry points replaced on a 7.0 machine: SlubFastPaths and the bulk pair. */
export interface SheafFastPaths extends SlubFastPaths {
  kmemCacheAllocBulk(cache: number, n: number, out: Uint32Array | number[], gfp?: number): number;
  kmemCacheFreeBulk(cache: number, addrs: ArrayLike<number>): void;
}

/** May a 7.0 machine take the sheaves' fast paths (no SLUB stats, no hook on any object)? */
export function sheafFastPathsApply(slub: Slub): boolean {
  return slub.kernel70 && !slub.statsOn && slub.allocHooked === 0 && slub.hooks.slabFree === null;
}

/**
 * The fast entry points of the API object k over slub's sheaves (memSize
 * bytes of memory, kmalloc_slab()'s table sizeToCache); `slow` holds the
 * general ones, called with k as `this`.
 */
export function sheafFastPaths(slub: Slub, sizeToCache: Int16Array, memSize: number, k: object, slow: SheafFastPaths): SheafFastPaths {
  const sv = slub.sheaves;
  const pcsSize = sv.pcsSize;
  const pcsBase = sv.pcsBase;
  const cap = sv.cap;
  // The pool as a constant of these closures (V8 then embeds its address and
  // length): Sheaves.onPoolGrow builds new closures when it is replaced.
  const pool = sv.pool;
  /** GFP_KERNEL as a constant of the closures (an imported binding is read from its module cell at each use). */
  const gfpKernel = GFP_KERNEL;
  const cf = slub.cf;
  const pageCache = slub.pageCache;
  /** Addresses an object may have, counted from ZERO_SIZE_PTR + 1. */
  const span = memSize - KmallocConst.ZERO_SIZE_PTR - 1;
  const slowKmalloc = slow.kmalloc;
  const slowKfree = slow.kfree;
  const slowCacheAlloc = slow.kmemCacheAlloc;
  const slowCacheFree = slow.kmemCacheFree;
  const slowAllocBulk = slow.kmemCacheAllocBulk;
  const slowFreeBulk = slow.kmemCacheFreeBulk;

  /** alloc_from_pcs(): pop cache s's main sheaf of the running CPU; 0 when it is empty. */
  function pop(s: number): number {
    const i = (slub.cpuBase + s) | 0;
    // `| 0`: sums of sheaf sizes and pool slots (far below 2^31), so V8 drops its overflow checks.
    const n = (pcsSize[i]! - 1) | 0;
    if (n < 0) return 0;
    const obj = pool[(pcsBase[i]! + n) | 0]!;
    pcsSize[i] = n;
    return obj;
  }

  /** free_to_pcs(): push obj on cache s's main sheaf of the running CPU; false when full, or obj is the top entry (a double free). */
  function push(s: number, obj: number): boolean {
    const i = (slub.cpuBase + s) | 0;
    const n = pcsSize[i]!;
    const at = (pcsBase[i]! + n) | 0;
    if (n === cap[s] || (n !== 0 && pool[(at - 1) | 0] === obj)) return false;
    pool[at] = obj;
    pcsSize[i] = (n + 1) | 0;
    return true;
  }

  /** Is cache a live handle of this machine (CF.HANDLE)? */
  function handleOk(cache: number): boolean {
    return typeof cache === 'number' && cf[(cache & KmemHandle.ID_MASK) * CF.FIELDS + CF.HANDLE] === cache;
  }

  /** GFP_KERNEL-like flags without __GFP_ZERO nor a kmalloc type bit. */
  function gfpPlain(gfp: number): boolean {
    // GFP_KERNEL, the common case, in one compare (it passes the mask test below).
    return gfp === gfpKernel || (typeof gfp === 'number' && (gfp & (GfpMask.KMALLOC_NORMAL & ~Gfp.ZERO)) === gfp);
  }

  return {
    kmalloc(size: number, gfp: number): number {
      if (typeof size === 'number' && size >>> 0 === size && (size - 1) >>> 0 < KmallocConst.MAX_CACHE_SIZE && gfpPlain(gfp)) {
        const s = sizeToCache[size]!;
        // pop() written out: one test of the size, no second one of its result.
        const i = (slub.cpuBase + s) | 0;
        const n = (pcsSize[i]! - 1) | 0;
        if (n >= 0) {
          pcsSize[i] = n;
          return pool[(pcsBase[i]! + n) | 0]!;
        }
        // An empty main sheaf: __pcs_replace_empty_main() straight away (0: the slow path below).
        if (cap[s] !== 0) {
          const q = sv.alloc(s, gfp) >>> 0;
          if (q !== 0) return q;
        }
      }
      // An address, 0 or ZERO_SIZE_PTR: `>>> 0` lets V8 keep every return a machine word (no boxing of p above).
      return slowKmalloc.call(k, size, gfp) >>> 0;
    },

    kfree(addr: number): void {
      // The address as a uint32 once (a === addr: an integer in range), so what follows is integer work.
      const a = typeof addr === 'number' ? addr >>> 0 : 0;
      if (a === addr && (a - (KmallocConst.ZERO_SIZE_PTR + 1)) >>> 0 < span) {
        // virt_to_cache(): -1 for a page that is not a slab's.
        const s = pageCache[a >>> 12]!;
        if (s >= 0) {
          if (push(s, a)) return;
          // A full main sheaf: free_to_pcs() replaces it (and still reports a push of the top entry).
          if (cap[s] !== 0 && pcsSize[slub.cpuBase + s] === cap[s]) {
            sv.free(s, a);
            return;
          }
        }
      }
      slowKfree.call(k, addr);
    },

    kmemCacheAlloc(cache: number, gfp: number): number {
      if (handleOk(cache) && gfpPlain(gfp)) {
        const p = pop(cache & KmemHandle.ID_MASK);
        if (p !== 0) return p;
      }
      return slowCacheAlloc.call(k, cache, gfp) >>> 0;
    },

    kmemCacheFree(cache: number, addr: number): void {
      if (handleOk(cache) && typeof addr === 'number' && addr >>> 0 === addr && (addr - 1) >>> 0 < span) {
        // cache_from_obj(): the slab's cache must be this one; anything else takes the general path's WARN.
        const s = cache & KmemHandle.ID_MASK;
        if (pageCache[addr >>> 12] === s && push(s, addr)) return;
      }
      slowCacheFree.call(k, cache, addr);
    },

    /**
     * kmem_cache_alloc_bulk() into a Uint32Array when the main sheaf holds
     * all n: alloc_from_pcs_bulk()'s memcpy of its top n objects, in array
     * order. Anything else takes the general path.
     */
    kmemCacheAllocBulk(cache: number, n: number, out: Uint32Array | number[], gfp = 0xcc0): number {
      if (handleOk(cache) && out instanceof Uint32Array && typeof n === 'number' && n >>> 0 === n && n !== 0 && n <= out.length && gfpPlain(gfp)) {
        const i = slub.cpuBase + (cache & KmemHandle.ID_MASK);
        const left = pcsSize[i]! - n;
        if (left >= 0) {
          const from = pcsBase[i]! + left;
          for (let j = 0; j < n; j++) out[j] = pool[from + j]!;
          pcsSize[i] = left;
          return n;
        }
      }
      return slowAllocBulk.call(k, cache, n, out, gfp);
    },

    /**
     * kmem_cache_free_bulk() of a Uint32Array when the main sheaf has room
     * for all of them and each is in a slab of this cache (checked first:
     * one that is not sends the whole batch the general way, which reports
     * it): free_to_pcs_bulk()'s copy onto the sheaf.
     */
    kmemCacheFreeBulk(cache: number, addrs: ArrayLike<number>): void {
      if (handleOk(cache) && addrs instanceof Uint32Array) {
        const s = cache & KmemHandle.ID_MASK;
        const i = slub.cpuBase + s;
        const n = addrs.length;
        const size = pcsSize[i]!;
        if (n !== 0 && size + n <= cap[s]!) {
          let ok = true;
          for (let j = 0; j < n; j++) {
            const addr = addrs[j]!;
            if ((addr - 1) >>> 0 >= span || pageCache[addr >>> 12] !== s) {
              ok = false;
              break;
            }
          }
          if (ok) {
            const at = pcsBase[i]! + size;
            for (let j = 0; j < n; j++) pool[at + j] = addrs[j]!;
            pcsSize[i] = size + n;
            return;
          }
        }
      }
      slowFreeBulk.call(k, cache, addrs);
    },
  };
}
