/**
 * tmpfs and shmem (mm/shmem.c): files whose only home is the page cache.
 *
 * Two kinds of shmem inode exist on a kmem machine:
 *   - the inode shmem_zero_setup() makes for each MAP_SHARED|MAP_ANONYMOUS
 *     mapping on the internal shm_mnt ("/dev/zero (deleted)" in maps, device
 *     00:01, numbered by get_next_ino()); it lives while a VMA holds it, and
 *     its i_size is the length of the mapping that made it;
 *   - the regular files of the tmpfs mounted at /dev/shm (what shm_open()
 *     opens): inodes of kmem's root file system whose i_size is their
 *     `data.length`, but whose bytes are never in `data`: a tmpfs file's pages
 *     are in its address_space and nowhere else.
 *
 * Either way the pages sit in the inode's xarray (src/vm/filemap.ts) with
 * PG_swapbacked set, counted in NR_FILE_PAGES (Cached:) and NR_SHMEM
 * (Shmem:), never written to the disk. A hole reads as zeros without taking
 * a page (SGP_READ); a fault or a write allocates a zeroed page (SGP_CACHE,
 * SGP_WRITE). Dirtying a shmem page only sets PG_dirty (shmem's
 * noop_dirty_folio: no NR_FILE_DIRTY, no dirty tag, no writeback); that
 * PG_dirty is what keeps drop_caches off the page.
 *
 * Swap (shmem_writeout, shmem_swapin_folio): shmem pages live on the anon
 * LRU (PG_swapbacked), and reclaim writes a dirty one to swap: it gets a
 * slot and enters the swap cache (add_to_swap), the slot takes one more
 * reference for the inode (swap_shmem_alloc), the page leaves the page
 * cache (shmem_delete_from_page_cache: NR_SHMEM and NR_FILE_PAGES drop, the
 * swap cache's NR_FILE_PAGES and NR_SWAPCACHE rise) and its slot in the
 * mapping holds the swap entry instead, then it is written (pswpout) and
 * reclaim frees it from the swap cache. The kernel keeps that entry in the
 * xarray slot as a value entry; kmem keeps it beside the xarray, in
 * Shmem.swapped by inode and index. A read, a write or a fault that finds
 * the entry swaps the page back in (from the swap cache, else read with
 * swap readahead), puts it back in the page cache dirty, and frees the slot.
 * A clean shmem page (only ever read) is dropped by reclaim like a clean
 * file page: its bytes are zeros.
 */

import { PG } from '../memory/page.js';
import { type FileRef, folioMarkAccessed, PAGE_SIZE, pageCache, type UserCopy } from './filemap.js';
import { addToSwap, deleteFromSwapCache, folioFreeSwap, pageSwapCache, swapCacheLookup, swapinReadahead, swapWritepage } from './swap_state.js';
import { SWAP_HAS_CACHE, type SwapInfo } from './swapfile.js';
import { KIND_SHMEM, type Vm } from './vm.js';

/** Where the tmpfs is mounted. */
export const SHM_DIR = '/dev/shm';
/** shm_mnt's device (the kernel's internal tmpfs mount) as maps prints it */
export const SHM_MNT_DEV = '00:01';
/** The /dev/shm tmpfs's device as maps prints it on the reference machine (an anonymous block device number). */
export const DEV_SHM_DEV = '00:1b';
/** get_next_ino()'s values for kmem's internal shmem inodes start here */
const FIRST_NEXT_INO = 51200;

/** enum sgp_type: what shmem_get_folio() may do about a hole. */
export const SGP_READ = 0;
export const SGP_CACHE = 2;
export const SGP_WRITE = 4;

/** shmemGetFolio()'s answers besides a pfn */
export const SHMEM_HOLE = -2;
export const SHMEM_EINVAL = -3;

interface ZeroInode {
  /** the VMAs that hold the inode */
  refs: number;
  /** i_size in bytes */
  size: number;
}

/** The shmem inodes of one machine. */
export class Shmem {
  /** shmem_zero_setup()'s inodes, by number */
  readonly zero = new Map<number, ZeroInode>();
  /** The inode numbers of the regular files under /dev/shm. */
  readonly files = new Set<number>();
  private nextIno = FIRST_NEXT_INO;

  /** The swap entries (slot offsets) of swapped-out pages, by inode and index: what the kernel's xarray value entries hold. */
  readonly swapped = new Map<number, Map<number, number>>();

