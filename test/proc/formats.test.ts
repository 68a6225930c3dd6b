/**
 * The page allocator's /proc and debugfs files, byte for byte in the layouts
 * of mm/vmstat.c (frag_show_print, pagetypeinfo_show*, zoneinfo_show_print,
 * vmstat_show, unusable_show_print, extfrag_show_print), and the boot lines
 * of the zone setup.
 *
 * Two kinds of check: line-shape regexes written from the kernel's printf
 * formats, which must accept both the real kernel's files (a real 6.18's own
 * /proc files, recorded on the build machine into test/fixtures/linux-6.18,
 * and the collected samples of older kernels in test/fixtures/realdata) and
 * kmem's output, with kmem's item names and their order equal to 6.18's; and
 * exact full texts for states whose numbers are worked out by hand here.
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { __GFP_DMA32, __GFP_MEMALLOC, __GFP_NOWARN, boot, GFP_DMA, GFP_KERNEL, type Kernel } from '../../src/index.js';
import { ZONE_NORMAL } from '../../src/page_alloc/mmzone.js';
import { type Booted, booted, canonicalCounts, freeBlocks } from '../page_alloc/invariants.js';

const here = dirname(fileURLToPath(import.meta.url));
const REALDATA = resolve(here, '../fixtures/realdata');
/** A real Linux 6.18's files (6.18.44, x86-64, 2 CPUs, DMA/DMA32/Normal populated). */
const LINUX618 = resolve(here, '../fixtures/linux-6.18');

/** A real file's lines without the '#' provenance header; a missing file fails the test (readFileSync throws). */
function real(path: string): string[] {
  const lines = readFileSync(path, 'utf8').split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  return lines.filter((l) => !l.startsWith('# '));
}

/** "%Nlu" of a non-negative integer below 10^N, as a regex. */
const width = (n: number) => `(?:${Array.from({ length: n }, (_, i) => `${' '.repeat(n - 1 - i)}\\d{${i + 1}}`).join('|')})`;
const pad = (v: string | number, w: number) => String(v).padStart(w);

/** DMA 16M, DMA32 112M, Normal 16M, 2 CPUs: the slab layer's boot pages land in Normal. */
const M144 = { memory: '144M', zones: { DMA: '16M', DMA32: '112M', Normal: '16M' }, cpus: 2 } as const;

// ───────────────────────── /proc/buddyinfo ─────────────────────────

// frag_show_print(): "Node %d, zone %8s " then "%6lu " per order, then '\n'.
const BUDDYINFO_LINE = new RegExp(`^Node \\d+, zone [ A-Za-z0-9]{8} (?:${width(6)} ){11}$`);

describe('/proc/buddyinfo', () => {
  it.each([
    ['linux 6.18', `${LINUX618}/buddyinfo.txt`],
    ['realdata 4.18', `${REALDATA}/buddyinfo-1.txt`],
    ['realdata 5.14', `${REALDATA}/buddyinfo-5.txt`],
  ])('the line regex accepts the real kernel file (%s)', (_name, path) => {
    const lines = real(path);
    expect(lines.length).toBeGreaterThan(0);
    for (const l of lines) expect(l).toMatch(BUDDYINFO_LINE);
  });

  it('kmem prints the same shape, one line per populated zone, every number followed by a space', () => {
    const { k } = booted(boot(M144));
    const text = k.proc.read('/proc/buddyinfo');
    expect(text.endsWith(' \n')).toBe(true);
    const lines = text.slice(0, -1).split('\n');
    expect(lines.map((l) => l.slice(0, 21))).toEqual(['Node 0, zone      DMA', 'Node 0, zone    DMA32', 'Node 0, zone   Normal']);
    for (const l of lines) expect(l).toMatch(BUDDYINFO_LINE);
  });

  it('exact text after boot (Normal: the maximal blocks around the slab pages)', () => {
    const b = booted(boot(M144));
    const normal = canonicalCounts(b.k, ZONE_NORMAL, b.boot);
    expect(b.k.proc.read('/proc/buddyinfo')).toBe(
      'Node 0, zone      DMA      1      1      1      1      1      1      1      1      1      1      3 \n' +
        'Node 0, zone    DMA32      0      0      0      0      0      0      0      0      0      0     28 \n' +
        `Node 0, zone   Normal ${normal.map((n) => `${pad(n, 6)} `).join('')}\n`,
    );
  });
});

