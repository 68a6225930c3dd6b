/**
 * The kernel's KASAN KUnit suite (mm/kasan/kasan_test_c.c, 75 cases),
 * rewritten for kmem with generic KASAN. Each KUNIT_EXPECT_KASAN_FAIL
 * becomes expectKasanFail(), which checks the bug type, the access, its size
 * and where it lies, not only that a report appeared; after each case no
 * stray report may have happened (kasan_test_exit).
 *
 * Cases that cannot apply to kmem are listed in NOT_APPLICABLE with the
 * reason, and the last test checks that every one of the 75 cases is either
 * run here or listed there.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { __GFP_ZERO, GFP_KERNEL, KASAN_GLOBAL_REDZONE, KASAN_SLAB_FREE, KASAN_SLAB_FREE_META, type Kernel, KernelBug, Mempool } from '../../src/index.js';
import { SLAB_ACCOUNT, SLAB_NO_MERGE, SLAB_TYPESAFE_BY_RCU } from '../../src/slub/slab_flags.js';
import { type Expected, expectKasanFail, expectNoReport, kasanBoot, reportCount, strayReports } from './helpers.js';

const G = 8; // KASAN_GRANULE_SIZE
const KMCS = 8192; // KMALLOC_MAX_CACHE_SIZE
const roundUp = (n: number, a: number) => Math.ceil(n / a) * a;

/** Every case of the kernel suite, in its order. */
const ALL_CASES = [
  'kmalloc_oob_right',
  'kmalloc_oob_left',
  'kmalloc_node_oob_right',
  'kmalloc_track_caller_oob_right',
  'kmalloc_big_oob_right',
  'kmalloc_large_oob_right',
  'kmalloc_large_uaf',
  'kmalloc_large_invalid_free',
  'page_alloc_oob_right',
  'page_alloc_uaf',
  'krealloc_more_oob',
  'krealloc_less_oob',
  'krealloc_large_more_oob',
  'krealloc_large_less_oob',
  'krealloc_uaf',
  'kmalloc_oob_16',
  'kmalloc_uaf_16',
  'kmalloc_oob_in_memset',
  'kmalloc_oob_memset_2',
  'kmalloc_oob_memset_4',
  'kmalloc_oob_memset_8',
  'kmalloc_oob_memset_16',
  'kmalloc_memmove_negative_size',
  'kmalloc_memmove_invalid_size',
  'kmalloc_uaf',
  'kmalloc_uaf_memset',
  'kmalloc_uaf2',
  'kmalloc_uaf3',
  'kmalloc_double_kzfree',
  'ksize_unpoisons_memory',
  'ksize_uaf',
  'rcu_uaf',
  'workqueue_uaf',
  'kfree_via_page',
  'kfree_via_phys',
  'kmem_cache_oob',
  'kmem_cache_double_free',
  'kmem_cache_invalid_free',
  'kmem_cache_rcu_uaf',
  'kmem_cache_double_destroy',
  'kmem_cache_accounted',
  'kmem_cache_bulk',
  'mempool_kmalloc_oob_right',
  'mempool_kmalloc_large_oob_right',
  'mempool_slab_oob_right',
  'mempool_kmalloc_uaf',
  'mempool_kmalloc_large_uaf',
  'mempool_slab_uaf',
  'mempool_page_alloc_uaf',
  'mempool_kmalloc_double_free',
  'mempool_kmalloc_large_double_free',
  'mempool_page_alloc_double_free',
  'mempool_kmalloc_invalid_free',
  'mempool_kmalloc_large_invalid_free',
  'kasan_global_oob_right',
  'kasan_global_oob_left',
  'kasan_stack_oob',
  'kasan_alloca_oob_left',
  'kasan_alloca_oob_right',
  'kasan_memchr',
  'kasan_memcmp',
  'kasan_strings',
  'kasan_bitops_generic',
  'kasan_bitops_tags',
  'kasan_atomics',
  'vmalloc_helpers_tags',
  'vmalloc_oob',
  'vmap_tags',
  'vm_map_ram_tags',
  'match_all_not_assigned',
  'match_all_ptr_tag',
  'match_all_mem_tag',
  'copy_to_kernel_nofault_oob',
  'rust_uaf',
  'copy_user_test_oob',
];

/**
 * The cases kmem does not run, and why. Those that need tag-based modes or
 * vmalloc are pending: kmem implements generic KASAN, and vmalloc belongs
 * to the virtual-memory phase.
 */
const NOT_APPLICABLE: Record<string, string> = {
  page_alloc_oob_right: 'generic mode only: page allocations have no redzones (the kernel skips it with CONFIG_KASAN_GENERIC)',
  kmalloc_uaf3: 'tag-based modes only: generic KASAN catches it with the quarantine (kmalloc_uaf2 here)',
  kmem_cache_rcu_uaf: 'needs CONFIG_SLUB_RCU_DEBUG and RCU grace periods; kmem has no RCU',
  kasan_stack_oob: 'needs CONFIG_KASAN_STACK: compiler-instrumented kernel stack frames; JavaScript locals do not live in kmem memory',
  kasan_alloca_oob_left: 'needs CONFIG_KASAN_STACK (dynamic allocas on the kernel stack)',
  kasan_alloca_oob_right: 'needs CONFIG_KASAN_STACK (dynamic allocas on the kernel stack)',
  kasan_bitops_tags: 'tag-based modes only (kasan_bitops_generic is the generic version)',
  vmalloc_helpers_tags: 'pending: tag-based modes and CONFIG_KASAN_VMALLOC; kmem has no vmalloc yet',
  vmalloc_oob: 'pending: needs vmalloc (CONFIG_KASAN_VMALLOC); kmem has no vmalloc yet (phase 2)',
  vmap_tags: 'pending: software tag-based mode and vmap',
  vm_map_ram_tags: 'pending: software tag-based mode and vm_map_ram',
  match_all_not_assigned: 'tag-based modes only (pointer tags)',
  match_all_ptr_tag: 'tag-based modes only (pointer tags)',
  match_all_mem_tag: 'tag-based modes only (memory tags)',
  rust_uaf: 'needs CONFIG_RUST: a Rust smoke test of the instrumentation',
};

