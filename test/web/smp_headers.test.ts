/**
 * SharedArrayBuffer, and so the Web Worker CPUs, need the page cross-origin
 * isolated: vite's dev server must send Cross-Origin-Opener-Policy:
 * same-origin and Cross-Origin-Embedder-Policy: require-corp (as `kmem
 * serve` does, test/web/serve.test.ts), on the page and on the worker's
 * module alike; the preview server is configured with the same headers.
 */
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createServer, loadConfigFromFile } from 'vite';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

describe("vite's servers and cross-origin isolation", () => {
  it('the dev server sends COOP and COEP on the page and the CPU worker module; preview has the same headers', { timeout: 60_000 }, async () => {
    const configFile = join(ROOT, 'web/vite.config.ts');
    const server = await createServer({ configFile, logLevel: 'silent', server: { port: 0, host: '127.0.0.1' } });
    await server.listen();
    try {
      const addr = server.httpServer!.address() as { port: number };
      for (const path of ['/', '/smp_worker.ts']) {
        const res = await fetch(`http://127.0.0.1:${addr.port}${path}`);
        expect(res.status).toBe(200);
        expect(res.headers.get('cross-origin-opener-policy')).toBe('same-origin');
        expect(res.headers.get('cross-origin-embedder-policy')).toBe('require-corp');
      }
    } finally {
      await server.close();
    }
    const loaded = await loadConfigFromFile({ command: 'serve', mode: 'production' }, configFile);
    expect(loaded!.config.preview?.headers).toEqual({
      'Cross-Origin-Opener-Policy': 'same-origin',
      'Cross-Origin-Embedder-Policy': 'require-corp',
    });
  });
});
