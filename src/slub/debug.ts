/**
 * slub_debug: SLUB's own debugging (mm/slub.c, CONFIG_SLUB_DEBUG), as Linux
 * 6.18 does it. Written from the kernel's behaviour, not copied from it.
 *
 * A debug cache (any of F Z P U T: SLAB_DEBUG_FLAGS) never uses the lockless
 * per-CPU freelists nor the cpu partial lists: every allocation takes one
 * object from a node partial slab or a new slab under the list lock
 * (alloc_single_from_partial, alloc_single_from_new_slab) and every free goes
 * back through free_to_partial_list(). On both paths the debug processing
 * runs:
 *
 *   alloc_debug_processing   F: check_slab, the object pointer and the free
 *                            object's bytes (check_object, INACTIVE); then
 *                            T: the TRACE line, the saved kmalloc size, and
 *                            init_object(ACTIVE): red zones 0xcc, poison
 *                            0x6b..0xa5 up to the requested size
 *   set_track(ALLOC)         U: caller, cpu, pid, jiffies, stack handle
 *   free_debug_processing    F: check_slab, the pointer, "Object already
 *                            free" (on_freelist), check_object(ACTIVE), the
 *                            owning cache; then U: set_track(FREE), T: the
 *                            TRACE line and object dump, init_object(INACTIVE)
 *
 * One slot (offsets from the object, see calculate.ts for the geometry):
 *
 *   object - red_left_pad   left redzone        0xbb free / 0xcc allocated
 *   object                  object_size bytes   0x6b ... 0xa5 while free (P)
 *   object + object_size    right redzone       up to inuse
 *   object + inuse          [free pointer]      when it lives outside
 *   object + info_end       track alloc, track free (32 B each, U)
 *                           [orig_size u32]     kmalloc + U
 *                           [KASAN meta]
 *   ... size_from_object    padding 0x5a (P)
 *
 * struct track is kept in the slot, where the geometry puts it, the way the
 * kernel lays it out on x86-64 with CONFIG_STACKDEPOT:
 *
 *   +0  addr    u64   the caller; kmem stores a made-up text address
 *   +8  handle  u32   stack depot handle (lib/stackdepot.ts), maybe pending
 *   +12 cpu     i32
 *   +16 pid     i32
 *   +24 when    u64   jiffies (HZ = 250)
 *
 * The stack depot itself (the frames behind a handle) is a side table here.
 * set_track() stores a pending handle: the stack is recorded, not formatted,
 * and the depot swaps in the final handle when it formats the stack (for a
 * report, or when the track outlives the depot's ring of recent saves).
 *
 * Reports follow 6.15+ mm/slub.c (kept in 6.18): a damaged region prints
 * "[<what> overwritten] 0x..-0x.. @offset=N. First byte 0x.. instead of 0x..",
 * then (for the first damaged region of an object) object_err()'s
 * "BUG <cache> (<taint>): Object corrupt" block with the tracks, the Slab and
 * Object lines and the hex dumps, the WARN_ON(1) that object_err/slab_err end
 * with, and "FIX <cache>: Restoring <what> 0x..-0x..=0x..". Before 6.15 the
 * BUG line named the region ("Right Redzone overwritten") and dump_stack()
 * stood where the WARN is now; realdata/slub-debug-*.txt (5.4, 5.11) show that
 * older shape.
 *
 * Speed (issue 15): check_slab(), check_object() and on_freelist() first
 * run a quick, side-effect-free version (debug_geometry.ts: per-cache
 * geometry, 8-byte compares, an int32 freelist walk); only when it finds
 * something does the faithful check below run, from the start, so the
 * reports and repairs are the kernel's in the kernel's order. For an F, Z
 * and P cache a clean single alloc or free is done whole by
 * debug_geometry.ts (allocQuick, freeQuick: about 250 ns a kmalloc + kfree
 * pair instead of 500).
 *
 * `errors` counts what lib/slub_kunit.c counts through slab_add_kunit_errors():
 * one per damaged region and one per FIX (so a damaged region counts 2), one
 * per object_err() and slab_err() of its own, one for the "Objects remaining"
 * report plus one per object it lists.
 */
import { printHexDump } from '../lib/hexdump.js';
import { rawEntriesFor, StackDepot, type StackHandleStore } from '../lib/stackdepot.js';
import { type Frame, formatFrame, SAVE_DEPTH } from '../lib/stacktrace.js';
import { formatPageFlags, formatPx, hex } from '../lib/vsprintf.js';
import { PGTY_slab, pageflagNames } from '../memory/page.js';
import { pageFlagsWord } from '../page_alloc/debug.js';
import { __GFP_NOWARN } from '../page_alloc/gfp.js';
import { DebugGeometry } from './debug_geometry.js';
import { bswap32, CF, DIRECT_MAP_HI, FREE_ADD_PARTIAL, FREE_REMOVE_PARTIAL, FREE_SLAB, listAdd, listDel } from './slab.js';
import { __OBJECT_POISON, SLAB_CONSISTENCY_CHECKS, SLAB_KMALLOC, SLAB_POISON, SLAB_RED_ZONE, SLAB_STORE_USER, SLAB_TRACE } from './slab_flags.js';
import type { Slub } from './slub.js';

// include/linux/poison.h
export const POISON_INUSE = 0x5a;
export const POISON_FREE = 0x6b;
export const POISON_END = 0xa5;
export const SLUB_RED_INACTIVE = 0xbb;
export const SLUB_RED_ACTIVE = 0xcc;

/** sizeof(struct track) on x86-64 with CONFIG_STACKDEPOT. */
const TRACK_SIZE = 32;
const TRACK_ALLOC = 0;
const TRACK_FREE = 1;
/** sizeof(unsigned int): the saved kmalloc request size. */
const ORIG_SIZE_SIZE = 4;
/** struct kasan_alloc_meta / kasan_free_meta, generic KASAN. */
const KASAN_META_SIZE = 16;
/** CONFIG_HZ of a distribution kernel: jiffies tick every 4 ms. */
export const HZ = 250;
/** MAX_OBJS_PER_PAGE: slab->objects is 15 bits. */
const MAX_OBJS_PER_PAGE = 32767;
/** x86-64 vmemmap: struct page (and struct slab) addresses, 64 bytes each. */
const VMEMMAP_START = 0xffffea0000000000n;
/** last_cpupid while no CPU has touched a page, as page_alloc/debug.ts prints it. */
const LAST_CPUPID_UNSET = 0x1fffff;
/** A made-up kernel text address for a track's caller (%pS without a symbol). */
const TEXT_BASE_HI = 0xffffffff;
const TEXT_BASE_LO = 0x81000000;

const RULE_EQ = '='.repeat(77);
const RULE_DASH = '-'.repeat(77);

// kernel/panic.c's taint state lives in lib/panic.ts.
import { TAINT_BAD_PAGE, TAINT_WARN } from '../lib/panic.js';

/**
 * memchr_inv(): the first byte in [start, end) that is not `value`, or -1.
 * Compares whole aligned words while they match (the kernel does 8 bytes).
 */
function firstMismatch(u8: Uint8Array, u32: Uint32Array, start: number, end: number, value: number): number {
  let i = start;
  for (; i < end && (i & 3) !== 0; i++) if (u8[i] !== value) return i;
  const word = Math.imul(value, 0x01010101) >>> 0;
  for (; i + 4 <= end && u32[i >>> 2] === word; i += 4);
  for (; i < end; i++) if (u8[i] !== value) return i;
  return -1;
}

// ───────────────────────── what the kernel object supplies ─────────────────────────

