/**
 * The stack depot (lib/stackdepot.c): each distinct stack is stored once and
 * named by a 32-bit handle, so a saved track is a few numbers (pid, cpu,
 * handle) and not a JavaScript object per allocation. Handle 0 means "no
 * stack". SLUB's U tracks and KASAN's alloc/free/aux tracks each keep one.
 *
 * The kernel's stack_depot_save() hashes the raw return addresses. A
 * JavaScript stack has no cheap content to hash: V8 records a stack (a few
 * microseconds: it walks the frames and builds a record per frame) but says
 * what is in it only through its CallSite objects, whose methods cost about
 * as much again per stack, or through formatting, which costs several times
 * more. So saving is split in two:
 *
 *   stack_depot_save()  records the stack unformatted (stackTraceSave) in an
 *                       entry of the table of recent saves and returns a
 *                       pending handle naming that entry; no CallSite method
 *                       runs;
 *   resolve()           reads it and returns the final handle, which the
 *                       entry remembers. A stack is deduplicated by content
 *                       as the kernel does, but compared first by V8's raw
 *                       positions of its frames (readSavedStack), cheaper
 *                       than formatting; only a stack not seen before is
 *                       formatted (formatSavedStack), once.
 *
 * A report resolves the handles it prints. Otherwise a recorded stack is
 * only resolved when the table needs its entry back while some track still
 * holds the pending handle. Most tracks move on first (the object is freed,
 * or allocated again), so most stacks are never read at all: a new save
 * takes the next entry no track holds any more. The table grows (doubling
 * from 1024 entries) rather than resolve one, up to its memory budget:
 * RAW_BUDGET bytes of V8's records, as much as the kernel's depot may take
 * (DEPOT_POOLS_CAP pools of DEPOT_POOL_SIZE bytes: 128 MiB). A record is
 * about 1.1 KB at the 17 frames of an entry capture (KASAN), 2 KB at the 32
 * frames of a capture deep inside kmem (slub_debug's U tracks size their
 * table by rawEntriesFor()). KASAN's quarantine of a 256 MiB machine (8 MiB,
 * each freed object holding its alloc and its free stack) fits in it for
 * objects of 128-byte slots; past the budget, a save that finds no free
 * entry among the next few resolves the oldest held stack there. (KASAN's
 * kasanStacks: 'sampled' records 32 frames deep inside, in a table sized
 * for 17: it keeps 1 allocation's stacks in 64, far below the entry count.)
 *
 * The depot is told where each pending handle was stored (bind(), with a
 * StackHandleStore that can read and write those places): when the table
 * takes an entry back, every place that still holds its pending handle gets
 * the final one (formatting it then, once), and places that moved on cost
 * nothing. A pending handle also carries its entry's generation, so one
 * that was copied somewhere the depot was not told of resolves to "no
 * stack", never to someone else's stack.
 *
 *   handle  0                       no stack
 *           1 .. stored             a stored stack (stacks[handle])
 *           PENDING | gen << ENTRY_BITS | entry
 *                                   a recorded stack not yet formatted
 *
 * A track whose stack was deliberately not recorded (KASAN's kasanStacks:
 * 'sampled') holds STACK_NOT_SAMPLED, which fetches no frames.
 *
 * Memory is bounded twice: the recorded stacks by RAW_BUDGET (the table's
 * entries; each holds V8's frames with the functions and receivers they
 * name until resolved), and the stored stacks by STORE_BUDGET bytes of
 * frames and keys, after which, as when the kernel's depot pools run out,
 * new stacks are not stored (handle 0).
 */
import { ENTRY_DEPTH, entryStackTrace, type Frame, formatFrame, formatSavedStack, type RawStack, readSavedStack, stackTraceSave } from './stacktrace.js';

