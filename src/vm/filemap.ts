/**
 * The page cache (mm/filemap.c): each regular file's address_space holds its
 * pages in an xarray (src/fs/xarray.ts) whose nodes are radix_tree_node slab
 * objects, one page per file offset, shared by read(), write() and every
 * mapping of the file (the fault path asks filemapFault() here).
 *
 * Page flags used (struct page flags by pfn): PG_uptodate once the bytes are
 * read, PG_dirty (with PAGECACHE_TAG_DIRTY in the xarray) after a write until
 * fsync writes it back, PG_referenced / PG_active as folio_mark_accessed()
 * sets them (src/vm/swap.ts: the LRU lists), PG_lru from folio_add_lru(),
 * PG_readahead (PG_reclaim's bit) as the readahead marker. Reclaim
 * (src/vm/vmscan.ts) removes clean pages with deleteFolio(), leaving a
 * shadow entry in the mapping's `shadows` (src/vm/workingset.ts).
 *
 * References: the cache holds one on each page; read(), write() and a fault
 * take one more while they use a page (the kernel's folio batch and
 * vmf->page), since copying to or from user memory may allocate and so
 * reclaim.
 *
 * Counters: vm.nrFilePages (NR_FILE_PAGES: every page-cache page, shmem's
 * too, as the kernel counts) and pageCache(vm).nrDirty (NR_FILE_DIRTY). The
 * index vm.pageCache ((ino << 32) + index -> pfn), which fault-around and
 * mincore read, is a view of the xarrays (PageCacheIndex).
 *
 * Reads are synchronous: a request to the block device (src/fs/blkdev.ts)
 * fills the pages at once and the reader waits its time on the virtual
 * clock, so no page is ever seen locked or !uptodate. Writes are
 * asynchronous (writePages): the pages go from PG_dirty to PG_writeback
 * (NR_FILE_DIRTY -> NR_WRITEBACK) when their request is submitted, their
 * bytes reach the inode's backing store then, and the request's completion
 * (a timer at its completion time) ends their writeback (NR_WRITTEN).
 */

import { BlockDevice } from '../fs/blkdev.js';
import type { Inode } from '../fs/rootfs.js';
import { XA_MARK_0, XA_NODE_SIZE, XArray } from '../fs/xarray.js';
import { PG } from '../memory/page.js';
import { GFP_HIGHUSER_MOVABLE, GFP_KERNEL } from '../page_alloc/gfp.js';
import { SLAB_ACCOUNT, SLAB_PANIC, SLAB_RECLAIM_ACCOUNT } from '../slub/slab_flags.js';
import { VM } from './mman.js';
import { _PAGE_DIRTY, _PAGE_RW } from './pgtable.js';
import { type FileRaState, fileRaStateInit, pageCacheAsyncRa, pageCacheRaOrder, pageCacheSyncRa, type Ractl } from './readahead.js';
import { rmapWalk } from './rmap.js';
import { deactivateFileFolio, folioAddLru, folioRotateReclaimable, folioMarkAccessed as lruMarkAccessed } from './swap.js';
import { KIND_FILE, type Vm } from './vm.js';
import { ShadowMap, workingsetRefault } from './workingset.js';

export const PAGECACHE_TAG_DIRTY = XA_MARK_0;
/** PG_readahead shares PG_reclaim's bit */
export const PG_readahead = PG.reclaim;
export const PAGE_SIZE = 4096;

/** struct address_space of one inode. */
export class AddressSpace {
  /** i_pages */
  readonly xa: XArray;
  nrpages = 0;
  /**
   * The file_ra_state page faults use. The kernel uses the mapping's
   * struct file's f_ra; kmem's VMAs hold an inode, so one per inode.
   */
  readonly faultRa: FileRaState = fileRaStateInit();
  /** when the last write request submitted for this file completes (ns): filemap_fdatawait's target */
  writebackUntilNs = 0;
  /** i_mmap: every VMA (vm_area_struct address) that maps this file, shared or private */
  readonly iMmap = new Set<number>();
  /** Shadow entries of reclaimed pages, index -> shadow (src/vm/workingset.ts; the kernel keeps them in the xarray's slots). */
  readonly shadows = new ShadowMap();

