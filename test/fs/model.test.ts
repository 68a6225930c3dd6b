/**
 * Random file operations against a model: after every step each byte a
 * task reads is the model's, the radix_tree_node objects alive are the
 * xarrays' nodes, and NR_FILE_PAGES / NR_FILE_DIRTY recount from the pages.
 */
import { expect, test } from 'vitest';

const same = (a: Uint8Array, b: Uint8Array) => a.length === b.length && Buffer.compare(a, b) === 0;

import { O_CREAT, O_RDWR, O_TRUNC, POSIX_FADV_DONTNEED, SEEK_SET } from '../../src/fs/fcntl.js';
import { PG } from '../../src/memory/page.js';
import { pageCache } from '../../src/vm/filemap.js';
import { MAP_ANONYMOUS, MAP_PRIVATE, PROT_READ, PROT_WRITE } from '../../src/vm/mman.js';
import { bootWithProgram } from '../vm/helpers.js';

function rng(seed: number) {
  let s = seed >>> 0;
  return (n: number) => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return Math.floor((s / 2 ** 32) * n);
  };
}

test('random write / pwrite / pread / ftruncate / fsync / fadvise / drop / reopen keep every byte and count', () => {
  const k = bootWithProgram('64M');
  const t = k.spawn('/bin/tiny');
  const BUF = 1 << 20;
  const buf = t.mmap(0, 2 * BUF, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  const pc = pageCache(k.vm);
  const r = rng(12345);
  const paths = ['/bin/ma', '/bin/mb', '/bin/mc'];
  const model = new Map<string, Uint8Array>();
  const fds = new Map<string, number>();
  // Every mapping's nodes (the program's file has some too).
  const allNodes = () => [...pc.spaces.values()].reduce((n, as) => n + as.xa.nodes, 0);
  const nodeBase = k.inspect.liveObjects(pc.radixCache) - allNodes();
  const pagesBase = k.vm.nrFilePages;
  let pagesOther = pagesBase;
  for (const p of paths) {
    const fd = t.open(p, O_RDWR | O_CREAT);
    expect(fd).toBeGreaterThanOrEqual(0);
    fds.set(p, fd);
    model.set(p, new Uint8Array(0));
  }
  const MAX = 600_000;
  for (let step = 0; step < 2000; step++) {
    const p = paths[r(paths.length)]!;
    const fd = fds.get(p)!;
    let m = model.get(p)!;
    const op = r(10);
    if (op <= 2) {
      // pwrite at a random offset (holes included)
      const off = r(MAX);
      const n = 1 + r(20000);
      const data = Uint8Array.from({ length: n }, () => r(256));
      t.writeBytes(buf, data);
      expect(t.pwrite(fd, buf, n, off)).toBe(n);
      if (off + n > m.length) {
        const g = new Uint8Array(off + n);
        g.set(m);
        m = g;
      }
      m.set(data, off);
    } else if (op <= 5) {
      const off = r(MAX);
      const n = r(30000);
      const want = Math.max(0, Math.min(n, m.length - off));
      expect(t.pread(fd, buf + BUF, n, off)).toBe(want);
      if (want > 0) expect(same(t.readBytes(buf + BUF, want), m.subarray(off, off + want))).toBe(true);
    } else if (op === 6) {
      const len = r(MAX);
      expect(t.ftruncate(fd, len)).toBe(0);
      const g = new Uint8Array(len);
      g.set(m.subarray(0, Math.min(len, m.length)));
      m = g;
    } else if (op === 7) {
      expect(t.fsync(fd)).toBe(0);
      expect(same(k.fs.readFile(p)!, m)).toBe(true);
    } else if (op === 8) {
      if (r(2) === 0) expect(t.posixFadvise(fd, r(MAX), r(MAX), POSIX_FADV_DONTNEED)).toBe(0);
      else pc.dropPagecache();
    } else {
      // reopen, sometimes truncating, and read it all sequentially
      t.close(fd);
      const trunc = r(4) === 0;
      const nfd = t.open(p, O_RDWR | (trunc ? O_TRUNC : 0));
      fds.set(p, nfd);
      if (trunc) m = new Uint8Array(0);
      expect(t.lseek(nfd, 0, SEEK_SET)).toBe(0);
      let got = 0;
      for (;;) {
        const n = t.read(nfd, buf + BUF, 65536);
        if (n <= 0) break;
        expect(same(t.readBytes(buf + BUF, n), m.subarray(got, got + n))).toBe(true);
        got += n;
      }
      expect(got).toBe(m.length);
    }
    model.set(p, m);
    // Counts recount from the xarrays and the pages' flags.
    let nodes = 0;
    let pages = 0;
    let dirty = 0;
    for (const q of paths) {
      const as = pc.mapping(k.fs.lookup(q)!.ino);
      nodes += as.xa.nodes;
      let own = 0;
      as.xa.forEach((_, pfn) => {
        own++;
        pages++;
        if ((k.vm.k.pages.flags[pfn]! & (1 << PG.dirty)) !== 0) dirty++;
      });
      expect(as.nrpages).toBe(own);
    }
    if (op === 8) pagesOther = k.vm.nrFilePages - pages;
    expect(k.vm.nrFilePages - pagesOther).toBe(pages);
    expect(pc.nrDirty).toBe(dirty);
    expect(k.inspect.liveObjects(pc.radixCache) - nodeBase).toBe(allNodes());
    expect(nodes).toBeLessThanOrEqual(allNodes());
  }
  expect(pagesOther).toBeLessThanOrEqual(pagesBase);
});
