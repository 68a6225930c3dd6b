/**
 * Model-based test of SLAB's object paths (src/slab/slab.ts) on two CPUs:
 * random cache alloc / free, shrink and reaps on five caches (on-slab
 * kmalloc-32, OBJFREELIST kmalloc-64, an OFF_SLAB cache with a
 * constructor, an order-1 cache with colours, a SLAB_RECLAIM_ACCOUNT one).
 * Every FULL_EVERY steps, at the end, and after every shrink and reap,
 * recounted from the slabs:
 *   - every slab is on the list its fill says (free / partial / full), the
 *     counters (total_slabs, free_slabs, free_objects) match the lists;
 *   - each slab's index stack from `active` up holds distinct indices, and
 *     every object of the slab is exactly one of: free in the slab, in a
 *     head array or the shared array, or live in the model;
 *   - an OBJFREELIST slab's array sits in its free object at the stack's
 *     bottom, and a full one has none;
 *   - head arrays within their limits, the shared array within shared * batchcount;
 *   - slab pages counted per cache add up to NR_SLAB_*.
 * Live objects never overlap and keep their fill patterns; at the end
 * everything is freed and shrunk, and every page is back.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { boot, type Kernel } from '../../src/kernel.js';
import { PGTY_slab } from '../../src/memory/page.js';
import { GFP_KERNEL } from '../../src/page_alloc/gfp.js';
import { MAX_NR_ZONES, Z_FREE } from '../../src/page_alloc/mmzone.js';
import { SLAB_MAX_ORDER_HI } from '../../src/slab/calculate.js';
import { SLABS_FREE, SLABS_FULL, SLABS_PARTIAL, SlabAllocator } from '../../src/slab/slab.js';
import { SLAB_HWCACHE_ALIGN, SLAB_NOLEAKTRACE, SLAB_RECLAIM_ACCOUNT, SLAB_TYPESAFE_BY_RCU } from '../../src/slub/slab_flags.js';

const PAGE = 4096;
const CPUS = 2;
/** Steps between full recounts (every step also checks the head arrays' bounds). */
const FULL_EVERY = 8;
const bits = { hwcacheAlign: SLAB_HWCACHE_ALIGN, typesafeByRcu: SLAB_TYPESAFE_BY_RCU, reclaimAccount: SLAB_RECLAIM_ACCOUNT, noLeakTrace: SLAB_NOLEAKTRACE };
const _PGTY_slab = PGTY_slab;

interface Obj {
  addr: number;
  cache: number;
  pat: number;
}

class Sys {
  readonly k: Kernel;
  readonly s: SlabAllocator;
  /** The caches under test, as SLAB ids. */
  readonly ids: number[];
  readonly live: Obj[] = [];
  steps = 0;
  private seq = 0;

  constructor(k: Kernel) {
    this.k = k;
    this.s = new SlabAllocator(k.pageAlloc, k.pages, k.phys, CPUS, bits, SLAB_MAX_ORDER_HI);
    this.s.initKmalloc();
    this.ids = [
      this.s.kmallocSlab(32),
      this.s.kmallocSlab(64),
      this.s.createCache('ctor512', 512, 0, 0, (a) => k.phys.u8.fill(0x5a, a, a + 8)),
      this.s.createCache('big3000', 3000, 0, 0, null),
      this.s.createCache('rcl200', 200, 0, SLAB_RECLAIM_ACCOUNT, null),
    ];
    const g = this.ids.map((id) => this.s.caches[id]!.g);
    expect(g.map((x) => x.placement)).toEqual(['on_slab', 'objfreelist', 'off_slab', 'objfreelist', 'objfreelist']);
  }

  size(ci: number): number {
    return this.s.caches[this.ids[ci]!]!.objectSize;
  }

  alloc(ci: number, cpu: number): void {
    const id = this.ids[ci]!;
    const a = this.s.cacheAlloc(id, GFP_KERNEL, cpu);
    expect(a).toBeGreaterThan(0);
    const n = this.size(ci);
    for (const o of this.live) {
      if (a < o.addr + this.size(o.cache) && o.addr < a + n) throw new Error(`0x${a.toString(16)} overlaps 0x${o.addr.toString(16)}`);
    }
    const pat = (this.seq++ * 29 + 3) & 0xff;
    this.k.phys.u8.fill(pat, a, a + n);
    this.live.push({ addr: a, cache: ci, pat });
  }

