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

export const MAX_PAGE_ORDER = 10;
export const NR_PAGE_ORDERS = MAX_PAGE_ORDER + 1;
export const PAGE_ALLOC_COSTLY_ORDER = 3;
/** x86-64 with THP: HPAGE_PMD_ORDER. */
export const pageblock_order = 9;
export const pageblock_nr_pages = 1 << pageblock_order;

// Migratetypes as a Debian x86-64 6.x kernel has them (no CONFIG_CMA).
export const MIGRATE_UNMOVABLE = 0;
export const MIGRATE_MOVABLE = 1;
export const MIGRATE_RECLAIMABLE = 2;
export const MIGRATE_PCPTYPES = 3;
export const MIGRATE_HIGHATOMIC = MIGRATE_PCPTYPES;
export const MIGRATE_ISOLATE = 4;
export const MIGRATE_TYPES = 5;
export const migratetypeNames = ['Unmovable', 'Movable', 'Reclaimable', 'HighAtomic', 'Isolate'] as const;

export const ZONE_DMA = 0;
export const ZONE_DMA32 = 1;
export const ZONE_NORMAL = 2;
export const ZONE_MOVABLE = 3;
export const ZONE_DEVICE = 4;
export const MAX_NR_ZONES = 5;
export const zoneNames = ['DMA', 'DMA32', 'Normal', 'Movable', 'Device'] as const;

/** Boundaries of the x86-64 zones, in pfns: DMA below 16 MiB, DMA32 below 4 GiB. */
export const MAX_DMA_PFN = (16 << 20) >>> 12;
export const MAX_DMA32_PFN = 0x100000;

export const WMARK_MIN = 0;
export const WMARK_LOW = 1;
export const WMARK_HIGH = 2;
export const WMARK_PROMO = 3;
export const NR_WMARK = 4;

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

/** Per-zone scalar fields, each an index into Zones.f (a Float64Array row per zone). */
export const Z_START_PFN = 0;
export const Z_SPANNED = 1;
export const Z_PRESENT = 2;
export const Z_MANAGED = 3;
export const Z_FREE = 4; // NR_FREE_PAGES
export const Z_WMARK = 5; // 4 slots: min, low, high, promo
export const Z_BOOST = 9;
export const Z_LOWMEM_RESERVE = 10; // MAX_NR_ZONES slots
export const Z_PGALLOC = 15;
export const Z_RESERVED_HIGHATOMIC = 16;
export const Z_FREE_HIGHATOMIC = 17;
export const Z_PCP_BATCH = 18;
export const Z_PCP_HIGH_MIN = 19;
export const Z_PCP_HIGH_MAX = 20;
export const Z_FIELDS = 21;

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

  constructor(nrPages: number, shared: boolean) {
    const B = shared ? SharedArrayBuffer : ArrayBuffer;
    const lists = MAX_NR_ZONES * NR_PAGE_ORDERS * MIGRATE_TYPES;
    this.f = new Float64Array(new B(MAX_NR_ZONES * Z_FIELDS * 8));
    this.freeHead = new Int32Array(new B(lists * 4)).fill(-1);
    this.freeTail = new Int32Array(new B(lists * 4)).fill(-1);
    this.freeCount = new Int32Array(new B(lists * 4));
    this.nrFree = new Int32Array(new B(MAX_NR_ZONES * NR_PAGE_ORDERS * 4));
    const blocks = Math.ceil(nrPages / pageblock_nr_pages);
    this.pageblockMt = new Uint8Array(new B(blocks));
    this.pageblockZone = new Uint8Array(new B(blocks));
  }

  get(zone: number, field: number): number {
    return this.f[zone * Z_FIELDS + field]!;
  }
  set(zone: number, field: number, v: number): void {
    this.f[zone * Z_FIELDS + field] = v;
  }
  add(zone: number, field: number, d: number): void {
    this.f[zone * Z_FIELDS + field]! += d;
  }
  populated(zone: number): boolean {
    return this.f[zone * Z_FIELDS + Z_PRESENT]! > 0;
  }
  wmark(zone: number, which: number): number {
    return this.f[zone * Z_FIELDS + Z_WMARK + which]!;
  }
}

export function listIndex(zone: number, order: number, mt: number): number {
  return (zone * NR_PAGE_ORDERS + order) * MIGRATE_TYPES + mt;
}
