/**
 * `kmem free`: procps-ng 4's free(1) on the machine's /proc/meminfo.
 *
 * The figures are derived as procps-ng 4.0's library (library/meminfo.c,
 * meminfo_read_failed) derives them from the file, and printed as its
 * src/free.c prints them: a 9-column row label, then right-aligned columns
 * of 11 separated by a space, scaled by scale_size().
 */

import type { Command } from 'commander';
import { addMachineOptions, addWorkloadOptions, intOpt, type Machine, runMachine, UsageError, type WorkloadOpts } from './machine.js';

export function example(...lines: string[]): string {
  return `\nExample${lines.length > 1 ? 's' : ''}:\n${lines.map((l) => `  $ ${l}`).join('\n')}`;
}

/** /proc/meminfo's lines as a name → value (kB, or a count for HugePages_*) map. */
export function parseMeminfo(text: string): Map<string, number> {
  const m = new Map<string, number>();
  for (const line of text.split('\n')) {
    const r = /^([^:\s]+):\s+(\d+)/.exec(line);
    if (r) m.set(r[1]!, Number(r[2]));
  }
  return m;
}

/** What free prints, in KiB, as procps's meminfo library derives it. */
export interface FreeFigures {
  memTotal: number;
  memUsed: number;
  memFree: number;
  shared: number;
  buffers: number;
  /** Cached + SReclaimable (MEMINFO_MEM_CACHED_ALL) */
  cache: number;
  available: number;
  active: number;
  inactive: number;
  lowTotal: number;
  lowUsed: number;
  lowFree: number;
  highTotal: number;
  highUsed: number;
  highFree: number;
  swapTotal: number;
  swapUsed: number;
  swapFree: number;
  commitLimit: number;
  committedAs: number;
}

/**
 * The derived values: MemAvailable 0 (a kernel without it) or above
 * MemTotal (a container) falls back to MemFree; used = total - available
 * (falling back to total - free if negative); swap used and low/high used
 * are total - free when free is below total, else 0; a kernel without
 * LowTotal (any 64-bit one) gets low = all of memory.
 */
export function freeFigures(meminfo: string): FreeFigures {
  const m = parseMeminfo(meminfo);
  const v = (name: string) => m.get(name) ?? 0;
  const memTotal = v('MemTotal');
  const memFree = v('MemFree');
  let available = v('MemAvailable');
  if (available === 0) available = memFree;
  if (available > memTotal) available = memFree;
  let memUsed = memTotal - available;
  if (memUsed < 0) memUsed = memTotal - memFree;
  let lowTotal = v('LowTotal');
  let lowFree = v('LowFree');
  if (lowTotal === 0) {
    lowTotal = memTotal;
    lowFree = memFree;
  }
  const highTotal = v('HighTotal');
  const highFree = v('HighFree');
  const swapTotal = v('SwapTotal');
  const swapFree = v('SwapFree');
  return {
    memTotal,
    memUsed,
    memFree,
    shared: v('Shmem'),
    buffers: v('Buffers'),
    cache: v('Cached') + v('SReclaimable'),
    available,
    active: v('Active'),
    inactive: v('Inactive'),
    lowTotal,
    lowUsed: lowFree < lowTotal ? lowTotal - lowFree : 0,
    lowFree,
    highTotal,
    highUsed: highFree < highTotal ? highTotal - highFree : 0,
    highFree,
    swapTotal,
    swapUsed: swapFree < swapTotal ? swapTotal - swapFree : 0,
    swapFree,
    commitLimit: v('CommitLimit'),
    committedAs: v('Committed_AS'),
  };
}

export interface FreeOptions {
  /** 0 the default (KiB), 1 bytes, 2 kilo/kibi, 3 mega/mebi, 4 giga/gibi, 5 tera/tebi, 6 peta/pebi */
  exponent: number;
  /** powers of 1000 (--si, --kilo...) */
  si: boolean;
  human: boolean;
  lohi: boolean;
  total: boolean;
  committed: boolean;
  wide: boolean;
}

export const FREE_DEFAULTS: FreeOptions = { exponent: 0, si: false, human: false, lohi: false, total: false, committed: false, wide: false };

/**
 * C's printf("%.1f") of a float: the float's exact binary value rounded to
 * one decimal, an exact tie going to the even digit (glibc), where JS's
 * toFixed would round a tie up.
 */
function fixed1(x: number): string {
  const t = Math.abs(x) * 10; // exact: a float has 24 significant bits
  const fl = Math.floor(t);
  const r = t - fl === 0.5 ? fl + (fl % 2) : Math.round(t);
  const s = String(r).padStart(2, '0');
  return `${x < 0 ? '-' : ''}${s.slice(0, -1)}.${s.slice(-1)}`;
}

