/**
 * /proc/slabinfo (mm/slab_common.c slab_show/cache_show, mm/slub.c
 * get_slabinfo) and /sys/kernel/slab/<cache>/<attr> (mm/slub.c sysfs).
 */
import { CF, MAX_CACHES, NR_SLUB_STAT_ITEMS, statItems70, statNames, statNames70 } from '../slub/slab.js';
import type { SlabCommon } from '../slub/slab_common.js';
import {
  SLAB_CACHE_DMA,
  SLAB_CONSISTENCY_CHECKS,
  SLAB_HWCACHE_ALIGN,
  SLAB_POISON,
  SLAB_RECLAIM_ACCOUNT,
  SLAB_RED_ZONE,
  SLAB_STORE_USER,
  SLAB_TRACE,
  SLAB_TYPESAFE_BY_RCU,
} from '../slub/slab_flags.js';

const pad = (v: number | string, w: number) => String(v).padStart(w);

/** get_slabinfo(): the numbers one /proc/slabinfo line shows. */
export interface SlabinfoRow {
  name: string;
  activeObjs: number;
  numObjs: number;
  objsize: number;
  objperslab: number;
  pagesperslab: number;
  activeSlabs: number;
  numSlabs: number;
}

export function slabinfoRows(sc: SlabCommon): SlabinfoRow[] {
  const cf = sc.cf;
  const rows: SlabinfoRow[] = [];
  for (let k = sc.slabCaches.length - 1; k >= 0; k--) {
    const id = sc.slabCaches[k]!;
    const r = id * CF.FIELDS;
    const numObjs = cf[r + CF.TOTAL_OBJECTS]!;
    rows.push({
      name: sc.slub.caches[id]!.name,
      activeObjs: numObjs - sc.slub.countPartialFree(id),
      numObjs,
      objsize: cf[r + CF.SIZE]!,
      objperslab: cf[r + CF.OBJECTS]!,
      pagesperslab: 1 << cf[r + CF.ORDER]!,
      activeSlabs: cf[r + CF.NR_SLABS]!,
      numSlabs: cf[r + CF.NR_SLABS]!,
    });
  }
  return rows;
}

export function slabinfo(sc: SlabCommon): string {
  let out =
    'slabinfo - version: 2.1\n' +
    '# name            <active_objs> <num_objs> <objsize> <objperslab> <pagesperslab> : tunables <limit> <batchcount> <sharedfactor> : slabdata <active_slabs> <num_slabs> <sharedavail>\n';
  for (const row of slabinfoRows(sc)) {
    out +=
      `${row.name.padEnd(17)} ${pad(row.activeObjs, 6)} ${pad(row.numObjs, 6)} ${pad(row.objsize, 6)} ${pad(row.objperslab, 4)} ${pad(row.pagesperslab, 4)}` +
      ` : tunables ${pad(0, 4)} ${pad(0, 4)} ${pad(0, 4)}` +
      ` : slabdata ${pad(row.activeSlabs, 6)} ${pad(row.numSlabs, 6)} ${pad(0, 6)}\n`;
  }
  return out;
}

/** "%lu" then " N0=%lu" when non-zero (CONFIG_NUMA), then a newline. */
function nodeCount(x: number): string {
  return x !== 0 ? `${x} N0=${x}\n` : `${x}\n`;
}

