/**
 * The reports of the kernel's tools/mm/slabinfo (tools/vm/slabinfo before
 * 6.2), computed from the same /sys/kernel/slab/<cache>/ attributes the tool
 * reads, and printed in its formats:
 *
 *   default   "Name                   Objects Objsize           Space "
 *             "Slabs/Part/Cpu  O/S O %Fr %Ef Flg"  (" Loss" for Space with -L)
 *             rows "%-21s %8ld %7d %15s %14s %4d %1d %3ld %3ld %s"
 *   -D        "Name                   Objects      Alloc       Free   %Fast Fallb O CmpX   UL"
 *             rows "%-21s %8ld %10ld %10ld %3ld %3ld %5ld %1d %4ld %4ld"
 *   -r        the per-cache report (sizes, slabs, debug flags, memory, then
 *             allocation tracks, NUMA and the CONFIG_SLUB_STATS counters)
 *
 * Sizes go through the tool's store_size(): above 1000 the value is divided
 * to three digits and printed with a decimal point before the last one and
 * K, M or G (32768 → "32.7K"); -B prints bytes.
 *
 * Names: a merged cache lives in sysfs under a unique id (":A-0000256");
 * the tool shows it under its one alias when it has exactly one, else under
 * the id. Caches without slabs are left out unless -z.
 */

import type { Kernel } from '../kernel.js';
import { statNames } from '../slub/slab.js';

const PAGE_SIZE = 4096;

/** What the tool reads for one cache. */
export interface SlabinfoCache {
  name: string;
  aliases: number;
  objects: number;
  objectSize: number;
  slabSize: number;
  slabs: number;
  partial: number;
  objectsPartial: number;
  cpuSlabs: number;
  objsPerSlab: number;
  order: number;
  align: number;
  hwcacheAlign: boolean;
  cacheDma: boolean;
  destroyByRcu: boolean;
  reclaimAccount: boolean;
  poison: boolean;
  redZone: boolean;
  sanityChecks: boolean;
  storeUser: boolean;
  trace: boolean;
  /** CONFIG_SLUB_STATS counters (all 0 when the machine has none) */
  stats: Record<string, number>;
  /** flag letters *dAPaZFUT */
  flags: string;
  /** slabs × slab bytes */
  size: number;
  /** size − objects × object_size */
  loss: number;
}

function num(text: string | undefined): number {
  return text === undefined ? 0 : Number.parseInt(text, 10) || 0;
}

/** Every cache's attributes, as read_slab_dir() collects them. */
export function readSlabCaches(k: Kernel): SlabinfoCache[] {
  const out: SlabinfoCache[] = [];
  for (const id of k.inspect.cacheIds()) {
    // read_slab_dir(): every attribute from the cache's /sys/kernel/slab directory.
    const { dir, name } = k.inspect.slabSysfs(id);
    const a = (attr: string) => num(sysRead(k, `/sys/kernel/slab/${dir}/${attr}`));
    const stats: Record<string, number> = {};
    for (const s of statNames) stats[s] = a(s);
    const c: SlabinfoCache = {
      name,
      aliases: a('aliases'),
      objects: a('objects'),
      objectSize: a('object_size'),
      slabSize: a('slab_size'),
      slabs: a('slabs'),
      partial: a('partial'),
      objectsPartial: a('objects_partial'),
      cpuSlabs: a('cpu_slabs'),
      objsPerSlab: a('objs_per_slab'),
      order: a('order'),
      align: a('align'),
      hwcacheAlign: a('hwcache_align') !== 0,
      cacheDma: a('cache_dma') !== 0,
      destroyByRcu: a('destroy_by_rcu') !== 0,
      reclaimAccount: a('reclaim_account') !== 0,
      poison: a('poison') !== 0,
      redZone: a('red_zone') !== 0,
      sanityChecks: a('sanity_checks') !== 0,
      storeUser: a('store_user') !== 0,
      trace: a('trace') !== 0,
      stats,
      flags: '',
      size: 0,
      loss: 0,
    };
    c.flags =
      (c.aliases ? '*' : '') +
      (c.cacheDma ? 'd' : '') +
      (c.hwcacheAlign ? 'A' : '') +
      (c.poison ? 'P' : '') +
      (c.reclaimAccount ? 'a' : '') +
      (c.redZone ? 'Z' : '') +
      (c.sanityChecks ? 'F' : '') +
      (c.storeUser ? 'U' : '') +
      (c.trace ? 'T' : '');
    c.size = c.slabs * (PAGE_SIZE << c.order);
    c.loss = c.size - c.objects * c.objectSize;
    out.push(c);
  }
  return out;
}

