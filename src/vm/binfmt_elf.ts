/**
 * execve() of an ELF64 x86-64 file (fs/exec.c, fs/binfmt_elf.c,
 * arch/x86/entry/vdso/vma.c, arch/x86/mm/mmap.c): a new mm with the
 * PT_LOAD segments mapped from the file, the bss, the brk, [vvar],
 * [vvar_vclock], [vdso] and the stack with argv, envp and the auxiliary
 * vector. Static executables (ET_EXEC, and ET_DYN without PT_INTERP at
 * ELF_ET_DYN_BASE); no interpreter yet. No randomization yet (aslr 0).
 */
import type { Task } from './fork.js';
import { exitMmap, mmAlloc } from './fork.js';
import { type Mm, PAGE_SIZE, STACK_GUARD_GAP, STACK_TOP, TASK_SIZE, VMA, VMA_OPS_VDSO, VMA_OPS_VVAR, VMA_OPS_VVAR_VCLOCK } from './mm_types.js';
import { EIO, ENOENT, ENOEXEC, ENOMEM, VM } from './mman.js';
import { getUnmappedArea } from './mmap.js';
import { VDSO_PAGES } from './vdso.js';
import type { Vm } from './vm.js';
import { insertVma, syncMapleNodes, vmAreaAlloc, vmaSetFile } from './vma.js';

const PT_LOAD = 1;
const PT_INTERP = 3;
/** ELIBBAD: the interpreter is not a valid ELF */
const ELIBBAD = 80;
const PF_X = 1;
const PF_W = 2;
const PF_R = 4;
const ET_EXEC = 2;
const ET_DYN = 3;
const EM_X86_64 = 62;
/** ELF_ET_DYN_BASE on x86-64: 2/3 of DEFAULT_MAP_WINDOW, page aligned */
export const ELF_ET_DYN_BASE = 0x555555554aaa - (0x555555554aaa % PAGE_SIZE);
const SIZE_128M = 128 * 1024 * 1024;
/** kmem's files are on a file system without huge pages: no THP alignment of the image */
const MAP_NO_THP = 0x40000000;
/** STACK_RND_MASK on x86-64: 22 bits of pages */
const STACK_RND_MASK = 0x3fffff;
const PF_RANDOMIZE = 0x400000;
/** The vDSO image (src/vm/vdso.ts): 2 pages, vvar_start -6 pages ([vvar] 4 pages, [vvar_vclock] 2). */
const VDSO_TEXT_PAGES = VDSO_PAGES;
const VVAR_PAGES = 4;
const VVAR_VCLOCK_PAGES = 2;

const pageStart = (x: number) => x - (x % PAGE_SIZE);
const pageAlign = (x: number) => Math.ceil(x / PAGE_SIZE) * PAGE_SIZE;

interface Phdr {
  type: number;
  flags: number;
  offset: number;
  vaddr: number;
  filesz: number;
  memsz: number;
  align: number;
}

