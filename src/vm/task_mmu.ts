/**
 * /proc/PID/maps, /proc/PID/status and /proc/PID/statm (fs/proc/task_mmu.c,
 * fs/proc/array.c), in 6.18's formats.
 */

import { PG } from '../memory/page.js';
import type { Task } from './fork.js';
import { forEachPte } from './memory.js';
import { type Mm, specialMappingNames } from './mm_types.js';
import { VM } from './mman.js';
import { exitOomVictims, procPidOomRead } from './oom_kill.js';
import { _PAGE_ACCESSED, _PAGE_DIRTY, _PAGE_PRESENT, _PAGE_PROTNONE, _PAGE_SPECIAL } from './pgtable.js';
import { DEV_SHM_DEV, SHM_MNT_DEV, shmemOf } from './shmem.js';
import { isSwapPte, MAX_SWAPFILES_SHIFT, pteSwpOffset, pteSwpType } from './swapops.js';
import { KIND_ANON, type Vm } from './vm.js';

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
  const sh = shmemOf(vm);
  const zero = ino !== 0 && sh.zero.has(ino);
  const pgoff = ino !== 0 ? s.vmPgoff(v) * 4096 : 0;
  const dev = zero ? SHM_MNT_DEV : sh.files.has(ino) ? DEV_SHM_DEV : ino !== 0 ? `${hex2(ROOT_DEV_MAJOR)}:${hex2(ROOT_DEV_MINOR)}` : '00:00';
  const head = `${hex8(start)}-${hex8(end)} ${perms} ${hex8(pgoff)} ${dev} ${ino} `;
  let name = '';
  if (ino !== 0) name = vmaFileName(vm, ino);
  else if (s.vmOps(v) !== 0) name = specialMappingNames[s.vmOps(v)]!;
  else if (start < mm.brk && end > mm.startBrk) name = '[heap]';
  else if (start <= mm.startStack && end >= mm.startStack) name = '[stack]';
  if (name === '') return `${head}\n`;
  return `${head.length < NAME_COLUMN + 1 ? head.padEnd(NAME_COLUMN + 1) : head}${name}\n`;
}

/**
 * d_path() of a mapped file as maps prints it: the path, with " (deleted)"
 * once unlinked; "/dev/zero (deleted)" for the inode behind a
 * MAP_SHARED|MAP_ANONYMOUS mapping.
 */
