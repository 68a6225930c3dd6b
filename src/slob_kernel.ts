/**
 * The API of a machine booted with `allocator: 'slob'`: the kmalloc family
 * and kmem_cache_* go to SLOB (src/slob/), as a kernel built with
 * CONFIG_SLOB (6.3's mm/slob.c) would, with the same argument checks and
 * errors as the SLUB machine. Chosen once at boot, like KASAN's variant, so
 * the SLUB machine's paths carry no test for it.
 *
 * What SLOB does not have (sheaves, slab validation) is refused by the
 * shared base, src/nonslub_kernel.ts. Everything else (pages, processes,
 * /proc) is the Kernel's own.
 */
import type { BootOptions } from './init/boot_options.js';
import type { Machine } from './init/main.js';
import type { Kernel, KmemCache } from './kernel.js';
import { type GfpChecks, nonSlubKernelClass } from './nonslub_kernel.js';
import type { SlobCaches } from './slob/slab_common.js';
import { SLOB_MINALIGN, type Slob } from './slob/slob.js';
import { Kmalloc } from './slub/kmalloc.js';
import { ZERO_SIZE_PTR } from './slub/kmalloc_info.js';
import type { KmemCacheArgs } from './slub/slab_common.js';

export type { BootOptions, GfpChecks };

/** The Kernel class extended with SLOB's allocation API (a factory, so kernel.ts and this file import each other only as types). */
export function slobKernelClass(Base: new (m: Machine) => Kernel, g: GfpChecks): new (m: Machine) => Kernel {
  return class SlobKernel extends nonSlubKernelClass(Base, g, {
    allocator: 'slob',
    noValidation: "SLOB has no slab validation (no slub_debug under allocator: 'slob')",
  }) {
    /** @internal SLOB itself. */
    get slob(): Slob {
      return this.machine.slob!;
    }
    private get slobCaches(): SlobCaches {
      return this.machine.slobCaches!;
    }

    override designKmalloc(size: number, gfp: number): number {
      return this.slob.kmalloc(size, gfp);
    }
    override designKfree(addr: number): void {
      this.slob.kfree(addr);
    }
    override designKsize(addr: number): number {
      return this.slob.ksize(addr);
    }
    override designCheckCache(cache: KmemCache): void {
      this.slobCaches.cacheOf(cache);
    }

    /** SLOB's kmalloc_size_roundup(): whole ARCH_KMALLOC_MINALIGN units, the header not counted. */
    override kmallocSizeRoundup(n: number): number {
      Kmalloc.checkSize(n, 'n');
      return n === 0 ? 0 : Math.ceil(n / SLOB_MINALIGN) * SLOB_MINALIGN;
    }

    override kmemCacheCreate(name: string, size: number, args: KmemCacheArgs = {}): KmemCache {
      this.checkCreateArgs(args);
      return this.slobCaches.create(name, size, args);
    }

    override kmemCacheDestroy(cache: KmemCache): void {
      this.slobCaches.destroy(this.slobCaches.cacheOf(cache));
    }

    /** __kmem_cache_shrink(): nothing to shrink, SLOB has no per-cache slabs. */
    override kmemCacheShrink(cache: KmemCache): void {
      this.slobCaches.cacheOf(cache);
    }

    override kmemCacheAlloc(cache: KmemCache, gfp: number): number {
      const c = this.slobCaches.cacheOf(cache);
      this.gfpOk(gfp);
      return this.slobCaches.alloc(c, gfp);
    }

    override kmemCacheFree(cache: KmemCache, addr: number): void {
      const c = this.slobCaches.cacheOf(cache);
      if (!this.kmallocApi.addrAccepted(addr)) this.kmallocApi.checkAddr(addr);
      if (addr <= ZERO_SIZE_PTR) return;
      this.slobCaches.free(c, addr);
    }

    override kmemCacheAllocBulk(cache: KmemCache, n: number, out: Uint32Array | number[], gfp = 0xcc0): number {
      const c = this.slobCaches.cacheOf(cache);
      this.checkBulkOut(n, out, gfp);
      return this.slobCaches.allocBulk(c, gfp, n, out);
    }

    override kmemCacheFreeBulk(cache: KmemCache, addrs: ArrayLike<number>): void {
      const c = this.slobCaches.cacheOf(cache);
      this.checkBulkAddrs(addrs);
      this.slobCaches.freeBulk(c, addrs);
    }

    override kmemCacheByName(name: string): KmemCache {
      this.checkName(name);
      return this.slobCaches.handleByName(name);
    }
  };
}
