/**
 * The vDSO (arch/x86/entry/vdso/): the small shared object every process
 * gets at exec, mapped as [vdso] with AT_SYSINFO_EHDR in its auxiliary
 * vector pointing at it.
 *
 * kmem's image is its own, built here byte by byte (never the kernel's
 * bytes): an ELF64 ET_DYN object linked at 0 that fits the 2 pages 6.18
 * maps, laid out as a libc expects to find the real one: program headers
 * PT_LOAD (the whole image, r-x), PT_DYNAMIC, PT_NOTE (the "Linux" note
 * with LINUX_VERSION_CODE) and PT_GNU_EH_FRAME (an .eh_frame_hdr with no
 * FDEs); a dynamic section with DT_SONAME linux-vdso.so.1, DT_HASH,
 * DT_GNU_HASH, DT_SYMTAB, DT_STRTAB, DT_VERSYM and DT_VERDEF (version LINUX_2.6, the
 * base version linux-vdso.so.1); section headers naming each part. The
 * symbols are __vdso_clock_gettime, __vdso_gettimeofday, __vdso_time,
 * __vdso_getcpu and __vdso_clock_getres with their weak aliases
 * clock_gettime, gettimeofday, time, getcpu and clock_getres, all at
 * LINUX_2.6. Each function is the vDSO's own fallback path and nothing
 * else: `mov eax, NR; syscall; ret` (kmem has no vvar time data to read).
 * No __vdso_getrandom (its state-buffer contract has no syscall-only form).
 *
 * The image's pages come from the page allocator the first time a process
 * faults on its [vdso] (the kernel's live in the kernel image), are
 * PG_reserved with a reference of their own, and are never freed.
 */
import { PG } from '../memory/page.js';
import { GFP_KERNEL } from '../page_alloc/gfp.js';
import type { Vm } from './vm.js';

/** The [vdso] VMA's pages on 6.18 x86-64 (vdso_image_64.size rounded up). */
export const VDSO_PAGES = 2;
/** KERNEL_VERSION(6, 18, 0): kmem models 6.18.0 (UTS_RELEASE 6.18.0-kmem). */
export const LINUX_VERSION_CODE = (6 << 16) | (18 << 8) | 0;

const PT_LOAD = 1;
const PT_DYNAMIC = 2;
const PT_NOTE = 4;
const PT_GNU_EH_FRAME = 0x6474e550;
const DT = {
  NULL: 0,
  HASH: 4,
  GNU_HASH: 0x6ffffef5,
  STRTAB: 5,
  SYMTAB: 6,
  STRSZ: 10,
  SYMENT: 11,
  SONAME: 14,
  FLAGS: 30,
  VERSYM: 0x6ffffff0,
  FLAGS_1: 0x6ffffffb,
  VERDEF: 0x6ffffffc,
  VERDEFNUM: 0x6ffffffd,
};
const SHT = { GNU_HASH: 0x6ffffff6, NULL: 0, PROGBITS: 1, STRTAB: 3, HASH: 5, DYNAMIC: 6, NOTE: 7, DYNSYM: 11, VERDEF: 0x6ffffffd, VERSYM: 0x6fffffff };
const SHF_WRITE = 1;
const SHF_ALLOC = 2;
const SHF_EXECINSTR = 4;
const STB_GLOBAL = 1;
const STB_WEAK = 2;
const STT_OBJECT = 1;
const STT_FUNC = 2;
const SHN_ABS = 0xfff1;

/** The functions: name, x86-64 system call number of the fallback. */
const FUNCS: [string, number][] = [
  ['clock_gettime', 228],
  ['gettimeofday', 96],
  ['time', 201],
  ['getcpu', 309],
  ['clock_getres', 229],
];

/** The GNU hash (DT_GNU_HASH): h = h * 33 + c from 5381, 32 bits. */
export function gnuHash(name: string): number {
  let h = 5381;
  for (let i = 0; i < name.length; i++) h = (Math.imul(h, 33) + name.charCodeAt(i)) >>> 0;
  return h;
}

