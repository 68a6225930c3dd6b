/**
 * The host's peers of bench/filemap.bench.ts, each loop in a function of
 * its own: node reading the same bytes from a file in the host's memory
 * (tmpfs), whole with fs.readFileSync, or 4 KiB at a time with fs.readSync
 * into one Buffer.
 */
import { readFileSync, readSync } from 'node:fs';
import { sink } from './harness.js';

/** fs.readFileSync of the whole file, n times; returns the bytes read. */
export function hostReadFileSync(path: string, n: number): number {
  let bytes = 0;
  for (let i = 0; i < n; i++) {
    const b = readFileSync(path);
    bytes += b.length;
    sink(b[0]!);
  }
  return bytes;
}

/** n reads of 4 KiB at rolling offsets with fs.readSync (pread) into one buffer; returns the bytes read. */
export function hostReadSync4k(fd: number, buf: Buffer, size: number, n: number): number {
  let bytes = 0;
  let off = 0;
  for (let i = 0; i < n; i++) {
    bytes += readSync(fd, buf, 0, 4096, off);
    off += 4096;
    if (off >= size) off = 0;
  }
  return bytes;
}
