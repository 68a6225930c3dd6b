/**
 * The kmem command as a user runs it (the built package, a child process):
 * exit codes, the first lines of each output against the kernel's formats,
 * --json parsed back, every workload, the machine options.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { buildOnce, fixtures, kmem, kmemJson, root } from './helpers.js';

beforeAll(buildOnce, 180_000);

// The printf formats the outputs follow, as regular expressions.
const SLABINFO_HEADER = [
  'slabinfo - version: 2.1',
  '# name            <active_objs> <num_objs> <objsize> <objperslab> <pagesperslab> : tunables <limit> <batchcount> <sharedfactor> : slabdata <active_slabs> <num_slabs> <sharedavail>',
];
/** "%-17s %6lu %6lu %6u %4u %4d : tunables %4u %4u %4u : slabdata %6lu %6lu %6lu" */
const SLABINFO_ROW = /^\S.{16,} [ \d]{5}\d [ \d]{5}\d [ \d]{5}\d [ \d]{3}\d [ \d]{3}\d : tunables {4}0 {4}0 {4}0 : slabdata [ \d]{5}\d [ \d]{5}\d {6}0$/;
/** "Node %d, zone %8s " then "%6lu " per order */
const BUDDYINFO_ROW = /^Node 0, zone [ A-Za-z0-9]{8}( [ \d]{5}\d){11} $/;
/** slabtop: " %-35s: %u / %u (%.1f%%)" ... */
const SLABTOP_SUMMARY = [
  /^ Active \/ Total Objects \(% used\) {4}: \d+ \/ \d+ \(\d+\.\d%\)$/,
  /^ Active \/ Total Slabs \(% used\) {6}: \d+ \/ \d+ \(\d+\.\d%\)$/,
  /^ Active \/ Total Caches \(% used\) {5}: \d+ \/ \d+ \(\d+\.\d%\)$/,
  /^ Active \/ Total Size \(% used\) {7}: \d+\.\d\dK \/ \d+\.\d\dK \(\d+\.\d%\)$/,
  /^ Minimum \/ Average \/ Maximum Object : \d+\.\d\dK \/ \d+\.\d\dK \/ \d+\.\d\dK$/,
];
const SLABTOP_HEADER = '  OBJS ACTIVE  USE OBJ SIZE  SLABS OBJ/SLAB CACHE SIZE NAME'.padEnd(78);
/** "%6u %6u %3u%% %7.2fK %6u %8u %9luK %-23s" */
const SLABTOP_ROW = /^[ \d]{5}\d [ \d]{5}\d [ \d]{2}\d% [ \d]{3}\d\.\d\dK [ \d]{5}\d [ \d]{7}\d [ \d]{8}\dK \S.{22,}$/;
/** tools/mm/slabinfo: "%-21s %8ld %7d %15s %14s %4d %1d %3ld %3ld %s" */
const TOOL_HEADER = 'Name                   Objects Objsize           Space Slabs/Part/Cpu  O/S O %Fr %Ef Flg';
const TOOL_ROW = /^\S.{20,} [ \d]{7}\d [ \d]{6}\d [ \d.KMG]{15} [ \d/]{14} [ \d]{3}\d \d [ \d]{2}\d [ \d]{2}\d [*dAPaZFUT]*$/;

const FAST = ['--steps', '2000'];

/** The commands every --help test covers. */
const COMMANDS = ['run', 'cat', 'slabinfo', 'buddyinfo', 'zoneinfo', 'pagetypeinfo', 'vmstat', 'free', 'dmesg', 'top', 'slabinfo-report', 'whatis', 'replay'];

