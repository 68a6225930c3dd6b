/**
 * Readahead (mm/readahead.c, 6.18) for single-page folios: kmem's files do
 * not support large folios (mapping_large_folio_support() is false), so
 * page_cache_ra_order() always falls back to do_page_cache_ra() and the
 * windows are the classic ones.
 *
 * A struct file keeps a file_ra_state: the last window (start, size,
 * async_size) and prev_pos. A read that misses the cache calls
 * page_cache_sync_ra(); a read that meets the PG_readahead marker (set on
 * the first page of the window's async part) calls page_cache_async_ra(),
 * which pushes the window forward and ramps its size:
 *
 *   get_init_ra_size(n, max): roundup_pow_of_two(n), x4 if <= max/32,
 *                             x2 if <= max/4, else max
 *   get_next_ra_size(cur, max): x4 below max/16, x2 up to max/2, else max
 *
 * Every window read is logged in PageCache.raLog (what the
 * page_cache_sync_ra / page_cache_async_ra tracepoints show) and each run of
 * new pages is one read request to the block device (read_pages()).
 */

import type { Inode } from '../fs/rootfs.js';
import { type AddressSpace, type PageCache, PG_readahead } from './filemap.js';

/** struct file_ra_state */
export interface FileRaState {
  start: number;
  size: number;
  asyncSize: number;
  raPages: number;
  mmapMiss: number;
  prevPos: number;
  /** the struct file's FMODE_RANDOM (POSIX_FADV_RANDOM): no readahead heuristics */
  random: boolean;
}

/** VM_READAHEAD_PAGES: read_ahead_kb 128 */
export const VM_READAHEAD_PAGES = 32;
/** bdi->io_pages: max_sectors_kb 1280 (virtio-blk on this machine) / 4 */
export const BDI_IO_PAGES = 320;

/** file_ra_state_init(): ra_pages from the bdi, prev_pos -1. */
export function fileRaStateInit(): FileRaState {
  return { start: 0, size: 0, asyncSize: 0, raPages: VM_READAHEAD_PAGES, mmapMiss: 0, prevPos: -1, random: false };
}

/** struct readahead_control: the mapping, the file's ra state, the next index and the pages gathered for read_pages(). */
export interface Ractl {
  pc: PageCache;
  inode: Inode;
  as: AddressSpace;
  ra: FileRaState;
  /** _index */
  index: number;
  /** _nr_pages */
  nrPages: number;
}

function roundupPowOfTwo(n: number): number {
  let p = 1;
  while (p < n) p *= 2;
  return p;
}

/** get_init_ra_size() */
export function getInitRaSize(size: number, max: number): number {
  const n = roundupPowOfTwo(size);
  if (n <= max / 32) return n * 4;
  if (n <= max / 4) return n * 2;
  return max;
}

/** get_next_ra_size() */
export function getNextRaSize(ra: FileRaState, max: number): number {
  const cur = ra.size;
  if (cur < max / 16) return 4 * cur;
  if (cur <= max / 2) return 2 * cur;
  return max;
}

/** read_pages(): submit the gathered pages as one request; the index moves past them. */
function readPages(r: Ractl): void {
  if (r.nrPages === 0) return;
  r.pc.readPages(r.inode, r.index, r.nrPages);
  r.index += r.nrPages;
  r.nrPages = 0;
}

/**
 * page_cache_ra_unbounded(): add the missing pages of [index, index +
 * nrToRead) to the cache and read them, each run of contiguous new pages
 * one request; the page at nrToRead - lookahead gets PG_readahead.
 */
export function pageCacheRaUnbounded(r: Ractl, nrToRead: number, lookahead: number): void {
  const { pc, as } = r;
  const index = r.index;
  const mark = lookahead <= nrToRead ? nrToRead - lookahead : -1;
  const flags = pc.vm.k.pages.flags;
  let i = 0;
  while (i < nrToRead) {
    if (as.xa.load(index + i) >= 0) {
      // Already cached: send what was gathered, skip this page.
      readPages(r);
      r.index += 1;
      i = r.index + r.nrPages - index;
      continue;
    }
    const pfn = pc.allocFolio();
    if (pfn < 0) break;
    if (!pc.addFolio(as, index + i, pfn)) {
      pc.vm.putPage(pfn);
      break;
    }
    if (i === mark) flags[pfn] = flags[pfn]! | (1 << PG_readahead);
    r.nrPages++;
    i++;
  }
  readPages(r);
}

/** do_page_cache_ra(): clamp to the page holding the file's last byte. */
function doPageCacheRa(r: Ractl, nrToRead: number, lookahead: number): void {
  const isize = r.inode.data.length;
  if (isize === 0) return;
  const endIndex = Math.floor((isize - 1) / 4096);
  if (r.index > endIndex) return;
  if (nrToRead > endIndex - r.index) nrToRead = endIndex - r.index + 1;
  pageCacheRaUnbounded(r, nrToRead, lookahead);
}

/** force_page_cache_ra(): read nrToRead pages (bounded by max(io_pages, ra_pages)) in 2 MiB chunks, no marker. */
export function forcePageCacheRa(r: Ractl, nrToRead: number): void {
  nrToRead = Math.min(nrToRead, Math.max(BDI_IO_PAGES, r.ra.raPages));
  while (nrToRead > 0) {
    const chunk = Math.min(nrToRead, 512);
    const next = r.index + chunk;
    doPageCacheRa(r, chunk, 0);
    r.index = next;
    r.nrPages = 0;
    nrToRead -= chunk;
  }
}

