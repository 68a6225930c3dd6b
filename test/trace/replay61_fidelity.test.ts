/**
 * Fidelity of `kernel: '6.1'` and of replaying a complete real 6.1 trace.
 *
 * The reference is a real machine: Debian's 6.1.0-57 kernel booted by the
 * qemu oracle with 2 CPUs and 512M (test/fixtures/oracle-6.1-2cpu-512M/,
 * its /proc and /sys/kernel/slab files when tracing stopped) and the whole
 * kmem:* trace of that boot and workload (459,273 events, no overrun),
 * test/fixtures/trace/linux-6.1-qemu-2cpu-512M-full.txt.br: the real text,
 * unmodified, brotli-compressed (gzip -9 makes 4.7 MB of it). Every expected
 * figure is read from those files, never from kmem's output.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { brotliDecompressSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { boot } from '../../src/index.js';
import { REAL_CACHES_6_1 } from '../../src/slub/known_caches_6_1.js';
import { SLAB_ACCOUNT, SLAB_HWCACHE_ALIGN, SLAB_RECLAIM_ACCOUNT, SLAB_TYPESAFE_BY_RCU } from '../../src/slub/slab_flags.js';
import { type ReplayFileResult, replayTraceFile, ringBufferPages, traceKernel } from '../../src/trace/replay.js';
import { buddyTotals, countCacheCreations, counter, matchSlabinfo, parseSlabinfo, relDiff, ringBufferKb, traceRingBuffers } from './oracle_compare.js';

const DIR = join(__dirname, '../fixtures/oracle-6.1-2cpu-512M');
const read = (f: string) => readFileSync(join(DIR, f), 'utf8');
const REAL_SLABINFO = read('slabinfo.txt');

/** /sys/kernel/slab of the real machine: one record per directory (merged caches under their unique id). */
function sysfs(): Map<string, Record<string, string>> {
  const [head, ...lines] = read('sys-kernel-slab.tsv').trim().split('\n');
  const cols = head!.split('\t');
  const out = new Map<string, Record<string, string>>();
  for (const l of lines) {
    const f = l.split('\t');
    out.set(f[0]!, Object.fromEntries(cols.map((c, i) => [c, f[i]!])));
  }
  return out;
}
const ALIAS = new Map(
  read('sys-kernel-slab-aliases.txt')
    .trim()
    .split('\n')
    .map((l) => l.split(' -> ') as [string, string]),
);

