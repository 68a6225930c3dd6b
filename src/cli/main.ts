#!/usr/bin/env node
/**
 * The kmem command: boot a machine, run a workload, and show its memory the
 * way the kernel's own files and tools show it; replay a real kernel's
 * allocation trace.
 *
 * Exit codes: 0 success, 1 an error in the input (a malformed trace line, an
 * address outside memory), 2 a usage error or a file that cannot be read.
 */

import { closeSync, openSync, readSync } from 'node:fs';
import { Command, CommanderError, Option } from 'commander';
import type { Kernel } from '../kernel.js';
import { TraceFileError, TraceParseError } from '../trace/events.js';
import { isRegularFile, MAX_CALL_SITES, OTHER_CALL_SITES } from '../trace/replay.js';
import { KMEM_SAMPLE_PATH } from '../trace/samples/kmem_sample.js';
import { WORKLOADS } from '../workloads/index.js';
import { registerFree } from './free.js';
import { addMachineOptions, addWorkloadOptions, intOpt, type Machine, machineWithWorkload, runMachine, UsageError, type WorkloadOpts } from './machine.js';
import { type CompareCmdOptions, cpusList, formatCompare, formatReplay, type ReplayCmdOptions, runCompare, runReplay } from './replay_cmd.js';
import { registerServe } from './serve.js';
import { cacheReport, defaultReport, findSlabCache, type ReportOptions, reportCaches } from './slabinfo_tool.js';
import { SORT_KEYS } from './slabtop.js';
import { buddyinfoData, formatRunSummary, runSummary } from './summary.js';
import type { TopOptions } from './top.js';
import { registerVmstat } from './vmstat.js';

const VERSION = '0.1.0';

const print = (text: string) => process.stdout.write(text);
const printJson = (v: unknown) => print(`${JSON.stringify(v, null, 2)}\n`);

function example(...lines: string[]): string {
  return `\nExample${lines.length > 1 ? 's' : ''}:\n${lines.map((l) => `  $ ${l}`).join('\n')}`;
}

const WORKLOAD_HELP = `\nWorkloads (--workload, seeded by --seed):\n${WORKLOADS.map((w) => `  ${w.name.padEnd(13)} ${w.description}`).join('\n')}\n  none          just boot`;

/** The file's first line that is neither blank nor a comment: a malloc trace (Alloc(/Free() or not. */
function looksLikeMallocTrace(path: string): boolean {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return true; // let the malloc-trace reader report it
  }
  try {
    const buf = Buffer.alloc(65536);
    const n = readSync(fd, buf, 0, buf.length, 0);
    if (n >= 2 && buf[0] === 0x1f && buf[1] === 0x8b) return /\.(trace|rep)(\.gz)?$/.test(path);
    for (const line of buf.toString('latin1', 0, n).split('\n')) {
      const t = line.trim();
      if (t === '' || t.startsWith('#') || t.startsWith('//')) continue;
      return /^(Alloc|Free)\(/.test(t);
    }
    return true;
  } catch {
    return true;
  } finally {
    closeSync(fd);
  }
}

/** A /proc or /sys file as JSON: parsed where kmem knows the format, else its text. */
function procJson(k: Kernel, path: string): unknown {
  const text = k.proc.read(path);
  if (path === '/proc/slabinfo') return { path, caches: k.inspect.slabinfo().map(({ id: _id, cacheKb: _kb, use: _use, ...row }) => row) };
  if (path === '/proc/buddyinfo') return { path, zones: buddyinfoData(k) };
  if (path === '/proc/vmstat') {
    const counters: Record<string, number> = {};
    for (const line of text.split('\n')) {
      const [name, v] = line.split(' ');
      if (name && v !== undefined) counters[name] = Number(v);
    }
    return { path, counters };
  }
  return { path, content: text };
}

/** True when path names a directory of the files kmem serves (/proc, /sys/kernel/slab/<cache>, ...). */
function isServedDirectory(k: Kernel, path: string): boolean {
  const dir = path.endsWith('/') ? path : `${path}/`;
  if (dir === '/') return true;
  if (k.proc.list().some((f) => f.startsWith(dir))) return true;
  // /sys/kernel/slab/<cache>/ is served by name: a cache's directory has object_size
  if ('/sys/kernel/slab/'.startsWith(dir)) return true;
  try {
    k.proc.read(`${dir}object_size`);
    return true;
  } catch {
    return false;
  }
}

