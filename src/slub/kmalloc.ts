/**
 * The object API: kmem_cache_alloc/free (bulk too) and the kmalloc family
 * (include/linux/slab.h, mm/slub.c, mm/slab_common.c, mm/util.c).
 *
 * Every entry point validates its arguments and then takes the same fast
 * path the kernel does; the checks are integer compares on typed arrays.
 */
import { describe } from '../lib/argcheck.js';
import { PG, PGTY } from '../memory/page.js';
import { Gfp } from '../page_alloc/gfp.js';
import { KmallocConst } from './kmalloc_info.js';
import { PrefilledSheaf } from './sheaf.js';
import { CF, isObjectOffset, KmemHandle, SlubStat } from './slab.js';
import type { SlabCommon } from './slab_common.js';
import type { Slub } from './slub.js';

/** bulkHeads entries that are not a slab. */
const enum BulkEntry {
  /** Not a plain object of the cache: freed one by one (or NULL, skipped). */
  OTHER = -1,
}

export class Kmalloc {
  readonly slub: Slub;
  readonly common: SlabCommon;
  readonly memSize: number;
  /** memSize - ZERO_SIZE_PTR - 1: addresses an object may have, counted from ZERO_SIZE_PTR + 1. */
  private readonly objSpan: number;
  /** memSize - 1: addresses other than NULL, counted from 1. */
  private readonly addrSpan: number;

  /** kmalloc_slab() for every (type, size 0..8192): the cache id, filled by buildSizeTable(). */
  readonly sizeToCache = new Int16Array(4 * (KmallocConst.MAX_CACHE_SIZE + 1));

  // The struct page and kmem_cache arrays kfree reads, held directly so the
  // fast path loads each with one field access.
  private readonly pageHead: Int32Array;
  private readonly pageType: Uint8Array;
  private readonly slabCache: Int32Array;
  private readonly cf: Int32Array;
  /** virt_to_cache()'s WARN_ONCE has fired. */
  private notSlabWarned = false;

  constructor(common: SlabCommon, memSize: number) {
    this.common = common;
    this.slub = common.slub;
    this.memSize = memSize;
    this.objSpan = memSize - KmallocConst.ZERO_SIZE_PTR - 1;
    this.addrSpan = memSize - 1;
    const p = this.slub.pages;
    this.pageHead = p.head;
    this.pageType = p.pageType;
    this.slabCache = p.slabCache;
    this.cf = this.slub.cf;
  }

  /** Precompute kmalloc_slab() once the kmalloc caches exist. */
  buildSizeTable(): void {
    const gfpOfType = [0, 0x10 /* Gfp.RECLAIMABLE */, 0x1 /* Gfp.DMA */, 0x400000 /* Gfp.ACCOUNT */];
    for (let t = 0; t < 4; t++) {
      const gfp = gfpOfType[t]!;
      if (this.common.kmallocType(gfp) !== t) throw new Error('kmalloc type numbering changed');
      for (let size = 1; size <= KmallocConst.MAX_CACHE_SIZE; size++) {
        this.sizeToCache[t * (KmallocConst.MAX_CACHE_SIZE + 1) + size] = this.common.kmallocSlab(size, gfp);
      }
    }
  }

  /**
   * Is s a live cache? The same answer as SlabCommon.checkCache in fewer
   * tests: a fraction, a negative or a too large id indexes no element of cf.
   */
  cacheAccepted(s: number): boolean {
    return typeof s === 'number' && this.cf[s * CF.FIELDS + CF.ALIVE] === 1;
  }

  /**
   * Is h a live cache's handle (KmemHandle)? One compare: the handle word
   * in its id's row is h itself; a fraction, a negative, a destroyed
   * cache's or another kernel's handle matches no row.
   */
  handleAccepted(h: number): boolean {
    return typeof h === 'number' && this.cf[(h & KmemHandle.ID_MASK) * CF.FIELDS + CF.HANDLE] === h;
  }

  /** kmem_cache_alloc(): one object or 0. */
  cacheAlloc(s: number, gfp: number): number {
    return this.slub.slabAlloc(s, gfp, this.slub.cf[s * CF.FIELDS + CF.OBJECT_SIZE]!);
  }

