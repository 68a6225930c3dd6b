/**
 * Model-based tests of dirty pages and writeback (fast-check fc.commands):
 * random pwrites, reads, truncations, fsyncs, syncs, drop_caches, knob
 * changes and ticks of the virtual clock on a small machine with a slow disk.
 * After every step: every byte read is the model's; NR_FILE_DIRTY and
 * NR_WRITEBACK recount from the pages' flags (and Dirty:/Writeback: print
 * them); the xarray's dirty mark is on exactly the PG_dirty pages; every file
 * with a dirty page is on the flusher's list; nr_dirtied and nr_written never
 * fall; after fsync or sync the disk holds the model's bytes. And by the
 * kernel's rules: once dirty_expire + dirty_writeback centisecs have passed
 * with periodic writeback on, no page dirtied before is still dirty.
 */
import fc from 'fast-check';
import { expect, test } from 'vitest';
import { O_CREAT, O_RDWR } from '../../src/fs/fcntl.js';
import { boot, type Kernel } from '../../src/kernel.js';
import { PG } from '../../src/memory/page.js';
import { PAGECACHE_TAG_DIRTY, pageCache } from '../../src/vm/filemap.js';
import type { Task } from '../../src/vm/fork.js';
import { MAP_ANONYMOUS, MAP_PRIVATE, PROT_READ, PROT_WRITE } from '../../src/vm/mman.js';
import { writeback } from '../../src/vm/page-writeback.js';
import { tinyElf } from './helpers.js';

const FILES = ['/data/a', '/data/b', '/data/c'];
const MAX = 96 * 4096;
const BUF = 1 << 20;

interface Model {
  files: Uint8Array[];
  /** the virtual time of each file's oldest write not yet seen written (for the expiry rule), -1 when none */
  oldestDirty: number[];
  dirtied: number;
  written: number;
}

interface Real {
  k: Kernel;
  t: Task;
  fds: number[];
  buf: number;
}

const same = (a: Uint8Array, b: Uint8Array) => a.length === b.length && Buffer.compare(a, b) === 0;

function inode(r: Real, i: number) {
  return r.k.fs.lookup(FILES[i]!)!;
}

/** The invariants checked after every command. */
function check(m: Model, r: Real): void {
  const k = r.k;
  const pc = pageCache(k.vm);
  const wb = writeback(k.vm).wb;
  const f = k.pages.flags;
  let dirty = 0;
  let wbPages = 0;
  for (let i = 0; i < FILES.length; i++) {
    const ino = inode(r, i).ino;
    const as = pc.mapping(ino);
    let own = 0;
    as.xa.forEach((index, pfn) => {
      const d = (f[pfn]! >> PG.dirty) & 1;
      const w = (f[pfn]! >> PG.writeback) & 1;
      dirty += d;
      wbPages += w;
      own += d;
      expect(as.xa.getMark(index, PAGECACHE_TAG_DIRTY)).toBe(d === 1);
    });
    if (own > 0) expect(wb.bDirty.has(ino)).toBe(true);
    if (own === 0) m.oldestDirty[i] = -1;
  }
  expect(pc.nrDirty).toBe(dirty);
  expect(pc.nrWriteback).toBe(wbPages);
  const mi = k.proc.read('/proc/meminfo');
  expect(mi).toContain(`Dirty:          ${String(dirty * 4).padStart(8)} kB\n`);
  expect(mi).toContain(`Writeback:      ${String(wbPages * 4).padStart(8)} kB\n`);
  expect(pc.nrDirtied).toBeGreaterThanOrEqual(m.dirtied);
  expect(pc.nrWritten).toBeGreaterThanOrEqual(m.written);
  m.dirtied = pc.nrDirtied;
  m.written = pc.nrWritten;
  // The expiry rule: with the knobs in force, a file dirty since long enough has been written.
  const sysctl = k.proc.sysctl;
  if (sysctl.dirtyWritebackCentisecs > 0) {
    const limit = (sysctl.dirtyExpireCentisecs + sysctl.dirtyWritebackCentisecs) * 1e7;
    for (let i = 0; i < FILES.length; i++) {
      const since = m.oldestDirty[i]!;
      if (since >= 0) expect(k.printk.nowNs - since).toBeLessThanOrEqual(limit);
    }
  }
}

