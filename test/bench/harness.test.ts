/** bench/harness.ts: rounds interleaved A B A B, min and median per operation, calibrated round sizes, two registrations per benchmark. */
import { describe, expect, it } from 'vitest';
import { type Contender, dur, interleaved, twice } from '../../bench/harness.js';

/** A contender that spins about `nsPerOp` per operation and logs its rounds. */
function spinner(name: string, nsPerOp: number, log: string[]): Contender {
  return {
    name,
    before: () => log.push(`${name}<`),
    run: (n) => {
      const end = process.hrtime.bigint() + BigInt(Math.round(n * nsPerOp));
      while (process.hrtime.bigint() < end);
      return n;
    },
    after: () => log.push(`${name}>`),
  };
}

describe('bench harness', () => {
  it('runs the rounds interleaved, each contender once per round, and reports min <= median per operation', () => {
    const log: string[] = [];
    const r = interleaved([spinner('A', 1000, log), spinner('B', 3000, log)], 3);
    expect(log).toEqual(['A<', 'A>', 'B<', 'B>', 'A<', 'A>', 'B<', 'B>', 'A<', 'A>', 'B<', 'B>']);
    expect(r.map((x) => x.name)).toEqual(['A', 'B']);
    for (const x of r) expect(x.min).toBeLessThanOrEqual(x.median);
    // one operation a round: at least the spin
    expect(r[0]!.min).toBeGreaterThanOrEqual(1000);
    expect(r[1]!.min).toBeGreaterThanOrEqual(3000);
  });

  it('calibrates each contender so one round takes about the target: a slower contender gets fewer operations', () => {
    const log: string[] = [];
    const [fast, slow] = interleaved([spinner('fast', 200, log), spinner('slow', 20_000, log)], { rounds: 3, targetMs: 4 });
    // within a factor of the 4 ms target (wider than the harness's 2x: a shared machine preempts the spin)
    expect(fast!.ops * 200).toBeGreaterThan(4e6 / 8);
    expect(fast!.ops * 200).toBeLessThan(4e6 * 4);
    expect(slow!.ops).toBeLessThan(fast!.ops / 20);
    expect(slow!.median).toBeGreaterThanOrEqual(20_000);
  });

  it('formats durations and registers a benchmark for two processes', () => {
    expect(dur(3.456)).toBe('3.46 ns');
    expect(dur(345.6)).toBe('346 ns');
    expect(dur(34_560)).toBe('34.6 µs');
    expect(dur(3_456_000)).toBe('3.46 ms');
    const f = () => {};
    expect(Object.keys(twice('benchX', f))).toEqual(['benchX', 'benchXProcess2']);
  });
});
