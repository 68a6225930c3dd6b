import { join } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { RunningServer } from '../../src/cli/serve.js';
import { type Browser, openView, SHOTS, startBrowser } from './browser.js';

describe('the Processes tab', () => {
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
    page = await openView(ctx, page, `${srv.url}?tab=procs`, width, (msg) => errors.push(msg));
    return page;
  }

  const ev = <T>(js: string): Promise<T> => page.evaluate(js) as Promise<T>;
  const shot = (name: string) => page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
  const nextFrames = () => page.evaluate('new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)))');

  async function start(id: string): Promise<void> {
    await page.selectOption('#ps-scenario', id);
    await page.click('#ps-start');
    await nextFrames();
  }
  async function next(): Promise<void> {
    await page.click('#ps-next');
    await nextFrames();
  }
  /** The data-state of the drawn cell of the page holding va. */
  const cellState = (va: number) => ev<string | null>(`document.querySelector('#ps-space .ps-page[data-va="${va - (va % 4096)}"]')?.dataset.state ?? null`);
  const text = async () => (await page.textContent('#ps-text')) ?? '';
  const labAddr = (name: string) => ev<number>(`kmemView.procs.lab.addr('${name}')`);

  /** Text past the tab's edges, and sideways scrolling. */
  const OVERFLOW = `(() => {
    const out = [];
    const tab = document.getElementById('tab-procs').getBoundingClientRect();
    for (const el of document.querySelectorAll('#tab-procs .ps-text, #tab-procs .ps-step, #tab-procs .toolbar, #tab-procs .ps-legend')) {
      const r = el.getBoundingClientRect();
      if (r.right > tab.right + 1) out.push(el.className + ' ends at ' + Math.round(r.right) + ' past the tab at ' + Math.round(tab.right));
    }
    const sp = document.getElementById('ps-space');
    if (sp.scrollWidth > sp.clientWidth) out.push('the map scrolls sideways: ' + sp.scrollWidth + ' > ' + sp.clientWidth);
    if (document.documentElement.scrollWidth > innerWidth) out.push('the page scrolls sideways: ' + document.documentElement.scrollWidth + ' > ' + innerWidth);
    return out;
  })()`;

  it('first touch: a read maps the zero page, a write a private page; a click walks CR3 to the byte', async () => {
    await open();
    expect(await ev<boolean>("document.getElementById('tab-procs').hidden")).toBe(false);
    await start('first-touch');
    const a = await labAddr('a');
    expect(await cellState(a)).toBe('0');
    // Duarte's parts are all drawn: text, data, bss, heap-less demo's stack, the mmap area
    const parts = await ev<string[]>(
      "[...document.querySelectorAll('#ps-space .ps-vma')].map((e) => e.className.split(' ').find((c) => c.startsWith('ps-') && c !== 'ps-band' && c !== 'ps-vma'))",
    );
    expect(parts).toEqual(expect.arrayContaining(['ps-text', 'ps-data', 'ps-bss', 'ps-heap', 'ps-mmap', 'ps-stack', 'ps-special']));
    expect(await ev<number>("document.querySelectorAll('#ps-space .ps-gap').length")).toBeGreaterThan(2);
    // randomize_va_space 2 (the default): the stack top and mmap_base sit below TASK_SIZE by their random offsets, marked as such.
    const marks = await ev<string[]>("[...document.querySelectorAll('.ps-mark')].map((m) => m.textContent)");
    expect(marks).toEqual(expect.arrayContaining(['TASK_SIZE', 'brk', 'start_code']));
    expect(marks.some((m) => /^stack top −[\d.]+ [KMG]iB$/.test(m))).toBe(true);
    expect(marks.some((m) => /^mmap_base −[\d.]+ [KMG]iB$/.test(m))).toBe(true);
    await next();
    expect(await text()).toContain('zero page');
    expect(await cellState(a)).toBe('1');
    await next();
    expect(await cellState(a + 4096)).toBe('2');
    expect(await cellState(a + 8192)).toBe('0');
    // the step picked the written page: the walk is shown in full, ending at the byte the store wrote
    expect(await page.textContent('#ps-walk [data-level="byte"]')).toContain('holds 0x2a');
    // click the zero page: the walk starts at CR3 and goes one level a click
    await page.click(`#ps-space .ps-page[data-va="${a}"]`);
    await nextFrames();
    expect(await ev<number>("document.querySelectorAll('#ps-walk [data-level]').length")).toBe(0);
    const idx = [39, 30, 21, 12].map((sh) => Math.floor(a / 2 ** sh) & 511);
    expect(await page.textContent('#ps-split')).toContain(`PGD ${idx[0]} | PUD ${idx[1]} | PMD ${idx[2]} | PTE ${idx[3]} | offset 0x0`);
    for (const level of ['PGD', 'PUD', 'PMD', 'PTE']) {
      await page.click('#ps-walk-next');
      await nextFrames();
      expect(await page.textContent(`#ps-walk [data-level="${level}"]`)).toContain('index');
    }
    const pte = (await page.textContent('#ps-walk [data-level="PTE"]'))!;
    const zero = await ev<number>('kmemView.procs.lab.k.inspect.zeroPagePfn()');
    expect(pte).toContain(`→ pfn ${zero}`);
    expect(pte).toMatch(/\[present user accessed special nx\]/);
    await page.click('#ps-walk-next');
    await nextFrames();
    expect(await page.textContent('#ps-walk [data-level="byte"]')).toContain(`pfn ${zero}`);
    // the PTE's pfn is the one /proc/PID/pagemap gives
    const pm = await ev<string>(`String(kmemView.procs.lab.task('demo').pagemap(${a + 4096}, 1)[0] & ((1n << 55n) - 1n))`);
    await page.click(`#ps-space .ps-page[data-va="${a + 4096}"]`);
    await page.click('#ps-walk-all');
    await nextFrames();
    expect(await page.textContent('#ps-walk [data-level="PTE"]')).toContain(`→ pfn ${pm}`);
    expect(await page.textContent('#ps-walk [data-level="PTE"]')).toMatch(/present rw user accessed dirty/);
    await shot('e2e-procs-first-touch');
    expect(await ev<string[]>(OVERFLOW)).toEqual([]);
    expect(errors).toEqual([]);
  });

  it('fork and copy-on-write: shared after fork, private for both after the child writes', async () => {
    await open();
    await start('fork-cow');
    const a = await labAddr('a');
    expect(await cellState(a)).toBe('2');
    await next();
    expect(await page.inputValue('#ps-task')).toBe(String(await ev<number>("kmemView.procs.lab.task('child').pid")));
    expect(await cellState(a)).toBe('3');
    expect(await cellState(a + 4096)).toBe('3');
    await next();
    expect(await cellState(a)).toBe('2');
    expect(await cellState(a + 4096)).toBe('3');
    expect(await text()).toContain('0x11111111');
    await shot('e2e-procs-fork-cow');
    await page.selectOption('#ps-task', String(await ev<number>("kmemView.procs.lab.task('parent').pid")));
    await nextFrames();
    expect(await cellState(a)).toBe('2');
    await next();
    expect(await text()).toContain('reused it in place');
    expect(await page.isDisabled('#ps-next')).toBe(true);
    expect(errors).toEqual([]);
  });

  it('the stack grows: the [stack] VMA starts 3 pages lower', async () => {
    await open();
    await start('stack-grows');
    const before = await labAddr('stack');
    expect(await ev<string>("document.querySelector('#ps-space .ps-stack').dataset.start")).toBe(String(before));
    await next();
    expect(await ev<string>("document.querySelector('#ps-space .ps-stack').dataset.start")).toBe(String(before - 3 * 4096));
    expect(await cellState(await labAddr('below'))).toBe('2');
    expect(await text()).toContain('expand_stack()');
    await shot('e2e-procs-stack');
    expect(errors).toEqual([]);
  });

  it('a segfault: the task dies, the kernel line is quoted, the walk stops at a missing table', async () => {
    await open();
    await start('segfault');
    expect(await page.textContent('#ps-walk [data-level="PMD"]')).toContain('not present');
    expect(await ev<number>('document.querySelectorAll(\'#ps-walk [data-level="PTE"]\').length')).toBe(0);
    await next();
    expect(await text()).toMatch(/demo\[\d+\]: segfault at 10 ip .* error 4/);
    expect(await page.textContent('#ps-space')).toContain('has exited');
    await next();
    expect(await cellState(0x401000)).toBe('4');
    expect(await page.textContent('#ps-walk [data-level="PTE"]')).not.toMatch(/ rw /);
    await shot('e2e-procs-segfault');
    await next();
    expect(await text()).toMatch(/segfault at 401000 .* error 7/);
    expect(errors).toEqual([]);
  });

  for (const width of [1024, 1280, 1920]) {
    it(`fits a ${width} px window with every scenario run to its end`, async () => {
      await open(width);
      for (const id of ['first-touch', 'fork-cow', 'stack-grows', 'segfault']) {
        await start(id);
        while (!(await page.isDisabled('#ps-next'))) await next();
        expect({ id, problems: await ev<string[]>(OVERFLOW) }).toEqual({ id, problems: [] });
      }
      await start('first-touch');
      await next();
      await next();
      await page.waitForTimeout(100);
      await shot(`e2e-procs-${width}`);
      expect(errors).toEqual([]);
    });
  }
});
