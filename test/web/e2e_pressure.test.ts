import { join } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { RunningServer } from '../../src/cli/serve.js';
import { type Browser, openView, SHOTS, startBrowser } from './browser.js';

/**
 * The Memory pressure tab in Chromium: the queues, the watermarks chart and
 * the page cache follow each scenario step as the kernel's rules say (the
 * two-touch rule; kswapd reclaiming under a stream; anonymous memory taking
 * the page cache's place), with no console error.
 */
describe('the Memory pressure tab', () => {
  let browser: Browser;
  let srv: RunningServer;
  let ctx: BrowserContext;
  let page: Page;
  let errors: string[] = [];

  beforeAll(async () => {
    browser = await startBrowser(1280);
    srv = browser.srv;
    ctx = browser.ctx;
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
  });

  beforeEach(() => {
    errors = [];
  });

  async function open(width = 1280): Promise<Page> {
    page = await openView(ctx, page, `${srv.url}?tab=pressure`, width, (msg) => errors.push(msg));
    return page;
  }

  const ev = <T>(js: string): Promise<T> => page.evaluate(js) as Promise<T>;
  const shot = (name: string) => page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
  const nextFrames = () => page.evaluate('new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)))');
  const text = async () => (await page.textContent('#pr-text')) ?? '';
  const laneCount = (name: string) => ev<number>(`Number(document.getElementById('pr-lane-${name}').dataset.count)`);
  const counter = (k: string) => ev<number>(`Number(document.querySelector('#pr-counters [data-k="${k}"]').dataset.v)`);
  /** The drawn cells of the scenario's file, by the list they sit on. */
  const focusLists = () =>
    ev<string[]>(`[...document.querySelectorAll('#pr-lru .pr-page.focus')].map((c) => c.dataset.lru + (Number(c.dataset.bits) & 1 ? '+ref' : ''))`);

  async function start(id: string): Promise<void> {
    await page.selectOption('#pr-scenario', id);
    await page.click('#pr-start');
    await nextFrames();
  }
  async function next(): Promise<void> {
    await page.click('#pr-next');
    await nextFrames();
  }

  it('a file read twice: inactive and referenced, then active; a stream wakes kswapd and leaves them active', async () => {
    await open();
    expect(await ev<boolean>("document.getElementById('tab-pressure').hidden")).toBe(false);
    await start('read-twice');
    // One read: the file's 16 pages on the inactive file list, each with PG_referenced.
    let f = await focusLists();
    expect(f).toHaveLength(16);
    expect(new Set(f)).toEqual(new Set(['inactive_file+ref']));
    expect(await ev<string>(`document.querySelector('.pr-file[data-path="/data/notes"]').dataset.nrpages`)).toBe('16');
    const inactive1 = await laneCount('inactive_file');
    const active1 = await laneCount('active_file');
    // Tag the drawn cells: after the step the same elements must have moved (a transition), not been redrawn.
    const top1 = await ev<number>(
      `(() => { const c = [...document.querySelectorAll('#pr-lru .pr-page.focus')]; c.forEach((e) => { e.tagged = true; }); return parseFloat(c[0].style.top); })()`,
    );
    await next();
    const moved = await ev<{ tagged: number; top: number; transition: string }>(`(() => {
      const c = [...document.querySelectorAll('#pr-lru .pr-page.focus')];
      return { tagged: c.filter((e) => e.tagged).length, top: parseFloat(c[0].style.top), transition: getComputedStyle(c[0]).transitionProperty };
    })()`);
    expect(moved.tagged).toBe(16);
    expect(moved.top).toBeGreaterThan(top1);
    expect(moved.transition).toContain('top');
    // Two reads: all 16 moved to the active file list, PG_referenced cleared.
    f = await focusLists();
    expect(f).toHaveLength(16);
    expect(new Set(f)).toEqual(new Set(['active_file']));
    expect(await laneCount('active_file')).toBe(active1 + 16);
    expect(await laneCount('inactive_file')).toBe(inactive1 - 16);
    expect(await text()).toContain('folio_activate()');
    expect(await counter('pgactivate')).toBeGreaterThanOrEqual(16);
    await page.waitForTimeout(700);
    await shot('e2e-pressure-read-twice');
    expect(await counter('kswapdRuns')).toBe(0);
    expect(await ev<string>("document.getElementById('pr-kswapd').dataset.woke")).toBe('0');
    await next();
    // A 72 MiB stream through 64 MiB: kswapd woke (marked on the chart), pgsteal grew, notes stayed active.
    expect(await counter('kswapdRuns')).toBeGreaterThan(0);
    expect(await counter('pgstealKswapd')).toBeGreaterThan(0);
    expect(Number(await ev<string>("document.getElementById('pr-chart').dataset.wakes"))).toBeGreaterThan(0);
    expect(Number(await ev<string>("document.getElementById('pr-kswapd').dataset.woke"))).toBeGreaterThan(0);
    expect(await ev<string>(`document.querySelector('.pr-file[data-path="/data/notes"]').dataset.active`)).toBe('16');
    expect(await text()).toContain('survived');
    expect(await page.isDisabled('#pr-next')).toBe(true);
    await shot('e2e-pressure-stream');
    expect(errors).toEqual([]);
  });

  it('memory runs out: the cache is reclaimed, anonymous pages fill the anon lists, swap fills, and the OOM killer’s report comes from dmesg', async () => {
    await open();
    await start('memory-runs-out');
    const steal1 = await counter('pgstealKswapd');
    expect(steal1).toBeGreaterThan(0);
    const file1 = (await laneCount('inactive_file')) + (await laneCount('active_file'));
    const anon1 = (await laneCount('inactive_anon')) + (await laneCount('active_anon'));
    await next();
    const file2 = (await laneCount('inactive_file')) + (await laneCount('active_file'));
    const anon2 = (await laneCount('inactive_anon')) + (await laneCount('active_anon'));
    expect(anon2 - anon1).toBeGreaterThanOrEqual(40 * 256);
    expect(file2).toBeLessThan(file1);
    expect((await counter('pgstealKswapd')) + (await counter('pgstealDirect'))).toBeGreaterThan(steal1);
    await next();
    // With 32 MiB of swap, anonymous pages went to swap slots.
    expect(Number(await ev<string>("document.getElementById('pr-swap').dataset.used"))).toBeGreaterThan(0);
    expect(await ev<number>("document.querySelectorAll('#pr-swap .pr-slot').length")).toBe(64);
    expect(await text()).toContain('swap slots are in use');
    await next();
    const t = await text();
    // The OOM killer ran: its report is shown, from the invoking line to the kill of hog, the largest task.
    expect(await ev<boolean>("!document.getElementById('pr-oom').hidden")).toBe(true);
    const report = (await page.textContent('#pr-oom'))!;
    expect(report).toMatch(/hog invoked oom-killer: gfp_mask=0x[0-9a-f]+\(GFP_HIGHUSER_MOVABLE/);
    expect(report).toMatch(/Out of memory: Killed process \d+ \(hog\) total-vm:\d+kB, anon-rss:\d+kB/);
    expect(t).toContain('Out of memory: Killed process');
    expect(await counter('unreclaimable')).toBe(1);
    await page.waitForTimeout(700);
    await shot('e2e-pressure-oom');
    expect(errors).toEqual([]);
  });

  it('dirty pages written back: dirty after write(), still dirty at 10 s, clean after the flusher at 35 s; sync() at once', async () => {
    await open();
    await start('writeback');
    const dirty = () => ev<string>(`document.querySelector('.pr-file[data-path="/data/draft"]').dataset.dirty`);
    expect(await dirty()).toBe('512');
    expect(await counter('dirtyKb')).toBe(2048);
    // the dirty pages, drawn on the inactive file list, carry the dirty mark
    expect(await ev<number>("document.querySelectorAll('#pr-lru .pr-page.focus.dirty').length")).toBeGreaterThan(0);
    await next();
    expect(await dirty()).toBe('512');
    await next();
    expect(await dirty()).toBe('0');
    expect(await counter('dirtyKb')).toBe(0);
    expect(await ev<number>("document.querySelectorAll('#pr-lru .pr-page.dirty').length")).toBe(0);
    await next();
    expect(await ev<string>(`document.querySelector('.pr-file[data-path="/data/draft2"]').dataset.dirty`)).toBe('0');
    expect(await text()).toContain('sync()');
    await shot('e2e-pressure-writeback');
    expect(errors).toEqual([]);
  });

  it('starts from the URL (?scenario=read-twice opens the tab at step 1) and fits 1024 px to its end', async () => {
    if (page) await page.close();
    page = await ctx.newPage();
    page.on('pageerror', (e) => errors.push(e.message));
    await page.setViewportSize({ width: 1024, height: 900 });
    await page.goto(`${srv.url}?scenario=read-twice`);
    await page.waitForFunction('window.kmemView && kmemView.perf.frames > 2');
    expect(await ev<boolean>("document.getElementById('tab-pressure').hidden")).toBe(false);
    expect(await ev<string>("document.getElementById('tab-pressure').dataset.step")).toBe('1');
    expect(await ev<number>('document.documentElement.scrollWidth - innerWidth')).toBeLessThanOrEqual(0);
    // Run to the end: nothing in the tab reaches past its right edge (the queues' cells included).
    while (!(await page.isDisabled('#pr-next'))) await next();
    await page.waitForTimeout(700);
    const past = await ev<string[]>(`(() => {
      const tab = document.getElementById('tab-pressure').getBoundingClientRect();
      return [...document.querySelectorAll('#tab-pressure .pr-page, #tab-pressure .ps-text, #tab-pressure .pr-zone, #tab-pressure .pr-file, #tab-pressure canvas')]
        .filter((el) => el.getBoundingClientRect().right > tab.right + 1)
        .map((el) => el.className + ' ends at ' + Math.round(el.getBoundingClientRect().right) + ' > ' + Math.round(tab.right));
    })()`);
    expect(past).toEqual([]);
    expect(await ev<number>('document.documentElement.scrollWidth - innerWidth')).toBeLessThanOrEqual(0);
    await shot('e2e-pressure-1024');
    expect(errors).toEqual([]);
  });
});
