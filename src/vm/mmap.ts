/**
 * mmap, munmap, brk and get_unmapped_area (mm/mmap.c, mm/vma.c,
 * arch/x86/kernel/sys_x86_64.c), mprotect (mm/mprotect.c), madvise
 * (mm/madvise.c). Each returns what the system call returns: a value, or -errno.
 */
import { MAX_LFS_FILESIZE } from '../fs/fcntl.js';
import type { Task } from './fork.js';
import { madviseColdOrPageout, madviseFree } from './madvise.js';
import { changeProtection, populateRange, zapRange } from './memory.js';
import { MMAP_MIN_ADDR, type Mm, PMD_SIZE, STACK_GUARD_GAP, VMA } from './mm_types.js';
import {
  EACCES,
  EBADF,
  EEXIST,
  EINVAL,
  ENODEV,
  ENOMEM,
  EOPNOTSUPP,
  EOVERFLOW,
  MADV_COLD,
  MADV_DODUMP,
  MADV_DOFORK,
  MADV_DONTDUMP,
  MADV_DONTFORK,
  MADV_DONTNEED,
  MADV_FREE,
  MADV_HUGEPAGE,
  MADV_KEEPONFORK,
  MADV_NOHUGEPAGE,
  MADV_NORMAL,
  MADV_PAGEOUT,
  MADV_RANDOM,
  MADV_SEQUENTIAL,
  MADV_WIPEONFORK,
  MAP_ANONYMOUS,
  MAP_DENYWRITE,
  MAP_EXECUTABLE,
  MAP_FIXED,
  MAP_FIXED_NOREPLACE,
  MAP_GROWSDOWN,
  MAP_HUGETLB,
  MAP_LOCKED,
  MAP_NONBLOCK,
  MAP_NORESERVE,
  MAP_POPULATE,
  MAP_PRIVATE,
  MAP_SHARED,
  MAP_SHARED_VALIDATE,
  MAP_STACK,
  MAP_TYPE,
  MAP_UNINITIALIZED,
  madviseBehaviorValid,
  PROT_EXEC,
  PROT_GROWSDOWN,
  PROT_GROWSUP,
  PROT_READ,
  PROT_SEM,
  PROT_WRITE,
  VM,
} from './mman.js';
import { FMODE_READ, FMODE_WRITE, fileOf, type OpenFile } from './read_write.js';
import { shmemOf } from './shmem.js';
import type { Vm } from './vm.js';
import {
  findVmaIndex,
  findVmaIntersection,
  insertVma,
  mapleDetach,
  mergeAround,
  setPageProt,
  splitVma,
  syncMapleNodes,
  vmAreaAlloc,
  vmAreaFree,
  vmaSetFile,
} from './vma.js';

const PAGE = 4096;
/** kmem-internal: no THP alignment (shmem's get_unmapped_area with huge pages off) */
const MAP_NO_THP_ALIGN = 0x40000000;
const pageAlign = (x: number) => Math.ceil(x / PAGE) * PAGE;

/** vm_start_gap(): a stack VMA keeps stack_guard_gap free below it. */
function vmStartGap(vm: Vm, v: number): number {
  const start = vm.s.vmStart(v);
  if ((vm.s.vmFlags(v) & VM.GROWSDOWN) === 0) return start;
  const gap = start - STACK_GUARD_GAP;
  return gap > start ? 0 : Math.max(0, gap);
}

/**
 * unmapped_area_topdown(): the highest gap of len bytes (aligned to align)
 * between low and high, keeping the guard gaps; -ENOMEM if none.
 */
function unmappedAreaTopdown(vm: Vm, mm: Mm, len: number, low: number, high: number, align: number): number {
  const v = mm.vmas;
  // Walk gaps from the top: the gap below v[i] and above v[i-1].
  for (let i = v.length; i >= 0; i--) {
    const gapEnd = Math.min(high, i < v.length ? vmStartGap(vm, v[i]!) : high);
    const gapStart = Math.max(low, i > 0 ? vm.s.vmEnd(v[i - 1]!) : low);
    if (gapEnd < gapStart + len) continue;
    let addr = gapEnd - len;
    if (align > PAGE) addr -= addr % align;
    if (addr >= gapStart) return addr;
  }
  return -ENOMEM;
}

