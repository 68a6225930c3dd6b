/**
 * SLOB's placement decisions, worked by hand from mm/slob.c (6.3) on a fresh
 * machine. Conventions of the worked examples (x86-64, PAGE_SIZE 4096):
 *   - SLOB_UNIT is 2 bytes; a page holds 2048 units.
 *   - kmalloc(n) below PAGE_SIZE - 8 asks slob_alloc() for n + 8 bytes with
 *     align_offset 8 (the u32 size header sits in the first 8 bytes), align 8,
 *     or max(8, n) when n is a power of two; the caller gets block + 8.
 *   - The list is chosen by the bytes asked of slob_alloc(): < 256 small,
 *     < 1024 medium, else large. A new page goes at the head of that list.
 *   - First fit inside a page walks the free blocks in address order; an
 *     alignment gap is split off as its own free block.
 * Addresses are written as P + offset, P the page the first allocation got
 * (which page the buddy allocator hands out is not SLOB's decision).
 */
import { describe, expect, it } from 'vitest';
import { boot, type Kernel } from '../../src/kernel.js';
import { GFP_KERNEL } from '../../src/page_alloc/gfp.js';
import { SLAB_HWCACHE_ALIGN, SLAB_TYPESAFE_BY_RCU } from '../../src/slub/slab_flags.js';

const PAGE = 4096;
const fresh = (): Kernel => boot({ allocator: 'slob', memory: '32M' });
const pageOf = (a: number) => a - (a % PAGE);

/** The free blocks of the page holding addr as [offset in bytes, units]. */
function freeBlocks(k: Kernel, addr: number): [number, number][] {
  const pfn = Math.floor(addr / PAGE);
  for (const l of k.inspect.slob()!.lists) {
    const p = l.pages.find((x) => x.pfn === pfn);
    if (p !== undefined) return p.freeBlocks.map(([a, u]) => [a - pfn * PAGE, u]);
  }
  return [];
}

/** The pfns on each list, from its head. */
function lists(k: Kernel): number[][] {
  return k.inspect.slob()!.lists.map((l) => l.pages.map((p) => p.pfn));
}

function units(k: Kernel, addr: number): number {
  return k.pages.slabCounters[Math.floor(addr / PAGE)]!;
}

