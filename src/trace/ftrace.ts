/**
 * Parse one line of kmem tracepoint text, as the kernel's trace file,
 * trace_pipe, `trace-cmd report` and `perf script` print it.
 *
 * A line is, left to right (every part before the event name may be missing):
 *
 *   ftrace     <comm>-<pid> [(<tgid>)] [<cpu>] [<flags>] <ts>: <event>: <fields>
 *   trace-cmd  <comm>-<pid> [<cpu>] [<flags>] <ts>: <event>:   [(<sym>+<off>)] <fields>
 *   perf       <comm> <pid>[/<tid>] [<cpu>] <ts>:   kmem:<event>: <fields>
 *
 *   comm    may hold blanks and dashes: in ftrace the pid follows the last '-',
 *           in perf the pid is the last blank-separated token
 *   tgid    `(  123)` or `(-------)` with options/record-tgid
 *   flags   `....`, `d..1`, `.Ns..` (a fifth column came with migrate-disable)
 *   ts      seconds.micro(nano)seconds, or a bare counter
 *   fields  key=value separated by blanks; a value may be followed by
 *           ` (<decimal>)` (options/fields), and call_site by ` [<module>]`
 *
 * The timestamp is the first `<number>: ` in the line; the event name is the
 * token after it. A line with no timestamp is taken as an event only when its
 * first token is `<event>:` (headerless excerpts).
 *
 * Speed: the scanner reads bytes from a Uint8Array that lines up with the
 * line's string one to one (b[k] === s.charCodeAt(k) for every ASCII
 * character), because a typed-array load costs a fraction of a charCodeAt;
 * it jumps over long stretches with the string's native indexOf, compares
 * field names four bytes at a time, and takes the strings the event keeps
 * with s.slice(), which costs a fraction of decoding them from bytes. No
 * substring, regex or array is made per line in parseFtraceBytes: the only
 * allocations are the event object and its strings. Call sites and gfp
 * flags, which repeat line after line, come from a small intern table
 * instead: no allocation, and the replay's Map lookups of the same string
 * object find its hash cached.
 */

import { type EventColumns, ptrKeyBytes, type StringTable } from './columns.js';
import {
  KMEM_EVENT_KINDS,
  type KmemEvent,
  type PageEvent,
  type PageKind,
  type SlabAllocEvent,
  type SlabAllocKind,
  type SlabFreeEvent,
  type SlabFreeKind,
  TraceParseError,
  UNKNOWN_EVENT,
} from './events.js';

// ── character codes ────────────────────────────────────────────────────────
const TAB = 9;
const CR = 13;
const SPACE = 32;
const HASH = 35;
const LPAREN = 40;
const RPAREN = 41;
const DASH = 45;
const DOT = 46;
const SLASH = 47;
const D0 = 48;
const D9 = 57;
const COLON = 58;
const EQ = 61;
const LBRACKET = 91;
const RBRACKET = 93;
const UNDERSCORE = 95;
const LOWER_X = 120;

function isBlank(c: number): boolean {
  return c === SPACE || c === TAB;
}

function isDigit(c: number): boolean {
  return c >= D0 && c <= D9;
}

function isIdentChar(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= D0 && c <= D9) || c === UNDERSCORE || (c >= 65 && c <= 90);
}

function ascii(text: string): Uint8Array {
  const out = new Uint8Array(text.length);
  for (let k = 0; k < text.length; k++) out[k] = text.charCodeAt(k);
  return out;
}

/** True when b[a ..] starts with the bytes of word. */
function bytesAt(b: Uint8Array, a: number, word: Uint8Array): boolean {
  for (let k = 0; k < word.length; k++) if (b[a + k] !== word[k]) return false;
  return true;
}

// ── event names ────────────────────────────────────────────────────────────
const EV_UNKNOWN = 0;
/** A kmem tracepoint that says nothing about what is allocated: skipped. */
const EV_IGNORED = 1;
const EV_KMALLOC = 2;
const EV_KMALLOC_NODE = 3;
const EV_KMEM_CACHE_ALLOC = 4;
const EV_KMEM_CACHE_ALLOC_NODE = 5;
const EV_KFREE = 6;
const EV_KMEM_CACHE_FREE = 7;
const EV_MM_PAGE_ALLOC = 8;
const EV_MM_PAGE_FREE = 9;
const EV_MM_PAGE_FREE_BATCHED = 10;
const EV_MM_PAGE_ALLOC_ZONE_LOCKED = 11;
const EV_MM_PAGE_PCPU_DRAIN = 12;

const KIND_BY_ID: readonly string[] = [
  '',
  '',
  'kmalloc',
  'kmalloc_node',
  'kmem_cache_alloc',
  'kmem_cache_alloc_node',
  'kfree',
  'kmem_cache_free',
  'mm_page_alloc',
  'mm_page_free',
  'mm_page_free_batched',
  'mm_page_alloc_zone_locked',
  'mm_page_pcpu_drain',
];

/** Every tracepoint of include/trace/events/kmem.h, 2.6.32 to 6.x. */
const EVENT_NAMES: ReadonlyArray<readonly [string, number]> = [
  ['kmem_cache_free', EV_KMEM_CACHE_FREE],
  ['kmem_cache_alloc', EV_KMEM_CACHE_ALLOC],
  ['mm_page_alloc', EV_MM_PAGE_ALLOC],
  ['mm_page_free', EV_MM_PAGE_FREE],
  ['kfree', EV_KFREE],
  ['kmalloc', EV_KMALLOC],
  ['kmalloc_node', EV_KMALLOC_NODE],
  ['kmem_cache_alloc_node', EV_KMEM_CACHE_ALLOC_NODE],
  ['mm_page_free_batched', EV_MM_PAGE_FREE_BATCHED],
  ['mm_page_alloc_zone_locked', EV_MM_PAGE_ALLOC_ZONE_LOCKED],
  ['mm_page_pcpu_drain', EV_MM_PAGE_PCPU_DRAIN],
  // 2.6.3x names, renamed mm_page_free and mm_page_free_batched in 3.3.
  ['mm_page_free_direct', EV_MM_PAGE_FREE],
  ['mm_pagevec_free', EV_MM_PAGE_FREE_BATCHED],
  // Tracepoints of the same header that do not change what is allocated.
  ['mm_page_alloc_extfrag', EV_IGNORED],
  ['rss_stat', EV_IGNORED],
  ['mm_setup_per_zone_wmarks', EV_IGNORED],
  ['mm_setup_per_zone_lowmem_reserve', EV_IGNORED],
  ['mm_calculate_totalreserve_pages', EV_IGNORED],
  ['mm_alloc_contig_migrate_range_info', EV_IGNORED],
];

interface NameEntry {
  readonly bytes: Uint8Array;
  readonly id: number;
}

/** EVENT_NAMES by first letter ('k' or 'm'), the most frequent first. */
const NAMES_BY_FIRST: NameEntry[][] = [];
for (const [name, id] of EVENT_NAMES) {
  const c = name.charCodeAt(0);
  while (NAMES_BY_FIRST.length <= c) NAMES_BY_FIRST.push([]);
  NAMES_BY_FIRST[c]!.push({ bytes: ascii(name), id });
}

/** Where the name matchEvent matched ends: the index of its ':'. */
let matchEnd = 0;

/**
 * The id of the event whose name starts at b[a] and ends with a ':' before
 * end, EV_UNKNOWN if it is no kmem tracepoint. Tries the names that begin
 * with b[a], each first by where its ':' would be, so that no scan for the
 * ':' is needed.
 */
function matchEvent(b: Uint8Array, a: number, end: number): number {
  const bucket = NAMES_BY_FIRST[b[a]!];
  if (bucket === undefined) return EV_UNKNOWN;
  for (let k = 0; k < bucket.length; k++) {
    const entry = bucket[k]!;
    const e = a + entry.bytes.length;
    if (e < end && b[e] === COLON && bytesAt(b, a, entry.bytes)) {
      matchEnd = e;
      return entry.id;
    }
  }
  return EV_UNKNOWN;
}

