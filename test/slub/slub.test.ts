/**
 * SLUB behaviour through the public API, checked against the kernel's rules
 * (mm/slub.c, mm/slab_common.c, include/linux/slab.h). Expected values are
 * worked out from those rules, not taken from a kmem run.
 */
import { describe, expect, it } from 'vitest';
import { boot, type Kernel } from '../../src/kernel.js';
import { KernelBug } from '../../src/lib/bug.js';
import { PGTY_large_kmalloc } from '../../src/memory/page.js';
import { __GFP_ACCOUNT, __GFP_DMA, __GFP_MOVABLE, __GFP_RECLAIMABLE, GFP_KERNEL } from '../../src/page_alloc/gfp.js';
import { MAX_NR_ZONES, Z_FREE } from '../../src/page_alloc/mmzone.js';
import { CF, MAX_CACHES } from '../../src/slub/slab.js';
import { SLAB_NO_MERGE, SLAB_TYPESAFE_BY_RCU } from '../../src/slub/slab_flags.js';
import { sid } from './handle_id.js';

const HEADER =
  'slabinfo - version: 2.1\n' +
  '# name            <active_objs> <num_objs> <objsize> <objperslab> <pagesperslab> : tunables <limit> <batchcount> <sharedfactor> : slabdata <active_slabs> <num_slabs> <sharedavail>\n';

/** cache_show(): "%-17s %6lu %6lu %6u %4u %4d : tunables %4u %4u %4u : slabdata %6lu %6lu %6lu". */
function row(name: string, active: number, num: number, size: number, per: number, pages: number, slabs: number): string {
  const p = (v: number, w: number) => String(v).padStart(w);
  return `${name.padEnd(17)} ${p(active, 6)} ${p(num, 6)} ${p(size, 6)} ${p(per, 4)} ${p(pages, 4)} : tunables ${p(0, 4)} ${p(0, 4)} ${p(0, 4)} : slabdata ${p(slabs, 6)} ${p(slabs, 6)} ${p(0, 6)}`;
}

function slabinfoLine(k: Kernel, name: string): string | undefined {
  return k.proc
    .read('/proc/slabinfo')
    .split('\n')
    .find((l) => l.split(' ')[0] === name);
}

function cacheNameOf(k: Kernel, addr: number): string {
  const pfn = k.slub.virtToSlab(addr);
  expect(pfn).toBeGreaterThanOrEqual(0);
  return k.slub.caches[k.pages.slabCache[pfn]!]!.name;
}

function freePages(k: Kernel): number {
  let n = 0;
  for (let z = 0; z < MAX_NR_ZONES; z++) n += k.pageAlloc.zones.get(z, Z_FREE);
  return n;
}

function dmesgText(k: Kernel): string {
  return k.dmesg().join('\n');
}

/** The kmalloc size class by hand: size_index[] up to 192, fls(size - 1) above. */
function expectedClass(size: number): number {
  if (size <= 8) return 8;
  if (size <= 16) return 16;
  if (size <= 32) return 32;
  if (size <= 64) return 64;
  if (size <= 96) return 96;
  if (size <= 128) return 128;
  if (size <= 192) return 192;
  return 2 ** Math.ceil(Math.log2(size));
}

