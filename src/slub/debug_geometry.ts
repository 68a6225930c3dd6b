/**
 * slub_debug's quick checks (issue 15, "debug modes fast enough to leave
 * on"): the per-cache geometry the checks need, worked out once per cache,
 * and side-effect-free versions of check_slab(), check_object() and
 * on_freelist() that only answer "is everything as it should be?".
 *
 * debug.ts runs a quick check first. When it says "clean", the kernel's
 * check would have found nothing and printed nothing, so its answer is the
 * kernel's. When it says anything else, debug.ts runs the faithful check
 * (the kernel's order of checks, its reports and repairs) from the start,
 * on memory the quick check did not change. So the reports are exactly the
 * ones the slow checks print, and the common case costs word-wide compares
 * and one tight walk of the freelist.
 *
 * For the common cache (F, Z and P, no U or T: QUICK) allocQuick() and
 * freeQuick() go further: one single-object alloc or free, every check of
 * the kernel's path done at once, and only when all would pass silently
 * and no list changes, the kernel's stores (slab->freelist, inuse,
 * init_object()); otherwise nothing is changed and debug.ts runs the
 * kernel's path from the start. on_freelist()'s walk there is replaced by a
 * check of the freelist against its shadow (the place and the 8 stored
 * bytes of each free pointer, kept by the quick paths as they push and pop,
 * made again by a clean walk whenever it no longer matches): the same
 * answer, with independent loads instead of the walk's chain of dependent
 * ones.
 *
 * Geometry rows are keyed by the cache's handle (unique per creation) and
 * its inuse (which __kmem_cache_alias() may raise on a mergeable F-only
 * cache): a row that does not match is rebuilt before use.
 */
import { PGTY_slab, SlabWord } from '../memory/page.js';
import { bswap32, CF, DIRECT_MAP_HI, MAX_CACHES, reciprocalIndex } from './slab.js';
import { __OBJECT_POISON, SLAB_CONSISTENCY_CHECKS, SLAB_KMALLOC, SLAB_POISON, SLAB_RED_ZONE, SLAB_STORE_USER, SLAB_TRACE } from './slab_flags.js';
import type { Slub } from './slub.js';

/** sizeof(struct track) on x86-64 with CONFIG_STACKDEPOT. */
const TRACK_SIZE = 32;
const ORIG_SIZE_SIZE = 4;
/** struct kasan_alloc_meta / kasan_free_meta, generic KASAN. */
const KASAN_META_SIZE = 16;
const MAX_OBJS_PER_PAGE = 32767;

const POISON_INUSE = 0x5a;
const POISON_FREE = 0x6b;
const POISON_END = 0xa5;
const SLUB_RED_ACTIVE = 0xcc;
const SLUB_RED_INACTIVE = 0xbb;

/** Fields of a geometry row. */
const enum G {
  STAMP = 0,
  INUSE = 1,
  SIZE = 2,
  OBJECT_SIZE = 3,
  FLAGS = 4,
  /** red_left_pad */
  RLP = 5,
  /** what check_valid_pointer() subtracts: red_left_pad with SLAB_RED_ZONE, else 0 */
  VP_RLP = 6,
  OFFSET = 7,
  XOR_LO = 8,
  XOR_HI = 9,
  /** get_info_end() */
  INFO_END = 10,
  /** check_pad_bytes()'s start of the padding, from the object */
  PAD_OFF = 11,
  /** size_from_object() */
  SFO = 12,
  /** kasan_metadata_size(s, true) */
  KASAN_IN = 13,
  /** 1 when the cache saves the kmalloc request size (slub_debug_orig_size) */
  ORIG = 14,
  RECIP_MUL = 15,
  RECIP_SHIFT = 16,
  /** 1 when every range the checks and fills use starts and ends on an 8-byte word of an 8-aligned slot */
  ALIGNED = 17,
  /**
   * 1 when allocQuick() and freeQuick() may serve the cache: F, Z and P
   * (poisoned objects, the free pointer outside them), no U, no T, no KASAN
   * metadata in the object, every range whole words (ALIGNED).
   */
  QUICK = 18,
  /** The slab order the next three are for (the cache's order when the row was built). */
  SLAB_ORDER = 19,
  /** order_objects(SLAB_ORDER, size): the most objects such a slab may hold. */
  MAXOBJ = 20,
  /** slab_pad_check(): the padding after the last object, as word offsets from the slab's first word. */
  SPAD_W0 = 21,
  SPAD_W1 = 22,
  /** The slab whose freelist the cache's shadow (see shadowWalk) describes, -1 for none. */
  SH_PFN = 23,
  /** The shadow's entries in use: [SH_START, SH_END), the freelist's head at SH_START. */
  SH_START = 24,
  SH_END = 25,
  /** 1 when every shadow entry's words, read as a double, are neither a NaN nor a zero: a double compare is then a bit compare. */
  SH_F64 = 26,
  FIELDS = 27,
}

/**
 * Each byte value repeated 8 times, read as a double: the word the fills
 * store and the compares expect. None of these is a NaN or a zero for the
 * values slub_debug uses, so a double compare is a bit-exact compare (the
 * bytes of memory that form a NaN compare unequal, as they should).
 */
const PATTERN = new Float64Array(256);
{
  const b = new Uint8Array(PATTERN.buffer);
  for (let v = 0; v < 256; v++) b.fill(v, v * 8, v * 8 + 8);
}
/** The last 8 bytes of a poisoned object: 0x6b 7 times, then POISON_END. */
const POISON_TAIL = new Float64Array(1);
new Uint8Array(POISON_TAIL.buffer).set([POISON_FREE, POISON_FREE, POISON_FREE, POISON_FREE, POISON_FREE, POISON_FREE, POISON_FREE, POISON_END]);
const POISON_TAIL_WORD = POISON_TAIL[0]!;
const W_INUSE = PATTERN[POISON_INUSE]!;
const W_FREE = PATTERN[POISON_FREE]!;
const W_RED_ACTIVE = PATTERN[SLUB_RED_ACTIVE]!;
const W_RED_INACTIVE = PATTERN[SLUB_RED_INACTIVE]!;
/**
 * The shadow of one slab's freelist (see DebugGeometry.shadowWalk): entry
 * j is one free object, the head at the lowest entry in use, the next ones
 * above it; each keeps where its free pointer is and the 8 bytes stored
 * there when the entry was made.
 */
