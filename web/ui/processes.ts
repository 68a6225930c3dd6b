/**
 * The Processes panel: one process's address space drawn to scale as
 * Duarte's "Anatomy of a Program in Memory" draws it (the stack on top, then
 * the mmap area, the heap, bss, data and text, with the gaps and the random
 * offsets marked), each VMA's pages coloured by state, and a page-table walk
 * of a clicked page, CR3 to the byte, one level at a time.
 */
import { UPAGE_FILE, UPAGE_NONE, UPAGE_PRIVATE, UPAGE_SHARED_COW, UPAGE_ZERO, userPageStateNames } from '../../src/inspect.js';
import { type Band, hexa, layoutBands, PROC_SCENARIOS, ProcLab, type ProcScenario, sizeStr, yOf } from '../model/processes.js';
import { h, setText } from './dom.js';

/** Colours of the page states, by UPAGE_* code. */
export const UPAGE_COLOURS: Record<number, string> = {
  [UPAGE_NONE]: '#2b3138',
  [UPAGE_ZERO]: '#74c0fc',
  [UPAGE_PRIVATE]: '#51cf66',
  [UPAGE_SHARED_COW]: '#ff922b',
  [UPAGE_FILE]: '#b197fc',
};
const PART_COLOURS: Record<Band['part'], string> = {
  text: '#5c3d2e',
  data: '#2f4b3a',
  bss: '#27403f',
  heap: '#3a3f6b',
  mmap: '#3d3450',
  stack: '#5a2f3c',
  special: '#33373d',
  gap: 'transparent',
  kernel: '#222',
};
/** Cells drawn per VMA at most (the rest is summed up). */
const MAX_CELLS = 96;

export class ProcessesPanel {
  readonly root: HTMLElement;
  lab: ProcLab;
  private scenario: ProcScenario | null = null;
  private step = 0;
  /** Levels of the walk shown: 0 = CR3 only, 1..4 the tables, 5 the byte. */
  walkShown = 5;
  private readonly pick: HTMLSelectElement;
  private readonly taskSel: HTMLSelectElement;
  private readonly text: HTMLElement;
  private readonly stepNo: HTMLElement;
  private readonly space: HTMLElement;
  private readonly walkEl: HTMLElement;
  private readonly next: HTMLButtonElement;
  version = 0;
  private drawn = -1;

  constructor(
    private readonly changed: () => void,
    private readonly seed = 1,
  ) {
    this.lab = new ProcLab(seed);
    this.pick = h('select', { id: 'ps-scenario' }, ...PROC_SCENARIOS.map((s) => h('option', { value: s.id }, s.title)));
    this.taskSel = h('select', { id: 'ps-task', onchange: () => this.showTask(Number(this.taskSel.value)) });
    this.next = h('button', { id: 'ps-next', type: 'button', onclick: () => this.nextStep() }, 'next step ▶');
    this.stepNo = h('span', { id: 'ps-stepno', class: 'hint' });
    this.text = h(
      'p',
      { id: 'ps-text', class: 'ps-text' },
      'Pick a scenario and start it: each step runs real Task calls (execve, mmap, loads and stores, fork) on a machine of its own and says what the kernel did.',
    );
    this.space = h('div', { id: 'ps-space', class: 'ps-space' });
    this.walkEl = h('div', { id: 'ps-walk', class: 'ps-walk' });
    const legend = h(
      'div',
      { class: 'ps-legend' },
      ...[UPAGE_NONE, UPAGE_ZERO, UPAGE_PRIVATE, UPAGE_SHARED_COW, UPAGE_FILE].map((s) =>
        h('span', {}, h('i', { style: `background:${UPAGE_COLOURS[s]}` }), userPageStateNames[s]!),
      ),
    );
    this.root = h(
      'section',
      { id: 'tab-procs', class: 'tab' },
      h(
        'div',
        { class: 'toolbar' },
        h('label', {}, 'scenario ', this.pick),
        h('button', { id: 'ps-start', type: 'button', onclick: () => this.start(this.pick.value) }, 'start'),
        this.next,
        this.stepNo,
        h('label', {}, 'process ', this.taskSel),
      ),
      this.text,
      legend,
      this.space,
      h('h3', {}, 'Page-table walk'),
      this.walkEl,
    );
    this.next.disabled = true;
  }

  /** Boot a fresh machine and run the scenario's first step. */
  start(id: string): void {
    const sc = PROC_SCENARIOS.find((s) => s.id === id);
    if (sc === undefined) return;
    this.pick.value = id;
    this.lab = new ProcLab(this.seed);
    this.scenario = sc;
    this.step = 0;
    this.nextStep();
  }

