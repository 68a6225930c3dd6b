/**
 * What-if: one trace replayed into several machines (`kmem replay --compare`),
 * each booted with its own options, summed up side by side.
 *
 * A configuration is a set of boot() options written NAME=VALUE
 * (parseCompareSetting); the trace is read once for its names and once for
 * its rows, and every batch of rows goes to every machine (replayFileMany),
 * so no machine's result depends on the others. For each machine:
 *
 *   slab memory    Slab: of its /proc/meminfo (every cache, boot's included)
 *                  and the pages of the slabs of the caches the trace used
 *   waste          internal: the slot size of the cache each live object sits
 *                  in less its bytes_req; slack: the bytes at the end of each
 *                  slab that hold no object ((PAGE_SIZE << order) less
 *                  objects * size, times the slabs)
 *   slow paths     CONFIG_SLUB_STATS alloc_slowpath and free_slowpath of the
 *                  trace's allocations and frees
 *   fragmentation  free bytes in partial slabs: free objects times the slot
 *                  size, over the slabs on the node and cpu partial lists
 *   time           seconds booting that machine and performing the events on it (parsing,
 *                  shared by all, is counted apart)
 *
 * Each slab allocator design (`allocator=slab`, `allocator=slob`) is summed
 * up in its own terms, and a figure a design has no counterpart for is null
 * (printed '-'):
 *
 *   SLAB   slow paths: allocations that found the CPU's head array empty
 *          (cache_alloc_refill, CONFIG_DEBUG_SLAB's allocmiss) and frees that
 *          found it full (cache_flusharray, freemiss); fragmentation: free
 *          objects times the slot size over slabs_partial; slack as SLUB's
 *          (the index array and the colouring are in it)
 *   SLOB   no per-cache slabs: trace pages and slack are null; internal
 *          waste: bytes of the heap's pages neither free nor asked for by a
 *          live object (size headers, unit rounding, alignment, the cache
 *          descriptors); slow paths: allocations that took pages from the
 *          buddy allocator (a new heap page, a large kmalloc) and frees that
 *          gave pages back; fragmentation: the free bytes of the pages on
 *          the three free lists (partially used pages)
 */

import type { BootOptions, Kernel } from '../kernel.js';
import { PAGE_SIZE } from '../memory/memblock.js';
import { SLAB_INUSE_MASK } from '../memory/page.js';
import { SLABS_PARTIAL } from '../slab/slab.js';
import type { SlabCaches } from '../slab/slab_common.js';
import type { Slob } from '../slob/slob.js';
import { CF, MAX_CACHES } from '../slub/slab.js';
import type { ReplayFileOptions, ReplayManyResult, ReplayReport, ReplayRun } from './replay.js';
import { replayFileMany } from './replay.js';

/** Boot options a --compare setting may name: every boot() option that a string can give. */
const SETTABLE: Readonly<Record<string, 'int' | 'bool' | 'string' | 'size'>> = {
  memory: 'size',
  cpus: 'int',
  seed: 'int',
  minFreeKbytes: 'int',
  transparentHugepage: 'string',
  slubMinOrder: 'int',
  slubMaxOrder: 'int',
  slubMinObjects: 'int',
  slabNomerge: 'bool',
  slubDebug: 'string',
  freelistHardened: 'bool',
  freelistRandom: 'bool',
  kasan: 'string',
  kasanMultiShot: 'bool',
  kernel: 'string',
  allocator: 'string',
  aslr: 'int',
  reserved: 'size',
};

/** The command line's spellings of boot() options (--mem, --slub-max-order, ...) as boot() names them. */
const ALIASES: Readonly<Record<string, string>> = { mem: 'memory', thp: 'transparentHugepage' };

/** kebab-case to camelCase: slub-max-order -> slubMaxOrder. */
function camel(name: string): string {
  return name.replace(/-([a-z])/g, (_m, c: string) => c.toUpperCase());
}

/** One configuration of a comparison: its label as the user wrote it and its boot() options. */
export interface CompareConfig {
  label: string;
  boot: BootOptions;
}

