/**
 * slub_debug with CPU threads (boot({ smp: 'workers', slubDebug })): debug
 * caches allocate and free under n->list_lock with their checks, and the U
 * tracks' stacks go to the machine's shared stack depot, so a report made
 * on one CPU prints the alloc and free tracks other CPUs saved -- the
 * kernel's print_track() lines, "Allocated in <fn> age=<n> cpu=<c> pid=<p>"
 * and the stack under it.
 */
import { describe, expect, it } from 'vitest';
import { boot } from '../../src/index.js';
import { runWorkers, startWorker } from './smp_harness.js';

describe('slub_debug with CPU threads', () => {
  it('a double free on CPU 0 of an object allocated on CPU 1 and freed on CPU 2 prints both tracks', { timeout: 60_000 }, async () => {
    const k = boot({ memory: '16M', cpus: 3, smp: 'workers', slubDebug: 'FZPU', onBug: 'report' });
    const h = k.kmemCacheCreate('smp-dbg', 100);
    const [a] = await runWorkers<{ objs: number[] }>(k, [startWorker('./slub_debug_worker.ts', { handle: k.handle, cpu: 1, role: 'alloc', cache: h, obj: 0 })]);
    const obj = a!.objs[0]!;
    await runWorkers(k, [startWorker('./slub_debug_worker.ts', { handle: k.handle, cpu: 2, role: 'free', cache: h, obj })]);
    expect(k.isTainted).toBe(false);
    // The second object keeps the slab's inuse at 1, so free_debug_processing() gets to on_freelist().
    k.kmemCacheFree(h, obj);
    const log = k.dmesg().map((l) => l.replace(/^\[[ \d.]+\] /, ''));
    expect(log).toContain('BUG smp-dbg (Not tainted): Object already free');
    const at = (re: RegExp) => log.findIndex((l) => re.test(l));
    const alloc = at(/^Allocated in allocOnThisCpu \(.*slub_debug_worker\.ts:\d+\) age=\d+ cpu=1 pid=101$/);
    const free = at(/^Freed in freeOnThisCpu \(.*slub_debug_worker\.ts:\d+\) age=\d+ cpu=2 pid=102$/);
    expect(alloc).toBeGreaterThan(0);
    expect(free).toBeGreaterThan(alloc);
    // Each header is followed by its own stack, saved on its own thread.
    expect(log[alloc + 1]).toMatch(/^ allocOnThisCpu \(.*slub_debug_worker\.ts:\d+\)$/);
    expect(log[free + 1]).toMatch(/^ freeOnThisCpu \(.*slub_debug_worker\.ts:\d+\)$/);
    expect(log).toContain(`FIX smp-dbg: Object at 0x${(0xffff888000000000n + BigInt(obj)).toString(16)} not freed`);
    expect(k.isTainted).toBe(true);
  });
});
