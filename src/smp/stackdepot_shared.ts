/**
 * The stack depot when each CPU is a worker thread (boot({ smp: 'workers' })):
 * lib/stackdepot.c's design as the kernel has it on SMP -- each distinct
 * stack stored once, deduplicated by hash, named by a 32-bit handle that
 * any CPU turns back into the frames -- with the stored stacks in
 * SharedArrayBuffers, so that a track saved on one CPU (KASAN's free stack
 * of an object freed there) prints on another.
 *
 * The single-thread depot (src/lib/stackdepot.ts) defers formatting a stack
 * until a report needs it, through a ring of raw V8 stacks only its own
 * thread can read; a handle here must mean the same on every thread, so a
 * stack is formatted when it is saved (a thread-local cache of V8's raw
 * positions spares the formatting for a stack seen before).
 *
 * Layout (all shared):
 *
 *   ctl      [LOCK, COUNT, POOL_LEN]   pool_lock, handles used, bytes used
 *   buckets  Int32Array(BUCKETS)       first handle of each hash chain, 0 = empty
 *   entry    Int32Array(CAPACITY * 4)  per handle: hash, next in chain, offset, length
 *   pool     Uint8Array(POOL_BYTES)    the frames of each stack, UTF-8: fn \0 file \0 line \n ...
 *
 * Memory ordering, as stack_depot_save() has it: lookups take no lock (the
 * kernel walks its hash chain under RCU). An insert takes pool_lock, looks
 * again, writes the entry and its bytes with plain stores and then
 * publishes the handle with a seq-cst Atomics.store of the bucket head: a
 * CPU whose Atomics.load of the bucket sees the new handle sees the entry
 * and its bytes too (release/acquire). Entries are never removed, so a
 * handle once seen stays valid.
 */

import { StackDepot } from '../lib/stackdepot.js';
import { entryStackTrace, type Frame, formatFrame, formatSavedStack, readSavedStack, stackTraceSave } from '../lib/stacktrace.js';
import { spinLock, spinUnlock } from './spinlock.js';

/** Frames kept per stack (as the single-thread depot). */
const STACK_DEPTH = 16;
/** Distinct stacks stored at most; then, as when the kernel's pools run out, handle 0. */
const CAPACITY = 1 << 15;
const BUCKETS = 1 << 16;
const BUCKET_MASK = BUCKETS - 1;
/** Bytes of formatted frames (untouched pages of a SharedArrayBuffer cost no memory). */
const POOL_BYTES = 16 << 20;

const enum Ctl {
  LOCK = 0,
  COUNT = 1,
  POOL_LEN = 2,
  WORDS = 3,
}

const enum E {
  HASH = 0,
  NEXT = 1,
  OFFSET = 2,
  LENGTH = 3,
  FIELDS = 4,
}

/** FNV-1a over the key's UTF-16 units. */
function hashKey(key: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193);
  return h | 0;
}

export class SharedStackDepot extends StackDepot {
  private readonly ctl = new Int32Array(new SharedArrayBuffer(Ctl.WORDS * 4));
  private readonly buckets = new Int32Array(new SharedArrayBuffer(BUCKETS * 4));
  private readonly entries = new Int32Array(new SharedArrayBuffer(CAPACITY * E.FIELDS * 4));
  private readonly pool = new Uint8Array(new SharedArrayBuffer(POOL_BYTES));
  // This thread's caches: never shared, only ever hints.
  private readonly framesOf = new Map<number, Frame[]>();
  private readonly rawKeys = new Map<string, number>();
  private readonly enc = new TextEncoder();
  private readonly dec = new TextDecoder();

  constructor() {
    super(null);
  }

