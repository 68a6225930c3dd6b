/** Recount the multi-gen LRU by walking its lists (test helper for the lru_gen tests). */
import { expect } from 'vitest';
import type { Kernel } from '../../src/kernel.js';
import { PG } from '../../src/memory/page.js';
import { MAX_NR_ZONES } from '../../src/page_alloc/mmzone.js';
import { folioLruGen, lruGenFromSeq, lruGenOf, MAX_NR_GENS, MIN_NR_GENS } from '../../src/vm/lru_gen.js';
import { folioIsFileLru, folioLruList, LRU_UNEVICTABLE, NR_LRU_LISTS } from '../../src/vm/mm_inline.js';

/**
 * Walk every generation list and the classic lists: the links agree both
 * ways, every folio has PG_lru, no PG_active, a generation within
 * min_seq[type]..max_seq of its own type and zone; nr_pages is exactly the
 * folios whose flags name each generation (a list may hold folios aging
 * promoted, as the kernel's lazily sorted lists do); the node's
 * active/inactive counts are the two youngest generations and the rest;
 * while enabled the classic lists hold only unevictable folios; no page
 * off the lists has PG_lru. Returns the pages per classic LRU index
 * (inactive/active anon, inactive/active file, unevictable), as
 * /proc/meminfo reports them.
 */
export function recountLruGen(k: Kernel): number[] {
  const g = lruGenOf(k.vm);
  const lv = k.vm.lruvec;
  const p = k.pages;
  const nr = new Float64Array(g.nrPages.length);
  const counts = new Float64Array(MAX_NR_ZONES * NR_LRU_LISTS);
  const perList = [0, 0, 0, 0, 0];
  let listed = 0;
  for (let type = 0; type < 2; type++) {
    expect(g.maxSeq - g.minSeq[type]! + 1).toBeGreaterThanOrEqual(MIN_NR_GENS);
    expect(g.maxSeq - g.minSeq[type]! + 1).toBeLessThanOrEqual(MAX_NR_GENS);
  }
  for (let l = 0; l < g.head.length; l++) {
    const zone = l % MAX_NR_ZONES;
    const type = Math.floor(l / MAX_NR_ZONES) % 2;
    let prev = -1;
    let n = 0;
    for (let pfn = g.head[l]!; pfn >= 0; pfn = p.next[pfn]!) {
      const f = p.flags[pfn]!;
      if (p.prev[pfn] !== prev) throw new Error(`list ${l}: pfn ${pfn} prev ${p.prev[pfn]} != ${prev}`);
      if ((f & (1 << PG.lru)) === 0) throw new Error(`list ${l}: pfn ${pfn} without PG_lru`);
      if ((f & (1 << PG.active)) !== 0) throw new Error(`list ${l}: pfn ${pfn} with PG_active`);
      if ((folioIsFileLru(f) ? 1 : 0) !== type) throw new Error(`list ${l}: pfn ${pfn} of the other type`);
      if (k.pageAlloc.pageZone(pfn) !== zone) throw new Error(`list ${l}: pfn ${pfn} of another zone`);
      if (g.listOf[pfn] !== l + 1) throw new Error(`list ${l}: pfn ${pfn} listOf ${g.listOf[pfn]}`);
      if (p.refcount[pfn]! <= 0) throw new Error(`list ${l}: pfn ${pfn} is free`);
      const gen = folioLruGen(f);
      let live = false;
      for (let seq = g.minSeq[type]!; seq <= g.maxSeq; seq++) if (lruGenFromSeq(seq) === gen) live = true;
      if (!live) throw new Error(`list ${l}: pfn ${pfn} in generation ${gen}, not between min_seq ${g.minSeq[type]} and max_seq ${g.maxSeq}`);
      nr[(gen * 2 + type) * MAX_NR_ZONES + zone]!++;
      const active = gen === lruGenFromSeq(g.maxSeq) || gen === lruGenFromSeq(g.maxSeq - 1);
      const lru = type * 2 + (active ? 1 : 0);
      counts[zone * NR_LRU_LISTS + lru]!++;
      perList[lru]!++;
      prev = pfn;
      n++;
      if (n > p.nr) throw new Error(`list ${l}: a loop`);
    }
    expect(g.tail[l]).toBe(prev);
    listed += n;
  }
  expect(Array.from(g.nrPages)).toEqual(Array.from(nr));
  for (let lru = 0; lru < NR_LRU_LISTS; lru++) {
    let n = 0;
    let prev = -1;
    for (let pfn = lv.head[lru]!; pfn >= 0; pfn = p.next[pfn]!) {
      if (p.prev[pfn] !== prev) throw new Error(`classic lru ${lru}: pfn ${pfn} prev ${p.prev[pfn]} != ${prev}`);
      if (folioLruList(p.flags[pfn]!) !== lru) throw new Error(`classic lru ${lru}: pfn ${pfn} flags name list ${folioLruList(p.flags[pfn]!)}`);
      if (folioLruGen(p.flags[pfn]!) >= 0) throw new Error(`classic lru ${lru}: pfn ${pfn} has a generation`);
      counts[k.pageAlloc.pageZone(pfn) * NR_LRU_LISTS + lru]!++;
      prev = pfn;
      n++;
    }
    if (lv.gen !== null && lru !== LRU_UNEVICTABLE) expect(n).toBe(0);
    perList[lru]! += n;
    listed += n;
  }
  expect(Array.from(lv.nrZone)).toEqual(Array.from(counts));
  let withLru = 0;
  for (let pfn = 0; pfn < p.nr; pfn++) if ((p.flags[pfn]! & (1 << PG.lru)) !== 0) withLru++;
  expect(withLru).toBe(listed);
  return perList;
}

/** /sys/kernel/debug/lru_gen parsed: seq -> [anon pages, file pages] */
export function debugfsGens(k: Kernel): Map<number, [number, number]> {
  const text = k.proc.read('/sys/kernel/debug/lru_gen');
  expect(text.endsWith('\n')).toBe(true);
  const lines = text.slice(0, -1).split('\n');
  expect(lines[0]).toBe('memcg     1 /');
  expect(lines[1]).toBe(' node     0');
  const out = new Map<number, [number, number]>();
  for (const l of lines.slice(2)) {
    const m = /^ {1,}(\d+) +(\d+) +(\d+) {2,}(\d+) $/.exec(l);
    if (m === null) throw new Error(`bad generation line ${JSON.stringify(l)}`);
    out.set(Number(m[1]), [Number(m[3]), Number(m[4])]);
  }
  return out;
}