/** store_size(): "32.7K", "6.1M"; plain bytes with `bytes`. */
export function storeSize(value: number, bytes = false): string {
  let divisor = 1;
  let trailer = '';
  if (!bytes) {
    if (value > 1_000_000_000) {
      divisor = 100_000_000;
      trailer = 'G';
    } else if (value > 1_000_000) {
      divisor = 100_000;
      trailer = 'M';
    } else if (value > 1000) {
      divisor = 100;
      trailer = 'K';
    }
  }
  const digits = String(Math.floor(value / divisor));
  if (divisor === 1) return digits;
  return `${digits.slice(0, -1)}.${digits.slice(-1)}${trailer}`;
}

export interface ReportOptions {
  /** -L: sort by loss and show it instead of the space */
  loss?: boolean;
  /** -S: sort by size */
  size?: boolean;
  /** -D: the activity line format */
  activity?: boolean;
  /** -z: include caches without slabs */
  zero?: boolean;
  /** -B: sizes in bytes */
  bytes?: boolean;
  /** -N: the first n caches */
  lines?: number;
}

const caseCmp = (x: string, y: string) => {
  const a = x.toLowerCase();
  const b = y.toLowerCase();
  return a < b ? -1 : a > b ? 1 : 0;
};

/** sort_slabs(): by name, or by size / loss descending with names breaking ties. */
export function sortSlabCaches(caches: SlabinfoCache[], o: ReportOptions): SlabinfoCache[] {
  const key = o.size ? 'size' : o.loss ? 'loss' : null;
  return caches.sort((x, y) => {
    if (key !== null && x[key] !== y[key]) return y[key] - x[key];
    return caseCmp(x.name, y.name);
  });
}

/** The header line of the default (or -D) report. */
export function reportHeader(o: ReportOptions): string {
  if (o.activity) return 'Name                   Objects      Alloc       Free   %Fast Fallb O CmpX   UL';
  return `Name                   Objects Objsize           ${o.loss ? ' Loss' : 'Space'} Slabs/Part/Cpu  O/S O %Fr %Ef Flg`;
}

const div = (a: number, b: number) => Math.floor(a / b);

/** One cache's line of the default (or -D) report. */
export function reportLine(c: SlabinfoCache, o: ReportOptions): string {
  if (o.activity) {
    const s = c.stats;
    const alloc = s.alloc_fastpath! + s.alloc_slowpath!;
    const free = s.free_fastpath! + s.free_slowpath!;
    return (
      `${c.name.padEnd(21)} ${String(c.objects).padStart(8)} ${String(alloc).padStart(10)} ${String(free).padStart(10)} ` +
      `${String(alloc ? div(s.alloc_fastpath! * 100, alloc) : 0).padStart(3)} ${String(free ? div(s.free_fastpath! * 100, free) : 0).padStart(3)} ` +
      `${String(s.order_fallback).padStart(5)} ${c.order} ${String(s.cmpxchg_double_fail).padStart(4)} ${String(s.cmpxchg_double_cpu_fail).padStart(4)}`
    );
  }
  const space = storeSize(o.loss ? c.loss : c.size, o.bytes);
  const dist = `${c.slabs - c.cpuSlabs}/${c.partial}/${c.cpuSlabs}`;
  const fr = c.slabs ? div(c.partial * 100, c.slabs) : 100;
  const ef = c.slabs ? div(c.objects * c.objectSize * 100, c.slabs * (PAGE_SIZE << c.order)) : 100;
  return (
    `${c.name.padEnd(21)} ${String(c.objects).padStart(8)} ${String(c.objectSize).padStart(7)} ${space.padStart(15)} ${dist.padStart(14)} ` +
    `${String(c.objsPerSlab).padStart(4)} ${c.order} ${String(fr).padStart(3)} ${String(ef).padStart(3)} ${c.flags}`
  );
}