  nextStep(): void {
    const sc = this.scenario;
    if (sc === null || this.step >= sc.steps.length) return;
    const st = sc.steps[this.step]!;
    st.run(this.lab);
    this.step++;
    this.walkShown = 5;
    setText(this.text, st.text(this.lab));
    setText(this.stepNo, `${sc.title}: step ${this.step} of ${sc.steps.length}`);
    this.next.disabled = this.step >= sc.steps.length;
    this.touch();
  }

  private showTask(pid: number): void {
    const t = [...this.lab.tasks.values()].find((x) => x.pid === pid);
    if (t !== undefined) this.lab.shown = t;
    this.touch();
  }

  /** Walk the page table for this address, starting from CR3 alone. */
  pickPage(va: number): void {
    this.lab.pick = va;
    this.walkShown = 0;
    this.touch();
  }

  private touch(): void {
    this.version++;
    this.changed();
  }

  update(): void {
    if (this.drawn === this.version) return;
    this.drawn = this.version;
    this.drawTasks();
    this.drawSpace();
    this.drawWalk();
  }

  private drawTasks(): void {
    const ts = [...new Set(this.lab.tasks.values())];
    this.taskSel.replaceChildren(...ts.map((t) => h('option', { value: t.pid }, `${t.pid} ${t.comm}${t.exited ? ' (exited)' : ''}`)));
    if (this.lab.shown !== null) this.taskSel.value = String(this.lab.shown.pid);
  }

  private drawSpace(): void {
    const t = this.lab.shown;
    if (t === null || t.exited) {
      this.space.replaceChildren(h('p', { class: 'hint' }, t === null ? 'No process yet.' : `pid ${t.pid} has exited: its address space is gone.`));
      return;
    }
    const k = this.lab.k;
    const vmas = this.lab.vmas(t);
    const l = k.inspect.layout(t);
    const bands = layoutBands(vmas, l);
    const total = (bands.length === 0 ? 0 : bands[bands.length - 1]!.y + bands[bands.length - 1]!.h) + 6;
    const col = h('div', { class: 'ps-bands', style: `height:${Math.ceil(total)}px` });
    for (const b of bands) col.append(this.band(b));
    const marks = h('div', { class: 'ps-marks', style: `height:${Math.ceil(total)}px` });
    const ms: { y: number; label: string; title: string }[] = [];
    const mark = (va: number, label: string, title: string) => ms.push({ y: Math.round(yOf(bands, va)), label, title });
    if (l !== null) {
      const aslr = l.randomized ? '' : ' (no randomization: this machine runs with randomize_va_space 0)';
      mark(l.taskSize, 'TASK_SIZE', `${hexa(l.taskSize)}: the top of user space (128 TiB)`);
      mark(
        l.stackTop,
        l.stackRnd > 0 ? `stack top −${sizeStr(l.stackRnd)}` : 'stack top',
        `${hexa(l.stackTop)}: STACK_TOP less a random offset of ${sizeStr(l.stackRnd)}${aslr}`,
      );
      mark(
        l.mmapBase,
        l.mmapRnd > 0 ? `mmap_base −${sizeStr(l.mmapRnd)}` : 'mmap_base',
        `${hexa(l.mmapBase)}: below the stack's rlimit and guard gap, less a random offset of ${sizeStr(l.mmapRnd)}${aslr}`,
      );
      mark(l.brk, 'brk', `${hexa(l.brk)}: the program break (start_brk ${hexa(l.startBrk)})`);
      mark(l.startCode, l.pieBase !== null ? 'PIE base' : 'start_code', `${hexa(l.startCode)}: the text`);
    }
    // Marks closer than a line apart share one.
    ms.sort((x, y) => x.y - y.y);
    const merged: typeof ms = [];
    for (const m of ms) {
      const last = merged[merged.length - 1];
      if (last !== undefined && m.y - last.y < 11) {
        last.label += ` = ${m.label}`;
        last.title += `\n${m.title}`;
      } else merged.push({ ...m });
    }
    for (const m of merged) marks.append(h('div', { class: 'ps-mark', style: `top:${m.y}px`, title: m.title }, m.label));
    const kernel = h(
      'div',
      {
        class: 'ps-kernel',
        title: 'The upper half of the 64-bit space: the kernel (not accessible from user mode); between the halves, addresses that are not canonical',
      },
      'kernel space: 0xffff800000000000 and up (128 TiB, user mode may not touch it) · below it, 16 EiB of non-canonical addresses down to TASK_SIZE',
    );
    this.space.replaceChildren(h('div'), kernel, marks, col);
  }