function readFile(k: Kernel, path: string): string {
  try {
    return k.proc.read(path);
  } catch (e) {
    if ((e as { code?: string }).code !== 'ENOENT') throw e;
    if (isServedDirectory(k, path)) throw new UsageError(`cat: ${path}: Is a directory`, 1);
    throw new UsageError(`cat: ${path}: No such file or directory`, 1);
  }
}

// A reader that stops early (`kmem slabinfo | head`) is not an error.
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE') process.exit(0);
  throw e;
});

const program = new Command();
program
  .name('kmem')
  .description("Linux's memory manager (buddy allocator, SLUB, KASAN) on real memory: boot a machine, run a workload, look inside")
  .version(VERSION)
  .exitOverride()
  .enablePositionalOptions()
  .showSuggestionAfterError()
  .addHelpText(
    'after',
    `${example('kmem run', 'kmem top --workload network', 'kmem replay --sample')}\n\nThe default machine has 128M of RAM and 2 CPUs; every command takes the machine options (kmem run --help).`,
  );

// ── run ────────────────────────────────────────────────────────────────────
addWorkloadOptions(addMachineOptions(program.command('run')), '20000')
  .description('boot a machine, run a workload, and print a summary: boot log, memory, top caches, /proc/buddyinfo, reports')
  .option('--json', 'print the summary as JSON')
  .addHelpText(
    'after',
    `${WORKLOAD_HELP}\n\nWith --trace FILE of ftrace kmem:* events the trace is replayed instead (see kmem replay; kmem ships one:\n  ${KMEM_SAMPLE_PATH}).${example('kmem run --mem 256M --cpus 4 --workload fork-exec --steps 50000', 'kmem run --workload malloc-trace --json', `kmem run --trace ${KMEM_SAMPLE_PATH}`)}`,
  )
  .action(async (o: WorkloadOpts, cmd: Command) => {
    if (o.trace !== undefined && o.workload === undefined && !looksLikeMallocTrace(o.trace)) {
      const r = await runReplay(o.trace, o as ReplayCmdOptions);
      requireEvents(r);
      if (o.json) printJson(r);
      else print(formatReplay(r, 10, false));
      return;
    }
    const m = await runMachine(o, cmd);
    const s = runSummary(m.k, m.bootLog, m.workload?.name ?? null, m.workload?.ops ?? 0);
    if (o.json) printJson(s);
    else print(formatRunSummary(m.k, s));
  });

// ── cat and the shorthands ─────────────────────────────────────────────────
addWorkloadOptions(addMachineOptions(program.command('cat').argument('<path>', 'a /proc, /sys or debugfs file kmem serves')), '20000')
  .description('print a /proc or /sys file after the workload')
  .option('--json', 'print it as JSON (parsed for slabinfo, buddyinfo and vmstat)')
  .addHelpText(
    'after',
    `\nFiles: /proc/slabinfo /proc/buddyinfo /proc/pagetypeinfo /proc/zoneinfo /proc/vmstat\n  /sys/kernel/slab/<cache>/<attr>  /sys/kernel/debug/extfrag/{unusable_index,extfrag_index}${example('kmem cat /sys/kernel/slab/kmalloc-64/objects', 'kmem cat /sys/kernel/debug/extfrag/unusable_index --workload fragment')}`,
  )
  .action(async (path: string, o: WorkloadOpts, cmd: Command) => {
    const m = await runMachine(o, cmd);
    const text = readFile(m.k, path);
    if (o.json) printJson(procJson(m.k, path));
    else print(text);
  });

for (const [name, path, ex] of [
  ['slabinfo', '/proc/slabinfo', 'kmem slabinfo --workload fork-exec'],
  ['buddyinfo', '/proc/buddyinfo', 'kmem buddyinfo --workload fragment --steps 100000'],
  ['zoneinfo', '/proc/zoneinfo', 'kmem zoneinfo --mem 1G'],
  ['pagetypeinfo', '/proc/pagetypeinfo', 'kmem pagetypeinfo --workload fragment'],
] as const) {
  addWorkloadOptions(addMachineOptions(program.command(name)), '20000')
    .description(`print ${path} after the workload (kmem cat ${path})`)
    .option('--json', 'print it as JSON')
    .addHelpText('after', example(ex))
    .action(async (o: WorkloadOpts, cmd: Command) => {
      const m = await runMachine(o, cmd);
      if (o.json) printJson(procJson(m.k, path));
      else print(m.k.proc.read(path));
    });
}