class PwriteCommand implements fc.Command<Model, Real> {
  constructor(
    readonly file: number,
    readonly off: number,
    readonly n: number,
    readonly seed: number,
  ) {}
  check(): boolean {
    return true;
  }
  run(m: Model, r: Real): void {
    const data = Uint8Array.from({ length: this.n }, (_, i) => (i * 31 + this.seed) & 0xff);
    r.t.writeBytes(r.buf, data);
    const now = r.k.printk.nowNs;
    expect(r.t.pwrite(r.fds[this.file]!, r.buf, this.n, this.off)).toBe(this.n);
    let g = m.files[this.file]!;
    if (this.off + this.n > g.length) {
      const h = new Uint8Array(this.off + this.n);
      h.set(g);
      g = h;
    }
    g.set(data, this.off);
    m.files[this.file] = g;
    if (m.oldestDirty[this.file]! < 0) m.oldestDirty[this.file] = now;
    check(m, r);
  }
  toString(): string {
    return `pwrite(${this.file}, ${this.off}, ${this.n})`;
  }
}

class ReadCommand implements fc.Command<Model, Real> {
  constructor(
    readonly file: number,
    readonly off: number,
    readonly n: number,
  ) {}
  check(): boolean {
    return true;
  }
  run(m: Model, r: Real): void {
    const g = m.files[this.file]!;
    const want = Math.max(0, Math.min(this.n, g.length - this.off));
    expect(r.t.pread(r.fds[this.file]!, r.buf + BUF, this.n, this.off)).toBe(want);
    if (want > 0) expect(same(r.t.readBytes(r.buf + BUF, want), g.subarray(this.off, this.off + want))).toBe(true);
    check(m, r);
  }
  toString(): string {
    return `pread(${this.file}, ${this.off}, ${this.n})`;
  }
}

class TruncateCommand implements fc.Command<Model, Real> {
  constructor(
    readonly file: number,
    readonly len: number,
  ) {}
  check(): boolean {
    return true;
  }
  run(m: Model, r: Real): void {
    expect(r.t.ftruncate(r.fds[this.file]!, this.len)).toBe(0);
    const g = new Uint8Array(this.len);
    g.set(m.files[this.file]!.subarray(0, this.len));
    m.files[this.file] = g;
    check(m, r);
  }
  toString(): string {
    return `ftruncate(${this.file}, ${this.len})`;
  }
}

class FsyncCommand implements fc.Command<Model, Real> {
  constructor(readonly file: number) {}
  check(): boolean {
    return true;
  }
  run(m: Model, r: Real): void {
    expect(r.t.fsync(r.fds[this.file]!)).toBe(0);
    expect(same(r.k.fs.readFile(FILES[this.file]!)!, m.files[this.file]!)).toBe(true);
    const pc = pageCache(r.k.vm);
    let left = 0;
    pc.mapping(inode(r, this.file).ino).xa.forEach(() => {
      left++;
    }, PAGECACHE_TAG_DIRTY);
    expect(left).toBe(0);
    m.oldestDirty[this.file] = -1;
    check(m, r);
  }
  toString(): string {
    return `fsync(${this.file})`;
  }
}

class SyncCommand implements fc.Command<Model, Real> {
  check(): boolean {
    return true;
  }
  run(m: Model, r: Real): void {
    r.k.sync();
    for (let i = 0; i < FILES.length; i++) expect(same(r.k.fs.readFile(FILES[i]!)!, m.files[i]!)).toBe(true);
    const pc = pageCache(r.k.vm);
    expect(pc.nrDirty).toBe(0);
    expect(pc.nrWriteback).toBe(0);
    check(m, r);
  }
  toString(): string {
    return 'sync()';
  }
}

class TickCommand implements fc.Command<Model, Real> {
  constructor(readonly ns: number) {}
  check(): boolean {
    return true;
  }
  run(m: Model, r: Real): void {
    r.k.tick(this.ns);
    check(m, r);
  }
  toString(): string {
    return `tick(${this.ns})`;
  }
}

