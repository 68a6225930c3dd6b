/** Checks shared by the maple tree tests. */
import type { Kernel } from '../../src/kernel.js';
import { ARANGE_MIN, ARANGE_SLOTS, LEAF_MIN, LEAF_SLOTS, type MapleTree, MT_MAX } from '../../src/vm/maple_tree.js';

/** maple_node objects allocated and not freed (the slab's own counters). */
export function liveMaple(k: Kernel): number {
  const c = k.inspect.cacheCounters(k.vm.caches.mapleNode);
  return c.allocs - c.frees;
}

/** The kernel's invariants (mt_validate): what a tree may never show. */
export function validateMaple(t: MapleTree): string | null {
  if (t.root === null) return t.nodes === 0 ? null : `empty tree holds ${t.nodes} nodes`;
  let count = 0;
  let leafDepth = -1;
  let err: string | null = null;
  t.forEachNode((x, d) => {
    count++;
    if (err !== null) return;
    const slots = x.leaf ? LEAF_SLOTS : ARANGE_SLOTS;
    const min = x.leaf ? LEAF_MIN : ARANGE_MIN;
    if (x.n > slots) err = `node at depth ${d} holds ${x.n} > ${slots}`;
    // mt_validate: a node other than the root (or the rightmost, max ULONG_MAX) has its data end >= mt_min_slots.
    else if (x.parent !== null && x.max !== MT_MAX && x.n - 1 < min) err = `node [${x.min}, ${x.max}] at depth ${d} holds only ${x.n}`;
    else if (x.leaf) for (let i = 1; i < x.n; i++) if (x.val[i] === 0 && x.val[i - 1] === 0) err = `two NULLs side by side in leaf [${x.min}, ${x.max}]`;
    if (x.leaf) {
      if (leafDepth < 0) leafDepth = d;
      else if (leafDepth !== d) err = `leaves at depths ${leafDepth} and ${d}`;
    } else {
      let lo = x.min;
      for (let i = 0; i < x.n; i++) {
        const c = x.val[i] as typeof x;
        if (c.parent !== x) err = 'bad parent pointer';
        if (c.min !== lo || c.max !== x.piv[i]) err = `child ${i} covers [${c.min}, ${c.max}], parent says [${lo}, ${x.piv[i]}]`;
        lo = x.piv[i]! + 1;
      }
    }
  });
  if (err !== null) return err;
  if (count !== t.nodes) return `tree counts ${t.nodes} nodes, holds ${count}`;
  // (A NULL store that ends a leaf leaves the leaf ending on NULL, as mas_wr_spanning_store() does
  // when the write spans from the leaf itself: the next leaf may then start with a NULL too.)
  let next = 0;
  t.forEach((first, last) => {
    if (err !== null) return;
    if (first !== next) err = `range starts at ${first}, expected ${next}`;
    next = last + 1;
  });
  if (err === null && next !== MT_MAX + 1) err = `ranges end at ${next - 1}`;
  return err;
}

/** The tree's ranges, NULL ranges side by side (across two leaves) joined: what a lookup sees. */
export function mapleRanges(t: MapleTree): number[] {
  const out: number[] = [];
  t.forEach((a, b, e) => {
    const n = out.length;
    if (e === 0 && n > 0 && out[n - 1] === 0) out[n - 2] = b;
    else out.push(a, b, e);
  });
  return out;
}
