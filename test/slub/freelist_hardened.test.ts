/**
 * CONFIG_SLAB_FREELIST_HARDENED: a free object holds the next free object's
 * address as ptr ^ s->random ^ swab(&fp), 64 bits (mm/slub.c
 * freelist_ptr_encode). The test learns s->random from one stored pointer and
 * checks that every path that writes free pointers (the lockless kfree, the
 * remote __slab_free, NULL at the end of a freelist, the bulk free) writes
 * the same encoding; with hardening off the plain pointer is stored.
 */
import { describe, expect, it } from 'vitest';
import { boot, GFP_KERNEL, SLAB_NO_MERGE } from '../../src/index.js';

const DIRECT_MAP = 0xffff888000000000n;
/** kmalloc-64's free pointer sits mid-object (calculate_sizes: no ctor, no RCU, no poisoning). */
const FP_OFFSET = 32;

function swab64(x: bigint): bigint {
  let r = 0n;
  for (let i = 0n; i < 8n; i++) r |= ((x >> (8n * i)) & 0xffn) << (8n * (7n - i));
  return r;
}

function stored(k: ReturnType<typeof boot>, obj: number): bigint {
  const u8 = k.mem.u8;
  let v = 0n;
  for (let i = 7; i >= 0; i--) v = (v << 8n) | BigInt(u8[obj + FP_OFFSET + i]!);
  return v;
}

/** The kernel's pointer for a kmem address (0 stays NULL). */
const kptr = (addr: number): bigint => (addr === 0 ? 0n : DIRECT_MAP + BigInt(addr));
const loc = (obj: number): bigint => DIRECT_MAP + BigInt(obj + FP_OFFSET);

describe('hardened free pointers', () => {
  it('every free path stores ptr ^ random ^ swab(&fp), NULL included', () => {
    const k = boot({ memory: '64M', cpus: 2 });
    const c = k.kmemCacheCreate('hardened_test', 64, {});
    const objs = k.onCpu(0, () => Array.from({ length: 8 }, () => k.kmemCacheAlloc(c, GFP_KERNEL)));
    const [a, b, cc, d] = objs as [number, number, number, number];
    // The cpu freelist now starts at the object after the eighth.
    const next = k.onCpu(0, () => {
      const n = k.kmemCacheAlloc(c, GFP_KERNEL);
      k.kmemCacheFree(c, n);
      return n;
    });
    // Lockless free of b: b -> next. Learn s->random from it.
    k.onCpu(0, () => k.kfree(b));
    const random = stored(k, b) ^ kptr(next) ^ swab64(loc(b));
    const decode = (obj: number): bigint => stored(k, obj) ^ random ^ swab64(loc(obj));
    expect(random).not.toBe(0n);
    // Lockless kfree again: a -> b.
    k.onCpu(0, () => k.kfree(a));
    expect(decode(a)).toBe(kptr(b));
    // Remote frees (__slab_free on the frozen cpu slab of CPU 0): the slab's
    // own freelist was empty, so cc -> NULL, then d -> cc.
    k.onCpu(1, () => k.kfree(cc));
    expect(decode(cc)).toBe(0n);
    k.onCpu(1, () => k.kfree(d));
    expect(decode(d)).toBe(kptr(cc));
    // Bulk free on CPU 0: a detached freelist then spliced onto the cpu freelist.
    const rest = objs.slice(4);
    k.onCpu(0, () => k.kmemCacheFreeBulk(c, rest));
    for (const o of rest) {
      const fp = decode(o);
      expect(fp === 0n || objs.some((x) => kptr(x) === fp) || fp === kptr(next)).toBe(true);
    }
    // A lockless free onto an empty cpu freelist stores NULL: use up the
    // cpu slab (it stays the cpu slab, its freelist NULL), then free one.
    const perSlab = Number(k.sys.read('/sys/kernel/slab/hardened_test/objs_per_slab'));
    const fresh = k.kmemCacheCreate('hardened_null', 64, { flags: SLAB_NO_MERGE });
    const all = k.onCpu(0, () => Array.from({ length: perSlab }, () => k.kmemCacheAlloc(fresh, GFP_KERNEL)));
    const last = all[perSlab - 1]!;
    k.onCpu(0, () => k.kfree(last));
    const random2 = stored(k, last) ^ swab64(loc(last));
    k.onCpu(0, () => k.kfree(all[0]!));
    expect(stored(k, all[0]!) ^ random2 ^ swab64(loc(all[0]!))).toBe(kptr(last));
    // Walking the cpu freelist by decoding reaches every free object of CPU 0.
    const walked = new Set<bigint>();
    let p = kptr(k.onCpu(0, () => k.kmemCacheAlloc(c, GFP_KERNEL)));
    const first = Number(p - DIRECT_MAP);
    k.onCpu(0, () => k.kfree(first));
    for (let n = 0; p !== 0n && n < 100; n++) {
      walked.add(p);
      p = decode(Number(p - DIRECT_MAP));
    }
    for (const o of [a, b, next, ...rest]) expect(walked.has(kptr(o))).toBe(true);
  });

  it('without hardening the free pointer is the plain pointer', () => {
    const k = boot({ memory: '64M', cpus: 2, freelistHardened: false });
    const c = k.kmemCacheCreate('plain_test', 64, {});
    const [a, b] = k.onCpu(0, () => [k.kmemCacheAlloc(c, GFP_KERNEL), k.kmemCacheAlloc(c, GFP_KERNEL)]) as [number, number];
    k.onCpu(0, () => k.kfree(b));
    k.onCpu(0, () => k.kfree(a));
    expect(stored(k, a)).toBe(kptr(b));
    // A remote free onto the frozen slab's empty freelist stores NULL.
    const x = k.onCpu(0, () => k.kmemCacheAlloc(c, GFP_KERNEL));
    const y = k.onCpu(0, () => k.kmemCacheAlloc(c, GFP_KERNEL));
    expect([x, y]).toEqual([a, b]);
    k.onCpu(1, () => k.kfree(y));
    expect(stored(k, y)).toBe(0n);
  });
});
