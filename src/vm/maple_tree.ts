/**
 * The maple tree (lib/maple_tree.c) as far as its shape goes: a B-tree of
 * ranges whose every node is one maple_node object.
 *
 * The tree covers [0, ULONG_MAX] completely: every range holds an entry or
 * NULL (0 here), and two NULL ranges are never side by side. Leaves are
 * maple_leaf_64 nodes (16 slots, 15 pivots); the internal nodes of an
 * allocation tree such as mm->mm_mt (MT_FLAGS_ALLOC_RANGE) are maple_arange_64
 * nodes (10 slots, which leaves room for the gap array). A store decides, as
 * mas_wr_store_type() does, between an exact fit (no node), a slot store (no
 * node), an append (no node; never in RCU mode), a node store (in RCU mode a
 * new copy of the leaf replaces the old), a split that ripples up (pushing
 * into a sibling with room when it can, mas_push_data()), a rebalance with
 * a sibling when a leaf falls to mt_min_slots, and a spanning store that
 * rebuilds the nodes between both ends. The gap values kept in arange nodes
 * are not modelled: they never decide a node's shape.
 *
 * One rule is taken from a real 6.18's behaviour rather than from the
 * source read (an older lib/maple_tree.c, whose spanning rebalance rebuilds
 * every level up to the root): a rebalance or spanning store stops at the
 * first parent that holds the new nodes and stays sufficient; one new copy
 * of that parent goes in its place. With it kmem's maple_node allocations
 * match the ones traced on 6.18.44 to 2% (test/vm/maple_real.test.ts).
 *
 * Not modelled: the transient nodes mas_preallocate() takes for the worst
 * case and gives back unused (the slab sees them come and go within one
 * operation), the RCU delay before a replaced node is freed (kmem frees it at
 * once), the bulk-insert mode and dense nodes (neither is used by the mm).
 *
 * ULONG_MAX is MT_MAX here (2^53 - 1): user addresses stay far below it, and
 * index + 1 / last - 1 stay exact.
 */

/** ULONG_MAX of the tree's index space. */
export const MT_MAX = Number.MAX_SAFE_INTEGER;
/** MAPLE_RANGE64_SLOTS: a leaf's slots */
export const LEAF_SLOTS = 16;
/** MAPLE_ARANGE64_SLOTS: an allocation tree's internal node's slots */
export const ARANGE_SLOTS = 10;
/** mt_min_slots[maple_leaf_64] = 16 / 2 - 2 */
export const LEAF_MIN = 6;
/** mt_min_slots[maple_arange_64] = 10 / 2 - 1 */
export const ARANGE_MIN = 4;

/** Where a tree's nodes come from: kmem_cache_alloc / kmem_cache_free of maple_node. */
export interface MapleNodeSource {
  alloc(): number;
  free(addr: number): void;
}

/** One maple_node: its entries' upper bounds (inclusive), their values, its range. */
export class MapleNode {
  /** pivots: piv[i] is the last index slot i covers; piv[n - 1] is the node's max */
  readonly piv: number[] = [];
  /** leaf: entries (0 = NULL); internal: child nodes */
  readonly val: (number | MapleNode)[] = [];
  parent: MapleNode | null = null;
  constructor(
    readonly leaf: boolean,
    public min: number,
    readonly addr: number,
  ) {}
  get n(): number {
    return this.piv.length;
  }
  get max(): number {
    return this.piv[this.piv.length - 1]!;
  }
}

/** A big node (struct maple_big_node): the entries of one level being rebuilt. */
interface Big {
  piv: number[];
  val: (number | MapleNode)[];
}

/** mt_slots[] of a node: leaves maple_leaf_64; internal nodes maple_arange_64 in an allocation tree, else maple_range_64. */
function slotsOf(leaf: boolean, alloc: boolean): number {
  return leaf || !alloc ? LEAF_SLOTS : ARANGE_SLOTS;
}
/** mt_min_slots[] of a node. */
function minOf(leaf: boolean, alloc: boolean): number {
  return leaf || !alloc ? LEAF_MIN : ARANGE_MIN;
}

