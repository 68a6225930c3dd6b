/**
 * The machine options every kmem command shares, and booting from them.
 */

import type cliProgress from 'cli-progress';
import { Command, Option } from 'commander';
import { type BootOptions, boot, type Kernel, type ZoneSizes } from '../kernel.js';
import { MAX_MEMORY, MIN_MEMORY, memparse } from '../memory/memblock.js';
import { WORKLOAD_NAMES, type Workload, workloadByName } from '../workloads/index.js';
import { loadMallocProgram, type MallocProgram } from '../workloads/malloc_trace.js';

/** What commander hands an action for the shared options. */
export interface MachineOpts {
  mem?: string;
  cpus?: string;
  seed: string;
  kasan?: boolean;
  slubDebug?: string;
  slubMinOrder?: string;
  slubMaxOrder?: string;
  slubMinObjects?: string;
  slabNomerge?: boolean;
  slubStats?: boolean;
  /** The slab allocator design (boot()'s allocator), on the commands that offer --allocator. */
  allocator?: string;
  zones?: string;
  swap?: string;
  /** --lru-gen: the multi-gen LRU */
  lruGen?: boolean;
  json?: boolean;
}

export interface WorkloadOpts extends MachineOpts {
  workload?: string;
  steps?: string;
  trace?: string;
}

/** A usage error: printed as `kmem: <message>`, exit code 2. */
export class UsageError extends Error {
  override name = 'UsageError';
  readonly exitCode: number;
  constructor(message: string, exitCode = 2) {
    super(message);
    this.exitCode = exitCode;
  }
}

export function intOpt(v: string | undefined, name: string): number | undefined {
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(v)) throw new UsageError(`--${name}: expected a whole number, got '${v}'`);
  return Number(v);
}

/** --zones DMA=16M,DMA32=112M (zone names as /proc/zoneinfo spells them). */
export function parseZones(text: string): ZoneSizes {
  const zones: Record<string, string> = {};
  for (const part of text.split(',')) {
    const m = /^\s*(DMA|DMA32|Normal|Movable)\s*[=:]\s*(\S+)\s*$/i.exec(part);
    if (!m) throw new UsageError(`--zones: expected NAME=SIZE[,NAME=SIZE...] with NAME one of DMA, DMA32, Normal, Movable; got '${part}'`);
    const name = ['DMA', 'DMA32', 'Normal', 'Movable'].find((z) => z.toLowerCase() === m[1]!.toLowerCase())!;
    zones[name] = m[2]!;
  }
  return zones as ZoneSizes;
}

/** The shared machine options, added to a command. */
export function addMachineOptions(cmd: Command): Command {
  return cmd
    .option('--mem <size>', 'RAM size, e.g. 128M or 1G (default: 128M)')
    .option('--cpus <n>', 'number of CPUs (default: 2)')
    .addOption(new Option('--seed <n>', 'seed for every random choice the machine and the workload make').default('1'))
    .option('--kasan', 'boot with generic KASAN (kasan=on)')
    .option('--slub-debug <flags>', "slub_debug= boot option, e.g. 'FZPU' or 'FZ,kmalloc-64'")
    .option('--zones <sizes>', 'lay out the zones by hand, e.g. DMA=16M,DMA32=112M')
    .option('--swap <size>', 'a swap partition of this size on the disk, swapon at boot, e.g. 256M (default: none)')
    .option('--lru-gen', 'the multi-gen LRU (CONFIG_LRU_GEN_ENABLED) instead of the active/inactive lists')
    .option('--slub-min-order <n>', 'slab_min_order= boot option')
    .option('--slub-max-order <n>', 'slab_max_order= boot option')
    .option('--slub-min-objects <n>', 'slab_min_objects= boot option')
    .option('--slab-nomerge', 'slab_nomerge boot option: never merge caches')
    .option('--slub-stats', 'CONFIG_SLUB_STATS: counters in /sys/kernel/slab/<cache>/');
}

