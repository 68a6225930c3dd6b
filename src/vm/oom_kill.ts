/**
 * The OOM killer (mm/oom_kill.c, 6.18): when reclaim has failed an
 * allocation that may not fail quietly, choose the task whose death frees
 * the most memory (oom_badness), print the kernel's report, kill it with
 * SIGKILL; its memory comes back as it exits.
 * Also /proc/PID/oom_score, oom_score_adj and oom_adj (fs/proc/base.c) and
 * pagefault_out_of_memory().
 *
 * kmem runs one JavaScript caller at a time, so the two kinds of victim
 * differ in when they die:
 * - the current task (the one whose fault or system call allocates) gets a
 *   pending SIGKILL; its allocation has one last try in the OOM reserves
 *   (ALLOC_OOM) and the task exits when the fault or system call returns,
 *   throwing `Killed` to its caller, as a signal is delivered on the way
 *   back to user mode;
 * - any other task is not running: it wakes on SIGKILL and exits; its
 *   memory is unmapped at once (that is what frees memory for the retry),
 *   the rest of its exit (VMAs, page tables, task_struct) runs at the next
 *   safe point (the next system call, fault or wait() of any task), never
 *   inside the allocator that called the OOM killer. Its own later calls
 *   throw `Killed`.
 *
 * The report is 6.18's. A real 6.1 report (test/fixtures/oom/) differs in:
 * the CPU line (6.11+ add "UID: n"), the task table (6.18 splits rss into
 * rss_anon, rss_file and rss_shmem), and the order of %pGg's single flags
 * (6.1 "__GFP_COMP|__GFP_ZERO", 6.18 in bit order). What kmem leaves out:
 * the user registers (RIP/RSP/Code) dump_stack() shows under a user fault,
 * and the OOM reaper's work and line (see victimExitMmap).
 */

import { KernelPanic, panicLines } from '../lib/panic.js';
import { DEFAULT_RATELIMIT_BURST, DEFAULT_RATELIMIT_INTERVAL_NS, RateLimit } from '../lib/ratelimit.js';
import { __GFP_FS, formatGfpMode } from '../page_alloc/gfp.js';
import { showFreeAreas } from '../page_alloc/show_mem.js';
import { errnoError } from '../proc/sysctl.js';
import type { Task } from './fork.js';
import { zapRange } from './memory.js';
import type { Mm } from './mm_types.js';
import type { Vm } from './vm.js';

/** include/uapi/linux/oom.h */
export const OOM_SCORE_ADJ_MIN = -1000;
export const OOM_SCORE_ADJ_MAX = 1000;
export const OOM_DISABLE = -17;
export const OOM_ADJUST_MIN = -16;
export const OOM_ADJUST_MAX = 15;
/** oom_badness()'s LONG_MIN: "never choose this task". */
export const BADNESS_MIN = Number.NEGATIVE_INFINITY;
export const SIGKILL = 9;

const K = (pages: number) => pages * 4;

/** MMF_OOM_SKIP: the mm's memory is gone (the victim's exit_mmap); the OOM killer looks past it. */
const oomSkip = new WeakSet<Mm>();

/** The OOM killer's state of one machine (the kernel's statics in mm/oom_kill.c). */
export class OomState {
  /** vm event OOM_KILL */
  oomKill = 0;
  /** oom_kill_process()'s oom_rs and pagefault_out_of_memory()'s pfoom_rs */
  readonly oomRs = new RateLimit('oom_kill_process', DEFAULT_RATELIMIT_INTERVAL_NS, DEFAULT_RATELIMIT_BURST);
  readonly pfoomRs = new RateLimit('pagefault_out_of_memory', DEFAULT_RATELIMIT_INTERVAL_NS, DEFAULT_RATELIMIT_BURST);
  /** Killed tasks that were not running: their exit waits for a safe point. */
  readonly pendingExits: Task[] = [];
  /** pr_warn_once() of the oom_adj deprecation */
  oomAdjWarned = false;
  /** The reason of the panic the OOM killer caused: the machine is dead, every task call throws. */
  panicked: string | null = null;
  /** oom_lock held: an allocation made while the OOM killer works does not call it again */
  oomLock = false;
}

/** total_swap_pages: the swap area's pages when the swap half has one (its `totalSwapPages`), else 0. */
function totalSwapPages(vm: Vm): number {
  return (vm as { readonly totalSwapPages?: number }).totalSwapPages ?? 0;
}