/**
 * A --compare setting as boot() options: `NAME=VALUE` pairs separated by
 * spaces, or by commas before the next NAME= ('slubMaxOrder=1,slubMinObjects=8';
 * a comma inside a value, as in slubDebug=FZ,kmalloc-64, stays in it).
 * NAME is a boot() option or its command-line spelling (slub-max-order,
 * mem); VALUE a whole number, true/false, or text. `default` (or an empty
 * setting) changes nothing. Throws a RangeError naming the setting.
 */
export function parseCompareSetting(text: string): BootOptions {
  const out: Record<string, unknown> = {};
  const t = text.trim();
  if (t === '' || t === 'default') return out as BootOptions;
  for (const part of t.split(/\s+|,(?=\s*[A-Za-z][A-Za-z0-9-]*=)/)) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    if (eq <= 0) throw new RangeError(`'${part}' is not NAME=VALUE (a boot option such as slubMaxOrder=1)`);
    const raw = part.slice(0, eq);
    const value = part.slice(eq + 1);
    const name = ALIASES[raw] ?? camel(raw);
    const kind = SETTABLE[name];
    if (kind === undefined) {
      // boot() names an unknown option (and the one it most likely meant)
      out[name] = value;
      continue;
    }
    if (name in out) throw new RangeError(`${name}: given twice`);
    if (value === '') throw new RangeError(`${name}: no value`);
    if (kind === 'int') {
      if (!/^-?\d+$/.test(value)) throw new RangeError(`${name}: expected a whole number, got '${value}'`);
      out[name] = Number(value);
    } else if (kind === 'bool') {
      if (value !== 'true' && value !== 'false' && value !== '1' && value !== '0') throw new RangeError(`${name}: expected true or false, got '${value}'`);
      out[name] = value === 'true' || value === '1';
    } else if (kind === 'size' && /^\d+$/.test(value)) out[name] = Number(value);
    else if (name === 'kasan' && value === 'false') out[name] = false;
    else out[name] = value;
  }
  return out as BootOptions;
}

/** One machine's figures in a comparison. */
export interface CompareRow {
  label: string;
  /** The slab allocator design the machine was booted with. */
  allocator: 'slub' | 'slab' | 'slob';
  /** The boot options the setting gave (the command's machine options under them). */
  boot: BootOptions;
  /** RAM, CPUs, and the pages the zones manage (MemTotal: RAM less what memblock reserved). */
  machine: { memory: number; cpus: number; cpusFromTrace: boolean; managedPages: number };
  /** Slab: of /proc/meminfo (every cache), in pages and kB. */
  slab: { pages: number; kB: number };
  /** Pages of the slabs of the caches the trace used (null under SLOB: no per-cache slabs). */
  traceSlabPages: number | null;
  /** Bytes: internal (slot size less bytes_req over the live objects) and slack (slab bytes no object fits in; null under SLOB). */
  waste: { internal: number; slack: number | null };
  /** Slow paths taken by the trace's allocations and frees (SLUB: CONFIG_SLUB_STATS; SLAB: head array misses; SLOB: pages taken and given back). */
  slowpath: { alloc: number; free: number };
  fastpath: { alloc: number; free: number };
  /** Free bytes in the slabs on partial lists (node and cpu; SLAB: slabs_partial; SLOB: the pages on the free lists), and those slabs. */
  partial: { freeBytes: number; slabs: number };
  /** Allocations the machine could not perform (slab and page). */
  failed: number;
  /** Events the machine refused to perform, skipped (--skip-bad). */
  refused: number;
  /** Seconds booting this machine and performing the events on it. */
  seconds: number;
  /** The caches the trace used: geometry and slabs at the end. */
  caches: { name: string; size: number; order: number; objectsPerSlab: number; slabs: number; objects: number }[];
}

/** A kB line of /proc/meminfo (Slab:, MemTotal:). */
function meminfoKb(k: Kernel, name: string): number {
  const m = new RegExp(`^${name}:\\s+(\\d+) kB$`, 'm').exec(k.proc.read('/proc/meminfo'));
  return m ? Number(m[1]) : 0;
}

/** Free objects in a list of slabs linked through `next` from `head` (pfns), and the slabs. */
function listFree(k: Kernel, head: number, next: Int32Array | Uint32Array | Float64Array, acc: { free: number; slabs: number }): void {
  const p = k.pages;
  let guard = p.nr;
  for (let s = head; s >= 0 && guard-- > 0; s = next[s] as number) {
    acc.free += (p.slabObjects[s] as number) - ((p.slabCounters[s] as number) & SLAB_INUSE_MASK);
    acc.slabs++;
  }
}

