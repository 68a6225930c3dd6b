/**
 * The peers of bench/vm.bench.ts, each loop in a function of its own: plain
 * typed-array work on the host, what kmem's user memory access would cost
 * with no page tables at all.
 */

/** A fresh zeroed buffer of `pages` pages and a store into each: the host kernel's own first-touch faults (V8 maps big buffers lazily). */
export function hostFirstTouch(pages: number): Uint8Array {
  const a = new Uint8Array(pages * 4096);
  for (let i = 0; i < pages; i++) a[i * 4096] = 1;
  return a;
}

/** Zero n 4 KiB frames of RAM at the byte addresses in `frames`, in that order: what __GFP_ZERO costs a first-touch fault, alone. */
export function zeroFrames(u8: Uint8Array, frames: Float64Array, n: number): void {
  for (let i = 0; i < n; i++) {
    const a = frames[i]!;
    u8.fill(0, a, a + 4096);
  }
}

/** n 32-bit loads from a Uint32Array over 64 KiB: the ideal user load. */
export function idealLoad32(u32: Uint32Array, n: number): number {
  let s = 0;
  for (let i = 0; i < n; i++) s = (s + u32[i & 0x3fff]!) | 0;
  return s;
}

/** n byte loads from a Uint8Array over 64 KiB. */
export function idealLoad8(u8: Uint8Array, n: number): number {
  let s = 0;
  for (let i = 0; i < n; i++) s = (s + u8[i & 0xffff]!) | 0;
  return s;
}

/** The copy fork would make without copy-on-write: every byte of the touched memory, n times. */
export function eagerCopy(src: Uint8Array, dst: Uint8Array, n: number): void {
  for (let i = 0; i < n; i++) dst.set(src);
}
