/**
 * Directory dentries (fs/dcache.c, fs/namei.c): a cold lookup of
 * /a/b/c/file allocates a dentry (and an inode) for each component not in
 * the dcache, under the pinned root; d_alloc() gives each child a reference
 * on its parent, so a directory's count is its children (plus whoever holds
 * it) and only an unused leaf is on the LRU. dput() of an unhashed (unlinked)
 * file kills it, and a parent left unused is retained on the LRU;
 * prune_dcache_sb() kills what it isolated and then each parent whose last
 * reference that was (shrink_kill), leaves before their parents.
 */
import { describe, expect, it } from 'vitest';
import { O_CREAT, O_RDONLY, O_RDWR } from '../../src/fs/fcntl.js';
import { bootWithProgram } from '../vm/helpers.js';
import { active, fsState as state } from './helpers.js';

function setup() {
  const k = bootWithProgram('64M');
  const t = k.spawn('/bin/tiny');
  const dc = k.vm.fs.sb!.dcache;
  const count = (path: string) => dc.hash.get(path)?.count;
  return { k, t, dc, count };
}

describe('directory dentries', () => {
  it('a cold open of /a/b/c/file allocates one dentry and one inode per component; each child holds its parent', () => {
    const { k, t, dc, count } = setup();
    k.fs.mkdirs('/a/b/c');
    // the root's, /bin's and /bin/tiny's
    expect(state(k, 'dentry-state').slice(0, 2)).toEqual([3, 0]);
    const d0 = active(k, 'dentry');
    const i0 = active(k, 'inode_cache');
    const fd = t.open('/a/b/c/file', O_CREAT | O_RDWR, 0o644);
    expect(fd).toBeGreaterThanOrEqual(0);
    expect(active(k, 'dentry')).toBe(d0 + 4);
    expect(active(k, 'inode_cache')).toBe(i0 + 4);
    expect(state(k, 'dentry-state').slice(0, 2)).toEqual([7, 0]);
    expect(dc.hash.get('/a/b/c/file')!.parent).toBe(dc.hash.get('/a/b/c'));
    expect(dc.hash.get('/a/b/c')!.parent).toBe(dc.hash.get('/a/b'));
    expect(dc.hash.get('/a')!.parent).toBe(dc.hash.get('/'));
    // each directory is held by its one child; the file by the open file
    expect([count('/a'), count('/a/b'), count('/a/b/c'), count('/a/b/c/file')]).toEqual([1, 1, 1, 1]);
    // the root: pinned (1), /bin and /a
    expect(count('/')).toBe(3);
    t.close(fd);
    // only the leaf is unused: the LRU holds it alone
    expect([...dc.lru].map((d) => d.path)).toEqual(['/a/b/c/file']);
    // a second open finds every component cached: nothing allocated
    const fd2 = t.open('/a/b/c/file', O_RDONLY);
    expect(active(k, 'dentry')).toBe(d0 + 4);
    t.close(fd2);
    // drop_caches 2: the leaf goes, then each parent it held, up to the root; their inodes after them
    k.proc.write('/proc/sys/vm/drop_caches', '2');
    expect(state(k, 'dentry-state').slice(0, 2)).toEqual([3, 0]);
    expect(active(k, 'dentry')).toBe(d0);
    expect(active(k, 'inode_cache')).toBe(i0);
    expect(count('/')).toBe(2);
    // and the file is still there
    const fd3 = t.open('/a/b/c/file', O_RDONLY);
    expect(fd3).toBeGreaterThanOrEqual(0);
    expect(active(k, 'dentry')).toBe(d0 + 4);
  });

  it('prune_dcache_sb frees leaves before their parents: a directory goes with its last child', () => {
    const { k, t, dc, count } = setup();
    k.fs.mkdirs('/d');
    t.close(t.open('/d/x', O_CREAT | O_RDWR, 0o644));
    t.close(t.open('/d/y', O_CREAT | O_RDWR, 0o644));
    expect([...dc.lru].map((d) => d.path)).toEqual(['/d/x', '/d/y']);
    expect(count('/d')).toBe(2);
    // one isolated: /d/x killed, /d keeps its other child
    expect(dc.prune(1)).toBe(1);
    expect(dc.hash.has('/d/x')).toBe(false);
    expect(count('/d')).toBe(1);
    // the next: /d/y killed, and /d with it (shrink_kill); prune counts the one it isolated
    const n0 = dc.nrDentry;
    expect(dc.prune(1)).toBe(1);
    expect(dc.hash.has('/d')).toBe(false);
    expect(dc.nrDentry).toBe(n0 - 2);
  });

  it('dput of an unlinked open file kills it, and its directory, left unused, is retained on the LRU', () => {
    const { k, t, dc, count } = setup();
    k.fs.mkdirs('/e');
    const fd = t.open('/e/f', O_CREAT | O_RDWR, 0o644);
    expect(t.unlink('/e/f')).toBe(0);
    expect(count('/e')).toBe(1);
    expect(dc.lru.size).toBe(0);
    t.close(fd);
    // __dentry_kill(/e/f) dropped /e's last reference: retain_dentry() puts the hashed /e on the LRU
    expect(count('/e')).toBe(0);
    expect([...dc.lru].map((d) => d.path)).toEqual(['/e']);
    expect(state(k, 'dentry-state').slice(0, 2)).toEqual([4, 1]);
  });

  it('rename to another directory moves the dentry under the new parent', () => {
    const { k, t, dc, count } = setup();
    k.fs.mkdirs('/p');
    k.fs.mkdirs('/q');
    t.close(t.open('/p/f', O_CREAT | O_RDWR, 0o644));
    t.close(t.open('/q/g', O_CREAT | O_RDWR, 0o644));
    expect([count('/p'), count('/q')]).toEqual([1, 1]);
    expect(t.rename('/p/f', '/q/f')).toBe(0);
    expect(dc.hash.get('/q/f')!.parent).toBe(dc.hash.get('/q'));
    expect(count('/q')).toBe(2);
    // /p lost its only child: unused, on the LRU
    expect(count('/p')).toBe(0);
    expect(dc.lru.has(dc.hash.get('/p')!)).toBe(true);
  });
});
