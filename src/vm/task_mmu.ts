/**
 * /proc/PID/maps, /proc/PID/status and /proc/PID/statm (fs/proc/task_mmu.c,
 * fs/proc/array.c), in 6.18's formats.
 */
import type { Task } from './fork.js';
import { type Mm, specialMappingNames } from './mm_types.js';
import { VM } from './mman.js';
import type { Vm } from './vm.js';

const hex8 = (n: number) => n.toString(16).padStart(8, '0');
const hex2 = (n: number) => n.toString(16).padStart(2, '0');
/** seq_setwidth(m, 25 + sizeof(void *) * 6 - 1): where the name column starts, less the one space seq_pad adds */
const NAME_COLUMN = 25 + 8 * 6 - 1;
/** The device of kmem's root file system as maps prints it (a virtio disk's fe:00). */
export const ROOT_DEV_MAJOR = 0xfe;
export const ROOT_DEV_MINOR = 0;

/** show_map_vma() for every VMA, then the gate VMA. */
export function showMaps(vm: Vm, t: Task): string {
  const mm = t.mm;
  let out = '';
  if (mm !== null) for (const v of mm.vmas) out += mapLine(vm, mm, v);
  out += gateLine();
  return out;
}

function mapLine(vm: Vm, mm: Mm, v: number): string {
  const s = vm.s;
  const start = s.vmStart(v);
  const end = s.vmEnd(v);
  const f = s.vmFlags(v);
  const ino = s.vmFile(v);
  const perms = `${f & VM.READ ? 'r' : '-'}${f & VM.WRITE ? 'w' : '-'}${f & VM.EXEC ? 'x' : '-'}${f & VM.MAYSHARE ? 's' : 'p'}`;
  const pgoff = ino !== 0 ? s.vmPgoff(v) * 4096 : 0;
  const dev = ino !== 0 ? `${hex2(ROOT_DEV_MAJOR)}:${hex2(ROOT_DEV_MINOR)}` : '00:00';
  const head = `${hex8(start)}-${hex8(end)} ${perms} ${hex8(pgoff)} ${dev} ${ino} `;
  let name = '';
  if (ino !== 0) name = vm.fs.byIno(ino)?.path ?? '';
  else if (s.vmOps(v) !== 0) name = specialMappingNames[s.vmOps(v)]!;
  else if (start < mm.brk && end > mm.startBrk) name = '[heap]';
  else if (start <= mm.startStack && end >= mm.startStack) name = '[stack]';
  if (name === '') return `${head}\n`;
  return `${head.length < NAME_COLUMN + 1 ? head.padEnd(NAME_COLUMN + 1) : head}${name}\n`;
}

/** The vsyscall page (vsyscall=xonly), which every x86-64 maps shows last. */
function gateLine(): string {
  return `${'ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0 '.padEnd(NAME_COLUMN + 1)}[vsyscall]\n`;
}

const kb = (label: string, pages: number) => `${label}:\t${String(pages * 4).padStart(8)} kB\n`;
const kbBytes = (label: string, bytes: number) => `${label}:\t${String(Math.floor(bytes / 1024)).padStart(8)} kB\n`;

/** task_mem(): the Vm* and Rss* lines of status. */
export function taskMem(mm: Mm): string {
  const anon = mm.rssAnon;
  const file = mm.rssFile;
  const shmem = mm.rssShmem;
  const totalRss = anon + file + shmem;
  const hiwaterVm = Math.max(mm.totalVm, mm.hiwaterVm);
  const hiwaterRss = Math.max(totalRss, mm.hiwaterRss);
  let text = Math.ceil(mm.endCode / 4096) * 4096 - (mm.startCode - (mm.startCode % 4096));
  text = Math.min(text, mm.execVm * 4096);
  const lib = mm.execVm * 4096 - text;
  return (
    kb('VmPeak', hiwaterVm) +
    kb('VmSize', mm.totalVm) +
    kb('VmLck', mm.lockedVm) +
    kb('VmPin', mm.pinnedVm) +
    kb('VmHWM', hiwaterRss) +
    kb('VmRSS', totalRss) +
    kb('RssAnon', anon) +
    kb('RssFile', file) +
    kb('RssShmem', shmem) +
    kb('VmData', mm.dataVm) +
    kb('VmStk', mm.stackVm) +
    kbBytes('VmExe', text) +
    kbBytes('VmLib', lib) +
    kbBytes('VmPTE', mm.pgtablesBytes) +
    kb('VmSwap', mm.swapEnts) +
    'HugetlbPages:\t       0 kB\n'
  );
}

