/**
 * `kmem replay FILE`: stream a kernel's kmem:* trace through a machine and
 * report where the memory went.
 */

import { closeSync, createReadStream, createWriteStream, mkdtempSync, openSync, readSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type cliProgress from 'cli-progress';
import { type BootOptions, boot, type Kernel } from '../kernel.js';
import { MAX_MEMORY, memparse, PAGE_SIZE } from '../memory/memblock.js';
import { type CompareConfig, type CompareResult, type CompareRow, parseCompareSetting, replayCompare } from '../trace/compare.js';
import { TraceFileError, TraceParseError } from '../trace/events.js';
import type { TraceHeader } from '../trace/ftrace.js';
import {
  isRegularFile,
  lostShare,
  MAX_CALL_SITES,
  OTHER_CALL_SITES,
  type ReplayFileResult,
  type ReplayReport,
  replayTraceFile,
  ringBufferPages,
} from '../trace/replay.js';
import { ringBuffersOfFile } from '../trace/ring_buffer.js';
import { STDIN_NAME, STDIN_PATH } from '../trace/stream.js';
import { bootOptions, cliMessage, type MachineOpts, UsageError } from './machine.js';
import { storeSize } from './slabinfo_tool.js';

export interface ReplayCmdOptions extends MachineOpts {
  /** --reserved: memory memblock reserved on the traced machine */
  reserved?: string;
  /** --kernel: the SLUB geometry of the traced kernel ('6.1' or '6.18'; default: read from the trace) */
  kernel?: string;
  allocatorStats?: boolean;
  skipBad?: boolean;
  lookahead?: string;
  top?: string;
  /** --ring-buffer-kb: the main ftrace ring buffer's per-CPU buffer_size_kb on the traced machine */
  ringBufferKb?: string;
}

export interface ReplayOutput {
  file: string;
  lines: number;
  events: number;
  skipped: number;
  seconds: number;
  machine: {
    memory: number;
    cpus: number;
    cpusFromTrace: boolean;
    managedPages: number;
    reserved: MachineReserved | null;
    /** The SLUB geometry replayed: '6.1' or '6.18' (--kernel, else read from the trace). */
    kernel: '6.1' | '6.18';
    kernelFromTrace: boolean;
  };
  /** the boot CPU's ftrace ring buffers allocated before the first event: data pages of each buffer, and where they came from (null: none) */
  ringBuffer: { buffers: number[]; from: 'trace' | 'option' | 'option+trace' } | null;
  /** the trace's header: #P:N and entries-in-buffer/entries-written (null when it had none) */
  header: TraceHeader | null;
  /** the share of its events the trace says it lost (entries-in-buffer below entries-written), 0 when none */
  lostShare: number;
  report: ReplayReport;
  slabinfo: string;
  buddyinfo: string;
  /** the page allocator's /proc/vmstat counters, with --allocator-stats */
  vmstat?: Record<string, number>;
  /** set when allocations failed because the machine is too small: what failed, and a --mem that would fit (null: more than kmem boots) */
  tooSmall?: { failedPages: number; failedSlab: number; neededBytes: number; suggestedMem: string | null };
}

const MiB = 2 ** 20;

/** Where the replaying machine's reserved memory came from, and how much (bytes). */
export interface MachineReserved {
  bytes: number;
  from: 'option' | 'trace';
}

/** Bytes of a trace's head searched for a `Memory:` boot line. */
const MEMORY_LINE_HEAD = 1 << 16;

/**
 * The traced machine's `Memory: <managed>K/<present>K available (...)` boot
 * line (mem_init_print_info), when the trace's first 64 KiB hold one (a
 * dmesg excerpt in its header, a printk:console event): its managed and
 * present kB, else null.
 */
export function traceMemoryLine(file: string): { managedK: number; presentK: number } | null {
  // a pipe's bytes would be taken from the replay
  if (!isRegularFile(file)) return null;
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch {
    return null;
  }
  try {
    const buf = Buffer.alloc(MEMORY_LINE_HEAD);
    const n = readSync(fd, buf, 0, buf.length, 0);
    // gzip'd: not searched
    if (n >= 2 && buf[0] === 0x1f && buf[1] === 0x8b) return null;
    const m = /Memory: (\d+)K\/(\d+)K available/.exec(buf.toString('latin1', 0, n));
    return m ? { managedK: Number(m[1]), presentK: Number(m[2]) } : null;
  } finally {
    closeSync(fd);
  }
}

/**
 * The reserved boot option that gives the replaying machine the traced
 * machine's managed pages: --reserved when given; else, when the trace
 * holds a `Memory:` line, the machine's present memory (RAM less page 0)
 * less the traced machine's managed memory, and --mem, when not given, the
 * traced present memory rounded up to a MiB; nothing from the line with
 * --zones (they lay out the RAM themselves). Sets boot.reserved and
 * boot.memory; returns where it came from (null: none).
 */
export function applyReserved(file: string, o: ReplayCmdOptions, boot: BootOptions): MachineReserved | null {
  if (o.reserved !== undefined) {
    let bytes: number;
    try {
      bytes = memparse(o.reserved, '--reserved');
    } catch (e) {
      throw new UsageError((e as Error).message);
    }
    boot.reserved = bytes;
    return { bytes, from: 'option' };
  }
  const line = traceMemoryLine(file);
  if (line === null) return null;
  // zones laid out by hand say the RAM themselves
  if (boot.zones !== undefined) return null;
  if (boot.memory === undefined) boot.memory = Math.ceil(line.presentK / 1024) * MiB;
  const present = (typeof boot.memory === 'number' ? boot.memory : memparse(boot.memory, 'memory')) - PAGE_SIZE;
  const bytes = Math.max(0, present - line.managedK * 1024);
  boot.reserved = bytes;
  return { bytes, from: 'trace' };
}

/** Bytes in the binary units --mem takes: 200.0M, 1.5G, 12K. */
function binarySize(b: number): string {
  if (b >= 2 ** 30) return `${(b / 2 ** 30).toFixed(1)}G`;
  if (b >= MiB) return `${(b / MiB).toFixed(1)}M`;
  if (b >= 1024) return `${(b / 1024).toFixed(1)}K`;
  return `${b} bytes`;
}

/**
 * When the replay failed allocations, what failed and the --mem that would
 * hold what the trace held at its peak: the pages in use when the replay
 * began, the peak of the pages its page events held, and the peak of its
 * live slab objects' bytes_alloc with a quarter more for slab overhead and
 * partial slabs; a fifth more on top for the watermarks and fragmentation,
 * rounded up to 64M.
 */
export function memoryAdvice(report: ReplayReport): ReplayOutput['tooSmall'] {
  const failedPages = report.pages.failures;
  const failedSlab = report.slab.failedInReplay;
  if (failedPages === 0 && failedSlab === 0) return undefined;
  const d = report.demand;
  const neededBytes = Math.ceil(((d.bootPages + d.peakPages) * PAGE_SIZE + d.peakSlabBytes * 1.25) * 1.2);
  const mem = Math.ceil(neededBytes / (64 * MiB)) * 64;
  const suggestedMem = mem * MiB > MAX_MEMORY ? null : mem % 1024 === 0 ? `${mem / 1024}G` : `${mem}M`;
  return { failedPages, failedSlab, neededBytes, suggestedMem };
}

/** Stream the file with a progress bar on a terminal's stderr; file problems exit 2. */
export async function runReplay(file: string, o: ReplayCmdOptions): Promise<ReplayOutput> {
  const boot = bootOptions(o);
  if (o.kernel !== undefined) {
    if (o.kernel !== '6.1' && o.kernel !== '6.18') throw new UsageError(`--kernel: expected 6.1 or 6.18, got '${o.kernel}'`);
    boot.kernel = o.kernel;
  }
  const reserved = applyReserved(file, o, boot);
  const lookahead = o.lookahead === undefined ? undefined : Number(o.lookahead);
  if (lookahead !== undefined && !(Number.isInteger(lookahead) && lookahead >= 0)) {
    throw new UsageError(`--lookahead: expected a whole number, got '${o.lookahead}'`);
  }
  const ringBuffer = preTraceRingBuffers(file, o.ringBufferKb);
  let total = 0;
  try {
    // a pipe or standard input has no size: the bar then counts lines only
    const st = file === '-' ? null : statSync(file);
    if (st?.isFile()) total = st.size;
  } catch {
    // replayTraceFile reports it
  }
  const tty = process.stderr.isTTY === true;
  if (file === '-' && process.stdin.isTTY === true) {
    process.stderr.write('kmem replay: reading the trace from standard input (end it with Ctrl-D)\n');
  }
  let bar: cliProgress.SingleBar | null = null;
  // the progress bar's module is loaded only for a terminal
  const progress = tty ? (await import('cli-progress')).default : null;
  const t0 = performance.now();
  let result: ReplayFileResult;
  try {
    result = await replayTraceFile(file, {
      boot,
      lookahead,
      skipBad: o.skipBad,
      ...(ringBuffer !== null ? { ringBuffer: { buffers: ringBuffer.buffers } } : {}),
      onProgress:
        progress !== null
          ? (bytes, lines, events) => {
              if (bar === null) {
                bar = new progress.SingleBar(
                  {
                    stream: process.stderr,
                    format:
                      total > 0
                        ? 'replay |{bar}| {percentage}% | {lines} lines | {rate} events/s | ETA: {eta_formatted}'
                        : 'replay | {lines} lines | {rate} events/s',
                    hideCursor: true,
                    clearOnComplete: true,
                    etaBuffer: 20,
                  },
                  progress.Presets.shades_classic,
                );
                bar.start(Math.max(total, 1), 0, { lines: 0, rate: 0 });
              }
              const secs = (performance.now() - t0) / 1000;
              bar.update(total > 0 ? Math.min(bytes, total) : 0, { lines, rate: secs > 0 ? Math.round(events / secs) : 0 });
            }
          : undefined,
    });
  } catch (e) {
    (bar as cliProgress.SingleBar | null)?.stop();
    if (e instanceof TraceFileError) throw new UsageError(e.message, 2);
    if (e instanceof TraceParseError) throw new UsageError(e.message, 1);
    // boot() refusing a machine option
    if (e instanceof RangeError || e instanceof TypeError) throw new UsageError(cliMessage(e.message));
    throw e;
  }
  (bar as cliProgress.SingleBar | null)?.stop();
  const seconds = (performance.now() - t0) / 1000;
  const k = result.kernel;
  const report = result.replayer.report({ allocatorStats: o.allocatorStats === true });
  const tooSmall = memoryAdvice(report);
  const out: ReplayOutput = {
    file,
    lines: result.read.lines,
    events: result.read.events,
    // malformed lines, and events kmem refused to perform
    skipped: result.read.bad + result.replayer.refused,
    seconds,
    machine: {
      memory: k.phys.size,
      cpus: k.cpus,
      cpusFromTrace: result.cpusFromTrace,
      managedPages: managedPages(k),
      reserved,
      kernel: k.slab.opts.version === 601 ? '6.1' : '6.18',
      kernelFromTrace: o.kernel === undefined,
    },
    ringBuffer,
    header: result.header,
    lostShare: lostShare(result.header),
    report,
    // SLOB has no /proc/slabinfo
    slabinfo: k.machine.allocator === 'slob' ? '' : k.proc.read('/proc/slabinfo'),
    buddyinfo: k.proc.read('/proc/buddyinfo'),
    ...(o.allocatorStats ? { vmstat: pageVmstat(k.proc.read('/proc/vmstat')) } : {}),
    ...(tooSmall ? { tooSmall } : {}),
  };
  // on stderr too, so that --json output and a pipe still show it
  if (out.lostShare > 0) process.stderr.write(`kmem replay: ${lostWarning(out)}\n`);
  return out;
}

/**
 * The boot CPU's ring buffers, made before any event was recorded: those the
 * trace shows a CPU getting when it came up (ringBuffersOfFile: a regular
 * file only); --ring-buffer-kb sets the main one's (the largest the trace
 * shows, or the only one when it shows none) to the data pages of that
 * buffer_size_kb. Null when neither gives any.
 */
export function preTraceRingBuffers(file: string, kb: string | undefined): ReplayOutput['ringBuffer'] {
  let pages: number | null = null;
  if (kb !== undefined) {
    try {
      pages = ringBufferPages(/^\d+$/.test(kb) ? Number(kb) : Number.NaN);
    } catch {
      throw new UsageError(`--ring-buffer-kb: no ring buffer has buffer_size_kb '${kb}' (it reads (data pages x 4080) >> 10: e.g. 7, 11, 16387)`);
    }
  }
  let seen: number[] | null = null;
  try {
    seen = ringBuffersOfFile(file);
  } catch {
    // replayTraceFile reports an unreadable file
  }
  if (seen === null || seen.length === 0) return pages === null ? null : { buffers: [pages], from: 'option' };
  if (pages === null) return { buffers: seen, from: 'trace' };
  const main = seen.indexOf(Math.max(...seen));
  return { buffers: seen.map((n, i) => (i === main ? pages : n)), from: 'option+trace' };
}

/** The report's line on the ring buffers allocated before the trace. */
export function preTraceLine(r: ReplayOutput): string | null {
  const rb = r.ringBuffer;
  if (rb === null) return null;
  const p = r.report.pages.preTrace;
  const list = rb.buffers.length === 1 ? `${rb.buffers[0]}` : `${rb.buffers.slice(0, -1).join(', ')} and ${rb.buffers[rb.buffers.length - 1]}`;
  const from =
    rb.from === 'trace'
      ? 'the buffers the trace shows a CPU getting when it came up'
      : rb.from === 'option'
        ? '--ring-buffer-kb'
        : '--ring-buffer-kb for the main one, the others as the trace shows a CPU getting them';
  return `before the trace: ${p.ringBufferPages} pages, ${p.objects} objects of the boot CPU's ftrace ring buffers (${rb.buffers.length === 1 ? 'one buffer' : 'buffers'} of ${list} data pages and a reader page${rb.buffers.length === 1 ? '' : ' each'}, from ${from})`;
}

/** MemTotal of /proc/meminfo in pages (totalram_pages: the zones' managed pages). */
function managedPages(k: Kernel): number {
  const m = /^MemTotal:\s+(\d+) kB$/m.exec(k.proc.read('/proc/meminfo'));
  return m ? Number(m[1]) / (PAGE_SIZE / 1024) : 0;
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

/** The warning for a trace that lost events. */
export function lostWarning(r: ReplayOutput): string {
  const h = r.header!;
  return `warning: the trace lost ${(r.lostShare * 100).toFixed(1)}% of its events (entries-in-buffer/entries-written: ${h.entriesInBuffer}/${h.entriesWritten}): objects allocated in what was lost are freed as "older than the trace", and caches may be short`;
}

/** The text report. */
export function formatReplay(r: ReplayOutput, topN: number, allocatorStats: boolean): string {
  const rep = r.report;
  const L: string[] = [];
  const kinds = Object.entries(rep.events)
    .map(([kind, c]) => `${kind} ${c}`)
    .join(', ');
  L.push(
    `${r.file === '-' ? '(standard input)' : r.file}: ${r.lines} lines, ${r.events} events${r.skipped ? `, ${r.skipped} malformed lines skipped` : ''} in ${r.seconds.toFixed(2)} s (${Math.round(r.lines / Math.max(r.seconds, 1e-6))} lines/s)`,
  );
  L.push(`events: ${kinds || 'none'}`);
  if (r.lostShare > 0 && r.header !== null) L.push(lostWarning(r));
  const pre = preTraceLine(r);
  if (pre !== null) L.push(pre);
  L.push(
    `machine: ${Math.round(r.machine.memory / 2 ** 20)}M${r.machine.reserved !== null ? `, ${binarySize(r.machine.reserved.bytes)} reserved (${r.machine.reserved.from === 'option' ? '--reserved' : "the trace's Memory: line"}), ${r.machine.managedPages} pages managed` : ''}, ${r.machine.cpus} CPUs${r.machine.cpusFromTrace ? (r.header !== null && r.header.cpus > 0 ? ` (the trace header's #P:${r.header.cpus})` : ' (from the trace)') : ''}${rep.foldedCpuEvents ? `; ${rep.foldedCpuEvents} events on CPUs it lacks ran on cpu % ${r.machine.cpus}` : ''}${r.machine.kernel !== '6.18' || !r.machine.kernelFromTrace ? `; SLUB geometry of ${r.machine.kernel}${r.machine.kernelFromTrace ? ' (its kmem_cache_alloc events print no name=)' : ' (--kernel)'}` : ''}`,
  );
  const s = rep.slab;
  L.push(
    `slab: ${s.allocs} allocations, ${s.frees} frees (${s.remoteFrees} remote), ${s.unknownFrees} frees of objects older than the trace, ${s.untracedFrees ? `${s.untracedFrees} of objects an untraced path allocated (kmem_cache_alloc_bulk), ` : ''}${s.nullFrees} of NULL; ` +
      `${s.failedInTrace} failed in the trace, ${s.failedInReplay} in the replay, ${s.lostFrees} lost frees`,
  );
  const res = s.resolved;
  if (res.byLaterFree + res.learned + res.knownCallSite + res.bySlot + res.ownCache > 0) {
    L.push(
      `kmem_cache_alloc caches: ${res.byName} named, ${res.byLaterFree} named by their free, ${res.learned} by call site learned, ${res.knownCallSite} by known call site, ${res.bySlot} by the 6.1 machine's cache of that slot no event names, ${res.ownCache} in a cache of their own`,
    );
  }
  if (s.descriptorAllocs > 0) {
    L.push(
      `cache creations: ${s.descriptorAllocs} kmem_cache / kmem_cache_node allocations of the trace left to kmem, which allocates its own when it makes a cache`,
    );
  }
  const unknown = rep.caches.filter((c) => c.unknown);
  if (unknown.length > 0) {
    const n = unknown.reduce((a, c) => a + c.allocs, 0);
    L.push(
      `unknown caches: ${n} kmem_cache_alloc events of ${unknown.length} call sites whose cache no event of the trace names; replayed in caches named <function>-<bytes_alloc>, marked '?' below: ${unknown.map((c) => c.name).join(', ')}`,
    );
  }
  if (s.sizeMismatches > 0) {
    const worst = rep.caches
      .filter((c) => c.sizeMismatches > 0)
      .sort((a, b) => b.sizeMismatches - a.sizeMismatches)
      .map((c) => `${c.name} ${c.sizeMismatches} (slot ${c.slabSize})`);
    L.push(
      `bytes_alloc mismatches: ${s.sizeMismatches} allocations whose traced bytes_alloc is not the slot of the cache kmem replayed them into: ${worst.join(', ')}`,
    );
  }
  L.push('', '== slab caches (by peak bytes; objects, slabs, bytes and waste as peak/final)');
  L.push('CACHE                  ALLOCS    FREES       OBJECTS     SLABS            BYTES          WASTE  UTIL  FAST% SLOW(a/f)      REMOTE');
  const caches = [...rep.caches].sort((a, b) => b.bytes.peak - a.bytes.peak || (a.name < b.name ? -1 : 1));
  for (const c of caches) {
    const all = c.fastpath.alloc + c.slowpath.alloc;
    const fast = all > 0 ? `${Math.floor((c.fastpath.alloc * 100) / all)}%` : '-';
    L.push(
      `${(c.unknown ? `${c.name}?` : c.bornBeforeTrace ? `${c.name}^` : c.name).padEnd(20)} ${n(c.allocs, 8)} ${n(c.frees, 8)} ${pf(c.objects, 13)} ${c.slabs ? pf(c.slabs, 9) : '-'.padStart(9)} ` +
        `${`${size(c.bytes.peak)}/${size(c.bytes.final)}`.padStart(16)} ${`${size(c.waste.peak)}/${size(c.waste.final)}`.padStart(14)} ` +
        `${c.utilisation === null ? '    -' : `${c.utilisation.toFixed(0)}%`.padStart(5)} ${fast.padStart(6)} ${`${c.slowpath.alloc}/${c.slowpath.free}`.padStart(13)} ${n(c.remoteFrees, 7)}` +
        (c.replayFailures ? `  (${c.replayFailures} failed)` : ''),
    );
  }
  if (caches.some((c) => c.bornBeforeTrace)) L.push('^ born before the trace began: its counts include objects the trace never saw');
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
      L.push(
        `${cache}: ${Object.entries(st)
          .map(([k2, v]) => `${k2}=${v}`)
          .join(' ')}`,
      );
    }
  }
  if (allocatorStats && r.vmstat) {
    L.push('', '== page allocator (/proc/vmstat)', ...Object.entries(r.vmstat).map(([k2, v]) => `${k2} ${v}`));
  }
  if (r.slabinfo !== '') L.push('', '== /proc/slabinfo', r.slabinfo.replace(/\n$/, ''));
  L.push('', '== /proc/buddyinfo', r.buddyinfo.replace(/\n$/, ''));
  if (rep.otherCallSites) L.push('', `${rep.otherCallSites} call sites past the first ${MAX_CALL_SITES} are summed in the "${OTHER_CALL_SITES}" row`);
  if (rep.bothMobilityBits) {
    L.push(
      '',
      `${rep.bothMobilityBits} allocations asked for __GFP_MOVABLE and __GFP_RECLAIMABLE together (a caller bug the kernel only warns about); replayed as __GFP_RECLAIMABLE`,
    );
  }
  const t = r.tooSmall;
  if (t) {
    const what = [t.failedPages ? `${t.failedPages} page allocations` : '', t.failedSlab ? `${t.failedSlab} slab allocations` : '']
      .filter(Boolean)
      .join(' and ');
    const d = rep.demand;
    L.push(
      '',
      `The replaying machine (${Math.round(r.machine.memory / MiB)}M) is too small for this trace: ${what} failed in the replay.`,
      `At its peak the trace held ${d.peakPages} pages (${binarySize(d.peakPages * PAGE_SIZE)}) and ${binarySize(d.peakSlabBytes)} of slab objects, on top of the ${binarySize(d.bootPages * PAGE_SIZE)} in use after boot.`,
      t.suggestedMem !== null
        ? `--mem ${t.suggestedMem} would fit: kmem replay ${r.file} --mem ${t.suggestedMem}`
        : `That is more than kmem's largest machine (--mem ${binarySize(MAX_MEMORY)}): replay a shorter part of the trace.`,
    );
  }
  return `${L.join('\n')}\n`;
}

// ── --compare ────────────────────────────────────────────────────────────

export interface CompareCmdOptions extends ReplayCmdOptions {
  compare?: string[];
}

export interface CompareOutput {
  file: string;
  lines: number;
  events: number;
  skipped: number;
  /** Seconds reading and parsing the trace (both passes, shared by every configuration). */
  parseSeconds: number;
  header: TraceHeader | null;
  lostShare: number;
  configurations: CompareRow[];
}

/** --cpus as a list of CPU counts ('1,2,8'), or null when it is one number or not given. */
export function cpusList(text: string | undefined): number[] | null {
  if (text === undefined || !text.includes(',')) return null;
  const out: number[] = [];
  for (const part of text.split(',')) {
    const t = part.trim();
    if (!/^\d+$/.test(t)) throw new UsageError(`--cpus: expected a whole number or a list of them such as 1,2,8, got '${text}'`);
    out.push(Number(t));
  }
  return out;
}

/**
 * The configurations of a comparison: each --compare setting (or the
 * command's own machine when there is none) times each CPU count of a
 * --cpus list; a setting that names cpus= itself is taken once, as it says.
 * Every configuration is booted once here, so a bad setting is refused
 * before the trace is read.
 */
export function compareConfigs(o: CompareCmdOptions, file?: string): { base: BootOptions; configs: CompareConfig[] } {
  const list = cpusList(o.cpus);
  const base = bootOptions(list === null ? o : { ...o, cpus: undefined });
  if (file !== undefined) applyReserved(file, o, base);
  const settings = o.compare === undefined || o.compare.length === 0 ? ['default'] : o.compare;
  const configs: CompareConfig[] = [];
  for (const text of settings) {
    let own: BootOptions;
    try {
      own = parseCompareSetting(text);
    } catch (e) {
      throw new UsageError(`--compare '${text}': ${(e as Error).message}`);
    }
    const label = text.trim() === '' ? 'default' : text.trim();
    const axis = list === null || own.cpus !== undefined ? [undefined] : list;
    for (const cpus of axis) {
      const opts: BootOptions = { ...base, ...own };
      if (cpus !== undefined) opts.cpus = cpus;
      try {
        // cpus left to the trace: any valid count checks the rest
        boot({ ...opts, cpus: opts.cpus ?? 2 });
      } catch (e) {
        if (!(e instanceof RangeError || e instanceof TypeError)) throw e;
        const name = /^([A-Za-z]+)[.:]/.exec(e.message)?.[1];
        if (name !== undefined && name in own) throw new UsageError(`--compare '${text}': ${e.message}`);
        throw new UsageError(cliMessage(e.message));
      }
      configs.push({ label: cpus === undefined ? label : `${label === 'default' ? '' : `${label} `}cpus=${cpus}`, boot: opts });
    }
  }
  return { base, configs };
}

/** Replay one trace under every configuration of the options. */
/**
 * Copy standard input or a pipe into a file of a new temporary directory
 * (the comparison reads its trace twice); returns the file's path.
 */
async function spool(file: string): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'kmem-replay-'));
  const path = join(dir, 'trace');
  try {
    await pipeline(file === STDIN_PATH ? process.stdin : createReadStream(file), createWriteStream(path));
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    const code = (e as NodeJS.ErrnoException).code ?? 'EIO';
    throw new UsageError(`${file === STDIN_PATH ? STDIN_NAME : file}: cannot read (${code})`, 2);
  }
  return path;
}

