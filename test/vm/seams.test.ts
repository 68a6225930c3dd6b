/**
 * Seams between reclaim, swap, writeback and file mappings (issue 14).
 * Expected values are worked by hand from 6.18's rules, written beside each test.
 */
import { describe, expect, test } from 'vitest';
import { O_CREAT, O_RDWR } from '../../src/fs/fcntl.js';
import { WB_REASON_BACKGROUND } from '../../src/fs/fs-writeback.js';
import { boot, type Kernel } from '../../src/kernel.js';
import { showFreeAreas } from '../../src/page_alloc/show_mem.js';
import { pageCache } from '../../src/vm/filemap.js';
import { MADV_COLD, MADV_PAGEOUT, MAP_ANONYMOUS, MAP_FIXED, MAP_PRIVATE, MAP_SHARED, PROT_NONE, PROT_READ, PROT_WRITE } from '../../src/vm/mman.js';
import { writeback } from '../../src/vm/page-writeback.js';
import { tinyElf } from './helpers.js';

const P = 4096;
const A = 0x10000000;

function machine(opts: object = {}): Kernel {
  const k = boot({ memory: '64M', cpus: 2, seed: 1, aslr: 0, swap: '16M', ...opts });
  k.fs.writeFile('/bin/tiny', tinyElf());
  return k;
}

const vmstat = (k: Kernel, name: string) => Number(new RegExp(`^${name} (\\d+)$`, 'm').exec(k.proc.read('/proc/vmstat'))![1]);

/** totalreserve_pages from /proc/zoneinfo (calculate_totalreserve_pages: per zone, min(max lowmem_reserve + high, managed)). */
function totalreserve(k: Kernel): number {
  let total = 0;
  for (const zone of k.proc
    .read('/proc/zoneinfo')
    .split(/^Node 0, zone/m)
    .slice(1)) {
    const high = /\n\s+high\s+(\d+)/.exec(zone);
    const managed = /\n\s+managed\s+(\d+)/.exec(zone);
    const prot = /protection: \(([^)]*)\)/.exec(zone);
    if (high === null || managed === null || prot === null) throw new Error('zoneinfo');
    total += Math.min(Math.max(...prot[1]!.split(',').map(Number)) + Number(high[1]), Number(managed[1]));
  }
  return total;
}

const meminfo = (k: Kernel, name: string) => Number(new RegExp(`^${name.replace(/[()]/g, '\\$&')}:\\s+(\\d+) kB$`, 'm').exec(k.proc.read('/proc/meminfo'))![1]);

describe("show_free_areas()'s page cache and swap lines", () => {
  test('Free swap and Total swap follow the swap area; the page cache and swap cache counts follow NR_FILE_PAGES and the swap cache', () => {
    const k = machine();
    const t = k.spawn('/bin/tiny', ['tiny']);
    const N = 3;
    expect(t.mmap(A, N * P, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0)).toBe(A);
    for (let i = 0; i < N; i++) t.writeBytes(A + i * P, new Uint8Array(P).fill(i + 1));
    expect(t.madvise(A, N * P, MADV_PAGEOUT)).toBe(0);
    const lines = showFreeAreas(k.pageAlloc, 0, 0);
    const at = lines.findIndex((l) => l.endsWith('total pagecache pages'));
    // 16 MiB of swap is 4096 pages less the header page: total_swap_pages 4095 = 16380 kB; 3 slots used: 4092 free = 16368 kB.
    expect(lines.slice(at + 2, at + 4)).toEqual(['Free swap  = 16368kB', 'Total swap = 16380kB']);
    // meminfo's Cached is NR_FILE_PAGES less the swap cache and Buffers, so NR_FILE_PAGES = Cached + SwapCached + Buffers.
    const swapCached = meminfo(k, 'SwapCached') / 4;
    expect(lines[at]).toBe(`${(meminfo(k, 'Cached') + meminfo(k, 'SwapCached') + meminfo(k, 'Buffers')) / 4} total pagecache pages`);
    expect(lines[at]).not.toBe('0 total pagecache pages');
    expect(lines[at + 1]).toBe(`${swapCached} pages in swap cache`);
  });

  test('without swap the lines print 0', () => {
    const k = machine({ swap: undefined });
    const lines = showFreeAreas(k.pageAlloc, 0, 0);
    const at = lines.findIndex((l) => l.endsWith('total pagecache pages'));
    expect(lines.slice(at + 1, at + 4)).toEqual(['0 pages in swap cache', 'Free swap  = 0kB', 'Total swap = 0kB']);
  });
});

