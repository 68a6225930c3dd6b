/**
 * The JavaScript call stack as kernel-style frames: reports print
 * " <function> (<file>:<line>)" where the kernel prints "fn+0x12/0x40".
 * Frames inside kmem itself are dropped so the trace starts at the caller's
 * code, the way a kernel trace starts where the bug happened.
 */

export interface Frame {
  fn: string;
  file: string;
  line: number;
}

const FRAME_RE = /^\s*at (?:(.*?) \()?(.*?):(\d+):\d+\)?$/;

/** Is this frame part of kmem's own machinery (not the user's code)? */
function internal(file: string): boolean {
  return /[\\/](src|dist)[\\/](lib|memory|page_alloc|slub|kasan|proc|kernel|index|mempool)[\\/.]/.test(file) ||
    /[\\/](src|dist)[\\/]kernel\.[jt]s$/.test(file) ||
    file.startsWith('node:');
}

/** Capture the caller's stack, skipping kmem frames; at most `max` frames. */
export function captureStack(max = 16): Frame[] {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 64;
  const stack = new Error().stack ?? '';
  Error.stackTraceLimit = limit;
  const out: Frame[] = [];
  for (const line of stack.split('\n').slice(1)) {
    const m = FRAME_RE.exec(line);
    if (!m) continue;
    const file = m[2]!.replace(/^file:\/\//, '');
    if (internal(file)) continue;
    out.push({ fn: m[1] || '<anonymous>', file: shortFile(file), line: Number(m[3]) });
    if (out.length >= max) break;
  }
  return out;
}

function shortFile(file: string): string {
  const cwd = typeof process !== 'undefined' ? process.cwd() : '';
  if (cwd && file.startsWith(`${cwd}/`)) return file.slice(cwd.length + 1);
  return file;
}

/** One frame as a report line: " fn (file:line)". */
export function formatFrame(f: Frame): string {
  return ` ${f.fn} (${f.file}:${f.line})`;
}