/**
 * True when name (not a known tracepoint) still looks like a slab or page
 * allocation event: the kmalloc / kmem_cache_ / mm_page_ families, and under
 * an explicit `kmem:` kfree* too (with no subsystem shown kfree_skb is an
 * skb event).
 */
function looksLikeKmemEvent(name: string, kmemSubsystem: boolean): boolean {
  return name.startsWith('kmalloc') || name.startsWith('kmem_cache_') || name.startsWith('mm_page_') || (kmemSubsystem && name.startsWith('kfree'));
}

/** True when part is a proper prefix of a known event name. */
function isPrefixOfEventName(part: string): boolean {
  for (const [name] of EVENT_NAMES) if (name.length > part.length && name.startsWith(part)) return true;
  return false;
}

// ── words compared byte by byte ────────────────────────────────────────────
const K_KMEM = ascii('kmem');
const K_TRUE = ascii('true');
const K_FALSE = ascii('false');

// ── numbers ────────────────────────────────────────────────────────────────

/** Where the token timestampBefore read starts. */
let tsStart = 0;

/**
 * The timestamp that ends at b[e] (the ':' after it) and starts after a
 * blank or at i: "12.345678" seconds, or a bare counter "1234". NaN when the
 * token there is not digits with at most one '.' inside. Reads the token
 * once, right to left, and sets tsStart.
 */
function timestampBefore(b: Uint8Array, i: number, e: number): number {
  let t = e - 1;
  let acc = 0;
  let scale = 1;
  let frac = 0;
  let dot = false;
  for (; t >= i; t--) {
    const c = b[t]!;
    const d = c - D0;
    if (d >= 0 && d <= 9) {
      acc += d * scale;
      scale *= 10;
    } else if (c === DOT && !dot && scale > 1) {
      dot = true;
      frac = acc / scale;
      acc = 0;
      scale = 1;
    } else if (c === SPACE || c === TAB) break;
    else return Number.NaN;
  }
  if (scale === 1 || scale > 1e15) return Number.NaN;
  tsStart = t + 1;
  return acc + frac;
}

/** Where the last scanInt stopped. */
let scanEnd = 0;

/**
 * The integer at the start of b[a, e): optional '-', then decimal digits or
 * 0x and hex digits. Sets scanEnd after the last digit; NaN if no digit.
 */
function scanInt(b: Uint8Array, a: number, e: number): number {
  let k = a;
  let neg = false;
  if (k < e && b[k] === DASH) {
    neg = true;
    k++;
  }
  let v = 0;
  const d0 = k;
  if (k + 1 < e && b[k] === D0 && (b[k + 1]! | 0x20) === LOWER_X) {
    const h0 = k + 2;
    k = h0;
    for (; k < e; k++) {
      const c = b[k]!;
      let d: number;
      if (c >= D0 && c <= D9) d = c - D0;
      else {
        const l = c | 0x20;
        if (l >= 97 && l <= 102) d = l - 87;
        else break;
      }
      v = v * 16 + d;
    }
    if (k === h0) k = d0 + 1; // "0x" with no hex digit: the number is the 0
  } else {
    for (; k < e; k++) {
      const c = b[k]!;
      if (c < D0 || c > D9) break;
      v = v * 10 + (c - D0);
    }
    if (k === d0) {
      scanEnd = a;
      return Number.NaN;
    }
  }
  scanEnd = k;
  return neg ? -v : v;
}

/** b[a, e) as a decimal number of at most 15 digits, or NaN. */
function parseDecimal(b: Uint8Array, a: number, e: number): number {
  if (a >= e || e - a > 15) return Number.NaN;
  let v = 0;
  for (let k = a; k < e; k++) {
    const d = b[k]! - D0;
    if (d < 0 || d > 9) return Number.NaN;
    v = v * 10 + d;
  }
  return v;
}

/** The whole of b[a, e) as a safe integer, or NaN. */
function parseIntRange(b: Uint8Array, a: number, e: number): number {
  const v = scanInt(b, a, e);
  return scanEnd === e && Number.isSafeInteger(v) ? v : Number.NaN;
}

// ── repeated strings ───────────────────────────────────────────────────────
// Call sites and gfp flags are a few dozen strings repeated all through a
// trace. A direct-mapped table keyed by a hash of the bytes hands back the
// copy made the first time: a hit allocates nothing. (Task and cache names
// are short, so a slice of them is a cheap copy: they are not worth it.)

const INTERN_SLOTS = 4096;
/** Longer values are rare and seldom repeat: sliced as they are. */
const INTERN_MAX = 64;
const internTab: string[] = new Array<string>(INTERN_SLOTS).fill('');
/** The bytes of each table entry (its length is the string's). */
const internBytes = new Uint8Array(INTERN_SLOTS * INTERN_MAX);

/**
 * s[a, e) (b[a, e) its bytes), from the intern table when it was seen
 * before. The hash reads a few bytes only; the compare checks them all.
 */
function intern(b: Uint8Array, s: string, a: number, e: number): string {
  const n = e - a;
  if (n > INTERN_MAX || n < 2) return s.slice(a, e);
  const m = n >> 1;
  let h = Math.imul(n ^ (b[a]! << 8) ^ (b[a + 1]! << 16) ^ (b[a + m]! << 24), 0x9e3779b1);
  h = Math.imul(h ^ b[e - 1]! ^ (b[e - 2]! << 8) ^ (b[a + m - 1]! << 16), 0x85ebca6b);
  const at = (h ^ (h >>> 15)) & (INTERN_SLOTS - 1);
  const t = internTab[at]!;
  const pool = internBytes;
  const p0 = at * INTERN_MAX - a;
  if (t.length === n) {
    let k = a;
    while (k < e && pool[p0 + k] === b[k]) k++;
    if (k === e) return t;
  }
  // b holds 0x80 for any non-ASCII character of a line decoded on its own:
  // such text is not entered (its bytes do not tell it apart)
  let k = a;
  while (k < e && b[k]! < 0x80) k++;
  if (k < e) return s.slice(a, e);
  // a copy of its own: a slice would keep the chunk string alive in the table
  const own = ` ${s.slice(a, e)}`.slice(1);
  internTab[at] = own;
  pool.set(b.subarray(a, e), at * INTERN_MAX);
  return own;
}

// ── the line being parsed ──────────────────────────────────────────────────
// The parser is not re-entrant (it never calls out), so the fields of the
// line live in module state rather than in a per-line object.

let curB: Uint8Array = new Uint8Array(0);
let curS: string | null = null;
let curStart = 0;
let curEnd = 0;
let curEvent: string | null = null;

let fCallSiteA = -1;
let fCallSiteB = -1;
let fSymA = -1;
let fSymB = -1;
let fPtrA = -1;
let fPtrB = -1;
let fBytesReq = -1;
let fBytesAlloc = -1;
let fGfpA = -1;
let fGfpB = -1;
let fGfpValue: number | null = null;
let fNode: number | null = null;
let fAccounted: boolean | null = null;
let fNameA = -1;
let fNameB = -1;
let fPageA = -1;
let fPageB = -1;
let fPfn = -1;
let fOrder = -1;
let fMigratetype: number | null = null;
let fPercpuRefill: number | null = null;

function resetFields(): void {
  fCallSiteA = -1;
  fCallSiteB = -1;
  fSymA = -1;
  fSymB = -1;
  fPtrA = -1;
  fPtrB = -1;
  fBytesReq = -1;
  fBytesAlloc = -1;
  fGfpA = -1;
  fGfpB = -1;
  fGfpValue = null;
  fNode = null;
  fAccounted = null;
  fNameA = -1;
  fNameB = -1;
  fPageA = -1;
  fPageB = -1;
  fPfn = -1;
  fOrder = -1;
  fMigratetype = null;
  fPercpuRefill = null;
}