export class MapleTree {
  root: MapleNode | null = null;
  /** maple_node objects the tree holds now */
  nodes = 0;
  /** maple_node objects allocated / freed since the tree was made */
  allocs = 0;
  frees = 0;
  /** How the stores went (mas_wr_store_type's choices, and what a split did). */
  readonly stats = { exact: 0, slot: 0, append: 0, node: 0, split: 0, pushLeft: 0, pushRight: 0, rebalance: 0, spanning: 0 };

  /**
   * A tree holding one entry at index 0 and no node (mas_store_root()'s
   * pointer root), or 0.
   */
  rootEntry = 0;

  /**
   * rcu: MT_FLAGS_USE_RCU (the mm's tree has it): nodes are replaced, never
   * changed under readers, and no append. alloc: MT_FLAGS_ALLOC_RANGE (the
   * mm's tree has it): internal nodes are maple_arange_64.
   */
  constructor(
    private readonly src: MapleNodeSource | null,
    readonly rcu = true,
    readonly alloc = true,
  ) {}

  private newNode(leaf: boolean, min: number): MapleNode {
    this.nodes++;
    this.allocs++;
    return new MapleNode(leaf, min, this.src !== null ? this.src.alloc() : 0);
  }

  private freeNode(x: MapleNode): void {
    this.nodes--;
    this.frees++;
    if (this.src !== null) this.src.free(x.addr);
  }

  private destroySubtree(x: MapleNode): void {
    if (!x.leaf) for (const c of x.val) this.destroySubtree(c as MapleNode);
    this.freeNode(x);
  }

  /** The tree's height (MT_FLAGS_HEIGHT): 0 empty, 1 a root leaf. */
  height(): number {
    let h = 0;
    for (let x = this.root; x !== null; x = x.leaf ? null : (x.val[0] as MapleNode)) h++;
    return h;
  }

  /** mtree_load(): the entry at index (0 for NULL). */
  load(index: number): number {
    if (this.root === null) return index === 0 ? this.rootEntry : 0;
    let x: MapleNode | null = this.root;
    while (x !== null) {
      let i = 0;
      while (i < x.n - 1 && index > x.piv[i]!) i++;
      if (x.leaf) return x.val[i] as number;
      x = x.val[i] as MapleNode;
    }
    return 0;
  }

  /** Every range in order, NULL ranges included: cb(first, last, entry). */
  forEach(cb: (first: number, last: number, entry: number) => void): void {
    const walk = (x: MapleNode): void => {
      let lo = x.min;
      for (let i = 0; i < x.n; i++) {
        const v = x.val[i]!;
        if (x.leaf) cb(lo, x.piv[i]!, v as number);
        else walk(v as MapleNode);
        lo = x.piv[i]! + 1;
      }
    };
    if (this.root !== null) walk(this.root);
  }

  /** Every node, parents before children. */
  forEachNode(cb: (x: MapleNode, depth: number) => void): void {
    const walk = (x: MapleNode, d: number): void => {
      cb(x, d);
      if (!x.leaf) for (const c of x.val) walk(c as MapleNode, d + 1);
    };
    if (this.root !== null) walk(this.root, 1);
  }

  /** __mt_dup(): a copy of this tree, node for node, its nodes from src. */
  dup(src: MapleNodeSource | null): MapleTree {
    const t = new MapleTree(src, this.rcu, this.alloc);
    t.rootEntry = this.rootEntry;
    const copy = (x: MapleNode, parent: MapleNode | null): MapleNode => {
      const y = t.newNode(x.leaf, x.min);
      y.parent = parent;
      for (let i = 0; i < x.n; i++) {
        y.piv.push(x.piv[i]!);
        y.val.push(x.leaf ? x.val[i]! : copy(x.val[i] as MapleNode, y));
      }
      return y;
    };
    if (this.root !== null) t.root = copy(this.root, null);
    return t;
  }

