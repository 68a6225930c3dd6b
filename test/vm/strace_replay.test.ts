/**
 * Real programs replayed: test/fixtures/vm/strace/mm_replay.c, a static C program run on this
 * machine's Linux 6.18 under `setarch x86_64 -R strace -f`, once per scenario (anon, fork,
 * remap, exec, advise, file, auxv). Its system calls (glibc's start-up brk/mprotect included) go through a kmem Task
 * with aslr 0; each call must return what the real kernel returned, addresses included. Its
 * stores are the touch loops the program declares (TOUCHES below, read off mm_replay.c), done
 * where strace shows the loop's getrusage(RUSAGE_THREAD) bracket. At each checkpoint
 * (getrusage(RUSAGE_SELF)) kmem's /proc/PID/maps must equal the real one line for line
 * (inode numbers aside), and the smaps and status fields that do not depend on executing
 * code must equal the real ones.
 *
 * What depends on executing code and is left out (kmem runs no instructions):
 * - Rss and its split of the ELF image, the bss, [heap] and [stack] VMAs (glibc's start-up
 *   and the checkpoint code's own loads and stores touch them), so VmRSS, VmHWM, RssAnon and
 *   RssFile in status. The program's own mappings (everything it mmaps above 0x10000000 but
 *   the special mappings and the stack) are compared field by field. Of glibc's start-up,
 *   the test does the loads from the vDSO (setup_vdso reads its first page): with them the
 *   [vdso] Rss and VmPTE (that page's PTE table) match too; [vdso]'s Pss does not (on the
 *   host every process shares the page).
 * - minflt: compared as the count of each touch loop (the program measured it around the
 *   loop) and, in a task that has not forked, as the growth between two checkpoints (the
 *   program is warm after its first checkpoint). After fork, the checkpoint code's own
 *   copy-on-write faults on its buffer and stack count too, so there only the loops are.
 *
 * kmem bugs these replays found, fixed in src/vm: MADV_FREE did nothing (madvise.ts);
 * MADV_PAGEOUT made the PTEs old, which 6.10+ no longer does (madvise.ts); smaps and
 * pagemap skipped the pages of a PROT_NONE VMA (task_mmu.ts); a fork child's VmPeak counted
 * its parent's MADV_DONTFORK VMAs (fork.ts).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { boot } from '../../src/kernel.js';
import type { Task } from '../../src/vm/fork.js';
import { mapsRange } from './helpers.js';
import { type Call, type OutEntry, parseOutput, parseStrace, replayStrace } from './strace_replay.js';

const dir = new URL('../fixtures/vm/strace/', import.meta.url);
const EXE = '/tmp/kmem_strace/mm_replay';
const P = 4096;
const BIN = readFileSync(new URL('mm_replay', dir));

/** touch(name, p, a, b, c, d): write a byte into pages [a, b) of p, then read pages [c, d) (mm_replay.c). */
interface Touch {
  /** which address p is: the nth mmap/mremap/brk result of the task (a child inherits its parent's) */
  base: ['mmap' | 'mremap' | 'brk', number];
  write: [number, number];
  read?: [number, number];
  value: number;
  /** what the reads must see, page by page (the program wrote these bytes before, or never: 0) */
  sees?: number[];
}
const TOUCHES: Record<string, Touch> = {
  // anon
  'write8-read4': { base: ['mmap', 0], write: [0, 8], read: [8, 12], value: 1, sees: [0, 0, 0, 0] },
  'rewrite0-8': { base: ['mmap', 0], write: [0, 8], value: 2 },
  'b-write3': { base: ['mmap', 2], write: [5, 8], value: 3 },
  // sbrk(0): the break glibc's start-up left, its fifth brk's result
  'heap-write5': { base: ['brk', 4], write: [0, 5], value: 4 },
  // fork
  'parent-write32': { base: ['mmap', 0], write: [0, 32], value: 1 },
  'shared-write4': { base: ['mmap', 1], write: [0, 4], value: 1 },
  // The child reads what the parent wrote before fork.
  'child-cow8': { base: ['mmap', 0], write: [0, 8], read: [8, 16], value: 2, sees: [1, 1, 1, 1, 1, 1, 1, 1] },
  'child-shared2': { base: ['mmap', 1], write: [0, 2], value: 2 },
  'parent-write-after': { base: ['mmap', 0], write: [0, 16], value: 5 },
  // advise
  'a-write16': { base: ['mmap', 0], write: [0, 16], value: 1 },
  'b-write6': { base: ['mmap', 1], write: [0, 6], value: 2 },
  // MADV_WIPEONFORK: the child finds those pages empty.
  'child-wiped-read4': { base: ['mmap', 0], write: [0, 0], read: [12, 16], value: 0, sees: [0, 0, 0, 0] },
  'child-cow2': { base: ['mmap', 0], write: [0, 2], value: 3 },
  // file: its own file, MAP_PRIVATE (the bytes are the binary's)
  'file-read1': { base: ['mmap', 0], write: [0, 0], read: [20, 21], value: 0, sees: [BIN[20 * P]!] },
  'file-cow2': { base: ['mmap', 1], write: [0, 2], value: 5 },
  'file-read-after': { base: ['mmap', 1], write: [0, 0], read: [2, 4], value: 0, sees: [BIN[2 * P]!, BIN[3 * P]!] },
  // exec (and mini, the image the child execs)
  'pre-exec-write4': { base: ['mmap', 0], write: [0, 4], value: 1 },
  'mini-write2': { base: ['mmap', 0], write: [0, 2], value: 9 },
  // remap
  'a-write4': { base: ['mmap', 0], write: [0, 4], value: 1 },
  // The moved pages keep their bytes; the grown part is new.
  'm-read12': { base: ['mremap', 1], write: [0, 0], read: [0, 12], value: 0, sees: [1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0] },
  'hint-write2': { base: ['mmap', 5], write: [0, 2], value: 7 },
};

