/**
 * The multi-gen LRU (mm/vmscan.c's lru_gen, include/linux/mm_inline.h's
 * lru_gen_add_folio, mm/workingset.c's lru_gen_eviction/refault) against
 * the kernel's rules, worked by hand on a small machine driven through the
 * kernel's own interface (/sys/kernel/debug/lru_gen's '+' aging and '-'
 * eviction commands): where each kind of folio starts (lru_gen_folio_seq),
 * what aging promotes (the accessed bit seen twice), which folios eviction
 * takes from the oldest generation and which it protects (the tiers of
 * folio_mark_accessed counts), what a refault restores, the
 * active/inactive counts /proc/meminfo derives from the generations, and
 * the sysfs files.
 */
import { expect, test } from 'vitest';
import { bootOptions, cliMessage } from '../../src/cli/machine.js';
import { O_RDONLY } from '../../src/fs/fcntl.js';
import { boot } from '../../src/index.js';
import type { Kernel } from '../../src/kernel.js';
import { PG } from '../../src/memory/page.js';
import { pageCache } from '../../src/vm/filemap.js';
import type { Task } from '../../src/vm/fork.js';
import { folioLruGen, lruGenFromSeq, lruGenOf } from '../../src/vm/lru_gen.js';
import { getTierIdx, getTypeToScan } from '../../src/vm/lru_gen_reclaim.js';
import { MAP_ANONYMOUS, MAP_PRIVATE, MAP_SHARED, PROT_READ, PROT_WRITE } from '../../src/vm/mman.js';
import { tinyElf } from './helpers.js';
import { meminfo, recountLru, vmstat } from './lru_check.js';
import { debugfsGens, recountLruGen } from './lru_gen_check.js';

const DEBUGFS = '/sys/kernel/debug/lru_gen';

