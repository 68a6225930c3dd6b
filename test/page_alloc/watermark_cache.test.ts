/**
 * The order-0 watermark cache of zone_watermark_fast() (Zones.wmarkOk0): the
 * answer is kept per zone while NR_FREE_PAGES stays where it was, and any
 * other zone field written (watermarks, boost, lowmem_reserve, the
 * highatomic reserve) clears it. The kernel itself recomputes the check on
 * every allocation; these tests hold the cache to the same answers.
 *
 * A 32M machine (the numbers of watermark.test.ts): DMA32 min 90, low 112,
 * pcp batch 1, so a page freed to the pcp list sits there and the next
 * GFP_NOWAIT allocation takes it without changing the zone's free count.
 * GFP_NOWAIT has no reclaim and no reserves: the low watermark, then min in
 * the slow path, then failure.
 */
import { describe, expect, it } from 'vitest';
import { __GFP_NOWARN, boot, GFP_KERNEL, GFP_NOWAIT, type Kernel } from '../../src/index.js';
import { MAX_NR_ZONES, Z_BOOST, Z_FREE } from '../../src/page_alloc/mmzone.js';

const nrFree = (k: Kernel) => Number(/^nr_free_pages (\d+)$/m.exec(k.proc.read('/proc/vmstat'))![1]);
const pgallocFail = (k: Kernel) => Number(/^pgalloc_fail (\d+)$/m.exec(k.proc.read('/proc/vmstat'))?.[1] ?? 'NaN');

/** One page allocated and freed again: it waits on this CPU's pcp list, and the watermark check has passed at this free count. */
function warm(k: Kernel): void {
  const a = k.allocPages(0, GFP_NOWAIT);
  expect(a).not.toBe(0);
  k.freePages(a, 0);
  // The pcp hit does not move NR_FREE_PAGES: the cached answer applies.
  const free = nrFree(k);
  const b = k.allocPages(0, GFP_NOWAIT);
  expect(b).toBe(a);
  expect(nrFree(k)).toBe(free);
  k.freePages(b, 0);
}

describe('the order-0 watermark cache', () => {
  it('a boost written with the free count unchanged makes the next allocation fail both watermarks', () => {
    const k = boot({ memory: '32M', cpus: 1, transparentHugepage: 'never' });
    warm(k);
    const free = nrFree(k);
    const zones = k.pageAlloc.zones;
    // DMA32 holds ~3900 free pages: a boost of 10000 puts low and min above them (boost adds to every mark).
    for (let z = 0; z < MAX_NR_ZONES; z++) if (zones.populated(z)) zones.set(z, Z_BOOST, 10000);
    expect(nrFree(k)).toBe(free);
    expect(k.allocPages(0, GFP_NOWAIT | __GFP_NOWARN)).toBe(0);
    // Nothing was taken: the free count and the pcp page are where they were.
    expect(nrFree(k)).toBe(free);
    // The boost gone, the same page comes back at the same free count.
    for (let z = 0; z < MAX_NR_ZONES; z++) if (zones.populated(z)) zones.set(z, Z_BOOST, 0);
    expect(k.allocPages(0, GFP_NOWAIT)).not.toBe(0);
  });

  it('min_free_kbytes raised through sysctl with the free count unchanged: the next GFP_NOWAIT allocation fails', () => {
    const k = boot({ memory: '32M', cpus: 1, transparentHugepage: 'never' });
    warm(k);
    const free = nrFree(k);
    const fails = pgallocFail(k);
    const before = k.proc.read('/proc/sys/vm/min_free_kbytes');
    // 65536 kB = 16384 pages of min, more than the whole machine: every zone is below min.
    k.proc.write('/proc/sys/vm/min_free_kbytes', '65536');
    expect(nrFree(k)).toBe(free);
    expect(k.allocPages(0, GFP_NOWAIT | __GFP_NOWARN)).toBe(0);
    expect(pgallocFail(k)).toBe(fails + 1);
    k.proc.write('/proc/sys/vm/min_free_kbytes', before);
    expect(k.allocPages(0, GFP_NOWAIT)).not.toBe(0);
  });

  it('a free count that moves below low is checked afresh: GFP_KERNEL leaves exactly low (112) pages in DMA32, as without the cache', () => {
    // 32M, DMA32 low 112 and batch 1: every fast-path allocation takes one page from the buddy lists,
    // so the free count changes each time and the cached answer never applies past its free count.
    const k = boot({ memory: '32M', cpus: 1, transparentHugepage: 'never' });
    const zones = k.pageAlloc.zones;
    const dma32 = 1;
    let n = 0;
    // The fast path's own stop: while DMA32 has more than low (112) free pages, GFP_KERNEL takes from DMA32.
    for (;;) {
      const a = k.allocPages(0, GFP_KERNEL | __GFP_NOWARN);
      expect(a).not.toBe(0);
      if (k.pageAlloc.pageZone(a / 4096) !== dma32) break;
      n++;
    }
    expect(n).toBeGreaterThan(0);
    expect(zones.get(dma32, Z_FREE)).toBe(112);
  });
});