export interface SlubDebugEnv {
  /** With CPU threads: the machine's shared stack depot (src/smp/stackdepot_shared.ts), used instead of one of this debugger's own. */
  depot?: StackDepot;
  /** printk() one record; `text` may start with a KERN_* level. */
  printk(text: string): void;
  /** dump_stack(): the CPU, Hardware name and Call Trace lines. */
  dumpStack(): string[];
  /** print_tainted() of the machine now. */
  printTainted(): string;
  /** add_taint(flag, lockdep): LOCKDEP_NOW_UNRELIABLE when `unreliable`. */
  addTaint(flag: number, unreliable: boolean): void;
  /** After a report has been printed: follow onBug (throw a KernelBug, or nothing). */
  bug(kind: string, lines: readonly string[]): void;
  cpu(): number;
  pid(): number;
  /** local_clock() in nanoseconds. */
  nowNs(): number;
  /** The zone of a page frame (for %pGp). */
  pageZone(pfn: number): number;
}

interface Track {
  addrLo: number;
  addrHi: number;
  handle: number;
  cpu: number;
  pid: number;
  when: number;
}

/** One struct location of slab_debug_trace_open(): the tracks that share a caller, stack and waste. */
export interface TraceLocation {
  count: number;
  addrHi: number;
  addrLo: number;
  handle: number;
  /** "%pS" of the caller; null for an empty track (printed "<not-available>"). */
  caller: string | null;
  /** The saved stack, one "%pS" per frame. */
  stack: string[];
  /** object_size - orig_size of each object here (allocations of a kmalloc cache with U). */
  waste: number;
  sumTime: number;
  minTime: number;
  maxTime: number;
  minPid: number;
  maxPid: number;
  cpus: Set<number>;
}

const KERN_ERR = '\x013';
const KERN_INFO = '\x016';

function ptr(addr: number): string {
  return addr === 0 ? '0000000000000000' : formatPx(addr);
}

export class SlubDebug {
  readonly slub: Slub;
  readonly env: SlubDebugEnv;
  /** slab_errors, counted the way lib/slub_kunit.c sees them. */
  errors = 0;
  /** Report lines of the operation under way, handed to onBug at its end. */
  private pending: string[] = [];
  /** The stack depot of the U tracks; a handle's place is the u32 index of its struct track. */
  private readonly depot: StackDepot;
  /** Per-cache geometry and the quick checks that run before the faithful ones. */
  private readonly geometry: DebugGeometry;

  constructor(slub: Slub, env: SlubDebugEnv) {
    this.slub = slub;
    this.env = env;
    this.geometry = new DebugGeometry(slub);
    const store: StackHandleStore = {
      holds: (at, handle) => this.trackHolds(at, handle),
      replace: (at, handle, resolved) => this.trackReplace(at, handle, resolved),
    };
    // U tracks record SAVE_DEPTH frames each (no entry capture on a machine without KASAN): a table of that many fits the budget.
    this.depot = env.depot ?? new StackDepot(store, { rawEntries: rawEntriesFor(SAVE_DEPTH) });
  }

  // ───────────────────────── cache and slab fields ─────────────────────────

  private flags(s: number): number {
    return this.slub.cf[s * CF.FIELDS + CF.FLAGS]!;
  }

  private name(s: number): string {
    return this.slub.caches[s]?.name ?? '<unknown>';
  }

  /** kmem_cache_debug(). */
  isDebug(s: number): boolean {
    return this.slub.cf[s * CF.FIELDS + CF.DEBUG]! !== 0;
  }

  /** get_info_end(): inuse, plus the free pointer when it lives outside the object. */
  private infoEnd(s: number): number {
    const cf = this.slub.cf;
    const r = s * CF.FIELDS;
    return cf[r + CF.OFFSET]! >= cf[r + CF.INUSE]! ? cf[r + CF.INUSE]! + 8 : cf[r + CF.INUSE]!;
  }

  /** slub_debug_orig_size(): kmalloc caches with SLAB_STORE_USER save the request size. */
  hasOrigSize(s: number): boolean {
    const f = this.flags(s);
    return (f & SLAB_STORE_USER) !== 0 && (f & SLAB_KMALLOC) !== 0;
  }

  /** size_from_object(): the slot size counted from the object. */
  private sizeFromObject(s: number): number {
    const cf = this.slub.cf;
    const r = s * CF.FIELDS;
    return this.flags(s) & SLAB_RED_ZONE ? cf[r + CF.SIZE]! - cf[r + CF.RED_LEFT_PAD]! : cf[r + CF.SIZE]!;
  }

  /** kasan_metadata_size(s, in_object). */
  private kasanMetaSize(s: number, inObject: boolean): number {
    const info = this.slub.caches[s];
    if (info === undefined || info.kasanAllocMetaOffset < 0) return 0;
    if (inObject) return info.kasanFreeMetaOffset === 0 ? KASAN_META_SIZE : 0;
    return (info.kasanAllocMetaOffset !== 0 ? KASAN_META_SIZE : 0) + (info.kasanFreeMetaOffset > 0 ? KASAN_META_SIZE : 0);
  }

  private slabObjects(pfn: number): number {
    return this.slub.pages.slabObjects[pfn]!;
  }

  private slabBytes(pfn: number): number {
    return 4096 << this.slub.pages.order[pfn]!;
  }

  /** Set slab->freelist and slab->inuse, keeping frozen. */
  private setSlab(s: number, pfn: number, freelist: number, inuse: number): void {
    this.slub.setSlabCounters(s, pfn, freelist, inuse, this.slub.slabFrozen(pfn));
  }

  /**
   * get_freepointer() as the full 64-bit value: kmem's address, 0 for NULL,
   * or -1 when the stored value does not decode to a direct-map pointer.
   */
  private fp(s: number, obj: number): number {
    const lo = this.slub.getFreepointer(s, obj);
    const hi = this.fpHi(s, obj);
    if (lo === 0 && hi === 0) return 0;
    return hi === DIRECT_MAP_HI >>> 0 ? lo : -1;
  }

  /** The decoded high word of the free pointer in obj (freelist walks call this per object: no array). */
  private fpHi(s: number, obj: number): number {
    const cf = this.slub.cf;
    const r = s * CF.FIELDS;
    const at = (obj + cf[r + CF.OFFSET]!) >>> 2;
    const xorHi = cf[r + CF.XOR_HI]!;
    return (this.slub.u32[at + 1]! ^ (xorHi === 0 ? 0 : xorHi ^ bswap32(at << 2))) >>> 0;
  }

  /** "%p" of the decoded free pointer, garbage included. */
  private fpHex(s: number, obj: number): string {
    return hex(this.fpHi(s, obj), 8) + hex(this.slub.getFreepointer(s, obj), 8);
  }

  /** check_valid_pointer(): NULL, or the start of one of the slab's objects. */
  private checkValidPointer(s: number, pfn: number, p: number): boolean {
    if (p === 0) return true;
    if (p < 0) return false;
    const cf = this.slub.cf;
    const r = s * CF.FIELDS;
    const size = cf[r + CF.SIZE]!;
    const base = pfn * 4096;
    const q = p - (this.flags(s) & SLAB_RED_ZONE ? cf[r + CF.RED_LEFT_PAD]! : 0);
    if (q < base || q >= base + this.slabObjects(pfn) * size) return false;
    // (q - base) % size === 0, by the scaled reciprocal instead of a division.
    const off = q - base;
    return this.slub.offsetToIndex(s, off) * size === off;
  }

  private objIndex(s: number, pfn: number, p: number): number {
    const cf = this.slub.cf;
    const r = s * CF.FIELDS;
    return Math.floor((p - pfn * 4096 - cf[r + CF.RED_LEFT_PAD]!) / cf[r + CF.SIZE]!);
  }

  /** __fill_map(): the indices of the objects on slab->freelist. */
  private freeMap(s: number, pfn: number): Uint8Array {
    const objects = this.slabObjects(pfn);
    const map = new Uint8Array(objects);
    let n = 0;
    for (let p = this.slub.slabFreelist(s, pfn); p > 0 && n <= objects; p = this.fp(s, p), n++) {
      if (!this.checkValidPointer(s, pfn, p)) break;
      map[this.objIndex(s, pfn, p)] = 1;
    }
    return map;
  }

