/**
 * kmem's root file system: regular files by path, each with an inode number
 * (as a tmpfs root would number them), and directories. Programs are loaded
 * from here. A file's `data` is its bytes on the disk, `data.length` its
 * i_size; the page cache (src/vm/filemap.ts) holds pages not yet written
 * back, so after a write() the bytes here are the file's only once fsync (or
 * writeback) has run.
 *
 * The files are on the disk; what a lookup brings into memory (a dentry and
 * an in-memory inode, SLUB objects) is the superblock's cache
 * (src/fs/super.ts, dcache.ts, inode.ts), which the shrinker may free: the
 * next open of the file looks it up again.
 */

import type { Dentry } from './dcache.js';
import type { SuperBlock } from './super.js';

export interface Inode {
  ino: number;
  path: string;
  /** the backing bytes; a view of length i_size on a buffer that may be larger */
  data: Uint8Array;
  /** i_nlink: 1 while a name points at it, 0 once unlinked */
  nlink: number;
  /** open file descriptions on it (an unlinked inode lives until the last one closes) */
  opens: number;
}

/**
 * A file of the root file system. `opens` going from 0 to 1 is a lookup that
 * takes a reference on the file's dentry (allocating the dentry and the
 * in-memory inode when they are not cached), and from 1 to 0 the dput() that
 * lets them go to the superblock's LRUs (src/fs/super.ts).
 */
class RootInode implements Inode {
  private nOpens = 0;
  /** the dentry reference the open files hold while opens > 0 */
  dentry: Dentry | null = null;
  /** tmpfs pins its dentries (d_make_persistent()): the reference a /dev/shm file's name holds */
  pin: Dentry | null = null;

  constructor(
    private readonly fs: RootFs,
    readonly ino: number,
    public path: string,
    public data: Uint8Array,
    public nlink: number,
  ) {}

  get opens(): number {
    return this.nOpens;
  }

  set opens(v: number) {
    const old = this.nOpens;
    this.nOpens = v;
    const sb = this.fs.sb;
    if (sb === null) return;
    if (old === 0 && v > 0) this.dentry = sb.lookup(this.path, this, isShmemPath(this.path));
    else if (old > 0 && v === 0 && this.dentry !== null) {
      const d = this.dentry;
      this.dentry = null;
      sb.dcache.dput(d);
    }
  }
}

/** A file in the tmpfs mounted at /dev/shm (read_write.ts's SHM_DIR). */
function isShmemPath(path: string): boolean {
  return parentOf(path) === '/dev/shm';
}

/** Directory inode numbers: a range of their own, above any file's (kmem's directories have no number otherwise). */
const DIR_INO_BASE = 2 ** 40;

export class RootFs {
  private superBlock: SuperBlock | null = null;
  /** directory -> its inode (number, links) for the superblock's directory dentries */
  private readonly dirInodes = new Map<string, { readonly ino: number; readonly nlink: number }>();

  /** the superblock's dentry and inode caches; null until the vm half attaches them (then every lookup allocates from SLUB) */
  get sb(): SuperBlock | null {
    return this.superBlock;
  }

  set sb(sb: SuperBlock | null) {
    this.superBlock = sb;
    if (sb !== null) sb.dirInode = (path) => this.dirInode(path);
  }

  /** The inode of a directory (the root's is ino 2 in a real file system; kmem numbers directories apart from files). */
  dirInode(path: string): { readonly ino: number; readonly nlink: number } {
    let i = this.dirInodes.get(path);
    if (i === undefined) {
      i = { ino: DIR_INO_BASE + this.dirInodes.size, nlink: 2 };
      this.dirInodes.set(path, i);
    }
    return i;
  }
  private readonly files = new Map<string, Inode>();
  /** symbolic links: path -> target (absolute) */
  private readonly links = new Map<string, string>();
  private readonly inodes = new Map<number, Inode>();
  /** directories, "/" included; a file's ancestors are directories */
  private readonly dirs = new Set<string>(['/']);
  private nextIno = 2;
  /**
   * The disk's size in 4 KiB blocks (the `disk` boot option's size) and the
   * blocks the files hold: each file holds ceil(i_size / 4096) blocks (kmem
   * has no holes: a file's bytes are all allocated). A write that would grow
   * a file past the free blocks fails with -ENOSPC (filemap.ts); ftruncate
   * may grow past them, as a real file system grows a sparse file.
   */
  capacityBlocks = Number.MAX_SAFE_INTEGER;
  usedBlocks = 0;
  /** Called when an inode's bytes are replaced behind the page cache's back (writeFile) or the inode goes (evict). */
  onInvalidate: ((ino: number) => void) | null = null;
  onEvict: ((ino: number) => void) | null = null;

