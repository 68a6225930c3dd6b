/**
 * A session: one machine, the operations run on it so far, and what each
 * operation did.
 *
 * The machine is deterministic for its boot options, and the operations name
 * objects by handle, so the state after operation n is always the same. Going
 * back in time therefore boots a fresh machine and replays operations 0..n-1
 * (which takes well under a second for a hundred thousand operations); going
 * forward runs the next operations, asking the source (a workload generator)
 * for more when the recorded list runs out. Each operation's path is measured
 * the first time it runs and kept in `rec`.
 */
import { type BootOptions, boot, GFP_KERNEL, type Kernel } from '../../src/index.js';
import { caller, defaultCaller } from './callers.js';
import type { Op, OpSource } from './ops.js';
import { Counters, derivePath, P_ACCESS_OK, P_ERROR, P_FAILED, P_FREE_FAST, P_FREE_SLOW, P_QUARANTINE, P_REMOTE_FREE, P_REPORT } from './paths.js';

export interface MachineConfig {
  /** RAM: '64M', '256M', ... */
  memory: string;
  cpus: number;
  seed: number;
  /** Boot with KASAN (generic) when this kmem has it. */
  kasan: boolean;
  /** Back the machine with SharedArrayBuffers (needs cross-origin isolation in a browser). */
  shared?: boolean;
  /** slub_debug= ('FZPU', 'P', ...); empty or absent: off. */
  slubDebug?: string;
}

export const DEFAULT_CONFIG: MachineConfig = { memory: '128M', cpus: 2, seed: 1, kasan: false };

// What a handle holds.
export const H_NONE = 0;
export const H_KMALLOC = 1;
export const H_CACHE = 2;
export const H_PAGES = 3;

/** Per-operation results, one row per operation run so far (columns in typed arrays). */
export class Records {
  n = 0;
  bits = new Uint32Array(1024);
  /** The address the operation allocated, freed or touched (0 if none). */
  addr = new Float64Array(1024);
  /** The cache involved, -1 if none. */
  cache = new Int32Array(1024);
  /** The slab's head pfn or the page block's pfn, -1 if none. */
  pfn = new Int32Array(1024);
  splitFrom = new Int8Array(1024);
  mergeTo = new Int8Array(1024);
  pcpMoved = new Int32Array(1024);
  /** For a remote free: the CPU whose cpu slab the object's slab was. */
  owner = new Int8Array(1024);

  push(bits: number, addr: number, cache: number, pfn: number, splitFrom: number, mergeTo: number, pcpMoved: number, owner: number): void {
    if (this.n === this.bits.length) this.grow();
    const i = this.n++;
    this.bits[i] = bits;
    this.addr[i] = addr;
    this.cache[i] = cache;
    this.pfn[i] = pfn;
    this.splitFrom[i] = splitFrom;
    this.mergeTo[i] = mergeTo;
    this.pcpMoved[i] = pcpMoved;
    this.owner[i] = owner;
  }

  private grow(): void {
    const g = <T extends Uint32Array | Float64Array | Int32Array | Int8Array>(a: T): T => {
      const b = new (a.constructor as new (n: number) => T)(a.length * 2);
      b.set(a);
      return b;
    };
    this.bits = g(this.bits);
    this.addr = g(this.addr);
    this.cache = g(this.cache);
    this.pfn = g(this.pfn);
    this.splitFrom = g(this.splitFrom);
    this.mergeTo = g(this.mergeTo);
    this.pcpMoved = g(this.pcpMoved);
    this.owner = g(this.owner);
  }
}

let kasanProbe: boolean | null = null;

/** Does this kmem have KASAN (boot({kasan: 'generic'}) gives a machine whose k.inspect.kasanEnabled is true)? */
export function kasanAvailable(): boolean {
  if (kasanProbe === null) {
    try {
      const k = bootMachine({ memory: '16M', cpus: 1, seed: 1, kasan: true });
      kasanProbe = kasanActive(k);
    } catch {
      kasanProbe = false;
    }
  }
  return kasanProbe;
}

/** Is KASAN on in this machine? */
export function kasanActive(k: Kernel): boolean {
  return k.inspect.kasanEnabled;
}

