/**
 * The file system calls (fs/open.c, fs/read_write.c, fs/namei.c, fs/sync.c)
 * on kmem's root file system: struct file (an open file description, shared
 * by the fds fork copies), a task's fd table, and open / read / write /
 * pread64 / pwrite64 / lseek / ftruncate / fsync / fdatasync / close /
 * unlink / rename. Reads and writes go through the page cache
 * (filemap.ts); the user buffer is reached through the task's page
 * tables, so a bad buffer is -EFAULT, as copy_to_user/copy_from_user make it.
 */

import {
  ENAMETOOLONG,
  MAX_LFS_FILESIZE,
  O_ACCMODE,
  O_APPEND,
  O_CREAT,
  O_DIRECT,
  O_DIRECTORY,
  O_DSYNC,
  O_EXCL,
  O_RDONLY,
  O_TRUNC,
  O_WRONLY,
  POSIX_FADV_DONTNEED,
  POSIX_FADV_NOREUSE,
  POSIX_FADV_NORMAL,
  POSIX_FADV_RANDOM,
  POSIX_FADV_SEQUENTIAL,
  POSIX_FADV_WILLNEED,
  RLIMIT_NOFILE_CUR,
  SEEK_CUR,
  SEEK_DATA,
  SEEK_END,
  SEEK_HOLE,
  SEEK_SET,
} from '../fs/fcntl.js';
import { type Inode, parentOf } from '../fs/rootfs.js';
import { filemapRead, filemapWrite, pageCache, type UserCopy } from './filemap.js';
import { unmapMappingRange } from './memory.js';
import { EBADF, EEXIST, EFAULT, EINVAL, EISDIR, EMFILE, ENOENT, ENOTDIR, EOVERFLOW, EXDEV } from './mman.js';
import { balanceDirtyPagesRatelimited, fsyncInode, ksysSync, syncFs, writeSync } from './page-writeback.js';
import { type FileRaState, fileRaStateInit, forcePageCacheRa, VM_READAHEAD_PAGES } from './readahead.js';
import { SHM_DIR, shmemOf, shmemRead, shmemSeekHoleData, shmemWrite } from './shmem.js';
import type { Vm } from './vm.js';

export const FMODE_READ = 1;
export const FMODE_WRITE = 2;
/** PATH_MAX */
const PATH_MAX = 4096;
/** MAX_RW_COUNT: INT_MAX rounded down to a page */
const MAX_RW_COUNT = 0x7ffff000;

/** The next struct file's id (what a VMA made through it records: VMA.FILE_ID) */
let nextFileId = 1;

/** struct file */
export class OpenFile {
  /** this struct file's identity (its address, in the kernel) */
  readonly id = nextFileId++;
  pos = 0;
  /** f_count: the fds (in every task) that point here */
  count = 1;
  readonly ra: FileRaState = fileRaStateInit();

  constructor(
    /** null for a directory opened to read its entries */
    readonly inode: Inode | null,
    readonly path: string,
    /** f_flags as open(2) was given them (O_CREAT, O_EXCL, O_TRUNC cleared) */
    readonly flags: number,
    /** FMODE_READ | FMODE_WRITE */
    readonly mode: number,
  ) {}
}

/** A task's files_struct: fd -> struct file. */
export type FdTable = (OpenFile | null)[];

/** fget() of fd, or null (EBADF). */
function fdget(fdt: FdTable, fd: number): OpenFile | null {
  if (!Number.isInteger(fd) || fd < 0 || fd >= fdt.length) return null;
  return fdt[fd] ?? null;
}

/** fput(): the last reference lets the inode go (an unlinked file is freed then). */
function fput(vm: Vm, f: OpenFile): void {
  if (--f.count > 0) return;
  if (f.inode !== null) {
    f.inode.opens--;
    vm.fs.maybeEvict(f.inode);
  }
}

