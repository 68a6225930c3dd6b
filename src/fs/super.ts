/**
 * The root file system's superblock caches (fs/super.c): its dentry LRU and
 * inode LRU behind one shrinker, "sb-<fs>", as alloc_super() registers it
 * (DEFAULT_SEEKS, batch 1024). super_cache_count() reports the unused
 * dentries and inodes scaled by vfs_cache_pressure / vfs_cache_pressure_denom
 * (vfs_pressure_ratio()), SHRINK_EMPTY when both lists are empty;
 * super_cache_scan() splits the scan between the two lists in proportion to
 * their lengths (mult_frac over their sum + 1), then prunes the dentries
 * first (they pin the inodes) and the inodes after, each with one more
 * object to scan than its share.
 */
import { GFP_KERNEL } from '../page_alloc/gfp.js';
import { type CacheMaker, getCache } from '../slub/known_caches.js';
import { SLAB_ACCOUNT, SLAB_PANIC } from '../slub/slab_flags.js';
import { Dcache, type Dentry } from './dcache.js';
import { type CachedInode, InodeCache, type InodeFile, type MappingOps, type ObjectAllocator } from './inode.js';

const SHRINK_EMPTY = -2;
const DEFAULT_SEEKS = 2;

/** struct shrinker as src/vm/shrinker.ts registers it */
export interface SuperShrinker {
  readonly name: string;
  countObjects(): number;
  scanObjects(_vm: unknown, nrToScan: number): number;
  readonly seeks: number;
  readonly batch: number;
  nrDeferred: number;
}

/** mult_frac(x, n, d): x * n / d without overflowing, rounding down. */
export function multFrac(x: number, n: number, d: number): number {
  const q = Math.floor(x / d);
  const r = x % d;
  return q * n + Math.floor((r * n) / d);
}

export class SuperBlock {
  readonly dcache: Dcache;
  readonly icache: InodeCache;
  readonly shrinker: SuperShrinker;
  private inodeCacheId = -1;
  private shmemInodeCacheId = -1;
  /** sb->s_root: the root directory's dentry, pinned (made at the first lookup) */
  private sRoot: Dentry | null = null;
  /** A directory's inode by path (the file system's; rootfs.ts sets it). Without it, lookups give files no parent. */
  dirInode: ((path: string) => InodeFile) | null = null;

  constructor(
    private readonly slab: ObjectAllocator & CacheMaker,
    mapping: MappingOps,
    /** [vfs_cache_pressure, vfs_cache_pressure_denom] as the sysctls stand */
    private readonly pressure: () => readonly [number, number],
  ) {
    this.icache = new InodeCache(slab, mapping);
    this.dcache = new Dcache(slab, this.icache, () => getCache(slab, 'dentry'));
    this.shrinker = {
      name: 'sb-rootfs',
      seeks: DEFAULT_SEEKS,
      batch: 1024,
      nrDeferred: 0,
      countObjects: () => this.cacheCount(),
      scanObjects: (_vm, nr) => this.cacheScan(nr),
    };
  }

  /** The caches, made at the first lookup (kmem's slabinfo lists them from then on). */
  private get inodeCache(): number {
    if (this.inodeCacheId < 0) this.inodeCacheId = getCache(this.slab, 'inode_cache');
    return this.inodeCacheId;
  }

  private get shmemInodeCache(): number {
    // shmem_init_inodecache(): sizeof(struct shmem_inode_info) 744 on x86-64 6.18, SLAB_PANIC | SLAB_ACCOUNT
    if (this.shmemInodeCacheId < 0) this.shmemInodeCacheId = getCache(this.slab, 'shmem_inode_cache', 744, SLAB_PANIC | SLAB_ACCOUNT);
    return this.shmemInodeCacheId;
  }

  /** vfs_pressure_ratio() */
  vfsPressureRatio(val: number): number {
    const [p, d] = this.pressure();
    return multFrac(val, p, d);
  }

  /** super_cache_count() */
  cacheCount(): number {
    this.icache.addShrinkable();
    const total = this.dcache.nrUnused + this.icache.nrUnused;
    if (total === 0) return SHRINK_EMPTY;
    return this.vfsPressureRatio(total);
  }

