/**
 * lib/slub_kunit.c (KUnit suite "slub_test", Linux 6.12 .. 6.18) rewritten
 * for kmem. Each case builds its cache the way test_kmem_cache_create() does
 * (the flags plus SLAB_NO_USER_FLAGS, so slub_debug= cannot change them),
 * starts with slab_errors = 0 as test_init() does, and expects the kernel's
 * slab_errors counts: slab_add_kunit_errors() is called once per damaged
 * region by check_bytes_and_report() and once per FIX by slab_fix(), so one
 * damaged region counts 2; object_err() and slab_err() count 1 each, and
 * list_slab_objects() 1 for its report plus 1 per object left.
 *
 * kmem counts at the same places (k.slub.debug.errors) and, unlike a kernel
 * inside a KUnit test, still prints every report.
 *
 * The later cases of the file (test_bench, test_kmalloc_nolock_*,
 * test_kmem_buckets_*) measure or exercise APIs kmem does not have and are
 * not part of the suite the issue lists.
 */
import { describe, expect, it } from 'vitest';
import { boot, type Kernel } from '../../src/kernel.js';
import { __GFP_ZERO, GFP_KERNEL } from '../../src/page_alloc/gfp.js';
import { SLUB_RED_ACTIVE } from '../../src/slub/debug.js';
import { CF } from '../../src/slub/slab.js';
import { SLAB_KMALLOC, SLAB_NO_MERGE, SLAB_NO_USER_FLAGS, SLAB_POISON, SLAB_RED_ZONE, SLAB_STORE_USER } from '../../src/slub/slab_flags.js';
import { sid } from './handle_id.js';

/** test_init(): a machine and slab_errors = 0. */
function setup(): Kernel {
  const k = boot();
  k.slub.debug!.errors = 0;
  return k;
}

function slabErrors(k: Kernel): number {
  return k.slub.debug!.errors;
}

function resetErrors(k: Kernel): void {
  k.slub.debug!.errors = 0;
}

/** test_kmem_cache_create(): no align, no ctor, SLAB_NO_USER_FLAGS added. */
function testCacheCreate(k: Kernel, name: string, size: number, flags: number): number {
  return k.kmemCacheCreate(name, size, { flags: flags | SLAB_NO_USER_FLAGS });
}

/** __kmalloc_cache_noprof(s, gfp, size): a kmalloc of `size` bytes from cache s. */
function kmallocCache(k: Kernel, s: number, gfp: number, size: number): number {
  return k.slub.slabAlloc(sid(k, s), gfp, size);
}

