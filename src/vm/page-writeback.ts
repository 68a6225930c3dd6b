/**
 * Dirty page limits and writer throttling (mm/page-writeback.c of 6.18):
 * global_dirtyable_memory, domain_dirty_limits, balance_dirty_pages and
 * balance_dirty_pages_ratelimited, plus sync(2)/syncfs(2)/fsync(2)'s
 * writeback and wait, on the one disk's flusher (src/fs/fs-writeback.ts).
 *
 * Time: kmem's clock is global and kmem is single-threaded, so a task that
 * waits (on a read, on fsync's writeback, in a balance_dirty_pages pause)
 * moves the virtual clock forward by the wait; the timers due meanwhile (the
 * flusher, the disk's completions) run at their own times during it
 * (src/lib/timer.ts). Throttling arithmetic is in jiffies at HZ = 250, as
 * the kernel computes it.
 *
 * What is simplified, exactly:
 *  - One disk, one bdi_writeback, no memcg domains: the wb's share of the
 *    global threshold (its writeout fraction) is 1, so wb_thresh = thresh,
 *    wb_bg_thresh = bg_thresh and wb_dirty = dirty.
 *  - The estimators run as the kernel's (wb_update_write_bandwidth,
 *    wb_update_dirty_ratelimit, update_dirty_limit: every BANDWIDTH_INTERVAL
 *    from balance_dirty_pages, and BANDWIDTH_INTERVAL after a file's
 *    writeback ends), starting from INIT_BW (100 MB/s); the "inodes under
 *    writeback" test of wb_bandwidth_estimate_start is "no page under
 *    writeback".
 *  - A task's CPU time is not charged: between its waits, writing takes no
 *    virtual time (only the allocator's 50 ns per operation, Machine.syncClock),
 *    so a writer below the free-run ceiling dirties pages in no time at all.
 */

import { BdiWriteback, WB_REASON_PERIODIC, WB_REASON_VMSCAN } from '../fs/fs-writeback.js';
import type { Inode } from '../fs/rootfs.js';
import { Timer } from '../lib/timer.js';
import { MAX_NR_ZONES, Z_FREE } from '../page_alloc/mmzone.js';
import { totalreservePages } from '../proc/meminfo.js';
import { type PageCache, pageCache } from './filemap.js';
import { LRU_ACTIVE_FILE, LRU_INACTIVE_FILE } from './mm_inline.js';
import type { Vm } from './vm.js';

/** CONFIG_HZ (as src/slub/debug.ts: a distribution kernel's 250) */
export const HZ = 250;
const NS_PER_JIFFY = 1e9 / HZ;
const PAGE_SIZE = 4096;
const RATELIMIT_CALC_SHIFT = 10;
/** DIRTY_POLL_THRESH: 128 KiB in pages */
const DIRTY_POLL_THRESH = 128 >> 2;
/** MAX_PAUSE: max(HZ / 5, 1) jiffies (200 ms) */
const MAX_PAUSE = Math.max(Math.floor(HZ / 5), 1);
/** DIRTY_SCOPE */
const DIRTY_SCOPE = 8;
const UINT_MAX = 2 ** 32 - 1;

/** INIT_BW: 100 MB/s in pages per second, every estimate's starting point */
export const INIT_BW = 100 << (20 - 12);
/** BANDWIDTH_INTERVAL: max(HZ / 5, 1) jiffies (200 ms) between estimates */
const BANDWIDTH_INTERVAL = Math.max(Math.floor(HZ / 5), 1);

/** The dirty_throttle_control fields an estimate reads. */
interface Dtc {
  dirty: number;
  thresh: number;
  bgThresh: number;
  posRatio: number;
}

/** the dirty-throttling state of task_struct: nr_dirtied, nr_dirtied_pause, dirty_paused_when */
export interface DirtyTaskState {
  nrDirtied: number;
  nrDirtiedPause: number;
  /** jiffies, 0 when never paused */
  dirtyPausedWhen: number;
}