  /** __mt_destroy(): free every node. */
  destroy(): void {
    if (this.root !== null) this.destroySubtree(this.root);
    this.root = null;
    this.rootEntry = 0;
  }

  /**
   * mtree_store_range(): entry over [index, last]. An entry of 0 erases
   * (stores NULL, which joins the NULL ranges beside it).
   */
  store(index: number, last: number, entry: number): void {
    if (!Number.isInteger(index) || index < 0 || index > MT_MAX) throw new RangeError(`maple store: index ${index} out of range`);
    if (!Number.isInteger(last) || last < index || last > MT_MAX) throw new RangeError(`maple store: last ${last} out of range`);
    if (!Number.isInteger(entry) || entry < 0) throw new TypeError(`maple store: entry ${entry} is not a non-negative integer`);
    if (this.root === null) {
      // mas_store_root(): one entry at 0 alone needs no node.
      if (index === 0 && last === 0) this.rootEntry = entry;
      else if (entry !== 0 || (index === 0 && this.rootEntry !== 0)) {
        const old = this.rootEntry;
        this.rootEntry = 0;
        if (entry !== 0) this.rootExpand(index, last, entry, old);
      }
      return;
    }
    if (index === 0 && last === MT_MAX) {
      this.newRoot(entry);
      return;
    }
    // mas_wr_walk(): descend, stopping where the write spans a node boundary.
    let x = this.root;
    let min = 0;
    let max = MT_MAX;
    for (;;) {
      let off = 0;
      while (off < x.n - 1 && index > x.piv[off]!) off++;
      const rMax = x.piv[off]!;
      // mas_is_span_wr()
      if (last >= rMax) {
        const lim = x.leaf ? max : rMax;
        if (last > lim || (last === lim && entry === 0 && last !== MT_MAX)) {
          this.stats.spanning++;
          this.spanningStore(x, min, index, last, entry);
          return;
        }
      }
      if (x.leaf) {
        this.leafStore(x, min, max, off, index, last, entry);
        return;
      }
      min = off > 0 ? x.piv[off - 1]! + 1 : min;
      max = rMax;
      x = x.val[off] as MapleNode;
    }
  }

  /** mas_root_expand(): an entry beside the pointer root (old, at 0) or the first makes a root leaf. */
  private rootExpand(index: number, last: number, entry: number, old: number): void {
    const r = this.newNode(true, 0);
    if (index > 0) {
      if (old !== 0 && index > 1) {
        r.piv.push(0);
        r.val.push(old);
      }
      r.piv.push(index - 1);
      r.val.push(old !== 0 && index === 1 ? old : 0);
    }
    r.piv.push(last);
    r.val.push(entry);
    if (last !== MT_MAX) {
      r.piv.push(MT_MAX);
      r.val.push(0);
    }
    this.root = r;
  }

  /** mas_new_root(): one entry over everything (a NULL empties the tree). */
  private newRoot(entry: number): void {
    const old = this.root;
    this.root = null;
    if (entry !== 0) {
      const r = this.newNode(true, 0);
      r.piv.push(MT_MAX);
      r.val.push(entry);
      this.root = r;
    }
    if (old !== null) this.destroySubtree(old);
  }

  /** Replace node old (same range) by node x in old's parent, or as the root. */
  private replace(old: MapleNode, x: MapleNode): void {
    const p = old.parent;
    x.parent = p;
    if (p === null) this.root = x;
    else p.val[p.val.indexOf(old)] = x;
  }

  /** A node of the given kind over bn's entries [a, b], its range starting at min. */
  private fill(leaf: boolean, min: number, bn: Big, a: number, b: number): MapleNode {
    const x = this.newNode(leaf, min);
    for (let i = a; i <= b; i++) {
      x.piv.push(bn.piv[i]!);
      const v = bn.val[i]!;
      x.val.push(v);
      if (!leaf) (v as MapleNode).parent = x;
    }
    return x;
  }