/** getname()'s checks: -ENOENT for "", -ENAMETOOLONG past PATH_MAX or NAME_MAX. */
function checkPath(path: string): number {
  if (path.length === 0) return -ENOENT;
  if (path.length >= PATH_MAX) return -ENAMETOOLONG;
  for (const c of path.split('/')) if (c.length > 255) return -ENAMETOOLONG;
  return 0;
}

/** Normalise an absolute path ("//a/./b/" -> "/a/b"); kmem's tasks have "/" as their cwd. */
function normalise(path: string): string {
  const out: string[] = [];
  for (const c of path.split('/')) {
    if (c === '' || c === '.') continue;
    if (c === '..') out.pop();
    else out.push(c);
  }
  return `/${out.join('/')}`;
}

/** Follow symbolic links at the last component (as open without O_NOFOLLOW does). */
function resolve(vm: Vm, path: string): string {
  for (let n = 0; n < 40; n++) {
    const l = vm.fs.link(path);
    if (l === undefined) return path;
    path = normalise(l);
  }
  return path;
}

/** Does every ancestor of path exist as a directory? 0, -ENOENT or -ENOTDIR. */
function parentOk(vm: Vm, path: string): number {
  const parent = parentOf(path);
  if (vm.fs.isDir(parent)) return 0;
  for (let p = parent; p !== '/'; p = parentOf(p)) if (vm.fs.file(p) !== undefined) return -ENOTDIR;
  return -ENOENT;
}

/** do_sys_open(): the lowest free fd, or -errno. */
export function sysOpen(vm: Vm, fdt: FdTable, pathIn: string, flags: number, _mode: number): number {
  const e = checkPath(pathIn);
  if (e < 0) return e;
  let path = normalise(pathIn.startsWith('/') ? pathIn : `/${pathIn}`);
  path = resolve(vm, path);
  const acc = flags & O_ACCMODE;
  if (acc === 3) return -EINVAL;
  const fmode = acc === O_RDONLY ? FMODE_READ : acc === O_WRONLY ? FMODE_WRITE : FMODE_READ | FMODE_WRITE;
  let fd = fdt.indexOf(null);
  if (fd < 0) fd = fdt.length;
  if (fd >= RLIMIT_NOFILE_CUR) return -EMFILE;
  if (vm.fs.isDir(path)) {
    // open_last_lookups(): O_CREAT on a directory is EISDIR; a directory opens only for reading.
    if ((flags & O_CREAT) !== 0 || (fmode & FMODE_WRITE) !== 0) return -EISDIR;
    fdt[fd] = new OpenFile(null, path, flags & ~(O_CREAT | O_EXCL | O_TRUNC), fmode);
    return fd;
  }
  let inode = vm.fs.file(path);
  if (inode === undefined) {
    const pe = parentOk(vm, path);
    if (pe < 0) return pe;
    if ((flags & O_CREAT) === 0) return -ENOENT;
    inode = vm.fs.create(path);
    // A file created in /dev/shm is a tmpfs (shmem) inode.
    if (parentOf(path) === SHM_DIR) shmemOf(vm).files.add(inode.ino);
  } else {
    if ((flags & (O_CREAT | O_EXCL)) === (O_CREAT | O_EXCL)) return -EEXIST;
    if ((flags & O_DIRECTORY) !== 0) return -ENOTDIR;
    // handle_truncate(): O_TRUNC on a writable open empties the file.
    if ((flags & O_TRUNC) !== 0 && (fmode & FMODE_WRITE) !== 0) truncate(vm, inode, 0);
  }
  inode.opens++;
  fdt[fd] = new OpenFile(inode, path, flags & ~(O_CREAT | O_EXCL | O_TRUNC), fmode);
  return fd;
}

/** close(2) */
export function sysClose(vm: Vm, fdt: FdTable, fd: number): number {
  const f = fdget(fdt, fd);
  if (f === null) return -EBADF;
  fdt[fd] = null;
  while (fdt.length > 0 && fdt[fdt.length - 1] === null) fdt.pop();
  fput(vm, f);
  return 0;
}

