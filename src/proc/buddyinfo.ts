/**
 * /proc/buddyinfo, /proc/pagetypeinfo and the debugfs extfrag files
 * (mm/vmstat.c frag_show_print, pagetypeinfo_show*, unusable_show,
 * extfrag_show).
 */
import {
  listIndex,
  MAX_NR_ZONES,
  MAX_PAGE_ORDER,
  MIGRATE_TYPES,
  migratetypeNames,
  NR_PAGE_ORDERS,
  pageblock_nr_pages,
  pageblock_order,
  Z_SPANNED,
  Z_START_PFN,
  zoneNames,
} from '../page_alloc/mmzone.js';
import type { PageAlloc } from '../page_alloc/page_alloc.js';

const pad = (v: string | number, w: number) => String(v).padStart(w);

/** /proc/buddyinfo: nr_free per order for every populated zone. */
export function buddyinfo(pa: PageAlloc): string {
  let out = '';
  for (let z = 0; z < MAX_NR_ZONES; z++) {
    if (!pa.zones.populated(z)) continue;
    out += `Node 0, zone ${pad(zoneNames[z]!, 8)} `;
    for (let o = 0; o < NR_PAGE_ORDERS; o++) out += `${pad(pa.zones.nrFree[z * NR_PAGE_ORDERS + o]!, 6)} `;
    out += '\n';
  }
  return out;
}

/** /proc/pagetypeinfo: free blocks per order per migratetype, and pageblocks per type. */
export function pagetypeinfo(pa: PageAlloc): string {
  const zs = pa.zones;
  let out = `Page block order: ${pageblock_order}\nPages per block:  ${pageblock_nr_pages}\n\n`;
  out += `${'Free pages count per migrate type at order'.padEnd(43)} `;
  for (let o = 0; o < NR_PAGE_ORDERS; o++) out += `${pad(o, 6)} `;
  out += '\n';
  for (let z = 0; z < MAX_NR_ZONES; z++) {
    if (!zs.populated(z)) continue;
    for (let mt = 0; mt < MIGRATE_TYPES; mt++) {
      out += `Node ${pad(0, 4)}, zone ${pad(zoneNames[z]!, 8)}, type ${pad(migratetypeNames[mt]!, 12)} `;
      for (let o = 0; o < NR_PAGE_ORDERS; o++) {
        // The kernel stops counting a list at 100000 entries and prints ">".
        const n = zs.freeCount[listIndex(z, o, mt)]!;
        out += n >= 100000 ? `>${pad(100000, 6)} ` : `${pad(n, 6)} `;
      }
      out += '\n';
    }
  }
  out += `\n${'Number of blocks type '.padEnd(23)}`;
  for (let mt = 0; mt < MIGRATE_TYPES; mt++) out += `${pad(migratetypeNames[mt]!, 12)} `;
  out += '\n';
  for (let z = 0; z < MAX_NR_ZONES; z++) {
    if (!zs.populated(z)) continue;
    const counts = new Array<number>(MIGRATE_TYPES).fill(0);
    const start = zs.get(z, Z_START_PFN);
    const end = start + zs.get(z, Z_SPANNED);
    for (let pfn = start; pfn < end; pfn += pageblock_nr_pages) counts[pa.getPageblockMigratetype(pfn)]!++;
    out += `Node 0, zone ${pad(zoneNames[z]!, 8)} `;
    for (let mt = 0; mt < MIGRATE_TYPES; mt++) out += `${pad(counts[mt]!, 12)} `;
    out += '\n';
  }
  return out;
}

interface ContigInfo {
  freePages: number;
  freeBlocksTotal: number;
  freeBlocksSuitable: number;
}

/** fill_contig_page_info(): free pages and blocks, and blocks usable at `order`. */
export function fillContigPageInfo(pa: PageAlloc, zone: number, order: number): ContigInfo {
  const info = { freePages: 0, freeBlocksTotal: 0, freeBlocksSuitable: 0 };
  for (let o = 0; o < NR_PAGE_ORDERS; o++) {
    const blocks = pa.zones.nrFree[zone * NR_PAGE_ORDERS + o]!;
    info.freeBlocksTotal += blocks;
    info.freePages += blocks << o;
    if (o >= order) info.freeBlocksSuitable += blocks << (o - order);
  }
  return info;
}

/** unusable_free_index(): thousandths of free memory too fragmented for `order`. */
export function unusableFreeIndex(order: number, info: ContigInfo): number {
  if (info.freePages === 0) return 1000;
  return Math.trunc(((info.freePages - (info.freeBlocksSuitable << order)) * 1000) / info.freePages);
}

/** __fragmentation_index(): near 1000 a failure would be fragmentation, near 0 lack of memory. */
export function fragmentationIndex(order: number, info: ContigInfo): number {
  if (order > MAX_PAGE_ORDER || info.freeBlocksTotal === 0) return 0;
  if (info.freeBlocksSuitable > 0) return -1000;
  return 1000 - Math.trunc((1000 + Math.trunc((info.freePages * 1000) / (1 << order))) / info.freeBlocksTotal);
}

/** %d.%03d of a value in thousandths, with C's truncating division. */
function thousandths(v: number, width: number): string {
  const whole = Math.trunc(v / 1000);
  const frac = Math.abs(v % 1000);
  const head = v < 0 && whole === 0 ? '-0' : String(whole);
  return `${head.padStart(width)}.${String(frac).padStart(3, '0')}`;
}

/** /sys/kernel/debug/extfrag/unusable_index */
export function unusableIndex(pa: PageAlloc): string {
  let out = '';
  for (let z = 0; z < MAX_NR_ZONES; z++) {
    if (!pa.zones.populated(z)) continue;
    out += `Node 0, zone ${pad(zoneNames[z]!, 8)} `;
    for (let o = 0; o < NR_PAGE_ORDERS; o++) out += `${thousandths(unusableFreeIndex(o, fillContigPageInfo(pa, z, o)), 1)} `;
    out += '\n';
  }
  return out;
}

/** /sys/kernel/debug/extfrag/extfrag_index */
export function extfragIndex(pa: PageAlloc): string {
  let out = '';
  for (let z = 0; z < MAX_NR_ZONES; z++) {
    if (!pa.zones.populated(z)) continue;
    out += `Node 0, zone ${pad(zoneNames[z]!, 8)} `;
    for (let o = 0; o < NR_PAGE_ORDERS; o++) out += `${thousandths(fragmentationIndex(o, fillContigPageInfo(pa, z, o)), 2)} `;
    out += '\n';
  }
  return out;
}