/** execve(2) for task t: 0, or -errno with the task's old address space intact when the error comes before the point of no return. */
export function execve(vm: Vm, t: Task, path: string, argv: string[], envp: string[]): number {
  const inode = vm.fs.lookup(path);
  if (inode === undefined) return -ENOENT;
  const hdr = parseElf(inode.data);
  if (typeof hdr === 'number') return hdr;
  const { type, phoff, phnum, phdrs, dv } = hdr;
  // PT_INTERP: the interpreter's path, read and checked before the point of no return.
  let interp: ParsedElf | null = null;
  let interpIno = 0;
  const ip = phdrs.find((p) => p.type === PT_INTERP);
  if (ip !== undefined) {
    if (ip.filesz < 2 || ip.offset + ip.filesz > inode.data.length) return -ENOEXEC;
    const raw = inode.data.subarray(ip.offset, ip.offset + ip.filesz);
    if (raw[raw.length - 1] !== 0) return -ENOEXEC;
    const ii = vm.fs.lookup(new TextDecoder().decode(raw.subarray(0, raw.length - 1)));
    if (ii === undefined) return -ENOENT;
    const ih = parseElf(ii.data);
    if (typeof ih === 'number') return ih === -ENOEXEC ? -ELIBBAD : ih;
    if (!ih.phdrs.some((p) => p.type === PT_LOAD)) return -ELIBBAD;
    interp = ih;
    interpIno = ii.ino;
  }
  const loads = phdrs.filter((p) => p.type === PT_LOAD);
  if (loads.length === 0) return -ENOEXEC;
  // Point of no return: exec_mmap() swaps in a fresh mm; the old one goes.
  const mm = mmAlloc(vm);
  const old = t.mm;
  t.mm = mm;
  if (old !== null) exitMmap(vm, old);
  t.comm = path.slice(path.lastIndexOf('/') + 1).slice(0, 15);
  t.flags &= ~0x40; // PF_FORKNOEXEC
  // setup_new_exec() -> arch_pick_mmap_layout(): mmap_base below the stack's rlimit and guard gap.
  // PF_RANDOMIZE when randomize_va_space is on (kmem runs nothing under setarch -R).
  const randomize = vm.aslr > 0;
  if (randomize) t.flags |= PF_RANDOMIZE;
  else t.flags &= ~PF_RANDOMIZE;
  const rand = () => vm.k.rand32();
  // mmap_base(): the gap leaves room for the stack's rlimit, its random offset and the guard gap.
  let gap = mm.stackRlimit + STACK_GUARD_GAP + (randomize ? STACK_RND_MASK * PAGE_SIZE : 0);
  gap = Math.min(Math.max(gap, SIZE_128M), (TASK_SIZE / 6) * 5);
  // arch_mmap_rnd(): mmap_rnd_bits = 28 pages of entropy.
  const mmapRnd = randomize ? (rand() & 0xfffffff) * PAGE_SIZE : 0;
  mm.mmapBase = pageAlign(TASK_SIZE - gap - mmapRnd);
  // __bprm_mm_init() + copy_strings(): the stack's first page and the strings at its top.
  // randomize_stack_top() (STACK_RND_MASK pages), then setup_arg_pages()'s arch_align_stack() and PAGE_ALIGN.
  let stackTop = STACK_TOP;
  if (randomize) {
    stackTop -= (rand() & STACK_RND_MASK) * PAGE_SIZE;
    let st = stackTop - (rand() % 8192);
    st -= st % 16;
    stackTop = pageAlign(st);
  }
  const sv = vmAreaAlloc(vm, mm, stackTop - PAGE_SIZE, stackTop, VM.STACK_FLAGS | VM.SOFTDIRTY, (stackTop - PAGE_SIZE) / PAGE_SIZE);
  insertVma(vm, mm, sv);
  vm.statAccount(mm, VM.STACK_FLAGS, 1);
  const enc = new TextEncoder();
  let p = stackTop - 8;
  const strings = [path, ...[...envp].reverse(), ...[...argv].reverse()];
  const need = strings.reduce((n, s) => n + enc.encode(s).length + 1, 8);
  // The VMA grows down to hold the strings (get_arg_page's expand).
  const strBase = pageStart(stackTop - need);
  growStack(vm, mm, sv, strBase);
  const addrs: number[] = [];
  for (const s of strings) {
    const b = enc.encode(`${s}\0`);
    p -= b.length;
    t.writeBytes(p, b);
    addrs.push(p);
  }
  const execfn = addrs[0]!;
  const envAddrs = addrs.slice(1, 1 + envp.length).reverse();
  const argAddrs = addrs.slice(1 + envp.length).reverse();
  mm.argStart = argAddrs[0] ?? p;
  mm.argEnd = envAddrs[0] ?? execfn;
  mm.envStart = envAddrs[0] ?? execfn;
  mm.envEnd = execfn;
  // setup_arg_pages(): no shift without randomization; then stack_expand (128 KiB) below.
  const stackBase = s_start(vm, sv) - 128 * 1024;
  growStack(vm, mm, sv, stackBase);
  mm.startStack = p;
  // The PT_LOAD segments.
  // ET_DYN: with an interpreter or an alignment above a page, at ELF_ET_DYN_BASE (+ arch_mmap_rnd());
  // a static PIE with page alignment goes where the mmap layout puts the whole image (top-down).
  let loadBias = 0;
  if (type === ET_DYN) {
    const first = loads[0]!;
    const last = loads[loads.length - 1]!;
    const total = pageAlign(last.vaddr + last.memsz) - pageStart(first.vaddr);
    let align = 0;
    for (const ph of loads) if (ph.align > align && (ph.align & (ph.align - 1)) === 0) align = ph.align;
    if (interp !== null || align > PAGE_SIZE) {
      loadBias = ELF_ET_DYN_BASE + (randomize ? (rand() & 0xfffffff) * PAGE_SIZE : 0);
      loadBias -= loadBias % align;
    } else {
      const a = getUnmappedArea(vm, mm, 0, total, MAP_NO_THP);
      if (a < 0) return -ENOMEM;
      loadBias = a - pageStart(first.vaddr);
    }
  }
  const { startCode, endCode, startData, endData, elfBrk } = mapSegments(vm, t, mm, inode.ino, loads, loadBias);
  mm.startCode = startCode === Number.MAX_SAFE_INTEGER ? 0 : startCode;
  mm.endCode = endCode;
  mm.startData = startData;
  mm.endData = endData;
  mm.startBrk = mm.brk = pageAlign(elfBrk);
  if (randomize && vm.aslr > 1) {
    // A static PIE's brk starts at ELF_ET_DYN_BASE; otherwise a page of gap above the bss.
    // Then arch_randomize_brk(): randomize_page(brk, 32 MiB).
    const b = type === ET_DYN ? ELF_ET_DYN_BASE : mm.brk + PAGE_SIZE;
    mm.startBrk = mm.brk = b + (rand() % (0x2000000 / PAGE_SIZE)) * PAGE_SIZE;
  }
  // load_elf_interp(): the interpreter where the mmap layout puts its whole image.
  let interpBase = 0;
  if (interp !== null) {
    const il = interp.phdrs.filter((p) => p.type === PT_LOAD);
    const first = il[0]!;
    const last = il[il.length - 1]!;
    const total = pageAlign(last.vaddr + last.memsz) - pageStart(first.vaddr);
    const a = getUnmappedArea(vm, mm, 0, total, MAP_NO_THP);
    if (a < 0) return -ENOMEM;
    interpBase = a - pageStart(first.vaddr);
    mapSegments(vm, t, mm, interpIno, il, interpBase);
  }
  // map_vdso(): [vvar] [vvar_vclock] [vdso], top-down in the mmap area.
  const vdsoLen = (VVAR_PAGES + VVAR_VCLOCK_PAGES + VDSO_TEXT_PAGES) * PAGE_SIZE;
  const va = getUnmappedArea(vm, mm, 0, vdsoLen, 0);
  if (va < 0) return -ENOMEM;
  const special = VM.DONTEXPAND | VM.SOFTDIRTY;
  const vvarFlags = VM.READ | VM.MAYREAD | VM.IO | VM.DONTDUMP | VM.PFNMAP | special;
  specialMapping(vm, mm, va, va + VVAR_PAGES * PAGE_SIZE, vvarFlags, VMA_OPS_VVAR);
  specialMapping(vm, mm, va + VVAR_PAGES * PAGE_SIZE, va + (VVAR_PAGES + VVAR_VCLOCK_PAGES) * PAGE_SIZE, vvarFlags, VMA_OPS_VVAR_VCLOCK);
  const vdso = va + (VVAR_PAGES + VVAR_VCLOCK_PAGES) * PAGE_SIZE;
  specialMapping(vm, mm, vdso, vdso + VDSO_TEXT_PAGES * PAGE_SIZE, VM.READ | VM.EXEC | VM.MAYREAD | VM.MAYWRITE | VM.MAYEXEC | special, VMA_OPS_VDSO);
  mm.updateHiwaterVm();
  // create_elf_tables(): platform string, AT_RANDOM bytes, then argc, argv, envp and auxv.
  // arch_align_stack()
  if (randomize) p -= rand() % 8192;
  p -= p % 16;
  const platform = enc.encode('x86_64\0');
  p -= platform.length;
  t.writeBytes(p, platform);
  const uPlatform = p;
  p -= 16;
  const randBytes = new Uint8Array(16);
  for (let i = 0; i < 16; i++) randBytes[i] = vm.k.rand32() & 0xff;
  t.writeBytes(p, randBytes);
  const uRand = p;
  const phdrAddr = loads.length > 0 ? loadBias + loads[0]!.vaddr - loads[0]!.offset + phoff : 0;
  const entry = Number(dv.getBigUint64(24, true)) + loadBias;
  const auxv: [number, number][] = [
    [33, vdso], // AT_SYSINFO_EHDR: the vDSO image's ELF header (src/vm/vdso.ts)
    [51, 0xd30], // AT_MINSIGSTKSZ
    [16, 0x178bfbff], // AT_HWCAP
    [6, PAGE_SIZE], // AT_PAGESZ
    [17, 100], // AT_CLKTCK
    [3, phdrAddr], // AT_PHDR
    [4, 56], // AT_PHENT
    [5, phnum], // AT_PHNUM
    [7, interp !== null ? interpBase : 0], // AT_BASE
    [8, 0], // AT_FLAGS
    [9, entry], // AT_ENTRY
    [11, 0],
    [12, 0],
    [13, 0],
    [14, 0], // AT_UID AT_EUID AT_GID AT_EGID
    [23, 0], // AT_SECURE
    [25, uRand], // AT_RANDOM
    [26, 2], // AT_HWCAP2
    [31, execfn], // AT_EXECFN
    [15, uPlatform], // AT_PLATFORM
    [27, 28], // AT_RSEQ_FEATURE_SIZE
    [28, 32], // AT_RSEQ_ALIGN
    [0, 0], // AT_NULL
  ];
  const items = argv.length + 1 + envp.length + 1 + 1;
  let sp = p - auxv.length * 16;
  sp = sp - items * 8;
  sp -= sp % 16;
  let w = sp;
  t.write64(w, argv.length);
  w += 8;
  for (const a of argAddrs) {
    t.write64(w, a);
    w += 8;
  }
  t.write64(w, 0);
  w += 8;
  for (const e of envAddrs) {
    t.write64(w, e);
    w += 8;
  }
  t.write64(w, 0);
  w += 8;
  for (const [k, v] of auxv) {
    t.write64(w, k);
    t.write64(w + 8, v);
    w += 16;
  }
  mm.savedAuxv = auxv.flat();
  syncMapleNodes(vm, mm);
  return 0;
}

