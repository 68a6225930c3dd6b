/**
 * k.proc.read(path) / k.sys.read(path): the text files of /proc, /sys and
 * debugfs that kmem serves, each rendered on read as the kernel does.
 */
import { buddyinfo, extfragIndex, pagetypeinfo, unusableIndex } from './buddyinfo.js';
import { slabDebugfsRead } from './slab_debugfs.js';
import { type VmSource, vmstat, zoneinfo } from './zoneinfo.js';

export type FileRenderer = () => string;

export class ProcFs {
  private readonly files = new Map<string, FileRenderer>();
  private readonly dirs: ((path: string) => string | undefined)[] = [];

  constructor(src: VmSource) {
    const pa = src.pageAlloc;
    this.register('/proc/buddyinfo', () => buddyinfo(pa));
    this.register('/proc/pagetypeinfo', () => pagetypeinfo(pa));
    this.register('/proc/zoneinfo', () => zoneinfo(src));
    this.register('/proc/vmstat', () => vmstat(src));
    this.register('/sys/kernel/debug/extfrag/unusable_index', () => unusableIndex(pa));
    this.register('/sys/kernel/debug/extfrag/extfrag_index', () => extfragIndex(pa));
    this.registerDir((path) => slabDebugfsRead(src.slab, path));
  }

  /** Serve a file at an exact path. */
  register(path: string, render: FileRenderer): void {
    this.files.set(path, render);
  }

  /** Serve a family of paths (e.g. /sys/kernel/slab/<cache>/<attr>); return undefined for "no such file". */
  registerDir(resolve: (path: string) => string | undefined): void {
    this.dirs.push(resolve);
  }

  /** Read a file; an unknown path throws an error naming it. */
  read(path: string): string {
    if (typeof path !== 'string') throw new TypeError(`path: expected a string, got ${typeof path}`);
    const f = this.files.get(path);
    if (f) return f();
    for (const d of this.dirs) {
      const v = d(path);
      if (v !== undefined) return v;
    }
    const err = new Error(`${path}: No such file or directory`) as Error & { code: string };
    err.code = 'ENOENT';
    throw err;
  }

  /** Every exact path served, sorted. */
  list(): string[] {
    return [...this.files.keys()].sort();
  }
}