  /** Create or replace the file at path with a copy of bytes. */
  writeFile(path: string, bytes: Uint8Array | ArrayBuffer | string): void {
    if (typeof path !== 'string' || !path.startsWith('/')) throw new TypeError(`path: expected an absolute path, got ${String(path)}`);
    const data =
      typeof bytes === 'string' ? new TextEncoder().encode(bytes) : bytes instanceof ArrayBuffer ? new Uint8Array(bytes.slice(0)) : new Uint8Array(bytes);
    const old = this.files.get(path);
    const need = blocks(data.length) - (old !== undefined ? blocks(old.data.length) : 0);
    if (this.usedBlocks + need > this.capacityBlocks) {
      const err = new Error(`${path}: No space left on device`) as Error & { code: string; errno: number };
      err.code = 'ENOSPC';
      err.errno = 28;
      throw err;
    }
    this.usedBlocks += need;
    this.mkdirs(parentOf(path));
    if (old !== undefined) {
      old.data = data;
      this.onInvalidate?.(old.ino);
      return;
    }
    const inode = new RootInode(this, this.nextIno++, path, data, 1);
    this.files.set(path, inode);
    this.inodes.set(inode.ino, inode);
  }

  /** A new empty regular file at path (the caller checked that none is there and the parent is a directory). */
  create(path: string): Inode {
    const inode = new RootInode(this, this.nextIno++, path, new Uint8Array(0), 1);
    this.files.set(path, inode);
    this.inodes.set(inode.ino, inode);
    // shmem_mknod(): a tmpfs name pins its dentry (and so its inode) until unlink
    if (this.sb !== null && isShmemPath(path)) inode.pin = this.sb.lookup(path, inode, true);
    return inode;
  }

  /** mkdir -p */
  mkdirs(path: string): void {
    for (let p = path; p !== '/' && !this.dirs.has(p); p = parentOf(p)) this.dirs.add(p);
  }

  isDir(path: string): boolean {
    return this.dirs.has(path);
  }

  /** i_size_write(): the backing bytes grow (zeros) or shrink to n. */
  setSize(inode: Inode, n: number): void {
    const cur = inode.data;
    if (this.inodes.has(inode.ino)) this.usedBlocks += blocks(n) - blocks(cur.length);
    if (n <= cur.buffer.byteLength - cur.byteOffset) {
      const v = new Uint8Array(cur.buffer, cur.byteOffset, n);
      if (n > cur.length) v.fill(0, cur.length);
      inode.data = v;
      return;
    }
    const buf = new Uint8Array(Math.max(n, Math.min(cur.length * 2, n + (64 << 20))));
    buf.set(cur);
    inode.data = buf.subarray(0, n);
  }

  /** Remove the name (unlink(2)); the inode lives on while files hold it open. */
  unlinkName(path: string): Inode | undefined {
    const f = this.files.get(path);
    if (f === undefined) return undefined;
    this.files.delete(path);
    f.nlink = 0;
    if (this.sb !== null && f instanceof RootInode) unlinkDentry(this.sb, f, path);
    this.maybeEvict(f);
    return f;
  }

  /** Move a name (rename(2)); a file at `to` is unlinked first. */
  moveName(from: string, to: string): void {
    const f = this.files.get(from)!;
    const old = this.files.get(to);
    if (old !== undefined && old !== f) this.unlinkName(to);
    this.files.delete(from);
    f.path = to;
    this.files.set(to, f);
    if (this.sb !== null && f instanceof RootInode) moveDentry(this.sb, f, from, to);
  }

