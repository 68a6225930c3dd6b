/**
 * Replay of a real Linux 6.1 trace (an excerpt of the oracle's capture in
 * test/fixtures/trace/): what the trace itself says is checked against what
 * the replay made of it. Every expected figure is computed here from the
 * trace text, never taken from kmem's output.
 *
 * 6.1's kmem_cache_alloc prints no name=; its kmem_cache_free does. A file
 * is read twice, so an allocation takes the name its free prints however far
 * later the free comes (the one-pass window of 1024 events misses the far
 * ones); an allocation whose cache nothing in the trace names is reported as
 * unknown; every event's bytes_alloc (6.1: the slot size) is checked against
 * the cache it is replayed into; --cpus comes from the header's #P:N; a
 * header whose entries-in-buffer is below entries-written warns.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { lostShare, replayTraceFile } from '../../src/trace/replay.js';

const EXCERPT = join(__dirname, '../fixtures/trace/linux-6.1-qemu-2cpu-excerpt.txt');
const text = readFileSync(EXCERPT, 'utf8');
const tmp = mkdtempSync(join(tmpdir(), 'kmem-real61-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

interface Line {
  event: string;
  ptr: string;
  site: string;
  bytesAlloc: number;
  name: string | null;
}

/** The trace's events, read with a regex (independent of kmem's parser). */
function events(t: string): Line[] {
  const out: Line[] = [];
  for (const l of t.split('\n')) {
    const m = /^\s*\S.*?\[\d+\] \S+\s+[\d.]+: (\w+): (.*)$/.exec(l);
    if (m === null) continue;
    const f = m[2]!;
    out.push({
      event: m[1]!,
      ptr: /ptr=(\S+)/.exec(f)?.[1] ?? '',
      site: /call_site=(\S+)/.exec(f)?.[1] ?? '',
      bytesAlloc: Number(/bytes_alloc=(\d+)/.exec(f)?.[1] ?? -1),
      name: /name=(\S+)/.exec(f)?.[1] ?? null,
    });
  }
  return out;
}

/**
 * For each kmem_cache_alloc (by position), the name= of the next
 * kmem_cache_free of its pointer, and how many events later that free
 * comes; the allocation is forgotten when its pointer is allocated again.
 */
function namesByFree(evs: Line[]): Map<number, { name: string; distance: number }> {
  const pending = new Map<string, number>();
  const out = new Map<number, { name: string; distance: number }>();
  evs.forEach((e, i) => {
    if (e.event === 'kmem_cache_alloc') pending.set(e.ptr, i);
    else if (e.event === 'kmem_cache_free' || e.event === 'kfree') {
      const at = pending.get(e.ptr);
      pending.delete(e.ptr);
      if (at !== undefined && e.event === 'kmem_cache_free' && e.name !== null) out.set(at, { name: e.name, distance: i - at });
    }
  });
  return out;
}