const covered = new Set<string>();
/** A kmem test for one kernel case. */
function kcase(name: string, fn: (k: Kernel) => void): void {
  covered.add(name);
  it(name, () => fn(k));
}

let k: Kernel;
let before = 0;
beforeEach(() => {
  k = kasanBoot();
  before = reportCount(k);
});
afterEach(() => {
  // kasan_test_exit(): no report outside an expected one.
  expect(strayReports(k)).toBe(0);
});

const oob = (access: 'read' | 'write', size: number | bigint, extra: Partial<Expected> = {}): Expected => ({
  bugType: 'slab-out-of-bounds',
  access,
  size,
  ...extra,
});
const uaf = (access: 'read' | 'write', size: number, extra: Partial<Expected> = {}): Expected => ({
  bugType: 'slab-use-after-free',
  access,
  size,
  ...extra,
});

describe('kmalloc out of bounds', () => {
  kcase('kmalloc_oob_right', (k) => {
    const size = 128 - G - 5;
    const ptr = k.kmalloc(size, GFP_KERNEL);
    expectKasanFail(
      k,
      () => k.mem.write8(ptr + size, 0x78),
      oob('write', 1, { offset: size, relation: 'to the right', relBytes: 0, allocSize: 115, cache: 'kmalloc-128' }),
    );
    expectKasanFail(k, () => k.mem.write8(ptr + size + 5, 0x79), oob('write', 1, { offset: 120, relBytes: 5 }));
    expectKasanFail(k, () => k.mem.write8(ptr, k.mem.read8(ptr + size + G + 5)), oob('read', 1, { offset: 128, relBytes: 13 }));
    expectNoReport(k, () => k.kfree(ptr));
  });

  kcase('kmalloc_oob_left', (k) => {
    const prev = k.kmalloc(15, GFP_KERNEL);
    const ptr = k.kmalloc(15, GFP_KERNEL);
    // The byte before the object is the previous slot's redzone; the report describes that object.
    const [r] = expectKasanFail(k, () => k.mem.write8(ptr, k.mem.read8(ptr - 1)), oob('read', 1, { addr: ptr - 1, relation: 'to the right' }));
    expect(r!.object).toBe(prev);
    expect(r!.relBytes).toBe(ptr - 1 - (prev + 15));
    k.kfree(ptr);
    k.kfree(prev);
  });

  kcase('kmalloc_node_oob_right', (k) => {
    const ptr = k.kmalloc(4096, GFP_KERNEL);
    expectKasanFail(k, () => k.mem.write8(ptr, k.mem.read8(ptr + 4096)), oob('read', 1, { offset: 4096, relBytes: 0, cache: 'kmalloc-4k' }));
    k.kfree(ptr);
  });

  kcase('kmalloc_track_caller_oob_right', (k) => {
    const size = 128 - G;
    for (let i = 0; i < 2; i++) {
      const ptr = k.kmalloc(size, GFP_KERNEL);
      expectKasanFail(k, () => k.mem.write8(ptr + size, 0x79), oob('write', 1, { offset: size, relBytes: 0 }));
      k.kfree(ptr);
    }
  });

  kcase('kmalloc_big_oob_right', (k) => {
    const size = KMCS - 256;
    const ptr = k.kmalloc(size, GFP_KERNEL);
    expectKasanFail(k, () => k.mem.write8(ptr + size, 0), oob('write', 1, { offset: size, cache: 'kmalloc-8k' }));
    k.kfree(ptr);
  });

  kcase('kmalloc_large_oob_right', (k) => {
    const size = KMCS + 10;
    const ptr = k.kmalloc(size, GFP_KERNEL);
    // A page-allocator kmalloc: KASAN_PAGE_REDZONE past the size, no slab object to describe.
    const [r] = expectKasanFail(k, () => k.mem.write8(ptr + size, 0), oob('write', 1, { addr: ptr + size, cache: null }));
    expect(r!.lines).toContain('The buggy address belongs to the physical page:');
    k.kfree(ptr);
  });

  kcase('kmalloc_large_uaf', (k) => {
    const ptr = k.kmalloc(KMCS + 10, GFP_KERNEL);
    k.kfree(ptr);
    expectKasanFail(k, () => k.mem.read8(ptr), { bugType: 'use-after-free', access: 'read', size: 1, addr: ptr });
  });

  kcase('kmalloc_large_invalid_free', (k) => {
    const ptr = k.kmalloc(KMCS + 10, GFP_KERNEL);
    const [r] = expectKasanFail(k, () => k.kfree(ptr + 1), { bugType: 'invalid-free', access: 'free', size: 0, addr: ptr + 1 });
    expect(r!.lines[2]).toMatch(/^Free of addr [0-9a-f]{16} by task kmem\/1$/);
    // free_large_kmalloc() goes on after the report: the pages are free.
    expectKasanFail(k, () => k.mem.read8(ptr), { bugType: 'use-after-free', access: 'read', size: 1, addr: ptr, cache: null });
  });
});