/** --workload, --steps and --trace. */
export function addWorkloadOptions(cmd: Command, defaultSteps: string, stepsHelp = 'operations the workload performs'): Command {
  return cmd
    .addOption(new Option('--workload <name>', 'built-in workload to run').choices([...WORKLOAD_NAMES, 'none']))
    .addOption(new Option('--steps <n>', stepsHelp).default(defaultSteps))
    .option('--trace <file>', 'a malloc trace (Alloc(n), / Free(i), lines) for the malloc-trace workload');
}

/** The command line's name for each boot() option its errors name. */
const CLI_NAMES: Record<string, string> = {
  memory: '--mem',
  cpus: '--cpus',
  seed: '--seed',
  slubDebug: '--slub-debug',
  slubMinOrder: '--slub-min-order',
  slubMaxOrder: '--slub-max-order',
  slubMinObjects: '--slub-min-objects',
  slabNomerge: '--slab-nomerge',
  slubStats: '--slub-stats',
  allocator: '--allocator',
  kasan: '--kasan',
  zones: '--zones',
  swap: '--swap',
  lruGen: '--lru-gen',
  reserved: '--reserved',
};

/**
 * An error boot() gave, in the command line's words: `slubMinOrder: ...`
 * becomes `--slub-min-order: ...`, `zones.DMA: ...` becomes `--zones DMA: ...`.
 */
export function cliMessage(message: string): string {
  const m = /^([A-Za-z]+)(?:\.([A-Za-z0-9]+))?: /.exec(message);
  const name = m ? CLI_NAMES[m[1]!] : undefined;
  if (!m || name === undefined) return message;
  return `${name}${m[2] ? ` ${m[2]}` : ''}: ${message.slice(m[0].length)}`;
}

const plural = (n: number, what: string) => `${n} ${what}${n === 1 ? '' : 's'}`;

