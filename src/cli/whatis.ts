/**
 * `kmem whatis ADDR`: who owns an address, the way crash's `kmem ADDR`
 * answers it: the zone and struct page, whether the page is free in the
 * buddy allocator, on a per-CPU list, a slab or a large kmalloc, and for a
 * slab which cache, slab and object the address falls in, at what offset,
 * whether that object is free or allocated, and its alloc/free tracks when
 * slub_debug recorded them (SLAB_STORE_USER, `--slub-debug U`).
 *
 * Addresses are accepted as the kernel prints them (direct map,
 * ffff888000000000 + physical) or as physical addresses.
 */

import type { Kernel } from '../kernel.js';
import { PAGE_OFFSET, PAGE_SIZE } from '../memory/memblock.js';
import { PG_head, PGTY_buddy, PGTY_large_kmalloc, PGTY_slab, pageflagNames, pageTypeNames } from '../memory/page.js';
import { MAX_NR_ZONES, MAX_PAGE_ORDER, migratetypeNames, Z_SPANNED, Z_START_PFN, zoneNames } from '../page_alloc/mmzone.js';
import { NR_PCP_LISTS } from '../page_alloc/page_alloc.js';
import { C_FIELDS, C_NR_SLABS, C_OBJECT_SIZE, C_OBJECTS, C_ORDER, C_RED_LEFT_PAD, C_SIZE, C_TOTAL_OBJECTS, MAX_CACHES } from '../slub/slab.js';
import { UsageError } from './machine.js';

const VMEMMAP_START = 0xffffea0000000000n;
const STRUCT_PAGE_SIZE = 64n;

/** The direct-map address of a physical one, 16 hex digits. */
export function virt(phys: number): string {
  return (PAGE_OFFSET + BigInt(phys)).toString(16).padStart(16, '0');
}

/** The struct page address of a pfn (x86-64 vmemmap), 16 hex digits. */
export function pageAddr(pfn: number): string {
  return (VMEMMAP_START + BigInt(pfn) * STRUCT_PAGE_SIZE).toString(16);
}

/**
 * ADDR as given, in hex with or without 0x: a direct-map address
 * (ffff888000000000 and up, as the kernel prints pointers) or a physical
 * one. Returns the physical address.
 */
export function parseAddress(text: string, memSize: number): number {
  const t = text.trim().toLowerCase().replace(/^0x/, '');
  if (!/^[0-9a-f]{1,16}$/.test(t)) throw new UsageError(`whatis: '${text}' is not an address (expected hex, e.g. ffff888001234560 or 0x1234560)`);
  let v = BigInt(`0x${t}`);
  if (v >= PAGE_OFFSET) v -= PAGE_OFFSET;
  if (v >= BigInt(memSize)) {
    throw new UsageError(`whatis: ${text} is outside the machine's memory (physical 0x0-0x${(memSize - 1).toString(16)}, direct map ${virt(0)}-${virt(memSize - 1)})`, 1);
  }
  return Number(v);
}

export interface WhatisResult {
  address: string;
  physical: string;
  pfn: number;
  zone: string | null;
  page: string;
  pageFlags: string[];
  migratetype: string | null;
  /** buddy | pcp | slab | large_kmalloc | allocated | reserved */
  state: string;
  /** buddy/pcp: the free block; allocated: the block the page heads or is part of */
  block?: { head: number; order: number; cpu?: number };
  slab?: {
    cache: string;
    objectSize: number;
    slotSize: number;
    objectsPerSlab: number;
    order: number;
    cacheAllocated: number;
    cacheTotal: number;
    cacheSlabs: number;
    slab: string;
    memory: string;
    inuse: number;
    objects: number;
    frozen: boolean;
    cpuSlabOf: number | null;
    object: string;
    index: number;
    offset: number;
    /** where in the slot: object, left/right redzone or padding, metadata */
    region: string;
    free: boolean;
    /** freed, but held in KASAN's quarantine: on no freelist until it is released */
    quarantined: boolean;
    tracks: string[];
  };
  largeKmalloc?: { head: string; order: number; requested: number; offset: number };
}

/** The free objects of a slab: its own freelist, plus the cpu freelist of a CPU that owns it. */
function freeObjects(k: Kernel, s: number, slab: number): { free: Set<number>; cpu: number | null } {
  const slub = k.slub;
  const free = new Set<number>();
  const limit = k.pages.slabObjects[slab]!;
  for (let o = slub.slabFreelist(s, slab); o !== 0 && free.size <= limit; o = slub.getFreepointer(s, o)) free.add(o);
  let owner: number | null = null;
  for (let cpu = 0; cpu < k.cpus; cpu++) {
    const i = cpu * MAX_CACHES + s;
    if (slub.st.cpuSlab[i] !== slab) continue;
    owner = cpu;
    for (let o = slub.st.cpuFreelist[i]!; o !== 0 && free.size <= limit; o = slub.getFreepointer(s, o)) free.add(o);
  }
  return { free, cpu: owner };
}

