/**
 * Replay of a real program's `strace -f` log through kmem Tasks.
 *
 * parseStrace() reads the lines strace 6.x prints for the memory, process and brk
 * classes (symbolic flags, `-1 ENAME (text)` errors, `<unfinished ...>` / `<... resumed>`
 * pairs under -f); replayStrace() runs each call through the Task API and records what
 * kmem returned beside what the real kernel returned. The flag and errno values are
 * the kernel's uapi numbers, written here on their own (not imported from src/), so a
 * wrong constant in kmem shows as a mismatch rather than agreeing with itself.
 */
import type { Kernel } from '../../src/kernel.js';
import type { Task } from '../../src/vm/fork.js';

/** include/uapi/asm-generic/mman-common.h, mman.h, linux/mman.h; errno-base.h */
const NAMES: Record<string, number> = {
  NULL: 0,
  PROT_NONE: 0,
  PROT_READ: 1,
  PROT_WRITE: 2,
  PROT_EXEC: 4,
  PROT_GROWSDOWN: 0x01000000,
  PROT_GROWSUP: 0x02000000,
  MAP_SHARED: 1,
  MAP_PRIVATE: 2,
  MAP_SHARED_VALIDATE: 3,
  MAP_FIXED: 0x10,
  MAP_ANONYMOUS: 0x20,
  MAP_32BIT: 0x40,
  MAP_GROWSDOWN: 0x100,
  MAP_DENYWRITE: 0x800,
  MAP_EXECUTABLE: 0x1000,
  MAP_LOCKED: 0x2000,
  MAP_NORESERVE: 0x4000,
  MAP_POPULATE: 0x8000,
  MAP_NONBLOCK: 0x10000,
  MAP_STACK: 0x20000,
  MAP_HUGETLB: 0x40000,
  MAP_SYNC: 0x80000,
  MAP_FIXED_NOREPLACE: 0x100000,
  MADV_NORMAL: 0,
  MADV_RANDOM: 1,
  MADV_SEQUENTIAL: 2,
  MADV_WILLNEED: 3,
  MADV_DONTNEED: 4,
  MADV_FREE: 8,
  MADV_REMOVE: 9,
  MADV_DONTFORK: 10,
  MADV_DOFORK: 11,
  MADV_HUGEPAGE: 14,
  MADV_NOHUGEPAGE: 15,
  MADV_DONTDUMP: 16,
  MADV_DODUMP: 17,
  MADV_WIPEONFORK: 18,
  MADV_KEEPONFORK: 19,
  MADV_COLD: 20,
  MADV_PAGEOUT: 21,
  MADV_POPULATE_READ: 22,
  MADV_POPULATE_WRITE: 23,
  MREMAP_MAYMOVE: 1,
  MREMAP_FIXED: 2,
  MREMAP_DONTUNMAP: 4,
  MLOCK_ONFAULT: 1,
  AT_FDCWD: -100,
  O_RDONLY: 0,
  O_WRONLY: 1,
  O_RDWR: 2,
  O_CREAT: 0o100,
  O_EXCL: 0o200,
  O_NOCTTY: 0o400,
  O_TRUNC: 0o1000,
  O_APPEND: 0o2000,
  O_NONBLOCK: 0o4000,
  O_DIRECTORY: 0o200000,
  O_NOFOLLOW: 0o400000,
  O_CLOEXEC: 0o2000000,
  RUSAGE_SELF: 0,
  RUSAGE_CHILDREN: -1,
  RUSAGE_THREAD: 1,
};
const ERRNO: Record<string, number> = {
  EPERM: 1,
  ENOENT: 2,
  ESRCH: 3,
  EINTR: 4,
  EIO: 5,
  ENOEXEC: 8,
  EBADF: 9,
  ECHILD: 10,
  EAGAIN: 11,
  ENOMEM: 12,
  EACCES: 13,
  EFAULT: 14,
  EBUSY: 16,
  EEXIST: 17,
  ENODEV: 19,
  EINVAL: 22,
  ENFILE: 23,
  EMFILE: 24,
  ETXTBSY: 26,
  EFBIG: 27,
  EOVERFLOW: 75,
  EOPNOTSUPP: 95,
};
/** clone() flags that make a thread or share the mm: kmem's Task has one thread per mm. */
const CLONE_VM = 0x100;
const CLONE_FLAGS: Record<string, number> = {
  CLONE_VM: 0x100,
  CLONE_FS: 0x200,
  CLONE_FILES: 0x400,
  CLONE_SIGHAND: 0x800,
  CLONE_VFORK: 0x4000,
  CLONE_THREAD: 0x10000,
  CLONE_SETTLS: 0x80000,
  CLONE_PARENT_SETTID: 0x100000,
  CLONE_CHILD_CLEARTID: 0x200000,
  CLONE_CHILD_SETTID: 0x1000000,
  SIGCHLD: 17,
};

