/**
 * Trace parsing: lines per second of the kmem tracepoint parser on ~200k
 * synthetic lines in the layouts real traces come in (6.x ftrace with raw
 * pointers, 5.x with hashed ones and module symbols, old trace-cmd with hex
 * call sites, perf script, other tracepoints and comments to skip), in memory
 * and end to end from a file (plain and gzip'd; as objects, and as the
 * typed-array rows the replay reads, whose 6.x lines take ftrace_fast.ts),
 * against a peer measured in
 * the same run: the parser most scripts write, a regex for the line and a
 * global regex for its key=value fields.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { do_not_optimize, measure } from 'mitata';
import { StringTable } from '../src/trace/columns.js';
import { parseFtraceBytes, parseFtraceLine } from '../src/trace/ftrace.js';
import { readTraceBatches, readTraceColumns, readTraceEvents } from '../src/trace/stream.js';

export interface TraceParseBenchRow {
  name: string;
  nsPerLine: number;
  linesPerSecond: number;
}

const LINES = 200_000;

/** ~200k trace lines of the mix described above, the same every run. */
export function syntheticTraceLines(n = LINES): string[] {
  let seed = 0x9e3779b9;
  const rnd = (m: number): number => {
    seed ^= seed << 13;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    return (seed >>> 0) % m;
  };
  const comms = ['kworker/0:1', 'systemd-journal', '<idle>', 'bash', 'ksoftirqd/1', '<...>', 'Web Content', 'rcu_preempt'];
  const sites = ['alloc_pid+0x54/0x390', 'getname_flags+0x4f/0x1f0', '__alloc_skb+0x4e/0x1b0', 'kernfs_fop_open+0x1a3/0x3b0', 'rcu_do_batch+0x19a/0x540'];
  const caches = ['kmalloc-64', 'dentry', 'filp', 'names_cache', 'vm_area_struct', 'maple_node'];
  const gfps = ['GFP_KERNEL', 'GFP_KERNEL|__GFP_ZERO', 'GFP_ATOMIC|__GFP_NOWARN', 'GFP_KERNEL_ACCOUNT|__GFP_ZERO', 'GFP_NOWAIT|__GFP_NOWARN'];
  const lines: string[] = ['# tracer: nop', '#', '#           TASK-PID     CPU#  |||||  TIMESTAMP  FUNCTION'];
  let t = 12.5;
  while (lines.length < n) {
    t += rnd(90) / 1e6;
    const ts = t.toFixed(6);
    const comm = comms[rnd(comms.length)]!;
    const pid = rnd(30000);
    const cpu = rnd(4);
    const task = `${comm}-${pid}`.padStart(16);
    const ptr = `ffff8881${rnd(0x10000000).toString(16).padStart(8, '0')}`;
    const site = sites[rnd(sites.length)]!;
    const r = rnd(100);
    if (r < 30) {
      lines.push(`${task}    [00${cpu}] .....  ${ts}: kmem_cache_free: call_site=${site} ptr=${ptr} name=${caches[rnd(caches.length)]}`);
    } else if (r < 55) {
      const req = 8 + rnd(500);
      lines.push(
        `${task}    [00${cpu}] d..1.  ${ts}: kmem_cache_alloc: call_site=${site} ptr=${ptr} bytes_req=${req} bytes_alloc=${req + rnd(64)} gfp_flags=${gfps[rnd(gfps.length)]} node=-1 accounted=${r & 1 ? 'true' : 'false'}`,
      );
    } else if (r < 65) {
      lines.push(
        `${task}    [00${cpu}] .....  ${ts}: kmalloc: call_site=${site} ptr=${ptr} bytes_req=${8 + rnd(4000)} bytes_alloc=4096 gfp_flags=${gfps[rnd(gfps.length)]} node=-1 accounted=false`,
      );
    } else if (r < 72) {
      lines.push(`${task}    [00${cpu}] ..s..  ${ts}: kfree: call_site=${site} ptr=${ptr}`);
    } else if (r < 80) {
      lines.push(
        `${task}    [00${cpu}] .....  ${ts}: mm_page_alloc: page=ffffea00${rnd(0x1000000).toString(16).padStart(8, '0')} pfn=0x${rnd(0x100000).toString(16)} order=${rnd(4)} migratetype=1 gfp_flags=GFP_HIGHUSER_MOVABLE|__GFP_COMP`,
      );
    } else if (r < 86) {
      lines.push(
        `${task}    [00${cpu}] .....  ${ts}: mm_page_free: page=ffffea00${rnd(0x1000000).toString(16).padStart(8, '0')} pfn=0x${rnd(0x100000).toString(16)} order=0`,
      );
    } else if (r < 91) {
      // 5.x: hashed pointers, a module symbol, no node=/accounted=
      lines.push(
        `${task}  [00${cpu}] ....  ${ts}: kmem_cache_alloc: call_site=ext4_alloc_io_end+0x1c/0x60 [ext4] ptr=00000000${rnd(0x10000000).toString(16).padStart(8, '0')} bytes_req=72 bytes_alloc=72 gfp_flags=GFP_NOFS`,
      );
    } else if (r < 94) {
      // old trace-cmd: hex call site, 0x pointers, no flags column
      lines.push(
        `${task} [00${cpu}] ${ts}: kmalloc: call_site=ffffffff8112${rnd(0x10000).toString(16).padStart(4, '0')} ptr=0x${ptr} bytes_req=96 bytes_alloc=96 gfp_flags=GFP_KERNEL|GFP_ZERO`,
      );
    } else if (r < 97) {
      lines.push(`${comm} ${pid} [00${cpu}] ${ts}: kmem:kfree: call_site=ffffffff8123${rnd(0x10000).toString(16).padStart(4, '0')} ptr=0x${ptr}`);
    } else {
      lines.push(
        `${task}    [00${cpu}] d..2.  ${ts}: sched_switch: prev_comm=${comm} prev_pid=${pid} prev_prio=120 prev_state=S ==> next_comm=swapper/${cpu} next_pid=0 next_prio=120`,
      );
    }
  }
  return lines;
}