/** A balance_dirty_pages pause, as its tracepoint reports it (times in jiffies). */
export interface ThrottleEvent {
  atNs: number;
  dirty: number;
  thresh: number;
  bgThresh: number;
  posRatio: number;
  taskRatelimit: number;
  pause: number;
}

/** The writeback state of one machine: the flusher, the throttling controller. */
export class Writeback {
  readonly wb: BdiWriteback;
  /** wb->dirty_exceeded */
  dirtyExceeded = false;
  /** the dirty-throttling fields of each task (by its Task object) */
  private readonly tasks = new WeakMap<object, DirtyTaskState>();
  /** every pause balance_dirty_pages took (the balance_dirty_pages tracepoint) */
  readonly throttleLog: ThrottleEvent[] = [];
  /** wb->write_bandwidth, avg_write_bandwidth, dirty_ratelimit, balanced_dirty_ratelimit (pages/s) */
  writeBw = INIT_BW;
  avgWriteBw = INIT_BW;
  dirtyRatelimit = INIT_BW;
  balancedDirtyRatelimit = INIT_BW;
  /** wb->bw_time_stamp (jiffies), dirtied_stamp, written_stamp */
  bwTimeStamp: number;
  dirtiedStamp = 0;
  writtenStamp = 0;
  /** global_wb_domain.dirty_limit and dirty_limit_tstamp */
  domDirtyLimit: number;
  domDirtyLimitTstamp: number;
  /** wb->bw_dwork: the bandwidth update BANDWIDTH_INTERVAL after a file's writeback ends */
  private readonly bwTimer: Timer;
  /** bdp_ratelimits: pages dirtied on each CPU since a task last called in */
  readonly bdpRatelimits: Float64Array;
  /** ratelimit_pages: dirty_thresh / (CPUs * 32), at least 16 (writeback_set_ratelimit) */
  ratelimitPages = 32;
  /** dirty_throttle_leaks: pages exited tasks dirtied without calling in, per CPU, for the next dirtier */
  readonly dirtyThrottleLeaks: Float64Array;

  constructor(
    readonly vm: Vm,
    readonly pc: PageCache,
  ) {
    const sysctl = vm.k.proc.sysctl;
    this.wb = new BdiWriteback({
      timers: vm.k.timers,
      dirtyWritebackCentisecs: () => sysctl.dirtyWritebackCentisecs,
      dirtyExpireCentisecs: () => sysctl.dirtyExpireCentisecs,
      nrDirty: () => pc.nrDirty,
      overBgThresh: () => pc.nrDirty > globalDirtyLimits(vm).bgThresh,
      chunkLimit: () => Math.min(Math.floor(this.avgWriteBw / 2), Math.floor(this.domDirtyLimit / DIRTY_SCOPE)),
      bandwidthEstimateStart: () => this.bandwidthEstimateStart(),
      writeInode: (ino, nr, sync) => {
        const inode = vm.fs.byIno(ino);
        return inode === undefined ? 0 : pc.writePages(inode, nr, sync);
      },
      inodeDirty: (ino) => pc.spaces.get(ino)?.xa.tagged(0) === true,
    });
    pc.onInodeDirty = (ino) => this.wb.markInodeDirty(ino);
    const now = this.jiffies();
    this.bwTimeStamp = now;
    // page_writeback_init() -> writeback_set_ratelimit(): dirty_limit starts at the threshold.
    this.bdpRatelimits = new Float64Array(vm.k.cpus);
    this.dirtyThrottleLeaks = new Float64Array(vm.k.cpus);
    this.domDirtyLimit = 0;
    this.setRatelimit();
    this.domDirtyLimitTstamp = now;
    this.bwTimer = new Timer('wb_update_bandwidth_workfn', () => this.updateBandwidth(null));
    // wb_inode_writeback_end(): an estimate BANDWIDTH_INTERVAL after a file's last page under writeback completes.
    pc.onWritebackEnd = () => {
      if (!this.bwTimer.pending) vm.k.timers.modTimer(this.bwTimer, vm.k.timers.now + BANDWIDTH_INTERVAL * NS_PER_JIFFY);
    };
    // dirty_writeback_centisecs_handler(): a new non-zero interval wakes the flusher at once.
    sysctl.onDirtyWritebackChange = () => this.wb.wakeupFlusherThreads(WB_REASON_PERIODIC);
    // writeback_set_ratelimit(): a new dirty_ratio or dirty_bytes resets the domain's dirty_limit to the threshold.
    sysctl.onDirtyLimitChange = () => this.setRatelimit();
  }

