/**
 * The mixed workload: kmalloc-like sizes (90% 8..255 bytes, a tail to 4 KiB)
 * at a steady live count, each step freeing a random live object and
 * allocating a new one, against @thi.ng/malloc's MemPool and `new Uint8Array`
 * doing the same. One live count per bench function, each run in two
 * processes (bench/harness.ts: loops in modules of their own, rounds
 * interleaved, min and median).
 */
import { MemPool } from '@thi.ng/malloc';
import { boot, GFP_KERNEL } from '../src/index.js';
import { interleaved, table, twice, xorshift32 } from './harness.js';
import { mixedSize } from './mixed_sizes.js';
import { hostMixed } from './slub_host.js';
import { kmemMixed } from './slub_kmem.js';
import { thingMixed } from './slub_thing.js';

function mixed(live: number): void {
  const rk = xorshift32(12345);
  const k = boot({ memory: live > 100000 ? '2G' : '1G', cpus: 2 });
  const km = new Float64Array(live);
  for (let i = 0; i < live; i++) km[i] = k.kmalloc(mixedSize(rk), GFP_KERNEL);
  const rt = xorshift32(12345);
  const pool = new MemPool({ size: 1024 * 1024 * 1024 - 4096 });
  const tm = new Float64Array(live);
  for (let i = 0; i < live; i++) tm[i] = pool.malloc(mixedSize(rt));
  const rh = xorshift32(12345);
  const ua: Uint8Array[] = [];
  for (let i = 0; i < live; i++) ua.push(new Uint8Array(mixedSize(rh)));
  const rows = interleaved(
    [
      { name: 'kmem: free a random one, kmalloc a new one', run: (n) => kmemMixed(k, km, rk, n) },
      { name: '@thi.ng/malloc: same', run: (n) => thingMixed(pool, tm, rt, n) },
      { name: 'host: new Uint8Array, same (GC frees)', run: (n) => hostMixed(ua, rh, n) },
    ],
    { rounds: 9, targetMs: 30 },
  );
  table(`mixed sizes, ${live} live objects, per step`, rows, rows[0]!, 52);
}

export const benches = {
  ...twice('benchMixed1k', () => mixed(1000)),
  ...twice('benchMixed10k', () => mixed(10000)),
  ...twice('benchMixed100k', () => mixed(100000)),
  ...twice('benchMixed1M', () => mixed(1000000)),
};
