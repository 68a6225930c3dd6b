/**
 * kmem ps, kmem maps PID and kmem exec ELF, run as a user runs them (the
 * built CLI, a child process): procps' columns and rules, the kernel's
 * /proc/PID/maps layout of an execve, the errors a shell prints for a
 * file that is not a program or is missing; and the fork-exec workload's
 * processes coming and going.
 */
import { existsSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildElf } from '../vm/helpers.js';
import { buildOnce, kmem, kmemJson, root } from './helpers.js';

beforeAll(buildOnce, 180_000);

const tmp = realpathSync(mkdtempSync(join(tmpdir(), 'kmem-ps-')));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** ps -eo pid,ppid,vsz,rss,stat,comm of procps-ng 4: "%5s %5s %6s %5s %-4s %s" at the narrowest. */
const PS_HEADER = '  PID  PPID    VSZ   RSS STAT COMMAND';
const PS_ROW = /^ *(\d+) +(\d+) +(\d+) +(\d+) (\S+) *(?<= )(\S.*)$/;

interface PsRow {
  pid: number;
  ppid: number;
  vsz: number;
  rss: number;
  stat: string;
  comm: string;
}

const noInode = (s: string) => s.replace(/ fe:00 \d+ +/g, ' fe:00 INODE ').replace(/ {2,}/g, ' ');
const vmLines = (s: string) => s.split('\n').filter((l) => /^(Vm|Rss)/.test(l));
const section = (text: string, name: string) => `${text.split(`== ${name}\n`)[1]!.split('\n== ')[0]!.replace(/\n$/, '')}\n`;
const FORK_EXEC = ['--workload', 'fork-exec', '--seed', '3'];

