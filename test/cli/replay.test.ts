/**
 * `kmem replay`: traces in each format (ftrace of 4.x, 5.x and 6.x kernels,
 * trace-cmd report, perf script; plain and gzip'd) replayed by the built
 * command, the report parsed back; malformed input of every kind with the
 * exact error; the real excerpts in test/fixtures/realdata.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildOnce, fixtures, kmem, kmemJson, realdata } from './helpers.js';

beforeAll(buildOnce, 180_000);

const tmp = mkdtempSync(join(tmpdir(), 'kmem-replay-test-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

interface Report {
  file: string;
  lines: number;
  events: number;
  skipped: number;
  machine: { memory: number; cpus: number; cpusFromTrace: boolean };
  header: { cpus: number; entriesInBuffer: number; entriesWritten: number } | null;
  lostShare: number;
  report: {
    events: Record<string, number>;
    slab: { allocs: number; frees: number; unknownFrees: number; nullFrees: number; remoteFrees: number; lostFrees: number; sizeMismatches: number };
    caches: {
      name: string;
      unknown: boolean;
      allocs: number;
      frees: number;
      objects: { peak: number; final: number };
      slabs: { peak: number; final: number } | null;
      waste: { total: number };
      remoteFrees: number;
      fastpath: { alloc: number };
      slowpath: { alloc: number };
    }[];
    callSites: { callSite: string; allocs: number; caches: string[] }[];
    pages: { allocations: { order: number; byMigratetype: Record<string, number> }[]; frees: number; unknownFrees: number };
    slubStats?: Record<string, Record<string, number>>;
  };
  slabinfo: string;
  buddyinfo: string;
}

const replay = (file: string, ...args: string[]) => kmemJson<Report>(['replay', file, ...args]);
const cache = (r: Report, name: string) => r.report.caches.find((c) => c.name === name);

/** Write a trace into the temporary directory. */
function trace(name: string, text: string | Buffer): string {
  const path = join(tmp, name);
  writeFileSync(path, text);
  return path;
}

const HEAD = '            bash-2103  [000] ....  5021.331102: ';

