/**
 * A CPU of the page's machine, in a Web Worker: the page boots a machine
 * with smp: 'workers' and posts each worker its k.handle and a CPU number;
 * the worker attaches to that CPU (the same memory, a SharedArrayBuffer)
 * and runs kmalloc/kfree: batches of `batch` kmalloc(size) then their
 * kfree, `ops` allocations in all. It answers with what it did and how
 * long it took.
 */
import { attach, type SmpHandle } from '../src/index.js';

export interface SmpJob {
  handle: SmpHandle;
  cpu: number;
  ops: number;
  size: number;
  batch: number;
}

export interface SmpDone {
  cpu: number;
  allocs: number;
  frees: number;
  ms: number;
  error?: string;
}

const post = (m: SmpDone) => (globalThis as unknown as { postMessage(m: SmpDone): void }).postMessage(m);

globalThis.addEventListener('message', (e: Event) => {
  const job = (e as MessageEvent<SmpJob>).data;
  const t0 = performance.now();
  let allocs = 0;
  let frees = 0;
  try {
    const k = attach(job.handle, { cpu: job.cpu });
    const held: number[] = [];
    while (allocs < job.ops) {
      const n = Math.min(job.batch, job.ops - allocs);
      for (let i = 0; i < n; i++) {
        const p = k.kmalloc(job.size, 0xcc0);
        if (p === 0) throw new Error(`kmalloc(${job.size}) failed on CPU ${job.cpu}`);
        k.mem.write32(p, job.cpu);
        held.push(p);
        allocs++;
      }
      while (held.length > 0) {
        k.kfree(held.pop()!);
        frees++;
      }
      k.poll();
    }
    k.detach();
    post({ cpu: job.cpu, allocs, frees, ms: performance.now() - t0 });
  } catch (err) {
    post({ cpu: job.cpu, allocs, frees, ms: performance.now() - t0, error: (err as Error)?.message ?? String(err) });
  }
});
