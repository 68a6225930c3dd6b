/**
 * A/B probe for the slub_debug=FZP kmalloc(64) + kfree pair (issue 15, goal
 * <= 300 ns), timed in this process's CPU time (process.cpuUsage) beside
 * wall time, so a machine shared with other busy processes still gives
 * usable figures:
 *
 *   node --expose-gc build/bench/slub_debug_cpu_probe.js DIR_A [DIR_B ...] [ROUNDS]
 *
 * Each DIR is a compiled build (e.g. build, or a copy of an older one).
 * Every build boots two machines in this process, slub_debug=FZP and off;
 * the rounds of all contenders are interleaved, each loop is a function of
 * its own (new Function) so no contender's type feedback shapes another's
 * code, and a GC runs before each round. Prints min and median per pair,
 * wall and CPU, and the FZP pair's CPU min over the same build's off pair.
 */
import { pathToFileURL } from 'node:url';

interface Machine {
  kmalloc(size: number, gfp: number): number;
  kfree(addr: number): void;
}
type Boot = (o: Record<string, unknown>) => Machine;
type Loop = (k: Machine, gfp: number, n: number) => number;

interface Contender {
  name: string;
  k: Machine;
  gfp: number;
  loop: Loop;
  n: number;
  wall: number[];
  cpu: number[];
}

const cpuNs = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) * 1000;
};
const median = (a: number[]): number => [...a].sort((x, y) => x - y)[a.length >> 1]!;
const gc = (globalThis as { gc?: () => void }).gc;

const args = process.argv.slice(2);
const rounds = Number(args.find((a) => /^\d+$/.test(a)) ?? 15);
const dirs = args.filter((a) => !/^\d+$/.test(a));
if (dirs.length === 0) throw new RangeError('slub_debug_cpu_probe: give at least one build directory (DIR_A [DIR_B ...] [ROUNDS])');

const contenders: Contender[] = [];
for (const dir of dirs) {
  const index = (await import(pathToFileURL(`${dir}/src/index.js`).href)) as { boot: Boot; GFP_KERNEL: number };
  for (const [label, slubDebug, n] of [
    ['FZP', 'FZP', 20_000],
    ['off', undefined, 1_000_000],
  ] as const) {
    const k = index.boot({ memory: '128M', cpus: 2, ...(slubDebug === undefined ? {} : { slubDebug }) });
    // A loop of its own per contender (new Function: its own feedback and code).
    const loop = new Function(
      'k',
      'gfp',
      'n',
      'let s = 0; for (let i = 0; i < n; i++) { const p = k.kmalloc(64, gfp); s ^= p; k.kfree(p); } return s;',
    ) as Loop;
    loop(k, index.GFP_KERNEL, n * 5);
    contenders.push({ name: `${dir} ${label}`, k, gfp: index.GFP_KERNEL, loop, n, wall: [], cpu: [] });
  }
}
for (let r = 0; r < rounds; r++) {
  for (const c of contenders) {
    gc?.();
    const c0 = cpuNs();
    const t0 = process.hrtime.bigint();
    c.loop(c.k, c.gfp, c.n);
    const t1 = process.hrtime.bigint();
    c.cpu.push((cpuNs() - c0) / c.n);
    c.wall.push(Number(t1 - t0) / c.n);
  }
}
const f = (v: number) => (v < 100 ? v.toFixed(2) : v.toFixed(0)).padStart(7);
console.log(`kmalloc(64) + kfree, ns per pair, ${rounds} rounds interleaved (process.cpuUsage is in µs: CPU figures below ~5 ns are coarse)`);
console.log(`${''.padEnd(40)}   wall min  median    CPU min  median   FZP/off (CPU min)`);
for (let i = 0; i < contenders.length; i += 2) {
  const fzp = contenders[i]!;
  const off = contenders[i + 1]!;
  for (const c of [fzp, off]) {
    const ratio = c === fzp ? `${(Math.min(...fzp.cpu) / Math.min(...off.cpu)).toFixed(1)}x` : '';
    console.log(`${c.name.padEnd(40)} ${f(Math.min(...c.wall))} ${f(median(c.wall))}    ${f(Math.min(...c.cpu))} ${f(median(c.cpu))}   ${ratio}`);
  }
}
