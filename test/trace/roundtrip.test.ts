import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { KmemEvent, KmemEventKind, PageEvent, SlabAllocEvent, SlabFreeEvent } from '../../src/trace/events.js';
import { parseFtraceBytes, parseFtraceLine } from '../../src/trace/ftrace.js';

// Random events, printed the way each tool prints them, must parse back to
// the same fields.

type Dialect = 'ftrace6' | 'ftrace5' | 'tgid' | 'old' | 'perf' | 'trace-cmd' | 'fields';

interface Case {
  dialect: Dialect;
  kind: KmemEventKind;
  comm: string;
  pid: number;
  cpu: number;
  micros: number;
  site: string;
  ptr: bigint;
  bytesReq: number;
  slack: number;
  gfp: string;
  node: number;
  accounted: boolean;
  name: string;
  pfn: number;
  order: number;
  migratetype: number;
  refill: number;
}

const KINDS: KmemEventKind[] = [
  'kmalloc',
  'kmalloc_node',
  'kfree',
  'kmem_cache_alloc',
  'kmem_cache_alloc_node',
  'kmem_cache_free',
  'mm_page_alloc',
  'mm_page_free',
  'mm_page_free_batched',
  'mm_page_alloc_zone_locked',
  'mm_page_pcpu_drain',
];

const word = fc.stringMatching(/^[a-zA-Z0-9_.<>/:+-]{1,8}$/).filter((w) => !w.endsWith(':') && !/^\d+$/.test(w));
const comm = fc
  .array(word, { minLength: 1, maxLength: 3 })
  .map((ws) => ws.join(' '))
  .filter((c) => c.length <= 15 && !/\d+\.\d*:|:$/.test(c));

const caseArb: fc.Arbitrary<Case> = fc.record({
  dialect: fc.constantFrom<Dialect>('ftrace6', 'ftrace5', 'tgid', 'old', 'perf', 'trace-cmd', 'fields'),
  kind: fc.constantFrom(...KINDS),
  comm,
  pid: fc.integer({ min: 0, max: 4194304 }),
  cpu: fc.integer({ min: 0, max: 255 }),
  micros: fc.integer({ min: 0, max: 9_999_999_999_999 }),
  site: fc.constantFrom('alloc_pid+0x54/0x390', 'f+0x0/0x1', 'ext4_alloc_io_end+0x1c/0x60 [ext4]', '__kmalloc_track_caller+0x1ab/0x2c0'),
  ptr: fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
  bytesReq: fc.integer({ min: 0, max: 1 << 22 }),
  slack: fc.integer({ min: 0, max: 4096 }),
  gfp: fc.constantFrom('GFP_KERNEL', 'GFP_KERNEL|__GFP_ZERO', 'GFP_ATOMIC|__GFP_NOWARN|__GFP_NOMEMALLOC', 'none', 'GFP_NOWAIT'),
  node: fc.integer({ min: -1, max: 7 }),
  accounted: fc.boolean(),
  name: fc.constantFrom('kmalloc-64', 'dentry', 'ext4_inode_cache', ':0000192'),
  pfn: fc.integer({ min: 0, max: 2 ** 40 }),
  order: fc.integer({ min: 0, max: 10 }),
  migratetype: fc.integer({ min: 0, max: 5 }),
  refill: fc.integer({ min: 0, max: 1 }),
});

const hex = (v: bigint | number, width = 16): string => v.toString(16).padStart(width, '0');

