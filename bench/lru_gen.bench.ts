/**
 * Reclaim with the multi-gen LRU against the classic LRU (issue 14): the
 * pagecache workload (`cat` streams a file of 17/16 of RAM twice through
 * 128 KiB read()s while kswapd reclaims behind it) on a 256 MiB machine
 * booted each way, rounds interleaved (classic, lruGen, classic, ...) in
 * one process. The process's CPU time (user + system) for boot + run, and
 * the pages kswapd reclaimed per second of that CPU time (reading
 * included: a lower bound on the reclaim rate); the ratio is lruGen's CPU
 * time over classic's, round by round.
 */
import { boot } from '../src/index.js';
import { pagecacheWorkload } from '../src/workloads/pagecache.js';
import { vmstatItems } from '../src/workloads/pressure.js';

function round(lruGen: boolean): { cpuMs: number; stolen: number } {
  const c0 = process.cpuUsage();
  const k = boot({ memory: '256M', cpus: 2, seed: 1, lruGen });
  const stats = { bytesRead: 0, reads: 0, passesDone: 0 };
  const w = pagecacheWorkload(k, {}, stats);
  w.run(Number.MAX_SAFE_INTEGER);
  const c = process.cpuUsage(c0);
  if (!w.finished) throw new Error('pagecache: not finished');
  return { cpuMs: (c.user + c.system) / 1000, stolen: vmstatItems(k).pgsteal_kswapd ?? 0 };
}

export function benchLruGenPagecache(): void {
  console.log('\npagecache workload, 256 MiB machine, classic LRU vs multi-gen LRU (lruGen: true), interleaved rounds');
  for (let i = 0; i < 3; i++) {
    const a = round(false);
    const b = round(true);
    const rate = (r: { cpuMs: number; stolen: number }) => Math.round(r.stolen / (r.cpuMs / 1000));
    console.log(
      `  round ${i + 1}: classic ${(a.cpuMs / 1000).toFixed(2)} s CPU, ${a.stolen} stolen (${rate(a)} pages/CPU s); lruGen ${(b.cpuMs / 1000).toFixed(2)} s CPU, ${b.stolen} stolen (${rate(b)} pages/CPU s); lruGen/classic ${(b.cpuMs / a.cpuMs).toFixed(2)}`,
    );
  }
}