/** __get_unmapped_area() for anonymous memory. */
export function getUnmappedArea(vm: Vm, mm: Mm, addr: number, len: number, flags: number): number {
  if (len > mm.taskSize) return -ENOMEM;
  let ret: number;
  if ((flags & MAP_FIXED) !== 0) {
    ret = addr;
  } else {
    // arch_get_unmapped_area_topdown(): a hint first, when it fits.
    if (addr !== 0) {
      const a = addr - (addr % PAGE);
      if (a + len <= mm.taskSize && a >= MMAP_MIN_ADDR) {
        const i = findVmaIndex(vm, mm, a);
        if (i < 0 || a + len <= vmStartGap(vm, mm.vmas[i]!)) return a;
      }
    }
    if (addr === 0 && len % PMD_SIZE === 0 && (flags & MAP_NO_THP_ALIGN) === 0) {
      // thp_get_unmapped_area_vmflags(): search len + PMD_SIZE, then take the PMD-aligned part.
      const r = unmappedAreaTopdown(vm, mm, len + PMD_SIZE, PAGE, mm.mmapBase, PAGE);
      if (r >= 0) {
        const sub = (PMD_SIZE - (r % PMD_SIZE)) % PMD_SIZE;
        return sub === 0 ? r + PMD_SIZE : r + sub;
      }
    }
    ret = unmappedAreaTopdown(vm, mm, len, PAGE, mm.mmapBase, PAGE);
    if (ret < 0) return ret;
  }
  if (ret > mm.taskSize - len) return -ENOMEM;
  if (ret % PAGE !== 0) return -EINVAL;
  return ret;
}

/** calc_vm_prot_bits() | calc_vm_flag_bits() */
function vmFlagsFor(prot: number, flags: number): number {
  let f = 0;
  if (prot & PROT_READ) f |= VM.READ;
  if (prot & PROT_WRITE) f |= VM.WRITE;
  if (prot & PROT_EXEC) f |= VM.EXEC;
  if (flags & MAP_GROWSDOWN) f |= VM.GROWSDOWN;
  if (flags & MAP_LOCKED) f |= VM.LOCKED;
  return f;
}

/** x86's MAP_32BIT and MAP_ABOVE4G, and the MAP_HUGE_2MB / MAP_HUGE_1GB size encodings (accepted, not acted on) */
const MAP_32BIT = 0x40;
const MAP_ABOVE4G = 0x80;
const MAP_HUGE_2MB = 21 << 26;
const MAP_HUGE_1GB = 30 << 26;

/** LEGACY_MAP_MASK: the flags MAP_SHARED_VALIDATE accepts (MAP_SYNC only where the file supports it: not here) */
const LEGACY_MAP_MASK =
  MAP_32BIT |
  MAP_ABOVE4G |
  MAP_HUGE_2MB |
  MAP_HUGE_1GB |
  MAP_SHARED |
  MAP_PRIVATE |
  MAP_FIXED |
  MAP_ANONYMOUS |
  MAP_DENYWRITE |
  MAP_EXECUTABLE |
  MAP_UNINITIALIZED |
  MAP_GROWSDOWN |
  MAP_LOCKED |
  MAP_NORESERVE |
  MAP_POPULATE |
  MAP_NONBLOCK |
  MAP_STACK |
  MAP_HUGETLB;

/**
 * thp_get_unmapped_area() for a file on the disk (ext4's
 * get_unmapped_area): when the file range [off, off + len) holds a whole
 * PMD-aligned 2 MiB, search len + 2 MiB and place the mapping so that
 * address and file offset agree modulo 2 MiB (one PMD further up when they
 * already do, top-down); else the plain search.
 */
function thpGetUnmappedArea(vm: Vm, mm: Mm, addr: number, len: number, off: number, flags: number): number {
  const offAlign = Math.ceil(off / PMD_SIZE) * PMD_SIZE;
  if (off + len > offAlign && off + len - offAlign >= PMD_SIZE) {
    const r = getUnmappedArea(vm, mm, addr, len + PMD_SIZE, flags | MAP_NO_THP_ALIGN);
    if (r >= 0) {
      if (r === addr) return addr;
      const sub = (((off - r) % PMD_SIZE) + PMD_SIZE) % PMD_SIZE;
      return sub === 0 ? r + PMD_SIZE : r + sub;
    }
  }
  return getUnmappedArea(vm, mm, addr, len, flags | MAP_NO_THP_ALIGN);
}

