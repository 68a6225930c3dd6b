#!/usr/bin/env node
/**
 * The kmem command: boot a machine, run a workload, and show its memory the
 * way the kernel's own files show it.
 */
import { Command, Option } from 'commander';
import { type BootOptions, boot, type Kernel } from '../kernel.js';
import { slabinfoRows } from '../proc/slabinfo.js';
import { runBootWorkload } from '../workloads/boot.js';

interface MachineOpts {
  mem: string;
  cpus: string;
  seed: string;
  slubDebug?: string;
  slubMinOrder?: string;
  slubMaxOrder?: string;
  slubMinObjects?: string;
  slabNomerge?: boolean;
  slubStats?: boolean;
  steps: string;
  workload: string;
}

function intOpt(v: string | undefined, name: string): number | undefined {
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(v)) throw new Error(`--${name}: expected a whole number, got '${v}'`);
  return Number(v);
}

function machineOptions(cmd: Command): Command {
  return cmd
    .addOption(new Option('--mem <size>', 'RAM size, e.g. 128M or 1G').default('128M'))
    .addOption(new Option('--cpus <n>', 'number of CPUs').default('2'))
    .addOption(new Option('--seed <n>', 'seed for every random choice').default('1'))
    .option('--slub-debug <flags>', "slub_debug= boot option, e.g. 'FZPU' or 'FZ,kmalloc-64'")
    .option('--slub-min-order <n>', 'slab_min_order=')
    .option('--slub-max-order <n>', 'slab_max_order=')
    .option('--slub-min-objects <n>', 'slab_min_objects=')
    .option('--slab-nomerge', 'slab_nomerge: never merge caches')
    .option('--slub-stats', 'CONFIG_SLUB_STATS counters in /sys/kernel/slab/<cache>/')
    .addOption(new Option('--workload <name>', 'built-in workload to run first').choices(['boot', 'none']).default('boot'))
    .addOption(new Option('--steps <n>', 'operations the workload performs').default('20000'));
}

function bootFrom(o: MachineOpts): Kernel {
  const opts: BootOptions = {
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
  const k = boot(opts);
  if (o.workload === 'boot') runBootWorkload(k, intOpt(o.steps, 'steps') ?? 20000);
  return k;
}

const K = (pages: number) => `${pages * 4}K`;

/** slabtop's columns for the biggest caches. */
function topCaches(k: Kernel, n: number): string[] {
  const rows = slabinfoRows(k.slab)
    .filter((r) => r.numSlabs > 0)
    .map((r) => ({ ...r, cacheKb: r.numSlabs * r.pagesperslab * 4 }))
    .sort((a, b) => b.cacheKb - a.cacheKb)
    .slice(0, n);
  const out = ['  OBJS ACTIVE  USE OBJ SIZE  SLABS OBJ/SLAB CACHE SIZE NAME'];
  for (const r of rows) {
    const use = r.numObjs ? Math.floor((r.activeObjs * 100) / r.numObjs) : 0;
    out.push(
      `${String(r.numObjs).padStart(6)} ${String(r.activeObjs).padStart(6)} ${`${use}%`.padStart(4)} ${`${(r.objsize / 1024).toFixed(2)}K`.padStart(8)} ${String(r.numSlabs).padStart(6)} ${String(r.objperslab).padStart(8)} ${`${r.cacheKb}K`.padStart(10)} ${r.name}`,
    );
  }
  return out;
}

function summary(k: Kernel): string {
  const lines: string[] = [];
  lines.push('== dmesg (boot)', ...k.dmesg().slice(0, 20));
  let free = 0;
  let managed = 0;
  for (let z = 0; z < 5; z++) {
    free += k.pageAlloc.zones.get(z, 4) + k.pageAlloc.pcpPages(z);
    managed += k.pageAlloc.zones.get(z, 3);
  }
  const slab = k.slabPages(true) + k.slabPages(false);
  lines.push('', '== memory');
  lines.push(`MemTotal: ${K(managed)}  MemFree: ${K(free)}  Slab: ${K(slab)} (SReclaimable: ${K(k.slabPages(true))}, SUnreclaim: ${K(k.slabPages(false))})  Pages other: ${K(managed - free - slab)}`);
  lines.push('', '== top caches by size', ...topCaches(k, 10));
  lines.push('', '== /proc/buddyinfo', k.proc.read('/proc/buddyinfo').replace(/\n$/, ''));
  const bugs = k.dmesg().filter((l) => /BUG|WARNING|page allocation failure/.test(l));
  lines.push('', `== reports: ${bugs.length === 0 ? 'none' : ''}`, ...bugs);
  return `${lines.join('\n')}\n`;
}

const program = new Command();
program
  .name('kmem')
  .description("Linux's memory manager (buddy allocator, SLUB) on real memory: boot a machine and look inside")
  .version('0.1.0');

machineOptions(program.command('run'))
  .description('boot a machine, run a workload and print a summary')
  .addHelpText('after', '\nExample:\n  $ kmem run --mem 256M --cpus 4 --steps 50000')
  .action((o: MachineOpts) => {
    process.stdout.write(summary(bootFrom(o)));
  });

machineOptions(program.command('cat').argument('<path>', 'a /proc or /sys file kmem serves'))
  .description('print a /proc or /sys file after the workload')
  .addHelpText('after', '\nExample:\n  $ kmem cat /sys/kernel/slab/kmalloc-64/objects')
  .action((path: string, o: MachineOpts) => {
    process.stdout.write(bootFrom(o).proc.read(path));
  });

for (const [name, path] of [
  ['slabinfo', '/proc/slabinfo'],
  ['buddyinfo', '/proc/buddyinfo'],
  ['zoneinfo', '/proc/zoneinfo'],
  ['pagetypeinfo', '/proc/pagetypeinfo'],
  ['vmstat', '/proc/vmstat'],
] as const) {
  machineOptions(program.command(name))
    .description(`print ${path} after the workload`)
    .addHelpText('after', `\nExample:\n  $ kmem ${name} --mem 64M`)
    .action((o: MachineOpts) => {
      process.stdout.write(bootFrom(o).proc.read(path));
    });
}

machineOptions(program.command('dmesg'))
  .description('print the kernel log after the workload')
  .addHelpText('after', '\nExample:\n  $ kmem dmesg --slub-debug FZPU')
  .action((o: MachineOpts) => {
    process.stdout.write(`${bootFrom(o).dmesg().join('\n')}\n`);
  });

try {
  program.parse();
} catch (e) {
  process.stderr.write(`kmem: ${(e as Error).message}\n`);
  process.exit(2);
}
