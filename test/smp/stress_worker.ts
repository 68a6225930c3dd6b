/**
 * One CPU of the SMP stress test (test/smp/stress.test.ts), run in a worker
 * thread through ts_worker.mjs: a random program of kmalloc / kfree,
 * kmem_cache_alloc / free (bulk too), alloc_pages / free_pages, cache
 * creation, kmem_cache_shrink and drain_all_pages, where a share of the
 * objects goes to another worker to free (a single-producer ring per pair
 * in a SharedArrayBuffer). Each object carries a tag in its first and last
 * word, written when it is allocated and checked when it is freed: two
 * CPUs given the same memory would find each other's tag.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { attach } from '../../src/attach.js';
import type { SmpHandle } from '../../src/kernel.js';

interface Data {
  handle: SmpHandle;
  cpu: number;
  /** This worker's index among the workers (its rings), and their number. */
  w: number;
  nWorkers: number;
  seed: number;
  ops: number;
  rings: SharedArrayBuffer;
  ringSlots: number;
  /** [0] workers done with their program, [1] workers done draining. */
  barrier: SharedArrayBuffer;
  caches: string[];
}

const d = workerData as Data;
const k = attach(d.handle, { cpu: d.cpu });
const GFP_KERNEL = 0xcc0;
const ring = new Int32Array(d.rings);
const bar = new Int32Array(d.barrier);
const RING_WORDS = 2 + 4 * d.ringSlots;
const errors: string[] = [];

let rng = d.seed | 1;
function rand(n: number): number {
  rng ^= rng << 13;
  rng ^= rng >>> 17;
  rng ^= rng << 5;
  return (rng >>> 0) % n;
}

/** What an object is: 0 kmalloc (aux = size), 1 cache object (aux = cache handle), 2 pages (aux = order). */
const held: { addr: number; kind: number; aux: number; size: number; tag: number }[] = [];
let seq = 0;

function tagOf(): number {
  return ((d.cpu << 24) | (++seq & 0xffffff)) >>> 0;
}

function took(addr: number, kind: number, aux: number, size: number): void {
  if (addr === 0) return;
  const tag = tagOf();
  k.mem.write32(addr, tag);
  k.mem.write32(addr + size - 4, tag);
  held.push({ addr, kind, aux, size, tag });
}

function check(o: { addr: number; size: number; tag: number }): void {
  const a = k.mem.read32(o.addr) >>> 0;
  const b = k.mem.read32(o.addr + o.size - 4) >>> 0;
  if ((a !== o.tag || b !== o.tag) && errors.length < 20)
    errors.push(`cpu ${d.cpu}: object 0x${o.addr.toString(16)} tag ${o.tag.toString(16)} found ${a.toString(16)}/${b.toString(16)}`);
}

function release(o: { addr: number; kind: number; aux: number; size: number; tag: number }): void {
  check(o);
  if (o.kind === 0) k.kfree(o.addr);
  else if (o.kind === 1) k.kmemCacheFree(o.aux, o.addr);
  else k.freePages(o.addr, o.aux);
}

function takeHeld(): (typeof held)[number] | undefined {
  if (held.length === 0) return undefined;
  const i = rand(held.length);
  const o = held[i]!;
  held[i] = held[held.length - 1]!;
  held.pop();
  return o;
}

/** The ring from worker `from` to worker `to`: [head, tail, slots of (kind, aux, size, addr)]. */
function ringBase(from: number, to: number): number {
  return (from * d.nWorkers + to) * RING_WORDS;
}

/** Hand o to worker `to`; false if its ring is full. Release: the slot, then the tail. */
function handOff(o: (typeof held)[number], to: number): boolean {
  const b = ringBase(d.w, to);
  const tail = ring[b + 1]!;
  if (tail - Atomics.load(ring, b) >= d.ringSlots) return false;
  const slot = b + 2 + 4 * (tail % d.ringSlots);
  ring[slot] = o.kind;
  ring[slot + 1] = o.aux;
  ring[slot + 2] = o.size;
  ring[slot + 3] = o.addr;
  Atomics.store(ring, b + 1, tail + 1);
  // the tag goes along in the object itself
  return true;
}

let remoteFreed = 0;
function drainIncoming(): void {
  for (let from = 0; from < d.nWorkers; from++) {
    if (from === d.w) continue;
    const b = ringBase(from, d.w);
    let head = ring[b]!;
    const tail = Atomics.load(ring, b + 1);
    while (head !== tail) {
      const slot = b + 2 + 4 * (head % d.ringSlots);
      const o = { kind: ring[slot]!, aux: ring[slot + 1]!, size: ring[slot + 2]!, addr: ring[slot + 3]! >>> 0, tag: 0 };
      o.tag = k.mem.read32(o.addr) >>> 0;
      if (o.tag >>> 24 === d.cpu && errors.length < 20) errors.push(`cpu ${d.cpu}: a handed-off object carries this CPU's tag`);
      release(o);
      remoteFreed++;
      head++;
      Atomics.store(ring, b, head);
    }
  }
}

