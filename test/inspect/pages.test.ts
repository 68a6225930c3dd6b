/**
 * k.inspect's page-frame, buddy and page allocator snapshots: every pfn's
 * state in one call, a struct page, the pcp list a freed page sits on, the
 * free lists as /proc/buddyinfo prints them, and the vm event counters.
 *
 * The rules used: alloc_pages(order) hands out a block whose head carries
 * the order and a refcount; a freed order-0 page of a GFP_KERNEL request
 * goes to the freeing CPU's pcp list for MIGRATE_UNMOVABLE (free_unref_page),
 * not back to the buddy free lists; pgalloc counts 1 << order pages per
 * allocation; pages on pcp lists are not in NR_FREE_PAGES.
 */
import { describe, expect, it } from 'vitest';
import { boot, GFP_KERNEL, MIGRATE_UNMOVABLE, NR_PAGE_ORDERS } from '../../src/index.js';
import { PAGE_ALLOCATED, PAGE_FREE, PAGE_LARGE_KMALLOC, PAGE_PCP, PAGE_RESERVED, PAGE_SLAB, pageblock_nr_pages } from '../../src/inspect.js';

function vmstat(k: ReturnType<typeof boot>, prefix: string): number {
  return k.proc
    .read('/proc/vmstat')
    .split('\n')
    .filter((l) => l.startsWith(prefix))
    .reduce((n, l) => n + Number(l.split(' ')[1]), 0);
}

describe('k.inspect: page frames', () => {
  it('pageStates() gives every pfn a state, its block head and its slab cache', () => {
    const k = boot({ memory: '32M', cpus: 2 });
    const pages = k.allocPages(3, GFP_KERNEL);
    const obj = k.kmalloc(64, GFP_KERNEL);
    const big = k.kmalloc(20000, GFP_KERNEL);
    const ps = k.inspect.pageStates();
    expect(ps.state).toHaveLength(k.inspect.nrPages);
    expect(ps.cache).toHaveLength(k.inspect.nrPages);
    expect(ps.head).toHaveLength(k.inspect.nrPages);
    const pfn = pages / 4096;
    for (let i = 0; i < 8; i++) {
      expect(ps.state[pfn + i]).toBe(PAGE_ALLOCATED);
      expect(ps.head[pfn + i]).toBe(pfn);
    }
    const slab = Math.floor(obj / 4096);
    expect(ps.state[slab]).toBe(PAGE_SLAB);
    expect(ps.cache[slab]).toBe(k.kmemCacheByName('kmalloc-64'));
    expect(ps.state[big / 4096]).toBe(PAGE_LARGE_KMALLOC);
    expect(ps.cache[pfn]).toBe(-1);
    expect(ps.state[0]).toBe(PAGE_RESERVED);
    // Free pages in buddy blocks: exactly nr_free per order, shifted by the order.
    const areas = k.inspect.freeAreas();
    for (let o = 0; o < NR_PAGE_ORDERS; o++) {
      const cells = ps.state.filter((s) => s === PAGE_FREE + o).length;
      expect(cells).toBe(areas.reduce((n, z) => n + (z.nrFree[o]! << o), 0));
    }
    expect(ps.state.filter((s) => s === PAGE_PCP).length).toBe(areas.reduce((n, z) => n + z.pcpPages, 0));
  });

  it('pageStates(into) fills the caller’s arrays and returns them', () => {
    const k = boot({ memory: '16M', cpus: 1 });
    const nr = k.inspect.nrPages;
    const into = { state: new Uint8Array(nr), cache: new Int32Array(nr), head: new Int32Array(nr) };
    const out = k.inspect.pageStates(into);
    expect(out).toBe(into);
    expect(out.state).toEqual(k.inspect.pageStates().state);
    expect(() => k.inspect.pageStates({ state: new Uint8Array(1), cache: new Int32Array(1), head: new Int32Array(1) })).toThrow(RangeError);
  });

  it('a freed order-0 GFP_KERNEL page sits on the freeing CPU’s unmovable pcp list', () => {
    const k = boot({ memory: '32M', cpus: 2 });
    const a = k.onCpu(1, () => k.allocPages(0, GFP_KERNEL));
    const pfn = a / 4096;
    expect(k.inspect.pcpPlace(pfn)).toBeNull();
    k.onCpu(1, () => k.freePages(a, 0));
    expect(k.inspect.pcpPlace(pfn)).toEqual({ cpu: 1, order: 0, mt: MIGRATE_UNMOVABLE });
    expect(k.inspect.pageStates().state[pfn]).toBe(PAGE_PCP);
  });

  it('structPage() shows a block’s head, a compound page’s tails, the zone and pageblock', () => {
    const k = boot({ memory: '32M', cpus: 1 });
    const a = k.allocPages(2, GFP_KERNEL);
    const pfn = a / 4096;
    const head = k.inspect.structPage(pfn);
    expect(head).toMatchObject({ pfn, order: 2, refcount: 1, compoundHead: -1, slab: null, largeKmallocSize: 0 });
    expect(k.inspect.structPage(pfn).zone).toBe(k.inspect.zones().find((z) => pfn >= z.startPfn && pfn < z.startPfn + z.spanned)!.zone);
    expect(head.migratetype).toBe(k.inspect.pageblockMigratetype(pfn));
    expect(k.inspect.pageblockMigratetypes()[Math.floor(pfn / pageblock_nr_pages)]).toBe(head.migratetype);
    const big = k.kmalloc(20000, GFP_KERNEL);
    // A large kmalloc is a compound page (__GFP_COMP): PG_head on the head, compound_head on each tail.
    const bh = k.inspect.structPage(big / 4096);
    expect(bh).toMatchObject({ isHead: true, order: 3, compoundHead: -1, largeKmallocSize: 20000 });
    expect(k.inspect.structPage(big / 4096 + 7)).toMatchObject({ isHead: false, compoundHead: big / 4096, largeKmallocSize: 20000 });
    expect(() => k.inspect.structPage(k.inspect.nrPages)).toThrow(RangeError);
  });
});

