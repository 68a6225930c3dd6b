/**
 * What a new user ran into (the issue "Tried as a new user would"), each
 * checked against what the kernel does:
 *
 * - kmem_cache_alloc_bulk() that runs out of memory part-way: the kernel's
 *   __kmem_cache_alloc_bulk() error path hands everything it took back with
 *   __kmem_cache_free_bulk() -- straight to do_slab_free(), no KASAN free
 *   hook, as slab_post_alloc_hook() never ran on them -- and returns 0.
 * - the same when the caller's array can't take the objects (frozen, sealed,
 *   a Proxy that throws): nothing may be lost on the way out.
 * - a constructor that throws: the kernel's ctors can't, so kmem gives the
 *   new slab's pages back (allocate_slab() never finished) and lets the
 *   exception through, with nothing counted.
 */
import { describe, expect, it } from 'vitest';
import { boot, type Kernel } from '../../src/kernel.js';
import { __GFP_NOWARN, GFP_KERNEL } from '../../src/page_alloc/gfp.js';
import { CF } from '../../src/slub/slab.js';
import { SLAB_NO_MERGE } from '../../src/slub/slab_flags.js';
import { sid } from './handle_id.js';

const vmstat = (k: Kernel, item: string): number => {
  const line = k.proc
    .read('/proc/vmstat')
    .split('\n')
    .find((l) => l.startsWith(`${item} `));
  return Number(line!.split(' ')[1]);
};
const slabinfo = (k: Kernel, name: string): number[] => {
  const line = k.proc
    .read('/proc/slabinfo')
    .split('\n')
    .find((l) => l.startsWith(`${name} `));
  return line!.split(/\s+/).slice(1, 6).map(Number);
};

/** Every page taken but `left`: a machine where allocations fail part-way. */
function fillMemory(k: Kernel, left: number): number[] {
  const pages: number[] = [];
  for (;;) {
    const p = k.allocPages(0, GFP_KERNEL | __GFP_NOWARN);
    if (p === 0) break;
    pages.push(p);
  }
  for (let i = 0; i < left; i++) k.freePages(pages.pop()!, 0);
  return pages;
}

describe('kmem_cache_alloc_bulk() out of memory part-way', () => {
  for (const kasan of [undefined, 'generic'] as const) {
    it(`${kasan ? 'KASAN' : 'plain'}: returns 0, no report, and every object taken goes back`, () => {
      const k = boot({ memory: '16M', cpus: 2, kasan, onBug: 'throw' });
      const c = k.kmemCacheCreate('obj', 64);
      fillMemory(k, 10);
      const out: number[] = [];
      expect(k.kmemCacheAllocBulk(c, 5000, out, GFP_KERNEL)).toBe(0);
      expect(out.length).toBe(0);
      // A Uint32Array takes the objects directly; they go back all the same.
      expect(k.kmemCacheAllocBulk(c, 5000, new Uint32Array(5000), GFP_KERNEL)).toBe(0);
      expect(k.dmesg().join('\n')).not.toMatch(/BUG|double-free/);
      // Nothing leaked: the slabs it made hold only free objects.
      expect(k.slab.liveObjects(sid(k, c))).toBe(0);
      // ... and they are allocatable again, without a report.
      const o = k.kmemCacheAlloc(c, GFP_KERNEL);
      expect(o).not.toBe(0);
      k.mem.write32(o, 1);
      k.kmemCacheFree(c, o);
    });
  }
});

