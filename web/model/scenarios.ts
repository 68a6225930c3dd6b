/**
 * Guided scenarios: short scripted sequences, each step a few operations and
 * a sentence about what they did. The sentences read the machine after the
 * step ran, so the numbers in them are the machine's own.
 */
import { GFP_HIGHUSER_MOVABLE, GFP_KERNEL, SLAB_HWCACHE_ALIGN, SLAB_NO_MERGE } from '../../src/index.js';
import { buddyView } from './buddy.js';
import { objectIndex, type SlabView, slabView } from './caches.js';
import { hex, px } from './format.js';
import { kasanReports } from './kasan.js';
import { blockMigratetype } from './memmap.js';
import type { Op } from './ops.js';
import type { MachineConfig, Session } from './session.js';

/** Which panel a step wants in front, and what to point at. */
export interface Focus {
  tab?: 'caches' | 'buddy' | 'kasan' | 'charts' | 'dmesg';
  /** Select this cache in the caches panel. */
  cache?: string;
  /** Highlight the object (or page block) held by this handle. */
  handle?: number;
  /** Zoom the memory map to this handle's pageblock. */
  zoomHandle?: number;
  /** Bytes past the handle's address to point the shadow grid at. */
  offset?: number;
}

export interface ScenarioStep {
  ops: Op[];
  /** The sentence, written after the step ran. */
  text: (c: StepContext) => string;
  focus?: Focus;
}

export interface Scenario {
  id: string;
  title: string;
  about: string;
  needsKasan: boolean;
  config: Partial<MachineConfig>;
  steps: ScenarioStep[];
}

/** What a step's sentence can ask about the machine. */
export class StepContext {
  constructor(readonly s: Session) {}
  /** The address a handle holds (or last held), as the kernel prints it. */
  addr(h: number): string {
    const a = this.s.addrOf(h) || this.lastAddr(h);
    return a ? px(a) : 'NULL';
  }
  lastAddr(h: number): number {
    const ops = this.s.ops;
    for (let i = Math.min(this.s.pos, this.s.rec.n) - 1; i >= 0; i--) {
      const op = ops[i]!;
      if ((op.t === 'alloc' || op.t === 'kmalloc' || op.t === 'pages') && op.h === h) return this.s.rec.addr[i]!;
    }
    return 0;
  }
  /** The slab holding a handle's object, as the caches panel sees it. */
  slab(h: number): SlabView | null {
    const a = this.s.addrOf(h) || this.lastAddr(h);
    const [cache, head] = this.s.slabOf(a);
    if (cache < 0) return null;
    return slabView(this.s.k, cache, head);
  }
  /** The object's index in its slab. */
  index(h: number): number {
    const a = this.s.addrOf(h) || this.lastAddr(h);
    const [cache, head] = this.s.slabOf(a);
    return cache < 0 ? -1 : objectIndex(this.s.k, cache, head, a);
  }
  objectsPerSlab(cache: string): number {
    const id = this.s.cacheId(cache);
    return id < 0 ? 0 : this.s.k.inspect.cacheGeometry(id).objects;
  }
  slabOrder(cache: string): number {
    const id = this.s.cacheId(cache);
    return id < 0 ? 0 : this.s.k.inspect.cacheGeometry(id).order;
  }
  /** Length of a CPU's lockless freelist for a cache. */
  cpuFreelist(cache: string, cpu: number): number {
    const id = this.s.cacheId(cache);
    if (id < 0) return 0;
    const c = this.s.k.inspect.kmemCacheCpus(id)[cpu];
    if (c === undefined || c.slab < 0) return 0;
    return this.s.k.inspect.slab(id, c.slab).cpuFreelist.length;
  }
  /** The path chips' ids of the step's last operation. */
  pfn(h: number): string {
    return hex(Math.floor((this.s.addrOf(h) || this.lastAddr(h)) / 4096));
  }
  nrFree(order: number): number {
    return buddyView(this.s.k).reduce((n, z) => n + z.nrFree[order]!, 0);
  }
  pcpPages(): number {
    return buddyView(this.s.k).reduce((n, z) => n + z.pcpPages, 0);
  }
  migratetype(h: number): number {
    return blockMigratetype(this.s.k, Math.floor((this.s.addrOf(h) || this.lastAddr(h)) / 4096));
  }
  reports(): number {
    return kasanReports(this.s.k).length;
  }
}

