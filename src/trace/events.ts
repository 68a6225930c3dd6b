/**
 * The kmem tracepoints (include/trace/events/kmem.h) as plain objects.
 *
 * One event kind per tracepoint, under the kernel's own name. Renamed
 * tracepoints map to today's name: `mm_page_free_direct` (2.6.3x) is
 * `mm_page_free`, `mm_pagevec_free` (2.6.3x) is `mm_page_free_batched`.
 *
 * What each kernel prints (TP_printk), as far as a parser cares:
 *
 *   kmalloc, kmem_cache_alloc
 *     <= 5.3   call_site=%lx ptr=%p bytes_req=%zu bytes_alloc=%zu gfp_flags=%s
 *     5.4/5.5+ call_site=%pS ...                     (symbol+off/len [module])
 *     5.19+    ... gfp_flags=%s accounted=%s
 *     6.1+     ... gfp_flags=%s node=%d accounted=%s (the _node events fold in)
 *     2025     kmem_cache_alloc: ptr=%p name=%s bytes_req=... (a 2025 patch,
 *              "Add kmem name to kmem_cache_alloc tracepoint"; 6.18-ish)
 *   kmalloc_node, kmem_cache_alloc_node (up to 6.0)
 *              as above with node=%d after gfp_flags (before accounted=)
 *   kfree      call_site=%lx|%pS ptr=%p
 *   kmem_cache_free
 *              call_site=%lx|%pS ptr=%p [name=%s: in 5.15, not in 5.4]
 *   mm_page_alloc
 *              page=%p pfn=%lu|0x%lx order=%d migratetype=%d gfp_flags=%s
 *   mm_page_free, mm_page_free_direct
 *              page=%p pfn=%lu|0x%lx order=%d
 *   mm_page_free_batched, mm_pagevec_free
 *              page=%p pfn=%lu|0x%lx order=0 [cold=%d in older kernels]
 *   mm_page_alloc_zone_locked
 *              page=%p pfn=%lu|0x%lx order=%u migratetype=%d percpu_refill=%d
 *   mm_page_pcpu_drain
 *              page=%p pfn=%lu|0x%lx order=%d migratetype=%d
 *
 * `%p` is hashed (`00000000xxxxxxxx`) from 4.15 on unless the kernel booted
 * with `no_hash_pointers`, so a pointer is kept as the text that was printed:
 * within one trace the same object always prints the same way, which is all
 * a replay needs to pair an allocation with its free.
 *
 * Objects come in three shapes (slab alloc, slab free, page), each always
 * built with the same fields in the same order so that code reading them
 * stays monomorphic per family.
 */

/** Slab allocations: kmalloc and kmem_cache_alloc, with or without _node. */
export type SlabAllocKind = 'kmalloc' | 'kmalloc_node' | 'kmem_cache_alloc' | 'kmem_cache_alloc_node';
/** Slab frees. */
export type SlabFreeKind = 'kfree' | 'kmem_cache_free';
/** Page allocator events. */
export type PageKind = 'mm_page_alloc' | 'mm_page_free' | 'mm_page_free_batched' | 'mm_page_alloc_zone_locked' | 'mm_page_pcpu_drain';

export type KmemEventKind = SlabAllocKind | SlabFreeKind | PageKind;

/** Every kind this module yields. */
export const KMEM_EVENT_KINDS: readonly KmemEventKind[] = [
  'kmalloc',
  'kmalloc_node',
  'kfree',
  'kmem_cache_alloc',
  'kmem_cache_alloc_node',
  'kmem_cache_free',
  'mm_page_alloc',
  'mm_page_free',
  'mm_page_free_batched',
  'mm_page_alloc_zone_locked',
  'mm_page_pcpu_drain',
];

/** The columns ftrace, trace-cmd and perf print before the event name. */
export interface TraceEventBase {
  /** 1-based line number in the file it came from; 0 when parsed alone. */
  lineNo: number;
  /** Task name (`<idle>`, `<...>` when ftrace lost it); '' when the line had no task column. */
  comm: string;
  /** Task id; -1 when the line had no task column. */
  pid: number;
  /** CPU number from `[003]`; -1 when the line had none. */
  cpu: number;
  /** Timestamp in seconds as printed; NaN when the line had none. */
  timestamp: number;
}