/** --mem as bytes, checked against what kmem boots, in the user's own figure. */
export function parseMem(text: string): number {
  let bytes: number;
  try {
    bytes = memparse(text, '--mem');
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  if (bytes < MIN_MEMORY) throw new UsageError(`--mem: ${plural(bytes, 'byte')} is below the minimum of ${MIN_MEMORY >> 20}M (${MIN_MEMORY} bytes)`);
  if (bytes > MAX_MEMORY) throw new UsageError(`--mem: ${text} (${plural(bytes, 'byte')}) is above the maximum of ${MAX_MEMORY} bytes (4G less a page)`);
  return bytes;
}

/** BootOptions from the command line. */
export function bootOptions(o: MachineOpts): BootOptions {
  const opts: BootOptions & { kasan?: string } = {
    memory: o.mem === undefined ? undefined : parseMem(o.mem),
    cpus: intOpt(o.cpus, 'cpus'),
    seed: intOpt(o.seed, 'seed'),
    slubDebug: o.slubDebug,
    slubMinOrder: intOpt(o.slubMinOrder, 'slub-min-order'),
    slubMaxOrder: intOpt(o.slubMaxOrder, 'slub-max-order'),
    slubMinObjects: intOpt(o.slubMinObjects, 'slub-min-objects'),
    slabNomerge: o.slabNomerge,
    slubStats: o.slubStats,
    swap: o.swap,
    lruGen: o.lruGen,
    allocator: o.allocator as BootOptions['allocator'],
  };
  if (o.zones !== undefined) opts.zones = parseZones(o.zones);
  if (o.kasan) opts.kasan = 'generic';
  for (const key of Object.keys(opts) as (keyof typeof opts)[]) if (opts[key] === undefined) delete opts[key];
  return opts;
}

/** Boot a machine; argument errors become usage errors. */
export function bootMachine(o: MachineOpts, extra: Partial<BootOptions> = {}): Kernel {
  const opts = { ...bootOptions(o), ...extra };
  try {
    return boot(opts);
  } catch (e) {
    if (e instanceof RangeError || e instanceof TypeError) throw new UsageError(cliMessage((e as Error).message));
    throw e;
  }
}

/** The malloc program --trace names, or null. */
export async function mallocProgramFrom(o: WorkloadOpts): Promise<MallocProgram | undefined> {
  if (o.trace === undefined) return undefined;
  return loadMallocProgram(o.trace);
}

/** The workload the options name (--trace alone means malloc-trace); null for none. */
export function workloadName(o: WorkloadOpts): string | null {
  const name = o.workload ?? (o.trace !== undefined ? 'malloc-trace' : 'boot');
  if (o.trace !== undefined && name !== 'malloc-trace') throw new UsageError(`--trace goes with --workload malloc-trace, not ${name}`);
  return name === 'none' ? null : name;
}

export interface Machine {
  k: Kernel;
  workload: Workload | null;
  /** the kernel log as it was after booting (before the workload) */
  bootLog: string[];
}

/**
 * Boot and create the workload (not run yet). A malloc trace given by path
 * is read (and checked) first.
 */
export async function machineWithWorkload(o: WorkloadOpts): Promise<Machine> {
  const name = workloadName(o);
  const program = name === 'malloc-trace' ? await mallocProgramFrom(o) : undefined;
  const k = bootMachine(o);
  const bootLog = k.dmesg();
  let workload: Workload | null = null;
  try {
    workload = name === null ? null : workloadByName(name).create(k, program);
  } catch (e) {
    // a workload the machine cannot run (reclaim without swap ...)
    if (e instanceof RangeError) throw new UsageError((e as Error).message);
    throw e;
  }
  return { k, workload, bootLog };
}

/** Operations run between two looks at the clock (and two turns of the event loop). */
const PROGRESS_SLICE = 20_000;

/** Work shorter than this shows no progress bar. */
const PROGRESS_AFTER_MS = 1000;

/**
 * Run a workload for `steps` operations (Infinity: to its end). On a
 * terminal, work that lasts more than a second shows a progress bar on
 * stderr, cleared when done; elsewhere (a pipe, a file) nothing is printed.
 */
export async function runWorkload(w: Workload, steps: number, tty = process.stderr.isTTY === true): Promise<void> {
  if (!tty) {
    w.run(steps);
    return;
  }
  const known = Number.isFinite(steps) && steps < Number.MAX_SAFE_INTEGER;
  const t0 = performance.now();
  let bar: cliProgress.SingleBar | null = null;
  let done = 0;
  try {
    while (done < steps && !w.finished) {
      const n = w.run(Math.min(PROGRESS_SLICE, steps - done));
      done += n;
      if (n === 0) break;
      const ms = performance.now() - t0;
      if (bar === null && ms > PROGRESS_AFTER_MS) {
        // the progress bar's module is loaded only when a bar is drawn (a cold start without it is faster)
        const progress = (await import('cli-progress')).default;
        bar = new progress.SingleBar(
          {
            stream: process.stderr,
            format: known
              ? `${w.name} |{bar}| {percentage}% | {value}/{total} operations | {rate} ops/s | ETA: {eta_formatted}`
              : `${w.name} | {value} operations | {rate} ops/s`,
            hideCursor: true,
            clearOnComplete: true,
            etaBuffer: 20,
          },
          progress.Presets.shades_classic,
        );
        bar.start(known ? steps : 0, done, { rate: 0 });
      }
      bar?.update(done, { rate: Math.round(done / (ms / 1000)) });
      // let the bar draw and Ctrl-C through
      if (bar !== null) await new Promise((r) => setImmediate(r));
    }
  } finally {
    (bar as cliProgress.SingleBar | null)?.stop();
  }
}

/** Boot, run the workload for --steps operations (a trace: all of it unless --steps is given), and return the machine. */
export async function runMachine(o: WorkloadOpts, cmd?: Command): Promise<Machine> {
  const m = await machineWithWorkload(o);
  if (m.workload !== null) {
    const explicit = cmd?.getOptionValueSource('steps') === 'cli';
    const steps = m.workload.name === 'malloc-trace' && !explicit ? Number.MAX_SAFE_INTEGER : (intOpt(o.steps, 'steps') ?? 20000);
    await runWorkload(m.workload, steps);
  }
  return m;
}

export { Command };
