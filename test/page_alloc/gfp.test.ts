import { describe, expect, it } from 'vitest';
import type { FlagName } from '../../src/lib/vsprintf.js';
import { formatFlags } from '../../src/lib/vsprintf.js';
import {
  __GFP_ACCOUNT,
  __GFP_BITS_MASK,
  __GFP_BITS_SHIFT,
  __GFP_COMP,
  __GFP_DIRECT_RECLAIM,
  __GFP_DMA,
  __GFP_DMA32,
  __GFP_FS,
  __GFP_HARDWALL,
  __GFP_HIGH,
  __GFP_HIGHMEM,
  __GFP_IO,
  __GFP_KSWAPD_RECLAIM,
  __GFP_MEMALLOC,
  __GFP_MOVABLE,
  __GFP_NO_OBJ_EXT,
  __GFP_NOFAIL,
  __GFP_NOLOCKDEP,
  __GFP_NOMEMALLOC,
  __GFP_NORETRY,
  __GFP_NOWARN,
  __GFP_RECLAIM,
  __GFP_RECLAIMABLE,
  __GFP_RETRY_MAYFAIL,
  __GFP_SKIP_KASAN,
  __GFP_SKIP_ZERO,
  __GFP_THISNODE,
  __GFP_WRITE,
  __GFP_ZERO,
  __GFP_ZEROTAGS,
  checkGfp,
  formatGfp,
  formatGfpMode,
  GFP_ATOMIC,
  GFP_DMA,
  GFP_DMA32,
  GFP_HIGHUSER,
  GFP_HIGHUSER_MOVABLE,
  GFP_KERNEL,
  GFP_KERNEL_ACCOUNT,
  GFP_MOVABLE_MASK,
  GFP_NOFS,
  GFP_NOIO,
  GFP_NOWAIT,
  GFP_TRANSHUGE,
  GFP_TRANSHUGE_LIGHT,
  GFP_USER,
  GFP_ZONEMASK,
  gfpAllowsBlocking,
  gfpAllowsSpinning,
  gfpCompactionAllowed,
  gfpflagNames,
  gfpHasIoFs,
  gfpMigratetype,
  gfpNestedMask,
  gfpZone,
  MAX_NR_ZONES,
  MIGRATE_HIGHATOMIC,
  MIGRATE_ISOLATE,
  MIGRATE_MOVABLE,
  MIGRATE_PCPTYPES,
  MIGRATE_RECLAIMABLE,
  MIGRATE_TYPES,
  MIGRATE_UNMOVABLE,
  migratetypeNames,
  ZONE_DEVICE,
  ZONE_DMA,
  ZONE_DMA32,
  ZONE_MOVABLE,
  ZONE_NORMAL,
  zoneNames,
} from '../../src/page_alloc/gfp.js';

