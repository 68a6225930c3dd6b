/**
 * Model-based test of SLOB: random kmalloc / kfree / krealloc and cache
 * alloc / free / bulk on six caches (plain, aligned, SLAB_HWCACHE_ALIGN,
 * medium, SLAB_TYPESAFE_BY_RCU and page-sized), against a model that knows
 * only what the test allocated. After every step:
 *
 *   - the new object overlaps no live object or cache descriptor (its whole
 *     SLOB block: header included, to ksize) and has its alignment;
 *   - every page on the three lists is a SLOB page marked PG_slob_free, on
 *     one list only, with free blocks inside the page, in address order,
 *     never touching (a free always merges with its neighbours), whose units
 *     add up to the page's free count (slab->units);
 *   - in the page the step touched, live blocks and free blocks cover all
 *     2048 units exactly once (all heap pages every FULL_EVERY steps);
 *   - NR_SLAB_UNRECLAIMABLE_B == the heap pages + the pages of page-sized objects.
 * Every object's bytes are a fill pattern checked when it is freed (and the
 * kmalloc size header with them); at the end everything is freed, the
 * caches destroyed, and every page is back with the buddy allocator.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { boot, type Kernel } from '../../src/kernel.js';
import { GFP_KERNEL } from '../../src/page_alloc/gfp.js';
import { MAX_NR_ZONES, Z_FREE } from '../../src/page_alloc/mmzone.js';
import { SLAB_HWCACHE_ALIGN, SLAB_TYPESAFE_BY_RCU } from '../../src/slub/slab_flags.js';

const PAGE = 4096;
const UNITS = 2048;
const FULL_EVERY = 500;
const MEMORY = '32M';
/** PG_private, which SLOB uses as PG_slob_free. */
const PG_SLOB_FREE = 1 << 14;
const PGTY_SLAB = 0xf5;

/** The caches every run creates: size, args, and the alignment objects must have. */
const CACHES = [
  { name: 'm_plain24', size: 24, args: {}, align: 8 },
  { name: 'm_align32', size: 72, args: { align: 32 }, align: 32 },
  { name: 'm_hw200', size: 200, args: { flags: SLAB_HWCACHE_ALIGN }, align: 64 },
  { name: 'm_med700', size: 700, args: {}, align: 8 },
  { name: 'm_rcu40', size: 40, args: { flags: SLAB_TYPESAFE_BY_RCU }, align: 8 },
  { name: 'm_page5000', size: 5000, args: {}, align: PAGE },
] as const;

interface Obj {
  addr: number;
  /** Cache index, or -1 for kmalloc, -2 for a cache descriptor. */
  cache: number;
  /** Bytes the user may use (pattern-filled). */
  size: number;
  /** The block SLOB holds for it: [lo, hi). */
  lo: number;
  hi: number;
  pat: number;
  /** The kmalloc size header's value (krealloc in place leaves it). */
  hdr: number;
}

/** Per 2-byte unit of RAM: 1 where a live block (of the model) lies. Shared by the runs, cleared by each. */
const owned = new Uint8Array((32 * 1024 * 1024) / 2);
const units = (n: number) => (n + 1) >>> 1;

class Sys {
  readonly k: Kernel = boot({ allocator: 'slob', memory: MEMORY, cpus: 1 });
  readonly handles: number[] = [];
  readonly live: Obj[] = [];
  steps = 0;
  private seq = 0;
  /** The pages the step touched. */
  readonly touched = new Set<number>();

  constructor() {
    owned.fill(0);
    for (const c of CACHES) {
      const h = this.k.kmemCacheCreate(c.name, c.size, c.args);
      this.handles.push(h);
      // The descriptor is the newest small block: find it from the heap (the test knows its size, 64 bytes).
    }
    // Descriptors: 64-byte blocks, the first six allocations of a fresh machine, back to back.
    const first = this.k.inspect.slob()!.lists[0]!.pages[0]!;
    for (let i = 0; i < CACHES.length; i++) {
      const a = first.pfn * PAGE + 64 * i;
      this.live.push({ addr: a, cache: -2, size: 0, lo: a, hi: a + 64, pat: 0, hdr: 0 });
      owned.fill(1, a >>> 1, (a + 64) >>> 1);
    }
    expect(first.freeBlocks).toEqual([[first.pfn * PAGE + 64 * CACHES.length, UNITS - 32 * CACHES.length]]);
  }

