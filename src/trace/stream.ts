/**
 * Stream a trace file line by line without loading it whole.
 *
 * The file is read in large chunks (gunzipped on the way when it starts with
 * the gzip magic bytes, whatever its name; a pipe when its name ends in .gz). Each chunk is cut at its last
 * newline; the tail waits for the next chunk. The lines of a chunk are then
 * parsed in place, 64 KiB of whole lines at a time: those bytes and a latin1
 * string of them line up one to one, so the parser scans bytes and slices
 * the string (see ftrace.ts). A line holding a byte >= 0x80 is decoded as UTF-8 on its own;
 * a NUL byte or invalid UTF-8 makes it a malformed line.
 *
 * Errors name the file and line and quote the line:
 *   trace.txt:1234: malformed kmem:kmalloc line: "..." (no bytes_alloc= field)
 * With skipBad such lines are counted (and handed to onBad) instead.
 */

import { isAscii } from 'node:buffer';
import { promises as fsp, readSync } from 'node:fs';
import type { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { EventColumns, type StringTable } from './columns.js';
import { type KmemEvent, type TraceDialect, TraceFileError, TraceParseError } from './events.js';
import { parseFtraceBytes, parseFtraceInto, parseFtraceLine, resetTraceHeader, scanNamesInto, traceHeader } from './ftrace.js';
import { fastNamesInto, fastRowInto } from './ftrace_fast.js';

export interface ReadTraceOptions {
  /** Count malformed lines and go on, instead of throwing at the first. */
  skipBad?: boolean;
  /** Called after each chunk with the file bytes read so far and the lines seen. */
  onProgress?: (bytes: number, lines: number) => void;
  /** Called for each malformed line skipped under skipBad. */
  onBad?: (err: TraceParseError) => void;
  /** Bytes per read (default 1 MiB). */
  chunkSize?: number;
}

/** What a reader saw, returned when its generator finishes. */
export interface TraceReadStats {
  /** Lines read. */
  lines: number;
  /** Events yielded. */
  events: number;
  /** Malformed lines skipped (skipBad). */
  bad: number;
  /** Bytes read from the file (compressed bytes for a .gz). */
  bytes: number;
}

/** A line longer than this is not text: it is reported as malformed. */
export const MAX_LINE_BYTES = 1 << 20;

const DEFAULT_CHUNK = 1 << 20;

/** Bytes of text made into one string at a time (see parseLines). */
const TEXT_PIECE = 1 << 16;

/**
 * Parse one line's text from a chunk, given as bytes and as a string that
 * line up one to one; returns null for a line that holds nothing to yield.
 */
export type LineParser<T> = (bytes: Uint8Array, text: string, start: number, end: number, lineNo: number) => T | null;

/** Parse a line's text when it is a string of its own (non-ASCII lines). */
export type StringLineParser<T> = (line: string, lineNo: number) => T | null;

/** The name that means standard input, as cat and most tools take it. */
export const STDIN_PATH = '-';

/** How errors name standard input (as grep does). */
export const STDIN_NAME = '(standard input)';

/** The bytes a trace-cmd `trace.dat` starts with (binary: `trace-cmd report` turns it into text). */
const TRACE_DAT_MAGIC = [0x17, 0x08, 0x44, 0x74, 0x72, 0x61, 0x63, 0x69, 0x6e, 0x67]; // \x17\x08Dtracing

/** Characters of a binary line quoted in an error, counted as printed (escapes and all). */
export const BINARY_QUOTE_MAX = 60;

/**
 * A line of binary data (more than one character in eight a control
 * character or an invalid byte) cut to a head whose quoted form, JSON
 * escapes and all, is at most BINARY_QUOTE_MAX characters; a text line with
 * a stray bad byte is left whole (the error quotes up to 200 characters).
 */
function binaryHead(text: string): string {
  let bad = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if ((c < 0x20 && c !== 9) || (c >= 0x7f && c <= 0x9f) || c === 0xfffd) bad++;
  }
  if (bad * 8 <= text.length) return text;
  let len = 0;
  let end = 0;
  for (const ch of text) {
    const c = ch.codePointAt(0)!;
    const w = c < 0x20 || (c >= 0x7f && c <= 0x9f) ? (c === 9 || c === 10 || c === 13 ? 2 : 6) : ch === '"' || ch === '\\' ? 2 : 1;
    if (len + w > BINARY_QUOTE_MAX) return `${text.slice(0, end)}...`;
    len += w;
    end += ch.length;
  }
  return text;
}

