/**
 * The xarray (lib/xarray.c) a file's page cache lives in, with its nodes in
 * kmem's memory: each node is an object of the `radix_tree_node` slab cache
 * (struct xa_node, 576 bytes on 6.18 x86-64), laid out as the kernel's:
 *
 *   0 shift  1 offset  2 count  3 nr_values  8 parent  16 array
 *   24 private_list / rcu_head (16)  40 slots[64] (8 each)  552 marks[3] (a 64-bit bitmap each)
 *
 * A slot holds a tagged 64-bit word as the kernel's does: a pointer to a
 * child node is the node's address | 2 (xa_mk_node); a page is its struct
 * page address in the vmemmap (0xffffea0000000000 + pfn * 64), low bits 00.
 * The array's head (xa_head) and its mark flags (XA_FLAGS_MARK) live in the
 * address_space, here this object. A tree of height h indexes up to
 * 64^h - 1; a lone page at index 0 sits in the head with no node at all
 * (as the kernel stores it), and erasing shrinks the tree back (xas_shrink).
 *
 * Invariant: a node's count is its number of non-empty slots, and a mark
 * bit is set in a node for a slot iff the slot is a marked page (leaf) or a
 * child node with some bit of that mark set; the head's mark flag iff any.
 *
 * In JavaScript an entry is a number: 0 empty, > 0 a node's address,
 * < 0 a page, -(pfn + 1).
 */

export const XA_CHUNK_SHIFT = 6;
export const XA_CHUNK_SIZE = 64;
/** sizeof(struct xa_node) on 6.18 x86-64 */
export const XA_NODE_SIZE = 576;
/** PAGECACHE_TAG_DIRTY, PAGECACHE_TAG_WRITEBACK, PAGECACHE_TAG_TOWRITE */
export const XA_MARK_0 = 0;
export const XA_MARK_1 = 1;
export const XA_MARK_2 = 2;

const N_SHIFT = 0;
const N_OFFSET = 1;
const N_COUNT = 2;
const N_PARENT = 8;
const N_ARRAY = 16;
const N_SLOTS = 40;
const N_MARKS = 552;
/** the high word of VMEMMAP_START (0xffffea0000000000) */
const VMEMMAP_HI = 0xffffea00;
const TWO32 = 2 ** 32;

/** Where nodes come from: kmem_cache_alloc/free on radix_tree_node, and RAM. */
export interface XaHost {
  readonly u8: Uint8Array;
  readonly u32: Uint32Array;
  /** a zeroed node, or 0 when memory is out */
  allocNode(): number;
  freeNode(addr: number): void;
}

/** The slot index takes in a node of this shift (integer shifts while index fits 31 bits). */
function chunkOffset(index: number, shift: number): number {
  if (index <= 0x7fffffff && shift < 31) return (index >> shift) & (XA_CHUNK_SIZE - 1);
  return Math.floor(index / 2 ** shift) % XA_CHUNK_SIZE;
}

export class XArray {
  /** xa_head as a JavaScript entry */
  head = 0;
  /** XA_FLAGS_MARK(m) bits: the array has some entry marked m */
  flags = 0;
  /** nodes allocated */
  nodes = 0;

  /** `array` is the address written in each node's array field (the address_space's i_pages). */
  constructor(
    private readonly h: XaHost,
    private readonly array: number,
  ) {}

  // ───────────── node fields ─────────────

  private shift(n: number): number {
    return this.h.u8[n + N_SHIFT]!;
  }

  private count(n: number): number {
    return this.h.u8[n + N_COUNT]!;
  }

  private setCount(n: number, c: number): void {
    this.h.u8[n + N_COUNT] = c;
  }

  private parent(n: number): number {
    const w = (n + N_PARENT) >>> 2;
    return this.h.u32[w]! + this.h.u32[w + 1]! * TWO32;
  }

  private setParent(n: number, p: number): void {
    const w = (n + N_PARENT) >>> 2;
    this.h.u32[w] = p % TWO32;
    this.h.u32[w + 1] = Math.floor(p / TWO32);
  }

  private slot(n: number, off: number): number {
    const w = (n + N_SLOTS + off * 8) >>> 2;
    const lo = this.h.u32[w]!;
    const hi = this.h.u32[w + 1]!;
    if (lo === 0 && hi === 0) return 0;
    if (hi >= VMEMMAP_HI) return -((hi - VMEMMAP_HI) * 2 ** 26 + lo / 64 + 1);
    return hi * TWO32 + lo - 2;
  }

  private setSlot(n: number, off: number, e: number): void {
    const w = (n + N_SLOTS + off * 8) >>> 2;
    const u32 = this.h.u32;
    if (e === 0) {
      u32[w] = 0;
      u32[w + 1] = 0;
    } else if (e < 0) {
      const v = (-e - 1) * 64;
      u32[w] = v % TWO32;
      u32[w + 1] = VMEMMAP_HI + Math.floor(v / TWO32);
    } else {
      const v = e + 2;
      u32[w] = v % TWO32;
      u32[w + 1] = Math.floor(v / TWO32);
    }
  }

