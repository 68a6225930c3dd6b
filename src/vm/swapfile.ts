/**
 * The swap area (mm/swapfile.c): swapon of a partition, its swap_map of
 * per-slot use counts, slots handed out by clusters of SWAPFILE_CLUSTER
 * slots as 6.18 allocates them, and /proc/swaps.
 *
 * A slot's swap_map byte:
 *
 *    7          6          5 ............ 0
 *   COUNT_CONT  HAS_CACHE  count (0..SWAP_MAP_MAX = 0x3e; 0x3f = SWAP_MAP_BAD)
 *
 * count is the swap PTEs (and shmem entries) that name the slot;
 * SWAP_HAS_CACHE says a page in the swap cache holds it. A slot is free
 * when its byte is 0. Slot 0 holds the swap header and is marked bad.
 *
 * Clusters (struct swap_cluster_info): per 512 slots a count of the slots
 * in use (bad slots and the slots past the end of the area included) and a
 * flag naming the list the cluster is on: free (count 0), nonfull (a free
 * made room in it), frag (partly used, what allocation left), full. The
 * allocator (cluster_alloc_swap_entry) takes from the CPU's current
 * cluster at the offset after the last slot it gave (percpu_swap_cluster),
 * else from the nonfull list, else a free cluster, else a frag cluster;
 * each cluster it scans goes back to the list its count says
 * (relocate_cluster). kmem allocates only order-0 slots (no large folios),
 * so the per-order lists collapse to one, and the device never discards.
 *
 * The slots' bytes live in a backing store of one 2 MiB buffer per
 * cluster, allocated when the cluster is first written.
 */

import { pageCache } from './filemap.js';
import { forEachPte } from './memory.js';
import type { Mm } from './mm_types.js';
import { shmemOf } from './shmem.js';
import { folioFreeSwap, swapCacheLookup, swapinForUnuse, unusePte } from './swap_state.js';
import { isSwapPte, pteSwpOffset, pteSwpType } from './swapops.js';
import type { Vm } from './vm.js';

export const SWAPFILE_CLUSTER = 512;
export const SWAP_HAS_CACHE = 0x40;
export const SWAP_MAP_BAD = 0x3f;
export const SWAP_MAP_MAX = 0x3e;
export const COUNT_CONTINUED = 0x80;

/** swap_info_struct flags */
export const SWP_USED = 1 << 0;
export const SWP_WRITEOK = 1 << 1;
export const SWP_DISCARDABLE = 1 << 2;
export const SWP_DISCARDING = 1 << 3;
export const SWP_SOLIDSTATE = 1 << 4;
export const SWP_BLKDEV = 1 << 6;
export const SWP_AREA_DISCARD = 1 << 8;
export const SWP_PAGE_DISCARD = 1 << 9;

/** CLUSTER_FLAG_*: which list a cluster is on (NONE: isolated, on none). */
export const CLUSTER_FLAG_NONE = 0;
export const CLUSTER_FLAG_FREE = 1;
export const CLUSTER_FLAG_NONFULL = 2;
export const CLUSTER_FLAG_FRAG = 3;
export const CLUSTER_FLAG_USABLE = CLUSTER_FLAG_FRAG;
export const CLUSTER_FLAG_FULL = 4;
const NR_LISTS = 5;

/** The swap partition kmem makes on its disk (the root file system is vda1). */
export const SWAP_DEVICE = '/dev/vda2';

/**
 * One swap area. kmem has at most one (type 0), a partition on vda. The
 * disk is rotational, as 6.18 reports a virtio-blk disk (it sets no
 * nonrot feature; this build machine's /dev/vda has queue/rotational 1):
 * no SWP_SOLIDSTATE, so slots come from the area's global cluster cursor
 * and swap-in readahead is swap_cluster_readahead (an SSD's SWP_SOLIDSTATE
 * would give per-CPU cursors and VMA-based readahead, both modelled too).
 */