describe("kernel: '6.1' geometry against the real 6.1 machine", () => {
  it('kmalloc caches and kmem_cache / kmem_cache_node: same rows (objsize, objperslab, pagesperslab) in the same order', () => {
    const k = boot({ kernel: '6.1', cpus: 2, memory: '512M' });
    const boot61 = (t: string) =>
      parseSlabinfo(t)
        .filter((l) => /^(dma-)?kmalloc-|^kmem_cache/.test(l.name))
        .map((l) => l.name);
    const rows = (t: string) => t.split('\n').filter((l) => /^((dma-)?kmalloc-|kmem_cache)/.test(l));
    const geometry = (l: string) =>
      l
        .trim()
        .split(/\s+/)
        .filter((_, i) => i === 0 || (i >= 3 && i <= 5))
        .join(' ');
    const mine = k.proc.read('/proc/slabinfo');
    expect(boot61(mine)).toEqual(boot61(REAL_SLABINFO));
    expect(rows(mine).map(geometry)).toEqual(rows(REAL_SLABINFO).map(geometry));
    // the two that differ from 6.18: kmem_cache_node 64 (6.18: 72 -> 128) and kmalloc-96/192 aligned to 8 (6.18: 32 and 64)
    expect(rows(REAL_SLABINFO).find((l) => l.startsWith('kmem_cache_node '))).toMatch(/^kmem_cache_node\s+\d+\s+\d+\s+64\s+64\s+1 /);
    const k618 = boot({ cpus: 2, memory: '512M' });
    expect(k618.inspect.cacheGeometry(k618.kmemCacheByName('kmem_cache_node')).size).toBe(128);
    expect(k.inspect.cacheGeometry(k.kmemCacheByName('kmalloc-96')).align).toBe(8);
    expect(k618.inspect.cacheGeometry(k618.kmemCacheByName('kmalloc-96')).align).toBe(32);
  });

  it('every cache of the real machine, created with what its sysfs says it was asked for, gets the real slab_size, order and objs_per_slab', () => {
    const sys = sysfs();
    const k = boot({ kernel: '6.1', cpus: 2, memory: '512M', slabNomerge: true });
    let checked = 0;
    for (const { name } of parseSlabinfo(REAL_SLABINFO)) {
      if (/^(dma-)?kmalloc-|^kmem_cache/.test(name)) continue;
      const r = sys.get(ALIAS.get(name) ?? name)!;
      let flags = 0;
      if (r.hwcache_align === '1') flags |= SLAB_HWCACHE_ALIGN;
      if (r.reclaim_account === '1') flags |= SLAB_RECLAIM_ACCOUNT;
      if (r.destroy_by_rcu === '1') flags |= SLAB_TYPESAFE_BY_RCU;
      const h = k.kmemCacheCreate(`${name}-test`, Number(r.object_size), {
        align: Number(r.align),
        flags,
        ...(r.ctor !== '-' ? { ctor: () => {} } : {}),
      });
      const g = k.inspect.cacheGeometry(h);
      expect([name, g.size, g.order, g.objects]).toEqual([name, Number(r.slab_size), Number(r.order), Number(r.objs_per_slab)]);
      checked++;
    }
    expect(checked).toBe(REAL_CACHES_6_1.size);
    // the four the issue names, 6.1's own struct sizes
    const slot = (n: string) => REAL_CACHES_6_1.get(n)?.slot;
    expect([slot('filp'), slot('vm_area_struct'), slot('proc_inode_cache'), slot('radix_tree_node')]).toEqual([256, 152, 712, 584]);
  });

  it('the generated table says what the real sysfs says (SLAB_ACCOUNT from a merged cache id)', () => {
    const sys = sysfs();
    for (const [name, spec] of REAL_CACHES_6_1) {
      const id = ALIAS.get(name) ?? name;
      const r = sys.get(id)!;
      expect([name, spec.size, spec.slot, spec.align, spec.ctor === true], name).toEqual([
        name,
        Number(r.object_size),
        Number(r.slab_size),
        Number(r.align),
        r.ctor !== '-',
      ]);
      expect((spec.flags & SLAB_ACCOUNT) !== 0, name).toBe(id.startsWith(':A-'));
    }
  });

  it('ringBufferPages: the one page count whose buffer_size_kb reads kb, else a RangeError naming kb', () => {
    // (n * 4080) >> 10: 2 pages read 7 kB, 256 pages 1020 kB, 257 pages 1023 kB: 1021 and 1024 are no buffer's
    expect(ringBufferPages(7)).toBe(2);
    expect(ringBufferPages(1020)).toBe(256);
    expect(ringBufferPages(1023)).toBe(257);
    expect(() => ringBufferPages(1021)).toThrow(/^kb: /);
    expect(() => ringBufferPages(1024)).toThrow(/^kb: /);
    expect(() => ringBufferPages(0)).toThrow(RangeError);
    expect(() => ringBufferPages(1.5)).toThrow(/^kb: /);
  });

  it('kernel is one of the generations kmem models, else a RangeError naming it', () => {
    expect(() => boot({ kernel: '6.2' as '6.1' })).toThrow(RangeError);
    expect(() => boot({ kernel: '6.2' as '6.1' })).toThrow(/^kernel: /);
  });
});

