/**
 * Replay throughput on a multi-million-line trace made from a real one.
 *
 * The trace: a real Linux 6.1 capture of the project's real-kernel oracle
 * (KMEM_TRACE=OUTDIR/trace.txt.gz after its `run.sh 2 512M OUTDIR`; without
 * it, the 2000-line excerpt in test/fixtures/trace/), its header once, then
 * its event lines over and over until KMEM_BENCH_LINES lines (default 5M).
 * The same pointers come back in every copy, so what is live stays bounded
 * (an object still live when its pointer is allocated again counts as a lost
 * free), as it would in a long capture of a machine in a steady state.
 * The file is written to the temporary directory and removed after.
 *
 * Contenders, each in a node process of its own (cold: module loading and
 * boot included where the contender does them), rounds interleaved, min and
 * median of KMEM_BENCH_ROUNDS (default 3):
 *   parse          readTraceColumns: every line into typed-array rows
 *   names pass     readTraceColumns namesOnly: the replay's first pass
 *   parse objects  readTraceBatches: the one-object-per-line reader (pipes)
 *   kmem replay    the whole `kmem replay FILE --json` process (both passes,
 *                  boot, replay, report)
 *   compare x3     the whole `kmem replay FILE --compare slubMaxOrder=0
 *                  slubMaxOrder=1 default --json` process: the trace read
 *                  once, replayed into three machines
 * Figures: lines per second of CPU time inside the process for the parse
 * contenders (startup excluded), of the whole process's CPU time (user +
 * system, /usr/bin/time) for kmem replay, the whole process's wall time for
 * each (the steadier figure on a shared machine is the CPU time), and the
 * peak RSS of each process (/usr/bin/time's maximum resident set).
 *
 * Goals (issue 16): kmem replay >= 1M lines/s, parse >= 2M lines/s, peak RSS
 * under 300 MB and flat in the trace's length. Measured 2026-12-06 on the
 * shared 2-CPU machine (load 12-19), 3 rounds: parse 2.61-2.65M, names pass
 * 4.1M, kmem replay 1.03-1.06M lines/s (cpu), peak RSS 60 MiB (parse) and
 * 91 MiB (kmem replay; 92 MiB on 1M lines); a round under heavier load gave
 * parse 2.1M and kmem replay 0.90-1.05M. Before (the same trace): parse
 * 1.41M, names pass 3.06M, kmem replay 0.68M.
 * `npx tsx bench/make_replay_trace.ts OUT [LINES]` writes the same trace
 * for measuring by hand.
 */
import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { StringTable } from '../src/trace/columns.js';
import { readTraceBatches, readTraceColumns } from '../src/trace/stream.js';

const here = dirname(fileURLToPath(import.meta.url));
/** the repository: bench/ when run from source (tsx), build/bench when compiled */
const root = existsSync(join(here, '..', 'package.json')) ? resolve(here, '..') : resolve(here, '..', '..');

/** The real trace the bench file is made of. */
function sourceTrace(): string {
  const env = process.env.KMEM_TRACE;
  if (env !== undefined && existsSync(env)) return env;
  return join(root, 'test/fixtures/trace/linux-6.1-qemu-2cpu-excerpt.txt');
}

/** Write `lines` lines made of the source's header and its events repeated; returns the byte count. */
export function makeReplayTrace(out: string, lines: number, source = sourceTrace()): number {
  const raw = readFileSync(source);
  const text = (source.endsWith('.gz') ? gunzipSync(raw) : raw).toString('latin1');
  const all = text.split('\n');
  const header = all.filter((l, i) => i < 40 && l.startsWith('#') && !l.startsWith('# Source') && !l.startsWith('# Below'));
  const body = all.filter((l) => l.length > 0 && !l.startsWith('#'));
  const bodyText = Buffer.from(`${body.join('\n')}\n`, 'latin1');
  const fd = openSync(out, 'w');
  let bytes = writeSync(fd, `${header.join('\n')}\n`);
  let n = header.length;
  while (n + body.length <= lines) {
    bytes += writeSync(fd, bodyText);
    n += body.length;
  }
  if (n < lines) {
    const rest = Buffer.from(`${body.slice(0, lines - n).join('\n')}\n`, 'latin1');
    bytes += writeSync(fd, rest);
  }
  closeSync(fd);
  return bytes;
}

interface Run {
  lines: number;
  /** seconds: CPU time inside the process (parse contenders), or the whole process's CPU time (user + system) */
  seconds: number;
  /** the whole process's wall time */
  wall: number;
  rssMiB: number;
}

