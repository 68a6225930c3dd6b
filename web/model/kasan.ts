/**
 * The KASAN panel's view-model: shadow bytes as a grid with the kernel's
 * values and names, and the reports the kernel printed, linked to the
 * object and cache they name.
 *
 * KASAN is optional: on a machine without it k.inspect.kasanEnabled is
 * false, and everything here returns null or nothing. The shadow is one byte
 * per 8-byte granule, shadow[addr >> 3] (KASAN_SHADOW_SCALE_SHIFT = 3, the
 * offset folded away), read through k.inspect.shadow(). Reports come from
 * k.inspect.kasanReports(); parseKasanReports() reads the same reports from
 * dmesg text.
 */
import type { KasanReport as KasanReportSnapshot, Kernel } from '../../src/index.js';
import { fromPx, px } from './format.js';

/** A copy of the machine's whole shadow memory (shadow[addr >> 3]), or null without KASAN. */
export function shadowOf(k: Kernel): Uint8Array | null {
  return k.inspect.shadow(0, k.inspect.memory);
}

/** What a shadow byte means (mm/kasan/kasan.h names). */
export function shadowMeaning(b: number): { name: string; cls: string } {
  if (b === 0) return { name: 'accessible (8 bytes)', cls: 'ok' };
  if (b < 8) return { name: `partially accessible (first ${b} bytes)`, cls: 'partial' };
  switch (b) {
    case 0xff:
      return { name: 'KASAN_PAGE_FREE: page freed to the buddy allocator', cls: 'pagefree' };
    case 0xfe:
      return { name: 'KASAN_PAGE_REDZONE: redzone of a large kmalloc', cls: 'redzone' };
    case 0xfc:
      return { name: 'KASAN_SLAB_REDZONE: slab redzone', cls: 'redzone' };
    case 0xfb:
      return { name: 'KASAN_SLAB_FREE: freed slab object', cls: 'freed' };
    case 0xfa:
      return { name: 'KASAN_SLAB_FREE_META: freed object holding its free track', cls: 'freed' };
    case 0xf9:
      return { name: 'KASAN_GLOBAL_REDZONE', cls: 'redzone' };
    case 0xf8:
      return { name: 'KASAN_VMALLOC_INVALID', cls: 'redzone' };
    default:
      return { name: b >= 0x80 ? 'poisoned' : `invalid shadow value ${b}`, cls: 'poison' };
  }
}

/** One row of the grid: 16 shadow bytes, 128 bytes of memory, like "Memory state around the buggy address". */
export interface ShadowRow {
  addr: number;
  bytes: number[];
}

/** `rows` rows of shadow from the row holding `addr` minus `before` rows; `shadow[0]` is granule `base` (0: the whole shadow). */
export function shadowRows(shadow: Uint8Array, addr: number, before: number, rows: number, memSize: number, base = 0): ShadowRow[] {
  const rowBytes = 128;
  let start = Math.floor(addr / rowBytes) * rowBytes - before * rowBytes;
  start = Math.max(0, start);
  const out: ShadowRow[] = [];
  for (let r = 0; r < rows; r++) {
    const a = start + r * rowBytes;
    if (a >= memSize) break;
    const bytes: number[] = [];
    for (let i = 0; i < 16; i++) bytes.push(shadow[(a >>> 3) + i - base] ?? 0);
    out.push({ addr: a, bytes });
  }
  return out;
}

/** shadowRows() for the machine, reading only the shadow those rows cover (null without KASAN). */
export function shadowRowsAt(k: Kernel, addr: number, before: number, rows: number): ShadowRow[] | null {
  const mem = k.inspect.memory;
  const start = Math.max(0, Math.floor(addr / 128) * 128 - before * 128);
  const len = Math.min(mem - start, rows * 128);
  if (len <= 0) return k.inspect.kasanEnabled ? [] : null;
  const window = k.inspect.shadow(start, len);
  if (window === null) return null;
  return shadowRows(window, addr, before, rows, mem, start >>> 3);
}

