/**
 * Test helpers for the buddy allocator: an invariant checker that walks the
 * allocator's typed arrays directly (free_area lists, pcp lists, struct page
 * fields), and small readers for /proc and dmesg text.
 *
 * The checker trusts nothing the allocator keeps about itself: it recounts the
 * lists, follows every link in both directions, and paints every page it finds
 * (free, on a pcp list, or allocated according to the caller's own record) so
 * that an overlap or a lost page shows up at once.
 */
import type { Kernel } from '../../src/kernel.js';
import { PGTY_buddy, PGTY_NONE } from '../../src/memory/page.js';
import {
  listIndex,
  MAX_NR_ZONES,
  MIGRATE_PCPTYPES,
  MIGRATE_TYPES,
  NR_PAGE_ORDERS,
  PAGE_ALLOC_COSTLY_ORDER,
  pageblock_order,
  Z_FREE,
  Z_MANAGED,
  Z_SPANNED,
  Z_START_PFN,
  zoneNames,
} from '../../src/page_alloc/mmzone.js';
import { NR_PCP_LISTS, PCP_COUNT, PCP_FIELDS } from '../../src/page_alloc/page_alloc.js';

export const PAGE = 4096;

/** A block the test holds: its first pfn and order. */
export interface LiveBlock {
  pfn: number;
  order: number;
}

/** A free block found on a zone's free_area list. */
export interface FreeBlock {
  pfn: number;
  order: number;
  mt: number;
}

/** Every free block of a zone, walking free_area[order].free_list[mt] head to tail. */
export function freeBlocks(k: Kernel, zone: number): FreeBlock[] {
  const zs = k.pageAlloc.zones;
  const p = k.pages;
  const out: FreeBlock[] = [];
  for (let o = 0; o < NR_PAGE_ORDERS; o++) {
    for (let mt = 0; mt < MIGRATE_TYPES; mt++) {
      let guard = 0;
      for (let pfn = zs.freeHead[listIndex(zone, o, mt)]!; pfn >= 0; pfn = p.next[pfn]!) {
        out.push({ pfn, order: o, mt });
        if (++guard > p.nr) throw new Error(`free list ${zoneNames[zone]} order ${o} mt ${mt} has a cycle`);
      }
    }
  }
  return out;
}

/** The zone's pfn range [start, end). */
export function zoneRange(k: Kernel, zone: number): [number, number] {
  const zs = k.pageAlloc.zones;
  const start = zs.get(zone, Z_START_PFN);
  return [start, start + zs.get(zone, Z_SPANNED)];
}

/** Which zone's range holds pfn, or -1. */
export function zoneOfPfn(k: Kernel, pfn: number): number {
  for (let z = 0; z < MAX_NR_ZONES; z++) {
    if (!k.pageAlloc.zones.populated(z)) continue;
    const [s, e] = zoneRange(k, z);
    if (pfn >= s && pfn < e) return z;
  }
  return -1;
}

/** Pages on every CPU's pcp lists of a zone, by walking the lists. */
export function pcpListPages(k: Kernel, cpu: number, zone: number): number[][] {
  const pa = k.pageAlloc;
  const lists: number[][] = [];
  const base = (cpu * MAX_NR_ZONES + zone) * NR_PCP_LISTS;
  for (let li = 0; li < NR_PCP_LISTS; li++) {
    const l: number[] = [];
    let guard = 0;
    for (let pfn = pa.pcpHead[base + li]!; pfn >= 0; pfn = k.pages.next[pfn]!) {
      l.push(pfn);
      if (++guard > k.pages.nr) throw new Error(`pcp list cpu ${cpu} zone ${zone} list ${li} has a cycle`);
    }
    lists.push(l);
  }
  return lists;
}

export function pcpCount(k: Kernel, cpu: number, zone: number): number {
  return k.pageAlloc.pcp[(cpu * MAX_NR_ZONES + zone) * PCP_FIELDS + PCP_COUNT]!;
}

/**
 * Check every structural invariant of the page allocator and throw an Error
 * naming the first one that does not hold. `live` is the caller's own record
 * of the blocks it holds (allocated and not yet freed); pass null when the
 * caller does not track allocations (then only free + pcp are checked, and
 * allocated = managed - free - pcp is not verified).
 */
export class InvariantChecker {
  private readonly stamp: Int32Array;
  private gen = 0;

  constructor(private readonly k: Kernel) {
    this.stamp = new Int32Array(k.pages.nr);
  }

