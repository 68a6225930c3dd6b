/**
 * SLUB with real CPUs (boot({ smp: 'workers' })): the paths of mm/slub.c
 * that another CPU can run into at the same time, written as the kernel
 * writes them. The fast paths touch only their CPU's kmem_cache_cpu, which
 * no other thread writes (flush_all asks the owner by IPI instead of
 * reaching into it), so they need no atomics.
 *
 * The transaction id (c->tid): as the kernel, each kmem_cache_cpu carries a
 * tid, bumped by every operation on its lockless freelist (the fast paths,
 * ___slab_alloc loading a freelist, a flush), and the fast path reads tid
 * before freelist and commits only if both are unchanged -- the kernel's
 * this_cpu_cmpxchg_double(freelist, tid), here two plain compares and
 * stores, since only the owning thread (or, for an offline CPU, the one
 * thread that borrowed it) touches those words. In the kernel the window
 * between the reads and the cmpxchg is where preemption, migration or an
 * interrupt strikes; a kmem CPU serves IPIs only at its slow paths and
 * poll(), so the window opens only in test builds (smpJitter), where the
 * fast path polls there: an IPI-driven flush_cpu_slab then changes
 * freelist and tid under it, and the fast path retries
 * (cmpxchg_double_cpu_fail). Memory ordering: none needed beyond program
 * order on the owning thread; a borrowed CPU's words are handed over by the
 * seq-cst OWNER exchange of src/smp/smp.ts.
 *
 * Locking order (mm/slub.c's, the part kmem has):
 *   slab_mutex (cache creation, src/smp/smp.ts)
 *     n->list_lock (listLock(s): one per cache, kmem has one node)
 *       slab->freelist + counters: one 32-bit word (PageArray.slabCounters),
 *       changed only by Atomics.compareExchange -- the kernel's
 *       cmpxchg_double of freelist + counters; no bit lock is needed
 *         zone->lock (src/smp/page_alloc_smp.ts), taken when a slab's pages
 *         go back to the buddy allocator
 *
 * Memory ordering: every Atomics operation is sequentially consistent. A
 * free pointer written into an object before the compareExchange that
 * publishes it as slab->freelist is visible to the CPU whose
 * compareExchange (or Atomics.load) later takes that freelist: the
 * release/acquire pair the kernel's cmpxchg_double gives. The node partial
 * list (next/prev, PG_workingset, NR_PARTIAL) changes only under
 * n->list_lock, whose acquire and release order it.
 *
 * Not per CPU yet: the cache's ALLOCS / FREES counters (slabtop's rates and
 * the virtual clock) are plain adds to one shared word from every CPU, so
 * another CPU's add can be lost and the word's cache line moves between
 * cores on each operation; the kernel keeps no such shared counter.
 */
import { SlabWord } from '../memory/page.js';
import { CF, MAX_CACHES, SlubStat } from '../slub/slab.js';
import { Slub } from '../slub/slub.js';
import { Ipi, type SmpState } from './smp.js';
import { spinLock, spinUnlock } from './spinlock.js';

/** Hooks already wrapped by SlubSmp.hooksChanged(). */
const synced = new WeakSet<object>();

export class SlubSmp extends Slub {
  /** The control block (set by the machine right after construction). */
  smp!: SmpState;
  private ctl!: Int32Array;
  private lockBase = 0;

  /** kmem_cache_cpu.tid of each CPU and cache (cpu * MAX_CACHES + s); init_tid(cpu) = cpu. */
  tid!: Uint32Array;
  /** TID_STEP: the tids of different CPUs never meet. */
  private tidStep = 1;
  /** Test builds (smpJitter): the fast path's window between reading and committing is open to IPIs. */
  private window = false;

