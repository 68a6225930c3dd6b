/**
 * The stack depot (lib/stackdepot.c): each distinct stack is stored once and
 * named by a 32-bit handle, so a saved track is a few numbers (pid, cpu,
 * handle) and not a JavaScript object per allocation. Handle 0 means "no
 * stack". SLUB's U tracks and KASAN's alloc/free/aux tracks each keep one.
 *
 * The kernel's stack_depot_save() hashes the raw return addresses. A
 * JavaScript stack has no cheap content to hash: only V8's formatting
 * (positions resolved to lines, function names, the text) says what it is,
 * and that costs several times the capture itself. So saving is split in two:
 *
 *   stack_depot_save()  records the stack unformatted (stackTraceSave) in a
 *                       ring of RING recent saves and returns a pending
 *                       handle naming that ring entry;
 *   resolve()           reads it and returns the final handle, which the
 *                       entry remembers. A stack is deduplicated by content
 *                       as the kernel does, but compared first by V8's raw
 *                       positions of its frames (readSavedStack), which are
 *                       cheap to get; only a stack not seen before is
 *                       formatted (formatSavedStack), once.
 *
 * Most tracks are overwritten soon (the object is freed, or allocated again)
 * and are never formatted at all. A pending handle must not outlive its ring
 * entry, so the depot is told where each one was stored (bind(), with a
 * StackHandleStore that can read and write those places): when the ring comes
 * back round to an entry, every place that still holds its pending handle
 * gets the final one (formatting it then, once), and places that moved on
 * cost nothing. A pending handle also carries its entry's generation, so one
 * that was copied somewhere the depot was not told of resolves to "no stack",
 * never to someone else's stack.
 *
 *   handle  0                       no stack
 *           1 .. CAPACITY           a stored stack (stacks[handle])
 *           PENDING | gen << RING_BITS | entry
 *                                   a recorded stack not yet formatted
 *
 * A track whose stack was deliberately not recorded (KASAN's kasanStacks:
 * 'sampled') holds STACK_NOT_SAMPLED, which fetches no frames.
 *
 * Memory is bounded: RING raw stacks (each holds V8's frames of up to 32
 * call sites, with the functions and receivers they name, until formatted),
 * and at most CAPACITY distinct stacks, after which, as when the kernel's
 * depot pools run out, new stacks are not saved (handle 0).
 */
import { entryStackTrace, type Frame, formatFrame, formatSavedStack, type RawStack, readSavedStack, stackTraceSave } from './stacktrace.js';

/** Frames kept per stack (TRACK_ADDRS_COUNT; KASAN's 64 are mostly kernel entry code). */
const STACK_DEPTH = 16;
/** Distinct stacks the depot stores at most. */
const CAPACITY = 1 << 16;
/** Saves recorded unformatted at a time. */
const RING_BITS = 10;
const RING = 1 << RING_BITS;
const RING_MASK = RING - 1;
/** Bit 30: fits the u32 of struct track and the i32 of KASAN's records alike. */
const PENDING = 0x40000000;
const GEN_MASK = (PENDING - 1) >>> RING_BITS;

/**
 * Where a user of the depot keeps its handles, so that a pending handle can
 * be replaced by its final one before its ring entry is reused.
 */
export interface StackHandleStore {
  /** Does place `where` (as passed to bind()) still hold `handle`? */
  holds(where: number, handle: number): boolean;
  /** Put `resolved` where `handle` is at place `where`. */
  replace(where: number, handle: number, resolved: number): void;
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

  // The ring of recent saves, by entry.
  private readonly raw: (RawStack | undefined)[] = new Array(RING).fill(undefined);
  private readonly gen = new Int32Array(RING);
  /** The final handle once resolved, else UNRESOLVED. */
  private readonly resolved = new Int32Array(RING).fill(UNRESOLVED);
  /** The first place the pending handle was stored, NOWHERE if none yet. */
  private readonly where = new Float64Array(RING).fill(NOWHERE);
  /** Further places (a bulk free stores one handle in every object it frees). */
  private readonly moreWhere: (number[] | undefined)[] = new Array(RING).fill(undefined);
  private next = 0;

  /** `store` finds bound handles again; without one, a pending handle goes stale when its entry is reused. */
  constructor(store: StackHandleStore | null = null) {
    this.store = store;
  }

  /** stack_depot_save(): record the caller's stack; the handle may be pending (see above). */
  save(): number {
    const e = this.next;
    this.next = (e + 1) & RING_MASK;
    if (this.raw[e] !== undefined || this.where[e] !== NOWHERE) this.retire(e);
    const gen = (this.gen[e]! + 1) & GEN_MASK;
    this.gen[e] = gen;
    this.resolved[e] = UNRESOLVED;
    this.raw[e] = entryStackTrace() ?? stackTraceSave();
    return (PENDING | (gen << RING_BITS) | e) >>> 0;
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
      else more.push(where);
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
      if (this.byRawKey.size >= 4 * CAPACITY) this.byRawKey.clear();
      this.byRawKey.set(key, h);
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

  /** The ring entry of a pending handle that is still current, else -1. */
  private entry(handle: number): number {
    if (handle < PENDING) return -1;
    const e = handle & RING_MASK;
    if (this.gen[e] !== ((handle >>> RING_BITS) & GEN_MASK)) return -1;
    return this.raw[e] !== undefined || this.resolved[e] !== UNRESOLVED ? e : -1;
  }

  /**
   * The ring is about to reuse entry e: every place still holding its
   * pending handle gets the final one (formatted now if it was not yet).
   */
  private retire(e: number): void {
    const store = this.store;
    const w = this.where[e]!;
    if (store !== null && w !== NOWHERE) {
      const pending = (PENDING | (this.gen[e]! << RING_BITS) | e) >>> 0;
      if (store.holds(w, pending)) store.replace(w, pending, this.resolve(pending));
      const more = this.moreWhere[e];
      if (more !== undefined) {
        for (const m of more) if (store.holds(m, pending)) store.replace(m, pending, this.resolve(pending));
      }
    }
    this.raw[e] = undefined;
    this.resolved[e] = UNRESOLVED;
    this.where[e] = NOWHERE;
    this.moreWhere[e] = undefined;
  }

  /** Store frames once: their handle, 0 for no frames or a full depot. */
  private intern(frames: Frame[]): number {
    if (frames.length === 0) return 0;
    let key = '';
    for (const f of frames) key += `${f.fn}\0${f.file}\0${f.line}\n`;
    let h = this.byKey.get(key);
    if (h === undefined) {
      if (this.stacks.length > CAPACITY) return 0;
      h = this.stacks.length;
      this.stacks.push(frames);
      this.byKey.set(key, h);
    }
    return h;
  }
}
