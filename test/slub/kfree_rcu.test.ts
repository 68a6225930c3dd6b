/**
 * kfree_rcu() as 6.18's mm/slab_common.c batches it (CONFIG_KVFREE_RCU_BATCHED),
 * every expectation worked from its rules:
 * - kvfree_call_rcu() of the two-argument form may not allocate: with no
 *   cached block it chains the object through its rcu_head (channel 3) and
 *   the page-cache worker fills the CPU's cache with rcu_min_cached_objs (5)
 *   pages; later objects go into a block (a page of KVFREE_BULK_MAX_ENTR =
 *   (4096 - 40) / 8 = 507 pointers) taken from that cache.
 * - The monitor runs KFREE_DRAIN_JIFFIES (5 * HZ = 5 s) after the first
 *   object, or one jiffy (4 ms) after the CPU holds 507; it hands everything
 *   to a batch whose rcu_work runs a grace period (8 ms in kmem) later and
 *   frees the objects; the block's page goes back to the cache (up to 5).
 * - kvfree_rcu_mightsleep() may allocate its block; kvfree_rcu_barrier()
 *   frees everything queued; kmem_cache_destroy() calls it first; the
 *   "slab-kvfree-rcu" shrinker drains the cached pages and starts the batch.
 */
import { describe, expect, it } from 'vitest';
import { boot, GFP_KERNEL, type Kernel } from '../../src/index.js';
import { KFREE_DRAIN_NS, KVFREE_BULK_MAX_ENTR, RCU_MIN_CACHED_OBJS } from '../../src/slub/kvfree_rcu.js';
import { expectKasanFail, kasanBoot } from '../kasan/helpers.js';

const MS = 1_000_000;
const JIFFY = 4 * MS;
const GP = 8 * MS;

/** Objects of the cache freed since boot (SLUB's per-cache free count: /proc/slabinfo's active_objs counts the CPU slab's free objects as active). */
function frees(k: Kernel, name: string): number {
  return k.slub.freesOf(k.slab.cacheOf(k.kmemCacheByName(name)!));
}

function cpu0(k: Kernel) {
  return k.kvfreeRcu.stats()[0]!;
}