  /** kmalloc(): a slab object of the size class, or a large kmalloc above 8 KiB. */
  kmalloc(size: number, gfp: number): number {
    if (size === 0) return KmallocConst.ZERO_SIZE_PTR;
    if (size > KmallocConst.MAX_CACHE_SIZE) {
      const p = this.common.kmallocLarge(size, gfp);
      if (p !== 0 && this.slub.hooks.kmallocLarge !== null) this.slub.hooks.kmallocLarge(p, size, gfp);
      return p;
    }
    const type = this.common.kmallocType(gfp);
    return this.slub.slabAlloc(this.sizeToCache[type * (KmallocConst.MAX_CACHE_SIZE + 1) + size]!, gfp, size);
  }

  /**
   * The slab of an address: the slab's head pfn, -1 for a large kmalloc,
   * -3 for a page that is neither (nothing is reported here; whether the
   * address is an object start is the caller's to check).
   */
  private slabOf(addr: number): number {
    const pfn = addr >>> 12;
    const h = this.pageHead[pfn]!;
    const head = h < 0 ? pfn : h;
    const type = this.pageType[head]!;
    if (type === PGTY.slab) return head;
    if (type === PGTY.large_kmalloc) return -1;
    return -3;
  }

  /** slab_free(): the KASAN hook may keep the object (quarantine); a cache with sheaves takes it in free_to_pcs(). */
  private slabFree(s: number, head: number, addr: number): void {
    if (!this.slub.isObjectStart(s, head, addr)) {
      this.slabFreeInvalid(s, head, addr);
      return;
    }
    const hook = this.slub.hooks.slabFree;
    if (hook?.(s, addr)) return;
    if (this.cf[s * CF.FIELDS + CF.SHEAF_CAPACITY] !== 0 && this.slub.sheaves.free(s, addr)) {
      this.slub.cpuFrees[this.slub.cpuBase + s]!++;
      return;
    }
    this.slub.doSlabFree(s, head, addr);
  }

  /** A pointer into a slab that is not an object start: whoever checks reports it. */
  private slabFreeInvalid(s: number, head: number, addr: number): void {
    const hook = this.slub.hooks.slabFree;
    if (hook !== null) hook(s, addr);
    // slub_debug=F: free_debug_processing() reports "Invalid object pointer" itself.
    else if (this.slub.debug?.checksPointers(s)) this.slub.doSlabFree(s, head, addr);
    else this.slub.reports.invalidFree(s, addr);
  }

  /**
   * kmem_cache_free() of the caller's argument: 0 is ignored, anything else
   * must be an address. One test accepts every address; a plain object of
   * cache s then frees as kfree's do; the rest takes cacheFreeSlow.
   */
  cacheFree(s: number, arg: number): void {
    if (typeof arg !== 'number' || arg >>> 0 !== arg || (arg - 1) >>> 0 >= this.addrSpan) {
      // Only 0 gets past the checks: kmem_cache_free(s, NULL) does nothing.
      this.checkAddr(arg);
      return;
    }
    const addr = arg >>> 0;
    const pfn = addr >>> 12;
    const h = this.pageHead[pfn]!;
    const head = h < 0 ? pfn : h;
    if (this.slabCache[head] !== s || this.slub.freeHooked !== 0 || !this.slub.slabFreeFast(s, head, addr)) this.cacheFreeSlow(s, addr);
  }

  /** kmem_cache_free() the long way: with the cross-cache check (cache_from_obj). */
  private cacheFreeSlow(s: number, addr: number): void {
    const head = this.slabOf(addr);
    if (head < 0) {
      // virt_to_cache()'s WARN_ONCE; cache_from_obj() then gives up on the object.
      if (!this.notSlabWarned) {
        this.notSlabWarned = true;
        this.slub.reports.warn('virt_to_cache: Object is not a Slab page!');
      }
      return;
    }
    const actual = this.slub.pages.slabCache[head]!;
    if (actual !== s) {
      this.slub.reports.warn(`cache_from_obj: Wrong slab cache. ${this.slub.caches[s]!.name} but object is from ${this.slub.caches[actual]!.name}`);
      this.slub.debug?.printTrackingOf(actual, addr);
      s = actual;
    }
    this.slabFree(s, head, addr);
  }

