/**
 * npm run bench: every bench/*.bench.ts module's exported bench* functions, in
 * turn, on the compiled code (plain node, no loader in the way).
 *
 * Each bench* function runs in a fresh node process (this script with the
 * file's and the function's name): V8's type feedback is per process, so the
 * KASAN or replay benchmarks would otherwise decide what the SLUB fast paths
 * look like when compiled, and a second closure of the same benchmark loop
 * (the next live count, the next slub_debug setting) is compiled without the
 * first one's context specialization and measures up to 2x slower. With
 * --expose-gc, so bench/harness.ts can collect before each round.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const [onlyFile, onlyFn] = process.argv.slice(2);

type Bench = [string, () => Promise<unknown>];

/**
 * A module's benchmarks: its `benches` object in its own order when it has
 * one, else its exported bench* functions (a namespace lists them by name).
 */
async function benches(file: string): Promise<Bench[]> {
  const mod = (await import(pathToFileURL(`${here}/${file}`).href)) as Record<string, unknown>;
  const list = (mod.benches ?? mod) as Record<string, unknown>;
  return Object.entries(list).filter((e): e is Bench => e[0].startsWith('bench') && typeof e[1] === 'function');
}

if (onlyFile === undefined) {
  console.log(`kmem benchmarks — node ${process.version}, ${new Date().toISOString()}`);
  let failed = 0;
  for (const f of readdirSync(here)
    .filter((n) => n.endsWith('.bench.js'))
    .sort()) {
    for (const [name] of await benches(f)) {
      const r = spawnSync(process.execPath, ['--expose-gc', fileURLToPath(import.meta.url), f, name], { stdio: 'inherit' });
      if (r.status !== 0) failed++;
    }
  }
  if (failed > 0) process.exitCode = 1;
} else {
  const found = (await benches(onlyFile)).filter(([name]) => onlyFn === undefined || name === onlyFn);
  if (found.length === 0) throw new RangeError(`bench: no bench function ${onlyFn ?? '*'} in ${onlyFile}`);
  for (const [name, fn] of found) {
    console.log(`\n### ${onlyFile}: ${name}`);
    await fn();
  }
}