class DropCachesCommand implements fc.Command<Model, Real> {
  check(): boolean {
    return true;
  }
  run(m: Model, r: Real): void {
    r.k.proc.write('/proc/sys/vm/drop_caches', '1');
    check(m, r);
  }
  toString(): string {
    return 'drop_caches(1)';
  }
}

class KnobCommand implements fc.Command<Model, Real> {
  constructor(
    readonly knob: string,
    readonly value: number,
  ) {}
  check(): boolean {
    return true;
  }
  run(m: Model, r: Real): void {
    r.k.proc.write(`/proc/sys/vm/${this.knob}`, String(this.value));
    // A file dirtied before periodic writeback came back on is timed from now (the flusher restarts).
    if (this.knob === 'dirty_writeback_centisecs' || this.knob === 'dirty_expire_centisecs')
      for (let i = 0; i < FILES.length; i++) if (m.oldestDirty[i]! >= 0) m.oldestDirty[i] = r.k.printk.nowNs;
    check(m, r);
  }
  toString(): string {
    return `${this.knob}=${this.value}`;
  }
}

const file = fc.nat(FILES.length - 1);
const commands = fc.commands(
  [
    fc.tuple(file, fc.nat(MAX), fc.integer({ min: 1, max: 40000 }), fc.nat(255)).map(([f, o, n, s]) => new PwriteCommand(f, o, n, s)),
    fc.tuple(file, fc.nat(MAX), fc.integer({ min: 1, max: 40000 }), fc.nat(255)).map(([f, o, n, s]) => new PwriteCommand(f, o, n, s)),
    fc.tuple(file, fc.nat(MAX), fc.nat(40000)).map(([f, o, n]) => new ReadCommand(f, o, n)),
    fc.tuple(file, fc.nat(MAX)).map(([f, l]) => new TruncateCommand(f, l)),
    file.map((f) => new FsyncCommand(f)),
    fc.constant(new SyncCommand()),
    fc.constant(new DropCachesCommand()),
    fc.constantFrom(0, 1000, 200_000, 4e6, 100e6, 1e9, 5e9, 31e9).map((ns) => new TickCommand(ns)),
    fc.constantFrom(0, 1000, 200_000, 4e6, 100e6, 1e9, 5e9, 31e9).map((ns) => new TickCommand(ns)),
    fc
      .tuple(
        fc.constantFrom(
          'dirty_ratio',
          'dirty_background_ratio',
          'dirty_writeback_centisecs',
          'dirty_expire_centisecs',
          'dirty_bytes',
          'dirty_background_bytes',
        ),
        fc.integer({ min: 1, max: 100 }),
      )
      .map(([k, v]) => new KnobCommand(k, k.endsWith('bytes') ? v * 65536 : k.endsWith('centisecs') ? v * 30 : v)),
  ],
  { maxCommands: 400, size: 'max' },
);

test('random writes, reads, truncations, syncs, knob changes and ticks keep every byte, every dirty/writeback count and the expiry rule', () => {
  fc.assert(
    fc.property(commands, (cmds) => {
      // A small machine and a slow disk, so writers are throttled and writeback stays in flight across steps.
      const k = boot({ memory: '32M', cpus: 2, seed: 1, aslr: 0, disk: { latencyUs: 500, mbps: 20 } });
      k.fs.writeFile('/bin/tiny', tinyElf());
      k.fs.mkdirs('/data');
      const t = k.spawn('/bin/tiny');
      const buf = t.mmap(0, 2 * BUF, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
      const fds = FILES.map((p) => t.open(p, O_RDWR | O_CREAT));
      const model: Model = { files: FILES.map(() => new Uint8Array(0)), oldestDirty: FILES.map(() => -1), dirtied: 0, written: 0 };
      fc.modelRun(() => ({ model, real: { k, t, fds, buf } }), cmds);
      // Everything reaches the disk in the end.
      k.sync();
      for (let i = 0; i < FILES.length; i++) expect(same(k.fs.readFile(FILES[i]!)!, model.files[i]!)).toBe(true);
    }),
    { numRuns: 25, seed: 4 },
  );
});
