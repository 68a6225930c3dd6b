/**
 * /proc/slabinfo on a SLAB machine (mm/slab_common.c slab_show / cache_show
 * over mm/slab.c get_slabinfo, to 6.4): the tunables and the shared array's
 * fill are SLAB's own, and the file takes writes of
 * "name limit batchcount shared" (slabinfo_write) to retune a cache.
 */
import type { SlabCaches } from '../slab/slab_common.js';
import { EINVAL, errnoError } from './sysctl.js';

const pad = (v: number | string, w: number) => String(v).padStart(w);

/** MAX_SLABINFO_WRITE */
const MAX_SLABINFO_WRITE = 128;

/** The text of /proc/slabinfo: the newest cache first. */
export function slabSlabinfo(sc: SlabCaches): string {
  let out =
    'slabinfo - version: 2.1\n' +
    '# name            <active_objs> <num_objs> <objsize> <objperslab> <pagesperslab> : tunables <limit> <batchcount> <sharedfactor> : slabdata <active_slabs> <num_slabs> <sharedavail>\n';
  for (let i = sc.list.length - 1; i >= 0; i--) {
    const e = sc.list[i]!;
    const c = sc.s.caches[e.id]!;
    const r = sc.s.slabinfo(e.id);
    out +=
      `${e.name.padEnd(17)} ${pad(r.activeObjs, 6)} ${pad(r.numObjs, 6)} ${pad(c.g.size, 6)} ${pad(c.g.num, 4)} ${pad(2 ** c.g.gfporder, 4)}` +
      ` : tunables ${pad(c.limit, 4)} ${pad(c.batchcount, 4)} ${pad(c.shared, 4)}` +
      ` : slabdata ${pad(r.activeSlabs, 6)} ${pad(r.numSlabs, 6)} ${pad(r.sharedAvail, 6)}\n`;
  }
  return out;
}

/**
 * slabinfo_write(): "name limit batchcount shared". An unknown cache or a
 * malformed line is -EINVAL; values out of range (limit < 1, batchcount < 1
 * or above limit, shared < 0) are accepted and ignored, as the kernel does.
 */
export function slabinfoWrite(sc: SlabCaches, text: string, cpu: number): void {
  const fail = (why: string) => {
    throw errnoError('/proc/slabinfo', 'EINVAL', EINVAL, why);
  };
  if (text.length > MAX_SLABINFO_WRITE) fail(`more than ${MAX_SLABINFO_WRITE} bytes`);
  const space = text.indexOf(' ');
  if (space < 0) fail('expected "name limit batchcount shared"');
  const name = text.slice(0, space);
  const m = /^\s*([+-]?\d+)\s+([+-]?\d+)\s+([+-]?\d+)/.exec(text.slice(space + 1));
  if (m === null) fail('expected "name limit batchcount shared"');
  const [limit, batchcount, shared] = [Number(m![1]), Number(m![2]), Number(m![3])];
  for (let i = sc.list.length - 1; i >= 0; i--) {
    const e = sc.list[i]!;
    if (e.name !== name) continue;
    if (limit < 1 || batchcount < 1 || batchcount > limit || shared < 0) return;
    sc.s.tune(e.id, limit, batchcount, shared, cpu);
    return;
  }
  fail(`no cache named ${JSON.stringify(name)}`);
}