/** Every fd closed (exit_files()). */
export function closeAll(vm: Vm, fdt: FdTable): void {
  for (let fd = 0; fd < fdt.length; fd++) if (fdt[fd] != null) sysClose(vm, fdt, fd);
}

/** dup_fd() at fork: the child's table points at the same struct files. */
export function dupFds(fdt: FdTable): FdTable {
  for (const f of fdt) if (f !== null) f.count++;
  return fdt.slice();
}

/** rw_verify_area() + the count clamp. */
function rwCheck(pos: number, n: number): number {
  if (!Number.isInteger(n) || n < 0) return -EINVAL;
  if (pos < 0) return -EINVAL;
  if (pos + Math.min(n, MAX_RW_COUNT) > MAX_LFS_FILESIZE) return -EINVAL;
  return 0;
}

/** access_ok(): the buffer lies in user space. */
function accessOk(buf: number, n: number): boolean {
  return Number.isInteger(buf) && buf >= 0 && buf + n <= 2 ** 47 - 4096;
}

function doRead(vm: Vm, u: UserCopy, f: OpenFile, buf: number, n: number, pos: number): number {
  if ((f.mode & FMODE_READ) === 0) return -EBADF;
  if (f.inode === null) return -EISDIR;
  const e = rwCheck(pos, n);
  if (e < 0) return e;
  if (n === 0) return 0;
  if (!accessOk(buf, n)) return -EFAULT;
  n = Math.min(n, MAX_RW_COUNT);
  if (vm.isShmem(f.inode.ino)) return shmemRead(vm, u, { inode: f.inode, ra: f.ra }, buf, n, pos);
  if ((f.flags & O_DIRECT) !== 0) return directIO(vm, u, f.inode, buf, n, pos, false);
  return filemapRead(pageCache(vm), u, { inode: f.inode, ra: f.ra }, buf, n, pos);
}

function doWrite(vm: Vm, u: UserCopy, f: OpenFile, buf: number, n: number, pos: number): number {
  if ((f.mode & FMODE_WRITE) === 0) return -EBADF;
  if (f.inode === null) return -EISDIR;
  const e = rwCheck(pos, n);
  if (e < 0) return e;
  if (n === 0) return 0;
  if (!accessOk(buf, n)) return -EFAULT;
  n = Math.min(n, MAX_RW_COUNT);
  if (vm.isShmem(f.inode.ino)) return shmemWrite(vm, u, { inode: f.inode, ra: f.ra }, buf, n, pos);
  if ((f.flags & O_DIRECT) !== 0) return directIO(vm, u, f.inode, buf, n, pos, true);
  const r = filemapWrite(pageCache(vm), u, f.inode, buf, n, pos, (newly) => balanceDirtyPagesRatelimited(vm, u, newly));
  // generic_write_sync(): O_DSYNC (and O_SYNC, which includes it) writes the range and waits.
  if (r > 0 && (f.flags & O_DSYNC) !== 0) writeSync(vm, f.inode, pos, r);
  return r;
}

/** ENOSPC */
const ENOSPC = 28;

/** the disk's logical block size: O_DIRECT's alignment unit */
const LOGICAL_BLOCK_SIZE = 512;

/**
 * O_DIRECT (iomap_dio_rw's shape): offset, length and buffer aligned to the
 * logical block size or -EINVAL; the range's dirty pages are written and
 * its cached pages dropped first (kiocb_invalidate_pages), then one request
 * moves the bytes between the user buffer and the disk, bypassing the cache.
 */
