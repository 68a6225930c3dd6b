/**
 * The printk ring buffer (kernel/printk/printk.c) with a virtual clock.
 *
 * Each printk() call is one record: its text, its log level and the clock at
 * the time of the call. A record may hold several lines; as the kernel does
 * when it prints a record, every line gets the record's timestamp prefix,
 * print_time()'s "[%5lu.%06lu]" and one space:
 *
 *   [    0.000000] Linux version ...
 *   [   53.424083] BUG kmalloc-32 (Tainted: G           O     ): Redzone overwritten
 *   [   53.424083]                      ← an empty line still carries "[...] "
 *
 * The seconds field is at least 5 wide and grows past 99999 s; the fraction
 * is always 6 digits of microseconds (the clock counts nanoseconds and the
 * rest is cut, not rounded).
 *
 * Log levels come the kernel's way, as a KERN_SOH ("\x01") prefix and a digit
 * at the start of the text; KERN_CONT ("\x01c") appends to the last record if
 * it was left open (its text did not end in a newline), like pr_cont(), and
 * otherwise starts a record of its own. A record without a level gets the
 * default, KERN_WARNING's 4 (as default_message_loglevel).
 *
 * The ring holds at most `logBufLen` characters of text (one per character
 * plus one per line for its newline); when a new record does not fit, the
 * oldest lines go, as they are overwritten in the kernel's log_buf. The
 * newest line always stays, even one longer than the whole ring.
 */

/** "\x01": the start of a log level in a printk text (KERN_SOH). */
export const KERN_SOH = '\x01';
export const KERN_EMERG = '\x010';
export const KERN_ALERT = '\x011';
export const KERN_CRIT = '\x012';
export const KERN_ERR = '\x013';
export const KERN_WARNING = '\x014';
export const KERN_NOTICE = '\x015';
export const KERN_INFO = '\x016';
export const KERN_DEBUG = '\x017';
export const KERN_CONT = '\x01c';

/** default_message_loglevel: the level of a printk() that names none. */
export const MESSAGE_LOGLEVEL_DEFAULT = 4;

/** Default ring size: 1 MiB of text. */
export const DEFAULT_LOG_BUF_LEN = 1 << 20;

const NSEC_PER_SEC = 1_000_000_000;

/** print_time(): "[%5lu.%06lu]" of a clock in nanoseconds, without the space. */
export function formatTimestamp(ns: number): string {
  const t = Math.floor(ns);
  const sec = Math.floor(t / NSEC_PER_SEC);
  const usec = Math.floor((t % NSEC_PER_SEC) / 1000);
  return `[${String(sec).padStart(5, ' ')}.${String(usec).padStart(6, '0')}]`;
}

/** One line of the ring: its text (no newline), level and timestamp. */
export interface PrintkLine {
  readonly text: string;
  readonly level: number;
  readonly ns: number;
}

export interface PrintkOptions {
  /** Ring size in characters of text (log_buf_len); default 1 MiB. */
  logBufLen?: number;
  /** Clock at creation, in nanoseconds; default 0. */
  startNs?: number;
}

export class Printk {
  /** Ring size in characters. */
  readonly logBufLen: number;
  // Lines live in parallel arrays from `first` on; dropped lines are cut off
  // the front in batches so that dropping stays O(1) amortised.
  private texts: string[] = [];
  private levels: number[] = [];
  private stamps: number[] = [];
  private first = 0;
  private size = 0;
  private ns: number;
  /** The last record's text did not end in a newline: KERN_CONT may extend it. */
  private open = false;

  constructor(options: PrintkOptions = {}) {
    const len = options.logBufLen ?? DEFAULT_LOG_BUF_LEN;
    if (!Number.isSafeInteger(len) || len <= 0) {
      throw new RangeError(`logBufLen must be a positive integer, got ${len}`);
    }
    const start = options.startNs ?? 0;
    if (!Number.isFinite(start) || start < 0) {
      throw new RangeError(`startNs must be a non-negative finite number, got ${start}`);
    }
    this.logBufLen = len;
    this.ns = start;
  }

