/**
 * The quarantine (mm/kasan/quarantine.c): freed objects wait here, poisoned,
 * before SLUB may hand their memory out again, so a use-after-free hits
 * poisoned memory rather than somebody else's new object.
 *
 *   kfree ─► per-CPU qlist (FIFO) ──(> 1 MiB)──► global ring of batches ──► reduce ─► SLUB
 *                                                 [head] [ ] [ ] ... [tail]
 *                                                 oldest            filling
 *
 * - Each CPU queues its frees; once its queue holds more than
 *   QUARANTINE_PERCPU_SIZE bytes the whole queue is appended to the global
 *   tail batch, and the tail moves on once that batch reaches batch_size.
 * - reduce() (called on allocation paths) frees the single oldest batch
 *   while the global quarantine holds more than max_size:
 *     total      = RAM / QUARANTINE_FRACTION (1/32)
 *     max_size   = total - QUARANTINE_PERCPU_SIZE * cpus   (0 if negative)
 *     batch_size = max(QUARANTINE_PERCPU_SIZE, 2 * total / QUARANTINE_BATCHES)
 * - Bytes are counted in slot sizes (cache->size).
 *
 * The queues are singly linked lists of nodes in typed arrays (object
 * address, cache, next), so queueing costs no JavaScript allocation and a
 * write through a dangling pointer cannot break the links, as it could
 * the kernel's qlist_node stored inside the freed object.
 */
import { QUARANTINE_FRACTION, QUARANTINE_PERCPU_SIZE } from './kasan.js';

/** Where reduce() sends an object that leaves the quarantine (___cache_free()). */
export type QuarantineRelease = (cache: number, obj: number) => void;

export class Quarantine {
  readonly batches: number;
  readonly maxSize: number;
  readonly batchSize: number;
  /** Bytes in the global ring (quarantine_size). */
  size = 0;
  private head = 0;
  private tail = 0;
  // Node pool.
  private nObj = new Uint32Array(1024);
  private nCache = new Int32Array(1024);
  private nNext = new Int32Array(1024);
  private nSize = new Int32Array(1024);
  private freeNode = -1;
  private nUsed = 0;
  // qlists: per CPU, then the global batches. head/tail are node indexes (-1 = empty).
  private readonly qHead: Int32Array;
  private readonly qTail: Int32Array;
  private readonly qBytes: Float64Array;
  private readonly cpus: number;
  private readonly release: QuarantineRelease;

  constructor(totalRamBytes: number, cpus: number, release: QuarantineRelease) {
    this.cpus = cpus;
    this.release = release;
    this.batches = Math.max(1024, 4 * cpus);
    const total = Math.floor(totalRamBytes / QUARANTINE_FRACTION);
    const percpu = QUARANTINE_PERCPU_SIZE * cpus;
    this.maxSize = total < percpu ? 0 : total - percpu;
    this.batchSize = Math.max(QUARANTINE_PERCPU_SIZE, Math.floor((2 * total) / this.batches));
    const n = cpus + this.batches;
    this.qHead = new Int32Array(n).fill(-1);
    this.qTail = new Int32Array(n).fill(-1);
    this.qBytes = new Float64Array(n);
  }

  private newNode(obj: number, cache: number, size: number): number {
    let i = this.freeNode;
    if (i >= 0) {
      this.freeNode = this.nNext[i]!;
    } else {
      i = this.nUsed++;
      if (i >= this.nObj.length) this.grow();
    }
    this.nObj[i] = obj;
    this.nCache[i] = cache;
    this.nSize[i] = size;
    this.nNext[i] = -1;
    return i;
  }

  private grow(): void {
    const n = this.nObj.length * 2;
    const o = new Uint32Array(n);
    o.set(this.nObj);
    this.nObj = o;
    const c = new Int32Array(n);
    c.set(this.nCache);
    this.nCache = c;
    const x = new Int32Array(n);
    x.set(this.nNext);
    this.nNext = x;
    const s = new Int32Array(n);
    s.set(this.nSize);
    this.nSize = s;
  }

  /** qlist_put() */
  private put(q: number, node: number): void {
    if (this.qHead[q]! < 0) this.qHead[q] = node;
    else this.nNext[this.qTail[q]!] = node;
    this.qTail[q] = node;
    this.nNext[node] = -1;
    this.qBytes[q]! += this.nSize[node]!;
  }

