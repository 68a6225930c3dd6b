/**
 * The layers of DESIGN.md: data flows down, nothing below knows what is
 * above it. The folder graph of src/ (an edge for each import from one
 * folder into another; src/index.ts, the facade, left out) has no cycle of
 * any length, and no layer imports the API (src/kernel.ts) or a front end
 * (src/cli).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const src = resolve(fileURLToPath(new URL('../../src', import.meta.url)));

/** The folder of a file under src/, '.' for src/ itself. */
const folderOf = (file: string) => relative(src, dirname(file)).split('/')[0] || '.';

function folderGraph(): Map<string, Set<string>> {
  const g = new Map<string, Set<string>>();
  for (const e of readdirSync(src, { withFileTypes: true, recursive: true })) {
    // src/index.ts is the package's facade: it re-exports from every layer and nothing imports it.
    if (!e.isFile() || !e.name.endsWith('.ts') || join(e.parentPath, e.name) === join(src, 'index.ts')) continue;
    const file = join(e.parentPath, e.name);
    const from = folderOf(file);
    for (const m of readFileSync(file, 'utf8').matchAll(/from '(\.[^']+)'/g)) {
      const to = folderOf(resolve(e.parentPath, m[1] as string));
      if (to === from) continue;
      if (!g.has(from)) g.set(from, new Set());
      g.get(from)?.add(to);
    }
  }
  return g;
}

describe('layers', () => {
  it('no cycle between folders of src/', () => {
    const g = folderGraph();
    const cycles: string[] = [];
    const walk = (node: string, path: string[]) => {
      for (const next of g.get(node) ?? []) {
        if (path.includes(next)) cycles.push([...path.slice(path.indexOf(next)), next].join(' -> '));
        else walk(next, [...path, next]);
      }
    };
    for (const start of g.keys()) walk(start, [start]);
    expect(cycles).toEqual([]);
  });

  it('the layers below the API import neither src/kernel.ts nor src/cli', () => {
    const bad: string[] = [];
    for (const e of readdirSync(src, { withFileTypes: true, recursive: true })) {
      if (!e.isFile() || !e.name.endsWith('.ts')) continue;
      const file = join(e.parentPath, e.name);
      const layer = folderOf(file);
      if (!['memory', 'page_alloc', 'slub', 'kasan', 'lib', 'proc', 'init'].includes(layer)) continue;
      for (const m of readFileSync(file, 'utf8').matchAll(/from '(\.[^']+)'/g)) {
        const target = relative(src, resolve(e.parentPath, m[1] as string));
        if (target === 'kernel.js' || target.startsWith('cli/')) bad.push(`${relative(src, file)} imports ${target}`);
      }
    }
    expect(bad).toEqual([]);
  });
});