describe('global_dirtyable_memory() counts the file LRU lists', () => {
  test('anonymous pages in the swap cache (in NR_FILE_PAGES, on the anon LRU) are not dirtyable', () => {
    const k = machine();
    const t = k.spawn('/bin/tiny', ['tiny']);
    const N = 64;
    expect(t.mmap(A, N * P, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0)).toBe(A);
    for (let i = 0; i < N; i++) t.writeBytes(A + i * P, new Uint8Array(P).fill(i + 1));
    expect(t.madvise(A, N * P, MADV_PAGEOUT)).toBe(0);
    // swap-in readahead brings the pages back into the swap cache: a read of each keeps them there, mapped
    for (let i = 0; i < N; i++) t.readBytes(A + i * P, 1);
    expect(meminfo(k, 'SwapCached')).toBeGreaterThan(0);
    const free = meminfo(k, 'MemFree') / 4;
    const file = (meminfo(k, 'Active(file)') + meminfo(k, 'Inactive(file)')) / 4;
    const reserve = totalreserve(k);
    const avail = free - Math.min(free, reserve) + file + 1;
    // dirty_ratio 20: 819 per 4096
    expect(vmstat(k, 'nr_dirty_threshold')).toBe(Math.floor((819 * avail) / 4096));
  });
});

