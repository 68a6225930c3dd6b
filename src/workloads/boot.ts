/**
 * The built-in "boot" workload: a system coming up. Caches with the object
 * sizes and flags of a real x86-64 6.x machine are created, filled the way
 * early boot fills them (dentries and inodes for the root filesystem, VMAs
 * and maple nodes for init's address space, kmalloc traffic throughout), and
 * part of it is freed again as short-lived objects die.
 */

import type { Kernel } from '../kernel.js';
import { __GFP_RECLAIMABLE, GFP_KERNEL } from '../page_alloc/gfp.js';
import { SLAB_ACCOUNT, SLAB_HWCACHE_ALIGN, SLAB_RECLAIM_ACCOUNT, SLAB_TYPESAFE_BY_RCU } from '../slub/slab_flags.js';

/** name, object size, flags: as /sys/kernel/slab reports them on a 6.x machine. */
const CACHES: [string, number, number][] = [
  ['task_struct', 4288, SLAB_HWCACHE_ALIGN | SLAB_ACCOUNT],
  ['mm_struct', 1344, SLAB_HWCACHE_ALIGN | SLAB_ACCOUNT],
  ['vm_area_struct', 176, SLAB_HWCACHE_ALIGN | SLAB_ACCOUNT | SLAB_TYPESAFE_BY_RCU],
  ['maple_node', 256, SLAB_HWCACHE_ALIGN],
  ['dentry', 192, SLAB_HWCACHE_ALIGN | SLAB_RECLAIM_ACCOUNT | SLAB_ACCOUNT],
  ['inode_cache', 600, SLAB_HWCACHE_ALIGN | SLAB_RECLAIM_ACCOUNT | SLAB_ACCOUNT],
  ['filp', 256, SLAB_HWCACHE_ALIGN | SLAB_ACCOUNT | SLAB_TYPESAFE_BY_RCU],
  ['skbuff_head_cache', 232, SLAB_HWCACHE_ALIGN],
];

export interface WorkloadResult {
  steps: number;
  live: number;
}

/** Run `steps` operations with a seeded generator; returns what is left allocated. */
export function runBootWorkload(k: Kernel, steps: number): WorkloadResult {
  const ids = CACHES.map(([name, size, flags]) => k.kmemCacheCreate(name, size, { flags }));
  const live: { cache: number; addr: number }[] = [];
  const rnd = () => k.rand32() / 2 ** 32;
  for (let step = 0; step < steps; step++) {
    const cpu = Math.floor(rnd() * k.cpus);
    const r = rnd();
    k.onCpu(cpu, () => {
      if (r < 0.62 || live.length === 0) {
        if (rnd() < 0.55) {
          const c = Math.floor(rnd() * ids.length);
          const addr = k.kmemCacheAlloc(ids[c]!, GFP_KERNEL);
          if (addr) live.push({ cache: ids[c]!, addr });
        } else {
          // kmalloc traffic: mostly small, a tail up to a few pages.
          const u = rnd();
          const size = u < 0.8 ? 8 + Math.floor(rnd() * 248) : u < 0.97 ? 256 + Math.floor(rnd() * 3840) : 4096 + Math.floor(rnd() * 12288);
          const addr = k.kmalloc(size, u < 0.1 ? GFP_KERNEL | __GFP_RECLAIMABLE : GFP_KERNEL);
          if (addr) live.push({ cache: -1, addr });
        }
      } else {
        const at = Math.floor(rnd() * live.length);
        const o = live[at]!;
        live[at] = live[live.length - 1]!;
        live.pop();
        if (o.cache < 0) k.kfree(o.addr);
        else k.kmemCacheFree(o.cache, o.addr);
      }
    });
    k.tick(1000);
  }
  return { steps, live: live.length };
}
