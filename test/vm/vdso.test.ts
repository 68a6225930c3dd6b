/**
 * The vDSO a process finds at AT_SYSINFO_EHDR: read through the process's own
 * page tables the way a libc does (glibc's dl_vdso_vsym / setup_vdso): the ELF
 * header, PT_LOAD for the load bias, PT_DYNAMIC, then a symbol looked up
 * through DT_HASH (and DT_GNU_HASH, which glibc prefers) with its version
 * checked against DT_VERSYM / DT_VERDEF.
 * The resolver below is the test's own; it reads only what the Task reads.
 * The auxiliary vector's order is 6.18's create_elf_tables() order as this
 * machine shows it (test/fixtures/vm/strace/auxv_true.txt).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { boot, Segfault } from '../../src/index.js';
import type { Task } from '../../src/vm/fork.js';
import { mapsRange } from './helpers.js';

const EXE = '/tmp/kmem_strace/mm_replay';
const binary = () => readFileSync(new URL('../fixtures/vm/strace/mm_replay', import.meta.url));
const AT = {
  NULL: 0,
  PHDR: 3,
  PHENT: 4,
  PHNUM: 5,
  PAGESZ: 6,
  BASE: 7,
  FLAGS: 8,
  ENTRY: 9,
  UID: 11,
  SECURE: 23,
  RANDOM: 25,
  HWCAP2: 26,
  EXECFN: 31,
  PLATFORM: 15,
  SYSINFO_EHDR: 33,
};
/** LD_SHOW_AUXV's names -> a_type (include/uapi/linux/auxvec.h, asm/auxvec.h) */
const AT_NAMES: Record<string, number> = {
  AT_SYSINFO_EHDR: 33,
  AT_MINSIGSTKSZ: 51,
  AT_HWCAP: 16,
  AT_PAGESZ: 6,
  AT_CLKTCK: 17,
  AT_PHDR: 3,
  AT_PHENT: 4,
  AT_PHNUM: 5,
  AT_BASE: 7,
  AT_FLAGS: 8,
  AT_ENTRY: 9,
  AT_UID: 11,
  AT_EUID: 12,
  AT_GID: 13,
  AT_EGID: 14,
  AT_SECURE: 23,
  AT_RANDOM: 25,
  AT_HWCAP2: 26,
  AT_EXECFN: 31,
  AT_PLATFORM: 15,
};

function spawn() {
  const k = boot({ memory: '64M', seed: 1, aslr: 0 });
  k.fs.writeFile(EXE, binary());
  const t = k.spawn(EXE, ['./mm_replay'], { envp: [] });
  return { k, t };
}

/** /proc/PID/auxv as [type, value] pairs. */
function auxv(t: Task): [number, number][] {
  const b = t.auxv();
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const out: [number, number][] = [];
  for (let i = 0; i < b.length; i += 16) out.push([Number(dv.getBigUint64(i, true)), Number(dv.getBigUint64(i + 8, true))]);
  return out;
}

const cstr = (t: Task, a: number) => {
  let s = '';
  for (let c = t.read8(a); c !== 0; c = t.read8(++a)) s += String.fromCharCode(c);
  return s;
};
const u16 = (t: Task, a: number) => t.read16(a);
const u32 = (t: Task, a: number) => t.read32(a) >>> 0;
const u64 = (t: Task, a: number) => Number(t.read64(a));

/** The System V ELF hash, written from the gABI's description. */
function sysvHash(name: string): number {
  let h = 0;
  for (const ch of name) {
    h = (h * 16 + ch.charCodeAt(0)) >>> 0;
    const g = (h & 0xf0000000) >>> 0;
    if (g !== 0) h = (h ^ (g >>> 24)) >>> 0;
    h = (h & ~g) >>> 0;
  }
  return h;
}

/** The GNU hash (DT_GNU_HASH), from its definition: h = h * 33 + c from 5381, modulo 2^32. */
function gnuHash(name: string): number {
  let h = 5381;
  for (const ch of name) h = (h * 33 + ch.charCodeAt(0)) % 2 ** 32;
  return h;
}

