/**
 * Read-copy update on the virtual clock (kernel/rcu/tree.c, in miniature).
 *
 * What kmem keeps of Tree RCU is what an allocator sees of it: callbacks
 * queued by call_rcu() run, in the order they were queued, once a full grace
 * period has elapsed after they were queued; synchronize_rcu() waits for
 * one; rcu_barrier() waits until every callback queued before it has run;
 * the polled grace-period API (get_state_synchronize_rcu() /
 * poll_state_synchronize_rcu()) answers whether a full grace period has
 * passed since a cookie was taken.
 *
 * Grace periods are numbered. `completed` counts the grace periods that have
 * ended. A cookie is the number of the grace period whose end satisfies it:
 * with none running, the next one (completed + 1); while one runs, the one
 * after it (completed + 2), since the running one may have started before
 * the cookie was taken (rcu_seq_snap()) — except at the very instant it was
 * requested: the grace-period kthread begins it after that, so callbacks
 * queued at once together share it. A grace period starts only when
 * something needs one (a callback, a synchronize_rcu(), a kfree_rcu batch):
 * an idle kmem machine has no other RCU users that would start them. Each
 * lasts RCU_GP_NS of virtual time, ending on a timer; a read-side critical
 * section (rcuReadLock/rcuReadUnlock) still open when that timer fires holds
 * the grace period until it closes, as a CPU that has not passed through a
 * quiescent state does.
 *
 * Not modelled: expedited grace periods, lazy callbacks (CONFIG_RCU_LAZY on
 * offloaded CPUs), per-CPU callback lists and their segmenting (one FIFO
 * stands for them), SRCU and Tasks RCU.
 */
import { Timer, type TimerBase } from './timer.js';

/** CONFIG_HZ of a distribution kernel: a jiffy is 4 ms. */
const JIFFY_NS = 4_000_000;
/**
 * A normal grace period's length: 2 jiffies. synchronize_rcu() through
 * membarrier(MEMBARRIER_CMD_GLOBAL) took 8-10 ms (median of 20) on this
 * project's 6.18 machine with HZ=250 (test/fixtures/rcu/gp_latency.c).
 */
export const RCU_GP_NS = 2 * JIFFY_NS;

export class Rcu {
  /** grace periods ended since boot (rcu_state.gp_seq >> RCU_SEQ_CTR_SHIFT) */
  completed = 0;
  /** a grace period is running */
  private inProgress = false;
  /** when it was requested: the GP kthread begins it after that instant, so what is queued at the same instant is covered */
  private gpStartNs = 0;
  /** the highest grace period something waits for (rcu_state.gp_seq_needed) */
  private needed = 0;
  /** its timer fired while a reader was inside a critical section: it ends at the last rcuReadUnlock */
  private heldByReader = false;
  /** rcu_read_lock() nesting */
  private readDepth = 0;
  /** queued callbacks and the grace period each waits for, in queue order */
  private readonly cbs: (() => void)[] = [];
  private readonly cbCookies: number[] = [];
  private cbHead = 0;
  private readonly gpTimer: Timer;
  /** callbacks run since boot */
  invoked = 0;

  constructor(private readonly timers: TimerBase) {
    this.gpTimer = new Timer('rcu_gp_kthread', () => this.gpTimerFired());
  }

  /** get_state_synchronize_rcu(): a cookie the end of the next full grace period satisfies. Starts none. */
  getState(): number {
    return this.completed + (this.inProgress && this.timers.now > this.gpStartNs ? 2 : 1);
  }

  /** poll_state_synchronize_rcu(): has a full grace period passed since the cookie was taken? */
  pollState(cookie: number): boolean {
    return this.completed >= cookie;
  }

  /** start_poll_synchronize_rcu(): a cookie, and a grace period started if none runs. */
  startPoll(): number {
    const cookie = this.getState();
    this.need(cookie);
    return cookie;
  }

  /** call_rcu(): run fn once a full grace period has elapsed. */
  callRcu(fn: () => void): void {
    const cookie = this.getState();
    this.cbs.push(fn);
    this.cbCookies.push(cookie);
    this.need(cookie);
  }

  /** Callbacks queued and not yet run. */
  get pendingCallbacks(): number {
    return this.cbs.length - this.cbHead;
  }

  /** synchronize_rcu(): wait (the clock moves, timers run) until a full grace period has passed. */
  synchronize(): void {
    this.waitFor(this.startPoll());
  }

  /** rcu_barrier(): wait until every callback queued so far has run. */
  barrier(): void {
    if (this.pendingCallbacks === 0) return;
    this.waitFor(this.cbCookies[this.cbCookies.length - 1]!);
  }

  /** rcu_read_lock() */
  readLock(): void {
    this.readDepth++;
  }

  /** rcu_read_unlock(): the outermost one lets a grace period held by this reader end. */
  readUnlock(): void {
    if (this.readDepth === 0) throw new Error('rcuReadUnlock: not inside an RCU read-side critical section');
    if (--this.readDepth === 0 && this.heldByReader) {
      this.heldByReader = false;
      this.endGp();
    }
  }

  /** Inside rcu_read_lock()? */
  get reading(): boolean {
    return this.readDepth > 0;
  }

  /** Wait until the cookie's grace period has ended. */
  private waitFor(cookie: number): void {
    if (this.readDepth > 0 && !this.pollState(cookie)) {
      // synchronize_rcu() inside rcu_read_lock(): the kernel deadlocks (lockdep says so).
      throw new Error('synchronize_rcu: called inside an RCU read-side critical section (it would wait for itself)');
    }
    while (!this.pollState(cookie)) {
      // (a grace period runs: the cookie was taken with one running or starting; no reader holds it, checked above)
      const due = this.gpTimer.expires;
      this.timers.advanceTo(due);
      // a wait from inside a running timer only moves the clock: end the grace period here
      if (this.gpTimer.expires === due) {
        this.timers.delTimer(this.gpTimer);
        this.gpTimerFired();
      }
    }
  }

  /** rcu_start_this_gp(): record that grace period `seq` is needed; begin one if none runs. */
  private need(seq: number): void {
    if (seq > this.needed) this.needed = seq;
    if (this.inProgress) return;
    this.inProgress = true;
    this.gpStartNs = this.timers.now;
    this.timers.modTimer(this.gpTimer, this.timers.now + RCU_GP_NS);
  }

  private gpTimerFired(): void {
    if (this.readDepth > 0) {
      this.heldByReader = true;
      return;
    }
    this.endGp();
  }

  /** rcu_gp_cleanup() + rcu_do_batch(): the callbacks this grace period satisfied run in queue order. */
  private endGp(): void {
    this.inProgress = false;
    this.completed++;
    const cbs = this.cbs;
    const cookies = this.cbCookies;
    while (this.cbHead < cbs.length && cookies[this.cbHead]! <= this.completed) {
      const fn = cbs[this.cbHead]!;
      this.cbHead++;
      this.invoked++;
      fn();
    }
    if (this.cbHead === cbs.length) {
      cbs.length = 0;
      cookies.length = 0;
      this.cbHead = 0;
    }
    // something queued or waiting during this grace period needs the next: it starts now
    if (!this.inProgress && this.needed > this.completed) this.need(this.needed);
  }
}