/** page_cache_ra_order() without large folios: the fallback, do_page_cache_ra() of the window. */
export function pageCacheRaOrder(r: Ractl, ra: FileRaState): void {
  const start = ra.start;
  if (ra.size > r.index - start) doPageCacheRa(r, ra.size - (r.index - start), ra.asyncSize);
}

/** ractl_max_pages(): ra_pages, or up to io_pages for a read bigger than the window. */
function ractlMaxPages(r: Ractl, reqCount: number): number {
  let max = r.ra.raPages;
  if (reqCount > max && BDI_IO_PAGES > max) max = Math.min(reqCount, BDI_IO_PAGES);
  return max;
}

/**
 * page_cache_prev_miss(): the highest index in (index - maxScan, index]
 * that is not cached, -1 (ULONG_MAX) when the scan ran below 0 with every
 * page cached, index - maxScan when none is missing.
 */
function pageCachePrevMiss(as: AddressSpace, index: number, maxScan: number): number {
  for (let i = 0; i < maxScan; i++) {
    const idx = index - i;
    if (idx < 0) return -1;
    if (as.xa.load(idx) < 0) return idx;
  }
  return index - maxScan;
}

/** page_cache_next_miss(): the first index in [index, index + maxScan) not cached, else index + maxScan. */
function pageCacheNextMiss(as: AddressSpace, index: number, maxScan: number): number {
  for (let i = 0; i < maxScan; i++) if (as.xa.load(index + i) < 0) return index + i;
  return index + maxScan;
}

/**
 * page_cache_sync_ra(): a read of reqCount pages at the ractl's index missed
 * the cache. A start of file, an oversize read or a sequential miss opens
 * a new window; a read after a run of cached pages (a stream's history)
 * sizes the window from that run; anything else reads just what was asked.
 */
export function pageCacheSyncRa(r: Ractl, reqCount: number): void {
  const ra = r.ra;
  const index = r.index;
  if (ra.raPages === 0) {
    // Readahead off: the request still goes as a forced one-page read.
    forcePageCacheRa(r, 1);
    return;
  }
  // FMODE_RANDOM: be dumb, read what was asked.
  if (ra.random) {
    forcePageCacheRa(r, reqCount);
    return;
  }
  const maxPages = ractlMaxPages(r, reqCount);
  const prevIndex = ra.prevPos < 0 ? Number.MAX_SAFE_INTEGER : Math.floor(ra.prevPos / 4096);
  // index - prev_index <= 1 as unsigned: the next page, or the same page again.
  if (index === 0 || reqCount > maxPages || index === prevIndex || index === prevIndex + 1) {
    ra.start = index;
    ra.size = getInitRaSize(reqCount, maxPages);
    ra.asyncSize = ra.size > reqCount ? ra.size - reqCount : ra.size >> 1;
  } else {
    // Look for the cached history a sequential stream leaves behind.
    const miss = pageCachePrevMiss(r.as, index - 1, maxPages);
    let contig = index - miss - 1;
    if (contig <= reqCount) {
      // A small random read: read what was asked and leave the state alone.
      doPageCacheRa(r, reqCount, 0);
      return;
    }
    // Cached from the start of the file: a long stream (or a whole-file read).
    if (miss === -1) contig *= 2;
    ra.start = index;
    ra.size = Math.min(contig + reqCount, maxPages);
    ra.asyncSize = 1;
  }
  r.pc.raLog.push({ kind: 'sync', ino: r.inode.ino, start: ra.start, size: ra.size, asyncSize: ra.asyncSize });
  r.index = ra.start;
  pageCacheRaOrder(r, ra);
}

/**
 * page_cache_async_ra(): the read met the PG_readahead page `pfn` at the
 * ractl's index. The marker is cleared; if it is where the window put it,
 * the window moves on by its size and ramps up; otherwise (interleaved
 * streams) the window is rebuilt from the cached run after the page.
 */
export function pageCacheAsyncRa(r: Ractl, pfn: number, reqCount: number): void {
  const ra = r.ra;
  if (ra.raPages === 0) return;
  const flags = r.pc.vm.k.pages.flags;
  // PG_readahead is PG_reclaim: on a page under writeback it means the other.
  if ((flags[pfn]! & (1 << 1)) !== 0) return;
  flags[pfn] = flags[pfn]! & ~(1 << PG_readahead);
  const index = r.index;
  const maxPages = ractlMaxPages(r, reqCount);
  const expected = ra.start + ra.size - ra.asyncSize;
  if (index === expected) {
    ra.start += ra.size;
    ra.size = Math.max(ra.size, getNextRaSize(ra, maxPages));
    ra.asyncSize = ra.size;
  } else {
    const start = pageCacheNextMiss(r.as, index + 1, maxPages);
    if (start === 0 || start - index > maxPages) return;
    ra.start = start;
    ra.size = start - index + reqCount;
    ra.size = getNextRaSize(ra, maxPages);
    ra.asyncSize = ra.size;
  }
  r.pc.raLog.push({ kind: 'async', ino: r.inode.ino, start: ra.start, size: ra.size, asyncSize: ra.asyncSize });
  r.index = ra.start;
  pageCacheRaOrder(r, ra);
}