  /** Wire the control block in: the list locks and the IPIs this layer serves. */
  attachSmp(smp: SmpState): void {
    this.smp = smp;
    this.ctl = smp.ctl;
    this.lockBase = smp.listLockWord(0);
    const cpus = this.st.cpus;
    while (this.tidStep < cpus) this.tidStep *= 2;
    this.tid = new Uint32Array(new SharedArrayBuffer(cpus * MAX_CACHES * 4));
    for (let cpu = 0; cpu < cpus; cpu++) this.tid.fill(cpu, cpu * MAX_CACHES, (cpu + 1) * MAX_CACHES);
    this.window = smp.jitterUs > 0;
  }

  /**
   * The allocator hooks (KASAN's) read this CPU's descriptor of the cache
   * they are handed, which may be one another CPU created since this CPU
   * last looked: each hook first catches up with the cache table (one
   * Atomics.load when nothing is new). Wrapped once, after KASAN installs them.
   */
  override hooksChanged(): void {
    super.hooksChanged();
    if (this.smp === undefined) return;
    const hooks = this.hooks as unknown as Record<string, ((a: number, b: number, c: number, d: number) => unknown) | null>;
    for (const name of Object.keys(hooks)) {
      const hook = hooks[name];
      if (hook === null || hook === undefined || synced.has(hook)) continue;
      // Fixed arity (no hook takes more than four numbers): no rest array per call.
      const wrapped = (a: number, b: number, c: number, d: number) => {
        this.smp.syncCaches();
        return hook(a, b, c, d);
      };
      synced.add(wrapped);
      hooks[name] = wrapped;
    }
  }

  /** next_tid() */
  private nextTid(i: number): void {
    this.tid[i] = (this.tid[i]! + this.tidStep) >>> 0;
  }

  /**
   * The window of the fast path, between reading tid + freelist and the
   * cmpxchg: in a test build an interrupt comes in here (this CPU's IPIs
   * served, a jitter wait). Returns whether the cpu freelist i is still
   * the one read: tid and head unchanged.
   */
  private windowHolds(i: number, tid: number, head: number): boolean {
    if (!this.window) return true;
    this.smp.jitter();
    this.smp.poll();
    return this.tid[i] === tid && this.cpuFreelist[i] === head;
  }

  /**
   * slab_alloc_node() with its tid: read tid, then freelist; go on to take
   * the object only if neither changed (else cmpxchg_double_cpu_fail, redo).
   * Slub's fast path then pops it, and the pop (popCpuFreelist) bumps the
   * tid. Without a window (no test build) nothing can come between the
   * reads and the pop, so the check is skipped, not the bump.
   */
  override slabAlloc(s: number, gfp: number, origSize: number): number {
    if (this.window) {
      const i = this.cpuBase + s;
      for (;;) {
        const tid = this.tid[i]!;
        const obj = this.cpuFreelist[i]!;
        if (obj === 0 || this.windowHolds(i, tid, obj)) break;
        this.stat(s, SlubStat.CMPXCHG_DOUBLE_CPU_FAIL);
      }
    }
    return super.slabAlloc(s, gfp, origSize);
  }

  /** Every pop of a cpu freelist is a transaction: next_tid(). */
  override popCpuFreelist(s: number, i: number, obj: number): void {
    super.popCpuFreelist(s, i, obj);
    this.nextTid(i);
  }

  /** Every push on a cpu freelist is a transaction: next_tid(). */
  override pushCpuFreelist(s: number, i: number, obj: number, head: number): void {
    super.pushCpuFreelist(s, i, obj, head);
    this.nextTid(i);
  }

  /** do_slab_free() with its tid: an object of the cpu slab goes on the cpu freelist only if tid and freelist held. */
  override doSlabFree(s: number, slab: number, obj: number): void {
    if (this.window) this.freeWindow(s, slab);
    super.doSlabFree(s, slab, obj);
  }