interface OpenTrace {
  source: Readable;
  /** A regular, uncompressed file opened with direct: reads into a buffer, 0 at the end (source is then unused). */
  readInto: ((buf: Uint8Array, off: number, len: number) => number) | null;
  /** Bytes read from the file or pipe so far (compressed bytes for gzip). */
  bytesRead(): number;
  close(): Promise<void>;
}

/**
 * Open path for reading: fails with a TraceFileError (code ENOENT, EISDIR,
 * EACCES, ...) and a one-line message when it is not a readable file.
 * `-` is standard input. trace-cmd's binary trace.dat is refused with the
 * command that makes text of it.
 */
async function openTrace(path: string, chunkSize: number, direct = false): Promise<OpenTrace> {
  if (path === STDIN_PATH) {
    const stdin = process.stdin;
    let n = 0;
    const counter = (chunk: Buffer) => {
      n += chunk.length;
    };
    stdin.on('data', counter);
    return {
      source: stdin,
      readInto: null,
      bytesRead: () => n,
      close: async () => {
        stdin.off('data', counter);
        stdin.pause();
      },
    };
  }
  let fh: fsp.FileHandle;
  try {
    fh = await fsp.open(path, 'r');
  } catch (err) {
    throw fileError(path, err);
  }
  let gz = path.endsWith('.gz');
  let regular = false;
  try {
    const st = await fh.stat();
    if (st.isDirectory()) throw new TraceFileError(path, 'EISDIR', 'is a directory, not a trace file');
    regular = st.isFile();
    if (regular) {
      const head = new Uint8Array(TRACE_DAT_MAGIC.length);
      const { bytesRead } = await fh.read(head, 0, head.length, 0);
      gz = bytesRead >= 2 && head[0] === 0x1f && head[1] === 0x8b;
      if (!gz && TRACE_DAT_MAGIC.every((c, i) => head[i] === c)) {
        throw new TraceFileError(path, 'EBINARY', "is trace-cmd's binary trace.dat, not text: make text of it with `trace-cmd report -i FILE > trace.txt`");
      }
    }
  } catch (err) {
    await fh.close();
    throw err instanceof TraceFileError ? err : fileError(path, err);
  }
  if (direct && regular && !gz) {
    let n = 0;
    const handle = fh;
    // read synchronously: the replay waits for each chunk anyway, and a
    // promise per chunk costs more than it overlaps
    const readInto = (buf: Uint8Array, off: number, len: number): number => {
      const got = readSync(handle.fd, buf, off, len, null);
      n += got;
      return got;
    };
    const none = null as unknown as Readable;
    return { source: none, readInto, bytesRead: () => n, close: () => handle.close().catch(() => {}) };
  }
  // a pipe (or /dev/stdin) is read as it comes, gzip'd when its name ends in .gz
  const file = fh.createReadStream(regular ? { highWaterMark: chunkSize, start: 0 } : { highWaterMark: chunkSize });
  const close = async () => {
    file.destroy();
    // make sure the file is closed however the stream ended (a no-op if it is)
    await fh.close().catch(() => {});
  };
  if (!gz) return { source: file, readInto: null, bytesRead: () => file.bytesRead, close };
  const gunzip = createGunzip({ chunkSize: Math.min(chunkSize, 1 << 18) });
  file.on('error', (err) => gunzip.destroy(err));
  file.pipe(gunzip);
  return { source: gunzip, readInto: null, bytesRead: () => file.bytesRead, close };
}

const ERRNO_TEXT: Record<string, string> = {
  ENOENT: 'no such file or directory',
  EISDIR: 'is a directory, not a trace file',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  ENOTDIR: 'a component of the path is not a directory',
  ELOOP: 'too many symbolic links',
  ENAMETOOLONG: 'file name too long',
};

function fileError(path: string, err: unknown): TraceFileError {
  const code = (err as NodeJS.ErrnoException)?.code ?? 'EIO';
  return new TraceFileError(path, code, ERRNO_TEXT[code] ?? `cannot read (${code})`);
}

/** True when b[a, e) holds a NUL or a byte >= 0x80. */
function hasSpecialByte(b: Uint8Array, a: number, e: number): boolean {
  for (let k = a; k < e; k++) {
    const c = b[k]!;
    if (c === 0 || c >= 0x80) return true;
  }
  return false;
}