describe('the trace tells its kernel generation', () => {
  it('kmem_cache_alloc without name= but kmem_cache_free with it (5.12 .. 6.17) is 6.1; name= on kmem_cache_alloc 6.18; no name at all: no say', () => {
    expect(traceKernel(10, 0, 4)).toBe('6.1');
    expect(traceKernel(0, 3, 4)).toBe('6.18');
    expect(traceKernel(5, 3, 0)).toBe('6.18');
    expect(traceKernel(10, 0, 0)).toBeUndefined();
    expect(traceKernel(0, 0, 0)).toBeUndefined();
  });

  it('a 6.1 excerpt replays on 6.1 geometry unless the caller says otherwise', async () => {
    const excerpt = join(__dirname, '../fixtures/trace/linux-6.1-qemu-2cpu-excerpt.txt');
    const node = (r: ReplayFileResult) => r.kernel.inspect.cacheGeometry(r.kernel.kmemCacheByName('kmem_cache_node')).size;
    expect(node(await replayTraceFile(excerpt, { boot: { memory: '128M' } }))).toBe(64);
    expect(node(await replayTraceFile(excerpt, { boot: { memory: '128M', kernel: '6.18' } }))).toBe(128);
    // a pipe: the first events read tell it
    expect(node(await replayTraceFile(excerpt, { boot: { memory: '128M' }, twoPass: false }))).toBe(64);
  });
});