  check(live: Iterable<LiveBlock> | null): void {
    const k = this.k;
    const pa = k.pageAlloc;
    const zs = pa.zones;
    const p = k.pages;
    const stamp = this.stamp;
    if (++this.gen === 0x7fffffff) {
      stamp.fill(0);
      this.gen = 1;
    }
    const gen = this.gen;
    const fail = (msg: string): never => {
      throw new Error(`invariant: ${msg}`);
    };
    const paint = (pfn: number, order: number, what: string) => {
      const end = pfn + (1 << order);
      if (pfn < 1 || end > p.nr) fail(`${what} pfn ${pfn} order ${order} lies outside RAM`);
      for (let i = pfn; i < end; i++) {
        if (stamp[i] === gen) fail(`${what} pfn ${pfn} order ${order} overlaps another block at pfn ${i}`);
        stamp[i] = gen;
      }
    };
    const freePerZone = new Array<number>(MAX_NR_ZONES).fill(0);
    const pcpPerZone = new Array<number>(MAX_NR_ZONES).fill(0);
    const allocPerZone = new Array<number>(MAX_NR_ZONES).fill(0);

    // The zones' free_area lists.
    for (let z = 0; z < MAX_NR_ZONES; z++) {
      const [zStart, zEnd] = zoneRange(k, z);
      for (let o = 0; o < NR_PAGE_ORDERS; o++) {
        let blocks = 0;
        for (let mt = 0; mt < MIGRATE_TYPES; mt++) {
          const li = listIndex(z, o, mt);
          let n = 0;
          let prev = -1;
          for (let pfn = zs.freeHead[li]!; pfn >= 0; pfn = p.next[pfn]!) {
            const what = `free ${zoneNames[z]} order ${o} mt ${mt}`;
            if (p.prev[pfn] !== prev) fail(`${what}: pfn ${pfn}.prev is ${p.prev[pfn]}, expected ${prev}`);
            if (p.pageType[pfn] !== PGTY_buddy) fail(`${what}: pfn ${pfn} is not marked buddy`);
            if (p.order[pfn] !== o) fail(`${what}: pfn ${pfn} has order ${p.order[pfn]}`);
            if (p.index[pfn] !== mt) fail(`${what}: pfn ${pfn} remembers migratetype ${p.index[pfn]}`);
            if (p.refcount[pfn] !== 0) fail(`${what}: pfn ${pfn} has refcount ${p.refcount[pfn]}`);
            if (pfn & ((1 << o) - 1)) fail(`${what}: pfn ${pfn} is not aligned to its order`);
            if (pfn < zStart || pfn + (1 << o) > zEnd) fail(`${what}: block ${pfn}+${1 << o} crosses the zone [${zStart}, ${zEnd})`);
            if (pa.pageZone(pfn) !== z) fail(`${what}: page_zone(${pfn}) is ${pa.pageZone(pfn)}`);
            paint(pfn, o, what);
            // Only the head of a free block is marked.
            for (let i = pfn + 1; i < pfn + (1 << o); i++) {
              if (p.pageType[i] !== PGTY_NONE) fail(`${what}: inner pfn ${i} of block ${pfn} has a page type`);
            }
            prev = pfn;
            if (++n > p.nr) fail(`${what}: cycle`);
          }
          if (zs.freeTail[li] !== prev) fail(`free ${zoneNames[z]} order ${o} mt ${mt}: tail ${zs.freeTail[li]} but last is ${prev}`);
          if (zs.freeCount[li] !== n) fail(`free ${zoneNames[z]} order ${o} mt ${mt}: freeCount ${zs.freeCount[li]} but ${n} on the list`);
          blocks += n;
          freePerZone[z]! += n << o;
        }
        if (zs.nrFree[z * NR_PAGE_ORDERS + o] !== blocks) {
          fail(`${zoneNames[z]} order ${o}: nr_free ${zs.nrFree[z * NR_PAGE_ORDERS + o]} but ${blocks} blocks on the lists`);
        }
      }
      if (zs.get(z, Z_FREE) !== freePerZone[z]) fail(`${zoneNames[z]}: NR_FREE_PAGES ${zs.get(z, Z_FREE)} but the lists hold ${freePerZone[z]}`);
    }

    // The buddy allocator merges as far as it can: below pageblock_order two
    // free buddies of one order in one zone can never both sit on the lists.
    for (let z = 0; z < MAX_NR_ZONES; z++) {
      for (let o = 0; o < pageblock_order; o++) {
        for (let mt = 0; mt < MIGRATE_TYPES; mt++) {
          for (let pfn = zs.freeHead[listIndex(z, o, mt)]!; pfn >= 0; pfn = p.next[pfn]!) {
            const b = pfn ^ (1 << o);
            if (b > 0 && b < p.nr && p.pageType[b] === PGTY_buddy && p.order[b] === o && pa.pageZone(b) === z) {
              fail(`${zoneNames[z]}: free buddies ${pfn} and ${b} of order ${o} were not merged`);
            }
          }
        }
      }
    }

    // Every CPU's pcp lists.
    for (let cpu = 0; cpu < pa.cpus; cpu++) {
      for (let z = 0; z < MAX_NR_ZONES; z++) {
        const lists = pcpListPages(k, cpu, z);
        let count = 0;
        for (let li = 0; li < NR_PCP_LISTS; li++) {
          const o = Math.floor(li / MIGRATE_PCPTYPES);
          if (o > PAGE_ALLOC_COSTLY_ORDER) fail(`pcp list ${li} has an order above ${PAGE_ALLOC_COSTLY_ORDER}`);
          for (const pfn of lists[li]!) {
            const what = `pcp cpu ${cpu} ${zoneNames[z]} list ${li}`;
            if (pa.pageZone(pfn) !== z) fail(`${what}: pfn ${pfn} belongs to zone ${pa.pageZone(pfn)}`);
            if (p.pageType[pfn] !== PGTY_NONE) fail(`${what}: pfn ${pfn} is marked ${p.pageType[pfn]}`);
            if (p.refcount[pfn] !== 0) fail(`${what}: pfn ${pfn} has refcount ${p.refcount[pfn]}`);
            if (pfn & ((1 << o) - 1)) fail(`${what}: pfn ${pfn} is not aligned to order ${o}`);
            paint(pfn, o, what);
            count += 1 << o;
          }
        }
        if (pcpCount(k, cpu, z) !== count) fail(`pcp cpu ${cpu} ${zoneNames[z]}: count ${pcpCount(k, cpu, z)} but lists hold ${count}`);
        pcpPerZone[z]! += count;
      }
    }

    if (live === null) return;

    // The caller's allocations: each is a 2^order block handed out once.
    for (const b of live) {
      const what = `allocated block pfn ${b.pfn} order ${b.order}`;
      if (b.pfn & ((1 << b.order) - 1)) fail(`${what} is not aligned`);
      const z = pa.pageZone(b.pfn);
      const [zStart, zEnd] = zoneRange(k, z);
      if (b.pfn < zStart || b.pfn + (1 << b.order) > zEnd) fail(`${what} crosses its zone`);
      if (p.refcount[b.pfn] !== 1) fail(`${what}: refcount ${p.refcount[b.pfn]}`);
      if (p.order[b.pfn] !== b.order) fail(`${what}: struct page says order ${p.order[b.pfn]}`);
      if (p.pageType[b.pfn] !== PGTY_NONE) fail(`${what}: marked as page type ${p.pageType[b.pfn]}`);
      paint(b.pfn, b.order, what);
      allocPerZone[z]! += 1 << b.order;
    }
    for (let z = 0; z < MAX_NR_ZONES; z++) {
      const managed = zs.get(z, Z_MANAGED);
      const sum = allocPerZone[z]! + freePerZone[z]! + pcpPerZone[z]!;
      if (sum !== managed) {
        fail(`${zoneNames[z]}: allocated ${allocPerZone[z]} + free ${freePerZone[z]} + pcp ${pcpPerZone[z]} = ${sum}, managed ${managed}`);
      }
    }
  }
}

