/**
 * The address-space structures (include/linux/mm_types.h), laid out in
 * kmem's RAM inside objects from the kernel's own slab caches.
 *
 * A vm_area_struct is a 176-byte object of the `vm_area_struct` cache. kmem
 * keeps every field it uses inside that object, at the offsets 6.18 gives
 * them on x86-64, so the VMA is real kernel memory, not a JavaScript object:
 *
 *   0x00  vm_start        u64  first byte
 *   0x08  vm_end          u64  first byte after
 *   0x10  vm_mm           u64  the mm_struct object's address
 *   0x18  vm_page_prot    u64  the PTE protection bits (pgprot_t) for this VMA
 *   0x20  vm_flags        u64  VM_* bits
 *   0x28  vm_lock_seq     u32
 *   0x30  anon_vma_chain  u64  first anon_vma_chain of this VMA (list_head.next; 0 = empty)
 *   0x38                  u64  (list_head.prev)
 *   0x40  anon_vma        u64  the anon_vma faults attach new pages to (0 = none yet)
 *   0x48  vm_ops          u64  kmem: a small id naming a special mapping (VMA_OPS_*)
 *   0x50  vm_pgoff        u64  offset in PAGE_SIZE units (for anonymous VMAs: vm_start >> PAGE_SHIFT)
 *   0x58  vm_file         u64  kmem: the inode number of the mapped file (0 = anonymous)
 *   0x60  vm_private_data u64
 *   0x68  swap_readahead_info u64  the last swap fault's address | window << 6 | hits (SWAP_RA_VAL)
 *   0x70  (kmem)          u64  which struct file the mapping was made through (its id; 0 for an ELF image's
 *                              own file): vm_file's identity, which VMA merging compares, as the kernel
 *                              compares the struct file pointers
 *
 * An anon_vma_chain (64 bytes, `anon_vma_chain` cache) links one VMA to one anon_vma:
 *
 *   0x00  vma             u64
 *   0x08  anon_vma        u64
 *   0x10  same_vma.next   u64  the VMA's next chain entry (0 = end)
 *
 * An anon_vma (96 bytes, `anon_vma` cache):
 *
 *   0x00  root            u64  the root anon_vma (itself for a root)
 *   0x30  refcount        u32  kmem: the anon_vma_chains that point at it
 *   0x38  num_children    u32
 *   0x3c  num_active_vmas u32
 *
 * The mm_struct is an object of the `mm_struct` cache too, but its fields
 * (counters, the maple tree's order of VMAs, the software TLB) live in the
 * Mm class below: one JavaScript object per process.
 */

import type { MapleTree } from './maple_tree.js';

export const PAGE_SHIFT = 12;
export const PAGE_SIZE = 4096;
/** TASK_SIZE_MAX with 4-level paging: the last user page is a guard hole. */
export const TASK_SIZE = 0x7ffffffff000;
export const STACK_TOP = TASK_SIZE;
/** stack_guard_gap: 256 pages */
export const STACK_GUARD_GAP = 256 * PAGE_SIZE;
/** /proc/sys/vm/mmap_min_addr default (CONFIG_DEFAULT_MMAP_MIN_ADDR on x86-64 distributions) */
export const MMAP_MIN_ADDR = 65536;
/** sysctl_max_map_count: DEFAULT_MAX_MAP_COUNT */
export const DEFAULT_MAX_MAP_COUNT = 65530;
export const RLIMIT_STACK_DEFAULT = 8 * 1024 * 1024;
export const PMD_SIZE = 1 << 21;
export const TWO32 = 4294967296;

export const enum VMA {
  START = 0x00,
  END = 0x08,
  MM = 0x10,
  PAGE_PROT = 0x18,
  FLAGS = 0x20,
  CHAIN = 0x30,
  ANON_VMA = 0x40,
  OPS = 0x48,
  PGOFF = 0x50,
  FILE = 0x58,
  SWAP_RA = 0x68,
  FILE_ID = 0x70,
  SIZE = 176,
}

export const enum AVC {
  VMA = 0x00,
  ANON_VMA = 0x08,
  NEXT = 0x10,
  SIZE = 64,
}

export const enum ANON_VMA {
  ROOT = 0x00,
  REFCOUNT = 0x30,
  NUM_CHILDREN = 0x38,
  NUM_ACTIVE_VMAS = 0x3c,
  SIZE = 96,
}

/** vm_ops of kmem's special mappings (vm_special_mapping names). */
export const VMA_OPS_NONE = 0;
export const VMA_OPS_VVAR = 1;
export const VMA_OPS_VVAR_VCLOCK = 2;
export const VMA_OPS_VDSO = 3;
export const specialMappingNames = ['', '[vvar]', '[vvar_vclock]', '[vdso]'];

