/** Timers on the virtual clock (src/lib/timer.ts): mod_timer / del_timer semantics, each timer run at its expiry time, in order. */
import { expect, test } from 'vitest';
import { Printk } from '../../src/lib/printk.js';
import { Timer, TimerBase } from '../../src/lib/timer.js';

test('due timers run in expiry order, each seeing the clock at its own expiry; mod_timer moves a pending timer; del_timer says whether it was pending', () => {
  const clock = new Printk();
  const timers = new TimerBase(clock);
  const seen: [string, number][] = [];
  const mk = (name: string) => new Timer(name, () => seen.push([name, clock.nowNs]));
  const a = mk('a');
  const b = mk('b');
  const c = mk('c');
  timers.modTimer(a, 300);
  timers.modTimer(b, 100);
  timers.modTimer(c, 200);
  // mod_timer on a pending timer re-arms it.
  timers.modTimer(c, 400);
  expect(timers.nextExpiry()).toBe(100);
  expect(timers.delTimer(b)).toBe(true);
  expect(timers.delTimer(b)).toBe(false);
  expect(b.pending).toBe(false);
  timers.sleep(350);
  expect(seen).toEqual([['a', 300]]);
  expect(clock.nowNs).toBe(350);
  timers.sleep(50);
  expect(seen).toEqual([
    ['a', 300],
    ['c', 400],
  ]);
  expect(timers.nextExpiry()).toBe(Number.POSITIVE_INFINITY);
  // A timer that re-arms itself runs again, at its new time, within the same sleep.
  let n = 0;
  const periodic: Timer = new Timer('p', () => {
    seen.push(['p', clock.nowNs]);
    if (++n < 3) timers.modTimer(periodic, clock.nowNs + 100);
  });
  timers.modTimer(periodic, 500);
  timers.sleep(1000);
  expect(seen.slice(2)).toEqual([
    ['p', 500],
    ['p', 600],
    ['p', 700],
  ]);
  expect(clock.nowNs).toBe(1400);
});

test('a callback that sleeps only moves the clock (no timer runs inside another); runDue runs what the clock already passed', () => {
  const clock = new Printk();
  const timers = new TimerBase(clock);
  const seen: [string, number][] = [];
  const inner = new Timer('inner', () => seen.push(['inner', clock.nowNs]));
  const outer = new Timer('outer', () => {
    seen.push(['outer', clock.nowNs]);
    timers.sleep(100);
  });
  timers.modTimer(outer, 10);
  timers.modTimer(inner, 50);
  timers.sleep(20);
  // outer ran at 10 and slept to 110 without running inner (due at 50); inner runs after it, late.
  expect(seen).toEqual([
    ['outer', 10],
    ['inner', 110],
  ]);
  expect(clock.nowNs).toBe(110);
  const late = new Timer('late', () => seen.push(['late', clock.nowNs]));
  timers.modTimer(late, 120);
  clock.setClock(200);
  timers.runDue();
  expect(seen[2]).toEqual(['late', 200]);
  expect(() => timers.sleep(-1)).toThrow(RangeError);
  expect(() => timers.modTimer(late, Number.NaN)).toThrow(RangeError);
});
