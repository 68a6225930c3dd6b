/**
 * SLUB benchmarks: the kmalloc/kfree fast path, the slow paths, bulk and
 * slub_debug, each against the peers measured in the same rounds: an ideal
 * typed-array LIFO freelist, @thi.ng/malloc's MemPool, and `new Uint8Array`.
 *
 * bench/harness.ts: each contender's loop in a module of its own
 * (slub_kmem.ts, slub_ideal.ts, slub_thing.ts, slub_host.ts), rounds
 * interleaved, min and median; every benchmark runs in two processes.
 */
import { MemPool } from '@thi.ng/malloc';
import { boot, GFP_KERNEL } from '../src/index.js';
import { interleaved, table, twice, xorshift32 } from './harness.js';
import { IdealSizeClasses, idealMixed } from './mixed_ideal.js';
import { mixedSize } from './mixed_sizes.js';
import { hostNewUint8Array64 } from './slub_host.js';
import { IdealLifo, idealBulk16, idealMixedFloor, idealPair } from './slub_ideal.js';
import { kmemBulk16, kmemCachePair, kmemKmallocPair, kmemSlow256 } from './slub_kmem.js';
import { kmem70Bulk16, kmem70CachePair, kmem70KmallocPair, kmem70Mixed, kmem70Slow256 } from './slub_kmem70.js';
import { thingMixed, thingPair, thingSlow256 } from './slub_thing.js';

const ROUNDS = { rounds: 21, targetMs: 20 };

/** 1. single object quick reuse; 1b. the same through a cache of its own. */
function pair(): void {
  const k = boot({ memory: '512M', cpus: 2 });
  const pool = new MemPool({ size: 256 * 1024 * 1024 });
  const ideal = new IdealLifo(1 << 20, 64);
  const cache = k.kmemCacheCreate('bench_pair', 64, {});
  const rows = interleaved(
    [
      { name: 'ideal: typed-array LIFO freelist pop+push', run: (n) => idealPair(ideal, n) },
      { name: 'kmem: kmalloc(64) + kfree', run: (n) => kmemKmallocPair(k, n) },
      { name: 'kmem: kmemCacheAlloc + kmemCacheFree (64 B)', run: (n) => kmemCachePair(k, cache, n) },
      { name: '@thi.ng/malloc: MemPool malloc(64) + free', run: (n) => thingPair(pool, n) },
      { name: 'host: new Uint8Array(64)', run: (n) => hostNewUint8Array64(n) },
    ],
    ROUNDS,
  );
  table('kmalloc(64) then kfree, one CPU (the kernel: ~10.5 ns)', rows, rows[0]!, 52);
}

/** 2. 256 allocations then 256 frees in reverse: partial lists and deactivation. */
function slowPaths(): void {
  const k = boot({ memory: '512M', cpus: 2 });
  const pool = new MemPool({ size: 256 * 1024 * 1024 });
  const kp = new Float64Array(256);
  const tp = new Float64Array(256);
  const rows = interleaved(
    [
      { name: '@thi.ng/malloc: 256 x malloc(64), 256 x free reversed', run: (n) => thingSlow256(pool, tp, n) },
      { name: 'kmem: 256 x kmalloc(64), 256 x kfree reversed', run: (n) => kmemSlow256(k, kp, n) },
    ],
    ROUNDS,
  );
  table('256 allocs then 256 frees reversed, per object', rows, rows[0]!, 52);
}

/** 3. bulk: 16 objects per call. */
function bulk(): void {
  const k = boot({ memory: '512M', cpus: 2 });
  const cache = k.kmemCacheCreate('bench_obj', 64, {});
  const ideal = new IdealLifo(1 << 20, 64);
  const ko = new Uint32Array(16);
  const io = new Uint32Array(16);
  const rows = interleaved(
    [
      { name: 'ideal: 16 pops + 16 pushes', run: (n) => idealBulk16(ideal, io, n) },
      { name: 'kmem: kmemCacheAllocBulk(16) + kmemCacheFreeBulk', run: (n) => kmemBulk16(k, cache, ko, n) },
    ],
    ROUNDS,
  );
  table('bulk alloc+free of 16, per object', rows, rows[0]!, 52);
}

