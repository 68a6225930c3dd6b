/** Recount the LRU lists by walking them (test helper for the LRU and reclaim tests). */
import { expect } from 'vitest';
import type { Kernel } from '../../src/kernel.js';
import { PG } from '../../src/memory/page.js';
import { MAX_NR_ZONES } from '../../src/page_alloc/mmzone.js';
import { folioLruList, NR_LRU_LISTS } from '../../src/vm/mm_inline.js';

/**
 * Walk the five lists head to tail: the links agree both ways, every page
 * on a list has PG_lru and the flags that name that list, and the per-zone
 * counts are exactly the pages found; no page outside the lists has PG_lru.
 * Returns the pages per list.
 */
export function recountLru(k: Kernel): number[] {
  const lv = k.vm.lruvec;
  const p = k.pages;
  const counts = new Float64Array(MAX_NR_ZONES * NR_LRU_LISTS);
  const perList: number[] = [];
  let listed = 0;
  for (let lru = 0; lru < NR_LRU_LISTS; lru++) {
    let prev = -1;
    let n = 0;
    for (let pfn = lv.head[lru]!; pfn >= 0; pfn = p.next[pfn]!) {
      if (p.prev[pfn] !== prev) throw new Error(`lru ${lru}: pfn ${pfn} prev ${p.prev[pfn]} != ${prev}`);
      if ((p.flags[pfn]! & (1 << PG.lru)) === 0) throw new Error(`lru ${lru}: pfn ${pfn} without PG_lru`);
      if (folioLruList(p.flags[pfn]!) !== lru) throw new Error(`lru ${lru}: pfn ${pfn} flags name list ${folioLruList(p.flags[pfn]!)}`);
      if (p.refcount[pfn]! <= 0) throw new Error(`lru ${lru}: pfn ${pfn} is free`);
      counts[k.pageAlloc.pageZone(pfn) * NR_LRU_LISTS + lru]!++;
      prev = pfn;
      n++;
      if (n > p.nr) throw new Error(`lru ${lru}: a loop`);
    }
    expect(lv.tail[lru]).toBe(prev);
    perList.push(n);
    listed += n;
  }
  expect(Array.from(lv.nrZone)).toEqual(Array.from(counts));
  let withLru = 0;
  for (let pfn = 0; pfn < p.nr; pfn++) if ((p.flags[pfn]! & (1 << PG.lru)) !== 0) withLru++;
  expect(withLru).toBe(listed);
  return perList;
}

/** /proc/meminfo as name -> kB */
export function meminfo(k: Kernel): Record<string, number> {
  const out: Record<string, number> = {};
  for (const l of k.proc.read('/proc/meminfo').trimEnd().split('\n')) {
    const m = /^([^:]+):\s+(\d+)/.exec(l);
    if (m) out[m[1]!] = Number(m[2]);
  }
  return out;
}

/** /proc/vmstat as name -> value */
export function vmstat(k: Kernel): Record<string, number> {
  const out: Record<string, number> = {};
  for (const l of k.proc.read('/proc/vmstat').trimEnd().split('\n')) {
    const [n, v] = l.split(' ');
    out[n!] = Number(v);
  }
  return out;
}
