/**
 * warn_alloc() and show_free_areas() (mm/page_alloc.c, mm/show_mem.c): the
 * report of a failed page allocation, ending in the per-zone, per-order
 * summary of free memory ("Mem-Info").
 */

import { formatGfpMode } from './gfp.js';
import {
  listIndex,
  MAX_NR_ZONES,
  MIGRATE_TYPES,
  NR_PAGE_ORDERS,
  WMARK_HIGH,
  WMARK_LOW,
  WMARK_MIN,
  Z_BOOST,
  Z_FREE,
  Z_LOWMEM_RESERVE,
  Z_MANAGED,
  Z_PRESENT,
  Z_RESERVED_HIGHATOMIC,
  Z_WMARK,
  zoneNames,
} from './mmzone.js';
import type { PageAlloc } from './page_alloc.js';

/** show_migration_types(): U M E H I, one letter per non-empty type. */
const typeLetters = ['U', 'M', 'E', 'H', 'I'];

const K = (pages: number) => pages * 4;

/** show_free_areas(): the Mem-Info block that follows an allocation failure. */
export function showFreeAreas(pa: PageAlloc, slabReclaimable: number, slabUnreclaimable: number): string[] {
  const zs = pa.zones;
  let free = 0;
  let pcp = 0;
  for (let z = 0; z < MAX_NR_ZONES; z++) {
    free += zs.get(z, Z_FREE);
    pcp += pa.pcpPages(z);
  }
  const out: string[] = [
    'Mem-Info:',
    'active_anon:0 inactive_anon:0 isolated_anon:0',
    ' active_file:0 inactive_file:0 isolated_file:0',
    ' unevictable:0 dirty:0 writeback:0',
    ` slab_reclaimable:${slabReclaimable} slab_unreclaimable:${slabUnreclaimable}`,
    ' mapped:0 shmem:0 pagetables:0',
    ' sec_pagetables:0 bounce:0',
    ' kernel_misc_reclaimable:0',
    ` free:${free} free_pcp:${pcp} free_cma:0`,
  ];
  for (let z = 0; z < MAX_NR_ZONES; z++) {
    if (!zs.populated(z)) continue;
    const localPcp = pa.pcp[(pa.cpu * MAX_NR_ZONES + z) * 6]!;
    out.push(
      `Node 0 ${zoneNames[z]} free:${K(zs.get(z, Z_FREE))}kB boost:${K(zs.get(z, Z_BOOST))}kB min:${K(zs.get(z, Z_WMARK + WMARK_MIN))}kB low:${K(zs.get(z, Z_WMARK + WMARK_LOW))}kB high:${K(zs.get(z, Z_WMARK + WMARK_HIGH))}kB reserved_highatomic:${K(zs.get(z, Z_RESERVED_HIGHATOMIC))}KB active_anon:0kB inactive_anon:0kB active_file:0kB inactive_file:0kB unevictable:0kB writepending:0kB present:${K(zs.get(z, Z_PRESENT))}kB managed:${K(zs.get(z, Z_MANAGED))}kB mlocked:0kB bounce:0kB free_pcp:${K(pa.pcpPages(z))}kB local_pcp:${K(localPcp)}kB free_cma:0kB`,
    );
    const reserve: number[] = [];
    for (let j = 0; j < MAX_NR_ZONES; j++) reserve.push(zs.get(z, Z_LOWMEM_RESERVE + j));
    out.push(`lowmem_reserve[]: ${reserve.join(' ')}`);
  }
  for (let z = 0; z < MAX_NR_ZONES; z++) {
    if (!zs.populated(z)) continue;
    let line = `Node 0 ${zoneNames[z]}: `;
    let total = 0;
    for (let o = 0; o < NR_PAGE_ORDERS; o++) {
      const nr = zs.nrFree[z * NR_PAGE_ORDERS + o]!;
      total += nr << o;
      line += `${nr}*${4 << o}kB `;
      if (nr > 0) {
        let types = '';
        for (let mt = 0; mt < MIGRATE_TYPES; mt++) if (zs.freeCount[listIndex(z, o, mt)]! > 0) types += typeLetters[mt];
        line += `(${types}) `;
      }
    }
    out.push(`${line}= ${K(total)}kB`);
  }
  // show_free_areas()'s NR_FILE_PAGES line (the swap cache included, as in the kernel), then show_swap_cache_info().
  const vs = pa.hooks.showMemVmStats?.() ?? null;
  out.push(
    `${vs?.filePages ?? 0} total pagecache pages`,
    `${vs?.swapCache ?? 0} pages in swap cache`,
    `Free swap  = ${K(vs?.freeSwap ?? 0)}kB`,
    `Total swap = ${K(vs?.totalSwap ?? 0)}kB`,
  );
  let present = 0;
  let reserved = 0;
  for (let z = 0; z < MAX_NR_ZONES; z++) {
    present += zs.get(z, Z_PRESENT);
    reserved += zs.get(z, Z_PRESENT) - zs.get(z, Z_MANAGED);
  }
  out.push(`${present} pages RAM`, '0 pages HighMem/MovableOnly', `${reserved} pages reserved`);
  return out;
}

/**
 * warn_alloc()'s first line: the order and mode that failed;
 * cpuset_print_current_mems_allowed() (CONFIG_CPUSETS) ends it.
 */
export function warnAllocHeader(comm: string, order: number, gfp: number): string {
  return `${comm}: page allocation failure: order:${order}, mode:${formatGfpMode(gfp)}, nodemask=(null),cpuset=/,mems_allowed=0`;
}
