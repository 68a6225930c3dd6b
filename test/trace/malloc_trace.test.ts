import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { TraceFileError, TraceParseError } from '../../src/trace/events.js';
import { type MallocOp, MallocTraceChecker, parseMallocTrace, parseMallocTraceLine, readMallocTrace } from '../../src/trace/malloc_trace.js';
import { MALLOC_SAMPLE_NAME, MALLOC_SAMPLE_TEXT } from '../../src/trace/samples/malloc_sample.js';
import type { ReadTraceOptions, TraceReadStats } from '../../src/trace/stream.js';

const TRACES = fileURLToPath(new URL('../fixtures/realdata/malloc-traces/', import.meta.url));
const SAMPLE_MALLOC_TRACE = fileURLToPath(new URL('../../src/trace/samples/sample.trace', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'kmem-malloc-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function tmpFile(name: string, content: string | Uint8Array): string {
  const p = join(dir, name);
  writeFileSync(p, content);
  return p;
}

async function readAll(path: string, opts: ReadTraceOptions = {}): Promise<{ ops: MallocOp[]; stats: TraceReadStats }> {
  const ops: MallocOp[] = [];
  const it = readMallocTrace(path, opts);
  for (;;) {
    const r = await it.next();
    if (r.done === true) return { ops, stats: r.value };
    ops.push(r.value);
  }
}

async function readError(path: string): Promise<Error> {
  try {
    await readAll(path);
  } catch (err) {
    return err as Error;
  }
  throw new Error(`no error reading ${path}`);
}

describe('parseMallocTraceLine', () => {
  it('reads Alloc(n), and Free(i),', () => {
    expect(parseMallocTraceLine('Alloc(552),', 3)).toEqual({ op: 'alloc', size: 552, lineNo: 3 });
    expect(parseMallocTraceLine('Free(0),', 4)).toEqual({ op: 'free', index: 0, lineNo: 4 });
    expect(parseMallocTraceLine('  Alloc(0)  ')).toEqual({ op: 'alloc', size: 0, lineNo: 0 });
    expect(parseMallocTraceLine('Free(12)\r')).toEqual({ op: 'free', index: 12, lineNo: 0 });
  });

  it('skips blank and comment lines', () => {
    for (const line of ['', '   ', '# a comment', '// a comment']) expect(parseMallocTraceLine(line)).toBeNull();
  });

  it.each([
    ['Alloc(abc),', 'malformed malloc-trace line: "Alloc(abc)," (bad size "abc")'],
    ['Alloc(),', 'malformed malloc-trace line: "Alloc()," (bad size "")'],
    ['Alloc(-4),', 'malformed malloc-trace line: "Alloc(-4)," (bad size "-4")'],
    ['Free(1.5),', 'malformed malloc-trace line: "Free(1.5)," (bad index "1.5")'],
    ['Alloc(12', 'malformed malloc-trace line: "Alloc(12" (no ")" after the size)'],
    ['Alloc 12', 'malformed malloc-trace line: "Alloc 12" (expected "(" after Alloc)'],
    ['Realloc(3, 40),', 'malformed malloc-trace line: "Realloc(3, 40)," (expected Alloc(<size>), or Free(<index>),)'],
    ['Free(3), Free(4),', 'malformed malloc-trace line: "Free(3), Free(4)," (unexpected "Free(4)," after the operation)'],
    ['Alloc(99999999999999999999),', 'malformed malloc-trace line: "Alloc(99999999999999999999)," (bad size "99999999999999999999")'],
    ['Alloc(1\u0000),', 'malformed malloc-trace line: "Alloc(1\\u0000)," (NUL byte)'],
  ])('%j', (line, message) => {
    let err: unknown = null;
    try {
      parseMallocTraceLine(line);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(TraceParseError);
    expect((err as Error).message).toBe(message);
    expect((err as TraceParseError).dialect).toBe('malloc');
  });
});

describe('checking the order of operations', () => {
  it('rejects a Free before its Alloc and a double Free', () => {
    expect(() => parseMallocTrace('Alloc(8),\nFree(1),\n', 'a.trace')).toThrow(
      'a.trace:2: malformed malloc-trace line: "Free(1)," (Free(1) of a block not allocated yet (1 Allocs so far))',
    );
    expect(() => parseMallocTrace('Alloc(8),\nAlloc(9),\nFree(0),\n\nFree(0),\n', 'b.trace')).toThrow(
      'b.trace:5: malformed malloc-trace line: "Free(0)," (Free(0) of a block already freed)',
    );
    expect(() => parseMallocTrace('Alloc(8),\nAlloc(x),\n', 'c.trace')).toThrow('c.trace:2: malformed malloc-trace line: "Alloc(x)," (bad size "x")');
  });

  it('counts live blocks', () => {
    const c = new MallocTraceChecker();
    for (let k = 0; k < 3000; k++) expect(c.check({ op: 'alloc', size: k, lineNo: 0 })).toBeNull();
    for (let k = 0; k < 3000; k += 2) expect(c.check({ op: 'free', index: k, lineNo: 0 })).toBeNull();
    expect([c.allocs, c.live]).toEqual([3000, 1500]);
  });
});

describe('the real traces in test/fixtures/realdata/malloc-traces', () => {
  const files: Array<[string, number, number]> = [
    // name, operations, Allocs (counted with grep when the files were added)
    ['cpp-demangle.trace', 102, 62],
    ['dogfood.trace', 46076, 32472],
    ['ffmpeg.trace', 3637, 1832],
    ['find.trace', 1130, 567],
    ['gcc-hello.trace', 17775, 11431],
    ['grep-random-data.trace', 198, 122],
    ['grep-recursive.trace', 1276, 657],
    ['ls.trace', 82, 45],
    ['source-map.trace', 2402, 2087],
  ];

  it('has the malloc-traces fixtures in the repository', () => {
    expect(existsSync(TRACES), `${TRACES} is missing`).toBe(true);
  });

  it.each(files)('reads %s whole: %i operations, %i Allocs, every Free valid', async (name, nOps, nAllocs) => {
    const path = join(TRACES, name);
    expect(existsSync(path), `${path} is missing`).toBe(true);
    const { ops, stats } = await readAll(path);
    expect(ops.length).toBe(nOps);
    expect(stats).toMatchObject({ lines: nOps, events: nOps, bad: 0 });
    expect(ops.filter((o) => o.op === 'alloc').length).toBe(nAllocs);
    expect(ops.map((o) => o.lineNo)).toEqual(Array.from({ length: nOps }, (_, k) => k + 1));
    // the string parser agrees with the stream
    expect(parseMallocTrace(readFileSync(path, 'utf8'), name)).toEqual(ops);
  });

  it('reads ls.trace from its first operations', async () => {
    const { ops } = await readAll(join(TRACES, 'ls.trace'));
    expect(ops.slice(0, 4)).toEqual([
      { op: 'alloc', size: 552, lineNo: 1 },
      { op: 'alloc', size: 120, lineNo: 2 },
      { op: 'alloc', size: 1024, lineNo: 3 },
      { op: 'free', index: 1, lineNo: 4 },
    ]);
  });
});

describe('readMallocTrace', () => {
  it('names file and line of a bad line, and skips it with skipBad', async () => {
    const p = tmpFile('bad.trace', 'Alloc(16),\nAlloc(sixteen),\nFree(0),\nFree(0),\nAlloc(8),\n');
    const err = await readError(p);
    expect(err.message).toBe(`${p}:2: malformed malloc-trace line: "Alloc(sixteen)," (bad size "sixteen")`);
    const bad: string[] = [];
    const { ops, stats } = await readAll(p, { skipBad: true, onBad: (e) => bad.push(e.message) });
    expect(ops).toEqual([
      { op: 'alloc', size: 16, lineNo: 1 },
      { op: 'free', index: 0, lineNo: 3 },
      { op: 'alloc', size: 8, lineNo: 5 },
    ]);
    expect(stats.bad).toBe(2);
    expect(bad[1]).toBe(`${p}:4: malformed malloc-trace line: "Free(0)," (Free(0) of a block already freed)`);
  });

  it('reads gzip input and fails on missing files and directories', async () => {
    const p = tmpFile('t.trace.gz', gzipSync('Alloc(1),\nAlloc(2),\nFree(1),\n'));
    expect((await readAll(p)).ops.map((o) => o.op)).toEqual(['alloc', 'alloc', 'free']);
    const missing = join(dir, 'missing.trace');
    const e1 = await readError(missing);
    expect(e1).toBeInstanceOf(TraceFileError);
    expect([(e1 as TraceFileError).code, e1.message]).toEqual(['ENOENT', `${missing}: no such file or directory`]);
    const e2 = await readError(dir);
    expect([(e2 as TraceFileError).code, e2.message]).toEqual(['EISDIR', `${dir}: is a directory, not a trace file`]);
  });

  it('reports binary data', async () => {
    const p = tmpFile('bin.trace', Buffer.from([0x41, 0x6c, 0x6c, 0x6f, 0x63, 0x28, 0x31, 0x29, 0x2c, 0x0a, 0x00, 0xff, 0x0a]));
    const err = await readError(p);
    expect(err.message).toBe(`${p}:2: malformed malloc-trace line: "\\u0000\uFFFD" (NUL byte)`);
  });
});

describe('the built-in sample trace', () => {
  it('is a valid trace of a few hundred operations with plausible sizes', async () => {
    expect(existsSync(SAMPLE_MALLOC_TRACE)).toBe(true);
    const { ops } = await readAll(SAMPLE_MALLOC_TRACE);
    expect(ops.length).toBeGreaterThanOrEqual(300);
    expect(ops.length).toBeLessThanOrEqual(1000);
    const sizes = ops.flatMap((o) => (o.op === 'alloc' ? [o.size] : []));
    const frees = ops.length - sizes.length;
    expect(frees).toBeGreaterThan(sizes.length * 0.8);
    expect(Math.min(...sizes)).toBeGreaterThan(0);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(64 * 1024);
    // mostly small objects, as in real programs, with some page-sized buffers
    expect(sizes.filter((s) => s <= 256).length).toBeGreaterThan(sizes.length / 2);
    expect(sizes.some((s) => s >= 4096)).toBe(true);
    expect(parseMallocTrace(readFileSync(SAMPLE_MALLOC_TRACE, 'utf8'))).toEqual(ops);
  });

  it('is embedded, word for word, in samples/malloc_sample.ts', () => {
    expect(MALLOC_SAMPLE_TEXT).toBe(readFileSync(SAMPLE_MALLOC_TRACE, 'utf8'));
    expect(MALLOC_SAMPLE_NAME).toBe('sample.trace');
    expect(parseMallocTrace(MALLOC_SAMPLE_TEXT, MALLOC_SAMPLE_NAME).length).toBe(613);
  });
});
