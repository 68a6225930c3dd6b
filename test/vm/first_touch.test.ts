/**
 * The first store to an anonymous page (do_anonymous_page for a write), in
 * the cases where the fault takes kmem's written-out path
 * (doAnonymousWriteFast: the VMA of the previous fault) and where it must
 * not: the counters a first touch moves are the kernel's (one PGFAULT and one
 * minor fault per page, MM_ANONPAGES, NR_ANON_MAPPED, the page on the
 * inactive anon LRU or, in a VM_LOCKED VMA, the unevictable one), and a store
 * the VMA does not allow is SIGSEGV even right after faults in a neighbour.
 */
import { describe, expect, it } from 'vitest';
import { Segfault } from '../../src/vm/fault.js';
import { MAP_ANONYMOUS, MAP_FIXED, MAP_PRIVATE, PROT_READ, PROT_WRITE } from '../../src/vm/mman.js';
import { bootWithProgram, vmstatValue } from './helpers.js';

const P = 4096;
const RW = PROT_READ | PROT_WRITE;
const ANON = MAP_PRIVATE | MAP_ANONYMOUS;

function setup() {
  const k = bootWithProgram('64M');
  const t = k.spawn('/bin/tiny', ['tiny']);
  return { k, t };
}

describe('first-touch store faults', () => {
  it('each first store is one minor fault, one PGFAULT, one anon page on the inactive anon LRU', () => {
    const { k, t } = setup();
    const a = t.mmap(0, 64 * P, RW, ANON, -1, 0);
    const f0 = t.minFlt;
    const pg0 = vmstatValue(k, 'pgfault');
    const anon0 = vmstatValue(k, 'nr_anon_pages');
    const inact0 = vmstatValue(k, 'nr_inactive_anon');
    const rss0 = t.mm!.rssAnon;
    for (let i = 0; i < 64; i++) t.write8(a + i * P + (i % 7), i + 1);
    expect(t.minFlt - f0).toBe(64);
    expect(vmstatValue(k, 'pgfault') - pg0).toBe(64);
    expect(vmstatValue(k, 'nr_anon_pages') - anon0).toBe(64);
    expect(vmstatValue(k, 'nr_inactive_anon') - inact0).toBe(64);
    expect(t.mm!.rssAnon - rss0).toBe(64);
    // Every page holds its own byte; loads and a second store fault no more.
    for (let i = 0; i < 64; i++) expect(t.read8(a + i * P + (i % 7))).toBe(i + 1);
    for (let i = 0; i < 64; i++) t.write8(a + i * P + 100, 7);
    expect(t.minFlt - f0).toBe(64);
  });

  it('alternating between two mappings, and into one that has no anon_vma yet, counts every fault once', () => {
    const { k, t } = setup();
    const a = t.mmap(0, 16 * P, RW, ANON, -1, 0);
    // A hole keeps the two mappings apart (no merge).
    const b = t.mmap(a - 32 * P, 16 * P, RW, ANON | MAP_FIXED, -1, 0);
    expect(b).toBe(a - 32 * P);
    const f0 = t.minFlt;
    const pg0 = vmstatValue(k, 'pgfault');
    for (let i = 0; i < 16; i++) {
      t.write8(a + i * P, 1);
      t.write8(b + i * P, 2);
    }
    expect(t.minFlt - f0).toBe(32);
    expect(vmstatValue(k, 'pgfault') - pg0).toBe(32);
    for (let i = 0; i < 16; i++) expect(t.read8(a + i * P) * 10 + t.read8(b + i * P)).toBe(12);
  });

  it('a store into a read-only mapping right after faults in its neighbour is SIGSEGV', () => {
    const { t } = setup();
    const a = t.mmap(0, 8 * P, RW, ANON, -1, 0);
    for (let i = 0; i < 4; i++) t.write8(a + i * P, 1);
    // The upper half becomes its own, read-only VMA.
    expect(t.mprotect(a + 4 * P, 4 * P, PROT_READ)).toBe(0);
    t.write8(a + 3 * P + 1, 2);
    // A load faults in the read-only VMA (the zero page); the store to the next, untouched page is refused.
    expect(t.read8(a + 4 * P)).toBe(0);
    expect(() => t.write8(a + 5 * P, 3)).toThrow(Segfault);
  });

  it('a store after the faulting mapping is unmapped is SIGSEGV, not a fault in a stale VMA', () => {
    const { t } = setup();
    const a = t.mmap(0, 8 * P, RW, ANON, -1, 0);
    t.write8(a, 1);
    expect(t.munmap(a, 8 * P)).toBe(0);
    expect(() => t.write8(a + P, 1)).toThrow(Segfault);
  });

  it('in a VM_LOCKED mapping (mlock2 MLOCK_ONFAULT) each new page is mlocked onto the unevictable LRU as it is mapped', () => {
    const { k, t } = setup();
    const a = t.mmap(0, 8 * P, RW, ANON, -1, 0);
    t.write8(a, 1);
    expect(t.mlock2(a, 8 * P, 1 /* MLOCK_ONFAULT */)).toBe(0);
    const u1 = vmstatValue(k, 'nr_unevictable');
    const m1 = vmstatValue(k, 'nr_mlock');
    const i1 = vmstatValue(k, 'nr_inactive_anon');
    const f1 = t.minFlt;
    for (let i = 1; i < 8; i++) t.write8(a + i * P, 1);
    expect(t.minFlt - f1).toBe(7);
    expect(vmstatValue(k, 'nr_unevictable') - u1).toBe(7);
    expect(vmstatValue(k, 'nr_mlock') - m1).toBe(7);
    expect(vmstatValue(k, 'nr_inactive_anon') - i1).toBe(0);
  });
});
