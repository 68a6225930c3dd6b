/**
 * `kmem vmstat`: procps-ng 4.0.2's vmstat(8) (the version on the reference
 * machine: Linux 6.18 with procps-ng 4.0.2) on the machine's /proc files.
 *
 * A sample is the text of /proc/meminfo, /proc/vmstat, /proc/uptime and,
 * where the machine has one, /proc/stat. kmem has no /proc/stat (no
 * scheduler, no interrupts): then r, b, in and cs are 0, and the CPU ticks
 * are all idle, as many as /proc/uptime's idle seconds make at USER_HZ 100
 * (every CPU idle since boot), so the cpu columns read 0 0 100 0 0.
 *
 * The arithmetic is procps's: the first line is since boot, each rate
 * scaled by USER_HZ over the summed CPU ticks ((x * 100 + Div/2) / Div);
 * later lines are deltas over the delay, rounded ((d + delay/2) / delay);
 * memory in the -S unit through a C float (unitConvert); a number wider
 * than its column pushes the rest of the line right. 4.0.2's narrow
 * columns end at st (4.0.4 added gu there; the wide ones have it).
 */

import type { Command } from 'commander';
import type { Kernel } from '../kernel.js';
import { example, freeFigures, repeatOnClock } from './free.js';
import { addMachineOptions, addWorkloadOptions, intOpt, runMachine, UsageError, type WorkloadOpts } from './machine.js';

const USER_HZ = 100;
const KB_PER_PAGE = 4;

/** The /proc files one vmstat sample reads. */
export interface VmstatSample {
  meminfo: string;
  vmstat: string;
  uptime: string;
  /** /proc/stat, when the machine has one */
  stat?: string;
}

/** What vmstat takes from a sample. */
export interface VmstatValues {
  running: number;
  blocked: number;
  /** swap used, free, buffers, cache (Cached + SReclaimable), active, inactive: KiB */
  swpd: number;
  free: number;
  buff: number;
  cache: number;
  active: number;
  inactive: number;
  pgpgin: number;
  pgpgout: number;
  pswpin: number;
  pswpout: number;
  intr: number;
  ctxt: number;
  /** user nice system idle iowait irq softirq steal guest guest_nice, in USER_HZ ticks */
  ticks: number[];
  btime: number;
  forks: number;
  uptime: number;
  vm: Map<string, number>;
  memTotal: number;
  memUsed: number;
  swapTotal: number;
  swapFree: number;
}

function numbersOf(text: string): Map<string, number> {
  const m = new Map<string, number>();
  for (const line of text.split('\n')) {
    const r = /^(\S+)\s+(\d+)/.exec(line);
    if (r) m.set(r[1]!, Number(r[2]));
  }
  return m;
}

/** A sample's values, as procps's meminfo, vmstat, stat and uptime libraries read them. */
export function vmstatValues(s: VmstatSample): VmstatValues {
  const f = freeFigures(s.meminfo);
  const vm = numbersOf(s.vmstat);
  const [up = 0, idle = 0] = s.uptime.trim().split(/\s+/).map(Number);
  let ticks: number[];
  let st: Map<string, number>;
  if (s.stat !== undefined) {
    st = numbersOf(s.stat);
    const cpu = /^cpu\s+(.*)$/m.exec(s.stat);
    ticks = (cpu?.[1] ?? '').trim().split(/\s+/).map(Number);
  } else {
    st = new Map();
    ticks = [0, 0, 0, Math.round(idle * USER_HZ), 0, 0, 0, 0, 0, 0];
  }
  while (ticks.length < 10) ticks.push(0);
  const v = (m: Map<string, number>, k: string) => m.get(k) ?? 0;
  return {
    running: v(st, 'procs_running'),
    blocked: v(st, 'procs_blocked'),
    swpd: f.swapUsed,
    free: f.memFree,
    buff: f.buffers,
    cache: f.cache,
    active: f.active,
    inactive: f.inactive,
    pgpgin: v(vm, 'pgpgin'),
    pgpgout: v(vm, 'pgpgout'),
    pswpin: v(vm, 'pswpin'),
    pswpout: v(vm, 'pswpout'),
    intr: v(st, 'intr'),
    ctxt: v(st, 'ctxt'),
    ticks,
    btime: v(st, 'btime'),
    forks: v(st, 'processes'),
    uptime: up === 0 ? 1 : up,
    vm,
    memTotal: f.memTotal,
    memUsed: f.memUsed,
    swapTotal: f.swapTotal,
    swapFree: f.swapFree,
  };
}

