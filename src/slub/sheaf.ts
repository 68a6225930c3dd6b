/**
 * Per-CPU sheaves and the barn (mm/slub.c, Linux 6.18: opt-in per cache
 * through kmem_cache_args.sheaf_capacity; 7.0: every cache, with the
 * capacity of calculateSheafCapacity() -- src/slub/slub70.ts).
 *
 * A sheaf is an array of up to `capacity` free objects of one cache, used
 * as a stack: alloc pops objects[size - 1], free pushes at objects[size].
 * Each CPU has a main sheaf (always there while the cache lives) and a
 * spare (none, empty or full). The node's barn keeps whole sheaves, full
 * ones and empty ones, at most MAX_FULL_SHEAVES full ones by the callers'
 * checks. Where an object can be, for a cache with sheaves:
 *
 *   a CPU's main or spare sheaf    counted in use by its slab (slab inuse)
 *   a full sheaf in the barn       counted in use by its slab
 *   its slab's freelist            free, as for any cache
 *
 * so /proc/slabinfo counts objects in sheaves as active, as the kernel does.
 *
 * Layout: every sheaf of every cache has `capacity` slots in one pool
 * (Sheaves.pool); sheaf k of a cache (CacheSheaves) holds its object
 * pointers at pool[base[k] .. base[k] + size[k]); the per-CPU main/spare
 * words hold sheaf ids (-1 = NULL); the barn's lists are stacks of ids
 * whose top is the list head (list_add() and list_first_entry() work at
 * the head). For the fast paths, each CPU's main sheaf of each cache is
 * also two flat words indexed by cpu * MAX_CACHES + cache: pcsBase (its
 * base in the pool) and pcsSize, and while a sheaf is some CPU's main its
 * size lives in pcsSize only (size[] is stale): every slow path brings it
 * in (syncIn) before it works on size[] and out (syncOut) when it is done.
 * A cache without sheaves has pcsSize 0 and cap 0 on every CPU: the
 * kernel's bootstrap_sheaf (size 0, capacity 0), so pop and push both fall
 * to the slow paths without a test of their own.
 *
 * kmem's model differs from 6.18 in three places, all below the sheaves:
 *   - the kernel kzalloc()s each struct slab_sheaf (32 + 8 * capacity bytes,
 *     a kmalloc object); kmem keeps sheaves in its own typed arrays, so they
 *     never fail to allocate and do not show in the kmalloc caches;
 *   - refill and flush reach the slabs directly (7.0's way: objects from the
 *     node partial list, then from new slabs; freed in detached freelists to
 *     __slab_free), where 6.18 went through kmem_cache_cpu (the cpu slab);
 *     so a cache with sheaves has no cpu slab and no cpu partial slabs, and
 *     an allocation the sheaves can't serve (no blocking allowed) takes one
 *     object the same way;
 *   - one NUMA node: the kernel's bypass of sheaves for remote-node objects
 *     (slab_nid(slab) != numa_mem_id()) never applies.
 */
import { Gfp } from '../page_alloc/gfp.js';
import { kmallocSizeRoundup } from './kmalloc_info.js';
import { CF, MAX_CACHES, SlubStat } from './slab.js';
import { SLAB_DEBUG_FLAGS, SLAB_NO_OBJ_EXT, SLAB_NOLEAKTRACE } from './slab_flags.js';
import type { Slub } from './slub.js';

export const enum SheafLimit {
  MAX_FULL_SHEAVES = 10,
  /** sheaf_flush_main() frees the main sheaf in batches of this many (its on-stack array). */
  PCS_BATCH_MAX = 32,
  /** The largest sheaf_capacity kmem accepts (the kernel takes any unsigned int kmalloc can hold). */
  MAX_CAPACITY = 4096,
}

/** sizeof(struct slab_sheaf) without objects[]: the 16-byte union, cache, size and node (x86-64). */
export const SLAB_SHEAF_HEADER = 32;

/**
 * calculate_sheaf_capacity() (7.0, "slab: add sheaves to most caches"): 0
 * for a cache with slub_debug flags and for the boot caches
 * (SLAB_NO_OBJ_EXT: kmem_cache, kmem_cache_node) and SLAB_NOLEAKTRACE ones;
 * else 4, 12, 26 or 60 objects by s->size (half the old cpu partial
 * sizing, as there are two sheaves per CPU), raised until the struct
 * slab_sheaf fills its kmalloc bucket, and at least an explicit
 * args.sheaf_capacity. So: 4 (size >= 4096), 12 (>= 1024), 28 (>= 256), 60.
 */
export function calculateSheafCapacity(size: number, flags: number, argsCapacity: number): number {
  if ((flags & SLAB_DEBUG_FLAGS) !== 0) return 0;
  if ((flags & (SLAB_NO_OBJ_EXT | SLAB_NOLEAKTRACE)) !== 0) return 0;
  let capacity: number;
  if (size >= 4096) capacity = 4;
  else if (size >= 1024) capacity = 12;
  else if (size >= 256) capacity = 26;
  else capacity = 60;
  const bytes = kmallocSizeRoundup(SLAB_SHEAF_HEADER + 8 * capacity);
  capacity = Math.floor((bytes - SLAB_SHEAF_HEADER) / 8);
  return Math.max(capacity, argsCapacity);
}

