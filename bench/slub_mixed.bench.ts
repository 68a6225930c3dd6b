/**
 * The mixed workload: kmalloc-like sizes (90% 8..255 bytes, a tail to 4 KiB)
 * at a steady live count, each step freeing a random live object and
 * allocating a new one, against @thi.ng/malloc's MemPool and `new Uint8Array`
 * doing the same. One live count per bench function, so each runs in a
 * process of its own (bench/run.ts).
 */
import { MemPool } from '@thi.ng/malloc';
import { boot, GFP_KERNEL } from '../src/index.js';
import { ns, print, type Row, xorshift32 } from './report.js';

async function mixed(live: number): Promise<void> {
  const rows: Row[] = [];
  const rnd = xorshift32(12345);
  const size = () => (rnd() < 0.9 ? 8 + Math.floor(rnd() * 248) : 256 + Math.floor(rnd() * 3840));
  const km = new Float64Array(live);
  const kk = boot({ memory: live > 100000 ? '2G' : '1G', cpus: 2 });
  for (let i = 0; i < live; i++) km[i] = kk.kmalloc(size(), GFP_KERNEL);
  rows.push({
    name: `kmem: free a random one, kmalloc a new one`,
    ns: await ns(() => {
      const at = Math.floor(rnd() * live);
      kk.kfree(km[at]!);
      km[at] = kk.kmalloc(size(), GFP_KERNEL);
    }),
  });
  const tp = new MemPool({ size: 1024 * 1024 * 1024 - 4096 });
  const tm = new Float64Array(live);
  for (let i = 0; i < live; i++) tm[i] = tp.malloc(size());
  rows.push({
    name: '@thi.ng/malloc: same',
    ns: await ns(() => {
      const at = Math.floor(rnd() * live);
      tp.free(tm[at]!);
      tm[at] = tp.malloc(size());
    }),
  });
  const ua: Uint8Array[] = [];
  for (let i = 0; i < live; i++) ua.push(new Uint8Array(size()));
  rows.push({
    name: 'new Uint8Array: same (GC frees)',
    ns: await ns(() => {
      ua[Math.floor(rnd() * live)] = new Uint8Array(size());
    }),
  });
  print(`mixed sizes, ${live} live objects`, rows, rows[0]!, 44);
}

export const benches = {
  benchMixed1k: () => mixed(1000),
  benchMixed10k: () => mixed(10000),
  benchMixed100k: () => mixed(100000),
  benchMixed1M: () => mixed(1000000),
};
