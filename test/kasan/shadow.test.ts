/**
 * Shadow values the hooks leave behind, the slab geometry KASAN imposes,
 * the quarantine's limits, and that a machine without KASAN is untouched.
 */
import { describe, expect, it } from 'vitest';
import { boot, GFP_KERNEL, KASAN_PAGE_FREE, KASAN_PAGE_REDZONE, KASAN_SLAB_FREE, KASAN_SLAB_FREE_META, KASAN_SLAB_REDZONE } from '../../src/index.js';
import { globalRedzone } from '../../src/kasan/common.js';
import { KasanMemAccess } from '../../src/kasan/kasan_access.js';
import { Shadow } from '../../src/kasan/shadow.js';
import { MemAccess } from '../../src/memory/access.js';
import { kasanBoot } from './helpers.js';

const FC = KASAN_SLAB_REDZONE;

describe('the shadow the hooks write', () => {
  it('kmalloc(123) unpoisons exactly 123 bytes: 00 x 15, 03, then redzone', () => {
    const k = kasanBoot();
    const p = k.kmalloc(123, GFP_KERNEL);
    expect(k.kasan!.shadowBytes(p, 17)).toEqual([...Array(15).fill(0), 3, FC]);
    k.kfree(p);
    expect(k.kasan!.shadowBytes(p, 17)).toEqual([KASAN_SLAB_FREE_META, ...Array(15).fill(KASAN_SLAB_FREE), FC]);
  });

  it('krealloc re-poisons to the new size; ksize does not unpoison', () => {
    const k = kasanBoot();
    const p = k.kmalloc(100, GFP_KERNEL);
    expect(k.ksize(p)).toBe(128);
    expect(k.kasan!.accessible(p + 100)).toBe(false);
    expect(k.krealloc(p, 120, GFP_KERNEL)).toBe(p);
    expect(k.kasan!.accessible(p + 119)).toBe(true);
    expect(k.kasan!.accessible(p + 120)).toBe(false);
    expect(k.krealloc(p, 10, GFP_KERNEL)).toBe(p);
    expect(k.kasan!.shadowBytes(p, 3)).toEqual([0, 2, FC]);
  });

  it('pages: 00 when allocated, ff when freed; a large kmalloc has a page redzone', () => {
    const k = kasanBoot();
    const page = k.allocPages(1, GFP_KERNEL);
    expect(new Set(k.kasan!.shadowBytes(page, 1024))).toEqual(new Set([0]));
    k.freePages(page, 1);
    expect(new Set(k.kasan!.shadowBytes(page, 1024))).toEqual(new Set([KASAN_PAGE_FREE]));
    const big = k.kmalloc(8202, GFP_KERNEL);
    expect(k.kasan!.shadowBytes(big + 8192, 3)).toEqual([0, 2, KASAN_PAGE_REDZONE]);
    expect(k.kasan!.shadowBytes(big + 16384 - 8, 1)).toEqual([KASAN_PAGE_REDZONE]);
  });

  it("globals get the compiler's redzone: 32 bytes at least, ending 32-byte aligned", () => {
    expect([1, 10, 24, 32, 33, 100, 1000].map((n) => n + globalRedzone(n))).toEqual([64, 64, 64, 64, 96, 160, 1248]);
  });

  it('the range check is byte-precise over partial granules', () => {
    const s = new Shadow(1 << 16, false);
    s.unpoison(4096, 13); // 00 05
    s.poison(4112, 8, FC);
    expect(s.poisoned(4096, 13)).toBe(false);
    expect(s.poisoned(4096, 14)).toBe(true);
    expect(s.poisoned(4104, 4)).toBe(false);
    expect(s.poisoned(4104, 8)).toBe(true);
    expect(s.poisoned(4098, 8)).toBe(false);
    expect(s.poisoned(4098, 16)).toBe(true);
    expect(s.poisoned(4097, 2)).toBe(false);
    expect(s.findFirstBadAddr(4100, 16)).toBe(4108);
    expect(s.allocSize(4096, 32)).toBe(13);
  });
});

