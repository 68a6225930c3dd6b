/**
 * Run the built `kmem` command the way a user runs it: `npm run build` once
 * per test run (the test files share one build: the first to get the lock
 * builds, the others wait for it), then `node dist/cli/main.js ...` as a
 * child process.
 */
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const cli = join(root, 'dist/cli/main.js');
export const fixtures = join(root, 'test/cli/fixtures');
/** Real kernel output kept in the repository (test/fixtures/realdata, copied from the project's shared collection). */
export const realdata = join(root, 'test/fixtures/realdata');

/** Build the package once for this vitest run (all test files' workers share the parent pid). */
export async function buildOnce(): Promise<void> {
  // the parent's pid and start time name this run (a pid alone may come back in a later run)
  let started = '';
  try {
    started = readFileSync(`/proc/${process.ppid}/stat`, 'utf8').split(') ')[1]!.split(' ')[19]!;
  } catch {
    // not Linux: the pid alone
  }
  const stamp = join(tmpdir(), `kmem-cli-build-${process.ppid}-${started}`);
  let mine = false;
  try {
    mkdirSync(`${stamp}.lock`);
    mine = true;
  } catch {
    // someone else builds
  }
  if (mine) {
    const result = await new Promise<string>((res) => {
      execFile('npm', ['run', 'build'], { cwd: root, maxBuffer: 1 << 24 }, (err, stdout, stderr) => {
        res(err ? `fail: ${stdout}${stderr}` : 'ok');
      });
    });
    writeFileSync(stamp, result);
  }
  const deadline = Date.now() + 180_000;
  while (!existsSync(stamp)) {
    if (Date.now() > deadline) throw new Error('timed out waiting for npm run build');
    await new Promise((r) => setTimeout(r, 100));
  }
  const status = readFileSync(stamp, 'utf8');
  if (status !== 'ok') throw new Error(`npm run build failed:\n${status}`);
}

export interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Run `kmem args...`; resolves when it exits. */
export function kmem(args: string[], opts: { input?: string; env?: Record<string, string>; timeout?: number } = {}): Promise<Run> {
  return new Promise((res, rej) => {
    const child = spawn(process.execPath, [cli, ...args], {
      cwd: root,
      env: { ...process.env, NO_COLOR: '1', ...opts.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
    });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      rej(new Error(`kmem ${args.join(' ')}: timed out\n${stderr}`));
    }, opts.timeout ?? 120_000);
    child.on('error', rej);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      res({ code, signal, stdout, stderr });
    });
    child.stdin.end(opts.input ?? '');
  });
}

/** Run and parse stdout as JSON, failing with stderr when it does not exit 0. */
export async function kmemJson<T = unknown>(args: string[]): Promise<T> {
  const r = await kmem([...args, '--json']);
  if (r.code !== 0) throw new Error(`kmem ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
  return JSON.parse(r.stdout) as T;
}