class FreelistShadow {
  /** Entry j: the free pointer's place, as an index of RAM's 8-byte words. */
  readonly at: Int32Array;
  /** Entry j: the object's index in its slab. */
  readonly idx: Int32Array;
  /** Entry j: the 8 bytes stored at `at` (raw32 is the same memory as int32 pairs). */
  readonly raw: Float64Array;
  readonly raw32: Int32Array;
  /** 1 for each object index on the shadow's freelist. */
  readonly member: Uint8Array;
  constructor(entries: number, objects: number) {
    this.at = new Int32Array(entries);
    this.idx = new Int32Array(entries);
    this.raw = new Float64Array(entries);
    this.raw32 = new Int32Array(this.raw.buffer);
    this.member = new Uint8Array(objects);
  }
}
const NO_SHADOW = new FreelistShadow(0, 0);

/** A direct-map pointer's high word, as an int32. */
const DIRECT_MAP_HI_I32 = DIRECT_MAP_HI | 0;

/**
 * memset() of [start, end) to the byte `value`: the unaligned ends byte by
 * byte, the rest as 8-byte words (no call into TypedArray.fill for the few
 * dozen bytes of a red zone).
 */
export function memsetBytes(u8: Uint8Array, f64: Float64Array, start: number, end: number, value: number): void {
  let i = start;
  for (; i < end && (i & 7) !== 0; i++) u8[i] = value;
  const word = PATTERN[value]!;
  let w = i >>> 3;
  const wend = end >>> 3;
  for (; w < wend; w++) f64[w] = word;
  for (i = Math.max(i, wend * 8); i < end; i++) u8[i] = value;
}

/** memchr_inv() == NULL: are all bytes of [start, end) `value`? 8-byte words where aligned. */
export function allBytes(u8: Uint8Array, f64: Float64Array, start: number, end: number, value: number): boolean {
  let i = start;
  for (; i < end && (i & 7) !== 0; i++) if (u8[i] !== value) return false;
  const word = PATTERN[value]!;
  let w = i >>> 3;
  const wend = end >>> 3;
  for (; w < wend; w++) if (f64[w] !== word) return false;
  for (i = Math.max(i, w * 8); i < end; i++) if (u8[i] !== value) return false;
  return true;
}

/** slab_pad_check() on whole words: every word of [i, end) still holds POISON_INUSE. */
function slabPaddingClean(f64: Float64Array, i: number, end: number): boolean {
  for (; i + 4 <= end; i += 4) if (f64[i] !== W_INUSE || f64[i + 1] !== W_INUSE || f64[i + 2] !== W_INUSE || f64[i + 3] !== W_INUSE) return false;
  for (; i < end; i++) if (f64[i] !== W_INUSE) return false;
  return true;
}

/**
 * check_object()'s red-zone checks fused with init_object()'s writes: every word of [left, w) and
 * [objEnd, inuseEnd) that holds `from` becomes `to` as it passes. Invariant: on false (a word that
 * was not `from`) every word changed is back to `from`, so the kernel's path sees the slab untouched.
 */
function flipRedZones(f64: Float64Array, left: number, w: number, objEnd: number, inuseEnd: number, from: number, to: number): boolean {
  let i = left;
  for (; i + 4 <= w; i += 4) {
    if (f64[i] !== from || f64[i + 1] !== from || f64[i + 2] !== from || f64[i + 3] !== from) break;
    f64[i] = to;
    f64[i + 1] = to;
    f64[i + 2] = to;
    f64[i + 3] = to;
  }
  for (; i < w && f64[i] === from; i++) f64[i] = to;
  let j = objEnd;
  if (i === w) for (; j < inuseEnd && f64[j] === from; j++) f64[j] = to;
  if (i === w && j === inuseEnd) return true;
  for (let x = left; x < i; x++) f64[x] = from;
  for (let x = objEnd; x < j; x++) f64[x] = from;
  return false;
}

export class DebugGeometry {
  private readonly geo = new Int32Array(MAX_CACHES * G.FIELDS);
  private readonly slub: Slub;
  /** RAM as 8-byte words, for the fills and compares. */
  private readonly f64: Float64Array;
  /** RAM as int32 words, for the freelist walk. */
  private readonly i32: Int32Array;
  /** Per cache: bswap32() of each object's free pointer offset in its slab (the hardened walk's xor), by object index. */
  private readonly swabs: (Int32Array | undefined)[] = new Array(MAX_CACHES).fill(undefined);
  /** Per QUICK cache: the shadow of one slab's freelist (see shadowWalk). */
  private readonly shadows: FreelistShadow[] = new Array(MAX_CACHES).fill(NO_SHADOW);
  // The slub's arrays (fixed for the machine's life), one load away.
  private readonly cf: Int32Array;
  private readonly counters: Uint32Array;
  private readonly slabObjects: Uint16Array;
  private readonly slabCache: Int32Array;
  private readonly pageType: Uint8Array;
  private readonly order: Uint8Array;

  /** allocQuick() and freeQuick() serve QUICK caches (setQuick(false): never, so only the faithful paths run). */
  private quickOn = true;

  constructor(slub: Slub) {
    this.slub = slub;
    this.cf = slub.cf;
    this.counters = slub.slabCounters;
    this.slabObjects = slub.pages.slabObjects;
    this.slabCache = slub.pages.slabCache;
    this.pageType = slub.pages.pageType;
    this.order = slub.pages.order;
    const u8 = slub.u8;
    if (u8.byteOffset % 8 !== 0) throw new RangeError('slub: RAM must be 8-byte aligned for slub_debug');
    this.f64 = new Float64Array(u8.buffer, u8.byteOffset, u8.byteLength >>> 3);
    this.i32 = new Int32Array(u8.buffer, u8.byteOffset, u8.byteLength >>> 2);
  }

  /** Let allocQuick() and freeQuick() serve the caches they can (the default), or none; every row is built again. */
  setQuick(on: boolean): void {
    this.quickOn = on;
    this.geo.fill(0);
  }

