/**
 * The memory-pressure part of `k.inspect` (src/inspect.ts calls these): the
 * node's LRU lists (mm/swap.c, include/linux/mm_inline.h), the page cache
 * per file (mm/filemap.c), kswapd's and reclaim's state (mm/vmscan.c), and
 * the swap area's slots when swap is on.
 *
 * Like the rest of k.inspect, every result is a fresh copy and no call here
 * changes the machine: the lists are walked through pages.next/prev by pfn
 * without touching them, the xarrays with their own forEach.
 */
import type { Machine } from './init/main.js';
import { PG } from './memory/page.js';
import { MAX_NR_ZONES } from './page_alloc/mmzone.js';
import { MAX_RECLAIM_RETRIES } from './page_alloc/page_alloc.js';
import { pageCache } from './vm/filemap.js';
import { NR_LRU_LISTS } from './vm/mm_inline.js';
import { KIND_ANON, KIND_FILE, KIND_SHMEM, type Vm } from './vm/vm.js';
import { reclaimState } from './vm/vmscan.js';

/** The lists in the kernel's enum lru_list order (LRU_INACTIVE_ANON = 0 ... LRU_UNEVICTABLE = 4), named as /proc/zoneinfo's nr_zone_* lines name them. */
export const lruListNames: readonly string[] = ['inactive_anon', 'active_anon', 'inactive_file', 'active_file', 'unevictable'];

/** Bits of LruPage.bits and PageCacheFile.bits: the page flags the pressure view draws. */
export const LP_REFERENCED = 1;
export const LP_ACTIVE = 2;
export const LP_DIRTY = 4;
export const LP_WRITEBACK = 8;
/** PG_swapcache (PG_owner_priv_1 together with PG_swapbacked) */
export const LP_SWAPCACHE = 16;
export const LP_WORKINGSET = 32;
/** PG_lru: on an LRU list (a page-cache page not on one is isolated by reclaim, or not added yet) */
export const LP_LRU = 64;
export const LP_UNEVICTABLE = 128;

/** Who owns a page on an LRU list: page->mapping's kind. */
export type LruOwner = 'anon' | 'file' | 'shmem' | 'other';

/** One page on an LRU list. */
export interface LruPage {
  pfn: number;
  /** LP_* bits */
  bits: number;
  owner: LruOwner;
  /** The file's or shmem's inode number (0 for anon). */
  ino: number;
  /** page->index: the file offset in pages, or the anonymous page's linear index. */
  index: number;
}

/** One LRU list of the node. */
export interface LruListSnapshot {
  /** enum lru_list */
  lru: number;
  name: string;
  /** Pages on the list (the node's NR_LRU_BASE + lru). */
  count: number;
  /** The first pages from the head (list_add puts new pages there), in list order. */
  head: LruPage[];
  /** The last pages, in list order, ending with the tail (reclaim isolates from the tail); none of them in `head`. */
  tail: LruPage[];
}

/** One file's pages in the page cache. */
export interface PageCacheFile {
  ino: number;
  /** The file's path, '' for one no longer linked (or a shmem inode). */
  path: string;
  /** mapping->nrpages */
  nrpages: number;
  /** pages with PG_dirty */
  dirty: number;
  /** pages with PG_writeback */
  writeback: number;
  /** pages on an active list */
  active: number;
  /** The cached pages' indices (file offset / 4096), ascending. */
  indices: number[];
  /** LP_* bits of each page, in the order of `indices`. */
  bits: Uint8Array;
  /** Shadow entries left by reclaimed pages (workingset). */
  shadows: number;
}

/** kswapd's and reclaim's state and counters (the node's). */
export interface ReclaimSnapshot {
  /** balance_pgdat() runs: each is a kswapd wake-up that found the node unbalanced. */
  kswapdRuns: number;
  /** pgdat->kswapd_failures: runs in a row that freed nothing */
  kswapdFailures: number;
  /** /proc/zoneinfo's node_unreclaimable: kswapd_failures >= MAX_RECLAIM_RETRIES (16) */
  nodeUnreclaimable: boolean;
  /** PGDAT_DIRTY */
  pgdatDirty: boolean;
  /** Each zone's free pages when kswapd last stopped (index: zone), 0 before it ever ran. */
  lastKswapdFree: number[];
  /** /proc/vmstat counters */
  pgscanKswapd: number;
  pgscanDirect: number;
  pgstealKswapd: number;
  pgstealDirect: number;
  pgactivate: number;
  pgdeactivate: number;
  pgrefill: number;
  pgrotated: number;
  /** allocstall summed over the zones */
  allocstall: number;
  pageoutrun: number;
  workingsetRefaultFile: number;
  workingsetRefaultAnon: number;
  workingsetActivateFile: number;
  workingsetActivateAnon: number;
}

