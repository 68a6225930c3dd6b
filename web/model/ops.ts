/**
 * The operations the browser view runs against a machine, one at a time.
 *
 * Every workload, trace and scenario is turned into a list of these. An
 * operation names its objects by handle (a small integer the producer picks),
 * never by address: the address is whatever the machine returns, and the
 * machine is deterministic for a seed, so replaying the same list from boot
 * rebuilds the same state. That is what time travel relies on.
 */

/** kmem_cache_create(name, size, {align, flags}); later operations name the cache. */
export interface CreateOp {
  t: 'create';
  name: string;
  size: number;
  align?: number;
  flags?: number;
}

/** kmem_cache_alloc(cache) on a CPU; the object becomes handle h. */
export interface AllocOp {
  t: 'alloc';
  cpu: number;
  cache: string;
  gfp?: number;
  h: number;
  /** The caller's name, as kernel reports print it (default kmem_view_<call>). */
  fn?: string;
}

/** kmalloc(size) on a CPU; the object becomes handle h. */
export interface KmallocOp {
  t: 'kmalloc';
  cpu: number;
  size: number;
  gfp?: number;
  h: number;
  /** The caller's name, as kernel reports print it (default kmem_view_<call>). */
  fn?: string;
}

/** kfree / kmem_cache_free of handle h (whichever allocated it) on a CPU. */
export interface FreeOp {
  t: 'free';
  cpu: number;
  h: number;
  /** The caller's name, as kernel reports print it (default kmem_view_<call>). */
  fn?: string;
}

/** alloc_pages(gfp, order) on a CPU; the block becomes handle h. */
export interface PagesOp {
  t: 'pages';
  cpu: number;
  order: number;
  gfp: number;
  h: number;
  /** The caller's name, as kernel reports print it (default kmem_view_<call>). */
  fn?: string;
}

/** __free_pages of handle h on a CPU. */
export interface FreePagesOp {
  t: 'freepages';
  cpu: number;
  h: number;
  /** The caller's name, as kernel reports print it (default kmem_view_<call>). */
  fn?: string;
}

/** kmem_cache_shrink(cache): flush_all (deactivate_slab on every CPU) and drop empty slabs. */
export interface ShrinkOp {
  t: 'shrink';
  cpu: number;
  cache: string;
  /** The caller's name, as kernel reports print it (default kmem_view_<call>). */
  fn?: string;
}

/** drain_all_pages(): every pcp list back to the buddy free lists. */
export interface DrainOp {
  t: 'drain';
}

/** A load or store of `size` bytes at handle h + offset (KASAN checks it when on). */
export interface AccessOp {
  t: 'access';
  cpu: number;
  h: number;
  offset: number;
  size: 1 | 2 | 4 | 8;
  write: boolean;
  /** The caller's name, as kernel reports print it (default kmem_view_<call>). */
  fn?: string;
}

export type Op = CreateOp | AllocOp | KmallocOp | FreeOp | PagesOp | FreePagesOp | ShrinkOp | DrainOp | AccessOp;

/** Something that makes operations: a workload or a parsed trace. */
export interface OpSource {
  /** Shown in the controls. */
  readonly name: string;
  /** The next operation, or null when the source has no more. */
  next(): Op | null;
}

/** An OpSource over a fixed list (a trace, a scenario). */
export class ListSource implements OpSource {
  private i = 0;
  constructor(
    readonly name: string,
    private readonly ops: readonly Op[],
  ) {}
  next(): Op | null {
    return this.i < this.ops.length ? this.ops[this.i++]! : null;
  }
}
