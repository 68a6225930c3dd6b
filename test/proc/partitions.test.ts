/**
 * /proc/partitions (block/genhd.c show_partition_start / show_partition):
 * the header and an empty line, then "%4d  %7d %10llu %pg" for each disk
 * and its partitions, the size in 1 KiB blocks. The text is checked against
 * this machine's real 6.18 (test/fixtures/linux-6.18/partitions.txt: a
 * partitioned loop device and the 256 GiB vda), then kmem's own disk: vda
 * alone, or vda1 (the file system) and vda2 (swap) with the `swap` option.
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, test } from 'vitest';
import { boot } from '../../src/index.js';
import { showPartitions } from '../../src/proc/partitions.js';

const fixture = readFileSync(resolve(dirname(fileURLToPath(import.meta.url)), '../fixtures/linux-6.18/partitions.txt'), 'utf8')
  .split('\n')
  .filter((l) => !l.startsWith('#'))
  .join('\n');

test("the real 6.18's text: a loop disk with two partitions (blkext's major) and vda", () => {
  const loop0 = {
    name: 'loop0',
    major: 7,
    minor: 0,
    sizeBytes: 64 << 20,
    partitions: [
      { name: 'loop0p1', major: 259, minor: 0, startSector: 2048, sectors: 81920 },
      { name: 'loop0p2', major: 259, minor: 1, startSector: 2048 + 81920, sectors: 40960 },
    ],
  };
  const vda = { name: 'vda', major: 254, minor: 0, sizeBytes: 256 * 2 ** 30, partitions: [] };
  expect(showPartitions([loop0, vda])).toBe(fixture);
  // no disk (or none with a capacity): nothing at all, not even the header
  expect(showPartitions([])).toBe('');
  expect(showPartitions([{ ...vda, sizeBytes: 0 }])).toBe('');
});

test("kmem's vda of 256 GiB reads as the real machine's", () => {
  const k = boot({ memory: '64M', cpus: 2, seed: 1, disk: { size: '256G' } });
  k.vm; // the disk is attached with the virtual-memory half
  expect(k.proc.read('/proc/partitions')).toBe('major minor  #blocks  name\n\n 254        0  268435456 vda\n');
});

test('with swap on the disk: vda1 (the file system, from sector 2048) and vda2 (the swap area after it), minors 1 and 2', () => {
  const k = boot({ memory: '64M', cpus: 2, seed: 1, disk: { size: '1G' }, swap: '64M' });
  k.vm;
  // vda1: 1 GiB = 1048576 blocks from sector 2048; vda2: 64 MiB = 65536 blocks from sector 2048 + 2097152;
  // the disk's capacity is where vda2 ends: 2048 + 2097152 + 131072 sectors = 1115136 blocks.
  expect(k.proc.read('/proc/partitions')).toBe(
    'major minor  #blocks  name\n\n' + ' 254        0    1115136 vda\n' + ' 254        1    1048576 vda1\n' + ' 254        2      65536 vda2\n',
  );
  // the same names and numbers as /proc/diskstats
  expect(
    k.proc
      .read('/proc/diskstats')
      .trim()
      .split('\n')
      .map((l) => l.trim().split(/\s+/).slice(0, 3).join(' ')),
  ).toEqual(['254 0 vda', '254 1 vda1', '254 2 vda2']);
});
