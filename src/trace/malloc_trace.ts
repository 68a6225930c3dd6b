/**
 * malloc/free traces in the text form of wee_alloc's test traces
 * (github.com/rustwasm/wee_alloc, test/traces/): one operation a line,
 *
 *   Alloc(<size>),     allocate <size> bytes
 *   Free(<index>),     free the block made by the <index>-th Alloc (zero-based,
 *                      counting Alloc lines only)
 *
 * The trailing comma is there because the files are included into a Rust
 * array literal; it may be missing here. Blank lines and lines starting with
 * '#' or '//' are skipped (comments are an extension of ours, for the sample).
 *
 * Reading a whole trace also checks it: a Free must name a block that an
 * earlier Alloc made and that is not free already.
 *
 * The built-in sample is samples/sample.trace, embedded as text in
 * samples/malloc_sample.ts.
 */

import { TraceParseError } from './events.js';
import { flattenBatches, type ReadTraceOptions, readLineBatches, type TraceReadStats } from './stream.js';

export interface MallocAllocOp {
  op: 'alloc';
  /** Bytes requested. */
  size: number;
  /** 1-based line number; 0 when parsed alone. */
  lineNo: number;
}

export interface MallocFreeOp {
  op: 'free';
  /** Zero-based index of the Alloc whose block this frees. */
  index: number;
  lineNo: number;
}

export type MallocOp = MallocAllocOp | MallocFreeOp;

const SPACE = 32;
const TAB = 9;
const CR = 13;
const HASH = 35;
const SLASH = 47;
const LPAREN = 40;
const RPAREN = 41;
const COMMA = 44;
const D0 = 48;

const ALLOC = [65, 108, 108, 111, 99]; // "Alloc"
const FREE = [70, 114, 101, 101]; // "Free"

function wordAt(b: Uint8Array, a: number, end: number, word: readonly number[]): boolean {
  if (a + word.length > end) return false;
  for (let k = 0; k < word.length; k++) if (b[a + k] !== word[k]) return false;
  return true;
}

function malformed(s: string, start: number, end: number, reason: string): never {
  throw new TraceParseError(s.slice(start, end), reason, null, null, 0, 'malloc');
}

/**
 * Parse the line at [start, end) of a buffer given as bytes and as a string
 * that line up one to one (see ftrace.ts). Null for blank and comment lines.
 */
export function parseMallocTraceBytes(b: Uint8Array, s: string, start: number, end: number, lineNo: number): MallocOp | null {
  let i = start;
  let e = end;
  while (e > i) {
    const c = b[e - 1]!;
    if (c !== SPACE && c !== TAB && c !== CR) break;
    e--;
  }
  while (i < e && (b[i] === SPACE || b[i] === TAB)) i++;
  if (i >= e) return null;
  const c0 = b[i]!;
  if (c0 === HASH || (c0 === SLASH && b[i + 1] === SLASH)) return null;
  let alloc: boolean;
  let j: number;
  if (wordAt(b, i, e, ALLOC)) {
    alloc = true;
    j = i + ALLOC.length;
  } else if (wordAt(b, i, e, FREE)) {
    alloc = false;
    j = i + FREE.length;
  } else return malformed(s, start, end, 'expected Alloc(<size>), or Free(<index>),');
  if (j >= e || b[j] !== LPAREN) malformed(s, start, end, `expected "(" after ${alloc ? 'Alloc' : 'Free'}`);
  const na = ++j;
  let v = 0;
  while (j < e) {
    const d = b[j]! - D0;
    if (d < 0 || d > 9) break;
    v = v * 10 + d;
    j++;
  }
  let r = j;
  while (r < e && b[r] !== RPAREN) r++;
  const what = alloc ? 'size' : 'index';
  if (r >= e) malformed(s, start, end, `no ")" after the ${what}`);
  if (j !== r || j === na || !Number.isSafeInteger(v)) malformed(s, start, end, `bad ${what} ${JSON.stringify(s.slice(na, r))}`);
  j = r + 1;
  if (j < e && b[j] === COMMA) j++;
  while (j < e && (b[j] === SPACE || b[j] === TAB)) j++;
  if (j !== e) malformed(s, start, end, `unexpected ${JSON.stringify(s.slice(j, e))} after the operation`);
  return alloc ? { op: 'alloc', size: v, lineNo } : { op: 'free', index: v, lineNo };
}

