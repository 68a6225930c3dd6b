/**
 * kmem whatis on the three states a slab object can be in under KASAN:
 * allocated, freed but held in the quarantine, and free on a freelist.
 */
import { describe, expect, it } from 'vitest';
import { formatWhatis, whatis } from '../../src/cli/whatis.js';
import { boot } from '../../src/kernel.js';
import { GFP_KERNEL } from '../../src/page_alloc/gfp.js';

describe('kmem whatis with KASAN', () => {
  it('tells a quarantined object from an allocated one and from a free one', () => {
    const k = boot({ memory: '64M', cpus: 1, kasan: 'generic' });
    const p = k.kmalloc(64, GFP_KERNEL);
    const live = whatis(k, p);
    expect(live.slab!.free).toBe(false);
    expect(live.slab!.quarantined).toBe(false);
    expect(formatWhatis(k, live).split('\n')[0]).toMatch(/: allocated kmalloc-64 object /);

    k.kfree(p);
    const held = whatis(k, p);
    expect(held.slab!.free).toBe(false);
    expect(held.slab!.quarantined).toBe(true);
    const text = formatWhatis(k, held);
    expect(text.split('\n')[0]).toMatch(/: freed \(in the KASAN quarantine\) kmalloc-64 object /);
    expect(text).toMatch(/\[ffff8880[0-9a-f]{8}\] {2}\(index \d+\) {2}quarantined/);

    // Shrinking the cache drains its quarantine: the object is free again, or
    // its slab went back to the page allocator.
    k.kmemCacheShrink(k.kmemCacheByName('kmalloc-64'));
    const released = whatis(k, p);
    if (released.slab) {
      expect(released.slab.quarantined).toBe(false);
      expect(released.slab.free).toBe(true);
    } else {
      expect(['buddy', 'pcp']).toContain(released.state);
    }
  });
});
