/**
 * The API of a machine booted with `allocator: 'slab'`: the kmalloc family
 * and kmem_cache_* go to SLAB (src/slab/), as a kernel built with
 * CONFIG_SLAB (mm/slab.c, to 6.4) would, with the same argument checks and
 * errors as the SLUB machine; each call runs on the current CPU's head
 * arrays. Chosen once at boot, like the SLOB and KASAN variants.
 *
 * What SLAB does not have (sheaves, slub_debug's validation) is refused by
 * the shared base, src/nonslub_kernel.ts. Everything else (pages,
 * processes, /proc) is the Kernel's own.
 */
import type { BootOptions } from './init/boot_options.js';
import type { Machine } from './init/main.js';
import type { Kernel, KmemCache } from './kernel.js';
import { type GfpChecks, nonSlubKernelClass } from './nonslub_kernel.js';
import type { SlabAllocator } from './slab/slab.js';
import type { SlabCaches } from './slab/slab_common.js';
import { Kmalloc } from './slub/kmalloc.js';
import { kmallocSizeRoundup, ZERO_SIZE_PTR } from './slub/kmalloc_info.js';
import type { KmemCacheArgs } from './slub/slab_common.js';

export type { BootOptions, GfpChecks };

/** The Kernel class extended with SLAB's allocation API (a factory, so kernel.ts and this file import each other only as types). */
export function slabKernelClass(Base: new (m: Machine) => Kernel, g: GfpChecks): new (m: Machine) => Kernel {
  /** __free_one()'s WARN_ON_ONCE for a double free caught on top of a head array has fired. */
  let doubleFreeWarned = false;

  return class SlabKernel extends nonSlubKernelClass(Base, g, {
    allocator: 'slab',
    noValidation: "no slub_debug validation under allocator: 'slab' (CONFIG_DEBUG_SLAB is not modelled)",
  }) {
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

    override designKmalloc(size: number, gfp: number): number {
      return this.slabCaches.kmalloc(size, gfp, this.currentCpu);
    }
    override designKfree(addr: number): void {
      this.freed(this.slabCaches.kfree(addr, this.currentCpu));
    }
    override designKsize(addr: number): number {
      return this.slabCaches.ksize(addr);
    }
    override designCheckCache(cache: KmemCache): void {
      this.slabCaches.cacheOf(cache);
    }

    /** kmalloc_size_roundup(): the kmalloc cache's object size (kmalloc-32 the smallest under SLAB), or the pages'. */
    override kmallocSizeRoundup(n: number): number {
      Kmalloc.checkSize(n, 'n');
      if (n === 0) return 0;
      return n <= 32 ? 32 : kmallocSizeRoundup(n);
    }

    override kmemCacheCreate(name: string, size: number, args: KmemCacheArgs = {}): KmemCache {
      this.checkCreateArgs(args);
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
      this.gfpOk(gfp);
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
      this.checkBulkOut(n, out, gfp);
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
      this.checkBulkAddrs(addrs);
      for (let i = 0; i < addrs.length; i++) this.freed(this.slabAlloc.cacheFree(c, addrs[i]!, this.currentCpu));
    }

    override kmemCacheByName(name: string): KmemCache {
      this.checkName(name);
      return this.slabCaches.handleByName(name);
    }

    /** The virtual clock moves: the reaper's work that has come due runs (cache_reap on each CPU, every 2 s). */
    override tick(ns: number): void {
      super.tick(ns);
      this.syncClock();
      this.slabCaches.reap(this.printk.nowNs);
    }
  };
}
