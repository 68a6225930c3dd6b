/** The mixed workload's kmalloc-like sizes: 90% 8..255 bytes, a tail to 4 KiB (every contender draws the same sequence). */
export function mixedSize(rnd: () => number): number {
  return rnd() < 0.9 ? 8 + Math.floor(rnd() * 248) : 256 + Math.floor(rnd() * 3840);
}
