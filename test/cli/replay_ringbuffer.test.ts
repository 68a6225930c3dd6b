/**
 * `kmem replay` and what existed before the trace's first event (issue 16):
 * the boot CPU's ftrace ring buffers, read off the buffers the trace shows
 * a CPU getting when it came up (or --ring-buffer-kb), and the caches born
 * before the trace, marked '^'. Run in-process (runReplay, formatReplay).
 * Figures by hand: on the 6.1 fixture CPU 1 gets three buffers of 2, 4113
 * and 2 data pages; each buffer has a reader page too, so 4117 + 3 = 4120
 * pages, and a buffer_page per page plus a descriptor per buffer, 4120 + 3
 * = 4123 objects. buffer_size_kb 7: (n * 4080) >> 10 = 7 for n = 2 only;
 * 1021 is printed by no n (250 pages read 996, 251 read 1000, ... 256 read
 * 1020 and 257 read 1024).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { brotliDecompressSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UsageError } from '../../src/cli/machine.js';
import { formatReplay, type ReplayOutput, runReplay } from '../../src/cli/replay_cmd.js';
import { oneCpuRingBuffers, ringBuffersOfFile, traceRingBuffers } from '../../src/trace/ring_buffer.js';
import { countCacheCreations, matchSlabinfo } from '../trace/oracle_compare.js';
import { root } from './helpers.js';

const tmp = mkdtempSync(join(tmpdir(), 'kmem-rb-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const HEADER = '# tracer: nop\n#\n# entries-in-buffer/entries-written: 9/9   #P:2\n#\n';
const ev = (t: number, body: string) => `            bash-1     [000] .....     1.${String(t).padStart(6, '0')}: ${body}\n`;
const rb = (t: number, site: 'rb_allocate_cpu_buffer' | '__rb_allocate_pages', ptr: number) =>
  ev(
    t,
    `kmalloc: call_site=${site}+0x5d/0x2a0 ptr=ffff8ad3${ptr.toString(16).padStart(8, '0')} bytes_req=${site === '__rb_allocate_pages' ? 40 : 512} bytes_alloc=${site === '__rb_allocate_pages' ? 64 : 512} gfp_flags=GFP_KERNEL|__GFP_ZERO node=0 accounted=false`,
  );

describe('the ring buffers a trace shows (src/trace/ring_buffer.ts)', () => {
  it('counts each buffer by its descriptor and the buffer_pages after it; one CPU is the shortest period', () => {
    // two CPUs come up, each getting buffers of 2, 3 and 2 data pages; a 512-byte kmalloc of another site is not a descriptor
    let text = HEADER;
    let t = 0;
    for (let cpu = 0; cpu < 2; cpu++)
      for (const n of [2, 3, 2]) {
        text += rb(t++, 'rb_allocate_cpu_buffer', t * 4096);
        for (let i = 0; i < n; i++) text += rb(t++, '__rb_allocate_pages', t * 64);
      }
    text += ev(
      t++,
      'kmalloc: call_site=rb_allocate_cpu_buffer+0x10/0x2a0 ptr=ffff8ad300100000 bytes_req=64 bytes_alloc=64 gfp_flags=GFP_KERNEL node=0 accounted=false',
    );
    expect(traceRingBuffers(text, 99)).toEqual([2, 3, 2, 2, 3, 2]);
    expect(traceRingBuffers(text, 2)).toEqual([2, 3]);
    expect(oneCpuRingBuffers([2, 3, 2, 2, 3, 2])).toEqual([2, 3, 2]);
    expect(oneCpuRingBuffers([2, 3, 2])).toEqual([2, 3, 2]);
    expect(oneCpuRingBuffers([])).toEqual([]);
    const f = join(tmp, 'rb.txt');
    writeFileSync(f, text);
    expect(ringBuffersOfFile(f)).toEqual([2, 3, 2]);
    expect(() => traceRingBuffers(text, Number.NaN)).toThrow(RangeError);
  });
});

describe('caches born before the trace, on a hand-made trace', () => {
  // foo: created in the trace (its descriptor allocated first), then used; bar: only used, and it frees an object the trace never saw allocated
  const text =
    HEADER +
    ev(
      1,
      'kmem_cache_alloc: name=kmem_cache call_site=kmem_cache_create_usercopy+0x1d1/0x330 ptr=ffff9e0e85700100 bytes_req=224 bytes_alloc=256 gfp_flags=GFP_KERNEL|__GFP_ZERO node=-1 accounted=false',
    ) +
    ev(
      2,
      'kmem_cache_alloc: name=foo call_site=foo_new+0x1d/0x30 ptr=ffff9e0e85800000 bytes_req=64 bytes_alloc=64 gfp_flags=GFP_KERNEL node=-1 accounted=false',
    ) +
    ev(
      3,
      'kmem_cache_alloc: name=bar call_site=bar_new+0x1d/0x30 ptr=ffff9e0e85900000 bytes_req=128 bytes_alloc=128 gfp_flags=GFP_KERNEL node=-1 accounted=false',
    ) +
    ev(4, 'kmem_cache_free: call_site=bar_del+0x1d/0x30 ptr=ffff9e0e85a00000 name=bar') +
    ev(5, 'kmem_cache_free: call_site=foo_del+0x1d/0x30 ptr=ffff9e0e85800000 name=foo') +
    ev(6, 'kmalloc: call_site=x_new+0x1d/0x30 ptr=ffff9e0e85b00000 bytes_req=30 bytes_alloc=32 gfp_flags=GFP_KERNEL node=-1 accounted=false');
  let r: ReplayOutput;
  beforeAll(async () => {
    const f = join(tmp, 'born.txt');
    writeFileSync(f, text);
    r = await runReplay(f, { seed: '1', mem: '128M' });
  });

  it('marks bar (it frees an object older than the trace) and kmalloc-32 (made at boot), not foo', () => {
    const born = (name: string) => r.report.caches.find((c) => c.name === name)?.bornBeforeTrace;
    expect(born('foo')).toBe(false);
    expect(born('bar')).toBe(true);
    expect(born('kmalloc-32')).toBe(true);
    const out = formatReplay(r, 20, false);
    const rows = out.split('\n');
    expect(rows.some((l) => /^bar\^ +1 /.test(l))).toBe(true);
    expect(rows.some((l) => /^foo +1 /.test(l))).toBe(true);
    expect(rows).toContain('^ born before the trace began: its counts include objects the trace never saw');
    // the trace shows no ring buffers: no line about them
    expect(r.ringBuffer).toBeNull();
    expect(out).not.toContain('before the trace:');
    expect(r.report.pages.preTrace).toEqual({ ringBufferPages: 0, objects: 0 });
  });
});

describe('the 6.1 fixture (a complete trace of a 2-CPU 512M machine)', () => {
  const file = join(tmp, 'trace61.txt');
  let text = '';
  let r: ReplayOutput;
  beforeAll(async () => {
    const buf = brotliDecompressSync(readFileSync(join(root, 'test/fixtures/trace/linux-6.1-qemu-2cpu-512M-full.txt.br')));
    writeFileSync(file, buf);
    text = buf.toString('latin1');
    r = await runReplay(file, { seed: '1', mem: '512M' });
  }, 300_000);

  it("allocates the boot CPU's ring buffers as CPU 1 got them, and says so", () => {
    expect(r.ringBuffer).toEqual({ buffers: [2, 4113, 2], from: 'trace' });
    expect(r.report.pages.preTrace).toEqual({ ringBufferPages: 4120, objects: 4123 });
    expect(formatReplay(r, 20, false).split('\n')).toContain(
      "before the trace: 4120 pages, 4123 objects of the boot CPU's ftrace ring buffers (buffers of 2, 4113 and 2 data pages and a reader page each, from the buffers the trace shows a CPU getting when it came up)",
    );
  });

  it('--ring-buffer-kb 7: the main buffer has 2 data pages', async () => {
    const small = await runReplay(file, { seed: '1', mem: '512M', ringBufferKb: '7' });
    expect(small.ringBuffer).toEqual({ buffers: [2, 2, 2], from: 'option+trace' });
    // three buffers of 2 data pages and a reader page; a buffer_page for each and three descriptors
    expect(small.report.pages.preTrace).toEqual({ ringBufferPages: 9, objects: 12 });
    expect(formatReplay(small, 20, false)).toContain('before the trace: 9 pages, 12 objects');
  }, 300_000);

  it('--ring-buffer-kb 1021 (no buffer prints it): a one-line error, exit 2', async () => {
    const err = await runReplay(file, { seed: '1', mem: '512M', ringBufferKb: '1021' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UsageError);
    expect((err as UsageError).exitCode).toBe(2);
    expect((err as UsageError).message).toMatch(/^--ring-buffer-kb: no ring buffer has buffer_size_kb '1021'[^\n]*$/);
    for (const bad of ['0', '-4', 'x', '1.5']) await expect(runReplay(file, { seed: '1', ringBufferKb: bad })).rejects.toThrow(/^--ring-buffer-kb: /);
  });

  it("the marked caches are among the oracle's born before tracing", () => {
    const real = readFileSync(join(root, 'test/fixtures/oracle-6.1-2cpu-512M/slabinfo.txt'), 'utf8');
    const before = new Set(matchSlabinfo(real, r.slabinfo, countCacheCreations(text)).bornBefore);
    const marked = r.report.caches.filter((c) => c.bornBeforeTrace).map((c) => c.name);
    expect(marked.length).toBeGreaterThan(0);
    expect(marked.filter((n) => !before.has(n))).toEqual([]);
    // every kmalloc cache (made at boot) and maple_node (the trace frees maple nodes it never saw allocated) are marked
    for (const c of r.report.caches) if (/^kmalloc-/.test(c.name)) expect(c.bornBeforeTrace, c.name).toBe(true);
    expect(marked).toContain('maple_node');
    expect(marked).toContain('kmem_cache_node');
    // a notion by evidence, so a subset: caches of the oracle's 61 the trace uses but never frees a pre-trace object of (vmap_area, mm_struct, ...) stay unmarked
    expect(marked.length).toBeLessThan(before.size);
  });
});
