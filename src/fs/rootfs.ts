/**
 * kmem's root file system, for now a table of regular files by path, each
 * with an inode number (as a tmpfs root would number them). Programs are
 * loaded from here. The page cache and file mappings come later.
 */

export interface Inode {
  ino: number;
  path: string;
  data: Uint8Array;
}

export class RootFs {
  private readonly files = new Map<string, Inode>();
  /** symbolic links: path -> target (absolute) */
  private readonly links = new Map<string, string>();
  private nextIno = 2;

  /** Create or replace the file at path with a copy of bytes. */
  writeFile(path: string, bytes: Uint8Array | ArrayBuffer | string): void {
    if (typeof path !== 'string' || !path.startsWith('/')) throw new TypeError(`path: expected an absolute path, got ${String(path)}`);
    const data =
      typeof bytes === 'string' ? new TextEncoder().encode(bytes) : bytes instanceof ArrayBuffer ? new Uint8Array(bytes.slice(0)) : new Uint8Array(bytes);
    const old = this.files.get(path);
    this.files.set(path, { ino: old?.ino ?? this.nextIno++, path, data });
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
    for (const i of this.files.values()) if (i.ino === ino) return i;
    return undefined;
  }

  /** Every path, sorted. */
  list(): string[] {
    return [...this.files.keys()].sort();
  }
}
