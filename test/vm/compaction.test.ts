/**
 * Compaction (mm/compaction.c) and migration (mm/migrate.c): a zone
 * fragmented by hand, the order-3 allocation only compaction can satisfy,
 * compact_memory, the suitability and deferral rules. Expected values are
 * worked out from 6.18's rules in the comments beside them.
 */
import { describe, expect, test } from 'vitest';
import { O_CREAT, O_RDWR } from '../../src/fs/fcntl.js';
import { boot, type Kernel } from '../../src/kernel.js';
import { __GFP_MEMALLOC, __GFP_MOVABLE, __GFP_NORETRY, __GFP_NOWARN, GFP_KERNEL, GFP_NOWAIT } from '../../src/page_alloc/gfp.js';
import { NR_PAGE_ORDERS } from '../../src/page_alloc/mmzone.js';
import {
  COMPACT_MAX_DEFER_SHIFT,
  CompactState,
  compactionDeferReset,
  compactionDeferred,
  compactionSuitable,
  deferCompaction,
  zoneFragmentationIndex,
} from '../../src/vm/compaction.js';
import type { Task } from '../../src/vm/fork.js';
import { MADV_DONTNEED, MAP_ANONYMOUS, MAP_PRIVATE, MAP_SHARED, PROT_READ, PROT_WRITE } from '../../src/vm/mman.js';
import { meminfoKb as meminfo, pagePattern as pattern, tinyElf, vmstatValue as vmstat } from './helpers.js';
import { recountLru } from './lru_check.js';

const P = 4096;

/** /proc/buddyinfo as counts per zone name and order. */
function buddyinfo(k: Kernel): Map<string, number[]> {
  const out = new Map<string, number[]>();
  for (const line of k.proc.read('/proc/buddyinfo').trim().split('\n')) {
    const f = line.trim().split(/\s+/);
    out.set(f[3]!, f.slice(4).map(Number));
  }
  return out;
}

/** The pfn a present page is mapped at (pagemap's bits 0-54), -1 if not present. */
function pfnOf(t: Task, va: number): number {
  const e = t.pagemap(va, 1)[0]!;
  return e >> 63n === 1n ? Number(e & ((1n << 55n) - 1n)) : -1;
}

interface Fragmented {
  k: Kernel;
  t: Task;
  a: number;
  n: number;
}

/**
 * 64 MiB, one CPU: a task touches N anonymous pages with distinct bytes,
 * every free block of order 1 and up is then taken by the kernel
 * (GFP_NOWAIT | __GFP_MEMALLOC: no watermark, so nothing is left), and the
 * task drops every other page (MADV_DONTNEED). Free memory is then only
 * order-0 holes between the task's pages; no block of order 3 exists.
 */