const FORKS = ['clone', 'clone3', 'fork', 'vfork'];
const noInode = (s: string) => s.replace(/ ([0-9a-f]{2}:[0-9a-f]{2}) \d+ +/g, ' $1 INODE ').replace(/ ([0-9a-f]{2}:[0-9a-f]{2}) \d+$/gm, ' $1 INODE');

interface Block {
  head: string;
  start: number;
  name: string;
  fields: Map<string, string>;
}
function smapsBlocks(text: string): Block[] {
  const out: Block[] = [];
  for (const l of text.split('\n')) {
    if (l === '') continue;
    const m = /^([0-9a-f]+)-[0-9a-f]+ \S{4} [0-9a-f]+ \S+ \d+ *(.*)$/.exec(l);
    if (m !== null) out.push({ head: noInode(l), start: Number.parseInt(m[1]!, 16), name: m[2]!, fields: new Map() });
    else {
      const f = /^([A-Za-z_]+):\s*(.*)$/.exec(l);
      if (f === null || out.length === 0) throw new Error(`smaps: cannot parse ${l}`);
      out[out.length - 1]!.fields.set(f[1]!, f[2]!);
    }
  }
  return out;
}
/** The fields of every VMA that do not depend on what the program executed. */
const LAYOUT_FIELDS = ['Size', 'KernelPageSize', 'MMUPageSize', 'THPeligible', 'VmFlags'];
/** The program's own mappings: what it mmapped (not the ELF image, bss or heap below 0x10000000; not the special mappings or the stack). */
const ownMapping = (b: Block) => b.start >= 0x10000000 && !['[vvar]', '[vvar_vclock]', '[vdso]', '[stack]'].includes(b.name);
function smapsView(text: string): string[] {
  return smapsBlocks(text).map((b) => {
    // [vdso]: the page glibc's start-up read (see started()); its Pss is the host's many sharers' business.
    const keep = ownMapping(b) ? [...b.fields.keys()] : b.name === '[vdso]' ? [...LAYOUT_FIELDS, 'Rss', 'Anonymous'] : LAYOUT_FIELDS;
    // A mapping of the program's own file: its page-cache pages are shared with the text the real
    // program runs (mapcount 2 there, 1 in kmem), so Pss and the shared/private split differ, and the
    // host's ext4 keeps the file in large folios, whose fault-around maps whole folios (17 pages here
    // where kmem's single-page folios give the 16-page window: DESIGN.md), so Rss, Referenced and the
    // clean pages differ. What is compared: the anonymous (copy-on-write) pages and the dirty ones.
    if (ownMapping(b) && !/ 00:00 /.test(b.head)) {
      const kb = (f: string) => Number.parseInt(b.fields.get(f) ?? '0', 10);
      const rest = keep.filter((k) => !/^(Rss|Referenced|Pss|Pss_Dirty|Shared_Clean|Shared_Dirty|Private_Clean|Private_Dirty)$/.test(k));
      return [b.head, ...rest.map((k) => `${k}: ${b.fields.get(k)}`), `Dirty: ${kb('Shared_Dirty') + kb('Private_Dirty')}`].join('\n');
    }
    return [b.head, ...keep.map((k) => `${k}: ${b.fields.get(k)}`)].join('\n');
  });
}
/** status lines that follow from the mappings alone (RssShmem: only the program touches its shared mapping). */
const STATUS_FIELDS = ['VmPeak', 'VmSize', 'VmLck', 'VmPin', 'VmData', 'VmStk', 'VmExe', 'VmLib', 'VmPTE', 'VmSwap', 'RssShmem'];
const statusView = (text: string) => text.split('\n').filter((l) => STATUS_FIELDS.some((f) => l.startsWith(`${f}:`)));
const statusKb = (text: string, f: string) => Number(new RegExp(`^${f}:\\s+(\\d+) kB$`, 'm').exec(text)?.[1] ?? Number.NaN);

