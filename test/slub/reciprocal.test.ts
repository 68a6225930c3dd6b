/**
 * Object index arithmetic without a division: Math.imul(off, recipMul(size))
 * >>> recipShift(size) must equal floor(off / size) for every offset a slab of
 * order <= 3 can have, and the product must stay an int32.
 */
import { describe, expect, it } from 'vitest';
import { recipMul, recipShift } from '../../src/slub/slab.js';

describe('the int32 reciprocal of an object size', () => {
  it('divides every offset below 2^15 exactly, for every size 1..64 and every multiple of 8 up to 8 KiB', () => {
    const sizes = [...Array(64).keys()].map((i) => i + 1);
    for (let size = 72; size <= 8192; size += 8) sizes.push(size);
    let wrong = 0;
    for (const size of sizes) {
      const mul = recipMul(size);
      const shift = recipShift(size);
      expect(mul).toBeLessThanOrEqual(2 ** 16);
      expect((2 ** 15 - 1) * mul).toBeLessThan(2 ** 31);
      for (let off = 0; off < 2 ** 15; off++) {
        if (Math.imul(off, mul) >>> shift !== Math.floor(off / size)) wrong++;
      }
    }
    expect(wrong).toBe(0);
  });

  it('gives the slab sizes the kernel uses for kmalloc (96, 192, 4096, 8192) exactly', () => {
    for (const [size, off, idx] of [
      [96, 96 * 41, 41],
      [192, 192 * 20, 20],
      [4096, 4096 * 7, 7],
      [8192, 8192 * 3, 3],
      [96, 96 * 41 + 95, 41],
    ] as const) {
      expect(Math.imul(off, recipMul(size)) >>> recipShift(size)).toBe(idx);
    }
  });
});