  /**
   * A write within one leaf: mas_wr_store_type() and the store it picks. The
   * leaf's range [min, max] does not change, so no parent changes unless
   * the leaf splits or falls below mt_min_slots.
   */
  private leafStore(x: MapleNode, min: number, max: number, off: number, index: number, last: number, entry: number): void {
    const end = x.n - 1;
    let rMin = off > 0 ? x.piv[off - 1]! + 1 : min;
    let rMax = x.piv[off]!;
    const content = x.val[off] as number;
    // mas_wr_end_piv()
    let offEnd = off;
    while (offEnd < end && last > x.piv[offEnd]!) offEnd++;
    let endPiv = x.piv[offEnd]!;
    if (entry === 0) {
      // mas_wr_extend_null(): the NULL takes in the NULL ranges it touches.
      if (x.val[offEnd] === 0) last = endPiv;
      else if (last === endPiv && offEnd !== end && x.val[offEnd + 1] === 0) {
        offEnd++;
        last = x.piv[offEnd]!;
        endPiv = last;
      }
      if (content === 0) index = rMin;
      else if (index === rMin && off > 0 && x.val[off - 1] === 0) {
        off--;
        rMin = index = off > 0 ? x.piv[off - 1]! + 1 : min;
        rMax = x.piv[off]!;
      }
    }
    if (rMin === index && rMax === last) {
      this.stats.exact++;
      x.val[off] = entry; // wr_exact_fit
      return;
    }
    if (index === 0 && last === MT_MAX) {
      this.newRoot(entry);
      return;
    }
    const newEnd = end + 2 - (offEnd - off) - (rMin === index ? 1 : 0) - (endPiv === last ? 1 : 0);
    // mas_store_b_node(): the leaf's entries with the write in place.
    const bn: Big = { piv: [], val: [] };
    for (let i = 0; i < off; i++) {
      bn.piv.push(x.piv[i]!);
      bn.val.push(x.val[i]!);
    }
    if (rMin < index) {
      bn.piv.push(index - 1);
      bn.val.push(content);
    }
    bn.piv.push(last);
    bn.val.push(entry);
    if (last < max) {
      if (endPiv > last) {
        bn.piv.push(endPiv);
        bn.val.push(x.val[offEnd]!);
      }
      for (let i = offEnd + 1; i <= end; i++) {
        bn.piv.push(x.piv[i]!);
        bn.val.push(x.val[i]!);
      }
    }
    if (newEnd < LEAF_MIN && x.parent !== null) {
      this.stats.rebalance++;
      this.rebalance(x, bn);
      return;
    }
    if (newEnd >= LEAF_SLOTS) {
      this.stats.split++;
      this.split(x, bn);
      return;
    }
    const append = !this.rcu && off === end;
    const slotStore = newEnd === end && (!this.rcu || offEnd - off === 1);
    if (append) this.stats.append++;
    else if (slotStore) this.stats.slot++;
    else this.stats.node++;
    if (append || slotStore) {
      // wr_append / wr_slot_store: in place.
      x.piv.length = 0;
      x.val.length = 0;
      x.piv.push(...bn.piv);
      x.val.push(...bn.val);
      return;
    }
    // wr_node_store: in RCU mode a new leaf replaces the old one.
    if (this.rcu) {
      const y = this.fill(true, x.min, bn, 0, bn.piv.length - 1);
      this.replace(x, y);
      this.freeNode(x);
    } else {
      x.piv.length = 0;
      x.val.length = 0;
      x.piv.push(...bn.piv);
      x.val.push(...bn.val);
    }
  }

  /** mab_no_null_split(): a node may not end on a NULL (bEnd as the caller has it). */
  private static noNullSplit(bn: Big, split: number, slots: number, bEnd: number, leaf: boolean, alloc: boolean): number {
    if (bn.val[split] === 0) {
      if (split < slots - 1 && bEnd - split > minOf(leaf, alloc)) split++;
      else split--;
    }
    return split;
  }