/** One cache's sheaves: its per-CPU pairs and its node's barn. */
export class CacheSheaves {
  readonly capacity: number;
  /** Each sheaf's first slot in Sheaves.pool (capacity slots each). */
  base: Int32Array;
  /** Each sheaf's size (objects held); for a CPU's main sheaf, Sheaves.pcsSize holds it. */
  size: Int32Array;
  /** Sheaf ids ever handed out (0 .. made - 1). */
  made = 0;
  /** Ids of freed sheaves, reused first. */
  freeIds: Int32Array;
  nrFreeIds = 0;
  /** Per CPU: the main sheaf (never -1 while the cache lives) and the spare (-1 = NULL). */
  readonly main: Int32Array;
  readonly spare: Int32Array;
  /** Per CPU: the rcu_free sheaf batching kfree_rcu() (-1 = NULL). */
  readonly rcuFree: Int32Array;
  /** Objects in rcu_free sheaves handed to call_rcu() and not yet back. */
  rcuInFlight = 0;
  /** The barn: sheaves_full and sheaves_empty as stacks (top = list head). */
  barnFull: Int32Array;
  nrFull = 0;
  barnEmpty: Int32Array;
  nrEmpty = 0;

  constructor(capacity: number, cpus: number) {
    this.capacity = capacity;
    const n = 2 * cpus + 4;
    this.base = new Int32Array(n);
    this.size = new Int32Array(n);
    this.freeIds = new Int32Array(n);
    this.main = new Int32Array(cpus).fill(-1);
    this.spare = new Int32Array(cpus).fill(-1);
    this.rcuFree = new Int32Array(cpus).fill(-1);
    this.barnFull = new Int32Array(SheafLimit.MAX_FULL_SHEAVES + 2);
    this.barnEmpty = new Int32Array(MAX_EMPTY_SHEAVES + 2);
  }
}

/**
 * MAX_EMPTY_SHEAVES (10): the kernel checks it only where a sheaf is given
 * back from outside the per-CPU pair (rcu_free sheaves after their grace
 * period, returned prefilled sheaves); the barn's arrays start there.
 */
const MAX_EMPTY_SHEAVES = 10;

function grow(a: Int32Array, need: number): Int32Array {
  if (need <= a.length) return a;
  const b = new Int32Array(Math.max(need, 2 * a.length));
  b.set(a);
  return b;
}

/**
 * A sheaf handed out by kmem_cache_prefill_sheaf(): a regular one is sheaf
 * `id` of its cache (its objects stay in the cache's arrays); an oversize
 * one has its own array (`own`, ownSize objects). id is -2 once returned.
 */
export class PrefilledSheaf {
  constructor(
    readonly cache: number,
    public id: number,
    readonly own: Uint32Array | null,
    readonly capacity: number,
  ) {
    this.ownSize = own !== null ? own.length : 0;
  }
  ownSize: number;
}

export class Sheaves {
  readonly slub: Slub;
  /** By cache id; undefined for a cache without sheaves (filled, so V8 keeps the elements packed). */
  readonly caches: (CacheSheaves | undefined)[] = new Array<CacheSheaves | undefined>(MAX_CACHES).fill(undefined);
  /** One object for the fallback allocation. */
  private readonly one = new Uint32Array(1);
  /**
   * The object slots of every sheaf of every cache (a sheaf's slots never
   * move; the pool grows by copying). A 7.0 machine starts with room for
   * about 17 sheaves of 60 in each of the 64 kmalloc caches in use, so a
   * workload's growth, which rebuilds the fast paths (onPoolGrow), is rare.
   */
  pool: Uint32Array;
  private poolUsed = 0;
  /** Per (cpu, cache), cpu * MAX_CACHES + cache: the main sheaf's first slot in the pool, and its size. */
  readonly pcsBase: Int32Array;
  readonly pcsSize: Int32Array;
  /** Called when the pool is replaced by a bigger one (the fast paths of src/slub/fastpath70.ts hold it as a constant). */
  onPoolGrow: (() => void) | null = null;
  /** Per cache: s->sheaf_capacity (0: no sheaves, the bootstrap sheaf's capacity). */
  readonly cap = new Int32Array(MAX_CACHES);

  constructor(slub: Slub) {
    this.slub = slub;
    this.pool = new Uint32Array(slub.kernel70 ? 1 << 16 : 4096);
    this.pcsBase = new Int32Array(slub.st.cpus * MAX_CACHES);
    this.pcsSize = new Int32Array(slub.st.cpus * MAX_CACHES);
  }

  /** The main sheaf of `cpu`'s size, from pcsSize into size[] before a slow path works on it. */
  private syncIn(sh: CacheSheaves, s: number, cpu: number): void {
    sh.size[sh.main[cpu]!] = this.pcsSize[cpu * MAX_CACHES + s]!;
  }

