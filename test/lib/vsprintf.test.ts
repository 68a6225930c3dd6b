import { describe, expect, it } from 'vitest';
import {
  DIRECT_MAP_BASE,
  directMapAddress,
  formatFlags,
  formatPageFlags,
  formatPx,
  hex,
  hexPrefixed,
  type PageFlagNames,
  padLeft,
  padRight,
} from '../../src/lib/vsprintf.js';

describe('plain conversions', () => {
  it('pads like %6lu and %-17s, never cutting', () => {
    expect(padLeft(42, 6)).toBe('    42');
    expect(padLeft('kmalloc-8k', 6)).toBe('kmalloc-8k');
    expect(padRight('kmalloc-32', 17)).toBe('kmalloc-32       ');
    expect(padRight('a-very-long-cache-name', 17)).toBe('a-very-long-cache-name');
    expect(padLeft(7, 3, '0')).toBe('007');
  });

  it('prints hex like %0*x, %#x', () => {
    expect(hex(0xcc0)).toBe('cc0');
    expect(hex(0x5a, 2)).toBe('5a');
    expect(hex(0, 8)).toBe('00000000');
    expect(hex(0xffffffffffffn, 16)).toBe('0000ffffffffffff');
    expect(hexPrefixed(0xcc0)).toBe('0xcc0');
    expect(hexPrefixed(0)).toBe('0x0'); // the kernel's number() keeps the 0x
    expect(hexPrefixed(0x57ff00000000000n)).toBe('0x57ff00000000000');
    expect(() => hex(-1)).toThrow(RangeError);
    expect(() => hex(1.5)).toThrow(RangeError);
  });
});

describe('%px', () => {
  it('shows a physical address at the direct map', () => {
    expect(formatPx(0)).toBe('ffff888000000000');
    expect(formatPx(0x7605380)).toBe('ffff888007605380'); // kasan-slab-out-of-bounds-4
    expect(formatPx(0x4c251150)).toBe('ffff88804c251150'); // kasan-slab-use-after-free-1
    expect(formatPx(0x100184640)).toBe('ffff888100184640'); // above 4 GiB
    expect(formatPx(2 ** 40 + 0x123)).toBe('ffff898000000123');
    expect(formatPx(2 ** 46 - 1)).toBe('ffffc87fffffffff');
    expect(directMapAddress(0x1000)).toBe(DIRECT_MAP_BASE + 0x1000n);
    expect(formatPx(directMapAddress(0x100184640))).toBe('ffff888100184640');
  });

  it('shows a bigint as it is', () => {
    expect(formatPx(0xffffea0004006100n)).toBe('ffffea0004006100');
    expect(formatPx(0x33d4cff0n)).toBe('0000000033d4cff0');
  });

  it('rejects what is not a physical address', () => {
    expect(() => formatPx(-1)).toThrow(RangeError);
    expect(() => formatPx(2 ** 46)).toThrow(/addr/);
    expect(() => formatPx(0.5)).toThrow(RangeError);
    expect(() => directMapAddress(-4096)).toThrow(/phys/);
  });
});

describe('format_flags', () => {
  const names = [
    [0x3, 'BOTH'],
    [0x1, 'ONE'],
    [0x2, 'TWO'],
    [0x4, 'FOUR'],
  ] as const;
  it('takes the first entry whose whole mask is set and prints leftovers as %#lx', () => {
    expect(formatFlags(0x3, names)).toBe('BOTH');
    expect(formatFlags(0x5, names)).toBe('ONE|FOUR');
    expect(formatFlags(0x17, names)).toBe('BOTH|FOUR|0x10');
    expect(formatFlags(0x10, names)).toBe('0x10');
    expect(formatFlags(0, names)).toBe('');
    expect(formatFlags(0x80000001, names)).toBe('ONE|0x80000000');
  });
});