interface Seen {
  cp: string;
  where: string;
  maps: [string, string];
  smaps: [string[], string[]];
  status: [string[], string[]];
  /** minflt growth since the task's previous checkpoint, kmem and real; null where code's own faults count (after fork) */
  minflt: [number, number] | null;
  /** RssAnon growth since the previous checkpoint, kmem and real (the program's own anon pages are warm) */
  rssAnon: [number, number] | null;
}

function replay(scenario: string) {
  const calls: Call[] = parseStrace(readFileSync(new URL(`${scenario}.strace`, dir), 'utf8'), `${scenario}.strace`);
  const entries: OutEntry[] = parseOutput(readFileSync(new URL(`${scenario}.out`, dir), 'utf8'), `${scenario}.out`);
  const cps = entries.filter((e) => e.kind === 'cp');
  const loops = entries.filter((e) => e.kind === 'faults');
  const k = boot({ memory: '64M', seed: 1, aslr: 0 });
  k.fs.writeFile(EXE, BIN);
  const regions = new Map<number, { mmap: number[]; mremap: number[]; brk: number[] }>();
  const seen: Seen[] = [];
  const touched: { name: string; got: number; want: number }[] = [];
  const reads: { name: string; got: number[]; want: number[] }[] = [];
  const last = new Map<Task, { kmem: number; real: number; kAnon: number; rAnon: number }>();
  const forked = new Set<number>();
  const lastExec = new Map<Task, number>();
  let warmed = false;
  let snap: { auxv: Uint8Array; stack: [number, number]; bytes: Uint8Array } | null = null as {
    auxv: Uint8Array;
    stack: [number, number];
    bytes: Uint8Array;
  } | null;
  let ci = 0;
  let li = 0;
  const { results, tasks } = replayStrace(k, calls, {
    exe: EXE,
    regions,
    started(t) {
      // The host had the program's file in its page cache (it was just copied there): so does kmem,
      // read in with POSIX_FADV_WILLNEED (no readahead marks, which fault-around would skip).
      if (!warmed) {
        warmed = true;
        const fd = t.open(EXE, 0);
        t.posixFadvise(fd, 0, 0, 3);
        t.close(fd);
      }
      // glibc's start-up (_dl_non_dynamic_init -> setup_vdso) reads the vDSO's ELF header and dynamic
      // section to find __vdso_clock_gettime and the rest: loads in the image's first page.
      const b = t.auxv();
      const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
      for (let i = 0; i < b.length; i += 16) if (dv.getBigUint64(i, true) === 33n) t.read8(Number(dv.getBigUint64(i + 8, true)));
    },
    checkpoint(t, realPid, where) {
      const cp = cps[ci++];
      if (cp === undefined) throw new Error(`${where}: a checkpoint the output does not have`);
      const r = (f: string) => k.proc.read(`/proc/${t.pid}/${f}`);
      const status = r('status');
      const prev = last.get(t);
      const kAnon = statusKb(status, 'RssAnon');
      const rAnon = statusKb(cp.status, 'RssAnon');
      // A task that has forked, or was forked, since its last execve (a new image starts afresh).
      const line = (w: string) => Number(w.slice(w.lastIndexOf(':') + 1));
      const since = Math.max(0, ...calls.filter((c) => c.name === 'execve' && c.pid === realPid && line(c.where) < line(where)).map((c) => line(c.where)));
      const forkedNow = calls.some(
        (c) => FORKS.includes(c.name) && (c.pid === realPid || c.ret === realPid) && line(c.where) > since && line(c.where) < line(where),
      );
      if (forkedNow) forked.add(realPid);
      else forked.delete(realPid);
      // A new image: its counters are compared from its first checkpoint on.
      if (since > 0 && lastExec.get(t) !== since) {
        lastExec.set(t, since);
        last.delete(t);
      }
      seen.push({
        cp: cp.name,
        where,
        maps: [noInode(r('maps')), noInode(cp.maps)],
        smaps: [smapsView(r('smaps')), smapsView(cp.smaps)],
        status: [statusView(status), statusView(cp.status)],
        minflt: prev === undefined || forked.has(realPid) ? null : [t.minFlt - prev.kmem, cp.minflt - prev.real],
        rssAnon: prev === undefined ? null : [kAnon - prev.kAnon, rAnon - prev.rAnon],
      });
      last.set(t, { kmem: t.minFlt, real: cp.minflt, kAnon, rAnon });
      // The first checkpoint's auxv and stack, for the auxv scenario only (reading the stack faults its pages in).
      if (snap === null && scenario === 'auxv') {
        const st = mapsRange(k, t, '[stack]');
        snap = { auxv: t.auxv(), stack: st, bytes: t.readBytes(st[0], st[1] - st[0]) };
      }
    },
    touch(t, realPid, where) {
      const e = loops[li++];
      if (e === undefined || e.kind !== 'faults') throw new Error(`${where}: a touch loop the output does not have`);
      const spec = TOUCHES[e.name];
      if (spec === undefined) throw new Error(`${where}: no TOUCHES entry for ${e.name}`);
      const reg = regions.get(realPid)!;
      const base = reg[spec.base[0]][spec.base[1]]!;
      const f0 = t.minFlt;
      for (let i = spec.write[0]; i < spec.write[1]; i++) t.write8(base + i * P, spec.value);
      const seen: number[] = [];
      if (spec.read) for (let i = spec.read[0]; i < spec.read[1]; i++) seen.push(t.read8(base + i * P));
      touched.push({ name: e.name, got: t.minFlt - f0, want: e.n });
      if (spec.sees !== undefined) reads.push({ name: e.name, got: seen, want: spec.sees });
    },
  });
  return { k, results, seen, touched, reads, cps, loops, entries, tasks, forked, snap };
}