describe('page allocator', () => {
  kcase('page_alloc_uaf', (k) => {
    const ptr = k.allocPages(4, GFP_KERNEL);
    k.freePages(ptr, 4);
    expectKasanFail(k, () => k.mem.read8(ptr), { bugType: 'use-after-free', access: 'read', size: 1, addr: ptr, cache: null });
  });
});

describe('krealloc', () => {
  function moreOob(k: Kernel, size1: number, size2: number): void {
    const middle = size1 + Math.floor((size2 - size1) / 2);
    const ptr1 = k.kmalloc(size1, GFP_KERNEL);
    const ptr2 = k.krealloc(ptr1, size2, GFP_KERNEL);
    expect(ptr2).not.toBe(0);
    expectNoReport(k, () => {
      for (const off of [size1 - 1, size1, middle, size2 - 1]) k.mem.write8(ptr2 + off, 0x78);
    });
    expectKasanFail(k, () => k.mem.write8(ptr2 + size2, 0x78), oob('write', 1, { addr: ptr2 + size2 }));
    expectKasanFail(k, () => k.mem.write8(ptr2 + roundUp(size2, G), 0x78), oob('write', 1, { addr: ptr2 + roundUp(size2, G) }));
    k.kfree(ptr2);
  }
  function lessOob(k: Kernel, size1: number, size2: number): void {
    const middle = size2 + Math.floor((size1 - size2) / 2);
    const ptr1 = k.kmalloc(size1, GFP_KERNEL);
    const ptr2 = k.krealloc(ptr1, size2, GFP_KERNEL);
    expect(ptr2).toBe(ptr1);
    expectNoReport(k, () => k.mem.write8(ptr2 + size2 - 1, 0x78));
    for (const off of [size2, roundUp(size2, G), middle, size1 - 1, size1]) {
      expectKasanFail(k, () => k.mem.write8(ptr2 + off, 0x78), oob('write', 1, { addr: ptr2 + off }));
    }
    k.kfree(ptr2);
  }
  kcase('krealloc_more_oob', (k) => moreOob(k, 201, 235));
  kcase('krealloc_less_oob', (k) => lessOob(k, 235, 201));
  kcase('krealloc_large_more_oob', (k) => moreOob(k, KMCS + 201, KMCS + 235));
  kcase('krealloc_large_less_oob', (k) => lessOob(k, KMCS + 235, KMCS + 201));

  kcase('krealloc_uaf', (k) => {
    const ptr1 = k.kmalloc(201, GFP_KERNEL);
    k.kfree(ptr1);
    let ptr2 = -1;
    expectKasanFail(k, () => (ptr2 = k.krealloc(ptr1, 235, GFP_KERNEL)), uaf('read', 1, { addr: ptr1, offset: 0 }));
    expect(ptr2).toBe(0);
    expectKasanFail(k, () => k.mem.read8(ptr1), uaf('read', 1, { addr: ptr1 }));
  });
});

describe('16-byte and mem* accesses', () => {
  kcase('kmalloc_oob_16', (k) => {
    const ptr1 = k.kmalloc(16 - 3, GFP_KERNEL);
    const ptr2 = k.kmalloc(16, GFP_KERNEL);
    // *ptr1 = *ptr2 for a 16-byte struct: a 16-byte copy.
    expectKasanFail(k, () => k.mem.memcpy(ptr1, ptr2, 16), oob('write', 16, { addr: ptr1, offset: 0 }));
    k.kfree(ptr1);
    k.kfree(ptr2);
  });

  kcase('kmalloc_uaf_16', (k) => {
    const ptr1 = k.kmalloc(16, GFP_KERNEL);
    const ptr2 = k.kmalloc(16, GFP_KERNEL);
    k.kfree(ptr2);
    expectKasanFail(k, () => k.mem.memcpy(ptr1, ptr2, 16), uaf('read', 16, { addr: ptr2 }));
    k.kfree(ptr1);
  });

  kcase('kmalloc_oob_in_memset', (k) => {
    const size = 128 - G;
    const ptr = k.kmalloc(size, GFP_KERNEL);
    const [r] = expectKasanFail(k, () => k.mem.memset(ptr, 0, size + G), oob('write', size + G, { addr: ptr, offset: 0 }));
    expect(r!.firstBadAddr).toBe(ptr + size);
    k.kfree(ptr);
  });

  for (const [n, back] of [
    [2, 1],
    [4, 3],
    [8, 7],
    [16, 15],
  ] as const) {
    kcase(`kmalloc_oob_memset_${n}`, (k) => {
      const size = 128 - G;
      const ptr = k.kmalloc(size, GFP_KERNEL);
      const [r] = expectKasanFail(k, () => k.mem.memset(ptr + size - back, 0, n), oob('write', n, { addr: ptr + size - back }));
      // kasan_find_first_bad_addr() steps 8 bytes at a time from the access: into the first redzone granule.
      expect(r!.firstBadAddr - (r!.firstBadAddr % G)).toBe(ptr + size);
      k.kfree(ptr);
    });
  }

  kcase('kmalloc_memmove_negative_size', (k) => {
    const ptr = k.kmalloc(64, GFP_KERNEL);
    k.mem.memset(ptr, 0, 64);
    // (size_t)-2: the address range wraps around, so out-of-bounds whatever the shadow says.
    // The report, then the RangeError every negative length gets from k.mem.
    const [r] = expectKasanFail(k, () => expect(() => k.mem.memmove(ptr, ptr + 4, -2)).toThrow(RangeError), {
      bugType: 'out-of-bounds',
      access: 'read',
      size: 18446744073709551614n,
      addr: ptr + 4,
    });
    expect(r!.lines[2]).toMatch(/^Read of size 18446744073709551614 at addr /);
    k.kfree(ptr);
  });

  kcase('kmalloc_memmove_invalid_size', (k) => {
    const ptr = k.kmalloc(64, GFP_KERNEL);
    k.mem.memset(ptr, 0, 64);
    const [r] = expectKasanFail(k, () => k.mem.memmove(ptr, ptr + 4, 64), oob('read', 64, { addr: ptr + 4, offset: 4, relation: 'inside' }));
    expect(r!.firstBadAddr).toBe(ptr + 68);
    k.kfree(ptr);
  });
});

