/**
 * Tests read SLUB's typed arrays by cache id; the API hands out handles
 * (id | serial << 12). sid() gives the id behind a handle, and leaves an id
 * (from k.slab.slabCaches, a slab's slabCache word) as it is.
 */
import type { Kernel } from '../../src/kernel.js';

export function sid(k: Kernel, x: number): number {
  return k.kmallocApi.handleAccepted(x) ? k.slab.cacheOf(x) : x;
}