function directIO(vm: Vm, u: UserCopy, inode: Inode, buf: number, n: number, pos: number, write: boolean): number {
  if ((pos | n | buf) % LOGICAL_BLOCK_SIZE !== 0) return -EINVAL;
  const pc = pageCache(vm);
  if (!write) n = Math.max(0, Math.min(n, inode.data.length - pos));
  if (n === 0) return 0;
  // kiocb_write_and_wait() / kiocb_invalidate_pages(): the range's dirty pages written and waited for, then dropped.
  const first = Math.floor(pos / 4096);
  const last = Math.floor((pos + n - 1) / 4096);
  pc.writePages(inode, Number.POSITIVE_INFINITY, true, first, last);
  pc.waitWriteback(pc.mapping(inode.ino));
  pc.invalidate(pc.mapping(inode.ino), first, last);
  if (write && pos + n > inode.data.length) {
    // the blocks the file grows by must be free (-ENOSPC)
    const grow = Math.ceil((pos + n) / 4096) - Math.ceil(inode.data.length / 4096);
    if (vm.fs.usedBlocks + grow > vm.fs.capacityBlocks) return -ENOSPC;
    vm.fs.setSize(inode, pos + n);
  }
  const u8 = vm.k.phys.u8;
  let done = 0;
  while (done < n) {
    const chunk = Math.min(n - done, 4096 - ((buf + done) % 4096));
    const p = u.userPhys(buf + done, !write);
    if (p < 0) break;
    if (write) inode.data.set(u8.subarray(p, p + chunk), pos + done);
    else u8.set(inode.data.subarray(pos + done, pos + done + chunk), p);
    done += chunk;
  }
  if (done === 0) return -EFAULT;
  // The caller waits for its one request (iomap_dio_rw's synchronous wait).
  const timers = vm.k.timers;
  const us = pc.bdev.submit(write ? 'write' : 'read', inode.ino, Math.floor(pos / 4096), Math.ceil(done / 4096), timers.now);
  pc.ioUs += us;
  timers.sleep(us * 1000);
  return done;
}

/** read(2) */
export function sysRead(vm: Vm, u: UserCopy, fdt: FdTable, fd: number, buf: number, n: number): number {
  const f = fdget(fdt, fd);
  if (f === null) return -EBADF;
  const r = doRead(vm, u, f, buf, n, f.pos);
  if (r > 0) f.pos += r;
  return r;
}

/** write(2): O_APPEND writes at the end (generic_write_checks). */
export function sysWrite(vm: Vm, u: UserCopy, fdt: FdTable, fd: number, buf: number, n: number): number {
  const f = fdget(fdt, fd);
  if (f === null) return -EBADF;
  if ((f.flags & O_APPEND) !== 0 && f.inode !== null) f.pos = f.inode.data.length;
  const r = doWrite(vm, u, f, buf, n, f.pos);
  if (r > 0) f.pos += r;
  return r;
}

/** pread64(2) */
export function sysPread(vm: Vm, u: UserCopy, fdt: FdTable, fd: number, buf: number, n: number, pos: number): number {
  const f = fdget(fdt, fd);
  if (f === null) return -EBADF;
  if (pos < 0) return -EINVAL;
  return doRead(vm, u, f, buf, n, pos);
}

/** pwrite64(2): on Linux an O_APPEND file appends whatever pos says. */
export function sysPwrite(vm: Vm, u: UserCopy, fdt: FdTable, fd: number, buf: number, n: number, pos: number): number {
  const f = fdget(fdt, fd);
  if (f === null) return -EBADF;
  if (pos < 0) return -EINVAL;
  if ((f.flags & O_APPEND) !== 0 && f.inode !== null) pos = f.inode.data.length;
  return doWrite(vm, u, f, buf, n, pos);
}

/** lseek(2) (generic_file_llseek): SEEK_DATA / SEEK_HOLE see no holes in a file on the disk (every byte up to i_size is data); a tmpfs file's holes are its missing pages. */
export function sysLseek(vm: Vm, fdt: FdTable, fd: number, off: number, whence: number): number {
  const f = fdget(fdt, fd);
  if (f === null) return -EBADF;
  // A tmpfs file has holes: the pages not in its cache.
  if (f.inode !== null && (whence === SEEK_DATA || whence === SEEK_HOLE) && vm.isShmem(f.inode.ino)) {
    const pos = shmemSeekHoleData(vm, f.inode.ino, off, whence === SEEK_DATA);
    if (pos >= 0) f.pos = pos;
    return pos;
  }
  if (f.inode === null) {
    if (whence === SEEK_SET && off >= 0) {
      f.pos = off;
      return off;
    }
    return -EINVAL;
  }
  const size = f.inode.data.length;
  let pos: number;
  switch (whence) {
    case SEEK_SET:
      pos = off;
      break;
    case SEEK_CUR:
      if (off === 0) return f.pos;
      pos = f.pos + off;
      break;
    case SEEK_END:
      pos = size + off;
      break;
    case SEEK_DATA:
      if (off < 0 || off >= size) return -6; // -ENXIO
      pos = off;
      break;
    case SEEK_HOLE:
      if (off < 0 || off >= size) return -6;
      pos = size;
      break;
    default:
      return -EINVAL;
  }
  if (pos < 0) return -EINVAL;
  if (pos > MAX_LFS_FILESIZE) return -EINVAL;
  f.pos = pos;
  return pos;
}

