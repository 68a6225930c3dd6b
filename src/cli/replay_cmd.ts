/**
 * `kmem replay FILE`: stream a kernel's kmem:* trace through a machine and
 * report where the memory went.
 */

import { statSync } from 'node:fs';
import cliProgress from 'cli-progress';
import { TraceFileError, TraceParseError } from '../trace/events.js';
import { type ReplayFileResult, type ReplayReport, replayTraceFile } from '../trace/replay.js';
import { bootOptions, type MachineOpts, UsageError } from './machine.js';
import { storeSize } from './slabinfo_tool.js';

export interface ReplayCmdOptions extends MachineOpts {
  allocatorStats?: boolean;
  skipBad?: boolean;
  lookahead?: string;
  top?: string;
}

export interface ReplayOutput {
  file: string;
  lines: number;
  events: number;
  skipped: number;
  seconds: number;
  machine: { memory: number; cpus: number; cpusFromTrace: boolean };
  report: ReplayReport;
  slabinfo: string;
  buddyinfo: string;
  /** the page allocator's /proc/vmstat counters, with --allocator-stats */
  vmstat?: Record<string, number>;
}

/** Stream the file with a progress bar on a terminal's stderr; file problems exit 2. */
export async function runReplay(file: string, o: ReplayCmdOptions): Promise<ReplayOutput> {
  const boot = bootOptions(o);
  const lookahead = o.lookahead === undefined ? undefined : Number(o.lookahead);
  if (lookahead !== undefined && !(Number.isInteger(lookahead) && lookahead >= 0)) {
    throw new UsageError(`--lookahead: expected a whole number, got '${o.lookahead}'`);
  }
  let total = 0;
  try {
    total = statSync(file).size;
  } catch {
    // replayTraceFile reports it
  }
  const tty = process.stderr.isTTY === true;
  let bar: cliProgress.SingleBar | null = null;
  const t0 = performance.now();
  let result: ReplayFileResult;
  try {
    result = await replayTraceFile(file, {
      boot,
      lookahead,
      skipBad: o.skipBad,
      onProgress: tty
        ? (bytes, lines, events) => {
            if (bar === null) {
              bar = new cliProgress.SingleBar(
                {
                  stream: process.stderr,
                  format: 'replay |{bar}| {percentage}% | {lines} lines | {rate} events/s | ETA: {eta_formatted}',
                  hideCursor: true,
                  clearOnComplete: true,
                  etaBuffer: 20,
                },
                cliProgress.Presets.shades_classic,
              );
              bar.start(Math.max(total, 1), 0, { lines: 0, rate: 0 });
            }
            const secs = (performance.now() - t0) / 1000;
            bar.update(Math.min(bytes, total), { lines, rate: secs > 0 ? Math.round(events / secs) : 0 });
          }
        : undefined,
    });
  } catch (e) {
    (bar as cliProgress.SingleBar | null)?.stop();
    if (e instanceof TraceFileError) throw new UsageError(e.message, 2);
    if (e instanceof TraceParseError) throw new UsageError(e.message, 1);
    throw e;
  }
  (bar as cliProgress.SingleBar | null)?.stop();
  const seconds = (performance.now() - t0) / 1000;
  const k = result.kernel;
  return {
    file,
    lines: result.read.lines,
    events: result.read.events,
    skipped: result.read.bad,
    seconds,
    machine: { memory: k.phys.size, cpus: k.cpus, cpusFromTrace: result.cpusFromTrace },
    report: result.replayer.report({ allocatorStats: o.allocatorStats === true }),
    slabinfo: k.proc.read('/proc/slabinfo'),
    buddyinfo: k.proc.read('/proc/buddyinfo'),
    ...(o.allocatorStats ? { vmstat: pageVmstat(k.proc.read('/proc/vmstat')) } : {}),
  };
}

/** The page allocator's counters from /proc/vmstat. */
function pageVmstat(text: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of text.split('\n')) {
    const [name, v] = line.split(' ');
    if (name && v !== undefined && /^(nr_free_pages|nr_slab|pgalloc|pgfree|allocstall|compact|pgalloc_fail|extfrag|pgskip)/.test(name)) out[name] = Number(v);
  }
  return out;
}

const n = (v: number, w: number) => String(v).padStart(w);
const pf = (p: { peak: number; final: number }, w: number) => `${p.peak}/${p.final}`.padStart(w);
const size = (b: number) => storeSize(b);

