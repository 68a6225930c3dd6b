/**
 * GFP flags (include/linux/gfp_types.h, include/linux/gfp.h) and their
 * printed form, %pGg (include/trace/events/mmflags.h, lib/vsprintf.c).
 *
 * Bit positions follow the `___GFP_*_BIT` enum of Linux 6.10 and later, for
 * the configuration of a typical x86-64 distro kernel (checked against
 * Debian's 6.12 amd64 config, and the 6.18 kernel this was written on):
 *
 *   - CONFIG_KASAN_HW_TAGS off (x86 has no memory tags): __GFP_SKIP_ZERO and
 *     __GFP_SKIP_KASAN take no bit and are 0;
 *   - CONFIG_LOCKDEP off: __GFP_NOLOCKDEP takes no bit and is 0;
 *   - CONFIG_SLAB_OBJ_EXT on (MEMCG selects it): __GFP_NO_OBJ_EXT is bit 24.
 *
 * So __GFP_BITS_SHIFT is 25. Every flag is below 2^31, so JavaScript's
 * bitwise operators never make a GFP mask negative.
 *
 *   bit  0 DMA            0x000001    bit 12 WRITE          0x001000
 *   bit  1 HIGHMEM        0x000002    bit 13 NOWARN         0x002000
 *   bit  2 DMA32          0x000004    bit 14 RETRY_MAYFAIL  0x004000
 *   bit  3 MOVABLE        0x000008    bit 15 NOFAIL         0x008000
 *   bit  4 RECLAIMABLE    0x000010    bit 16 NORETRY        0x010000
 *   bit  5 HIGH           0x000020    bit 17 MEMALLOC       0x020000
 *   bit  6 IO             0x000040    bit 18 COMP           0x040000
 *   bit  7 FS             0x000080    bit 19 NOMEMALLOC     0x080000
 *   bit  8 ZERO           0x000100    bit 20 HARDWALL       0x100000
 *   bit  9 (unused)       0x000200    bit 21 THISNODE       0x200000
 *   bit 10 DIRECT_RECLAIM 0x000400    bit 22 ACCOUNT        0x400000
 *   bit 11 KSWAPD_RECLAIM 0x000800    bit 23 ZEROTAGS       0x800000
 *                                     bit 24 NO_OBJ_EXT     0x1000000
 *
 * Three changes matter when comparing with older logs: since 6.3 there is
 * no __GFP_ATOMIC (bit 9 is unused), so GFP_ATOMIC is 0x820 (was 0xa20);
 * since 6.10 GFP_NOWAIT includes __GFP_NOWARN (0x2800, was 0x800), so a
 * 6.10+ kernel never prints "GFP_NOWAIT|__GFP_NOWARN"; since 6.15 %pGg
 * names the single flags in bit order (see gfpflagNames).
 */

import { type FlagName, formatFlags, hexPrefixed } from '../lib/vsprintf.js';
import { MIGRATE_HIGHATOMIC, MIGRATE_MOVABLE, MIGRATE_RECLAIMABLE, MT, ZONE } from './mmzone.js';

// Zones and migratetypes belong to mmzone.h, as in the kernel; they are
// re-exported here because gfp_zone() and gfp_migratetype() return them.
// x86-64 without HIGHMEM: DMA 0, DMA32 1, NORMAL 2, MOVABLE 3, DEVICE 4.
// Migratetypes without CONFIG_CMA (Debian, and this 6.18 kernel, have it off)
// and with CONFIG_MEMORY_ISOLATION: Isolate is 4 and there are 5.
export {
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
} from './mmzone.js';

// ---- Single flags -------------------------------------------------------

/**
 * The single __GFP_* flags as a const enum (Gfp.ZERO is __GFP_ZERO), so the
 * compiled hot paths hold the numbers; the __GFP_* names alias them.
 */
