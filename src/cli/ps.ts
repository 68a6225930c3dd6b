/**
 * Processes as procps shows them: `kmem ps` reads /proc/PID/stat and
 * /proc/PID/status of every process the way ps(1) does, `kmem maps PID`
 * prints /proc/PID/maps, `kmem exec ELF` runs a host program in the machine.
 */

import { readFileSync, realpathSync, statSync } from 'node:fs';
import type { Kernel } from '../kernel.js';
import { UsageError } from './machine.js';

export interface PsRow {
  pid: number;
  ppid: number;
  /** VSZ in KiB */
  vsz: number;
  /** RSS in KiB */
  rss: number;
  stat: string;
  comm: string;
}

/** The pids under /proc: init and every task, in order. */
export function pids(k: Kernel): number[] {
  return [1, ...k.tasks().map((t) => t.pid)].sort((a, b) => a - b);
}

/**
 * One process as procps reads it: /proc/PID/stat's fields (after the comm
 * in parentheses, which may itself hold spaces and parentheses, so split at
 * the last ')'), and VmLck from /proc/PID/status.
 */
export function psRow(k: Kernel, pid: number): PsRow {
  const stat = k.proc.read(`/proc/${pid}/stat`);
  const open = stat.indexOf('(');
  const close = stat.lastIndexOf(')');
  const comm = stat.slice(open + 1, close);
  // fields from 3 (state) on
  const f = stat
    .slice(close + 2)
    .trimEnd()
    .split(' ');
  const state = f[0]!;
  const ppid = Number(f[1]);
  const pgrp = Number(f[2]);
  const session = Number(f[3]);
  const tpgid = Number(f[5]);
  const nice = Number(f[16]);
  const threads = Number(f[17]);
  const vsize = Number(f[20]);
  const rssPages = Number(f[21]);
  const status = k.proc.read(`/proc/${pid}/status`);
  const vmLck = Number(/^VmLck:\s+(\d+) kB$/m.exec(status)?.[1] ?? 0);
  // procps' pr_stat(): the state, then < N L s l +
  let s = state;
  if (nice < 0) s += '<';
  else if (nice > 0) s += 'N';
  if (vmLck > 0) s += 'L';
  if (session === pid) s += 's';
  if (threads > 1) s += 'l';
  if (pgrp === tpgid) s += '+';
  return { pid, ppid, vsz: Math.floor(vsize / 1024), rss: rssPages * 4, stat: s, comm: state === 'Z' ? `${comm} <defunct>` : comm };
}

export function psRows(k: Kernel): PsRow[] {
  return pids(k).map((pid) => psRow(k, pid));
}

/** `ps -eo pid,ppid,vsz,rss,stat,comm` as procps-ng 4 lays it out (right-aligned numbers, a column widens for a wider value). */
export function formatPs(rows: PsRow[]): string {
  const w = (title: string, min: number, vals: (string | number)[]) => Math.max(min, title.length, ...vals.map((v) => String(v).length));
  const wp = w(
    'PID',
    5,
    rows.map((r) => r.pid),
  );
  const wpp = w(
    'PPID',
    5,
    rows.map((r) => r.ppid),
  );
  const wv = w(
    'VSZ',
    6,
    rows.map((r) => r.vsz),
  );
  const wr = w(
    'RSS',
    5,
    rows.map((r) => r.rss),
  );
  const head = `${'PID'.padStart(wp)} ${'PPID'.padStart(wpp)} ${'VSZ'.padStart(wv)} ${'RSS'.padStart(wr)} STAT COMMAND\n`;
  return (
    head +
    rows
      .map(
        (r) =>
          `${String(r.pid).padStart(wp)} ${String(r.ppid).padStart(wpp)} ${String(r.vsz).padStart(wv)} ${String(r.rss).padStart(wr)} ${r.stat.padEnd(4)} ${r.comm}\n`,
      )
      .join('')
  );
}

/** A pid given on the command line. */
export function parsePid(text: string): number {
  if (!/^\d+$/.test(text) || Number(text) < 1 || Number(text) > 4194304) throw new UsageError(`maps: '${text}' is not a process ID`);
  return Number(text);
}