describe.each(['anon', 'fork', 'remap', 'exec', 'advise', 'file', 'auxv'])('mm_replay %s, replayed from strace', (scenario) => {
  const r = replay(scenario);

  test('every call returns what the real kernel returned (addresses and errnos)', () => {
    expect(r.results.length).toBeGreaterThan(5);
    expect(r.results.filter((x) => x.got !== x.want)).toEqual([]);
  });

  test('every checkpoint and touch loop of the output was reached', () => {
    expect(r.seen.map((s) => s.cp)).toEqual(r.cps.map((c) => (c.kind === 'cp' ? c.name : '')));
    expect(r.touched.map((s) => s.name)).toEqual(r.loops.map((c) => (c.kind === 'faults' ? c.name : '')));
  });

  test('each touch loop costs the faults it cost on 6.18', () => {
    expect(r.touched.map((x) => `${x.name} ${x.got}`)).toEqual(r.touched.map((x) => `${x.name} ${x.want}`));
  });

  test('the loads see the bytes written before (through fork and mremap) or zero', () => {
    for (const x of r.reads) expect(x.got, x.name).toEqual(x.want);
  });

  test('/proc/PID/maps at each checkpoint, line for line', () => {
    for (const s of r.seen) expect(s.maps[0], `${s.cp} (${s.where})`).toBe(s.maps[1]);
  });

  test('smaps: every VMA, its layout fields; the program own mappings, every field', () => {
    for (const s of r.seen) expect(s.smaps[0], `${s.cp} (${s.where})`).toEqual(s.smaps[1]);
  });

  test('status: the Vm lines that follow from the mappings', () => {
    for (const s of r.seen) expect(s.status[0], `${s.cp} (${s.where})`).toEqual(s.status[1]);
  });

  test('minflt and RssAnon grow between checkpoints as on 6.18', () => {
    const pick = (i: 0 | 1) => r.seen.map((s) => `${s.cp} minflt ${s.minflt?.[i] ?? '-'} anon ${s.rssAnon?.[i] ?? '-'}`);
    expect(pick(0)).toEqual(pick(1));
  });
});

