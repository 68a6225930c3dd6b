/**
 * Page reclaim (mm/vmscan.c) against the kernel's rules: a file bigger
 * than RAM streams through read() with the page cache reclaimed behind it
 * (every byte read checked; the pages read in are the pages cached plus the
 * pages stolen; without swap only the file lists are scanned); kswapd is
 * woken when no zone is above its low watermark and stops once the node is
 * balanced (a zone above high); an allocation that may not wake kswapd
 * reclaims directly (allocstall, pgscan_direct); an active working set
 * survives a streaming read; evicted pages leave shadow entries and come
 * back as refaults; shrinkers are scanned as do_shrink_slab() computes.
 */
import { expect, test } from 'vitest';
import { O_CREAT, O_RDONLY, O_RDWR } from '../../src/fs/fcntl.js';
import type { Kernel } from '../../src/kernel.js';
import { PG } from '../../src/memory/page.js';
import { __GFP_KSWAPD_RECLAIM, GFP_HIGHUSER_MOVABLE } from '../../src/page_alloc/gfp.js';
import { MAX_NR_ZONES, WMARK_LOW, Z_MANAGED, Z_WMARK } from '../../src/page_alloc/mmzone.js';
import { pageCache } from '../../src/vm/filemap.js';
import type { Task } from '../../src/vm/fork.js';
import { LRU_ACTIVE_FILE } from '../../src/vm/mm_inline.js';
import { MAP_ANONYMOUS, MAP_PRIVATE, PROT_READ, PROT_WRITE } from '../../src/vm/mman.js';
import { DEFAULT_SEEKS, doShrinkSlab, registerShrinker, type Shrinker, unregisterShrinker } from '../../src/vm/shrinker.js';
import { pgdatBalanced, reclaimState } from '../../src/vm/vmscan.js';
import { bootWithProgram, buildElf } from './helpers.js';
import { meminfo, recountLru, vmstat } from './lru_check.js';

/** A file whose every 32-bit word holds its own byte offset. */
function patterned(bytes: number): Uint8Array {
  const w = new Uint32Array(bytes / 4);
  for (let i = 0; i < w.length; i++) w[i] = i * 4;
  return new Uint8Array(w.buffer);
}

/** read() the whole file in 64 KiB pieces, checking every byte against `want`. Returns the bytes read. */
function streamRead(t: Task, path: string, buf: number, want: Uint8Array): number {
  const fd = t.open(path, O_RDONLY);
  let got = 0;
  for (;;) {
    const n = t.read(fd, buf, 1 << 16);
    if (n <= 0) break;
    const b = t.readBytes(buf, n);
    if (Buffer.compare(Buffer.from(b.buffer, b.byteOffset, n), Buffer.from(want.buffer, want.byteOffset + got, n)) !== 0) {
      const i = b.findIndex((x, j) => x !== want[got + j]);
      throw new Error(`${path}: byte ${got + i} is ${b[i]}, not ${want[got + i]}`);
    }
    got += n;
  }
  t.close(fd);
  return got;
}