describe('fault_dirty_shared_page() balances dirty pages', () => {
  test('a task dirtying a shared file mapping bigger than the dirty limit is held below it, like a write() writer', () => {
    // 128 MiB, a 20 MB/s disk: 204.8 us per page on the wire.
    const k = machine({ memory: '128M', swap: undefined, disk: { latencyUs: 100, mbps: 20 } });
    k.fs.mkdirs('/data');
    const t = k.spawn('/bin/tiny', ['tiny']);
    const pc = pageCache(k.vm);
    const w = writeback(k.vm);
    const fd = t.open('/data/big', O_RDWR | O_CREAT);
    const total = 64 << 20;
    const pages = total / P;
    expect(t.ftruncate(fd, total)).toBe(0);
    const m = t.mmap(0, total, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    const thresh = vmstat(k, 'nr_dirty_threshold');
    const bg = vmstat(k, 'nr_dirty_background_threshold');
    expect(pages).toBeGreaterThan(2 * thresh);
    let maxDirty = 0;
    for (let i = 0; i < pages; i++) {
      t.writeBytes(m + i * P, new Uint8Array([i & 0xff]));
      maxDirty = Math.max(maxDirty, pc.nrDirty + pc.nrWriteback);
    }
    // Each write fault dirtied one page and called balance_dirty_pages_ratelimited(): past bg_thresh it started
    // background writeback (the periodic flusher alone would wait 5 s), so the pages went to the disk as the task
    // wrote and dirty + writeback never passed thresh (without the call all 16384 pages stayed dirty).
    expect(w.wb.log.some(([, r]) => r === WB_REASON_BACKGROUND)).toBe(true);
    expect(pc.bdev.writes).toBeGreaterThan(0);
    expect(maxDirty).toBeGreaterThan(bg - 64);
    expect(maxDirty).toBeLessThanOrEqual(thresh);
    // the task's nr_dirtied was counted by the faults (folio_account_dirtied) and reset by its calls
    expect(w.taskState(t).nrDirtied).toBeLessThan(w.taskState(t).nrDirtiedPause);
  });

  test('tmpfs pages (noop bdi, no BDI_CAP_WRITEBACK) never throttle', () => {
    const k = machine({ memory: '128M', swap: undefined, disk: { latencyUs: 100, mbps: 20 } });
    const t = k.spawn('/bin/tiny', ['tiny']);
    const fd = t.open('/dev/shm/big', O_RDWR | O_CREAT);
    const total = 48 << 20;
    expect(t.ftruncate(fd, total)).toBe(0);
    const m = t.mmap(0, total, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    for (let i = 0; i < total / P; i++) t.writeBytes(m + i * P, new Uint8Array([1]));
    expect(writeback(k.vm).throttleLog.length).toBe(0);
  });
});

describe('folio_mkclean() through rmap_walk', () => {
  test('a dirty PROT_NONE PTE is cleaned by writeback too, so a store after PROT_READ|PROT_WRITE dirties the page again', () => {
    const k = machine({ swap: undefined });
    k.fs.mkdirs('/data');
    const t = k.spawn('/bin/tiny', ['tiny']);
    const fd = t.open('/data/f', O_RDWR | O_CREAT);
    expect(t.ftruncate(fd, P)).toBe(0);
    const m = t.mmap(0, P, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    t.writeBytes(m, new Uint8Array([1]));
    // change_pte_range() keeps the dirty bit of a PROT_NONE PTE; page_mkclean_one() clears it (pte_dirty || pte_write).
    expect(t.mprotect(m, P, PROT_NONE)).toBe(0);
    expect(t.fsync(fd)).toBe(0);
    expect(k.fs.readFile('/data/f')![0]).toBe(1);
    // The PTE is clean, so mprotect back does not make it writable (can_change_shared_pte_writable wants it dirty):
    // the next store write-faults and dirties the page, and fsync writes it.
    expect(t.mprotect(m, P, PROT_READ | PROT_WRITE)).toBe(0);
    t.writeBytes(m, new Uint8Array([2]));
    expect(meminfo(k, 'Dirty')).toBeGreaterThanOrEqual(4);
    expect(t.fsync(fd)).toBe(0);
    expect(k.fs.readFile('/data/f')![0]).toBe(2);
  });
});

describe('MADV_COLD deactivates', () => {
  test('active file pages mapped once move to the inactive file list (pgdeactivate); pages another process maps stay', () => {
    const k = machine({ swap: undefined });
    k.fs.mkdirs('/data');
    const N = 16;
    k.fs.writeFile('/data/f', new Uint8Array(N * P).fill(7));
    const t = k.spawn('/bin/tiny', ['tiny']);
    const fd = t.open('/data/f', O_RDWR);
    const buf = t.mmap(0, N * P, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    // two read()s of each page: mark_page_accessed() twice activates it (inactive -> referenced -> active)
    expect(t.pread(fd, buf, N * P, 0)).toBe(N * P);
    expect(t.pread(fd, buf, N * P, 0)).toBe(N * P);
    const m = t.mmap(0, N * P, PROT_READ, MAP_PRIVATE, fd, 0);
    for (let i = 0; i < N; i++) t.readBytes(m + i * P, 1);
    // a second process maps the last 4 pages too: mapcount 2, MADV_COLD leaves them
    const t2 = k.spawn('/bin/tiny', ['tiny']);
    const fd2 = t2.open('/data/f', O_RDWR);
    const m2 = t2.mmap(0, 4 * P, PROT_READ, MAP_PRIVATE, fd2, (N - 4) * P);
    for (let i = 0; i < 4; i++) t2.readBytes(m2 + i * P, 1);
    const active0 = meminfo(k, 'Active(file)');
    const inactive0 = meminfo(k, 'Inactive(file)');
    const deact0 = vmstat(k, 'pgdeactivate');
    expect(t.madvise(m, N * P, MADV_COLD)).toBe(0);
    expect(meminfo(k, 'Active(file)')).toBe(active0 - (N - 4) * 4);
    expect(meminfo(k, 'Inactive(file)')).toBe(inactive0 + (N - 4) * 4);
    expect(vmstat(k, 'pgdeactivate')).toBe(deact0 + N - 4);
  });
});

describe('MADV_PAGEOUT through reclaim_pages()', () => {
  test('clean file pages mapped once are dropped from the page cache; dirty shared ones stay (only kswapd writes file pages)', () => {
    const k = machine({ swap: undefined });
    k.fs.mkdirs('/data');
    const N = 16;
    k.fs.writeFile('/data/f', new Uint8Array(N * P).fill(9));
    const t = k.spawn('/bin/tiny', ['tiny']);
    const fd = t.open('/data/f', O_RDWR);
    const m = t.mmap(0, N * P, PROT_READ, MAP_PRIVATE, fd, 0);
    for (let i = 0; i < N; i++) t.readBytes(m + i * P, 1);
    const cached0 = meminfo(k, 'Cached');
    const rss0 = Number(/^RssFile:\s+(\d+) kB$/m.exec(k.proc.read(`/proc/${t.pid}/status`))![1]);
    expect(t.madvise(m, N * P, MADV_PAGEOUT)).toBe(0);
    // try_to_unmap() took the N PTEs, __remove_mapping() the N pages
    expect(meminfo(k, 'Cached')).toBe(cached0 - N * 4);
    expect(Number(/^RssFile:\s+(\d+) kB$/m.exec(k.proc.read(`/proc/${t.pid}/status`))![1])).toBe(rss0 - N * 4);
    // the data is read back from the file
    const maj0 = t.majFlt;
    expect(t.readBytes(m, 1)[0]).toBe(9);
    expect(t.majFlt).toBe(maj0 + 1);
    // A shared writable mapping, dirtied: the pages are dirty, reclaim_pages (not kswapd) does not write them.
    const s2 = t.mmap(0, 4 * P, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    for (let i = 0; i < 4; i++) t.writeBytes(s2 + i * P, new Uint8Array([1]));
    const cached1 = meminfo(k, 'Cached');
    expect(t.madvise(s2, 4 * P, MADV_PAGEOUT)).toBe(0);
    expect(meminfo(k, 'Cached')).toBe(cached1);
    expect(meminfo(k, 'Dirty')).toBeGreaterThanOrEqual(16);
  });
});