describe.concurrent('kmem', { timeout: 150_000 }, () => {
  it('--help lists every command with an example, --version prints it', async () => {
    const r = await kmem(['--help']);
    expect(r.code).toBe(0);
    for (const c of COMMANDS) {
      expect(r.stdout).toMatch(new RegExp(`^  ${c} `, 'm'));
    }
    expect(r.stdout).toContain('$ kmem run');
    const v = await kmem(['--version']);
    expect(v.code).toBe(0);
    expect(v.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
  });

  it.each(COMMANDS)('%s --help shows the machine options and an example', async (c) => {
    const r = await kmem([c, '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Usage: kmem /);
    for (const o of ['--mem', '--cpus', '--kasan', '--slub-debug', '--seed', '--zones', '--slub-min-order', '--slab-nomerge']) expect(r.stdout).toContain(o);
    expect(r.stdout).toMatch(/Examples?:\n {2}\$ kmem /);
  });

  it('usage errors exit 2 with one line on stderr', async () => {
    const bad = await kmem(['run', '--no-such-option']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/unknown option '--no-such-option'/);
    const cpus = await kmem(['run', '--cpus', 'two']);
    expect(cpus.code).toBe(2);
    expect(cpus.stderr).toBe("kmem: --cpus: expected a whole number, got 'two'\n");
    const wl = await kmem(['run', '--workload', 'nope']);
    expect(wl.code).toBe(2);
    expect(wl.stderr).toMatch(/Allowed choices are boot, fork-exec, network, fragment, leak, malloc-trace, none/);
    const mem = await kmem(['run', '--mem', '1K']);
    expect(mem.code).toBe(2);
    expect(mem.stderr).toMatch(/^kmem: --mem: /);
    const cmd = await kmem(['frobnicate']);
    expect(cmd.code).toBe(2);
  });

  it('run: boot log, memory, top caches in slabtop columns, buddyinfo, reports', async () => {
    const r = await kmem(['run', ...FAST]);
    expect(r.code).toBe(0);
    const lines = r.stdout.split('\n');
    expect(lines[0]).toBe('== dmesg (boot)');
    expect(lines[1]).toBe('[    0.000000] Zone ranges:');
    expect(r.stdout).toContain('SLUB: HWalign=64, Order=0-3, MinObjects=0, CPUs=2, Nodes=1');
    expect(r.stdout).toMatch(/^MemTotal: +131068 kB$/m);
    expect(r.stdout).toMatch(/^Slab: +\d+ kB$/m);
    const top = lines.indexOf(SLABTOP_HEADER.trimEnd());
    expect(top).toBeGreaterThan(0);
    expect(lines[top - 1]).toBe('== top caches by size (workload: boot, 2000 operations)');
    for (let i = top + 1; i <= top + 10; i++) expect(`${lines[i]!}`.padEnd(78)).toMatch(SLABTOP_ROW);
    const bi = lines.indexOf('== /proc/buddyinfo');
    expect(lines[bi + 1]).toMatch(BUDDYINFO_ROW);
    expect(lines[bi + 2]).toMatch(BUDDYINFO_ROW);
    expect(r.stdout).toContain('== reports: none');
  });

  it('run --json parses back and is deterministic for a seed', async () => {
    type S = {
      machine: { memory: number; cpus: number; seed: number; workload: string; steps: number };
      memory: { totalKb: number; slabKb: number };
      topCaches: { name: string; objs: number }[];
      buddyinfo: { zone: string; free: number[] }[];
      reports: string[];
    };
    const [a, b, c] = await Promise.all([
      kmemJson<S>(['run', '--workload', 'fork-exec', '--cpus', '4', '--mem', '256M', '--seed', '7', ...FAST]),
      kmemJson<S>(['run', '--workload', 'fork-exec', '--cpus', '4', '--mem', '256M', '--seed', '7', ...FAST]),
      kmemJson<S>(['run', '--workload', 'fork-exec', '--cpus', '4', '--mem', '256M', '--seed', '8', ...FAST]),
    ]);
    expect(a.machine).toMatchObject({ memory: 256 * 2 ** 20, cpus: 4, seed: 7, workload: 'fork-exec', steps: 2000 });
    expect(a.memory.totalKb).toBeGreaterThan(250_000);
    expect(a.topCaches.length).toBe(10);
    expect(a.buddyinfo.map((z) => z.zone)).toEqual(['DMA', 'DMA32']);
    expect(a.buddyinfo[0]!.free).toHaveLength(11);
    expect(b).toEqual(a);
    expect(c.topCaches).not.toEqual(a.topCaches);
    expect(a.reports).toEqual([]);
  });

  it.each([
    ['fork-exec', ['task_struct', 'vm_area_struct', 'mm_struct']],
    ['network', ['skbuff_head_cache', 'kmalloc-2k', 'TCP']],
    ['leak', ['kmalloc-192']],
    ['boot', ['task_struct', 'mm_struct']],
  ])('the %s workload fills its caches', async (w, caches) => {
    const s = await kmemJson<{ topCaches: { name: string }[] }>(['run', '--workload', w, '--steps', '5000']);
    const names = s.topCaches.map((c) => c.name);
    for (const c of caches) expect(names).toContain(c);
  });

  it('the leak workload grows kmalloc-192 steadily', async () => {
    const objs = async (steps: string) => {
      const j = await kmemJson<{ caches: { name: string; activeObjs: number }[] }>(['slabinfo', '--workload', 'leak', '--steps', steps]);
      return j.caches.find((c) => c.name === 'kmalloc-192')!.activeObjs;
    };
    const [a, b] = await Promise.all([objs('4000'), objs('12000')]);
    expect(b).toBeGreaterThan(a * 2);
  });

  it('the network workload frees on other CPUs (slab stats count remote frees)', async () => {
    const r = await kmem(['cat', '/sys/kernel/slab/skbuff_head_cache/free_frozen', '--workload', 'network', '--slub-stats', '--steps', '4000']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^\d+( C\d+=\d+)*\n$/);
    expect(Number(r.stdout.split(' ')[0])).toBeGreaterThan(0);
  });

  it('the fragment workload breaks up the buddy allocator', async () => {
    const [before, after] = await Promise.all([
      kmemJson<{ zones: { zone: string; free: number[] }[] }>(['buddyinfo', '--workload', 'none']),
      kmemJson<{ zones: { zone: string; free: number[] }[] }>(['buddyinfo', '--workload', 'fragment', '--steps', '20000']),
    ]);
    const z0 = before.zones.find((z) => z.zone === 'DMA32')!.free;
    const z1 = after.zones.find((z) => z.zone === 'DMA32')!.free;
    expect(z1[10]!).toBeLessThan(z0[10]!);
    // Split blocks of orders 0..9 (order-0 pages mostly sit on the pcp lists, not here).
    const small = (f: number[]) => f.slice(0, 10).reduce((a, b) => a + b, 0);
    expect(small(z1)).toBeGreaterThan(small(z0) + 5);
    const u = await kmem(['cat', '/sys/kernel/debug/extfrag/unusable_index', '--workload', 'fragment', '--steps', '20000']);
    expect(u.stdout).toMatch(/^Node 0, zone +DMA32 0\.\d{3}/m);
  });

  it('the malloc-trace workload replays the built-in sample, or a file', async () => {
    const sample = await kmemJson<{ machine: { workload: string; steps: number } }>(['run', '--workload', 'malloc-trace']);
    expect(sample.machine.workload).toBe('malloc-trace');
    expect(sample.machine.steps).toBeGreaterThan(300);
    const file = await kmemJson<{ machine: { steps: number }; memory: { slabKb: number } }>(['run', '--trace', `${fixtures}/malloc.trace`]);
    expect(file.machine.steps).toBe(7);
    const missing = await kmem(['run', '--trace', `${fixtures}/no-such.trace`]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toBe(`kmem: ${fixtures}/no-such.trace: no such file or directory\n`);
  });

  it('slabinfo: the /proc/slabinfo format; --json gives the rows', async () => {
    const r = await kmem(['slabinfo', ...FAST]);
    expect(r.code).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines.slice(0, 2)).toEqual(SLABINFO_HEADER);
    for (const l of lines.slice(2)) expect(l).toMatch(SLABINFO_ROW);
    const j = await kmemJson<{ caches: { name: string; numObjs: number; objsize: number }[] }>(['slabinfo', ...FAST]);
    expect(j.caches.length).toBe(lines.length - 2);
    expect(j.caches.map((c) => c.name)).toContain('kmalloc-64');
  });

  it('cat serves /proc and /sys files; shorthands print the same', async () => {
    const [cat, short, attr, vm, missing] = await Promise.all([
      kmem(['cat', '/proc/buddyinfo', ...FAST]),
      kmem(['buddyinfo', ...FAST]),
      kmem(['cat', '/sys/kernel/slab/kmalloc-64/object_size', '--workload', 'none']),
      kmemJson<{ counters: Record<string, number> }>(['cat', '/proc/vmstat', '--workload', 'none']),
      kmem(['cat', '/proc/nope', '--workload', 'none']),
    ]);
    expect(cat.stdout).toBe(short.stdout);
    expect(cat.stdout.split('\n')[0]).toMatch(BUDDYINFO_ROW);
    expect(attr.stdout).toBe('64\n');
    expect(vm.counters.nr_free_pages).toBeGreaterThan(30000);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toBe('kmem: cat: /proc/nope: No such file or directory\n');
    const [zi, pti] = await Promise.all([kmem(['zoneinfo', '--workload', 'none']), kmem(['pagetypeinfo', '--workload', 'none'])]);
    expect(zi.stdout.split('\n')[0]).toBe('Node 0, zone      DMA');
    expect(pti.stdout.split('\n').slice(0, 2)).toEqual(['Page block order: 9', 'Pages per block:  512']);
  });

  it('dmesg prints the log; --json its lines', async () => {
    const [r, j] = await Promise.all([kmem(['dmesg', '--workload', 'none']), kmemJson<{ lines: string[] }>(['dmesg', '--workload', 'none'])]);
    expect(r.stdout.split('\n')[0]).toBe('[    0.000000] Zone ranges:');
    expect(j.lines.join('\n')).toBe(r.stdout.trimEnd());
  });

  it('machine options: --zones, --slub-min-order, --slab-nomerge, --slub-debug, --kasan', async () => {
    const zones = await kmem(['zoneinfo', '--zones', 'DMA=16M,DMA32=48M', '--workload', 'none']);
    expect(zones.code).toBe(0);
    expect(zones.stdout).toMatch(/zone +DMA32\n[\s\S]*?spanned +12288/);
    const badZones = await kmem(['run', '--zones', 'HIGH=1G']);
    expect(badZones.code).toBe(2);
    expect(badZones.stderr).toMatch(/^kmem: --zones: expected NAME=SIZE/);
    const order = await kmem(['cat', '/sys/kernel/slab/kmalloc-64/order', '--slub-min-order', '2', '--workload', 'none']);
    expect(order.stdout).toBe('2\n');
    const dbg = await kmem(['cat', '/sys/kernel/slab/kmalloc-64/red_zone', '--slub-debug', 'FZ', '--workload', 'none']);
    expect(dbg.stdout).toBe('1\n');
    const kasan = await kmem(['dmesg', '--kasan', '--workload', 'none']);
    expect(kasan.code).toBe(0);
  });

  it('top -o prints one slabtop screen: header, columns, every cache', async () => {
    const r = await kmem(['top', '-o', ...FAST]);
    expect(r.code).toBe(0);
    const lines = r.stdout.split('\n');
    for (let i = 0; i < 5; i++) expect(lines[i]).toMatch(SLABTOP_SUMMARY[i]!);
    expect(lines[5]).toBe('');
    expect(lines[6]).toBe(SLABTOP_HEADER);
    const rows = lines.slice(7, -1);
    for (const l of rows) expect(l).toMatch(SLABTOP_ROW);
    // default sort: number of objects, descending
    const objs = rows.map((l) => Number(l.slice(0, 6)));
    expect([...objs].sort((a, b) => b - a)).toEqual(objs);
    const byName = await kmem(['top', '-o', '-s', 'n', ...FAST]);
    const names = byName.stdout
      .split('\n')
      .slice(7, -1)
      .map((l) => l.slice(55).trim());
    expect([...names].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))).toEqual(names);
    const j = await kmemJson<{ summary: { totalCaches: number }; caches: unknown[] }>(['top', '-o', '-s', 'c', ...FAST]);
    expect(j.caches.length).toBe(j.summary.totalCaches);
    // not a terminal: one screen, as with -o
    const piped = await kmem(['top', '--steps', '500']);
    expect(piped.code).toBe(0);
    expect(piped.stdout.split('\n')[6]).toBe(SLABTOP_HEADER);
    const both = await kmem(['top', '-o', '-d', '2']);
    expect(both.code).toBe(2);
    expect(both.stderr).toBe('kmem: Cannot combine -d and -o options\n');
  });

  it('slabinfo-report: the tools/mm/slabinfo report, -S, -L, -r, --json', async () => {
    const r = await kmem(['slabinfo-report', ...FAST]);
    expect(r.code).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines[0]).toBe(TOOL_HEADER);
    for (const l of lines.slice(1)) expect(l).toMatch(TOOL_ROW);
    const names = lines.slice(1).map((l) => l.slice(0, 21).trim().toLowerCase());
    expect([...names].sort()).toEqual(names);
    const loss = await kmem(['slabinfo-report', '-L', ...FAST]);
    expect(loss.stdout.split('\n')[0]).toBe(TOOL_HEADER.replace('Space', ' Loss'));
    const j = await kmemJson<{ caches: { name: string; size: number; flags: string }[] }>(['slabinfo-report', '-S', ...FAST]);
    const sizes = j.caches.map((c) => c.size);
    expect([...sizes].sort((a, b) => b - a)).toEqual(sizes);
    expect(j.caches.find((c) => c.name === 'dentry')!.flags).toBe('Aa');
    const one = await kmem(['slabinfo-report', '-r', 'kmalloc-192', '--workload', 'leak', '--slub-stats', ...FAST]);
    const ol = one.stdout.split('\n');
    expect(ol[1]).toMatch(/^Slabcache: kmalloc-192 {6}Aliases: {2}0 Order : {2}0 Objects: \d+$/);
    expect(one.stdout).toContain('Sizes (bytes)     Slabs              Debug                Memory');
    expect(one.stdout).toMatch(/^Object : {5}192 {2}Total {2}: +\d+ {3}Sanity Checks : Off {2}Total: +\d+$/m);
    expect(one.stdout).toContain('Slab Perf Counter       Alloc     Free %Al %Fr');
    const none = await kmem(['slabinfo-report', '-r', 'no_such_cache', '--workload', 'none']);
    expect(none.code).toBe(1);
    expect(none.stderr).toBe("kmem: slabinfo-report: no cache named 'no_such_cache'\n");
  });

  it('whatis: slab object, free page, tracks with slub_debug=U, bad addresses', async () => {
    // the first slab of a freshly booted default machine, found through the library
    const lib = (await import(`${root}/dist/index.js`)) as {
      boot: (o?: object) => { pages: { nr: number; pageType: Uint8Array; slabCache: Int32Array }; slub: { caches: { name: string }[] } };
    };
    const k = lib.boot({});
    let pfn = 1;
    while (k.pages.pageType[pfn] !== 0xf5) pfn++;
    const cache = k.slub.caches[k.pages.slabCache[pfn]!]!.name;
    const addr = `ffff888${(pfn * 4096 + 8).toString(16).padStart(9, '0')}`;
    const r = await kmem(['whatis', addr, '--workload', 'none']);
    expect(r.code).toBe(0);
    const lines = r.stdout.split('\n');
    expect(lines[0]).toMatch(new RegExp(`^${addr}: allocated ${cache} object ffff888[0-9a-f]+, offset 8 of \\d+$`));
    expect(lines[1]).toBe('CACHE                OBJSIZE  ALLOCATED     TOTAL  SLABS  SSIZE');
    expect(lines[3]).toBe('  SLAB              MEMORY            NODE  TOTAL  ALLOCATED  FREE');
    expect(r.stdout).toContain('      PAGE        PHYSICAL      MAPPING       INDEX CNT FLAGS');
    type W = { state: string; zone: string; slab?: { cache: string; offset: number; free: boolean; tracks: string[] }; block?: { order: number } };
    const j = await kmemJson<W>(['whatis', addr, '--workload', 'none', '--slub-debug', 'U']);
    expect(j.state).toBe('slab');
    expect(j.slab!.cache).toBe(cache);
    expect(j.slab!.free).toBe(false);
    expect(j.slab!.tracks[0]).toMatch(/^Allocated in .* age=\d+ cpu=\d+ pid=\d+$/);
    const page = await kmemJson<W>(['whatis', '0x7fff000', '--workload', 'none']);
    expect(page).toMatchObject({ state: 'buddy', zone: 'DMA32', block: { order: 10 } });
    const out = await kmem(['whatis', '0x8000000', '--workload', 'none']);
    expect(out.code).toBe(1);
    expect(out.stderr).toMatch(/^kmem: whatis: 0x8000000 is outside the machine's memory/);
    const bad = await kmem(['whatis', 'zzz', '--workload', 'none']);
    expect(bad.code).toBe(2);
  });
});
