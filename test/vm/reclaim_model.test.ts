/**
 * Model-based property test (fast-check fc.commands) of file and memory
 * operations under memory pressure (with a second process whose mapped file
 * pages reclaim may unmap, and forks that copy on write): a 16M machine, three files of up to
 * 6 MiB each and 4 MiB of anonymous memory, so reclaim (kswapd, direct
 * reclaim, the flusher woken by reclaim, kswapd's pageout) runs all the
 * time. After every step: every byte a task reads is what the model says
 * (nothing lost through reclaim or writeback), the LRU lists recount
 * exactly by walking them, the file lists hold exactly the page cache, the
 * anon lists exactly the anonymous pages, and the scan/steal counters keep
 * their relations.
 */
import fc from 'fast-check';
import { expect, test } from 'vitest';
import { O_CREAT, O_RDWR } from '../../src/fs/fcntl.js';
import type { Kernel } from '../../src/kernel.js';
import type { Task } from '../../src/vm/fork.js';
import { LRU_ACTIVE_ANON, LRU_ACTIVE_FILE, LRU_INACTIVE_ANON, LRU_INACTIVE_FILE, LRU_UNEVICTABLE } from '../../src/vm/mm_inline.js';
import { MAP_ANONYMOUS, MAP_PRIVATE, PROT_READ, PROT_WRITE } from '../../src/vm/mman.js';
import { bootWithProgram, buildElf } from './helpers.js';
import { recountLru, vmstat } from './lru_check.js';

const FILES = ['/bin/a', '/bin/b', '/bin/c'];
const MAX_FILE = 6 << 20;
const ANON_PAGES = 1024;
const CHUNK = 1 << 16;

interface Model {
  files: Uint8Array[];
  anon: Uint8Array;
}

interface Real {
  k: Kernel;
  t: Task;
  fds: number[];
  buf: number;
  anon: number;
  /** a second process mapping SEG_PAGES of a program's read-only data segment */
  prog: Task;
}

const SEG = 0x600000;
const SEG_PAGES = 256;
const segData = fill(SEG_PAGES * 4096, 99);

let steps = 0;
let stolen = 0;
let direct = 0;

function checkAll(m: Model, r: Real): void {
  steps++;
  const k = r.k;
  const lists = recountLru(k);
  // The file lists hold the page cache (no file page here is mapped after leaving the cache), the anon lists the anonymous pages.
  expect(lists[LRU_INACTIVE_FILE]! + lists[LRU_ACTIVE_FILE]!).toBe(k.vm.nrFilePages);
  expect(lists[LRU_INACTIVE_ANON]! + lists[LRU_ACTIVE_ANON]!).toBe(k.vm.nrAnonMapped);
  // A mapped file page is in the page cache: mapped pages never outnumber cached ones.
  expect(k.vm.nrFileMapped).toBeLessThanOrEqual(k.vm.nrFilePages);
  expect(lists[LRU_UNEVICTABLE]).toBe(0);
  const v = vmstat(k);
  expect(v.pgscan_kswapd! + v.pgscan_direct!).toBe(v.pgscan_anon! + v.pgscan_file!);
  expect(v.pgsteal_kswapd! + v.pgsteal_direct!).toBe(v.pgsteal_anon! + v.pgsteal_file!);
  expect(v.pgsteal_file).toBeLessThanOrEqual(v.pgscan_file!);
  expect(v.pgscan_anon).toBe(0);
  expect(v.nr_isolated_file).toBe(0);
  for (let i = 0; i < FILES.length; i++) expect(k.fs.lookup(FILES[i]!)!.data.length).toBe(m.files[i]!.length);
}

function fill(n: number, seed: number): Uint8Array {
  const b = new Uint8Array(n);
  let x = seed | 1;
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    b[i] = x >>> 24;
  }
  return b;
}

class WriteCommand implements fc.Command<Model, Real> {
  constructor(
    readonly f: number,
    readonly off: number,
    readonly len: number,
    readonly seed: number,
  ) {}
  check(): boolean {
    return true;
  }
  run(m: Model, r: Real): void {
    const data = fill(this.len, this.seed);
    let done = 0;
    while (done < this.len) {
      const n = Math.min(CHUNK, this.len - done);
      r.t.writeBytes(r.buf, data.subarray(done, done + n));
      const w = r.t.pwrite(r.fds[this.f]!, r.buf, n, this.off + done);
      expect(w).toBe(n);
      done += n;
    }
    const cur = m.files[this.f]!;
    const end = this.off + this.len;
    const next = end > cur.length ? new Uint8Array(end) : cur;
    if (next !== cur) next.set(cur);
    next.set(data, this.off);
    m.files[this.f] = next;
    checkAll(m, r);
  }
  toString(): string {
    return `write(${this.f}, ${this.off}, ${this.len})`;
  }
}