  constructor(
    readonly ino: number,
    pc: PageCache,
  ) {
    this.xa = new XArray(pc.xaHost, 0);
  }
}

/** A readahead window as page_cache_ra_order() is asked to read it (the page_cache_sync_ra/async_ra tracepoints' view). */
export interface RaEvent {
  kind: 'sync' | 'async' | 'mmap';
  ino: number;
  start: number;
  size: number;
  asyncSize: number;
}

/** The page cache of one machine. */
export class PageCache {
  readonly radixCache: number;
  readonly bdev: BlockDevice;
  readonly spaces = new Map<number, AddressSpace>();
  /** every readahead window submitted, in order */
  readonly raLog: RaEvent[] = [];
  /** NR_FILE_DIRTY */
  nrDirty = 0;
  /** NR_WRITEBACK: pages whose write request has not completed */
  nrWriteback = 0;
  /** NR_DIRTIED and NR_WRITTEN (vmstat's nr_dirtied, nr_written): pages ever dirtied, pages whose writeback completed */
  nrDirtied = 0;
  nrWritten = 0;
  /** __mark_inode_dirty()'s hook: the file's first dirty page (page-writeback.ts puts the inode on the flusher's list) */
  onInodeDirty: ((ino: number) => void) | null = null;
  /** wb_inode_writeback_end()'s hook: the file's last page under writeback completed */
  onWritebackEnd: (() => void) | null = null;
  /** folio_end_writeback()'s hook for each page whose writeback ends (reclaim's folio_rotate_reclaimable goes here) */
  onFolioEndWriteback: ((pfn: number) => void) | null = null;
  /** virtual microseconds spent waiting on the disk */
  ioUs = 0;
  /** vm_event PGPGIN / PGPGOUT (KiB read from and written to the disk) */
  pgpgin = 0;
  pgpgout = 0;
  readonly xaHost;

  constructor(readonly vm: Vm) {
    const k = vm.k;
    const d = k.disk;
    this.bdev = d === undefined ? new BlockDevice() : new BlockDevice('vda', 254, 0, d.latencyUs, d.mbps, d.sizeBytes);
    this.bdev.timers = k.timers;
    vm.fs.capacityBlocks = Math.floor(this.bdev.sizeBytes / PAGE_SIZE);
    // radix_tree_init(): SLAB_PANIC | SLAB_RECLAIM_ACCOUNT; the xarray's allocations add __GFP_ACCOUNT.
    const id = k.kmemCacheByName('radix_tree_node');
    this.radixCache = id >= 0 ? id : k.kmemCacheCreate('radix_tree_node', XA_NODE_SIZE, { flags: SLAB_PANIC | SLAB_RECLAIM_ACCOUNT | SLAB_ACCOUNT });
    const cache = this.radixCache;
    this.xaHost = {
      u8: k.phys.u8,
      u32: k.phys.u32,
      allocNode: () => k.kmemCacheAlloc(cache, GFP_KERNEL),
      freeNode: (a: number) => k.kmemCacheFree(cache, a),
    };
    vm.fs.onInvalidate = (ino) => this.truncate(ino, 0);
    // With swap on the disk: vda1 the file system, vda2 the swap area (/dev/vda2); without, the file system on the whole disk.
    if ((k.swapBytes ?? 0) > 0) {
      this.bdev.addPartition(this.bdev.sizeBytes);
      this.bdev.addPartition(k.swapBytes!);
    }
    k.proc.register('/proc/diskstats', () => this.bdev.diskstats());
    vm.fs.onEvict = (ino) => {
      this.truncate(ino, 0);
      this.spaces.delete(ino);
    };
  }

  /** inode->i_mapping */
  mapping(ino: number): AddressSpace {
    let as = this.spaces.get(ino);
    if (as === undefined) {
      as = new AddressSpace(ino, this);
      this.spaces.set(ino, as);
    }
    return as;
  }

  /** filemap_alloc_folio(): a page for the cache, or -1. */
  allocFolio(): number {
    const pfn = this.vm.k.pageAlloc.allocPagesPfn(0, GFP_HIGHUSER_MOVABLE);
    if (pfn < 0) return -1;
    this.vm.pageKind[pfn] = KIND_FILE;
    return pfn;
  }

