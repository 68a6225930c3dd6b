/**
 * Parsed kmem events as columns of numbers: one typed array per field, one
 * row per event, so that reading a trace makes no object and no string per
 * line. Texts that repeat (call sites, gfp flags, cache names) are interned
 * to small integer ids in a StringTable; pointers are kept as the number
 * ptrKey() gives (their low 48 bits, 0 for NULL, -1 when not hex), parsed
 * from hex once, by the parser.
 *
 * Row kinds are the indices of KMEM_EVENT_KINDS.
 */

import { KMEM_EVENT_KINDS, type KmemEvent } from './events.js';

export const C_KMALLOC = KMEM_EVENT_KINDS.indexOf('kmalloc');
export const C_KMALLOC_NODE = KMEM_EVENT_KINDS.indexOf('kmalloc_node');
export const C_KFREE = KMEM_EVENT_KINDS.indexOf('kfree');
export const C_KMEM_CACHE_ALLOC = KMEM_EVENT_KINDS.indexOf('kmem_cache_alloc');
export const C_KMEM_CACHE_ALLOC_NODE = KMEM_EVENT_KINDS.indexOf('kmem_cache_alloc_node');
export const C_KMEM_CACHE_FREE = KMEM_EVENT_KINDS.indexOf('kmem_cache_free');
export const C_MM_PAGE_ALLOC = KMEM_EVENT_KINDS.indexOf('mm_page_alloc');
export const C_MM_PAGE_FREE = KMEM_EVENT_KINDS.indexOf('mm_page_free');
export const C_MM_PAGE_FREE_BATCHED = KMEM_EVENT_KINDS.indexOf('mm_page_free_batched');
export const C_MM_PAGE_ALLOC_ZONE_LOCKED = KMEM_EVENT_KINDS.indexOf('mm_page_alloc_zone_locked');
export const C_MM_PAGE_PCPU_DRAIN = KMEM_EVENT_KINDS.indexOf('mm_page_pcpu_drain');

/** A printed pointer's key: its low 48 bits, 0 for NULL, -1 when it is not a hex number. */
export function ptrKey(s: string): number {
  const n = s.length;
  if (s.charCodeAt(0) === 40 /* ( */) return s === '(null)' ? 0 : -1;
  let i = 0;
  if (n > 2 && s.charCodeAt(0) === 48 && (s.charCodeAt(1) | 0x20) === 120) i = 2;
  if (i >= n || n - i > 16) return -1;
  for (let j = i; j < n - 12; j++) {
    const c = s.charCodeAt(j) | 0x20;
    if (!((c >= 48 && c <= 57) || (c >= 97 && c <= 102))) return -1;
  }
  let v = 0;
  for (let j = Math.max(i, n - 12); j < n; j++) {
    const c = s.charCodeAt(j);
    let d: number;
    if (c >= 48 && c <= 57) d = c - 48;
    else {
      const l = c | 0x20;
      if (l >= 97 && l <= 102) d = l - 87;
      else return -1;
    }
    v = v * 16 + d;
  }
  return v;
}

/** ptrKey() of the bytes b[a, e). */
export function ptrKeyBytes(b: Uint8Array, a: number, e: number): number {
  const n = e - a;
  if (n <= 0) return -1;
  if (b[a] === 40 /* ( */) return n === 6 && b[a + 1] === 110 && b[a + 2] === 117 && b[a + 3] === 108 && b[a + 4] === 108 && b[a + 5] === 41 ? 0 : -1;
  let i = a;
  if (n > 2 && b[a] === 48 && (b[a + 1]! | 0x20) === 120) i = a + 2;
  if (i >= e || e - i > 16) return -1;
  const lo = Math.max(i, e - 12);
  for (let j = i; j < lo; j++) {
    const c = b[j]! | 0x20;
    if (!((c >= 48 && c <= 57) || (c >= 97 && c <= 102))) return -1;
  }
  let v = 0;
  for (let j = lo; j < e; j++) {
    const c = b[j]!;
    let d: number;
    if (c >= 48 && c <= 57) d = c - 48;
    else {
      const l = c | 0x20;
      if (l >= 97 && l <= 102) d = l - 87;
      else return -1;
    }
    v = v * 16 + d;
  }
  return v;
}

