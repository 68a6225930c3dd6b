/**
 * The LRU lists (mm/swap.c, include/linux/mm_inline.h) against the kernel's
 * rules, 6.18 without MGLRU: new anonymous and page-cache folios start on
 * their inactive list; folio_mark_accessed()'s two-touch rule (a read sets
 * PG_referenced, a second read of a referenced inactive folio activates
 * it: pgactivate); mlocked pages are on the unevictable list (Unevictable,
 * Mlocked); /proc/meminfo, /proc/vmstat and /proc/zoneinfo show the lists'
 * own counts, which recount exactly by walking them.
 */
import { readFileSync } from 'node:fs';
import { expect, test } from 'vitest';
import { O_CREAT, O_RDONLY, O_RDWR } from '../../src/fs/fcntl.js';
import { PG } from '../../src/memory/page.js';
import { pageCache } from '../../src/vm/filemap.js';
import { LRU_ACTIVE_ANON, LRU_ACTIVE_FILE, LRU_INACTIVE_ANON, LRU_INACTIVE_FILE, LRU_UNEVICTABLE } from '../../src/vm/mm_inline.js';
import { MAP_ANONYMOUS, MAP_PRIVATE, PROT_READ, PROT_WRITE } from '../../src/vm/mman.js';
import { inactiveIsLow } from '../../src/vm/vmscan.js';
import { workingsetTestRecent } from '../../src/vm/workingset.js';
import { bootWithProgram } from './helpers.js';
import { meminfo, recountLru, vmstat } from './lru_check.js';

