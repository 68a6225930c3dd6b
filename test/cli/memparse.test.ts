/**
 * --mem and boot({ memory }) read sizes the way lib/cmdline.c's memparse()
 * reads mem=, crashkernel= and the other size parameters: a whole number in
 * C's base-0 notation (strtoull(..., 0)), then K, M, G, T, P or E in either
 * case, each 1024 times the one before.
 */
import { describe, expect, it } from 'vitest';
import { memparse } from '../../src/memory/memblock.js';

describe('memparse', () => {
  it.each([
    ['4096', 4096],
    ['64M', 64 * 2 ** 20],
    ['64m', 64 * 2 ** 20],
    ['512K', 512 * 1024],
    ['1G', 2 ** 30],
    ['1T', 2 ** 40],
    ['2t', 2 ** 41],
    ['1P', 2 ** 50],
    ['0x1000', 4096],
    ['0x10M', 16 * 2 ** 20],
    ['010', 8], // strtoull base 0: a leading 0 is octal
    ['0', 0],
    ['64MiB', 64 * 2 ** 20],
  ])('%s is %d bytes', (text, bytes) => {
    expect(memparse(text)).toBe(bytes);
  });

  it('refuses a fraction by name, with the whole-number size it meant', () => {
    expect(() => memparse('1.5G', '--mem')).toThrow(/^--mem: '1\.5G' has a fraction.*\(1\.5G is 1536M\)/);
    expect(() => memparse('.5M')).toThrow(/fraction/);
  });

  it('refuses what it cannot read, and sizes past 2^53 bytes', () => {
    expect(() => memparse('lots')).toThrow(/cannot parse size 'lots'/);
    expect(() => memparse('12Q')).toThrow(/cannot parse/);
    expect(() => memparse('16E')).toThrow(/too large/);
  });
});