const DEMO = 'demo_obj';
const DEMO_FLAGS = SLAB_HWCACHE_ALIGN | SLAB_NO_MERGE;

function allocs(cpu: number, from: number, n: number): Op[] {
  return Array.from({ length: n }, (_, i) => ({ t: 'alloc', cpu, cache: DEMO, h: from + i }) as Op);
}

const remoteFree: Scenario = {
  id: 'remote-free',
  title: 'A remote free',
  about: 'an object freed by another CPU goes on the slab’s own freelist, not on the lockless one',
  needsKasan: false,
  config: { memory: '64M', cpus: 2, seed: 1, kasan: false, slubDebug: '' },
  steps: [
    {
      ops: [{ t: 'create', name: DEMO, size: 256, flags: DEMO_FLAGS }],
      text: (c) =>
        `kmem_cache_create("${DEMO}", 256) makes an empty cache: slabs of ${1 << c.slabOrder(DEMO)} page${c.slabOrder(DEMO) ? 's' : ''} holding ${c.objectsPerSlab(DEMO)} objects each. No slab exists yet.`,
      focus: { tab: 'caches', cache: DEMO },
    },
    {
      ops: allocs(0, 1, 1),
      text: (c) =>
        `CPU0’s first kmem_cache_alloc finds no cpu slab and no partial slab, so it takes a new slab from the buddy allocator and makes the slab’s whole freelist its lockless c->freelist. Object A is the first of it. Look at inuse: already ${c.slab(1)?.inuse}, because every object now belongs to CPU0.`,
      focus: { tab: 'caches', cache: DEMO, handle: 1 },
    },
    {
      ops: allocs(0, 2, 3),
      text: (c) =>
        `Three more allocations on CPU0 (B, C, D) pop c->freelist: the fast path, no lock and no atomic. The blue arrows are c->freelist in order; ${c.cpuFreelist(DEMO, 0)} objects are left on it.`,
      focus: { tab: 'caches', cache: DEMO, handle: 4 },
    },
    {
      ops: [{ t: 'free', cpu: 0, h: 1 }],
      text: () => 'CPU0 frees A: A’s slab is CPU0’s cpu slab, so A is pushed on the front of c->freelist. Fast path again.',
      focus: { tab: 'caches', cache: DEMO, handle: 1 },
    },
    {
      ops: [{ t: 'free', cpu: 1, h: 2 }],
      text: (c) =>
        `CPU1 frees B. B’s slab is CPU0’s cpu slab (frozen), and CPU1 may not touch CPU0’s lockless freelist. So __slab_free() puts B on the slab’s own freelist (the orange arrow) with one compare-and-exchange of freelist and counters together; inuse drops to ${c.slab(2)?.inuse}. This is the remote free: the slab stays CPU0’s.`,
      focus: { tab: 'caches', cache: DEMO, handle: 2 },
    },
    {
      ops: allocs(0, 5, 1),
      text: (c) =>
        `CPU0 allocates E and gets object ${c.index(5)}, the slot A had: c->freelist is last in, first out. B stays on slab->freelist, which the fast path never looks at.`,
      focus: { tab: 'caches', cache: DEMO, handle: 5 },
    },
    {
      ops: allocs(0, 6, 12),
      text: (c) => `Twelve more fast-path allocations empty c->freelist (${c.cpuFreelist(DEMO, 0)} left). B is still on slab->freelist.`,
      focus: { tab: 'caches', cache: DEMO, handle: 17 },
    },
    {
      ops: allocs(0, 18, 1),
      text: (c) =>
        `c->freelist is empty, so this allocation takes the slow path. ___slab_alloc() looks at the cpu slab’s own freelist first, finds B there (put by CPU1’s remote free) and takes the whole list: alloc_refill. The new object is object ${c.index(18)}, B’s old slot. Remote frees come back to the owning CPU this way.`,
      focus: { tab: 'caches', cache: DEMO, handle: 18 },
    },
    {
      ops: allocs(0, 19, 1),
      text: () =>
        'The slab is full now. The next allocation drops it (a full slab goes on no list: SLUB forgets it until an object is freed) and takes a new slab from the buddy allocator.',
      focus: { tab: 'caches', cache: DEMO, handle: 19 },
    },
    {
      ops: [{ t: 'free', cpu: 1, h: 3 }],
      text: () =>
        'CPU1 frees C, in the full slab that belongs to no CPU. The slab was full and now has a free object, so __slab_free() puts it on CPU1’s cpu partial list (cpu_partial_free), ready for CPU1’s next slow path.',
      focus: { tab: 'caches', cache: DEMO, handle: 3 },
    },
  ],
};

