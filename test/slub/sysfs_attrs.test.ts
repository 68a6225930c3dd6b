/**
 * /sys/kernel/slab/<cache>/<attr> as mm/slub.c prints them, for a known
 * state driven through the allocator: the object and slab counts of
 * show_slab_objects() (SO_ALL / SO_PARTIAL / SO_CPU with SO_OBJECTS /
 * SO_TOTAL; CONFIG_NUMA, so a nonzero count is followed by " N0=<n>"),
 * slabs_cpu_partial_show(), the min_partial / cpu_partial tunables,
 * ctor_show() and aliases_show(); the slab pages in /proc/vmstat
 * (nr_slab_reclaimable / nr_slab_unreclaimable, in pages); and the
 * CONFIG_SLUB_STATS files (show_stat(): the sum, then " C<cpu>=<n>" for each
 * CPU whose count is nonzero).
 *
 * The caches below are SLAB_NO_MERGE, so their sysfs directory is their name.
 * A 256-byte cache has s->size 256 (the free pointer sits inside the object)
 * and, with 1 or 2 CPUs, calculate_order() wants min_objects
 * 4 * (fls(nr_cpus) + 1) = 8 or 12 objects: get_order(12 * 256) = 0, and
 * order 0 holds 4096 / 256 = 16 objects with nothing left over. So
 * objs_per_slab = 16, min_partial = max(5, ilog2(256) / 2) = 5,
 * cpu_partial = 52 (256 <= size < 1024) and cpu_partial_slabs =
 * DIV_ROUND_UP(52 * 2, 16) = 7. Every expected value is worked out from these
 * rules in the comments, not taken from a kmem run.
 */
import { describe, expect, it } from 'vitest';
import { boot, type Kernel } from '../../src/kernel.js';
import { GFP_KERNEL } from '../../src/page_alloc/gfp.js';
import { SLAB_CONSISTENCY_CHECKS, SLAB_NO_MERGE, SLAB_RECLAIM_ACCOUNT } from '../../src/slub/slab_flags.js';

/** enum stat_item in mm/slub.c, as the STAT_ATTR() files are named. */
const STAT_FILES = [
  'alloc_fastpath',
  'alloc_slowpath',
  'free_fastpath',
  'free_slowpath',
  'free_frozen',
  'free_add_partial',
  'free_remove_partial',
  'alloc_from_partial',
  'alloc_slab',
  'alloc_refill',
  'alloc_node_mismatch',
  'free_slab',
  'cpuslab_flush',
  'deactivate_full',
  'deactivate_empty',
  'deactivate_to_head',
  'deactivate_to_tail',
  'deactivate_remote_frees',
  'deactivate_bypass',
  'order_fallback',
  'cmpxchg_double_cpu_fail',
  'cmpxchg_double_fail',
  'cpu_partial_alloc',
  'cpu_partial_free',
  'cpu_partial_node',
  'cpu_partial_drain',
] as const;

const NAME = 'sysfs_t256';

function setup(cpus: number, slubStats = true): { k: Kernel; c: number; attr: (a: string) => string } {
  const k = boot({ memory: '64M', cpus, slubStats });
  const c = k.kmemCacheCreate(NAME, 256, { flags: SLAB_NO_MERGE });
  return { k, c, attr: (a) => k.sys.read(`/sys/kernel/slab/${NAME}/${a}`) };
}

/** Read several attributes at once, so a failure shows the whole state. */
function attrs(attr: (a: string) => string, names: string[]): Record<string, string> {
  return Object.fromEntries(names.map((n) => [n, attr(n)]));
}

/** The stat files that are not "0\n": the others are checked to be zero by leaving them out. */
function nonzeroStats(attr: (a: string) => string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const s of STAT_FILES) {
    const v = attr(s);
    if (v !== '0\n') out[s] = v;
  }
  return out;
}

function vmstat(k: Kernel, item: string): number {
  const m = new RegExp(`^${item} (\\d+)$`, 'm').exec(k.proc.read('/proc/vmstat'));
  expect(m).not.toBeNull();
  return Number(m![1]);
}

const allocN = (k: Kernel, c: number, n: number): number[] => Array.from({ length: n }, () => k.kmemCacheAlloc(c, GFP_KERNEL));

const COUNTS = ['slabs', 'total_objects', 'objects', 'partial', 'objects_partial', 'cpu_slabs', 'slabs_cpu_partial'];

