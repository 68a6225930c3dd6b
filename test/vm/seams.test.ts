/**
 * Seams between reclaim, swap, writeback and file mappings (issue 14).
 * Expected values are worked by hand from 6.18's rules, written beside each test.
 */
import { describe, expect, test } from 'vitest';
import { boot, type Kernel } from '../../src/kernel.js';
import { showFreeAreas } from '../../src/page_alloc/show_mem.js';
import { MADV_PAGEOUT, MAP_ANONYMOUS, MAP_FIXED, MAP_PRIVATE, PROT_READ, PROT_WRITE } from '../../src/vm/mman.js';
import { tinyElf } from './helpers.js';

const P = 4096;
const A = 0x10000000;

function machine(opts: object = {}): Kernel {
  const k = boot({ memory: '64M', cpus: 2, seed: 1, aslr: 0, swap: '16M', ...opts });
  k.fs.writeFile('/bin/tiny', tinyElf());
  return k;
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