export const enum Gfp {
  // Zone modifiers: the low four bits.
  DMA = 0x1,
  HIGHMEM = 0x2,
  DMA32 = 0x4,
  /** ZONE_MOVABLE allowed; also the "movable" mobility hint. */
  MOVABLE = 0x8,

  // Page mobility and placement hints.
  RECLAIMABLE = 0x10,
  WRITE = 0x1000,
  HARDWALL = 0x100000,
  THISNODE = 0x200000,
  ACCOUNT = 0x400000,
  /** Bit 24 with CONFIG_SLAB_OBJ_EXT; %pGg names it last (6.15+). */
  NO_OBJ_EXT = 0x1000000,

  // Watermark modifiers.
  HIGH = 0x20,
  MEMALLOC = 0x20000,
  NOMEMALLOC = 0x80000,

  // Reclaim modifiers.
  IO = 0x40,
  FS = 0x80,
  DIRECT_RECLAIM = 0x400,
  KSWAPD_RECLAIM = 0x800,
  RECLAIM = DIRECT_RECLAIM | KSWAPD_RECLAIM,
  RETRY_MAYFAIL = 0x4000,
  NOFAIL = 0x8000,
  NORETRY = 0x10000,

  // Action modifiers.
  NOWARN = 0x2000,
  COMP = 0x40000,
  ZERO = 0x100,
  ZEROTAGS = 0x800000,
}
export const __GFP_DMA = Gfp.DMA;
export const __GFP_HIGHMEM = Gfp.HIGHMEM;
export const __GFP_DMA32 = Gfp.DMA32;
export const __GFP_MOVABLE = Gfp.MOVABLE;
export const __GFP_RECLAIMABLE = Gfp.RECLAIMABLE;
export const __GFP_WRITE = Gfp.WRITE;
export const __GFP_HARDWALL = Gfp.HARDWALL;
export const __GFP_THISNODE = Gfp.THISNODE;
export const __GFP_ACCOUNT = Gfp.ACCOUNT;
export const __GFP_NO_OBJ_EXT = Gfp.NO_OBJ_EXT;
export const __GFP_HIGH = Gfp.HIGH;
export const __GFP_MEMALLOC = Gfp.MEMALLOC;
export const __GFP_NOMEMALLOC = Gfp.NOMEMALLOC;
export const __GFP_IO = Gfp.IO;
export const __GFP_FS = Gfp.FS;
export const __GFP_DIRECT_RECLAIM = Gfp.DIRECT_RECLAIM;
export const __GFP_KSWAPD_RECLAIM = Gfp.KSWAPD_RECLAIM;
export const __GFP_RECLAIM = Gfp.RECLAIM;
export const __GFP_RETRY_MAYFAIL = Gfp.RETRY_MAYFAIL;
export const __GFP_NOFAIL = Gfp.NOFAIL;
export const __GFP_NORETRY = Gfp.NORETRY;
export const __GFP_NOWARN = Gfp.NOWARN;
export const __GFP_COMP = Gfp.COMP;
export const __GFP_ZERO = Gfp.ZERO;
export const __GFP_ZEROTAGS = Gfp.ZEROTAGS;
/** 0 without CONFIG_KASAN_HW_TAGS (always so on x86-64). */
export const __GFP_SKIP_ZERO = 0;
/** 0 without CONFIG_KASAN_HW_TAGS (always so on x86-64). */
export const __GFP_SKIP_KASAN = 0;
/** 0 without CONFIG_LOCKDEP. */
export const __GFP_NOLOCKDEP = 0;
export const GFP_ZONEMASK = __GFP_DMA | __GFP_HIGHMEM | __GFP_DMA32 | __GFP_MOVABLE;

/** Room for this many __GFP_* bits (___GFP_LAST_BIT). */
export const __GFP_BITS_SHIFT = 25;
export const __GFP_BITS_MASK = (1 << __GFP_BITS_SHIFT) - 1;

// ---- Useful combinations ------------------------------------------------

