/**
 * The JavaScript host's own allocation as the SLUB benchmarks' peer, each
 * loop in a function of its own: `new Uint8Array`, freed by the GC.
 */
import { sink } from './harness.js';
import { mixedSize } from './mixed_sizes.js';

/** The last 1024 arrays made, kept so no allocation is dead code. */
const ring: Uint8Array[] = new Array(1024);

/** new Uint8Array(64), n times. */
export function hostNewUint8Array64(n: number): number {
  for (let i = 0; i < n; i++) ring[i & 1023] = new Uint8Array(64);
  sink(ring[0]?.length ?? 0);
  return n;
}

/** n steps of the mixed workload: replace a random live array with a new one. */
export function hostMixed(live: Uint8Array[], rnd: () => number, n: number): number {
  const count = live.length;
  for (let i = 0; i < n; i++) live[Math.floor(rnd() * count)] = new Uint8Array(mixedSize(rnd));
  return n;
}
