/**
 * The repository stands alone: no source, test or benchmark file refers to a
 * path outside it (the project's shared data beside the repository, an oracle
 * run's output in /tmp, a developer's home). Real kernel output the tests need
 * lives in test/fixtures/.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/** Every code file under src/, test/ and bench/ (test/fixtures holds data, not code). */
function codeFiles(): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) {
        if (e.name !== 'node_modules' && p !== join(root, 'test', 'fixtures')) walk(p);
      } else if (/\.(?:[cm]?[jt]s|tsx|json)$/.test(e.name)) {
        out.push(p);
      }
    }
  };
  for (const d of ['src', 'test', 'bench']) walk(join(root, d));
  return out;
}

/** Names that only make sense outside the repository (written so that this file does not match itself). */
const OUTSIDE: RegExp[] = [
  /\/work\//, // the agents' machine
  /\/home\//,
  /\/tmp\/oracle/,
  /oracle-ou[t]/,
  /shared\/realdat[a]/,
  /\.\.\/share[d]\b/,
  /KMEM_REALDAT[A]|KMEM_ORACL[E]/, // environment overrides that pointed outside
];

/** The problems of one file's text: forbidden names, and '../' literals that climb out of the repository. */
function outsideRefs(file: string, text: string): string[] {
  const found: string[] = [];
  text.split('\n').forEach((line, i) => {
    for (const re of OUTSIDE) if (re.test(line)) found.push(`${relative(root, file)}:${i + 1}: ${line.trim()}`);
    for (const m of line.matchAll(/(['"`])(\.\.\/[^'"`\s$]*)\1?/g)) {
      const target = resolve(dirname(file), m[2]!);
      if (target !== root && !target.startsWith(root + sep)) found.push(`${relative(root, file)}:${i + 1}: ${m[2]} leaves the repository`);
    }
  });
  return found;
}

describe('the repository is self-contained', () => {
  it('the checker finds what it looks for', () => {
    const f = join(root, 'test', 'proc', 'x.test.ts');
    const up = '../'; // three of these from test/proc climb out
    expect(outsideRefs(f, `const A = new URL('../../fixtures/a.txt', import.meta.url);`)).toEqual([]);
    expect(outsideRefs(f, `const A = new URL('${up}${up}${up}${'shared'}/realdata/', import.meta.url);`)).toHaveLength(3);
    expect(outsideRefs(f, `import { x } from '${up}${up}${up}elsewhere/x.js';`)).toHaveLength(1);
    expect(outsideRefs(f, `const O = '/tmp/${'oracle'}-out/c2-128M';`)).toHaveLength(2);
    expect(outsideRefs(f, `const R = resolve(root, '../${'shared'}/x');`)).toHaveLength(1);
  });

  it('no file under src/, test/ or bench/ refers to a path outside the repository', () => {
    const files = codeFiles();
    expect(files.length).toBeGreaterThan(50);
    const found = files.flatMap((f) => outsideRefs(f, readFileSync(f, 'utf8')));
    expect(found).toEqual([]);
  });
});
