/**
 * Model-based property test (fast-check fc.commands) of the multi-gen LRU
 * under memory pressure, with swap and without: a 16M machine booted with
 * lruGen, two files of up to 6 MiB read and written through file
 * descriptors and through a shared mapping, 4 MiB of anonymous memory,
 * and the debugfs aging and eviction commands and the enabled switch
 * mixed in. After every step every byte a task reads is what the model
 * says (nothing lost to eviction, swap or writeback), the generations
 * recount exactly (lists, nr_pages, the active/inactive counts
 * /proc/meminfo and /proc/vmstat report) and the scan/steal counters keep
 * their relations.
 */
import fc from 'fast-check';
import { expect, test } from 'vitest';
import { O_CREAT, O_RDWR } from '../../src/fs/fcntl.js';
import { boot } from '../../src/index.js';
import type { Kernel } from '../../src/kernel.js';
import type { Task } from '../../src/vm/fork.js';
import { lruGenOf } from '../../src/vm/lru_gen.js';
import { LRU_ACTIVE_ANON, LRU_ACTIVE_FILE, LRU_INACTIVE_ANON, LRU_INACTIVE_FILE } from '../../src/vm/mm_inline.js';
import { MAP_ANONYMOUS, MAP_PRIVATE, MAP_SHARED, PROT_READ, PROT_WRITE } from '../../src/vm/mman.js';
import { tinyElf } from './helpers.js';
import { meminfo, recountLru, vmstat } from './lru_check.js';
import { recountLruGen } from './lru_gen_check.js';

const FILES = ['/data/a', '/data/b'];
const MAX_FILE = 6 << 20;
const ANON_PAGES = 1024;
const CHUNK = 1 << 16;
/** the shared mapping of file 0's first MAP_PAGES pages */
const MAP_PAGES = 256;

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
  map: number;
  swap: boolean;
}

let steps = 0;

function checkAll(m: Model, r: Real): void {
  steps++;
  checkFiles(m, r);
  const k = r.k;
  const lists = k.vm.lruvec.gen !== null ? recountLruGen(k) : recountLru(k);
  // NR_FILE_PAGES counts the swap cache too, whose pages are on the anon lists.
  expect(lists[LRU_INACTIVE_FILE]! + lists[LRU_ACTIVE_FILE]!).toBe(k.vm.nrFilePages - k.vm.nrSwapcached);
  if (!r.swap) expect(lists[LRU_INACTIVE_ANON]! + lists[LRU_ACTIVE_ANON]!).toBe(k.vm.nrAnonMapped);
  // The text files are rendered and parsed every 8th step (the lists are recounted at every one).
  if (steps % 8 !== 0) return;
  const v = vmstat(k);
  expect([v.nr_inactive_anon, v.nr_active_anon, v.nr_inactive_file, v.nr_active_file]).toEqual(lists.slice(0, 4));
  const mi = meminfo(k);
  expect([mi['Inactive(anon)'], mi['Active(anon)'], mi['Inactive(file)'], mi['Active(file)']]).toEqual(lists.slice(0, 4).map((n) => n * 4));
  expect(v.pgscan_kswapd! + v.pgscan_direct! + v.pgscan_proactive!).toBe(v.pgscan_anon! + v.pgscan_file!);
  expect(v.pgsteal_kswapd! + v.pgsteal_direct! + v.pgsteal_proactive!).toBe(v.pgsteal_anon! + v.pgsteal_file!);
  expect(v.pgsteal_file).toBeLessThanOrEqual(v.pgscan_file!);
  expect(v.pgsteal_anon).toBeLessThanOrEqual(v.pgscan_anon!);
  if (!r.swap) expect(v.pgscan_anon).toBe(0);
}

function checkFiles(m: Model, r: Real): void {
  for (let i = 0; i < FILES.length; i++) expect(r.k.fs.lookup(FILES[i]!)!.data.length).toBe(m.files[i]!.length);
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
    for (let done = 0; done < this.len; done += CHUNK) {
      const n = Math.min(CHUNK, this.len - done);
      r.t.writeBytes(r.buf, data.subarray(done, done + n));
      expect(r.t.pwrite(r.fds[this.f]!, r.buf, n, this.off + done)).toBe(n);
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
    const end = Math.min(this.off + this.len, want.length);
    for (let pos = this.off; pos < end; pos += CHUNK) {
      const n = Math.min(CHUNK, end - pos);
      expect(r.t.pread(r.fds[this.f]!, r.buf, n, pos)).toBe(n);
      const got = r.t.readBytes(r.buf, n);
      for (let i = 0; i < n; i++) if (got[i] !== want[pos + i]) throw new Error(`file ${this.f} byte ${pos + i}: ${got[i]} != ${want[pos + i]}`);
    }
    checkAll(m, r);
  }
  toString(): string {
    return `read(${this.f}, ${this.off}, ${this.len})`;
  }
}