  private markWord(n: number, m: number, off: number): number {
    return (n + N_MARKS + m * 8 + (off >= 32 ? 4 : 0)) >>> 2;
  }

  private marked(n: number, m: number, off: number): boolean {
    return (this.h.u32[this.markWord(n, m, off)]! & (1 << (off & 31))) !== 0;
  }

  private setBit(n: number, m: number, off: number, on: boolean): void {
    const w = this.markWord(n, m, off);
    const b = 1 << (off & 31);
    this.h.u32[w] = on ? (this.h.u32[w]! | b) >>> 0 : (this.h.u32[w]! & ~b) >>> 0;
  }

  private anyMarked(n: number, m: number): boolean {
    const w = (n + N_MARKS + m * 8) >>> 2;
    return this.h.u32[w] !== 0 || this.h.u32[w + 1] !== 0;
  }

  private newNode(shift: number, offset: number, parent: number): number {
    const n = this.h.allocNode();
    if (n === 0) return 0;
    this.h.u8.fill(0, n, n + XA_NODE_SIZE);
    this.h.u8[n + N_SHIFT] = shift;
    this.h.u8[n + N_OFFSET] = offset;
    this.setParent(n, parent);
    const w = (n + N_ARRAY) >>> 2;
    this.h.u32[w] = this.array % TWO32;
    this.h.u32[w + 1] = Math.floor(this.array / TWO32);
    this.nodes++;
    return n;
  }

  private freeNode(n: number): void {
    this.nodes--;
    this.h.freeNode(n);
  }

  /** The largest index the head can reach without growing. */
  private maxIndex(): number {
    if (this.head <= 0) return 0;
    const shift = this.shift(this.head);
    return shift < 24 ? (XA_CHUNK_SIZE << shift) - 1 : XA_CHUNK_SIZE * 2 ** shift - 1;
  }

  // ───────────── the API ─────────────

  /** xa_load(): the pfn at index, or -1. */
  load(index: number): number {
    let e = this.head;
    if (e === 0) return -1;
    if (e < 0) return index === 0 ? -e - 1 : -1;
    if (index > this.maxIndex()) return -1;
    let shift = this.shift(e);
    for (;;) {
      e = this.slot(e, chunkOffset(index, shift));
      if (e === 0) return -1;
      if (e < 0) return -e - 1;
      shift -= XA_CHUNK_SHIFT;
    }
  }

  /** xas_expand(): grow the tree until index fits; false when a node cannot be had. */
  private expand(index: number): boolean {
    if (this.head === 0) {
      let shift = 0;
      while (index >= XA_CHUNK_SIZE * 2 ** shift) shift += XA_CHUNK_SHIFT;
      const n = this.newNode(shift, 0, 0);
      if (n === 0) return false;
      this.head = n;
      return true;
    }
    if (this.head < 0) {
      // The lone page at index 0 moves into a node of shift 0, its marks with it.
      const n = this.newNode(0, 0, 0);
      if (n === 0) return false;
      this.setSlot(n, 0, this.head);
      this.setCount(n, 1);
      for (let m = 0; m < 3; m++) if ((this.flags & (1 << m)) !== 0) this.setBit(n, m, 0, true);
      this.head = n;
    }
    while (index > this.maxIndex()) {
      const top = this.head;
      const n = this.newNode(this.shift(top) + XA_CHUNK_SHIFT, 0, 0);
      if (n === 0) return false;
      this.setSlot(n, 0, top);
      this.setCount(n, 1);
      for (let m = 0; m < 3; m++) if (this.anyMarked(top, m)) this.setBit(n, m, 0, true);
      this.setParent(top, n);
      this.h.u8[top + N_OFFSET] = 0;
      this.head = n;
    }
    return true;
  }

  /** xa_store() of a page at an empty index; false when memory is out (nothing changed that matters). */
  store(index: number, pfn: number): boolean {
    const entry = -(pfn + 1);
    if (this.head === 0 && index === 0) {
      this.head = entry;
      return true;
    }
    if (!this.expand(index)) return false;
    let n = this.head;
    for (;;) {
      const shift = this.shift(n);
      const off = chunkOffset(index, shift);
      let e = this.slot(n, off);
      if (shift === 0) {
        if (e === 0) this.setCount(n, this.count(n) + 1);
        this.setSlot(n, off, entry);
        return true;
      }
      if (e === 0) {
        e = this.newNode(shift - XA_CHUNK_SHIFT, off, n);
        if (e === 0) return false;
        this.setSlot(n, off, e);
        this.setCount(n, this.count(n) + 1);
      }
      n = e;
    }
  }

  /** leaf()'s second result: the offset in the node it returned */
  private leafOff = 0;

