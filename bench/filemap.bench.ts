/**
 * Cached file read (issue 14): 4 KiB read(2)s of a file already in kmem's
 * page cache, through Task.read into a user buffer, in bytes per second,
 * against node reading the same bytes from the host's memory (a file on
 * tmpfs: /dev/shm, else the temporary directory): fs.readFileSync of the
 * whole file, and 4 KiB fs.readSync calls. Goal: >= 1 GB/s.
 *
 * bench/harness.ts: each contender's loop in a module of its own
 * (filemap_kmem.ts, filemap_host.ts), rounds interleaved, min and median
 * (here as bytes/s: the best round and the median round); run in two
 * processes.
 */
import { closeSync, existsSync, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { boot, MAP_ANONYMOUS, MAP_PRIVATE, O_RDONLY, PROT_READ, PROT_WRITE } from '../src/index.js';
import { smallProgram } from '../src/workloads/elf.js';
import { hostReadFileSync, hostReadSync4k } from './filemap_host.js';
import { kmemCachedRead } from './filemap_kmem.js';
import { interleaved, type Result, twice } from './harness.js';

const FILE_BYTES = 16 << 20;

/** Bytes per second from ns per byte, in GB/s (10^9). */
const gbps = (nsPerByte: number) => `${(1 / nsPerByte).toFixed(2)} GB/s`;

function cachedRead(): void {
  const data = new Uint8Array(FILE_BYTES);
  for (let i = 0; i < data.length; i++) data[i] = (i * 2654435761) >>> 24;

  const k = boot({ memory: '256M', cpus: 2, seed: 1 });
  k.fs.writeFile('/bin/bench', smallProgram(1, 64, 4096));
  k.fs.writeFile('/data', data);
  const t = k.spawn('/bin/bench', ['bench']);
  const buf = t.mmap(0, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (buf < 0) throw new Error(`mmap: error ${-buf}`);
  t.write8(buf, 0);
  const fd = t.open('/data', O_RDONLY);
  if (fd < 0) throw new Error(`open: error ${-fd}`);
  const cached0 = Number(/^Cached:\s+(\d+)/m.exec(k.proc.read('/proc/meminfo'))![1]);
  kmemCachedRead(t, fd, buf, FILE_BYTES / 4096); // the first pass reads the file into the page cache
  const cached1 = Number(/^Cached:\s+(\d+)/m.exec(k.proc.read('/proc/meminfo'))![1]);
  // the bytes arrive: the last page read is the file's last page
  for (let i = 0; i < 4096; i += 509) if (t.read8(buf + i) !== data[FILE_BYTES - 4096 + i]) throw new Error(`byte ${i} of the last page differs`);

  const dir = existsSync('/dev/shm') ? mkdtempSync('/dev/shm/kmem-bench-') : mkdtempSync(join(tmpdir(), 'kmem-bench-'));
  const path = join(dir, 'data');
  writeFileSync(path, data);
  const hfd = openSync(path, 'r');
  const hbuf = Buffer.alloc(4096);
  try {
    const rows: Result[] = interleaved(
      [
        { name: 'kmem: Task.read of 4 KiB, page-cache hit, into a user buffer', run: (n) => kmemCachedRead(t, fd, buf, n) },
        {
          name: `host: fs.readFileSync of the ${FILE_BYTES >> 20} MiB file on ${dir.startsWith('/dev/shm') ? '/dev/shm' : 'the tmp dir'}`,
          run: (n) => hostReadFileSync(path, Math.max(1, Math.round(n / 4096))),
        },
        { name: 'host: fs.readSync of 4 KiB (pread) from the same file', run: (n) => hostReadSync4k(hfd, hbuf, FILE_BYTES, n) },
      ],
      { rounds: 15, targetMs: 40 },
    );
    console.log(
      `\ncached file read: a ${FILE_BYTES >> 20} MiB file, bytes per second (goal >= 1 GB/s); Cached: ${cached0} kB before the first pass, ${cached1} kB after`,
    );
    console.log(`  ${''.padEnd(72)} ${'best'.padStart(12)} ${'median'.padStart(12)}   speed / host readFileSync`);
    for (const r of rows)
      console.log(
        `  ${r.name.padEnd(72)} ${gbps(r.min).padStart(12)} ${gbps(r.median).padStart(12)}   ${(rows[1]!.median / r.median).toFixed(2).padStart(6)}x`,
      );
    console.log(`  per 4 KiB read: kmem ${(rows[0]!.median * 4096).toFixed(0)} ns, host readSync ${(rows[2]!.median * 4096).toFixed(0)} ns (medians)`);
  } finally {
    closeSync(hfd);
    rmSync(dir, { recursive: true, force: true });
  }
}

export const benches = twice('benchCachedRead', cachedRead);