const sizes = [8, 13, 16, 32, 64, 64, 64, 96, 100, 128, 192, 256, 512, 1024, 2048, 3000, 4096, 8192, 20000];
const handles = d.caches.map((n) => k.kmemCacheByName(n));
const objSize = handles.map((h) => k.slub.cf[(h & 0xfff) * 37 + 1]!);
const bulkOut: number[] = [];
let created = 0;
const counts = { kmalloc: 0, cache: 0, bulk: 0, pages: 0, free: 0, handed: 0, shrink: 0, drain: 0, create: 0, foreign: 0, failed: 0 };

for (let step = 0; step < d.ops; step++) {
  if ((step & 15) === 0) drainIncoming();
  const r = rand(1000);
  if (r < 300) {
    const size = sizes[rand(sizes.length)]!;
    const a = k.kmalloc(size, GFP_KERNEL);
    if (a === 0) counts.failed++;
    took(a, 0, size, size);
    counts.kmalloc++;
  } else if (r < 450) {
    const j = rand(handles.length);
    const a = k.kmemCacheAlloc(handles[j]!, GFP_KERNEL);
    if (a === 0) counts.failed++;
    took(a, 1, handles[j]!, objSize[j]!);
    counts.cache++;
  } else if (r < 480) {
    const j = rand(handles.length);
    bulkOut.length = 0;
    const n = k.kmemCacheAllocBulk(handles[j]!, 1 + rand(16), bulkOut, GFP_KERNEL);
    for (let i = 0; i < n; i++) took(bulkOut[i]!, 1, handles[j]!, objSize[j]!);
    counts.bulk++;
  } else if (r < 510) {
    const order = rand(4);
    const a = k.allocPages(order, GFP_KERNEL);
    took(a, 2, order, 4096 << order);
    counts.pages++;
  } else if (r < 800) {
    const o = takeHeld();
    if (o !== undefined) {
      release(o);
      counts.free++;
    }
  } else if (r < 810) {
    // kmem_cache_free_bulk() of what this CPU holds of one cache
    const j = rand(handles.length);
    const mine = held.filter((o) => o.kind === 1 && o.aux === handles[j]);
    if (mine.length > 0) {
      const take = mine.slice(0, 1 + rand(Math.min(mine.length, 16)));
      for (const o of take) {
        check(o);
        held.splice(held.indexOf(o), 1);
      }
      k.kmemCacheFreeBulk(
        handles[j]!,
        take.map((o) => o.addr),
      );
      counts.free += take.length;
    }
  } else if (r < 990) {
    const o = takeHeld();
    if (o !== undefined) {
      let to = rand(d.nWorkers - 1);
      if (to >= d.w) to++;
      if (handOff(o, to)) counts.handed++;
      else release(o);
    }
  } else if (r < 994) {
    k.kmemCacheShrink(handles[rand(handles.length)]!);
    counts.shrink++;
  } else if (r < 997) {
    k.drainAllPages();
    counts.drain++;
  } else {
    // a cache of this CPU's, and objects from the first cache another CPU created (the shared cache table)
    if (created < 3) {
      const h = k.kmemCacheCreate(`w${d.cpu}-${created++}`, 40 + 24 * d.cpu + created);
      took(k.kmemCacheAlloc(h, GFP_KERNEL), 1, h, k.slub.cf[(h & 0xfff) * 37 + 1]!);
      counts.create++;
    }
    const other = 1 + rand(d.nWorkers);
    if (other !== d.cpu) {
      const h = k.kmemCacheByName(`w${other}-0`);
      if (h !== -1) {
        took(k.kmemCacheAlloc(h, GFP_KERNEL), 1, h, k.slub.cf[(h & 0xfff) * 37 + 1]!);
        counts.foreign++;
      }
    }
  }
}

// Everyone stops handing off; then each drains what was handed to it.
Atomics.add(bar, 0, 1);
Atomics.notify(bar, 0);
while (Atomics.load(bar, 0) < d.nWorkers) {
  k.poll();
  Atomics.wait(bar, 0, Atomics.load(bar, 0), 1);
}
drainIncoming();
Atomics.add(bar, 1, 1);
Atomics.notify(bar, 1);
while (Atomics.load(bar, 1) < d.nWorkers) {
  k.poll();
  Atomics.wait(bar, 1, Atomics.load(bar, 1), 1);
}
// What is still held goes back to the boot CPU for the checks; this CPU goes offline.
const live = held.map((o) => [o.addr, o.kind, o.aux, o.size, o.tag]);
k.detach();
// A KASAN machine: nothing this CPU did was a bad access.
for (const r of k.kasan?.reports() ?? []) errors.push(`KASAN on CPU ${d.cpu}: ${r.lines[1] ?? r.bugType}`);
parentPort!.postMessage({ cpu: d.cpu, errors, live, counts, remoteFreed });