/** The trimmed, decoded text of a line that holds a NUL or non-ASCII bytes, and what is wrong with it. */
function decodeSpecialLine(b: Buffer, a: number, e: number): { text: string; problem: string | null } {
  let text = b.toString('utf8', a, e);
  if (text.endsWith('\r')) text = text.slice(0, -1);
  const nul = b.indexOf(0, a);
  let problem: string | null = null;
  if (nul !== -1 && nul < e) problem = 'NUL byte';
  else if (text.indexOf('\uFFFD') !== -1) problem = 'invalid UTF-8';
  // binary bytes: a short head of them says enough
  if (problem !== null) text = binaryHead(text);
  return { text, problem };
}

/**
 * Read path in chunks and parse every line, yielding the results of each
 * chunk as one array. The generator's return value is the TraceReadStats.
 */
export async function* readLineBatches<T>(
  path: string,
  parse: LineParser<T>,
  parseString: StringLineParser<T>,
  opts: ReadTraceOptions = {},
  dialect: TraceDialect = 'kmem',
): AsyncGenerator<T[], TraceReadStats, undefined> {
  const chunkSize = opts.chunkSize ?? DEFAULT_CHUNK;
  const skipBad = opts.skipBad === true;
  const { onProgress, onBad } = opts;
  const stats: TraceReadStats = { lines: 0, events: 0, bad: 0, bytes: 0 };
  const opened = await openTrace(path, chunkSize);
  const source = opened.source;
  /** 1 until the first chunk shows the line ends; 2 when they are bare CRs (old Mac text), turned into LFs. */
  let crMode = 1;

  let lineNo = 0;
  /**
   * One buffer, reused from chunk to chunk: buf[0, len) holds the bytes of
   * a line not ended yet, carried to the front, then the next chunk's.
   */
  let buf = Buffer.allocUnsafe(Math.max(chunkSize, 1 << 16) * 2);
  let len = 0;
  /** True while skipping the rest of an over-long line. */
  let overlong = false;
  /** The error to throw once the events before its line are out. */
  let failed: TraceParseError | null = null;

  /** A malformed line: counted under skipBad, else the end of the reading. */
  const bad = (err: TraceParseError, at: number): void => {
    const located = err.at(path === STDIN_PATH ? STDIN_NAME : path, at);
    if (!skipBad) {
      failed = located;
      return;
    }
    stats.bad++;
    onBad?.(located);
  };

  /** Parse the complete lines b[0, e) (e just after a newline, or the end of the file). */
  const parseLines = (b: Buffer, e: number, out: T[]): void => {
    const clean = !hasSpecialBytesFast(b, e);
    let from = 0;
    while (from < e && failed === null) {
      // The text is made a piece at a time, each a whole number of lines: a
      // string this small lives in the young generation and dies there, where
      // one of the chunk's size would be an old-generation allocation that
      // brings on a full GC every few chunks (events keep slices of it).
      let to = from + TEXT_PIECE;
      if (to >= e) to = e;
      else {
        const nl = b.lastIndexOf(10, to - 1);
        if (nl >= from) to = nl + 1;
        else {
          const far = b.indexOf(10, to);
          to = far === -1 || far >= e ? e : far + 1;
        }
      }
      parsePiece(from === 0 && to === b.length ? b : b.subarray(from, to), to - from, clean, out);
      from = to;
    }
  };

  /** Parse the complete lines b[0, e), given clean when they hold no special byte. */
  const parsePiece = (b: Buffer, e: number, clean: boolean, out: T[]): void => {
    const text = b.toString('latin1', 0, e);
    let a = 0;
    while (a < e && failed === null) {
      let nl = text.indexOf('\n', a);
      if (nl === -1) nl = e;
      lineNo++;
      let r: T | null = null;
      try {
        if (nl - a > MAX_LINE_BYTES) {
          throw new TraceParseError(decodeSpecialLine(b, a, a + 200).text, `line longer than ${MAX_LINE_BYTES} bytes`, null, null, 0, dialect);
        } else if (clean || !hasSpecialByte(b, a, nl)) {
          r = parse(b, text, a, nl, lineNo);
        } else {
          const { text: line, problem } = decodeSpecialLine(b, a, nl);
          if (problem !== null) throw new TraceParseError(line, problem, null, null, 0, dialect);
          r = parseString(line, lineNo);
        }
      } catch (err) {
        if (!(err instanceof TraceParseError)) throw err;
        bad(err, lineNo);
      }
      if (r !== null) out.push(r);
      a = nl + 1;
    }
  };

  try {
    for await (const chunk of source as AsyncIterable<Buffer>) {
      const b: Buffer = chunk;
      if (crMode === 1) {
        const cr = b.indexOf(13);
        const lf = b.indexOf(10);
        if (cr !== -1 && (lf === -1 || cr < lf)) {
          // a CR that ends the chunk is decided by the next one
          if (cr + 1 < b.length) crMode = b[cr + 1] === 10 ? 0 : 2;
        } else if (lf !== -1) crMode = 0;
      }
      if (crMode === 2) for (let k = b.indexOf(13); k !== -1; k = b.indexOf(13, k + 1)) b[k] = 10;
      let from = 0;
      if (overlong) {
        const nl = b.indexOf(10);
        if (nl === -1) continue;
        overlong = false;
        from = nl + 1;
      }
      const n = b.length - from;
      if (len + n > buf.length) {
        const grown = Buffer.allocUnsafe(Math.max(buf.length * 2, len + n));
        buf.copy(grown, 0, 0, len);
        buf = grown;
      }
      b.copy(buf, len, from);
      len += n;
      const last = len === 0 ? -1 : buf.lastIndexOf(10, len - 1);
      const out: T[] = [];
      if (last !== -1) {
        parseLines(buf.subarray(0, last + 1), last + 1, out);
        buf.copyWithin(0, last + 1, len);
        len -= last + 1;
      }
      if (len > MAX_LINE_BYTES && failed === null) {
        lineNo++;
        const head = decodeSpecialLine(buf, 0, 200).text;
        len = 0;
        overlong = true;
        bad(new TraceParseError(head, `line longer than ${MAX_LINE_BYTES} bytes`, null, null, 0, dialect), lineNo);
      }
      stats.lines = lineNo;
      stats.bytes = opened.bytesRead();
      stats.events += out.length;
      onProgress?.(stats.bytes, lineNo);
      if (out.length !== 0) yield out;
      if (failed !== null) throw failed;
    }
    if (len !== 0) {
      const out: T[] = [];
      parseLines(buf.subarray(0, len), len, out);
      len = 0;
      stats.lines = lineNo;
      stats.events += out.length;
      onProgress?.(stats.bytes, lineNo);
      if (out.length !== 0) yield out;
      if (failed !== null) throw failed;
    }
  } catch (err) {
    const code = (err as NodeJS.ErrnoException)?.code;
    if (err instanceof TraceParseError || err instanceof TraceFileError || typeof code !== 'string') throw err;
    const name = path === STDIN_PATH ? STDIN_NAME : path;
    if (code.startsWith('Z_')) throw new TraceFileError(name, code, `corrupt gzip data (${(err as Error).message})`);
    throw fileError(name, err);
  } finally {
    if (path !== STDIN_PATH) source.destroy();
    await opened.close();
  }
  stats.bytes = opened.bytesRead();
  return stats;
}