describe('geometry and merging under KASAN', () => {
  it('kmalloc-32 slots are 64 bytes apart (32-byte object + metadata + redzone)', () => {
    const k = kasanBoot();
    expect(k.sys.read('/sys/kernel/slab/kmalloc-32/slab_size').trim()).toBe('64');
    const a = k.kmalloc(32, GFP_KERNEL);
    const b = k.kmalloc(32, GFP_KERNEL);
    expect(Math.abs(b - a)).toBe(64);
  });

  it('KASAN caches never merge', () => {
    const k = kasanBoot();
    const a = k.kmemCacheCreate('one', 72);
    const b = k.kmemCacheCreate('two', 72);
    expect(a).not.toBe(b);
    const plain = boot({ memory: '64M' });
    expect(plain.kmemCacheCreate('one', 72)).toBe(plain.kmemCacheCreate('two', 72));
  });

  it('without KASAN: the plain accessor, no shadow, no hooks', () => {
    const k = boot({ memory: '64M' });
    expect(k.kasan).toBeNull();
    expect(k.mem.constructor).toBe(MemAccess);
    expect(k.slub.hooks.slabAlloc).toBeNull();
    expect(k.kasanCheckRead(0, 8)).toBe(true);
    const q = kasanBoot();
    expect(q.mem).toBeInstanceOf(KasanMemAccess);
    expect(() => boot({ kasan: 'sw_tags' as never })).toThrow(RangeError);
  });
});

describe('the quarantine', () => {
  it('has the kernel limits: 1/32 of RAM, less 1 MiB per CPU; batches of at least 1 MiB', () => {
    const k = boot({ memory: '128M', cpus: 2, kasan: 'generic' });
    const q = k.kasan!.quarantine;
    const managed = k.kasan!.quarantine.maxSize + 2 * (1 << 20);
    expect(managed).toBeGreaterThan(3.9 * (1 << 20));
    expect(managed).toBeLessThanOrEqual(4 * (1 << 20));
    expect(q.batchSize).toBe(1 << 20);
    expect(q.batches).toBe(1024);
  });

  it('keeps freed objects from reuse, FIFO, and gives them back when over the limit', () => {
    const k = boot({ memory: '32M', cpus: 1, kasan: 'generic' });
    const q = k.kasan!.quarantine;
    k.kasan!.stackCollection = false; // kasan.stacktrace=off: this loop is about the quarantine
    const first = k.kmalloc(64, GFP_KERNEL);
    k.kfree(first);
    const seen = new Set<number>();
    // 1 MiB of 128-byte slots (8192) passes the per-CPU limit; max_size is 0
    // here, so the next allocation's reduce() gives that batch back; later
    // allocations come round to first's slab.
    for (let i = 0; i < 20000; i++) {
      const p = k.kmalloc(64, GFP_KERNEL);
      seen.add(p);
      k.kfree(p);
    }
    expect(seen.has(first)).toBe(true);
    expect(q.stats().bytes).toBeLessThanOrEqual(1 << 20);
  });

  it('kmem_cache_destroy and kmem_cache_shrink take a cache back out of the quarantine', () => {
    const k = kasanBoot();
    const c = k.kmemCacheCreate('q_test', 100);
    const objs = Array.from({ length: 10 }, () => k.kmemCacheAlloc(c, GFP_KERNEL));
    for (const o of objs) k.kmemCacheFree(c, o);
    expect(objs.every((o) => k.kasan!.quarantine.contains(o))).toBe(true);
    k.kmemCacheShrink(c);
    expect(objs.some((o) => k.kasan!.quarantine.contains(o))).toBe(false);
    const n = k.dmesg().length;
    k.kmemCacheDestroy(c);
    expect(k.dmesg().slice(n).join('\n')).not.toMatch(/Objects remaining/);
  });
});