  /** iput(): the last reference of an unlinked inode frees it (its page cache with it). */
  maybeEvict(f: Inode): void {
    if (f.nlink > 0 || f.opens > 0) return;
    if (this.inodes.delete(f.ino)) this.usedBlocks -= blocks(f.data.length);
    this.onEvict?.(f.ino);
  }

  /** The file at path without following links (for open's O_CREAT|O_EXCL checks). */
  file(path: string): Inode | undefined {
    return this.files.get(path);
  }

  /** The link target at path, if path is a symbolic link. */
  link(path: string): string | undefined {
    return this.links.get(path);
  }

  /** The file's bytes, or undefined when there is no such file. */
  readFile(path: string): Uint8Array | undefined {
    return this.lookup(path)?.data;
  }

  /** Make path a symbolic link to target (an absolute path). */
  symlink(target: string, path: string): void {
    if (typeof target !== 'string' || !target.startsWith('/')) throw new TypeError(`target: expected an absolute path, got ${String(target)}`);
    if (typeof path !== 'string' || !path.startsWith('/')) throw new TypeError(`path: expected an absolute path, got ${String(path)}`);
    this.links.set(path, target);
  }

  /** The inode at path, following symbolic links (at most 40, as the kernel's ELOOP limit). */
  lookup(path: string): Inode | undefined {
    for (let n = 0; n <= 40; n++) {
      const f = this.files.get(path);
      if (f !== undefined) return f;
      const l = this.links.get(path);
      if (l === undefined) return undefined;
      path = l;
    }
    return undefined;
  }

  /** The inode with this number. */
  byIno(ino: number): Inode | undefined {
    return this.inodes.get(ino);
  }

  /** Every path, sorted. */
  list(): string[] {
    return [...this.files.keys()].sort();
  }
}

/**
 * vfs_unlink()'s dcache side: the name's dentry (looked up cold when not
 * cached) is turned negative when nothing else holds it (d_delete()), or
 * unhashed when the file is open (the last close kills it then). A tmpfs
 * name's pin goes, and tmpfs dentries are never kept (always_delete_dentry).
 */
function unlinkDentry(sb: SuperBlock, f: RootInode, path: string): void {
  const dc = sb.dcache;
  if (f.pin !== null) {
    const p = f.pin;
    f.pin = null;
    dc.unhash(p);
    dc.dput(p);
    return;
  }
  let d = dc.hash.get(path);
  if (d === undefined || d.inode === null) {
    const looked = sb.lookup(path, f, false);
    if (looked === null) return;
    dc.dput(looked);
    d = looked;
  }
  dc.dDelete(d);
}

/**
 * d_move(): the renamed file's dentry (looked up cold when not cached)
 * takes the new name, and the new directory as its parent; the name it
 * replaced is gone already (unlinkDentry).
 */
function moveDentry(sb: SuperBlock, f: RootInode, from: string, to: string): void {
  const dc = sb.dcache;
  const victim = dc.hash.get(to);
  if (victim !== undefined) {
    if (victim.count === 0) dc.dKill(victim);
    else dc.unhash(victim);
  }
  const d = dc.hash.get(from);
  if (d !== undefined && d.inode !== null && d.inode.file === f) {
    dc.hash.delete(from);
    d.path = to;
    dc.hash.set(to, d);
    // d_move() to another directory: the dentry's parent reference moves to the new directory's dentry
    if (d.parent !== null && parentOf(from) !== parentOf(to)) {
      const np = sb.lookupDir(parentOf(to));
      if (np !== null) {
        const old = d.parent;
        d.parent = np;
        dc.dput(old);
      }
    }
    return;
  }
  const looked = sb.lookup(to, f, isShmemPath(to));
  if (looked !== null) dc.dput(looked);
}

/** The 4 KiB blocks a file of n bytes holds. */
function blocks(n: number): number {
  return Math.ceil(n / 4096);
}

/** The directory that holds path ("/" for a name in the root). */
export function parentOf(path: string): string {
  const i = path.lastIndexOf('/');
  return i <= 0 ? '/' : path.slice(0, i);
}
