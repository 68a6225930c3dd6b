/**
 * procps slabtop's numbers and text, computed from /proc/slabinfo's rows the
 * way libproc2 computes them.
 *
 * Summary (five lines, then a blank one):
 *   " %-35s: %u / %u (%.1f%%)"           objects, slabs, caches
 *   " %-35s: %.2fK / %.2fK (%.1f%%)"     active / total size
 *   " %-35s: %.2fK / %.2fK / %.2fK"      minimum / average / maximum object
 * Column header: the fixed text padded to 78 columns ("%-78s").
 * Rows: "%6u %6u %3u%% %7.2fK %6u %8u %9luK %-23s".
 *
 * Per cache: USE = (unsigned)(100 * active / objs), 0 for an empty cache;
 * CACHE SIZE = slabs * pages per slab * page size. Summary: a cache is
 * active when it has objects; sizes are objects times objsize (the slot
 * size, /proc/slabinfo's objsize column); the average object is total size
 * over total objects; the minimum and maximum run over every cache.
 */

import type { Kernel } from '../kernel.js';

const PAGE_SIZE = 4096;

export interface SlabtopRow {
  name: string;
  /** OBJS */
  objs: number;
  /** ACTIVE */
  active: number;
  /** USE, percent */
  use: number;
  /** OBJ SIZE in bytes (the slot size) */
  objSize: number;
  /** SLABS */
  slabs: number;
  activeSlabs: number;
  /** OBJ/SLAB */
  objPerSlab: number;
  pagesPerSlab: number;
  /** CACHE SIZE in bytes */
  cacheSize: number;
}

export interface SlabtopSummary {
  activeObjs: number;
  totalObjs: number;
  activeSlabs: number;
  totalSlabs: number;
  activeCaches: number;
  totalCaches: number;
  /** bytes */
  activeSize: number;
  totalSize: number;
  minObjSize: number;
  avgObjSize: number;
  maxObjSize: number;
}

/** The cache rows and the summary, as slabtop reads them from /proc/slabinfo. */
export function slabtopData(k: Kernel): { summary: SlabtopSummary; rows: SlabtopRow[] } {
  const rows: SlabtopRow[] = [];
  const s: SlabtopSummary = {
    activeObjs: 0,
    totalObjs: 0,
    activeSlabs: 0,
    totalSlabs: 0,
    activeCaches: 0,
    totalCaches: 0,
    activeSize: 0,
    totalSize: 0,
    minObjSize: Number.MAX_SAFE_INTEGER,
    avgObjSize: 0,
    maxObjSize: 0,
  };
  for (const r of k.inspect.slabinfo()) {
    const row: SlabtopRow = {
      name: r.name,
      objs: r.numObjs,
      active: r.activeObjs,
      use: r.numObjs > 0 ? Math.floor(100 * Math.fround(r.activeObjs / r.numObjs)) : 0,
      objSize: r.objsize,
      slabs: r.numSlabs,
      activeSlabs: r.activeSlabs,
      objPerSlab: r.objperslab,
      pagesPerSlab: r.pagesperslab,
      cacheSize: r.numSlabs * r.pagesperslab * PAGE_SIZE,
    };
    rows.push(row);
    s.minObjSize = Math.min(s.minObjSize, row.objSize);
    s.maxObjSize = Math.max(s.maxObjSize, row.objSize);
    if (row.objs > 0) s.activeCaches++;
    s.totalCaches++;
    s.totalObjs += row.objs;
    s.activeObjs += row.active;
    s.totalSize += row.objs * row.objSize;
    s.activeSize += row.active * row.objSize;
    s.totalSlabs += row.slabs;
    s.activeSlabs += row.activeSlabs;
  }
  if (s.totalCaches === 0) s.minObjSize = 0;
  if (s.totalObjs > 0) s.avgObjSize = Math.floor(s.totalSize / s.totalObjs);
  return { summary: s, rows };
}