describe('kmem_cache_alloc_bulk() into an array that cannot take the objects', () => {
  it('a frozen array: a TypeError naming out, before anything is taken', () => {
    const k = boot({ memory: '16M', cpus: 2 });
    const c = k.kmemCacheCreate('obj', 64);
    expect(() => k.kmemCacheAllocBulk(c, 10, Object.freeze([]) as unknown as number[])).toThrow(TypeError);
    expect(() => k.kmemCacheAllocBulk(c, 10, Object.freeze([]) as unknown as number[])).toThrow(/^out: /);
    expect(k.slab.liveObjects(sid(k, c))).toBe(0);
  });

  it('a sealed array too short, or a Proxy that throws half-way: nothing lost', () => {
    const k = boot({ memory: '16M', cpus: 2, kasan: 'generic', onBug: 'throw' });
    const c = k.kmemCacheCreate('obj', 64);
    expect(() => k.kmemCacheAllocBulk(c, 10, Object.seal([1, 2]))).toThrow(/^out: /);
    let sets = 0;
    const trap = new Proxy([] as number[], {
      set(t, key, v) {
        if (++sets === 5) throw new Error('full');
        return Reflect.set(t, key, v);
      },
    });
    expect(() => k.kmemCacheAllocBulk(c, 10, trap)).toThrow('full');
    expect(k.slab.liveObjects(sid(k, c))).toBe(0);
    expect(k.kasan!.reports()).toHaveLength(0);
  });
});

describe('a constructor that throws', () => {
  it('gives the new slab back every time: no pages lost, counters agree', () => {
    const k = boot({ memory: '16M', cpus: 2 });
    let fail = true;
    const c = k.kmemCacheCreate('throws', 64, {
      ctor: () => {
        if (fail) throw new Error('ctor failed');
      },
    });
    expect(() => k.kmemCacheAlloc(c, GFP_KERNEL)).toThrow('ctor failed');
    const free = vmstat(k, 'nr_free_pages');
    const unreclaimable = vmstat(k, 'nr_slab_unreclaimable');
    for (let i = 0; i < 100; i++) expect(() => k.kmemCacheAlloc(c, GFP_KERNEL)).toThrow('ctor failed');
    const out: number[] = [];
    expect(() => k.kmemCacheAllocBulk(c, 3, out)).toThrow('ctor failed');
    expect(vmstat(k, 'nr_free_pages')).toBe(free);
    expect(vmstat(k, 'nr_slab_unreclaimable')).toBe(unreclaimable);
    // active_objs, num_objs, objsize, objperslab, pagesperslab: no slab at all.
    expect(slabinfo(k, 'throws').slice(0, 2)).toEqual([0, 0]);
    fail = false;
    const o = k.kmemCacheAlloc(c, GFP_KERNEL);
    expect(o).not.toBe(0);
    expect(k.slab.liveObjects(sid(k, c))).toBe(1);
    k.kmemCacheFree(c, o);
  });
});

describe('kmem_cache_free_bulk() reads each entry once', () => {
  it('an entry that changes between reads: what was checked is what is freed', () => {
    const k = boot({ memory: '16M', cpus: 2, onBug: 'throw' });
    const c = k.kmemCacheCreate('obj', 64);
    const a = [k.kmemCacheAlloc(c, GFP_KERNEL), k.kmemCacheAlloc(c, GFP_KERNEL), k.kmemCacheAlloc(c, GFP_KERNEL)];
    // A live object elsewhere: it must not be freed by a second read.
    const live = k.kmalloc(64, GFP_KERNEL);
    const reads = [0, 0, 0];
    const arr: number[] = [];
    for (let i = 0; i < 3; i++) {
      Object.defineProperty(arr, i, {
        get: () => (reads[i]!++ === 0 ? a[i]! : live),
        enumerable: true,
      });
    }
    k.kmemCacheFreeBulk(c, arr);
    expect(reads).toEqual([1, 1, 1]);
    expect(k.slab.liveObjects(sid(k, c))).toBe(0);
    // live is still allocated: freeing it now is no double free.
    k.kfree(live);
    expect(k.dmesg().join('\n')).not.toMatch(/BUG|WARNING/);
  });
});

