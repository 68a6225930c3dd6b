/**
 * Model-based property test (fast-check fc.commands) of swap: random
 * writes, reads, MADV_PAGEOUT, reclaim of single pages through the swap
 * interface (shared ones too), forks and exits over several tasks sharing
 * one swap area. The model holds every page's bytes per task; after every
 * step every byte a task reads must be the model's, and the swap area's
 * state must recount exactly from the page tables: each slot's swap_map is
 * the number of swap PTEs naming it, plus SWAP_HAS_CACHE when a page
 * caches it; inuse_pages, the clusters' counts, each mm's MM_SWAPENTS and
 * NR_SWAPCACHE agree. When every task has exited every slot is free.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { boot, type Kernel } from '../../src/kernel.js';
import { PG } from '../../src/memory/page.js';
import type { Task } from '../../src/vm/fork.js';
import { forEachPte } from '../../src/vm/memory.js';
import { MADV_PAGEOUT, MAP_ANONYMOUS, MAP_FIXED, MAP_PRIVATE, PROT_READ, PROT_WRITE } from '../../src/vm/mman.js';
import { _PAGE_PRESENT, _PAGE_SPECIAL } from '../../src/vm/pgtable.js';
import { addToSwap, deleteFromSwapCache, PG_swapcache, pageSwapCache, swapWritepage, unmapAnonPte } from '../../src/vm/swap_state.js';
import { SWAP_HAS_CACHE, SWAP_MAP_BAD, SWAPFILE_CLUSTER, SWP_SOLIDSTATE } from '../../src/vm/swapfile.js';
import { isSwapPte, pteSwpOffset } from '../../src/vm/swapops.js';
import { KIND_ANON } from '../../src/vm/vm.js';
import { tinyElf } from './helpers.js';

const P = 4096;
const W = 0x10000000;
const NP = 8;

interface Model {
  /** per live task, per page: its bytes (null: never written, zeros) */
  tasks: (Uint8Array | null)[][];
}

interface Real {
  k: Kernel;
  tasks: Task[];
}

function fill(seed: number, n: number): Uint8Array {
  const b = new Uint8Array(n);
  let x = (seed * 2654435761) >>> 0 || 7;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    b[i] = x & 0xff;
  }
  return b;
}