function fail(reason: string): never {
  throw new TraceParseError(textOf(curB, curS, curStart, curEnd), reason, curEvent);
}

function quoted(a: number, e: number): string {
  return JSON.stringify(textOf(curB, curS, a, e));
}

function badValue(key: string, a: number, e: number): never {
  fail(`bad ${key}= value ${quoted(a, e)}`);
}

// ── entry points ───────────────────────────────────────────────────────────

let scratch = new Uint8Array(512);
const NON_ASCII = /[^\x00-\x7f]/;

/**
 * Parse one trace line. Returns the kmem event it holds, or null for a blank
 * line, a comment, or any line that is not a kmem allocation event (other
 * tracepoints, callchain lines, shell prompts). Throws TraceParseError for a
 * kmem event line that cannot be read, and for binary data in the line
 * (a NUL, or U+FFFD where a decoder met invalid UTF-8).
 */
export function parseFtraceLine(line: string, lineNo = 0): KmemEvent | null {
  if (line.indexOf('\0') !== -1) throw new TraceParseError(line, 'NUL byte');
  if (line.indexOf('\uFFFD') !== -1) throw new TraceParseError(line, 'invalid UTF-8');
  const n = line.length;
  if (scratch.length < n) scratch = new Uint8Array(Math.max(n, scratch.length * 2));
  const b = scratch;
  if (NON_ASCII.test(line)) {
    for (let k = 0; k < n; k++) {
      b[k] = Math.min(line.charCodeAt(k), 0x80);
    }
  } else {
    for (let k = 0; k < n; k++) b[k] = line.charCodeAt(k);
  }
  return parseFtraceBytes(b, line, 0, n, lineNo);
}

/**
 * parseFtraceLine on the line at [start, end) of a buffer, given both as
 * bytes and as a string that line up one to one (b[k] === s.charCodeAt(k)
 * wherever either is ASCII; a non-ASCII character may be any byte >= 0x80).
 * The range holds no line break. Does not look for binary data: the file
 * readers check whole buffers for it.
 *
 * (The hot loops test characters inline: this function is too large for
 * V8 to inline every small helper into it.)
 */
export function parseFtraceBytes(b: Uint8Array, s: string, start: number, end: number, lineNo: number): KmemEvent | null {
  const id = scanLine(b, s, start, end, true, false);
  if (id < 0) return null;
  return buildEvent(id, lineNo, tComm, tPid, tCpu, lineTs);
}

/** The timestamp of the line scanLine read (NaN when it had none). */
let lineTs = Number.NaN;

/** b[a, e) as text: a slice of the line's string, or the bytes decoded as latin1 when there is none. */
function textOf(b: Uint8Array, s: string | null, a: number, e: number): string {
  if (s !== null) return s.slice(a, e);
  return latin1(b, a, e);
}

/**
 * b[a, e) decoded as latin1 (one character a byte). Only the byte-only
 * paths (node's file readers) come here; the module also runs in the
 * browser view, where there is no Buffer, so none is touched on loading.
 */
function latin1(b: Uint8Array, a: number, e: number): string {
  if (typeof Buffer !== 'undefined' && Buffer.isBuffer(b)) return b.toString('latin1', a, e);
  let out = '';
  for (let k = a; k < e; k++) out += String.fromCharCode(b[k]!);
  return out;
}

/** The index of the first ": " in b[a, end) (its ':'), or -1; with a string, its native indexOf. */
function colonSpace(b: Uint8Array, s: string | null, a: number, end: number): number {
  if (s !== null) {
    const k = s.indexOf(': ', a);
    return k !== -1 && k < end ? k : -1;
  }
  for (let k = a; k + 1 < end; k++) if (b[k] === COLON && b[k + 1] === SPACE) return k;
  return -1;
}

/**
 * Read the line at b[start, end) up to its fields: the event id (one of
 * EV_*, >= EV_KMALLOC), or -1 for a line that holds no kmem event. Sets
 * lineTs, tCpu (and tComm, tPid when wantComm) and the f* fields. With
 * s null the line is read from its bytes alone (no string is made unless
 * an error quotes it). `only` set: -1 at once for any event but
 * kmem_cache_alloc[_node] and kmem_cache_free (their fields unread).
 */
function scanLine(b: Uint8Array, s: string | null, start: number, end: number, wantComm: boolean, only: boolean, quick = false): number {
  let i = start;
  let c = 0;
  while (end > i) {
    c = b[end - 1]!;
    if (c !== CR && c !== SPACE && c !== TAB) break;
    end--;
  }
  while (i < end) {
    c = b[i]!;
    if (c !== SPACE && c !== TAB) break;
    i++;
  }
  if (i >= end) return -1;
  if (c === HASH) {
    noteHeader(b, i, end);
    return -1;
  }

  // ── where does the event name start? ─────────────────────────────────
  // At the first ": " after a number (the timestamp).
  let tsA = -1;
  let timestamp = Number.NaN;
  let evAt = -1;
  const fast = fastColumns(b, i, end);
  let k = -1;
  if (fast !== -1) {
    tsA = fastTsA;
    timestamp = fastTs;
    evAt = fast + 1;
  } else k = colonSpace(b, s, i, end);
  while (k !== -1) {
    timestamp = timestampBefore(b, i, k);
    if (!Number.isNaN(timestamp)) {
      tsA = tsStart;
      evAt = k + 1;
      break;
    }
    if (evAt === -1) {
      // "<event>: ..." with no header: the first token
      let t = k;
      while (t > i && !isBlank(b[t - 1]!)) t--;
      if (t === i) evAt = i;
    }
    k = colonSpace(b, s, k + 1, end);
  }
  if (evAt === -1) return -1;

  // ── the event name, with the subsystem perf puts in front ───────────────
  let j = evAt;
  while (j < end) {
    c = b[j]!;
    if (c !== SPACE && c !== TAB) break;
    j++;
  }
  let nameA = j;
  let id = matchEvent(b, nameA, end);
  let subsystem = false;
  if (id === EV_UNKNOWN && nameA + 5 < end && bytesAt(b, nameA, K_KMEM) && b[nameA + 4] === COLON) {
    // perf: "kmem:<event>:"
    subsystem = true;
    nameA += 5;
    id = matchEvent(b, nameA, end);
  }
  if (id === EV_UNKNOWN) return unknownEvent(b, s, start, end, nameA, tsA !== -1, subsystem);
  const colon = matchEnd;
  if (id === EV_IGNORED || (colon + 1 < end && b[colon + 1] !== SPACE && b[colon + 1] !== TAB)) return -1;
  if (only && id !== EV_KMEM_CACHE_ALLOC && id !== EV_KMEM_CACHE_ALLOC_NODE && id !== EV_KMEM_CACHE_FREE) {
    // no #P:N in a header: the CPUs the events name say how many there were
    if (fast !== -1) {
      if (fastCpu > maxCpu) maxCpu = fastCpu;
    } else if (traceHeader.cpus === 0 && tsA !== -1) {
      curB = b;
      curS = s;
      curStart = start;
      curEnd = end;
      curEvent = KIND_BY_ID[id]!;
      tCpu = -1;
      parseTaskColumns(b, s, i, tsA, false);
      if (tCpu > maxCpu) maxCpu = tCpu;
    }
    return -1;
  }
  curB = b;
  curS = s;
  curStart = start;
  curEnd = end;
  curEvent = KIND_BY_ID[id]!;
  lineTs = timestamp;

  // ── the columns before the timestamp ───────────────────────────────
  if (fast !== -1) {
    tComm = wantComm ? textOf(b, s, i, fastDash) : '';
    tPid = fastPid;
    tCpu = fastCpu;
  } else {
    tComm = '';
    tPid = -1;
    tCpu = -1;
    if (tsA !== -1) parseTaskColumns(b, s, i, tsA, wantComm);
  }
  if (tCpu > maxCpu) maxCpu = tCpu;

  if (!quick || !quickFields(id, b, colon + 1, end)) parseFields(b, s, colon + 1, end);
  return id;
}