  /**
   * mab_calc_split(): where bn (last index bEnd) splits in two, or in three
   * when it cannot fit two nodes (the second split in mid, else 0). Nodes
   * split near the middle; a split point on a NULL moves to keep NULLs off a
   * node's end.
   */
  private static calcSplit(bn: Big, bEnd: number, leaf: boolean, alloc: boolean, min: number): [number, number] {
    const slots = slotsOf(leaf, alloc);
    let split = bEnd >> 1;
    let mid = 0;
    if (bEnd >= 2 * slots || (bn.val[split] === 0 && bEnd >= 2 * slots - 1)) {
      split = Math.floor(bEnd / 3);
      mid = split * 2;
    } else {
      while (split < slots - 1 && bn.piv[split]! - min < slots - 1 && bEnd - split > minOf(leaf, alloc)) split++;
    }
    split = MapleTree.noNullSplit(bn, split, slots, bEnd, leaf, alloc);
    if (mid !== 0) mid = MapleTree.noNullSplit(bn, mid, slots, bEnd, leaf, alloc);
    return [split, mid];
  }

  /** The parent's entries with children [from..to] replaced by the nodes in put. */
  private static parentBig(p: MapleNode, from: number, to: number, put: MapleNode[]): Big {
    const bn: Big = { piv: [], val: [] };
    for (let i = 0; i < from; i++) {
      bn.piv.push(p.piv[i]!);
      bn.val.push(p.val[i]!);
    }
    for (const c of put) {
      bn.piv.push(c.max);
      bn.val.push(c);
    }
    for (let i = to + 1; i < p.n; i++) {
      bn.piv.push(p.piv[i]!);
      bn.val.push(p.val[i]!);
    }
    return bn;
  }

  /**
   * mas_split(): bn is too big for the node x it replaces. Level by level
   * upwards: a bn that fits becomes one new node in x's place; else it is
   * pushed into a sibling with room (mas_push_data(), left first), which ends
   * the ripple with a new parent, or split in two and the parent takes both.
   * A split root makes a new root above.
   */
  private split(x: MapleNode, bn: Big): void {
    // mas_split() passes the previous level's left min, 0 at the leaves.
    let lmin = 0;
    for (;;) {
      const leaf = x.leaf;
      const slots = slotsOf(leaf, this.alloc);
      if (bn.piv.length <= slots) {
        // mas_split_final_node()
        const y = this.fill(leaf, x.min, bn, 0, bn.piv.length - 1);
        this.replace(x, y);
        this.freeNode(x);
        return;
      }
      const p = x.parent;
      if (p !== null && this.pushData(x, p, bn, true)) return;
      if (p !== null && this.pushData(x, p, bn, false)) return;
      const bEnd = bn.piv.length - 1;
      const [split] = MapleTree.calcSplit(bn, bEnd, leaf, this.alloc, lmin);
      const l = this.fill(leaf, x.min, bn, 0, split);
      const r = this.fill(leaf, bn.piv[split]! + 1, bn, split + 1, bEnd);
      if (p === null) {
        const root = this.newNode(false, 0);
        root.piv.push(l.max, r.max);
        root.val.push(l, r);
        l.parent = root;
        r.parent = root;
        this.root = root;
        this.freeNode(x);
        return;
      }
      const i = p.val.indexOf(x);
      const up = MapleTree.parentBig(p, i, i, [l, r]);
      this.freeNode(x);
      lmin = l.min;
      x = p;
      bn = up;
    }
  }

