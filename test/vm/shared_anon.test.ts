/** MAP_SHARED|MAP_ANONYMOUS (shmem) against this machine's 6.18 (test/fixtures/vm/shared_anon.c -> shared_anon.out, setarch -R). */
import { readFileSync } from 'node:fs';
import { expect, test } from 'vitest';
import type { Kernel } from '../../src/kernel.js';
import type { Task } from '../../src/vm/fork.js';
import { MAP_ANONYMOUS, MAP_SHARED, PROT_READ, PROT_WRITE } from '../../src/vm/mman.js';
import { bootWithProgram } from './helpers.js';

const P = 4096;
const out = readFileSync(new URL('../fixtures/vm/shared_anon.out', import.meta.url), 'utf8').split('\n');
const noIno = (l: string) => l.replace(/ 00:01 \d+ +/, ' 00:01 INO ');
const block = (prefix: string) => {
  const i = out.findIndex((l) => l.startsWith(prefix));
  const r: string[] = [];
  for (let j = i + 1; j < out.length && /^([0-9a-f]+-|Rss|Pss|Shared_Dirty|Private_Dirty|Anonymous|VmFlags)/.test(out[j]!); j++) r.push(noIno(out[j]!));
  return r;
};
const kb = (k: Kernel, t: Task, f: string) => Number(new RegExp(`^${f}:\\s+(\\d+) kB$`, 'm').exec(k.proc.read(`/proc/${t.pid}/status`))![1]);
const smaps = (k: Kernel, t: Task, lo: number) => {
  const r: string[] = [];
  let show = false;
  for (const l of k.proc.read(`/proc/${t.pid}/smaps`).split('\n')) {
    if (/^[0-9a-f]+-/.test(l)) {
      show = Number.parseInt(l, 16) === lo;
      if (show) r.push(noIno(l));
    } else if (show && /^(Rss|Pss:|Shared_Dirty|Private_Dirty|Anonymous|VmFlags)/.test(l)) r.push(l);
  }
  return r;
};

test('shared anonymous memory is shmem: real pages on read, RssShmem, the maps name, shared with a child', () => {
  const k = bootWithProgram();
  const t = k.spawn('/bin/tiny', ['tiny']);
  const s = t.mmap(0, 4 * P, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  const big = t.mmap(0, 2 << 20, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  expect(`shared 0x${s.toString(16)}, 2 MiB shared 0x${big.toString(16)}`).toBe(out[1]);
  const f0 = t.minFlt;
  const r0 = kb(k, t, 'RssShmem');
  t.write8(s, 1);
  t.write8(s + P, 2);
  t.read8(s + 2 * P);
  expect(t.minFlt - f0).toBe(3);
  expect(kb(k, t, 'RssShmem') - r0).toBe(12);
  expect(smaps(k, t, s)).toEqual(block('write 2 pages'));
  const c = t.fork();
  const c0 = c.minFlt;
  c.write8(s, 42);
  c.write8(s + 3 * P, 7);
  expect(`child writes: +${c.minFlt - c0} faults`).toBe(out.find((l) => l.startsWith('child writes')));
  c.exit(0);
  t.wait();
  expect(`parent sees ${t.read8(s)} ${t.read8(s + 3 * P)}`).toBe(out.find((l) => l.startsWith('parent sees')));
  expect(smaps(k, t, s)).toEqual(block('parent sees'));
  // The shmem pages go when the last mapping goes.
  const cached = k.vm.pageCache.size;
  t.munmap(s, 4 * P);
  expect(k.vm.pageCache.size).toBe(cached - 4);
  t.exit(0);
  expect(k.vm.nrShmem).toBe(0);
});