addWorkloadOptions(addMachineOptions(program.command('dmesg')), '20000')
  .description('print the kernel log after the workload')
  .option('--json', 'print the lines as a JSON array')
  .addHelpText('after', example('kmem dmesg --slub-debug FZPU --workload leak'))
  .action(async (o: WorkloadOpts, cmd: Command) => {
    const m = await runMachine(o, cmd);
    if (o.json) printJson({ lines: m.k.dmesg() });
    else print(`${m.k.dmesg().join('\n')}\n`);
  });

// ── free, vmstat (procps's tools on the machine's files) ───────────────────
registerFree(program);
registerVmstat(program);

// ── top ────────────────────────────────────────────────────────────────────
interface TopCmdOptions extends WorkloadOpts {
  sort: string;
  delay: string;
  once?: boolean;
  rate?: boolean;
}

addWorkloadOptions(addMachineOptions(program.command('top')), '2000', 'operations the workload performs before each refresh')
  .description('a live slabtop while a workload runs')
  .addOption(new Option('-s, --sort <key>', 'sort by key (see below)').default('o'))
  .addOption(new Option('-d, --delay <secs>', 'seconds between refreshes').default('3'))
  .option('-o, --once', 'print one screen of every cache and exit (slabtop -o)')
  .option('--rate', 'start in the rate view: allocations and frees per second per cache')
  .option('--json', 'with -o: print the summary and caches as JSON')
  .addHelpText(
    'after',
    `\nSort keys (-s, and the same keys while running; r toggles the rate view, q or Ctrl-C quits):\n${Object.entries(SORT_KEYS)
      .map(([k, v]) => `  ${k}: ${v}`)
      .join('\n')}\n${WORKLOAD_HELP}${example('kmem top --workload network -d 1', 'kmem top -o -s c --workload fork-exec --steps 50000')}`,
  )
  .action(async (o: TopCmdOptions, cmd: Command) => {
    const delay = Number(o.delay);
    if (o.delay.trim() === '' || Number.isNaN(delay)) throw new UsageError(`-d, --delay: '${o.delay}' is not a number (seconds between refreshes)`);
    if (!(delay > 0) || !Number.isFinite(delay)) throw new UsageError('-d, --delay: delay must be positive');
    if (o.once && cmd.getOptionValueSource('delay') === 'cli') throw new UsageError('Cannot combine -d and -o options');
    const sort = o.sort.slice(0, 1);
    const m: Machine = await machineWithWorkload(o);
    const opts: TopOptions = {
      delay,
      once: o.once === true,
      sort,
      steps: intOpt(o.steps, 'steps') ?? 2000,
      rate: o.rate === true,
      json: o.json === true,
    };
    // the commands' own modules are loaded when they run, not on every kmem start
    const { topLive, topOnce } = await import('./top.js');
    if (opts.once || !process.stdout.isTTY) {
      print(topOnce(m, opts));
      return;
    }
    await topLive(m, opts);
  });

// ── slabinfo-report ────────────────────────────────────────────────────────
interface ReportCmdOptions extends WorkloadOpts {
  report?: string;
  loss?: boolean;
  size?: boolean;
  activity?: boolean;
  zero?: boolean;
  bytes?: boolean;
  lines?: string;
}

