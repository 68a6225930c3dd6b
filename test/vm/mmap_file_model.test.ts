/**
 * Model-based property test (fast-check fc.commands) of file mappings: two
 * files (one on the disk, one in the /dev/shm tmpfs) mapped MAP_SHARED and
 * MAP_PRIVATE at random offsets, loads and stores through the mappings and
 * through forked children, pwrite / pread, ftruncate (shrinking and
 * growing), msync(MS_SYNC), fsync and drop_caches, against a model of each
 * file's bytes, of the disk's bytes, and of each private mapping's copied
 * pages. After every step: every byte read is the model's; the disk holds
 * the model's bytes wherever a sync covered them; NR_FILE_PAGES, NR_SHMEM
 * and NR_FILE_DIRTY recount from the xarrays' pages. At the end the files'
 * pages all go back.
 *
 * The model's rules are the kernel's: a shared store is the file's byte at
 * once; a private store copies the page (wp_page_copy / do_cow_fault) and
 * never reaches the file; a private page not yet copied shows the file;
 * ftruncate zaps every mapping's PTEs past the new end, private copies
 * included (unmap_mapping_range with even_cows), and a page wholly past
 * i_size is never touched (that is SIGBUS, tested elsewhere).
 */
import fc from 'fast-check';
import { expect, test } from 'vitest';
import { O_CREAT, O_RDWR } from '../../src/fs/fcntl.js';
import type { Kernel } from '../../src/kernel.js';
import { PG } from '../../src/memory/page.js';
import { pageCache } from '../../src/vm/filemap.js';
import type { Task } from '../../src/vm/fork.js';
import { MAP_ANONYMOUS, MAP_PRIVATE, MAP_SHARED, MS_SYNC, PROT_READ, PROT_WRITE } from '../../src/vm/mman.js';
import { bootWithProgram } from './helpers.js';

const P = 4096;
const PATHS = ['/data/model', '/dev/shm/model'] as const;
const MAXPAGES = 6;

interface MapM {
  addr: number;
  file: number;
  pgoff: number;
  pages: number;
  shared: boolean;
  /** private copies by page of the mapping */
  copies: Map<number, Uint8Array>;
}
interface Model {
  /** each file's bytes (length = i_size) */
  data: Uint8Array[];
  /** the disk file's bytes known to be on the disk: -1 where no sync covered them yet */
  disk: Int16Array;
  maps: MapM[];
}
interface Real {
  k: Kernel;
  t: Task;
  fds: number[];
  buf: number;
}

let ops = 0;

function grow(m: Model, f: number, n: number): void {
  const old = m.data[f]!;
  const g = new Uint8Array(n);
  g.set(old.subarray(0, Math.min(n, old.length)));
  m.data[f] = g;
}

/** What a load of mapping page `pi` byte `off` returns, by the model; -1 if the page is past i_size (not to be touched). */
function expected(m: Model, mp: MapM, pi: number, off: number): number {
  const file = m.data[mp.file]!;
  const index = mp.pgoff + pi;
  if (index >= Math.ceil(file.length / P)) return -1;
  const copy = mp.copies.get(pi);
  if (copy !== undefined) return copy[off]!;
  const at = index * P + off;
  return at < file.length ? file[at]! : 0;
}

function check(m: Model, r: Real): void {
  const { k } = r;
  const pc = pageCache(k.vm);
  let pages = 0;
  let shmem = 0;
  let dirty = 0;
  for (const as of pc.spaces.values()) {
    as.xa.forEach((_i, pfn) => {
      pages++;
      const f = k.pages.flags[pfn]!;
      if ((f & (1 << PG.swapbacked)) !== 0) shmem++;
      else if ((f & (1 << PG.dirty)) !== 0) dirty++;
    });
  }
  expect(k.vm.nrFilePages).toBe(pages);
  expect(k.vm.nrShmem).toBe(shmem);
  expect(pc.nrDirty).toBe(dirty);
  const disk = k.fs.readFile(PATHS[0])!;
  expect(disk.length).toBe(m.data[0]!.length);
  let bad = -1;
  for (let i = 0; i < disk.length && bad < 0; i++) if (m.disk[i]! >= 0 && disk[i] !== m.disk[i]) bad = i;
  if (bad >= 0) expect(`disk byte ${bad}: ${disk[bad]}`).toBe(`disk byte ${bad}: ${m.disk[bad]}`);
}