  /**
   * kfree() of the caller's argument: NULL and ZERO_SIZE_PTR are ignored,
   * anything else must be an address. One unsigned compare accepts every
   * address an object can have; the rest (NULL, ZERO_SIZE_PTR, bad
   * arguments) is checked out of line. `>>> 0` hands the rest an integer even
   * when the caller held the address as a double (a Float64Array element).
   */
  kfree(arg: number): void {
    if (typeof arg !== 'number' || arg >>> 0 !== arg || (arg - (KmallocConst.ZERO_SIZE_PTR + 1)) >>> 0 >= this.objSpan) {
      this.checkAddr(arg);
      return;
    }
    const addr = arg >>> 0;
    const pfn = addr >>> 12;
    const h = this.pageHead[pfn]!;
    const head = h < 0 ? pfn : h;
    // slabCache[head] >= 0 exactly while the page is a slab (newSlab sets
    // both, discardSlab clears both): one load stands for PageSlab().
    const s = this.slabCache[head]!;
    if (s < 0 || this.slub.freeHooked !== 0 || !this.slub.slabFreeFast(s, head, addr)) this.kfreeSlow(addr, head);
  }

  /** kfree() of anything but an object of the running CPU's cpu slab with no hooks. */
  private kfreeSlow(addr: number, head: number): void {
    const s = this.slabCache[head]!;
    if (s >= 0) this.slabFree(s, head, addr);
    else this.kfreeNotSlab(addr, head);
  }

  /** kfree() of a large kmalloc, or of something kmalloc never gave out. */
  private kfreeNotSlab(addr: number, head: number): void {
    if (this.pageType[head] === PGTY.large_kmalloc) this.kfreeLarge(addr);
    else this.slub.reports.notKmalloc(Math.floor(addr / 4096));
  }

  private kfreeLarge(addr: number): void {
    const pfn = Math.floor(addr / 4096);
    const head = this.slub.pages.compoundHead(pfn);
    const hook = this.slub.hooks.largeFree;
    if (hook !== null) hook(head, addr);
    this.common.freeLargeKmalloc(head);
  }

  /** ksize(): the usable size of an allocation; the caller may use all of it (skip_orig_size_check). */
  ksize(addr: number): number {
    if (addr <= KmallocConst.ZERO_SIZE_PTR) return 0;
    const head = this.slabOf(addr);
    if (head >= 0) {
      this.slub.debug?.skipOrigSizeCheck(this.slub.pages.slabCache[head]!, addr);
      return this.common.slabKsize(this.slub.pages.slabCache[head]!);
    }
    // __ksize() of a folio that is not a slab: its size, if it is bigger than
    // any kmalloc cache and addr is its start; else WARN_ON() and 0.
    const p = this.slub.pages;
    const h = p.compoundHead(Math.floor(addr / 4096));
    const folioSize = p.flags[h]! & (1 << PG.head) ? 4096 << p.order[h]! : 4096;
    if (folioSize <= KmallocConst.MAX_CACHE_SIZE || addr !== h * 4096) {
      this.slub.reports.warn('', 'mm/slab_common.c');
      return 0;
    }
    return folioSize;
  }

  /** __ksize() without its side effect. */
  private usableSize(addr: number): number {
    if (addr <= KmallocConst.ZERO_SIZE_PTR) return 0;
    const head = this.slabOf(addr);
    if (head >= 0) return this.common.slabKsize(this.slub.pages.slabCache[head]!);
    if (head === -1) {
      const h = this.slub.pages.compoundHead(Math.floor(addr / 4096));
      return 4096 << this.slub.pages.order[h]!;
    }
    return 0;
  }

  /** The size kmalloc was asked for, where kmem knows it (large kmalloc), else ksize. */
  requestedSize(addr: number): number {
    const head = this.slabOf(addr);
    if (head === -1) return this.slub.pages.index[this.slub.pages.compoundHead(Math.floor(addr / 4096))]!;
    return this.usableSize(addr);
  }

