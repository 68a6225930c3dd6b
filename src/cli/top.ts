/**
 * `kmem top`: a live slabtop while a workload runs.
 *
 * The screen is procps slabtop's: the five summary lines, a blank line, the
 * column header in reverse video, then as many caches as fit, sorted by the
 * current key; it is redrawn every --delay seconds after the workload has
 * run another --steps operations. Keys, read one at a time from a raw-mode
 * terminal: slabtop's sort keys a b c l v n o p s u, `r` for the rate view
 * (allocations and frees per second per cache, like bcc's slabratetop),
 * space to redraw now, q or Ctrl-C to quit. The terminal (alternate screen,
 * cursor, raw mode) is restored on every way out: q, Ctrl-C, SIGINT,
 * SIGTERM, SIGHUP, an exception.
 *
 * Between the summary and the caches, the live view shows memory pressure,
 * read from /proc files only: each populated zone's free pages against its
 * min/low/high watermarks (/proc/zoneinfo), kswapd's and direct reclaim's
 * scanning and stealing (/proc/vmstat, with the change since the last
 * refresh), and swap in use (/proc/meminfo).
 *
 * `-o` prints one plain slabtop screen (all caches) and exits, as
 * `slabtop -o` does; so does any run whose output is not a terminal
 * (its --json adds the pressure figures).
 */

import pc from 'picocolors';
import type { Kernel } from '../kernel.js';
import type { Machine } from './machine.js';
import { formatRow, formatSummary, isSortKey, SLABTOP_HEADER, slabtopData, sortRows } from './slabtop.js';

export interface TopOptions {
  /** seconds between refreshes */
  delay: number;
  once: boolean;
  sort: string;
  /** operations the workload performs before each refresh */
  steps: number;
  /** start in the rate view */
  rate: boolean;
  json: boolean;
}

export interface RateRow {
  name: string;
  allocsPerSec: number;
  freesPerSec: number;
  /** allocations × slot size, per second */
  bytesPerSec: number;
  active: number;
}

/** Per-cache cumulative allocation and free counts, by cache id. */
function counters(k: Kernel): Map<number, [number, number]> {
  const m = new Map<number, [number, number]>();
  for (const id of k.inspect.cacheIds()) {
    const c = k.inspect.cacheCounters(id);
    m.set(id, [c.allocs, c.frees]);
  }
  return m;
}

/** Rates between two counter snapshots `secs` apart, busiest first. */
export function rateRows(k: Kernel, before: Map<number, [number, number]>, after: Map<number, [number, number]>, secs: number): RateRow[] {
  const rows: RateRow[] = [];
  const active = new Map(slabtopData(k).rows.map((r) => [r.name, r.active]));
  for (const [id, [a, f]] of after) {
    const [a0, f0] = before.get(id) ?? [0, 0];
    const name = k.inspect.cacheIds().includes(id) ? k.inspect.cacheName(id) : null;
    if (name === null) continue;
    const da = a - a0;
    const df = f - f0;
    if (da === 0 && df === 0) continue;
    rows.push({
      name,
      allocsPerSec: da / secs,
      freesPerSec: df / secs,
      bytesPerSec: (da * k.inspect.cacheGeometry(id).size) / secs,
      active: active.get(name) ?? 0,
    });
  }
  return rows.sort((x, y) => y.allocsPerSec + y.freesPerSec - (x.allocsPerSec + x.freesPerSec) || (x.name < y.name ? -1 : 1));
}

/** One zone's free pages against its watermarks, from /proc/zoneinfo. */
export interface ZonePressure {
  zone: string;
  free: number;
  min: number;
  low: number;
  high: number;
  managed: number;
  /** where free stands: above high; between low and high (kswapd, once woken, reclaims up to high); at or below low (an allocation wakes kswapd); at or below min (allocations reclaim directly) */
  state: 'ok' | 'high' | 'low' | 'min';
}

/** The zones of /proc/zoneinfo with managed pages, in its order. */
export function zonePressure(zoneinfo: string): ZonePressure[] {
  const zones: ZonePressure[] = [];
  for (const block of zoneinfo.split(/^Node \d+, zone\s+/m).slice(1)) {
    const num = (re: RegExp) => Number(re.exec(block)?.[1] ?? 0);
    const z = {
      zone: block.slice(0, block.indexOf('\n')).trim(),
      free: num(/^\s+pages free\s+(\d+)/m),
      min: num(/^\s+min\s+(\d+)/m),
      low: num(/^\s+low\s+(\d+)/m),
      high: num(/^\s+high\s+(\d+)/m),
      managed: num(/^\s+managed\s+(\d+)/m),
    };
    if (z.managed === 0) continue;
    const state = z.free <= z.min ? 'min' : z.free <= z.low ? 'low' : z.free <= z.high ? 'high' : 'ok';
    zones.push({ ...z, state });
  }
  return zones;
}