export interface VmstatOptions {
  active: boolean;
  wide: boolean;
  /** bytes per -S unit: 1, 1000, 1024, 1e6, 1048576 */
  unit: number;
  /** -t: the time zone's abbreviation the header shows over the timestamps */
  zone?: string;
}

/** -S's argument: its first character, as procps reads it. */
export function parseUnit(arg: string): { unit: number; name: string } {
  const c = arg.charAt(0);
  const units: Record<string, number> = { b: 1, B: 1, k: 1000, K: 1024, m: 1000000, M: 1048576 };
  const unit = units[c];
  if (unit === undefined) throw new RangeError('-S requires k, K, m or M (default is KiB)');
  return { unit, name: c };
}

/** unitConvert(): KiB to the -S unit through a C float, truncated. */
export function unitConvert(kb: number, unit: number): number {
  return Math.trunc(Math.fround(Math.fround(Math.fround(kb) / unit) * 1024));
}

const NARROW = [2, 2, 6, 6, 6, 6, 4, 4, 5, 5, 4, 4, 2, 2, 2, 2, 2];
const WIDE = [4, 4, 12, 12, 12, 12, 4, 4, 5, 5, 4, 4, 3, 3, 3, 3, 3, 3];
const NAMES = ['r', 'b', 'swpd', 'free', 'buff', 'cache', 'si', 'so', 'bi', 'bo', 'in', 'cs', 'us', 'sy', 'id', 'wa', 'st', 'gu'];

/** The two header lines. */
export function vmstatHeader(o: VmstatOptions): string {
  const widths = o.wide ? WIDE : NARROW;
  const names = NAMES.slice(0, widths.length);
  if (o.active) {
    names[4] = 'inact';
    names[5] = 'active';
  }
  const top = o.wide
    ? '--procs-- -----------------------memory---------------------- ---swap-- -----io---- -system-- ----------cpu----------'
    : 'procs -----------memory---------- ---swap-- -----io---- -system-- ------cpu-----';
  const names2 = names.map((n, i) => n.padStart(widths[i]!)).join(' ');
  if (o.zone === undefined) return `${top}\n${names2}\n`;
  return `${top} -----timestamp-----\n${names2} ${o.zone.slice(0, 19).padStart(19)}\n`;
}

/** output_line(): each value right-aligned in its column ("%*lu"), a wider one simply wider; -t's time after. */
export function outputLine(values: number[], o: VmstatOptions, time?: string): string {
  const widths = o.wide ? WIDE : NARROW;
  return `${widths.map((w, i) => String(values[i] ?? 0).padStart(w)).join(' ')}${time === undefined ? '' : ` ${time}`}\n`;
}

/** -t's "%Y-%m-%d %H:%M:%S" in local time, and the zone's abbreviation ("%Z"; ICU's short name, e.g. UTC or GMT+1). */
export function timestamp(d: Date): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}
export function zoneName(d: Date): string {
  return new Intl.DateTimeFormat('en-US', { timeZoneName: 'short' }).formatToParts(d).find((x) => x.type === 'timeZoneName')?.value ?? '';
}

/** The CPU percentages from a tick vector (or the deltas of two): us sy id wa st gu. */
function cpuColumns(t: number[]): number[] {
  let use = t[0]! + t[1]!;
  const sys = t[2]! + t[5]! + t[6]!;
  let idl = t[3]!;
  const iow = t[4]!;
  const sto = t[7]!;
  const gue = t[8]! + t[9]!;
  let div = use + sys + idl + iow + sto;
  if (div === 0) {
    div = 1;
    idl = 1;
  }
  const half = Math.floor(div / 2);
  use = use >= gue ? use - gue : 0;
  return [use, sys, idl, iow, sto, gue].map((x) => Math.floor((100 * x + half) / div));
}

function memColumns(v: VmstatValues, o: VmstatOptions): number[] {
  const u = (kb: number) => unitConvert(kb, o.unit);
  return [u(v.swpd), u(v.free), u(o.active ? v.inactive : v.buff), u(o.active ? v.active : v.cache)];
}

