/**
 * kfree_rcu() batching (mm/slab_common.c, CONFIG_KVFREE_RCU_BATCHED).
 *
 * Each CPU keeps a kfree_rcu_cpu: pointers queued by kvfree_call_rcu() go
 * into page-sized blocks (kvfree_rcu_bulk_data, KVFREE_BULK_MAX_ENTR = 507
 * pointers after the 40-byte header) on the CPU's bulk list, newest block
 * first; when no block can be had, objects with an rcu_head of their own (the
 * two-argument kfree_rcu(ptr, rhf)) are chained through it instead ("channel
 * 3"). Nothing is freed at once: a monitor work, armed KFREE_DRAIN_JIFFIES
 * (5 s) after the first queued object, or one jiffy once a block's worth is
 * waiting, hands the lists to one of two batches (krw_arr) and queues an
 * rcu_work on it; a grace period later the batch's objects are freed with
 * kfree_bulk() and its blocks go back to a per-CPU cache of up to
 * rcu_min_cached_objs (5) pages, the rest to the page allocator. The monitor
 * first frees, without waiting, any block whose own grace-period snapshot has
 * already passed (kvfree_rcu_drain_ready()).
 *
 * The two-argument form may not allocate: it takes a block from the cache or
 * falls back to channel 3, and asks the page-cache worker to refill the cache
 * (rcu_min_cached_objs pages, or 1 after the shrinker asked for memory, then
 * only rcu_delay_page_cache_fill_msec later). The worker is an hrtimer of 0 ns
 * in the kernel; kmem runs it as soon as kvfree_call_rcu() returns. The
 * one-argument form (kvfree_rcu_mightsleep()) may allocate a block with
 * GFP_KERNEL | __GFP_NORETRY | __GFP_NOMEMALLOC | __GFP_NOWARN and, failing
 * that, waits for a grace period and frees the object inline.
 *
 * 6.18 first offers the object to the rcu_free sheaf of a cache that has
 * sheaves (kfree_rcu_sheaf()); `sheafFree` is that hook, null when no cache
 * can have one. kvfree_rcu_barrier() flushes those sheaves first.
 *
 * kmem has no vmalloc: the second bulk channel (vfree) stays empty.
 */
import type { Rcu } from '../lib/rcu.js';
import { Timer, type TimerBase } from '../lib/timer.js';

const PAGE_SIZE = 4096;
/** sizeof(struct kvfree_rcu_bulk_data): list_head 16, rcu_gp_oldstate 16, nr_records 8 */
const BULK_DATA_HEADER = 40;
/** KVFREE_BULK_MAX_ENTR: the pointers one block holds */
export const KVFREE_BULK_MAX_ENTR = (PAGE_SIZE - BULK_DATA_HEADER) / 8;
const JIFFY_NS = 4_000_000;
/** KFREE_DRAIN_JIFFIES: 5 * HZ */
export const KFREE_DRAIN_NS = 5 * 250 * JIFFY_NS;
const KFREE_N_BATCHES = 2;
/** rcutree.rcu_min_cached_objs */
export const RCU_MIN_CACHED_OBJS = 5;
/** rcutree.rcu_delay_page_cache_fill_msec */
const RCU_DELAY_PAGE_CACHE_FILL_NS = 5000 * 1_000_000;

/** A kvfree_rcu_bulk_data block: a page and the pointers recorded in it. */
interface BulkBlock {
  page: number;
  records: number[];
  /** gp_snap: get_state_synchronize_rcu_full() at the last record */
  gpSnap: number;
}

/** A kfree_rcu_cpu_work: one batch waiting for its grace period. */
interface Batch {
  bulkFree: BulkBlock[];
  headFree: number[];
  headFreeGpSnap: number;
  /** its rcu_work is queued (WORK_STRUCT_PENDING) */
  pending: boolean;
}

/** A kfree_rcu_cpu. */
interface Krc {
  /** channel 1, newest block first */
  bulk: BulkBlock[];
  bulkCount: number;
  /** channel 3: objects chained through their rcu_head, in queue order (the chain's head, the newest, is last) */
  head: number[];
  headGpSnap: number;
  batches: Batch[];
  monitor: Timer;
  /** bkvcache: cached block pages */
  cache: number[];
  pageWork: Timer;
  workInProgress: boolean;
  backoffPageCacheFill: boolean;
}

export interface KvfreeRcuEnv {
  readonly rcu: Rcu;
  readonly timers: TimerBase;
  /** the CPU kvfree_call_rcu() runs on */
  cpu(): number;
  /** __get_free_page(GFP_KERNEL | __GFP_NORETRY | __GFP_NOMEMALLOC | __GFP_NOWARN): an address, or 0 */
  getFreePage(): number;
  freePage(addr: number): void;
  /** kvfree() of one object */
  kvfree(addr: number): void;
  /** kasan_record_aux_stack(): the caller's stack kept on the object for a later KASAN report */
  recordAuxStack(addr: number): void;
  /** kfree_bulk() */
  kfreeBulk(addrs: number[]): void;
  /** 6.18's kfree_rcu_sheaf(): true when a cache's rcu_free sheaf took the object; null without sheaves */
  sheafFree: ((addr: number) => boolean) | null;
  /** flush_all_rcu_sheaves() */
  flushAllRcuSheaves: (() => void) | null;
}

