/**
 * The built-in "reclaim" workload: four processes touch anonymous memory
 * past RAM on a machine with swap, then read every byte back.
 *
 * A shell forks four workers (/usr/bin/stress), each of which mmaps a
 * private anonymous region; together they hold 5/4 of RAM (less when swap
 * is small: what MemAvailable and half the swap allow). Each step a worker
 * (in turn, so their pages interleave on the LRU lists) stamps 64 pages:
 * every page gets its owner's tag and its index, the rest of it stays
 * zero. Once free memory falls below the low watermark kswapd (and the
 * allocating task itself, below min) scans the anon lists as
 * get_scan_count() allows with swappiness 60: pages go to the swap cache,
 * are unmapped through rmap, written to the swap area (pswpout) and freed.
 * Then each worker reads its region back, 64 pages a step, checking every
 * byte; a page that was swapped out faults back in (pswpin). At the end the
 * workers exit and the shell waits for them; the workload is then finished.
 */

import type { Kernel } from '../kernel.js';
import type { Task } from '../vm/fork.js';
import { MAP_ANONYMOUS, MAP_PRIVATE, PROT_READ, PROT_WRITE } from '../vm/mman.js';
import { smallProgram } from './elf.js';
import { checkPage, endSession, forkExec, killedByOom, loginShell, meminfoKb, PAGE, stampPage, swapPages } from './pressure.js';
import { generatorWorkload, type Workload, type WorkloadSteps } from './workload.js';

export const STRESS_PATH = '/usr/bin/stress';
/** Pages a worker stamps or checks in one step. */
export const BATCH = 64;

export interface ReclaimOptions {
  /** anonymous pages the workers hold together (default: 5/4 of RAM, at most MemAvailable + half the swap) */
  pages?: number;
  /** workers (default 4) */
  workers?: number;
}

export interface AnonWorker {
  t: Task;
  /** the region's start and its pages */
  va: number;
  pages: number;
  /** the stamp's tag: the worker's number */
  tag: number;
}

/** What the workload did, for tests. */
export interface ReclaimStats {
  pagesWritten: number;
  pagesChecked: number;
  /** workers the OOM killer took (only when pages is set past RAM + swap) */
  killed?: number;
}

export function installStress(k: Kernel): void {
  if (k.fs.readFile(STRESS_PATH) === undefined) k.fs.writeFile(STRESS_PATH, smallProgram(2, 800, 2 * PAGE, 0x73));
}

/** fork + exec a worker that mmaps `pages` anonymous pages. */
export function startWorker(shell: Task, tag: number, pages: number, flags = 0): AnonWorker {
  const t = forkExec(shell, STRESS_PATH, ['stress', '--vm-bytes', `${pages * 4}K`]);
  const va = t.mmap(0, pages * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | flags, -1, 0);
  if (va < 0) throw new Error(`stress: mmap of ${pages} pages returned ${va}`);
  return { t, va, pages, tag };
}

/** Stamp pages [from, to) of the worker's region; the pages stamped. */
export function stampRange(w: AnonWorker, from: number, to: number): number {
  for (let p = from; p < to; p++) stampPage(w.t, w.va + p * PAGE, w.tag, p);
  return to - from;
}

/** Check every byte of pages [from, to); throws naming the first wrong byte. */
export function checkRange(w: AnonWorker, from: number, to: number): number {
  for (let p = from; p < to; p++) {
    const bad = checkPage(w.t, w.va + p * PAGE, w.tag, p);
    if (bad >= 0) throw new Error(`${w.t.comm}[${w.t.pid}]: byte ${bad} of page ${p} of its region is not what it wrote`);
  }
  return to - from;
}

/** The anonymous pages the workload can hold on this machine: want, at most MemAvailable + half the swap. */
export function anonBudget(k: Kernel, want: number): number {
  const avail = Math.floor((meminfoKb(k).MemAvailable ?? 0) / 4);
  return Math.min(want, avail + Math.floor(swapPages(k) / 2));
}

function* reclaimSteps(k: Kernel, o: ReclaimOptions, stats: ReclaimStats): WorkloadSteps {
  installStress(k);
  const nw = o.workers ?? 4;
  const total = o.pages ?? anonBudget(k, Math.floor((k.inspect.memory / PAGE) * 1.25));
  const shell = loginShell(k);
  yield;
  const ws: AnonWorker[] = [];
  for (let i = 0; i < nw; i++) {
    ws.push(startWorker(shell, i + 1, Math.floor(total / nw) + (i < total % nw ? 1 : 0)));
    yield;
  }
  for (const phase of ['stamp', 'check'] as const) {
    for (let from = 0, more = true; more; from += BATCH) {
      more = false;
      for (const w of ws) {
        if (from >= w.pages || w.t.exited) continue;
        const to = Math.min(w.pages, from + BATCH);
        try {
          if (phase === 'stamp') stats.pagesWritten += stampRange(w, from, to);
          else stats.pagesChecked += checkRange(w, from, to);
        } catch (e) {
          // more than RAM + swap after all (--pages): the OOM killer took it; the others carry on
          if (!killedByOom(w.t, e)) throw e;
          if (!w.t.exited) w.t.doExit(9);
        }
        more = true;
        k.tick(50_000);
        yield;
      }
    }
  }
  // (a worker may be killed while another one allocates)
  stats.killed = ws.filter((w) => w.t.exited).length;
  for (const w of ws) {
    if (!w.t.exited) w.t.exit(0);
    yield;
  }
  endSession(shell);
}

/** The workload; throws a RangeError at once when the machine has no swap. */
export function reclaimWorkload(k: Kernel, o: ReclaimOptions = {}, stats: ReclaimStats = { pagesWritten: 0, pagesChecked: 0 }): Workload {
  if (swapPages(k) === 0) throw new RangeError('reclaim: the machine has no swap (SwapTotal: 0 kB); boot it with swap, e.g. --swap 256M');
  if (o.workers !== undefined && (!Number.isSafeInteger(o.workers) || o.workers < 1))
    throw new RangeError(`workers: expected a whole number >= 1, got ${o.workers}`);
  if (o.pages !== undefined && (!Number.isSafeInteger(o.pages) || o.pages < 1)) throw new RangeError(`pages: expected a whole number >= 1, got ${o.pages}`);
  return generatorWorkload('reclaim', reclaimSteps(k, o, stats));
}