  /**
   * filemap_add_folio(): the page enters the mapping at index and the LRU;
   * false when a node cannot be had. A shadow entry where it goes is a
   * refault (workingset_refault, unless the page is added for a write:
   * __GFP_WRITE), which may start it on the active list.
   */
  addFolio(as: AddressSpace, index: number, pfn: number, forWrite = false): boolean {
    if (!as.xa.store(index, pfn)) return false;
    as.nrpages++;
    const vm = this.vm;
    vm.nrFilePages++;
    vm.pageMapping[pfn] = as.ino;
    vm.k.pages.index[pfn] = index;
    as.shadows.pageAdded(index);
    const shadow = as.shadows.get(index);
    if (shadow !== undefined) {
      as.shadows.delete(index);
      if (!forWrite) workingsetRefault(vm, pfn, shadow, vm.reclaimSwap?.nrFreeSlots() ?? 0);
    }
    folioAddLru(vm, pfn);
    return true;
  }

  /**
   * filemap_remove_folio() + the cache's put: the page leaves the mapping
   * (mappings keep their references, and it stays on the LRU until its last
   * one goes); reclaim leaves a shadow entry (>= 0) in its place.
   */
  deleteFolio(as: AddressSpace, index: number, shadow = -1): void {
    const pfn = as.xa.erase(index);
    if (pfn < 0) return;
    as.nrpages--;
    this.vm.nrFilePages--;
    as.shadows.pageRemoved(index);
    if (shadow >= 0) as.shadows.set(index, shadow);
    const f = this.vm.k.pages.flags;
    // A shmem page (PG_swapbacked) counts in NR_SHMEM, and its PG_dirty never counted in NR_FILE_DIRTY.
    const shmem = (f[pfn]! & (1 << PG.swapbacked)) !== 0;
    if (shmem) this.vm.nrShmem--;
    else if ((f[pfn]! & (1 << PG.dirty)) !== 0) this.nrDirty--;
    // Callers wait for writeback first (truncate); one that could not (inside a timer) ends it here.
    if ((f[pfn]! & (1 << PG.writeback)) !== 0) {
      this.nrWriteback--;
      this.nrWritten++;
    }
    f[pfn] = f[pfn]! & ~((1 << PG.dirty) | (1 << PG.writeback) | (1 << PG_readahead) | (1 << PG.referenced));
    this.vm.putPage(pfn);
  }

  /** read_pages() for [index, index + n): one read request, the pages filled from the disk and made uptodate. */
  readPages(inode: Inode, index: number, n: number): void {
    if (n === 0) return;
    const timers = this.vm.k.timers;
    const waitUs = this.bdev.submit('read', inode.ino, index, n, timers.now);
    this.ioUs += waitUs;
    const as = this.mapping(inode.ino);
    const u8 = this.vm.k.phys.u8;
    const f = this.vm.k.pages.flags;
    for (let i = index; i < index + n; i++) {
      const pfn = as.xa.load(i);
      const from = i * PAGE_SIZE;
      const to = Math.min(from + PAGE_SIZE, inode.data.length);
      if (to > from) u8.set(inode.data.subarray(from, to), pfn * PAGE_SIZE);
      u8.fill(0, pfn * PAGE_SIZE + Math.max(0, to - from), (pfn + 1) * PAGE_SIZE);
      f[pfn] = f[pfn]! | (1 << PG.uptodate);
    }
    this.pgpgin += n * 4;
    // The reader sleeps until its request completes (folio_wait_locked on the read's folios).
    timers.sleep(waitUs * 1000);
  }

  /** shmem_undo_range()'s swap part: a shmem inode's swapped-out pages from index `from` on are let go (src/vm/shmem.ts). */
  onTruncate: ((ino: number, from: number) => void) | null = null;