  /** The main sheaf of `cpu` (maybe another one now) into pcsBase/pcsSize after a slow path. */
  private syncOut(sh: CacheSheaves, s: number, cpu: number): void {
    const m = sh.main[cpu]!;
    const i = cpu * MAX_CACHES + s;
    this.pcsBase[i] = sh.base[m]!;
    this.pcsSize[i] = sh.size[m]!;
  }

  /** Slots of destroyed caches' sheaves, by capacity, for the next sheaves of that capacity. */
  private readonly freeSlots = new Map<number, number[]>();

  /** `capacity` slots of the pool for a new sheaf: their first index. */
  private poolSlots(capacity: number): number {
    const reuse = this.freeSlots.get(capacity);
    if (reuse !== undefined && reuse.length > 0) return reuse.pop()!;
    const at = this.poolUsed;
    if (at + capacity > this.pool.length) {
      const bigger = new Uint32Array(Math.max(2 * this.pool.length, at + capacity));
      bigger.set(this.pool);
      this.pool = bigger;
      this.onPoolGrow?.();
    }
    this.poolUsed = at + capacity;
    return at;
  }

  /** Objects in sheaf id of cache s (for a CPU's main sheaf, its pcsSize). */
  sheafSize(s: number, id: number): number {
    const sh = this.caches[s]!;
    for (let cpu = 0; cpu < sh.main.length; cpu++) if (sh.main[cpu] === id) return this.pcsSize[cpu * MAX_CACHES + s]!;
    return sh.size[id]!;
  }

  /** Object j (from the bottom) of sheaf id of cache s. */
  sheafObject(s: number, id: number, j: number): number {
    return this.pool[this.caches[s]!.base[id]! + j]!;
  }

  private stat(s: number, item: number, n = 1): void {
    if (this.slub.statsOn) this.slub.stat(s, item, n);
  }

  // ───────────────────────── sheaves and the barn ─────────────────────────

  /** init_percpu_sheaves(): an empty main sheaf for every CPU (SHEAF_ALLOC counted on the creating CPU). */
  create(s: number, capacity: number): void {
    const sh = new CacheSheaves(capacity, this.slub.st.cpus);
    this.caches[s] = sh;
    this.cap[s] = capacity;
    for (let cpu = 0; cpu < sh.main.length; cpu++) {
      sh.main[cpu] = this.allocEmpty(sh, s);
      this.syncOut(sh, s, cpu);
    }
  }

  /** alloc_empty_sheaf() */
  private allocEmpty(sh: CacheSheaves, s: number): number {
    let id: number;
    if (sh.nrFreeIds > 0) {
      id = sh.freeIds[--sh.nrFreeIds]!;
    } else {
      id = sh.made++;
      if (id >= sh.size.length) {
        sh.size = grow(sh.size, id + 1);
        sh.base = grow(sh.base, sh.size.length);
        sh.freeIds = grow(sh.freeIds, sh.size.length);
      }
      sh.base[id] = this.poolSlots(sh.capacity);
    }
    sh.size[id] = 0;
    this.stat(s, SlubStat.SHEAF_ALLOC);
    return id;
  }

  /** free_empty_sheaf() */
  private freeEmpty(sh: CacheSheaves, s: number, id: number): void {
    sh.freeIds[sh.nrFreeIds++] = id;
    this.stat(s, SlubStat.SHEAF_FREE);
  }

  /** barn_put_empty_sheaf() (no limit: the callers check it where the kernel does). */
  private barnPutEmpty(sh: CacheSheaves, id: number): void {
    sh.barnEmpty = grow(sh.barnEmpty, sh.nrEmpty + 1);
    sh.barnEmpty[sh.nrEmpty++] = id;
  }

  /** barn_put_full_sheaf() */
  private barnPutFull(sh: CacheSheaves, id: number): void {
    sh.barnFull = grow(sh.barnFull, sh.nrFull + 1);
    sh.barnFull[sh.nrFull++] = id;
  }

  /** refill_sheaf(): fill the sheaf to capacity from the slabs, all or nothing. */
  private refill(sh: CacheSheaves, s: number, id: number, gfp: number): boolean {
    const have = sh.size[id]!;
    const toFill = sh.capacity - have;
    if (toFill === 0) return true;
    if (!this.slub.takeObjects(s, gfp, toFill, this.pool, sh.base[id]! + have)) return false;
    sh.size[id] = sh.capacity;
    this.stat(s, SlubStat.SHEAF_REFILL, toFill);
    return true;
  }

  /** sheaf_flush_unused(): every object of a sheaf no CPU holds back to its slab. */
  private flushUnused(sh: CacheSheaves, s: number, id: number): void {
    const n = sh.size[id]!;
    if (n === 0) return;
    this.stat(s, SlubStat.SHEAF_FLUSH, n);
    this.slub.freeObjectsToSlabs(s, this.pool, sh.base[id]!, n);
    sh.size[id] = 0;
  }

