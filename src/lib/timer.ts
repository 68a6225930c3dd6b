/**
 * Timers on the virtual clock (kernel/time/timer.c's mod_timer/del_timer and
 * the delayed work queued on them, in miniature).
 *
 * kmem is single-threaded and its clock (printk's local_clock(), in ns) only
 * moves when something moves it: `k.tick(ns)`, a task that waits for I/O or
 * sleeps in balance_dirty_pages, and the 50 ns each allocator operation is
 * charged (Machine.syncClock). Timers run when the clock is moved through
 * this facility (`sleep`, `advanceTo`) or when a caller polls them
 * (`runDue`): each due timer runs in order of expiry, with the clock set to
 * its expiry time first, so a callback sees the time it was due at. The
 * clock's own ops-driven moves (syncClock) do not run timers: those run at
 * the next poll, late by at most that much.
 *
 * A timer whose callback waits (sleeps) while timers are running does not
 * run other timers from inside itself: the nested wait only moves the clock.
 * There is no timer wheel: a timer fires at its exact expiry, not rounded up
 * to the wheel's granularity as the kernel's (up to 1/8 of the timeout later).
 */

/** A timer_list: set with modTimer, cancelled with delTimer. */
export class Timer {
  /** jiffies-like expiry, in ns of the virtual clock; -1 when not pending */
  expires = -1;
  constructor(
    readonly name: string,
    readonly fn: () => void,
  ) {}
  /** timer_pending() */
  get pending(): boolean {
    return this.expires >= 0;
  }
}

/** What the timers need of the clock: read it and move it forward (never back). */
export interface Clock {
  readonly nowNs: number;
  setClock(ns: number): void;
}

export class TimerBase {
  /** pending timers, sorted by expiry (ties: the one set first runs first) */
  private readonly list: Timer[] = [];
  private running = false;

  constructor(readonly clock: Clock) {}

  get now(): number {
    return this.clock.nowNs;
  }

  /** mod_timer(): (re)arm t to fire at `expires` ns. */
  modTimer(t: Timer, expires: number): void {
    if (!Number.isFinite(expires)) throw new RangeError(`expires: expected a finite time in ns, got ${expires}`);
    if (t.expires >= 0) this.delTimer(t);
    t.expires = Math.max(0, expires);
    let i = this.list.length;
    while (i > 0 && this.list[i - 1]!.expires > t.expires) i--;
    this.list.splice(i, 0, t);
  }

  /** del_timer(): true when it was pending. */
  delTimer(t: Timer): boolean {
    if (t.expires < 0) return false;
    const i = this.list.indexOf(t);
    if (i >= 0) this.list.splice(i, 1);
    t.expires = -1;
    return true;
  }

  /** The expiry of the next timer, or Infinity. */
  nextExpiry(): number {
    return this.list.length > 0 ? this.list[0]!.expires : Number.POSITIVE_INFINITY;
  }

  /** Run every timer due by now (a poll: the clock does not move). */
  runDue(): void {
    if (this.list.length === 0 || this.list[0]!.expires > this.clock.nowNs) return;
    this.advanceTo(this.clock.nowNs);
  }

  /**
   * Move the clock to `target` ns (never back), running each timer that falls
   * due on the way at its own expiry time. Inside a running timer, only the
   * clock moves.
   */
  advanceTo(target: number): void {
    const c = this.clock;
    if (this.running) {
      if (target > c.nowNs) c.setClock(target);
      return;
    }
    this.running = true;
    try {
      for (;;) {
        const t = this.list[0];
        // (a callback that waited may have moved the clock past target: what is due by then runs too)
        if (t === undefined || t.expires > Math.max(target, c.nowNs)) break;
        this.list.shift();
        if (t.expires > c.nowNs) c.setClock(t.expires);
        t.expires = -1;
        t.fn();
      }
    } finally {
      this.running = false;
    }
    if (target > c.nowNs) c.setClock(target);
  }

  /** Wait ns nanoseconds (schedule_timeout, io_schedule_timeout): the clock moves, timers due meanwhile run. */
  sleep(ns: number): void {
    if (!Number.isFinite(ns) || ns < 0) throw new RangeError(`ns: expected a non-negative number of nanoseconds, got ${ns}`);
    this.advanceTo(this.clock.nowNs + ns);
  }
}
