/**
 * The block device kmem's files live on: every read and write of the page
 * cache is a request to it, counted as the block layer counts them for
 * /proc/diskstats (block/genhd.c diskstats_show), with a cost in virtual
 * time (a fixed latency per request plus the transfer at a rate). Requests
 * complete at once in kmem (the caller is charged their time).
 */

export const SECTOR_SIZE = 512;

/** The `ino` of a request to the swap partition (vda2): its `index` is the swap slot. */
export const SWAP_INO = -1;

export interface BlockRequest {
  op: 'read' | 'write';
  /** the file's inode and page range the request covers (kmem has no block map yet) */
  ino: number;
  index: number;
  pages: number;
}

export class BlockDevice {
  /** the diskstats fields (in order): reads completed, merged, sectors, ms; writes ...; in flight; io ms; weighted ms */
  reads = 0;
  readMerges = 0;
  readSectors = 0;
  readTicksUs = 0;
  writes = 0;
  writeMerges = 0;
  writeSectors = 0;
  writeTicksUs = 0;
  flushes = 0;
  flushTicksUs = 0;
  /** virtual microseconds the device has been busy */
  busyUs = 0;
  /** every request, in order (tests read it; cleared by whoever wants a fresh count) */
  readonly log: BlockRequest[] = [];

  constructor(
    readonly name = 'vda',
    /** virtio-blk's major on this machine (dynamic: 254 here) */
    readonly major = 254,
    readonly minor = 0,
    /** per-request latency in microseconds */
    readonly latencyUs = 100,
    /** transfer rate in MB/s */
    readonly mbps = 500,
  ) {}

  /** The time a request of `bytes` takes, in microseconds. */
  costUs(bytes: number): number {
    return this.latencyUs + bytes / this.mbps;
  }

  /** submit_bio() + completion: count the request; its cost in microseconds. */
  submit(op: 'read' | 'write', ino: number, index: number, pages: number): number {
    const us = this.costUs(pages * 4096);
    const sectors = (pages * 4096) / SECTOR_SIZE;
    if (op === 'read') {
      this.reads++;
      this.readSectors += sectors;
      this.readTicksUs += us;
    } else {
      this.writes++;
      this.writeSectors += sectors;
      this.writeTicksUs += us;
    }
    this.busyUs += us;
    this.log.push({ op, ino, index, pages });
    return us;
  }

  /** A REQ_OP_FLUSH (fsync's cache flush). */
  flush(): void {
    this.flushes++;
    this.flushTicksUs += this.latencyUs;
    this.busyUs += this.latencyUs;
  }

  /**
   * This device's line of /proc/diskstats in 6.18's format: major, minor,
   * name, then reads, reads merged, sectors read, ms reading, writes, writes
   * merged, sectors written, ms writing, I/Os in flight, ms doing I/O,
   * weighted ms, discards (4 fields), flushes, ms flushing.
   */
  diskstatsLine(): string {
    const ms = (us: number) => Math.floor(us / 1000);
    const f = [
      this.reads,
      this.readMerges,
      this.readSectors,
      ms(this.readTicksUs),
      this.writes,
      this.writeMerges,
      this.writeSectors,
      ms(this.writeTicksUs),
      0,
      ms(this.busyUs),
      ms(this.readTicksUs + this.writeTicksUs + this.flushTicksUs),
      0,
      0,
      0,
      0,
      this.flushes,
      ms(this.flushTicksUs),
    ];
    return `${String(this.major).padStart(4)} ${String(this.minor).padStart(7)} ${this.name} ${f.join(' ')}`;
  }
}