export class KvfreeRcu {
  private readonly krcs: Krc[] = [];
  /** objects freed after their grace period, since boot */
  freed = 0;

  constructor(
    private readonly env: KvfreeRcuEnv,
    cpus: number,
  ) {
    for (let c = 0; c < cpus; c++) {
      const krc: Krc = {
        bulk: [],
        bulkCount: 0,
        head: [],
        headGpSnap: 0,
        batches: [],
        monitor: new Timer(`kfree_rcu_monitor/${c}`, () => this.monitor(krc)),
        cache: [],
        pageWork: new Timer(`fill_page_cache_func/${c}`, () => this.fillPageCache(krc)),
        workInProgress: false,
        backoffPageCacheFill: false,
      };
      for (let i = 0; i < KFREE_N_BATCHES; i++) krc.batches.push({ bulkFree: [], headFree: [], headFreeGpSnap: 0, pending: false });
      this.krcs.push(krc);
    }
  }

  /**
   * kvfree_call_rcu(): queue ptr to be freed after a grace period. hasHead:
   * the two-argument kfree_rcu() (the object embeds an rcu_head); false for
   * kvfree_rcu_mightsleep(), which may allocate and may wait.
   */
  kvfreeCallRcu(ptr: number, hasHead: boolean): void {
    const env = this.env;
    if (env.sheafFree?.(ptr)) return;
    env.recordAuxStack(ptr);
    const krc = this.krcs[env.cpu()]!;
    let ok = this.addPtrToBulk(krc, ptr, !hasHead);
    if (!ok) {
      this.runPageCacheWorker(krc);
      if (hasHead) {
        krc.head.push(ptr);
        krc.headGpSnap = env.rcu.getState();
        ok = true;
      }
    }
    if (ok) this.scheduleMonitor(krc);
    else {
      // kvfree_rcu_mightsleep() without a block: wait for a grace period, free inline
      env.rcu.synchronize();
      env.kvfree(ptr);
      this.freed++;
    }
  }

  /** add_ptr_to_bulk_krc_lock(): record ptr in the CPU's newest block, taking a new block when it is full. */
  private addPtrToBulk(krc: Krc, ptr: number, canAlloc: boolean): boolean {
    let b = krc.bulk[0];
    if (b === undefined || b.records.length === KVFREE_BULK_MAX_ENTR) {
      let page = krc.cache.pop() ?? 0;
      if (page === 0 && canAlloc) page = this.env.getFreePage();
      if (page === 0) return false;
      b = { page, records: [], gpSnap: 0 };
      krc.bulk.unshift(b);
    }
    b.records.push(ptr);
    b.gpSnap = this.env.rcu.getState();
    krc.bulkCount++;
    return true;
  }

  private count(krc: Krc): number {
    return krc.bulkCount + krc.head.length;
  }

  private needOffload(krc: Krc): boolean {
    return krc.bulk.length > 0 || krc.head.length > 0;
  }

  /** __schedule_delayed_monitor_work(): one jiffy once a block's worth waits, else KFREE_DRAIN_JIFFIES; never later than already armed. */
  private scheduleMonitor(krc: Krc): void {
    const timers = this.env.timers;
    const delay = this.count(krc) >= KVFREE_BULK_MAX_ENTR ? JIFFY_NS : KFREE_DRAIN_NS;
    const at = timers.now + delay;
    if (krc.monitor.pending) {
      if (at < krc.monitor.expires) timers.modTimer(krc.monitor, at);
      return;
    }
    timers.modTimer(krc.monitor, at);
  }

  /** kfree_rcu_monitor() */
  private monitor(krc: Krc): void {
    this.drainReady(krc);
    this.queueBatch(krc);
    if (this.needOffload(krc)) this.scheduleMonitor(krc);
  }

  /** kvfree_rcu_drain_ready(): free now what a grace period has already covered, oldest blocks first. */
  private drainReady(krc: Krc): void {
    const rcu = this.env.rcu;
    const ready: BulkBlock[] = [];
    while (krc.bulk.length > 0) {
      const oldest = krc.bulk[krc.bulk.length - 1]!;
      if (!rcu.pollState(oldest.gpSnap)) break;
      krc.bulk.pop();
      krc.bulkCount -= oldest.records.length;
      ready.unshift(oldest);
    }
    let head: number[] = [];
    if (krc.head.length > 0 && rcu.pollState(krc.headGpSnap)) {
      head = krc.head;
      krc.head = [];
    }
    for (const b of ready) this.freeBlock(krc, b);
    this.freeList(head);
  }

