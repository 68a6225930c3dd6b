/**
 * Page migration (mm/migrate.c) of single-page folios: what compaction does
 * with each page its migrate scanner isolated.
 *
 * migrate_folio_unmap() + migrate_folio_move() in one step (kmem has no
 * other CPU to race with, so the migration entries the kernel installs
 * between the two are never seen): the old page's PTEs are found through
 * rmap, its references checked against what its mappings and caches
 * explain, its 4 KiB copied, its struct page state moved (flags, mapcount,
 * references, page->mapping / index / private, its kind), its page-cache or
 * swap-cache slot pointed at the new page, every PTE re-pointed at the new
 * frame with its other bits kept, and the new page put on the LRU
 * (folio_add_lru: the head of the list its flags name, as the kernel does;
 * the list, active or inactive, is kept, not the position in it). The old
 * page is then freed.
 *
 * References (kmem's convention, see swap_state.ts): one per PTE, one for
 * the page cache or swap cache, one for the isolation. A page with any
 * other reference (a read() or a fault holding it) is pinned: -EAGAIN, as
 * folio_migrate_mapping()'s refcount test answers.
 */
import { PG } from '../memory/page.js';
import { pageCache } from './filemap.js';
import { invalidateTlbPage } from './memory.js';
import type { Mm } from './mm_types.js';
import { rmapWalk } from './rmap.js';
import { lruAdd } from './swap.js';
import { pageSwapCache } from './swap_state.js';
import { KIND_ANON, KIND_FILE, KIND_SHMEM, type Vm } from './vm.js';

export const MIGRATEPAGE_SUCCESS = 0;
const EAGAIN = -11;
const EBUSY = -16;

/** Scratch for the PTEs of the page being migrated (a page is mapped by at most this many PTEs before the walk grows it). */
let ptes = new Int32Array(64);
let mms: Mm[] = [];
let vas = new Float64Array(64);

/** Is the page in its page cache (file, shmem) at its index? */
function inPageCache(vm: Vm, pfn: number): boolean {
  const kind = vm.pageKind[pfn];
  if (kind !== KIND_FILE && kind !== KIND_SHMEM) return false;
  const as = pageCache(vm).spaces.get(vm.pageMapping[pfn]!);
  return as !== undefined && as.xa.load(vm.k.pages.index[pfn]!) === pfn;
}

/**
 * folio_expected_ref_count() + the isolation's: the references a page's
 * mappings and caches explain, plus one.
 */
export function expectedRefs(vm: Vm, pfn: number): number {
  let n = 1 + vm.k.pages.mapcount[pfn]!;
  if (inPageCache(vm, pfn) || pageSwapCache(vm, pfn)) n++;
  return n;
}

/**
 * migrate_folio(): move the isolated page src (off the LRU, holding the
 * isolation reference) to the new page dst (refcount 1 from the
 * allocation, not on any list). MIGRATEPAGE_SUCCESS: src is freed and dst
 * has taken its place; else -EAGAIN (pinned, or a PTE rmap could not find)
 * or -EBUSY (locked, under writeback), and nothing has changed.
 */
export function migrateFolio(vm: Vm, src: number, dst: number): number {
  const p = vm.k.pages;
  const f = p.flags;
  const u32 = vm.k.phys.u32;
  const kind = vm.pageKind[src]!;
  if (kind !== KIND_ANON && kind !== KIND_FILE && kind !== KIND_SHMEM) return EAGAIN;
  // A page being read (not uptodate: kmem's stand-in for the folio lock of a read in flight), locked or under writeback.
  if ((f[src]! & ((1 << PG.locked) | (1 << PG.writeback))) !== 0 || (f[src]! & (1 << PG.uptodate)) === 0) return EBUSY;
  if (p.refcount[src] !== expectedRefs(vm, src)) return EAGAIN;
  // try_to_migrate(): every PTE that maps the page, found before anything changes.
  let n = 0;
  const mapcount = p.mapcount[src]!;
  if (mapcount > 0) {
    if (ptes.length < mapcount) {
      ptes = new Int32Array(mapcount * 2);
      vas = new Float64Array(mapcount * 2);
    }
    rmapWalk(vm, src, (mm, va, idx) => {
      if (n < ptes.length) {
        ptes[n] = idx;
        vas[n] = va;
        mms[n] = mm;
      }
      n++;
      return true;
    });
    if (n !== mapcount) {
      mms = [];
      return EAGAIN;
    }
  }
  // folio_copy()
  const u8 = vm.k.phys.u8;
  u8.copyWithin(dst * 4096, src * 4096, src * 4096 + 4096);
  // folio_migrate_mapping(): the cache slot names the new page.
  const index = p.index[src]!;
  if (inPageCache(vm, src)) {
    const as = pageCache(vm).mapping(vm.pageMapping[src]!);
    as.xa.store(index, dst);
  } else if (pageSwapCache(vm, src)) {
    vm.swap!.swapCache[vm.pagePrivate[src]!] = dst + 1;
  }
  // folio_migrate_flags() and the rest of struct page.
  f[dst] = f[src]! & ~(1 << PG.lru);
  vm.pageKind[dst] = kind;
  vm.pageMapping[dst] = vm.pageMapping[src]!;
  vm.pagePrivate[dst] = vm.pagePrivate[src]!;
  p.index[dst] = index;
  p.mapcount[dst] = mapcount;
  p.refcount[dst] = p.refcount[src]!;
  if ((f[src]! & (1 << PG.mlocked)) !== 0) {
    const ev = vm.lruEv.nrMlock;
    const pa = vm.k.pageAlloc;
    ev[pa.pageZone(src)]!--;
    ev[pa.pageZone(dst)]!++;
  }
  // remove_migration_ptes(): each PTE now holds the new frame, its other bits kept.
  for (let i = 0; i < n; i++) {
    const idx = ptes[i]!;
    u32[idx] = ((dst * 4096) | (u32[idx]! & 0xfff)) >>> 0;
    invalidateTlbPage(mms[i]!, Math.floor(vas[i]! / 4096));
  }
  mms = [];
  // folio_add_lru(dst), then the isolation's reference on it goes (putback).
  lruAdd(vm, dst);
  p.refcount[dst] = p.refcount[dst]! - 1;
  // The old page: only the isolation's reference is left; it is freed.
  f[src] = 0;
  p.mapcount[src] = 0;
  p.refcount[src] = 1;
  vm.pagePrivate[src] = 0;
  vm.putPage(src);
  return MIGRATEPAGE_SUCCESS;
}