describe('GFP bit values (6.10+ x86-64, SLAB_OBJ_EXT on, LOCKDEP off)', () => {
  it('has each single flag on its ___GFP_*_BIT', () => {
    const bits: [number, number][] = [
      [__GFP_DMA, 0],
      [__GFP_HIGHMEM, 1],
      [__GFP_DMA32, 2],
      [__GFP_MOVABLE, 3],
      [__GFP_RECLAIMABLE, 4],
      [__GFP_HIGH, 5],
      [__GFP_IO, 6],
      [__GFP_FS, 7],
      [__GFP_ZERO, 8],
      [__GFP_DIRECT_RECLAIM, 10],
      [__GFP_KSWAPD_RECLAIM, 11],
      [__GFP_WRITE, 12],
      [__GFP_NOWARN, 13],
      [__GFP_RETRY_MAYFAIL, 14],
      [__GFP_NOFAIL, 15],
      [__GFP_NORETRY, 16],
      [__GFP_MEMALLOC, 17],
      [__GFP_COMP, 18],
      [__GFP_NOMEMALLOC, 19],
      [__GFP_HARDWALL, 20],
      [__GFP_THISNODE, 21],
      [__GFP_ACCOUNT, 22],
      [__GFP_ZEROTAGS, 23],
      [__GFP_NO_OBJ_EXT, 24],
    ];
    for (const [flag, bit] of bits) expect(flag).toBe(2 ** bit);
    expect(__GFP_SKIP_ZERO).toBe(0);
    expect(__GFP_SKIP_KASAN).toBe(0);
    expect(__GFP_NOLOCKDEP).toBe(0);
    expect(__GFP_BITS_SHIFT).toBe(25);
    expect(__GFP_BITS_MASK).toBe(0x1ffffff);
  });

  it('has the composites at the values real 6.x logs print', () => {
    expect(GFP_KERNEL).toBe(0xcc0);
    expect(GFP_ATOMIC).toBe(0x820); // 0xa20 before 6.3 (__GFP_ATOMIC)
    expect(GFP_NOWAIT).toBe(0x2800); // 0x800 before 6.10
    expect(GFP_KERNEL_ACCOUNT).toBe(0x400cc0);
    expect(GFP_NOIO).toBe(0xc00);
    expect(GFP_NOFS).toBe(0xc40);
    expect(GFP_USER).toBe(0x100cc0);
    expect(GFP_DMA).toBe(0x1);
    expect(GFP_DMA32).toBe(0x4);
    expect(GFP_HIGHUSER).toBe(0x100cc2);
    expect(GFP_HIGHUSER_MOVABLE).toBe(0x100cca);
    expect(GFP_TRANSHUGE_LIGHT).toBe(0x1c20ca);
    expect(GFP_TRANSHUGE).toBe(0x1c24ca);
    expect(__GFP_RECLAIM).toBe(0xc00);
    expect(GFP_ZONEMASK).toBe(0xf);
    expect(GFP_MOVABLE_MASK).toBe(0x18);
  });

  it('never goes negative under bitwise ops', () => {
    let all = 0;
    for (const [mask] of gfpflagNames) all |= mask;
    all |= __GFP_NO_OBJ_EXT;
    expect(all).toBe(__GFP_BITS_MASK & ~0x200);
    expect(all).toBeGreaterThan(0);
    expect(GFP_TRANSHUGE_LIGHT).toBeGreaterThan(0);
  });
});

