/**
 * The kmem contender of bench/filemap.bench.ts, its loop in a function of
 * its own: read(2) of 4 KiB at a time from a file in the page cache into a
 * user buffer, back to the start at the end of the file.
 */
import type { Task } from '../src/vm/fork.js';

const SEEK_SET = 0;

/** n reads of 4 KiB through Task.read (each a page-cache hit); returns the bytes read. */
export function kmemCachedRead(t: Task, fd: number, buf: number, n: number): number {
  let bytes = 0;
  for (let i = 0; i < n; i++) {
    let got = t.read(fd, buf, 4096);
    if (got === 0) {
      t.lseek(fd, 0, SEEK_SET);
      got = t.read(fd, buf, 4096);
    }
    if (got < 0) throw new Error(`read: error ${-got}`);
    bytes += got;
  }
  return bytes;
}