// ── ftrace's own layout, read left to right ────────────────────────────────

let fastTsA = 0;
let fastTs = 0;
let fastDash = 0;
let fastPid = 0;
let fastCpu = 0;

/**
 * The columns of a line in ftrace's own layout, `<comm>-<pid> [<cpu>]
 * <flags> <seconds>.<fraction>: `, read left to right from the CPU column:
 * the index of the ':' after the timestamp (fast* set), or -1 for any other
 * layout (no CPU column, a TGID column, perf's, trace-cmd's without flags,
 * a bare counter), which the general scan reads. Reads what the general
 * scan would.
 */
function fastColumns(b: Uint8Array, i: number, end: number): number {
  let k = i;
  while (k < end && (b[k] !== LBRACKET || b[k - 1] !== SPACE)) k++;
  if (k >= end) return -1;
  k--;
  // the pid: the digits before the blanks before " [", after a '-'
  let t = k;
  while (t > i && b[t - 1] === SPACE) t--;
  let pid = 0;
  let scale = 1;
  let d = t - 1;
  for (; d > i; d--) {
    const v = b[d]! - D0;
    if (v < 0 || v > 9) break;
    pid += v * scale;
    scale *= 10;
  }
  if (d === t - 1 || d <= i || b[d] !== DASH || t - 1 - d > 15) return -1;
  // [<cpu>]: digits
  let j = k + 2;
  let cpu = 0;
  const c0 = j;
  for (; j < end; j++) {
    const v = b[j]! - D0;
    if (v < 0 || v > 9) break;
    cpu = cpu * 10 + v;
  }
  if (j === c0 || j - c0 > 15 || b[j] !== RBRACKET || b[j + 1] !== SPACE) return -1;
  j += 2;
  // the flags: one token of no digit (a digit here is trace-cmd's timestamp)
  const f0 = j;
  while (j < end && b[j] !== SPACE) {
    const c = b[j]!;
    if (c >= D0 && c <= D9 && j === f0) return -1;
    j++;
  }
  if (j === f0) return -1;
  while (j < end && b[j] === SPACE) j++;
  // <seconds>.<fraction>:
  const tsA = j;
  let whole = 0;
  for (; j < end; j++) {
    const v = b[j]! - D0;
    if (v < 0 || v > 9) break;
    whole = whole * 10 + v;
  }
  if (j === tsA || b[j] !== DOT) return -1;
  j++;
  const f1 = j;
  let frac = 0;
  let fs = 1;
  for (; j < end; j++) {
    const v = b[j]! - D0;
    if (v < 0 || v > 9) break;
    frac = frac * 10 + v;
    fs *= 10;
  }
  if (j === f1 || j - tsA > 16 || b[j] !== COLON || b[j + 1] !== SPACE) return -1;
  fastTsA = tsA;
  fastTs = whole + frac / fs;
  fastDash = d;
  fastPid = pid;
  fastCpu = cpu;
  return j;
}

// ── the trace header ───────────────────────────────────────────────────────

/** What the `#` header of a trace says: `entries-in-buffer/entries-written: A/B   #P:N`. */
export interface TraceHeader {
  /** #P:N, the CPUs the traced machine had online; 0 when not seen. */
  cpus: number;
  /** entries-in-buffer, entries-written; -1 when not seen. */
  entriesInBuffer: number;
  entriesWritten: number;
}

/** The header seen by the parser since the last resetTraceHeader(). */
export const traceHeader: TraceHeader = { cpus: 0, entriesInBuffer: -1, entriesWritten: -1 };

export function resetTraceHeader(): void {
  maxCpu = -1;
  traceHeader.cpus = 0;
  traceHeader.entriesInBuffer = -1;
  traceHeader.entriesWritten = -1;
}

let maxCpu = -1;

/** A row of CPU cpu was read (ftrace_fast.ts): count it in maxCpuSeen(). */
export function noteCpu(cpu: number): void {
  if (cpu > maxCpu) maxCpu = cpu;
}

/** The highest CPU number of the events read since resetTraceHeader() (-1: none). */
export function maxCpuSeen(): number {
  return maxCpu;
}

const K_ENTRIES = ascii('entries-in-buffer/entries-written:');

/** A '#' line: note #P:N and the entry counts of ftrace's header. */
function noteHeader(b: Uint8Array, i: number, end: number): void {
  let at = -1;
  for (let k = i + 1; k + K_ENTRIES.length <= end; k++) {
    if (b[k] === 0x65 && bytesAt(b, k, K_ENTRIES)) {
      at = k + K_ENTRIES.length;
      break;
    }
  }
  if (at === -1) return;
  while (at < end && isBlank(b[at]!)) at++;
  const inBuf = scanInt(b, at, end);
  if (Number.isNaN(inBuf) || scanEnd >= end || b[scanEnd] !== SLASH) return;
  const written = scanInt(b, scanEnd + 1, end);
  if (Number.isNaN(written)) return;
  traceHeader.entriesInBuffer = inBuf;
  traceHeader.entriesWritten = written;
  for (let k = scanEnd; k + 3 < end; k++) {
    if (b[k] === HASH && b[k + 1] === 0x50 && b[k + 2] === COLON) {
      const p = scanInt(b, k + 3, end);
      if (p > 0) traceHeader.cpus = p;
      break;
    }
  }
}

/**
 * A line whose event name, at b[nameA ..], is not one we parse: null, unless
 * it is cut short inside a kmem event's name ("...: kmem_cache_al") or names
 * an unknown event that looks like a kmem allocation event.
 */
function unknownEvent(b: Uint8Array, s: string | null, start: number, end: number, nameA: number, hasTimestamp: boolean, subsystem: boolean): -1 {
  let j = nameA;
  while (j < end && isIdentChar(b[j]!)) j++;
  if (j === nameA) return -1;
  if (j === end) {
    if (hasTimestamp && isPrefixOfEventName(textOf(b, s, nameA, j))) throw new TraceParseError(textOf(b, s, start, end), 'truncated event name');
    return -1;
  }
  if (b[j] !== COLON || (j + 1 < end && !isBlank(b[j + 1]!))) return -1;
  const name = textOf(b, s, nameA, j);
  if (looksLikeKmemEvent(name, subsystem)) throw new TraceParseError(textOf(b, s, start, end), UNKNOWN_EVENT, name);
  return -1;
}

let tComm = '';
let tPid = -1;
let tCpu = -1;

/**
 * The task and CPU columns in b[i, tsA) (everything before the timestamp)
 * into tComm, tPid, tCpu: "<comm>-<pid> [(<tgid>)] [<cpu>] <flags>" or
 * perf's "<comm> <pid>[/<tid>] [<cpu>]", any part missing.
 */