  /** A task's throttling fields; a new task starts with nr_dirtied_pause = 128 KiB in pages (copy_process). */
  taskState(task: object): DirtyTaskState {
    let st = this.tasks.get(task);
    if (st === undefined) {
      st = { nrDirtied: 0, nrDirtiedPause: 128 >> 2, dirtyPausedWhen: 0 };
      this.tasks.set(task, st);
    }
    return st;
  }

  /** writeback_set_ratelimit(): dirty_limit to the threshold, ratelimit_pages = thresh / (CPUs * 32), at least 16. */
  setRatelimit(): void {
    const thresh = globalDirtyLimits(this.vm).thresh;
    this.domDirtyLimit = thresh;
    this.ratelimitPages = Math.max(16, Math.floor(thresh / (this.vm.k.cpus * 32)));
  }

  /** jiffies at HZ = 250 on the virtual clock */
  jiffies(): number {
    return Math.floor(this.vm.k.timers.now / NS_PER_JIFFY);
  }

  /** hard_dirty_limit(): the domain's dirty_limit, never below thresh */
  hardDirtyLimit(thresh: number): number {
    return Math.max(thresh, this.domDirtyLimit);
  }

  /**
   * __wb_update_bandwidth(): with a dtc (from balance_dirty_pages) the
   * domain's dirty_limit and the wb's dirty_ratelimit first, then the write
   * bandwidth from the pages written since the last estimate.
   */
  updateBandwidth(dtc: Dtc | null): void {
    const now = this.jiffies();
    const elapsed = Math.max(now - this.bwTimeStamp, 1);
    const dirtied = this.pc.nrDirtied;
    const written = this.pc.nrWritten;
    if (dtc !== null) {
      this.domainUpdateDirtyLimit(dtc, now);
      this.updateDirtyRatelimit(dtc, dirtied, elapsed);
    }
    this.updateWriteBandwidth(elapsed, written);
    this.dirtiedStamp = dirtied;
    this.writtenStamp = written;
    this.bwTimeStamp = now;
  }

  /**
   * wb_update_write_bandwidth(): the rate written over the interval, blended
   * into write_bandwidth over a 3 s (rounded to a power of two) period, and
   * avg_write_bandwidth moved 1/8 of the way when both agree on the direction.
   */
  private updateWriteBandwidth(elapsed: number, written: number): void {
    const period = roundupPowOfTwo(3 * HZ);
    let avg = this.avgWriteBw;
    const old = this.writeBw;
    let bw = (written - Math.min(written, this.writtenStamp)) * HZ;
    if (elapsed > period) {
      bw = Math.floor(bw / elapsed);
      avg = bw;
    } else {
      bw += old * (period - elapsed);
      bw = Math.floor(bw / period);
      if (avg > old && old >= bw) avg -= (avg - old) >> 3;
      if (avg < old && old <= bw) avg += (old - avg) >> 3;
    }
    this.writeBw = bw;
    this.avgWriteBw = Math.max(avg, 1);
  }

  /** domain_update_dirty_limit() / update_dirty_limit(): up to thresh at once, down 1/32 of the gap per interval. */
  private domainUpdateDirtyLimit(dtc: Dtc, now: number): void {
    if (now < this.domDirtyLimitTstamp + BANDWIDTH_INTERVAL) return;
    let limit = this.domDirtyLimit;
    if (limit < dtc.thresh) limit = dtc.thresh;
    else {
      const target = Math.max(dtc.thresh, dtc.dirty);
      if (limit > target) limit -= (limit - target) >> 5;
    }
    this.domDirtyLimit = limit;
    this.domDirtyLimitTstamp = now;
  }