  // ───────────────────────── orig_size, init_object, tracks ─────────────────────────

  /** get_orig_size(): the saved kmalloc request size, or object_size. */
  getOrigSize(s: number, obj: number): number {
    if (!this.hasOrigSize(s)) return this.slub.cf[s * CF.FIELDS + CF.OBJECT_SIZE]!;
    return this.slub.u32[(obj + this.infoEnd(s) + 2 * TRACK_SIZE) >>> 2]!;
  }

  /** set_orig_size(): at least KASAN's in-object meta, as the kernel keeps it. */
  setOrigSize(s: number, obj: number, origSize: number): void {
    if (!this.hasOrigSize(s)) return;
    const meta = this.kasanMetaSize(s, true);
    this.slub.u32[(obj + this.infoEnd(s) + 2 * TRACK_SIZE) >>> 2] = Math.max(origSize, meta);
  }

  /** __ksize()'s skip_orig_size_check(): the caller may now use the whole object. */
  skipOrigSizeCheck(s: number, obj: number): void {
    if (this.hasOrigSize(s)) this.setOrigSize(s, obj, this.slub.cf[s * CF.FIELDS + CF.OBJECT_SIZE]!);
  }

  /** init_object(): red zones to `val`, the object poisoned up to its requested size (word-wide, debug_geometry.ts). */
  private initObject(s: number, obj: number, val: number): void {
    this.geometry.initObject(s, obj, val, val === SLUB_RED_ACTIVE);
  }

  /** init_tracking(): both tracks zeroed. */
  private initTracking(s: number, obj: number): void {
    if (!(this.flags(s) & SLAB_STORE_USER)) return;
    const at = obj + this.infoEnd(s);
    this.slub.u8.fill(0, at, at + 2 * TRACK_SIZE);
  }

  /**
   * setup_slab_debug() and setup_object_debug() for a new slab: with POISON
   * the whole slab is 0x5a first, then every object gets its inactive red
   * zones and poison and empty tracks.
   */
  setupSlab(s: number, pfn: number): void {
    const flags = this.flags(s);
    const base = pfn * 4096;
    if (flags & SLAB_POISON) this.slub.u8.fill(POISON_INUSE, base, base + this.slabBytes(pfn));
    if (!(flags & (SLAB_STORE_USER | SLAB_RED_ZONE | __OBJECT_POISON))) return;
    const cf = this.slub.cf;
    const r = s * CF.FIELDS;
    const first = base + cf[r + CF.RED_LEFT_PAD]!;
    const size = cf[r + CF.SIZE]!;
    for (let i = 0; i < this.slabObjects(pfn); i++) {
      this.initObject(s, first + i * size, SLUB_RED_INACTIVE);
      this.initTracking(s, first + i * size);
    }
  }

  /** jiffies of the virtual clock. */
  private jiffies(): number {
    return Math.floor(this.env.nowNs() / (1_000_000_000 / HZ));
  }

  /**
   * set_track_prepare(): save the caller's stack in the depot and return its
   * handle. The stack is only recorded here; it is formatted when a report
   * prints it or the depot needs the final handle (lib/stackdepot.ts).
   */
  private trackPrepare(): number {
    return this.depot.save();
  }

  /**
   * StackHandleStore: does the struct track at u32 index `at` still hold
   * `handle`? Only while `at` is still a track of an object of a slab with
   * tracks: the depot must never write into memory that moved on.
   */
  private trackHolds(at: number, handle: number): boolean {
    const u32 = this.slub.u32;
    if (at + 2 >= u32.length || u32[at + 2] !== handle) return false;
    const pages = this.slub.pages;
    const head = pages.compoundHead(at >>> 10);
    if (pages.pageType[head] !== PGTY_slab) return false;
    const s = pages.slabCache[head]!;
    if (!(this.flags(s) & SLAB_STORE_USER)) return false;
    const cf = this.slub.cf;
    const size = cf[s * CF.FIELDS + CF.SIZE]!;
    const off = at * 4 - head * 4096 - cf[s * CF.FIELDS + CF.RED_LEFT_PAD]!;
    const idx = Math.floor(off / size);
    const inSlot = off - idx * size - this.infoEnd(s);
    return idx >= 0 && idx < this.slabObjects(head) && (inSlot === TRACK_ALLOC * TRACK_SIZE || inSlot === TRACK_FREE * TRACK_SIZE);
  }

  /** StackHandleStore: the final handle, and the made-up caller address that goes with it. */
  private trackReplace(at: number, handle: number, resolved: number): void {
    const u32 = this.slub.u32;
    if (u32[at + 2] !== handle) return;
    u32[at + 2] = resolved;
    if (u32[at] === (TEXT_BASE_LO + handle) >>> 0) u32[at] = (TEXT_BASE_LO + resolved) >>> 0;
  }

  /** set_track_update(): fill one struct track in the slot. */
  private setTrack(s: number, obj: number, which: number, handle: number): void {
    const at = (obj + this.infoEnd(s) + which * TRACK_SIZE) >>> 2;
    const u32 = this.slub.u32;
    u32[at] = (TEXT_BASE_LO + handle) >>> 0;
    u32[at + 1] = TEXT_BASE_HI;
    u32[at + 2] = handle;
    u32[at + 3] = this.env.cpu();
    u32[at + 4] = this.env.pid();
    u32[at + 5] = 0;
    const when = this.jiffies();
    u32[at + 6] = when % 2 ** 32;
    u32[at + 7] = Math.floor(when / 2 ** 32);
    this.depot.bind(handle, at);
  }

  /** A struct track as the kernel would have it: a pending handle reads as its final one. */
  private readTrack(s: number, obj: number, which: number): Track {
    const at = (obj + this.infoEnd(s) + which * TRACK_SIZE) >>> 2;
    const u32 = this.slub.u32;
    const raw = u32[at + 2]!;
    const handle = this.depot.resolve(raw);
    let addrLo = u32[at]!;
    if (handle !== raw && addrLo === (TEXT_BASE_LO + raw) >>> 0) addrLo = (TEXT_BASE_LO + handle) >>> 0;
    return {
      addrLo,
      addrHi: u32[at + 1]!,
      handle,
      cpu: u32[at + 3]! | 0,
      pid: u32[at + 4]! | 0,
      when: u32[at + 6]! + u32[at + 7]! * 2 ** 32,
    };
  }

  /** The frames saved for a track (the stack depot), empty when none. */
  trackFrames(s: number, obj: number, which: 'alloc' | 'free'): readonly Frame[] {
    if (!(this.flags(s) & SLAB_STORE_USER)) return [];
    return this.depot.fetch(this.readTrack(s, obj, which === 'alloc' ? TRACK_ALLOC : TRACK_FREE).handle);
  }

  // ───────────── alloc_traces / free_traces (slab_debug_trace_open) ─────────────

