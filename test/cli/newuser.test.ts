/**
 * What a new user runs into first: bad option values get one line and exit 2
 * (never a stack trace), messages name the command line's options, and the
 * command warns where a default would surprise.
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildOnce, cli, fixtures, kmem, kmemJson, root } from './helpers.js';

beforeAll(buildOnce, 180_000);

const tmp = mkdtempSync(join(tmpdir(), 'kmem-newuser-test-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** Start `kmem serve args...`, wait for its URL line, stop it; what it printed. */
function serveOnce(args: string[]): Promise<{ stdout: string; stderr: string }> {
  return new Promise((res, rej) => {
    const child = spawn(process.execPath, [cli, 'serve', ...args], { cwd: root, env: { ...process.env, NO_COLOR: '1' } });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      rej(new Error(`kmem serve did not start: ${stderr}`));
    }, 30_000);
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
    });
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
      if (stdout.includes('Ctrl-C')) child.kill('SIGINT');
    });
    child.on('close', () => {
      clearTimeout(timer);
      res({ stdout, stderr });
    });
  });
}

/** Write a file into the temporary directory. */
function file(name: string, text: string | Buffer): string {
  const path = join(tmp, name);
  writeFileSync(path, text);
  return path;
}

const HEAD = '           sshd-1201    [000] .....  4582.696630: ';

interface Replayed {
  events: number;
  report: {
    caches: { name: string; allocs: number }[];
    callSites: { callSite: string; allocs: number }[];
    slab: { allocs: number; failedInReplay: number };
    pages: { failures: number };
  };
}

/** A one-line usage error: exit 2, no stack trace. */
function expectUsageError(r: { code: number | null; stderr: string }): void {
  expect(r.code).toBe(2);
  expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
  expect(r.stderr).not.toMatch(/\n\s+at /);
}

