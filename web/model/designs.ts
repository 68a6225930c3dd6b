/**
 * The Designs view's model: the per-CPU and per-node layers of the other
 * slab allocator designs, each on a small machine of its own (2 CPUs,
 * 64 MiB, the page's seed) driven by a guided scenario of real API calls:
 *
 *   slab      SLAB (mm/slab.c to 6.4): a cache's head arrays (avail/limit),
 *             the node's shared array and its three slab lists
 *   slob      SLOB (6.3's mm/slob.c): the three free lists and each page's
 *             free blocks with their units
 *   sheaves   SLUB's sheaves (6.18, a cache created with sheafCapacity):
 *             each CPU's main and spare sheaf, the barn's full and empty lists
 *
 * and the comparison `kmem replay --compare allocator=slab allocator=slob`
 * makes, run here on one seeded kmalloc/kfree workload replayed into a
 * machine of each design, sampling Slab: of /proc/meminfo as it goes.
 *
 * It reads the machines only through k.inspect and the public API.
 */
import { boot, type Kernel } from '../../src/index.js';
import type { SheavesSnapshot, SlabListsSnapshot, SlobSnapshot } from '../../src/inspect.js';

const GFP_KERNEL = 0xcc0;

export type DesignId = 'slab' | 'slob' | 'sheaves';

/** One design's machine and the objects its scenario holds. */
export class DesignLab {
  readonly k: Kernel;
  /** The scenario's cache (SLAB and sheaves), 0 for SLOB's kmalloc. */
  readonly cache: number;
  /** Objects allocated and not yet freed, oldest first. */
  readonly live: number[] = [];

  constructor(
    readonly design: DesignId,
    seed = 1,
  ) {
    const allocator = design === 'sheaves' ? 'slub' : design;
    this.k = boot({ memory: '64M', cpus: 2, seed, allocator });
    if (design === 'slab') this.cache = this.k.kmemCacheCreate('demo_obj', 256);
    else if (design === 'sheaves') this.cache = this.k.kmemCacheCreate('demo_obj', 256, { sheafCapacity: 8 });
    else this.cache = 0;
  }

  /** n objects allocated on cpu (kmalloc(size) under SLOB, the cache's otherwise). */
  alloc(cpu: number, n: number, size = 256): void {
    this.k.onCpu(cpu, () => {
      for (let i = 0; i < n; i++) {
        const a = this.cache === 0 ? this.k.kmalloc(size, GFP_KERNEL) : this.k.kmemCacheAlloc(this.cache, GFP_KERNEL);
        if (a !== 0) this.live.push(a);
      }
    });
  }

  /** The n oldest (or, with newest, the n newest) live objects freed on cpu. */
  free(cpu: number, n: number, newest = false): void {
    const take = newest ? this.live.splice(Math.max(0, this.live.length - n), n).reverse() : this.live.splice(0, n);
    this.k.onCpu(cpu, () => {
      for (const a of take) {
        if (this.cache === 0) this.k.kfree(a);
        else this.k.kmemCacheFree(this.cache, a);
      }
    });
  }

  /** The n oldest live objects given to kfree_rcu() on cpu. */
  kfreeRcu(cpu: number, n: number): void {
    const take = this.live.splice(0, n);
    this.k.onCpu(cpu, () => {
      for (const a of take) this.k.kfreeRcu(a);
    });
  }

  slab(): SlabListsSnapshot | null {
    return this.design === 'slab' ? this.k.inspect.slabLists(this.cache) : null;
  }
  slob(): SlobSnapshot | null {
    return this.k.inspect.slob();
  }
  sheaves(): SheavesSnapshot | null {
    return this.design === 'sheaves' ? this.k.inspect.sheaves(this.cache) : null;
  }
}

export interface DesignStep {
  run(lab: DesignLab): void;
  /** The step's sentence (may read the machine after the step). */
  text(lab: DesignLab): string;
}

export interface DesignScenario {
  id: DesignId;
  title: string;
  about: string;
  steps: DesignStep[];
}

