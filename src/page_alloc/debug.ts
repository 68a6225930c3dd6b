/**
 * dump_page() (mm/debug.c): the lines the kernel prints about one struct page
 * in bad-page reports, KASAN reports and VM_BUG_ON_PAGE.
 */

import { formatPageFlags, formatPx, hex } from '../lib/vsprintf.js';
import { PAGE_SHIFT } from '../memory/memblock.js';
import { type PageArray, PG_head, PGTY_large_kmalloc, PGTY_NONE, pageflagNames, pageTypeNames } from '../memory/page.js';

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
/** The struct slab words dump_page() shows for a slab page. */
export interface SlabWords {
  /** The kmem_cache's address. */
  cache: bigint;
  /** slab->freelist, as an address (0 for NULL). */
  freelist: bigint;
  /** slab->counters: inuse (bits 0-15), objects (16-30), frozen (31). */
  counters: number;
}

export function dumpPage(pages: PageArray, pfn: number, zone: number, reason: string, slab?: SlabWords): string[] {
  const lines: string[] = [];
  const head = pages.compoundHead(pfn);
  // page->index: a slab's freelist (they overlay); a large kmalloc keeps its size there only inside kmem.
  const type0 = pages.pageType[pfn]!;
  const index = slab !== undefined ? slab.freelist : type0 === PGTY_large_kmalloc ? 0n : BigInt(pages.index[pfn]!);
  const isCompound = head !== pfn || (pages.flags[pfn]! & (1 << PG_head)) !== 0;
  lines.push(`page: refcount:${pages.refcount[head]} mapcount:${pages.mapcount[pfn]} mapping:0000000000000000 index:0x${index.toString(16)} pfn:0x${hex(pfn)}`);
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
  // 6.12+: page_type is the type in the top byte (it overlays _mapcount, -1 when none).
  const typeWord = type !== PGTY_NONE ? BigInt(type) << 24n : 0xffffffffn;
  const refType = w((BigInt(pages.refcount[pfn]! >>> 0) << 32n) | typeWord);
  if (slab !== undefined) {
    // struct slab over struct page: slab_cache, slab_list, then freelist and counters.
    lines.push(`raw: ${w(word)} ${w(slab.cache)} ${listNext} ${listPrev}`);
    lines.push(`raw: ${w(slab.freelist)} ${w(BigInt(slab.counters >>> 0))} ${refType} 0000000000000000`);
  } else {
    lines.push(`raw: ${w(word)} ${listNext} ${listPrev} 0000000000000000`);
    lines.push(`raw: ${w(index)} 0000000000000000 ${refType} 0000000000000000`);
  }
  lines.push(`page dumped because: ${reason}`);
  return lines;
}

/** The direct-map address of a page frame, as %px prints it. */
export function pfnAddr(pfn: number): string {
  return formatPx(pfn * (1 << PAGE_SHIFT));
}

/** bad_page()'s report: "BUG: Bad page state", the page dump, the modules line (the caller adds the stack). */
export function badPageLines(pages: PageArray, pfn: number, zone: number, reason: string, comm: string): string[] {
  return [`BUG: Bad page state in process ${comm}  pfn:${pfn.toString(16).padStart(5, '0')}`, ...dumpPage(pages, pfn, zone, reason), 'Modules linked in:'];
}
