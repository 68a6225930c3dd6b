/**
 * Trace files dropped on the page, turned into operations.
 *
 * A kmem trace (ftrace, trace-cmd or perf text of the kmem:* events) is
 * parsed with kmem's own line parser; each pointer or pfn the trace prints
 * becomes a handle, so an allocation and its free pair up whatever the
 * addresses were on the traced machine. A malloc trace (wee_alloc's
 * `Alloc(size),` / `Free(index),` lines) becomes kmalloc and kfree on CPU 0.
 */

import { __GFP_MOVABLE, __GFP_RECLAIMABLE, GFP_KERNEL, isPageEvent, isSlabAlloc, isSlabFree, type KmemEvent, parseFtraceLine } from '../../src/index.js';
import { KMALLOC_MAX_SIZE } from '../../src/inspect.js';
import type { Op } from './ops.js';

export interface TraceResult {
  kind: 'kmem' | 'malloc';
  ops: Op[];
  /** Lines that were not events (headers, comments, other events). */
  skipped: number;
  /** Lines that could not be parsed. */
  bad: number;
  /** Frees of pointers the trace never allocated (it started after them). */
  unmatched: number;
  /** True when the trace was cut at `maxOps`. */
  truncated: boolean;
}

/** Most operations a dropped trace turns into (the rest is left out). */
export const MAX_TRACE_OPS = 1_000_000;

const MALLOC_LINE = /^\s*(Alloc|Free)\((\d+)\),?\s*$/;

/** Is this text a malloc trace (its first meaningful line is Alloc(...) or Free(...))? */
export function looksLikeMallocTrace(text: string): boolean {
  for (const line of text.split('\n', 200)) {
    const t = line.trim();
    if (t === '' || t.startsWith('#') || t.startsWith('//')) continue;
    return MALLOC_LINE.test(t);
  }
  return false;
}

/** Converts lines to operations, one at a time (so a large file can be streamed). */
export class TraceConverter {
  readonly ops: Op[] = [];
  skipped = 0;
  bad = 0;
  unmatched = 0;
  truncated = false;
  private nextHandle = 1;
  private byPtr = new Map<string, number>();
  private byPfn = new Map<number, number>();
  private mallocHandles: number[] = [];
  private caches = new Map<string, string>();

  constructor(
    readonly kind: 'kmem' | 'malloc',
    private readonly cpus: number,
    private readonly maxOps = MAX_TRACE_OPS,
  ) {}

  line(text: string): void {
    if (this.ops.length >= this.maxOps) {
      this.truncated = true;
      return;
    }
    if (this.kind === 'malloc') {
      this.mallocLine(text);
      return;
    }
    let ev: KmemEvent | null;
    try {
      ev = parseFtraceLine(text);
    } catch {
      this.bad++;
      return;
    }
    if (ev === null) {
      this.skipped++;
      return;
    }
    this.event(ev);
  }

  private mallocLine(text: string): void {
    const t = text.trim();
    if (t === '' || t.startsWith('#') || t.startsWith('//')) return;
    const m = MALLOC_LINE.exec(t);
    if (!m) {
      this.bad++;
      return;
    }
    const n = Number(m[2]);
    if (m[1] === 'Alloc') {
      const h = this.nextHandle++;
      this.mallocHandles.push(h);
      this.ops.push({ t: 'kmalloc', cpu: 0, size: Math.min(n, KMALLOC_MAX_SIZE), h });
    } else {
      const h = this.mallocHandles[n];
      if (h === undefined) this.unmatched++;
      else this.ops.push({ t: 'free', cpu: 0, h });
    }
  }

  private cpuOf(ev: KmemEvent): number {
    return ev.cpu >= 0 ? ev.cpu % this.cpus : 0;
  }

  private event(ev: KmemEvent): void {
    const cpu = this.cpuOf(ev);
    if (isSlabAlloc(ev)) {
      if (/^0+$|^\(null\)$|^0x0+$/.test(ev.ptr)) return;
      const h = this.nextHandle++;
      this.byPtr.set(ev.ptr, h);
      if (ev.kind === 'kmalloc' || ev.kind === 'kmalloc_node' || ev.name?.startsWith('kmalloc-')) {
        this.ops.push({ t: 'kmalloc', cpu, size: Math.max(1, Math.min(ev.bytesReq, KMALLOC_MAX_SIZE)), h });
      } else {
        const name = ev.name ?? `cache-${ev.bytesAlloc}`;
        if (!this.caches.has(name)) {
          this.caches.set(name, name);
          this.ops.push({ t: 'create', name, size: Math.max(8, ev.bytesAlloc) });
        }
        this.ops.push({ t: 'alloc', cpu, cache: name, h });
      }
    } else if (isSlabFree(ev)) {
      const h = this.byPtr.get(ev.ptr);
      if (h === undefined) {
        this.unmatched++;
        return;
      }
      this.byPtr.delete(ev.ptr);
      this.ops.push({ t: 'free', cpu, h });
    } else if (isPageEvent(ev)) {
      if (ev.kind === 'mm_page_alloc') {
        const h = this.nextHandle++;
        this.byPfn.set(ev.pfn, h);
        const mt = ev.migratetype ?? 0;
        const gfp = mt === 1 ? GFP_KERNEL | __GFP_MOVABLE : mt === 2 ? GFP_KERNEL | __GFP_RECLAIMABLE : GFP_KERNEL;
        this.ops.push({ t: 'pages', cpu, order: Math.min(10, ev.order), gfp, h });
      } else if (ev.kind === 'mm_page_free' || ev.kind === 'mm_page_free_batched') {
        const h = this.byPfn.get(ev.pfn);
        if (h === undefined) {
          this.unmatched++;
          return;
        }
        this.byPfn.delete(ev.pfn);
        this.ops.push({ t: 'freepages', cpu, h });
      } else this.skipped++;
    }
  }

  result(): TraceResult {
    return { kind: this.kind, ops: this.ops, skipped: this.skipped, bad: this.bad, unmatched: this.unmatched, truncated: this.truncated };
  }
}

/** Convert a whole trace held in a string. */
export function traceToOps(text: string, cpus: number, maxOps = MAX_TRACE_OPS): TraceResult {
  const conv = new TraceConverter(looksLikeMallocTrace(text) ? 'malloc' : 'kmem', cpus, maxOps);
  let start = 0;
  while (start < text.length) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    conv.line(text.slice(start, end));
    start = end + 1;
  }
  return conv.result();
}