  /** sheaf_flush_main(): the running CPU's main sheaf to the slabs, PCS_BATCH_MAX objects at a time from the top. */
  private flushMain(sh: CacheSheaves, s: number, cpu: number): void {
    for (;;) {
      const id = sh.main[cpu]!;
      const n = sh.size[id]!;
      if (n === 0) return;
      const batch = Math.min(SheafLimit.PCS_BATCH_MAX, n);
      sh.size[id] = n - batch;
      this.slub.freeObjectsToSlabs(s, this.pool, sh.base[id]! + n - batch, batch);
      this.stat(s, SlubStat.SHEAF_FLUSH, batch);
    }
  }

  // ───────────────────────── allocation ─────────────────────────

  /**
   * alloc_from_pcs(): pop the running CPU's main sheaf; an empty one is
   * replaced first (__pcs_replace_empty_main). 0 when the sheaves can't
   * serve it: the caller takes an object from the slabs.
   */
  alloc(s: number, gfp: number): number {
    const i = this.slub.cpuBase + s;
    if (this.pcsSize[i] === 0) {
      const sh = this.caches[s]!;
      const cpu = this.slub.cpu;
      this.syncIn(sh, s, cpu);
      const ok = this.replaceEmptyMain(sh, s, cpu, gfp);
      this.syncOut(sh, s, cpu);
      if (!ok) return 0;
    }
    const n = this.pcsSize[i]! - 1;
    this.pcsSize[i] = n;
    this.stat(s, SlubStat.ALLOC_PCS);
    return this.pool[this.pcsBase[i]! + n]!;
  }

  /**
   * __pcs_replace_empty_main(): a spare with objects becomes main; else the
   * barn trades a full sheaf for the empty main (BARN_GET, or BARN_GET_FAIL);
   * else, if the allocation may block, the spare, an empty sheaf of the barn
   * or a new one is refilled from the slabs and installed.
   */
  private replaceEmptyMain(sh: CacheSheaves, s: number, cpu: number, gfp: number): boolean {
    const main = sh.main[cpu]!;
    const spare = sh.spare[cpu]!;
    if (spare >= 0 && sh.size[spare]! > 0) {
      sh.main[cpu] = spare;
      sh.spare[cpu] = main;
      return true;
    }
    // barn_replace_empty_sheaf(): the empty main goes in whatever the limit (the count of sheaves stays).
    if (sh.nrFull > 0) {
      const full = sh.barnFull[--sh.nrFull]!;
      this.barnPutEmpty(sh, main);
      sh.main[cpu] = full;
      this.stat(s, SlubStat.BARN_GET);
      return true;
    }
    this.stat(s, SlubStat.BARN_GET_FAIL);
    // gfpflags_allow_blocking()
    if ((gfp & Gfp.DIRECT_RECLAIM) === 0) return false;
    let empty = -1;
    if (spare >= 0) {
      empty = spare;
      sh.spare[cpu] = -1;
    } else if (sh.nrEmpty > 0) {
      empty = sh.barnEmpty[--sh.nrEmpty]!;
    }
    let full = -1;
    if (empty >= 0) {
      // Refill failed: "we must be very low on memory so don't bother with the barn".
      if (this.refill(sh, s, empty, gfp)) full = empty;
      else this.freeEmpty(sh, s, empty);
    } else {
      // alloc_full_sheaf()
      full = this.allocEmpty(sh, s);
      if (!this.refill(sh, s, full, gfp)) {
        this.freeEmpty(sh, s, full);
        full = -1;
      }
    }
    if (full < 0) return false;
    // Back under the lock: the main sheaf is still the empty one unless a
    // constructor run by the refill allocated from this cache meanwhile
    // (whose fast paths kept the main's size in pcsSize).
    this.syncIn(sh, s, cpu);
    const m = sh.main[cpu]!;
    if (sh.size[m] === 0) {
      // 7.0 keeps the empty main as the spare when there is none; 6.18 gives it to the barn.
      if (this.slub.kernel70 && sh.spare[cpu]! < 0) sh.spare[cpu] = m;
      else this.barnPutEmpty(sh, m);
      sh.main[cpu] = full;
    } else if (sh.spare[cpu]! < 0) {
      sh.spare[cpu] = full;
    } else if (sh.size[sh.spare[cpu]!] === 0) {
      this.barnPutEmpty(sh, sh.spare[cpu]!);
      sh.spare[cpu] = full;
    } else {
      this.barnPutFull(sh, full);
      this.stat(s, SlubStat.BARN_PUT);
    }
    return true;
  }

  /**
   * alloc_from_pcs_bulk(): up to n objects from the main sheaf, swapping in
   * a spare with objects or a full sheaf of the barn when it runs dry; stops
   * when the barn has none (the rest comes from the slabs). Returns how many.
   */
  allocBulk(s: number, n: number, out: Uint32Array): number {
    const sh = this.caches[s]!;
    const cpu = this.slub.cpu;
    this.syncIn(sh, s, cpu);
    const got = this.allocBulkMain(sh, s, cpu, n, out);
    this.syncOut(sh, s, cpu);
    return got;
  }