const UNITS = ['B', 'K', 'M', 'G', 'T', 'P'];

/**
 * scale_size(): a KiB figure as free prints it. Not human: the bytes, or
 * bytes / base^(exponent-1) truncated (the default: KiB, kB under --si). Human (-h): bytes with
 * B while they fit 4 characters, then the first unit whose "%.1f" (then
 * "%ld") form fits 5 characters with "i" (4 without, under --si), the
 * quotient taken as a C float.
 */
export function scaleSize(kb: number, o: FreeOptions): string {
  const base = o.si ? 1000 : 1024;
  const bytes = kb * 1024;
  if (!o.human) {
    // the default (exponent 0) is KiB, or kB under --si
    if (o.exponent === 1) return String(bytes);
    return String(Math.trunc(bytes / base ** (Math.max(2, o.exponent) - 1)));
  }
  let s = `${bytes}B`;
  if (s.length <= 4) return s;
  for (let i = 1; i < UNITS.length; i++) {
    const q = bytes / base ** i;
    const suffix = o.si ? UNITS[i]! : `${UNITS[i]}i`;
    const room = o.si ? 4 : 5;
    s = `${fixed1(Math.fround(q))}${suffix}`;
    if (s.length <= room) return s;
    s = `${Math.trunc(q)}${suffix}`;
    if (s.length <= room) return s;
  }
  return s;
}

export const FREE_HEADER = '               total        used        free      shared  buff/cache   available';
export const FREE_WIDE_HEADER = '               total        used        free      shared     buffers       cache   available';

/** One free screen: the header, Mem:, (Low:, High:), Swap:, (Total:), (Comm:). */
export function formatFree(f: FreeFigures, o: FreeOptions): string {
  const sz = (kb: number) => scaleSize(kb, o);
  const row = (label: string, values: number[]) =>
    `${label.padEnd(9)}${values.map((x, i) => (i === 0 ? sz(x).padStart(11) : ` ${sz(x).padStart(11)}`)).join('')}`;
  const lines = [o.wide ? FREE_WIDE_HEADER : FREE_HEADER];
  lines.push(
    row(
      'Mem:',
      o.wide
        ? [f.memTotal, f.memUsed, f.memFree, f.shared, f.buffers, f.cache, f.available]
        : [f.memTotal, f.memUsed, f.memFree, f.shared, f.buffers + f.cache, f.available],
    ),
  );
  if (o.lohi) {
    lines.push(row('Low:', [f.lowTotal, f.lowUsed, f.lowFree]));
    lines.push(row('High:', [f.highTotal, f.highUsed, f.highFree]));
  }
  lines.push(row('Swap:', [f.swapTotal, f.swapUsed, f.swapFree]));
  if (o.total) lines.push(row('Total:', [f.memTotal + f.swapTotal, f.memUsed + f.swapUsed, f.memFree + f.swapFree]));
  if (o.committed) lines.push(row('Comm:', [f.commitLimit, f.committedAs, f.commitLimit - f.committedAs]));
  return `${lines.join('\n')}\n`;
}

// ── the command ────────────────────────────────────────────────────────────

interface FreeCmdOptions extends WorkloadOpts {
  bytes?: boolean;
  kilo?: boolean;
  mega?: boolean;
  giga?: boolean;
  tera?: boolean;
  peta?: boolean;
  kibi?: boolean;
  mebi?: boolean;
  gibi?: boolean;
  tebi?: boolean;
  pebi?: boolean;
  human?: boolean;
  si?: boolean;
  lohi?: boolean;
  total?: boolean;
  committed?: boolean;
  seconds?: string;
  count?: string;
  wide?: boolean;
}

/** The unit options, with the exponent each sets and whether it is a power of 1000. */
const UNIT_OPTIONS: [keyof FreeCmdOptions, number, boolean][] = [
  ['bytes', 1, false],
  ['kilo', 2, true],
  ['mega', 3, true],
  ['giga', 4, true],
  ['tera', 5, true],
  ['peta', 6, true],
  ['kibi', 2, false],
  ['mebi', 3, false],
  ['gibi', 4, false],
  ['tebi', 5, false],
  ['pebi', 6, false],
];