function pageBits(flags: number): number {
  let b = 0;
  if ((flags & (1 << PG.referenced)) !== 0) b |= LP_REFERENCED;
  if ((flags & (1 << PG.active)) !== 0) b |= LP_ACTIVE;
  if ((flags & (1 << PG.dirty)) !== 0) b |= LP_DIRTY;
  if ((flags & (1 << PG.writeback)) !== 0) b |= LP_WRITEBACK;
  if ((flags & (1 << PG.owner_priv_1)) !== 0 && (flags & (1 << PG.swapbacked)) !== 0) b |= LP_SWAPCACHE;
  if ((flags & (1 << PG.workingset)) !== 0) b |= LP_WORKINGSET;
  if ((flags & (1 << PG.lru)) !== 0) b |= LP_LRU;
  if ((flags & (1 << PG.unevictable)) !== 0) b |= LP_UNEVICTABLE;
  return b;
}

function lruPage(m: Machine, vm: Vm, pfn: number): LruPage {
  const kind = vm.pageKind[pfn];
  const owner: LruOwner = kind === KIND_ANON ? 'anon' : kind === KIND_FILE ? 'file' : kind === KIND_SHMEM ? 'shmem' : 'other';
  return {
    pfn,
    bits: pageBits(m.pages.flags[pfn]!),
    owner,
    ino: owner === 'file' || owner === 'shmem' ? vm.pageMapping[pfn]! : 0,
    index: m.pages.index[pfn]!,
  };
}

/**
 * The five lists, each with its first `n` pages from the head and its last
 * `n` from the tail (fewer when the list is shorter than 2n: no page twice).
 */
export function lruLists(m: Machine, vm: Vm, n: number): LruListSnapshot[] {
  const lv = vm.lruvec;
  const next = m.pages.next;
  const prev = m.pages.prev;
  const out: LruListSnapshot[] = [];
  for (let lru = 0; lru < NR_LRU_LISTS; lru++) {
    const count = lv.size(lru);
    const head: LruPage[] = [];
    for (let p = lv.head[lru]!; p >= 0 && head.length < n; p = next[p]!) head.push(lruPage(m, vm, p));
    const tail: LruPage[] = [];
    const rest = Math.max(0, Math.min(n, count - head.length));
    for (let p = lv.tail[lru]!; p >= 0 && tail.length < rest; p = prev[p]!) tail.push(lruPage(m, vm, p));
    tail.reverse();
    out.push({ lru, name: lruListNames[lru]!, count, head, tail });
  }
  return out;
}

/** Every file with pages in the page cache (shmem's included), by inode number. */
export function pageCacheFiles(m: Machine, vm: Vm): PageCacheFile[] {
  const pc = pageCache(vm);
  const flags = m.pages.flags;
  const out: PageCacheFile[] = [];
  const inos = [...pc.spaces.keys()].sort((a, b) => a - b);
  for (const ino of inos) {
    const as = pc.spaces.get(ino)!;
    if (as.nrpages === 0) continue;
    const indices: number[] = [];
    const pfns: number[] = [];
    as.xa.forEach((index, pfn) => {
      indices.push(index);
      pfns.push(pfn);
    });
    const bits = new Uint8Array(pfns.length);
    let dirty = 0;
    let writeback = 0;
    let active = 0;
    for (let i = 0; i < pfns.length; i++) {
      const b = pageBits(flags[pfns[i]!]!);
      bits[i] = b;
      if (b & LP_DIRTY) dirty++;
      if (b & LP_WRITEBACK) writeback++;
      if (b & LP_ACTIVE) active++;
    }
    out.push({ ino, path: vm.fs.byIno(ino)?.path ?? '', nrpages: as.nrpages, dirty, writeback, active, indices, bits, shadows: as.shadows.size });
  }
  return out;
}

/** kswapd's state and the reclaim counters. */
export function reclaimSnapshot(vm: Vm): ReclaimSnapshot {
  const r = reclaimState(vm);
  const ev = vm.lruEv;
  let allocstall = 0;
  for (let z = 0; z < MAX_NR_ZONES; z++) allocstall += ev.allocstall[z]!;
  return {
    kswapdRuns: r.kswapdRuns,
    kswapdFailures: r.kswapdFailures,
    nodeUnreclaimable: r.kswapdFailures >= MAX_RECLAIM_RETRIES,
    pgdatDirty: r.pgdatDirty,
    lastKswapdFree: Array.from(r.lastKswapdFree),
    pgscanKswapd: ev.pgscanKswapd,
    pgscanDirect: ev.pgscanDirect,
    pgstealKswapd: ev.pgstealKswapd,
    pgstealDirect: ev.pgstealDirect,
    pgactivate: ev.pgactivate,
    pgdeactivate: ev.pgdeactivate,
    pgrefill: ev.pgrefill,
    pgrotated: ev.pgrotated,
    allocstall,
    pageoutrun: ev.pageoutrun,
    workingsetRefaultFile: ev.workingsetRefaultFile,
    workingsetRefaultAnon: ev.workingsetRefaultAnon,
    workingsetActivateFile: ev.workingsetActivateFile,
    workingsetActivateAnon: ev.workingsetActivateAnon,
  };
}