/** A hash of b[a, e) from its length and a few of its bytes (the compare that follows checks them all). */
function hashBytes(b: Uint8Array, a: number, e: number): number {
  const n = e - a;
  if (n < 2) return Math.imul(n + 1, 0x9e3779b1) ^ (n === 1 ? b[a]! : 0);
  const m = a + (n >> 1);
  let h = Math.imul(n ^ (b[a]! << 8) ^ (b[a + 1]! << 16) ^ (b[m]! << 24), 0x9e3779b1);
  h = Math.imul(h ^ b[e - 1]! ^ (b[e - 2]! << 8) ^ (b[m - 1]! << 16) ^ (b[Math.max(e - 4, a)]! << 24), 0x85ebca6b);
  return h ^ (h >>> 15);
}

let viewA: DataView = new DataView(new ArrayBuffer(8));
let viewAOf: Uint8Array | null = null;
let viewB: DataView = new DataView(new ArrayBuffer(8));
let viewBOf: Uint8Array | null = null;

/** True when x[xa, xa + n) and y[ya, ya + n) hold the same bytes (compared four at a time). */
function sameBytes(x: Uint8Array, xa: number, y: Uint8Array, ya: number, n: number): boolean {
  if (viewAOf !== x) {
    viewA = new DataView(x.buffer, x.byteOffset, x.byteLength);
    viewAOf = x;
  }
  if (viewBOf !== y) {
    viewB = new DataView(y.buffer, y.byteOffset, y.byteLength);
    viewBOf = y;
  }
  const va = viewA;
  const vb = viewB;
  let k = 0;
  for (; k + 4 <= n; k += 4) if (va.getUint32(xa + k) !== vb.getUint32(ya + k)) return false;
  for (; k < n; k++) if (x[xa + k] !== y[ya + k]) return false;
  return true;
}

/**
 * Strings by id, looked up by their bytes: an open-addressing table keyed by
 * a hash of the bytes; a string is decoded once, the first time it is seen.
 */
export class StringTable {
  readonly strings: string[] = [];
  private readonly byString = new Map<string, number>();
  private slots = new Int32Array(1 << 12).fill(-1);
  private hashes = new Int32Array(1 << 12);
  /** The bytes of every string, back to back, and where each starts. */
  private pool = new Uint8Array(1 << 16);
  private poolEnd = 0;
  private starts: number[] = [];

  get size(): number {
    return this.strings.length;
  }

  /** The id of b[a, e) (ASCII or latin1 bytes). */
  idOfBytes(b: Uint8Array, a: number, e: number): number {
    const n = e - a;
    const h = hashBytes(b, a, e);
    const slots = this.slots;
    const mask = slots.length - 1;
    for (let at = h & mask; ; at = (at + 1) & mask) {
      const id = slots[at]!;
      if (id === -1) break;
      if (this.hashes[at] !== h || this.strings[id]!.length !== n) continue;
      if (sameBytes(this.pool, this.starts[id]!, b, a, n)) return id;
    }
    let text = '';
    for (let k = a; k < e; k++) text += String.fromCharCode(b[k]!);
    return this.add(text, h, b, a, e);
  }

  /** The id of a string (from objects: non-ASCII lines, the object path). */
  idOf(text: string): number {
    const known = this.byString.get(text);
    if (known !== undefined) return known;
    let ascii = true;
    for (let k = 0; k < text.length; k++) if (text.charCodeAt(k) > 0xff) ascii = false;
    if (ascii) {
      const b = new Uint8Array(text.length);
      for (let k = 0; k < text.length; k++) b[k] = text.charCodeAt(k);
      return this.idOfBytes(b, 0, b.length);
    }
    const id = this.strings.length;
    this.strings.push(text);
    this.starts.push(0);
    this.byString.set(text, id);
    return id;
  }

  private add(text: string, h: number, b: Uint8Array, a: number, e: number): number {
    const id = this.strings.length;
    this.strings.push(text);
    this.byString.set(text, id);
    const n = e - a;
    if (this.poolEnd + n > this.pool.length) {
      const p = new Uint8Array(Math.max(this.pool.length * 2, this.poolEnd + n));
      p.set(this.pool.subarray(0, this.poolEnd));
      this.pool = p;
    }
    this.pool.set(b.subarray(a, e), this.poolEnd);
    this.starts.push(this.poolEnd);
    this.poolEnd += n;
    if ((id + 1) * 2 > this.slots.length) this.rehash();
    else this.place(h, id);
    return id;
  }

