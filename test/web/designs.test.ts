import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { RunningServer } from '../../src/cli/serve.js';
import { replayCompare } from '../../src/trace/compare.js';
import { type Browser, openView, SHOTS, startBrowser } from './browser.js';

/**
 * The Designs tab in Chromium: each design's guided scenario draws what the
 * kernel's rules say its per-CPU and per-node layers hold, with no console
 * error, and the chart of memory per design is drawn.
 *
 * By hand:
 *   SLAB, a 256-byte cache: enable_cpucache() gives limit 120 and batchcount
 *     60 (objects of at most 256 bytes); 16 objects a slab. The first
 *     allocation refills the untouched, empty head array with at most
 *     BATCHREFILL_LIMIT = 16 objects: one new slab, taken whole (so on
 *     slabs_full), and one popped: 15 left on CPU 0.
 *   SLOB: kmalloc(100) is a 108-byte block (54 units) in a new page on
 *     free_slob_small: 2048 - 54 = 1994 units free.
 *   Sheaves (capacity 8): the first allocation refills CPU 0's empty main
 *     sheaf to 8 and pops one: 7. Then (step 3) 31 frees on CPU 1: 8 fill
 *     its main; the 9th finds no spare and no empty sheaf in the barn, so a
 *     new empty sheaf becomes main and the full one the spare; the 17th and
 *     25th find both full and put the full main in the barn: main 7,
 *     spare 8, barn 2 full. Step 4: CPU 0 (main 1, no spare) allocates 12:
 *     twice its empty main is traded for a full sheaf of the barn: barn 0
 *     full, 2 empty.
 */