const PRESSURE_STATE: Record<ZonePressure['state'], string> = {
  ok: 'above high',
  high: 'below high',
  low: 'at/below low: kswapd woken',
  min: 'at/below min: direct reclaim',
};

/** The /proc/vmstat counters the pressure lines show. */
const RECLAIM_COUNTERS = [
  'pgscan_kswapd',
  'pgsteal_kswapd',
  'pgscan_direct',
  'pgsteal_direct',
  'allocstall_normal',
  'allocstall_dma32',
  'pswpin',
  'pswpout',
  'oom_kill',
];

export interface Pressure {
  zones: ZonePressure[];
  /** the counters (absent from this kernel's /proc/vmstat: not listed) */
  counters: Record<string, number>;
  swapTotalKb: number;
  swapUsedKb: number;
}

/** The pressure figures, from /proc/zoneinfo, /proc/vmstat and /proc/meminfo. */
export function pressure(k: Kernel): Pressure {
  const counters: Record<string, number> = {};
  for (const line of k.proc.read('/proc/vmstat').split('\n')) {
    const [name, v] = line.split(' ');
    if (name !== undefined && v !== undefined && RECLAIM_COUNTERS.includes(name)) counters[name] = Number(v);
  }
  const mi = k.proc.read('/proc/meminfo');
  const kb = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+)`, 'm').exec(mi)?.[1] ?? 0);
  const swapTotalKb = kb('SwapTotal');
  return { zones: zonePressure(k.proc.read('/proc/zoneinfo')), counters, swapTotalKb, swapUsedKb: Math.max(0, swapTotalKb - kb('SwapFree')) };
}

/** The pressure panel's lines; `prev` (the last refresh's figures) gives the changes shown as +n. */
export function formatPressure(p: Pressure, prev: Pressure | null): string[] {
  const lines = p.zones.map(
    (z) =>
      ` Zone ${z.zone.padEnd(7)} free ${String(z.free).padStart(8)}  min ${String(z.min).padStart(6)}  low ${String(z.low).padStart(6)}  high ${String(z.high).padStart(6)} pages  ${PRESSURE_STATE[z.state]}`,
  );
  const c = (name: string) => {
    const v = p.counters[name];
    if (v === undefined) return 'n/a';
    const d = prev?.counters[name];
    return d === undefined ? String(v) : `${v} (+${v - d})`;
  };
  lines.push(
    ` kswapd: scanned ${c('pgscan_kswapd')}, reclaimed ${c('pgsteal_kswapd')}; direct: scanned ${c('pgscan_direct')}, reclaimed ${c('pgsteal_direct')}`,
  );
  const swap = p.swapTotalKb === 0 ? 'off' : `${p.swapUsedKb}K / ${p.swapTotalKb}K used`;
  lines.push(` Swap: ${swap}; swapped in ${c('pswpin')}, out ${c('pswpout')} pages; OOM kills ${c('oom_kill')}`);
  return lines;
}

export const RATE_HEADER = '  ALLOCS/s    FREES/s  ALLOC KB/s  ACTIVE NAME';

export function formatRateRow(r: RateRow): string {
  return `${r.allocsPerSec.toFixed(0).padStart(10)} ${r.freesPerSec.toFixed(0).padStart(10)} ${(r.bytesPerSec / 1024).toFixed(1).padStart(11)} ${String(r.active).padStart(7)} ${r.name}`;
}

/** One screen's lines (no colours): summary, blank, header, rows, for `rows` terminal lines. */
export function screenLines(
  k: Kernel,
  view: { sort: string; rate: boolean; rates: RateRow[]; pressure?: string[] },
  height: number,
): { lines: string[]; headerAt: number } {
  const { summary, rows } = slabtopData(k);
  const panel = view.pressure ?? [];
  const lines = [...formatSummary(summary), ...(panel.length > 0 ? ['', ...panel] : []), ''];
  const headerAt = lines.length;
  const room = Math.max(1, height - 8 - (panel.length > 0 ? panel.length + 1 : 0));
  if (view.rate) {
    lines.push(RATE_HEADER);
    for (const r of view.rates.slice(0, room)) lines.push(formatRateRow(r));
    if (view.rates.length === 0) lines.push('  (no allocations or frees since the last refresh)');
  } else {
    lines.push(SLABTOP_HEADER);
    for (const r of sortRows(rows, view.sort).slice(0, room)) lines.push(formatRow(r));
  }
  return { lines, headerAt };
}

const ESC = '\x1b[';
const ALT_SCREEN_ON = `${ESC}?1049h`;
const ALT_SCREEN_OFF = `${ESC}?1049l`;
const CURSOR_HIDE = `${ESC}?25l`;
const CURSOR_SHOW = `${ESC}?25h`;
const HOME = `${ESC}H`;
const CLEAR_EOL = `${ESC}K`;
const CLEAR_BELOW = `${ESC}J`;

/** `slabtop -o` / `kmem top -o`: the workload's steps, then one screen of every cache. */
export function topOnce(m: Machine, o: TopOptions): string {
  m.workload?.run(o.steps);
  const { summary, rows } = slabtopData(m.k);
  sortRows(rows, o.sort);
  if (o.json) return `${JSON.stringify({ summary, pressure: pressure(m.k), caches: rows }, null, 2)}\n`;
  return `${[...formatSummary(summary), '', SLABTOP_HEADER, ...rows.map(formatRow)].join('\n')}\n`;
}

/** The live view; resolves when the user quits. */
export function topLive(m: Machine, o: TopOptions): Promise<void> {
  const out = process.stdout;
  const input = process.stdin;
  const k = m.k;
  const view = { sort: o.sort, rate: o.rate, rates: [] as RateRow[], pressure: [] as string[] };
  let lastPressure: Pressure | null = null;
  let snapshot = counters(k);
  let snapTime = performance.now();
  let timer: NodeJS.Timeout | null = null;
  let restored = false;
  let status = '';

  return new Promise<void>((resolve) => {
    const restore = () => {
      if (restored) return;
      restored = true;
      if (timer !== null) clearTimeout(timer);
      if (input.isTTY) {
        try {
          input.setRawMode(false);
        } catch {
          // the terminal went away
        }
      }
      input.off('data', onKey);
      input.pause();
      out.write(`${CURSOR_SHOW}${ALT_SCREEN_OFF}`);
      process.off('SIGINT', quit);
      process.off('SIGTERM', quit);
      process.off('SIGHUP', quit);
      process.off('exit', restore);
      out.off('resize', draw);
    };
    const quit = () => {
      restore();
      resolve();
    };

    function draw(): void {
      const height = out.rows || 24;
      const width = out.columns || 80;
      const { lines, headerAt } = screenLines(k, view, height);
      const cut = (l: string) => (l.length > width ? l.slice(0, width) : l);
      let buf = HOME;
      for (let i = 0; i < lines.length; i++) {
        const l = cut(lines[i]!);
        // a zone at or below min in red, at or below low in yellow
        const shown =
          i === headerAt
            ? pc.inverse(l.padEnd(Math.min(width, 78)))
            : l.includes(PRESSURE_STATE.min)
              ? pc.red(l)
              : l.includes(PRESSURE_STATE.low)
                ? pc.yellow(l)
                : l;
        buf += `${shown}${CLEAR_EOL}\n`;
      }
      const help = `kmem top: ${m.workload?.name ?? 'no'} workload, ${m.workload?.ops ?? 0} ops, ${view.rate ? 'rates' : `sort ${view.sort}`} | a b c l v n o p s u: sort  r: rates  q: quit${status}`;
      buf += `${CLEAR_BELOW}${pc.dim(cut(help))}`;
      out.write(buf);
    }

    const tick = () => {
      const t0 = performance.now();
      m.workload?.run(o.steps);
      const now = performance.now();
      const after = counters(k);
      view.rates = rateRows(k, snapshot, after, Math.max(1e-3, (now - snapTime) / 1000));
      snapshot = after;
      snapTime = now;
      const p = pressure(k);
      view.pressure = formatPressure(p, lastPressure);
      lastPressure = p;
      status = m.workload?.finished ? ' | workload ended' : '';
      draw();
      const spent = performance.now() - t0;
      timer = setTimeout(tick, Math.max(10, o.delay * 1000 - spent));
    };

    function onKey(data: Buffer | string): void {
      const text = typeof data === 'string' ? data : data.toString('latin1');
      for (const ch of text) {
        if (ch === 'q' || ch === 'Q' || ch === '\x03' || ch === '\x04') {
          quit();
          return;
        }
        if (ch === 'r' || ch === 'R') view.rate = !view.rate;
        else if (isSortKey(ch)) {
          view.sort = ch.toLowerCase();
          view.rate = false;
        }
      }
      draw();
    }

    process.on('SIGINT', quit);
    process.on('SIGTERM', quit);
    process.on('SIGHUP', quit);
    process.on('exit', restore);
    out.on('resize', draw);
    if (input.isTTY) input.setRawMode(true);
    input.setEncoding('latin1');
    input.on('data', onKey);
    input.resume();
    out.write(`${ALT_SCREEN_ON}${CURSOR_HIDE}${ESC}2J`);
    try {
      tick();
    } catch (e) {
      restore();
      throw e;
    }
  });
}