/**
 * The two-CPU scenario most tests below build on, step by step (16 objects a
 * slab, address order: objs[0..15] are slab A, [16..31] B, [32..39] C).
 *  1. CPU0 allocates 40: A and B end full and off every list, C is CPU0's
 *     cpu slab with 8 objects left on its lockless freelist.
 *  2. CPU1 allocates one (a new slab D, its cpu slab), then frees objs[0]
 *     (A was full: A goes on CPU1's partial list), objs[16] and objs[17]
 *     (B likewise, the second free only returns the object) and objs[32]
 *     (C is frozen, CPU0's: just the object).
 */
function remoteFrees(k: Kernel, c: number): { objs: number[]; d: number } {
  const objs = allocN(k, c, 40);
  const d = k.onCpu(1, () => k.kmemCacheAlloc(c, GFP_KERNEL));
  k.onCpu(1, () => {
    for (const i of [0, 16, 17, 32]) k.kmemCacheFree(c, objs[i]!);
  });
  return { objs, d };
}

describe('tunables: min_partial and cpu_partial', () => {
  it('min_partial is ilog2(size) / 2 clamped to [5, 10]; cpu_partial goes by size, 0 for a debug cache', () => {
    const k = boot({ memory: '64M', cpus: 2 });
    const read = (name: string, a: string) => k.sys.read(`/sys/kernel/slab/${name}/${a}`);
    // kmem_cache_open(): min_partial = min(10, ilog2(size) / 2), at least 5.
    // set_cpu_partial(): size >= PAGE_SIZE 6, >= 1024 24, >= 256 52, else 120.
    const cases: [number, string, string][] = [
      [64, '5\n', '120\n'], // ilog2 6 -> 3 -> 5
      [256, '5\n', '52\n'], // ilog2 8 -> 4 -> 5
      [1024, '5\n', '24\n'], // ilog2 10 -> 5
      [4096, '6\n', '6\n'], // ilog2 12 -> 6
      [16384, '7\n', '6\n'], // ilog2 14 -> 7
    ];
    for (const [size, minPartial, cpuPartial] of cases) {
      const name = `tunable_${size}`;
      k.kmemCacheCreate(name, size, { flags: SLAB_NO_MERGE });
      expect([size, read(name, 'min_partial'), read(name, 'cpu_partial')]).toEqual([size, minPartial, cpuPartial]);
    }
    // kmem_cache_has_cpu_partial() is false for a cache with SLAB_DEBUG_FLAGS.
    k.kmemCacheCreate('tunable_debug', 256, { flags: SLAB_NO_MERGE | SLAB_CONSISTENCY_CHECKS });
    expect(read('tunable_debug', 'cpu_partial')).toBe('0\n');
  });
});