/** Frames kept per stack (TRACK_ADDRS_COUNT; KASAN's 64 are mostly kernel entry code). */
const STACK_DEPTH = 16;
/** Bytes of recorded stacks the table of recent saves may hold: DEPOT_POOLS_CAP * DEPOT_POOL_SIZE. */
export const RAW_BUDGET = 8192 * 16384;
/**
 * Bytes V8 keeps per recorded stack: a CallSiteInfo and its array slot per
 * frame, and the holder (an Error). 1100 at an entry capture's 17 frames:
 * 1095 measured on Node 20 (bench/kasan_stack_probe.ts; 1211 when the
 * holder was an object given to Error.captureStackTrace, a dictionary).
 */
const RAW_FRAME_BYTES = 60;
const RAW_HOLDER_BYTES = 80;
/** Recorded stacks of `frames` frames that fit in RAW_BUDGET (the default table size is for entry captures). */
export function rawEntriesFor(frames: number): number {
  return Math.min(MAX_ENTRIES, Math.floor(RAW_BUDGET / (RAW_HOLDER_BYTES + RAW_FRAME_BYTES * frames)));
}
/** Bytes of stored stacks (their frames and dedup keys, estimated) at most. */
const STORE_BUDGET = 32 << 20;
/** Characters of raw dedup keys cached at most before the cache starts over. */
const RAW_KEY_BUDGET = 8 << 20;
/** Entries of the table of recent saves, at most 2^ENTRY_BITS. */
const ENTRY_BITS = 18;
const MAX_ENTRIES = 1 << ENTRY_BITS;
const ENTRY_MASK = MAX_ENTRIES - 1;
const FIRST_ENTRIES = 1024;
/** Entries take() looks at for a free one before it grows the table or retires one. */
const PROBES = 8;
/** Bit 30: fits the u32 of struct track and the i32 of KASAN's records alike. */
const PENDING = 0x40000000;
const GEN_MASK = (PENDING - 1) >>> ENTRY_BITS;

/**
 * Where a user of the depot keeps its handles, so that a pending handle can
 * be replaced by its final one before its entry is reused.
 */
export interface StackHandleStore {
  /** Does place `where` (as passed to bind()) still hold `handle`? */
  holds(where: number, handle: number): boolean;
  /** Put `resolved` where `handle` is at place `where`. */
  replace(where: number, handle: number, resolved: number): void;
}

export interface StackDepotOptions {
  /** Recorded stacks kept unresolved at most (default rawEntriesFor(ENTRY_DEPTH): 122016; at least 1, at most 2^18). */
  rawEntries?: number;
}

/**
 * The handle of a track whose stack was deliberately not recorded (KASAN's
 * kasanStacks: 'sampled'): below PENDING and above any stored handle, so it
 * resolves to itself and fetches no frames.
 */
export const STACK_NOT_SAMPLED = PENDING - 1;

const NOWHERE = -1;
const UNRESOLVED = -1;

export class StackDepot {
  private readonly store: StackHandleStore | null;
  /** Frames by handle; index 0 is the empty "no stack". */
  private readonly stacks: Frame[][] = [[]];
  /** Content key (the formatted frames) -> handle. */
  private readonly byKey = new Map<string, number>();
  /** Raw key (readSavedStack: script and position of each frame) -> handle; a cache. */
  private readonly byRawKey = new Map<string, number>();
  private rawKeyChars = 0;
  /** Estimated bytes of the stored stacks. */
  private storedBytes = 0;
  /** Function and file names of stored frames, each string kept once. */
  private readonly names = new Map<string, string>();

  // The table of recent saves, by entry: entries [0, cap) in use, taken round robin from `next`.
  private readonly maxEntries: number;
  private cap = 0;
  private next = 0;
  /** The entry save() filled last (a call that saves several tracks records its stack once). */
  private last = -1;
  private raw: (RawStack | undefined)[] = [];
  private gen = new Int32Array(0);
  /** The final handle once resolved, else UNRESOLVED. */
  private resolved = new Int32Array(0);
  /** The first place the pending handle was stored, NOWHERE if none yet. */
  private where = new Float64Array(0);
  /** Further places (a bulk free stores one handle in every object it frees). */
  private moreWhere: (number[] | undefined)[] = [];

