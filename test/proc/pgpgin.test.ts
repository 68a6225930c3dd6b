/**
 * /proc/vmstat's pgpgin and pgpgout: the kernel counts sectors in
 * submit_bio() and vmstat_start() shows them halved, KiB; kmem counts the
 * page cache's reads and writebacks in KiB. vmstat's bi column follows.
 */
import { expect, it } from 'vitest';
import { deltaLine, sample, vmstatValues } from '../../src/cli/vmstat.js';
import { O_CREAT, O_RDONLY, O_RDWR } from '../../src/fs/fcntl.js';
import { MAP_ANONYMOUS, MAP_PRIVATE, PROT_READ, PROT_WRITE } from '../../src/vm/mman.js';
import { bootWithProgram } from '../vm/helpers.js';

const counter = (text: string, name: string) => Number(new RegExp(`^${name} (\\d+)$`, 'm').exec(text)![1]);

it('reading a 1 MiB file from disk adds 1024 to pgpgin (2048 sectors); fsync of 64 KiB adds 64 to pgpgout; a second read adds nothing', () => {
  const k = bootWithProgram('64M');
  k.fs.writeFile('/data/f', new Uint8Array(1 << 20).fill(7));
  const t = k.spawn('/bin/tiny');
  const buf = t.mmap(0, 65536, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  const before = vmstatValues(sample(k));
  const in0 = counter(k.proc.read('/proc/vmstat'), 'pgpgin');
  const fd = t.open('/data/f', O_RDONLY);
  while (t.read(fd, buf, 65536) > 0);
  const in1 = counter(k.proc.read('/proc/vmstat'), 'pgpgin');
  expect(in1 - in0).toBe(1024);
  t.lseek(fd, 0, 0);
  while (t.read(fd, buf, 65536) > 0);
  expect(counter(k.proc.read('/proc/vmstat'), 'pgpgin')).toBe(in1);
  const out0 = counter(k.proc.read('/proc/vmstat'), 'pgpgout');
  const w = t.open('/data/g', O_RDWR | O_CREAT);
  expect(t.write(w, buf, 65536)).toBe(65536);
  expect(t.fsync(w)).toBe(0);
  expect(counter(k.proc.read('/proc/vmstat'), 'pgpgout') - out0).toBe(64);
  // vmstat 2 N: bi = (1024 + 1) / 2 = 512 KiB/s, bo = (64 + 1) / 2 = 32
  const after = vmstatValues(sample(k));
  const cols = deltaLine(before, after, 2, { active: false, wide: false, unit: 1024 }).trim().split(/\s+/);
  expect(cols.slice(8, 10)).toEqual(['512', '32']);
});
