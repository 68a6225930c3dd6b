/**
 * Model-based test of a cache with sheaves: random alloc/free (single and
 * bulk, kfree and kmem_cache_free, blocking and atomic), shrink, on three
 * CPUs, with every step checked against a model that knows only what the
 * test holds:
 *
 *   - every live object is distinct, an object start of a slab of the cache,
 *     and in no sheaf; the sheaves hold distinct objects;
 *   - slabinfo's active_objs == live objects + objects in sheaves (the
 *     kernel counts sheaf objects as allocated), every slab not full is on
 *     the node partial list (no cpu slabs below the sheaves);
 *   - the barn never holds more than MAX_FULL_SHEAVES full sheaves;
 *   - after everything is freed, kmem_cache_destroy gives every slab back.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { boot, type Kernel } from '../../src/kernel.js';
import { GFP_ATOMIC, GFP_KERNEL } from '../../src/page_alloc/gfp.js';
import { slabinfoRows } from '../../src/proc/slabinfo.js';
import { CF } from '../../src/slub/slab.js';
import { sid } from './handle_id.js';

const CPUS = 3;

interface Real {
  k: Kernel;
  c: number;
  id: number;
}
interface Model {
  live: number[];
}

function assert(ok: boolean, what: string): void {
  if (!ok) throw new Error(what);
}

function check(m: Model, r: Real): void {
  const { k, id } = r;
  const sh = k.slub.sheaves.caches[id]!;
  const held = new Set<number>();
  const addSheaf = (s: number) => {
    for (let j = 0; j < k.slub.sheaves.sheafSize(id, s); j++) {
      const o = k.slub.sheaves.sheafObject(id, s, j);
      assert(!held.has(o), `object ${o} twice in the sheaves`);
      held.add(o);
    }
  };
  for (let cpu = 0; cpu < CPUS; cpu++) {
    addSheaf(sh.main[cpu]!);
    if (sh.spare[cpu]! >= 0) addSheaf(sh.spare[cpu]!);
  }
  assert(sh.nrFull <= 10, `barn holds ${sh.nrFull} full sheaves`);
  for (let j = 0; j < sh.nrFull; j++) {
    assert(sh.size[sh.barnFull[j]!] === sh.capacity, 'a sheaf on the full list is not full');
    addSheaf(sh.barnFull[j]!);
  }
  for (let j = 0; j < sh.nrEmpty; j++) assert(sh.size[sh.barnEmpty[j]!] === 0, 'a sheaf on the empty list is not empty');
  const live = new Set(m.live);
  assert(live.size === m.live.length, 'a live object handed out twice');
  for (const o of m.live) {
    assert(!held.has(o), `live object ${o} in a sheaf`);
    const head = k.slub.virtToSlab(o);
    assert(head >= 0 && k.slub.pages.slabCache[head] === id && k.slub.isObjectStart(id, head, o), `${o} is no object of the cache`);
  }
  const row = slabinfoRows(k.slab).find((x) => x.name === 'model_sheaf')!;
  assert(row.activeObjs === m.live.length + held.size, `active_objs ${row.activeObjs} != ${m.live.length} live + ${held.size} in sheaves`);
  assert(k.slub.sheaves.objectsHeld(id) === held.size, 'objectsHeld disagrees');
}

class Alloc implements fc.Command<Model, Real> {
  constructor(
    readonly cpu: number,
    readonly atomic: boolean,
  ) {}
  check = () => true;
  run(m: Model, r: Real): void {
    const o = r.k.onCpu(this.cpu, () => r.k.kmemCacheAlloc(r.c, this.atomic ? GFP_ATOMIC : GFP_KERNEL));
    expect(o).not.toBe(0);
    m.live.push(o);
    check(m, r);
  }
  toString = () => `alloc(cpu${this.cpu}${this.atomic ? ', atomic' : ''})`;
}

class Free implements fc.Command<Model, Real> {
  constructor(
    readonly pick: number,
    readonly cpu: number,
    readonly viaKfree: boolean,
  ) {}
  check = (m: Readonly<Model>) => m.live.length > 0;
  run(m: Model, r: Real): void {
    const at = this.pick % m.live.length;
    const o = m.live[at]!;
    m.live.splice(at, 1);
    r.k.onCpu(this.cpu, () => (this.viaKfree ? r.k.kfree(o) : r.k.kmemCacheFree(r.c, o)));
    check(m, r);
  }
  toString = () => `free(${this.pick}, cpu${this.cpu}${this.viaKfree ? ', kfree' : ''})`;
}

class AllocBulk implements fc.Command<Model, Real> {
  constructor(
    readonly cpu: number,
    readonly n: number,
  ) {}
  check = () => true;
  run(m: Model, r: Real): void {
    const out = new Uint32Array(this.n);
    expect(r.k.onCpu(this.cpu, () => r.k.kmemCacheAllocBulk(r.c, this.n, out))).toBe(this.n);
    for (const o of out) m.live.push(o);
    check(m, r);
  }
  toString = () => `allocBulk(cpu${this.cpu}, ${this.n})`;
}

class FreeBulk implements fc.Command<Model, Real> {
  constructor(
    readonly cpu: number,
    readonly n: number,
  ) {}
  check = (m: Readonly<Model>) => m.live.length > 0;
  run(m: Model, r: Real): void {
    const objs = m.live.splice(Math.max(0, m.live.length - this.n));
    r.k.onCpu(this.cpu, () => r.k.kmemCacheFreeBulk(r.c, objs));
    check(m, r);
  }
  toString = () => `freeBulk(cpu${this.cpu}, ${this.n})`;
}

class Shrink implements fc.Command<Model, Real> {
  check = () => true;
  run(m: Model, r: Real): void {
    r.k.kmemCacheShrink(r.c);
    expect(r.k.slub.sheaves.objectsHeld(r.id)).toBe(0);
    check(m, r);
  }
  toString = () => 'shrink';
}

const cpu = fc.integer({ min: 0, max: CPUS - 1 });
const commands = [
  fc.tuple(cpu, fc.boolean()).map(([c, a]) => new Alloc(c, a)),
  cpu.map((c) => new Alloc(c, false)),
  fc.tuple(fc.nat(), cpu, fc.boolean()).map(([p, c, k]) => new Free(p, c, k)),
  fc.tuple(fc.nat(), cpu, fc.boolean()).map(([p, c, k]) => new Free(p, c, k)),
  fc.tuple(cpu, fc.integer({ min: 1, max: 40 })).map(([c, n]) => new AllocBulk(c, n)),
  fc.tuple(cpu, fc.integer({ min: 1, max: 40 })).map(([c, n]) => new FreeBulk(c, n)),
  fc.constant(new Shrink()),
];

describe('sheaves: model-based', () => {
  it('objects are never lost or duplicated; every slab comes back after destroy', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 9 }), fc.commands(commands, { size: '+1' }), (capacity, cmds) => {
        const k = boot({ memory: '32M', cpus: CPUS, slubStats: true });
        const c = k.kmemCacheCreate('model_sheaf', 48, { sheafCapacity: capacity });
        const r: Real = { k, c, id: sid(k, c) };
        const m: Model = { live: [] };
        fc.modelRun(() => ({ model: m, real: r }), cmds);
        for (const o of m.live) k.kmemCacheFree(c, o);
        m.live = [];
        check(m, r);
        k.kmemCacheDestroy(c);
        expect(k.dmesg().join('\n')).not.toMatch(/still has objects|BUG/);
        expect(k.slub.cf[r.id * CF.FIELDS + CF.NR_SLABS]).toBe(0);
        expect(k.slub.cf[r.id * CF.FIELDS + CF.TOTAL_OBJECTS]).toBe(0);
      }),
      { numRuns: 40 },
    );
  });
});