  /** `store` finds bound handles again; without one, a pending handle goes stale when its entry is reused. */
  constructor(store: StackHandleStore | null = null, opts: StackDepotOptions = {}) {
    this.store = store;
    const n = opts.rawEntries ?? rawEntriesFor(ENTRY_DEPTH);
    if (!Number.isInteger(n) || n < 1 || n > MAX_ENTRIES) throw new RangeError(`rawEntries: expected an integer from 1 to ${MAX_ENTRIES}, got ${n}`);
    this.maxEntries = n;
    this.grow(Math.min(FIRST_ENTRIES, n));
  }

  /** stack_depot_save(): record the caller's stack; the handle may be pending (see above). */
  save(): number {
    const raw = entryStackTrace() ?? stackTraceSave();
    const last = this.last;
    // The same record again: the call under way saves another track (a bulk free, an aux stack).
    if (last >= 0 && this.raw[last] === raw) return this.pendingOf(last);
    const e = this.take();
    this.last = e;
    const gen = (this.gen[e]! + 1) & GEN_MASK;
    this.gen[e] = gen;
    this.resolved[e] = UNRESOLVED;
    this.raw[e] = raw;
    return (PENDING | (gen << ENTRY_BITS) | e) >>> 0;
  }

  /**
   * The entry the next save fills: the first of the PROBES entries from
   * `next` that no track holds any more (or that was resolved already, whose
   * holders then get the final handle at no cost). When every one of them
   * is held, the table grows while under its budget; past it, the entry at
   * `next` (the oldest there) is retired: its holders get the final handle.
   */
  private take(): number {
    let e = this.next >= this.cap ? 0 : this.next;
    const first = e;
    let found = -1;
    for (let p = 0; p < PROBES; p++) {
      if (!this.held(e)) {
        found = e;
        break;
      }
      if (this.resolved[e] !== UNRESOLVED) {
        this.retire(e);
        found = e;
        break;
      }
      e = e + 1 >= this.cap ? 0 : e + 1;
    }
    if (found < 0) {
      if (this.cap < this.maxEntries) {
        found = this.cap;
        this.grow(Math.min(this.cap * 2, this.maxEntries));
      } else {
        found = first;
        this.retire(first);
      }
    }
    this.clear(found);
    this.next = found + 1;
    return found;
  }

  private grow(n: number): void {
    const old = this.cap;
    const gen = new Int32Array(n);
    gen.set(this.gen);
    this.gen = gen;
    const resolved = new Int32Array(n).fill(UNRESOLVED);
    resolved.set(this.resolved);
    this.resolved = resolved;
    const where = new Float64Array(n).fill(NOWHERE);
    where.set(this.where);
    this.where = where;
    for (let i = old; i < n; i++) {
      this.raw.push(undefined);
      this.moreWhere.push(undefined);
    }
    this.cap = n;
  }

  /** The pending handle of entry e as it stands. */
  private pendingOf(e: number): number {
    return (PENDING | (this.gen[e]! << ENTRY_BITS) | e) >>> 0;
  }

  /** Does some place the depot was told of still hold entry e's pending handle? */
  private held(e: number): boolean {
    const store = this.store;
    const w = this.where[e]!;
    if (store === null || w === NOWHERE) return false;
    const pending = this.pendingOf(e);
    if (store.holds(w, pending)) return true;
    const more = this.moreWhere[e];
    if (more !== undefined) for (const m of more) if (store.holds(m, pending)) return true;
    return false;
  }

  /** The pending `handle` has been stored at `where` (a place its StackHandleStore knows). */
  bind(handle: number, where: number): void {
    const e = this.entry(handle);
    if (e < 0) return;
    if (this.where[e] === NOWHERE) {
      this.where[e] = where;
    } else if (this.where[e] !== where) {
      const more = this.moreWhere[e];
      if (more === undefined) this.moreWhere[e] = [where];
      else if (!more.includes(where)) more.push(where);
    }
  }

  /** The final handle of `handle`: itself unless pending, 0 for a stale pending one. */
  resolve(handle: number): number {
    if (handle < PENDING) return handle;
    const e = this.entry(handle);
    if (e < 0) return 0;
    let h = this.resolved[e]!;
    if (h === UNRESOLVED) {
      h = this.symbolize(this.raw[e]!);
      this.resolved[e] = h;
      this.raw[e] = undefined;
      if (this.last === e) this.last = -1;
    }
    return h;
  }