  /**
   * wb_update_dirty_ratelimit(): balanced_dirty_ratelimit = task_ratelimit *
   * write_bw / dirty_rate (write_bw / N for N dirtiers), and dirty_ratelimit
   * stepped toward it only when task_ratelimit agrees on the side, by a step
   * shrunk as it gets close.
   */
  private updateDirtyRatelimit(dtc: Dtc, dirtied: number, elapsed: number): void {
    const freerun = dirtyFreerunCeiling(dtc.thresh, dtc.bgThresh);
    const limit = this.hardDirtyLimit(dtc.thresh);
    const setpoint = Math.floor((freerun + limit) / 2);
    const writeBw = this.avgWriteBw;
    let dirtyRatelimit = this.dirtyRatelimit;
    const dirtyRate = Math.floor(((dirtied - this.dirtiedStamp) * HZ) / elapsed);
    const taskRatelimit = Math.floor((dirtyRatelimit * dtc.posRatio) / 2 ** RATELIMIT_CALC_SHIFT) + 1;
    let balanced = Math.floor((taskRatelimit * writeBw) / (dirtyRate | 1));
    if (balanced > writeBw) balanced = writeBw;
    let step = 0;
    if (dtc.dirty < setpoint) {
      const x = Math.min(this.balancedDirtyRatelimit, balanced, taskRatelimit);
      if (dirtyRatelimit < x) step = x - dirtyRatelimit;
    } else {
      const x = Math.max(this.balancedDirtyRatelimit, balanced, taskRatelimit);
      if (dirtyRatelimit > x) step = dirtyRatelimit - x;
    }
    const shift = Math.floor(dirtyRatelimit / (2 * step + 1));
    step = shift < 64 ? Math.ceil(Math.floor(step / 2 ** shift) / 8) : 0;
    if (dirtyRatelimit < balanced) dirtyRatelimit += step;
    else dirtyRatelimit -= step;
    this.dirtyRatelimit = Math.max(dirtyRatelimit, 1);
    this.balancedDirtyRatelimit = balanced;
  }

  /** wb_bandwidth_estimate_start(): after more than a second idle, the estimate restarts from now. */
  bandwidthEstimateStart(): void {
    const now = this.jiffies();
    if (now - this.bwTimeStamp > HZ && this.pc.nrWriteback === 0) {
      this.dirtiedStamp = this.pc.nrDirtied;
      this.writtenStamp = this.pc.nrWritten;
      this.bwTimeStamp = now;
    }
  }
}

const states = new WeakMap<Vm, Writeback>();

/** The machine's writeback state (made with the page cache, so the first dirty page finds the flusher). */
export function writeback(vm: Vm): Writeback {
  let w = states.get(vm);
  if (w === undefined) {
    w = new Writeback(vm, pageCache(vm));
    states.set(vm, w);
  }
  return w;
}

/**
 * global_dirtyable_memory(): free pages less totalreserve_pages (never
 * below 0), plus the file LRU lists' pages (NR_INACTIVE_FILE +
 * NR_ACTIVE_FILE, pages isolated by reclaim not counted), plus 1 so it is never 0 (x86-64 has no
 * highmem to take out).
 */
export function globalDirtyableMemory(vm: Vm): number {
  const zones = vm.k.pageAlloc.zones;
  let free = 0;
  for (let z = 0; z < MAX_NR_ZONES; z++) free += zones.get(z, Z_FREE);
  let x = free - Math.min(free, totalreservePages(zones));
  x += vm.lruvec.size(LRU_INACTIVE_FILE) + vm.lruvec.size(LRU_ACTIVE_FILE);
  return x + 1;
}

/** The knobs domain_dirty_limits reads. */
export interface DirtyKnobs {
  dirtyRatio: number;
  dirtyBackgroundRatio: number;
  dirtyBytes: number;
  dirtyBackgroundBytes: number;
}

/**
 * domain_dirty_limits() of the global domain: the ratios are taken in
 * 1/PAGE_SIZE units ((ratio * 4096) / 100, rounded down) for precision,
 * so thresh = that * available / 4096; a bytes knob, when set, wins as
 * DIV_ROUND_UP(bytes, PAGE_SIZE). thresh is capped at UINT_MAX, and a
 * background threshold not below it becomes thresh / 2. (kmem's tasks are
 * not real-time: no 1/4 lift.)
 */
