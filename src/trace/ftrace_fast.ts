/**
 * The kmem lines of a Linux 6.x ftrace capture, read straight into a row of
 * EventColumns: the layout nearly every line of a real trace has,
 *
 *   <comm>-<pid> [<cpu>] <flags> <sec>.<frac>: kmem_cache_alloc: call_site=S ptr=P bytes_req=N bytes_alloc=N gfp_flags=F node=N accounted=B
 *
 * (and kmalloc, kfree, kmem_cache_free [name=C], mm_page_alloc,
 * mm_page_free as 6.x prints them). One function, locals only, no string
 * made: long values (the call site, gfp_flags) are jumped over with the
 * piece string's native indexOf, keys are compared four bytes at a time,
 * numbers are read from the bytes as they are crossed.
 *
 * Invariant: fastRowInto adds a row only for a line parseFtraceInto would
 * read into the very same row, and touches nothing else when it declines
 * (returns false): every other line (other layouts and versions, headers,
 * other tracepoints, anything malformed) is left to parseFtraceInto, which
 * reads it or reports what is wrong with it.
 */

import {
  C_KFREE,
  C_KMALLOC,
  C_KMEM_CACHE_ALLOC,
  C_KMEM_CACHE_ALLOC_NODE,
  C_KMEM_CACHE_FREE,
  C_MM_PAGE_ALLOC,
  C_MM_PAGE_FREE,
  type EventColumns,
  ptrKeyBytes,
  type StringTable,
} from './columns.js';
import { noteCpu } from './ftrace.js';

const SPACE = 32;
const TAB = 9;
const CR = 13;
const HASH = 35;
const DASH = 45;
const DOT = 46;
const D0 = 48;
const COLON = 58;
const EQ = 61;
const LBRACKET = 91;
const RBRACKET = 93;

/** Little-endian 32-bit word of 4 ASCII characters, as DataView.getUint32(.., true) reads them. */
function w(text: string): number {
  return (text.charCodeAt(0) | (text.charCodeAt(1) << 8) | (text.charCodeAt(2) << 16) | (text.charCodeAt(3) << 24)) >>> 0;
}

const W_KMAL = w('kmal');
const W_LOC_ = w('loc:');
const W_KFRE = w('kfre');
const W_KMEM = w('kmem');
const W__CAC = w('_cac');
const W_HE_A = w('he_a');
const W_LLOC = w('lloc');
const W_HE_F = w('he_f');
const W_REE_ = w('ree:');
const W_MM_P = w('mm_p');
const W_AGE_ = w('age_');
const W_ALLO = w('allo');
const W_FREE = w('free');
const W_CALL = w('call');
const W__SIT = w('_sit');
const W__PTR = w(' ptr');
const W__BYT = w(' byt');
const W_ES_R = w('es_r');
const W_ES_A = w('es_a');
const W__GFP = w(' gfp');
const W__FLA = w('_fla');
const W__NOD = w(' nod');
const W__ACC = w(' acc');
const W_OUNT = w('ount');
const W__NAM = w(' nam');
const W_PAGE = w('page');
const W__PFN = w(' pfn');
const W__ORD = w(' ord');
const W__MIG = w(' mig');
const W_RATE = w('rate');
const W_TYPE = w('type');
const W_TRUE = w('true');
const W_FALS = w('fals');

/** Two lowercase hex digits (as a little-endian 16-bit word of their bytes) → their value, -1 for anything else. */
const HEX2 = new Int16Array(1 << 16).fill(-1);
for (const [x, dx] of [...'0123456789abcdef'].entries()) {
  for (const [y, dy] of [...'0123456789abcdef'].entries()) HEX2[dx.charCodeAt(0) | (dy.charCodeAt(0) << 8)] = x * 16 + y;
}

/** Where the pointer ptrAt read ends: the blank after it, or the line's end. */
let ptrEnd = 0;

/**
 * ptrKeyBytes() of the pointer at b[pa ..] (up to a blank or end), NaN when
 * it is empty; sets ptrEnd. The 16 lowercase hex digits 6.x prints are read
 * two a lookup; other plain hex digit by digit as it is crossed (the low 48
 * bits kept in two words); anything else by ptrKeyBytes.
 */
