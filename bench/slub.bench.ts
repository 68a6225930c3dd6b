/**
 * SLUB benchmarks: the kmalloc/kfree fast path, the slow paths, bulk and
 * slub_debug, each against the peers measured in the same run: an ideal
 * typed-array LIFO freelist, @thi.ng/malloc's MemPool, and `new Uint8Array`.
 */
import { MemPool } from '@thi.ng/malloc';
import { do_not_optimize } from 'mitata';
import { boot, GFP_KERNEL } from '../src/index.js';
import { ns, print, type Row } from './report.js';

/** What every section measures on: a kernel, thi.ng's pool, the ideal freelist. */
function setup() {
  const k = boot({ memory: '512M', cpus: 2 });
  const pool = new MemPool({ size: 256 * 1024 * 1024 });
  // The ideal freelist: a stack of preallocated slot offsets.
  const stack = new Int32Array(1 << 20);
  for (let i = 0; i < stack.length; i++) stack[i] = i * 64;
  return { k, pool, stack };
}

/** 1. single object quick reuse; 1b. the same through a cache of its own. */
async function benchPair(): Promise<void> {
  const { k, pool, stack } = setup();
  let top = stack.length;
  const pair: Row[] = [];
  pair.push({
    name: 'ideal typed-array LIFO freelist pop+push',
    ns: await ns(() => {
      const p = stack[--top]!;
      do_not_optimize(p);
      stack[top++] = p;
    }),
  });
  pair.push({
    name: 'kmem kmalloc(64) + kfree',
    ns: await ns(() => {
      const p = k.kmalloc(64, GFP_KERNEL);
      k.kfree(p);
    }),
  });
  pair.push({
    name: '@thi.ng/malloc MemPool malloc(64) + free',
    ns: await ns(() => {
      const p = pool.malloc(64);
      pool.free(p);
    }),
  });
  pair.push({ name: 'new Uint8Array(64)', ns: await ns(() => do_not_optimize(new Uint8Array(64))) });
  print('kmalloc(64) then kfree, one CPU (the kernel: ~10.5 ns)', pair, pair[0]!, 44);

  // 1b. the same through a cache of its own: kmem_cache_alloc / kmem_cache_free
  const objCache = k.kmemCacheCreate('bench_pair', 64, {});
  const cachePair: Row[] = [
    pair[0]!,
    {
      name: 'kmem kmemCacheAlloc + kmemCacheFree (64 B)',
      ns: await ns(() => {
        const p = k.kmemCacheAlloc(objCache, GFP_KERNEL);
        k.kmemCacheFree(objCache, p);
      }),
    },
  ];
  print('kmem_cache_alloc then kmem_cache_free, one CPU', cachePair, cachePair[0]!, 44);
}

/** 2. 256 allocations then 256 frees in reverse: partial lists and deactivation. */
async function benchSlowPaths(): Promise<void> {
  const { k, pool } = setup();
  const ptrs = new Float64Array(256);
  const slow: Row[] = [];
  slow.push({
    name: 'kmem 256 x kmalloc(64), 256 x kfree reversed',
    ns:
      (await ns(() => {
        for (let i = 0; i < 256; i++) ptrs[i] = k.kmalloc(64, GFP_KERNEL);
        for (let i = 255; i >= 0; i--) k.kfree(ptrs[i]!);
      })) / 256,
  });
  slow.push({
    name: '@thi.ng/malloc same loop',
    ns:
      (await ns(() => {
        for (let i = 0; i < 256; i++) ptrs[i] = pool.malloc(64);
        for (let i = 255; i >= 0; i--) pool.free(ptrs[i]!);
      })) / 256,
  });
  print('256 allocs then 256 frees reversed, per object', slow, slow[1]!, 44);
}

/** 3. bulk: 16 objects per call. */
async function benchBulk(): Promise<void> {
  const { k, stack } = setup();
  let top = stack.length;
  const cache = k.kmemCacheCreate('bench_obj', 64, {});
  const out = new Uint32Array(16);
  const bulk: Row[] = [];
  bulk.push({
    name: 'ideal freelist, 16 pops + 16 pushes per object',
    ns:
      (await ns(() => {
        for (let i = 0; i < 16; i++) out[i] = stack[--top]!;
        for (let i = 15; i >= 0; i--) stack[top++] = out[i]!;
      })) / 16,
  });
  bulk.push({
    name: 'kmem kmemCacheAllocBulk(16) + FreeBulk',
    ns:
      (await ns(() => {
        k.kmemCacheAllocBulk(cache, 16, out);
        k.kmemCacheFreeBulk(cache, out);
      })) / 16,
  });
  print('bulk alloc+free of 16, per object', bulk, bulk[0]!, 44);
}

/** 4. the same pair with slub_debug: every object takes the debug slow paths. */
async function benchSlubDebug(): Promise<void> {
  const dbg: Row[] = [];
  for (const slubDebug of ['-', 'FZP', 'FZPU']) {
    const kd = boot({ memory: '128M', cpus: 2, slubDebug });
    dbg.push({
      name: `kmalloc(64) + kfree, slub_debug=${slubDebug}`,
      ns: await ns(() => {
        const p = kd.kmalloc(64, GFP_KERNEL);
        kd.kfree(p);
      }),
    });
  }
  print('slub_debug on the kmalloc(64) + kfree pair', dbg, dbg[0]!, 44);
}

export const benches = { benchPair, benchSlowPaths, benchBulk, benchSlubDebug };