export function domainDirtyLimits(available: number, k: DirtyKnobs): { thresh: number; bgThresh: number } {
  const ratio = Math.floor((k.dirtyRatio * PAGE_SIZE) / 100);
  const bgRatio = Math.floor((k.dirtyBackgroundRatio * PAGE_SIZE) / 100);
  let thresh = k.dirtyBytes !== 0 ? Math.ceil(k.dirtyBytes / PAGE_SIZE) : Math.floor((ratio * available) / PAGE_SIZE);
  let bgThresh = k.dirtyBackgroundBytes !== 0 ? Math.ceil(k.dirtyBackgroundBytes / PAGE_SIZE) : Math.floor((bgRatio * available) / PAGE_SIZE);
  if (thresh > UINT_MAX) thresh = UINT_MAX;
  if (bgThresh >= thresh) bgThresh = Math.floor(thresh / 2);
  return { thresh, bgThresh };
}

/** global_dirty_limits(): the machine's thresholds now (vmstat's nr_dirty_threshold / nr_dirty_background_threshold). */
export function globalDirtyLimits(vm: Vm): { thresh: number; bgThresh: number } {
  return domainDirtyLimits(globalDirtyableMemory(vm), vm.k.proc.sysctl);
}

/** dirty_freerun_ceiling(): below (thresh + bg_thresh) / 2 dirty pages a writer is never throttled. */
export function dirtyFreerunCeiling(thresh: number, bgThresh: number): number {
  return Math.floor((thresh + bgThresh) / 2);
}

function ilog2(x: number): number {
  return x < 1 ? 0 : Math.floor(Math.log2(x));
}

function roundupPowOfTwo(x: number): number {
  return 2 ** Math.ceil(Math.log2(x));
}

/** dirty_poll_interval(): in the free-run zone, call back after 2^(ilog2(thresh - dirty) / 2) pages. */
export function dirtyPollInterval(dirty: number, thresh: number): number {
  if (thresh > dirty) return 1 << (ilog2(thresh - dirty) >> 1);
  return 1;
}

/**
 * pos_ratio_polynom(): 1 + ((setpoint - dirty) / (limit - setpoint))^3 in
 * fixed point (RATELIMIT_CALC_SHIFT), clamped to [0, 2]: the global control
 * line, 1 at the setpoint, 2 at freerun, 0 at the limit.
 */
export function posRatioPolynom(setpoint: number, dirty: number, limit: number): number {
  const x = Math.trunc(((setpoint - dirty) * 2 ** RATELIMIT_CALC_SHIFT) / ((limit - setpoint) | 1));
  let pos = x;
  pos = Math.floor((pos * x) / 2 ** RATELIMIT_CALC_SHIFT);
  pos = Math.floor((pos * x) / 2 ** RATELIMIT_CALC_SHIFT);
  pos += 1 << RATELIMIT_CALC_SHIFT;
  return Math.min(Math.max(pos, 0), 2 << RATELIMIT_CALC_SHIFT);
}

/**
 * wb_position_ratio() for the one wb (wb_thresh = thresh, wb_dirty = dirty):
 * the global polynomial, then the wb's linear control line around its
 * setpoint with a span of 8 * write_bw, and the boost below wb_thresh / 2.
 */
