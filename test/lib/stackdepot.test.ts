/**
 * The stack depot (src/lib/stackdepot.ts): a save only records the stack;
 * it is formatted when a report needs it, or when the track outlives what
 * the table of recent saves may hold (its budget; small here, so that a few
 * thousand saves go past it). Either way the track shows the stack of the
 * allocation or free that really happened.
 */
import { describe, expect, it } from 'vitest';
import { boot, type Kernel } from '../../src/kernel.js';
import { StackDepot, type StackHandleStore } from '../../src/lib/stackdepot.js';
import { GFP_KERNEL } from '../../src/page_alloc/gfp.js';
import { sid } from '../slub/handle_id.js';

/** More saves than the depot's table holds with a budget of RAW entries. */
const WRAP = 3000;
const RAW = 1024;
const PENDING = 0x40000000;

/** A store over a plain array, as SLUB's struct track and KASAN's records are. */
function arrayStore(slots: number[]): StackHandleStore {
  return {
    holds: (w, h) => slots[w] === h,
    replace: (w, h, to) => {
      if (slots[w] === h) slots[w] = to;
    },
  };
}

function saveFromA(d: StackDepot): number {
  return d.save();
}

function saveFromB(d: StackDepot): number {
  return d.save();
}

function churn(d: StackDepot, n: number): void {
  for (let i = 0; i < n; i++) d.save();
}

describe('StackDepot', () => {
  it('formats a saved stack on demand and stores each distinct stack once', () => {
    const d = new StackDepot();
    // One call site for both saves: the same stack twice.
    const [a1, a2] = [0, 1].map(() => saveFromA(d)) as [number, number];
    const b = saveFromB(d);
    expect(a1).toBeGreaterThanOrEqual(PENDING); // recorded, not formatted yet
    expect(d.size).toBe(0);
    expect(d.fetch(a1)[0]!.fn).toBe('saveFromA');
    expect(d.fetch(b)[0]!.fn).toBe('saveFromB');
    expect(d.lines(a2)[0]).toMatch(/^ saveFromA \(test\/lib\/stackdepot\.test\.ts:\d+\)$/);
    expect(d.resolve(a1)).toBe(d.resolve(a2));
    expect(d.resolve(a1)).not.toBe(d.resolve(b));
    expect(d.size).toBe(2);
  });

  it('tells apart functions made at one place and named at run time (the web view names its callers so)', () => {
    const d = new StackDepot();
    const make = (n: string) => ({ [n]: () => d.save() })[n]!;
    const names = ['kmalloc_oob_right', 'kmalloc_uaf', 'kmalloc_oob_right', 'kfree_twice'];
    const handles = names.map((n) => make(n)());
    expect(handles.map((h) => d.fetch(h)[0]!.fn)).toEqual(names);
    expect(d.resolve(handles[0]!)).toBe(d.resolve(handles[2]!));
  });

  it('gives a stored handle its final value before the table, full of held stacks, reuses its entry', () => {
    const slots: number[] = new Array(3 + WRAP).fill(0);
    const d = new StackDepot(arrayStore(slots), { rawEntries: RAW });
    slots[0] = saveFromA(d);
    d.bind(slots[0], 0);
    slots[1] = saveFromB(d);
    d.bind(slots[1], 1);
    slots[2] = saveFromA(d);
    d.bind(slots[2], 2);
    slots[2] = 0; // overwritten: nothing to resolve for it
    // Every later save stays held in a slot of its own, so the table fills up and must take back the oldest.
    for (let i = 0; i < WRAP; i++) {
      const h = d.save();
      slots[3 + i] = h;
      d.bind(h, 3 + i);
    }
    expect(slots[0]).toBeGreaterThan(0);
    expect(slots[0]).toBeLessThan(PENDING);
    expect(d.fetch(slots[0]!)[0]!.fn).toBe('saveFromA');
    expect(d.fetch(slots[1]!)[0]!.fn).toBe('saveFromB');
    expect(d.recorded.kept).toBeLessThanOrEqual(RAW);
  });

  it('keeps a held stack unresolved while the table has entries nobody holds', () => {
    const slots = [0];
    const d = new StackDepot(arrayStore(slots), { rawEntries: RAW });
    slots[0] = saveFromA(d);
    d.bind(slots[0], 0);
    churn(d, WRAP);
    expect(slots[0]).toBeGreaterThanOrEqual(PENDING);
    expect(d.size).toBe(0);
    expect(d.fetch(slots[0]!)[0]!.fn).toBe('saveFromA');
  });

  it('a handle stored in several places is replaced in each (bulk free)', () => {
    const slots = [0, 0, 0, 0];
    const d = new StackDepot(arrayStore(slots), { rawEntries: RAW });
    const h = saveFromB(d);
    for (let i = 0; i < slots.length; i++) {
      slots[i] = h;
      d.bind(h, i);
    }
    churn(d, WRAP);
    for (const s of slots) expect(d.fetch(s)[0]!.fn).toBe('saveFromB');
  });

  it('a pending handle nobody said was stored resolves to no stack once its entry is reused, never to another stack', () => {
    const d = new StackDepot();
    const h = saveFromA(d);
    churn(d, WRAP);
    expect(d.resolve(h)).toBe(0);
    expect(d.fetch(h)).toEqual([]);
  });

  it('leaves Error.stackTraceLimit and Error.prepareStackTrace as they were', () => {
    const limit = Error.stackTraceLimit;
    const prepare = Error.prepareStackTrace;
    const d = new StackDepot();
    const h = d.save();
    d.lines(h);
    expect(Error.stackTraceLimit).toBe(limit);
    expect(Error.prepareStackTrace).toBe(prepare);
  });
});

