/**
 * Physical memory: the backing buffer and its geometry (mm/memblock.c's job).
 *
 * kmem's "RAM" is one ArrayBuffer or SharedArrayBuffer. A physical address is a
 * plain number, the byte offset in that buffer; page frame N covers bytes
 * [N << PAGE_SHIFT, (N + 1) << PAGE_SHIFT). Page frame 0 is reserved, so the
 * address 0 is never handed out and can mean NULL, as in the kernel.
 */

/** Page geometry as a const enum, so compiled hot paths hold the numbers; PAGE_SHIFT/PAGE_SIZE/PAGE_MASK alias it. */
export const enum Page {
  SHIFT = 12,
  SIZE = 1 << SHIFT,
  MASK = ~(SIZE - 1),
}
export const PAGE_SHIFT: number = Page.SHIFT;
export const PAGE_SIZE: number = Page.SIZE;
export const PAGE_MASK: number = Page.MASK;

/** The direct map's base on x86-64 (page_offset_base without KASLR). */
export const PAGE_OFFSET = 0xffff888000000000n;

/** Largest machine kmem boots: page frame numbers and addresses stay below 2^32. */
export const MAX_MEMORY = 4 * 1024 * 1024 * 1024 - PAGE_SIZE;
/** Smallest machine: enough for the DMA zone and a few pageblocks above it. */
export const MIN_MEMORY = 4 * 1024 * 1024;

/** Each suffix multiplies by 1024 once more than the one before it. */
const SUFFIXES = 'KMGTPE';

/**
 * memparse(): a byte count, or a string such as '64M', '1G', '512K', '4096',
 * read the way lib/cmdline.c's memparse() reads the kernel's size
 * parameters (mem=, crashkernel=, ...): a whole number in C's base-0
 * notation (decimal, 0x hex, or octal after a leading 0), then an optional
 * suffix K, M, G, T, P or E (either case), each 1024 times the last. A
 * trailing 'B' or 'iB' ('64MiB') is also accepted.
 *
 * Where the kernel would stop reading at a character it does not expect
 * ('1.5G' is 1 byte to memparse, the rest left to its caller), this refuses
 * the string with a message that says why: memparse takes no fractions.
 */
export function memparse(value: number | string, argName = 'memory'): number {
  let bytes: number;
  if (typeof value === 'number') {
    bytes = value;
  } else if (typeof value === 'string') {
    const text = value.trim();
    const frac = /^(\d*)\.(\d+)\s*([KMGTPE])?(i?B)?$/i.exec(text);
    if (frac) {
      const unit = (frac[3] ?? '').toUpperCase();
      const shift = unit === '' ? 0 : 10 * (SUFFIXES.indexOf(unit) + 1);
      const exact = Number(`${frac[1] || '0'}.${frac[2]}`) * 2 ** shift;
      const hint =
        unit !== '' && Number.isSafeInteger(exact) && exact > 0
          ? ` (${text} is ${exact % 2 ** (shift - 10) === 0 && shift > 10 ? `${exact / 2 ** (shift - 10)}${SUFFIXES[SUFFIXES.indexOf(unit) - 1]}` : exact})`
          : '';
      throw new RangeError(
        `${argName}: '${value}' has a fraction; sizes are whole numbers with an optional K, M, G, T, P or E suffix, as the kernel's memparse() reads them${hint}`,
      );
    }
    const m = /^(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9]\d*)\s*([KMGTPE])?(i?B)?$/i.exec(text);
    if (!m) throw new RangeError(`${argName}: cannot parse size '${value}' (expected e.g. '128M', '1G' or a byte count)`);
    const digits = m[1]!;
    let n = /^0[xX]/.test(digits) ? BigInt(digits) : digits.length > 1 && digits[0] === '0' ? BigInt(`0o${digits.slice(1)}`) : BigInt(digits);
    if (m[2]) n <<= BigInt(10 * (SUFFIXES.indexOf(m[2].toUpperCase()) + 1));
    if (n > BigInt(Number.MAX_SAFE_INTEGER)) throw new RangeError(`${argName}: size '${value}' is too large (${n} bytes)`);
    bytes = Number(n);
  } else {
    throw new TypeError(`${argName}: expected a number of bytes or a size string, got ${typeof value}`);
  }
  if (!Number.isSafeInteger(bytes) || bytes < 0) {
    throw new RangeError(`${argName}: size must be a non-negative integer number of bytes, got ${String(value)}`);
  }
  return bytes;
}

/** The machine's RAM: one buffer with the views every layer reads it through. */
export class PhysMem {
  readonly buffer: ArrayBuffer | SharedArrayBuffer;
  readonly u8: Uint8Array;
  readonly u32: Uint32Array;
  readonly dv: DataView;
  /** Bytes of RAM (a whole number of pages). */
  readonly size: number;
  /** Page frames, pfn 0 .. nrPages-1. */
  readonly nrPages: number;

  /**
   * `bytes` of RAM in a new buffer, or in `buffer` (the caller's, at least
   * that large: its first `bytes` bytes are the machine's RAM).
   */
  constructor(bytes: number, shared: boolean, buffer: ArrayBuffer | SharedArrayBuffer | null = null) {
    if (bytes < MIN_MEMORY || bytes > MAX_MEMORY) {
      throw new RangeError(`memory: ${bytes} bytes is outside the supported range ${MIN_MEMORY}..${MAX_MEMORY}`);
    }
    this.size = bytes - (bytes % PAGE_SIZE);
    this.nrPages = this.size >>> PAGE_SHIFT;
    if (buffer !== null && buffer.byteLength < this.size) throw new RangeError(`buffer: holds ${buffer.byteLength} bytes, ${this.size} needed`);
    this.buffer = buffer ?? (shared ? new SharedArrayBuffer(this.size) : new ArrayBuffer(this.size));
    this.u8 = new Uint8Array(this.buffer, 0, this.size);
    this.u32 = new Uint32Array(this.buffer, 0, this.size >>> 2);
    this.dv = new DataView(this.buffer, 0, this.size);
  }
}

/** pfn of a physical address. */
export function physToPfn(addr: number): number {
  return Math.floor(addr / Page.SIZE);
}

/** %px of a direct-map address: 16 lowercase hex digits. */
export function directMapAddr(phys: number): string {
  return (PAGE_OFFSET + BigInt(phys)).toString(16).padStart(16, '0');
}