class ReadCommand implements fc.Command<Model, Real> {
  constructor(
    readonly f: number,
    readonly off: number,
    readonly len: number,
  ) {}
  check(): boolean {
    return true;
  }
  run(m: Model, r: Real): void {
    const want = m.files[this.f]!;
    let pos = this.off;
    const end = Math.min(this.off + this.len, want.length);
    while (pos < end) {
      const n = Math.min(CHUNK, end - pos);
      expect(r.t.pread(r.fds[this.f]!, r.buf, n, pos)).toBe(n);
      const got = r.t.readBytes(r.buf, n);
      for (let i = 0; i < n; i++) if (got[i] !== want[pos + i]) throw new Error(`file ${this.f} byte ${pos + i}: ${got[i]} != ${want[pos + i]}`);
      pos += n;
    }
    if (this.off >= want.length) expect(r.t.pread(r.fds[this.f]!, r.buf, 16, this.off)).toBe(0);
    checkAll(m, r);
  }
  toString(): string {
    return `read(${this.f}, ${this.off}, ${this.len})`;
  }
}

class FsyncCommand implements fc.Command<Model, Real> {
  constructor(readonly f: number) {}
  check(): boolean {
    return true;
  }
  run(m: Model, r: Real): void {
    expect(r.t.fsync(r.fds[this.f]!)).toBe(0);
    const disk = r.k.fs.lookup(FILES[this.f]!)!.data;
    expect(disk.length).toBe(m.files[this.f]!.length);
    expect(Buffer.compare(Buffer.from(disk), Buffer.from(m.files[this.f]!))).toBe(0);
    checkAll(m, r);
  }
  toString(): string {
    return `fsync(${this.f})`;
  }
}

class TruncateCommand implements fc.Command<Model, Real> {
  constructor(
    readonly f: number,
    readonly len: number,
  ) {}
  check(): boolean {
    return true;
  }
  run(m: Model, r: Real): void {
    expect(r.t.ftruncate(r.fds[this.f]!, this.len)).toBe(0);
    const next = new Uint8Array(this.len);
    next.set(m.files[this.f]!.subarray(0, Math.min(this.len, m.files[this.f]!.length)));
    m.files[this.f] = next;
    checkAll(m, r);
  }
  toString(): string {
    return `ftruncate(${this.f}, ${this.len})`;
  }
}

class DropCommand implements fc.Command<Model, Real> {
  check(): boolean {
    return true;
  }
  run(m: Model, r: Real): void {
    r.k.proc.write('/proc/sys/vm/drop_caches', '1');
    checkAll(m, r);
  }
  toString(): string {
    return 'drop_caches';
  }
}

class AnonCommand implements fc.Command<Model, Real> {
  constructor(
    readonly page: number,
    readonly n: number,
    readonly value: number,
  ) {}
  check(): boolean {
    return true;
  }
  run(m: Model, r: Real): void {
    for (let i = 0; i < this.n; i++) {
      const pg = (this.page + i) % ANON_PAGES;
      const va = r.anon + pg * 4096 + (pg % 4093);
      expect(r.t.readBytes(va, 1)[0]).toBe(m.anon[pg]);
      r.t.writeBytes(va, [(this.value + i) & 0xff]);
      m.anon[pg] = (this.value + i) & 0xff;
    }
    checkAll(m, r);
  }
  toString(): string {
    return `anon(${this.page}, ${this.n}, ${this.value})`;
  }
}

/** The second process reads pages of its mapped data segment (file pages that reclaim may unmap). */
class SegmentCommand implements fc.Command<Model, Real> {
  constructor(
    readonly page: number,
    readonly n: number,
  ) {}
  check(): boolean {
    return true;
  }
  run(m: Model, r: Real): void {
    for (let i = 0; i < this.n; i++) {
      const pg = (this.page + i) % SEG_PAGES;
      const got = r.prog.readBytes(SEG + pg * 4096, 64);
      for (let j = 0; j < 64; j++) if (got[j] !== segData[pg * 4096 + j]) throw new Error(`segment page ${pg} byte ${j}`);
    }
    checkAll(m, r);
  }
  toString(): string {
    return `segment(${this.page}, ${this.n})`;
  }
}