  /** The virtual clock, in nanoseconds since boot (local_clock()). */
  get nowNs(): number {
    return this.ns;
  }

  /** The virtual clock, in seconds. */
  get seconds(): number {
    return this.ns / NSEC_PER_SEC;
  }

  /** Move the clock forward by `ns` nanoseconds. */
  advance(ns: number): void {
    if (!Number.isFinite(ns) || ns < 0) {
      throw new RangeError(`ns must be a non-negative finite number, got ${ns}`);
    }
    this.ns += ns;
  }

  /** Set the clock to `ns`; it never goes back. */
  setClock(ns: number): void {
    if (!Number.isFinite(ns) || ns < this.ns) {
      throw new RangeError(`ns must be a finite number not below the clock (${this.ns}), got ${ns}`);
    }
    this.ns = ns;
  }

  /** Number of lines held. */
  get length(): number {
    return this.texts.length - this.first;
  }

  /**
   * printk(): store `text` as one record at the current clock. The text may
   * start with a KERN_* level and may hold several lines; a final newline
   * closes the record, its absence leaves it open for KERN_CONT.
   */
  printk(text: string): void {
    let level = MESSAGE_LOGLEVEL_DEFAULT;
    let cont = false;
    if (text.length >= 2 && text[0] === KERN_SOH) {
      const c = text[1]!;
      if (c >= '0' && c <= '7') {
        level = c.charCodeAt(0) - 48;
        text = text.slice(2);
      } else if (c === 'c') {
        cont = true;
        text = text.slice(2);
      }
    }
    if (text === '') return;
    const ends = text.endsWith('\n');
    const lines = (ends ? text.slice(0, -1) : text).split('\n');
    let i = 0;
    if (cont && this.open && this.length > 0) {
      // pr_cont() extends the open record: its first line, its level.
      const last = this.texts.length - 1;
      this.size += lines[0]!.length;
      this.texts[last] += lines[0]!;
      level = this.levels[last]!;
      i = 1;
    }
    for (; i < lines.length; i++) this.push(lines[i]!, level);
    this.open = !ends;
    this.trim();
  }

  /** pr_cont(): printk(KERN_CONT + text). */
  cont(text: string): void {
    this.printk(KERN_CONT + text);
  }

  /** Every line with its "[%5lu.%06lu] " prefix, oldest first (dmesg). */
  dmesg(): string[] {
    const out: string[] = [];
    for (let i = this.first; i < this.texts.length; i++) {
      out.push(`${formatTimestamp(this.stamps[i]!)} ${this.texts[i]!}`);
    }
    return out;
  }

  /** Every line without its prefix, oldest first. */
  lines(): string[] {
    return this.texts.slice(this.first);
  }

  /** Every line with its level and timestamp, oldest first. */
  records(): PrintkLine[] {
    const out: PrintkLine[] = [];
    for (let i = this.first; i < this.texts.length; i++) {
      out.push({ text: this.texts[i]!, level: this.levels[i]!, ns: this.stamps[i]! });
    }
    return out;
  }

  /** dmesg -C: forget every line; the clock goes on. */
  clear(): void {
    this.texts = [];
    this.levels = [];
    this.stamps = [];
    this.first = 0;
    this.size = 0;
    this.open = false;
  }

  private push(text: string, level: number): void {
    this.texts.push(text);
    this.levels.push(level);
    this.stamps.push(this.ns);
    this.size += text.length + 1;
  }

  /** Drop the oldest lines until the text fits in logBufLen; the newest line always stays. */
  private trim(): void {
    while (this.size > this.logBufLen && this.first < this.texts.length - 1) {
      this.size -= this.texts[this.first]!.length + 1;
      this.first++;
    }
    if (this.first > 1024 && this.first * 2 > this.texts.length) {
      this.texts = this.texts.slice(this.first);
      this.levels = this.levels.slice(this.first);
      this.stamps = this.stamps.slice(this.first);
      this.first = 0;
    }
  }
}