describe('use after free', () => {
  kcase('kmalloc_uaf', (k) => {
    const ptr = k.kmalloc(10, GFP_KERNEL);
    k.kfree(ptr);
    // A freed object's size is not in the shadow: the region is object_size.
    const [r] = expectKasanFail(k, () => k.mem.read8(ptr + 8), uaf('read', 1, { offset: 8, relation: 'inside', allocSize: 16, cache: 'kmalloc-16' }));
    expect(r!.lines).toContain(`The buggy address is located 8 bytes inside of`);
    expect(r!.free?.pid).toBe(1);
    expect(r!.alloc?.pid).toBe(1);
  });

  kcase('kmalloc_uaf_memset', (k) => {
    const ptr = k.kmalloc(33, GFP_KERNEL);
    k.kfree(ptr);
    expectKasanFail(k, () => k.mem.memset(ptr, 0, 33), uaf('write', 33, { addr: ptr }));
  });

  kcase('kmalloc_uaf2', (k) => {
    const ptr1 = k.kmalloc(43, GFP_KERNEL);
    k.kfree(ptr1);
    const ptr2 = k.kmalloc(43, GFP_KERNEL);
    expectKasanFail(k, () => k.mem.read8(ptr1 + 40), uaf('read', 1, { offset: 40 }));
    // The quarantine keeps the freed object from being handed out again at once.
    expect(ptr2).not.toBe(ptr1);
    k.kfree(ptr2);
  });

  kcase('kmalloc_double_kzfree', (k) => {
    const ptr = k.kmalloc(16, GFP_KERNEL);
    k.kfreeSensitive(ptr);
    // ksize()'s kasan_check_byte() reports the freed object, then kfree() the double free.
    expectKasanFail(k, () => k.kfreeSensitive(ptr), uaf('read', 1, { addr: ptr }), { bugType: 'double-free', access: 'free', size: 0, addr: ptr });
  });

  kcase('ksize_unpoisons_memory', (k) => {
    const size = 128 - G - 5;
    const ptr = k.kmalloc(size, GFP_KERNEL);
    const real = k.ksize(ptr);
    expect(real).toBeGreaterThan(size);
    expectNoReport(k, () => {
      k.mem.write8(ptr, 0x78);
      k.mem.write8(ptr + size - 1, 0x78);
    });
    for (const off of [size, size + 5, real - 1]) expectKasanFail(k, () => k.mem.read8(ptr + off), oob('read', 1, { offset: off }));
    k.kfree(ptr);
  });

  kcase('ksize_uaf', (k) => {
    const size = 128 - G;
    const ptr = k.kmalloc(size, GFP_KERNEL);
    k.kfree(ptr);
    let n = -1;
    expectKasanFail(k, () => (n = k.ksize(ptr)), uaf('read', 1, { offset: 0 }));
    expect(n).toBe(0);
    expectKasanFail(k, () => k.mem.read8(ptr), uaf('read', 1, { offset: 0 }));
    expectKasanFail(k, () => k.mem.read8(ptr + size), uaf('read', 1, { offset: size }));
  });

  // rcu_uaf: the callback call_rcu() queued frees the object and reads it, after the grace period rcu_barrier() waits
  // for; call_rcu recorded the aux stack (kasan_record_aux_stack) on the object. kmem has no workqueues: the
  // workqueue case below records the aux stack as queue_work() does and runs the work itself.
  kcase('rcu_uaf', (k) => {
    const ptr = k.kmalloc(24, GFP_KERNEL); // struct kasan_rcu_info { int i; struct rcu_head rcu; }
    function rcu_uaf_reclaim(rp: number): void {
      const fp = rp - 8;
      k.kfree(fp);
      k.mem.read32(fp);
    }
    function rcu_uaf(): void {
      k.callRcu(ptr + 8, rcu_uaf_reclaim);
      k.rcuBarrier();
    }
    const [r] = expectKasanFail(k, rcu_uaf, uaf('read', 4, { addr: ptr, offset: 0 }));
    expect(r!.aux.length).toBe(1);
    expect(r!.lines).toContain('Last potentially related work creation:');
    expect(r!.aux[0]!.some((l) => l.includes('rcu_uaf'))).toBe(true);
  });

  kcase('workqueue_uaf', (k) => {
    const work = k.kmalloc(32, GFP_KERNEL); // struct work_struct
    const queued: (() => void)[] = [];
    function queue_work(w: number, fn: (w: number) => void): void {
      k.kasan!.recordAuxStack(w);
      queued.push(() => fn(w));
    }
    queue_work(work, (w) => k.kfree(w));
    for (const q of queued) q(); // destroy_workqueue() flushes the work
    const [r] = expectKasanFail(k, () => k.mem.read64(work), uaf('read', 8, { addr: work }));
    expect(r!.aux[0]!.some((l) => l.includes('queue_work'))).toBe(true);
  });

  kcase('kfree_via_page', (k) => {
    const ptr = k.kmalloc(8, GFP_KERNEL);
    const page = Math.floor(ptr / 4096) * 4096;
    expectNoReport(k, () => k.kfree(page + (ptr % 4096)));
  });

  kcase('kfree_via_phys', (k) => {
    const ptr = k.kmalloc(8, GFP_KERNEL);
    // virt_to_phys / phys_to_virt are the identity on kmem's direct map.
    expectNoReport(k, () => k.kfree(ptr));
  });
});

