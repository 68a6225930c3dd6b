/**
 * The block device kmem's files live on: every read and write of the page
 * cache is a request to it, counted as the block layer counts them for
 * /proc/diskstats (block/genhd.c diskstats_show), with a cost in virtual
 * time (a fixed latency per request plus the transfer at a rate; the boot
 * option `disk: { size, latencyUs, mbps }` sets them).
 *
 * The device serves one request at a time, in the order submitted (one
 * hardware queue, no I/O scheduler reordering: a read waits behind the
 * writes queued before it). A request submitted at time t starts at
 * max(t, the end of the previous one) and completes `costUs` later.
 * A synchronous request (`submit`: a read miss, O_DIRECT) returns the time
 * its caller waits; an asynchronous one (`submitAsync`: writeback) calls its
 * completion (end_page_writeback) from a timer at its completion time, so
 * pages stay under writeback while the virtual clock has not reached it.
 * The ms fields of /proc/diskstats count each request from submission to
 * completion (queueing included), io_ticks the time the device was busy.
 *
 * Partitions: with swap on the disk (the `swap` boot option) the disk is
 * partitioned as an installer would: vda1 (the file system, from sector
 * 2048) and vda2 (the swap area, after it). Each request is counted on its
 * partition and on the whole disk (part_stat_inc() adds to bdev_whole() too),
 * so vda's line sums its partitions'; a cache flush is counted on the whole
 * disk only (blk_account_io_flush() uses disk->part0). Without swap the file
 * system lives on the whole disk and /proc/diskstats has the one vda line.
 */
import { Timer, type TimerBase } from '../lib/timer.js';

export const SECTOR_SIZE = 512;
/** BIO_MAX_VECS: a bio holds at most 256 pages (1 MiB); the file system's writeback and direct I/O build bios no larger */
export const BIO_MAX_VECS = 256;

/** The `ino` of a request to the swap partition (vda2): its `index` is the swap slot. */
export const SWAP_INO = -1;

export interface BlockRequest {
  op: 'read' | 'write';
  /** the file's inode and page range the request covers (kmem has no block map yet) */
  ino: number;
  index: number;
  pages: number;
}

/** One partition's block_device: its place on the disk and its own disk_stats (no flushes: those go to the whole disk). */
export class Partition {
  reads = 0;
  readSectors = 0;
  readTicksUs = 0;
  writes = 0;
  writeSectors = 0;
  writeTicksUs = 0;
  busyUs = 0;
  inFlight = 0;
  constructor(
    readonly name: string,
    readonly minor: number,
    readonly startSector: number,
    readonly sectors: number,
  ) {}
}

/** The partition number (1-based) a request for `ino` goes to when the disk is partitioned: the swap area's or the file system's. */
const partno = (ino: number) => (ino === SWAP_INO ? 2 : 1);

/** diskstats_show()'s line for one block_device: "%4d %7d %pg" then the 17 counters (discards are always 0: kmem issues none). */
function diskstatsFormat(
  major: number,
  minor: number,
  name: string,
  s: Omit<Partition, 'name' | 'minor' | 'startSector' | 'sectors'>,
  flushes: number,
  flushUs: number,
): string {
  const ms = (us: number) => Math.floor(us / 1000);
  const f = [s.reads, 0, s.readSectors, ms(s.readTicksUs), s.writes, 0, s.writeSectors, ms(s.writeTicksUs), s.inFlight, ms(s.busyUs)];
  f.push(ms(s.readTicksUs + s.writeTicksUs + flushUs), 0, 0, 0, 0, flushes, ms(flushUs));
  return `${String(major).padStart(4)} ${String(minor).padStart(7)} ${name} ${f.join(' ')}`;
}

export class BlockDevice {
  /** the diskstats fields (in order): reads completed, merged, sectors, ms; writes ...; in flight; io ms; weighted ms */
  reads = 0;
  readSectors = 0;
  readTicksUs = 0;
  writes = 0;
  writeSectors = 0;
  writeTicksUs = 0;
  flushes = 0;
  flushTicksUs = 0;
  /** virtual microseconds the device has been busy */
  busyUs = 0;
  /** every request, in order (tests read it; cleared by whoever wants a fresh count) */
  readonly log: BlockRequest[] = [];
  /** the virtual time (ns) at which the last request queued completes */
  busyUntilNs = 0;
  /** asynchronous requests submitted and not yet completed (diskstats' in_flight) */
  inFlight = 0;
  /** the partitions (vda1, vda2...), empty when the file system uses the whole disk */
  readonly partitions: Partition[] = [];
  /** the timers asynchronous completions run on (set by the page cache) */
  timers: TimerBase | null = null;

  constructor(
    readonly name = 'vda',
    /** virtio-blk's major on this machine (dynamic: 254 here) */
    readonly major = 254,
    readonly minor = 0,
    /** per-request latency in microseconds */
    readonly latencyUs = 100,
    /** transfer rate in MB/s */
    readonly mbps = 500,
    /** the disk's size in bytes (the file system on it holds at most this much) */
    readonly sizeBytes = 16 * 2 ** 30,
  ) {}

  /**
   * add_partition(): partition number partitions.length + 1 (minor = the
   * disk's + that number), `bytes` long, starting where the previous one
   * ends (the first at sector 2048, fdisk's 1 MiB alignment).
   */
  addPartition(bytes: number): Partition {
    if (!Number.isSafeInteger(bytes) || bytes < SECTOR_SIZE) throw new RangeError(`bytes: a partition needs at least one sector, got ${bytes}`);
    const prev = this.partitions.at(-1);
    const start = prev === undefined ? 2048 : prev.startSector + prev.sectors;
    const n = this.partitions.length + 1;
    const p = new Partition(`${this.name}${n}`, this.minor + n, start, Math.floor(bytes / SECTOR_SIZE));
    this.partitions.push(p);
    return p;
  }

