/**
 * The remote-free path is linearizable: two worker CPUs free objects of
 * CPU 0's frozen cpu slab (__slab_free: compareExchange of freelist +
 * counters) while CPU 0 takes the slab's freelist (get_freelist, the same
 * word), with Atomics.wait jitter at the compareExchange. Every history of
 * a round must be explained by a sequential freelist in an order that
 * respects real time (./linearizability.ts), and every freed object must
 * come back in exactly one take.
 */
import { describe, expect, it } from 'vitest';
import { boot } from '../../src/kernel.js';
import { CF, MAX_CACHES } from '../../src/slub/slab.js';
import { Lin, PER_WORKER } from './lin_layout.js';
import { linearize, type Op } from './linearizability.js';
import { runWorkers, startWorker } from './smp_harness.js';

describe('the checker', () => {
  it('accepts a history a freelist explains and refuses one it does not', () => {
    // free(a) and free(b) overlap; a take after both must return b,a or a,b -- but not drop one.
    const ok: Op[] = [
      { kind: 'free', obj: 1, call: 0, ret: 3 },
      { kind: 'free', obj: 2, call: 1, ret: 2 },
      { kind: 'take', result: [1, 2], call: 4, ret: 5 },
    ];
    expect(linearize(ok)).toEqual([1, 0, 2]);
    const lost: Op[] = [
      { kind: 'free', obj: 1, call: 0, ret: 1 },
      { kind: 'free', obj: 2, call: 2, ret: 3 },
      { kind: 'take', result: [2], call: 4, ret: 5 },
    ];
    expect(linearize(lost)).toBeNull();
    // A take that overlaps a free may or may not see it, but what it sees must be a prefix of time.
    const overlap: Op[] = [
      { kind: 'free', obj: 1, call: 0, ret: 1 },
      { kind: 'take', result: [1], call: 2, ret: 5 },
      { kind: 'free', obj: 2, call: 3, ret: 4 },
      { kind: 'take', result: [2], call: 6, ret: 7 },
    ];
    expect(linearize(overlap)).not.toBeNull();
    expect(linearize([{ kind: 'take', result: [2, 1], call: 0, ret: 1 }], [2, 1])).toBeNull();
  });
});

describe('__slab_free against get_freelist on CPU threads', () => {
  it('every round is linearizable and loses no object', { timeout: 120_000 }, async () => {
    const k = boot({ cpus: 3, smp: 'workers', memory: '32M', seed: 3, smpJitter: 40 });
    const h = k.kmemCacheCreate('lin', 256);
    const s = h & 0xfff;
    const slub = k.slub;
    const getFreelist = (slab: number) => (slub as unknown as { getFreelist(s: number, slab: number): number }).getFreelist(s, slab);
    const shared = new SharedArrayBuffer(Lin.WORDS * 4);
    const a = new Int32Array(shared);
    const workers = [1, 2].map((cpu) => startWorker('./lin_worker.ts', { handle: k.handle, cpu, w: cpu - 1, shared }));
    const finished = runWorkers<string>(k, workers);
    const objects = slub.cf[s * CF.FIELDS + CF.OBJECTS]!;
    const walk = (o: number) => {
      const out: number[] = [];
      for (; o !== 0; o = slub.getFreepointer(s, o)) out.push(o);
      return out;
    };
    let rng = 12345;
    const rand = (n: number) => {
      rng = (Math.imul(rng, 1103515245) + 12345) >>> 0;
      return (rng >>> 8) % n;
    };
    let checked = 0;
    let concurrent = 0;
    const ROUNDS = 60;
    for (let round = 1; round <= ROUNDS; round++) {
      const objs: number[] = [];
      for (let i = 0; i < objects; i++) objs.push(k.kmemCacheAlloc(h, 0xcc0));
      const slab = slub.cpuSlab[s]!; // CPU 0's kmem_cache_cpu (index 0 * MAX_CACHES + s)
      expect(MAX_CACHES).toBeGreaterThan(s);
      // The round starts from a full frozen cpu slab with an empty cpu freelist.
      expect(objs.every((o) => o >>> 12 === slab)).toBe(true);
      expect(slub.slabFrozen(slab) && slub.slabFreelist(s, slab) === 0 && slub.cpuFreelist[s] === 0).toBe(true);
      const counts = [1 + rand(Math.min(7, objects >> 1)), 1 + rand(Math.min(7, objects >> 1))];
      let next = 0;
      const freedBy: number[] = [];
      for (let w = 0; w < 2; w++) {
        a[Lin.COUNT + w] = counts[w]!;
        for (let j = 0; j < counts[w]!; j++) {
          a[Lin.OBJS + w * PER_WORKER + j] = objs[next]!;
          freedBy.push(objs[next++]!);
        }
      }
      Atomics.store(a, Lin.FREED, 0);
      Atomics.store(a, Lin.ROUND, round);
      Atomics.notify(a, Lin.ROUND);
      // One take while the frees run (after the first one is done, so the slab stays frozen), one after them all.
      while (Atomics.load(a, Lin.FREED) === 0) Atomics.wait(a, Lin.FREED, 0, 1);
      const takes: Op[] = [];
      for (const last of [false, true]) {
        if (last) while (Atomics.load(a, Lin.DONE) < 2 * round) Atomics.wait(a, Lin.DONE, Atomics.load(a, Lin.DONE), 1);
        const call = Atomics.add(a, Lin.CLOCK, 1);
        const got = walk(getFreelist(slab));
        const ret = Atomics.add(a, Lin.CLOCK, 1);
        takes.push({ kind: 'take', result: got, call, ret });
      }
      const frees: Op[] = [];
      for (let w = 0; w < 2; w++) {
        for (let j = 0; j < counts[w]!; j++) {
          const at = Lin.HIST + 2 * (w * PER_WORKER + j);
          frees.push({ kind: 'free', obj: a[Lin.OBJS + w * PER_WORKER + j]! >>> 0, call: a[at]!, ret: a[at + 1]! });
        }
      }
      const history = [...frees, ...takes];
      if (frees.some((f) => f.ret > takes[0]!.call)) concurrent++;
      expect(linearize(history)).not.toBeNull();
      // Each freed object came back in exactly one take.
      const back = takes.flatMap((t) => (t.kind === 'take' ? t.result : []));
      expect([...back].sort((x, y) => x - y)).toEqual([...freedBy].sort((x, y) => x - y));
      checked++;
      // The objects go back to CPU 0. A take that found nothing left the
      // slab unfrozen: the kernel's ___slab_alloc then drops it as the cpu slab.
      if (!slub.slabFrozen(slab)) slub.cpuSlab[s] = -1;
      for (const o of objs) k.kmemCacheFree(h, o);
    }
    Atomics.store(a, Lin.ROUND, -1);
    Atomics.notify(a, Lin.ROUND);
    expect(await finished).toEqual(['bye', 'bye']);
    expect(checked).toBe(ROUNDS);
    // Jitter makes the first take overlap the frees in some rounds: otherwise the test would check nothing concurrent.
    expect(concurrent).toBeGreaterThan(0);
  });
});