/** constrained_alloc()'s totalpages for a global OOM: totalram_pages() + total_swap_pages. */
export function oomTotalPages(vm: Vm): number {
  return vm.totalramPages() + totalSwapPages(vm);
}

/** oom_unkillable_task(): init (is_global_init); kmem has no kernel threads. */
function oomUnkillableTask(t: Task): boolean {
  return t.pid === 1;
}

/**
 * oom_badness(): rss + swap entries + page-table pages, plus oom_score_adj
 * in thousandths of totalpages; BADNESS_MIN for init, a task without an mm,
 * OOM_SCORE_ADJ_MIN and an mm already torn down (MMF_OOM_SKIP).
 */
export function oomBadness(t: Task, totalpages: number): number {
  if (oomUnkillableTask(t)) return BADNESS_MIN;
  const mm = t.mm;
  if (mm === null) return BADNESS_MIN;
  const adj = t.oomScoreAdj;
  if (adj === OOM_SCORE_ADJ_MIN || oomSkip.has(mm)) return BADNESS_MIN;
  const points = mm.rss() + mm.swapEnts + Math.floor(mm.pgtablesBytes / 4096);
  return points + adj * Math.floor(totalpages / 1000);
}

/** proc_oom_score(): the badness scaled into 0..2000 (C's truncating long division). */
export function procOomScore(vm: Vm, t: Task): number {
  const totalpages = oomTotalPages(vm);
  const badness = oomBadness(t, totalpages);
  if (badness === BADNESS_MIN) return 0;
  return Math.trunc(((1000 + Math.trunc((badness * 1000) / totalpages)) * 2) / 3);
}

/** The current task's name, pid and oom_score_adj as reports print them. */
function currentOf(vm: Vm): { comm: string; pid: number; adj: number; task: Task | null } {
  const t = vm.current;
  if (t !== null && !t.exited) return { comm: t.comm, pid: t.pid, adj: t.oomScoreAdj, task: t };
  const kt = vm.k.task;
  return { comm: kt.comm, pid: kt.pid, adj: 0, task: null };
}

/** dump_stack() as the current task: the CPU line names it. */
function dumpStackAs(vm: Vm): string[] {
  const k = vm.k;
  const cur = currentOf(vm);
  const prev = k.task;
  k.setTask({ pid: cur.pid, comm: cur.comm });
  try {
    return k.dumpStack();
  } finally {
    k.setTask(prev);
  }
}

/**
 * dump_task() for each task dump_tasks() shows (not init, not a task
 * without an mm), in 6.18's columns: rss split into anon, file and shmem.
 */
function dumpTasks(vm: Vm): string[] {
  const out = [
    'Tasks state (memory values in pages):',
    '[  pid  ]   uid  tgid total_vm      rss rss_anon rss_file rss_shmem pgtables_bytes swapents oom_score_adj name',
  ];
  for (const t of vm.tasks.values()) {
    const mm = t.mm;
    if (oomUnkillableTask(t) || mm === null) continue;
    const c = (n: number, w: number) => String(n).padStart(w);
    out.push(
      `[${c(t.pid, 7)}] ${c(0, 5)} ${c(t.pid, 5)} ${c(mm.totalVm, 8)} ${c(mm.rss(), 8)} ${c(mm.rssAnon, 8)} ${c(mm.rssFile, 8)} ${c(mm.rssShmem, 9)} ${c(mm.pgtablesBytes, 8)} ${c(mm.swapEnts, 8)}         ${c(t.oomScoreAdj, 5)} ${t.comm}`,
    );
  }
  return out;
}

/**
 * should_dump_unreclaim_slab(): more unreclaimable slab than pages on the
 * LRU lists. Every user page kmem holds would be on an LRU list: mapped
 * anonymous pages and page-cache (file and shmem) pages.
 */
function shouldDumpUnreclaimSlab(vm: Vm): boolean {
  return vm.k.slabPages(false) > vm.nrAnonMapped + vm.nrFilePages;
}

/**
 * dump_unreclaimable_slab() (mm/slab_common.c): every cache in slab_caches
 * order (/proc/slabinfo's) without SLAB_RECLAIM_ACCOUNT that has objects,
 * its active and total objects times the slot size, in KiB. Read from
 * /proc/slabinfo and /sys/kernel/slab, which only SLUB (6.18's one
 * allocator) has: a SLAB or SLOB machine prints nothing here.
 */
