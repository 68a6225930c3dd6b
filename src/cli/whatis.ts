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

import { OBJ_FREE_CPU, OBJ_FREE_SLAB, OBJ_QUARANTINED } from '../inspect.js';
import type { Kernel } from '../kernel.js';
import { PAGE_OFFSET, PAGE_SIZE } from '../memory/memblock.js';
import { pageflagNames } from '../memory/page.js';
import { MAX_PAGE_ORDER, migratetypeNames, zoneNames } from '../page_alloc/mmzone.js';
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
    throw new UsageError(
      `whatis: ${text} is outside the machine's memory (physical 0x0-0x${(memSize - 1).toString(16)}, direct map ${virt(0)}-${virt(memSize - 1)})`,
      1,
    );
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

/** The free buddy block holding pfn: its head and order, or null. */
function buddyBlock(k: Kernel, pfn: number): { head: number; order: number } | null {
  for (let o = 0; o <= MAX_PAGE_ORDER; o++) {
    const h = pfn & ~((1 << o) - 1);
    const pg = k.inspect.page(h);
    if (pg.type === 'buddy' && pg.order >= o && pfn < h + (1 << pg.order)) return { head: h, order: pg.order };
  }
  return null;
}

/** The pcp list holding a block that contains pfn: head, order, CPU; or null. */
function pcpBlock(k: Kernel, pfn: number): { head: number; order: number; cpu: number } | null {
  const place = k.inspect.pcpPlace(pfn);
  // pcp blocks are naturally aligned buddy blocks: the head is pfn rounded down to the order.
  return place === null ? null : { head: pfn & ~((1 << place.order) - 1), order: place.order, cpu: place.cpu };
}

/** Resolve a physical address, through k.inspect's read-only snapshots. */
export function whatis(k: Kernel, phys: number): WhatisResult {
  const pfn = Math.floor(phys / PAGE_SIZE);
  const sp = k.inspect.structPage(pfn);
  const z = sp.zone;
  const r: WhatisResult = {
    address: virt(phys),
    physical: `0x${phys.toString(16)}`,
    pfn,
    zone: z >= 0 ? (zoneNames[z] ?? null) : null,
    page: pageAddr(pfn),
    pageFlags: pageflagNames.filter(([bit]) => sp.flags & (1 << bit)).map(([, n]) => n),
    migratetype: z >= 0 ? (migratetypeNames[sp.migratetype] ?? null) : null,
    state: 'allocated',
  };
  if (z < 0) {
    r.state = 'reserved';
    return r;
  }
  const head = sp.compoundHead >= 0 ? sp.compoundHead : pfn;
  const headPage = k.inspect.page(head);
  if (sp.slab !== null) {
    const s = sp.slab.cache;
    const g = k.inspect.cacheGeometry(s);
    const counters = k.inspect.cacheCounters(s);
    const slab = k.inspect.slab(s, sp.slab.head);
    const size = g.size;
    const slotStart = slab.pfn * PAGE_SIZE;
    const base = slotStart + g.redLeftPad;
    const objects = slab.objects;
    let index = Math.floor((phys - slotStart) / size);
    if (index >= objects) index = objects - 1;
    const obj = base + index * size;
    const offset = phys - obj;
    const region =
      phys >= slotStart + objects * size
        ? 'slab padding (after the last object)'
        : offset < 0
          ? 'left red zone'
          : offset < g.objectSize
            ? 'object'
            : 'after the object (red zone, free pointer, tracks or padding)';
    const state = slab.states[index];
    const free = state === OBJ_FREE_CPU || state === OBJ_FREE_SLAB;
    const freeCount = slab.states.filter((x) => x === OBJ_FREE_CPU || x === OBJ_FREE_SLAB).length;
    r.state = 'slab';
    r.slab = {
      cache: g.name,
      objectSize: g.objectSize,
      slotSize: size,
      objectsPerSlab: g.objects,
      order: g.order,
      cacheAllocated: k.inspect.liveObjects(s),
      cacheTotal: counters.totalObjects,
      cacheSlabs: counters.nrSlabs,
      slab: pageAddr(slab.pfn),
      memory: virt(slotStart),
      inuse: objects - freeCount,
      objects,
      frozen: slab.frozen,
      cpuSlabOf: slab.where === 'cpu' ? slab.cpu : null,
      object: virt(obj),
      index,
      offset,
      region,
      free,
      quarantined: state === OBJ_QUARANTINED,
      tracks: k.inspect.objectTracks(s, obj),
    };
    return r;
  }
  if (headPage.type === 'large_kmalloc') {
    const order = headPage.order;
    r.state = 'large_kmalloc';
    r.largeKmalloc = { head: virt(head * PAGE_SIZE), order, requested: sp.largeKmallocSize, offset: phys - head * PAGE_SIZE };
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
  if (headPage.refcount > 0) {
    r.block = { head, order: k.inspect.structPage(head).isHead || head === pfn ? headPage.order : 0 };
    r.state = 'allocated';
  } else {
    // a tail page of a non-compound block: walk back to a head with a refcount
    for (let o = 1; o <= MAX_PAGE_ORDER; o++) {
      const h = pfn & ~((1 << o) - 1);
      const pg = k.inspect.page(h);
      if (pg.refcount > 0 && pg.order >= o && pfn < h + (1 << pg.order)) {
        r.block = { head: h, order: pg.order };
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
  const sp = k.inspect.structPage(r.pfn);
  const type = k.inspect.page(r.pfn).type;
  const names = [...r.pageFlags, ...(sp.compoundHead >= 0 ? ['tail'] : []), ...(type !== '' ? [type] : [])];
  L.push(
    `${r.page.padStart(16)}  ${(r.pfn * PAGE_SIZE).toString(16).padStart(8)}                0  ${String(sp.index).padStart(10)} ${String(Math.max(0, sp.refcount)).padStart(2)} ${sp.flags.toString(16)} ${names.join(',')}`,
  );
  L.push(`ZONE: ${r.zone ?? '-'}  MIGRATETYPE: ${r.migratetype ?? '-'}  PFN: 0x${r.pfn.toString(16)}`);
  return `${L.join('\n')}\n`;
}