/** A libc's vDSO lookup: the address of `name` at `version`, or 0; through DT_GNU_HASH (as glibc prefers) when `gnu`. */
function vdsoSym(t: Task, base: number, name: string, version: string, gnu = false): number {
  expect([...t.readBytes(base, 4)]).toEqual([0x7f, 0x45, 0x4c, 0x46]);
  const phoff = u64(t, base + 32);
  const phnum = u16(t, base + 56);
  let bias = -1;
  let dyn = -1;
  for (let i = 0; i < phnum; i++) {
    const ph = base + phoff + i * 56;
    const type = u32(t, ph);
    if (type === 1 && bias < 0) bias = base + u64(t, ph + 8) - u64(t, ph + 16);
    if (type === 2) dyn = u64(t, ph + 16);
  }
  expect(bias).toBe(base);
  expect(dyn).toBeGreaterThan(0);
  const d = new Map<number, number>();
  for (let a = bias + dyn; ; a += 16) {
    const tag = u64(t, a);
    if (tag === 0) break;
    d.set(tag, u64(t, a + 8));
  }
  const hash = bias + d.get(4)!;
  const symtab = bias + d.get(6)!;
  const strtab = bias + d.get(5)!;
  const versym = bias + d.get(0x6ffffff0)!;
  const verdef = bias + d.get(0x6ffffffc)!;
  const nbucket = u32(t, hash);
  const h = sysvHash(name);
  // The candidate symbol indices: DT_HASH's chain, or DT_GNU_HASH's bloom word, bucket and run of equal-bucket symbols.
  const candidates: number[] = [];
  if (!gnu) for (let i = u32(t, hash + 8 + (h % nbucket) * 4); i !== 0; i = u32(t, hash + 8 + nbucket * 4 + i * 4)) candidates.push(i);
  else {
    const g = bias + d.get(0x6ffffef5)!;
    const [nb, symoff, bloomSize, shift] = [u32(t, g), u32(t, g + 4), u32(t, g + 8), u32(t, g + 12)];
    const gh = gnuHash(name);
    const word = t.read64(g + 16 + (Math.floor(gh / 64) % bloomSize) * 8);
    if (((word >> BigInt(gh % 64)) & (word >> BigInt((gh >>> shift) % 64)) & 1n) === 0n) return 0;
    const chains = g + 16 + bloomSize * 8 + nb * 4;
    for (let i = u32(t, g + 16 + bloomSize * 8 + (gh % nb) * 4); i !== 0; i++) {
      const c = u32(t, chains + (i - symoff) * 4);
      if ((c | 1) >>> 0 === (gh | 1) >>> 0) candidates.push(i);
      if (c & 1) break;
    }
  }
  for (const i of candidates) {
    const sym = symtab + i * 24;
    if (cstr(t, strtab + u32(t, sym)) !== name || u16(t, sym + 6) === 0) continue;
    // The symbol's version index names a Verdef whose first Verdaux is the version's name.
    const ndx = u16(t, versym + i * 2) & 0x7fff;
    for (let vd = verdef; ; ) {
      if (u16(t, vd + 4) === ndx) {
        const vname = cstr(t, strtab + u32(t, vd + u32(t, vd + 12)));
        if (vname === version && u32(t, vd + 8) === sysvHash(version)) return bias + u64(t, sym + 8);
        break;
      }
      const next = u32(t, vd + 16);
      if (next === 0) break;
      vd += next;
    }
  }
  return 0;
}

const vdsoLine = (k: ReturnType<typeof boot>, t: Task) =>
  k.proc
    .read(`/proc/${t.pid}/maps`)
    .split('\n')
    .find((l) => l.endsWith('[vdso]'))!;