/** kmalloc, kmalloc_node, kmem_cache_alloc, kmem_cache_alloc_node. */
export interface SlabAllocEvent extends TraceEventBase {
  kind: SlabAllocKind;
  /**
   * The caller: a symbol as %pS prints it (`kmalloc_reserve+0x5b/0x90`,
   * with ` [module]` when in a module), the `(sym+off)` trace-cmd/perf
   * add in front, or the hex address as printed when no symbol is known.
   */
  callSite: string;
  /** The object's address as printed (hashed `00000000xxxxxxxx`, raw, or `0x...`). */
  ptr: string;
  bytesReq: number;
  bytesAlloc: number;
  /** gfp_flags as printed: `GFP_KERNEL|__GFP_ZERO`, `none`, or `0xcc0`. */
  gfp: string;
  /** The numeric gfp mask where the trace printed a number, else null. */
  gfpValue: number | null;
  /** node=%d (6.1+ and the _node events; -1 is NUMA_NO_NODE); null when not printed. */
  node: number | null;
  /** accounted=%s (5.19+); null when not printed. */
  accounted: boolean | null;
  /** Cache name (kmem_cache_alloc, from the 2025 patch on); null when not printed. */
  name: string | null;
}

/** kfree, kmem_cache_free. */
export interface SlabFreeEvent extends TraceEventBase {
  kind: SlabFreeKind;
  callSite: string;
  ptr: string;
  /** Cache name (kmem_cache_free, 5.1x on); null when not printed. */
  name: string | null;
}

/** mm_page_alloc, mm_page_free, mm_page_free_batched, mm_page_alloc_zone_locked, mm_page_pcpu_drain. */
export interface PageEvent extends TraceEventBase {
  kind: PageKind;
  /** The struct page address as printed; '' when not printed. */
  page: string;
  /** Page frame number (printed decimal before 5.x, `0x` hex after). */
  pfn: number;
  order: number;
  /** migratetype=%d; null for the events that do not print it. */
  migratetype: number | null;
  /** gfp_flags as printed (mm_page_alloc); null for the others. */
  gfp: string | null;
  gfpValue: number | null;
  /** percpu_refill=%d (mm_page_alloc_zone_locked); null for the others. */
  percpuRefill: number | null;
}

export type KmemEvent = SlabAllocEvent | SlabFreeEvent | PageEvent;

/** True for the four slab allocation kinds. */
export function isSlabAlloc(e: KmemEvent): e is SlabAllocEvent {
  return e.kind === 'kmalloc' || e.kind === 'kmem_cache_alloc' || e.kind === 'kmalloc_node' || e.kind === 'kmem_cache_alloc_node';
}

/** True for kfree and kmem_cache_free. */
export function isSlabFree(e: KmemEvent): e is SlabFreeEvent {
  return e.kind === 'kfree' || e.kind === 'kmem_cache_free';
}

/** True for the mm_page_* kinds. */
export function isPageEvent(e: KmemEvent): e is PageEvent {
  return e.kind.charCodeAt(0) === 0x6d; // 'm'
}

/**
 * The numeric value of a printed pointer (`ffff8880...`, `0xffff8880...`,
 * a hashed id), or null for `(null)`, `(____ptrval____)` and anything else
 * that is not hex.
 */
export function parsePtr(text: string): bigint | null {
  let s = text;
  if (s.length > 2 && s.charCodeAt(0) === 0x30 && (s.charCodeAt(1) | 0x20) === 0x78) s = s.slice(2);
  if (s.length === 0 || s.length > 16 || !/^[0-9a-fA-F]+$/.test(s)) return null;
  return BigInt(`0x${s}`);
}

/** True for a NULL pointer in any of the ways the kernel prints one. */
export function isNullPtr(text: string): boolean {
  if (text === '(null)') return true;
  const v = parsePtr(text);
  return v === 0n;
}