  /** The row of cache s, rebuilt when the cache is not the one it was built for. */
  row(s: number): number {
    const g = s * G.FIELDS;
    const r = s * CF.FIELDS;
    const geo = this.geo;
    const cf = this.slub.cf;
    if (geo[g + G.STAMP] === cf[r + CF.HANDLE] && geo[g + G.INUSE] === cf[r + CF.INUSE] && geo[g + G.STAMP] !== 0) return g;
    const flags = cf[r + CF.FLAGS]!;
    const inuse = cf[r + CF.INUSE]!;
    const offset = cf[r + CF.OFFSET]!;
    const infoEnd = offset >= inuse ? inuse + 8 : inuse;
    const meta = this.slub.caches[s];
    const hasKasan = meta !== undefined && meta.kasanAllocMetaOffset >= 0;
    const kasanIn = hasKasan && meta.kasanFreeMetaOffset === 0 ? KASAN_META_SIZE : 0;
    const kasanOut = hasKasan ? (meta.kasanAllocMetaOffset !== 0 ? KASAN_META_SIZE : 0) + (meta.kasanFreeMetaOffset > 0 ? KASAN_META_SIZE : 0) : 0;
    let padOff = infoEnd;
    if (flags & SLAB_STORE_USER) {
      padOff += 2 * TRACK_SIZE;
      if (flags & SLAB_KMALLOC) padOff += ORIG_SIZE_SIZE;
    }
    padOff += kasanOut;
    const rlp = cf[r + CF.RED_LEFT_PAD]!;
    geo[g + G.STAMP] = cf[r + CF.HANDLE]!;
    geo[g + G.INUSE] = inuse;
    geo[g + G.SIZE] = cf[r + CF.SIZE]!;
    geo[g + G.OBJECT_SIZE] = cf[r + CF.OBJECT_SIZE]!;
    geo[g + G.FLAGS] = flags;
    geo[g + G.RLP] = rlp;
    geo[g + G.VP_RLP] = flags & SLAB_RED_ZONE ? rlp : 0;
    geo[g + G.OFFSET] = offset;
    geo[g + G.XOR_LO] = cf[r + CF.XOR_LO]!;
    geo[g + G.XOR_HI] = cf[r + CF.XOR_HI]!;
    geo[g + G.INFO_END] = infoEnd;
    geo[g + G.PAD_OFF] = padOff;
    geo[g + G.SFO] = flags & SLAB_RED_ZONE ? cf[r + CF.SIZE]! - rlp : cf[r + CF.SIZE]!;
    geo[g + G.KASAN_IN] = kasanIn;
    geo[g + G.ORIG] = flags & SLAB_STORE_USER && flags & SLAB_KMALLOC ? 1 : 0;
    geo[g + G.RECIP_MUL] = cf[r + CF.RECIP_MUL]!;
    geo[g + G.RECIP_SHIFT] = cf[r + CF.RECIP_SHIFT]!;
    const objectSize = cf[r + CF.OBJECT_SIZE]!;
    const words = [cf[r + CF.SIZE]!, rlp, objectSize, inuse, padOff, geo[g + G.SFO]!, kasanIn].every((v) => v % 8 === 0);
    geo[g + G.ALIGNED] = words && kasanIn + 8 <= objectSize ? 1 : 0;
    const order = cf[r + CF.ORDER]!;
    const bytes = 4096 << order;
    const size = cf[r + CF.SIZE]!;
    const quickFlags = SLAB_CONSISTENCY_CHECKS | SLAB_RED_ZONE | SLAB_POISON | __OBJECT_POISON;
    geo[g + G.QUICK] =
      this.quickOn &&
      geo[g + G.ALIGNED] === 1 &&
      (flags & quickFlags) === quickFlags &&
      (flags & (SLAB_STORE_USER | SLAB_TRACE)) === 0 &&
      !hasKasan &&
      offset >= inuse
        ? 1
        : 0;
    geo[g + G.SLAB_ORDER] = order;
    geo[g + G.MAXOBJ] = Math.min(Math.floor(bytes / size), MAX_OBJS_PER_PAGE);
    geo[g + G.SPAD_W0] = (bytes - (bytes % size)) >>> 3;
    geo[g + G.SPAD_W1] = bytes >>> 3;
    this.swabs[s] = undefined;
    geo[g + G.SH_PFN] = -1;
    if (geo[g + G.QUICK] !== 0) {
      const maxobj = geo[g + G.MAXOBJ]!;
      this.shadows[s] = new FreelistShadow(2 * maxobj + 1, maxobj);
    }
    return g;
  }

  /** off / size, exact for multiples of size (Slub.offsetToIndex). */
  private index(s: number, g: number, off: number): number {
    const geo = this.geo;
    return (off & ~0x7fff) === 0 ? reciprocalIndex(off, geo[g + G.RECIP_MUL]!, geo[g + G.RECIP_SHIFT]!) : (off * this.slub.invSize[s]!) | 0;
  }

  /** check_valid_pointer() for a nonzero p (-1: an undecodable free pointer). */
  private validPointer(s: number, g: number, pfn: number, objects: number, p: number): boolean {
    if (p < 0) return false;
    const geo = this.geo;
    const size = geo[g + G.SIZE]!;
    const q = p - geo[g + G.VP_RLP]! - pfn * 4096;
    if (q < 0 || q >= objects * size) return false;
    return this.index(s, g, q) * size === q;
  }

  /** get_freepointer() as the full value: the address, 0 for NULL, -1 for one that is no direct-map pointer (debug.ts fp()). */
  private next(g: number, obj: number): number {
    const geo = this.geo;
    const at = (obj + geo[g + G.OFFSET]!) >>> 2;
    const u32 = this.slub.u32;
    const lo = (u32[at]! ^ geo[g + G.XOR_LO]!) >>> 0;
    const xorHi = geo[g + G.XOR_HI]!;
    const hi = (u32[at + 1]! ^ (xorHi === 0 ? 0 : xorHi ^ bswap32(at << 2))) >>> 0;
    if (lo === 0 && hi === 0) return 0;
    return hi === DIRECT_MAP_HI >>> 0 ? lo : -1;
  }