export const GFP_ATOMIC = __GFP_HIGH | __GFP_KSWAPD_RECLAIM;
export const GFP_KERNEL = __GFP_RECLAIM | __GFP_IO | __GFP_FS;
export const GFP_KERNEL_ACCOUNT = GFP_KERNEL | __GFP_ACCOUNT;
export const GFP_NOWAIT = __GFP_KSWAPD_RECLAIM | __GFP_NOWARN;
export const GFP_NOIO = __GFP_RECLAIM;
export const GFP_NOFS = __GFP_RECLAIM | __GFP_IO;
export const GFP_USER = __GFP_RECLAIM | __GFP_IO | __GFP_FS | __GFP_HARDWALL;
export const GFP_DMA = __GFP_DMA;
export const GFP_DMA32 = __GFP_DMA32;
export const GFP_HIGHUSER = GFP_USER | __GFP_HIGHMEM;
export const GFP_HIGHUSER_MOVABLE = GFP_HIGHUSER | __GFP_MOVABLE | __GFP_SKIP_KASAN;
export const GFP_TRANSHUGE_LIGHT = (GFP_HIGHUSER_MOVABLE | __GFP_COMP | __GFP_NOMEMALLOC | __GFP_NOWARN) & ~__GFP_RECLAIM;
export const GFP_TRANSHUGE = GFP_TRANSHUGE_LIGHT | __GFP_DIRECT_RECLAIM;

/** mm/internal.h: the flags that say how hard to reclaim, passed on to a slab's pages. */
export const GFP_RECLAIM_MASK =
  __GFP_RECLAIM |
  __GFP_HIGH |
  __GFP_IO |
  __GFP_FS |
  __GFP_NOWARN |
  __GFP_RETRY_MAYFAIL |
  __GFP_NOFAIL |
  __GFP_NORETRY |
  __GFP_MEMALLOC |
  __GFP_NOMEMALLOC |
  __GFP_NOLOCKDEP;
/** mm/internal.h: the placement constraints passed on to a slab's pages. */
export const GFP_CONSTRAINT_MASK = __GFP_HARDWALL | __GFP_THISNODE;
/** mm/slab.h: flags a slab allocation must not carry (kmalloc_fix_flags() drops them). */
export const GFP_SLAB_BUG_MASK = (__GFP_DMA32 | __GFP_HIGHMEM | ~__GFP_BITS_MASK) >>> 0;

/** The mobility bits gfp_migratetype() reads (gfp.h). */
export const GFP_MOVABLE_MASK = __GFP_RECLAIMABLE | __GFP_MOVABLE;
export const GFP_MOVABLE_SHIFT = 3;

// ---- Checks and queries -------------------------------------------------

/**
 * Throw unless `gfp` is a GFP mask: an integer in [0, 2^32). Bits the kernel
 * does not define are allowed, as in the kernel (%pGg prints them as hex).
 * For the API boundary; the helpers below assume it has been done.
 */
export function checkGfp(gfp: unknown, name = 'gfp'): asserts gfp is number {
  if (typeof gfp !== 'number' || !Number.isInteger(gfp)) {
    throw new TypeError(`${name} must be an integer GFP mask, got ${String(gfp)}`);
  }
  if (gfp < 0 || gfp > 0xffffffff) {
    throw new RangeError(`${name} must be in [0, 0xffffffff], got ${gfp}`);
  }
}

/**
 * Masks and tables for gfp_zone() and gfp_migratetype() as a const enum, so the
 * allocation fast path holds the numbers.
 *
 * ZONE_TABLE is the kernel's GFP_ZONE_TABLE: the zone each combination of the
 * four zone bits selects, ZONES_SHIFT (2) bits per combination, indexed by
 * (gfp & GFP_ZONEMASK). On x86-64 ZONE_DMA and ZONE_DMA32 exist and HIGHMEM
 * does not, so __GFP_HIGHMEM means NORMAL; __GFP_MOVABLE reaches ZONE_MOVABLE
 * only together with __GFP_HIGHMEM, and with DMA or DMA32 keeps their zone:
 *
 *   0 NORMAL   DMA → DMA   HIGHMEM → NORMAL   DMA32 → DMA32
 *   MOVABLE → NORMAL   MOVABLE|DMA → DMA   MOVABLE|HIGHMEM → MOVABLE   MOVABLE|DMA32 → DMA32
 *
 * ZONE_BAD is GFP_ZONE_BAD: one bit per combination the kernel forbids, more
 * than one of DMA, DMA32, HIGHMEM (3, 5, 6, 7, 11, 13, 14, 15).
 */