export class SwapInfo {
  readonly type = 0;
  flags = SWP_USED | SWP_WRITEOK | SWP_BLKDEV;
  /** si->max: slots, the header's included */
  readonly max: number;
  /** si->pages: usable slots (max less the header) */
  readonly pages: number;
  /** si->inuse_pages */
  inusePages = 0;
  readonly swapMap: Uint8Array;
  readonly nrClusters: number;
  /** swap_cluster_info.count */
  readonly clusterCount: Uint16Array;
  /** swap_cluster_info.flags */
  readonly clusterFlags: Uint8Array;
  /** the cluster lists, intrusive: next/prev cluster index (-1 = none), and each list's head and tail */
  private readonly next: Int32Array;
  private readonly prev: Int32Array;
  private readonly head = new Int32Array(NR_LISTS).fill(-1);
  private readonly tail = new Int32Array(NR_LISTS).fill(-1);
  /**
   * Where the next slot is looked for (0: none): percpu_swap_cluster.offset[0]
   * by CPU with SWP_SOLIDSTATE; without, si->global_cluster->next[0] (the last entry).
   */
  readonly pcpOffset: Int32Array;
  /** swapin_nr_pages()'s state (file-static in the kernel): prev_offset, last_readahead_pages, swapin_readahead_hits (from 4) */
  raPrevOffset = 0;
  raLastPages = 0;
  raHits = 4;
  /**
   * The swap cache: the swap table 6.18 keeps per cluster, here one for the
   * area: pfn + 1 of the page caching each slot, 0 for none.
   */
  readonly swapCache: Int32Array;
  /**
   * The swap table's shadow entries (workingset_eviction's value for a slot
   * whose page reclaim took; -1: none), cleared when the slot is freed or
   * a page caches it again (src/vm/swap_state.ts).
   */
  readonly shadows: Float64Array;
  /** si->zeromap: 1 where the slot's page was all zeros (written nowhere) */
  readonly zeromap: Uint8Array;
  /** the slots' data, one buffer per cluster */
  private readonly store: (Uint8Array | undefined)[];

  constructor(
    readonly vm: Vm,
    bytes: number,
    readonly prio: number,
  ) {
    this.max = Math.floor(bytes / 4096);
    if (this.max < 2) throw new RangeError(`swap: ${bytes} bytes is too small for a swap area (two pages at least)`);
    this.pages = this.max - 1;
    this.swapMap = new Uint8Array(this.max);
    this.swapCache = new Int32Array(this.max);
    this.shadows = new Float64Array(this.max).fill(-1);
    this.zeromap = new Uint8Array(this.max);
    this.nrClusters = Math.ceil(this.max / SWAPFILE_CLUSTER);
    this.clusterCount = new Uint16Array(this.nrClusters);
    this.clusterFlags = new Uint8Array(this.nrClusters);
    this.next = new Int32Array(this.nrClusters).fill(-1);
    this.prev = new Int32Array(this.nrClusters).fill(-1);
    this.pcpOffset = new Int32Array(vm.k.cpus + 1);
    this.store = new Array(this.nrClusters);
    // setup_swap_map(): the header page is bad; setup_clusters(): bad slots and the
    // slots past max count as used, clusters with any are nonfull, the rest free.
    this.swapMap[0] = SWAP_MAP_BAD;
    this.clusterCount[0] = 1;
    for (let i = this.max; i < this.nrClusters * SWAPFILE_CLUSTER; i++) this.clusterCount[Math.floor(i / SWAPFILE_CLUSTER)]!++;
    for (let c = 0; c < this.nrClusters; c++) this.listAddTail(c, this.clusterCount[c] !== 0 ? CLUSTER_FLAG_NONFULL : CLUSTER_FLAG_FREE);
  }

  // ───────────────────────── cluster lists ─────────────────────────

  private listAddTail(c: number, list: number): void {
    this.clusterFlags[c] = list;
    this.next[c] = -1;
    this.prev[c] = this.tail[list]!;
    if (this.tail[list] === -1) this.head[list] = c;
    else this.next[this.tail[list]!] = c;
    this.tail[list] = c;
  }

  private listDel(c: number): void {
    const list = this.clusterFlags[c]!;
    if (list === CLUSTER_FLAG_NONE) return;
    const n = this.next[c]!;
    const p = this.prev[c]!;
    if (p === -1) this.head[list] = n;
    else this.next[p] = n;
    if (n === -1) this.tail[list] = p;
    else this.prev[n] = p;
    this.clusterFlags[c] = CLUSTER_FLAG_NONE;
  }

