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
    return this.files.get(path)?.data;
  }

  lookup(path: string): Inode | undefined {
    return this.files.get(path);
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
