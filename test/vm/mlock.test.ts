/** mlock/munlock against this machine's 6.18 (test/fixtures/vm/mlock.c -> mlock.out, setarch -R, as root). */
import { readFileSync } from 'node:fs';
import { expect, test } from 'vitest';
import type { Kernel } from '../../src/kernel.js';
import type { Task } from '../../src/vm/fork.js';
import { MAP_ANONYMOUS, MAP_PRIVATE, PROT_READ, PROT_WRITE } from '../../src/vm/mman.js';
import { bootWithProgram } from './helpers.js';

const P = 4096;
const out = readFileSync(new URL('../fixtures/vm/mlock.out', import.meta.url), 'utf8').split('\n');
const block = (prefix: string) => {
  const i = out.findIndex((l) => l.startsWith(prefix));
  const r: string[] = [];
  for (let j = i + 1; j < out.length && /^([0-9a-f]+-|Rss|Locked|VmFlags)/.test(out[j]!); j++) r.push(out[j]!);
  return r;
};
const line = (prefix: string) => out.find((l) => l.startsWith(prefix));
const kb = (k: Kernel, t: Task, f: string) => Number(new RegExp(`^${f}:\\s+(\\d+) kB$`, 'm').exec(k.proc.read(`/proc/${t.pid}/status`))![1]);
const smaps = (k: Kernel, t: Task, lo: number, hi: number) => {
  const r: string[] = [];
  let show = false;
  for (const l of k.proc.read(`/proc/${t.pid}/smaps`).split('\n')) {
    if (/^[0-9a-f]+-/.test(l)) {
      const s = Number.parseInt(l, 16);
      show = s >= lo && s < hi;
      if (show) r.push(l);
    } else if (show && /^(Rss|Locked|VmFlags)/.test(l)) r.push(l);
  }
  return r;
};

test('mlock splits, faults in and counts VmLck; a child does not inherit it; munlock merges; a hole is ENOMEM after the part before it', () => {
  const k = bootWithProgram();
  const t = k.spawn('/bin/tiny', ['tiny']);
  const a = t.mmap(0, 8 * P, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  const f0 = t.minFlt;
  const r0 = kb(k, t, 'VmRSS');
  const r = t.mlock(a + 2 * P, 4 * P);
  expect(`mlock middle 4 pages: ${r}, +${t.minFlt - f0} faults, VmRSS +${kb(k, t, 'VmRSS') - r0} kB, VmLck ${kb(k, t, 'VmLck')} kB`).toBe(line('mlock middle'));
  expect(smaps(k, t, a, a + 8 * P)).toEqual(block('mlock middle'));
  const c = t.fork();
  expect(`child VmLck ${kb(k, c, 'VmLck')} kB`).toBe(line('child VmLck'));
  expect(smaps(k, c, a, a + 8 * P)).toEqual(block('child VmLck'));
  c.exit(0);
  t.wait();
  expect(`munlock: ${t.munlock(a, 8 * P)}, VmLck ${kb(k, t, 'VmLck')} kB`).toBe(line('munlock'));
  expect(smaps(k, t, a, a + 8 * P)).toEqual(block('munlock'));
  t.munmap(a + 7 * P, P);
  expect(`mlock over a hole: ${t.mlock(a, 8 * P) === -12 ? -1 : 0} errno 12, VmLck ${kb(k, t, 'VmLck')} kB`).toBe(line('mlock over a hole'));
  expect(`munmap a locked VMA: ${t.munmap(a, 7 * P)}, VmLck ${kb(k, t, 'VmLck')} kB`).toBe(line('munmap a locked'));
});