  /** truncate_inode_pages(): every page from index `from` on leaves the cache. */
  truncate(ino: number, from: number): void {
    this.onTruncate?.(ino, from);
    const as = this.spaces.get(ino);
    if (as === undefined) return;
    // truncate_inode_pages_range() waits for pages under writeback.
    this.waitWriteback(as);
    const gone: number[] = [];
    as.xa.forEach((i) => {
      if (i >= from) gone.push(i);
    });
    for (const i of gone) this.deleteFolio(as, i);
    // Shadow entries past the new end go too.
    for (const i of [...as.shadows.keys()]) if (i >= from) as.shadows.delete(i);
  }

  /**
   * mapping_try_invalidate() on [start, end]: every clean, unmapped page
   * leaves the cache; a dirty, under-writeback or mapped one stays and is
   * deactivated (deactivate_file_folio: a hint to reclaim it soon). The
   * shadow entries in the range go too. Returns the pages dropped.
   */
  invalidate(as: AddressSpace, start: number, end: number): number {
    const p = this.vm.k.pages;
    const gone: number[] = [];
    const kept: number[] = [];
    as.xa.forEach((i, pfn) => {
      if (i < start || i > end) return;
      if ((p.flags[pfn]! & ((1 << PG.dirty) | (1 << PG.writeback))) !== 0 || p.mapcount[pfn] !== 0) kept.push(pfn);
      else gone.push(i);
    });
    for (const i of gone) this.deleteFolio(as, i);
    for (const pfn of kept) deactivateFileFolio(this.vm, pfn);
    for (const i of [...as.shadows.keys()]) if (i >= start && i <= end) as.shadows.delete(i);
    return gone.length;
  }

  /** drop_pagecache_sb() for echo 1 > /proc/sys/vm/drop_caches: every mapping's clean unmapped pages go. Returns the pages dropped. */
  dropPagecache(): number {
    let n = 0;
    for (const as of this.spaces.values()) n += this.invalidate(as, 0, Number.MAX_SAFE_INTEGER);
    return n;
  }

  /**
   * folio_mark_dirty(): PG_dirty and the xarray's dirty mark;
   * folio_account_dirtied() counts NR_FILE_DIRTY and NR_DIRTIED, and the
   * inode's first dirty page marks the inode dirty (__mark_inode_dirty).
   * True when the page was clean before.
   */
  markDirty(as: AddressSpace, index: number, pfn: number): boolean {
    const f = this.vm.k.pages.flags;
    if ((f[pfn]! & (1 << PG.dirty)) !== 0) return false;
    f[pfn] = f[pfn]! | (1 << PG.dirty);
    const wasClean = !as.xa.tagged(PAGECACHE_TAG_DIRTY);
    as.xa.setMark(index, PAGECACHE_TAG_DIRTY);
    this.nrDirty++;
    this.nrDirtied++;
    if (wasClean) this.onInodeDirty?.(as.ino);
    return true;
  }

