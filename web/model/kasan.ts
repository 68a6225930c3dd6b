/**
 * The KASAN panel's view-model: shadow bytes as a grid with the kernel's
 * values and names, and the reports the kernel printed, linked to the
 * object and cache they name.
 *
 * KASAN is optional: a machine without it has no `k.kasan`, and everything
 * here returns null or nothing. The shadow is one byte per 8-byte granule,
 * shadow[addr >> 3] (KASAN_SHADOW_SCALE_SHIFT = 3, the offset folded away).
 * Reports are read from dmesg, in the kernel's format, so they look the same
 * whatever the KASAN layer keeps internally.
 */
import type { Kernel } from '../../src/kernel.js';
import { fromPx, px } from './format.js';

/** The machine's shadow memory, or null without KASAN. */
export function shadowOf(k: Kernel): Uint8Array | null {
  const kasan = (k as unknown as { kasan?: Record<string, unknown> }).kasan;
  if (typeof kasan !== 'object' || kasan === null) return null;
  const want = Math.ceil(k.phys.size / 8);
  const direct = kasan.shadow;
  if (direct instanceof Uint8Array && direct.length >= want) return direct;
  for (const v of Object.values(kasan)) if (v instanceof Uint8Array && v.length === want) return v;
  return null;
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

/** `rows` rows of shadow from the row holding `addr` minus `before` rows. */
export function shadowRows(shadow: Uint8Array, addr: number, before: number, rows: number, memSize: number): ShadowRow[] {
  const rowBytes = 128;
  let start = Math.floor(addr / rowBytes) * rowBytes - before * rowBytes;
  start = Math.max(0, start);
  const out: ShadowRow[] = [];
  for (let r = 0; r < rows; r++) {
    const a = start + r * rowBytes;
    if (a >= memSize) break;
    const bytes: number[] = [];
    for (let i = 0; i < 16; i++) bytes.push(shadow[(a >>> 3) + i] ?? 0);
    out.push({ addr: a, bytes });
  }
  return out;
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

/** The machine's KASAN reports (none without KASAN): k.kasan.reports() when it has it, else dmesg. */
export function kasanReports(k: Kernel): KasanReport[] {
  const kasan = (k as unknown as { kasan?: { reports?: () => unknown[] } | null }).kasan;
  if (typeof kasan !== 'object' || kasan === null) return [];
  if (typeof kasan.reports === 'function') {
    const list = kasan.reports();
    if (Array.isArray(list)) return list.map(fromStructured);
  }
  return parseKasanReports(k.dmesg());
}

/** One entry of k.kasan.reports(), in this module's shape (its printed lines fill the gaps). */
function fromStructured(r: unknown): KasanReport {
  const o = (r ?? {}) as Record<string, unknown>;
  const lines = Array.isArray(o.lines) ? (o.lines as unknown[]).map(String) : [];
  const parsed = parseKasanReports(['='.repeat(66), ...lines, '='.repeat(66)])[0];
  const num = (v: unknown, d: number) => (typeof v === 'number' ? v : typeof v === 'bigint' ? Number(v) : d);
  const access = typeof o.access === 'string' ? o.access[0]!.toUpperCase() + o.access.slice(1) : (parsed?.access ?? '');
  const relation = typeof o.relation === 'string' ? o.relation : null;
  const allocSize = num(o.allocSize, num(o.objectSize, 0));
  const state = o.bugType === 'slab-out-of-bounds' ? 'allocated ' : o.bugType === 'slab-use-after-free' ? 'freed ' : '';
  return {
    type: typeof o.bugType === 'string' ? o.bugType : (parsed?.type ?? '?'),
    where: typeof o.fn === 'string' ? o.fn : (parsed?.where ?? ''),
    access,
    size: num(o.size, parsed?.size ?? 0),
    addr: num(o.addr, parsed?.addr ?? -1),
    object: o.object === null ? -1 : num(o.object, parsed?.object ?? -1),
    cache: typeof o.cache === 'string' ? o.cache : (parsed?.cache ?? ''),
    objectSize: num(o.objectSize, parsed?.objectSize ?? 0),
    location: relation ? `${num(o.relBytes, 0)} bytes ${relation} of ${state}${allocSize}-byte region` : (parsed?.location ?? ''),
    lines,
  };
}
