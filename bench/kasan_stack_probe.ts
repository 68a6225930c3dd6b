/**
 * Where a KASAN pair's stack collection spends its time (issue 15), in this
 * process's CPU time (process.cpuUsage, every thread: the GC's helpers
 * count; usable on a shared machine): each way of recording a stack timed
 * alone, 12 frames below the loop, with the bytes each record keeps alive;
 * then the pair itself in steady state (the quarantine full, the stack
 * depot's table at its budget) beside KASAN off and KASAN without stacks.
 * Run: node --expose-gc build/bench/kasan_stack_probe.js
 */
import { boot, GFP_KERNEL, type Kernel } from '../src/index.js';

type Site = {
  getFileName(): string | null;
  getPosition(): number;
  getFunctionName(): string | null;
  getTypeName(): string | null;
  getMethodName(): string | null;
};

const cpuNs = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) * 1000;
};

/** The best of 7 rounds of n calls, ns per call. */
function time(name: string, n: number, f: () => unknown): void {
  for (let i = 0; i < 1000; i++) f();
  let best = Infinity;
  for (let r = 0; r < 7; r++) {
    const t0 = cpuNs();
    for (let i = 0; i < n; i++) f();
    const ns = (cpuNs() - t0) / n;
    if (ns < best) best = ns;
  }
  console.log(`${name.padEnd(64)} ${best.toFixed(0).padStart(8)} ns`);
}

function deep(d: number, f: () => void): void {
  if (d === 0) f();
  else deep(d - 1, f);
}

const sitesPrep = (_e: unknown, s: unknown) => s;
function wrapper(f: () => unknown): unknown {
  return f();
}

function sites(o: { stack?: unknown }): Site[] {
  const p = Error.prepareStackTrace;
  Error.prepareStackTrace = sitesPrep as never;
  const s = o.stack as Site[];
  Error.prepareStackTrace = p;
  return s;
}

function memory(name: string, make: () => unknown): void {
  const gc = (globalThis as { gc?: () => void }).gc;
  const keep: unknown[] = new Array(20000);
  gc?.();
  const m0 = process.memoryUsage().heapUsed;
  for (let i = 0; i < keep.length; i++) keep[i] = make();
  gc?.();
  const m1 = process.memoryUsage().heapUsed;
  console.log(`${name.padEnd(64)} ${((m1 - m0) / keep.length).toFixed(0).padStart(8)} bytes each`);
}

function pairs(k: Kernel, n: number): number {
  let s = 0;
  for (let i = 0; i < n; i++) {
    const p = k.kmalloc(64, GFP_KERNEL);
    s ^= p;
    k.kfree(p);
  }
  return s;
}

/** Steady state first (100k pairs), then the min and median of 7 rounds of n pairs, ns per pair. */
function steady(name: string, k: Kernel, n: number): void {
  pairs(k, 100_000);
  const ns: number[] = [];
  for (let r = 0; r < 7; r++) {
    const t0 = cpuNs();
    pairs(k, n);
    ns.push((cpuNs() - t0) / n);
  }
  ns.sort((a, b) => a - b);
  console.log(`${name.padEnd(64)} ${ns[0]!.toFixed(0).padStart(8)} ns  (median ${ns[3]!.toFixed(0)})`);
}

function probes(): void {
  for (const lim of [0, 1, 4, 17]) {
    Error.stackTraceLimit = lim;
    time(`new Error() (limit ${lim})`, 20000, () => new Error());
    time(`captureStackTrace({}) (limit ${lim})`, 20000, () => {
      const o = {};
      Error.captureStackTrace(o);
      return o;
    });
  }
  Error.stackTraceLimit = 17;
  time('captureStackTrace({}, wrapper)', 20000, () =>
    wrapper(() => {
      const o = {};
      Error.captureStackTrace(o, wrapper);
      return o;
    }),
  );
  time('new Error + read sites', 5000, () => sites(new Error()));
  time('new Error + sites + getPosition', 5000, () => {
    let k = 0;
    for (const c of sites(new Error())) k += c.getPosition();
    return k;
  });
  time('new Error + .stack formatted', 2000, () => (new Error() as { stack?: unknown }).stack);
  // captureStackTrace() gives the object its own `stack` and frames as new properties: a dictionary.
  memory('new Error() (limit 17) retained', () => new Error());
  memory('captureStackTrace({}) (limit 17) retained', () => {
    const o = {};
    Error.captureStackTrace(o);
    return o;
  });
  Error.stackTraceLimit = 10;
  const off = boot({ memory: '256M', cpus: 2 });
  const noStacks = boot({ memory: '256M', cpus: 2, kasan: 'generic', kasanStacks: 'off' });
  const on = boot({ memory: '256M', cpus: 2, kasan: 'generic' });
  steady('pair, KASAN off', off, 2_000_000);
  steady('pair, KASAN on, no stacks', noStacks, 200_000);
  steady('pair, KASAN on, stacks (the depot at its budget)', on, 20_000);
}

deep(8, probes);
