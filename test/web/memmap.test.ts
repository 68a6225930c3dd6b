/**
 * The memory map's view-model: what each cell is for a given machine state,
 * and where each pfn sits on the canvas.
 */
import { describe, expect, it } from 'vitest';
import { CACHE_INDEX_MASK } from '../../src/inspect.js';
import { boot } from '../../src/kernel.js';
import { PGTY_buddy } from '../../src/memory/page.js';
import { GFP_HIGHUSER_MOVABLE, GFP_KERNEL } from '../../src/page_alloc/gfp.js';
import { MAX_NR_ZONES, NR_PAGE_ORDERS, pageblock_nr_pages } from '../../src/page_alloc/mmzone.js';
import {
  cacheColor,
  cellOfPfn,
  cellSize,
  colorOf,
  computePageStates,
  pageInfo,
  pfnAtCell,
  S_ALLOC,
  S_FREE,
  S_LARGE,
  S_PCP,
  S_RESERVED,
  S_SLAB,
  S_UNKNOWN,
  slabWhere,
  viewAt,
  viewRows,
} from '../../web/model/memmap.js';

function states(k: ReturnType<typeof boot>) {
  const nr = k.pages.nr;
  const state = new Uint8Array(nr);
  const cache = new Int32Array(nr);
  const head = new Int32Array(nr);
  computePageStates(k, state, cache, head);
  return { state, cache, head };
}

function count(state: Uint8Array, s: number): number {
  let n = 0;
  for (const x of state) if (x === s) n++;
  return n;
}

describe('page states', () => {
  it('pfn 0 is reserved, every free block is coloured by its order, and pcp pages match the pcp counts', () => {
    const k = boot({ memory: '32M', cpus: 2 });
    const { state, head } = states(k);
    expect(state[0]).toBe(S_RESERVED);
    let freeFromStates = 0;
    for (let o = 0; o < NR_PAGE_ORDERS; o++) freeFromStates += count(state, S_FREE + o);
    let freeFromZones = 0;
    for (let z = 0; z < MAX_NR_ZONES; z++) for (let o = 0; o < NR_PAGE_ORDERS; o++) freeFromZones += k.pageAlloc.zones.nrFree[z * NR_PAGE_ORDERS + o]! << o;
    expect(freeFromStates).toBe(freeFromZones);
    for (let pfn = 0; pfn < k.pages.nr; pfn++) {
      if (k.pages.pageType[pfn] !== PGTY_buddy) continue;
      const o = k.pages.order[pfn]!;
      for (let i = 0; i < 1 << o; i++) {
        expect(state[pfn + i]).toBe(S_FREE + o);
        expect(head[pfn + i]).toBe(pfn);
      }
    }
    let pcp = 0;
    for (let z = 0; z < MAX_NR_ZONES; z++) pcp += k.pageAlloc.pcpPages(z);
    expect(count(state, S_PCP)).toBe(pcp);
    expect(count(state, S_UNKNOWN)).toBe(0);
  });

  it('a kmalloc object’s page is a slab page of its cache, the whole slab one block', () => {
    const k = boot({ memory: '32M', cpus: 1 });
    const p = k.kmalloc(64, GFP_KERNEL);
    const { state, cache, head } = states(k);
    const pfn = Math.floor(p / 4096);
    const id = k.kmemCacheByName('kmalloc-64');
    expect(state[pfn]).toBe(S_SLAB);
    expect(cache[pfn]).toBe(id);
    expect(head[pfn]).toBe(pfn);
    expect(colorOf(state[pfn]!, cache[pfn]!)).toBe(cacheColor(id & CACHE_INDEX_MASK));
    // An order-3 slab (task_struct-sized objects) covers eight cells with one head.
    const c = k.kmemCacheCreate('big_obj', 4096 + 192, {});
    const q = k.kmemCacheAlloc(c, GFP_KERNEL);
    const s2 = states(k);
    const h = k.pages.compoundHead(Math.floor(q / 4096));
    const order = k.pages.order[h]!;
    expect(order).toBeGreaterThan(0);
    for (let i = 0; i < 1 << order; i++) {
      expect(s2.state[h + i]).toBe(S_SLAB);
      expect(s2.head[h + i]).toBe(h);
    }
  });

  it('alloc_pages blocks, pcp pages and large kmallocs get their own states', () => {
    const k = boot({ memory: '32M', cpus: 1 });
    const a = k.allocPages(4, GFP_HIGHUSER_MOVABLE);
    const b = k.allocPages(0, GFP_KERNEL);
    const big = k.kmalloc(20000, GFP_KERNEL);
    const { state, head } = states(k);
    for (let i = 0; i < 16; i++) {
      expect(state[a / 4096 + i]).toBe(S_ALLOC);
      expect(head[a / 4096 + i]).toBe(a / 4096);
    }
    expect(state[b / 4096]).toBe(S_ALLOC);
    expect(count(state, S_PCP)).toBe(k.pageAlloc.pcpPages(k.pageAlloc.pageZone(b / 4096)));
    for (let i = 0; i < 8; i++) expect(state[big / 4096 + i]).toBe(S_LARGE);
    // A freed order-0 page waits on the CPU's pcp list instead of merging.
    k.freePages(b, 0);
    const after = states(k);
    expect(after.state[b / 4096]).toBe(S_PCP);
    expect(count(after.state, S_PCP)).toBe(k.pageAlloc.pcpPages(k.pageAlloc.pageZone(b / 4096)));
  });

  it('colours differ between states and are stable per cache', () => {
    const seen = new Set<number>();
    for (const s of [S_RESERVED, S_PCP, S_LARGE, S_ALLOC]) seen.add(colorOf(s, -1));
    for (let o = 0; o <= 10; o++) seen.add(colorOf(S_FREE + o, -1));
    expect(seen.size).toBe(15);
    expect(cacheColor(7)).toBe(cacheColor(7));
    expect(cacheColor(7)).not.toBe(cacheColor(8));
  });
});