function dumpUnreclaimableSlab(vm: Vm): string[] {
  const out = ['Unreclaimable slab info:', 'Name                      Used          Total'];
  const proc = vm.k.proc;
  try {
    for (const line of proc.read('/proc/slabinfo').split('\n').slice(2)) {
      const f = line.split(/ +/);
      if (f.length < 4) continue;
      const [name, active, num, size] = [f[0]!, Number(f[1]), Number(f[2]), Number(f[3])];
      if (num === 0 || proc.read(`/sys/kernel/slab/${name}/reclaim_account`) === '1\n') continue;
      out.push(`${name.padEnd(17)} ${String(Math.floor((active * size) / 1024)).padStart(10)}KB ${String(Math.floor((num * size) / 1024)).padStart(10)}KB`);
    }
  } catch {
    return [];
  }
  return out;
}

/**
 * dump_header(): who invoked the OOM killer with which request, the stack,
 * the Mem-Info of __show_mem() (then the unreclaimable slabs when they
 * outweigh the LRU), and the task table when vm.oom_dump_tasks.
 */
function dumpHeader(vm: Vm, order: number, gfp: number): string[] {
  const k = vm.k;
  const cur = currentOf(vm);
  const lines = [`${cur.comm} invoked oom-killer: gfp_mask=${formatGfpMode(gfp)}, order=${order}, oom_score_adj=${cur.adj}`];
  lines.push(...dumpStackAs(vm));
  lines.push(...showFreeAreas(k.pageAlloc, k.slabPages(true), k.slabPages(false)));
  if (shouldDumpUnreclaimSlab(vm)) lines.push(...dumpUnreclaimableSlab(vm));
  if (k.proc.sysctl.oomDumpTasks !== 0) lines.push(...dumpTasks(vm));
  return lines;
}

/** dump_oom_victim(): the one-line summary (a global OOM: no nodemask, the root cpuset and memcg). */
function dumpOomVictim(victim: Task): string {
  return `oom-kill:constraint=CONSTRAINT_NONE,nodemask=(null),cpuset=/,mems_allowed=0,global_oom,task_memcg=/,task=${victim.comm},pid=${victim.pid},uid=0`;
}

/** panic(): the message, the stack, and the machine stops (a KernelPanic thrown). */
function panic(vm: Vm, reason: string): never {
  vm.k.log(panicLines(reason, dumpStackAs(vm)));
  vm.oom.panicked = reason;
  throw new KernelPanic(reason);
}

/**
 * The victim's exit_mmap() as far as its memory goes: every mapping is
 * unmapped (anonymous pages freed, file and shmem pages left to their
 * cache), then MMF_OOM_SKIP hides the mm from the OOM killer. Page tables,
 * VMAs and the task_struct go with the rest of the exit, at a safe point.
 *
 * The OOM reaper (queued for OOM_REAPER_DELAY, 2 s) finds MMF_OOM_SKIP and
 * says nothing: "oom_reaper: reaped process N (comm), now anon-rss:...kB,
 * file-rss:...kB, shmem-rss:...kB" appears only for a victim that could
 * not exit within 2 s, and kmem's victims never wait (as on the real 6.1
 * machine of test/fixtures/oom/, where a sleeping victim exits at once).
 */
function victimExitMmap(vm: Vm, mm: Mm): void {
  const s = vm.s;
  for (const v of mm.vmas) zapRange(vm, mm, s.vmStart(v), s.vmEnd(v));
  oomSkip.add(mm);
}

/**
 * __oom_kill_process(): count the kill, SIGKILL the victim, print what it
 * held. A victim that is not running wakes and exits: its memory goes at
 * once (the allocator retries next), the rest of its exit later. The
 * current task exits itself on its way back to user mode.
 */
function oomKillTask(vm: Vm, victim: Task, message: string): void {
  const mm = victim.mm!;
  vm.oom.oomKill++;
  victim.sigkill();
  vm.k.log([
    `${message}: Killed process ${victim.pid} (${victim.comm}) total-vm:${K(mm.totalVm)}kB, anon-rss:${K(mm.rssAnon)}kB, file-rss:${K(mm.rssFile)}kB, shmem-rss:${K(mm.rssShmem)}kB, UID:0 pgtables:${Math.floor(mm.pgtablesBytes / 1024)}kB oom_score_adj:${victim.oomScoreAdj}`,
  ]);
  if (victim === vm.current) return;
  victimExitMmap(vm, mm);
  vm.oom.pendingExits.push(victim);
}

