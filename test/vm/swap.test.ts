/**
 * Swap (mm/swapfile.c, mm/swap_state.c, do_swap_page): the swap PTE format,
 * swapon at boot, MADV_PAGEOUT, swap-in with VMA readahead, fork and exit
 * with swap entries. Expected values are worked out by hand from 6.18's
 * rules, written beside each test.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { boot, type Kernel } from '../../src/kernel.js';
import { GFP_KERNEL } from '../../src/page_alloc/gfp.js';
import { Segfault } from '../../src/vm/fault.js';
import { pageCache } from '../../src/vm/filemap.js';
import type { Task } from '../../src/vm/fork.js';
import { forEachPte } from '../../src/vm/memory.js';
import {
  EINVAL,
  MADV_COLD,
  MADV_DONTNEED,
  MADV_PAGEOUT,
  MAP_ANONYMOUS,
  MAP_FIXED,
  MAP_PRIVATE,
  MAP_SHARED,
  MREMAP_FIXED,
  MREMAP_MAYMOVE,
  PROT_READ,
  PROT_WRITE,
} from '../../src/vm/mman.js';
import { addToSwap, deleteFromSwapCache, swapWritepage, unmapAnonPte } from '../../src/vm/swap_state.js';
import { CLUSTER_FLAG_FRAG, CLUSTER_FLAG_FREE, CLUSTER_FLAG_FULL, CLUSTER_FLAG_NONFULL, SWAP_HAS_CACHE, SWP_SOLIDSTATE } from '../../src/vm/swapfile.js';
import { isSwapPte, pteSwpExclusive, pteSwpOffset, pteSwpType, swpEntryToPte, swpEntryToPteHi, swpEntryToPteLo } from '../../src/vm/swapops.js';
import { pagePattern as pattern, tinyElf } from './helpers.js';

const P = 4096;
/** 2 MiB-aligned, so a readahead window is cut only by the VMA */
const A = 0x10000000;

function machine(opts: object = {}): Kernel {
  const k = boot({ memory: '64M', cpus: 2, seed: 1, aslr: 0, swap: '256M', ...opts });
  k.fs.writeFile('/bin/tiny', tinyElf());
  return k;
}

