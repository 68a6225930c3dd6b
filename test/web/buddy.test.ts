/**
 * The buddy panel's view-model against the kernel-format files kmem prints:
 * every number in the free_area table, nr_free and the fragmentation rows.
 */
import { describe, expect, it } from 'vitest';
import { GFP_HIGHUSER_MOVABLE, GFP_KERNEL } from '../../src/page_alloc/gfp.js';
import { buddyView, thousandths, watermarkState } from '../../web/model/buddy.js';
import { Session } from '../../web/model/session.js';
import { workloadById } from '../../web/model/workloads.js';

function fields(line: string): string[] {
  return line.trim().split(/\s+/);
}

describe('free_area table', () => {
  const s = new Session({ memory: '64M', cpus: 2, seed: 2, kasan: false }, workloadById('pages')!.make(2, 2));
  s.seek(3000);
  const zones = buddyView(s.k);

  it('has a row per migratetype per populated zone, as /proc/pagetypeinfo counts free blocks', () => {
    expect(zones.map((z) => z.name)).toEqual(['DMA', 'DMA32']);
    const lines = s.k.proc.read('/proc/pagetypeinfo').split('\n');
    for (const z of zones) {
      for (let mt = 0; mt < 5; mt++) {
        const line = lines.find(
          (l) => l.includes(`zone ${z.name.padStart(8)}, type`) && fields(l)[5] === ['Unmovable', 'Movable', 'Reclaimable', 'HighAtomic', 'Isolate'][mt],
        );
        expect(line).toBeDefined();
        expect(fields(line!).slice(6).map(Number)).toEqual(z.free[mt]);
      }
    }
  });

  it('nr_free per order is /proc/buddyinfo', () => {
    const lines = s.k.proc.read('/proc/buddyinfo').trim().split('\n');
    zones.forEach((z, i) => {
      expect(fields(lines[i]!).slice(4).map(Number)).toEqual(z.nrFree);
      expect(z.nrFree.reduce((n, v, o) => n + (v << o), 0)).toBe(z.freePages);
    });
  });

  it('the fragmentation rows are the debugfs unusable_index and extfrag_index', () => {
    const un = s.k.proc.read('/sys/kernel/debug/extfrag/unusable_index').trim().split('\n');
    const ex = s.k.proc.read('/sys/kernel/debug/extfrag/extfrag_index').trim().split('\n');
    zones.forEach((z, i) => {
      expect(fields(un[i]!).slice(4)).toEqual(z.unusable.map(thousandths));
      expect(fields(ex[i]!).slice(4)).toEqual(z.extfrag.map(thousandths));
    });
  });

  it('watermarks come from /proc/zoneinfo', () => {
    const zi = s.k.proc.read('/proc/zoneinfo');
    for (const z of zones) {
      const part = zi.split(/^Node 0, zone/m).find((p) => p.trim().startsWith(z.name))!;
      expect(Number(/\n\s+min\s+(\d+)/.exec(part)![1])).toBe(z.wmark.min);
      expect(Number(/\n\s+low\s+(\d+)/.exec(part)![1])).toBe(z.wmark.low);
      expect(Number(/\n\s+high\s+(\d+)/.exec(part)![1])).toBe(z.wmark.high);
      expect(Number(/pages free\s+(\d+)/.exec(part)![1])).toBe(z.freePages);
    }
  });
});

describe('helpers', () => {
  it('prints thousandths as %d.%03d with the sign of -0.x kept', () => {
    expect(thousandths(-1000)).toBe('-1.000');
    expect(thousandths(249)).toBe('0.249');
    expect(thousandths(-5)).toBe('-0.005');
    expect(thousandths(1000)).toBe('1.000');
  });

  it('says where free memory stands against the watermarks', () => {
    const s = new Session({ memory: '16M', cpus: 1, seed: 1, kasan: false });
    const z = buddyView(s.k)[0]!;
    expect(watermarkState(z)).toBe('above high');
    expect(watermarkState({ ...z, freePages: z.wmark.min })).toMatch(/below min/);
    expect(watermarkState({ ...z, freePages: z.wmark.low })).toMatch(/below low/);
    // A block taken moves the counts as the free lists do.
    const before = buddyView(s.k)[0]!.freePages;
    s.k.allocPages(3, GFP_HIGHUSER_MOVABLE);
    s.k.allocPages(5, GFP_KERNEL);
    expect(buddyView(s.k)[0]!.freePages).toBeLessThan(before - 32);
  });
});