describe('kmalloc', () => {
  it('kmalloc(0) is ZERO_SIZE_PTR; kfree of NULL and ZERO_SIZE_PTR does nothing', () => {
    const k = boot({ memory: '32M' });
    expect(k.kmalloc(0, GFP_KERNEL)).toBe(16);
    const before = k.proc.read('/proc/slabinfo');
    const lines = k.dmesg().length;
    k.kfree(0);
    k.kfree(16);
    expect(k.ksize(16)).toBe(0);
    expect(k.proc.read('/proc/slabinfo')).toBe(before);
    expect(k.dmesg().length).toBe(lines);
  });

  it('kmalloc(100) comes from kmalloc-128: one order-0 slab of 32 objects, all active', () => {
    const k = boot({ memory: '32M' });
    expect(slabinfoLine(k, 'kmalloc-128')).toBe(row('kmalloc-128', 0, 0, 128, 32, 1, 0));
    const p = k.kmalloc(100, GFP_KERNEL);
    expect(p).toBeGreaterThan(16);
    expect(k.ksize(p)).toBe(128);
    expect(cacheNameOf(k, p)).toBe('kmalloc-128');
    // Objects free on the cpu slab still count as active (get_slabinfo).
    expect(slabinfoLine(k, 'kmalloc-128')).toBe(row('kmalloc-128', 32, 32, 128, 32, 1, 1));
  });

  it('every size 1..8192 maps to its size class', () => {
    const k = boot({ memory: '64M' });
    for (let size = 1; size <= 8192; size++) {
      const p = k.kmalloc(size, GFP_KERNEL);
      const cls = expectedClass(size);
      expect(cacheNameOf(k, p)).toBe(`kmalloc-${cls >= 1024 ? `${cls / 1024}k` : cls}`);
      expect(k.ksize(p)).toBe(cls);
      expect(k.kmallocSizeRoundup(size)).toBe(cls);
      k.kfree(p);
    }
  });

  it('GFP type bits select the dma-, rcl- and cg- caches', () => {
    const k = boot({ memory: '32M' });
    const cases: [number, string][] = [
      [__GFP_DMA, 'dma-kmalloc-'],
      [__GFP_RECLAIMABLE, 'kmalloc-rcl-'],
      [__GFP_ACCOUNT, 'kmalloc-cg-'],
    ];
    for (const [flag, prefix] of cases) {
      for (const [size, cls] of [
        [8, '8'],
        [100, '128'],
        [150, '192'],
        [3000, '4k'],
        [8192, '8k'],
      ] as const) {
        const p = k.kmalloc(size, GFP_KERNEL | flag);
        expect(cacheNameOf(k, p)).toBe(`${prefix}${cls}`);
        k.kfree(p);
      }
    }
  });

  it('ksize() of something that is not a slab object: a folio above 8 KiB by its start, else WARN_ON and 0', () => {
    const k = boot({ memory: '32M' });
    const big = k.kmalloc(20000, GFP_KERNEL);
    expect(k.ksize(big)).toBe(32768);
    const warnings = () => k.dmesg().filter((l) => l.includes('WARNING: CPU: 0')).length;
    expect(warnings()).toBe(0);
    expect(k.ksize(big + 4096)).toBe(0); // not the folio's start
    expect(warnings()).toBe(1);
    expect(k.ksize(k.allocPages(0, GFP_KERNEL))).toBe(0); // one page is no larger than kmalloc-8k
    expect(warnings()).toBe(2);
    expect(dmesgText(k)).toContain('at mm/slab_common.c');
  });

  it('kmalloc(8193) is an order-2 large kmalloc whose pages kfree returns', () => {
    const k = boot({ memory: '32M' });
    k.drainAllPages();
    const buddy = k.proc.read('/proc/buddyinfo');
    const free = freePages(k);
    const p = k.kmalloc(8193, GFP_KERNEL);
    expect(p % 4096).toBe(0);
    expect(k.ksize(p)).toBe(16384);
    const pfn = p / 4096;
    expect(k.pages.pageType[pfn]).toBe(PGTY_large_kmalloc);
    expect(k.pages.order[pfn]).toBe(2);
    expect(k.slub.virtToSlab(p)).toBe(-1);
    k.drainAllPages();
    expect(freePages(k)).toBe(free - 4);
    k.kfree(p);
    k.drainAllPages();
    expect(freePages(k)).toBe(free);
    expect(k.proc.read('/proc/buddyinfo')).toBe(buddy);
  });

  it('kzalloc zeroes a recycled object', () => {
    const k = boot({ memory: '32M' });
    const p = k.kmalloc(200, GFP_KERNEL);
    k.phys.u8.fill(0xaa, p, p + 256);
    k.kfree(p);
    const q = k.kzalloc(200, GFP_KERNEL);
    expect(q).toBe(p);
    expect(k.phys.u8.subarray(q, q + 200).every((b) => b === 0)).toBe(true);
  });

  it('kcalloc and kmallocArray return NULL on overflow and zero on success', () => {
    const k = boot({ memory: '32M' });
    expect(k.kcalloc(2 ** 62, 8, GFP_KERNEL)).toBe(0);
    expect(k.kmallocArray(2 ** 33, 2 ** 32, GFP_KERNEL)).toBe(0);
    const p = k.kmalloc(32, GFP_KERNEL);
    k.phys.u8.fill(0x5a, p, p + 32);
    k.kfree(p);
    const q = k.kcalloc(4, 8, GFP_KERNEL);
    expect(q).toBe(p);
    expect(k.ksize(q)).toBe(32);
    expect(k.phys.u8.subarray(q, q + 32).every((b) => b === 0)).toBe(true);
    const r = k.kmallocArray(10, 10, GFP_KERNEL);
    expect(k.ksize(r)).toBe(128);
  });

  it('krealloc copies when growing and keeps the object when shrinking', () => {
    const k = boot({ memory: '32M' });
    const p = k.kmalloc(32, GFP_KERNEL);
    for (let i = 0; i < 32; i++) k.phys.u8[p + i] = i + 1;
    const q = k.krealloc(p, 200, GFP_KERNEL);
    expect(q).not.toBe(p);
    expect(k.ksize(q)).toBe(256);
    for (let i = 0; i < 32; i++) expect(k.phys.u8[q + i]).toBe(i + 1);
    // p went back to kmalloc-32: the next kmalloc-32 object on this CPU.
    expect(k.kmalloc(32, GFP_KERNEL)).toBe(p);
    expect(k.krealloc(q, 100, GFP_KERNEL)).toBe(q);
    expect(k.ksize(q)).toBe(256);
    expect(k.krealloc(q, 0, GFP_KERNEL)).toBe(16);
    expect(k.kmalloc(256, GFP_KERNEL)).toBe(q);
  });

  it('kmemdup copies len bytes into a new object', () => {
    const k = boot({ memory: '32M' });
    const src = k.kmalloc(64, GFP_KERNEL);
    for (let i = 0; i < 50; i++) k.phys.u8[src + i] = (i * 7 + 3) & 0xff;
    const d = k.kmemdup(src, 50, GFP_KERNEL);
    expect(d).not.toBe(src);
    expect(k.ksize(d)).toBe(64);
    expect(Array.from(k.phys.u8.subarray(d, d + 50))).toEqual(Array.from(k.phys.u8.subarray(src, src + 50)));
  });

  it('kfreeSensitive zeroes the whole object before freeing it', () => {
    const k = boot({ memory: '32M' });
    const p = k.kmalloc(64, GFP_KERNEL);
    k.phys.u8.fill(0xaa, p, p + 64);
    const s = k.pages.slabCache[k.slub.virtToSlab(p)]!;
    const off = k.slub.cf[sid(k, s) * CF.FIELDS + CF.OFFSET]!;
    k.kfreeSensitive(p);
    // Only the free pointer written by the free itself may be non-zero.
    for (let i = 0; i < 64; i++) if (i < off || i >= off + 8) expect(k.phys.u8[p + i]).toBe(0);
    expect(k.kmalloc(64, GFP_KERNEL)).toBe(p);
  });
});