describe('kmem_cache', () => {
  kcase('kmem_cache_oob', (k) => {
    const c = k.kmemCacheCreate('test_cache', 200);
    const p = k.kmemCacheAlloc(c, GFP_KERNEL);
    const [r] = expectKasanFail(
      k,
      () => k.mem.write8(p, k.mem.read8(p + 200)),
      oob('read', 1, { offset: 200, relBytes: 0, cache: 'test_cache', allocSize: 200 }),
    );
    expect(r!.lines.some((l) => /^ allocated 200-byte region \[[0-9a-f]{16}, [0-9a-f]{16}\)$/.test(l))).toBe(true);
    k.kmemCacheFree(c, p);
    expectNoReport(k, () => k.kmemCacheDestroy(c));
  });

  kcase('kmem_cache_double_free', (k) => {
    const c = k.kmemCacheCreate('test_cache', 200);
    const p = k.kmemCacheAlloc(c, GFP_KERNEL);
    k.kmemCacheFree(c, p);
    expectKasanFail(k, () => k.kmemCacheFree(c, p), { bugType: 'double-free', access: 'free', size: 0, addr: p, offset: 0, cache: 'test_cache' });
    expectNoReport(k, () => k.kmemCacheDestroy(c));
  });

  kcase('kmem_cache_invalid_free', (k) => {
    const c = k.kmemCacheCreate('test_cache', 200, { flags: SLAB_TYPESAFE_BY_RCU });
    const p = k.kmemCacheAlloc(c, GFP_KERNEL);
    expectKasanFail(k, () => k.kmemCacheFree(c, p + 1), { bugType: 'invalid-free', access: 'free', size: 0, addr: p + 1, offset: 1 });
    k.kmemCacheFree(c, p);
    // Nothing left behind: no "Objects remaining in test_cache" either.
    const dmesgBefore = k.dmesg().length;
    expectNoReport(k, () => k.kmemCacheDestroy(c));
    expect(k.dmesg().slice(dmesgBefore).join('\n')).not.toMatch(/Objects remaining/);
  });

  kcase('kmem_cache_double_destroy', (k) => {
    // Nearest kmem equivalent: a cache handle is not a pointer to a freed
    // struct kmem_cache; a destroyed cache's handle is refused by the API
    // (a RangeError) before any memory is touched, instead of
    // kasan_check_byte() reporting it.
    const c = k.kmemCacheCreate('test_cache', 200, { flags: SLAB_NO_MERGE });
    k.kmemCacheDestroy(c);
    expectNoReport(k, () => expect(() => k.kmemCacheDestroy(c)).toThrow(RangeError));
  });

  kcase('kmem_cache_accounted', (k) => {
    const c = k.kmemCacheCreate('test_cache', 200, { flags: SLAB_ACCOUNT });
    expectNoReport(k, () => {
      for (let i = 0; i < 5; i++) {
        const p = k.kmemCacheAlloc(c, GFP_KERNEL);
        k.kmemCacheFree(c, p);
        k.tick(100e6);
      }
      k.kmemCacheDestroy(c);
    });
  });

  kcase('kmem_cache_bulk', (k) => {
    const c = k.kmemCacheCreate('test_cache', 200);
    const p: number[] = [];
    expect(k.kmemCacheAllocBulk(c, 10, p, GFP_KERNEL)).toBe(10);
    expectNoReport(k, () => {
      for (const o of p) {
        k.mem.write8(o, 42);
        k.mem.write8(o + 199, 42);
      }
      k.kmemCacheFreeBulk(c, p);
      k.kmemCacheDestroy(c);
    });
  });
});