/** True when b[0, e) holds a NUL or a non-ASCII byte (native scans). */
function hasSpecialBytesFast(b: Buffer, e: number): boolean {
  const nul = b.indexOf(0);
  if (nul !== -1 && nul < e) return true;
  return !isAscii(e === b.length ? b : b.subarray(0, e));
}

/**
 * Read a kmem trace (ftrace / trace-cmd / perf script text, plain or gzip'd),
 * yielding its events in chunk-sized arrays. Faster than readTraceEvents
 * when the consumer can take a batch at a time.
 */
export function readTraceBatches(path: string, opts: ReadTraceOptions = {}): AsyncGenerator<KmemEvent[], TraceReadStats, undefined> {
  return readLineBatches<KmemEvent>(path, parseFtraceBytes, parseFtraceLine, opts);
}

/**
 * Read a kmem trace (ftrace / trace-cmd / perf script text, plain or gzip'd)
 * and yield its events one by one, each with its lineNo set. Lines that are
 * not kmem events are skipped; a malformed kmem line throws a
 * TraceParseError naming file and line, unless opts.skipBad. A missing file
 * or a directory throws a TraceFileError with code ENOENT / EISDIR.
 */
export async function* readTraceEvents(path: string, opts: ReadTraceOptions = {}): AsyncGenerator<KmemEvent, TraceReadStats, undefined> {
  return yield* flattenBatches(readTraceBatches(path, opts));
}

/**
 * One item at a time from a reader that yields batches; its closing stats are
 * the result. A consumer that stops early still lets the reader close its file.
 */
export async function* flattenBatches<T>(batches: AsyncGenerator<T[], TraceReadStats, undefined>): AsyncGenerator<T, TraceReadStats, undefined> {
  try {
    for (;;) {
      const r = await batches.next();
      if (r.done === true) return r.value;
      const batch = r.value;
      for (let k = 0; k < batch.length; k++) yield batch[k]!;
    }
  } finally {
    await batches.return({ lines: 0, events: 0, bad: 0, bytes: 0 });
  }
}