function ptrAt(b: Uint8Array, v: DataView, pa: number, end: number): number {
  if (pa + 16 <= end && (pa + 16 === end || b[pa + 16] === SPACE)) {
    const p0 = HEX2[v.getUint16(pa, true)]!;
    const p1 = HEX2[v.getUint16(pa + 2, true)]!;
    const p2 = HEX2[v.getUint16(pa + 4, true)]!;
    const p3 = HEX2[v.getUint16(pa + 6, true)]!;
    const p4 = HEX2[v.getUint16(pa + 8, true)]!;
    const p5 = HEX2[v.getUint16(pa + 10, true)]!;
    const p6 = HEX2[v.getUint16(pa + 12, true)]!;
    const p7 = HEX2[v.getUint16(pa + 14, true)]!;
    if ((p0 | p1 | p2 | p3 | p4 | p5 | p6 | p7) >= 0) {
      ptrEnd = pa + 16;
      // the low 48 bits: digits 4..15
      return ((p2 << 8) | p3) * 4294967296 + (((p4 << 24) | (p5 << 16) | (p6 << 8) | p7) >>> 0);
    }
  }
  let k = pa;
  let hi = 0;
  let lo = 0;
  for (; k < end; k++) {
    const c = b[k]!;
    let dg: number;
    if (c >= D0 && c <= D0 + 9) dg = c - D0;
    else if (c >= 97 && c <= 102) dg = c - 87;
    else break;
    hi = ((hi << 4) | (lo >>> 28)) & 0xffff;
    lo = ((lo << 4) | dg) >>> 0;
  }
  if ((k === end || b[k] === SPACE) && k - pa <= 16 && k > pa) {
    ptrEnd = k;
    return hi * 4294967296 + lo;
  }
  while (k < end && b[k] !== SPACE) k++;
  ptrEnd = k;
  return k === pa ? Number.NaN : ptrKeyBytes(b, pa, k);
}

let view: DataView = new DataView(new ArrayBuffer(8));
let viewOf: Uint8Array | null = null;

/**
 * The line b[a, end) (s the piece's text, lining up with b one to one) as
 * a row of cols: true when it was read and the row added, false when it is
 * not a 6.x ftrace kmem line this reads (nothing changed). b holds no byte
 * >= 0x80 in the line.
 */