export const enum GfpMask {
  /** GFP_ZONEMASK: __GFP_DMA | __GFP_HIGHMEM | __GFP_DMA32 | __GFP_MOVABLE. */
  ZONEMASK = 0xf,
  ZONES_SHIFT = 2,
  /**
   * Two bits per combination, ZONE_* numbers: combination 0 → 2 (NORMAL),
   * 1 → 0, 2 → 2, 4 → 1, 8 → 2, 9 → 0, 10 → 3 (MOVABLE), 12 → 1.
   */
  ZONE_TABLE = 0x1320122,
  /** Combinations 3, 5, 6, 7, 11, 13, 14 and 15. */
  ZONE_BAD = 0xe8e8,
  /** GFP_MOVABLE_MASK: the mobility bits gfp_migratetype() reads. */
  MOVABLE_MASK = 0x18,
  /**
   * Flags kmalloc() serves from the normal caches: any 31-bit value without
   * KMALLOC_NOT_NORMAL_BITS (__GFP_RECLAIMABLE | __GFP_DMA | __GFP_ACCOUNT).
   * (gfp & this) === gfp is then one test for valid and normal.
   */
  KMALLOC_NORMAL = 0x7fbfffee,
  MOVABLE_SHIFT = 3,
}

/**
 * gfp_zone(): the highest zone an allocation with `gfp` may use. A forbidden
 * mix of zone modifiers (the kernel's VM_BUG_ON on GFP_ZONE_BAD) throws a
 * RangeError naming `gfp`.
 */
export function gfpZone(gfp: number): number {
  const bit = gfp & GfpMask.ZONEMASK;
  if (((GfpMask.ZONE_BAD >> bit) & 1) !== 0) gfpZoneBad(gfp);
  return (GfpMask.ZONE_TABLE >> (bit * GfpMask.ZONES_SHIFT)) & ((1 << GfpMask.ZONES_SHIFT) - 1);
}

/** The GFP_ZONE_BAD report, out of line so gfpZone() stays small. */
function gfpZoneBad(gfp: number): never {
  throw new RangeError(`gfp ${formatGfpMode(gfp)} combines zone modifiers that cannot go together (GFP_ZONE_BAD)`);
}

/**
 * gfp_migratetype(): the free-list type an allocation comes from, read
 * straight from the mobility bits: none → UNMOVABLE, __GFP_MOVABLE →
 * MOVABLE, __GFP_RECLAIMABLE → RECLAIMABLE. Both bits at once is a caller
 * bug the kernel only warns about under CONFIG_DEBUG_VM; like the kernel's
 * arithmetic it then yields 3, MIGRATE_HIGHATOMIC. With
 * page_group_by_mobility_disabled (little memory) everything is UNMOVABLE.
 */
export function gfpMigratetype(gfp: number, pageGroupByMobilityDisabled = false): number {
  if (pageGroupByMobilityDisabled) return MT.UNMOVABLE;
  return (gfp & GfpMask.MOVABLE_MASK) >> GfpMask.MOVABLE_SHIFT;
}

// The arithmetic above relies on these; keep it honest if mmzone.ts changes.
if (
  __GFP_MOVABLE >> GFP_MOVABLE_SHIFT !== MIGRATE_MOVABLE ||
  __GFP_RECLAIMABLE >> GFP_MOVABLE_SHIFT !== MIGRATE_RECLAIMABLE ||
  GFP_MOVABLE_MASK >> GFP_MOVABLE_SHIFT !== MIGRATE_HIGHATOMIC ||
  GfpMask.MOVABLE_MASK !== GFP_MOVABLE_MASK ||
  GfpMask.MOVABLE_SHIFT !== GFP_MOVABLE_SHIFT ||
  GfpMask.ZONEMASK !== GFP_ZONEMASK
) {
  throw new Error('gfp.ts: migratetype numbering no longer matches the GFP mobility bits');
}

