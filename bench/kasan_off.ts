/**
 * The KASAN-off contenders of bench/kasan.bench.ts, each loop in a function
 * of its own in a module of its own (the same code as the other module's:
 * every k.mem call site stays monomorphic, as in a program that boots one
 * machine). Each returns the operations it did.
 */
import { GFP_KERNEL, type Kernel } from '../src/index.js';
import { sink } from './harness.js';

/** n passes over every buffer (each bufSize bytes): an 8-byte load and an 8-byte store per word. */
export function loadStore64Off(k: Kernel, bufs: Float64Array, bufSize: number, n: number): number {
  const mem = k.mem;
  let acc = 0n;
  for (let r = 0; r < n; r++) {
    for (let i = 0; i < bufs.length; i++) {
      const p = bufs[i]!;
      for (let off = 0; off < bufSize; off += 8) {
        const v = mem.read64(p + off);
        acc ^= v;
        mem.write64(p + off, v + 1n);
      }
    }
  }
  sink(Number(acc & 0xffffn));
  return n * bufs.length * (bufSize / 8) * 2;
}

/** The same with 4-byte loads and stores (no BigInt). */
export function loadStore32Off(k: Kernel, bufs: Float64Array, bufSize: number, n: number): number {
  const mem = k.mem;
  let acc = 0;
  for (let r = 0; r < n; r++) {
    for (let i = 0; i < bufs.length; i++) {
      const p = bufs[i]!;
      for (let off = 0; off < bufSize; off += 4) {
        const v = mem.read32(p + off);
        acc ^= v;
        mem.write32(p + off, (v + 1) >>> 0);
      }
    }
  }
  sink(acc);
  return n * bufs.length * (bufSize / 4) * 2;
}

/** kmalloc(64) then kfree, n times. */
export function kasanPairOff(k: Kernel, n: number): number {
  let s = 0;
  for (let i = 0; i < n; i++) {
    const p = k.kmalloc(64, GFP_KERNEL);
    s ^= p;
    k.kfree(p);
  }
  sink(s);
  return n;
}