export function vmaFileName(vm: Vm, ino: number): string {
  if (shmemOf(vm).zero.has(ino)) return '/dev/zero (deleted)';
  const inode = vm.fs.byIno(ino);
  if (inode === undefined) return '';
  return inode.nlink === 0 ? `${inode.path} (deleted)` : inode.path;
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
    `Cpus_allowed:\t${(2 ** vm.k.cpus - 1).toString(16)}\nCpus_allowed_list:\t${vm.k.cpus > 1 ? `0-${vm.k.cpus - 1}` : '0'}\n` +
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

/** struct mem_size_stats: bytes (pss fields in bytes << PSS_SHIFT) */
interface Mss {
  resident: number;
  pss: number;
  pssDirty: number;
  pssAnon: number;
  pssFile: number;
  sharedClean: number;
  sharedDirty: number;
  privateClean: number;
  privateDirty: number;
  referenced: number;
  anonymous: number;
  /** pss of VM_LOCKED VMAs */
  locked: number;
  /** bytes swapped out (swap PTEs), and their share by the slot's swap count (PSS_SHIFT fixed point) */
  swap: number;
  swapPss: number;
}

const PSS_SHIFT = 12;

function newMss(): Mss {
  return {
    resident: 0,
    pss: 0,
    pssDirty: 0,
    pssAnon: 0,
    pssFile: 0,
    sharedClean: 0,
    sharedDirty: 0,
    privateClean: 0,
    privateDirty: 0,
    referenced: 0,
    anonymous: 0,
    locked: 0,
    swap: 0,
    swapPss: 0,
  };
}

/** smap_gather_stats() + smaps_account() for one VMA's present pages (the zero page has no struct page to count). */
function gatherStats(vm: Vm, mm: Mm, v: number, mss: Mss): void {
  const u32 = vm.k.phys.u32;
  const locked = (vm.s.vmFlags(v) & VM.LOCKED) !== 0;
  const p = vm.k.pages;
  forEachPte(vm, mm.pgd, vm.s.vmStart(v), vm.s.vmEnd(v), (idx) => {
    const lo = u32[idx]!;
    if (isSwapPte(lo, u32[idx + 1]!) && vm.swap !== null) {
      // smaps_pte_entry(): a swap entry counts in Swap, and in SwapPss divided by its swap count.
      const n = vm.swap.swapCount(pteSwpOffset(lo, u32[idx + 1]!));
      mss.swap += 4096;
      mss.swapPss += n >= 2 ? Math.floor((4096 * 2 ** PSS_SHIFT) / n) : 4096 * 2 ** PSS_SHIFT;
      return;
    }
    // pte_present(): a PROT_NONE PTE (present clear, protnone set) still maps its page.
    if ((lo & (_PAGE_PRESENT | _PAGE_PROTNONE)) === 0 || (lo & _PAGE_SPECIAL) !== 0) return;
    const pfn = lo >>> 12;
    const anon = vm.pageKind[pfn] === KIND_ANON;
    const dirty = (lo & _PAGE_DIRTY) !== 0 || (p.flags[pfn]! & (1 << PG.dirty)) !== 0;
    mss.resident += 4096;
    if (anon) mss.anonymous += 4096;
    if ((lo & _PAGE_ACCESSED) !== 0 || (p.flags[pfn]! & (1 << PG.referenced)) !== 0) mss.referenced += 4096;
    const mapcount = p.mapcount[pfn]!;
    const shared = p.refcount[pfn] !== 1 && mapcount >= 2;
    const pss = shared ? Math.floor((4096 * 2 ** PSS_SHIFT) / mapcount) : 4096 * 2 ** PSS_SHIFT;
    mss.pss += pss;
    if (locked) mss.locked += pss;
    if (dirty) mss.pssDirty += pss;
    if (anon) mss.pssAnon += pss;
    else mss.pssFile += pss;
    if (shared) {
      if (dirty) mss.sharedDirty += 4096;
      else mss.sharedClean += 4096;
    } else if (dirty) mss.privateDirty += 4096;
    else mss.privateClean += 4096;
  });
}

const kbLine = (label: string, bytes: number) => `${label}${String(Math.floor(bytes / 1024)).padStart(8)} kB\n`;
const pssKb = (v: number) => Math.floor(Math.floor(v / 2 ** PSS_SHIFT) / 1024);

/** __show_smap(): the block every smaps entry and smaps_rollup print. */
function showSmapBlock(mss: Mss, rollup: boolean): string {
  let out = kbLine('Rss:            ', mss.resident);
  out += `Pss:            ${String(pssKb(mss.pss)).padStart(8)} kB\n`;
  out += `Pss_Dirty:      ${String(pssKb(mss.pssDirty)).padStart(8)} kB\n`;
  if (rollup) {
    out += `Pss_Anon:       ${String(pssKb(mss.pssAnon)).padStart(8)} kB\n`;
    out += `Pss_File:       ${String(pssKb(mss.pssFile)).padStart(8)} kB\n`;
    out += `Pss_Shmem:      ${String(0).padStart(8)} kB\n`;
  }
  out += kbLine('Shared_Clean:   ', mss.sharedClean);
  out += kbLine('Shared_Dirty:   ', mss.sharedDirty);
  out += kbLine('Private_Clean:  ', mss.privateClean);
  out += kbLine('Private_Dirty:  ', mss.privateDirty);
  out += kbLine('Referenced:     ', mss.referenced);
  out += kbLine('Anonymous:      ', mss.anonymous);
  out += kbLine('KSM:            ', 0);
  out += kbLine('LazyFree:       ', 0);
  out += kbLine('AnonHugePages:  ', 0);
  out += kbLine('ShmemPmdMapped: ', 0);
  out += kbLine('FilePmdMapped:  ', 0);
  out += kbLine('Shared_Hugetlb: ', 0);
  out += `Private_Hugetlb: ${String(0).padStart(7)} kB\n`;
  out += kbLine('Swap:           ', mss.swap);
  out += `SwapPss:        ${String(pssKb(mss.swapPss)).padStart(8)} kB\n`;
  out += `Locked:         ${String(pssKb(mss.locked)).padStart(8)} kB\n`;
  return out;
}

/** show_smap_vma_flags(): the mnemonics, in bit order (this 6.18 is built without CONFIG_MEM_SOFT_DIRTY: no "sd"). */
const VM_FLAG_NAMES: [number, string][] = [
  [VM.READ, 'rd'],
  [VM.WRITE, 'wr'],
  [VM.EXEC, 'ex'],
  [VM.SHARED, 'sh'],
  [VM.MAYREAD, 'mr'],
  [VM.MAYWRITE, 'mw'],
  [VM.MAYEXEC, 'me'],
  [VM.MAYSHARE, 'ms'],
  [VM.GROWSDOWN, 'gd'],
  [VM.PFNMAP, 'pf'],
  [VM.LOCKED, 'lo'],
  [VM.IO, 'io'],
  [VM.SEQ_READ, 'sr'],
  [VM.RAND_READ, 'rr'],
  [VM.DONTCOPY, 'dc'],
  [VM.DONTEXPAND, 'de'],
  [VM.LOCKONFAULT, 'lf'],
  [VM.ACCOUNT, 'ac'],
  [VM.NORESERVE, 'nr'],
  [VM.HUGETLB, 'ht'],
  [VM.SYNC, 'sf'],
  [VM.ARCH_1, 'ar'],
  [VM.WIPEONFORK, 'wf'],
  [VM.DONTDUMP, 'dd'],
  [VM.MIXEDMAP, 'mm'],
  [VM.HUGEPAGE, 'hg'],
  [VM.NOHUGEPAGE, 'nh'],
];

function vmFlagsLine(flags: number): string {
  let out = 'VmFlags:';
  for (const [bit, name] of VM_FLAG_NAMES) if ((flags & bit) !== 0) out += ` ${name}`;
  return `${out} \n`;
}

/** /proc/PID/smaps */
export function showSmaps(vm: Vm, t: Task): string {
  const mm = t.mm;
  let out = '';
  if (mm !== null) {
    for (const v of mm.vmas) {
      const mss = newMss();
      gatherStats(vm, mm, v, mss);
      out += mapLine(vm, mm, v);
      out += kbLine('Size:           ', vm.s.vmEnd(v) - vm.s.vmStart(v));
      out += kbLine('KernelPageSize: ', 4096);
      out += kbLine('MMUPageSize:    ', 4096);
      out += showSmapBlock(mss, false);
      out += 'THPeligible:           0\n';
      out += vmFlagsLine(vm.s.vmFlags(v));
    }
  }
  out += gateLine();
  out += kbLine('Size:           ', 4096) + kbLine('KernelPageSize: ', 4096) + kbLine('MMUPageSize:    ', 4096);
  out += showSmapBlock(newMss(), false);
  out += 'THPeligible:           0\n';
  out += vmFlagsLine(VM.EXEC);
  return out;
}

/** /proc/PID/smaps_rollup: every VMA's stats summed under one header spanning them. */
export function showSmapsRollup(vm: Vm, t: Task): string {
  const mm = t.mm;
  const mss = newMss();
  let start = 0;
  let end = 0;
  if (mm !== null && mm.vmas.length > 0) {
    start = vm.s.vmStart(mm.vmas[0]!);
    end = vm.s.vmEnd(mm.vmas[mm.vmas.length - 1]!);
    for (const v of mm.vmas) gatherStats(vm, mm, v, mss);
  }
  const head = `${hex8(start)}-${hex8(end)} ---p 00000000 00:00 0 `;
  return `${head.padEnd(NAME_COLUMN + 1)}[rollup]\n${showSmapBlock(mss, true)}`;
}

/** do_task_stat(): /proc/PID/stat, 52 fields. */
export function showStat(vm: Vm, t: Task): string {
  const mm = t.mm;
  const state = t.exited ? 'Z' : 'R';
  const ppid = t.parent?.pid ?? 0;
  const start = Math.floor(t.startNs / 1e7); // USER_HZ = 100
  const vsize = mm === null ? 0 : mm.totalVm * 4096;
  const rss = mm === null ? 0 : mm.rss();
  const z = (n: number) => (mm === null ? 0 : n);
  const f: (string | number)[] = [
    t.pid,
    `(${t.comm})`,
    state,
    ppid,
    t.pid,
    t.pid,
    0,
    -1,
    t.flags,
    t.minFlt,
    t.cminFlt,
    t.majFlt,
    t.cmajFlt,
    0,
    0,
    0,
    0,
    20,
    0,
    1,
    0,
    start,
    vsize,
    rss,
    '18446744073709551615',
    z(mm?.startCode ?? 0),
    z(mm?.endCode ?? 0),
    z(mm?.startStack ?? 0),
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    17,
    vm.k.currentCpu,
    0,
    0,
    0,
    0,
    0,
    z(mm?.startData ?? 0),
    z(mm?.endData ?? 0),
    z(mm?.startBrk ?? 0),
    z(mm?.argStart ?? 0),
    z(mm?.argEnd ?? 0),
    z(mm?.envStart ?? 0),
    z(mm?.envEnd ?? 0),
    t.exited ? t.exitCode : 0,
  ];
  return `${f.join(' ')}\n`;
}

const PM_PRESENT = 1n << 63n;
const PM_SWAP = 1n << 62n;
const PM_FILE = 1n << 61n;
const PM_MMAP_EXCLUSIVE = 1n << 56n;

/**
 * pagemap_read(): the 64-bit entries of /proc/PID/pagemap for n pages from
 * addr (bit 63 present, 62 swapped: type in bits 0-4, offset from bit 5; 61 file page or shared anonymous, 56 mapped once,
 * bits 0-54 the PFN, shown as to root). This 6.18 has no soft-dirty bit 55.
 */
export function pagemap(vm: Vm, t: Task, addr: number, n: number): BigUint64Array {
  const out = new BigUint64Array(n);
  const mm = t.mm;
  if (mm === null) return out;
  const u32 = vm.k.phys.u32;
  const p = vm.k.pages;
  const base = addr - (addr % 4096);
  for (let i = 0; i < n; i++) {
    const idx = vm.pt.walk(mm.pgd, base + i * 4096);
    if (idx < 0) continue;
    const lo = u32[idx]!;
    const hi = u32[idx + 1]!;
    if (isSwapPte(lo, hi)) {
      // pte_to_pagemap_entry(): PM_SWAP, the frame field swp_type | swp_offset << MAX_SWAPFILES_SHIFT.
      out[i] = PM_SWAP | BigInt(pteSwpType(hi)) | (BigInt(pteSwpOffset(lo, hi)) << BigInt(MAX_SWAPFILES_SHIFT));
      continue;
    }
    if ((lo & (_PAGE_PRESENT | _PAGE_PROTNONE)) === 0) continue;
    const pfn = lo >>> 12;
    let e = PM_PRESENT | BigInt(pfn);
    if ((lo & _PAGE_SPECIAL) === 0) {
      if (vm.pageKind[pfn] !== KIND_ANON) e |= PM_FILE;
      if (p.mapcount[pfn] === 1) e |= PM_MMAP_EXCLUSIVE;
    }
    out[i] = e;
  }
  return out;
}

/**
 * proc_pid_auxv(): /proc/PID/auxv, the mm's saved_auxv as native u64 pairs
 * up to and including the AT_NULL pair; empty for a task without an mm.
 */
export function procPidAuxv(t: Task): Uint8Array {
  const a = t.mm?.savedAuxv ?? [];
  const out = new Uint8Array(a.length * 8);
  const dv = new DataView(out.buffer);
  for (let i = 0; i < a.length; i++) dv.setBigUint64(i * 8, BigInt(a[i]!), true);
  return out;
}

/** The /proc/PID/... files kmem serves, for ProcFs.registerDir(). */
export function procPidRead(vm: Vm, path: string): string | undefined {
  const m = /^\/proc\/(\d+)\/(maps|status|statm|stat|smaps|smaps_rollup|oom_score|oom_score_adj|oom_adj)$/.exec(path);
  if (m === null) return undefined;
  exitOomVictims(vm);
  const t = vm.tasks.get(Number(m[1]));
  if (t === undefined) return undefined;
  switch (m[2]) {
    case 'oom_score':
    case 'oom_score_adj':
    case 'oom_adj':
      return procPidOomRead(vm, t, m[2]);
    case 'maps':
      return showMaps(vm, t);
    case 'status':
      return showStatus(vm, t);
    case 'statm':
      return showStatm(t);
    case 'stat':
      return showStat(vm, t);
    case 'smaps':
      return showSmaps(vm, t);
    default:
      return showSmapsRollup(vm, t);
  }
}