// ───────────────────────── /proc/pagetypeinfo ─────────────────────────

const TYPES = ['Unmovable', 'Movable', 'Reclaimable', 'HighAtomic', 'Isolate'];

describe('/proc/pagetypeinfo', () => {
  // pagetypeinfo_showfree_print(): "Node %4d, zone %8s, type %12s " then "%s%6lu " per order.
  const ROW = new RegExp(`^Node {4}\\d, zone [ A-Za-z0-9]{8}, type [ A-Za-z]{12} (?:>?${width(6)} ){11}$`);
  // pagetypeinfo_showblockcount_print(): "Node %d, zone %8s " then "%12lu " per type.
  const BLOCKS = (types: number) => new RegExp(`^Node \\d, zone [ A-Za-z0-9]{8} (?:${width(12)} ){${types}}$`);

  /** The shape every pagetypeinfo has, whatever the migratetypes of the build. */
  function checkShape(lines: string[]): void {
    expect(lines[0]).toMatch(/^Page block order: \d+$/);
    expect(lines[1]).toMatch(/^Pages per block: {2}\d+$/);
    expect(lines[2]).toBe('');
    expect(lines[3]).toBe(`${'Free pages count per migrate type at order'.padEnd(43)} ${Array.from({ length: 11 }, (_, o) => `${pad(o, 6)} `).join('')}`);
    const blank = lines.indexOf('', 4);
    expect(blank).toBeGreaterThan(4);
    for (const l of lines.slice(4, blank)) expect(l).toMatch(ROW);
    const head = lines[blank + 1]!;
    expect(head).toMatch(/^Number of blocks type {2}(?:[ A-Za-z]{12} )+$/);
    const types = (head.length - 23) / 13;
    for (const l of lines.slice(blank + 2)) expect(l).toMatch(BLOCKS(types));
    // Each zone has one free-count row per type in the block-count header.
    expect((blank - 4) % types).toBe(0);
  }

  it.each([
    ['linux 6.18', `${LINUX618}/pagetypeinfo.txt`],
    ['realdata 4.18', `${REALDATA}/pagetypeinfo-1.txt`],
    ['realdata 5.14 (with CMA)', `${REALDATA}/pagetypeinfo-5.txt`],
    ['realdata 6.6', `${REALDATA}/pagetypeinfo-2.txt`],
  ])('the shape accepts the real kernel file (%s)', (_name, path) => {
    checkShape(real(path));
  });

  it('kmem: the same shape, and the migratetypes of an x86-64 6.x build without CMA', () => {
    const { k } = booted(boot(M144));
    const text = k.proc.read('/proc/pagetypeinfo');
    expect(text.endsWith(' \n')).toBe(true);
    const lines = text.slice(0, -1).split('\n');
    checkShape(lines);
    expect(lines.find((l) => l.startsWith('Number of blocks type'))).toBe(
      `${'Number of blocks type '.padEnd(23)}${TYPES.map((t) => `${pad(t, 12)} `).join('')}`,
    );
    const linux = real(`${LINUX618}/pagetypeinfo.txt`);
    expect(lines.find((l) => l.startsWith('Number of blocks type'))).toBe(linux.find((l) => l.startsWith('Number of blocks type')));
  });

  it('exact text after boot: everything Movable in DMA and DMA32', () => {
    const b = booted(boot(M144));
    const k = b.k;
    // Normal's rows: the free lists by type (walked directly) and its pageblocks by type.
    const normalRows = TYPES.map((t, mt) => {
      const counts = new Array<number>(11).fill(0);
      for (const f of freeBlocks(k, ZONE_NORMAL)) if (f.mt === mt) counts[f.order]!++;
      return `Node    0, zone   Normal, type ${pad(t, 12)} ${counts.map((n) => `${pad(n, 6)} `).join('')}\n`;
    }).join('');
    const nb = new Array<number>(5).fill(0);
    for (let pb = 32768 / 512; pb < 36864 / 512; pb++) nb[k.pageAlloc.zones.pageblockMt[pb]!]!++;
    const row = (zone: string, t: string, c: number[]) => `Node    0, zone ${pad(zone, 8)}, type ${pad(t, 12)} ${c.map((n) => `${pad(n, 6)} `).join('')}\n`;
    const z = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
    expect(k.proc.read('/proc/pagetypeinfo')).toBe(
      'Page block order: 9\n' +
        'Pages per block:  512\n' +
        '\n' +
        'Free pages count per migrate type at order       0      1      2      3      4      5      6      7      8      9     10 \n' +
        row('DMA', 'Unmovable', z) +
        row('DMA', 'Movable', [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 3]) +
        row('DMA', 'Reclaimable', z) +
        row('DMA', 'HighAtomic', z) +
        row('DMA', 'Isolate', z) +
        row('DMA32', 'Unmovable', z) +
        row('DMA32', 'Movable', [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 28]) +
        row('DMA32', 'Reclaimable', z) +
        row('DMA32', 'HighAtomic', z) +
        row('DMA32', 'Isolate', z) +
        normalRows +
        '\n' +
        'Number of blocks type     Unmovable      Movable  Reclaimable   HighAtomic      Isolate \n' +
        'Node 0, zone      DMA            0            8            0            0            0 \n' +
        'Node 0, zone    DMA32            0           56            0            0            0 \n' +
        `Node 0, zone   Normal ${nb.map((n) => `${pad(n, 12)} `).join('')}\n`,
    );
    // The slab layer's boot pages claimed one order-10 block: two Normal pageblocks are Unmovable.
    expect(nb).toEqual([2, 6, 0, 0, 0]);
  });

  it('a list of 100000 blocks or more prints ">100000"', () => {
    // 1G: take every page of DMA32, then give back every other one: 129022 isolated order-0 blocks.
    const { k } = booted(boot({ memory: '1G' }));
    while (k.allocPages(0, GFP_DMA | __GFP_MEMALLOC | __GFP_NOWARN) !== 0);
    const pages: number[] = [];
    for (;;) {
      const a = k.allocPages(0, GFP_KERNEL | __GFP_DMA32 | __GFP_MEMALLOC | __GFP_NOWARN);
      if (a === 0) break;
      pages.push(a);
    }
    for (const a of pages) if ((a / 4096) % 2 === 0) k.freePages(a, 0);
    k.drainAllPages();
    const row = k.proc
      .read('/proc/pagetypeinfo')
      .split('\n')
      .find((l) => /^Node {4}0, zone {4}DMA32, type +Unmovable /.test(l))!;
    expect(row.slice(44, 52)).toBe('>100000 ');
    expect(row).toMatch(new RegExp(`^Node {4}0, zone {4}DMA32, type {4}Unmovable >100000 (?:${width(6)} ){10}$`));
    // buddyinfo prints the real count.
    expect(Number(k.proc.read('/proc/buddyinfo').split('\n')[1]!.slice(22, 28))).toBeGreaterThan(100000);
  });
});