describe('replay of a real 6.1 trace excerpt', { timeout: 120_000 }, () => {
  const evs = events(text);
  const named = namesByFree(evs);
  const allocs = evs.filter((e) => e.event === 'kmem_cache_alloc');

  it('the excerpt is what its header says: 6.1 format, 2000 events, some named by a free more than 1024 events later', () => {
    expect(evs.length).toBe(2000);
    expect(allocs.length).toBeGreaterThan(500);
    expect(allocs.every((e) => e.name === null)).toBe(true);
    expect([...named.values()].filter((n) => n.distance > 1024).length).toBeGreaterThan(10);
  });

  it('names learned over the whole file: every allocation whose free names it, however far later', async () => {
    const r = await replayTraceFile(EXCERPT, { boot: { memory: '256M' } });
    const rep = r.replayer.report();
    expect(rep.slab.resolved.byLaterFree).toBe(named.size);
    // each name the frees print is a cache that holds at least the allocations it names
    const want = new Map<string, number>();
    for (const { name } of named.values()) want.set(name, (want.get(name) ?? 0) + 1);
    for (const [name, n] of want) {
      const c = rep.caches.find((x) => x.name === name);
      expect(c, name).toBeDefined();
      expect(c!.allocs, name).toBeGreaterThanOrEqual(n);
      expect(c!.unknown, name).toBe(false);
    }
    // the one-pass window of 1024 events misses those named further away
    const one = await replayTraceFile(EXCERPT, { boot: { memory: '256M' }, twoPass: false, lookahead: 1024 });
    const far = [...named.values()].filter((n) => n.distance > 1024).length;
    expect(one.replayer.report().slab.resolved.byLaterFree).toBe(named.size - far);
  });

  it('an allocation no event names is in a cache reported as unknown, never silently in a made-up one', async () => {
    // on 6.18's geometry: no table of the traced machine's caches to find one by its slot
    const r = await replayTraceFile(EXCERPT, { boot: { memory: '256M', kernel: '6.18' } });
    const rep = r.replayer.report();
    // call sites + bytes_alloc that a named free covers somewhere in the file
    const covered = new Set<string>();
    for (const [at] of named) covered.add(`${evs[at]!.site.replace(/\+.*/, '')}-${evs[at]!.bytesAlloc}`);
    const unknown = rep.caches.filter((c) => c.unknown);
    expect(unknown.length).toBeGreaterThan(0);
    for (const c of unknown) {
      expect(covered.has(c.name), c.name).toBe(false);
      // named after an allocating call site of the trace and its bytes_alloc
      expect(
        allocs.some((e) => `${e.site.replace(/\+.*/, '')}-${e.bytesAlloc}` === c.name),
        c.name,
      ).toBe(true);
    }
    // every made-up `<function>-<bytes>` row is marked
    for (const c of rep.caches) if (/-\d+$/.test(c.name) && !/^kmalloc/.test(c.name)) expect(c.unknown, c.name).toBe(true);
  });

  it("every event's bytes_alloc is checked against the slot of the cache it is replayed into", async () => {
    const r = await replayTraceFile(EXCERPT, { boot: { memory: '256M' } });
    const rep = r.replayer.report();
    let total = 0;
    let checked = 0;
    for (const c of rep.caches) {
      if (c.slabSize === null) continue;
      // the traced bytes_alloc of this cache's allocations, from the trace text
      const mine = new Set<number>();
      for (const [at, n] of named) if (n.name === c.name) mine.add(evs[at]!.bytesAlloc);
      if (mine.size === 1) {
        expect(c.sizeMismatches, c.name).toBe(mine.has(c.slabSize) ? 0 : c.allocs);
        checked++;
      }
      total += c.sizeMismatches;
    }
    expect(checked).toBeGreaterThan(5);
    expect(rep.slab.sizeMismatches).toBe(total);
  });

  it('--cpus from the header #P:2, not from the CPUs the events happen to use', async () => {
    const r = await replayTraceFile(EXCERPT, { boot: { memory: '256M' } });
    expect(r.cpusFromTrace).toBe(true);
    expect(r.kernel.cpus).toBe(2);
    expect(r.header).toEqual({ cpus: 2, entriesInBuffer: 459273, entriesWritten: 459273 });
    // only CPU 0's events, under a header that says the machine had 4
    const only0 = text
      .split('\n')
      .filter((l) => !/\[001\]/.test(l))
      .join('\n')
      .replace('#P:2', '#P:4');
    const f = join(tmp, 'p4.txt');
    writeFileSync(f, only0);
    const r4 = await replayTraceFile(f, { boot: { memory: '256M' } });
    expect(r4.kernel.cpus).toBe(4);
    expect(lostShare(r4.header)).toBe(0);
  });

  it('a header that says events were lost: the share lost', async () => {
    const f = join(tmp, 'lost.txt');
    writeFileSync(f, text.replace('459273/459273', '344455/459273'));
    const r = await replayTraceFile(f, { boot: { memory: '256M' } });
    expect(lostShare(r.header)).toBeCloseTo((459273 - 344455) / 459273, 6);
  });
});