describe('formatGfp / formatGfpMode (%pGg, %#x(%pGg))', () => {
  // Each expectation is the exact text a real 6.x kernel printed for that
  // value (warn_alloc "mode:", page_owner "gfp_mask", oom "gfp_mask="), from
  // kernels where the table already had today's order or where the flags
  // involved print the same in both orders.
  const real: [number, string][] = [
    [0x820, 'GFP_ATOMIC'], // kswapd0 page allocation failure, 6.5.9
    [0xcc0, 'GFP_KERNEL'],
    [0xcc1, 'GFP_KERNEL|GFP_DMA'], // kdump swapper/0
    [0xc04, 'GFP_NOIO|GFP_DMA32'],
    [0x140cca, 'GFP_HIGHUSER_MOVABLE|__GFP_COMP'], // oom-killer, page_owner
    [0x1c20ca, 'GFP_TRANSHUGE_LIGHT'], // page_owner, order 9
    [0x400dc0, 'GFP_KERNEL_ACCOUNT|__GFP_ZERO'],
    // 6.10+: GFP_NOWAIT absorbs __GFP_NOWARN
    [0x12800, 'GFP_NOWAIT|__GFP_NORETRY'], // syzbot, 6.11.0-rc6
    [0x52800, 'GFP_NOWAIT|__GFP_NORETRY|__GFP_COMP'],
    [0x252800, 'GFP_NOWAIT|__GFP_NORETRY|__GFP_COMP|__GFP_THISNODE'],
    // 6.15+: single flags in bit order (syzbot, __alloc_frozen_pages_noprof era)
    [0x29c2, 'GFP_NOWAIT|__GFP_HIGHMEM|__GFP_IO|__GFP_FS|__GFP_ZERO'],
    [0x2dc2, 'GFP_KERNEL|__GFP_HIGHMEM|__GFP_ZERO|__GFP_NOWARN'],
    [0x446dc0, 'GFP_KERNEL_ACCOUNT|__GFP_ZERO|__GFP_NOWARN|__GFP_RETRY_MAYFAIL|__GFP_COMP'],
    [0, ''],
  ];
  for (const [gfp, text] of real) {
    it(`prints ${gfp.toString(16)} as ${text || '(nothing)'}`, () => {
      expect(formatGfp(gfp)).toBe(text);
      expect(formatGfpMode(gfp)).toBe(`0x${gfp.toString(16)}(${text})`);
    });
  }

  it('matches trace-cmd gfp_flags= output of the bit-ordered table', () => {
    // Lines from the "after" side of the before/after run posted with the
    // mmflags.h change that made the single flags follow TRACE_GFP_FLAGS;
    // that machine had LOCKDEP on, so its __GFP_NO_OBJ_EXT was bit 25.
    const after: [number, string][] = [
      [GFP_ATOMIC | __GFP_ZERO | __GFP_COMP | __GFP_NO_OBJ_EXT, 'GFP_ATOMIC|__GFP_ZERO|__GFP_COMP|__GFP_NO_OBJ_EXT'],
      [GFP_HIGHUSER_MOVABLE | __GFP_WRITE | __GFP_COMP, 'GFP_HIGHUSER_MOVABLE|__GFP_WRITE|__GFP_COMP'],
      [GFP_HIGHUSER_MOVABLE | __GFP_ZERO | __GFP_COMP, 'GFP_HIGHUSER_MOVABLE|__GFP_ZERO|__GFP_COMP'],
      [GFP_HIGHUSER | __GFP_ACCOUNT, 'GFP_HIGHUSER|__GFP_ACCOUNT'],
      [
        __GFP_IO | __GFP_FS | __GFP_NOWARN | __GFP_NORETRY | __GFP_COMP | __GFP_NOMEMALLOC,
        '__GFP_IO|__GFP_FS|__GFP_NOWARN|__GFP_NORETRY|__GFP_COMP|__GFP_NOMEMALLOC',
      ],
      [GFP_KERNEL_ACCOUNT | __GFP_NOWARN | __GFP_NOMEMALLOC, 'GFP_KERNEL_ACCOUNT|__GFP_NOWARN|__GFP_NOMEMALLOC'],
      [GFP_KERNEL_ACCOUNT | __GFP_ZERO | __GFP_COMP, 'GFP_KERNEL_ACCOUNT|__GFP_ZERO|__GFP_COMP'],
      [GFP_KERNEL | __GFP_ZERO | __GFP_COMP | __GFP_NO_OBJ_EXT, 'GFP_KERNEL|__GFP_ZERO|__GFP_COMP|__GFP_NO_OBJ_EXT'],
      [GFP_NOFS | __GFP_MOVABLE | __GFP_NOFAIL | __GFP_COMP | __GFP_HARDWALL, 'GFP_NOFS|__GFP_MOVABLE|__GFP_NOFAIL|__GFP_COMP|__GFP_HARDWALL'],
      [
        GFP_NOFS | __GFP_MOVABLE | __GFP_ZERO | __GFP_NOFAIL | __GFP_HARDWALL | __GFP_ACCOUNT,
        'GFP_NOFS|__GFP_MOVABLE|__GFP_ZERO|__GFP_NOFAIL|__GFP_HARDWALL|__GFP_ACCOUNT',
      ],
      [GFP_NOFS | __GFP_RECLAIMABLE | __GFP_NOWARN | __GFP_NORETRY | __GFP_COMP, 'GFP_NOFS|__GFP_RECLAIMABLE|__GFP_NOWARN|__GFP_NORETRY|__GFP_COMP'],
      [GFP_NOFS | __GFP_ZERO | __GFP_NOFAIL | __GFP_ACCOUNT, 'GFP_NOFS|__GFP_ZERO|__GFP_NOFAIL|__GFP_ACCOUNT'],
      [GFP_NOWAIT, 'GFP_NOWAIT'],
      [GFP_NOWAIT | __GFP_ACCOUNT, 'GFP_NOWAIT|__GFP_ACCOUNT'],
      [GFP_NOWAIT | __GFP_COMP, 'GFP_NOWAIT|__GFP_COMP'],
      [GFP_NOWAIT | __GFP_RECLAIMABLE | __GFP_NORETRY | __GFP_COMP, 'GFP_NOWAIT|__GFP_RECLAIMABLE|__GFP_NORETRY|__GFP_COMP'],
      [GFP_NOWAIT | __GFP_ZERO | __GFP_NO_OBJ_EXT, 'GFP_NOWAIT|__GFP_ZERO|__GFP_NO_OBJ_EXT'],
      [
        __GFP_RECLAIMABLE | __GFP_IO | __GFP_NOWARN | __GFP_NORETRY | __GFP_COMP | __GFP_NOMEMALLOC,
        '__GFP_RECLAIMABLE|__GFP_IO|__GFP_NOWARN|__GFP_NORETRY|__GFP_COMP|__GFP_NOMEMALLOC',
      ],
    ];
    for (const [gfp, text] of after) expect(formatGfp(gfp)).toBe(text);
  });

  it('prints a mode the way warn_alloc does, 0 as 0x0()', () => {
    expect(formatGfpMode(GFP_KERNEL)).toBe('0xcc0(GFP_KERNEL)');
    expect(formatGfpMode(0)).toBe('0x0()'); // "mode:0x0(), nodemask=(null)"
  });

  it('prefers composites in table order and prints leftovers as hex', () => {
    expect(formatGfp(GFP_KERNEL | __GFP_ZERO)).toBe('GFP_KERNEL|__GFP_ZERO');
    expect(formatGfp(GFP_KERNEL | __GFP_NOWARN)).toBe('GFP_KERNEL|__GFP_NOWARN');
    expect(formatGfp(GFP_ATOMIC | __GFP_NOWARN)).toBe('GFP_ATOMIC|__GFP_NOWARN');
    expect(formatGfp(GFP_NOWAIT | __GFP_NOWARN)).toBe('GFP_NOWAIT');
    expect(formatGfp(__GFP_KSWAPD_RECLAIM)).toBe('__GFP_KSWAPD_RECLAIM');
    expect(formatGfp(GFP_TRANSHUGE)).toBe('GFP_TRANSHUGE');
    expect(formatGfp(GFP_USER | __GFP_ACCOUNT)).toBe('GFP_USER|__GFP_ACCOUNT');
    expect(formatGfp(__GFP_RECLAIM)).toBe('GFP_NOIO');
    expect(formatGfp(__GFP_DIRECT_RECLAIM)).toBe('__GFP_DIRECT_RECLAIM');
    expect(formatGfp(GFP_ATOMIC | __GFP_COMP | __GFP_MEMALLOC)).toBe('GFP_ATOMIC|__GFP_MEMALLOC|__GFP_COMP');
    expect(formatGfp(0x200)).toBe('0x200');
    expect(formatGfp(GFP_KERNEL | 0x200)).toBe('GFP_KERNEL|0x200');
    expect(formatGfp(__GFP_NO_OBJ_EXT | 0x200 | 0x2000000)).toBe('__GFP_NO_OBJ_EXT|0x2000200');
    expect(formatGfpMode(0x80000000)).toBe('0x80000000(0x80000000)');
  });

  it('reproduces older logs when given their table', () => {
    // 6.10..6.14: GFP_NOWAIT already 0x2800 but the single flags in the old
    // hand-made order (ZERO after COMP, RECLAIMABLE near the end).
    const mask = new Map<string, number>(gfpflagNames.map(([m, n]) => [n, m]));
    const table614: FlagName[] = [
      'GFP_TRANSHUGE',
      'GFP_TRANSHUGE_LIGHT',
      'GFP_HIGHUSER_MOVABLE',
      'GFP_HIGHUSER',
      'GFP_USER',
      'GFP_KERNEL_ACCOUNT',
      'GFP_KERNEL',
      'GFP_NOFS',
      'GFP_ATOMIC',
      'GFP_NOIO',
      'GFP_NOWAIT',
      'GFP_DMA',
      '__GFP_HIGHMEM',
      'GFP_DMA32',
      '__GFP_HIGH',
      '__GFP_IO',
      '__GFP_FS',
      '__GFP_NOWARN',
      '__GFP_RETRY_MAYFAIL',
      '__GFP_NOFAIL',
      '__GFP_NORETRY',
      '__GFP_COMP',
      '__GFP_ZERO',
      '__GFP_NOMEMALLOC',
      '__GFP_MEMALLOC',
      '__GFP_HARDWALL',
      '__GFP_THISNODE',
      '__GFP_RECLAIMABLE',
      '__GFP_MOVABLE',
      '__GFP_ACCOUNT',
      '__GFP_WRITE',
      '__GFP_RECLAIM',
      '__GFP_DIRECT_RECLAIM',
      '__GFP_KSWAPD_RECLAIM',
      '__GFP_ZEROTAGS',
    ].map((n) => [mask.get(n)!, n]);
    const real614: [number, string][] = [
      [0x60820, 'GFP_ATOMIC|__GFP_COMP|__GFP_MEMALLOC'], // Raspberry Pi 5
      [0x194dc2, 'GFP_HIGHUSER|__GFP_RETRY_MAYFAIL|__GFP_NORETRY|__GFP_ZERO|__GFP_NOMEMALLOC'], // TTM
      [0x140c50, 'GFP_NOFS|__GFP_COMP|__GFP_HARDWALL|__GFP_RECLAIMABLE'],
      [0x152c50, 'GFP_NOFS|__GFP_NOWARN|__GFP_NORETRY|__GFP_COMP|__GFP_HARDWALL|__GFP_RECLAIMABLE'],
      [0x1d2050, '__GFP_IO|__GFP_NOWARN|__GFP_NORETRY|__GFP_COMP|__GFP_NOMEMALLOC|__GFP_HARDWALL|__GFP_RECLAIMABLE'],
      [0x242050, '__GFP_IO|__GFP_NOWARN|__GFP_COMP|__GFP_THISNODE|__GFP_RECLAIMABLE'],
      [0x452cd0, 'GFP_KERNEL_ACCOUNT|__GFP_NOWARN|__GFP_NORETRY|__GFP_COMP|__GFP_RECLAIMABLE'],
      [0x12800, 'GFP_NOWAIT|__GFP_NORETRY'],
    ];
    for (const [gfp, text] of real614) expect(formatFlags(gfp, table614)).toBe(text);

    // before 6.10, GFP_NOWAIT was __GFP_KSWAPD_RECLAIM alone
    const table69: FlagName[] = table614.map(([m, n]) => [n === 'GFP_NOWAIT' ? 0x800 : m, n]);
    expect(formatFlags(0x800, table69)).toBe('GFP_NOWAIT'); // "mode:0x800(GFP_NOWAIT)"
    expect(formatFlags(0x192800, table69)).toBe('GFP_NOWAIT|__GFP_NOWARN|__GFP_NORETRY|__GFP_NOMEMALLOC|__GFP_HARDWALL');
    // and today's table prints the same bits differently
    expect(formatGfp(0x192800)).toBe('GFP_NOWAIT|__GFP_NORETRY|__GFP_NOMEMALLOC|__GFP_HARDWALL');
    expect(formatGfp(0x60820)).toBe('GFP_ATOMIC|__GFP_MEMALLOC|__GFP_COMP');
  });
});

