/**
 * The dentry cache (fs/dcache.c): one `struct dentry` (an object of the
 * `dentry` SLUB cache) for each name a lookup resolved, hashed by path,
 * holding its inode (i_count) while it is positive. An open file holds its
 * dentry (d_lockref.count); the last dput() keeps a hashed dentry cached on
 * the superblock's dentry LRU (retain_dentry(): added at the first drop to
 * 0, marked DCACHE_REFERENCED at later ones while still listed) and kills
 * an unhashed one (its file was unlinked). prune_dcache_sb() walks the LRU
 * as dentry_lru_isolate() does: a held dentry leaves the list, a referenced
 * one is rotated once, the rest are killed, each kill dropping its inode
 * reference (iput(), which may put the inode on the inode LRU).
 *
 * kmem caches the dentries of regular files only: its directories (and the
 * root) are pinned and hold no cache objects, so a file's dentry has no
 * parent dentry whose reference it would drop.
 */
import type { CachedInode, InodeCache, ObjectAllocator } from './inode.js';

export const DCACHE_REFERENCED = 1 << 6;
export const DCACHE_LRU_LIST = 1 << 19;
/** d_unhashed(): kmem keeps it as a flag */
export const DCACHE_UNHASHED = 1 << 30;

/** struct dentry (the fields the cache's rules read) */
export interface Dentry {
  path: string;
  /** the object in the dentry cache */
  readonly addr: number;
  /** d_inode; null: a negative dentry */
  inode: CachedInode | null;
  /** d_lockref.count */
  count: number;
  flags: number;
}

export class Dcache {
  /** dentry_hashtable by path */
  readonly hash = new Map<string, Dentry>();
  /** s_dentry_lru, oldest first */
  readonly lru = new Set<Dentry>();
  /** nr_dentry: every allocated dentry, hashed or not */
  nrDentry = 0;

  constructor(
    private readonly slab: ObjectAllocator,
    readonly icache: InodeCache,
    /** the `dentry` cache's id (made at the first allocation) */
    private readonly makeCache: () => number,
  ) {}

  private cacheId = -1;

  /** the `dentry` cache */
  get cache(): number {
    if (this.cacheId < 0) this.cacheId = this.makeCache();
    return this.cacheId;
  }

  /** nr_dentry_unused: the dentries on the LRU */
  get nrUnused(): number {
    return this.lru.size;
  }

  /** nr_dentry_negative */
  get nrNegative(): number {
    let n = 0;
    for (const d of this.hash.values()) if (d.inode === null) n++;
    return n;
  }

  /** d_alloc() + d_add(): a new hashed dentry for path holding inode (count 1), or null when the allocation failed. */
  dAlloc(path: string, inode: CachedInode | null, gfp: number): Dentry | null {
    const addr = this.slab.kmemCacheAlloc(this.cache, gfp);
    if (addr === 0) return null;
    const d: Dentry = { path, addr, inode, count: 1, flags: 0 };
    const old = this.hash.get(path);
    if (old !== undefined) this.unhash(old);
    this.hash.set(path, d);
    this.nrDentry++;
    return d;
  }

  /** d_drop(): out of the hash (a later dput() kills it). */
  unhash(d: Dentry): void {
    if (this.hash.get(d.path) === d) this.hash.delete(d.path);
    d.flags |= DCACHE_UNHASHED;
  }

  /** dget() */
  dget(d: Dentry): void {
    d.count++;
  }

  /**
   * dput(): at 0 a hashed dentry is retained (LRU fodder: onto the LRU, or
   * DCACHE_REFERENCED when already there), an unhashed one is killed.
   */
  dput(d: Dentry): void {
    if (--d.count > 0) return;
    if ((d.flags & DCACHE_UNHASHED) !== 0) {
      this.kill(d);
      return;
    }
    if ((d.flags & DCACHE_LRU_LIST) === 0) {
      d.flags |= DCACHE_LRU_LIST;
      this.lru.add(d);
    } else d.flags |= DCACHE_REFERENCED;
  }

  /** d_delete() of an unlinked name: a dentry no one else holds turns negative (its inode released); a held one is unhashed. */
  dDelete(d: Dentry): void {
    if (d.count === 0 && d.inode !== null) {
      const ci = d.inode;
      d.inode = null;
      this.icache.iput(ci);
    } else if (d.count > 0) this.unhash(d);
  }

  /** __dentry_kill(): off the LRU and the hash, the inode reference dropped, the object freed. */
  kill(d: Dentry): void {
    if ((d.flags & DCACHE_LRU_LIST) !== 0) {
      d.flags &= ~DCACHE_LRU_LIST;
      this.lru.delete(d);
    }
    if (this.hash.get(d.path) === d) this.hash.delete(d.path);
    const ci = d.inode;
    d.inode = null;
    this.slab.kmemCacheFree(this.cache, d.addr);
    this.nrDentry--;
    if (ci !== null) this.icache.iput(ci);
  }

  /**
   * prune_dcache_sb(): walk nrToScan dentries from the LRU's head with
   * dentry_lru_isolate()'s rules, then kill the isolated ones
   * (shrink_dentry_list()). Returns the dentries freed.
   */
  prune(nrToScan: number): number {
    const dispose: Dentry[] = [];
    for (let walked = 0; walked < nrToScan && this.lru.size > 0; walked++) {
      const d = this.lru.values().next().value as Dentry;
      this.lru.delete(d);
      if (d.count > 0) {
        d.flags &= ~DCACHE_LRU_LIST;
        continue;
      }
      if ((d.flags & DCACHE_REFERENCED) !== 0) {
        d.flags &= ~DCACHE_REFERENCED;
        this.lru.add(d);
        continue;
      }
      d.flags &= ~DCACHE_LRU_LIST;
      dispose.push(d);
    }
    for (const d of dispose) this.kill(d);
    return dispose.length;
  }
}
