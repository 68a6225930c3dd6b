/**
 * What the machines booted with `allocator: 'slab'` or `allocator: 'slob'`
 * share: the kmalloc family and kmem_cache_* written once over a few
 * primitives of the design (kmalloc, kfree, ksize, a cache's allocation and
 * free), with the SLUB machine's argument checks and errors; and the calls
 * only SLUB has (sheaves, slub_debug validation) refused once, naming the
 * design. src/slab_kernel.ts and src/slob_kernel.ts extend it with their
 * design's primitives.
 */
import type { Machine } from './init/main.js';
import type { Kernel, KmemCache } from './kernel.js';
import { describe } from './lib/argcheck.js';
import { __GFP_ZERO } from './page_alloc/gfp.js';
import { Kmalloc } from './slub/kmalloc.js';
import { ZERO_SIZE_PTR } from './slub/kmalloc_info.js';
import type { PrefilledSheaf } from './slub/sheaf.js';

/** The argument checks kernel.ts applies, handed over so these files need nothing of it at run time. */
export interface GfpChecks {
  gfpAccepted(gfp: number): boolean;
  checkGfp(gfp: unknown): asserts gfp is number;
}

/** A non-SLUB design's name as boot() spells it, and the sentence its missing slub_debug validation gets. */
export interface NonSlubDesign {
  allocator: 'slab' | 'slob';
  /** The RangeError's text for slabValidate() (after "cache: "). */
  noValidation: string;
}

/** The primitives each design supplies; the shared class turns them into the public API. */
export interface NonSlubKernel extends Kernel {
  /** @internal The design's kmalloc of size > 0 bytes (checked), 0 on failure. */
  designKmalloc(size: number, gfp: number): number;
  /** @internal kfree of a checked address above ZERO_SIZE_PTR. */
  designKfree(addr: number): void;
  /** @internal ksize of a checked address above ZERO_SIZE_PTR. */
  designKsize(addr: number): number;
  /** @internal Throws the TypeError/RangeError naming the argument unless cache is a live handle. */
  designCheckCache(cache: KmemCache): void;
  /** @internal The gfp check of the hot paths: one call when the flags are plain. */
  gfpOk(gfp: number): void;
  /** @internal The argument checks of kmem_cache_alloc_bulk(); the cache is checked by the caller. */
  checkBulkOut(n: number, out: Uint32Array | number[], gfp: number): void;
  /** @internal The argument checks of kmem_cache_free_bulk(): an array of accepted addresses. */
  checkBulkAddrs(addrs: ArrayLike<number>): void;
  /** @internal The args of kmem_cache_create() must be an object (each design checks the rest). */
  checkCreateArgs(args: unknown): void;
  /** @internal kmemCacheByName()'s name must be a string. */
  checkName(n: unknown): asserts n is string;
}

/**
 * The Kernel class with the API every non-SLUB design shares, as an abstract
 * class: each design file extends it with designKmalloc/Kfree/Ksize/
 * CheckCache and its kmem_cache_* (a factory, so kernel.ts and these files
 * import each other only as types).
 */