/** The first line: averages since boot, per USER_HZ tick summed over the CPUs. */
export function firstLine(v: VmstatValues, o: VmstatOptions, time?: string): string {
  const t = v.ticks;
  const div0 = t[0]! + t[1]! + t[2]! + t[5]! + t[6]! + t[3]! + t[4]! + t[7]!;
  const div = div0 === 0 ? 1 : div0;
  const half = Math.floor(div / 2);
  const rate = (x: number) => Math.floor((x * USER_HZ + half) / div) >>> 0;
  const u = (kb: number) => unitConvert(kb, o.unit);
  return outputLine(
    [
      v.running,
      v.blocked,
      ...memColumns(v, o),
      rate(u(v.pswpin * KB_PER_PAGE)),
      rate(u(v.pswpout * KB_PER_PAGE)),
      rate(v.pgpgin),
      rate(v.pgpgout),
      rate(v.intr),
      rate(v.ctxt),
      ...cpuColumns(t),
    ],
    o,
    time,
  );
}

/** A later line: the deltas from `prev` over `delay` seconds, rounded to the nearest. */
export function deltaLine(prev: VmstatValues, v: VmstatValues, delay: number, o: VmstatOptions, time?: string): string {
  const half = Math.floor(delay / 2);
  const per = (d: number) => Math.floor((d + half) / delay) >>> 0;
  const u = (kb: number) => unitConvert(kb, o.unit);
  const dt = v.ticks.map((x, i) => x - (prev.ticks[i] ?? 0));
  if (dt[3]! < 0) dt[3] = 0; // idle can run backwards for a moment
  return outputLine(
    [
      v.running,
      v.blocked,
      ...memColumns(v, o),
      per(u((v.pswpin - prev.pswpin) * KB_PER_PAGE)),
      per(u((v.pswpout - prev.pswpout) * KB_PER_PAGE)),
      per(v.pgpgin - prev.pgpgin),
      per(v.pgpgout - prev.pgpgout),
      per(v.intr - prev.intr),
      per(v.ctxt - prev.ctxt),
      ...cpuColumns(dt),
    ],
    o,
    time,
  );
}

/** vmstat -s: the event counter table (memory in the -S unit). */
export function statsTable(v: VmstatValues, unit: { unit: number; name: string }): string {
  const n = (x: number) => String(x).padStart(13);
  const mem = (kb: number, what: string) => `${n(unitConvert(kb, unit.unit))} ${unit.name} ${what}`;
  const t = v.ticks;
  const lines = [
    mem(v.memTotal, 'total memory'),
    mem(v.memUsed, 'used memory'),
    mem(v.active, 'active memory'),
    mem(v.inactive, 'inactive memory'),
    mem(v.free, 'free memory'),
    mem(v.buff, 'buffer memory'),
    mem(v.cache, 'swap cache'),
    mem(v.swapTotal, 'total swap'),
    mem(v.swpd, 'used swap'),
    mem(v.swapFree, 'free swap'),
    `${n(t[0]!)} non-nice user cpu ticks`,
    `${n(t[1]!)} nice user cpu ticks`,
    `${n(t[2]!)} system cpu ticks`,
    `${n(t[3]!)} idle cpu ticks`,
    `${n(t[4]!)} IO-wait cpu ticks`,
    `${n(t[5]!)} IRQ cpu ticks`,
    `${n(t[6]!)} softirq cpu ticks`,
    `${n(t[7]!)} stolen cpu ticks`,
    `${n(t[8]!)} non-nice guest cpu ticks`,
    `${n(t[9]!)} nice guest cpu ticks`,
    `${n(v.pgpgin)} K paged in`,
    `${n(v.pgpgout)} K paged out`,
    `${n(v.pswpin)} pages swapped in`,
    `${n(v.pswpout)} pages swapped out`,
    `${n(v.intr)} interrupts`,
    `${n(v.ctxt)} CPU context switches`,
    `${n(v.btime)} boot time`,
    `${n(v.forks)} forks`,
  ];
  return `${lines.join('\n')}\n`;
}

// ── disks: -d, -D, -p (/proc/diskstats) ─────────────────────────────────────

/** One line of /proc/diskstats, as procps's diskstats library keeps it. */
export interface DiskNode {
  name: string;
  /** a partition: its name is a listed device's plus a number (vda1, nvme0n1p2); procps asks /sys/block, which kmem does not have */
  partition: boolean;
  reads: number;
  readsMerged: number;
  readSectors: number;
  readMs: number;
  writes: number;
  writesMerged: number;
  writeSectors: number;
  writeMs: number;
  inProgress: number;
  ioMs: number;
  weightedMs: number;
}

