/**
 * Dropped trace files: kmem ftrace text and malloc traces become operations
 * whose handles pair each allocation with its free.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { Session } from '../../web/model/session.js';
import { looksLikeMallocTrace, TraceConverter, traceToOps } from '../../web/model/traces.js';

/** The malloc trace kmem ships as a sample. */
const SAMPLE_MALLOC_TRACE = fileURLToPath(new URL('../../src/trace/samples/sample.trace', import.meta.url));

const FTRACE = [
  '# tracer: nop',
  '#',
  '            bash-4021    [001] .....   123.456789: kmalloc: call_site=load_elf_binary+0x2d1/0x1700 ptr=ffff9a3c41f2e400 bytes_req=112 bytes_alloc=128 gfp_flags=GFP_KERNEL node=-1 accounted=false',
  '           mount-901     [000] .....   310.5: kmem_cache_alloc: call_site=alloc_inode+0x5e/0xc0 ptr=ffff8881056c2d00 name=ext4_inode_cache bytes_req=1176 bytes_alloc=1184 gfp_flags=GFP_KERNEL node=-1 accounted=true',
  '   systemd-udevd-311   [000] ...1    42.001337: kmem_cache_alloc: call_site=__alloc_file+0x21/0xf0 ptr=00000000a1b2c3d4 bytes_req=232 bytes_alloc=256 gfp_flags=GFP_KERNEL|__GFP_ZERO',
  '            bash-4021    [003] .....   123.456800: kfree: call_site=free_bprm+0x6a/0x90 ptr=ffff9a3c41f2e400',
  '           mount-901     [002] .....   310.6: kmem_cache_free: call_site=evict+0x1/0x2 ptr=ffff8881056c2d00 name=ext4_inode_cache',
  '            bash-4021    [001] .....   123.5: kfree: call_site=x+0x1/0x2 ptr=ffff9a3c00000040',
  '            bash-4021    [001] .....   123.6: mm_page_alloc: page=0000000012345678 pfn=0x1a2b3 order=2 migratetype=1 gfp_flags=GFP_HIGHUSER_MOVABLE',
  '            bash-4021    [001] .....   123.7: mm_page_free: page=0000000012345678 pfn=0x1a2b3 order=2',
  '            bash-4021    [001] .....   123.8: sched_switch: prev_comm=bash',
].join('\n');

describe('kmem ftrace', () => {
  it('pairs allocations and frees by pointer and pfn, creates named caches, keeps the CPU', () => {
    const r = traceToOps(FTRACE, 2);
    expect(r.kind).toBe('kmem');
    expect(r.ops).toEqual([
      { t: 'kmalloc', cpu: 1, size: 112, h: 1 },
      { t: 'create', name: 'ext4_inode_cache', size: 1184 },
      { t: 'alloc', cpu: 0, cache: 'ext4_inode_cache', h: 2 },
      { t: 'create', name: 'cache-256', size: 256 },
      { t: 'alloc', cpu: 0, cache: 'cache-256', h: 3 },
      { t: 'free', cpu: 1, h: 1 },
      { t: 'free', cpu: 0, h: 2 },
      { t: 'pages', cpu: 1, order: 2, gfp: expect.any(Number), h: 4 },
      { t: 'freepages', cpu: 1, h: 4 },
    ]);
    expect(r.unmatched).toBe(1);
    expect(r.skipped).toBeGreaterThanOrEqual(1);
    const s = new Session({ memory: '32M', cpus: 2, seed: 1, kasan: false }, null, r.ops);
    s.seek(r.ops.length);
    // The trace's cache exists (merged into a compatible cache, if the kernel would).
    expect(s.k.kmemCacheByName('ext4_inode_cache')).toBeGreaterThanOrEqual(0);
    expect(s.lastError).toBeNull();
    expect(s.addrOf(3)).toBeGreaterThan(0);
    expect(s.addrOf(1)).toBe(0);
  });

  it('stops at the operation limit', () => {
    const conv = new TraceConverter('kmem', 1, 2);
    for (const l of FTRACE.split('\n')) conv.line(l);
    // The event that crosses the limit is kept whole (a cache creation and its allocation).
    expect(conv.ops).toHaveLength(3);
    expect(conv.truncated).toBe(true);
  });
});

describe('malloc trace', () => {
  it('turns the sample trace into kmalloc and kfree on CPU 0 and replays it without errors', () => {
    const text = readFileSync(SAMPLE_MALLOC_TRACE, 'utf8');
    expect(looksLikeMallocTrace(text)).toBe(true);
    expect(looksLikeMallocTrace(FTRACE)).toBe(false);
    const r = traceToOps(text, 2);
    expect(r.kind).toBe('malloc');
    expect(r.bad).toBe(0);
    expect(r.ops[0]).toEqual({ t: 'kmalloc', cpu: 0, size: 312, h: 1 });
    const frees = r.ops.filter((o) => o.t === 'free');
    expect(frees.length).toBeGreaterThan(5);
    const s = new Session({ memory: '32M', cpus: 2, seed: 1, kasan: false }, null, r.ops);
    s.seek(r.ops.length);
    expect(s.pos).toBe(r.ops.length);
    expect(s.lastError).toBeNull();
  });

  it('counts lines it does not understand and frees of blocks it never saw', () => {
    const r = traceToOps('Alloc(10),\nFree(0),\nFree(7),\nbogus\n', 1);
    expect(r.ops).toEqual([
      { t: 'kmalloc', cpu: 0, size: 10, h: 1 },
      { t: 'free', cpu: 0, h: 1 },
    ]);
    expect(r.unmatched).toBe(1);
    expect(r.bad).toBe(1);
  });
});
