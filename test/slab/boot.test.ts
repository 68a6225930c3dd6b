/**
 * A SLAB machine (boot({ allocator: 'slab' })): /proc/slabinfo with SLAB's
 * tunables and slabdata for driven states, worked by hand from mm/slab.c;
 * writable tunables; the kmalloc family and kmem_cache_* through the head
 * arrays; options refused; processes on it.
 */
import { describe, expect, it } from 'vitest';
import { boot } from '../../src/kernel.js';
import { GFP_KERNEL } from '../../src/page_alloc/gfp.js';
import { MAP_ANONYMOUS, MAP_PRIVATE, PROT_READ, PROT_WRITE } from '../../src/vm/mman.js';
import { tinyElf } from '../vm/helpers.js';

const slabinfoLine = (k: ReturnType<typeof boot>, name: string) =>
  k.proc
    .read('/proc/slabinfo')
    .split('\n')
    .find((l) => l.split(' ')[0] === name);

describe('boot({ allocator: "slab" })', () => {
  it('refuses what kmem does not model under SLAB, naming the option', () => {
    expect(() => boot({ allocator: 'slab', memory: '16M', kasan: 'generic' })).toThrow(/^kasan: not available with allocator: 'slab'/);
    expect(() => boot({ allocator: 'slab', memory: '16M', slubDebug: 'FZ' })).toThrow(/^slubDebug: not available with allocator: 'slab'/);
    expect(() => boot({ allocator: 'slab', memory: '16M', slubMinObjects: 4 })).toThrow(RangeError);
    expect(boot({ allocator: 'slab', memory: '16M', freelistHardened: true }).machine.allocator).toBe('slab');
  });

  it('has no /sys/kernel/slab, and prints no SLUB line', () => {
    const k = boot({ allocator: 'slab', memory: '16M' });
    expect(() => k.proc.read('/sys/kernel/slab/kmalloc-64/objects')).toThrow(/No such file/);
    expect(k.dmesg().join('\n')).not.toMatch(/SLUB:/);
  });
});

describe('/proc/slabinfo under SLAB', () => {
  it('lists the kmalloc caches (kmalloc-128 made first, so printed last) with their geometry and tunables', () => {
    const k = boot({ allocator: 'slab', memory: '64M', cpus: 2 });
    const lines = k.proc.read('/proc/slabinfo').split('\n');
    expect(lines[0]).toBe('slabinfo - version: 2.1');
    expect(lines[1]).toBe(
      '# name            <active_objs> <num_objs> <objsize> <objperslab> <pagesperslab> : tunables <limit> <batchcount> <sharedfactor> : slabdata <active_slabs> <num_slabs> <sharedavail>',
    );
    expect(lines.slice(2, -1).map((l) => l.split(' ')[0])).toEqual([
      'kmalloc-8192',
      'kmalloc-4096',
      'kmalloc-2048',
      'kmalloc-1024',
      'kmalloc-512',
      'kmalloc-256',
      'kmalloc-192',
      'kmalloc-96',
      'kmalloc-64',
      'kmalloc-32',
      'kmalloc-128',
    ]);
    expect(slabinfoLine(k, 'kmalloc-32')).toBe('kmalloc-32             0      0     32  124    1 : tunables  120   60    8 : slabdata      0      0      0');
    expect(slabinfoLine(k, 'kmalloc-96')).toBe('kmalloc-96             0      0    128   32    1 : tunables  120   60    8 : slabdata      0      0      0');
    expect(slabinfoLine(k, 'kmalloc-192')).toBe('kmalloc-192            0      0    192   21    1 : tunables  120   60    8 : slabdata      0      0      0');
    expect(slabinfoLine(k, 'kmalloc-2048')).toBe('kmalloc-2048           0      0   2048    2    1 : tunables   24   12    8 : slabdata      0      0      0');
    expect(slabinfoLine(k, 'kmalloc-8192')).toBe('kmalloc-8192           0      0   8192    1    2 : tunables    8    4    0 : slabdata      0      0      0');
  });

  it('counts objects in the head arrays as active: one allocation shows the 16 of the first refill', () => {
    const k = boot({ allocator: 'slab', memory: '64M', cpus: 2 });
    // 72 bytes: 56 per page, the index array in a free object, 64 bytes left (one colour).
    const c = k.kmemCacheCreate('foo', 72);
    const o = k.kmemCacheAlloc(c, GFP_KERNEL);
    expect(slabinfoLine(k, 'foo')).toBe('foo                   16     56     72   56    1 : tunables  120   60    8 : slabdata      1      1      0');
    // One colour only: colour_next wraps to 0 at once, so the slab's objects start at the page.
    expect(o % 4096).toBe(15 * 72);
    k.kmemCacheFree(c, o);
    k.kmemCacheShrink(c);
    expect(slabinfoLine(k, 'foo')).toBe('foo                    0      0     72   56    1 : tunables  120   60    8 : slabdata      0      0      0');
  });

  it('takes "name limit batchcount shared": the head arrays go back to the slabs; bad numbers are ignored, an unknown cache is EINVAL', () => {
    const k = boot({ allocator: 'slab', memory: '64M', cpus: 2 });
    const c = k.kmemCacheCreate('foo', 72);
    k.kmemCacheAlloc(c, GFP_KERNEL);
    k.proc.write('/proc/slabinfo', 'foo 30 10 4\n');
    expect(slabinfoLine(k, 'foo')).toBe('foo                    1     56     72   56    1 : tunables   30   10    4 : slabdata      1      1      0');
    k.proc.write('/proc/slabinfo', 'foo 10 20 0');
    expect(slabinfoLine(k, 'foo')).toMatch(/tunables {3}30 {3}10 {4}4/);
    expect(() => k.proc.write('/proc/slabinfo', 'nosuch 1 1 1')).toThrow(expect.objectContaining({ code: 'EINVAL' }));
    expect(() => k.proc.write('/proc/slabinfo', 'foo')).toThrow(expect.objectContaining({ code: 'EINVAL' }));
    expect(() => k.proc.write('/proc/slabinfo', 'foo x y z')).toThrow(expect.objectContaining({ code: 'EINVAL' }));
  });
});