addWorkloadOptions(addMachineOptions(program.command('slabinfo-report')), '20000')
  .description("the kernel's tools/mm/slabinfo reports: one line per cache, or one cache in detail")
  .option('-r, --report <cache>', 'the detailed report of one cache')
  .option('-L, --Loss', 'sort by loss and show it instead of the space used')
  .option('-S, --Size', 'sort by size')
  .option('-D, --display-active', 'the activity line format (needs --slub-stats for the counters)')
  .option('-z, --zero', 'include caches without slabs')
  .option('-B, --Bytes', 'sizes in bytes')
  .option('-N, --lines <n>', 'only the first n caches')
  .option('--json', 'print the caches (or the one cache) as JSON')
  .addHelpText(
    'after',
    `\nColumns: Name, Objects (in use), Objsize (object_size), Space (slabs × slab size), Slabs/Part/Cpu\n  (slabs not on a CPU / partial / on CPUs), O/S objects per slab, O order, %Fr partial slabs,\n  %Ef objects' bytes / slab bytes, Flg: * aliases d DMA A hwcache-aligned P poison a reclaimable\n  Z red zone F sanity checks U user tracking T tracing${example('kmem slabinfo-report -S --workload fork-exec', 'kmem slabinfo-report -r kmalloc-192 --workload leak --slub-stats')}`,
  )
  .action(async (o: ReportCmdOptions & { Loss?: boolean; Size?: boolean; displayActive?: boolean; Bytes?: boolean }, cmd: Command) => {
    const m = await runMachine(o, cmd);
    const ro: ReportOptions = {
      loss: o.Loss === true,
      size: o.Size === true,
      activity: o.displayActive === true,
      zero: o.zero === true,
      bytes: o.Bytes === true,
      lines: o.lines === undefined ? undefined : Math.max(1, intOpt(o.lines, 'lines')!),
    };
    if (o.report !== undefined) {
      const c = findSlabCache(m.k, o.report);
      if (c === undefined) throw new UsageError(`slabinfo-report: no cache named '${o.report}'`, 1);
      if (o.json) printJson(c);
      else print(cacheReport(m.k, c));
      return;
    }
    if (o.json) printJson({ caches: reportCaches(m.k, ro) });
    else print(defaultReport(m.k, ro));
  });

// ── whatis ─────────────────────────────────────────────────────────────────
addWorkloadOptions(addMachineOptions(program.command('whatis').argument('<addr...>', 'addresses: ffff888... as the kernel prints them, or physical')), '20000')
  .description("who owns an address, like crash's kmem ADDR: zone, page, free or allocated, cache, slab, object, offset, tracks")
  .option('--json', 'print the answers as JSON')
  .addHelpText('after', example('kmem whatis ffff888003a41040', 'kmem whatis 0x3a41040 --slub-debug U --json'))
  .action(async (addrs: string[], o: WorkloadOpts, cmd: Command) => {
    const m = await runMachine(o, cmd);
    const { formatWhatis, parseAddress, whatis } = await import('./whatis.js');
    const results = addrs.map((a) => whatis(m.k, parseAddress(a, m.k.inspect.memory)));
    if (o.json) printJson(results.length === 1 ? results[0] : results);
    else print(results.map((r) => formatWhatis(m.k, r)).join('\n'));
  });

// ── ps, maps, exec: processes (src/vm) ────────────────────────────────────
addWorkloadOptions(addMachineOptions(program.command('ps')), '20000')
  .description('the processes after the workload, as ps -eo pid,ppid,vsz,rss,stat,comm shows them (from /proc/PID/stat and status)')
  .option('--json', 'print the processes as JSON')
  .addHelpText(
    'after',
    `\nColumns: PID, PPID, VSZ (virtual size, KiB), RSS (resident, KiB), STAT (R running, Z zombie; s session\n  leader, L pages locked), COMMAND (the comm, <defunct> for a zombie).${example('kmem ps --workload fork-exec --steps 5000')}`,
  )
  .action(async (o: WorkloadOpts, cmd: Command) => {
    const m = await runMachine(o, cmd);
    const { formatPs, psRows } = await import('./ps.js');
    const rows = psRows(m.k);
    if (o.json) printJson({ processes: rows });
    else print(formatPs(rows));
  });

addWorkloadOptions(addMachineOptions(program.command('maps').argument('<pid>', 'a process ID (kmem ps lists them)')), '20000')
  .description('print /proc/PID/maps after the workload')
  .option('--json', 'print it as JSON')
  .addHelpText('after', example('kmem maps 1 --workload fork-exec', 'kmem ps --workload fork-exec | head'))
  .action(async (pidText: string, o: WorkloadOpts, cmd: Command) => {
    const { mapsOf, parsePid } = await import('./ps.js');
    const pid = parsePid(pidText);
    const m = await runMachine(o, cmd);
    const text = mapsOf(m.k, pid);
    if (o.json) printJson({ path: `/proc/${pid}/maps`, content: text });
    else print(text);
  });

interface ExecCmdOptions extends WorkloadOpts {
  env?: string[];
  aslr?: string;
}

