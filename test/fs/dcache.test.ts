/**
 * The root file system's dentry and inode caches as shrinkable caches
 * (fs/dcache.c, fs/inode.c, fs/super.c, mm/shrinker.c drop_slab), with the
 * counts worked by hand from the kernel's rules: a closed file's dentry sits
 * on the dentry LRU and pins its inode; drop_caches 2 runs drop_slab(), whose
 * rounds of shrink_slab(priority 0) give the "sb-" shrinker twice its count
 * to scan, split between the two LRUs by super_cache_scan()'s mult_frac.
 */
import { describe, expect, it } from 'vitest';
import { O_CREAT, O_RDONLY, O_RDWR } from '../../src/fs/fcntl.js';
import { Killed } from '../../src/index.js';
import type { Kernel } from '../../src/kernel.js';
import { MAP_ANONYMOUS, MAP_NORESERVE, MAP_PRIVATE, PROT_READ, PROT_WRITE } from '../../src/vm/mman.js';
import { bootWithProgram, tinyElf } from '../vm/helpers.js';
import { active, fsState as state } from './helpers.js';

const DROP = '/proc/sys/vm/drop_caches';
/**
 * The directory dentries every count below includes (and their inodes): the
 * root's (sb->s_root, pinned) and /bin's, held by its child /bin/tiny's (the
 * running program's). The tests' files live in the root directory, whose
 * dentry their dentries hold.
 */
const DIRS = 2;

function vmstat(k: Kernel, item: string): number {
  const m = new RegExp(`\\n${item} (\\d+)\\n`).exec(k.proc.read('/proc/vmstat'));
  return Number(m?.[1]);
}

function errnoOf(f: () => void): string | undefined {
  try {
    f();
  } catch (e) {
    return (e as { code?: string }).code;
  }
  return undefined;
}

