/**
 * /proc/diskstats with swap on the disk: vda (the whole disk), vda1 (the
 * file system) and vda2 (the swap area), in diskstats_show()'s order and
 * format. Each request is counted on its partition and on the whole disk
 * (part_stat_inc() adds to bdev_whole()), a cache flush on the whole disk
 * only (blk_account_io_flush() uses disk->part0), so vda's request and sector
 * counts are its partitions' sums plus nothing else; its flush fields are its own.
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { expect, test } from 'vitest';
import { diskLines, diskSum, parseDiskstats, partitionLine } from '../../src/cli/vmstat.js';
import { BlockDevice } from '../../src/fs/blkdev.js';
import { O_CREAT, O_DIRECT, O_RDONLY, O_RDWR } from '../../src/fs/fcntl.js';
import { boot, type Kernel } from '../../src/kernel.js';
import { MADV_PAGEOUT, MAP_ANONYMOUS, MAP_FIXED, MAP_PRIVATE, PROT_READ, PROT_WRITE } from '../../src/vm/mman.js';
import { tinyElf } from '../vm/helpers.js';

const P = 4096;
const A = 0x10000000;

function machine(swap: string | 0): Kernel {
  const k = boot({ memory: '64M', cpus: 2, seed: 1, aslr: 0, swap });
  k.fs.writeFile('/bin/tiny', tinyElf());
  k.fs.mkdirs('/data');
  return k;
}

/** The lines of /proc/diskstats by name: the 17 counters after "major minor name". */
function diskstats(k: Kernel): Map<string, { major: number; minor: number; f: number[] }> {
  const m = new Map<string, { major: number; minor: number; f: number[] }>();
  for (const l of k.proc.read('/proc/diskstats').split('\n')) {
    if (l === '') continue;
    const w = l.trim().split(/\s+/);
    m.set(w[2]!, { major: Number(w[0]), minor: Number(w[1]), f: w.slice(3).map(Number) });
  }
  return m;
}

const sub = (a: number[], b: number[]) => a.map((x, i) => x - b[i]!);

// Field indices into the 17 counters.
const READS = 0;
const RSECT = 2;
const WRITES = 4;
const WSECT = 6;
const INFLIGHT = 8;
const FLUSHES = 15;

test('without swap the file system has the whole disk: one vda line, 254:0', () => {
  const k = machine(0);
  const text = k.proc.read('/proc/diskstats');
  expect(text.split('\n')).toHaveLength(2);
  expect(text).toMatch(/^ 254 {7}0 vda( \d+){17}\n$/);
});

test('with swap: vda, vda1, vda2 in that order, minors 0, 1, 2, each in the "%4d %7d %pg" + 17 counters format', () => {
  const k = machine('256M');
  const lines = k.proc.read('/proc/diskstats').split('\n');
  expect(lines).toHaveLength(4);
  expect(lines[0]).toMatch(/^ 254 {7}0 vda( \d+){17}$/);
  expect(lines[1]).toMatch(/^ 254 {7}1 vda1( \d+){17}$/);
  expect(lines[2]).toMatch(/^ 254 {7}2 vda2( \d+){17}$/);
  expect(lines[3]).toBe('');
});

