/**
 * The text of a KASAN report (mm/kasan/report.c, report_generic.c): the bug
 * type by the shadow byte, the object description and the shadow rows.
 *
 *   ==================================================================        start_report()
 *   BUG: KASAN: slab-out-of-bounds in kmalloc_oob_right                        print_error_description()
 *   Write of size 1 at addr ffff888003c1e273 by task kmem/1
 *                                                                               (blank)
 *   CPU: 0 UID: 0 PID: 1 Comm: kmem Not tainted 6.18.0-kmem #1                 dump_stack_lvl()
 *   ...Call Trace: <TASK> frames </TASK>
 *                                                                               (blank)
 *   Allocated by task 1: / frames / (blank)                                    describe_object_stacks()
 *   Freed by task 1: / frames / (blank)          only while the free meta is valid (0xFA)
 *   The buggy address belongs to the object at ffff888003c1e200                describe_object_addr()
 *    which belongs to the cache kmalloc-128 of size 128
 *   The buggy address is located 0 bytes to the right of
 *    allocated 115-byte region [ffff888003c1e200, ffff888003c1e273)
 *                                                                               (blank)
 *   The buggy address belongs to the physical page:                            dump_page()
 *   page: refcount:1 ...
 *                                                                               (blank)
 *   Memory state around the buggy address:                                     print_memory_metadata()
 *    ffff888003c1e100: fc fc ...                  5 rows of 16 shadow bytes,
 *   >ffff888003c1e200: 00 00 ... 00 03 fc ...     '>' on the row of the first bad granule
 *                                             ^   '^' under that granule's shadow byte
 *   ==================================================================        end_report()
 */
import { STACK_NOT_SAMPLED, type StackDepot } from '../lib/stackdepot.js';
import { captureStack, freeingFunction } from '../lib/stacktrace.js';
import { formatPx } from '../lib/vsprintf.js';
import { PGTY_slab } from '../memory/page.js';
import { dumpPage, type SlabWords } from '../page_alloc/debug.js';
import { CF } from '../slub/slab.js';
import type { KasanGlobal, KasanHost } from './common.js';
import {
  KASAN_ALLOCA_LEFT,
  KASAN_ALLOCA_RIGHT,
  KASAN_GLOBAL_REDZONE,
  KASAN_GRANULE_SIZE,
  KASAN_PAGE_FREE,
  KASAN_PAGE_REDZONE,
  KASAN_SLAB_FREE,
  KASAN_SLAB_FREE_META,
  KASAN_SLAB_REDZONE,
  KASAN_STACK_LEFT,
  KASAN_STACK_MID,
  KASAN_STACK_PARTIAL,
  KASAN_STACK_RIGHT,
  KASAN_VMALLOC_INVALID,
  type KasanAccess,
  type KasanReport,
  type KasanTrack,
  META_BYTES_PER_ROW,
  META_MEM_BYTES_PER_ROW,
  META_ROWS_AROUND_ADDR,
} from './kasan.js';
import type { ObjectMeta, RawTrack } from './meta.js';
import type { Shadow } from './shadow.js';

/** The 66-character rule that opens and closes every report. */
export const REPORT_RULE = '='.repeat(66);

const PAGE_SIZE = 4096;
const PAGE_SHIFT = 12;
/** Addresses %px can show as direct-map addresses. */
const DIRECT_MAP_LIMIT = 2 ** 46;

/**
 * %px of an address: a kmem physical address at its direct-map address;
 * an address in the NULL page as the small number it is.
 */
export function px(addr: number): string {
  if (addr < PAGE_SIZE && addr >= 0) return formatPx(BigInt(addr));
  if (addr >= 0 && addr < DIRECT_MAP_LIMIT && Number.isSafeInteger(addr)) return formatPx(addr);
  return formatPx(0xffff888000000000n + BigInt(Math.trunc(addr)));
}

/** get_shadow_bug_type(): the bug type the shadow byte of the first bad granule names. */
export function shadowBugType(shadow: Shadow, firstBadAddr: number): string {
  let s = shadow.get(firstBadAddr);
  // A partial granule: the next shadow byte says what lies beyond it.
  if (s > 0 && s < KASAN_GRANULE_SIZE) s = shadow.get(firstBadAddr + KASAN_GRANULE_SIZE);
  if (s < KASAN_GRANULE_SIZE) return 'out-of-bounds';
  switch (s) {
    case KASAN_PAGE_REDZONE:
    case KASAN_SLAB_REDZONE:
      return 'slab-out-of-bounds';
    case KASAN_GLOBAL_REDZONE:
      return 'global-out-of-bounds';
    case KASAN_STACK_LEFT:
    case KASAN_STACK_MID:
    case KASAN_STACK_RIGHT:
    case KASAN_STACK_PARTIAL:
      return 'stack-out-of-bounds';
    case KASAN_PAGE_FREE:
      return 'use-after-free';
    case KASAN_SLAB_FREE:
    case KASAN_SLAB_FREE_META:
      return 'slab-use-after-free';
    case KASAN_ALLOCA_LEFT:
    case KASAN_ALLOCA_RIGHT:
      return 'alloca-out-of-bounds';
    case KASAN_VMALLOC_INVALID:
      return 'vmalloc-out-of-bounds';
    default:
      return 'unknown-crash';
  }
}

