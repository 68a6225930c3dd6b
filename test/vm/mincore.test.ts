/** mincore and pagemap against this machine's 6.18 (test/fixtures/vm/mincore_pagemap.c -> mincore_pagemap.out, setarch -R, as root). */
import { readFileSync } from 'node:fs';
import { expect, test } from 'vitest';
import type { Task } from '../../src/vm/fork.js';
import { EINVAL, ENOMEM, MAP_ANONYMOUS, MAP_PRIVATE, MAP_SHARED, PROT_READ, PROT_WRITE } from '../../src/vm/mman.js';
import { bootWithProgram } from './helpers.js';

const P = 4096;
const out = readFileSync(new URL('../fixtures/vm/mincore_pagemap.out', import.meta.url), 'utf8').split('\n');

function pm(t: Task, what: string, a: number, n: number): string[] {
  return [...t.pagemap(a, n)].map(
    (e, i) =>
      `${what} page ${i}: present ${Number((e >> 63n) & 1n)} file/shared ${Number((e >> 61n) & 1n)} exclusive ${Number((e >> 56n) & 1n)} soft-dirty ${Number((e >> 55n) & 1n)} pfn-nonzero ${(e & ((1n << 55n) - 1n)) !== 0n ? 1 : 0}`,
  );
}

test('mincore and the pagemap flags of written, zero-page and untouched pages, after fork, and of shmem', () => {
  const k = bootWithProgram();
  const t = k.spawn('/bin/tiny', ['tiny']);
  const a = t.mmap(0, 3 * P, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  t.write8(a, 1);
  t.read8(a + P);
  const v = t.mincore(a, 3 * P) as Uint8Array;
  expect(`mincore: 0 [${[...v].join(' ')}]`).toBe(out[1]);
  expect(pm(t, 'private', a, 3)).toEqual(out.filter((l) => l.startsWith('private')));
  const c = t.fork();
  expect(pm(c, 'child', a, 3)).toEqual(out.filter((l) => l.startsWith('child')));
  c.exit(0);
  t.wait();
  const s = t.mmap(0, P, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  t.write8(s, 1);
  expect(pm(t, 'shared', s, 1)).toEqual(out.filter((l) => l.startsWith('shared')));
  expect(t.mincore(a + 1, P)).toBe(-EINVAL);
  t.munmap(a + P, P);
  expect(t.mincore(a, 3 * P)).toBe(-ENOMEM);
});
