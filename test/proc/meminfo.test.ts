/**
 * /proc/meminfo as Linux 6.18 prints it (fs/proc/meminfo.c show_val_kb:
 * "%-16s%8lu kB"; hugetlb_report_meminfo; x86's arch_report_meminfo), with
 * the item names and order of this machine's real 6.18 file
 * (test/fixtures/linux-6.18/meminfo.txt), and the kernel's arithmetic
 * checked against the other files kmem serves (/proc/zoneinfo,
 * /proc/vmstat) through the kernel's own relations: MemTotal is the zones'
 * managed pages, MemFree NR_FREE_PAGES, MemAvailable si_mem_available(),
 * Slab = SReclaimable + SUnreclaim, AnonPages nr_anon_pages, and so on.
 * Also the vm half's counters in /proc/vmstat and /proc/zoneinfo.
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { boot, type Kernel } from '../../src/index.js';
import { MAP_ANONYMOUS, MAP_PRIVATE, PROT_READ, PROT_WRITE } from '../../src/vm/mman.js';
import { buildElf } from '../vm/helpers.js';

const here = dirname(fileURLToPath(import.meta.url));
const REAL = resolve(here, '../fixtures/linux-6.18/meminfo.txt');

function realLines(): string[] {
  return readFileSync(REAL, 'utf8')
    .split('\n')
    .filter((l) => l !== '' && !l.startsWith('# '));
}

/** show_val_kb(): a name of at most 15 characters and its colon padded to 16, %8lu, " kB"; HugePages_* counts "%5lu" after 19 columns. */
const KB_LINE = /^(?:[A-Za-z0-9_()]+:) *(?<=^.{16})(?: {0,7}\d{1,8}|\d{9,}) kB$/;
const COUNT_LINE = /^HugePages_[A-Za-z]+: *(?<=^.{19})(?: {0,4}\d{1,5})$/;

function meminfo(k: Kernel): Map<string, number> {
  const m = new Map<string, number>();
  for (const l of k.proc.read('/proc/meminfo').trimEnd().split('\n')) {
    const [name, rest] = l.split(':');
    m.set(name!, Number(rest!.trim().split(' ')[0]));
  }
  return m;
}

function vmstat(k: Kernel): Map<string, number> {
  return new Map(
    k.proc
      .read('/proc/vmstat')
      .trimEnd()
      .split('\n')
      .map((l) => l.split(' ') as [string, string])
      .map(([n, v]) => [n, Number(v)]),
  );
}

/** Per zone, from /proc/zoneinfo: free, min, low, high, managed, protection. */
function zones(k: Kernel) {
  const out: { free: number; low: number; high: number; managed: number; protection: number[] }[] = [];
  for (const block of k.proc
    .read('/proc/zoneinfo')
    .split(/^Node 0, zone/m)
    .slice(1)) {
    const num = (re: RegExp) => Number(re.exec(block)![1]);
    out.push({
      free: num(/pages free\s+(\d+)/),
      low: num(/\n\s+low\s+(\d+)/),
      high: num(/\n\s+high\s+(\d+)/),
      managed: num(/\n\s+managed\s+(\d+)/),
      protection: /protection: \(([^)]*)\)/.exec(block)![1]!.split(', ').map(Number),
    });
  }
  return out;
}

/** si_mem_available() from /proc/vmstat's counters and /proc/zoneinfo's watermarks and protection. */
function memAvailable(v: Map<string, number>, zs: ReturnType<typeof zones>): number {
  const sum = (f: (z: (typeof zs)[number]) => number) => zs.reduce((s, z) => s + f(z), 0);
  const wmarkLow = sum((z) => z.low);
  let avail = v.get('nr_free_pages')! - sum((z) => Math.min(Math.max(...z.protection) + z.high, z.managed));
  const pagecache = v.get('nr_active_file')! + v.get('nr_inactive_file')!;
  avail += pagecache - Math.min(Math.floor(pagecache / 2), wmarkLow);
  const reclaimable = v.get('nr_slab_reclaimable')! + v.get('nr_kernel_misc_reclaimable')!;
  avail += reclaimable - Math.min(Math.floor(reclaimable / 2), wmarkLow);
  return Math.max(0, avail);
}

