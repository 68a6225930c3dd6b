/**
 * The built-in "fork-exec" workload: process churn, the way a shell running
 * short commands drives the memory manager, with real processes (src/vm).
 *
 * At start it writes two small static ELF64 programs into the machine's
 * file system (built in memory, so it runs on any host): /bin/sh, the
 * "shell", and /usr/bin/job, the "command". Then, one operation a step:
 * - a login spawns a shell (fork from init + execve /bin/sh);
 * - fork (dup_mmap: VMAs, anon_vma chains, page tables write-protected for
 *   copy-on-write), the child usually execve's /usr/bin/job at its next step;
 * - a process touches memory: stores into its data/bss, grows its heap with
 *   brk and writes it, mmaps anonymous memory and writes some of it (first
 *   touch faults, and copy-on-write faults after a fork), or unmaps it;
 * - a process exits (exit_mmap returns every page and object) and stays a
 *   zombie until its parent waits for it; orphans go to init, which reaps.
 * src/vm allocates the task_struct, pid, mm_struct, VMAs, maple nodes,
 * anon_vmas and page tables; the workload adds what copy_process() and
 * bprm_execve() allocate besides (cred_jar, signal_cache, sighand_cache,
 * files_cache, fs_cache, the four pages of a CONFIG_VMAP_STACK kernel stack;
 * names_cache, a kmalloc'd linux_binprm and a filp per execve, the file
 * staying open in one process of four), freed when the process exits.
 * Each process's steps run on its CPU, so frees of pages and objects a
 * process got on another CPU are remote frees. The number of live
 * processes wanders between a floor and a ceiling, so /proc/slabinfo shows
 * task_struct, mm_struct, vm_area_struct, anon_vma ... at a steady state
 * with churn, and `kmem ps` shows processes coming and going.
 */

import type { Kernel } from '../kernel.js';
import { GFP_KERNEL, GFP_KERNEL_ACCOUNT } from '../page_alloc/gfp.js';
import { getCache } from '../slub/known_caches.js';
import type { Task } from '../vm/fork.js';
import { smallProgram } from './elf.js';
import { generatorWorkload, rnd, rndInt, takeRandom, type Workload, type WorkloadSteps } from './workload.js';

const PROT_RW = 3;
const MAP_PRIVATE_ANON = 0x22;
const PAGE = 4096;

export const SHELL_PATH = '/bin/sh';
export const JOB_PATH = '/usr/bin/job';

interface Proc {
  t: Task;
  cpu: number;
  /** anonymous mappings it made: [address, pages] */
  maps: [number, number][];
  /** start of its data segment and its bytes (data + bss) */
  dataStart: number;
  dataBytes: number;
  /** forked and not yet exec'd */
  pendingExec: boolean;
  /** what copy_process() allocates that src/vm does not model: [cache, object] and the kernel stack's pages */
  objs: [number, number][];
  stack: number[];
}

/** The programs the workload runs, written into the machine's file system. */
export function installPrograms(k: Kernel): void {
  if (k.fs.readFile(SHELL_PATH) === undefined) k.fs.writeFile(SHELL_PATH, smallProgram(8, 3000, 5 * PAGE, 0x73));
  if (k.fs.readFile(JOB_PATH) === undefined) k.fs.writeFile(JOB_PATH, smallProgram(3, 1200, 2 * PAGE, 0x6a));
}

