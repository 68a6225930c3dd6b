/**
 * The user-visible constants of the memory system calls, with the kernel's
 * values on x86-64: errno (include/uapi/asm-generic/errno-base.h), PROT_*,
 * MAP_* and MADV_* (include/uapi/asm-generic/mman-common.h, mman.h).
 * System calls return -E* on failure, as the kernel's entry points do.
 */

export const EPERM = 1;
export const ENOENT = 2;
export const ESRCH = 3;
export const EINTR = 4;
export const EIO = 5;
export const ENXIO = 6;
export const E2BIG = 7;
export const ENOEXEC = 8;
export const EBADF = 9;
export const ECHILD = 10;
export const EAGAIN = 11;
export const ENOMEM = 12;
export const EACCES = 13;
export const EFAULT = 14;
export const EBUSY = 16;
export const EEXIST = 17;
export const EXDEV = 18;
export const ENODEV = 19;
export const ENOTDIR = 20;
export const EISDIR = 21;
export const EINVAL = 22;
export const ENFILE = 23;
export const EMFILE = 24;
export const ETXTBSY = 26;
export const EFBIG = 27;
export const ENOSPC = 28;
export const EROFS = 30;
export const EOVERFLOW = 75;
export const EOPNOTSUPP = 95;

export const PROT_NONE = 0x0;
export const PROT_READ = 0x1;
export const PROT_WRITE = 0x2;
export const PROT_EXEC = 0x4;
export const PROT_SEM = 0x8;
export const PROT_GROWSDOWN = 0x01000000;
export const PROT_GROWSUP = 0x02000000;

export const MAP_SHARED = 0x01;
export const MAP_PRIVATE = 0x02;
export const MAP_SHARED_VALIDATE = 0x03;
export const MAP_TYPE = 0x0f;
export const MAP_FIXED = 0x10;
export const MAP_ANONYMOUS = 0x20;
export const MAP_GROWSDOWN = 0x0100;
export const MAP_DENYWRITE = 0x0800;
export const MAP_EXECUTABLE = 0x1000;
export const MAP_LOCKED = 0x2000;
export const MAP_NORESERVE = 0x4000;
export const MAP_POPULATE = 0x8000;
export const MAP_NONBLOCK = 0x10000;
export const MAP_STACK = 0x20000;
export const MAP_HUGETLB = 0x40000;
export const MAP_SYNC = 0x80000;
export const MAP_FIXED_NOREPLACE = 0x100000;
export const MAP_UNINITIALIZED = 0x4000000;

export const MADV_NORMAL = 0;
export const MADV_RANDOM = 1;
export const MADV_SEQUENTIAL = 2;
export const MADV_WILLNEED = 3;
export const MADV_DONTNEED = 4;
export const MADV_FREE = 8;
export const MADV_REMOVE = 9;
export const MADV_DONTFORK = 10;
export const MADV_DOFORK = 11;
export const MADV_MERGEABLE = 12;
export const MADV_UNMERGEABLE = 13;
export const MADV_HUGEPAGE = 14;
export const MADV_NOHUGEPAGE = 15;
export const MADV_DONTDUMP = 16;
export const MADV_DODUMP = 17;
export const MADV_WIPEONFORK = 18;
export const MADV_KEEPONFORK = 19;
export const MADV_COLD = 20;
export const MADV_PAGEOUT = 21;
export const MADV_POPULATE_READ = 22;
export const MADV_POPULATE_WRITE = 23;
export const MADV_DONTNEED_LOCKED = 24;
export const MADV_COLLAPSE = 25;
export const MADV_HWPOISON = 100;
export const MADV_SOFT_OFFLINE = 101;
export const MADV_GUARD_INSTALL = 102;
export const MADV_GUARD_REMOVE = 103;

/** madvise_behavior_valid(): the advice values 6.18 accepts on x86-64 (with THP, KSM, memory failure). */
export function madviseBehaviorValid(advice: number): boolean {
  return (advice >= 0 && advice <= 4) || (advice >= 8 && advice <= 25) || (advice >= 100 && advice <= 103);
}

/** vm_flags bits (include/linux/mm.h), the low 32 the kernel defines on x86-64. */
export const enum VM {
  NONE = 0,
  READ = 0x1,
  WRITE = 0x2,
  EXEC = 0x4,
  SHARED = 0x8,
  MAYREAD = 0x10,
  MAYWRITE = 0x20,
  MAYEXEC = 0x40,
  MAYSHARE = 0x80,
  GROWSDOWN = 0x100,
  PFNMAP = 0x400,
  LOCKED = 0x2000,
  IO = 0x4000,
  SEQ_READ = 0x8000,
  RAND_READ = 0x10000,
  DONTCOPY = 0x20000,
  DONTEXPAND = 0x40000,
  LOCKONFAULT = 0x80000,
  ACCOUNT = 0x100000,
  NORESERVE = 0x200000,
  HUGETLB = 0x400000,
  SYNC = 0x800000,
  ARCH_1 = 0x1000000,
  WIPEONFORK = 0x2000000,
  DONTDUMP = 0x4000000,
  SOFTDIRTY = 0x8000000,
  MIXEDMAP = 0x10000000,
  HUGEPAGE = 0x20000000,
  NOHUGEPAGE = 0x40000000,
  /** VM_ACCESS_FLAGS */
  ACCESS_FLAGS = READ | WRITE | EXEC,
  /** VM_STACK_DEFAULT_FLAGS on x86-64: VM_STACK | VM_DATA_DEFAULT_FLAGS (read, write, exec-may bits) | VM_ACCOUNT */
  STACK_FLAGS = GROWSDOWN | READ | WRITE | MAYREAD | MAYWRITE | MAYEXEC | ACCOUNT,
  /** The flags a merge ignores (VM_IGNORE_MERGE) */
  IGNORE_MERGE = SOFTDIRTY,
}

/** x86 page-fault error code bits (arch/x86/include/asm/trap_pf.h) */
export const X86_PF_PROT = 1;
export const X86_PF_WRITE = 2;
export const X86_PF_USER = 4;
export const X86_PF_INSTR = 16;

export const MREMAP_MAYMOVE = 1;
export const MREMAP_FIXED = 2;
export const MREMAP_DONTUNMAP = 4;

/** msync() flags */
export const MS_ASYNC = 1;
export const MS_INVALIDATE = 2;
export const MS_SYNC = 4;

/** mlock2() flags */
export const MLOCK_ONFAULT = 1;
