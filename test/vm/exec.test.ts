/**
 * execve of Debian's static busybox (busybox-static 1.35): the address space
 * before the program runs, compared line by line with what this machine's
 * 6.18 kernel shows for the same file stopped right after execve
 * (test/fixtures/vm/exec_stop.c -> exec_busybox.out; inode numbers aside).
 */
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { boot } from '../../src/kernel.js';
import { ENOENT, ENOEXEC } from '../../src/vm/mman.js';
import { buildElf } from './helpers.js';

const fixture = readFileSync(new URL('../fixtures/vm/exec_busybox.out', import.meta.url), 'utf8');
const section = (name: string) => `${fixture.split(`== ${name}\n`)[1]!.split('\n== ')[0]!.replace(/\n$/, '')}\n`;
const noInode = (s: string) => s.replace(/ fe:00 \d+ +/g, ' fe:00 INODE ').replace(/ {2,}/g, ' ');
const vmLines = (s: string) => s.split('\n').filter((l) => /^(Vm|Rss)/.test(l));
const HOST_BUSYBOX = '/bin/busybox';
// The programs these tests execve come from the host (Debian's busybox-static and coreutils;
// .ci/run installs busybox-static): a missing one is a failure that says so, never a skip.
for (const path of [HOST_BUSYBOX, '/usr/bin/cat']) {
  if (!existsSync(path)) throw new Error(`test/vm/exec.test.ts needs the host's ${path} (apt-get install busybox-static coreutils)`);
}

describe('execve', () => {
  test('busybox: maps, the Vm lines of status, and statm as 6.18 has them right after execve', () => {
    const k = boot({ memory: '64M', seed: 1, aslr: 0 });
    k.fs.writeFile('/usr/bin/busybox', readFileSync(HOST_BUSYBOX));
    const t = k.spawn('/usr/bin/busybox', ['busybox', 'cat'], { envp: ['HOME=/'] });
    expect(noInode(k.proc.read(`/proc/${t.pid}/maps`))).toBe(noInode(section('maps')));
    expect(vmLines(k.proc.read(`/proc/${t.pid}/status`))).toEqual(vmLines(section('status')));
    expect(k.proc.read(`/proc/${t.pid}/statm`)).toBe(section('statm'));
    // The name column is byte-exact too (only the inode's digits differ in width).
    const line = k.proc.read(`/proc/${t.pid}/maps`).split('\n')[0]!;
    expect(line.indexOf('/usr/bin/busybox')).toBe(73);
    expect(noInode(k.proc.read(`/proc/${t.pid}/smaps`))).toBe(noInode(section('smaps')));
    expect(k.proc.read(`/proc/${t.pid}/smaps_rollup`)).toBe(section('smaps_rollup'));
  });

  test('a file that is not ELF is -ENOEXEC, a missing one -ENOENT, and the task keeps its old image', () => {
    const k = boot({ memory: '32M', seed: 1, aslr: 0 });
    k.fs.writeFile('/bin/script', '#!/bin/sh\necho hi\n');
    k.fs.writeFile('/bin/ok', buildElf([{ vaddr: 0x401000, flags: 5, data: new Uint8Array(16) }]));
    expect(() => k.spawn('/bin/script')).toThrow(/error 8/);
    const t = k.spawn('/bin/ok');
    const before = k.proc.read(`/proc/${t.pid}/maps`);
    expect(t.execve('/bin/script', ['script'])).toBe(-ENOEXEC);
    expect(t.execve('/bin/missing', ['missing'])).toBe(-ENOENT);
    expect(k.proc.read(`/proc/${t.pid}/maps`)).toBe(before);
    // A truncated file: the program headers run past its end.
    k.fs.writeFile('/bin/short', buildElf([{ vaddr: 0x401000, flags: 5, data: new Uint8Array(16) }]).slice(0, 80));
    expect(t.execve('/bin/short', ['short'])).toBeLessThan(0);
  });

  test('brk grows the heap VMA named [heap] from start_brk, and shrinks it', () => {
    const k = boot({ memory: '32M', seed: 1, aslr: 0 });
    k.fs.writeFile('/bin/ok', buildElf([{ vaddr: 0x401000, flags: 6, data: new Uint8Array(16), memsz: 0x2000 }]));
    const t = k.spawn('/bin/ok');
    const b0 = t.brk(0);
    expect(b0).toBe(0x403000);
    expect(t.brk(b0 + 0x21000)).toBe(b0 + 0x21000);
    const heap = () =>
      k.proc
        .read(`/proc/${t.pid}/maps`)
        .split('\n')
        .filter((l) => l.endsWith('[heap]'));
    expect(heap()).toEqual([`${'00403000-00424000 rw-p 00000000 00:00 0'.padEnd(73)}[heap]`]);
    expect(t.brk(b0 + 0x1000)).toBe(b0 + 0x1000);
    expect(heap()).toEqual([`${'00403000-00404000 rw-p 00000000 00:00 0'.padEnd(73)}[heap]`]);
    expect(t.brk(0x1000)).toBe(b0 + 0x1000);
  });
});

