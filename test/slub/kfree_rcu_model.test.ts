/**
 * Model-based test of RCU's promise to kfree_rcu(): random kmalloc / kfree /
 * kfree_rcu / rcu_read_lock / rcu_read_unlock / clock ticks /
 * kvfree_rcu_barrier on two CPUs, under 6.18's per-CPU batches (kmalloc
 * caches), 6.18's opt-in sheaves (a cache with sheafCapacity) and 7.0 (every
 * cache's rcu_free sheaf). After every step:
 *
 *   - an allocation never returns a live object;
 *   - an object given to kfree_rcu() is not handed out again before a full
 *     grace period (8 ms of virtual time) has passed since the call, nor
 *     while a read-side critical section that was open at the call is still
 *     open (the reader may still hold a pointer to it);
 *   - after kvfree_rcu_barrier() nothing waits: no batch, no rcu_free sheaf.
 *
 * At the end, with everything freed and the barrier passed, destroying the
 * cache finds no object left (the kernel's "Slab cache still has objects").
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { boot, GFP_KERNEL, type Kernel } from '../../src/index.js';

const GP = 8_000_000;

interface Pending {
  at: number;
  /** a reader was inside rcu_read_lock() at the call and has not left */
  readerHeld: boolean;
}
interface Model {
  live: number[];
  pending: Map<number, Pending>;
  depth: number;
}
interface Real {
  k: Kernel;
  cache: number;
  size: number;
}

function assert(ok: boolean, what: string): void {
  if (!ok) throw new Error(what);
}

function allocate(m: Model, r: Real, cpu: number): void {
  const { k } = r;
  const now = k.printk.nowNs;
  const a = k.onCpu(cpu, () => (r.cache === 0 ? k.kmalloc(r.size, GFP_KERNEL) : k.kmemCacheAlloc(r.cache, GFP_KERNEL)));
  assert(a !== 0, 'allocation failed');
  assert(!m.live.includes(a), `object ${a} handed out while live`);
  const p = m.pending.get(a);
  if (p !== undefined) {
    assert(!p.readerHeld, `object ${a} reused while a reader open at its kfree_rcu() is still inside rcu_read_lock()`);
    assert(now - p.at >= GP, `object ${a} reused ${now - p.at} ns after its kfree_rcu(), less than a grace period`);
    m.pending.delete(a);
  }
  m.live.push(a);
}

class Alloc implements fc.Command<Model, Real> {
  constructor(readonly cpu: number) {}
  check = () => true;
  run(m: Model, r: Real): void {
    allocate(m, r, this.cpu);
  }
  toString = () => `alloc(cpu ${this.cpu})`;
}

/** A live object let go on a CPU: kfree()/kmem_cache_free(), or kfree_rcu() (then it waits in the model's pending set). */
class Release implements fc.Command<Model, Real> {
  constructor(
    readonly pick: number,
    readonly cpu: number,
    readonly rcu: boolean,
  ) {}
  check = (m: Readonly<Model>) => m.live.length > 0;
  run(m: Model, r: Real): void {
    const a = m.live.splice(this.pick % m.live.length, 1)[0]!;
    const { k } = r;
    if (this.rcu) {
      k.onCpu(this.cpu, () => k.kfreeRcu(a));
      m.pending.set(a, { at: k.printk.nowNs, readerHeld: m.depth > 0 });
    } else k.onCpu(this.cpu, () => (r.cache === 0 ? k.kfree(a) : k.kmemCacheFree(r.cache, a)));
  }
  toString = () => `${this.rcu ? 'kfree_rcu' : 'free'}(${this.pick}, cpu ${this.cpu})`;
}

class ReadLock implements fc.Command<Model, Real> {
  check = (m: Readonly<Model>) => m.depth < 3;
  run(m: Model, r: Real): void {
    r.k.rcuReadLock();
    m.depth++;
  }
  toString = () => 'rcu_read_lock';
}

