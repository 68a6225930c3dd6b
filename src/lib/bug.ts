/**
 * KernelBug: what kmem throws, when asked to (`onBug: 'throw'`), after it has
 * printed a report the kernel would print for a bug it caught: a KASAN
 * report, a SLUB debug error, a bad page state, a double free.
 *
 * `message` is the report's first line that says something, so separator
 * lines made only of '=' or '-' are skipped: for a KASAN report that is
 * "BUG: KASAN: slab-use-after-free in ...", for SLUB debug
 * "BUG kmalloc-32 (Not tainted): Redzone overwritten". `report` holds the
 * whole text as printed (without timestamps), `kind` names the kind of bug.
 */

import { printTainted, printTaintedVerbose, TAINT_BAD_PAGE, TAINT_WARN, Taint } from './panic.js';
import type { Printk } from './printk.js';
import type { RateLimit } from './ratelimit.js';
import { captureStack, formatFrame } from './stacktrace.js';
import { UTS_RELEASE } from './utsrelease.js';

/** Kinds of bug kmem reports; other strings are allowed for later kinds. */
export type KernelBugKind = 'kasan' | 'slub' | 'bad_page' | 'double_free' | 'invalid_free' | 'bug' | (string & {});

/** The first line of `report` that is not blank and not a '='/'-' rule. */
function headline(report: string): string {
  for (const line of report.split('\n')) {
    if (/[^\s=-]/.test(line)) return line.trim();
  }
  return report.trim();
}

export class KernelBug extends Error {
  override readonly name = 'KernelBug';
  /** The whole report, lines joined by '\n'. */
  readonly report: string;
  /** What kind of bug was caught. */
  readonly kind: KernelBugKind;

  constructor(kind: KernelBugKind, report: string | readonly string[]) {
    const text = typeof report === 'string' ? report : report.join('\n');
    super(headline(text));
    this.kind = kind;
    this.report = text;
  }
}

// ───────────────────────── the report machinery (lib/bug.c, kernel/panic.c) ─────────────────────────

/** What a report needs to know of the machine it is printed on. */
export interface BugContext {
  readonly printk: Printk;
  /** 'report': print and go on; 'throw': print, then throw a KernelBug. */
  readonly onBug: 'report' | 'throw';
  /** The CPU that runs now. */
  cpu(): number;
  /** The task every report names ("by task comm/pid"). */
  task(): { readonly pid: number; readonly comm: string };
  /** Bring the virtual clock up to date before a record is stamped. */
  syncClock(): void;
  /** The release the "CPU:" line names (UTS_RELEASE unless the machine models another kernel). */
  readonly release?: string;
}

/**
 * How the kernel tells of trouble: WARN() (lib/bug.c's cut-here block, a
 * taint, go on), BUG() (the oops; kmem reports it and refuses the
 * operation), dump_stack(), the taint mask, and __ratelimit() on the
 * virtual clock. One per machine, shared by every layer's reports.
 */
export class BugReporter {
  readonly taint = new Taint();

  constructor(private readonly ctx: BugContext) {}

  /** printk() a block of lines at the current virtual time. */
  log(lines: readonly string[]): void {
    this.ctx.syncClock();
    this.ctx.printk.printk(`${lines.join('\n')}\n`);
  }

  /** add_taint(), printing "Disabling lock debugging" the first time lockdep becomes unreliable. */
  addTaint(flag: number, lockdepUnreliable: boolean): void {
    this.taint.add(flag, lockdepUnreliable, (line) => this.ctx.printk.printk(`${line}\n`));
  }

  /** print_tainted() of the machine now. */
  printTainted(): string {
    return printTainted(this.taint.mask);
  }

  /** A report for a bug the kernel catches (bad page, double free): printed, tainted, then onBug. */
  reportBug(kind: KernelBugKind, lines: string[]): void {
    this.log(lines);
    this.addTaint(TAINT_BAD_PAGE, true);
    if (this.ctx.onBug === 'throw') throw new KernelBug(kind, lines);
  }

  /** The CPU/Hardware/Call Trace block of dump_stack(). */
  dumpStack(): string[] {
    const task = this.ctx.task();
    const mask = this.taint.mask;
    const lines = [
      `CPU: ${this.ctx.cpu()} UID: 0 PID: ${task.pid} Comm: ${task.comm} ${printTainted(mask)} ${this.ctx.release ?? UTS_RELEASE} #1`,
      ...(mask !== 0 ? [printTaintedVerbose(mask)] : []),
      'Hardware name: kmem virtual machine, BIOS kmem 01/01/2026',
      'Call Trace:',
      ' <TASK>',
    ];
    for (const f of captureStack()) lines.push(formatFrame(f));
    lines.push(' </TASK>');
    return lines;
  }

  /** WARN() in `file`: the cut-here block with the stack; an empty text is a WARN_ON() (no message line). */
  warn(text: string, file = 'mm/slub.c'): void {
    const lines = ['------------[ cut here ]------------'];
    if (text !== '') lines.push(text);
    lines.push(`WARNING: CPU: ${this.ctx.cpu()} PID: ${this.ctx.task().pid} at ${file}`);
    lines.push('Modules linked in:');
    lines.push(...this.dumpStack());
    lines.push('---[ end trace 0000000000000000 ]---');
    this.log(lines);
    this.addTaint(TAINT_WARN, false);
  }

  /** A BUG_ON() in `file` the kernel would die of; kmem reports it and refuses the operation. */
  bugOn(where: string, text: string, file = 'mm/slub.c'): void {
    this.reportBug('bug', [
      '------------[ cut here ]------------',
      `kernel BUG at ${file}:${where}!`,
      'Oops: invalid opcode: 0000 [#1] PREEMPT SMP NOPTI',
      ...this.dumpStack(),
      `kmem: ${text}`,
    ]);
  }

  /** __ratelimit() on the virtual clock, printing its "callbacks suppressed" line. */
  ratelimited(rs: RateLimit): boolean {
    this.ctx.syncClock();
    return rs.allow(this.ctx.printk.nowNs, (line) => this.ctx.printk.printk(`${line}\n`));
  }
}