/**
 * truncate_setsize() + truncate_pagecache() (shmem_setattr() for a tmpfs
 * file): i_size becomes n; the PTEs of every mapping past the new end are
 * zapped (private copies too: unmap_mapping_range with even_cows), pages
 * wholly past it leave the cache, the tail of a partial last page is zeroed
 * in the cache (and on the backing bytes, where the size cut them). A later
 * touch of a mapping past the end is SIGBUS.
 */
export function truncate(vm: Vm, inode: Inode, n: number): void {
  const pc = pageCache(vm);
  const old = inode.data.length;
  vm.fs.setSize(inode, n);
  if (n >= old) return;
  unmapMappingRange(vm, inode.ino, Math.ceil(n / 4096));
  pc.truncate(inode.ino, Math.ceil(n / 4096));
  if (n % 4096 !== 0) {
    const pfn = pc.mapping(inode.ino).xa.load(Math.floor(n / 4096));
    if (pfn >= 0) vm.k.phys.u8.fill(0, pfn * 4096 + (n % 4096), (pfn + 1) * 4096);
  }
}

/** ftruncate(2) */
export function sysFtruncate(vm: Vm, fdt: FdTable, fd: number, len: number): number {
  const f = fdget(fdt, fd);
  if (f === null) return -EBADF;
  if (len < 0) return -EINVAL;
  if (f.inode === null) return -EINVAL;
  if ((f.mode & FMODE_WRITE) === 0) return -EINVAL;
  if (len > MAX_LFS_FILESIZE) return -EOVERFLOW;
  truncate(vm, f.inode, len);
  return 0;
}

/** fsync(2) / fdatasync(2): the file's dirty pages written and waited for (the clock moves), then a cache flush. */
export function sysFsync(vm: Vm, fdt: FdTable, fd: number): number {
  const f = fdget(fdt, fd);
  if (f === null) return -EBADF;
  if (f.inode === null) return 0;
  // shmem's fsync is noop_fsync().
  if (vm.isShmem(f.inode.ino)) return 0;
  fsyncInode(vm, f.inode);
  return 0;
}

/** sync(2): every dirty page of every file written and waited for. */
export function sysSync(vm: Vm): void {
  ksysSync(vm);
}

/** syncfs(2): the file system fd is on (kmem's one root file system) synced; -EBADF for a bad fd. */
export function sysSyncfs(vm: Vm, fdt: FdTable, fd: number): number {
  if (fdget(fdt, fd) === null) return -EBADF;
  syncFs(vm);
  return 0;
}

/** unlink(2): the name goes; an open file lives until its last close. */
export function sysUnlink(vm: Vm, pathIn: string): number {
  const e = checkPath(pathIn);
  if (e < 0) return e;
  const path = normalise(pathIn);
  if (vm.fs.isDir(path)) return -EISDIR;
  if (vm.fs.link(path) !== undefined && vm.fs.file(path) === undefined) return -ENOENT;
  const pe = parentOk(vm, path);
  if (pe < 0) return pe;
  if (vm.fs.unlinkName(path) === undefined) return -ENOENT;
  return 0;
}

