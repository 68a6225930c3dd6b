/**
 * The published type definitions compile in a user's project that has no
 * Node typings (a browser or Deno project): `types: []`, lib ES2022 only.
 * And nothing internal is in them: the layers behind the API are stripped.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildOnce, root } from '../cli/helpers.js';

beforeAll(buildOnce, 120_000);

describe('the published types', () => {
  it('compile without @types/node', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kmem-consumer-'));
    writeFileSync(
      join(dir, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, types: [], lib: ['ES2022'], noEmit: true },
        include: ['main.ts'],
      }),
    );
    writeFileSync(
      join(dir, 'main.ts'),
      [
        `import { boot, GFP_KERNEL, type Kernel, type CacheSnapshot } from '${join(root, 'dist/index.js')}';`,
        "const k: Kernel = boot({ memory: '16M', buffer: new ArrayBuffer(16 << 20) });",
        'const p: number = k.kmalloc(64, GFP_KERNEL);',
        'const caches: CacheSnapshot[] = k.inspect.caches();',
        'k.kfree(p + caches.length * 0);',
        '',
      ].join('\n'),
    );
    const out = await new Promise<string>((res) => {
      execFile(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', dir], (err, stdout, stderr) => res(err ? `${stdout}${stderr}` : 'ok'));
    });
    expect(out).toBe('ok');
  });

  it('hide the layers: no slub, pageAlloc or kmallocApi on the published Kernel', () => {
    const dts = readFileSync(join(root, 'dist/kernel.d.ts'), 'utf8');
    const body = dts.slice(dts.indexOf('export declare class Kernel'));
    for (const internal of ['slub', 'pageAlloc', 'kmallocApi', 'machine', 'phys', 'pages', 'bugs'])
      expect(body).not.toMatch(new RegExp(`^ +(readonly )?${internal}[:(]`, 'm'));
    for (const api of ['kmalloc(', 'kfree(', 'inspect:', 'proc:', 'mem:']) expect(body).toContain(api);
  });
});
