/**
 * npm run bench: every bench/*.bench.ts module's exported bench* functions, in
 * turn, on the compiled code (plain node, no loader in the way).
 *
 * Each file runs in a fresh node process (this script with the file's name):
 * V8's type feedback is per process, so the KASAN or replay benchmarks would
 * otherwise decide what the SLUB fast paths look like when compiled.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const only = process.argv[2];

if (only === undefined) {
  console.log(`kmem benchmarks — node ${process.version}, ${new Date().toISOString()}`);
  let failed = 0;
  for (const f of readdirSync(here).filter((n) => n.endsWith('.bench.js')).sort()) {
    const r = spawnSync(process.execPath, [fileURLToPath(import.meta.url), f], { stdio: 'inherit' });
    if (r.status !== 0) failed++;
  }
  if (failed > 0) process.exitCode = 1;
} else {
  const mod = (await import(pathToFileURL(`${here}/${only}`).href)) as Record<string, unknown>;
  for (const [name, fn] of Object.entries(mod)) {
    if (name.startsWith('bench') && typeof fn === 'function') {
      console.log(`\n### ${only}: ${name}`);
      await (fn as () => Promise<void>)();
    }
  }
}