function anon(t: Task, pages: number, at = A): number {
  const a = t.mmap(at, pages * P, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
  expect(a).toBe(at);
  return a;
}

const meminfo = (k: Kernel, name: string) => Number(new RegExp(`^${name.replace(/[()]/g, '\\$&')}:\\s+(\\d+) kB$`, 'm').exec(k.proc.read('/proc/meminfo'))![1]);
const vmstat = (k: Kernel, name: string) => Number(new RegExp(`^${name} (\\d+)$`, 'm').exec(k.proc.read('/proc/vmstat'))![1]);
const status = (k: Kernel, t: Task, name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB$`, 'm').exec(k.proc.read(`/proc/${t.pid}/status`))![1]);

describe('x86-64 swap PTEs', () => {
  // __swp_entry(type, offset) = (~offset << SWP_OFFSET_SHIFT(14) >> SWP_TYPE_BITS(5)) | type << 59, as 64-bit unsigned.
  const kernelFormula = (type: bigint, offset: bigint) => ((((~offset & ((1n << 64n) - 1n)) << 14n) & ((1n << 64n) - 1n)) >> 5n) | (type << 59n);

  test('entries worked by hand: the offset inverted from bit 9, the type in bits 59-63, exclusive in bit 3', () => {
    // ~1 over 50 bits = 2^50 - 2; at bit 9: 2^59 - 2^10
    expect(swpEntryToPte(0, 1)).toBe(0x07fffffffffffc00n);
    // ~0x12345 over 50 bits = 0x3ffffffffedcba; << 9 = 0x7ffffffffdb97400
    expect(swpEntryToPte(0, 0x12345)).toBe(0x07fffffffdb97400n);
    expect(swpEntryToPte(3, 0x12345)).toBe(0x1ffffffffdb97400n);
    expect(swpEntryToPte(0, 1, true)).toBe(0x07fffffffffffc08n);
    // the largest 50-bit offset inverts to 0
    expect(swpEntryToPte(31, 2 ** 50 - 1)).toBe(0xf800000000000000n);
    for (const [type, off] of [
      [0, 1],
      [0, 511],
      [1, 512],
      [7, 0x7fffff],
      [0, 0x800000],
      [30, 123456789],
      [0, 2 ** 40 + 5],
    ] as const) {
      expect(swpEntryToPte(type, off)).toBe(kernelFormula(BigInt(type), BigInt(off)));
      const lo = swpEntryToPteLo(off, false);
      const hi = swpEntryToPteHi(type, off);
      expect(pteSwpOffset(lo, hi)).toBe(off);
      expect(pteSwpType(hi)).toBe(type);
      expect(isSwapPte(lo, hi)).toBe(true);
      expect(pteSwpExclusive(lo)).toBe(false);
      expect(pteSwpExclusive(swpEntryToPteLo(off, true))).toBe(true);
    }
  });

  test('a present, a PROT_NONE and an empty PTE are not swap PTEs', () => {
    expect(isSwapPte(0, 0)).toBe(false);
    expect(isSwapPte(0x1067, 0)).toBe(false);
    expect(isSwapPte(0x1120, 0x80000000)).toBe(false);
  });

  test('bad arguments are RangeErrors naming them', () => {
    expect(() => swpEntryToPte(32, 1)).toThrow(RangeError);
    expect(() => swpEntryToPte(32, 1)).toThrow(/type/);
    expect(() => swpEntryToPte(0, -1)).toThrow(/offset/);
    expect(() => swpEntryToPte(0, 2 ** 50)).toThrow(/offset/);
  });
});

describe('swapon at boot', () => {
  test('256M: the dmesg line, /proc/swaps, SwapTotal/SwapFree, CommitLimit with swap, page-cluster 3', () => {
    const k = machine();
    // 65536 slots, the header's taken: 65535 pages = 262140k, one extent across all of them; the disk is
    // rotational, so no "SS" after the last space (as this machine's 6.18 printed for a file on its vda:
    // test/fixtures/vm/swap_pageout.out).
    expect(k.dmesg().some((l) => l.endsWith('] Adding 262140k swap on /dev/vda2.  Priority:-2 extents:1 across:262140k '))).toBe(true);
    expect(k.proc.read('/proc/swaps')).toBe(`Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n/dev/vda2${' '.repeat(31)}partition\t262140\t\t0\t\t-2\n`);
    expect(meminfo(k, 'SwapTotal')).toBe(262140);
    expect(meminfo(k, 'SwapFree')).toBe(262140);
    expect(meminfo(k, 'SwapCached')).toBe(0);
    // vm_commit_limit(): totalram * 50% + total_swap_pages
    expect(meminfo(k, 'CommitLimit')).toBe(Math.trunc(meminfo(k, 'MemTotal') / 4 / 2) * 4 + 262140);
    expect(k.proc.read('/proc/sys/vm/page-cluster')).toBe('3\n');
  });

  test('no swap: /proc/swaps has only its header and the Swap lines are 0', () => {
    for (const swap of [undefined, 0, '0']) {
      const k = boot({ memory: '64M', ...(swap === undefined ? {} : { swap }) });
      expect(k.proc.read('/proc/swaps')).toBe('Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n');
      expect(meminfo(k, 'SwapTotal')).toBe(0);
      expect(meminfo(k, 'SwapFree')).toBe(0);
      expect(k.dmesg().some((l) => l.includes('swap on'))).toBe(false);
    }
  });

  test('sizes: a byte count, whole pages; bad values name swap', () => {
    const k = boot({ memory: '64M', swap: 1024 * 1024 + 100 });
    // 256 pages, the header's taken
    expect(meminfo(k, 'SwapTotal')).toBe(1020);
    expect(() => boot({ memory: '64M', swap: 'lots' })).toThrow(RangeError);
    expect(() => boot({ memory: '64M', swap: 'lots' })).toThrow(/^swap: /);
    expect(() => boot({ memory: '64M', swap: '8K' })).toThrow(/^swap: .*minimum/);
    expect(() => boot({ memory: '64M', swap: -4096 })).toThrow(/^swap: /);
    expect(() => boot({ memory: '64M', swap: '1T' })).toThrow(/^swap: /);
    expect(() => boot({ memory: '64M', swap: {} as never })).toThrow(TypeError);
    expect(() => boot({ memory: '64M', swap: {} as never })).toThrow(/^swap: /);
  });

  test('KASAN, SLAB and SLOB machines boot with swap too (the VM half starts inside the constructor)', () => {
    for (const o of [{ kasan: 'generic' as const }, { allocator: 'slab' as const }, { allocator: 'slob' as const }]) {
      const k = machine({ swap: '16M', ...o });
      expect(k.proc.read('/proc/swaps').split('\n')[1]).toBe(`/dev/vda2${' '.repeat(31)}partition\t16380\t\t0\t\t-2`);
      k.kfree(k.kmalloc(10, GFP_KERNEL));
      const t = k.spawn('/bin/tiny', ['tiny']);
      const a = anon(t, 2);
      t.writeBytes(a, pattern(4));
      expect(t.madvise(a, 2 * P, MADV_PAGEOUT)).toBe(0);
      expect(t.readBytes(a, P)).toEqual(pattern(4));
      expect(vmstat(k, 'pswpin')).toBe(1);
    }
  });

  test('vm.page-cluster takes 0..31', () => {
    const k = machine();
    k.proc.write('/proc/sys/vm/page-cluster', '0');
    expect(k.proc.read('/proc/sys/vm/page-cluster')).toBe('0\n');
    expect(() => k.proc.write('/proc/sys/vm/page-cluster', '32')).toThrow();
    expect(() => k.proc.write('/proc/sys/vm/page-cluster', '-1')).toThrow();
  });
});

describe('MADV_PAGEOUT', () => {
  test('N pages out: slots 1..N, Used and SwapFree by N*4 kB, pswpout N, VmSwap, RssAnon, smaps Swap, pagemap entries', () => {
    const k = machine();
    const t = k.spawn('/bin/tiny', ['tiny']);
    const N = 20;
    const a = anon(t, N);
    for (let i = 0; i < N; i++) t.writeBytes(a + i * P, pattern(i));
    const anonBefore = meminfo(k, 'AnonPages');
    const rssBefore = status(k, t, 'RssAnon');
    expect(t.madvise(a, N * P, MADV_PAGEOUT)).toBe(0);
    expect(k.proc.read('/proc/swaps').split('\n')[1]).toBe(`/dev/vda2${' '.repeat(31)}partition\t262140\t\t${N * 4}\t\t-2`);
    expect(meminfo(k, 'SwapFree')).toBe(262140 - N * 4);
    expect(meminfo(k, 'SwapCached')).toBe(0);
    expect(meminfo(k, 'AnonPages')).toBe(anonBefore - N * 4);
    expect(vmstat(k, 'pswpout')).toBe(N);
    expect(vmstat(k, 'pswpin')).toBe(0);
    expect(status(k, t, 'VmSwap')).toBe(N * 4);
    expect(status(k, t, 'RssAnon')).toBe(rssBefore - N * 4);
    const smaps = k.proc.read(`/proc/${t.pid}/smaps`);
    const block = smaps.slice(smaps.indexOf(`${A.toString(16)}-`));
    expect(/^Swap:\s+(\d+) kB$/m.exec(block)![1]).toBe(String(N * 4));
    expect(/^SwapPss:\s+(\d+) kB$/m.exec(block)![1]).toBe(String(N * 4));
    expect(/^Rss:\s+(\d+) kB$/m.exec(block)![1]).toBe('0');
    // The first cluster's slot 0 is the header: the CPU's cluster hands out 1, 2, 3... in address order.
    // pagemap: bit 62 swapped, type in bits 0-4, offset from bit 5.
    const pm = t.pagemap(a, N);
    for (let i = 0; i < N; i++) expect(pm[i]).toBe((1n << 62n) | (BigInt(i + 1) << 5n));
    // The disk got one write per page, at the slots.
    const writes = pageCache(k.vm).bdev.log.filter((r) => r.ino === -1);
    expect(writes.map((r) => [r.op, r.index, r.pages])).toEqual(Array.from({ length: N }, (_, i) => ['write', i + 1, 1]));
  });

  test('every byte written comes back; a page of zeros is written nowhere (swpout_zero, swpin_zero)', () => {
    const k = machine();
    const t = k.spawn('/bin/tiny', ['tiny']);
    const N = 12;
    const a = anon(t, N);
    for (let i = 0; i < N; i++) t.writeBytes(a + i * P, i === 5 ? new Uint8Array(P) : pattern(100 + i));
    expect(t.madvise(a, N * P, MADV_PAGEOUT)).toBe(0);
    expect(vmstat(k, 'pswpout')).toBe(N - 1);
    expect(vmstat(k, 'swpout_zero')).toBe(1);
    // a zero page still holds its slot
    expect(meminfo(k, 'SwapFree')).toBe(262140 - N * 4);
    for (let i = 0; i < N; i++) expect(t.readBytes(a + i * P, P)).toEqual(i === 5 ? new Uint8Array(P) : pattern(100 + i));
    expect(vmstat(k, 'pswpin')).toBe(N - 1);
    expect(vmstat(k, 'swpin_zero')).toBe(1);
  });

  test("zero-filled pages go to the zeromap, not the disk, as on this machine's 6.18 (test/fixtures/vm/swap_zero.out)", () => {
    const real = readFileSync(new URL('../fixtures/vm/swap_zero.out', import.meta.url), 'utf8').split('\n');
    const counts = (step: string) => {
      const f = real.find((l) => l.startsWith(`${step} `))!.split(' ');
      return ['pswpout', 'swpout_zero', 'pswpin', 'swpin_zero'].map((n) => Number(f[f.indexOf(n) + 1]));
    };
    const k = machine();
    const t = k.spawn('/bin/tiny', ['tiny']);
    const a = anon(t, 4);
    for (let i = 0; i < 4; i++) t.writeBytes(a + i * P, new Uint8Array(P).fill(i + 1));
    t.writeBytes(a + P, new Uint8Array(P));
    t.writeBytes(a + 3 * P, new Uint8Array(P));
    const ours = () => ['pswpout', 'swpout_zero', 'pswpin', 'swpin_zero'].map((n) => vmstat(k, n));
    t.madvise(a, 4 * P, MADV_PAGEOUT);
    expect(ours()).toEqual(counts('out'));
    let sum = 0;
    for (let i = 0; i < 4 * P; i++) sum += t.read8(a + i);
    expect(ours()).toEqual(counts('in'));
    expect(`sum ${sum}`).toBe(real.find((l) => l.startsWith('sum '))!);
  });

  test('skips pages mapped twice, and the zero page, takes a shmem page; a locked VMA is -EINVAL; MADV_COLD keeps pages', () => {
    const k = machine();
    const t = k.spawn('/bin/tiny', ['tiny']);
    const a = anon(t, 4);
    t.write8(a, 1);
    t.read8(a + P); // the zero page
    t.write8(a + 2 * P, 3);
    const c = t.fork(); // page 0 and 2 now mapped by two mms
    c.write8(a + 2 * P, 4); // the child's copy: page 2 is mapped once in each
    expect(t.madvise(a, 4 * P, MADV_COLD)).toBe(0);
    expect(vmstat(k, 'pswpout')).toBe(0);
    expect(t.madvise(a, 4 * P, MADV_PAGEOUT)).toBe(0);
    // only the parent's page 2 (mapcount 1) went out
    expect(vmstat(k, 'pswpout')).toBe(1);
    expect(status(k, t, 'VmSwap')).toBe(4);
    expect(t.read8(a)).toBe(1);
    expect(t.read8(a + 2 * P)).toBe(3);
    expect(c.read8(a + 2 * P)).toBe(4);
    const s = t.mmap(0, P, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    t.write8(s, 9);
    // A shmem page mapped once goes too (root may page out the file: can_do_file_pageout; shmem_writeout).
    expect(t.madvise(s, P, MADV_PAGEOUT)).toBe(0);
    expect(vmstat(k, 'pswpout')).toBe(2);
    expect(t.read8(s)).toBe(9);
    // can_madv_lru_vma(): not in a VM_LOCKED VMA
    const l = anon(t, 1, A + 0x200000);
    t.write8(l, 1);
    expect(t.mlock(l, P)).toBe(0);
    expect(t.madvise(l, P, MADV_PAGEOUT)).toBe(-EINVAL);
    expect(vmstat(k, 'pswpout')).toBe(2);
  });

  test('without swap nothing goes out', () => {
    const k = machine({ swap: 0 });
    const t = k.spawn('/bin/tiny', ['tiny']);
    const a = anon(t, 2);
    t.write8(a, 5);
    expect(t.madvise(a, 2 * P, MADV_PAGEOUT)).toBe(0);
    expect(status(k, t, 'VmSwap')).toBe(0);
    expect(t.read8(a)).toBe(5);
  });
});

describe('swap-in (do_swap_page) and readahead', () => {
  /** Page out 32 pages, then read them in order: the swap reads the disk got, the major faults. */
  function sequential(cluster: number, ssd = false) {
    const k = machine();
    // a non-rotational disk: SWP_SOLIDSTATE, VMA-based readahead
    if (ssd) k.vm.swap!.flags |= SWP_SOLIDSTATE;
    k.proc.write('/proc/sys/vm/page-cluster', String(cluster));
    const t = k.spawn('/bin/tiny', ['tiny']);
    const N = 32;
    const a = anon(t, N);
    for (let i = 0; i < N; i++) t.writeBytes(a + i * P, pattern(7 * i));
    t.madvise(a, N * P, MADV_PAGEOUT);
    const log = pageCache(k.vm).bdev.log;
    log.length = 0;
    const maj0 = vmstat(k, 'pgmajfault');
    const tmaj0 = t.majFlt;
    for (let i = 0; i < N; i++) expect(t.readBytes(a + i * P, P)).toEqual(pattern(7 * i));
    return {
      k,
      t,
      reads: log.filter((r) => r.ino === -1).map((r) => [r.index, r.pages]),
      majors: vmstat(k, 'pgmajfault') - maj0,
      taskMajors: t.majFlt - tmaj0,
    };
  }

  // Cluster readahead (rotational disk, the default): page i is in slot i + 1; swapin_nr_pages() starts with 4 hits.
  test('cluster readahead, page-cluster 3: aligned blocks of 8 slots; 5 major faults; every readahead page a hit', () => {
    // Fault on slot 1: 4 hits + 2 -> 8; the block 0-7 without the header: slots 1-7. Slots 2-7 hit (6 hits).
    // Slot 8: 6 + 2 -> 8: slots 8-15 (7 hits). Slot 16: 7 + 2 -> 16, at most 8: 16-23; slot 24: 24-31;
    // slot 32: 32-39, but 33-39 are unused: one page.
    const r = sequential(3);
    expect(r.reads).toEqual([
      [1, 7],
      [8, 8],
      [16, 8],
      [24, 8],
      [32, 1],
    ]);
    expect(r.majors).toBe(5);
    expect(r.taskMajors).toBe(5);
    expect(vmstat(r.k, 'pswpin')).toBe(32);
    expect(vmstat(r.k, 'swap_ra')).toBe(27);
    expect(vmstat(r.k, 'swap_ra_hit')).toBe(27);
  });

  test('cluster readahead, page-cluster 1 and 0', () => {
    // Slot 1: 4 hits -> 2 pages, block 0-1 without the header: slot 1 alone. Slot 2: no hits and not next to the
    // last offset without hits (0): 1 page (half the last window, 1). Slot 3: next to 2: 2 pages, block 2-3, 2 is
    // cached: 3 alone. Slot 4: next to 3: block 4-5. Then each odd page hits, so slot 6 (hits 1 -> 4, at most 2)
    // reads 6-7, ..., slot 30 reads 30-31, slot 32 reads 32 (33 unused).
    const r1 = sequential(1);
    expect(r1.reads).toEqual([[1, 1], [2, 1], [3, 1], ...Array.from({ length: 14 }, (_, i) => [4 + 2 * i, 2]), [32, 1]]);
    expect(r1.majors).toBe(18);
    expect(vmstat(r1.k, 'swap_ra')).toBe(14);
    expect(vmstat(r1.k, 'swap_ra_hit')).toBe(14);
    const r0 = sequential(0);
    expect(r0.reads).toEqual(Array.from({ length: 32 }, (_, i) => [i + 1, 1]));
    expect(r0.majors).toBe(32);
    expect(vmstat(r0.k, 'swap_ra')).toBe(0);
  });

  test('VMA readahead (non-rotational disk), page-cluster 3: windows of 5, 8, 8, 8, 3 pages; 5 major faults', () => {
    // Fault 0: no history (ra_info 0 reads as 4 hits): 4 + 2 -> 8 pages, centred: [-3, 5) cut to the VMA: pages 0-4.
    // Faults 1-4 hit the swap cache (4 hits). Fault 5 is next to the last (4): 4 + 2 -> 8, from 5: pages 5-12.
    // Then 13-20, 21-28 (hits 7 -> 16, at most 8), and 29-31 (the VMA ends).
    const r = sequential(3, true);
    expect(r.reads).toEqual([
      [1, 5],
      [6, 8],
      [14, 8],
      [22, 8],
      [30, 3],
    ]);
    expect(r.majors).toBe(5);
    expect(r.taskMajors).toBe(5);
    expect(vmstat(r.k, 'pswpin')).toBe(32);
    expect(vmstat(r.k, 'swap_ra')).toBe(27);
    expect(vmstat(r.k, 'swap_ra_hit')).toBe(27);
  });

  test('VMA readahead, page-cluster 1: windows of 2; page-cluster 0: no readahead', () => {
    const r1 = sequential(1, true);
    expect(r1.reads).toEqual(Array.from({ length: 16 }, (_, i) => [2 * i + 1, 2]));
    expect(r1.majors).toBe(16);
    expect(vmstat(r1.k, 'swap_ra')).toBe(16);
    const r0 = sequential(0, true);
    expect(r0.reads).toEqual(Array.from({ length: 32 }, (_, i) => [i + 1, 1]));
    expect(r0.majors).toBe(32);
    expect(vmstat(r0.k, 'swap_ra')).toBe(0);
  });

  test('a fault in the middle reads a window centred on it; the pages read ahead sit in the swap cache', () => {
    const k = machine();
    const t = k.spawn('/bin/tiny', ['tiny']);
    const a = anon(t, 32);
    for (let i = 0; i < 32; i++) t.write32(a + i * P, i + 1);
    t.madvise(a, 32 * P, MADV_PAGEOUT);
    expect(t.read32(a + 10 * P)).toBe(11);
    // slot 11, the aligned block of 8 around it: slots 8..15, pages 7..14
    expect(vmstat(k, 'pswpin')).toBe(8);
    // the faulting page: its slot freed from its PTE but the page stays cached; 7 more cached
    expect(meminfo(k, 'SwapCached')).toBe(32);
    expect(status(k, t, 'VmSwap')).toBe(31 * 4);
    expect(k.vm.swap!.swapMap[11]).toBe(SWAP_HAS_CACHE);
    expect(k.vm.swap!.swapMap[8]).toBe(SWAP_HAS_CACHE | 1);
    // Cached excludes the swap cache
    expect(meminfo(k, 'Cached')).toBe(k.vm.nrFilePages * 4 - 32);
    // mincore: the swapped-out pages in the swap cache count as resident
    expect([...(t.mincore(a, 32 * P) as Uint8Array)]).toEqual(Array.from({ length: 32 }, (_, i) => (i >= 7 && i <= 14 ? 1 : 0)));
  });

  test('a read fault on an exclusive swap entry maps the page writable: the write after it takes no fault', () => {
    const k = machine();
    const t = k.spawn('/bin/tiny', ['tiny']);
    const a = anon(t, 1);
    t.write32(a, 0xabcd);
    t.madvise(a, P, MADV_PAGEOUT);
    expect(t.read32(a)).toBe(0xabcd);
    const faults = vmstat(k, 'pgfault');
    t.write32(a, 0x1234);
    expect(vmstat(k, 'pgfault')).toBe(faults);
    expect(vmstat(k, 'pgreuse')).toBe(0);
    // the page is dirty and still in the swap cache: paged out again, it is written again (same slot)
    t.madvise(a, P, MADV_PAGEOUT);
    expect(vmstat(k, 'pswpout')).toBe(2);
    expect(t.pagemap(a, 1)[0]).toBe((1n << 62n) | (1n << 5n));
    expect(t.read32(a)).toBe(0x1234);
  });

  test('PageAnonExclusive: a page shared at fork and left alone by the child is not exclusive until written', () => {
    const k = machine();
    const t = k.spawn('/bin/tiny', ['tiny']);
    const a = anon(t, 2);
    t.write32(a, 1);
    t.write32(a + P, 2);
    const c = t.fork();
    c.write32(a, 3); // the child's own copy of page 0; the parent's page 0 is mapped once again, not exclusive
    c.exit(0);
    t.write32(a + P, 4); // page 1: reused by the write, exclusive again
    t.madvise(a, 2 * P, MADV_PAGEOUT);
    const idx0 = k.vm.pt.walk(t.mm!.pgd, a);
    const idx1 = k.vm.pt.walk(t.mm!.pgd, a + P);
    expect(pteSwpExclusive(k.phys.u32[idx0]!)).toBe(false);
    expect(pteSwpExclusive(k.phys.u32[idx1]!)).toBe(true);
    // page 0 comes back read-only: its write takes a fault that reuses the page
    expect(t.read32(a)).toBe(1);
    const reuse = vmstat(k, 'pgreuse');
    t.write32(a, 5);
    expect(vmstat(k, 'pgreuse')).toBe(reuse + 1);
    // page 1 comes back writable: no fault
    expect(t.read32(a + P)).toBe(4);
    const faults = vmstat(k, 'pgfault');
    t.write32(a + P, 6);
    expect(vmstat(k, 'pgfault')).toBe(faults);
    expect([t.read32(a), t.read32(a + P)]).toEqual([5, 6]);
  });

  test("PageAnonExclusive against this machine's 6.18 (test/fixtures/vm/swap_exclusive.out): the faults each write takes", () => {
    const real = readFileSync(new URL('../fixtures/vm/swap_exclusive.out', import.meta.url), 'utf8')
      .split('\n')
      .filter((l) => l.startsWith('page '));
    const k = machine();
    // one page per swap-in, as the real run's readahead window was
    k.proc.write('/proc/sys/vm/page-cluster', '0');
    const t = k.spawn('/bin/tiny', ['tiny']);
    const a = anon(t, 2);
    t.write8(a, 1);
    t.write8(a + P, 2);
    const c = t.fork();
    c.write8(a, 3);
    c.exit(0);
    t.wait();
    t.write8(a + P, 4);
    expect(t.madvise(a, 2 * P, MADV_PAGEOUT)).toBe(0);
    const ours: string[] = [];
    for (let i = 0; i < 2; i++) {
      const [mj, mn] = [t.majFlt, t.minFlt];
      const v = t.read8(a + i * P);
      const [mj2, mn2] = [t.majFlt, t.minFlt];
      t.write8(a + i * P, v + 10);
      ours.push(`page ${i}: read ${v} major ${mj2 - mj} minor ${mn2 - mn}; write minor ${t.minFlt - mn2}`);
    }
    expect(ours).toEqual(real);
  });

  test('a write fault frees the swap cache when the page is its only user', () => {
    const k = machine();
    const t = k.spawn('/bin/tiny', ['tiny']);
    const a = anon(t, 1);
    t.write32(a, 77);
    t.madvise(a, P, MADV_PAGEOUT);
    t.write32(a + 4, 78);
    expect(meminfo(k, 'SwapCached')).toBe(0);
    expect(meminfo(k, 'SwapFree')).toBe(262140);
    expect(t.read32(a)).toBe(77);
    expect(t.read32(a + 4)).toBe(78);
  });
});

describe('fork, COW and exit with swapped pages', () => {
  test('the child shares the swap entries (swap_map 2), both read the right bytes, COW after swap-in', () => {
    const k = machine();
    const t = k.spawn('/bin/tiny', ['tiny']);
    const N = 4;
    const a = anon(t, N);
    for (let i = 0; i < N; i++) t.writeBytes(a + i * P, pattern(i));
    t.madvise(a, N * P, MADV_PAGEOUT);
    const c = t.fork();
    const si = k.vm.swap!;
    for (let i = 1; i <= N; i++) expect(si.swapMap[i]).toBe(2);
    expect(status(k, c, 'VmSwap')).toBe(N * 4);
    // SwapPss: each of two holders is charged half
    const sm = k.proc.read(`/proc/${c.pid}/smaps_rollup`);
    expect(/^SwapPss:\s+(\d+) kB$/m.exec(sm)![1]).toBe(String(N * 2));
    // the child's PTEs are not exclusive, nor are the parent's any more
    expect(t.pagemap(a, 1)[0]).toBe((1n << 62n) | (1n << 5n));
    // The parent reads page 0: readahead brings all four into the swap cache; the page is mapped read-only.
    expect(t.readBytes(a, P)).toEqual(pattern(0));
    expect(si.swapMap[1]).toBe(SWAP_HAS_CACHE | 1);
    // The parent writes it: the slot is still the child's, so the page is copied.
    t.write8(a, 0xee);
    expect(c.readBytes(a, P)).toEqual(pattern(0));
    // The child's read mapped the cached page; its slot is held by the cache only.
    expect(si.swapMap[1]).toBe(SWAP_HAS_CACHE);
    const reuse = vmstat(k, 'pgreuse');
    c.write8(a + 1, 0xdd);
    // wp_can_reuse_anon_folio(): the swap cache lets go, the page is the child's alone
    expect(vmstat(k, 'pgreuse')).toBe(reuse + 1);
    expect(si.swapMap[1]).toBe(0);
    const p0 = pattern(0);
    p0[0] = 0xee;
    expect(t.readBytes(a, P)).toEqual(p0);
    const c0 = pattern(0);
    c0[1] = 0xdd;
    expect(c.readBytes(a, P)).toEqual(c0);
    for (let i = 1; i < N; i++) {
      expect(t.readBytes(a + i * P, P)).toEqual(pattern(i));
      expect(c.readBytes(a + i * P, P)).toEqual(pattern(i));
    }
  });

  test("smaps Swap/SwapPss and VmSwap before and after a fork, against this machine's 6.18 (test/fixtures/vm/swap_smaps.out)", () => {
    const real = readFileSync(new URL('../fixtures/vm/swap_smaps.out', import.meta.url), 'utf8').split('\n');
    const block = (heading: string) => {
      const i = real.indexOf(heading);
      return [...real.slice(i + 1, i + 4), real[i + 5]!];
    };
    const k = machine();
    const t = k.spawn('/bin/tiny', ['tiny']);
    const a = anon(t, 8);
    for (let i = 0; i < 8; i++) t.writeBytes(a + i * P, new Uint8Array(P).fill(i + 1));
    t.madvise(a, 8 * P, MADV_PAGEOUT);
    const ours = () => {
      const smaps = k.proc.read(`/proc/${t.pid}/smaps`);
      const mine = smaps.slice(smaps.indexOf(`${A.toString(16)}-`)).split('\n');
      const pick = (name: string) => mine.find((l) => l.startsWith(`${name}:`))!;
      const vmswap = k.proc
        .read(`/proc/${t.pid}/status`)
        .split('\n')
        .find((l) => l.startsWith('VmSwap:'))!;
      return [pick('Rss'), pick('Swap'), pick('SwapPss'), vmswap];
    };
    expect(ours()).toEqual(block('before fork'));
    const c = t.fork();
    expect(ours()).toEqual(block('after fork'));
    c.exit(0);
    t.wait();
    expect(ours()).toEqual(block('child gone'));
  });

  test('more than SWAP_MAP_MAX (62) references: the count continues (COUNT_CONTINUED), and comes back down', () => {
    const k = machine();
    const t = k.spawn('/bin/tiny', ['tiny']);
    const a = anon(t, 1);
    t.writeBytes(a, pattern(9));
    t.madvise(a, P, MADV_PAGEOUT);
    const si = k.vm.swap!;
    const kids: Task[] = [];
    for (let i = 0; i < 70; i++) kids.push(t.fork());
    expect(si.swapCount(1)).toBe(71);
    expect(si.swapMap[1]).toBe(0x3e | 0x80);
    expect(kids[69]!.readBytes(a, P)).toEqual(pattern(9));
    // the read: the page in the swap cache, one reference less
    expect(si.swapCount(1)).toBe(70);
    expect(si.swapMap[1]).toBe(0x3e | 0x80 | SWAP_HAS_CACHE);
    for (const c of kids.slice(0, 20)) c.exit(0);
    expect(si.swapMap[1]).toBe(50 | SWAP_HAS_CACHE);
    for (const c of kids.slice(20)) c.exit(0);
    expect(t.readBytes(a, P)).toEqual(pattern(9));
    t.exit(0);
    expect(si.swapMap[1]).toBe(0);
    expect(meminfo(k, 'SwapFree')).toBe(262140);
  });

  test('exit and munmap free every slot and every page', () => {
    const k = machine();
    const t = k.spawn('/bin/tiny', ['tiny']);
    // frames holding user memory (anonymous, file or shmem) before
    const userFrames = () => k.vm.pageKind.reduce((n, kind) => n + (kind !== 0 ? 1 : 0), 0);
    const frames0 = userFrames();
    const anon0 = meminfo(k, 'AnonPages');
    const N = 64;
    const a = anon(t, N);
    for (let i = 0; i < N; i++) t.writeBytes(a + i * P, pattern(i));
    t.madvise(a, N * P, MADV_PAGEOUT);
    const c = t.fork();
    t.read8(a + 10 * P);
    c.read8(a + 40 * P);
    c.write8(a + 41 * P, 1);
    t.madvise(a, N * P, MADV_PAGEOUT);
    expect(meminfo(k, 'SwapFree')).toBeLessThan(262140);
    c.exit(0);
    expect(t.wait()).toBe(c.pid);
    expect(t.munmap(a, N * P)).toBe(0);
    expect(meminfo(k, 'SwapFree')).toBe(262140);
    expect(meminfo(k, 'SwapCached')).toBe(0);
    expect(k.proc.read('/proc/swaps').split('\n')[1]).toContain('\t262140\t\t0\t\t-2');
    const si = k.vm.swap!;
    expect(si.swapMap.subarray(1).every((b) => b === 0)).toBe(true);
    expect(si.inusePages).toBe(0);
    expect(userFrames()).toBe(frames0);
    expect(meminfo(k, 'AnonPages')).toBe(anon0);
    t.exit(0);
    expect(meminfo(k, 'SwapFree')).toBe(262140);
  });
});

describe("against this machine's 6.18 (test/fixtures/vm/swap_pageout.out)", () => {
  const fixture = readFileSync(new URL('../fixtures/vm/swap_pageout.out', import.meta.url), 'utf8');
  const runs = fixture.split(/^# run \d.*$/m).slice(1);
  /** the pagemap line printed right after MADV_PAGEOUT in a run */
  const pagemapAfterPageout = (run: string) =>
    run
      .split('\n')
      .find((l) => l.startsWith('0:4'))!
      .trim()
      .split(' ')
      .map((e) => BigInt(`0x${e.split(':')[1]}`));

  test('32 pages out: swap entries 1..32, then (after the first process exits) 33..64 from the cluster cursor; Used 128 kB; pswpout 32 each', () => {
    const k = machine();
    const real1 = pagemapAfterPageout(runs[0]!);
    const real2 = pagemapAfterPageout(runs[1]!);
    expect(real1).toHaveLength(32);
    for (const [i, real] of [real1, real2].entries()) {
      const t = k.spawn('/bin/tiny', ['tiny']);
      const a = anon(t, 32);
      for (let j = 0; j < 32 * P; j += P) t.writeBytes(a + j, pattern(j + i));
      const before = vmstat(k, 'pswpout');
      expect(t.madvise(a, 32 * P, MADV_PAGEOUT)).toBe(0);
      expect(vmstat(k, 'pswpout') - before).toBe(32);
      expect([...t.pagemap(a, 32)]).toEqual(real);
      expect(k.proc.read('/proc/swaps').split('\n')[1]!.split('\t').slice(-3)).toEqual(['128', '', '-2']);
      t.exit(0);
    }
    expect(/^pageout pswpout 32 /m.test(runs[0]!)).toBe(true);
    expect(/^pageout pswpout 64 /m.test(runs[1]!)).toBe(true);
  });

  test("the swapon line's format, with a rotational disk's empty flags", () => {
    const line = fixture.split('\n').find((l) => l.startsWith('Adding '))!;
    const k = machine({ swap: 16 * 1024 * 1024 });
    expect(k.dmesg().some((l) => l.endsWith(`] ${line.replace('/tmp/h2swap/swapfile', '/dev/vda2')}`))).toBe(true);
  });
});

describe('k.inspect.swap()', () => {
  test('a copy of the slots and clusters; null without swap', () => {
    expect(machine({ swap: 0 }).inspect.swap()).toBeNull();
    const k = machine({ swap: '4M' });
    const t = k.spawn('/bin/tiny', ['tiny']);
    const a = anon(t, 3);
    for (let i = 0; i < 3; i++) t.write8(a + i * P, i + 1);
    t.madvise(a, 3 * P, MADV_PAGEOUT);
    t.read8(a);
    const s = k.inspect.swap()!;
    expect([s.device, s.pages, s.inuse, s.cached, s.priority]).toEqual(['/dev/vda2', 1023, 3, 3, -2]);
    // slot 1: its page is back and cached (its swap PTE gone); 2 and 3: read ahead, cached and still named
    expect([...s.map.subarray(0, 5)]).toEqual([0x3f, 0x40, 0x41, 0x41, 0]);
    expect(s.clusters).toEqual([
      { count: 4, list: 'frag' },
      { count: 0, list: 'free' },
    ]);
    s.map[1] = 0;
    expect(k.vm.swap!.swapMap[1]).toBe(0x40);
  });
});

describe('a full swap area', () => {
  test('40K (9 usable slots): pageout stops when full; swap-in frees each slot at once while swap is over half full', () => {
    const k = machine({ swap: '40K' });
    expect(meminfo(k, 'SwapTotal')).toBe(36);
    const t = k.spawn('/bin/tiny', ['tiny']);
    const a = anon(t, 12);
    for (let i = 0; i < 12; i++) t.writeBytes(a + i * P, pattern(50 + i));
    expect(t.madvise(a, 12 * P, MADV_PAGEOUT)).toBe(0);
    // add_to_swap() fails for the last three: they stay in memory
    expect(vmstat(k, 'pswpout')).toBe(9);
    expect(meminfo(k, 'SwapFree')).toBe(0);
    expect(status(k, t, 'VmSwap')).toBe(36);
    expect([...t.pagemap(a + 9 * P, 3)].every((e) => e >> 63n === 1n)).toBe(true);
    // Reading page 0 reads slots 1-7 (the aligned block of 8 without the header); the faulting page leaves
    // the swap cache at once (vm_swap_full: less than half free), the other six stay cached.
    expect(t.readBytes(a, P)).toEqual(pattern(50));
    expect(meminfo(k, 'SwapCached')).toBe(24);
    expect(meminfo(k, 'SwapFree')).toBe(4);
    // Slots 2-5 are freed as their pages fault (free slots 1..4, twice that below 9); from 5 free slots on,
    // swap is no longer over half full: slots 6 and 7, then 8 and 9 (read as the block 8-15 cut to the area),
    // keep their pages cached.
    for (let i = 1; i < 12; i++) expect(t.readBytes(a + i * P, P)).toEqual(pattern(50 + i));
    expect(meminfo(k, 'SwapCached')).toBe(16);
    expect(meminfo(k, 'SwapFree')).toBe(20);
    expect(status(k, t, 'VmSwap')).toBe(0);
    expect(t.munmap(a, 12 * P)).toBe(0);
    expect(meminfo(k, 'SwapCached')).toBe(0);
    expect(meminfo(k, 'SwapFree')).toBe(36);
  });
});

describe('a corrupt swap PTE', () => {
  test('an entry of no swap area is reported with its value and address', () => {
    const k = machine({ swap: 0 });
    const t = k.spawn('/bin/tiny', ['tiny']);
    const a = anon(t, 1);
    t.write8(a, 1);
    const idx = k.vm.pt.walk(t.mm!.pgd, a);
    // the present page goes; its PTE becomes the swap entry (0, 5) by hand
    t.madvise(a, P, 4 /* MADV_DONTNEED */);
    k.phys.u32[idx] = swpEntryToPteLo(5, false);
    k.phys.u32[idx + 1] = swpEntryToPteHi(0, 5);
    // ~5 over 50 bits, at bit 9: 0x07fffffffffff400
    expect(() => t.read8(a)).toThrow(`kmem: corrupt PTE 0x07fffffffffff400 at 0x${a.toString(16)}: a swap entry of no swap area`);
  });
});

describe('slot allocation by clusters (cluster_alloc_swap_entry)', () => {
  test('the cursor walks a cluster, a full cluster gives way to nonfull then free ones, freed slots are found again', () => {
    // 6M: 1536 slots, three clusters of 512; slot 0 (the header) makes cluster 0 nonfull from the start.
    const k = machine({ swap: '6M' });
    const si = k.vm.swap!;
    expect(si.clusterList(CLUSTER_FLAG_NONFULL)).toEqual([0]);
    expect(si.clusterList(CLUSTER_FLAG_FREE)).toEqual([1, 2]);
    const got: number[] = [];
    for (let i = 0; i < 511; i++) got.push(si.allocSlot());
    expect(got).toEqual(Array.from({ length: 511 }, (_, i) => i + 1));
    // cluster 0 is full, the cursor reset: the next slot comes from the first free cluster
    expect(si.clusterList(CLUSTER_FLAG_FULL)).toEqual([0]);
    expect(si.allocSlot()).toBe(512);
    expect(si.clusterList(CLUSTER_FLAG_FRAG)).toEqual([1]);
    // freeing in cluster 0 makes it nonfull; the cursor still goes on in cluster 1
    si.putCache(100);
    si.putCache(7);
    expect(si.clusterList(CLUSTER_FLAG_NONFULL)).toEqual([0]);
    expect(si.allocSlot()).toBe(513);
    for (let i = 514; i < 1024; i++) expect(si.allocSlot()).toBe(i);
    // cluster 1 full: the nonfull cluster 0 is scanned from its start before the free cluster 2
    expect(si.allocSlot()).toBe(7);
    expect(si.allocSlot()).toBe(100);
    expect(si.allocSlot()).toBe(1024);
    expect(si.inusePages).toBe(1023 + 1);
    expect(meminfo(k, 'SwapFree')).toBe((1535 - 1024) * 4);
  });

  test('on a solid-state device each CPU allocates from its own cluster; a rotational one shares one cursor', () => {
    const ssd = machine({ swap: '6M' });
    const s1 = ssd.vm.swap!;
    s1.flags |= SWP_SOLIDSTATE;
    expect(s1.allocSlot()).toBe(1);
    // CPU 1 has no cluster: the nonfull list is empty (cluster 0 is CPU 0's, on the frag list), so a free one
    expect(ssd.onCpu(1, () => s1.allocSlot())).toBe(512);
    expect(s1.allocSlot()).toBe(2);
    expect(ssd.onCpu(1, () => s1.allocSlot())).toBe(513);
    const rot = machine({ swap: '6M' });
    const s2 = rot.vm.swap!;
    expect(s2.allocSlot()).toBe(1);
    expect(rot.onCpu(1, () => s2.allocSlot())).toBe(2);
    expect(s2.allocSlot()).toBe(3);
  });
});

describe("the reclaim interface (shrink_folio_list's calls)", () => {
  test('a page two mms share after fork: both PTEs become swap PTEs, neither exclusive; each side then reads and writes its own copy', () => {
    const k = machine();
    const t = k.spawn('/bin/tiny', ['tiny']);
    const a = anon(t, 1);
    t.writeBytes(a, pattern(1));
    const c = t.fork();
    const vm = k.vm;
    const idxT = vm.pt.walk(t.mm!.pgd, a);
    const idxC = vm.pt.walk(c.mm!.pgd, a);
    const pfn = k.phys.u32[idxT]! >>> 12;
    expect(k.phys.u32[idxC]! >>> 12).toBe(pfn);
    expect(addToSwap(vm, pfn)).toBe(true);
    unmapAnonPte(vm, t.mm!, a, idxT, pfn);
    unmapAnonPte(vm, c.mm!, a, idxC, pfn);
    expect(k.pages.mapcount[pfn]).toBe(0);
    swapWritepage(vm, pfn);
    deleteFromSwapCache(vm, pfn);
    vm.putPage(pfn);
    expect(vm.swap!.swapMap[1]).toBe(2);
    expect(pteSwpExclusive(k.phys.u32[idxT]!)).toBe(false);
    expect(pteSwpExclusive(k.phys.u32[idxC]!)).toBe(false);
    // the child swaps it in and writes: a copy (the slot is still the parent's too)
    c.write8(a, 0x55);
    expect(t.readBytes(a, P)).toEqual(pattern(1));
    const mine = pattern(1);
    mine[0] = 0x55;
    expect(c.readBytes(a, P)).toEqual(mine);
    t.write8(a + 1, 0x66);
    mine[0] = pattern(1)[0]!;
    mine[1] = 0x66;
    expect(t.readBytes(a, P)).toEqual(mine);
    c.exit(0);
    t.exit(0);
    expect(meminfo(k, 'SwapFree')).toBe(262140);
    expect(meminfo(k, 'SwapCached')).toBe(0);
  });
});

describe("swap-in readahead against this machine's 6.18 (test/fixtures/vm/swap_readahead.out)", () => {
  const fixture = readFileSync(new URL('../fixtures/vm/swap_readahead.out', import.meta.url), 'utf8');
  const runs = fixture.split(/^# run \d.*$/m).slice(1);
  /** The counters a run printed after a step ("first", "read"). */
  const counters = (run: string, step: string) => {
    const line = run.split('\n').find((l) => l.startsWith(`${step} `))!;
    const f = line.split(' ');
    const get = (name: string) => Number(f[f.indexOf(name) + 1]);
    return { pswpin: get('pswpin'), swapRa: get('swap_ra'), swapRaHit: get('swap_ra_hit'), pgmajfault: get('pgmajfault'), majflt: get('majflt') };
  };

  test("three processes in turn on one swap area: each run's pswpin, swap_ra, swap_ra_hit and major faults are the real kernel's", () => {
    // One machine, a 16M swap area, as the real one: the global readahead state and the slot cursor carry
    // over from run to run (run 2's pages are in slots 33-64, run 3's in 65-96).
    const k = machine({ swap: '16M' });
    const steps: [run: number, first: number, cluster: number][] = [
      [0, -1, 3],
      [1, 10, 3],
      [2, -1, 1],
    ];
    for (const [run, first, cluster] of steps) {
      k.proc.write('/proc/sys/vm/page-cluster', String(cluster));
      const t = k.spawn('/bin/tiny', ['tiny']);
      const a = anon(t, 32);
      for (let i = 0; i < 32; i++) t.writeBytes(a + i * P, pattern(1000 * run + i));
      const at = {
        pswpin: vmstat(k, 'pswpin'),
        swapRa: vmstat(k, 'swap_ra'),
        swapRaHit: vmstat(k, 'swap_ra_hit'),
        pgmajfault: vmstat(k, 'pgmajfault'),
        majflt: t.majFlt,
      };
      const delta = () => ({
        pswpin: vmstat(k, 'pswpin') - at.pswpin,
        swapRa: vmstat(k, 'swap_ra') - at.swapRa,
        swapRaHit: vmstat(k, 'swap_ra_hit') - at.swapRaHit,
        pgmajfault: vmstat(k, 'pgmajfault') - at.pgmajfault,
        // (the program's own file pages read before: not in the real run, whose binary was cached)
        majflt: t.majFlt - at.majflt,
      });
      expect(t.madvise(a, 32 * P, MADV_PAGEOUT)).toBe(0);
      if (first >= 0) {
        expect(t.readBytes(a + first * P, P)).toEqual(pattern(1000 * run + first));
        expect(delta()).toEqual(counters(runs[run]!, 'first'));
      }
      for (let i = 0; i < 32; i++) expect(t.readBytes(a + i * P, P)).toEqual(pattern(1000 * run + i));
      expect(delta()).toEqual(counters(runs[run]!, 'read'));
      t.exit(0);
    }
    k.proc.write('/proc/sys/vm/page-cluster', '3');
  });
});

describe('other system calls over swap entries', () => {
  test('mremap moves swap PTEs, mprotect keeps them, MADV_DONTNEED frees their slots', () => {
    const k = machine();
    const t = k.spawn('/bin/tiny', ['tiny']);
    const a = anon(t, 8);
    for (let i = 0; i < 8; i++) t.writeBytes(a + i * P, pattern(300 + i));
    t.madvise(a, 8 * P, MADV_PAGEOUT);
    // move_ptes(): the entries move as they are
    const b = t.mremap(a, 8 * P, 8 * P, MREMAP_MAYMOVE | MREMAP_FIXED, A + 0x400000);
    expect(b).toBe(A + 0x400000);
    expect([...t.pagemap(b, 8)]).toEqual(Array.from({ length: 8 }, (_, i) => (1n << 62n) | (BigInt(i + 1) << 5n)));
    // change_pte_range() leaves swap entries alone; the pages come back with the new protection
    expect(t.mprotect(b, 8 * P, PROT_READ)).toBe(0);
    expect(t.readBytes(b, P)).toEqual(pattern(300));
    expect(() => t.write8(b + P, 1)).toThrow(Segfault);
    const u = k.spawn('/bin/tiny', ['tiny']);
    const c = anon(u, 8);
    for (let i = 0; i < 8; i++) u.write32(c + i * P, i + 1);
    u.madvise(c, 8 * P, MADV_PAGEOUT);
    expect(status(k, u, 'VmSwap')).toBe(32);
    // zap_pte_range(): MADV_DONTNEED drops the entries and their slots; the pages read as zeros after
    expect(u.madvise(c, 8 * P, MADV_DONTNEED)).toBe(0);
    expect(status(k, u, 'VmSwap')).toBe(0);
    expect(meminfo(k, 'SwapFree')).toBe(262140);
    expect(u.read32(c + 3 * P)).toBe(0);
  });
});

describe('reclaim with real swap (h1 reclaim through this swap)', () => {
  test('anonymous memory past RAM: kswapd/direct reclaim swap pages out, every byte comes back, counts agree', () => {
    const k = machine({ memory: '32M', swap: '64M' });
    const t = k.spawn('/bin/tiny', ['tiny']);
    const N = 12288; // 48 MiB of anonymous memory on a 32 MiB machine
    const a = t.mmap(0, N * P, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    for (let i = 0; i < N; i++) t.write32(a + i * P + (i % 1000) * 4, i + 1);
    const out = vmstat(k, 'pswpout');
    expect(out).toBeGreaterThan(N - 32 * 256);
    expect(status(k, t, 'VmSwap')).toBeGreaterThan(0);
    for (let i = 0; i < N; i++) if (t.read32(a + i * P + (i % 1000) * 4) !== i + 1) expect(`page ${i}`).toBe('intact');
    expect(vmstat(k, 'pswpin')).toBeGreaterThan(0);
    // every slot in use is named by one swap PTE of the one mm (its stack and data too) or held by the swap cache only
    const si = k.vm.swap!;
    let ptes = 0;
    forEachPte(k.vm, t.mm!.pgd, 0, 2 ** 47, (idx) => {
      if (isSwapPte(k.phys.u32[idx]!, k.phys.u32[idx + 1]!)) ptes++;
    });
    const cacheOnly = si.swapMap.reduce((n, b) => n + (b === SWAP_HAS_CACHE ? 1 : 0), 0);
    expect(si.inusePages).toBe(ptes + cacheOnly);
    expect(meminfo(k, 'SwapFree')).toBe(65532 - si.inusePages * 4);
    expect(status(k, t, 'VmSwap')).toBe(ptes * 4);
    t.exit(0);
    expect(meminfo(k, 'SwapFree')).toBe(65532);
    expect(meminfo(k, 'SwapCached')).toBe(0);
  });
});
