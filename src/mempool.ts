/**
 * Memory pools (mm/mempool.c): a reserve of preallocated elements that an
 * allocation falls back on when the allocator fails, for kmalloc'd, slab
 * and page elements. Elements resting in the pool are poisoned under KASAN
 * as if freed (kasan_mempool_poison_object / _pages) and unpoisoned when
 * handed out, so a use of an element after mempool_free() is reported even
 * though the memory never went back to the allocator.
 *
 *   mempool_alloc ──► pool->alloc() ──fails──► remove_element() ─► unpoison
 *   mempool_free  ──► curr_nr < min_nr ? add_element() (poison; refused after
 *                     a double/invalid-free report) : pool->free()
 */

import type { Kasan } from './kasan/common.js';
import type { KmemCache } from './kernel.js';
import { __GFP_DIRECT_RECLAIM, __GFP_IO, __GFP_NOMEMALLOC, __GFP_NORETRY, __GFP_NOWARN, GFP_KERNEL } from './page_alloc/gfp.js';

/** What a pool needs of the machine (a `Kernel` has it all). */
export interface MempoolHost {
  readonly kasan: Kasan | null;
  kmalloc(size: number, gfp: number): number;
  kfree(addr: number): void;
  kmemCacheAlloc(cache: KmemCache, gfp: number): number;
  kmemCacheFree(cache: KmemCache, addr: number): void;
  readonly inspect: { cacheGeometry(cache: KmemCache): { objectSize: number } };
  allocPages(order: number, gfp: number): number;
  freePages(addr: number, order: number): void;
}

type Kind = 'kmalloc' | 'slab' | 'page';

export class Mempool {
  readonly minNr: number;
  private readonly k: MempoolHost;
  private readonly kind: Kind;
  /** kmalloc size, slab cache id, or page order (pool->pool_data). */
  private readonly data: number;
  /** The slab cache's object size, for unpoisoning a slab element. */
  private readonly elemSize: number;
  private readonly elements: number[] = [];

  private constructor(k: MempoolHost, minNr: number, kind: Kind, data: number, elemSize: number) {
    if (!Number.isInteger(minNr) || minNr < 0) throw new RangeError(`minNr: expected a non-negative integer, got ${String(minNr)}`);
    this.k = k;
    this.minNr = minNr;
    this.kind = kind;
    this.data = data;
    this.elemSize = elemSize;
    // mempool_init_node(): fill the reserve with freshly allocated elements.
    while (this.elements.length < minNr) {
      const e = this.allocFn(GFP_KERNEL);
      if (e === 0) {
        this.exit();
        throw new RangeError('mempool: could not preallocate the reserve (out of memory)');
      }
      this.addElement(e);
    }
  }

  /** mempool_init_kmalloc_pool(): elements are kmalloc(size). */
  static kmalloc(k: MempoolHost, minNr: number, size: number): Mempool {
    if (!Number.isInteger(size) || size <= 0) throw new RangeError(`size: expected a positive integer, got ${String(size)}`);
    return new Mempool(k, minNr, 'kmalloc', size, size);
  }

  /** mempool_init_slab_pool(): elements are objects of `cache`. */
  static slab(k: MempoolHost, minNr: number, cache: KmemCache): Mempool {
    return new Mempool(k, minNr, 'slab', cache, k.inspect.cacheGeometry(cache).objectSize);
  }

  /** mempool_init_page_pool(): elements are 2^order pages (not compound). */
  static page(k: MempoolHost, minNr: number, order: number): Mempool {
    return new Mempool(k, minNr, 'page', order, 4096 << order);
  }

  /** Elements resting in the reserve (pool->curr_nr). */
  get currNr(): number {
    return this.elements.length;
  }

  private allocFn(gfp: number): number {
    switch (this.kind) {
      case 'kmalloc':
        return this.k.kmalloc(this.data, gfp);
      case 'slab':
        return this.k.kmemCacheAlloc(this.data, gfp);
      default:
        return this.k.allocPages(this.data, gfp);
    }
  }

  private freeFn(e: number): void {
    switch (this.kind) {
      case 'kmalloc':
        this.k.kfree(e);
        return;
      case 'slab':
        this.k.kmemCacheFree(this.data, e);
        return;
      default:
        this.k.freePages(e, this.data);
    }
  }

  /** add_element(): poison the element; a KASAN report (double/invalid free) keeps it out. */
  private addElement(e: number): void {
    const kasan = this.k.kasan;
    if (kasan !== null) {
      const ok = this.kind === 'page' ? kasan.mempoolPoisonPages(e, this.data) : kasan.mempoolPoisonObject(e);
      if (!ok) return;
    }
    this.elements.push(e);
  }

  /** remove_element(): the newest element, unpoisoned. */
  private removeElement(): number {
    const e = this.elements.pop()!;
    const kasan = this.k.kasan;
    if (kasan !== null) {
      if (this.kind === 'page') kasan.mempoolUnpoisonPages(e, this.data);
      else kasan.mempoolUnpoisonObject(e, this.elemSize);
    }
    return e;
  }

  /** mempool_alloc(): the allocator first (without dipping into reserves), then the pool; 0 if both fail. */
  alloc(gfp: number = GFP_KERNEL): number {
    const tryGfp = (gfp | __GFP_NOMEMALLOC | __GFP_NORETRY | __GFP_NOWARN) & ~(__GFP_DIRECT_RECLAIM | __GFP_IO);
    const e = this.allocFn(tryGfp);
    if (e !== 0) return e;
    return this.elements.length > 0 ? this.removeElement() : 0;
  }

  /** mempool_alloc_preallocated(): an element from the reserve only, or 0. */
  allocPreallocated(): number {
    return this.elements.length > 0 ? this.removeElement() : 0;
  }

  /** mempool_free(): refill the reserve while it is short, else give the element back. */
  free(e: number): void {
    if (e === 0) return;
    if (this.elements.length < this.minNr) this.addElement(e);
    else this.freeFn(e);
  }

  /** mempool_exit(): every reserved element back to the allocator. */
  exit(): void {
    while (this.elements.length > 0) this.freeFn(this.removeElement());
  }
}
