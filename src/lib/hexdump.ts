/**
 * Hex dumps as lib/hexdump.c prints them: hex_dump_to_buffer() formats one
 * row, print_hex_dump() prefixes and emits every row.
 *
 * A row of 16 bytes in groups of 1, with ASCII:
 *
 *   6b 6b 6b 6b 6b 6b 6b 6b 6b 6b 6b 6b 6b 6b 6b a5  kkkkkkkkkkkkkkk.
 *   └──────────── hex: "xx" per byte, ' ' between ──┘└┘└── ascii ──┘
 *                                                  two spaces
 *
 * The ASCII column starts at rowsize*2 + rowsize/groupsize + 1 whatever the
 * row's length, so a short last row is padded with spaces up to it:
 *
 *   61 cc cc cc cc cc cc cc                          a.......
 *
 * Groups of 2, 4 or 8 bytes print as one little-endian number each (x86-64),
 * "%4.4x", "%8.8x" or "%16.16llx", separated by one space. A group size that
 * is not 1, 2, 4 or 8, or that does not divide the row's length, falls back
 * to 1; a row size other than 16 or 32 falls back to 16. Without ASCII the
 * line ends right after the last hex digit.
 *
 * DUMP_PREFIX_ADDRESS prints the row's address with %p. kmem shows raw
 * addresses, as the kernel does once no_hash_pointers is on (slub_debug
 * turns it on): 16 hex digits. DUMP_PREFIX_OFFSET prints "%.8x".
 */

import { formatPx, hex } from './vsprintf.js';

/** DUMP_PREFIX_ADDRESS, DUMP_PREFIX_OFFSET or DUMP_PREFIX_NONE. */
export type DumpPrefix = 'address' | 'offset' | 'none';

/** A printable ASCII byte, as the kernel's isascii() && isprint(): 0x20..0x7e. */
function asciiChar(b: number): string {
  return b >= 0x20 && b <= 0x7e ? String.fromCharCode(b) : '.';
}

function normalizeRowsize(rowsize: number): number {
  return rowsize === 16 || rowsize === 32 ? rowsize : 16;
}

function normalizeGroupsize(groupsize: number, len: number): number {
  if (groupsize !== 1 && groupsize !== 2 && groupsize !== 4 && groupsize !== 8) return 1;
  return len % groupsize === 0 ? groupsize : 1;
}

/** Little-endian unsigned value of `size` (2 or 4) bytes at `at`. */
function readLe(bytes: Uint8Array, at: number, size: number): number {
  let v = 0;
  for (let k = size - 1; k >= 0; k--) v = v * 256 + bytes[at + k]!;
  return v;
}

/**
 * hex_dump_to_buffer(): one row of at most `rowsize` bytes taken from the
 * start of `bytes`, as hex (and ASCII when `ascii`), without a newline.
 */
export function hexDumpToBuffer(bytes: Uint8Array, rowsize = 16, groupsize = 1, ascii = true): string {
  rowsize = normalizeRowsize(rowsize);
  const len = Math.min(bytes.length, rowsize);
  if (len === 0) return '';
  groupsize = normalizeGroupsize(groupsize, len);

  const groups: string[] = [];
  for (let j = 0; j < len; j += groupsize) {
    if (groupsize === 8) {
      groups.push(hex(readLe(bytes, j + 4, 4), 8) + hex(readLe(bytes, j, 4), 8));
    } else if (groupsize === 1) {
      groups.push(hex(bytes[j]!, 2));
    } else {
      groups.push(hex(readLe(bytes, j, groupsize), groupsize * 2));
    }
  }
  let line = groups.join(' ');
  if (!ascii) return line;

  const asciiColumn = rowsize * 2 + rowsize / groupsize + 1;
  line = line.padEnd(asciiColumn, ' ');
  for (let j = 0; j < len; j++) line += asciiChar(bytes[j]!);
  return line;
}

/**
 * print_hex_dump(): the lines the kernel prints for `bytes`, `rowsize` bytes
 * a line, each starting with `prefix` and then, by `prefixType`, the row's
 * address (`%p` unhashed: 16 hex digits) and ": ", its offset ("%.8x: "), or
 * nothing. The level is the caller's business.
 *
 * `address` is where `bytes` starts: a number is a kmem physical address,
 * shown at its direct-map address (ffff888000000000 + phys); a bigint is
 * shown as is. It is required for 'address'.
 */
export function printHexDump(
  prefix: string,
  prefixType: DumpPrefix,
  rowsize: number,
  groupsize: number,
  bytes: Uint8Array,
  ascii: boolean,
  address?: bigint | number,
): string[] {
  if (prefixType !== 'address' && prefixType !== 'offset' && prefixType !== 'none') {
    throw new RangeError(`prefixType must be 'address', 'offset' or 'none', got ${String(prefixType)}`);
  }
  if (prefixType === 'address' && address === undefined) {
    throw new TypeError("address is required when prefixType is 'address'");
  }
  rowsize = normalizeRowsize(rowsize);
  const lines: string[] = [];
  for (let i = 0; i < bytes.length; i += rowsize) {
    const row = hexDumpToBuffer(bytes.subarray(i, i + rowsize), rowsize, groupsize, ascii);
    if (prefixType === 'address') {
      const at = typeof address === 'bigint' ? address + BigInt(i) : (address as number) + i;
      lines.push(`${prefix}${formatPx(at)}: ${row}`);
    } else if (prefixType === 'offset') {
      lines.push(`${prefix}${hex(i, 8)}: ${row}`);
    } else {
      lines.push(prefix + row);
    }
  }
  return lines;
}
