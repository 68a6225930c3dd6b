/**
 * One CPU of the KASAN-with-CPU-threads test (test/smp/kasan.test.ts).
 * Role 'alloc': kmalloc an object, post its address in the shared words,
 * wait until the other CPU freed it, then read it (a use-after-free) and
 * report KASAN's reports. Role 'free': wait for the address, kfree it.
 * Each waits polling for IPIs, as a CPU in the kernel would take them.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { attach } from '../../src/attach.js';
import type { SmpHandle } from '../../src/kernel.js';

const d = workerData as { handle: SmpHandle; cpu: number; role: 'alloc' | 'free'; words: SharedArrayBuffer };
const k = attach(d.handle, { cpu: d.cpu });
// Each CPU runs a task of its own, so the two tracks name different tasks.
k.setTask({ pid: 100 + d.cpu, comm: `smp-${d.role}` });
const words = new Int32Array(d.words);
const ADDR = 0;
const STATE = 1;

function waitState(want: number): void {
  while (Atomics.load(words, STATE) !== want) {
    k.poll();
    Atomics.wait(words, STATE, Atomics.load(words, STATE), 1);
  }
}

function allocOnThisCpu(): number {
  return k.kmalloc(120, 0xcc0);
}

function freeOnThisCpu(addr: number): void {
  k.kfree(addr);
}

function useAfterFree(addr: number): number {
  return k.mem.read8(addr + 16);
}

if (d.role === 'alloc') {
  const addr = allocOnThisCpu();
  Atomics.store(words, ADDR, addr);
  Atomics.store(words, STATE, 1);
  Atomics.notify(words, STATE);
  waitState(2);
  useAfterFree(addr);
  const reports = k.kasan!.reports().map((r) => ({ bugType: r.bugType, lines: r.lines, alloc: r.alloc, free: r.free, addr: r.addr }));
  k.detach();
  parentPort!.postMessage({ addr, pid: k.task.pid, reports });
} else {
  waitState(1);
  const addr = Atomics.load(words, ADDR);
  freeOnThisCpu(addr);
  const pid = k.task.pid;
  k.detach();
  Atomics.store(words, STATE, 2);
  Atomics.notify(words, STATE);
  parentPort!.postMessage({ addr, pid, reports: [] });
}