  /**
   * bswap32(first object + i * size + offset - slab base) for i below
   * `objects`: the byte-swapped position of object i's free pointer in its
   * slab; row() drops it when it rebuilds the cache's row, and it is made
   * again, also when more objects are asked.
   */
  private swabTable(s: number, g: number, objects: number): Int32Array {
    const t = this.swabs[s];
    if (t !== undefined && t.length >= objects) return t;
    const geo = this.geo;
    const n = Math.max(objects, t?.length ?? 0);
    const table = new Int32Array(n);
    const size = geo[g + G.SIZE]!;
    const start = geo[g + G.VP_RLP]! + geo[g + G.OFFSET]!;
    for (let i = 0; i < n; i++) table[i] = bswap32((start + i * size) & ~3);
    this.swabs[s] = table;
    return table;
  }

  /** slab->freelist as an address (Slub.slabFreelist). */
  private freelist(g: number, pfn: number): number {
    const idx = (this.slub.slabCounters[pfn]! & SlabWord.FREELIST_MASK) >>> SlabWord.FREELIST_SHIFT;
    return idx === 0 ? 0 : pfn * 4096 + this.geo[g + G.RLP]! + (idx - 1) * this.geo[g + G.SIZE]!;
  }

  /** check_slab() would pass without a report: a slab page, possible counters, intact tail padding. */
  slabClean(s: number, pfn: number): boolean {
    return this.slabCleanG(this.row(s), pfn);
  }

  private slabCleanG(g: number, pfn: number): boolean {
    const pages = this.slub.pages;
    if (pages.pageType[pfn] !== PGTY_slab) return false;
    const geo = this.geo;
    const bytes = 4096 << pages.order[pfn]!;
    const size = geo[g + G.SIZE]!;
    const objects = pages.slabObjects[pfn]!;
    if (objects * size > bytes) return false;
    if ((this.slub.slabCounters[pfn]! & SlabWord.INUSE_MASK) > objects) return false;
    if (!(geo[g + G.FLAGS]! & SLAB_POISON)) return true;
    const remainder = bytes % size;
    if (remainder === 0) return true;
    const end = pfn * 4096 + bytes;
    if ((remainder & 7) !== 0) return allBytes(this.slub.u8, this.f64, end - remainder, end, POISON_INUSE);
    // Whole words (the slab ends on a page): 8 bytes of 0x5a at a time.
    const f64 = this.f64;
    const v = PATTERN[POISON_INUSE]!;
    for (let w = (end - remainder) >>> 3, wend = end >>> 3; w < wend; w++) if (f64[w] !== v) return false;
    return true;
  }

  /**
   * alloc_consistency_checks() would pass without a report: check_slab(),
   * check_valid_pointer() of the object, check_object(SLUB_RED_INACTIVE).
   */
  allocChecksClean(s: number, pfn: number, obj: number): boolean {
    const g = this.row(s);
    if (!this.slabCleanG(g, pfn)) return false;
    if (obj !== 0 && !this.validPointer(s, g, pfn, this.slub.pages.slabObjects[pfn]!, obj)) return false;
    return this.objectCleanG(s, g, pfn, obj, SLUB_RED_INACTIVE);
  }

  /**
   * free_debug_processing()'s checks of a single object would pass without
   * a report: check_slab(), inuse >= 1, check_valid_pointer(), not on the
   * freelist (a clean walk, counters agreeing), check_object(SLUB_RED_ACTIVE),
   * the slab's cache.
   */
  freeChecksClean(s: number, pfn: number, obj: number): boolean {
    const g = this.row(s);
    if (!this.slabCleanG(g, pfn)) return false;
    if ((this.slub.slabCounters[pfn]! & SlabWord.INUSE_MASK) < 1) return false;
    if (obj <= 0 || !this.validPointer(s, g, pfn, this.slub.pages.slabObjects[pfn]!, obj)) return false;
    if (this.freelistWalkG(s, g, pfn, obj) !== 0) return false;
    if (!this.objectCleanG(s, g, pfn, obj, SLUB_RED_ACTIVE)) return false;
    return this.slub.pages.slabCache[pfn] === s;
  }

  /** The row of cache s, checked against the cache as row() does, inline. */
  private rowOf(s: number): number {
    const g = s * G.FIELDS;
    const r = s * CF.FIELDS;
    const geo = this.geo;
    const cf = this.cf;
    if (geo[g + G.STAMP] === cf[r + CF.HANDLE] && geo[g + G.INUSE] === cf[r + CF.INUSE] && geo[g + G.STAMP] !== 0) return g;
    return this.row(s);
  }