describe('kmem ps', () => {
  it('a machine without a workload has init alone, in procps columns', async () => {
    const r = await kmem(['ps', '--workload', 'none']);
    expect(r.code).toBe(0);
    const lines = r.stdout.split('\n');
    expect(lines[0]).toBe(PS_HEADER);
    expect(lines).toHaveLength(3);
    const m = PS_ROW.exec(lines[1]!)!;
    // pid 1, no parent, its mm maps nothing; it leads its own session (s)
    expect([m[1], m[2], m[3], m[4], m[6]]).toEqual(['1', '0', '0', '0', 'init']);
    expect(m[5]).toMatch(/^[RS]s$/);
  });

  it('fork-exec: the processes of the workload, by procps rules, and they come and go', async () => {
    const [a, b, text] = await Promise.all([
      kmemJson<{ processes: PsRow[] }>(['ps', ...FORK_EXEC, '--steps', '3000']),
      kmemJson<{ processes: PsRow[] }>(['ps', ...FORK_EXEC, '--steps', '9000']),
      kmem(['ps', ...FORK_EXEC, '--steps', '3000']),
    ]);
    expect(text.code).toBe(0);
    const lines = text.stdout.replace(/\n$/, '').split('\n');
    expect(lines[0]).toBe(PS_HEADER);
    expect(lines).toHaveLength(a.processes.length + 1);
    lines.slice(1).forEach((l, i) => {
      const m = PS_ROW.exec(l);
      expect(m, l).not.toBeNull();
      const p = a.processes[i]!;
      expect([Number(m![1]), Number(m![2]), Number(m![3]), Number(m![4]), m![5], m![6]]).toEqual([p.pid, p.ppid, p.vsz, p.rss, p.stat, p.comm]);
    });
    for (const { processes } of [a, b]) {
      expect(processes.length).toBeGreaterThan(10);
      const pids = new Set(processes.map((p) => p.pid));
      expect(processes[0]).toMatchObject({ pid: 1, ppid: 0, comm: 'init' });
      // sorted by pid, as ps lists /proc
      expect(processes.map((p) => p.pid)).toEqual([...pids].sort((x, y) => x - y));
      for (const p of processes.slice(1)) {
        // a parent is alive (orphans are reparented to init)
        expect(pids.has(p.ppid)).toBe(true);
        if (p.stat.startsWith('Z')) {
          // a zombie has no mm: stat's vsize and rss are 0; ps marks it <defunct>
          expect([p.vsz, p.rss]).toEqual([0, 0]);
          expect(p.comm).toMatch(/ <defunct>$/);
        } else {
          expect(['sh', 'job']).toContain(p.comm);
          expect(p.vsz).toBeGreaterThan(0);
          expect(p.rss).toBeGreaterThan(0);
          expect(p.rss).toBeLessThanOrEqual(p.vsz);
          expect(p.vsz % 4).toBe(0);
        }
      }
    }
    // later, some processes have exited and others have been created
    const before = new Set(a.processes.map((p) => p.pid));
    const after = new Set(b.processes.map((p) => p.pid));
    expect([...before].some((p) => !after.has(p))).toBe(true);
    expect([...after].some((p) => !before.has(p))).toBe(true);
    expect(Math.max(...after)).toBeGreaterThan(Math.max(...before));
  });

  it('VSZ and RSS are /proc/PID/status VmSize and VmRSS; the same seed gives the same processes, maps PID prints /proc/PID/maps', async () => {
    const a = await kmemJson<{ processes: PsRow[] }>(['ps', ...FORK_EXEC, '--steps', '3000']);
    const p = a.processes.find((x) => !x.stat.startsWith('Z') && x.pid !== 1)!;
    const [status, maps, cat, again] = await Promise.all([
      kmem(['cat', `/proc/${p.pid}/status`, ...FORK_EXEC, '--steps', '3000']),
      kmem(['maps', String(p.pid), ...FORK_EXEC, '--steps', '3000']),
      kmem(['cat', `/proc/${p.pid}/maps`, ...FORK_EXEC, '--steps', '3000']),
      kmemJson<{ processes: PsRow[] }>(['ps', ...FORK_EXEC, '--steps', '3000']),
    ]);
    expect(again).toEqual(a);
    expect(Number(/^VmSize:\s+(\d+) kB$/m.exec(status.stdout)![1])).toBe(p.vsz);
    expect(Number(/^VmRSS:\s+(\d+) kB$/m.exec(status.stdout)![1])).toBe(p.rss);
    expect(maps.code).toBe(0);
    expect(maps.stdout).toBe(cat.stdout);
    const names = maps.stdout.split('\n').map((l) => l.slice(73));
    expect(names).toContain(p.comm === 'sh' ? '/bin/sh' : '/usr/bin/job');
    expect(names).toContain('[stack]');
    expect(names).toContain('[vdso]');
  });

  it('maps: a pid with no process is an error as cat gives it (exit 1); a pid that is not a number, a usage error (exit 2)', async () => {
    const [none, bad] = await Promise.all([kmem(['maps', '4000', '--workload', 'none']), kmem(['maps', 'abc', '--workload', 'none'])]);
    expect(none.code).toBe(1);
    expect(none.stderr).toBe('kmem: maps: /proc/4000/maps: No such file or directory\n');
    expect(bad.code).toBe(2);
    expect(bad.stderr.split('\n')).toHaveLength(2);
  });
});

