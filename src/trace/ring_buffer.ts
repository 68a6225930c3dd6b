/**
 * The ftrace ring buffers a traced machine made before its first event.
 *
 * trace_init allocates the boot CPU's ring buffers before any event can be
 * recorded, so a trace never shows them; but a CPU brought up while
 * tracing gets the same buffers (trace_rb_cpu_prepare, one per ring buffer
 * instance), and the trace shows those allocations: each buffer begins with
 * rb_allocate_cpu_buffer's kzalloc of its ring_buffer_per_cpu descriptor
 * (512 bytes requested on 6.x) and goes on with one buffer_page kzalloc per
 * data page from __rb_allocate_pages.
 */

import { closeSync, openSync, readSync } from 'node:fs';
import { isRegularFile } from './replay.js';

const RB_LINE = /kmalloc: call_site=(rb_allocate_cpu_buffer|__rb_allocate_pages)\+\S+ ptr=\S+ bytes_req=(\d+)/g;

/** Bytes read at a time by traceRingBuffersOfFile. */
const CHUNK = 1 << 20;

/** Folds the rb_* kmalloc lines of `text` into `out` (data pages per buffer, in trace order); stops at `count` buffers. Returns false once full. */
function scan(text: string, out: number[], count: number): boolean {
  RB_LINE.lastIndex = 0;
  for (let m = RB_LINE.exec(text); m !== null; m = RB_LINE.exec(text)) {
    if (m[1] === '__rb_allocate_pages') {
      if (out.length !== 0) out[out.length - 1]!++;
    } else if (m[2] === '512') {
      if (out.length === count) return false;
      out.push(0);
    }
  }
  return true;
}

/**
 * The ring buffers a trace shows being allocated for CPUs brought up while
 * tracing: the data pages of each buffer, in trace order, for the first
 * `count` buffers.
 */
export function traceRingBuffers(trace: string, count: number): number[] {
  if (!(count >= 0)) throw new RangeError(`count: a number of buffers, got ${count}`);
  const out: number[] = [];
  scan(trace, out, count);
  return out;
}

/**
 * The buffers of one CPU among `all` (every buffer the trace shows): CPUs
 * come up one at a time, each getting one buffer per ring buffer instance
 * in the same order, so the sequence repeats with a period of the number of
 * instances; its shortest period is taken (a sequence of equal sizes is
 * read as one instance per CPU).
 */
export function oneCpuRingBuffers(all: readonly number[]): number[] {
  for (let p = 1; p <= all.length; p++) {
    if (all.length % p !== 0) continue;
    let ok = true;
    for (let i = p; i < all.length && ok; i++) ok = all[i] === all[i - p];
    if (ok) return all.slice(0, p);
  }
  return [];
}

/**
 * traceRingBuffers over a trace file, read by chunks (a regular, uncompressed
 * file; null for a pipe, standard input or a gzip'd file), then one CPU's
 * buffers of them (oneCpuRingBuffers): what the boot CPU had before the
 * trace began. An empty list when the trace shows none.
 */
export function ringBuffersOfFile(file: string): number[] | null {
  if (!isRegularFile(file)) return null;
  const fd = openSync(file, 'r');
  try {
    const buf = Buffer.alloc(CHUNK);
    const out: number[] = [];
    let carry = '';
    for (let pos = 0; ; ) {
      const n = readSync(fd, buf, 0, buf.length, pos);
      if (pos === 0 && n >= 2 && buf[0] === 0x1f && buf[1] === 0x8b) return null;
      if (n === 0) break;
      pos += n;
      const text = carry + buf.toString('latin1', 0, n);
      const cut = text.lastIndexOf('\n') + 1;
      carry = text.slice(cut);
      scan(text.slice(0, cut), out, Number.POSITIVE_INFINITY);
    }
    scan(carry, out, Number.POSITIVE_INFINITY);
    return oneCpuRingBuffers(out);
  } finally {
    closeSync(fd);
  }
}
