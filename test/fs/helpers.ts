/** What the test/fs files read of a machine. */
import type { Kernel } from '../../src/index.js';

/** The cache's in-use objects: after kmem_cache_shrink() (echo 1 > /sys/kernel/slab/<cache>/shrink) flushed the cpu slabs, slabinfo's active_objs counts exactly the allocated objects. */
export function active(k: Kernel, cache: string): number {
  const id = k.kmemCacheByName(cache);
  if (id < 0) return 0;
  k.kmemCacheShrink(id);
  const line = k.proc
    .read('/proc/slabinfo')
    .split('\n')
    .find((l) => l.startsWith(`${cache} `));
  return Number(line?.split(/\s+/)[1] ?? 0);
}

/** /proc/sys/fs/<file> (dentry-state, inode-state, inode-nr): its tab-separated numbers. */
export function fsState(k: Kernel, file: string): number[] {
  return k.proc.read(`/proc/sys/fs/${file}`).trim().split('\t').map(Number);
}