/**
 * Field access to structures in RAM: u64 fields as two u32 words (values
 * below 2^53 stay exact as numbers). Allocates nothing.
 */
export class KStruct {
  constructor(readonly u32: Uint32Array) {}

  get64(obj: number, off: number): number {
    const i = (obj + off) >>> 2;
    return this.u32[i]! + this.u32[i + 1]! * TWO32;
  }

  set64(obj: number, off: number, v: number): void {
    const i = (obj + off) >>> 2;
    this.u32[i] = v % TWO32;
    this.u32[i + 1] = Math.floor(v / TWO32);
  }

  get32(obj: number, off: number): number {
    return this.u32[(obj + off) >>> 2]!;
  }

  set32(obj: number, off: number, v: number): void {
    this.u32[(obj + off) >>> 2] = v;
  }

  vmStart(v: number): number {
    return this.get64(v, VMA.START);
  }
  vmEnd(v: number): number {
    return this.get64(v, VMA.END);
  }
  /** vm_flags: kmem uses only the low 32 bits. */
  vmFlags(v: number): number {
    return this.u32[(v + VMA.FLAGS) >>> 2]!;
  }
  setVmFlags(v: number, f: number): void {
    this.u32[(v + VMA.FLAGS) >>> 2] = f >>> 0;
  }
  vmPgoff(v: number): number {
    return this.get64(v, VMA.PGOFF);
  }
  anonVma(v: number): number {
    return this.get64(v, VMA.ANON_VMA);
  }
  vmFile(v: number): number {
    return this.get64(v, VMA.FILE);
  }
  vmOps(v: number): number {
    return this.get64(v, VMA.OPS);
  }
}

/**
 * struct mm_struct's state: the VMAs in address order (what the maple tree
 * `mm_mt` orders), the page-table root, the segment bounds and the counters
 * that /proc/PID/status prints, and a small software TLB.
 */
export class Mm {
  /** vm_area_struct addresses sorted by vm_start */
  vmas: number[] = [];
  /** mm_mt: the maple tree of the VMAs and gaps (vma.ts syncMapleNodes), its nodes maple_node objects */
  mapleTree: MapleTree | null = null;
  /** physical address of the PGD page (CR3) */
  pgd = 0;
  mmapBase = 0;
  taskSize = TASK_SIZE;
  startCode = 0;
  endCode = 0;
  startData = 0;
  endData = 0;
  startBrk = 0;
  brk = 0;
  startStack = 0;
  argStart = 0;
  argEnd = 0;
  envStart = 0;
  envEnd = 0;
  /** saved_auxv: the auxiliary vector exec wrote, AT_NULL pair included (/proc/PID/auxv) */
  savedAuxv: number[] = [];
  /** pages */
  totalVm = 0;
  lockedVm = 0;
  pinnedVm = 0;
  dataVm = 0;
  execVm = 0;
  stackVm = 0;
  /** rss_stat: MM_FILEPAGES, MM_ANONPAGES, MM_SWAPENTS, MM_SHMEMPAGES */
  rssFile = 0;
  rssAnon = 0;
  swapEnts = 0;
  rssShmem = 0;
  hiwaterRss = 0;
  hiwaterVm = 0;
  pgtablesBytes = 0;
  /** RLIMIT_STACK (soft) */
  stackRlimit = 8 * 1024 * 1024;
  /**
   * Software TLB, direct-mapped by virtual page number: tag = vpn (-1 empty),
   * phys = the page frame's physical address. One array pair for loads and
   * one for stores (a store entry exists only for a writable, dirty PTE).
   */
  readonly tlbTagR = new Float64Array(TLB_ENTRIES).fill(-1);
  readonly tlbPhysR = new Int32Array(TLB_ENTRIES);
  readonly tlbTagW = new Float64Array(TLB_ENTRIES).fill(-1);
  readonly tlbPhysW = new Int32Array(TLB_ENTRIES);

  constructor(readonly addr: number) {}

  /** flush_tlb_mm() */
  flushTlb(): void {
    this.tlbTagR.fill(-1);
    this.tlbTagW.fill(-1);
  }

  rss(): number {
    return this.rssFile + this.rssAnon + this.rssShmem;
  }

  /** update_hiwater_rss() */
  updateHiwaterRss(): void {
    const r = this.rss();
    if (r > this.hiwaterRss) this.hiwaterRss = r;
  }

  /** update_hiwater_vm() */
  updateHiwaterVm(): void {
    if (this.totalVm > this.hiwaterVm) this.hiwaterVm = this.totalVm;
  }
}

export const TLB_ENTRIES = 256;