describe('zones and migratetypes', () => {
  it('numbers zones and migratetypes as x86-64 without HIGHMEM and CMA', () => {
    expect([ZONE_DMA, ZONE_DMA32, ZONE_NORMAL, ZONE_MOVABLE, ZONE_DEVICE]).toEqual([0, 1, 2, 3, 4]);
    expect(MAX_NR_ZONES).toBe(5);
    expect(zoneNames).toEqual(['DMA', 'DMA32', 'Normal', 'Movable', 'Device']);
    expect([MIGRATE_UNMOVABLE, MIGRATE_MOVABLE, MIGRATE_RECLAIMABLE]).toEqual([0, 1, 2]);
    expect(MIGRATE_PCPTYPES).toBe(3);
    expect(MIGRATE_HIGHATOMIC).toBe(3);
    expect(MIGRATE_ISOLATE).toBe(4);
    expect(MIGRATE_TYPES).toBe(5);
    // /proc/pagetypeinfo of a 6.18 kernel without CONFIG_CMA
    expect(migratetypeNames).toEqual(['Unmovable', 'Movable', 'Reclaimable', 'HighAtomic', 'Isolate']);
  });

  it('maps every combination of the four zone bits like GFP_ZONE_TABLE', () => {
    const expected: (number | 'bad')[] = [
      ZONE_NORMAL, // 0x0
      ZONE_DMA, // 0x1 DMA
      ZONE_NORMAL, // 0x2 HIGHMEM (no highmem on x86-64)
      'bad', // 0x3 DMA+HIGHMEM
      ZONE_DMA32, // 0x4 DMA32
      'bad', // 0x5 DMA+DMA32
      'bad', // 0x6 HIGHMEM+DMA32
      'bad', // 0x7
      ZONE_NORMAL, // 0x8 MOVABLE alone
      ZONE_DMA, // 0x9 MOVABLE+DMA
      ZONE_MOVABLE, // 0xa MOVABLE+HIGHMEM
      'bad', // 0xb
      ZONE_DMA32, // 0xc MOVABLE+DMA32
      'bad', // 0xd
      'bad', // 0xe
      'bad', // 0xf
    ];
    for (let bits = 0; bits < 16; bits++) {
      const e = expected[bits]!;
      for (const rest of [0, GFP_KERNEL, GFP_ATOMIC | __GFP_NOWARN, __GFP_RECLAIMABLE | __GFP_COMP]) {
        const gfp = rest | bits;
        if (e === 'bad') {
          expect(() => gfpZone(gfp)).toThrow(RangeError);
          expect(() => gfpZone(gfp)).toThrow(/gfp/);
        } else {
          expect(gfpZone(gfp)).toBe(e);
        }
      }
    }
    expect(gfpZone(GFP_KERNEL)).toBe(ZONE_NORMAL);
    expect(gfpZone(GFP_HIGHUSER_MOVABLE)).toBe(ZONE_MOVABLE);
    expect(gfpZone(GFP_HIGHUSER)).toBe(ZONE_NORMAL);
    expect(gfpZone(GFP_KERNEL | GFP_DMA)).toBe(ZONE_DMA);
    expect(gfpZone(GFP_NOIO | GFP_DMA32)).toBe(ZONE_DMA32);
    expect(() => gfpZone(GFP_DMA | GFP_DMA32)).toThrow('gfp 0x5(GFP_DMA|GFP_DMA32)');
  });

  it('maps every combination of the mobility bits like gfp_migratetype', () => {
    expect(gfpMigratetype(GFP_KERNEL)).toBe(MIGRATE_UNMOVABLE);
    expect(gfpMigratetype(GFP_HIGHUSER_MOVABLE)).toBe(MIGRATE_MOVABLE);
    expect(gfpMigratetype(GFP_KERNEL | __GFP_RECLAIMABLE)).toBe(MIGRATE_RECLAIMABLE);
    // both bits: a caller bug; the kernel's shift yields HIGHATOMIC
    expect(gfpMigratetype(__GFP_MOVABLE | __GFP_RECLAIMABLE)).toBe(MIGRATE_HIGHATOMIC);
    for (let bits = 0; bits < 32; bits++) {
      const mt = (bits & __GFP_MOVABLE ? 1 : 0) | (bits & __GFP_RECLAIMABLE ? 2 : 0);
      expect(gfpMigratetype(bits | GFP_ATOMIC)).toBe(mt);
      expect(gfpMigratetype(bits, true)).toBe(MIGRATE_UNMOVABLE);
    }
    // real: "migratetype Reclaimable, gfp_mask 0x140c50(...__GFP_RECLAIMABLE)"
    expect(migratetypeNames[gfpMigratetype(0x140c50)]).toBe('Reclaimable');
    expect(migratetypeNames[gfpMigratetype(0x140cca)]).toBe('Movable');
    expect(migratetypeNames[gfpMigratetype(0x400dc0)]).toBe('Unmovable');
  });
});