/** fork; the child writes some anonymous pages (copy-on-write under pressure) and reads others, then exits. */
class ForkCommand implements fc.Command<Model, Real> {
  constructor(
    readonly page: number,
    readonly n: number,
  ) {}
  check(): boolean {
    return true;
  }
  run(m: Model, r: Real): void {
    const c = r.t.fork();
    for (let i = 0; i < this.n; i++) {
      const pg = (this.page + i) % ANON_PAGES;
      const va = r.anon + pg * 4096 + (pg % 4093);
      expect(c.readBytes(va, 1)[0]).toBe(m.anon[pg]);
      if (i % 2 === 0) c.writeBytes(va, [(m.anon[pg]! + 1) & 0xff]);
    }
    checkAll(m, r);
    c.exit(0);
    r.t.wait();
    // The parent's pages are as they were.
    for (let i = 0; i < this.n; i++) {
      const pg = (this.page + i) % ANON_PAGES;
      expect(r.t.readBytes(r.anon + pg * 4096 + (pg % 4093), 1)[0]).toBe(m.anon[pg]);
    }
    checkAll(m, r);
  }
  toString(): string {
    return `fork(${this.page}, ${this.n})`;
  }
}

const f = fc.integer({ min: 0, max: FILES.length - 1 });
const off = fc.integer({ min: 0, max: MAX_FILE - 1 });
const commands = fc.commands(
  [
    fc.tuple(f, off, fc.integer({ min: 1, max: 1 << 20 }), fc.nat()).map(([a, o, l, s]) => new WriteCommand(a, Math.min(o, MAX_FILE - l), l, s)),
    fc.tuple(f, off, fc.integer({ min: 1, max: 1 << 21 })).map(([a, o, l]) => new ReadCommand(a, o, l)),
    fc.tuple(f, off, fc.integer({ min: 1, max: 1 << 21 })).map(([a, o, l]) => new ReadCommand(a, o, l)),
    f.map((a) => new FsyncCommand(a)),
    fc.tuple(f, fc.integer({ min: 0, max: MAX_FILE })).map(([a, l]) => new TruncateCommand(a, l)),
    fc.constant(new DropCommand()),
    fc.tuple(fc.nat(ANON_PAGES - 1), fc.integer({ min: 1, max: 256 }), fc.nat(255)).map(([p, n, v]) => new AnonCommand(p, n, v)),
    fc.tuple(fc.nat(SEG_PAGES - 1), fc.integer({ min: 1, max: 64 })).map(([p, n]) => new SegmentCommand(p, n)),
    fc.tuple(fc.nat(ANON_PAGES - 1), fc.integer({ min: 1, max: 128 })).map(([p, n]) => new ForkCommand(p, n)),
  ],
  { maxCommands: 60, size: 'max' },
);

test('model-based: file reads, writes, truncates, fsyncs, cache drops and anonymous memory under reclaim keep every byte and count', () => {
  fc.assert(
    fc.property(commands, (cmds) => {
      const k = bootWithProgram('16M');
      k.fs.writeFile(
        '/bin/prog',
        buildElf([
          { vaddr: 0x401000, flags: 5, data: new Uint8Array(64).fill(0x90) },
          { vaddr: SEG, flags: 4, data: segData },
        ]),
      );
      const prog = k.spawn('/bin/prog');
      const t = k.spawn('/bin/tiny');
      const buf = t.mmap(0, CHUNK, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
      const anon = t.mmap(0, ANON_PAGES * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
      const model: Model = { files: [], anon: new Uint8Array(ANON_PAGES) };
      const fds: number[] = [];
      for (const [i, p] of FILES.entries()) {
        // Each file starts with 4 MiB on disk, none of it cached.
        const init = fill(4 << 20, i + 7);
        k.fs.writeFile(p, init);
        model.files.push(init.slice());
        fds.push(t.open(p, O_RDWR | O_CREAT));
      }
      const real: Real = { k, t, fds, buf, anon, prog };
      new SegmentCommand(0, SEG_PAGES).run(model, real);
      // Memory pressure from the start: the anonymous memory and all three files (16 MiB in all) through a 16M machine.
      new AnonCommand(0, ANON_PAGES, 1).run(model, real);
      for (let i = 0; i < FILES.length; i++) new ReadCommand(i, 0, 4 << 20).run(model, real);
      fc.modelRun(() => ({ model, real }), cmds);
      // Everything written reaches the disk intact.
      for (const [i, fd] of fds.entries()) {
        expect(t.fsync(fd)).toBe(0);
        expect(Buffer.compare(Buffer.from(k.fs.lookup(FILES[i]!)!.data), Buffer.from(model.files[i]!))).toBe(0);
      }
      const v = vmstat(k);
      stolen += v.pgsteal_file!;
      direct += v.pgsteal_direct!;
    }),
    { numRuns: 8 },
  );
  expect(steps).toBeGreaterThan(100);
  // The runs did reclaim.
  expect(stolen).toBeGreaterThan(1000);
  console.log(`reclaim model: ${steps} steps, ${stolen} pages reclaimed (${direct} directly)`);
});