export function* forkExecSteps(k: Kernel): WorkloadSteps {
  installPrograms(k);
  const procs: Proc[] = [];
  const c = {
    cred: getCache(k, 'cred_jar'),
    signal: getCache(k, 'signal_cache'),
    sighand: getCache(k, 'sighand_cache'),
    files: getCache(k, 'files_cache'),
    fs: getCache(k, 'fs_cache'),
    names: getCache(k, 'names_cache'),
    filp: getCache(k, 'filp'),
  };
  /** copy_process()'s other objects and the kernel stack, for a new process. */
  const processObjects = (p: Pick<Proc, 'objs' | 'stack'>): void => {
    for (const cache of [c.cred, c.signal, c.sighand, c.files, c.fs]) {
      const a = k.kmemCacheAlloc(cache, GFP_KERNEL_ACCOUNT);
      if (a !== 0) p.objs.push([cache, a]);
    }
    for (let i = 0; i < 4; i++) {
      const page = k.allocPages(0, GFP_KERNEL_ACCOUNT);
      if (page !== 0) p.stack.push(page);
    }
  };
  /** do_exit(): they go back (on the CPU the process last ran on). */
  const freeProcessObjects = (p: Proc): void => {
    for (const [cache, a] of p.objs.splice(0)) k.kmemCacheFree(cache, a);
    for (const page of p.stack.splice(0)) k.freePages(page, 0);
  };
  /** bprm_execve()'s transient objects; the opened file may stay open. */
  const execObjects = (p: Proc): void => {
    const name = k.kmemCacheAlloc(c.names, GFP_KERNEL);
    const bprm = k.kmalloc(408, GFP_KERNEL);
    const file = k.kmemCacheAlloc(c.filp, GFP_KERNEL);
    if (bprm !== 0) k.kfree(bprm);
    if (name !== 0) k.kmemCacheFree(c.names, name);
    if (file !== 0) {
      if (rnd(k) < 0.75) k.kmemCacheFree(c.filp, file);
      else p.objs.push([c.filp, file]);
    }
  };
  const pick = () => rndInt(k, k.cpus);
  const dataOf = (t: Task) => {
    const mm = t.mm!;
    // The data segment [start_data, end_data): under randomize_va_space 2 the
    // heap (start_brk) starts a random gap above the bss, so brk is no bound.
    return { dataStart: mm.startData, dataBytes: mm.endData - mm.startData };
  };

  /** Run fn on the process's CPU; a fault that finds no memory kills the process (the OOM killer's part). */
  const onProc = (p: Proc, fn: () => void): void => {
    k.onCpu(p.cpu, () => {
      try {
        fn();
      } catch (e) {
        if (p.t.exited || !/out of memory/.test((e as Error).message)) throw e;
        p.t.doExit(9);
        freeProcessObjects(p);
        const at = procs.indexOf(p);
        if (at >= 0) procs.splice(at, 1);
      }
    });
  };

  function* login(): WorkloadSteps {
    const got: Task[] = [];
    const cpu = pick();
    const extra = { objs: [] as [number, number][], stack: [] as number[] };
    k.onCpu(cpu, () => {
      try {
        got.push(k.spawn(SHELL_PATH, ['-sh'], { envp: ['HOME=/root', 'TERM=linux', 'PWD=/root'] }));
        processObjects(extra);
      } catch {
        // out of memory for the new process: no login this time
      }
    });
    yield;
    const t = got[0];
    if (t !== undefined) {
      const p: Proc = { t, cpu, maps: [], ...dataOf(t), pendingExec: false, ...extra };
      k.onCpu(cpu, () => execObjects(p));
      procs.push(p);
    }
  }

  function* fork(parent: Proc): WorkloadSteps {
    const got: Task[] = [];
    const extra = { objs: [] as [number, number][], stack: [] as number[] };
    k.onCpu(parent.cpu, () => {
      try {
        got.push(parent.t.fork());
        processObjects(extra);
      } catch {
        // fork's -ENOMEM
      }
    });
    yield;
    const child = got[0];
    if (child === undefined) return;
    // the scheduler may put the child on another CPU
    const cpu = rnd(k) < 0.5 ? parent.cpu : pick();
    procs.push({
      t: child,
      cpu,
      maps: parent.maps.map(([a, n]) => [a, n]),
      dataStart: parent.dataStart,
      dataBytes: parent.dataBytes,
      pendingExec: rnd(k) < 0.8,
      ...extra,
    });
  }

  function* exec(p: Proc): WorkloadSteps {
    p.pendingExec = false;
    let r = 0;
    onProc(p, () => {
      execObjects(p);
      r = p.t.execve(JOB_PATH, ['job', `${rndInt(k, 1000)}`], ['HOME=/root', 'TERM=linux']);
    });
    yield;
    if (r === 0 && !p.t.exited) {
      p.maps = [];
      Object.assign(p, dataOf(p.t));
    }
  }

  /** Store into n pages of [start, start + bytes), one store (and maybe a fault) a step. */
  function* touch(p: Proc, start: number, bytes: number, n: number): WorkloadSteps {
    const pages = Math.max(1, Math.floor(bytes / PAGE));
    for (let i = 0; i < n && !p.t.exited; i++) {
      const va = start + rndInt(k, pages) * PAGE + rndInt(k, PAGE / 8) * 8;
      if (va + 8 > start + bytes) continue;
      onProc(p, () => p.t.write32(va, k.rand32()));
      yield;
    }
  }

  function* work(p: Proc): WorkloadSteps {
    const r = rnd(k);
    if (r < 0.3) {
      yield* touch(p, p.dataStart, p.dataBytes, 1 + rndInt(k, 4));
    } else if (r < 0.55) {
      // malloc from the heap: brk grows, the new pages are written
      let end = 0;
      const grow = (1 + rndInt(k, 8)) * PAGE;
      let start = 0;
      onProc(p, () => {
        start = p.t.brk(0);
        end = p.t.brk(start + grow);
      });
      yield;
      if (end === start + grow) yield* touch(p, start, grow, 1 + rndInt(k, 8));
    } else if (r < 0.85 || p.maps.length === 0) {
      // a larger malloc: mmap, then write part of it
      const n = 1 + rndInt(k, 64);
      let a = -1;
      onProc(p, () => {
        a = p.t.mmap(0, n * PAGE, PROT_RW, MAP_PRIVATE_ANON, -1, 0);
      });
      yield;
      if (a < 0 || p.t.exited) return;
      p.maps.push([a, n]);
      yield* touch(p, a, n * PAGE, 1 + rndInt(k, Math.min(n, 16)));
    } else {
      const [a, n] = takeRandom(k, p.maps);
      onProc(p, () => p.t.munmap(a, n * PAGE));
      yield;
    }
  }

  function* exit(p: Proc): WorkloadSteps {
    onProc(p, () => {
      if (!p.t.exited) p.t.exit(rnd(k) < 0.9 ? 0 : 1);
      freeProcessObjects(p);
    });
    yield;
  }

  /** A parent reaps one zombie child (wait4). */
  function* reap(): WorkloadSteps {
    const parents = procs.filter((p) => p.t.children.some((c) => c.exited));
    if (parents.length === 0) return;
    const p = parents[rndInt(k, parents.length)]!;
    onProc(p, () => p.t.wait());
    yield;
  }

  const FLOOR = 24;
  const CEILING = 160;
  for (;;) {
    const n = procs.length;
    const r = rnd(k);
    if (n === 0 || (n < 4 && r < 0.5) || rnd(k) < 0.01) {
      yield* login();
    } else {
      const p = procs[rndInt(k, n)]!;
      if (p.pendingExec) yield* exec(p);
      else if (n < FLOOR || (n < CEILING && r < 0.25)) yield* fork(p);
      else if (r < 0.65) yield* work(p);
      else if (r < 0.9) {
        procs.splice(procs.indexOf(p), 1);
        yield* exit(p);
      } else yield* reap();
    }
    // processes killed in a fault are already gone from the list
    for (let i = procs.length - 1; i >= 0; i--) if (procs[i]!.t.exited) procs.splice(i, 1);
    k.tick(20_000);
  }
}

export function forkExecWorkload(k: Kernel): Workload {
  return generatorWorkload('fork-exec', forkExecSteps(k));
}
