/**
 * kmem_cache_create() and kmem_cache_destroy() with CPU threads: under
 * slab_mutex, after catching up with the shared cache table, so that every
 * CPU hands out the same next cache id and finds every name; the change is
 * then written to the table for the other CPUs (src/smp/smp.ts).
 */
import type { SlabCommon } from '../slub/slab_common.js';
import type { SmpState } from './smp.js';

/** Run create (which returns a cache id) under slab_mutex and publish what it made: a new cache, or a merge into one. */
export function smpCacheCreate(smp: SmpState, slab: SlabCommon, name: string, create: () => number): number {
  smp.slabMutexLock();
  try {
    const known = new Set(slab.slabCaches);
    const id = create();
    smp.publish(known.has(id) ? { t: 'alias', id, name } : slab.cacheRecord(id));
    return id;
  } finally {
    smp.slabMutexUnlock();
  }
}

/** Run destroy (of cache id) under slab_mutex and publish it; returns what destroy returned. */
export function smpCacheDestroy<T>(smp: SmpState, slab: SlabCommon, id: number, destroy: () => T): T {
  smp.slabMutexLock();
  try {
    const before = slab.slabCaches.includes(id);
    const out = destroy();
    if (before && !slab.slabCaches.includes(id)) smp.publish({ t: 'destroy', id, released: slab.slub.caches[id] === undefined });
    return out;
  } finally {
    smp.slabMutexUnlock();
  }
}