abstract class Cmd implements fc.Command<Model, Real> {
  check(_m: Readonly<Model>): boolean {
    return true;
  }
  abstract act(m: Model, r: Real): void;
  run(m: Model, r: Real): void {
    ops++;
    this.act(m, r);
    check(m, r);
  }
  abstract toString(): string;
}

class MmapCmd extends Cmd {
  constructor(
    readonly file: number,
    readonly shared: boolean,
    readonly pgoff: number,
    readonly pages: number,
  ) {
    super();
  }
  override check(m: Readonly<Model>): boolean {
    return m.maps.length < 6;
  }
  act(m: Model, r: Real): void {
    const a = r.t.mmap(0, this.pages * P, PROT_READ | PROT_WRITE, this.shared ? MAP_SHARED : MAP_PRIVATE, r.fds[this.file]!, this.pgoff * P);
    expect(a).toBeGreaterThan(0);
    m.maps.push({ addr: a, file: this.file, pgoff: this.pgoff, pages: this.pages, shared: this.shared, copies: new Map() });
  }
  toString(): string {
    return `mmap(${this.file}, ${this.shared ? 'shared' : 'private'}, pgoff ${this.pgoff}, ${this.pages})`;
  }
}

class MunmapCmd extends Cmd {
  constructor(readonly i: number) {
    super();
  }
  override check(m: Readonly<Model>): boolean {
    return m.maps.length > 0;
  }
  act(m: Model, r: Real): void {
    const mp = m.maps.splice(this.i % m.maps.length, 1)[0]!;
    expect(r.t.munmap(mp.addr, mp.pages * P)).toBe(0);
  }
  toString(): string {
    return `munmap(#${this.i})`;
  }
}

/** A load or store through a mapping, by the task or by a forked child. */
class AccessCmd extends Cmd {
  constructor(
    readonly i: number,
    readonly page: number,
    readonly off: number,
    readonly store: boolean,
    readonly byte: number,
    readonly child: boolean,
  ) {
    super();
  }
  override check(m: Readonly<Model>): boolean {
    return m.maps.length > 0;
  }
  act(m: Model, r: Real): void {
    const mp = m.maps[this.i % m.maps.length]!;
    const pi = this.page % mp.pages;
    const va = mp.addr + pi * P + this.off;
    const want = expected(m, mp, pi, this.off);
    if (want < 0) return;
    const file = m.data[mp.file]!;
    const at = (mp.pgoff + pi) * P + this.off;
    if (!this.store) {
      expect(r.t.read8(va)).toBe(want);
      return;
    }
    // A shared store past i_size in the last page never reaches the file and writeback zeroes it: the model keeps to i_size.
    if (mp.shared && at >= file.length) return;
    const who = this.child ? r.t.fork() : r.t;
    who.write8(va, this.byte);
    if (this.child) {
      expect(who.read8(va)).toBe(this.byte);
      who.exit(0);
      r.t.wait();
    }
    if (mp.shared) file[at] = this.byte;
    else if (!this.child) {
      let copy = mp.copies.get(pi);
      if (copy === undefined) {
        copy = new Uint8Array(P);
        const from = (mp.pgoff + pi) * P;
        copy.set(file.subarray(from, Math.min(from + P, file.length)));
        mp.copies.set(pi, copy);
      }
      copy[this.off] = this.byte;
    }
  }
  toString(): string {
    return `${this.child ? 'child ' : ''}${this.store ? `store ${this.byte}` : 'load'} #${this.i} page ${this.page} +${this.off}`;
  }
}