function setup(opts: { swap?: string } = {}): { k: Kernel; t: Task; buf: number } {
  const k = boot({ memory: '32M', seed: 1, aslr: 0, lruGen: true, ...opts });
  k.fs.writeFile('/bin/tiny', tinyElf());
  const t = k.spawn('/bin/tiny');
  const buf = t.mmap(0, 1 << 16, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  // the whole buffer faulted in now, so later reads into it add no anonymous pages
  for (let i = 0; i < 16; i++) t.write8(buf + i * 4096, 0);
  return { k, t, buf };
}

/** The generation-seq sizes of /sys/kernel/debug/lru_gen minus those of `before` (seq -> [anon, file]). */
function delta(k: Kernel, before: Map<number, [number, number]>): Record<number, [number, number]> {
  const out: Record<number, [number, number]> = {};
  for (const [seq, [a, f]] of debugfsGens(k)) {
    const b = before.get(seq) ?? [0, 0];
    if (a !== b[0] || f !== b[1]) out[seq] = [a - b[0], f - b[1]];
  }
  return out;
}

/** The generation (seq) the flags of page `index` of `path` name, or -1 if it is not cached. */
function seqOf(k: Kernel, path: string, index: number): number {
  const ino = k.fs.lookup(path)!.ino;
  const pfn = pageCache(k.vm).mapping(ino).xa.load(index);
  if (typeof pfn !== 'number' || pfn < 0) return -1;
  const gen = folioLruGen(k.pages.flags[pfn]!);
  const g = lruGenOf(k.vm);
  for (let seq = g.maxSeq; seq >= g.maxSeq - 3; seq--) if (lruGenFromSeq(seq) === gen) return seq;
  return -2;
}

function cached(t: Task, fd: number, pages: number): number[] {
  const m = t.mmap(0, pages * 4096, PROT_READ, MAP_SHARED, fd, 0);
  const r = Array.from(t.mincore(m, pages * 4096) as Uint8Array);
  t.munmap(m, pages * 4096);
  return r;
}

test('sysfs: enabled reads 0x0007 with lruGen and 0x0000 without; y/n/values switch it; min_ttl_ms keeps whole jiffies', () => {
  const off = boot({ memory: '32M' });
  expect(off.proc.read('/sys/kernel/mm/lru_gen/enabled')).toBe('0x0000\n');
  expect(off.proc.read('/sys/kernel/mm/lru_gen/min_ttl_ms')).toBe('0\n');
  const { k } = setup();
  const en = '/sys/kernel/mm/lru_gen/enabled';
  expect(k.proc.read(en)).toBe('0x0007\n');
  // Only the first character counts for y/n, in either case.
  k.proc.write(en, 'never');
  expect(k.proc.read(en)).toBe('0x0000\n');
  expect(k.vm.lruvec.gen).toBe(null);
  recountLru(k);
  k.proc.write(en, 'Y\n');
  expect(k.proc.read(en)).toBe('0x0007\n');
  recountLruGen(k);
  // A number sets the caps one by one (kstrtouint base 0): core off, the walk bits kept.
  k.proc.write(en, '0x6');
  expect(k.proc.read(en)).toBe('0x0006\n');
  expect(k.vm.lruvec.gen).toBe(null);
  k.proc.write(en, '5');
  expect(k.proc.read(en)).toBe('0x0005\n');
  expect(k.vm.lruvec.gen).not.toBe(null);
  k.proc.write(en, '017');
  expect(k.proc.read(en)).toBe('0x0007\n');
  expect(() => k.proc.write(en, 'maybe')).toThrow(expect.objectContaining({ code: 'EINVAL' }));
  expect(() => k.proc.write(en, '-1')).toThrow(expect.objectContaining({ code: 'EINVAL' }));
  expect(k.proc.read(en)).toBe('0x0007\n');
  const ttl = '/sys/kernel/mm/lru_gen/min_ttl_ms';
  // msecs_to_jiffies() rounds up at HZ 250: 1001 ms is 251 jiffies, 1004 ms.
  k.proc.write(ttl, '1001');
  expect(k.proc.read(ttl)).toBe('1004\n');
  k.proc.write(ttl, '1000\n');
  expect(k.proc.read(ttl)).toBe('1000\n');
  expect(() => k.proc.write(ttl, '1s')).toThrow(expect.objectContaining({ code: 'EINVAL' }));
  expect(k.proc.read(ttl)).toBe('1000\n');
  expect(() => boot({ memory: '32M', lruGen: 'y' as unknown as boolean })).toThrow(/lruGen/);
  expect(() => boot({ memory: '32M', lruGen: 'y' as unknown as boolean })).toThrow(TypeError);
  expect(() => boot({ memory: '32M', cpus: 2, smp: 'workers', lruGen: true })).toThrow(/lruGen: not available with smp/);
});

test('lru_gen_folio_seq: read() pages start in the oldest generation, faulted and new anonymous ones in the second youngest (active)', () => {
  const { k, t, buf } = setup();
  k.fs.writeFile('/a', new Uint8Array(8 * 4096).fill(1));
  k.fs.writeFile('/b', new Uint8Array(4 * 4096).fill(2));
  const g = lruGenOf(k.vm);
  // lru_gen_init_lruvec(): max_seq = MIN_NR_GENS + 1, min_seq 0: four generations 0..3.
  expect(g.maxSeq).toBe(3);
  expect(Array.from(g.minSeq)).toEqual([0, 0]);
  let before = debugfsGens(k);
  let m0 = meminfo(k);
  const fd = t.open('/a', O_RDONLY);
  expect(t.read(fd, buf, 8 * 4096)).toBe(8 * 4096);
  // Page cache read in by read(): MAX_NR_GENS back from max_seq, clamped to min_seq: seq 0, inactive.
  expect(delta(k, before)).toEqual({ 0: [0, 8] });
  let m1 = meminfo(k);
  expect(m1['Inactive(file)']! - m0['Inactive(file)']!).toBe(32);
  expect(m1['Active(file)']).toBe(m0['Active(file)']);
  before = debugfsGens(k);
  m0 = m1;
  const fb = t.open('/b', O_RDONLY);
  const b = t.mmap(0, 4 * 4096, PROT_READ, MAP_SHARED, fb, 0);
  for (let i = 0; i < 4; i++) expect(t.read8(b + i * 4096)).toBe(2);
  // Read in by a page fault: folio_add_lru() activates it, MIN_NR_GENS back: max_seq - 1 = 2, active.
  expect(delta(k, before)).toEqual({ 2: [0, 4] });
  m1 = meminfo(k);
  expect(m1['Active(file)']! - m0['Active(file)']!).toBe(16);
  before = debugfsGens(k);
  m0 = m1;
  const a = t.mmap(0, 4 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  for (let i = 0; i < 4; i++) t.write8(a + i * 4096, 1);
  // New anonymous folios: max_seq - 1 too.
  expect(delta(k, before)).toEqual({ 2: [4, 0] });
  m1 = meminfo(k);
  expect(m1['Active(anon)']! - m0['Active(anon)']!).toBe(16);
  const lists = recountLruGen(k);
  // /proc/meminfo and /proc/vmstat report the generations as the kernel does: the two youngest are active.
  const v = vmstat(k);
  expect([v.nr_inactive_anon, v.nr_active_anon, v.nr_inactive_file, v.nr_active_file]).toEqual(lists.slice(0, 4));
  expect([m1['Inactive(anon)'], m1['Active(anon)'], m1['Inactive(file)'], m1['Active(file)']]).toEqual(lists.slice(0, 4).map((n) => n * 4));
});

test('aging promotes a folio whose accessed bit it sees twice, and eviction takes the oldest generation, leaving the promoted', () => {
  const { k, t, buf } = setup();
  k.fs.writeFile('/a', new Uint8Array(8 * 4096).fill(1));
  k.fs.writeFile('/b', new Uint8Array(4 * 4096).fill(2));
  const fd = t.open('/a', O_RDONLY);
  t.read(fd, buf, 8 * 4096);
  const fb = t.open('/b', O_RDONLY);
  const b = t.mmap(0, 4 * 4096, PROT_READ, MAP_SHARED, fb, 0);
  for (let i = 0; i < 4; i++) t.read8(b + i * 4096);
  const g = lruGenOf(k.vm);
  const m0 = meminfo(k);
  // '+ memcg node max_seq': both types already have MAX_NR_GENS generations, so inc_max_seq first retires
  // seq 0 (inc_min_seq moves what is left in it to seq 1); the walk found /b's PTEs young: first sighting, only PG_referenced.
  k.proc.write(DEBUGFS, '+ 1 0 3');
  expect(g.maxSeq).toBe(4);
  expect(Array.from(g.minSeq)).toEqual([1, 1]);
  for (let i = 0; i < 8; i++) expect(seqOf(k, '/a', i)).toBe(1);
  for (let i = 0; i < 4; i++) expect(seqOf(k, '/b', i)).toBe(2);
  // Now seqs 3 and 4 are the active ones, and both are empty: everything counts as inactive.
  const m1 = meminfo(k);
  expect(m1['Active(anon)']).toBe(0);
  expect(m1['Active(file)']).toBe(0);
  expect(m1['Inactive(file)']).toBe(m0['Active(file)']! + m0['Inactive(file)']!);
  recountLruGen(k);
  // Touched again: the next walk sees the bit a second time and moves /b to the youngest (seq 4) with PG_workingset.
  for (let i = 0; i < 4; i++) t.read8(b + i * 4096);
  k.proc.write(DEBUGFS, '+ 1 0 4');
  expect(g.maxSeq).toBe(5);
  expect(Array.from(g.minSeq)).toEqual([2, 2]);
  for (let i = 0; i < 4; i++) {
    expect(seqOf(k, '/b', i)).toBe(4);
    const pfn = pageCache(k.vm).mapping(k.fs.lookup('/b')!.ino).xa.load(i) as number;
    expect(k.pages.flags[pfn]! & (1 << PG.workingset)).not.toBe(0);
  }
  for (let i = 0; i < 8; i++) expect(seqOf(k, '/a', i)).toBe(2);
  expect(meminfo(k)['Active(file)']).toBe(16);
  recountLruGen(k);
  // A stale command is a no-op; one from the future is EINVAL.
  k.proc.write(DEBUGFS, '+ 1 0 4');
  expect(g.maxSeq).toBe(5);
  expect(() => k.proc.write(DEBUGFS, '+ 1 0 9')).toThrow(expect.objectContaining({ code: 'EINVAL' }));
  expect(() => k.proc.write(DEBUGFS, '+ 2 0 5')).toThrow(expect.objectContaining({ code: 'EINVAL' }));
  // '- memcg node seq': evict until min_seq passes seq 2. Without swap only file is evictable: /a goes, /b stays;
  // min_seq then passes the empty seq 3 too (try_to_inc_min_seq), stopping MIN_NR_GENS short of max_seq.
  const v0 = vmstat(k);
  k.proc.write(DEBUGFS, '- 1 0 2');
  expect(g.minSeq[1]).toBe(4);
  expect(cached(t, fd, 8)).toEqual([0, 0, 0, 0, 0, 0, 0, 0]);
  expect(Array.from(t.mincore(b, 4 * 4096) as Uint8Array)).toEqual([1, 1, 1, 1]);
  const v1 = vmstat(k);
  // Proactive reclaim: scanned and stolen counted as such, by type; nothing anonymous scanned.
  expect(v1.pgsteal_proactive! - v0.pgsteal_proactive!).toBeGreaterThanOrEqual(8);
  expect(v1.pgscan_proactive! - v0.pgscan_proactive!).toBe(v1.pgscan_file! - v0.pgscan_file!);
  expect(v1.pgscan_anon).toBe(v0.pgscan_anon);
  // Eviction down to MIN_NR_GENS generations is refused.
  expect(() => k.proc.write(DEBUGFS, '- 1 0 4')).toThrow(expect.objectContaining({ code: 'EINVAL' }));
  recountLruGen(k);
});

test('tiers: a page read through read() five times is protected from the oldest generation once, a page read once is evicted; refaults restore what they were', () => {
  const { k, t, buf } = setup();
  k.fs.writeFile('/c', new Uint8Array(4 * 4096).fill(3));
  const g = lruGenOf(k.vm);
  const fd = t.open('/c', O_RDONLY);
  expect(t.read(fd, buf, 4 * 4096)).toBe(4 * 4096);
  // Pages 1 and 3 read four more times each (alternating, as filemap_read marks a folio once per read of it).
  for (let i = 0; i < 4; i++) {
    t.pread(fd, buf, 4096, 4096);
    t.pread(fd, buf, 4096, 3 * 4096);
  }
  const ino = k.fs.lookup('/c')!.ino;
  const pfnOf = (i: number) => pageCache(k.vm).mapping(ino).xa.load(i) as number;
  // 1 access: PG_referenced; 2..4: LRU_REFS 1..3; the 5th: PG_workingset (lru_gen_inc_refs).
  for (const i of [1, 3]) expect(k.pages.flags[pfnOf(i)]! & (1 << PG.workingset)).not.toBe(0);
  for (const i of [0, 2]) expect(k.pages.flags[pfnOf(i)]! & (1 << PG.workingset)).toBe(0);
  expect(seqOf(k, '/c', 0)).toBe(0);
  const protectedBefore = Array.from(g.protected);
  // Evict seq 0, where read() put /c: sort_folio() finds pages 1 and 3 with refs + workingset at their maximum, the
  // workingset being lazily promoted: moved to seq 1, not counted as protected; pages 0 and 2 (tier 0) are evicted.
  k.proc.write(DEBUGFS, '- 1 0 0');
  expect(cached(t, fd, 4)).toEqual([0, 1, 0, 1]);
  expect(seqOf(k, '/c', 1)).toBe(1);
  expect(Array.from(g.protected)).toEqual(protectedBefore);
  // folio_inc_gen() cleared PG_referenced and the count, not PG_workingset: next time the page is tier 3, and with no
  // refaults yet every tier is evictable (get_tier_idx 3).
  expect(k.pages.flags[pfnOf(1)]! & (1 << PG.referenced)).toBe(0);
  expect(k.pages.flags[pfnOf(1)]! & (1 << PG.workingset)).not.toBe(0);
  k.proc.write(DEBUGFS, '+ 1 0 3');
  expect(g.maxSeq).toBe(4);
  const v0 = vmstat(k);
  k.proc.write(DEBUGFS, '- 1 0 1');
  expect(cached(t, fd, 4)).toEqual([0, 0, 0, 0]);
  // A refault within MAX_NR_GENS generations of its eviction (evicted at min_seq 1, max_seq 4): counted, and counted as a
  // refault of its tier (3: workingset); PG_workingset comes back (workingset_restore_file).
  const refaulted0 = Array.from(g.refaulted);
  t.pread(fd, buf, 4096, 4096);
  let v1 = vmstat(k);
  expect(v1.workingset_refault_file! - v0.workingset_refault_file!).toBe(1);
  expect(v1.workingset_restore_file! - v0.workingset_restore_file!).toBe(1);
  expect(g.refaulted[4 + 3]! - refaulted0[4 + 3]!).toBe(1);
  // Not through a fault: no activation; a workingset folio from read() starts MAX_NR_GENS - 1 back: max_seq - 2, not the oldest.
  expect(v1.workingset_activate_file).toBe(v0.workingset_activate_file);
  expect(seqOf(k, '/c', 1)).toBe(2);
  // Page 3 through a page fault: the read-around brings back 0, 2 and 3, recent refaults all activated by the fault
  // (folio_add_lru); workingset_activate_file counts the workingset one, page 3, restored and put in max_seq; 0 and 2
  // go to max_seq - 1.
  const m = t.mmap(0, 4 * 4096, PROT_READ, MAP_SHARED, fd, 0);
  t.read8(m + 3 * 4096);
  v1 = vmstat(k);
  expect(v1.workingset_refault_file! - v0.workingset_refault_file!).toBe(4);
  expect(v1.workingset_activate_file! - v0.workingset_activate_file!).toBe(1);
  expect(v1.workingset_restore_file! - v0.workingset_restore_file!).toBe(2);
  expect([0, 1, 2, 3].map((i) => seqOf(k, '/c', i))).toEqual([3, 2, 3, 4]);
  recountLruGen(k);
});

/** read() a whole file in 64 KiB pieces; returns the bytes read. */
function streamRead(t: Task, path: string, buf: number): number {
  const fd = t.open(path, O_RDONLY);
  let got = 0;
  for (;;) {
    const n = t.read(fd, buf, 1 << 16);
    if (n <= 0) break;
    got += n;
  }
  t.close(fd);
  return got;
}

test('kswapd and direct reclaim go through the generations: a file bigger than RAM streams through, anonymous memory past RAM swaps out and back', () => {
  const { k, t, buf } = setup({ swap: '48M' });
  const big = new Uint8Array(48 << 20);
  for (let i = 0; i < big.length; i += 4096) big[i] = (i >>> 12) & 0xff;
  k.fs.writeFile('/big', big);
  expect(streamRead(t, '/big', buf)).toBe(big.length);
  let v = vmstat(k);
  expect(v.pgsteal_kswapd! + v.pgsteal_direct!).toBeGreaterThan((16 << 20) / 4096);
  expect(v.pgsteal_file).toBe(v.pgsteal_kswapd! + v.pgsteal_direct!);
  // A stream needs no aging: read() puts its pages in the oldest generation, where eviction finds them.
  expect(lruGenOf(k.vm).maxSeq).toBe(3);
  recountLruGen(k);
  const n = (40 << 20) / 4096;
  const a = t.mmap(0, n * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  for (let i = 0; i < n; i++) t.write32(a + i * 4096 + (i % 1000) * 4, i * 7 + 1);
  for (let i = 0; i < n; i++) expect(t.read32(a + i * 4096 + (i % 1000) * 4)).toBe(i * 7 + 1);
  v = vmstat(k);
  // Anonymous folios start in max_seq - 1: evicting them took aging.
  expect(lruGenOf(k.vm).maxSeq).toBeGreaterThan(3);
  expect(v.pswpout).toBeGreaterThan(0);
  expect(v.pswpin).toBeGreaterThan(0);
  expect(v.pgsteal_anon).toBeGreaterThan(0);
  expect(v.pgscan_kswapd! + v.pgscan_direct!).toBe(v.pgscan_anon! + v.pgscan_file!);
  recountLruGen(k);
});

test('min_ttl_ms: kswapd calls the OOM killer when the oldest generation is younger than it, instead of thrashing', () => {
  const { k, t, buf } = setup();
  k.fs.writeFile('/big', new Uint8Array(48 << 20));
  k.proc.write('/sys/kernel/mm/lru_gen/min_ttl_ms', '60000');
  expect(() => streamRead(t, '/big', buf)).toThrow();
  expect(k.dmesg().join('\n')).toMatch(/Out of memory: Killed process \d+ \(tiny\)/);
  // Without min_ttl the same read completes.
  const o = setup();
  o.k.fs.writeFile('/big', new Uint8Array(48 << 20));
  expect(streamRead(o.t, '/big', o.buf)).toBe(48 << 20);
  expect(o.k.dmesg().join('\n')).not.toMatch(/Out of memory/);
});

test('mlock moves folios off the generations to the unevictable list and munlock brings them back to a generation', () => {
  const { k, t } = setup();
  const a = t.mmap(0, 8 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  for (let i = 0; i < 8; i++) t.write8(a + i * 4096, i);
  const before = recountLruGen(k);
  expect(t.mlock(a, 8 * 4096)).toBe(0);
  let lists = recountLruGen(k);
  expect(lists[4]! - before[4]!).toBe(8);
  expect(lists[1]! - before[1]!).toBe(-8);
  expect(meminfo(k).Unevictable).toBe(lists[4]! * 4);
  expect(t.munlock(a, 8 * 4096)).toBe(0);
  lists = recountLruGen(k);
  // munlock_folio(): evictable again, added as a new anonymous folio is: max_seq - 1.
  expect(lists).toEqual(before);
  for (let i = 0; i < 8; i++) expect(t.read8(a + i * 4096)).toBe(i);
});

test('the PID controller: get_type_to_scan weighs the types refault rates by swappiness, get_tier_idx protects tiers refaulting more than tier 0', () => {
  const { k, t, buf } = setup();
  const g = lruGenOf(k.vm);
  // Fewer than MIN_LRU_BATCH refaults is no signal: file first (swappiness 2..199); 0 and 1 mean file, 200 anon.
  expect(getTypeToScan(g, 60)).toBe(1);
  expect(getTypeToScan(g, 1)).toBe(1);
  expect(getTypeToScan(g, 200)).toBe(0);
  // file: 100 refaults of 200; anon: 10 of 1000. positive_ctrl_err: 100 * (1000 + 64) * 60 <= (10 + 1) * 200 * 140? No: anon.
  g.avgRefaulted[4] = 100;
  g.avgTotal[4] = 200;
  g.avgRefaulted[0] = 10;
  g.avgTotal[0] = 1000;
  expect(getTypeToScan(g, 60)).toBe(0);
  // At swappiness 199 the weights are 199 against 1: 100 * 1064 * 199 <= 11 * 200 * 1? Still anon. With anon refaulting as
  // much (500 of 1000): 100 * 1064 * 60 = 6384000 <= 501 * 200 * 140 = 14028000: file.
  expect(getTypeToScan(g, 199)).toBe(0);
  g.avgRefaulted[0] = 500;
  expect(getTypeToScan(g, 60)).toBe(1);
  // Tiers of file: tier 0 refaulted 10 of 1000 (gain 2), tier 1 100 of 200 (gain 3): 100 * 1064 * 2 <= 11 * 200 * 3? No:
  // tier 1 and up are protected (get_tier_idx 0).
  g.avgRefaulted.fill(0);
  g.avgTotal.fill(0);
  g.avgRefaulted[4] = 10;
  g.avgTotal[4] = 1000;
  g.avgRefaulted[5] = 100;
  g.avgTotal[5] = 200;
  expect(getTierIdx(g, 1)).toBe(0);
  // Tier 1 refaulting 70 of 20000: 70 * 1064 * 2 = 148960 <= 11 * 20000 * 3 = 660000; tiers 2 and 3 have no refaults: 3.
  g.avgRefaulted[5] = 70;
  g.avgTotal[5] = 20000;
  expect(getTierIdx(g, 1)).toBe(3);
  // With tier 1 protected again, eviction of the oldest generation moves a page read twice (tier 1) on and counts it
  // protected in tier 1; the page read once (tier 0) goes.
  g.avgRefaulted[5] = 100;
  g.avgTotal[5] = 200;
  k.fs.writeFile('/d', new Uint8Array(2 * 4096).fill(4));
  const fd = t.open('/d', O_RDONLY);
  t.read(fd, buf, 2 * 4096);
  // (filemap_read marks a folio once per read of it: reading page 1 again right after would not count; page 0 does.)
  t.pread(fd, buf, 4096, 0);
  const prot = g.protected[5]!;
  k.proc.write(DEBUGFS, '- 1 0 0');
  expect(cached(t, fd, 2)).toEqual([1, 0]);
  expect(seqOf(k, '/d', 0)).toBe(1);
  // Isolating emptied seq 0, so min_seq[file] moved on (try_to_inc_min_seq, before the batch is reclaimed):
  // reset_ctrl_pos() folded the counts into the averages, halved (tier 1: (200 + 1 protected) / 2, (100 + 0 refaulted)
  // / 2; tier 0: (1000 + 0) / 2, 10 / 2), and cleared them; page 1's eviction then counts in the new min_seq's tier 0.
  expect(g.minSeq[1]).toBe(1);
  expect(prot).toBe(0);
  expect([g.avgTotal[5], g.avgRefaulted[5], g.avgTotal[4], g.avgRefaulted[4]]).toEqual([100, 50, 500, 5]);
  expect([g.protected[5], g.evicted[4]]).toEqual([0, 1]);
  recountLruGen(k);
});

test('a mapped working set touched between the pieces of a stream bigger than RAM stays resident: the stream enters the oldest generation', () => {
  const { k, t, buf } = setup();
  const ws = 1024;
  k.fs.writeFile('/ws', new Uint8Array(ws * 4096).fill(5));
  k.fs.writeFile('/big', new Uint8Array(48 << 20));
  const fw = t.open('/ws', O_RDONLY);
  const w = t.mmap(0, ws * 4096, PROT_READ, MAP_SHARED, fw, 0);
  for (let i = 0; i < ws; i++) t.read8(w + i * 4096);
  const fd = t.open('/big', O_RDONLY);
  let total = 0;
  for (;;) {
    const n = t.read(fd, buf, 1 << 16);
    if (n <= 0) break;
    total += n;
    // every MiB streamed, the working set is touched again
    if (total % (1 << 20) === 0) for (let i = 0; i < ws; i++) expect(t.read8(w + i * 4096)).toBe(5);
  }
  expect(total).toBe(48 << 20);
  expect(Array.from(t.mincore(w, ws * 4096) as Uint8Array).every((b) => b === 1)).toBe(true);
  const v = vmstat(k);
  // The stream was reclaimed behind itself and nothing was read twice.
  expect(v.pgsteal_file).toBeGreaterThan((16 << 20) / 4096);
  expect(v.workingset_refault_file).toBe(0);
  recountLruGen(k);
});

test('the kmem command line: --lru-gen boots the multi-gen LRU, and its errors name the flag', () => {
  expect(bootOptions({ seed: '1', lruGen: true }).lruGen).toBe(true);
  expect(bootOptions({ seed: '1' }).lruGen).toBe(undefined);
  expect(cliMessage("lruGen: not available with smp: 'workers'")).toBe("--lru-gen: not available with smp: 'workers'");
  const k = boot(bootOptions({ seed: '1', mem: '32M', lruGen: true }));
  expect(k.proc.read('/sys/kernel/mm/lru_gen/enabled')).toBe('0x0007\n');
});