/** The text report. */
export function formatReplay(r: ReplayOutput, topN: number, allocatorStats: boolean): string {
  const rep = r.report;
  const L: string[] = [];
  const kinds = Object.entries(rep.events)
    .map(([kind, c]) => `${kind} ${c}`)
    .join(', ');
  L.push(
    `${r.file}: ${r.lines} lines, ${r.events} events${r.skipped ? `, ${r.skipped} malformed lines skipped` : ''} in ${r.seconds.toFixed(2)} s (${Math.round(r.lines / Math.max(r.seconds, 1e-6))} lines/s)`,
  );
  L.push(`events: ${kinds || 'none'}`);
  L.push(
    `machine: ${Math.round(r.machine.memory / 2 ** 20)}M, ${r.machine.cpus} CPUs${r.machine.cpusFromTrace ? ' (from the trace)' : ''}${rep.foldedCpuEvents ? `; ${rep.foldedCpuEvents} events on CPUs it lacks ran on cpu % ${r.machine.cpus}` : ''}`,
  );
  const s = rep.slab;
  L.push(
    `slab: ${s.allocs} allocations, ${s.frees} frees (${s.remoteFrees} remote), ${s.unknownFrees} frees of objects older than the trace, ${s.nullFrees} of NULL; ` +
      `${s.failedInTrace} failed in the trace, ${s.failedInReplay} in the replay, ${s.lostFrees} lost frees`,
  );
  const res = s.resolved;
  if (res.byLaterFree + res.learned + res.knownCallSite + res.ownCache > 0) {
    L.push(
      `kmem_cache_alloc caches: ${res.byName} named, ${res.byLaterFree} named by their free, ${res.learned} by call site learned, ${res.knownCallSite} by known call site, ${res.ownCache} in a cache of their own`,
    );
  }
  L.push('', '== slab caches (by peak bytes; objects, slabs, bytes and waste as peak/final)');
  L.push(
    'CACHE                  ALLOCS    FREES       OBJECTS     SLABS            BYTES          WASTE  UTIL  FAST% SLOW(a/f)      REMOTE',
  );
  const caches = [...rep.caches].sort((a, b) => b.bytes.peak - a.bytes.peak || (a.name < b.name ? -1 : 1));
  for (const c of caches) {
    const all = c.fastpath.alloc + c.slowpath.alloc;
    const fast = all > 0 ? `${Math.floor((c.fastpath.alloc * 100) / all)}%` : '-';
    L.push(
      `${c.name.padEnd(20)} ${n(c.allocs, 8)} ${n(c.frees, 8)} ${pf(c.objects, 13)} ${c.slabs ? pf(c.slabs, 9) : '-'.padStart(9)} ` +
        `${`${size(c.bytes.peak)}/${size(c.bytes.final)}`.padStart(16)} ${`${size(c.waste.peak)}/${size(c.waste.final)}`.padStart(14)} ` +
        `${c.utilisation === null ? '    -' : `${c.utilisation.toFixed(0)}%`.padStart(5)} ${fast.padStart(6)} ${`${c.slowpath.alloc}/${c.slowpath.free}`.padStart(13)} ${n(c.remoteFrees, 7)}` +
        (c.replayFailures ? `  (${c.replayFailures} failed)` : ''),
    );
  }
  L.push('', `== call sites (top ${topN} by peak bytes)`);
  L.push('CALL SITE                                 ALLOCS    FREES       OBJECTS  SLABS            BYTES          WASTE  FAST%  REMOTE  CACHE');
  const sites = [...rep.callSites].sort((a, b) => b.bytes.peak - a.bytes.peak || (a.callSite < b.callSite ? -1 : 1)).slice(0, topN);
  for (const c of sites) {
    const all = c.fastpath.alloc + c.slowpath.alloc;
    const fast = all > 0 ? `${Math.floor((c.fastpath.alloc * 100) / all)}%` : '-';
    const name = c.callSite.length > 40 ? `${c.callSite.slice(0, 39)}~` : c.callSite;
    L.push(
      `${name.padEnd(40)} ${n(c.allocs, 8)} ${n(c.frees, 8)} ${pf(c.objects, 13)} ${n(c.slabs.final, 6)} ` +
        `${`${size(c.bytes.peak)}/${size(c.bytes.final)}`.padStart(16)} ${`${size(c.waste.peak)}/${size(c.waste.final)}`.padStart(14)} ${fast.padStart(6)} ${n(c.remoteFrees, 7)}  ${c.caches.join(',')}`,
    );
  }
  const p = rep.pages;
  L.push('', '== page allocations (by order and migratetype)');
  if (p.allocations.length === 0) L.push('none');
  else {
    const types = [...new Set(p.allocations.flatMap((a) => Object.keys(a.byMigratetype)))];
    L.push(`ORDER ${types.map((t) => t.padStart(12)).join('')}        TOTAL`);
    for (const a of p.allocations) L.push(`${n(a.order, 5)} ${types.map((t) => n(a.byMigratetype[t] ?? 0, 12)).join('')} ${n(a.total, 12)}`);
  }
  L.push(
    `page frees: ${p.frees}, of pages older than the trace: ${p.unknownFrees}; failed: ${p.failures}; pages held peak/final: ${p.live.peak}/${p.live.final}` +
      (p.zoneLockedRefills || p.pcpDrains ? `; pcp refills ${p.zoneLockedRefills} and drains ${p.pcpDrains} seen (not replayed)` : ''),
  );
  if (allocatorStats && rep.slubStats) {
    L.push('', '== CONFIG_SLUB_STATS (non-zero counters, summed over CPUs)');
    for (const [cache, st] of Object.entries(rep.slubStats)) {
      L.push(`${cache}: ${Object.entries(st).map(([k2, v]) => `${k2}=${v}`).join(' ')}`);
    }
  }
  if (allocatorStats && r.vmstat) {
    L.push('', '== page allocator (/proc/vmstat)', ...Object.entries(r.vmstat).map(([k2, v]) => `${k2} ${v}`));
  }
  L.push('', '== /proc/slabinfo', r.slabinfo.replace(/\n$/, ''));
  L.push('', '== /proc/buddyinfo', r.buddyinfo.replace(/\n$/, ''));
  return `${L.join('\n')}\n`;
}
