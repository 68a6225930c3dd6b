/**
 * dump_page() (mm/debug.c): the lines the kernel prints about one struct page
 * in bad-page reports, KASAN reports and VM_BUG_ON_PAGE.
 */

import { formatPageFlags, formatPx, hex } from '../lib/vsprintf.js';
import { PAGE_SHIFT } from '../memory/memblock.js';
import { type PageArray, PG_head, PGTY_NONE, pageflagNames, pageTypeNames } from '../memory/page.js';

/**
 * page->flags on a Debian x86-64 kernel (NODES_SHIFT 10, NUMA balancing on):
 * node in bits 54.., zone in bits 51..53, last_cpupid in bits 30..50, all
 * ones (0x1fffff) while no CPU has touched the page.
 */
const ZONES_PGSHIFT = 51n;
const LAST_CPUPID_PGSHIFT = 30n;
const LAST_CPUPID_UNSET = 0x1fffff;

/** The whole page->flags word as the kernel would print it. */
export function pageFlagsWord(pages: PageArray, pfn: number, zone: number): bigint {
  return BigInt(pages.flags[pfn]!) | (BigInt(zone) << ZONES_PGSHIFT) | (BigInt(LAST_CPUPID_UNSET) << LAST_CPUPID_PGSHIFT);
}

/** dump_page(page, reason): the page:, flags:, page_type:, raw: and reason lines. */
export function dumpPage(
  pages: PageArray,
  pfn: number,
  zone: number,
  reason: string,
  slabCacheAddr?: bigint,
): string[] {
  const lines: string[] = [];
  const head = pages.compoundHead(pfn);
  const isCompound = head !== pfn || (pages.flags[pfn]! & (1 << PG_head)) !== 0;
  lines.push(
    `page: refcount:${pages.refcount[head]} mapcount:${pages.mapcount[pfn]} mapping:0000000000000000 index:0x${hex(pages.index[pfn]! >>> 0)} pfn:0x${hex(pfn)}`,
  );
  if (isCompound) {
    lines.push(`head: order:${pages.order[head]} mapcount:0 entire_mapcount:0 nr_pages_mapped:0 pincount:0`);
  }
  const word = pageFlagsWord(pages, head, zone);
  lines.push(`flags: ${formatPageFlags(pageflagNames, word, { node: 0, zone, lastcpupid: LAST_CPUPID_UNSET })}`);
  const type = pages.pageType[pfn]!;
  if (type !== PGTY_NONE) lines.push(`page_type: ${hex(type)}(${pageTypeNames[type] ?? 'unknown'})`);
  const w = (v: bigint) => v.toString(16).padStart(16, '0');
  const listNext = pages.next[pfn]! >= 0 ? w(0xffffea0000000000n + BigInt(pages.next[pfn]!) * 64n) : 'dead000000000100';
  const listPrev = pages.prev[pfn]! >= 0 ? w(0xffffea0000000000n + BigInt(pages.prev[pfn]!) * 64n) : 'dead000000000122';
  const second = slabCacheAddr !== undefined ? w(slabCacheAddr) : listNext;
  const third = slabCacheAddr !== undefined ? listNext : listPrev;
  const typeWord = type !== PGTY_NONE ? (BigInt(type) << 24n) | 0xffffffn : 0xffffffffn;
  lines.push(`raw: ${w(word)} ${second} ${third} 0000000000000000`);
  lines.push(
    `raw: ${w(BigInt(pages.index[pfn]! >>> 0))} 0000000000000000 ${w((BigInt(pages.refcount[pfn]! >>> 0) << 32n) | typeWord)} 0000000000000000`,
  );
  lines.push(`page dumped because: ${reason}`);
  return lines;
}

/** The direct-map address of a page frame, as %px prints it. */
export function pfnAddr(pfn: number): string {
  return formatPx(pfn * (1 << PAGE_SHIFT));
}
