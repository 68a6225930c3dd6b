/**
 * SLUB as Linux 7.0 has it ("slab: sheaves for all"): per-CPU sheaves are
 * the per-CPU layer of every cache, and struct kmem_cache_cpu is gone.
 *
 *   alloc:  slab_alloc_node() -> alloc_from_pcs(): pop the CPU's main
 *           sheaf; an empty one is replaced (spare, barn, refill from the
 *           node partial slabs then new slabs: src/slub/sheaf.ts); what
 *           the sheaves can't serve is one object off a partial or new
 *           slab (__slab_alloc_node, ALLOC_SLOWPATH).
 *   free:   slab_free() -> free_to_pcs(): push on the main sheaf (the cache
 *           read from the slab, as virt_to_cache() does; a push of the
 *           object already on top is reported as a double free); what the
 *           sheaves can't take goes to __slab_free() (FREE_SLOWPATH).
 *
 * A cache without sheaves (capacity 0: slub_debug flags, the boot caches
 * kmem_cache and kmem_cache_node) works as if its main sheaf were the
 * kernel's static bootstrap_sheaf, of size 0 and capacity 0: every
 * allocation takes the slow path and every free goes to its slab. No cache
 * has a cpu slab or cpu partial slabs (CF.CPU_PARTIAL 0, and
 * CF.FAST_FREE_PAD keeps 6.18's lockless free path away).
 *
 * The 7.0 paths are chosen once at boot, by class (Slub70 and Kmalloc70
 * instead of Slub and Kmalloc), so 6.18's hot paths have no test for them.
 *
 * Where kmem's 7.0 differs from the kernel's:
 *   - one NUMA node: the remote-node bypass of the sheaves
 *     (slab_nid(slab) != numa_mem_id()) and ALLOC_NODE_MISMATCH never apply;
 *   - kfree_rcu() uses the rcu_free sheaf (src/slub/sheaf.ts) on kmem's
 *     virtual-clock RCU (src/lib/rcu.ts), except with KASAN, where kmem
 *     takes the per-CPU batches instead of running the free hooks on the
 *     sheaf's objects after the grace period;
 *   - sheaves live in kmem's own typed arrays (src/slub/sheaf.ts), not in
 *     kmalloc objects, so they never fail and the kmalloc caches do not
 *     show them; the boot caches' geometry (struct kmem_cache's size) is
 *     6.18's;
 *   - the API's fast paths (src/kernel70.ts) leave CF.ALLOCS/CF.FREES, kmem's
 *     own rates for the inspector, to the slow paths unless slubStats is on.
 */
import { Gfp } from '../page_alloc/gfp.js';
import { Kmalloc } from './kmalloc.js';
import { KmallocConst } from './kmalloc_info.js';
import { CF, SlubStat } from './slab.js';
import type { SlabCommon } from './slab_common.js';
import { Slub } from './slub.js';

export class Slub70 extends Slub {
  /** One object for the single-object slow path. */
  private readonly one70 = new Uint32Array(1);

  /**
   * slab_alloc_node(): pop the running CPU's main sheaf. Everything else
   * (an empty sheaf, __GFP_ZERO, stats, KASAN) takes the general path,
   * which for 7.0 always ends in the sheaves or slabAllocSlow below.
   */
  override slabAlloc(s: number, gfp: number, origSize: number): number {
    const sv = this.sheaves;
    const i = this.cpuBase + s;
    const n = sv.pcsSize[i]! - 1;
    if (n >= 0 && ((gfp & Gfp.ZERO) | this.allocHooked) === 0) {
      sv.pcsSize[i] = n;
      this.cf[s * CF.FIELDS + CF.ALLOCS]!++;
      return sv.pool[sv.pcsBase[i]! + n]!;
    }
    return super.slabAlloc(s, gfp, origSize);
  }

  /**
   * __slab_alloc_node() -> ___slab_alloc() of 7.0: one object, off the
   * first node partial slab or a new slab (which then joins the partial
   * list). slub_debug caches take alloc_single_from_partial/new_slab.
   */
  override slabAllocSlow(s: number, gfp: number, _i: number, origSize = -1): number {
    this.stat(s, SlubStat.ALLOC_SLOWPATH);
    if (this.cf[s * CF.FIELDS + CF.DEBUG] !== 0) return this.debug!.alloc(s, gfp, origSize);
    if (this.takeObjects(s, gfp, 1, this.one70, 0)) return this.one70[0]!;
    if (!(gfp & Gfp.NOWARN)) this.reports.outOfMemory(s, gfp);
    return 0;
  }

  /** slab_free() of an object the sheaves did not take: __slab_free(), counted as FREE_SLOWPATH. */
  override doSlabFree(s: number, slab: number, obj: number): void {
    this.cf[s * CF.FIELDS + CF.FREES]!++;
    this.stat(s, SlubStat.FREE_SLOWPATH);
    this.slabFreeSlow(s, slab, obj, obj, 1);
  }
}

