/**
 * Per-object KASAN metadata (struct kasan_alloc_meta / kasan_free_meta of
 * mm/kasan/generic.c): the alloc track, the free track and two aux stacks.
 *
 * The kernel keeps them inside the slot, where the geometry reserved room
 * (alloc meta in the redzone, free meta over the freed object). kmem keeps
 * their contents in side tables instead, so a program that writes through a
 * dangling pointer (which KASAN reports, and then lets happen) cannot corrupt
 * the record of who freed the memory. The geometry still reserves the room,
 * so slot sizes and objects per slab are the kernel's.
 *
 * Records live in typed arrays. Each slab gets a contiguous run of records,
 * one per object, when it is created (kasan_poison_slab), and gives it back
 * when its pages return to the buddy allocator:
 *
 *   slabBase[pfn] ──► record base ─┬─ object 0: allocPid allocCpu allocStack freePid freeCpu freeStack aux0 aux1
 *                                  ├─ object 1: ...                                         (I32 × 8)
 *                                  └─ ...        allocTs freeTs                              (F64 × 2)
 *
 * A free track is valid only while the object's first shadow byte is
 * KASAN_SLAB_FREE_META, as in the kernel; an alloc track while its stack
 * handle is nonzero.
 */

import type { StackHandleStore } from '../lib/stackdepot.js';

/** The fields of an object's record (alloc track, free track, the two aux stacks); src/smp/kasan_smp.ts keeps the same records in shared memory. */
export const I_ALLOC_PID = 0;
export const I_ALLOC_CPU = 1;
export const I_ALLOC_STACK = 2;
export const I_FREE_PID = 3;
export const I_FREE_CPU = 4;
export const I_FREE_STACK = 5;
export const I_AUX0 = 6;
export const I_AUX1 = 7;
export const I_FIELDS = 8;

export interface RawTrack {
  pid: number;
  cpu: number;
  ts: number;
  stack: number;
}

export class ObjectMeta implements StackHandleStore {
  /** First record of the slab headed at pfn, -1 if it has none. */
  private readonly slabBase: Int32Array;
  private readonly slabCount: Int32Array;
  private i32 = new Int32Array(1024 * I_FIELDS);
  private f64 = new Float64Array(1024 * 2);
  private used = 0;
  /** Released runs by length, for reuse by the next slab of that many objects. */
  private readonly freeRuns = new Map<number, number[]>();

  constructor(nrPages: number) {
    this.slabBase = new Int32Array(nrPages).fill(-1);
    this.slabCount = new Int32Array(nrPages);
  }

  /** A new slab of `objects` objects at head pfn: records zeroed (kasan_init_object_meta). */
  initSlab(pfn: number, objects: number): void {
    if (this.slabBase[pfn]! >= 0) this.releaseSlab(pfn);
    let base: number;
    const runs = this.freeRuns.get(objects);
    if (runs !== undefined && runs.length > 0) {
      base = runs.pop()!;
    } else {
      base = this.used;
      this.used += objects;
      if (this.used * I_FIELDS > this.i32.length) this.grow(this.used);
    }
    this.i32.fill(0, base * I_FIELDS, (base + objects) * I_FIELDS);
    this.f64.fill(0, base * 2, (base + objects) * 2);
    this.slabBase[pfn] = base;
    this.slabCount[pfn] = objects;
  }

  /** The slab's pages went back to the page allocator. */
  releaseSlab(pfn: number): void {
    const base = this.slabBase[pfn]!;
    if (base < 0) return;
    const n = this.slabCount[pfn]!;
    let runs = this.freeRuns.get(n);
    if (runs === undefined) {
      runs = [];
      this.freeRuns.set(n, runs);
    }
    runs.push(base);
    this.slabBase[pfn] = -1;
    this.slabCount[pfn] = 0;
  }

  hasSlab(pfn: number): boolean {
    return this.slabBase[pfn]! >= 0;
  }