  /**
   * do_writepages() with WB_SYNC_NONE or WB_SYNC_ALL (`sync`): up to
   * nrToWrite dirty pages of the file, in index order, are submitted for
   * writeback, each run of contiguous pages one write (split in bios of
   * BIO_MAX_VECS pages by the device), within the page range [start, end].
   * A dirty page still under writeback from an earlier write is skipped, or
   * with `sync` waited for first. A page's bytes (up to
   * i_size) reach the backing store at submission; the page goes from dirty
   * to under writeback until its request completes. Returns the pages
   * submitted. folio_clear_dirty_for_io() write-protects every shared PTE
   * of a page first (folio_mkclean), so the next store through a mapping
   * faults and dirties it again; the part of the last page past i_size is
   * zeroed in memory, as block_write_full_folio() does for a page that
   * straddles i_size (it may be mapped).
   */
  writePages(inode: Inode, nrToWrite = Number.POSITIVE_INFINITY, sync = false, start = 0, end = Number.POSITIVE_INFINITY): number {
    const as = this.spaces.get(inode.ino);
    if (as === undefined || nrToWrite <= 0) return 0;
    const f = this.vm.k.pages.flags;
    const WB = 1 << PG.writeback;
    // folio_prepare_writeback(): a dirty page still under writeback is waited for (WB_SYNC_ALL) or skipped.
    if (sync && as.writebackUntilNs > this.vm.k.timers.now) this.waitWriteback(as);
    const dirty: number[] = [];
    as.xa.forEach((i, pfn) => {
      if (dirty.length < 2 * nrToWrite && i >= start && i <= end && (f[pfn]! & WB) === 0) dirty.push(i, pfn);
    }, PAGECACHE_TAG_DIRTY);
    const u8 = this.vm.k.phys.u8;
    const now = this.vm.k.timers.now;
    let runStart = -1;
    let run: number[] = [];
    const flushRun = () => {
      if (run.length === 0) return;
      const pfns = run;
      const first = runStart;
      const done = this.bdev.submitAsync('write', inode.ino, first, pfns.length, now, () => {
        // end_page_writeback() of each page (one the cache let go of meanwhile was ended by deleteFolio)
        for (let j = 0; j < pfns.length; j++) {
          const p = pfns[j]!;
          if ((f[p]! & WB) === 0 || as.xa.load(first + j) !== p) continue;
          f[p] = f[p]! & ~WB;
          this.nrWriteback--;
          this.nrWritten++;
          // folio_end_writeback(): a folio reclaim marked PG_reclaim goes to the inactive tail.
          if ((f[p]! & (1 << PG.reclaim)) !== 0) {
            f[p] = f[p]! & ~(1 << PG.reclaim);
            folioRotateReclaimable(this.vm, p);
          }
          this.onFolioEndWriteback?.(p);
        }
        if (as.writebackUntilNs <= this.vm.k.timers.now) this.onWritebackEnd?.();
      });
      if (done > as.writebackUntilNs) as.writebackUntilNs = done;
      run = [];
    };
    for (let k = 0; k < dirty.length; k += 2) {
      const i = dirty[k]!;
      const pfn = dirty[k + 1]!;
      if (run.length > 0 && i !== runStart + run.length) flushRun();
      if (run.length === 0) runStart = i;
      run.push(pfn);
      const from = i * PAGE_SIZE;
      const to = Math.min(from + PAGE_SIZE, inode.data.length);
      if (as.iMmap.size > 0) folioMkclean(this.vm, pfn);
      if (to > from) inode.data.set(u8.subarray(pfn * PAGE_SIZE, pfn * PAGE_SIZE + (to - from)), from);
      if (to - from < PAGE_SIZE) u8.fill(0, pfn * PAGE_SIZE + Math.max(0, to - from), (pfn + 1) * PAGE_SIZE);
      f[pfn] = (f[pfn]! & ~(1 << PG.dirty)) | WB;
      as.xa.clearMark(i, PAGECACHE_TAG_DIRTY);
      this.nrDirty--;
      this.nrWriteback++;
    }
    flushRun();
    this.pgpgout += (dirty.length / 2) * 4;
    return dirty.length / 2;
  }

  /** filemap_fdatawait(): sleep until every write request of the file has completed. */
  waitWriteback(as: AddressSpace): void {
    const timers = this.vm.k.timers;
    if (as.writebackUntilNs > timers.now) timers.advanceTo(as.writebackUntilNs);
    else timers.runDue();
  }

  /**
   * filemap_write_and_wait_range() over the pages [first, last] (the whole
   * file by default): every dirty page written, and the caller waits until the requests complete. Returns the pages written.
   */
  writeback(inode: Inode, first = 0, last = Number.POSITIVE_INFINITY): number {
    const n = this.writePages(inode, Number.POSITIVE_INFINITY, true, first, last);
    const as = this.spaces.get(inode.ino);
    if (as !== undefined) this.waitWriteback(as);
    return n;
  }

  /** page_cache_read() of one page with no readahead (filemap_create_folio / the fault's last resort): the pfn or -1. */
  readOne(inode: Inode, index: number): number {
    const as = this.mapping(inode.ino);
    const pfn = this.allocFolio();
    if (pfn < 0) return -1;
    if (!this.addFolio(as, index, pfn)) {
      this.vm.putPage(pfn);
      return -1;
    }
    this.readPages(inode, index, 1);
    return pfn;
  }
}