/**
 * The object API of a 7.0 machine: kfree() and kmem_cache_free() push on
 * the main sheaf in one piece. Invariant of the fast free: the address is
 * in a slab of a cache with sheaves (the cache read from the slab), no free
 * hook is installed (KASAN, SLUB stats), the main sheaf has room and its
 * top entry is not the object; anything else takes Kmalloc's general path,
 * with its checks and reports.
 */
export class Kmalloc70 extends Kmalloc {
  private readonly head70: Int32Array;
  private readonly cache70: Int32Array;
  private readonly cf70: Int32Array;
  private readonly span70: number;
  private readonly slub70: Slub;
  /** 1 when no free hook runs (no KASAN, no stats): decided at boot. */
  private fastFree = 1;

  constructor(common: SlabCommon, memSize: number) {
    super(common, memSize);
    const p = common.slub.pages;
    this.head70 = p.head;
    this.cache70 = p.slabCache;
    this.cf70 = common.slub.cf;
    this.span70 = memSize - KmallocConst.ZERO_SIZE_PTR - 1;
    this.slub70 = common.slub;
    this.hooksChanged70();
  }

  /** Recompute fastFree after KASAN installed its hooks. */
  hooksChanged70(): void {
    this.fastFree = !this.slub70.statsOn && this.slub70.hooks.slabFree === null ? 1 : 0;
  }

  /**
   * free_to_pcs() for obj of a slab of cache s: true when pushed. Like the
   * kernel's slab_free() without slub_debug, it trusts obj to be an object
   * start (6.18's path tests it, at 3 ns a pair: a cache that should be
   * checked takes slub_debug=F, which leaves it without sheaves).
   */
  private pushMain(s: number, obj: number): boolean {
    const sv = this.slub70.sheaves;
    const i = this.slub70.cpuBase + s;
    const n = sv.pcsSize[i]!;
    const at = sv.pcsBase[i]! + n;
    // n === cap: a full main sheaf, or a cache without sheaves (the bootstrap sheaf).
    if (n === sv.cap[s] || (n !== 0 && sv.pool[at - 1] === obj)) return false;
    sv.pool[at] = obj;
    sv.pcsSize[i] = n + 1;
    this.cf70[s * CF.FIELDS + CF.FREES]!++;
    return true;
  }

  /** kfree(): virt_to_slab(), slab->slab_cache, free_to_pcs(). */
  override kfree(arg: number): void {
    if (typeof arg === 'number' && arg >>> 0 === arg && (arg - (KmallocConst.ZERO_SIZE_PTR + 1)) >>> 0 < this.span70 && this.fastFree !== 0) {
      const pfn = arg >>> 12;
      const h = this.head70[pfn]!;
      const head = h < 0 ? pfn : h;
      const s = this.cache70[head]!;
      if (s >= 0 && this.pushMain(s, arg)) return;
    }
    super.kfree(arg);
  }

  /**
   * kmem_cache_free(): the same, when the object is of cache s. 7.0 (with
   * CONFIG_SLAB_FREELIST_HARDENED) leaks an object that is in no slab or in
   * another cache's, after warn_free_bad_obj()'s WARN_ONCE, where 6.18's
   * cache_from_obj() freed it to its own cache.
   */
  override cacheFree(s: number, arg: number): void {
    if (typeof arg === 'number' && arg >>> 0 === arg && (arg - 1) >>> 0 < this.span70) {
      const pfn = arg >>> 12;
      const h = this.head70[pfn]!;
      const head = h < 0 ? pfn : h;
      const actual = this.cache70[head]!;
      if (actual === s) {
        if (this.fastFree !== 0 && this.pushMain(s, arg)) return;
      } else {
        this.warnFreeBadObj(s, actual, arg);
        return;
      }
    }
    super.cacheFree(s, arg);
  }

  /** WARN_ONCE()s of warn_free_bad_obj() have fired: not in a slab, in another cache. */
  private badObjWarned = 0;

  /** warn_free_bad_obj(): the WARN_ONCE for an object in no slab (actual -1) or of another cache. */
  private warnFreeBadObj(s: number, actual: number, obj: number): void {
    const caches = this.slub70.caches;
    const ptr = `ffff888${obj.toString(16).padStart(9, '0')}`;
    const bit = actual < 0 ? 1 : 2;
    if ((this.badObjWarned & bit) === 0) {
      this.badObjWarned |= bit;
      this.slub70.reports.warn(
        actual < 0
          ? `kmem_cache_free(${caches[s]!.name}, ${ptr}): object is not in a slab page`
          : `kmem_cache_free(${caches[s]!.name}, ${ptr}): object belongs to different cache ${caches[actual]!.name}`,
      );
      if (actual >= 0) this.slub70.debug?.printTrackingOf(actual, obj);
    }
  }
}
