/**
 * Samples over time for the charts: slab memory per cache, free pages per
 * order, and the allocation rate, taken as operations run. The x axis is the
 * operation count, so a sample belongs to a point of the recorded history
 * and stays valid when the view travels back and forth in time.
 */
import { type Kernel, NR_PAGE_ORDERS } from '../../src/index.js';

/** Most samples kept; older ones are thinned out by half when reached. */
export const MAX_SAMPLES = 2000;

export class Timeline {
  /** Operation count of each sample. */
  x: number[] = [];
  /** Pages in free blocks of each order (all zones). */
  freeByOrder: number[][] = Array.from({ length: NR_PAGE_ORDERS }, () => []);
  /** Slab pages per cache name. */
  slabPages = new Map<string, number[]>();
  /** Per 100 operations since the previous sample. */
  objAllocs: number[] = [];
  objFrees: number[] = [];
  pageAllocs: number[] = [];
  pageFrees: number[] = [];
  private prev = { x: 0, allocs: 0, frees: 0, pgalloc: 0, pgfree: 0 };

  /** Take a sample at operation count `pos` (ignored unless past the last one). */
  sample(k: Kernel, pos: number): boolean {
    const last = this.x.length ? this.x[this.x.length - 1]! : -1;
    if (pos <= last) return false;
    const n = this.x.length;
    this.x.push(pos);
    const ins = k.inspect;
    const pc = ins.pageAllocCounters();
    for (let o = 0; o < NR_PAGE_ORDERS; o++) this.freeByOrder[o]!.push(pc.nrFree[o]! << o);
    let allocs = 0;
    let frees = 0;
    const seen = new Set<string>();
    for (const id of ins.cacheIds()) {
      const c = ins.cacheCounters(id);
      allocs += c.allocs;
      frees += c.frees;
      const pages = c.pages;
      const name = ins.cacheName(id) ?? String(id);
      let s = this.slabPages.get(name);
      if (s === undefined) {
        if (pages === 0) continue;
        s = new Array<number>(n).fill(0);
        this.slabPages.set(name, s);
      }
      s.push(pages);
      seen.add(name);
    }
    for (const [name, s] of this.slabPages) if (!seen.has(name)) s.push(0);
    const pgalloc = pc.pgalloc;
    const pgfree = pc.pgfree;
    const dx = Math.max(1, pos - this.prev.x);
    const per = 100 / dx;
    this.objAllocs.push(n === 0 ? 0 : (allocs - this.prev.allocs) * per);
    this.objFrees.push(n === 0 ? 0 : (frees - this.prev.frees) * per);
    this.pageAllocs.push(n === 0 ? 0 : (pgalloc - this.prev.pgalloc) * per);
    this.pageFrees.push(n === 0 ? 0 : (pgfree - this.prev.pgfree) * per);
    this.prev = { x: pos, allocs, frees, pgalloc, pgfree };
    if (this.x.length > MAX_SAMPLES) this.thin();
    return true;
  }

  /** Keep every other sample (the newest always stays). */
  private thin(): void {
    const keep = (a: number[]) => a.filter((_, i) => i % 2 === 1 || i === a.length - 1);
    this.x = keep(this.x);
    this.freeByOrder = this.freeByOrder.map(keep);
    for (const [name, s] of this.slabPages) this.slabPages.set(name, keep(s));
    this.objAllocs = keep(this.objAllocs);
    this.objFrees = keep(this.objFrees);
    this.pageAllocs = keep(this.pageAllocs);
    this.pageFrees = keep(this.pageFrees);
  }

  /** The n caches with the most slab pages at any sample, biggest first. */
  topCaches(n: number): string[] {
    return [...this.slabPages.entries()]
      .map(([name, s]) => [name, Math.max(0, ...s)] as const)
      .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
      .slice(0, n)
      .map(([name]) => name);
  }

  /** The sum of the other caches' slab pages per sample. */
  otherCaches(top: readonly string[]): number[] {
    const out = new Array<number>(this.x.length).fill(0);
    for (const [name, s] of this.slabPages) {
      if (top.includes(name)) continue;
      for (let i = 0; i < s.length; i++) out[i]! += s[i]!;
    }
    return out;
  }
}
