/**
 * What the caller's gfp flags do to a slab allocation (new_slab keeps only
 * the reclaim and constraint bits; kmalloc_fix_flags drops the bug bits),
 * and the allocation-failure lines: slab_out_of_memory() in its 6.12+ words,
 * rate limited, and the page allocator's one warning for an order above
 * MAX_PAGE_ORDER.
 */
import { describe, expect, it } from 'vitest';
import { boot, type Kernel } from '../../src/kernel.js';
import { __GFP_DMA, __GFP_DMA32, __GFP_HIGHMEM, __GFP_NOWARN, GFP_KERNEL } from '../../src/page_alloc/gfp.js';
import { ZONE_DMA } from '../../src/page_alloc/mmzone.js';
import { KMALLOC_MAX_SIZE } from '../../src/slub/kmalloc_info.js';
import { SLAB_CACHE_DMA } from '../../src/slub/slab_flags.js';
import { sid } from './handle_id.js';

const zoneOf = (k: Kernel, addr: number) => k.pageAlloc.pageZone(Math.floor(addr / 4096));
const text = (k: Kernel) => k.dmesg().join('\n');

describe('the zone of a new slab comes from its cache, not the caller', () => {
  it('kmem_cache_alloc(plain cache, GFP_KERNEL | __GFP_DMA) takes a slab outside ZONE_DMA', () => {
    const k = boot({ memory: '128M', cpus: 1 });
    const c = k.kmemCacheCreate('plain', 256, {});
    const p = k.kmemCacheAlloc(c, GFP_KERNEL | __GFP_DMA);
    expect(p).toBeGreaterThan(0);
    expect(zoneOf(k, p)).not.toBe(ZONE_DMA);
  });

  it('a SLAB_CACHE_DMA cache takes its slabs from ZONE_DMA whatever the caller asks', () => {
    const k = boot({ memory: '128M', cpus: 1 });
    const c = k.kmemCacheCreate('dma_cache', 256, { flags: SLAB_CACHE_DMA });
    expect(zoneOf(k, k.kmemCacheAlloc(c, GFP_KERNEL))).toBe(ZONE_DMA);
  });
});

describe('kmalloc_fix_flags(): __GFP_DMA32 and __GFP_HIGHMEM are not for slab allocations', () => {
  it('a new slab with __GFP_DMA32 warns with the fixed flags and a stack', () => {
    const k = boot({ memory: '128M', cpus: 1 });
    const c = k.kmemCacheCreate('dma32_asker', 512, {});
    const p = k.kmemCacheAlloc(c, GFP_KERNEL | __GFP_DMA32);
    expect(p).toBeGreaterThan(0);
    const lines = k.dmesg();
    const at = lines.findIndex((l) => l.includes('Unexpected gfp'));
    expect(lines[at]).toMatch(/^(\[[ \d.]+\] )?Unexpected gfp: 0x4 \(GFP_DMA32\)\. Fixing up to gfp: 0xcc0 \(GFP_KERNEL\)\. Fix your code!$/);
    expect(lines[at + 1]).toMatch(/CPU: 0 UID: 0 PID: \d+ Comm: /);
  });

  it('a large kmalloc with __GFP_HIGHMEM is fixed too', () => {
    const k = boot({ memory: '128M', cpus: 1 });
    expect(k.kmalloc(64 * 1024, GFP_KERNEL | __GFP_HIGHMEM)).toBeGreaterThan(0);
    expect(text(k)).toContain('Unexpected gfp: 0x2 (__GFP_HIGHMEM). Fixing up to gfp: 0xcc0 (GFP_KERNEL). Fix your code!');
  });

  it('an allocation served from the cpu freelist does not look at the flags', () => {
    const k = boot({ memory: '128M', cpus: 1 });
    const c = k.kmemCacheCreate('warm', 512, {});
    k.kmemCacheFree(c, k.kmemCacheAlloc(c, GFP_KERNEL));
    k.kmemCacheAlloc(c, GFP_KERNEL | __GFP_DMA32);
    expect(text(k)).not.toContain('Unexpected gfp');
  });
});