/** The System V ELF hash (the one DT_HASH buckets by and vd_hash holds). */
export function elfHash(name: string): number {
  let h = 0;
  for (let i = 0; i < name.length; i++) {
    h = ((h << 4) + name.charCodeAt(i)) >>> 0;
    const g = h & 0xf0000000;
    if (g !== 0) h ^= g >>> 24;
    h = (h & ~g) >>> 0;
  }
  return h;
}

let image: Uint8Array | null = null;

/**
 * The image, built once: every offset below is both the file offset and
 * the address relative to the load base (one PT_LOAD at 0).
 */
export function vdsoImage(): Uint8Array {
  if (image !== null) return image;
  const out = new Uint8Array(VDSO_PAGES * 4096);
  const dv = new DataView(out.buffer);
  const enc = new TextEncoder();
  const align = (x: number, a: number) => Math.ceil(x / a) * a;
  // .dynstr: "" then the names.
  const strs = [''];
  const str = (s: string) => {
    let off = 0;
    for (const x of strs) {
      if (x === s) return off;
      off += enc.encode(x).length + 1;
    }
    strs.push(s);
    return off;
  };
  const soname = str('linux-vdso.so.1');
  const version = str('LINUX_2.6');
  // The symbols: null, each function's __vdso_ name (global) and plain name (weak), the version's ABS symbol.
  const syms: { name: number; text: string; info: number; shndx: number; fn: number }[] = [];
  FUNCS.forEach(([n], i) => {
    syms.push({ name: str(`__vdso_${n}`), text: `__vdso_${n}`, info: (STB_GLOBAL << 4) | STT_FUNC, shndx: 0, fn: i });
    syms.push({ name: str(n), text: n, info: (STB_WEAK << 4) | STT_FUNC, shndx: 0, fn: i });
  });
  syms.push({ name: version, text: 'LINUX_2.6', info: (STB_GLOBAL << 4) | STT_OBJECT, shndx: SHN_ABS, fn: -1 });
  // DT_GNU_HASH wants the hashed symbols (all but the null one) grouped by bucket.
  const GNU_NBUCKET = 3;
  syms.sort((a, b) => (gnuHash(a.text) % GNU_NBUCKET) - (gnuHash(b.text) % GNU_NBUCKET));
  syms.unshift({ name: 0, text: '', info: 0, shndx: 0, fn: -1 });
  const dynstr = new Uint8Array(strs.reduce((n, s) => n + enc.encode(s).length + 1, 0));
  {
    let o = 0;
    for (const s of strs) {
      dynstr.set(enc.encode(s), o);
      o += enc.encode(s).length + 1;
    }
  }
  const nbucket = 3;
  const phnum = 4;
  // Layout.
  const hashOff = 64 + phnum * 56;
  const hashSize = (2 + nbucket + syms.length) * 4;
  // .gnu.hash: nbuckets, symoffset 1, one 64-bit bloom word (shift 6), buckets, a chain word per hashed symbol.
  const gnuHashOff = align(hashOff + hashSize, 8);
  const gnuHashSize = 16 + 8 + GNU_NBUCKET * 4 + (syms.length - 1) * 4;
  const dynsymOff = align(gnuHashOff + gnuHashSize, 8);
  const dynstrOff = dynsymOff + syms.length * 24;
  const versymOff = align(dynstrOff + dynstr.length, 2);
  const verdefOff = align(versymOff + syms.length * 2, 8);
  const verdefSize = 2 * (20 + 8);
  const dynOff = align(verdefOff + verdefSize, 8);
  const dyn: [number, number][] = [
    [DT.SONAME, soname],
    [DT.HASH, hashOff],
    [DT.GNU_HASH, gnuHashOff],
    [DT.STRTAB, dynstrOff],
    [DT.SYMTAB, dynsymOff],
    [DT.STRSZ, dynstr.length],
    [DT.SYMENT, 24],
    [DT.VERSYM, versymOff],
    [DT.VERDEF, verdefOff],
    [DT.VERDEFNUM, 2],
    [DT.FLAGS, 0x2 | 0x8], // DF_SYMBOLIC | DF_BIND_NOW
    [DT.FLAGS_1, 0x1], // DF_1_NOW
    [DT.NULL, 0],
  ];
  const noteOff = align(dynOff + dyn.length * 16, 4);
  const noteSize = 12 + 8 + 4; // namesz, descsz, type; "Linux\0" padded to 8; the version code
  const ehHdrOff = align(noteOff + noteSize, 4);
  const ehHdrSize = 12;
  const ehFrameOff = align(ehHdrOff + ehHdrSize, 8);
  const ehFrameSize = 4; // the zero terminator: no CIE, no FDE
  const textOff = align(ehFrameOff + ehFrameSize, 16);
  const FN = 16;
  const textSize = FUNCS.length * FN;
  const loadEnd = textOff + textSize;
  const shstrs = [
    '',
    '.hash',
    '.dynsym',
    '.dynstr',
    '.gnu.version',
    '.gnu.version_d',
    '.dynamic',
    '.note',
    '.eh_frame_hdr',
    '.eh_frame',
    '.text',
    '.shstrtab',
    '.gnu.hash',
  ];
  const shstrtabOff = loadEnd;
  const shstrtab = enc.encode(`${shstrs.join('\0')}\0`);
  const shOff = align(shstrtabOff + shstrtab.length, 8);
  if (shOff + shstrs.length * 64 > out.length) throw new Error('kmem: the vDSO image outgrew its pages');
  const TEXT_NDX = shstrs.indexOf('.text');
  // ELF header.
  out.set([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0]); // ELFCLASS64, ELFDATA2LSB, EV_CURRENT, ELFOSABI_SYSV
  dv.setUint16(16, 3, true); // ET_DYN
  dv.setUint16(18, 62, true); // EM_X86_64
  dv.setUint32(20, 1, true);
  dv.setBigUint64(24, 0n, true); // e_entry: none
  dv.setBigUint64(32, 64n, true); // e_phoff
  dv.setBigUint64(40, BigInt(shOff), true);
  dv.setUint16(52, 64, true);
  dv.setUint16(54, 56, true);
  dv.setUint16(56, phnum, true);
  dv.setUint16(58, 64, true);
  dv.setUint16(60, shstrs.length, true);
  dv.setUint16(62, shstrs.indexOf('.shstrtab'), true);
  // Program headers.
  const ph = (i: number, type: number, flags: number, off: number, size: number, al: number) => {
    const o = 64 + i * 56;
    dv.setUint32(o, type, true);
    dv.setUint32(o + 4, flags, true);
    for (const [k, v] of [
      [8, off],
      [16, off],
      [24, off],
      [32, size],
      [40, size],
      [48, al],
    ] as const)
      dv.setBigUint64(o + k, BigInt(v), true);
  };
  ph(0, PT_LOAD, 5, 0, loadEnd, 4096);
  ph(1, PT_DYNAMIC, 4, dynOff, dyn.length * 16, 8);
  ph(2, PT_NOTE, 4, noteOff, noteSize, 4);
  ph(3, PT_GNU_EH_FRAME, 4, ehHdrOff, ehHdrSize, 4);
  // .hash: nbucket, nchain, buckets, chains; each chain links symbols of one bucket, newest first.
  dv.setUint32(hashOff, nbucket, true);
  dv.setUint32(hashOff + 4, syms.length, true);
  const bucket = (b: number) => hashOff + 8 + b * 4;
  const chain = (i: number) => hashOff + 8 + nbucket * 4 + i * 4;
  for (let i = 1; i < syms.length; i++) {
    const b = elfHash(syms[i]!.text) % nbucket;
    dv.setUint32(chain(i), dv.getUint32(bucket(b), true), true);
    dv.setUint32(bucket(b), i, true);
  }
  // .gnu.hash: a symbol's bucket holds the first symbol of its group; its chain word is its hash with
  // bit 0 marking the group's last; the bloom word has two bits per symbol (hash and hash >> shift).
  dv.setUint32(gnuHashOff, GNU_NBUCKET, true);
  dv.setUint32(gnuHashOff + 4, 1, true);
  dv.setUint32(gnuHashOff + 8, 1, true);
  dv.setUint32(gnuHashOff + 12, 6, true);
  let bloom = 0n;
  const gBuckets = gnuHashOff + 24;
  const gChain = gBuckets + GNU_NBUCKET * 4;
  for (let i = 1; i < syms.length; i++) {
    const h = gnuHash(syms[i]!.text);
    bloom |= (1n << BigInt(h % 64)) | (1n << BigInt((h >>> 6) % 64));
    const b = h % GNU_NBUCKET;
    if (dv.getUint32(gBuckets + b * 4, true) === 0) dv.setUint32(gBuckets + b * 4, i, true);
    const last = i === syms.length - 1 || gnuHash(syms[i + 1]!.text) % GNU_NBUCKET !== b;
    dv.setUint32(gChain + (i - 1) * 4, ((h & ~1) | (last ? 1 : 0)) >>> 0, true);
  }
  dv.setBigUint64(gnuHashOff + 16, bloom, true);
  // .dynsym and .gnu.version (every defined symbol at version index 2, LINUX_2.6).
  syms.forEach((s, i) => {
    const o = dynsymOff + i * 24;
    dv.setUint32(o, s.name, true);
    out[o + 4] = s.info;
    out[o + 5] = 0; // STV_DEFAULT
    dv.setUint16(o + 6, s.fn >= 0 ? TEXT_NDX : s.shndx, true);
    dv.setBigUint64(o + 8, BigInt(s.fn >= 0 ? textOff + s.fn * FN : 0), true);
    dv.setBigUint64(o + 16, BigInt(s.fn >= 0 ? 8 : 0), true);
    dv.setUint16(versymOff + i * 2, i === 0 ? 0 : 2, true);
  });
  out.set(dynstr, dynstrOff);
  // .gnu.version_d: the base version (index 1, VER_FLG_BASE) named by the soname, then LINUX_2.6 (index 2).
  const verdef = (o: number, flags: number, ndx: number, name: number, text: string, last: boolean) => {
    dv.setUint16(o, 1, true); // VER_DEF_CURRENT
    dv.setUint16(o + 2, flags, true);
    dv.setUint16(o + 4, ndx, true);
    dv.setUint16(o + 6, 1, true); // one Verdaux
    dv.setUint32(o + 8, elfHash(text), true);
    dv.setUint32(o + 12, 20, true); // vd_aux
    dv.setUint32(o + 16, last ? 0 : 28, true); // vd_next
    dv.setUint32(o + 20, name, true); // vda_name
    dv.setUint32(o + 24, 0, true); // vda_next
  };
  verdef(verdefOff, 1, 1, soname, 'linux-vdso.so.1', false);
  verdef(verdefOff + 28, 0, 2, version, 'LINUX_2.6', true);
  // .dynamic
  dyn.forEach(([tag, val], i) => {
    dv.setBigInt64(dynOff + i * 16, BigInt(tag), true);
    dv.setBigUint64(dynOff + i * 16 + 8, BigInt(val), true);
  });
  // .note: ELFNOTE32("Linux", 0, LINUX_VERSION_CODE)
  dv.setUint32(noteOff, 6, true);
  dv.setUint32(noteOff + 4, 4, true);
  dv.setUint32(noteOff + 8, 0, true);
  out.set(enc.encode('Linux\0'), noteOff + 12);
  dv.setUint32(noteOff + 20, LINUX_VERSION_CODE, true);
  // .eh_frame_hdr: version 1, eh_frame_ptr pcrel|sdata4, fde_count udata4, table datarel|sdata4; no FDEs.
  out.set([1, 0x1b, 0x03, 0x3b], ehHdrOff);
  dv.setInt32(ehHdrOff + 4, ehFrameOff - (ehHdrOff + 4), true);
  dv.setUint32(ehHdrOff + 8, 0, true);
  // .text: mov eax, imm32; syscall; ret -- padded with int3.
  out.fill(0xcc, textOff, loadEnd);
  FUNCS.forEach(([, nr], i) => {
    const o = textOff + i * FN;
    out[o] = 0xb8;
    dv.setUint32(o + 1, nr, true);
    out.set([0x0f, 0x05, 0xc3], o + 5);
  });
  out.set(shstrtab, shstrtabOff);
  // Section headers.
  const sh = (i: number, type: number, flags: number, off: number, size: number, link: number, info: number, al: number, entsize: number) => {
    const o = shOff + i * 64;
    let n = 0;
    for (let j = 0; j < i; j++) n += enc.encode(shstrs[j]!).length + 1;
    dv.setUint32(o, n, true);
    dv.setUint32(o + 4, type, true);
    dv.setBigUint64(o + 8, BigInt(flags), true);
    dv.setBigUint64(o + 16, BigInt(flags & SHF_ALLOC ? off : 0), true);
    dv.setBigUint64(o + 24, BigInt(off), true);
    dv.setBigUint64(o + 32, BigInt(size), true);
    dv.setUint32(o + 40, link, true);
    dv.setUint32(o + 44, info, true);
    dv.setBigUint64(o + 48, BigInt(al), true);
    dv.setBigUint64(o + 56, BigInt(entsize), true);
  };
  const DYNSYM = 2;
  const DYNSTR = 3;
  sh(1, SHT.HASH, SHF_ALLOC, hashOff, hashSize, DYNSYM, 0, 8, 4);
  sh(DYNSYM, SHT.DYNSYM, SHF_ALLOC, dynsymOff, syms.length * 24, DYNSTR, 1, 8, 24);
  sh(DYNSTR, SHT.STRTAB, SHF_ALLOC, dynstrOff, dynstr.length, 0, 0, 1, 0);
  sh(4, SHT.VERSYM, SHF_ALLOC, versymOff, syms.length * 2, DYNSYM, 0, 2, 2);
  sh(5, SHT.VERDEF, SHF_ALLOC, verdefOff, verdefSize, DYNSTR, 2, 8, 0);
  sh(6, SHT.DYNAMIC, SHF_ALLOC | SHF_WRITE, dynOff, dyn.length * 16, DYNSTR, 0, 8, 16);
  sh(7, SHT.NOTE, SHF_ALLOC, noteOff, noteSize, 0, 0, 4, 0);
  sh(8, SHT.PROGBITS, SHF_ALLOC, ehHdrOff, ehHdrSize, 0, 0, 4, 0);
  sh(9, SHT.PROGBITS, SHF_ALLOC, ehFrameOff, ehFrameSize, 0, 0, 8, 0);
  sh(TEXT_NDX, SHT.PROGBITS, SHF_ALLOC | SHF_EXECINSTR, textOff, textSize, 0, 0, 16, 0);
  sh(11, SHT.STRTAB, 0, shstrtabOff, shstrtab.length, 0, 0, 1, 0);
  sh(12, SHT.GNU_HASH, SHF_ALLOC, gnuHashOff, gnuHashSize, DYNSYM, 0, 8, 0);
  image = out;
  return out;
}

