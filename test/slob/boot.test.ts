/**
 * Booting a SLOB machine: what the option accepts and refuses, the files a
 * CONFIG_SLOB kernel did not have, and the API's argument checks (the SLUB
 * machine's messages, test/api/bad_args.test.ts's style).
 */
import { describe, expect, it } from 'vitest';
import { boot } from '../../src/kernel.js';
import { __GFP_NORETRY, __GFP_NOWARN, __GFP_ZERO, GFP_KERNEL } from '../../src/page_alloc/gfp.js';
import { MAP_ANONYMOUS, MAP_PRIVATE, PROT_READ, PROT_WRITE } from '../../src/vm/mman.js';
import { tinyElf } from '../vm/helpers.js';

describe('boot({ allocator })', () => {
  it("accepts 'slob', 'slab' and 'slub', and refuses any other design", () => {
    expect(boot({ allocator: 'slob', memory: '16M' }).machine.allocator).toBe('slob');
    expect(boot({ allocator: 'slub', memory: '16M' }).machine.slob).toBeNull();
    expect(boot({ allocator: 'slab', memory: '16M' }).machine.slob).toBeNull();
    expect(() => boot({ allocator: 'slub2' as never })).toThrow(RangeError);
    expect(() => boot({ allocator: 'slub2' as never })).toThrow(/^allocator: expected 'slub', 'slab', 'slob', got "slub2"$/);
  });

  it('refuses, naming the option, what a CONFIG_SLOB kernel cannot have', () => {
    const refused: [string, object][] = [
      ['slubDebug', { slubDebug: 'FZ' }],
      ['slubDebug', { slubDebug: true }],
      ['kasan', { kasan: 'generic' }],
      ['slubStats', { slubStats: true }],
      ['slubMinOrder', { slubMinOrder: 1 }],
      ['slubMaxOrder', { slubMaxOrder: 1 }],
      ['slubMinObjects', { slubMinObjects: 4 }],
      ['freelistRandom', { freelistRandom: true }],
      ['freelistHardened', { freelistHardened: true }],
    ];
    for (const [name, opt] of refused) {
      expect(() => boot({ allocator: 'slob', memory: '16M', ...opt })).toThrow(new RegExp(`^${name}: not available with allocator: 'slob'`));
      expect(() => boot({ allocator: 'slob', memory: '16M', ...opt })).toThrow(RangeError);
    }
    // Their "off" values are fine.
    expect(() => boot({ allocator: 'slob', memory: '16M', kasan: false, slubDebug: false, freelistHardened: false, slubStats: false })).not.toThrow();
  });

  it('prints no SLUB line at boot', () => {
    const k = boot({ allocator: 'slob', memory: '16M' });
    expect(k.dmesg().join('\n')).not.toMatch(/SLUB:/);
    expect(boot({ memory: '16M' }).dmesg().join('\n')).toMatch(/SLUB: HWalign=64/);
  });
});

describe('/proc and /sys under SLOB', () => {
  it('has no /proc/slabinfo and no /sys/kernel/slab (ENOENT), but /proc/meminfo', () => {
    const k = boot({ allocator: 'slob', memory: '16M' });
    const enoent = (path: string) => {
      try {
        k.proc.read(path);
      } catch (e) {
        return (e as { code?: string }).code;
      }
      return 'read';
    };
    expect(enoent('/proc/slabinfo')).toBe('ENOENT');
    expect(enoent('/sys/kernel/slab/kmalloc-64/objects')).toBe('ENOENT');
    expect(k.proc.read('/proc/meminfo')).toMatch(/^Slab:\s+0 kB$/m);
    expect(k.proc.read('/proc/meminfo')).toMatch(/^SReclaimable:\s+0 kB$/m);
  });
});

