/**
 * A CPU of the page's machine, in a Web Worker: the page boots a machine
 * with smp: 'workers' and posts each worker its k.handle and a CPU number;
 * the worker attaches to that CPU (the same memory, a SharedArrayBuffer)
 * and runs kmalloc/kfree, `ops` allocations or frees in all:
 *   'pairs'    batches of `batch` kmalloc(size), then their kfree;
 *   'produce'  kmalloc(size) and hand each object to the consumer through
 *              `ring` (one producer, one consumer);
 *   'consume'  take objects off `ring` and kfree them: every free a remote
 *              one (__slab_free on a slab another CPU allocated from).
 * It answers with what it did and how long it took.
 */
import { attach, type Kernel, type SmpHandle } from '../src/index.js';

export type SmpRole = 'pairs' | 'produce' | 'consume';

export interface SmpJob {
  handle: SmpHandle;
  cpu: number;
  role: SmpRole;
  ops: number;
  size: number;
  batch: number;
  /** produce/consume: Int32Array words [head, tail, slots...] */
  ring: SharedArrayBuffer | null;
}

export interface SmpDone {
  cpu: number;
  allocs: number;
  frees: number;
  ms: number;
  error?: string;
}

const HEAD = 0;
const TAIL = 1;
const SLOTS = 2;

const post = (m: SmpDone) => (globalThis as unknown as { postMessage(m: SmpDone): void }).postMessage(m);

/** Wait for ring word `at` to move from `seen`, serving this CPU's IPIs meanwhile. */
function waitMove(k: Kernel, ring: Int32Array, at: number, seen: number): void {
  k.poll();
  Atomics.wait(ring, at, seen, 1);
}

function run(k: Kernel, job: SmpJob): { allocs: number; frees: number } {
  let allocs = 0;
  let frees = 0;
  const kmalloc = () => {
    const p = k.kmalloc(job.size, 0xcc0);
    if (p === 0) throw new Error(`kmalloc(${job.size}) failed on CPU ${job.cpu}`);
    k.mem.write32(p, job.cpu);
    allocs++;
    return p;
  };
  if (job.role === 'pairs') {
    const held: number[] = [];
    while (allocs < job.ops) {
      const n = Math.min(job.batch, job.ops - allocs);
      for (let i = 0; i < n; i++) held.push(kmalloc());
      while (held.length > 0) {
        k.kfree(held.pop()!);
        frees++;
      }
      k.poll();
    }
    return { allocs, frees };
  }
  const ring = new Int32Array(job.ring!);
  const cap = ring.length - SLOTS;
  if (job.role === 'produce') {
    for (let tail = 0; tail < job.ops; tail++) {
      const p = kmalloc();
      while (tail - Atomics.load(ring, HEAD) >= cap) waitMove(k, ring, HEAD, Atomics.load(ring, HEAD));
      ring[SLOTS + (tail % cap)] = p;
      // Release: the slot before the new tail.
      Atomics.store(ring, TAIL, tail + 1);
      Atomics.notify(ring, TAIL);
    }
    return { allocs, frees };
  }
  for (let head = 0; head < job.ops; head++) {
    while (Atomics.load(ring, TAIL) === head) waitMove(k, ring, TAIL, head);
    const p = ring[SLOTS + (head % cap)]!;
    Atomics.store(ring, HEAD, head + 1);
    Atomics.notify(ring, HEAD);
    k.kfree(p);
    frees++;
  }
  return { allocs, frees };
}

globalThis.addEventListener('message', (e: Event) => {
  const job = (e as MessageEvent<SmpJob>).data;
  const t0 = performance.now();
  try {
    const k = attach(job.handle, { cpu: job.cpu });
    const { allocs, frees } = run(k, job);
    k.detach();
    post({ cpu: job.cpu, allocs, frees, ms: performance.now() - t0 });
  } catch (err) {
    post({ cpu: job.cpu, allocs: 0, frees: 0, ms: performance.now() - t0, error: (err as Error)?.message ?? String(err) });
  }
});
