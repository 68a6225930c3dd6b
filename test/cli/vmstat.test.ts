/**
 * kmem vmstat: the arithmetic and columns of procps-ng 4.0.2's vmstat(8),
 * checked against the real vmstat on this project's Linux 6.18 machine run
 * on fixed /proc files (test/fixtures/cli/vmstat-procps-4.0.2.txt records
 * how), then worked by hand for kmem's own case (no /proc/stat), then the
 * command on the virtual clock.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  deltaLine,
  diskHeader,
  diskLines,
  diskSum,
  firstLine,
  parseDiskstats,
  parseUnit,
  partitionHeader,
  partitionLine,
  statsTable,
  timestamp,
  type VmstatOptions,
  vmstatHeader,
  vmstatValues,
} from '../../src/cli/vmstat.js';
import { buildOnce, kmem, root } from './helpers.js';

const dir = join(root, 'test/fixtures/cli');
const read = (f: string) => readFileSync(join(dir, f), 'utf8');
const host = { meminfo: read('host-meminfo.txt'), vmstat: read('host-vmstat.txt'), uptime: read('host-uptime.txt'), stat: read('host-stat.txt') };

/** The recorded runs: `vmstat <args>` → its output. */
function recorded(): Map<string, string> {
  const m = new Map<string, string>();
  for (const c of read('vmstat-procps-4.0.2.txt').split(/^### /m).slice(1)) {
    const nl = c.indexOf('\n');
    m.set(c.slice(0, nl).trim(), c.slice(nl + 1));
  }
  return m;
}

describe('vmstat against procps-ng 4.0.2 on the same files', () => {
  const runs = recorded();
  const v = vmstatValues(host);
  const opts = (o: Partial<VmstatOptions>): VmstatOptions => ({ active: false, wide: false, unit: 1024, ...o });
  const screen = (o: VmstatOptions) => vmstatHeader(o) + firstLine(v, o);

  it('the header and the line since boot, narrow, wide, -a, every -S unit', () => {
    expect(screen(opts({}))).toBe(runs.get('vmstat'));
    expect(screen(opts({ active: true }))).toBe(runs.get('vmstat -a'));
    expect(screen(opts({ wide: true }))).toBe(runs.get('vmstat -w'));
    expect(screen(opts({ active: true, wide: true }))).toBe(runs.get('vmstat -a -w'));
    for (const u of ['M', 'k', 'm', 'B']) expect(screen(opts({ unit: parseUnit(u).unit }))).toBe(runs.get(`vmstat -S ${u}`));
    expect(screen(opts({}))).toBe(runs.get('vmstat 1 0'));
  });

  it('-t: the timestamp column and the zone over it (TZ=UTC in the recording)', () => {
    for (const args of ['-t', '-t -w']) {
      const rec = runs.get(`vmstat ${args}`)!;
      const time = /(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)\n$/.exec(rec)![1]!;
      const o = opts({ wide: args.includes('-w'), zone: 'UTC' });
      expect(vmstatHeader(o) + firstLine(v, o, time)).toBe(rec);
    }
    expect(timestamp(new Date(2026, 11, 6, 9, 5, 7))).toBe('2026-12-06 09:05:07');
  });

  it('a later line: deltas over the delay (the files did not change: zero rates, all idle)', () => {
    expect(screen(opts({})) + deltaLine(v, v, 1, opts({}))).toBe(runs.get('vmstat -n 1 2'));
    expect(screen(opts({ wide: true })) + deltaLine(v, v, 1, opts({ wide: true }))).toBe(runs.get('vmstat -w 1 2'));
    expect(vmstatHeader(opts({})) + deltaLine(v, v, 1, opts({}))).toBe(runs.get('vmstat -y 1 1'));
  });

  it('-s, in KiB and in MiB', () => {
    expect(statsTable(v, parseUnit('K'))).toBe(runs.get('vmstat -s'));
    expect(statsTable(v, parseUnit('M'))).toBe(runs.get('vmstat -s -S M'));
  });

  it('rates by hand: since boot per USER_HZ tick over the summed ticks, later ones rounded over the delay', () => {
    // no /proc/stat (kmem): 2 CPUs idle for 10 s = 2000 idle ticks; 3000 KiB paged in, 40 pages swapped out
    const meminfo =
      'MemTotal: 131068 kB\nMemFree: 100000 kB\nMemAvailable: 110000 kB\nBuffers: 0 kB\nCached: 5000 kB\nSReclaimable: 100 kB\nSwapTotal: 1000 kB\nSwapFree: 900 kB\n';
    const a = vmstatValues({ meminfo, vmstat: 'pgpgin 3000\npgpgout 0\npswpin 0\npswpout 40\n', uptime: '10.00 20.00\n' });
    // bi = (3000 * 100 + 1000) / 2000 = 150; so = (40 pages * 4 KiB * 100 + 1000) / 2000 = 8
    expect(firstLine(a, opts({}))).toBe(' 0  0    100 100000      0   5100    0    8   150     0    0    0  0  0 100  0  0\n');
    // 3 s later: 7 more KiB paged in (7 + 1) / 3 = 2; 1 more page out: (4 + 1) / 3 = 1
    const b = vmstatValues({ meminfo, vmstat: 'pgpgin 3007\npgpgout 0\npswpin 0\npswpout 41\n', uptime: '13.00 26.00\n' });
    expect(deltaLine(a, b, 3, opts({}))).toBe(' 0  0    100 100000      0   5100    0    1     2     0    0    0  0  0 100  0  0\n');
  });
});

describe('vmstat against procps-ng 4.0.2 on 60 generated sets of /proc files', () => {
  it('prints what the real vmstat printed for every case and option set (the rates since boot, float units, -s)', () => {
    const hostVm = read('host-vmstat.txt');
    const cases = read('vmstat-procps-4.0.2-random.txt').split(/^### /m).slice(1);
    expect(cases.length).toBe(60);
    let checked = 0;
    for (const c of cases) {
      const [head, ...runs] = c.split(/^## /m);
      const f = new Map(
        head!
          .trim()
          .split(' ')
          .map((kv) => kv.split('=') as [string, string]),
      );
      const mem = ['MemTotal', 'MemFree', 'MemAvailable', 'Buffers', 'Cached', 'SReclaimable', 'Active', 'Inactive', 'SwapTotal', 'SwapFree'];
      const vmKeys = new Set(['pgpgin', 'pgpgout', 'pswpin', 'pswpout']);
      const s = {
        meminfo: mem.map((k) => `${`${k}:`.padEnd(16)}${f.get(k)!.padStart(8)} kB\n`).join(''),
        vmstat: hostVm
          .split('\n')
          .filter((l) => l.trim() !== '')
          .map((l) => {
            const [k, v] = l.split(' ');
            return `${k} ${vmKeys.has(k!) ? f.get(k!) : v}\n`;
          })
          .join(''),
        stat: `cpu  ${f.get('cpu')!.split(',').join(' ')}\nintr ${f.get('intr')} 0 0\nctxt ${f.get('ctxt')}\nbtime ${f.get('btime')}\nprocesses ${f.get('processes')}\nprocs_running ${f.get('procs_running')}\nprocs_blocked ${f.get('procs_blocked')}\n`,
        uptime: `${f.get('uptime')} 0.00\n`,
      };
      const v = vmstatValues(s);
      for (const run of runs) {
        const nl = run.indexOf('\n');
        const args = run.slice(0, nl).replace(/^vmstat ?/, '');
        const expected = run.slice(nl + 1).replace(/\n*$/, '\n');
        const a = args.split(' ');
        const unit = a.includes('-S') ? parseUnit(a[a.indexOf('-S') + 1]!) : parseUnit('K');
        const o = { active: a.includes('-a'), wide: a.includes('-w'), unit: unit.unit };
        const got = a.includes('-s') ? statsTable(v, unit) : vmstatHeader(o) + firstLine(v, o);
        expect(`${head!.slice(0, 60)} vmstat ${args}\n${got}`).toBe(`${head!.slice(0, 60)} vmstat ${args}\n${expected}`);
        checked++;
      }
    }
    expect(checked).toBe(300);
  });
});

describe('vmstat -d, -D, -p against procps-ng 4.0.2 on the same /proc/diskstats', () => {
  const runs = new Map<string, string>();
  for (const c of read('vmstat-disk-procps-4.0.2.txt').split(/^### /m).slice(1)) {
    const nl = c.indexOf('\n');
    runs.set(c.slice(0, nl).trim(), c.slice(nl + 1));
  }

  it.each(['host-diskstats.txt', 'part-diskstats.txt'])('%s', (file) => {
    const nodes = parseDiskstats(read(file));
    const run = (args: string) => runs.get(`${file} vmstat ${args}`);
    expect(`${diskLines(nodes, false, 21)}(exit 0)\n`).toBe(run('-d'));
    expect(`${diskLines(nodes, true, 21)}(exit 0)\n`).toBe(run('-d -w'));
    expect(`${diskHeader(false)}${diskLines(nodes, false, null)}(exit 0)\n`).toBe(run('-n -d'));
    expect(`${diskLines(nodes, false, 21)}${diskLines(nodes, false, 21)}(exit 0)\n`).toBe(run('-d 1 2'));
    expect(`${diskSum(nodes)}(exit 0)\n`).toBe(run('-D'));
    for (const dev of ['vda1', '/dev/vda2']) {
      const name = dev.replace('/dev/', '');
      const d = nodes.find((x) => x.name === name);
      if (d === undefined) expect(run(`-p ${dev}`)).toBe(`vmstat: Disk/Partition ${name} not found\n(exit 1)\n`);
      else expect(`${partitionHeader(name)}${partitionLine(d)}(exit 0)\n`).toBe(run(`-p ${dev}`));
    }
  });

  it('a device named after a listed one plus a number is a partition (procps asks /sys/block)', () => {
    const nodes = parseDiskstats(read('part-diskstats.txt'));
    expect(nodes.map((d) => [d.name, d.partition])).toEqual([
      ['vda', false],
      ['vda1', true],
      ['vda2', true],
      ['zram0', false],
    ]);
    const nv = parseDiskstats(' 259 0 nvme0n1 1 0 0 0 0 0 0 0 0 0 0\n 259 1 nvme0n1p1 1 0 0 0 0 0 0 0 0 0 0\n 7 0 loop0 1 0 0 0 0 0 0 0 0 0 0\n');
    expect(nv.map((d) => d.partition)).toEqual([false, true, false]);
  });
});

describe.concurrent('kmem vmstat', { timeout: 150_000 }, () => {
  beforeAll(buildOnce, 180_000);

  it('vmstat 1 3 prints the header and three lines on the virtual clock', async () => {
    const r = await kmem(['vmstat', '1', '3', '--workload', 'fork-exec', '--steps', '2000']);
    expect(r.code).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines.slice(0, 2)).toEqual([
      'procs -----------memory---------- ---swap-- -----io---- -system-- ------cpu-----',
      ' r  b   swpd   free   buff  cache   si   so    bi    bo   in   cs us sy id wa st',
    ]);
    expect(lines.length).toBe(5);
    for (const l of lines.slice(2)) expect(l).toMatch(/^ {1,2}\d+ {1,2}\d+( +\d+){4}( +\d+){6} +0 +0 +100 +0 +0$/);
    // the workload runs between lines: free memory moves
    const free = lines.slice(2).map((l) => Number(l.trim().split(/\s+/)[3]));
    expect(new Set(free).size).toBeGreaterThan(1);
  });

  it('-t 5 3: the timestamps move on by the delay of virtual time', async () => {
    const r = await kmem(['vmstat', '-t', '5', '3', '--workload', 'none'], { env: { TZ: 'UTC' } });
    expect(r.code).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines[1]).toMatch(/ {17}UTC$/);
    const times = lines.slice(2).map((l) => Date.parse(`${l.slice(-19).replace(' ', 'T')}Z`));
    expect(times.length).toBe(3);
    expect([times[1]! - times[0]!, times[2]! - times[1]!].map((d) => Math.round(d / 1000))).toEqual([5, 5]);
  });

  it('the header comes back every 21 lines off a terminal, not with -n', async () => {
    const [r, n] = await Promise.all([kmem(['vmstat', '1', '23', '--workload', 'none']), kmem(['vmstat', '-n', '1', '23', '--workload', 'none'])]);
    const heads = (s: string) => s.split('\n').filter((l) => l.startsWith('procs')).length;
    expect(heads(r.stdout)).toBe(2);
    expect(heads(n.stdout)).toBe(1);
    expect(r.stdout.split('\n')[23]).toMatch(/^procs/); // 2 header lines, the first line, then 20 more before line 21's header
  });

  it('-s and -a read the machine meminfo', async () => {
    const [s, mi] = await Promise.all([kmem(['vmstat', '-s', '--workload', 'none']), kmem(['cat', '/proc/meminfo', '--workload', 'none'])]);
    expect(s.code).toBe(0);
    const total = Number(/^MemTotal:\s+(\d+)/m.exec(mi.stdout)![1]);
    expect(s.stdout.split('\n')[0]).toBe(`${String(total).padStart(13)} K total memory`);
    expect(s.stdout.split('\n').length).toBe(29);
  });

  it('-d and -D read the machine /proc/diskstats (the fork-exec workload reads its programs from vda)', async () => {
    const [d, sum, cat, none] = await Promise.all([
      kmem(['vmstat', '-d', '--workload', 'fork-exec', '--steps', '2000']),
      kmem(['vmstat', '-D', '--workload', 'fork-exec', '--steps', '2000']),
      kmem(['cat', '/proc/diskstats', '--workload', 'fork-exec', '--steps', '2000']),
      kmem(['vmstat', '-d', '--workload', 'none']),
    ]);
    expect(d.code).toBe(0);
    const vda = cat.stdout
      .split('\n')
      .find((l) => / vda /.test(l))!
      .trim()
      .split(/\s+/);
    expect(d.stdout.split('\n')[2]).toBe(
      `vda   ${[3, 4, 5, 6, 7, 8, 9, 10].map((i, j) => vda[i]!.padStart([6, 6, 7, 7, 6, 6, 7, 7][j]!)).join(' ')} ${String(Math.trunc(Number(vda[11]) / 1000)).padStart(6)} ${String(Math.trunc(Number(vda[12]) / 1000)).padStart(6)}`,
    );
    expect(sum.stdout.split('\n').slice(0, 3)).toEqual(['            1 disks', '            0 partitions', `${vda[3]!.padStart(13)} total reads`]);
    expect(none.code).toBe(1);
    expect(none.stderr).toMatch(/^kmem: vmstat: Unable to create diskstat structure/);
  });

  it('argument errors: one line, exit 2', async () => {
    const [zero, word, unit] = await Promise.all([kmem(['vmstat', '0']), kmem(['vmstat', 'a']), kmem(['vmstat', '-S', 'x'])]);
    expect(zero.code).toBe(2);
    expect(zero.stderr).toBe('kmem: vmstat: delay must be positive integer\n');
    expect(word.code).toBe(2);
    expect(word.stderr).toBe("kmem: vmstat: failed to parse argument: 'a'\n");
    expect(unit.code).toBe(2);
    expect(unit.stderr).toBe('kmem: vmstat: -S requires k, K, m or M (default is KiB)\n');
  });
});