export function wbPositionRatio(dirty: number, thresh: number, bgThresh: number, writeBw: number, limit = thresh): number {
  const freerun = dirtyFreerunCeiling(thresh, bgThresh);
  if (dirty >= limit) return 0;
  const setpoint = Math.floor((freerun + limit) / 2);
  let pos = posRatioPolynom(setpoint, dirty, limit);
  // min(wb_thresh, thresh) then max(that, (limit - dirty) / 8): thresh itself for the one wb.
  const wbThresh = Math.max(thresh, Math.floor((limit - dirty) / 8));
  const x = Math.floor((wbThresh * 65536) / (thresh | 1));
  const wbSetpoint = Math.floor((setpoint * x) / 65536);
  const span = Math.floor(((thresh - wbThresh + 8 * writeBw) * x) / 65536);
  let xIntercept = wbSetpoint + span;
  if (dirty < xIntercept - Math.floor(span / 4)) pos = Math.floor((pos * (xIntercept - dirty)) / ((xIntercept - wbSetpoint) | 1));
  else pos = Math.floor(pos / 4);
  xIntercept = Math.floor(wbThresh / 2);
  if (dirty < xIntercept) {
    if (dirty > Math.floor(xIntercept / 8)) pos = Math.floor((pos * xIntercept) / dirty);
    else pos *= 8;
  }
  return pos;
}

/** wb_max_pause(): about the time to write wb_dirty at the bandwidth, at most MAX_PAUSE (jiffies). */
export function wbMaxPause(bw: number, wbDirty: number): number {
  const t = Math.floor(wbDirty / (1 + Math.floor(bw / roundupPowOfTwo(1 + Math.floor(HZ / 8))))) + 1;
  return Math.min(t, MAX_PAUSE);
}

/**
 * wb_min_pause(): the target pause (10 ms for one dirtier, at most half the
 * max pause), the pages to dirty before the next call (nr_dirtied_pause),
 * pushed up to DIRTY_POLL_THRESH where that fits in max_pause. Returns
 * [min pause in jiffies, nr_dirtied_pause].
 */
export function wbMinPause(bw: number, maxPause: number, taskRatelimit: number, dirtyRatelimit: number): [number, number] {
  const hi = ilog2(bw);
  const lo = ilog2(dirtyRatelimit);
  let t = Math.max(1, Math.floor(HZ / 100));
  if (hi > lo) t += Math.floor(((hi - lo) * (10 * HZ)) / 1024);
  t = Math.min(t, 1 + Math.floor(maxPause / 2));
  const pow = roundupPowOfTwo(HZ);
  let pages = Math.floor((dirtyRatelimit * t) / pow);
  if (pages < DIRTY_POLL_THRESH) {
    t = maxPause;
    pages = Math.floor((dirtyRatelimit * t) / pow);
    if (pages > DIRTY_POLL_THRESH) {
      pages = DIRTY_POLL_THRESH;
      t = Math.floor((HZ * DIRTY_POLL_THRESH) / dirtyRatelimit);
    }
  }
  const pause = Math.floor((HZ * pages) / (taskRatelimit + 1));
  if (pause > maxPause) {
    t = maxPause;
    pages = Math.floor((taskRatelimit * t) / pow);
  }
  return [pages >= DIRTY_POLL_THRESH ? 1 + Math.floor(t / 2) : t, pages];
}

/**
 * balance_dirty_pages(): the task has dirtied pagesDirtied pages since its
 * last call. Above the background threshold the flusher is started; in the
 * free-run zone (dirty + writeback at most (thresh + bg_thresh) / 2) the
 * task only sets its next poll interval;
 * above it, the flusher is started in the background and the task sleeps
 * for the period its rate limit (dirty_ratelimit * pos_ratio) gives those
 * pages, less the time since its last pause; with pos_ratio 0 (at or above
 * the limit) it sleeps max_pause at a time until the dirty count falls.
 */
