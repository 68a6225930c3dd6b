/**
 * The trace layer sits beside the workloads, not above them: neither imports
 * the other's folder in a cycle, and what both need (the table of real caches,
 * reading gfp_flags back) lives in a layer below both.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { __GFP_MOVABLE, __GFP_RECLAIMABLE, __GFP_ZERO, formatGfp, GFP_KERNEL, parseGfpText } from '../../src/page_alloc/gfp.js';
import { REAL_CACHES } from '../../src/slub/known_caches.js';

const src = resolve(fileURLToPath(new URL('../../src', import.meta.url)));

function importsOf(dir: string): { file: string; from: string }[] {
  const out: { file: string; from: string }[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (!e.isFile() || !e.name.endsWith('.ts')) continue;
    const file = join(e.parentPath, e.name);
    for (const m of readFileSync(file, 'utf8').matchAll(/from '([^']+)'/g)) out.push({ file, from: resolve(e.parentPath, m[1]!) });
  }
  return out;
}

describe('layers', () => {
  it('src/trace imports nothing from src/workloads (the workloads read traces)', () => {
    const bad = importsOf(join(src, 'trace')).filter((i) => i.from.startsWith(join(src, 'workloads')));
    expect(bad).toEqual([]);
  });

  it('the table of real caches is in the slab layer', () => {
    expect(REAL_CACHES.dentry?.size).toBe(192);
    expect(REAL_CACHES.task_struct?.size).toBe(4288);
  });

  it('parseGfpText reads back what formatGfp prints, names or raw numbers', () => {
    for (const g of [GFP_KERNEL, GFP_KERNEL | __GFP_ZERO, 0x18, 0x1000000 | GFP_KERNEL]) expect(parseGfpText(formatGfp(g))).toBe(g);
    expect(parseGfpText('0x18')).toBe(__GFP_MOVABLE | __GFP_RECLAIMABLE);
    expect(parseGfpText('none')).toBe(0);
  });
});
