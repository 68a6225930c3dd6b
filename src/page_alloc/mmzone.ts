/**
 * Zones, free areas and pageblocks (include/linux/mmzone.h).
 *
 * Every number the buddy allocator keeps lives in a typed array so that the
 * whole state can sit in a SharedArrayBuffer. A zone is an index 0..NR_ZONES-1
 * (ZONE_DMA, ZONE_DMA32, ZONE_NORMAL, ZONE_MOVABLE, ZONE_DEVICE as on x86-64).
 *
 * Free lists are doubly linked lists of pfns threaded through struct page's
 * next/prev; one list per (zone, order, migratetype):
 *
 *   freeHead[(zone * NR_PAGE_ORDERS + order) * MIGRATE_TYPES + mt]  first pfn or -1
 *   freeTail[...]                                                    last pfn or -1
 *   freeCount[...]                                                   blocks on that list
 *   nrFree[zone * NR_PAGE_ORDERS + order]                            free_area[order].nr_free
 */

/**
 * Orders and pageblock geometry as a const enum, so compiled hot paths hold the
 * numbers (an imported or module-level const costs a load and a hole check per
 * use); the MAX_PAGE_ORDER-style names below alias it for the rest of the code.
 */
export const enum Order {
  MAX = 10,
  NR = MAX + 1,
  COSTLY = 3,
  /** x86-64 with THP: HPAGE_PMD_ORDER. */
  PAGEBLOCK = 9,
  PAGEBLOCK_NR_PAGES = 1 << PAGEBLOCK,
}
export const MAX_PAGE_ORDER: number = Order.MAX;
export const NR_PAGE_ORDERS: number = Order.NR;
export const PAGE_ALLOC_COSTLY_ORDER: number = Order.COSTLY;
/** x86-64 with THP: HPAGE_PMD_ORDER. */
export const pageblock_order: number = Order.PAGEBLOCK;
export const pageblock_nr_pages: number = Order.PAGEBLOCK_NR_PAGES;

/** Migratetypes as a Debian x86-64 6.x kernel has them (no CONFIG_CMA); MIGRATE_* alias them. */
export const enum MT {
  UNMOVABLE = 0,
  MOVABLE = 1,
  RECLAIMABLE = 2,
  PCPTYPES = 3,
  HIGHATOMIC = PCPTYPES,
  ISOLATE = 4,
  TYPES = 5,
}
export const MIGRATE_UNMOVABLE: number = MT.UNMOVABLE;
export const MIGRATE_MOVABLE: number = MT.MOVABLE;
export const MIGRATE_RECLAIMABLE: number = MT.RECLAIMABLE;
export const MIGRATE_PCPTYPES: number = MT.PCPTYPES;
export const MIGRATE_HIGHATOMIC: number = MT.HIGHATOMIC;
export const MIGRATE_ISOLATE: number = MT.ISOLATE;
export const MIGRATE_TYPES: number = MT.TYPES;
export const migratetypeNames = ['Unmovable', 'Movable', 'Reclaimable', 'HighAtomic', 'Isolate'] as const;

/** Zone ids (enum zone_type on x86-64); ZONE_* alias them. */
export const enum ZONE {
  DMA = 0,
  DMA32 = 1,
  NORMAL = 2,
  MOVABLE = 3,
  DEVICE = 4,
  MAX_NR = 5,
}
export const ZONE_DMA: number = ZONE.DMA;
export const ZONE_DMA32: number = ZONE.DMA32;
export const ZONE_NORMAL: number = ZONE.NORMAL;
export const ZONE_MOVABLE: number = ZONE.MOVABLE;
export const ZONE_DEVICE: number = ZONE.DEVICE;
export const MAX_NR_ZONES: number = ZONE.MAX_NR;
export const zoneNames = ['DMA', 'DMA32', 'Normal', 'Movable', 'Device'] as const;

/** Boundaries of the x86-64 zones, in pfns: DMA below 16 MiB, DMA32 below 4 GiB. */
export const MAX_DMA_PFN = (16 << 20) >>> 12;
export const MAX_DMA32_PFN = 0x100000;

/** enum zone_watermarks; WMARK_* alias it. */
export const enum WMARK {
  MIN = 0,
  LOW = 1,
  HIGH = 2,
  PROMO = 3,
  NR = 4,
}
export const WMARK_MIN: number = WMARK.MIN;
export const WMARK_LOW: number = WMARK.LOW;
export const WMARK_HIGH: number = WMARK.HIGH;
export const WMARK_PROMO: number = WMARK.PROMO;
export const NR_WMARK: number = WMARK.NR;

/** sysctl_lowmem_reserve_ratio defaults, per zone. */
export const lowmemReserveRatio = [256, 256, 32, 0, 0] as const;

/**
 * Fallback order when a migratetype's own lists are empty (mm/page_alloc.c
 * `fallbacks[]`): unmovable steals from reclaimable, then movable, and so on.
 */
export const fallbacks: readonly (readonly number[])[] = [
  [MIGRATE_RECLAIMABLE, MIGRATE_MOVABLE],
  [MIGRATE_RECLAIMABLE, MIGRATE_UNMOVABLE],
  [MIGRATE_UNMOVABLE, MIGRATE_MOVABLE],
];