/** 4. the same pair with slub_debug: every object takes the debug slow paths (one kernel per setting, the same kmem loop). */
function slubDebug(): void {
  const kernels = ['-', 'FZP', 'FZPU'].map((slubDebug) => ({ slubDebug, k: boot({ memory: '128M', cpus: 2, slubDebug }) }));
  const rows = interleaved(
    kernels.map(({ slubDebug, k }) => ({ name: `kmem: kmalloc(64) + kfree, slub_debug=${slubDebug}`, run: (n: number) => kmemKmallocPair(k, n) })),
    { rounds: 9, targetMs: 20 },
  );
  table('slub_debug on the kmalloc(64) + kfree pair', rows, rows[0]!, 52);
}

/**
 * 5. kernel: '7.0' (sheaves for every cache): the pair, the 256 batch, bulk
 * and the mixed churn against the same peers, in processes of their own (a
 * 6.18 machine in the same process would make the API's call sites
 * polymorphic for both).
 */
function pair70(): void {
  const k = boot({ memory: '512M', cpus: 2, kernel: '7.0' });
  const pool = new MemPool({ size: 256 * 1024 * 1024 });
  const ideal = new IdealLifo(1 << 20, 64);
  const cache = k.kmemCacheCreate('bench_pair', 64, {});
  // Warm the loops before calibrating: a first call's refills and compile
  // can make a calibration round of a few operations take 5 ms, and the
  // harness would then time rounds of a few operations.
  kmem70KmallocPair(k, 1e5);
  kmem70CachePair(k, cache, 1e5);
  const rows = interleaved(
    [
      { name: 'ideal: typed-array LIFO freelist pop+push', run: (n) => idealPair(ideal, n) },
      { name: 'kmem 7.0: kmalloc(64) + kfree', run: (n) => kmem70KmallocPair(k, n) },
      { name: 'kmem 7.0: kmemCacheAlloc + kmemCacheFree (64 B)', run: (n) => kmem70CachePair(k, cache, n) },
      { name: '@thi.ng/malloc: MemPool malloc(64) + free', run: (n) => thingPair(pool, n) },
    ],
    ROUNDS,
  );
  table("kernel: '7.0', kmalloc(64) then kfree, one CPU (goal <= 6x ideal)", rows, rows[0]!, 52);
}

function slowPaths70(): void {
  const k = boot({ memory: '512M', cpus: 2, kernel: '7.0' });
  const pool = new MemPool({ size: 256 * 1024 * 1024 });
  const kp = new Float64Array(256);
  const tp = new Float64Array(256);
  kmem70Slow256(k, kp, 400); // warm (see pair70)
  const rows = interleaved(
    [
      { name: '@thi.ng/malloc: 256 x malloc(64), 256 x free reversed', run: (n) => thingSlow256(pool, tp, n) },
      { name: 'kmem 7.0: 256 x kmalloc(64), 256 x kfree reversed', run: (n) => kmem70Slow256(k, kp, n) },
    ],
    ROUNDS,
  );
  table("kernel: '7.0', 256 allocs then 256 frees reversed, per object (goal <= 0.8x @thi.ng)", rows, rows[0]!, 52);
}

function bulk70(): void {
  const k = boot({ memory: '512M', cpus: 2, kernel: '7.0' });
  const cache = k.kmemCacheCreate('bench_obj', 64, {});
  const ideal = new IdealLifo(1 << 20, 64);
  const ko = new Uint32Array(16);
  const io = new Uint32Array(16);
  kmem70Bulk16(k, cache, ko, 1e4); // warm (see pair70)
  const rows = interleaved(
    [
      { name: 'ideal: 16 pops + 16 pushes', run: (n) => idealBulk16(ideal, io, n) },
      { name: 'kmem 7.0: kmemCacheAllocBulk(16) + kmemCacheFreeBulk', run: (n) => kmem70Bulk16(k, cache, ko, n) },
    ],
    ROUNDS,
  );
  table("kernel: '7.0', bulk alloc+free of 16, per object (goal <= 2x ideal)", rows, rows[0]!, 52);
}