  constructor(readonly vm: Vm) {
    vm.fs.mkdirs(SHM_DIR);
    // shmem_undo_range(): truncation and eviction let the swapped-out pages go too.
    pageCache(vm).onTruncate = (ino, from) => this.truncateSwap(ino, from);
    // shmem_evict_inode(): an unlinked tmpfs file's pages go with it (the page cache's own onEvict truncates them).
    const evict = vm.fs.onEvict;
    vm.fs.onEvict = (ino) => {
      evict?.(ino);
      this.files.delete(ino);
    };
  }

  isShmem(ino: number): boolean {
    return this.zero.has(ino) || this.files.has(ino);
  }

  /** i_size_read() of a shmem inode, in bytes. */
  size(ino: number): number {
    const z = this.zero.get(ino);
    if (z !== undefined) return z.size;
    return this.vm.fs.byIno(ino)?.data.length ?? 0;
  }

  /** shmem_zero_setup(): a new unlinked inode of `size` bytes on shm_mnt, held by no VMA yet. */
  zeroSetup(size: number): number {
    const ino = this.nextIno++;
    this.zero.set(ino, { refs: 0, size });
    return ino;
  }

  /** A VMA takes a reference on an internal inode (get_file). */
  zeroGet(ino: number): void {
    const z = this.zero.get(ino);
    if (z !== undefined) z.refs++;
  }

  /** A VMA lets an internal inode go; the last one frees the inode and its pages. */
  zeroPut(ino: number): void {
    const z = this.zero.get(ino);
    if (z === undefined) return;
    if (--z.refs > 0) return;
    this.zero.delete(ino);
    const pc = pageCache(this.vm);
    pc.truncate(ino, 0);
    pc.spaces.delete(ino);
  }

  /** info->swapped: the inode's pages out on swap. */
  nrSwapped(ino: number): number {
    return this.swapped.get(ino)?.size ?? 0;
  }

  /** The swap entry at index of the inode, or -1. */
  swapEntry(ino: number, index: number): number {
    return this.swapped.get(ino)?.get(index) ?? -1;
  }

  /**
   * shmem_unuse(): swapoff brings back every page the inodes have out on
   * swap, into their page caches. 0, or -ENOMEM.
   */
  unuse(si: SwapInfo): number {
    for (const [ino, m] of [...this.swapped]) {
      for (const index of [...m.keys()]) {
        if (this.vm.swap !== si) return 0;
        if (this.swapinFolio(ino, index, m.get(index)!) < 0) return -12;
      }
    }
    return 0;
  }

  /**
   * free_swap_and_cache() for each swap entry of the inode from index
   * `from` on (truncate, unlink, the last unmap of an internal inode).
   */
  truncateSwap(ino: number, from: number): void {
    const m = this.swapped.get(ino);
    const si = this.vm.swap;
    if (m === undefined || si === null) return;
    for (const [index, offset] of [...m]) {
      if (index < from) continue;
      m.delete(index);
      si.put(offset);
      if (si.swapMap[offset] !== SWAP_HAS_CACHE) continue;
      const pfn = swapCacheLookup(si, offset);
      if (pfn >= 0 && this.vm.k.pages.mapcount[pfn] === 0) folioFreeSwap(this.vm, pfn);
    }
    if (m.size === 0) this.swapped.delete(ino);
  }

  /**
   * shmem_swapin_folio(): the page of a swap entry comes back: from the
   * swap cache, else read with swap readahead; it leaves the swap cache
   * for the page cache (shmem_add_to_page_cache, dirty: its copy on swap is
   * about to go), and the entry's slot is freed (swap_free). The page, or
   * -1 when memory is out.
   */
  private swapinFolio(ino: number, index: number, offset: number): number {
    const vm = this.vm;
    const si = vm.swap;
    if (si === null) throw new Error(`kmem: shmem inode ${ino} index ${index} holds swap entry ${offset} of no swap area`);
    const p = vm.k.pages;
    let pfn = swapCacheLookup(si, offset);
    if (pfn >= 0) p.refcount[pfn] = p.refcount[pfn]! + 1;
    else {
      pfn = swapinReadahead(vm, si, offset);
      if (pfn < 0) return -1;
    }
    const as = pageCache(vm).mapping(ino);
    if (!as.xa.store(index, pfn)) {
      vm.putPage(pfn);
      return -1;
    }
    vm.pageKind[pfn] = KIND_SHMEM;
    // The swap cache's reference passes to the page cache.
    deleteFromSwapCache(vm, pfn);
    as.nrpages++;
    vm.nrFilePages++;
    vm.nrShmem++;
    vm.pageMapping[pfn] = ino;
    p.index[pfn] = index;
    as.shadows.pageAdded(index);
    p.flags[pfn] = p.flags[pfn]! | (1 << PG.dirty) | (1 << PG.uptodate);
    const m = this.swapped.get(ino)!;
    m.delete(index);
    if (m.size === 0) this.swapped.delete(ino);
    si.put(offset);
    // The swap-in's own reference (the fault's or the read's is taken by the caller as for any page-cache page).
    vm.putPage(pfn);
    return pfn;
  }