describe('kmem exec', () => {
  it('a small static program: PT_LOAD text and data at their pages, the bss as an anonymous mapping, vDSO and 132 KiB stack at the top', async () => {
    const file = join(tmp, 'tiny');
    writeFileSync(
      file,
      buildElf([
        { vaddr: 0x401000, flags: 5, data: new Uint8Array(100).fill(0x90) },
        { vaddr: 0x403000, flags: 6, data: new Uint8Array(64).fill(7), memsz: 0x3000 },
      ]),
    );
    const r = await kmem(['exec', '--workload', 'none', file, 'one', 'two']);
    expect(r.code).toBe(0);
    const lines = section(r.stdout.replace(/^== \/proc\/\d+\/maps\n/, '== maps\n'), 'maps')
      .replace(/\n$/, '')
      .split('\n');
    const col = (s: string) => s.padEnd(73);
    expect(lines.map((l) => l.replace(/ fe:00 \d+ +/, ' fe:00 INODE '))).toEqual([
      `00401000-00402000 r-xp 00001000 fe:00 INODE ${file}`,
      `00403000-00404000 rw-p 00002000 fe:00 INODE ${file}`,
      // the bss past the file page: vm_brk_flags() of [0x404000, 0x406000)
      '00404000-00406000 rw-p 00000000 00:00 0 ',
      `${col('7ffff7ff7000-7ffff7ffb000 r--p 00000000 00:00 0')}[vvar]`,
      `${col('7ffff7ffb000-7ffff7ffd000 r--p 00000000 00:00 0')}[vvar_vclock]`,
      `${col('7ffff7ffd000-7ffff7fff000 r-xp 00000000 00:00 0')}[vdso]`,
      `${col('7ffffffde000-7ffffffff000 rw-p 00000000 00:00 0')}[stack]`,
      `${col('ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0')}[vsyscall]`,
    ]);
    // the file's name column starts where the kernel pads it (73 characters)
    expect(lines[0]!.indexOf(file)).toBe(73);
    const status = r.stdout.split(/== \/proc\/\d+\/status\n/)[1]!;
    expect(status).toMatch(/^Name:\ttiny\n/);
    // VmExe: the r-x text, 4 kB; VmStk: 132 kB
    expect(status).toMatch(/^VmExe:\s+4 kB$/m);
    expect(status).toMatch(/^VmStk:\s+132 kB$/m);
  });

  it('busybox (Debian busybox-static): maps and the status Vm lines as 6.18 has them right after execve (fixture exec_busybox.out)', async () => {
    expect(existsSync('/bin/busybox')).toBe(true);
    const fx = readFileSync(join(root, 'test/fixtures/vm/exec_busybox.out'), 'utf8');
    const r = await kmem(['exec', '--workload', 'none', '--mem', '64M', '-e', 'HOME=/', '/bin/busybox', 'cat']);
    expect(r.code).toBe(0);
    const [, pid, maps, status] = /^== \/proc\/(\d+)\/maps\n([\s\S]*)== \/proc\/\d+\/status\n([\s\S]*)$/.exec(r.stdout)!;
    expect(Number(pid)).toBeGreaterThan(1);
    // /bin is a link to usr/bin on Debian: the kernel names the file by its real path
    expect(noInode(maps!)).toBe(noInode(section(fx, 'maps')));
    expect(vmLines(status!)).toEqual(vmLines(section(fx, 'status')));
  });

  it('--aslr 2 moves the stack and the vDSO by seeded offsets; the same seed gives the same maps', async () => {
    const file = join(tmp, 'tiny2');
    writeFileSync(file, buildElf([{ vaddr: 0x401000, flags: 5, data: new Uint8Array(16) }]));
    const [a, b, c] = await Promise.all([
      kmem(['exec', '--workload', 'none', '--aslr', '2', '--seed', '4', file]),
      kmem(['exec', '--workload', 'none', '--aslr', '2', '--seed', '4', file]),
      kmem(['exec', '--workload', 'none', '--aslr', '2', '--seed', '5', file]),
    ]);
    expect(a.stdout).toBe(b.stdout);
    const stack = (s: string) => s.split('\n').find((l) => l.endsWith('[stack]'))!;
    expect(stack(a.stdout)).not.toBe(stack(c.stdout));
    expect(stack(a.stdout)).not.toMatch(/^7ffffffde000-7ffffffff000 /);
  });

  it("a file that is not ELF gets the kernel's -ENOEXEC, a missing one -ENOENT, as a shell words them (exit 1)", async () => {
    const script = join(tmp, 'script');
    writeFileSync(script, 'echo hi\n');
    const [noexec, missing] = await Promise.all([kmem(['exec', '--workload', 'none', script]), kmem(['exec', '--workload', 'none', join(tmp, 'missing')])]);
    expect(noexec.code).toBe(1);
    expect(noexec.stderr).toBe(`kmem: exec: ${script}: Exec format error\n`);
    expect(noexec.stdout).toBe('');
    expect(missing.code).toBe(1);
    expect(missing.stderr).toBe(`kmem: exec: ${join(tmp, 'missing')}: No such file or directory\n`);
  });
});
