/**
 * kmem top's memory-pressure panel: zones against their watermarks read
 * from /proc/zoneinfo (a real one from this project's Linux 6.18 machine,
 * test/fixtures/cli/host-zoneinfo.txt, values read off it by hand), the
 * state each free count puts a zone in, and the reclaim/swap line.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { formatPressure, type Pressure, pressure, topOnce, zonePressure } from '../../src/cli/top.js';
import { boot } from '../../src/index.js';
import { root } from './helpers.js';

describe('memory pressure in kmem top', () => {
  it('reads each populated zone of a real /proc/zoneinfo, skipping Movable and Device (no managed pages)', () => {
    const z = zonePressure(readFileSync(join(root, 'test/fixtures/cli/host-zoneinfo.txt'), 'utf8'));
    expect(z).toEqual([
      { zone: 'DMA', free: 3840, min: 26, low: 32, high: 38, managed: 3840, state: 'ok' },
      { zone: 'DMA32', free: 772848, min: 5334, low: 6667, high: 8000, managed: 772848, state: 'ok' },
      { zone: 'Normal', free: 1046221, min: 11535, low: 14418, high: 17301, managed: 1671168, state: 'ok' },
    ]);
  });

  it('places free against the watermarks: above high, below high, at or below low, at or below min', () => {
    const zi = (free: number) =>
      `Node 0, zone   Normal\n  pages free     ${free}\n        min      100\n        low      125\n        high     150\n        managed  4096\n`;
    expect([151, 150, 126, 125, 101, 100, 0].map((f) => zonePressure(zi(f))[0]!.state)).toEqual(['ok', 'high', 'high', 'low', 'low', 'min', 'min']);
  });

  it('shows the reclaim counters with their change since the last refresh, and swap', () => {
    const p = (scan: number, steal: number): Pressure => ({
      zones: [{ zone: 'DMA32', free: 300, min: 316, low: 395, high: 474, managed: 28672, state: 'min' }],
      counters: { pgscan_kswapd: scan, pgsteal_kswapd: steal, pgscan_direct: 0, pgsteal_direct: 0, pswpin: 0, pswpout: 7, oom_kill: 0 },
      swapTotalKb: 262140,
      swapUsedKb: 28,
    });
    expect(formatPressure(p(100, 90), p(40, 30))).toEqual([
      ' Zone DMA32   free      300  min    316  low    395  high    474 pages  at/below min: direct reclaim',
      ' kswapd: scanned 100 (+60), reclaimed 90 (+60); direct: scanned 0 (+0), reclaimed 0 (+0)',
      ' Swap: 28K / 262140K used; swapped in 0 (+0), out 7 (+0) pages; OOM kills 0 (+0)',
    ]);
  });

  it("reads a booted machine's files: its zones above high, swap off", () => {
    const k = boot({ memory: '128M' });
    const p = pressure(k);
    expect(p.zones.map((z) => z.zone)).toEqual(['DMA', 'DMA32']);
    for (const z of p.zones) expect(z.state).toBe('ok');
    expect(p.swapTotalKb).toBe(0);
    expect(p.counters.pgscan_kswapd).toBe(0);
    expect(formatPressure(p, null).at(-1)).toBe(' Swap: off; swapped in 0, out 0 pages; OOM kills 0');
  });

  it("kmem top -o --json carries the pressure figures beside slabtop's", () => {
    const k = boot({ memory: '128M' });
    const j = JSON.parse(topOnce({ k, workload: null, bootLog: [] }, { delay: 3, once: true, sort: 'o', steps: 0, rate: false, json: true }));
    expect(Object.keys(j)).toEqual(['summary', 'pressure', 'caches']);
    expect(j.pressure).toEqual(pressure(k));
    const text = topOnce({ k, workload: null, bootLog: [] }, { delay: 3, once: true, sort: 'o', steps: 0, rate: false, json: false });
    expect(text).not.toContain('Zone DMA32'); // the plain -o screen stays slabtop -o's
  });
});