  private band(b: Band): HTMLElement {
    if (b.kind === 'gap') {
      return h(
        'div',
        { class: 'ps-band ps-gap', style: `top:${b.y}px;height:${b.h}px`, title: `${hexa(b.start)}-${hexa(b.end)}: unmapped` },
        b.h >= 12 ? h('span', {}, `${sizeStr(b.end - b.start)} unmapped`) : null,
      );
    }
    const v = b.vma!;
    const n = (v.end - v.start) / 4096;
    const shown = Math.min(n, MAX_CELLS);
    const states = this.lab.k.inspect.userPages(this.lab.shown!, v.start, v.start + shown * 4096);
    const pick = this.lab.pick;
    const cells = h('div', { class: 'ps-cells' });
    for (let i = 0; i < shown; i++) {
      const va = v.start + i * 4096;
      const on = pick >= va && pick < va + 4096;
      cells.append(
        h('button', {
          type: 'button',
          class: `ps-page${on ? ' on' : ''}`,
          'data-va': va,
          'data-state': states[i]!,
          style: `background:${UPAGE_COLOURS[states[i]!]}`,
          title: `${hexa(va)}: ${userPageStateNames[states[i]!]}`,
          onclick: () => this.pickPage(on ? pick : va),
        }),
      );
    }
    if (n > shown) cells.append(h('span', { class: 'hint' }, `+${n - shown}`));
    const name = v.name || (b.part === 'bss' ? '[bss]' : b.part === 'mmap' ? '[anon]' : '');
    return h(
      'div',
      {
        class: `ps-band ps-vma ps-${b.part}`,
        style: `top:${b.y}px;height:${b.h}px;background:${PART_COLOURS[b.part]}`,
        'data-start': v.start,
        title: `${hexa(v.start)}-${hexa(v.end)} ${v.perms} ${v.name}`,
      },
      h(
        'div',
        { class: 'ps-label' },
        h('b', {}, `${b.part} `),
        `${name} ${v.perms} `,
        h('span', { class: 'hint' }, `${hexa(v.start)} · ${sizeStr(v.end - v.start)}`),
      ),
      cells,
    );
  }

  private drawWalk(): void {
    const w = this.lab.walk();
    if (w === null) {
      this.walkEl.replaceChildren(h('p', { class: 'hint' }, 'Click a page to walk the page tables for it.'));
      return;
    }
    const idx = [39, 30, 21, 12].map((sh) => Math.floor(w.va / 2 ** sh) & 511);
    const rows: HTMLElement[] = [
      h(
        'div',
        { class: 'ps-step', id: 'ps-split' },
        h('b', {}, 'VA'),
        ` ${hexa(w.va)} = PGD ${idx[0]} | PUD ${idx[1]} | PMD ${idx[2]} | PTE ${idx[3]} | offset ${hexa(w.va % 4096)} (9 + 9 + 9 + 9 + 12 bits)`,
      ),
      h('div', { class: 'ps-step' }, h('b', {}, 'CR3'), ` = ${hexa(w.cr3)} (mm->pgd, pfn ${w.cr3 / 4096}): the PGD of this process`),
    ];
    w.levels.forEach((l, i) => {
      if (i + 1 > this.walkShown) return;
      const shift = 39 - 9 * i;
      const entry = `0x${l.entry.toString(16).padStart(16, '0')}`;
      rows.push(
        h(
          'div',
          { class: `ps-step${l.present ? '' : ' missing'}`, 'data-level': l.level },
          h('b', {}, l.level),
          ` table pfn ${l.tablePfn}, index ${l.index} (address bits ${shift + 8}..${shift}) → entry ${entry} `,
          h('span', { class: 'ps-bits' }, l.present ? `[${l.bits.join(' ')}]` : '[not present: the walk stops; a load would fault]'),
          l.present ? ` → pfn ${l.pfn}` : '',
        ),
      );
    });
    if (this.walkShown > 4 && w.phys >= 0)
      rows.push(
        h(
          'div',
          { class: 'ps-step', 'data-level': 'byte' },
          h('b', {}, 'byte'),
          ` physical ${hexa(w.phys)} = pfn ${Math.floor(w.phys / 4096)} + ${hexa(w.va % 4096)} holds 0x${w.byte.toString(16).padStart(2, '0')}`,
        ),
      );
    const done = this.walkShown > w.levels.length;
    rows.push(
      h(
        'div',
        { class: 'toolbar' },
        h('button', { id: 'ps-walk-next', type: 'button', disabled: done, onclick: () => this.walkMore(1) }, 'next level ▶'),
        h('button', { id: 'ps-walk-all', type: 'button', disabled: done, onclick: () => this.walkMore(5) }, 'all'),
      ),
    );
    this.walkEl.replaceChildren(...rows);
  }

  private walkMore(n: number): void {
    this.walkShown = Math.min(5, this.walkShown + n);
    this.touch();
  }
}