  /**
   * alloc_single_from_partial() for a QUICK cache when nothing is wrong:
   * the first object of the first node partial slab, when check_slab()
   * (after inuse++), check_valid_pointer() and check_object(INACTIVE) would
   * all pass without a word, then the rest of alloc_debug_processing() and
   * alloc_single_from_partial(): init_object(ACTIVE) and a full slab off
   * the partial list. Returns the object; 0, having changed nothing, when
   * the cache or the slab is not a quick case or anything is off (debug.ts
   * then runs the kernel's path from the start).
   * Invariant: a false (0) return leaves memory as it was: every check runs
   * before any store, except the red zones, whose words change as they pass
   * their check (the last one) and go back at the first that fails.
   */
  allocQuick(s: number): number {
    const g = this.rowOf(s);
    const geo = this.geo;
    if (geo[g + G.QUICK] === 0) return 0;
    const pfn = this.cf[s * CF.FIELDS + CF.PARTIAL_HEAD]!;
    if (pfn < 0) return 0;
    const counters = this.counters[pfn]!;
    const objects = this.slabObjects[pfn]!;
    const fidx = (counters & SlabWord.FREELIST_MASK) >>> SlabWord.FREELIST_SHIFT;
    const inuse = (counters & SlabWord.INUSE_MASK) + 1;
    // check_slab() sees inuse after the increment.
    if (fidx === 0 || fidx > objects || inuse > objects) return 0;
    if (this.pageType[pfn] !== PGTY_slab || this.order[pfn] !== geo[g + G.SLAB_ORDER] || objects > geo[g + G.MAXOBJ]!) return 0;
    const f64 = this.f64;
    const slabW = pfn * 512;
    if (!slabPaddingClean(f64, slabW + geo[g + G.SPAD_W0]!, slabW + geo[g + G.SPAD_W1]!)) return 0;
    const size = geo[g + G.SIZE]!;
    const rlp = geo[g + G.RLP]!;
    const first = pfn * 4096 + rlp;
    const obj = first + (fidx - 1) * size;
    // The object's free pointer: NULL, or an object of this slab (takeFirst's next, check_object's last check).
    const at = (obj + geo[g + G.OFFSET]!) >>> 2;
    const lo = (this.i32[at]! ^ geo[g + G.XOR_LO]!) >>> 0;
    const xorHi = geo[g + G.XOR_HI]!;
    const hi = xorHi === 0 ? this.i32[at + 1]! : this.i32[at + 1]! ^ xorHi ^ bswap32(at << 2);
    let nextIdx = 0;
    if (hi === DIRECT_MAP_HI_I32) {
      const q = lo - first;
      if (q < 0 || q >= objects * size) return 0;
      const idx = this.index(s, g, q);
      if (idx * size !== q) return 0;
      nextIdx = idx + 1;
    } else if (hi !== 0 || lo !== 0) {
      return 0;
    }
    // check_object(SLUB_RED_INACTIVE), word by word: red zones, poison, End Poison, padding.
    const w = obj >>> 3;
    const left = w - (rlp >>> 3);
    const objEnd = w + (geo[g + G.OBJECT_SIZE]! >>> 3);
    const inuseEnd = w + (geo[g + G.INUSE]! >>> 3);
    {
      let i = w;
      for (; i + 4 <= objEnd - 1; i += 4) if (f64[i] !== W_FREE || f64[i + 1] !== W_FREE || f64[i + 2] !== W_FREE || f64[i + 3] !== W_FREE) return 0;
      for (; i < objEnd - 1; i++) if (f64[i] !== W_FREE) return 0;
    }
    if (f64[objEnd - 1] !== POISON_TAIL_WORD) return 0;
    {
      let i = w + (geo[g + G.PAD_OFF]! >>> 3);
      const end = w + (geo[g + G.SFO]! >>> 3);
      for (; i + 4 <= end; i += 4) if (f64[i] !== W_INUSE || f64[i + 1] !== W_INUSE || f64[i + 2] !== W_INUSE || f64[i + 3] !== W_INUSE) return 0;
      for (; i < end; i++) if (f64[i] !== W_INUSE) return 0;
    }
    // Last, check_object()'s red zones fused with init_object()'s: each inactive word turns active as it
    // passes. At the first word that is not as expected, the words changed go back and the kernel's path runs.
    if (!flipRedZones(f64, left, w, objEnd, inuseEnd, W_RED_INACTIVE, W_RED_ACTIVE)) return 0;
    // Taken: slab->freelist and inuse; init_object(ACTIVE) wrote the red zones above (the poison it writes is already there).
    this.counters[pfn] = ((nextIdx << SlabWord.FREELIST_SHIFT) | inuse | (counters & SlabWord.FROZEN)) >>> 0;
    // The head off the shadow, when the shadow is this freelist's.
    const start = geo[g + G.SH_START]!;
    const shadow = this.shadows[s]!;
    if (geo[g + G.SH_PFN] === pfn && start < geo[g + G.SH_END]! && shadow.idx[start] === fidx - 1) {
      shadow.member[fidx - 1] = 0;
      geo[g + G.SH_START] = start + 1;
    }
    // Full: off the partial list (add_full() keeps a list only with SLAB_STORE_USER).
    if (inuse === objects) this.slub.removePartial(s, pfn);
    return obj;
  }

  /**
   * free_to_partial_list() of one object of a QUICK cache when nothing is
   * wrong and the slab changes no list: check_slab(), inuse >= 1,
   * check_valid_pointer(), on_freelist() (a clean walk without it, the
   * counters agreeing), check_object(ACTIVE) and the slab's cache would all
   * pass without a word. Then init_object(INACTIVE) and the object onto
   * slab->freelist; the list moves are the caller's (debug.ts
   * partialListMoves). Returns 1, or 2 when the freelist was empty (the
   * slab was full); 0, having changed nothing, otherwise.
   * Invariant: a false (0) return leaves memory as it was: every check runs
   * before any store, except the red zones, whose words change as they pass
   * their check (the last one) and go back at the first that fails.
   */
  freeQuick(s: number, pfn: number, obj: number): number {
    const g = this.rowOf(s);
    const geo = this.geo;
    if (geo[g + G.QUICK] === 0) return 0;
    const counters = this.counters[pfn]!;
    const objects = this.slabObjects[pfn]!;
    const inuse = counters & SlabWord.INUSE_MASK;
    const fidx = (counters & SlabWord.FREELIST_MASK) >>> SlabWord.FREELIST_SHIFT;
    // check_slab(), then "Slab has 0 allocated objects", then on_freelist()'s "Wrong number of objects".
    if (inuse > objects || inuse < 1 || objects !== geo[g + G.MAXOBJ]!) return 0;
    if (this.pageType[pfn] !== PGTY_slab || this.order[pfn] !== geo[g + G.SLAB_ORDER]) return 0;
    const f64 = this.f64;
    const slabW = pfn * 512;
    if (!slabPaddingClean(f64, slabW + geo[g + G.SPAD_W0]!, slabW + geo[g + G.SPAD_W1]!)) return 0;
    const size = geo[g + G.SIZE]!;
    const rlp = geo[g + G.RLP]!;
    const first = pfn * 4096 + rlp;
    const q = obj - first;
    if (q < 0 || q >= objects * size) return 0;
    const idx = this.index(s, g, q);
    if (idx * size !== q) return 0;
    // on_freelist(): the freelist as its shadow says, word for word, or walked afresh; obj not on it.
    if (!this.shadowHolds(s, g, pfn, fidx - 1, objects - inuse) && !this.shadowWalk(s, g, pfn, objects - inuse)) return 0;
    const shadow = this.shadows[s]!;
    const member = shadow.member;
    if (member[idx] !== 0) return 0;
    // check_object(SLUB_RED_ACTIVE): red zones, padding, the free pointer outside the object.
    const w = obj >>> 3;
    const left = w - (rlp >>> 3);
    const objEnd = w + (geo[g + G.OBJECT_SIZE]! >>> 3);
    const inuseEnd = w + (geo[g + G.INUSE]! >>> 3);
    {
      let i = w + (geo[g + G.PAD_OFF]! >>> 3);
      const end = w + (geo[g + G.SFO]! >>> 3);
      for (; i + 4 <= end; i += 4) if (f64[i] !== W_INUSE || f64[i + 1] !== W_INUSE || f64[i + 2] !== W_INUSE || f64[i + 3] !== W_INUSE) return 0;
      for (; i < end; i++) if (f64[i] !== W_INUSE) return 0;
    }
    const at = (obj + geo[g + G.OFFSET]!) >>> 2;
    const lo = (this.i32[at]! ^ geo[g + G.XOR_LO]!) >>> 0;
    const xorHi = geo[g + G.XOR_HI]!;
    const hi = xorHi === 0 ? this.i32[at + 1]! : this.i32[at + 1]! ^ xorHi ^ bswap32(at << 2);
    if (hi === DIRECT_MAP_HI_I32) {
      const fq = lo - first;
      if (fq < 0 || fq >= objects * size || this.index(s, g, fq) * size !== fq) return 0;
    } else if (hi !== 0 || lo !== 0) {
      return 0;
    }
    if (this.slabCache[pfn] !== s) return 0;
    // Last, check_object()'s red zones fused with init_object()'s: each active word turns inactive as it
    // passes. At the first word that is not as expected, the words changed go back and the kernel's path runs.
    if (!flipRedZones(f64, left, w, objEnd, inuseEnd, W_RED_ACTIVE, W_RED_INACTIVE)) return 0;
    // The rest of init_object(SLUB_RED_INACTIVE), then set_freepointer() and slab->freelist, inuse.
    {
      let i = w;
      for (; i + 4 <= objEnd - 1; i += 4) {
        f64[i] = W_FREE;
        f64[i + 1] = W_FREE;
        f64[i + 2] = W_FREE;
        f64[i + 3] = W_FREE;
      }
      for (; i < objEnd - 1; i++) f64[i] = W_FREE;
    }
    f64[objEnd - 1] = POISON_TAIL_WORD;
    this.slub.setFreepointer(s, obj, fidx === 0 ? 0 : first + (fidx - 1) * size);
    this.counters[pfn] = (((idx + 1) << SlabWord.FREELIST_SHIFT) | (inuse - 1) | (counters & SlabWord.FROZEN)) >>> 0;
    // The new head onto the shadow, with the words just stored.
    const start = geo[g + G.SH_START]! - 1;
    if (start < 0) {
      geo[g + G.SH_PFN] = -1;
      return fidx === 0 ? 2 : 1;
    }
    const i32 = this.i32;
    shadow.at[start] = at >>> 1;
    shadow.raw32[2 * start] = i32[at]!;
    shadow.raw32[2 * start + 1] = i32[at + 1]!;
    shadow.idx[start] = idx;
    member[idx] = 1;
    const word = shadow.raw[start]!;
    if (Number.isNaN(word) || word === 0) geo[g + G.SH_F64] = 0;
    geo[g + G.SH_START] = start;
    return fidx === 0 ? 2 : 1;
  }

