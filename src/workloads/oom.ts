/**
 * The built-in "oom" workload: anonymous memory past RAM with nowhere to
 * put it, so the OOM killer has to choose.
 *
 * A shell forks two keepers that each mmap and stamp a fifth of RAM, 64
 * pages a step, as the reclaim workload's workers do. Then it forks a hog
 * whose MAP_NORESERVE mapping (so overcommit lets it past RAM + swap) it
 * stamps 64 pages a step. Without swap reclaim can only take page cache;
 * once that is gone an allocation fails direct reclaim and out_of_memory()
 * picks the task with the highest oom_badness() (RSS + swap entries + page
 * tables): the hog, by then the biggest by far. Its report lands in the
 * kernel log (`Out of memory: Killed process ...`) and the hog's next call
 * finds it killed. The keepers then read back every byte they wrote and
 * exit; the shell waits for all three (the hog a zombie until then), and
 * the workload is finished. With swap the hog first fills the swap area.
 */

import type { Kernel } from '../kernel.js';
import { MAP_NORESERVE } from '../vm/mman.js';
import { endSession, killedByOom, loginShell, PAGE, swapPages } from './pressure.js';
import { type AnonWorker, BATCH, checkRange, installStress, stampRange, startWorker } from './reclaim.js';
import { generatorWorkload, type Workload, type WorkloadSteps } from './workload.js';

/** What the workload did, for tests. */
export interface OomStats {
  /** the hog's pid and the pages it stamped before it was killed */
  hogPid: number;
  hogPages: number;
  /** the keepers' pids */
  keeperPids: number[];
  /** true once the hog was killed */
  killed: boolean;
  /** keeper pages whose every byte was read back right */
  pagesChecked: number;
}

function* oomSteps(k: Kernel, stats: OomStats): WorkloadSteps {
  installStress(k);
  const ram = Math.floor(k.inspect.memory / PAGE);
  const shell = loginShell(k);
  yield;
  const keepers: AnonWorker[] = [];
  for (let i = 0; i < 2; i++) {
    const w = startWorker(shell, i + 1, Math.floor(ram / 5));
    keepers.push(w);
    stats.keeperPids.push(w.t.pid);
    yield;
    for (let from = 0; from < w.pages; from += BATCH) {
      stampRange(w, from, Math.min(w.pages, from + BATCH));
      k.tick(50_000);
      yield;
    }
  }
  const hog = startWorker(shell, 3, ram + swapPages(k), MAP_NORESERVE);
  stats.hogPid = hog.t.pid;
  yield;
  for (let from = 0; from < hog.pages && !hog.t.exited; from += BATCH) {
    const to = Math.min(hog.pages, from + BATCH);
    try {
      stats.hogPages += stampRange(hog, from, to);
    } catch (e) {
      if (!killedByOom(hog.t, e)) throw e;
      // The OOM killer took it; a fault that found no memory at all kills it here (SIGKILL).
      if (!hog.t.exited) hog.t.doExit(9);
      stats.killed = true;
    }
    k.tick(50_000);
    yield;
  }
  for (const w of keepers) {
    for (let from = 0; from < w.pages; from += BATCH) {
      stats.pagesChecked += checkRange(w, from, Math.min(w.pages, from + BATCH));
      yield;
    }
  }
  for (const w of [...keepers, hog]) {
    if (!w.t.exited) w.t.exit(0);
    yield;
  }
  endSession(shell);
}

export function oomWorkload(k: Kernel, stats: OomStats = { hogPid: 0, hogPages: 0, keeperPids: [], killed: false, pagesChecked: 0 }): Workload {
  return generatorWorkload('oom', oomSteps(k, stats));
}