  /** move_cluster(): to the tail of another list. */
  private moveCluster(c: number, list: number): void {
    this.listDel(c);
    this.listAddTail(c, list);
  }

  /** isolate_lock_cluster(): take the first cluster of a list off it; -1 when empty. */
  private isolateCluster(list: number): number {
    const c = this.head[list]!;
    if (c !== -1) this.listDel(c);
    return c;
  }

  /** The clusters on a list, in order (tests). */
  clusterList(list: number): number[] {
    const out: number[] = [];
    for (let c = this.head[list]!; c !== -1; c = this.next[c]!) out.push(c);
    return out;
  }

  /** relocate_cluster(): back to the list its count says. */
  private relocateCluster(c: number): void {
    const n = this.clusterCount[c]!;
    const f = this.clusterFlags[c]!;
    if (n === 0) {
      if (f !== CLUSTER_FLAG_FREE) this.moveCluster(c, CLUSTER_FLAG_FREE);
    } else if (n !== SWAPFILE_CLUSTER) {
      if (f !== CLUSTER_FLAG_FRAG) this.moveCluster(c, CLUSTER_FLAG_FRAG);
    } else if (f !== CLUSTER_FLAG_FULL) this.moveCluster(c, CLUSTER_FLAG_FULL);
  }

  // ───────────────────────── slot allocation ─────────────────────────

  /** get_nr_swap_pages(): free slots; none once swapoff has cleared SWP_WRITEOK (nr_swap_pages no longer counts them). */
  get nrSwapPages(): number {
    return (this.flags & SWP_WRITEOK) !== 0 ? this.pages - this.inusePages : 0;
  }

  /** This area's share of total_swap_pages: none once swapoff has begun. */
  get totalPages(): number {
    return (this.flags & SWP_WRITEOK) !== 0 ? this.pages : 0;
  }

  /** vm_swap_full(): less than half the swap is free. */
  swapFull(): boolean {
    return this.nrSwapPages * 2 < this.pages;
  }

  /**
   * alloc_swap_scan_cluster() for one order-0 slot from `offset` to the
   * cluster's end: the slot (its swap_map set to `usage`), or 0. The CPU's
   * next offset becomes the slot after it, or none at the cluster's end.
   */
  private scanCluster(c: number, offset: number, usage: number): number {
    const end = Math.min((c + 1) * SWAPFILE_CLUSTER, this.max) - 1;
    let found = 0;
    let next = 0;
    if (this.clusterCount[c]! + 1 <= SWAPFILE_CLUSTER) {
      for (; offset <= end; offset++) {
        const m = this.swapMap[offset]!;
        // cluster_scan_range(): a slot only the swap cache holds is reclaimed when swap is full.
        if (m !== 0 && !(m === SWAP_HAS_CACHE && this.swapFull() && this.reclaimCacheOnly(offset))) continue;
        this.swapMap[offset] = usage;
        this.clusterCount[c]!++;
        this.inusePages++;
        found = offset;
        if (this.clusterCount[c]! < SWAPFILE_CLUSTER && offset + 1 <= end) next = offset + 1;
        break;
      }
    }
    this.relocateCluster(c);
    this.pcpOffset[this.cursor()] = next;
    return found;
  }

  /** The allocation cursor in use: the CPU's on a solid-state device, else the area's global one. */
  private cursor(): number {
    return (this.flags & SWP_SOLIDSTATE) !== 0 ? this.vm.k.currentCpu : this.vm.k.cpus;
  }

  /** __try_to_reclaim_swap(TTRS_ANYWAY) for a slot held only by its swap-cache page; true if the slot became free. */
  reclaimCacheOnly: (offset: number) => boolean = () => false;

