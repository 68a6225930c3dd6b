/**
 * `k.inspect`: a read-only view of a machine for tools (the CLI, the
 * browser view, a user's own dashboard). Every call returns a fresh
 * snapshot made of plain objects and copied arrays: nothing returned
 * aliases the kernel's state, and nothing here changes it.
 */
import type { Machine } from './init/main.js';
import { PAGE_SIZE } from './memory/memblock.js';
import { PGTY_slab, pageTypeNames } from './memory/page.js';
import { MAX_NR_ZONES, NR_PAGE_ORDERS, WMARK_HIGH, WMARK_LOW, WMARK_MIN, Z_FREE, Z_MANAGED, Z_PRESENT, Z_SPANNED, Z_START_PFN, Z_WMARK, zoneNames } from './page_alloc/mmzone.js';
import { slabinfoRows } from './proc/slabinfo.js';
import { CF } from './slub/slab.js';

/** One cache as /proc/slabinfo and /sys/kernel/slab describe it. */
export interface CacheSnapshot {
  /** The handle kmemCacheByName() gives for this name. */
  handle: number;
  name: string;
  /** The object size asked for (object_size). */
  objectSize: number;
  /** The slot stride with metadata (slabinfo's objsize). */
  size: number;
  align: number;
  order: number;
  objsPerSlab: number;
  activeObjs: number;
  numObjs: number;
  slabs: number;
}

/** One zone: its span, counts and watermarks (pages), and its free lists. */
export interface ZoneSnapshot {
  name: string;
  startPfn: number;
  spanned: number;
  present: number;
  managed: number;
  free: number;
  watermarks: { min: number; low: number; high: number };
  /** nr_free per order (free_area[order].nr_free). */
  nrFree: number[];
}

/** One page frame. */
export interface PageSnapshot {
  pfn: number;
  addr: number;
  /** page_type's name ('buddy', 'slab', 'large_kmalloc', ...) or '' for none. */
  type: string;
  /** The order of the block this page heads (buddy and compound pages), else 0. */
  order: number;
  refcount: number;
  /** The pfn of the compound head, or the page itself. */
  head: number;
  /** The cache's name for a slab page, else null. */
  cache: string | null;
}

export class Inspector {
  constructor(private readonly m: Machine) {}

  /** Bytes of RAM. */
  get memory(): number {
    return this.m.phys.size;
  }

  /** Page frames, pfn 0 .. nrPages-1. */
  get nrPages(): number {
    return this.m.phys.nrPages;
  }

  /** Every cache /proc/slabinfo lists, newest first as the kernel prints them. */
  caches(): CacheSnapshot[] {
    const slab = this.m.slab;
    const cf = this.m.slub.cf;
    const ids = slab.slabCaches;
    return slabinfoRows(slab).map((row, i) => {
      const id = ids[ids.length - 1 - i] as number;
      const r = id * CF.FIELDS;
      return {
        handle: slab.findByName(row.name),
        name: row.name,
        objectSize: cf[r + CF.OBJECT_SIZE] as number,
        size: row.objsize,
        align: cf[r + CF.ALIGN] as number,
        order: cf[r + CF.ORDER] as number,
        objsPerSlab: row.objperslab,
        activeObjs: row.activeObjs,
        numObjs: row.numObjs,
        slabs: row.numSlabs,
      };
    });
  }

  /** The populated zones. */
  zones(): ZoneSnapshot[] {
    const zs = this.m.pageAlloc.zones;
    const out: ZoneSnapshot[] = [];
    for (let z = 0; z < MAX_NR_ZONES; z++) {
      if (!zs.populated(z)) continue;
      const nrFree: number[] = [];
      for (let o = 0; o < NR_PAGE_ORDERS; o++) nrFree.push(zs.nrFree[z * NR_PAGE_ORDERS + o] as number);
      out.push({
        name: zoneNames[z] as string,
        startPfn: zs.get(z, Z_START_PFN),
        spanned: zs.get(z, Z_SPANNED),
        present: zs.get(z, Z_PRESENT),
        managed: zs.get(z, Z_MANAGED),
        free: zs.get(z, Z_FREE),
        watermarks: { min: zs.get(z, Z_WMARK + WMARK_MIN), low: zs.get(z, Z_WMARK + WMARK_LOW), high: zs.get(z, Z_WMARK + WMARK_HIGH) },
        nrFree,
      });
    }
    return out;
  }

  /** One page frame. */
  page(pfn: number): PageSnapshot {
    if (typeof pfn !== 'number' || !Number.isInteger(pfn) || pfn < 0 || pfn >= this.m.phys.nrPages) {
      throw new RangeError(`pfn: expected an integer 0..${this.m.phys.nrPages - 1}, got ${String(pfn)}`);
    }
    const p = this.m.pages;
    const h = p.head[pfn] as number;
    const head = h < 0 ? pfn : h;
    const type = p.pageType[head] as number;
    const cacheId = type === PGTY_slab ? (p.slabCache[head] as number) : -1;
    return {
      pfn,
      addr: pfn * PAGE_SIZE,
      type: pageTypeNames[type] ?? '',
      order: p.order[pfn] as number,
      refcount: p.refcount[pfn] as number,
      head,
      cache: cacheId >= 0 ? (this.m.slub.caches[cacheId]?.name ?? null) : null,
    };
  }

  /** KASAN's shadow bytes for [addr, addr + len) (one per 8 bytes), or null without KASAN. */
  shadow(addr: number, len: number): Uint8Array | null {
    const kasan = this.m.kasan;
    if (kasan === null) return null;
    if (!Number.isInteger(addr) || !Number.isInteger(len) || addr < 0 || len < 0 || addr + len > this.m.phys.size) {
      throw new RangeError(`addr: [${String(addr)}, +${String(len)}) is outside physical memory`);
    }
    return kasan.sh.slice(addr >>> 3, (addr + len + 7) >>> 3);
  }
}