describe('kmem_cache_destroy() of a kmalloc cache', () => {
  it('is refused (kmalloc_caches[] would point at a freed cache), and kmalloc goes on', () => {
    const k = boot({ memory: '16M', cpus: 2 });
    const dma = k.kmemCacheByName('dma-kmalloc-512');
    expect(() => k.kmemCacheDestroy(dma)).toThrow(RangeError);
    expect(() => k.kmemCacheDestroy(dma)).toThrow(/^cache: dma-kmalloc-512 is a kmalloc cache/);
    expect(k.kmemCacheByName('dma-kmalloc-512')).toBe(dma);
    const p = k.kmalloc(500, 0x1 /* GFP_DMA */ | GFP_KERNEL);
    expect(p).not.toBe(0);
    expect(k.ksize(p)).toBe(512);
    k.kfree(p);
    expect(k.proc.read('/proc/slabinfo')).toMatch(/^dma-kmalloc-512 /m);
  });
});

describe('a cache named like an existing one (kmem_cache_create() allows it)', () => {
  it('kmalloc-64 by a user: both listed; the name finds the newest; the real one comes back', () => {
    const k = boot({ memory: '16M', cpus: 2 });
    const real = k.kmemCacheByName('kmalloc-64');
    const mine = k.kmemCacheCreate('kmalloc-64', 64, { flags: 0 });
    expect(mine).not.toBe(real);
    // /proc/slabinfo walks slab_caches: two lines of that name.
    expect(k.proc.read('/proc/slabinfo').match(/^kmalloc-64 /gm)).toHaveLength(2);
    expect(k.kmemCacheByName('kmalloc-64')).toBe(mine);
    k.kmemCacheDestroy(mine);
    expect(k.kmemCacheByName('kmalloc-64')).toBe(real);
    expect(k.sys.read('/sys/kernel/slab/kmalloc-64/usersize')).toBe('64\n');
    expect(k.proc.read('/proc/slabinfo').match(/^kmalloc-64 /gm)).toHaveLength(1);
    const p = k.kmalloc(64, GFP_KERNEL);
    expect(k.slub.pages.slabCache[p >>> 12]).toBe(sid(k, real));
    k.kfree(p);
    // Unmergeable, it is a directory of that name (sysfs_slab_add() removes the old one first).
    const plain = k.kmemCacheCreate('kmalloc-64', 64, { flags: SLAB_NO_MERGE });
    expect(k.kmemCacheByName('kmalloc-64')).toBe(plain);
    expect(k.sys.read('/sys/kernel/slab/kmalloc-64/usersize')).toBe('0\n');
    k.kmemCacheDestroy(plain);
    expect(k.kmemCacheByName('kmalloc-64')).toBe(real);
  });
});