  /**
   * shmem_get_folio(): the page at index of the inode. SGP_READ and
   * SGP_CACHE at or past i_size are -EINVAL (a fault's SIGBUS); a hole is
   * SHMEM_HOLE for SGP_READ, else a new zeroed page enters the cache
   * (PG_swapbacked, uptodate; referenced for a write). -1 when memory is out.
   */
  getFolio(ino: number, index: number, sgp: number): number {
    const vm = this.vm;
    if (sgp <= SGP_CACHE && index * PAGE_SIZE >= this.size(ino)) return SHMEM_EINVAL;
    const pc = pageCache(vm);
    const as = pc.mapping(ino);
    const have = as.xa.load(index);
    if (have >= 0) return have;
    const swap = this.swapEntry(ino, index);
    if (swap >= 0) return this.swapinFolio(ino, index, swap);
    if (sgp === SGP_READ) return SHMEM_HOLE;
    const pfn = pc.allocFolio();
    if (pfn < 0) return -1;
    vm.k.phys.u32.fill(0, pfn * 1024, pfn * 1024 + 1024);
    vm.pageKind[pfn] = KIND_SHMEM;
    const f = vm.k.pages.flags;
    f[pfn] = f[pfn]! | (1 << PG.swapbacked) | (1 << PG.uptodate) | (sgp === SGP_WRITE ? 1 << PG.referenced : 0);
    if (!pc.addFolio(as, index, pfn)) {
      vm.putPage(pfn);
      return -1;
    }
    vm.nrShmem++;
    return pfn;
  }
}

const all = new WeakMap<Vm, Shmem>();

/** The machine's shmem (made with the vm half). */
export function shmemOf(vm: Vm): Shmem {
  let s = all.get(vm);
  if (s === undefined) {
    s = new Shmem(vm);
    all.set(vm, s);
  }
  return s;
}

/** folio_mark_dirty() of a shmem page: noop_dirty_folio() sets PG_dirty and nothing else. */
export function shmemMarkDirty(vm: Vm, pfn: number): void {
  const f = vm.k.pages.flags;
  f[pfn] = f[pfn]! | (1 << PG.dirty);
}

/**
 * shmem_file_read_iter(): copy up to n bytes at pos to the user buffer;
 * holes read as zeros and take no page. Bytes read, 0 at i_size, -EFAULT.
 */
export function shmemRead(vm: Vm, u: UserCopy, file: FileRef, buf: number, n: number, pos: number): number {
  const sh = shmemOf(vm);
  const u8 = vm.k.phys.u8;
  const ino = file.inode.ino;
  let done = 0;
  while (done < n) {
    const isize = sh.size(ino);
    if (pos >= isize) break;
    const index = Math.floor(pos / PAGE_SIZE);
    const pfn = sh.getFolio(ino, index, SGP_READ);
    if (pfn >= 0 && pos % PAGE_SIZE === 0) folioMarkAccessed(vm, pfn);
    const stop = Math.min(pos + (n - done), isize, (index + 1) * PAGE_SIZE);
    while (pos < stop) {
      const chunk = Math.min(stop - pos, PAGE_SIZE - ((buf + done) % PAGE_SIZE));
      const p = u.userPhys(buf + done, true);
      if (p < 0) return done > 0 ? done : -14;
      if (pfn >= 0) u8.copyWithin(p, pfn * PAGE_SIZE + (pos % PAGE_SIZE), pfn * PAGE_SIZE + (pos % PAGE_SIZE) + chunk);
      else u8.fill(0, p, p + chunk);
      pos += chunk;
      done += chunk;
    }
  }
  file.ra.prevPos = pos;
  return done;
}

