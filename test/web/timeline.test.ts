/** The charts' samples over time. */
import { describe, expect, it } from 'vitest';
import { Session } from '../../web/model/session.js';
import { MAX_SAMPLES, Timeline } from '../../web/model/timeline.js';
import { workloadById } from '../../web/model/workloads.js';

describe('timeline', () => {
  it('samples slab pages per cache, free pages per order and the allocation rate', () => {
    const s = new Session({ memory: '32M', cpus: 2, seed: 1, kasan: false }, workloadById('boot')!.make(2, 1));
    const t = new Timeline();
    expect(t.sample(s.k, 0)).toBe(true);
    for (let i = 1; i <= 20; i++) {
      s.run(100);
      t.sample(s.k, s.pos);
    }
    expect(t.sample(s.k, s.pos)).toBe(false);
    expect(t.x).toHaveLength(21);
    for (const series of [...t.freeByOrder, ...t.slabPages.values(), t.objAllocs, t.pageAllocs]) expect(series).toHaveLength(21);
    // Free pages per order add up to the free pages of the zones.
    const last = t.freeByOrder.reduce((n, a) => n + a[20]!, 0);
    const free = s.k.proc
      .read('/proc/buddyinfo')
      .trim()
      .split('\n')
      .reduce(
        (n, l) =>
          n +
          l
            .trim()
            .split(/\s+/)
            .slice(4)
            .reduce((m, v, o) => m + (Number(v) << o), 0),
        0,
      );
    expect(last).toBe(free);
    const top = t.topCaches(3);
    expect(top).toHaveLength(3);
    expect(t.slabPages.get(top[0]!)!.at(-1)).toBeGreaterThan(0);
    // About one operation in two allocates an object.
    const mean = t.objAllocs.slice(1).reduce((a, b) => a + b, 0) / 20;
    expect(mean).toBeGreaterThan(20);
    expect(mean).toBeLessThan(80);
    expect(t.otherCaches(top)).toHaveLength(21);
  });

  it('thins out old samples past the limit', () => {
    const s = new Session({ memory: '16M', cpus: 1, seed: 1, kasan: false });
    const t = new Timeline();
    for (let i = 0; i <= MAX_SAMPLES + 5; i++) t.sample(s.k, i);
    expect(t.x.length).toBeLessThanOrEqual(MAX_SAMPLES);
    expect(t.x.at(-1)).toBe(MAX_SAMPLES + 5);
    expect(t.objAllocs).toHaveLength(t.x.length);
  });
});