  /** qlist_move_all(): append list `from` to list `to`. */
  private moveAll(from: number, to: number): void {
    const h = this.qHead[from]!;
    if (h < 0) return;
    if (this.qHead[to]! < 0) this.qHead[to] = h;
    else this.nNext[this.qTail[to]!] = h;
    this.qTail[to] = this.qTail[from]!;
    this.qBytes[to]! += this.qBytes[from]!;
    this.qHead[from] = -1;
    this.qTail[from] = -1;
    this.qBytes[from] = 0;
  }

  /** kasan_quarantine_put(): queue a freed object of `slotSize` bytes on `cpu`. */
  push(cache: number, obj: number, slotSize: number, cpu: number): void {
    this.put(cpu, this.newNode(obj, cache, slotSize));
    if (this.qBytes[cpu]! > QUARANTINE_PERCPU_SIZE) {
      const bytes = this.qBytes[cpu]!;
      const t = this.cpus + this.tail;
      this.moveAll(cpu, t);
      this.size += bytes;
      if (this.qBytes[t]! >= this.batchSize) {
        let next = this.tail + 1;
        if (next === this.batches) next = 0;
        if (next !== this.head) this.tail = next;
      }
    }
  }

  /** Does reduce() have work to do? (The check the kernel makes before taking the lock.) */
  get overLimit(): boolean {
    return this.size > this.maxSize;
  }

  /** kasan_quarantine_reduce(): free the oldest batch while over max_size. */
  reduce(): void {
    if (this.size <= this.maxSize) return;
    const q = this.cpus + this.head;
    const bytes = this.qBytes[q]!;
    let node = this.qHead[q]!;
    this.qHead[q] = -1;
    this.qTail[q] = -1;
    this.qBytes[q] = 0;
    this.size -= bytes;
    this.head++;
    if (this.head === this.batches) this.head = 0;
    this.freeList(node);
    node = -1;
  }

  /** qlist_free_all(): release every object of a detached chain. */
  private freeList(node: number): void {
    while (node >= 0) {
      const next = this.nNext[node]!;
      const obj = this.nObj[node]!;
      const cache = this.nCache[node]!;
      this.nNext[node] = this.freeNode;
      this.freeNode = node;
      this.release(cache, obj);
      node = next;
    }
  }

  /** kasan_quarantine_remove_cache(): free every quarantined object of one cache, everywhere. */
  removeCache(cache: number): void {
    const n = this.qHead.length;
    let chosenHead = -1;
    let chosenTail = -1;
    for (let q = 0; q < n; q++) {
      let node = this.qHead[q]!;
      if (node < 0) continue;
      // qlist_move_cache(): split into this cache's nodes and the rest, order kept.
      this.qHead[q] = -1;
      this.qTail[q] = -1;
      const before = this.qBytes[q]!;
      this.qBytes[q] = 0;
      let moved = 0;
      while (node >= 0) {
        const next = this.nNext[node]!;
        if (this.nCache[node] === cache) {
          this.nNext[node] = -1;
          if (chosenHead < 0) chosenHead = node;
          else this.nNext[chosenTail] = node;
          chosenTail = node;
          moved += this.nSize[node]!;
        } else {
          this.put(q, node);
        }
        node = next;
      }
      if (q >= this.cpus) this.size -= moved;
      this.qBytes[q] = before - moved;
    }
    this.freeList(chosenHead);
  }

  /** Objects and bytes held, per CPU queue and global (for tests and the CLI). */
  stats(): { objects: number; bytes: number; globalBytes: number } {
    let objects = 0;
    let bytes = 0;
    for (let q = 0; q < this.qHead.length; q++) {
      for (let node = this.qHead[q]!; node >= 0; node = this.nNext[node]!) objects++;
      bytes += this.qBytes[q]!;
    }
    return { objects, bytes, globalBytes: this.size };
  }

  /** Is obj queued? (A scan: for tests and reports, not hot paths.) */
  contains(obj: number): boolean {
    for (let q = 0; q < this.qHead.length; q++) {
      for (let node = this.qHead[q]!; node >= 0; node = this.nNext[node]!) if (this.nObj[node] === obj) return true;
    }
    return false;
  }
}