  /**
   * folio_alloc_swap() for an order-0 folio: swap_alloc_fast() from the
   * CPU's cluster (the global cluster's next offset on a rotational disk),
   * else cluster_alloc_swap_entry()'s slow path. The slot's
   * swap_map is SWAP_HAS_CACHE; 0 when the swap is full.
   */
  allocSlot(usage = SWAP_HAS_CACHE): number {
    if (this.nrSwapPages === 0 || (this.flags & SWP_WRITEOK) === 0) return 0;
    const off = this.pcpOffset[this.cursor()]!;
    if (off !== 0) {
      const c = Math.floor(off / SWAPFILE_CLUSTER);
      // cluster_is_usable(): neither full nor being discarded; an empty one is scanned from its start.
      if (this.clusterFlags[c]! <= CLUSTER_FLAG_USABLE) {
        const found = this.scanCluster(c, this.clusterCount[c] === 0 ? c * SWAPFILE_CLUSTER : off, usage);
        if (found !== 0) return found;
      }
    }
    for (;;) {
      const c = this.isolateCluster(CLUSTER_FLAG_NONFULL);
      if (c === -1) break;
      const found = this.scanCluster(c, c * SWAPFILE_CLUSTER, usage);
      if (found !== 0) return found;
    }
    let c = this.isolateCluster(CLUSTER_FLAG_FREE);
    if (c !== -1) {
      const found = this.scanCluster(c, c * SWAPFILE_CLUSTER, usage);
      if (found !== 0) return found;
    }
    // One frag cluster is enough for order 0: it has a free slot.
    c = this.isolateCluster(CLUSTER_FLAG_FRAG);
    if (c !== -1) {
      const found = this.scanCluster(c, c * SWAPFILE_CLUSTER, usage);
      if (found !== 0) return found;
    }
    return 0;
  }

  /** swap_entries_free(): the slot's count and cache are gone; it is free again. */
  private freeSlot(offset: number): void {
    this.swapMap[offset] = 0;
    this.shadows[offset] = -1;
    const c = Math.floor(offset / SWAPFILE_CLUSTER);
    this.clusterCount[c]!--;
    this.inusePages--;
    if (this.clusterCount[c] === 0) {
      if (this.clusterFlags[c] !== CLUSTER_FLAG_FREE) this.moveCluster(c, CLUSTER_FLAG_FREE);
    } else if (this.clusterFlags[c] !== CLUSTER_FLAG_NONFULL) this.moveCluster(c, CLUSTER_FLAG_NONFULL);
  }

  /**
   * Counts above SWAP_MAP_MAX: the slot's byte holds SWAP_MAP_MAX | COUNT_CONTINUED and the rest is
   * here (the kernel keeps the higher digits in continuation pages, add_swap_count_continuation).
   */
  private readonly continued = new Map<number, number>();

  /** swp_swapcount(): the references besides the swap cache, continuation included. */
  swapCount(offset: number): number {
    const m = this.swapMap[offset]! & ~SWAP_HAS_CACHE;
    return (m & COUNT_CONTINUED) !== 0 ? SWAP_MAP_MAX + this.continued.get(offset)! : m;
  }

  /** Set the slot's count, keeping its SWAP_HAS_CACHE bit. */
  private setCount(offset: number, n: number): void {
    const cache = this.swapMap[offset]! & SWAP_HAS_CACHE;
    if (n <= SWAP_MAP_MAX) {
      this.swapMap[offset] = n | cache;
      this.continued.delete(offset);
    } else {
      this.swapMap[offset] = SWAP_MAP_MAX | COUNT_CONTINUED | cache;
      this.continued.set(offset, n - SWAP_MAP_MAX);
    }
  }

  private checkOffset(offset: number, what: string): void {
    const m = this.swapMap[offset];
    if (m === undefined || offset === 0 || m === 0) throw new Error(`kmem: ${what}: swap entry ${offset} is not in use (swap_map ${m})`);
  }

  /** swap_duplicate(): one more swap PTE names the slot. */
  duplicate(offset: number): void {
    this.checkOffset(offset, 'swap_duplicate');
    this.setCount(offset, this.swapCount(offset) + 1);
  }

  /** swap_free() / swap_entries_put_map(): a swap PTE lets go of the slot; it is freed when nothing holds it. */
  put(offset: number): void {
    this.checkOffset(offset, 'swap_free');
    const n = this.swapCount(offset);
    if (n === 0) throw new Error(`kmem: swap_free: swap entry ${offset} has no references`);
    this.setCount(offset, n - 1);
    if (this.swapMap[offset] === 0) this.freeSlot(offset);
  }

  /** swapcache_prepare(): a page is being added to the swap cache for the slot; false if the slot is free or cached already. */
  cachePrepare(offset: number): boolean {
    const m = this.swapMap[offset];
    if (m === undefined || offset === 0 || m === SWAP_MAP_BAD || (m & SWAP_HAS_CACHE) !== 0 || m === 0) return false;
    this.swapMap[offset] = m | SWAP_HAS_CACHE;
    return true;
  }

