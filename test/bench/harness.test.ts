/** bench/harness.ts: rounds interleaved A B A B, min and median per operation, calibrated round sizes, two registrations per benchmark. */
import { describe, expect, it } from 'vitest';
import { type Contender, dur, interleaved, twice } from '../../bench/harness.js';

/** A virtual clock in ns: the contenders advance it, so no assertion depends on the machine's load. */
function virtualClock(): { now: bigint; read: () => bigint } {
  const c = { now: 0n, read: () => c.now };
  return c;
}

/** A contender whose every operation takes exactly `nsPerOp` of the virtual clock, logging its rounds. */
function spinner(name: string, nsPerOp: number, log: string[], clock: { now: bigint }): Contender {
  return {
    name,
    before: () => log.push(`${name}<`),
    run: (n) => {
      clock.now += BigInt(Math.round(n * nsPerOp));
      return n;
    },
    after: () => log.push(`${name}>`),
  };
}

describe('bench harness', () => {
  it('runs the rounds interleaved, each contender once per round, and reports min <= median per operation', () => {
    const log: string[] = [];
    const clock = virtualClock();
    const r = interleaved([spinner('A', 1000, log, clock), spinner('B', 3000, log, clock)], { rounds: 3, clock: clock.read });
    expect(log).toEqual(['A<', 'A>', 'B<', 'B>', 'A<', 'A>', 'B<', 'B>', 'A<', 'A>', 'B<', 'B>']);
    expect(r.map((x) => x.name)).toEqual(['A', 'B']);
    for (const x of r) expect(x.min).toBeLessThanOrEqual(x.median);
    // one operation a round, each exactly its cost
    expect(r[0]!.min).toBe(1000);
    expect(r[1]!.median).toBe(3000);
  });

  it('calibrates each contender so one round takes about the target: a slower contender gets fewer operations', () => {
    const log: string[] = [];
    const clock = virtualClock();
    const [fast, slow] = interleaved([spinner('fast', 200, log, clock), spinner('slow', 20_000, log, clock)], { rounds: 3, targetMs: 4, clock: clock.read });
    // n grows 4x from 1 while a round takes under a quarter of the 4 ms target. fast: 4^6 * 200 ns = 0.82 ms grows
    // to 4^7 * 200 ns = 3.28 ms, inside [2 ms, 8 ms]. slow: 4^3 * 20 µs = 1.28 ms is outside the window, so n is
    // rescaled to round(64 * 4 ms / 1.28 ms) = 200, a 4 ms round.
    expect(fast!.ops).toBe(4 ** 7);
    expect(slow!.ops).toBe(200);
    expect(slow!.median).toBe(20_000);
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