  /** c->size: the object, and struct slob_rcu for a SLAB_TYPESAFE_BY_RCU cache. */
  cacheSize(ci: number): number {
    const c = CACHES[ci]!;
    return c.size + ('flags' in c.args && c.args.flags === SLAB_TYPESAFE_BY_RCU ? 24 : 0);
  }

  add(addr: number, cache: number, size: number): void {
    const k = this.k;
    let lo: number;
    let hi: number;
    if (cache === -1) {
      const slobBlock = size < PAGE - 8;
      lo = slobBlock ? addr - 8 : addr;
      hi = addr + k.ksize(addr);
      if (slobBlock) expect(k.ksize(addr)).toBe(units(size) * 2);
      const align = size & (size - 1) ? 8 : slobBlock ? Math.max(8, size) : PAGE;
      expect(addr % align).toBe(0);
    } else {
      const cs = this.cacheSize(cache);
      lo = addr;
      hi = addr + (cs < PAGE ? units(cs) * 2 : PAGE * 2 ** Math.ceil(Math.log2(cs / PAGE)));
      expect(addr % CACHES[cache]!.align).toBe(0);
    }
    const taken = owned.subarray(lo >>> 1, hi >>> 1).indexOf(1);
    if (taken >= 0)
      throw new Error(`0x${addr.toString(16)} [${lo.toString(16)}, ${hi.toString(16)}) overlaps a live block at 0x${(lo + taken * 2).toString(16)}`);
    owned.fill(1, lo >>> 1, hi >>> 1);
    const pat = (this.seq++ * 37 + 11) & 0xff;
    k.phys.u8.fill(pat, addr, addr + size);
    this.live.push({ addr, cache, size, lo, hi, pat, hdr: size });
    this.touched.add(Math.floor(lo / PAGE));
  }

  /** Check o's pattern (and kmalloc header), then take it out of the model. */
  remove(i: number): Obj {
    const o = this.live[i]!;
    const u8 = this.k.phys.u8;
    for (let a = o.addr; a < o.addr + o.size; a++) {
      if (u8[a] !== o.pat) throw new Error(`object at 0x${o.addr.toString(16)}: byte ${a - o.addr} is ${u8[a]}, expected ${o.pat}`);
    }
    if (o.cache === -1 && o.lo !== o.addr && this.k.mem.read32(o.lo) !== o.hdr) throw new Error(`kmalloc header at 0x${o.lo.toString(16)} changed`);
    return this.drop(i);
  }

  /** Take live[i] out of the model without looking at its bytes. */
  drop(i: number): Obj {
    const o = this.live[i]!;
    this.live[i] = this.live[this.live.length - 1]!;
    this.live.pop();
    owned.fill(0, o.lo >>> 1, o.hi >>> 1);
    this.touched.add(Math.floor(o.lo / PAGE));
    return o;
  }