/**
 * The mixed churn at `live` live objects: kmem 7.0, @thi.ng/malloc, the
 * ideal size-class allocator (bench/mixed_ideal.ts: a per-page class lookup
 * and a typed-array stack per class, no checks) and the loop's floor. The
 * ideal row shows what of kmem's growth from 1k to 1M any allocator of this
 * shape pays. At 1M the slots array (8 MB) misses the cache on every step
 * (~120 ns when the steps are serialized); the floor's steps are short and
 * independent, so the CPU keeps about three of those misses in flight
 * (~40 ns a step); an allocator's step is longer and its free waits on the
 * miss, so fewer overlap: on this machine each instruction added to a step
 * of the floor costs ~0.5 ns at 1M against ~0.05 ns at 1k.
 */
function mixed70(live: number): void {
  const rk = xorshift32(12345);
  const bytes = live > 100000 ? 2 ** 31 : 2 ** 30;
  const k = boot({ memory: live > 100000 ? '2G' : '1G', cpus: 2, kernel: '7.0' });
  const km = new Float64Array(live);
  for (let i = 0; i < live; i++) km[i] = k.kmalloc(mixedSize(rk), GFP_KERNEL);
  const rt = xorshift32(12345);
  const pool = new MemPool({ size: 1024 * 1024 * 1024 - 4096 });
  const tm = new Float64Array(live);
  for (let i = 0; i < live; i++) tm[i] = pool.malloc(mixedSize(rt));
  const ri = xorshift32(12345);
  const ia = new IdealSizeClasses(bytes);
  const im = new Float64Array(live);
  for (let i = 0; i < live; i++) im[i] = ia.fresh(ia.classOf[mixedSize(ri)]!);
  kmem70Mixed(k, km, rk, 1e5); // warm (see pair70)
  idealMixed(ia, im, ri, 1e5); // and the ideal's rare fresh-object path gets its feedback (else each use deoptimizes)
  // The loop's own floor, on a copy of the slots (the same size, so the same cache misses).
  const fm = new Float64Array(km);
  const rf = xorshift32(12345);
  const rows = interleaved(
    [
      { name: 'kmem 7.0: free a random one, kmalloc a new one', run: (n) => kmem70Mixed(k, km, rk, n) },
      { name: '@thi.ng/malloc: same', run: (n) => thingMixed(pool, tm, rt, n) },
      { name: 'ideal size classes (page lookup + LIFO, no checks)', run: (n) => idealMixed(ia, im, ri, n) },
      { name: 'floor: the same steps, no allocator', run: (n) => idealMixedFloor(fm, rf, n) },
    ],
    { rounds: 9, targetMs: 30 },
  );
  table(`kernel: '7.0', mixed sizes, ${live} live objects, per step (goal >= 2000x faster than @thi.ng at 10k)`, rows, rows[0]!, 52);
}

export const benches = {
  ...twice('benchPair', pair),
  ...twice('benchSlowPaths', slowPaths),
  ...twice('benchBulk', bulk),
  ...twice('benchSlubDebug', slubDebug),
  ...twice('benchPair70', pair70),
  ...twice('benchSlowPaths70', slowPaths70),
  ...twice('benchBulk70', bulk70),
  ...twice('benchMixed70_1k', () => mixed70(1000)),
  ...twice('benchMixed70_10k', () => mixed70(10000)),
  ...twice('benchMixed70_100k', () => mixed70(100000)),
  ...twice('benchMixed70_1M', () => mixed70(1000000)),
};
