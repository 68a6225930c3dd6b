/**
 * KASAN with CPU threads (boot({ smp: 'workers', kasan: 'generic' })): the
 * shadow, the per-object tracks, the quarantine and the stack depot are
 * shared, so a use-after-free where the free happened on another CPU is
 * reported with both stacks -- the allocating CPU's and the freeing CPU's
 * -- as one kernel's report names the alloc and free tracks of whichever
 * CPUs saved them. The report's text is the kernel's (CONFIG_KASAN_EXTRA_INFO
 * off: "Allocated by task N:", the CPU is in the track, not the text).
 */
import { describe, expect, it } from 'vitest';
import { attach, boot } from '../../src/index.js';
import type { KasanTrack } from '../../src/kasan/kasan.js';
import { QUARANTINE_PERCPU_SIZE } from '../../src/kasan/kasan.js';
import { CF } from '../../src/slub/slab.js';
import { SharedStackDepot } from '../../src/smp/stackdepot_shared.js';
import { runWorkers, startWorker } from './smp_harness.js';

interface Reply {
  addr: number;
  pid: number;
  reports: { bugType: string; lines: string[]; alloc: KasanTrack | null; free: KasanTrack | null; addr: number }[];
}

/** The frames under a "<what> by task N:" header, up to the blank line. */
function stackAfter(lines: string[], header: string): string[] {
  const at = lines.indexOf(header);
  expect(at).toBeGreaterThanOrEqual(0);
  const end = lines.indexOf('', at);
  return lines.slice(at + 1, end);
}