describe('k.inspect on a SLAB machine', () => {
  it('shows each SLAB cache with its geometry, tunables and arrays; SLUB views stay empty and SLAB pages belong to no SLUB cache', () => {
    const k = boot({ allocator: 'slab', memory: '64M', cpus: 2 });
    const c = k.kmemCacheCreate('foo', 72);
    const o = k.onCpu(1, () => k.kmemCacheAlloc(c, GFP_KERNEL));
    const foo = k.inspect.slabCaches()![0]!;
    expect(foo).toEqual({
      handle: c,
      name: 'foo',
      objsize: 72,
      objperslab: 56,
      order: 0,
      colours: 1,
      freelist: 'objfreelist',
      limit: 120,
      batchcount: 60,
      shared: 8,
      cpuAvail: [0, 15],
      sharedAvail: 0,
      activeObjs: 16,
      numObjs: 56,
      activeSlabs: 1,
      numSlabs: 1,
    });
    expect(k.inspect.caches()).toEqual([]);
    expect(k.inspect.slabOf(o).cache).toBe(-1);
    expect(k.inspect.structPage(Math.floor(o / 4096)).slab).toBeNull();
    expect(k.inspect.cacheName(c)).toBe('foo');
    expect(boot({ memory: '16M' }).inspect.slabCaches()).toBeNull();
  });
});

describe('the reaper on the virtual clock', () => {
  it('each CPU every 2 s drains a fifth of an untouched head array (half of what it holds when less), the node every 4 s its free slabs', () => {
    const k = boot({ allocator: 'slab', memory: '64M', cpus: 2 });
    const c = k.kmemCacheCreate('foo', 72);
    k.kmemCacheFree(c, k.kmemCacheAlloc(c, GFP_KERNEL)); // 16 in CPU 0's array, touched
    const row = () => {
      const f = slabinfoLine(k, 'foo')!.split(/\s+/);
      return [Number(f[1]), Number(f[14])]; // active_objs (the array's objects count as active), num_slabs
    };
    expect(row()).toEqual([16, 1]);
    const seen: number[][] = [];
    for (let i = 0; i < 7; i++) {
      k.tick(i === 0 ? 1e9 : 2e9); // reaps at 1 s, 3 s, 5 s ... 13 s
      seen.push(row());
    }
    // 1 s: touched, only cleared. Then (limit + 4) / 5 = 24 is more than the
    // array holds each time, so half of it (rounded up) goes: 16 -> 8 -> 4 -> 2
    // -> 1 -> 0. The node reaps at 5 s and 9 s find the slab partial; at 13 s
    // it is free and untouched: ceil(free_limit / (5 * num)) = 1 slab destroyed.
    expect(seen).toEqual([
      [16, 1],
      [8, 1],
      [4, 1],
      [2, 1],
      [1, 1],
      [0, 1],
      [0, 0],
    ]);
  });
});

