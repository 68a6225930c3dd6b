/**
 * A minimal static ELF64 x86-64 executable, built byte by byte so the process
 * scenarios need nothing from the host: the ELF header and program headers,
 * one PT_LOAD R+X (text at 0x401000) and one PT_LOAD R+W (data at 0x403000,
 * a bss after it).
 */

export const DEMO_TEXT = 0x401000;
export const DEMO_DATA = 0x403000;
/** Bytes of data in the file, and the data segment's memsz (data + bss). */
export const DEMO_DATA_FILESZ = 0x40;
export const DEMO_DATA_MEMSZ = 0x3000;
export const DEMO_PATH = '/bin/demo';

interface Seg {
  vaddr: number;
  /** PF_X 1, PF_W 2, PF_R 4 */
  flags: number;
  data: Uint8Array;
  memsz: number;
}

export function buildElf(segs: Seg[], entry: number): Uint8Array {
  const phoff = 64;
  let off = 4096;
  const offs: number[] = [];
  for (const s of segs) {
    off = Math.ceil(off / 4096) * 4096 + (s.vaddr % 4096);
    offs.push(off);
    off += s.data.length;
  }
  const out = new Uint8Array(off);
  const dv = new DataView(out.buffer);
  out.set([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0]); // \x7fELF, ELFCLASS64, little-endian, EV_CURRENT
  dv.setUint16(16, 2, true); // ET_EXEC
  dv.setUint16(18, 62, true); // EM_X86_64
  dv.setUint32(20, 1, true);
  dv.setBigUint64(24, BigInt(entry), true);
  dv.setBigUint64(32, BigInt(phoff), true);
  dv.setUint16(52, 64, true); // e_ehsize
  dv.setUint16(54, 56, true); // e_phentsize
  dv.setUint16(56, segs.length, true);
  segs.forEach((s, i) => {
    const o = phoff + i * 56;
    dv.setUint32(o, 1, true); // PT_LOAD
    dv.setUint32(o + 4, s.flags, true);
    dv.setBigUint64(o + 8, BigInt(offs[i]!), true);
    dv.setBigUint64(o + 16, BigInt(s.vaddr), true);
    dv.setBigUint64(o + 24, BigInt(s.vaddr), true);
    dv.setBigUint64(o + 32, BigInt(s.data.length), true);
    dv.setBigUint64(o + 40, BigInt(s.memsz), true);
    dv.setBigUint64(o + 48, 4096n, true);
    out.set(s.data, offs[i]!);
  });
  return out;
}

/** The demo program: 'hlt'-filled text, data bytes 1..64, bss to 0x406000. */
export function demoElf(): Uint8Array {
  const text = new Uint8Array(128).fill(0xf4);
  const data = new Uint8Array(DEMO_DATA_FILESZ).map((_, i) => i + 1);
  return buildElf(
    [
      { vaddr: DEMO_TEXT, flags: 5, data: text, memsz: text.length },
      { vaddr: DEMO_DATA, flags: 6, data, memsz: DEMO_DATA_MEMSZ },
    ],
    DEMO_TEXT,
  );
}