  /** put_swap_folio(): the swap cache lets go of the slot; it is freed when no swap PTE names it. */
  putCache(offset: number): void {
    const m = this.swapMap[offset]!;
    if ((m & SWAP_HAS_CACHE) === 0) throw new Error(`kmem: put_swap_folio: swap entry ${offset} is not cached`);
    this.swapMap[offset] = m & ~SWAP_HAS_CACHE;
    if (this.swapMap[offset] === 0) this.freeSlot(offset);
  }

  // ───────────────────────── the slots' bytes ─────────────────────────

  /** Store one page (4096 bytes of src from `from`) in the slot. */
  writeSlot(offset: number, src: Uint8Array, from: number): void {
    const c = Math.floor(offset / SWAPFILE_CLUSTER);
    let buf = this.store[c];
    if (buf === undefined) {
      buf = new Uint8Array(SWAPFILE_CLUSTER * 4096);
      this.store[c] = buf;
    }
    buf.set(src.subarray(from, from + 4096), (offset % SWAPFILE_CLUSTER) * 4096);
  }

  /** Read the slot's page into dst at `to`. */
  readSlot(offset: number, dst: Uint8Array, to: number): void {
    const buf = this.store[Math.floor(offset / SWAPFILE_CLUSTER)];
    if (buf === undefined) throw new Error(`kmem: swap slot ${offset} was never written`);
    const at = (offset % SWAPFILE_CLUSTER) * 4096;
    dst.set(buf.subarray(at, at + 4096), to);
  }

  /** swap_show(): this area's line of /proc/swaps. */
  swapsLine(): string {
    const bytes = this.pages * 4;
    const inuse = this.inusePages * 4;
    const len = SWAP_DEVICE.length;
    return `${SWAP_DEVICE}${' '.repeat(len < 40 ? 40 - len : 1)}partition\t${bytes}\t${bytes < 10000000 ? '\t' : ''}${inuse}\t${inuse < 10000000 ? '\t' : ''}${this.prio}\n`;
  }
}

/**
 * swapon(2) of the swap partition at boot: read_swap_header (mkswap's last
 * page), setup_swap_map (the header slot bad), setup_swap_extents (a block
 * device is one extent across every usable slot), the clusters; then the
 * kernel's "Adding ...k swap on ..." line.
 */
export function swapon(vm: Vm, bytes: number): SwapInfo {
  // least_priority starts at -1 and each swapon without a priority takes the next lower: the first is -2.
  const prio = (leastPriority.get(vm) ?? -1) - 1;
  leastPriority.set(vm, prio);
  const si = new SwapInfo(vm, bytes, prio);
  const span = si.pages;
  const nrExtents = 1;
  const f = si.flags;
  vm.k.log([
    `Adding ${si.pages * 4}k swap on ${SWAP_DEVICE}.  Priority:${si.prio} extents:${nrExtents} across:${span * 4}k ` +
      `${f & SWP_SOLIDSTATE ? 'SS' : ''}${f & SWP_DISCARDABLE ? 'D' : ''}${f & SWP_AREA_DISCARD ? 's' : ''}${f & SWP_PAGE_DISCARD ? 'c' : ''}`,
  ]);
  // The partition sits on the page cache's disk; its requests are counted there.
  pageCache(vm);
  return si;
}

/** least_priority: the priority the last swapon without SWAP_FLAG_PREFER gave, by machine. */
const leastPriority = new WeakMap<Vm, number>();

const EINVAL = 22;
const ENOMEM = 12;
const EINTR = 4;
const EBUSY = 16;

/**
 * unuse_mm() for one mm: every swap PTE of the area in its anonymous VMAs
 * maps its page again (read back with swap readahead when not in the swap
 * cache); a page whose slot nothing names any more leaves the swap cache.
 * The addresses are collected first: reading a page allocates, and
 * reclaim or the OOM killer may change the page tables meanwhile, so each
 * PTE is looked up again and skipped if it is no longer that swap entry.
 * 0, or -ENOMEM when a page cannot be had for a slot still in use.
 */