describe('SLOB first fit within a page', () => {
  it('places kmallocs after their headers, splits blocks, and cuts alignment gaps off as free blocks', () => {
    const k = fresh();
    // kmalloc(100): 108 bytes = 54 units at P+0 of a new page; returns P+8.
    const a = k.kmalloc(100, GFP_KERNEL);
    const P = pageOf(a);
    expect(a).toBe(P + 8);
    expect(freeBlocks(k, P)).toEqual([[108, 1994]]);
    expect(k.mem.read32(P)).toBe(100); // the size header
    // kmalloc(64): a power of two, so aligned to 64: block + 8 at P+128 means
    // the block starts at P+120; the 12 bytes P+108..P+120 (6 units) stay free.
    const b = k.kmalloc(64, GFP_KERNEL);
    expect(b).toBe(P + 128);
    expect(freeBlocks(k, P)).toEqual([
      [108, 6],
      [192, 1952],
    ]);
    // kmalloc(3): 11 bytes = 6 units, align 8: the 6-unit hole at P+108
    // would need a 2-unit gap first (P+112 + 8 = P+120), so it does not fit;
    // the block at P+192 does (P+200 is 8-aligned).
    const c = k.kmalloc(3, GFP_KERNEL);
    expect(c).toBe(P + 200);
    // kmalloc(4): power of two below 8, align 8: P+204 + 8 = P+212 is not
    // 8-aligned, so a 2-unit gap at P+204 is cut off and the block is P+208.
    const d = k.kmalloc(4, GFP_KERNEL);
    expect(d).toBe(P + 216);
    expect(freeBlocks(k, P)).toEqual([
      [108, 6],
      [204, 2],
      [220, 1938],
    ]);
    expect(units(k, P)).toBe(6 + 2 + 1938);
    // ksize: the header's size in whole units.
    expect([k.ksize(a), k.ksize(b), k.ksize(c), k.ksize(d)]).toEqual([100, 64, 4, 4]);

    // Frees coalesce with the following and the preceding free block.
    k.kfree(c); // P+192 (6 units) joins the 2-unit block after it
    expect(freeBlocks(k, P)).toEqual([
      [108, 6],
      [192, 8],
      [220, 1938],
    ]);
    k.kfree(b); // P+120 (36 units) joins both neighbours: P+108, 6 + 36 + 8
    expect(freeBlocks(k, P)).toEqual([
      [108, 50],
      [220, 1938],
    ]);
    k.kfree(a); // before the list head: merges with it
    expect(freeBlocks(k, P)).toEqual([
      [0, 104],
      [220, 1938],
    ]);
    expect(k.inspect.slob()!.heapPages).toBe(1);
    // The last block: the whole page goes back to the buddy allocator.
    k.kfree(d);
    expect(k.inspect.slob()!.heapPages).toBe(0);
    expect(lists(k)).toEqual([[], [], []]);
    expect(k.inspect.page(P / PAGE).type).not.toBe('slab');
    expect(k.pages.refcount[P / PAGE]).toBe(0);
  });

  it('aligns a power-of-two kmalloc naturally, cutting the whole head of a page off', () => {
    const k = fresh();
    // kmalloc(2048): 2056 bytes = 1028 units, align 2048, offset 8: the block
    // starts at P+2040 so that P+2048 is aligned; the 1020 units before it
    // stay free, the block ends exactly at the page's end.
    const a = k.kmalloc(2048, GFP_KERNEL);
    const P = pageOf(a);
    expect(a).toBe(P + 2048);
    expect(freeBlocks(k, P)).toEqual([[0, 1020]]);
    expect(lists(k)[2]).toEqual([P / PAGE]);
    // The next one needs 1028 units: this page has 1020, so a new page.
    const b = k.kmalloc(2048, GFP_KERNEL);
    expect(pageOf(b)).not.toBe(P);
    expect(b % 2048).toBe(0);
    expect(lists(k)[2]).toEqual([pageOf(b) / PAGE, P / PAGE]); // new pages go to the head
    // kmalloc(256) (264 bytes, medium list) is 256-aligned: its own page.
    const c = k.kmalloc(256, GFP_KERNEL);
    expect(c % 256).toBe(0);
    expect(lists(k)[1]).toEqual([pageOf(c) / PAGE]);
  });

  it('a block that fills its page takes the page off its list; freeing it returns the page', () => {
    const k = fresh();
    // kmalloc(4087): 4095 bytes = 2048 units, the whole page.
    const a = k.kmalloc(4087, GFP_KERNEL);
    const P = pageOf(a);
    expect(a).toBe(P + 8);
    expect(units(k, P)).toBe(0);
    expect(lists(k)).toEqual([[], [], []]);
    expect(k.ksize(a)).toBe(4088);
    expect(k.inspect.slob()!.heapPages).toBe(1);
    k.kfree(a);
    expect(k.inspect.slob()!.heapPages).toBe(0);
  });
});