  /**
   * Is slab pfn's freelist exactly the cache's shadow: the shadow is this
   * slab's, starts at object `head` and has `free` entries, and every
   * entry's free pointer still holds the words it held when the entry was
   * made? Then walking the chain would visit the same objects, each next
   * pointer decoding as it did then (valid, into this slab), the last NULL:
   * on_freelist()'s clean walk, whose objects are the ones members marks.
   * The loads are independent of each other, unlike the walk's.
   */
  private shadowHolds(s: number, g: number, pfn: number, head: number, free: number): boolean {
    const geo = this.geo;
    const start = geo[g + G.SH_START]!;
    const end = geo[g + G.SH_END]!;
    const shadow = this.shadows[s]!;
    if (geo[g + G.SH_PFN] !== pfn || end - start !== free || shadow.idx[start] !== head) return false;
    const at = shadow.at;
    if (geo[g + G.SH_F64] !== 0) {
      // 8 bytes at once, two entries a step (fewer loop checks; the loads stay independent).
      const f64 = this.f64;
      const raw = shadow.raw;
      let j = start;
      for (; j + 2 <= end; j += 2) if (f64[at[j]!] !== raw[j] || f64[at[j + 1]!] !== raw[j + 1]) return false;
      return j === end || f64[at[j]!] === raw[j];
    }
    const i32 = this.i32;
    const raw32 = shadow.raw32;
    for (let j = start; j < end; j++) {
      const a = at[j]! * 2;
      if (i32[a] !== raw32[2 * j] || i32[a + 1] !== raw32[2 * j + 1]) return false;
    }
    return true;
  }

  /**
   * on_freelist()'s walk of slab pfn (a QUICK cache's) that only succeeds
   * when it is clean: each free pointer NULL or, stored as set_freepointer()
   * stores it, an object of the slab; NULL within `objects` steps; `free`
   * objects on it. It makes the shadow of the chain (entries from the
   * middle of the array, so pushes and pops of the quick paths fit on either
   * side) and marks its objects in members. False, with no shadow, otherwise.
   */
  private shadowWalk(s: number, g: number, pfn: number, free: number): boolean {
    const geo = this.geo;
    geo[g + G.SH_PFN] = -1;
    const shadow = this.shadows[s]!;
    const member = shadow.member;
    const objects = this.slabObjects[pfn]!;
    member.fill(0);
    const size = geo[g + G.SIZE]!;
    const first = pfn * 4096 + geo[g + G.RLP]!;
    const limit = objects * size;
    const offset = geo[g + G.OFFSET]!;
    const xorLo = geo[g + G.XOR_LO]!;
    const xorHi = geo[g + G.XOR_HI]!;
    const i32 = this.i32;
    const start = geo[g + G.MAXOBJ]!;
    let j = start;
    let safe = 1;
    let idx = ((this.counters[pfn]! & SlabWord.FREELIST_MASK) >>> SlabWord.FREELIST_SHIFT) - 1;
    let nr = 0;
    while (idx >= 0) {
      if (nr++ >= objects || idx >= objects || member[idx] !== 0) return false;
      const at = (first + idx * size + offset) >>> 2;
      const rawLo = i32[at]!;
      const rawHi = i32[at + 1]!;
      const lo = (rawLo ^ xorLo) >>> 0;
      const hi = xorHi === 0 ? rawHi : rawHi ^ xorHi ^ bswap32(at << 2);
      shadow.at[j] = at >>> 1;
      shadow.raw32[2 * j] = rawLo;
      shadow.raw32[2 * j + 1] = rawHi;
      shadow.idx[j] = idx;
      const word = shadow.raw[j]!;
      if (Number.isNaN(word) || word === 0) safe = 0;
      member[idx] = 1;
      j++;
      if (hi === DIRECT_MAP_HI_I32) {
        const q = lo - first;
        if (q < 0 || q >= limit) return false;
        idx = this.index(s, g, q);
        if (idx * size !== q) return false;
      } else if (hi === 0 && lo === 0) {
        idx = -1;
      } else {
        return false;
      }
    }
    if (nr !== free) return false;
    geo[g + G.SH_PFN] = pfn;
    geo[g + G.SH_START] = start;
    geo[g + G.SH_END] = start + nr;
    geo[g + G.SH_F64] = safe;
    return true;
  }