/**
 * get_unmapped_area() for a range of an existing mapping of inode ino (0:
 * anonymous) at file page pgoff, as mremap asks it: the file's own
 * (thp_get_unmapped_area for a file on the disk, shmem's for shmem),
 * else the anonymous one.
 */
export function getUnmappedAreaFor(vm: Vm, mm: Mm, ino: number, addr: number, len: number, pgoff: number, flags: number): number {
  if (ino === 0) return getUnmappedArea(vm, mm, addr, len, flags);
  if (vm.isShmem(ino)) return getUnmappedArea(vm, mm, addr, len, flags | MAP_NO_THP_ALIGN);
  return thpGetUnmappedArea(vm, mm, addr, len, pgoff * PAGE, flags);
}

/**
 * sys_mmap() -> ksys_mmap_pgoff() -> do_mmap(): an address or -errno, with
 * the kernel's order of checks: an unaligned offset, then a bad fd
 * (-EBADF), then the length, the address (get_unmapped_area,
 * MAP_FIXED_NOREPLACE), then the file's checks (the mapping type, the open
 * mode against MAP_SHARED + PROT_WRITE and against reading, -ENODEV for
 * what cannot be mapped). A file mapping holds the file (its VMA keeps the
 * inode alive past close and unlink); a shared one whose fd is not open for
 * writing loses VM_MAYWRITE and VM_SHARED (maps still shows 's').
 */
export function doMmap(vm: Vm, t: Task, addr: number, len: number, prot: number, flags: number, fd: number, off: number): number {
  const mm = t.mm!;
  if (off % PAGE !== 0) return -EINVAL;
  let file: OpenFile | null = null;
  if ((flags & MAP_ANONYMOUS) === 0) {
    file = fileOf(t.fdt, fd);
    if (file === null) return -EBADF;
    if ((flags & MAP_HUGETLB) !== 0) return -EINVAL;
  }
  if (len === 0) return -EINVAL;
  if ((flags & MAP_FIXED) === 0 && addr !== 0 && addr < MMAP_MIN_ADDR) addr = pageAlign(MMAP_MIN_ADDR);
  len = pageAlign(len);
  if (len === 0 || len > 2 ** 64) return -ENOMEM;
  const pgoffIn = off / PAGE;
  if (pgoffIn + len / PAGE > 2 ** 64) return -EOVERFLOW;
  if (mm.vmas.length > vm.maxMapCount) return -ENOMEM;
  if ((flags & MAP_FIXED_NOREPLACE) !== 0) flags |= MAP_FIXED;
  const type = flags & MAP_TYPE;
  const shared = type === MAP_SHARED || type === MAP_SHARED_VALIDATE;
  const ino = file?.inode?.ino ?? 0;
  const shmemFile = ino !== 0 && vm.isShmem(ino);
  let a: number;
  if (file === null) {
    // A shared anonymous mapping takes shmem's get_unmapped_area: no THP alignment with shmem_enabled=never.
    a = getUnmappedArea(vm, mm, addr, len, shared ? flags | MAP_NO_THP_ALIGN : flags);
  } else if (shmemFile || ino === 0) {
    a = getUnmappedArea(vm, mm, addr, len, flags | MAP_NO_THP_ALIGN);
  } else {
    a = thpGetUnmappedArea(vm, mm, addr, len, off, flags);
  }
  if (a < 0) return a;
  if ((flags & MAP_FIXED_NOREPLACE) !== 0 && findVmaIntersection(vm, mm, a, a + len) >= 0) return -EEXIST;
  let vmFlags = vmFlagsFor(prot, flags) | VM.MAYREAD | VM.MAYWRITE | VM.MAYEXEC;
  if (file !== null) {
    // file_mmap_ok(): the range must fit below MAX_LFS_FILESIZE.
    if (len > MAX_LFS_FILESIZE || pgoffIn > Math.floor((MAX_LFS_FILESIZE - len) / PAGE)) return -EOVERFLOW;
    if (type === MAP_SHARED || type === MAP_SHARED_VALIDATE) {
      // MAP_SHARED ignores flags it does not know; MAP_SHARED_VALIDATE refuses them.
      if (type === MAP_SHARED) flags &= LEGACY_MAP_MASK;
      if ((flags & ~LEGACY_MAP_MASK) !== 0) return -EOPNOTSUPP;
      if ((prot & PROT_WRITE) !== 0 && (file.mode & FMODE_WRITE) === 0) return -EACCES;
      vmFlags |= VM.SHARED | VM.MAYSHARE;
      if ((file.mode & FMODE_WRITE) === 0) vmFlags &= ~(VM.MAYWRITE | VM.SHARED);
    } else if (type !== MAP_PRIVATE) return -EINVAL;
    if ((file.mode & FMODE_READ) === 0) return -EACCES;
    // can_mmap_file(): a directory has no ->mmap.
    if (file.inode === null) return -ENODEV;
    if ((vmFlags & VM.GROWSDOWN) !== 0) return -EINVAL;
  } else {
    if (type !== MAP_PRIVATE && !shared) return -EINVAL;
    if (shared && (vmFlags & VM.GROWSDOWN) !== 0) return -EINVAL;
    if (shared) vmFlags |= VM.SHARED | VM.MAYSHARE;
  }
  if ((flags & MAP_NORESERVE) !== 0 && vm.overcommitMemory !== 2) vmFlags |= VM.NORESERVE;
  // security_vm_enough_memory_mm() for what the mapping will charge (the part a MAP_FIXED replaces is given back first):
  // private writable memory (accountable_mapping), and shmem_zero_setup()'s size.
  if ((vmFlags & (VM.NORESERVE | VM.SHARED | VM.WRITE)) === VM.WRITE || (file === null && shared)) {
    const replaced = (flags & MAP_FIXED) !== 0 ? accountedIn(vm, mm, a, a + len) : 0;
    if (!vm.enoughMemory(t, len / PAGE - replaced)) return -ENOMEM;
  }
  const pgoff = file !== null ? pgoffIn : shared ? 0 : a / PAGE;
  const fileIno = file !== null ? ino : shared ? shmemOf(vm).zeroSetup(len) : 0;
  const r = mmapRegion(vm, mm, a, len, vmFlags, pgoff, (flags & MAP_FIXED) !== 0, fileIno, file?.id ?? 0);
  if (r < 0) return r;
  if ((flags & (MAP_POPULATE | MAP_NONBLOCK)) === MAP_POPULATE || (vmFlags & VM.LOCKED) !== 0) populateRange(vm, t, a, a + len);
  return a;
}