function keptAlloc(k: Kernel): number {
  return k.kmalloc(64, GFP_KERNEL);
}

function keptFree(k: Kernel, p: number): void {
  k.kfree(p);
}

/** Saves in another cache, so that the objects under test stay as they are. */
function otherWork(k: Kernel, n: number): void {
  for (let i = 0; i < n; i++) k.kfree(k.kmalloc(128, GFP_KERNEL));
}

describe('tracks that outlive the ring of recent saves', () => {
  it('slub_debug=U: the alloc track of a long-lived object still names its allocator', () => {
    const k = boot({ slubDebug: 'FZPU' });
    const p = keptAlloc(k);
    const q = keptAlloc(k); // keeps the slab in use, for the double free below
    otherWork(k, WRAP);
    const s = k.slub.pages.slabCache[k.slub.pages.compoundHead(p >>> 12)]!;
    expect(k.slub.debug!.trackFrames(sid(k, s), p, 'alloc')[0]!.fn).toBe('keptAlloc');
    keptFree(k, p);
    otherWork(k, WRAP);
    // A double free prints both tracks.
    const lines: string[] = [];
    const off = k.dmesg().length;
    k.kfree(p);
    lines.push(...k.dmesg().slice(off));
    const text = lines.join('\n');
    expect(text).toContain('Object already free');
    expect(text).toMatch(/Allocated in keptAlloc \(test\/lib\/stackdepot\.test\.ts:\d+\) age=/);
    expect(text).toMatch(/Freed in keptFree \(test\/lib\/stackdepot\.test\.ts:\d+\) age=/);
    k.kfree(q);
  });

  it('slub_debug=U: one bulk free stack in every object it freed', () => {
    const k = boot({ slubDebug: 'U' });
    const c = k.kmemCacheCreate('stackdepot_bulk', 48);
    const out = new Uint32Array(8);
    expect(k.kmemCacheAllocBulk(c, 8, out)).toBe(8);
    function bulkFree(): void {
      k.kmemCacheFreeBulk(c, out);
    }
    bulkFree();
    otherWork(k, WRAP);
    for (const p of out) expect(k.slub.debug!.trackFrames(sid(k, c), p, 'free')[0]!.fn).toBe('bulkFree');
  });

  it('KASAN: a use-after-free long after the free shows who allocated and who freed', () => {
    const k = boot({ kasan: 'generic' });
    const p = keptAlloc(k);
    k.kasan!.recordAuxStack(p);
    keptFree(k, p);
    otherWork(k, WRAP); // the object stays in the quarantine, its tracks outlive the ring
    k.mem.read8(p);
    const r = k.kasan!.reports().at(-1)!;
    expect(r.bugType).toBe('slab-use-after-free');
    expect(r.alloc!.stack[0]).toMatch(/^ keptAlloc \(test\/lib\/stackdepot\.test\.ts:\d+\)$/);
    expect(r.free!.stack[0]).toMatch(/^ keptFree \(test\/lib\/stackdepot\.test\.ts:\d+\)$/);
    expect(r.aux.length).toBe(1);
  });
});