function s_start(vm: Vm, v: number): number {
  return vm.s.vmStart(v);
}

/** Grow the stack VMA down to addr (expand_downwards without the checks exec does not need). */
function growStack(vm: Vm, mm: Mm, v: number, addr: number): void {
  const start = vm.s.vmStart(v);
  if (addr >= start) return;
  const grow = (start - addr) / PAGE_SIZE;
  vm.s.set64(v, VMA.START, addr);
  vm.s.set64(v, VMA.PGOFF, vm.s.vmPgoff(v) - grow);
  vm.statAccount(mm, vm.s.vmFlags(v), grow);
}

/** A private file mapping of [start, end) at pgoff (elf_map()'s vm_mmap). */
function mapFile(vm: Vm, mm: Mm, start: number, end: number, flags: number, ino: number, pgoff: number): void {
  // accountable_mapping(): a private writable mapping is charged.
  if ((flags & (VM.NORESERVE | VM.SHARED | VM.WRITE)) === VM.WRITE) flags |= VM.ACCOUNT;
  const v = vmAreaAlloc(vm, mm, start, end, flags, pgoff);
  vmaSetFile(vm, v, ino);
  insertVma(vm, mm, v);
  vm.statAccount(mm, flags, (end - start) / PAGE_SIZE);
}