  /** The invariants of the header comment (the paint check on `touched`, or on all heap pages). */
  check(full = false): void {
    this.steps++;
    const k = this.k;
    const slob = k.machine.slob!;
    const p = k.pages;
    const snap = k.inspect.slob()!;
    const seen = new Set<number>();
    for (const l of snap.lists) {
      for (const pg of l.pages) {
        if (seen.has(pg.pfn)) throw new Error(`pfn ${pg.pfn} twice on the lists`);
        seen.add(pg.pfn);
        if (p.pageType[pg.pfn] !== PGTY_SLAB || (p.flags[pg.pfn]! & PG_SLOB_FREE) === 0) throw new Error(`pfn ${pg.pfn}: on a list but not a free SLOB page`);
        let sum = 0;
        let end = pg.pfn * PAGE;
        const first = end;
        for (const [a, u] of pg.freeBlocks) {
          if (a < end || (a === end && a !== first)) throw new Error(`pfn ${pg.pfn}: free block 0x${a.toString(16)} out of order or touching the one before`);
          end = a + u * 2;
          if (end > first + PAGE) throw new Error(`pfn ${pg.pfn}: free block 0x${a.toString(16)} runs past the page`);
          sum += u;
        }
        if (sum !== pg.units || sum === 0) throw new Error(`pfn ${pg.pfn}: free blocks hold ${sum} units, slab->units ${pg.units}`);
      }
    }
    // Heap pages and page-sized objects from the model.
    const heap = new Set<number>(seen);
    let bigPages = 0;
    for (const o of this.live) {
      const pfn = Math.floor(o.lo / PAGE);
      if (p.pageType[pfn] === PGTY_SLAB) heap.add(pfn);
      else bigPages += (o.hi - o.lo) / PAGE;
    }
    expect(slob.heapPages).toBe(heap.size);
    expect(slob.slabPagesUnreclaimable).toBe(heap.size + bigPages);
    const paint = (pfn: number) => {
      const base = pfn * PAGE;
      const cover = owned.slice(base >>> 1, (base + PAGE) >>> 1);
      for (const [a, u] of slob.freeBlocks(pfn)) for (let i = (a - base) >>> 1; i < ((a - base) >>> 1) + u; i++) cover[i]!++;
      const bad = cover.findIndex((c) => c !== 1);
      if (bad >= 0) throw new Error(`pfn ${pfn}: unit ${bad} is covered ${cover[bad]} times by live and free blocks`);
    };
    if (full || this.steps % FULL_EVERY === 0) for (const pfn of heap) paint(pfn);
    else for (const pfn of this.touched) if (heap.has(pfn)) paint(pfn);
    this.touched.clear();
  }
}

type Cmd = fc.Command<object, Sys>;

class Kmalloc implements Cmd {
  constructor(readonly size: number) {}
  check = () => true;
  run(_: object, s: Sys): void {
    const a = s.k.kmalloc(this.size, GFP_KERNEL);
    expect(a).toBeGreaterThan(16);
    s.add(a, -1, this.size);
    s.check();
  }
  toString = () => `kmalloc(${this.size})`;
}

class CacheAlloc implements Cmd {
  constructor(readonly ci: number) {}
  check = () => true;
  run(_: object, s: Sys): void {
    const a = s.k.kmemCacheAlloc(s.handles[this.ci]!, GFP_KERNEL);
    expect(a).toBeGreaterThan(16);
    s.add(a, this.ci, CACHES[this.ci]!.size);
    s.check();
  }
  toString = () => `kmem_cache_alloc(${CACHES[this.ci]!.name})`;
}

class BulkAlloc implements Cmd {
  constructor(
    readonly ci: number,
    readonly n: number,
  ) {}
  check = () => true;
  run(_: object, s: Sys): void {
    const out = new Uint32Array(this.n);
    expect(s.k.kmemCacheAllocBulk(s.handles[this.ci]!, this.n, out, GFP_KERNEL)).toBe(this.n);
    for (const a of out) s.add(a, this.ci, CACHES[this.ci]!.size);
    s.check();
  }
  toString = () => `kmem_cache_alloc_bulk(${CACHES[this.ci]!.name}, ${this.n})`;
}

/** Free the live object r picks (not a descriptor). */
class Free implements Cmd {
  constructor(readonly r: number) {}
  check = () => true;
  run(_: object, s: Sys): void {
    const n = s.live.length - CACHES.length;
    if (n <= 0) return;
    const i = CACHES.length + (this.r % n);
    const o = s.live[i]!;
    if (o.cache === -2) throw new Error('descriptor picked');
    s.remove(i);
    if (o.cache === -1) s.k.kfree(o.addr);
    else s.k.kmemCacheFree(s.handles[o.cache]!, o.addr);
    s.check();
  }
  toString = () => `free(${this.r})`;
}