describe('SLOB lists', () => {
  it('chooses small, medium and large by the bytes asked of slob_alloc (the request plus its header)', () => {
    const k = fresh();
    const small = k.kmalloc(247, GFP_KERNEL); // 255 bytes: small
    const medium = k.kmalloc(248, GFP_KERNEL); // 256 bytes: medium
    const medium2 = k.kmalloc(1015, GFP_KERNEL); // 1023 bytes: medium
    const large = k.kmalloc(1016, GFP_KERNEL); // 1024 bytes: large
    const l = lists(k);
    expect(l[0]).toEqual([pageOf(small) / PAGE]);
    expect(l[1]).toEqual([pageOf(medium) / PAGE]);
    expect(pageOf(medium2)).toBe(pageOf(medium));
    expect(l[2]).toEqual([pageOf(large) / PAGE]);
    expect(new Set([pageOf(small), pageOf(medium), pageOf(large)]).size).toBe(3);
  });

  it('rotates the list to start the next search at the page that served the last one', () => {
    const k = fresh();
    // kmalloc(240): 248 bytes = 124 units, 8-aligned back to back: 16 fit a
    // page (1984 units), leaving 64 units at P+3968.
    const objs: number[] = [];
    for (let i = 0; i < 48; i++) objs.push(k.kmalloc(240, GFP_KERNEL));
    const [A, B, C] = [pageOf(objs[0]!), pageOf(objs[16]!), pageOf(objs[32]!)];
    expect(objs.slice(0, 16).every((o) => pageOf(o) === A)).toBe(true);
    expect(objs[15]).toBe(A + 15 * 248 + 8);
    expect(new Set([A, B, C]).size).toBe(3);
    expect(lists(k)[0]).toEqual([C / PAGE, B / PAGE, A / PAGE]);
    expect(freeBlocks(k, A)).toEqual([[3968, 64]]);
    // Free A's third object: A has 64 + 124 units, the hole at A+496.
    k.kfree(objs[2]!);
    expect(freeBlocks(k, A)).toEqual([
      [496, 124],
      [3968, 64],
    ]);
    expect(lists(k)[0]).toEqual([C / PAGE, B / PAGE, A / PAGE]); // a free does not move the page
    // kmalloc(200): 208 bytes = 104 units. C and B have 64 units: skipped.
    // A's hole fits: the block at A+496, the rest (20 units) at A+704.
    const x = k.kmalloc(200, GFP_KERNEL);
    expect(x).toBe(A + 504);
    expect(freeBlocks(k, A)).toEqual([
      [704, 20],
      [3968, 64],
    ]);
    // list_rotate_to_front(A): the circular list C, B, A now begins at A.
    expect(lists(k)[0]).toEqual([A / PAGE, C / PAGE, B / PAGE]);
    // So a kmalloc(2) (10 bytes, 5 units), which C's tail could hold, is
    // served from A's first fit.
    expect(k.kmalloc(2, GFP_KERNEL)).toBe(A + 712);
  });

  it('a full page made partial by a free joins the list of the freed size, at its head', () => {
    const k = fresh();
    // kmalloc(247): 255 bytes = 128 units; 16 fill a page exactly.
    const objs: number[] = [];
    for (let i = 0; i < 17; i++) objs.push(k.kmalloc(247, GFP_KERNEL));
    const A = pageOf(objs[0]!);
    const B = pageOf(objs[16]!);
    expect(objs[15]).toBe(A + 15 * 256 + 8);
    expect(lists(k)[0]).toEqual([B / PAGE]); // A is full: off the list
    k.kfree(objs[5]!);
    expect(lists(k)[0]).toEqual([A / PAGE, B / PAGE]);
    expect(freeBlocks(k, A)).toEqual([[5 * 256, 128]]);
    expect(units(k, A)).toBe(128);
    expect(k.pages.flags[A / PAGE]! & (1 << 14)).not.toBe(0); // PG_slob_free is PG_private
  });
});