  /**
   * The locations behind /sys/kernel/debug/slab/<cache>/alloc_traces (or
   * free_traces), as slab_debug_trace_open() gathers them: for each object
   * in use on the node's partial list, then its full list (a debug cache has
   * no CPU slab), process_slab() hands the object's track to add_location(),
   * which keeps the locations sorted by (caller, stack handle, waste) and
   * merges equal ones; then sort() orders them by count, largest first, with
   * lib/sort.c's heapsort (ties land where that heapsort puts them).
   *
   * For free_traces the objects are still the allocated ones: the free track
   * is the slot's previous life, all zero (no caller) when it had none.
   * waste (allocations only) is object_size minus the kmalloc request size
   * the slot saved; it is 0 for a cache that saves none.
   */
  traceLocations(s: number, alloc: boolean): TraceLocation[] {
    if (!(this.flags(s) & SLAB_STORE_USER)) return [];
    const slub = this.slub;
    const cf = slub.cf;
    const r = s * CF.FIELDS;
    const first = cf[r + CF.RED_LEFT_PAD]!;
    const size = cf[r + CF.SIZE]!;
    const objectSize = cf[r + CF.OBJECT_SIZE]!;
    const now = this.jiffies();
    const locs: TraceLocation[] = [];
    const visit = (slab: number) => {
      const map = this.freeMap(s, slab);
      const base = slab * 4096;
      for (let i = 0; i < this.slabObjects(slab); i++) {
        if (map[i]) continue;
        const p = base + first + i * size;
        const t = this.readTrack(s, p, alloc ? TRACK_ALLOC : TRACK_FREE);
        this.addLocation(locs, t, now, alloc ? objectSize - this.getOrigSize(s, p) : 0);
      }
    };
    for (let slab = cf[r + CF.PARTIAL_HEAD]!; slab >= 0; slab = slub.pages.next[slab]!) visit(slab);
    for (let slab = cf[r + CF.FULL_HEAD]!; slab >= 0; slab = slub.pages.next[slab]!) visit(slab);
    kernelSort(locs, (a, b) => (a.count < b.count ? 1 : a.count > b.count ? -1 : 0));
    return locs;
  }

  /** add_location(): merge the track into its location, or insert a new one where the binary search ends. */
  private addLocation(locs: TraceLocation[], t: Track, now: number, waste: number): void {
    const age = now - t.when;
    let start = -1;
    let end = locs.length;
    let pos: number;
    for (;;) {
      pos = start + Math.floor((end - start + 1) / 2);
      if (pos === end) break;
      const l = locs[pos]!;
      if (t.addrHi === l.addrHi && t.addrLo === l.addrLo && t.handle === l.handle && waste === l.waste) {
        l.count++;
        if (t.when !== 0) {
          l.sumTime += age;
          if (age < l.minTime) l.minTime = age;
          if (age > l.maxTime) l.maxTime = age;
          if (t.pid < l.minPid) l.minPid = t.pid;
          if (t.pid > l.maxPid) l.maxPid = t.pid;
          l.cpus.add(t.cpu);
        }
        return;
      }
      const below =
        t.addrHi !== l.addrHi
          ? t.addrHi < l.addrHi
          : t.addrLo !== l.addrLo
            ? t.addrLo < l.addrLo
            : t.handle !== l.handle
              ? t.handle < l.handle
              : waste < l.waste;
      if (below) end = pos;
      else start = pos;
    }
    const frames = t.handle !== 0 ? this.depot.fetch(t.handle) : [];
    const noAddr = t.addrHi === 0 && t.addrLo === 0;
    locs.splice(pos, 0, {
      count: 1,
      addrHi: t.addrHi,
      addrLo: t.addrLo,
      handle: t.handle,
      caller: noAddr ? null : frames.length > 0 ? `${frames[0]!.fn} (${frames[0]!.file}:${frames[0]!.line})` : `0x${hex(t.addrHi, 8)}${hex(t.addrLo, 8)}`,
      stack: frames.map((f) => `${f.fn} (${f.file}:${f.line})`),
      waste,
      sumTime: age,
      minTime: age,
      maxTime: age,
      minPid: t.pid,
      maxPid: t.pid,
      cpus: new Set([t.cpu]),
    });
  }

  /** print_track(): "<what> in <caller> age=.. cpu=.. pid=.." and the saved stack. */
  private printTrack(label: string, t: Track, now: number): string[] {
    if (t.addrLo === 0 && t.addrHi === 0) return [];
    const frames = this.depot.fetch(t.handle);
    const caller = frames.length > 0 ? `${frames[0]!.fn} (${frames[0]!.file}:${frames[0]!.line})` : `0x${hex(t.addrHi, 8)}${hex(t.addrLo, 8)}`;
    const lines = [`${label} in ${caller} age=${now - t.when} cpu=${t.cpu} pid=${t.pid}`];
    if (frames.length > 0) for (const f of frames) lines.push(formatFrame(f));
    else lines.push('object allocation/free stack trace missing');
    return lines;
  }

  /** print_tracking(). */
  printTracking(s: number, obj: number): string[] {
    if (!(this.flags(s) & SLAB_STORE_USER)) return [];
    const now = this.jiffies();
    return [...this.printTrack('Allocated', this.readTrack(s, obj, TRACK_ALLOC), now), ...this.printTrack('Freed', this.readTrack(s, obj, TRACK_FREE), now)];
  }

  // ───────────────────────── report pieces ─────────────────────────

  /** Print report lines now (KERN_ERR) and keep them for onBug. */
  private pr(lines: readonly string[]): void {
    if (lines.length === 0) return;
    this.env.printk(`${KERN_ERR}${lines.join('\n')}\n`);
    for (const l of lines) this.pending.push(l);
  }

  /**
   * End of an operation that found something: hand the report to onBug
   * (which throws a KernelBug under onBug: 'throw').
   */
  flush(): void {
    if (this.pending.length === 0) return;
    const lines = this.pending;
    this.pending = [];
    this.env.bug('slub', lines);
  }

  /** slab_bug(): the header block. A reason ending in "\n" leaves an empty line, as %pV does. */
  private slabBug(s: number, reason: string): string[] {
    return [RULE_EQ, ...`BUG ${this.name(s)} (${this.env.printTainted()}): ${reason}`.split('\n'), RULE_DASH, ''];
  }

  /** slab_fix(). */
  private slabFix(s: number, text: string): void {
    this.errors++;
    this.pr([`FIX ${this.name(s)}: ${text}`]);
  }

  /** print_section() with a hex dump of `len` bytes at `addr`. */
  private section(prefix: string, addr: number, len: number): string[] {
    if (len <= 0) return [];
    return printHexDump(prefix, 'address', 16, 1, this.slub.u8.subarray(addr, addr + len), true, addr);
  }

  /** print_slab_info(): "Slab 0x.. objects=.. used=.. fp=0x.. flags=%pGp". */
  private slabInfo(s: number, pfn: number): string {
    const zone = this.env.pageZone(pfn);
    const flags = formatPageFlags(pageflagNames, pageFlagsWord(this.slub.pages, pfn, zone), {
      node: 0,
      zone,
      lastcpupid: LAST_CPUPID_UNSET,
    });
    const slab = formatPx(VMEMMAP_START + BigInt(pfn) * 64n);
    return `Slab 0x${slab} objects=${this.slabObjects(pfn)} used=${this.slub.slabInuse(pfn)} fp=0x${ptr(this.slub.slabFreelist(s, pfn))} flags=${flags}`;
  }

  /** print_trailer(): tracks, Slab, Object and the hex dumps of the slot. */
  private trailer(s: number, pfn: number, p: number): string[] {
    const cf = this.slub.cf;
    const r = s * CF.FIELDS;
    const flags = this.flags(s);
    const base = pfn * 4096;
    const objectSize = cf[r + CF.OBJECT_SIZE]!;
    const lines = this.printTracking(s, p);
    lines.push(this.slabInfo(s, pfn));
    lines.push(`Object 0x${ptr(p)} @offset=${p - base} fp=0x${this.fpHex(s, p)}`, '');
    if (flags & SLAB_RED_ZONE) lines.push(...this.section('Redzone  ', p - cf[r + CF.RED_LEFT_PAD]!, cf[r + CF.RED_LEFT_PAD]!));
    else if (p > base + 16) lines.push(...this.section('Bytes b4 ', p - 16, 16));
    lines.push(...this.section('Object   ', p, Math.min(objectSize, 4096)));
    if (flags & SLAB_RED_ZONE) lines.push(...this.section('Redzone  ', p + objectSize, cf[r + CF.INUSE]! - objectSize));
    let off = this.infoEnd(s);
    if (flags & SLAB_STORE_USER) off += 2 * TRACK_SIZE;
    if (this.hasOrigSize(s)) off += ORIG_SIZE_SIZE;
    off += this.kasanMetaSize(s, false);
    const sfo = this.sizeFromObject(s);
    if (off !== sfo) lines.push(...this.section('Padding  ', p + off, sfo - off));
    return lines;
  }