/** get_wild_bug_type(): an address with no shadow. Every kmem address is a kernel address. */
export function wildBugType(addr: number): string {
  if (addr < PAGE_SIZE) return 'null-ptr-deref';
  return 'wild-memory-access';
}

/** print_memory_metadata(): the five shadow rows around the first bad address and the '^' line. */
export function memoryStateLines(shadow: Shadow, addr: number): string[] {
  const lines = ['Memory state around the buggy address:'];
  let row = addr - (addr % META_MEM_BYTES_PER_ROW) - META_ROWS_AROUND_ADDR * META_MEM_BYTES_PER_ROW;
  for (let i = -META_ROWS_AROUND_ADDR; i <= META_ROWS_AROUND_ADDR; i++) {
    const bytes: string[] = [];
    for (let j = 0; j < META_BYTES_PER_ROW; j++) {
      const a = row + j * KASAN_GRANULE_SIZE;
      bytes.push((a < 0 ? 0 : shadow.get(a)).toString(16).padStart(2, '0'));
    }
    lines.push(`${i === 0 ? '>' : ' '}${px(Math.max(row, 0))}: ${bytes.join(' ')}`);
    if (row <= addr && addr < row + META_MEM_BYTES_PER_ROW) {
      // pr_err("%*c\n", 3 + 2 * sizeof(long) + granule * 3 + 1, '^')
      const width = 3 + 16 + Math.floor((addr - row) / KASAN_GRANULE_SIZE) * 3 + 1;
      lines.push(`${' '.repeat(width - 1)}^`);
    }
    row += META_MEM_BYTES_PER_ROW;
  }
  return lines;
}

// ───────────────────────── kasan_report() ─────────────────────────

/** What kasan_report() reads of the KASAN instance (Kasan hands it over, its own state stays private). */
export interface ReportSource {
  readonly host: KasanHost;
  readonly memSize: number;
  readonly shadow: Shadow;
  readonly depot: StackDepot;
  readonly meta: ObjectMeta;
  /** report_enabled(): multi-shot, or nothing reported yet. */
  reportEnabled(): boolean;
  /** The object's KASAN metadata record, or -1. */
  record(s: number, head: number, obj: number): number;
  /** nearest_obj(): the object an address of slab `head` falls in. */
  nearestObj(s: number, head: number, addr: number): number;
  globalAt(addr: number): KasanGlobal | null;
  slabWords(head: number): SlabWords | undefined;
  /** Keep a report in the instance's list. */
  push(rep: KasanReport): void;
  /** kasanStacks: 'sampled': 1 allocation in this many keeps its stacks (1: all). */
  stackSampling(): number;
}

/**
 * What print_track() prints for a track without a stack ("(stack is not
 * available)"), saying why: kasanStacks: 'sampled' skipped this one.
 */
export function notSampledLine(sampling: number): string {
  return `(stack is not available: not sampled, kasanStacks 'sampled' keeps 1 allocation in ${sampling})`;
}

/** A saved track as a report shows it. */
function track(src: ReportSource, raw: RawTrack): KasanTrack {
  const stack = raw.stack === STACK_NOT_SAMPLED ? [notSampledLine(src.stackSampling())] : src.depot.lines(raw.stack);
  return { pid: raw.pid, cpu: raw.cpu, timestampNs: raw.ts, stack };
}

/**
 * kasan_report() / kasan_report_invalid_free(): build the report, keep it in
 * the instance's list, and print it (then onBug) if reporting is enabled.
 */
