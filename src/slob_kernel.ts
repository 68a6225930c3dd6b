/**
 * The API of a machine booted with `allocator: 'slob'`: the kmalloc family
 * and kmem_cache_* go to SLOB (src/slob/), as a kernel built with
 * CONFIG_SLOB (6.3's mm/slob.c) would, with the same argument checks and
 * errors as the SLUB machine. Chosen once at boot, like KASAN's variant, so
 * the SLUB machine's paths carry no test for it.
 *
 * What SLOB does not have is an error here: sheaves, slab validation.
 * Everything else (pages, processes, /proc) is the Kernel's own.
 */
import type { BootOptions } from './init/boot_options.js';
import type { Machine } from './init/main.js';
import type { Kernel, KmemCache } from './kernel.js';
import { describe } from './lib/argcheck.js';
import { __GFP_ZERO } from './page_alloc/gfp.js';
import type { SlobCaches } from './slob/slab_common.js';
import { SLOB_MINALIGN, type Slob } from './slob/slob.js';
import { Kmalloc } from './slub/kmalloc.js';
import { ZERO_SIZE_PTR } from './slub/kmalloc_info.js';
import type { PrefilledSheaf } from './slub/sheaf.js';
import type { KmemCacheArgs } from './slub/slab_common.js';

export type { BootOptions };

/** The argument checks kernel.ts applies, handed over so this file needs nothing of it at run time. */
export interface GfpChecks {
  gfpAccepted(gfp: number): boolean;
  checkGfp(gfp: unknown): asserts gfp is number;
}

/** The Kernel class extended with SLOB's allocation API (a factory, so kernel.ts and this file import each other only as types). */
export function slobKernelClass(Base: new (m: Machine) => Kernel, g: GfpChecks): new (m: Machine) => Kernel {
  const gfpOk = (gfp: number): void => {
    if (!g.gfpAccepted(gfp)) g.checkGfp(gfp);
  };
  const noSheaves = (): never => {
    throw new RangeError("cache: SLOB has no sheaves (booted with allocator: 'slob')");
  };

  return class SlobKernel extends Base {
    /** @internal SLOB itself. */
    get slob(): Slob {
      return this.machine.slob!;
    }
    private get slobCaches(): SlobCaches {
      return this.machine.slobCaches!;
    }

    override kmalloc(size: number, gfp: number): number {
      if (typeof size !== 'number' || size >>> 0 !== size) Kmalloc.checkSize(size);
      gfpOk(gfp);
      if (size === 0) return ZERO_SIZE_PTR;
      return this.slob.kmalloc(size, gfp);
    }

    override kmallocArray(n: number, size: number, gfp: number): number {
      Kmalloc.checkSize(n, 'n');
      Kmalloc.checkSize(size);
      g.checkGfp(gfp);
      if (BigInt(n) * BigInt(size) > 0xffffffffffffffffn) return 0;
      const bytes = Math.min(n * size, Number.MAX_SAFE_INTEGER);
      if (bytes === 0) return ZERO_SIZE_PTR;
      return this.slob.kmalloc(bytes, gfp);
    }

    /** krealloc() as 6.3's __do_krealloc(): kept in place while ksize() holds newSize (the header keeps the old size). */
    override krealloc(addr: number, newSize: number, gfp: number): number {
      this.kmallocApi.checkAddr(addr);
      Kmalloc.checkSize(newSize, 'newSize');
      g.checkGfp(gfp);
      if (newSize === 0) {
        this.kfree(addr);
        return ZERO_SIZE_PTR;
      }
      const ks = addr > ZERO_SIZE_PTR ? this.slob.ksize(addr) : 0;
      if (ks >= newSize) return addr;
      const ret = this.kmalloc(newSize, gfp);
      if (ret !== 0 && addr > ZERO_SIZE_PTR) {
        this.phys.u8.copyWithin(ret, addr, addr + ks);
        this.slob.kfree(addr);
      }
      return ret;
    }

    override kfree(addr: number): void {
      if (!this.kmallocApi.addrAccepted(addr)) this.kmallocApi.checkAddr(addr);
      this.slob.kfree(addr);
    }

    override kfreeSensitive(addr: number): void {
      this.kmallocApi.checkAddr(addr);
      if (addr <= ZERO_SIZE_PTR) return;
      const n = this.slob.ksize(addr);
      if (n > 0) this.phys.u8.fill(0, addr, addr + n);
      this.slob.kfree(addr);
    }

    override ksize(addr: number): number {
      this.kmallocApi.checkAddr(addr);
      if (addr <= ZERO_SIZE_PTR) return 0;
      return this.slob.ksize(addr);
    }

    /** SLOB's kmalloc_size_roundup(): whole ARCH_KMALLOC_MINALIGN units, the header not counted. */
    override kmallocSizeRoundup(n: number): number {
      Kmalloc.checkSize(n, 'n');
      return n === 0 ? 0 : Math.ceil(n / SLOB_MINALIGN) * SLOB_MINALIGN;
    }

    override kmemCacheCreate(name: string, size: number, args: KmemCacheArgs = {}): KmemCache {
      if (typeof args !== 'object' || args === null) throw new TypeError(`args: expected an object of cache arguments, got ${describe(args)}`);
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
      gfpOk(gfp);
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
      Kmalloc.checkSize(n, 'n');
      if (typeof out !== 'object' || out === null || typeof out.length !== 'number')
        throw new TypeError(`out: expected an array or Uint32Array, got ${describe(out)}`);
      if (out.length < n && out instanceof Uint32Array) throw new RangeError(`out: holds ${out.length} entries, ${n} needed`);
      g.checkGfp(gfp);
      return this.slobCaches.allocBulk(c, gfp, n, out);
    }

    override kmemCacheFreeBulk(cache: KmemCache, addrs: ArrayLike<number>): void {
      const c = this.slobCaches.cacheOf(cache);
      if (typeof addrs !== 'object' || addrs === null || typeof addrs.length !== 'number')
        throw new TypeError(`addrs: expected an array or Uint32Array of addresses, got ${describe(addrs)}`);
      for (let i = 0; i < addrs.length; i++) this.kmallocApi.checkAddr(addrs[i], `addrs[${i}]`);
      this.slobCaches.freeBulk(c, addrs);
    }

    override kmemCacheByName(name: string): KmemCache {
      if (typeof name !== 'string') throw new TypeError(`name: expected a string, got ${describe(name)}`);
      return this.slobCaches.handleByName(name);
    }

    override kmemCachePrefillSheaf(cache: KmemCache, _gfp: number, _size: number): PrefilledSheaf | null {
      this.slobCaches.cacheOf(cache);
      return noSheaves();
    }
    override kmemCacheAllocFromSheaf(cache: KmemCache, _gfp: number, _sheaf: PrefilledSheaf): number {
      this.slobCaches.cacheOf(cache);
      return noSheaves();
    }
    override kmemCacheSheafSize(cache: KmemCache, _sheaf: PrefilledSheaf): number {
      this.slobCaches.cacheOf(cache);
      return noSheaves();
    }
    override kmemCacheReturnSheaf(cache: KmemCache, _gfp: number, _sheaf: PrefilledSheaf): void {
      this.slobCaches.cacheOf(cache);
      noSheaves();
    }

    override slabValidate(cache: KmemCache): number {
      this.slobCaches.cacheOf(cache);
      throw new RangeError("cache: SLOB has no slab validation (no slub_debug under allocator: 'slob')");
    }

    override kzalloc(size: number, gfp: number): number {
      gfpOk(gfp);
      return this.kmalloc(size, gfp | __GFP_ZERO);
    }
  };
}
