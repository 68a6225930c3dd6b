/**
 * One CPU of the slub_debug-with-CPU-threads test (test/smp/slub_debug.test.ts):
 * role 'alloc' allocates two objects of the cache and reports them; role
 * 'free' frees the one it is given. Each runs a task of its own, so the
 * tracks name different tasks.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { attach } from '../../src/attach.js';
import type { SmpHandle } from '../../src/kernel.js';

const d = workerData as { handle: SmpHandle; cpu: number; role: 'alloc' | 'free'; cache: number; obj: number };
const k = attach(d.handle, { cpu: d.cpu });
k.setTask({ pid: 100 + d.cpu, comm: `smp-${d.role}` });

function allocOnThisCpu(): number {
  return k.kmemCacheAlloc(d.cache, 0xcc0);
}

function freeOnThisCpu(obj: number): void {
  k.kmemCacheFree(d.cache, obj);
}

let objs: number[] = [];
if (d.role === 'alloc') objs = [allocOnThisCpu(), allocOnThisCpu()];
else freeOnThisCpu(d.obj);
k.detach();
parentPort!.postMessage({ objs });
