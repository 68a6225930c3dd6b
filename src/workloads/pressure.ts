/**
 * What the memory-pressure workloads (pagecache, reclaim, oom, thrash)
 * share: the shell their programs run under, /proc/meminfo and /proc/vmstat
 * read back as numbers, the stamp each anonymous page carries so every byte
 * can be checked when it is read back, and telling a task the OOM killer
 * took from a kernel bug.
 */

import type { Kernel } from '../kernel.js';
import type { Task } from '../vm/fork.js';
import { installPrograms, SHELL_PATH } from './fork_exec.js';

export const PAGE = 4096;

/** /proc/meminfo as field -> kB. */
export function meminfoKb(k: Kernel): Record<string, number> {
  const out: Record<string, number> = {};
  for (const l of k.proc.read('/proc/meminfo').split('\n')) {
    const m = /^([^:]+):\s+(\d+)/.exec(l);
    if (m) out[m[1]!] = Number(m[2]);
  }
  return out;
}

/** /proc/vmstat as item -> value. */
export function vmstatItems(k: Kernel): Record<string, number> {
  const out: Record<string, number> = {};
  for (const l of k.proc.read('/proc/vmstat').split('\n')) {
    const sp = l.indexOf(' ');
    if (sp > 0) out[l.slice(0, sp)] = Number(l.slice(sp + 1));
  }
  return out;
}

/** Swap space the machine has, in pages (0 without swap). */
export function swapPages(k: Kernel): number {
  return Math.floor((meminfoKb(k).SwapTotal ?? 0) / 4);
}

/** A login shell (fork from init + execve /bin/sh): the parent that waits for the workload's processes. */
export function loginShell(k: Kernel): Task {
  installPrograms(k);
  return k.spawn(SHELL_PATH, ['-sh'], { envp: ['HOME=/root', 'TERM=linux'] });
}

/** fork + execve: a child of the shell running path as comm. */
export function forkExec(shell: Task, path: string, argv: string[]): Task {
  const t = shell.fork();
  const r = t.execve(path, argv, ['HOME=/root']);
  if (r !== 0) throw new Error(`${path}: execve returned ${r}`);
  return t;
}

/** The two words stamped at the start of an anonymous page: whose it is and which page. The rest of the page stays zero. */
export function stampWord0(tag: number, page: number): number {
  return (Math.imul(tag, 0x9e3779b1) ^ page) >>> 0;
}

/** Write the stamp of page `page` of region `tag` at va (a page boundary). */
export function stampPage(t: Task, va: number, tag: number, page: number): void {
  t.write32(va, stampWord0(tag, page));
  t.write32(va + 4, page >>> 0);
}

/**
 * Read the whole page at va back and check every byte: the stamp, then
 * zeros. Returns the offset of the first wrong byte, or -1.
 */
export function checkPage(t: Task, va: number, tag: number, page: number): number {
  const b = t.readBytes(va, PAGE);
  const w = new Uint32Array(b.buffer, b.byteOffset, PAGE / 4);
  if (w[0] !== stampWord0(tag, page)) return 0;
  if (w[1] !== page >>> 0) return 4;
  for (let i = 2; i < w.length; i++) if (w[i] !== 0) return i * 4;
  return -1;
}

/**
 * True when an error a task's call threw means the task is gone: the OOM
 * killer chose it (its calls throw once it is killed), or a fault found no
 * memory at all (the task dies of it). Anything else is a bug to pass on.
 */
export function killedByOom(t: Task, e: unknown): boolean {
  if (t.exited) return true;
  return /out of memory|killed/i.test((e as Error)?.message ?? '');
}

/** Reap every zombie child of the shell, then the shell exits (init reaps it). */
export function endSession(shell: Task): void {
  if (shell.exited) return;
  while (shell.wait() > 0) {
    // one zombie a call
  }
  shell.exit(0);
}