test.each([
  ['fork', 3 << 8],
  ['exec', 0],
])('%s: the child exits and the parent reaps it with the wstatus the program printed', (scenario, status) => {
  const r = replay(scenario);
  const ws = r.entries.find((e) => e.kind === 'ret' && e.name === 'wstatus');
  expect(ws?.kind === 'ret' ? ws.v : null).toBe(status);
  const parent = [...r.tasks.values()][0]!;
  expect(parent.wstatus).toBe(status);
  // wait4 returned the child (its real pid, mapped from kmem's).
  const w = r.results.find((x) => x.call.startsWith('wait4'))!;
  expect(w.want).toBeGreaterThan(0);
  expect(w.got).toBe(w.want);
});

test('auxv: the auxiliary vector and argv where 6.18 put them on the stack (create_elf_tables)', () => {
  const r = replay('auxv');
  const real = r.entries.flatMap((e) => (e.kind === 'auxv' ? [[e.type, e.v]] : []));
  const { auxv: b, stack, bytes } = r.snap!;
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const mine: number[][] = [];
  for (let i = 0; i < b.length; i += 16) mine.push([Number(dv.getBigUint64(i, true)), Number(dv.getBigUint64(i + 8, true))]);
  // AT_MINSIGSTKSZ (0x33) follows the CPU's xsave features: this machine's 1776, kmem's model CPU's 3376.
  const view = (a: number[][]) => a.map(([k, v]) => `${k!.toString(16)} ${k === 0x33 ? 'cpu' : v!.toString(16)}`);
  expect(view(mine)).toEqual(view(real));
  // argv: right below the vector are envp's NULL (env -i) and argv's three words; the real argv pointer is there too.
  let at = -1;
  for (let i = 0; i + b.length <= bytes.length && at < 0; i += 8) if (b.every((x, j) => bytes[i + j] === x)) at = i;
  expect(at).toBeGreaterThan(0);
  const argv = r.entries.find((e) => e.kind === 'argv');
  expect(argv?.kind === 'argv' ? argv.v : 0).toBe(stack[0] + at - 8 - 3 * 8);
});