const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);

export const DESIGN_SCENARIOS: DesignScenario[] = [
  {
    id: 'slab',
    title: 'SLAB: array caches',
    about: "a 256-byte cache under allocator: 'slab' on 2 CPUs: head arrays, the shared array, slabs_partial/full/free",
    steps: [
      {
        run: (l) => l.alloc(0, 1),
        text: (l) => {
          const s = l.slab()!;
          return `One allocation on CPU 0. Its head array was empty, so cache_alloc_refill() moved a batch from a new slab onto it (at most 16 while the array is untouched; batchcount is ${s.batchcount}, limit ${s.limit}) and popped one: CPU 0 now holds ${s.cpus[0]!.objects.length} free objects.`;
        },
      },
      {
        run: (l) => l.alloc(0, 40),
        text: (l) => {
          const s = l.slab()!;
          return `40 more on CPU 0: each pop is the fast path; every time the array runs dry, another refill of up to ${s.batchcount} objects (now touched) comes from the partial slabs, then new ones. ${s.partial.length + s.full.length + s.free.length} slabs of ${s.objperslab}.`;
        },
      },
      {
        run: (l) => l.free(1, 30),
        text: (l) => {
          const s = l.slab()!;
          return `30 of them freed on CPU 1: a free pushes on the freeing CPU's head array, whoever allocated the object. CPU 1 holds ${s.cpus[1]!.objects.length}; the slabs still count them as in use.`;
        },
      },
      {
        run: (l) => {
          l.alloc(1, 200);
          l.free(1, 200, true);
        },
        text: (l) => {
          const s = l.slab()!;
          return `CPU 1 allocates 200 and frees them again: its array fills to its limit (${s.limit}), and each free that finds it full first hands the oldest batch (${s.batchcount}) to the shared array (${s.shared.objects.length} of ${s.shared.limit} now), then back to their slabs once that is full (free_block).`;
        },
      },
      {
        run: (l) => {
          for (let i = 0; i < 5; i++) l.k.tick(2e9);
        },
        text: (l) => {
          const s = l.slab()!;
          return `Ten seconds pass: cache_reap() runs every 2 s on each CPU, draining a fifth of an untouched head array and the shared array back to the slabs, then freeing free slabs beyond free_limit (${s.freeLimit}). Head arrays: ${s.cpus.map((c) => c.objects.length).join(' and ')} objects; ${s.free.length} free slabs left.`;
        },
      },
    ],
  },
  {
    id: 'slob',
    title: 'SLOB: three free lists',
    about: "kmalloc under allocator: 'slob': first fit in pages on free_slob_small, _medium and _large",
    steps: [
      {
        run: (l) => l.alloc(0, 1, 100),
        text: (l) =>
          `kmalloc(100): a block of 108 bytes (the size header first), under 256 so from free_slob_small, which was empty: a new page. Its free block now has ${l.slob()!.lists[0]!.pages[0]?.units ?? 0} units (2 bytes each).`,
      },
      {
        run: (l) => {
          l.alloc(0, 1, 500);
          l.alloc(0, 1, 2000);
        },
        text: () => 'kmalloc(500) and kmalloc(2000): blocks of 508 and 2008 bytes, so free_slob_medium (under 1024) and free_slob_large: a new page on each.',
      },
      {
        run: (l) => l.alloc(0, 12, 64),
        text: (l) =>
          `Twelve kmalloc(64): a power of two is aligned to its size, so each 72-byte block is placed where block + 8 is 64-aligned, leaving small free fragments in front. The small list's page: ${l.slob()!.lists[0]!.pages[0]?.freeBlocks.length ?? 0} free blocks.`,
      },
      {
        run: (l) => {
          // free every other 64-byte block: holes SLOB can only reuse for requests that fit them
          const smalls = l.live.slice(3);
          l.k.onCpu(0, () => {
            for (let i = 0; i < smalls.length; i += 2) l.k.kfree(smalls[i]!);
          });
          for (let i = 0; i < smalls.length; i += 2) l.live.splice(l.live.indexOf(smalls[i]!), 1);
        },
        text: (l) =>
          `Every other 64-byte block freed: each goes back in address order, merged with a free neighbour when it touches one. ${sum(l.slob()!.lists.map((x) => x.pages.length))} partially free pages, ${l.slob()!.freeBytes} free bytes in them: SLOB's fragmentation.`,
      },
      {
        run: (l) => l.free(0, l.live.length),
        text: (l) => `Everything freed: a page whose last block comes back goes straight to the buddy allocator. Heap pages left: ${l.slob()!.heapPages}.`,
      },
    ],
  },
  {
    id: 'sheaves',
    title: 'Sheaves and the barn',
    about: 'a 256-byte SLUB cache created with sheafCapacity 8 (6.18): per-CPU main and spare sheaves, the barn’s full and empty lists',
    steps: [
      {
        run: (l) => l.alloc(0, 1),
        text: (l) =>
          `One allocation on CPU 0: its main sheaf was empty and the barn had no full one, so the sheaf was refilled from the slabs (capacity ${l.sheaves()!.capacity}) and the top object popped: ${l.sheaves()!.cpus[0]!.main?.objects.length ?? 0} left.`,
      },
      {
        run: (l) => l.alloc(0, 30),
        text: (l) => {
          const s = l.sheaves()!;
          return `Thirty more: each time the main sheaf runs empty it is refilled from the slabs again (an empty spare would be put in the barn's empty list first). CPU 0: main ${s.cpus[0]!.main?.objects.length ?? 0}, spare ${s.cpus[0]!.spare === null ? 'none' : s.cpus[0]!.spare.objects.length}.`;
        },
      },
      {
        run: (l) => l.free(1, 31),
        text: (l) => {
          const s = l.sheaves()!;
          return `All 31 freed on CPU 1: frees push on CPU 1's main sheaf; a full main becomes the spare, and with both full the full one goes to the barn's full list and an empty one takes its place. CPU 1: main ${s.cpus[1]!.main?.objects.length ?? 0}, spare ${s.cpus[1]!.spare?.objects.length ?? 'none'}; barn: ${s.barnFull.length} full, ${s.barnEmpty.length} empty.`;
        },
      },
      {
        run: (l) => l.alloc(0, 12),
        text: (l) => {
          const s = l.sheaves()!;
          return `CPU 0 allocates twelve: with its main sheaf empty it takes a full sheaf from the barn before going to the slabs (barn_replace_empty_sheaf), the objects CPU 1 freed, leaving its empty one there. Barn: ${s.barnFull.length} full, ${s.barnEmpty.length} empty.`;
        },
      },
      {
        run: (l) => l.kfreeRcu(0, 5),
        text: (l) => {
          const s = l.sheaves()!;
          return `kfree_rcu() of five on CPU 0: they may not be reused before a grace period, so they go on CPU 0's third sheaf, rcu_free (taken from the barn's empty list: ${s.barnEmpty.length} left there). It holds ${s.cpus[0]!.rcuFree?.objects.length ?? 0}.`;
        },
      },
      {
        run: (l) => l.kfreeRcu(0, 3),
        text: (l) =>
          `Three more fill it: the full rcu_free sheaf is detached and handed to call_rcu() as one callback. CPU 0's rcu_free: ${l.sheaves()!.cpus[0]!.rcuFree === null ? 'none' : 'still there'}; the barn has ${l.sheaves()!.barnFull.length} full.`,
      },
      {
        run: (l) => l.k.tick(8_000_000),
        text: (l) =>
          `A grace period later (8 ms of virtual time), rcu_free_sheaf() puts the whole sheaf in the barn's full list (${l.sheaves()!.barnFull.length} full): the next CPU whose main sheaf runs empty reuses those objects without them ever going back to their slab.`,
      },
    ],
  },
];

