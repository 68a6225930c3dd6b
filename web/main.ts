/** Entry point: build the page and expose it for the end-to-end tests as window.kmemView. */
import { App } from './app.js';
import { mapStacksOf } from './model/stackmap.js';
import './style.css';

// Reports' stack frames name the TypeScript files and lines, not the minified bundle: the built
// page maps its bundle; under the dev server, every .ts module the page loaded (not kmem's own,
// under /src/: kmem drops its frames by that path).
const bundled = /\.js$/.test(new URL(import.meta.url).pathname);
const modules = bundled
  ? [import.meta.url]
  : performance
      .getEntriesByType('resource')
      .map((e) => e.name)
      .filter((u) => u.startsWith(location.origin) && /\.ts$/.test(new URL(u).pathname) && !/\/src\//.test(new URL(u).pathname));
await mapStacksOf([...new Set([...modules, import.meta.url])]);

const root = document.getElementById('app')!;
try {
  const app = new App(root);
  (globalThis as unknown as { kmemView: App }).kmemView = app;
} catch (e) {
  // The page could not even start: say why, in the page, with a way back to the default machine.
  const p = document.createElement('p');
  p.id = 'fatal';
  p.className = 'fatal';
  p.textContent = `kmem could not start: ${(e as Error)?.message ?? String(e)}. `;
  const a = document.createElement('a');
  a.href = location.pathname;
  a.textContent = 'Open the default machine';
  p.append(a);
  root.replaceChildren(p);
  console.error(e);
}
