/**
 * How closely a replay of a complete real-kernel trace reproduces what that
 * kernel printed when tracing stopped (/proc/slabinfo, /proc/vmstat,
 * /proc/buddyinfo of the oracle's run): shared by the measuring script
 * (oracle_match.ts) and the fidelity test. Nothing here reads kmem's
 * internals: only the texts both machines print.
 *
 * Caches born before tracing began are left out of the share and listed:
 * the trace shows every cache creation as a kmem_cache_alloc from
 * kmem_cache_create (6.1: call site kmem_cache_create_usercopy), and
 * /proc/slabinfo lists root caches newest first, so of its R rows the
 * oldest R - T, T the creations the trace shows, were made before it.
 * Their objects older than the trace cannot be replayed.
 */

export interface SlabLine {
  name: string;
  active: number;
  num: number;
  size: number;
}

/** /proc/slabinfo's rows in its order (newest cache first). */
export function parseSlabinfo(text: string): SlabLine[] {
  const out: SlabLine[] = [];
  for (const l of text.split('\n')) {
    if (l === '' || l.startsWith('slabinfo') || l.startsWith('#')) continue;
    const f = l.trim().split(/\s+/);
    out.push({ name: f[0]!, active: Number(f[1]), num: Number(f[2]), size: Number(f[3]) });
  }
  return out;
}

/** Lines of a 6.x trace text that create a cache (its kmem_cache descriptor). */
export function countCacheCreations(trace: string): number {
  let n = 0;
  for (
    let at = trace.indexOf('kmem_cache_alloc: call_site=kmem_cache_create');
    at >= 0;
    at = trace.indexOf('kmem_cache_alloc: call_site=kmem_cache_create', at + 1)
  )
    n++;
  return n;
}

/** A counter of a /proc/vmstat or /proc/meminfo text. */
export function counter(text: string, name: string): number {
  const m = new RegExp(`^${name}:?\\s+(\\d+)`, 'm').exec(text);
  if (m === null) throw new Error(`no ${name} in the text`);
  return Number(m[1]);
}

/** /proc/buddyinfo's free blocks per order, summed over its zones. */
export function buddyTotals(text: string): number[] {
  const sum: number[] = [];
  for (const l of text.split('\n')) {
    const m = /zone\s+\S+\s+(.*)$/.exec(l);
    if (m === null) continue;
    m[1]!
      .trim()
      .split(/\s+/)
      .forEach((v, i) => {
        sum[i] = (sum[i] ?? 0) + Number(v);
      });
  }
  return sum;
}

export interface SlabMatch {
  /** Caches holding objects in the real slabinfo, born during the trace. */
  held: string[];
  /** Of those, the ones kmem gets within 5% of num_objs. */
  within: string[];
  /** held.length ? within / held : 1 */
  share: number;
  /** Caches born before tracing began (left out), oldest first. */
  bornBefore: string[];
  /** Held caches kmem gets wrong: name, real and kmem num_objs x size. */
  wrong: string[];
  /** Names in one slabinfo and not the other. */
  onlyReal: string[];
  onlyKmem: string[];
}

/** Compares kmem's /proc/slabinfo with the real one; `creations`: cache creations the trace shows. */
export function matchSlabinfo(realText: string, kmemText: string, creations: number): SlabMatch {
  const real = parseSlabinfo(realText);
  const kmem = new Map(parseSlabinfo(kmemText).map((l) => [l.name, l]));
  const before = new Set(real.slice(Math.max(0, creations)).map((l) => l.name));
  const bornBefore = real
    .map((l) => l.name)
    .filter((n) => before.has(n))
    .reverse();
  const held: string[] = [];
  const within: string[] = [];
  const wrong: string[] = [];
  for (const c of real) {
    if (c.active === 0 || before.has(c.name)) continue;
    held.push(c.name);
    const k = kmem.get(c.name);
    if (k !== undefined && Math.abs(k.num - c.num) <= 0.05 * c.num) within.push(c.name);
    else wrong.push(`${c.name}: real ${c.num} x ${c.size}, kmem ${k === undefined ? 'none' : `${k.num} x ${k.size}`}`);
  }
  const realNames = new Set(real.map((l) => l.name));
  return {
    held,
    within,
    share: held.length === 0 ? 1 : within.length / held.length,
    bornBefore,
    wrong,
    onlyReal: real.map((l) => l.name).filter((n) => !kmem.has(n)),
    onlyKmem: [...kmem.keys()].filter((n) => !realNames.has(n)),
  };
}

/** (b - a) / a */
export function relDiff(a: number, b: number): number {
  return (b - a) / a;
}

/** tracing/buffer_size_kb (per CPU) as the oracle's trace-stats.txt records it (`### buffer_size_kb: N`). */
export function ringBufferKb(stats: string): number {
  const m = /^### buffer_size_kb: (\d+)$/m.exec(stats);
  if (m === null) throw new Error('no buffer_size_kb in the trace stats');
  return Number(m[1]);
}

/** The ring buffers a 6.x trace shows a CPU getting when it came up: src/trace/ring_buffer.ts. */
export { traceRingBuffers } from '../../src/trace/ring_buffer.js';