export function parseDiskstats(text: string): DiskNode[] {
  const rows = text
    .split('\n')
    .map((l) => l.trim().split(/\s+/))
    .filter((f) => f.length >= 14);
  const names = new Set(rows.map((f) => f[2]!));
  return rows.map((f) => {
    const n = (i: number) => Number(f[i]);
    const name = f[2]!;
    const m = /^(.*?)(p?)\d+$/.exec(name);
    const partition = m !== null && m[1] !== '' && names.has(m[1]!);
    return {
      name,
      partition,
      reads: n(3),
      readsMerged: n(4),
      readSectors: n(5),
      readMs: n(6),
      writes: n(7),
      writesMerged: n(8),
      writeSectors: n(9),
      writeMs: n(10),
      inProgress: n(11),
      ioMs: n(12),
      weightedMs: n(13),
    };
  });
}

/** vmstat -d's two header lines. */
export function diskHeader(wide: boolean): string {
  const top = wide
    ? 'disk- -------------------reads------------------- -------------------writes------------------ ------IO-------'
    : 'disk- ------------reads------------ ------------writes----------- -----IO------';
  const w = wide ? [5, 9, 9, 11, 11, 9, 9, 11, 11, 7, 7] : [5, 6, 6, 7, 7, 6, 6, 7, 7, 6, 6];
  const names = [' ', 'total', 'merged', 'sectors', 'ms', 'total', 'merged', 'sectors', 'ms', 'cur', 'sec'];
  return `${top}\n${names.map((x, i) => x.padStart(w[i]!)).join(' ')}\n`;
}

/**
 * vmstat -d: a line per disk (partitions skipped), cumulative counts; the
 * in-flight count and the I/O time divided by 1000 as procps does. The
 * header comes before every `height`-th device (counting partitions), none
 * with -n (printed once by the caller).
 */
export function diskLines(nodes: DiskNode[], wide: boolean, height: number | null): string {
  const w = wide ? [9, 9, 11, 11, 9, 9, 11, 11, 7, 7] : [6, 6, 7, 7, 6, 6, 7, 7, 6, 6];
  let s = '';
  nodes.forEach((d, j) => {
    if (d.partition) return;
    if (height !== null && j % height === 0) s += diskHeader(wide);
    const v = [
      d.reads,
      d.readsMerged,
      d.readSectors,
      d.readMs,
      d.writes,
      d.writesMerged,
      d.writeSectors,
      d.writeMs,
      Math.trunc(d.inProgress / 1000),
      Math.trunc(d.ioMs / 1000),
    ];
    s += `${d.name.padEnd(5)} ${v.map((x, i) => String(x).padStart(w[i]!)).join(' ')}\n`;
  });
  return s;
}

/** vmstat -D: the disks' counts summed, and how many disks and partitions. */
export function diskSum(nodes: DiskNode[]): string {
  const disks = nodes.filter((d) => !d.partition);
  const sum = (f: (d: DiskNode) => number) => disks.reduce((a, d) => a + f(d), 0);
  const n = (x: number) => String(x).padStart(13);
  return `${[
    `${n(disks.length)} disks`,
    `${n(nodes.length - disks.length)} partitions`,
    `${n(sum((d) => d.reads))} total reads`,
    `${n(sum((d) => d.readsMerged))} merged reads`,
    `${n(sum((d) => d.readSectors))} read sectors`,
    `${n(sum((d) => d.readMs))} milli reading`,
    `${n(sum((d) => d.writes))} writes`,
    `${n(sum((d) => d.writesMerged))} merged writes`,
    `${n(sum((d) => d.writeSectors))} written sectors`,
    `${n(sum((d) => d.writeMs))} milli writing`,
    `${n(sum((d) => Math.trunc(d.inProgress / 1000)))} inprogress IO`,
    `${n(sum((d) => Math.trunc(d.ioMs / 1000)))} milli spent IO`,
    `${n(sum((d) => Math.trunc(d.weightedMs / 1000)))} milli weighted IO`,
  ].join('\n')}\n`;
}

/** vmstat -p's header, and one line of a device's reads and writes. */
export function partitionHeader(name: string): string {
  return `${name.padEnd(10)} ${'reads'.padStart(10)}  ${'read sectors'.padStart(16)}  ${'writes'.padStart(10)}  ${'requested writes'.padStart(16)}\n`;
}

export function partitionLine(d: DiskNode): string {
  return `${String(d.reads).padStart(21)}  ${String(d.readSectors).padStart(16)}  ${String(d.writes).padStart(10)}  ${String(d.writeSectors).padStart(16)}\n`;
}

// ── the command ────────────────────────────────────────────────────────────