  /**
   * The leaf node holding index (its offset in leafOff), 0 for the head
   * holding a lone page at index 0, -1 when index holds nothing. Allocates
   * nothing: erase() runs once per page reclaim takes.
   */
  private leaf(index: number): number {
    let n = this.head;
    if (n === 0) return -1;
    this.leafOff = 0;
    if (n < 0) return index === 0 ? 0 : -1;
    if (index > this.maxIndex()) return -1;
    for (;;) {
      const shift = this.shift(n);
      const off = chunkOffset(index, shift);
      const e = this.slot(n, off);
      if (e === 0) return -1;
      if (shift === 0) {
        this.leafOff = off;
        return n;
      }
      n = e;
    }
  }

  /** xa_erase(): the page at index goes; empty nodes are freed and the tree shrinks. Returns the pfn or -1. */
  erase(index: number): number {
    let n = this.leaf(index);
    if (n < 0) return -1;
    let off = this.leafOff;
    if (n === 0) {
      const pfn = -this.head - 1;
      this.head = 0;
      this.flags = 0;
      return pfn;
    }
    const pfn = -this.slot(n, off) - 1;
    for (let m = 0; m < 3; m++) this.clearMarkAt(n, off, m);
    this.setSlot(n, off, 0);
    this.setCount(n, this.count(n) - 1);
    // xas_delete_node(): empty nodes go, bottom up.
    while (this.count(n) === 0) {
      const p = this.parent(n);
      const o = this.h.u8[n + N_OFFSET]!;
      this.freeNode(n);
      if (p === 0) {
        this.head = 0;
        this.flags = 0;
        return pfn;
      }
      this.setSlot(p, o, 0);
      this.setCount(p, this.count(p) - 1);
      n = p;
      off = o;
    }
    this.shrink();
    return pfn;
  }

  /** xas_shrink(): while the top node holds only slot 0, its entry becomes the head. */
  private shrink(): void {
    while (this.head > 0) {
      const n = this.head;
      if (this.count(n) !== 1) return;
      const e = this.slot(n, 0);
      if (e === 0) return;
      if (e < 0 && this.shift(n) !== 0) return;
      if (e > 0) this.setParent(e, 0);
      let f = 0;
      for (let m = 0; m < 3; m++) if (this.marked(n, m, 0)) f |= 1 << m;
      this.flags = f;
      this.head = e;
      this.freeNode(n);
    }
  }

  /** xa_set_mark() on a present index. */
  setMark(index: number, m: number): void {
    let n = this.leaf(index);
    if (n < 0) return;
    let off = this.leafOff;
    while (n !== 0) {
      if (this.marked(n, m, off)) return;
      this.setBit(n, m, off, true);
      off = this.h.u8[n + N_OFFSET]!;
      n = this.parent(n);
    }
    this.flags |= 1 << m;
  }

  /** xa_clear_mark() */
  clearMark(index: number, m: number): void {
    const n = this.leaf(index);
    if (n < 0) return;
    if (n === 0) {
      this.flags &= ~(1 << m);
      return;
    }
    this.clearMarkAt(n, this.leafOff, m);
  }

  private clearMarkAt(n: number, off: number, m: number): void {
    while (n !== 0) {
      if (!this.marked(n, m, off)) return;
      this.setBit(n, m, off, false);
      if (this.anyMarked(n, m)) return;
      off = this.h.u8[n + N_OFFSET]!;
      n = this.parent(n);
    }
    this.flags &= ~(1 << m);
  }

  /** xa_marked(): does any entry carry mark m? */
  tagged(m: number): boolean {
    return (this.flags & (1 << m)) !== 0;
  }

  /** xa_get_mark() */
  getMark(index: number, m: number): boolean {
    const n = this.leaf(index);
    if (n < 0) return false;
    if (n === 0) return (this.flags & (1 << m)) !== 0;
    return this.marked(n, m, this.leafOff);
  }

  /** xa_for_each() (m < 0) or xa_for_each_marked(): fn(index, pfn) in index order. */
  forEach(fn: (index: number, pfn: number) => void, m = -1): void {
    const e = this.head;
    if (e === 0) return;
    if (e < 0) {
      if (m < 0 || (this.flags & (1 << m)) !== 0) fn(0, -e - 1);
      return;
    }
    if (m >= 0 && (this.flags & (1 << m)) === 0) return;
    this.walk(e, 0, fn, m);
  }

  private walk(n: number, base: number, fn: (index: number, pfn: number) => void, m: number): void {
    const shift = this.shift(n);
    for (let off = 0; off < XA_CHUNK_SIZE; off++) {
      if (m >= 0 && !this.marked(n, m, off)) continue;
      const e = this.slot(n, off);
      if (e === 0) continue;
      const idx = base + off * 2 ** shift;
      if (e < 0) fn(idx, -e - 1);
      else this.walk(e, idx, fn, m);
    }
  }
}
