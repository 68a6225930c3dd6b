/**
 * The built-in "thrash": a working set a little bigger than RAM, touched
 * over and over.
 *
 * With swap, a worker mmaps 9/8 of RAM of anonymous memory (less when swap
 * is small), stamps every page once, then loops over it from start to end,
 * 64 pages a step, checking every byte of each page. Classic LRU keeps
 * evicting the pages the loop needs next: each pass swaps the region out
 * (pswpout) and back in (pswpin). In the kernel every such swap-in is a
 * refault whose shadow entry (left in the swap cache) workingset_refault()
 * weighs (workingset_refault_anon); kmem's swap cache keeps no shadow
 * entries yet, so those counters stay 0 here (thrash a file for them:
 * `kind: 'file'`).
 *
 * Without swap, the working set is a file of 9/8 of RAM laid out as the
 * pagecache workload lays out its file, read in a loop with pread() of 64
 * blocks at random offsets: most reads hit, the misses are refaults
 * (workingset_refault_file), and refaults within the workingset size are
 * activated (workingset_activate_file).
 *
 * Three passes by default; then the worker exits, the shell waits, and the
 * workload is finished.
 */

import { O_RDONLY } from '../fs/fcntl.js';
import type { Kernel } from '../kernel.js';
import { MAP_ANONYMOUS, MAP_PRIVATE, PROT_READ, PROT_WRITE } from '../vm/mman.js';
import { makeStreamFile } from './pagecache.js';
import { endSession, forkExec, loginShell, PAGE, swapPages } from './pressure.js';
import { anonBudget, BATCH, checkRange, installStress, STRESS_PATH, stampRange, startWorker } from './reclaim.js';
import { generatorWorkload, rndInt, type Workload, type WorkloadSteps } from './workload.js';

export const THRASH_PATH = '/var/tmp/working-set.img';

export interface ThrashOptions {
  /** the working set in pages (default: 9/8 of RAM; with swap at most MemAvailable + half the swap) */
  pages?: number;
  /** loops over the working set (default 3) */
  passes?: number;
  /** anonymous memory with swap (the default when the machine has swap), or a file */
  kind?: 'anon' | 'file';
}

export interface ThrashStats {
  kind: 'anon' | 'file';
  pages: number;
  passesDone: number;
  pagesChecked: number;
}

function* anonThrash(k: Kernel, pages: number, passes: number, stats: ThrashStats): WorkloadSteps {
  installStress(k);
  const shell = loginShell(k);
  yield;
  const w = startWorker(shell, 7, pages);
  yield;
  for (let from = 0; from < pages; from += BATCH) {
    stampRange(w, from, Math.min(pages, from + BATCH));
    k.tick(50_000);
    yield;
  }
  for (let pass = 0; pass < passes; pass++) {
    for (let from = 0; from < pages; from += BATCH) {
      stats.pagesChecked += checkRange(w, from, Math.min(pages, from + BATCH));
      k.tick(50_000);
      yield;
    }
    stats.passesDone++;
  }
  w.t.exit(0);
  endSession(shell);
}

function* fileThrash(k: Kernel, pages: number, passes: number, stats: ThrashStats): WorkloadSteps {
  installStress(k);
  const shell = loginShell(k);
  yield;
  const t = forkExec(shell, STRESS_PATH, ['stress', '--io-file', THRASH_PATH]);
  if (k.fs.lookup(THRASH_PATH) === undefined) yield* makeStreamFile(k, t, THRASH_PATH, pages * PAGE);
  const disk = k.fs.lookup(THRASH_PATH)!.data;
  const bytes = BATCH * PAGE;
  const buf = t.mmap(0, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  const fd = t.open(THRASH_PATH, O_RDONLY);
  if (buf < 0 || fd < 0) throw new Error(`stress: mmap ${buf}, open ${fd}`);
  yield;
  const reads = Math.ceil(pages / BATCH);
  for (let pass = 0; pass < passes; pass++) {
    for (let i = 0; i < reads; i++) {
      const block = rndInt(k, Math.max(1, pages - BATCH + 1));
      const n = t.pread(fd, buf, bytes, block * PAGE);
      if (n !== Math.min(bytes, (pages - block) * PAGE)) throw new Error(`stress: pread at block ${block} returned ${n}`);
      // Each block starts with its number and the tag; the rest as on the disk.
      for (let b = 0; b < n / PAGE; b++) {
        const va = buf + b * PAGE;
        const got = t.readBytes(va, PAGE);
        const want = disk.subarray((block + b) * PAGE, (block + b + 1) * PAGE);
        if (Buffer.compare(Buffer.from(got.buffer), Buffer.from(want.buffer, want.byteOffset, PAGE)) !== 0 || t.read32(va) !== block + b) {
          throw new Error(`stress: block ${block + b} of ${THRASH_PATH} read back wrong`);
        }
      }
      stats.pagesChecked += n / PAGE;
      k.tick(50_000);
      yield;
    }
    stats.passesDone++;
  }
  t.close(fd);
  t.exit(0);
  endSession(shell);
}

export function thrashWorkload(k: Kernel, o: ThrashOptions = {}, stats?: ThrashStats): Workload {
  if (o.kind !== undefined && o.kind !== 'anon' && o.kind !== 'file') throw new RangeError(`kind: expected 'anon' or 'file', got ${String(o.kind)}`);
  for (const [name, v] of [
    ['pages', o.pages],
    ['passes', o.passes],
  ] as const) {
    if (v !== undefined && (!Number.isSafeInteger(v) || v < 1)) throw new RangeError(`${name}: expected a whole number >= 1, got ${v}`);
  }
  const kind = o.kind ?? (swapPages(k) > 0 ? 'anon' : 'file');
  if (kind === 'anon' && swapPages(k) === 0) throw new RangeError("thrash: kind 'anon' needs swap, and the machine has none (SwapTotal: 0 kB)");
  const want = o.pages ?? Math.floor((k.inspect.memory / PAGE) * 1.125);
  const pages = kind === 'anon' && o.pages === undefined ? anonBudget(k, want) : want;
  const passes = o.passes ?? 3;
  const s = Object.assign(stats ?? ({} as ThrashStats), { kind, pages, passesDone: 0, pagesChecked: 0 });
  return generatorWorkload('thrash', kind === 'anon' ? anonThrash(k, pages, passes, s) : fileThrash(k, pages, passes, s));
}
