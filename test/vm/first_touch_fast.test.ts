/**
 * The written-out first-touch store fault (Task.writeMiss ->
 * doAnonymousWriteFast) against the general path (handle_pte_fault ->
 * do_anonymous_page). Two machines booted alike map the same private
 * anonymous range: one stores into every page in address order (a fault
 * each, all but the first of each PTE table and of the VMA on the fast path),
 * the other maps it with MAP_POPULATE (populate_vma_page_range: every page
 * through the general path, in the same order, so the same frames) and then
 * stores the same values. Both orders of allocation are the same, so
 * everything the kernel shows must be the same: /proc/vmstat, /proc/meminfo,
 * /proc/buddyinfo, /proc/zoneinfo, the task's status, smaps and minflt, every
 * pagemap entry (frame and bits), the struct page fields of every frame (with
 * its LRU links), and the bytes.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Killed } from '../../src/vm/fault.js';
import { MAP_ANONYMOUS, MAP_FIXED, MAP_POPULATE, MAP_PRIVATE, PROT_READ, PROT_WRITE } from '../../src/vm/mman.js';
import { bootWithProgram, vmstatValue } from './helpers.js';

const P = 4096;
const RW = PROT_READ | PROT_WRITE;
const ANON = MAP_PRIVATE | MAP_ANONYMOUS;
/** A 2 MiB-aligned address in the mmap area, below the program's default mmap base */
const BASE = 0x7f0000000000;

interface Store {
  width: 8 | 32;
  off: number;
  value: number;
}

function minflt(k: ReturnType<typeof bootWithProgram>, pid: number): number {
  // /proc/PID/stat: field 10 is minflt (after "pid (comm) state").
  const s = k.proc.read(`/proc/${pid}/stat`);
  return Number(s.slice(s.lastIndexOf(')') + 2).split(' ')[7]);
}

function run(populate: boolean, start: number, pages: number, stores: Store[]) {
  const k = bootWithProgram('64M');
  const t = k.spawn('/bin/tiny', ['tiny']);
  const a = t.mmap(start, pages * P, RW, ANON | MAP_FIXED | (populate ? MAP_POPULATE : 0), -1, 0);
  expect(a).toBe(start);
  for (let i = 0; i < pages; i++) {
    const s = stores[i]!;
    if (s.width === 8) t.write8(a + i * P + s.off, s.value & 0xff);
    else t.write32(a + i * P + (s.off & ~3), s.value);
  }
  const map = t.pagemap(a, pages);
  const p = k.pages;
  const frames = [...map].map((e) => Number(e & ((1n << 55n) - 1n)));
  return {
    vmstat: k.proc.read('/proc/vmstat'),
    meminfo: k.proc.read('/proc/meminfo'),
    buddyinfo: k.proc.read('/proc/buddyinfo'),
    status: k.proc.read(`/proc/${t.pid}/status`),
    smaps: k.proc.read(`/proc/${t.pid}/smaps`),
    minflt: minflt(k, t.pid),
    pagemap: [...map].map((e) => e.toString(16)),
    zoneinfo: k.proc.read('/proc/zoneinfo'),
    // next and prev: the LRU list links (both paths put each new page at the head of the inactive anon list).
    pages: frames.map((f) => [p.flags[f], p.refcount[f], p.mapcount[f], p.index[f], k.vm.pageMapping[f], k.vm.pageKind[f], p.next[f], p.prev[f]]),
    bytes: stores.map((s, i) => (s.width === 8 ? t.read8(a + i * P + s.off) : t.read32(a + i * P + (s.off & ~3)))),
  };
}

describe('the fast first-touch store fault leaves the general path’s state', () => {
  it('every page stored into in address order = the same range populated then stored into', () => {
    const store = fc.record({
      width: fc.constantFrom(8 as const, 32 as const),
      off: fc.integer({ min: 0, max: P - 4 }),
      value: fc.integer({ min: 1, max: 0xffffffff }),
    });
    fc.assert(
      fc.property(
        // A start up to a table's worth of pages below a 2 MiB boundary, and a length that may cross one or two.
        fc.integer({ min: 0, max: 511 }),
        fc.integer({ min: 1, max: 700 }).chain((n) => fc.tuple(fc.constant(n), fc.array(store, { minLength: n, maxLength: n }))),
        (below, [pages, stores]) => {
          const start = BASE + (1 << 21) - below * P;
          const fast = run(false, start, pages, stores);
          const general = run(true, start, pages, stores);
          expect(fast.minflt).toBe(general.minflt);
          expect(fast.pagemap).toEqual(general.pagemap);
          expect(fast.pages).toEqual(general.pages);
          expect(fast.bytes).toEqual(general.bytes);
          expect(fast.vmstat).toBe(general.vmstat);
          expect(fast.meminfo).toBe(general.meminfo);
          expect(fast.buddyinfo).toBe(general.buddyinfo);
          expect(fast.status).toBe(general.status);
          expect(fast.smaps).toBe(general.smaps);
        },
      ),
      { numRuns: 12 },
    );
  });

  it('right after each fast fault, the counters read exact (nothing is batched)', () => {
    const k = bootWithProgram('64M');
    const t = k.spawn('/bin/tiny', ['tiny']);
    const a = t.mmap(0, 32 * P, RW, ANON, -1, 0);
    t.write8(a, 1);
    const pg0 = vmstatValue(k, 'pgfault');
    const anon0 = vmstatValue(k, 'nr_anon_pages');
    const inact0 = vmstatValue(k, 'nr_inactive_anon');
    const rss0 = t.mm!.rssAnon;
    const rssAnon = () => Number(/^RssAnon:\s+(\d+) kB$/m.exec(k.proc.read(`/proc/${t.pid}/status`))![1]);
    const kb0 = rssAnon();
    for (let i = 1; i < 32; i++) {
      if (i % 2 === 0) t.write8(a + i * P + 5, i);
      else t.write32(a + i * P + 8, i);
      expect(vmstatValue(k, 'pgfault') - pg0).toBe(i);
      expect(vmstatValue(k, 'nr_anon_pages') - anon0).toBe(i);
      expect(vmstatValue(k, 'nr_inactive_anon') - inact0).toBe(i);
      expect(t.mm!.rssAnon - rss0).toBe(i);
      expect(rssAnon() - kb0).toBe(i * 4);
    }
  });

  it('a store with a bad address is a TypeError naming va; a task killed with SIGKILL dies at its next store', () => {
    const k = bootWithProgram('64M');
    const t = k.spawn('/bin/tiny', ['tiny']);
    const a = t.mmap(0, 4 * P, RW, ANON, -1, 0);
    t.write8(a, 1);
    const rss0 = t.mm!.rssAnon;
    expect(() => t.write8(a + P + 0.5, 1)).toThrow(/^va: /);
    expect(() => t.write32(Number.NaN, 1)).toThrow(TypeError);
    expect(() => t.write8('4096' as unknown as number, 1)).toThrow(TypeError);
    expect(t.mm!.rssAnon).toBe(rss0);
    t.sigkill();
    expect(() => t.write8(a + 2 * P, 1)).toThrow(Killed);
    expect(t.mm).toBeNull();
  });
});
