/**
 * /proc/meminfo (fs/proc/meminfo.c meminfo_proc_show, hugetlb_report_meminfo,
 * arch/x86's arch_report_meminfo) as Linux 6.18 prints it on x86-64 with the
 * configuration of test/fixtures/linux-6.18 (CONFIG_SWAP, CONFIG_ZSWAP,
 * CONFIG_TRANSPARENT_HUGEPAGE, CONFIG_MEMORY_BALLOON, CONFIG_HUGETLB_PAGE;
 * without CONFIG_MEMORY_FAILURE's HardwareCorrupted, CONFIG_CMA's CmaTotal/
 * CmaFree, CONFIG_UNACCEPTED_MEMORY's Unaccepted, CONFIG_HIGHMEM's lines).
 *
 * Every value is in kB through show_val_kb(): the name padded to 16
 * columns, the number right-aligned in 8, " kB". A counter kmem does not
 * keep (swap, vmalloc, percpu, kernel stacks, huge pages) prints 0 in the
 * kernel's place. Active/Inactive, Unevictable and Mlocked are the LRU
 * lists' counts (src/vm/mm_inline.ts). Dirty is NR_FILE_DIRTY, Writeback
 * NR_WRITEBACK (pages whose write request has not completed on the virtual clock).
 */
import { MAX_NR_ZONES, WMARK_HIGH, WMARK_LOW, Z_FREE, Z_LOWMEM_RESERVE, Z_MANAGED, Z_WMARK, type Zones } from '../page_alloc/mmzone.js';
import type { Sysctl, VmCounters } from './sysctl.js';
import type { VmSource } from './zoneinfo.js';

/** (unsigned long)VMALLOC_TOTAL >> 10 with 4-level paging: VMALLOC_SIZE_TB 32, less one byte (VMALLOC_END is inclusive). */
export const VMALLOC_TOTAL_KB = 34359738367;

/** totalram_pages(): every zone's managed pages. */
export function totalramPages(zones: Zones): number {
  let n = 0;
  for (let z = 0; z < MAX_NR_ZONES; z++) n += zones.get(z, Z_MANAGED);
  return n;
}

/**
 * calculate_totalreserve_pages(): per zone, the largest lowmem_reserve
 * it keeps against a higher zone, plus its high watermark, at most its
 * managed pages; summed.
 */
export function totalreservePages(zones: Zones): number {
  let total = 0;
  for (let i = 0; i < MAX_NR_ZONES; i++) {
    let max = 0;
    for (let j = i; j < MAX_NR_ZONES; j++) max = Math.max(max, zones.get(i, Z_LOWMEM_RESERVE + j));
    max += zones.get(i, Z_WMARK + WMARK_HIGH);
    total += Math.min(max, zones.get(i, Z_MANAGED));
  }
  return total;
}

/**
 * si_mem_available() (mm/show_mem.c): free pages less totalreserve_pages,
 * plus the file LRU pages and the reclaimable kernel memory each less
 * min(half of itself, the sum of the low watermarks); never below 0.
 */
export function siMemAvailable(zones: Zones, fileLru: number, reclaimable: number): number {
  let wmarkLow = 0;
  let free = 0;
  for (let z = 0; z < MAX_NR_ZONES; z++) {
    wmarkLow += zones.get(z, Z_WMARK + WMARK_LOW);
    free += zones.get(z, Z_FREE);
  }
  let available = free - totalreservePages(zones);
  available += fileLru - Math.min(Math.floor(fileLru / 2), wmarkLow);
  available += reclaimable - Math.min(Math.floor(reclaimable / 2), wmarkLow);
  return Math.max(0, available);
}

/**
 * The direct map of x86-64 (init_mem_mapping: split_mem_range, then
 * adjust_range_page_size_mask, which gives a range the largest page size
 * whose aligned region is all memory): kmem's RAM is one hole-free range
 * from physical 0, so every whole 1 GiB of it is a 1 GiB page, every whole
 * 2 MiB of the rest a 2 MiB page, the remainder 4k pages. A real machine's
 * e820 holes (640K-1M) and later splits (set_memory_*) are not modelled.
 */
export function directMapKb(bytes: number): [number, number, number] {
  const g = Math.floor(bytes / 2 ** 30) * 2 ** 30;
  const m = Math.floor((bytes - g) / 2 ** 21) * 2 ** 21;
  return [(bytes - g - m) / 1024, m / 1024, g / 1024];
}

function kb(name: string, value: number): string {
  return `${`${name}:`.padEnd(16)}${String(value).padStart(8)} kB\n`;
}

function hugeCount(name: string, value: number): string {
  return `${`${name}:`.padEnd(19)}${String(value).padStart(5)}\n`;
}