export function nonSlubKernelClass(Base: new (m: Machine) => Kernel, g: GfpChecks, d: NonSlubDesign): abstract new (m: Machine) => NonSlubKernel {
  const gfpOk = (gfp: number): void => {
    if (!g.gfpAccepted(gfp)) g.checkGfp(gfp);
  };
  const name = d.allocator.toUpperCase();
  const noSheaves = (): never => {
    throw new RangeError(`cache: ${name} has no sheaves (booted with allocator: '${d.allocator}')`);
  };

  abstract class NonSlubKernelBase extends Base implements NonSlubKernel {
    abstract designKmalloc(size: number, gfp: number): number;
    abstract designKfree(addr: number): void;
    abstract designKsize(addr: number): number;
    abstract designCheckCache(cache: KmemCache): void;

    gfpOk(gfp: number): void {
      gfpOk(gfp);
    }

    override kmalloc(size: number, gfp: number): number {
      if (typeof size !== 'number' || size >>> 0 !== size) Kmalloc.checkSize(size);
      gfpOk(gfp);
      if (size === 0) return ZERO_SIZE_PTR;
      return this.designKmalloc(size, gfp);
    }

    override kzalloc(size: number, gfp: number): number {
      gfpOk(gfp);
      return this.kmalloc(size, gfp | __GFP_ZERO);
    }

    override kmallocArray(n: number, size: number, gfp: number): number {
      Kmalloc.checkSize(n, 'n');
      Kmalloc.checkSize(size);
      g.checkGfp(gfp);
      if (BigInt(n) * BigInt(size) > 0xffffffffffffffffn) return 0;
      const bytes = Math.min(n * size, Number.MAX_SAFE_INTEGER);
      if (bytes === 0) return ZERO_SIZE_PTR;
      return this.designKmalloc(bytes, gfp);
    }

    /** krealloc() as __do_krealloc() had it before SLUB's own (6.4 and earlier): kept in place while ksize() holds newSize. */
    override krealloc(addr: number, newSize: number, gfp: number): number {
      this.kmallocApi.checkAddr(addr);
      Kmalloc.checkSize(newSize, 'newSize');
      g.checkGfp(gfp);
      if (newSize === 0) {
        this.kfree(addr);
        return ZERO_SIZE_PTR;
      }
      const ks = addr > ZERO_SIZE_PTR ? this.designKsize(addr) : 0;
      if (ks >= newSize) return addr;
      const ret = this.kmalloc(newSize, gfp);
      if (ret !== 0 && addr > ZERO_SIZE_PTR) {
        this.phys.u8.copyWithin(ret, addr, addr + ks);
        this.designKfree(addr);
      }
      return ret;
    }

    override kfree(addr: number): void {
      if (!this.kmallocApi.addrAccepted(addr)) this.kmallocApi.checkAddr(addr);
      if (addr <= ZERO_SIZE_PTR) return;
      this.designKfree(addr);
    }

    override kfreeSensitive(addr: number): void {
      this.kmallocApi.checkAddr(addr);
      if (addr <= ZERO_SIZE_PTR) return;
      const n = this.designKsize(addr);
      if (n > 0) this.phys.u8.fill(0, addr, addr + n);
      this.designKfree(addr);
    }

    override ksize(addr: number): number {
      this.kmallocApi.checkAddr(addr);
      if (addr <= ZERO_SIZE_PTR) return 0;
      return this.designKsize(addr);
    }

    checkBulkOut(n: number, out: Uint32Array | number[], gfp: number): void {
      Kmalloc.checkSize(n, 'n');
      if (typeof out !== 'object' || out === null || typeof out.length !== 'number')
        throw new TypeError(`out: expected an array or Uint32Array, got ${describe(out)}`);
      if (out.length < n && out instanceof Uint32Array) throw new RangeError(`out: holds ${out.length} entries, ${n} needed`);
      g.checkGfp(gfp);
    }

    checkBulkAddrs(addrs: ArrayLike<number>): void {
      if (typeof addrs !== 'object' || addrs === null || typeof addrs.length !== 'number')
        throw new TypeError(`addrs: expected an array or Uint32Array of addresses, got ${describe(addrs)}`);
      for (let i = 0; i < addrs.length; i++) this.kmallocApi.checkAddr(addrs[i], `addrs[${i}]`);
    }

    checkCreateArgs(args: unknown): void {
      if (typeof args !== 'object' || args === null) throw new TypeError(`args: expected an object of cache arguments, got ${describe(args)}`);
    }

    checkName(n: unknown): asserts n is string {
      if (typeof n !== 'string') throw new TypeError(`name: expected a string, got ${describe(n)}`);
    }

    override kmemCachePrefillSheaf(cache: KmemCache, _gfp: number, _size: number): PrefilledSheaf | null {
      this.designCheckCache(cache);
      return noSheaves();
    }
    override kmemCacheAllocFromSheaf(cache: KmemCache, _gfp: number, _sheaf: PrefilledSheaf): number {
      this.designCheckCache(cache);
      return noSheaves();
    }
    override kmemCacheSheafSize(cache: KmemCache, _sheaf: PrefilledSheaf): number {
      this.designCheckCache(cache);
      return noSheaves();
    }
    override kmemCacheReturnSheaf(cache: KmemCache, _gfp: number, _sheaf: PrefilledSheaf): void {
      this.designCheckCache(cache);
      noSheaves();
    }

    override slabValidate(cache: KmemCache): number {
      this.designCheckCache(cache);
      throw new RangeError(`cache: ${d.noValidation}`);
    }
  }
  return NonSlubKernelBase;
}
