/**
 * Shrinkers (mm/shrinker.c): caches outside the LRU lists that reclaim asks
 * to give memory back. Each registered shrinker counts its freeable objects
 * (count_objects) and frees some on request (scan_objects); shrink_slab()
 * asks each in turn with do_shrink_slab()'s pressure: freeable >> priority,
 * times 4 / seeks (with DEFAULT_SEEKS 2, twice the shifted count), plus the
 * work deferred by earlier calls >> priority, at most twice the freeable
 * objects, scanned in batches of `batch` (SHRINK_BATCH 128); what is not
 * scanned is deferred. Scans count slabs_scanned.
 *
 * kmem registers two: the root file system's superblock shrinker (its
 * dentry and inode caches, src/fs/super.ts, attachSuperBlock below) and
 * workingset's shadow-node shrinker
 * (mm/workingset.c count_shadow_nodes / scan_shadow_nodes): kmem's shadow
 * entries live beside the xarray (src/vm/workingset.ts), so a "shadow node"
 * is a 64-index block of a file (what one xa_node leaf covers) holding
 * shadow entries and no page; there may be node_present_pages >> 3 of them
 * (a density of 1/8 of the slots) before the oldest are dropped, each drop
 * counting workingset_nodereclaim.
 */
import { SuperBlock } from '../fs/super.js';
import { GFP_KERNEL } from '../page_alloc/gfp.js';
import { MAX_NR_ZONES, Z_PRESENT } from '../page_alloc/mmzone.js';
import { pageCache } from './filemap.js';
import type { Vm } from './vm.js';
import { SHADOW_BLOCK_SHIFT } from './workingset.js';

export const SHRINK_STOP = -1;
export const SHRINK_EMPTY = -2;
export const DEFAULT_SEEKS = 2;
export const SHRINK_BATCH = 128;

/** struct shrinker */
export interface Shrinker {
  readonly name: string;
  /** freeable objects, 0, or SHRINK_EMPTY */
  countObjects(vm: Vm): number;
  /** free up to nrToScan objects: the number freed, or SHRINK_STOP */
  scanObjects(vm: Vm, nrToScan: number): number;
  readonly seeks: number;
  /** 0: SHRINK_BATCH */
  readonly batch: number;
  /** nr_deferred: scan work left over by earlier calls */
  nrDeferred: number;
}

const registry = new WeakMap<Vm, Shrinker[]>();

/** The machine's registered shrinkers (workingset's shadow-node shrinker first). */
export function shrinkers(vm: Vm): Shrinker[] {
  let l = registry.get(vm);
  if (l === undefined) {
    l = [shadowNodeShrinker()];
    registry.set(vm, l);
  }
  return l;
}

/** shrinker_register() */
export function registerShrinker(vm: Vm, s: Shrinker): void {
  if (typeof s !== 'object' || s === null || typeof s.countObjects !== 'function' || typeof s.scanObjects !== 'function') {
    throw new TypeError('s: expected a shrinker with countObjects and scanObjects');
  }
  shrinkers(vm).push(s);
}

/** shrinker_free() */
export function unregisterShrinker(vm: Vm, s: Shrinker): void {
  const l = shrinkers(vm);
  const i = l.indexOf(s);
  if (i >= 0) l.splice(i, 1);
}

/**
 * do_shrink_slab(): scan the shrinker in proportion to its freeable objects
 * and the priority, plus the deferred work; keep what was not done (at most
 * twice the freeable objects) for next time. Returns the objects freed (or
 * what count_objects said when that was 0 / SHRINK_EMPTY).
 */
export function doShrinkSlab(vm: Vm, s: Shrinker, priority: number): number {
  const batchSize = s.batch > 0 ? s.batch : SHRINK_BATCH;
  const freeable = s.countObjects(vm);
  if (freeable === 0 || freeable === SHRINK_EMPTY) return freeable;
  const nr = s.nrDeferred;
  s.nrDeferred = 0;
  let delta: number;
  if (s.seeks > 0) delta = Math.floor((Math.floor(freeable / 2 ** priority) * 4) / s.seeks);
  else delta = Math.floor(freeable / 2);
  let totalScan = Math.floor(nr / 2 ** priority) + delta;
  totalScan = Math.min(totalScan, 2 * freeable);
  let freed = 0;
  let scanned = 0;
  while (totalScan >= batchSize || totalScan >= freeable) {
    const nrToScan = Math.min(batchSize, totalScan);
    const ret = s.scanObjects(vm, nrToScan);
    if (ret === SHRINK_STOP) break;
    freed += ret;
    vm.lruEv.slabsScanned += nrToScan;
    totalScan -= nrToScan;
    scanned += nrToScan;
    if (nrToScan === 0) break;
  }
  const nextDeferred = Math.min(Math.max(nr + delta - scanned, 0), 2 * freeable);
  s.nrDeferred += nextDeferred;
  return freed;
}