describe('queries', () => {
  it('answers the gfp.h predicates', () => {
    expect(gfpAllowsBlocking(GFP_KERNEL)).toBe(true);
    expect(gfpAllowsBlocking(GFP_ATOMIC)).toBe(false);
    expect(gfpAllowsBlocking(GFP_NOWAIT)).toBe(false);
    expect(gfpAllowsBlocking(GFP_TRANSHUGE)).toBe(true);
    expect(gfpAllowsBlocking(GFP_TRANSHUGE_LIGHT)).toBe(false);
    expect(gfpAllowsSpinning(GFP_NOWAIT)).toBe(true);
    expect(gfpAllowsSpinning(0)).toBe(false);
    expect(gfpHasIoFs(GFP_KERNEL)).toBe(true);
    expect(gfpHasIoFs(GFP_NOFS)).toBe(false);
    expect(gfpCompactionAllowed(GFP_NOIO)).toBe(false);
    expect(gfpCompactionAllowed(GFP_NOFS)).toBe(true);
    expect(gfpNestedMask(GFP_KERNEL | __GFP_ZERO | GFP_DMA)).toBe(GFP_KERNEL | __GFP_NORETRY | __GFP_NOMEMALLOC | __GFP_NOWARN);
  });

  it('checks a GFP argument', () => {
    expect(() => checkGfp(GFP_KERNEL)).not.toThrow();
    expect(() => checkGfp(1.5)).toThrow(TypeError);
    expect(() => checkGfp('GFP_KERNEL')).toThrow(/gfp must be an integer/);
    expect(() => checkGfp(-1, 'flags')).toThrow(/flags must be in/);
    expect(() => checkGfp(2 ** 32)).toThrow(RangeError);
  });
});