/** Loads through the shared mapping of file 0 (page faults, the read-around, the accessed bits aging walks). */
class MapReadCommand implements fc.Command<Model, Real> {
  constructor(
    readonly page: number,
    readonly n: number,
  ) {}
  check(): boolean {
    return true;
  }
  run(m: Model, r: Real): void {
    const want = m.files[0]!;
    for (let i = 0; i < this.n; i++) {
      const pg = (this.page + i) % MAP_PAGES;
      const off = pg * 4096 + (pg % 4093);
      if (off >= want.length) continue;
      expect(r.t.read8(r.map + off)).toBe(want[off]);
    }
    checkAll(m, r);
  }
  toString(): string {
    return `mapread(${this.page}, ${this.n})`;
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

/** '+ 1 0 max_seq' (aging) or '- 1 0 min_seq' (eviction of the oldest generation) through debugfs. */
class DebugfsCommand implements fc.Command<Model, Real> {
  constructor(readonly evict: boolean) {}
  check(): boolean {
    return true;
  }
  run(m: Model, r: Real): void {
    if (r.k.vm.lruvec.gen !== null) {
      const g = lruGenOf(r.k.vm);
      const min = Math.min(g.minSeq[0]!, g.minSeq[1]!);
      if (!this.evict) r.k.proc.write('/sys/kernel/debug/lru_gen', `+ 1 0 ${g.maxSeq}`);
      else if (min + 2 <= g.maxSeq) r.k.proc.write('/sys/kernel/debug/lru_gen', `- 1 0 ${min} ${r.swap ? 60 : 0} 512`);
    }
    checkAll(m, r);
  }
  toString(): string {
    return this.evict ? 'evict' : 'age';
  }
}

/** /sys/kernel/mm/lru_gen/enabled switched: every folio moves between the generations and the classic lists. */
class SwitchCommand implements fc.Command<Model, Real> {
  constructor(readonly on: boolean) {}
  check(): boolean {
    return true;
  }
  run(m: Model, r: Real): void {
    r.k.proc.write('/sys/kernel/mm/lru_gen/enabled', this.on ? 'y' : 'n');
    expect(r.k.proc.read('/sys/kernel/mm/lru_gen/enabled')).toBe(this.on ? '0x0007\n' : '0x0000\n');
    checkAll(m, r);
  }
  toString(): string {
    return this.on ? 'enable' : 'disable';
  }
}

const commands = fc.commands(
  [
    fc
      .tuple(fc.integer({ min: 0, max: 1 }), fc.integer({ min: 0, max: MAX_FILE - 1 }), fc.integer({ min: 1, max: 256 << 10 }), fc.integer())
      .map(([f, off, len, seed]) => new WriteCommand(f, off, Math.min(len, MAX_FILE - off), seed)),
    fc
      .tuple(fc.integer({ min: 0, max: 1 }), fc.integer({ min: 0, max: MAX_FILE - 1 }), fc.integer({ min: 1, max: 512 << 10 }))
      .map(([f, off, len]) => new ReadCommand(f, off, len)),
    fc.tuple(fc.integer({ min: 0, max: MAP_PAGES - 1 }), fc.integer({ min: 1, max: 64 })).map(([p, n]) => new MapReadCommand(p, n)),
    fc
      .tuple(fc.integer({ min: 0, max: ANON_PAGES - 1 }), fc.integer({ min: 1, max: 256 }), fc.integer({ min: 0, max: 255 }))
      .map(([p, n, v]) => new AnonCommand(p, n, v)),
    fc.boolean().map((e) => new DebugfsCommand(e)),
    fc.boolean().map((e) => new DebugfsCommand(e)),
    fc.constantFrom(new SwitchCommand(false), new SwitchCommand(true)),
  ],
  { maxCommands: 1000, size: 'max' },
);

function run(swap: boolean, numRuns: number): void {
  fc.assert(
    fc.property(commands, (cmds) => {
      const k = boot({ memory: '16M', seed: 1, aslr: 0, lruGen: true, ...(swap ? { swap: '16M' } : {}) });
      k.fs.writeFile('/bin/tiny', tinyElf());
      for (const f of FILES) k.fs.writeFile(f, new Uint8Array(0));
      const t = k.spawn('/bin/tiny');
      const fds = FILES.map((f) => t.open(f, O_RDWR | O_CREAT));
      const buf = t.mmap(0, CHUNK, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
      const anon = t.mmap(0, ANON_PAGES * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
      const map = t.mmap(0, MAP_PAGES * 4096, PROT_READ, MAP_SHARED, fds[0]!, 0);
      const m: Model = { files: FILES.map(() => new Uint8Array(0)), anon: new Uint8Array(ANON_PAGES) };
      fc.modelRun(() => ({ model: m, real: { k, t, fds, buf, anon, map, swap } }), cmds);
    }),
    { numRuns, seed: swap ? 2 : 1 },
  );
}

// Each run is at least 5000 operations (fixed seeds): 10^4 with the two.
test('model-based, without swap: file and anonymous memory under the multi-gen LRU keep every byte and every count', () => {
  const before = steps;
  run(false, 14);
  expect(steps - before).toBeGreaterThanOrEqual(5000);
}, 240_000);

test('model-based, with swap: anonymous memory swapped out and back under the multi-gen LRU keeps every byte and every count', () => {
  const before = steps;
  run(true, 10);
  expect(steps - before).toBeGreaterThanOrEqual(5000);
}, 240_000);
