/**
 * Random file operations against a model of the files (name -> bytes) and
 * of the dcache's rules: after every step the dentry and inode caches' SLUB
 * objects are exactly the dentries and inodes the counters report (objects
 * really allocated and freed), every open file reads its model bytes, and
 * after drop_caches 2 only the held dentries are left (drop_slab() prunes
 * every unused and negative one), while every file still opens and reads
 * what the model says.
 */
import fc from 'fast-check';
import { expect, it } from 'vitest';
import { O_CREAT, O_RDONLY, O_RDWR, O_TRUNC } from '../../src/fs/fcntl.js';
import type { Task } from '../../src/vm/fork.js';
import { MAP_ANONYMOUS, MAP_PRIVATE, PROT_READ, PROT_WRITE } from '../../src/vm/mman.js';
import { bootWithProgram } from '../vm/helpers.js';
import { active, fsState as nums } from './helpers.js';

const NAMES = ['/a', '/b', '/c', '/d', '/e'];

type Op =
  | { op: 'create'; name: number; byte: number }
  | { op: 'open'; name: number }
  | { op: 'close'; slot: number }
  | { op: 'unlink'; name: number }
  | { op: 'rename'; from: number; to: number }
  | { op: 'drop'; v: 1 | 2 | 3 };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ op: fc.constant('create' as const), name: fc.nat(4), byte: fc.integer({ min: 1, max: 255 }) }),
  fc.record({ op: fc.constant('open' as const), name: fc.nat(4) }),
  fc.record({ op: fc.constant('close' as const), slot: fc.nat(7) }),
  fc.record({ op: fc.constant('unlink' as const), name: fc.nat(4) }),
  fc.record({ op: fc.constant('rename' as const), from: fc.nat(4), to: fc.nat(4) }),
  fc
    .record({ op: fc.constantFrom({ op: 'drop' as const, v: 1 as const }, { op: 'drop' as const, v: 2 as const }, { op: 'drop' as const, v: 3 as const }) })
    .map((r) => r.op),
);

/** The bytes the open fd reads from offset 0. */
function readAll(t: Task, fd: number, buf: number): number[] {
  const n = t.pread(fd, buf, 4096, 0);
  return [...t.readBytes(buf, Math.max(n, 0))];
}

it('dentry and inode objects match the counters after every step; files and their bytes survive every drop', () => {
  fc.assert(
    fc.property(fc.array(opArb, { minLength: 1, maxLength: 40 }), (ops) => {
      const k = bootWithProgram('64M');
      const t = k.spawn('/bin/tiny');
      const buf = t.mmap(0, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
      // objects present before the first file operation (the caches may not exist yet)
      const d0 = active(k, 'dentry') - nums(k, 'dentry-state')[0]!;
      const i0 = active(k, 'inode_cache') - nums(k, 'inode-nr')[0]!;
      const files = new Map<string, number[]>();
      /** open fds and the bytes their file holds (an unlinked file keeps its bytes) */
      const open: { fd: number; bytes: number[] }[] = [];
      for (const o of ops) {
        if (o.op === 'create') {
          const name = NAMES[o.name]!;
          const fd = t.open(name, O_CREAT | O_RDWR | O_TRUNC, 0o644);
          t.writeBytes(buf, [o.byte, o.byte]);
          expect(t.write(fd, buf, 2)).toBe(2);
          t.close(fd);
          const bytes = [o.byte, o.byte];
          // O_TRUNC rewrote the same inode: open fds on it see the new bytes
          const old = files.get(name);
          if (old !== undefined) for (const f of open) if (f.bytes === old) f.bytes = bytes;
          files.set(name, bytes);
        } else if (o.op === 'open') {
          const name = NAMES[o.name]!;
          const fd = t.open(name, O_RDONLY);
          const bytes = files.get(name);
          if (bytes === undefined) expect(fd).toBeLessThan(0);
          else {
            expect(fd).toBeGreaterThanOrEqual(0);
            open.push({ fd, bytes });
          }
        } else if (o.op === 'close') {
          const f = open[o.slot];
          if (f === undefined) continue;
          expect(t.close(f.fd)).toBe(0);
          open.splice(o.slot, 1);
        } else if (o.op === 'unlink') {
          const name = NAMES[o.name]!;
          expect(t.unlink(name)).toBe(files.has(name) ? 0 : -2);
          files.delete(name);
        } else if (o.op === 'rename') {
          const from = NAMES[o.from]!;
          const to = NAMES[o.to]!;
          const bytes = files.get(from);
          const r = t.rename(from, to);
          if (bytes === undefined) expect(r).toBeLessThan(0);
          else {
            expect(r).toBe(0);
            files.delete(from);
            files.set(to, bytes);
          }
        } else {
          k.proc.write('/proc/sys/vm/drop_caches', String(o.v));
          if (o.v & 2) {
            // drop_slab(): only the held dentries stay (tiny's and one per open file, and the root's and /bin's
            // directory dentries, which they hold), none unused
            const held = 3 + new Set(open.map((f) => f.bytes)).size;
            expect(nums(k, 'dentry-state').slice(0, 2)).toEqual([held, 0]);
          }
        }
        const ds = nums(k, 'dentry-state');
        const inr = nums(k, 'inode-nr');
        expect(active(k, 'dentry') - d0).toBe(ds[0]);
        expect(active(k, 'inode_cache') - i0).toBe(inr[0]);
        expect(ds[1]).toBeLessThanOrEqual(ds[0]!);
        for (const f of open) expect(readAll(t, f.fd, buf)).toEqual(f.bytes);
      }
      for (const [name, bytes] of files) {
        const fd = t.open(name, O_RDONLY);
        expect(readAll(t, fd, buf)).toEqual(bytes);
        t.close(fd);
      }
    }),
    { numRuns: 40 },
  );
});
