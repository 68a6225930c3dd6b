/**
 * What every benchmark file shares: measure a loop with mitata and print
 * ns/op with the ratio against a peer measured in the same run.
 */
import { measure } from 'mitata';

export interface Row {
  name: string;
  ns: number;
}

/** Mean ns per call of fn, over at least 0.3 s of CPU time. */
export async function ns(fn: () => void): Promise<number> {
  const s = await measure(fn, { min_cpu_time: 300e6 });
  return s.avg;
}

/** One table: each row's ns/op and its ratio to `base`. */
export function print(title: string, rows: Row[], base: Row, nameWidth = 52): void {
  console.log(`\n${title}`);
  for (const r of rows) {
    console.log(`  ${r.name.padEnd(nameWidth)} ${r.ns.toFixed(2).padStart(10)} ns/op   ${(r.ns / base.ns).toFixed(2).padStart(8)}x ${base.name}`);
  }
}

/** The benchmarks' seeded random numbers in [0, 1): xorshift32, the same sequence every run. */
export function xorshift32(seed: number): () => number {
  let x = seed;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 2 ** 32;
  };
}