// ───────────────────────── /proc/zoneinfo ─────────────────────────

/**
 * node_stat_item names of 6.18 x86-64 (enum node_stat_item with NUMA balancing, swap, IOMMU and
 * hugetlb built in; nr_writeback_temp is gone, the pgdemote_* counters and nr_kernel_file_pages new).
 */
const NODE_STATS = `nr_inactive_anon nr_active_anon nr_inactive_file nr_active_file nr_unevictable
nr_slab_reclaimable nr_slab_unreclaimable nr_isolated_anon nr_isolated_file workingset_nodes
workingset_refault_anon workingset_refault_file workingset_activate_anon workingset_activate_file
workingset_restore_anon workingset_restore_file workingset_nodereclaim nr_anon_pages nr_mapped
nr_file_pages nr_dirty nr_writeback nr_shmem nr_shmem_hugepages nr_shmem_pmdmapped
nr_file_hugepages nr_file_pmdmapped nr_anon_transparent_hugepages nr_vmscan_write
nr_vmscan_immediate_reclaim nr_dirtied nr_written nr_throttled_written nr_kernel_misc_reclaimable
nr_foll_pin_acquired nr_foll_pin_released nr_kernel_stack nr_page_table_pages nr_sec_page_table_pages
nr_iommu_pages nr_swapcached pgpromote_success pgpromote_candidate pgpromote_candidate_nrl
pgdemote_kswapd pgdemote_direct pgdemote_khugepaged pgdemote_proactive nr_hugetlb nr_balloon_pages
nr_kernel_file_pages`.split(/\s+/);
/** 6.18's zone_stat_item names: nr_free_pages_blocks new, nr_bounce gone. */
const ZONE_STATS = `nr_free_pages nr_free_pages_blocks nr_zone_inactive_anon nr_zone_active_anon nr_zone_inactive_file
nr_zone_active_file nr_zone_unevictable nr_zone_write_pending nr_mlock nr_zspages nr_free_cma`.split(/\s+/);
const NUMA_STATS = ['numa_hit', 'numa_miss', 'numa_foreign', 'numa_interleave', 'numa_local', 'numa_other'];