export function meminfo(src: VmSource, sysctl: Sysctl, vm: VmCounters | null, ramBytes: number): string {
  const zones = src.pageAlloc.zones;
  const K = (pages: number) => pages * 4;
  const totalram = totalramPages(zones);
  let free = 0;
  for (let z = 0; z < MAX_NR_ZONES; z++) free += zones.get(z, Z_FREE);
  const sreclaimable = src.slabPages(true);
  const sunreclaim = src.slabPages(false);
  const filePages = vm?.nrFilePages ?? 0;
  // Cached = NR_FILE_PAGES - total_swapcache_pages() - Buffers (swap-cache pages count in NR_FILE_PAGES).
  const swapCached = vm?.nrSwapcached ?? 0;
  // The LRU lists (src/vm/mm_inline.ts), node totals.
  const lru = (name: string) => vm?.lruStat(name, -1) ?? 0;
  const activeAnon = lru('nr_active_anon');
  const inactiveAnon = lru('nr_inactive_anon');
  const activeFile = lru('nr_active_file');
  const inactiveFile = lru('nr_inactive_file');
  const fileLru = activeFile + inactiveFile;
  let mlocked = 0;
  for (let z = 0; z < MAX_NR_ZONES; z++) mlocked += vm?.lruStat('nr_mlock', z) ?? 0;
  // vm_commit_limit(): overcommit_kbytes, or overcommit_ratio percent of totalram plus total_swap_pages (no hugetlb).
  const commitLimit =
    vm !== null
      ? vm.commitLimit()
      : sysctl.overcommitKbytes !== 0
        ? Math.floor(sysctl.overcommitKbytes / 4)
        : Math.trunc((totalram * sysctl.overcommitRatio) / 100);
  const [dm4k, dm2m, dm1g] = directMapKb(ramBytes);
  return (
    kb('MemTotal', K(totalram)) +
    kb('MemFree', K(free)) +
    kb('MemAvailable', K(siMemAvailable(zones, fileLru, sreclaimable))) +
    kb('Buffers', 0) +
    kb('Cached', K(Math.max(0, filePages - swapCached))) +
    kb('SwapCached', K(swapCached)) +
    kb('Active', K(activeAnon + activeFile)) +
    kb('Inactive', K(inactiveAnon + inactiveFile)) +
    kb('Active(anon)', K(activeAnon)) +
    kb('Inactive(anon)', K(inactiveAnon)) +
    kb('Active(file)', K(activeFile)) +
    kb('Inactive(file)', K(inactiveFile)) +
    kb('Unevictable', K(lru('nr_unevictable'))) +
    kb('Mlocked', K(mlocked)) +
    kb('SwapTotal', K(vm?.totalSwapPages ?? 0)) +
    kb('SwapFree', K(vm?.nrSwapPages ?? 0)) +
    kb('Zswap', 0) +
    kb('Zswapped', 0) +
    kb('Dirty', K(vm?.nrFileDirty ?? 0)) +
    kb('Writeback', K(vm?.nrWriteback ?? 0)) +
    kb('AnonPages', K(vm?.nrAnonMapped ?? 0)) +
    kb('Mapped', K(vm?.nrFileMapped ?? 0)) +
    kb('Shmem', K(vm?.nrShmem ?? 0)) +
    kb('KReclaimable', K(sreclaimable)) +
    kb('Slab', K(sreclaimable + sunreclaim)) +
    kb('SReclaimable', K(sreclaimable)) +
    kb('SUnreclaim', K(sunreclaim)) +
    kb('KernelStack', 0) +
    kb('PageTables', K(vm?.pt.nrPageTables ?? 0)) +
    kb('SecPageTables', 0) +
    kb('NFS_Unstable', 0) +
    kb('Bounce', 0) +
    kb('WritebackTmp', 0) +
    kb('CommitLimit', K(commitLimit)) +
    kb('Committed_AS', K(Math.max(0, vm?.committedAs() ?? 0))) +
    kb('VmallocTotal', VMALLOC_TOTAL_KB) +
    kb('VmallocUsed', 0) +
    kb('VmallocChunk', 0) +
    kb('Percpu', 0) +
    kb('AnonHugePages', 0) +
    kb('ShmemHugePages', 0) +
    kb('ShmemPmdMapped', 0) +
    kb('FileHugePages', 0) +
    kb('FilePmdMapped', 0) +
    kb('Balloon', 0) +
    hugeCount('HugePages_Total', 0) +
    hugeCount('HugePages_Free', 0) +
    hugeCount('HugePages_Rsvd', 0) +
    hugeCount('HugePages_Surp', 0) +
    kb('Hugepagesize', 2048) +
    kb('Hugetlb', 0) +
    kb('DirectMap4k', dm4k) +
    kb('DirectMap2M', dm2m) +
    kb('DirectMap1G', dm1g)
  );
}