describe('SLOB large kmalloc and page accounting', () => {
  it('sends PAGE_SIZE - 8 and more to the page allocator, counted in Slab:', () => {
    const k = fresh();
    const slabKb = () => Number(/^Slab:\s+(\d+) kB$/m.exec(k.proc.read('/proc/meminfo'))![1]);
    const sunreclaimKb = () => Number(/^SUnreclaim:\s+(\d+) kB$/m.exec(k.proc.read('/proc/meminfo'))![1]);
    expect(slabKb()).toBe(0);
    const a = k.kmalloc(100, GFP_KERNEL);
    expect(slabKb()).toBe(4);
    // kmalloc(4088) (= PAGE_SIZE - 8): an order-0 page, not a SLOB page.
    const b = k.kmalloc(4088, GFP_KERNEL);
    expect(b % PAGE).toBe(0);
    expect(k.inspect.page(b / PAGE).type).toBe('');
    expect(k.ksize(b)).toBe(4096);
    // kmalloc(8193): order 2, a compound page; ksize is the folio's size.
    const c = k.kmalloc(8193, GFP_KERNEL);
    expect(c % PAGE).toBe(0);
    expect(k.ksize(c)).toBe(16384);
    expect(k.pages.head[c / PAGE + 1]).toBe(c / PAGE);
    expect(slabKb()).toBe(4 + 4 + 16);
    expect(sunreclaimKb()).toBe(4 + 4 + 16);
    expect(k.proc.read('/proc/vmstat')).toMatch(/^nr_slab_unreclaimable 6$/m);
    expect(k.proc.read('/proc/vmstat')).toMatch(/^nr_slab_reclaimable 0$/m);
    k.kfree(c);
    k.kfree(b);
    k.kfree(a);
    expect(slabKb()).toBe(0);
    // Above KMALLOC_MAX_SIZE (order 11): the page allocator's WARN once, and NULL.
    expect(k.kmalloc(4 * 1024 * 1024 + 1, GFP_KERNEL)).toBe(0);
    expect(k.dmesg().join('\n')).toMatch(/WARNING: .* at mm\/page_alloc\.c/);
  });

  it('kmalloc(0) is ZERO_SIZE_PTR, ksize of it 0, kfree of it nothing', () => {
    const k = fresh();
    expect(k.kmalloc(0, GFP_KERNEL)).toBe(16);
    expect(k.ksize(16)).toBe(0);
    k.kfree(16);
    k.kfree(0);
    expect(k.inspect.slob()!.heapPages).toBe(0);
  });

  it('kzalloc zeroes; krealloc keeps the block while ksize holds the new size, with the old header', () => {
    const k = fresh();
    const a = k.kmalloc(10, GFP_KERNEL);
    k.mem.memset(a, 0xaa, 10);
    k.kfree(a);
    const z = k.kzalloc(10, GFP_KERNEL);
    expect(z).toBe(a);
    expect([...k.mem.readBytes(z, 10)].every((x) => x === 0)).toBe(true);
    k.mem.memset(z, 0x5c, 10);
    expect(k.krealloc(z, 9, GFP_KERNEL)).toBe(z);
    expect(k.ksize(z)).toBe(10); // the header still says 10
    const r = k.krealloc(z, 11, GFP_KERNEL);
    expect(r).not.toBe(z);
    expect([...k.mem.readBytes(r, 10)].every((x) => x === 0x5c)).toBe(true);
    expect(k.ksize(r)).toBe(12);
    expect(k.kmallocSizeRoundup(1)).toBe(8);
    expect(k.kmallocSizeRoundup(100)).toBe(104);
    expect(k.kmallocSizeRoundup(0)).toBe(0);
  });
});

describe('SLOB caches (SLAB emulation)', () => {
  it('keeps each cache as a 64-byte struct kmem_cache in the heap, and objects first fit with the cache alignment', () => {
    const k = fresh();
    // calculate_alignment(SLAB_HWCACHE_ALIGN, 0, 40): 64 (40 > 32).
    const hw = k.kmemCacheCreate('hw40', 40, { flags: SLAB_HWCACHE_ALIGN });
    const o1 = k.kmemCacheAlloc(hw, GFP_KERNEL);
    const P = pageOf(o1);
    expect(o1).toBe(P + 64); // the descriptor took P+0..P+64
    expect(k.mem.read32(P)).toBe(40); // object_size
    expect(k.mem.read32(P + 8)).toBe(64); // align
    const o2 = k.kmemCacheAlloc(hw, GFP_KERNEL);
    expect(o2).toBe(P + 128); // 24 bytes at P+104 cut off to align
    // A second cache: its descriptor (32 units) does not fit the 12-unit gap.
    const sm = k.kmemCacheCreate('sm20', 20);
    expect(freeBlocks(k, P)).toEqual([
      [104, 12],
      [232, 1932],
    ]);
    // Its objects (20 bytes, align 8) fit the gap.
    const o3 = k.kmemCacheAlloc(sm, GFP_KERNEL);
    expect(o3).toBe(P + 104);
    expect(freeBlocks(k, P)).toEqual([
      [124, 2],
      [232, 1932],
    ]);
    // Destroy does not notice objects left (SLOB cannot count them) and frees the descriptor.
    k.kmemCacheDestroy(sm);
    expect(k.dmesg().join('\n')).not.toMatch(/still has objects|BUG|WARNING/);
    expect(freeBlocks(k, P)).toEqual([
      [124, 2],
      [168, 1964],
    ]);
    expect(() => k.kmemCacheAlloc(sm, GFP_KERNEL)).toThrow(RangeError);
    expect(() => k.kmemCacheFree(sm, o3)).toThrow(/cache: \d+ is not a live kmem_cache/);
    for (const o of [o1, o2]) k.kmemCacheFree(hw, o);
    // o1 (P+64, 20 units) ends at the leaked o3; o2 (P+128) merges with the
    // 2 units before it and the tail after it. hw's descriptor stays at P+0.
    expect(freeBlocks(k, P)).toEqual([
      [64, 20],
      [124, 1986],
    ]);
  });

  it('runs the constructor on every allocation, and takes pages for objects of a page or more', () => {
    const k = fresh();
    let calls = 0;
    const c = k.kmemCacheCreate('ctor_obj', 100, { ctor: () => calls++ });
    const a = k.kmemCacheAlloc(c, GFP_KERNEL);
    k.kmemCacheFree(c, a);
    const b = k.kmemCacheAlloc(c, GFP_KERNEL);
    expect(b).toBe(a);
    expect(calls).toBe(2);
    const big = k.kmemCacheCreate('big_obj', 5000);
    const x = k.kmemCacheAlloc(big, GFP_KERNEL);
    expect(x % PAGE).toBe(0);
    expect(k.inspect.page(x / PAGE).type).toBe('');
    expect(k.inspect.slob()!.slabPages).toBe(1 + 2); // the heap page, and the order-1 object
    k.kmemCacheFree(big, x);
    expect(k.inspect.slob()!.slabPages).toBe(1);
  });

  it('bulk allocates and frees through the same paths, and no kmalloc caches exist', () => {
    const k = fresh();
    const c = k.kmemCacheCreate('bulk_obj', 32);
    const out = new Uint32Array(8);
    expect(k.kmemCacheAllocBulk(c, 8, out)).toBe(8);
    const P = pageOf(out[0]!);
    expect([...out]).toEqual([0, 1, 2, 3, 4, 5, 6, 7].map((i) => P + 64 + 32 * i));
    k.kmemCacheFreeBulk(c, out);
    expect(freeBlocks(k, P)).toEqual([[64, 2016]]);
    expect(k.kmemCacheByName('bulk_obj')).toBe(c);
    expect(k.kmemCacheByName('kmalloc-64')).toBe(-1);
    expect(k.inspect.caches()).toEqual([]);
  });
});