/**
 * mmap_region() for a new VMA at [addr, addr + len): what a MAP_FIXED
 * replaces is unmapped first; the VMA takes its file (ino, 0 for anonymous
 * memory; fileId the struct file it came through), then merges with its neighbours as vma_merge_new_range() would.
 */
export function mmapRegion(vm: Vm, mm: Mm, addr: number, len: number, vmFlags: number, pgoff: number, fixed: boolean, ino = 0, fileId = 0): number {
  if (fixed) unmapRange(vm, mm, addr, addr + len);
  // accountable_mapping(): private writable memory is charged (VM_ACCOUNT).
  if ((vmFlags & (VM.NORESERVE | VM.SHARED | VM.WRITE)) === VM.WRITE) vmFlags |= VM.ACCOUNT;
  vmFlags |= VM.SOFTDIRTY;
  const v = vmAreaAlloc(vm, mm, addr, addr + len, vmFlags, pgoff);
  if (ino !== 0) vmaSetFile(vm, v, ino, fileId);
  const i = insertVma(vm, mm, v);
  mergeAround(vm, mm, i);
  vm.statAccount(mm, vmFlags, len / PAGE);
  if ((vmFlags & VM.LOCKED) !== 0) mm.lockedVm += len / PAGE;
  mm.updateHiwaterVm();
  syncMapleNodes(vm, mm);
  return addr;
}

/**
 * do_vmi_munmap()'s work: split the VMAs at the edges, take out every VMA in
 * [start, end), zap their pages, free the page tables nothing needs now.
 */