/** "\n      %-12s %lu" */
const stat = (name: string, v: number | string) => `      ${name.padEnd(12)} ${v}`;

/** One expected line: a literal, or a RegExp for a value this test does not own (slab pages, allocation counts). */
type Want = string | RegExp;

function zoneBlock(
  name: string,
  v: {
    free: number;
    /** nr_free_pages_blocks: the free pages in buddies of order >= pageblock_order (9). */
    blocks?: number;
    wmark: [number, number, number, number];
    spanned: number;
    present: number;
    managed: number;
    prot: number[];
  },
  pcp?: { batch: number; high: number; highMax: number; start: number; numaHit: number | null },
): Want[] {
  const out: Want[] = [
    `  pages free     ${v.free}`,
    '        boost    0',
    `        min      ${v.wmark[0]}`,
    `        low      ${v.wmark[1]}`,
    `        high     ${v.wmark[2]}`,
    `        promo    ${v.wmark[3]}`,
    `        spanned  ${v.spanned}`,
    `        present  ${v.present}`,
    `        managed  ${v.managed}`,
    '        cma      0',
    `        protection: (${v.prot.join(', ')})`,
  ];
  if (!pcp) return [`Node 0, zone ${pad(name, 8)}`, ...out];
  for (const s of ZONE_STATS) out.push(stat(s, s === 'nr_free_pages' ? v.free : s === 'nr_free_pages_blocks' ? v.blocks! : 0));
  for (const s of NUMA_STATS) {
    const val = s === 'numa_hit' || s === 'numa_local' ? pcp.numaHit : 0;
    out.push(val === null ? new RegExp(`^ {6}${s.padEnd(12)} \\d+$`) : stat(s, val));
  }
  out.push('  pagesets');
  for (const cpu of [0, 1]) {
    out.push(
      `    cpu: ${cpu}`,
      '              count:    0',
      `              high:     ${pcp.high}`,
      `              batch:    ${pcp.batch}`,
      `              high_min: ${pcp.high}`,
      `              high_max: ${pcp.highMax}`,
      '  vm stats threshold: 4',
    );
  }
  // 6.18 ends a populated zone here (reserved_highatomic and free_highatomic came later).
  out.push('  node_unreclaimable:  0', `  start_pfn:           ${pcp.start}`);
  return [`Node 0, zone ${pad(name, 8)}`, ...out];
}

function expectLines(text: string, want: Want[]): void {
  expect(text.endsWith('\n')).toBe(true);
  const have = text.slice(0, -1).split('\n');
  for (let i = 0; i < Math.max(have.length, want.length); i++) {
    const w = want[i];
    if (w instanceof RegExp) expect(have[i], `line ${i + 1}`).toMatch(w);
    else expect(have[i], `line ${i + 1}`).toBe(w);
  }
}

