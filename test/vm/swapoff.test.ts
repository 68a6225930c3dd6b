/**
 * swapoff(2) and swapon(2) of the swap partition (mm/swapfile.c:
 * try_to_unuse, unuse_pte, reinsert_swap_info). Expected values are worked
 * out by hand from 6.18's rules beside each test.
 */
import { describe, expect, test } from 'vitest';
import { boot, type Kernel } from '../../src/kernel.js';
import type { Task } from '../../src/vm/fork.js';
import { MADV_PAGEOUT, MAP_ANONYMOUS, MAP_PRIVATE, PROT_READ, PROT_WRITE } from '../../src/vm/mman.js';
import { meminfoKb as meminfo, pagePattern as pattern, tinyElf, vmstatValue as vmstat } from './helpers.js';
import { recountLru } from './lru_check.js';

const P = 4096;
const HEADER = 'Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n';

function machine(opts: object = {}): Kernel {
  const k = boot({ memory: '64M', cpus: 1, seed: 1, aslr: 0, swap: '256M', ...opts });
  k.fs.writeFile('/bin/tiny', tinyElf());
  return k;
}

function status(k: Kernel, t: Task, field: string): number {
  const m = new RegExp(`^${field}:\\s+(\\d+) kB$`, 'm').exec(k.proc.read(`/proc/${t.pid}/status`));
  return Number(m![1]);
}

function same(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

describe('swapoff', () => {
  test('brings every swapped page back, shared ones once, every byte intact; the area is gone and swapon restores it', () => {
    const k = machine();
    const t = k.spawn('/bin/tiny');
    const n = 600;
    const a = t.mmap(0, n * P, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    for (let i = 0; i < n; i++) t.writeBytes(a + i * P, pattern(i + 1));
    const rss = status(k, t, 'RssAnon');
    // Out to swap, then a fork copies the swap PTEs: one slot per page, named by two PTEs (swap_duplicate).
    expect(t.madvise(a, n * P, MADV_PAGEOUT)).toBe(0);
    const c = t.fork();
    const total = 262140; // 256 MiB less the header page, in kB
    expect(meminfo(k, 'SwapTotal')).toBe(total);
    expect(status(k, t, 'VmSwap')).toBe(n * 4);
    expect(status(k, c, 'VmSwap')).toBe(n * 4);
    const used = total - meminfo(k, 'SwapFree');
    expect(used).toBe(n * 4);
    const swpinBefore = vmstat(k, 'pswpin');
    expect(k.swapoff()).toBe(0);
    // Every slot came back: each page read once (pswpin), whichever mm met it first; the other PTE found it in the swap cache.
    expect(vmstat(k, 'pswpin') - swpinBefore).toBe(n);
    expect(k.proc.read('/proc/swaps')).toBe(HEADER);
    expect(meminfo(k, 'SwapTotal')).toBe(0);
    expect(meminfo(k, 'SwapFree')).toBe(0);
    expect(meminfo(k, 'SwapCached')).toBe(0);
    expect(status(k, t, 'VmSwap')).toBe(0);
    expect(status(k, c, 'VmSwap')).toBe(0);
    // What was resident before MADV_PAGEOUT is again, in both (the child's other pages are its own copies of the stack).
    expect(status(k, t, 'RssAnon')).toBe(rss);
    expect(status(k, c, 'RssAnon')).toBeGreaterThanOrEqual(n * 4);
    // The pages are mapped again: reading them faults nothing in from the disk.
    const major = vmstat(k, 'pgmajfault');
    for (let i = 0; i < n; i++) {
      expect(same(t.readBytes(a + i * P, P), pattern(i + 1))).toBe(true);
      expect(same(c.readBytes(a + i * P, P), pattern(i + 1))).toBe(true);
    }
    expect(vmstat(k, 'pgmajfault')).toBe(major);
    // Shared pages stay copy-on-write: a write in the child leaves the parent's bytes alone.
    c.write32(a, 0xdeadbeef);
    expect(same(t.readBytes(a, P), pattern(1))).toBe(true);
    recountLru(k);
    // swapon again: the same partition, the priority given back by swapoff (-2 again), all of it free.
    expect(k.swapon()).toBe(0);
    expect(k.proc.read('/proc/swaps')).toBe(`${HEADER}/dev/vda2                               partition\t262140\t\t0\t\t-2\n`);
    expect(meminfo(k, 'SwapTotal')).toBe(total);
    expect(meminfo(k, 'SwapFree')).toBe(total);
    expect(k.dmesg().filter((l) => l.includes('Adding 262140k swap on /dev/vda2.  Priority:-2 extents:1 across:262140k')).length).toBe(2);
    // And it works: out to swap and back (the parent's first page, no longer shared since the child's write).
    expect(t.madvise(a, P, MADV_PAGEOUT)).toBe(0);
    expect(meminfo(k, 'SwapFree')).toBe(total - 4);
    expect(same(t.readBytes(a, P), pattern(1))).toBe(true);
  });

  test('-ENOMEM when memory cannot hold the swap (vm_enough_memory with overcommit_memory=2): the area stays on', () => {
    const k = machine();
    const t = k.spawn('/bin/tiny');
    // 40 MiB of accountable private memory committed while overcommit is heuristic.
    expect(t.mmap(0, 40 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)).toBeGreaterThan(0);
    k.proc.write('/proc/sys/vm/overcommit_memory', '2');
    // __vm_enough_memory(pages = 65535 swap slots): Committed_AS + 65535 < CommitLimit (RAM * 50% + swap) less the
    // task's reserve is false when Committed_AS (10240 pages and more) exceeds half of RAM (about 8190 pages).
    expect(k.swapoff()).toBe(-12);
    expect(k.dmesg().some((l) => /__vm_enough_memory: pid: 1, comm: init, bytes: 268431360 not enough memory for the allocation/.test(l))).toBe(true);
    expect(k.proc.read('/proc/swaps')).toBe(`${HEADER}/dev/vda2                               partition\t262140\t\t0\t\t-2\n`);
    expect(meminfo(k, 'SwapTotal')).toBe(262140);
    expect(meminfo(k, 'SwapFree')).toBe(262140);
    // With the heuristic back it goes.
    k.proc.write('/proc/sys/vm/overcommit_memory', '0');
    expect(k.swapoff()).toBe(0);
  });

  test('errors: another path is -EINVAL, swapoff twice -EINVAL, swapon twice -EBUSY, no partition -EINVAL', () => {
    const k = machine();
    expect(k.swapoff('/dev/vda1')).toBe(-22);
    expect(k.swapon()).toBe(-16);
    expect(k.swapoff()).toBe(0);
    expect(k.swapoff()).toBe(-22);
    expect(() => k.swapoff(7 as unknown as string)).toThrow(TypeError);
    const k2 = boot({ memory: '64M', cpus: 1, seed: 1 });
    expect(k2.swapon()).toBe(-22);
  });
});
