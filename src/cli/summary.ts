/**
 * `kmem run`'s summary: the boot log, where the memory went (slab, pages),
 * the biggest caches in slabtop's columns, /proc/buddyinfo, and every
 * report the kernel printed (KASAN, slub_debug, WARNINGs, allocation
 * failures).
 */

import type { Kernel } from '../kernel.js';
import { formatRow, SLABTOP_HEADER, type SlabtopRow, slabtopData, sortRows } from './slabtop.js';

/** The first line of each report block in a part of the log. */
export function reportHeadlines(lines: readonly string[]): string[] {
  const strip = (l: string) => l.replace(/^\[\s*\d+\.\d+\]\s?/, '');
  const out: string[] = [];
  for (const raw of lines) {
    const l = strip(raw);
    if (/^(BUG[: ]|WARNING:|kernel BUG|.*: page allocation failure|SLUB: Unable to allocate)/.test(l)) out.push(l);
  }
  return out;
}

export interface MemorySummary {
  totalKb: number;
  freeKb: number;
  slabKb: number;
  sreclaimableKb: number;
  sunreclaimKb: number;
  /** managed − free − slab: pages allocated outside the slab allocator (and pcp lists' pages count as free) */
  pagesKb: number;
}

export function memorySummary(k: Kernel): MemorySummary {
  let free = 0;
  let managed = 0;
  for (const z of k.inspect.zones()) {
    free += z.free + z.pcpPages;
    managed += z.managed;
  }
  const rcl = k.slabPages(true);
  const unrcl = k.slabPages(false);
  return {
    totalKb: managed * 4,
    freeKb: free * 4,
    slabKb: (rcl + unrcl) * 4,
    sreclaimableKb: rcl * 4,
    sunreclaimKb: unrcl * 4,
    pagesKb: (managed - free - rcl - unrcl) * 4,
  };
}

export interface BuddyZone {
  node: number;
  zone: string;
  free: number[];
}

/** /proc/buddyinfo as numbers. */
export function buddyinfoData(k: Kernel): BuddyZone[] {
  const out: BuddyZone[] = [];
  for (const z of k.inspect.zones()) out.push({ node: 0, zone: z.name, free: z.nrFree });
  return out;
}

/** The n biggest caches by CACHE SIZE (slabtop's `c`). */
export function topCaches(k: Kernel, n: number): SlabtopRow[] {
  const { rows } = slabtopData(k);
  return sortRows(
    rows.filter((r) => r.slabs > 0),
    'c',
  ).slice(0, n);
}

export interface RunSummary {
  machine: { memory: number; cpus: number; seed: number; kasan: boolean; workload: string | null; steps: number };
  /** wrapped: the workload printed so much that the log ring dropped lines (the boot lines among them) */
  dmesg: { boot: string[]; after: string[]; wrapped: boolean };
  memory: MemorySummary;
  topCaches: SlabtopRow[];
  buddyinfo: BuddyZone[];
  reports: string[];
}

/**
 * The log lines printed after boot. The printk ring keeps a bounded number
 * of lines: when the workload printed enough to push the boot lines out,
 * every line left is from after boot.
 */
export function linesAfterBoot(log: readonly string[], bootLog: readonly string[]): string[] {
  const n = bootLog.length;
  if (log.length >= n && (n === 0 || (log[0] === bootLog[0] && log[n - 1] === bootLog[n - 1]))) return log.slice(n);
  return [...log];
}

export function runSummary(k: Kernel, bootLog: readonly string[], workload: string | null, steps: number): RunSummary {
  const log = k.dmesg();
  const after = linesAfterBoot(log, bootLog);
  return {
    machine: { memory: k.inspect.memory, cpus: k.cpus, seed: k.seed, kasan: k.inspect.kasanEnabled, workload, steps },
    dmesg: { boot: [...bootLog], after, wrapped: after.length === log.length && bootLog.length > 0 },
    memory: memorySummary(k),
    topCaches: topCaches(k, 10),
    buddyinfo: buddyinfoData(k),
    reports: reportHeadlines(after),
  };
}

/** Lines of kernel log after boot shown in full before the summary cuts them short. */
const MAX_REPORT_LINES = 200;

export function formatRunSummary(k: Kernel, s: RunSummary): string {
  const L: string[] = [];
  L.push('== dmesg (boot)', ...s.dmesg.boot);
  const m = s.memory;
  L.push('', '== memory');
  L.push(`MemTotal:       ${String(m.totalKb).padStart(8)} kB`);
  L.push(`MemFree:        ${String(m.freeKb).padStart(8)} kB`);
  L.push(`Slab:           ${String(m.slabKb).padStart(8)} kB`);
  L.push(`SReclaimable:   ${String(m.sreclaimableKb).padStart(8)} kB`);
  L.push(`SUnreclaim:     ${String(m.sunreclaimKb).padStart(8)} kB`);
  L.push(`Pages (other):  ${String(m.pagesKb).padStart(8)} kB`);
  L.push('', `== top caches by size (workload: ${s.machine.workload ?? 'none'}, ${s.machine.steps} operations)`, SLABTOP_HEADER.trimEnd());
  for (const r of s.topCaches) L.push(formatRow(r).trimEnd());
  L.push('', '== /proc/buddyinfo', k.proc.read('/proc/buddyinfo').replace(/\n$/, ''));
  const after = s.dmesg.after;
  if (s.reports.length === 0) {
    L.push('', '== reports: none');
  } else {
    L.push('', `== reports: ${s.reports.length}`);
    if (s.dmesg.wrapped) L.push('(the log buffer is full: its oldest lines are gone)');
    L.push(...after.slice(0, MAX_REPORT_LINES));
    if (after.length > MAX_REPORT_LINES) L.push(`... ${after.length - MAX_REPORT_LINES} more lines: kmem dmesg`);
  }
  return `${L.join('\n')}\n`;
}