  /** WARN_ON(1) at `fn`: the cut-here block; TAINT_WARN comes after it. */
  private warnOn(fn: string): void {
    this.pr([
      '------------[ cut here ]------------',
      `WARNING: CPU: ${this.env.cpu()} PID: ${this.env.pid()} at mm/slub.c ${fn}`,
      'Modules linked in:',
      ...this.env.dumpStack(),
      '---[ end trace 0000000000000000 ]---',
    ]);
    this.env.addTaint(TAINT_WARN, false);
  }

  /**
   * object_err(): the BUG block about one object, its trailer (or "Invalid
   * pointer" when it is not an object of the slab), the taint and the WARN.
   * `count` is false when check_bytes_and_report() already counted the error.
   */
  private objectErr(s: number, pfn: number, obj: number, reason: string, count = true): void {
    if (count) this.errors++;
    const lines = this.slabBug(s, reason);
    if (obj === 0 || !this.checkValidPointer(s, pfn, obj)) {
      lines.push(this.slabInfo(s, pfn), `Invalid pointer 0x${ptr(obj)}`);
    } else {
      lines.push(...this.trailer(s, pfn, obj));
    }
    this.pr(lines);
    this.env.addTaint(TAINT_BAD_PAGE, true);
    this.warnOn('object_err');
  }

  /** __slab_err(): the Slab line, the taint and the WARN. */
  private slabErrTail(s: number, pfn: number): void {
    this.pr([this.slabInfo(s, pfn)]);
    this.env.addTaint(TAINT_BAD_PAGE, true);
    this.warnOn('slab_err');
  }

  /** slab_err(). */
  private slabErr(s: number, pfn: number, text: string): void {
    this.errors++;
    this.pr(this.slabBug(s, text));
    this.slabErrTail(s, pfn);
  }

  /** restore_bytes(): "FIX <cache>: Restoring <what> 0x..-0x..=0x.." and the bytes back. */
  private restoreBytes(s: number, what: string, data: number, from: number, to: number): void {
    this.slabFix(s, `Restoring ${what} 0x${ptr(from)}-0x${ptr(to - 1)}=0x${data.toString(16)}`);
    this.slub.u8.fill(data, from, to);
  }

  /**
   * check_bytes_and_report(): the first byte of [start, start + bytes) that
   * is not `value` up to the last one, reported and restored. Returns true
   * when the range was intact.
   */
  private checkBytes(s: number, pfn: number, obj: number, what: string, start: number, value: number, bytes: number, printObject: boolean): boolean {
    const u8 = this.slub.u8;
    const fault = firstMismatch(u8, this.slub.u32, start, start + bytes, value);
    if (fault < 0) return true;
    let end = start + bytes;
    while (end > fault && u8[end - 1] === value) end--;
    this.errors++;
    this.pr([
      `[${what} overwritten] 0x${ptr(fault)}-0x${ptr(end - 1)} @offset=${fault - pfn * 4096}. First byte 0x${u8[fault]!.toString(16)} instead of 0x${value.toString(16)}`,
    ]);
    if (printObject) this.objectErr(s, pfn, obj, 'Object corrupt', false);
    this.restoreBytes(s, what, value, fault, end);
    return false;
  }

  // ───────────────────────── the checks ─────────────────────────

  /** check_pad_bytes(): the padding after the metadata is 0x5a. */
  private checkPadBytes(s: number, pfn: number, p: number): boolean {
    let off = this.infoEnd(s);
    if (this.flags(s) & SLAB_STORE_USER) {
      off += 2 * TRACK_SIZE;
      if (this.flags(s) & SLAB_KMALLOC) off += ORIG_SIZE_SIZE;
    }
    off += this.kasanMetaSize(s, false);
    const sfo = this.sizeFromObject(s);
    if (sfo === off) return true;
    return this.checkBytes(s, pfn, p, 'Object padding', p + off, POISON_INUSE, sfo - off, true);
  }

  /** slab_pad_check(): the bytes after the last object are 0x5a (POISON only). */
  private slabPadCheck(s: number, pfn: number): void {
    if (!(this.flags(s) & SLAB_POISON)) return;
    const u8 = this.slub.u8;
    const start = pfn * 4096;
    const length = this.slabBytes(pfn);
    const remainder = length % this.slub.cf[s * CF.FIELDS + CF.SIZE]!;
    if (remainder === 0) return;
    const pad = start + length - remainder;
    let fault = -1;
    for (let i = pad; i < start + length; i++) {
      if (u8[i] !== POISON_INUSE) {
        fault = i;
        break;
      }
    }
    if (fault < 0) return;
    let end = start + length;
    while (end > fault && u8[end - 1] === POISON_INUSE) end--;
    this.pr([
      ...this.slabBug(s, `Padding overwritten. 0x${ptr(fault)}-0x${ptr(end - 1)} @offset=${fault - start}`),
      ...this.section('Padding ', pad, remainder),
    ]);
    this.slabErrTail(s, pfn);
    this.restoreBytes(s, 'slab padding', POISON_INUSE, fault, end);
  }

  /**
   * check_object(): red zones against `val`, the poison of a free object,
   * the padding, and the free pointer where it can be read. Every damaged
   * region is reported and restored; the first one prints the object.
   */
  private checkObject(s: number, pfn: number, obj: number, val: number): boolean {
    // The quick check finds nothing wrong: nor would the kernel's.
    return this.geometry.objectClean(s, pfn, obj, val) || this.checkObjectSlow(s, pfn, obj, val);
  }

  /** check_object() step by step, reporting and restoring each damaged region in the kernel's order. */
  private checkObjectSlow(s: number, pfn: number, obj: number, val: number): boolean {
    const cf = this.slub.cf;
    const r = s * CF.FIELDS;
    const flags = this.flags(s);
    const objectSize = cf[r + CF.OBJECT_SIZE]!;
    const inuse = cf[r + CF.INUSE]!;
    let ret = true;
    if (flags & SLAB_RED_ZONE) {
      const rlp = cf[r + CF.RED_LEFT_PAD]!;
      if (!this.checkBytes(s, pfn, obj, 'Left Redzone', obj - rlp, val, rlp, ret)) ret = false;
      if (!this.checkBytes(s, pfn, obj, 'Right Redzone', obj + objectSize, val, inuse - objectSize, ret)) ret = false;
      if (this.hasOrigSize(s) && val === SLUB_RED_ACTIVE) {
        const orig = this.getOrigSize(s, obj);
        if (objectSize > orig && !this.checkBytes(s, pfn, obj, 'kmalloc Redzone', obj + orig, val, objectSize - orig, ret)) ret = false;
      }
    } else if (flags & SLAB_POISON && objectSize < inuse) {
      if (!this.checkBytes(s, pfn, obj, 'Alignment padding', obj + objectSize, POISON_INUSE, inuse - objectSize, ret)) ret = false;
    }
    if (flags & SLAB_POISON) {
      if (val !== SLUB_RED_ACTIVE && flags & __OBJECT_POISON) {
        const meta = this.kasanMetaSize(s, true);
        if (meta < objectSize - 1 && !this.checkBytes(s, pfn, obj, 'Poison', obj + meta, POISON_FREE, objectSize - meta - 1, ret)) ret = false;
        if (meta < objectSize && !this.checkBytes(s, pfn, obj, 'End Poison', obj + objectSize - 1, POISON_END, 1, ret)) ret = false;
      }
      if (!this.checkPadBytes(s, pfn, obj)) ret = false;
    }
    const outside = cf[r + CF.OFFSET]! >= inuse;
    if ((outside || val !== SLUB_RED_ACTIVE) && !this.checkValidPointer(s, pfn, this.fp(s, obj))) {
      this.objectErr(s, pfn, obj, 'Freepointer corrupt');
      // No choice but to zap it: the rest of this slab's free objects are lost.
      this.slub.setFreepointer(s, obj, 0);
      ret = false;
    }
    return ret;
  }