/** boot() with the view's options: SLUB_STATS on, so that paths can be read. */
export function bootMachine(cfg: MachineConfig): Kernel {
  const opts: BootOptions & { kasan?: string; kasanMultiShot?: boolean } = {
    memory: cfg.memory,
    cpus: cfg.cpus,
    seed: cfg.seed,
    slubStats: true,
    shared: cfg.shared === true,
  };
  if (cfg.slubDebug) opts.slubDebug = cfg.slubDebug;
  if (cfg.kasan) {
    opts.kasan = 'generic';
    // Every report printed, not only the first: the view is for looking at them.
    opts.kasanMultiShot = true;
  }
  return boot(opts);
}

export class Session {
  cfg: MachineConfig;
  k: Kernel;
  /** Every operation produced so far (run or not). */
  ops: Op[] = [];
  /** Operations applied to the machine: the machine is the state after ops[0..pos). */
  pos = 0;
  source: OpSource | null;
  rec = new Records();
  /** Bumped on every change, so views redraw only when needed. */
  version = 0;
  /** Bumped when the machine is rebooted (views that cache per-machine data drop it). */
  generation = 0;
  /** Handles: what each holds. */
  private hAddr = new Float64Array(1024);
  private hKind = new Uint8Array(1024);
  private hCache = new Int32Array(1024);
  private hOrder = new Int8Array(1024);
  private cacheIds = new Map<string, number>();
  private readonly before = new Counters();
  private readonly after = new Counters();
  /** The last error an operation threw, with its index. */
  lastError: { op: number; message: string } | null = null;

  constructor(cfg: MachineConfig = DEFAULT_CONFIG, source: OpSource | null = null, ops: Op[] = []) {
    this.cfg = { ...cfg };
    this.source = source;
    this.ops = ops.slice();
    this.k = bootMachine(this.cfg);
  }

  get kasan(): boolean {
    return kasanActive(this.k);
  }

  /** Start again: a new machine, new operations. */
  reset(cfg: MachineConfig, source: OpSource | null, ops: Op[] = []): void {
    this.cfg = { ...cfg };
    this.source = source;
    this.ops = ops.slice();
    this.rec = new Records();
    this.reboot();
  }

  private reboot(): void {
    this.k = bootMachine(this.cfg);
    this.pos = 0;
    this.hKind.fill(0);
    this.hAddr.fill(0);
    this.cacheIds.clear();
    this.generation++;
    this.version++;
  }

  /** Produce operations until there are at least n (false if the source ran out first). */
  ensure(n: number): boolean {
    while (this.ops.length < n) {
      const op = this.source?.next() ?? null;
      if (op === null) {
        this.source = null;
        return false;
      }
      this.ops.push(op);
    }
    return true;
  }

  /** Is there a next operation to run? */
  canStep(): boolean {
    return this.ensure(this.pos + 1);
  }

  /** Run the next operation; false when there is none. */
  step(): boolean {
    if (!this.ensure(this.pos + 1)) return false;
    this.exec(this.ops[this.pos]!, this.pos >= this.rec.n);
    this.pos++;
    this.version++;
    return true;
  }

  /** Run up to n operations, stopping early past `deadline` (performance.now() time). Returns how many ran. */
  run(n: number, deadline = Number.POSITIVE_INFINITY): number {
    let i = 0;
    for (; i < n; i++) {
      if (!this.ensure(this.pos + 1)) break;
      this.exec(this.ops[this.pos]!, this.pos >= this.rec.n);
      this.pos++;
      if ((i & 15) === 15 && performance.now() > deadline) {
        i++;
        break;
      }
    }
    if (i > 0) this.version++;
    return i;
  }

  /** Move to the state after n operations: forward by running, backward by replaying from boot. */
  seek(n: number): void {
    n = Math.max(0, Math.floor(n));
    if (n > this.ops.length) this.ensure(n);
    n = Math.min(n, this.ops.length);
    if (n < this.pos) this.reboot();
    while (this.pos < n) {
      this.exec(this.ops[this.pos]!, this.pos >= this.rec.n);
      this.pos++;
    }
    this.version++;
  }

  /** The address a handle holds now (0 if none). */
  addrOf(h: number): number {
    return h < this.hAddr.length && this.hKind[h] !== H_NONE ? this.hAddr[h]! : 0;
  }

