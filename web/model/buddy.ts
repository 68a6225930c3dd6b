/**
 * The buddy panel's view-model: per populated zone, the free_area table
 * (orders × migratetypes, the numbers /proc/pagetypeinfo prints), nr_free
 * per order (/proc/buddyinfo), the watermarks against the free pages, and
 * the fragmentation indices per order (debugfs extfrag/unusable_index and
 * extfrag_index), computed by the same functions that render those files.
 */
import type { Kernel } from '../../src/kernel.js';
import { listIndex, MAX_NR_ZONES, MIGRATE_TYPES, migratetypeNames, NR_PAGE_ORDERS, WMARK_HIGH, WMARK_LOW, WMARK_MIN, Z_FREE, Z_MANAGED, Z_PRESENT, zoneNames } from '../../src/page_alloc/mmzone.js';
import { fillContigPageInfo, fragmentationIndex, unusableFreeIndex } from '../../src/proc/buddyinfo.js';

export interface ZoneBuddy {
  zone: number;
  name: string;
  /** freeCount[mt][order]: free blocks on each free list. */
  free: number[][];
  /** nr_free per order (all migratetypes). */
  nrFree: number[];
  freePages: number;
  managed: number;
  pcpPages: number;
  wmark: { min: number; low: number; high: number };
  /** Thousandths, as the debugfs files print them divided by 1000. */
  unusable: number[];
  extfrag: number[];
}

export const MT_NAMES = migratetypeNames;

export function buddyView(k: Kernel): ZoneBuddy[] {
  const pa = k.pageAlloc;
  const zs = pa.zones;
  const out: ZoneBuddy[] = [];
  for (let z = 0; z < MAX_NR_ZONES; z++) {
    if (zs.get(z, Z_PRESENT) <= 0) continue;
    const free: number[][] = [];
    for (let mt = 0; mt < MIGRATE_TYPES; mt++) {
      const row: number[] = [];
      for (let o = 0; o < NR_PAGE_ORDERS; o++) row.push(zs.freeCount[listIndex(z, o, mt)]!);
      free.push(row);
    }
    const nrFree: number[] = [];
    const unusable: number[] = [];
    const extfrag: number[] = [];
    for (let o = 0; o < NR_PAGE_ORDERS; o++) {
      nrFree.push(zs.nrFree[z * NR_PAGE_ORDERS + o]!);
      const info = fillContigPageInfo(pa, z, o);
      unusable.push(unusableFreeIndex(o, info));
      extfrag.push(fragmentationIndex(o, info));
    }
    out.push({
      zone: z,
      name: zoneNames[z]!,
      free,
      nrFree,
      freePages: zs.get(z, Z_FREE),
      managed: zs.get(z, Z_MANAGED),
      pcpPages: pa.pcpPages(z),
      wmark: { min: zs.wmark(z, WMARK_MIN), low: zs.wmark(z, WMARK_LOW), high: zs.wmark(z, WMARK_HIGH) },
      unusable,
      extfrag,
    });
  }
  return out;
}

/** "%d.%03d" of a value in thousandths (the debugfs files' format). */
export function thousandths(v: number): string {
  const whole = Math.trunc(v / 1000);
  const frac = Math.abs(v % 1000);
  return `${v < 0 && whole === 0 ? '-0' : whole}.${String(frac).padStart(3, '0')}`;
}

/** Where the zone stands against its watermarks, in words. */
export function watermarkState(z: ZoneBuddy): string {
  if (z.freePages <= z.wmark.min) return 'below min: only atomic/__GFP_HIGH allocations succeed';
  if (z.freePages <= z.wmark.low) return 'below low: kswapd would be woken';
  if (z.freePages <= z.wmark.high) return 'below high: kswapd would keep reclaiming';
  return 'above high';
}