  private place(h: number, id: number): void {
    const mask = this.slots.length - 1;
    let at = h & mask;
    while (this.slots[at] !== -1) at = (at + 1) & mask;
    this.slots[at] = id;
    this.hashes[at] = h;
  }

  private rehash(): void {
    const old = this.slots;
    const oldH = this.hashes;
    this.slots = new Int32Array(old.length * 2).fill(-1);
    this.hashes = new Int32Array(old.length * 2);
    for (let i = 0; i < old.length; i++) if (old[i] !== -1) this.place(oldH[i]!, old[i]!);
    // the string just added
    const id = this.strings.length - 1;
    const s = this.strings[id]!;
    const sb = new Uint8Array(s.length);
    for (let k = 0; k < s.length; k++) sb[k] = s.charCodeAt(k);
    this.place(hashBytes(sb, 0, sb.length), id);
  }
}

/** Rows of parsed events; every column has room for `capacity` rows. */
export class EventColumns {
  n = 0;
  capacity: number;
  kind: Uint8Array;
  cpu: Int32Array;
  lineNo: Float64Array;
  ts: Float64Array;
  /** ptrKey of ptr= (slab events) */
  ptr: Float64Array;
  req: Float64Array;
  alloc: Float64Array;
  /** the numeric gfp mask when printed as a number, else -1 */
  gfpValue: Float64Array;
  /** the id of gfp_flags as printed, -1 when none */
  gfp: Int32Array;
  /** the id of the call site (the symbol trace-cmd/perf print in front when call_site is an address) */
  site: Int32Array;
  /** the id of name=, -1 when none */
  name: Int32Array;
  node: Int32Array;
  /** accounted=: 1 true, 0 false, -1 not printed */
  accounted: Int8Array;
  pfn: Float64Array;
  order: Int32Array;
  /** migratetype=, -1 when not printed */
  mt: Int32Array;

  constructor(capacity = 1 << 14) {
    this.capacity = capacity;
    this.kind = new Uint8Array(capacity);
    this.cpu = new Int32Array(capacity);
    this.lineNo = new Float64Array(capacity);
    this.ts = new Float64Array(capacity);
    this.ptr = new Float64Array(capacity);
    this.req = new Float64Array(capacity);
    this.alloc = new Float64Array(capacity);
    this.gfpValue = new Float64Array(capacity);
    this.gfp = new Int32Array(capacity);
    this.site = new Int32Array(capacity);
    this.name = new Int32Array(capacity);
    this.node = new Int32Array(capacity);
    this.accounted = new Int8Array(capacity);
    this.pfn = new Float64Array(capacity);
    this.order = new Int32Array(capacity);
    this.mt = new Int32Array(capacity);
  }

  get full(): boolean {
    return this.n === this.capacity;
  }

  /** Append an event object (non-ASCII lines, tests); call sites, gfp and names interned in strings. */
  pushEvent(e: KmemEvent, strings: StringTable): void {
    const r = this.n++;
    this.kind[r] = KMEM_EVENT_KINDS.indexOf(e.kind);
    this.cpu[r] = e.cpu;
    this.lineNo[r] = e.lineNo;
    this.ts[r] = e.timestamp;
    if ('ptr' in e) {
      this.ptr[r] = ptrKey(e.ptr);
      this.site[r] = strings.idOf(e.callSite);
      this.name[r] = e.name === null ? -1 : strings.idOf(e.name);
      if ('bytesReq' in e) {
        this.req[r] = e.bytesReq;
        this.alloc[r] = e.bytesAlloc;
        this.gfpValue[r] = e.gfpValue ?? -1;
        this.gfp[r] = strings.idOf(e.gfp);
        this.node[r] = e.node ?? -1;
        this.accounted[r] = e.accounted === null ? -1 : e.accounted ? 1 : 0;
      } else {
        this.gfp[r] = -1;
        this.gfpValue[r] = -1;
      }
    } else {
      this.pfn[r] = e.pfn;
      this.order[r] = e.order;
      this.mt[r] = e.migratetype ?? -1;
      this.gfpValue[r] = e.gfpValue ?? -1;
      this.gfp[r] = e.gfp === null ? -1 : strings.idOf(e.gfp);
      this.name[r] = -1;
    }
  }
}
