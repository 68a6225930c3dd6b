/** madvise's flag advice against this machine's 6.18 (test/fixtures/vm/madvise_fork.c -> madvise_fork.out, setarch -R). */
import { readFileSync } from 'node:fs';
import { expect, test } from 'vitest';
import type { Kernel } from '../../src/kernel.js';
import { Segfault } from '../../src/vm/fault.js';
import type { Task } from '../../src/vm/fork.js';
import { EINVAL, MADV_DOFORK, MADV_DONTFORK, MADV_KEEPONFORK, MADV_WIPEONFORK, MAP_ANONYMOUS, MAP_PRIVATE, PROT_READ, PROT_WRITE } from '../../src/vm/mman.js';
import { bootWithProgram } from './helpers.js';

const P = 4096;
const out = readFileSync(new URL('../fixtures/vm/madvise_fork.out', import.meta.url), 'utf8').split('\n');
/** The smaps header and VmFlags lines printed right after the line starting with prefix. */
const block = (prefix: string) => {
  const i = out.findIndex((l) => l.startsWith(prefix));
  const r: string[] = [];
  for (let j = i + 1; j < out.length && (/^[0-9a-f]+-/.test(out[j]!) || out[j]!.startsWith('VmFlags')); j++) r.push(out[j]!);
  return r;
};
const smaps = (k: Kernel, t: Task, lo: number, hi: number) => {
  const r: string[] = [];
  let show = false;
  for (const l of k.proc.read(`/proc/${t.pid}/smaps`).split('\n')) {
    if (/^[0-9a-f]+-/.test(l)) {
      const s = Number.parseInt(l, 16);
      show = s >= lo && s < hi;
      if (show) r.push(l);
    } else if (show && l.startsWith('VmFlags')) r.push(l);
  }
  return r;
};

test('MADV_DONTFORK and MADV_WIPEONFORK split the VMA; the child lacks the first and gets the second empty; DOFORK/KEEPONFORK merge it back', () => {
  const k = bootWithProgram();
  const t = k.spawn('/bin/tiny', ['tiny']);
  const a = t.mmap(0, 6 * P, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  for (let i = 0; i < 6; i++) t.write8(a + i * P, 1 + i);
  expect(t.madvise(a + P, 2 * P, MADV_DONTFORK)).toBe(0);
  expect(t.madvise(a + 4 * P, 2 * P, MADV_WIPEONFORK)).toBe(0);
  expect(smaps(k, t, a, a + 6 * P)).toEqual(block('MADV_WIPEONFORK'));
  const c = t.fork();
  expect(`child: page 0 ${c.read8(a)}, page 3 ${c.read8(a + 3 * P)}, page 4 ${c.read8(a + 4 * P)} (wiped)`).toBe(out.find((l) => l.startsWith('child:')));
  expect(smaps(k, c, a, a + 6 * P)).toEqual(block('child:'));
  expect(() => c.read8(a + P)).toThrow(Segfault);
  expect(t.madvise(a, 6 * P, MADV_DOFORK)).toBe(0);
  expect(t.madvise(a, 6 * P, MADV_KEEPONFORK)).toBe(0);
  expect(smaps(k, t, a, a + 6 * P)).toEqual(block('MADV_DOFORK'));
  expect(t.madvise(a, P, 7)).toBe(-EINVAL);
  expect(t.read8(a + 4 * P)).toBe(5);
});
