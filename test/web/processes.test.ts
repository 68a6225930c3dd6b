/** The process view's model: the scenarios run real Task calls, and the layout draws every VMA. */
import { describe, expect, it } from 'vitest';
import { UPAGE_PRIVATE, UPAGE_SHARED_COW, UPAGE_ZERO } from '../../src/inspect.js';
import { bandHeight, layoutBands, PROC_SCENARIOS, ProcLab, procScenarioById, yOf } from '../../web/model/processes.js';

function runAll(id: string): { lab: ProcLab; texts: string[] } {
  const lab = new ProcLab(1);
  const texts: string[] = [];
  for (const st of procScenarioById(id)!.steps) {
    st.run(lab);
    texts.push(st.text(lab));
  }
  return { lab, texts };
}

describe('process scenarios', () => {
  it('has the four of the issue', () => {
    expect(PROC_SCENARIOS.map((s) => s.id)).toEqual(['first-touch', 'fork-cow', 'stack-grows', 'segfault']);
  });

  it('first touch: zero page on read, a private page on write', () => {
    const { lab, texts } = runAll('first-touch');
    const t = lab.task('demo');
    const a = lab.addr('a');
    expect(Array.from(lab.k.inspect.userPages(t, a, a + 4 * 4096))).toEqual([UPAGE_ZERO, UPAGE_PRIVATE, 0, 0]);
    expect(texts[1]).toContain('the zero page');
    expect(texts[2]).toContain('a private anonymous page');
    expect(lab.walk()!.byte).toBe(0x2a);
  });

  it('fork and COW: shared after fork, private after the child writes', () => {
    const lab = new ProcLab(1);
    const sc = procScenarioById('fork-cow')!;
    sc.steps[0]!.run(lab);
    sc.steps[1]!.run(lab);
    const a = lab.addr('a');
    expect(lab.k.inspect.userPages(lab.task('child'), a, a + 4096)[0]).toBe(UPAGE_SHARED_COW);
    expect(sc.steps[1]!.text(lab)).toContain('shared copy-on-write');
    sc.steps[2]!.run(lab);
    const text = sc.steps[2]!.text(lab);
    expect(lab.k.inspect.userPages(lab.task('child'), a, a + 4096)[0]).toBe(UPAGE_PRIVATE);
    expect(lab.k.inspect.userPages(lab.task('parent'), a, a + 4096)[0]).toBe(UPAGE_PRIVATE);
    expect(lab.k.inspect.userPages(lab.task('child'), a + 4096, a + 8192)[0]).toBe(UPAGE_SHARED_COW);
    expect(text).toContain('0x11111111');
  });

  it('the stack grows down by the pages the store needs', () => {
    const { lab, texts } = runAll('stack-grows');
    const s = lab.vmas(lab.task('demo')).find((v) => v.name === '[stack]')!;
    expect(s.start).toBe(lab.addr('stack') - 3 * 4096);
    expect(texts[1]).toContain('(3 pages)');
  });

  it('a segfault kills the task and logs the kernel line', () => {
    const { lab, texts } = runAll('segfault');
    expect(lab.task('demo').exited).toBe(true);
    expect(texts[1]).toMatch(/demo\[\d+\]: segfault at 10 .* error 4/);
    expect(texts[0]).toContain('stops at the PMD');
    expect(texts[2]).toContain('a file page');
    expect(texts[3]).toMatch(/demo\[\d+\]: segfault at 401000 .* error 7/);
  });
});

describe('layout to scale', () => {
  it('covers user space from TASK_SIZE down to 0 with every VMA once', () => {
    const lab = new ProcLab(1);
    const t = lab.spawn('demo');
    const vmas = lab.vmas(t);
    const bands = layoutBands(vmas, lab.k.inspect.layout(t));
    expect(bands[0]!.end).toBe(0x7ffffffff000);
    expect(bands.at(-1)!.start).toBe(0);
    for (let i = 1; i < bands.length; i++) expect(bands[i]!.end).toBe(bands[i - 1]!.start);
    expect(bands.filter((b) => b.kind === 'vma').length).toBe(vmas.length);
    expect(bands.find((b) => b.vma?.name === '[stack]')!.part).toBe('stack');
    expect(bands.find((b) => b.vma?.start === 0x401000)!.part).toBe('text');
    expect(bands.find((b) => b.vma?.start === 0x403000)!.part).toBe('data');
    // a 127 TiB gap is taller than a page, but not a thousand times taller
    expect(bandHeight(2 ** 46, 'gap')).toBeLessThan(100);
    expect(yOf(bands, 0)).toBeGreaterThan(yOf(bands, 0x401000));
  });
});
