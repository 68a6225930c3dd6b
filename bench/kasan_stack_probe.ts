/**
 * Where a KASAN pair's stack collection spends its time (issue 15): each
 * step of saving a stack timed alone, 12 frames below the loop, in this
 * process's CPU time (process.cpuUsage: usable on a shared machine).
 * Run: node --expose-gc build/bench/kasan_stack_probe.js
 */
import { boot, GFP_KERNEL } from '../src/index.js';

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

function time(name: string, n: number, f: () => unknown): void {
  for (let i = 0; i < 1000; i++) f();
  let best = Infinity;
  for (let r = 0; r < 7; r++) {
    const t0 = cpuNs();
    for (let i = 0; i < n; i++) f();
    const ns = (cpuNs() - t0) / n;
    if (ns < best) best = ns;
  }
  console.log(`${name.padEnd(60)} ${best.toFixed(0).padStart(8)} ns`);
}

function deep(d: number, f: () => void): void {
  if (d === 0) f();
  else deep(d - 1, f);
}

const sitesPrep = (_e: unknown, s: unknown) => s;
function wrapper(f: () => unknown): unknown {
  return f();
}
class Raw {
  stack: unknown = undefined;
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
  console.log(`${name.padEnd(60)} ${((m1 - m0) / keep.length).toFixed(0).padStart(8)} bytes each`);
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
  time('captureStackTrace(new Raw())', 20000, () => {
    const o = new Raw();
    Error.captureStackTrace(o);
    return o;
  });
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
  time('new Error + sites + getFileName', 5000, () => {
    let k = 0;
    for (const c of sites(new Error())) k += c.getFileName()?.length ?? 0;
    return k;
  });
  time('new Error + sites + getFunctionName', 5000, () => {
    let k = 0;
    for (const c of sites(new Error())) k += c.getFunctionName()?.length ?? 0;
    return k;
  });
  time('new Error + sites + getTypeName+getMethodName', 5000, () => {
    let k = 0;
    for (const c of sites(new Error())) k += (c.getTypeName()?.length ?? 0) + (c.getMethodName()?.length ?? 0);
    return k;
  });
  time('new Error + .stack formatted', 2000, () => (new Error() as { stack?: unknown }).stack);
  memory('new Error() (limit 17) retained', () => new Error());
  memory('captureStackTrace({}) retained', () => {
    const o = {};
    Error.captureStackTrace(o);
    return o;
  });
  const on = boot({ memory: '256M', cpus: 2, kasan: 'generic' });
  const off = boot({ memory: '256M', cpus: 2, kasan: 'generic', kasanStacks: 'off' });
  time('KASAN pair, no stacks', 20000, () => off.kfree(off.kmalloc(64, GFP_KERNEL)));
  time('KASAN pair, stacks (first 2000)', 2000, () => on.kfree(on.kmalloc(64, GFP_KERNEL)));
  time('KASAN pair, stacks', 20000, () => on.kfree(on.kmalloc(64, GFP_KERNEL)));
}

deep(8, probes);
