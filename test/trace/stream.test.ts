import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { type KmemEvent, TraceFileError, TraceParseError } from '../../src/trace/events.js';
import { parseFtraceLine } from '../../src/trace/ftrace.js';
import { MAX_LINE_BYTES, type ReadTraceOptions, readTraceBatches, readTraceEvents, type TraceReadStats } from '../../src/trace/stream.js';

const REALDATA = fileURLToPath(new URL('../fixtures/realdata/', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'kmem-trace-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function tmpFile(name: string, content: string | Uint8Array): string {
  const p = join(dir, name);
  writeFileSync(p, content);
  return p;
}

/** All events and the stats of reading path. */
async function readAll(path: string, opts: ReadTraceOptions = {}): Promise<{ events: KmemEvent[]; stats: TraceReadStats }> {
  const events: KmemEvent[] = [];
  const it = readTraceEvents(path, opts);
  for (;;) {
    const r = await it.next();
    if (r.done === true) return { events, stats: r.value };
    events.push(r.value);
  }
}

/** The error reading path throws. */
async function readError(path: string, opts: ReadTraceOptions = {}): Promise<Error> {
  try {
    await readAll(path, opts);
  } catch (err) {
    return err as Error;
  }
  throw new Error(`no error reading ${path}`);
}

// A few lines in the 6.1 layout, written for these tests.
const L1 =
  '            init-1       [001] .....    14.884812: kmem_cache_alloc: call_site=alloc_pid+0x54/0x390 ptr=ffff8cf8850f5700 bytes_req=128 bytes_alloc=128 gfp_flags=GFP_KERNEL node=-1 accounted=true';
const L2 = '         busybox-1128    [001] .Ns..    14.887914: kmem_cache_free: call_site=rcu_do_batch+0x19a/0x540 ptr=ffff8cf886442480 name=cred_jar';
const L3 = '     ksoftirqd/1-21      [001] ..s..    14.888177: kfree: call_site=free_task+0x1b/0x70 ptr=0000000000000000';
const L4 = '         busybox-1128    [001] .....    14.892146: mm_page_free: page=fffff75b8018a600 pfn=0x6298 order=0';
const HEADER = ['# tracer: nop', '#', '# entries-in-buffer/entries-written: 4/4   #P:2', '#'];

/** A generated line: kmalloc / kfree / mm_page_alloc in turn, with values from k. */
function genLine(k: number): string {
  const ptr = (0xffff888000000000n + BigInt(k) * 64n).toString(16);
  const ts = `${100 + Math.floor(k / 1000)}.${String(k % 1000).padStart(3, '0')}123`;
  switch (k % 3) {
    case 0:
      return `       worker-${1000 + (k % 7)}    [00${k % 2}] .....  ${ts}: kmalloc: call_site=do_work+0x${(k % 255).toString(16)}/0x200 ptr=${ptr} bytes_req=${(k % 500) + 1} bytes_alloc=512 gfp_flags=GFP_KERNEL node=-1 accounted=false`;
    case 1:
      return `       worker-${1000 + (k % 7)}    [00${k % 2}] .....  ${ts}: kfree: call_site=undo_work+0x10/0x80 ptr=${ptr}`;
    default:
      return `       worker-${1000 + (k % 7)}    [00${k % 2}] .....  ${ts}: mm_page_alloc: page=ffffea0000${(k % 65536).toString(16).padStart(6, '0')} pfn=0x${k.toString(16)} order=${k % 4} migratetype=1 gfp_flags=GFP_HIGHUSER_MOVABLE|__GFP_COMP`;
  }
}

describe('the real traces in test/fixtures/realdata', () => {
  it('has the realdata fixtures in the repository', () => {
    // The tests below read it; a missing directory must fail, not skip.
    expect(existsSync(REALDATA), `${REALDATA} is missing`).toBe(true);
    expect(existsSync(join(REALDATA, 'kmem-trace-1.txt'))).toBe(true);
    expect(existsSync(join(REALDATA, 'kmem-trace-2.txt'))).toBe(true);
  });

  it('reads kmem-trace-1.txt (5.4.44, shell prompts and ps output around the trace)', async () => {
    const { events, stats } = await readAll(join(REALDATA, 'kmem-trace-1.txt'));
    expect(stats.bad).toBe(0);
    expect(events.length).toBe(15);
    expect(new Set(events.map((e) => e.kind))).toEqual(new Set(['kmem_cache_alloc']));
    const first = events[0]!;
    expect(first).toMatchObject({
      kind: 'kmem_cache_alloc',
      comm: '<idle>',
      pid: 0,
      cpu: 3,
      bytesReq: 224,
      bytesAlloc: 256,
      gfp: 'GFP_ATOMIC',
      node: null,
      accounted: null,
    });
    const mod = events[events.length - 1]!;
    expect(mod).toMatchObject({ comm: '<...>', pid: 41112, cpu: 2, callSite: 'memleak_task_test+0x70/0xb0 [memleak]', bytesReq: 5678, bytesAlloc: 10320 });
    expect(stats.lines).toBe(53);
  });

  it('stops at the first malformed line of kmem-trace-2.txt (an event the author wrapped over three lines)', async () => {
    const path = join(REALDATA, 'kmem-trace-2.txt');
    const err = await readError(path);
    expect(err).toBeInstanceOf(TraceParseError);
    expect(err.message).toBe(
      `${path}:42: malformed kmem:kmalloc line: "kmalloc: call_site=mem_cgroup_css_alloc+0xd8/0x5b4 ptr=000000003e4c3799" (no bytes_req= field)`,
    );
    expect((err as TraceParseError).lineNo).toBe(42);
  });

  it('reads kmem-trace-2.txt whole with skipBad, counting the two wrapped events', async () => {
    const path = join(REALDATA, 'kmem-trace-2.txt');
    const bad: TraceParseError[] = [];
    const { events, stats } = await readAll(path, { skipBad: true, onBad: (e) => bad.push(e) });
    expect(stats.bad).toBe(2);
    expect(bad.map((e) => [e.lineNo, e.reason])).toEqual([
      [42, 'no bytes_req= field'],
      [45, 'no ptr= field'],
    ]);
    expect(events.length).toBe(26);
    const count = (k: string) => events.filter((e) => e.kind === k).length;
    expect([count('kmalloc'), count('kfree'), count('kmem_cache_alloc'), count('kmem_cache_free')]).toEqual([3, 3, 8, 6]);
    expect([count('mm_page_alloc'), count('mm_page_free')]).toEqual([4, 2]);
    // old trace-cmd, 6.x options/fields, mm_page_free_direct and perf script lines
    expect(events.find((e) => e.lineNo === 9)).toMatchObject({ kind: 'kfree', comm: 'ls', pid: 13545, cpu: 2, ptr: '0x0' });
    expect(events.find((e) => e.lineNo === 34)).toMatchObject({ kind: 'kmem_cache_alloc', bytesReq: 4096, gfpValue: 0xcc0, node: -1, accounted: false });
    expect(events.find((e) => e.lineNo === 56)).toMatchObject({ kind: 'mm_page_free', pfn: 1155800, order: 0 });
    expect(events.find((e) => e.lineNo === 63)).toMatchObject({ kind: 'kmalloc', comm: 'jbd2/dm-3-8', pid: 7666, cpu: 0, callSite: 'c0000000003ce108' });
  });
});

describe('readTraceEvents', () => {
  it('yields events with their line numbers and reports progress', async () => {
    const p = tmpFile('small.txt', `${[...HEADER, L1, 'not a trace line', L2, '', L3, L4].join('\n')}\n`);
    const progress: Array<[number, number]> = [];
    const { events, stats } = await readAll(p, { onProgress: (bytes, lines) => progress.push([bytes, lines]) });
    expect(events.map((e) => [e.kind, e.lineNo])).toEqual([
      ['kmem_cache_alloc', 5],
      ['kmem_cache_free', 7],
      ['kfree', 9],
      ['mm_page_free', 10],
    ]);
    expect(events).toEqual([L1, L2, L3, L4].map((l, k) => parseFtraceLine(l, [5, 7, 9, 10][k])));
    expect(stats).toEqual({ lines: 10, events: 4, bad: 0, bytes: statSync(p).size });
    expect(progress[progress.length - 1]).toEqual([statSync(p).size, 10]);
  });

  it('reads a last line without a newline, CRLF line ends, and an empty file', async () => {
    const p = tmpFile('crlf.txt', [L1, L2, L3].join('\r\n'));
    const { events } = await readAll(p);
    expect(events.map((e) => [e.kind, e.lineNo])).toEqual([
      ['kmem_cache_alloc', 1],
      ['kmem_cache_free', 2],
      ['kfree', 3],
    ]);
    expect(events[1]).toMatchObject({ name: 'cred_jar' });
    const empty = await readAll(tmpFile('empty.txt', ''));
    expect(empty.events).toEqual([]);
    expect(empty.stats.lines).toBe(0);
  });

  it('gives the same events whatever the chunk size (lines cut across chunks)', async () => {
    const text = `${Array.from({ length: 300 }, (_, k) => genLine(k)).join('\n')}\n`;
    const p = tmpFile('chunks.txt', text);
    const whole = await readAll(p);
    for (const chunkSize of [7, 64, 1000]) {
      const r = await readAll(p, { chunkSize });
      expect(r.events).toEqual(whole.events);
      expect(r.stats.lines).toBe(300);
    }
    expect(whole.events.length).toBe(300);
    expect(whole.events).toEqual(
      text
        .trimEnd()
        .split('\n')
        .map((l, k) => parseFtraceLine(l, k + 1)),
    );
  });

  it('reads with one-byte chunks', async () => {
    const p = tmpFile('bytewise.txt', `${L1}\n\n${L2}\r\n${L3}`);
    const { events } = await readAll(p, { chunkSize: 1 });
    expect(events.map((e) => [e.kind, e.lineNo])).toEqual([
      ['kmem_cache_alloc', 1],
      ['kmem_cache_free', 3],
      ['kfree', 4],
    ]);
  });

  it('reads task names in UTF-8 and lines in other encodings as malformed', async () => {
    const utf8 = L3.replace('ksoftirqd/1', 'café');
    const { events } = await readAll(tmpFile('utf8.txt', `${utf8}\n${L4}\n`));
    expect(events.map((e) => e.comm)).toEqual(['café', 'busybox']);
    const latin1 = Buffer.concat([Buffer.from(`${L4}\n`), Buffer.from(`${L3.replace('ksoftirqd/1', 'caf\xe9')}\n`, 'latin1'), Buffer.from(`${L2}\n`)]);
    const p = tmpFile('latin1.txt', latin1);
    const err = await readError(p);
    expect(err.message).toBe(`${p}:2: malformed trace line: ${JSON.stringify(L3.replace('ksoftirqd/1', 'caf\uFFFD'))} (invalid UTF-8)`);
    const skipped = await readAll(p, { skipBad: true });
    expect(skipped.events.map((e) => e.lineNo)).toEqual([1, 3]);
    expect(skipped.stats.bad).toBe(1);
  });

  it('reports binary garbage as malformed lines', async () => {
    const garbage = Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0x02, 0x01, 0x01, 0x00, 0x00, 0x00, 0xff, 0xfe, 0x0a]);
    const p = tmpFile('binary.txt', Buffer.concat([Buffer.from(`${L1}\n`), garbage, Buffer.from(`${L2}\n`)]));
    const err = await readError(p);
    expect(err).toBeInstanceOf(TraceParseError);
    expect(err.message).toBe(`${p}:2: malformed trace line: "\\u007fELF\\u0002\\u0001\\u0001\\u0000\\u0000\\u0000\uFFFD\uFFFD" (NUL byte)`);
    const { events, stats } = await readAll(p, { skipBad: true });
    expect(events.map((e) => e.lineNo)).toEqual([1, 3]);
    expect(stats.bad).toBe(1);
  });

  it('reports a line too long to be text, and goes on after it with skipBad', async () => {
    const long = Buffer.alloc(MAX_LINE_BYTES + 10, 0x41);
    const p = tmpFile('long.txt', Buffer.concat([Buffer.from(`${L1}\n`), long, Buffer.from(`\n${L2}\n`)]));
    const err = await readError(p, { chunkSize: 1 << 16 });
    expect(err.message).toBe(`${p}:2: malformed trace line: "${'A'.repeat(200)}" (line longer than ${MAX_LINE_BYTES} bytes)`);
    const { events, stats } = await readAll(p, { skipBad: true, chunkSize: 1 << 16 });
    expect(events.map((e) => [e.kind, e.lineNo])).toEqual([
      ['kmem_cache_alloc', 1],
      ['kmem_cache_free', 3],
    ]);
    expect(stats.bad).toBe(1);
  });

  it('names file and line of a malformed line, and counts them with skipBad', async () => {
    const bad1 = '     kworker/0:1-12      [000] .....   100.000001: kmalloc: call_site=a+0x1/0x2 ptr=ffff888000001000 bytes_req=8 bytes_alloc=8';
    const bad2 = '     kworker/0:1-12      [000] .....   100.000002: kmem_cache_frobnicate: ptr=ffff888000001000';
    const p = tmpFile('bad.txt', `${L1}\n${bad1}\n${L2}\n${bad2}\n${L3}\n`);
    const err = await readError(p);
    expect(err.message).toBe(`${p}:2: malformed kmem:kmalloc line: ${JSON.stringify(bad1)} (no gfp_flags= field)`);
    const seen: string[] = [];
    const { events, stats } = await readAll(p, { skipBad: true, onBad: (e) => seen.push(e.message) });
    expect(events.map((e) => e.lineNo)).toEqual([1, 3, 5]);
    expect(stats.bad).toBe(2);
    expect(seen).toEqual([
      `${p}:2: malformed kmem:kmalloc line: ${JSON.stringify(bad1)} (no gfp_flags= field)`,
      `${p}:4: unknown kmem event kmem:kmem_cache_frobnicate: ${JSON.stringify(bad2)}`,
    ]);
  });

  it('yields every event before a malformed line, then throws', async () => {
    const bad = '     kworker/0:1-12      [000] .....   100.000001: kfree: call_site=a+0x1/0x2';
    const p = tmpFile('late-bad.txt', `${[L1, L2, L3, bad, L4].join('\n')}\n`);
    const seen: number[] = [];
    let err: unknown = null;
    try {
      for await (const e of readTraceEvents(p)) seen.push(e.lineNo);
    } catch (e) {
      err = e;
    }
    expect(seen).toEqual([1, 2, 3]);
    expect((err as Error).message).toBe(`${p}:4: malformed kmem:kfree line: ${JSON.stringify(bad)} (no ptr= field)`);
  });

  it("reads a pipe, gzip'd when its name ends in .gz", async () => {
    const { spawnSync } = await import('node:child_process');
    if (spawnSync('mkfifo', ['--help']).status !== 0) throw new Error('mkfifo is needed for this test');
    const fifo = join(dir, 'pipe.gz');
    expect(spawnSync('mkfifo', [fifo]).status).toBe(0);
    const writer = import('node:fs/promises').then((fs) => fs.writeFile(fifo, gzipSync(`${L1}\n${L2}\n`)));
    const { events } = await readAll(fifo);
    await writer;
    expect(events.map((e) => e.kind)).toEqual(['kmem_cache_alloc', 'kmem_cache_free']);
  });

  it('fails with ENOENT for a missing file and EISDIR for a directory', async () => {
    const missing = join(dir, 'no-such-trace.txt');
    const e1 = await readError(missing);
    expect(e1).toBeInstanceOf(TraceFileError);
    expect((e1 as TraceFileError).code).toBe('ENOENT');
    expect(e1.message).toBe(`${missing}: no such file or directory`);
    const e2 = await readError(dir);
    expect(e2).toBeInstanceOf(TraceFileError);
    expect((e2 as TraceFileError).code).toBe('EISDIR');
    expect(e2.message).toBe(`${dir}: is a directory, not a trace file`);
    expect(e2.message).not.toContain('\n');
  });

  it('stops reading when the consumer stops', async () => {
    const p = tmpFile('stop.txt', `${Array.from({ length: 5000 }, (_, k) => genLine(k)).join('\n')}\n`);
    let n = 0;
    for await (const e of readTraceEvents(p, { chunkSize: 4096 })) {
      expect(e.lineNo).toBe(++n);
      if (n === 10) break;
    }
    expect(n).toBe(10);
  });
});

