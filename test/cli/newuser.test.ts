/**
 * What a new user runs into first: bad option values get one line and exit 2
 * (never a stack trace), messages name the command line's options, and the
 * command warns where a default would surprise.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildOnce, cli, kmem, root } from './helpers.js';

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
});