/** rename(2) of a regular file (renaming a directory is not done yet: -EINVAL). */
export function sysRename(vm: Vm, fromIn: string, toIn: string): number {
  let e = checkPath(fromIn);
  if (e === 0) e = checkPath(toIn);
  if (e < 0) return e;
  const from = normalise(fromIn);
  const to = normalise(toIn);
  const pe = parentOk(vm, from);
  if (pe < 0) return pe;
  if (vm.fs.isDir(from)) return vm.fs.isDir(to) || vm.fs.file(to) === undefined ? -EINVAL : -ENOTDIR;
  if (vm.fs.file(from) === undefined) return -ENOENT;
  const pt = parentOk(vm, to);
  if (pt < 0) return pt;
  // The tmpfs at /dev/shm is another mount: no rename across it.
  if ((parentOf(from) === SHM_DIR) !== (parentOf(to) === SHM_DIR)) return -EXDEV;
  if (vm.fs.isDir(to)) return -EISDIR;
  if (from === to) return 0;
  vm.fs.moveName(from, to);
  return 0;
}

/**
 * fadvise64(2) (generic_fadvise, mm/fadvise.c): NORMAL / SEQUENTIAL set the
 * file's readahead window (ra_pages, twice it), RANDOM turns the heuristics
 * off (FMODE_RANDOM), WILLNEED reads the range now (force_page_cache_ra),
 * DONTNEED starts writeback of the range and drops its clean unmapped whole pages.
 */
export function sysFadvise(vm: Vm, fdt: FdTable, fd: number, off: number, len: number, advice: number): number {
  const f = fdget(fdt, fd);
  if (f === null) return -EBADF;
  if (f.inode === null || len < 0) return -EINVAL;
  const inode = f.inode;
  const pc = pageCache(vm);
  // generic_fadvise(): a file on noop_backing_dev_info (tmpfs) takes any valid advice and does nothing.
  if (vm.isShmem(inode.ino)) return advice >= POSIX_FADV_NORMAL && advice <= POSIX_FADV_NOREUSE ? 0 : -EINVAL;
  // len 0: to the end of everything; endbyte is inclusive.
  const endbyte = len === 0 || off + len > MAX_LFS_FILESIZE ? MAX_LFS_FILESIZE : off + len - 1;
  switch (advice) {
    case POSIX_FADV_NORMAL:
      f.ra.raPages = VM_READAHEAD_PAGES;
      f.ra.random = false;
      return 0;
    case POSIX_FADV_RANDOM:
      f.ra.random = true;
      return 0;
    case POSIX_FADV_SEQUENTIAL:
      f.ra.raPages = VM_READAHEAD_PAGES * 2;
      f.ra.random = false;
      return 0;
    case POSIX_FADV_NOREUSE:
      return 0;
    case POSIX_FADV_WILLNEED: {
      const start = Math.floor(off / 4096);
      const nr = Math.floor(endbyte / 4096) - start + 1;
      forcePageCacheRa({ pc, inode, as: pc.mapping(inode.ino), ra: f.ra, index: start, nrPages: 0 }, nr);
      return 0;
    }
    case POSIX_FADV_DONTNEED: {
      // __filemap_fdatawrite_range(WB_SYNC_NONE): the range's dirty pages start writeback and are not waited
      // for, so one still under writeback is not dropped below (as on a real disk right after a write).
      pc.writePages(inode, Number.POSITIVE_INFINITY, false, Math.floor(off / 4096), Math.floor(endbyte / 4096));
      // Whole pages only: a partial last page stays, unless the range ends at a page end or the file's end.
      const start = Math.ceil(off / 4096);
      let end = Math.floor(endbyte / 4096);
      if (endbyte % 4096 !== 4095 && endbyte !== inode.data.length - 1) {
        if (end === 0) return 0;
        end--;
      }
      if (end >= start) pc.invalidate(pc.mapping(inode.ino), start, end);
      return 0;
    }
    default:
      return -EINVAL;
  }
}

/** For tests and /proc: the struct file behind fd. */
export function fileOf(fdt: FdTable, fd: number): OpenFile | null {
  return fdget(fdt, fd);
}
