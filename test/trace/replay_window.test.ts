/**
 * The replay's lookahead window: which kmem_cache_alloc events a later
 * named kmem_cache_free may name depends on the window alone, never on how
 * the reader happened to cut the trace into batches.
 */
import { describe, expect, it } from 'vitest';
import { boot } from '../../src/index.js';
import type { KmemEvent } from '../../src/trace/events.js';
import { parseFtraceLine } from '../../src/trace/ftrace.js';
import { TraceReplayer } from '../../src/trace/replay.js';

const HEAD = '            bash-2103  [000] ....  5021.331102: ';

function events(lines: string[]): KmemEvent[] {
  return lines.map((l, i) => parseFtraceLine(HEAD + l, i + 1)!);
}

/** Replay `evs` with a window of `lookahead`, handing them over `batch` at a time. */
function replay(evs: KmemEvent[], lookahead: number, batch: number) {
  // Fresh event objects each time: the replay writes learned names into them.
  const mine = evs.map((e) => ({ ...e }));
  const r = new TraceReplayer(boot({ memory: '64M', cpus: 1 }), { lookahead });
  for (let i = 0; i < mine.length; i += batch) r.push(mine.slice(i, i + batch));
  r.finish();
  const rep = r.report();
  return { resolved: rep.slab.resolved, caches: rep.caches.map((c) => [c.name, c.allocs]).sort() };
}

// Two unnamed allocations from one call site; the first one's free, which
// names the cache, comes three events later: beyond a window of 2.
const alloc = (ptr: string) => `kmem_cache_alloc: call_site=make_thing+0x1/0x2 ptr=${ptr} bytes_req=200 bytes_alloc=256 gfp_flags=GFP_KERNEL`;
const TRACE = [
  alloc('00000000aaaa0000'),
  alloc('00000000bbbb0000'),
  'kmalloc: call_site=x+0x1/0x2 ptr=00000000cccc0000 bytes_req=8 bytes_alloc=8 gfp_flags=GFP_KERNEL',
  'kmem_cache_free: call_site=y+0x1/0x2 ptr=00000000aaaa0000 name=thing_cache',
  alloc('00000000dddd0000'),
];

describe('replay lookahead window', () => {
  it('names an allocation only while it is in the window, whatever the batch size', () => {
    const results = [1, 2, 3, 5].map((batch) => replay(events(TRACE), 2, batch));
    for (const r of results) expect(r).toEqual(results[0]);
    // The first two allocations left the window unnamed (own cache); the
    // third was made after the free taught make_thing's cache.
    expect(results[0]!.resolved).toEqual({ byName: 0, byLaterFree: 0, learned: 2, knownCallSite: 0, bySlot: 0, ownCache: 1 });
  });

  it('a free inside the window names its allocation, in any batch size', () => {
    const results = [1, 2, 5].map((batch) => replay(events(TRACE), 8, batch));
    for (const r of results) expect(r).toEqual(results[0]);
    expect(results[0]!.resolved).toEqual({ byName: 0, byLaterFree: 1, learned: 2, knownCallSite: 0, bySlot: 0, ownCache: 0 });
    expect(results[0]!.caches).toContainEqual(['thing_cache', 3]);
  });
});
