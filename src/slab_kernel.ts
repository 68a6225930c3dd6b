/**
 * The API of a machine booted with `allocator: 'slab'`: the kmalloc family
 * and kmem_cache_* go to SLAB (src/slab/), as a kernel built with
 * CONFIG_SLAB (mm/slab.c, to 6.4) would, with the same argument checks and
 * errors as the SLUB machine; each call runs on the current CPU's head
 * arrays. Chosen once at boot, like the SLOB and KASAN variants.
 *
 * What SLAB does not have is an error here: sheaves, slub_debug's
 * validation. Everything else (pages, processes, /proc) is the Kernel's own.
 */
import type { BootOptions } from './init/boot_options.js';
import type { Machine } from './init/main.js';
import type { Kernel, KmemCache } from './kernel.js';
import { describe } from './lib/argcheck.js';
import { __GFP_ZERO } from './page_alloc/gfp.js';
import type { SlabAllocator } from './slab/slab.js';
import type { SlabCaches } from './slab/slab_common.js';
import { Kmalloc } from './slub/kmalloc.js';
import { kmallocSizeRoundup, ZERO_SIZE_PTR } from './slub/kmalloc_info.js';
import type { PrefilledSheaf } from './slub/sheaf.js';
import type { KmemCacheArgs } from './slub/slab_common.js';

export type { BootOptions };

/** The argument checks kernel.ts applies, handed over so this file needs nothing of it at run time. */
export interface GfpChecks {
  gfpAccepted(gfp: number): boolean;
  checkGfp(gfp: unknown): asserts gfp is number;
}

