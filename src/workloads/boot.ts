/**
 * The built-in "boot" workload: a system coming up. Caches with the object
 * sizes and flags of a real x86-64 6.x machine are created, filled the way
 * early boot fills them (dentries and inodes for the root filesystem, VMAs
 * and maple nodes for init's address space, kmalloc traffic throughout), and
 * part of it is freed again as short-lived objects die.
 */

import type { Kernel } from '../kernel.js';
import { __GFP_RECLAIMABLE, GFP_KERNEL } from '../page_alloc/gfp.js';
import { getCache } from '../slub/known_caches.js';
import { generatorWorkload, rnd, type Workload, type WorkloadSteps } from './workload.js';

/** The caches boot fills, in the order it first touches them. */
const CACHES = ['task_struct', 'mm_struct', 'vm_area_struct', 'maple_node', 'dentry', 'inode_cache', 'filp', 'skbuff_head_cache'];

export interface WorkloadResult {
  steps: number;
  live: number;
}

/** The boot workload's operations, one yield per allocator call. */
export function* bootSteps(k: Kernel, out: { live: number } = { live: 0 }): WorkloadSteps {
  const ids = CACHES.map((name) => getCache(k, name));
  const live: { cache: number; addr: number }[] = [];
  for (;;) {
    const cpu = Math.floor(rnd(k) * k.cpus);
    const r = rnd(k);
    k.onCpu(cpu, () => {
      if (r < 0.62 || live.length === 0) {
        if (rnd(k) < 0.55) {
          const c = Math.floor(rnd(k) * ids.length);
          const addr = k.kmemCacheAlloc(ids[c]!, GFP_KERNEL);
          if (addr) live.push({ cache: ids[c]!, addr });
        } else {
          // kmalloc traffic: mostly small, a tail up to a few pages.
          const u = rnd(k);
          const size = u < 0.8 ? 8 + Math.floor(rnd(k) * 248) : u < 0.97 ? 256 + Math.floor(rnd(k) * 3840) : 4096 + Math.floor(rnd(k) * 12288);
          const addr = k.kmalloc(size, u < 0.1 ? GFP_KERNEL | __GFP_RECLAIMABLE : GFP_KERNEL);
          if (addr) live.push({ cache: -1, addr });
        }
      } else {
        const at = Math.floor(rnd(k) * live.length);
        const o = live[at]!;
        live[at] = live[live.length - 1]!;
        live.pop();
        if (o.cache < 0) k.kfree(o.addr);
        else k.kmemCacheFree(o.cache, o.addr);
      }
    });
    out.live = live.length;
    k.tick(1000);
    yield;
  }
}

export function bootWorkload(k: Kernel): Workload {
  return generatorWorkload('boot', bootSteps(k));
}

/** Run `steps` operations with a seeded generator; returns what is left allocated. */
export function runBootWorkload(k: Kernel, steps: number): WorkloadResult {
  const out = { live: 0 };
  generatorWorkload('boot', bootSteps(k, out)).run(steps);
  return { steps, live: out.live };
}
