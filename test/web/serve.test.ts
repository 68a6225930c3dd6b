/** `kmem serve`: a static server on localhost with the cross-origin isolation headers. */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningServer, registerServe, resolveInside, startServer } from '../../src/cli/serve.js';

function get(url: string, method = 'GET', rawPath?: string): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  return new Promise((ok, fail) => {
    const u = new URL(url);
    const req = request({ host: u.hostname, port: u.port, path: rawPath ?? u.pathname, method }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c) => (body += c));
      res.on('end', () => ok({ status: res.statusCode!, headers: res.headers, body }));
    });
    req.on('error', fail);
    req.end();
  });
}

describe('kmem serve', () => {
  let dir: string;
  let srv: RunningServer;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'kmem-site-'));
    writeFileSync(join(dir, 'index.html'), '<!doctype html><title>kmem</title>');
    mkdirSync(join(dir, 'assets'));
    writeFileSync(join(dir, 'assets', 'app-123.js'), 'console.log(1)');
    srv = await startServer({ dir, port: 0 });
  });
  afterAll(() => srv.close());

  it('serves the page with the isolation headers on a localhost URL', async () => {
    expect(srv.url).toBe(`http://127.0.0.1:${srv.port}/`);
    const r = await get(srv.url);
    expect(r.status).toBe(200);
    expect(r.headers['cross-origin-opener-policy']).toBe('same-origin');
    expect(r.headers['cross-origin-embedder-policy']).toBe('require-corp');
    expect(r.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(r.body).toContain('<title>kmem</title>');
    const js = await get(`${srv.url}assets/app-123.js`);
    expect(js.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(js.headers['cache-control']).toMatch(/immutable/);
    expect(js.headers['cross-origin-embedder-policy']).toBe('require-corp');
    expect((await get(srv.url, 'HEAD')).body).toBe('');
  });

  it('answers 404 for what is not there and never leaves the site directory', async () => {
    expect((await get(`${srv.url}nope.js`)).status).toBe(404);
    expect((await get(srv.url, 'GET', '/../../../../etc/passwd')).status).toBe(404);
    expect((await get(srv.url, 'GET', '/%2e%2e/%2e%2e/etc/passwd')).status).toBe(404);
    expect((await get(srv.url, 'POST')).status).toBe(405);
    expect(resolveInside('/srv/site', '/../x')).toBe('/srv/site/x');
    expect(resolveInside('/srv/site', '/%00')).toBeNull();
    expect(resolveInside('/srv/site', '/%E0%A4%A')).toBeNull();
  });

  it('refuses to start without a built site, naming the command that builds it', async () => {
    await expect(startServer({ dir: tmpdir(), port: 0 })).rejects.toThrow(/npm run build:web/);
  });

  it('registers `serve` with --port on a commander program', () => {
    const program = new Command();
    registerServe(program);
    const cmd = program.commands.find((c) => c.name() === 'serve')!;
    expect(cmd.options.map((o) => o.long)).toEqual(['--port', '--host', '--dir']);
  });
});