describe('the per-CPU fast paths', () => {
  it('the object freed last is the next one allocated on the same CPU (LIFO)', () => {
    const k = boot({ memory: '32M' });
    const objs = Array.from({ length: 5 }, () => k.kmalloc(64, GFP_KERNEL));
    k.kfree(objs[1]!);
    k.kfree(objs[3]!);
    expect(k.kmalloc(64, GFP_KERNEL)).toBe(objs[3]);
    expect(k.kmalloc(64, GFP_KERNEL)).toBe(objs[1]);
  });

  it('a remote free goes to slab->freelist and is used only after the cpu freelist runs dry', () => {
    const k = boot({ memory: '32M', cpus: 2 });
    const c = k.kmemCacheCreate('remote_test', 72, { align: 8 });
    const x = k.onCpu(0, () => k.kmemCacheAlloc(c, GFP_KERNEL));
    const slab = k.slub.virtToSlab(x);
    expect(k.slub.st.cpuSlab[sid(k, c)]).toBe(slab); // CPU 0's cpu slab
    k.onCpu(1, () => k.kmemCacheFree(c, x));
    expect(k.slub.slabFreelist(sid(k, c), slab)).toBe(x);
    expect(k.slub.slabFrozen(slab)).toBe(true);
    const objects = k.slub.cf[sid(k, c) * CF.FIELDS + CF.OBJECTS]!;
    expect(objects).toBe(56);
    const seen = new Set<number>();
    for (let i = 0; i < objects - 1; i++) {
      const o = k.onCpu(0, () => k.kmemCacheAlloc(c, GFP_KERNEL));
      expect(o).not.toBe(x);
      expect(k.slub.virtToSlab(o)).toBe(slab);
      seen.add(o);
    }
    expect(seen.size).toBe(objects - 1);
    expect(k.slub.st.cpuFreelist[sid(k, c)]).toBe(0);
    expect(k.onCpu(0, () => k.kmemCacheAlloc(c, GFP_KERNEL))).toBe(x);
    expect(k.slub.slabFreelist(sid(k, c), slab)).toBe(0);
    // CPU 1 never got a cpu slab of this cache.
    expect(k.slub.st.cpuSlab[MAX_CACHES + sid(k, c)]).toBe(-1);
  });
});

