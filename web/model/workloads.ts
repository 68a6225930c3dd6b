/**
 * Built-in workloads: endless, deterministic streams of operations.
 *
 * Each is a generator seeded on its own (not from the machine's random
 * numbers), so the operations it makes do not depend on what the machine
 * did: the list it produced replays to the same state.
 */
import {
  __GFP_RECLAIMABLE,
  GFP_ATOMIC,
  GFP_HIGHUSER_MOVABLE,
  GFP_KERNEL,
  SLAB_ACCOUNT,
  SLAB_HWCACHE_ALIGN,
  SLAB_RECLAIM_ACCOUNT,
  SLAB_TYPESAFE_BY_RCU,
} from '../../src/index.js';
import type { Op, OpSource } from './ops.js';
import { Rng } from './rng.js';

export interface WorkloadInfo {
  id: string;
  name: string;
  about: string;
  make: (cpus: number, seed: number) => OpSource;
}

/** Object sizes and flags of some caches of a 6.x x86-64 machine. */
const BOOT_CACHES: [string, number, number][] = [
  ['task_struct', 4288, SLAB_HWCACHE_ALIGN | SLAB_ACCOUNT],
  ['mm_struct', 1344, SLAB_HWCACHE_ALIGN | SLAB_ACCOUNT],
  ['vm_area_struct', 176, SLAB_HWCACHE_ALIGN | SLAB_ACCOUNT | SLAB_TYPESAFE_BY_RCU],
  ['maple_node', 256, SLAB_HWCACHE_ALIGN],
  ['dentry', 192, SLAB_HWCACHE_ALIGN | SLAB_RECLAIM_ACCOUNT | SLAB_ACCOUNT],
  ['inode_cache', 600, SLAB_HWCACHE_ALIGN | SLAB_RECLAIM_ACCOUNT | SLAB_ACCOUNT],
  ['filp', 256, SLAB_HWCACHE_ALIGN | SLAB_ACCOUNT | SLAB_TYPESAFE_BY_RCU],
  ['skbuff_head_cache', 232, SLAB_HWCACHE_ALIGN],
];

/** A live set: handles of what is allocated, with O(1) random removal. */
class Live {
  h: number[] = [];
  cpu: number[] = [];
  add(h: number, cpu: number): void {
    this.h.push(h);
    this.cpu.push(cpu);
  }
  take(i: number): [number, number] {
    const h = this.h[i]!;
    const c = this.cpu[i]!;
    this.h[i] = this.h[this.h.length - 1]!;
    this.cpu[i] = this.cpu[this.cpu.length - 1]!;
    this.h.pop();
    this.cpu.pop();
    return [h, c];
  }
  get size(): number {
    return this.h.length;
  }
}

/** The target live set swings slowly so memory grows and shrinks. */
function target(step: number, base: number, amp: number, period: number): number {
  return base + amp * Math.sin((step / period) * 2 * Math.PI);
}

abstract class Generator implements OpSource {
  protected rng: Rng;
  protected step = 0;
  protected nextHandle = 1;
  protected queue: Op[] = [];
  constructor(
    readonly name: string,
    protected cpus: number,
    seed: number,
  ) {
    this.rng = new Rng(seed);
  }
  next(): Op | null {
    if (this.queue.length === 0) this.fill();
    this.step++;
    return this.queue.shift() ?? null;
  }
  protected abstract fill(): void;
  protected cpu(): number {
    return this.rng.int(this.cpus);
  }
}

/** A system coming up: the caches of a real machine filled and partly emptied, with kmalloc traffic. */
class BootWorkload extends Generator {
  private started = false;
  private live = new Live();
  private cacheOf = new Map<number, string>();
  protected fill(): void {
    if (!this.started) {
      this.started = true;
      for (const [name, size, flags] of BOOT_CACHES) this.queue.push({ t: 'create', name, size, flags });
      return;
    }
    const r = this.rng;
    const want = target(this.step, 1500, 1200, 12000);
    const alloc = this.live.size === 0 || r.next() < (this.live.size < want ? 0.68 : 0.35);
    const cpu = this.cpu();
    if (alloc) {
      const h = this.nextHandle++;
      if (r.next() < 0.55) {
        const [name] = BOOT_CACHES[r.int(BOOT_CACHES.length)]!;
        this.cacheOf.set(h, name);
        this.queue.push({ t: 'alloc', cpu, cache: name, h });
      } else {
        const u = r.next();
        const size = u < 0.8 ? 8 + r.int(248) : u < 0.97 ? 256 + r.int(3840) : 4096 + r.int(12288);
        this.queue.push({ t: 'kmalloc', cpu, size, gfp: u < 0.1 ? GFP_KERNEL | __GFP_RECLAIMABLE : GFP_KERNEL, h });
      }
      this.live.add(h, cpu);
    } else {
      const [h] = this.live.take(r.int(this.live.size));
      this.cacheOf.delete(h);
      this.queue.push({ t: 'free', cpu, h });
    }
  }
}

/** kmalloc churn: many small objects of every size class, on every CPU. */
class KmallocWorkload extends Generator {
  private live = new Live();
  protected fill(): void {
    const r = this.rng;
    const want = target(this.step, 2500, 2000, 20000);
    const cpu = this.cpu();
    if (this.live.size === 0 || r.next() < (this.live.size < want ? 0.65 : 0.38)) {
      const h = this.nextHandle++;
      const size = r.next() < 0.9 ? 1 + r.int(512) : 513 + r.int(7680);
      this.queue.push({ t: 'kmalloc', cpu, size, h });
      this.live.add(h, cpu);
    } else {
      const [h] = this.live.take(r.int(this.live.size));
      this.queue.push({ t: 'free', cpu, h });
    }
  }
}

