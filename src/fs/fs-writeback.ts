/**
 * The flusher (fs/fs-writeback.c): the disk's one bdi_writeback, its list of
 * dirty inodes in the order they were dirtied (b_dirty, each with its
 * dirtied_when), and wb_workfn, the kworker that writes them back:
 *
 *  - periodically ("kupdate"): woken dirty_writeback_centisecs after the
 *    first inode is dirtied and again after each run while dirty inodes
 *    remain (wb_wakeup_delayed), it writes the inodes dirtied at least
 *    dirty_expire_centisecs ago (wb_check_old_data_flush, WB_REASON_PERIODIC);
 *  - in the background: while NR_FILE_DIRTY is above the background
 *    threshold (wb_check_background_flush, WB_REASON_BACKGROUND), woken at
 *    once by balance_dirty_pages;
 *  - on demand: sync(2) and syncfs(2) (WB_SYNC_ALL over every dirty inode).
 *
 * It runs on the virtual clock's timers (src/lib/timer.ts): "woken at once"
 * is a timer due now, run at the next poll (the writer's next page or its
 * pause). Its writes are asynchronous: the flusher submits and moves on, the
 * pages stay under writeback until their requests complete.
 *
 * This file knows nothing of the page cache: the vm half (page-writeback.ts)
 * hands it a WbHost that writes an inode's pages and reads the counters.
 *
 * Kept out: the b_io / b_more_io / b_dirty_time lists are folded into one
 * ordered walk of b_dirty per pass; the dirtytime (lazytime) inodes and
 * inode metadata writeback are not modelled (kmem has no inode timestamps).
 */
import { Timer, type TimerBase } from '../lib/timer.js';

/** enum wb_reason (include/linux/backing-dev-defs.h), for the work items. */
export const WB_REASON_BACKGROUND = 0;
export const WB_REASON_VMSCAN = 1;
export const WB_REASON_SYNC = 2;
export const WB_REASON_PERIODIC = 3;

/** MIN_WRITEBACK_PAGES: 4 MiB in pages (fs-writeback.c) */
export const MIN_WRITEBACK_PAGES = 4096 >> (12 - 10);

/** What the flusher needs of the page cache and the knobs. */
export interface WbHost {
  readonly timers: TimerBase;
  /** vm.dirty_writeback_centisecs */
  dirtyWritebackCentisecs(): number;
  /** vm.dirty_expire_centisecs */
  dirtyExpireCentisecs(): number;
  /** get_nr_dirty_pages(): NR_FILE_DIRTY */
  nrDirty(): number;
  /** wb_over_bg_thresh() */
  overBgThresh(): boolean;
  /** writeback_chunk_size()'s bandwidth and limit terms: min(avg_write_bandwidth / 2, dirty_limit / DIRTY_SCOPE) */
  chunkLimit(): number;
  /** wb_bandwidth_estimate_start() */
  bandwidthEstimateStart(): void;
  /** Submit up to nr of the inode's dirty pages for writeback (sync: WB_SYNC_ALL, waiting for pages under writeback); the pages submitted. */
  writeInode(ino: number, nr: number, sync: boolean): number;
  /** Does the inode still have dirty pages (mapping_tagged(PAGECACHE_TAG_DIRTY))? */
  inodeDirty(ino: number): boolean;
}

/** struct wb_writeback_work */
interface WbWork {
  nrPages: number;
  syncAll: boolean;
  forKupdate: boolean;
  forBackground: boolean;
  reason: number;
}

/** struct bdi_writeback of the one disk. */
export class BdiWriteback {
  /** b_dirty: ino -> dirtied_when (ns), in the order the inodes were dirtied */
  readonly bDirty = new Map<number, number>();
  /** last_old_flush (ns) */
  lastOldFlush: number;
  /** the queued work items (work_list) */
  private readonly works: WbWork[] = [];
  /** the dwork's timer */
  readonly timer: Timer;
  /** WB_writeback_running: wb_workfn is in wb_writeback now */
  running = false;
  /** each wb_workfn run, for tests: [time ns, reason, pages written] */
  readonly log: [number, number, number][] = [];

  constructor(readonly host: WbHost) {
    this.lastOldFlush = host.timers.now;
    this.timer = new Timer('wb_workfn', () => this.workfn());
  }

  /** wb_has_dirty_io() */
  hasDirtyIo(): boolean {
    return this.bDirty.size > 0;
  }

  /**
   * __mark_inode_dirty() for an inode with its first dirty page: it takes
   * dirtied_when = now and goes to the tail of b_dirty; when it is the wb's
   * first dirty inode, the flusher is woken dirty_writeback_centisecs later.
   */
  markInodeDirty(ino: number): void {
    if (this.bDirty.has(ino)) return;
    const wakeup = !this.hasDirtyIo();
    this.bDirty.set(ino, this.host.timers.now);
    if (wakeup) this.wakeupDelayed();
  }

  /** The inode is clean again (its writeback took every dirty page): off the list. */
  inodeClean(ino: number): void {
    if (!this.host.inodeDirty(ino)) this.bDirty.delete(ino);
  }