/**
 * folio_mkclean() (mm/rmap.c) of a mapped page-cache page, through
 * rmap_walk (the inode's i_mmap): every shared VMA's PTE that maps the page
 * and is writable or dirty loses RW and dirty (and the mm's TLB entry for
 * it), so the next store faults and marks the page dirty again
 * (wp_page_shared). Private VMAs are skipped (invalid_mkclean_vma): their
 * PTEs of a page-cache page are never writable. Returns whether a PTE was dirty.
 */
export function folioMkclean(vm: Vm, pfn: number): boolean {
  if (vm.k.pages.mapcount[pfn]! <= 0) return false;
  const s = vm.s;
  const u32 = vm.k.phys.u32;
  let dirty = false;
  rmapWalk(vm, pfn, (mm, va, idx, v) => {
    if ((s.vmFlags(v) & VM.SHARED) === 0) return;
    const lo = u32[idx]!;
    if ((lo & (_PAGE_RW | _PAGE_DIRTY)) === 0) return;
    if ((lo & _PAGE_DIRTY) !== 0) dirty = true;
    u32[idx] = (lo & ~(_PAGE_RW | _PAGE_DIRTY)) >>> 0;
    // flush_tlb_page()
    const vpn = va / PAGE_SIZE;
    const slot = vpn & 255;
    if (mm.tlbTagR[slot] === vpn) mm.tlbTagR[slot] = -1;
    if (mm.tlbTagW[slot] === vpn) mm.tlbTagW[slot] = -1;
  });
  return dirty;
}

const caches = new WeakMap<Vm, PageCache>();

/**
 * vm.pageCache: the page cache looked up by (inode << 32) + index, read
 * straight from the mappings' xarrays (the one place a cached page is
 * recorded: nothing to keep in step, nothing per page on reclaim's path).
 */
export class PageCacheIndex {
  constructor(private readonly vm: Vm) {}
  /** the pfn cached at key, or undefined */
  get(key: number): number | undefined {
    const as = caches.get(this.vm)?.spaces.get(Math.floor(key / 2 ** 32));
    if (as === undefined) return undefined;
    const pfn = as.xa.load(key % 2 ** 32);
    return pfn < 0 ? undefined : pfn;
  }
  has(key: number): boolean {
    return this.get(key) !== undefined;
  }
  /** the pages cached in all */
  get size(): number {
    let n = 0;
    for (const as of caches.get(this.vm)?.spaces.values() ?? []) n += as.nrpages;
    return n;
  }
}

/** The machine's page cache (made on first use). */
export function pageCache(vm: Vm): PageCache {
  let pc = caches.get(vm);
  if (pc === undefined) {
    pc = new PageCache(vm);
    caches.set(vm, pc);
  }
  return pc;
}

function flag(vm: Vm, pfn: number, bit: number): boolean {
  return (vm.k.pages.flags[pfn]! & (1 << bit)) !== 0;
}

/** folio_mark_accessed() (src/vm/swap.ts: the two-touch rule moving the folio to the active list). */
export function folioMarkAccessed(vm: Vm, pfn: number): void {
  lruMarkAccessed(vm, pfn);
}

/** What filemap_read() needs of the caller: the user buffer's bytes (copy_to_user), -1 for a bad address. */
export interface UserCopy {
  /** the physical address of user byte va for a kernel store (write) or load, faulting it in; -1 for -EFAULT */
  userPhys(va: number, write: boolean): number;
}

/** The open file's part filemap_read/write use: the inode, the position and the readahead state. */
export interface FileRef {
  inode: Inode;
  ra: FileRaState;
}

/**
 * filemap_get_read_batch() for one page: the cached page at index if it is
 * uptodate (it always is in kmem), else -1.
 */
function getPage(as: AddressSpace, index: number): number {
  return as.xa.load(index);
}

/**
 * filemap_get_pages() for the page at index of a read ending before
 * lastIndex (exclusive): sync readahead on a miss, async readahead when
 * the page carries the marker. Returns the pfn with a reference the caller
 * puts, or -1 when memory is out.
 */
