/**
 * The fast reads of 6.x ftrace lines (ftrace_fast.ts) against reference
 * parses: a straightforward one written here (split the line with regexes,
 * Number() the fields) on the real traces, and the general parser
 * (parseFtraceInto, scanNamesInto) line by line, on the fixtures and on
 * lines fast-check mutates: a line is either declined (and the general
 * parser reads it or reports it) or read into exactly the row the general
 * parser makes. Malformed lines are reported as file:line, as the object
 * reader reports them.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { EventColumns, StringTable } from '../../src/trace/columns.js';
import { KMEM_EVENT_KINDS } from '../../src/trace/events.js';
import { parseFtraceInto, scanNamesInto } from '../../src/trace/ftrace.js';
import { fastNamesInto, fastRowInto } from '../../src/trace/ftrace_fast.js';
import { readTraceBatches, readTraceColumns } from '../../src/trace/stream.js';

const REAL = join(__dirname, '../fixtures/trace/linux-6.1-qemu-2cpu-excerpt.txt');
const FIXTURES = [
  REAL,
  join(__dirname, '../cli/fixtures/ftrace-6x.txt'),
  join(__dirname, '../cli/fixtures/ftrace-5x.txt'),
  join(__dirname, '../cli/fixtures/ftrace-4x.txt'),
  join(__dirname, '../cli/fixtures/trace-cmd.txt'),
  join(__dirname, '../cli/fixtures/perf-script.txt'),
  join(__dirname, '../fixtures/realdata/kmem-trace-1.txt'),
  join(__dirname, '../fixtures/realdata/kmem-trace-2.txt'),
];
const tmp = mkdtempSync(join(tmpdir(), 'kmem-fast-parse-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** Row r of cols with the fields its kind has, strings by text. */
function rowOf(c: EventColumns, s: StringTable, r: number): Record<string, unknown> {
  const kind = KMEM_EVENT_KINDS[c.kind[r]!]!;
  const base = { kind, lineNo: c.lineNo[r], cpu: c.cpu[r], ts: c.ts[r] };
  const text = (id: number) => (id < 0 ? null : s.strings[id]);
  if (kind.startsWith('mm_')) return { ...base, pfn: c.pfn[r], order: c.order[r], mt: c.mt[r], gfp: text(c.gfp[r]!), gfpValue: c.gfpValue[r], name: c.name[r] };
  const slab = { ...base, ptr: c.ptr[r], site: text(c.site[r]!), name: text(c.name[r]!), gfp: c.gfp[r], gfpValue: c.gfpValue[r] };
  if (kind === 'kfree' || kind === 'kmem_cache_free') return slab;
  return { ...slab, req: c.req[r], alloc: c.alloc[r], gfp: text(c.gfp[r]!), node: c.node[r], accounted: c.accounted[r] };
}

/** The first pass's row (the fields fastNamesInto and scanNamesInto both fill). */
function nameRowOf(c: EventColumns, s: StringTable, r: number): Record<string, unknown> {
  return {
    kind: KMEM_EVENT_KINDS[c.kind[r]!],
    lineNo: c.lineNo[r],
    ptr: c.ptr[r],
    site: s.strings[c.site[r]!],
    name: c.name[r]! < 0 ? null : s.strings[c.name[r]!],
    alloc: c.alloc[r],
    req: c.req[r],
  };
}

type Outcome = { row: Record<string, unknown> | null } | { error: string };

/** The general parser's reading of one line. */
function general(line: string, lineNo: number): Outcome {
  const b = Buffer.from(line, 'latin1');
  const cols = new EventColumns(1);
  const strings = new StringTable();
  try {
    return { row: parseFtraceInto(cols, strings, b, line, 0, b.length, lineNo) ? rowOf(cols, strings, 0) : null };
  } catch (e) {
    return { error: (e as Error).message };
  }
}

/** The fast read of one line, with the general parser after it when it declines (as the reader runs them). */
function fastThenGeneral(line: string, lineNo: number): { declined: boolean; outcome: Outcome } {
  const b = Buffer.from(line, 'latin1');
  const cols = new EventColumns(1);
  const strings = new StringTable();
  if (fastRowInto(cols, strings, b, line, 0, b.length, lineNo)) return { declined: false, outcome: { row: rowOf(cols, strings, 0) } };
  expect(cols.n).toBe(0);
  return { declined: true, outcome: general(line, lineNo) };
}

