/**
 * k.inspect's memory-pressure snapshots (src/inspect_pressure.ts) against
 * the kernel's rules, 6.18 without MGLRU: lruLists() shows the two-touch
 * rule of folio_mark_accessed() (a read leaves a file's new pages inactive
 * and referenced at the head of the inactive file list, a second read moves
 * them to the active list's head with PG_referenced cleared); new anonymous
 * pages are at the head of the inactive anon list; the counts are
 * /proc/meminfo's; pageCache() lists a file's pages with their indices and
 * PG_dirty after write(); reclaim() shows kswapd waking when a streaming
 * read fills memory (pgsteal_kswapd grows, the lists stay bounded).
 */
import fc from 'fast-check';
import { expect, test } from 'vitest';
import { O_RDONLY, O_RDWR } from '../../src/fs/fcntl.js';
import { LP_ACTIVE, LP_DIRTY, LP_LRU, LP_REFERENCED, lruListNames } from '../../src/inspect.js';
import { boot } from '../../src/kernel.js';
import { MAP_ANONYMOUS, MAP_PRIVATE, PROT_READ, PROT_WRITE } from '../../src/vm/mman.js';
import { bootWithProgram } from '../vm/helpers.js';

function meminfoKb(k: ReturnType<typeof bootWithProgram>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const l of k.proc.read('/proc/meminfo').split('\n')) {
    const m = /^([^:]+):\s+(\d+)/.exec(l);
    if (m) out[m[1]!] = Number(m[2]);
  }
  return out;
}

test('before the vm half exists: no lists, no page cache, no reclaim state; a bad n is a RangeError naming it', () => {
  const k = bootWithProgram('64M');
  const fresh = boot({ memory: '64M', cpus: 1, seed: 1 });
  expect(fresh.inspect.lruLists()).toEqual([]);
  expect(fresh.inspect.pageCache()).toEqual([]);
  expect(fresh.inspect.reclaim()).toBeNull();
  expect(() => k.inspect.lruLists(-1)).toThrow(RangeError);
  expect(() => k.inspect.lruLists(1.5)).toThrow(/^n: /);
  expect(lruListNames).toEqual(['inactive_anon', 'active_anon', 'inactive_file', 'active_file', 'unevictable']);
});