  /** allocBulk between syncIn and syncOut. */
  private allocBulkMain(sh: CacheSheaves, s: number, cpu: number, n: number, out: Uint32Array): number {
    let got = 0;
    while (got < n) {
      let m = sh.main[cpu]!;
      if (sh.size[m] === 0) {
        const spare = sh.spare[cpu]!;
        if (spare >= 0 && sh.size[spare]! > 0) {
          sh.main[cpu] = spare;
          sh.spare[cpu] = m;
        } else if (sh.nrFull > 0) {
          const full = sh.barnFull[--sh.nrFull]!;
          this.barnPutEmpty(sh, m);
          sh.main[cpu] = full;
          this.stat(s, SlubStat.BARN_GET);
        } else {
          this.stat(s, SlubStat.BARN_GET_FAIL);
          return got;
        }
        m = sh.main[cpu]!;
      }
      const size = sh.size[m]!;
      const batch = Math.min(n - got, size);
      const base = sh.base[m]! + size - batch;
      // memcpy(p, main->objects + main->size, batch): the top `batch` objects in array order.
      for (let j = 0; j < batch; j++) out[got + j] = this.pool[base + j]!;
      sh.size[m] = size - batch;
      got += batch;
      this.stat(s, SlubStat.ALLOC_PCS, batch);
    }
    return got;
  }

  /**
   * The allocation alloc_from_pcs() could not serve (it may not block, and
   * the sheaves and the barn are empty): one object from the slabs.
   */
  allocSlow(s: number, gfp: number): number {
    this.stat(s, SlubStat.ALLOC_SLOWPATH);
    return this.slub.takeObjects(s, gfp, 1, this.one, 0) ? this.one[0]! : 0;
  }

  // ───────────────────────── free ─────────────────────────

  /**
   * free_to_pcs(): push on the running CPU's main sheaf; a full one is
   * replaced first (__pcs_replace_full_main). Beyond the kernel, an object
   * that is already the main sheaf's top entry is reported as a double free
   * (set_freepointer()'s naive check, for sheaves), and not pushed again.
   */
  free(s: number, obj: number): boolean {
    const i = this.slub.cpuBase + s;
    let n = this.pcsSize[i]!;
    if (n > 0 && this.pool[this.pcsBase[i]! + n - 1] === obj) {
      this.slub.naiveDoubleFree(obj);
      return true;
    }
    if (n === this.cap[s]) {
      const sh = this.caches[s]!;
      const cpu = this.slub.cpu;
      this.syncIn(sh, s, cpu);
      this.replaceFullMain(sh, s, cpu);
      this.syncOut(sh, s, cpu);
      n = this.pcsSize[i]!;
    }
    this.pool[this.pcsBase[i]! + n] = obj;
    this.pcsSize[i] = n + 1;
    this.stat(s, SlubStat.FREE_PCS);
    return true;
  }

  /**
   * __pcs_replace_full_main(): with no spare, an empty sheaf of the barn (or
   * a new one) becomes main and the full main the spare; a spare with room
   * is swapped in; with both full, the barn trades an empty sheaf for the
   * full main (BARN_PUT) -- unless it holds MAX_FULL_SHEAVES full ones
   * (BARN_PUT_FAIL: the spare is flushed to the slabs and becomes main's
   * empty successor) or has no empty one (a new empty sheaf, and main goes
   * to the barn when installing it).
   */
  private replaceFullMain(sh: CacheSheaves, s: number, cpu: number): void {
    const main = sh.main[cpu]!;
    const spare = sh.spare[cpu]!;
    if (spare < 0) {
      if (sh.nrEmpty > 0) {
        sh.spare[cpu] = main;
        sh.main[cpu] = sh.barnEmpty[--sh.nrEmpty]!;
        return;
      }
      this.installEmpty(sh, s, cpu, this.allocEmpty(sh, s));
      return;
    }
    if (sh.size[spare]! < sh.capacity) {
      sh.main[cpu] = spare;
      sh.spare[cpu] = main;
      return;
    }
    // barn_replace_full_sheaf()
    if (sh.nrFull >= SheafLimit.MAX_FULL_SHEAVES) {
      this.stat(s, SlubStat.BARN_PUT_FAIL);
      sh.spare[cpu] = -1;
      this.flushUnused(sh, s, spare);
      this.installEmpty(sh, s, cpu, spare);
      return;
    }
    if (sh.nrEmpty === 0) {
      // -ENOMEM from the barn: a new empty sheaf (kmem's never fails, so no BARN_PUT_FAIL).
      this.installEmpty(sh, s, cpu, this.allocEmpty(sh, s));
      return;
    }
    const empty = sh.barnEmpty[--sh.nrEmpty]!;
    this.barnPutFull(sh, main);
    sh.main[cpu] = empty;
    this.stat(s, SlubStat.BARN_PUT);
  }

