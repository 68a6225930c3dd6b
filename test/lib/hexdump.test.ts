import { describe, expect, it } from 'vitest';
import { hexDumpToBuffer, printHexDump } from '../../src/lib/hexdump.js';

const fill = (n: number, b: number) => new Uint8Array(n).fill(b);
const bytesOf = (hexText: string) => Uint8Array.from(hexText.trim().split(/\s+/), (h) => Number.parseInt(h, 16));

describe('hex_dump_to_buffer', () => {
  it('formats a full row with two spaces before the ASCII column', () => {
    // realdata/slub-debug-1.txt
    const obj = fill(16, 0x6b);
    obj[15] = 0xa5;
    expect(hexDumpToBuffer(obj)).toBe('6b 6b 6b 6b 6b 6b 6b 6b 6b 6b 6b 6b 6b 6b 6b a5  kkkkkkkkkkkkkkk.');
  });

  it('pads a short row so the ASCII column stays at 49', () => {
    const rz = fill(8, 0xcc);
    rz[0] = 0x61;
    const line = hexDumpToBuffer(rz);
    expect(line).toBe('61 cc cc cc cc cc cc cc                          a.......');
    expect(line.indexOf('a.......')).toBe(49);
  });

  it('prints the KASAN shadow rows without ASCII', () => {
    // realdata/kasan-slab-use-after-free-1.txt, "Memory state around the buggy address"
    const row = 'fa fb fb fb fb fb fb fb fb fb fb fb fb fb fb fb';
    expect(hexDumpToBuffer(bytesOf(row), 16, 1, false)).toBe(row);
    const row2 = 'fc fc fc fc 00 00 00 00 fc fc fc fc fc fc fc fc';
    expect(hexDumpToBuffer(bytesOf(row2), 16, 1, false)).toBe(row2);
  });

  it('prints groups of 2, 4 and 8 bytes as little-endian numbers', () => {
    const b = Uint8Array.from({ length: 16 }, (_, i) => 0x40 + i);
    expect(hexDumpToBuffer(b, 16, 1)).toBe('40 41 42 43 44 45 46 47 48 49 4a 4b 4c 4d 4e 4f  @ABCDEFGHIJKLMNO');
    expect(hexDumpToBuffer(b, 16, 2)).toBe('4140 4342 4544 4746 4948 4b4a 4d4c 4f4e  @ABCDEFGHIJKLMNO');
    expect(hexDumpToBuffer(b, 16, 4)).toBe('43424140 47464544 4b4a4948 4f4e4d4c  @ABCDEFGHIJKLMNO');
    expect(hexDumpToBuffer(b, 16, 8)).toBe('4746454443424140 4f4e4d4c4b4a4948  @ABCDEFGHIJKLMNO');
    const pq = Uint8Array.from({ length: 16 }, (_, i) => 0x70 + i);
    // the example in lib/hexdump.c's comment for 4-byte groups
    expect(hexDumpToBuffer(pq, 16, 4)).toBe('73727170 77767574 7b7a7978 7f7e7d7c  pqrstuvwxyz{|}~.');
  });

  it('keeps the ASCII column of the full row for a short grouped row', () => {
    const b = Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(hexDumpToBuffer(b, 16, 4)).toBe(`04030201 08070605${' '.repeat(20)}........`);
    expect(hexDumpToBuffer(b, 16, 4).indexOf('.')).toBe(16 * 2 + 16 / 4 + 1);
  });

  it('falls back to single bytes for an odd length or a bad group size, and to 16 per row', () => {
    const b = Uint8Array.from([0x41, 0x42, 0x43]);
    expect(hexDumpToBuffer(b, 16, 2)).toBe(`41 42 43${' '.repeat(41)}ABC`);
    expect(hexDumpToBuffer(b, 16, 3)).toBe(`41 42 43${' '.repeat(41)}ABC`);
    expect(hexDumpToBuffer(fill(20, 0x20), 20, 1)).toBe(`${'20 '.repeat(15)}20  ${' '.repeat(16)}`);
    expect(hexDumpToBuffer(new Uint8Array(0))).toBe('');
  });

  it('shows only printable ASCII, 0x20..0x7e', () => {
    const b = Uint8Array.from([0x1f, 0x20, 0x7e, 0x7f, 0x80, 0xff, 0x30]);
    expect(hexDumpToBuffer(b).slice(49)).toBe('. ~...0');
  });

  it('lays out 32-byte rows', () => {
    const line = hexDumpToBuffer(fill(32, 0x5a), 32, 1);
    expect(line).toBe(`${'5a '.repeat(31)}5a  ${'Z'.repeat(32)}`);
    expect(line.indexOf('Z')).toBe(32 * 2 + 32 + 1);
  });
});