class ReadUnlock implements fc.Command<Model, Real> {
  check = (m: Readonly<Model>) => m.depth > 0;
  run(m: Model, r: Real): void {
    r.k.rcuReadUnlock();
    if (--m.depth === 0) for (const p of m.pending.values()) p.readerHeld = false;
  }
  toString = () => 'rcu_read_unlock';
}

class Tick implements fc.Command<Model, Real> {
  constructor(readonly ns: number) {}
  check = () => true;
  run(_m: Model, r: Real): void {
    r.k.tick(this.ns);
  }
  toString = () => `tick(${this.ns})`;
}

class Barrier implements fc.Command<Model, Real> {
  check = (m: Readonly<Model>) => m.depth === 0;
  run(_m: Model, r: Real): void {
    const { k } = r;
    k.kvfreeRcuBarrier();
    for (const s of k.kvfreeRcu.stats()) assert(s.waiting === 0 && s.inFlight === 0, `after kvfree_rcu_barrier: ${JSON.stringify(s)}`);
    for (const id of k.slab.slabCaches) assert(k.slub.sheaves.rcuObjectsHeld(id) === 0, 'after kvfree_rcu_barrier: objects in an rcu_free sheaf');
  }
  toString = () => 'kvfree_rcu_barrier';
}

const commands = [
  fc.integer({ min: 0, max: 1 }).map((c) => new Alloc(c)),
  fc.integer({ min: 0, max: 1 }).map((c) => new Alloc(c)),
  fc.tuple(fc.nat(1000), fc.integer({ min: 0, max: 1 })).map(([p, c]) => new Release(p, c, false)),
  fc.tuple(fc.nat(1000), fc.integer({ min: 0, max: 1 })).map(([p, c]) => new Release(p, c, true)),
  fc.tuple(fc.nat(1000), fc.integer({ min: 0, max: 1 })).map(([p, c]) => new Release(p, c, true)),
  fc.constant(new ReadLock()),
  fc.constant(new ReadUnlock()),
  // mostly short ticks (a reuse inside a grace period must be possible to see), now and then the 5 s of the kfree_rcu monitor
  fc.oneof({ arbitrary: fc.integer({ min: 0, max: 2_000_000 }), weight: 6 }, { arbitrary: fc.constant(5_000_000_000), weight: 1 }).map((ns) => new Tick(ns)),
  fc.constant(new Barrier()),
];

function setup(kind: '6.18 kmalloc' | '6.18 sheaves' | '7.0'): Real {
  const k = boot({ memory: '64M', cpus: 2, kernel: kind === '7.0' ? '7.0' : '6.18' });
  const cache = kind === '6.18 sheaves' ? k.kmemCacheCreate('rcu_model', 96, { sheafCapacity: 4 }) : kind === '7.0' ? k.kmemCacheCreate('rcu_model', 96) : 0;
  return { k, cache, size: 96 };
}

describe('kfree_rcu: no object is reused before its grace period (model-based)', () => {
  for (const kind of ['6.18 kmalloc', '6.18 sheaves', '7.0'] as const) {
    it(kind, { timeout: 120_000 }, () => {
      fc.assert(
        // 7.0's rcu_free sheaf of a 96-byte cache holds 60 objects: long runs, so sheaves fill and come back
        fc.property(fc.commands(commands, { size: '+1', maxCommands: kind === '7.0' ? 600 : 200 }), (cmds) => {
          const real = setup(kind);
          const model: Model = { live: [], pending: new Map(), depth: 0 };
          fc.modelRun(() => ({ model, real }), cmds);
          // the end: readers out, everything freed, nothing waiting, the cache destroyed clean
          while (model.depth > 0) new ReadUnlock().run(model, real);
          for (const a of model.live.splice(0)) real.cache === 0 ? real.k.kfree(a) : real.k.kmemCacheFree(real.cache, a);
          new Barrier().run(model, real);
          if (real.cache !== 0) {
            real.k.kmemCacheDestroy(real.cache);
            expect(real.k.dmesg().join('\n')).not.toMatch(/still has objects/);
          }
        }),
        { numRuns: kind === '7.0' ? 25 : 50 },
      );
    });
  }
});