describe('/proc/zoneinfo', () => {
  it('exact text after boot, every number worked out by hand', () => {
    // THP off: min_free_kbytes from calculate_min_free_kbytes() alone.
    const b: Booted = booted(boot({ ...M144, transparentHugepage: 'never' }));
    // lowmem = 4095 + 28672 + 4096 = 36863 pages = 147452 kB; min_free_kbytes = int_sqrt(2359232) = 1535;
    // pages_min = 383; zone min = 383 * managed / 36863; low/high/promo add max(min/4, managed/1000).
    //   DMA    42 + 10:  42  52  62  72    pcp high 52/2 = 26, batch 1, high_max 4095/8/2 = 255
    //   DMA32 297 + 74: 297 371 445 519    pcp high 185, batch 7, high_max 1792
    //   Normal 42 + 10:  42  52  62  72    pcp high 26, batch 1, high_max 256
    //   Movable (empty): min clamp(0/1024, 32, 128) = 32, delta 0.
    // protection: DMA (0, 28672/256, 32768/256, ...), DMA32 (0, 0, 4096/256, ...), Normal 4096/32 above it: 0.
    const normalFree = 4096 - b.bootPages(ZONE_NORMAL);
    // nr_free_pages_blocks: DMA's buddies of order 9 and 10 (buddyinfo's 1 and 3: 512 + 3 * 1024),
    // DMA32's 28 order-10 blocks, Normal's maximal blocks of order 9 and 10 around the slab pages.
    const nc = canonicalCounts(b.k, ZONE_NORMAL, b.boot);
    const normalBlocks = nc[9]! * 512 + nc[10]! * 1024;
    const node: Want[] = ['  per-node stats'];
    for (const s of NODE_STATS) node.push(s.startsWith('nr_slab_') ? new RegExp(`^ {6}${s} \\d+$`) : stat(s, 0));
    const dma = zoneBlock(
      'DMA',
      { free: 4095, blocks: 3584, wmark: [42, 52, 62, 72], spanned: 4095, present: 4095, managed: 4095, prot: [0, 112, 128, 128, 128] },
      { batch: 1, high: 26, highMax: 255, start: 1, numaHit: 0 },
    );
    const want: Want[] = [
      dma[0]!,
      ...node,
      ...dma.slice(1),
      ...zoneBlock(
        'DMA32',
        { free: 28672, blocks: 28672, wmark: [297, 371, 445, 519], spanned: 28672, present: 28672, managed: 28672, prot: [0, 0, 16, 16, 16] },
        { batch: 7, high: 185, highMax: 1792, start: 4096, numaHit: 0 },
      ),
      ...zoneBlock(
        'Normal',
        { free: normalFree, blocks: normalBlocks, wmark: [42, 52, 62, 72], spanned: 4096, present: 4096, managed: 4096, prot: [0, 0, 0, 0, 0] },
        { batch: 1, high: 26, highMax: 256, start: 32768, numaHit: null },
      ),
      ...zoneBlock('Movable', { free: 0, wmark: [32, 32, 32, 32], spanned: 0, present: 0, managed: 0, prot: [0, 0, 0, 0, 0] }),
      ...zoneBlock('Device', { free: 0, wmark: [0, 0, 0, 0], spanned: 0, present: 0, managed: 0, prot: [0, 0, 0, 0, 0] }),
    ];
    expectLines(b.k.proc.read('/proc/zoneinfo'), want);
  });

  it('the pageset lines follow the 6.7+ layout (count/high/batch/high_min/high_max); every line has one of the shapes of zoneinfo_show_print(), in kmem and in a real 6.18', () => {
    const { k } = booted(boot({ memory: '128M', cpus: 2 }));
    const text = k.proc.read('/proc/zoneinfo').slice(0, -1).split('\n');
    // zoneinfo_show_print(): every line is one of these shapes.
    const shapes = [
      /^Node \d+, zone [ A-Za-z0-9]{8}$/,
      /^ {2}per-node stats$/,
      /^ {6}[a-z_]{1,12} +\d+$/,
      /^ {6}[a-z_]{13,} \d+$/,
      /^ {2}pages free {5}\d+$/,
      /^ {8}(?:boost|min|low|high|promo|spanned|present|managed|cma) +\d+$/,
      /^ {8}protection: \(\d+(?:, \d+)*\)$/,
      /^ {2}pagesets$/,
      /^ {4}cpu: \d+$/,
      /^ {14}(?:count: {4}|high: {5}|batch: {4}|high_min: |high_max: )\d+$/,
      /^ {2}vm stats threshold: \d+$/,
      /^ {2}node_unreclaimable: {2}\d+$/,
      /^ {2}start_pfn: {11}\d+$/,
    ];
    for (const l of text)
      expect(
        shapes.some((r) => r.test(l)),
        l,
      ).toBe(true);
    // The field names in the 8-space block are padded to 9 ("min      ", "promo    ").
    for (const l of text.filter((x) => /^ {8}[a-z]+ +\d+$/.test(x))) expect(l.indexOf(/\d/.exec(l)![0])).toBe(17);
    const linux = real(`${LINUX618}/zoneinfo.txt`);
    for (const l of linux)
      expect(
        shapes.some((r) => r.test(l)),
        l,
      ).toBe(true);
  });

  it('line by line the shape and item names of a real 6.18 (2 CPUs, DMA, DMA32 and Normal populated)', () => {
    // The recorded machine has 2 CPUs and memory in DMA, DMA32 and Normal, as M144 has: with every
    // number replaced, each line of kmem's file is the real one, the per-node stats under DMA.
    const { k } = booted(boot(M144));
    const shape = (l: string) => l.replace(/\d+/g, 'N');
    const kmem = k.proc.read('/proc/zoneinfo').slice(0, -1).split('\n');
    expect(kmem.map(shape)).toEqual(real(`${LINUX618}/zoneinfo.txt`).map(shape));
  });
});