describe('SLOB: the rest of the kmalloc family', () => {
  it('kfreeSensitive zeroes ksize bytes, kmemdup copies, kcalloc zeroes and refuses an overflow', () => {
    const k = fresh();
    const a = k.kmalloc(30, GFP_KERNEL); // ksize 30
    k.mem.memset(a, 0x77, 30);
    const d = k.kmemdup(a, 30, GFP_KERNEL);
    expect([...k.mem.readBytes(d, 30)].every((x) => x === 0x77)).toBe(true);
    k.kfreeSensitive(a);
    // ksize(a) == 30 bytes zeroed, then freed: the block (header at a - 8)
    // merges with the 1-unit gap kmemdup's 8-aligned block left after it, and
    // the free block's encoding takes its first 4 bytes, a - 8 .. a - 4.
    expect([...k.mem.readBytes(a, 30)].every((x) => x === 0)).toBe(true);
    expect(freeBlocks(k, pageOf(a))[0]).toEqual([0, 20]);
    const c = k.kcalloc(4, 10, GFP_KERNEL);
    expect(k.ksize(c)).toBe(40);
    expect([...k.mem.readBytes(c, 40)].every((x) => x === 0)).toBe(true);
    expect(k.kcalloc(2 ** 33, 2 ** 33, GFP_KERNEL)).toBe(0);
  });

  it('a SLAB_TYPESAFE_BY_RCU cache carries a 24-byte struct slob_rcu after each object, whose size field is set on free', () => {
    const k = fresh();
    const c = k.kmemCacheCreate('rcu_obj', 40, { flags: SLAB_TYPESAFE_BY_RCU });
    const a = k.kmemCacheAlloc(c, GFP_KERNEL);
    const b = k.kmemCacheAlloc(c, GFP_KERNEL);
    const P = pageOf(a);
    expect(a).toBe(P + 64);
    expect(b).toBe(a + 64); // c->size 40 + 24
    expect(k.mem.read32(P + 4)).toBe(64); // the descriptor's size field
    k.kmemCacheFree(c, b);
    // kmem has no RCU readers: the grace period is over at once; slob_rcu->size
    // (at object + 64 - 24 + 16) was written before the block went back.
    expect(k.mem.read32(b + 56)).toBe(64);
    expect(freeBlocks(k, P)).toEqual([[128, 1984]]);
  });
});