describe('object and slab counts', () => {
  it('filling slabs on one CPU: the full slabs and the whole cpu slab count as objects in use', () => {
    const { k, c, attr } = setup(2);
    // No slabs yet: every count a bare 0 (no N0= for a zero node), 0(0).
    expect(attr('objs_per_slab')).toBe('16\n');
    expect(attrs(attr, COUNTS)).toEqual({
      slabs: '0\n',
      total_objects: '0\n',
      objects: '0\n',
      partial: '0\n',
      objects_partial: '0\n',
      cpu_slabs: '0\n',
      slabs_cpu_partial: '0(0)\n',
    });
    allocN(k, c, 40);
    // 3 slabs of 16. "objects" is total_objects minus the free objects of the
    // node partial list (empty): the 8 objects on CPU0's lockless freelist
    // still count, since the cpu slab's inuse is all 16 while it is frozen.
    expect(attrs(attr, COUNTS)).toEqual({
      slabs: '3 N0=3\n',
      total_objects: '48 N0=48\n',
      objects: '48 N0=48\n',
      partial: '0\n',
      objects_partial: '0\n',
      cpu_slabs: '1 N0=1\n',
      slabs_cpu_partial: '0(0)\n',
    });
  });

  it('frees from another CPU put full slabs on that CPU partial list, not on the node list', () => {
    const { k, c, attr } = setup(2);
    remoteFrees(k, c);
    // 4 slabs (A, B, C, D); nothing reached the node partial list, so objects
    // is still every object of every slab. cpu_slabs: CPU0's cpu slab C (1),
    // CPU1's cpu slab D (1) plus the slabs count of CPU1's partial list, 2.
    // slabs_cpu_partial: 2 slabs * 16 objects / 2 = 16, all on CPU1.
    expect(attrs(attr, COUNTS)).toEqual({
      slabs: '4 N0=4\n',
      total_objects: '64 N0=64\n',
      objects: '64 N0=64\n',
      partial: '0\n',
      objects_partial: '0\n',
      cpu_slabs: '4 N0=4\n',
      slabs_cpu_partial: '16(2) C1=16(2)\n',
    });
  });

  it('kmem_cache_shrink() flushes every CPU to the node partial list and keeps the slabs still in use', () => {
    const { k, c, attr } = setup(2);
    remoteFrees(k, c);
    k.kmemCacheShrink(c);
    // deactivate_slab() gives C back with 7 in use (16 - the remote free -
    // the 8 on CPU0's freelist), D with 1; __put_partials() moves A (15 in
    // use) and B (14). None is empty, so all 4 stay on the node partial list.
    // objects = 64 - free on the node list (1 + 2 + 9 + 15 = 27) = 37, which
    // is also the in-use count there; 41 allocated - 4 freed = 37.
    expect(attrs(attr, COUNTS)).toEqual({
      slabs: '4 N0=4\n',
      total_objects: '64 N0=64\n',
      objects: '37 N0=37\n',
      partial: '4 N0=4\n',
      objects_partial: '37 N0=37\n',
      cpu_slabs: '0\n',
      slabs_cpu_partial: '0(0)\n',
    });
  });

  it('an allocation takes the fullest node partial slab as cpu slab and moves the rest to the cpu partial list', () => {
    const { k, c, attr } = setup(2);
    const { objs, d } = remoteFrees(k, c);
    k.kmemCacheShrink(c);
    // The shrink sorted the node list by free objects: A (1), B (2), C (9),
    // D (15). get_partial_node() freezes A and hands out its one free object,
    // then puts B, C, D on CPU0's partial list, stopping only at the list's
    // end (partial_slabs 3 is not > cpu_partial_slabs / 2 = 3). The chain's
    // head, D, records slabs = 3: 3 * 16 / 2 = 24.
    expect(k.kmemCacheAlloc(c, GFP_KERNEL)).toBe(objs[0]);
    expect(attrs(attr, COUNTS)).toEqual({
      slabs: '4 N0=4\n',
      total_objects: '64 N0=64\n',
      objects: '64 N0=64\n',
      partial: '0\n',
      objects_partial: '0\n',
      cpu_slabs: '4 N0=4\n',
      slabs_cpu_partial: '24(3) C0=24(3)\n',
    });
    // A is now full: the next allocation takes the cpu partial list's head D,
    // whose freelist is the 15 objects after D's first, in order.
    expect(k.kmemCacheAlloc(c, GFP_KERNEL)).toBe(d + 256);
    expect(attrs(attr, ['cpu_slabs', 'slabs_cpu_partial'])).toEqual({ cpu_slabs: '3 N0=3\n', slabs_cpu_partial: '16(2) C0=16(2)\n' });
  });
});

describe('cpu_slabs skips a CPU that has no cpu slab', () => {
  it('cpu partial slabs of a CPU without a cpu slab are not counted (show_slab_objects: if (!slab) continue)', () => {
    const { k, c, attr } = setup(2);
    const objs = allocN(k, c, 40);
    // CPU1 has never allocated: its frees put slabs A and B (full until now)
    // on CPU1's partial list, but CPU1 has no cpu slab, so only CPU0's cpu
    // slab C counts. slabs_cpu_partial reads the partial lists regardless.
    k.onCpu(1, () => {
      for (const i of [0, 16, 17, 32]) k.kmemCacheFree(c, objs[i]!);
    });
    expect(attrs(attr, ['cpu_slabs', 'slabs_cpu_partial'])).toEqual({ cpu_slabs: '1 N0=1\n', slabs_cpu_partial: '16(2) C1=16(2)\n' });
  });
});