describe('k.inspect: the buddy allocator', () => {
  it('freeAreas() agrees with /proc/buddyinfo, and its free lists sum to nr_free', () => {
    const k = boot({ memory: '64M', cpus: 2 });
    for (let i = 0; i < 50; i++) k.allocPages(i % 4, GFP_KERNEL);
    const areas = k.inspect.freeAreas();
    const lines = k.proc
      .read('/proc/buddyinfo')
      .split('\n')
      .filter((l) => l !== '');
    expect(areas.map((z) => z.name)).toEqual(lines.map((l) => l.split(/\s+/)[3]));
    for (const [i, z] of areas.entries()) {
      expect(z.nrFree).toEqual(lines[i]!.trim().split(/\s+/).slice(4).map(Number));
      for (let o = 0; o < NR_PAGE_ORDERS; o++) expect(z.free.reduce((n, row) => n + row[o]!, 0)).toBe(z.nrFree[o]);
      expect(z.freePages).toBe(z.nrFree.reduce((n, c, o) => n + (c << o), 0));
      expect(z.wmark.min).toBeLessThan(z.wmark.low);
      expect(z.wmark.low).toBeLessThan(z.wmark.high);
    }
  });

  it('pageAllocCounters(): pgalloc counts 1 << order pages, and agrees with /proc/vmstat', () => {
    const k = boot({ memory: '32M', cpus: 1 });
    const before = k.inspect.pageAllocCounters();
    const a = k.allocPages(3, GFP_KERNEL);
    const mid = k.inspect.pageAllocCounters();
    expect(mid.pgalloc - before.pgalloc).toBe(8);
    k.freePages(a, 3);
    const after = k.inspect.pageAllocCounters();
    expect(after.pgfree - mid.pgfree).toBe(8);
    expect(after.pgalloc).toBe(vmstat(k, 'pgalloc_'));
    expect(after.pgfree).toBe(vmstat(k, 'pgfree '));
    expect(after.freePages).toBe(vmstat(k, 'nr_free_pages '));
    expect(after.nrFree).toHaveLength(NR_PAGE_ORDERS);
  });
});