function parseTaskColumns(b: Uint8Array, s: string | null, i: number, tsA: number, wantComm: boolean): void {
  let c = 0;
  // the CPU column: the last ']' before the timestamp (past the flags)
  let rb = tsA - 1;
  while (rb >= i && b[rb] !== RBRACKET) rb--;
  let taskB = tsA;
  if (rb >= i) {
    let lb = rb - 1;
    while (lb >= i && b[lb] !== LBRACKET) lb--;
    if (lb < i) fail(`bad CPU column ${quoted(i, rb + 1)}`);
    let ca = lb + 1;
    while (ca < rb && b[ca] === SPACE) ca++;
    tCpu = parseDecimal(b, ca, rb);
    if (!(tCpu >= 0)) fail(`bad CPU column ${quoted(lb, rb + 1)}`);
    taskB = lb;
  }
  while (taskB > i) {
    c = b[taskB - 1]!;
    if (c !== SPACE && c !== TAB) break;
    taskB--;
  }
  if (taskB > i && b[taskB - 1] === RPAREN) {
    // (tgid) column
    let lp = taskB - 2;
    while (lp >= i && b[lp] !== LPAREN) lp--;
    if (lp < i) fail(`bad TGID column ${quoted(i, taskB)}`);
    taskB = lp;
    while (taskB > i) {
      c = b[taskB - 1]!;
      if (c !== SPACE && c !== TAB) break;
      taskB--;
    }
  }
  if (taskB <= i) return;
  // the pid: the digits at the end of the task column
  let k = taskB - 1;
  let pid = 0;
  let scale = 1;
  for (; k >= i; k--) {
    const d = b[k]! - D0;
    if (d < 0 || d > 9) break;
    pid += d * scale;
    scale *= 10;
  }
  if (k >= i && k < taskB - 1 && taskB - 1 - k <= 15) {
    c = b[k]!;
    if (c === DASH) {
      // ftrace: "<comm>-<pid>"
      tPid = pid;
      if (wantComm) tComm = textOf(b, s, i, k);
      return;
    }
    if (c === SLASH) {
      // perf: "<comm> <pid>/<tid>"
      const tidAt = k;
      k--;
      while (k >= i && isDigit(b[k]!)) k--;
      if (k < tidAt - 1) {
        pid = parseDecimal(b, k + 1, tidAt);
        c = k >= i ? b[k]! : 0;
      } else c = 0;
    }
    if ((c === SPACE || c === TAB) && k > i) {
      // perf: "<comm> <pid>"
      tPid = pid;
      while (k > i && isBlank(b[k - 1]!)) k--;
      if (wantComm) tComm = textOf(b, s, i, k);
      return;
    }
  }
  fail(`bad task-pid column ${quoted(i, taskB)}`);
}

// Field keys, as recognised by keyAt.
const KEY_OTHER = 0;
const KEY_CALL_SITE = 1;
const KEY_PTR = 2;
const KEY_BYTES_REQ = 3;
const KEY_BYTES_ALLOC = 4;
const KEY_GFP_FLAGS = 5;
const KEY_NODE = 6;
const KEY_ACCOUNTED = 7;
const KEY_NAME = 8;
const KEY_PAGE = 9;
const KEY_PFN = 10;
const KEY_ORDER = 11;
const KEY_MIGRATETYPE = 12;
const KEY_PERCPU_REFILL = 13;

/** Little-endian 32-bit word of 4 ASCII characters, as DataView.getUint32(.., true) reads them. */
function word(text: string): number {
  return (text.charCodeAt(0) | (text.charCodeAt(1) << 8) | (text.charCodeAt(2) << 16) | (text.charCodeAt(3) << 24)) >>> 0;
}

const W_CALL = word('call');
const W_SIT = word('_sit');
const W_PTR_EQ = word('ptr=');
const W_BYTE = word('byte');
const W_S_RE = word('s_re');
const W_S_AL = word('s_al');
const W_LOC_EQ = word('loc=');
const W_GFP = word('gfp_');
const W_FLAG = word('flag');
const W_NODE = word('node');
const W_NAME = word('name');
const W_PAGE = word('page');
const W_ACCO = word('acco');
const W_UNTE = word('unte');
const W_PFN_EQ = word('pfn=');
const W_ORDE = word('orde');
const W_MIGR = word('migr');
const W_ATET = word('atet');
const W_YPE_EQ = word('ype=');
const W_PERC = word('perc');
const W_PU_R = word('pu_r');
const W_EFIL = word('efil');

/** A DataView over the buffer the parser reads, to compare four bytes at a time. */
let view: DataView = new DataView(new ArrayBuffer(0));
let viewOf: Uint8Array | null = null;

/**
 * The key starting at b[ka], read four bytes at a time: no scan for '='.
 * Every byte of the key and the '=' after it is compared.
 */
function keyAt(b: Uint8Array, ka: number, end: number): number {
  if (ka + 5 > end) return KEY_OTHER;
  if (viewOf !== b) {
    view = new DataView(b.buffer, b.byteOffset, b.byteLength);
    viewOf = b;
  }
  const v = view;
  switch (v.getUint32(ka, true)) {
    case W_CALL:
      return ka + 9 < end && v.getUint32(ka + 4, true) === W_SIT && b[ka + 8] === 0x65 && b[ka + 9] === EQ ? KEY_CALL_SITE : KEY_OTHER;
    case W_PTR_EQ:
      return KEY_PTR;
    case W_BYTE:
      if (ka + 9 < end && v.getUint32(ka + 4, true) === W_S_RE) return b[ka + 8] === 0x71 && b[ka + 9] === EQ ? KEY_BYTES_REQ : KEY_OTHER;
      return ka + 11 < end && v.getUint32(ka + 4, true) === W_S_AL && v.getUint32(ka + 8, true) === W_LOC_EQ ? KEY_BYTES_ALLOC : KEY_OTHER;
    case W_GFP:
      return ka + 9 < end && v.getUint32(ka + 4, true) === W_FLAG && b[ka + 8] === 0x73 && b[ka + 9] === EQ ? KEY_GFP_FLAGS : KEY_OTHER;
    case W_NODE:
      return b[ka + 4] === EQ ? KEY_NODE : KEY_OTHER;
    case W_NAME:
      return b[ka + 4] === EQ ? KEY_NAME : KEY_OTHER;
    case W_PAGE:
      return b[ka + 4] === EQ ? KEY_PAGE : KEY_OTHER;
    case W_ACCO:
      return ka + 9 < end && v.getUint32(ka + 4, true) === W_UNTE && b[ka + 8] === 0x64 && b[ka + 9] === EQ ? KEY_ACCOUNTED : KEY_OTHER;
    case W_PFN_EQ:
      return KEY_PFN;
    case W_ORDE:
      return ka + 5 < end && b[ka + 4] === 0x72 && b[ka + 5] === EQ ? KEY_ORDER : KEY_OTHER;
    case W_MIGR:
      return ka + 11 < end && v.getUint32(ka + 4, true) === W_ATET && v.getUint32(ka + 8, true) === W_YPE_EQ ? KEY_MIGRATETYPE : KEY_OTHER;
    case W_PERC:
      return ka + 13 < end && v.getUint32(ka + 4, true) === W_PU_R && v.getUint32(ka + 8, true) === W_EFIL && b[ka + 12] === 0x6c && b[ka + 13] === EQ
        ? KEY_PERCPU_REFILL
        : KEY_OTHER;
  }
  return KEY_OTHER;
}

const KEY_LENGTH: readonly number[] = [0, 9, 3, 9, 11, 9, 4, 9, 4, 4, 3, 5, 11, 13];
const KEY_TEXT: readonly string[] = [
  '',
  'call_site',
  'ptr',
  'bytes_req',
  'bytes_alloc',
  'gfp_flags',
  'node',
  'accounted',
  'name',
  'page',
  'pfn',
  'order',
  'migratetype',
  'percpu_refill',
];