describe('SLOB machine API argument checks', () => {
  const k = boot({ allocator: 'slob', memory: '16M' });
  it('kmalloc family', () => {
    expect(() => k.kmalloc(-1, GFP_KERNEL)).toThrow(/^size: expected a non-negative integer/);
    expect(() => k.kmalloc('8' as never, GFP_KERNEL)).toThrow(TypeError);
    expect(() => k.kmalloc(1.5, GFP_KERNEL)).toThrow(RangeError);
    expect(() => k.kmalloc(8, -1)).toThrow(/^gfp: invalid GFP flags/);
    expect(() => k.kmalloc(8, 'x' as never)).toThrow(TypeError);
    expect(() => k.kfree(-8)).toThrow(/^addr: /);
    expect(() => k.kfree('x' as never)).toThrow(TypeError);
    expect(() => k.ksize(2 ** 40)).toThrow(/^addr: .* is outside physical memory/);
    expect(() => k.krealloc(0, -1, GFP_KERNEL)).toThrow(/^newSize: /);
    expect(() => k.kmallocArray(-1, 8, GFP_KERNEL)).toThrow(/^n: /);
    expect(k.kmallocArray(2 ** 40, 2 ** 40, GFP_KERNEL)).toBe(0); // overflow: NULL
  });

  it('kmem_cache family', () => {
    expect(() => k.kmemCacheCreate('', 8)).toThrow(/^name: /);
    expect(() => k.kmemCacheCreate('x', 0)).toThrow(/^size: 0 is outside/);
    expect(() => k.kmemCacheCreate('x', 8, { align: 3 })).toThrow(/^args\.align: /);
    expect(() => k.kmemCacheCreate('x', 8, { ctor: 1 as never })).toThrow(/^args\.ctor: /);
    expect(() => k.kmemCacheCreate('x', 8, { sheafCapacity: 8 })).toThrow(/^args\.sheafCapacity: SLOB has no sheaves/);
    expect(() => k.kmemCacheCreate('x', 8, null as never)).toThrow(TypeError);
    expect(() => k.kmemCacheAlloc(12345, GFP_KERNEL)).toThrow(/^cache: 12345 is not a live kmem_cache/);
    expect(() => k.kmemCacheAlloc('c' as never, GFP_KERNEL)).toThrow(TypeError);
    const c = k.kmemCacheCreate('argcheck', 8);
    expect(() => k.kmemCacheAlloc(c, -1)).toThrow(/^gfp: /);
    expect(() => k.kmemCacheFree(c, -1)).toThrow(/^addr: /);
    expect(() => k.kmemCacheAllocBulk(c, 4, new Uint32Array(2))).toThrow(/^out: holds 2 entries, 4 needed/);
    expect(() => k.kmemCacheFreeBulk(c, [-1])).toThrow(/^addrs\[0\]: /);
    expect(() => k.kmemCachePrefillSheaf(c, GFP_KERNEL, 4)).toThrow(/^cache: SLOB has no sheaves/);
    expect(() => k.slabValidate(c)).toThrow(RangeError);
    // A SLUB machine's handle is not this machine's cache.
    const other = boot({ memory: '16M' });
    const sc = other.kmemCacheCreate('argcheck', 8);
    expect(() => k.kmemCacheAlloc(sc, GFP_KERNEL)).toThrow(RangeError);
    k.kmemCacheDestroy(c);
    expect(() => k.kmemCacheDestroy(c)).toThrow(RangeError);
  });
});