describe('print_hex_dump', () => {
  it('reproduces a 6.x SLUB dump with raw addresses line for line', () => {
    // kmalloc-rnd-09-8 "Object padding overwritten", 6.7.0-rc1 (lore), object at
    // ffff888100078008: a left redzone, the object, the right redzone, padding.
    const phys = 0x100078000;
    expect(printHexDump('Redzone  ', 'address', 16, 1, fill(8, 0xbb), true, phys)).toEqual([
      'Redzone  ffff888100078000: bb bb bb bb bb bb bb bb                          ........',
    ]);
    const obj = fill(8, 0x6b);
    obj[7] = 0xa5;
    expect(printHexDump('Object   ', 'address', 16, 1, obj, true, phys + 8)).toEqual([
      'Object   ffff888100078008: 6b 6b 6b 6b 6b 6b 6b a5                          kkkkkkk.',
    ]);
    const pad = new Uint8Array(20).fill(0x5a);
    pad.fill(0, 0, 8);
    expect(printHexDump('Padding  ', 'address', 16, 1, pad, true, phys + 0x74)).toEqual([
      'Padding  ffff888100078074: 00 00 00 00 00 00 00 00 5a 5a 5a 5a 5a 5a 5a 5a  ........ZZZZZZZZ',
      'Padding  ffff888100078084: 5a 5a 5a 5a                                      ZZZZ',
    ]);
  });

  it('reproduces a multi-row object dump with ASCII (cfg80211 report, 6.0)', () => {
    const object = bytesOf(`
      80 00 04 00 04 00 dd 00 ff 00 60 00 ff 00 61 00
      85 00 e4 00 ff 0a 05 ff ff 05 c3 00 52 00 ff 00
      61 04 85 00 ff 00 04 00 dd 00 e3 00 52 00 ff 00
      61 00 85 00 e4 6b 6b 6b 6b 6b 6b 6b 6b 6b 6b a5`);
    expect(printHexDump('Object   ', 'address', 16, 1, object, true, 0x112b1e40)).toEqual([
      'Object   ffff8880112b1e40: 80 00 04 00 04 00 dd 00 ff 00 60 00 ff 00 61 00  ..........`...a.',
      'Object   ffff8880112b1e50: 85 00 e4 00 ff 0a 05 ff ff 05 c3 00 52 00 ff 00  ............R...',
      'Object   ffff8880112b1e60: 61 04 85 00 ff 00 04 00 dd 00 e3 00 52 00 ff 00  a...........R...',
      'Object   ffff8880112b1e70: 61 00 85 00 e4 6b 6b 6b 6b 6b 6b 6b 6b 6b 6b a5  a....kkkkkkkkkk.',
    ]);
  });

  it('takes a bigint address as is (5.11 dumps show hashed %p values)', () => {
    // realdata/slub-debug-1.txt: each row's %p is hashed separately, so one row at a time
    expect(printHexDump('Redzone ', 'address', 16, 1, fill(16, 0xcc), true, 0x33d4cff0n)).toEqual([
      'Redzone 0000000033d4cff0: cc cc cc cc cc cc cc cc cc cc cc cc cc cc cc cc  ................',
    ]);
    expect(printHexDump('Padding ', 'address', 16, 1, fill(16, 0x5a), true, 0x2dddb492n)).toEqual([
      'Padding 000000002dddb492: 5a 5a 5a 5a 5a 5a 5a 5a 5a 5a 5a 5a 5a 5a 5a 5a  ZZZZZZZZZZZZZZZZ',
    ]);
    expect(printHexDump('', 'address', 16, 1, fill(32, 0), false, 0xffff88816f683c00n)).toEqual([
      'ffff88816f683c00: 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00',
      'ffff88816f683c10: 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00',
    ]);
  });

  it('prints offsets as %.8x and nothing for DUMP_PREFIX_NONE', () => {
    const b = Uint8Array.from({ length: 40 }, (_, i) => 0x40 + i);
    expect(printHexDump('raw data: ', 'offset', 16, 1, b, true)).toEqual([
      'raw data: 00000000: 40 41 42 43 44 45 46 47 48 49 4a 4b 4c 4d 4e 4f  @ABCDEFGHIJKLMNO',
      'raw data: 00000010: 50 51 52 53 54 55 56 57 58 59 5a 5b 5c 5d 5e 5f  PQRSTUVWXYZ[\\]^_',
      'raw data: 00000020: 60 61 62 63 64 65 66 67                          `abcdefg',
    ]);
    expect(printHexDump('', 'none', 32, 4, b, false)).toEqual(['43424140 47464544 4b4a4948 4f4e4d4c 53525150 57565554 5b5a5958 5f5e5d5c', '63626160 67666564']);
    expect(printHexDump('x', 'none', 16, 1, new Uint8Array(0), true)).toEqual([]);
  });

  it('checks its arguments', () => {
    expect(() => printHexDump('', 'address', 16, 1, fill(4, 0), true)).toThrow(/address is required/);
    expect(() => printHexDump('', 'bogus' as 'none', 16, 1, fill(4, 0), true)).toThrow(/prefixType/);
  });
});