/** oom_kill_process(): the report (rate limited), then the kill. A victim already dying is only waited for. */
function oomKillProcess(vm: Vm, victim: Task, order: number, gfp: number, message: string): void {
  if (victim.sigkillPending) return;
  if (vm.k.bugs.ratelimited(vm.oom.oomRs)) vm.k.log([...dumpHeader(vm, order, gfp), dumpOomVictim(victim)]);
  oomKillTask(vm, victim, message);
}

/**
 * select_bad_process() / oom_evaluate_task() over every process in
 * creation order: the highest badness wins, a later task on a tie; a
 * victim whose memory is not gone yet aborts the scan ('abort': wait for it).
 */
function selectBadProcess(vm: Vm, totalpages: number): Task | null | 'abort' {
  let chosen: Task | null = null;
  let chosenPoints = BADNESS_MIN;
  for (const t of vm.tasks.values()) {
    if (oomUnkillableTask(t) || t.exited) continue;
    if (t.oomVictim) {
      if (t.mm === null || oomSkip.has(t.mm)) continue;
      return 'abort';
    }
    const points = oomBadness(t, totalpages);
    if (points === BADNESS_MIN || points < chosenPoints) continue;
    chosen = t;
    chosenPoints = points;
  }
  return chosen;
}

/**
 * out_of_memory() for a global OOM from the page allocator: true when it
 * made progress (a kill, or a victim whose memory is still to come back), so the caller
 * retries; false when the allocation should fail. Panics (throws
 * KernelPanic) for panic_on_oom and when nothing can be killed.
 *
 * Unlike the kernel, a current task that is already an OOM victim, and a
 * request without __GFP_FS, get false at once: the kernel returns true and
 * leaves the retry loop by other means (its reserves, other CPUs' reclaim)
 * that kmem's single caller does not have.
 */
export function outOfMemory(vm: Vm, order: number, gfp: number): boolean {
  // mutex_trylock(&oom_lock) in __alloc_pages_may_oom(): nested in the OOM killer, fail instead.
  if (vm.oom.oomLock) return false;
  vm.oom.oomLock = true;
  try {
    return outOfMemoryLocked(vm, order, gfp);
  } finally {
    vm.oom.oomLock = false;
  }
}

function outOfMemoryLocked(vm: Vm, order: number, gfp: number): boolean {
  const cur = currentOf(vm).task;
  // task_will_free_mem(current): a dying task gets no victim of its own.
  if (cur?.sigkillPending) return false;
  if ((gfp & __GFP_FS) === 0) return false;
  const sysctl = vm.k.proc.sysctl;
  // check_panic_on_oom(): a global OOM is CONSTRAINT_NONE, so 1 and 2 both panic.
  if (sysctl.panicOnOom !== 0) {
    vm.k.log(dumpHeader(vm, order, gfp));
    panic(vm, `Out of memory: ${sysctl.panicOnOom === 2 ? 'compulsory' : 'system-wide'} panic_on_oom is enabled`);
  }
  if (sysctl.oomKillAllocatingTask !== 0 && cur !== null && cur.mm !== null && !oomUnkillableTask(cur) && cur.oomScoreAdj !== OOM_SCORE_ADJ_MIN) {
    oomKillProcess(vm, cur, order, gfp, 'Out of memory (oom_kill_allocating_task)');
    return true;
  }
  const chosen = selectBadProcess(vm, oomTotalPages(vm));
  if (chosen === null) {
    vm.k.log([...dumpHeader(vm, order, gfp), 'Out of memory and no killable processes...']);
    panic(vm, 'System is deadlocked on memory');
  }
  if (chosen !== 'abort') oomKillProcess(vm, chosen, order, gfp, 'Out of memory');
  return true;
}

/**
 * pagefault_out_of_memory(): a VM_FAULT_OOM that reached the fault handler.
 * True when the task has a fatal signal pending (it dies on the way out);
 * else the kernel's warning (rate limited) and false: the fault is retried.
 */
