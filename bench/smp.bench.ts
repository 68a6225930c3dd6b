/**
 * kmem with CPU threads (boot({ smp: 'workers' }), issue 17), in worker
 * threads of this process:
 *   1. throughput of kmalloc(64) + kfree pairs, each worker on its own CPU
 *      (only its kmem_cache_cpu: no shared write on the fast path), one
 *      worker against two (the goal: two at 1.8x one), four and eight for the record;
 *   2. producer/consumer, every free remote (one worker allocates, the other
 *      frees: __slab_free's compareExchange on every object), against
 *      postMessage of plain objects and against @thi.ng/malloc on a
 *      SharedArrayBuffer behind one lock.
 * Rounds interleave the contenders (A B C A B C ...); each table gives the
 * min and median over the rounds of ns per operation, and ops/s at the min.
 * On a machine with fewer free cores than workers the scaling says more
 * about the machine than about kmem.
 */

import { availableParallelism } from 'node:os';
import { MessageChannel, Worker } from 'node:worker_threads';
import { MemPool } from '@thi.ng/malloc';
import { boot } from '../src/kernel.js';
import { dur } from './harness.js';
import { Ctl, Job, RING_SLOTS } from './smp_layout.js';

interface Pool {
  ctl: Int32Array;
  ring: Int32Array;
  workers: Worker[];
}

function start(nWorkers: number): Pool {
  const k = boot({ cpus: nWorkers + 1, smp: 'workers', memory: '256M' });
  const ctl = new Int32Array(new SharedArrayBuffer(Ctl.WORDS * 4));
  const ring = new Int32Array(new SharedArrayBuffer((2 + RING_SLOTS) * 4));
  const poolBuf = new SharedArrayBuffer(64 << 20);
  new MemPool({ buf: poolBuf });
  const { port1, port2 } = new MessageChannel();
  const workers: Worker[] = [];
  for (let w = 0; w < nWorkers; w++) {
    const port = w === 0 ? port1 : w === 1 ? port2 : new MessageChannel().port1;
    workers.push(
      new Worker(new URL('./smp_worker.js', import.meta.url), {
        workerData: { handle: k.handle, cpu: w + 1, w, ctl: ctl.buffer, ring: ring.buffer, pool: poolBuf, port },
        transferList: [port],
      }),
    );
  }
  while (Atomics.load(ctl, Ctl.READY) < nWorkers) Atomics.wait(ctl, Ctl.READY, Atomics.load(ctl, Ctl.READY), 100);
  return { ctl, ring, workers };
}

/** One round: jobs[w] for each worker, n operations each; the wall time in ns. */
function round(p: Pool, jobs: number[], n: number): number {
  const { ctl } = p;
  for (let w = 0; w < p.workers.length; w++) ctl[Ctl.JOB + w] = jobs[w] ?? Job.IDLE;
  ctl[Ctl.N] = n;
  Atomics.store(ctl, Ctl.DONE, 0);
  const t0 = process.hrtime.bigint();
  Atomics.add(ctl, Ctl.ROUND, 1);
  Atomics.notify(ctl, Ctl.ROUND);
  while (Atomics.load(ctl, Ctl.DONE) < p.workers.length) Atomics.wait(ctl, Ctl.DONE, Atomics.load(ctl, Ctl.DONE), 100);
  return Number(process.hrtime.bigint() - t0);
}

async function stop(p: Pool): Promise<void> {
  Atomics.store(p.ctl, Ctl.ROUND, -1);
  Atomics.notify(p.ctl, Ctl.ROUND);
  await Promise.all(p.workers.map((w) => new Promise((r) => w.once('exit', r))));
}

interface Row {
  name: string;
  jobs: number[];
  /** operations a round does in all, for n per worker */
  ops: (n: number) => number;
}

function measure(p: Pool, rows: Row[], n: number, rounds: number): { name: string; min: number; median: number }[] {
  for (const r of rows) round(p, r.jobs, n); // warm-up
  const ns: number[][] = rows.map(() => []);
  for (let i = 0; i < rounds; i++) {
    for (let j = 0; j < rows.length; j++) ns[j]!.push(round(p, rows[j]!.jobs, n) / rows[j]!.ops(n));
  }
  return rows.map((r, j) => {
    const s = ns[j]!.sort((a, b) => a - b);
    return { name: r.name, min: s[0]!, median: s[s.length >> 1]! };
  });
}

function print(title: string, res: { name: string; min: number; median: number }[], base: number): void {
  console.log(`\n${title}`);
  console.log(`${''.padEnd(60)}${'min'.padStart(10)}${'median'.padStart(11)}   ops/s (min)   vs first`);
  for (const r of res) {
    console.log(
      `  ${r.name.padEnd(58)}${dur(r.min).padStart(10)}${dur(r.median).padStart(11)}   ${(1e9 / r.min).toExponential(2).padStart(11)}   ${(res[base]!.min / r.min).toFixed(2)}x`,
    );
  }
}

/** 1. kmalloc(64) + kfree pairs on 1, 2 (and 4 and 8) CPU threads. */
async function scaling(): Promise<void> {
  console.log(`cores: ${availableParallelism()}`);
  const p = start(8);
  const n = 400_000;
  const P = Job.PAIRS;
  const res = measure(
    p,
    [
      { name: '1 worker: kmalloc(64) + kfree pairs', jobs: [P], ops: (n) => n },
      { name: '2 workers, each its own pairs (aggregate)', jobs: [P, P], ops: (n) => 2 * n },
      { name: '4 workers, each its own pairs (aggregate, for the record)', jobs: [P, P, P, P], ops: (n) => 4 * n },
      { name: '8 workers, each its own pairs (aggregate, for the record)', jobs: new Array<number>(8).fill(P), ops: (n) => 8 * n },
    ],
    n,
    7,
  );
  print('kmalloc(64) + kfree pairs, per pair of all workers together (ops/s: pairs per second)', res, 0);
  await stop(p);
}

/** 2. producer/consumer: every free is remote. */
async function producerConsumer(): Promise<void> {
  const p = start(2);
  const n = 200_000;
  const res = measure(
    p,
    [
      { name: 'kmem: kmalloc(64) on CPU 1, kfree on CPU 2 (remote)', jobs: [Job.PRODUCE, Job.CONSUME], ops: (n) => n },
      { name: 'postMessage of a plain object, one per item', jobs: [Job.POST, Job.RECEIVE], ops: (n) => n },
      { name: '@thi.ng/malloc on a SharedArrayBuffer behind one lock', jobs: [Job.THING_PRODUCE, Job.THING_CONSUME], ops: (n) => n },
    ],
    n,
    7,
  );
  print('producer/consumer: one worker allocates, the other frees; per item', res, 0);
  await stop(p);
}

export const benches = {
  benchSmpScaling: scaling,
  benchSmpProducerConsumer: producerConsumer,
};