/** Replay one trace under every configuration of the options; standard input or a pipe is copied to a temporary file first. */
export async function runCompare(file: string, o: CompareCmdOptions): Promise<CompareOutput> {
  const { configs } = compareConfigs(o, file);
  let path = file;
  if (!isRegularFile(file)) {
    if (file !== STDIN_PATH) {
      try {
        statSync(file);
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code ?? 'EIO';
        throw new UsageError(`${file}: ${code === 'ENOENT' ? 'no such file or directory' : `cannot read (${code})`}`, 2);
      }
    }
    if (file === STDIN_PATH && process.stdin.isTTY === true) {
      process.stderr.write('kmem replay: reading the trace from standard input (end it with Ctrl-D)\n');
    }
    path = await spool(file);
  }
  /** Messages name the trace as the user gave it, not its temporary copy. */
  const named = (m: string) => (path === file ? m : m.split(path).join(file === STDIN_PATH ? STDIN_NAME : file));
  let result: CompareResult;
  try {
    result = await replayCompare(path, configs, { skipBad: o.skipBad });
  } catch (e) {
    if (e instanceof TraceFileError) throw new UsageError(named(e.message), 2);
    if (e instanceof TraceParseError) throw new UsageError(named(e.message), 1);
    if (e instanceof RangeError || e instanceof TypeError) throw new UsageError(cliMessage(named(e.message)));
    throw e;
  } finally {
    if (path !== file) rmSync(dirname(path), { recursive: true, force: true });
  }
  const out: CompareOutput = {
    file,
    lines: result.read.lines,
    events: result.read.events,
    skipped: result.read.bad,
    parseSeconds: result.parseSeconds,
    header: result.header,
    lostShare: lostShare(result.header),
    configurations: result.rows,
  };
  if (out.lostShare > 0) {
    const h = out.header!;
    process.stderr.write(
      `kmem replay: warning: the trace lost ${(out.lostShare * 100).toFixed(1)}% of its events (entries-in-buffer/entries-written: ${h.entriesInBuffer}/${h.entriesWritten})\n`,
    );
  }
  return out;
}

