/**
 * A worker thread of bench/smp.bench.ts: a kmem CPU (attach) that also
 * holds the @thi.ng/malloc pool on a SharedArrayBuffer and a MessagePort,
 * and runs the job the main thread names for each round (Job).
 */

import { type MessagePort, parentPort, workerData } from 'node:worker_threads';
import { MemPool } from '@thi.ng/malloc';
import { attach } from '../src/attach.js';
import type { SmpHandle } from '../src/kernel.js';
import { spinLock, spinUnlock } from '../src/smp/spinlock.js';
import { Ctl, Job, RING_SLOTS } from './smp_layout.js';

const d = workerData as {
  handle: SmpHandle;
  cpu: number;
  w: number;
  ctl: SharedArrayBuffer;
  ring: SharedArrayBuffer;
  pool: SharedArrayBuffer;
  port: MessagePort;
};
const k = attach(d.handle, { cpu: d.cpu });
const ctl = new Int32Array(d.ctl);
const ring = new Int32Array(d.ring);
const pool = new MemPool({ buf: d.pool, skipInitialization: true });
const GFP_KERNEL = 0xcc0;
let sink = 0;

function pairs(n: number): void {
  for (let i = 0; i < n; i++) {
    const a = k.kmalloc(64, GFP_KERNEL);
    sink ^= a;
    k.kfree(a);
  }
}

/** Single producer, single consumer: ring[0] head (consumer's), ring[1] tail (producer's), then the slots. */
function produce(n: number, alloc: () => number): void {
  let tail = ring[1]!;
  for (let i = 0; i < n; i++) {
    const a = alloc();
    while (tail - Atomics.load(ring, 0) >= RING_SLOTS) {}
    ring[2 + (tail % RING_SLOTS)] = a;
    Atomics.store(ring, 1, ++tail);
  }
}

function consume(n: number, free: (a: number) => void): void {
  let head = ring[0]!;
  for (let i = 0; i < n; i++) {
    while (Atomics.load(ring, 1) === head) {}
    free(ring[2 + (head % RING_SLOTS)]! >>> 0);
    Atomics.store(ring, 0, ++head);
  }
}

/** @thi.ng/malloc behind one lock (ctl[Ctl.LOCK]), as a user would share it today. */
function thingAlloc(): number {
  spinLock(ctl, Ctl.LOCK);
  const p = pool.malloc(64);
  spinUnlock(ctl, Ctl.LOCK);
  return p;
}
function thingFree(p: number): void {
  spinLock(ctl, Ctl.LOCK);
  pool.free(p);
  spinUnlock(ctl, Ctl.LOCK);
}

function receive(n: number): Promise<void> {
  return new Promise((resolve) => {
    let got = 0;
    d.port.on('message', function onMessage(m: { i: number; x: number }) {
      sink ^= m.x;
      if (++got === n) {
        d.port.off('message', onMessage);
        resolve();
      }
    });
  });
}

Atomics.add(ctl, Ctl.READY, 1);
Atomics.notify(ctl, Ctl.READY);
let seen = 0;
for (;;) {
  while (Atomics.load(ctl, Ctl.ROUND) === seen) Atomics.wait(ctl, Ctl.ROUND, seen, 50);
  seen = Atomics.load(ctl, Ctl.ROUND);
  if (seen < 0) break;
  const n = ctl[Ctl.N]!;
  const job = ctl[Ctl.JOB + d.w]!;
  if (job === Job.PAIRS) pairs(n);
  else if (job === Job.PRODUCE) produce(n, () => k.kmalloc(64, GFP_KERNEL));
  else if (job === Job.CONSUME) consume(n, (a) => k.kfree(a));
  else if (job === Job.THING_PRODUCE) produce(n, thingAlloc);
  else if (job === Job.THING_CONSUME) consume(n, thingFree);
  else if (job === Job.POST) for (let i = 0; i < n; i++) d.port.postMessage({ i, x: i * 2 });
  else if (job === Job.RECEIVE) await receive(n);
  Atomics.add(ctl, Ctl.DONE, 1);
  Atomics.notify(ctl, Ctl.DONE);
}
k.detach();
parentPort!.postMessage(sink);
