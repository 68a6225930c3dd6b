/**
 * Vite builds the browser view from web/ into web-dist/ (npm run build:web).
 * The kmem library comes straight from ../src; the dev and preview servers
 * send the same cross-origin isolation headers as `kmem serve`.
 */
import { dirname, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const PROJECT = fileURLToPath(new URL('..', import.meta.url));

const isolation = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
};

export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: './',
  build: {
    outDir: fileURLToPath(new URL('../web-dist', import.meta.url)),
    emptyOutDir: true,
    target: 'es2022',
    chunkSizeWarningLimit: 2000,
    // Source maps: the page maps its reports' stack frames back to the .ts files (web/model/stackmap.ts).
    sourcemap: true,
    rolldownOptions: {
      output: {
        // Minified, but functions and classes keep their names: stack frames (and kmem's
        // free reports, which look for Kernel.kfree and the like) name what the source does.
        minify: { compress: { keepNames: { function: true, class: true } }, mangle: { keepNames: true } },
        // Sources named from the project root (web/model/callers.ts), wherever the site is built.
        sourcemapPathTransform: (source, mapPath) => relative(PROJECT, resolve(dirname(mapPath), source)),
        // The kmem library in a chunk of its own under a path that says so
        // (.../dist/kernel/...): kmem's stack traces drop their own frames by
        // path, so reports name the page's function, as on a real kernel.
        codeSplitting: { groups: [{ name: 'kernel', test: /[\\/]src[\\/]/ }] },
        chunkFileNames: (chunk) => (chunk.name === 'kernel' ? 'assets/dist/kernel/[name]-[hash].js' : 'assets/[name]-[hash].js'),
      },
    },
  },
  // The CPU workers (web/smp_worker.ts) import kmem as modules, split like the page.
  worker: { format: 'es' },
  server: { headers: isolation, fs: { allow: [fileURLToPath(new URL('..', import.meta.url))] } },
  preview: { headers: isolation },
});