export function kasanReport(src: ReportSource, addr: number, size: number | bigint, access: KasanAccess, freeType: string | null): boolean {
  const printed = src.reportEnabled();
  const host = src.host;
  const wraps = typeof size === 'bigint';
  const nsize = typeof size === 'bigint' ? 0 : size;
  const hasMeta = addr >= PAGE_SIZE && addr < src.memSize && (wraps || addr + nsize <= src.memSize);
  const firstBad = access === 'free' || wraps || !hasMeta ? addr : src.shadow.findFirstBadAddr(addr, nsize);
  let bugType: string;
  if (freeType !== null) bugType = freeType;
  else if (wraps) bugType = 'out-of-bounds';
  else if (hasMeta) bugType = shadowBugType(src.shadow, firstBad);
  else bugType = wildBugType(addr);
  // A free report names the freeing function (the ip in kfree and the
  // like, 6.x); an access report the caller's code that made the access.
  const fn = (access === 'free' ? freeingFunction() : null) ?? captureStack(1)[0]?.fn ?? '<unknown>';
  const rep: KasanReport = {
    bugType,
    access,
    size,
    addr,
    firstBadAddr: firstBad,
    fn,
    cache: null,
    object: null,
    objectSize: null,
    allocSize: null,
    offset: null,
    relation: null,
    relBytes: null,
    global: null,
    alloc: null,
    free: null,
    aux: [],
    printed,
    lines: [],
  };
  const lines = [REPORT_RULE, `BUG: KASAN: ${bugType} in ${fn}`];
  const task = `by task ${host.task.comm}/${host.task.pid}`;
  if (access === 'free') lines.push(`Free of addr ${px(addr)} ${task}`);
  else if (size !== 0) lines.push(`${access === 'write' ? 'Write' : 'Read'} of size ${size} at addr ${px(addr)} ${task}`);
  else lines.push(`${access === 'write' ? 'Write' : 'Read'} at addr ${px(addr)} ${task}`);
  lines.push('');
  lines.push(...host.dumpStack());
  if (hasMeta) {
    lines.push('');
    const pfn = addr >>> PAGE_SHIFT;
    const head = host.pages.compoundHead(pfn);
    if (host.pages.pageType[head] === PGTY_slab) describeObject(src, rep, head, lines);
    const g = src.globalAt(addr);
    if (g !== null) {
      rep.global = g.name;
      lines.push('The buggy address belongs to the variable:');
      lines.push(` ${g.name}+0x${(addr - g.addr).toString(16)}/0x${g.sizeWithRedzone.toString(16)}`);
      lines.push('');
    }
    lines.push('The buggy address belongs to the physical page:');
    lines.push(...dumpPage(host.pages, head, host.pageAlloc.pageZone(head), 'kasan: bad access detected', src.slabWords(head)));
    lines.push('');
    lines.push(...memoryStateLines(src.shadow, firstBad));
  }
  lines.push(REPORT_RULE);
  rep.lines = lines;
  src.push(rep);
  if (printed) host.reportBug('kasan', lines);
  return printed;
}

/** describe_object(): the stacks, then where the address lies relative to the object. */
function describeObject(src: ReportSource, rep: KasanReport, head: number, lines: string[]): void {
  const slub = src.host.slub;
  const s = src.host.pages.slabCache[head]!;
  const info = slub.caches[s]!;
  const objectSize = slub.cf[s * CF.FIELDS + CF.OBJECT_SIZE]!;
  const object = src.nearestObj(s, head, rep.addr);
  const allocSize = src.shadow.allocSize(object, objectSize) || objectSize;
  const r = src.record(s, head, object);
  if (r >= 0 && info.kasanAllocMetaOffset >= 0) {
    const a = src.meta.alloc(r);
    // A pending handle whose stack turns out to have no frames of the caller's is no stack.
    a.stack = src.depot.resolve(a.stack);
    if (a.stack !== 0) {
      rep.alloc = track(src, a);
      lines.push(`Allocated by task ${a.pid}:`, ...rep.alloc.stack, '');
    }
  }
  if (r >= 0 && info.kasanFreeMetaOffset >= 0 && src.shadow.get(object) === KASAN_SLAB_FREE_META) {
    const f = src.meta.free(r);
    f.stack = src.depot.resolve(f.stack);
    if (f.stack !== 0) {
      rep.free = track(src, f);
      lines.push(`Freed by task ${f.pid}:`, ...rep.free.stack, '');
    }
  }
  if (r >= 0 && info.kasanAllocMetaOffset >= 0) {
    const a0 = src.depot.resolve(src.meta.aux(r)[0]);
    const a1 = src.depot.resolve(src.meta.aux(r)[1]);
    if (a0 !== 0) {
      rep.aux.push(src.depot.lines(a0));
      lines.push('Last potentially related work creation:', ...src.depot.lines(a0), '');
    }
    if (a1 !== 0) {
      rep.aux.push(src.depot.lines(a1));
      lines.push('Second to last potentially related work creation:', ...src.depot.lines(a1), '');
    }
  }
  let relation: 'to the left' | 'to the right' | 'inside';
  let relBytes: number;
  if (rep.addr < object) {
    relation = 'to the left';
    relBytes = object - rep.addr;
  } else if (rep.addr >= object + allocSize) {
    relation = 'to the right';
    relBytes = rep.addr - (object + allocSize);
  } else {
    relation = 'inside';
    relBytes = rep.addr - object;
  }
  const state = rep.bugType === 'slab-out-of-bounds' ? 'allocated ' : rep.bugType === 'slab-use-after-free' ? 'freed ' : '';
  lines.push(`The buggy address belongs to the object at ${px(object)}`);
  lines.push(` which belongs to the cache ${info.name} of size ${objectSize}`);
  lines.push(`The buggy address is located ${relBytes} bytes ${relation} of`);
  lines.push(` ${state}${allocSize}-byte region [${px(object)}, ${px(object + allocSize)})`);
  lines.push('');
  Object.assign(rep, {
    cache: info.name,
    object,
    objectSize,
    allocSize,
    offset: rep.addr - object,
    relation,
    relBytes,
  });
}