  /**
   * krealloc() as __do_krealloc() in 6.18: an object that still fits
   * (new size <= object_size, or the large kmalloc's folio size) stays; with
   * __GFP_ZERO the spare bytes are cleared (from orig_size up to the new size
   * when slub_debug tracks orig_size and it grows, else from the new size to
   * the end); slub_debug's orig_size and kmalloc redzone follow the new size,
   * and KASAN re-poisons. Otherwise a new object gets orig_size (or all)
   * bytes copied and the old one is freed.
   */
  krealloc(addr: number, newSize: number, gfp: number): number {
    if (newSize === 0) {
      this.kfree(addr);
      return KmallocConst.ZERO_SIZE_PTR;
    }
    let ks = 0;
    let origSize = 0;
    let s = -1;
    if (addr > KmallocConst.ZERO_SIZE_PTR) {
      if (this.slub.hooks.checkByte !== null && !this.slub.hooks.checkByte(addr)) return 0;
      const head = this.slabOf(addr);
      if (head === -1) {
        ks = 4096 << this.slub.pages.order[this.slub.pages.compoundHead(addr >>> 12)]!;
      } else if (head >= 0) {
        s = this.slabCache[head]!;
        ks = this.cf[s * CF.FIELDS + CF.OBJECT_SIZE]!;
        origSize = this.slub.debug?.hasOrigSize(s) ? this.slub.debug.getOrigSize(s, addr) : ks;
      }
      if (newSize <= ks) {
        // slub_debug does the zeroing itself where it keeps orig_size and a kmalloc redzone.
        const debugDone = s >= 0 && this.slub.debug !== null && this.slub.debug.kreallocInPlace(s, addr, newSize, (gfp & Gfp.ZERO) !== 0);
        if (!debugDone && gfp & Gfp.ZERO) this.slub.u8.fill(0, addr + newSize, addr + ks);
        const hook = this.slub.hooks.krealloc;
        if (hook !== null) hook(addr, newSize);
        return addr;
      }
    }
    const p = this.kmalloc(newSize, gfp);
    if (p === 0) return 0;
    if (addr > KmallocConst.ZERO_SIZE_PTR) {
      this.slub.u8.copyWithin(p, addr, addr + (origSize || ks));
      this.kfree(addr);
    }
    return p;
  }

  /**
   * kmem_cache_alloc_bulk(): fill out[0..n) or free what was taken and return
   * 0. Objects come off the cpu freelist one after another; an empty
   * freelist takes ___slab_alloc for one object. Unless out is a Uint32Array,
   * they are gathered in bulkTaken first and copied to out only when all n
   * are there, so nothing
   * the caller's array does (frozen, a Proxy, a setter that throws) can lose
   * an object: whatever stops the batch, __kmem_cache_free_bulk() gives back
   * everything taken, before the post-alloc hooks (KASAN never saw them).
   */
  allocBulk(s: number, gfp: number, n: number, out: Uint32Array | number[]): number {
    if (Array.isArray(out) && n > 0 && (Object.isFrozen(out) || (out.length < n && !Object.isExtensible(out)))) {
      throw new TypeError(`out: the array can't take ${n} entries (frozen, sealed or not extensible)`);
    }
    // A real Uint32Array (not a Proxy: isView) takes the objects directly: its
    // element stores can't fail or run code.
    const direct = out instanceof Uint32Array && ArrayBuffer.isView(out) && out.length >= n;
    if (!direct && this.bulkTaken.length < n) this.bulkTaken = new Uint32Array(n);
    const taken = direct ? out : this.bulkTaken;
    if (this.cf[s * CF.FIELDS + CF.SHEAF_CAPACITY] !== 0) return this.allocBulkSheaves(s, gfp, n, out, taken, direct);
    const slub = this.slub;
    const freelist = slub.cpuFreelist;
    const cf = this.cf;
    const r = s * CF.FIELDS;
    const i = slub.cpuBase + s;
    const u32 = slub.u32;
    const fpOff = cf[r + CF.OFFSET]!;
    const xorLo = cf[r + CF.XOR_LO]!;
    const slabShift = cf[r + CF.SLAB_SHIFT]!;
    let k = 0;
    try {
      for (; k < n; k++) {
        let obj = freelist[i]!;
        if (obj !== 0) {
          // popCpuFreelist with the cache's words held in locals for the loop.
          const next = (u32[(obj + fpOff) >>> 2]! ^ xorLo) >>> 0;
          if ((next ^ obj) >>> slabShift === 0) freelist[i] = next;
          else slub.loadFreelist(s, i, obj);
          if (slub.statsOn) slub.stat(s, SlubStat.ALLOC_FASTPATH);
        } else {
          obj = slub.slabAllocSlow(s, gfp, i);
          if (obj === 0) {
            this.bulkUndo(s, taken, k);
            return 0;
          }
        }
        taken[k] = obj;
      }
    } catch (e) {
      // A constructor threw while a new slab was set up (newSlab gave its pages back).
      this.bulkUndo(s, taken, k);
      throw e;
    }
    if (!direct) {
      try {
        for (let j = 0; j < n; j++) out[j] = taken[j]!;
      } catch (e) {
        this.bulkUndo(s, taken, n);
        throw e;
      }
    }
    slub.cpuAllocs[i]! += n;
    if ((gfp & Gfp.ZERO) !== 0 || slub.hooks.slabAlloc !== null) this.bulkPostAlloc(s, gfp, n, taken);
    return n;
  }

