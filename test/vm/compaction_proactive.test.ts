/**
 * Proactive compaction (6.18 mm/compaction.c): kcompactd wakes every
 * HPAGE_FRAG_CHECK_INTERVAL_MSEC (500 ms of the virtual clock) while
 * vm.compaction_proactiveness is not 0; it compacts when the node's
 * fragmentation score is above the high mark (100 - proactiveness + 10),
 * each zone until its score is at most the low mark (100 - proactiveness),
 * and a write of a non-zero proactiveness wakes it at once. The scores are
 * worked here from /proc/buddyinfo and /proc/zoneinfo by the kernel's
 * formulas: a zone's score is extfrag_for_order(zone, 9), the percentage
 * of its free pages in blocks below order 9; the node's is the sum of the
 * zones' scores times present_pages / (node_present_pages + 1), each
 * rounded down.
 */
import { expect, test } from 'vitest';
import { boot, type Kernel } from '../../src/kernel.js';
import { __GFP_NOWARN, GFP_KERNEL } from '../../src/page_alloc/gfp.js';
import { compactState, fragmentationScoreNode, fragmentationScoreZone } from '../../src/vm/compaction.js';
import { MADV_DONTNEED, MAP_ANONYMOUS, MAP_PRIVATE, PROT_READ, PROT_WRITE } from '../../src/vm/mman.js';
import { meminfoKb, tinyElf, vmstatValue } from './helpers.js';

const P = 4096;

/** Each populated zone's free blocks by order (buddyinfo) and present pages (zoneinfo). */
function zones(k: Kernel): { name: string; free: number[]; present: number }[] {
  const present = new Map<string, number>();
  let zone = '';
  for (const line of k.proc.read('/proc/zoneinfo').split('\n')) {
    const z = /^Node 0, zone\s+(\S+)/.exec(line);
    if (z !== null) zone = z[1]!;
    const p = /^\s+present\s+(\d+)/.exec(line);
    if (p !== null) present.set(zone, Number(p[1]));
  }
  return k.proc
    .read('/proc/buddyinfo')
    .trim()
    .split('\n')
    .map((line) => {
      const f = line.trim().split(/\s+/);
      return { name: f[3]!, free: f.slice(4).map(Number), present: present.get(f[3]!)! };
    });
}

/** extfrag_for_order(zone, 9), from the buddy counts. */
function zoneScore(free: number[]): number {
  let pages = 0;
  let suitable = 0;
  free.forEach((n, o) => {
    pages += n << o;
    if (o >= 9) suitable += n << (o - 9);
  });
  return pages === 0 ? 0 : Math.floor(((pages - suitable * 512) * 100) / pages);
}

function nodeScore(k: Kernel): number {
  const zs = zones(k);
  const nodePresent = zs.reduce((a, z) => a + z.present, 0);
  return zs.reduce((a, z) => a + Math.floor((z.present * zoneScore(z.free)) / (nodePresent + 1)), 0);
}