/** proc_pid_status(): the fields a root shell's process shows on 6.18, with kmem's values. */
export function showStatus(vm: Vm, t: Task): string {
  const ppid = t.parent?.pid ?? 0;
  const state = t.exited ? 'Z (zombie)' : 'R (running)';
  let out =
    `Name:\t${t.comm}\nUmask:\t0022\nState:\t${state}\nTgid:\t${t.pid}\nNgid:\t0\nPid:\t${t.pid}\nPPid:\t${ppid}\nTracerPid:\t0\n` +
    'Uid:\t0\t0\t0\t0\nGid:\t0\t0\t0\t0\nFDSize:\t64\nGroups:\t \n' +
    `NStgid:\t${t.pid}\nNSpid:\t${t.pid}\nNSpgid:\t${t.pid}\nNSsid:\t${t.pid}\nKthread:\t0\n`;
  if (t.mm !== null) out += taskMem(t.mm);
  out +=
    'CoreDumping:\t0\nTHP_enabled:\t1\nuntag_mask:\t0xffffffffffffffff\nThreads:\t1\nSigQ:\t0/' +
    `${sigPendingLimit(vm)}\n` +
    'SigPnd:\t0000000000000000\nShdPnd:\t0000000000000000\nSigBlk:\t0000000000000000\nSigIgn:\t0000000000000000\nSigCgt:\t0000000000000000\n' +
    'CapInh:\t0000000000000000\nCapPrm:\t000001ffffffffff\nCapEff:\t000001ffffffffff\nCapBnd:\t000001ffffffffff\nCapAmb:\t0000000000000000\n' +
    'NoNewPrivs:\t0\nSeccomp:\t0\nSeccomp_filters:\t0\nSpeculation_Store_Bypass:\tvulnerable\nSpeculationIndirectBranch:\talways enabled\n' +
    `Cpus_allowed:\t${((2 ** vm.k.cpus) - 1).toString(16)}\nCpus_allowed_list:\t${vm.k.cpus > 1 ? `0-${vm.k.cpus - 1}` : '0'}\n` +
    `Mems_allowed:\t${'00000000,'.repeat(31)}00000001\nMems_allowed_list:\t0\n` +
    'voluntary_ctxt_switches:\t0\nnonvoluntary_ctxt_switches:\t0\n';
  return out;
}

/** RLIMIT_SIGPENDING's default: max_threads / 2 (fork_init), from the machine's memory. */
function sigPendingLimit(vm: Vm): number {
  const totalPages = vm.k.phys.nrPages;
  // set_max_threads(): nr_pages * PAGE_SIZE / (8 * THREAD_SIZE), THREAD_SIZE 16 KiB.
  const maxThreads = Math.floor((totalPages * 4096) / (8 * 16384));
  return Math.floor(Math.max(20, maxThreads) / 2);
}

/** task_statm(): size resident shared text lib data dt, in pages. */
export function showStatm(t: Task): string {
  const mm = t.mm;
  if (mm === null) return '0 0 0 0 0 0 0\n';
  const shared = mm.rssFile + mm.rssShmem;
  const text = (Math.ceil(mm.endCode / 4096) * 4096 - (mm.startCode - (mm.startCode % 4096))) / 4096;
  return `${mm.totalVm} ${shared + mm.rssAnon} ${shared} ${text} 0 ${mm.dataVm + mm.stackVm} 0\n`;
}

/** The /proc/PID/... files kmem serves, for ProcFs.registerDir(). */
export function procPidRead(vm: Vm, path: string): string | undefined {
  const m = /^\/proc\/(\d+)\/(maps|status|statm)$/.exec(path);
  if (m === null) return undefined;
  const t = vm.tasks.get(Number(m[1]));
  if (t === undefined) return undefined;
  if (m[2] === 'maps') return showMaps(vm, t);
  if (m[2] === 'status') return showStatus(vm, t);
  return showStatm(t);
}
