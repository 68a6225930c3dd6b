/**
 * /sys/kernel/debug/slab/<cache>/alloc_traces and free_traces (mm/slub.c,
 * CONFIG_SLUB_DEBUG with CONFIG_DEBUG_FS): one entry per location, the
 * locations that src/slub/debug.ts traceLocations() gathers, printed as
 * slab_debugfs_show() prints them:
 *
 *   "%7ld " count, then the caller ("%pS") or "<not-available>",
 *   " waste=%lu/%lu" (count * waste, waste) when waste is not 0,
 *   " age=%ld/%llu/%ld" (min, sum / count, max) or " age=%ld" when the
 *   sum equals the minimum, " pid=%ld-%ld" or " pid=%ld",
 *   " cpus=%*pbl" when more than one CPU is online,
 *   (" nodes=%*pbl" only with more than one node: never in kmem),
 *   then, with a stack saved (CONFIG_STACKDEPOT), "\n" and one
 *   "        %pS\n" per frame; every entry ends with "\n".
 *
 * No location at all prints "No data\n". The directory exists only for a
 * cache with SLAB_STORE_USER (debugfs_slab_add()); tools/mm/slabinfo reads
 * these two files for its -r report.
 */

import { CF } from '../slub/slab.js';
import type { SlabCommon } from '../slub/slab_common.js';
import { SLAB_STORE_USER } from '../slub/slab_flags.js';
import type { Slub } from '../slub/slub.js';

/** "%*pbl" of a CPU set: ascending ranges, "0-2,5". */
export function bitmapList(bits: Iterable<number>): string {
  const sorted = [...bits].sort((a, b) => a - b);
  const out: string[] = [];
  for (let i = 0; i < sorted.length; ) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j]! + 1) j++;
    out.push(i === j ? `${sorted[i]}` : `${sorted[i]}-${sorted[j]}`);
    i = j + 1;
  }
  return out.join(',');
}

/** The text of alloc_traces (alloc) or free_traces of cache `s`. */
export function slabTraces(slub: Slub, s: number, alloc: boolean): string {
  const locs = slub.debug?.traceLocations(s, alloc) ?? [];
  if (locs.length === 0) return 'No data\n';
  const online = slub.st.cpus;
  let out = '';
  for (const l of locs) {
    out += `${String(l.count).padStart(7)} ${l.caller ?? '<not-available>'}`;
    if (l.waste !== 0) out += ` waste=${l.count * l.waste}/${l.waste}`;
    out += l.sumTime !== l.minTime ? ` age=${l.minTime}/${Math.floor(l.sumTime / l.count)}/${l.maxTime}` : ` age=${l.minTime}`;
    out += l.minPid !== l.maxPid ? ` pid=${l.minPid}-${l.maxPid}` : ` pid=${l.minPid}`;
    if (online > 1 && l.cpus.size > 0) out += ` cpus=${bitmapList(l.cpus)}`;
    if (l.handle !== 0) {
      out += '\n';
      for (const f of l.stack) out += `        ${f}\n`;
    }
    out += '\n';
  }
  return out;
}

/** Resolve /sys/kernel/debug/slab/<cache>/{alloc,free}_traces; undefined for any other path. */
export function slabDebugfsRead(slab: SlabCommon | undefined, path: string): string | undefined {
  if (slab === undefined) return undefined;
  const m = /^\/sys\/kernel\/debug\/slab\/([^/]+)\/(alloc_traces|free_traces)$/.exec(path);
  if (!m) return undefined;
  const slub = slab.slub;
  const s = slab.findByName(m[1]!);
  // The directory is named after the cache itself (a cache with U never merges, so no alias leads here).
  if (s < 0 || slub.caches[s]?.name !== m[1]) return undefined;
  if (!(slub.cf[s * CF.FIELDS + CF.FLAGS]! & SLAB_STORE_USER)) return undefined;
  return slabTraces(slub, s, m[2] === 'alloc_traces');
}