describe.concurrent('a new user', { timeout: 150_000 }, () => {
  it.each(['99999', '-1', 'abc', '65536', '1.5'])('serve --port %s: one line, exit 2', async (port) => {
    const r = await kmem(['serve', '--port', port, '--dir', tmp]);
    expectUsageError(r);
    expect(r.stderr).toMatch(/--port/);
  });

  it('serve on a non-loopback host warns that the view is reachable from the network; on loopback it does not', async () => {
    writeFileSync(join(tmp, 'index.html'), '<!doctype html>\n');
    const open = await serveOnce(['--host', '0.0.0.0', '--port', '0', '--dir', tmp]);
    expect(open.stdout).toMatch(/^kmem serve: http:\/\//);
    expect(open.stderr).toMatch(/warning: .*reachable from the network/);
    const local = await serveOnce(['--host', '127.0.0.1', '--port', '0', '--dir', tmp]);
    expect(local.stdout).toMatch(/^kmem serve: http:\/\/127\.0\.0\.1:\d+\//);
    expect(local.stderr).toBe('');
  });

  // ── kmem replay ──────────────────────────────────────────────────────────

  it('replay of an empty file, or of one without kmem events, exits 1: no kmem events found', async () => {
    for (const path of [file('empty.txt', ''), file('prose.txt', '# tracer: nop\nhello world\n  bash-1 [000] .... 1.0: sched_switch: prev_comm=bash\n')]) {
      const r = await kmem(['replay', path]);
      expect(r.code).toBe(1);
      expect(r.stdout).toBe('');
      expect(r.stderr).toMatch(/^kmem: .*: no kmem events found/);
      expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
    }
  });

  it('replay of a binary file says so in one short line', async () => {
    const bytes = Buffer.alloc(4096);
    for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 131 + 7) & 0xff;
    const r = await kmem(['replay', file('blob.bin', bytes)]);
    expect(r.code).not.toBe(0);
    expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(r.stderr.length).toBeLessThan(300);
    // binary bytes after some text lines: the quoted line is cut at 60 characters
    const late = Buffer.concat([Buffer.from('# a comment line\n'.repeat(40)), Buffer.from([0x61, 0x62, 0x63]), Buffer.alloc(2000, 0xfe), Buffer.from('\n')]);
    const r2 = await kmem(['replay', file('late.bin', late)]);
    expect(r2.code).toBe(1);
    expect(r2.stderr.trimEnd().split('\n')).toHaveLength(1);
    const quoted = /"(.*)\.\.\."/.exec(r2.stderr)?.[1];
    expect(quoted).toBeDefined();
    expect([...JSON.parse(`"${quoted}"`)].length).toBeLessThanOrEqual(60);
  });

  it('replay - reads standard input, as its help says; a FIFO and CR-only line ends read too', async () => {
    const text = (await import('node:fs')).readFileSync(`${fixtures}/ftrace-6x.txt`, 'utf8');
    const stdin = await kmem(['replay', '-', '--json'], { input: text });
    expect(stdin.code).toBe(0);
    expect((JSON.parse(stdin.stdout) as Replayed).events).toBe(13);
    const nothing = await kmem(['replay', '-'], { input: '' });
    expect(nothing.code).toBe(1);
    expect(nothing.stderr).toMatch(/^kmem: \(standard input\): no kmem events found/);
    const cr = await kmemJson<Replayed>(['replay', file('cr.txt', text.replace(/\n/g, '\r'))]);
    expect(cr.events).toBe(13);
    const fifo = join(tmp, 'fifo');
    execFileSync('mkfifo', [fifo]);
    const writer = import('node:fs').then((fs) => fs.promises.writeFile(fifo, text));
    const viaFifo = await kmemJson<Replayed>(['replay', fifo]);
    await writer;
    expect(viaFifo.events).toBe(13);
  });

  it('replay reads gfp_flags printed as a raw number, even both mobility bits at once', async () => {
    const lines = [
      `${HEAD}kmalloc: call_site=tty_buffer_alloc+0x3d/0xa0 ptr=ffff9e0e8d35d000 bytes_req=1320 bytes_alloc=2048 gfp_flags=0xcc0 node=-1 accounted=false`,
      `${HEAD}kmalloc: call_site=tty_buffer_alloc+0x3d/0xa0 ptr=ffff9e0e8d35e000 bytes_req=1320 bytes_alloc=2048 gfp_flags=0x18 node=-1 accounted=false`,
      `${HEAD}mm_page_alloc: page=fffff1c9c0a3b000 pfn=0x28ec0 order=0 migratetype=3 gfp_flags=0x18`,
    ];
    const r = await kmem(['replay', file('rawgfp.txt', `${lines.join('\n')}\n`), '--json']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const rep = JSON.parse(r.stdout) as Replayed;
    expect(rep.events).toBe(3);
    // 0xcc0 is GFP_KERNEL: the normal kmalloc cache; __GFP_RECLAIMABLE picks the reclaimable one, as kmalloc_type() does
    expect(rep.report.caches.find((c) => c.name === 'kmalloc-2k')?.allocs).toBe(1);
    expect(rep.report.caches.find((c) => c.name === 'kmalloc-rcl-2k')?.allocs).toBe(1);
    expect(rep.report.pages.failures).toBe(0);
  });

  it('an event kmem refuses to perform stops the replay at its file:line, and --skip-bad skips it', async () => {
    const lines = [
      `${HEAD}kmalloc: call_site=tty_buffer_alloc+0x3d/0xa0 ptr=ffff9e0e8d35d000 bytes_req=1320 bytes_alloc=2048 gfp_flags=GFP_KERNEL node=-1 accounted=false`,
      // __GFP_HIGHMEM with __GFP_DMA: no zone (GFP_ZONE_BAD)
      `${HEAD}mm_page_alloc: page=fffff1c9c0a3b000 pfn=0x28ec0 order=0 migratetype=0 gfp_flags=GFP_KERNEL|__GFP_HIGHMEM|GFP_DMA`,
    ];
    const path = file('zonebad.txt', `${lines.join('\n')}\n`);
    const r = await kmem(['replay', path]);
    expect(r.code).toBe(1);
    expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(new RegExp(`^kmem: ${path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:2: kmem:mm_page_alloc `));
    const skipped = await kmemJson<Replayed & { skipped: number }>(['replay', path, '--skip-bad']);
    expect(skipped.skipped).toBe(1);
    expect(skipped.report.slab.allocs).toBe(1);
  });

  it('replay keeps call-site statistics bounded, the rest summed in one row; --help says the bound', async () => {
    const n = 20_000;
    const lines: string[] = [];
    for (let i = 0; i < n; i++) {
      const ptr = (0xffff9e0e80000000n + BigInt(i) * 64n).toString(16);
      lines.push(
        `${HEAD}kmalloc: call_site=0xffffffffc${(i + 0x100000).toString(16)} ptr=${ptr} bytes_req=40 bytes_alloc=64 gfp_flags=GFP_KERNEL node=-1 accounted=false`,
      );
      lines.push(`${HEAD}kfree: call_site=kfree_skbmem+0x2a/0x80 ptr=${ptr}`);
    }
    const r = await kmemJson<Replayed>(['replay', file('sites.txt', `${lines.join('\n')}\n`), '--top', '5']);
    expect(r.report.slab.allocs).toBe(n);
    const help = await kmem(['replay', '--help']);
    const bound = Number(/at most (\d+) have a row of their own/.exec(help.stdout)?.[1]);
    expect(bound).toBeGreaterThan(0);
    expect(bound).toBeLessThan(n);
    expect(r.report.callSites.length).toBeLessThanOrEqual(bound + 1);
    const other = r.report.callSites.find((c) => c.callSite === '(other call sites)');
    expect(other).toBeDefined();
    // every allocation is still counted, in its own row or the sum
    expect(r.report.callSites.reduce((a, c) => a + c.allocs, 0)).toBe(n);
  });

  it('a replay that fails allocations for want of memory says so, with a --mem that fits', async () => {
    const lines: string[] = [];
    for (let i = 0; i < 100; i++) {
      lines.push(
        `${HEAD}mm_page_alloc: page=fffff1c9c0a3b000 pfn=0x${(0x100000 + i * 512).toString(16)} order=9 migratetype=1 gfp_flags=GFP_HIGHUSER_MOVABLE|__GFP_COMP`,
      );
    }
    const path = file('big.txt', `${lines.join('\n')}\n`);
    const small = await kmem(['replay', path]);
    expect(small.code).toBe(0);
    const advice = small.stdout.trimEnd().split('\n').slice(-3).join('\n');
    expect(advice).toMatch(/too small/);
    const mem = /--mem (\d+[MG]) would fit/.exec(advice)?.[1];
    expect(mem).toBeDefined();
    const fits = await kmemJson<Replayed>(['replay', path, '--mem', mem!]);
    expect(fits.report.pages.failures).toBe(0);
    const fitsText = await kmem(['replay', path, '--mem', mem!]);
    expect(fitsText.stdout).not.toMatch(/too small/);
  });

  it('replay --sample replays the real trace kmem ships; the help names it', async () => {
    const r = await kmemJson<Replayed & { machine: { cpus: number } }>(['replay', '--sample']);
    expect(r.events).toBe(15);
    expect(r.machine.cpus).toBe(4); // #P:4 and CPU 3 in the trace
    const help = await kmem(['replay', '--help']);
    expect(help.stdout).toMatch(/--sample/);
    const both = await kmem(['replay', `${fixtures}/ftrace-6x.txt`, '--sample']);
    expectUsageError(both);
  });

  it.each(['run', 'replay', 'cat'])('%s --help names only files that exist', async (cmd) => {
    const help = await kmem([cmd, '--help']);
    const paths = [...help.stdout.matchAll(/(?:^|\s)((?:\/|\.\.?\/)?[\w.-]+(?:\/[\w.-]+)*\.(?:trace|txt|gz|json))\b/g)].map((m) => m[1]!);
    // trace.txt and report.json in replay's help are what its recipe writes, not files kmem has
    const named = paths.filter((p) => p.includes('/'));
    for (const p of named) expect(existsSync(p), p).toBe(true);
    if (cmd === 'run') expect(help.stdout).not.toMatch(/\bls\.trace\b/);
  });

  // ── option messages ──────────────────────────────────────────────────────

  it('--mem reads sizes as the kernel does and says what is wrong in its own words', async () => {
    const one = await kmem(['run', '--mem', '1', '--workload', 'none']);
    expectUsageError(one);
    expect(one.stderr).toMatch(/^kmem: --mem: 1 byte is below the minimum/);
    const frac = await kmem(['run', '--mem', '1.5G', '--workload', 'none']);
    expectUsageError(frac);
    expect(frac.stderr).toMatch(/^kmem: --mem: .*fraction/);
    expect(frac.stderr).toMatch(/1536M/);
    const tera = await kmem(['run', '--mem', '1T', '--workload', 'none']);
    expectUsageError(tera);
    expect(tera.stderr).toMatch(/^kmem: --mem: 1T \(1099511627776 bytes\) is above the maximum/);
    const hex = await kmemJson<{ machine: { memory: number } }>(['run', '--mem', '0x10000000', '--workload', 'none']);
    expect(hex.machine.memory).toBe(256 * 2 ** 20);
    const lower = await kmemJson<{ machine: { memory: number } }>(['run', '--mem', '64m', '--workload', 'none']);
    expect(lower.machine.memory).toBe(64 * 2 ** 20);
  });

  it('boot option errors name the command line option', async () => {
    for (const [opt, v] of [
      ['--slub-min-order', '99'],
      ['--slub-max-order', '99'],
      ['--cpus', '0'],
    ]) {
      const r = await kmem(['run', opt!, v!, '--workload', 'none']);
      expectUsageError(r);
      expect(r.stderr).toMatch(new RegExp(`^kmem: ${opt}: `));
    }
    const replay = await kmem(['replay', `${fixtures}/ftrace-6x.txt`, '--slub-min-order', '99']);
    expectUsageError(replay);
    expect(replay.stderr).toMatch(/^kmem: --slub-min-order: /);
    const zones = await kmem(['run', '--zones', 'DMA=1K', '--workload', 'none']);
    expectUsageError(zones);
    expect(zones.stderr).toMatch(/^kmem: --zones DMA: /);
  });

  it('top -d abc says it is not a number; cat of a directory says it is one', async () => {
    const top = await kmem(['top', '-d', 'abc', '--workload', 'none']);
    expectUsageError(top);
    expect(top.stderr).toMatch(/'abc' is not a number/);
    for (const dir of ['/sys/kernel/slab/kmalloc-64', '/proc', '/sys/kernel/slab/']) {
      const cat = await kmem(['cat', dir, '--workload', 'none']);
      expect(cat.code).toBe(1);
      expect(cat.stderr).toBe(`kmem: cat: ${dir}: Is a directory\n`);
    }
  });

  it('work over a second shows a progress bar on a terminal, nothing when stderr is not one', async () => {
    const args = ['run', '--workload', 'boot', '--steps', '3000000', '--mem', '512M'];
    const piped = await kmem(args);
    expect(piped.code).toBe(0);
    expect(piped.stderr).toBe('');
    // script(1) gives the command a terminal
    const shell = [process.execPath, cli, ...args].map((a) => `'${a}'`).join(' ');
    const tty = execFileSync('script', ['-qec', `${shell} > /dev/null`, '/dev/null'], { cwd: root, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
    expect(tty).toMatch(/boot \|.*\| \d+% \| \d+\/3000000 operations/);
  });
});