describe('/proc/slabinfo and sysfs', () => {
  it('prints the header and cache_show lines byte-exactly, newest first, boot caches last', () => {
    const k = boot({ memory: '32M' });
    const c = k.kmemCacheCreate('newest_cache', 72, { align: 8 });
    const o = k.kmemCacheAlloc(c, GFP_KERNEL);
    expect(o).toBeGreaterThan(0);
    const text = k.proc.read('/proc/slabinfo');
    expect(text.startsWith(HEADER)).toBe(true);
    expect(text.endsWith('\n')).toBe(true);
    const lines = text.slice(HEADER.length, -1).split('\n');
    expect(lines[0]).toBe(row('newest_cache', 56, 56, 72, 56, 1, 1));
    expect(lines.at(-1)!.startsWith('kmem_cache ')).toBe(true);
    expect(lines.at(-2)!.startsWith('kmem_cache_node ')).toBe(true);
    const re = /^(\S+) +(\d+) +(\d+) +(\d+) +(\d+) +(\d+) : tunables +0 +0 +0 : slabdata +(\d+) +(\d+) +0$/;
    for (const l of lines) {
      const m = re.exec(l);
      expect(m, l).not.toBeNull();
      const [, name, a, n, sz, per, pg, s1, s2] = m!;
      expect(l).toBe(row(name!, +a!, +n!, +sz!, +per!, +pg!, +s1!));
      expect(s1).toBe(s2);
      expect(+a!).toBeLessThanOrEqual(+n!);
    }
    expect(k.sys.read('/sys/kernel/slab/newest_cache/objs_per_slab')).toBe('56\n');
    expect(k.sys.read('/sys/kernel/slab/newest_cache/order')).toBe('0\n');
  });

  it('merges caches of the same size and flags, with a :unique sysfs name', () => {
    const k = boot({ memory: '32M' });
    const a = k.kmemCacheCreate('merge_a', 72, { align: 8 });
    const b = k.kmemCacheCreate('merge_b', 72, { align: 8 });
    expect(b).toBe(a);
    expect(k.sys.read('/sys/kernel/slab/merge_a/aliases')).toBe('1\n');
    expect(k.sys.read('/sys/kernel/slab/merge_b/aliases')).toBe('1\n');
    expect(k.sys.read('/sys/kernel/slab/:0000072/object_size')).toBe('72\n');
    expect(k.sys.read('/sys/kernel/slab/:0000072/aliases')).toBe('1\n');
    expect(k.kmemCacheByName('merge_b')).toBe(a);
    // Only the first name gets a slabinfo line.
    expect(slabinfoLine(k, 'merge_a')).toBeDefined();
    expect(slabinfoLine(k, 'merge_b')).toBeUndefined();
  });

  it('never merges SLAB_TYPESAFE_BY_RCU, ctor or SLAB_NO_MERGE caches', () => {
    const k = boot({ memory: '32M' });
    const plain = k.kmemCacheCreate('plain72', 72, { align: 8 });
    const r1 = k.kmemCacheCreate('rcu1', 72, { align: 8, flags: SLAB_TYPESAFE_BY_RCU });
    const r2 = k.kmemCacheCreate('rcu2', 72, { align: 8, flags: SLAB_TYPESAFE_BY_RCU });
    const c1 = k.kmemCacheCreate('ctor1', 72, { align: 8, ctor: () => {} });
    const c2 = k.kmemCacheCreate('ctor2', 72, { align: 8, ctor: () => {} });
    const n1 = k.kmemCacheCreate('nomerge1', 72, { align: 8, flags: SLAB_NO_MERGE });
    expect(new Set([plain, r1, r2, c1, c2, n1]).size).toBe(6);
    for (const n of ['plain72', 'rcu1', 'rcu2', 'ctor1', 'ctor2', 'nomerge1']) expect(k.sys.read(`/sys/kernel/slab/${n}/aliases`)).toBe('0\n');
  });
});