test('swap-out is counted on vda2 and vda, file I/O on vda1 and vda, a flush on vda alone', () => {
  const k = machine('256M');
  const t = k.spawn('/bin/tiny', ['tiny']);
  const N = 20;
  const a = t.mmap(A, N * P, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
  for (let i = 0; i < N; i++) t.writeBytes(a + i * P, new Uint8Array(P).fill(i + 1));
  const d0 = diskstats(k);
  // swap_writepage: one 4 KiB write (8 sectors) per page.
  expect(t.madvise(a, N * P, MADV_PAGEOUT)).toBe(0);
  const d1 = diskstats(k);
  const swp = sub(d1.get('vda2')!.f, d0.get('vda2')!.f);
  expect([swp[WRITES], swp[WSECT], swp[READS]]).toEqual([N, N * 8, 0]);
  expect(sub(d1.get('vda1')!.f, d0.get('vda1')!.f).every((x) => x === 0)).toBe(true);
  const all = sub(d1.get('vda')!.f, d0.get('vda')!.f);
  expect([all[WRITES], all[WSECT]]).toEqual([N, N * 8]);
  // Reading them back: swap-ins read from vda2 only, 8 sectors a page at most readahead's window.
  for (let i = 0; i < N; i++) expect(t.readBytes(a + i * P, 1)[0]).toBe(i + 1);
  const d2 = diskstats(k);
  const swpIn = sub(d2.get('vda2')!.f, d1.get('vda2')!.f);
  expect(swpIn[READS]).toBeGreaterThan(0);
  expect(swpIn[RSECT]! % 8).toBe(0);
  expect(swpIn[RSECT]).toBeGreaterThanOrEqual(N * 8);
  expect(sub(d2.get('vda')!.f, d1.get('vda')!.f)[RSECT]).toBe(swpIn[RSECT]);
  // A 1 MiB file written, fsynced, dropped from the cache and read: vda1's sectors, vda's flush.
  const buf = t.mmap(0, 65536, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  const fd = t.open('/data/f', O_RDWR | O_CREAT);
  for (let i = 0; i < 16; i++) expect(t.write(fd, buf, 65536)).toBe(65536);
  expect(t.fsync(fd)).toBe(0);
  const d3 = diskstats(k);
  const fs = sub(d3.get('vda1')!.f, d2.get('vda1')!.f);
  expect(fs[WSECT]).toBe(2048);
  expect(fs[FLUSHES]).toBe(0);
  expect(sub(d3.get('vda2')!.f, d2.get('vda2')!.f).every((x) => x === 0)).toBe(true);
  expect(sub(d3.get('vda')!.f, d2.get('vda')!.f)[FLUSHES]).toBe(1);
  k.proc.write('/proc/sys/vm/drop_caches', '1');
  const r = t.open('/data/f', O_RDONLY);
  while (t.read(r, buf, 65536) > 0);
  const d4 = diskstats(k);
  expect(sub(d4.get('vda1')!.f, d3.get('vda1')!.f)[RSECT]).toBe(2048);
  expect(d4.get('vda1')!.f[FLUSHES]).toBe(0);
  expect(d4.get('vda2')!.f[FLUSHES]).toBe(0);
});

test('property: after any mix of file I/O, fsync and swap traffic, vda counts are vda1 + vda2 (ms fields within rounding)', () => {
  const op = fc.constantFrom('write', 'fsync', 'read', 'drop', 'pageout', 'touch', 'tick');
  fc.assert(
    fc.property(fc.array(op, { minLength: 1, maxLength: 25 }), (ops) => {
      const k = machine('64M');
      const t = k.spawn('/bin/tiny', ['tiny']);
      const n = 16;
      const a = t.mmap(A, n * P, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
      const buf = t.mmap(0, 4 * P, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
      const fd = t.open('/data/f', O_RDWR | O_CREAT);
      let seq = 0;
      for (const o of ops) {
        seq++;
        if (o === 'write') t.pwrite(fd, buf, 4 * P, (seq % 8) * 4 * P);
        else if (o === 'fsync') t.fsync(fd);
        else if (o === 'read') t.pread(fd, buf, 4 * P, (seq % 8) * 4 * P);
        else if (o === 'drop') k.proc.write('/proc/sys/vm/drop_caches', '1');
        else if (o === 'pageout') t.madvise(a, n * P, MADV_PAGEOUT);
        else if (o === 'touch') for (let i = 0; i < n; i += 3) t.writeBytes(a + i * P, new Uint8Array([seq]));
        else k.tick(10);
        const d = diskstats(k);
        const [w, p1, p2] = [d.get('vda')!.f, d.get('vda1')!.f, d.get('vda2')!.f];
        for (const i of [READS, RSECT, WRITES, WSECT, INFLIGHT]) expect(w[i]).toBe(p1[i]! + p2[i]!);
        // ms fields: the disk floors its own nanosecond sum, each partition its own.
        for (const i of [3, 7]) {
          expect(w[i]).toBeGreaterThanOrEqual(p1[i]! + p2[i]!);
          expect(w[i]).toBeLessThanOrEqual(p1[i]! + p2[i]! + 1);
        }
        // io_ticks: the disk is also busy for its flushes (one 100 us latency each).
        expect(w[9]).toBeGreaterThanOrEqual(p1[9]! + p2[9]!);
        expect(w[9]).toBeLessThanOrEqual(p1[9]! + p2[9]! + 1 + Math.ceil(w[FLUSHES]! / 10));
        expect([p1[FLUSHES], p2[FLUSHES], p1[16], p2[16]]).toEqual([0, 0, 0, 0]);
      }
    }),
    { numRuns: 15, seed: 14 },
  );
});

test('addPartition: partitions follow each other from sector 2048; a size under one sector is a RangeError naming bytes', () => {
  const d = new BlockDevice('vda', 254, 0);
  const p1 = d.addPartition(1 << 20);
  const p2 = d.addPartition(4096);
  expect([p1.name, p1.minor, p1.startSector, p1.sectors]).toEqual(['vda1', 1, 2048, 2048]);
  expect([p2.name, p2.minor, p2.startSector, p2.sectors]).toEqual(['vda2', 2, 4096, 8]);
  expect(() => d.addPartition(100)).toThrow(RangeError);
  expect(() => d.addPartition(100)).toThrow(/^bytes:/);
  expect(() => d.addPartition(Number.NaN)).toThrow(/^bytes:/);
});

test('kmem vmstat -d / -D / -p read the partitioned disk as procps does: vda a disk, vda1 and vda2 partitions', () => {
  const k = machine('256M');
  const t = k.spawn('/bin/tiny', ['tiny']);
  const a = t.mmap(A, 4 * P, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
  for (let i = 0; i < 4; i++) t.writeBytes(a + i * P, new Uint8Array(P).fill(9));
  const before = diskstats(k).get('vda2')!.f;
  expect(t.madvise(a, 4 * P, MADV_PAGEOUT)).toBe(0);
  const nodes = parseDiskstats(k.proc.read('/proc/diskstats'));
  expect(nodes.map((d) => [d.name, d.partition])).toEqual([
    ['vda', false],
    ['vda1', true],
    ['vda2', true],
  ]);
  // -d: the disk alone; -D: one disk, two partitions.
  expect(diskLines(nodes, false, null).split('\n')).toHaveLength(2);
  expect(diskLines(nodes, false, null)).toMatch(/^vda /);
  expect(diskSum(nodes).split('\n').slice(0, 2)).toEqual(['            1 disks', '            2 partitions']);
  // -p vda2: reads, read sectors, writes, requested writes (procps' columns: 21, 16, 10, 16 wide).
  const v = nodes[2]!;
  expect(v.writes - before[WRITES]!).toBe(4);
  expect(v.writeSectors - before[WSECT]!).toBe(32);
  expect(partitionLine(v)).toBe(
    `${String(v.reads).padStart(21)}  ${String(v.readSectors).padStart(16)}  ${String(v.writes).padStart(10)}  ${String(v.writeSectors).padStart(16)}\n`,
  );
});

test("the real 6.18's partition accounting, same I/O: 5 page writes to the swap partition, 2 O_DIRECT page reads and a written page fsynced on the file system's", () => {
  // test/fixtures/linux-6.18/diskstats-partitions.txt: loop0 / loop0p1 / loop0p2 on this machine, before and after.
  const text = readFileSync(resolve(dirname(fileURLToPath(import.meta.url)), '../fixtures/linux-6.18/diskstats-partitions.txt'), 'utf8');
  const after = text.slice(text.indexOf('# after'));
  const parse = (s: string) =>
    new Map(
      s
        .split('\n')
        .filter((l) => /^ +\d/.test(l))
        .map((l) => [l.trim().split(/\s+/)[2]!, l.trim().split(/\s+/).slice(3).map(Number)]),
    );
  const [r0, r1] = [parse(text.slice(0, text.indexOf('# after'))), parse(after)];
  const counts = (f: number[]) => [f[READS], f[RSECT], f[WRITES], f[WSECT], f[FLUSHES]];
  const real = { vda: sub(r1.get('loop0')!, r0.get('loop0')!), vda1: r1.get('loop0p1')!, vda2: r1.get('loop0p2')! };
  // The real deltas, as the rules say: the disk sums its partitions, plus the flush it alone counts.
  expect(counts(real.vda1)).toEqual([2, 16, 2, 8, 0]);
  expect(counts(real.vda2)).toEqual([0, 0, 5, 40, 0]);
  expect(counts(real.vda)).toEqual([2, 16, 7, 48, 1]);

  const k = machine('256M');
  const t = k.spawn('/bin/tiny', ['tiny']);
  const buf = t.mmap(0, 4 * P, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  k.fs.writeFile('/data/d', new Uint8Array(8 * P).fill(7));
  const a = t.mmap(A, 5 * P, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
  for (let i = 0; i < 5; i++) t.writeBytes(a + i * P, new Uint8Array(P).fill(i + 1));
  const d0 = diskstats(k);
  expect(t.madvise(a, 5 * P, MADV_PAGEOUT)).toBe(0);
  const fd = t.open('/data/d', O_RDONLY | O_DIRECT);
  expect(t.pread(fd, buf, P, 0)).toBe(P);
  expect(t.pread(fd, buf, P, P)).toBe(P);
  const w = t.open('/data/w', O_RDWR | O_CREAT);
  expect(t.write(w, buf, P)).toBe(P);
  expect(t.fsync(w)).toBe(0);
  const d1 = diskstats(k);
  for (const name of ['vda', 'vda1', 'vda2'] as const) expect(counts(sub(d1.get(name)!.f, d0.get(name)!.f))).toEqual(counts(real[name]));
});