  /** __pcs_install_empty_sheaf() */
  private installEmpty(sh: CacheSheaves, s: number, cpu: number, empty: number): void {
    const main = sh.main[cpu]!;
    const spare = sh.spare[cpu]!;
    if (spare < 0) {
      sh.spare[cpu] = main;
      sh.main[cpu] = empty;
    } else if (sh.size[main]! < sh.capacity) {
      this.barnPutEmpty(sh, empty);
    } else if (sh.size[spare]! < sh.capacity) {
      sh.main[cpu] = spare;
      sh.spare[cpu] = main;
      this.barnPutEmpty(sh, empty);
    } else {
      this.barnPutFull(sh, main);
      this.stat(s, SlubStat.BARN_PUT);
      sh.main[cpu] = empty;
    }
  }

  /**
   * free_to_pcs_bulk() for objects that passed the free hooks: fill the
   * main sheaf, replacing it when full by an empty one of the barn, a spare
   * with room, or the barn's trade; when none of those is there, the rest
   * goes to the slabs (__kmem_cache_free_bulk).
   */
  freeBulk(s: number, objs: Uint32Array, n: number): void {
    const sh = this.caches[s]!;
    const cpu = this.slub.cpu;
    this.syncIn(sh, s, cpu);
    const at = this.freeBulkMain(sh, s, cpu, objs, n);
    this.syncOut(sh, s, cpu);
    if (at < n) {
      this.slub.freeObjectsToSlabs(s, objs, at, n - at);
      // 7.0 counts the objects a bulk free sent to the slabs as FREE_SLOWPATH.
      if (this.slub.kernel70) this.stat(s, SlubStat.FREE_SLOWPATH, n - at);
    }
  }

  /** freeBulk between syncIn and syncOut: how many went into sheaves. */
  private freeBulkMain(sh: CacheSheaves, s: number, cpu: number, objs: Uint32Array, n: number): number {
    const cap = sh.capacity;
    let at = 0;
    while (at < n) {
      let m = sh.main[cpu]!;
      if (sh.size[m] === cap) {
        const spare = sh.spare[cpu]!;
        if (spare < 0) {
          if (sh.nrEmpty === 0) break;
          sh.spare[cpu] = m;
          sh.main[cpu] = sh.barnEmpty[--sh.nrEmpty]!;
        } else if (sh.size[spare]! < cap) {
          sh.main[cpu] = spare;
          sh.spare[cpu] = m;
        } else {
          if (sh.nrFull >= SheafLimit.MAX_FULL_SHEAVES || sh.nrEmpty === 0) {
            // 7.0's free_to_pcs_bulk() counts barn_replace_full_sheaf()'s refusal.
            if (this.slub.kernel70) this.stat(s, SlubStat.BARN_PUT_FAIL);
            break;
          }
          const empty = sh.barnEmpty[--sh.nrEmpty]!;
          this.barnPutFull(sh, m);
          sh.main[cpu] = empty;
          this.stat(s, SlubStat.BARN_PUT);
        }
        m = sh.main[cpu]!;
      }
      const size = sh.size[m]!;
      const batch = Math.min(n - at, cap - size);
      const base = sh.base[m]! + size;
      for (let j = 0; j < batch; j++) this.pool[base + j] = objs[at + j]!;
      sh.size[m] = size + batch;
      at += batch;
      this.stat(s, SlubStat.FREE_PCS, batch);
    }
    return at;
  }

  // ───────────────────────── preallocation (prefilled sheaves) ─────────────────────────

  /**
   * kmem_cache_prefill_sheaf(): a sheaf holding at least `size` objects,
   * for allocations that must not fail later. Up to the capacity: the CPU's
   * spare (SHEAF_PREFILL_FAST), else a full or empty sheaf of the barn
   * (SHEAF_PREFILL_SLOW, with BARN_GET or BARN_GET_FAIL), else a new one,
   * refilled to capacity when it holds fewer than `size`. Beyond it: an
   * oversize sheaf of exactly `size` objects (SHEAF_PREFILL_OVERSIZE). null
   * when the slabs can't supply them.
   */
  prefill(s: number, gfp: number, size: number): PrefilledSheaf | null {
    const sh = this.caches[s]!;
    if (size > sh.capacity) {
      const own = new Uint32Array(size);
      this.stat(s, SlubStat.SHEAF_PREFILL_OVERSIZE);
      if (!this.slub.takeObjects(s, gfp, size, own, 0)) return null;
      return new PrefilledSheaf(s, -1, own, size);
    }
    const cpu = this.slub.cpu;
    let id = sh.spare[cpu]!;
    if (id >= 0) {
      sh.spare[cpu] = -1;
      this.stat(s, SlubStat.SHEAF_PREFILL_FAST);
    } else {
      this.stat(s, SlubStat.SHEAF_PREFILL_SLOW);
      // barn_get_full_or_empty_sheaf()
      if (sh.nrFull > 0) id = sh.barnFull[--sh.nrFull]!;
      else if (sh.nrEmpty > 0) id = sh.barnEmpty[--sh.nrEmpty]!;
      this.stat(s, id >= 0 && sh.size[id]! > 0 ? SlubStat.BARN_GET : SlubStat.BARN_GET_FAIL);
    }
    if (id < 0) id = this.allocEmpty(sh, s);
    if (sh.size[id]! < size && !this.refill(sh, s, id, gfp)) {
      this.flushUnused(sh, s, id);
      this.freeEmpty(sh, s, id);
      return null;
    }
    return new PrefilledSheaf(s, id, null, sh.capacity);
  }