describe('cache lifecycle', () => {
  it('kmemCacheShrink frees the empty slabs', () => {
    const k = boot({ memory: '32M' });
    const c = k.kmemCacheCreate('shrink_me', 72, { align: 8 });
    const objs = Array.from({ length: 56 * 10 }, () => k.kmemCacheAlloc(c, GFP_KERNEL));
    for (const o of objs) k.kmemCacheFree(c, o);
    const slabs = () => Number(slabinfoLine(k, 'shrink_me')!.split(':')[2]!.trim().split(/ +/)[2]);
    expect(slabs()).toBeGreaterThan(0);
    k.kmemCacheShrink(c);
    expect(slabs()).toBe(0);
    expect(slabinfoLine(k, 'shrink_me')).toBe(row('shrink_me', 0, 0, 72, 56, 1, 0));
  });

  it('kmemCacheShrink keeps slabs with live objects', () => {
    const k = boot({ memory: '32M' });
    const c = k.kmemCacheCreate('shrink_keep', 72, { align: 8 });
    const objs = Array.from({ length: 56 * 4 }, () => k.kmemCacheAlloc(c, GFP_KERNEL));
    objs.forEach((o, i) => {
      if (i % 56 !== 0) k.kmemCacheFree(c, o);
    });
    k.kmemCacheShrink(c);
    expect(slabinfoLine(k, 'shrink_keep')).toBe(row('shrink_keep', 4, 224, 72, 56, 1, 4));
  });

  it('kmemCacheShrink orders the node partial list as __kmem_cache_do_shrink does', () => {
    const k = boot({ memory: '32M' });
    const c = k.kmemCacheCreate('shrink_order', 72, { align: 8, flags: SLAB_NO_MERGE });
    const slabs: number[][] = [];
    for (let i = 0; i < 5 * 56; i++) {
      const o = k.kmemCacheAlloc(c, GFP_KERNEL);
      const pfn = k.slub.virtToSlab(o);
      let list = slabs.find((l) => k.slub.virtToSlab(l[0]!) === pfn);
      if (!list) {
        list = [];
        slabs.push(list);
      }
      list.push(o);
    }
    expect(slabs.length).toBe(5);
    const pfns = slabs.map((l) => k.slub.virtToSlab(l[0]!));
    [3, 3, 40, 32, 1].forEach((n, i) => {
      for (const o of slabs[i]!.slice(0, n)) k.kmemCacheFree(c, o);
    });
    const partial = () => {
      const out: number[] = [];
      for (let sl = k.slub.cf[sid(k, c) * CF.FIELDS + CF.PARTIAL_HEAD]!; sl >= 0; sl = k.pages.next[sl]!) out.push(sl);
      return out;
    };
    const free = (sl: number) => k.pages.slabObjects[sl]! - k.slub.slabInuse(sl);
    k.kmemCacheShrink(c);
    const first = partial();
    // promote[0..31] spliced to the head, fullest first; free > SHRINK_PROMOTE_MAX (32) stays behind.
    expect(first.map(free)).toEqual([1, 3, 3, 32, 40]);
    expect(first[0]).toBe(pfns[4]);
    expect(first.slice(3)).toEqual([pfns[3], pfns[2]]);
    // list_move() adds to the head of a bucket: equal-free slabs swap places on the next shrink.
    k.kmemCacheShrink(c);
    expect(partial()).toEqual([first[0], first[2], first[1], first[3], first[4]]);
  });

  it('destroying an empty cache removes its line and returns its pages', () => {
    const k = boot({ memory: '32M' });
    // The cache's own descriptors come from kmem_cache/kmem_cache_node: start and end with every cache shrunk.
    const settle = () => {
      for (const s of k.inspect.cacheIds()) k.kmemCacheShrink(s);
      k.drainAllPages();
    };
    settle();
    const free = freePages(k);
    const before = k.proc.read('/proc/slabinfo');
    const c = k.kmemCacheCreate('doomed', 300, { flags: SLAB_NO_MERGE });
    const objs = Array.from({ length: 200 }, () => k.kmemCacheAlloc(c, GFP_KERNEL));
    expect(slabinfoLine(k, 'doomed')).toBeDefined();
    for (const o of objs) k.kmemCacheFree(c, o);
    k.kmemCacheDestroy(c);
    expect(slabinfoLine(k, 'doomed')).toBeUndefined();
    expect(() => k.kmemCacheAlloc(c, GFP_KERNEL)).toThrow(RangeError);
    settle();
    expect(k.proc.read('/proc/slabinfo')).toBe(before);
    expect(freePages(k)).toBe(free);
  });

  it('destroying a cache with a live object reports it', () => {
    const k = boot({ memory: '32M' });
    const c = k.kmemCacheCreate('leaky', 72, { align: 8 });
    k.kmemCacheAlloc(c, GFP_KERNEL);
    k.kmemCacheDestroy(c);
    // 6.15+ (list_slab_objects() through slab_bug()); before: "Objects remaining in leaky on ...".
    expect(dmesgText(k)).toContain('BUG leaky (Not tainted): Objects remaining on __kmem_cache_shutdown()');
  });

  it('bulk alloc gives 16 distinct objects and bulk free returns them', () => {
    const k = boot({ memory: '32M' });
    const c = k.kmemCacheCreate('bulk', 72, { align: 8 });
    const out: number[] = [];
    expect(k.kmemCacheAllocBulk(c, 16, out, GFP_KERNEL)).toBe(16);
    expect(new Set(out).size).toBe(16);
    for (const o of out) expect(k.pages.slabCache[k.slub.virtToSlab(o)]).toBe(sid(k, c));
    expect(k.slab.liveObjects(sid(k, c))).toBe(16);
    k.kmemCacheFreeBulk(c, out);
    expect(k.slab.liveObjects(sid(k, c))).toBe(0);
    // The bulk-freed objects are reused: 16 more come from the same slab.
    const again: number[] = [];
    expect(k.kmemCacheAllocBulk(c, 16, again, GFP_KERNEL)).toBe(16);
    expect(new Set(again)).toEqual(new Set(out));
    expect(k.dmesg().join('\n')).not.toContain('BUG');
  });
});

