/**
 * `k.mem` on a KASAN machine: every load and store checked against the
 * shadow first, as the compiler's instrumentation checks each one in a
 * KASAN kernel (__asan_load8, __asan_storeN, the mem* interceptors of
 * mm/kasan/shadow.c).
 *
 * The fast path of each sized access is one shadow load and a compare: an
 * access that stays inside one granule whose shadow byte is 0 is valid.
 * Anything else (a partial granule, a poisoned one, an access across
 * granules, an address outside RAM) takes the full check, which reports a
 * bad access and lets it happen, as KASAN does, unless it is outside RAM.
 *
 * mem* semantics follow the kernel's interceptors: memset, memcpy and
 * memmove check the whole range (source first) and do nothing after a
 * printed report; memcmp, memchr and the str* helpers read byte by byte (or
 * word by word, as lib/string.c does), so the report names the first bad
 * load; bit operations check the whole unsigned long they touch.
 */
import { checkValue, MemAccess, value64 } from '../memory/access.js';
import type { PhysMem } from '../memory/memblock.js';
import type { Kasan } from './common.js';

const PAGE_SIZE = 4096;

function isAddr(a: unknown): a is number {
  return typeof a === 'number' && Number.isInteger(a) && a >= 0;
}

export class KasanMemAccess extends MemAccess {
  private readonly sh: Uint8Array;
  readonly kasan: Kasan;

  constructor(mem: PhysMem, kasan: Kasan) {
    super(mem);
    this.kasan = kasan;
    this.sh = kasan.sh;
  }

  /** Everything off the fast path: the full check (and report), then the bounds check. */
  private slow(addr: number, size: number, write: boolean): void {
    if (isAddr(addr)) this.kasan.checkRange(addr, size, write);
    this.bounds(addr, size);
  }

  override read8(addr: number): number {
    if (typeof addr !== 'number' || addr >>> 0 !== addr || this.sh[addr >>> 3] !== 0) this.slow(addr, 1, false);
    return this.u8[addr]!;
  }
  override read16(addr: number): number {
    if (typeof addr !== 'number' || addr >>> 0 !== addr || (addr & 7) > 6 || this.sh[addr >>> 3] !== 0) this.slow(addr, 2, false);
    return this.dv.getUint16(addr, true);
  }
  override read32(addr: number): number {
    if (typeof addr !== 'number' || addr >>> 0 !== addr || (addr & 7) > 4 || this.sh[addr >>> 3] !== 0) this.slow(addr, 4, false);
    return this.dv.getUint32(addr, true);
  }
  override read64(addr: number): bigint {
    if (typeof addr !== 'number' || addr >>> 0 !== addr || (addr & 7) !== 0 || this.sh[addr >>> 3] !== 0) this.slow(addr, 8, false);
    return this.dv.getBigUint64(addr, true);
  }
  override write8(addr: number, v: number): void {
    if (typeof v !== 'number' || (v & 0xff) !== v) checkValue(v, 8);
    if (typeof addr !== 'number' || addr >>> 0 !== addr || this.sh[addr >>> 3] !== 0) this.slow(addr, 1, true);
    this.u8[addr] = v;
  }
  override write16(addr: number, v: number): void {
    if (typeof v !== 'number' || (v & 0xffff) !== v) checkValue(v, 16);
    if (typeof addr !== 'number' || addr >>> 0 !== addr || (addr & 7) > 6 || this.sh[addr >>> 3] !== 0) this.slow(addr, 2, true);
    this.dv.setUint16(addr, v, true);
  }
  override write32(addr: number, v: number): void {
    if (typeof v !== 'number' || (v >>> 0 !== v && (v | 0) !== v)) checkValue(v, 32);
    if (typeof addr !== 'number' || addr >>> 0 !== addr || (addr & 7) > 4 || this.sh[addr >>> 3] !== 0) this.slow(addr, 4, true);
    this.dv.setUint32(addr, v, true);
  }
  override write64(addr: number, v: bigint | number): void {
    const value = value64(v);
    if (typeof addr !== 'number' || addr >>> 0 !== addr || (addr & 7) !== 0 || this.sh[addr >>> 3] !== 0) this.slow(addr, 8, true);
    this.dv.setBigUint64(addr, value, true);
  }

  // ───────────────────────── mem* ─────────────────────────

  /** Arguments the base class would refuse go to it unchecked, so it throws its RangeError. */
  private validArgs(addr: unknown, n: unknown): boolean {
    // A negative n is a huge size_t: KASAN reports it (kmalloc_memmove_negative_size); a range past RAM is the caller's error.
    return isAddr(addr) && typeof n === 'number' && Number.isInteger(n) && (n < 0 || addr + n <= this.size);
  }