export function balanceDirtyPages(w: Writeback, st: DirtyTaskState, pagesDirtied: number): void {
  const vm = w.vm;
  const pc = w.pc;
  const timers = vm.k.timers;
  let dirtyExceeded = false;
  for (;;) {
    const nowNs = timers.now;
    let now = Math.floor(nowNs / NS_PER_JIFFY);
    const dirty = pc.nrDirty + pc.nrWriteback;
    const { thresh, bgThresh } = globalDirtyLimits(vm);
    // Background writeback starts above bg_thresh (NR_FILE_DIRTY alone), free run or not (no laptop mode).
    if (pc.nrDirty > bgThresh && !w.wb.inProgress) w.wb.startBackgroundWriteback();
    if (dirty <= dirtyFreerunCeiling(thresh, bgThresh)) {
      st.dirtyPausedWhen = now;
      st.nrDirtied = 0;
      st.nrDirtiedPause = dirtyPollInterval(dirty, thresh);
      break;
    }
    if (!w.wb.inProgress) w.wb.startBackgroundWriteback();
    dirtyExceeded = dirty > thresh;
    const posRatio = wbPositionRatio(dirty, thresh, bgThresh, w.avgWriteBw, w.hardDirtyLimit(thresh));
    w.dirtyExceeded = dirtyExceeded;
    if (now >= w.bwTimeStamp + BANDWIDTH_INTERVAL) w.updateBandwidth({ dirty, thresh, bgThresh, posRatio });
    const bw = w.avgWriteBw;
    const dirtyRatelimit = w.dirtyRatelimit;
    const taskRatelimit = Math.floor((dirtyRatelimit * posRatio) / 2 ** RATELIMIT_CALC_SHIFT);
    const maxPause = wbMaxPause(bw, dirty);
    const [minPause, nrDirtiedPause] = wbMinPause(bw, maxPause, taskRatelimit, dirtyRatelimit);
    let pause: number;
    if (taskRatelimit === 0) {
      pause = maxPause;
    } else {
      const period = Math.floor((HZ * pagesDirtied) / taskRatelimit);
      pause = period;
      if (st.dirtyPausedWhen !== 0) pause -= now - st.dirtyPausedWhen;
      if (pause < minPause) {
        // Too short to sleep: the time is carried to the next call.
        if (pause < -HZ) {
          st.dirtyPausedWhen = now;
          st.nrDirtied = 0;
        } else if (period !== 0) {
          st.dirtyPausedWhen += period;
          st.nrDirtied = 0;
        } else if (st.nrDirtiedPause <= pagesDirtied) st.nrDirtiedPause += pagesDirtied;
        break;
      }
      if (pause > maxPause) {
        now += Math.min(pause - maxPause, maxPause);
        pause = maxPause;
      }
    }
    w.throttleLog.push({ atNs: nowNs, dirty, thresh, bgThresh, posRatio, taskRatelimit, pause });
    // io_schedule_timeout(pause): the clock moves; the flusher and the disk's completions run meanwhile.
    timers.sleep(pause * NS_PER_JIFFY);
    st.dirtyPausedWhen = now + pause;
    st.nrDirtied = 0;
    st.nrDirtiedPause = nrDirtiedPause;
    if (taskRatelimit !== 0) break;
    // wb_stat_error(): nr_cpu_ids * WB_STAT_BATCH (8 * (1 + ilog2(nr_cpu_ids))) pages of counter slack.
    if (dirty <= vm.k.cpus * 8 * (1 + ilog2(vm.k.cpus))) break;
  }
  // Left below the limit (or in free run): the wb is no longer over it.
  if (!dirtyExceeded && w.dirtyExceeded) w.dirtyExceeded = false;
}

/**
 * balance_dirty_pages_ratelimited() after a page of a write: the task's
 * nr_dirtied counts its newly dirtied pages; at nr_dirtied_pause (8 at most
 * while the wb is over its limit) the task balances. The timers due are
 * polled after, so a flusher woken in the background runs as the writer goes on.
 */
export function balanceDirtyPagesRatelimited(vm: Vm, task: object, newlyDirtied: number): void {
  const w = writeback(vm);
  const st = w.taskState(task);
  const cpu = vm.k.currentCpu;
  // folio_account_dirtied(): the task's and this CPU's counts
  st.nrDirtied += newlyDirtied;
  w.bdpRatelimits[cpu] = w.bdpRatelimits[cpu]! + newlyDirtied;
  let ratelimit = st.nrDirtiedPause;
  if (w.dirtyExceeded) ratelimit = Math.min(ratelimit, 32 >> 2);
  // A CPU that dirtied ratelimit_pages without any task calling in forces a call (many tasks at once).
  if (st.nrDirtied >= ratelimit) w.bdpRatelimits[cpu] = 0;
  else if (w.bdpRatelimits[cpu]! >= w.ratelimitPages) {
    w.bdpRatelimits[cpu] = 0;
    ratelimit = 0;
  }
  // The pages exited tasks left uncounted are taken on, up to this task's ratelimit.
  const leak = w.dirtyThrottleLeaks[cpu]!;
  if (leak > 0 && st.nrDirtied < ratelimit) {
    const n = Math.min(leak, ratelimit - st.nrDirtied);
    w.dirtyThrottleLeaks[cpu] = leak - n;
    st.nrDirtied += n;
  }
  if (st.nrDirtied >= ratelimit) balanceDirtyPages(w, st, st.nrDirtied);
  vm.k.timers.runDue();
}

