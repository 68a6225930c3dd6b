/**
 * `kmem replay --compare 'allocator=slab' 'allocator=slob'`: one trace
 * replayed under each slab allocator design, each summed up in its own
 * terms. Expectations worked by hand from 6.3's mm/slob.c and 6.4's
 * mm/slab.c on a ten-line trace, one CPU:
 *
 *   1  kmalloc(100)   A     5  kmalloc(500)   D     8  kfree(D)
 *   2  kmalloc(200)   B     6  kmalloc(3000)  E     9  kfree(F)
 *   3  kmalloc(64)    C     7  kmalloc(5000)  F    10  kmalloc(100)  G
 *   4  kfree(A)
 *
 * SLOB (__do_kmalloc_node: a block of size + 8 with the size in its first
 * word; align 8, or the size for a power of two; SLOB_UNIT 2 bytes):
 *   1  108 bytes, 54 units, free_slob_small empty: a new page P (slow);
 *      block at offset 0; P has 2048 - 54 = 1994 units free.
 *   2  208 bytes, 104 units: first block of P at 108; aligned so that
 *      block + 8 is 8-aligned -> 112, a 2-unit head fragment stays free;
 *      P: 1994 - 104 = 1890.
 *   3  72 bytes, 36 units, align 64: the 2-unit fragment is too small; the
 *      block at 320 aligns to 376 (376 + 8 = 384); P: 1890 - 36 = 1854.
 *   4  A's 54 units back, merged with the fragment after it: P: 1908.
 *   5  508 bytes (free_slob_medium, empty): a new page Q (slow); Q: 1794.
 *   6  3008 bytes (free_slob_large, empty): a new page R (slow); R: 2048 - 1504 = 544.
 *   7  5000 >= PAGE_SIZE - 8: an order-1 page block straight from the buddy allocator (slow).
 *   8  Q's last block freed: Q goes back to the buddy allocator (slow free).
 *   9  F's pages go back (slow free).
 *  10  108 bytes: P's first block (56 units at 0) fits; P: 1854.
 * End: heap pages P and R, both on their lists: 1854 + 544 units =
 * 4796 free bytes; live B, C, E, G asked for 200 + 64 + 3000 + 100 = 3364;
 * 2 * 4096 - 4796 - 3364 = 32 bytes of headers (4 x 8). Slab: 2 pages, 8 kB.
 * Slow: 4 allocations (P, Q, R, F), 2 frees (Q, F); fast: 3 and 1.
 *
 * SLAB (kmalloc-128, -256, -64, -512, -4096, -8192; each head array
 * starts empty and holds at least 8): each cache's first allocation misses
 * (cache_alloc_refill), 6 in all; G is kmalloc-128's second, served from
 * the head array A was freed onto; no free finds a head array full.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { type CompareOutput, compareConfigs, formatCompare, formatReplay, runReplay } from '../../src/cli/replay_cmd.js';
import { boot } from '../../src/kernel.js';
import { type CompareConfig, type CompareRow, parseCompareSetting, replayCompare } from '../../src/trace/compare.js';
import { replayTraceFile } from '../../src/trace/replay.js';

const tmp = mkdtempSync(join(tmpdir(), 'kmem-compare-designs-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const HEADER = '# tracer: nop\n#\n# entries-in-buffer/entries-written: 10/10   #P:1\n#\n';
const ptr = (i: number) => `ffff8ad3${(0x04000000 + i * 0x2000).toString(16).padStart(8, '0')}`;
const at = (i: number) => `         busybox-771     [000] .....    24.${String(400000 + i).padStart(6, '0')}`;
const kmalloc = (i: number, p: number, req: number, alloc: number) =>
  `${at(i)}: kmalloc: call_site=load_elf_phdrs+0x5a/0xb0 ptr=${ptr(p)} bytes_req=${req} bytes_alloc=${alloc} gfp_flags=GFP_KERNEL node=-1 accounted=false`;
const kfree = (i: number, p: number) => `${at(i)}: kfree: call_site=load_elf_binary+0xcf0/0x1780 ptr=${ptr(p)}`;

function write(name: string, lines: string[]): string {
  const path = join(tmp, name);
  writeFileSync(path, `${HEADER}${lines.join('\n')}\n`);
  return path;
}

const TEN = [
  kmalloc(1, 1, 100, 128),
  kmalloc(2, 2, 200, 256),
  kmalloc(3, 3, 64, 64),
  kfree(4, 1),
  kmalloc(5, 4, 500, 512),
  kmalloc(6, 5, 3000, 4096),
  kmalloc(7, 6, 5000, 8192),
  kfree(8, 4),
  kfree(9, 6),
  kmalloc(10, 7, 100, 128),
];

const cfg = (label: string): CompareConfig => ({ label, boot: parseCompareSetting(label) });

describe('replay --compare across slab allocator designs', { timeout: 60_000 }, () => {
  it('SLOB on a ten-line trace: pages, waste, free-list bytes and page-taking slow paths as worked by hand', async () => {
    const c = await replayCompare(write('ten.txt', TEN), [cfg('allocator=slob')]);
    const r = c.rows[0]!;
    expect(r.allocator).toBe('slob');
    expect(r.machine.cpus).toBe(1);
    expect(r.slab).toEqual({ pages: 2, kB: 8 });
    expect(r.traceSlabPages).toBeNull();
    expect(r.waste).toEqual({ internal: 32, slack: null });
    expect(r.partial).toEqual({ freeBytes: 4796, slabs: 2 });
    expect(r.slowpath).toEqual({ alloc: 4, free: 2 });
    expect(r.fastpath).toEqual({ alloc: 3, free: 1 });
    expect(r.failed).toBe(0);
    expect(r.caches).toEqual([]);
  });

  it('SLAB on the same trace: every cache first allocation refills its head array; no free flushes one', async () => {
    const c = await replayCompare(write('ten-slab.txt', TEN), [cfg('allocator=slab')]);
    const r = c.rows[0]!;
    expect(r.allocator).toBe('slab');
    expect(r.slowpath).toEqual({ alloc: 6, free: 0 });
    expect(r.fastpath).toEqual({ alloc: 1, free: 3 });
    expect(r.caches.map((x) => x.name)).toEqual(['kmalloc-128', 'kmalloc-256', 'kmalloc-4096', 'kmalloc-512', 'kmalloc-64', 'kmalloc-8192']);
    // each live object wastes its slot less what it asked for: 256-200, 64-64, 4096-3000, 128-100
    expect(r.waste.internal).toBe(56 + 0 + 1096 + 28);
    expect(r.waste.slack).not.toBeNull();
    expect(r.traceSlabPages).toBe(r.caches.reduce((a, x) => a + x.slabs * 2 ** x.order, 0));
  });

  it('a SLAB head array that fills flushes a batch: the free that finds it full is a slow free', async () => {
    // kmalloc-8192: size > PAGE_SIZE, so enable_cpucache() gives limit 8, batchcount 4.
    // One object a slab: each of nine allocations finds the head array empty and refills it with
    // a new slab's one object; then nine frees: the ninth finds the array holding 8, its limit.
    const lines: string[] = [];
    for (let i = 0; i < 9; i++) lines.push(kmalloc(i, i, 8000, 8192));
    for (let i = 0; i < 9; i++) lines.push(kfree(10 + i, i));
    const c = await replayCompare(write('flush.txt', lines), [cfg('allocator=slab')]);
    expect(c.rows[0]!.slowpath.alloc).toBe(9);
    expect(c.rows[0]!.slowpath.free).toBe(1);
    expect(c.rows[0]!.fastpath.free).toBe(8);
  });

  it('SLOB frees a cache object by kmem_cache_free: only the cache descriptor stays in the heap', async () => {
    // kmem_cache_create(): a 64-byte descriptor (32 units) from the heap: a new page;
    // the 100-byte object (50 units, align 8) follows it and goes back, so 2048 - 32 units stay free.
    const name = (i: number, kind: string, extra: string) => `${at(i)}: ${kind}: call_site=my_alloc+0x1/0x10 ptr=${ptr(1)} name=my_obj${extra}`;
    const path = write('cache.txt', [
      name(1, 'kmem_cache_alloc', ' bytes_req=100 bytes_alloc=104 gfp_flags=GFP_KERNEL node=-1 accounted=false'),
      name(2, 'kmem_cache_free', ''),
    ]);
    const c = await replayCompare(path, [cfg('allocator=slob')]);
    const r = c.rows[0]!;
    expect(r.partial).toEqual({ freeBytes: 4096 - 64, slabs: 1 });
    expect(r.waste.internal).toBe(64);
    expect(r.slowpath).toEqual({ alloc: 0, free: 0 });
    expect(r.failed).toBe(0);
  });

  it('each design ends as a replay of its own with that allocator (one trace, three machines)', async () => {
    const path = write('ten-all.txt', TEN);
    const c = await replayCompare(path, [cfg('allocator=slab'), cfg('allocator=slob'), cfg('kernel=6.18')]);
    expect(c.rows.map((r) => r.allocator)).toEqual(['slab', 'slob', 'slub']);
    for (const [i, allocator] of (['slab', 'slob'] as const).entries()) {
      const alone = await replayTraceFile(path, { boot: { allocator } });
      const m = /^Slab:\s+(\d+) kB$/m.exec(alone.kernel.proc.read('/proc/meminfo'))!;
      expect(c.rows[i]!.slab.kB).toBe(Number(m[1]));
    }
  });

  it('the table shows - where a design has no figure, and --json keeps them null', async () => {
    const c = await replayCompare(write('ten-table.txt', TEN), [cfg('allocator=slab'), cfg('allocator=slob')]);
    const out: CompareOutput = {
      file: 'ten.txt',
      lines: c.read.lines,
      events: c.read.events,
      skipped: 0,
      parseSeconds: c.parseSeconds,
      header: c.header,
      lostShare: 0,
      configurations: c.rows,
    };
    const text = formatCompare(out, 20);
    const slob = text.split('\n').find((l) => l.startsWith('allocator=slob'))!;
    // CONFIGURATION CPUS SLAB-PAGES SLAB-kB TRACE-PAGES WASTE-INT SLACK ...
    expect(slob.split(/\s+/).slice(1, 7)).toEqual(['1', '2', '8', '-', '32', '-']);
    const slab = text.split('\n').find((l) => l.startsWith('allocator=slab'))!;
    expect(slab.split(/\s+/)[4]).not.toBe('-');
    expect(JSON.parse(JSON.stringify(out)).configurations[1].waste.slack).toBeNull();
  });

  it('kmem replay --allocator: the plain report under SLAB (its /proc/slabinfo) and SLOB (which has none)', async () => {
    const path = write('ten-plain.txt', TEN);
    const slab = await runReplay(path, { seed: '1', allocator: 'slab' });
    expect(slab.report.slab.allocs).toBe(7);
    expect(slab.slabinfo).toMatch(/^slabinfo - version: 2\.1$/m);
    // SLAB's head-array misses as the report's slow allocations: each cache's first (worked above)
    expect(slab.report.caches.reduce((a, c) => a + c.slowpath.alloc, 0)).toBe(6);
    const slob = await runReplay(path, { seed: '1', allocator: 'slob' });
    expect(slob.slabinfo).toBe('');
    expect(slob.report.caches.map((c) => c.name).sort()).toEqual([
      'kmalloc (free_slob_large)',
      'kmalloc (free_slob_medium)',
      'kmalloc (free_slob_small)',
      'kmalloc (pages)',
    ]);
    const text = formatReplay(slob, 20, false);
    expect(text).not.toContain('== /proc/slabinfo');
    expect(text).toContain('== /proc/buddyinfo');
  });

  it('any trace whose objects are all freed: SLOB gives every page back, each page taken is a slow alloc and each given back a slow free; SLAB keeps no object live', async () => {
    let run = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(fc.record({ size: fc.integer({ min: 1, max: 6000 }), freeAt: fc.nat() }), { minLength: 1, maxLength: 40 }), async (ops) => {
        // allocate in order; after each, maybe free a live one; at the end free the rest
        const lines: string[] = [];
        const live: number[] = [];
        let t = 0;
        for (const [i, o] of ops.entries()) {
          lines.push(kmalloc(++t, i, o.size, o.size));
          live.push(i);
          if (o.freeAt % 3 === 0) lines.push(kfree(++t, live.splice(o.freeAt % live.length, 1)[0]!));
        }
        for (const p of live) lines.push(kfree(++t, p));
        const c = await replayCompare(write(`all-freed-${run++}.txt`, lines), [cfg('allocator=slob'), cfg('allocator=slab')]);
        const [slob, slab] = c.rows as [CompareRow, CompareRow];
        expect(slob.slab.kB).toBe(0);
        expect(slob.partial).toEqual({ freeBytes: 0, slabs: 0 });
        expect(slob.waste.internal).toBe(0);
        expect(slob.slowpath.alloc).toBe(slob.slowpath.free);
        expect(slob.failed + slab.failed).toBe(0);
        expect(slab.waste.internal).toBe(0);
        expect(slab.slowpath.alloc).toBeGreaterThan(0);
      }),
      { numRuns: 15 },
    );
  });

  it('--compare takes any allocator and kernel boot() accepts, and refuses what it refuses, naming the setting', () => {
    const { configs } = compareConfigs({ seed: '1', compare: ['allocator=slab', 'allocator=slob', 'kernel=6.18'] });
    expect(configs.map((x) => x.boot.allocator ?? 'slub')).toEqual(['slab', 'slob', 'slub']);
    expect(configs[2]!.boot.kernel).toBe('6.18');
    expect(() => compareConfigs({ seed: '1', compare: ['allocator=slab2'] })).toThrow(/--compare 'allocator=slab2': allocator/);
    // boot() itself checks the value
    expect(() => boot({ allocator: 'slab2' as 'slab' })).toThrow(RangeError);
  });
});