  /** The handle of a recorded stack: known by its raw key, or formatted and stored. */
  private symbolize(raw: RawStack): number {
    const saved = readSavedStack(raw);
    const key = saved.key;
    if (key !== null) {
      const known = this.byRawKey.get(key);
      if (known !== undefined) return known;
    }
    const frames = formatSavedStack(saved, STACK_DEPTH);
    const h = this.intern(frames);
    if (key !== null && (h !== 0 || frames.length === 0)) {
      // Positions of the same stack can differ (another column of the same line): keep the cache bounded.
      if (this.rawKeyChars + key.length > RAW_KEY_BUDGET) {
        this.byRawKey.clear();
        this.rawKeyChars = 0;
      }
      this.byRawKey.set(key, h);
      this.rawKeyChars += key.length;
    }
    return h;
  }

  /** stack_depot_fetch(): the frames of a handle, [] for 0 or an unknown handle. */
  fetch(handle: number): readonly Frame[] {
    return this.stacks[this.resolve(handle)] ?? [];
  }

  /** stack_depot_print(): the frames of a handle as report lines. */
  lines(handle: number): string[] {
    return this.fetch(handle).map(formatFrame);
  }

  /** Distinct stacks stored (formatted so far). */
  get size(): number {
    return this.stacks.length - 1;
  }

  /** Recorded stacks the table keeps unresolved now (held by a track or not yet reused), and the most it may keep. */
  get recorded(): { kept: number; max: number } {
    let kept = 0;
    for (let e = 0; e < this.cap; e++) if (this.raw[e] !== undefined) kept++;
    return { kept, max: this.maxEntries };
  }

  /** The entry of a pending handle that is still current, else -1. */
  private entry(handle: number): number {
    if (handle < PENDING) return -1;
    const e = handle & ENTRY_MASK;
    if (e >= this.cap || this.gen[e] !== ((handle >>> ENTRY_BITS) & GEN_MASK)) return -1;
    return this.raw[e] !== undefined || this.resolved[e] !== UNRESOLVED ? e : -1;
  }

  /** Every place still holding entry e's pending handle gets the final one (formatted now if it was not yet). */
  private retire(e: number): void {
    const store = this.store;
    const w = this.where[e]!;
    if (store === null || w === NOWHERE) return;
    const pending = this.pendingOf(e);
    if (store.holds(w, pending)) store.replace(w, pending, this.resolve(pending));
    const more = this.moreWhere[e];
    if (more !== undefined) {
      for (const m of more) if (store.holds(m, pending)) store.replace(m, pending, this.resolve(pending));
    }
  }

  /** Entry e is free again: its pending handle, wherever it still is, goes stale. */
  private clear(e: number): void {
    this.raw[e] = undefined;
    this.resolved[e] = UNRESOLVED;
    this.where[e] = NOWHERE;
    this.moreWhere[e] = undefined;
    if (this.last === e) this.last = -1;
  }

  /** Store frames once: their handle, 0 for no frames or a full depot. */
  private intern(frames: Frame[]): number {
    if (frames.length === 0) return 0;
    let key = '';
    for (const f of frames) key += `${f.fn}\0${f.file}\0${f.line}\n`;
    let h = this.byKey.get(key);
    if (h === undefined) {
      const bytes = 2 * key.length + 64 + 48 * frames.length;
      if (this.storedBytes + bytes > STORE_BUDGET) return 0;
      this.storedBytes += bytes;
      h = this.stacks.length;
      this.stacks.push(frames.map((f) => ({ fn: this.name(f.fn), file: this.name(f.file), line: f.line })));
      this.byKey.set(key, h);
    }
    return h;
  }

  /** One copy of each function and file name. */
  private name(s: string): string {
    const known = this.names.get(s);
    if (known !== undefined) return known;
    this.names.set(s, s);
    return s;
  }
}