  /** super_cache_scan(): the objects freed. */
  cacheScan(nrToScan: number): number {
    const d = this.dcache.nrUnused;
    const i = this.icache.nrUnused;
    const total = d + i + 1;
    const dentries = multFrac(nrToScan, d, total);
    const inodes = multFrac(nrToScan, i, total);
    let freed = this.dcache.prune(dentries + 1);
    freed += this.icache.prune(inodes + 1);
    return freed;
  }

  /** sb->s_root (d_make_root() at the first lookup: a dentry and the root directory's inode, pinned); null when memory is out. */
  root(): Dentry | null {
    if (this.sRoot !== null || this.dirInode === null) return this.sRoot;
    const ci = this.icache.iget(this.dirInode('/'), this.inodeCache, GFP_KERNEL);
    if (ci === null) return null;
    const d = this.dcache.dAlloc('/', ci, GFP_KERNEL);
    if (d === null) {
      this.icache.iput(ci);
      return null;
    }
    this.sRoot = d;
    return d;
  }

  /**
   * The dentry of directory `dir`, with a reference held for the caller:
   * the walk from the root, one component at a time (link_path_walk), each
   * name found in the dcache or allocated (d_alloc_parallel() + lookup +
   * iget(), the child taking a reference on its parent); the walk holds one
   * dentry at a time, dropping the parent's reference once it holds the
   * child's. Null when no directory inodes are known (the caller gives its
   * file no parent) or memory is out.
   */
  lookupDir(dir: string): Dentry | null {
    const dc = this.dcache;
    let cur = this.root();
    if (cur === null) return null;
    dc.dget(cur);
    if (dir === '/') return cur;
    for (let at = dir.indexOf('/', 1); ; at = dir.indexOf('/', at + 1)) {
      const p = at < 0 ? dir : dir.slice(0, at);
      let d = dc.hash.get(p);
      if (d !== undefined && d.inode !== null) dc.dget(d);
      else {
        const ci: CachedInode | null = this.icache.iget(this.dirInode!(p), this.inodeCache, GFP_KERNEL);
        if (ci === null) {
          dc.dput(cur);
          return null;
        }
        if (d !== undefined) {
          // d_instantiate() of a negative dentry
          d.inode = ci;
          dc.dget(d);
        } else {
          const nd = dc.dAlloc(p, ci, GFP_KERNEL, cur);
          if (nd === null) {
            this.icache.iput(ci);
            dc.dput(cur);
            return null;
          }
          d = nd;
        }
      }
      dc.dput(cur);
      cur = d;
      if (at < 0) return cur;
    }
  }

  /**
   * The dentry of a file being opened: the cached one (dget), or a cold
   * lookup that walks to its directory (lookupDir: one dentry per component
   * not cached) and allocates the file's dentry under it and, unless the
   * inode hash still has it, an inode (d_alloc_parallel() + the file
   * system's lookup + iget()). A tmpfs file (shmem) gets no parent.
   */
  lookup(path: string, file: InodeFile, shmem: boolean): Dentry | null {
    const d = this.dcache.hash.get(path);
    if (d !== undefined && d.inode !== null && d.inode.file === file) {
      this.dcache.dget(d);
      return d;
    }
    const parent = shmem || this.dirInode === null ? null : this.lookupDir(parentDir(path));
    if (!shmem && this.dirInode !== null && parent === null) return null;
    const ci = this.icache.iget(file, shmem ? this.shmemInodeCache : this.inodeCache, GFP_KERNEL);
    let out: Dentry | null = null;
    if (ci !== null) {
      if (d !== undefined && d.inode === null) {
        // d_instantiate(): a negative dentry (the name was unlinked, now created again) takes the inode
        d.inode = ci;
        this.dcache.dget(d);
        out = d;
      } else {
        out = this.dcache.dAlloc(path, ci, GFP_KERNEL, parent);
        if (out === null) this.icache.iput(ci);
        else if (d !== undefined && d.count === 0) this.dcache.dKill(d);
      }
    }
    // the walk's reference on the directory (the new child holds its own)
    if (parent !== null) this.dcache.dput(parent);
    return out;
  }
}

/** The directory that holds path ("/" for a name in the root). */
function parentDir(path: string): string {
  const i = path.lastIndexOf('/');
  return i <= 0 ? '/' : path.slice(0, i);
}