/** A 128 MiB machine whose free memory is nearly all single pages: a task fills RAM, then frees every other page. */
function fragmented(proactiveness: number) {
  const k = boot({ memory: '128M', cpus: 2, seed: 1, aslr: 0 });
  k.fs.writeFile('/bin/tiny', tinyElf());
  k.proc.write('/proc/sys/vm/compaction_proactiveness', String(proactiveness));
  const t = k.spawn('/bin/tiny', ['tiny']);
  const n = Math.floor((meminfoKb(k, 'MemFree') * 1024) / P) - 2048;
  const a = t.mmap(0, n * P, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  expect(a).toBeGreaterThan(0);
  for (let i = 0; i < n; i++) t.write32(a + i * P, i);
  for (let i = 0; i < n; i += 2) expect(t.madvise(a + i * P, P, MADV_DONTNEED)).toBe(0);
  const check = () => {
    for (let i = 1; i < n; i += 2) if (t.read32(a + i * P) !== i) return false;
    return true;
  };
  return { k, check };
}

test('the scores: the node score is the zones extfrag for order 9, weighted by present pages (worked from buddyinfo and zoneinfo)', () => {
  const { k } = fragmented(20);
  const zs = zones(k);
  expect(zs.map((z) => z.name)).toEqual(['DMA', 'DMA32']);
  for (const [i, z] of zs.entries()) expect(fragmentationScoreZone(k.vm, i)).toBe(zoneScore(z.free));
  expect(fragmentationScoreNode(k.vm)).toBe(nodeScore(k));
  // every other page freed: DMA32's free memory is almost all order 0
  expect(zoneScore(zs[1]!.free)).toBeGreaterThan(90);
});

test('a node above the high mark is compacted when the 500 ms timer fires, each zone down to the low mark; the data stays', () => {
  // The score is about 0.88 * DMA32's (DMA holds an eighth of the node and stays unfragmented): proactiveness 40
  // puts the marks at 60 / 70.
  const { k, check } = fragmented(40);
  const score = nodeScore(k);
  expect(score).toBeGreaterThan(70);
  const s = compactState(k.vm);
  const timer = s.kcompactdTimer!;
  // kcompactd sleeps until 500 ms after the write woke it (the faults moved the clock by less than that)
  expect(timer.pending).toBe(true);
  const left = timer.expires - k.timers.now;
  expect(left).toBeGreaterThan(0);
  expect(left).toBeLessThanOrEqual(500e6);
  const scanned0 = vmstatValue(k, 'compact_daemon_migrate_scanned');
  const migrated0 = vmstatValue(k, 'pgmigrate_success');
  k.tick(left - 1e6);
  expect(vmstatValue(k, 'compact_daemon_migrate_scanned')).toBe(scanned0);
  k.tick(2e6);
  expect(s.proactiveRuns).toBe(1);
  expect(vmstatValue(k, 'compact_daemon_migrate_scanned')).toBeGreaterThan(scanned0);
  expect(vmstatValue(k, 'pgmigrate_success')).toBeGreaterThan(migrated0);
  // DMA32 stopped at the low mark (60) or below: __compact_finished's proactive test
  expect(zoneScore(zones(k)[1]!.free)).toBeLessThanOrEqual(60);
  expect(nodeScore(k)).toBeLessThan(score);
  // kcompactd_do_work's wake count is not proactive compaction's
  expect(vmstatValue(k, 'compact_daemon_wake')).toBe(0);
  expect(check()).toBe(true);
  // the next check is 500 ms later; the node is now below the high mark: nothing more is done
  expect(timer.expires - k.timers.now).toBeLessThanOrEqual(500e6);
  k.tick(2e9);
  expect(s.proactiveRuns).toBe(1);
});

test('between the low and the high mark, and with proactiveness 0, the fragmented zone stays untouched; a non-zero write wakes kcompactd at once', () => {
  const { k, check } = fragmented(0);
  const s = compactState(k.vm);
  const score = nodeScore(k);
  expect(score).toBeGreaterThan(70);
  // 0: kcompactd ends the sleep it is in (500 ms), then sleeps until woken: no timer after that
  const scanned0 = vmstatValue(k, 'compact_daemon_migrate_scanned');
  k.tick(5e9);
  expect(s.kcompactdTimer!.pending).toBe(false);
  expect(vmstatValue(k, 'compact_daemon_migrate_scanned')).toBe(scanned0);
  // proactiveness such that the high mark is the score itself (low = score - 10): the write wakes kcompactd,
  // which finds the node not above the high mark and does nothing
  const p = 110 - score;
  k.proc.write('/proc/sys/vm/compaction_proactiveness', String(p));
  expect(k.proc.read('/proc/sys/vm/compaction_proactiveness')).toBe(`${p}\n`);
  expect(s.kcompactdTimer!.pending).toBe(true);
  k.tick(5e9);
  expect(s.proactiveRuns).toBe(0);
  expect(nodeScore(k)).toBe(score);
  // one point more and the score is above the high mark: the write itself compacts
  k.proc.write('/proc/sys/vm/compaction_proactiveness', String(p + 1));
  expect(s.proactiveRuns).toBe(1);
  expect(nodeScore(k)).toBeLessThan(score);
  expect(check()).toBe(true);
  expect(() => k.proc.write('/proc/sys/vm/compaction_proactiveness', '101')).toThrow();
});

test('a pass that cannot lower the score (unmovable pages between the free ones) puts the next check off by 2^COMPACT_MAX_DEFER_SHIFT intervals (32 s)', () => {
  const k = boot({ memory: '128M', cpus: 2, seed: 1, aslr: 0 });
  k.fs.writeFile('/bin/tiny', tinyElf());
  k.spawn('/bin/tiny', ['tiny']);
  // kernel pages (unmovable: compaction cannot move them) fill RAM; every other one is freed
  const n = Math.floor((meminfoKb(k, 'MemFree') * 1024) / P) - 2048;
  const pages: number[] = [];
  for (let i = 0; i < n; i++) {
    const a = k.allocPages(0, GFP_KERNEL | __GFP_NOWARN);
    if (a === 0) break;
    pages.push(a);
  }
  for (let i = 0; i < pages.length; i += 2) k.freePages(pages[i]!, 0);
  const score = nodeScore(k);
  expect(score).toBeGreaterThan(70);
  const s = compactState(k.vm);
  const timer = s.kcompactdTimer!;
  // proactiveness 40 (marks 60 / 70): the write wakes kcompactd, whose pass moves nothing
  k.proc.write('/proc/sys/vm/compaction_proactiveness', '40');
  expect(s.proactiveRuns).toBe(1);
  expect(vmstatValue(k, 'pgmigrate_success')).toBe(0);
  expect(nodeScore(k)).toBe(score);
  expect(timer.expires - k.timers.now).toBe(500e6 * 64);
  k.tick(500e6 * 64 - 1e6);
  expect(s.proactiveRuns).toBe(1);
  k.tick(2e6);
  expect(s.proactiveRuns).toBe(2);
  expect(timer.expires - k.timers.now).toBeGreaterThan(500e6 * 64 - 2e6);
});
