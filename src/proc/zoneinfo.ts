/**
 * /proc/zoneinfo and /proc/vmstat (mm/vmstat.c zoneinfo_show_print,
 * vmstat_show) as Linux 6.18 prints them. Every zone is printed, populated or
 * not; an empty zone stops after its protection line, a populated one after
 * start_pfn (the reserved_highatomic and free_highatomic lines came after
 * 6.18). A counter kmem does not keep prints 0, in the kernel's place.
 */
import { PG } from '../memory/page.js';
import {
  listIndex,
  MAX_NR_ZONES,
  MIGRATE_ISOLATE,
  MIGRATE_TYPES,
  NR_PAGE_ORDERS,
  pageblock_order,
  WMARK_HIGH,
  WMARK_LOW,
  WMARK_MIN,
  WMARK_PROMO,
  Z_BOOST,
  Z_FREE,
  Z_LOWMEM_RESERVE,
  Z_MANAGED,
  Z_PRESENT,
  Z_SPANNED,
  Z_START_PFN,
  Z_WMARK,
  zoneNames,
} from '../page_alloc/mmzone.js';
import {
  EV_ALLOCSTALL,
  EV_NUMA_HIT,
  EV_PGALLOC,
  EV_PGFREE,
  type PageAlloc,
  PCP_BATCH,
  PCP_COUNT,
  PCP_FIELDS,
  PCP_HIGH,
  PCP_HIGH_MAX,
  PCP_HIGH_MIN,
} from '../page_alloc/page_alloc.js';
import type { SlabCommon } from '../slub/slab_common.js';
import type { Sysctl, VmCounters } from './sysctl.js';
import { nodeStatItems, numaEventItems, vmEventItems, vmStatItems, zoneStatItems } from './vmstat_items.js';

/** What the renderers need beyond the page allocator: the slab layer's page counts. */
export interface VmSource {
  readonly pageAlloc: PageAlloc;
  slabPages(reclaimable: boolean): number;
  /** The slab layer, for the debugfs slab files; read when a file is read (it is set up after the page allocator). */
  readonly slab?: SlabCommon;
  /** RAM, for meminfo's DirectMap lines. */
  readonly phys?: { readonly size: number };
  /** struct page flags by pfn, for NR_ZONE_WRITE_PENDING */
  readonly pages?: { readonly flags: ArrayLike<number> };
}

function fls(x: number): number {
  return x === 0 ? 0 : 32 - Math.clz32(x);
}

/** calculate_normal_threshold(): the per-CPU vmstat drift allowed before folding. */
export function statThreshold(managed: number, cpus: number): number {
  const mem = Math.floor(managed / (1 << (27 - 12)));
  return Math.min(125, 2 * fls(cpus) * (1 + fls(mem)));
}

/**
 * The LRU lists per zone: [anon, file] pages on them (active, inactive and,
 * for anon, nothing else: unevictable pages are counted apart), from the
 * lists' own counts (src/vm/mm_inline.ts).
 */
export function lruByZone(_src: VmSource, vm: VmCounters | null): [number, number][] {
  const out: [number, number][] = [];
  for (let z = 0; z < MAX_NR_ZONES; z++) {
    if (vm === null) {
      out.push([0, 0]);
      continue;
    }
    const g = (n: string) => vm.lruStat(n, z) ?? 0;
    out.push([g('nr_zone_inactive_anon') + g('nr_zone_active_anon'), g('nr_zone_inactive_file') + g('nr_zone_active_file')]);
  }
  return out;
}

function nodeStat(src: VmSource, vm: VmCounters | null, name: string): number {
  const lru = vm?.lruStat(name, -1);
  if (lru !== undefined) return lru;
  if (name === 'nr_slab_reclaimable') return src.slabPages(true);
  if (name === 'nr_slab_unreclaimable') return src.slabPages(false);
  if (vm === null) return 0;
  const sw = vm.swapStat?.(name);
  if (sw !== undefined) return sw;
  switch (name) {
    case 'nr_anon_pages':
      return vm.nrAnonMapped;
    case 'nr_mapped':
      return vm.nrFileMapped;
    case 'nr_file_pages':
      return vm.nrFilePages;
    case 'nr_shmem':
      return vm.nrShmem;
    case 'nr_page_table_pages':
      return vm.pt.nrPageTables;
    case 'nr_dirty':
      return vm.nrFileDirty ?? 0;
    case 'nr_writeback':
      return vm.nrWriteback ?? 0;
    case 'nr_dirtied':
      return vm.nrDirtied ?? 0;
    case 'nr_written':
      return vm.nrWritten ?? 0;
    default:
      return 0;
  }
}

