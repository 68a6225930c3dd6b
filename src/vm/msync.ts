/**
 * msync(2) (mm/msync.c). Since 2.6.19 MS_ASYNC does nothing (the pages a
 * shared mapping dirties are already known dirty: write faults mark them,
 * see memory.ts), and MS_SYNC is vfs_fsync_range() of each shared file
 * mapping's part of the range: the dirty pages of those file offsets are
 * written back (their PTEs write-protected again by folio_mkclean) and the
 * disk's cache flushed. A tmpfs/shmem file's fsync is noop_fsync().
 */

import { pageCache } from './filemap.js';
import type { Task } from './fork.js';
import { EBUSY, EINVAL, ENOMEM, MS_ASYNC, MS_INVALIDATE, MS_SYNC, VM } from './mman.js';
import type { Vm } from './vm.js';
import { findVmaIndex } from './vma.js';

const PAGE = 4096;

/**
 * SYSCALL_DEFINE3(msync): the checks in the kernel's order (-EINVAL for
 * unknown flags, an unaligned start, MS_ASYNC with MS_SYNC; -ENOMEM when
 * start + len wraps), then a walk of the VMAs of [start, end): a hole makes
 * the result -ENOMEM after the rest is done (at once for plain MS_ASYNC);
 * MS_INVALIDATE on a VM_LOCKED VMA is -EBUSY.
 */
export function doMsync(vm: Vm, t: Task, start: number, len: number, flags: number): number {
  const mm = t.mm!;
  const s = vm.s;
  if ((flags & ~(MS_ASYNC | MS_INVALIDATE | MS_SYNC)) !== 0) return -EINVAL;
  if (start % PAGE !== 0 || start < 0) return -EINVAL;
  if ((flags & MS_ASYNC) !== 0 && (flags & MS_SYNC) !== 0) return -EINVAL;
  if (len < 0) return -ENOMEM;
  len = Math.ceil(len / PAGE) * PAGE;
  const end = start + len;
  if (end >= 2 ** 64) return -ENOMEM;
  if (end === start) return 0;
  let unmapped = 0;
  let i = findVmaIndex(vm, mm, start);
  for (;;) {
    if (i < 0) return -ENOMEM;
    const v = mm.vmas[i]!;
    if (start < s.vmStart(v)) {
      if (flags === MS_ASYNC) return -ENOMEM;
      start = s.vmStart(v);
      if (start >= end) return -ENOMEM;
      unmapped = -ENOMEM;
    }
    const f = s.vmFlags(v);
    if ((flags & MS_INVALIDATE) !== 0 && (f & VM.LOCKED) !== 0) return -EBUSY;
    const ino = s.vmFile(v);
    const fstart = start - s.vmStart(v) + s.vmPgoff(v) * PAGE;
    const fend = fstart + (Math.min(end, s.vmEnd(v)) - start) - 1;
    start = s.vmEnd(v);
    if ((flags & MS_SYNC) !== 0 && ino !== 0 && (f & VM.SHARED) !== 0) {
      const err = vfsFsyncRange(vm, ino, fstart, fend);
      if (err !== 0 || start >= end) return err !== 0 ? err : unmapped;
      i = findVmaIndex(vm, mm, start);
    } else {
      if (start >= end) return unmapped;
      i = findVmaIndex(vm, mm, start);
    }
  }
}

/**
 * vfs_fsync_range(file, start, end, datasync = 1): for a file on the disk,
 * file_write_and_wait_range() of the pages holding bytes [start, end], then
 * a flush of the disk's cache (as ext4_sync_file does); 0 for shmem.
 */
export function vfsFsyncRange(vm: Vm, ino: number, start: number, end: number): number {
  if (vm.isShmem(ino)) return 0;
  const inode = vm.fs.byIno(ino);
  if (inode === undefined) return 0;
  const pc = pageCache(vm);
  pc.writeback(inode, Math.floor(start / PAGE), Math.floor(end / PAGE));
  pc.bdev.flush();
  return 0;
}
