/**
 * The built-in "fork-exec" workload: process churn, the way a shell running
 * short commands drives the allocators.
 *
 * fork (kernel_clone → copy_process): task_struct, cred_jar, signal_cache,
 * sighand_cache, files_cache, fs_cache, pid, a kernel stack (four order-0
 * pages, CONFIG_VMAP_STACK), and with dup_mm an mm_struct, an order-1 pgd,
 * then the parent's VMAs copied one by one (vm_area_struct, anon_vma_chain,
 * maple nodes for the new tree, an anon_vma for writable private mappings)
 * and a page-table page per few VMAs.
 * exec (bprm_execve): names_cache for the file name, a kmalloc'd
 * linux_binprm, a filp, the old mm torn down and a fresh one of a dozen VMAs
 * built; a few movable user pages get faulted in.
 * exit: everything the child holds goes back, on whatever CPU it ran last;
 * the task_struct itself is freed later by RCU, often on another CPU.
 *
 * The number of live processes wanders between a floor and a ceiling, so
 * /proc/slabinfo shows the per-process caches at a steady state with churn.
 */

import type { Kernel } from '../kernel.js';
import { GFP_HIGHUSER_MOVABLE, GFP_KERNEL, GFP_KERNEL_ACCOUNT } from '../page_alloc/gfp.js';
import { getCache } from '../slub/known_caches.js';
import { generatorWorkload, onCpuSteps, rnd, rndInt, type Workload, type WorkloadSteps } from './workload.js';

interface Mm {
  mm: number;
  pgd: number;
  vmas: number[];
  avcs: number[];
  anonVmas: number[];
  maple: number[];
  ptes: number[];
  userPages: number[];
}

interface Proc {
  cpu: number;
  task: number;
  cred: number;
  signal: number;
  sighand: number;
  files: number;
  fs: number;
  pid: number;
  stack: number[];
  mm: Mm | null;
}