class PwriteCmd extends Cmd {
  constructor(
    readonly file: number,
    readonly at: number,
    readonly bytes: number[],
  ) {
    super();
  }
  act(m: Model, r: Real): void {
    r.t.writeBytes(r.buf, this.bytes);
    expect(r.t.pwrite(r.fds[this.file]!, r.buf, this.bytes.length, this.at)).toBe(this.bytes.length);
    const end = this.at + this.bytes.length;
    if (end > m.data[this.file]!.length) this.growTo(m, end);
    m.data[this.file]!.set(this.bytes, this.at);
  }
  growTo(m: Model, n: number): void {
    grow(m, this.file, n);
    if (this.file === 0) {
      const d = new Int16Array(n).fill(-1);
      d.set(m.disk.subarray(0, Math.min(n, m.disk.length)));
      m.disk = d;
    }
  }
  toString(): string {
    return `pwrite(${this.file}, ${this.at}, ${this.bytes.length})`;
  }
}

class PreadCmd extends Cmd {
  constructor(
    readonly file: number,
    readonly at: number,
    readonly n: number,
  ) {
    super();
  }
  act(m: Model, r: Real): void {
    const data = m.data[this.file]!;
    const want = Math.max(0, Math.min(this.n, data.length - this.at));
    expect(r.t.pread(r.fds[this.file]!, r.buf, this.n, this.at)).toBe(want);
    if (want > 0) expect([...r.t.readBytes(r.buf, want)]).toEqual([...data.subarray(this.at, this.at + want)]);
  }
  toString(): string {
    return `pread(${this.file}, ${this.at}, ${this.n})`;
  }
}

class TruncateCmd extends Cmd {
  constructor(
    readonly file: number,
    readonly n: number,
  ) {
    super();
  }
  act(m: Model, r: Real): void {
    expect(r.t.ftruncate(r.fds[this.file]!, this.n)).toBe(0);
    const old = m.data[this.file]!.length;
    grow(m, this.file, this.n);
    if (this.file === 0) {
      // The new size is on the disk at once (i_size), its new bytes zeros; a cut keeps what was synced below it.
      const d = new Int16Array(this.n).fill(-1);
      d.set(m.disk.subarray(0, Math.min(this.n, m.disk.length)));
      for (let i = old; i < this.n; i++) d[i] = 0;
      m.disk = d;
    }
    if (this.n < old) {
      // unmap_mapping_range(even_cows): private copies of pages from the new end's page on are gone.
      const first = Math.ceil(this.n / P);
      for (const mp of m.maps) if (mp.file === this.file) for (const pi of [...mp.copies.keys()]) if (mp.pgoff + pi >= first) mp.copies.delete(pi);
    }
  }
  toString(): string {
    return `ftruncate(${this.file}, ${this.n})`;
  }
}

class SyncCmd extends Cmd {
  constructor(
    readonly how: number,
    readonly i: number,
  ) {
    super();
  }
  act(m: Model, r: Real): void {
    const data = m.data[0]!;
    if (this.how === 0) {
      expect(r.t.fsync(r.fds[0]!)).toBe(0);
      for (let i = 0; i < data.length; i++) m.disk[i] = data[i]!;
    } else if (this.how === 1) {
      if (m.maps.length === 0) return;
      const mp = m.maps[this.i % m.maps.length]!;
      expect(r.t.msync(mp.addr, mp.pages * P, MS_SYNC)).toBe(0);
      if (mp.file !== 0 || !mp.shared) return;
      for (let i = mp.pgoff * P; i < Math.min(data.length, (mp.pgoff + mp.pages) * P); i++) m.disk[i] = data[i]!;
    } else {
      r.k.proc.write('/proc/sys/vm/drop_caches', '1');
    }
  }
  toString(): string {
    return ['fsync', `msync #${this.i}`, 'drop_caches'][this.how]!;
  }
}