describe('replay of the complete real 6.1 trace against the real machine', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'kmem-full61-'));
  const file = join(tmp, 'trace.txt');
  let text = '';
  let r: ReplayFileResult;
  const meminfo = read('meminfo.txt');
  beforeAll(async () => {
    const buf = brotliDecompressSync(readFileSync(join(__dirname, '../fixtures/trace/linux-6.1-qemu-2cpu-512M-full.txt.br')));
    writeFileSync(file, buf);
    text = buf.toString('latin1');
    // the traced machine's managed pages: its MemTotal
    const reserved = 512 * 2 ** 20 - 4096 - counter(meminfo, 'MemTotal') * 1024;
    // before the trace: the boot CPU's ring buffers, the same as the trace shows CPU 1 getting when it came up
    r = await replayTraceFile(file, { boot: { memory: '512M', reserved }, ringBuffer: { buffers: traceRingBuffers(text, 3) } });
  }, 300_000);
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  it('is the complete trace: header says nothing was lost, #P:2 gives 2 CPUs', () => {
    expect(text).toMatch(/entries-in-buffer\/entries-written: 459273\/459273\s+#P:2/);
    expect(read('trace-stats.txt')).not.toMatch(/overrun: [1-9]/);
    expect(r.kernel.cpus).toBe(2);
    expect(r.kernel.inspect.cacheGeometry(r.kernel.kmemCacheByName('kmem_cache_node')).size).toBe(64);
  });

  it('>= 95% of the caches holding objects (born during the trace) within 5% of the real num_objs', () => {
    const creations = countCacheCreations(text);
    // the trace shows 84 cache creations; slabinfo lists 145 root caches: the 61 oldest were made before it
    expect(creations).toBe(84);
    const m = matchSlabinfo(REAL_SLABINFO, r.kernel.proc.read('/proc/slabinfo'), creations);
    expect(m.bornBefore.slice(0, 2)).toEqual(['kmem_cache', 'kmem_cache_node']);
    expect(m.bornBefore.length).toBe(61);
    expect(m.held.length).toBe(52);
    expect(m.share, m.wrong.join('\n')).toBeGreaterThanOrEqual(0.95);
  });

  it('the same cache names as the real machine, but for allocations no event names, reported as unknown', () => {
    const m = matchSlabinfo(REAL_SLABINFO, r.kernel.proc.read('/proc/slabinfo'), 0);
    expect(m.onlyReal).toEqual([]);
    const unknown = r.replayer
      .report()
      .caches.filter((c) => c.unknown)
      .map((c) => c.name);
    expect(m.onlyKmem.sort()).toEqual(unknown.sort());
    // and they are few: the trace never frees them and no 6.1 cache has both their slot and object size unnamed
    expect(unknown.length).toBeLessThanOrEqual(4);
  });

  it('frees of objects the trace never allocated: in slab pages of the trace, an untraced path allocated them (6.1 maple tree bulk); else older than the trace', () => {
    // read from the text: frees of pointers no earlier allocation returned, by cache name
    const live = new Set<string>();
    let never = 0;
    let maple = 0;
    const rx = / (kmalloc|kmem_cache_alloc|kfree|kmem_cache_free): .*?ptr=([0-9a-f]+)(?:.* name=(\S+))?/;
    for (const l of text.split('\n')) {
      const m = rx.exec(l);
      if (m === null) continue;
      const ptr = m[2]!;
      if (m[1] === 'kmalloc' || m[1] === 'kmem_cache_alloc') live.add(ptr);
      else if (!live.delete(ptr) && !/^0+$/.test(ptr)) {
        never++;
        if (m[3] === 'maple_node') maple++;
      }
    }
    const s = r.replayer.report().slab;
    expect(s.unknownFrees + s.untracedFrees).toBe(never);
    expect(maple).toBeGreaterThan(18_000);
    expect(s.untracedFrees).toBeGreaterThanOrEqual(0.99 * maple);
    expect(s.unknownFrees).toBeLessThan(100);
  });

  it("every allocation's bytes_alloc is the slot of the cache it is replayed into", () => {
    const s = r.replayer.report().slab;
    expect(s.allocs).toBeGreaterThan(190_000);
    expect(s.sizeMismatches).toBe(0);
  });

  it('slab pages are counted once: the traced blocks objects lie in are left to kmem SLUB, which gets the slab pages within 5%', () => {
    const p = r.replayer.report().pages;
    // no_hash_pointers: the direct map's base is found (a multiple of 1 GiB; the trace's pointers start ffff8ad3...)
    expect(p.slabPages.directBase % 2 ** 30).toBe(0);
    expect(p.slabPages.directBase).toBe(0x8ad300000000);
    expect(p.slabPages.pages).toBeGreaterThan(4000);
    const vm = read('vmstat.txt');
    const kvm = r.kernel.proc.read('/proc/vmstat');
    const slab = (t: string) => counter(t, 'nr_slab_reclaimable') + counter(t, 'nr_slab_unreclaimable');
    expect(Math.abs(relDiff(slab(vm), slab(kvm)))).toBeLessThanOrEqual(0.05);
  });

  it("the ring buffers made before the trace: CPU 1's as the trace shows them, the main one buffer_size_kb's, allocated on the boot CPU", () => {
    // CPU 1's bring-up (0.408 s .. 0.439 s): three rb_allocate_cpu_buffer, then 2, 4113 and 2 __rb_allocate_pages
    expect(traceRingBuffers(text, 3)).toEqual([2, 4113, 2]);
    expect(traceRingBuffers(text, 99)).toEqual([2, 4113, 2]);
    // buffer_size_kb 16387 = (4113 * 4080) >> 10 (4080: a page less its 16-byte header); 4112 pages would read 16386
    expect(ringBufferKb(read('trace-stats.txt'))).toBe(16387);
    expect(ringBufferPages(16387)).toBe(4113);
    // the boot CPU's: each buffer's data pages plus its reader page; a buffer_page (kmalloc-64) for each, a descriptor (kmalloc-512) per buffer
    expect(r.replayer.report().pages.preTrace).toEqual({ ringBufferPages: 4117 + 3, objects: 4120 + 3 });
  });

  it('nr_free_pages and the top order of buddyinfo within 5% of the real ones', () => {
    // Without the boot CPU's ring buffers (4120 pages the real machine
    // allocated before its first event) kmem ended +5.6% nr_free_pages and
    // +8.7% order-10 blocks; with them, measured +1.4% and +4.3%.
    const vm = read('vmstat.txt');
    const kvm = r.kernel.proc.read('/proc/vmstat');
    const free = relDiff(counter(vm, 'nr_free_pages'), counter(kvm, 'nr_free_pages'));
    expect(Math.abs(free)).toBeLessThanOrEqual(0.05);
    const real = buddyTotals(read('buddyinfo.txt'));
    const kmem = buddyTotals(r.kernel.proc.read('/proc/buddyinfo'));
    expect(real.length).toBe(11);
    expect(Math.abs(relDiff(real[10]!, kmem[10]!))).toBeLessThanOrEqual(0.05);
  });
});
