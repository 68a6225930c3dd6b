/**
 * The inode cache (fs/inode.c): the in-memory `struct inode` of each file a
 * dentry or an open file holds, allocated from a SLUB cache (`inode_cache`
 * for kmem's disk file system, `shmem_inode_cache` for tmpfs), kept in the
 * inode hash while anything holds it, and on the superblock's inode LRU once
 * nothing does (i_count 0) and its mapping is shrinkable (no page in the
 * page cache: on x86-64 without highmem an inode with pages is never on the
 * LRU; it joins when its last page goes). prune_icache_sb() walks that LRU
 * as inode_lru_isolate() does: a held inode leaves the list, a recently
 * referenced one gets one more pass, the rest are evicted and their objects
 * freed. The file itself (its bytes on the disk, src/fs/rootfs.ts) stays: a
 * later lookup allocates a new in-memory inode for it.
 */

/** i_state's I_REFERENCED */
export const I_REFERENCED = 1 << 8;

/** What the inode cache needs of the file it stands for. */
export interface InodeFile {
  readonly ino: number;
  /** i_nlink */
  readonly nlink: number;
}

/** struct inode (the fields the cache's rules read) */
export interface CachedInode {
  readonly file: InodeFile;
  /** the object in its SLUB cache */
  readonly addr: number;
  readonly cache: number;
  /** i_count */
  count: number;
  /** I_REFERENCED */
  state: number;
  /** on the superblock's s_inode_lru */
  onLru: boolean;
}

/** The SLUB side the caches allocate from (kmem's Kernel has it). */
export interface ObjectAllocator {
  kmemCacheAlloc(cache: number, gfp: number): number;
  kmemCacheFree(cache: number, addr: number): void;
}

/** What the page cache tells the inode cache (src/vm/filemap.ts answers). */
export interface MappingOps {
  /** mapping_empty(&inode->i_data): no page and no shadow entry */
  mappingEmpty(ino: number): boolean;
  /** evict()'s truncate_inode_pages_final(): the (empty) address_space goes with the in-memory inode */
  evictMapping(ino: number): void;
}

export class InodeCache {
  /** the inode hash: ino -> in-memory inode */
  readonly hash = new Map<number, CachedInode>();
  /** s_inode_lru, oldest first (list_lru_add adds at the tail; a rotation moves to the tail) */
  readonly lru = new Set<CachedInode>();
  /**
   * Unused inodes (i_count 0) whose mapping still held pages when their
   * last reference went: the kernel adds them to the LRU from the page
   * cache's deletion path (inode_add_lru()) once the mapping is shrinkable;
   * kmem checks them when the shrinker counts or when drop_caches runs.
   */
  readonly waiting = new Set<CachedInode>();
  /** vm events PGINODESTEAL / KSWAPD_INODESTEAL stay 0: kmem's LRU inodes have no pages to reap */
  evicted = 0;

  constructor(
    private readonly slab: ObjectAllocator,
    private readonly mapping: MappingOps,
  ) {}

  /** nr_inodes */
  get nrInodes(): number {
    return this.hash.size;
  }

  /** nr_unused (inodes on the LRU) */
  get nrUnused(): number {
    return this.lru.size;
  }

  /**
   * iget(): the in-memory inode of file, a new one from `cache` when the hash
   * has none (0 when the allocation failed). A hashed inode on the LRU stays
   * there (the kernel removes it lazily, when the shrinker meets it held).
   */
  iget(file: InodeFile, cache: number, gfp: number): CachedInode | null {
    const ci = this.hash.get(file.ino);
    if (ci !== undefined) {
      ci.count++;
      this.waiting.delete(ci);
      return ci;
    }
    const addr = this.slab.kmemCacheAlloc(cache, gfp);
    if (addr === 0) return null;
    const n: CachedInode = { file, addr, cache, count: 1, state: 0, onLru: false };
    this.hash.set(file.ino, n);
    return n;
  }

  /**
   * iput(): the last reference of an unlinked inode evicts it; of a linked
   * one keeps it cached (iput_final's retain) and puts it on the LRU when its
   * mapping is shrinkable, as __inode_add_lru(inode, rotate=true) does: an
   * inode already on the list is marked I_REFERENCED instead.
   */
  iput(ci: CachedInode): void {
    if (--ci.count > 0) return;
    if (ci.file.nlink === 0) {
      this.evict(ci);
      return;
    }
    this.addLru(ci, true);
  }

  /** __inode_add_lru() */
  private addLru(ci: CachedInode, rotate: boolean): void {
    if (ci.count > 0) return;
    if (!this.mapping.mappingEmpty(ci.file.ino)) {
      this.waiting.add(ci);
      return;
    }
    this.waiting.delete(ci);
    if (!ci.onLru) {
      ci.onLru = true;
      this.lru.add(ci);
    } else if (rotate) ci.state |= I_REFERENCED;
  }

  /** inode_add_lru() from the page cache's deletion path: every waiting inode whose mapping emptied joins the LRU. */
  addShrinkable(): void {
    for (const ci of this.waiting) if (this.mapping.mappingEmpty(ci.file.ino)) this.addLru(ci, false);
  }

  /** evict() + destroy_inode(): out of the hash and the LRU, the object freed. */
  evict(ci: CachedInode): void {
    if (this.hash.get(ci.file.ino) === ci) this.hash.delete(ci.file.ino);
    if (ci.onLru) {
      ci.onLru = false;
      this.lru.delete(ci);
    }
    this.waiting.delete(ci);
    this.mapping.evictMapping(ci.file.ino);
    this.slab.kmemCacheFree(ci.cache, ci.addr);
    this.evicted++;
  }

  /**
   * prune_icache_sb(): walk nrToScan inodes from the LRU's head with
   * inode_lru_isolate()'s rules, then evict what was isolated. Returns the
   * inodes freed.
   */
  prune(nrToScan: number): number {
    const dispose: CachedInode[] = [];
    for (let walked = 0; walked < nrToScan && this.lru.size > 0; walked++) {
      const ci = this.lru.values().next().value as CachedInode;
      if (ci.count > 0 || !this.mapping.mappingEmpty(ci.file.ino)) {
        // held, or pages came back: off the list (LRU_REMOVED); an unused one waits for its pages to go
        this.lru.delete(ci);
        ci.onLru = false;
        if (ci.count === 0) this.waiting.add(ci);
        continue;
      }
      if ((ci.state & I_REFERENCED) !== 0) {
        ci.state &= ~I_REFERENCED;
        this.lru.delete(ci);
        this.lru.add(ci);
        continue;
      }
      this.lru.delete(ci);
      ci.onLru = false;
      dispose.push(ci);
    }
    for (const ci of dispose) this.evict(ci);
    return dispose.length;
  }
}
