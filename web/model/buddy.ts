/**
 * The buddy panel's view-model: per populated zone, the free_area table
 * (orders × migratetypes, the numbers /proc/pagetypeinfo prints), nr_free
 * per order (/proc/buddyinfo), the watermarks against the free pages, and
 * the fragmentation indices per order (debugfs extfrag/unusable_index and
 * extfrag_index), computed by the same functions that render those files.
 */
import type { Kernel } from '../../src/index.js';
import { type FreeAreaSnapshot, migratetypeNames } from '../../src/inspect.js';

/** One zone's free lists, counts, watermarks and fragmentation indices (thousandths). */
export type ZoneBuddy = FreeAreaSnapshot;

export const MT_NAMES = migratetypeNames;

export function buddyView(k: Kernel): ZoneBuddy[] {
  return k.inspect.freeAreas();
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