/** _install_special_mapping() */
function specialMapping(vm: Vm, mm: Mm, start: number, end: number, flags: number, ops: number): void {
  const v = vmAreaAlloc(vm, mm, start, end, flags, 0);
  vm.s.set64(v, VMA.OPS, ops);
  insertVma(vm, mm, v);
  vm.statAccount(mm, flags, (end - start) / PAGE_SIZE);
}

interface ParsedElf {
  type: number;
  phoff: number;
  phnum: number;
  phdrs: Phdr[];
  dv: DataView;
}

/** load_elf_binary()'s and load_elf_interp()'s checks on the ELF header; the program headers. */
function parseElf(f: Uint8Array): ParsedElf | number {
  // load_elf_binary()'s checks on the header.
  if (f.length < 4 || f[0] !== 0x7f || f[1] !== 0x45 || f[2] !== 0x4c || f[3] !== 0x46) return -ENOEXEC;
  if (f.length < 64) return -ENOEXEC;
  const dv = new DataView(f.buffer, f.byteOffset, f.byteLength);
  const type = dv.getUint16(16, true);
  if (type !== ET_EXEC && type !== ET_DYN) return -ENOEXEC;
  if (dv.getUint16(18, true) !== EM_X86_64 || f[4] !== 2) return -ENOEXEC;
  const phentsize = dv.getUint16(54, true);
  const phnum = dv.getUint16(56, true);
  if (phentsize !== 56 || phnum < 1 || phnum * 56 > 65536) return -ENOEXEC;
  const phoff = Number(dv.getBigUint64(32, true));
  // elf_read(): a short read of the program headers is -EIO.
  if (phoff + phnum * 56 > f.length) return -EIO;
  const phdrs: Phdr[] = [];
  for (let i = 0; i < phnum; i++) {
    const o = phoff + i * 56;
    phdrs.push({
      type: dv.getUint32(o, true),
      flags: dv.getUint32(o + 4, true),
      offset: Number(dv.getBigUint64(o + 8, true)),
      vaddr: Number(dv.getBigUint64(o + 16, true)),
      filesz: Number(dv.getBigUint64(o + 32, true)),
      memsz: Number(dv.getBigUint64(o + 40, true)),
      align: Number(dv.getBigUint64(o + 48, true)),
    });
  }
  for (const p of phdrs) if (p.type === PT_LOAD && (p.filesz > p.memsz || p.vaddr % PAGE_SIZE !== p.offset % PAGE_SIZE)) return -ENOEXEC;
  return { type, phoff, phnum, phdrs, dv };
}