export function unmapRange(vm: Vm, mm: Mm, start: number, end: number): void {
  const s = vm.s;
  let i = findVmaIndex(vm, mm, start);
  if (i < 0 || s.vmStart(mm.vmas[i]!) >= end) return;
  if (s.vmStart(mm.vmas[i]!) < start) {
    splitVma(vm, mm, i, start);
    i++;
  }
  let j = i;
  while (j < mm.vmas.length && s.vmStart(mm.vmas[j]!) < end) j++;
  const last = mm.vmas[j - 1]!;
  if (s.vmEnd(last) > end) splitVma(vm, mm, j - 1, end);
  const gone = mm.vmas.splice(i, j - i);
  mapleDetach(vm, gone.length);
  const lo = s.vmStart(gone[0]!);
  const hi = s.vmEnd(gone[gone.length - 1]!);
  for (const v of gone) {
    zapRange(vm, mm, s.vmStart(v), s.vmEnd(v));
    vm.statAccount(mm, s.vmFlags(v), -(s.vmEnd(v) - s.vmStart(v)) / PAGE);
    if ((s.vmFlags(v) & VM.LOCKED) !== 0) mm.lockedVm -= (s.vmEnd(v) - s.vmStart(v)) / PAGE;
  }
  // free_pgtables(): between the neighbours that stay.
  const floor = i > 0 ? s.vmEnd(mm.vmas[i - 1]!) : 0;
  const ceiling = i < mm.vmas.length ? s.vmStart(mm.vmas[i]!) : 0;
  vm.pt.freeRange(mm.pgd, lo, hi, floor, ceiling, mm);
  for (const v of gone) vmAreaFree(vm, v);
  syncMapleNodes(vm, mm);
}

/** The VM_ACCOUNT pages of the VMAs inside [start, end). */
function accountedIn(vm: Vm, mm: Mm, start: number, end: number): number {
  let n = 0;
  for (const v of mm.vmas) {
    if ((vm.s.vmFlags(v) & VM.ACCOUNT) === 0) continue;
    const a = Math.max(start, vm.s.vmStart(v));
    const b = Math.min(end, vm.s.vmEnd(v));
    if (b > a) n += (b - a) / PAGE;
  }
  return n;
}

/** munmap(2) */
export function doMunmap(vm: Vm, t: Task, start: number, len: number): number {
  const mm = t.mm!;
  if (start % PAGE !== 0 || start > mm.taskSize || len > mm.taskSize - start) return -EINVAL;
  const end = start + pageAlign(len);
  if (end === start) return -EINVAL;
  unmapRange(vm, mm, start, end);
  return 0;
}

/** brk(2): the new break, or the old one when it cannot move. */
export function doBrk(vm: Vm, t: Task, brk: number): number {
  const mm = t.mm!;
  const s = vm.s;
  const origbrk = mm.brk;
  const minBrk = mm.startBrk;
  if (brk < minBrk) return origbrk;
  const newbrk = pageAlign(brk);
  const oldbrk = pageAlign(mm.brk);
  if (oldbrk === newbrk) {
    mm.brk = brk;
    return brk;
  }
  if (brk <= mm.brk) {
    // Shrinking: unmap [newbrk, oldbrk).
    const i = findVmaIndex(vm, mm, newbrk);
    if (i < 0 || s.vmStart(mm.vmas[i]!) >= oldbrk) return origbrk;
    mm.brk = brk;
    unmapRange(vm, mm, newbrk, oldbrk);
    return brk;
  }
  // Against existing mappings, with a page and the guard gap to spare.
  const ni = findVmaIndex(vm, mm, oldbrk);
  if (ni >= 0 && s.vmStart(mm.vmas[ni]!) < newbrk + PAGE + STACK_GUARD_GAP && newbrk + PAGE > vmStartGap(vm, mm.vmas[ni]!)) return origbrk;
  if (mm.vmas.length > vm.maxMapCount) return origbrk;
  if (!vm.enoughMemory(t, (newbrk - oldbrk) / PAGE)) return origbrk;
  // do_brk_flags(): extend the brk VMA (the one that ends at oldbrk, above start_brk) or make one.
  const flags = VM.READ | VM.WRITE | VM.MAYREAD | VM.MAYWRITE | VM.MAYEXEC | VM.ACCOUNT;
  const pi = ni >= 0 ? ni - 1 : mm.vmas.length - 1;
  const prev = pi >= 0 ? mm.vmas[pi]! : 0;
  const len = newbrk - oldbrk;
  if (prev !== 0 && s.vmEnd(prev) === oldbrk && s.vmEnd(prev) > mm.startBrk && ((s.vmFlags(prev) ^ flags) & ~VM.SOFTDIRTY) === 0 && s.vmFile(prev) === 0) {
    s.set64(prev, VMA.END, newbrk);
    s.setVmFlags(prev, s.vmFlags(prev) | VM.SOFTDIRTY);
    // vma_iter_store() of the grown VMA.
    syncMapleNodes(vm, mm);
  } else {
    const v = vmAreaAlloc(vm, mm, oldbrk, newbrk, flags | VM.SOFTDIRTY, oldbrk / PAGE);
    insertVma(vm, mm, v);
    syncMapleNodes(vm, mm);
  }
  mm.totalVm += len / PAGE;
  mm.dataVm += len / PAGE;
  mm.updateHiwaterVm();
  mm.brk = brk;
  return brk;
}

