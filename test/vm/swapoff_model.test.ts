/**
 * Property test of swapoff: random writes, forks, MADV_PAGEOUT and direct
 * reclaim over anonymous memory (shared copy-on-write between a parent and
 * its children) and a shmem mapping, then swapoff. The model holds every
 * page's bytes per task. After swapoff every byte reads back as the model
 * says without a major fault, no swap entry, swap-cache page or slot is
 * left, the LRU lists recount exactly, and swapon gives back an empty area.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { boot } from '../../src/kernel.js';
import { GFP_HIGHUSER_MOVABLE } from '../../src/page_alloc/gfp.js';
import type { Task } from '../../src/vm/fork.js';
import { forEachPte } from '../../src/vm/memory.js';
import { MADV_PAGEOUT, MAP_ANONYMOUS, MAP_FIXED, MAP_PRIVATE, MAP_SHARED, PROT_READ, PROT_WRITE } from '../../src/vm/mman.js';
import { shmemOf } from '../../src/vm/shmem.js';
import { isSwapPte } from '../../src/vm/swapops.js';
import { tryToFreePages } from '../../src/vm/vmscan.js';
import { pagePattern as fill, tinyElf } from './helpers.js';
import { recountLru } from './lru_check.js';

const P = 4096;
const ANON = 0x10000000;
const SHM = 0x20000000;
const NA = 16;
const NS = 8;

type Op =
  | { kind: 'write'; task: number; shm: boolean; page: number; seed: number }
  | { kind: 'fork'; task: number }
  | { kind: 'pageout'; task: number; shm: boolean }
  | { kind: 'reclaim' };

const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant('write' as const), task: fc.nat(3), shm: fc.boolean(), page: fc.nat(15), seed: fc.integer({ min: 1, max: 1 << 20 }) }),
  fc.record({ kind: fc.constant('fork' as const), task: fc.nat(3) }),
  fc.record({ kind: fc.constant('pageout' as const), task: fc.nat(3), shm: fc.boolean() }),
  fc.record({ kind: fc.constant('reclaim' as const) }),
);

function meminfo(text: string, name: string): number {
  return Number(new RegExp(`^${name}:\\s+(\\d+) kB$`, 'm').exec(text)![1]);
}

describe('swapoff (property)', () => {
  it('brings back every page of every task and of shmem, whatever was swapped, shared or cached', () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 40 }), (ops) => {
        const k = boot({ memory: '32M', cpus: 1, seed: 1, aslr: 0, swap: '8M' });
        k.fs.writeFile('/bin/tiny', tinyElf());
        const t0 = k.spawn('/bin/tiny');
        expect(t0.mmap(ANON, NA * P, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0)).toBe(ANON);
        expect(t0.mmap(SHM, NS * P, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS | MAP_FIXED, -1, 0)).toBe(SHM);
        const tasks: Task[] = [t0];
        const anon: (Uint8Array | null)[][] = [Array(NA).fill(null)];
        const shm: (Uint8Array | null)[] = Array(NS).fill(null);
        for (const o of ops) {
          if (o.kind === 'reclaim') {
            tryToFreePages(k.vm, 0, GFP_HIGHUSER_MOVABLE);
            continue;
          }
          const ti = o.task % tasks.length;
          const t = tasks[ti]!;
          if (o.kind === 'write') {
            const b = fill(o.seed);
            if (o.shm) {
              t.writeBytes(SHM + (o.page % NS) * P, b);
              shm[o.page % NS] = b;
            } else {
              t.writeBytes(ANON + (o.page % NA) * P, b);
              anon[ti]![o.page % NA] = b;
            }
          } else if (o.kind === 'fork') {
            if (tasks.length < 4) {
              tasks.push(t.fork());
              anon.push([...anon[ti]!]);
            }
          } else {
            expect(t.madvise(o.shm ? SHM : ANON, (o.shm ? NS : NA) * P, MADV_PAGEOUT)).toBe(0);
          }
        }
        expect(k.swapoff()).toBe(0);
        const mi = k.proc.read('/proc/meminfo');
        expect(meminfo(mi, 'SwapTotal')).toBe(0);
        expect(meminfo(mi, 'SwapCached')).toBe(0);
        expect(k.vm.nrSwapcached).toBe(0);
        expect(shmemOf(k.vm).swapped.size).toBe(0);
        const u32 = k.vm.k.phys.u32;
        for (const t of tasks) {
          let swapPtes = 0;
          forEachPte(k.vm, t.mm!.pgd, 0, 2 ** 47, (idx) => {
            if (isSwapPte(u32[idx]!, u32[idx + 1]!)) swapPtes++;
          });
          expect(swapPtes).toBe(0);
          expect(t.mm!.swapEnts).toBe(0);
        }
        const major = k.vm.pgmajfault;
        tasks.forEach((t, ti) => {
          for (let i = 0; i < NA; i++) {
            const want = anon[ti]![i] ?? new Uint8Array(P);
            const got = t.readBytes(ANON + i * P, P);
            for (let j = 0; j < P; j++) if (got[j] !== want[j]) throw new Error(`task ${ti} page ${i} byte ${j}`);
          }
          for (let i = 0; i < NS; i++) {
            const want = shm[i] ?? new Uint8Array(P);
            const got = t.readBytes(SHM + i * P, P);
            for (let j = 0; j < P; j++) if (got[j] !== want[j]) throw new Error(`task ${ti} shmem page ${i} byte ${j}`);
          }
        });
        expect(k.vm.pgmajfault).toBe(major);
        recountLru(k);
        expect(k.swapon()).toBe(0);
        expect(meminfo(k.proc.read('/proc/meminfo'), 'SwapFree')).toBe(8188);
      }),
      { numRuns: 40 },
    );
  });
});