/** dmesg() lines without their "[    0.000000] " timestamps. */
export function dmesgText(k: Kernel): string[] {
  return k.dmesg().map((l) => l.replace(/^\[\s*\d+\.\d{6}\] /, ''));
}

/** The numbers of one zone's /proc/buddyinfo line. */
export function buddyinfoCounts(k: Kernel, zoneName: string): number[] {
  const line = k.proc
    .read('/proc/buddyinfo')
    .split('\n')
    .find((l) => l.startsWith(`Node 0, zone ${zoneName.padStart(8)} `));
  if (line === undefined) throw new Error(`no buddyinfo line for ${zoneName}`);
  return line
    .slice(22)
    .trim()
    .split(/\s+/)
    .map((s) => Number(s));
}

/** "Number of blocks type" counts of a zone from /proc/pagetypeinfo. */
export function pageblockCounts(k: Kernel, zoneName: string): number[] {
  const text = k.proc.read('/proc/pagetypeinfo');
  const tail = text.slice(text.indexOf('Number of blocks type'));
  const line = tail.split('\n').find((l) => l.startsWith(`Node 0, zone ${zoneName.padStart(8)} `));
  if (line === undefined) throw new Error(`no block count line for ${zoneName}`);
  return line
    .slice(22)
    .trim()
    .split(/\s+/)
    .map((s) => Number(s));
}

/** A pagetypeinfo free-count row: counts per order for one zone and migratetype name. */
export function pagetypeRow(k: Kernel, zoneName: string, mtName: string): number[] {
  const prefix = `Node    0, zone ${zoneName.padStart(8)}, type ${mtName.padStart(12)} `;
  const line = k.proc
    .read('/proc/pagetypeinfo')
    .split('\n')
    .find((l) => l.startsWith(prefix));
  if (line === undefined) throw new Error(`no pagetypeinfo row for ${zoneName}/${mtName}`);
  return line
    .slice(prefix.length)
    .trim()
    .split(/\s+/)
    .map((s) => Number(s));
}

/** One field of a zone's /proc/zoneinfo block (first match after the zone header). */
export function zoneinfoField(k: Kernel, zoneName: string, field: RegExp): number {
  const text = k.proc.read('/proc/zoneinfo');
  const start = text.indexOf(`Node 0, zone ${zoneName.padStart(8)}\n`);
  if (start < 0) throw new Error(`no zoneinfo block for ${zoneName}`);
  const next = text.indexOf('\nNode 0, zone ', start + 1);
  const block = text.slice(start, next < 0 ? undefined : next);
  const m = field.exec(block);
  if (!m) throw new Error(`zoneinfo ${zoneName}: ${field} not found`);
  return Number(m[1]);
}
