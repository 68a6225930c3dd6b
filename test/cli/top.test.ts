/**
 * `kmem top` in a pseudo-terminal: util-linux `script` gives it a terminal
 * (raw mode, the alternate screen, a size), the test types keys into it and
 * reads the screens it draws. It starts, re-sorts on a key, switches to the
 * rate view, quits on q and on Ctrl-C, and leaves the terminal as it found it.
 */
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildOnce, cli, root } from './helpers.js';

beforeAll(buildOnce, 180_000);

const tmp = mkdtempSync(join(tmpdir(), 'kmem-top-test-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** The escape sequences top draws with, removed: what the screen would show, per frame. */
function frames(raw: string): string[][] {
  return raw
    .split('\x1b[H')
    .slice(1)
    .map((f) =>
      f
        .replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '')
        .replace(/\r/g, '')
        .split('\n'),
    );
}

interface Session {
  child: ChildProcessWithoutNullStreams;
  out: () => string;
  /** Wait until the output, from `from` on, matches. */
  waitFor: (re: RegExp, from?: number, ms?: number) => Promise<void>;
  exited: Promise<number | null>;
}

function session(args: string, stty: string): Session {
  let buf = '';
  const child = spawn(
    'script',
    [
      '-q',
      '-e',
      '-c',
      `stty rows 30 cols 100; stty -g > ${stty}.before; ${process.execPath} ${cli} top ${args}; rc=$?; stty -g > ${stty}.after; exit $rc`,
      '/dev/null',
    ],
    {
      cwd: root,
      env: { ...process.env, TERM: 'xterm-256color', FORCE_COLOR: '1' },
    },
  );
  child.stdout.setEncoding('utf8').on('data', (d: string) => {
    buf += d;
  });
  const exited = new Promise<number | null>((res) => child.on('close', (code) => res(code)));
  const waitFor = async (re: RegExp, from = 0, ms = 90_000) => {
    const end = Date.now() + ms;
    while (!re.test(buf.slice(from))) {
      if (Date.now() > end) throw new Error(`timed out waiting for ${re}; output so far:\n${JSON.stringify(buf.slice(-2000))}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  return { child, out: () => buf, waitFor, exited };
}

describe.concurrent('kmem top in a terminal', { timeout: 150_000 }, () => {
  it('draws slabtop screens, re-sorts on a key, shows rates, quits on q and restores the terminal', async () => {
    const stty = join(tmp, 'q');
    const s = session('-d 0.3 --steps 500 --workload network', stty);
    await s.waitFor(/ Active \/ Total Objects \(% used\) {4}: \d+ \/ \d+/);
    await s.waitFor(/OBJS ACTIVE {2}USE OBJ SIZE {2}SLABS OBJ\/SLAB CACHE SIZE NAME/);
    // the memory-pressure panel: each zone against its watermarks, kswapd, swap
    await s.waitFor(/ Zone DMA32 +free +\d+ +min +\d+ +low +\d+ +high +\d+ pages/);
    await s.waitFor(/ kswapd: scanned \d+ \(\+\d+\)/);
    // alternate screen and hidden cursor on start
    expect(s.out()).toContain('\x1b[?1049h');
    expect(s.out()).toContain('\x1b[?25l');
    // the header is drawn in reverse video
    expect(s.out()).toMatch(/\x1b\[7m {2}OBJS ACTIVE/);
    let mark = s.out().length;
    s.child.stdin.write('c');
    await s.waitFor(/sort c \|/, mark);
    const screen = frames(s.out().slice(mark)).find((f) => f.some((l) => l.includes('sort c |')))!;
    expect(screen.slice(0, 5).join('\n')).toMatch(/^ Active \/ Total Objects/);
    const header = screen.findIndex((l) => l.startsWith('  OBJS ACTIVE'));
    const rows = screen.slice(header + 1).filter((l) => /^[ \d]{5}\d /.test(l));
    expect(rows.length).toBeGreaterThan(5);
    expect(rows.length).toBeLessThanOrEqual(30 - 8);
    const sizes = rows.map((l) => Number(l.slice(45, 54)));
    expect([...sizes].sort((a, b) => b - a)).toEqual(sizes);
    mark = s.out().length;
    s.child.stdin.write('r');
    await s.waitFor(/ALLOCS\/s {4}FREES\/s {2}ALLOC KB\/s {2}ACTIVE NAME/, mark);
    await s.waitFor(/skbuff_head_cache/, mark);
    mark = s.out().length;
    s.child.stdin.write('q');
    expect(await s.exited).toBe(0);
    // cursor shown and alternate screen left, last
    expect(s.out().slice(mark)).toMatch(/\x1b\[\?25h\x1b\[\?1049l[^\x1b]*$/);
    expect(readFileSync(`${stty}.after`, 'utf8')).toBe(readFileSync(`${stty}.before`, 'utf8'));
  });

  it('quits on Ctrl-C the same way', async () => {
    const stty = join(tmp, 'c');
    const s = session('-d 0.3 --steps 200 -s a', stty);
    await s.waitFor(/sort a \|/);
    s.child.stdin.write('\x03');
    expect(await s.exited).toBe(0);
    expect(s.out()).toMatch(/\x1b\[\?25h\x1b\[\?1049l[^\x1b]*$/);
    expect(readFileSync(`${stty}.after`, 'utf8')).toBe(readFileSync(`${stty}.before`, 'utf8'));
  });

  it('kmem replay draws its progress bar on a terminal stderr, and clears it', async () => {
    const out = join(tmp, 'replay.out');
    const child = spawn('script', ['-q', '-e', '-c', `${process.execPath} ${cli} replay test/cli/fixtures/ftrace-6x.txt > ${out}`, '/dev/null'], { cwd: root });
    let tty = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      tty += d;
    });
    const code = await new Promise<number | null>((res) => child.on('close', res));
    expect(code).toBe(0);
    expect(tty).toMatch(/replay \|[^|]+\| 100% \| 25 lines \| \d+ events\/s \| ETA: \d+s/);
    expect(tty).toMatch(/\x1b\[2K$/);
    expect(readFileSync(out, 'utf8')).toMatch(/^test\/cli\/fixtures\/ftrace-6x\.txt: 25 lines, 13 events/);
  });

  it('and on SIGTERM', async () => {
    const stty = join(tmp, 't');
    // in the background, so the shell can tell its pid
    const s = session('-d 0.3 --steps 200 &\necho "PID=$!"; wait $!', stty);
    await s.waitFor(/PID=\d+/);
    await s.waitFor(/OBJS ACTIVE/);
    process.kill(Number(/PID=(\d+)/.exec(s.out())![1]), 'SIGTERM');
    expect(await s.exited).toBe(0);
    expect(s.out()).toMatch(/\x1b\[\?25h\x1b\[\?1049l[^\x1b]*$/);
  });
});