// ───────────────────────── /proc/vmstat ─────────────────────────

describe('/proc/vmstat', () => {
  const value = (k: Kernel, name: string) => Number(new RegExp(`(?:^|\\n)${name} (\\d+)\\n`).exec(k.proc.read('/proc/vmstat'))![1]);

  it('"%s %lu" lines (seq_put_decimal_ull), the deprecated nr_unstable last; the names of a real 6.18 in its order', () => {
    const { k } = booted(boot({ memory: '128M' }));
    const text = k.proc.read('/proc/vmstat');
    expect(text.endsWith('\nnr_unstable 0\n')).toBe(true);
    const lines = text.slice(0, -1).split('\n');
    for (const l of lines) expect(l).toMatch(/^[a-z0-9_]+ \d+$/);
    expect(lines[0]).toMatch(/^nr_free_pages \d+$/);
    const linux = real(`${LINUX618}/vmstat.txt`);
    for (const l of linux) expect(l).toMatch(/^[a-z0-9_]+ \d+$/);
    expect(lines.map((l) => l.split(' ')[0])).toEqual(linux.map((l) => l.split(' ')[0]));
  });

  it('counts as the kernel does: nr_free_pages the buddy pages, pgalloc_<zone> pages, pgfree pages (boot frees too), numa_hit allocations', () => {
    const b = booted(boot(M144));
    const { k } = b;
    // After boot every managed page has been freed once (__free_pages_core counts PGFREE).
    expect(value(k, 'pgfree')).toBe(4095 + 28672 + 4096);
    expect(value(k, 'nr_free_pages')).toBe(4095 + 28672 + 4096 - b.boot.length);
    const v0 = { a: value(k, 'pgalloc_dma32'), f: value(k, 'pgfree'), h: value(k, 'numa_hit'), d: value(k, 'pgalloc_dma') };
    const a = k.allocPages(3, GFP_KERNEL | __GFP_DMA32);
    const c = k.allocPages(0, GFP_KERNEL | __GFP_DMA32);
    const d = k.allocPages(10, GFP_DMA);
    expect(value(k, 'pgalloc_dma32') - v0.a).toBe(8 + 1);
    expect(value(k, 'pgalloc_dma') - v0.d).toBe(1024);
    // zone_statistics(preferred, zone, 1): one per allocation, whatever its order.
    expect(value(k, 'numa_hit') - v0.h).toBe(3);
    k.freePages(a, 3);
    k.freePages(c, 0);
    k.freePages(d, 10);
    expect(value(k, 'pgfree') - v0.f).toBe(8 + 1 + 1024);
    // nr_free_pages counts the buddy lists only: the pages a and c left on CPU 0's lists are missing until drained.
    expect(value(k, 'nr_free_pages')).toBeLessThan(4095 + 28672 + 4096 - b.boot.length);
    k.drainAllPages();
    expect(value(k, 'nr_free_pages')).toBe(4095 + 28672 + 4096 - b.boot.length);
  });
});

// ───────────────────────── debugfs extfrag ─────────────────────────