addWorkloadOptions(
  addMachineOptions(
    program
      .command('exec')
      .argument('<elf>', 'a static or dynamically linked ELF64 x86-64 program on this host')
      .argument('[args...]', 'its arguments (argv[1] ...)'),
  ),
  '20000',
)
  .description("put a host program into the machine's file system, spawn it (fork from init + execve), and print its /proc/PID/maps and status")
  .option('-e, --env <NAME=VALUE>', 'an environment variable of the new process (repeatable)', (v: string, prev: string[] | undefined) => [...(prev ?? []), v])
  .addOption(
    new Option('--aslr <n>', 'kernel.randomize_va_space for the execve: 0 none (as setarch -R), 1 stack, mmap base and vDSO, 2 also brk; seeded by --seed')
      .choices(['0', '1', '2'])
      .default('0'),
  )
  .option('--json', 'print the pid, maps and status as JSON')
  .passThroughOptions()
  .addHelpText(
    'after',
    `\nkmem's options go before the program; everything after it is the program's (argv[0] is the program as given).\nA dynamically linked program needs its interpreter too: kmem reads it from this host when the ELF names one.${example('kmem exec /bin/busybox cat', 'kmem exec --mem 64M -e HOME=/ /bin/busybox sh -c true', 'kmem exec --aslr 2 --seed 5 /bin/cat')}`,
  )
  .action(async (elf: string, args: string[], o: ExecCmdOptions, cmd: Command) => {
    const m = await runMachine(o, cmd);
    m.k.vm.aslr = Number(o.aslr ?? 0);
    const { execHostFile, formatExec } = await import('./ps.js');
    const r = execHostFile(m.k, elf, args, o.env ?? []);
    if (o.json) printJson(r);
    else print(formatExec(r));
  });

// ── replay ─────────────────────────────────────────────────────────────────
/** A replay that found no events is an error in the input: exit 1. */
function requireEvents(r: { file: string; lines: number; events: number; skipped: number }): void {
  if (r.events !== 0) return;
  const what =
    r.lines === 0
      ? 'the file is empty'
      : `none of its ${r.lines} line${r.lines === 1 ? '' : 's'} is a kmem:* event${r.skipped ? ` (${r.skipped} bad, skipped)` : ''}`;
  throw new UsageError(`${r.file === '-' ? '(standard input)' : r.file}: no kmem events found: ${what} (kmem replay --help says how to record them)`, 1);
}

interface ReplayActionOptions extends CompareCmdOptions {
  sample?: boolean;
  json?: boolean;
}

/** The machine options as a replay reads them: --cpus takes a list, and the defaults come from the trace. */
function replayMachineOptions(cmd: Command): Command {
  const help: Record<string, string> = {
    '--cpus': "number of CPUs, or a list such as 1,2,8 to compare them (default: the trace header's #P:N, else the CPUs its events use)",
    '--mem': "RAM size, e.g. 512M or 1G (default: the traced machine's RAM from a Memory: line in the trace, else 128M)",
    '--slub-stats': 'CONFIG_SLUB_STATS (always on in a replay: the fast and slow path columns come from it)',
  };
  for (const opt of cmd.options) {
    const h = help[opt.long ?? ''];
    if (h !== undefined) opt.description = h;
  }
  return cmd;
}

