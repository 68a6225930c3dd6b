/**
 * Constructors and CONFIG_SLAB_FREELIST_RANDOM, as mm/slub.c has them:
 * allocate_slab() runs setup_object() -- the ctor -- on every object of a new
 * slab as it links the freelist, and never again while the slab lives;
 * shuffle_freelist() links a new slab's freelist through the cache's
 * random_seq (a Fisher-Yates permutation of the object indices made once per
 * cache by init_cache_random_seq()), starting at a random position and
 * wrapping round, so each slab hands its objects out in a rotation of that
 * one sequence; without it the freelist is in address order.
 *
 * The 64-byte cache with a ctor: a ctor forbids keeping the free pointer in
 * the object, so calculate_sizes() puts it after: s->size = 64 + 8 = 72. On
 * 2 CPUs calculate_order() wants 4 * (fls(2) + 1) = 12 objects,
 * get_order(12 * 72) = 0, and order 0 holds floor(4096 / 72) = 56 objects
 * (64 bytes left over, under 4096 / 16): 56 objects a slab, at page offsets
 * i * 72.
 */
import { describe, expect, it } from 'vitest';
import { boot, type Kernel } from '../../src/kernel.js';
import { GFP_KERNEL } from '../../src/page_alloc/gfp.js';

const SIZE = 72;
const PER_SLAB = 56;
const PAGE = 4096;

function setup(opts: { freelistRandom?: boolean; seed?: number } = {}): { k: Kernel; c: number; calls: number[] } {
  const k = boot({ memory: '64M', cpus: 2, ...opts });
  const calls: number[] = [];
  const c = k.kmemCacheCreate('ctor_thing', 64, {
    ctor: (addr: number) => {
      calls.push(addr);
    },
  });
  return { k, c, calls };
}

const allocN = (k: Kernel, c: number, n: number): number[] => Array.from({ length: n }, () => k.kmemCacheAlloc(c, GFP_KERNEL));

/** The object index of each address in its (order-0) slab. */
const indices = (addrs: number[]): number[] => addrs.map((a) => (a % PAGE) / SIZE);

/** Every address of the one slab holding addr, in address order. */
const slabObjects = (addr: number): number[] => Array.from({ length: PER_SLAB }, (_, i) => addr - (addr % PAGE) + i * SIZE);

const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);

describe('the constructor', () => {
  it('runs once on every object of a new slab, given its address, before the first object is handed out', () => {
    const { k, c, calls } = setup();
    expect([k.sys.read('/sys/kernel/slab/ctor_thing/slab_size'), k.sys.read('/sys/kernel/slab/ctor_thing/objs_per_slab')]).toEqual([
      `${SIZE}\n`,
      `${PER_SLAB}\n`,
    ]);
    // kmem_cache_create() makes no slab: no object yet, no ctor call.
    expect(calls).toEqual([]);
    const first = k.kmemCacheAlloc(c, GFP_KERNEL);
    expect(calls).toEqual(slabObjects(first));
    // The rest of the slab comes from the cpu freelist: no more calls, and
    // the 56 objects handed out are exactly the 56 constructed.
    const rest = allocN(k, c, PER_SLAB - 1);
    expect(calls).toHaveLength(PER_SLAB);
    expect([first, ...rest].sort((a, b) => a - b)).toEqual(calls);
  });

  it('does not run again when freed objects are reused, only for the objects of the next new slab', () => {
    const { k, c, calls } = setup();
    const objs = allocN(k, c, PER_SLAB);
    for (const o of objs) k.kmemCacheFree(c, o);
    const again = allocN(k, c, PER_SLAB);
    expect(calls).toHaveLength(PER_SLAB);
    expect(new Set(again)).toEqual(new Set(objs));
    // One more: a second slab, constructed whole.
    const next = k.kmemCacheAlloc(c, GFP_KERNEL);
    expect(calls).toHaveLength(2 * PER_SLAB);
    expect(calls.slice(PER_SLAB)).toEqual(slabObjects(next));
    expect(slabObjects(next)).not.toContain(objs[0]);
  });

  it('runs again once an emptied slab was given back and a new one is made', () => {
    const { k, c, calls } = setup();
    const objs = allocN(k, c, 10);
    for (const o of objs) k.kmemCacheFree(c, o);
    // The shrink flushes the empty cpu slab to the node list and frees it.
    k.kmemCacheShrink(c);
    expect(k.sys.read('/sys/kernel/slab/ctor_thing/slabs')).toBe('0\n');
    const p = k.kmemCacheAlloc(c, GFP_KERNEL);
    expect(calls).toHaveLength(2 * PER_SLAB);
    expect(calls.slice(PER_SLAB)).toEqual(slabObjects(p));
  });
});

describe('CONFIG_SLAB_FREELIST_RANDOM', () => {
  it('off: a new slab hands its objects out in address order', () => {
    const { k, c } = setup();
    const objs = allocN(k, c, 2 * PER_SLAB);
    expect(indices(objs.slice(0, PER_SLAB))).toEqual(range(PER_SLAB));
    expect(indices(objs.slice(PER_SLAB))).toEqual(range(PER_SLAB));
    expect(objs.slice(1, PER_SLAB).every((o, i) => o === objs[i]! + SIZE)).toBe(true);
  });

  it('on: a new slab hands out every one of its objects once, not in address order, constructed in that same order', () => {
    const { k, c, calls } = setup({ freelistRandom: true });
    const objs = allocN(k, c, PER_SLAB);
    const idx = indices(objs);
    expect([...idx].sort((a, b) => a - b)).toEqual(range(PER_SLAB));
    expect(idx).not.toEqual(range(PER_SLAB));
    expect(objs.every((o) => o - (o % PAGE) === objs[0]! - (objs[0]! % PAGE))).toBe(true);
    // shuffle_freelist() calls setup_object() on each entry as it links it.
    expect(calls).toEqual(objs);
  });

  it('on: every slab of a cache walks the same random sequence, each from its own start', () => {
    const { k, c } = setup({ freelistRandom: true });
    const objs = allocN(k, c, 3 * PER_SLAB);
    const slabs = [0, 1, 2].map((j) => indices(objs.slice(j * PER_SLAB, (j + 1) * PER_SLAB)));
    const seq = slabs[0]!;
    for (const order of slabs) {
      // A rotation of seq: the same cyclic successor for every index.
      const start = seq.indexOf(order[0]!);
      expect(order).toEqual([...seq.slice(start), ...seq.slice(0, start)]);
    }
  });

  it('on: the same seed gives the same order', () => {
    const order = (seed: number) => {
      const { k, c } = setup({ freelistRandom: true, seed });
      return indices(allocN(k, c, 2 * PER_SLAB));
    };
    expect(order(1234)).toEqual(order(1234));
  });
});