function filemapGetPage(pc: PageCache, file: FileRef, index: number, lastIndex: number): number {
  const vm = pc.vm;
  const as = pc.mapping(file.inode.ino);
  let pfn = getPage(as, index);
  if (pfn < 0) {
    const ractl: Ractl = { pc, inode: file.inode, as, ra: file.ra, index, nrPages: 0 };
    pageCacheSyncRa(ractl, lastIndex - index);
    pfn = getPage(as, index);
    // filemap_create_folio(): readahead read nothing (memory short): one page by itself.
    if (pfn < 0) pfn = pc.readOne(file.inode, index);
    if (pfn < 0) return -1;
  }
  // The reader's reference (the kernel's folio batch holds one): async readahead and the copy to user memory may reclaim.
  vm.k.pages.refcount[pfn] = vm.k.pages.refcount[pfn]! + 1;
  if (flag(vm, pfn, PG_readahead)) {
    // filemap_readahead()
    const ractl: Ractl = { pc, inode: file.inode, as, ra: file.ra, index, nrPages: 0 };
    pageCacheAsyncRa(ractl, pfn, lastIndex - index);
  }
  return pfn;
}

/**
 * filemap_read(): copy up to n bytes at pos into the user buffer at buf.
 * Returns the bytes read (0 at or past the end), -EFAULT when nothing could
 * be copied to a bad buffer, -ENOMEM when no page could be had. The caller
 * moves the file position; ra.prevPos is the end of this read.
 */
export function filemapRead(pc: PageCache, u: UserCopy, file: FileRef, buf: number, n: number, pos: number): number {
  const vm = pc.vm;
  const inode = file.inode;
  const u8 = vm.k.phys.u8;
  const ra = file.ra;
  let lastPos = ra.prevPos;
  let done = 0;
  let err = 0;
  if (n === 0) return 0;
  const end = pos + n;
  const lastIndex = Math.ceil(end / PAGE_SIZE);
  while (done < n) {
    const isize = inode.data.length;
    if (pos >= isize) break;
    const index = Math.floor(pos / PAGE_SIZE);
    const pfn = filemapGetPage(pc, file, index, lastIndex);
    if (pfn < 0) {
      err = -12;
      break;
    }
    // Only the first access of a page by consecutive reads marks it accessed.
    if (Math.floor((lastPos - 1) / PAGE_SIZE) !== index) folioMarkAccessed(vm, pfn);
    const stop = Math.min(end, isize, (index + 1) * PAGE_SIZE);
    while (pos < stop) {
      const chunk = Math.min(stop - pos, PAGE_SIZE - ((buf + done) % PAGE_SIZE));
      const p = u.userPhys(buf + done, true);
      if (p < 0) {
        err = -14;
        break;
      }
      u8.copyWithin(p, pfn * PAGE_SIZE + (pos % PAGE_SIZE), pfn * PAGE_SIZE + (pos % PAGE_SIZE) + chunk);
      pos += chunk;
      done += chunk;
      lastPos = pos;
    }
    vm.putPage(pfn);
    if (err !== 0) break;
  }
  ra.prevPos = lastPos;
  return done > 0 ? done : err;
}

/**
 * generic_perform_write() through the page cache: each page written is
 * looked up or added (a partial page inside i_size is read first, as
 * block_write_begin does), copied into from user memory, made uptodate and
 * dirty; i_size grows past the end. Returns bytes written or -errno.
 */
