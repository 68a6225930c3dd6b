/**
 * Boot-time sizing of the page allocator (mm/page_alloc.c):
 * min_free_kbytes, the per-zone watermarks, lowmem_reserve, and the per-CPU
 * pageset batch and high limits. None of this runs on a hot path.
 */
import {
  lowmemReserveRatio,
  MAX_NR_ZONES,
  pageblock_nr_pages,
  WMARK_HIGH,
  WMARK_LOW,
  WMARK_MIN,
  WMARK_PROMO,
  Z_LOWMEM_RESERVE,
  Z_MANAGED,
  Z_PCP_BATCH,
  Z_PCP_HIGH_MAX,
  Z_PCP_HIGH_MIN,
  Z_WMARK,
  ZONE_MOVABLE,
  ZONE_NORMAL,
  type Zones,
} from './mmzone.js';

const PAGE_SHIFT = 12;
/** vm.watermark_scale_factor default: 0.1% of the zone. */
export const WATERMARK_SCALE_FACTOR = 10;
/** MIN_PERCPU_PAGELIST_HIGH_FRACTION: the bound used for high_max. */
export const MIN_PERCPU_PAGELIST_HIGH_FRACTION = 8;

export function intSqrt(x: number): number {
  let r = Math.floor(Math.sqrt(x));
  while (r * r > x) r--;
  while ((r + 1) * (r + 1) <= x) r++;
  return r;
}

/**
 * calculate_min_free_kbytes(): sqrt(lowmem_kbytes * 16), clamped to
 * 128..262144 as in 6.x. lowmemPages is nr_free_buffer_pages() at the time,
 * which before any watermark exists is every managed page up to ZONE_NORMAL.
 */
export function calculateMinFreeKbytes(lowmemPages: number): number {
  const lowmemKbytes = lowmemPages * (4096 / 1024);
  const v = intSqrt(lowmemKbytes * 16);
  return Math.min(Math.max(v, 128), 262144);
}

/**
 * set_recommended_min_free_kbytes() (mm/khugepaged.c), run when THP is
 * enabled once the first watermarks exist: room for 2 + MIGRATE_PCPTYPES^2
 * free pageblocks per populated zone up to ZONE_NORMAL, at most 5% of
 * nr_free_buffer_pages() (managed pages above each zone's high watermark),
 * in kB. The caller raises min_free_kbytes to it when it is larger.
 */
export function recommendedMinFreeKbytes(zones: Zones): number {
  let nrZones = 0;
  let freeBuffer = 0;
  for (let z = 0; z <= ZONE_NORMAL; z++) {
    if (!zones.populated(z)) continue;
    nrZones++;
    freeBuffer += Math.max(0, zones.get(z, Z_MANAGED) - zones.wmark(z, WMARK_HIGH));
  }
  const pcpTypes = 3; // MIGRATE_PCPTYPES
  const recommended = Math.min(pageblock_nr_pages * nrZones * (2 + pcpTypes * pcpTypes), Math.floor(freeBuffer / 20));
  return recommended << (PAGE_SHIFT - 10);
}

/**
 * __setup_per_zone_wmarks(): each zone gets its share of min_free_kbytes in
 * proportion to its managed pages; low, high and promo each add
 * max(min/4, managed * watermark_scale_factor / 10000).
 */
export function setupPerZoneWmarks(zones: Zones, minFreeKbytes: number): void {
  const pagesMin = minFreeKbytes >> (PAGE_SHIFT - 10);
  let lowmemPages = 0;
  for (let z = 0; z < MAX_NR_ZONES; z++) {
    if (z !== ZONE_MOVABLE) lowmemPages += zones.get(z, Z_MANAGED);
  }
  for (let z = 0; z < MAX_NR_ZONES; z++) {
    const managed = zones.get(z, Z_MANAGED);
    let tmp = lowmemPages > 0 ? Math.floor((pagesMin * managed) / lowmemPages) : 0;
    let min: number;
    if (z === ZONE_MOVABLE) {
      min = Math.min(Math.max(Math.floor(managed / 1024), 32), 128);
    } else {
      min = tmp;
    }
    tmp = Math.max(tmp >> 2, Math.floor((managed * WATERMARK_SCALE_FACTOR) / 10000));
    zones.set(z, Z_WMARK + WMARK_MIN, min);
    zones.set(z, Z_WMARK + WMARK_LOW, min + tmp);
    zones.set(z, Z_WMARK + WMARK_HIGH, min + 2 * tmp);
    zones.set(z, Z_WMARK + WMARK_PROMO, min + 3 * tmp);
  }
}

/**
 * setup_per_zone_lowmem_reserve(): a lower zone keeps back, from allocations
 * that could have used a higher zone j, the managed pages of the zones above
 * it up to j divided by its sysctl_lowmem_reserve_ratio.
 */
export function setupPerZoneLowmemReserve(zones: Zones): void {
  for (let i = 0; i < MAX_NR_ZONES; i++) {
    const ratio = lowmemReserveRatio[i]!;
    const clear = ratio === 0 || zones.get(i, Z_MANAGED) === 0;
    let managedAbove = 0;
    zones.set(i, Z_LOWMEM_RESERVE + i, 0);
    for (let j = i + 1; j < MAX_NR_ZONES; j++) {
      managedAbove += zones.get(j, Z_MANAGED);
      zones.set(i, Z_LOWMEM_RESERVE + j, clear ? 0 : Math.floor(managedAbove / ratio));
    }
  }
}

function roundDownPowOfTwo(n: number): number {
  let p = 1;
  while (p * 2 <= n) p *= 2;
  return p;
}

/**
 * zone_batchsize(): about a quarter of a megabyte per 1 GiB of zone, clamped
 * to 2^n - 1 so that batches do not alias cache colours. 0 for small zones.
 */
export function zoneBatchsize(managed: number): number {
  let batch = Math.min(Math.floor(managed / 1024), (1 << 20) / 4096);
  batch = Math.floor(batch / 4);
  if (batch < 1) batch = 1;
  return roundDownPowOfTwo(batch + (batch >> 1)) - 1;
}

/**
 * zone_highsize(): by default the zone's low watermark split over the CPUs of
 * the node, so that full pcp lists never push the zone below low; with a
 * fraction, managed/fraction split the same way. Never below 4 batches.
 */
export function zoneHighsize(lowWmark: number, managed: number, batch: number, cpus: number, fraction: number): number {
  const total = fraction === 0 ? lowWmark : Math.floor(managed / fraction);
  const high = Math.floor(total / cpus);
  return Math.max(high, batch << 2);
}

/** zone_set_pageset_high_and_batch(): the values every CPU's pageset gets. */
export function zoneSetPagesetHighAndBatch(zones: Zones, zone: number, cpus: number): void {
  const managed = zones.get(zone, Z_MANAGED);
  const batch = Math.max(1, zoneBatchsize(managed));
  const low = zones.get(zone, Z_WMARK + WMARK_LOW);
  zones.set(zone, Z_PCP_BATCH, batch);
  zones.set(zone, Z_PCP_HIGH_MIN, zoneHighsize(low, managed, batch, cpus, 0));
  zones.set(zone, Z_PCP_HIGH_MAX, zoneHighsize(low, managed, batch, cpus, MIN_PERCPU_PAGELIST_HIGH_FRACTION));
}