/**
 * generic_perform_write() with shmem_write_begin/write_end: each page is
 * found or allocated (SGP_WRITE), filled from the user buffer and dirtied;
 * i_size grows past the end. Bytes written, -ENOMEM, -EFAULT.
 */
export function shmemWrite(vm: Vm, u: UserCopy, file: FileRef, buf: number, n: number, pos: number): number {
  const sh = shmemOf(vm);
  const u8 = vm.k.phys.u8;
  const inode = file.inode;
  let done = 0;
  while (done < n) {
    const index = Math.floor(pos / PAGE_SIZE);
    const off = pos % PAGE_SIZE;
    const bytes = Math.min(PAGE_SIZE - off, n - done);
    const pfn = sh.getFolio(inode.ino, index, SGP_WRITE);
    if (pfn < 0) return done > 0 ? done : -12;
    let copied = 0;
    while (copied < bytes) {
      const chunk = Math.min(bytes - copied, PAGE_SIZE - ((buf + done + copied) % PAGE_SIZE));
      const p = u.userPhys(buf + done + copied, false);
      if (p < 0) break;
      u8.copyWithin(pfn * PAGE_SIZE + off + copied, p, p + chunk);
      copied += chunk;
    }
    if (copied === 0) return done > 0 ? done : -14;
    shmemMarkDirty(vm, pfn);
    done += copied;
    pos += copied;
    if (pos > inode.data.length) vm.fs.setSize(inode, pos);
    if (copied < bytes) break;
  }
  return done;
}

/**
 * shmem_file_llseek()'s SEEK_DATA / SEEK_HOLE (mapping_seek_hole_data):
 * data is the pages in the cache. From off (below i_size, else -ENXIO):
 * SEEK_DATA finds the first page at or after off's page (-ENXIO if none
 * before i_size), SEEK_HOLE the first missing one (i_size if none); the
 * answer is never below off.
 */
export function shmemSeekHoleData(vm: Vm, ino: number, off: number, data: boolean): number {
  const size = shmemOf(vm).size(ino);
  if (off < 0 || off >= size) return -6; // -ENXIO
  const xa = pageCache(vm).mapping(ino).xa;
  const last = Math.ceil(size / PAGE_SIZE);
  const sh = shmemOf(vm);
  for (let i = Math.floor(off / PAGE_SIZE); i < last; i++) {
    // A page out on swap is data too.
    if ((xa.load(i) >= 0 || sh.swapEntry(ino, i) >= 0) === data) return Math.max(off, i * PAGE_SIZE);
  }
  return data ? -6 : size;
}

/**
 * shmem_writeout() for a dirty shmem page reclaim took (unmapped, held by
 * the page cache and the isolation): into the swap cache with a slot, the
 * slot's reference for the inode, out of the page cache (its index now
 * names the swap entry), written to swap. False, the page left as it was
 * and dirty (AOP_WRITEPAGE_ACTIVATE: reclaim activates it), when there is
 * no swap or no free slot.
 */
export function shmemWriteout(vm: Vm, pfn: number): boolean {
  const p = vm.k.pages;
  const si = vm.swap;
  const ino = vm.pageMapping[pfn]!;
  const index = p.index[pfn]!;
  const as = pageCache(vm).spaces.get(ino);
  if (si === null || vm.totalSwapPages === 0 || as === undefined || as.xa.load(index) !== pfn || pageSwapCache(vm, pfn)) {
    shmemMarkDirty(vm, pfn);
    return false;
  }
  if (!addToSwap(vm, pfn)) {
    shmemMarkDirty(vm, pfn);
    return false;
  }
  const offset = vm.pagePrivate[pfn]!;
  // swap_shmem_alloc(): the inode's reference on the slot.
  si.duplicate(offset);
  const sh = shmemOf(vm);
  let m = sh.swapped.get(ino);
  if (m === undefined) {
    m = new Map();
    sh.swapped.set(ino, m);
  }
  m.set(index, offset);
  // shmem_delete_from_page_cache(): the slot holds the swap entry; the page cache's reference goes.
  as.xa.erase(index);
  as.nrpages--;
  vm.nrFilePages--;
  vm.nrShmem--;
  as.shadows.pageRemoved(index);
  vm.pageMapping[pfn] = 0;
  p.refcount[pfn] = p.refcount[pfn]! - 1;
  // swap_writeout()
  swapWritepage(vm, pfn);
  return true;
}
