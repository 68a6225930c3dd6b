import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Browser, openView, SHOTS, startBrowser } from './browser.js';

/**
 * Real CPUs in Chromium: the page (cross-origin isolated by `kmem serve`'s
 * headers) boots a machine with smp: 'workers', CPUs 1..N attach from Web
 * Workers (web/smp_worker.ts) and run kmalloc(64)/kfree; the per-CPU counts
 * are SLUB's own statistics, summed on read in the kernel's format
 * ("total C1=n C2=m"). Every kmalloc is a fast-path or a slow-path
 * allocation on the CPU that made it, so each worker CPU's two counts add
 * up to its kmallocs, and likewise its frees.
 */
describe('Web Workers as CPUs', () => {
  let browser: Browser;
  let page: Page;
  const errors: string[] = [];

  beforeAll(async () => {
    browser = await startBrowser(1280);
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
  });

  it('runs kmalloc/kfree on 2 workers sharing the page machine, with per-CPU counts', { timeout: 120_000 }, async () => {
    page = await openView(browser.ctx, page, `${browser.srv.url}?tab=dmesg`, 1280, (msg) => errors.push(msg));
    expect(await page.evaluate('globalThis.crossOriginIsolated')).toBe(true);
    expect(await page.isDisabled('#smp-run')).toBe(false);
    await page.selectOption('#smp-workers', '2');
    await page.click('#smp-run');
    await page.waitForFunction(`['1', 'error'].includes(document.getElementById('smp').dataset.done)`, undefined, { timeout: 100_000 });
    const status = (await page.textContent('#smp-status')) ?? '';
    expect(status).not.toMatch(/failed/);
    const rows = await page.evaluate(`[...document.querySelectorAll('#smp-table tr[data-cpu]')].map((r) => ({
      cpu: Number(r.dataset.cpu), allocs: Number(r.dataset.allocs), frees: Number(r.dataset.frees),
      kmalloc: r.children[1].textContent, kfree: r.children[2].textContent }))`);
    const byCpu = rows as { cpu: number; allocs: number; frees: number; kmalloc: string; kfree: string }[];
    expect(byCpu.map((r) => r.cpu)).toEqual([0, 1, 2]);
    for (const cpu of [1, 2]) {
      const r = byCpu[cpu]!;
      expect(r.kmalloc).toBe('20000');
      expect(r.kfree).toBe('20000');
      expect(r.allocs).toBe(20000);
      expect(r.frees).toBe(20000);
    }
    // The status quotes the kernel's own line for the cache: the total, then each CPU that counted.
    expect(status).toMatch(/^kmalloc-64: \d+ (C0=\d+ )?C1=\d+ C2=\d+ \(alloc_fastpath, per CPU\)$/);
    await page.screenshot({ path: join(SHOTS, 'smp-workers.png'), fullPage: true });
    expect(errors).toEqual([]);
  });

  it('remote frees: CPU 1 allocates, CPU 2 frees every object, each free on __slab_free (free_slowpath)', { timeout: 120_000 }, async () => {
    await page.selectOption('#smp-mode', 'remote');
    await page.click('#smp-run');
    await page.waitForFunction(`document.getElementById('smp').dataset.done === '1' || document.getElementById('smp').dataset.done === 'error'`, undefined, {
      timeout: 100_000,
    });
    expect((await page.textContent('#smp-status')) ?? '').not.toMatch(/failed/);
    const rows = (await page.evaluate(`[...document.querySelectorAll('#smp-table tr[data-cpu]')].map((r) => ({
      cpu: Number(r.dataset.cpu), allocs: Number(r.dataset.allocs), frees: Number(r.dataset.frees),
      cells: [...r.children].map((c) => c.textContent) }))`)) as { cpu: number; allocs: number; frees: number; cells: string[] }[];
    expect(rows.map((r) => r.cpu)).toEqual([0, 1, 2]);
    // CPU 1 made every allocation and no free; CPU 2 every free and no allocation.
    expect(rows[1]!.cells.slice(1, 3)).toEqual(['20000', '0']);
    expect(rows[2]!.cells.slice(1, 3)).toEqual(['0', '20000']);
    expect(rows[1]!.allocs).toBe(20000);
    expect(rows[1]!.frees).toBe(0);
    expect(rows[2]!.allocs).toBe(0);
    // No object was of CPU 2's cpu slab (it has none): every free took the slow path.
    expect(rows[2]!.cells[5]).toBe('0');
    expect(rows[2]!.cells[6]).toBe('20000');
    expect(errors).toEqual([]);
  });
});