  /** wb_wakeup_delayed(): the work runs dirty_writeback_centisecs from now (an earlier pending run stays). */
  wakeupDelayed(): void {
    const cs = this.host.dirtyWritebackCentisecs();
    if (cs <= 0) return;
    const at = this.host.timers.now + cs * 10_000_000;
    if (this.timer.pending && this.timer.expires <= at) return;
    this.host.timers.modTimer(this.timer, at);
  }

  /** wb_wakeup(): run the work now (at the next poll of the timers). */
  wakeup(): void {
    this.host.timers.modTimer(this.timer, this.host.timers.now);
  }

  /** wb_start_background_writeback(): wake the flusher to check the background threshold. */
  startBackgroundWriteback(): void {
    if (!this.running) this.wakeup();
  }

  /** writeback_in_progress() */
  get inProgress(): boolean {
    return this.running || (this.timer.pending && this.timer.expires <= this.host.timers.now);
  }

  /** wakeup_flusher_threads(reason): a work item writing everything dirty, queued and the flusher woken. */
  wakeupFlusherThreads(reason: number): void {
    this.works.push({ nrPages: this.host.nrDirty(), syncAll: false, forKupdate: false, forBackground: false, reason });
    this.wakeup();
  }

  /**
   * wb_workfn() -> wb_do_writeback(): the queued works, then the periodic
   * and background checks; re-armed while dirty inodes remain.
   */
  workfn(): void {
    this.running = true;
    try {
      for (let w = this.works.shift(); w !== undefined; w = this.works.shift()) this.writeback(w);
      this.checkOldDataFlush();
      this.checkBackgroundFlush();
    } finally {
      this.running = false;
    }
    if (this.works.length > 0) this.wakeup();
    else if (this.hasDirtyIo()) this.wakeupDelayed();
  }

  /** wb_check_old_data_flush(): at most once per dirty_writeback_centisecs, write the expired inodes. */
  private checkOldDataFlush(): number {
    const cs = this.host.dirtyWritebackCentisecs();
    if (cs <= 0) return 0;
    const now = this.host.timers.now;
    if (now < this.lastOldFlush + cs * 10_000_000) return 0;
    this.lastOldFlush = now;
    const nr = this.host.nrDirty();
    if (nr === 0) return 0;
    return this.writeback({ nrPages: nr, syncAll: false, forKupdate: true, forBackground: false, reason: WB_REASON_PERIODIC });
  }

  /** wb_check_background_flush() */
  private checkBackgroundFlush(): number {
    if (!this.host.overBgThresh()) return 0;
    return this.writeback({ nrPages: Number.POSITIVE_INFINITY, syncAll: false, forKupdate: false, forBackground: true, reason: WB_REASON_BACKGROUND });
  }

  /**
   * writeback_chunk_size(): everything for WB_SYNC_ALL; else at most the
   * work's pages and min(bandwidth / 2, dirty_limit / DIRTY_SCOPE), plus
   * MIN_WRITEBACK_PAGES, rounded down to a multiple of it.
   */
  private chunkSize(work: WbWork): number {
    if (work.syncAll) return Number.POSITIVE_INFINITY;
    const pages = Math.min(this.host.chunkLimit(), work.nrPages);
    return Math.floor((pages + MIN_WRITEBACK_PAGES) / MIN_WRITEBACK_PAGES) * MIN_WRITEBACK_PAGES;
  }

  /**
   * wb_writeback(): passes over the inodes dirtied before the cut-off
   * (kupdate: now - dirty_expire_centisecs; others: now), oldest first,
   * each written a chunk at a time, until the work's pages are done, the
   * background work is below its threshold, or a pass writes nothing.
   * Returns the pages written.
   */
  writeback(work: WbWork): number {
    let wrote = 0;
    this.host.bandwidthEstimateStart();
    for (;;) {
      if (work.nrPages <= 0) break;
      if ((work.forBackground || work.forKupdate) && this.works.length > 0) break;
      if (work.forBackground && !this.host.overBgThresh()) break;
      const now = this.host.timers.now;
      const before = work.forKupdate ? now - this.host.dirtyExpireCentisecs() * 10_000_000 : now;
      // queue_io(): the expired inodes, in dirtied order.
      const io: number[] = [];
      for (const [ino, when] of this.bDirty) {
        if (when > before) break;
        io.push(ino);
      }
      if (io.length === 0) break;
      let progress = 0;
      for (const ino of io) {
        const chunk = this.chunkSize(work);
        const n = this.host.writeInode(ino, chunk, work.syncAll);
        progress += n;
        work.nrPages -= n;
        this.inodeClean(ino);
        if (work.nrPages <= 0) break;
        if (work.forBackground && !this.host.overBgThresh()) break;
      }
      wrote += progress;
      if (progress === 0) {
        // Nothing to write in the inodes listed: their pages went (truncate); drop them.
        for (const ino of io) this.inodeClean(ino);
        break;
      }
    }
    this.log.push([this.host.timers.now, work.reason, wrote]);
    return wrote;
  }

  /** sync_inodes_sb() / writeback_inodes_sb() with WB_SYNC_ALL: every dirty inode written (the caller waits). */
  syncAll(): number {
    return this.writeback({ nrPages: Number.POSITIVE_INFINITY, syncAll: true, forKupdate: false, forBackground: false, reason: WB_REASON_SYNC });
  }
}
