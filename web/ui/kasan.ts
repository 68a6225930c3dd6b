/**
 * The KASAN panel: shadow bytes around an address as a grid with the
 * kernel's values, and the reports the kernel printed, linked to their
 * object and cache. On a kmem without KASAN it says so and waits.
 */
import type { Kernel } from '../../src/index.js';
import { fromPx, px } from '../model/format.js';
import { type KasanReport, kasanReports, type ShadowRow, shadowMeaning, shadowRowsAt } from '../model/kasan.js';
import { h } from './dom.js';

export interface KasanCallbacks {
  /** Show the object in the caches panel. */
  showObject(cache: string, addr: number): void;
  /** The panel should be redrawn (its address changed). */
  changed(): void;
}

export class KasanPanel {
  readonly root: HTMLElement;
  private grid: HTMLElement;
  private reports: HTMLElement;
  private addrInput: HTMLInputElement;
  private status: HTMLElement;
  /** The address the grid is centred on. */
  focus = 0;
  private key = '';
  private tip: HTMLElement;
  /** Whether this kmem has KASAN at all (checked once at start). */
  available = false;

  constructor(private readonly cb: KasanCallbacks) {
    this.addrInput = h('input', {
      id: 'kasan-addr',
      type: 'text',
      placeholder: 'ffff8880…',
      onchange: () => {
        const a = fromPx(this.addrInput.value);
        if (a >= 0) this.setFocus(a);
      },
    });
    this.status = h('p', { class: 'hint', id: 'kasan-status' });
    this.grid = h('div', { id: 'shadow-grid', class: 'shadow-grid' });
    this.reports = h('div', { id: 'kasan-reports', class: 'reports' });
    this.tip = h('div', { class: 'shadow-tip' }, 'Hover a shadow byte to see what it means.');
    this.root = h(
      'section',
      { id: 'tab-kasan', class: 'tab' },
      this.status,
      h(
        'div',
        { class: 'toolbar' },
        h('label', {}, 'shadow around ', this.addrInput),
        h('span', { class: 'hint' }, 'one shadow byte per 8 bytes of memory: shadow[addr >> 3]; click an object in the caches panel to look at it here'),
      ),
      this.grid,
      this.tip,
      shadowLegend(),
      h('h3', {}, 'Reports'),
      this.reports,
    );
  }

  setFocus(addr: number): void {
    this.focus = addr;
    this.addrInput.value = px(addr);
    this.key = '';
    this.cb.changed();
  }

  update(k: Kernel, kasanOn: boolean): void {
    if (!this.available) {
      this.status.textContent =
        'This build of kmem has no KASAN yet: boot({kasan: "generic"}) gives a machine without KASAN. The shadow grid and the reports appear here once it has; the two KASAN scenarios wait for it too.';
      this.grid.replaceChildren();
      return;
    }
    if (!kasanOn) {
      this.status.textContent = 'KASAN is off on this machine: tick KASAN and boot again (the KASAN scenarios do it for you).';
      this.grid.replaceChildren();
      this.reports.replaceChildren();
      return;
    }
    const rows = shadowRowsAt(k, this.focus, 2, 8);
    const reports = kasanReports(k);
    const key = `${this.focus}:${k.inspect.printkLines}:${rows ? rows.map((r) => r.bytes.join(',')).join(';') : ''}:${reports.length}`;
    if (key === this.key) return;
    this.key = key;
    this.status.textContent = `KASAN (generic) is on. ${reports.length} report${reports.length === 1 ? '' : 's'} so far.`;
    if (rows) this.drawGrid(rows);
    else this.grid.replaceChildren(h('p', { class: 'hint' }, 'KASAN is on, but k.inspect.shadow() gives no shadow.'));
    this.reports.replaceChildren(...reports.map((r, i) => this.reportCard(r, i)).reverse());
    if (reports.length === 0) this.reports.append(h('p', { class: 'hint' }, 'No report yet.'));
  }

  private drawGrid(rows: ShadowRow[]): void {
    const focusRow = Math.floor(this.focus / 128) * 128;
    const els = rows.map((r) => {
      const here = r.addr === focusRow;
      return h(
        'div',
        { class: `srow${here ? ' here' : ''}` },
        h('span', { class: 'saddr' }, `${here ? '>' : ' '}${px(r.addr)}:`),
        ...r.bytes.map((b, i) => {
          const a = r.addr + i * 8;
          const m = shadowMeaning(b);
          const mark = this.focus >= a && this.focus < a + 8;
          const el = h('span', { class: `sb ${m.cls}${mark ? ' mark' : ''}`, 'data-addr': a }, b.toString(16).padStart(2, '0'));
          el.addEventListener('mouseenter', () => {
            this.tip.textContent = `${px(a)}–${px(a + 7)}: shadow ${b.toString(16).padStart(2, '0')} — ${m.name}`;
          });
          return el;
        }),
      );
    });
    this.grid.replaceChildren(...els);
  }

  private reportCard(r: KasanReport, i: number): HTMLElement {
    const links = h('div', { class: 'links' });
    if (r.cache && r.object >= 0) {
      links.append(h('button', { type: 'button', class: 'link', onclick: () => this.cb.showObject(r.cache, r.object) }, `show the object in ${r.cache}`));
    }
    if (r.addr >= 0) links.append(h('button', { type: 'button', class: 'link', onclick: () => this.setFocus(r.addr) }, 'shadow around the access'));
    return h(
      'div',
      { class: 'report', 'data-type': r.type, 'data-index': i },
      h('div', { class: 'bugline' }, `BUG: KASAN: ${r.type} in ${r.where}`),
      h('div', {}, r.access === 'Free' ? `Free of addr ${px(r.addr)}` : `${r.access} of size ${r.size} at addr ${r.addr >= 0 ? px(r.addr) : '?'}`),
      r.cache ? h('div', {}, `object ${px(r.object)} of ${r.cache} (size ${r.objectSize}); the address is ${r.location}`) : null,
      links,
      h('details', {}, h('summary', {}, 'the whole report'), h('pre', {}, r.lines.join('\n'))),
    );
  }
}

function shadowLegend(): HTMLElement {
  const items: [number, string][] = [
    [0x00, '00 accessible'],
    [0x04, '01–07 first k bytes accessible'],
    [0xfc, 'fc slab redzone'],
    [0xfb, 'fb freed object'],
    [0xfa, 'fa freed, free track kept'],
    [0xfe, 'fe large kmalloc redzone'],
    [0xff, 'ff page free'],
  ];
  return h(
    'div',
    { class: 'legend' },
    ...items.map(([b, t]) => h('span', { class: 'lg' }, h('span', { class: `sb ${shadowMeaning(b).cls}` }, b.toString(16).padStart(2, '0')), t)),
  );
}