// GFP_ZONE_TABLE and GFP_ZONE_BAD, written out as numbers in GfpMask, checked
// against the zones they stand for.
{
  const want = [ZONE.NORMAL, ZONE.DMA, ZONE.NORMAL, -1, ZONE.DMA32, -1, -1, -1];
  const movable = [ZONE.NORMAL, ZONE.DMA, ZONE.MOVABLE, -1, ZONE.DMA32, -1, -1, -1];
  for (let bits = 0; bits < 16; bits++) {
    const z = (bits & __GFP_MOVABLE ? movable : want)[bits & 7]!;
    const bad = ((GfpMask.ZONE_BAD >> bits) & 1) !== 0;
    const got = (GfpMask.ZONE_TABLE >> (bits * GfpMask.ZONES_SHIFT)) & 3;
    if (bad !== z < 0 || (z >= 0 && got !== z)) throw new Error(`gfp.ts: GFP_ZONE_TABLE is wrong for zone bits ${bits}`);
  }
}

/** gfpflags_allow_blocking(): the caller may sleep in direct reclaim. */
export function gfpAllowsBlocking(gfp: number): boolean {
  return (gfp & __GFP_DIRECT_RECLAIM) !== 0;
}

/** gfpflags_allow_spinning(): either reclaim bit is set (all but alloc_pages_nolock()). */
export function gfpAllowsSpinning(gfp: number): boolean {
  return (gfp & __GFP_RECLAIM) !== 0;
}

/** gfp_has_flags(): every bit of `flags` is set in `gfp`. */
export function gfpHasFlags(gfp: number, flags: number): boolean {
  return (gfp & flags) === flags;
}

/** gfp_has_io_fs(): both __GFP_IO and __GFP_FS are set. */
export function gfpHasIoFs(gfp: number): boolean {
  return gfpHasFlags(gfp, __GFP_IO | __GFP_FS);
}

/** gfp_compaction_allowed() with CONFIG_COMPACTION: compaction needs __GFP_IO. */
export function gfpCompactionAllowed(gfp: number): boolean {
  return (gfp & __GFP_IO) !== 0;
}

/**
 * gfp_nested_mask(): the mask for an allocation made inside another one:
 * keep only its context bits, and make it fail fast and quietly.
 */
export function gfpNestedMask(gfp: number): number {
  return (gfp & (GFP_KERNEL | GFP_ATOMIC | __GFP_NOLOCKDEP)) | __GFP_NORETRY | __GFP_NOMEMALLOC | __GFP_NOWARN;
}

// ---- Printing -----------------------------------------------------------

/**
 * __def_gfpflag_names: what %pGg prints, in the order it tries them. The
 * composites come first, most bits first, so GFP_KERNEL wins over its
 * parts; then every single flag in bit order (TRACE_GFP_FLAGS, 6.15 and
 * later: before that the single flags had a hand-made order, e.g.
 * __GFP_RECLAIMABLE and __GFP_ZERO after __GFP_COMP), ending with
 * __GFP_NO_OBJ_EXT under CONFIG_SLAB_OBJ_EXT. __GFP_SKIP_* and
 * __GFP_NOLOCKDEP have no entry in this configuration.
 */