export function pagefaultOutOfMemory(vm: Vm, t: Task): boolean {
  if (t.sigkillPending) return true;
  if (vm.k.bugs.ratelimited(vm.oom.pfoomRs)) vm.k.log(['Huh VM_FAULT_OOM leaked out to the #PF handler. Retrying PF']);
  return false;
}

/** The exits of killed tasks that were not running, at a point where no allocator is in the middle of its work. */
export function exitOomVictims(vm: Vm): void {
  const q = vm.oom.pendingExits;
  while (q.length > 0) {
    const t = q.shift()!;
    if (!t.exited) t.doExit(SIGKILL);
  }
}

// ───────────────────────── /proc/PID/oom_* (fs/proc/base.c) ─────────────────────────

/** oom_adj_read(): oom_score_adj scaled back to the legacy -17..15. */
export function oomAdjRead(t: Task): number {
  if (t.oomScoreAdj === OOM_SCORE_ADJ_MAX) return OOM_ADJUST_MAX;
  return Math.trunc((t.oomScoreAdj * -OOM_DISABLE) / OOM_SCORE_ADJ_MAX);
}

/** kstrtoint(strstrip(buf), 0) of at most PROC_NUMBUF - 1 bytes: the int, or -EINVAL. */
function kstrtoint(path: string, text: string): number {
  const s = text.slice(0, 12).trim();
  const m = /^([+-]?)(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)$/.exec(s);
  if (m === null) throw errnoError(path, 'EINVAL', 22, `invalid value ${JSON.stringify(text)}`);
  const d = m[2]!;
  const v = /^0[xX]/.test(d) ? Number.parseInt(d.slice(2), 16) : d.length > 1 && d[0] === '0' ? Number.parseInt(d.slice(1), 8) : Number(d);
  const n = m[1] === '-' ? -v : v;
  if (n < -(2 ** 31) || n > 2 ** 31 - 1) throw errnoError(path, 'EINVAL', 22, `value out of range ${JSON.stringify(text)}`);
  return n;
}

/**
 * A write to /proc/PID/oom_score_adj (-1000..1000) or /proc/PID/oom_adj
 * (-16..15 or -17, scaled to oom_score_adj; deprecated, said once): kmem's
 * writer is root (CAP_SYS_RESOURCE), so oom_score_adj_min follows a new
 * oom_score_adj. False when the path is not one of these files.
 */
export function procPidOomWrite(vm: Vm, path: string, text: string): boolean {
  const m = /^\/proc\/(\d+)\/(oom_score_adj|oom_adj)$/.exec(path);
  if (m === null) return false;
  const t = vm.tasks.get(Number(m[1]));
  if (t === undefined || t.exited) return false;
  let v = kstrtoint(path, text);
  if (m[2] === 'oom_score_adj') {
    if (v < OOM_SCORE_ADJ_MIN || v > OOM_SCORE_ADJ_MAX) throw errnoError(path, 'EINVAL', 22, `${v} is outside -1000..1000`);
    t.oomScoreAdj = v;
    t.oomScoreAdjMin = v;
    return true;
  }
  if ((v < OOM_ADJUST_MIN || v > OOM_ADJUST_MAX) && v !== OOM_DISABLE) throw errnoError(path, 'EINVAL', 22, `${v} is outside -16..15 and not -17`);
  v = v === OOM_ADJUST_MAX ? OOM_SCORE_ADJ_MAX : Math.trunc((v * OOM_SCORE_ADJ_MAX) / -OOM_DISABLE);
  if (!vm.oom.oomAdjWarned) {
    vm.oom.oomAdjWarned = true;
    const cur = currentOf(vm);
    vm.k.log([`${cur.comm} (${cur.pid}): /proc/${t.pid}/oom_adj is deprecated, please use /proc/${t.pid}/oom_score_adj instead.`]);
  }
  t.oomScoreAdj = v;
  return true;
}

/** /proc/PID/oom_score, oom_score_adj, oom_adj; undefined for other names. */
export function procPidOomRead(vm: Vm, t: Task, name: string): string | undefined {
  if (name === 'oom_score') return `${procOomScore(vm, t)}\n`;
  if (name === 'oom_score_adj') return `${t.oomScoreAdj}\n`;
  if (name === 'oom_adj') return `${oomAdjRead(t)}\n`;
  return undefined;
}
