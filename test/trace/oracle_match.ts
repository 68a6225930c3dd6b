/**
 * How closely `kmem replay` of a complete real-kernel trace reproduces that
 * kernel's /proc/slabinfo. Not part of `npm test`: it needs the oracle's
 * output, which is too large to commit. Make it with the real-kernel
 * oracle (`run.sh 2 512M OUTDIR`, see its README; minutes, once), then:
 *
 *   npx tsx test/trace/oracle_match.ts OUTDIR [--check]
 *
 * It replays OUTDIR/trace.txt(.gz) on a machine of the oracle's memory and
 * CPUs, and compares kmem's /proc/slabinfo with the real one taken when
 * tracing stopped: of the caches that hold objects in the real slabinfo,
 * the share whose num_objs kmem gets within 5%, the ones it gets wrong, and
 * the ones the replay never filled (created before tracing began, filled
 * only by untraced paths, or merged under another name in kmem). Also
 * nr_free_pages and the slab pages of /proc/vmstat. With --check it
 * exits 1 when the share is below the goal of 95%.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { replayTraceFile } from '../../src/trace/replay.js';

interface SlabLine {
  active: number;
  num: number;
  size: number;
}

function slabinfo(text: string): Map<string, SlabLine> {
  const m = new Map<string, SlabLine>();
  for (const l of text.split('\n')) {
    if (l === '' || l.startsWith('slabinfo') || l.startsWith('#')) continue;
    const f = l.trim().split(/\s+/);
    m.set(f[0]!, { active: Number(f[1]), num: Number(f[2]), size: Number(f[3]) });
  }
  return m;
}

function field(text: string, re: RegExp): number {
  const m = re.exec(text);
  return m === null ? Number.NaN : Number(m[1]);
}

async function main(): Promise<void> {
  const dir = process.argv[2];
  if (dir === undefined || dir.startsWith('--'))
    throw new Error('usage: npx tsx test/trace/oracle_match.ts OUTDIR [--check] (OUTDIR: the oracle run.sh output)');
  const check = process.argv.includes('--check');
  const trace = [join(dir, 'trace.txt'), join(dir, 'trace.txt.gz')].find(existsSync);
  if (trace === undefined) throw new Error(`${dir}: no trace.txt(.gz): make it with the oracle's run.sh 2 512M ${dir} first`);
  const info = readFileSync(join(dir, 'run-info.txt'), 'utf8');
  const mem = /mem=(\S+)/.exec(info)?.[1] ?? '512M';
  const t0 = performance.now();
  const r = await replayTraceFile(trace, { boot: { memory: mem } });
  const seconds = (performance.now() - t0) / 1000;
  const real = slabinfo(readFileSync(join(dir, 'slabinfo.txt'), 'utf8'));
  const kmem = slabinfo(r.kernel.proc.read('/proc/slabinfo'));
  const rep = r.replayer.report();
  const replayed = new Set(rep.caches.filter((c) => c.allocs > 0).map((c) => c.name));
  let held = 0;
  let within = 0;
  const wrong: string[] = [];
  const absent: string[] = [];
  for (const [name, c] of real) {
    if (c.active === 0) continue;
    held++;
    const k = kmem.get(name);
    if (k !== undefined && Math.abs(k.num - c.num) <= 0.05 * c.num) within++;
    else if (k === undefined) absent.push(`${name} (${c.num} x ${c.size}${replayed.has(name) ? ', replayed under another root in kmem' : ''})`);
    else wrong.push(`${name}: real ${c.num} x ${c.size}, kmem ${k.num} x ${k.size}`);
  }
  const share = within / held;
  console.log(`${trace}: ${r.read.lines} lines replayed in ${seconds.toFixed(1)} s on ${mem}, ${r.kernel.cpus} CPUs`);
  console.log(`caches holding objects in the real slabinfo: ${held}; kmem within 5% of num_objs: ${within} (${(share * 100).toFixed(1)}%)`);
  console.log(`\nnot within 5% (${wrong.length}):\n  ${wrong.join('\n  ')}`);
  console.log(`\nnot in kmem's slabinfo (${absent.length}):\n  ${absent.join('\n  ')}`);
  const unknown = rep.caches.filter((c) => c.unknown);
  console.log(`\nunknown caches (no event names them): ${unknown.length}, ${unknown.reduce((a, c) => a + c.objects.final, 0)} live objects`);
  console.log(`bytes_alloc mismatches: ${rep.slab.sizeMismatches} of ${rep.slab.allocs} allocations`);
  const vm = readFileSync(join(dir, 'vmstat.txt'), 'utf8');
  const kvm = r.kernel.proc.read('/proc/vmstat');
  const pair = (what: string, a: number, b: number) => console.log(`${what}: real ${a}, kmem ${b} (${(((b - a) / a) * 100).toFixed(1)}%)`);
  const slab = (t: string) => field(t, /^nr_slab_reclaimable (\d+)/m) + field(t, /^nr_slab_unreclaimable (\d+)/m);
  pair('nr_free_pages', field(vm, /^nr_free_pages (\d+)/m), field(kvm, /^nr_free_pages (\d+)/m));
  pair('slab pages (nr_slab_reclaimable + nr_slab_unreclaimable)', slab(vm), slab(kvm));
  if (check && share < 0.95) process.exitCode = 1;
}

await main();