function setup(memory: string): { k: Kernel; t: Task; buf: number } {
  const k = bootWithProgram(memory);
  const t = k.spawn('/bin/tiny');
  const buf = t.mmap(0, 1 << 16, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  return { k, t, buf };
}

test('a file bigger than RAM streams through read(): every byte right, the cache reclaimed behind it by kswapd', () => {
  const { k, t, buf } = setup('64M');
  const size = 96 << 20;
  const data = patterned(size);
  k.fs.writeFile('/bin/big', data);
  const vm = k.vm;
  const pa = k.pageAlloc;
  const r = reclaimState(vm);
  // Watch every wake-up: kswapd runs only when no zone is above its low watermark, and leaves the node balanced.
  const wake = pa.hooks.wakeKswapd!;
  let runs = 0;
  pa.hooks.wakeKswapd = (order, gfp, highest) => {
    const before = r.kswapdRuns;
    const lowOk: boolean[] = [];
    for (let z = 0; z <= highest && z < MAX_NR_ZONES; z++) {
      if (pa.zones.get(z, Z_MANAGED) > 0) lowOk.push(pa.zoneWatermarkOk(z, order, pa.zones.get(z, Z_WMARK + WMARK_LOW), highest, 0));
    }
    wake(order, gfp, highest);
    if (r.kswapdRuns !== before) {
      runs++;
      expect(lowOk.every((ok) => !ok)).toBe(true);
      expect(pgdatBalanced(vm, order, highest)).toBe(true);
    }
  };
  const v0 = vmstat(k);
  const m0 = meminfo(k);
  const files0 = vm.nrFilePages;
  const pc = pageCache(vm);
  const pgpgin0 = pc.pgpgin;
  expect(streamRead(t, '/bin/big', buf, data)).toBe(size);
  const v1 = vmstat(k);
  const m1 = meminfo(k);
  const d = (n: string) => v1[n]! - v0[n]!;
  expect(runs).toBeGreaterThan(0);
  expect(d('pageoutrun')).toBe(runs);
  // Conservation: every page read in is still cached or was reclaimed.
  expect((pc.pgpgin - pgpgin0) / 4).toBe(vm.nrFilePages - files0 + d('pgsteal_file'));
  expect(d('pgsteal_file')).toBeGreaterThan(size / 4096 - m0.MemTotal! / 4);
  // No swap: get_scan_count() scans the file lists only.
  expect(d('pgscan_anon')).toBe(0);
  expect(d('pgsteal_anon')).toBe(0);
  expect(d('pgscan_kswapd') + d('pgscan_direct')).toBe(d('pgscan_file'));
  expect(d('pgsteal_kswapd') + d('pgsteal_direct')).toBe(d('pgsteal_file'));
  expect(d('pgsteal_file')).toBeLessThanOrEqual(d('pgscan_file'));
  // Nothing was ever referenced twice: no activation, no aging.
  expect(d('pgactivate')).toBe(0);
  expect(d('pgrefill')).toBe(0);
  // The cache is bounded by RAM and fills it; free memory stays above the min watermarks.
  expect(m1.Cached).toBeLessThan(m1.MemTotal!);
  expect(m1.Cached).toBeGreaterThan(m1.MemTotal! * 0.8);
  expect(m1.MemFree).toBeGreaterThan(0);
  recountLru(k);
  // Each reclaimed page left a shadow entry (a few were /bin/tiny's unmapped pages).
  let shadows = 0;
  for (const as of pc.spaces.values()) shadows += as.shadows.size;
  expect(shadows).toBe(d('pgsteal_file'));
  const as = pc.mapping(k.fs.lookup('/bin/big')!.ino);
  expect(as.nrpages + as.shadows.size).toBe(size / 4096);
});

test('an allocation that may reclaim but not wake kswapd reclaims directly: allocstall_movable, pgscan_direct', () => {
  const { k, t, buf } = setup('64M');
  const size = 48 << 20;
  const data = patterned(size);
  k.fs.writeFile('/bin/f', data);
  streamRead(t, '/bin/f', buf, data);
  const v0 = vmstat(k);
  const m0 = meminfo(k);
  const pa = k.pageAlloc;
  const gfp = GFP_HIGHUSER_MOVABLE & ~__GFP_KSWAPD_RECLAIM;
  const got: number[] = [];
  const want = m0.MemFree! / 4 + 2000;
  for (let i = 0; i < want; i++) {
    const pfn = pa.allocPagesPfn(0, gfp);
    expect(pfn).toBeGreaterThanOrEqual(0);
    got.push(pfn);
  }
  const v1 = vmstat(k);
  const d = (n: string) => v1[n]! - v0[n]!;
  expect(d('allocstall_movable')).toBeGreaterThan(0);
  expect(d('allocstall_normal')).toBe(0);
  expect(d('pgscan_direct')).toBeGreaterThan(0);
  expect(d('pgsteal_direct')).toBeGreaterThanOrEqual(2000);
  expect(d('pgscan_kswapd')).toBe(0);
  expect(d('pageoutrun')).toBe(0);
  // do_try_to_free_pages() stops at nr_to_reclaim = SWAP_CLUSTER_MAX: each stall frees a batch of 32 at most... per pass.
  expect(d('pgsteal_direct')).toBeLessThanOrEqual(d('allocstall_movable') * 32 * 13);
  expect(meminfo(k).Cached).toBeLessThan(m0.Cached! - 2000 * 4 + 4 * 400);
  for (const pfn of got) pa.freePagesPfn(pfn, 0);
  recountLru(k);
});

test('the active working set survives a streaming read bigger than RAM', () => {
  const { k, t, buf } = setup('64M');
  const small = patterned(4 << 20);
  k.fs.writeFile('/bin/ws', small);
  streamRead(t, '/bin/ws', buf, small);
  streamRead(t, '/bin/ws', buf, small);
  const as = pageCache(k.vm).mapping(k.fs.lookup('/bin/ws')!.ino);
  expect(as.nrpages).toBe(1024);
  as.xa.forEach((_, pfn) => {
    expect(k.pages.flags[pfn]! & (1 << PG.active)).not.toBe(0);
  });
  const big = patterned(80 << 20);
  k.fs.writeFile('/bin/big', big);
  const v0 = vmstat(k);
  streamRead(t, '/bin/big', buf, big);
  // The inactive file list never got smaller than the active one (inactive_is_low), so the
  // active list was never aged: the working set is all still there, still active.
  expect(vmstat(k).pgdeactivate).toBe(v0.pgdeactivate);
  expect(as.nrpages).toBe(1024);
  expect(recountLru(k)[LRU_ACTIVE_FILE]).toBeGreaterThanOrEqual(1024);
  // And reading it again is all hits: no I/O.
  const pgpgin = pageCache(k.vm).pgpgin;
  streamRead(t, '/bin/ws', buf, small);
  expect(pageCache(k.vm).pgpgin).toBe(pgpgin);
});

test('a working set larger than the inactive list is aged, evicted with shadows, and refaults when read again', () => {
  const { k, t, buf } = setup('32M');
  const wsData = patterned(20 << 20);
  k.fs.writeFile('/bin/ws', wsData);
  streamRead(t, '/bin/ws', buf, wsData);
  streamRead(t, '/bin/ws', buf, wsData);
  const big = patterned(32 << 20);
  k.fs.writeFile('/bin/big', big);
  const v0 = vmstat(k);
  streamRead(t, '/bin/big', buf, big);
  const v1 = vmstat(k);
  // The active list outgrew the inactive one: it was aged (pgrefill) and pages deactivated.
  expect(v1.pgrefill! - v0.pgrefill!).toBeGreaterThan(0);
  expect(v1.pgdeactivate! - v0.pgdeactivate!).toBeGreaterThan(0);
  const as = pageCache(k.vm).mapping(k.fs.lookup('/bin/ws')!.ino);
  const shadows = new Map(as.shadows);
  expect(shadows.size).toBeGreaterThan(0);
  // Deactivated pages carry PG_workingset, and their shadows say so.
  const withWs = [...shadows.values()].filter((s) => s % 2 === 1).length;
  expect(withWs).toBeGreaterThan(0);
  // Read the working set again: every page that comes back over a shadow is a refault.
  streamRead(t, '/bin/ws', buf, wsData);
  const v2 = vmstat(k);
  const refaulted = [...shadows.keys()].filter((i) => !as.shadows.has(i) || as.shadows.get(i) !== shadows.get(i)).length;
  expect(v2.workingset_refault_file! - v1.workingset_refault_file!).toBe(refaulted);
  expect(v2.workingset_activate_file! - v1.workingset_activate_file!).toBeGreaterThan(0);
  expect(v2.workingset_restore_file! - v1.workingset_restore_file!).toBeLessThanOrEqual(v2.workingset_activate_file! - v1.workingset_activate_file!);
  expect(v2.workingset_refault_anon).toBe(0);
  recountLru(k);
});

test('do_shrink_slab(): freeable >> priority * 4 / seeks, in batches of 128, the rest deferred', () => {
  const { k } = setup('64M');
  const scans: number[] = [];
  let objects = 1000;
  const s: Shrinker = {
    name: 'test',
    seeks: DEFAULT_SEEKS,
    batch: 0,
    nrDeferred: 0,
    countObjects: () => objects,
    scanObjects: (_vm, n) => {
      scans.push(n);
      objects -= n;
      return n;
    },
  };
  // Priority 12: 1000 >> 12 = 0, nothing to do.
  expect(doShrinkSlab(k.vm, s, 12)).toBe(0);
  expect(scans).toEqual([]);
  expect(s.nrDeferred).toBe(0);
  // Priority 2: delta = (1000 >> 2) * 4 / 2 = 500: three batches of 128 (384), 116 deferred.
  expect(doShrinkSlab(k.vm, s, 2)).toBe(384);
  expect(scans).toEqual([128, 128, 128]);
  expect(s.nrDeferred).toBe(116);
  // Priority 0 with 616 left: delta = 616 * 4 / 2 = 1232, plus the 116 deferred, capped at 2 * 616;
  // batches of 128 while at least 128 remain or all of it is asked for.
  scans.length = 0;
  const freed = doShrinkSlab(k.vm, s, 0);
  expect(scans.every((n) => n === 128)).toBe(true);
  expect(freed).toBe(scans.length * 128);
  expect(s.nrDeferred).toBe(Math.min(Math.max(116 + 1232 - freed, 0), 2 * 616));
  // A registered shrinker is called by reclaim (shrink_node → shrink_slab).
  objects = 100000;
  s.nrDeferred = 0;
  scans.length = 0;
  registerShrinker(k.vm, s);
  const slabs0 = vmstat(k).slabs_scanned!;
  const t = k.spawn('/bin/tiny');
  const buf = t.mmap(0, 1 << 16, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  const big = patterned(80 << 20);
  k.fs.writeFile('/bin/big', big);
  streamRead(t, '/bin/big', buf, big);
  expect(scans.length).toBeGreaterThan(0);
  expect(vmstat(k).slabs_scanned! - slabs0).toBe(scans.reduce((a, b) => a + b, 0));
  unregisterShrinker(k.vm, s);
  expect(() => registerShrinker(k.vm, {} as Shrinker)).toThrow(TypeError);
});

test('mapped file pages not used again are unmapped through rmap and reclaimed; the task faults them back intact', () => {
  const k = bootWithProgram('32M');
  // A program with a 1 MiB read-only data segment (a private file mapping, not executable).
  const seg = patterned(1 << 20);
  k.fs.writeFile(
    '/bin/prog',
    buildElf([
      { vaddr: 0x401000, flags: 5, data: new Uint8Array(64).fill(0x90) },
      { vaddr: 0x600000, flags: 4, data: seg },
    ]),
  );
  const t = k.spawn('/bin/prog');
  const buf = t.mmap(0, 1 << 16, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  for (let i = 0; i < 256; i++) t.readBytes(0x600000 + i * 4096, 1);
  const mm = t.mm!;
  const rss0 = mm.rssFile;
  expect(rss0).toBeGreaterThanOrEqual(256);
  const mapped0 = k.vm.nrFileMapped;
  // Twice the RAM: the inactive list turns over twice, so each data page reaches its tail twice.
  const big = patterned(64 << 20);
  k.fs.writeFile('/bin/big', big);
  streamRead(t, '/bin/big', buf, big);
  // Each data page was seen young once (kept, PG_referenced), then old: reclaimed clean, its PTE gone.
  expect(mm.rssFile).toBeLessThan(rss0 - 200);
  expect(k.vm.nrFileMapped).toBeLessThan(mapped0 - 200);
  const fault0 = k.vm.pgfault;
  expect(Buffer.compare(Buffer.from(t.readBytes(0x600000, 1 << 20)), Buffer.from(seg))).toBe(0);
  expect(k.vm.pgfault).toBeGreaterThan(fault0);
  recountLru(k);
});

test('anonymous memory past RAM without swap: reclaim finds nothing, kswapd gives up after MAX_RECLAIM_RETRIES runs (node_unreclaimable)', () => {
  const k = bootWithProgram('32M');
  k.proc.write('/proc/sys/vm/overcommit_memory', '1');
  const t = k.spawn('/bin/tiny');
  const a = t.mmap(0, 64 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  const r = reclaimState(k.vm);
  // This test is about reclaim alone: the OOM killer (src/vm/oom_kill.ts) is unhooked.
  k.pageAlloc.hooks.outOfMemory = null;
  let i = 0;
  let failed = 0;
  // Without an OOM killer here, a fault that finds no page fails; keep touching new pages.
  for (; i < 16384 && failed < 40; i++) {
    try {
      t.writeBytes(a + i * 4096, [1]);
    } catch {
      failed++;
    }
  }
  expect(failed).toBe(40);
  expect(r.kswapdFailures).toBeGreaterThanOrEqual(16);
  expect(k.proc.read('/proc/zoneinfo')).toContain('node_unreclaimable:  1');
  // Hopeless: the next allocations no longer run kswapd.
  const runs = r.kswapdRuns;
  for (let j = 0; j < 5; j++) {
    try {
      t.writeBytes(a + (i + j) * 4096, [1]);
    } catch {}
  }
  expect(r.kswapdRuns).toBe(runs);
  const v = vmstat(k);
  expect(v.pgscan_anon).toBe(0);
  expect(v.allocstall_movable).toBeGreaterThan(0);
  recountLru(k);
});

test('writing a file bigger than RAM: dirty throttling and the flusher clean the pages, reclaim steals them, every byte reaches the disk', () => {
  const { k, t, buf } = setup('32M');
  const fd = t.open('/bin/w', O_RDWR | O_CREAT);
  const size = 48 << 20;
  const want = patterned(size);
  let maxDirty = 0;
  for (let off = 0; off < size; off += 1 << 16) {
    t.writeBytes(buf, want.subarray(off, off + (1 << 16)));
    expect(t.write(fd, buf, 1 << 16)).toBe(1 << 16);
    maxDirty = Math.max(maxDirty, vmstat(k).nr_dirty! + vmstat(k).nr_writeback!);
  }
  const v = vmstat(k);
  // balance_dirty_pages keeps dirty + writeback pages under the dirty threshold (a few percent over at most
  // while its estimates start), so the flusher has written the older pages before reclaim reaches them
  // (as on a real kernel, where reclaim meeting dirty file pages is the exception): reclaim steals clean ones.
  expect(maxDirty).toBeLessThanOrEqual(v.nr_dirty_threshold! * 1.1);
  expect(v.pgsteal_file).toBeGreaterThan((size - (32 << 20)) / 4096);
  expect(t.fsync(fd)).toBe(0);
  expect(Buffer.compare(Buffer.from(k.fs.lookup('/bin/w')!.data), Buffer.from(want))).toBe(0);
  recountLru(k);
});

test('the shadow-node shrinker trims shadow-only nodes beyond node_present_pages >> 3 (workingset_nodes, workingset_nodereclaim)', () => {
  const { k, t, buf } = setup('16M');
  const zi = k.proc.read('/proc/zoneinfo');
  const present = [...zi.matchAll(/^\s+present\s+(\d+)$/gm)].reduce((a, m) => a + Number(m[1]), 0);
  const maxNodes = Math.floor(present / 8);
  // Many one-page files read once: each, once evicted, leaves a node holding nothing but its shadow.
  const nFiles = maxNodes * 3;
  const one = new Uint8Array(4096).fill(9);
  for (let i = 0; i < nFiles; i++) {
    k.fs.writeFile(`/bin/s${i}`, one);
    const fd = t.open(`/bin/s${i}`, O_RDONLY);
    expect(t.read(fd, buf, 4096)).toBe(4096);
    t.close(fd);
  }
  const big = patterned(24 << 20);
  k.fs.writeFile('/bin/big', big);
  const v0 = vmstat(k);
  streamRead(t, '/bin/big', buf, big);
  const v = vmstat(k);
  const reclaimed = v.workingset_nodereclaim! - v0.workingset_nodereclaim!;
  expect(reclaimed).toBeGreaterThan(0);
  // Each node reclaimed took its shadow: the small files lost as many shadows as nodes were reclaimed
  // (a few reclaimed nodes may be /bin/tiny's).
  let left = 0;
  let evicted = 0;
  const pc = pageCache(k.vm);
  for (let i = 0; i < nFiles; i++) {
    const as = pc.mapping(k.fs.lookup(`/bin/s${i}`)!.ino);
    left += as.shadows.size;
    if (as.nrpages === 0) evicted++;
  }
  expect(evicted - left).toBeGreaterThan(0);
  expect(evicted - left).toBeLessThanOrEqual(reclaimed);
  expect(evicted - left).toBeGreaterThanOrEqual(reclaimed - 4);
  // do_shrink_slab() trims only while half the excess is a batch of 128 or more: the excess left is under 256 (plus the big file's).
  expect(v.workingset_nodes! - maxNodes).toBeLessThan(256 + (24 << 20) / 4096 / 64);
  expect(v.workingset_nodes).toBeGreaterThan(maxNodes);
});