  /** The free fast path's window (test builds): retried while a flush changed the cpu freelist under it. */
  private freeWindow(s: number, slab: number): void {
    const i = this.cpuBase + s;
    while (slab === this.cpuSlab[i] && !this.windowHolds(i, this.tid[i]!, this.cpuFreelist[i]!)) this.stat(s, SlubStat.CMPXCHG_DOUBLE_CPU_FAIL);
  }

  /** kfree's do_slab_free(), the same; Slub's inline push bumps no tid, so it is bumped here when the object went on the cpu freelist. */
  override slabFreeFast(s: number, slab: number, obj: number): boolean {
    if (this.window) this.freeWindow(s, slab);
    if (!super.slabFreeFast(s, slab, obj)) return false;
    const i = this.cpuBase + s;
    if (this.cpuFreelist[i] === obj) this.nextTid(i);
    return true;
  }

  /** spin_lock(&n->list_lock) */
  listLock(s: number): void {
    spinLock(this.ctl, this.lockBase + s);
  }

  /** spin_unlock(&n->list_lock) */
  listUnlock(s: number): void {
    spinUnlock(this.ctl, this.lockBase + s);
  }

  /** Atomically add to a cache's atomic_long_t counters (nr_slabs, total_objects). */
  protected override incSlabsNode(s: number, objects: number): void {
    Atomics.add(this.cf, s * CF.FIELDS + CF.NR_SLABS, 1);
    Atomics.add(this.cf, s * CF.FIELDS + CF.TOTAL_OBJECTS, objects);
  }

  protected override decSlabsNode(s: number, objects: number): void {
    Atomics.sub(this.cf, s * CF.FIELDS + CF.NR_SLABS, 1);
    Atomics.sub(this.cf, s * CF.FIELDS + CF.TOTAL_OBJECTS, objects);
  }

  /** The slab word for freelist (an address or 0), inuse and frozen. */
  private counters(s: number, slab: number, freelist: number, inuse: number, frozen: number): number {
    const idx = freelist === 0 ? 0 : this.objIndex(s, slab, freelist) + 1;
    return ((idx << SlabWord.FREELIST_SHIFT) | inuse | frozen) >>> 0;
  }

  /**
   * slab_update_freelist(): compareExchange of the slab word from `old` to
   * `neu`; false (and cmpxchg_double_fail counted) when another CPU changed
   * it first. Seq-cst: the free pointers stored before it are published.
   */
  private updateFreelist(s: number, slab: number, old: number, neu: number): boolean {
    this.smp.jitter();
    if (Atomics.compareExchange(this.slabCounters, slab, old, neu) === old) return true;
    this.stat(s, SlubStat.CMPXCHG_DOUBLE_FAIL);
    return false;
  }

  /**
   * ___slab_alloc(): served IPIs first (the kernel would have taken the
   * flush work between two allocations), descriptors of caches other CPUs
   * created, then Slub's slow path, whose slab word changes are the
   * compareExchange loops below.
   */
  override slabAllocSlow(s: number, gfp: number, i: number, origSize = -1): number {
    this.smp.poll();
    if (this.caches[s] === undefined) this.smp.syncCaches();
    if (this.cf[s * CF.FIELDS + CF.DEBUG] !== 0) return this.debugLocked(s, () => super.slabAllocSlow(s, gfp, i, origSize));
    const obj = super.slabAllocSlow(s, gfp, i, origSize);
    // ___slab_alloc() loaded a new cpu freelist (or found none): next_tid().
    this.nextTid(i);
    return obj;
  }

  /**
   * slub_debug caches never have a cpu slab: alloc_single_from_partial(),
   * alloc_single_from_new_slab() and free_to_partial_list() run their
   * checks and change the slab under n->list_lock, as the kernel does. kmem
   * holds it across the new slab's page allocation too (the kernel takes it
   * after): list_lock before zone->lock is the locking order anyway. A
   * report that throws (onBug: 'throw') still drops the lock.
   */
  private debugLocked<T>(s: number, run: () => T): T {
    this.listLock(s);
    try {
      return run();
    } finally {
      this.listUnlock(s);
    }
  }