  free(i: number, cpu: number): void {
    const o = this.live[i]!;
    const u8 = this.k.phys.u8;
    for (let a = o.addr; a < o.addr + this.size(o.cache); a++) {
      if (u8[a] !== o.pat) throw new Error(`object 0x${o.addr.toString(16)} byte ${a - o.addr}: ${u8[a]}, expected ${o.pat}`);
    }
    this.live[i] = this.live[this.live.length - 1]!;
    this.live.pop();
    expect(this.s.cacheFree(this.ids[o.cache]!, o.addr, cpu)).toBe(true);
  }

  /** The invariants of the header comment, for every cache of the allocator: all of them every FULL_EVERY steps and when asked, else the head arrays' bounds. */
  check(full = false): void {
    this.steps++;
    if (!full && this.steps % FULL_EVERY !== 0) {
      for (const c of this.s.caches)
        for (let cpu = 0; cpu < CPUS; cpu++) if (c.acAvail[cpu]! > c.limit) throw new Error(`${c.name}: cpu ${cpu} avail ${c.acAvail[cpu]}`);
      return;
    }
    const s = this.s;
    const p = this.k.pages;
    const u8 = this.k.phys.u8;
    const liveSet = new Set(this.live.map((o) => o.addr));
    // OFF_SLAB index arrays are objects of a kmalloc cache, live as long as their slab.
    for (const c of s.caches) {
      if (c.g.placement !== 'off_slab') continue;
      for (const l of [SLABS_PARTIAL, SLABS_FULL, SLABS_FREE]) {
        const head = c.heads[l]!;
        if (head < 0) continue;
        let pfn = head;
        do {
          liveSet.add(p.slabNext[pfn]! >>> 0);
          pfn = p.next[pfn]!;
        } while (pfn !== head);
      }
    }
    let pagesR = 0;
    let pagesU = 0;
    for (const c of s.caches) {
      const cached = new Set<number>();
      for (let cpu = 0; cpu < CPUS; cpu++) {
        const avail = c.acAvail[cpu]!;
        if (avail < 0 || avail > c.limit) throw new Error(`${c.name}: cpu ${cpu} avail ${avail}`);
        for (let i = 0; i < avail; i++) cached.add(c.acEntry[cpu * c.limit + i]!);
      }
      if (c.sharedAvail > c.sharedEntry.length) throw new Error(`${c.name}: shared avail ${c.sharedAvail}`);
      for (let i = 0; i < c.sharedAvail; i++) cached.add(c.sharedEntry[i]!);
      let total = 0;
      let freeSlabs = 0;
      let freeObjects = 0;
      for (const l of [SLABS_PARTIAL, SLABS_FULL, SLABS_FREE]) {
        const head = c.heads[l]!;
        if (head < 0) continue;
        let pfn = head;
        do {
          total++;
          if (l === SLABS_FREE) freeSlabs++;
          if (p.pageType[pfn] !== _PGTY_slab || p.slabCache[pfn] !== c.id) throw new Error(`${c.name}: pfn ${pfn} on a list but not its slab`);
          if (s.listOf(c, pfn) !== l) throw new Error(`${c.name}: pfn ${pfn} (active ${p.slabCounters[pfn]}) on list ${l}`);
          const active = p.slabCounters[pfn]!;
          freeObjects += c.g.num - active;
          const freelist = p.slabNext[pfn]! >>> 0;
          const sMem = pfn * PAGE + p.index[pfn]!;
          const isFree = new Uint8Array(c.g.num);
          if (active < c.g.num) {
            for (let i = active; i < c.g.num; i++) {
              const idx = u8[freelist + i]!;
              if (idx >= c.g.num || isFree[idx]) throw new Error(`${c.name}: pfn ${pfn} index stack entry ${i} = ${idx}`);
              isFree[idx] = 1;
            }
            if (c.g.placement === 'objfreelist') expect(freelist).toBe(sMem + c.g.size * u8[freelist + c.g.num - 1]!);
          } else if (c.g.placement === 'objfreelist') expect(freelist).toBe(0);
          for (let i = 0; i < c.g.num; i++) {
            const obj = sMem + c.g.size * i;
            const n = isFree[i]! + (cached.has(obj) ? 1 : 0) + (liveSet.has(obj) ? 1 : 0);
            if (n !== 1) throw new Error(`${c.name}: object ${i} of pfn ${pfn} is in ${n} places`);
          }
          pfn = p.next[pfn]!;
        } while (pfn !== head);
      }
      if (total !== c.totalSlabs || freeSlabs !== c.freeSlabs || freeObjects !== c.freeObjects) {
        throw new Error(
          `${c.name}: lists hold ${total} slabs, ${freeSlabs} free, ${freeObjects} free objects; counters ${c.totalSlabs}, ${c.freeSlabs}, ${c.freeObjects}`,
        );
      }
      if (c.flags & SLAB_RECLAIM_ACCOUNT) pagesR += total * 2 ** c.g.gfporder;
      else pagesU += total * 2 ** c.g.gfporder;
    }
    expect([s.slabPagesReclaimable, s.slabPagesUnreclaimable]).toEqual([pagesR, pagesU]);
  }
}