/** Producer and consumer: CPU 0 allocates packets, the last CPU frees them, so nearly every free is remote. */
class RemoteFreeWorkload extends Generator {
  private fifo: number[] = [];
  private started = false;
  protected fill(): void {
    if (!this.started) {
      this.started = true;
      this.queue.push({ t: 'create', name: 'skbuff_head_cache', size: 232, flags: SLAB_HWCACHE_ALIGN });
      return;
    }
    const r = this.rng;
    const consumer = this.cpus - 1;
    const want = target(this.step, 300, 250, 6000);
    if (this.fifo.length === 0 || r.next() < (this.fifo.length < want ? 0.62 : 0.4)) {
      const h = this.nextHandle++;
      this.queue.push({ t: 'alloc', cpu: 0, cache: 'skbuff_head_cache', gfp: GFP_ATOMIC, h });
      this.fifo.push(h);
    } else {
      // Mostly in order, sometimes out of order (a reordered queue).
      const i = r.next() < 0.8 ? 0 : r.int(this.fifo.length);
      const [h] = this.fifo.splice(i, 1);
      this.queue.push({ t: 'free', cpu: consumer, h: h! });
    }
  }
}

/** The page allocator alone: blocks of order 0..6 of every migratetype come and go. */
class PagesWorkload extends Generator {
  private live = new Live();
  private orderOf = new Map<number, number>();
  protected fill(): void {
    const r = this.rng;
    const want = target(this.step, 400, 300, 8000);
    const cpu = this.cpu();
    if (this.live.size === 0 || r.next() < (this.live.size < want ? 0.62 : 0.4)) {
      const h = this.nextHandle++;
      const u = r.next();
      const order = u < 0.6 ? 0 : u < 0.8 ? 1 : u < 0.9 ? 2 : u < 0.96 ? 3 : 4 + r.int(3);
      const g = r.next();
      const gfp = g < 0.5 ? GFP_HIGHUSER_MOVABLE : g < 0.85 ? GFP_KERNEL : GFP_KERNEL | __GFP_RECLAIMABLE;
      this.queue.push({ t: 'pages', cpu, order, gfp, h });
      this.orderOf.set(h, order);
      this.live.add(h, cpu);
    } else {
      const [h] = this.live.take(r.int(this.live.size));
      this.queue.push({ t: 'freepages', cpu, h });
    }
  }
}

/** Fragmentation: fill memory with single pages, free every other one, then ask for big blocks. */
class FragmentWorkload extends Generator {
  private handles: number[] = [];
  private phase = 0;
  private i = 0;
  protected fill(): void {
    const n = 6000;
    if (this.phase === 0) {
      const h = this.nextHandle++;
      this.handles.push(h);
      this.queue.push({ t: 'pages', cpu: this.i % this.cpus, order: 0, gfp: GFP_KERNEL, h });
      if (++this.i >= n) {
        this.phase = 1;
        this.i = 0;
      }
    } else if (this.phase === 1) {
      this.queue.push({ t: 'freepages', cpu: 0, h: this.handles[this.i]! });
      this.i += 2;
      if (this.i >= n) {
        this.phase = 2;
        this.i = 0;
        this.queue.push({ t: 'drain' });
      }
    } else if (this.phase === 2) {
      const h = this.nextHandle++;
      this.queue.push({ t: 'pages', cpu: 0, order: 2 + (this.i % 5), gfp: GFP_KERNEL, h });
      this.handles.push(h);
      if (++this.i >= 200) {
        this.phase = 3;
        this.i = 1;
      }
    } else {
      // Free the rest one by one: watch the free blocks merge back.
      if (this.i < n) {
        this.queue.push({ t: 'freepages', cpu: 0, h: this.handles[this.i]! });
        this.i += 2;
      } else {
        this.queue.push({ t: 'drain' });
        this.phase = 0;
        this.i = 0;
        this.handles = [];
      }
    }
  }
}

export const WORKLOADS: WorkloadInfo[] = [
  {
    id: 'boot',
    name: 'System boot',
    about: 'eight caches of a real machine (task_struct, dentry, filp, ...) and kmalloc traffic on every CPU',
    make: (c, s) => new BootWorkload('System boot', c, s),
  },
  {
    id: 'kmalloc',
    name: 'kmalloc churn',
    about: 'small kmalloc objects of every size class come and go',
    make: (c, s) => new KmallocWorkload('kmalloc churn', c, s),
  },
  {
    id: 'remote',
    name: 'Producer/consumer (remote frees)',
    about: 'CPU0 allocates, the last CPU frees: nearly every free is a remote free',
    make: (c, s) => new RemoteFreeWorkload('Producer/consumer', c, s),
  },
  {
    id: 'pages',
    name: 'Page allocator',
    about: 'alloc_pages of order 0..6, movable, unmovable and reclaimable',
    make: (c, s) => new PagesWorkload('Page allocator', c, s),
  },
  {
    id: 'fragment',
    name: 'Fragmentation',
    about: 'single pages fill memory, every other one is freed, then bigger blocks are asked for',
    make: (c, s) => new FragmentWorkload('Fragmentation', c, s),
  },
];

export function workloadById(id: string): WorkloadInfo | undefined {
  return WORKLOADS.find((w) => w.id === id);
}