export function* forkExecSteps(k: Kernel): WorkloadSteps {
  const c = {
    task: getCache(k, 'task_struct'),
    cred: getCache(k, 'cred_jar'),
    signal: getCache(k, 'signal_cache'),
    sighand: getCache(k, 'sighand_cache'),
    files: getCache(k, 'files_cache'),
    fs: getCache(k, 'fs_cache'),
    pid: getCache(k, 'pid'),
    mm: getCache(k, 'mm_struct'),
    vma: getCache(k, 'vm_area_struct'),
    avc: getCache(k, 'anon_vma_chain'),
    anonVma: getCache(k, 'anon_vma'),
    maple: getCache(k, 'maple_node'),
    names: getCache(k, 'names_cache'),
    filp: getCache(k, 'filp'),
  };
  const procs: Proc[] = [];
  /** Freed task_structs waiting for their RCU grace period. */
  const rcu: number[] = [];
  const pick = () => rndInt(k, k.cpus);

  // Each helper is a generator so every allocator call is one step.
  function* alloc(cache: number, into: number[], gfp = GFP_KERNEL): WorkloadSteps {
    const a = k.kmemCacheAlloc(cache, gfp);
    if (a !== 0) into.push(a);
    yield;
  }

  function* buildMm(nrVmas: number): Generator<void, Mm | null, undefined> {
    const one: number[] = [];
    yield* alloc(c.mm, one, GFP_KERNEL_ACCOUNT);
    if (one.length === 0) return null;
    const m: Mm = { mm: one[0]!, pgd: k.allocPages(1, GFP_KERNEL_ACCOUNT), vmas: [], avcs: [], anonVmas: [], maple: [], ptes: [], userPages: [] };
    yield;
    for (let i = 0; i < nrVmas; i++) {
      yield* alloc(c.vma, m.vmas);
      if (i % 10 === 0) yield* alloc(c.maple, m.maple);
      if (rnd(k) < 0.6) {
        yield* alloc(c.avc, m.avcs);
        if (rnd(k) < 0.4) yield* alloc(c.anonVma, m.anonVmas);
      }
      if (i % 4 === 0) {
        const pte = k.allocPages(0, GFP_KERNEL_ACCOUNT);
        if (pte) m.ptes.push(pte);
        yield;
      }
    }
    return m;
  }

  function* freeMm(m: Mm): WorkloadSteps {
    for (const p of m.userPages) {
      k.freePages(p, 0);
      yield;
    }
    for (const p of m.ptes) {
      k.freePages(p, 0);
      yield;
    }
    for (const [cache, list] of [
      [c.avc, m.avcs],
      [c.anonVma, m.anonVmas],
      [c.vma, m.vmas],
      [c.maple, m.maple],
    ] as const) {
      for (const a of list) {
        k.kmemCacheFree(cache, a);
        yield;
      }
    }
    if (m.pgd) k.freePages(m.pgd, 1);
    k.kmemCacheFree(c.mm, m.mm);
    yield;
  }

  function* fork(parent: Proc | undefined): Generator<void, Proc | null, undefined> {
    const one: number[] = [];
    yield* alloc(c.task, one, GFP_KERNEL_ACCOUNT);
    if (one.length === 0) return null;
    const p: Proc = { cpu: parent?.cpu ?? pick(), task: one[0]!, cred: 0, signal: 0, sighand: 0, files: 0, fs: 0, pid: 0, stack: [], mm: null };
    for (let i = 0; i < 4; i++) {
      const s = k.allocPages(0, GFP_KERNEL_ACCOUNT);
      if (s) p.stack.push(s);
      yield;
    }
    const fields: [keyof Proc, number][] = [
      ['cred', c.cred],
      ['signal', c.signal],
      ['sighand', c.sighand],
      ['files', c.files],
      ['fs', c.fs],
      ['pid', c.pid],
    ];
    for (const [field, cache] of fields) {
      const got: number[] = [];
      yield* alloc(cache, got);
      (p as unknown as Record<string, number>)[field] = got[0] ?? 0;
    }
    p.mm = yield* buildMm(parent?.mm?.vmas.length ?? 20 + rndInt(k, 30));
    return p;
  }

  function* exec(p: Proc): WorkloadSteps {
    const name: number[] = [];
    yield* alloc(c.names, name);
    const bprm = k.kmalloc(408, GFP_KERNEL);
    yield;
    const file: number[] = [];
    yield* alloc(c.filp, file);
    if (p.mm) yield* freeMm(p.mm);
    p.mm = yield* buildMm(12 + rndInt(k, 10));
    if (p.mm) {
      const faults = 4 + rndInt(k, 24);
      for (let i = 0; i < faults; i++) {
        const page = k.allocPages(0, GFP_HIGHUSER_MOVABLE);
        if (page) p.mm.userPages.push(page);
        yield;
      }
    }
    k.kfree(bprm);
    yield;
    for (const n of name) k.kmemCacheFree(c.names, n);
    yield;
    // the file stays open in 1 of 4 processes (a log, a pipe) until exit
    for (const f of file) {
      if (rnd(k) < 0.75) k.kmemCacheFree(c.filp, f);
      yield;
    }
  }

  function* exit(p: Proc): WorkloadSteps {
    if (p.mm) yield* freeMm(p.mm);
    for (const s of p.stack) {
      k.freePages(s, 0);
      yield;
    }
    const frees: [number, number][] = [
      [c.files, p.files],
      [c.fs, p.fs],
      [c.sighand, p.sighand],
      [c.signal, p.signal],
      [c.cred, p.cred],
      [c.pid, p.pid],
    ];
    for (const [cache, a] of frees) {
      if (a) k.kmemCacheFree(cache, a);
      yield;
    }
    rcu.push(p.task);
  }

  const FLOOR = 24;
  const CEILING = 160;
  for (;;) {
    // RCU callbacks run on some CPU after a grace period: remote frees.
    if (rcu.length > 0 && (rnd(k) < 0.3 || rcu.length > 32)) {
      const cpu = pick();
      const task = rcu.shift()!;
      k.onCpu(cpu, () => k.kmemCacheFree(c.task, task));
      yield;
      continue;
    }
    const r = rnd(k);
    const n = procs.length;
    if (n < FLOOR || (n < CEILING && r < 0.4)) {
      const parent = n > 0 ? procs[rndInt(k, n)] : undefined;
      const cpu = parent?.cpu ?? pick();
      // each process step runs on the process's CPU; the generator steps are replayed inside onCpu below
      const child = yield* onCpuSteps(k, cpu, fork(parent));
      if (child !== null) {
        child.cpu = rnd(k) < 0.5 ? cpu : pick(); // the scheduler may put the child elsewhere
        procs.push(child);
      }
    } else if (r < 0.75) {
      const p = procs[rndInt(k, n)]!;
      yield* onCpuSteps(k, p.cpu, exec(p));
    } else {
      const at = rndInt(k, n);
      const p = procs[at]!;
      procs[at] = procs[n - 1]!;
      procs.pop();
      yield* onCpuSteps(k, p.cpu, exit(p));
    }
    k.tick(20_000);
  }
}

export function forkExecWorkload(k: Kernel): Workload {
  return generatorWorkload('fork-exec', forkExecSteps(k));
}