/** The key=value fields in b[j, end) into the f* variables. */
function parseFields(b: Uint8Array, s: string | null, j: number, end: number): void {
  resetFields();
  let c = 0;
  let first = true;
  for (;;) {
    while (j < end) {
      c = b[j]!;
      if (c !== SPACE && c !== TAB) break;
      j++;
    }
    if (j >= end) return;
    if (first && c === LPAREN) {
      // "(sym+off) " that the kmem plugin of trace-cmd and perf prints first
      let r = j + 1;
      while (r < end && b[r] !== RPAREN) r++;
      if (r >= end) fail('unterminated "("');
      fSymA = j + 1;
      fSymB = r;
      j = r + 1;
      first = false;
      continue;
    }
    first = false;
    const ka = j;
    const key = keyAt(b, ka, end);
    if (key === KEY_OTHER) {
      // a field no event here needs (cold=, nr_free=, ...), or junk
      while (j < end) {
        c = b[j]!;
        if (c === EQ || c === SPACE || c === TAB) break;
        j++;
      }
      if (j >= end || c !== EQ) {
        fail(j >= end && isIdentChar(b[ka]!) ? `truncated at ${quoted(ka, j)}` : `unexpected ${quoted(ka, j)}`);
      }
      while (j < end) {
        c = b[j]!;
        if (c === SPACE || c === TAB) break;
        j++;
      }
      if (j + 1 < end && b[j + 1] === LPAREN) j = skipParen(b, j, end);
      continue;
    }
    const va = ka + KEY_LENGTH[key]! + 1;
    if (key <= KEY_PTR || key === KEY_GFP_FLAGS || key === KEY_NAME || key === KEY_PAGE) {
      // a text value, often long: the string's native indexOf finds its end
      if (s !== null) {
        j = s.indexOf(' ', va);
        if (j === -1 || j > end) j = end;
      } else {
        j = va;
        while (j < end && b[j] !== SPACE) j++;
      }
    } else {
      j = va;
      while (j < end) {
        c = b[j]!;
        if (c === SPACE || c === TAB) break;
        j++;
      }
    }
    const vb = j;
    // " (<decimal>)" after a value: options/fields
    let pa = -1;
    let pb = -1;
    if (j + 1 < end && b[j + 1] === LPAREN) {
      const r = skipParen(b, j, end);
      if (r !== j) {
        pa = j + 2;
        pb = r - 1;
        j = r;
      }
    }
    j = storeField(key, va, vb, pa, pb, j);
  }
}

/** After " (" at b[j], the index past the matching ')', or j if there is none on the line. */
function skipParen(b: Uint8Array, j: number, end: number): number {
  let r = j + 2;
  while (r < end && b[r] !== RPAREN) r++;
  return r < end ? r + 1 : j;
}

let numberOut = 0;

/**
 * Read a number field into numberOut: the (decimal) of options/fields when
 * there is one, else the value. Returns where the field loop goes on:
 * trace-cmd has been seen to print "bytes_req=56bytes_alloc=64", so a
 * number followed at once by another key=value ends there.
 */
function numberField(key: number, va: number, vb: number, pa: number, pb: number, next: number, unsigned: boolean): number {
  const b = curB;
  let v: number;
  if (pa !== -1) {
    v = parseIntRange(b, pa, pb);
    if (Number.isNaN(v)) v = parseIntRange(b, va, vb);
  } else {
    v = scanInt(b, va, vb);
    const stop = scanEnd;
    if (stop !== vb) {
      let eq = stop;
      while (eq < vb && b[eq] !== EQ) eq++;
      if (stop > va && eq < vb && isIdentChar(b[stop]!) && !isDigit(b[stop]!)) next = stop;
      else v = Number.NaN;
    }
    if (!Number.isSafeInteger(v)) v = Number.NaN;
  }
  if (Number.isNaN(v) || (unsigned && v < 0)) badValue(KEY_TEXT[key]!, va, vb);
  numberOut = v;
  return next;
}

/** Record one key=value of the line; returns where the field loop goes on. */
function storeField(key: number, va: number, vb: number, pa: number, pb: number, next: number): number {
  const b = curB;
  switch (key) {
    case KEY_CALL_SITE:
      if (vb === va) badValue('call_site', va, vb);
      fCallSiteA = va;
      fCallSiteB = vb;
      // " [module]" after a %pS symbol
      if (pa === -1 && next + 1 < curEnd && b[next + 1] === LBRACKET) {
        let r = next + 2;
        while (r < curEnd && b[r] !== RBRACKET && !isBlank(b[r]!)) r++;
        if (r < curEnd && b[r] === RBRACKET) {
          fCallSiteB = r + 1;
          next = r + 1;
        }
      }
      return next;
    case KEY_PTR:
      if (vb === va) badValue('ptr', va, vb);
      fPtrA = va;
      fPtrB = vb;
      return next;
    case KEY_BYTES_REQ:
      next = numberField(key, va, vb, pa, pb, next, true);
      fBytesReq = numberOut;
      return next;
    case KEY_BYTES_ALLOC:
      next = numberField(key, va, vb, pa, pb, next, true);
      fBytesAlloc = numberOut;
      return next;
    case KEY_GFP_FLAGS: {
      if (vb === va) badValue('gfp_flags', va, vb);
      fGfpA = va;
      fGfpB = vb;
      let v = Number.NaN;
      if (pa !== -1) v = parseIntRange(b, pa, pb);
      else if (vb - va > 2 && b[va] === D0 && (b[va + 1]! | 0x20) === LOWER_X) v = parseIntRange(b, va, vb);
      fGfpValue = Number.isNaN(v) ? null : v;
      return next;
    }
    case KEY_NODE:
      next = numberField(key, va, vb, pa, pb, next, false);
      fNode = numberOut;
      return next;
    case KEY_ACCOUNTED:
      fAccounted = parseBool(va, vb, pa, pb);
      return next;
    case KEY_NAME:
      fNameA = va;
      fNameB = vb;
      return next;
    case KEY_PAGE:
      fPageA = va;
      fPageB = vb;
      return next;
    case KEY_PFN:
      next = numberField(key, va, vb, pa, pb, next, true);
      fPfn = numberOut;
      return next;
    case KEY_ORDER:
      next = numberField(key, va, vb, pa, pb, next, true);
      fOrder = numberOut;
      return next;
    case KEY_MIGRATETYPE:
      next = numberField(key, va, vb, pa, pb, next, false);
      fMigratetype = numberOut;
      return next;
    case KEY_PERCPU_REFILL:
      next = numberField(key, va, vb, pa, pb, next, false);
      fPercpuRefill = numberOut;
      return next;
  }
  return next;
}

/** accounted=true|false, or (0)/(1) as options/fields prints a bool. */
function parseBool(va: number, vb: number, pa: number, pb: number): boolean {
  const b = curB;
  const n = vb - va;
  if (n === 4 && bytesAt(b, va, K_TRUE)) return true;
  if (n === 5 && bytesAt(b, va, K_FALSE)) return false;
  let a = va;
  let e = vb;
  if (pa !== -1 && n === 0) {
    a = pa;
    e = pb;
  } else if (n === 3 && b[va] === LPAREN && b[vb - 1] === RPAREN) {
    a = va + 1;
    e = vb - 1;
  }
  if (e - a === 1) {
    if (b[a] === D0) return false;
    if (b[a] === D0 + 1) return true;
  }
  badValue('accounted', va, vb);
}

function requireField(present: boolean, key: string): void {
  if (!present) fail(`no ${key}= field`);
}