describe('processes on a SLOB machine', () => {
  it('spawn, fork, touch memory and exit with the VM half’s objects from SLOB caches, then give those objects back', () => {
    const k = boot({ allocator: 'slob', memory: '32M', aslr: 0 });
    k.fs.writeFile('/bin/tiny', tinyElf());
    const heapBefore = k.inspect.slob()!.heapPages;
    const t = k.spawn('/bin/tiny');
    const a = t.mmap(0, 8 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    for (let i = 0; i < 8; i++) t.write32(a + i * 4096, i + 1);
    const child = t.fork();
    child.write32(a, 99); // copy-on-write
    expect(t.read32(a)).toBe(1);
    expect(child.read32(a)).toBe(99);
    const vma = k.kmemCacheByName('vm_area_struct');
    expect(vma).toBeGreaterThan(0);
    expect(k.inspect.slob()!.heapPages).toBeGreaterThan(heapBefore);
    const slabKb = Number(/^Slab:\s+(\d+) kB$/m.exec(k.proc.read('/proc/meminfo'))![1]);
    expect(slabKb).toBe(k.inspect.slob()!.slabPages * 4);
    child.exit(0);
    t.exit(0);
    expect(k.dmesg().join('\n')).not.toMatch(/BUG|WARNING/);
  });
});

describe('k.inspect under SLOB', () => {
  it('shows SLOB pages as slab pages of no cache, no SLUB caches, and the SLOB lists', () => {
    const k = boot({ allocator: 'slob', memory: '16M' });
    const a = k.kmalloc(100, GFP_KERNEL);
    const pfn = Math.floor(a / 4096);
    expect(k.inspect.caches()).toEqual([]);
    expect(k.inspect.cacheIds()).toEqual([]);
    expect(k.inspect.slabinfo()).toEqual([]);
    expect(k.inspect.page(pfn)).toMatchObject({ type: 'slab', cache: null, cacheId: -1 });
    expect(k.inspect.slabOf(a)).toEqual({ cache: -1, head: pfn });
    expect(k.inspect.structPage(pfn).slab).toBeNull();
    const st = k.inspect.pageStates();
    expect(st.cache[pfn]).toBe(-1);
    expect(k.inspect.slob()).toEqual({
      lists: [
        { name: 'free_slob_small', pages: [{ pfn, units: 2048 - 54, freeBlocks: [[pfn * 4096 + 108, 1994]] }] },
        { name: 'free_slob_medium', pages: [] },
        { name: 'free_slob_large', pages: [] },
      ],
      heapPages: 1,
      slabPages: 1,
      freeBytes: 1994 * 2,
    });
    expect(boot({ memory: '16M' }).inspect.slob()).toBeNull();
    const c = k.kmemCacheCreate('named', 24);
    expect(k.inspect.cacheName(c)).toBe('named');
    expect(() => k.inspect.cacheSlabs(c)).toThrow(RangeError); // SLOB has no slabs of a cache
  });

  it('a double kfree, which 6.3 would let corrupt the heap, is reported as a BUG in mm/slob.c and changes nothing', () => {
    const k = boot({ allocator: 'slob', memory: '16M' });
    const keep = k.kmalloc(50, GFP_KERNEL);
    const a = k.kmalloc(100, GFP_KERNEL);
    k.kfree(a);
    const before = JSON.stringify(k.inspect.slob());
    k.kfree(a);
    expect(k.dmesg().join('\n')).toMatch(/kernel BUG at mm\/slob\.c:slob_free!/);
    expect(JSON.stringify(k.inspect.slob())).toBe(before);
    k.kfree(keep);
    expect(k.inspect.slob()!.heapPages).toBe(0);
  });
});

describe('SLOB out of memory', () => {
  it('kmalloc returns NULL when the page allocator fails, with its warning (none with __GFP_NOWARN); SLOB adds none of its own', () => {
    const k = boot({ allocator: 'slob', memory: '16M' });
    const got: number[] = [];
    for (;;) {
      const p = k.kmalloc(3000, GFP_KERNEL | __GFP_NORETRY | __GFP_NOWARN);
      if (p === 0) break;
      got.push(p);
    }
    expect(got.length).toBeGreaterThan(1000);
    expect(k.dmesg().join('\n')).not.toMatch(/page allocation failure/);
    expect(k.kmalloc(3000, GFP_KERNEL | __GFP_NORETRY)).toBe(0);
    const log = k.dmesg().join('\n');
    expect(log).toMatch(/page allocation failure: order:0/);
    expect(log).not.toMatch(/SLUB: Unable to allocate/);
    for (const p of got) k.kfree(p);
    expect(k.inspect.slob()!.slabPages).toBe(0);
  });

  it('a cache with a constructor allocated with __GFP_ZERO: WARN_ON_ONCE, and the constructor still runs', () => {
    const k = boot({ allocator: 'slob', memory: '16M' });
    let calls = 0;
    const c = k.kmemCacheCreate('zero_ctor', 32, { ctor: () => calls++ });
    k.kmemCacheAlloc(c, GFP_KERNEL | __GFP_ZERO);
    k.kmemCacheAlloc(c, GFP_KERNEL | __GFP_ZERO);
    expect(calls).toBe(2);
    expect(k.dmesg().filter((l) => /WARNING: .* at mm\/slob\.c/.test(l))).toHaveLength(1);
  });
});
