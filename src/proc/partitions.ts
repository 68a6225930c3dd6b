/**
 * /proc/partitions (block/genhd.c show_partition_start / show_partition):
 * the header "major minor  #blocks  name" and an empty line, printed once
 * when there is a first disk, then for each disk with a capacity its whole
 * device (partition 0) and each partition with sectors, in partition order:
 * "%4d  %7d %10llu %pg", the size in 1 KiB blocks (sectors >> 1).
 */

/** What the listing reads of one partition (a block_device). */
export interface PartitionView {
  readonly name: string;
  /** the partition's major when not the disk's (a loop device's partitions are blkext's, 259) */
  readonly major?: number;
  readonly minor: number;
  /** the first sector and the length in 512-byte sectors */
  readonly startSector: number;
  readonly sectors: number;
}

/** What the listing reads of one disk (a gendisk). */
export interface GendiskView {
  readonly name: string;
  readonly major: number;
  readonly minor: number;
  readonly sizeBytes: number;
  readonly partitions: readonly PartitionView[];
}

/**
 * get_capacity() in sectors: the disk's size, and never less than where its
 * last partition ends (kmem lays vda1 over the disk's whole size and the
 * swap partition after it).
 */
export function diskCapacitySectors(d: GendiskView): number {
  let end = Math.floor(d.sizeBytes / 512);
  for (const p of d.partitions) end = Math.max(end, p.startSector + p.sectors);
  return end;
}

function line(major: number, minor: number, sectors: number, name: string): string {
  return `${String(major).padStart(4)}  ${String(minor).padStart(7)} ${String(Math.floor(sectors / 2)).padStart(10)} ${name}\n`;
}

/** The text of /proc/partitions for these disks. */
export function showPartitions(disks: readonly GendiskView[]): string {
  let out = '';
  for (const d of disks) {
    const capacity = diskCapacitySectors(d);
    if (capacity === 0) continue;
    if (out === '') out = 'major minor  #blocks  name\n\n';
    out += line(d.major, d.minor, capacity, d.name);
    for (const p of d.partitions) if (p.sectors > 0) out += line(p.major ?? d.major, p.minor, p.sectors, p.name);
  }
  return out;
}