  /** kmem_cache_alloc_from_sheaf(): pop the prefilled sheaf; 0 once it is empty. */
  allocFrom(p: PrefilledSheaf): number {
    if (p.own !== null) return p.ownSize === 0 ? 0 : p.own[--p.ownSize]!;
    const sh = this.caches[p.cache]!;
    const n = sh.size[p.id]!;
    if (n === 0) return 0;
    sh.size[p.id] = n - 1;
    return this.pool[sh.base[p.id]! + n - 1]!;
  }

  /** kmem_cache_sheaf_size() */
  sizeOf(p: PrefilledSheaf): number {
    return p.own !== null ? p.ownSize : this.caches[p.cache]!.size[p.id]!;
  }

  /**
   * kmem_cache_return_sheaf(): an oversize sheaf is flushed and freed; a
   * regular one becomes the CPU's spare if it has none (SHEAF_RETURN_FAST),
   * else (SHEAF_RETURN_SLOW) it is refilled and put in the barn (BARN_PUT),
   * or flushed and freed when the barn is at MAX_FULL_SHEAVES or the refill
   * fails.
   */
  returnSheaf(p: PrefilledSheaf, gfp: number): void {
    const s = p.cache;
    const sh = this.caches[s]!;
    if (p.own !== null) {
      if (p.ownSize > 0) {
        this.stat(s, SlubStat.SHEAF_FLUSH, p.ownSize);
        this.slub.freeObjectsToSlabs(s, p.own, 0, p.ownSize);
      }
      p.ownSize = 0;
      p.id = -2;
      return;
    }
    const id = p.id;
    p.id = -2;
    const cpu = this.slub.cpu;
    if (sh.spare[cpu]! < 0) {
      sh.spare[cpu] = id;
      this.stat(s, SlubStat.SHEAF_RETURN_FAST);
      return;
    }
    this.stat(s, SlubStat.SHEAF_RETURN_SLOW);
    if (sh.nrFull >= SheafLimit.MAX_FULL_SHEAVES || !this.refill(sh, s, id, gfp)) {
      this.flushUnused(sh, s, id);
      this.freeEmpty(sh, s, id);
      return;
    }
    this.barnPutFull(sh, id);
    this.stat(s, SlubStat.BARN_PUT);
  }

  // ───────────────────────── flush, shrink, destroy ─────────────────────────

  /** pcs_flush_all() on `cpu` (the caller has made it the running CPU): the spare flushed and freed, main flushed. */
  flushCpu(s: number, cpu: number): void {
    const sh = this.caches[s]!;
    const spare = sh.spare[cpu]!;
    if (spare >= 0) {
      sh.spare[cpu] = -1;
      this.flushUnused(sh, s, spare);
      this.freeEmpty(sh, s, spare);
    }
    this.flushRcuSheaf(s, cpu);
    this.syncIn(sh, s, cpu);
    this.flushMain(sh, s, cpu);
    this.syncOut(sh, s, cpu);
  }

  /** barn_shrink(): the barn's full sheaves flushed, then every sheaf of the barn freed. */
  barnShrink(s: number): void {
    const sh = this.caches[s]!;
    const nrFull = sh.nrFull;
    sh.nrFull = 0;
    for (let k = nrFull - 1; k >= 0; k--) this.flushUnused(sh, s, sh.barnFull[k]!);
    const nrEmpty = sh.nrEmpty;
    sh.nrEmpty = 0;
    for (let k = nrFull - 1; k >= 0; k--) this.freeEmpty(sh, s, sh.barnFull[k]!);
    for (let k = nrEmpty - 1; k >= 0; k--) this.freeEmpty(sh, s, sh.barnEmpty[k]!);
  }

  /** pcs_destroy(): the (flushed) main sheaves go with the cache. */
  destroy(s: number): void {
    const sh = this.caches[s];
    this.caches[s] = undefined;
    this.cap[s] = 0;
    if (sh === undefined) return;
    for (let cpu = 0; cpu < sh.main.length; cpu++) {
      this.pcsSize[cpu * MAX_CACHES + s] = 0;
      this.pcsBase[cpu * MAX_CACHES + s] = 0;
    }
    // Every sheaf ever made for the cache gives its slots back for later caches of this capacity.
    let list = this.freeSlots.get(sh.capacity);
    if (list === undefined) {
      list = [];
      this.freeSlots.set(sh.capacity, list);
    }
    for (let id = 0; id < sh.made; id++) list.push(sh.base[id]!);
  }