describe('mempool', () => {
  function oobRight(k: Kernel, pool: Mempool, size: number, bugType = 'slab-out-of-bounds'): void {
    const elem = pool.allocPreallocated();
    expect(elem).not.toBe(0);
    expectKasanFail(k, () => k.mem.read8(elem + size), { bugType, access: 'read', size: 1, addr: elem + size });
    pool.free(elem);
  }
  function uafHelper(k: Kernel, pool: Mempool, bugType: string): void {
    const elem = pool.allocPreallocated();
    pool.free(elem);
    expectKasanFail(k, () => k.mem.read8(elem), { bugType, access: 'read', size: 1, addr: elem });
  }
  function doubleFree(k: Kernel, pool: Mempool): void {
    const elem = pool.allocPreallocated();
    pool.free(elem);
    expectKasanFail(k, () => pool.free(elem), { bugType: 'double-free', access: 'free', size: 0, addr: elem });
  }
  function invalidFree(k: Kernel, pool: Mempool): void {
    const elem = pool.allocPreallocated();
    expectKasanFail(k, () => pool.free(elem + 1), { bugType: 'invalid-free', access: 'free', size: 0, addr: elem + 1 });
    pool.free(elem);
  }
  /** mempool_prepare_kmalloc(): a pool of 4, with one element taken out so frees refill it. */
  function kmallocPool(k: Kernel, size: number): [Mempool, number] {
    const pool = Mempool.kmalloc(k, 4, size);
    return [pool, pool.allocPreallocated()];
  }
  function done(k: Kernel, pool: Mempool, extra: number): void {
    expectNoReport(k, () => {
      pool.free(extra);
      pool.exit();
    });
  }

  kcase('mempool_kmalloc_oob_right', (k) => {
    const [pool, extra] = kmallocPool(k, 128 - G - 5);
    oobRight(k, pool, 128 - G - 5);
    done(k, pool, extra);
  });
  kcase('mempool_kmalloc_large_oob_right', (k) => {
    const [pool, extra] = kmallocPool(k, KMCS + 1);
    oobRight(k, pool, KMCS + 1);
    done(k, pool, extra);
  });
  kcase('mempool_slab_oob_right', (k) => {
    const c = k.kmemCacheCreate('test_cache', 123);
    const pool = Mempool.slab(k, 4, c);
    oobRight(k, pool, 123);
    pool.exit();
    expectNoReport(k, () => k.kmemCacheDestroy(c));
  });
  kcase('mempool_kmalloc_uaf', (k) => {
    const [pool, extra] = kmallocPool(k, 128);
    uafHelper(k, pool, 'slab-use-after-free');
    done(k, pool, extra);
  });
  kcase('mempool_kmalloc_large_uaf', (k) => {
    const [pool, extra] = kmallocPool(k, KMCS + 1);
    uafHelper(k, pool, 'use-after-free');
    done(k, pool, extra);
  });
  kcase('mempool_slab_uaf', (k) => {
    const c = k.kmemCacheCreate('test_cache', 123);
    const pool = Mempool.slab(k, 4, c);
    uafHelper(k, pool, 'slab-use-after-free');
    pool.exit();
    expectNoReport(k, () => k.kmemCacheDestroy(c));
  });
  kcase('mempool_page_alloc_uaf', (k) => {
    const pool = Mempool.page(k, 4, 2);
    const extra = pool.allocPreallocated();
    uafHelper(k, pool, 'use-after-free');
    done(k, pool, extra);
  });
  kcase('mempool_kmalloc_double_free', (k) => {
    const [pool, extra] = kmallocPool(k, 128);
    doubleFree(k, pool);
    done(k, pool, extra);
  });
  kcase('mempool_kmalloc_large_double_free', (k) => {
    const [pool, extra] = kmallocPool(k, KMCS + 1);
    doubleFree(k, pool);
    done(k, pool, extra);
  });
  kcase('mempool_page_alloc_double_free', (k) => {
    const pool = Mempool.page(k, 4, 2);
    const extra = pool.allocPreallocated();
    doubleFree(k, pool);
    done(k, pool, extra);
  });
  kcase('mempool_kmalloc_invalid_free', (k) => {
    const [pool, extra] = kmallocPool(k, 128);
    invalidFree(k, pool);
    done(k, pool, extra);
  });
  kcase('mempool_kmalloc_large_invalid_free', (k) => {
    const [pool, extra] = kmallocPool(k, KMCS + 1);
    invalidFree(k, pool);
    done(k, pool, extra);
  });
});

describe('globals', () => {
  kcase('kasan_global_oob_right', (k) => {
    const array = k.kasan!.defineGlobal('global_array', 10);
    const [r] = expectKasanFail(k, () => k.mem.read8(array + 10 + 3), {
      bugType: 'global-out-of-bounds',
      access: 'read',
      size: 1,
      addr: array + 13,
      cache: null,
    });
    expect(r!.global).toBe('global_array');
    expect(r!.lines).toContain('The buggy address belongs to the variable:');
    expect(r!.lines).toContain(' global_array+0xd/0x40');
    // The compiler's layout: 10 bytes (00 02) then redzone to 64 bytes.
    expect(k.kasan!.shadowBytes(array, 8)).toEqual([0, 2, ...Array(6).fill(KASAN_GLOBAL_REDZONE)]);
  });

  kcase('kasan_global_oob_left', (k) => {
    const array = k.kasan!.defineGlobal('global_array', 10);
    expectKasanFail(k, () => k.mem.read8(array - 3), { bugType: 'global-out-of-bounds', access: 'read', size: 1, addr: array - 3 });
  });
});

