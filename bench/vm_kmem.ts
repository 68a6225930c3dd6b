/**
 * The kmem contenders of bench/vm.bench.ts, each loop in a function of its
 * own (V8 compiles and specializes each loop apart from its peers').
 */
import type { Task } from '../src/vm/fork.js';

/** Store one byte into each of `pages` pages from base: one first-touch anonymous fault each. */
export function kmemFirstTouch(t: Task, base: number, pages: number): void {
  for (let i = 0; i < pages; i++) t.write8(base + i * 4096, 1);
}

/** n 32-bit user loads cycling through 16 mapped pages (TLB hits after the first lap). */
export function kmemLoad32(t: Task, base: number, n: number): number {
  let s = 0;
  for (let i = 0; i < n; i++) s = (s + t.read32(base + ((i << 2) & 0xfffc))) | 0;
  return s;
}

/** n byte loads, the same way. */
export function kmemLoad8(t: Task, base: number, n: number): number {
  let s = 0;
  for (let i = 0; i < n; i++) s = (s + t.read8(base + (i & 0xffff))) | 0;
  return s;
}

/** fork(2), the child's exit(2), the parent's wait(2), n times. */
export function kmemForkExit(parent: Task, n: number): void {
  for (let i = 0; i < n; i++) {
    const c = parent.fork();
    c.exit(0);
    parent.wait();
  }
}
