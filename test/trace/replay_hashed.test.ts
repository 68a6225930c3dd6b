/**
 * Slab pages on a trace with hashed pointers (no no_hash_pointers): %p
 * prints a 32-bit hash, so an object tells nothing of its page. A traced
 * block is taken for a slab page by how 6.1's allocate_slab fetched it:
 * the next slab allocation on the same CPU is from a cache of the block's
 * order, and the gfp is allocate_slab's first try (the cache's flags |
 * __GFP_NOWARN | __GFP_NORETRY, __GFP_COMP exactly when the order is above
 * 0); a large kmalloc's block (kmalloc_large: gfp | __GFP_COMP) is the one
 * right before it, of its order. Such blocks are left to kmem's SLUB.
 *
 * The excerpt below is made by hand in 6.1's format; every expected count
 * is worked from those rules and 6.1's kmalloc geometry (kmalloc-64 order
 * 0, kmalloc-512 order 1: the real 6.1 machine's slabinfo shows 1 and 2
 * pages per slab).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { replayTraceFile } from '../../src/trace/replay.js';

const HEAD = `# tracer: nop
#
# entries-in-buffer/entries-written: 18/18   #P:2
#
#           TASK-PID     CPU#  |||||  TIMESTAMP  FUNCTION
#              | |         |   |||||     |         |
`;
const ev = (cpu: number, ts: string, body: string) => `            bash-100     [00${cpu}] .....     ${ts}: ${body}\n`;
const NOWARN = 'GFP_KERNEL|__GFP_NOWARN|__GFP_NORETRY';
const EXCERPT =
  HEAD +
  // A: order 0, allocate_slab's gfp, then a kmalloc-64 object (order 0): a slab page
  ev(0, '1.000001', `mm_page_alloc: page=000000009f3a11c2 pfn=0x10000 order=0 migratetype=0 gfp_flags=${NOWARN}`) +
  ev(
    0,
    '1.000002',
    'kmalloc: call_site=load_elf_phdrs+0x4a/0xb0 ptr=00000000c0ffee01 bytes_req=56 bytes_alloc=64 gfp_flags=GFP_KERNEL node=-1 accounted=false',
  ) +
  // B: order 1, __GFP_COMP and the first try's reclaim bits cleared (order above the minimum), then kmalloc-512 (order 1): a slab page
  ev(
    0,
    '1.000003',
    'mm_page_alloc: page=000000004d2c7a10 pfn=0x10002 order=1 migratetype=0 gfp_flags=__GFP_IO|__GFP_FS|__GFP_NOWARN|__GFP_NORETRY|__GFP_COMP|__GFP_NOMEMALLOC',
  ) +
  ev(
    0,
    '1.000004',
    'kmalloc: call_site=seq_read_iter+0x2f/0x440 ptr=00000000aa55aa02 bytes_req=400 bytes_alloc=512 gfp_flags=GFP_KERNEL node=-1 accounted=false',
  ) +
  // C: a plain GFP_KERNEL page, then a kmalloc-64 object: not a slab's (no __GFP_NOWARN|__GFP_NORETRY)
  ev(0, '1.000005', 'mm_page_alloc: page=0000000071b0c3d4 pfn=0x10004 order=0 migratetype=0 gfp_flags=GFP_KERNEL') +
  ev(
    0,
    '1.000006',
    'kmalloc: call_site=load_elf_phdrs+0x4a/0xb0 ptr=00000000c0ffee03 bytes_req=56 bytes_alloc=64 gfp_flags=GFP_KERNEL node=-1 accounted=false',
  ) +
  // D: allocate_slab's gfp at order 0, then a kmalloc-512 object (order 1): not its slab
  ev(0, '1.000007', `mm_page_alloc: page=00000000e1e2e3e4 pfn=0x10005 order=0 migratetype=0 gfp_flags=${NOWARN}`) +
  ev(
    0,
    '1.000008',
    'kmalloc: call_site=seq_read_iter+0x2f/0x440 ptr=00000000aa55aa04 bytes_req=400 bytes_alloc=512 gfp_flags=GFP_KERNEL node=-1 accounted=false',
  ) +
  // E: on CPU 1, the next object on CPU 0: not paired
  ev(1, '1.000009', `mm_page_alloc: page=0000000012121212 pfn=0x10006 order=0 migratetype=0 gfp_flags=${NOWARN}`) +
  ev(
    0,
    '1.000010',
    'kmalloc: call_site=load_elf_phdrs+0x4a/0xb0 ptr=00000000c0ffee05 bytes_req=56 bytes_alloc=64 gfp_flags=GFP_KERNEL node=-1 accounted=false',
  ) +
  // F: order 2 with __GFP_COMP, then a 16000-byte kmalloc on that CPU (kmalloc_large, order 2): a large kmalloc's block
  ev(1, '1.000011', 'mm_page_alloc: page=0000000034343434 pfn=0x10008 order=2 migratetype=0 gfp_flags=GFP_KERNEL|__GFP_COMP') +
  ev(
    1,
    '1.000012',
    'kmalloc: call_site=kvmalloc_node+0x43/0xd0 ptr=0000000056565656 bytes_req=16000 bytes_alloc=16384 gfp_flags=GFP_KERNEL node=-1 accounted=false',
  ) +
  // every block freed: A, B and F's frees are kmem SLUB's own business, C, D and E's are performed
  ev(0, '1.000013', 'mm_page_free: page=000000009f3a11c2 pfn=0x10000 order=0') +
  ev(0, '1.000014', 'mm_page_free: page=000000004d2c7a10 pfn=0x10002 order=1') +
  ev(0, '1.000015', 'mm_page_free: page=0000000071b0c3d4 pfn=0x10004 order=0') +
  ev(0, '1.000016', 'mm_page_free: page=00000000e1e2e3e4 pfn=0x10005 order=0') +
  ev(1, '1.000017', 'mm_page_free: page=0000000012121212 pfn=0x10006 order=0') +
  ev(1, '1.000018', 'mm_page_free: page=0000000034343434 pfn=0x10008 order=2');

describe('slab pages on a hashed-pointer trace', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'kmem-hashed-'));
  const file = join(tmp, 'hashed.txt');
  writeFileSync(file, EXCERPT);
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  for (const twoPass of [true, false]) {
    it(`recognised by gfp, order and the next allocation on the CPU (${twoPass ? 'a file' : 'a pipe'}): A, B and F, 7 pages; C, D and E stay traced pages`, async () => {
      const r = await replayTraceFile(file, { boot: { memory: '128M', cpus: 2, kernel: '6.1' }, twoPass });
      expect(r.read.events).toBe(18);
      const p = r.replayer.report().pages;
      expect(p.slabPages).toEqual({ blocks: 3, pages: 1 + 2 + 4, directBase: -1 });
      expect(p.frees).toBe(3);
      expect(p.unknownFrees).toBe(0);
      expect(p.live.final).toBe(0);
      // the geometry the rules above rely on
      const order = (n: string) => r.kernel.inspect.cacheGeometry(r.kernel.kmemCacheByName(n)).order;
      expect([order('kmalloc-64'), order('kmalloc-512')]).toEqual([0, 1]);
    });
  }

  it('the same events with raw pointers are not taken for hashed ones (no block given back without the direct map base)', async () => {
    const raw = EXCERPT.replace(/ptr=00000000([0-9a-f]{8})/g, 'ptr=ffff8ad3$1');
    const f = join(tmp, 'raw.txt');
    writeFileSync(f, raw);
    const r = await replayTraceFile(f, { boot: { memory: '128M', cpus: 2, kernel: '6.1' } });
    const p = r.replayer.report().pages;
    // these raw pointers lie in no traced block at any 1 GiB-aligned base, so the exact way finds none
    expect(p.slabPages.blocks).toBe(0);
    expect(p.frees).toBe(6);
  });
});