test('a file read twice: after one read its pages head the inactive file list, referenced; after two, the active list', () => {
  const k = bootWithProgram('64M');
  const t = k.spawn('/bin/tiny');
  const buf = t.mmap(0, 1 << 16, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  k.fs.writeFile('/data/f', new Uint8Array(16 * 4096).fill(5));
  const ino = k.fs.lookup('/data/f')!.ino;
  const before = k.inspect.lruLists(0).map((l) => l.count);
  const fd = t.open('/data/f', O_RDONLY);
  expect(t.read(fd, buf, 1 << 16)).toBe(1 << 16);

  let lists = k.inspect.lruLists(16);
  const inactive = lists[2]!;
  expect(inactive.name).toBe('inactive_file');
  expect(inactive.count - before[2]!).toBe(16);
  expect(lists[3]!.count).toBe(before[3]);
  // Readahead added the pages in index order, each with list_add at the head: the last one read heads the list.
  expect(inactive.head.map((p) => p.index)).toEqual([15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0]);
  for (const p of inactive.head) {
    expect(p.owner).toBe('file');
    expect(p.ino).toBe(ino);
    expect(p.bits & (LP_REFERENCED | LP_ACTIVE | LP_LRU)).toBe(LP_REFERENCED | LP_LRU);
  }
  let files = k.inspect.pageCache().filter((f) => f.ino === ino);
  expect(files).toHaveLength(1);
  expect(files[0]!.path).toBe('/data/f');
  expect(files[0]!.nrpages).toBe(16);
  expect(files[0]!.indices).toEqual(Array.from({ length: 16 }, (_, i) => i));
  expect(files[0]!.active).toBe(0);
  expect(files[0]!.dirty).toBe(0);

  t.lseek(fd, 0, 0);
  expect(t.read(fd, buf, 1 << 16)).toBe(1 << 16);
  lists = k.inspect.lruLists(16);
  expect(lists[2]!.count).toBe(before[2]);
  expect(lists[3]!.count - before[3]!).toBe(16);
  // folio_activate() in read order: each moves to the active head, so index 15 heads it; PG_referenced cleared.
  expect(lists[3]!.head.map((p) => p.index)).toEqual([15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0]);
  for (const p of lists[3]!.head) expect(p.bits & (LP_REFERENCED | LP_ACTIVE)).toBe(LP_ACTIVE);
  files = k.inspect.pageCache().filter((f) => f.ino === ino);
  expect(files[0]!.active).toBe(16);
  // The counts are /proc/meminfo's (kB).
  const mi = meminfoKb(k);
  expect(lists[0]!.count * 4).toBe(mi['Inactive(anon)']);
  expect(lists[1]!.count * 4).toBe(mi['Active(anon)']);
  expect(lists[2]!.count * 4).toBe(mi['Inactive(file)']);
  expect(lists[3]!.count * 4).toBe(mi['Active(file)']);
  expect(lists[4]!.count * 4).toBe(mi.Unevictable);
});

test('head and tail never overlap and together are the whole list when it is short; the result is a copy', () => {
  const k = bootWithProgram('64M');
  const t = k.spawn('/bin/tiny');
  const a = t.mmap(0, 10 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  for (let i = 0; i < 10; i++) t.writeBytes(a + i * 4096, [i + 1]);
  const all = k.inspect.lruLists(1000)[0]!;
  expect(all.head.length + all.tail.length).toBe(all.count);
  // The ten anonymous pages were faulted in address order: the last one heads the inactive anon list.
  const newest = all.head.slice(0, 10);
  expect(newest.every((p) => p.owner === 'anon' && p.ino === 0)).toBe(true);
  const firstIdx = newest[9]!.index;
  expect(newest.map((p) => p.index - firstIdx)).toEqual([9, 8, 7, 6, 5, 4, 3, 2, 1, 0]);
  const two = k.inspect.lruLists(2)[0]!;
  expect(two.head.map((p) => p.pfn)).toEqual(all.head.slice(0, 2).map((p) => p.pfn));
  const whole = [...all.head, ...all.tail].map((p) => p.pfn);
  expect(two.tail.map((p) => p.pfn)).toEqual(whole.slice(-2));
  expect(new Set([...two.head, ...two.tail].map((p) => p.pfn)).size).toBe(4);
  two.head[0]!.bits = 0xff;
  expect(k.inspect.lruLists(2)[0]!.head[0]!.bits).not.toBe(0xff);
});

test('write() dirties page-cache pages: pageCache() counts them as /proc/meminfo Dirty does', () => {
  const k = bootWithProgram('64M');
  const t = k.spawn('/bin/tiny');
  const buf = t.mmap(0, 1 << 16, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  t.writeBytes(buf, new Uint8Array(5 * 4096).fill(9));
  const d0 = meminfoKb(k).Dirty!;
  k.fs.writeFile('/data/w', new Uint8Array(0));
  const fd = t.open('/data/w', O_RDWR);
  expect(t.write(fd, buf, 5 * 4096)).toBe(5 * 4096);
  const f = k.inspect.pageCache().find((x) => x.path === '/data/w')!;
  expect(f.nrpages).toBe(5);
  expect(f.dirty).toBe(5);
  expect(Array.from(f.bits).every((b) => (b & LP_DIRTY) !== 0)).toBe(true);
  expect(meminfoKb(k).Dirty! - d0).toBe(5 * 4);
});

test('a streaming read bigger than RAM wakes kswapd: runs and pgsteal_kswapd grow as /proc/vmstat says, the lists stay within RAM', () => {
  const k = bootWithProgram('64M');
  const t = k.spawn('/bin/tiny');
  const buf = t.mmap(0, 1 << 16, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  k.fs.writeFile('/data/big', new Uint8Array(80 << 20));
  const r0 = k.inspect.reclaim()!;
  const fd = t.open('/data/big', O_RDONLY);
  while (t.read(fd, buf, 1 << 16) > 0);
  const r1 = k.inspect.reclaim()!;
  expect(r1.kswapdRuns).toBeGreaterThan(r0.kswapdRuns);
  expect(r1.pgstealKswapd).toBeGreaterThan(r0.pgstealKswapd);
  expect(r1.pgscanKswapd).toBeGreaterThanOrEqual(r1.pgstealKswapd);
  expect(r1.nodeUnreclaimable).toBe(false);
  const vmstat = Object.fromEntries(
    k.proc
      .read('/proc/vmstat')
      .trim()
      .split('\n')
      .map((l) => l.split(' '))
      .map(([a, b]) => [a, Number(b)]),
  );
  expect(r1.pgstealKswapd).toBe(vmstat.pgsteal_kswapd);
  expect(r1.pgscanKswapd).toBe(vmstat.pgscan_kswapd);
  expect(r1.kswapdRuns).toBe(vmstat.pageoutrun);
  // kswapd stopped once a zone was above its high watermark: its record of free pages says so.
  const zones = k.inspect.zones();
  expect(zones.some((z) => r1.lastKswapdFree[z.zone]! > z.watermarks.high)).toBe(true);
  const big = k.inspect.pageCache().find((f) => f.path === '/data/big')!;
  expect(big.nrpages).toBeLessThan(64 * 256);
  expect(big.shadows).toBeGreaterThan(0);
});

test('property: after any mix of reads, anonymous faults and unmaps, every page shown sits on the list its flags name, and head/tail are the ends of the whole list', () => {
  fc.assert(
    fc.property(
      fc.array(
        fc.oneof(
          fc.record({ op: fc.constant('read' as const), file: fc.integer({ min: 0, max: 2 }) }),
          fc.record({ op: fc.constant('anon' as const), pages: fc.integer({ min: 1, max: 40 }) }),
          fc.record({ op: fc.constant('unmap' as const) }),
        ),
        { maxLength: 12 },
      ),
      fc.integer({ min: 0, max: 12 }),
      (ops, n) => {
        const k = bootWithProgram('32M');
        const t = k.spawn('/bin/tiny');
        const buf = t.mmap(0, 1 << 16, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        for (let i = 0; i < 3; i++) k.fs.writeFile(`/data/${i}`, new Uint8Array((i + 1) * 5 * 4096).fill(i));
        const maps: [number, number][] = [];
        for (const o of ops) {
          if (o.op === 'read') {
            const fd = t.open(`/data/${o.file}`, O_RDONLY);
            while (t.read(fd, buf, 1 << 16) > 0);
            t.close(fd);
          } else if (o.op === 'anon') {
            const a = t.mmap(0, o.pages * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
            for (let p = 0; p < o.pages; p++) t.write8(a + p * 4096, 1);
            maps.push([a, o.pages * 4096]);
          } else if (maps.length > 0) {
            const [a, len] = maps.shift()!;
            expect(t.munmap(a, len)).toBe(0);
          }
        }
        const whole = k.inspect.lruLists(1 << 20);
        const some = k.inspect.lruLists(n);
        for (let lru = 0; lru < 5; lru++) {
          const all = [...whole[lru]!.head, ...whole[lru]!.tail];
          expect(whole[lru]!.tail).toEqual([]);
          expect(all).toHaveLength(whole[lru]!.count);
          const s = some[lru]!;
          expect(s.count).toBe(whole[lru]!.count);
          expect(s.head).toEqual(all.slice(0, Math.min(n, all.length)));
          expect(s.tail).toEqual(all.slice(Math.max(s.head.length, all.length - n)));
          for (const p of all) {
            expect(p.bits & LP_LRU).toBe(LP_LRU);
            const file = p.owner === 'file';
            if (lru !== 4) {
              expect(file).toBe(lru >= 2);
              expect((p.bits & LP_ACTIVE) !== 0).toBe(lru % 2 === 1);
            }
          }
        }
      },
    ),
    { numRuns: 15 },
  );
});
