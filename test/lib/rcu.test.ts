/**
 * RCU's grace periods on the virtual clock (src/lib/rcu.ts): a callback runs
 * once a full grace period has elapsed after it was queued (two jiffies, 8 ms,
 * each), a callback queued while a grace period runs waits for the next one,
 * a reader inside rcu_read_lock() holds the grace period, synchronize_rcu()
 * and rcu_barrier() wait as the kernel's do.
 */
import { describe, expect, it } from 'vitest';
import { boot, GFP_KERNEL } from '../../src/index.js';
import { Printk } from '../../src/lib/printk.js';
import { RCU_GP_NS, Rcu } from '../../src/lib/rcu.js';
import { TimerBase } from '../../src/lib/timer.js';

const MS = 1_000_000;

function machine() {
  const clock = new Printk();
  const timers = new TimerBase(clock);
  return { clock, timers, rcu: new Rcu(timers) };
}

describe('RCU grace periods', () => {
  it('a grace period is two jiffies of HZ=250', () => {
    expect(RCU_GP_NS).toBe(8 * MS);
  });

  it('call_rcu: the callback runs when the grace period it waits for ends, in queue order', () => {
    const { clock, timers, rcu } = machine();
    const ran: [string, number][] = [];
    rcu.callRcu(() => ran.push(['a', clock.nowNs]));
    rcu.callRcu(() => ran.push(['b', clock.nowNs]));
    timers.sleep(8 * MS - 1);
    expect(ran).toEqual([]);
    timers.sleep(1);
    expect(ran).toEqual([
      ['a', 8 * MS],
      ['b', 8 * MS],
    ]);
    expect(rcu.completed).toBe(1);
  });

  it('a callback queued while a grace period runs waits for the next full one', () => {
    const { clock, timers, rcu } = machine();
    const ran: [string, number][] = [];
    rcu.callRcu(() => ran.push(['a', clock.nowNs])); // grace period 1: 0..8 ms
    timers.sleep(4 * MS);
    rcu.callRcu(() => ran.push(['b', clock.nowNs])); // began before grace period 1 could cover it: needs 2, 8..16 ms
    timers.sleep(100 * MS);
    expect(ran).toEqual([
      ['a', 8 * MS],
      ['b', 16 * MS],
    ]);
    // nothing waits: no third grace period started
    expect(rcu.completed).toBe(2);
  });

  it('polled API: a cookie taken while idle is satisfied by the next grace period; get_state starts none', () => {
    const { timers, rcu } = machine();
    const c = rcu.getState();
    timers.sleep(50 * MS);
    expect(rcu.pollState(c)).toBe(false);
    const c2 = rcu.startPoll();
    expect(c2).toBe(c);
    timers.sleep(8 * MS);
    expect(rcu.pollState(c)).toBe(true);
  });

  it('synchronize_rcu waits one grace period when idle, two when one is already running', () => {
    const { clock, timers, rcu } = machine();
    rcu.synchronize();
    expect(clock.nowNs).toBe(8 * MS);
    rcu.callRcu(() => {}); // grace period from 8 to 16 ms
    timers.sleep(2 * MS);
    rcu.synchronize(); // at 10 ms: needs the grace period after the running one, 16..24 ms
    expect(clock.nowNs).toBe(24 * MS);
  });

  it('a reader inside rcu_read_lock holds the grace period until rcu_read_unlock', () => {
    const { clock, timers, rcu } = machine();
    let ranAt = -1;
    rcu.readLock();
    rcu.readLock();
    rcu.callRcu(() => {
      ranAt = clock.nowNs;
    });
    timers.sleep(20 * MS);
    rcu.readUnlock();
    expect(ranAt).toBe(-1);
    rcu.readUnlock();
    expect(ranAt).toBe(20 * MS);
    expect(() => rcu.readUnlock()).toThrow(/not inside an RCU read-side critical section/);
  });

  it('synchronize_rcu inside a read-side critical section is refused (it would wait for itself)', () => {
    const { rcu } = machine();
    rcu.readLock();
    expect(() => rcu.synchronize()).toThrow(/inside an RCU read-side critical section/);
  });

  it('rcu_barrier waits for every callback queued, including those of a later grace period', () => {
    const { clock, timers, rcu } = machine();
    let n = 0;
    rcu.callRcu(() => n++);
    timers.sleep(MS);
    rcu.callRcu(() => n++);
    rcu.barrier();
    expect(n).toBe(2);
    expect(clock.nowNs).toBe(16 * MS);
    expect(rcu.pendingCallbacks).toBe(0);
    // nothing queued: returns at once
    rcu.barrier();
    expect(clock.nowNs).toBe(16 * MS);
  });

  it('through the Kernel: callRcu(head, fn) runs fn(head) on k.tick, synchronizeRcu moves the virtual clock, bad arguments are errors naming them', () => {
    const k = boot({ memory: '32M' });
    const obj = k.kmalloc(32, GFP_KERNEL);
    const t0 = k.printk.nowNs;
    let ran = -1;
    k.callRcu(obj + 16, (head) => {
      ran = head;
    });
    k.tick(8 * MS - 1);
    expect(ran).toBe(-1);
    k.tick(1);
    expect(ran).toBe(obj + 16);
    k.synchronizeRcu();
    expect(k.printk.nowNs).toBe(t0 + 16 * MS);
    // @ts-expect-error: not a function
    expect(() => k.callRcu(obj, 42)).toThrow(/fn/);
    expect(() => k.callRcu('x' as never, () => {})).toThrow(/head/);
  });
});