/** The peer: a regex for the line, a global regex for the fields, Number() for numbers. */
const LINE_RE = /^\s*(.*?)-(\d+)\s+(?:\[(\d+)\]\s+)?(?:\S+\s+)?(\d+(?:\.\d+)?):\s+(?:kmem:)?(\w+):\s+(.*)$/;
const PERF_RE = /^\s*(.*?)\s+(\d+)\s+\[(\d+)\]\s+(\d+(?:\.\d+)?):\s+kmem:(\w+):\s+(.*)$/;
const FIELD_RE = /(\w+)=(\S+)/g;
const KMEM = new Set([
  'kmalloc',
  'kmalloc_node',
  'kfree',
  'kmem_cache_alloc',
  'kmem_cache_alloc_node',
  'kmem_cache_free',
  'mm_page_alloc',
  'mm_page_free',
  'mm_page_free_batched',
]);

function regexParse(line: string): Record<string, unknown> | null {
  const m = LINE_RE.exec(line) ?? PERF_RE.exec(line);
  if (m === null || !KMEM.has(m[5]!)) return null;
  const e: Record<string, unknown> = { kind: m[5], comm: m[1], pid: Number(m[2]), cpu: m[3] === undefined ? -1 : Number(m[3]), timestamp: Number(m[4]) };
  FIELD_RE.lastIndex = 0;
  for (let f = FIELD_RE.exec(m[6]!); f !== null; f = FIELD_RE.exec(m[6]!)) {
    const v = f[2]!;
    e[f[1]!] = /^-?\d+$/.test(v) ? Number(v) : v;
  }
  return e;
}

export async function benchTraceParse(): Promise<TraceParseBenchRow[]> {
  const lines = syntheticTraceLines();
  const text = `${lines.join('\n')}\n`;
  const buf = Buffer.from(text, 'latin1');
  const chunk = buf.toString('latin1');
  const dir = mkdtempSync(join(tmpdir(), 'kmem-bench-'));
  const plain = join(dir, 'trace.txt');
  const gz = join(dir, 'trace.txt.gz');
  writeFileSync(plain, buf);
  writeFileSync(gz, gzipSync(buf));

  const rows: TraceParseBenchRow[] = [];
  const time = async (name: string, fn: () => unknown): Promise<void> => {
    const s = await measure(fn, { min_samples: 4, min_cpu_time: 1.5e9 });
    const nsPerLine = s.avg / lines.length;
    rows.push({ name, nsPerLine, linesPerSecond: 1e9 / nsPerLine });
  };
  try {
    await time('split into lines only (Buffer#indexOf)', () => {
      let a = 0;
      let n = 0;
      for (;;) {
        const nl = buf.indexOf(10, a);
        if (nl === -1) break;
        n++;
        a = nl + 1;
      }
      do_not_optimize(n);
    });
    await time('peer: regex line + regex fields (string lines)', () => {
      let n = 0;
      for (const l of lines) if (regexParse(l) !== null) n++;
      do_not_optimize(n);
    });
    await time('parseFtraceLine (string lines)', () => {
      let n = 0;
      for (let k = 0; k < lines.length; k++) if (parseFtraceLine(lines[k]!, k + 1) !== null) n++;
      do_not_optimize(n);
    });
    await time('parseFtraceBytes (one buffer, as the reader does)', () => {
      let a = 0;
      let n = 0;
      let lineNo = 0;
      for (;;) {
        const nl = buf.indexOf(10, a);
        if (nl === -1) break;
        if (parseFtraceBytes(buf, chunk, a, nl, ++lineNo) !== null) n++;
        a = nl + 1;
      }
      do_not_optimize(n);
    });
    await time('readTraceColumns (file, end to end, typed-array rows)', async () => {
      let n = 0;
      await readTraceColumns(plain, new StringTable(), (c) => {
        n += c.n;
      });
      do_not_optimize(n);
    });
    await time('readTraceColumns namesOnly (the replay first pass)', async () => {
      let n = 0;
      await readTraceColumns(
        plain,
        new StringTable(),
        (c) => {
          n += c.n;
        },
        { namesOnly: true },
      );
      do_not_optimize(n);
    });
    await time('readTraceBatches (file, end to end)', async () => {
      let n = 0;
      for await (const batch of readTraceBatches(plain)) n += batch.length;
      do_not_optimize(n);
    });
    await time('readTraceBatches (.gz file, end to end)', async () => {
      let n = 0;
      for await (const batch of readTraceBatches(gz)) n += batch.length;
      do_not_optimize(n);
    });
    await time('readTraceEvents (file, one await per event)', async () => {
      let n = 0;
      for await (const _ of readTraceEvents(plain)) n++;
      do_not_optimize(n);
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }

  const peer = rows[1]!;
  console.log(`\nkmem trace parsing, ${lines.length} lines (${(buf.length / 1048576).toFixed(1)} MiB)`);
  for (const r of rows) {
    const ratio = `${(r.nsPerLine / peer.nsPerLine).toFixed(2)}x peer`;
    console.log(
      `  ${r.name.padEnd(52)} ${r.nsPerLine.toFixed(0).padStart(7)} ns/line ${(r.linesPerSecond / 1e6).toFixed(2).padStart(7)} M lines/s ${ratio.padStart(12)}`,
    );
  }
  return rows;
}