const vdsoPfns = new WeakMap<Vm, number[]>();

/**
 * vdso_fault()'s page: the frame holding page i of the image in this kernel
 * (allocated and filled on first use), -1 when memory is out or i is past
 * the image (the fault is then VM_FAULT_OOM / VM_FAULT_SIGBUS: memory.ts).
 */
export function vdsoPage(vm: Vm, i: number): number {
  if (i >= VDSO_PAGES) return -1;
  let pfns = vdsoPfns.get(vm);
  if (pfns === undefined) {
    pfns = [];
    const img = vdsoImage();
    for (let j = 0; j < VDSO_PAGES; j++) {
      const pfn = vm.k.pageAlloc.allocPagesPfn(0, GFP_KERNEL);
      if (pfn < 0) {
        for (const p of pfns) vm.k.pageAlloc.freePagesPfn(p, 0);
        return -1;
      }
      vm.k.pages.flags[pfn] = vm.k.pages.flags[pfn]! | (1 << PG.reserved);
      vm.k.pages.refcount[pfn] = 1;
      vm.k.phys.u8.set(img.subarray(j * 4096, (j + 1) * 4096), pfn * 4096);
      pfns.push(pfn);
    }
    vdsoPfns.set(vm, pfns);
  }
  return pfns[i]!;
}