describe('error paths', () => {
  it('kmemCacheFree with the wrong cache warns', () => {
    const k = boot({ memory: '32M' });
    const a = k.kmemCacheCreate('cache_a', 100, { flags: SLAB_NO_MERGE });
    const b = k.kmemCacheCreate('cache_b', 100, { flags: SLAB_NO_MERGE });
    const o = k.kmemCacheAlloc(b, GFP_KERNEL);
    k.kmemCacheFree(a, o);
    expect(dmesgText(k)).toContain('cache_from_obj: Wrong slab cache. cache_a but object is from cache_b');
  });

  it('a pointer into the middle of an object is an invalid object pointer', () => {
    const k = boot({ memory: '32M' });
    const p = k.kmalloc(64, GFP_KERNEL);
    k.kfree(p + 8);
    // slab_err() as slub_debug=F prints it: the BUG block, print_slab_info(), the WARN.
    const lines = k.dmesg().map((l) => l.replace(/^\[[ \d.]+\] /, ''));
    const at = lines.findIndex((l) => l.startsWith('BUG kmalloc-64'));
    expect(lines[at]).toBe(`BUG kmalloc-64 (Not tainted): Invalid object pointer 0x${(0xffff888000000000n + BigInt(p + 8)).toString(16)}`);
    expect(lines[at + 3]).toMatch(/^Slab 0xffffea[0-9a-f]{10} objects=64 used=\d+ fp=0x[0-9a-f]{16} flags=0x[0-9a-f]+\(/);
    expect(lines.slice(at).some((l) => /^WARNING: CPU: 0 PID: \d+ at mm\/slub\.c slab_err$/.test(l))).toBe(true);
    // The object is still allocated: freeing it properly works.
    k.kfree(p);
    expect(k.dmesg().filter((l) => l.includes('BUG '))).toHaveLength(1);
  });

  it('kfree of a page that is neither slab nor large kmalloc: WARN_ON_ONCE, then dump_page each time', () => {
    const k = boot({ memory: '32M' });
    const page = k.allocPages(0, GFP_KERNEL);
    k.kfree(page);
    k.kfree(page);
    const lines = k.dmesg().map((l) => l.replace(/^\[[ \d.]+\] /, ''));
    expect(lines.filter((l) => l === '------------[ cut here ]------------')).toHaveLength(1);
    // The WARN_ON has no message: the WARNING line follows the cut.
    expect(lines[lines.indexOf('------------[ cut here ]------------') + 1]).toMatch(/^WARNING: CPU: 0 PID: \d+ at mm\/slub\.c/);
    expect(lines.filter((l) => l === 'page dumped because: Not a kmalloc allocation')).toHaveLength(2);
  });

  it('kmemCacheFree of a page that is not a slab: virt_to_cache WARN_ONCE, nothing freed', () => {
    const k = boot({ memory: '32M' });
    const c = k.kmemCacheCreate('some_cache', 100, {});
    const page = k.allocPages(0, GFP_KERNEL);
    k.kmemCacheFree(c, page);
    k.kmemCacheFree(c, page + 128);
    const text = dmesgText(k);
    expect(text.match(/virt_to_cache: Object is not a Slab page!/g)).toHaveLength(1);
    expect(text.match(/cut here/g)).toHaveLength(1);
  });

  it('rejects bad sizes and caches', () => {
    const k = boot({ memory: '32M' });
    expect(() => k.kmalloc(-1, GFP_KERNEL)).toThrow(RangeError);
    expect(() => k.kmalloc(-1, GFP_KERNEL)).toThrow(/size/);
    expect(() => k.kmalloc(1.5, GFP_KERNEL)).toThrow(RangeError);
    expect(() => k.kmalloc(1.5, GFP_KERNEL)).toThrow(/size/);
    expect(() => k.kmalloc(Number.NaN, GFP_KERNEL)).toThrow(RangeError);
    expect(() => k.kmalloc(Number.NaN, GFP_KERNEL)).toThrow(/size/);
    expect(() => k.kmalloc('8' as unknown as number, GFP_KERNEL)).toThrow(TypeError);
    expect(() => k.kmalloc('8' as unknown as number, GFP_KERNEL)).toThrow(/size/);
    expect(() => k.kzalloc(-5, GFP_KERNEL)).toThrow(/size/);
    expect(() => k.kmemCacheAlloc(987, GFP_KERNEL)).toThrow(RangeError);
    expect(() => k.kmemCacheAlloc(987, GFP_KERNEL)).toThrow(/cache/);
    expect(() => k.kmemCacheFree(-1, 4096)).toThrow(/cache/);
    expect(() => k.kmemCacheShrink(1.5)).toThrow(TypeError);
  });

  it('kmem_cache_alloc/free: a value that is not a live cache handle is an error naming cache', () => {
    const k = boot({ memory: '32M' });
    const c = k.kmemCacheCreate('gone_soon', 64, {});
    const p = k.kmemCacheAlloc(c, GFP_KERNEL);
    for (const bad of [c + 0.5, -1, 1e9, Number.NaN, String(c), 2n ** 40n] as unknown as number[]) {
      expect(() => k.kmemCacheAlloc(bad, GFP_KERNEL)).toThrow(/^cache: /);
      expect(() => k.kmemCacheFree(bad, p)).toThrow(/^cache: /);
    }
    expect(() => k.kmemCacheAlloc(c, -1)).toThrow(/gfp/);
    k.kmemCacheFree(c, p);
    k.kmemCacheDestroy(c);
    // A destroyed cache's handle: the right type, no longer a live cache.
    expect(() => k.kmemCacheAlloc(c, GFP_KERNEL)).toThrow(RangeError);
    expect(() => k.kmemCacheFree(c, p)).toThrow(RangeError);
  });

  it('kfree: every address up to ZERO_SIZE_PTR is a no-op, anything not an address is an error naming addr', () => {
    const k = boot({ memory: '32M' });
    const before = k.proc.read('/proc/slabinfo');
    const lines = k.dmesg().length;
    for (const a of [0, 1, 15, 16]) k.kfree(a);
    expect(k.proc.read('/proc/slabinfo')).toBe(before);
    expect(k.dmesg().length).toBe(lines);
    expect(() => k.kfree(-1)).toThrow(/addr/);
    expect(() => k.kfree(1.5)).toThrow(TypeError);
    expect(() => k.kfree(32 * 1024 * 1024)).toThrow(RangeError);
    expect(() => k.kfree(2 ** 32 + 4096)).toThrow(RangeError);
    expect(() => k.kfree('4096' as unknown as number)).toThrow(TypeError);
    expect(() => k.kfree(4096n as unknown as number)).toThrow(/addr/);
    // An address held as a double (a Float64Array element) frees like any other.
    const held = new Float64Array([k.kmalloc(64, GFP_KERNEL)]);
    k.kfree(held[0]!);
    expect(k.kmalloc(64, GFP_KERNEL)).toBe(held[0]);
  });

  it('kmalloc: bad GFP flags are errors naming gfp', () => {
    const k = boot({ memory: '32M' });
    expect(() => k.kmalloc(64, -1)).toThrow(/gfp/);
    expect(() => k.kmalloc(64, 0.5)).toThrow(/gfp/);
    expect(() => k.kmalloc(64, 2 ** 31)).toThrow(/gfp/);
    expect(() => k.kmalloc(64, 0xcc0n as unknown as number)).toThrow(/gfp/);
    expect(() => k.kmalloc(64, GFP_KERNEL | __GFP_RECLAIMABLE | __GFP_MOVABLE)).toThrow(RangeError);
    expect(() => k.kmalloc(64.5, GFP_KERNEL)).toThrow(/size/);
  });

  it('a naive double free is a kernel BUG', () => {
    const k = boot({ memory: '32M' });
    const p = k.kmalloc(64, GFP_KERNEL);
    k.kfree(p);
    k.kfree(p);
    expect(dmesgText(k)).toContain('kernel BUG at mm/slub.c');
    // The object was not linked to itself: the freelist still moves on.
    expect(k.kmalloc(64, GFP_KERNEL)).toBe(p);
    expect(k.kmalloc(64, GFP_KERNEL)).not.toBe(p);
  });

  it("a naive double free throws KernelBug with onBug: 'throw'", () => {
    const k = boot({ memory: '32M', onBug: 'throw' });
    const p = k.kmalloc(64, GFP_KERNEL);
    k.kfree(p);
    expect(() => k.kfree(p)).toThrow(KernelBug);
  });

  it('a double free on the slow path (slab->freelist head) is a kernel BUG too', () => {
    const k = boot({ memory: '32M', cpus: 2, onBug: 'throw' });
    const c = k.kmemCacheCreate('df_slow', 72, { align: 8 });
    const x = k.onCpu(0, () => k.kmemCacheAlloc(c, GFP_KERNEL));
    k.onCpu(1, () => k.kmemCacheFree(c, x));
    expect(() => k.onCpu(1, () => k.kmemCacheFree(c, x))).toThrow(KernelBug);
  });
});
