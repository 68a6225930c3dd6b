/**
 * npm run bench: every bench/*.bench.ts module's exported bench* functions, in
 * turn, on the compiled code (plain node, no loader in the way).
 */
import { readdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
console.log(`kmem benchmarks — node ${process.version}, ${new Date().toISOString()}`);
for (const f of readdirSync(here).filter((n) => n.endsWith('.bench.js')).sort()) {
  const mod = (await import(pathToFileURL(`${here}/${f}`).href)) as Record<string, unknown>;
  for (const [name, fn] of Object.entries(mod)) {
    if (name.startsWith('bench') && typeof fn === 'function') {
      console.log(`\n### ${f}: ${name}`);
      await (fn as () => Promise<void>)();
    }
  }
}