const deactivate: Scenario = {
  id: 'deactivate',
  title: 'deactivate_slab and inuse',
  about: 'why inuse counts objects on a CPU’s freelist, and how deactivate_slab puts it right',
  needsKasan: false,
  config: { memory: '64M', cpus: 2, seed: 1, kasan: false, slubDebug: '' },
  steps: [
    {
      ops: [{ t: 'create', name: DEMO, size: 256, flags: DEMO_FLAGS }, ...allocs(0, 1, 3)],
      text: (c) =>
        `CPU0 allocates three objects from a new cache. The slab says inuse = ${c.slab(1)?.inuse} although only ${c.slab(1)?.handedOut} objects are handed out: the other ${c.cpuFreelist(DEMO, 0)} sit on CPU0’s lockless freelist, which the slab’s counters do not see. A cpu slab is frozen: only its CPU allocates from it.`,
      focus: { tab: 'caches', cache: DEMO, handle: 1 },
    },
    {
      ops: [{ t: 'free', cpu: 1, h: 2 }],
      text: (c) =>
        `CPU1 frees one of them: a remote free onto slab->freelist. inuse drops to ${c.slab(1)?.inuse}; CPU0’s freelist still has ${c.cpuFreelist(DEMO, 0)} objects.`,
      focus: { tab: 'caches', cache: DEMO, handle: 2 },
    },
    {
      ops: [{ t: 'shrink', cpu: 0, cache: DEMO }],
      text: (c) =>
        `kmem_cache_shrink() flushes every CPU: deactivate_slab() walks CPU0’s freelist, splices it in front of slab->freelist and subtracts what it counted. inuse is now ${c.slab(1)?.inuse}, exactly the objects handed out. The slab is unfrozen and, since a remote free had refilled it, goes to the tail of the node partial list (deactivate_to_tail).`,
      focus: { tab: 'caches', cache: DEMO, handle: 1 },
    },
    {
      ops: allocs(0, 4, 1),
      text: (c) =>
        `CPU0 allocates again. It has no cpu slab, so get_partial_node() takes the slab off the node partial list and freezes it: the whole slab->freelist becomes c->freelist and inuse jumps back to ${c.slab(4)?.inuse}.`,
      focus: { tab: 'caches', cache: DEMO, handle: 4 },
    },
    {
      ops: [
        { t: 'free', cpu: 0, h: 1 },
        { t: 'free', cpu: 0, h: 3 },
        { t: 'free', cpu: 0, h: 4 },
        { t: 'shrink', cpu: 0, cache: DEMO },
      ],
      text: () =>
        'CPU0 frees all three objects (fast path) and the cache is shrunk again: deactivate_slab() finds inuse = 0. An empty slab is kept on the partial list while the node has fewer than min_partial slabs, but kmem_cache_shrink() then frees every empty slab: its page goes back to the buddy allocator.',
      focus: { tab: 'caches', cache: DEMO },
    },
  ],
};