type Cmd = fc.Command<object, Sys>;

class Alloc implements Cmd {
  constructor(
    readonly ci: number,
    readonly cpu: number,
  ) {}
  check = () => true;
  run(_: object, s: Sys): void {
    s.alloc(this.ci, this.cpu);
    s.check();
  }
  toString = () => `alloc(${this.ci}, cpu ${this.cpu})`;
}

class Free implements Cmd {
  constructor(
    readonly r: number,
    readonly cpu: number,
  ) {}
  check = () => true;
  run(_: object, s: Sys): void {
    if (s.live.length === 0) return;
    s.free(this.r % s.live.length, this.cpu);
    s.check();
  }
  toString = () => `free(${this.r}, cpu ${this.cpu})`;
}

class Reap implements Cmd {
  constructor(
    readonly cpu: number,
    readonly nodeDue: boolean,
  ) {}
  check = () => true;
  run(_: object, s: Sys): void {
    for (const c of s.s.caches) s.s.reapCache(c.id, this.cpu, this.nodeDue);
    s.check(true);
  }
  toString = () => `reap(cpu ${this.cpu}, node ${this.nodeDue})`;
}

class Shrink implements Cmd {
  constructor(readonly ci: number) {}
  check = () => true;
  run(_: object, s: Sys): void {
    s.s.shrink(s.ids[this.ci]!, 0);
    s.check(true);
  }
  toString = () => `shrink(${this.ci})`;
}

const cpu = fc.integer({ min: 0, max: CPUS - 1 });
const ci = fc.integer({ min: 0, max: 4 });
const pick = fc.nat({ max: 1 << 20 });
const commands = [
  fc.tuple(ci, cpu).map(([c, p]) => new Alloc(c, p)),
  fc.tuple(ci, cpu).map(([c, p]) => new Alloc(c, p)),
  fc.tuple(ci, cpu).map(([c, p]) => new Alloc(c, p)),
  fc.tuple(pick, cpu).map(([r, p]) => new Free(r, p)),
  fc.tuple(pick, cpu).map(([r, p]) => new Free(r, p)),
  fc.tuple(pick, cpu).map(([r, p]) => new Free(r, p)),
  fc.tuple(cpu, fc.boolean()).map(([p, d]) => new Reap(p, d)),
  ci.map((c) => new Shrink(c)),
];

function freePages(k: Kernel): number {
  k.drainAllPages();
  let n = 0;
  for (let z = 0; z < MAX_NR_ZONES; z++) n += k.pageAlloc.zones.get(z, Z_FREE);
  return n;
}

describe('SLAB object paths, model', () => {
  it('keeps the lists, counters, index stacks and head arrays consistent, and returns every page', () => {
    let total = 0;
    fc.assert(
      fc.property(fc.commands(commands, { maxCommands: 3400, size: 'max' }), (cmds) => {
        const k = boot({ memory: '32M', cpus: CPUS });
        const baseline = freePages(k);
        const sys = new Sys(k);
        sys.check(true);
        fc.modelRun(() => ({ model: {}, real: sys }), cmds);
        total += sys.steps;
        while (sys.live.length > 0) sys.free(sys.live.length - 1, sys.live.length % CPUS);
        sys.check(true);
        for (const id of sys.ids) sys.s.shrink(id, 0);
        // Off-slab index arrays went back to kmalloc-32 as their slabs were destroyed.
        for (const c of sys.s.caches) sys.s.shrink(c.id, 0);
        sys.check(true);
        expect(sys.s.slabPagesReclaimable + sys.s.slabPagesUnreclaimable).toBe(0);
        expect(freePages(k)).toBe(baseline);
      }),
      { numRuns: 60, seed: 20261207 },
    );
    expect(total).toBeGreaterThanOrEqual(100_000);
  }, 120_000);
});
