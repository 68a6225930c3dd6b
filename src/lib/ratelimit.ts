/**
 * __ratelimit() (lib/ratelimit.c) on kmem's virtual clock: at most `burst`
 * messages per `interval`; when a new interval begins after some were
 * dropped, "<func>: N callbacks suppressed" is printed first.
 */

/** DEFAULT_RATELIMIT_INTERVAL (5 * HZ) in nanoseconds, and DEFAULT_RATELIMIT_BURST. */
export const DEFAULT_RATELIMIT_INTERVAL_NS = 5_000_000_000;
export const DEFAULT_RATELIMIT_BURST = 10;

export class RateLimit {
  private begin = -1;
  private printed = 0;
  private missed = 0;

  constructor(
    /** The function the kernel names in the suppressed line (the caller of __ratelimit). */
    readonly func: string,
    readonly intervalNs = DEFAULT_RATELIMIT_INTERVAL_NS,
    readonly burst = DEFAULT_RATELIMIT_BURST,
  ) {}

  /**
   * May a message be printed at `nowNs`? `say` prints the suppressed-count
   * line (KERN_WARNING) when an interval with dropped messages has ended.
   */
  allow(nowNs: number, say: (line: string) => void): boolean {
    if (this.begin < 0) this.begin = nowNs;
    if (nowNs - this.begin > this.intervalNs) {
      if (this.missed > 0) {
        say(`${this.func}: ${this.missed} callbacks suppressed`);
        this.missed = 0;
      }
      this.begin = nowNs;
      this.printed = 0;
    }
    if (this.printed < this.burst) {
      this.printed++;
      return true;
    }
    this.missed++;
    return false;
  }
}
