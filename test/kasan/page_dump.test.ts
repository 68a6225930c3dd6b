/**
 * The physical page block of a KASAN report (dump_page() on 6.12+): a slab
 * page shows struct slab in its raw words (slab_cache, slab_list, freelist,
 * counters) and its type in page_type's top byte; a large kmalloc's index
 * is 0.
 */
import { describe, expect, it } from 'vitest';
import { GFP_KERNEL } from '../../src/page_alloc/gfp.js';
import { kasanBoot } from './helpers.js';

const hex16 = (v: bigint) => v.toString(16).padStart(16, '0');

describe('dump_page() in KASAN reports', () => {
  it('a slab page: freelist and counters in the second raw line, page_type f5000000', () => {
    const k = kasanBoot({ cpus: 1 });
    const c = k.kmemCacheCreate('dumped', 256, {});
    const objs = Array.from({ length: 3 }, () => k.kmemCacheAlloc(c, GFP_KERNEL));
    k.mem.read8(objs[0]! + 256 - 1 + 1); // one past the object: slab-out-of-bounds
    const lines = k.kasan!.reports().at(-1)!.lines;
    const at = lines.indexOf('The buggy address belongs to the physical page:');
    const block = lines.slice(at + 1, lines.indexOf('', at));
    const pageLine = block.find((l) => l.startsWith('page: '))!;
    const raws = block.filter((l) => l.startsWith('raw: '));
    expect(raws).toHaveLength(2);
    // The cpu slab: frozen, inuse = objects (its free objects sit on the cpu freelist), slab->freelist NULL.
    const objects = Number(k.sys.read('/sys/kernel/slab/dumped/objs_per_slab'));
    const counters = (0x80000000 | (objects << 16) | objects) >>> 0;
    expect(raws[1]).toBe(`raw: ${hex16(0n)} ${hex16(BigInt(counters))} 00000001f5000000 0000000000000000`);
    expect(pageLine).toMatch(/ index:0x0 pfn:0x[0-9a-f]+$/);
    expect(block).toContain('page_type: f5(slab)');
    // The first raw line: flags, then slab_cache, then the list links (none: dead000000000100/122).
    expect(raws[0]).toMatch(/^raw: [0-9a-f]{16} ffff888[0-9a-f]{9} dead000000000100 dead000000000122$/);
  });

  it('a large kmalloc: index 0, page_type f8000000', () => {
    const k = kasanBoot({ cpus: 1 });
    const p = k.kmalloc(10000, GFP_KERNEL);
    k.mem.read8(p + 10000);
    const lines = k.kasan!.reports().at(-1)!.lines;
    expect(lines.some((l) => / index:0x0 pfn:/.test(l))).toBe(true);
    expect(lines.some((l) => /^raw: 0000000000000000 0000000000000000 00000001f8000000 0000000000000000$/.test(l))).toBe(true);
  });
});