  /** check_slab(): the slab's counters are possible; its tail padding is intact. */
  private checkSlab(s: number, pfn: number): boolean {
    return this.geometry.slabClean(s, pfn) || this.checkSlabSlow(s, pfn);
  }

  /** check_slab() with its reports. */
  private checkSlabSlow(s: number, pfn: number): boolean {
    const p = this.slub.pages;
    if (p.pageType[pfn] !== PGTY_slab) {
      this.slabErr(s, pfn, 'Not a valid slab page');
      return false;
    }
    const maxobj = Math.floor(this.slabBytes(pfn) / this.slub.cf[s * CF.FIELDS + CF.SIZE]!);
    const objects = this.slabObjects(pfn);
    const inuse = this.slub.slabInuse(pfn);
    if (objects > maxobj) {
      this.slabErr(s, pfn, `objects ${objects} > max ${maxobj}`);
      return false;
    }
    if (inuse > objects) {
      this.slabErr(s, pfn, `inuse ${inuse} > max ${objects}`);
      return false;
    }
    this.slabPadCheck(s, pfn);
    return true;
  }

  /**
   * on_freelist(): is `search` on slab->freelist? Walking it also repairs
   * a corrupt chain, a cycle, and wrong objects / inuse counters.
   * With search = 0 it returns true when the walk ended cleanly.
   */
  private onFreelist(s: number, pfn: number, search: number): boolean {
    // A clean chain and counters need no repair: the quick walk's answer is the kernel's.
    const quick = this.geometry.freelistWalk(s, pfn, search);
    if (quick >= 0) return quick === 1 || search === 0;
    return this.onFreelistSlow(s, pfn, search);
  }

  /** on_freelist() with its reports and repairs. */
  private onFreelistSlow(s: number, pfn: number, search: number): boolean {
    let nr = 0;
    let object = 0;
    const objects = this.slabObjects(pfn);
    let fp = this.slub.slabFreelist(s, pfn);
    while (fp !== 0 && nr <= objects) {
      if (fp === search) return true;
      if (!this.checkValidPointer(s, pfn, fp)) {
        if (object !== 0) {
          this.objectErr(s, pfn, object, 'Freechain corrupt');
          this.slub.setFreepointer(s, object, 0);
          break;
        }
        this.slabErr(s, pfn, 'Freepointer corrupt');
        this.setSlab(s, pfn, 0, objects);
        this.slabFix(s, 'Freelist cleared');
        return false;
      }
      object = fp;
      fp = this.fp(s, object);
      nr++;
    }
    if (nr > objects) {
      this.slabErr(s, pfn, 'Freelist cycle detected');
      this.setSlab(s, pfn, 0, objects);
      this.slabFix(s, 'Freelist cleared');
      return false;
    }
    const maxObjects = Math.min(Math.floor(this.slabBytes(pfn) / this.slub.cf[s * CF.FIELDS + CF.SIZE]!), MAX_OBJS_PER_PAGE);
    if (objects !== maxObjects) {
      this.slabErr(s, pfn, `Wrong number of objects. Found ${objects} but should be ${maxObjects}`);
      this.slub.pages.slabObjects[pfn] = maxObjects;
      this.slabFix(s, 'Number of objects adjusted');
    }
    const inuse = this.slub.slabInuse(pfn);
    const counted = this.slabObjects(pfn) - nr;
    if (inuse !== counted) {
      this.slabErr(s, pfn, `Wrong object count. Counter is ${inuse} but counted were ${counted}`);
      this.setSlab(s, pfn, this.slub.slabFreelist(s, pfn), counted);
      this.slabFix(s, 'Object count adjusted');
    }
    return search === 0;
  }

  /** trace(): SLAB_TRACE's line, the object of a free, and the stack (KERN_INFO). */
  private trace(s: number, pfn: number, obj: number, alloc: boolean): void {
    if (!(this.flags(s) & SLAB_TRACE)) return;
    const lines = [
      `TRACE ${this.name(s)} ${alloc ? 'alloc' : 'free'} 0x${ptr(obj)} inuse=${this.slub.slabInuse(pfn)} fp=0x${ptr(this.slub.slabFreelist(s, pfn))}`,
    ];
    if (!alloc) lines.push(...this.section('Object ', obj, this.slub.cf[s * CF.FIELDS + CF.OBJECT_SIZE]!));
    lines.push(...this.env.dumpStack());
    this.env.printk(`${KERN_INFO}${lines.join('\n')}\n`);
  }

  // ───────────────────────── the full list (debug caches with SLAB_STORE_USER) ─────────────────────────

  /** add_full(): only caches with SLAB_STORE_USER keep full slabs on a list. */
  private addFull(s: number, pfn: number): void {
    if (!(this.flags(s) & SLAB_STORE_USER)) return;
    const cf = this.slub.cf;
    const p = this.slub.pages;
    listAdd(p.next, p.prev, cf, s * CF.FIELDS + CF.FULL_HEAD, -1, pfn, false);
  }

  /** remove_full(). */
  private removeFull(s: number, pfn: number): void {
    if (!(this.flags(s) & SLAB_STORE_USER)) return;
    const cf = this.slub.cf;
    const p = this.slub.pages;
    listDel(p.next, p.prev, cf, s * CF.FIELDS + CF.FULL_HEAD, -1, pfn);
  }

  // ───────────────────────── allocation ─────────────────────────

  /** alloc_consistency_checks(). */
  private allocConsistencyChecks(s: number, pfn: number, obj: number): boolean {
    // All three quick checks at once; anything off, and the faithful ones run from the start.
    if (this.geometry.allocChecksClean(s, pfn, obj)) return true;
    if (!this.checkSlab(s, pfn)) return false;
    if (!this.checkValidPointer(s, pfn, obj)) {
      this.objectErr(s, pfn, obj, 'Freelist Pointer check fails');
      return false;
    }
    return this.checkObject(s, pfn, obj, SLUB_RED_INACTIVE);
  }

  /**
   * alloc_debug_processing(): checks (F), TRACE, orig_size and the active
   * red zones and poison. On a failed check every object of the slab is
   * marked used, so it is never touched again.
   */
  private allocDebugProcessing(s: number, pfn: number, obj: number, origSize: number): boolean {
    if (this.flags(s) & SLAB_CONSISTENCY_CHECKS && !this.allocConsistencyChecks(s, pfn, obj)) {
      this.slabFix(s, 'Marking all objects used');
      this.setSlab(s, pfn, 0, this.slabObjects(pfn));
      return false;
    }
    this.trace(s, pfn, obj, true);
    this.setOrigSize(s, obj, origSize);
    this.initObject(s, obj, SLUB_RED_ACTIVE);
    return true;
  }

  /** Take slab->freelist's first object; a garbage next pointer ends the list. */
  private takeFirst(s: number, pfn: number, inuse: number): number {
    const obj = this.slub.slabFreelist(s, pfn);
    const next = this.fp(s, obj);
    this.setSlab(s, pfn, next > 0 && this.checkValidPointer(s, pfn, next) ? next : 0, inuse);
    return obj;
  }

