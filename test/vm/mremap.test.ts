/** mremap against this machine's 6.18 (test/fixtures/vm/mremap.c -> mremap.out, setarch -R). */
import { readFileSync } from 'node:fs';
import { expect, test } from 'vitest';
import { EFAULT, EINVAL, ENOMEM, MAP_ANONYMOUS, MAP_PRIVATE, MREMAP_FIXED, MREMAP_MAYMOVE, PROT_READ, PROT_WRITE } from '../../src/vm/mman.js';
import { bootWithProgram } from './helpers.js';

const P = 4096;
const out = readFileSync(new URL('../fixtures/vm/mremap.out', import.meta.url), 'utf8').split('\n');
const linesAfter = (prefix: string) => {
  const i = out.findIndex((l) => l.startsWith(prefix));
  const r: string[] = [];
  for (let j = i + 1; j < out.length && /^[0-9a-f]+-/.test(out[j]!); j++) r.push(out[j]!);
  return r;
};

test('grow in place, ENOMEM without MAYMOVE, move with the pages (no faults after), shrink, errnos', () => {
  const k = bootWithProgram();
  const t = k.spawn('/bin/tiny', ['tiny']);
  const maps = () =>
    k.proc
      .read(`/proc/${t.pid}/maps`)
      .split('\n')
      .filter((l) => l !== '' && Number.parseInt(l, 16) >= 0x7fff00000000 && Number.parseInt(l, 16) < 0x7ffff7ff7000);
  const a = t.mmap(0, 8 * P, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  const b = t.mmap(0, 4 * P, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  for (let i = 0; i < 4; i++) {
    t.write8(a + i * P, 10 + i);
    t.write8(b + i * P, 20 + i);
  }
  t.munmap(a + 4 * P, 4 * P);
  expect(`a=0x${a.toString(16)} b=0x${b.toString(16)}`).toBe(out[1]);
  expect(maps()).toEqual(linesAfter('a='));
  expect(`grow a in place: 0x${t.mremap(a, 4 * P, 8 * P, 0).toString(16)}`).toBe(out.find((l) => l.startsWith('grow a')));
  expect(maps()).toEqual(linesAfter('grow a in place'));
  expect(t.mremap(b, 4 * P, 8 * P, 0)).toBe(-ENOMEM);
  const r = t.mremap(b, 4 * P, 8 * P, MREMAP_MAYMOVE);
  const f0 = t.minFlt;
  let sum = 0;
  for (let i = 0; i < 4; i++) sum += t.read8(r + i * P);
  expect(`move b: 0x${r.toString(16)}, read 4 moved pages +${t.minFlt - f0} faults, sum ${sum}`).toBe(out.find((l) => l.startsWith('move b')));
  expect(maps()).toEqual(linesAfter('move b'));
  expect(t.mremap(r, 8 * P, 2 * P, 0)).toBe(r);
  expect(maps()).toEqual(linesAfter('shrink'));
  expect(t.mremap(b, P, 2 * P, MREMAP_MAYMOVE)).toBe(-EFAULT);
  expect(t.mremap(a + 1, P, 2 * P, MREMAP_MAYMOVE)).toBe(-EINVAL);
  expect(t.mremap(a, P, 2 * P, MREMAP_FIXED)).toBe(-EINVAL);
  // The moved pages keep their contents and RSS; everything is returned at exit.
  expect(t.read8(a + 3 * P)).toBe(13);
  t.exit(0);
  expect(k.vm.nrAnonMapped).toBe(0);
});
