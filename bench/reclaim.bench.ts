/**
 * Reclaim speed (issue 14: pages reclaimed per second by kswapd under a
 * streaming workload; goal >= 1M pages/s). A 1 GiB machine whose page
 * cache is full of the clean file pages of a stream (a file bigger than RAM
 * read by 128 KiB read()s, kswapd keeping the node balanced behind it at
 * the default watermarks). Before each round (untimed) the stream reads on
 * and then vm.watermark_scale_factor goes from 10 to 1000, which raises the
 * high watermark by about a fifth of RAM; the timed part is one
 * wakeup_kswapd(): balance_pgdat() reclaims the inactive file list until
 * the node is balanced again (isolate_lru_folios, shrink_folio_list, the
 * page-cache deletes with their shadow entries, the frees). Per page stolen
 * (pgsteal_kswapd's rise), against the floor of bench/reclaim_ideal.ts
 * (unlink a typed-array list's tail, push a free stack) and, for scale, the
 * stream's read() cost per page (page-cache misses: readahead, copy).
 *
 * bench/harness.ts: each contender's loop in a module of its own, rounds
 * interleaved, min and median; run in two processes. CPU time per round is
 * printed too (process.cpuUsage around the timed call): the machine is
 * shared, so wall time is noisy.
 */
import { boot, MAP_ANONYMOUS, MAP_PRIVATE, O_CREAT, O_RDONLY, O_RDWR, PROT_READ, PROT_WRITE } from '../src/index.js';
import { MAX_NR_ZONES, Z_FREE } from '../src/page_alloc/mmzone.js';
import { smallProgram } from '../src/workloads/elf.js';
import { interleaved, type Result, twice } from './harness.js';
import { IdealLru, idealReclaim } from './reclaim_ideal.js';
import { kmemKswapdReclaim, kmemStreamRead } from './reclaim_kmem.js';

const RAM = '1G';
const FILE_BYTES = 1280 << 20;
const CHUNK = 128 << 10;

function reclaim(): void {
  const k = boot({ memory: RAM, cpus: 2, seed: 1 });
  k.fs.writeFile('/bin/cat', smallProgram(1, 64, 4096));
  const t = k.spawn('/bin/cat', ['cat']);
  const mk = t.open('/stream', O_CREAT | O_RDWR, 0o644);
  if (mk < 0 || t.ftruncate(mk, FILE_BYTES) !== 0) throw new Error('cannot make /stream');
  t.close(mk);
  const buf = t.mmap(0, CHUNK, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (buf < 0) throw new Error(`mmap: error ${-buf}`);
  for (let i = 0; i < CHUNK; i += 4096) t.write8(buf + i, 0);
  const fd = t.open('/stream', O_RDONLY);
  if (fd < 0) throw new Error(`open: error ${-fd}`);
  const wsf = '/proc/sys/vm/watermark_scale_factor';
  // Fill the cache: one whole pass over the file (kswapd keeps the node balanced behind the reader).
  kmemStreamRead(t, fd, buf, CHUNK, FILE_BYTES / 4096);
  const vm = k.vm;
  const zones = k.pageAlloc.zones;
  const freePages = () => {
    let n = 0;
    for (let z = 0; z < MAX_NR_ZONES; z++) n += zones.get(z, Z_FREE);
    return n;
  };
  const ideal = new IdealLru(1 << 18);
  let kswapdPages = 0;
  let kswapdCpuUs = 0;
  let readPages = 0;
  let readCpuUs = 0;
  const rows: Result[] = interleaved(
    [
      {
        name: 'kmem: kswapd, balance_pgdat() over a full cache of clean stream pages',
        before: () => {
          // Read on until the free pages are used up and kswapd has run at the default watermarks.
          kmemStreamRead(t, fd, buf, CHUNK, freePages() + 4096);
          k.proc.write(wsf, '1000');
        },
        run: () => {
          const c0 = process.cpuUsage();
          const n = kmemKswapdReclaim(k);
          const c = process.cpuUsage(c0);
          kswapdPages += n;
          kswapdCpuUs += c.user + c.system;
          if (n === 0) throw new Error('kswapd reclaimed nothing');
          return n;
        },
        after: () => k.proc.write(wsf, '10'),
      },
      { name: 'ideal: typed-array LRU tail to a free stack', before: () => ideal.fill(), run: () => idealReclaim(ideal, ideal.pages) },
      {
        name: 'kmem: the stream read() itself, per page (misses, readahead, kswapd behind)',
        run: () => {
          const c0 = process.cpuUsage();
          const n = kmemStreamRead(t, fd, buf, CHUNK, 16384);
          const c = process.cpuUsage(c0);
          readPages += n;
          readCpuUs += c.user + c.system;
          return n;
        },
      },
    ],
    { rounds: 12, warmup: 2 },
  );
  const stolen = vm.lruEv.pgstealKswapd;
  console.log(`\nreclaim: kswapd on a ${RAM} machine streaming a ${FILE_BYTES >> 20} MiB file (goal >= 1M pages/s); pgsteal_kswapd ${stolen} in all`);
  console.log(`  ${''.padEnd(80)} ${'min'.padStart(10)} ${'median'.padStart(10)} ${'pages/s (min)'.padStart(14)}   median / ideal`);
  for (const r of rows)
    console.log(
      `  ${r.name.padEnd(80)} ${`${r.min.toFixed(1)} ns`.padStart(10)} ${`${r.median.toFixed(1)} ns`.padStart(10)} ${Math.round(1e9 / r.min)
        .toLocaleString('en')
        .padStart(14)}   ${(r.median / rows[1]!.median).toFixed(1).padStart(6)}x`,
    );
  console.log(
    `  CPU time: kswapd ${Math.round((kswapdPages / kswapdCpuUs) * 1e6).toLocaleString('en')} pages/s of CPU (${kswapdPages} pages in ${(kswapdCpuUs / 1000).toFixed(0)} ms); stream read ${Math.round((readPages / readCpuUs) * 1e6).toLocaleString('en')} pages/s of CPU`,
  );
}

export const benches = twice('benchKswapdReclaim', reclaim);