function unuseMm(vm: Vm, si: SwapInfo, mm: Mm): number {
  const u32 = vm.k.phys.u32;
  const s = vm.s;
  const todo: number[] = [];
  for (const v of mm.vmas) {
    if (s.anonVma(v) === 0) continue;
    forEachPte(vm, mm.pgd, s.vmStart(v), s.vmEnd(v), (idx, va) => {
      const lo = u32[idx]!;
      const hi = u32[idx + 1]!;
      if (isSwapPte(lo, hi) && pteSwpType(hi) === si.type) todo.push(v, va);
    });
  }
  for (let i = 0; i < todo.length; i += 2) {
    const v = todo[i]!;
    const va = todo[i + 1]!;
    if (mm.pgd === 0 || !mm.vmas.includes(v)) return 0;
    let idx = vm.pt.walk(mm.pgd, va);
    if (idx < 0 || !isSwapPte(u32[idx]!, u32[idx + 1]!)) continue;
    const offset = pteSwpOffset(u32[idx]!, u32[idx + 1]!);
    const pfn = swapinForUnuse(vm, si, mm, v, va, offset);
    if (pfn < 0) {
      const m = si.swapMap[offset]!;
      if (m === 0 || m === SWAP_MAP_BAD) continue;
      return -ENOMEM;
    }
    idx = mm.pgd === 0 ? -1 : vm.pt.walk(mm.pgd, va);
    if (idx < 0 || !isSwapPte(u32[idx]!, u32[idx + 1]!) || pteSwpOffset(u32[idx]!, u32[idx + 1]!) !== offset) {
      vm.putPage(pfn);
      continue;
    }
    unusePte(vm, mm, v, va, idx, pfn);
    folioFreeSwap(vm, pfn);
  }
  return 0;
}

/**
 * try_to_unuse(): bring every page of the area back: shmem's swapped pages
 * first (shmem_unuse), then every mm's swap PTEs (unuse_mm), then the pages
 * left in the swap cache leave it (folio_free_swap). Repeated while slots
 * are in use, as the kernel's retry does; a pass that frees nothing ends
 * it with -EINTR (the kernel would spin until a signal came). 0 when the
 * area is empty, -ENOMEM when memory for a page could not be had.
 */
function tryToUnuse(vm: Vm, si: SwapInfo): number {
  let before = -1;
  while (si.inusePages > 0) {
    if (si.inusePages === before) return -EINTR;
    before = si.inusePages;
    let err = shmemOf(vm).unuse(si);
    if (err !== 0) return err;
    for (const mm of [...vm.mms.values()]) {
      err = unuseMm(vm, si, mm);
      if (err !== 0) return err;
    }
    for (let offset = 1; offset < si.max && si.inusePages > 0; offset++) {
      const pfn = swapCacheLookup(si, offset);
      if (pfn >= 0) folioFreeSwap(vm, pfn);
    }
  }
  return 0;
}

/**
 * swapoff(2): the area must be the one kmem has (-EINVAL), and memory
 * must be able to hold what swap did (security_vm_enough_memory_mm() for
 * all its slots: -ENOMEM with the __vm_enough_memory warning). The area
 * stops taking new pages (SWP_WRITEOK cleared: SwapTotal and SwapFree drop
 * it at once) and try_to_unuse() brings every page back; on failure it is
 * reinserted as it was (reinsert_swap_info) and the error returned. On
 * success it is gone: /proc/swaps lists nothing, and the priority it took
 * is given back (least_priority++). 6.18 prints nothing.
 */
export function swapoff(vm: Vm, path: string): number {
  const si = vm.swap;
  if (si === null || path !== SWAP_DEVICE) return -EINVAL;
  if ((si.flags & SWP_WRITEOK) === 0) return -EBUSY;
  const t = vm.current ?? vm.init;
  if (!vm.enoughMemory(t, si.pages)) return -ENOMEM;
  si.flags &= ~SWP_WRITEOK;
  const err = tryToUnuse(vm, si);
  if (err !== 0) {
    si.flags |= SWP_WRITEOK;
    return err;
  }
  vm.swap = null;
  vm.reclaimSwap = null;
  if (si.prio < 0) leastPriority.set(vm, (leastPriority.get(vm) ?? -1) + 1);
  return 0;
}