interface VmstatCmdOptions extends WorkloadOpts {
  active?: boolean;
  forks?: boolean;
  slabs?: boolean;
  oneHeader?: boolean;
  stats?: boolean;
  unit?: string;
  wide?: boolean;
  first?: boolean;
  timestamp?: boolean;
  disk?: boolean;
  diskSum?: boolean;
  partition?: string;
}

/** One sample of the machine's files. */
export function sample(k: Kernel): VmstatSample {
  const read = (p: string) => {
    try {
      return k.proc.read(p);
    } catch {
      return undefined;
    }
  };
  return { meminfo: k.proc.read('/proc/meminfo'), vmstat: k.proc.read('/proc/vmstat'), uptime: read('/proc/uptime') ?? '0 0', stat: read('/proc/stat') };
}

/** [delay [count]] as procps reads them: a positive whole delay; a count (0: the first line only). */
export function vmstatArgs(delayText: string | undefined, countText: string | undefined): { delay: number; count: number | null } {
  if (delayText === undefined) return { delay: 1, count: 1 };
  if (!/^\s*[-+]?\d+$/.test(delayText)) throw new UsageError(`vmstat: failed to parse argument: '${delayText}'`);
  const delay = Number(delayText);
  if (delay < 1) throw new UsageError('vmstat: delay must be positive integer');
  if (delay > 0xffffffff) throw new UsageError('vmstat: too large delay value');
  if (countText === undefined) return { delay, count: null };
  if (!/^\s*[-+]?\d+$/.test(countText)) throw new UsageError(`vmstat: failed to parse argument: '${countText}'`);
  const count = Number(countText);
  return { delay, count: count < 0 ? null : count };
}

/** vmstat -m: slabinfo's caches by name, "%-24.24s %6u %6u %6u %6u". */
export function slabLines(slabinfo: string): string {
  const rows = slabinfo
    .split('\n')
    .slice(2)
    .filter((l) => l.trim() !== '')
    .map((l) => l.trim().split(/\s+/))
    .map((f) => ({ name: f[0]!, active: Number(f[1]), num: Number(f[2]), size: Number(f[3]), per: Number(f[4]) }))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const head = `${'Cache'.padEnd(24)} ${'Num'.padStart(6)} ${'Total'.padStart(6)} ${'Size'.padStart(6)} ${'Pages'.padStart(6)}`;
  return `${[head, ...rows.map((r) => `${r.name.slice(0, 24).padEnd(24)} ${String(r.active).padStart(6)} ${String(r.num).padStart(6)} ${String(r.size).padStart(6)} ${String(r.per).padStart(6)}`)].join('\n')}\n`;
}