const buddy: Scenario = {
  id: 'buddy',
  title: 'Buddy split and merge',
  about: 'a block is split down to the size asked for, and merges back with its free buddy',
  needsKasan: false,
  config: { memory: '64M', cpus: 2, seed: 1, kasan: false, slubDebug: '' },
  steps: [
    {
      ops: [{ t: 'pages', cpu: 0, order: 4, gfp: GFP_HIGHUSER_MOVABLE, h: 1 }],
      text: (c) =>
        `alloc_pages(order 4) asks for 16 contiguous pages. Orders above 3 bypass the per-CPU lists and go to the zone. The smallest free Movable block big enough was of order 10, so expand() split it: the unused halves (orders 9, 8, 7, 6, 5 and 4) went back on the free lists, and the caller got pfn ${c.pfn(1)}.`,
      focus: { tab: 'buddy', zoomHandle: 1, handle: 1 },
    },
    {
      ops: [{ t: 'pages', cpu: 0, order: 4, gfp: GFP_HIGHUSER_MOVABLE, h: 2 }],
      text: (c) =>
        `A second order-4 allocation takes the order-4 half the split left behind: pfn ${c.pfn(2)}, right after the first block. It is the first block’s buddy (pfn XOR 16). No split this time.`,
      focus: { tab: 'buddy', zoomHandle: 2, handle: 2 },
    },
    {
      ops: [{ t: 'freepages', cpu: 0, h: 1 }],
      text: () => 'The first block is freed. Its buddy is in use, so it cannot merge: it goes on the order-4 free list as it is.',
      focus: { tab: 'buddy', zoomHandle: 1 },
    },
    {
      ops: [{ t: 'freepages', cpu: 0, h: 2 }],
      text: () =>
        'The second block is freed. Its buddy (the first block) is free and of the same order, so they merge into an order-5 block; that one’s buddy is free too, and so on: the pieces of the split merge back, order by order, into one order-10 block.',
      focus: { tab: 'buddy', zoomHandle: 2 },
    },
    {
      ops: [{ t: 'pages', cpu: 0, order: 0, gfp: GFP_HIGHUSER_MOVABLE, h: 3 }],
      text: (c) =>
        `A single page comes from CPU0’s per-CPU list. The list was empty, so rmqueue_bulk() refilled it with a batch of pages from the zone (splitting a block for them); ${c.pcpPages()} pages now wait on pcp lists, yellow in the map.`,
      focus: { tab: 'buddy', zoomHandle: 3, handle: 3 },
    },
    {
      ops: [{ t: 'freepages', cpu: 0, h: 3 }],
      text: (c) => `Freeing the page puts it back on CPU0’s pcp list, not on the buddy lists: no merge happens (${c.pcpPages()} pcp pages).`,
      focus: { tab: 'buddy', zoomHandle: 3 },
    },
    {
      ops: [{ t: 'drain' }],
      text: (c) =>
        `drain_all_pages() returns every pcp page to the zone; each merges with its buddies, and the split block is whole again (${c.pcpPages()} pcp pages left).`,
      focus: { tab: 'buddy', zoomHandle: 3 },
    },
  ],
};

