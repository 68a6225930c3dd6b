/**
 * Shadow memory and the access checks (mm/kasan/shadow.c, the checks of
 * mm/kasan/generic.c, kasan_find_first_bad_addr of report_generic.c).
 *
 * A shadow byte s for granule g (8 bytes at g * 8) is 0 when the whole
 * granule may be accessed, 1..7 when only its first s bytes may, and a
 * poison value >= 0x80 (negative as a signed byte) when none may. So the
 * byte at `a` is accessible iff  s == 0  ||  (s as i8) > (a & 7).
 */
import { KASAN_GRANULE_MASK, KASAN_GRANULE_SIZE, KASAN_SHADOW_SCALE_SHIFT } from './kasan.js';

export class Shadow {
  /** One byte per granule of RAM. */
  readonly sh: Uint8Array;
  /** The same bytes as 32-bit words, for scanning long ranges. */
  private readonly sh32: Uint32Array;
  /** Bytes of RAM the shadow covers. */
  readonly memSize: number;

  constructor(memSize: number, shared: boolean) {
    this.memSize = memSize;
    const n = memSize >>> KASAN_SHADOW_SCALE_SHIFT;
    const buf = shared ? new SharedArrayBuffer(n) : new ArrayBuffer(n);
    this.sh = new Uint8Array(buf);
    this.sh32 = new Uint32Array(buf, 0, n >>> 2);
  }

  /** kasan_poison(): mark [addr, addr+size) with `value`; both must be granule-aligned. */
  poison(addr: number, size: number, value: number): void {
    if (size <= 0) return;
    this.sh.fill(value, addr >>> KASAN_SHADOW_SCALE_SHIFT, (addr + size) >>> KASAN_SHADOW_SCALE_SHIFT);
  }

  /** kasan_poison_last_granule(): a partial last granule keeps size & 7 accessible bytes. */
  poisonLastGranule(addr: number, size: number): void {
    if (size & KASAN_GRANULE_MASK) this.sh[(addr + size) >>> KASAN_SHADOW_SCALE_SHIFT] = size & KASAN_GRANULE_MASK;
  }

  /** kasan_unpoison(): [addr, addr+size) accessible, precisely to the byte. */
  unpoison(addr: number, size: number): void {
    this.sh.fill(0, addr >>> KASAN_SHADOW_SCALE_SHIFT, (addr + size + KASAN_GRANULE_MASK) >>> KASAN_SHADOW_SCALE_SHIFT);
    this.poisonLastGranule(addr, size);
  }

  /** The shadow byte of addr (0 beyond the shadow, as the kernel's zero shadow page reads). */
  get(addr: number): number {
    return this.sh[addr >>> KASAN_SHADOW_SCALE_SHIFT] ?? 0;
  }

  /** kasan_byte_accessible(): is the shadow of addr 0..7? */
  byteAccessible(addr: number): boolean {
    return this.sh[addr >>> KASAN_SHADOW_SCALE_SHIFT]! < KASAN_GRANULE_SIZE;
  }

  /** memory_is_poisoned_1() */
  poisoned1(addr: number): boolean {
    const s = this.sh[addr >>> KASAN_SHADOW_SCALE_SHIFT]!;
    if (s === 0) return false;
    // As a signed byte: poison values are negative, so always >= them.
    return s >= 0x80 || (addr & KASAN_GRANULE_MASK) >= s;
  }

  /** memory_is_poisoned_2_4_8(): one granule, or two when the access crosses into the next. */
  poisoned248(addr: number, size: number): boolean {
    const last = addr + size - 1;
    if ((last & KASAN_GRANULE_MASK) < size - 1) {
      return this.sh[addr >>> KASAN_SHADOW_SCALE_SHIFT] !== 0 || this.poisoned1(last);
    }
    return this.poisoned1(last);
  }

  /** memory_is_poisoned_16(): two shadow bytes when aligned, three when not. */
  poisoned16(addr: number): boolean {
    const i = addr >>> KASAN_SHADOW_SCALE_SHIFT;
    const both = this.sh[i] !== 0 || this.sh[i + 1] !== 0;
    if (addr & KASAN_GRANULE_MASK) return both || this.poisoned1(addr + 15);
    return both;
  }

  /**
   * memory_is_poisoned_n(): the first nonzero shadow byte of the range must
   * be the last granule's, and that one must cover the last byte.
   */
  poisonedN(addr: number, size: number): boolean {
    const first = addr >>> KASAN_SHADOW_SCALE_SHIFT;
    const lastByte = addr + size - 1;
    const lastShadow = lastByte >>> KASAN_SHADOW_SCALE_SHIFT;
    const nz = this.firstNonzero(first, lastShadow + 1);
    if (nz < 0) return false;
    if (nz !== lastShadow) return true;
    const s = this.sh[lastShadow]!;
    return s >= 0x80 || (lastByte & KASAN_GRANULE_MASK) >= s;
  }

  /** memory_is_poisoned() for any size, the way the instrumented sizes pick their check. */
  poisoned(addr: number, size: number): boolean {
    switch (size) {
      case 1:
        return this.poisoned1(addr);
      case 2:
      case 4:
      case 8:
        return this.poisoned248(addr, size);
      case 16:
        return this.poisoned16(addr);
      default:
        return this.poisonedN(addr, size);
    }
  }

  /** Index of the first nonzero shadow byte in [from, to), or -1 (memory_is_nonzero()). */
  firstNonzero(from: number, to: number): number {
    const sh = this.sh;
    let i = from;
    // Byte steps up to a word boundary, then whole words, then the tail.
    while (i < to && (i & 3) !== 0) {
      if (sh[i] !== 0) return i;
      i++;
    }
    const w32 = this.sh32;
    while (i + 4 <= to) {
      if (w32[i >>> 2] !== 0) {
        for (let j = i; j < i + 4; j++) if (sh[j] !== 0) return j;
      }
      i += 4;
    }
    while (i < to) {
      if (sh[i] !== 0) return i;
      i++;
    }
    return -1;
  }

  /**
   * kasan_find_first_bad_addr(): step through the access a granule at a time
   * from its start until a shadow byte is not 0; the end if none is.
   */
  findFirstBadAddr(addr: number, size: number): number {
    let p = addr;
    const end = addr + size;
    while (p < end && this.get(p) === 0) p += KASAN_GRANULE_SIZE;
    return p;
  }

  /**
   * kasan_get_alloc_size(): an object's allocated size read back from the
   * shadow (whole granules, then a partial one); 0 if its first granule is
   * poisoned (a freed object); object_size if it is accessible throughout.
   */
  allocSize(object: number, objectSize: number): number {
    let size = 0;
    let i = object >>> KASAN_SHADOW_SCALE_SHIFT;
    while (size < objectSize) {
      const s = this.sh[i++] ?? 0;
      if (s === 0) size += KASAN_GRANULE_SIZE;
      else if (s < KASAN_GRANULE_SIZE) return size + s;
      else return size;
    }
    return objectSize;
  }
}