/** krealloc a kmalloc'd object: its bytes up to the smaller size survive, in place while ksize allows. */
class Krealloc implements Cmd {
  constructor(
    readonly r: number,
    readonly size: number,
  ) {}
  check = () => true;
  run(_: object, s: Sys): void {
    const km: number[] = [];
    for (let i = CACHES.length; i < s.live.length; i++) if (s.live[i]!.cache === -1) km.push(i);
    if (km.length === 0) return;
    const i = km[this.r % km.length]!;
    const o = s.live[i]!;
    const ks = s.k.ksize(o.addr);
    const r = s.k.krealloc(o.addr, this.size, GFP_KERNEL);
    if (ks >= this.size) {
      expect(r).toBe(o.addr);
      // Same block, same header: only the bytes in use change.
      o.size = Math.min(o.size, this.size);
      s.touched.add(Math.floor(o.lo / PAGE));
    } else {
      expect(r).not.toBe(o.addr);
      for (let a = 0; a < o.size; a++) if (s.k.phys.u8[r + a] !== o.pat) throw new Error(`krealloc lost byte ${a}`);
      s.drop(i);
      s.add(r, -1, this.size);
    }
    s.check();
  }
  toString = () => `krealloc(${this.r}, ${this.size})`;
}

const pick = fc.nat({ max: 1 << 20 });
const commands = [
  fc.integer({ min: 1, max: 255 }).map((n) => new Kmalloc(n)),
  fc.integer({ min: 1, max: 1100 }).map((n) => new Kmalloc(n)),
  fc.integer({ min: 1, max: 9000 }).map((n) => new Kmalloc(n)),
  fc.integer({ min: 0, max: 12 }).map((e) => new Kmalloc(2 ** e)),
  fc.integer({ min: 0, max: CACHES.length - 1 }).map((c) => new CacheAlloc(c)),
  fc.integer({ min: 0, max: CACHES.length - 2 }).map((c) => new CacheAlloc(c)),
  fc.tuple(fc.integer({ min: 0, max: CACHES.length - 1 }), fc.integer({ min: 1, max: 12 })).map(([c, n]) => new BulkAlloc(c, n)),
  // As many frees as allocations (a bulk allocation counts for several):
  // the live set wanders around a few hundred objects.
  ...Array.from({ length: 13 }, () => pick.map((r) => new Free(r))),
  fc.tuple(pick, fc.integer({ min: 1, max: 5000 })).map(([r, n]) => new Krealloc(r, n)),
];

/** Free pages in the zones once the pcp lists are drained. */
function freePages(k: Kernel): number {
  k.drainAllPages();
  let n = 0;
  for (let z = 0; z < MAX_NR_ZONES; z++) n += k.pageAlloc.zones.get(z, Z_FREE);
  return n;
}

describe('SLOB model', () => {
  it('keeps every invariant over random operations and returns every page', () => {
    let total = 0;
    const baseline = freePages(boot({ allocator: 'slob', memory: MEMORY, cpus: 1 }));
    fc.assert(
      fc.property(fc.commands(commands, { maxCommands: 5000, size: 'max' }), (cmds) => {
        const sys = new Sys();
        sys.check(true);
        fc.modelRun(() => ({ model: {}, real: sys }), cmds);
        total += sys.steps;
        const k = sys.k;
        // Free everything, then the caches (their descriptors).
        while (sys.live.length > CACHES.length) {
          const o = sys.remove(sys.live.length - 1);
          if (o.cache === -1) k.kfree(o.addr);
          else k.kmemCacheFree(sys.handles[o.cache]!, o.addr);
        }
        sys.check(true);
        for (const h of sys.handles) k.kmemCacheDestroy(h);
        sys.live.length = 0;
        sys.check(true);
        expect(k.inspect.slob()!.heapPages).toBe(0);
        expect(k.inspect.slob()!.slabPages).toBe(0);
        expect(k.dmesg().join('\n')).not.toMatch(/BUG|WARNING/);
        expect(freePages(k)).toBe(baseline);
      }),
      { numRuns: 44, seed: 20261206 },
    );
    expect(total).toBeGreaterThanOrEqual(100_000);
  }, 120_000);
});
