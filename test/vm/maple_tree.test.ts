/**
 * The maple tree's shape, worked by hand from lib/maple_tree.c's rules (6.18):
 * leaves hold 16 ranges, allocation-tree internal nodes 10; a store in RCU
 * mode (the mm's tree) that changes a leaf's pivots copies the leaf (one new
 * node, the old one freed), a leaf that would hold 17 splits (at b_end / 2,
 * moved off a NULL), or first pushes into its left sibling when the two fit
 * in 2 * 16 - 2 slots less one for a leaf and one for the rightmost node
 * (mas_push_data: the left node then takes 15). The trees here hold page-sized
 * ranges (as VMAs are), so mab_calc_split's rule for ranges narrower than a
 * node's slot count never applies.
 */
import { describe, expect, it } from 'vitest';
import { MapleTree, MT_MAX } from '../../src/vm/maple_tree.js';
import { validateMaple } from './maple_check.js';

const PG = 0x1000;

function ranges(t: MapleTree): [number, number, number][] {
  const out: [number, number, number][] = [];
  t.forEach((a, b, e) => {
    out.push([a, b, e]);
  });
  return out;
}

function leafSizes(t: MapleTree): number[] {
  const out: number[] = [];
  t.forEachNode((x) => {
    if (x.leaf) out.push(x.n);
  });
  return out;
}

/** k page-sized ranges side by side from PG up (entry i at [i * PG, (i + 1) * PG - 1]), stored in ascending order. */
function ascending(k: number): MapleTree {
  const t = new MapleTree(null, true);
  for (let i = 1; i <= k; i++) t.store(i * PG, (i + 1) * PG - 1, i);
  return t;
}