  /**
   * check_object() would pass without a report: red zones `val`, the
   * kmalloc red zone of an active object, poison, padding, free pointer.
   */
  objectClean(s: number, pfn: number, obj: number, val: number): boolean {
    return this.objectCleanG(s, this.row(s), pfn, obj, val);
  }

  private objectCleanG(s: number, g: number, pfn: number, obj: number, val: number): boolean {
    if (this.geo[g + G.ALIGNED] !== 0 && (obj & 7) === 0 && (val !== SLUB_RED_ACTIVE || this.geo[g + G.ORIG] === 0))
      return this.objectCleanWords(s, g, pfn, obj, val);
    return this.objectCleanBytes(s, g, pfn, obj, val);
  }

  /**
   * objectCleanBytes() for a cache whose ranges are all whole words (ALIGNED)
   * and no orig_size red zone: the same compares, a word at a time.
   */
  private objectCleanWords(s: number, g: number, pfn: number, obj: number, val: number): boolean {
    const geo = this.geo;
    const f64 = this.f64;
    const flags = geo[g + G.FLAGS]!;
    const w = obj >>> 3;
    const objEnd = w + (geo[g + G.OBJECT_SIZE]! >>> 3);
    const inuseEnd = w + (geo[g + G.INUSE]! >>> 3);
    if (flags & SLAB_RED_ZONE) {
      const v = PATTERN[val]!;
      for (let i = w - (geo[g + G.RLP]! >>> 3); i < w; i++) if (f64[i] !== v) return false;
      for (let i = objEnd; i < inuseEnd; i++) if (f64[i] !== v) return false;
    } else if (flags & SLAB_POISON) {
      const v = PATTERN[POISON_INUSE]!;
      for (let i = objEnd; i < inuseEnd; i++) if (f64[i] !== v) return false;
    }
    if (flags & SLAB_POISON) {
      if (val !== SLUB_RED_ACTIVE && flags & __OBJECT_POISON) {
        const v = PATTERN[POISON_FREE]!;
        for (let i = w + (geo[g + G.KASAN_IN]! >>> 3); i < objEnd - 1; i++) if (f64[i] !== v) return false;
        if (f64[objEnd - 1] !== POISON_TAIL_WORD) return false;
      }
      const v = PATTERN[POISON_INUSE]!;
      const padEnd = w + (geo[g + G.SFO]! >>> 3);
      for (let i = w + (geo[g + G.PAD_OFF]! >>> 3); i < padEnd; i++) if (f64[i] !== v) return false;
    }
    return this.fpClean(s, g, pfn, obj, val);
  }

  /** check_object()'s last step: a free pointer (of a free object, or outside the object) that is NULL or an object of the slab. */
  private fpClean(s: number, g: number, pfn: number, obj: number, val: number): boolean {
    if (this.geo[g + G.OFFSET]! >= this.geo[g + G.INUSE]! || val !== SLUB_RED_ACTIVE) {
      const fp = this.next(g, obj);
      if (fp !== 0 && !this.validPointer(s, g, pfn, this.slub.pages.slabObjects[pfn]!, fp)) return false;
    }
    return true;
  }

  /** objectClean() range by range, for any geometry and val. */
  private objectCleanBytes(s: number, g: number, pfn: number, obj: number, val: number): boolean {
    const geo = this.geo;
    const u8 = this.slub.u8;
    const u32 = this.slub.u32;
    const f64 = this.f64;
    const flags = geo[g + G.FLAGS]!;
    const objectSize = geo[g + G.OBJECT_SIZE]!;
    const inuse = geo[g + G.INUSE]!;
    if (flags & SLAB_RED_ZONE) {
      if (!allBytes(u8, f64, obj - geo[g + G.RLP]!, obj, val)) return false;
      if (!allBytes(u8, f64, obj + objectSize, obj + inuse, val)) return false;
      if (geo[g + G.ORIG] !== 0 && val === SLUB_RED_ACTIVE) {
        const orig = u32[(obj + geo[g + G.INFO_END]! + 2 * TRACK_SIZE) >>> 2]!;
        if (objectSize > orig && !allBytes(u8, f64, obj + orig, obj + objectSize, val)) return false;
      }
    } else if (flags & SLAB_POISON && objectSize < inuse) {
      if (!allBytes(u8, f64, obj + objectSize, obj + inuse, POISON_INUSE)) return false;
    }
    if (flags & SLAB_POISON) {
      if (val !== SLUB_RED_ACTIVE && flags & __OBJECT_POISON) {
        const meta = geo[g + G.KASAN_IN]!;
        const end = obj + objectSize;
        if (meta + 8 <= objectSize && (end & 7) === 0) {
          // Poison and End Poison at once: the last word is 0x6b.. 0xa5.
          if (!allBytes(u8, f64, obj + meta, end - 8, POISON_FREE) || f64[(end - 8) >>> 3] !== POISON_TAIL_WORD) return false;
        } else {
          if (meta < objectSize - 1 && !allBytes(u8, f64, obj + meta, end - 1, POISON_FREE)) return false;
          if (meta < objectSize && u8[end - 1] !== POISON_END) return false;
        }
      }
      const off = geo[g + G.PAD_OFF]!;
      const sfo = geo[g + G.SFO]!;
      if (sfo !== off && !allBytes(u8, f64, obj + off, obj + sfo, POISON_INUSE)) return false;
    }
    return this.fpClean(s, g, pfn, obj, val);
  }