/** Build the event object; every object of a family has the same shape. */
function buildEvent(id: number, lineNo: number, comm: string, pid: number, cpu: number, timestamp: number): KmemEvent {
  const s = curS!;
  if (id <= EV_KMEM_CACHE_ALLOC_NODE) {
    requireField(fCallSiteA !== -1, 'call_site');
    requireField(fPtrA !== -1, 'ptr');
    requireField(fBytesReq !== -1, 'bytes_req');
    requireField(fBytesAlloc !== -1, 'bytes_alloc');
    requireField(fGfpA !== -1, 'gfp_flags');
    const e: SlabAllocEvent = {
      kind: KIND_BY_ID[id] as SlabAllocKind,
      lineNo,
      comm,
      pid,
      cpu,
      timestamp,
      callSite: callSiteText(),
      ptr: s.slice(fPtrA, fPtrB),
      bytesReq: fBytesReq,
      bytesAlloc: fBytesAlloc,
      gfp: intern(curB, s, fGfpA, fGfpB),
      gfpValue: fGfpValue,
      node: fNode,
      accounted: fAccounted,
      name: fNameA === -1 ? null : s.slice(fNameA, fNameB),
    };
    return e;
  }
  if (id <= EV_KMEM_CACHE_FREE) {
    requireField(fCallSiteA !== -1, 'call_site');
    requireField(fPtrA !== -1, 'ptr');
    const e: SlabFreeEvent = {
      kind: KIND_BY_ID[id] as SlabFreeKind,
      lineNo,
      comm,
      pid,
      cpu,
      timestamp,
      callSite: callSiteText(),
      ptr: s.slice(fPtrA, fPtrB),
      name: fNameA === -1 ? null : s.slice(fNameA, fNameB),
    };
    return e;
  }
  requireField(fPfn !== -1, 'pfn');
  if (id === EV_MM_PAGE_FREE_BATCHED) {
    if (fOrder === -1) fOrder = 0; // "order=0" is part of its format text
  } else requireField(fOrder !== -1, 'order');
  if (id === EV_MM_PAGE_ALLOC || id === EV_MM_PAGE_ALLOC_ZONE_LOCKED || id === EV_MM_PAGE_PCPU_DRAIN) {
    requireField(fMigratetype !== null, 'migratetype');
  }
  if (id === EV_MM_PAGE_ALLOC) requireField(fGfpA !== -1, 'gfp_flags');
  if (id === EV_MM_PAGE_ALLOC_ZONE_LOCKED) requireField(fPercpuRefill !== null, 'percpu_refill');
  const e: PageEvent = {
    kind: KIND_BY_ID[id] as PageKind,
    lineNo,
    comm,
    pid,
    cpu,
    timestamp,
    page: fPageA === -1 ? '' : s.slice(fPageA, fPageB),
    pfn: fPfn,
    order: fOrder,
    migratetype: fMigratetype,
    gfp: fGfpA === -1 ? null : intern(curB, s, fGfpA, fGfpB),
    gfpValue: fGfpValue,
    percpuRefill: fPercpuRefill,
  };
  return e;
}

/** The symbol trace-cmd/perf printed in front when call_site is a bare address, else call_site as printed. */
function callSiteText(): string {
  if (fSymA !== -1 && fSymB > fSymA && isHexAddress(curB, fCallSiteA, fCallSiteB)) return intern(curB, curS!, fSymA, fSymB);
  return intern(curB, curS!, fCallSiteA, fCallSiteB);
}

function isHexAddress(b: Uint8Array, a: number, e: number): boolean {
  if (e - a > 2 && b[a] === D0 && (b[a + 1]! | 0x20) === LOWER_X) a += 2;
  if (a >= e) return false;
  for (let k = a; k < e; k++) {
    const c = b[k]! | 0x20;
    if (!((c >= D0 && c <= D9) || (c >= 97 && c <= 102))) return false;
  }
  return true;
}

// ── columns ────────────────────────────────────────────────────────────────

/** The checks buildEvent makes: a kmem event line without a field its event always prints is malformed. */
function checkFields(id: number): void {
  if (id <= EV_KMEM_CACHE_FREE) {
    requireField(fCallSiteA !== -1, 'call_site');
    requireField(fPtrA !== -1, 'ptr');
    if (id <= EV_KMEM_CACHE_ALLOC_NODE) {
      requireField(fBytesReq !== -1, 'bytes_req');
      requireField(fBytesAlloc !== -1, 'bytes_alloc');
      requireField(fGfpA !== -1, 'gfp_flags');
    }
    return;
  }
  requireField(fPfn !== -1, 'pfn');
  if (id === EV_MM_PAGE_FREE_BATCHED) {
    if (fOrder === -1) fOrder = 0;
  } else requireField(fOrder !== -1, 'order');
  if (id === EV_MM_PAGE_ALLOC || id === EV_MM_PAGE_ALLOC_ZONE_LOCKED || id === EV_MM_PAGE_PCPU_DRAIN) {
    requireField(fMigratetype !== null, 'migratetype');
  }
  if (id === EV_MM_PAGE_ALLOC) requireField(fGfpA !== -1, 'gfp_flags');
  if (id === EV_MM_PAGE_ALLOC_ZONE_LOCKED) requireField(fPercpuRefill !== null, 'percpu_refill');
}

/** The id of the call site in strings: the symbol in front when call_site is a bare address (as callSiteText). */
function callSiteId(strings: StringTable): number {
  const b = curB;
  if (fSymA !== -1 && fSymB > fSymA && isHexAddress(b, fCallSiteA, fCallSiteB)) return strings.idOfBytes(b, fSymA, fSymB);
  return strings.idOfBytes(b, fCallSiteA, fCallSiteB);
}

/**
 * parseFtraceBytes into a row of cols instead of an object (b holds ASCII
 * text; s, when given, the same text as a string, used only to find ": "
 * and blanks with its native indexOf; no string is made for the line). True when the
 * line was a kmem event and a row was added. Throws TraceParseError as
 * parseFtraceBytes does.
 */
export function parseFtraceInto(
  cols: EventColumns,
  strings: StringTable,
  b: Uint8Array,
  s: string | null,
  start: number,
  end: number,
  lineNo: number,
): boolean {
  const id = scanLine(b, s, start, end, false, false, true);
  if (id < 0) return false;
  checkFields(id);
  const r = cols.n++;
  cols.kind[r] = COLUMN_KIND[id]!;
  cols.cpu[r] = tCpu;
  cols.lineNo[r] = lineNo;
  cols.ts[r] = lineTs;
  if (id <= EV_KMEM_CACHE_FREE) {
    cols.ptr[r] = ptrKeyBytes(b, fPtrA, fPtrB);
    cols.site[r] = callSiteId(strings);
    cols.name[r] = fNameA === -1 ? -1 : strings.idOfBytes(b, fNameA, fNameB);
    if (id <= EV_KMEM_CACHE_ALLOC_NODE) {
      cols.req[r] = fBytesReq;
      cols.alloc[r] = fBytesAlloc;
      cols.gfpValue[r] = fGfpValue ?? -1;
      cols.gfp[r] = strings.idOfBytes(b, fGfpA, fGfpB);
      cols.node[r] = fNode ?? -1;
      cols.accounted[r] = fAccounted === null ? -1 : fAccounted ? 1 : 0;
    } else {
      cols.gfp[r] = -1;
      cols.gfpValue[r] = -1;
    }
    return true;
  }
  cols.pfn[r] = fPfn;
  cols.order[r] = fOrder;
  cols.mt[r] = fMigratetype ?? -1;
  cols.gfpValue[r] = fGfpValue ?? -1;
  cols.gfp[r] = fGfpA === -1 ? -1 : strings.idOfBytes(b, fGfpA, fGfpB);
  cols.name[r] = -1;
  return true;
}

/**
 * The first pass over a file: only kmem_cache_alloc[_node] and
 * kmem_cache_free lines are read past their event name, into cols (kind,
 * cpu, ptr, site, bytes_alloc, name). Other kmem lines add no row; their
 * CPU still counts in maxCpuSeen. Throws as parseFtraceInto for the lines
 * it reads.
 */
export function scanNamesInto(cols: EventColumns, strings: StringTable, b: Uint8Array, s: string | null, start: number, end: number, lineNo: number): boolean {
  const id = scanLine(b, s, start, end, false, true);
  if (id < 0) return false;
  checkFields(id);
  const r = cols.n++;
  cols.kind[r] = COLUMN_KIND[id]!;
  cols.cpu[r] = tCpu;
  cols.lineNo[r] = lineNo;
  cols.ptr[r] = ptrKeyBytes(b, fPtrA, fPtrB);
  cols.site[r] = callSiteId(strings);
  cols.name[r] = fNameA === -1 ? -1 : strings.idOfBytes(b, fNameA, fNameB);
  cols.alloc[r] = id === EV_KMEM_CACHE_FREE ? 0 : fBytesAlloc;
  cols.req[r] = id === EV_KMEM_CACHE_FREE ? 0 : fBytesReq;
  return true;
}