describe('dynamically linked programs', () => {
  const LDSO = '/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2';
  test('cat: the PIE at ELF_ET_DYN_BASE, ld.so top-down from mmap_base, the vDSO below it; status Vm lines (fixture exec_cat.out)', () => {
    const fx = readFileSync(new URL('../fixtures/vm/exec_cat.out', import.meta.url), 'utf8');
    const k = boot({ memory: '64M', seed: 1, aslr: 0 });
    k.fs.writeFile('/usr/bin/cat', readFileSync('/usr/bin/cat'));
    k.fs.writeFile(LDSO, readFileSync(LDSO));
    k.fs.symlink(LDSO, '/lib64/ld-linux-x86-64.so.2');
    const t = k.spawn('/usr/bin/cat', ['cat'], { envp: ['HOME=/'] });
    const maps = fx.split('== maps\n')[1]!.split('== status\n')[0]!;
    expect(noInode(k.proc.read(`/proc/${t.pid}/maps`))).toBe(noInode(maps));
    expect(vmLines(k.proc.read(`/proc/${t.pid}/status`))).toEqual(vmLines(fx.split('== status\n')[1]!));
  });

  test('a missing interpreter is -ENOENT; one that is not ELF is -ELIBBAD (80); nothing changes', () => {
    const k = boot({ memory: '32M', seed: 1, aslr: 0 });
    const withInterp = (interp: string) => {
      const f = buildElf([{ vaddr: 0x401000, flags: 5, data: new Uint8Array(16) }]);
      // Make the second program header a PT_INTERP pointing at a path stored after the headers.
      const out = new Uint8Array(f.length + 64);
      out.set(f);
      const dv = new DataView(out.buffer);
      dv.setUint16(56, 2, true);
      const o = 64 + 56;
      const str = new TextEncoder().encode(`${interp}\0`);
      out.set(str, f.length);
      dv.setUint32(o, 3, true);
      dv.setBigUint64(o + 8, BigInt(f.length), true);
      dv.setBigUint64(o + 32, BigInt(str.length), true);
      return out;
    };
    k.fs.writeFile('/bin/a', withInterp('/lib/missing.so'));
    k.fs.writeFile('/bin/b', withInterp('/lib/notelf.so'));
    k.fs.writeFile('/lib/notelf.so', 'not an ELF file');
    k.fs.writeFile('/bin/ok', buildElf([{ vaddr: 0x401000, flags: 5, data: new Uint8Array(16) }]));
    const t = k.spawn('/bin/ok');
    const before = k.proc.read(`/proc/${t.pid}/maps`);
    expect(t.execve('/bin/a', ['a'])).toBe(-2);
    expect(t.execve('/bin/b', ['b'])).toBe(-80);
    expect(k.proc.read(`/proc/${t.pid}/maps`)).toBe(before);
  });
});

describe('static PIE', () => {
  test('an ET_DYN without interpreter and with page alignment is mapped top-down from mmap_base, the vDSO below it (fixture static_pie.out)', () => {
    const sp = readFileSync(new URL('../fixtures/vm/static_pie.out', import.meta.url), 'utf8');
    const want = sp.split('== maps\n')[1]!;
    const k = boot({ memory: '32M', seed: 1, aslr: 0 });
    const e = new Uint8Array(0);
    k.fs.writeFile(
      '/tmp/sp',
      buildElf(
        [
          { vaddr: 0x0, offset: 0x0, filesz: 0x8020, flags: 4, data: e },
          { vaddr: 0x9000, offset: 0x9000, filesz: 0x78b41, flags: 5, data: e },
          { vaddr: 0x82000, offset: 0x82000, filesz: 0x291c6, flags: 4, data: e },
          { vaddr: 0xac518, offset: 0xab518, filesz: 0x5d58, memsz: 0xb528, flags: 6, data: e },
        ],
        0x9000,
        3,
      ),
    );
    const t = k.spawn('/tmp/sp', ['sp'], { envp: ['HOME=/'] });
    expect(noInode(k.proc.read(`/proc/${t.pid}/maps`))).toBe(noInode(want));
  });
});