/** The caches the default report lists, in its order. */
export function reportCaches(k: Kernel, o: ReportOptions): SlabinfoCache[] {
  const caches = sortSlabCaches(
    readSlabCaches(k).filter((c) => o.zero || c.slabs > 0),
    o,
  );
  return o.lines !== undefined ? caches.slice(0, o.lines) : caches;
}

/** The default report: header and one line per cache. */
export function defaultReport(k: Kernel, o: ReportOptions = {}): string {
  const caches = reportCaches(k, o);
  if (caches.length === 0) return '';
  return `${[reportHeader(o), ...caches.map((c) => reportLine(c, o))].join('\n')}\n`;
}

const onoff = (b: boolean) => (b ? 'On ' : 'Off');
const n7 = (v: number) => String(v).padStart(7);

/** The per-cache report (-r). */
export function cacheReport(k: Kernel, c: SlabinfoCache): string {
  const slabBytes = PAGE_SIZE << c.order;
  const L: string[] = [];
  L.push('', `Slabcache: ${c.name.padEnd(15)}  Aliases: ${String(c.aliases).padStart(2)} Order : ${String(c.order).padStart(2)} Objects: ${c.objects}`);
  if (c.hwcacheAlign) L.push('** Hardware cacheline aligned');
  if (c.cacheDma) L.push('** Memory is allocated in a special DMA zone');
  if (c.destroyByRcu) L.push('** Slabs are destroyed via RCU');
  if (c.reclaimAccount) L.push('** Reclaim accounting active');
  L.push('', 'Sizes (bytes)     Slabs              Debug                Memory');
  L.push('------------------------------------------------------------------------');
  L.push(`Object : ${n7(c.objectSize)}  Total  : ${n7(c.slabs)}   Sanity Checks : ${onoff(c.sanityChecks)}  Total: ${n7(c.slabs * slabBytes)}`);
  L.push(
    `SlabObj: ${n7(c.slabSize)}  Full   : ${n7(c.slabs - c.partial - c.cpuSlabs)}   Redzoning     : ${onoff(c.redZone)}  Used : ${n7(c.objects * c.objectSize)}`,
  );
  L.push(
    `SlabSiz: ${n7(slabBytes)}  Partial: ${n7(c.partial)}   Poisoning     : ${onoff(c.poison)}  Loss : ${n7(c.slabs * slabBytes - c.objects * c.objectSize)}`,
  );
  L.push(
    `Loss   : ${n7(c.slabSize - c.objectSize)}  CpuSlab: ${n7(c.cpuSlabs)}   Tracking      : ${onoff(c.storeUser)}  Lalig: ${n7((c.slabSize - c.objectSize) * c.objects)}`,
  );
  L.push(
    `Align  : ${n7(c.align)}  Objects: ${n7(c.objsPerSlab)}   Tracing       : ${onoff(c.trace)}  Lpadd: ${n7((slabBytes - c.objsPerSlab * c.slabSize) * c.slabs)}`,
  );
  L.push('', `${c.name} has no kmem_cache operations`);
  // show_tracking(): each debugfs file as read_debug_slab_obj() reads it (one fread() into the
  // tool's 4096-byte buffer, printed with "%s"), "No Data" when it cannot be opened or is empty.
  const tracking =
    `\n${c.name}: Kernel object allocation\n` +
    '-----------------------------------------------------------------------\n' +
    (debugSlabObj(k, c.name, 'alloc_traces') ?? 'No Data\n') +
    `\n${c.name}: Kernel object freeing\n` +
    '------------------------------------------------------------------------\n' +
    (debugSlabObj(k, c.name, 'free_traces') ?? 'No Data\n');
  const numa = ['', `${c.name}: No NUMA information available.`, ...slabStats(c)];
  return `${L.join('\n')}\n${tracking}${numa.join('\n')}\n`;
}

/** read_debug_slab_obj(): /sys/kernel/debug/slab/<name>/<file> cut to the tool's 4096-byte buffer; null when absent or empty. */
function debugSlabObj(k: Kernel, name: string, file: string): string | null {
  let text: string;
  try {
    text = k.sys.read(`/sys/kernel/debug/slab/${name}/${file}`);
  } catch {
    return null;
  }
  const bytes = new TextEncoder().encode(text);
  if (bytes.length === 0) return null;
  return bytes.length > 4096 ? new TextDecoder().decode(bytes.subarray(0, 4096)) : text;
}

