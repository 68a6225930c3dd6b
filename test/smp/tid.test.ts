/**
 * The per-CPU fast path's transaction id (kmem_cache_cpu.tid, mm/slub.c):
 * init_tid(cpu) = cpu, next_tid() adds TID_STEP = roundup_pow_of_two(CPUs)
 * on every operation on the lockless freelist -- a fast-path alloc or free,
 * ___slab_alloc loading a freelist, a flush -- so that a fast path whose
 * window between reading tid + freelist and committing saw a flush retries
 * (cmpxchg_double_cpu_fail) instead of handing out a stale head.
 */
import { describe, expect, it } from 'vitest';
import { attach, boot } from '../../src/index.js';
import { MAX_CACHES } from '../../src/slub/slab.js';
import type { SlubSmp } from '../../src/smp/slub_smp.js';
import { recountSlabs, runWorkers, startWorker } from './smp_harness.js';

describe('kmem_cache_cpu.tid', () => {
  it('starts at the CPU number and steps by TID_STEP on each lockless-freelist operation', () => {
    const k = boot({ memory: '16M', cpus: 3, smp: 'workers' });
    const c1 = attach(k.handle, { cpu: 1 });
    const h = k.kmemCacheCreate('tid-a', 96);
    const s = h & 0xfff;
    const tid = (k.slub as SlubSmp).tid;
    // Three CPUs: TID_STEP 4; nothing has run on cache s yet.
    expect(tid[0 * MAX_CACHES + s]).toBe(0);
    expect(tid[1 * MAX_CACHES + s]).toBe(1);
    expect(tid[2 * MAX_CACHES + s]).toBe(2);
    const i = 1 * MAX_CACHES + s;
    const a = c1.kmemCacheAlloc(h, 0xcc0); // ___slab_alloc: a new slab, its freelist loaded
    expect(tid[i]).toBe(1 + 4);
    const b = c1.kmemCacheAlloc(h, 0xcc0); // fast path
    expect(tid[i]).toBe(1 + 8);
    c1.kmemCacheFree(h, b); // fast path: b back on the cpu freelist
    expect(tid[i]).toBe(1 + 12);
    k.kmemCacheFree(h, a); // a remote free (CPU 0): CPU 1's tid untouched
    expect(tid[i]).toBe(1 + 12);
    k.kmemCacheShrink(h); // flush_slab on CPU 1 (borrowed here: this thread also runs CPU 1)
    expect(tid[i]! % 4).toBe(1);
    expect(tid[i]! > 1 + 12).toBe(true);
    expect(k.slub.cpuFreelist[i]).toBe(0);
    c1.detach();
  });

  it('a fast path interrupted by an IPI-driven flush retries, and no object is handed out twice', { timeout: 60_000 }, async () => {
    // smpJitter opens the fast path's window to IPIs (a test build).
    const k = boot({ memory: '32M', cpus: 2, smp: 'workers', smpJitter: 20, slubStats: true });
    const h = k.kmemCacheCreate('tid-b', 96);
    const done = new SharedArrayBuffer(4);
    const w = startWorker('./tid_worker.ts', { handle: k.handle, cpu: 1, ops: 6000, done, cache: h });
    let shrinks = 0;
    const flusher = setInterval(() => {
      if (Atomics.load(new Int32Array(done), 0) === 0) {
        k.kmemCacheShrink(h);
        shrinks++;
      }
    }, 2);
    let replies: { errors: string[] }[];
    try {
      replies = await runWorkers<{ errors: string[] }>(k, [w]);
    } finally {
      clearInterval(flusher);
    }
    expect(replies[0]!.errors).toEqual([]);
    expect(shrinks).toBeGreaterThan(0);
    const fails = Number(k.sys.read('/sys/kernel/slab/tid-b/cmpxchg_double_cpu_fail').split(' ')[0]);
    expect(fails).toBeGreaterThan(0);
    for (const c of [...k.slab.slabCaches]) k.kmemCacheShrink(k.slab.handleOf(c));
    expect(recountSlabs(k).problems).toEqual([]);
    expect(k.slab.liveObjects(h & 0xfff)).toBe(0);
  });
});