describe('file faults', () => {
  test('fault-around maps the cached pages of the 64 KiB window, clamped to the VMA (fixture fault_around.out)', () => {
    const fa = readFileSync(new URL('../fixtures/vm/fault_around.out', import.meta.url), 'utf8').split('\n');
    const k = boot({ memory: '64M', seed: 1, aslr: 0 });
    k.fs.writeFile('/usr/bin/busybox', readFileSync(HOST_BUSYBOX));
    // Bring the whole file into the page cache first, as it was on the real machine.
    const warm = k.spawn('/usr/bin/busybox', ['busybox']);
    for (let a = 0x400000; a < 0x5e5000; a += 4096) warm.read8(a);
    warm.exit(0);
    const t = k.spawn('/usr/bin/busybox', ['busybox', 'cat'], { envp: ['HOME=/'] });
    const rssFile = () => Number(/^RssFile:\s+(\d+) kB$/m.exec(k.proc.read(`/proc/${t.pid}/status`))![1]);
    expect(`after execve: RssFile ${rssFile()} kB`).toBe(fa[1]!.replace(/ minflt \d+$/, ''));
    for (const line of fa.filter((l) => l.startsWith('peek '))) {
      const addr = Number.parseInt(line.slice(5), 16);
      t.read8(addr);
      expect(`peek ${addr.toString(16)}: RssFile ${rssFile()} kB`).toBe(line.replace(/ minflt \d+$/, ''));
    }
  });

  test('a cold page cache: the first read fault reads 32 pages around it, and its retry maps their fault-around window', () => {
    const k = boot({ memory: '32M', seed: 1, aslr: 0 });
    k.fs.writeFile('/bin/big', buildElf([{ vaddr: 0x400000, flags: 5, data: new Uint8Array(64 * 4096).fill(1) }]));
    const t = k.spawn('/bin/big');
    const rssFile = () => Number(/^RssFile:\s+(\d+) kB$/m.exec(k.proc.read(`/proc/${t.pid}/status`))![1]);
    t.read8(0x400000 + 20 * 4096);
    // filemap_fault reads the window and returns VM_FAULT_RETRY; the retried do_read_fault's fault-around maps
    // pgoff 17..32 but for the PG_readahead page do_sync_mmap_readahead marked at start + size - async =
    // 5 + 32 - 8 = 29 (next_uptodate_folio skips it): 15 pages (as test/fixtures/vm/mmap_file_faults.out shows
    // on the real 6.18: after the first fault its neighbours read without faulting).
    expect(rssFile()).toBe(60);
    const f = t.minFlt + t.majFlt;
    t.read8(0x400000 + 21 * 4096);
    expect(t.minFlt + t.majFlt).toBe(f);
    expect(rssFile()).toBe(60);
  });
});

describe('randomize_va_space', () => {
  test('2: stack, mmap base and brk move by seeded random offsets within the kernel ranges; the same seed gives the same layout', () => {
    const layout = (seed: number) => {
      const k = boot({ memory: '32M', seed });
      k.vm.aslr = 2;
      k.fs.writeFile('/bin/ok', buildElf([{ vaddr: 0x401000, flags: 6, data: new Uint8Array(16), memsz: 0x2000 }]));
      const t = k.spawn('/bin/ok');
      const maps = k.proc.read(`/proc/${t.pid}/maps`);
      const start = (name: string) => Number.parseInt(maps.split('\n').find((l) => l.endsWith(name))!, 16);
      const end = (name: string) =>
        Number.parseInt(
          maps
            .split('\n')
            .find((l) => l.endsWith(name))!
            .split('-')[1]!,
          16,
        );
      return {
        stackEnd: end('[stack]'),
        vdsoEnd: end('[vdso]'),
        vvar: start('[vvar]'),
        brk: t.brk(0),
        flags: Number(k.proc.read(`/proc/${t.pid}/stat`).split(' ')[8]),
      };
    };
    const a = layout(1);
    const b = layout(2);
    expect(layout(1)).toEqual(a);
    expect(a).not.toEqual(b);
    for (const l of [a, b]) {
      expect(l.flags & 0x400000).toBe(0x400000);
      // randomize_stack_top: up to 0x3fffff pages (16 GiB) below STACK_TOP.
      expect(l.stackEnd).toBeLessThanOrEqual(0x7ffffffff000);
      expect(l.stackEnd).toBeGreaterThan(0x7ffffffff000 - 0x400000000 - 0x2000);
      // mmap_base: below the stack gap (16 GiB + 9 MiB) by up to 2^28 pages.
      expect(l.vdsoEnd).toBeLessThanOrEqual(0x7ffffffff000 - 0x3fffff000 - 0x900000);
      expect(l.vdsoEnd).toBeGreaterThan(0x7ffffffff000 - 0x3fffff000 - 0x900000 - 2 ** 40);
      // brk: a page above the bss, then up to 32 MiB.
      expect(l.brk).toBeGreaterThanOrEqual(0x404000);
      expect(l.brk).toBeLessThan(0x404000 + 0x2000000);
    }
  });
});
