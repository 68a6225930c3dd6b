/**
 * The kmem contenders of bench/reclaim.bench.ts, each loop in a function of
 * its own: kswapd woken once to balance the node (it reclaims the clean
 * file pages of a stream), and the streaming read(2)s that fill the cache.
 */
import type { Kernel } from '../src/kernel.js';
import { GFP_HIGHUSER_MOVABLE } from '../src/page_alloc/gfp.js';
import { ZONE_NORMAL } from '../src/page_alloc/mmzone.js';
import type { Task } from '../src/vm/fork.js';
import { wakeupKswapd } from '../src/vm/vmscan.js';

/** wakeup_kswapd() for an order-0 user page: one balance_pgdat() to the high watermark. Returns the pages it stole. */
export function kmemKswapdReclaim(k: Kernel): number {
  const vm = k.vm;
  const before = vm.lruEv.pgstealKswapd;
  wakeupKswapd(vm, 0, GFP_HIGHUSER_MOVABLE, ZONE_NORMAL);
  return vm.lruEv.pgstealKswapd - before;
}

/** `pages` pages more of the stream through read() of `chunk` bytes, back to the start at the end of the file. Returns the pages read. */
export function kmemStreamRead(t: Task, fd: number, buf: number, chunk: number, pages: number): number {
  let read = 0;
  while (read < pages) {
    let got = t.read(fd, buf, chunk);
    if (got === 0) {
      t.lseek(fd, 0, 0);
      got = t.read(fd, buf, chunk);
    }
    if (got < 0) throw new Error(`read: error ${-got}`);
    read += got / 4096;
  }
  return read;
}