describe('/sys/kernel/debug/extfrag', () => {
  const UNUSABLE = /^Node \d+, zone [ A-Za-z0-9]{8} (?:\d\.\d{3} ){11}$/; // "%d.%03d "
  const EXTFRAG = /^Node \d+, zone [ A-Za-z0-9]{8} (?:(?:-1| [01])\.\d{3} ){11}$/; // "%2d.%03d "

  /**
   * DMA filled completely; DMA32 filled completely, then 40 isolated pages and
   * 5 isolated order-2 blocks given back: free_pages 60 in 45 blocks.
   */
  function fragmented(): Kernel {
    const { k } = booted(boot(M144));
    while (k.allocPages(0, GFP_DMA | __GFP_MEMALLOC | __GFP_NOWARN) !== 0);
    const byPfn = new Map<number, number>();
    for (;;) {
      const a = k.allocPages(0, GFP_KERNEL | __GFP_DMA32 | __GFP_MEMALLOC | __GFP_NOWARN);
      if (a === 0) break;
      byPfn.set(a / 4096, a);
    }
    expect(byPfn.size).toBe(28672);
    for (let i = 0; i < 40; i++) k.freePages(byPfn.get(4096 + 2 * i)!, 0);
    for (let j = 0; j < 5; j++) for (let i = 0; i < 4; i++) k.freePages(byPfn.get(4096 + 1024 + 16 * j + i)!, 0);
    k.drainAllPages();
    expect(k.proc.read('/proc/buddyinfo').split('\n')[1]).toBe(
      'Node 0, zone    DMA32     40      0      5      0      0      0      0      0      0      0      0 ',
    );
    return k;
  }

  it('boot state: unusable_index of DMA by hand, DMA32 all zero; every order satisfiable (-1.000)', () => {
    const { k } = booted(boot(M144));
    // DMA: 4095 free pages; at order o the pages in blocks smaller than 2^o are 2^o - 1:
    // (2^o - 1) * 1000 / 4095 -> 0, 0, 0, 1, 3, 7, 15, 31, 62, 124, 249.
    const lines = k.proc.read('/sys/kernel/debug/extfrag/unusable_index').split('\n');
    expect(lines[0]).toBe('Node 0, zone      DMA 0.000 0.000 0.000 0.001 0.003 0.007 0.015 0.031 0.062 0.124 0.249 ');
    expect(lines[1]).toBe('Node 0, zone    DMA32 0.000 0.000 0.000 0.000 0.000 0.000 0.000 0.000 0.000 0.000 0.000 ');
    for (const l of lines.slice(0, -1)) expect(l).toMatch(UNUSABLE);
    const ext = k.proc.read('/sys/kernel/debug/extfrag/extfrag_index').split('\n');
    expect(ext[0]).toBe('Node 0, zone      DMA -1.000 -1.000 -1.000 -1.000 -1.000 -1.000 -1.000 -1.000 -1.000 -1.000 -1.000 ');
    for (const l of ext.slice(0, -1)) expect(l).toMatch(EXTFRAG);
  });

  it('a fragmented zone: the unusable free space index and the fragmentation index by hand', () => {
    const k = fragmented();
    // free_pages 60, free_blocks_total 45. Orders 1 and 2: only the 5 order-2 blocks (20 pages)
    // are usable: (60 - 20) * 1000 / 60 = 666. From order 3 nothing is: 1000.
    const un = k.proc.read('/sys/kernel/debug/extfrag/unusable_index').split('\n');
    expect(un[0]).toBe('Node 0, zone      DMA 1.000 1.000 1.000 1.000 1.000 1.000 1.000 1.000 1.000 1.000 1.000 ');
    expect(un[1]).toBe('Node 0, zone    DMA32 0.000 0.666 0.666 1.000 1.000 1.000 1.000 1.000 1.000 1.000 1.000 ');
    // __fragmentation_index(): -1000 while a suitable block exists (orders 0..2); then
    // 1000 - (1000 + 60 * 1000 / 2^o) / 45:
    //   o=3: 1000 - 8500/45 = 812; o=4: 1000 - 4750/45 = 895; o=5: 1000 - 2875/45 = 937;
    //   o=6: 1000 - 1937/45 = 957; o=7: 1000 - 1468/45 = 968; o=8: 1000 - 1234/45 = 973;
    //   o=9: 1000 - 1117/45 = 976; o=10: 1000 - 1058/45 = 977.
    // DMA has no free block at all: 0 at every order.
    const ex = k.proc.read('/sys/kernel/debug/extfrag/extfrag_index').split('\n');
    expect(ex[0]).toBe('Node 0, zone      DMA  0.000  0.000  0.000  0.000  0.000  0.000  0.000  0.000  0.000  0.000  0.000 ');
    expect(ex[1]).toBe('Node 0, zone    DMA32 -1.000 -1.000 -1.000  0.812  0.895  0.937  0.957  0.968  0.973  0.976  0.977 ');
    for (const l of un.slice(0, -1)) expect(l).toMatch(UNUSABLE);
    for (const l of ex.slice(0, -1)) expect(l).toMatch(EXTFRAG);
  });
});