function fragmented(n = 12000, opts: object = {}): Fragmented {
  const k = boot({ memory: '64M', cpus: 1, seed: 1, aslr: 0, ...opts });
  k.fs.writeFile('/bin/tiny', tinyElf());
  const t = k.spawn('/bin/tiny');
  const a = t.mmap(0, n * P, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  for (let i = 0; i < n; i++) t.writeBytes(a + i * P, pattern(i + 1));
  for (let o = NR_PAGE_ORDERS - 1; o >= 1; o--) while (k.allocPages(o, GFP_NOWAIT | __GFP_MEMALLOC) !== 0);
  for (let i = 0; i < n; i += 2) expect(t.madvise(a + i * P, P, MADV_DONTNEED)).toBe(0);
  k.pageAlloc.drainAllPages();
  return { k, t, a, n };
}

function same(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

function expectIntact(f: Fragmented): void {
  for (let i = 1; i < f.n; i += 2) {
    const got = f.t.readBytes(f.a + i * P, P);
    const want = pattern(i + 1);
    if (!got.every((b, j) => b === want[j])) throw new Error(`page ${i} changed`);
  }
}

describe('direct compaction', () => {
  test('an order-3 GFP_KERNEL allocation in a fragmented zone succeeds by migrating the task pages, every byte kept', () => {
    const f = fragmented();
    const { k, t, a, n } = f;
    // No free block of order 3 or more anywhere: only compaction can make one.
    for (const counts of buddyinfo(k).values()) expect(counts.slice(3).every((c) => c === 0)).toBe(true);
    const before: number[] = [];
    for (let i = 1; i < n; i += 2) before.push(pfnOf(t, a + i * P));
    const freeBefore = meminfo(k, 'MemFree');
    const addr = k.allocPages(3, GFP_KERNEL);
    expect(addr).not.toBe(0);
    expect(addr % (8 * P)).toBe(0);
    // __alloc_pages_slowpath() for order 3, an unmovable request: first async direct compaction (INIT_COMPACT_PRIORITY),
    // which takes sources only from Unmovable pageblocks (suitable_migration_source): it succeeds if the pinning
    // allocations' fallbacks turned a pageblock holding task pages Unmovable, else it fails (a stall and a failure)
    // and, after direct reclaim (nothing for a kernel allocation), compaction at DEF_COMPACT_PRIORITY
    // (MIGRATE_SYNC_LIGHT) takes the Movable pageblocks too: a stall and a success. One success either way.
    expect(vmstat(k, 'compact_success')).toBe(1);
    expect(vmstat(k, 'compact_stall')).toBe(1 + vmstat(k, 'compact_fail'));
    expect(vmstat(k, 'compact_fail')).toBeLessThanOrEqual(1);
    // Nothing the task has is pinned: a migration can fail only for want of a target when the free scanner
    // reaches the migrate scanner (migrate_pages' -ENOMEM counts that one page, the rest go back untried).
    const moved = vmstat(k, 'pgmigrate_success');
    expect(moved).toBeGreaterThan(0);
    expect(vmstat(k, 'pgmigrate_fail')).toBeLessThanOrEqual(vmstat(k, 'compact_stall'));
    // Each page moved took one free page: the migrate scanner's isolations plus the free scanner's, at least twice that.
    expect(vmstat(k, 'compact_isolated')).toBeGreaterThanOrEqual(2 * moved);
    expect(vmstat(k, 'compact_migrate_scanned')).toBeGreaterThan(0);
    expect(vmstat(k, 'compact_free_scanned')).toBeGreaterThanOrEqual(moved);
    // Exactly the moved pages have a new frame, and none of them shares one.
    let changed = 0;
    const seen = new Set<number>();
    for (let j = 0, i = 1; i < n; i += 2, j++) {
      const pfn = pfnOf(t, a + i * P);
      expect(pfn).toBeGreaterThan(0);
      expect(seen.has(pfn)).toBe(false);
      seen.add(pfn);
      if (pfn !== before[j]) changed++;
    }
    expect(changed).toBe(moved);
    expectIntact(f);
    // A migration frees one page for each it takes: only the order-3 block left free memory (MemFree, NR_FREE_PAGES,
    // leaves out the pcp lists, where the migrated-from pages went first: drained here).
    k.pageAlloc.drainAllPages();
    expect(meminfo(k, 'MemFree')).toBe(freeBefore - 32);
    expect(vmstat(k, 'nr_isolated_anon')).toBe(0);
    recountLru(k);
    // The block is the caller's: freeing it works and gives the pages back.
    k.freePages(addr, 3);
    k.pageAlloc.drainAllPages();
    expect(meminfo(k, 'MemFree')).toBe(freeBefore);
  });

  test('a costly __GFP_NORETRY request gives up at once when compaction is skipped (extfrag_threshold), and compacts otherwise', () => {
    const f = fragmented();
    const { k } = f;
    const allocstall = vmstat(k, 'allocstall_dma32');
    // Order 4 is costly: compaction_suitable() consults the fragmentation index. With extfrag_threshold at 1000
    // every index counts as lack of memory: COMPACT_SKIPPED in every zone, no stall counted, and a costly
    // __GFP_NORETRY request goes to nopage before direct reclaim.
    k.proc.write('/proc/sys/vm/extfrag_threshold', '1000');
    expect(k.allocPages(4, GFP_KERNEL | __GFP_NORETRY | __GFP_NOWARN)).toBe(0);
    expect(vmstat(k, 'compact_stall')).toBe(0);
    expect(vmstat(k, 'allocstall_dma32')).toBe(allocstall);
    // At the default 500 the index (near 1000: fragmentation) lets it compact: the async attempt first (its
    // sources only Unmovable pageblocks), and if that fails, direct reclaim (none for a kernel allocation in
    // kmem) then MIGRATE_SYNC_LIGHT compaction, which succeeds.
    k.proc.write('/proc/sys/vm/extfrag_threshold', '500');
    const addr = k.allocPages(4, GFP_KERNEL | __GFP_NORETRY | __GFP_NOWARN);
    expect(addr).not.toBe(0);
    expect(vmstat(k, 'compact_success')).toBe(1);
    expect(vmstat(k, 'compact_stall')).toBe(1 + vmstat(k, 'compact_fail'));
    expect(vmstat(k, 'compact_fail')).toBeLessThanOrEqual(1);
    expectIntact(f);
    k.freePages(addr, 4);
  });

  test('compaction is deferred after a sync failure and the deferral resets on success (compaction_deferred, defer_compaction)', () => {
    const s = new CompactState();
    const z = 1;
    // A fresh zone: defer_shift 0, limit 1 << 0; ++considered (1) >= 1, so not deferred.
    expect(compactionDeferred(s, z, 3)).toBe(false);
    deferCompaction(s, z, 3);
    // shift 1: limit 2; considered 1 -> deferred, 2 -> not (and stays at the limit).
    expect(compactionDeferred(s, z, 3)).toBe(true);
    expect(compactionDeferred(s, z, 3)).toBe(false);
    expect(s.considered[z]).toBe(2);
    // compact_order_failed went down to 3 (from 0? no: order < order_failed only then), so order 2 is never deferred once it is above.
    compactionDeferReset(s, z, 3, false);
    expect(s.orderFailed[z]).toBe(4);
    expect(compactionDeferred(s, z, 3)).toBe(false);
    // Repeated failures cap the shift at COMPACT_MAX_DEFER_SHIFT (6): 63 of 64 attempts are skipped.
    for (let i = 0; i < 10; i++) deferCompaction(s, z, 3);
    expect(s.deferShift[z]).toBe(COMPACT_MAX_DEFER_SHIFT);
    expect(s.orderFailed[z]).toBe(3);
    let skipped = 0;
    for (let i = 0; i < 64; i++) if (compactionDeferred(s, z, 3)) skipped++;
    expect(skipped).toBe(63);
    // A successful allocation resets it all.
    compactionDeferReset(s, z, 3, true);
    expect(s.deferShift[z]).toBe(0);
    expect(s.considered[z]).toBe(0);
  });
});

describe('migration of page-cache and shmem pages', () => {
  test('dirty file pages and shmem pages move with their cache slots: reads, mappings and writeback see the new frames', () => {
    const f = fragmented();
    const { k, t } = f;
    const n = 64;
    const buf = t.mmap(0, n * P, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    for (let i = 0; i < n; i++) t.writeBytes(buf + i * P, pattern(5000 + i));
    const fd = t.open('/moved', O_RDWR | O_CREAT);
    expect(t.pwrite(fd, buf, n * P, 0)).toBe(n * P);
    const map = t.mmap(0, n * P, PROT_READ, MAP_SHARED, fd, 0);
    for (let i = 0; i < n; i++) t.read8(map + i * P);
    const shm = t.mmap(0, n * P, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    for (let i = 0; i < n; i++) t.writeBytes(shm + i * P, pattern(9000 + i));
    const ino = k.fs.lookup('/moved')!.ino;
    const before = Array.from({ length: n }, (_, i) => k.vm.pageCache.get(ino * 2 ** 32 + i)!);
    const dirty0 = meminfo(k, 'Dirty');
    expect(dirty0).toBeGreaterThanOrEqual(n * 4);
    k.proc.write('/proc/sys/vm/compact_memory', '1');
    const after = Array.from({ length: n }, (_, i) => k.vm.pageCache.get(ino * 2 ** 32 + i)!);
    const moved = after.filter((pfn, i) => pfn !== before[i]).length;
    expect(moved).toBeGreaterThan(0);
    // The mapping follows its pages, the dirty pages are still dirty (the xarray's dirty mark stays with the slot).
    for (let i = 0; i < n; i++) expect(pfnOf(t, map + i * P)).toBe(after[i]);
    expect(meminfo(k, 'Dirty')).toBe(dirty0);
    for (let i = 0; i < n; i++) {
      expect(t.pread(fd, buf, P, i * P)).toBe(P);
      expect(same(t.readBytes(buf, P), pattern(5000 + i))).toBe(true);
      expect(same(t.readBytes(map + i * P, P), pattern(5000 + i))).toBe(true);
      expect(same(t.readBytes(shm + i * P, P), pattern(9000 + i))).toBe(true);
    }
    // Writeback writes the bytes of the frames the cache now holds.
    k.sync();
    expect(meminfo(k, 'Dirty')).toBe(0);
    const data = k.fs.readFile('/moved')!;
    for (let i = 0; i < n; i++) expect(same(data.subarray(i * P, (i + 1) * P), pattern(5000 + i))).toBe(true);
    expectIntact(f);
    recountLru(k);
  });
});

describe('kcompactd', () => {
  test('a high-order request that may not reclaim wakes kcompactd once kswapd has given up on the node', () => {
    const f = fragmented();
    const { k } = f;
    for (const counts of buddyinfo(k).values()) expect(counts.slice(3).every((c) => c === 0)).toBe(true);
    // GFP_NOWAIT | __GFP_MOVABLE, order 3: no direct reclaim or compaction, only kswapd. Without swap it frees
    // (almost) nothing: each woken run that reclaims nothing is a kswapd failure. Once MAX_RECLAIM_RETRIES (16)
    // runs failed, the node is hopeless and wakeup_kswapd wakes kcompactd instead, which compacts for order 3:
    // the request's retry of the free lists then succeeds.
    let addr = 0;
    let tries = 0;
    while (addr === 0 && tries < 40) {
      addr = k.allocPages(3, GFP_NOWAIT | __GFP_MOVABLE);
      tries++;
    }
    expect(addr).not.toBe(0);
    // At least 16 failed kswapd runs came first, the request that succeeded being the one after them.
    expect(tries).toBeGreaterThanOrEqual(17);
    expect(k.vm.lruStat('node_unreclaimable', -1)).toBe(1);
    expect(vmstat(k, 'compact_daemon_wake')).toBe(1);
    expect(vmstat(k, 'compact_stall')).toBe(0);
    expect(vmstat(k, 'pgmigrate_success')).toBeGreaterThan(0);
    // The daemon's scans are counted both as its own and in the totals.
    expect(vmstat(k, 'compact_daemon_migrate_scanned')).toBe(vmstat(k, 'compact_migrate_scanned'));
    expect(vmstat(k, 'compact_daemon_free_scanned')).toBe(vmstat(k, 'compact_free_scanned'));
    expect(vmstat(k, 'compact_daemon_migrate_scanned')).toBeGreaterThan(0);
    expectIntact(f);
    k.freePages(addr, 3);
    recountLru(k);
  });
});

describe('what does not move', () => {
  test('a pinned page (a reference its PTEs do not explain), page tables and slab pages keep their frames', () => {
    const f = fragmented();
    const { k, t, a } = f;
    const pinnedVa = a + 1 * P;
    const pinned = pfnOf(t, pinnedVa);
    // A get_user_pages()-style pin: one more reference on the page.
    k.pages.refcount[pinned] = k.pages.refcount[pinned]! + 1;
    // Its neighbour, kept by the task too but not pinned: the control, which does move.
    const neighbour = pfnOf(t, a + 3 * P);
    // The page table that maps the task's pages, and a slab page.
    const pte = Math.floor(k.vm.pt.walk(t.mm!.pgd, pinnedVa) / 1024);
    const obj = k.kmalloc(64, GFP_KERNEL);
    const slabPfn = Math.floor(obj / P);
    const pteFlags = k.pages.flags[pte];
    k.proc.write('/proc/sys/vm/compact_memory', '1');
    expect(vmstat(k, 'pgmigrate_success')).toBeGreaterThan(0);
    // isolate_migratepages_block passes the pinned page by (folio_ref_count - 1 > folio_mapcount): it stays, intact.
    expect(pfnOf(t, pinnedVa)).toBe(pinned);
    expect(pfnOf(t, a + 3 * P)).not.toBe(neighbour);
    expect(k.vm.pt.walk(t.mm!.pgd, pinnedVa) >> 10).toBe(pte);
    expect(k.pages.flags[pte]).toBe(pteFlags);
    expect(k.ksize(obj)).toBe(64);
    expect(Math.floor(obj / P)).toBe(slabPfn);
    k.pages.refcount[pinned] = k.pages.refcount[pinned]! - 1;
    k.kfree(obj);
    expectIntact(f);
    recountLru(k);
  });
});

describe('compaction_suitable and fragmentation_index', () => {
  test('fragmentation_index follows __fragmentation_index over the zone free areas, and extfrag_threshold gates costly orders', () => {
    const { k } = fragmented();
    const zone = 1; // DMA32
    const counts = buddyinfo(k).get('DMA32')!;
    // fill_contig_page_info + __fragmentation_index for order 9: no free block of 2^9, so
    // 1000 - (1000 + free_pages * 1000 / 2^9) / free_blocks_total, integer division.
    const blocks = counts.reduce((s, c) => s + c, 0);
    const freePages = counts.reduce((s, c, o) => s + c * 2 ** o, 0);
    const want = 1000 - Math.trunc((1000 + Math.trunc((freePages * 1000) / 512)) / blocks);
    expect(zoneFragmentationIndex(k.vm, zone, 9)).toBe(want);
    expect(want).toBeGreaterThan(500);
    // The index is above the default threshold (500): a failure would be fragmentation, so compaction is suitable.
    expect(k.proc.read('/proc/sys/vm/extfrag_threshold')).toBe('500\n');
    expect(compactionSuitable(k.vm, zone, 9, 1)).toBe(true);
    // With the threshold at 1000 every index 0..1000 means "lack of memory": not suitable for a costly order...
    k.proc.write('/proc/sys/vm/extfrag_threshold', '1000');
    expect(compactionSuitable(k.vm, zone, 9, 1)).toBe(false);
    // ...while non-costly orders ignore the index.
    expect(compactionSuitable(k.vm, zone, 3, 1)).toBe(true);
    expect(() => k.proc.write('/proc/sys/vm/extfrag_threshold', '1001')).toThrow(/outside 0\.\.1000/);
  });

  test('compaction is not suitable when free memory is below the min watermark plus compact_gap', () => {
    const k = boot({ memory: '64M', cpus: 1, seed: 1, aslr: 0 });
    const zone = 1;
    const pa = k.pageAlloc;
    // __compaction_suitable() for order 3 (not costly): the order-0 watermark test at min + compact_gap(3) = min + 16,
    // passed while NR_FREE_PAGES > that mark (no lowmem reserve for DMA32 itself). Take pages and watch it flip.
    const mark = pa.zones.wmark(zone, 0) + (2 << 3);
    const seen = new Set<boolean>();
    for (;;) {
      const free = pa.zones.get(zone, 4);
      expect(compactionSuitable(k.vm, zone, 3, 1)).toBe(free > mark);
      seen.add(free > mark);
      if (free <= mark - 64) break;
      if (k.allocPages(0, GFP_NOWAIT | __GFP_MEMALLOC) === 0) break;
    }
    expect([...seen].sort()).toEqual([false, true]);
  });
});

describe('/proc/sys/vm/compact_memory', () => {
  test('writing 1 compacts every zone: free pages gather into high-order blocks, the task keeps its bytes', () => {
    const f = fragmented();
    const { k } = f;
    const high = (m: Map<string, number[]>) => [...m.values()].reduce((s, c) => s + c.slice(4).reduce((x, y, o) => x + y * 2 ** (o + 4), 0), 0);
    expect(high(buddyinfo(k))).toBe(0);
    const freeBefore = meminfo(k, 'MemFree');
    k.proc.write('/proc/sys/vm/compact_memory', '1');
    const moved = vmstat(k, 'pgmigrate_success');
    expect(moved).toBeGreaterThan(0);
    // One run per zone: at most one -ENOMEM failure each, when the scanners meet.
    expect(vmstat(k, 'pgmigrate_fail')).toBeLessThanOrEqual(2);
    // compact_memory is not direct compaction: no stall, success or failure counted.
    expect(vmstat(k, 'compact_stall')).toBe(0);
    expect(vmstat(k, 'compact_success')).toBe(0);
    expect(vmstat(k, 'compact_fail')).toBe(0);
    k.pageAlloc.drainAllPages();
    // The holes at the bottom of the zone merged: blocks of order 4 and up hold a good part of free memory now.
    expect(high(buddyinfo(k))).toBeGreaterThan(moved / 2);
    expect(meminfo(k, 'MemFree')).toBe(freeBefore);
    expectIntact(f);
    recountLru(k);
    // The knob takes 1 only (SYSCTL_ONE..SYSCTL_ONE) and is write-only.
    expect(() => k.proc.write('/proc/sys/vm/compact_memory', '2')).toThrow(/outside 1\.\.1/);
    expect(() => k.proc.write('/proc/sys/vm/compact_memory', '0')).toThrow(/outside 1\.\.1/);
    expect(() => k.proc.read('/proc/sys/vm/compact_memory')).toThrow();
  });

  test('compact_* and pgmigrate_* sit where 6.18 prints them in /proc/vmstat', () => {
    const k = boot({ memory: '64M', cpus: 1, seed: 1 });
    const names = k.proc
      .read('/proc/vmstat')
      .trim()
      .split('\n')
      .map((l) => l.split(' ')[0]);
    const at = names.indexOf('pgmigrate_success');
    expect(names.slice(at, at + 2)).toEqual(['pgmigrate_success', 'pgmigrate_fail']);
    const c = names.indexOf('compact_migrate_scanned');
    expect(names.slice(c, c + 9)).toEqual([
      'compact_migrate_scanned',
      'compact_free_scanned',
      'compact_isolated',
      'compact_stall',
      'compact_fail',
      'compact_success',
      'compact_daemon_wake',
      'compact_daemon_migrate_scanned',
      'compact_daemon_free_scanned',
    ]);
  });
});