/** The first pass on one line: fastNamesInto where the reader would call it, else scanNamesInto. */
function names(line: string, lineNo: number, fast: boolean): Record<string, unknown> | null | 'declined' {
  const b = Buffer.from(line, 'latin1');
  const cols = new EventColumns(1);
  const strings = new StringTable();
  if (fast) {
    const hit = line.indexOf('kmem_cache_');
    if (hit === -1) return 'declined';
    const q = fastNamesInto(cols, strings, b, line, hit, b.length, lineNo);
    if (q === -1) return 'declined';
    return nameRowOf(cols, strings, 0);
  }
  try {
    return scanNamesInto(cols, strings, b, line, 0, b.length, lineNo) ? nameRowOf(cols, strings, 0) : null;
  } catch {
    return null;
  }
}

// ── a reference parse written from the format, not from the parser ─────────

const LINE = /^\s*(.+)-(\d+)\s+\[(\d+)\]\s+\S+\s+(\d+)\.(\d+): (kmalloc|kfree|kmem_cache_alloc|kmem_cache_free|mm_page_alloc|mm_page_free): (.*)$/;

/** A printed pointer's low 48 bits (as the replay keys objects), 0 for a NULL one. */
function low48(hex: string): number {
  return Number(BigInt(`0x${hex}`) & ((1n << 48n) - 1n));
}

/** The 6.x kmem line as the row it stands for, or null for any other line. */
function reference(line: string, lineNo: number): Record<string, unknown> | null {
  const m = LINE.exec(line);
  if (m === null) return null;
  const [, , , cpu, whole, frac, kind, rest] = m;
  const f = new Map<string, string>();
  for (const kv of rest!.split(' ')) {
    const eq = kv.indexOf('=');
    f.set(kv.slice(0, eq), kv.slice(eq + 1));
  }
  const ts = Number(whole) + Number(frac) / 10 ** frac!.length;
  const base = { kind, lineNo, cpu: Number(cpu), ts };
  if (kind!.startsWith('mm_')) {
    return {
      ...base,
      pfn: Number(f.get('pfn')),
      order: Number(f.get('order')),
      mt: f.has('migratetype') ? Number(f.get('migratetype')) : -1,
      gfp: f.get('gfp_flags') ?? null,
      gfpValue: -1,
      name: -1,
    };
  }
  const slab = { ...base, ptr: low48(f.get('ptr')!), site: f.get('call_site'), name: f.get('name') ?? null, gfp: -1, gfpValue: -1 };
  if (kind === 'kfree' || kind === 'kmem_cache_free') return slab;
  const acc = f.get('accounted');
  return {
    ...slab,
    req: Number(f.get('bytes_req')),
    alloc: Number(f.get('bytes_alloc')),
    gfp: f.get('gfp_flags'),
    node: f.has('node') ? Number(f.get('node')) : -1,
    accounted: acc === undefined ? -1 : acc === 'true' ? 1 : 0,
  };
}