/** The line and the event it must parse to. */
function render(c: Case): { line: string; event: KmemEvent } {
  const ts = `${Math.floor(c.micros / 1e6)}.${String(c.micros % 1e6).padStart(6, '0')}`;
  const timestamp = Math.floor(c.micros / 1e6) + (c.micros % 1e6) / 1e6;
  const raw = c.dialect === 'fields';
  const perf = c.dialect === 'perf';
  const six = c.dialect === 'ftrace6' || c.dialect === 'trace-cmd' || raw;
  const hashed = c.dialect === 'ftrace5' || c.dialect === 'tgid';
  // printed pointer and call site
  const ptr = hashed ? hex(c.ptr & 0xffffffffn) : c.dialect === 'old' || c.dialect === 'trace-cmd' || raw ? `0x${hex(c.ptr)}` : hex(c.ptr);
  const ptrField = raw ? `${ptr} (${BigInt.asIntN(64, c.ptr)})` : ptr;
  const siteAddr = `ffffffff81${hex(c.pid % 0xffffff, 6)}`;
  let siteText: string;
  let callSite: string;
  if (c.dialect === 'old' || perf) {
    siteText = siteAddr;
    callSite = siteAddr;
  } else if (c.dialect === 'trace-cmd') {
    const sym = c.site.replace(/\/.*$/, '');
    siteText = `(${sym}) call_site=${siteAddr}`;
    callSite = sym;
  } else if (raw) {
    siteText = `0x${siteAddr} (${BigInt.asIntN(64, BigInt(`0x${siteAddr}`))})`;
    callSite = `0x${siteAddr}`;
  } else {
    siteText = c.site;
    callSite = c.site;
  }
  const num = (v: number): string => (raw ? `0x${v.toString(16)} (${v})` : String(v));
  const gfpRaw = 0xcc0;
  const gfpText = raw ? `0x${gfpRaw.toString(16)} (${gfpRaw})` : c.gfp;
  const base = { lineNo: 0, comm: c.comm, pid: c.pid, cpu: c.cpu, timestamp };

  let fields: string;
  let event: KmemEvent;
  const isNode = c.kind === 'kmalloc_node' || c.kind === 'kmem_cache_alloc_node';
  switch (c.kind) {
    case 'kmalloc':
    case 'kmalloc_node':
    case 'kmem_cache_alloc':
    case 'kmem_cache_alloc_node': {
      const withNode = isNode || six;
      const withAccounted = six;
      const nodeText = raw ? `0x${(c.node >>> 0).toString(16)} (${c.node})` : String(c.node);
      const accText = raw ? `(${c.accounted ? 1 : 0})` : String(c.accounted);
      fields =
        `${c.dialect === 'trace-cmd' ? siteText : `call_site=${siteText}`} ptr=${ptrField} bytes_req=${num(c.bytesReq)} bytes_alloc=${num(c.bytesReq + c.slack)} gfp_flags=${gfpText}` +
        (withNode ? ` node=${nodeText}` : '') +
        (withAccounted ? ` accounted=${accText}` : '');
      const e: SlabAllocEvent = {
        kind: c.kind,
        ...base,
        callSite,
        ptr,
        bytesReq: c.bytesReq,
        bytesAlloc: c.bytesReq + c.slack,
        gfp: raw ? `0x${gfpRaw.toString(16)}` : c.gfp,
        gfpValue: raw ? gfpRaw : null,
        node: withNode ? c.node : null,
        accounted: withAccounted ? c.accounted : null,
        name: null,
      };
      event = e;
      break;
    }
    case 'kfree':
    case 'kmem_cache_free': {
      const named = c.kind === 'kmem_cache_free' && (six || hashed);
      fields = `${c.dialect === 'trace-cmd' ? siteText : `call_site=${siteText}`} ptr=${ptrField}${named ? ` name=${c.name}` : ''}`;
      const e: SlabFreeEvent = { kind: c.kind, ...base, callSite, ptr, name: named ? c.name : null };
      event = e;
      break;
    }
    default: {
      const page = hex(0xffffea0000000000n + BigInt(c.pfn) * 64n);
      const pfnText = c.dialect === 'old' || perf ? String(c.pfn) : raw ? `0x${c.pfn.toString(16)} (${c.pfn})` : `0x${c.pfn.toString(16)}`;
      let migratetype: number | null = null;
      let gfp: string | null = null;
      let gfpValue: number | null = null;
      let refill: number | null = null;
      let order = c.order;
      switch (c.kind) {
        case 'mm_page_alloc':
          fields = `page=${page} pfn=${pfnText} order=${num(c.order)} migratetype=${num(c.migratetype)} gfp_flags=${gfpText}`;
          migratetype = c.migratetype;
          gfp = raw ? `0x${gfpRaw.toString(16)}` : c.gfp;
          gfpValue = raw ? gfpRaw : null;
          break;
        case 'mm_page_free':
          fields = `page=${page} pfn=${pfnText} order=${num(c.order)}`;
          break;
        case 'mm_page_free_batched':
          fields = `page=${page} pfn=${pfnText} order=0${c.dialect === 'old' ? ' cold=1' : ''}`;
          order = 0;
          break;
        case 'mm_page_alloc_zone_locked':
          fields = `page=${page} pfn=${pfnText} order=${num(c.order)} migratetype=${num(c.migratetype)} percpu_refill=${num(c.refill)}`;
          migratetype = c.migratetype;
          refill = c.refill;
          break;
        default:
          fields = `page=${page} pfn=${pfnText} order=${num(c.order)} migratetype=${num(c.migratetype)}`;
          migratetype = c.migratetype;
      }
      const e: PageEvent = { kind: c.kind as PageEvent['kind'], ...base, page, pfn: c.pfn, order, migratetype, gfp, gfpValue, percpuRefill: refill };
      event = e;
    }
  }
  const cpu = String(c.cpu).padStart(3, '0');
  const task = `${c.comm}-${c.pid}`.padStart(16);
  let line: string;
  switch (c.dialect) {
    case 'ftrace6':
    case 'fields':
      line = `${task}  [${cpu}] d..2. ${ts.padStart(12)}: ${c.kind}: ${fields}`;
      break;
    case 'ftrace5':
      line = `${task}  [${cpu}] ..s1 ${ts.padStart(12)}: ${c.kind}: ${fields}`;
      break;
    case 'tgid':
      line = `${task} (${String(c.pid).padStart(7)}) [${cpu}] .... ${ts.padStart(12)}: ${c.kind}: ${fields}`;
      break;
    case 'old':
      line = `${task}  [${cpu}] ${ts.padStart(12)}: ${c.kind}: ${fields}`;
      break;
    case 'trace-cmd':
      line = `${task} [${cpu}] ${ts}: ${`${c.kind}:`.padEnd(21)} ${fields}`;
      break;
    case 'perf':
      line = `${c.comm} ${String(c.pid).padStart(5)} [${cpu}] ${ts.padStart(12)}: ${`kmem:${c.kind}:`.padStart(28)} ${fields}`;
      break;
  }
  return { line, event };
}

describe('round trip: random events in every layout', () => {
  it('parse back to what was printed', () => {
    fc.assert(
      fc.property(caseArb, (c) => {
        const { line, event } = render(c);
        expect(parseFtraceLine(line)).toEqual(event);
      }),
      { numRuns: 3000 },
    );
  });

  it('parse the same from a shared buffer as from a string, whatever the neighbours', () => {
    fc.assert(
      fc.property(fc.array(caseArb, { minLength: 1, maxLength: 20 }), (cases) => {
        const lines = cases.map((c) => render(c).line);
        const text = `${lines.join('\n')}\n`;
        const bytes = Buffer.from(text, 'latin1');
        let a = 0;
        for (let k = 0; k < lines.length; k++) {
          const nl = bytes.indexOf(10, a);
          expect(parseFtraceBytes(bytes, text, a, nl, k + 1)).toEqual(parseFtraceLine(lines[k]!, k + 1));
          a = nl + 1;
        }
      }),
      { numRuns: 300 },
    );
  });
});