// ── columns ────────────────────────────────────────────────────────────────

export interface ReadColumnsOptions extends ReadTraceOptions {
  /** The first pass of a replay: only kmem_cache_alloc/free rows, with the fields that name caches (scanNamesInto). */
  namesOnly?: boolean;
  /** Rows per batch handed to onBatch (default 16384). */
  batchRows?: number;
}

/**
 * Read a kmem trace into rows of numbers (see columns.ts), handing each
 * full batch to onBatch; the batch object is reused, so onBatch must be
 * done with it when it returns. A line in 6.x ftrace's own layout is read
 * by ftrace_fast.ts (fastRowInto; fastNamesInto on the first pass), any
 * other line, or one it declines, by ftrace.ts's general parser. The file is read into one buffer that is
 * reused from chunk to chunk (a line cut by a chunk's end is moved to its
 * front); a regular uncompressed file is read into it directly, a gzip'd
 * file or a pipe is copied in from its stream. Errors and skipBad as
 * readTraceBatches.
 */
export async function readTraceColumns(
  path: string,
  strings: StringTable,
  onBatch: (cols: EventColumns) => void,
  opts: ReadColumnsOptions = {},
): Promise<TraceReadStats> {
  const chunkSize = opts.chunkSize ?? DEFAULT_CHUNK;
  const skipBad = opts.skipBad === true;
  const { onProgress, onBad } = opts;
  const namesOnly = opts.namesOnly === true;
  const stats: TraceReadStats = { lines: 0, events: 0, bad: 0, bytes: 0 };
  const cols = new EventColumns(opts.batchRows ?? 1 << 14);
  const opened = await openTrace(path, chunkSize, true);
  const name = path === STDIN_PATH ? STDIN_NAME : path;
  let buf = Buffer.allocUnsafe(Math.max(chunkSize, 1 << 16) * 2);
  /** Bytes in buf: [0, len). */
  let len = 0;
  let crMode = 1;
  let lineNo = 0;
  let overlong = false;
  let failed: TraceParseError | null = null;

  const flush = (): void => {
    if (cols.n === 0) return;
    stats.events += cols.n;
    onBatch(cols);
    cols.n = 0;
  };
  const bad = (err: TraceParseError, at: number): void => {
    const located = err.at(name, at);
    if (!skipBad) {
      failed = located;
      return;
    }
    stats.bad++;
    onBad?.(located);
  };
  /** The lines of buf[0, e) (e just past a newline, or the end of the file), 64 KiB of whole lines at a time. */
  const parseLines = (e: number): void => {
    const clean = !hasSpecialBytesFast(buf.subarray(0, e), e);
    let from = 0;
    while (from < e && failed === null) {
      let to = from + TEXT_PIECE;
      if (to >= e) to = e;
      else {
        const nl = buf.lastIndexOf(10, to - 1);
        if (nl >= from) to = nl + 1;
        else {
          const far = buf.indexOf(10, to);
          to = far === -1 || far >= e ? e : far + 1;
        }
      }
      parsePiece(buf.subarray(from, to), to - from, clean);
      from = to;
    }
  };
  /**
   * The lines of b[0, e). A latin1 string of the piece lines up with its
   * bytes one to one: line ends are found with the Buffer's indexOf, blanks,
   * ": " and "kmem_cache_" with the string's native indexOf, everything else
   * is read from the bytes; no string is made per line.
   */
  const parsePiece = (b: Buffer, e: number, clean: boolean): void => {
    const text = b.toString('latin1', 0, e);
    let a = 0;
    /** The next "kmem_cache_" in the piece at or after a (the first pass, once the header gave the CPUs). */
    let hit = -1;
    while (a < e && failed === null) {
      try {
        for (; a < e; ) {
          let nl = b.indexOf(10, a);
          if (nl === -1) nl = e;
          lineNo++;
          const at = a;
          a = nl + 1;
          if (nl - at > MAX_LINE_BYTES) {
            throw new TraceParseError(decodeSpecialLine(b, at, at + 200).text, `line longer than ${MAX_LINE_BYTES} bytes`);
          }
          if (namesOnly && traceHeader.cpus > 0 && clean) {
            if (hit < at) {
              hit = text.indexOf('kmem_cache_', at);
              if (hit === -1) hit = e;
            }
            if (hit >= nl) continue;
            const q = fastNamesInto(cols, strings, b, text, hit, nl, lineNo);
            if (q !== -1) {
              if (cols.n === cols.capacity) flush();
              continue;
            }
          }
          if (clean || !hasSpecialByte(b, at, nl)) {
            if (
              namesOnly
                ? scanNamesInto(cols, strings, b, text, at, nl, lineNo)
                : fastRowInto(cols, strings, b, text, at, nl, lineNo) || parseFtraceInto(cols, strings, b, text, at, nl, lineNo)
            ) {
              if (cols.n === cols.capacity) flush();
            }
          } else {
            const { text: line, problem } = decodeSpecialLine(b, at, nl);
            if (problem !== null) throw new TraceParseError(line, problem);
            const ev = parseFtraceLine(line, lineNo);
            if (ev !== null && (!namesOnly || ev.kind === 'kmem_cache_alloc' || ev.kind === 'kmem_cache_alloc_node' || ev.kind === 'kmem_cache_free')) {
              cols.pushEvent(ev, strings);
              if (cols.n === cols.capacity) flush();
            }
          }
        }
      } catch (err) {
        if (!(err instanceof TraceParseError)) throw err;
        bad(err, lineNo);
      }
    }
  };
  /** New bytes are in buf[from, len): parse the whole lines, keep the rest at the front. */
  const consume = (from: number): void => {
    if (crMode === 1) {
      const cr = buf.indexOf(13, from);
      const lf = buf.indexOf(10, from);
      if (cr !== -1 && cr < len && (lf === -1 || lf >= len || cr < lf)) {
        if (cr + 1 < len) crMode = buf[cr + 1] === 10 ? 0 : 2;
      } else if (lf !== -1 && lf < len) crMode = 0;
    }
    if (crMode === 2) for (let k = buf.indexOf(13, from); k !== -1 && k < len; k = buf.indexOf(13, k + 1)) buf[k] = 10;
    let start = 0;
    if (overlong) {
      const nl = buf.indexOf(10, from);
      if (nl === -1 || nl >= len) {
        len = 0;
        return;
      }
      overlong = false;
      buf.copyWithin(0, nl + 1, len);
      len -= nl + 1;
      start = 0;
    }
    const last = len === 0 ? -1 : buf.lastIndexOf(10, len - 1);
    if (last >= start) {
      parseLines(last + 1);
      buf.copyWithin(0, last + 1, len);
      len -= last + 1;
    }
    if (len > MAX_LINE_BYTES && failed === null) {
      lineNo++;
      const head = decodeSpecialLine(buf, 0, 200).text;
      len = 0;
      overlong = true;
      bad(new TraceParseError(head, `line longer than ${MAX_LINE_BYTES} bytes`), lineNo);
    }
  };
  /** Room for n more bytes at len. */
  const room = (n: number): void => {
    if (len + n <= buf.length) return;
    const b = Buffer.allocUnsafe(Math.max(buf.length * 2, len + n));
    buf.copy(b, 0, 0, len);
    buf = b;
  };
  const progress = (): void => {
    stats.lines = lineNo;
    stats.bytes = opened.bytesRead();
    onProgress?.(stats.bytes, lineNo);
    if (failed !== null) {
      flush();
      throw failed;
    }
  };

  resetTraceHeader();
  try {
    if (opened.readInto !== null) {
      for (;;) {
        room(chunkSize);
        const got = opened.readInto(buf, len, chunkSize);
        if (got === 0) break;
        const from = len;
        len += got;
        consume(from);
        progress();
      }
    } else {
      for await (const chunk of opened.source as AsyncIterable<Buffer>) {
        room(chunk.length);
        chunk.copy(buf, len);
        const from = len;
        len += chunk.length;
        consume(from);
        progress();
      }
    }
    if (len !== 0 && !overlong) {
      parseLines(len);
      len = 0;
    }
    flush();
    stats.lines = lineNo;
    stats.bytes = opened.bytesRead();
    onProgress?.(stats.bytes, lineNo);
    if (failed !== null) throw failed;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException)?.code;
    if (err instanceof TraceParseError || err instanceof TraceFileError || typeof code !== 'string') throw err;
    if (code.startsWith('Z_')) throw new TraceFileError(name, code, `corrupt gzip data (${(err as Error).message})`);
    throw fileError(name, err);
  } finally {
    if (opened.readInto === null && path !== STDIN_PATH) opened.source.destroy();
    await opened.close();
  }
  return stats;
}