describe('the vDSO', () => {
  test('AT_SYSINFO_EHDR points at the [vdso] VMA, 2 pages as on this 6.18', () => {
    const { k, t } = spawn();
    const ehdr = auxv(t).find(([a]) => a === AT.SYSINFO_EHDR)![1];
    const [lo, hi] = vdsoLine(k, t)
      .split(' ')[0]!
      .split('-')
      .map((x) => Number.parseInt(x, 16));
    expect(ehdr).toBe(lo);
    expect(hi! - lo!).toBe(2 * 4096);
    // The ELF header: ELFCLASS64, little-endian, ET_DYN, EM_X86_64, 56-byte program headers.
    const h = t.readBytes(ehdr, 64);
    const dv = new DataView(h.buffer, h.byteOffset, 64);
    expect([h[4], h[5], h[6], dv.getUint16(16, true), dv.getUint16(18, true), dv.getUint16(54, true)]).toEqual([2, 1, 1, 3, 62, 56]);
  });

  test('__vdso_clock_gettime and the rest resolve through DT_HASH at LINUX_2.6, each the fallback system call', () => {
    const { k, t } = spawn();
    const base = auxv(t).find(([a]) => a === AT.SYSINFO_EHDR)![1];
    const [lo, hi] = vdsoLine(k, t)
      .split(' ')[0]!
      .split('-')
      .map((x) => Number.parseInt(x, 16));
    // x86-64 system call numbers (arch/x86/entry/syscalls/syscall_64.tbl)
    for (const [fn, nr] of [
      ['clock_gettime', 228],
      ['gettimeofday', 96],
      ['time', 201],
      ['getcpu', 309],
      ['clock_getres', 229],
    ] as const) {
      const a = vdsoSym(t, base, `__vdso_${fn}`, 'LINUX_2.6');
      expect(a, fn).toBeGreaterThanOrEqual(lo!);
      expect(a, fn).toBeLessThan(hi!);
      // The weak alias is the same function; DT_GNU_HASH finds both as DT_HASH does.
      expect(vdsoSym(t, base, fn, 'LINUX_2.6')).toBe(a);
      expect(vdsoSym(t, base, `__vdso_${fn}`, 'LINUX_2.6', true)).toBe(a);
      expect(vdsoSym(t, base, fn, 'LINUX_2.6', true)).toBe(a);
      // mov eax, NR; syscall; ret
      const code = [...t.readBytes(a, 8)];
      expect(code).toEqual([0xb8, nr & 0xff, nr >> 8, 0, 0, 0x0f, 0x05, 0xc3]);
    }
    expect(vdsoSym(t, base, '__vdso_clock_gettime', 'LINUX_2.5')).toBe(0);
    expect(vdsoSym(t, base, '__vdso_nonexistent', 'LINUX_2.6')).toBe(0);
    expect(vdsoSym(t, base, '__vdso_nonexistent', 'LINUX_2.6', true)).toBe(0);
  });

  test('PT_NOTE holds the "Linux" note with LINUX_VERSION_CODE 6.18.0; SONAME is linux-vdso.so.1', () => {
    const { t } = spawn();
    const base = auxv(t).find(([a]) => a === AT.SYSINFO_EHDR)![1];
    const phnum = u16(t, base + 56);
    const notes: string[] = [];
    let soname = '';
    for (let i = 0; i < phnum; i++) {
      const ph = base + u64(t, base + 32) + i * 56;
      if (u32(t, ph) === 4) {
        const n = base + u64(t, ph + 16);
        notes.push(`${cstr(t, n + 12)} ${u32(t, n + 8)} ${u32(t, n + 20).toString(16)}`);
      }
      if (u32(t, ph) === 2) {
        const tags = new Map<number, number>();
        for (let a = base + u64(t, ph + 16); u64(t, a) !== 0; a += 16) tags.set(u64(t, a), u64(t, a + 8));
        soname = cstr(t, base + tags.get(5)! + tags.get(14)!);
      }
    }
    expect(notes).toEqual(['Linux 0 61200']);
    expect(soname).toBe('linux-vdso.so.1');
  });

  test('reading the vDSO is a minor fault per page, counted in RssFile and the [vdso] smaps; it returns at exit', () => {
    const { k, t } = spawn();
    const base = auxv(t).find(([a]) => a === AT.SYSINFO_EHDR)![1];
    const rssFile = () => Number(/RssFile:\s+(\d+)/.exec(k.proc.read(`/proc/${t.pid}/status`))![1]);
    const f0 = t.minFlt;
    const r0 = rssFile();
    t.read8(base);
    t.read8(base + 100);
    expect(t.minFlt - f0).toBe(1);
    t.read8(base + 4096);
    // No fault-around in a special mapping (no map_pages): the second page is a fault of its own.
    expect(t.minFlt - f0).toBe(2);
    expect(rssFile() - r0).toBe(8);
    const smaps = k.proc.read(`/proc/${t.pid}/smaps`);
    const block = smaps.slice(smaps.indexOf('[vdso]'));
    expect(/Rss:\s+(\d+) kB/.exec(block)![1]).toBe('8');
    expect(/Anonymous:\s+(\d+) kB/.exec(block)![1]).toBe('0');
    // A second process and its fork child map the same two frames (one copy of the image in the kernel), which outlive every process.
    const pfns = (x: Task) => [...x.pagemap(base, 2)].map((e) => ((e >> 63n) & 1n ? Number(e & ((1n << 55n) - 1n)) : -1));
    const frames = pfns(t);
    expect(frames.every((f) => f > 0)).toBe(true);
    const u = k.spawn(EXE, ['./mm_replay'], { envp: [] });
    const c = u.fork();
    for (const x of [u, c]) {
      expect([...x.readBytes(base, 8)]).toEqual([...t.readBytes(base, 8)]);
      x.read8(base + 4096);
      expect(pfns(x)).toEqual(frames);
    }
    c.exit(0);
    u.wait();
    u.exit(0);
    t.exit(0);
    const w = k.spawn(EXE, ['./mm_replay'], { envp: [] });
    w.read8(base);
    w.read8(base + 4096);
    expect(pfns(w)).toEqual(frames);
    expect([...w.readBytes(base, 4)]).toEqual([0x7f, 0x45, 0x4c, 0x46]);
  });

  test('a store into the read-only [vdso] is a SIGSEGV with error 7 (present page, write, user)', () => {
    const { t } = spawn();
    const base = auxv(t).find(([a]) => a === AT.SYSINFO_EHDR)![1];
    expect(t.read8(base)).toBe(0x7f);
    let err: unknown = null;
    try {
      t.write8(base, 0);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(Segfault);
    expect([(err as Segfault).address, (err as Segfault).errorCode]).toEqual([base, 7]);
  });

  test('a write after mprotect(PROT_WRITE) gets a private copy; other processes keep the image', () => {
    const { k, t } = spawn();
    const base = auxv(t).find(([a]) => a === AT.SYSINFO_EHDR)![1];
    const u = k.spawn(EXE, ['./mm_replay'], { envp: [] });
    expect(t.mprotect(base, 8192, 7)).toBe(0);
    t.write8(base + 1, 0x99);
    expect(t.read8(base + 1)).toBe(0x99);
    expect(u.read8(base + 1)).toBe(0x45);
    expect(t.read8(base + 4097)).toBe(u.read8(base + 4097));
  });
});

describe('/proc/PID/auxv', () => {
  test('the types in 6.18 create_elf_tables() order, as this machine gave /bin/true, then AT_NULL', () => {
    const real = readFileSync(new URL('../fixtures/vm/strace/auxv_true.txt', import.meta.url), 'utf8')
      .split('\n')
      .filter((l) => l !== '' && !l.startsWith('#'))
      .map((l) => {
        const m = /^AT_\?\?\? \(0x([0-9a-f]+)\)/.exec(l);
        return m !== null ? Number.parseInt(m[1]!, 16) : AT_NAMES[l.split(':')[0]!]!;
      });
    const { t } = spawn();
    const a = auxv(t);
    expect(a.map(([x]) => x)).toEqual([...real, AT.NULL]);
    expect(a.at(-1)).toEqual([0, 0]);
  });

  test('the values a static executable gets, and the same pairs on its stack above argv and envp', () => {
    const { k, t } = spawn();
    const elf = binary();
    const edv = new DataView(elf.buffer, elf.byteOffset, elf.byteLength);
    const a = new Map(auxv(t));
    expect(a.get(AT.PAGESZ)).toBe(4096);
    expect(a.get(AT.PHENT)).toBe(56);
    expect(a.get(AT.PHNUM)).toBe(edv.getUint16(56, true));
    expect(a.get(AT.ENTRY)).toBe(Number(edv.getBigUint64(24, true)));
    // The first PT_LOAD maps the file from offset 0 at 0x400000: the program headers are at 0x400000 + e_phoff.
    expect(a.get(AT.PHDR)).toBe(0x400000 + Number(edv.getBigUint64(32, true)));
    expect([a.get(AT.BASE), a.get(AT.FLAGS), a.get(AT.UID), a.get(AT.SECURE), a.get(AT.HWCAP2)]).toEqual([0, 0, 0, 0, 2]);
    expect(cstr(t, a.get(AT.EXECFN)!)).toBe(EXE);
    expect(cstr(t, a.get(AT.PLATFORM)!)).toBe('x86_64');
    expect(t.readBytes(a.get(AT.RANDOM)!, 16).length).toBe(16);
    // The vector as exec wrote it on the stack: the same bytes as /proc/PID/auxv, in the [stack] VMA.
    const stack = mapsRange(k, t, '[stack]');
    const bytes = t.readBytes(stack[0], stack[1] - stack[0]);
    const want = t.auxv();
    let at = -1;
    for (let i = 0; i + want.length <= bytes.length && at < 0; i += 8) if (want.every((b, j) => bytes[i + j] === b)) at = i;
    expect(at).toBeGreaterThanOrEqual(0);
    // Right below it: envp's NULL (env -i: none) and argv's NULL, argv[0], argc = 1.
    const sp = stack[0] + at;
    expect([u64(t, sp - 8), u64(t, sp - 16), cstr(t, u64(t, sp - 24)), u64(t, sp - 32)]).toEqual([0, 0, './mm_replay', 1]);
  });

  test('a fork child has its parent vector; a task that exited has none', () => {
    const { t } = spawn();
    const c = t.fork();
    expect([...c.auxv()]).toEqual([...t.auxv()]);
    c.exit(0);
    expect(c.auxv().length).toBe(0);
  });
});