/** One system call as strace printed it. `ret` is the raw return (-errno on failure); null for `= ?`. */
export interface Call {
  /** "file:line" of the line that completed the call */
  where: string;
  pid: number;
  name: string;
  /** the argument text, split at top-level commas */
  args: string[];
  ret: number | null;
}

/** Split at top-level commas, keeping (), [], {}, quotes and comments whole. */
function splitArgs(s: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let cur = '';
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c === '"') {
      let j = i + 1;
      while (j < s.length && s[j] !== '"') j += s[j] === '\\' ? 2 : 1;
      cur += s.slice(i, j + 1);
      i = j;
      continue;
    }
    if (c === '/' && s[i + 1] === '*') {
      const j = s.indexOf('*/', i + 2);
      cur += s.slice(i, j < 0 ? s.length : j + 2);
      i = j < 0 ? s.length : j + 1;
      continue;
    }
    if (c === '(' || c === '[' || c === '{') depth++;
    else if (c === ')' || c === ']' || c === '}') depth--;
    if (c === ',' && depth === 0) {
      out.push(cur.trim());
      cur = '';
    } else cur += c;
  }
  if (cur.trim() !== '') out.push(cur.trim());
  return out;
}

const LINE = /^(\d+)\s+(.*)$/;
const CALL = /^([a-z_0-9]+)\((.*)$/;
const RESUMED = /^<\.\.\. ([a-z_0-9]+) resumed>(.*)$/;
/** `) = RET` at the end of a completed call: RET is a number, `?`, or `-1 ENAME (text)`. */
const RESULT = /^(.*)\)\s+= (\?|-1 ([A-Z0-9]+) \(.*\)|-?\d+|0x[0-9a-f]+)(?: \(.*\))?$/;

/** Parse an strace -f log. Lines that are not calls (signals, exits, `#` comments) are skipped; a line that cannot be read throws naming file:line. */
export function parseStrace(text: string, file: string): Call[] {
  const calls: Call[] = [];
  const pending = new Map<number, { name: string; head: string }>();
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i]!;
    const where = `${file}:${i + 1}`;
    if (raw === '' || raw.startsWith('#')) continue;
    const m = LINE.exec(raw);
    if (m === null) throw new Error(`${where}: not an strace -f line (no pid): ${raw}`);
    const pid = Number(m[1]);
    const body = m[2]!;
    if (body.startsWith('--- ') || body.startsWith('+++ ')) continue;
    let name: string;
    let rest: string;
    const r = RESUMED.exec(body);
    if (r !== null) {
      const p = pending.get(pid);
      if (p === undefined || p.name !== r[1]) throw new Error(`${where}: ${r[1]} resumed without its start: ${raw}`);
      pending.delete(pid);
      name = p.name;
      rest = p.head + r[2]!;
    } else {
      const c = CALL.exec(body);
      if (c === null) throw new Error(`${where}: cannot parse: ${raw}`);
      name = c[1]!;
      rest = c[2]!;
      if (rest.endsWith('<unfinished ...>')) {
        pending.set(pid, { name, head: rest.slice(0, -'<unfinished ...>'.length).trimEnd() });
        continue;
      }
    }
    const res = RESULT.exec(rest);
    if (res === null) throw new Error(`${where}: cannot parse the result: ${raw}`);
    let ret: number | null;
    if (res[2] === '?') ret = null;
    else if (res[3] !== undefined) {
      const e = ERRNO[res[3]];
      if (e === undefined) throw new Error(`${where}: unknown errno ${res[3]}: ${raw}`);
      ret = -e;
    } else ret = Number(res[2]);
    calls.push({ where, pid, name, args: splitArgs(res[1]!), ret });
  }
  if (pending.size > 0) throw new Error(`${file}: calls left unfinished at the end: ${[...pending.values()].map((p) => p.name).join(', ')}`);
  return calls;
}

