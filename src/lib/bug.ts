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

/** Kinds of bug kmem reports; other strings are allowed for later kinds. */
export type KernelBugKind =
  | 'kasan'
  | 'slub'
  | 'bad_page'
  | 'double_free'
  | 'invalid_free'
  | 'bug'
  | (string & {});

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