/** The text of /sys/kernel/slab/<cache>/<attr>, or undefined if there is no such attribute. */
export function slabAttr(sc: SlabCommon, id: number, attr: string): string | undefined {
  const cf = sc.cf;
  const r = id * CF.FIELDS;
  const slub = sc.slub;
  const flags = cf[r + CF.FLAGS]!;
  const bit = (f: number) => `${flags & f ? 1 : 0}\n`;
  const cpus = slub.st.cpus;
  switch (attr) {
    case 'object_size':
      return `${cf[r + CF.OBJECT_SIZE]}\n`;
    case 'slab_size':
      return `${cf[r + CF.SIZE]}\n`;
    case 'align':
      return `${cf[r + CF.ALIGN]}\n`;
    case 'order':
      return `${cf[r + CF.ORDER]}\n`;
    case 'objs_per_slab':
      return `${cf[r + CF.OBJECTS]}\n`;
    case 'min_partial':
      return `${cf[r + CF.MIN_PARTIAL]}\n`;
    case 'cpu_partial':
      return `${cf[r + CF.CPU_PARTIAL]}\n`;
    case 'aliases': {
      const refcount = cf[r + CF.REFCOUNT]!;
      return `${refcount < 0 ? 0 : refcount - 1}\n`;
    }
    case 'ctor': {
      const info = slub.caches[id]!;
      return info.ctor ? `${info.ctorName}+0x0/0x0\n` : '';
    }
    case 'hwcache_align':
      return bit(SLAB_HWCACHE_ALIGN);
    case 'reclaim_account':
      return bit(SLAB_RECLAIM_ACCOUNT);
    case 'destroy_by_rcu':
      return bit(SLAB_TYPESAFE_BY_RCU);
    case 'cache_dma':
      return bit(SLAB_CACHE_DMA);
    case 'sanity_checks':
      return bit(SLAB_CONSISTENCY_CHECKS);
    case 'trace':
      return bit(SLAB_TRACE);
    case 'red_zone':
      return bit(SLAB_RED_ZONE);
    case 'poison':
      return bit(SLAB_POISON);
    case 'store_user':
      return bit(SLAB_STORE_USER);
    case 'shrink':
    case 'validate':
      // Write-only actions (shrink_store, validate_store); their show functions print nothing.
      return '';
    case 'sheaf_capacity':
      // s->sheaf_capacity (6.18, "%u\n"): nonzero only for a cache created
      // with kmem_cache_args.sheaf_capacity and no slub_debug flags.
      return `${cf[r + CF.SHEAF_CAPACITY]}\n`;
    case 'usersize':
      return `${cf[r + CF.USERSIZE]}\n`;
    case 'remote_node_defrag_ratio':
      return '100\n';
    case 'slabs':
      return nodeCount(cf[r + CF.NR_SLABS]!);
    case 'partial':
      return nodeCount(cf[r + CF.NR_PARTIAL]!);
    case 'total_objects':
      return nodeCount(cf[r + CF.TOTAL_OBJECTS]!);
    case 'objects':
      return nodeCount(cf[r + CF.TOTAL_OBJECTS]! - slub.countPartialFree(id));
    case 'objects_partial':
      return nodeCount(slub.countPartialInuse(id));
    case 'cpu_slabs': {
      let n = 0;
      // show_slab_objects(SO_CPU): a CPU without a cpu slab is skipped,
      // its cpu partial slabs with it.
      for (let cpu = 0; cpu < cpus; cpu++) {
        if (slub.st.cpuSlab[cpu * MAX_CACHES + id]! < 0) continue;
        n += 1 + slub.cpuPartialCount(id, cpu);
      }
      return nodeCount(n);
    }
    case 'slabs_cpu_partial': {
      let slabs = 0;
      let per = '';
      for (let cpu = 0; cpu < cpus; cpu++) {
        const c = slub.cpuPartialCount(id, cpu);
        slabs += c;
        if (slub.st.cpuPartial[cpu * MAX_CACHES + id]! >= 0) per += ` C${cpu}=${Math.floor((c * cf[r + CF.OBJECTS]!) / 2)}(${c})`;
      }
      return `${Math.floor((slabs * cf[r + CF.OBJECTS]!) / 2)}(${slabs})${per}\n`;
    }
  }
  // 7.0's stat files: its enum stat_item's names (statNames70), each reading one of kmem's counters.
  const at = ((slub.kernel70 ? statNames70 : statNames) as readonly string[]).indexOf(attr);
  const item = at >= 0 && slub.kernel70 ? statItems70[at]! : at;
  if (item >= 0 && slub.statsOn) {
    let sum = 0;
    let per = '';
    for (let cpu = 0; cpu < cpus; cpu++) {
      const v = slub.st.stats[(cpu * MAX_CACHES + id) * NR_SLUB_STAT_ITEMS + item]!;
      sum += v;
      if (v !== 0) per += ` C${cpu}=${v}`;
    }
    return `${sum}${per}\n`;
  }
  return undefined;
}

/** Attributes a cache directory lists. */
export const slabAttrNames = [
  'aliases',
  'align',
  'cache_dma',
  'cpu_partial',
  'cpu_slabs',
  'ctor',
  'destroy_by_rcu',
  'hwcache_align',
  'min_partial',
  'object_size',
  'objects',
  'objects_partial',
  'objs_per_slab',
  'order',
  'partial',
  'poison',
  'reclaim_account',
  'red_zone',
  'remote_node_defrag_ratio',
  'sanity_checks',
  'sheaf_capacity',
  'shrink',
  'slab_size',
  'slabs',
  'slabs_cpu_partial',
  'store_user',
  'total_objects',
  'trace',
  'usersize',
  'validate',
];

/** Resolve /sys/kernel/slab/<name>/<attr>: a cache name, an alias, or a unique :id directory. */
export function sysSlabRead(sc: SlabCommon, path: string): string | undefined {
  const m = /^\/sys\/kernel\/slab\/([^/]+)\/([^/]+)$/.exec(path);
  if (!m) return undefined;
  const [, dir, attr] = m;
  let id = sc.findByName(dir!);
  if (id < 0) {
    for (const c of sc.slabCaches) {
      if (sc.slub.caches[c]!.sysfsName === dir) id = c;
    }
  }
  if (id < 0) return undefined;
  return slabAttr(sc, id, attr!);
}
