/**
 * Real CPUs in the page: a machine booted with smp: 'workers' whose CPUs 1..N
 * are Web Workers (web/smp_worker.ts) sharing its memory, each running
 * kmalloc/kfree; afterwards the per-CPU counts SLUB keeps (its statistics,
 * per CPU and summed on read, as /sys/kernel/slab/<cache>/alloc_fastpath
 * prints them). Needs cross-origin isolation (SharedArrayBuffer): `kmem
 * serve` and vite's servers send the headers.
 */
import { boot, type Kernel } from '../../src/index.js';
import type { SmpDone, SmpJob, SmpRole } from '../smp_worker.js';
import { h, setText } from './dom.js';

/** One run's outcome, for the table and the end-to-end test. */
export interface SmpResult {
  workers: SmpDone[];
  /** Per CPU: SLUB's alloc_fastpath, alloc_slowpath, free_fastpath, free_slowpath of the cache. */
  perCpu: { cpu: number; allocFast: number; allocSlow: number; freeFast: number; freeSlow: number }[];
  cache: string;
  sys: Record<string, string>;
}

const STATS = ['alloc_fastpath', 'alloc_slowpath', 'free_fastpath', 'free_slowpath'] as const;

/** "total C0=a C1=b" (the kernel's show_stat()) as per-CPU numbers. */
export function perCpuCounts(text: string): Map<number, number> {
  const m = new Map<number, number>();
  for (const part of text.trim().split(' ').slice(1)) {
    const match = /^C(\d+)=(\d+)$/.exec(part);
    if (match) m.set(Number(match[1]), Number(match[2]));
  }
  return m;
}

/**
 * Boot a machine of nWorkers + 1 CPUs, run each worker CPU's job, and read
 * SLUB's per-CPU counts. 'pairs': each worker its own kmalloc/kfree;
 * 'remote': worker 1 allocates, worker 2 frees (two workers).
 */
export async function runSmp(nWorkers: number, ops: number, mode: 'pairs' | 'remote' = 'pairs', size = 64): Promise<SmpResult> {
  if (mode === 'remote') nWorkers = 2;
  const ring = mode === 'remote' ? new SharedArrayBuffer((2 + 1024) * 4) : null;
  const k: Kernel = boot({ memory: '32M', cpus: nWorkers + 1, smp: 'workers', slubStats: true });
  const cache = `kmalloc-${size}`;
  const workers = Array.from({ length: nWorkers }, () => new Worker(new URL('../smp_worker.ts', import.meta.url), { type: 'module' }));
  // CPU 0 (this page) serves the IPIs queued to it while the workers run.
  const poll = setInterval(() => k.poll(), 1);
  try {
    const done = await Promise.all(
      workers.map(
        (w, i) =>
          new Promise<SmpDone>((resolve, reject) => {
            w.onmessage = (e: MessageEvent<SmpDone>) => resolve(e.data);
            w.onerror = (e) => reject(new Error(e.message));
            const role: SmpRole = mode === 'pairs' ? 'pairs' : i === 0 ? 'produce' : 'consume';
            const job: SmpJob = { handle: k.handle, cpu: i + 1, role, ops, size, batch: 32, ring };
            w.postMessage(job);
          }),
      ),
    );
    const sys: Record<string, string> = {};
    for (const st of STATS) sys[st] = k.sys.read(`/sys/kernel/slab/${cache}/${st}`);
    const counts = STATS.map((st) => perCpuCounts(sys[st]!));
    const perCpu = [];
    for (let cpu = 0; cpu <= nWorkers; cpu++) {
      const [allocFast, allocSlow, freeFast, freeSlow] = counts.map((c) => c.get(cpu) ?? 0) as [number, number, number, number];
      perCpu.push({ cpu, allocFast, allocSlow, freeFast, freeSlow });
    }
    return { workers: done, perCpu, cache, sys };
  } finally {
    clearInterval(poll);
    for (const w of workers) w.terminate();
  }
}

/** The section: a worker count, a button, the table of per-CPU counts. */
export function smpSection(): HTMLElement {
  const isolated = globalThis.crossOriginIsolated === true;
  const count = h('select', { id: 'smp-workers' }, ...[1, 2, 4].map((n) => h('option', { value: n, selected: n === 2 }, `${n}`)));
  const mode = h(
    'select',
    { id: 'smp-mode', title: 'own pairs: each worker frees what it allocated; remote frees: CPU 1 allocates, CPU 2 frees every object (2 workers)' },
    h('option', { value: 'pairs' }, 'own kmalloc/kfree pairs'),
    h('option', { value: 'remote' }, 'remote frees: CPU 1 → CPU 2'),
  );
  const status = h(
    'span',
    { id: 'smp-status', class: 'hint' },
    isolated ? '' : 'needs cross-origin isolation (SharedArrayBuffer): open the page from kmem serve',
  );
  const table = h('table', { id: 'smp-table', class: 'smp-table' });
  const out = h('section', { id: 'smp', class: 'smp' });
  const button = h(
    'button',
    {
      id: 'smp-run',
      type: 'button',
      disabled: !isolated,
      title: 'boot a machine whose CPUs 1..N are Web Workers sharing its memory, each running kmalloc(64)/kfree',
      onclick: async () => {
        const n = Number(count.value);
        const ops = 20000;
        button.disabled = true;
        out.dataset.done = '0';
        setText(status, mode.value === 'remote' ? 'running 2 workers, every free remote…' : `running ${n} worker${n === 1 ? '' : 's'}…`);
        try {
          const r = await runSmp(n, ops, mode.value === 'remote' ? 'remote' : 'pairs');
          const bad = r.workers.find((w) => w.error !== undefined);
          if (bad) throw new Error(`CPU ${bad.cpu}: ${bad.error}`);
          table.replaceChildren(
            h('tr', {}, ...['CPU', 'kmalloc', 'kfree', 'alloc fast', 'alloc slow', 'free fast', 'free slow', 'ms'].map((t) => h('th', {}, t))),
            ...r.perCpu.map((c) => {
              const w = r.workers.find((x) => x.cpu === c.cpu);
              return h(
                'tr',
                { 'data-cpu': c.cpu, 'data-allocs': c.allocFast + c.allocSlow, 'data-frees': c.freeFast + c.freeSlow },
                h('td', {}, c.cpu === 0 ? '0 (page)' : String(c.cpu)),
                h('td', {}, w ? w.allocs : '–'),
                h('td', {}, w ? w.frees : '–'),
                h('td', {}, c.allocFast),
                h('td', {}, c.allocSlow),
                h('td', {}, c.freeFast),
                h('td', {}, c.freeSlow),
                h('td', {}, w ? w.ms.toFixed(0) : '–'),
              );
            }),
          );
          setText(status, `${r.cache}: ${r.sys.alloc_fastpath!.trim()} (alloc_fastpath, per CPU)`);
          out.dataset.done = '1';
        } catch (e) {
          setText(status, `failed: ${(e as Error).message}`);
          out.dataset.done = 'error';
        } finally {
          button.disabled = !isolated;
        }
      },
    },
    'run on Web Workers',
  );
  out.append(
    h('h3', {}, 'Real CPUs: Web Workers on one SharedArrayBuffer'),
    h('div', { class: 'toolbar' }, h('label', {}, 'workers ', count), mode, button, status),
    table,
  );
  return out;
}