  /**
   * mas_push_data(): instead of splitting x, share bn with the sibling on
   * one side when both fit in two nodes with room to spare: the node on the
   * sibling's side takes mt_slots - 1 entries, the other the rest, and the
   * parent is rebuilt around the pair.
   */
  private pushData(x: MapleNode, p: MapleNode, bn: Big, left: boolean): boolean {
    const i = p.val.indexOf(x);
    const j = left ? i - 1 : i + 1;
    if (j < 0 || j >= p.n) return false;
    const sib = p.val[j] as MapleNode;
    const leaf = x.leaf;
    const slots = slotsOf(leaf, this.alloc);
    const slotTotal = bn.piv.length - 1 + (sib.n - 1);
    let space = 2 * slots - 2;
    if (leaf) space--;
    if (x.max === MT_MAX) space--;
    if (slotTotal >= space) return false;
    if (left) this.stats.pushLeft++;
    else this.stats.pushRight++;
    const all: Big = { piv: [], val: [] };
    const first = left ? sib : null;
    if (first !== null)
      for (let k = 0; k < first.n; k++) {
        all.piv.push(first.piv[k]!);
        all.val.push(first.val[k]!);
      }
    all.piv.push(...bn.piv);
    all.val.push(...bn.val);
    if (!left)
      for (let k = 0; k < sib.n; k++) {
        all.piv.push(sib.piv[k]!);
        all.val.push(sib.val[k]!);
      }
    // The kernel's b_end is the last index after a push left, the count after a push right.
    let split = left ? slots - 2 : slotTotal - (slots - 2);
    split = MapleTree.noNullSplit(all, split, slots, left ? slotTotal + 1 : all.piv.length, leaf, this.alloc);
    const lo = left ? sib.min : x.min;
    const l = this.fill(leaf, lo, all, 0, split);
    const r = this.fill(leaf, all.piv[split]! + 1, all, split + 1, all.piv.length - 1);
    const up = MapleTree.parentBig(p, Math.min(i, j), Math.max(i, j), [l, r]);
    this.freeNode(x);
    this.freeNode(sib);
    // The parent keeps its entry count: one new node in its place.
    const q = this.fill(false, p.min, up, 0, up.piv.length - 1);
    this.replace(p, q);
    this.freeNode(p);
    return true;
  }

  /**
   * mas_rebalance(): leaf x would keep too few entries (bn): take in the
   * next sibling's entries (the previous one's for the last child) and
   * rebuild upwards.
   */
  private rebalance(x: MapleNode, bn: Big): void {
    const p = x.parent!;
    const i = p.val.indexOf(x);
    if (i + 1 < p.n) {
      const r = p.val[i + 1] as MapleNode;
      for (let k = 0; k < r.n; k++) {
        bn.piv.push(r.piv[k]!);
        bn.val.push(r.val[k]!);
      }
      this.spanningRebalance(bn, x, r, x.min);
      return;
    }
    const l = p.val[i - 1] as MapleNode;
    const pre: Big = { piv: l.piv.slice(), val: l.val.slice() };
    pre.piv.push(...bn.piv);
    pre.val.push(...bn.val);
    this.spanningRebalance(pre, l, x, l.min);
    return;
  }

  /**
   * mas_wr_walk_index() from node top (range [min, max]): down to a leaf,
   * at each level the first slot whose pivot is >= index, else the last.
   * Returns the leaf, the offset, that slot's first index and its last.
   */
  private static walkFrom(top: MapleNode, min: number, index: number): [MapleNode, number, number, number] {
    let x = top;
    for (;;) {
      let off = 0;
      while (off < x.n - 1 && index > x.piv[off]!) off++;
      const rMin = off > 0 ? x.piv[off - 1]! + 1 : min;
      if (x.leaf) return [x, off, rMin, x.piv[off]!];
      min = rMin;
      x = x.val[off] as MapleNode;
    }
  }