/** /proc/PID/maps, or cat's error when there is no such process. */
export function mapsOf(k: Kernel, pid: number): string {
  try {
    return k.proc.read(`/proc/${pid}/maps`);
  } catch (e) {
    if ((e as { code?: string }).code !== 'ENOENT') throw e;
    throw new UsageError(`maps: /proc/${pid}/maps: No such file or directory`, 1);
  }
}

/** strerror() of the errnos execve gives. */
const STRERROR: Record<number, string> = {
  2: 'No such file or directory',
  5: 'Input/output error',
  7: 'Argument list too long',
  8: 'Exec format error',
  12: 'Cannot allocate memory',
  13: 'Permission denied',
  80: 'Accessing a corrupted shared library',
};

export interface ExecResult {
  pid: number;
  path: string;
  argv: string[];
  maps: string;
  status: string;
}

/**
 * Read the host file, put it into the machine's file system at its real
 * path (symbolic links resolved, as /proc/PID/maps names a file), and spawn
 * it. A host file that cannot be read, or an execve that fails, is an error
 * in the words of a shell: `exec: PATH: <strerror>`.
 */
export function execHostFile(k: Kernel, file: string, args: string[], envp: string[]): ExecResult {
  let path: string;
  let bytes: Uint8Array;
  try {
    path = realpathSync(file);
    // execve of a directory is -EACCES
    if (statSync(path).isDirectory()) throw Object.assign(new Error('directory'), { code: 'EACCES' });
    bytes = readFileSync(path);
  } catch (e) {
    const code = (e as { code?: string }).code;
    const msg = code === 'ENOENT' ? STRERROR[2] : code === 'EACCES' ? STRERROR[13] : (e as Error).message;
    throw new UsageError(`exec: ${file}: ${msg}`, 1);
  }
  k.fs.writeFile(path, bytes);
  // A dynamically linked program: its interpreter (PT_INTERP) from this host too, at its real path,
  // with the name the program asks for as a symbolic link to it.
  const interp = interpreterOf(bytes);
  if (interp !== null && k.fs.readFile(interp) === undefined) {
    try {
      const real = realpathSync(interp);
      k.fs.writeFile(real, readFileSync(real));
      if (real !== interp) k.fs.symlink(real, interp);
    } catch {
      // not on this host: execve gives the kernel's -ENOENT
    }
  }
  const argv = [file, ...args];
  let pid: number;
  try {
    pid = k.spawn(path, argv, { envp }).pid;
  } catch (e) {
    const errno = (e as { errno?: number }).errno;
    if (errno === undefined) throw e;
    throw new UsageError(`exec: ${file}: ${STRERROR[errno] ?? `error ${errno}`}`, 1);
  }
  return { pid, path, argv, maps: k.proc.read(`/proc/${pid}/maps`), status: k.proc.read(`/proc/${pid}/status`) };
}

/** The PT_INTERP path of an ELF64 little-endian file, or null (not ELF64, no interpreter, a header out of the file). */
export function interpreterOf(f: Uint8Array): string | null {
  if (f.length < 64 || f[0] !== 0x7f || f[1] !== 0x45 || f[2] !== 0x4c || f[3] !== 0x46 || f[4] !== 2 || f[5] !== 1) return null;
  const dv = new DataView(f.buffer, f.byteOffset, f.byteLength);
  const phoff = Number(dv.getBigUint64(32, true));
  const phentsize = dv.getUint16(54, true);
  const phnum = dv.getUint16(56, true);
  for (let i = 0; i < phnum; i++) {
    const o = phoff + i * phentsize;
    if (phentsize < 56 || o + 56 > f.length) return null;
    if (dv.getUint32(o, true) !== 3) continue; // PT_INTERP
    const off = Number(dv.getBigUint64(o + 8, true));
    const size = Number(dv.getBigUint64(o + 32, true));
    if (size < 2 || off + size > f.length) return null;
    const raw = f.subarray(off, off + size - 1);
    return raw.includes(0) ? null : new TextDecoder().decode(raw);
  }
  return null;
}

export function formatExec(r: ExecResult): string {
  return `== /proc/${r.pid}/maps\n${r.maps}== /proc/${r.pid}/status\n${r.status}`;
}