const kasanOob: Scenario = {
  id: 'kasan-oob',
  title: 'A KASAN out-of-bounds',
  about: 'a read one byte past a kmalloc(100) object hits the redzone KASAN put after it',
  needsKasan: true,
  config: { memory: '64M', cpus: 2, seed: 1, kasan: true, slubDebug: '' },
  steps: [
    {
      ops: [{ t: 'kmalloc', cpu: 0, size: 100, gfp: GFP_KERNEL, h: 1, fn: 'kmalloc_oob_right' }],
      text: (c) =>
        `kmalloc(100) is served by kmalloc-128 (${c.addr(1)}). KASAN unpoisons exactly 100 bytes: the shadow of the object reads 00 twelve times (96 bytes), then 04 (4 more bytes of the next 8-byte granule), then fc, KASAN_SLAB_REDZONE, to the end of the slot.`,
      focus: { tab: 'kasan', handle: 1 },
    },
    {
      ops: [{ t: 'access', cpu: 0, h: 1, offset: 99, size: 1, write: true, fn: 'kmalloc_oob_right' }],
      text: () => 'Writing p[99] is fine: it is byte 3 of the granule whose shadow is 04, and bytes 0 to 3 are allowed.',
      focus: { tab: 'kasan', handle: 1, offset: 99 },
    },
    {
      ops: [{ t: 'access', cpu: 0, h: 1, offset: 100, size: 1, write: false, fn: 'kmalloc_oob_right' }],
      text: (c) =>
        c.reports() > 0
          ? 'Reading p[100] touches byte 4 of that granule: the shadow says only 4 bytes are valid, so KASAN reports a slab-out-of-bounds read, names the object, its cache and where the access fell, and prints the shadow around it. The report is linked to the object below.'
          : 'Reading p[100] should have been reported, but no KASAN report was printed.',
      focus: { tab: 'kasan', handle: 1, offset: 100 },
    },
  ],
};

const kasanUaf: Scenario = {
  id: 'kasan-uaf',
  title: 'A use-after-free caught by the quarantine',
  about: 'a freed object is held poisoned in the quarantine, so a late access is caught',
  needsKasan: true,
  config: { memory: '64M', cpus: 2, seed: 1, kasan: true, slubDebug: '' },
  steps: [
    {
      ops: [{ t: 'kmalloc', cpu: 0, size: 64, gfp: GFP_KERNEL, h: 1, fn: 'kmalloc_uaf' }],
      text: (c) => `p = kmalloc(64) comes from kmalloc-64: ${c.addr(1)}, object ${c.index(1)} of its slab.`,
      focus: { tab: 'caches', cache: 'kmalloc-64', handle: 1 },
    },
    {
      ops: [{ t: 'free', cpu: 0, h: 1, fn: 'kmalloc_uaf' }],
      text: () =>
        'kfree(p): KASAN poisons the object with fb (KASAN_SLAB_FREE), records who freed it, and puts it in its quarantine instead of on a freelist. In the cache view the object is neither allocated nor free: it is quarantined.',
      focus: { tab: 'caches', cache: 'kmalloc-64', handle: 1 },
    },
    {
      ops: [{ t: 'kmalloc', cpu: 0, size: 64, gfp: GFP_KERNEL, h: 2, fn: 'kmalloc_uaf' }],
      text: (c) =>
        `q = kmalloc(64) gets another object (object ${c.index(2)}): p is still in the quarantine and cannot be handed out again yet. Without the quarantine, q would likely be p’s slot, and a stale pointer would silently read q’s data.`,
      focus: { tab: 'caches', cache: 'kmalloc-64', handle: 2 },
    },
    {
      ops: [{ t: 'access', cpu: 0, h: 1, offset: 0, size: 8, write: false, fn: 'kmalloc_uaf' }],
      text: (c) =>
        c.reports() > 0
          ? 'Reading p after the free hits shadow fb: KASAN reports a slab-use-after-free, with the stacks that allocated and freed the object. Follow the link to see the object in its slab.'
          : 'Reading p after the free should have been reported, but no KASAN report was printed.',
      focus: { tab: 'kasan', handle: 1 },
    },
  ],
};

export const SCENARIOS: Scenario[] = [remoteFree, deactivate, buddy, kasanOob, kasanUaf];

export function scenarioById(id: string): Scenario | undefined {
  return SCENARIOS.find((s) => s.id === id);
}

/** The operation index where each step starts (and, last, the total). */
export function stepBounds(sc: Scenario): number[] {
  const out = [0];
  for (const st of sc.steps) out.push(out[out.length - 1]! + st.ops.length);
  return out;
}

/** All of a scenario's operations in order. */
export function scenarioOps(sc: Scenario): Op[] {
  return sc.steps.flatMap((s) => s.ops);
}
