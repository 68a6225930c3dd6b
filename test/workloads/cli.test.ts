/**
 * The memory-pressure workloads from the command line: `kmem run --workload
 * NAME` prints its summary and exits 0; a workload the machine cannot run
 * (reclaim without swap) is a usage error naming what is missing.
 */
import { beforeAll, expect, test } from 'vitest';
import { buildOnce, kmem } from '../cli/helpers.js';

beforeAll(buildOnce, 180_000);

// The summary counts the operations performed: a workload that ends stops short of --steps.
// pagecache on 32M: a 34 MiB file read twice in 128 KiB reads (2 x 272), plus the login, the mmap and the file laid out in 3 steps of 16 MiB.
test.each([
  ['pagecache', '549'],
  ['oom', '\\d+'],
  ['thrash', '\\d+'],
])(
  'kmem run --workload %s prints its summary',
  async (name, ops) => {
    const r = await kmem(['run', '--workload', name, '--mem', '32M', '--steps', '100000']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^== top caches by size \\(workload: ${name}, ${ops} operations\\)$`, 'm'));
  },
  60_000,
);

test('kmem dmesg after the oom workload has the kill', async () => {
  const r = await kmem(['dmesg', '--workload', 'oom', '--mem', '32M', '--steps', '100000']);
  expect(r.code).toBe(0);
  expect(r.stdout).toMatch(/Out of memory: Killed process \d+ \(stress\) total-vm:\d+kB, anon-rss:\d+kB/);
}, 60_000);

test('kmem run --workload reclaim --swap 32M: the summary, and pswpout in /proc/vmstat', async () => {
  const r = await kmem(['run', '--workload', 'reclaim', '--mem', '32M', '--swap', '32M', '--steps', '100000']);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  expect(r.stdout).toMatch(/^== top caches by size \(workload: reclaim, \d+ operations\)$/m);
  const v = await kmem(['cat', '/proc/vmstat', '--workload', 'reclaim', '--mem', '32M', '--swap', '32M', '--steps', '100000']);
  expect(Number(/^pswpout (\d+)$/m.exec(v.stdout)?.[1])).toBeGreaterThan(0);
}, 60_000);

test('--swap errors name the option', async () => {
  const small = await kmem(['run', '--swap', '1K', '--workload', 'none']);
  expect(small.code).toBe(2);
  expect(small.stderr).toBe("kmem: --swap: 1024 bytes is below mkswap's minimum of 40960 bytes (10 pages)\n");
}, 60_000);

test('reclaim without swap is a usage error', async () => {
  const r = await kmem(['run', '--workload', 'reclaim', '--mem', '32M']);
  expect(r.code).toBe(2);
  expect(r.stderr).toMatch(/^kmem: reclaim: the machine has no swap/);
}, 60_000);
