/**
 * How closely `kmem replay` of a complete real-kernel trace reproduces that
 * kernel's /proc/slabinfo, /proc/vmstat and /proc/buddyinfo. Make the
 * oracle's output with scripts/oracle-trace.sh (or the oracle's own
 * `run.sh 2 512M OUTDIR`; minutes, once), then:
 *
 *   npx tsx test/trace/oracle_match.ts OUTDIR [--check]
 *
 * It replays OUTDIR/trace.txt(.gz) on a machine of the oracle's memory,
 * managed pages (from its meminfo's MemTotal) and CPUs, and compares (see
 * oracle_compare.ts): of the caches holding objects in the real slabinfo
 * and born during the trace, the share kmem gets within 5% of num_objs;
 * the caches born before tracing began (left out); names in one slabinfo
 * only; nr_free_pages, the slab pages and buddyinfo's top orders. With
 * --check it exits 1 when the share is below the goal of 95%.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { replayTraceFile, ringBufferPages } from '../../src/trace/replay.js';
import { buddyTotals, countCacheCreations, counter, matchSlabinfo, relDiff, ringBufferKb, traceRingBuffers } from './oracle_compare.js';

async function main(): Promise<void> {
  const dir = process.argv[2];
  if (dir === undefined || dir.startsWith('--'))
    throw new Error('usage: npx tsx test/trace/oracle_match.ts OUTDIR [--check] (OUTDIR: the oracle run.sh output)');
  const check = process.argv.includes('--check');
  const trace = [join(dir, 'trace.txt'), join(dir, 'trace.txt.gz')].find(existsSync);
  if (trace === undefined) throw new Error(`${dir}: no trace.txt(.gz): make it with scripts/oracle-trace.sh ${dir} first`);
  const info = readFileSync(join(dir, 'run-info.txt'), 'utf8');
  const mem = /mem=(\S+)/.exec(info)?.[1] ?? '512M';
  const memBytes = Number.parseInt(mem, 10) * 2 ** ({ K: 10, M: 20, G: 30 }[mem.slice(-1)] ?? 0);
  const meminfo = readFileSync(join(dir, 'meminfo.txt'), 'utf8');
  const reserved = memBytes - 4096 - counter(meminfo, 'MemTotal') * 1024;
  const text = trace.endsWith('.gz') ? gunzipSync(readFileSync(trace)).toString('latin1') : readFileSync(trace, 'latin1');
  // before the trace: the boot CPU's ring buffers, as the trace shows the second CPU's (its buffer_size_kb checks the main one)
  const rbKb = ringBufferKb(readFileSync(join(dir, 'trace-stats.txt'), 'utf8'));
  const cpus = Number(/cpus=(\d+)/.exec(info)?.[1] ?? 1);
  const buffers = cpus > 1 ? traceRingBuffers(text, 3) : [ringBufferPages(rbKb)];
  if (!buffers.includes(ringBufferPages(rbKb))) console.log(`warning: no ring buffer of buffer_size_kb ${rbKb} in the trace: ${buffers.join(' ')}`);
  const t0 = performance.now();
  const r = await replayTraceFile(trace, { boot: { memory: mem, reserved }, ringBuffer: { buffers } });
  const seconds = (performance.now() - t0) / 1000;
  const m = matchSlabinfo(readFileSync(join(dir, 'slabinfo.txt'), 'utf8'), r.kernel.proc.read('/proc/slabinfo'), countCacheCreations(text));
  console.log(
    `${trace}: ${r.read.lines} lines replayed in ${seconds.toFixed(1)} s on ${mem} (reserved ${reserved >> 10}K; before the trace: ring buffers of ${buffers.join('+')} data pages (buffer_size_kb ${rbKb}), ${r.replayer.report().pages.preTrace.ringBufferPages} pages), ${r.kernel.cpus} CPUs`,
  );
  console.log(
    `caches holding objects in the real slabinfo, born during the trace: ${m.held.length}; kmem within 5% of num_objs: ${m.within.length} (${(m.share * 100).toFixed(1)}%)`,
  );
  console.log(`\nnot within 5% (${m.wrong.length}):\n  ${m.wrong.join('\n  ')}`);
  console.log(`\nborn before tracing (left out, ${m.bornBefore.length}): ${m.bornBefore.join(' ')}`);
  console.log(`\nonly in the real slabinfo: ${m.onlyReal.join(' ') || '-'}\nonly in kmem's: ${m.onlyKmem.join(' ') || '-'}`);
  const rep = r.replayer.report();
  const unknown = rep.caches.filter((c) => c.unknown);
  console.log(`\nunknown caches (no event names them): ${unknown.length}, ${unknown.reduce((a, c) => a + c.objects.final, 0)} live objects`);
  console.log(`bytes_alloc mismatches: ${rep.slab.sizeMismatches} of ${rep.slab.allocs} allocations`);
  const vm = readFileSync(join(dir, 'vmstat.txt'), 'utf8');
  const kvm = r.kernel.proc.read('/proc/vmstat');
  const pair = (what: string, a: number, b: number) => console.log(`${what}: real ${a}, kmem ${b} (${(relDiff(a, b) * 100).toFixed(1)}%)`);
  const slab = (t: string) => counter(t, 'nr_slab_reclaimable') + counter(t, 'nr_slab_unreclaimable');
  pair('nr_free_pages', counter(vm, 'nr_free_pages'), counter(kvm, 'nr_free_pages'));
  pair('slab pages (nr_slab_reclaimable + nr_slab_unreclaimable)', slab(vm), slab(kvm));
  const rb = buddyTotals(readFileSync(join(dir, 'buddyinfo.txt'), 'utf8'));
  const kb = buddyTotals(r.kernel.proc.read('/proc/buddyinfo'));
  console.log(`buddyinfo (all zones) real: ${rb.join(' ')}\n                   kmem: ${kb.join(' ')}`);
  if (check && m.share < 0.95) process.exitCode = 1;
}

await main();
