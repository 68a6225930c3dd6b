/**
 * Starting kmem CPU threads from a test: a worker runs a TypeScript
 * program from the sources through ts_worker.mjs (tsx's loader), the boot
 * thread serves the IPIs queued to CPU 0 while it waits, and the checks
 * every SMP test makes at the end read the shared state from CPU 0.
 */
import { Worker } from 'node:worker_threads';
import type { Kernel } from '../../src/kernel.js';
import { PGTY } from '../../src/memory/page.js';
import { CF } from '../../src/slub/slab.js';

/** Start the worker program `entry` (a file next to this one) with workerData. */
export function startWorker(entry: string, data: Record<string, unknown>): Worker {
  return new Worker(new URL('./ts_worker.mjs', import.meta.url), {
    workerData: { ...data, entry: new URL(entry, import.meta.url).href },
  });
}

/** Run the workers to their one message each, CPU 0 polling for IPIs meanwhile. */
export async function runWorkers<T>(k: Kernel, workers: Worker[]): Promise<T[]> {
  const poll = setInterval(() => k.poll(), 1);
  try {
    return await Promise.all(
      workers.map(
        (w) =>
          new Promise<T>((resolve, reject) => {
            w.once('message', (m: T) => resolve(m));
            w.once('error', reject);
            w.once('exit', (code) => reject(new Error(`worker exited with code ${code} before reporting`)));
          }),
      ),
    );
  } finally {
    clearInterval(poll);
    await Promise.all(workers.map((w) => w.terminate()));
  }
}

/** Every slab (head pfn) of every cache, with its cache id. */
export function allSlabs(k: Kernel): { pfn: number; s: number }[] {
  const p = k.pages;
  const out: { pfn: number; s: number }[] = [];
  for (let pfn = 1; pfn < p.nr; pfn++) {
    if (p.pageType[pfn] === PGTY.slab && p.head[pfn]! < 0 && p.slabCache[pfn]! >= 0) out.push({ pfn, s: p.slabCache[pfn]! });
  }
  return out;
}

/**
 * With no CPU holding a cpu slab: every slab is unfrozen, its freelist a
 * chain of distinct object starts of its own, and inuse = objects - that
 * chain's length. Returns the problems found, and the free objects by address.
 */
export function recountSlabs(k: Kernel): { problems: string[]; free: Set<number>; inuse: Map<number, number> } {
  const problems: string[] = [];
  const free = new Set<number>();
  const inuse = new Map<number, number>();
  const slub = k.slub;
  for (const { pfn, s } of allSlabs(k)) {
    const word = slub.slabCounters[pfn]!;
    if (slub.slabFrozen(pfn)) problems.push(`slab ${pfn} of cache ${s} is still frozen`);
    const objects = slub.slabObjects[pfn]!;
    let n = 0;
    for (let o = slub.slabFreelist(s, pfn); o !== 0; o = slub.getFreepointer(s, o)) {
      if (!slub.isObjectStart(s, pfn, o)) {
        problems.push(`slab ${pfn}: free pointer 0x${o.toString(16)} is no object of it`);
        break;
      }
      if (free.has(o) || ++n > objects) {
        problems.push(`slab ${pfn}: its freelist has a cycle`);
        break;
      }
      free.add(o);
    }
    if ((word & 0x7fff) !== objects - n) problems.push(`slab ${pfn} of cache ${s}: inuse ${word & 0x7fff}, but ${objects - n} objects are off its freelist`);
    inuse.set(s, (inuse.get(s) ?? 0) + objects - n);
  }
  // nr_slabs and total_objects (atomic adds) against a count of the slabs.
  const slabs = new Map<number, number>();
  const objs = new Map<number, number>();
  for (const { pfn, s } of allSlabs(k)) {
    slabs.set(s, (slabs.get(s) ?? 0) + 1);
    objs.set(s, (objs.get(s) ?? 0) + slub.slabObjects[pfn]!);
  }
  for (const s of k.slab.slabCaches) {
    const r = s * CF.FIELDS;
    if (slub.cf[r + CF.NR_SLABS] !== (slabs.get(s) ?? 0)) problems.push(`cache ${s}: nr_slabs ${slub.cf[r + CF.NR_SLABS]} but ${slabs.get(s) ?? 0} slabs`);
    if (slub.cf[r + CF.TOTAL_OBJECTS] !== (objs.get(s) ?? 0))
      problems.push(`cache ${s}: total_objects ${slub.cf[r + CF.TOTAL_OBJECTS]} but ${objs.get(s) ?? 0}`);
  }
  return { problems, free, inuse };
}

/** Free pages of every zone. */
export function freePages(k: Kernel): number {
  let n = 0;
  for (const z of k.inspect.zones()) n += z.free;
  return n;
}
