/**
 * The API of a machine booted with `kernel: '7.0'` (src/slub/slub70.ts):
 * kmalloc(), kfree(), kmem_cache_alloc() and kmem_cache_free() with the
 * sheaves' fast paths written into the entry points, on arrays this object
 * holds itself, so each step is one load from here rather than a chain
 * through the layers (kernel -> slub -> sheaves -> array).
 *
 *   alloc: the cache (kmalloc_slab() by size, or the handle's), then pop
 *          pcsSize/pcsBase of (running CPU, cache) from the sheaf pool;
 *   free:  virt_to_slab() (the page's head) and slab->slab_cache, then
 *          push, refused when the main sheaf is full or a cache has no
 *          sheaves (capacity 0, the bootstrap sheaf) or the object is the
 *          sheaf's top entry (a double free: the general path reports it).
 *
 * Everything these refuse (a bad argument, __GFP_ZERO, another kmalloc
 * type, an empty or full sheaf, stats on) goes to Kernel's own entry
 * points, which end in the same sheaves by the slow paths. A KASAN machine
 * keeps KasanKernel: its hooks run on every object anyway.
 */
import type { Machine } from './init/main.js';
import type { Kernel, KmemCache } from './kernel.js';
import { Gfp, GfpMask } from './page_alloc/gfp.js';
import { KmallocConst } from './slub/kmalloc_info.js';
import type { Sheaves } from './slub/sheaf.js';
import { CF, KmemHandle } from './slub/slab.js';
import type { Slub } from './slub/slub.js';