describe('kfree_rcu() batching (6.18)', () => {
  it('constants: a block holds 507 pointers, the monitor waits 5 s, 5 pages are cached', () => {
    expect(KVFREE_BULK_MAX_ENTR).toBe(507);
    expect(KFREE_DRAIN_NS).toBe(5_000 * MS);
    expect(RCU_MIN_CACHED_OBJS).toBe(5);
  });

  it('the object stays allocated for 5 s, then one grace period more; the first goes on the rcu_head list and fills the page cache', () => {
    const k = boot({ memory: '64M' });
    const x = k.kmalloc(64, GFP_KERNEL);
    const f0 = frees(k, 'kmalloc-64');
    k.kfreeRcu(x);
    expect(cpu0(k)).toEqual({ waiting: 1, inFlight: 0, blocks: 0, cachedPages: 5 });
    expect(frees(k, 'kmalloc-64')).toBe(f0);
    k.tick(KFREE_DRAIN_NS - 1);
    expect(cpu0(k).waiting).toBe(1);
    k.tick(1);
    // the monitor handed it to a batch: in flight for a grace period
    expect(cpu0(k)).toEqual({ waiting: 0, inFlight: 1, blocks: 0, cachedPages: 5 });
    expect(frees(k, 'kmalloc-64')).toBe(f0);
    k.tick(GP - 1);
    expect(frees(k, 'kmalloc-64')).toBe(f0);
    k.tick(1);
    expect(frees(k, 'kmalloc-64')).toBe(f0 + 1);
    expect(cpu0(k)).toEqual({ waiting: 0, inFlight: 0, blocks: 0, cachedPages: 5 });
  });

  it('later objects go into a block from the cache; a full block brings the monitor to one jiffy; the page returns to the cache', () => {
    const k = boot({ memory: '64M' });
    const objs: number[] = [];
    for (let i = 0; i < KVFREE_BULK_MAX_ENTR; i++) objs.push(k.kmalloc(64, GFP_KERNEL));
    const f0 = frees(k, 'kmalloc-64');
    for (let i = 0; i < KVFREE_BULK_MAX_ENTR - 1; i++) k.kfreeRcu(objs[i]!);
    // one on the rcu_head list, 505 in a block taken from the 5 cached pages
    expect(cpu0(k)).toEqual({ waiting: 506, inFlight: 0, blocks: 1, cachedPages: 4 });
    k.tick(JIFFY);
    expect(cpu0(k).waiting).toBe(506); // the monitor is still 5 s away
    k.kfreeRcu(objs[KVFREE_BULK_MAX_ENTR - 1]!); // 507 waiting: the monitor moves to one jiffy from now
    k.tick(JIFFY - 1);
    expect(cpu0(k).waiting).toBe(507);
    k.tick(1);
    expect(cpu0(k)).toEqual({ waiting: 0, inFlight: 507, blocks: 1, cachedPages: 4 });
    k.tick(GP);
    expect(frees(k, 'kmalloc-64')).toBe(f0 + KVFREE_BULK_MAX_ENTR);
    expect(cpu0(k)).toEqual({ waiting: 0, inFlight: 0, blocks: 0, cachedPages: 5 });
  });

  it('kvfree_rcu_mightsleep may allocate its block (no page-cache fill); NULL and ZERO_SIZE_PTR do nothing; bad addresses are TypeErrors', () => {
    const k = boot({ memory: '64M' });
    const x = k.kmalloc(128, GFP_KERNEL);
    const f0 = frees(k, 'kmalloc-128');
    k.kfreeRcuMightsleep(x);
    expect(cpu0(k)).toEqual({ waiting: 1, inFlight: 0, blocks: 1, cachedPages: 0 });
    k.kfreeRcu(0);
    k.kfreeRcu(16);
    expect(cpu0(k).waiting).toBe(1);
    expect(() => k.kfreeRcu('x' as never)).toThrow(TypeError);
    expect(() => k.kfreeRcu(-4)).toThrow(/addr/);
    k.tick(KFREE_DRAIN_NS + GP);
    expect(frees(k, 'kmalloc-128')).toBe(f0 + 1);
    // the block's page went to the (empty) cache
    expect(cpu0(k).cachedPages).toBe(1);
  });

  it('kvfree_rcu_barrier frees everything queued: one grace period of virtual time, nothing left for the monitor', () => {
    const k = boot({ memory: '64M' });
    const x = k.kmalloc(64, GFP_KERNEL);
    const f0 = frees(k, 'kmalloc-64');
    k.kfreeRcu(x);
    const t0 = k.printk.nowNs;
    k.kvfreeRcuBarrier();
    expect(frees(k, 'kmalloc-64')).toBe(f0 + 1);
    expect(k.printk.nowNs).toBe(t0 + GP);
    // nothing left for the (cancelled) monitor: 5 s later the counts have not moved
    k.tick(KFREE_DRAIN_NS + GP);
    expect(frees(k, 'kmalloc-64')).toBe(f0 + 1);
    expect(cpu0(k)).toEqual({ waiting: 0, inFlight: 0, blocks: 0, cachedPages: 5 });
  });

  it('objects queued on two CPUs are batched per CPU', () => {
    const k = boot({ memory: '64M', cpus: 2 });
    const x = k.kmalloc(64, GFP_KERNEL);
    const y = k.kmalloc(64, GFP_KERNEL);
    k.kfreeRcu(x);
    k.onCpu(1, () => k.kfreeRcu(y));
    const st = k.kvfreeRcu.stats();
    expect(st.map((s) => s.waiting)).toEqual([1, 1]);
    expect(st.map((s) => s.cachedPages)).toEqual([5, 5]);
  });

  it('kmem_cache_destroy waits for in-flight kfree_rcu() of its objects (kvfree_rcu_barrier), so no objects are left', () => {
    const k = boot({ memory: '64M' });
    const c = k.kmemCacheCreate('rcu_test', 96);
    const p = k.kmemCacheAlloc(c, GFP_KERNEL);
    k.kfreeRcu(p);
    k.kmemCacheDestroy(c);
    expect(k.dmesg().join('\n')).not.toMatch(/still has objects/);
    // without the kfree_rcu, the same destroy reports what is left
    const c2 = k.kmemCacheCreate('rcu_test2', 96);
    k.kmemCacheAlloc(c2, GFP_KERNEL);
    k.kmemCacheDestroy(c2);
    expect(k.dmesg().join('\n')).toMatch(/kmem_cache_destroy rcu_test2: Slab cache still has objects/);
  });

  it('the slab-kvfree-rcu shrinker (drop_caches=2): cached pages freed, the batch started; then the page cache refills with 1 page, 5 s later', () => {
    const k = boot({ memory: '64M' });
    const x = k.kmalloc(64, GFP_KERNEL);
    const f0 = frees(k, 'kmalloc-64');
    k.kfreeRcu(x);
    k.proc.write('/proc/sys/vm/drop_caches', '2');
    expect(cpu0(k)).toEqual({ waiting: 0, inFlight: 1, blocks: 0, cachedPages: 0 });
    k.tick(GP);
    expect(frees(k, 'kmalloc-64')).toBe(f0 + 1);
    // the shrinker's count asked the page-cache worker to back off: 1 page, rcu_delay_page_cache_fill_msec later
    const y = k.kmalloc(64, GFP_KERNEL);
    k.kfreeRcu(y);
    expect(cpu0(k)).toEqual({ waiting: 1, inFlight: 0, blocks: 0, cachedPages: 0 });
    k.tick(KFREE_DRAIN_NS);
    expect(cpu0(k).cachedPages).toBe(1);
  });

  it("KASAN: kfree_rcu() records the caller as the object's last work creation; a use after the grace period names it", () => {
    const k = kasanBoot();
    const x = k.kmalloc(64, GFP_KERNEL);
    function release_later(): void {
      k.kfreeRcu(x);
    }
    release_later();
    // still allocated until the batch's grace period: no report
    k.mem.read32(x);
    k.kvfreeRcuBarrier();
    const [r] = expectKasanFail(k, () => k.mem.read32(x), { bugType: 'slab-use-after-free', access: 'read', size: 4, addr: x });
    expect(r!.lines).toContain('Last potentially related work creation:');
    expect(r!.aux[0]!.some((l) => l.includes('release_later'))).toBe(true);
  });
});
