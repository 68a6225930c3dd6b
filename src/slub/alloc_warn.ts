/**
 * mm/slub.c's two allocation warnings: slab_out_of_memory() when a new slab
 * cannot be had, and kmalloc_fix_flags() for GFP bits a slab allocation
 * must not carry.
 */

import { hexPrefixed } from '../lib/vsprintf.js';
import { formatGfp, formatGfpMode, GFP_SLAB_BUG_MASK } from '../page_alloc/gfp.js';
import { getOrder } from './calculate.js';
import { CF } from './slab.js';
import type { Slub } from './slub.js';

/** slab_out_of_memory() (6.12+ wording): the lines, without the rate limit the caller applies. */
export function slabOutOfMemoryLines(slub: Slub, cache: number, gfp: number, cpu: number): string[] {
  const r = cache * CF.FIELDS;
  const cf = slub.cf;
  const name = slub.caches[cache]!.name;
  const objectSize = cf[r + CF.OBJECT_SIZE]!;
  const minOrder = cf[r + CF.MIN_ORDER]!;
  const lines = [
    `SLUB: Unable to allocate memory on CPU ${cpu} (of node 0) on node -1, gfp=${formatGfpMode(gfp)}`,
    `  cache: ${name}, object size: ${objectSize}, buffer size: ${cf[r + CF.SIZE]}, default order: ${cf[r + CF.ORDER]}, min order: ${minOrder}`,
  ];
  if (minOrder > getOrder(objectSize)) lines.push(`  ${name} debugging increased min order, use slab_debug=O to disable.`);
  lines.push(`  node 0: slabs: ${cf[r + CF.NR_SLABS]}, objs: ${cf[r + CF.TOTAL_OBJECTS]}, free: ${slub.countPartialFreeApprox(cache)}`);
  return lines;
}

/** kmalloc_fix_flags(): the flags with GFP_SLAB_BUG_MASK dropped, and the warning's first line. */
export function kmallocFixFlags(gfp: number): { fixed: number; line: string } {
  const invalid = (gfp & GFP_SLAB_BUG_MASK) >>> 0;
  const fixed = (gfp & ~GFP_SLAB_BUG_MASK) >>> 0;
  return {
    fixed,
    line: `Unexpected gfp: ${hexPrefixed(invalid)} (${formatGfp(invalid)}). Fixing up to gfp: ${hexPrefixed(fixed)} (${formatGfp(fixed)}). Fix your code!`,
  };
}