describe('layout', () => {
  it('the whole machine is one or two rows per pageblock; zoom levels show 32, 4 and 1 pageblocks', () => {
    const nr = 65536;
    const v0 = viewAt(nr, 0, 0);
    expect(v0).toEqual({ start: 0, count: nr, cols: 256 });
    expect(viewRows(v0)).toBe(256);
    expect(viewAt(4 * 65536, 0, 0).cols).toBe(512);
    const v3 = viewAt(nr, 3, 12345);
    expect(v3.start).toBe(12345 - (12345 % pageblock_nr_pages));
    expect(v3.count).toBe(pageblock_nr_pages);
    expect(v3.cols).toBe(32);
    expect(viewAt(nr, 1, 70000).start + viewAt(nr, 1, 70000).count).toBe(nr);
    expect(viewAt(nr, 2, 5000).count).toBe(4 * pageblock_nr_pages);
  });

  it('cells and pfns map both ways', () => {
    const v = viewAt(65536, 2, 9000);
    for (const pfn of [v.start, v.start + 1, v.start + 63, v.start + 64, v.start + v.count - 1]) {
      const c = cellOfPfn(v, pfn)!;
      expect(pfnAtCell(v, c.col, c.row)).toBe(pfn);
    }
    expect(cellOfPfn(v, v.start - 1)).toBeNull();
    expect(pfnAtCell(v, v.cols, 0)).toBe(-1);
    expect(cellSize(v, 512, 512)).toEqual({ w: 8, h: 8 });
    expect(cellSize(viewAt(16384, 0, 0), 512, 512)).toEqual({ w: 2, h: 8 });
  });
});

describe('struct page box', () => {
  it('names the slab cache, its counters and which list the slab is on', () => {
    const k = boot({ memory: '32M', cpus: 2 });
    const p = k.onCpu(1, () => k.kmalloc(100, GFP_KERNEL));
    const pfn = Math.floor(p / 4096);
    const { state } = states(k);
    const info = pageInfo(k, pfn, state[pfn]!);
    const f = Object.fromEntries(info.fields);
    expect(f.slab_cache).toBe('kmalloc-128');
    expect(f.frozen).toBe('1');
    expect(f['slab list']).toBe("CPU1's cpu slab");
    expect(info.cache).toBe(k.kmemCacheByName('kmalloc-128'));
    expect(slabWhere(k, info.cache, pfn)).toBe("CPU1's cpu slab");
    const free = pageInfo(k, k.pages.nr - 1, state[k.pages.nr - 1]!);
    expect(free.state).toMatch(/^free, order \d+$/);
    expect(Object.fromEntries(free.fields).page_type).toBe('-');
  });
});
