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
import { InodeCache, type InodeFile, type MappingOps, type ObjectAllocator } from './inode.js';

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

  /**
   * The dentry of a file being opened: the cached one (dget), or a cold
   * lookup that allocates a dentry and, unless the inode hash still has it,
   * an inode (d_alloc_parallel() + the file system's lookup + iget()).
   */
  lookup(path: string, file: InodeFile, shmem: boolean): Dentry | null {
    const d = this.dcache.hash.get(path);
    if (d !== undefined && d.inode !== null && d.inode.file === file) {
      this.dcache.dget(d);
      return d;
    }
    const ci = this.icache.iget(file, shmem ? this.shmemInodeCache : this.inodeCache, GFP_KERNEL);
    if (ci === null) return null;
    if (d !== undefined && d.inode === null) {
      // d_instantiate(): a negative dentry (the name was unlinked, now created again) takes the inode
      d.inode = ci;
      this.dcache.dget(d);
      return d;
    }
    const nd = this.dcache.dAlloc(path, ci, GFP_KERNEL);
    if (nd === null) {
      this.icache.iput(ci);
      return null;
    }
    if (d !== undefined && d.count === 0) this.dcache.kill(d);
    return nd;
  }
}
