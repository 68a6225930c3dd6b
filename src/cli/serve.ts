/**
 * `kmem serve`: the browser view's static files over plain HTTP on localhost.
 *
 * Every response carries the cross-origin isolation headers
 * (Cross-Origin-Opener-Policy: same-origin, Cross-Origin-Embedder-Policy:
 * require-corp), so the page may use SharedArrayBuffer. Nothing runs on the
 * server: the machine runs in the page.
 */
import { createReadStream, existsSync, promises as fsp } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { isIP } from 'node:net';
import { extname, join, normalize, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Command, InvalidArgumentError } from 'commander';

/** Where `npm run build:web` puts the site: web-dist/ at the package root (from src/cli or dist/cli). */
export const DEFAULT_SITE_DIR = fileURLToPath(new URL('../../web-dist/', import.meta.url));

/** The port tried first when none is given; a free one is taken if it is busy. */
export const DEFAULT_PORT = 8180;

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.txt': 'text/plain; charset=utf-8',
  '.trace': 'text/plain; charset=utf-8',
  '.wasm': 'application/wasm',
};

/** The headers every response carries. */
export const ISOLATION_HEADERS: Record<string, string> = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
  'Cross-Origin-Resource-Policy': 'same-origin',
  'X-Content-Type-Options': 'nosniff',
};

export interface ServeOptions {
  /** Port; 0 for any free port. Default: DEFAULT_PORT, or any free port if that one is busy. */
  port?: number;
  /** Interface to listen on. Default 127.0.0.1. */
  host?: string;
  /** The built site. Default DEFAULT_SITE_DIR. */
  dir?: string;
}

export interface RunningServer {
  server: Server;
  port: number;
  url: string;
  close(): Promise<void>;
}

/** Resolve a request path inside root, or null when it would leave it. */
export function resolveInside(root: string, urlPath: string): string | null {
  let path: string;
  try {
    path = decodeURIComponent(urlPath.split('?')[0]!.split('#')[0]!);
  } catch {
    return null;
  }
  if (path.includes('\0')) return null;
  const full = resolve(root, `.${normalize(`/${path}`)}`);
  const base = resolve(root);
  return full === base || full.startsWith(base + sep) ? full : null;
}

async function handle(root: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
  for (const [k, v] of Object.entries(ISOLATION_HEADERS)) res.setHeader(k, v);
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.writeHead(405, { Allow: 'GET, HEAD', 'Content-Type': 'text/plain; charset=utf-8' });
    res.end('method not allowed\n');
    return;
  }
  let file = resolveInside(root, req.url ?? '/');
  if (file === null) {
    res.writeHead(403, { 'Content-Type': 'text/plain; charset=utf-8' });
    res.end('forbidden\n');
    return;
  }
  let st = await fsp.stat(file).catch(() => null);
  if (st?.isDirectory()) {
    file = join(file, 'index.html');
    st = await fsp.stat(file).catch(() => null);
  }
  if (!st?.isFile()) {
    res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' });
    res.end('not found\n');
    return;
  }
  const type = TYPES[extname(file).toLowerCase()] ?? 'application/octet-stream';
  // Hashed assets never change; the page itself is checked every time.
  const cache = file.includes(`${sep}assets${sep}`) ? 'public, max-age=31536000, immutable' : 'no-cache';
  res.writeHead(200, { 'Content-Type': type, 'Content-Length': st.size, 'Cache-Control': cache });
  if (req.method === 'HEAD') {
    res.end();
    return;
  }
  createReadStream(file).pipe(res);
}

function listen(server: Server, port: number, host: string): Promise<number> {
  return new Promise((ok, fail) => {
    const onError = (e: Error) => {
      server.off('listening', onListening);
      fail(e);
    };
    const onListening = () => {
      server.off('error', onError);
      ok((server.address() as AddressInfo).port);
    };
    server.once('error', onError);
    server.once('listening', onListening);
    server.listen(port, host);
  });
}

/** Start serving the built site; resolves once listening. */
export async function startServer(opts: ServeOptions = {}): Promise<RunningServer> {
  const root = resolve(opts.dir ?? DEFAULT_SITE_DIR);
  if (!existsSync(join(root, 'index.html'))) {
    throw new Error(`no built site in ${root} (index.html is missing): run \`npm run build:web\` first`);
  }
  const host = opts.host ?? '127.0.0.1';
  const server = createServer((req, res) => {
    handle(root, req, res).catch((e: Error) => {
      if (!res.headersSent) res.writeHead(500, { 'Content-Type': 'text/plain; charset=utf-8' });
      res.end(`error: ${e.message}\n`);
    });
  });
  let port: number;
  if (opts.port !== undefined) port = await listen(server, opts.port, host);
  else {
    try {
      port = await listen(server, DEFAULT_PORT, host);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw e;
      port = await listen(server, 0, host);
    }
  }
  const shown = host === '0.0.0.0' || host === '::' ? 'localhost' : host.includes(':') ? `[${host}]` : host;
  return {
    server,
    port,
    url: `http://${shown}:${port}/`,
    close: () =>
      new Promise<void>((ok) => {
        server.closeAllConnections?.();
        server.close(() => ok());
      }),
  };
}

function parsePort(v: string): number {
  if (!/^\d+$/.test(v) || Number(v) > 65535) throw new InvalidArgumentError('expected a port number from 0 to 65535');
  return Number(v);
}

/** True for a host only this machine can reach: localhost, 127.0.0.0/8, ::1. */
export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  if (h === 'localhost' || h.endsWith('.localhost')) return true;
  if (isIP(h) === 4) return h.startsWith('127.');
  if (isIP(h) === 6) return h === '::1' || /^(0*:){2,7}0*1$/.test(h) || /^::ffff:127\./.test(h);
  return false;
}

/** Add `kmem serve` to the command line. */
export function registerServe(program: Command): Command {
  return program
    .command('serve')
    .description('serve the browser view (pages, slabs, free lists and shadow memory as they change) on localhost')
    .option('--port <n>', `port to listen on (default ${DEFAULT_PORT}, or a free one if that is busy; 0 for any)`, parsePort)
    .option('--host <addr>', 'interface to listen on (anything but loopback makes the view reachable from the network)', '127.0.0.1')
    .option('--dir <path>', 'the built site (npm run build:web)', DEFAULT_SITE_DIR)
    .addHelpText('after', '\nExample:\n  $ npm run build:web && kmem serve --port 8080')
    .action(async (o: { port?: number; host: string; dir: string }) => {
      let s: RunningServer;
      try {
        s = await startServer({ port: o.port, host: o.host, dir: o.dir });
      } catch (e) {
        process.stderr.write(`kmem serve: ${(e as Error).message}\n`);
        process.exit(2);
      }
      if (!isLoopbackHost(o.host)) {
        const where = o.host === '0.0.0.0' || o.host === '::' ? 'every network interface' : o.host;
        process.stderr.write(
          `kmem serve: warning: listening on ${where}: the view is now reachable from the network, by anyone who can reach this machine (--host 127.0.0.1 keeps it local)\n`,
        );
      }
      process.stdout.write(`kmem serve: ${s.url}\n(Ctrl-C to stop)\n`);
      const stop = () => {
        void s.close().then(() => process.exit(0));
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
}