  /** alloc_single_from_partial(). */
  private allocSingleFromPartial(s: number, pfn: number, origSize: number): number {
    if (this.slub.slabFreelist(s, pfn) === 0) {
      // Only after on_freelist() cleared a corrupt freelist: nothing to take (the
      // kernel would dereference NULL here); the slab counts as full.
      this.slub.removePartial(s, pfn);
      this.addFull(s, pfn);
      return 0;
    }
    const obj = this.takeFirst(s, pfn, this.slub.slabInuse(pfn) + 1);
    if (!this.allocDebugProcessing(s, pfn, obj, origSize)) {
      this.slub.removePartial(s, pfn);
      return 0;
    }
    if (this.slub.slabInuse(pfn) === this.slabObjects(pfn)) {
      this.slub.removePartial(s, pfn);
      this.addFull(s, pfn);
    }
    return obj;
  }

  /** alloc_single_from_new_slab(). */
  private allocSingleFromNewSlab(s: number, pfn: number, origSize: number): number {
    const obj = this.takeFirst(s, pfn, 1);
    if (!this.allocDebugProcessing(s, pfn, obj, origSize)) return 0;
    if (this.slub.slabInuse(pfn) === this.slabObjects(pfn)) this.addFull(s, pfn);
    else this.slub.addPartial(s, pfn, false);
    return obj;
  }

  /**
   * ___slab_alloc() for a debug cache: an object from the first node partial
   * slab that passes the checks, else from a new slab; then the alloc track.
   * `origSize` is the kmalloc request size (object_size for kmem_cache_alloc).
   */
  alloc(s: number, gfp: number, origSize: number): number {
    const cf = this.slub.cf;
    const r = s * CF.FIELDS;
    // The common case of an F, Z and P cache, all checks clean: nothing to report, no track (debug_geometry.ts).
    const quick = this.geometry.allocQuick(s);
    if (quick !== 0) return quick;
    if (origSize < 0) origSize = cf[r + CF.OBJECT_SIZE]!;
    for (;;) {
      let obj = 0;
      for (let slab = cf[r + CF.PARTIAL_HEAD]!; slab >= 0; ) {
        const next = this.slub.pages.next[slab]!;
        obj = this.allocSingleFromPartial(s, slab, origSize);
        if (obj !== 0) break;
        this.flush();
        slab = next;
      }
      if (obj === 0) {
        const slab = this.slub.newSlab(s, gfp);
        if (slab < 0) {
          if (!(gfp & __GFP_NOWARN)) this.slub.reports.outOfMemory(s, gfp);
          return 0;
        }
        obj = this.allocSingleFromNewSlab(s, slab, origSize);
        if (obj === 0) {
          this.flush();
          continue;
        }
      }
      if (this.flags(s) & SLAB_STORE_USER) this.setTrack(s, obj, TRACK_ALLOC, this.trackPrepare());
      return obj;
    }
  }

  // ───────────────────────── free ─────────────────────────

  /**
   * A free of a pointer into slab `pfn` that is no object start, reported as
   * slab_err() does under slub_debug=F (a plain kernel would not notice and
   * corrupt the freelist; kmem refuses the free on every cache).
   */
  invalidObjectPointer(s: number, pfn: number, obj: number): void {
    this.slabErr(s, pfn, `Invalid object pointer 0x${ptr(obj)}`);
    this.flush();
  }

  /** free_consistency_checks(). */
  private freeConsistencyChecks(s: number, pfn: number, obj: number): boolean {
    if (!this.checkValidPointer(s, pfn, obj)) {
      this.slabErr(s, pfn, `Invalid object pointer 0x${ptr(obj)}`);
      return false;
    }
    if (this.onFreelist(s, pfn, obj)) {
      this.objectErr(s, pfn, obj, 'Object already free');
      return false;
    }
    if (!this.checkObject(s, pfn, obj, SLUB_RED_ACTIVE)) return false;
    if (this.slub.pages.slabCache[pfn] !== s) {
      this.objectErr(s, pfn, obj, 'page slab pointer corrupt.');
      return false;
    }
    return true;
  }

  /**
   * free_debug_processing() for the chain head..tail of `cnt` objects.
   * Returns the number of objects that may be freed, or -1 when none may.
   */
  private freeDebugProcessing(s: number, pfn: number, head: number, tail: number, bulkCnt: number, handle: number): number {
    const flags = this.flags(s);
    if (flags & SLAB_CONSISTENCY_CHECKS && head === tail && bulkCnt === 1 && this.geometry.freeChecksClean(s, pfn, head)) {
      // One object, and every check of the loop below would pass: its work without the checks.
      if (flags & SLAB_STORE_USER) this.setTrack(s, head, TRACK_FREE, handle);
      this.trace(s, pfn, head, false);
      this.initObject(s, head, SLUB_RED_INACTIVE);
      return 1;
    }
    let object = head;
    let ok = false;
    let cnt = 0;
    let go = !(flags & SLAB_CONSISTENCY_CHECKS) || this.checkSlab(s, pfn);
    const inuse = this.slub.slabInuse(pfn);
    if (go && inuse < bulkCnt) {
      this.slabErr(s, pfn, `Slab has ${inuse} allocated objects but ${bulkCnt} are to be freed\n`);
      go = false;
    }
    while (go) {
      if (++cnt > bulkCnt) break;
      if (flags & SLAB_CONSISTENCY_CHECKS && !this.freeConsistencyChecks(s, pfn, object)) {
        go = false;
        break;
      }
      if (flags & SLAB_STORE_USER) this.setTrack(s, object, TRACK_FREE, handle);
      this.trace(s, pfn, object, false);
      // The free pointer is not in the way: SLAB_POISON moved it out of the object.
      this.initObject(s, object, SLUB_RED_INACTIVE);
      if (object === tail) {
        ok = true;
        break;
      }
      object = this.fp(s, object);
      if (object <= 0) break;
    }
    if (go && cnt !== bulkCnt) {
      this.slabErr(s, pfn, `Bulk free expected ${bulkCnt} objects but found ${cnt}\n`);
      bulkCnt = cnt;
    }
    if (!ok) {
      this.slabFix(s, `Object at 0x${ptr(Math.max(object, 0))} not freed`);
      return -1;
    }
    return bulkCnt;
  }

  /**
   * free_to_partial_list(): the debug free. After the checks the chain goes
   * on slab->freelist; a slab that was full returns to the partial list, an
   * empty one is freed once the node keeps min_partial partial slabs.
   */
  freeToPartialList(s: number, pfn: number, head: number, tail: number, bulkCnt: number): void {
    // One object of an F, Z and P cache, all checks clean: checked, poisoned and on the freelist without a report (debug_geometry.ts).
    if (head === tail && bulkCnt === 1) {
      const quick = this.geometry.freeQuick(s, pfn, head);
      if (quick !== 0) {
        this.partialListMoves(s, pfn, quick === 2 ? 0 : 1, this.slub.slabInuse(pfn));
        return;
      }
    }
    const slub = this.slub;
    const cf = slub.cf;
    const r = s * CF.FIELDS;
    const handle = this.flags(s) & SLAB_STORE_USER ? this.trackPrepare() : 0;
    const cnt = this.freeDebugProcessing(s, pfn, head, tail, bulkCnt, handle);
    if (cnt >= 0) {
      const prior = slub.slabFreelist(s, pfn);
      if (prior === tail && cf[r + CF.XOR_HI]! !== 0) {
        // CONFIG_SLAB_FREELIST_HARDENED: set_freepointer()'s BUG_ON(object == fp).
        slub.reports.bugOn('set_freepointer', `object 0x${tail.toString(16)} is already the slab freelist head`);
        this.flush();
        return;
      }
      const inuse = slub.slabInuse(pfn) - cnt;
      slub.setFreepointer(s, tail, prior);
      this.setSlab(s, pfn, head, inuse);
      this.partialListMoves(s, pfn, prior, inuse);
    }
    this.flush();
  }