describe('fast reads of 6.x ftrace lines', () => {
  it('read the real 6.1 trace as the reference parse does, line for line, and decline nothing of it', async () => {
    const lines = readFileSync(REAL, 'latin1').split('\n');
    let events = 0;
    for (let k = 0; k < lines.length; k++) {
      const line = lines[k]!;
      const want = reference(line, k + 1);
      if (want === null) continue;
      events++;
      const { declined, outcome } = fastThenGeneral(line, k + 1);
      expect(declined).toBe(false);
      expect(outcome).toEqual({ row: want });
    }
    expect(events).toBeGreaterThan(1900);
    // and the file reader's rows are those rows
    const strings = new StringTable();
    const rows: Record<string, unknown>[] = [];
    await readTraceColumns(REAL, strings, (c) => {
      for (let r = 0; r < c.n; r++) rows.push(rowOf(c, strings, r));
    });
    const want = lines.map((l, k) => reference(l, k + 1)).filter((r) => r !== null);
    expect(rows).toEqual(want);
  });

  it('give every line of the fixtures the general parser’s row, or decline it', () => {
    let read = 0;
    let declined = 0;
    for (const f of FIXTURES) {
      const lines = readFileSync(f, 'latin1').split('\n');
      // the whole file through one table each way: the same strings get the same ids
      const fast = { strings: new StringTable(), cols: new EventColumns(lines.length) };
      const gen = { strings: new StringTable(), cols: new EventColumns(lines.length) };
      for (let k = 0; k < lines.length; k++) {
        const line = lines[k]!;
        if (/[^\x00-\x7f]/.test(line)) continue;
        const b = Buffer.from(line, 'latin1');
        const tryRead = (fn: () => unknown) => {
          try {
            fn();
          } catch {}
        };
        tryRead(
          () => fastRowInto(fast.cols, fast.strings, b, line, 0, b.length, k + 1) || parseFtraceInto(fast.cols, fast.strings, b, line, 0, b.length, k + 1),
        );
        tryRead(() => parseFtraceInto(gen.cols, gen.strings, b, line, 0, b.length, k + 1));
        const got = fastThenGeneral(line, k + 1);
        expect(got.outcome, `${f}:${k + 1}`).toEqual(general(line, k + 1));
        if (got.declined) declined++;
        else read++;
        const n = names(line, k + 1, true);
        if (n !== 'declined') expect(n, `${f}:${k + 1}`).toEqual(names(line, k + 1, false));
      }
      expect(fast.strings.strings, f).toEqual(gen.strings.strings);
      expect(fast.cols.n).toBe(gen.cols.n);
      expect(fast.cols.site.subarray(0, fast.cols.n)).toEqual(gen.cols.site.subarray(0, gen.cols.n));
      expect(fast.cols.name.subarray(0, fast.cols.n)).toEqual(gen.cols.name.subarray(0, gen.cols.n));
    }
    expect(read).toBeGreaterThan(2000);
    expect(declined).toBeGreaterThan(50);
  });

  /** 6.x lines of every kind the fast read takes, with their values drawn. */
  const hex = (n: number) => fc.stringMatching(new RegExp(`^[0-9a-f]{1,${n}}$`));
  const lineArb = fc
    .record({
      comm: fc.constantFrom('busybox', '<idle>', 'kworker/0:1', 'sh', 'a-b c', 'x [y]'),
      pid: fc.integer({ min: 0, max: 99999 }),
      cpu: fc.integer({ min: 0, max: 255 }),
      flags: fc.constantFrom('.....', 'd..1.', '..s1.', 'dNs2.'),
      ts: fc.tuple(fc.integer({ min: 0, max: 99999 }), fc.integer({ min: 0, max: 999999 })),
      site: fc.constantFrom('vm_area_alloc+0x1a/0x50', 'free_task+0x2d/0x70', 'ffffffff8112abcd', 'x'),
      ptr: fc.oneof(hex(16), fc.constant('0000000000000000'), fc.constant('(null)')),
      req: fc.integer({ min: 0, max: 1 << 22 }),
      alloc: fc.integer({ min: 0, max: 1 << 22 }),
      gfp: fc.constantFrom('GFP_KERNEL', 'GFP_NOWAIT|__GFP_NOWARN', 'GFP_KERNEL_ACCOUNT|__GFP_ZERO', '0xcc0'),
      node: fc.integer({ min: -1, max: 3 }),
      accounted: fc.boolean(),
      name: fc.constantFrom('task_struct', 'maple_node', 'kmalloc-64'),
      pfn: fc.oneof(
        hex(8).map((h) => `0x${h}`),
        fc.integer({ min: 0, max: 1 << 30 }).map(String),
      ),
      order: fc.integer({ min: 0, max: 10 }),
      mt: fc.integer({ min: -1, max: 5 }),
      kind: fc.integer({ min: 0, max: 5 }),
    })
    .map((v) => {
      const head = `${v.comm.padStart(16)}-${String(v.pid).padEnd(7)} [${String(v.cpu).padStart(3, '0')}] ${v.flags} ${`${v.ts[0]}.${String(v.ts[1]).padStart(6, '0')}`.padStart(12)}: `;
      const slab = `call_site=${v.site} ptr=${v.ptr}`;
      const alloc = `${slab} bytes_req=${v.req} bytes_alloc=${v.alloc} gfp_flags=${v.gfp} node=${v.node} accounted=${v.accounted}`;
      switch (v.kind) {
        case 0:
          return `${head}kmalloc: ${alloc}`;
        case 1:
          return `${head}kfree: ${slab}`;
        case 2:
          return `${head}kmem_cache_alloc: ${alloc}`;
        case 3:
          return `${head}kmem_cache_free: ${slab} name=${v.name}`;
        case 4:
          return `${head}mm_page_alloc: page=ffffe0f5c40b7800 pfn=${v.pfn} order=${v.order} migratetype=${v.mt} gfp_flags=${v.gfp}`;
        default:
          return `${head}mm_page_free: page=ffffe0f5c40b7800 pfn=${v.pfn} order=${v.order}`;
      }
    });
  /** A line with an edit at a drawn place: a character replaced, inserted or removed, or the line cut short. */
  const editArb = fc.tuple(
    lineArb,
    fc.array(
      fc.record({
        at: fc.nat(),
        op: fc.constantFrom('replace', 'insert', 'delete', 'cut'),
        ch: fc.constantFrom(' ', '\t', '\r', '=', ':', '[', ']', '(', ')', '-', '.', 'x', '0', '9', 'a', 'Z', '#', '_'),
      }),
      { maxLength: 3 },
    ),
  );

  it('on drawn 6.x lines, and on those lines edited anywhere, give the general parser’s row or error, or decline', () => {
    fc.assert(
      fc.property(editArb, ([line, edits]) => {
        let l = line;
        for (const e of edits) {
          const at = e.at % (l.length + 1);
          if (e.op === 'replace') l = l.slice(0, at) + e.ch + l.slice(at + 1);
          else if (e.op === 'insert') l = l.slice(0, at) + e.ch + l.slice(at);
          else if (e.op === 'delete') l = l.slice(0, at) + l.slice(at + 1);
          else l = l.slice(0, at);
        }
        const got = fastThenGeneral(l, 7);
        expect(got.outcome).toEqual(general(l, 7));
        // an unedited line in the canonical layout is never declined (numeric gfp, odd pointers and a " [" in the task name aside)
        if (edits.length === 0 && !l.includes('gfp_flags=0x') && !l.includes('ptr=(null)') && !l.includes('x [y]')) expect(got.declined).toBe(false);
        // the first pass reads from "kmem_cache_" on, and skips malformed lines: on a line the general parser reads, the same row
        const n = names(l, 7, true);
        const g = general(l, 7);
        if (n !== 'declined' && 'row' in g && g.row !== null) expect(n).toEqual(names(l, 7, false));
      }),
      { numRuns: 3000 },
    );
  });

  it('read a CRLF copy of the real trace into the rows of the LF original, on both passes', async () => {
    const crlf = join(tmp, 'crlf.txt');
    writeFileSync(crlf, readFileSync(REAL, 'latin1').split('\n').join('\r\n'), 'latin1');
    for (const namesOnly of [false, true]) {
      const read = async (f: string) => {
        const strings = new StringTable();
        const rows: Record<string, unknown>[] = [];
        await readTraceColumns(
          f,
          strings,
          (c) => {
            for (let r = 0; r < c.n; r++) rows.push(namesOnly ? nameRowOf(c, strings, r) : rowOf(c, strings, r));
          },
          { namesOnly },
        );
        return rows;
      };
      const want = await read(REAL);
      expect(want.length).toBeGreaterThan(1000);
      expect(await read(crlf)).toEqual(want);
    }
  });

  it('report a malformed line as file:line with the object reader’s message, and skip it the same way with skipBad', async () => {
    const good = readFileSync(REAL, 'latin1').split('\n').slice(14, 60);
    const bad = [
      '         busybox-771     [001] .....    24.403489: kmem_cache_alloc: call_site=vm_area_alloc+0x1a/0x50 ptr=ffff8ad3038b1688 bytes_req=15x2 bytes_alloc=152 gfp_flags=GFP_KERNEL node=-1 accounted=true',
      '         busybox-771     [001] .....    24.403489: kfree: call_site=vm_area_alloc+0x1a/0x50',
      '         busybox-771     [001] .....    24.403489: mm_page_alloc: page=ffffe0f5c40b7800 pfn=0x102de order=0 gfp_flags=GFP_KERNEL',
      '         busybox-771     [001] .....    24.403489: kmem_cache_alloc: call_site=vm_area_alloc+0x1a/0x50 ptr=ffff8ad3038b1688 bytes_req=152 bytes_alloc=152 gfp_flags=GFP_KERNEL node=-1 accounted=maybe',
    ];
    const lines = [...good.slice(0, 10), bad[0]!, ...good.slice(10, 20), bad[1]!, bad[2]!, ...good.slice(20), bad[3]!];
    const f = join(tmp, 'bad.txt');
    writeFileSync(f, `${lines.join('\n')}\n`);
    const messages = async (skipBad: boolean) => {
      const cols: string[] = [];
      const objects: string[] = [];
      const onBad = (into: string[]) => (e: Error) => into.push(e.message);
      await readTraceColumns(f, new StringTable(), () => {}, { skipBad, onBad: onBad(cols) }).catch((e: Error) => cols.push(e.message));
      await (async () => {
        for await (const _ of readTraceBatches(f, { skipBad, onBad: onBad(objects) }));
      })().catch((e: Error) => objects.push(e.message));
      return { cols, objects };
    };
    const first = await messages(false);
    expect(first.cols).toEqual(first.objects);
    expect(first.cols).toHaveLength(1);
    expect(first.cols[0]).toMatch(/bad\.txt:11: malformed kmem:kmem_cache_alloc line: .* \(bad bytes_req= value "15x2"\)$/);
    const all = await messages(true);
    expect(all.cols).toEqual(all.objects);
    expect(all.cols.map((m) => /^[^:]*bad\.txt:(\d+):/.exec(m)?.[1])).toEqual(['11', '22', '23', String(lines.length)]);
    expect(all.cols[1]).toMatch(/\(no ptr= field\)$/);
    expect(all.cols[2]).toMatch(/\(no migratetype= field\)$/);
    expect(all.cols[3]).toMatch(/\(bad accounted= value "maybe"\)$/);
  });
});
