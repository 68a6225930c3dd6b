/**
 * k.proc.read(path) / k.sys.read(path): the text files of /proc, /sys and
 * debugfs that kmem serves, each rendered on read as the kernel does.
 */
import { buddyinfo, extfragIndex, pagetypeinfo, unusableIndex } from './buddyinfo.js';
import { meminfo } from './meminfo.js';
import { showPartitions } from './partitions.js';
import { slabDebugfsRead } from './slab_debugfs.js';
import { EIO, errnoError, Sysctl, type SysctlHost, type VmCounters } from './sysctl.js';
import { type VmSource, vmstat, zoneinfo } from './zoneinfo.js';

export type { VmCounters } from './sysctl.js';

export type FileRenderer = () => string;

export class ProcFs {
  private readonly files = new Map<string, FileRenderer>();
  private readonly dirs: ((path: string) => string | undefined)[] = [];
  private readonly dirWriters: ((path: string, text: string) => boolean)[] = [];
  /** Files with a write method (proc_ops.proc_write) beside the /proc/sys knobs. */
  private readonly writers = new Map<string, (text: string) => void>();
  /** The /proc/sys knobs (their values: the vm half reads them from here). */
  readonly sysctl: Sysctl;
  /** The virtual-memory half once it exists (it attaches itself): its counters feed meminfo, vmstat, zoneinfo. */
  private vm: VmCounters | null = null;

  /** `boot` is the checked boot options: `aslr` sets kernel.randomize_va_space (default 2). */
  constructor(src: VmSource & SysctlHost, boot: { aslr?: number } = {}) {
    const pa = src.pageAlloc;
    this.sysctl = new Sysctl(src, () => this.vm);
    this.sysctl.randomizeVaSpace = boot.aslr ?? 2;
    this.register('/proc/meminfo', () => meminfo(src, this.sysctl, this.vm, src.phys?.size ?? 0));
    this.register('/proc/buddyinfo', () => buddyinfo(pa));
    this.register('/proc/pagetypeinfo', () => pagetypeinfo(pa));
    this.register('/proc/zoneinfo', () => zoneinfo(src, this.vm));
    this.register('/proc/vmstat', () => vmstat(src, this.vm, this.sysctl));
    // swap_show(): the header, then a line per swap area (the vm half's, once swapon'd)
    this.register('/proc/swaps', () => `Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n${this.vm?.swap?.swapsLine() ?? ''}`);
    this.register('/proc/partitions', () => showPartitions(this.vm?.blockDevices?.() ?? []));
    this.register('/sys/kernel/debug/extfrag/unusable_index', () => unusableIndex(pa));
    this.register('/sys/kernel/debug/extfrag/extfrag_index', () => extfragIndex(pa));
    this.registerDir((path) => slabDebugfsRead(src.slab, path));
  }

  /** The vm half, created lazily, hands over its counters (src/vm/vm.ts). */
  attachVm(vm: VmCounters): void {
    this.vm = vm;
  }

  /** Serve a file at an exact path. */
  register(path: string, render: FileRenderer): void {
    this.files.set(path, render);
  }

  /** Give a served file a write method: it takes the text, or throws the kernel's errno. */
  registerWrite(path: string, write: (text: string) => void): void {
    this.writers.set(path, write);
  }

  /** Serve a family of paths (e.g. /sys/kernel/slab/<cache>/<attr>); return undefined for "no such file". */
  registerDir(resolve: (path: string) => string | undefined): void {
    this.dirs.push(resolve);
  }

  /** Take writes to a family of paths (e.g. /proc/PID/oom_score_adj); the writer returns false for a path not its own. */
  registerDirWriter(write: (path: string, text: string) => boolean): void {
    this.dirWriters.push(write);
  }

  /** Read a file; an unknown path throws an error naming it. */
  read(path: string): string {
    if (typeof path !== 'string') throw new TypeError(`path: expected a string, got ${typeof path}`);
    if (this.sysctl.has(path)) return this.sysctl.read(path);
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

  /**
   * write(2) of text to a file: the /proc/sys knobs take it as their
   * handlers do (a refused value throws with the kernel's errno, code
   * 'EINVAL', and changes nothing); a file without a write method is -EIO
   * (pde_write), an unknown path ENOENT.
   */
  write(path: string, text: string): void {
    if (typeof path !== 'string') throw new TypeError(`path: expected a string, got ${typeof path}`);
    if (typeof text !== 'string') throw new TypeError(`text: expected a string, got ${typeof text}`);
    if (this.sysctl.has(path)) {
      this.sysctl.write(path, text);
      return;
    }
    const w = this.writers.get(path);
    if (w !== undefined) {
      w(text);
      return;
    }
    for (const dw of this.dirWriters) if (dw(path, text)) return;
    this.read(path); // ENOENT for a file that does not exist
    throw errnoError(path, 'EIO', EIO, 'Input/output error');
  }

  /** Every exact path served, sorted. */
  list(): string[] {
    return [...this.files.keys(), ...this.sysctl.knobs.keys()].sort();
  }
}
