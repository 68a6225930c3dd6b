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
 * Directories have dentries too, with their parents: a dentry holds a
 * reference on its parent (d_parent, taken by d_alloc()), so a directory's
 * d_lockref.count is its child dentries plus whoever holds it, and it can
 * reach the LRU only once its last child is gone. The root's dentry
 * (sb->s_root) is pinned. Killing a dentry drops its parent's reference:
 * from dput() a parent left unused is retained (onto the LRU) when hashed;
 * from the shrinker (shrink_kill()) it is killed at once, and so on up:
 * prune_dcache_sb() frees leaves before their parents. A tmpfs name
 * (/dev/shm) is on another superblock: kmem gives it no parent.
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
  /** d_parent (null for the root and tmpfs names); this dentry holds one reference on it */
  parent: Dentry | null;
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

  /**
   * d_alloc() + d_add(): a new hashed dentry for path holding inode (count
   * 1) and a reference on its parent, or null when the allocation failed.
   */
  dAlloc(path: string, inode: CachedInode | null, gfp: number, parent: Dentry | null = null): Dentry | null {
    const addr = this.slab.kmemCacheAlloc(this.cache, gfp);
    if (addr === 0) return null;
    const d: Dentry = { path, addr, inode, count: 1, flags: 0, parent };
    if (parent !== null) parent.count++;
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
   * DCACHE_REFERENCED when already there), an unhashed one is killed, and
   * then its parent if that was the parent's last reference, the same way.
   */
  dput(d: Dentry): void {
    if (--d.count > 0) return;
    this.release(d);
  }

  /** The rest of dput() for a dentry at count 0: retain it if hashed, else kill it and go on with the parent it frees. */
  private release(d: Dentry): void {
    let cur: Dentry | null = d;
    while (cur !== null) {
      if ((cur.flags & DCACHE_UNHASHED) === 0) {
        if ((cur.flags & DCACHE_LRU_LIST) === 0) {
          cur.flags |= DCACHE_LRU_LIST;
          this.lru.add(cur);
        } else cur.flags |= DCACHE_REFERENCED;
        return;
      }
      cur = this.kill(cur);
    }
  }

  /** Kill an unused dentry as a dput() would end: its parent, if left unused, retained (or killed when unhashed). */
  dKill(d: Dentry): void {
    const parent = this.kill(d);
    if (parent !== null) this.release(parent);
  }

  /** d_delete() of an unlinked name: a dentry no one else holds turns negative (its inode released); a held one is unhashed. */
  dDelete(d: Dentry): void {
    if (d.count === 0 && d.inode !== null) {
      const ci = d.inode;
      d.inode = null;
      this.icache.iput(ci);
    } else if (d.count > 0) this.unhash(d);
  }

  /**
   * __dentry_kill(): off the LRU and the hash, the inode reference dropped,
   * the object freed, the parent's reference dropped. Returns the parent
   * when that was its last reference (the caller decides its fate), else null.
   */
  kill(d: Dentry): Dentry | null {
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
    const parent = d.parent;
    d.parent = null;
    if (parent === null || --parent.count > 0) return null;
    return parent;
  }

  /**
   * prune_dcache_sb(): walk nrToScan dentries from the LRU's head with
   * dentry_lru_isolate()'s rules, then kill the isolated ones
   * (shrink_dentry_list()); each kill that frees a parent's last
   * reference kills the parent too (shrink_kill()), and so on up. Returns
   * the dentries the walk isolated (list_lru_shrink_walk()'s count; the
   * parents killed after them are not counted).
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
    // (an isolated dentry has no children: each would hold a reference on it)
    for (const d of dispose) for (let v: Dentry | null = this.kill(d); v !== null; v = this.kill(v));
    return dispose.length;
  }
}