const CONTENDERS = ['parse', 'names pass', 'parse objects', 'kmem replay', 'compare x3'] as const;
/** The contenders that are a whole kmem process. */
const WHOLE: readonly Contender[] = ['kmem replay', 'compare x3'];
type Contender = (typeof CONTENDERS)[number];

/** One contender, once, in a process of its own. */
function runOnce(which: Contender, file: string, lines: number): Run {
  const self = fileURLToPath(import.meta.url);
  const cli = [process.execPath, join(root, 'build/src/cli/main.js'), 'replay', file, '--json', '--mem', '1G'];
  const args =
    which === 'kmem replay'
      ? cli
      : which === 'compare x3'
        ? [...cli, '--compare', 'slubMaxOrder=0', 'slubMaxOrder=1', 'default']
        : [process.execPath, self, 'child', which, file];
  const r = spawnSync('/usr/bin/time', ['-f', 'TIME %e %U %S %M', ...args], { encoding: 'utf8', maxBuffer: 1 << 30 });
  if (r.status !== 0) throw new Error(`${which}: exit ${r.status}: ${r.stderr.slice(-2000)}`);
  const m = /TIME ([\d.]+) ([\d.]+) ([\d.]+) (\d+)/.exec(r.stderr);
  if (m === null) throw new Error(`${which}: no /usr/bin/time line in ${r.stderr.slice(-500)}`);
  const wall = Number(m[1]);
  const cpu = Number(m[2]) + Number(m[3]);
  const rssMiB = Number(m[4]) / 1024;
  if (WHOLE.includes(which)) {
    const out = JSON.parse(r.stdout) as { lines: number };
    if (out.lines !== lines) throw new Error(`kmem replay read ${out.lines} lines, expected ${lines}`);
    return { lines, seconds: cpu, wall, rssMiB };
  }
  const inner = JSON.parse(r.stdout.trim().split('\n').pop()!) as { lines: number; cpu: number };
  if (inner.lines !== lines) throw new Error(`${which} read ${inner.lines} lines, expected ${lines}`);
  return { lines, seconds: inner.cpu, wall, rssMiB };
}

async function child(which: string, file: string): Promise<void> {
  const c0 = process.cpuUsage();
  let lines = 0;
  if (which === 'parse objects') {
    const it = readTraceBatches(file);
    for (;;) {
      const r = await it.next();
      if (r.done === true) {
        lines = r.value.lines;
        break;
      }
    }
  } else {
    const st = await readTraceColumns(file, new StringTable(), () => {}, { namesOnly: which === 'names pass' });
    lines = st.lines;
  }
  const c = process.cpuUsage(c0);
  console.log(JSON.stringify({ lines, cpu: (c.user + c.system) / 1e6 }));
}

const median = (a: number[]): number => {
  const s = [...a].sort((x, y) => x - y);
  return s[s.length >> 1]!;
};

export async function benchReplayReal(): Promise<void> {
  const lines = Number(process.env.KMEM_BENCH_LINES ?? 5_000_000);
  const rounds = Number(process.env.KMEM_BENCH_ROUNDS ?? 3);
  const src = sourceTrace();
  const dir = mkdtempSync(join(tmpdir(), 'kmem-replay-real-'));
  const file = join(dir, 'trace.txt');
  try {
    const bytes = makeReplayTrace(file, lines, src);
    console.log(`\n${lines} lines (${(bytes / 2 ** 20).toFixed(0)} MiB) made of ${src}; ${rounds} rounds, each contender in its own process`);
    const runs = new Map<Contender, Run[]>(CONTENDERS.map((c) => [c, []]));
    for (let r = 0; r < rounds; r++) for (const c of CONTENDERS) runs.get(c)!.push(runOnce(c, file, lines));
    for (const c of CONTENDERS) {
      const rs = runs.get(c)!;
      const rates = rs.map((x) => x.lines / x.seconds / 1e6);
      const what = WHOLE.includes(c) ? 'cpu, whole process' : 'cpu, in process';
      const walls = rs.map((x) => x.lines / x.wall / 1e6);
      console.log(
        `  ${c.padEnd(14)} max ${Math.max(...rates).toFixed(2)}M  median ${median(rates).toFixed(2)}M lines/s (${what}); wall of the process max ${Math.max(...walls).toFixed(2)}M; peak RSS min ${Math.min(...rs.map((x) => x.rssMiB)).toFixed(0)} MiB, median ${median(rs.map((x) => x.rssMiB)).toFixed(0)} MiB`,
      );
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[2] === 'child') await child(process.argv[3]!, process.argv[4]!);