  /**
   * kmem_cache_alloc_bulk() of a cache with sheaves: alloc_from_pcs_bulk(),
   * then the rest from the slabs (__kmem_cache_alloc_bulk); if those fail,
   * the objects from the sheaves go back to the slabs (__kmem_cache_free_bulk)
   * and the result is 0.
   */
  private allocBulkSheaves(s: number, gfp: number, n: number, out: Uint32Array | number[], taken: Uint32Array, direct: boolean): number {
    const slub = this.slub;
    const k = slub.sheaves.allocBulk(s, n, taken);
    if (k < n && !slub.takeObjects(s, gfp, n - k, taken, k)) {
      if (k > 0) slub.freeObjectsToSlabs(s, taken, 0, k);
      if (!(gfp & Gfp.NOWARN)) slub.reports.outOfMemory(s, gfp);
      return 0;
    }
    // 7.0's __kmem_cache_alloc_bulk() counts what came from the slabs as ALLOC_SLOWPATH.
    if (k < n && slub.kernel70) slub.stat(s, SlubStat.ALLOC_SLOWPATH, n - k);
    if (!direct) {
      try {
        for (let j = 0; j < n; j++) out[j] = taken[j]!;
      } catch (e) {
        slub.freeObjectsToSlabs(s, taken, 0, n);
        throw e;
      }
    }
    this.slub.cpuAllocs[this.slub.cpuBase + s]! += n;
    if ((gfp & Gfp.ZERO) !== 0 || slub.hooks.slabAlloc !== null) this.bulkPostAlloc(s, gfp, n, taken);
    return n;
  }

  /** Objects a bulk allocation collected, before they go to the caller's array. */
  private bulkTaken = new Uint32Array(64);

  /**
   * __kmem_cache_free_bulk() on the error path of kmem_cache_alloc_bulk():
   * the objects taken so far go straight back with do_slab_free, without the
   * free hooks, as the post-alloc hooks never ran on them. They count as
   * allocated and freed (slabtop's rates), as they were.
   */
  private bulkUndo(s: number, taken: Uint32Array, k: number): void {
    const slub = this.slub;
    slub.cpuAllocs[slub.cpuBase + s]! += k;
    for (let j = k - 1; j >= 0; j--) {
      const obj = taken[j]!;
      slub.doSlabFree(s, slub.virtToSlab(obj), obj);
    }
  }

  /** slab_post_alloc_hook() for a batch: __GFP_ZERO and the KASAN hook. */
  private bulkPostAlloc(s: number, gfp: number, n: number, out: Uint32Array): void {
    const objSize = this.cf[s * CF.FIELDS + CF.OBJECT_SIZE]!;
    const hook = this.slub.hooks.slabAlloc;
    for (let k = 0; k < n; k++) {
      const obj = out[k]!;
      if (gfp & Gfp.ZERO) this.slub.u8.fill(0, obj, obj + objSize);
      if (hook !== null) hook(s, obj, objSize, gfp);
    }
  }

  // build_detached_freelist() leaves the caller's array as it was (the
  // kernel permutes it): bulkHeads holds each entry's slab, bulkOrder the
  // kernel's permutation of the entries.
  private bulkHeads = new Int32Array(64);
  private bulkOrder = new Int32Array(64);
  /** Each entry of the caller's array, read once: a getter or Proxy can't change it between the check and the free. */
  private bulkAddrs = new Uint32Array(64);