/** The Kernel class with 7.0's fast paths (a factory, so kernel.ts and this file import each other only as types). */
export function kernel70Class(Base: new (m: Machine) => Kernel): new (m: Machine) => Kernel {
  return class Kernel70 extends Base {
    private readonly sv: Sheaves;
    private readonly slub70: Slub;
    private readonly pcsSize: Int32Array;
    private readonly pcsBase: Int32Array;
    private readonly cap: Int32Array;
    private readonly cf70: Int32Array;
    private readonly head70: Int32Array;
    private readonly cache70: Int32Array;
    private readonly sizeToCache70: Int16Array;
    private readonly span70: number;
    /** 1 when no hook runs on an object (no SLUB stats, no KASAN): decided at boot. */
    private readonly fast70: number;

    constructor(m: Machine) {
      super(m);
      this.slub70 = m.slub;
      this.sv = m.slub.sheaves;
      this.pcsSize = this.sv.pcsSize;
      this.pcsBase = this.sv.pcsBase;
      this.cap = this.sv.cap;
      this.cf70 = m.slub.cf;
      this.head70 = m.pages.head;
      this.cache70 = m.pages.slabCache;
      this.sizeToCache70 = m.kmallocApi.sizeToCache;
      this.span70 = m.phys.size - KmallocConst.ZERO_SIZE_PTR - 1;
      this.fast70 = !m.slub.statsOn && m.slub.allocHooked === 0 && m.slub.hooks.slabFree === null ? 1 : 0;
    }

    /**
     * alloc_from_pcs(): pop cache s's main sheaf of the running CPU; 0 when
     * it is empty. Like push70, it leaves kmem's CF.ALLOCS/CF.FREES rates
     * (src/inspect.ts) to the slow paths: a counter's read-modify-write
     * costs as much as the pop itself, and statistics cost nothing when
     * off (with slubStats: true every operation takes the counted path).
     */
    private pop70(s: number): number {
      const i = this.slub70.cpuBase + s;
      const n = this.pcsSize[i]! - 1;
      if (n < 0) return 0;
      const obj = this.sv.pool[this.pcsBase[i]! + n]!;
      this.pcsSize[i] = n;
      return obj;
    }

    /** free_to_pcs(): push obj on cache s's main sheaf of the running CPU; false when the general path must take it. */
    private push70(s: number, obj: number): boolean {
      const i = this.slub70.cpuBase + s;
      const n = this.pcsSize[i]!;
      const at = this.pcsBase[i]! + n;
      const pool = this.sv.pool;
      if (n === this.cap[s] || (n !== 0 && pool[at - 1] === obj)) return false;
      pool[at] = obj;
      this.pcsSize[i] = n + 1;
      return true;
    }

    override kmalloc(size: number, gfp: number): number {
      if (
        typeof size === 'number' &&
        size >>> 0 === size &&
        (size - 1) >>> 0 < KmallocConst.MAX_CACHE_SIZE &&
        typeof gfp === 'number' &&
        (gfp & (GfpMask.KMALLOC_NORMAL & ~Gfp.ZERO)) === gfp &&
        this.fast70 !== 0
      ) {
        const s = this.sizeToCache70[size]!;
        const p = this.pop70(s);
        if (p !== 0) return p;
        // An empty main sheaf: __pcs_replace_empty_main() straight away (0: the slow path below).
        if (this.cap[s] !== 0) {
          const q = this.sv.alloc(s, gfp);
          if (q !== 0) return q;
        }
      }
      return super.kmalloc(size, gfp);
    }

    override kfree(addr: number): void {
      if (typeof addr === 'number' && addr >>> 0 === addr && (addr - (KmallocConst.ZERO_SIZE_PTR + 1)) >>> 0 < this.span70 && this.fast70 !== 0) {
        const pfn = addr >>> 12;
        const h = this.head70[pfn]!;
        const s = this.cache70[h < 0 ? pfn : h]!;
        if (s >= 0) {
          if (this.push70(s, addr)) return;
          // A full main sheaf: free_to_pcs() replaces it (and still reports a push of the top entry).
          if (this.cap[s] !== 0 && this.pcsSize[this.slub70.cpuBase + s] === this.cap[s]) {
            this.sv.free(s, addr);
            return;
          }
        }
      }
      super.kfree(addr);
    }

    override kmemCacheAlloc(cache: KmemCache, gfp: number): number {
      if (
        typeof cache === 'number' &&
        this.cf70[(cache & KmemHandle.ID_MASK) * CF.FIELDS + CF.HANDLE] === cache &&
        typeof gfp === 'number' &&
        (gfp & (GfpMask.KMALLOC_NORMAL & ~Gfp.ZERO)) === gfp &&
        this.fast70 !== 0
      ) {
        const p = this.pop70(cache & KmemHandle.ID_MASK);
        if (p !== 0) return p;
      }
      return super.kmemCacheAlloc(cache, gfp);
    }

    /**
     * kmem_cache_alloc_bulk() into a Uint32Array when the main sheaf holds
     * all n: alloc_from_pcs_bulk()'s memcpy of its top n objects, in array
     * order. Anything else takes the general path.
     */
    override kmemCacheAllocBulk(cache: KmemCache, n: number, out: Uint32Array | number[], gfp = 0xcc0): number {
      if (
        typeof cache === 'number' &&
        this.cf70[(cache & KmemHandle.ID_MASK) * CF.FIELDS + CF.HANDLE] === cache &&
        out instanceof Uint32Array &&
        typeof n === 'number' &&
        n >>> 0 === n &&
        n !== 0 &&
        n <= out.length &&
        typeof gfp === 'number' &&
        (gfp & (GfpMask.KMALLOC_NORMAL & ~Gfp.ZERO)) === gfp &&
        this.fast70 !== 0
      ) {
        const i = this.slub70.cpuBase + (cache & KmemHandle.ID_MASK);
        const left = this.pcsSize[i]! - n;
        if (left >= 0) {
          const from = this.pcsBase[i]! + left;
          const pool = this.sv.pool;
          for (let j = 0; j < n; j++) out[j] = pool[from + j]!;
          this.pcsSize[i] = left;
          return n;
        }
      }
      return super.kmemCacheAllocBulk(cache, n, out, gfp);
    }

    /**
     * kmem_cache_free_bulk() of a Uint32Array when the main sheaf has room
     * for all of them and each is in a slab of this cache (checked first:
     * one that is not sends the whole batch the general way, which reports
     * it): free_to_pcs_bulk()'s copy onto the sheaf.
     */
    override kmemCacheFreeBulk(cache: KmemCache, addrs: ArrayLike<number>): void {
      if (
        typeof cache === 'number' &&
        this.cf70[(cache & KmemHandle.ID_MASK) * CF.FIELDS + CF.HANDLE] === cache &&
        addrs instanceof Uint32Array &&
        this.fast70 !== 0
      ) {
        const s = cache & KmemHandle.ID_MASK;
        const i = this.slub70.cpuBase + s;
        const n = addrs.length;
        const size = this.pcsSize[i]!;
        if (n !== 0 && size + n <= this.cap[s]!) {
          let ok = true;
          for (let j = 0; j < n; j++) {
            const addr = addrs[j]!;
            const pfn = addr >>> 12;
            const h = (addr - 1) >>> 0 < this.span70 ? this.head70[pfn]! : -2;
            if (h === -2 || this.cache70[h < 0 ? pfn : h] !== s) {
              ok = false;
              break;
            }
          }
          if (ok) {
            const pool = this.sv.pool;
            const at = this.pcsBase[i]! + size;
            for (let j = 0; j < n; j++) pool[at + j] = addrs[j]!;
            this.pcsSize[i] = size + n;
            return;
          }
        }
      }
      super.kmemCacheFreeBulk(cache, addrs);
    }

    override kmemCacheFree(cache: KmemCache, addr: number): void {
      if (
        typeof cache === 'number' &&
        this.cf70[(cache & KmemHandle.ID_MASK) * CF.FIELDS + CF.HANDLE] === cache &&
        typeof addr === 'number' &&
        addr >>> 0 === addr &&
        (addr - 1) >>> 0 < this.span70 &&
        this.fast70 !== 0
      ) {
        const pfn = addr >>> 12;
        const h = this.head70[pfn]!;
        // cache_from_obj(): the slab's cache must be this one; anything else takes the general path's WARN.
        const s = cache & KmemHandle.ID_MASK;
        if (this.cache70[h < 0 ? pfn : h] === s && this.push70(s, addr)) return;
      }
      super.kmemCacheFree(cache, addr);
    }
  };
}
