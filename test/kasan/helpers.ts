/**
 * Helpers for the KASAN tests: a KASAN machine, and KUNIT_EXPECT_KASAN_FAIL
 * that checks not only that a report appeared but what it says.
 */
import { expect } from 'vitest';
import { type BootOptions, boot, type KasanReport, type Kernel } from '../../src/index.js';

/** A small multi-shot KASAN machine (the KUnit suite turns multi-shot on too). */
export function kasanBoot(opts: BootOptions = {}): Kernel {
  return boot({ memory: '64M', cpus: 2, kasan: 'generic', kasanMultiShot: true, ...opts });
}

export interface Expected {
  bugType: string;
  access: 'read' | 'write' | 'free';
  size?: number | bigint;
  /** The accessed address. */
  addr?: number;
  /** addr - object. */
  offset?: number;
  relation?: KasanReport['relation'];
  relBytes?: number;
  allocSize?: number;
  cache?: string | null;
}

const accounted = new WeakMap<Kernel, number>();

/** Reports made outside expectKasanFail() (kasan_test_exit() must see none). */
export function strayReports(k: Kernel): number {
  return k.kasan!.reports().length - (accounted.get(k) ?? 0);
}

/** How many reports the machine has made so far. */
export function reportCount(k: Kernel): number {
  return k.kasan!.reports().length;
}

/**
 * KUNIT_EXPECT_KASAN_FAIL: run fn, expect exactly one new report per entry
 * of `expected`, in order, each matching it.
 */
export function expectKasanFail(k: Kernel, fn: () => unknown, ...expected: Expected[]): KasanReport[] {
  const before = reportCount(k);
  fn();
  const got = k.kasan!.reports().slice(before);
  accounted.set(k, before + got.length);
  expect(got.map((r) => `${r.bugType} ${r.access} ${String(r.size)}`)).toEqual(
    expected.map((e, i) => `${e.bugType} ${e.access} ${String(e.size !== undefined ? e.size : got[i]?.size)}`),
  );
  got.forEach((r, i) => {
    const e = expected[i]!;
    if (e.addr !== undefined) expect(r.addr, 'addr').toBe(e.addr);
    if (e.offset !== undefined) expect(r.offset, 'offset').toBe(e.offset);
    if (e.relation !== undefined) expect(r.relation, 'relation').toBe(e.relation);
    if (e.relBytes !== undefined) expect(r.relBytes, 'relBytes').toBe(e.relBytes);
    if (e.allocSize !== undefined) expect(r.allocSize, 'allocSize').toBe(e.allocSize);
    if (e.cache !== undefined) expect(r.cache, 'cache').toBe(e.cache);
    expect(r.lines[1]).toBe(`BUG: KASAN: ${r.bugType} in ${r.fn}`);
  });
  return got;
}

/** Run fn and expect no report at all (the KUnit suite's kasan_test_exit check). */
export function expectNoReport(k: Kernel, fn: () => unknown): void {
  const before = reportCount(k);
  fn();
  const got = k.kasan!.reports().slice(before);
  accounted.set(k, before + got.length);
  expect(got.map((r) => r.lines[1])).toEqual([]);
}
