/**
 * A CPU of the linearizability test (test/smp/linearizable.test.ts): each
 * round, free the objects CPU 0 handed this worker -- remote frees into
 * CPU 0's frozen cpu slab, the compareExchange of __slab_free -- stamping
 * each call and return from a shared clock.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { attach } from '../../src/attach.js';
import type { SmpHandle } from '../../src/kernel.js';
import { Lin, PER_WORKER } from './lin_layout.js';

const d = workerData as { handle: SmpHandle; cpu: number; w: number; shared: SharedArrayBuffer };
const k = attach(d.handle, { cpu: d.cpu });
const a = new Int32Array(d.shared);
let seen = 0;
for (;;) {
  while (Atomics.load(a, Lin.ROUND) === seen) {
    k.poll();
    Atomics.wait(a, Lin.ROUND, seen, 1);
  }
  seen = Atomics.load(a, Lin.ROUND);
  if (seen < 0) break;
  const n = a[Lin.COUNT + d.w]!;
  for (let j = 0; j < n; j++) {
    const at = Lin.OBJS + d.w * PER_WORKER + j;
    const call = Atomics.add(a, Lin.CLOCK, 1);
    k.kfree(a[at]! >>> 0);
    const ret = Atomics.add(a, Lin.CLOCK, 1);
    a[Lin.HIST + 2 * (d.w * PER_WORKER + j)] = call;
    a[Lin.HIST + 2 * (d.w * PER_WORKER + j) + 1] = ret;
    Atomics.add(a, Lin.FREED, 1);
  }
  Atomics.add(a, Lin.DONE, 1);
  Atomics.notify(a, Lin.DONE);
}
k.detach();
parentPort!.postMessage('bye');