/** A figure a design may lack: '-' in a column of `width`. */
function orDash(v: number | null, show: (v: number) => string, width: number): string {
  return v === null ? '-'.padStart(width) : show(v);
}

/** The comparison as text: one row per configuration, then the caches whose slabs differ. */
export function formatCompare(r: CompareOutput, topN: number): string {
  const L: string[] = [];
  const rows = r.configurations;
  L.push(
    `${r.file === STDIN_PATH ? STDIN_NAME : r.file}: ${r.lines} lines, ${r.events} events${r.skipped ? `, ${r.skipped} malformed lines skipped` : ''}; read and parsed once in ${r.parseSeconds.toFixed(2)} s, replayed into ${rows.length} machine${rows.length === 1 ? '' : 's'}`,
  );
  const w = Math.max(13, ...rows.map((x) => x.label.length));
  L.push('');
  L.push(
    `${'CONFIGURATION'.padEnd(w)} CPUS  SLAB PAGES    SLAB kB  TRACE PAGES  WASTE INT  SLACK  SLOW ALLOC  SLOW FREE  PARTIAL FREE (SLABS)  FAILED  SECONDS`,
  );
  for (const x of rows) {
    L.push(
      `${x.label.padEnd(w)} ${n(x.machine.cpus, 4)} ${n(x.slab.pages, 11)} ${n(x.slab.kB, 10)} ${orDash(x.traceSlabPages, (v) => n(v, 12), 12)} ${size(x.waste.internal).padStart(10)} ${orDash(x.waste.slack, (v) => size(v).padStart(6), 6)} ` +
        `${n(x.slowpath.alloc, 11)} ${n(x.slowpath.free, 10)} ${`${size(x.partial.freeBytes)} (${x.partial.slabs})`.padStart(21)} ${n(x.failed, 7)} ${x.seconds.toFixed(2).padStart(8)}`,
    );
  }
  L.push(
    '',
    'SLAB PAGES/kB: Slab: of /proc/meminfo (every cache); TRACE PAGES: slabs of the caches the trace used; WASTE INT: slot size less bytes_req',
    'of the live objects; SLACK: slab bytes no object fits in; SLOW: CONFIG_SLUB_STATS alloc/free_slowpath of the trace; PARTIAL FREE:',
    'free bytes in slabs on the node and cpu partial lists; SECONDS: booting that machine and replaying on it (the parsing is shared).',
  );
  if (rows.some((x) => x.allocator === 'slab'))
    L.push('allocator=slab: SLOW is the head array empty on alloc (cache_alloc_refill) or full on free (cache_flusharray); PARTIAL FREE: slabs_partial.');
  if (rows.some((x) => x.allocator === 'slob'))
    L.push(
      'allocator=slob: no per-cache slabs (-); WASTE INT: heap bytes neither free nor asked for; SLOW: pages taken from or given back to the',
      'buddy allocator; PARTIAL FREE: free bytes of the pages on the three free lists.',
    );
  // the caches whose geometry or slabs differ between configurations, the largest difference in pages first
  const names = new Set(rows.flatMap((x) => x.caches.map((c) => c.name)));
  const diff: { name: string; spread: number; cells: string[] }[] = [];
  for (const name of names) {
    const cs = rows.map((x) => x.caches.find((c) => c.name === name));
    const pages = cs.map((c) => (c === undefined ? 0 : c.slabs * 2 ** c.order));
    const spread = Math.max(...pages) - Math.min(...pages);
    const same = cs.every((c) => c !== undefined && c.order === cs[0]!.order && c.objectsPerSlab === cs[0]!.objectsPerSlab && c.slabs === cs[0]!.slabs);
    if (same) continue;
    diff.push({ name, spread, cells: cs.map((c) => (c === undefined ? '-' : `${c.slabs}x${c.objectsPerSlab}/o${c.order}`)) });
  }
  if (diff.length > 0 && rows.length > 1) {
    diff.sort((a, b) => b.spread - a.spread || (a.name < b.name ? -1 : 1));
    const cw = Math.max(14, ...rows.map((x) => x.label.length));
    L.push('', `== caches whose slabs differ (top ${Math.min(topN, diff.length)} of ${diff.length} by pages; SLABSxOBJECTS/oORDER)`);
    L.push(`${'CACHE'.padEnd(22)} ${rows.map((x) => x.label.padStart(cw)).join(' ')}`);
    for (const d of diff.slice(0, topN)) L.push(`${d.name.padEnd(22)} ${d.cells.map((c) => c.padStart(cw)).join(' ')}`);
  }
  return `${L.join('\n')}\n`;
}