/** do_exit()'s part: the pages the task dirtied since it last called in go to this CPU's dirty_throttle_leaks. */
export function writebackTaskExit(vm: Vm, task: object): void {
  const w = writeback(vm);
  const st = w.taskState(task);
  const cpu = vm.k.currentCpu;
  w.dirtyThrottleLeaks[cpu] = w.dirtyThrottleLeaks[cpu]! + st.nrDirtied;
  st.nrDirtied = 0;
}

/**
 * wakeup_flusher_threads(reason): the flusher woken to write every dirty
 * page (reclaim calls it with WB_REASON_VMSCAN when it meets dirty file
 * pages: 6.18's reclaim does not write file pages itself). It runs at the
 * next poll of the timers.
 */
export function wakeupFlusherThreads(vm: Vm, reason = WB_REASON_VMSCAN): void {
  writeback(vm).wb.wakeupFlusherThreads(reason);
}

/** Wait until every write request submitted so far has completed. */
function waitAll(vm: Vm): void {
  const pc = pageCache(vm);
  const timers = vm.k.timers;
  if (pc.bdev.busyUntilNs > timers.now) timers.advanceTo(pc.bdev.busyUntilNs);
  else timers.runDue();
}

/**
 * ksys_sync(): the flusher woken for everything (WB_REASON_SYNC), every
 * dirty inode written with WB_SYNC_ALL, the caller waiting for each write
 * to complete, then the disk's cache flushed.
 */
export function ksysSync(vm: Vm): void {
  const w = writeback(vm);
  const pc = w.pc;
  // Inodes dirtied while the flusher was not told (none in kmem) would be found by the tag walk.
  for (const [ino, as] of pc.spaces) if (as.xa.tagged(0)) w.wb.markInodeDirty(ino);
  w.wb.syncAll();
  waitAll(vm);
  flushAndWait(vm);
}

/** blkdev_issue_flush(): the disk's cache flushed, the caller waiting for it. */
function flushAndWait(vm: Vm): void {
  const timers = vm.k.timers;
  timers.sleep(pageCache(vm).bdev.flush(timers.now) * 1000);
}

/** syncfs(2): kmem has one file system, so as sync(2). */
export function syncFs(vm: Vm): void {
  ksysSync(vm);
}

/**
 * vfs_fsync_range() on a regular file: file_write_and_wait_range() (its
 * dirty pages written, the caller waiting for their completion), the inode
 * off the flusher's list once clean, then a cache flush.
 */
export function fsyncInode(vm: Vm, inode: Inode): void {
  const w = writeback(vm);
  w.pc.writeback(inode);
  w.wb.inodeClean(inode.ino);
  flushAndWait(vm);
}

/**
 * generic_write_sync() after a write to an O_DSYNC / O_SYNC file:
 * vfs_fsync_range() over the bytes written (their pages written and waited
 * for), then the cache flush.
 */
export function writeSync(vm: Vm, inode: Inode, pos: number, count: number): void {
  const w = writeback(vm);
  const pc = w.pc;
  pc.writePages(inode, Number.POSITIVE_INFINITY, true, Math.floor(pos / PAGE_SIZE), Math.floor((pos + count - 1) / PAGE_SIZE));
  const as = pc.spaces.get(inode.ino);
  if (as !== undefined) pc.waitWriteback(as);
  w.wb.inodeClean(inode.ino);
  flushAndWait(vm);
}