/** shrink_slab(): every registered shrinker, at this priority. Returns the objects freed. */
export function shrinkSlab(vm: Vm, _gfp: number, priority: number): number {
  let freed = 0;
  for (const s of shrinkers(vm)) {
    const ret = doShrinkSlab(vm, s, priority);
    if (ret > 0) freed += ret;
  }
  return freed;
}

const NODE_SHIFT = SHADOW_BLOCK_SHIFT;

/** The shadow-only 64-index blocks (shadows, no page), oldest block first: [address_space ino, block]. */
function shadowNodes(vm: Vm, max: number): [number, number][] {
  const out: [number, number][] = [];
  for (const as of pageCache(vm).spaces.values()) {
    if (as.shadows.shadowOnly === 0) continue;
    for (const b of as.shadows.blocks.keys()) {
      if (out.length >= max) return out;
      if (!as.shadows.pages.has(b)) out.push([as.ino, b]);
    }
  }
  return out;
}

/** workingset_nodes: the shadow-only blocks now. */
export function workingsetNodes(vm: Vm): number {
  let n = 0;
  for (const as of pageCache(vm).spaces.values()) n += as.shadows.shadowOnly;
  return n;
}

function nodePresentPages(vm: Vm): number {
  let n = 0;
  for (let z = 0; z < MAX_NR_ZONES; z++) n += vm.k.pageAlloc.zones.get(z, Z_PRESENT);
  return n;
}

/** The shadow-node shrinker: count_shadow_nodes() / scan_shadow_nodes() (see the file's comment). */
function shadowNodeShrinker(): Shrinker {
  return {
    name: 'mm-shadow',
    seeks: 0,
    batch: 0,
    nrDeferred: 0,
    countObjects(vm: Vm): number {
      const nodes = workingsetNodes(vm);
      if (nodes === 0) return SHRINK_EMPTY;
      const maxNodes = Math.floor(nodePresentPages(vm) / 2 ** (NODE_SHIFT - 3));
      return nodes <= maxNodes ? 0 : nodes - maxNodes;
    },
    scanObjects(vm: Vm, nrToScan: number): number {
      const pc = pageCache(vm);
      let freed = 0;
      for (const [ino, b] of shadowNodes(vm, nrToScan)) {
        const as = pc.spaces.get(ino);
        if (as === undefined) continue;
        for (let j = b * 2 ** NODE_SHIFT; j < (b + 1) * 2 ** NODE_SHIFT; j++) as.shadows.delete(j);
        vm.lruEv.workingsetNodereclaim++;
        freed++;
      }
      return freed;
    },
  };
}

/**
 * drop_slab(): shrink_slab() at priority 0 over and over while the last
 * round freed more than 1 << (the rounds so far) objects (drop_caches 2).
 */
export function dropSlab(vm: Vm): number {
  let shift = 0;
  let total = 0;
  let freed: number;
  do {
    freed = shrinkSlab(vm, GFP_KERNEL, 0);
    total += freed;
  } while (Math.floor(freed / 2 ** shift++) > 1);
  return total;
}

/**
 * alloc_super() for the root file system: its dentry and inode caches, told
 * by the page cache whether an inode's mapping is empty, and its "sb-"
 * shrinker registered; /proc/sys/fs/dentry-state reads them.
 */
export function attachSuperBlock(vm: Vm): SuperBlock {
  const sysctl = vm.k.proc.sysctl;
  const sb = new SuperBlock(
    vm.k,
    {
      mappingEmpty: (ino) => {
        const as = pageCache(vm).spaces.get(ino);
        return as === undefined || (as.nrpages === 0 && as.shadows.size === 0);
      },
      evictMapping: (ino) => {
        const pc = pageCache(vm);
        const as = pc.spaces.get(ino);
        if (as !== undefined && as.nrpages === 0 && as.shadows.size === 0 && as.iMmap.size === 0) pc.spaces.delete(ino);
      },
    },
    () => [sysctl.vfsCachePressure, sysctl.vfsCachePressureDenom],
  );
  vm.fs.sb = sb;
  registerShrinker(vm, sb.shrinker);
  // fs/dcache.c dentry_stat: nr_dentry, nr_unused, age_limit 45, want_pages 0, nr_negative, dummy 0
  vm.k.proc.register('/proc/sys/fs/dentry-state', () => `${sb.dcache.nrDentry}\t${sb.dcache.nrUnused}\t45\t0\t${sb.dcache.nrNegative}\t0\n`);
  // fs/inode.c inodes_stat: nr_inodes, nr_unused, then five zeros
  vm.k.proc.register('/proc/sys/fs/inode-state', () => `${sb.icache.nrInodes}\t${sb.icache.nrUnused}\t0\t0\t0\t0\t0\n`);
  vm.k.proc.register('/proc/sys/fs/inode-nr', () => `${sb.icache.nrInodes}\t${sb.icache.nrUnused}\n`);
  return sb;
}
