/**
 * The JavaScript call stack as kernel-style frames: reports print
 * " <function> (<file>:<line>)" where the kernel prints "fn+0x12/0x40".
 * Frames inside kmem itself are dropped so the trace starts at the caller's
 * code, the way a kernel trace starts where the bug happened.
 *
 * Two ways in. captureStack() formats at once, for a report being printed
 * now. stackTraceSave() only records the stack, for every tracked allocation
 * and free; readSavedStack() and formatSavedStack() turn the record into
 * frames later, and only for the stacks that are still needed then (see
 * lib/stackdepot.ts). Recording costs a few microseconds (V8 walks the
 * stack and rebuilds the frames inlined into optimized code: about 4.6 us
 * for 17 frames, bench/kasan_stack_probe.ts); reading the frames back costs
 * half as much again, formatting them three times as much.
 */

export interface Frame {
  fn: string;
  file: string;
  line: number;
}

/**
 * A stack as recorded by stackTraceSave(): V8 keeps the frames inside the
 * object and formats them into `stack` only when it is first read.
 */
export interface RawStack {
  stack?: unknown;
}

const FRAME_RE = /^\s*at (?:(.*?) \()?(.*?):(\d+):\d+\)?$/;

/**
 * Frames stackTraceSave() records: not V8's whole stack, as each costs up to
 * a couple of microseconds (V8 rebuilds the inlined frames of optimized
 * code). kmem's own frames come first, up to 16 of them (KASAN's quarantine
 * freeing into a slub_debug cache), then the at most 16 frames of the
 * caller's that a track keeps.
 */
export const SAVE_DEPTH = 32;

/** Is this frame part of kmem's own machinery (not the user's code)? */
function internal(file: string): boolean {
  return (
    /[\\/](src|dist)[\\/](lib|memory|page_alloc|slub|kasan|proc|kernel|index|mempool|smp|attach)[\\/.]/.test(file) ||
    /[\\/](src|dist)[\\/]kernel\.[jt]s$/.test(file) ||
    file.startsWith('node:')
  );
}