describe('KASAN with CPU threads', () => {
  it('boot accepts kasan with smp, and the depot it uses is the shared one', () => {
    const k = boot({ memory: '16M', cpus: 2, smp: 'workers', kasan: 'generic' });
    expect(k.kasan!.depot).toBeInstanceOf(SharedStackDepot);
    // The shadow is one of the buffers a CPU thread attaches to.
    expect(k.kasan!.sh.buffer).toBeInstanceOf(SharedArrayBuffer);
    expect(k.handle.buffers).toContain(k.kasan!.sh.buffer);
    // Single-thread KASAN keeps its own depot.
    expect(boot({ memory: '16M', kasan: 'generic' }).kasan!.depot).not.toBeInstanceOf(SharedStackDepot);
  });

  it('a use-after-free freed on another CPU thread is reported with both tracks and both stacks', { timeout: 60_000 }, async () => {
    const k = boot({ memory: '16M', cpus: 3, smp: 'workers', kasan: 'generic' });
    const words = new SharedArrayBuffer(8);
    const a = startWorker('./kasan_worker.ts', { handle: k.handle, cpu: 1, role: 'alloc', words });
    const b = startWorker('./kasan_worker.ts', { handle: k.handle, cpu: 2, role: 'free', words });
    const [ra, rb] = await runWorkers<Reply>(k, [a, b]);
    expect(rb!.addr).toBe(ra!.addr);
    expect(ra!.reports.length).toBe(1);
    const rep = ra!.reports[0]!;
    expect(rep.bugType).toBe('slab-use-after-free');
    expect(rep.addr).toBe(ra!.addr + 16);
    expect(rep.lines[1]).toBe('BUG: KASAN: slab-use-after-free in useAfterFree');
    expect(rep.lines).toContain(`Read of size 1 at addr ${(0xffff888000000000n + BigInt(ra!.addr + 16)).toString(16)} by task smp-alloc/101`);
    expect(rep.lines).toContain('CPU: 1 UID: 0 PID: 101 Comm: smp-alloc Not tainted 6.18.0-kmem #1');
    // The tracks: task and CPU of each side.
    expect(rep.alloc).toMatchObject({ pid: 101, cpu: 1 });
    expect(rep.free).toMatchObject({ pid: 102, cpu: 2 });
    // Both stacks, each saved on its own thread, printed on the thread that found the bug.
    const allocStack = stackAfter(rep.lines, 'Allocated by task 101:');
    const freeStack = stackAfter(rep.lines, 'Freed by task 102:');
    expect(allocStack.some((l) => /^ allocOnThisCpu \(.*kasan_worker\.ts:\d+\)$/.test(l))).toBe(true);
    expect(freeStack.some((l) => /^ freeOnThisCpu \(.*kasan_worker\.ts:\d+\)$/.test(l))).toBe(true);
    expect(allocStack.some((l) => l.includes('freeOnThisCpu'))).toBe(false);
    expect(freeStack.some((l) => l.includes('allocOnThisCpu'))).toBe(false);
    expect(rep.alloc!.stack).toEqual(allocStack);
    expect(rep.free!.stack).toEqual(freeStack);
    // The order of the sections, as describe_object() prints them.
    expect(rep.lines.indexOf('Allocated by task 101:')).toBeLessThan(rep.lines.indexOf('Freed by task 102:'));
    expect(rep.lines).toContain(`The buggy address belongs to the object at ${(0xffff888000000000n + BigInt(ra!.addr)).toString(16)}`);
  });

  it('the shared depot: a stack saved on one CPU resolves on another, stored once', () => {
    const k = boot({ memory: '16M', cpus: 2, smp: 'workers', kasan: 'generic' });
    const c1 = attach(k.handle, { cpu: 1 });
    const d0 = k.kasan!.depot;
    const d1 = c1.kasan!.depot;
    const saveHere = (d: typeof d0) => d.save();
    const handles: number[] = [];
    const sizes: number[] = [];
    for (let round = 0; round < 2; round++) {
      for (const d of [d1, d0]) handles.push(saveHere(d));
      sizes.push(d0.size, d1.size);
    }
    const h = handles[0]!;
    expect(h).toBeGreaterThan(0);
    expect(d0.lines(h)).toEqual(d1.lines(h));
    expect(d0.lines(h).some((l) => l.startsWith(' saveHere ('))).toBe(true);
    // The same stack from the other thread, and again: the same handle, nothing more stored.
    expect(handles).toEqual([h, h, h, h]);
    expect(new Set(sizes).size).toBe(1);
    expect(d1.fetch(0)).toEqual([]);
    c1.detach();
  });

  it('the quarantine is shared: a CPU qlist spills into the global ring, any CPU reduces it, cache destruction empties every CPU qlist', () => {
    // 16M: RAM / 32 is below 1M per CPU, so quarantine_max_size is 0 and
    // whatever reaches the global ring is reduced by the next allocation that may sleep.
    const k = boot({ memory: '16M', cpus: 2, smp: 'workers', kasan: 'generic' });
    const c1 = attach(k.handle, { cpu: 1 });
    const q0 = k.kasan!.quarantine;
    const q1 = c1.kasan!.quarantine;
    expect(q0.maxSize).toBe(0);
    const h = k.kmemCacheCreate('smp-q', 1000);
    const s = h & 0xfff;
    const slot = k.slub.cf[s * CF.FIELDS + CF.SIZE]!;
    // kasan_quarantine_put() moves CPU 1's qlist to the global ring at the free that takes it past 1M.
    const spill = Math.floor(QUARANTINE_PERCPU_SIZE / slot) + 1;
    const objs: number[] = [];
    for (let i = 0; i < spill + 3; i++) objs.push(c1.kmemCacheAlloc(h, 0));
    for (let i = 0; i < spill - 1; i++) c1.kmemCacheFree(h, objs[i]!);
    expect(q0.stats()).toEqual({ objects: spill - 1, bytes: (spill - 1) * slot, globalBytes: 0 });
    c1.kmemCacheFree(h, objs[spill - 1]!);
    // Seen from CPU 0: the batch in the global ring.
    expect(q0.size).toBe(spill * slot);
    expect(q0.stats()).toEqual({ objects: spill, bytes: spill * slot, globalBytes: spill * slot });
    // Three more on CPU 1's qlist; CPU 0 is the one whose allocation reduces.
    for (let i = spill; i < spill + 3; i++) c1.kmemCacheFree(h, objs[i]!);
    expect(k.slab.liveObjects(s)).toBe(spill + 3);
    k.kmalloc(32, 0xcc0);
    expect(q1.size).toBe(0);
    expect(q1.stats()).toEqual({ objects: 3, bytes: 3 * slot, globalBytes: 0 });
    expect(k.slab.liveObjects(s)).toBe(3);
    // kmem_cache_destroy() on CPU 0 takes the objects off CPU 1's qlist: nothing remains, no BUG.
    expect(q0.contains(objs[spill]!)).toBe(true);
    k.kmemCacheDestroy(h);
    for (let i = spill; i < spill + 3; i++) expect(q1.contains(objs[i]!)).toBe(false);
    expect(k.isTainted).toBe(false);
    expect(k.kmemCacheByName('smp-q')).toBe(-1);
    expect(k.kasan!.reports()).toEqual([]);
    c1.detach();
  });

  it('a report on one CPU names a cache another CPU created after it last looked at the cache table', () => {
    const k = boot({ memory: '16M', cpus: 2, smp: 'workers', kasan: 'generic' });
    const c1 = attach(k.handle, { cpu: 1 });
    const h = c1.kmemCacheCreate('made-late', 200);
    const o = c1.kmemCacheAlloc(h, 0xcc0);
    c1.kmemCacheFree(h, o);
    // CPU 0 has taken no slow path since: its first word of the cache is this report.
    expect(k.mem.read8(o + 8)).toBeTypeOf('number');
    const [rep] = k.kasan!.reports();
    expect(rep!.bugType).toBe('slab-use-after-free');
    expect(rep!.cache).toBe('made-late');
    expect(rep!.lines).toContain(' which belongs to the cache made-late of size 200');
    expect(rep!.alloc!.cpu).toBe(1);
    expect(rep!.free!.cpu).toBe(1);
    c1.detach();
  });
});
