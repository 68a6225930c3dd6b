/**
 * The slab caches of a real x86-64 6.x machine that kmem knows by name, with
 * object_size as /sys/kernel/slab/<cache>/object_size reports it and flags
 * as the cache's kmem_cache_create() call passes them. With these flags
 * kmem's geometry gives the slot sizes a 6.6 machine's /proc/slabinfo shows
 * (task_struct 4288, sighand_cache 2112, vm_area_struct, dentry 192, filp
 * 256, ...).
 *
 * One table for every layer above SLUB that makes such caches: the built-in
 * workloads (src/workloads/) and trace replay (src/trace/), which name
 * caches the way a real trace does.
 */

import type { KmemCacheArgs } from './slab_common.js';
import { SLAB_ACCOUNT, SLAB_HWCACHE_ALIGN, SLAB_PANIC, SLAB_RECLAIM_ACCOUNT, SLAB_TYPESAFE_BY_RCU } from './slab_flags.js';

export interface CacheSpec {
  /** object_size */
  size: number;
  /** SLAB_* flags */
  flags: number;
  /** usersize (a cache with a usercopy region never merges) */
  usersize?: number;
}

const HW = SLAB_HWCACHE_ALIGN;
const ACC = SLAB_ACCOUNT;
const RCL = SLAB_RECLAIM_ACCOUNT;
const RCU = SLAB_TYPESAFE_BY_RCU;

/** Real caches by name. */
export const REAL_CACHES: Readonly<Record<string, CacheSpec>> = {
  // processes
  task_struct: { size: 4288, flags: HW | ACC },
  mm_struct: { size: 1344, flags: HW | ACC },
  signal_cache: { size: 1080, flags: HW | SLAB_PANIC | ACC },
  sighand_cache: { size: 2088, flags: HW | SLAB_PANIC | RCU | ACC },
  files_cache: { size: 704, flags: HW | SLAB_PANIC | ACC },
  fs_cache: { size: 56, flags: HW | SLAB_PANIC | ACC },
  cred_jar: { size: 184, flags: HW | SLAB_PANIC | ACC },
  pid: { size: 112, flags: HW | SLAB_PANIC | ACC },
  // address spaces
  vm_area_struct: { size: 176, flags: HW | ACC | RCU },
  maple_node: { size: 256, flags: HW },
  anon_vma: { size: 96, flags: SLAB_PANIC | RCU | ACC },
  anon_vma_chain: { size: 64, flags: SLAB_PANIC | ACC },
  // files
  dentry: { size: 192, flags: HW | RCL | ACC },
  inode_cache: { size: 600, flags: HW | RCL | ACC },
  filp: { size: 256, flags: HW | ACC | RCU },
  names_cache: { size: 4096, flags: HW | SLAB_PANIC, usersize: 4096 },
  lsm_file_cache: { size: 24, flags: SLAB_PANIC },
  // network
  skbuff_head_cache: { size: 232, flags: HW | SLAB_PANIC, usersize: 24 },
  skbuff_fclone_cache: { size: 480, flags: HW | SLAB_PANIC },
  skbuff_small_head: { size: 704, flags: HW | SLAB_PANIC, usersize: 640 },
  sock_inode_cache: { size: 832, flags: HW | RCL | ACC },
  TCP: { size: 2296, flags: HW | RCU | ACC, usersize: 8 },
  request_sock_TCP: { size: 296, flags: RCU | ACC },
};

/** What getCache() needs of a kernel (kmem's Kernel has both). */
export interface CacheMaker {
  kmemCacheByName(name: string): number;
  kmemCacheCreate(name: string, size: number, args?: KmemCacheArgs): number;
}

/**
 * The cache called `name`: an existing one (kmalloc caches, caches made
 * earlier, aliases) or a new one made from REAL_CACHES, or from `size` and
 * `flags` when the name is not in the table.
 */
export function getCache(k: CacheMaker, name: string, size?: number, flags = 0): number {
  const id = k.kmemCacheByName(name);
  if (id >= 0) return id;
  const spec = REAL_CACHES[name];
  if (spec !== undefined) {
    return k.kmemCacheCreate(name, size ?? spec.size, {
      flags: spec.flags,
      ...(spec.usersize !== undefined ? { useroffset: 0, usersize: Math.min(spec.usersize, size ?? spec.size) } : {}),
    });
  }
  if (size === undefined) throw new RangeError(`cache ${name}: unknown cache and no object size given`);
  return k.kmemCacheCreate(name, size, { flags });
}