describe('parseStrace', () => {
  test('-f lines, unfinished/resumed pairs, errors, signals and exits', () => {
    const log = [
      '# comment',
      '10  execve("./p", ["./p"], 0x7ffe /* 0 vars */) = 0',
      '10  mmap(NULL, 8192, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0) = 0x7ffff7ffd000',
      '10  mremap(0x1000, 4096, 8192, 0) = -1 ENOMEM (Cannot allocate memory)',
      '10  wait4(11,  <unfinished ...>',
      '11  exit_group(3)                     = ?',
      '11  +++ exited with 3 +++',
      '10  <... wait4 resumed>[{WIFEXITED(s) && WEXITSTATUS(s) == 3}], 0, NULL) = 11',
      '10  --- SIGCHLD {si_signo=SIGCHLD, si_code=CLD_EXITED, si_pid=11} ---',
    ].join('\n');
    const c = parseStrace(log, 'x.strace');
    expect(c.map((x) => `${x.pid} ${x.name} ${x.args.length} ${x.ret}`)).toEqual([
      '10 execve 3 0',
      `10 mmap 6 ${0x7ffff7ffd000}`,
      '10 mremap 4 -12',
      '11 exit_group 1 null',
      '10 wait4 4 11',
    ]);
    expect(c[1]!.where).toBe('x.strace:3');
    expect(c[4]!.where).toBe('x.strace:8');
  });

  test('what the replay cannot do is an error naming file:line; an unknown system call is skipped', () => {
    const k = boot({ memory: '32M', seed: 1, aslr: 0 });
    k.fs.writeFile(EXE, readFileSync(new URL('mm_replay', dir)));
    const hooks = { exe: EXE, checkpoint() {}, touch() {} };
    const head = '7  execve("./mm_replay", ["./mm_replay"], 0x7ffe /* 0 vars */) = 0\n7  set_tid_address(0x4d0650) = 7\n';
    const run = (line: string) => replayStrace(k, parseStrace(head + line, 'r.strace'), hooks);
    expect(run('7  brk(NULL) = 0x4d0000\n').results.map((x) => x.call)).toEqual(['execve("./mm_replay", ["./mm_replay"], 0x7ffe /* 0 vars */)', 'brk(NULL)']);
    expect(() => run('7  mmap(NULL, 4096, PROT_READ, MAP_PRIVATE, 3, 0) = 0x7ffff7ff0000\n')).toThrow(/r\.strace:3: a mapping of fd 3/);
    expect(() => run('7  clone(child_stack=0x7f00, flags=CLONE_VM|CLONE_THREAD|SIGCHLD) = 8\n')).toThrow(/r\.strace:3: a clone sharing the mm/);
    expect(() => run('7  mprotect(0x1000, 4096, PROT_BOGUS) = 0\n')).toThrow(/r\.strace:3: unknown value PROT_BOGUS/);
    expect(() => run('9  brk(NULL) = 0x4d0000\n')).toThrow(/r\.strace:3: pid 9/);
  });

  test('an unparseable line is an error naming file:line', () => {
    expect(() => parseStrace('10  mmap(NULL, 4096\n', 'bad.strace')).toThrow(/bad\.strace:1/);
    expect(() => parseStrace('10  brk(NULL) = 0x1000\nnot a line\n', 'bad.strace')).toThrow(/bad\.strace:2/);
    expect(() => parseStrace('10  <... wait4 resumed>) = 1\n', 'bad.strace')).toThrow(/bad\.strace:1: wait4 resumed without its start/);
  });
});