describe('kmalloc above KMALLOC_MAX_SIZE', () => {
  it('returns NULL with one WARN from the page allocator per boot, none with __GFP_NOWARN', () => {
    const k = boot({ memory: '64M', cpus: 1 });
    expect(k.kmalloc(KMALLOC_MAX_SIZE + 1, GFP_KERNEL | __GFP_NOWARN)).toBe(0);
    expect(text(k)).not.toContain('cut here');
    expect(k.kmalloc(KMALLOC_MAX_SIZE + 1, GFP_KERNEL)).toBe(0);
    expect(k.kmalloc(2 ** 60, GFP_KERNEL)).toBe(0);
    expect(k.kmalloc(Number.MAX_SAFE_INTEGER, GFP_KERNEL)).toBe(0);
    const lines = k.dmesg();
    expect(lines.filter((l) => l.includes('------------[ cut here ]------------'))).toHaveLength(1);
    const at = lines.findIndex((l) => l.includes('cut here'));
    expect(lines[at + 1]).toMatch(/WARNING: CPU: 0 PID: \d+ at mm\/page_alloc\.c/);
  });
});

describe('slab_out_of_memory()', () => {
  /** Fill a 32 MiB machine with kmalloc-4k objects until an allocation fails. */
  function exhaust(k: Kernel, gfp = GFP_KERNEL): number {
    let n = 0;
    while (k.kmalloc(4096, gfp) !== 0) n++;
    return n;
  }

  it('prints the 6.12+ lines: CPU and node, the cache, the node counts', () => {
    const k = boot({ memory: '32M', cpus: 2 });
    exhaust(k);
    const lines = k.dmesg().map((l) => l.replace(/^\[[ \d.]+\] /, ''));
    const at = lines.findIndex((l) => l.startsWith('SLUB: Unable to allocate'));
    expect(lines[at]).toBe('SLUB: Unable to allocate memory on CPU 0 (of node 0) on node -1, gfp=0xcc0(GFP_KERNEL)');
    expect(lines[at + 1]).toBe('  cache: kmalloc-4k, object size: 4096, buffer size: 4096, default order: 3, min order: 0');
    const kc = k.slab.findByName('kmalloc-4k');
    const slabs = k.sys.read('/sys/kernel/slab/kmalloc-4k/slabs').split(' ')[0];
    const objs = k.sys.read('/sys/kernel/slab/kmalloc-4k/total_objects').split(' ')[0];
    // free: the node partial list's free objects only (count_partial_free_approx), not the cpu slab's.
    expect(lines[at + 2]).toBe(`  node 0: slabs: ${slabs}, objs: ${objs}, free: ${k.slub.countPartialFree(sid(k, kc))}`);
    // The page allocator said so first.
    expect(lines.slice(0, at).some((l) => /: page allocation failure: order:0, mode:0xcc0\(GFP_KERNEL\)/.test(l))).toBe(true);
  });

  it('says when debugging raised the minimum order', () => {
    const k = boot({ memory: '32M', cpus: 1, slubDebug: 'FZPU,kmalloc-4k' });
    exhaust(k);
    expect(text(k)).toContain('  kmalloc-4k debugging increased min order, use slab_debug=O to disable.');
  });

  it('nothing with __GFP_NOWARN', () => {
    const k = boot({ memory: '32M', cpus: 1 });
    exhaust(k, GFP_KERNEL | __GFP_NOWARN);
    expect(text(k)).not.toMatch(/SLUB: Unable|page allocation failure/);
  });

  it('is rate limited: 10 per 5 seconds, then "callbacks suppressed" when the next interval begins', () => {
    const k = boot({ memory: '32M', cpus: 1 });
    exhaust(k);
    for (let i = 0; i < 14; i++) k.kmalloc(4096, GFP_KERNEL);
    const count = () => k.dmesg().filter((l) => l.includes('SLUB: Unable to allocate')).length;
    expect(count()).toBe(10);
    k.tick(6_000_000_000);
    k.kmalloc(4096, GFP_KERNEL);
    expect(count()).toBe(11);
    expect(text(k)).toMatch(/slab_out_of_memory: 5 callbacks suppressed/);
    expect(text(k)).toMatch(/warn_alloc: 5 callbacks suppressed/);
  });
});