/**
 * NR_ZONE_WRITE_PENDING per zone: the page-cache pages of regular files that
 * are dirty or under writeback (the kernel moves it with NR_FILE_DIRTY and
 * NR_WRITEBACK; kmem counts the flags when read).
 */
export function writePendingByZone(src: VmSource, vm: VmCounters | null): number[] {
  const zs = src.pageAlloc.zones;
  const out: number[] = [];
  const flags = src.pages?.flags;
  const pending = (1 << PG.dirty) | (1 << PG.writeback);
  for (let z = 0; z < MAX_NR_ZONES; z++) {
    let n = 0;
    if (vm !== null && flags !== undefined && (vm.nrFileDirty ?? 0) + (vm.nrWriteback ?? 0) > 0) {
      const start = zs.get(z, Z_START_PFN);
      const end = Math.min(start + zs.get(z, Z_SPANNED), vm.pageKind.length);
      for (let pfn = start; pfn < end; pfn++) if (vm.pageKind[pfn] === 2 && (flags[pfn]! & pending) !== 0) n++;
    }
    out.push(n);
  }
  return out;
}

function zoneStat(pa: PageAlloc, z: number, name: string, vm: VmCounters | null, wp: number[] = []): number {
  if (name === 'nr_zone_write_pending') return wp[z] ?? 0;
  if (name === 'nr_free_pages') return pa.zones.get(z, Z_FREE);
  const lru = vm?.lruStat(name, z);
  if (lru !== undefined) return lru;
  if (name === 'nr_free_pages_blocks') return freePagesBlocks(pa, z);
  return 0;
}

/**
 * NR_FREE_PAGES_BLOCKS: the pages of free buddies of pageblock order or more,
 * outside the isolate lists (the kernel adds and subtracts it wherever such a
 * buddy joins or leaves a free list; kmem counts the lists when read).
 */
function freePagesBlocks(pa: PageAlloc, z: number): number {
  let n = 0;
  for (let o = pageblock_order; o < NR_PAGE_ORDERS; o++) {
    for (let mt = 0; mt < MIGRATE_TYPES; mt++) {
      if (mt !== MIGRATE_ISOLATE) n += pa.zones.freeCount[listIndex(z, o, mt)]! * 2 ** o;
    }
  }
  return n;
}

function numaStat(pa: PageAlloc, z: number, name: string): number {
  if (name === 'numa_hit' || name === 'numa_local') return pa.events[EV_NUMA_HIT + z]!;
  return 0;
}

export function zoneinfo(src: VmSource, vm: VmCounters | null = null): string {
  const pa = src.pageAlloc;
  const zs = pa.zones;
  let firstPopulated = -1;
  for (let z = 0; z < MAX_NR_ZONES; z++) {
    if (zs.populated(z)) {
      firstPopulated = z;
      break;
    }
  }
  const wp = writePendingByZone(src, vm);
  let out = '';
  for (let z = 0; z < MAX_NR_ZONES; z++) {
    out += `Node 0, zone ${zoneNames[z]!.padStart(8)}`;
    if (z === firstPopulated) {
      out += '\n  per-node stats';
      for (const name of nodeStatItems) out += `\n      ${name.padEnd(12)} ${nodeStat(src, vm, name)}`;
    }
    const g = (f: number) => zs.get(z, f);
    out +=
      `\n  pages free     ${g(Z_FREE)}` +
      `\n        boost    ${g(Z_BOOST)}` +
      `\n        min      ${g(Z_WMARK + WMARK_MIN)}` +
      `\n        low      ${g(Z_WMARK + WMARK_LOW)}` +
      `\n        high     ${g(Z_WMARK + WMARK_HIGH)}` +
      `\n        promo    ${g(Z_WMARK + WMARK_PROMO)}` +
      `\n        spanned  ${g(Z_SPANNED)}` +
      `\n        present  ${g(Z_PRESENT)}` +
      `\n        managed  ${g(Z_MANAGED)}` +
      `\n        cma      0`;
    const prot: number[] = [];
    for (let j = 0; j < MAX_NR_ZONES; j++) prot.push(g(Z_LOWMEM_RESERVE + j));
    out += `\n        protection: (${prot.join(', ')})`;
    if (!zs.populated(z)) {
      out += '\n';
      continue;
    }
    for (const name of zoneStatItems) out += `\n      ${name.padEnd(12)} ${zoneStat(pa, z, name, vm, wp)}`;
    for (const name of numaEventItems) out += `\n      ${name.padEnd(12)} ${numaStat(pa, z, name)}`;
    out += '\n  pagesets';
    const threshold = statThreshold(g(Z_MANAGED), pa.cpus);
    for (let cpu = 0; cpu < pa.cpus; cpu++) {
      const row = (cpu * MAX_NR_ZONES + z) * PCP_FIELDS;
      out +=
        `\n    cpu: ${cpu}` +
        `\n              count:    ${pa.pcp[row + PCP_COUNT]}` +
        `\n              high:     ${pa.pcp[row + PCP_HIGH]}` +
        `\n              batch:    ${pa.pcp[row + PCP_BATCH]}` +
        `\n              high_min: ${pa.pcp[row + PCP_HIGH_MIN]}` +
        `\n              high_max: ${pa.pcp[row + PCP_HIGH_MAX]}` +
        `\n  vm stats threshold: ${threshold}`;
    }
    out += `\n  node_unreclaimable:  ${vm?.lruStat('node_unreclaimable', -1) ?? 0}\n  start_pfn:           ${g(Z_START_PFN)}\n`;
  }
  return out;
}