  /**
   * kmem_cache_free_bulk(): build_detached_freelist() takes the last object,
   * gathers the others of the same slab (giving up after 3 misses in a row),
   * and frees each group with one do_slab_free of the whole chain. Every
   * address is read once and checked before anything is freed.
   */
  freeBulk(s: number, addrs: ArrayLike<number>): void {
    const slub = this.slub;
    const n = addrs.length;
    if (this.bulkHeads.length < n) {
      this.bulkHeads = new Int32Array(n);
      this.bulkOrder = new Int32Array(n);
      this.bulkAddrs = new Uint32Array(n);
    }
    const heads = this.bulkHeads;
    const objs = this.bulkAddrs;
    const memSize = this.memSize;
    const pageHead = this.pageHead;
    const slabCache = this.slabCache;
    const slabObjects = slub.slabObjects;
    // The cache's words, read once: a store to memory could alias any typed
    // array for V8, so nothing read in the loops would stay in a register.
    const cf = this.cf;
    const r = s * CF.FIELDS;
    const redLeftPad = cf[r + CF.RED_LEFT_PAD]!;
    const recipMul = cf[r + CF.RECIP_MUL]!;
    const recipShift = cf[r + CF.RECIP_SHIFT]!;
    const size = cf[r + CF.SIZE]!;
    // KASAN and slub_debug caches free one by one, with their checks.
    const checked = slub.hooks.slabFree !== null || cf[r + CF.DEBUG] !== 0;
    for (let k = 0; k < n; k++) {
      const a = addrs[k]!;
      if (typeof a !== 'number' || a >>> 0 !== a || a >= memSize) this.checkAddr(a, `addrs[${k}]`);
      const obj = a >>> 0;
      objs[k] = obj;
      // slab_cache >= 0 stands for PageSlab, as in kfree; then the object
      // start test of isObjectStart (offsets past 2^15 fail it here and take
      // the one-by-one path, which knows them).
      const pfn = obj >>> 12;
      const h = pageHead[pfn]!;
      const head = h < 0 ? pfn : h;
      const off = (((obj | 0) - (head << 12)) | 0) - redLeftPad;
      heads[k] = checked || obj === 0 || slabCache[head] !== s || !isObjectOffset(off, recipMul, recipShift, size, slabObjects[head]!) ? BulkEntry.OTHER : head;
    }
    if (cf[r + CF.SHEAF_CAPACITY] !== 0) {
      this.freeBulkSheaves(s, n);
      return;
    }
    // heads[k]: the slab of a plain object of this cache, OTHER for anything
    // else. order[] is p[] as the kernel permutes it: each object that joins
    // a detached freelist is swapped to the end of the part still to do, so
    // the next freelist starts from the last entry left, as there.
    const order = this.bulkOrder;
    for (let k = 0; k < n; k++) order[k] = k;
    let left = n;
    while (left > 0) {
      const first = order[--left]!;
      const head = heads[first]!;
      const obj = objs[first]!;
      if (head === BulkEntry.OTHER) {
        // NULL is skipped; anything but a plain object of this cache takes
        // the one-by-one path, which reports what is wrong with it.
        if (obj !== 0) this.cacheFree(s, obj);
        continue;
      }
      let dHead = obj;
      let cnt = 1;
      let lookahead = 3;
      let same = left;
      for (let j = left; j > 0; ) {
        const e = order[--j]!;
        if (heads[e] !== head) {
          // Three misses end the look-ahead (never reset by a hit).
          if (--lookahead === 0) break;
          continue;
        }
        const o = objs[e]!;
        same--;
        if (j !== same) {
          order[j] = order[same]!;
          order[same] = e;
        }
        // set_freepointer()'s BUG_ON(object == fp): the same object twice in a row.
        if (o === dHead) {
          slub.naiveDoubleFree(o);
          continue;
        }
        slub.setFreepointer(s, o, dHead);
        dHead = o;
        cnt++;
      }
      left = same;
      slub.cpuFrees[slub.cpuBase + s]! += cnt;
      const i = slub.cpuBase + s;
      if (head !== slub.cpuSlab[i]) {
        slub.slabFreeSlow(s, head, dHead, obj, cnt);
      } else if (obj === slub.cpuFreelist[i]) {
        slub.naiveDoubleFree(obj);
      } else {
        // The detached chain dHead .. obj goes on the cpu freelist as one push.
        slub.setFreepointer(s, obj, slub.cpuFreelist[i]!);
        slub.cpuFreelist[i] = dHead;
        if (slub.statsOn) slub.stat(s, SlubStat.FREE_FASTPATH, cnt);
      }
    }
  }

  /**
   * kmem_cache_free_bulk() of a cache with sheaves, once freeBulk has read
   * and classified every entry (bulkAddrs, bulkHeads): the plain objects go
   * to free_to_pcs_bulk() in their order, anything else (NULL skipped) the
   * one-by-one way, which reports it. With KASAN every object goes one by
   * one (slab_free_hook() may keep it).
   */
  private freeBulkSheaves(s: number, n: number): void {
    const objs = this.bulkAddrs;
    const heads = this.bulkHeads;
    let m = 0;
    for (let k = 0; k < n; k++) {
      const obj = objs[k]!;
      if (heads[k] === BulkEntry.OTHER) {
        if (obj !== 0) this.cacheFree(s, obj);
      } else {
        objs[m++] = obj;
      }
    }
    this.slub.cpuFrees[this.slub.cpuBase + s]! += m;
    if (m > 0) this.slub.sheaves.freeBulk(s, objs, m);
  }

