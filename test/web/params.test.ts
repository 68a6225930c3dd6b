import { describe, expect, it } from 'vitest';
import { checkChoice, checkSeed, machineFromParams } from '../../web/model/params.js';

const parse = (q: string, kasan = true) => machineFromParams(new URLSearchParams(q), kasan, false);

describe('the page’s URL parameters', () => {
  it('takes good values', () => {
    const { cfg, problems } = parse('mem=256M&cpus=4&seed=3&kasan=1&slub_debug=FZPU');
    expect(problems).toEqual([]);
    expect(cfg).toMatchObject({ memory: '256M', cpus: 4, seed: 3, kasan: true, slubDebug: 'FZPU' });
  });

  it('names each bad parameter in one line and keeps its default', () => {
    const { cfg, problems } = parse('mem=5G&cpus=0&seed=abc');
    expect(problems).toEqual([
      "mem: '5G' is more than kmem supports (at most 4194300K, 4G less a page)",
      "cpus: expected 1..256, got '0'",
      "seed: expected a whole number, got 'abc'",
    ]);
    expect(cfg).toMatchObject({ memory: '128M', cpus: 2, seed: 1 });
    expect(parse('mem=abc').problems).toEqual(["mem: cannot parse size 'abc' (expected e.g. '128M', '1G' or a byte count)"]);
    expect(parse('mem=1M').problems).toEqual(["mem: '1M' is less than kmem supports (at least 4M)"]);
    expect(parse('cpus=1000').problems).toEqual(["cpus: expected 1..256, got '1000'"]);
    expect(parse('cpus=2.5').problems).toEqual(["cpus: expected a whole number, got '2.5'"]);
    expect(parse('kasan=1', false)).toMatchObject({ cfg: { kasan: false }, problems: ['kasan: this kmem has no KASAN; booted without it'] });
  });

  it('checks the seed box and the lists', () => {
    expect(checkSeed('7')).toBe(7);
    expect(checkSeed('-5')).toBe("seed: expected a whole number, got '-5'");
    expect(checkChoice('tab', null, ['caches'])).toBeNull();
    expect(checkChoice('tab', 'caches', ['caches'])).toBeNull();
    expect(checkChoice('tab', 'x', ['caches', 'buddy'])).toBe("tab: no tab 'x' (one of caches, buddy)");
  });
});