/** slabtop's sort keys (-s and while running) and what they sort by. */
export const SORT_KEYS: Readonly<Record<string, string>> = {
  a: 'number of active objects',
  b: 'objects per slab',
  c: 'cache size',
  l: 'number of slabs',
  v: '(non display) number of active slabs',
  n: 'name',
  o: 'number of objects (the default)',
  p: '(non display) pages per slab',
  s: 'object size',
  u: 'cache utilization',
};

const SORT_FIELD: Readonly<Record<string, keyof SlabtopRow>> = {
  a: 'active',
  b: 'objPerSlab',
  c: 'cacheSize',
  l: 'slabs',
  v: 'activeSlabs',
  o: 'objs',
  p: 'pagesPerSlab',
  s: 'objSize',
  u: 'use',
};

/** True for a key slabtop sorts by (case-insensitive, as slabtop's tolower()). */
export function isSortKey(key: string): boolean {
  return key.length === 1 && SORT_KEYS[key.toLowerCase()] !== undefined;
}

/** Sort rows by a slabtop key: descending, names ascending; unknown keys sort by objects. */
export function sortRows(rows: SlabtopRow[], key: string): SlabtopRow[] {
  const k = key.toLowerCase();
  if (k === 'n') return rows.sort((x, y) => (x.name < y.name ? -1 : x.name > y.name ? 1 : 0));
  const f = SORT_FIELD[k] ?? 'objs';
  return rows.sort((x, y) => (y[f] as number) - (x[f] as number));
}

const pct = (a: number, t: number) => (t === 0 ? '-nan' : ((100 * a) / t).toFixed(1));
const kb = (bytes: number) => (bytes / 1024).toFixed(2);
const label = (s: string) => ` ${s.padEnd(35)}: `;

/** The five summary lines. */
export function formatSummary(s: SlabtopSummary): string[] {
  return [
    `${label('Active / Total Objects (% used)')}${s.activeObjs} / ${s.totalObjs} (${pct(s.activeObjs, s.totalObjs)}%)`,
    `${label('Active / Total Slabs (% used)')}${s.activeSlabs} / ${s.totalSlabs} (${pct(s.activeSlabs, s.totalSlabs)}%)`,
    `${label('Active / Total Caches (% used)')}${s.activeCaches} / ${s.totalCaches} (${pct(s.activeCaches, s.totalCaches)}%)`,
    `${label('Active / Total Size (% used)')}${kb(s.activeSize)}K / ${kb(s.totalSize)}K (${pct(s.activeSize, s.totalSize)}%)`,
    `${label('Minimum / Average / Maximum Object')}${kb(s.minObjSize)}K / ${kb(s.avgObjSize)}K / ${kb(s.maxObjSize)}K`,
  ];
}

/** The column header line (padded to 78 columns, as slabtop prints it). */
export const SLABTOP_HEADER = '  OBJS ACTIVE  USE OBJ SIZE  SLABS OBJ/SLAB CACHE SIZE NAME'.padEnd(78);

/** One cache line. */
export function formatRow(r: SlabtopRow): string {
  return (
    `${String(r.objs).padStart(6)} ${String(r.active).padStart(6)} ${String(r.use).padStart(3)}% ` +
    `${(r.objSize / 1024).toFixed(2).padStart(7)}K ${String(r.slabs).padStart(6)} ${String(r.objPerSlab).padStart(8)} ` +
    `${String(Math.floor(r.cacheSize / 1024)).padStart(9)}K ${r.name.padEnd(23)}`
  );
}

/** `slabtop -o`: summary, blank line, header, every cache. */
export function slabtopOnce(k: Kernel, sortKey = 'o', limit = Number.POSITIVE_INFINITY): string {
  const { summary, rows } = slabtopData(k);
  sortRows(rows, sortKey);
  const lines = [...formatSummary(summary), '', SLABTOP_HEADER];
  for (const r of rows.slice(0, limit)) lines.push(formatRow(r));
  return `${lines.join('\n')}\n`;
}