/** mprotect(2) (do_mprotect_pkey without keys). */
export function doMprotect(vm: Vm, t: Task, start: number, len: number, prot: number): number {
  const mm = t.mm!;
  const s = vm.s;
  if (start % PAGE !== 0) return -EINVAL;
  if (len === 0) return 0;
  len = pageAlign(len);
  const end = start + len;
  if (end <= start) return -ENOMEM;
  if ((prot & PROT_GROWSDOWN) !== 0 && (prot & PROT_GROWSUP) !== 0) return -EINVAL;
  if ((prot & ~(PROT_READ | PROT_WRITE | PROT_EXEC | PROT_SEM | PROT_GROWSDOWN | PROT_GROWSUP)) !== 0) return -EINVAL;
  let i = findVmaIndex(vm, mm, start);
  if (i < 0 || s.vmStart(mm.vmas[i]!) > start) return -ENOMEM;
  const want = (prot & PROT_READ ? VM.READ : 0) | (prot & PROT_WRITE ? VM.WRITE : 0) | (prot & PROT_EXEC ? VM.EXEC : 0);
  let nstart = start;
  while (true) {
    const v = mm.vmas[i]!;
    const old = s.vmFlags(v);
    let nf = want | (old & ~(VM.READ | VM.WRITE | VM.EXEC));
    // The VM_MAY* bits must allow it.
    if ((nf & ~(nf >>> 4) & (VM.READ | VM.WRITE | VM.EXEC)) !== 0) return -EACCES;
    const tmp = Math.min(s.vmEnd(v), end);
    // mprotect_fixup(): charge private memory that becomes writable; uncharge an anonymous VMA with no pages yet that stops being writable.
    if ((nf & VM.WRITE) !== 0) {
      if ((old & (VM.ACCOUNT | VM.WRITE | VM.HUGETLB | VM.SHARED | VM.NORESERVE)) === 0) {
        if (!vm.enoughMemory(t, (tmp - nstart) / PAGE)) {
          syncMapleNodes(vm, mm);
          return -ENOMEM;
        }
        nf |= VM.ACCOUNT;
      }
    } else if ((old & VM.ACCOUNT) !== 0 && s.vmFile(v) === 0 && s.vmOps(v) === 0 && s.anonVma(v) === 0) {
      nf &= ~VM.ACCOUNT;
    }
    if (nf !== old) {
      if (s.vmStart(v) < nstart) {
        splitVma(vm, mm, i, nstart);
        i++;
      }
      const w = mm.vmas[i]!;
      if (s.vmEnd(w) > tmp) splitVma(vm, mm, i, tmp);
      s.setVmFlags(w, nf);
      setPageProt(vm, w);
      const pages = (tmp - nstart) / PAGE;
      vm.statAccount(mm, old, -pages);
      vm.statAccount(mm, nf, pages);
      changeProtection(vm, mm, w, nstart, tmp);
      i = mergeAround(vm, mm, i);
    }
    nstart = tmp;
    if (nstart >= end) break;
    // The next VMA must start where this one ended (a merge may have joined them already).
    i = findVmaIndex(vm, mm, nstart);
    if (i < 0 || s.vmStart(mm.vmas[i]!) > nstart) {
      syncMapleNodes(vm, mm);
      return -ENOMEM;
    }
  }
  syncMapleNodes(vm, mm);
  return 0;
}