  /** What a handle holds now (H_*). */
  kindOf(h: number): number {
    return h < this.hKind.length ? this.hKind[h]! : H_NONE;
  }

  /** A cache id by the name an operation used, or -1. */
  cacheId(name: string): number {
    const id = this.cacheIds.get(name);
    if (id !== undefined) return id;
    return this.k.kmemCacheByName(name);
  }

  private setHandle(h: number, addr: number, kind: number, cache: number, order: number): void {
    if (h >= this.hAddr.length) {
      let n = this.hAddr.length;
      while (n <= h) n *= 2;
      const a = new Float64Array(n);
      a.set(this.hAddr);
      this.hAddr = a;
      const b = new Uint8Array(n);
      b.set(this.hKind);
      this.hKind = b;
      const c = new Int32Array(n);
      c.set(this.hCache);
      this.hCache = c;
      const d = new Int8Array(n);
      d.set(this.hOrder);
      this.hOrder = d;
    }
    this.hAddr[h] = addr;
    this.hKind[h] = addr === 0 ? H_NONE : kind;
    this.hCache[h] = cache;
    this.hOrder[h] = order;
  }

  /** The slab cache an address belongs to, with its slab's head pfn; [-1, -1] if none. */
  slabOf(addr: number): [number, number] {
    if (addr <= 16) return [-1, -1];
    const { cache, head } = this.k.inspect.slabOf(addr);
    return [cache, head];
  }

  /** Run one operation; with `measure`, read counters around it and record its path. */
  private exec(op: Op, measure: boolean): void {
    const k = this.k;
    let cache = -1;
    let owner = -1;
    let freeing = false;
    let target = 0;
    switch (op.t) {
      case 'alloc':
        cache = this.cacheId(op.cache);
        break;
      case 'kmalloc':
        cache = k.inspect.kmallocCache(op.size, op.gfp ?? GFP_KERNEL);
        break;
      case 'free': {
        target = this.addrOf(op.h);
        const [c, head] = this.slabOf(target);
        cache = c;
        freeing = c >= 0;
        if (c >= 0) {
          for (const cc of k.inspect.kmemCacheCpus(c)) if (cc.slab === head) owner = cc.cpu;
        }
        break;
      }
      case 'shrink':
        cache = this.cacheId(op.cache);
        break;
      case 'access':
        target = this.accessAddr(op.h, op.offset);
        break;
    }
    if (measure) this.before.read(k, cache);
    let addr = 0;
    let pfn = -1;
    let bits = 0;
    try {
      addr = this.apply(op, cache);
    } catch (e) {
      bits |= P_ERROR;
      this.lastError = { op: this.pos, message: (e as Error).message };
    }
    if (!measure) return;
    this.after.read(k, cache);
    let pageOrder = -1;
    if (op.t === 'pages') pageOrder = op.order;
    else if (cache >= 0) pageOrder = k.inspect.cacheGeometry(cache).order;
    const info = derivePath(this.before, this.after, pageOrder);
    bits |= info.bits;
    if (op.t === 'free' || op.t === 'access') addr = target;
    if (addr > 16) {
      const [c, head] = this.slabOf(addr);
      if (c >= 0 && cache < 0) cache = c;
      pfn = head;
    }
    if ((op.t === 'alloc' || op.t === 'kmalloc' || op.t === 'pages') && addr === 0 && !(bits & P_ERROR)) bits |= P_FAILED;
    if (freeing && !(bits & (P_FREE_FAST | P_FREE_SLOW | P_REMOTE_FREE | P_REPORT | P_ERROR)) && this.kasan) bits |= P_QUARANTINE;
    if (op.t === 'access' && !(bits & (P_REPORT | P_ERROR))) bits |= P_ACCESS_OK;
    if (!(bits & P_REMOTE_FREE)) owner = -1;
    this.rec.push(bits, addr, cache, pfn, info.splitFrom, info.mergeTo, info.pcpMoved, owner);
  }

