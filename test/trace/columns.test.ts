/**
 * The columns reader (typed-array rows, the replay's fast path) against the
 * object parser, line by line, on real traces: the same events with the
 * same fields, and the same errors for malformed lines.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { EventColumns, ptrKey, StringTable } from '../../src/trace/columns.js';
import { KMEM_EVENT_KINDS, type KmemEvent } from '../../src/trace/events.js';
import { readTraceBatches, readTraceColumns } from '../../src/trace/stream.js';

const files = [
  join(__dirname, '../fixtures/trace/linux-6.1-qemu-2cpu-excerpt.txt'),
  ...readdirSync(join(__dirname, '../cli/fixtures'))
    .filter((f) => f.endsWith('.txt'))
    .map((f) => join(__dirname, '../cli/fixtures', f)),
  join(__dirname, '../fixtures/realdata/kmem-trace-1.txt'),
];
const tmp = mkdtempSync(join(tmpdir(), 'kmem-columns-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** A row as the object it should equal. */
function rowOf(c: EventColumns, s: StringTable, r: number): Record<string, unknown> {
  const kind = KMEM_EVENT_KINDS[c.kind[r]!]!;
  const base = { kind, lineNo: c.lineNo[r], cpu: c.cpu[r] };
  if (kind.startsWith('mm_')) {
    return { ...base, pfn: c.pfn[r], order: c.order[r], migratetype: c.mt[r] === -1 ? null : c.mt[r], gfp: c.gfp[r]! < 0 ? null : s.strings[c.gfp[r]!] };
  }
  const slab = { ...base, ptr: c.ptr[r], callSite: s.strings[c.site[r]!], name: c.name[r]! < 0 ? null : s.strings[c.name[r]!] };
  if (kind === 'kfree' || kind === 'kmem_cache_free') return slab;
  return {
    ...slab,
    bytesReq: c.req[r],
    bytesAlloc: c.alloc[r],
    gfp: s.strings[c.gfp[r]!],
    node: c.node[r],
    accounted: c.accounted[r] === -1 ? null : c.accounted[r] === 1,
  };
}

function objectOf(e: KmemEvent): Record<string, unknown> {
  const base = { kind: e.kind, lineNo: e.lineNo, cpu: e.cpu };
  if ('pfn' in e) return { ...base, pfn: e.pfn, order: e.order, migratetype: e.migratetype, gfp: e.gfp };
  const slab = { ...base, ptr: ptrKey(e.ptr), callSite: e.callSite, name: e.name };
  if (!('bytesReq' in e)) return slab;
  return { ...slab, bytesReq: e.bytesReq, bytesAlloc: e.bytesAlloc, gfp: e.gfp, node: e.node ?? -1, accounted: e.accounted };
}

async function both(file: string, skipBad = true): Promise<{ rows: Record<string, unknown>[]; objects: Record<string, unknown>[]; ts: [number, number][] }> {
  const strings = new StringTable();
  const rows: Record<string, unknown>[] = [];
  const tsRows: number[] = [];
  await readTraceColumns(
    file,
    strings,
    (c) => {
      for (let r = 0; r < c.n; r++) {
        rows.push(rowOf(c, strings, r));
        tsRows.push(c.ts[r]!);
      }
    },
    { skipBad, batchRows: 7 },
  );
  const objects: Record<string, unknown>[] = [];
  const tsObj: number[] = [];
  for await (const b of readTraceBatches(file, { skipBad })) {
    for (const e of b) {
      objects.push(objectOf(e));
      tsObj.push(e.timestamp);
    }
  }
  return { rows, objects, ts: tsRows.map((t, i) => [t, tsObj[i]!]) };
}

describe('columns reader', () => {
  for (const f of files) {
    it(`reads ${f.replace(/.*\/test\//, 'test/')} as the object parser does`, async () => {
      const { rows, objects, ts } = await both(f);
      expect(rows.length).toBe(objects.length);
      expect(rows).toEqual(objects);
      for (const [a, b] of ts) expect(Number.isNaN(a) ? Number.isNaN(b) : a === b).toBe(true);
    });
  }

  it('a line off the 6.x layout by one field is read by the general loop, and a malformed one reported the same', async () => {
    const head = '          <idle>-0       [001] d..1.    24.403463: ';
    const lines = [
      `${head}kmalloc: call_site=free_task+0x2d/0x70 ptr=ffff8ad304633080 bytes_req=8 bytes_alloc=8 gfp_flags=GFP_KERNEL node=-1 accounted=false extra=1`,
      `${head}kmalloc: call_site=free_task+0x2d/0x70 [mod] ptr=ffff8ad304633080 bytes_req=8 bytes_alloc=8 gfp_flags=0xcc0 node=-1 accounted=false`,
      `${head}kmem_cache_free: call_site=free_task+0x2d/0x70 ptr=ffff8ad304633080 name=task_struct`,
      `${head}mm_page_alloc: page=ffffe0f5c40b7800 pfn=0x102de order=0 migratetype=0 gfp_flags=GFP_KERNEL`,
      `${head}kmalloc: call_site=free_task+0x2d/0x70 ptr=ffff8ad304633080 bytes_req=8x bytes_alloc=8 gfp_flags=GFP_KERNEL`,
    ];
    const f = join(tmp, 'off.txt');
    writeFileSync(f, `${lines.join('\n')}\n`);
    const { rows, objects } = await both(f);
    expect(rows).toEqual(objects);
    expect(rows.length).toBe(4);
    const errors: string[] = [];
    await readTraceColumns(f, new StringTable(), () => {}).catch((e: Error) => errors.push(e.message));
    const it = readTraceBatches(f);
    await (async () => {
      for await (const _ of it);
    })().catch((e: Error) => errors.push(e.message));
    expect(errors.length).toBe(2);
    expect(errors[0]).toBe(errors[1]);
    expect(errors[0]).toMatch(/off\.txt:5: malformed kmem:kmalloc line: .* \(bad bytes_req= value "8x"\)$/);
  });

  it('text as it comes in, in chunks of any size: the same rows', async () => {
    const f = files[0]!;
    const want: Record<string, unknown>[] = [];
    const s1 = new StringTable();
    await readTraceColumns(f, s1, (c) => {
      for (let r = 0; r < c.n; r++) want.push(rowOf(c, s1, r));
    });
    for (const chunkSize of [1, 97, 4096]) {
      const got: Record<string, unknown>[] = [];
      const s2 = new StringTable();
      await readTraceColumns(
        f,
        s2,
        (c) => {
          for (let r = 0; r < c.n; r++) got.push(rowOf(c, s2, r));
        },
        { chunkSize },
      );
      expect(got).toEqual(want);
    }
    expect(readFileSync(f, 'latin1').length).toBeGreaterThan(4096);
    expect(new EventColumns(4).capacity).toBe(4);
  });
});