  /** kvfree_rcu_queue_batch(): hand the lists to the first idle batch and queue its rcu_work; false if both are busy. */
  private queueBatch(krc: Krc): boolean {
    for (const batch of krc.batches) {
      if (batch.bulkFree.length > 0 || batch.headFree.length > 0) continue;
      if (!this.needOffload(krc)) continue;
      batch.bulkFree = krc.bulk;
      krc.bulk = [];
      krc.bulkCount = 0;
      batch.headFree = krc.head;
      batch.headFreeGpSnap = this.env.rcu.getState();
      krc.head = [];
      batch.pending = true;
      this.env.rcu.callRcu(() => this.kfreeRcuWork(krc, batch));
      return true;
    }
    return false;
  }

  /** kfree_rcu_work(): after the batch's grace period, free its blocks (from the newest) and its channel-3 list. */
  private kfreeRcuWork(krc: Krc, batch: Batch): void {
    batch.pending = false;
    const blocks = batch.bulkFree;
    const head = batch.headFree;
    batch.bulkFree = [];
    batch.headFree = [];
    for (const b of blocks) this.freeBlock(krc, b);
    this.freeList(head);
  }

  /** kvfree_rcu_bulk(): kfree_bulk() of the block's records, then its page to the cache or back to the buddy allocator. */
  private freeBlock(krc: Krc, b: BulkBlock): void {
    this.env.kfreeBulk(b.records);
    this.freed += b.records.length;
    if (krc.cache.length < RCU_MIN_CACHED_OBJS) krc.cache.push(b.page);
    else this.env.freePage(b.page);
  }

  /** kvfree_rcu_list(): channel 3, newest first, as the list is chained. */
  private freeList(head: number[]): void {
    for (let i = head.length - 1; i >= 0; i--) {
      this.env.kvfree(head[i]!);
      this.freed++;
    }
  }

  /** run_page_cache_worker(): refill the block cache now, or rcu_delay_page_cache_fill_msec later after the shrinker's call. */
  private runPageCacheWorker(krc: Krc): void {
    if (krc.workInProgress) return;
    krc.workInProgress = true;
    if (krc.backoffPageCacheFill) this.env.timers.modTimer(krc.pageWork, this.env.timers.now + RCU_DELAY_PAGE_CACHE_FILL_NS);
    else this.fillPageCache(krc);
  }

  /** fill_page_cache_func() */
  private fillPageCache(krc: Krc): void {
    const target = krc.backoffPageCacheFill ? 1 : RCU_MIN_CACHED_OBJS;
    for (let i = krc.cache.length; i < target; i++) {
      const page = this.env.getFreePage();
      if (page === 0) break;
      krc.cache.push(page);
    }
    krc.workInProgress = false;
    krc.backoffPageCacheFill = false;
  }

  /** kvfree_rcu_barrier(): every object queued so far is freed when it returns. */
  barrier(): void {
    const env = this.env;
    env.flushAllRcuSheaves?.();
    for (const krc of this.krcs) {
      while (this.needOffload(krc)) {
        if (this.queueBatch(krc)) break;
        // both batches in flight: flush_rcu_work() waits for them, then try again
        env.rcu.barrier();
      }
    }
    for (const krc of this.krcs) {
      env.timers.delTimer(krc.monitor);
      if (krc.batches.some((b) => b.pending)) env.rcu.barrier();
    }
  }

  /** kfree_rcu_shrink_count(): objects waiting plus cached pages; asks the page-cache worker to back off. */
  shrinkCount(): number {
    let n = 0;
    for (const krc of this.krcs) {
      n += this.count(krc) + krc.cache.length;
      krc.backoffPageCacheFill = true;
    }
    return n;
  }

  /** kfree_rcu_shrink_scan(): drain each CPU's page cache and run its monitor now, until nrToScan is covered. */
  shrinkScan(nrToScan: number): number {
    let freed = 0;
    for (const krc of this.krcs) {
      let count = this.count(krc);
      for (const page of krc.cache) this.env.freePage(page);
      count += krc.cache.length;
      krc.cache.length = 0;
      this.monitor(krc);
      nrToScan -= count;
      freed += count;
      if (nrToScan <= 0) break;
    }
    return freed;
  }

  /** What /proc readers and tests look at: per CPU, objects waiting (not yet in a batch), in flight (batched), cached pages. */
  stats(): { waiting: number; inFlight: number; blocks: number; cachedPages: number }[] {
    return this.krcs.map((krc) => {
      let inFlight = 0;
      let blocks = krc.bulk.length;
      for (const b of krc.batches) {
        for (const blk of b.bulkFree) inFlight += blk.records.length;
        inFlight += b.headFree.length;
        blocks += b.bulkFree.length;
      }
      return { waiting: this.count(krc), inFlight, blocks, cachedPages: krc.cache.length };
    });
  }
}