  /** Do what the operation says; returns the address it produced, if any. */
  private apply(op: Op, cache: number): number {
    const k = this.k;
    switch (op.t) {
      case 'create': {
        const id = k.kmemCacheCreate(op.name, op.size, { align: op.align, flags: op.flags });
        this.cacheIds.set(op.name, id);
        return 0;
      }
      case 'alloc': {
        if (cache < 0) throw new RangeError(`no cache named ${op.cache}`);
        const f = caller('alloc', op.fn ?? defaultCaller('alloc'));
        const a = k.onCpu(op.cpu % k.cpus, () => f(k, cache, op.gfp ?? GFP_KERNEL));
        this.setHandle(op.h, a, H_CACHE, cache, 0);
        return a;
      }
      case 'kmalloc': {
        const f = caller('kmalloc', op.fn ?? defaultCaller('kmalloc'));
        const a = k.onCpu(op.cpu % k.cpus, () => f(k, op.size, op.gfp ?? GFP_KERNEL));
        this.setHandle(op.h, a, H_KMALLOC, -1, 0);
        return a;
      }
      case 'free': {
        const kind = this.kindOf(op.h);
        const a = this.addrOf(op.h);
        if (kind === H_NONE) return 0;
        const hc = this.hCache[op.h]!;
        const ho = this.hOrder[op.h]!;
        this.setHandle(op.h, 0, H_NONE, -1, 0);
        if (kind === H_CACHE) {
          const f = caller('cachefree', op.fn ?? defaultCaller('cachefree'));
          k.onCpu(op.cpu % k.cpus, () => f(k, hc, a));
        } else if (kind === H_PAGES) {
          const f = caller('freepages', op.fn ?? defaultCaller('freepages'));
          k.onCpu(op.cpu % k.cpus, () => f(k, a, ho));
        } else {
          const f = caller('kfree', op.fn ?? defaultCaller('kfree'));
          k.onCpu(op.cpu % k.cpus, () => f(k, a, 0));
        }
        return a;
      }
      case 'pages': {
        const f = caller('pages', op.fn ?? defaultCaller('pages'));
        const a = k.onCpu(op.cpu % k.cpus, () => f(k, op.order, op.gfp));
        this.setHandle(op.h, a, H_PAGES, -1, op.order);
        return a;
      }
      case 'freepages': {
        const a = this.addrOf(op.h);
        if (this.kindOf(op.h) !== H_PAGES) return 0;
        const order = this.hOrder[op.h]!;
        this.setHandle(op.h, 0, H_NONE, -1, 0);
        const f = caller('freepages', op.fn ?? defaultCaller('freepages'));
        k.onCpu(op.cpu % k.cpus, () => f(k, a, order));
        return a;
      }
      case 'shrink': {
        if (cache < 0) throw new RangeError(`no cache named ${op.cache}`);
        const f = caller('shrink', op.fn ?? defaultCaller('shrink'));
        k.onCpu(op.cpu % k.cpus, () => f(k, cache, 0));
        return 0;
      }
      case 'drain':
        k.drainAllPages();
        return 0;
      case 'access': {
        const at = this.accessAddr(op.h, op.offset);
        if (at === 0) return 0;
        const kind = op.write ? 'write' : 'read';
        const f = caller(kind, op.fn ?? defaultCaller(kind));
        k.onCpu(op.cpu % k.cpus, () => f(k, at, op.size));
        return at;
      }
    }
  }

  /** The address an access touches: the handle's object (even after it was freed) plus the offset. */
  private accessAddr(h: number, offset: number): number {
    const base = this.addrOf(h) || this.lastAddr(h);
    return base === 0 ? 0 : base + offset;
  }

  /** The address a handle last held, even after it was freed (for use-after-free). */
  private lastAddr(h: number): number {
    for (let i = this.pos - 1; i >= 0; i--) {
      const op = this.ops[i]!;
      if ((op.t === 'alloc' || op.t === 'kmalloc' || op.t === 'pages') && op.h === h) return i < this.rec.n ? this.rec.addr[i]! : 0;
    }
    return 0;
  }

  /** Is the handle's object a large kmalloc (pages, not a slab)? */
  isLarge(h: number): boolean {
    const a = this.addrOf(h);
    if (a === 0) return false;
    const { head } = this.k.inspect.slabOf(a);
    return head >= 0 && this.k.inspect.page(head).type === 'large_kmalloc';
  }
}
