/**
 * The reader makes a chunk's text 64 KiB at a time and the parser interns
 * repeated strings: neither may change what is read. Each file here is read
 * whole and compared with parseFtraceLine on every line.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { KmemEvent } from '../../src/trace/events.js';
import { parseFtraceLine } from '../../src/trace/ftrace.js';
import { readTraceBatches } from '../../src/trace/stream.js';

const dir = mkdtempSync(join(tmpdir(), 'kmem-pieces-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function readFile(lines: string[], chunkSize?: number): Promise<KmemEvent[]> {
  const p = join(dir, 'trace.txt');
  writeFileSync(p, `${lines.join('\n')}\n`);
  const out: KmemEvent[] = [];
  for await (const b of readTraceBatches(p, { chunkSize })) out.push(...b);
  return out;
}

function expected(lines: string[]): KmemEvent[] {
  const out: KmemEvent[] = [];
  lines.forEach((l, i) => {
    const e = parseFtraceLine(l, i + 1);
    if (e !== null) out.push(e);
  });
  return out;
}

function line(i: number, site: string, comm = 'bash', gfp = 'GFP_KERNEL'): string {
  const ptr = `ffff8881${(0x1000 + i * 64).toString(16).padStart(8, '0')}`;
  return `${comm}-${100 + (i % 7)} [00${i % 4}] ..... ${(1 + i / 1e6).toFixed(6)}: kmalloc: call_site=${site} ptr=${ptr} bytes_req=${8 + (i % 90)} bytes_alloc=128 gfp_flags=${gfp} node=-1 accounted=false`;
}

describe('pieces and interned strings', () => {
  it('reads lines across 64 KiB pieces as parseFtraceLine does', async () => {
    const lines: string[] = [];
    for (let i = 0; i < 6000; i++) lines.push(line(i, `fn_${i % 300}+0x${(i % 50).toString(16)}/0x100`, `task${i % 40}`));
    for (const chunkSize of [undefined, 100_000, 1 << 17]) expect(await readFile(lines, chunkSize)).toEqual(expected(lines));
  });

  it('reads a line longer than a piece in the middle of a chunk', async () => {
    const long = `${'x'.repeat(70_000)}+0x1/0x2`;
    const lines = [line(0, 'a+0x1/0x2'), line(1, long), line(2, 'a+0x1/0x2'), line(3, long)];
    expect(await readFile(lines)).toEqual(expected(lines));
  });

  it('tells apart strings that differ only inside, and non-ASCII ones', async () => {
    const lines = [
      line(0, 'abcdefgh+0x1/0x2'),
      line(1, 'abcXefgh+0x1/0x2'),
      line(2, 'abcdefgh+0x1/0x2'),
      line(3, 'f\u00e9o+0x1/0x2', 'b\u00e9sh'),
      line(4, 'f\u00e8o+0x1/0x2', 'b\u00e8sh'),
      line(5, 'f\u00e9o+0x1/0x2', 'b\u00e9sh', 'GFP_KERNEL|__GFP_ZERO'),
    ];
    const events = await readFile(lines);
    expect(events).toEqual(expected(lines));
    expect(events.map((e) => (e as { callSite: string }).callSite)).toEqual([
      'abcdefgh+0x1/0x2',
      'abcXefgh+0x1/0x2',
      'abcdefgh+0x1/0x2',
      'f\u00e9o+0x1/0x2',
      'f\u00e8o+0x1/0x2',
      'f\u00e9o+0x1/0x2',
    ]);
    expect(events.map((e) => e.comm)).toEqual(['bash', 'bash', 'bash', 'b\u00e9sh', 'b\u00e8sh', 'b\u00e9sh']);
  });
});