  /**
   * mas_wr_spanning_store(): a write whose range crosses out of a child of
   * node top (or a NULL that would end the leaf top). Both ends are walked
   * down from top: the left leaf's entries below index, the entry, and the
   * entries of the leaf holding last + 1 above last become one big node,
   * rebuilt up to the root with everything in between dropped. When top is
   * the leaf itself, last + 1 lies past it: the right side is the same leaf
   * and nothing of the next leaf is taken in (the leaf may then end on NULL).
   */
  private spanningStore(top: MapleNode, topMin: number, index: number, last: number, entry: number): void {
    const [rl, rOffWalk, , rMaxWalk] = MapleTree.walkFrom(top, topMin, last + 1 <= MT_MAX ? last + 1 : last);
    let rOff = rOffWalk;
    const [ll, lOffWalk, lSlotMin] = MapleTree.walkFrom(top, topMin, index);
    let lOff = lOffWalk;
    if (entry === 0) {
      // mas_extend_spanning_null()
      if (ll.val[lOff] === 0) index = lSlotMin;
      if (index === lSlotMin && lOff > 0 && ll.val[lOff - 1] === 0) {
        lOff--;
        index = lOff > 0 ? ll.piv[lOff - 1]! + 1 : ll.min;
      }
      if (rl.val[rOff] === 0) {
        if (last < rMaxWalk) last = rMaxWalk;
        rOff++;
      }
    }
    if (index === 0 && last === MT_MAX) {
      this.newRoot(entry);
      return;
    }
    const bn: Big = { piv: [], val: [] };
    for (let i = 0; i < lOff; i++) {
      bn.piv.push(ll.piv[i]!);
      bn.val.push(ll.val[i]!);
    }
    const lStart = lOff > 0 ? ll.piv[lOff - 1]! + 1 : ll.min;
    if (lStart < index) {
      bn.piv.push(index - 1);
      bn.val.push(ll.val[lOff]!);
    }
    bn.piv.push(last);
    bn.val.push(entry);
    if (rl.max > last)
      for (let i = rOff; i < rl.n; i++) {
        if (rl.piv[i]! <= last) continue;
        bn.piv.push(rl.piv[i]!);
        bn.val.push(rl.val[i]!);
      }
    this.spanningRebalance(bn, ll, rl, ll.min);
  }

  /** The next node at x's level (through the ancestors), or null. */
  private static nextAtLevel(x: MapleNode): MapleNode | null {
    let depth = 0;
    let c = x;
    while (c.parent !== null) {
      const p: MapleNode = c.parent;
      depth++;
      const i = p.val.indexOf(c);
      if (i + 1 < p.n) {
        let y = p.val[i + 1] as MapleNode;
        while (--depth > 0) y = y.val[0] as MapleNode;
        return y;
      }
      c = p;
    }
    return null;
  }

  /**
   * mast_spanning_rebalance(): bn is too small; take in the whole node next to
   * the span at this level, preferring the right side at each height up.
   * Returns the new [l, r, min].
   */
  private static pullNeighbour(bn: Big, l: MapleNode, r: MapleNode, min: number): [MapleNode, MapleNode, number] {
    // Ascend both sides together; at each height, right first, then left.
    let cl = l;
    let cr = r;
    let depth = 0;
    while (cr.parent !== null && cl.parent !== null) {
      const pr: MapleNode = cr.parent;
      const pl: MapleNode = cl.parent;
      depth++;
      const ir = pr.val.indexOf(cr);
      if (ir + 1 < pr.n) {
        let y = pr.val[ir + 1] as MapleNode;
        for (let d = depth; d > 1; d--) y = y.val[0] as MapleNode;
        for (let k = 0; k < y.n; k++) {
          bn.piv.push(y.piv[k]!);
          bn.val.push(y.val[k]!);
        }
        return [l, y, min];
      }
      const il = pl.val.indexOf(cl);
      if (il > 0) {
        let y = pl.val[il - 1] as MapleNode;
        for (let d = depth; d > 1; d--) y = y.val[y.n - 1] as MapleNode;
        bn.piv.unshift(...y.piv);
        bn.val.unshift(...y.val);
        return [y, r, y.min];
      }
      cr = pr;
      cl = pl;
    }
    return [l, r, min];
  }