interface Bounds {
  startCode: number;
  endCode: number;
  startData: number;
  endData: number;
  elfBrk: number;
}

/** elf_load() for each PT_LOAD: the file mapping, padzero() of the last file page, vm_brk_flags() for the rest of the bss. */
function mapSegments(vm: Vm, t: Task, mm: Mm, ino: number, loads: Phdr[], loadBias: number): Bounds {
  let startCode = Number.MAX_SAFE_INTEGER;
  let endCode = 0;
  let startData = 0;
  let endData = 0;
  let elfBrk = 0;
  for (const ph of loads) {
    const prot = ph.flags & 7;
    let flags = (prot & PF_R ? VM.READ : 0) | (prot & PF_W ? VM.WRITE : 0) | (prot & PF_X ? VM.EXEC : 0);
    flags |= VM.MAYREAD | VM.MAYWRITE | VM.MAYEXEC | VM.SOFTDIRTY;
    const vaddr = ph.vaddr + loadBias;
    const mapStart = pageStart(vaddr);
    const off = ph.offset - (vaddr - mapStart);
    if (ph.filesz > 0) {
      const mapEnd = pageAlign(vaddr + ph.filesz);
      mapFile(vm, mm, mapStart, mapEnd, flags, ino, off / PAGE_SIZE);
      if (ph.memsz > ph.filesz) {
        // padzero(): zero the rest of the last file page (a write: the page is copied).
        const zs = vaddr + ph.filesz;
        const n = mapEnd - zs;
        if (n > 0 && (prot & PF_W) !== 0) t.writeBytes(zs, new Uint8Array(n));
      }
    }
    if (ph.memsz > ph.filesz) {
      // vm_brk_flags(): the anonymous rest of the bss.
      const zs = pageAlign(vaddr + ph.filesz);
      const ze = pageAlign(vaddr + ph.memsz);
      if (ze > zs) {
        const bf = VM.READ | VM.WRITE | VM.MAYREAD | VM.MAYWRITE | VM.MAYEXEC | VM.ACCOUNT | VM.SOFTDIRTY | (prot & PF_X ? VM.EXEC : 0);
        const v = vmAreaAlloc(vm, mm, zs, ze, bf, zs / PAGE_SIZE);
        insertVma(vm, mm, v);
        mm.totalVm += (ze - zs) / PAGE_SIZE;
        mm.dataVm += (ze - zs) / PAGE_SIZE;
      }
    }
    if ((ph.flags & PF_X) !== 0 && vaddr < startCode) startCode = vaddr;
    if (startData < vaddr) startData = vaddr;
    const k = vaddr + ph.filesz;
    if ((ph.flags & PF_X) !== 0 && endCode < k) endCode = k;
    if (endData < k) endData = k;
    if (vaddr + ph.memsz > elfBrk) elfBrk = vaddr + ph.memsz;
  }
  return { startCode, endCode, startData, endData, elfBrk };
}