  /**
   * The rest of free_to_partial_list() once objects went onto slab pfn's
   * freelist (prior: its first object before them, 0 when it was empty;
   * inuse: the objects left in use): a slab that was full returns to the
   * partial list; one now empty is freed when the node keeps min_partial
   * partial slabs already.
   */
  private partialListMoves(s: number, pfn: number, prior: number, inuse: number): void {
    const slub = this.slub;
    const cf = slub.cf;
    const r = s * CF.FIELDS;
    const slabFree = inuse === 0 && cf[r + CF.NR_PARTIAL]! >= cf[r + CF.MIN_PARTIAL]!;
    if (prior === 0 && slub.onNodePartial(pfn)) {
      // A freelist on_freelist() cleared: the slab never left the partial list.
      if (slabFree) slub.removePartial(s, pfn);
    } else if (prior === 0) {
      this.removeFull(s, pfn);
      if (!slabFree) {
        slub.addPartial(s, pfn, true);
        slub.stat(s, FREE_ADD_PARTIAL);
      }
    } else if (slabFree) {
      slub.removePartial(s, pfn);
      slub.stat(s, FREE_REMOVE_PARTIAL);
    }
    if (slabFree) {
      slub.stat(s, FREE_SLAB);
      slub.discardSlab(s, pfn);
    }
  }

  // ───────────────────────── validate and shutdown ─────────────────────────

  /** validate_slab(): the slab, its freelist, then every object until one is bad. */
  private validateSlab(s: number, pfn: number): void {
    if (!this.checkSlab(s, pfn) || !this.onFreelist(s, pfn, 0)) return;
    const map = this.freeMap(s, pfn);
    const cf = this.slub.cf;
    const r = s * CF.FIELDS;
    const first = pfn * 4096 + cf[r + CF.RED_LEFT_PAD]!;
    const size = cf[r + CF.SIZE]!;
    for (let i = 0; i < this.slabObjects(pfn); i++) {
      if (!this.checkObject(s, pfn, first + i * size, map[i] ? SLUB_RED_INACTIVE : SLUB_RED_ACTIVE)) break;
    }
  }

  /**
   * validate_slab_cache() (/sys/kernel/slab/<cache>/validate): flush the
   * CPUs, check every slab on the node partial list and, for caches with
   * SLAB_STORE_USER, on the full list. Returns the errors it found, counted
   * as slab_errors counts them.
   */
  validate(s: number): number {
    const before = this.errors;
    const slub = this.slub;
    const cf = slub.cf;
    const r = s * CF.FIELDS;
    slub.flushAll(s);
    let count = 0;
    for (let slab = cf[r + CF.PARTIAL_HEAD]!; slab >= 0; slab = slub.pages.next[slab]!) {
      this.validateSlab(s, slab);
      count++;
    }
    if (count !== cf[r + CF.NR_PARTIAL]!) {
      this.errors++;
      this.pr([`SLUB ${this.name(s)}: ${count} partial slabs counted but counter=${cf[r + CF.NR_PARTIAL]}`]);
    }
    if (this.flags(s) & SLAB_STORE_USER) {
      for (let slab = cf[r + CF.FULL_HEAD]!; slab >= 0; slab = slub.pages.next[slab]!) {
        this.validateSlab(s, slab);
        count++;
      }
      if (count !== cf[r + CF.NR_SLABS]!) {
        this.errors++;
        this.pr([`SLUB: ${this.name(s)} ${count} slabs counted but counter=${cf[r + CF.NR_SLABS]}`]);
      }
    }
    this.flush();
    return this.errors - before;
  }

  /**
   * free_partial()'s list_slab_objects() for __kmem_cache_shutdown(): every
   * partial slab still holding objects is reported with each object left in
   * it and its tracks. Call after the empty slabs are gone; the report waits
   * in `pending` until flush() so the caller can add its WARN first.
   */
  listSlabObjects(s: number): void {
    const slub = this.slub;
    const cf = slub.cf;
    const r = s * CF.FIELDS;
    const first = cf[r + CF.RED_LEFT_PAD]!;
    const size = cf[r + CF.SIZE]!;
    for (let slab = cf[r + CF.PARTIAL_HEAD]!; slab >= 0; slab = slub.pages.next[slab]!) {
      if (slub.slabInuse(slab) === 0) continue;
      this.errors++;
      const lines = this.slabBug(s, 'Objects remaining on __kmem_cache_shutdown()');
      const map = this.freeMap(s, slab);
      const base = slab * 4096;
      for (let i = 0; i < this.slabObjects(slab); i++) {
        if (map[i]) continue;
        this.errors++;
        const p = base + first + i * size;
        lines.push(`Object 0x${ptr(p)} @offset=${p - base}`, ...this.printTracking(s, p));
      }
      this.pr(lines);
      this.slabErrTail(s, slab);
    }
  }

  /**
   * cache_from_obj()'s print_tracking() after "Wrong slab cache": the tracks
   * of the object in the cache it really belongs to.
   */
  printTrackingOf(s: number, obj: number): void {
    const lines = this.printTracking(s, obj);
    if (lines.length > 0) this.env.printk(`${KERN_ERR}${lines.join('\n')}\n`);
  }

  /** Does free_debug_processing() check the pointer itself (SLAB_CONSISTENCY_CHECKS on a debug cache)? */
  checksPointers(s: number): boolean {
    return this.isDebug(s) && (this.flags(s) & SLAB_CONSISTENCY_CHECKS) !== 0;
  }

  /**
   * __do_krealloc() keeping a kmalloc object that saves its request size:
   * zero what the new size adds (__GFP_ZERO) or the tail it drops, save the
   * new size and red-zone the rest. Returns false for other caches.
   */
  kreallocInPlace(s: number, obj: number, newSize: number, zero: boolean): boolean {
    if (!this.hasOrigSize(s)) return false;
    const u8 = this.slub.u8;
    const ks = this.slub.cf[s * CF.FIELDS + CF.OBJECT_SIZE]!;
    const orig = this.getOrigSize(s, obj);
    if (zero) {
      if (orig !== 0 && orig < newSize) u8.fill(0, obj + orig, obj + newSize);
      else u8.fill(0, obj + newSize, obj + ks);
    }
    this.setOrigSize(s, obj, newSize);
    if (this.flags(s) & SLAB_RED_ZONE && newSize < ks) u8.fill(SLUB_RED_ACTIVE, obj + newSize, obj + ks);
    return true;
  }
}

/**
 * lib/sort.c sort(): the kernel's in-place heapsort, bottom-up sift-down, two
 * elements popped per round and the last two or three finished by hand (the
 * 6.11+ form). Not stable: equal elements end where this sequence of swaps
 * leaves them, which is what the kernel's output shows. Sorts ascending by cmp.
 */
export function kernelSort<T>(a: T[], cmp: (x: T, y: T) => number): void {
  let n = a.length;
  let i = n >>> 1;
  if (i === 0) return;
  const swap = (x: number, y: number) => {
    const t = a[x]!;
    a[x] = a[y]!;
    a[y] = t;
  };
  const parent = (x: number) => (x - 1) >>> 1;
  let shift = 0;
  for (;;) {
    if (i !== 0) {
      i -= 1 << shift;
    } else if (n > 3) {
      n--;
      swap(0, n);
      shift = cmp(a[1]!, a[2]!) <= 0 ? 1 : 0;
      i = 1 << shift;
      n--;
      swap(i, n);
    } else {
      break;
    }
    // Down to a leaf along the larger children, then back up to where a[i] belongs.
    let b = i;
    let c: number;
    let d: number;
    for (;;) {
      c = 2 * b + 1;
      d = c + 1;
      if (d >= n) break;
      b = cmp(a[c]!, a[d]!) > 0 ? c : d;
    }
    if (d === n) b = c;
    while (b !== i && cmp(a[i]!, a[b]!) >= 0) b = parent(b);
    c = b;
    while (b !== i) {
      b = parent(b);
      swap(b, c);
    }
  }
  n--;
  swap(0, n);
  if (n === 2 && cmp(a[0]!, a[1]!) > 0) swap(0, 1);
}
