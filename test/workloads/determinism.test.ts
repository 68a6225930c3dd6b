/**
 * Every memory-pressure workload is a deterministic program of the
 * machine's seed: two machines booted alike and run alike end in the same
 * /proc/vmstat and /proc/meminfo and the same kernel log, and each ends
 * with its processes reaped.
 */
import { expect, test } from 'vitest';
import { boot } from '../../src/kernel.js';
import { workloadByName } from '../../src/workloads/index.js';

test.each([
  ['pagecache', 0],
  ['reclaim', '16M'],
  ['oom', 0],
  ['thrash', 0],
  ['thrash', '16M'],
])('%s (swap %s) is the same twice for a seed', (name, swap) => {
  const run = () => {
    const k = boot({ memory: '16M', swap, seed: 9 });
    const w = workloadByName(name).create(k);
    w.run(1e6);
    expect(w.finished).toBe(true);
    expect(k.tasks()).toEqual([]);
    return { ops: w.ops, vmstat: k.proc.read('/proc/vmstat'), meminfo: k.proc.read('/proc/meminfo'), log: k.dmesg() };
  };
  // both runs from one line: the OOM report's call trace names the caller's file:line
  const [a, b] = [run(), run()];
  expect(b).toEqual(a);
});