export function fastRowInto(cols: EventColumns, strings: StringTable, b: Uint8Array, s: string, a: number, end: number, lineNo: number): boolean {
  // the CR of a CRLF line is trimmed, as the general read trims it; other trailing blanks are left to that read
  let c = b[end - 1]!;
  if (c === CR) {
    end--;
    c = b[end - 1]!;
  }
  if (c === SPACE || c === TAB || c === CR || end - a < 40) return false;
  if (viewOf !== b) {
    view = new DataView(b.buffer, b.byteOffset, b.byteLength);
    viewOf = b;
  }
  const v = view;
  let i = a;
  while (b[i] === SPACE) i++;
  c = b[i]!;
  if (c === HASH || c === TAB || c === LBRACKET) return false;
  // "<comm>-<pid> [<cpu>] ": the first " [" of the line
  // (a one-character search is native memchr; " [" would be a slower two-character one)
  let lb = s.indexOf('[', i + 1);
  while (lb !== -1 && lb < end && b[lb - 1] !== SPACE) lb = s.indexOf('[', lb + 1);
  if (lb === -1 || lb >= end) return false;
  lb--;
  let t = lb;
  while (t > i && b[t - 1] === SPACE) t--;
  let d = t - 1;
  while (d > i) {
    c = b[d]!;
    if (c < D0 || c > D0 + 9) break;
    d--;
  }
  if (d === t - 1 || d <= i || b[d] !== DASH || t - 1 - d > 15) return false;
  let j = lb + 2;
  let cpu = 0;
  const c0 = j;
  for (; j < end; j++) {
    c = b[j]! - D0;
    if (c < 0 || c > 9) break;
    cpu = cpu * 10 + c;
  }
  if (j === c0 || j - c0 > 15 || b[j] !== RBRACKET || b[j + 1] !== SPACE) return false;
  j += 2;
  // the flags: one token, not starting with a digit
  c = b[j]!;
  if (c === SPACE || (c >= D0 && c <= D0 + 9)) return false;
  j++;
  while (j < end && b[j] !== SPACE) j++;
  while (j < end && b[j] === SPACE) j++;
  // "<sec>.<frac>: "
  const tsA = j;
  let whole = 0;
  for (; j < end; j++) {
    c = b[j]! - D0;
    if (c < 0 || c > 9) break;
    whole = whole * 10 + c;
  }
  if (j === tsA || b[j] !== DOT) return false;
  j++;
  const f1 = j;
  let frac = 0;
  let fs = 1;
  for (; j < end; j++) {
    c = b[j]! - D0;
    if (c < 0 || c > 9) break;
    frac = frac * 10 + c;
    fs *= 10;
  }
  if (j === f1 || j - tsA > 16 || b[j] !== COLON || b[j + 1] !== SPACE) return false;
  j += 2;
  // the event name and ": "
  if (j + 20 > end) return false;
  const w0 = v.getUint32(j, true);
  let kind: number;
  if (w0 === W_KMEM) {
    if (v.getUint32(j + 4, true) !== W__CAC) return false;
    const w2 = v.getUint32(j + 8, true);
    if (w2 === W_HE_A && v.getUint32(j + 12, true) === W_LLOC && b[j + 16] === COLON) {
      kind = C_KMEM_CACHE_ALLOC;
      j += 17;
    } else if (w2 === W_HE_F && v.getUint32(j + 12, true) === W_REE_) {
      kind = C_KMEM_CACHE_FREE;
      j += 16;
    } else return false;
  } else if (w0 === W_KMAL) {
    if (v.getUint32(j + 4, true) !== W_LOC_) return false;
    kind = C_KMALLOC;
    j += 8;
  } else if (w0 === W_KFRE) {
    if (b[j + 4] !== 0x65 || b[j + 5] !== COLON) return false;
    kind = C_KFREE;
    j += 6;
  } else if (w0 === W_MM_P) {
    if (v.getUint32(j + 4, true) !== W_AGE_) return false;
    const w2 = v.getUint32(j + 8, true);
    if (w2 === W_ALLO && b[j + 12] === 0x63 && b[j + 13] === COLON) {
      kind = C_MM_PAGE_ALLOC;
      j += 14;
    } else if (w2 === W_FREE && b[j + 12] === COLON) {
      kind = C_MM_PAGE_FREE;
      j += 13;
    } else return false;
  } else return false;
  if (b[j] !== SPACE) return false;
  j++;
  const ts = whole + frac / fs;

  if (kind === C_MM_PAGE_ALLOC || kind === C_MM_PAGE_FREE) {
    // page=P pfn=N order=N [migratetype=N gfp_flags=F]
    if (j + 5 > end || v.getUint32(j, true) !== W_PAGE || b[j + 4] !== EQ) return false;
    let k = s.indexOf(' ', j + 5);
    if (k === j + 5 || k === -1 || k >= end) return false;
    if (k + 5 > end || v.getUint32(k, true) !== W__PFN || b[k + 4] !== EQ) return false;
    k += 5;
    // pfn: decimal, or 0x and at most 12 lowercase hex digits
    let pfn = 0;
    const p0 = k;
    if (b[k] === D0 && b[k + 1] === 0x78) {
      k += 2;
      const h0 = k;
      for (; k < end; k++) {
        c = b[k]!;
        if (c >= D0 && c <= D0 + 9) pfn = pfn * 16 + (c - D0);
        else if (c >= 97 && c <= 102) pfn = pfn * 16 + (c - 87);
        else break;
      }
      if (k === h0 || k - h0 > 12) return false;
    } else {
      for (; k < end; k++) {
        c = b[k]! - D0;
        if (c < 0 || c > 9) break;
        pfn = pfn * 10 + c;
      }
      if (k === p0 || k - p0 > 15) return false;
    }
    if (k + 7 > end || v.getUint32(k, true) !== W__ORD || b[k + 4] !== 0x65 || b[k + 5] !== 0x72 || b[k + 6] !== EQ) return false;
    k += 7;
    let order = 0;
    const o0 = k;
    for (; k < end; k++) {
      c = b[k]! - D0;
      if (c < 0 || c > 9) break;
      order = order * 10 + c;
    }
    if (k === o0 || k - o0 > 15) return false;
    let mt = -1;
    let gfp = -1;
    if (kind === C_MM_PAGE_FREE) {
      if (k !== end) return false;
    } else {
      if (k + 13 > end || v.getUint32(k, true) !== W__MIG || v.getUint32(k + 4, true) !== W_RATE || v.getUint32(k + 8, true) !== W_TYPE || b[k + 12] !== EQ) {
        return false;
      }
      k += 13;
      let neg = false;
      if (b[k] === DASH) {
        neg = true;
        k++;
      }
      const m0 = k;
      mt = 0;
      for (; k < end; k++) {
        c = b[k]! - D0;
        if (c < 0 || c > 9) break;
        mt = mt * 10 + c;
      }
      if (k === m0 || k - m0 > 15) return false;
      if (neg) mt = -mt;
      if (
        k + 11 > end ||
        v.getUint32(k, true) !== W__GFP ||
        v.getUint32(k + 4, true) !== W__FLA ||
        b[k + 8] !== 0x67 ||
        b[k + 9] !== 0x73 ||
        b[k + 10] !== EQ
      ) {
        return false;
      }
      k += 11;
      if (k >= end || b[k] === D0) return false;
      const sp = s.indexOf(' ', k);
      if (sp !== -1 && sp < end) return false;
      gfp = strings.idOfBytes(b, k, end);
    }
    const r = cols.n++;
    cols.kind[r] = kind;
    cols.cpu[r] = cpu;
    cols.lineNo[r] = lineNo;
    cols.ts[r] = ts;
    cols.pfn[r] = pfn;
    cols.order[r] = order;
    cols.mt[r] = mt;
    cols.gfpValue[r] = -1;
    cols.gfp[r] = gfp;
    cols.name[r] = -1;
    noteCpu(cpu);
    return true;
  }

  // call_site=S ptr=P
  if (j + 10 > end || v.getUint32(j, true) !== W_CALL || v.getUint32(j + 4, true) !== W__SIT || b[j + 8] !== 0x65 || b[j + 9] !== EQ) return false;
  const sa = j + 10;
  let k = s.indexOf(' ', sa);
  if (k === sa || k === -1 || k >= end) return false;
  const sb = k;
  if (k + 5 > end || v.getUint32(k, true) !== W__PTR || b[k + 4] !== EQ) return false;
  const ptr = ptrAt(b, v, k + 5, end);
  if (Number.isNaN(ptr)) return false;
  k = ptrEnd;
  if (kind === C_KFREE || kind === C_KMEM_CACHE_FREE) {
    const na = k + 6;
    if (k !== end) {
      // kmem_cache_free's name=C, the last field
      if (kind === C_KFREE || k + 6 > end || v.getUint32(k, true) !== W__NAM || b[k + 4] !== 0x65 || b[k + 5] !== EQ) return false;
      if (na === end) return false;
      const sp = s.indexOf(' ', na);
      if (sp !== -1 && sp < end) return false;
    }
    const r = cols.n++;
    cols.kind[r] = kind;
    cols.cpu[r] = cpu;
    cols.lineNo[r] = lineNo;
    cols.ts[r] = ts;
    cols.ptr[r] = ptr;
    // interned in the general parser's order (call site, then name): the same ids
    cols.site[r] = strings.idOfBytes(b, sa, sb);
    cols.name[r] = k === end ? -1 : strings.idOfBytes(b, na, end);
    cols.gfp[r] = -1;
    cols.gfpValue[r] = -1;
    noteCpu(cpu);
    return true;
  }
  // bytes_req=N bytes_alloc=N gfp_flags=F [node=N] [accounted=B]
  if (k + 11 > end || v.getUint32(k, true) !== W__BYT || v.getUint32(k + 4, true) !== W_ES_R || b[k + 8] !== 0x65 || b[k + 9] !== 0x71 || b[k + 10] !== EQ) {
    return false;
  }
  k += 11;
  let req = 0;
  let n0 = k;
  for (; k < end; k++) {
    c = b[k]! - D0;
    if (c < 0 || c > 9) break;
    req = req * 10 + c;
  }
  if (k === n0 || k - n0 > 15) return false;
  if (k + 13 > end || v.getUint32(k, true) !== W__BYT || v.getUint32(k + 4, true) !== W_ES_A || v.getUint32(k + 8, true) !== W_LLOC || b[k + 12] !== EQ)
    return false;
  k += 13;
  let alloc = 0;
  n0 = k;
  for (; k < end; k++) {
    c = b[k]! - D0;
    if (c < 0 || c > 9) break;
    alloc = alloc * 10 + c;
  }
  if (k === n0 || k - n0 > 15) return false;
  if (k + 11 > end || v.getUint32(k, true) !== W__GFP || v.getUint32(k + 4, true) !== W__FLA || b[k + 8] !== 0x67 || b[k + 9] !== 0x73 || b[k + 10] !== EQ)
    return false;
  const ga = k + 11;
  k = s.indexOf(' ', ga);
  if (k === -1 || k > end) k = end;
  if (k === ga || b[ga] === D0) return false;
  const gb = k;
  let node = -1;
  let accounted = -1;
  if (k !== end) {
    if (k + 6 <= end && v.getUint32(k, true) === W__NOD && b[k + 4] === 0x65 && b[k + 5] === EQ) {
      k += 6;
      let neg = false;
      if (b[k] === DASH) {
        neg = true;
        k++;
      }
      n0 = k;
      node = 0;
      for (; k < end; k++) {
        c = b[k]! - D0;
        if (c < 0 || c > 9) break;
        node = node * 10 + c;
      }
      if (k === n0 || k - n0 > 15 || (k < end && b[k] !== SPACE)) return false;
      if (neg) node = -node;
    }
    if (k !== end) {
      if (
        k + 11 > end ||
        v.getUint32(k, true) !== W__ACC ||
        v.getUint32(k + 4, true) !== W_OUNT ||
        b[k + 8] !== 0x65 ||
        b[k + 9] !== 0x64 ||
        b[k + 10] !== EQ
      ) {
        return false;
      }
      k += 11;
      if (end - k === 4 && v.getUint32(k, true) === W_TRUE) accounted = 1;
      else if (end - k === 5 && v.getUint32(k, true) === W_FALS && b[k + 4] === 0x65) accounted = 0;
      else return false;
    }
  }
  const r = cols.n++;
  cols.kind[r] = kind;
  cols.cpu[r] = cpu;
  cols.lineNo[r] = lineNo;
  cols.ts[r] = ts;
  cols.ptr[r] = ptr;
  cols.site[r] = strings.idOfBytes(b, sa, sb);
  cols.name[r] = -1;
  cols.req[r] = req;
  cols.alloc[r] = alloc;
  cols.gfpValue[r] = -1;
  cols.gfp[r] = strings.idOfBytes(b, ga, gb);
  cols.node[r] = node;
  cols.accounted[r] = accounted;
  noteCpu(cpu);
  return true;
}

