/**
 * k.inspect: read-only snapshots for tools, with the kernel's numbers and
 * nothing that aliases the kernel's state.
 */
import { describe, expect, it } from 'vitest';
import { boot, GFP_KERNEL } from '../../src/index.js';

describe('k.inspect', () => {
  it('caches() agrees with /proc/slabinfo row by row', () => {
    const k = boot({ memory: '32M' });
    for (let i = 0; i < 100; i++) k.kmalloc(100, GFP_KERNEL);
    const rows = k.proc
      .read('/proc/slabinfo')
      .split('\n')
      .slice(2)
      .filter((l) => l !== '')
      .map((l) => l.split(/\s+/));
    const caches = k.inspect.caches();
    expect(caches.map((c) => c.name)).toEqual(rows.map((r) => r[0]));
    const k128 = caches.find((c) => c.name === 'kmalloc-128')!;
    const row = rows.find((r) => r[0] === 'kmalloc-128')!;
    expect([k128.activeObjs, k128.numObjs, k128.size, k128.objsPerSlab, 1 << k128.order]).toEqual(row.slice(1, 6).map(Number));
    expect(k128.activeObjs).toBeGreaterThanOrEqual(100);
    expect(k128.objectSize).toBe(128);
    expect(k128.handle).toBe(k.kmemCacheByName('kmalloc-128'));
  });

  it('page() names a slab page and its cache, a free block, a large kmalloc', () => {
    const k = boot({ memory: '32M' });
    const p = k.kmalloc(64, GFP_KERNEL);
    expect(k.inspect.page(Math.floor(p / 4096))).toMatchObject({ type: 'slab', cache: 'kmalloc-64' });
    const big = k.kmalloc(20000, GFP_KERNEL);
    expect(k.inspect.page(big / 4096)).toMatchObject({ type: 'large_kmalloc', order: 3, cache: null });
    const zones = k.inspect.zones();
    const free = zones.reduce((s, z) => s + z.free, 0);
    const line = k.proc
      .read('/proc/vmstat')
      .split('\n')
      .find((l) => l.startsWith('nr_free_pages '))!;
    expect(free).toBe(Number(line.split(' ')[1]));
    expect(() => k.inspect.page(-1)).toThrow(RangeError);
  });

  it('snapshots are copies: changing one changes nothing', () => {
    const k = boot({ memory: '32M', kasan: 'generic' });
    const p = k.kmalloc(8, GFP_KERNEL);
    const sh = k.inspect.shadow(p, 16)!;
    expect([...sh]).toEqual([0, 0xfc]);
    sh[0] = 0xff;
    expect([...k.inspect.shadow(p, 16)!]).toEqual([0, 0xfc]);
    expect(boot({ memory: '16M' }).inspect.shadow(4096, 8)).toBeNull();
  });
});