describe('the kmem bugs the replays found, one by one', () => {
  const setup = () => {
    const k = boot({ memory: '32M', seed: 1, aslr: 0 });
    k.fs.writeFile(EXE, BIN);
    return { k, t: k.spawn(EXE, ['./mm_replay'], { envp: [] }) };
  };
  const field = (k: ReturnType<typeof boot>, t: Task, a: number, f: string) => {
    const smaps = k.proc.read(`/proc/${t.pid}/smaps`);
    const block = smaps.slice(smaps.indexOf(`${a.toString(16)}-`));
    return Number(new RegExp(`^${f}:\\s+(\\d+) kB$`, 'm').exec(block)![1]);
  };

  test('MADV_FREE: the pages turn clean and old, a write dirties one again; a file or locked VMA is -EINVAL', () => {
    const { k, t } = setup();
    const a = t.mmap(0, 4 * P, 3, 0x22, -1, 0);
    for (let i = 0; i < 4; i++) t.write8(a + i * P, 1);
    expect(field(k, t, a, 'Private_Dirty')).toBe(16);
    expect(t.madvise(a, 4 * P, 8)).toBe(0);
    expect([field(k, t, a, 'Rss'), field(k, t, a, 'Private_Dirty'), field(k, t, a, 'Referenced')]).toEqual([16, 0, 0]);
    t.write8(a + P, 2);
    expect([field(k, t, a, 'Private_Dirty'), field(k, t, a, 'Referenced')]).toEqual([4, 4]);
    expect(t.read8(a)).toBe(1);
    const fd = t.open(EXE, 0);
    const f = t.mmap(0, P, 1, 0x02, fd, 0);
    expect(t.madvise(f, P, 8)).toBe(-22);
    expect(t.mlock(a, P)).toBe(0);
    expect(t.madvise(a, P, 8)).toBe(-22);
  });

  test('MADV_PAGEOUT leaves the PTEs young (Referenced), MADV_COLD makes them old', () => {
    const { k, t } = setup();
    const a = t.mmap(0, 2 * P, 3, 0x22, -1, 0);
    t.write8(a, 1);
    t.write8(a + P, 1);
    expect(t.madvise(a, 2 * P, 21)).toBe(0);
    expect(field(k, t, a, 'Referenced')).toBe(8);
    expect(t.madvise(a, 2 * P, 20)).toBe(0);
    expect(field(k, t, a, 'Referenced')).toBe(0);
  });

  test('a PROT_NONE VMA keeps its pages in smaps and pagemap (pte_present)', () => {
    const { k, t } = setup();
    const a = t.mmap(0, 2 * P, 3, 0x22, -1, 0);
    t.write8(a, 1);
    expect(t.mprotect(a, 2 * P, 0)).toBe(0);
    expect(field(k, t, a, 'Rss')).toBe(4);
    expect(t.pagemap(a, 2).map((e) => e >> 63n)).toEqual(new BigUint64Array([1n, 0n]));
  });

  test("a fork child's VmPeak leaves out its parent's MADV_DONTFORK VMAs", () => {
    const { k, t } = setup();
    const a = t.mmap(0, 16 * P, 3, 0x22, -1, 0);
    expect(t.madvise(a, 16 * P, 10)).toBe(0);
    const c = t.fork();
    const st = k.proc.read(`/proc/${c.pid}/status`);
    const kb = (f: string) => Number(new RegExp(`^${f}:\\s+(\\d+) kB$`, 'm').exec(st)![1]);
    expect(kb('VmPeak')).toBe(kb('VmSize'));
    expect(kb('VmSize') + 64).toBe(Number(/^VmSize:\s+(\d+) kB$/m.exec(k.proc.read(`/proc/${t.pid}/status`))![1]));
  });
});