/** free's options checked as procps checks them; errors are usage errors naming free. */
export function freeOptions(o: FreeCmdOptions): { opts: FreeOptions; seconds: number | null; count: number | null } {
  const opts = { ...FREE_DEFAULTS };
  let units = 0;
  for (const [name, exponent, si] of UNIT_OPTIONS) {
    if (o[name] !== true) continue;
    if (++units > 1) throw new UsageError("free: Multiple unit options don't make sense.");
    opts.exponent = exponent;
    if (si) opts.si = true;
  }
  opts.human = o.human === true;
  if (o.si) opts.si = true;
  opts.lohi = o.lohi === true;
  opts.total = o.total === true;
  opts.committed = o.committed === true;
  opts.wide = o.wide === true;
  let seconds: number | null = null;
  if (o.seconds !== undefined) {
    const s = o.seconds.trim();
    if (!/^[+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(s)) throw new UsageError(`free: seconds argument failed: '${o.seconds}'`);
    seconds = Number(s);
    if (seconds * 1e6 < 1) throw new UsageError(`free: seconds argument \`${o.seconds}' is not positive number`);
  }
  let count: number | null = null;
  if (o.count !== undefined) {
    if (!/^\s*[-+]?\d+$/.test(o.count)) throw new UsageError(`free: failed to parse count argument: '${o.count}'`);
    count = Number(o.count);
    if (count < 1) throw new UsageError(`free: failed to parse count argument: '${o.count}'`);
  }
  return { opts, seconds, count };
}

export function registerFree(program: Command): void {
  const cmd = addWorkloadOptions(addMachineOptions(program.command('free')), '20000', 'operations the workload performs (before each screen)')
    .description("procps's free(1) on the machine's /proc/meminfo after the workload")
    .helpOption('--help', 'display help for command')
    .option('-b, --bytes', 'show output in bytes')
    .option('--kilo', 'show output in kilobytes')
    .option('--mega', 'show output in megabytes')
    .option('--giga', 'show output in gigabytes')
    .option('--tera', 'show output in terabytes')
    .option('--peta', 'show output in petabytes')
    .option('-k, --kibi', 'show output in kibibytes')
    .option('-m, --mebi', 'show output in mebibytes')
    .option('-g, --gibi', 'show output in gibibytes')
    .option('--tebi', 'show output in tebibytes')
    .option('--pebi', 'show output in pebibytes')
    .option('-h, --human', 'show human-readable output')
    .option('--si', 'use powers of 1000 not 1024')
    .option('-l, --lohi', 'show detailed low and high memory statistics')
    .option('-t, --total', 'show total for RAM + swap')
    .option('-v, --committed', 'show committed memory and commit limit')
    .option('-s, --seconds <N>', "repeat printing every N seconds of the machine's virtual clock")
    .option('-c, --count <N>', 'repeat printing N times, then exit')
    .option('-w, --wide', 'wide output')
    .option('--json', 'print the figures (KiB) as JSON, one object per screen')
    .addHelpText(
      'after',
      `\nColumns (procps-ng 4): used = MemTotal - MemAvailable, buff/cache = Buffers + Cached + SReclaimable,
  shared = Shmem, available = MemAvailable.
-s N: between two screens the workload runs --steps more operations and the virtual clock advances N
  seconds (kmem's time is virtual: on a terminal kmem also waits N real seconds, elsewhere none).
  Without -c it repeats until interrupted.${example('kmem free -h', 'kmem free -w -m --workload fork-exec', 'kmem free -s 1 -c 5 --workload network --steps 5000')}`,
    );
  cmd.action(async (o: FreeCmdOptions, c: Command) => {
    const { opts, seconds, count } = freeOptions(o);
    const m = await runMachine(o, c);
    const steps = intOpt(o.steps, 'steps') ?? 20000;
    await repeatOnClock(m, seconds, count, steps, (first) => {
      const f = freeFigures(m.k.proc.read('/proc/meminfo'));
      return o.json ? `${JSON.stringify(f)}\n` : `${first ? '' : '\n'}${formatFree(f, opts)}`;
    });
  });
}

/**
 * Print `screen` now, then (with a delay) again every `delay` seconds of
 * virtual time, `count` times in all (null: until interrupted). Between two
 * screens the workload runs `steps` operations and the clock advances.
 */
export async function repeatOnClock(m: Machine, delay: number | null, count: number | null, steps: number, screen: (first: boolean) => string): Promise<void> {
  const out = (s: string) => new Promise<void>((res) => process.stdout.write(s, () => res()));
  await out(screen(true));
  if (delay === null && count === null) return;
  const tty = process.stdout.isTTY === true;
  for (let i = 1; count === null || i < count; i++) {
    if (tty) await new Promise((r) => setTimeout(r, (delay ?? 1) * 1000));
    if (m.workload !== null) m.workload.run(steps);
    m.k.tick((delay ?? 1) * 1e9);
    await out(screen(false));
  }
}