/** One design's Slab: memory over the comparison workload. */
export interface CompareSeries {
  label: string;
  /** Slab: of /proc/meminfo in kB after each sample's operations. */
  kB: number[];
  /** Operations (allocations and frees) done at each sample. */
  ops: number[];
}

/** Slab: of /proc/meminfo in kB. */
export function slabKb(k: Kernel): number {
  const m = /^Slab:\s+(\d+) kB$/m.exec(k.proc.read('/proc/meminfo'));
  return m ? Number(m[1]) : 0;
}

/**
 * The comparison `kmem replay --compare` prints, in the page: one seeded
 * kmalloc/kfree workload (sizes 8 .. 2048 bytes, up to `live` objects
 * live, a free when full or one time in three) replayed into a machine of
 * each design, Slab: sampled every `every` operations.
 */
export function compareDesigns(seed: number, ops = 3000, live = 400, every = 100): CompareSeries[] {
  const designs: [string, 'slub' | 'slab' | 'slob'][] = [
    ['allocator=slub (6.18)', 'slub'],
    ['allocator=slab', 'slab'],
    ['allocator=slob', 'slob'],
  ];
  return designs.map(([label, allocator]) => {
    const k = boot({ memory: '64M', cpus: 2, seed, allocator });
    let x = seed >>> 0 || 1;
    const rand = () => {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      x >>>= 0;
      return x;
    };
    const held: number[] = [];
    const out: CompareSeries = { label, kB: [slabKb(k)], ops: [0] };
    for (let i = 1; i <= ops; i++) {
      const r = rand();
      if (held.length > 0 && (held.length >= live || r % 3 === 0)) {
        const at = (r >>> 8) % held.length;
        k.kfree(held[at]!);
        held[at] = held[held.length - 1]!;
        held.pop();
      } else {
        const size = 8 << ((r >>> 4) % 9);
        const a = k.kmalloc(size - ((r >>> 12) % (size / 2)), GFP_KERNEL);
        if (a !== 0) held.push(a);
      }
      if (i % every === 0) {
        out.kB.push(slabKb(k));
        out.ops.push(i);
      }
    }
    return out;
  });
}

