/**
 * boot({ smp: 'workers' }), k.handle and attach(): the options it refuses,
 * one thread per CPU, caches created on one CPU found on another, the VM
 * half kept on the boot CPU, per-CPU SLUB statistics summed on read, and
 * flush_all / drain_all_pages reaching a CPU thread by IPI.
 */
import { describe, expect, it } from 'vitest';
import { attach, boot } from '../../src/index.js';
import { MAX_CACHES } from '../../src/slub/slab.js';
import { startWorker } from './smp_harness.js';

const GFP_KERNEL = 0xcc0;

describe('smp boot options', () => {
  it('refuses what does not run on several threads yet, naming the option', () => {
    expect(() => boot({ smp: 'workers', allocator: 'slab' })).toThrow(/^allocator: /);
    expect(() => boot({ smp: 'workers', kernel: '7.0' })).toThrow(/^kernel: /);
    expect(() => boot({ smp: 'workers', swap: '1M' })).toThrow(/^swap: /);
    expect(() => boot({ smp: 'workers', shared: false })).toThrow(/^shared: /);
    expect(() => boot({ smp: 'threads' as 'workers' })).toThrow(RangeError);
    expect(() => boot({ smp: 'workers', smpJitter: -1 })).toThrow(/smpJitter/);
    expect(() => boot({ smpJitter: 1.5 })).toThrow(/smpJitter/);
  });

  it('k.handle exists only with smp and survives structuredClone', () => {
    expect(() => boot({ memory: '16M' }).handle).toThrow(/smp: 'workers'/);
    const k = boot({ memory: '16M', smp: 'workers' });
    const h = structuredClone(k.handle);
    expect(h.buffers.every((b) => b instanceof SharedArrayBuffer)).toBe(true);
    expect(h.buffers.length).toBeGreaterThan(10);
  });
});

describe('attach', () => {
  it('checks its arguments', () => {
    const k = boot({ memory: '16M', cpus: 2, smp: 'workers' });
    expect(() => attach({} as typeof k.handle, { cpu: 1 })).toThrow(TypeError);
    expect(() => attach(k.handle, { cpu: 2 })).toThrow(/opts\.cpu/);
    expect(() => attach(k.handle, null as unknown as { cpu: number })).toThrow(TypeError);
  });

  it('binds one thread per CPU: a second attach is an Error until the first goes offline', () => {
    const k = boot({ memory: '16M', cpus: 3, smp: 'workers' });
    expect(() => attach(k.handle, { cpu: 0 })).toThrow(/CPU 0 already has a thread attached/);
    const c1 = attach(k.handle, { cpu: 1 });
    expect(c1.currentCpu).toBe(1);
    expect(() => attach(k.handle, { cpu: 1 })).toThrow(/CPU 1 already has a thread attached/);
    expect(() => c1.onCpu(0, () => 0)).toThrow(/this thread is CPU 1/);
    expect(() => c1.spawn('/bin/true')).toThrow(/runs on the boot CPU only/);
    expect(() => k.detach()).toThrow(/only a kernel made by attach/);
    c1.detach();
    const again = attach(k.handle, { cpu: 1 });
    expect(again.currentCpu).toBe(1);
    again.detach();
  });

  it('shares memory, caches and objects between CPUs; statistics are per CPU, summed on read', () => {
    const k = boot({ memory: '16M', cpus: 3, smp: 'workers', slubStats: true });
    const c1 = attach(k.handle, { cpu: 1 });
    // A cache created on CPU 1 is found by name on CPU 0, through the shared cache table.
    const h1 = c1.kmemCacheCreate('made-on-cpu1', 200, { align: 8 });
    expect(k.kmemCacheByName('made-on-cpu1')).toBe(h1);
    expect(k.proc.read('/proc/slabinfo')).toMatch(/^made-on-cpu1 /m);
    // One created on CPU 0 after CPU 1 attached, the other way round.
    const h0 = k.kmemCacheCreate('made-on-cpu0', 300);
    expect(c1.kmemCacheByName('made-on-cpu0')).toBe(h0);
    const o = c1.kmemCacheAlloc(h0, GFP_KERNEL);
    c1.mem.write32(o, 0xfeedf00d);
    expect(k.mem.read32(o) >>> 0).toBe(0xfeedf00d);
    // Freed on CPU 0: a remote free into CPU 1's frozen cpu slab.
    k.kmemCacheFree(h0, o);
    expect(k.sys.read('/sys/kernel/slab/made-on-cpu0/free_frozen')).toBe('1 C0=1\n');
    expect(k.sys.read('/sys/kernel/slab/made-on-cpu0/alloc_slowpath')).toBe('1 C1=1\n');
    // Destroyed on CPU 1: gone on CPU 0 as well.
    c1.kmemCacheDestroy(h1);
    expect(k.kmemCacheByName('made-on-cpu1')).toBe(-1);
    c1.detach();
  });

  it('kmem_cache_shrink and drain_all_pages reach a CPU thread by IPI', { timeout: 60_000 }, async () => {
    const k = boot({ memory: '32M', cpus: 2, smp: 'workers' });
    const stop = new SharedArrayBuffer(4);
    const w = startWorker('./ipi_worker.ts', { handle: k.handle, cpu: 1, stop });
    const s = k.kmemCacheByName('kmalloc-64') & 0xfff;
    const poll = setInterval(() => k.poll(), 1);
    const message = () =>
      new Promise<unknown>((resolve, reject) => {
        w.once('message', resolve);
        w.once('error', reject);
      });
    try {
      const first = (await message()) as { kept: number[]; cache: number };
      // CPU 1 holds a cpu slab with a cpu freelist, and pages on its pcp lists.
      expect(k.slub.cpuSlab[1 * MAX_CACHES + s]!).toBeGreaterThan(0);
      expect(k.slub.cpuFreelist[1 * MAX_CACHES + s]!).not.toBe(0);
      const pcp = () => k.inspect.zones().reduce((n, z) => n + z.pcpPages, 0);
      expect(pcp()).toBeGreaterThan(0);
      k.kmemCacheShrink(first.cache);
      // flush_all waited for CPU 1 to flush its own kmem_cache_cpu.
      expect(k.slub.cpuSlab[1 * MAX_CACHES + s]).toBe(-1);
      expect(k.slub.cpuFreelist[1 * MAX_CACHES + s]).toBe(0);
      k.drainAllPages();
      expect(pcp()).toBe(0);
      for (const o of first.kept) k.kfree(o);
      const bye = message();
      Atomics.store(new Int32Array(stop), 0, 1);
      Atomics.notify(new Int32Array(stop), 0);
      expect(await bye).toBe('bye');
    } finally {
      clearInterval(poll);
      await w.terminate();
    }
  });
});