  /** stack_depot_save(): the caller's stack, stored once; a final handle (never pending). */
  override save(): number {
    const saved = readSavedStack(entryStackTrace() ?? stackTraceSave());
    const rawKey = saved.key;
    if (rawKey !== null) {
      const known = this.rawKeys.get(rawKey);
      if (known !== undefined) return known;
    }
    const h = this.internShared(formatSavedStack(saved, STACK_DEPTH));
    if (rawKey !== null && h !== 0) {
      if (this.rawKeys.size >= 4 * CAPACITY) this.rawKeys.clear();
      this.rawKeys.set(rawKey, h);
    }
    return h;
  }

  /** Handles here are final when made: nothing to remember. */
  override bind(_handle: number, _where: number): void {}

  override resolve(handle: number): number {
    return handle;
  }

  override fetch(handle: number): readonly Frame[] {
    if (!(handle > 0 && handle <= Atomics.load(this.ctl, Ctl.COUNT))) return [];
    let frames = this.framesOf.get(handle);
    if (frames === undefined) {
      frames = this.decode(handle);
      this.framesOf.set(handle, frames);
    }
    return frames;
  }

  override lines(handle: number): string[] {
    return this.fetch(handle).map(formatFrame);
  }

  override get size(): number {
    return Atomics.load(this.ctl, Ctl.COUNT);
  }

  /** The frames of a stored handle, from the shared pool. */
  private decode(handle: number): Frame[] {
    const e = handle * E.FIELDS;
    const off = this.entries[e + E.OFFSET]!;
    const text = this.dec.decode(this.pool.slice(off, off + this.entries[e + E.LENGTH]!));
    const out: Frame[] = [];
    for (const line of text.split('\n')) {
      if (line === '') continue;
      const [fn = '', file = '', ln = '0'] = line.split('\0');
      out.push({ fn, file, line: Number(ln) });
    }
    return out;
  }

  /** The handle of a stored stack equal to key in bucket b, 0 if none; lockless (see above). */
  private lookup(b: number, hash: number, bytes: Uint8Array): number {
    for (let h = Atomics.load(this.buckets, b); h !== 0; h = this.entries[h * E.FIELDS + E.NEXT]!) {
      const e = h * E.FIELDS;
      if (this.entries[e + E.HASH] !== hash || this.entries[e + E.LENGTH] !== bytes.length) continue;
      const off = this.entries[e + E.OFFSET]!;
      let same = true;
      for (let i = 0; i < bytes.length; i++) {
        if (this.pool[off + i] !== bytes[i]) {
          same = false;
          break;
        }
      }
      if (same) return h;
    }
    return 0;
  }

  /** Store frames once: their handle, 0 for no frames or a full depot. */
  private internShared(frames: Frame[]): number {
    if (frames.length === 0) return 0;
    let key = '';
    for (const f of frames) key += `${f.fn}\0${f.file}\0${f.line}\n`;
    const hash = hashKey(key);
    const b = hash & BUCKET_MASK;
    const bytes = this.enc.encode(key);
    const found = this.lookup(b, hash, bytes);
    if (found !== 0) {
      this.framesOf.set(found, frames);
      return found;
    }
    spinLock(this.ctl, Ctl.LOCK);
    try {
      // Another CPU may have stored it since the lockless look.
      const again = this.lookup(b, hash, bytes);
      if (again !== 0) return again;
      const h = this.ctl[Ctl.COUNT]! + 1;
      const off = this.ctl[Ctl.POOL_LEN]!;
      if (h >= CAPACITY || off + bytes.length > POOL_BYTES) return 0;
      this.pool.set(bytes, off);
      const e = h * E.FIELDS;
      this.entries[e + E.HASH] = hash;
      this.entries[e + E.NEXT] = this.buckets[b]!;
      this.entries[e + E.OFFSET] = off;
      this.entries[e + E.LENGTH] = bytes.length;
      this.ctl[Ctl.POOL_LEN] = off + bytes.length;
      // Release: the entry and its bytes before the handle is reachable.
      Atomics.store(this.ctl, Ctl.COUNT, h);
      Atomics.store(this.buckets, b, h);
      this.framesOf.set(h, frames);
      return h;
    } finally {
      spinUnlock(this.ctl, Ctl.LOCK);
    }
  }
}