/** EV_* → the kind's index in KMEM_EVENT_KINDS. */
const COLUMN_KIND: readonly number[] = KIND_BY_ID.map((k) => (k === '' ? 255 : KMEM_EVENT_KINDS.indexOf(k as KmemEvent['kind'])));

const K_CALL_SITE_EQ = ascii('call_site=');

// ── the fields of 6.x lines, read in the order 6.x prints them ───────────────

const K_SP_PTR_EQ = ascii(' ptr=');
const K_SP_BYTES_REQ_EQ = ascii(' bytes_req=');
const K_SP_BYTES_ALLOC_EQ = ascii(' bytes_alloc=');
const K_SP_GFP_FLAGS_EQ = ascii(' gfp_flags=');
const K_SP_NODE_EQ = ascii(' node=');
const K_SP_ACCOUNTED_EQ = ascii(' accounted=');
const K_SP_NAME_EQ = ascii(' name=');
const K_PAGE_EQ = ascii('page=');
const K_SP_PFN_EQ = ascii(' pfn=');
const K_SP_ORDER_EQ = ascii(' order=');
const K_SP_MIGRATETYPE_EQ = ascii(' migratetype=');

/** Where the last quick value ended. */
let qEnd = 0;

/** The end of the text value at b[a ..] (the next blank or end); -1 when empty. */
function qText(b: Uint8Array, a: number, end: number): number {
  let k: number;
  const s = curS;
  if (s !== null) {
    // the string's native search: values are long (symbols, pointers, flags)
    k = s.indexOf(' ', a);
    if (k === -1 || k > end) k = end;
  } else {
    k = a;
    while (k < end && b[k] !== SPACE) k++;
  }
  return k === a ? -1 : k;
}

/** A number at b[a ..] ending at a blank or end: decimal, '-' allowed when signed, or 0x hex; NaN otherwise. Sets qEnd. */
function qNumber(b: Uint8Array, a: number, end: number, signed: boolean): number {
  let k = a;
  let neg = false;
  if (signed && b[k] === DASH) {
    neg = true;
    k++;
  }
  const d0 = k;
  let v = 0;
  if (b[k] === D0 && b[k + 1] === LOWER_X && !neg) {
    k += 2;
    const h0 = k;
    for (; k < end; k++) {
      const c = b[k]!;
      let d: number;
      if (c >= D0 && c <= D9) d = c - D0;
      else if (c >= 97 && c <= 102) d = c - 87;
      else break;
      v = v * 16 + d;
    }
    if (k === h0 || k - h0 > 12) return Number.NaN;
  } else {
    for (; k < end; k++) {
      const d = b[k]! - D0;
      if (d < 0 || d > 9) break;
      v = v * 10 + d;
    }
    if (k === d0 || k - d0 > 15) return Number.NaN;
  }
  if (k < end && b[k] !== SPACE) return Number.NaN;
  qEnd = k;
  return neg ? -v : v;
}

/**
 * The fields after the event name at b[j, end) of a line laid out as 6.x
 * prints it, each key where 6.x puts it, into the f* variables exactly as
 * parseFields would: true when the line is such a line, false for anything
 * else (other versions, options/fields' `(...)`, modules, junk), which
 * parseFields then reads (and reports).
 */
function quickFields(id: number, b: Uint8Array, j: number, end: number): boolean {
  resetFields();
  if (b[j] !== SPACE) return false;
  j++;
  if (id === EV_MM_PAGE_ALLOC || id === EV_MM_PAGE_FREE) {
    if (!bytesAt(b, j, K_PAGE_EQ)) return false;
    let k = qText(b, j + K_PAGE_EQ.length, end);
    if (k === -1) return false;
    fPageA = j + K_PAGE_EQ.length;
    fPageB = k;
    if (!bytesAt(b, k, K_SP_PFN_EQ)) return false;
    const pfn = qNumber(b, k + K_SP_PFN_EQ.length, end, false);
    if (Number.isNaN(pfn)) return false;
    fPfn = pfn;
    k = qEnd;
    if (!bytesAt(b, k, K_SP_ORDER_EQ)) return false;
    const order = qNumber(b, k + K_SP_ORDER_EQ.length, end, false);
    if (Number.isNaN(order)) return false;
    fOrder = order;
    k = qEnd;
    if (id === EV_MM_PAGE_FREE) return k === end;
    if (!bytesAt(b, k, K_SP_MIGRATETYPE_EQ)) return false;
    const mt = qNumber(b, k + K_SP_MIGRATETYPE_EQ.length, end, true);
    if (Number.isNaN(mt)) return false;
    fMigratetype = mt;
    k = qEnd;
    if (!bytesAt(b, k, K_SP_GFP_FLAGS_EQ)) return false;
    const ga = k + K_SP_GFP_FLAGS_EQ.length;
    const gb = qText(b, ga, end);
    if (gb !== end || b[ga] === D0) return false;
    fGfpA = ga;
    fGfpB = gb;
    return true;
  }
  if (id !== EV_KMALLOC && id !== EV_KMEM_CACHE_ALLOC && id !== EV_KFREE && id !== EV_KMEM_CACHE_FREE) return false;
  if (!bytesAt(b, j, K_CALL_SITE_EQ)) return false;
  const sa = j + K_CALL_SITE_EQ.length;
  let k = qText(b, sa, end);
  if (k === -1 || !bytesAt(b, k, K_SP_PTR_EQ)) return false;
  fCallSiteA = sa;
  fCallSiteB = k;
  const pa = k + K_SP_PTR_EQ.length;
  k = qText(b, pa, end);
  if (k === -1) return false;
  fPtrA = pa;
  fPtrB = k;
  if (id === EV_KFREE) return k === end;
  if (id === EV_KMEM_CACHE_FREE) {
    if (k === end) return true;
    if (!bytesAt(b, k, K_SP_NAME_EQ)) return false;
    const na = k + K_SP_NAME_EQ.length;
    const nb = qText(b, na, end);
    if (nb !== end) return false;
    fNameA = na;
    fNameB = nb;
    return true;
  }
  if (!bytesAt(b, k, K_SP_BYTES_REQ_EQ)) return false;
  const req = qNumber(b, k + K_SP_BYTES_REQ_EQ.length, end, false);
  if (Number.isNaN(req)) return false;
  k = qEnd;
  if (!bytesAt(b, k, K_SP_BYTES_ALLOC_EQ)) return false;
  const alloc = qNumber(b, k + K_SP_BYTES_ALLOC_EQ.length, end, false);
  if (Number.isNaN(alloc)) return false;
  k = qEnd;
  if (!bytesAt(b, k, K_SP_GFP_FLAGS_EQ)) return false;
  const ga = k + K_SP_GFP_FLAGS_EQ.length;
  const gb = qText(b, ga, end);
  if (gb === -1 || b[ga] === D0) return false;
  fBytesReq = req;
  fBytesAlloc = alloc;
  fGfpA = ga;
  fGfpB = gb;
  k = gb;
  if (k === end) return true;
  if (bytesAt(b, k, K_SP_NODE_EQ)) {
    const node = qNumber(b, k + K_SP_NODE_EQ.length, end, true);
    if (Number.isNaN(node)) return false;
    fNode = node;
    k = qEnd;
    if (k === end) return true;
  }
  if (!bytesAt(b, k, K_SP_ACCOUNTED_EQ)) return false;
  const aa = k + K_SP_ACCOUNTED_EQ.length;
  const ab = qText(b, aa, end);
  if (ab !== end) return false;
  if (ab - aa === 4 && bytesAt(b, aa, K_TRUE)) fAccounted = true;
  else if (ab - aa === 5 && bytesAt(b, aa, K_FALSE)) fAccounted = false;
  else return false;
  return true;
}
