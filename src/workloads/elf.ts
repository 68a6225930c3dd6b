/**
 * Tiny static ELF64 x86-64 executables built in memory, so that workloads
 * have real programs to execve on any host: an ELF header, PT_LOAD program
 * headers, and each segment's bytes at a file offset congruent to its
 * address modulo the page size (what load_elf_binary() requires).
 */

export interface ElfSegment {
  vaddr: number;
  /** PF_R 4 | PF_W 2 | PF_X 1 */
  flags: number;
  data: Uint8Array;
  /** bytes in memory (data.length plus the bss); default data.length */
  memsz?: number;
}

const ET_EXEC = 2;
const EM_X86_64 = 62;
const PT_LOAD = 1;
const EHDR = 64;
const PHDR = 56;

/** An ET_EXEC file whose entry point is `entry` (default: the first segment's start). */
export function buildStaticElf(segs: readonly ElfSegment[], entry = segs[0]?.vaddr ?? 0x401000): Uint8Array {
  let off = 4096;
  const offs: number[] = [];
  for (const s of segs) {
    off = Math.ceil(off / 4096) * 4096 + (s.vaddr % 4096);
    offs.push(off);
    off += s.data.length;
  }
  const out = new Uint8Array(off);
  const dv = new DataView(out.buffer);
  out.set([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0]); // ELFCLASS64, ELFDATA2LSB, EV_CURRENT, ELFOSABI_NONE
  dv.setUint16(16, ET_EXEC, true);
  dv.setUint16(18, EM_X86_64, true);
  dv.setUint32(20, 1, true);
  dv.setBigUint64(24, BigInt(entry), true);
  dv.setBigUint64(32, BigInt(EHDR), true); // e_phoff
  dv.setUint16(52, EHDR, true); // e_ehsize
  dv.setUint16(54, PHDR, true); // e_phentsize
  dv.setUint16(56, segs.length, true); // e_phnum
  segs.forEach((s, i) => {
    const o = EHDR + i * PHDR;
    dv.setUint32(o, PT_LOAD, true);
    dv.setUint32(o + 4, s.flags, true);
    dv.setBigUint64(o + 8, BigInt(offs[i]!), true); // p_offset
    dv.setBigUint64(o + 16, BigInt(s.vaddr), true); // p_vaddr
    dv.setBigUint64(o + 24, BigInt(s.vaddr), true); // p_paddr
    dv.setBigUint64(o + 32, BigInt(s.data.length), true); // p_filesz
    dv.setBigUint64(o + 40, BigInt(s.memsz ?? s.data.length), true); // p_memsz
    dv.setBigUint64(o + 48, 4096n, true); // p_align
    out.set(s.data, offs[i]!);
  });
  return out;
}

/** x86-64 code for exit(0): mov eax, 60; xor edi, edi; syscall. */
const EXIT0 = [0xb8, 0x3c, 0x00, 0x00, 0x00, 0x31, 0xff, 0x0f, 0x05];

/**
 * A small static program: `textPages` pages of text at 0x401000 (starting
 * with exit(0)), then `dataBytes` of initialised data and `bssBytes` of bss.
 */
export function smallProgram(textPages: number, dataBytes: number, bssBytes: number, fill = 0x5a): Uint8Array {
  const text = new Uint8Array(textPages * 4096 - 64).fill(0x90); // nop
  text.set(EXIT0);
  const textEnd = 0x401000 + textPages * 4096;
  const data = new Uint8Array(dataBytes).fill(fill);
  return buildStaticElf([
    { vaddr: 0x401000, flags: 5, data: text },
    { vaddr: textEnd + 0x1000, flags: 6, data, memsz: dataBytes + bssBytes },
  ]);
}