/** slab_stats(): the CONFIG_SLUB_STATS part of the report, when the cache has allocated slabs. */
function slabStats(c: SlabinfoCache): string[] {
  const s = c.stats as Record<(typeof statNames)[number], number>;
  if (!s.alloc_slab) return [];
  const totalAlloc = s.alloc_fastpath + s.alloc_slowpath;
  const totalFree = s.free_fastpath + s.free_slowpath;
  if (!totalAlloc) return [];
  const p = (v: number, t: number) => String(t ? div(v * 100, t) : 0).padStart(3);
  const line = (what: string, a: number, f: number) =>
    `${what.padEnd(20)} ${String(a).padStart(8)} ${String(f).padStart(8)} ${p(a, totalAlloc)} ${p(f, totalFree)}`;
  const L = ['', 'Slab Perf Counter       Alloc     Free %Al %Fr', '--------------------------------------------------'];
  L.push(line('Fastpath', s.alloc_fastpath, s.free_fastpath));
  L.push(line('Slowpath', totalAlloc - s.alloc_fastpath, s.free_slowpath));
  L.push(line('Page Alloc', s.alloc_slab, s.free_slab));
  L.push(line('Add partial', s.deactivate_to_head + s.deactivate_to_tail, s.free_add_partial));
  L.push(line('Remove partial', s.alloc_from_partial, s.free_remove_partial));
  L.push(line('Cpu partial list', s.cpu_partial_alloc, s.cpu_partial_free));
  L.push(line('RemoteObj/SlabFrozen', s.deactivate_remote_frees, s.free_frozen));
  L.push(`${'Total'.padEnd(20)} ${String(totalAlloc).padStart(8)} ${String(totalFree).padStart(8)}`, '');
  if (s.cpuslab_flush) L.push(`Flushes ${String(s.cpuslab_flush).padStart(8)}`);
  const total = s.deactivate_full + s.deactivate_empty + s.deactivate_to_head + s.deactivate_to_tail + s.deactivate_bypass;
  if (total) {
    const d = (what: string, v: number) => `${what.padEnd(29)} ${String(v).padStart(7)}  ${String(div(v * 100, total)).padStart(3)}%`;
    L.push('', 'Slab Deactivation             Occurrences %', '-------------------------------------------------');
    L.push(d('Slab full', s.deactivate_full));
    L.push(d('Slab empty', s.deactivate_empty));
    L.push(d('Moved to head of partial list', s.deactivate_to_head));
    L.push(d('Moved to tail of partial list', s.deactivate_to_tail));
    L.push(d('Deactivation bypass', s.deactivate_bypass));
    L.push(d('Refilled from foreign frees', s.alloc_refill));
    L.push(d('Node mismatch', s.alloc_node_mismatch));
  }
  if (s.cmpxchg_double_fail || s.cmpxchg_double_cpu_fail) {
    L.push('', 'Cmpxchg_double Looping', '------------------------');
    L.push(`Locked Cmpxchg Double redos   ${s.cmpxchg_double_fail}`, `Unlocked Cmpxchg Double redos ${s.cmpxchg_double_cpu_fail}`);
  }
  return L;
}

/** The cache a name (or alias, or sysfs id) refers to, as the tool lists it; undefined if none. */
export function findSlabCache(k: Kernel, name: string): SlabinfoCache | undefined {
  const caches = readSlabCaches(k);
  const direct = caches.find((c) => c.name === name);
  if (direct) return direct;
  const id = k.kmemCacheByName(name);
  if (id < 0) return undefined;
  const sysfs = k.inspect.slabSysfs(id);
  const own = k.inspect.cacheName(id);
  return caches.find((c) => c.name === own || c.name === sysfs.dir);
}

/** A sysfs file's text, or undefined where the kernel has no such file. */
function sysRead(k: Kernel, path: string): string | undefined {
  try {
    return k.sys.read(path);
  } catch {
    return undefined;
  }
}