describe('a use-after-free write over a free pointer (no slub_debug)', () => {
  /** What the kernel decodes from a hardened free pointer at loc holding hi:lo (freelist_ptr_decode). */
  const decode = (k: Kernel, s: number, loc: number, storedHi: number, storedLo: number): bigint => {
    const r = sid(k, s) * CF.FIELDS;
    const swab = (x: bigint) => {
      let y = 0n;
      for (let b = 0n; b < 8n; b++) y = (y << 8n) | ((x >> (8n * b)) & 0xffn);
      return y;
    };
    // s->random: XOR_LO holds its low word with swab's constant low word folded in.
    const random = (BigInt(k.slub.cf[r + CF.XOR_HI]! >>> 0) << 32n) | BigInt((k.slub.cf[r + CF.XOR_LO]! ^ 0x8088ffff) >>> 0);
    const stored = (BigInt(storedHi >>> 0) << 32n) | BigInt(storedLo >>> 0);
    return stored ^ random ^ swab(0xffff888000000000n + BigInt(loc));
  };
  const inSlabOf = (k: Kernel, s: number, addr: number) => k.slub.pages.slabCache[k.slub.virtToSlab(addr)] === sid(k, s);

  it('memset 0xdd: the next allocation hands the object out, the one after oopses (non-canonical) and returns NULL', () => {
    const k = boot({ memory: '16M', cpus: 2 });
    const s = k.kmemCacheByName('kmalloc-64');
    const p = k.kmalloc(64, GFP_KERNEL);
    k.kfree(p);
    k.mem.memset(p, 0xdd, 64);
    const addr = decode(k, s, p + k.slub.cf[sid(k, s) * CF.FIELDS + CF.OFFSET]!, 0xdddddddd, 0xdddddddd);
    expect(k.kmalloc(64, GFP_KERNEL)).toBe(p);
    expect(k.kmalloc(64, GFP_KERNEL)).toBe(0);
    const log = k.dmesg().join('\n');
    expect(log).toContain(
      `Oops: general protection fault, probably for non-canonical address 0x${addr.toString(16).padStart(16, '0')}: 0000 [#1] PREEMPT SMP NOPTI`,
    );
    expect(log).toMatch(/Call Trace:/);
    // The cache goes on from a fresh cpu slab, never outside its slabs.
    for (let n = 0; n < 200; n++) {
      const q = k.kmalloc(64, GFP_KERNEL);
      expect(inSlabOf(k, s, q)).toBe(true);
    }
  });

  it('with onBug: throw, the second allocation throws the oops', () => {
    const k = boot({ memory: '16M', cpus: 2, onBug: 'throw' });
    const p = k.kmalloc(64, GFP_KERNEL);
    k.kfree(p);
    k.mem.memset(p, 0xdd, 64);
    expect(k.kmalloc(64, GFP_KERNEL)).toBe(p);
    expect(() => k.kmalloc(64, GFP_KERNEL)).toThrow(
      /^Oops: general protection fault, probably for non-canonical address 0x[0-9a-f]{16}: 0000 \[#1\] PREEMPT SMP NOPTI$/,
    );
  });

  it('only the low word overwritten: a canonical pointer out of the slab, the page-fault oops, never handed out', () => {
    const k = boot({ memory: '16M', cpus: 2 });
    const s = k.kmemCacheByName('kmalloc-64');
    const p = k.kmalloc(64, GFP_KERNEL);
    k.kfree(p);
    const loc = p + k.slub.cf[sid(k, s) * CF.FIELDS + CF.OFFSET]!;
    k.mem.write32(loc, 0x12345678);
    const addr = decode(k, s, loc, k.mem.read32(loc + 4), 0x12345678);
    expect(addr >> 32n).toBe(0xffff8880n);
    expect(k.kmalloc(64, GFP_KERNEL)).toBe(p);
    expect(k.kmalloc(64, GFP_KERNEL)).toBe(0);
    expect(k.dmesg().join('\n')).toContain(`BUG: unable to handle page fault for address: ${addr.toString(16)}`);
  });

  it('deeper in the cpu freelist: a flush stops at it, reports, and the counts stay whole', () => {
    const k = boot({ memory: '16M', cpus: 2 });
    const s = k.kmemCacheByName('kmalloc-64');
    const live = Array.from({ length: 5 }, () => k.kmalloc(64, GFP_KERNEL));
    const [p, q] = [k.kmalloc(64, GFP_KERNEL), k.kmalloc(64, GFP_KERNEL)];
    k.kfree(p);
    k.kfree(q); // q -> p -> the rest
    k.mem.memset(p, 0xdd, 64);
    const before = k.slab.liveObjects(sid(k, s));
    k.kmemCacheShrink(s);
    expect(k.dmesg().join('\n')).toMatch(/Oops: general protection fault, probably for non-canonical address/);
    // q went back; p and what followed it are lost (counted in use), as the kernel isolates them.
    expect(k.slab.liveObjects(sid(k, s))).toBeGreaterThanOrEqual(before);
    for (let n = 0; n < 200; n++) expect(inSlabOf(k, s, k.kmalloc(64, GFP_KERNEL))).toBe(true);
    for (const o of live) k.kfree(o);
  });
});