export function filemapWrite(
  pc: PageCache,
  u: UserCopy,
  inode: Inode,
  buf: number,
  n: number,
  pos: number,
  balance: ((newlyDirtied: number) => void) | null = null,
): number {
  const vm = pc.vm;
  const as = pc.mapping(inode.ino);
  const u8 = vm.k.phys.u8;
  const fs = vm.fs;
  let done = 0;
  let err = 0;
  while (done < n) {
    const index = Math.floor(pos / PAGE_SIZE);
    const off = pos % PAGE_SIZE;
    const bytes = Math.min(PAGE_SIZE - off, n - done);
    // write_begin's block allocation: growing the file needs free blocks on the disk.
    const grow = Math.ceil((pos + bytes) / PAGE_SIZE) - Math.ceil(inode.data.length / PAGE_SIZE);
    if (grow > 0 && fs.usedBlocks + grow > fs.capacityBlocks) {
      err = -ENOSPC;
      break;
    }
    let pfn = as.xa.load(index);
    if (pfn < 0) {
      pfn = pc.allocFolio();
      if (pfn < 0 || !pc.addFolio(as, index, pfn, true)) {
        if (pfn >= 0) vm.putPage(pfn);
        err = -12;
        break;
      }
      const whole = off === 0 && bytes === PAGE_SIZE;
      if (!whole && index * PAGE_SIZE < inode.data.length) pc.readPages(inode, index, 1);
      else {
        u8.fill(0, pfn * PAGE_SIZE, (pfn + 1) * PAGE_SIZE);
        vm.k.pages.flags[pfn] = vm.k.pages.flags[pfn]! | (1 << PG.uptodate);
      }
    }
    // write_begin's reference: the copy from user memory may fault and reclaim.
    vm.k.pages.refcount[pfn] = vm.k.pages.refcount[pfn]! + 1;
    let copied = 0;
    while (copied < bytes) {
      const chunk = Math.min(bytes - copied, PAGE_SIZE - ((buf + done + copied) % PAGE_SIZE));
      const p = u.userPhys(buf + done + copied, false);
      if (p < 0) {
        err = -14;
        break;
      }
      u8.copyWithin(pfn * PAGE_SIZE + off + copied, p, p + chunk);
      copied += chunk;
    }
    if (copied > 0) {
      // write_begin takes the page with FGP_WRITEBEGIN (no FGP_ACCESSED): a write does not mark it accessed.
      const newly = pc.markDirty(as, index, pfn);
      done += copied;
      pos += copied;
      if (pos > inode.data.length) vm.fs.setSize(inode, pos);
      // balance_dirty_pages_ratelimited() after each page written
      if (balance !== null) balance(newly ? 1 : 0);
    }
    vm.putPage(pfn);
    if (err !== 0) break;
  }
  return done > 0 ? done : err;
}

/**
 * filemap_fault() for a regular file's page at pgoff: the cached page
 * (async readahead if it carries the marker), else do_sync_mmap_readahead()'s
 * read-around and the page. Returns the pfn with a reference for the
 * fault (vmf->page's), or -1 when memory is out.
 */
export function filemapFault(vm: Vm, ino: number, pgoff: number): number {
  const pc = pageCache(vm);
  const inode = vm.fs.byIno(ino);
  if (inode === undefined) return -1;
  const as = pc.mapping(ino);
  const ra = as.faultRa;
  let pfn = as.xa.load(pgoff);
  const rc = vm.k.pages.refcount;
  if (pfn >= 0) {
    rc[pfn] = rc[pfn]! + 1;
    // do_async_mmap_readahead()
    if (ra.mmapMiss > 0) ra.mmapMiss--;
    if (flag(vm, pfn, PG_readahead)) pageCacheAsyncRa({ pc, inode, as, ra, index: pgoff, nrPages: 0 }, pfn, ra.raPages);
    return pfn;
  }
  // do_sync_mmap_readahead(): mmap read-around, unless the file mostly misses (MMAP_LOTSAMISS).
  if (ra.raPages > 0) {
    if (ra.mmapMiss < MMAP_LOTSAMISS * 10) ra.mmapMiss++;
    if (ra.mmapMiss <= MMAP_LOTSAMISS) {
      ra.start = Math.max(0, pgoff - Math.floor(ra.raPages / 2));
      ra.size = ra.raPages;
      ra.asyncSize = Math.floor(ra.raPages / 4);
      pc.raLog.push({ kind: 'mmap', ino, start: ra.start, size: ra.size, asyncSize: ra.asyncSize });
      pageCacheRaOrder({ pc, inode, as, ra, index: ra.start, nrPages: 0 }, ra);
    }
  }
  pfn = as.xa.load(pgoff);
  if (pfn < 0) pfn = pc.readOne(inode, pgoff);
  if (pfn >= 0) rc[pfn] = rc[pfn]! + 1;
  return pfn;
}

/** ENOSPC */
const ENOSPC = 28;

/** MMAP_LOTSAMISS */
const MMAP_LOTSAMISS = 100;
