/** A tiny element builder: h('div', {class: 'x'}, 'text', child). */
type Attrs = Record<string, string | number | boolean | null | undefined | ((e: Event) => void)>;
type Child = Node | string | number | null | undefined | false;

export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Attrs = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === null || v === undefined || v === false) continue;
    if (typeof v === 'function') el.addEventListener(k.replace(/^on/, ''), v);
    else if (k === 'class') el.className = String(v);
    else if (k === 'text') el.textContent = String(v);
    else if (v === true) el.setAttribute(k, '');
    else el.setAttribute(k, String(v));
  }
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    el.append(typeof c === 'object' ? c : String(c));
  }
  return el;
}

/** The element with this id (throws if the page lacks it). */
export function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  const el = document.getElementById(id);
  if (!el) throw new Error(`#${id} missing from the page`);
  return el as T;
}

/** Set text only when it changed (cheap DOM updates while playing). */
export function setText(el: Element, text: string): void {
  if (el.textContent !== text) el.textContent = text;
}

/** A canvas sized for the device pixel ratio; returns its 2D context scaled to CSS pixels. */
export function sizeCanvas(c: HTMLCanvasElement, w: number, hgt: number): CanvasRenderingContext2D {
  const dpr = Math.max(1, Math.min(2, window.devicePixelRatio || 1));
  const W = Math.round(w * dpr);
  const H = Math.round(hgt * dpr);
  if (c.width !== W || c.height !== H) {
    c.width = W;
    c.height = H;
    c.style.width = `${w}px`;
    c.style.height = `${hgt}px`;
  }
  const ctx = c.getContext('2d')!;
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  return ctx;
}

/** The controls every guided-scenario view starts with: the scenario picker, the (disabled until started) next-step button, the step counter and the text. */
export function scenarioControls(
  prefix: string,
  scenarios: readonly { id: string; title: string; about?: string }[],
  intro: string,
  onNext: () => void,
): { pick: HTMLSelectElement; next: HTMLButtonElement; stepNo: HTMLElement; text: HTMLElement } {
  const pick = h('select', { id: `${prefix}-scenario` }, ...scenarios.map((s) => h('option', { value: s.id, title: s.about }, s.title)));
  const next = h('button', { id: `${prefix}-next`, type: 'button', onclick: onNext }, 'next step ▶');
  next.disabled = true;
  const stepNo = h('span', { id: `${prefix}-stepno`, class: 'hint' });
  const text = h('p', { id: `${prefix}-text`, class: 'ps-text' }, intro);
  return { pick, next, stepNo, text };
}