describe('gzip input', () => {
  it('reads a .gz trace like the plain one, by its magic bytes', async () => {
    const text = `${[...HEADER, ...Array.from({ length: 2000 }, (_, k) => genLine(k))].join('\n')}\n`;
    const plain = tmpFile('g.txt', text);
    const gz = tmpFile('g.txt.gz', gzipSync(text));
    const other = tmpFile('g-gzipped-without-suffix', gzipSync(text));
    const a = await readAll(plain);
    const b = await readAll(gz);
    const c = await readAll(other, { chunkSize: 333 });
    expect(b.events).toEqual(a.events);
    expect(c.events).toEqual(a.events);
    expect(b.stats).toMatchObject({ lines: 2004, events: 2000, bad: 0, bytes: statSync(gz).size });
  });

  it('reports a truncated .gz as corrupt, after the events before the cut', async () => {
    const text = `${Array.from({ length: 20000 }, (_, k) => genLine(k)).join('\n')}\n`;
    const z = gzipSync(text);
    const p = tmpFile('cut.txt.gz', z.subarray(0, z.length >> 1));
    let n = 0;
    let err: unknown = null;
    try {
      for await (const _ of readTraceEvents(p)) n++;
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(TraceFileError);
    expect((err as TraceFileError).code).toBe('Z_BUF_ERROR');
    expect((err as Error).message).toBe(`${p}: corrupt gzip data (unexpected end of file)`);
    expect(n).toBeGreaterThan(1000);
  });
});

describe('a large trace', () => {
  it('streams 200k lines without reading the file whole first', async () => {
    const p = join(dir, 'large.txt');
    const N = 200_000;
    const fh = await open(p, 'w');
    const block = 10_000;
    for (let k = 0; k < N; k += block) {
      await fh.write(`${Array.from({ length: block }, (_, t) => genLine(k + t)).join('\n')}\n`);
    }
    await fh.close();
    const size = statSync(p).size;
    expect(size).toBeGreaterThan(20 * 1024 * 1024);

    let firstBatchAt = -1;
    let lastBytes = 0;
    let events = 0;
    let batches = 0;
    let pages = 0;
    const gen = readTraceBatches(p, { onProgress: (bytes) => (lastBytes = bytes) });
    for (;;) {
      const r = await gen.next();
      if (r.done === true) {
        expect(r.value).toEqual({ lines: N, events: N, bad: 0, bytes: size });
        break;
      }
      if (firstBatchAt === -1) firstBatchAt = lastBytes;
      batches++;
      for (const e of r.value) {
        events++;
        if (e.kind === 'mm_page_alloc') pages++;
      }
    }
    expect(events).toBe(N);
    expect(pages).toBe(Math.floor(N / 3));
    // the first events came out when about one chunk (1 MiB) had been read
    expect(firstBatchAt).toBeLessThanOrEqual(1 << 20);
    expect(batches).toBeGreaterThan(15);
  }, 120_000);
});