let scratch = new Uint8Array(128);

/** Parse one line of a malloc trace: an operation, or null for a blank or comment line. */
export function parseMallocTraceLine(line: string, lineNo = 0): MallocOp | null {
  if (line.indexOf('\0') !== -1) throw new TraceParseError(line, 'NUL byte', null, null, 0, 'malloc');
  const n = line.length;
  if (scratch.length < n) scratch = new Uint8Array(Math.max(n, scratch.length * 2));
  for (let k = 0; k < n; k++) scratch[k] = Math.min(line.charCodeAt(k), 0x80);
  return parseMallocTraceBytes(scratch, line, 0, n, lineNo);
}

/**
 * Checks the order of a trace's operations: each Free names a block an
 * earlier Alloc made that is still allocated.
 */
export class MallocTraceChecker {
  /** Alloc operations seen. */
  allocs = 0;
  /** Blocks currently allocated. */
  live = 0;
  private freed = new Uint8Array(1024);

  /** Account for op; the reason it is wrong, or null. */
  check(op: MallocOp): string | null {
    if (op.op === 'alloc') {
      if (this.allocs === this.freed.length) {
        const grown = new Uint8Array(this.freed.length * 2);
        grown.set(this.freed);
        this.freed = grown;
      }
      this.allocs++;
      this.live++;
      return null;
    }
    const i = op.index;
    if (i >= this.allocs) return `Free(${i}) of a block not allocated yet (${this.allocs} Allocs so far)`;
    if (this.freed[i] !== 0) return `Free(${i}) of a block already freed`;
    this.freed[i] = 1;
    this.live--;
    return null;
  }
}

/**
 * Parse and check a whole malloc trace held in a string; `name` labels
 * errors (`name:lineNo: ...`).
 */
export function parseMallocTrace(text: string, name = '<input>'): MallocOp[] {
  const ops: MallocOp[] = [];
  const checker = new MallocTraceChecker();
  const lines = text.split('\n');
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  for (let k = 0; k < lines.length; k++) {
    const line = lines[k]!;
    let op: MallocOp | null;
    try {
      op = parseMallocTraceLine(line, k + 1);
    } catch (err) {
      if (err instanceof TraceParseError) throw err.at(name, k + 1);
      throw err;
    }
    if (op === null) continue;
    const problem = checker.check(op);
    if (problem !== null) throw new TraceParseError(line, problem, null, name, k + 1, 'malloc');
    ops.push(op);
  }
  return ops;
}

/** A checked malloc-trace line parser for readLineBatches. */
function checkedParsers(): {
  parse: (b: Uint8Array, s: string, start: number, end: number, lineNo: number) => MallocOp | null;
  parseString: (line: string, lineNo: number) => MallocOp | null;
} {
  const checker = new MallocTraceChecker();
  const checked = (op: MallocOp | null, line: () => string): MallocOp | null => {
    if (op === null) return null;
    const problem = checker.check(op);
    if (problem !== null) throw new TraceParseError(line(), problem, null, null, 0, 'malloc');
    return op;
  };
  return {
    parse: (b, s, start, end, lineNo) => checked(parseMallocTraceBytes(b, s, start, end, lineNo), () => s.slice(start, end).replace(/\r$/, '')),
    parseString: (line, lineNo) => checked(parseMallocTraceLine(line, lineNo), () => line),
  };
}

/**
 * Read a malloc trace file (plain or gzip'd), yielding its operations in
 * chunk-sized arrays; errors and options as for readTraceEvents.
 */
export function readMallocTraceBatches(path: string, opts: ReadTraceOptions = {}): AsyncGenerator<MallocOp[], TraceReadStats, undefined> {
  const { parse, parseString } = checkedParsers();
  return readLineBatches<MallocOp>(path, parse, parseString, opts, 'malloc');
}

/**
 * Read a malloc trace file (plain or gzip'd) and yield its operations one by
 * one, each with its lineNo. A malformed line, or a Free that names no live
 * block, throws `file:line: malformed malloc-trace line: "..." (reason)`
 * unless opts.skipBad.
 */
export async function* readMallocTrace(path: string, opts: ReadTraceOptions = {}): AsyncGenerator<MallocOp, TraceReadStats, undefined> {
  return yield* flattenBatches(readMallocTraceBatches(path, opts));
}