const QUOTE_MAX = 200;

/** The line as it is quoted in an error: JSON-escaped, cut after 200 characters. */
export function quoteLine(line: string): string {
  const q = JSON.stringify(line.length > QUOTE_MAX ? `${line.slice(0, QUOTE_MAX)}...` : line);
  // JSON leaves DEL and the C1 controls as they are: escape them too
  return q.replace(/[\x7f-\x9f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** Which text format a TraceParseError is about. */
export type TraceDialect = 'kmem' | 'malloc';

/**
 * A trace line that cannot be read. `line` is its text, `reason` says what
 * is wrong with it in a few words, `event` names the kmem event when the
 * line got that far. `file` and `lineNo` are set by the file readers.
 *
 * Messages:
 *   malformed kmem:kmalloc line: "<line>" (no bytes_alloc= field)
 *   unknown kmem event kmem:kmem_cache_bogus: "<line>"
 *   malformed trace line: "<line>" (NUL byte)
 *   malformed malloc-trace line: "<line>" (bad size "x")
 * and from a file, prefixed with `<file>:<lineNo>: `.
 */
export class TraceParseError extends Error {
  override name = 'TraceParseError';
  readonly line: string;
  readonly reason: string;
  readonly event: string | null;
  readonly file: string | null;
  readonly lineNo: number;
  readonly dialect: TraceDialect;

  constructor(line: string, reason: string, event: string | null = null, file: string | null = null, lineNo = 0, dialect: TraceDialect = 'kmem') {
    super(TraceParseError.format(line, reason, event, file, lineNo, dialect));
    this.line = line;
    this.reason = reason;
    this.event = event;
    this.file = file;
    this.lineNo = lineNo;
    this.dialect = dialect;
  }

  /** The same error, placed at `file:lineNo`. */
  at(file: string, lineNo: number): TraceParseError {
    return new TraceParseError(this.line, this.reason, this.event, file, lineNo, this.dialect);
  }

  static format(line: string, reason: string, event: string | null, file: string | null, lineNo: number, dialect: TraceDialect): string {
    const where = file === null ? '' : `${file}:${lineNo}: `;
    if (reason === UNKNOWN_EVENT) return `${where}unknown kmem event kmem:${event}: ${quoteLine(line)}`;
    const what = dialect === 'malloc' ? 'malloc-trace line' : event === null ? 'trace line' : `kmem:${event} line`;
    return `${where}malformed ${what}: ${quoteLine(line)} (${reason})`;
  }
}

/**
 * A well-formed event kmem refuses to perform (the allocator's argument
 * checks: gfp_flags naming zones that cannot go together, ...). It counts
 * as a bad line: --skip-bad skips it. Message:
 *   trace.txt:12: kmem:mm_page_alloc cannot be replayed: gfp 0x... combines zone modifiers ...
 */
export class TraceReplayError extends TraceParseError {
  override name = 'TraceReplayError';

  constructor(reason: string, event: string, file: string | null = null, lineNo = 0) {
    super('', reason, event, file, lineNo);
    this.message = `${file === null ? (lineNo > 0 ? `line ${lineNo}: ` : '') : `${file}:${lineNo}: `}kmem:${event} cannot be replayed: ${reason}`;
  }

  override at(file: string, lineNo: number): TraceReplayError {
    return new TraceReplayError(this.reason, this.event ?? '?', file, lineNo);
  }
}

/** The reason of a TraceParseError for an unknown kmem event name. */
export const UNKNOWN_EVENT = 'unknown kmem event';

/**
 * A trace file that cannot be opened: `code` is the errno name
 * ('ENOENT', 'EISDIR', 'EACCES', ...), the message is one line.
 */
export class TraceFileError extends Error {
  override name = 'TraceFileError';
  readonly code: string;
  readonly path: string;

  constructor(path: string, code: string, what: string) {
    super(`${path}: ${what}`);
    this.code = code;
    this.path = path;
  }
}