/** The kernel's own text of those rows (" ffff888...: fc fc ..."), with '>' on the row holding `mark`. */
export function shadowText(rows: ShadowRow[], mark: number): string[] {
  return rows.map((r) => {
    const here = mark >= r.addr && mark < r.addr + 128;
    return `${here ? '>' : ' '}${px(r.addr)}: ${r.bytes.map((b) => b.toString(16).padStart(2, '0')).join(' ')}`;
  });
}

/** A KASAN report, as parsed from dmesg. */
export interface KasanReport {
  /** slab-out-of-bounds, slab-use-after-free, double-free, ... */
  type: string;
  /** The function named in the BUG line. */
  where: string;
  /** 'Read' | 'Write' | 'Free' */
  access: string;
  size: number;
  /** Physical address accessed (or freed). */
  addr: number;
  /** The object it belongs to (physical), or -1. */
  object: number;
  cache: string;
  objectSize: number;
  /** "0 bytes to the right of allocated 100-byte region" */
  location: string;
  lines: string[];
}

const RULE = /^=+$/;

/** Every KASAN report in these dmesg lines (timestamps allowed). */
export function parseKasanReports(dmesg: readonly string[]): KasanReport[] {
  const out: KasanReport[] = [];
  let cur: KasanReport | null = null;
  for (const raw of dmesg) {
    const line = raw.replace(/^\[\s*\d+\.\d+\] ?/, '');
    const bug = /^BUG: KASAN: ([\w-]+) in (.*)$/.exec(line);
    if (bug) {
      cur = { type: bug[1]!, where: bug[2]!.trim(), access: '', size: 0, addr: -1, object: -1, cache: '', objectSize: 0, location: '', lines: [line] };
      out.push(cur);
      continue;
    }
    if (cur === null) continue;
    if (RULE.test(line.trim()) && line.trim().length >= 60) {
      cur = null;
      continue;
    }
    cur.lines.push(line);
    let m = /(Read|Write) of size (\d+) at addr ([0-9a-f]{16})/.exec(line);
    if (m) {
      cur.access = m[1]!;
      cur.size = Number(m[2]);
      cur.addr = fromPx(m[3]!);
      continue;
    }
    m = /Free of addr ([0-9a-f]{16})/.exec(line);
    if (m) {
      cur.access = 'Free';
      cur.addr = fromPx(m[1]!);
      continue;
    }
    m = /The buggy address belongs to the object at ([0-9a-f]{16})/.exec(line);
    if (m) {
      cur.object = fromPx(m[1]!);
      continue;
    }
    m = /which belongs to the cache (\S+) of size (\d+)/.exec(line);
    if (m) {
      cur.cache = m[1]!;
      cur.objectSize = Number(m[2]);
      continue;
    }
    m = /The buggy address is located (.*)$/.exec(line);
    if (m) {
      cur.location = m[1]!.trim();
      continue;
    }
    m = /^\s*((?:allocated |freed )?\d+-byte region) \[/.exec(line);
    if (m && cur.location) cur.location += ` ${m[1]}`;
  }
  return out;
}

/** The machine's KASAN reports (none without KASAN), from k.inspect.kasanReports(). */
export function kasanReports(k: Kernel): KasanReport[] {
  return k.inspect.kasanReports().map(fromStructured);
}

/** One entry of k.inspect.kasanReports(), in this module's shape (its printed lines fill the gaps). */
function fromStructured(r: KasanReportSnapshot): KasanReport {
  const lines = r.lines.slice();
  const parsed = parseKasanReports(['='.repeat(66), ...lines, '='.repeat(66)])[0];
  const access = r.access ? r.access[0]!.toUpperCase() + r.access.slice(1) : (parsed?.access ?? '');
  const allocSize = r.allocSize ?? r.objectSize ?? 0;
  const state = r.bugType === 'slab-out-of-bounds' ? 'allocated ' : r.bugType === 'slab-use-after-free' ? 'freed ' : '';
  return {
    type: r.bugType,
    where: r.fn,
    access,
    size: Number(r.size),
    addr: r.addr,
    object: r.object ?? -1,
    cache: r.cache ?? '',
    objectSize: r.objectSize ?? 0,
    location: r.relation ? `${r.relBytes ?? 0} bytes ${r.relation} of ${state}${allocSize}-byte region` : (parsed?.location ?? ''),
    lines,
  };
}
