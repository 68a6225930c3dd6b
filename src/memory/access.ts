/**
 * Loads and stores through physical addresses: `k.mem`.
 *
 * This is the unchecked accessor set; a KASAN machine installs a checked one
 * with the same methods at boot, so a machine without KASAN pays nothing per
 * access. Multi-byte values are little-endian, as on x86-64. Every method
 * refuses addresses outside RAM with a RangeError naming the argument.
 */
import { describe } from '../lib/argcheck.js';
import type { PhysMem } from './memblock.js';

/** Throws unless v is an integer that fits `bits` bits, signed or unsigned (C truncation is not guessed). */
export function checkValue(v: unknown, bits: 8 | 16 | 32, name = 'v'): void {
  if (typeof v !== 'number') throw new TypeError(`${name}: expected an integer, got ${describe(v)}`);
  const max = 2 ** bits;
  if (!Number.isInteger(v) || v < -max / 2 || v >= max) throw new RangeError(`${name}: expected an integer that fits ${bits} bits, got ${describe(v)}`);
}

/** A 64-bit value as a BigInt: a bigint, or a safe integer number. */
export function value64(v: unknown): bigint {
  if (typeof v === 'bigint') {
    if (v < -(2n ** 63n) || v >= 2n ** 64n) throw new RangeError(`v: ${v}n does not fit 64 bits`);
    return BigInt.asUintN(64, v);
  }
  if (typeof v !== 'number') throw new TypeError(`v: expected a bigint or an integer, got ${describe(v)}`);
  if (!Number.isSafeInteger(v)) throw new RangeError(`v: expected a safe integer (or a bigint), got ${describe(v)}`);
  return BigInt.asUintN(64, BigInt(v));
}

export class MemAccess {
  readonly u8: Uint8Array;
  readonly dv: DataView;
  readonly size: number;

  constructor(mem: PhysMem) {
    this.u8 = mem.u8;
    this.dv = mem.dv;
    this.size = mem.size;
  }

  /** Throws unless [addr, addr+len) lies inside RAM. */
  protected bounds(addr: number, len: number, name = 'addr'): void {
    if (
      typeof addr === 'number' &&
      typeof len === 'number' &&
      addr >= 0 &&
      len >= 0 &&
      addr + len <= this.size &&
      Number.isInteger(addr) &&
      Number.isInteger(len)
    )
      return;
    this.badBounds(addr, len, name);
  }

  /** The error for an access bounds() refused: which argument, and why. */
  private badBounds(addr: unknown, len: unknown, name: string): never {
    if (typeof addr !== 'number') throw new TypeError(`${name}: expected an integer address, got ${describe(addr)}`);
    if (typeof len !== 'number') throw new TypeError(`n: expected an integer length, got ${describe(len)}`);
    if (!Number.isInteger(addr)) throw new RangeError(`${name}: expected an integer address, got ${describe(addr)}`);
    if (!Number.isInteger(len) || len < 0) throw new RangeError(`n: expected a non-negative integer length, got ${describe(len)}`);
    const at = addr < 0 ? `-0x${(-addr).toString(16)}` : `0x${addr.toString(16)}`;
    throw new RangeError(`${name}: access of ${len} bytes at ${at} is outside physical memory (0..0x${this.size.toString(16)})`);
  }

  read8(addr: number): number {
    this.bounds(addr, 1);
    return this.u8[addr]!;
  }
  read16(addr: number): number {
    this.bounds(addr, 2);
    return this.dv.getUint16(addr, true);
  }
  read32(addr: number): number {
    this.bounds(addr, 4);
    return this.dv.getUint32(addr, true);
  }
  read64(addr: number): bigint {
    this.bounds(addr, 8);
    return this.dv.getBigUint64(addr, true);
  }
  write8(addr: number, v: number): void {
    this.bounds(addr, 1);
    if (typeof v !== 'number' || (v & 0xff) !== v) checkValue(v, 8);
    this.u8[addr] = v;
  }
  write16(addr: number, v: number): void {
    this.bounds(addr, 2);
    if (typeof v !== 'number' || (v & 0xffff) !== v) checkValue(v, 16);
    this.dv.setUint16(addr, v, true);
  }
  write32(addr: number, v: number): void {
    this.bounds(addr, 4);
    if (typeof v !== 'number' || (v >>> 0 !== v && (v | 0) !== v)) checkValue(v, 32);
    this.dv.setUint32(addr, v, true);
  }
  write64(addr: number, v: bigint | number): void {
    this.bounds(addr, 8);
    this.dv.setBigUint64(addr, value64(v), true);
  }