const W_C_NO = w('c_no');
const W_NAME = w('name');

/**
 * The first pass's read of a line in which `kmem_cache_` starts at b[hit]
 * (s the piece's text), in the layout 6.x prints: 1 when it added the row
 * scanNamesInto would (kind, lineNo, ptr, site, name, bytes_alloc,
 * bytes_req; cpu -1), 0 never, -1 when the line is laid out otherwise or is
 * no such event (read it with scanNamesInto). It checks no more than it
 * needs: the first pass skips malformed lines, the second reports them.
 */
export function fastNamesInto(cols: EventColumns, strings: StringTable, b: Uint8Array, s: string, hit: number, end: number, lineNo: number): number {
  // ": kmem_cache_" (perf's ":kmem_cache_" after "kmem" is read in full)
  if (hit < 2 || b[hit - 1] !== SPACE || b[hit - 2] !== COLON || hit + 40 > end) return -1;
  // the CR of a CRLF line is trimmed (as scanNamesInto trims it); other trailing blanks are left to scanNamesInto
  if (b[end - 1] === CR) end--;
  const last = b[end - 1]!;
  if (last === SPACE || last === TAB || last === CR) return -1;
  if (viewOf !== b) {
    view = new DataView(b.buffer, b.byteOffset, b.byteLength);
    viewOf = b;
  }
  const v = view;
  let j = hit + 11;
  let kind: number;
  const w0 = v.getUint32(j, true);
  if (w0 === W_ALLO) {
    if (b[j + 4] === 0x63 && b[j + 5] === COLON) {
      kind = C_KMEM_CACHE_ALLOC;
      j += 6;
    } else if (v.getUint32(j + 3, true) === W_C_NO && b[j + 7] === 0x64 && b[j + 8] === 0x65 && b[j + 9] === COLON) {
      kind = C_KMEM_CACHE_ALLOC_NODE;
      j += 10;
    } else return -1;
  } else if (w0 === W_FREE && b[j + 4] === COLON) {
    kind = C_KMEM_CACHE_FREE;
    j += 5;
  } else return -1;
  // " call_site=S ptr=P"
  if (b[j] !== SPACE || v.getUint32(j + 1, true) !== W_CALL || v.getUint32(j + 5, true) !== W__SIT || b[j + 9] !== 0x65 || b[j + 10] !== EQ) return -1;
  const sa = j + 11;
  let k = s.indexOf(' ', sa);
  if (k === sa || k === -1 || k + 5 > end || v.getUint32(k, true) !== W__PTR || b[k + 4] !== EQ) return -1;
  const sb = k;
  let ptr = ptrAt(b, v, k + 5, end);
  // an empty ptr= is no pointer (ptrKeyBytes' -1); the second pass reports the line
  if (Number.isNaN(ptr)) ptr = -1;
  k = ptrEnd;
  let c = 0;
  let req = 0;
  let alloc = 0;
  let na = -1;
  let nb = -1;
  if (kind === C_KMEM_CACHE_FREE) {
    if (k < end) {
      if (k + 6 > end || v.getUint32(k + 1, true) !== W_NAME || b[k + 5] !== EQ) return -1;
      na = k + 6;
      nb = s.indexOf(' ', na);
      if (nb === -1 || nb > end) nb = end;
    }
  } else {
    // " bytes_req=N bytes_alloc=N gfp_flags=F[ node=N][ accounted=B]": no name= (a 2025 line) on it
    if (k + 11 > end || v.getUint32(k, true) !== W__BYT || v.getUint32(k + 4, true) !== W_ES_R || b[k + 8] !== 0x65 || b[k + 9] !== 0x71 || b[k + 10] !== EQ) {
      return -1;
    }
    k += 11;
    let n0 = k;
    for (; k < end; k++) {
      c = b[k]! - D0;
      if (c < 0 || c > 9) break;
      req = req * 10 + c;
    }
    if (k === n0 || k - n0 > 15) return -1;
    if (k + 13 > end || v.getUint32(k, true) !== W__BYT || v.getUint32(k + 4, true) !== W_ES_A || v.getUint32(k + 8, true) !== W_LLOC || b[k + 12] !== EQ)
      return -1;
    k += 13;
    n0 = k;
    for (; k < end; k++) {
      c = b[k]! - D0;
      if (c < 0 || c > 9) break;
      alloc = alloc * 10 + c;
    }
    if (k === n0 || k - n0 > 15) return -1;
    if (k + 11 > end || v.getUint32(k, true) !== W__GFP || v.getUint32(k + 4, true) !== W__FLA || b[k + 8] !== 0x67 || b[k + 9] !== 0x73 || b[k + 10] !== EQ)
      return -1;
    k = s.indexOf(' ', k + 11);
    if (k !== -1 && k < end) {
      if (k + 6 <= end && v.getUint32(k, true) === W__NOD && b[k + 4] === 0x65 && b[k + 5] === EQ) {
        k = s.indexOf(' ', k + 6);
        if (k === -1 || k > end) k = end;
      }
      if (k !== end) {
        if (
          k + 11 > end ||
          v.getUint32(k, true) !== W__ACC ||
          v.getUint32(k + 4, true) !== W_OUNT ||
          b[k + 8] !== 0x65 ||
          b[k + 9] !== 0x64 ||
          b[k + 10] !== EQ
        ) {
          return -1;
        }
        const sp = s.indexOf(' ', k + 11);
        if (sp !== -1 && sp < end) return -1;
      }
    }
  }
  const r = cols.n++;
  cols.kind[r] = kind;
  cols.cpu[r] = -1;
  cols.lineNo[r] = lineNo;
  cols.ptr[r] = ptr;
  // interned in scanNamesInto's order (call site, then name): the same ids
  cols.site[r] = strings.idOfBytes(b, sa, sb);
  cols.name[r] = na === -1 ? -1 : strings.idOfBytes(b, na, nb);
  cols.alloc[r] = alloc;
  cols.req[r] = req;
  return 1;
}