describe('string and memory functions', () => {
  kcase('kasan_memchr', (k) => {
    const size = 24;
    const ptr = k.kmalloc(size, GFP_KERNEL | __GFP_ZERO);
    // lib/string.c memchr() reads byte by byte: the report is the first bad byte.
    expectKasanFail(k, () => k.mem.memchr(ptr, 0x31, size + 1), oob('read', 1, { addr: ptr + 24, offset: 24 }));
    k.kfree(ptr);
  });

  kcase('kasan_memcmp', (k) => {
    const size = 24;
    const ptr = k.kmalloc(size, GFP_KERNEL | __GFP_ZERO);
    const arr = k.kasan!.defineGlobal('arr', 36); // int arr[9], zeroed
    // Three equal unsigned longs, then the 25th byte, read alone: a 1-byte read.
    expectKasanFail(k, () => k.mem.memcmp(ptr, arr, size + 1), oob('read', 1, { addr: ptr + 24 }));
    k.kfree(ptr);
  });

  kcase('kasan_strings', (k) => {
    const size = 24;
    let ptr = k.kmalloc(size, GFP_KERNEL | __GFP_ZERO);
    const src = k.kmalloc(G, GFP_KERNEL | __GFP_ZERO);
    const lit = k.kasan!.defineGlobal('f0cacc1a', 16);
    k.mem.writeString(lit, 'f0cacc1a0000000');
    expect(k.mem.strscpy(src, lit, G)).toBe(-7);
    // strscpy() from src+1 stops at the NUL in src's last byte: no report.
    expectNoReport(k, () => expect(k.mem.strscpy(ptr, src + 1, G)).toBe(G - 2));
    expectKasanFail(k, () => k.mem.strscpy(ptr, src + G, G), oob('read', 1, { addr: src + G }));
    k.kfree(src);
    k.kfree(ptr);
    ptr += 16;
    const two = k.kasan!.defineGlobal('str_2', 2);
    k.mem.writeString(two, '2');
    const u = uaf('read', 1, { addr: ptr, offset: 16 });
    expectKasanFail(k, () => k.mem.strchr(ptr, 0x31), u);
    expectKasanFail(k, () => k.mem.strrchr(ptr, 0x31), u);
    expectKasanFail(k, () => k.mem.strcmp(ptr, two), u);
    expectKasanFail(k, () => k.mem.strncmp(ptr, two, 1), u);
    expectKasanFail(k, () => k.mem.strlen(ptr), u);
    expectKasanFail(k, () => k.mem.strnlen(ptr, 1), u);
  });

  kcase('kasan_bitops_generic', (k) => {
    // 9 bytes: kmalloc-16, the second unsigned long partly out of bounds.
    const bits = k.kzalloc(8 + 1, GFP_KERNEL);
    const word = bits + 8;
    const w = oob('write', 8, { addr: word });
    const r = oob('read', 8, { addr: word });
    // set_bit, __set_bit, clear_bit, __clear_bit, clear_bit_unlock, __clear_bit_unlock, change_bit, __change_bit
    for (const op of ['setBit', 'setBit', 'clearBit', 'clearBit', 'clearBit', 'clearBit', 'changeBit', 'changeBit'] as const) {
      expectKasanFail(k, () => k.mem[op](64, bits), w);
    }
    // test_and_set_bit, __test_and_set_bit, test_and_set_bit_lock, test_and_clear_bit, __test_and_clear_bit,
    // test_and_change_bit, __test_and_change_bit: read-modify-write, checked as writes.
    for (const op of [
      'testAndSetBit',
      'testAndSetBit',
      'testAndSetBit',
      'testAndClearBit',
      'testAndClearBit',
      'testAndChangeBit',
      'testAndChangeBit',
    ] as const) {
      expectKasanFail(k, () => k.mem[op](64 + 8, bits), w);
    }
    expectKasanFail(k, () => k.mem.testBit(64 + 8, bits), r);
    k.kfree(bits);
  });

  kcase('kasan_atomics', (k) => {
    // kmem has no atomic_t API: READ_ONCE/WRITE_ONCE (and the acquire/release
    // forms) are k.mem loads and stores, and every atomic_*() op is the
    // instrument_atomic_*() check it starts with: kasan_check_read() for
    // reads, kasan_check_write() for sets and read-modify-writes.
    const a1 = k.kzalloc(48, GFP_KERNEL);
    const a2 = k.kzalloc(8, GFP_KERNEL);
    const unsafe = a1 + 48;
    const rd = (size: number) => oob('read', size, { addr: unsafe });
    const wr = (size: number) => oob('write', size, { addr: unsafe });
    expectKasanFail(k, () => k.mem.read32(unsafe), rd(4)); // READ_ONCE
    expectKasanFail(k, () => k.mem.write32(unsafe, 42), wr(4)); // WRITE_ONCE
    expectKasanFail(k, () => k.mem.read32(unsafe), rd(4)); // smp_load_acquire
    expectKasanFail(k, () => k.mem.write32(unsafe, 42), wr(4)); // smp_store_release
    const ops = [
      'read',
      'set',
      'add',
      'sub',
      'inc',
      'dec',
      'and',
      'andnot',
      'or',
      'xor',
      'xchg',
      'cmpxchg',
      'try_cmpxchg',
      'try_cmpxchg_old',
      'sub_and_test',
      'dec_and_test',
      'inc_and_test',
      'add_negative',
      'add_unless',
      'inc_not_zero',
      'inc_unless_negative',
      'dec_unless_positive',
      'dec_if_positive',
    ];
    expect(ops.length).toBe(23);
    for (const size of [4, 8]) {
      for (const op of ops) {
        if (op === 'read') expectKasanFail(k, () => k.kasanCheckRead(unsafe, size), rd(size));
        else if (op === 'try_cmpxchg_old') {
          // atomic_try_cmpxchg(safe, unsafe, 42): the checks of v (valid) and of old (not).
          expectKasanFail(k, () => k.kasanCheckWrite(a2, size) && k.kasanCheckWrite(unsafe, size), wr(size));
        } else expectKasanFail(k, () => k.kasanCheckWrite(unsafe, size), wr(size));
      }
    }
    expect(k.kasan!.reports().length - before).toBe(50);
    k.kfree(a1);
    k.kfree(a2);
  });
});

