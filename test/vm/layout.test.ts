/**
 * Address choice and page-table accounting against this machine's 6.18
 * (test/fixtures/vm/vm_layout.c -> vm_layout.out, run under setarch -R): a
 * static program's mmap area starts below the vDSO, as in kmem's tiny program.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import type { Kernel } from '../../src/kernel.js';
import { Segfault } from '../../src/vm/fault.js';
import type { Task } from '../../src/vm/fork.js';
import { MADV_NOHUGEPAGE, MAP_ANONYMOUS, MAP_PRIVATE, PROT_READ, PROT_WRITE } from '../../src/vm/mman.js';
import { bootWithProgram } from './helpers.js';

const P = 4096;
const RW = PROT_READ | PROT_WRITE;
const ANON = MAP_PRIVATE | MAP_ANONYMOUS;
const out = readFileSync(new URL('../fixtures/vm/vm_layout.out', import.meta.url), 'utf8').split('\n');
const lineAfter = (prefix: string) => out[out.findIndex((l) => l.startsWith(prefix)) + 1]!;
const value = (prefix: string) => out.find((l) => l.startsWith(prefix))!.slice(prefix.length);
const kbOf = (k: Kernel, t: Task, f: string) => Number(new RegExp(`^${f}:\\s+(\\d+) kB$`, 'm').exec(k.proc.read(`/proc/${t.pid}/status`))![1]);
const mapsIn = (k: Kernel, t: Task, lo: number, hi: number) =>
  k.proc
    .read(`/proc/${t.pid}/maps`)
    .split('\n')
    .filter((l) => l !== '' && Number.parseInt(l, 16) >= lo && Number.parseInt(l, 16) < hi);

describe('layout and page tables', () => {
  test('the same sequence of mmaps gets the same addresses; VmPTE grows by the PTE tables and shrinks on munmap', () => {
    const k = bootWithProgram();
    const t = k.spawn('/bin/tiny', ['tiny']);
    const pte0 = kbOf(k, t, 'VmPTE');
    const big = t.mmap(0, 4 << 20, RW, ANON, -1, 0);
    // fixture: mmap 4 MiB: 0x7ffff7a00000 (2 MiB aligned: 1)
    expect(`0x${big.toString(16)} (2 MiB aligned: 1)`).toBe(value('mmap 4 MiB: '));
    expect(t.madvise(big, 4 << 20, MADV_NOHUGEPAGE)).toBe(0);
    for (let i = 0; i < 4 << 20; i += P) t.write8(big + i, 1);
    // fixture: start: VmPTE 28 kB / touched 4 MiB: VmPTE 36 kB / munmap 4 MiB: VmPTE 28 kB
    expect(kbOf(k, t, 'VmPTE') - pte0).toBe(8);
    t.munmap(big, 4 << 20);
    expect(kbOf(k, t, 'VmPTE')).toBe(pte0);
    const odd = t.mmap(0, (2 << 20) + P, RW, ANON, -1, 0);
    expect(`0x${odd.toString(16)}`).toBe(value('mmap 2 MiB + 4 KiB: '));
    const h = t.mmap(0x20000000, P, PROT_READ, ANON, -1, 0);
    expect(`0x${h.toString(16)}`).toBe(value('mmap hint 0x20000000: '));
    const h2 = t.mmap(0x20000000, P, PROT_READ, ANON, -1, 0);
    expect(`0x${h2.toString(16)}`).toBe(value('same hint again: '));
    const u = t.mmap(0, 3 * P, RW, ANON, -1, 0);
    t.mprotect(u + P, P, PROT_READ);
    const i = out.findIndex((l) => l.startsWith('untouched 3 pages'));
    expect(mapsIn(k, t, u, u + 3 * P)).toEqual(out.slice(i + 1, i + 4));
    t.mprotect(u + P, P, RW);
    expect(mapsIn(k, t, u, u + 3 * P)).toEqual([lineAfter('mprotect middle back')]);
  });

  test('fork copies the PTEs of a VMA with anonymous pages: the child reads without faulting', () => {
    const k = bootWithProgram();
    const t = k.spawn('/bin/tiny', ['tiny']);
    const z = t.mmap(0, 2 * P, RW, ANON, -1, 0);
    const w = t.mmap(0, 2 * P, RW, ANON, -1, 0);
    t.read8(z);
    t.write8(w, 5);
    const c = t.fork();
    const f0 = c.minFlt;
    c.read8(z);
    const d1 = c.minFlt - f0;
    const v = c.read8(w);
    // fixture: child: read of a zero-page-only VMA +0 faults, read of a written page +0 faults (5)
    expect(`child: read of a zero-page-only VMA +${d1} faults, read of a written page +${c.minFlt - f0 - d1} faults (${v})`).toBe(
      value('child: ').replace(/^/, 'child: '),
    );
  });

  test('a write 100 pages below the stack grows it by one fault; 9 MiB below is SIGSEGV with error 6', () => {
    const k = bootWithProgram();
    const t = k.spawn('/bin/tiny', ['tiny']);
    const lo = Number.parseInt(value('stack starts at '), 16);
    expect(mapsIn(k, t, lo, lo + 1)[0]).toMatch(/ \[stack\]$/);
    const f0 = t.minFlt;
    t.write8(lo - 100 * P, 1);
    expect(t.minFlt - f0).toBe(1);
    expect(mapsIn(k, t, 0x7ff000000000, 0x800000000000).find((l) => l.endsWith('[stack]'))).toBe(lineAfter('write 100 pages below the stack'));
    expect(`${kbOf(k, t, 'VmStk')} kB`).toBe(value('VmStk '));
    let err: Segfault | null = null;
    try {
      t.write8(lo - 9 * 1024 * 1024, 1);
    } catch (e) {
      err = e as Segfault;
    }
    expect(err).toBeInstanceOf(Segfault);
    expect(err!.errorCode).toBe(6);
    expect(value('# dmesg:') === '' || out.some((l) => l.includes(`segfault at ${(lo - 9 * 1024 * 1024).toString(16)}`))).toBe(true);
  });
});
