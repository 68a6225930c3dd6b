/**
 * The built-in "leak" workload: a steady leak in one cache.
 *
 * The boot workload's balanced traffic runs in the background, and one call
 * path in twenty operations allocates a 160-byte object with kmalloc and
 * never frees it, the way a driver that forgets a kfree() on an error path
 * leaks. kmalloc-192 grows without bound while everything else stays level:
 * watch it climb in `kmem top`, or boot with `--slub-debug U` so the objects
 * carry the allocation track.
 */

import type { Kernel } from '../kernel.js';
import { GFP_KERNEL } from '../page_alloc/gfp.js';
import { bootSteps } from './boot.js';
import { generatorWorkload, rnd, rndInt, type Workload, type WorkloadSteps } from './workload.js';

/** Bytes each leaked object asks for: served by kmalloc-192. */
export const LEAK_SIZE = 160;

export function* leakSteps(k: Kernel, leaked: number[] = []): WorkloadSteps {
  const background = bootSteps(k);
  for (;;) {
    if (rnd(k) < 0.05) {
      const addr = k.onCpu(rndInt(k, k.cpus), () => k.kmalloc(LEAK_SIZE, GFP_KERNEL));
      if (addr !== 0) leaked.push(addr);
      yield;
    } else {
      background.next();
      yield;
    }
  }
}

export function leakWorkload(k: Kernel): Workload {
  return generatorWorkload('leak', leakSteps(k));
}
