/**
 * A CPU of the tid test (test/smp/tid.test.ts): allocates and frees objects
 * of one cache on its lockless freelist while CPU 0 keeps flushing it by
 * IPI (kmem_cache_shrink); with smpJitter the fast path's window is open to
 * those IPIs. Each live object carries a tag in its first and last word,
 * checked when it is freed: a flush that slipped between reading the
 * freelist and taking its head would hand one object out twice.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { attach } from '../../src/attach.js';
import type { SmpHandle } from '../../src/kernel.js';

const d = workerData as { handle: SmpHandle; cpu: number; ops: number; done: SharedArrayBuffer; cache: number };
const k = attach(d.handle, { cpu: d.cpu });
const SIZE = 96;
const held: { addr: number; tag: number }[] = [];
const errors: string[] = [];
let rng = 0x1234567 ^ d.cpu;
/** This CPU's cmpxchg_double_cpu_fail count so far (SLUB's per-CPU statistic, as sysfs prints it). */
function retries(): number {
  const m = /C(\d+)=(\d+)/g;
  const text = k.sys.read('/sys/kernel/slab/tid-b/cmpxchg_double_cpu_fail');
  for (let x = m.exec(text); x !== null; x = m.exec(text)) if (Number(x[1]) === d.cpu) return Number(x[2]);
  return 0;
}
// At least `ops` operations, and on until a flush has met the window (or 20 times as many).
for (let n = 0; n < d.ops || (retries() === 0 && n < 20 * d.ops); n++) {
  rng ^= rng << 13;
  rng ^= rng >>> 17;
  rng ^= rng << 5;
  if (held.length === 0 || (held.length < 200 && (rng & 3) !== 0)) {
    const addr = k.kmemCacheAlloc(d.cache, 0xcc0);
    const tag = ((d.cpu << 24) | n) >>> 0;
    k.mem.write32(addr, tag);
    k.mem.write32(addr + SIZE - 4, tag);
    held.push({ addr, tag });
  } else {
    const at = (rng >>> 8) % held.length;
    const o = held[at]!;
    held[at] = held[held.length - 1]!;
    held.pop();
    if (k.mem.read32(o.addr) >>> 0 !== o.tag || k.mem.read32(o.addr + SIZE - 4) >>> 0 !== o.tag) {
      errors.push(`object 0x${o.addr.toString(16)} lost its tag ${o.tag.toString(16)}`);
    }
    k.kmemCacheFree(d.cache, o.addr);
  }
}
for (const o of held) k.kmemCacheFree(d.cache, o.addr);
const done = new Int32Array(d.done);
Atomics.store(done, 0, 1);
k.detach();
parentPort!.postMessage({ errors });