/** The free buddy block holding pfn: its head and order, or null. */
function buddyBlock(k: Kernel, pfn: number): { head: number; order: number } | null {
  const p = k.pages;
  for (let o = 0; o <= MAX_PAGE_ORDER; o++) {
    const h = pfn & ~((1 << o) - 1);
    if (p.pageType[h] === PGTY_buddy && p.order[h]! >= o && pfn < h + (1 << p.order[h]!)) return { head: h, order: p.order[h]! };
  }
  return null;
}

/** The pcp list holding a block that contains pfn: head, order, CPU; or null. */
function pcpBlock(k: Kernel, pfn: number): { head: number; order: number; cpu: number } | null {
  const pa = k.pageAlloc;
  for (let cpu = 0; cpu < k.cpus; cpu++) {
    for (let z = 0; z < MAX_NR_ZONES; z++) {
      const base = (cpu * MAX_NR_ZONES + z) * NR_PCP_LISTS;
      for (let li = 0; li < NR_PCP_LISTS; li++) {
        const order = Math.floor(li / 3);
        for (let h = pa.pcpHead[base + li]!; h >= 0; h = k.pages.next[h]!) {
          if (pfn >= h && pfn < h + (1 << order)) return { head: h, order, cpu };
        }
      }
    }
  }
  return null;
}

function zoneOf(k: Kernel, pfn: number): number {
  const zs = k.pageAlloc.zones;
  for (let z = 0; z < MAX_NR_ZONES; z++) {
    if (!zs.populated(z)) continue;
    const start = zs.get(z, Z_START_PFN);
    if (pfn >= start && pfn < start + zs.get(z, Z_SPANNED)) return z;
  }
  return -1;
}

/** Resolve a physical address. */
export function whatis(k: Kernel, phys: number): WhatisResult {
  const pfn = Math.floor(phys / PAGE_SIZE);
  const p = k.pages;
  const z = zoneOf(k, pfn);
  const flags = p.flags[pfn]!;
  const r: WhatisResult = {
    address: virt(phys),
    physical: `0x${phys.toString(16)}`,
    pfn,
    zone: z >= 0 ? zoneNames[z]! : null,
    page: pageAddr(pfn),
    pageFlags: pageflagNames.filter(([bit]) => flags & (1 << bit)).map(([, n]) => n),
    migratetype: z >= 0 ? (migratetypeNames[k.pageAlloc.getPageblockMigratetype(pfn)] ?? null) : null,
    state: 'allocated',
  };
  if (z < 0) {
    r.state = 'reserved';
    return r;
  }
  const head = p.compoundHead(pfn);
  const type = p.pageType[head]!;
  if (type === PGTY_slab) {
    const s = p.slabCache[head]!;
    const cf = k.slub.cf;
    const row = s * C_FIELDS;
    const size = cf[row + C_SIZE]!;
    const base = head * PAGE_SIZE + cf[row + C_RED_LEFT_PAD]!;
    const slotStart = head * PAGE_SIZE;
    const objects = p.slabObjects[head]!;
    let index = Math.floor((phys - slotStart) / size);
    if (index >= objects) index = objects - 1;
    const obj = base + index * size;
    const offset = phys - obj;
    const objectSize = cf[row + C_OBJECT_SIZE]!;
    const region =
      phys >= slotStart + objects * size
        ? 'slab padding (after the last object)'
        : offset < 0
          ? 'left red zone'
          : offset < objectSize
            ? 'object'
            : 'after the object (red zone, free pointer, tracks or padding)';
    const { free, cpu } = freeObjects(k, s, head);
    const info = k.slub.caches[s]!;
    const tracks = k.slub.debug?.printTracking(s, obj) ?? [];
    r.state = 'slab';
    r.slab = {
      cache: info.name,
      objectSize,
      slotSize: size,
      objectsPerSlab: cf[row + C_OBJECTS]!,
      order: cf[row + C_ORDER]!,
      cacheAllocated: k.slab.liveObjects(s),
      cacheTotal: cf[row + C_TOTAL_OBJECTS]!,
      cacheSlabs: cf[row + C_NR_SLABS]!,
      slab: pageAddr(head),
      memory: virt(head * PAGE_SIZE),
      inuse: objects - free.size,
      objects,
      frozen: k.slub.slabFrozen(head),
      cpuSlabOf: cpu,
      object: virt(obj),
      index,
      offset,
      region,
      free: free.has(obj),
      quarantined: k.kasan?.quarantine.contains(obj) === true,
      tracks,
    };
    return r;
  }
  if (type === PGTY_large_kmalloc) {
    const order = p.order[head]!;
    r.state = 'large_kmalloc';
    r.largeKmalloc = { head: virt(head * PAGE_SIZE), order, requested: p.index[head]!, offset: phys - head * PAGE_SIZE };
    r.block = { head, order };
    return r;
  }
  const buddy = buddyBlock(k, pfn);
  if (buddy !== null) {
    r.state = 'buddy';
    r.block = buddy;
    return r;
  }
  const pcp = pcpBlock(k, pfn);
  if (pcp !== null) {
    r.state = 'pcp';
    r.block = pcp;
    return r;
  }
  if (p.refcount[head]! > 0) {
    r.block = { head, order: p.flags[head]! & (1 << PG_head) || head === pfn ? p.order[head]! : 0 };
    r.state = 'allocated';
  } else {
    // a tail page of a non-compound block: walk back to a head with a refcount
    for (let o = 1; o <= MAX_PAGE_ORDER; o++) {
      const h = pfn & ~((1 << o) - 1);
      if (p.refcount[h]! > 0 && p.order[h]! >= o && pfn < h + (1 << p.order[h]!)) {
        r.block = { head: h, order: p.order[h]! };
        break;
      }
    }
    if (r.block === undefined) r.state = 'reserved';
  }
  return r;
}

