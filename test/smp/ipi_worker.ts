/**
 * A CPU that allocates and frees a little (leaving a cpu slab, a cpu
 * freelist and pages on its pcp lists), reports, and then only serves the
 * IPIs other CPUs send it until told to stop (test/smp/attach.test.ts).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { attach } from '../../src/attach.js';
import type { SmpHandle } from '../../src/kernel.js';

const d = workerData as { handle: SmpHandle; cpu: number; stop: SharedArrayBuffer };
const k = attach(d.handle, { cpu: d.cpu });
const objs: number[] = [];
for (let i = 0; i < 10; i++) objs.push(k.kmalloc(64, 0xcc0));
for (const o of objs.splice(0, 5)) k.kfree(o);
const pages: number[] = [];
for (let i = 0; i < 8; i++) pages.push(k.allocPages(0, 0xcc0));
for (const p of pages) k.freePages(p, 0);
// Five objects stay allocated here, for CPU 0 to free remotely.
parentPort!.postMessage({ kept: objs, cache: k.kmemCacheByName('kmalloc-64') });
const stop = new Int32Array(d.stop);
while (Atomics.load(stop, 0) === 0) {
  k.poll();
  Atomics.wait(stop, 0, 0, 1);
}
k.detach();
parentPort!.postMessage('bye');