  /** The partition a request for `ino` is counted on, or null when the disk is not partitioned. */
  partitionOf(ino: number): Partition | null {
    return this.partitions.length === 0 ? null : (this.partitions[partno(ino) - 1] ?? null);
  }

  /** The time a request of `bytes` takes, in microseconds. */
  costUs(bytes: number): number {
    return this.latencyUs + bytes / this.mbps;
  }

  /**
   * Queue I/O of `pages` pages submitted at nowNs, as bios of at most
   * BIO_MAX_VECS pages (a larger run is several requests, each paying the
   * latency): each starts when the device is free and takes costUs. Counts
   * them; returns the completion time of the last, in ns.
   */
  private queue(op: 'read' | 'write', ino: number, index: number, pages: number, nowNs: number): number {
    let done = nowNs;
    const part = this.partitionOf(ino);
    for (let off = 0; off < pages; off += BIO_MAX_VECS) {
      const n = Math.min(BIO_MAX_VECS, pages - off);
      const us = this.costUs(n * 4096);
      done = Math.max(nowNs, this.busyUntilNs) + us * 1000;
      this.busyUntilNs = done;
      const sectors = (n * 4096) / SECTOR_SIZE;
      const waitedUs = (done - nowNs) / 1000;
      if (op === 'read') {
        this.reads++;
        this.readSectors += sectors;
        this.readTicksUs += waitedUs;
        if (part !== null) {
          part.reads++;
          part.readSectors += sectors;
          part.readTicksUs += waitedUs;
        }
      } else {
        this.writes++;
        this.writeSectors += sectors;
        this.writeTicksUs += waitedUs;
        if (part !== null) {
          part.writes++;
          part.writeSectors += sectors;
          part.writeTicksUs += waitedUs;
        }
      }
      this.busyUs += us;
      if (part !== null) part.busyUs += us;
      this.log.push({ op, ino, index: index + off, pages: n });
    }
    return done;
  }

  /**
   * submit_bio_wait(): a synchronous request submitted at nowNs (default:
   * when the device is next free). Returns the microseconds its submitter
   * waits for it: its own cost plus the queue ahead of it.
   */
  submit(op: 'read' | 'write', ino: number, index: number, pages: number, nowNs = this.busyUntilNs): number {
    return (this.queue(op, ino, index, pages, nowNs) - nowNs) / 1000;
  }

  /**
   * submit_bio() of a write whose completion (bio_endio -> end_page_writeback)
   * runs `done` from a timer when the clock reaches it. Returns the completion time (ns).
   */
  submitAsync(op: 'read' | 'write', ino: number, index: number, pages: number, nowNs: number, done: () => void): number {
    const at = this.queue(op, ino, index, pages, nowNs);
    this.inFlight++;
    const part = this.partitionOf(ino);
    if (part !== null) part.inFlight++;
    const t = new Timer('bio_endio', () => {
      this.inFlight--;
      if (part !== null) part.inFlight--;
      done();
    });
    if (this.timers === null) t.fn();
    else this.timers.modTimer(t, at);
    return at;
  }

  /**
   * blkdev_issue_flush() on the file system's device (fsync's and sync's
   * cache flush) submitted at nowNs: it waits for the queue and takes one
   * latency. The empty REQ_PREFLUSH write bio that carries it is counted as
   * a write of 0 sectors on the file system's partition and the whole disk
   * (the flush machinery clears RQF_FLUSH_SEQ before ending it), the flush
   * request itself on the whole disk only (blk_account_io_flush: part0), as
   * a real 6.18 shows (test/fixtures/linux-6.18/diskstats-partitions.txt).
   * Returns the microseconds its submitter waits.
   */
  flush(nowNs = this.busyUntilNs): number {
    const done = Math.max(nowNs, this.busyUntilNs) + this.latencyUs * 1000;
    this.busyUntilNs = done;
    const waitedUs = (done - nowNs) / 1000;
    this.flushes++;
    this.flushTicksUs += waitedUs;
    this.writes++;
    this.writeTicksUs += waitedUs;
    this.busyUs += this.latencyUs;
    const part = this.partitionOf(0);
    if (part !== null) {
      part.writes++;
      part.writeTicksUs += waitedUs;
      part.busyUs += this.latencyUs;
    }
    return waitedUs;
  }

  /**
   * The whole disk's line of /proc/diskstats in 6.18's format: major, minor,
   * name, then reads, reads merged, sectors read, ms reading, writes, writes
   * merged, sectors written, ms writing, I/Os in flight, ms doing I/O,
   * weighted ms, discards (4 fields), flushes, ms flushing. kmem merges no
   * requests (each bio is its own request), so the merged fields stay 0.
   */
  diskstatsLine(): string {
    return diskstatsFormat(this.major, this.minor, this.name, this, this.flushes, this.flushTicksUs);
  }

  /**
   * diskstats_show() for this disk: the whole disk first, then each
   * partition with a non-zero size in partition order, one line each.
   */
  diskstats(): string {
    let out = `${this.diskstatsLine()}\n`;
    for (const p of this.partitions) if (p.sectors > 0) out += `${diskstatsFormat(this.major, p.minor, p.name, p, 0, 0)}\n`;
    return out;
  }
}