/** One machine's figures, from its replay's report and its slab allocator's state. */
export function compareRow(config: CompareConfig, run: ReplayRun, report: ReplayReport): CompareRow {
  const k = run.kernel;
  const m = k.machine;
  if (m.slabCaches !== null) return designRow(config, run, report, slabFigures(m.slabCaches, run.replayer.cacheIds()), 'slab');
  if (m.slob !== null) return designRow(config, run, report, slobFigures(m.slob, report), 'slob');
  const cf = k.slub.cf;
  const st = k.slub.st;
  const kB = meminfoKb(k, 'Slab');
  const seen = new Set<number>();
  const caches: CompareRow['caches'] = [];
  let traceSlabPages = 0;
  let slack = 0;
  let partialFree = 0;
  let partialSlabs = 0;
  for (const handle of run.replayer.cacheIds()) {
    const id = handle;
    if (seen.has(id) || k.slub.caches[id] === undefined) continue;
    seen.add(id);
    const at = id * CF.FIELDS;
    const size = cf[at + CF.SIZE]!;
    const order = cf[at + CF.ORDER]!;
    const per = cf[at + CF.OBJECTS]!;
    const slabs = cf[at + CF.NR_SLABS]!;
    traceSlabPages += slabs * 2 ** order;
    slack += slabs * (PAGE_SIZE * 2 ** order - per * size);
    const acc = { free: 0, slabs: 0 };
    listFree(k, cf[at + CF.PARTIAL_HEAD]!, k.pages.next, acc);
    for (let cpu = 0; cpu < k.cpus; cpu++) listFree(k, st.cpuPartial[cpu * MAX_CACHES + id] as number, k.pages.slabNext, acc);
    partialFree += acc.free * size;
    partialSlabs += acc.slabs;
    caches.push({ name: k.slub.caches[id]!.name, size, order, objectsPerSlab: per, slabs, objects: cf[at + CF.TOTAL_OBJECTS]! });
  }
  let internal = 0;
  const slow = { alloc: 0, free: 0 };
  const fast = { alloc: 0, free: 0 };
  for (const c of report.caches) {
    // a cache whose slot is smaller than what its objects asked for (a cache kmem shaped differently from the traced one) wastes nothing, not a negative amount
    if (c.slabSize !== null) internal += Math.max(0, c.objects.final * c.slabSize - c.requestedBytes);
    slow.alloc += c.slowpath.alloc;
    slow.free += c.slowpath.free;
    fast.alloc += c.fastpath.alloc;
    fast.free += c.fastpath.free;
  }
  caches.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return {
    label: config.label,
    allocator: 'slub',
    boot: config.boot,
    machine: { memory: k.phys.size, cpus: k.cpus, cpusFromTrace: run.cpusFromTrace, managedPages: meminfoKb(k, 'MemTotal') / (PAGE_SIZE / 1024) },
    slab: { pages: Math.round(kB / (PAGE_SIZE / 1024)), kB },
    traceSlabPages,
    waste: { internal, slack },
    slowpath: slow,
    fastpath: fast,
    partial: { freeBytes: partialFree, slabs: partialSlabs },
    failed: report.slab.failedInReplay + report.pages.failures,
    refused: run.replayer.refused,
    seconds: run.seconds,
    caches,
  };
}

/** What a non-SLUB design gives a comparison row, from its own structures. */
interface DesignFigures {
  traceSlabPages: number | null;
  /** Internal waste computed by the design (SLOB), or null: the report's slots less bytes_req. */
  internal: number | null;
  slack: number | null;
  partial: { freeBytes: number; slabs: number };
  caches: CompareRow['caches'];
}

