/**
 * Cache lifetime and naming as mm/slab_common.c has them: the boot caches
 * (refcount -1), the kmalloc caches (usersize = size under
 * CONFIG_HARDENED_USERCOPY, so never merged), and kmem_cache_destroy() as
 * 6.12+ does it (the cache is unlinked even with objects left, and leaked).
 */
import { describe, expect, it } from 'vitest';
import { boot, type Kernel } from '../../src/kernel.js';
import { GFP_KERNEL } from '../../src/page_alloc/gfp.js';
import { SLAB_CACHE_DMA, SLAB_RECLAIM_ACCOUNT } from '../../src/slub/slab_flags.js';
import { sid } from './handle_id.js';

const sys = (k: Kernel, path: string) => k.sys.read(`/sys/kernel/slab/${path}`);
const slabinfoNames = (k: Kernel) =>
  k.proc
    .read('/proc/slabinfo')
    .split('\n')
    .slice(2)
    .map((l) => l.split(' ')[0]);

describe('kmalloc caches: usersize = size, so each is its own sysfs directory', () => {
  const k = boot({ memory: '64M', cpus: 2 });

  for (const name of ['kmalloc-64', 'kmalloc-rcl-64', 'kmalloc-cg-64', 'dma-kmalloc-64', 'kmalloc-rcl-96', 'kmalloc-cg-8k']) {
    it(`${name}: named plainly, usersize is its size, no aliases`, () => {
      const size = name.endsWith('8k') ? 8192 : Number(name.slice(name.lastIndexOf('-') + 1));
      expect(k.slub.caches[k.slab.findByName(name)]!.sysfsName).toBe(name);
      expect(sys(k, `${name}/usersize`)).toBe(`${size}\n`);
      expect(sys(k, `${name}/aliases`)).toBe('0\n');
    });
  }

  it('no unique :id directory stands for a kmalloc cache', () => {
    for (const id of [':a-0000064', ':A-0000064', ':d-0000064', ':0000064']) expect(() => sys(k, `${id}/aliases`)).toThrow(/No such file/);
  });

  it('a new cache of a kmalloc size and flags does not merge into the kmalloc cache', () => {
    const rcl = k.kmemCacheCreate('reclaimable_thing', 64, { flags: SLAB_RECLAIM_ACCOUNT });
    expect(rcl).not.toBe(k.slab.findByName('kmalloc-rcl-64'));
    // ... but a second one merges into the first, under its unique id.
    const again = k.kmemCacheCreate('reclaimable_other', 64, { flags: SLAB_RECLAIM_ACCOUNT });
    expect(again).toBe(rcl);
    expect(k.slub.caches[sid(k, rcl)]!.sysfsName).toBe(':a-0000064');
    expect(sys(k, ':a-0000064/aliases')).toBe('1\n');
    expect(sys(k, 'reclaimable_other/aliases')).toBe('1\n');
    const dma = k.kmemCacheCreate('dma_thing', 128, { flags: SLAB_CACHE_DMA });
    expect(dma).not.toBe(k.slab.findByName('dma-kmalloc-128'));
  });
});

describe('the boot caches kmem_cache and kmem_cache_node', () => {
  it('are named plainly in sysfs and show no aliases (refcount -1)', () => {
    const k = boot({ memory: '64M', cpus: 2 });
    for (const name of ['kmem_cache', 'kmem_cache_node']) {
      expect(k.slub.caches[k.slab.findByName(name)]!.sysfsName).toBe(name);
      expect(sys(k, `${name}/aliases`)).toBe('0\n');
    }
  });

  it('kmem_cache_destroy() of one does nothing, however often', () => {
    const k = boot({ memory: '64M', cpus: 2 });
    const kc = k.kmemCacheByName('kmem_cache');
    const before = k.proc.read('/proc/slabinfo');
    k.kmemCacheDestroy(kc);
    k.kmemCacheDestroy(kc);
    expect(k.dmesg().join('\n')).not.toMatch(/BUG|WARNING|still has objects/);
    expect(k.proc.read('/proc/slabinfo')).toBe(before);
    expect(sys(k, 'kmem_cache/aliases')).toBe('0\n');
    // Caches are still made from it.
    const c = k.kmemCacheCreate('after', 100, {});
    expect(k.kmemCacheAlloc(c, GFP_KERNEL)).toBeGreaterThan(0);
  });
});

describe('kmem_cache_destroy() with objects left (6.12+)', () => {
  it('reports them, then unlinks the cache from slabinfo, sysfs and lookup, and leaks it', () => {
    const k = boot({ memory: '64M', cpus: 2 });
    const c = k.kmemCacheCreate('leaky_cache', 200, {});
    const objs = [k.kmemCacheAlloc(c, GFP_KERNEL), k.kmemCacheAlloc(c, GFP_KERNEL)];
    const slabKb = () => Number(/^nr_slab_unreclaimable (\d+)$/m.exec(k.proc.read('/proc/vmstat'))![1]);
    const kb = slabKb();
    k.kmemCacheDestroy(c);
    const text = k.dmesg().join('\n');
    expect(text).toContain('BUG leaky_cache (Not tainted): Objects remaining on __kmem_cache_shutdown()');
    expect(text).toContain('kmem_cache_destroy leaky_cache: Slab cache still has objects when called from');
    expect(slabinfoNames(k)).not.toContain('leaky_cache');
    expect(() => sys(k, 'leaky_cache/objects')).toThrow(/No such file/);
    expect(k.slab.findByName('leaky_cache')).toBe(-1);
    // The slab is leaked with its objects, which may still be freed into it.
    expect(slabKb()).toBe(kb);
    const lines = k.dmesg().length;
    for (const o of objs) k.kmemCacheFree(c, o);
    expect(k.dmesg().length).toBe(lines);
    // A destroy after that finds refcount 0 and does nothing.
    k.kmemCacheDestroy(c);
    expect(k.dmesg().length).toBe(lines);
  });

  it('a new cache of the same name is a new cache', () => {
    const k = boot({ memory: '64M', cpus: 2 });
    const c = k.kmemCacheCreate('reused_name', 300, {});
    k.kmemCacheAlloc(c, GFP_KERNEL);
    k.kmemCacheDestroy(c);
    const d = k.kmemCacheCreate('reused_name', 300, {});
    expect(d).not.toBe(c);
    expect(slabinfoNames(k).filter((n) => n === 'reused_name')).toHaveLength(1);
  });
});
