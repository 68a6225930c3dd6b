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

// Imported constants copied into module locals for the checker's hot loops.
const K_ZONES = MAX_NR_ZONES;
const K_ORDERS = NR_PAGE_ORDERS;
const K_TYPES = MIGRATE_TYPES;
const K_PCPTYPES = MIGRATE_PCPTYPES;
const K_PCP_LISTS = NR_PCP_LISTS;
const K_PCP_FIELDS = PCP_FIELDS;
const K_PCP_COUNT = PCP_COUNT;
const K_PB_ORDER = pageblock_order;
const K_BUDDY = PGTY_buddy;
const K_NONE = PGTY_NONE;
if (PAGE_ALLOC_COSTLY_ORDER + 1 !== NR_PCP_LISTS / MIGRATE_PCPTYPES) throw new Error('pcp lists are not orders 0..PAGE_ALLOC_COSTLY_ORDER');

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
    const { pageType, order: orderOf, index, refcount, next, prev } = p;
    const blockZone = zs.pageblockZone;
    const stamp = this.stamp;
    if (++this.gen === 0x7fffffff) {
      stamp.fill(0);
      this.gen = 1;
    }
    const gen = this.gen;
    const nr = p.nr;
    const freePerZone = [0, 0, 0, 0, 0];
    const pcpPerZone = [0, 0, 0, 0, 0];
    const allocPerZone = [0, 0, 0, 0, 0];
    // The loops below run after every step of the model tests: module imports are
    // copied to locals (K_*) and messages are built only when something is wrong.

    // The zones' free_area lists.
    for (let z = 0; z < K_ZONES; z++) {
      const zStart = zs.get(z, Z_START_PFN);
      const zEnd = zStart + zs.get(z, Z_SPANNED);
      let zoneFree = 0;
      for (let o = 0; o < K_ORDERS; o++) {
        let blocks = 0;
        const size = 1 << o;
        for (let mt = 0; mt < K_TYPES; mt++) {
          const li = (z * K_ORDERS + o) * K_TYPES + mt;
          let n = 0;
          let last = -1;
          for (let pfn = zs.freeHead[li]!; pfn >= 0; pfn = next[pfn]!) {
            let bad = '';
            if (pfn >= nr) bad = 'links outside RAM';
            else if (prev[pfn] !== last) bad = `has prev ${prev[pfn]}, expected ${last}`;
            else if (pageType[pfn] !== K_BUDDY) bad = 'is not marked buddy';
            else if (orderOf[pfn] !== o) bad = `has order ${orderOf[pfn]}`;
            else if (index[pfn] !== mt) bad = `remembers migratetype ${index[pfn]}`;
            else if (refcount[pfn] !== 0) bad = `has refcount ${refcount[pfn]}`;
            else if (pfn & (size - 1)) bad = 'is not aligned to its order';
            else if (pfn < zStart || pfn + size > zEnd) bad = `crosses the zone [${zStart}, ${zEnd})`;
            else if (blockZone[pfn >>> K_PB_ORDER] !== z) bad = `is in zone ${blockZone[pfn >>> K_PB_ORDER]}`;
            else {
              // Paint the block; only its head is marked.
              if (stamp[pfn] === gen) bad = 'overlaps another block';
              stamp[pfn] = gen;
              for (let i = pfn + 1, e = pfn + size; i < e; i++) {
                if (stamp[i] === gen) bad = `overlaps another block at pfn ${i}`;
                else if (pageType[i] !== K_NONE) bad = `has a page type on inner pfn ${i}`;
                stamp[i] = gen;
              }
            }
            if (bad !== '') throw new Error(`invariant: free ${zoneNames[z]} order ${o} mt ${mt}: pfn ${pfn} ${bad}`);
            last = pfn;
            if (++n > nr) throw new Error(`invariant: free ${zoneNames[z]} order ${o} mt ${mt}: cycle`);
          }
          if (zs.freeTail[li] !== last) throw new Error(`invariant: free ${zoneNames[z]} order ${o} mt ${mt}: tail ${zs.freeTail[li]} but last is ${last}`);
          if (zs.freeCount[li] !== n)
            throw new Error(`invariant: free ${zoneNames[z]} order ${o} mt ${mt}: freeCount ${zs.freeCount[li]} but ${n} on the list`);
          blocks += n;
          zoneFree += n << o;
        }
        if (zs.nrFree[z * K_ORDERS + o] !== blocks) {
          throw new Error(`invariant: ${zoneNames[z]} order ${o}: nr_free ${zs.nrFree[z * K_ORDERS + o]} but ${blocks} blocks on the lists`);
        }
      }
      freePerZone[z] = zoneFree;
      if (zs.get(z, Z_FREE) !== zoneFree) throw new Error(`invariant: ${zoneNames[z]}: NR_FREE_PAGES ${zs.get(z, Z_FREE)} but the lists hold ${zoneFree}`);
    }

    // The buddy allocator merges as far as it can: below pageblock_order two
    // free buddies of one order in one zone can never both sit on the lists.
    for (let z = 0; z < K_ZONES; z++) {
      for (let o = 0; o < K_PB_ORDER; o++) {
        for (let mt = 0; mt < K_TYPES; mt++) {
          for (let pfn = zs.freeHead[(z * K_ORDERS + o) * K_TYPES + mt]!; pfn >= 0; pfn = next[pfn]!) {
            const b = pfn ^ (1 << o);
            if (b > 0 && b < nr && pageType[b] === K_BUDDY && orderOf[b] === o && blockZone[b >>> K_PB_ORDER] === z) {
              throw new Error(`invariant: ${zoneNames[z]}: free buddies ${pfn} and ${b} of order ${o} were not merged`);
            }
          }
        }
      }
    }

    // Every CPU's pcp lists.
    for (let cpu = 0; cpu < pa.cpus; cpu++) {
      for (let z = 0; z < K_ZONES; z++) {
        const base = (cpu * K_ZONES + z) * K_PCP_LISTS;
        let count = 0;
        for (let li = 0; li < K_PCP_LISTS; li++) {
          const o = (li / K_PCPTYPES) | 0;
          let n = 0;
          let last = -1;
          for (let pfn = pa.pcpHead[base + li]!; pfn >= 0; pfn = next[pfn]!) {
            let bad = '';
            if (pfn >= nr) bad = 'links outside RAM';
            else if (blockZone[pfn >>> K_PB_ORDER] !== z) bad = `belongs to zone ${blockZone[pfn >>> K_PB_ORDER]}`;
            else if (pageType[pfn] !== K_NONE) bad = `is marked ${pageType[pfn]}`;
            else if (orderOf[pfn] !== 0) bad = `has order ${orderOf[pfn]} (only a free block's head or an allocated block's head has one)`;
            else if (refcount[pfn] !== 0) bad = `has refcount ${refcount[pfn]}`;
            else if (pfn & ((1 << o) - 1)) bad = `is not aligned to order ${o}`;
            else {
              for (let i = pfn, e = pfn + (1 << o); i < e; i++) {
                if (stamp[i] === gen) bad = `overlaps another block at pfn ${i}`;
                stamp[i] = gen;
              }
            }
            if (bad !== '') throw new Error(`invariant: pcp cpu ${cpu} ${zoneNames[z]} list ${li}: pfn ${pfn} ${bad}`);
            count += 1 << o;
            last = pfn;
            if (++n > nr) throw new Error(`invariant: pcp cpu ${cpu} ${zoneNames[z]} list ${li}: cycle`);
          }
          // The tail is kept only while the list has pages (PageAlloc.pcpHead: singly linked).
          if (last >= 0 && pa.pcpTail[base + li] !== last)
            throw new Error(`invariant: pcp cpu ${cpu} ${zoneNames[z]} list ${li}: tail ${pa.pcpTail[base + li]} but last is ${last}`);
        }
        const c = pa.pcp[(cpu * K_ZONES + z) * K_PCP_FIELDS + K_PCP_COUNT]!;
        if (c !== count) throw new Error(`invariant: pcp cpu ${cpu} ${zoneNames[z]}: count ${c} but lists hold ${count}`);
        pcpPerZone[z]! += count;
      }
    }

    if (live === null) return;

    // The caller's allocations: each is a 2^order block handed out once.
    for (const b of live) {
      const { pfn, order } = b;
      const size = 1 << order;
      let bad = '';
      const z = pfn >= 1 && pfn < nr ? blockZone[pfn >>> K_PB_ORDER]! : -1;
      const zStart = z >= 0 ? zs.get(z, Z_START_PFN) : 0;
      if (z < 0 || pfn + size > nr) bad = 'lies outside RAM';
      else if (pfn & (size - 1)) bad = 'is not aligned';
      else if (pfn < zStart || pfn + size > zStart + zs.get(z, Z_SPANNED)) bad = 'crosses its zone';
      else if (refcount[pfn] !== 1) bad = `has refcount ${refcount[pfn]}`;
      else if (orderOf[pfn] !== order) bad = `is order ${orderOf[pfn]} in struct page`;
      // A slab page carries PGTY_slab; only the buddy marking is wrong on an allocated page.
      else if (pageType[pfn] === K_BUDDY) bad = 'is marked as a free buddy page';
      else {
        for (let i = pfn, e = pfn + size; i < e; i++) {
          if (stamp[i] === gen) bad = `overlaps another block at pfn ${i}`;
          stamp[i] = gen;
        }
      }
      if (bad !== '') throw new Error(`invariant: allocated block pfn ${pfn} order ${order} ${bad}`);
      allocPerZone[z]! += size;
    }
    for (let z = 0; z < K_ZONES; z++) {
      const managed = zs.get(z, Z_MANAGED);
      const sum = allocPerZone[z]! + freePerZone[z]! + pcpPerZone[z]!;
      if (sum !== managed) {
        throw new Error(
          `invariant: ${zoneNames[z]}: allocated ${allocPerZone[z]} + free ${freePerZone[z]} + pcp ${pcpPerZone[z]} = ${sum}, managed ${managed}`,
        );
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

/**
 * The blocks the kernel itself holds after boot (the slab layer's boot caches,
 * as kmem_cache_init() allocates them in the kernel): every allocated head
 * page, found by scanning struct page. Call it before the test allocates.
 */
export function bootBlocks(k: Kernel): LiveBlock[] {
  const p = k.pages;
  const out: LiveBlock[] = [];
  for (let pfn = 1; pfn < p.nr; ) {
    if (p.refcount[pfn]! > 0 && p.head[pfn]! < 0) {
      const order = p.order[pfn]!;
      out.push({ pfn, order });
      pfn += 1 << order;
    } else {
      pfn++;
    }
  }
  return out;
}

/** A machine right after boot with its pcp lists drained, and the blocks boot left allocated. */
export interface Booted {
  k: Kernel;
  boot: LiveBlock[];
  /** Pages boot left allocated in each zone. */
  bootPages: (zone: number) => number;
}

export function booted(k: Kernel): Booted {
  k.drainAllPages();
  const boot = bootBlocks(k);
  return {
    k,
    boot,
    bootPages: (zone) => boot.filter((b) => k.pageAlloc.pageZone(b.pfn) === zone).reduce((s, b) => s + (1 << b.order), 0),
  };
}

/**
 * The free blocks a fully merged buddy allocator must hold when exactly the
 * pages of `allocated` are in use: from each pfn, the largest block (up to
 * MAX_PAGE_ORDER) that is aligned to its size, lies inside the zone and holds
 * no allocated page. This is the definition, not the allocator's code.
 */
export function canonicalFreeBlocks(k: Kernel, zone: number, allocated: Iterable<LiveBlock>): [number, number][] {
  const [s, e] = zoneRange(k, zone);
  const used = new Uint8Array(e - s);
  for (const b of allocated) {
    for (let i = b.pfn; i < b.pfn + (1 << b.order); i++) if (i >= s && i < e) used[i - s] = 1;
  }
  const fits = (pfn: number, o: number) => {
    if (pfn & ((1 << o) - 1) || pfn + (1 << o) > e) return false;
    for (let i = pfn; i < pfn + (1 << o); i++) if (used[i - s]) return false;
    return true;
  };
  const out: [number, number][] = [];
  for (let pfn = s; pfn < e; ) {
    if (used[pfn - s]) {
      pfn++;
      continue;
    }
    let o = NR_PAGE_ORDERS - 1;
    while (!fits(pfn, o)) o--;
    out.push([pfn, o]);
    pfn += 1 << o;
  }
  return out;
}

/** Assert every zone's free lists hold exactly the canonical blocks for `allocated` (pcp lists must be empty). */
export function expectCanonical(k: Kernel, allocated: LiveBlock[]): void {
  for (let z = 0; z < MAX_NR_ZONES; z++) {
    if (!k.pageAlloc.zones.populated(z)) continue;
    const want = canonicalFreeBlocks(k, z, allocated);
    const have = freeBlocks(k, z)
      .map((b): [number, number] => [b.pfn, b.order])
      .sort((a, b) => a[0] - b[0]);
    if (JSON.stringify(have) !== JSON.stringify(want)) {
      throw new Error(`${zoneNames[z]}: free blocks ${JSON.stringify(have.slice(0, 12))}... differ from the canonical ${JSON.stringify(want.slice(0, 12))}...`);
    }
  }
}

/** nr_free per order that the canonical blocks give. */
export function canonicalCounts(k: Kernel, zone: number, allocated: LiveBlock[]): number[] {
  const counts = new Array<number>(NR_PAGE_ORDERS).fill(0);
  for (const [, o] of canonicalFreeBlocks(k, zone, allocated)) counts[o]!++;
  return counts;
}