/** An argument as a number: NULL, decimal, hex, or symbolic names joined by `|` (a trailing comment ignored). */
export function argValue(arg: string, where: string, table: Record<string, number> = NAMES): number {
  const s = arg.replace(/\/\*.*?\*\//g, '').trim();
  let v = 0;
  for (const part of s.split('|')) {
    const p = part.trim();
    if (/^-?\d+$/.test(p) || /^0x[0-9a-f]+$/i.test(p)) v += Number(p);
    else if (table[p] !== undefined) v += table[p]!;
    else throw new Error(`${where}: unknown value ${p} in ${arg}`);
  }
  return v;
}

/** A string argument "..." (strace's C escapes are not expected in paths here). */
function argString(arg: string, where: string): string {
  const m = /^"(.*)"$/.exec(arg);
  if (m === null) throw new Error(`${where}: expected a string, got ${arg}`);
  return m[1]!;
}

/** What one replayed call gave beside what the real kernel gave. */
export interface Result {
  where: string;
  call: string;
  want: number | null;
  got: number | null;
}

/** Hooks at the program's markers: getrusage(RUSAGE_SELF) is a checkpoint, the first of a pair of getrusage(RUSAGE_THREAD) starts a touch loop. */
export interface ReplayHooks {
  /** the kmem path the execve'd file is at (the real run's absolute path) */
  exe: string;
  checkpoint(t: Task, realPid: number, where: string): void;
  /** after each successful execve: the loads the program's start-up code makes that the test stands in for */
  started?(t: Task, realPid: number): void;
  touch(t: Task, realPid: number, where: string): void;
  /** the results of each real pid's mmap, mremap and brk calls, in order, for the touch table */
  regions?: Map<number, { mmap: number[]; mremap: number[]; brk: number[] }>;
}

/**
 * Replay the calls through kmem: the first execve spawns the program, clone/fork
 * forks the calling task, exit_group exits it, wait4 reaps. Returns every call's
 * kmem result beside strace's (real pids mapped to kmem's).
 */
export function replayStrace(k: Kernel, calls: Call[], hooks: ReplayHooks): { results: Result[]; tasks: Map<number, Task> } {
  const tasks = new Map<number, Task>();
  const kmemToReal = new Map<number, number>();
  const regions = hooks.regions ?? new Map<number, { mmap: number[]; mremap: number[]; brk: number[] }>();
  const results: Result[] = [];
  const threadMarks = new Map<number, number>();
  let firstPath: string | null = null;
  /** per real pid: the real fd of each file the replay opened -> kmem's fd (other opens, of /proc files, are not replayed) */
  const fds = new Map<number, Map<number, number>>();
  const record = (c: Call, got: number | null, want = c.ret) => results.push({ where: c.where, call: `${c.name}(${c.args.join(', ')})`, want, got });
  for (const c of calls) {
    const n = (i: number) => argValue(c.args[i] ?? '', c.where);
    if (c.name === 'execve') {
      // The real run's path (relative to its directory) is the replay's exe; argv as strace shows it.
      const argv = [...(c.args[1] ?? '').matchAll(/"([^"]*)"/g)].map((x) => x[1]!);
      if (!/\/\* 0 vars \*\//.test(c.args[2] ?? '')) throw new Error(`${c.where}: replay needs an empty environment (env -i)`);
      if (firstPath === null) firstPath = argString(c.args[0] ?? '', c.where);
      else if (argString(c.args[0] ?? '', c.where) !== firstPath) throw new Error(`${c.where}: only the program first execve'd is replayed`);
      if (tasks.size === 0) {
        const t = k.spawn(hooks.exe, argv, { envp: [] });
        tasks.set(c.pid, t);
        kmemToReal.set(t.pid, c.pid);
        record(c, 0);
      } else record(c, taskOf(c).execve(hooks.exe, argv, []));
      // A new image: its mmap/mremap/brk results start again.
      regions.set(c.pid, { mmap: [], mremap: [], brk: [] });
      hooks.started?.(taskOf(c), c.pid);
      continue;
    }
    const t = tasks.get(c.pid);
    if (t === undefined) throw new Error(`${c.where}: pid ${c.pid} is not a task of the replay (a child seen before its clone returned?)`);
    const reg = regions.get(c.pid)!;
    switch (c.name) {
      case 'openat': {
        // Only the program's own file (the path it was execve'd by) is opened in kmem.
        if (argValue(c.args[0] ?? '', c.where) !== NAMES.AT_FDCWD || argString(c.args[1] ?? '', c.where) !== firstPath) break;
        const kfd = t.open(hooks.exe, argValue(c.args[2] ?? '', c.where));
        if (kfd < 0 || c.ret === null || c.ret < 0) record(c, kfd);
        else fdsOf(c.pid).set(c.ret, kfd);
        break;
      }
      case 'close': {
        const kfd = fdsOf(c.pid).get(n(0));
        if (kfd === undefined) break;
        fdsOf(c.pid).delete(n(0));
        record(c, t.close(kfd));
        break;
      }
      case 'mmap': {
        let fd = n(4);
        if (fd !== -1) {
          const kfd = fdsOf(c.pid).get(fd);
          if (kfd === undefined) throw new Error(`${c.where}: a mapping of fd ${fd}, which is not a file the replay opened`);
          fd = kfd;
        }
        const got = t.mmap(n(0), n(1), n(2), n(3), fd, n(5));
        reg.mmap.push(got);
        record(c, got);
        break;
      }
      case 'munmap':
        record(c, t.munmap(n(0), n(1)));
        break;
      case 'mprotect':
        record(c, t.mprotect(n(0), n(1), n(2)));
        break;
      case 'madvise':
        record(c, t.madvise(n(0), n(1), n(2)));
        break;
      case 'mremap': {
        const got = t.mremap(n(0), n(1), n(2), n(3), c.args.length > 4 ? n(4) : 0);
        reg.mremap.push(got);
        record(c, got);
        break;
      }
      case 'mlock':
        record(c, t.mlock(n(0), n(1)));
        break;
      case 'mlock2':
        record(c, t.mlock2(n(0), n(1), n(2)));
        break;
      case 'munlock':
        record(c, t.munlock(n(0), n(1)));
        break;
      case 'brk': {
        const got = t.brk(n(0));
        reg.brk.push(got);
        record(c, got);
        break;
      }
      case 'fork':
      case 'vfork':
      case 'clone':
      case 'clone3': {
        const flagArg = c.args.find((a) => a.startsWith('flags='));
        const flags = flagArg === undefined ? 0 : argValue(flagArg.slice(6), c.where, CLONE_FLAGS);
        if ((flags & CLONE_VM) !== 0) throw new Error(`${c.where}: a clone sharing the mm (a thread or vfork) is not replayed`);
        const child = t.fork();
        if (c.ret === null || c.ret < 0) throw new Error(`${c.where}: a failed fork is not replayed`);
        tasks.set(c.ret, child);
        kmemToReal.set(child.pid, c.ret);
        regions.set(c.ret, { mmap: [...reg.mmap], mremap: [...reg.mremap], brk: [...reg.brk] });
        fds.set(c.ret, new Map(fdsOf(c.pid)));
        // The child's pid is checked where it comes back: wait4's result.
        break;
      }
      case 'exit':
      case 'exit_group':
        t.exit(n(0));
        record(c, null);
        break;
      case 'wait4':
      case 'waitid': {
        const got = t.wait();
        record(c, got < 0 ? got : (kmemToReal.get(got) ?? null));
        break;
      }
      case 'getrusage': {
        const who = n(0);
        if (who === NAMES.RUSAGE_SELF) hooks.checkpoint(t, c.pid, c.where);
        else if (who === NAMES.RUSAGE_THREAD) {
          const m = (threadMarks.get(c.pid) ?? 0) + 1;
          threadMarks.set(c.pid, m);
          if (m % 2 === 1) hooks.touch(t, c.pid, c.where);
        }
        break;
      }
      default:
        // Calls kmem has no counterpart for (arch_prctl, set_tid_address, ...) are skipped.
        break;
    }
  }
  return { results, tasks };

  function fdsOf(pid: number): Map<number, number> {
    const m = fds.get(pid) ?? new Map<number, number>();
    fds.set(pid, m);
    return m;
  }

  function taskOf(c: Call): Task {
    const t = tasks.get(c.pid);
    if (t === undefined) throw new Error(`${c.where}: pid ${c.pid} is not a task of the replay`);
    return t;
  }
}

/** One section of the program's stdout: a checkpoint's /proc files, a touch loop's fault count, or a printed return value. */
export type OutEntry =
  | { kind: 'cp'; name: string; minflt: number; maps: string; smaps: string; status: string }
  | { kind: 'faults'; name: string; n: number }
  | { kind: 'ret'; name: string; v: number }
  | { kind: 'auxv'; type: number; v: number }
  | { kind: 'argv'; v: number };

/** Split mm_replay's stdout into its entries, in order. */
export function parseOutput(text: string, file: string): OutEntry[] {
  const out: OutEntry[] = [];
  const lines = text.split('\n');
  let cur: { kind: 'cp'; name: string; minflt: number; maps: string; smaps: string; status: string } | null = null;
  let part: 'maps' | 'smaps' | 'status' | null = null;
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i]!;
    if (l.startsWith('#') && i === 0) continue;
    const cpm = /^== (\S+) minflt (\d+)$/.exec(l);
    const sec = /^-- \/proc\/self\/(maps|smaps|status)$/.exec(l);
    const fm = /^faults (\S+) (-?\d+)$/.exec(l);
    const rm = /^ret (\S+) (-?\d+)$/.exec(l);
    const am = /^auxv ([0-9a-f]+) ([0-9a-f]+)$/.exec(l) ?? /^argv ([0-9a-f]+)$/.exec(l);
    if (cpm !== null) {
      cur = { kind: 'cp', name: cpm[1]!, minflt: Number(cpm[2]), maps: '', smaps: '', status: '' };
      out.push(cur);
      part = null;
    } else if (sec !== null) {
      if (cur === null) throw new Error(`${file}:${i + 1}: a /proc section outside a checkpoint`);
      part = sec[1] as 'maps' | 'smaps' | 'status';
    } else if (fm !== null || rm !== null) {
      if (fm !== null) out.push({ kind: 'faults', name: fm[1]!, n: Number(fm[2]) });
      else out.push({ kind: 'ret', name: rm![1]!, v: Number(rm![2]) });
      cur = null;
      part = null;
    } else if (am !== null) {
      if (am[2] !== undefined) out.push({ kind: 'auxv', type: Number.parseInt(am[1]!, 16), v: Number.parseInt(am[2], 16) });
      else out.push({ kind: 'argv', v: Number.parseInt(am[1]!, 16) });
      cur = null;
      part = null;
    } else if (cur !== null && part !== null) {
      if (l !== '' || i < lines.length - 1) cur[part] += `${l}\n`;
    } else if (l !== '') throw new Error(`${file}:${i + 1}: cannot parse: ${l}`);
  }
  return out;
}