/** SLAB: the trace's caches' slabs, slack and slabs_partial's free objects. */
function slabFigures(sc: SlabCaches, ids: readonly number[]): DesignFigures {
  const s = sc.s;
  const p = s.pages;
  const caches: CompareRow['caches'] = [];
  let pages = 0;
  let slack = 0;
  let free = 0;
  let slabs = 0;
  for (const id of ids) {
    const c = s.caches[id];
    if (c === undefined || sc.entry(id) === null) continue;
    const { size, num, gfporder } = c.g;
    pages += c.totalSlabs * 2 ** gfporder;
    slack += c.totalSlabs * (PAGE_SIZE * 2 ** gfporder - num * size);
    const head = c.heads[SLABS_PARTIAL]!;
    let guard = p.nr;
    if (head >= 0) {
      let pfn = head;
      do {
        free += (num - p.slabCounters[pfn]!) * size;
        slabs++;
        pfn = p.next[pfn]!;
      } while (pfn !== head && guard-- > 0);
    }
    caches.push({ name: c.name, size, order: gfporder, objectsPerSlab: num, slabs: c.totalSlabs, objects: c.totalSlabs * num });
  }
  return { traceSlabPages: pages, internal: null, slack, partial: { freeBytes: free, slabs }, caches };
}

/** Rows of a SLOB replay whose objects are pages, not heap blocks. */
const isPagesRow = (c: ReplayReport['caches'][number]): boolean =>
  c.name === '(large kmalloc)' || c.name === 'kmalloc (pages)' || (c.objectSize ?? 0) >= PAGE_SIZE;

/** SLOB: the heap's pages less their free bytes and what the live objects asked for; the free lists' pages. */
function slobFigures(slob: Slob, report: ReplayReport): DesignFigures {
  let requested = 0;
  for (const c of report.caches) if (!isPagesRow(c)) requested += c.requestedBytes;
  const free = slob.freeBytes();
  let listed = 0;
  for (let l = 0; l < 3; l++) listed += slob.listPages(l).length;
  return {
    traceSlabPages: null,
    internal: slob.heapPages * PAGE_SIZE - free - requested,
    slack: null,
    partial: { freeBytes: free, slabs: listed },
    caches: [],
  };
}

/** A SLAB or SLOB machine's row: the design's figures, the replay's counts. */
function designRow(config: CompareConfig, run: ReplayRun, report: ReplayReport, f: DesignFigures, allocator: 'slab' | 'slob'): CompareRow {
  const k = run.kernel;
  const kB = meminfoKb(k, 'Slab');
  let internal = 0;
  const slow = { alloc: 0, free: 0 };
  const fast = { alloc: 0, free: 0 };
  for (const c of report.caches) {
    // a cache whose slot is smaller than what its objects asked for (a cache kmem shaped differently from the traced one) wastes nothing, not a negative amount
    if (c.slabSize !== null) internal += Math.max(0, c.objects.final * c.slabSize - c.requestedBytes);
    slow.alloc += c.slowpath.alloc;
    slow.free += c.slowpath.free;
    fast.alloc += c.fastpath.alloc;
    fast.free += c.fastpath.free;
  }
  f.caches.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return {
    label: config.label,
    allocator,
    boot: config.boot,
    machine: { memory: k.phys.size, cpus: k.cpus, cpusFromTrace: run.cpusFromTrace, managedPages: meminfoKb(k, 'MemTotal') / (PAGE_SIZE / 1024) },
    slab: { pages: Math.round(kB / (PAGE_SIZE / 1024)), kB },
    traceSlabPages: f.traceSlabPages,
    waste: { internal: f.internal ?? internal, slack: f.slack },
    slowpath: slow,
    fastpath: fast,
    partial: f.partial,
    failed: report.slab.failedInReplay + report.pages.failures,
    refused: run.replayer.refused,
    seconds: run.seconds,
    caches: f.caches,
  };
}

/** A trace replayed under several configurations. */
export interface CompareResult {
  read: ReplayManyResult['read'];
  header: ReplayManyResult['header'];
  parseSeconds: number;
  rows: CompareRow[];
}

/**
 * Replay the regular file `path` into one machine per configuration (the
 * trace is read twice in all, not twice per machine) and sum each up.
 */
export async function replayCompare(path: string, configs: readonly CompareConfig[], opts: ReplayFileOptions = {}): Promise<CompareResult> {
  const m = await replayFileMany(
    path,
    configs.map((c) => c.boot),
    opts,
  );
  const rows = m.runs.map((run, i) => compareRow(configs[i]!, run, run.replayer.report()));
  return { read: m.read, header: m.header, parseSeconds: m.parseSeconds, rows };
}
