/** Tiny static ELF64 x86-64 executables built byte by byte for the VM tests. */
import { boot, type Kernel } from '../../src/kernel.js';

export interface Seg {
  vaddr: number;
  /** PF_R 4, PF_W 2, PF_X 1 */
  flags: number;
  data: Uint8Array;
  memsz?: number;
  /** file offset (default: the next page boundary plus vaddr's offset in its page) */
  offset?: number;
  /** bytes of the segment in the file when data is not given in full (default data.length) */
  filesz?: number;
}

/** An ET_EXEC (or ET_DYN) file: the ELF header and program headers in the first page, each segment's bytes at a file offset congruent to its vaddr. */
export function buildElf(segs: Seg[], entry = segs[0]?.vaddr ?? 0x401000, type = 2): Uint8Array {
  const phoff = 64;
  const phnum = segs.length;
  let off = 4096;
  const offs: number[] = [];
  for (const s of segs) {
    off = s.offset ?? Math.ceil(off / 4096) * 4096 + (s.vaddr % 4096);
    offs.push(off);
    off += s.filesz ?? s.data.length;
  }
  const out = new Uint8Array(Math.max(off, 64 + 56 * segs.length));
  const dv = new DataView(out.buffer);
  out.set([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0]);
  dv.setUint16(16, type, true); // ET_EXEC or ET_DYN
  dv.setUint16(18, 62, true); // EM_X86_64
  dv.setUint32(20, 1, true);
  dv.setBigUint64(24, BigInt(entry), true);
  dv.setBigUint64(32, BigInt(phoff), true);
  dv.setUint16(52, 64, true);
  dv.setUint16(54, 56, true);
  dv.setUint16(56, phnum, true);
  segs.forEach((s, i) => {
    const o = phoff + i * 56;
    dv.setUint32(o, 1, true); // PT_LOAD
    dv.setUint32(o + 4, s.flags, true);
    dv.setBigUint64(o + 8, BigInt(offs[i]!), true);
    dv.setBigUint64(o + 16, BigInt(s.vaddr), true);
    dv.setBigUint64(o + 24, BigInt(s.vaddr), true);
    dv.setBigUint64(o + 32, BigInt(s.filesz ?? s.data.length), true);
    dv.setBigUint64(o + 40, BigInt(s.memsz ?? s.filesz ?? s.data.length), true);
    dv.setBigUint64(o + 48, 4096n, true);
    if (offs[i]! >= 64 + 56 * segs.length) out.set(s.data, offs[i]!);
  });
  return out;
}

/** A small program: text at 0x401000 (one page), data at 0x402000 with a bss after it. */
export function tinyElf(): Uint8Array {
  return buildElf([
    { vaddr: 0x401000, flags: 5, data: new Uint8Array(100).fill(0x90) },
    { vaddr: 0x403000, flags: 6, data: new Uint8Array(64).fill(7), memsz: 0x3000 },
  ]);
}

export function bootWithProgram(memory = '64M'): Kernel {
  const k = boot({ memory, cpus: 2, seed: 1, aslr: 0 });
  k.fs.writeFile('/bin/tiny', tinyElf());
  return k;
}

/** A page's 4 KiB of xorshift bytes, different for every seed (the data-integrity tests write one and read it back). */
export function pagePattern(seed: number): Uint8Array {
  const b = new Uint8Array(4096);
  let x = (seed * 2654435761) >>> 0 || 1;
  for (let i = 0; i < b.length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    b[i] = x & 0xff;
  }
  return b;
}

/** One /proc/meminfo field in kB. */
export function meminfoKb(k: Kernel, name: string): number {
  const m = new RegExp(`^${name}:\\s+(\\d+) kB$`, 'm').exec(k.proc.read('/proc/meminfo'));
  if (m === null) throw new Error(`no ${name} in /proc/meminfo`);
  return Number(m[1]);
}

/** One /proc/vmstat item. */
export function vmstatValue(k: Kernel, name: string): number {
  const m = new RegExp(`^${name} (\\d+)$`, 'm').exec(k.proc.read('/proc/vmstat'));
  if (m === null) throw new Error(`no ${name} in /proc/vmstat`);
  return Number(m[1]);
}

/** The [start, end) of the task's mapping whose /proc/PID/maps line ends with name ('[stack]', '[vdso]' ...). */
export function mapsRange(k: Kernel, t: { pid: number }, name: string): [number, number] {
  const l = k.proc
    .read(`/proc/${t.pid}/maps`)
    .split('\n')
    .find((x) => x.endsWith(name));
  if (l === undefined) throw new Error(`no ${name} line in /proc/${t.pid}/maps`);
  const [lo, hi] = l
    .split(' ')[0]!
    .split('-')
    .map((x) => Number.parseInt(x, 16));
  return [lo!, hi!];
}