describe('copies', () => {
  kcase('copy_to_kernel_nofault_oob', (k) => {
    const size = 128;
    const ptr = k.kmalloc(size - G, GFP_KERNEL);
    const buf = k.kmalloc(size, GFP_KERNEL); // char buf[128]
    expectKasanFail(k, () => k.mem.memcpy(buf, ptr, size), oob('read', size, { addr: ptr }));
    expectKasanFail(k, () => k.mem.memcpy(ptr, buf, size), oob('write', size, { addr: ptr }));
    k.kfree(ptr);
    k.kfree(buf);
  });

  kcase('copy_user_test_oob', (k) => {
    // User memory is a JavaScript buffer: copy_from_user() is k.mem.writeBytes(),
    // copy_to_user() is k.mem.readBytes(); each checks the kernel side first.
    const size = 128 - G;
    const kmem = k.kmalloc(size, GFP_KERNEL);
    const usermem = new Uint8Array(4096).fill(0x61);
    const from = () => k.mem.writeBytes(kmem, usermem.subarray(0, size + 1));
    const to = () => usermem.set(k.mem.readBytes(kmem, size + 1));
    const w = oob('write', size + 1, { addr: kmem });
    const r = oob('read', size + 1, { addr: kmem });
    expectKasanFail(k, from, w); // copy_from_user
    expectKasanFail(k, to, r); // copy_to_user
    expectKasanFail(k, from, w); // __copy_from_user
    expectKasanFail(k, to, r); // __copy_to_user
    expectKasanFail(k, from, w); // __copy_from_user_inatomic
    expectKasanFail(k, to, r); // __copy_to_user_inatomic
    expectKasanFail(k, from, w); // strncpy_from_user: kasan_check_write(dst, count) first
  });
});

describe('what a report does to the machine', () => {
  it('only the first report prints without multi-shot, and all are recorded', () => {
    const m = kasanBoot({ kasanMultiShot: false });
    const p = m.kmalloc(8, GFP_KERNEL);
    m.mem.read8(p + 8);
    m.mem.read8(p + 9);
    const reps = m.kasan!.reports();
    expect(reps.map((r) => r.printed)).toEqual([true, false]);
    expect(m.dmesg().filter((l) => l.includes('BUG: KASAN:')).length).toBe(1);
  });

  it("onBug: 'throw' throws a KernelBug after printing", () => {
    const m = kasanBoot({ onBug: 'throw' });
    const p = m.kmalloc(8, GFP_KERNEL);
    let err: unknown;
    try {
      m.mem.read8(p + 8);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(KernelBug);
    expect((err as KernelBug).message).toMatch(/^BUG: KASAN: slab-out-of-bounds in /);
    expect(m.dmesg().some((l) => l.includes('BUG: KASAN: slab-out-of-bounds'))).toBe(true);
  });

  it('a double free leaves the object alone; the freed object stays poisoned fa fb', () => {
    const p = k.kmalloc(32, GFP_KERNEL);
    k.kfree(p);
    expect(k.kasan!.shadowBytes(p, 4)).toEqual([KASAN_SLAB_FREE_META, KASAN_SLAB_FREE, KASAN_SLAB_FREE, KASAN_SLAB_FREE]);
    expectKasanFail(k, () => k.kfree(p), { bugType: 'double-free', access: 'free', size: 0 });
    expect(k.kasan!.quarantine.contains(p)).toBe(true);
  });

  it('null-ptr-deref and wild-memory-access', () => {
    const [r] = expectKasanFail(k, () => k.kasanCheckRead(0x10, 8), { bugType: 'null-ptr-deref', access: 'read', size: 8 });
    expect(r!.lines[2]).toBe('Read of size 8 at addr 0000000000000010 by task kmem/1');
    expect(r!.lines).not.toContain('Memory state around the buggy address:');
    expectKasanFail(k, () => expect(() => k.mem.read8(k.phys.size + 64)).toThrow(RangeError), { bugType: 'wild-memory-access', access: 'read', size: 1 });
  });
});

describe('the case list', () => {
  it('every kernel case is run here or listed as not applicable, with a reason', () => {
    expect(ALL_CASES.length).toBe(75);
    for (const name of ALL_CASES) {
      const both = covered.has(name) && name in NOT_APPLICABLE;
      expect(both, name).toBe(false);
      expect(covered.has(name) || name in NOT_APPLICABLE, name).toBe(true);
    }
    for (const name of [...covered, ...Object.keys(NOT_APPLICABLE)]) expect(ALL_CASES, name).toContain(name);
    expect(covered.size).toBe(60);
  });
});