/** /proc/vmstat: one "name value" line per counter, then the deprecated nr_unstable. */
export function vmstat(src: VmSource, vm: VmCounters | null = null, sysctl: Sysctl | null = null): string {
  const pa = src.pageAlloc;
  let out = '';
  const sumZones = (f: (z: number) => number) => {
    let s = 0;
    for (let z = 0; z < MAX_NR_ZONES; z++) s += f(z);
    return s;
  };
  const wp = writePendingByZone(src, vm);
  for (const name of zoneStatItems) out += `${name} ${sumZones((z) => zoneStat(pa, z, name, vm, wp))}\n`;
  for (const name of numaEventItems) out += `${name} ${sumZones((z) => numaStat(pa, z, name))}\n`;
  for (const name of nodeStatItems) out += `${name} ${nodeStat(src, vm, name)}\n`;
  const free = sumZones((z) => pa.zones.get(z, Z_FREE));
  // Dirty thresholds: global_dirty_limits() when the vm half exists; before it, 20% and 10% of free less the high watermarks.
  const dirtyable = Math.max(0, free - sumZones((z) => pa.zones.get(z, Z_WMARK + WMARK_HIGH)));
  const limits = vm?.dirtyThresholds?.() ?? [Math.floor((dirtyable * 20) / 100), Math.floor((dirtyable * 10) / 100)];
  const thresholds: Record<(typeof vmStatItems)[number], number> = {
    nr_dirty_threshold: limits[0],
    nr_dirty_background_threshold: limits[1],
    // The memmap pages kmem's struct page arrays stand for are not counted.
    nr_memmap_pages: 0,
    nr_memmap_boot_pages: 0,
  };
  for (const name of vmStatItems) out += `${name} ${thresholds[name]}\n`;
  for (const name of vmEventItems) out += `${name} ${vmEvent(pa, vm, sysctl, name)}\n`;
  out += 'nr_unstable 0\n';
  return out;
}

function vmEvent(pa: PageAlloc, vm: VmCounters | null, sysctl: Sysctl | null, name: string): number {
  if (name.startsWith('pgalloc_')) {
    const z = zoneNames.findIndex((n) => `pgalloc_${n.toLowerCase()}` === name);
    return z >= 0 ? pa.events[EV_PGALLOC + z]! : 0;
  }
  if (name === 'pgfree') return pa.events[EV_PGFREE]! + pa.bootFreePages;
  // Allocation stalls before the VM half (and its reclaim) started are the page allocator's own count.
  const early = name === 'allocstall_normal' ? pa.events[EV_ALLOCSTALL]! : 0;
  if (name === 'drop_pagecache') return sysctl?.dropPagecache ?? 0;
  if (name === 'drop_slab') return sysctl?.dropSlab ?? 0;
  if (vm === null) return early;
  const lru = vm.lruStat(name, -1);
  if (lru !== undefined) return lru + early;
  if (name === 'pgfault') return vm.pgfault;
  if (name === 'pgmajfault') return vm.pgmajfault;
  if (name === 'pgreuse') return vm.pgreuse;
  if (name === 'oom_kill') return vm.oomKillCount ?? 0;
  if (name === 'pgpgin') return vm.pgpgin ?? 0;
  if (name === 'pgpgout') return vm.pgpgout ?? 0;
  const sw = vm.swapStat?.(name);
  if (sw !== undefined) return sw;
  const cs = vm.compactStat?.(name);
  if (cs !== undefined) return cs;
  return 0;
}