/** The caller's frames in a formatted stack, kmem frames dropped; at most `max`. */
function parseStack(stack: string, max: number): Frame[] {
  const out: Frame[] = [];
  if (max <= 0) return out;
  for (const line of stack.split('\n')) {
    const m = FRAME_RE.exec(line);
    if (!m) continue;
    const file = m[2]!.replace(/^file:\/\//, '');
    if (internal(file)) continue;
    out.push({ fn: m[1] || '<anonymous>', file: shortFile(file), line: Number(m[3]) });
    if (out.length >= max) break;
  }
  return out;
}

/** Capture the caller's stack, skipping kmem frames; at most `max` frames. */
export function captureStack(max = 16): Frame[] {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 64;
  const stack = new Error().stack ?? '';
  Error.stackTraceLimit = limit;
  return parseStack(stack, max);
}

/**
 * The kernel function that frees for kmem API method `fn` (a V8 frame name
 * such as "Kernel.kfree"): where a 6.x free report's ip points.
 */
const FREEING_FUNCTIONS: Record<string, string> = {
  'Kernel.kfree': 'kfree',
  'Kernel.kfreeSensitive': 'kfree',
  'Kernel.krealloc': 'kfree',
  'Kernel.kmemCacheFree': 'kmem_cache_free',
  'Kernel.kmemCacheFreeBulk': 'kmem_cache_free_bulk',
  // The same calls on a KASAN machine (src/kernel.ts KasanKernel: V8 names a frame by the receiver's class).
  'KasanKernel.kfree': 'kfree',
  'KasanKernel.kfreeSensitive': 'kfree',
  'KasanKernel.krealloc': 'kfree',
  'KasanKernel.kmemCacheFree': 'kmem_cache_free',
  'KasanKernel.kmemCacheFreeBulk': 'kmem_cache_free_bulk',
  'Mempool.free': 'mempool_free',
};

/**
 * The kernel function a free report names ("double-free in kfree"): the
 * outermost kmem API call on the stack that frees, or null if none is.
 */
export function freeingFunction(): string | null {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 64;
  const stack = new Error().stack ?? '';
  Error.stackTraceLimit = limit;
  let found: string | null = null;
  for (const line of stack.split('\n')) {
    const m = FRAME_RE.exec(line);
    const name = m?.[1] !== undefined ? FREEING_FUNCTIONS[m[1]] : undefined;
    if (name !== undefined) found = name;
  }
  return found;
}

/**
 * The Error constructor as kmem found it. An Error keeps V8's frames
 * unformatted until `stack` is read, and it is the cheapest holder V8
 * offers: Error.captureStackTrace() turns the object it is given into a
 * dictionary (its own `stack` accessor and the frames, added as
 * properties), which costs time at every capture and memory while the
 * record is kept; an Error has both in its map already.
 */
export const NativeError = Error;

/**
 * stack_trace_save(): record the caller's stack without formatting it:
 * `depth` frames, this function's first.
 */
export function stackTraceSave(depth = SAVE_DEPTH): RawStack {
  const limit = NativeError.stackTraceLimit;
  NativeError.stackTraceLimit = depth;
  const raw: RawStack = new NativeError();
  NativeError.stackTraceLimit = limit;
  return raw;
}

/**
 * The stack recorded where the running kmem call was entered, on a machine
 * that records one per call (KASAN with stack collection: see
 * KasanKernel in src/kernel.ts); null elsewhere. Recorded there, a call's
 * stack is walked once, and one record serves every save the call makes
 * (the KASAN track, the slub_debug track, each object of a bulk call).
 */
let entryStack: RawStack | null = null;

/** Frames an entry capture keeps from the API method on: the method and the 16 caller frames a track keeps. */
export const ENTRY_DEPTH = 1 + 16;

/** The entry stack of the running call, if one was recorded. */
export function entryStackTrace(): RawStack | null {
  return entryStack;
}

/**
 * A kmem call begins: set the depth of the record the API method is about
 * to make in its own frame. Returns Error.stackTraceLimit as it was, for
 * beginEntry(). The call reads, in the API method:
 *
 *   const outer = beginEntry(entryLimit(), new NativeError());
 *
 * (arguments are evaluated in order: the depth is set, then the record made
 * with the method as its first frame, then the depth put back).
 */
export function entryLimit(): number {
  const limit = NativeError.stackTraceLimit;
  NativeError.stackTraceLimit = ENTRY_DEPTH;
  return limit;
}

/**
 * The record of the caller's stack is made: it serves every save the call
 * makes. Puts Error.stackTraceLimit back to `limit` and returns the
 * enclosing call's record (a ctor that calls kmalloc inside kmalloc), which
 * endEntry() puts back.
 */
export function beginEntry(limit: number, raw: RawStack): RawStack | null {
  NativeError.stackTraceLimit = limit;
  const outer = entryStack;
  entryStack = raw;
  return outer;
}

/**
 * kmem calls back into the caller's code (a ctor): calls made from there
 * record their own stacks. endEntry() puts the record back.
 */
export function suspendEntry(): RawStack | null {
  const outer = entryStack;
  entryStack = null;
  return outer;
}

/** The call begun by beginEntry(), or the callback of suspendEntry(), ends (normally or by a throw). */
export function endEntry(outer: RawStack | null): void {
  entryStack = outer;
}

/** The part of V8's CallSite (Error.prepareStackTrace's frames) kmem reads; typed here so the published types need no Node typings. */
interface V8CallSite {
  getFunctionName(): string | null;
  getTypeName(): string | null;
  getMethodName(): string | null;
  getFileName(): string | undefined | null;
  getLineNumber(): number | null;
  getColumnNumber(): number | null;
  isNative(): boolean;
  isConstructor(): boolean;
  isAsync(): boolean;
  isEval(): boolean;
  getEvalOrigin(): string | undefined;
  getPosition(): number;
}

/** Error.prepareStackTrace that hands V8's call sites back unformatted. */
function callSites(_error: unknown, sites: V8CallSite[]): V8CallSite[] {
  return sites;
}

/** Script names seen in saved stacks: a small number each, and whether they are kmem's. */
const scriptIds = new Map<string, number>();
const scriptInternal: boolean[] = [];

function scriptId(name: string): number {
  let id = scriptIds.get(name);
  if (id === undefined) {
    id = scriptIds.size;
    scriptIds.set(name, id);
    scriptInternal.push(internal(name.replace(/^file:\/\//, '')));
  }
  return id;
}

/**
 * A stackTraceSave() record, read once (reading makes V8 build it). `key`
 * names the caller's frames for deduplication without the costly part of
 * formatting (resolving positions to lines, building the text): per frame
 * the script and character position (an eval'd frame: its origin, line and
 * column) and the names V8 prints with it. Null when the frames can only be
 * compared formatted: with source maps applied by Node itself.
 */
export interface SavedStack {
  readonly key: string | null;
  readonly raw: RawStack;
  readonly sites: V8CallSite[] | null;
  readonly text: string | null;
  /** The Error.prepareStackTrace in force when read: it formats the sites. */
  readonly prepare: unknown;
}

/**
 * Read a stackTraceSave() record: its key, and what formatSavedStack() needs.
 * It may run long after the save, inside some later allocation, so nothing
 * it calls may throw out of it: a stack that cannot be read is no stack.
 */
export function readSavedStack(raw: RawStack): SavedStack {
  const prepare = Error.prepareStackTrace;
  const nodeMaps = prepare === undefined && typeof process !== 'undefined' && process.sourceMapsEnabled === true;
  if (nodeMaps) return textStack(raw, prepare);
  let sites: unknown = null;
  Error.prepareStackTrace = callSites;
  try {
    sites = raw.stack;
  } catch {
    sites = null;
  } finally {
    Error.prepareStackTrace = prepare;
  }
  if (!Array.isArray(sites)) return { key: null, raw, sites: null, text: typeof sites === 'string' ? sites : null, prepare };
  let key: string | null;
  try {
    key = sitesKey(sites as V8CallSite[]);
  } catch {
    key = null;
  }
  return { key, raw, sites, text: null, prepare };
}

function sitesKey(sites: V8CallSite[]): string {
  let key = '';
  for (const cs of sites) {
    const file = cs.getFileName();
    if (typeof file === 'string' && scriptInternal[scriptId(file)]) continue;
    // What V8 prints before the location: a function made at one place can
    // be named at run time ({ [name]: () => ... }), a method shows its
    // receiver's type and, called through another property, "[as name]".
    const type = cs.isConstructor() ? 'new' : cs.getTypeName();
    const method = type === null || type === 'new' ? null : cs.getMethodName();
    const how = `${cs.getFunctionName()}:${type}:${method}:${cs.isAsync() ? 'async' : ''}`;
    if (cs.isEval()) {
      // Code from eval or new Function has no script of its own to name: its
      // origin, line and column are what its frame prints.
      key += `${cs.getEvalOrigin()}:${cs.getLineNumber()}:${cs.getColumnNumber()}:${how}\n`;
    } else if (typeof file === 'string') {
      key += `${scriptId(file)}:${cs.getPosition()}:${how}\n`;
    }
    // else a builtin's or native frame: "(<anonymous>)", no line, not printed.
  }
  return key;
}

function textStack(raw: RawStack, prepare: unknown): SavedStack {
  let text: unknown = null;
  try {
    text = raw.stack;
  } catch {
    text = null;
  }
  return { key: null, raw, sites: null, text: typeof text === 'string' ? text : null, prepare };
}

/**
 * What kallsyms does for a saved trace: its frames as captureStack() would
 * have given them at the time (kmem frames dropped, at most `max`), formatted
 * by the Error.prepareStackTrace in force (a test runner's source maps), or
 * as V8 and Node format call sites by default.
 */
export function formatSavedStack(saved: SavedStack, max = 16): Frame[] {
  let text = saved.text;
  const sites = saved.sites;
  if (sites !== null) {
    const prepare = saved.prepare;
    if (typeof prepare === 'function') {
      let out: unknown = null;
      try {
        out = prepare.call(Error, saved.raw, sites);
      } catch {
        out = null;
      }
      text = typeof out === 'string' ? out : null;
    } else {
      text = sites.length === 0 ? 'Error' : `Error\n    at ${sites.join('\n    at ')}`;
    }
  }
  return text === null ? [] : parseStack(text, max);
}

function shortFile(file: string): string {
  const cwd = typeof process !== 'undefined' ? process.cwd() : '';
  if (cwd && file.startsWith(`${cwd}/`)) return file.slice(cwd.length + 1);
  return file;
}

/** One frame as a report line: " fn (file:line)". */
export function formatFrame(f: Frame): string {
  return ` ${f.fn} (${f.file}:${f.line})`;
}