  /** Objects held in the cache's sheaves: every CPU's main and spare and the barn's full sheaves. */
  objectsHeld(s: number): number {
    const sh = this.caches[s];
    if (sh === undefined) return 0;
    let n = 0;
    for (let cpu = 0; cpu < sh.main.length; cpu++) {
      n += this.pcsSize[cpu * MAX_CACHES + s]!;
      if (sh.spare[cpu]! >= 0) n += sh.size[sh.spare[cpu]!]!;
    }
    for (let k = 0; k < sh.nrFull; k++) n += sh.size[sh.barnFull[k]!]!;
    return n;
  }

  /** Objects kfree_rcu() has put in the cache's rcu_free sheaves, waiting or in their grace period. */
  rcuObjectsHeld(s: number): number {
    const sh = this.caches[s];
    if (sh === undefined) return 0;
    let n = sh.rcuInFlight;
    for (let cpu = 0; cpu < sh.rcuFree.length; cpu++) if (sh.rcuFree[cpu]! >= 0) n += sh.size[sh.rcuFree[cpu]!]!;
    return n;
  }

  // ───────────────────────── kfree_rcu() ─────────────────────────

  /**
   * __kfree_rcu_sheaf(): push obj on the running CPU's rcu_free sheaf (one
   * taken from an empty spare, the barn's empty list, or a new one); a sheaf
   * that fills goes to call_rcu() and is the CPU's no longer. False (counted
   * free_rcu_sheaf_fail) for a cache whose capacity is 0 (a boot or debug
   * cache under 7.0): the caller batches it the classic way.
   */
  kfreeRcuSheaf(s: number, obj: number, callRcu: (fn: () => void) => void): boolean {
    const sh = this.caches[s];
    if (sh === undefined || sh.capacity === 0) {
      this.stat(s, SlubStat.FREE_RCU_SHEAF_FAIL);
      return false;
    }
    const cpu = this.slub.cpu;
    let id = sh.rcuFree[cpu]!;
    if (id < 0) {
      const spare = sh.spare[cpu]!;
      if (spare >= 0 && sh.size[spare] === 0) {
        sh.spare[cpu] = -1;
        id = spare;
      } else if (sh.nrEmpty > 0) {
        id = sh.barnEmpty[--sh.nrEmpty]!;
      } else {
        id = this.allocEmpty(sh, s);
      }
      sh.rcuFree[cpu] = id;
    }
    const n = sh.size[id]!;
    this.pool[sh.base[id]! + n] = obj;
    sh.size[id] = n + 1;
    if (n + 1 === sh.capacity) {
      sh.rcuFree[cpu] = -1;
      sh.rcuInFlight += sh.capacity;
      callRcu(() => this.rcuFreeSheaf(s, sh, id));
    }
    this.stat(s, SlubStat.FREE_RCU_SHEAF);
    return true;
  }

  /** rcu_free_sheaf(): after the grace period the full sheaf joins the barn (reused by allocations), or is flushed when the barn is full. */
  private rcuFreeSheaf(s: number, sh: CacheSheaves, id: number): void {
    sh.rcuInFlight -= sh.size[id]!;
    if (this.caches[s] !== sh) return;
    if (sh.size[id] !== 0) {
      if (sh.nrFull < SheafLimit.MAX_FULL_SHEAVES) {
        this.stat(s, SlubStat.BARN_PUT);
        this.barnPutFull(sh, id);
        return;
      }
      this.stat(s, SlubStat.BARN_PUT_FAIL);
      this.flushUnused(sh, s, id);
    }
    if (sh.nrEmpty < MAX_EMPTY_SHEAVES) this.barnPutEmpty(sh, id);
    else this.freeEmpty(sh, s, id);
  }

  /** flush_rcu_sheaf() / pcs_flush_all()'s part: the CPU's partly filled rcu_free sheaf goes to call_rcu(rcu_free_sheaf_nobarn). */
  flushRcuSheaf(s: number, cpu: number): void {
    const sh = this.caches[s];
    if (sh === undefined) return;
    const id = sh.rcuFree[cpu]!;
    if (id < 0) return;
    sh.rcuFree[cpu] = -1;
    const call = this.rcuCall;
    if (call === null) throw new Error('flushRcuSheaf: an rcu_free sheaf without RCU');
    sh.rcuInFlight += sh.size[id]!;
    call(() => {
      // rcu_free_sheaf_nobarn(): flushed to the slabs and freed
      sh.rcuInFlight -= sh.size[id]!;
      if (this.caches[s] !== sh) return;
      this.flushUnused(sh, s, id);
      this.freeEmpty(sh, s, id);
    });
  }

  /** call_rcu() as the kernel's glue gives it (set when kfree_rcu() is first used); null before. */
  rcuCall: ((fn: () => void) => void) | null = null;
}

/** CF.SHEAF_CAPACITY of a cache row, for readers outside the fast paths. */
export function sheafCapacity(cf: Int32Array, s: number): number {
  return cf[s * CF.FIELDS + CF.SHEAF_CAPACITY]!;
}
