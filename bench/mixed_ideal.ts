/**
 * The mixed churn's ideal allocator (a contender of bench/slub.bench.ts's
 * benchMixed70_*): what any size-class allocator with a per-page lookup on
 * free must do, and nothing else. kmalloc's size classes (8 .. 4096), one
 * Uint32Array LIFO stack of free objects per class, the class of a freed
 * object from a per-page Int16Array (as virt_to_slab() finds the slab's
 * cache), fresh objects carved from 4 KiB pages (32 KiB for classes of 512
 * and more). No argument checks, no double-free check, no sheaf limits, no
 * slabs behind: the gap between it and the floor is the part of the
 * allocator's cost that no design can remove (the dependent lookup that
 * waits for the caller's cache miss on the slot it frees).
 */
import { sink } from './harness.js';
import { mixedSize } from './mixed_sizes.js';

const SIZES = [8, 16, 32, 64, 96, 128, 192, 256, 512, 1024, 2048, 4096];

export class IdealSizeClasses {
  /** Size (1 .. 4096) to class. */
  readonly classOf = new Int8Array(4097);
  /** Page (address >>> 12) to class, -1 for none. */
  readonly pageClass: Int16Array;
  /** Per class: free objects, a stack of `cap` slots at class * cap. */
  stacks: Uint32Array;
  cap = 1 << 16;
  readonly top = new Int32Array(SIZES.length);
  private readonly bumpAt = new Float64Array(SIZES.length);
  private readonly bumpEnd = new Float64Array(SIZES.length);
  private nextPage: number;

  /** An arena of `bytes` (addresses from 16 MiB, as kmem's first slabs). */
  constructor(bytes: number) {
    for (let s = 1, c = 0; s <= 4096; s++) {
      while (SIZES[c]! < s) c++;
      this.classOf[s] = c;
    }
    this.pageClass = new Int16Array(bytes >>> 12).fill(-1);
    this.nextPage = 4096;
    this.stacks = new Uint32Array(SIZES.length * this.cap);
  }

  /** A never-used object of class c (a new page for the class when its page is used up). */
  fresh(c: number): number {
    const size = SIZES[c]!;
    if (this.bumpAt[c]! + size > this.bumpEnd[c]!) {
      const pages = size >= 512 ? 8 : 1;
      if (this.nextPage + pages > this.pageClass.length) throw new RangeError('IdealSizeClasses: arena full');
      this.pageClass.fill(c, this.nextPage, this.nextPage + pages);
      this.bumpAt[c] = this.nextPage * 4096;
      this.bumpEnd[c] = (this.nextPage + pages) * 4096;
      this.nextPage += pages;
    }
    const a = this.bumpAt[c]!;
    this.bumpAt[c] = a + size;
    return a;
  }

  /** Every class's stack twice as deep (the stacks are copied). */
  grow(): void {
    const cap = this.cap * 2;
    const bigger = new Uint32Array(SIZES.length * cap);
    for (let c = 0; c < SIZES.length; c++) bigger.set(this.stacks.subarray(c * this.cap, c * this.cap + this.top[c]!), c * cap);
    this.stacks = bigger;
    this.cap = cap;
  }
}

/** n steps of the mixed workload on the ideal allocator: free a random live object, allocate one of a random size. */
export function idealMixed(a: IdealSizeClasses, live: Float64Array, rnd: () => number, n: number): number {
  const count = live.length;
  const classOf = a.classOf;
  const pageClass = a.pageClass;
  const top = a.top;
  let s = 0;
  for (let i = 0; i < n; i++) {
    const at = Math.floor(rnd() * count);
    // free: the class from the page, a push on its stack
    const obj = live[at]!;
    const fc = pageClass[obj >>> 12]!;
    const ft = top[fc]!;
    if (ft === a.cap) a.grow();
    a.stacks[fc * a.cap + ft] = obj;
    top[fc] = ft + 1;
    // alloc: a pop from the class's stack, or a fresh object
    const c = classOf[mixedSize(rnd)]!;
    const t = top[c]! - 1;
    let p: number;
    if (t >= 0) {
      top[c] = t;
      p = a.stacks[c * a.cap + t]!;
    } else {
      p = a.fresh(c);
    }
    s ^= p;
    live[at] = p;
  }
  sink(s);
  return n;
}
