/**
 * What the Chromium end-to-end tests share: the site built into a temporary
 * directory (vite, the same config as `npm run build:web`), served by
 * `kmem serve`'s server on a random localhost port, and Debian's Chromium
 * (/usr/bin/chromium or $KMEM_CHROMIUM) driven by playwright-core. A
 * missing browser is a failure, never a skip. Screenshots go to test-results/.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import { build } from 'vite';
import { type RunningServer, startServer } from '../../src/cli/serve.js';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const CHROMIUM = process.env.KMEM_CHROMIUM ?? '/usr/bin/chromium';
export const SHOTS = join(ROOT, 'test-results');

if (!existsSync(CHROMIUM)) throw new Error(`e2e: no Chromium at ${CHROMIUM} (apt-get install -y chromium)`);

export interface Browser {
  srv: RunningServer;
  ctx: BrowserContext;
  /** Close the browser and the server, remove the site and the profile. */
  close(): Promise<void>;
}

/** Build the site, serve it, and start headless Chromium with a viewport of `width` x `height`. */
export async function startBrowser(width: number, height = 1000): Promise<Browser> {
  const site = mkdtempSync(join(tmpdir(), 'kmem-web-'));
  await build({ configFile: join(ROOT, 'web/vite.config.ts'), logLevel: 'warn', build: { outDir: site, emptyOutDir: true } });
  const srv = await startServer({ dir: site, port: 0 });
  const profile = mkdtempSync(join(tmpdir(), 'kmem-chromium-'));
  mkdirSync(SHOTS, { recursive: true });
  const ctx = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
    viewport: { width, height },
    deviceScaleFactor: 1,
  });
  return {
    srv,
    ctx,
    async close() {
      await ctx.close();
      await srv.close();
      for (const d of [site, profile]) rmSync(d, { recursive: true, force: true });
    },
  };
}

/**
 * A new page of the view at url (prev closed first) at width x 1000, every
 * page error and console error handed to onError, returned once the view
 * has drawn a few frames.
 */
export async function openView(ctx: BrowserContext, prev: Page | undefined, url: string, width: number, onError: (msg: string) => void): Promise<Page> {
  if (prev) await prev.close();
  const page = await ctx.newPage();
  page.on('pageerror', (e) => onError(e.message));
  page.on('console', (m) => {
    if (m.type() === 'error') onError(m.text());
  });
  await page.setViewportSize({ width, height: 1000 });
  await page.goto(url);
  await page.waitForFunction('window.kmemView && kmemView.perf.frames > 2');
  return page;
}
