/**
 * The built-in "pagecache" workload: `cat` streams a file bigger than RAM,
 * twice, through read(2) into a 128 KiB user buffer, the way
 * `cat big.iso > /dev/null` drives the page cache.
 *
 * The file (17/16 of RAM by default, at /var/tmp/stream.img) is laid out on
 * the disk (16 MiB a step) before the first read, as an image written earlier would be:
 * every 4 KiB block starts with its block number and a tag, the rest
 * zeros; it is made with ftruncate(), so the host's buffer behind it is
 * zero-filled memory the host touches once per block. Each step is one
 * read(): the page cache misses, readahead (sync, then async at the
 * PG_readahead marker) brings the file in by windows of up to ra_pages;
 * once no zone is above its low watermark kswapd reclaims the inactive
 * file list behind the reader (pgscan_kswapd, pgsteal_kswapd), so Cached
 * stays below RAM. The second pass finds the file's first blocks long
 * evicted: their shadow entries make the misses refaults
 * (workingset_refault_file). Every byte read is compared with the disk's.
 * At the end cat exits and the shell waits for it; the workload is then
 * finished.
 */

import { O_CREAT, O_RDONLY, O_RDWR } from '../fs/fcntl.js';
import type { Kernel } from '../kernel.js';
import type { Task } from '../vm/fork.js';
import { MAP_ANONYMOUS, MAP_PRIVATE, PROT_READ, PROT_WRITE } from '../vm/mman.js';
import { smallProgram } from './elf.js';
import { endSession, forkExec, loginShell, PAGE } from './pressure.js';
import { generatorWorkload, type Workload, type WorkloadSteps } from './workload.js';

export const CAT_PATH = '/usr/bin/cat';
export const STREAM_PATH = '/var/tmp/stream.img';
/** The tag in word 1 of every block of the file ('kmem'). */
export const STREAM_TAG = 0x6d656d6b;

export interface PagecacheOptions {
  /** the file's size in bytes, a multiple of 4096 (default: 17/16 of RAM, rounded up to 1 MiB) */
  fileBytes?: number;
  /** bytes per read() (default 128 KiB) */
  readBytes?: number;
  /** how many times the file is read from start to end (default 2) */
  passes?: number;
}

/** What the workload did, for tests and summaries. */
export interface PagecacheStats {
  bytesRead: number;
  reads: number;
  passesDone: number;
}

function checkOpt(name: string, v: number | undefined, min: number): void {
  if (v !== undefined && (!Number.isSafeInteger(v) || v < min)) throw new RangeError(`${name}: expected a whole number >= ${min}, got ${v}`);
}

/** Blocks of the file laid out on the disk per step (16 MiB: a step stays short on a big machine). */
export const LAYOUT_BLOCKS = 4096;

/**
 * Lay the file out on the disk: ftruncate() to size, then each block's
 * number and the tag, LAYOUT_BLOCKS blocks a step (the last step ends it).
 */
export function* makeStreamFile(k: Kernel, t: Task, path: string, bytes: number): WorkloadSteps {
  k.fs.mkdirs(path.slice(0, path.lastIndexOf('/')) || '/');
  const fd = t.open(path, O_CREAT | O_RDWR, 0o644);
  if (fd < 0) throw new Error(`${path}: open returned ${fd}`);
  const r = t.ftruncate(fd, bytes);
  if (r !== 0) throw new Error(`${path}: ftruncate returned ${r}`);
  t.close(fd);
  const data = k.fs.lookup(path)!.data;
  const w = new Uint32Array(data.buffer, data.byteOffset, bytes / 4);
  const blocks = bytes / PAGE;
  for (let from = 0; from < blocks; from += LAYOUT_BLOCKS) {
    for (let b = from; b < Math.min(blocks, from + LAYOUT_BLOCKS); b++) {
      w[b * 1024] = b;
      w[b * 1024 + 1] = STREAM_TAG;
    }
    yield;
  }
}

/**
 * Compare n bytes of the task's memory at va with disk[pos, pos + n), page
 * by page in physical memory (nothing allocated); the offset of the first
 * difference, or -1.
 */
function firstDifference(t: Task, ram: Buffer, va: number, disk: Buffer, pos: number, n: number): number {
  for (let done = 0; done < n; ) {
    const a = va + done;
    const len = Math.min(n - done, PAGE - (a % PAGE));
    const pa = t.translate(a, false);
    if (ram.compare(disk, pos + done, pos + done + len, pa, pa + len) !== 0) {
      for (let i = 0; i < len; i++) if (ram[pa + i] !== disk[pos + done + i]) return done + i;
    }
    done += len;
  }
  return -1;
}

export function* pagecacheSteps(k: Kernel, o: PagecacheOptions = {}, stats: PagecacheStats = { bytesRead: 0, reads: 0, passesDone: 0 }): WorkloadSteps {
  checkOpt('fileBytes', o.fileBytes, PAGE);
  checkOpt('readBytes', o.readBytes, 1);
  checkOpt('passes', o.passes, 1);
  if (o.fileBytes !== undefined && o.fileBytes % PAGE !== 0) throw new RangeError(`fileBytes: expected a multiple of 4096, got ${o.fileBytes}`);
  const size = o.fileBytes ?? Math.ceil((k.inspect.memory * 17) / 16 / (1 << 20)) * (1 << 20);
  const chunk = o.readBytes ?? 128 << 10;
  const passes = o.passes ?? 2;
  if (k.fs.readFile(CAT_PATH) === undefined) k.fs.writeFile(CAT_PATH, smallProgram(4, 1500, 3 * PAGE, 0x63));
  const shell = loginShell(k);
  yield;
  const cat = forkExec(shell, CAT_PATH, ['cat', STREAM_PATH]);
  if (k.fs.lookup(STREAM_PATH) === undefined) yield* makeStreamFile(k, cat, STREAM_PATH, size);
  const disk = k.fs.lookup(STREAM_PATH)!.data;
  const diskBytes = Buffer.from(disk.buffer, disk.byteOffset, disk.length);
  const ram = Buffer.from(k.phys.u8.buffer, k.phys.u8.byteOffset, k.phys.u8.length);
  const buf = cat.mmap(0, Math.ceil(chunk / PAGE) * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (buf < 0) throw new Error(`cat: mmap of its buffer returned ${buf}`);
  yield;
  for (let pass = 0; pass < passes; pass++) {
    const fd = cat.open(STREAM_PATH, O_RDONLY);
    if (fd < 0) throw new Error(`cat: open ${STREAM_PATH} returned ${fd}`);
    let pos = 0;
    for (;;) {
      const n = cat.read(fd, buf, chunk);
      if (n < 0) throw new Error(`cat: read returned ${n} at ${pos}`);
      if (n === 0) break;
      // Every byte against the disk's: nothing writes the file, so the disk is the truth.
      const bad = firstDifference(cat, ram, buf, diskBytes, pos, n);
      if (bad >= 0)
        throw new Error(`cat: ${STREAM_PATH} byte ${pos + bad} read as ${ram[cat.translate(buf + bad, false)]}, the disk has ${diskBytes[pos + bad]}`);
      pos += n;
      stats.bytesRead += n;
      stats.reads++;
      k.tick(10_000);
      yield;
    }
    cat.close(fd);
    stats.passesDone++;
  }
  cat.exit(0);
  endSession(shell);
}

export function pagecacheWorkload(k: Kernel, o?: PagecacheOptions, stats?: PagecacheStats): Workload {
  return generatorWorkload('pagecache', pagecacheSteps(k, o, stats));
}