test('a file read twice: the first read leaves its pages inactive and referenced, the second activates them', () => {
  const k = bootWithProgram('64M');
  const t = k.spawn('/bin/tiny');
  const buf = t.mmap(0, 1 << 16, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  k.fs.writeFile('/bin/f', new Uint8Array(16 * 4096).fill(5));
  const ino = k.fs.lookup('/bin/f')!.ino;
  const as = pageCache(k.vm).mapping(ino);
  const before = recountLru(k);
  const m0 = meminfo(k);
  const v0 = vmstat(k);
  const fd = t.open('/bin/f', O_RDONLY);
  expect(t.read(fd, buf, 1 << 16)).toBe(1 << 16);
  const after1 = recountLru(k);
  expect(as.nrpages).toBe(16);
  expect(after1[LRU_INACTIVE_FILE]! - before[LRU_INACTIVE_FILE]!).toBe(16);
  expect(after1[LRU_ACTIVE_FILE]).toBe(before[LRU_ACTIVE_FILE]);
  as.xa.forEach((_, pfn) => {
    expect(k.pages.flags[pfn]! & (1 << PG.referenced)).not.toBe(0);
    expect(k.pages.flags[pfn]! & (1 << PG.active)).toBe(0);
  });
  const m1 = meminfo(k);
  expect(m1['Inactive(file)']! - m0['Inactive(file)']!).toBe(64);
  expect(m1['Active(file)']).toBe(m0['Active(file)']);
  expect(vmstat(k).pgactivate).toBe(v0.pgactivate);

  // The second read: each page referenced and inactive is activated (folio_activate), PG_referenced cleared.
  t.lseek(fd, 0, 0);
  expect(t.read(fd, buf, 1 << 16)).toBe(1 << 16);
  const after2 = recountLru(k);
  expect(after2[LRU_ACTIVE_FILE]! - before[LRU_ACTIVE_FILE]!).toBe(16);
  expect(after2[LRU_INACTIVE_FILE]).toBe(before[LRU_INACTIVE_FILE]);
  as.xa.forEach((_, pfn) => {
    expect(k.pages.flags[pfn]! & (1 << PG.referenced)).toBe(0);
    expect(k.pages.flags[pfn]! & (1 << PG.active)).not.toBe(0);
  });
  const m2 = meminfo(k);
  expect(m2['Active(file)']! - m0['Active(file)']!).toBe(64);
  expect(m2.Active! - m0.Active!).toBe(64);
  expect(m2['Inactive(file)']).toBe(m0['Inactive(file)']);
  expect(vmstat(k).pgactivate! - v0.pgactivate!).toBe(16);
  // workingset_activation() aged the nonresident clock once per activation.
  // A third read only sets PG_referenced again on the active pages.
  t.lseek(fd, 0, 0);
  expect(t.read(fd, buf, 1 << 16)).toBe(1 << 16);
  expect(vmstat(k).pgactivate! - v0.pgactivate!).toBe(16);
  as.xa.forEach((_, pfn) => {
    expect(k.pages.flags[pfn]! & ((1 << PG.referenced) | (1 << PG.active))).toBe((1 << PG.referenced) | (1 << PG.active));
  });
  recountLru(k);
});

test('reading one page in small pieces marks it accessed once; a read coming back from another page marks it again', () => {
  const k = bootWithProgram('64M');
  const t = k.spawn('/bin/tiny');
  const buf = t.mmap(0, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  k.fs.writeFile('/bin/g', new Uint8Array(8192).fill(1));
  const fd = t.open('/bin/g', O_RDONLY);
  const v0 = vmstat(k);
  // Consecutive reads within one page: only the first marks it accessed (filemap_read: the
  // folio of pos is the folio of ra->prev_pos - 1).
  for (let i = 0; i < 8; i++) expect(t.read(fd, buf, 512)).toBe(512);
  expect(vmstat(k).pgactivate).toBe(v0.pgactivate);
  // Back to the start: prev_pos - 1 = 4095 is still in page 0, so no new access.
  t.lseek(fd, 0, 0);
  expect(t.read(fd, buf, 512)).toBe(512);
  expect(vmstat(k).pgactivate).toBe(v0.pgactivate);
  // Page 1 (its first touch), then page 0 again: a second access, which activates it.
  t.lseek(fd, 4096, 0);
  expect(t.read(fd, buf, 512)).toBe(512);
  t.lseek(fd, 0, 0);
  expect(t.read(fd, buf, 512)).toBe(512);
  expect(vmstat(k).pgactivate! - v0.pgactivate!).toBe(1);
  recountLru(k);
});

test('new anonymous pages start on the inactive anon list; freeing them takes them off', () => {
  const k = bootWithProgram('64M');
  const t = k.spawn('/bin/tiny');
  const before = recountLru(k);
  const m0 = meminfo(k);
  const a = t.mmap(0, 40 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  for (let i = 0; i < 40; i++) t.writeBytes(a + i * 4096, [i]);
  const after = recountLru(k);
  expect(after[LRU_INACTIVE_ANON]! - before[LRU_INACTIVE_ANON]!).toBe(40);
  const m1 = meminfo(k);
  expect(m1['Inactive(anon)']! - m0['Inactive(anon)']!).toBe(160);
  expect(m1['Active(anon)']).toBe(m0['Active(anon)']);
  // A read of an untouched page maps the zero page: nothing joins the LRU.
  const b = t.mmap(0, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  t.readBytes(b, 1);
  expect(recountLru(k)[LRU_INACTIVE_ANON]).toBe(after[LRU_INACTIVE_ANON]);
  expect(t.munmap(a, 40 * 4096)).toBe(0);
  expect(recountLru(k)).toEqual(before);
  expect(meminfo(k)['Inactive(anon)']).toBe(m0['Inactive(anon)']);
});

test('mlocked pages live on the unevictable list (Unevictable, Mlocked, unevictable_pgs_mlocked) until unmapped', () => {
  const k = bootWithProgram('64M');
  const t = k.spawn('/bin/tiny');
  const v0 = vmstat(k);
  const a = t.mmap(0, 8 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  expect(t.mlock(a, 8 * 4096)).toBe(0);
  const lists = recountLru(k);
  expect(lists[LRU_UNEVICTABLE]).toBe(8);
  const m = meminfo(k);
  expect(m.Unevictable).toBe(32);
  expect(m.Mlocked).toBe(32);
  const v1 = vmstat(k);
  expect(v1.nr_unevictable).toBe(8);
  expect(v1.nr_mlock).toBe(8);
  expect(v1.unevictable_pgs_mlocked! - v0.unevictable_pgs_mlocked!).toBe(8);
  expect(t.munmap(a, 8 * 4096)).toBe(0);
  expect(recountLru(k)[LRU_UNEVICTABLE]).toBe(0);
  expect(meminfo(k).Mlocked).toBe(0);
});

test('/proc/zoneinfo, /proc/vmstat and /proc/meminfo agree with the lists', () => {
  const k = bootWithProgram('64M');
  const t = k.spawn('/bin/tiny');
  const buf = t.mmap(0, 1 << 16, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  k.fs.writeFile('/bin/h', new Uint8Array(1 << 16));
  const fd = t.open('/bin/h', O_RDONLY);
  t.read(fd, buf, 1 << 16);
  t.lseek(fd, 0, 0);
  t.read(fd, buf, 1 << 15);
  const lists = recountLru(k);
  const v = vmstat(k);
  const names = ['inactive_anon', 'active_anon', 'inactive_file', 'active_file', 'unevictable'];
  names.forEach((n, i) => {
    expect(v[`nr_${n}`]).toBe(lists[i]);
    expect(v[`nr_zone_${n}`]).toBe(lists[i]);
  });
  // zoneinfo: the zone lines of every populated zone sum to the node's.
  const zi = k.proc.read('/proc/zoneinfo');
  for (const [i, n] of names.entries()) {
    const sum = [...zi.matchAll(new RegExp(`^\\s+nr_zone_${n}\\s+(\\d+)$`, 'gm'))].reduce((s, m) => s + Number(m[1]), 0);
    expect(sum).toBe(lists[i]);
    expect(Number(new RegExp(`^\\s+nr_${n}\\s+(\\d+)$`, 'm').exec(zi)![1])).toBe(lists[i]);
  }
  const m = meminfo(k);
  expect(m['Active(file)']).toBe(lists[LRU_ACTIVE_FILE]! * 4);
  expect(m['Inactive(file)']).toBe(lists[LRU_INACTIVE_FILE]! * 4);
  expect(m.Active).toBe((lists[1]! + lists[3]!) * 4);
  expect(m.Inactive).toBe((lists[0]! + lists[2]!) * 4);
  expect(lists[LRU_ACTIVE_FILE]).toBe(8);
});

test('vm.swappiness: 60 by default, 0..200 accepted, anything else -EINVAL', () => {
  const k = bootWithProgram('64M');
  expect(k.proc.read('/proc/sys/vm/swappiness')).toBe('60\n');
  k.proc.write('/proc/sys/vm/swappiness', '200');
  expect(k.proc.read('/proc/sys/vm/swappiness')).toBe('200\n');
  k.proc.write('/proc/sys/vm/swappiness', '0');
  expect(k.proc.read('/proc/sys/vm/swappiness')).toBe('0\n');
  for (const bad of ['201', '-1']) {
    let errno = 0;
    try {
      k.proc.write('/proc/sys/vm/swappiness', bad);
    } catch (e) {
      errno = (e as { errno: number }).errno;
    }
    expect(errno).toBe(22);
  }
  expect(k.proc.read('/proc/sys/vm/swappiness')).toBe('0\n');
});

test('mlock of pages already mapped moves them to the unevictable list; munlock brings them back to their inactive list', () => {
  const k = bootWithProgram('64M');
  const t = k.spawn('/bin/tiny');
  const a = t.mmap(0, 6 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  for (let i = 0; i < 6; i++) t.writeBytes(a + i * 4096, [i]);
  const before = recountLru(k);
  const v0 = vmstat(k);
  // Lock the middle four pages.
  expect(t.mlock(a + 4096, 4 * 4096)).toBe(0);
  let lists = recountLru(k);
  expect(lists[LRU_UNEVICTABLE]).toBe(4);
  expect(lists[LRU_INACTIVE_ANON]).toBe(before[LRU_INACTIVE_ANON]! - 4);
  const v1 = vmstat(k);
  expect(v1.nr_mlock).toBe(4);
  expect(v1.unevictable_pgs_mlocked! - v0.unevictable_pgs_mlocked!).toBe(4);
  expect(v1.unevictable_pgs_culled! - v0.unevictable_pgs_culled!).toBe(4);
  expect(t.munlock(a + 4096, 2 * 4096)).toBe(0);
  lists = recountLru(k);
  expect(lists[LRU_UNEVICTABLE]).toBe(2);
  const v2 = vmstat(k);
  expect(v2.nr_mlock).toBe(2);
  expect(v2.unevictable_pgs_munlocked! - v1.unevictable_pgs_munlocked!).toBe(2);
  expect(v2.unevictable_pgs_rescued! - v1.unevictable_pgs_rescued!).toBe(2);
  expect(meminfo(k).Mlocked).toBe(8);
  // The data survived every move.
  for (let i = 0; i < 6; i++) expect(t.readBytes(a + i * 4096, 1)[0]).toBe(i);
});

test('a locked file page leaves the unevictable list when its last mapping goes, staying in the page cache', () => {
  const k = bootWithProgram('64M');
  const t = k.spawn('/bin/tiny');
  t.readBytes(0x401000, 1);
  expect(t.mlock(0x401000, 4096)).toBe(0);
  const pfn = Math.floor(t.userPhys(0x401000, false) / 4096);
  expect(k.pages.flags[pfn]! & (1 << PG.unevictable)).not.toBe(0);
  expect(meminfo(k).Mlocked).toBe(4);
  t.exit(0);
  // Still cached (the file's page), no longer mapped, no longer mlocked: back on the inactive file list.
  expect(k.pages.refcount[pfn]).toBe(1);
  expect(k.pages.flags[pfn]! & ((1 << PG.unevictable) | (1 << PG.mlocked))).toBe(0);
  expect(meminfo(k).Mlocked).toBe(0);
  expect(recountLru(k)[LRU_UNEVICTABLE]).toBe(0);
});

test('inactive_is_low(): inactive * int_sqrt(10 * GiB of both lists) < active (1:1 below 1 GiB, 3:1 at 1 GiB, 10:1 at 10 GiB)', () => {
  const k = bootWithProgram('64M');
  k.spawn('/bin/tiny');
  const lv = k.vm.lruvec;
  const saved = Float64Array.from(lv.nrZone);
  const set = (inactive: number, active: number) => {
    lv.nrZone.fill(0);
    lv.nrZone[LRU_INACTIVE_FILE] = inactive;
    lv.nrZone[LRU_ACTIVE_FILE] = active;
  };
  const GiB = 262144;
  set(100, 100);
  expect(inactiveIsLow(k.vm, LRU_INACTIVE_FILE)).toBe(false);
  set(99, 100);
  expect(inactiveIsLow(k.vm, LRU_INACTIVE_FILE)).toBe(true);
  // 1 GiB in all: int_sqrt(10) = 3.
  set(GiB / 4, (GiB * 3) / 4);
  expect(inactiveIsLow(k.vm, LRU_INACTIVE_FILE)).toBe(false);
  set(GiB / 4 - 1, (GiB * 3) / 4 + 1);
  expect(inactiveIsLow(k.vm, LRU_INACTIVE_FILE)).toBe(true);
  // 10 GiB: int_sqrt(100) = 10, so inactive may be as small as an eleventh.
  set(GiB, 9 * GiB);
  expect(inactiveIsLow(k.vm, LRU_INACTIVE_FILE)).toBe(false);
  set(238400, 10 * GiB - 238400);
  expect(inactiveIsLow(k.vm, LRU_INACTIVE_FILE)).toBe(false);
  set(238000, 10 * GiB - 238000);
  expect(inactiveIsLow(k.vm, LRU_INACTIVE_FILE)).toBe(true);
  lv.nrZone.set(saved);
});

test('workingset_test_recent(): a refault is recent when the clock moved no more than the active file list (plus anon with free swap)', () => {
  const k = bootWithProgram('64M');
  k.spawn('/bin/tiny');
  const lv = k.vm.lruvec;
  const saved = Float64Array.from(lv.nrZone);
  lv.nrZone.fill(0);
  lv.nrZone[LRU_ACTIVE_FILE] = 500;
  lv.nrZone[LRU_INACTIVE_FILE] = 300;
  lv.nrZone[LRU_INACTIVE_ANON] = 40;
  lv.nrZone[LRU_ACTIVE_ANON] = 60;
  const age = lv.nonresidentAge;
  lv.nonresidentAge = age + 1000;
  const shadowAt = (distance: number, ws: boolean) => (age + 1000 - distance) * 2 + (ws ? 1 : 0);
  // File page, no swap: the active file list alone.
  expect(workingsetTestRecent(k.vm, shadowAt(500, false), true, 0)).toBe(true);
  expect(workingsetTestRecent(k.vm, shadowAt(501, true), true, 0)).toBe(false);
  // With free swap the anon lists count too: 500 + 60 + 40.
  expect(workingsetTestRecent(k.vm, shadowAt(600, false), true, 1)).toBe(true);
  expect(workingsetTestRecent(k.vm, shadowAt(601, false), true, 1)).toBe(false);
  // An anon page competes with the whole file LRU (and active anon with swap): 500 + 300 (+ 60).
  expect(workingsetTestRecent(k.vm, shadowAt(800, false), false, 0)).toBe(true);
  expect(workingsetTestRecent(k.vm, shadowAt(801, false), false, 0)).toBe(false);
  expect(workingsetTestRecent(k.vm, shadowAt(860, false), false, 1)).toBe(true);
  expect(workingsetTestRecent(k.vm, shadowAt(861, false), false, 1)).toBe(false);
  lv.nrZone.set(saved);
  lv.nonresidentAge = age;
});

test('drop_caches keeps dirty pages but deactivates them (PG_reclaim, pgdeactivate), and clears the shadow entries', () => {
  const k = bootWithProgram('64M');
  const t = k.spawn('/bin/tiny');
  const buf = t.mmap(0, 1 << 16, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  const fd = t.open('/bin/d', O_RDWR | O_CREAT);
  t.writeBytes(buf, new Uint8Array(1 << 16).fill(4));
  expect(t.write(fd, buf, 1 << 15)).toBe(1 << 15);
  // Two reads of the dirty pages: referenced, then active.
  for (let r = 0; r < 2; r++) expect(t.pread(fd, buf, 1 << 15, 0)).toBe(1 << 15);
  const as = pageCache(k.vm).mapping(k.fs.lookup('/bin/d')!.ino);
  as.xa.forEach((_, pfn) => {
    expect(k.pages.flags[pfn]! & (1 << PG.active)).not.toBe(0);
  });
  as.shadows.set(100, 7);
  const v0 = vmstat(k);
  k.proc.write('/proc/sys/vm/drop_caches', '1');
  expect(as.nrpages).toBe(8);
  as.xa.forEach((_, pfn) => {
    const f = k.pages.flags[pfn]!;
    expect(f & (1 << PG.active)).toBe(0);
    expect(f & (1 << PG.reclaim)).not.toBe(0);
  });
  expect(vmstat(k).pgdeactivate! - v0.pgdeactivate!).toBe(8);
  expect(as.shadows.size).toBe(0);
  recountLru(k);
});

test("the two-touch rule as this machine's 6.18 shows it in /proc/kpageflags (test/fixtures/vm/two_touch.out)", () => {
  const lines = readFileSync(new URL('../fixtures/vm/two_touch.out', import.meta.url), 'utf8')
    .trimEnd()
    .split('\n')
    .slice(1);
  const k = bootWithProgram('64M');
  const t = k.spawn('/bin/tiny');
  const buf = t.mmap(0, 64 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  const fd = t.open('/bin/twotouch.dat', O_RDWR | O_CREAT);
  t.writeBytes(buf, new Uint8Array(64 * 4096).fill(7));
  expect(t.write(fd, buf, 64 * 4096)).toBe(64 * 4096);
  expect(t.fsync(fd)).toBe(0);
  expect(t.posixFadvise(fd, 0, 0, 4)).toBe(0); // POSIX_FADV_DONTNEED
  const as = pageCache(k.vm).mapping(k.fs.lookup('/bin/twotouch.dat')!.ino);
  expect(as.nrpages).toBe(0);
  const when = ['after one read', 'after two reads', 'after three reads'];
  for (const [i, line] of lines.entries()) {
    expect(t.pread(fd, buf, 64 * 4096, 0)).toBe(64 * 4096);
    let ref = 0;
    let act = 0;
    let lru = 0;
    as.xa.forEach((_, pfn) => {
      const f = k.pages.flags[pfn]!;
      ref += (f >> PG.referenced) & 1;
      act += (f >> PG.active) & 1;
      lru += (f >> PG.lru) & 1;
    });
    // kmem applies the per-CPU batches at once: every page is on the LRU (the kernel's line may show a few still batched).
    expect(lru).toBe(64);
    expect(line.replace(/ lru \d+/, ' lru 64')).toBe(`${when[i]}: referenced ${ref} active ${act} lru ${lru} (of 64)`);
  }
});