/** What the page draws of `kmem replay TRACE --compare ... --json`: per configuration, memory and its waste. */
export interface CompareTable {
  labels: string[];
  /** Slab: of /proc/meminfo at the end, kB. */
  slabKb: number[];
  /** Free bytes in partial slabs (SLOB: partially used pages), kB. */
  partialKb: number[];
  /** Internal waste, kB. */
  internalKb: number[];
  /** Slow-path allocations (SLUB: alloc_slowpath; SLAB: refills; SLOB: pages taken). */
  slowAlloc: number[];
}

/**
 * The output of `kmem replay --compare ... --json` (its `configurations`)
 * as the chart's columns; a RangeError naming what is missing when the text
 * is not that output.
 */
export function compareFromJson(text: string): CompareTable {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new RangeError(`not JSON: ${(e as Error).message}`);
  }
  const rows = (doc as { configurations?: unknown })?.configurations;
  if (!Array.isArray(rows) || rows.length === 0) throw new RangeError('configurations: expected the output of kmem replay --compare ... --json');
  const t: CompareTable = { labels: [], slabKb: [], partialKb: [], internalKb: [], slowAlloc: [] };
  for (const [i, r] of rows.entries()) {
    const row = r as {
      label?: unknown;
      slab?: { kB?: unknown };
      partial?: { freeBytes?: unknown };
      waste?: { internal?: unknown };
      slowpath?: { alloc?: unknown };
    };
    if (typeof row.label !== 'string' || typeof row.slab?.kB !== 'number') throw new RangeError(`configurations[${i}]: expected a label and slab.kB`);
    t.labels.push(row.label);
    t.slabKb.push(row.slab.kB);
    t.partialKb.push(typeof row.partial?.freeBytes === 'number' ? row.partial.freeBytes / 1024 : 0);
    t.internalKb.push(typeof row.waste?.internal === 'number' ? row.waste.internal / 1024 : 0);
    t.slowAlloc.push(typeof row.slowpath?.alloc === 'number' ? row.slowpath.alloc : 0);
  }
  return t;
}