// ───────────────────────── boot messages ─────────────────────────

describe('boot dmesg lines', () => {
  const bootLines = (k: Kernel) => k.dmesg().map((l) => l.replace(/^\[\s*\d+\.\d{6}\] /, ''));

  it('128M: zone ranges, node ranges, zonelists and the Memory line', () => {
    const k = boot({ memory: '128M' });
    const l = bootLines(k);
    const at = l.indexOf('Zone ranges:');
    expect(l.slice(at, at + 11)).toEqual([
      'Zone ranges:',
      '  DMA      [mem 0x0000000000001000-0x0000000000ffffff]',
      '  DMA32    [mem 0x0000000001000000-0x0000000007ffffff]',
      '  Normal   empty',
      '  Device   empty',
      'Movable zone start for each node',
      'Early memory node ranges',
      '  node   0: [mem 0x0000000000001000-0x0000000007ffffff]',
      'Initmem setup node 0 [mem 0x0000000000001000-0x0000000007ffffff]',
      // 4095 + 28672 managed pages; nothing reserved (pfn 0 is not present in any zone).
      'Built 1 zonelists, mobility grouping on.  Total pages: 32767',
      'Policy zone: DMA32',
    ]);
    expect(l).toContain('Memory: 131068K/131068K available (0K kernel code, 0K rwdata, 0K rodata, 0K init, 0K bss, 0K reserved, 0K cma-reserved)');
    // Every boot line is printed at time 0.
    for (const line of k.dmesg().slice(0, at + 11)) expect(line.startsWith('[    0.000000] ')).toBe(true);
  });

  it('with a Normal zone: its range, and the policy zone is Normal', () => {
    const l = bootLines(boot(M144));
    expect(l).toContain('  Normal   [mem 0x0000000008000000-0x0000000008ffffff]');
    expect(l).toContain('Built 1 zonelists, mobility grouping on.  Total pages: 36863');
    expect(l).toContain('Policy zone: Normal');
    expect(l).toContain('Memory: 147452K/147452K available (0K kernel code, 0K rwdata, 0K rodata, 0K init, 0K bss, 0K reserved, 0K cma-reserved)');
  });

  it("the shapes match a real 6.18's boot lines", () => {
    const linux = real(`${LINUX618}/dmesg-boot.txt`);
    const kmem = bootLines(boot({ memory: '128M' }));
    const shapes: [RegExp, string][] = [
      [/^Zone ranges:$/, 'Zone ranges:'],
      [/^ {2}(?:DMA|DMA32|Normal|Device) +\[mem 0x[0-9a-f]{16}-0x[0-9a-f]{16}\]$/, '  DMA32'],
      [/^ {2}(?:Normal|Device) {3}empty$/, '  Device'],
      [/^ {2}node {3}0: \[mem 0x[0-9a-f]{16}-0x[0-9a-f]{16}\]$/, '  node'],
      [/^Initmem setup node 0 \[mem 0x[0-9a-f]{16}-0x[0-9a-f]{16}\]$/, 'Initmem'],
      [/^Built 1 zonelists, mobility grouping on\. {2}Total pages: \d+$/, 'Built'],
      [/^Policy zone: (?:DMA32|Normal)$/, 'Policy'],
      [/^Memory: \d+K\/\d+K available \(\d+K kernel code, \d+K rwdata, \d+K rodata, \d+K init, \d+K bss, \d+K reserved, \d+K cma-reserved\)$/, 'Memory:'],
    ];
    for (const [re, start] of shapes) {
      expect(
        kmem.some((l) => re.test(l)),
        start,
      ).toBe(true);
      const o = linux.map((x) => x.replace(/^\[\s*\d+\.\d{6}\] /, '')).filter((x) => x.startsWith(start));
      expect(o.length, start).toBeGreaterThan(0);
      for (const x of o) expect(x).toMatch(re);
    }
  });
});
