/**
 * /proc/vmstat's items against a real Linux 6.18's: the names this build
 * machine (6.18.44, x86-64) printed, recorded in
 * test/fixtures/linux-6.18/vmstat-names.txt, are the reference for which
 * items 6.18 has and their order (mm/vmstat.c vmstat_text[]: the zone
 * items, the NUMA events, the node items, the global items, the events,
 * then the deprecated nr_unstable).
 *
 * Configuration: the items depend on the kernel's configuration; kmem
 * follows this machine's (from its /proc/config.gz): CONFIG_NUMA,
 * CONFIG_NUMA_BALANCING, CONFIG_SWAP, CONFIG_ZSWAP, CONFIG_ZSMALLOC,
 * CONFIG_KSM, CONFIG_IOMMU_SUPPORT, CONFIG_HUGETLB_PAGE,
 * CONFIG_TRANSPARENT_HUGEPAGE with HAVE_ARCH_TRANSPARENT_HUGEPAGE_PUD,
 * CONFIG_MIGRATION, CONFIG_COMPACTION, CONFIG_MEMORY_BALLOON with
 * CONFIG_BALLOON_COMPACTION, CONFIG_VM_EVENT_COUNTERS; CONFIG_CMA unset (so
 * no cma_alloc_* events, though the zone's nr_free_cma is always there).
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, test } from 'vitest';
import { boot } from '../../src/kernel.js';
import { nodeStatItems, numaEventItems, vmEventItems, vmStatItems, zoneStatItems } from '../../src/proc/vmstat_items.js';

const here = dirname(fileURLToPath(import.meta.url));
const real = readFileSync(resolve(here, '../fixtures/linux-6.18/vmstat-names.txt'), 'utf8')
  .split('\n')
  .filter((l) => l !== '' && !l.startsWith('#'));

/** Items of the real 6.18 that kmem leaves out on purpose, with the reason (none: kmem prints every one). */
const OMITTED = new Map<string, string>();

/**
 * The places where `names` breaks `reference`'s relative order: each pair
 * (a, b) with a before b in names but b before a in reference. Names missing
 * from the reference are reported as [name, 'missing'].
 */
function orderViolations(names: readonly string[], reference: readonly string[]): [string, string][] {
  const pos = new Map(reference.map((n, i) => [n, i]));
  const out: [string, string][] = [];
  let last = -1;
  let lastName = '';
  for (const n of names) {
    const p = pos.get(n);
    if (p === undefined) out.push([n, 'missing']);
    else {
      if (p < last) out.push([lastName, n]);
      last = p;
      lastName = n;
    }
  }
  return out;
}

test('orderViolations finds an item out of order and an item the reference lacks', () => {
  expect(orderViolations(['a', 'b', 'c'], ['a', 'b', 'c'])).toEqual([]);
  expect(orderViolations(['a', 'c'], ['a', 'b', 'c'])).toEqual([]);
  expect(orderViolations(['b', 'a', 'c'], ['a', 'b', 'c'])).toEqual([['b', 'a']]);
  expect(orderViolations(['a', 'x'], ['a', 'b'])).toEqual([['x', 'missing']]);
});

test('the fixture is a real 6.18 list: 192 names, nr_free_pages first, nr_unstable last, no duplicates', () => {
  expect(real).toHaveLength(192);
  expect(real[0]).toBe('nr_free_pages');
  expect(real.at(-1)).toBe('nr_unstable');
  expect(new Set(real).size).toBe(real.length);
});

test("kmem's /proc/vmstat names: the real 6.18's, in its relative order, none extra, none missing but the listed omissions", () => {
  // A machine with swap and a disk: the items do not depend on the boot options, so any machine prints the same names.
  for (const k of [boot({ memory: '128M' }), boot({ memory: '64M', swap: '64M', cpus: 2 })]) {
    const names = k.proc
      .read('/proc/vmstat')
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => l.split(' ')[0]!);
    expect(orderViolations(names, real)).toEqual([]);
    const missing = real.filter((n) => !names.includes(n));
    expect(missing).toEqual([...OMITTED.keys()]);
    expect(names).toHaveLength(real.length - OMITTED.size);
  }
});

test("vmstat_items' tables concatenated in vmstat_text[]'s order are the real list without the trailing nr_unstable", () => {
  const table = [...zoneStatItems, ...numaEventItems, ...nodeStatItems, ...vmStatItems, ...vmEventItems];
  expect(orderViolations(table, real)).toEqual([]);
  expect([...table, 'nr_unstable']).toEqual(real.filter((n) => !OMITTED.has(n)));
});