  /**
   * on_freelist() without its repairs: 1 when `search` is found on a clean
   * stretch of the chain, 0 when the walk ended cleanly without it and the
   * counters agree (the kernel's answer is then search === 0), -1 when
   * anything is off and only the faithful walk may say what happens.
   */
  freelistWalk(s: number, pfn: number, search: number): number {
    return this.freelistWalkG(s, this.row(s), pfn, search);
  }

  private freelistWalkG(s: number, g: number, pfn: number, search: number): number {
    const geo = this.geo;
    const slub = this.slub;
    const objects = slub.pages.slabObjects[pfn]!;
    const size = geo[g + G.SIZE]!;
    const limit = objects * size;
    // check_valid_pointer(): fp - first is a multiple of size below objects * size.
    const first = pfn * 4096 + geo[g + G.VP_RLP]!;
    // All in int32 below: exact while the slab lies below 2 GiB (a wrapped
    // difference can then never land in [0, limit)); beyond, the faithful walk.
    if (first + limit > 0x7fffffff || limit > 0x8000) return -1;
    const i32 = this.i32;
    const mul = geo[g + G.RECIP_MUL]!;
    const shift = geo[g + G.RECIP_SHIFT]!;
    const offset = geo[g + G.OFFSET]!;
    const xorLo = geo[g + G.XOR_LO]!;
    const xorHi = geo[g + G.XOR_HI]!;
    // The high word as stored, xor bswap32(&fp) when hardened: DIRECT_MAP_HI ^ random_hi for a pointer, random_hi for NULL.
    const hiPtr = (DIRECT_MAP_HI ^ xorHi) | 0;
    const hiNull = xorHi | 0;
    const want = search | 0;
    let nr = 0;
    let fp = this.freelist(g, pfn) | 0;
    if (xorHi !== 0) {
      // Hardened: the stored high word is also xor bswap32(&fp). The slab's
      // base (aligned to its size) and the offset inside it share no bit, so
      // that is bswap32(base) ^ bswap32(offset), the latter by object index.
      const swab = this.swabTable(s, g, limit / size);
      const hb = bswap32(pfn * 4096);
      const hiPtrSlab = hiPtr ^ hb;
      const hiNullSlab = hiNull ^ hb;
      for (; fp !== 0; nr++) {
        if (nr > objects) return -1;
        if (fp === want) return 1;
        const q = (fp - first) | 0;
        if (q < 0 || q >= limit) return -1;
        const idx = Math.imul(q, mul) >>> shift;
        if (Math.imul(idx, size) !== q) return -1;
        const at = (fp + offset) >> 2;
        const lo = i32[at]! ^ xorLo;
        const hi = i32[at + 1]! ^ swab[idx]!;
        if (hi === hiPtrSlab) fp = lo;
        else if (hi === hiNullSlab && lo === 0) fp = 0;
        else return -1;
      }
    } else {
      for (; fp !== 0; nr++) {
        if (nr > objects) return -1;
        if (fp === want) return 1;
        const q = (fp - first) | 0;
        if (q < 0 || q >= limit || Math.imul(Math.imul(q, mul) >>> shift, size) !== q) return -1;
        const at = (fp + offset) >> 2;
        const lo = i32[at]! ^ xorLo;
        const hi = i32[at + 1]!;
        if (hi === hiPtr) fp = lo;
        else if (hi === hiNull && lo === 0) fp = 0;
        else return -1;
      }
    }
    if (objects !== Math.min(Math.floor((4096 << slub.pages.order[pfn]!) / size), MAX_OBJS_PER_PAGE)) return -1;
    return (slub.slabCounters[pfn]! & SlabWord.INUSE_MASK) === objects - nr ? 0 : -1;
  }

  /**
   * init_object(): red zones `val`, the object poisoned up to `poisonSize`
   * (object_size, or the kmalloc request of an active object).
   */
  initObject(s: number, obj: number, val: number, active: boolean): void {
    const g = this.row(s);
    const geo = this.geo;
    if (geo[g + G.ALIGNED] !== 0 && (obj & 7) === 0 && !(active && geo[g + G.ORIG] !== 0)) {
      // Whole words: the same three memsets (red zone, poison ending in POISON_END, red zone).
      const f64 = this.f64;
      const flags = geo[g + G.FLAGS]!;
      const w = obj >>> 3;
      const objEnd = w + (geo[g + G.OBJECT_SIZE]! >>> 3);
      const v = PATTERN[val]!;
      if (flags & SLAB_RED_ZONE) for (let i = w - (geo[g + G.RLP]! >>> 3); i < w; i++) f64[i] = v;
      if (flags & __OBJECT_POISON) {
        const p = PATTERN[POISON_FREE]!;
        for (let i = w; i < objEnd - 1; i++) f64[i] = p;
        f64[objEnd - 1] = POISON_TAIL_WORD;
      }
      if (flags & SLAB_RED_ZONE) {
        const inuseEnd = w + (geo[g + G.INUSE]! >>> 3);
        for (let i = objEnd; i < inuseEnd; i++) f64[i] = v;
      }
      return;
    }
    this.initObjectBytes(g, obj, val, active);
  }

  /** initObject() memset by memset, for any geometry. */
  private initObjectBytes(g: number, obj: number, val: number, active: boolean): void {
    const geo = this.geo;
    const u8 = this.slub.u8;
    const u32 = this.slub.u32;
    const f64 = this.f64;
    const flags = geo[g + G.FLAGS]!;
    let poisonSize = geo[g + G.OBJECT_SIZE]!;
    if (flags & SLAB_RED_ZONE) {
      memsetBytes(u8, f64, obj - geo[g + G.RLP]!, obj, val);
      if (active && geo[g + G.ORIG] !== 0) poisonSize = u32[(obj + geo[g + G.INFO_END]! + 2 * TRACK_SIZE) >>> 2]!;
    }
    if (flags & __OBJECT_POISON) {
      memsetBytes(u8, f64, obj, obj + poisonSize, POISON_FREE);
      u8[obj + poisonSize - 1] = POISON_END;
    }
    if (flags & SLAB_RED_ZONE) memsetBytes(u8, f64, obj + poisonSize, obj + geo[g + G.INUSE]!, val);
  }
}