  /**
   * mas_spanning_rebalance(): bn holds the entries that replace the nodes l
   * to r of one level (and all nodes between them). Level by level up to the
   * root: a bn with too few entries first takes in a neighbour node, then
   * makes one, two or (rarely) three new nodes; the parents' entries outside
   * the span plus the new nodes make the next level's bn. Old nodes are
   * freed, the subtrees between l and r destroyed.
   */
  private spanningRebalance(bn: Big, l: MapleNode, r: MapleNode, min: number): void {
    let leaf = l.leaf;
    if ((min !== 0 || r.max !== MT_MAX) && bn.piv.length <= minOf(leaf, this.alloc)) [l, r, min] = MapleTree.pullNeighbour(bn, l, r, min);
    for (;;) {
      leaf = l.leaf;
      const slots = slotsOf(leaf, this.alloc);
      const bEnd = bn.piv.length - 1;
      const made: MapleNode[] = [];
      if (bEnd < slots) made.push(this.fill(leaf, min, bn, 0, bEnd));
      else {
        const [split, mid] = MapleTree.calcSplit(bn, bEnd, leaf, this.alloc, min);
        made.push(this.fill(leaf, min, bn, 0, split));
        if (mid !== 0) made.push(this.fill(leaf, bn.piv[split]! + 1, bn, split + 1, mid));
        const from = (mid !== 0 ? mid : split) + 1;
        made.push(this.fill(leaf, bn.piv[from - 1]! + 1, bn, from, bEnd));
      }
      if (made.length === 1 && min === 0 && made[0]!.max === MT_MAX) {
        // The one node covers everything: it is the new root, and every old node above the span goes.
        for (let a: MapleNode | null = l, b: MapleNode | null = r; a !== null && b !== null; a = a.parent, b = b.parent) this.freeSpan(a, b);
        made[0]!.parent = null;
        this.root = made[0]!;
        return;
      }
      const pl = l.parent;
      const pr = r.parent;
      if (pl === null || pr === null) {
        // l and r were the root, now split: a new root above.
        this.freeSpan(l, r);
        const root = this.newNode(false, 0);
        for (const c of made) {
          root.piv.push(c.max);
          root.val.push(c);
          c.parent = root;
        }
        this.root = root;
        return;
      }
      // mast_ascend() + mast_combine_cp_left/right()
      const il = pl.val.indexOf(l);
      const ir = pr.val.indexOf(r);
      const up: Big = { piv: [], val: [] };
      for (let i = 0; i < il; i++) {
        up.piv.push(pl.piv[i]!);
        up.val.push(pl.val[i]!);
      }
      for (const c of made) {
        up.piv.push(c.max);
        up.val.push(c);
      }
      for (let i = ir + 1; i < pr.n; i++) {
        up.piv.push(pr.piv[i]!);
        up.val.push(pr.val[i]!);
      }
      this.freeSpan(l, r);
      const upLeaf = false;
      const n = up.piv.length;
      if (pl === pr && n > minOf(upLeaf, this.alloc) && n <= slotsOf(upLeaf, this.alloc)) {
        // Converged: one parent takes the new nodes and stays sufficient, so one new copy of it
        // goes in its place and nothing above changes (6.18's allocations, traced on a real
        // machine, show no node made above this level).
        const q = this.fill(false, pl.min, up, 0, n - 1);
        this.replace(pl, q);
        this.freeNode(pl);
        return;
      }
      l = pl;
      r = pr;
      min = pl.min;
      bn = up;
      if (n > minOf(upLeaf, this.alloc) || n >= slotsOf(upLeaf, this.alloc)) continue;
      if (l.parent === null && r.parent === null) {
        // Too few entries for a sufficient node, but this is the root: a new root from bn.
        this.freeSpan(l, r);
        const root = this.fill(false, 0, bn, 0, n - 1);
        root.parent = null;
        this.root = root;
        return;
      }
      [l, r, min] = MapleTree.pullNeighbour(bn, l, r, min);
    }
  }

  /**
   * Free the old nodes l..r of one level, those strictly between included.
   * The level below was freed first: every child of these nodes either sat
   * in that level's span or now hangs from a new node.
   */
  private freeSpan(l: MapleNode, r: MapleNode): void {
    if (l !== r) {
      for (let y = MapleTree.nextAtLevel(l); y !== null && y !== r; y = MapleTree.nextAtLevel(y)) this.freeNode(y);
      this.freeNode(r);
    }
    this.freeNode(l);
  }
}