describe('%pGp', () => {
  // The 6.18 print order of pageflag_names (mmflags.h) with the 6.18 PG_ bits:
  // not bit order ("waiters" is bit 7 but printed second).
  const pageflags618: PageFlagNames = [
    [0, 'locked'],
    [7, 'waiters'],
    [2, 'referenced'],
    [3, 'uptodate'],
    [4, 'dirty'],
    [5, 'lru'],
    [8, 'active'],
    [9, 'workingset'],
    [10, 'owner_priv_1'],
    [11, 'owner_2'],
    [12, 'arch_1'],
    [13, 'reserved'],
    [14, 'private'],
    [15, 'private_2'],
    [1, 'writeback'],
    [6, 'head'],
    [16, 'reclaim'],
    [17, 'swapbacked'],
    [18, 'unevictable'],
    [19, 'dropbehind'],
    [20, 'mlocked'],
    [21, 'hwpoison'],
    [23, 'idle'],
    [22, 'young'],
  ];

  it('prints fields only when there are no flags (syzbot, 2026)', () => {
    expect(formatPageFlags(pageflags618, 0x57ff00000000000n, { node: 1, zone: 2, lastcpupid: 0x7ff })).toBe(
      '0x57ff00000000000(node=1|zone=2|lastcpupid=0x7ff)',
    );
    expect(formatPageFlags(pageflags618, 0xfff00000000000n, { node: 0, zone: 1, lastcpupid: 0x7ff })).toBe('0xfff00000000000(node=0|zone=1|lastcpupid=0x7ff)');
  });

  it('prints flag names first, in table order (6.1x SLUB "Slab ... flags=")', () => {
    expect(formatPageFlags(pageflags618, 0x17ffffc0000200n, { node: 0, zone: 2, lastcpupid: 0x1fffff })).toBe(
      '0x17ffffc0000200(workingset|node=0|zone=2|lastcpupid=0x1fffff)',
    );
    expect(formatPageFlags(pageflags618, 0x81, { node: 0, zone: 1 })).toBe('0x81(locked|waiters|node=0|zone=1)');
    expect(formatPageFlags(pageflags618, 0x80 | 0x2 | 0x1, {})).toBe('0x83(locked|waiters|writeback)');
  });

  it('works with an older table given as names by bit', () => {
    // 5.19: "flags=0x1fffc0000000201(locked|slab|node=0|zone=1|lastcpupid=0x3fff)"
    const byBit519 = [
      'locked',
      'referenced',
      'uptodate',
      'dirty',
      'lru',
      'active',
      'workingset',
      'waiters',
      'error',
      'slab',
      'owner_priv_1',
      'arch_1',
      'reserved',
      'private',
      'private_2',
      'writeback',
      'head',
      'mappedtodisk',
      'reclaim',
      'swapbacked',
      'unevictable',
      'mlocked',
    ];
    expect(formatPageFlags(byBit519, 0x1fffc0000000201n, { node: 0, zone: 1, lastcpupid: 0x3fff })).toBe(
      '0x1fffc0000000201(locked|slab|node=0|zone=1|lastcpupid=0x3fff)',
    );
    // 6.x: "flags=0x200000000010200(slab|head|node=0|zone=2)"
    const byBit6 = ['locked', 'referenced', 'uptodate', 'dirty', 'lru', 'active', 'workingset', 'waiters', 'error', 'slab', '', '', '', '', '', '', 'head'];
    expect(formatPageFlags(byBit6, 0x200000000010200n, { node: 0, zone: 2 }, 22)).toBe('0x200000000010200(slab|head|node=0|zone=2)');
    // 6.7 without NUMA: "flags=0x8000000000000800(slab|zone=2)"
    const byBit67 = ['locked', 'writeback', 'referenced', 'uptodate', 'dirty', 'lru', 'head', 'waiters', 'active', 'workingset', 'error', 'slab'];
    expect(formatPageFlags(byBit67, 0x8000000000000800n, { zone: 2 }, 24)).toBe('0x8000000000000800(slab|zone=2)');
  });

  it('prints leftover low bits as hex and an empty page as 0x0()', () => {
    expect(formatPageFlags(pageflags618, 0, {})).toBe('0x0()');
    expect(formatPageFlags(['locked'], 0x3, {}, 2)).toBe('0x3(locked|0x2)');
    expect(formatPageFlags(['locked'], 0x3, { section: 5, kasantag: 0xff })).toBe('0x3(locked|section=5|kasantag=0xff)');
  });
});