  // ───────────────────────── prefilled sheaves (6.18) ─────────────────────────

  /** The sheaf argument of the preallocation API, checked: a live sheaf of cache s. */
  private checkSheaf(s: number, sheaf: unknown): asserts sheaf is PrefilledSheaf {
    if (!(sheaf instanceof PrefilledSheaf)) throw new TypeError(`sheaf: expected a sheaf from kmemCachePrefillSheaf, got ${describe(sheaf)}`);
    if (sheaf.cache !== s)
      throw new RangeError(`sheaf: belongs to ${this.slub.caches[sheaf.cache]?.name ?? 'another cache'}, not ${this.slub.caches[s]!.name}`);
    if (sheaf.id === -2 || this.slub.sheaves.caches[s] === undefined) throw new RangeError('sheaf: already returned (kmemCacheReturnSheaf)');
  }

  /**
   * kmem_cache_prefill_sheaf(): a sheaf of at least `size` objects, or null.
   * kmem models it for caches with sheaves only (the kernel also gives a
   * debug cache oversize sheaves).
   */
  prefillSheaf(s: number, gfp: number, size: number): PrefilledSheaf | null {
    Kmalloc.checkSize(size, 'size');
    if (this.cf[s * CF.FIELDS + CF.SHEAF_CAPACITY] === 0) {
      throw new RangeError(`cache: ${this.slub.caches[s]!.name} has no sheaves (create it with args.sheafCapacity)`);
    }
    const p = this.slub.sheaves.prefill(s, gfp, size);
    if (p === null && !(gfp & Gfp.NOWARN)) this.slub.reports.outOfMemory(s, gfp);
    return p;
  }

  /** kmem_cache_alloc_from_sheaf(): an object of the sheaf (0 once empty), with the post-alloc hooks (__GFP_ZERO, KASAN). */
  allocFromSheaf(s: number, gfp: number, sheaf: PrefilledSheaf): number {
    this.checkSheaf(s, sheaf);
    const obj = this.slub.sheaves.allocFrom(sheaf);
    if (obj === 0) return 0;
    this.slub.cpuAllocs[this.slub.cpuBase + s]!++;
    const objSize = this.cf[s * CF.FIELDS + CF.OBJECT_SIZE]!;
    if (gfp & Gfp.ZERO) this.slub.u8.fill(0, obj, obj + objSize);
    const hook = this.slub.hooks.slabAlloc;
    if (hook !== null) hook(s, obj, objSize, gfp);
    return obj;
  }

  /** kmem_cache_sheaf_size() */
  sheafSize(s: number, sheaf: PrefilledSheaf): number {
    this.checkSheaf(s, sheaf);
    return this.slub.sheaves.sizeOf(sheaf);
  }

  /** kmem_cache_return_sheaf() */
  returnSheaf(s: number, gfp: number, sheaf: PrefilledSheaf): void {
    this.checkSheaf(s, sheaf);
    this.slub.sheaves.returnSheaf(sheaf, gfp);
  }

  /** The one-compare test that accepts every valid address; checkAddr() explains a rejection. */
  addrAccepted(addr: number): boolean {
    return typeof addr === 'number' && addr >>> 0 === addr && addr < this.memSize;
  }

  /** Throws unless addr is a plausible address argument. */
  checkAddr(addr: unknown, name = 'addr'): asserts addr is number {
    if (typeof addr !== 'number' || !Number.isInteger(addr)) throw new TypeError(`${name}: expected an integer address, got ${describe(addr)}`);
    if (addr < 0 || addr >= this.memSize) throw new RangeError(`${name}: 0x${addr.toString(16)} is outside physical memory`);
  }

  /** Throws unless size is a valid allocation size. */
  static checkSize(size: unknown, name = 'size'): asserts size is number {
    if (typeof size !== 'number') throw new TypeError(`${name}: expected a number, got ${describe(size)}`);
    if (!Number.isInteger(size) || size < 0) throw new RangeError(`${name}: expected a non-negative integer, got ${describe(size)}`);
  }
}