export function registerVmstat(program: Command): void {
  addWorkloadOptions(
    addMachineOptions(
      program.command('vmstat').argument('[delay]', 'seconds of virtual time between lines').argument('[count]', 'lines to print (0: only the one since boot)'),
    ),
    '20000',
    'operations the workload performs (before the first line, and between two lines)',
  )
    .description("procps's vmstat(8) on the machine's /proc files, on the virtual clock (kmem cat /proc/vmstat prints the file)")
    .option('-a, --active', 'active/inactive memory')
    .option('-f, --forks', 'number of forks since boot')
    .option('-m, --slabs', 'slabinfo')
    .option('-n, --one-header', 'do not redisplay header')
    .option('-s, --stats', 'event counter statistics')
    .option('-d, --disk', 'disk statistics')
    .option('-D, --disk-sum', 'summarize disk statistics')
    .option('-p, --partition <dev>', 'partition specific statistics')
    .option('-S, --unit <char>', 'define display unit (k, K, m, M; b or B: bytes)')
    .option('-w, --wide', 'wide output')
    .option('-t, --timestamp', "show timestamp (the command's start on the wall clock, then the virtual clock's seconds since)")
    .option('-y, --no-first', 'skips first line of output')
    .option('--json', 'print each sample (the values vmstat reads) as JSON')
    .addHelpText(
      'after',
      `\nThe columns of procps-ng 4.0.2's vmstat: the first line averages since boot, each later one the
  change over the delay. Between two lines the workload runs --steps operations and the virtual clock
  advances the delay (on a terminal kmem also waits it in real time, elsewhere not at all).
kmem has no scheduler and no /proc/stat: r, b, in, cs, the cpu ticks, boot time and forks are 0, and
  every CPU counts as idle since boot (id 100). si/so come from pswpin/pswpout, bi/bo from pgpgin/pgpgout.${example('kmem vmstat', 'kmem vmstat 1 5 --workload fork-exec --steps 2000', 'kmem vmstat -s --workload network', 'kmem vmstat -a -w 2 3')}`,
    )
    .action(async (delayText: string | undefined, countText: string | undefined, o: VmstatCmdOptions, c: Command) => {
      const unit = o.unit === undefined ? { unit: 1024, name: 'K' } : parseUnitOrUsage(o.unit);
      const { delay, count } = vmstatArgs(delayText, countText);
      const m = await runMachine(o, c);
      const steps = intOpt(o.steps, 'steps') ?? 20000;
      const opts: VmstatOptions = { active: o.active === true, wide: o.wide === true, unit: unit.unit };
      const print = (s: string) => new Promise<void>((res) => process.stdout.write(s, () => res()));
      if (o.forks) return print(`${String(vmstatValues(sample(m.k)).forks).padStart(13)} forks\n`);
      const modes = [o.stats, o.disk, o.diskSum, o.partition !== undefined, o.slabs].filter((x) => x === true).length;
      if (modes > 1) throw new UsageError('vmstat: -s, -d, -D, -p and -m are one display each: give one');
      if (o.stats) return print(statsTable(vmstatValues(sample(m.k)), unit));
      if (o.slabs) return print(slabLines(m.k.proc.read('/proc/slabinfo')));
      if (o.disk || o.diskSum || o.partition !== undefined) {
        const disks = () => {
          try {
            return parseDiskstats(m.k.proc.read('/proc/diskstats'));
          } catch {
            throw new UsageError('vmstat: Unable to create diskstat structure (the machine has no /proc/diskstats: no block device has started yet)', 1);
          }
        };
        if (o.diskSum) return print(diskSum(disks()));
        const many = delayText === undefined ? 1 : count;
        if (many === 0) return print(o.oneHeader && o.disk ? diskHeader(o.wide === true) : '');
        if (o.partition !== undefined) {
          const name = o.partition.startsWith('/dev/') ? o.partition.slice(5) : o.partition;
          const find = () => {
            const d = disks().find((x) => x.name === name);
            if (d === undefined) throw new UsageError(`vmstat: Disk/Partition ${name} not found`, 1);
            return d;
          };
          find();
          return repeatOnClock(m, delay, many, steps, (first) => (first ? partitionHeader(name) : '') + partitionLine(find()));
        }
        const height = o.oneHeader ? null : Math.max(1, (process.stdout.isTTY ? (process.stdout.rows ?? 24) : 24) - 3);
        return repeatOnClock(
          m,
          delay,
          many,
          steps,
          (first) => (first && height === null ? diskHeader(o.wide === true) : '') + diskLines(disks(), o.wide === true, height),
        );
      }
      if (o.json) {
        let n = 0;
        return repeatOnClock(
          m,
          delay,
          count === null ? null : Math.max(1, count),
          steps,
          () => `${JSON.stringify({ sample: n++, ...vmstatValues(sample(m.k)), vm: undefined })}\n`,
        );
      }
      // the header again every (terminal rows - 3) lines, 21 off a terminal (procps's winhi() - 3)
      const height = Math.max(1, (process.stdout.isTTY ? (process.stdout.rows ?? 24) : 24) - 3);
      const oneHeader = o.oneHeader === true;
      let prev = vmstatValues(sample(m.k));
      // -t: the wall clock at the start, moved on by the virtual clock
      const t0 = Date.now();
      const up0 = Number(sample(m.k).uptime.split(' ')[0]);
      const stamp = () => (o.timestamp ? timestamp(new Date(t0 + (Number(sample(m.k).uptime.split(' ')[0]) - up0) * 1000)) : undefined);
      if (o.timestamp) opts.zone = zoneName(new Date(t0));
      let i = 0;
      const skipFirst = o.first === false;
      const total = count === null ? null : skipFirst ? count + 1 : Math.max(1, count);
      await repeatOnClock(m, delay, total, steps, (first) => {
        const v = first ? prev : vmstatValues(sample(m.k));
        let s = '';
        if (first) {
          s = vmstatHeader(opts);
          if (!skipFirst) s += firstLine(v, opts, stamp());
        } else {
          if (!oneHeader && i % height === 0) s += vmstatHeader(opts);
          s += deltaLine(prev, v, delay, opts, stamp());
          prev = v;
        }
        i++;
        return s;
      });
    });
}

function parseUnitOrUsage(arg: string): { unit: number; name: string } {
  try {
    return parseUnit(arg);
  } catch (e) {
    throw new UsageError(`vmstat: ${(e as Error).message}`);
  }
}