/** The Kernel class extended with SLAB's allocation API (a factory, so kernel.ts and this file import each other only as types). */
export function slabKernelClass(Base: new (m: Machine) => Kernel, g: GfpChecks): new (m: Machine) => Kernel {
  const gfpOk = (gfp: number): void => {
    if (!g.gfpAccepted(gfp)) g.checkGfp(gfp);
  };
  const noSheaves = (): never => {
    throw new RangeError("cache: SLAB has no sheaves (booted with allocator: 'slab')");
  };

  /** __free_one()'s WARN_ON_ONCE for a double free caught on top of a head array has fired. */
  let doubleFreeWarned = false;

  return class SlabKernel extends Base {
    /** @internal SLAB itself. */
    get slabAlloc(): SlabAllocator {
      return this.machine.slabCaches!.s;
    }
    private get slabCaches(): SlabCaches {
      return this.machine.slabCaches!;
    }
    private freed(ok: boolean): void {
      if (!ok && !doubleFreeWarned) {
        doubleFreeWarned = true;
        this.warn('', 'mm/slab.c');
      }
    }

    override kmalloc(size: number, gfp: number): number {
      if (typeof size !== 'number' || size >>> 0 !== size) Kmalloc.checkSize(size);
      gfpOk(gfp);
      if (size === 0) return ZERO_SIZE_PTR;
      return this.slabCaches.kmalloc(size, gfp, this.currentCpu);
    }

    override kmallocArray(n: number, size: number, gfp: number): number {
      Kmalloc.checkSize(n, 'n');
      Kmalloc.checkSize(size);
      g.checkGfp(gfp);
      if (BigInt(n) * BigInt(size) > 0xffffffffffffffffn) return 0;
      const bytes = Math.min(n * size, Number.MAX_SAFE_INTEGER);
      if (bytes === 0) return ZERO_SIZE_PTR;
      return this.slabCaches.kmalloc(bytes, gfp, this.currentCpu);
    }

    /** krealloc() as 6.4's __do_krealloc(): kept in place while ksize() holds newSize. */
    override krealloc(addr: number, newSize: number, gfp: number): number {
      this.kmallocApi.checkAddr(addr);
      Kmalloc.checkSize(newSize, 'newSize');
      g.checkGfp(gfp);
      if (newSize === 0) {
        this.kfree(addr);
        return ZERO_SIZE_PTR;
      }
      const ks = addr > ZERO_SIZE_PTR ? this.slabCaches.ksize(addr) : 0;
      if (ks >= newSize) return addr;
      const ret = this.kmalloc(newSize, gfp);
      if (ret !== 0 && addr > ZERO_SIZE_PTR) {
        this.phys.u8.copyWithin(ret, addr, addr + ks);
        this.freed(this.slabCaches.kfree(addr, this.currentCpu));
      }
      return ret;
    }

    override kfree(addr: number): void {
      if (!this.kmallocApi.addrAccepted(addr)) this.kmallocApi.checkAddr(addr);
      if (addr <= ZERO_SIZE_PTR) return;
      this.freed(this.slabCaches.kfree(addr, this.currentCpu));
    }

    override kfreeSensitive(addr: number): void {
      this.kmallocApi.checkAddr(addr);
      if (addr <= ZERO_SIZE_PTR) return;
      const n = this.slabCaches.ksize(addr);
      if (n > 0) this.phys.u8.fill(0, addr, addr + n);
      this.freed(this.slabCaches.kfree(addr, this.currentCpu));
    }

    override ksize(addr: number): number {
      this.kmallocApi.checkAddr(addr);
      if (addr <= ZERO_SIZE_PTR) return 0;
      return this.slabCaches.ksize(addr);
    }

    /** kmalloc_size_roundup(): the kmalloc cache's object size (kmalloc-32 the smallest under SLAB), or the pages'. */
    override kmallocSizeRoundup(n: number): number {
      Kmalloc.checkSize(n, 'n');
      if (n === 0) return 0;
      return n <= 32 ? 32 : kmallocSizeRoundup(n);
    }

    override kmemCacheCreate(name: string, size: number, args: KmemCacheArgs = {}): KmemCache {
      if (typeof args !== 'object' || args === null) throw new TypeError(`args: expected an object of cache arguments, got ${describe(args)}`);
      return this.slabCaches.create(name, size, args);
    }

    override kmemCacheDestroy(cache: KmemCache): void {
      const id = this.slabCaches.cacheOf(cache);
      const name = this.slabAlloc.caches[id]!.name;
      if (this.slabCaches.destroy(id, this.currentCpu))
        this.warn(`kmem_cache_destroy ${name}: Slab cache still has objects when called from kmemCacheDestroy`, 'mm/slab_common.c');
    }

    /** __kmem_cache_shrink(): every head array and the shared array drained, every free slab destroyed. */
    override kmemCacheShrink(cache: KmemCache): void {
      this.slabAlloc.shrink(this.slabCaches.cacheOf(cache), this.currentCpu);
    }

    override kmemCacheAlloc(cache: KmemCache, gfp: number): number {
      const c = this.slabCaches.cacheOf(cache);
      gfpOk(gfp);
      return this.slabAlloc.cacheAlloc(c, gfp, this.currentCpu);
    }

    override kmemCacheFree(cache: KmemCache, addr: number): void {
      const c = this.slabCaches.cacheOf(cache);
      if (!this.kmallocApi.addrAccepted(addr)) this.kmallocApi.checkAddr(addr);
      if (addr <= ZERO_SIZE_PTR) return;
      this.freed(this.slabAlloc.cacheFree(c, addr, this.currentCpu));
    }

    override kmemCacheAllocBulk(cache: KmemCache, n: number, out: Uint32Array | number[], gfp = 0xcc0): number {
      const c = this.slabCaches.cacheOf(cache);
      Kmalloc.checkSize(n, 'n');
      if (typeof out !== 'object' || out === null || typeof out.length !== 'number')
        throw new TypeError(`out: expected an array or Uint32Array, got ${describe(out)}`);
      if (out.length < n && out instanceof Uint32Array) throw new RangeError(`out: holds ${out.length} entries, ${n} needed`);
      g.checkGfp(gfp);
      // kmem_cache_alloc_bulk(): one at a time through the head array; all or nothing.
      for (let i = 0; i < n; i++) {
        const x = this.slabAlloc.cacheAlloc(c, gfp, this.currentCpu);
        out[i] = x;
        if (x === 0) {
          for (let j = 0; j < i; j++) this.slabAlloc.cacheFree(c, out[j]!, this.currentCpu);
          return 0;
        }
      }
      return n;
    }

    override kmemCacheFreeBulk(cache: KmemCache, addrs: ArrayLike<number>): void {
      const c = this.slabCaches.cacheOf(cache);
      if (typeof addrs !== 'object' || addrs === null || typeof addrs.length !== 'number')
        throw new TypeError(`addrs: expected an array or Uint32Array of addresses, got ${describe(addrs)}`);
      for (let i = 0; i < addrs.length; i++) this.kmallocApi.checkAddr(addrs[i], `addrs[${i}]`);
      for (let i = 0; i < addrs.length; i++) this.freed(this.slabAlloc.cacheFree(c, addrs[i]!, this.currentCpu));
    }

    override kmemCacheByName(name: string): KmemCache {
      if (typeof name !== 'string') throw new TypeError(`name: expected a string, got ${describe(name)}`);
      return this.slabCaches.handleByName(name);
    }

    override kmemCachePrefillSheaf(cache: KmemCache, _gfp: number, _size: number): PrefilledSheaf | null {
      this.slabCaches.cacheOf(cache);
      return noSheaves();
    }
    override kmemCacheAllocFromSheaf(cache: KmemCache, _gfp: number, _sheaf: PrefilledSheaf): number {
      this.slabCaches.cacheOf(cache);
      return noSheaves();
    }
    override kmemCacheSheafSize(cache: KmemCache, _sheaf: PrefilledSheaf): number {
      this.slabCaches.cacheOf(cache);
      return noSheaves();
    }
    override kmemCacheReturnSheaf(cache: KmemCache, _gfp: number, _sheaf: PrefilledSheaf): void {
      this.slabCaches.cacheOf(cache);
      noSheaves();
    }

    override slabValidate(cache: KmemCache): number {
      this.slabCaches.cacheOf(cache);
      throw new RangeError("cache: no slub_debug validation under allocator: 'slab' (CONFIG_DEBUG_SLAB is not modelled)");
    }

    /** The virtual clock moves: the reaper's work that has come due runs (cache_reap on each CPU, every 2 s). */
    override tick(ns: number): void {
      super.tick(ns);
      this.syncClock();
      this.slabCaches.reap(this.printk.nowNs);
    }

    override kzalloc(size: number, gfp: number): number {
      gfpOk(gfp);
      return this.kmalloc(size, gfp | __GFP_ZERO);
    }
  };
}