describe('the kmalloc family on a SLAB machine', () => {
  it('kmalloc caches up to 8192, pages above; ksize is the cache object size; Slab: counts both', () => {
    const k = boot({ allocator: 'slab', memory: '64M', cpus: 1 });
    const slabKb = () => Number(/^Slab:\s+(\d+) kB$/m.exec(k.proc.read('/proc/meminfo'))![1]);
    expect(slabKb()).toBe(0);
    const a = k.kmalloc(100, GFP_KERNEL);
    expect(k.ksize(a)).toBe(128);
    expect(k.kmallocSizeRoundup(100)).toBe(128);
    expect(k.kmallocSizeRoundup(1)).toBe(32);
    const b = k.kmalloc(70, GFP_KERNEL);
    expect(k.ksize(b)).toBe(96); // kmalloc-96's object_size, its slots 128 bytes
    const big = k.kmalloc(8193, GFP_KERNEL);
    expect(big % 4096).toBe(0);
    expect(k.ksize(big)).toBe(16384);
    expect(slabKb()).toBe(4 + 4 + 16);
    k.kfree(big);
    k.kfree(a);
    k.kfree(b);
    expect(slabKb()).toBe(8); // the two slabs stay, their objects in the head arrays
    expect(k.kmalloc(0, GFP_KERNEL)).toBe(16);
    // A double free caught on top of the head array: one WARN, and nothing freed twice.
    const d = k.kmalloc(64, GFP_KERNEL);
    k.kfree(d);
    k.kfree(d);
    expect(k.dmesg().filter((l) => /WARNING: .* at mm\/slab\.c/.test(l))).toHaveLength(1);
    expect(k.kmalloc(64, GFP_KERNEL)).toBe(d);
    expect(k.kmalloc(64, GFP_KERNEL)).not.toBe(d);
  });

  it('kmem_cache_destroy of a cache with objects left WARNs and keeps it; an empty one goes silently', () => {
    const k = boot({ allocator: 'slab', memory: '32M' });
    const c = k.kmemCacheCreate('leaky', 40);
    k.kmemCacheAlloc(c, GFP_KERNEL);
    k.kmemCacheDestroy(c);
    expect(k.dmesg().join('\n')).toMatch(/kmem_cache_destroy leaky: Slab cache still has objects/);
    expect(slabinfoLine(k, 'leaky')).toBeUndefined();
    const e = k.kmemCacheCreate('empty', 40);
    k.kmemCacheFree(e, k.kmemCacheAlloc(e, GFP_KERNEL));
    const before = k.dmesg().length;
    k.kmemCacheDestroy(e);
    expect(k.dmesg().length).toBe(before);
    expect(() => k.kmemCacheAlloc(e, GFP_KERNEL)).toThrow(RangeError);
    expect(() => k.kmemCacheDestroy(k.kmemCacheByName('kmalloc-64'))).toThrow(/is a kmalloc cache/);
  });

  it('runs processes, with the VM half’s caches on SLAB', () => {
    const k = boot({ allocator: 'slab', memory: '32M', aslr: 0 });
    k.fs.writeFile('/bin/tiny', tinyElf());
    const t = k.spawn('/bin/tiny');
    const a = t.mmap(0, 4 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    t.write32(a, 1);
    const child = t.fork();
    child.write32(a, 2);
    expect(t.read32(a)).toBe(1);
    child.exit(0);
    t.exit(0);
    expect(slabinfoLine(k, 'vm_area_struct')).toBeDefined();
    expect(k.dmesg().join('\n')).not.toMatch(/BUG|WARNING/);
  });
});
