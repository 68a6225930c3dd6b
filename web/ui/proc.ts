/** The dmesg and /proc panel: the kernel's own text files, read from the running machine. */
import type { Kernel } from '../../src/index.js';
import { h } from './dom.js';

const FILES = [
  'dmesg',
  '/proc/slabinfo',
  '/proc/buddyinfo',
  '/proc/pagetypeinfo',
  '/proc/zoneinfo',
  '/proc/vmstat',
  '/sys/kernel/debug/extfrag/unusable_index',
  '/sys/kernel/debug/extfrag/extfrag_index',
];

export class ProcPanel {
  readonly root: HTMLElement;
  private select: HTMLSelectElement;
  private pre: HTMLElement;
  private key = '';

  /** `changed`: the page should redraw the panel (another file was chosen). */
  constructor(changed: () => void) {
    this.select = h(
      'select',
      {
        id: 'proc-file',
        onchange: () => {
          this.key = '';
          changed();
        },
      },
      ...FILES.map((f) => h('option', { value: f }, f)),
    );
    this.pre = h('pre', { id: 'proc-text', class: 'proc-text' });
    this.root = h(
      'section',
      { id: 'tab-dmesg', class: 'tab' },
      h('div', { class: 'toolbar' }, h('label', {}, 'file ', this.select), h('span', { class: 'hint' }, 'rendered by kmem in the kernel’s own format')),
      this.pre,
    );
  }

  show(path: string): void {
    this.select.value = path;
    this.key = '';
  }

  update(k: Kernel, version: number): void {
    const path = this.select.value;
    const key = `${path}:${version}`;
    if (key === this.key) return;
    this.key = key;
    let text: string;
    try {
      text = path === 'dmesg' ? k.dmesg().slice(-800).join('\n') : k.proc.read(path);
    } catch (e) {
      text = (e as Error).message;
    }
    this.pre.textContent = text;
    if (path === 'dmesg') this.pre.scrollTop = this.pre.scrollHeight;
  }
}