/** The text of `kmem whatis`. */
export function formatWhatis(k: Kernel, r: WhatisResult): string {
  const L: string[] = [];
  const s = r.slab;
  if (s) {
    L.push(
      `${r.address}: ${s.free ? 'free' : s.quarantined ? 'freed (in the KASAN quarantine)' : 'allocated'} ${s.cache} object ${s.object}${s.region === 'object' ? `, offset ${s.offset} of ${s.objectSize}` : ` (${s.region}, offset ${s.offset})`}`,
    );
    L.push('CACHE                OBJSIZE  ALLOCATED     TOTAL  SLABS  SSIZE');
    L.push(
      `${s.cache.padEnd(20)} ${String(s.objectSize).padStart(7)} ${String(s.cacheAllocated).padStart(10)} ${String(s.cacheTotal).padStart(9)} ${String(s.cacheSlabs).padStart(6)} ${`${4 << s.order}k`.padStart(6)}`,
    );
    L.push('  SLAB              MEMORY            NODE  TOTAL  ALLOCATED  FREE');
    L.push(
      `  ${s.slab}  ${s.memory}  ${String(0).padStart(4)}  ${String(s.objects).padStart(5)}  ${String(s.inuse).padStart(9)}  ${String(s.objects - s.inuse).padStart(4)}` +
        (s.cpuSlabOf !== null ? `  (cpu slab of CPU ${s.cpuSlabOf})` : s.frozen ? '  (frozen)' : ''),
    );
    L.push('  FREE / [ALLOCATED]');
    L.push(s.free ? `   ${s.object}  (index ${s.index})` : `  [${s.object}]  (index ${s.index})${s.quarantined ? '  quarantined' : ''}`);
    L.push('');
    if (s.tracks.length > 0) L.push(...s.tracks, '');
    else L.push('no alloc/free tracks recorded (boot with --slub-debug U to keep them)', '');
  } else if (r.largeKmalloc) {
    const lk = r.largeKmalloc;
    L.push(`${r.address}: large kmalloc of ${lk.requested} bytes at ${lk.head} (order ${lk.order}, ${PAGE_SIZE << lk.order} bytes), offset ${lk.offset}`, '');
  } else {
    const b = r.block;
    const what =
      r.state === 'buddy'
        ? `free in the buddy allocator: order-${b!.order} block at pfn 0x${b!.head.toString(16)}`
        : r.state === 'pcp'
          ? `free on CPU ${b!.cpu}'s per-CPU list: order-${b!.order} block at pfn 0x${b!.head.toString(16)}`
          : r.state === 'reserved'
            ? 'reserved: not managed by the buddy allocator'
            : b
              ? `allocated page (order-${b.order} block at pfn 0x${b.head.toString(16)})`
              : 'allocated page';
    L.push(`${r.address}: ${what}`, '');
  }
  L.push('      PAGE        PHYSICAL      MAPPING       INDEX CNT FLAGS');
  const p = k.pages;
  const type = p.pageType[p.compoundHead(r.pfn)]!;
  const names = [...r.pageFlags, ...(p.head[r.pfn]! >= 0 ? ['tail'] : []), ...(type ? [pageTypeNames[type] ?? ''] : [])];
  L.push(
    `${r.page.padStart(16)}  ${(r.pfn * PAGE_SIZE).toString(16).padStart(8)}                0  ${String(p.index[r.pfn]).padStart(10)} ${String(Math.max(0, p.refcount[r.pfn]!)).padStart(2)} ${p.flags[r.pfn]!.toString(16)} ${names.join(',')}`,
  );
  L.push(`ZONE: ${r.zone ?? '-'}  MIGRATETYPE: ${r.migratetype ?? '-'}  PFN: 0x${r.pfn.toString(16)}`);
  return `${L.join('\n')}\n`;
}
