/**
 * KASAN's stacks are recorded, not read, until a report prints them
 * (lib/stackdepot.ts): a machine that only allocates and frees formats no
 * stack at all, however long its tracks live, while the table of recorded
 * stacks stays within its budget; past the budget, a track still held gets
 * its stack resolved first, and a report long after still prints the
 * functions that allocated and freed the object.
 *
 * Expectations are the kernel's describe_object_stacks() output
 * ("Allocated by task <pid>:", the frames, a blank line), with the frames
 * of the functions below that really made the calls.
 */
import { describe, expect, it } from 'vitest';
import { boot, GFP_KERNEL, type Kernel } from '../../src/index.js';
import { ObjectMeta } from '../../src/kasan/meta.js';
import { RAW_BUDGET, rawEntriesFor, StackDepot } from '../../src/lib/stackdepot.js';
import { ENTRY_DEPTH } from '../../src/lib/stacktrace.js';

const fnOf = (line: string | undefined) => line?.trim().split(' ')[0];

function budgetAlloc(k: Kernel): number {
  return k.kmalloc(96, GFP_KERNEL);
}
function budgetFree(k: Kernel, p: number): void {
  k.kfree(p);
}
function pairs(k: Kernel, n: number): void {
  for (let i = 0; i < n; i++) k.kfree(k.kmalloc(64, GFP_KERNEL));
}

describe('KASAN stacks: recorded raw, read only for a report', () => {
  it('8000 pairs store no formatted stack; a report then names the allocating and freeing functions of an object freed 8000 frees earlier', () => {
    // 256M: the quarantine (8 MiB less 1 MiB per CPU) keeps the victim through 8000 frees of 128-byte slots.
    const k = boot({ memory: '256M', cpus: 2, kasan: 'generic', kasanMultiShot: true });
    const depot = k.kasan!.depot;
    const p = budgetAlloc(k);
    budgetFree(k, p);
    pairs(k, 8000);
    expect(depot.size).toBe(0);
    const rec = depot.recorded;
    // The kernel's depot cap (8192 pools of 16 KiB) over 1100 bytes per recorded 17-frame stack.
    expect(RAW_BUDGET).toBe(128 * 1024 * 1024);
    expect(rec.max).toBe(rawEntriesFor(ENTRY_DEPTH));
    expect(rec.max).toBe(Math.floor(RAW_BUDGET / 1100));
    expect(rec.kept).toBeLessThanOrEqual(rec.max);
    // Both stacks of every quarantined object are still held (two per pair), and the victim's two.
    expect(rec.kept).toBeGreaterThanOrEqual(2 * 8000 + 2);
    k.mem.read8(p);
    const r = k.kasan!.reports().at(-1)!;
    expect(r.bugType).toBe('slab-use-after-free');
    expect(fnOf(r.alloc!.stack[0])).toBe('budgetAlloc');
    expect(fnOf(r.free!.stack[0])).toBe('budgetFree');
    const at = r.lines.indexOf('Allocated by task 1:');
    expect(r.lines[at + 1]).toMatch(/^ budgetAlloc \(test\/kasan\/stack_depot_budget\.test\.ts:\d+\)$/);
    const freed = r.lines.indexOf('Freed by task 1:');
    expect(freed).toBe(at + 1 + r.alloc!.stack.length + 1);
    expect(r.lines[freed + 1]).toMatch(/^ budgetFree \(test\/kasan\/stack_depot_budget\.test\.ts:\d+\)$/);
    // Only the report's two stacks were formatted.
    expect(depot.size).toBe(2);
  });

  it('one bulk free records its stack once for all the objects it frees', () => {
    const k = boot({ memory: '64M', cpus: 2, kasan: 'generic', kasanMultiShot: true });
    const c = k.kmemCacheCreate('budget_bulk', 40);
    const out = new Uint32Array(16);
    expect(k.kmemCacheAllocBulk(c, 16, out, GFP_KERNEL)).toBe(16);
    const before = k.kasan!.depot.recorded.kept;
    function bulkFreeAll(): void {
      k.kmemCacheFreeBulk(c, out);
    }
    bulkFreeAll();
    expect(k.kasan!.depot.recorded.kept).toBe(before + 1);
    k.mem.read8(out[5]!);
    expect(fnOf(k.kasan!.reports().at(-1)!.free!.stack[0])).toBe('bulkFreeAll');
  });
});

/** KASAN's per-object records as the depot's store, for a depot with a small budget. */
function metaStore(objects: number): { meta: ObjectMeta; allocAt: (i: number) => number } {
  const meta = new ObjectMeta(4);
  meta.initSlab(1, objects);
  return { meta, allocAt: (i) => meta.allocStackAt(meta.record(1, i)) };
}

function keepFrom(d: StackDepot, meta: ObjectMeta, r: number): void {
  const h = d.save();
  meta.setAlloc(r, 1, 0, 0, h);
  d.bind(h, meta.allocStackAt(r));
}
function churnFrom(d: StackDepot, meta: ObjectMeta, r: number, n: number): void {
  for (let i = 0; i < n; i++) {
    const h = d.save();
    meta.setAlloc(r, 1, 0, 0, h);
    d.bind(h, meta.allocStackAt(r));
  }
}

describe('the table of recorded stacks at its budget', () => {
  it('grows while tracks hold its entries, never past rawEntries; past it the oldest held stack is resolved in place', () => {
    const { meta } = metaStore(8);
    const d = new StackDepot(meta, { rawEntries: 2048 });
    keepFrom(d, meta, 0);
    // Record 1 is overwritten again and again: its old entries are free for reuse, nothing grows or resolves.
    churnFrom(d, meta, 1, 5000);
    expect(d.recorded.kept).toBe(1024);
    expect(d.size).toBe(0);
    expect(meta.allocStack(meta.record(1, 0))).toBeGreaterThanOrEqual(0x40000000);
    // Held tracks: each of 3000 saves stays in a record of its own, past the budget of 2048.
    const { meta: many } = metaStore(3000);
    const d2 = new StackDepot(many, { rawEntries: 2048 });
    for (let i = 0; i < 3000; i++) keepFrom(d2, many, many.record(1, i));
    expect(d2.recorded.max).toBe(2048);
    expect(d2.recorded.kept).toBe(2048);
    // The oldest 952 were resolved in place (one stack: they share a call site); the newest still pending.
    const first = many.allocStack(many.record(1, 0));
    expect(first).toBeGreaterThan(0);
    expect(first).toBeLessThan(0x40000000);
    expect(d2.size).toBe(1);
    expect(d2.fetch(first)[0]!.fn).toBe('keepFrom');
    const lastH = many.allocStack(many.record(1, 2999));
    expect(lastH).toBeGreaterThanOrEqual(0x40000000);
    expect(d2.fetch(lastH)[0]!.fn).toBe('keepFrom');
  });

  it('rawEntries out of range is a RangeError naming it', () => {
    expect(() => new StackDepot(null, { rawEntries: 0 })).toThrow(RangeError);
    expect(() => new StackDepot(null, { rawEntries: 1.5 })).toThrow(/^rawEntries/);
    expect(() => new StackDepot(null, { rawEntries: 2 ** 18 + 1 })).toThrow(/^rawEntries/);
  });
});