describe('aliases and ctor', () => {
  it('aliases is refcount - 1: the caches merged into one, under every name', () => {
    const k = boot({ memory: '64M', cpus: 2 });
    // 200 and 196 both round to s->size 200; nothing else of that size can merge.
    const a = k.kmemCacheCreate('merge_a', 200, {});
    expect(k.sys.read('/sys/kernel/slab/merge_a/aliases')).toBe('0\n');
    expect(k.kmemCacheCreate('merge_b', 200, {})).toBe(a);
    expect(k.kmemCacheCreate('merge_c', 196, {})).toBe(a);
    for (const name of ['merge_a', 'merge_b', 'merge_c']) expect(k.sys.read(`/sys/kernel/slab/${name}/aliases`)).toBe('2\n');
    // A SLAB_NO_MERGE cache never gets any.
    k.kmemCacheCreate('merge_none', 200, { flags: SLAB_NO_MERGE });
    expect(k.sys.read('/sys/kernel/slab/merge_none/aliases')).toBe('0\n');
  });

  it('ctor is empty without a constructor, and the %pS of the function with one', () => {
    const k = boot({ memory: '64M', cpus: 2 });
    k.kmemCacheCreate('no_ctor', 64, { flags: SLAB_NO_MERGE });
    function fooCtor(_addr: number): void {}
    k.kmemCacheCreate('with_ctor', 64, { ctor: fooCtor });
    // ctor_show(): return 0 for no ctor, so the file is empty.
    expect(k.sys.read('/sys/kernel/slab/no_ctor/ctor')).toBe('');
    // "%pS\n": symbol+offset/size; the pointer is the function's start, +0x0.
    expect(k.sys.read('/sys/kernel/slab/with_ctor/ctor')).toMatch(/^fooCtor\+0x0\/0x[0-9a-f]+\n$/);
  });
});

describe('/proc/vmstat slab pages', () => {
  // A 1024-byte cache on 2 CPUs: min_objects 12, get_order(12 * 1024) = 2,
  // and order 2 holds 16384 / 1024 = 16 objects exactly: 4 pages a slab.
  it('slab pages count in nr_slab_unreclaimable, or nr_slab_reclaimable for SLAB_RECLAIM_ACCOUNT, until the slabs are freed', () => {
    const k = boot({ memory: '64M', cpus: 2 });
    const un = k.kmemCacheCreate('vm_unrecl', 1024, { flags: SLAB_NO_MERGE });
    const re = k.kmemCacheCreate('vm_recl', 1024, { flags: SLAB_NO_MERGE | SLAB_RECLAIM_ACCOUNT });
    expect([k.sys.read('/sys/kernel/slab/vm_unrecl/order'), k.sys.read('/sys/kernel/slab/vm_unrecl/objs_per_slab')]).toEqual(['2\n', '16\n']);
    expect(k.sys.read('/sys/kernel/slab/vm_recl/reclaim_account')).toBe('1\n');
    const u0 = vmstat(k, 'nr_slab_unreclaimable');
    const r0 = vmstat(k, 'nr_slab_reclaimable');
    const delta = () => [vmstat(k, 'nr_slab_unreclaimable') - u0, vmstat(k, 'nr_slab_reclaimable') - r0];
    const a = allocN(k, un, 17); // 2 slabs of 4 pages
    expect(delta()).toEqual([8, 0]);
    const b = allocN(k, re, 33); // 3 slabs of 4 pages
    expect(delta()).toEqual([8, 12]);
    // Free everything: full slabs go to the cpu partial list, the cpu slab
    // keeps its objects, so no page is given back yet...
    for (const o of a) k.kmemCacheFree(un, o);
    for (const o of b) k.kmemCacheFree(re, o);
    expect(delta()).toEqual([8, 12]);
    // ...until the shrink flushes them to the node list and discards every
    // empty slab there, whatever min_partial says.
    k.kmemCacheShrink(un);
    expect(delta()).toEqual([0, 12]);
    k.kmemCacheShrink(re);
    expect(delta()).toEqual([0, 0]);
  });
});