describe.concurrent('kmem replay', { timeout: 150_000 }, () => {
  it('ftrace text of a 4.x kernel: hex call sites, hashed pointers, kmalloc_node, decimal pfns', async () => {
    const r = await replay(`${fixtures}/ftrace-4x.txt`);
    expect(r.lines).toBe(22);
    expect(r.events).toBe(11);
    expect(r.machine).toMatchObject({ cpus: 2, cpusFromTrace: true, memory: 128 * 2 ** 20 });
    expect(r.report.events).toEqual({
      kmalloc: 1,
      kmalloc_node: 1,
      kfree: 3,
      kmem_cache_alloc: 1,
      kmem_cache_free: 1,
      mm_page_alloc: 2,
      mm_page_free: 1,
      mm_page_free_batched: 1,
    });
    expect(r.report.slab).toMatchObject({ allocs: 3, frees: 3, unknownFrees: 1, remoteFrees: 2, lostFrees: 0 });
    expect(cache(r, 'kmalloc-96')).toMatchObject({ allocs: 1, frees: 1, objects: { peak: 1, final: 0 }, remoteFrees: 1 });
    expect(cache(r, 'kmalloc-2k')).toMatchObject({ allocs: 1, frees: 1, remoteFrees: 1 });
    // no name anywhere: the cache is named after the call site and bytes_alloc
    expect(cache(r, 'ffffffff81263f1c-4096')).toMatchObject({ allocs: 1, frees: 1 });
    expect(r.report.pages.allocations).toEqual([
      { order: 0, byMigratetype: { Movable: 1 }, total: 1 },
      { order: 2, byMigratetype: { Unmovable: 1 }, total: 1 },
    ]);
    expect(r.report.pages).toMatchObject({ frees: 1, unknownFrees: 1 });
    expect(r.slabinfo.split('\n')[0]).toBe('slabinfo - version: 2.1');
    expect(r.buddyinfo).toMatch(/^Node 0, zone {6}DMA/);
  });

  it('ftrace text of a 5.x kernel: %pS call sites, module symbols, the TGID column, (null)', async () => {
    const r = await replay(`${fixtures}/ftrace-5x.txt`);
    expect(r.events).toBe(12);
    expect(r.machine.cpus).toBe(4);
    expect(r.report.slab).toMatchObject({ allocs: 5, frees: 5, nullFrees: 1, remoteFrees: 4 });
    // caches by well-known call sites (no name= before 5.12)
    for (const name of ['names_cache', 'filp', 'lsm_file_cache', 'skbuff_head_cache']) expect(cache(r, name)).toMatchObject({ allocs: 1, frees: 1 });
    expect(cache(r, 'skbuff_head_cache')!.waste.total).toBe(32);
    expect(cache(r, 'kmalloc-64')).toMatchObject({ allocs: 1, frees: 1, remoteFrees: 1 });
    expect(r.report.callSites.map((c) => c.callSite)).toContain('ext4_htree_store_dirent+0x35/0x110 [ext4]');
    expect(r.report.pages.allocations).toEqual([{ order: 0, byMigratetype: { Reclaimable: 1 }, total: 1 }]);
  });

  it('ftrace text of a 6.x kernel: node=, accounted=, name=, raw pointers, hex pfns, a large kmalloc', async () => {
    const r = await replay(`${fixtures}/ftrace-6x.txt`, '--allocator-stats');
    expect(r.events).toBe(13);
    expect(r.report.slab).toMatchObject({ allocs: 5, frees: 5, unknownFrees: 1, remoteFrees: 3 });
    // the caches named by the frees that follow, and by the alloc's own name=
    for (const name of ['names_cache', 'filp', 'maple_node']) expect(cache(r, name)).toMatchObject({ allocs: 1, frees: 1 });
    expect(cache(r, '(large kmalloc)')).toMatchObject({ allocs: 1, frees: 1, slabs: null });
    expect(cache(r, 'kmalloc-2k')!.waste.total).toBe(2048 - 1320);
    expect(r.report.pages.allocations).toEqual([{ order: 3, byMigratetype: { Unmovable: 1 }, total: 1 }]);
    expect(r.report.slubStats!.filp!.alloc_slowpath).toBe(1);
    const text = await kmem(['replay', `${fixtures}/ftrace-6x.txt`, '--allocator-stats']);
    expect(text.code).toBe(0);
    const lines = text.stdout.split('\n');
    expect(lines[0]).toMatch(/^.*ftrace-6x\.txt: 25 lines, 13 events in \d+\.\d\d s \(\d+ lines\/s\)$/);
    expect(lines[1]).toBe('events: kmalloc 2, kfree 2, kmem_cache_alloc 3, kmem_cache_free 4, mm_page_alloc 1, mm_page_free 1');
    expect(lines[2]).toBe("machine: 128M, 2 CPUs (the trace header's #P:2)");
    expect(text.stdout).toContain('== CONFIG_SLUB_STATS (non-zero counters, summed over CPUs)');
    expect(text.stdout).toContain('== page allocator (/proc/vmstat)');
    expect(text.stdout).toContain('\n== /proc/slabinfo\nslabinfo - version: 2.1\n');
  });

  it('keeps a call site beyond Latin-1 as the trace wrote it', async () => {
    const site = 'drv_\u2192_init+0x10/0x20 [módulo_ü]';
    const f = trace(
      'utf8-site.txt',
      `${HEAD}kmalloc: call_site=${site} ptr=ffff888100000040 bytes_req=50 bytes_alloc=64 gfp_flags=GFP_KERNEL node=-1 accounted=false\n`,
    );
    const r = await replay(f);
    expect(r.report.callSites.map((c) => c.callSite)).toEqual([site]);
  });

  it('trace-cmd report text, with the (sym+off) the kmem plugin prints', async () => {
    const r = await replay(`${fixtures}/trace-cmd.txt`);
    expect(r.events).toBe(6);
    expect(r.report.slab).toMatchObject({ allocs: 2, frees: 2, remoteFrees: 2 });
    expect(cache(r, 'kmalloc-512')).toMatchObject({ allocs: 1, frees: 1 });
    expect(cache(r, 'cred_jar')).toMatchObject({ allocs: 1, frees: 1 });
    expect(r.report.callSites.map((c) => c.callSite).sort()).toEqual(['load_elf_binary+0x1b1', 'prepare_creds+0x22']);
  });

  it('perf script text, with callchains, on the CPUs it names', async () => {
    const r = await replay(`${fixtures}/perf-script.txt`, '--cpus', '4');
    expect(r.machine).toMatchObject({ cpus: 4, cpusFromTrace: false });
    expect(r.events).toBe(6);
    expect(r.report.slab).toMatchObject({ allocs: 2, frees: 2, remoteFrees: 2 });
    expect(r.report.pages.allocations).toEqual([{ order: 1, byMigratetype: { Unmovable: 1 }, total: 1 }]);
    expect(r.report.pages.frees).toBe(1);
  });

  it('a gzip-compressed trace is read the same', async () => {
    const gz = trace('ftrace-6x.txt.gz', gzipSync(readFileSync(`${fixtures}/ftrace-6x.txt`)));
    const [a, b] = await Promise.all([replay(gz), replay(`${fixtures}/ftrace-6x.txt`)]);
    expect(a.report).toEqual(b.report);
  });

  it('many events: per-CPU fast paths, slabs, remote frees, lost frees, replayed in order', async () => {
    const lines: string[] = [];
    let t = 100;
    const at = (cpu: number) => {
      t += 0.000001;
      return `            bash-1  [00${cpu}] ..... ${t.toFixed(6)}: `;
    };
    for (let i = 0; i < 400; i++)
      lines.push(
        `${at(0)}kmalloc: call_site=seq_open+0x2c/0x80 ptr=ffff888101${(i * 64).toString(16).padStart(6, '0')} bytes_req=50 bytes_alloc=64 gfp_flags=GFP_KERNEL node=-1 accounted=false`,
      );
    for (let i = 0; i < 400; i++) lines.push(`${at(i % 2)}kfree: call_site=seq_release+0x20/0x40 ptr=ffff888101${(i * 64).toString(16).padStart(6, '0')}`);
    // the same pointer twice without a free between: the trace lost the free
    lines.push(`${at(1)}kmalloc: call_site=seq_open+0x2c/0x80 ptr=ffff888200000000 bytes_req=50 bytes_alloc=64 gfp_flags=GFP_KERNEL node=-1 accounted=false`);
    lines.push(`${at(1)}kmalloc: call_site=seq_open+0x2c/0x80 ptr=ffff888200000000 bytes_req=50 bytes_alloc=64 gfp_flags=GFP_KERNEL node=-1 accounted=false`);
    const r = await replay(trace('many.txt', `${lines.join('\n')}\n`));
    const c = cache(r, 'kmalloc-64')!;
    expect(c).toMatchObject({ allocs: 402, frees: 400, objects: { peak: 400, final: 1 }, remoteFrees: 200 });
    expect(c.slabs!.peak).toBeGreaterThanOrEqual(7);
    expect(c.fastpath.alloc).toBeGreaterThan(300);
    expect(c.slowpath.alloc).toBeGreaterThan(0);
    expect(c.waste.total).toBe(402 * 14);
    expect(r.report.slab.lostFrees).toBe(1);
    expect(r.report.callSites).toEqual([expect.objectContaining({ callSite: 'seq_open+0x2c/0x80', allocs: 402, caches: ['kmalloc-64'] })]);
  });

  it('kmem run --trace replays a kernel trace too', async () => {
    const r = await kmem(['run', '--trace', `${fixtures}/ftrace-5x.txt`]);
    expect(r.code).toBe(0);
    expect(r.stdout.split('\n')[1]).toBe('events: kmalloc 1, kfree 2, kmem_cache_alloc 4, kmem_cache_free 4, mm_page_alloc 1');
  });

  it('frees without allocations are counted, not errors', async () => {
    const f = trace(
      'frees.txt',
      `${HEAD}kfree: call_site=a+0x1/0x2 ptr=00000000deadbeef\n${HEAD}kmem_cache_free: call_site=b+0x1/0x2 ptr=00000000cafebabe name=dentry\n${HEAD}mm_page_free: page=0000000012345678 pfn=0x1234 order=0\n`,
    );
    const r = await replay(f);
    expect(r.report.slab).toMatchObject({ allocs: 0, frees: 0, unknownFrees: 2 });
    expect(r.report.pages).toMatchObject({ frees: 0, unknownFrees: 1 });
  });

  it('a file without kmem events: an error in the input, exit 1, no report', async () => {
    const f = trace('none.txt', '# tracer: nop\n#\nsome text\n          <idle>-0     [000] d..2.  1.000000: sched_switch: prev_comm=swapper/0\n');
    const r = await kmem(['replay', f, '--json']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(new RegExp(`^kmem: ${f.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: no kmem events found: none of its 4 lines is a kmem:\\* event`));
    expect(r.stdout).toBe('');
  });

  it.each([
    [
      'a line cut short',
      `${HEAD}kmalloc: call_site=a+0x1/0x2 ptr=00000000deadbeef bytes_req=8`,
      'malformed kmem:kmalloc line: "%LINE%" (no bytes_alloc= field)',
    ],
    [
      'a line cut inside a key',
      `${HEAD}kmalloc: call_site=a+0x1/0x2 ptr=00000000deadbeef bytes_req=8 bytes_al`,
      'malformed kmem:kmalloc line: "%LINE%" (truncated at "bytes_al")',
    ],
    ['a line cut inside the event name', `${HEAD}kmem_cache_al`, 'malformed trace line: "%LINE%" (truncated event name)'],
    ['an unknown kmem event', `${HEAD}kmem_cache_bogus: call_site=a ptr=1`, 'unknown kmem event kmem:kmem_cache_bogus: "%LINE%"'],
    ['an unknown perf kmem event', 'bash 1 [000] 1.000000: kmem:kfreeze: call_site=x ptr=1', 'unknown kmem event kmem:kfreeze: "%LINE%"'],
    [
      'a bad number',
      `${HEAD}kmalloc: call_site=a+0x1/0x2 ptr=00000000deadbeef bytes_req=12x bytes_alloc=16 gfp_flags=GFP_KERNEL`,
      'malformed kmem:kmalloc line: "%LINE%" (bad bytes_req= value "12x")',
    ],
    [
      'a bad pfn',
      `${HEAD}mm_page_alloc: page=x pfn=zz order=0 migratetype=0 gfp_flags=GFP_KERNEL`,
      'malformed kmem:mm_page_alloc line: "%LINE%" (bad pfn= value "zz")',
    ],
    [
      'a bad CPU column',
      '            bash-2103  [0a0] ....  5021.331102: kfree: call_site=foo ptr=1',
      'malformed kmem:kfree line: "%LINE%" (bad CPU column "[0a0]")',
    ],
  ])('%s: exit 1, the file, the line number and the line quoted', async (_what, bad, message) => {
    const f = trace(
      `bad-${_what.replace(/\W+/g, '-')}.txt`,
      `# tracer: nop\n${HEAD}kfree: call_site=a+0x1/0x2 ptr=0000000000000000\n${bad}\n${HEAD}kfree: call_site=a+0x1/0x2 ptr=0000000000000000\n`,
    );
    const r = await kmem(['replay', f]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(`kmem: ${f}:3: ${message.replace('%LINE%', JSON.stringify(bad).slice(1, -1))}\n`);
    const skip = await kmemJson<Report>(['replay', f, '--skip-bad']);
    expect(skip.skipped).toBe(1);
    expect(skip.report.slab.nullFrees).toBe(2);
  });

  it('binary garbage: a NUL byte, invalid UTF-8', async () => {
    const nul = trace('nul.txt', Buffer.concat([Buffer.from(`${HEAD}kfree: call_site=a ptr=0000`), Buffer.from([0, 0x41]), Buffer.from('\n')]));
    const r1 = await kmem(['replay', nul]);
    expect(r1.code).toBe(1);
    expect(r1.stderr).toBe(`kmem: ${nul}:1: malformed trace line: "${HEAD}kfree: call_site=a ptr=0000\\u0000A" (NUL byte)\n`);
    const bin = trace('bin.txt', Buffer.concat([Buffer.from('# ok\n'), Buffer.from([0xff, 0xfe, 0x80, 0x41, 0x0a])]));
    const r2 = await kmem(['replay', bin]);
    expect(r2.code).toBe(1);
    expect(r2.stderr).toBe(`kmem: ${bin}:2: malformed trace line: "\uFFFD\uFFFD\uFFFDA" (invalid UTF-8)\n`);
    const binThenEvent = trace(
      'bin-event.txt',
      Buffer.concat([Buffer.from('# ok\n'), Buffer.from([0xff, 0xfe, 0x80, 0x41, 0x0a]), Buffer.from(`${HEAD}kfree: call_site=a+0x1/0x2 ptr=0\n`)]),
    );
    const r3 = await kmemJson<Report>(['replay', binThenEvent, '--skip-bad']);
    expect(r3.skipped).toBe(1);
    expect(r3.events).toBe(1);
  });

  it('a missing file or a directory: one line, exit 2', async () => {
    const missing = await kmem(['replay', join(tmp, 'no-such-trace.txt')]);
    expect(missing.code).toBe(2);
    expect(missing.stdout).toBe('');
    expect(missing.stderr).toBe(`kmem: ${join(tmp, 'no-such-trace.txt')}: no such file or directory\n`);
    const dir = await kmem(['replay', tmp]);
    expect(dir.code).toBe(2);
    expect(dir.stderr).toBe(`kmem: ${tmp}: is a directory, not a trace file\n`);
    const gz = await kmem(['replay', trace('broken.gz', Buffer.from([0x1f, 0x8b, 8, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9]))]);
    expect(gz.code).toBe(2);
    expect(gz.stderr).toMatch(/^kmem: .*broken\.gz: corrupt gzip data/);
  });

  it('the real 5.4 capture in test/fixtures/realdata/kmem-trace-1.txt', async () => {
    const r = await replay(`${realdata}/kmem-trace-1.txt`);
    expect(r.events).toBe(15);
    expect(r.machine.cpus).toBe(4);
    expect(r.report.events).toEqual({ kmem_cache_alloc: 15 });
    expect(cache(r, 'names_cache')!.allocs).toBe(2);
    expect(cache(r, 'filp')!.allocs).toBe(2);
    expect(cache(r, 'skbuff_head_cache')!.waste.total).toBe(32);
  });

  it('a real 6.1 excerpt: CPUs from the header, unknown caches listed, bytes_alloc mismatches counted', async () => {
    const f = join(fixtures, '../../fixtures/trace/linux-6.1-qemu-2cpu-excerpt.txt');
    // on 6.18's geometry (--kernel): no table of the 6.1 machine's caches finds the unnamed ones by their slot
    const r = await replay(f, '--mem', '256M', '--kernel', '6.18');
    expect(r.machine).toMatchObject({ cpus: 2, cpusFromTrace: true, kernel: '6.18', kernelFromTrace: false });
    expect(r.header).toEqual({ cpus: 2, entriesInBuffer: 459273, entriesWritten: 459273 });
    expect(r.lostShare).toBe(0);
    const text = await kmem(['replay', f, '--mem', '256M', '--kernel', '6.18']);
    expect(text.code).toBe(0);
    expect(text.stdout).toContain("machine: 256M, 2 CPUs (the trace header's #P:2); SLUB geometry of 6.18 (--kernel)");
    const unknown = r.report.caches.filter((c) => c.unknown);
    expect(unknown.length).toBeGreaterThan(0);
    expect(text.stdout).toMatch(/^unknown caches: \d+ kmem_cache_alloc events of \d+ call sites whose cache no event of the trace names/m);
    for (const c of unknown) expect(text.stdout).toContain(`${c.name}?`);
    const m = r.report.slab.sizeMismatches;
    expect(text.stdout.includes(`bytes_alloc mismatches: ${m} allocations`)).toBe(m > 0);
    expect(text.stderr).toBe('');
  });

  it('a 6.1 trace (kmem_cache_alloc without name=, kmem_cache_free with it) replays on 6.1 geometry; --kernel says otherwise; a bad --kernel is a usage error', async () => {
    const f = join(fixtures, '../../fixtures/trace/linux-6.1-qemu-2cpu-excerpt.txt');
    const r = await replay(f, '--mem', '256M');
    expect(r.machine).toMatchObject({ kernel: '6.1', kernelFromTrace: true });
    // 6.1's kmem_cache_node is 64 bytes (6.18's 72, in a 128-byte slot)
    expect(r.slabinfo).toMatch(/^kmem_cache_node\s+\d+\s+\d+\s+64 /m);
    const text = await kmem(['replay', f, '--mem', '256M']);
    expect(text.stdout).toContain('SLUB geometry of 6.1 (its kmem_cache_alloc events print no name=)');
    const bad = await kmem(['replay', f, '--kernel', '5.4']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("--kernel: expected 6.1 or 6.18, got '5.4'");
  });

  it('a trace whose header says events were lost: a warning with the share lost, on stderr and in the report', async () => {
    const f = trace(
      'lost.txt',
      `# tracer: nop\n#\n# entries-in-buffer/entries-written: 3/4   #P:1\n#\n${HEAD}kmalloc: call_site=seq_open+0x2c/0x80 ptr=ffff888003c1e540 bytes_req=8 bytes_alloc=8 gfp_flags=GFP_KERNEL node=-1 accounted=false\n`,
    );
    const text = await kmem(['replay', f]);
    expect(text.code).toBe(0);
    expect(text.stderr).toBe(
      'kmem replay: warning: the trace lost 25.0% of its events (entries-in-buffer/entries-written: 3/4): objects allocated in what was lost are freed as "older than the trace", and caches may be short\n',
    );
    expect(text.stdout).toContain('warning: the trace lost 25.0% of its events');
    expect(text.stdout).toContain("machine: 128M, 1 CPUs (the trace header's #P:1)");
  });

  it('the real excerpts in test/fixtures/realdata/kmem-trace-2.txt (its wrapped lines are malformed)', async () => {
    const f = `${realdata}/kmem-trace-2.txt`;
    const strict = await kmem(['replay', f]);
    expect(strict.code).toBe(1);
    expect(strict.stderr).toBe(
      `kmem: ${f}:42: malformed kmem:kmalloc line: "kmalloc: call_site=mem_cgroup_css_alloc+0xd8/0x5b4 ptr=000000003e4c3799" (no bytes_req= field)\n`,
    );
    const r = await replay(f, '--skip-bad');
    expect(r.skipped).toBe(2);
    expect(r.report.events).toMatchObject({ kmalloc: 3, kfree: 3, kmem_cache_alloc: 8, kmem_cache_free: 6, mm_page_alloc: 4 });
    expect(cache(r, 'names_cache')!.allocs).toBe(3);
  });
});