describe('/proc/meminfo', () => {
  it('the real 6.18 file has the line shapes of show_val_kb and hugetlb_report_meminfo', () => {
    for (const l of realLines()) expect(KB_LINE.test(l) || COUNT_LINE.test(l), l).toBe(true);
  });

  it("prints 6.18's lines, in its order and format", () => {
    const k = boot({ memory: '128M' });
    const text = k.proc.read('/proc/meminfo');
    expect(text.endsWith(' kB\n')).toBe(true);
    const lines = text.trimEnd().split('\n');
    expect(lines.map((l) => l.split(':')[0])).toEqual(realLines().map((l) => l.split(':')[0]));
    for (const l of lines) expect(KB_LINE.test(l) || COUNT_LINE.test(l), l).toBe(true);
    const m = meminfo(k);
    expect(m.get('VmallocTotal')).toBe(34359738367);
    expect(lines).toContain('VmallocTotal:   34359738367 kB');
    expect(lines).toContain('HugePages_Total:       0');
    expect(m.get('Hugepagesize')).toBe(2048);
  });

  it('reading it does not bring up the virtual-memory half', () => {
    const k = boot({ memory: '64M' });
    k.proc.read('/proc/meminfo');
    expect((k as unknown as { vmState: unknown }).vmState).toBe(null);
  });

  it("MemTotal is the managed pages, MemFree NR_FREE_PAGES, MemAvailable si_mem_available(), the slab lines SLUB's", () => {
    const k = boot({ memory: '256M', zones: undefined });
    const held: number[] = [];
    for (let i = 0; i < 3000; i++) held.push(k.kmalloc(512, 0xcc0));
    const m = meminfo(k);
    const zs = zones(k);
    const v = vmstat(k);
    const sum = (f: (z: (typeof zs)[number]) => number) => zs.reduce((s, z) => s + f(z), 0);
    expect(m.get('MemTotal')).toBe(sum((z) => z.managed) * 4);
    expect(m.get('MemFree')).toBe(v.get('nr_free_pages')! * 4);
    expect(m.get('MemFree')).toBe(sum((z) => z.free) * 4);
    // calculate_totalreserve_pages(): per zone min(max(protection) + high, managed).
    const totalreserve = sum((z) => Math.min(Math.max(...z.protection) + z.high, z.managed));
    const wmarkLow = sum((z) => z.low);
    const reclaimable = v.get('nr_slab_reclaimable')!;
    expect(memAvailable(v, zs)).toBe(sum((z) => z.free) - totalreserve + reclaimable - Math.min(Math.floor(reclaimable / 2), wmarkLow));
    expect(m.get('MemAvailable')).toBe(memAvailable(v, zs) * 4);
    expect(m.get('MemAvailable')!).toBeLessThan(m.get('MemFree')!);
    expect(m.get('SReclaimable')).toBe(reclaimable * 4);
    expect(m.get('SUnreclaim')).toBe(v.get('nr_slab_unreclaimable')! * 4);
    expect(m.get('SUnreclaim')!).toBeGreaterThanOrEqual((3000 * 512) / 1024);
    expect(m.get('Slab')).toBe(m.get('SReclaimable')! + m.get('SUnreclaim')!);
    expect(m.get('KReclaimable')).toBe(m.get('SReclaimable'));
    // vm_commit_limit(): overcommit_ratio (50) percent of totalram, no swap.
    expect(m.get('CommitLimit')).toBe(Math.floor((sum((z) => z.managed) * 50) / 100) * 4);
    expect(m.get('Committed_AS')).toBe(0);
    // The direct map covers RAM exactly.
    expect(m.get('DirectMap4k')! + m.get('DirectMap2M')! + m.get('DirectMap1G')!).toBe(256 * 1024);
    for (const a of held) k.kfree(a);
  });

  it('AnonPages, PageTables, Committed_AS, Cached and Mapped follow a process; vmstat and zoneinfo agree', () => {
    const k = boot({ memory: '64M', aslr: 0 });
    const before = meminfo(k);
    expect(before.get('AnonPages')).toBe(0);
    expect(before.get('PageTables')).toBe(0);
    k.fs.writeFile('/bin/p', buildElf([{ vaddr: 0x401000, flags: 5, data: new Uint8Array(100).fill(0x90) }]));
    const t = k.spawn('/bin/p');
    t.read8(0x401000); // the CPU fetching the first instruction: a file page fault
    const v0 = vmstat(k);
    const m0 = meminfo(k);
    const n = 37;
    const a = t.mmap(0, n * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    // A private writable anonymous mapping is charged to vm_committed_as at mmap.
    expect(meminfo(k).get('Committed_AS')! - m0.get('Committed_AS')!).toBe(n * 4);
    for (let i = 0; i < n; i++) t.write8(a + i * 4096, 1);
    const v1 = vmstat(k);
    const m1 = meminfo(k);
    // One minor fault and one new anonymous page per page first written.
    expect(v1.get('pgfault')! - v0.get('pgfault')!).toBe(n);
    expect(v1.get('nr_anon_pages')! - v0.get('nr_anon_pages')!).toBe(n);
    expect(m1.get('AnonPages')).toBe(v1.get('nr_anon_pages')! * 4);
    expect(m1.get('AnonPages')! - m0.get('AnonPages')!).toBe(n * 4);
    expect(m1.get('PageTables')).toBe(v1.get('nr_page_table_pages')! * 4);
    expect(m1.get('PageTables')!).toBeGreaterThan(0);
    expect(m1.get('Mapped')).toBe(v1.get('nr_mapped')! * 4);
    expect(m1.get('Mapped')!).toBeGreaterThan(0); // the program's text page
    expect(m1.get('Cached')).toBe(v1.get('nr_file_pages')! * 4);
    expect(m1.get('Shmem')).toBe(v1.get('nr_shmem')! * 4);
    // The per-node stats of /proc/zoneinfo are the same counters.
    const node = k.proc.read('/proc/zoneinfo');
    expect(Number(/nr_anon_pages\s+(\d+)/.exec(node)![1])).toBe(v1.get('nr_anon_pages'));
    expect(Number(/nr_page_table_pages\s+(\d+)/.exec(node)![1])).toBe(v1.get('nr_page_table_pages'));
    // Without MGLRU every new folio waits on its inactive list; shmem pages are on the anon lists.
    expect(m1.get('Inactive(anon)')).toBe(m1.get('AnonPages')! + m1.get('Shmem')!);
    expect(m1.get('Inactive(file)')).toBe(m1.get('Cached')! - m1.get('Shmem')!);
    expect(m1.get('Inactive(file)')!).toBeGreaterThan(0);
    expect(m1.get('Inactive')).toBe(m1.get('Inactive(anon)')! + m1.get('Inactive(file)')!);
    expect(m1.get('Active')).toBe(m1.get('Active(anon)')! + m1.get('Active(file)')!);
    expect(m1.get('Inactive(anon)')).toBe(v1.get('nr_inactive_anon')! * 4);
    // The zones' lists add up to the node's.
    const zoneSum = (item: string) => [...node.matchAll(new RegExp(`\\n\\s+${item}\\s+(\\d+)`, 'g'))].reduce((s, x) => s + Number(x[1]), 0);
    expect(zoneSum('nr_zone_inactive_anon')).toBe(v1.get('nr_inactive_anon'));
    expect(zoneSum('nr_zone_inactive_file')).toBe(v1.get('nr_inactive_file'));
    // MemAvailable counts the page cache above the low watermarks.
    expect(m1.get('MemAvailable')).toBe(memAvailable(v1, zones(k)) * 4);
    t.munmap(a, n * 4096);
    expect(meminfo(k).get('AnonPages')).toBe(m0.get('AnonPages'));
    expect(meminfo(k).get('Committed_AS')).toBe(m0.get('Committed_AS'));
  });
});
