/**
 * SLUB and the page allocator with real CPUs: 2, 4 and 8 worker threads, each
 * a CPU of one machine (boot({ smp: 'workers' }) + attach()), run random
 * programs in which a share of the objects is freed by another CPU (the
 * remote free of __slab_free). Afterwards, on CPU 0, the kernel's
 * invariants must hold:
 *   - no two live objects overlap, and each still carries its owner's tag;
 *   - every object is accounted for once: each slab's inuse is its objects
 *     less a recount of its freelist, and the objects in use per cache are
 *     what the workers still hold (plus what boot held);
 *   - nr_slabs and total_objects match the slabs there are;
 *   - every handed-off object was freed once, by its receiver;
 *   - freeing everything and shrinking every cache gives back every page.
 * Some runs inject Atomics.wait jitter at SLUB's race windows (smpJitter).
 */
import { describe, expect, it } from 'vitest';
import type { BootOptions } from '../../src/init/boot_options.js';
import { boot, type Kernel } from '../../src/kernel.js';
import { PGTY } from '../../src/memory/page.js';
import { allSlabs, freePages, recountSlabs, runWorkers, startWorker } from './smp_harness.js';

interface Report {
  cpu: number;
  errors: string[];
  live: [number, number, number, number, number][];
  counts: Record<string, number>;
  remoteFreed: number;
}

const GFP_KERNEL = 0xcc0;

/** Every cache shrunk (flush_all reaches each CPU, offline ones from here) and every pcp list drained. */
function quiesce(k: Kernel): void {
  k.poll();
  for (const s of [...k.slab.slabCaches]) k.kmemCacheShrink(k.slab.handleOf(s));
  k.drainAllPages();
}

function liveBy(k: Kernel): Map<number, number> {
  const m = new Map<number, number>();
  for (const s of k.slab.slabCaches) m.set(s, k.slab.liveObjects(s));
  return m;
}