export const gfpflagNames: readonly FlagName[] = [
  [GFP_TRANSHUGE, 'GFP_TRANSHUGE'],
  [GFP_TRANSHUGE_LIGHT, 'GFP_TRANSHUGE_LIGHT'],
  [GFP_HIGHUSER_MOVABLE, 'GFP_HIGHUSER_MOVABLE'],
  [GFP_HIGHUSER, 'GFP_HIGHUSER'],
  [GFP_USER, 'GFP_USER'],
  [GFP_KERNEL_ACCOUNT, 'GFP_KERNEL_ACCOUNT'],
  [GFP_KERNEL, 'GFP_KERNEL'],
  [GFP_NOFS, 'GFP_NOFS'],
  [GFP_ATOMIC, 'GFP_ATOMIC'],
  [GFP_NOIO, 'GFP_NOIO'],
  [GFP_NOWAIT, 'GFP_NOWAIT'],
  [GFP_DMA, 'GFP_DMA'],
  [GFP_DMA32, 'GFP_DMA32'],
  [__GFP_RECLAIM, '__GFP_RECLAIM'],
  [__GFP_DMA, '__GFP_DMA'],
  [__GFP_HIGHMEM, '__GFP_HIGHMEM'],
  [__GFP_DMA32, '__GFP_DMA32'],
  [__GFP_MOVABLE, '__GFP_MOVABLE'],
  [__GFP_RECLAIMABLE, '__GFP_RECLAIMABLE'],
  [__GFP_HIGH, '__GFP_HIGH'],
  [__GFP_IO, '__GFP_IO'],
  [__GFP_FS, '__GFP_FS'],
  [__GFP_ZERO, '__GFP_ZERO'],
  [__GFP_DIRECT_RECLAIM, '__GFP_DIRECT_RECLAIM'],
  [__GFP_KSWAPD_RECLAIM, '__GFP_KSWAPD_RECLAIM'],
  [__GFP_WRITE, '__GFP_WRITE'],
  [__GFP_NOWARN, '__GFP_NOWARN'],
  [__GFP_RETRY_MAYFAIL, '__GFP_RETRY_MAYFAIL'],
  [__GFP_NOFAIL, '__GFP_NOFAIL'],
  [__GFP_NORETRY, '__GFP_NORETRY'],
  [__GFP_MEMALLOC, '__GFP_MEMALLOC'],
  [__GFP_COMP, '__GFP_COMP'],
  [__GFP_NOMEMALLOC, '__GFP_NOMEMALLOC'],
  [__GFP_HARDWALL, '__GFP_HARDWALL'],
  [__GFP_THISNODE, '__GFP_THISNODE'],
  [__GFP_ACCOUNT, '__GFP_ACCOUNT'],
  [__GFP_ZEROTAGS, '__GFP_ZEROTAGS'],
  [__GFP_NO_OBJ_EXT, '__GFP_NO_OBJ_EXT'],
];

/**
 * `%pGg`: the names of a GFP mask, e.g. "GFP_KERNEL|__GFP_ZERO"; bits no name
 * claims end it as hex ("GFP_KERNEL|0x200"); 0 prints "".
 */
export function formatGfp(gfp: number): string {
  return formatFlags(gfp, gfpflagNames);
}

/**
 * `%#x(%pGg)`, the form of warn_alloc's "mode:", page_owner's "gfp_mask" and
 * SLUB's "gfp=": "0xcc0(GFP_KERNEL)"; 0 prints "0x0()".
 */
export function formatGfpMode(gfp: number): string {
  return `${hexPrefixed(gfp >>> 0)}(${formatGfp(gfp >>> 0)})`;
}

const GFP_BY_NAME = new Map<string, number>();
for (const [v, name] of gfpflagNames) {
  GFP_BY_NAME.set(name, v);
  // 2.6/3.x kernels printed several single flags without the underscores
  if (name.startsWith('__GFP_') && !GFP_BY_NAME.has(name.slice(2))) GFP_BY_NAME.set(name.slice(2), v);
}
GFP_BY_NAME.set('GFP_NOWAIT', __GFP_KSWAPD_RECLAIM | __GFP_NOWARN);
GFP_BY_NAME.set('GFP_IOFS', __GFP_IO | __GFP_FS);
GFP_BY_NAME.set('GFP_TEMPORARY', GFP_KERNEL | __GFP_RECLAIMABLE);
GFP_BY_NAME.set('none', 0);

/**
 * The reverse of formatGfp(): gfp_flags as a trace prints them
 * (`GFP_KERNEL|__GFP_ZERO`, `0xcc0`, `none`, or names and a hex rest like
 * `GFP_KERNEL|0x1000000`, which is how show_gfp_flags() prints bits no name
 * covers) as a mask; names kmem does not know count for nothing.
 */
export function parseGfpText(text: string): number {
  if (text.length > 2 && text.charCodeAt(0) === 48 && (text.charCodeAt(1) | 0x20) === 120) {
    const v = Number.parseInt(text.slice(2), 16);
    return Number.isFinite(v) ? v & 0x7fffffff : 0;
  }
  let m = 0;
  for (const part of text.split('|')) {
    const v = GFP_BY_NAME.get(part);
    if (v !== undefined) m |= v;
    else if (part.startsWith('0x')) m |= Number.parseInt(part.slice(2), 16) || 0;
  }
  return m & 0x7fffffff;
}