const fileArb = fc.nat(1);
const commands = fc.commands(
  [
    fc.tuple(fileArb, fc.boolean(), fc.nat(3), fc.integer({ min: 1, max: 4 })).map(([a, b, c, d]) => new MmapCmd(a, b, c, d)),
    fc.nat(9).map((i) => new MunmapCmd(i)),
    fc.tuple(fc.nat(9), fc.nat(3), fc.nat(P - 1), fc.boolean(), fc.nat(255), fc.nat(5)).map(([a, b, c, d, e, f]) => new AccessCmd(a, b, c, d, e, f === 0)),
    fc.tuple(fc.nat(9), fc.nat(3), fc.nat(P - 1), fc.boolean(), fc.nat(255), fc.nat(5)).map(([a, b, c, d, e, f]) => new AccessCmd(a, b, c, d, e, f === 0)),
    fc.tuple(fc.nat(9), fc.nat(3), fc.nat(P - 1), fc.boolean(), fc.nat(255), fc.nat(5)).map(([a, b, c, d, e, f]) => new AccessCmd(a, b, c, d, e, f === 0)),
    fc
      .tuple(fileArb, fc.nat(MAXPAGES * P - 1), fc.array(fc.nat(255), { minLength: 1, maxLength: 300 }))
      .map(([a, b, c]) => new PwriteCmd(a, Math.min(b, MAXPAGES * P - c.length), c)),
    fc.tuple(fileArb, fc.nat(MAXPAGES * P), fc.nat(2 * P)).map(([a, b, c]) => new PreadCmd(a, b, c)),
    fc.tuple(fileArb, fc.nat(MAXPAGES * P)).map(([a, b]) => new TruncateCmd(a, b)),
    fc.tuple(fc.nat(2), fc.nat(9)).map(([a, b]) => new SyncCmd(a, b)),
  ],
  { maxCommands: 80, size: 'max' },
);

test('model-based: file mappings, read/write, truncate and sync keep every byte and every count', () => {
  const k = bootWithProgram();
  k.fs.writeFile(PATHS[0], new Uint8Array(0));
  fc.assert(
    fc.property(commands, (cmds) => {
      const t = k.spawn('/bin/tiny', ['tiny']);
      const fds = PATHS.map((p) => t.open(p, O_RDWR | O_CREAT));
      // Each run starts from two files of 3 pages of known bytes, synced.
      const init = Uint8Array.from({ length: 3 * P }, (_, i) => (i * 7) % 256);
      const buf = t.mmap(0, 2 * P, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
      for (const fd of fds) {
        t.ftruncate(fd, 0);
        t.writeBytes(buf, init.subarray(0, 2 * P));
        t.pwrite(fd, buf, 2 * P, 0);
        t.writeBytes(buf, init.subarray(2 * P));
        t.pwrite(fd, buf, P, 2 * P);
        t.fsync(fd);
      }
      const model: Model = { data: [init.slice(), init.slice()], disk: Int16Array.from(init), maps: [] };
      const real: Real = { k, t, fds, buf };
      try {
        fc.modelRun(() => ({ model, real }), cmds);
      } finally {
        t.exit(0);
      }
      // Nothing maps or holds the files now: the disk file's cache is clean after a sync, and unlinking frees every page.
      check(model, real);
      return true;
    }),
    { numRuns: 150 },
  );
  const u = k.spawn('/bin/tiny', ['tiny']);
  for (const p of PATHS) expect(u.unlink(p)).toBe(0);
  u.exit(0);
  expect(k.vm.nrShmem).toBe(0);
  for (const p of PATHS) expect(k.fs.lookup(p)).toBeUndefined();
  console.log(`file-mapping model: ${ops} operations checked`);
  expect(ops).toBeGreaterThan(3000);
});