  memset(addr: number, c: number, n: number): number {
    this.bounds(addr, n);
    if (typeof c !== 'number' || ((c | 0) !== c && c >>> 0 !== c)) checkValue(c, 32, 'c');
    this.u8.fill(c & 0xff, addr, addr + n);
    return addr;
  }
  memcpy(dst: number, src: number, n: number): number {
    this.bounds(dst, n, 'dst');
    this.bounds(src, n, 'src');
    this.u8.copyWithin(dst, src, src + n);
    return dst;
  }
  memmove(dst: number, src: number, n: number): number {
    return this.memcpy(dst, src, n);
  }
  memcmp(a: number, b: number, n: number): number {
    this.bounds(a, n, 'a');
    this.bounds(b, n, 'b');
    for (let i = 0; i < n; i++) {
      const d = this.u8[a + i]! - this.u8[b + i]!;
      if (d !== 0) return d;
    }
    return 0;
  }
  /** memchr(): the address of the first byte c in [addr, addr+n), or 0. */
  memchr(addr: number, c: number, n: number): number {
    this.bounds(addr, n);
    const i = this.u8.subarray(addr, addr + n).indexOf(c & 0xff);
    return i < 0 ? 0 : addr + i;
  }
  readBytes(addr: number, n: number): Uint8Array {
    this.bounds(addr, n);
    return this.u8.slice(addr, addr + n);
  }
  writeBytes(addr: number, bytes: ArrayLike<number>): void {
    if (typeof bytes !== 'object' || bytes === null || typeof bytes.length !== 'number') {
      throw new TypeError(`bytes: expected a Uint8Array or an array of bytes, got ${describe(bytes)}`);
    }
    this.bounds(addr, bytes.length);
    this.u8.set(bytes, addr);
  }

  strnlen(addr: number, max: number): number {
    let n = 0;
    while (n < max) {
      if (this.read8(addr + n) === 0) break;
      n++;
    }
    return n;
  }
  strlen(addr: number): number {
    return this.strnlen(addr, Number.MAX_SAFE_INTEGER);
  }
  strncmp(a: number, b: number, n: number): number {
    for (let i = 0; i < n; i++) {
      const ca = this.read8(a + i);
      const cb = this.read8(b + i);
      if (ca !== cb) return ca < cb ? -1 : 1;
      if (ca === 0) return 0;
    }
    return 0;
  }
  strcmp(a: number, b: number): number {
    return this.strncmp(a, b, Number.MAX_SAFE_INTEGER);
  }
  /** strchr(): address of the first c (the terminator counts for c = 0), or 0. */
  strchr(addr: number, c: number): number {
    c &= 0xff;
    for (let i = addr; ; i++) {
      const v = this.read8(i);
      if (v === c) return i;
      if (v === 0) return 0;
    }
  }
  strrchr(addr: number, c: number): number {
    c &= 0xff;
    let last = 0;
    for (let i = addr; ; i++) {
      const v = this.read8(i);
      if (v === c) last = i;
      if (v === 0) return last;
    }
  }
  /** strscpy(): copy at most size-1 bytes and a NUL; the length, or -7 (-E2BIG) if cut. */
  strscpy(dst: number, src: number, size: number): number {
    if (size <= 0) return -7;
    for (let i = 0; i < size; i++) {
      const c = this.read8(src + i);
      if (i === size - 1 && c !== 0) {
        this.write8(dst + i, 0);
        return -7;
      }
      this.write8(dst + i, c);
      if (c === 0) return i;
    }
    return -7;
  }
  /** Write a JavaScript string as UTF-8 with a NUL terminator. */
  writeString(addr: number, s: string): number {
    const bytes = new TextEncoder().encode(s);
    this.writeBytes(addr, bytes);
    this.write8(addr + bytes.length, 0);
    return bytes.length;
  }
  readString(addr: number, max = 4096): string {
    const n = this.strnlen(addr, max);
    return new TextDecoder().decode(this.readBytes(addr, n));
  }

  // Bit operations on unsigned longs: bit nr lives in the 8-byte word at addr + (nr >> 6) * 8.
  private bitWord(addr: number, nr: number): number {
    return addr + Math.floor(nr / 64) * 8;
  }
  testBit(nr: number, addr: number): boolean {
    const w = this.bitWord(addr, nr);
    return ((this.read8Word(w, nr) >> (nr & 7)) & 1) === 1;
  }
  setBit(nr: number, addr: number): void {
    this.rmwBit(nr, addr, 1);
  }
  clearBit(nr: number, addr: number): void {
    this.rmwBit(nr, addr, 0);
  }
  changeBit(nr: number, addr: number): void {
    this.rmwBit(nr, addr, 2);
  }
  testAndSetBit(nr: number, addr: number): boolean {
    return this.rmwBit(nr, addr, 1);
  }
  testAndClearBit(nr: number, addr: number): boolean {
    return this.rmwBit(nr, addr, 0);
  }
  testAndChangeBit(nr: number, addr: number): boolean {
    return this.rmwBit(nr, addr, 2);
  }
  /** The whole word is accessed, as an 8-byte locked instruction does. */
  private read8Word(w: number, nr: number): number {
    const v = this.read64(w);
    return Number((v >> BigInt(nr & 56)) & 0xffn);
  }
  private rmwBit(nr: number, addr: number, op: 0 | 1 | 2): boolean {
    const w = this.bitWord(addr, nr);
    const v = this.read64(w);
    const m = 1n << BigInt(nr & 63);
    const old = (v & m) !== 0n;
    const nv = op === 1 ? v | m : op === 0 ? v & ~m : v ^ m;
    this.write64(w, nv);
    return old;
  }
}