/** The vm_flags madvise_vma_behavior() gives a VMA for flag-changing advice; -EINVAL when the VMA refuses it; -1 for advice that changes no flags. */
function madviseFlags(vm: Vm, v: number, advice: number): number {
  const f = vm.s.vmFlags(v);
  const file = vm.s.vmFile(v) !== 0;
  switch (advice) {
    case MADV_NORMAL:
      return f & ~(VM.SEQ_READ | VM.RAND_READ);
    case MADV_SEQUENTIAL:
      return (f & ~VM.RAND_READ) | VM.SEQ_READ;
    case MADV_RANDOM:
      return (f & ~VM.SEQ_READ) | VM.RAND_READ;
    case MADV_DONTFORK:
      return f | VM.DONTCOPY;
    case MADV_DOFORK:
      return (f & VM.IO) !== 0 ? -EINVAL : f & ~VM.DONTCOPY;
    case MADV_WIPEONFORK:
      return file || (f & VM.SHARED) !== 0 ? -EINVAL : f | VM.WIPEONFORK;
    case MADV_KEEPONFORK:
      return f & ~VM.WIPEONFORK;
    case MADV_DONTDUMP:
      return f | VM.DONTDUMP;
    case MADV_DODUMP:
      return (f & (VM.IO | VM.DONTEXPAND | VM.PFNMAP | VM.MIXEDMAP)) !== 0 ? -EINVAL : f & ~VM.DONTDUMP;
    case MADV_HUGEPAGE:
      return (f & ~VM.NOHUGEPAGE) | VM.HUGEPAGE;
    case MADV_NOHUGEPAGE:
      return (f & ~VM.HUGEPAGE) | VM.NOHUGEPAGE;
    default:
      return -1;
  }
}

/**
 * madvise(2): MADV_DONTNEED drops pages, MADV_FREE cleans them (madviseFree),
 * MADV_COLD / MADV_PAGEOUT age or reclaim them; the flag advice (DONTFORK, DOFORK,
 * WIPEONFORK, KEEPONFORK, DONTDUMP, DODUMP, HUGEPAGE, NOHUGEPAGE, NORMAL,
 * SEQUENTIAL, RANDOM) changes the VMAs' flags, splitting and merging them as
 * madvise_update_vma() does; other valid advice is accepted and does nothing
 * yet. A hole in the range is -ENOMEM after the mapped parts are done.
 */
export function doMadvise(vm: Vm, t: Task, start: number, len: number, advice: number): number {
  const mm = t.mm!;
  const s = vm.s;
  if (start % PAGE !== 0) return -EINVAL;
  if (!madviseBehaviorValid(advice)) return -EINVAL;
  const end = start + pageAlign(len);
  if (end < start) return -EINVAL;
  if (end === start) return 0;
  let unmapped = false;
  let pos = start;
  while (pos < end) {
    let i = findVmaIndex(vm, mm, pos);
    if (i < 0 || s.vmStart(mm.vmas[i]!) >= end) {
      unmapped = true;
      break;
    }
    let v = mm.vmas[i]!;
    if (s.vmStart(v) > pos) unmapped = true;
    const a = Math.max(pos, s.vmStart(v));
    const b = Math.min(end, s.vmEnd(v));
    if (advice === MADV_DONTNEED) {
      if ((s.vmFlags(v) & (VM.LOCKED | VM.PFNMAP | VM.HUGETLB)) !== 0) return -EINVAL;
      zapRange(vm, mm, a, b);
    } else if (advice === MADV_PAGEOUT || advice === MADV_COLD) {
      const r = madviseColdOrPageout(vm, mm, v, a, b, advice === MADV_PAGEOUT);
      if (r < 0) return r;
    } else if (advice === MADV_FREE) {
      const r = madviseFree(vm, mm, v, a, b);
      if (r < 0) return r;
    } else {
      const nf = madviseFlags(vm, v, advice);
      if (nf === -EINVAL) return -EINVAL;
      if (nf >= 0 && nf !== s.vmFlags(v)) {
        if (s.vmStart(v) < a) {
          splitVma(vm, mm, i, a);
          i++;
        }
        v = mm.vmas[i]!;
        if (s.vmEnd(v) > b) splitVma(vm, mm, i, b);
        s.setVmFlags(v, nf);
        mergeAround(vm, mm, i);
        syncMapleNodes(vm, mm);
      }
    }
    pos = b;
  }
  return unmapped ? -ENOMEM : 0;
}