  /** get_freelist(): take the cpu slab's freelist; it stays frozen only if there was one. */
  protected override getFreelist(s: number, slab: number): number {
    for (;;) {
      const old = Atomics.load(this.slabCounters, slab);
      const freelist = this.slabFreelistOf(s, slab, old);
      const neu = (this.slabObjects[slab]! | (freelist !== 0 ? SlabWord.FROZEN : 0)) >>> 0;
      if (this.updateFreelist(s, slab, old, neu)) return freelist;
    }
  }

  /** freeze_slab(): a slab taken off a partial list becomes the cpu slab, its whole freelist ours. */
  protected override freezeSlab(s: number, slab: number): number {
    for (;;) {
      const old = Atomics.load(this.slabCounters, slab);
      const freelist = this.slabFreelistOf(s, slab, old);
      const neu = (this.slabObjects[slab]! | SlabWord.FROZEN) >>> 0;
      if (this.updateFreelist(s, slab, old, neu)) return freelist;
    }
  }

  /** get_partial_node(): the node partial list under n->list_lock. */
  protected override getPartialNode(s: number): number {
    if (this.cf[s * CF.FIELDS + CF.NR_PARTIAL] === 0) return -1; // the kernel's unlocked !n->nr_partial check
    this.listLock(s);
    try {
      this.smp.jitter();
      return super.getPartialNode(s);
    } finally {
      this.listUnlock(s);
    }
  }

  /** slab->freelist of a slab word as an address. */
  private slabFreelistOf(s: number, slab: number, word: number): number {
    const idx = (word & SlabWord.FREELIST_MASK) >>> SlabWord.FREELIST_SHIFT;
    const r = s * CF.FIELDS;
    return idx === 0 ? 0 : slab * 4096 + this.cf[r + CF.RED_LEFT_PAD]! + (idx - 1) * this.cf[r + CF.SIZE]!;
  }

  /**
   * __slab_free() as 6.18 writes it: the objects go on slab->freelist by
   * compareExchange of freelist + counters. When the slab may have to change
   * lists -- it was full (prior NULL) without cpu partials, or becomes empty
   * -- n->list_lock is taken before the compareExchange, so that whether the
   * slab is on the node list (PG_workingset) is read under the lock that
   * guards it. A frozen slab is some CPU's cpu slab: the free ends there
   * (the remote free). A full slab goes to this CPU's partial list.
   */
  override slabFreeSlow(s: number, slab: number, head: number, tail: number, cnt: number): void {
    this.smp.poll();
    const cf = this.cf;
    const r = s * CF.FIELDS;
    this.stat(s, SlubStat.FREE_SLOWPATH);
    if (cf[r + CF.DEBUG] !== 0) {
      // Its reports name the cache, which another CPU may have created since this one looked.
      if (this.caches[s] === undefined) this.smp.syncCaches();
      this.debugLocked(s, () => this.debug!.freeToPartialList(s, slab, head, tail, cnt));
      return;
    }
    const hasCpuPartial = cf[r + CF.CPU_PARTIAL]! !== 0;
    let locked = false;
    let onNodePartial = false;
    let prior = 0;
    let inuse = 0;
    let wasFrozen = 0;
    for (;;) {
      if (locked) {
        this.listUnlock(s);
        locked = false;
      }
      const counters = Atomics.load(this.slabCounters, slab);
      prior = this.slabFreelistOf(s, slab, counters);
      if (prior === tail || prior === head) {
        this.slabDoubleFree(head);
        return;
      }
      this.setFreepointer(s, tail, prior);
      wasFrozen = counters & SlabWord.FROZEN;
      inuse = (counters & SlabWord.INUSE_MASK) - cnt;
      if ((inuse === 0 || prior === 0) && wasFrozen === 0 && (!hasCpuPartial || prior !== 0)) {
        this.listLock(s);
        locked = true;
        this.smp.jitter();
        onNodePartial = this.onNodePartial(slab);
      }
      const neu = this.counters(s, slab, head, inuse, wasFrozen);
      if (this.updateFreelist(s, slab, counters, neu)) break;
    }
    if (!locked) {
      if (wasFrozen !== 0) {
        this.stat(s, SlubStat.FREE_FROZEN);
      } else if (hasCpuPartial && prior === 0) {
        // The slab was full: we made it partial, so no other CPU has it on a list.
        this.putCpuPartial(s, slab, true);
        this.stat(s, SlubStat.CPU_PARTIAL_FREE);
      }
      return;
    }
    // Partial but not on the node list: some CPU's partial list has it.
    if (prior !== 0 && !onNodePartial) {
      this.listUnlock(s);
      return;
    }
    if (inuse === 0 && cf[r + CF.NR_PARTIAL]! >= cf[r + CF.MIN_PARTIAL]!) {
      if (prior !== 0) {
        this.removePartial(s, slab);
        this.stat(s, SlubStat.FREE_REMOVE_PARTIAL);
      }
      this.listUnlock(s);
      this.stat(s, SlubStat.FREE_SLAB);
      this.discardSlab(s, slab);
      return;
    }
    if (!hasCpuPartial && prior === 0) {
      this.addPartial(s, slab, true);
      this.stat(s, SlubStat.FREE_ADD_PARTIAL);
    }
    this.listUnlock(s);
  }