function setup() {
  const k = bootWithProgram('64M');
  const t = k.spawn('/bin/tiny');
  const buf = t.mmap(0, 65536, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  return { k, t, buf };
}

describe('dentry and inode caches', () => {
  it('N empty files created and closed: N dentries on the LRU pinning N inodes; drop_caches 2 frees all 2N objects in the hand-worked rounds', () => {
    const { k, t } = setup();
    // /bin/tiny is mapped by the running task: its dentry is held, not on the LRU
    expect(state(k, 'dentry-state')).toEqual([DIRS + 1, 0, 45, 0, 0, 0]);
    const d0 = active(k, 'dentry');
    const i0 = active(k, 'inode_cache');
    const N = 100;
    for (let i = 0; i < N; i++) expect(t.close(t.open(`/f${i}`, O_CREAT | O_RDWR, 0o644))).toBe(0);
    expect(state(k, 'dentry-state')).toEqual([DIRS + 1 + N, N, 45, 0, 0, 0]);
    // the inodes are held by their dentries: none is unused yet
    expect(state(k, 'inode-nr')).toEqual([DIRS + 1 + N, 0]);
    expect(active(k, 'dentry')).toBe(d0 + N);
    expect(active(k, 'inode_cache')).toBe(i0 + N);
    const scanned0 = vmstat(k, 'slabs_scanned');
    k.proc.write(DROP, '2');
    // Round 1: count 100 (dentries), priority 0: delta = 100 * 4 / 2 = 200 = total_scan, one batch of 200;
    // super_cache_scan: dentries = mult_frac(200, 100, 101) = 198 -> prune 199 walks all 100, kills them, each
    // iput puts its (empty) inode on the inode LRU; inodes = mult_frac(200, 0, 101) = 0 -> prune 1 frees 1. 101 freed.
    // Round 2 (101 >> 0 > 1): count 99 inodes, total_scan 198, inodes = mult_frac(198, 99, 100) = 196 -> prune 197: 99 freed.
    // Round 3 (99 >> 1 > 1): SHRINK_EMPTY, 0 freed, stop. slabs_scanned += 200 + 198.
    expect(vmstat(k, 'slabs_scanned') - scanned0).toBe(398);
    expect(state(k, 'dentry-state')).toEqual([DIRS + 1, 0, 45, 0, 0, 0]);
    expect(state(k, 'inode-nr')).toEqual([DIRS + 1, 0]);
    expect(active(k, 'dentry')).toBe(d0);
    expect(active(k, 'inode_cache')).toBe(i0);
    // a cold lookup allocates both again; the files are all still there
    for (let i = 0; i < N; i++) {
      const fd = t.open(`/f${i}`, O_RDONLY);
      expect(fd).toBeGreaterThanOrEqual(0);
      t.close(fd);
    }
    expect(active(k, 'dentry')).toBe(d0 + N);
    expect(active(k, 'inode_cache')).toBe(i0 + N);
  });

  it('an inode with pages in the page cache stays cached (off the LRU) after its dentry goes; drop_caches 1 then 2 frees it; the bytes survive', () => {
    const { k, t, buf } = setup();
    const N = 20;
    for (let i = 0; i < N; i++) {
      const fd = t.open(`/d${i}`, O_CREAT | O_RDWR, 0o644);
      t.writeBytes(
        buf,
        Array.from({ length: 4096 }, (_, j) => (i + j) & 0xff),
      );
      expect(t.write(fd, buf, 4096)).toBe(4096);
      expect(t.fsync(fd)).toBe(0);
      t.close(fd);
    }
    const i0 = state(k, 'inode-nr')[0]!;
    k.proc.write(DROP, '2');
    // the dentries go; the inodes' mappings are not shrinkable (a page each): cached, not on the LRU
    expect(state(k, 'dentry-state').slice(0, 2)).toEqual([DIRS + 1, 0]);
    expect(state(k, 'inode-nr')).toEqual([i0, 0]);
    k.proc.write(DROP, '1');
    k.proc.write(DROP, '2');
    expect(state(k, 'inode-nr')).toEqual([i0 - N, 0]);
    for (let i = 0; i < N; i++) {
      const fd = t.open(`/d${i}`, O_RDONLY);
      expect(t.read(fd, buf, 8192)).toBe(4096);
      expect([...t.readBytes(buf, 4096)]).toEqual(Array.from({ length: 4096 }, (_, j) => (i + j) & 0xff));
      t.close(fd);
    }
    expect(state(k, 'inode-nr')).toEqual([i0, 0]);
  });

  it('drop_caches 3 drops the page cache first, so dentries and inodes of clean files all go at once', () => {
    const { k, t, buf } = setup();
    const fd = t.open('/x', O_CREAT | O_RDWR, 0o644);
    t.writeBytes(buf, [1, 2, 3]);
    t.write(fd, buf, 3);
    t.fsync(fd);
    t.close(fd);
    expect(state(k, 'inode-nr')).toEqual([DIRS + 2, 0]);
    k.proc.write(DROP, '3');
    expect(state(k, 'inode-nr')).toEqual([DIRS + 1, 0]);
    expect(state(k, 'dentry-state')[0]).toBe(DIRS + 1);
  });

  it('an open file pins its dentry and inode; a dentry put twice is DCACHE_REFERENCED and survives one pass of the LRU', () => {
    const { k, t } = setup();
    const fd = t.open('/held', O_CREAT | O_RDWR, 0o644);
    t.close(t.open('/twice', O_CREAT | O_RDWR, 0o644));
    t.close(t.open('/twice', O_RDONLY));
    t.close(t.open('/once', O_CREAT | O_RDWR, 0o644));
    const sb = k.vm.fs.sb!;
    // LRU: twice (referenced), once; /held was never put
    expect([...sb.dcache.lru].map((d) => d.path)).toEqual(['/twice', '/once']);
    // prune 2: /twice rotated (REFERENCED cleared), /once killed
    expect(sb.dcache.prune(2)).toBe(1);
    expect([...sb.dcache.lru].map((d) => d.path)).toEqual(['/twice']);
    expect(sb.dcache.prune(1)).toBe(1);
    k.proc.write(DROP, '2');
    expect(state(k, 'dentry-state').slice(0, 2)).toEqual([DIRS + 2, 0]);
    expect(t.close(fd)).toBe(0);
    expect(state(k, 'dentry-state').slice(0, 2)).toEqual([DIRS + 2, 1]);
  });

  it('unlink: a closed file leaves a negative dentry and frees its inode; an open one is unhashed and freed at the last close', () => {
    const { k, t } = setup();
    t.close(t.open('/a', O_CREAT | O_RDWR, 0o644));
    expect(t.unlink('/a')).toBe(0);
    // nr_dentry 2 (tiny, the negative /a), nr_unused 1, nr_negative 1; the inode evicted at once
    expect(state(k, 'dentry-state')).toEqual([DIRS + 2, 1, 45, 0, 1, 0]);
    expect(state(k, 'inode-nr')).toEqual([DIRS + 1, 0]);
    const fd = t.open('/b', O_CREAT | O_RDWR, 0o644);
    expect(t.unlink('/b')).toBe(0);
    expect(state(k, 'inode-nr')).toEqual([DIRS + 2, 0]);
    t.close(fd);
    expect(state(k, 'dentry-state')).toEqual([DIRS + 2, 1, 45, 0, 1, 0]);
    expect(state(k, 'inode-nr')).toEqual([DIRS + 1, 0]);
    // creating /a again instantiates the negative dentry: no new dentry
    t.close(t.open('/a', O_CREAT | O_RDWR, 0o644));
    expect(state(k, 'dentry-state')).toEqual([DIRS + 2, 1, 45, 0, 0, 0]);
  });

  it('tmpfs (/dev/shm) files pin their dentries in shmem_inode_cache: never on the LRU, gone with unlink', () => {
    const { k, t } = setup();
    const s0 = active(k, 'shmem_inode_cache');
    t.close(t.open('/dev/shm/s', O_CREAT | O_RDWR, 0o644));
    expect(active(k, 'shmem_inode_cache')).toBe(s0 + 1);
    k.proc.write(DROP, '2');
    expect(state(k, 'dentry-state').slice(0, 2)).toEqual([DIRS + 2, 0]);
    expect(t.unlink('/dev/shm/s')).toBe(0);
    expect(active(k, 'shmem_inode_cache')).toBe(s0);
    expect(state(k, 'dentry-state').slice(0, 2)).toEqual([DIRS + 1, 0]);
  });

  it('rename moves the dentry to its new name', () => {
    const { k, t } = setup();
    t.close(t.open('/r1', O_CREAT | O_RDWR, 0o644));
    expect(t.rename('/r1', '/r2')).toBe(0);
    expect([...k.vm.fs.sb!.dcache.lru].map((d) => d.path)).toEqual(['/r2']);
    expect(state(k, 'dentry-state').slice(0, 2)).toEqual([DIRS + 2, 1]);
  });

  it('vfs_cache_pressure scales super_cache_count (0: never reclaimed); vfs_cache_pressure_denom is at least 100', () => {
    const { k, t } = setup();
    for (let i = 0; i < 10; i++) t.close(t.open(`/p${i}`, O_CREAT | O_RDWR, 0o644));
    const sb = k.vm.fs.sb!;
    expect(k.proc.read('/proc/sys/vm/vfs_cache_pressure')).toBe('100\n');
    expect(k.proc.read('/proc/sys/vm/vfs_cache_pressure_denom')).toBe('100\n');
    expect(sb.cacheCount()).toBe(10);
    k.proc.write('/proc/sys/vm/vfs_cache_pressure', '250');
    expect(sb.cacheCount()).toBe(25);
    k.proc.write('/proc/sys/vm/vfs_cache_pressure_denom', '1000');
    // mult_frac(10, 250, 1000) = 2
    expect(sb.cacheCount()).toBe(2);
    expect(errnoOf(() => k.proc.write('/proc/sys/vm/vfs_cache_pressure_denom', '99'))).toBe('EINVAL');
    expect(errnoOf(() => k.proc.write('/proc/sys/vm/vfs_cache_pressure', '-1'))).toBe('EINVAL');
    expect(k.proc.read('/proc/sys/vm/vfs_cache_pressure_denom')).toBe('1000\n');
    k.proc.write('/proc/sys/vm/vfs_cache_pressure', '0');
    k.proc.write(DROP, '2');
    expect(state(k, 'dentry-state').slice(0, 2)).toEqual([DIRS + 11, 10]);
  });
});

describe('memory pressure reaches the sb- shrinker', () => {
  it('20000 unused dentries and inodes: reclaim at DEF_PRIORITY defers them, lower priorities prune them all before the OOM killer runs; the files stay', () => {
    const k = bootWithProgram('64M');
    k.fs.writeFile('/bin/hog', tinyElf());
    const t = k.spawn('/bin/tiny');
    const N = 20000;
    for (let i = 0; i < N; i++) t.close(t.open(`/f${i}`, O_CREAT | O_RDWR, 0o644));
    expect(state(k, 'dentry-state').slice(0, 2)).toEqual([DIRS + 1 + N, N]);
    expect(vmstat(k, 'slabs_scanned')).toBe(0);
    const hog = k.spawn('/bin/hog');
    const h = hog.mmap(0, 1 << 30, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    let killed: unknown = null;
    try {
      for (let i = 0; i < 1 << 15; i++) hog.write32(h + i * 4096, i);
    } catch (e) {
      killed = e;
    }
    expect(killed).toBeInstanceOf(Killed);
    expect(vmstat(k, 'slabs_scanned')).toBeGreaterThan(N);
    // out_of_memory() comes only after reclaim at priority 0, where do_shrink_slab() scans twice the count:
    // every unused dentry and inode is gone. Left: /bin/tiny's (held by its mapping) and the dead hog's,
    // put to the LRU when its mm went (/bin stays: its two children hold it).
    expect(state(k, 'dentry-state').slice(0, 2)).toEqual([DIRS + 2, 1]);
    expect(state(k, 'inode-nr')).toEqual([DIRS + 2, 0]);
    const fd = t.open('/f12345', O_RDONLY);
    expect(fd).toBeGreaterThanOrEqual(0);
    expect(state(k, 'dentry-state').slice(0, 2)).toEqual([DIRS + 3, 1]);
  });
});