describe('CONFIG_SLUB_STATS files', () => {
  it('all 26 exist and read "0" on a new cache', () => {
    const { attr } = setup(2);
    for (const s of STAT_FILES) expect([s, attr(s)]).toEqual([s, '0\n']);
  });

  it('without CONFIG_SLUB_STATS none of them exists', () => {
    const { k, c, attr } = setup(2, false);
    allocN(k, c, 40);
    expect(attr('objects')).toBe('48 N0=48\n');
    for (const s of STAT_FILES) {
      let err: unknown;
      try {
        attr(s);
      } catch (e) {
        err = e;
      }
      expect([s, (err as { code?: string } | undefined)?.code]).toEqual([s, 'ENOENT']);
    }
  });

  it('one CPU filling slabs and freeing: the fast and slow paths, alloc_slab, deactivate_bypass, cpu_partial_free', () => {
    const { k, c, attr } = setup(2);
    const objs = allocN(k, c, 40);
    // Each new slab costs one slow path (ALLOC_SLOWPATH + ALLOC_SLAB); from
    // the second on, the slow path first finds the cpu slab's freelist empty
    // and drops it (DEACTIVATE_BYPASS). The other 40 - 3 allocations pop the
    // lockless freelist (ALLOC_FASTPATH).
    expect(nonzeroStats(attr)).toEqual({
      alloc_fastpath: '37 C0=37\n',
      alloc_slowpath: '3 C0=3\n',
      alloc_slab: '3 C0=3\n',
      deactivate_bypass: '2 C0=2\n',
    });
    // objs[39] is in the cpu slab C: FREE_FASTPATH. objs[0] is in the full
    // slab A: __slab_free (FREE_SLOWPATH) puts A on the cpu partial list
    // (CPU_PARTIAL_FREE); objs[1] then finds A partial and off the node
    // list: FREE_SLOWPATH only.
    for (const i of [39, 0, 1]) k.kmemCacheFree(c, objs[i]!);
    expect(nonzeroStats(attr)).toEqual({
      alloc_fastpath: '37 C0=37\n',
      alloc_slowpath: '3 C0=3\n',
      alloc_slab: '3 C0=3\n',
      deactivate_bypass: '2 C0=2\n',
      free_fastpath: '1 C0=1\n',
      free_slowpath: '2 C0=2\n',
      cpu_partial_free: '1 C0=1\n',
    });
  });

  it('remote frees, a flush of both CPUs, and a refill from the partial lists count on the CPU that ran them', () => {
    const { k, c, attr } = setup(2);
    remoteFrees(k, c);
    // CPU1: one allocation, a new slab (slow path); 4 slow frees, of which
    // the two into full slabs refill its partial list and the one into
    // CPU0's frozen cpu slab is FREE_FROZEN.
    const afterFrees = {
      alloc_fastpath: '37 C0=37\n',
      alloc_slowpath: '4 C0=3 C1=1\n',
      alloc_slab: '4 C0=3 C1=1\n',
      deactivate_bypass: '2 C0=2\n',
      free_slowpath: '4 C1=4\n',
      free_frozen: '1 C1=1\n',
      cpu_partial_free: '2 C1=2\n',
    };
    expect(nonzeroStats(attr)).toEqual(afterFrees);
    // flush_all() runs each CPU's flush on that CPU. CPU0: C had a remote
    // free on slab->freelist (DEACTIVATE_REMOTE_FREES) so it goes to the
    // tail (DEACTIVATE_TO_TAIL), CPUSLAB_FLUSH. CPU1: D had none, to the head
    // (DEACTIVATE_TO_HEAD), CPUSLAB_FLUSH; then its partial list B, A goes to
    // the node list (FREE_ADD_PARTIAL twice). Nothing is empty, nothing freed.
    k.kmemCacheShrink(c);
    const afterShrink = {
      ...afterFrees,
      cpuslab_flush: '2 C0=1 C1=1\n',
      deactivate_remote_frees: '1 C0=1\n',
      deactivate_to_tail: '1 C0=1\n',
      deactivate_to_head: '1 C1=1\n',
      free_add_partial: '2 C1=2\n',
    };
    expect(nonzeroStats(attr)).toEqual(afterShrink);
    // CPU0 allocates: slow path, no cpu slab, no cpu partials, so
    // get_partial_node(): A (ALLOC_FROM_PARTIAL), B, C, D to the cpu partial
    // list (CPU_PARTIAL_NODE x3). Then A is used up: slow path, empty
    // freelist (DEACTIVATE_BYPASS), the cpu partial head (CPU_PARTIAL_ALLOC).
    k.kmemCacheAlloc(c, GFP_KERNEL);
    k.kmemCacheAlloc(c, GFP_KERNEL);
    expect(nonzeroStats(attr)).toEqual({
      ...afterShrink,
      alloc_slowpath: '6 C0=5 C1=1\n',
      alloc_from_partial: '1 C0=1\n',
      cpu_partial_node: '3 C0=3\n',
      deactivate_bypass: '3 C0=3\n',
      cpu_partial_alloc: '1 C0=1\n',
    });
  });

  it('a remote free into a drained cpu slab is taken back by alloc_refill; a full cpu slab flushes as deactivate_full', () => {
    const { k, c, attr } = setup(2);
    const objs = allocN(k, c, 16); // one slab, its lockless freelist now empty
    k.onCpu(1, () => k.kmemCacheFree(c, objs[5]!)); // onto the frozen slab's own freelist
    // The slow path finds the cpu slab's slab->freelist non-empty
    // (get_freelist): ALLOC_REFILL, and the object is that one.
    expect(k.kmemCacheAlloc(c, GFP_KERNEL)).toBe(objs[5]);
    // The slab is full again with nothing on either freelist: flushing it is
    // DEACTIVATE_FULL, and it stays off every list.
    k.kmemCacheShrink(c);
    expect(nonzeroStats(attr)).toEqual({
      alloc_fastpath: '15 C0=15\n',
      alloc_slowpath: '2 C0=2\n',
      alloc_slab: '1 C0=1\n',
      alloc_refill: '1 C0=1\n',
      free_slowpath: '1 C1=1\n',
      free_frozen: '1 C1=1\n',
      cpuslab_flush: '1 C0=1\n',
      deactivate_full: '1 C0=1\n',
    });
    expect(attrs(attr, ['slabs', 'objects', 'partial', 'cpu_slabs'])).toEqual({
      slabs: '1 N0=1\n',
      objects: '16 N0=16\n',
      partial: '0\n',
      cpu_slabs: '0\n',
    });
  });

  it('a full cpu partial list drains to the node; empty slabs are freed once the node keeps min_partial', () => {
    const { k, c, attr } = setup(1);
    // 1 CPU: min_objects 8, still 16 objects a slab, cpu_partial_slabs 7, min_partial 5.
    // 129 objects: slabs S0..S7 full, S8 the cpu slab with one object out.
    const objs = allocN(k, c, 129);
    // One free into each full slab S0..S7: S0..S6 make a cpu partial list of
    // 7; for S7, put_cpu_partial() finds 7 >= cpu_partial_slabs and moves the
    // 7 to the node list first (CPU_PARTIAL_DRAIN, FREE_ADD_PARTIAL x7).
    for (let s = 0; s < 8; s++) k.kmemCacheFree(c, objs[s * 16]!);
    const base = {
      alloc_fastpath: '120 C0=120\n',
      alloc_slowpath: '9 C0=9\n',
      alloc_slab: '9 C0=9\n',
      deactivate_bypass: '8 C0=8\n',
      free_slowpath: '8 C0=8\n',
      cpu_partial_free: '8 C0=8\n',
      cpu_partial_drain: '1 C0=1\n',
    };
    expect(nonzeroStats(attr)).toEqual({ ...base, free_add_partial: '7 C0=7\n' });
    // objects = 144 - the 7 free on the node list; cpu_slabs = S8 + the
    // one-slab partial list (S7): 16 / 2 = 8 objects.
    expect(attrs(attr, COUNTS)).toEqual({
      slabs: '9 N0=9\n',
      total_objects: '144 N0=144\n',
      objects: '137 N0=137\n',
      partial: '7 N0=7\n',
      objects_partial: '105 N0=105\n',
      cpu_slabs: '2 N0=2\n',
      slabs_cpu_partial: '8(1) C0=8(1)\n',
    });
    // S8's only object back (FREE_FASTPATH); the shrink's flush finds S8
    // empty with 7 >= min_partial slabs on the node: DEACTIVATE_EMPTY and
    // FREE_SLAB; S7 joins the node list (FREE_ADD_PARTIAL).
    k.kmemCacheFree(c, objs[128]!);
    k.kmemCacheShrink(c);
    const shrunk = {
      ...base,
      free_fastpath: '1 C0=1\n',
      free_add_partial: '8 C0=8\n',
      cpuslab_flush: '1 C0=1\n',
      deactivate_empty: '1 C0=1\n',
      free_slab: '1 C0=1\n',
    };
    expect(nonzeroStats(attr)).toEqual(shrunk);
    // Emptying S0 on the node list (8 >= min_partial): 15 slow frees, the
    // last takes it off the list (FREE_REMOVE_PARTIAL) and frees it.
    for (let i = 1; i < 16; i++) k.kmemCacheFree(c, objs[i]!);
    expect(nonzeroStats(attr)).toEqual({
      ...shrunk,
      free_slowpath: '23 C0=23\n',
      free_remove_partial: '1 C0=1\n',
      free_slab: '2 C0=2\n',
    });
    // S1..S7 are left, 15 in use each.
    expect(attrs(attr, COUNTS)).toEqual({
      slabs: '7 N0=7\n',
      total_objects: '112 N0=112\n',
      objects: '105 N0=105\n',
      partial: '7 N0=7\n',
      objects_partial: '105 N0=105\n',
      cpu_slabs: '0\n',
      slabs_cpu_partial: '0(0)\n',
    });
  });
});