  /** __put_partials(): the detached chain onto the node list under n->list_lock, empty ones beyond min_partial discarded after it. */
  override putPartials(s: number, slab: number): void {
    const cf = this.cf;
    const r = s * CF.FIELDS;
    let discard = -1;
    this.listLock(s);
    while (slab >= 0) {
      const next = this.slabNext[slab]!;
      this.slabNext[slab] = -1;
      if (this.slabInuse(slab) === 0 && cf[r + CF.NR_PARTIAL]! >= cf[r + CF.MIN_PARTIAL]!) {
        this.slabNext[slab] = discard;
        discard = slab;
      } else {
        this.addPartial(s, slab, true);
        this.stat(s, SlubStat.FREE_ADD_PARTIAL);
      }
      slab = next;
    }
    this.listUnlock(s);
    while (discard >= 0) {
      const next = this.slabNext[discard]!;
      this.slabNext[discard] = -1;
      this.stat(s, SlubStat.DEACTIVATE_EMPTY);
      this.discardSlab(s, discard);
      this.stat(s, SlubStat.FREE_SLAB);
      discard = next;
    }
  }

  /**
   * deactivate_slab() in the kernel's three stages: count the cpu freelist;
   * unfreeze the slab while splicing that freelist in front of
   * slab->freelist (a compareExchange loop: remote frees keep landing on
   * slab->freelist until it succeeds); then move it by the state it was
   * left in, the node list under n->list_lock.
   */
  override deactivateSlab(s: number, slab: number, freelist: number): void {
    const cf = this.cf;
    const r = s * CF.FIELDS;
    // Stage one, trusting no free pointer SLUB could not have stored (as Slub.deactivateSlab).
    let freeDelta = 0;
    let last = 0;
    let bad = false;
    let badLo = 0;
    let badHi = 0;
    for (let it = freelist; it !== 0; ) {
      last = it;
      freeDelta++;
      const next = this.getFreepointer(s, it);
      if (!this.freepointerValid(s, it, next)) {
        bad = true;
        badLo = next;
        badHi = this.freepointerHi(s, it);
        break;
      }
      if (freeDelta >= this.slabObjects[slab]!) break;
      it = next;
    }
    // Stage two.
    let newFreelist = 0;
    let inuse = 0;
    let remote = false;
    for (;;) {
      const old = Atomics.load(this.slabCounters, slab);
      const oldFreelist = this.slabFreelistOf(s, slab, old);
      inuse = old & SlabWord.INUSE_MASK;
      remote = oldFreelist !== 0;
      newFreelist = oldFreelist;
      if (last !== 0) {
        inuse -= freeDelta;
        this.setFreepointer(s, last, oldFreelist);
        newFreelist = freelist;
      }
      if (this.updateFreelist(s, slab, old, this.counters(s, slab, newFreelist, inuse, 0))) break;
    }
    if (remote) this.stat(s, SlubStat.DEACTIVATE_REMOTE_FREES);
    // Stage three: nr_partial read unlocked, as the kernel does.
    if (inuse === 0 && cf[r + CF.NR_PARTIAL]! >= cf[r + CF.MIN_PARTIAL]!) {
      this.stat(s, SlubStat.DEACTIVATE_EMPTY);
      this.discardSlab(s, slab);
      this.stat(s, SlubStat.FREE_SLAB);
    } else if (newFreelist !== 0) {
      // The window where remote frees may empty the unfrozen slab before it is on a list.
      this.smp.jitter();
      this.listLock(s);
      this.addPartial(s, slab, remote);
      this.listUnlock(s);
      this.stat(s, remote ? SlubStat.DEACTIVATE_TO_TAIL : SlubStat.DEACTIVATE_TO_HEAD);
    } else {
      this.stat(s, SlubStat.DEACTIVATE_FULL);
    }
    if (bad) this.freepointerFault(badHi, badLo);
  }