/** The swap area's state recounted from the page tables and the swap cache. */
function checkSwapState(r: Real): void {
  const vm = r.k.vm;
  const si = vm.swap!;
  const u32 = vm.k.phys.u32;
  const refs = new Map<number, number>();
  for (const t of r.tasks) {
    const mm = t.mm!;
    let ents = 0;
    forEachPte(vm, mm.pgd, 0, 2 ** 47, (idx) => {
      const lo = u32[idx]!;
      const hi = u32[idx + 1]!;
      if (!isSwapPte(lo, hi)) return;
      const off = pteSwpOffset(lo, hi);
      refs.set(off, (refs.get(off) ?? 0) + 1);
      ents++;
    });
    expect(mm.swapEnts).toBe(ents);
    expect(new RegExp(`^VmSwap:\\s+${ents * 4} kB$`, 'm').test(r.k.proc.read(`/proc/${t.pid}/status`))).toBe(true);
  }
  expect(si.swapMap[0]).toBe(SWAP_MAP_BAD);
  let inuse = 0;
  let cached = 0;
  const clusters = new Uint16Array(si.nrClusters);
  clusters[0] = 1;
  for (let s = si.max; s < si.nrClusters * SWAPFILE_CLUSTER; s++) clusters[Math.floor(s / SWAPFILE_CLUSTER)]!++;
  for (let s = 1; s < si.max; s++) {
    const pfn = si.swapCache[s]! - 1;
    if (pfn >= 0) {
      cached++;
      expect(vm.pagePrivate[pfn]).toBe(s);
      expect((vm.k.pages.flags[pfn]! >> PG_swapcache) & 1).toBe(1);
    }
    const want = (refs.get(s) ?? 0) | (pfn >= 0 ? SWAP_HAS_CACHE : 0);
    if (si.swapMap[s] !== want) expect(`slot ${s}: swap_map ${si.swapMap[s]}`).toBe(`slot ${s}: swap_map ${want}`);
    if (want !== 0) {
      inuse++;
      clusters[Math.floor(s / SWAPFILE_CLUSTER)]!++;
    }
  }
  expect(si.inusePages).toBe(inuse);
  expect(vm.nrSwapcached).toBe(cached);
  // what /proc/meminfo and /proc/swaps print, recounted
  const mi = r.k.proc.read('/proc/meminfo');
  const kb = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB$`, 'm').exec(mi)![1]);
  expect([kb('SwapFree'), kb('SwapCached')]).toEqual([(si.pages - inuse) * 4, cached * 4]);
  expect(r.k.proc.read('/proc/swaps').split('\n')[1]!.split('\t')[3]).toBe(String(inuse * 4));
  expect([...si.clusterCount]).toEqual([...clusters]);
}

class WriteCmd implements fc.Command<Model, Real> {
  constructor(
    readonly ti: number,
    readonly page: number,
    readonly off: number,
    readonly len: number,
    readonly seed: number,
  ) {}
  check(m: Readonly<Model>): boolean {
    return m.tasks.length > 0;
  }
  run(m: Model, r: Real): void {
    const len = Math.min(this.len, P - this.off);
    const bytes = this.seed === 0 ? new Uint8Array(len) : fill(this.seed, len);
    r.tasks[this.ti % r.tasks.length]!.writeBytes(W + this.page * P + this.off, bytes);
    const pages = m.tasks[this.ti % m.tasks.length]!;
    const cur = pages[this.page] ?? new Uint8Array(P);
    cur.set(bytes, this.off);
    pages[this.page] = cur;
    checkSwapState(r);
  }
  toString(): string {
    return `write(t${this.ti}, p${this.page}, ${this.off}+${this.len}, seed ${this.seed})`;
  }
}

class ReadCmd implements fc.Command<Model, Real> {
  constructor(
    readonly ti: number,
    readonly page: number,
  ) {}
  check(m: Readonly<Model>): boolean {
    return m.tasks.length > 0;
  }
  run(m: Model, r: Real): void {
    const got = r.tasks[this.ti % r.tasks.length]!.readBytes(W + this.page * P, P);
    const want = m.tasks[this.ti % m.tasks.length]![this.page] ?? new Uint8Array(P);
    expect(Buffer.compare(got, want)).toBe(0);
    checkSwapState(r);
  }
  toString(): string {
    return `read(t${this.ti}, p${this.page})`;
  }
}

class PageoutCmd implements fc.Command<Model, Real> {
  constructor(
    readonly ti: number,
    readonly page: number,
    readonly n: number,
  ) {}
  check(m: Readonly<Model>): boolean {
    return m.tasks.length > 0;
  }
  run(_m: Model, r: Real): void {
    const n = Math.min(this.n, NP - this.page);
    expect(r.tasks[this.ti % r.tasks.length]!.madvise(W + this.page * P, n * P, MADV_PAGEOUT)).toBe(0);
    checkSwapState(r);
  }
  toString(): string {
    return `pageout(t${this.ti}, p${this.page}, ${this.n})`;
  }
}

/**
 * Reclaim of one page as h1's shrink_folio_list drives it through the swap
 * interface, mapped once or shared after fork: the rmap walk done by hand
 * over every task's window.
 */
class ReclaimCmd implements fc.Command<Model, Real> {
  constructor(
    readonly ti: number,
    readonly page: number,
  ) {}
  check(m: Readonly<Model>): boolean {
    return m.tasks.length > 0;
  }
  run(_m: Model, r: Real): void {
    const vm = r.k.vm;
    const u32 = vm.k.phys.u32;
    const t = r.tasks[this.ti % r.tasks.length]!;
    const idx = vm.pt.walk(t.mm!.pgd, W + this.page * P);
    const lo = idx >= 0 ? u32[idx]! : 0;
    const pfn = lo >>> 12;
    if ((lo & _PAGE_PRESENT) !== 0 && (lo & _PAGE_SPECIAL) === 0 && vm.pageKind[pfn] === KIND_ANON && (pageSwapCache(vm, pfn) || addToSwap(vm, pfn))) {
      for (const o of r.tasks) {
        for (let p = 0; p < NP; p++) {
          const i = vm.pt.walk(o.mm!.pgd, W + p * P);
          if (i >= 0 && (u32[i]! & _PAGE_PRESENT) !== 0 && u32[i]! >>> 12 === pfn) unmapAnonPte(vm, o.mm!, W + p * P, i, pfn);
        }
      }
      expect(vm.k.pages.mapcount[pfn]).toBe(0);
      if ((vm.k.pages.flags[pfn]! & (1 << PG.dirty)) !== 0) swapWritepage(vm, pfn);
      deleteFromSwapCache(vm, pfn);
      vm.putPage(pfn);
    }
    checkSwapState(r);
  }
  toString(): string {
    return `reclaim(t${this.ti}, p${this.page})`;
  }
}

class ForkCmd implements fc.Command<Model, Real> {
  constructor(readonly ti: number) {}
  check(m: Readonly<Model>): boolean {
    return m.tasks.length < 6;
  }
  run(m: Model, r: Real): void {
    r.tasks.push(r.tasks[this.ti % r.tasks.length]!.fork());
    m.tasks.push(m.tasks[this.ti % m.tasks.length]!.map((p) => (p === null ? null : p.slice())));
    checkSwapState(r);
  }
  toString(): string {
    return `fork(t${this.ti})`;
  }
}

class ExitCmd implements fc.Command<Model, Real> {
  constructor(readonly ti: number) {}
  check(m: Readonly<Model>): boolean {
    return m.tasks.length > 1;
  }
  run(m: Model, r: Real): void {
    r.tasks[this.ti % r.tasks.length]!.exit(0);
    const i = this.ti % r.tasks.length;
    r.tasks.splice(i, 1);
    m.tasks.splice(i, 1);
    checkSwapState(r);
  }
  toString(): string {
    return `exit(t${this.ti})`;
  }
}

const ti = fc.nat({ max: 5 });
const page = fc.nat({ max: NP - 1 });
const commands = fc.commands(
  [
    fc
      .tuple(
        ti,
        page,
        fc.nat({ max: P - 1 }),
        fc.integer({ min: 1, max: P }),
        fc.oneof({ arbitrary: fc.constant(0), weight: 1 }, { arbitrary: fc.nat(), weight: 6 }),
      )
      .map(([t, p, o, l, s]) => new WriteCmd(t, p, o, l, s)),
    fc.tuple(ti, page).map(([t, p]) => new ReadCmd(t, p)),
    fc.tuple(ti, page, fc.integer({ min: 1, max: NP })).map(([t, p, n]) => new PageoutCmd(t, p, n)),
    fc.tuple(ti, page).map(([t, p]) => new ReclaimCmd(t, p)),
    ti.map((t) => new ForkCmd(t)),
    ti.map((t) => new ExitCmd(t)),
  ],
  { maxCommands: 80, size: 'max' },
);

describe('swap model', () => {
  it('every byte survives pageout, swap-in, fork and exit; swap_map recounts from the page tables after every step', () => {
    fc.assert(
      fc.property(commands, fc.integer({ min: 0, max: 3 }), fc.boolean(), (cmds, cluster, ssd) => {
        const k = boot({ memory: '32M', cpus: 2, seed: 1, aslr: 0, swap: '4M' });
        k.proc.write('/proc/sys/vm/page-cluster', String(cluster));
        // rotational (cluster readahead, the global cursor) or not (VMA readahead, per-CPU cursors)
        if (ssd) k.vm.swap!.flags |= SWP_SOLIDSTATE;
        k.fs.writeFile('/bin/tiny', tinyElf());
        const userFrames = () => k.vm.pageKind.reduce((n, kind) => n + (kind === 1 ? 1 : 0), 0);
        const frames0 = userFrames();
        const t = k.spawn('/bin/tiny', ['tiny']);
        expect(t.mmap(W, NP * P, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0)).toBe(W);
        const real: Real = { k, tasks: [t] };
        fc.modelRun(() => ({ model: { tasks: [Array.from({ length: NP }, () => null)] }, real }), cmds);
        for (const task of real.tasks) task.exit(0);
        real.tasks.length = 0;
        const si = k.vm.swap!;
        expect(si.inusePages).toBe(0);
        expect(si.swapMap.subarray(1).every((b) => b === 0)).toBe(true);
        expect(k.vm.nrSwapcached).toBe(0);
        // every anonymous page the tasks had (swap cache included) is free again
        expect(userFrames()).toBe(frames0);
      }),
      { numRuns: 40 },
    );
  });
});