describe('lib/slub_kunit.c', () => {
  it('test_clobber_zone: a byte past a live object (right redzone) counts 2', () => {
    const k = setup();
    const s = testCacheCreate(k, 'TestSlub_RZ_alloc', 64, SLAB_RED_ZONE);
    const p = k.kmemCacheAlloc(s, GFP_KERNEL);
    k.phys.u8[p + 64] = 0x12;
    k.slabValidate(s);
    expect(slabErrors(k)).toBe(2);
    k.kmemCacheFree(s, p);
    k.kmemCacheDestroy(s);
    expect(slabErrors(k)).toBe(2);
  });

  // The next three are built only without CONFIG_KASAN; kmem boots without KASAN here.
  it('test_next_pointer: a corrupt free pointer counts 3, the stale counter 2, then 0', () => {
    const k = setup();
    const s = testCacheCreate(k, 'TestSlub_next_ptr_free', 64, SLAB_POISON);
    const p = k.kmemCacheAlloc(s, GFP_KERNEL);
    k.kmemCacheFree(s, p);
    const ptrAddr = p + k.slub.cf[sid(k, s) * CF.FIELDS + CF.OFFSET]!;
    const tmp = k.phys.u8.slice(ptrAddr, ptrAddr + 8);
    k.phys.u8[ptrAddr] = ~k.phys.u8[ptrAddr]! & 0xff;

    // The corrupted freechain, the wrong count of objects in use, and the fix of the count.
    k.slabValidate(s);
    expect(slabErrors(k)).toBe(3);

    // The free pointer repaired: still the wrong count (now too high) and its fix.
    k.phys.u8.set(tmp, ptrAddr);
    resetErrors(k);
    k.slabValidate(s);
    expect(slabErrors(k)).toBe(2);

    // The previous validation repaired the count.
    resetErrors(k);
    k.slabValidate(s);
    expect(slabErrors(k)).toBe(0);

    k.kmemCacheDestroy(s);
  });

  it('test_first_word: the first byte of a freed object counts 2', () => {
    const k = setup();
    const s = testCacheCreate(k, 'TestSlub_1th_word_free', 64, SLAB_POISON);
    const p = k.kmemCacheAlloc(s, GFP_KERNEL);
    k.kmemCacheFree(s, p);
    k.phys.u8[p] = 0x78;
    k.slabValidate(s);
    expect(slabErrors(k)).toBe(2);
    k.kmemCacheDestroy(s);
  });

  it('test_clobber_50th_byte: byte 50 of a freed object counts 2', () => {
    const k = setup();
    const s = testCacheCreate(k, 'TestSlub_50th_word_free', 64, SLAB_POISON);
    const p = k.kmemCacheAlloc(s, GFP_KERNEL);
    k.kmemCacheFree(s, p);
    k.phys.u8[p + 50] = 0x9a;
    k.slabValidate(s);
    expect(slabErrors(k)).toBe(2);
    k.kmemCacheDestroy(s);
  });

  it('test_clobber_redzone_free: the right redzone of a freed object counts 2', () => {
    const k = setup();
    const s = testCacheCreate(k, 'TestSlub_RZ_free', 64, SLAB_RED_ZONE);
    const p = k.kmemCacheAlloc(s, GFP_KERNEL);
    k.kmemCacheFree(s, p);
    k.phys.u8[p + 64] = 0xab;
    k.slabValidate(s);
    expect(slabErrors(k)).toBe(2);
    k.kmemCacheDestroy(s);
  });

  it('test_kmalloc_redzone_access: two bytes past an 18-byte kmalloc in a 32-byte object count 2', () => {
    const k = setup();
    const s = testCacheCreate(k, 'TestSlub_RZ_kmalloc', 32, SLAB_KMALLOC | SLAB_STORE_USER | SLAB_RED_ZONE);
    const p = kmallocCache(k, s, GFP_KERNEL, 18);
    k.phys.u8[p + 18] = 0xab;
    k.phys.u8[p + 19] = 0xab;
    k.slabValidate(s);
    expect(slabErrors(k)).toBe(2);
    expect(k.dmesg().some((l) => l.includes('[kmalloc Redzone overwritten]'))).toBe(true);
    k.kmemCacheFree(s, p);
    k.kmemCacheDestroy(s);
    expect(slabErrors(k)).toBe(2);
  });

  it('test_kfree_rcu (nearest equivalent): free, then destroy the cache, counts 0', () => {
    // kmem has no RCU: kfree_rcu() would free the object after a grace period,
    // and kmem_cache_destroy() first waits for in-flight kfree_rcu()s
    // (kvfree_rcu_barrier). The nearest kmem sequence frees the object before
    // the destroy, which is what the barrier guarantees. The kernel skips this
    // case when the test is built in; kmem runs it.
    const k = setup();
    const s = testCacheCreate(k, 'TestSlub_kfree_rcu', 16, SLAB_NO_MERGE);
    const p = k.kmemCacheAlloc(s, GFP_KERNEL);
    k.kmemCacheFree(s, p);
    k.kmemCacheDestroy(s);
    expect(slabErrors(k)).toBe(0);
    expect(k.kmemCacheByName('TestSlub_kfree_rcu')).toBe(-1);
  });

  it('test_kfree_rcu_wq_destroy (nearest equivalent): 10 caches destroyed from another CPU after a random delay, counts 0', () => {
    // kmem has no workqueues nor RCU: the destroy runs as CPU 1 (the
    // WQ_UNBOUND worker) after the object has been freed (the grace period)
    // and a random delay of up to 255 ms (get_random_u8() ms of msleep).
    const k = setup();
    for (let i = 0; i < 10; i++) {
      const s = testCacheCreate(k, 'TestSlub_kfree_rcu_wq_destroy', 16, SLAB_NO_MERGE);
      const delay = k.rand32() & 0xff;
      const p = k.kmemCacheAlloc(s, GFP_KERNEL);
      k.kmemCacheFree(s, p);
      k.tick(delay * 1_000_000);
      k.onCpu(1, () => k.kmemCacheDestroy(s));
    }
    expect(slabErrors(k)).toBe(0);
  });

  it('test_leak_destroy: destroying a cache with one object left counts 2', () => {
    const k = setup();
    const s = testCacheCreate(k, 'TestSlub_leak_destroy', 64, SLAB_NO_MERGE);
    k.kmemCacheAlloc(s, GFP_KERNEL);
    k.kmemCacheDestroy(s);
    expect(slabErrors(k)).toBe(2);
    const text = k.dmesg().join('\n');
    expect(text).toContain('BUG TestSlub_leak_destroy (Not tainted): Objects remaining on __kmem_cache_shutdown()');
    expect(text).toContain('kmem_cache_destroy TestSlub_leak_destroy: Slab cache still has objects when called from');
  });

  it('test_krealloc_redzone_zeroing: krealloc keeps the kmalloc redzone and zeroes what grows, counts 0', () => {
    const k = setup();
    const s = testCacheCreate(k, 'TestSlub_krealloc', 64, SLAB_KMALLOC | SLAB_STORE_USER | SLAB_RED_ZONE);
    const u8 = k.phys.u8;
    let p = kmallocCache(k, s, GFP_KERNEL, 48);
    u8.fill(0xff, p, p + 48);

    // Shrink: everything from the new size on is redzone.
    p = k.krealloc(p, 40, GFP_KERNEL | __GFP_ZERO);
    for (let i = 40; i < 64; i++) expect(u8[p + i]).toBe(SLUB_RED_ACTIVE);

    // Grow within the same 64-byte object: the new bytes are zero, the rest stays redzone.
    p = k.krealloc(p, 56, GFP_KERNEL | __GFP_ZERO);
    for (let i = 40; i < 56; i++) expect(u8[p + i]).toBe(0);
    for (let i = 56; i < 64; i++) expect(u8[p + i]).toBe(SLUB_RED_ACTIVE);

    k.slabValidate(s);
    expect(slabErrors(k)).toBe(0);

    // Grow beyond the object: a new 128-byte kmalloc object, the 56 bytes copied, the rest zero.
    u8.fill(0xff, p, p + 56);
    const old = p;
    p = k.krealloc(p, 112, GFP_KERNEL | __GFP_ZERO);
    expect(p).not.toBe(old);
    for (let i = 0; i < 56; i++) expect(u8[p + i]).toBe(0xff);
    for (let i = 56; i < 112; i++) expect(u8[p + i]).toBe(0);

    k.kfree(p);
    k.kmemCacheDestroy(s);
    expect(slabErrors(k)).toBe(0);
  });
});