  override memset(addr: number, c: number, n: number): number {
    // After a report the access is not done; a negative length then still throws its RangeError.
    if (this.validArgs(addr, n) && !this.kasan.checkRange(addr, n, true) && n >= 0) return 0;
    return super.memset(addr, c, n);
  }
  override memcpy(dst: number, src: number, n: number): number {
    if (this.validArgs(dst, n) && this.validArgs(src, n) && (!this.kasan.checkRange(src, n, false) || !this.kasan.checkRange(dst, n, true)) && n >= 0) return 0;
    return super.memcpy(dst, src, n);
  }
  override memmove(dst: number, src: number, n: number): number {
    if (this.validArgs(dst, n) && this.validArgs(src, n) && (!this.kasan.checkRange(src, n, false) || !this.kasan.checkRange(dst, n, true)) && n >= 0) return 0;
    return super.memcpy(dst, src, n);
  }

  /** A range fully inside RAM with no poisoned byte (no report possible). */
  private clean(addr: number, n: number): boolean {
    return addr >= PAGE_SIZE && addr + n <= this.size && (n === 0 || !this.kasan.shadow.poisoned(addr, n));
  }

  /** A load the way lib/string.c does it: checked (and reported), then done. */
  private load(addr: number, size: number): void {
    this.kasan.checkRange(addr, size, false);
    this.bounds(addr, size);
  }

  /** memcmp() of lib/string.c: unsigned longs while 8 bytes remain, then bytes. */
  override memcmp(a: number, b: number, n: number): number {
    if (!this.validArgs(a, n) || !isAddr(b) || n < 0 || (this.clean(a, n) && this.clean(b, n))) return super.memcmp(a, b, n);
    const u8 = this.u8;
    let i = 0;
    while (n - i >= 8) {
      this.load(a + i, 8);
      this.load(b + i, 8);
      if (this.dv.getBigUint64(a + i, true) !== this.dv.getBigUint64(b + i, true)) break;
      i += 8;
    }
    for (; i < n; i++) {
      this.load(a + i, 1);
      this.load(b + i, 1);
      const d = u8[a + i]! - u8[b + i]!;
      if (d !== 0) return d;
    }
    return 0;
  }

  /** memchr(): byte by byte until the byte is found. */
  override memchr(addr: number, c: number, n: number): number {
    if (!this.validArgs(addr, n) || n < 0 || this.clean(addr, n)) return super.memchr(addr, c, n);
    c &= 0xff;
    for (let i = 0; i < n; i++) {
      this.load(addr + i, 1);
      if (this.u8[addr + i] === c) return addr + i;
    }
    return 0;
  }

  /** copy_to_user() into a JavaScript buffer: the range is checked, the copy done. */
  override readBytes(addr: number, n: number): Uint8Array {
    if (this.validArgs(addr, n) && n > 0) this.kasan.checkRange(addr, n, false);
    return super.readBytes(addr, n);
  }
  /** copy_from_user() from a JavaScript buffer. */
  override writeBytes(addr: number, bytes: ArrayLike<number>): void {
    if (isAddr(addr) && typeof bytes === 'object' && bytes !== null && bytes.length > 0) this.kasan.checkRange(addr, bytes.length, true);
    super.writeBytes(addr, bytes);
  }

  // ───────────────────────── bit operations ─────────────────────────

  /** The unsigned long holding bit nr, checked as an 8-byte access (instrument_atomic_*). */
  private bitWordChecked(nr: number, addr: number, write: boolean): number {
    const w = addr + Math.floor(nr / 64) * 8;
    if (w >>> 0 !== w || (w & 7) !== 0 || this.sh[w >>> 3] !== 0) this.slow(w, 8, write);
    return w + ((nr & 63) >> 3);
  }
  override testBit(nr: number, addr: number): boolean {
    const at = this.bitWordChecked(nr, addr, false);
    return ((this.u8[at]! >> (nr & 7)) & 1) === 1;
  }
  override setBit(nr: number, addr: number): void {
    this.u8[this.bitWordChecked(nr, addr, true)]! |= 1 << (nr & 7);
  }
  override clearBit(nr: number, addr: number): void {
    this.u8[this.bitWordChecked(nr, addr, true)]! &= ~(1 << (nr & 7));
  }
  override changeBit(nr: number, addr: number): void {
    this.u8[this.bitWordChecked(nr, addr, true)]! ^= 1 << (nr & 7);
  }
  override testAndSetBit(nr: number, addr: number): boolean {
    const at = this.bitWordChecked(nr, addr, true);
    const old = (this.u8[at]! >> (nr & 7)) & 1;
    this.u8[at]! |= 1 << (nr & 7);
    return old === 1;
  }
  override testAndClearBit(nr: number, addr: number): boolean {
    const at = this.bitWordChecked(nr, addr, true);
    const old = (this.u8[at]! >> (nr & 7)) & 1;
    this.u8[at]! &= ~(1 << (nr & 7));
    return old === 1;
  }
  override testAndChangeBit(nr: number, addr: number): boolean {
    const at = this.bitWordChecked(nr, addr, true);
    const old = (this.u8[at]! >> (nr & 7)) & 1;
    this.u8[at]! ^= 1 << (nr & 7);
    return old === 1;
  }
}