replayMachineOptions(
  addMachineOptions(
    program.command('replay').argument('[file]', 'ftrace / trace-cmd report / perf script text of kmem:* events (plain or .gz); - reads standard input'),
  ),
)
  .description("replay a kernel's kmem:* trace through SLUB and the buddy allocator, on the CPUs it names; or under several configurations side by side")
  .option('--sample', 'replay the real trace that ships with kmem (kmem:kmem_cache_alloc on a 5.4 kernel, 4 CPUs)')
  .addOption(
    new Option('--allocator <design>', "the slab allocator design to replay into (boot()'s allocator; default slub)").choices(['slub', 'slab', 'slob']),
  )
  .option(
    '--compare <settings...>',
    "replay the trace once per setting (boot options NAME=VALUE, e.g. 'slubMaxOrder=0' 'slubMaxOrder=3'; see below) and print them side by side",
  )
  .option(
    '--reserved <size>',
    "memory reserved at boot on the traced machine (the `reserved` of its Memory: line), e.g. 40M: kmem's machine then manages what it managed (default: from a Memory: line in the trace's first 64K, else none)",
  )
  .option(
    '--kernel <version>',
    'SLUB geometry of the traced kernel: 6.1 or 6.18 (default: 6.18 when its kmem_cache_alloc events print name=, 6.1 when they print none)',
  )
  .option(
    '--ring-buffer-kb <kb>',
    "per-CPU buffer_size_kb of the traced machine's main ftrace ring buffer (/sys/kernel/tracing/buffer_size_kb): the boot CPU's buffers, made before the first event, take that memory (default: the buffers the trace shows a CPU getting when it came up)",
  )
  .option('--allocator-stats', 'add the CONFIG_SLUB_STATS counters of the caches the trace used and the page allocator counters of /proc/vmstat')
  .option('--json', 'print the report (or the comparison) as JSON')
  .option('--skip-bad', 'count and skip malformed lines (and events kmem refuses to perform) instead of stopping at the first')
  .option(
    '--lookahead <n>',
    'standard input and pipes only: kmem_cache_alloc events held back to learn their cache from a later free (a file is read twice and learns from all of it)',
    '1024',
  )
  .option('--top <n>', 'call sites listed (with --compare: caches whose slabs differ)', '20')
  .addHelpText(
    'after',
    `\nEvents: kmalloc kmalloc_node kfree kmem_cache_alloc kmem_cache_alloc_node kmem_cache_free
  mm_page_alloc mm_page_free mm_page_free_batched (4.x to 6.x formats; call_site as hex or symbol,
  hashed or raw pointers; mm_page_alloc_zone_locked and mm_page_pcpu_drain are counted only).
Cache names: kmem_cache_alloc printed no name= before 6.18. A file (plain or .gz) is read twice:
  the first pass finds each allocation's cache in the name= its free prints, however much later,
  and for each call site and bytes_alloc the cache its named objects went to. Standard input and
  pipes are read once, through a window of --lookahead events. On a 6.1 trace an allocation no
  event names goes to the real 6.1 machine's cache of its slot (bytes_alloc) and object size
  (bytes_req) that the trace never names, if there is one. Any other allocation no event names is
  replayed in a cache of its own, <function>-<bytes_alloc>, marked '?' in the report.
--kernel: the geometry (slot sizes, orders, kmem_cache sizes, kmalloc-96/192 alignment) and the
  table of known caches; a trace whose kmem_cache_alloc events print no name= is replayed as 6.1.
Before the trace: the boot CPU's ftrace ring buffers exist before any event is recorded. A CPU
  brought up while tracing gets the same ones (rb_allocate_cpu_buffer, then one __rb_allocate_pages
  buffer_page per data page), so a file's replay first allocates those (a reader page and one page
  per data page, a descriptor and a buffer_page each); --ring-buffer-kb KB sets the main one's
  size; the report says how many pages and objects that took, and where the figure came from.
--cpus defaults to the trace header's #P:N, else to the highest CPU its events use (at least 2).
Call sites: at most ${MAX_CALL_SITES} have a row of their own, so memory stays bounded on any trace:
  when a new one finds them all taken, the half with no live objects and the fewest allocations
  are summed into one "${OTHER_CALL_SITES}" row (new ones go there while none is idle).
--compare: each setting is one machine: boot() options as NAME=VALUE, several in one setting
  separated by spaces or commas ('slubMaxOrder=1 slubMinObjects=8'); NAME as boot() spells it or
  as the command line does (slub-max-order, mem); 'default' is the machine of the other options.
  Settings: memory cpus seed slubMinOrder slubMaxOrder slubMinObjects slabNomerge slubDebug
  freelistHardened freelistRandom kasan minFreeKbytes transparentHugepage reserved kernel allocator
  (allocator=slab, allocator=slob: each design in its own terms, '-' where it has no such figure:
  SLAB's slow paths are head-array refills and flushes, SLOB's the pages it takes and gives back,
  its fragmentation the free bytes of its partially used pages). The machine options
  (--mem, --slub-debug, ...) apply to every machine; a setting overrides them. --cpus 1,2,8 is an
  axis of its own: every setting is replayed on each CPU count (2 settings x 3 counts = 6
  machines), except a setting that names cpus= itself; --cpus 1,2,8 alone compares the CPU counts.
  The trace is read once for all machines (standard input or a pipe is first copied to a
  temporary file: it is read twice). Columns: Slab: of
  /proc/meminfo in pages and kB; the slab pages of the trace's caches; internal waste (slot size
  less bytes_req of the live objects) and slab slack; alloc/free slow paths (CONFIG_SLUB_STATS);
  free bytes in partial slabs; failed allocations; seconds booting and replaying that machine.
  The settings take every word that follows --compare: put the file before it, or last (a last
  word with no '=' is the file), or after --.
Try it at once on the trace kmem ships (${KMEM_SAMPLE_PATH}):
  $ kmem replay --sample
Record one with:
  # trace-cmd record -e kmem:kmalloc -e kmem:kfree -e kmem:kmem_cache_alloc -e kmem:kmem_cache_free
  # trace-cmd report > trace.txt      (or: cat /sys/kernel/tracing/trace > trace.txt)${example(
    'kmem replay --sample',
    'kmem replay trace.txt',
    'zcat trace.txt.gz | kmem replay - --mem 1G',
    'kmem replay trace.txt.gz --mem 1G --allocator-stats --json > report.json',
    "kmem replay trace.txt --compare 'slubMaxOrder=0' 'slubMaxOrder=3' --cpus 1,2,8",
    "kmem replay trace.txt --compare default 'slubMinObjects=32 slubMaxOrder=2' slabNomerge=true --json",
    "kmem replay trace.txt --compare 'allocator=slab' 'allocator=slob' default",
    'kmem replay trace.txt --allocator slob',
  )}`,
  )
  .action(async (file: string | undefined, o: ReplayActionOptions, cmd: Command) => {
    // `kmem replay --compare A B trace.txt`: the variadic option took the file
    if (
      file === undefined &&
      o.compare !== undefined &&
      o.compare.length > 0 &&
      !o.compare[o.compare.length - 1]!.includes('=') &&
      o.compare[o.compare.length - 1] !== 'default'
    ) {
      file = o.compare[o.compare.length - 1];
      o.compare = o.compare.slice(0, -1);
    }
    if (o.sample && file !== undefined) throw new UsageError('replay: give a trace file or --sample, not both');
    if (!o.sample && file === undefined)
      throw new UsageError("replay: missing the trace file (a file, '-' for standard input, or --sample for the one kmem ships)");
    const path = o.sample ? KMEM_SAMPLE_PATH : file!;
    if (cmd.getOptionValueSource('lookahead') === 'cli' && isRegularFile(path)) {
      process.stderr.write('kmem replay: --lookahead applies to standard input and pipes only: a file is read twice, its names learned from all of it\n');
    }
    if (o.compare !== undefined || cpusList(o.cpus) !== null) {
      const c = await runCompare(path, o);
      requireEvents({ ...c, file: path });
      if (o.json) printJson(c);
      else print(formatCompare(c, intOpt(o.top, 'top') ?? 20));
      return;
    }
    const r = await runReplay(path, o);
    requireEvents(r);
    if (o.json) printJson(r);
    else print(formatReplay(r, intOpt(o.top, 'top') ?? 20, o.allocatorStats === true));
  });

// ── serve (the browser view; src/cli/serve.ts) ─────────────────────────────
registerServe(program);

async function main(): Promise<void> {
  try {
    await program.parseAsync();
  } catch (e) {
    if (e instanceof CommanderError) {
      process.exitCode = e.exitCode === 0 ? 0 : 2;
      return;
    }
    if (e instanceof UsageError) {
      process.stderr.write(`kmem: ${e.message}\n`);
      process.exitCode = e.exitCode;
      return;
    }
    if (e instanceof TraceFileError) {
      process.stderr.write(`kmem: ${e.message}\n`);
      process.exitCode = 2;
      return;
    }
    if (e instanceof TraceParseError) {
      process.stderr.write(`kmem: ${e.message}\n`);
      process.exitCode = 1;
      return;
    }
    if (e instanceof RangeError || e instanceof TypeError) {
      process.stderr.write(`kmem: ${e.message}\n`);
      if (process.env.KMEM_DEBUG) process.stderr.write(`${(e as Error).stack}\n`);
      process.exitCode = 2;
      return;
    }
    process.stderr.write(`kmem: ${(e as Error)?.stack ?? String(e)}\n`);
    process.exitCode = 1;
  }
}

await main();