/** Per-zone scalar fields, each an index into Zones.f (a Float64Array row per zone); Z_* alias them. */
export const enum Z {
  START_PFN = 0,
  SPANNED = 1,
  PRESENT = 2,
  MANAGED = 3,
  /** NR_FREE_PAGES */
  FREE = 4,
  /** 4 slots: min, low, high, promo */
  WMARK = 5,
  BOOST = 9,
  /** MAX_NR_ZONES slots */
  LOWMEM_RESERVE = 10,
  PGALLOC = 15,
  RESERVED_HIGHATOMIC = 16,
  FREE_HIGHATOMIC = 17,
  PCP_BATCH = 18,
  PCP_HIGH_MIN = 19,
  PCP_HIGH_MAX = 20,
  FIELDS = 21,
}
export const Z_START_PFN: number = Z.START_PFN;
export const Z_SPANNED: number = Z.SPANNED;
export const Z_PRESENT: number = Z.PRESENT;
export const Z_MANAGED: number = Z.MANAGED;
export const Z_FREE: number = Z.FREE; // NR_FREE_PAGES
export const Z_WMARK: number = Z.WMARK; // 4 slots: min, low, high, promo
export const Z_BOOST: number = Z.BOOST;
export const Z_LOWMEM_RESERVE: number = Z.LOWMEM_RESERVE; // MAX_NR_ZONES slots
export const Z_PGALLOC: number = Z.PGALLOC;
export const Z_RESERVED_HIGHATOMIC: number = Z.RESERVED_HIGHATOMIC;
export const Z_FREE_HIGHATOMIC: number = Z.FREE_HIGHATOMIC;
export const Z_PCP_BATCH: number = Z.PCP_BATCH;
export const Z_PCP_HIGH_MIN: number = Z.PCP_HIGH_MIN;
export const Z_PCP_HIGH_MAX: number = Z.PCP_HIGH_MAX;
export const Z_FIELDS: number = Z.FIELDS;

/** Entries of Zones.pcpFastKey: one per gfp & (GFP_ZONEMASK | GFP_MOVABLE_MASK). */
export const PCP_FAST_KEYS = 32;

/** All zones' state: scalar fields and the free_area lists. */
export class Zones {
  readonly f: Float64Array;
  readonly freeHead: Int32Array;
  readonly freeTail: Int32Array;
  readonly freeCount: Int32Array;
  readonly nrFree: Int32Array;
  /** Migratetype per pageblock (pfn >> pageblock_order). */
  readonly pageblockMt: Uint8Array;
  /** Zone index per pageblock, for page_zone(). */
  readonly pageblockZone: Uint8Array;
  /**
   * The order-0 watermark cache of zone_watermark_fast(): per (zone, highest
   * allowed zone, watermark) without reserves, the NR_FREE_PAGES at which the
   * check last passed, or -1. The answer depends only on that free count and
   * on fields written through set()/add(), which clear the cache, so an equal
   * free count means the same answer.
   */
  readonly wmarkOk0: Float64Array;
  /**
   * The order-0 fast path's gate (src/page_alloc/fastpath.ts), per gfp &
   * (GFP_ZONEMASK | GFP_MOVABLE_MASK): PageAlloc's pcpFastKeyAll entry while
   * that request's low-watermark check is known to pass at the zone's
   * current free count, else -1. Opened by PageAlloc when a check passes,
   * closed when the zone's free count changes and by set()/add().
   */
  readonly pcpFastKey: Int32Array;
  /** Per wmarkOk0 slot: are its keys in pcpFastKey open? */
  readonly fastSlotOpen: Uint8Array;
  /** Per zone: is any of its keys in pcpFastKey open? */
  readonly fastZoneOpen: Uint8Array;

  constructor(nrPages: number, shared: boolean) {
    const B = shared ? SharedArrayBuffer : ArrayBuffer;
    const lists = ZONE.MAX_NR * Order.NR * MT.TYPES;
    this.f = new Float64Array(new B(ZONE.MAX_NR * Z.FIELDS * 8));
    this.freeHead = new Int32Array(new B(lists * 4)).fill(-1);
    this.freeTail = new Int32Array(new B(lists * 4)).fill(-1);
    this.freeCount = new Int32Array(new B(lists * 4));
    this.nrFree = new Int32Array(new B(ZONE.MAX_NR * Order.NR * 4));
    const blocks = Math.ceil(nrPages / Order.PAGEBLOCK_NR_PAGES);
    this.pageblockMt = new Uint8Array(new B(blocks));
    this.pageblockZone = new Uint8Array(new B(blocks));
    this.wmarkOk0 = new Float64Array(new B(ZONE.MAX_NR * ZONE.MAX_NR * WMARK.NR * 8)).fill(-1);
    this.pcpFastKey = new Int32Array(new B(PCP_FAST_KEYS * 4)).fill(-1);
    this.fastSlotOpen = new Uint8Array(new B(ZONE.MAX_NR * ZONE.MAX_NR * WMARK.NR));
    this.fastZoneOpen = new Uint8Array(new B(ZONE.MAX_NR));
  }

  get(zone: number, field: number): number {
    return this.f[zone * Z.FIELDS + field]!;
  }
  set(zone: number, field: number, v: number): void {
    this.f[zone * Z.FIELDS + field] = v;
    this.wmarkCacheClear();
  }
  add(zone: number, field: number, d: number): void {
    this.f[zone * Z.FIELDS + field]! += d;
    this.wmarkCacheClear();
  }
  /** A zone field changed: no cached watermark answer stands, and the fast path's gate closes. */
  private wmarkCacheClear(): void {
    this.wmarkOk0.fill(-1);
    this.pcpFastKey.fill(-1);
    this.fastSlotOpen.fill(0);
    this.fastZoneOpen.fill(0);
  }
  populated(zone: number): boolean {
    return this.f[zone * Z.FIELDS + Z.PRESENT]! > 0;
  }
  wmark(zone: number, which: number): number {
    return this.f[zone * Z.FIELDS + Z.WMARK + which]!;
  }
}

/** The free list of (zone, order, migratetype): an index into Zones.freeHead/freeTail/freeCount. */
export function listIndex(zone: number, order: number, mt: number): number {
  return (zone * Order.NR + order) * MT.TYPES + mt;
}
