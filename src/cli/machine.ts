/**
 * The machine options every kmem command shares, and booting from them.
 */

import { Command, Option } from 'commander';
import { type BootOptions, boot, type Kernel, type ZoneSizes } from '../kernel.js';
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
  zones?: string;
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

/** BootOptions from the command line. */
export function bootOptions(o: MachineOpts): BootOptions {
  const opts: BootOptions & { kasan?: string } = {
    memory: o.mem,
    cpus: intOpt(o.cpus, 'cpus'),
    seed: intOpt(o.seed, 'seed'),
    slubDebug: o.slubDebug,
    slubMinOrder: intOpt(o.slubMinOrder, 'slub-min-order'),
    slubMaxOrder: intOpt(o.slubMaxOrder, 'slub-max-order'),
    slubMinObjects: intOpt(o.slubMinObjects, 'slub-min-objects'),
    slabNomerge: o.slabNomerge,
    slubStats: o.slubStats,
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
    if (e instanceof RangeError || e instanceof TypeError) throw new UsageError((e as Error).message);
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
  const workload = name === null ? null : workloadByName(name).create(k, program);
  return { k, workload, bootLog };
}

/** Boot, run the workload for --steps operations (a trace: all of it unless --steps is given), and return the machine. */
export async function runMachine(o: WorkloadOpts, cmd?: Command): Promise<Machine> {
  const m = await machineWithWorkload(o);
  if (m.workload !== null) {
    const explicit = cmd?.getOptionValueSource('steps') === 'cli';
    const steps = m.workload.name === 'malloc-trace' && !explicit ? Number.MAX_SAFE_INTEGER : (intOpt(o.steps, 'steps') ?? 20000);
    m.workload.run(steps);
  }
  return m;
}

export { Command };
