/**
 * The floor of bench/reclaim.bench.ts, its loop in a module of its own: per
 * page, what any reclaim must do at least, on typed arrays the way kmem
 * keeps its LRU: unlink the tail of a doubly linked list indexed by pfn,
 * clear two flag bits, and push the pfn on a free stack.
 */

export class IdealLru {
  readonly next: Int32Array;
  readonly prev: Int32Array;
  readonly flags: Uint32Array;
  readonly free: Int32Array;
  head = -1;
  tail = -1;
  nFree = 0;
  constructor(readonly pages: number) {
    this.next = new Int32Array(pages);
    this.prev = new Int32Array(pages);
    this.flags = new Uint32Array(pages);
    this.free = new Int32Array(pages);
  }
  /** Every page on the list (head = pfn 0), the free stack empty. */
  fill(): void {
    for (let i = 0; i < this.pages; i++) {
      this.next[i] = i + 1 < this.pages ? i + 1 : -1;
      this.prev[i] = i - 1;
      this.flags[i] = 0x30;
    }
    this.head = 0;
    this.tail = this.pages - 1;
    this.nFree = 0;
  }
}

/** Take n pages off the list's tail onto the free stack. Returns the pages freed. */
export function idealReclaim(l: IdealLru, n: number): number {
  let done = 0;
  while (done < n && l.tail >= 0) {
    const pfn = l.tail;
    const prev = l.prev[pfn]!;
    l.tail = prev;
    if (prev >= 0) l.next[prev] = -1;
    else l.head = -1;
    l.flags[pfn] = l.flags[pfn]! & ~0x30;
    l.free[l.nFree++] = pfn;
    done++;
  }
  return done;
}
