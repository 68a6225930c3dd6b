/**
 * The benchmark harness every fair comparison uses (issue 15): each
 * contender's loop is a function of its own in a module of its own (V8
 * compiles and specializes each call site apart from its peers'; one shared
 * call site lets whichever contender runs first decide the compiled code),
 * the contenders' rounds are interleaved in one process (A B C A B C ...,
 * so a slow phase of the machine hits all of them), and each table gives
 * the min and the median over the rounds. V8's compiles are bimodal per
 * process, so every benchmark is registered twice (`twice`): bench/run.ts
 * runs each in a fresh process and the two tables show both modes; a ratio
 * is only ever taken between contenders of the same process.
 */

export interface Contender {
  name: string;
  /** untimed, before each round */
  before?: () => void;
  /** the timed work: `n` operations asked (a contender with a fixed round may ignore it); returns the operations done */
  run: (n: number) => number;
  /** untimed, after each round */
  after?: () => void;
}

export interface Result {
  name: string;
  /** ns per operation: the fastest round and the median round */
  min: number;
  median: number;
  /** operations per round */
  ops: number;
}

export interface RoundOptions {
  /** timed rounds (each runs every contender once) */
  rounds: number;
  /** untimed rounds first, after the calibration (default 1 when calibrating, else 0) */
  warmup?: number;
  /** calibrate each contender's `n` so one of its rounds takes about this long (ms); without it, n = 1 */
  targetMs?: number;
  /** the clock in ns (default process.hrtime.bigint; a test gives a virtual one so nothing it asserts depends on the machine's load) */
  clock?: () => bigint;
}

/** Whatever the loops return, folded together so no loop's work is dead code. */
let sinkValue = 0;
export function sink(v: number): void {
  sinkValue = (sinkValue ^ v) | 0;
}

/** A full collection before each round when node runs with --expose-gc (bench/run.ts does): one contender's garbage is not collected in another's round. */
const gc = (globalThis as { gc?: () => void }).gc;

const hrtime = (): bigint => process.hrtime.bigint();

function timeRound(c: Contender, n: number, clock: () => bigint): { ns: number; ops: number } {
  c.before?.();
  gc?.();
  const t0 = clock();
  const ops = c.run(n);
  const t1 = clock();
  c.after?.();
  return { ns: Number(t1 - t0), ops };
}

/**
 * The n that makes one round of c take about targetMs: grow by 4x from 1
 * until a round takes a quarter of it, then rescale until a round lands
 * within [target/2, 2 target] (the first rounds run unoptimized code or
 * meet a GC, so one estimate is not enough).
 */
function calibrate(c: Contender, targetMs: number, clock: () => bigint): number {
  const target = targetMs * 1e6;
  let n = 1;
  for (let tries = 0; tries < 40; tries++) {
    const { ns } = timeRound(c, n, clock);
    if (ns < target / 4 && n < 2 ** 40) {
      n *= 4;
      continue;
    }
    if (ns >= target / 2 && ns <= target * 2) {
      // One slow round (a preemption on a loaded machine, a GC, a compile)
      // can land a tiny n in the window: a second round must agree.
      if (timeRound(c, n, clock).ns >= target / 4) return n;
      n *= 4;
      continue;
    }
    n = Math.max(1, Math.round((n * target) / Math.max(ns, 1)));
  }
  return n;
}

/** `rounds` rounds, each running every contender once in turn: each one's min and median ns per operation. */
export function interleaved(contenders: Contender[], opts: RoundOptions | number): Result[] {
  const o: RoundOptions = typeof opts === 'number' ? { rounds: opts } : opts;
  const clock = o.clock ?? hrtime;
  const sizes = contenders.map((c) => (o.targetMs === undefined ? 1 : calibrate(c, o.targetMs, clock)));
  const warmup = o.warmup ?? (o.targetMs === undefined ? 0 : 1);
  for (let r = 0; r < warmup; r++) for (let i = 0; i < contenders.length; i++) timeRound(contenders[i]!, sizes[i]!, clock);
  const ns: number[][] = contenders.map(() => []);
  const ops = contenders.map(() => 0);
  for (let r = 0; r < o.rounds; r++) {
    contenders.forEach((c, i) => {
      const t = timeRound(c, sizes[i]!, clock);
      ns[i]!.push(t.ns / t.ops);
      ops[i] = t.ops;
    });
  }
  return contenders.map((c, i) => {
    const s = ns[i]!.slice().sort((a, b) => a - b);
    return { name: c.name, min: s[0]!, median: s[s.length >> 1]!, ops: ops[i]! };
  });
}

/** A time per operation in ns, µs or ms. */
export function dur(v: number): string {
  if (v >= 1e6) return `${(v / 1e6).toFixed(2)} ms`;
  if (v >= 1e4) return `${(v / 1e3).toFixed(1)} µs`;
  return `${v < 100 ? v.toFixed(2) : v.toFixed(0)} ns`;
}

/** One table: each contender's min and median, and its median against `base`'s (same process, same rounds). */
export function table(title: string, rows: Result[], base: Result, nameWidth = 72): void {
  console.log(`\n${title}`);
  console.log(`  ${''.padEnd(nameWidth)} ${'min'.padStart(10)} ${'median'.padStart(10)}   median / ${base.name.split(':')[0]}`);
  for (const r of rows)
    console.log(`  ${r.name.padEnd(nameWidth)} ${dur(r.min).padStart(10)} ${dur(r.median).padStart(10)}   ${(r.median / base.median).toFixed(2).padStart(6)}x`);
  if (sinkValue === 0.5) console.log(sinkValue);
}

/** A bench function registered twice, so bench/run.ts runs it in two fresh processes: `{ benchX, benchXProcess2 }`. */
export function twice<K extends string>(name: K, fn: () => Promise<void> | void): Record<K | `${K}Process2`, () => Promise<void>> {
  const f = async () => {
    await fn();
  };
  return { [name]: f, [`${name}Process2`]: f } as Record<K | `${K}Process2`, () => Promise<void>>;
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