describe('the Designs tab', () => {
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

  const ev = <T>(js: string): Promise<T> => page.evaluate(js) as Promise<T>;
  const nextFrames = () => page.evaluate('new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)))');
  const attr = (sel: string, name: string) =>
    ev<string | null>(`document.querySelector(${JSON.stringify(sel)})?.getAttribute(${JSON.stringify(name)}) ?? null`);
  const shot = (name: string) => page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });

  async function start(id: string): Promise<void> {
    await page.selectOption('#ds-scenario', id);
    await page.click('#ds-start');
    await nextFrames();
    await page.waitForFunction(`document.getElementById('ds-draw').dataset.design === ${JSON.stringify(id)}`);
  }
  async function next(): Promise<void> {
    await page.click('#ds-next');
    await nextFrames();
  }

  it('opens, draws the memory-per-design chart, and each design its layers as the kernel fills them', { timeout: 120_000 }, async () => {
    page = await openView(ctx, page, `${srv.url}?tab=designs`, 1280, (msg) => errors.push(msg));
    expect(await ev<boolean>("document.getElementById('tab-designs').hidden")).toBe(false);
    await page.waitForFunction("document.querySelector('#ds-chart canvas') !== null");
    expect(await attr('#ds-chart', 'data-series')).toBe('3');

    // SLAB
    await start('slab');
    expect(await attr('.ds-cpu[data-cpu="0"] .ds-cells', 'data-filled')).toBe('15');
    expect(await attr('.ds-cpu[data-cpu="0"] .ds-cells', 'data-slots')).toBe('120');
    expect(await attr('.ds-cpu[data-cpu="1"] .ds-cells', 'data-filled')).toBe('0');
    expect(await attr('.ds-list[data-list="slabs_full"]', 'data-n')).toBe('1');
    expect(await attr('.ds-list[data-list="slabs_partial"]', 'data-n')).toBe('0');
    expect(await ev<number>('document.querySelectorAll(\'.ds-cpu[data-cpu="0"] .ds-cells i.on\').length')).toBe(15);
    await next();
    await next();
    // 30 objects freed on CPU 1: on its head array, whoever allocated them
    expect(await attr('.ds-cpu[data-cpu="1"] .ds-cells', 'data-filled')).toBe('30');
    await shot('designs-slab');

    // SLOB
    await start('slob');
    expect(await attr('.ds-list[data-list="free_slob_small"]', 'data-n')).toBe('1');
    expect(await attr('.ds-list[data-list="free_slob_small"] .ds-page', 'data-units')).toBe('1994');
    expect(await attr('.ds-list[data-list="free_slob_medium"]', 'data-n')).toBe('0');
    await next();
    expect(await attr('.ds-list[data-list="free_slob_medium"]', 'data-n')).toBe('1');
    expect(await attr('.ds-list[data-list="free_slob_large"]', 'data-n')).toBe('1');
    expect(await ev<number>('document.querySelectorAll(\'.ds-list[data-list="free_slob_small"] .ds-block\').length')).toBe(1);
    await shot('designs-slob');

    // sheaves and the barn
    await start('sheaves');
    expect(await attr('.ds-cpu[data-cpu="0"] .ds-sheaf', 'data-size')).toBe('7');
    await next();
    await next();
    expect(await ev<string[]>('[...document.querySelectorAll(\'.ds-cpu[data-cpu="1"] .ds-sheaf\')].map((e) => e.dataset.size)')).toEqual(['7', '8', '-1']);
    expect(await attr('.ds-list[data-list="sheaves_full"]', 'data-n')).toBe('2');
    await next();
    expect(await attr('.ds-list[data-list="sheaves_full"]', 'data-n')).toBe('0');
    expect(await attr('.ds-list[data-list="sheaves_empty"]', 'data-n')).toBe('2');
    // kfree_rcu: CPU 0's rcu_free sheaf (its third) fills, goes to call_rcu, then to the barn
    await next();
    expect(await ev<string | undefined>('[...document.querySelectorAll(\'.ds-cpu[data-cpu="0"] .ds-sheaf\')][2]?.dataset.size')).toBe('5');
    await next();
    expect(await attr('.ds-list[data-list="sheaves_full"]', 'data-n')).toBe('0');
    await next();
    expect(await attr('.ds-list[data-list="sheaves_full"]', 'data-n')).toBe('1');
    expect(await page.isDisabled('#ds-next')).toBe(true);
    await shot('designs-sheaves');

    expect(errors).toEqual([]);
  });

  it("starts from the URL: ?scenario=sheaves opens the Designs tab at the scenario's first step", { timeout: 60_000 }, async () => {
    page = await openView(ctx, page, `${srv.url}?scenario=sheaves`, 1280, (msg) => errors.push(msg));
    expect(await ev<boolean>("document.getElementById('tab-designs').hidden")).toBe(false);
    await page.waitForFunction("document.getElementById('ds-draw').dataset.design === 'sheaves'");
    expect(await attr('#tab-designs', 'data-step')).toBe('1');
    expect(await attr('.ds-cpu[data-cpu="0"] .ds-sheaf', 'data-size')).toBe('7');
    expect(errors).toEqual([]);
  });

  /** Text that spans out of its panel, or a page that scrolls sideways (as the main e2e test checks the other tabs). */
  const LAYOUT = `(() => {
    const out = [];
    const tab = document.getElementById('tab-designs');
    const p = tab.getBoundingClientRect();
    const walker = document.createTreeWalker(tab, NodeFilter.SHOW_TEXT);
    for (let t = walker.nextNode(); t; t = walker.nextNode()) {
      const el = t.parentElement;
      if (!el || !t.textContent.trim() || el.closest('select, option')) continue;
      const range = document.createRange();
      range.selectNodeContents(t);
      const r = range.getBoundingClientRect();
      if (r.width === 0 && r.height === 0) continue;
      if (r.right > p.right + 1 || r.left < p.left - 1) out.push(t.textContent.trim().slice(0, 40));
    }
    if (document.documentElement.scrollWidth > innerWidth) out.push('the page scrolls sideways');
    return out;
  })()`;

  it('fits 1280- and 1024-pixel windows with every design, and draws a --compare --json file as bars and a table', { timeout: 120_000 }, async () => {
    for (const width of [1280, 1024]) {
      page = await openView(ctx, page, `${srv.url}?tab=designs`, width, (msg) => errors.push(msg));
      for (const id of ['slab', 'slob', 'sheaves']) {
        await start(id);
        for (let i = 0; i < 5 && !(await page.isDisabled('#ds-next')); i++) await next();
        expect({ width, id, problems: await ev<string[]>(LAYOUT) }).toEqual({ width, id, problems: [] });
      }
    }
    // the JSON `kmem replay --compare ... --json` prints: its configurations are the rows replayCompare makes
    const dir = mkdtempSync(join(tmpdir(), 'kmem-designs-'));
    try {
      const trace = join(dir, 'trace.txt');
      const line = (i: number, what: string) => `         busybox-771     [000] .....    24.${String(400000 + i).padStart(6, '0')}: ${what}`;
      writeFileSync(
        trace,
        `# tracer: nop\n#\n# entries-in-buffer/entries-written: 2/2   #P:1\n#\n${line(1, 'kmalloc: call_site=f+0x1/0x2 ptr=ffff8ad304000000 bytes_req=100 bytes_alloc=128 gfp_flags=GFP_KERNEL node=-1 accounted=false')}\n${line(2, 'kmalloc: call_site=f+0x1/0x2 ptr=ffff8ad304001000 bytes_req=500 bytes_alloc=512 gfp_flags=GFP_KERNEL node=-1 accounted=false')}\n`,
      );
      const c = await replayCompare(trace, [
        { label: 'allocator=slab', boot: { allocator: 'slab' } },
        { label: 'allocator=slob', boot: { allocator: 'slob' } },
      ]);
      const json = join(dir, 'compare.json');
      writeFileSync(json, JSON.stringify({ file: 'trace.txt', configurations: c.rows }));
      await page.setInputFiles('#ds-compare-file', json);
      await page.waitForFunction("document.getElementById('ds-compare-chart').dataset.configurations === '2'");
      expect(await ev<boolean>("document.querySelector('#ds-compare-chart canvas') !== null")).toBe(true);
      // SLOB: kmalloc(100) and kmalloc(500) are 108- and 508-byte blocks on two lists: two heap pages, 8 kB
      const slob = await ev<string[]>('[...document.querySelectorAll(\'#ds-compare-table tr[data-label="allocator=slob"] td\')].map((td) => td.textContent)');
      expect(slob.slice(0, 2)).toEqual(['allocator=slob', '8']);
      const bad = join(dir, 'bad.json');
      writeFileSync(bad, '{"rows": []}');
      await page.setInputFiles('#ds-compare-file', bad);
      await page.waitForFunction("document.getElementById('ds-compare-note').textContent.includes('configurations:')");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    await page.waitForTimeout(100);
    await shot('designs-compare-1024');
    expect(errors).toEqual([]);
  });
});