async function stress(nWorkers: number, seed: number, ops: number, jitterUs: number, more: BootOptions = {}): Promise<void> {
  const k = boot({ cpus: nWorkers + 1, smp: 'workers', memory: '96M', seed, smpJitter: jitterUs, ...more });
  const caches = ['smp-a', 'smp-b', 'smp-c'];
  k.kmemCacheCreate('smp-a', 100);
  k.kmemCacheCreate('smp-b', 700, { align: 64 });
  k.kmemCacheCreate('smp-c', 2000);
  // CPU 0 takes part too: some objects it allocated are freed by the workers' frees of their own kind below.
  quiesce(k);
  const baseFree = freePages(k);
  const baseLive = liveBy(k);
  const ringSlots = 256;
  const rings = new SharedArrayBuffer(nWorkers * nWorkers * (2 + 4 * ringSlots) * 4);
  const barrier = new SharedArrayBuffer(8);
  const workers = [];
  for (let w = 0; w < nWorkers; w++) {
    workers.push(
      startWorker('./stress_worker.ts', {
        handle: k.handle,
        cpu: w + 1,
        w,
        nWorkers,
        seed: seed * 7919 + w,
        ops,
        rings,
        ringSlots,
        barrier,
        caches,
      }),
    );
  }
  const reports = await runWorkers<Report>(k, workers);
  for (const r of reports) expect(r.errors).toEqual([]);
  // Every handed-off object was freed by the CPU it went to.
  const handed = reports.reduce((n, r) => n + r.counts.handed!, 0);
  expect(reports.reduce((n, r) => n + r.remoteFreed, 0)).toBe(handed);
  expect(handed).toBeGreaterThan(ops / 20);
  expect(reports.reduce((n, r) => n + r.counts.shrink! + r.counts.drain!, 0)).toBeGreaterThan(0);

  // The workers went offline (their cpu slabs flushed); CPU 0's too, now.
  quiesce(k);
  const live = reports.flatMap((r) => r.live).sort((a, b) => a[0] - b[0]);
  for (let i = 1; i < live.length; i++) {
    const [prev, , , size] = live[i - 1]!;
    if (prev + size! > live[i]![0]) throw new Error(`live objects overlap: 0x${prev.toString(16)}+${size} and 0x${live[i]![0].toString(16)}`);
  }
  for (const [addr, , , size, tag] of live) {
    expect(k.mem.read32(addr) >>> 0).toBe(tag);
    expect(k.mem.read32(addr + size - 4) >>> 0).toBe(tag);
  }
  const { problems, free } = recountSlabs(k);
  expect(problems).toEqual([]);
  for (const [addr] of live) expect(free.has(addr)).toBe(false);
  // Objects in use per cache: boot's, plus what the workers hold.
  const held = new Map<number, number>();
  for (const [addr, kind] of live) {
    if (kind === 2 || k.pages.pageType[k.pages.compoundHead(addr >>> 12)] === PGTY.large_kmalloc) continue;
    const s = k.pages.slabCache[k.pages.compoundHead(addr >>> 12)]!;
    held.set(s, (held.get(s) ?? 0) + 1);
  }
  const kmemCache = k.slub.caches.findIndex((c) => c?.name === 'kmem_cache');
  const kmemCacheNode = k.slub.caches.findIndex((c) => c?.name === 'kmem_cache_node');
  for (const s of k.slab.slabCaches) {
    if (s === kmemCache || s === kmemCacheNode) continue;
    expect({ cache: k.slub.caches[s]!.name, live: k.slab.liveObjects(s) }).toEqual({
      cache: k.slub.caches[s]!.name,
      live: (baseLive.get(s) ?? 0) + (held.get(s) ?? 0),
    });
  }

  // Free everything the workers left; every page comes back.
  for (const [addr, kind, aux] of live) {
    if (kind === 0) k.kfree(addr);
    else if (kind === 1) k.kmemCacheFree(aux, addr);
    else k.freePages(addr, aux);
  }
  // kmem_cache_destroy() once per kmem_cache_create() of the workers (a merge took a reference too).
  const names = k.slab.slabCaches.flatMap((s) => [k.slub.caches[s]!.name, ...k.slub.caches[s]!.aliases]).filter((n) => /^w\d+-\d+$/.test(n));
  expect(names.length).toBe(reports.reduce((n, r) => n + r.counts.create!, 0));
  for (const name of names) k.kmemCacheDestroy(k.kmemCacheByName(name));
  quiesce(k);
  expect(recountSlabs(k).problems).toEqual([]);
  for (const [s, n] of baseLive) if (s !== kmemCache && s !== kmemCacheNode) expect(k.slab.liveObjects(s)).toBe(n);
  expect(freePages(k)).toBe(baseFree);
  expect(allSlabs(k).length).toBeGreaterThan(0);
  expect(k.kmalloc(64, GFP_KERNEL)).not.toBe(0);
  // No check found anything (slub_debug's and the kernel's own reports taint).
  expect(k.isTainted).toBe(false);
  expect(k.kasan?.reports() ?? []).toEqual([]);
  if (more.slubDebug !== undefined) expect(k.sys.read('/sys/kernel/slab/kmalloc-64/sanity_checks')).toBe('1\n');
}

describe('SLUB and the page allocator on CPU threads', () => {
  it('2 workers, several seeds', { timeout: 120_000 }, async () => {
    for (const seed of [1, 2, 3]) await stress(2, seed, 40_000, 0);
  });

  it('4 workers', { timeout: 120_000 }, async () => {
    await stress(4, 11, 40_000, 0);
  });

  it('8 workers (on a 2-core machine they interleave more than they run at once)', { timeout: 120_000 }, async () => {
    await stress(8, 21, 16_000, 0);
  });

  it('2, 4 and 8 workers with Atomics.wait jitter at the race windows', { timeout: 120_000 }, async () => {
    await stress(2, 5, 8_000, 30);
    await stress(4, 6, 4_000, 30);
    await stress(8, 7, 2_000, 30);
  });

  it('slub_debug=FZPU: debug caches under n->list_lock on 2 workers, with jitter', { timeout: 120_000 }, async () => {
    await stress(2, 8, 3_000, 20, { slubDebug: 'FZPU' });
  });

  it('KASAN: shared shadow, tracks and quarantine on 2 workers, with jitter', { timeout: 120_000 }, async () => {
    await stress(2, 9, 3_000, 20, { kasan: 'generic' });
  });
});