  /**
   * flush_all(): each CPU flushes its own cpu slab and partials of the
   * cache (flush_cpu_slab work on every CPU, waited for); a CPU no thread
   * runs is flushed from here.
   */
  override flushAll(s: number): void {
    for (let cpu = 0; cpu < this.st.cpus; cpu++) {
      this.smp.runOn(cpu, Ipi.FLUSH_CPU_SLAB, s, () => this.flushCpuSlab(s, cpu));
    }
  }

  /** flush_slab(): the cpu slab goes, and with it the transaction: next_tid() (the CPU's own, or a borrowed one's). */
  override flushCpuSlab(s: number, cpu: number): void {
    super.flushCpuSlab(s, cpu);
    this.nextTid(cpu * MAX_CACHES + s);
  }

  /** The IPI: flush_cpu_slab() of cache s on this CPU. */
  flushOwn(s: number): void {
    if (s >= 0 && s < MAX_CACHES && this.cf[s * CF.FIELDS + CF.ALIVE] === 1) this.flushCpuSlab(s, this.cpu);
  }

  /**
   * __kmem_cache_do_shrink(): flush_all, then under n->list_lock the empty
   * partial slabs come off the list (discarded after the lock is dropped)
   * and the rest is sorted fullest first, as Slub.shrink does.
   */
  override shrink(s: number): void {
    if (this.hooks.cacheShrink !== null) this.hooks.cacheShrink(s);
    this.flushAll(s);
    const r = s * CF.FIELDS;
    const buckets: number[][] = [];
    const rest: number[] = [];
    const discard: number[] = [];
    this.listLock(s);
    for (let slab = this.cf[r + CF.PARTIAL_HEAD]!; slab >= 0; ) {
      const next = this.pages.next[slab]!;
      this.removePartial(s, slab);
      const free = this.slabObjects[slab]! - this.slabInuse(slab);
      if (this.slabInuse(slab) === 0) discard.push(slab);
      else if (free <= 32) {
        const b = buckets[free - 1] ?? [];
        buckets[free - 1] = b;
        b.unshift(slab);
      } else rest.push(slab);
      slab = next;
    }
    for (let b = 0; b < 32; b++) for (const slab of buckets[b] ?? []) this.addPartial(s, slab, true);
    for (const slab of rest) this.addPartial(s, slab, true);
    this.listUnlock(s);
    for (const slab of discard) this.discardSlab(s, slab);
  }
}