describe('maple tree shape', () => {
  it('one range: mas_root_expand makes one leaf of three ranges', () => {
    const t = ascending(1);
    expect(ranges(t)).toEqual([
      [0, PG - 1, 0],
      [PG, 2 * PG - 1, 1],
      [2 * PG, MT_MAX, 0],
    ]);
    expect(t.nodes).toBe(1);
    expect(t.allocs).toBe(1);
  });

  it('14 ranges fill the root leaf (NULL, 14 entries, NULL = 16 slots); each store after the first copies the leaf (RCU node store)', () => {
    const t = ascending(14);
    expect(leafSizes(t)).toEqual([16]);
    expect(t.nodes).toBe(1);
    // 1 (root expand) + 13 node stores.
    expect(t.allocs).toBe(14);
    expect(t.frees).toBe(13);
  });

  it('the 15th range splits the root leaf: 17 entries, b_end 16, split 8 (not NULL): 9 and 8, a new root above', () => {
    const t = ascending(15);
    expect(leafSizes(t)).toEqual([9, 8]);
    expect(t.height()).toBe(2);
    expect(t.nodes).toBe(3);
    // 14 as above, then the split's left, right and root.
    expect(t.allocs).toBe(17);
    expect(validateMaple(t)).toBeNull();
  });

  it('16 and 17 ranges: the right leaf grows by node stores', () => {
    expect(leafSizes(ascending(16))).toEqual([9, 9]);
    const t = ascending(17);
    expect(leafSizes(t)).toEqual([9, 10]);
    expect(t.nodes).toBe(3);
    expect(t.allocs).toBe(19);
  });

  it('24 ranges: the right leaf reaches 17 and pushes left (b_end 16 + sibling end 8 = 24 < 2*16-2-1-1): 15 and 11', () => {
    expect(leafSizes(ascending(23))).toEqual([9, 16]);
    const t = ascending(24);
    expect(leafSizes(t)).toEqual([15, 11]);
    expect(t.nodes).toBe(3);
    expect(validateMaple(t)).toBeNull();
  });

  it('30 ranges: a full left sibling (16 + 14 >= 28) makes the right leaf split 9 / 8 under the same root', () => {
    expect(leafSizes(ascending(30))).toEqual([15, 9, 8]);
    expect(ascending(30).nodes).toBe(4);
  });

  it('100 ranges ascending: split at 15, then push / split in turn every 9 and 6 stores: 7 leaves, 8 nodes, 124 allocations', () => {
    // Pushes or splits at k = 15, 24, 30, 39, 45, 54, 60, 69, 75, 84, 90, 99 (12 events of 3 allocations
    // instead of the node store's 1); the other 87 stores after the first copy the leaf once each.
    const t = ascending(100);
    expect(leafSizes(t)).toEqual([15, 15, 15, 15, 15, 15, 12]);
    expect(t.nodes).toBe(8);
    expect(t.allocs).toBe(1 + 99 + 2 * 12);
    expect(t.frees).toBe(t.allocs - 8);
    expect(validateMaple(t)).toBeNull();
  });

  it('erasing back in descending order keeps the invariants and returns every node', () => {
    const t = ascending(100);
    for (let i = 100; i >= 1; i--) {
      t.store(i * PG, (i + 1) * PG - 1, 0);
      expect(validateMaple(t)).toBeNull();
    }
    expect(t.root).toBeNull();
    expect(t.nodes).toBe(0);
    expect(t.frees).toBe(t.allocs);
  });

  it('erasing the last range (a NULL over it joins the NULL above: 12 -> 11 entries) copies the leaf', () => {
    const t = ascending(100);
    const a = t.allocs;
    t.store(100 * PG, 101 * PG - 1, 0);
    expect(leafSizes(t)).toEqual([15, 15, 15, 15, 15, 15, 11]);
    expect(t.allocs - a).toBe(1);
  });

  it('overwriting a range with another entry is an exact fit: no node', () => {
    const t = ascending(40);
    const a = t.allocs;
    t.store(7 * PG, 8 * PG - 1, 777);
    expect(t.allocs).toBe(a);
    expect(t.load(7 * PG + 5)).toBe(777);
  });

  it('a NULL store across many leaves (munmap of a range) rebuilds the span and keeps the invariants', () => {
    const t = ascending(300);
    t.store(20 * PG, 250 * PG - 1, 0);
    expect(validateMaple(t)).toBeNull();
    expect(t.load(20 * PG)).toBe(0);
    expect(t.load(19 * PG)).toBe(19);
    expect(t.load(250 * PG)).toBe(250);
    expect(ranges(t).length).toBe(3 + 19 + 51);
  });

  it('without RCU, storing at the end of a leaf appends in place', () => {
    const t = new MapleTree(null, false);
    for (let i = 1; i <= 14; i++) t.store(i * PG, (i + 1) * PG - 1, i);
    // The first store expands the root; every later one lands in the last slot (wr_append).
    expect(t.allocs).toBe(1);
  });

  it("munmap's side tree (mt_detach: no RCU, range_64 internal nodes) indexed 0, 1, 2...: pointer root, expand, appends, a dense split", () => {
    const t = new MapleTree(null, false, false);
    // Index 0 alone is the pointer root: no node.
    t.store(0, 0, 100);
    expect(t.nodes).toBe(0);
    expect(t.load(0)).toBe(100);
    // Index 1: mas_root_expand() puts the old entry at 0, the new at 1, NULL above: one leaf.
    t.store(1, 1, 101);
    expect(ranges(t)).toEqual([
      [0, 0, 100],
      [1, 1, 101],
      [2, MT_MAX, 0],
    ]);
    // 2..14 append in place (no RCU): 16 slots used, still one node.
    for (let i = 2; i <= 14; i++) t.store(i, i, 100 + i);
    expect(t.allocs).toBe(1);
    // 15 makes 17: mab_calc_split starts at 16 / 2 = 8 and moves right while the pivot is less than
    // slots - 1 = 15 above the node's min (0) and the right keeps more than 6: 9, then 10 (16 - 10 = 6 stops it).
    t.store(15, 15, 115);
    expect(leafSizes(t)).toEqual([11, 6]);
    expect(t.allocs).toBe(4);
    expect(t.nodes).toBe(3);
  });

  it('dup copies node for node', () => {
    const t = ascending(100);
    const d = t.dup(null);
    expect(d.nodes).toBe(8);
    expect(ranges(d)).toEqual(ranges(t));
    expect(validateMaple(d)).toBeNull();
  });

  it('rejects bad arguments', () => {
    const t = new MapleTree(null);
    expect(() => t.store(-1, 5, 1)).toThrow(RangeError);
    expect(() => t.store(10, 5, 1)).toThrow(RangeError);
    expect(() => t.store(0, 5, 1.5)).toThrow(TypeError);
  });
});