  private grow(records: number): void {
    let n = this.i32.length / I_FIELDS;
    while (n < records) n *= 2;
    const i32 = new Int32Array(n * I_FIELDS);
    i32.set(this.i32);
    const f64 = new Float64Array(n * 2);
    f64.set(this.f64);
    this.i32 = i32;
    this.f64 = f64;
  }

  /** The record of object `index` of the slab at pfn, or -1. */
  record(pfn: number, index: number): number {
    const base = this.slabBase[pfn]!;
    if (base < 0 || index < 0 || index >= this.slabCount[pfn]!) return -1;
    return base + index;
  }

  /** kasan_save_alloc_info(): the alloc track; the aux stacks are cleared with it. */
  setAlloc(r: number, pid: number, cpu: number, ts: number, stack: number): void {
    const o = r * I_FIELDS;
    const a = this.i32;
    a[o + I_ALLOC_PID] = pid;
    a[o + I_ALLOC_CPU] = cpu;
    a[o + I_ALLOC_STACK] = stack;
    a[o + I_AUX0] = 0;
    a[o + I_AUX1] = 0;
    this.f64[r * 2] = ts;
  }

  /** kasan_save_free_info(): the free track. */
  setFree(r: number, pid: number, cpu: number, ts: number, stack: number): void {
    const o = r * I_FIELDS;
    this.i32[o + I_FREE_PID] = pid;
    this.i32[o + I_FREE_CPU] = cpu;
    this.i32[o + I_FREE_STACK] = stack;
    this.f64[r * 2 + 1] = ts;
  }

  /** kasan_record_aux_stack(): the newest aux stack first, the older one shifted down. */
  addAux(r: number, stack: number): void {
    const o = r * I_FIELDS;
    this.i32[o + I_AUX1] = this.i32[o + I_AUX0]!;
    this.i32[o + I_AUX0] = stack;
  }

  /** The alloc track's stack handle alone. */
  allocStack(r: number): number {
    return this.i32[r * I_FIELDS + I_ALLOC_STACK]!;
  }

  alloc(r: number): RawTrack {
    const o = r * I_FIELDS;
    return { pid: this.i32[o + I_ALLOC_PID]!, cpu: this.i32[o + I_ALLOC_CPU]!, ts: this.f64[r * 2]!, stack: this.i32[o + I_ALLOC_STACK]! };
  }

  free(r: number): RawTrack {
    const o = r * I_FIELDS;
    return { pid: this.i32[o + I_FREE_PID]!, cpu: this.i32[o + I_FREE_CPU]!, ts: this.f64[r * 2 + 1]!, stack: this.i32[o + I_FREE_STACK]! };
  }

  /** Where setAlloc() keeps record r's alloc stack handle (for StackDepot.bind()). */
  allocStackAt(r: number): number {
    return r * I_FIELDS + I_ALLOC_STACK;
  }

  /** Where setFree() keeps record r's free stack handle. */
  freeStackAt(r: number): number {
    return r * I_FIELDS + I_FREE_STACK;
  }

  /** Where addAux() puts record r's newest aux stack handle. */
  auxStackAt(r: number): number {
    return r * I_FIELDS + I_AUX0;
  }

  /** StackHandleStore: does `where` still hold `handle`? An aux handle may have moved down to aux1. */
  holds(where: number, handle: number): boolean {
    const a = this.i32;
    if (where >= a.length) return false;
    return a[where] === handle || (where % I_FIELDS === I_AUX0 && a[where + 1] === handle);
  }

  /** StackHandleStore: the final handle in place of the pending one. */
  replace(where: number, handle: number, resolved: number): void {
    const a = this.i32;
    if (a[where] === handle) a[where] = resolved;
    if (where % I_FIELDS === I_AUX0 && a[where + 1] === handle) a[where + 1] = resolved;
  }

  aux(r: number): [number, number] {
    const o = r * I_FIELDS;
    return [this.i32[o + I_AUX0]!, this.i32[o + I_AUX1]!];
  }
}
