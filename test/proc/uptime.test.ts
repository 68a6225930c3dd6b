/** /proc/uptime: "%lu.%02lu %lu.%02lu\n" (fs/proc/uptime.c), the virtual clock and every CPU idle. */
import { expect, it } from 'vitest';
import { boot } from '../../src/index.js';
import { uptime } from '../../src/proc/uptime.js';

it('prints seconds since boot and the summed idle time with truncated hundredths', () => {
  expect(uptime(0, 2)).toBe('0.00 0.00\n');
  expect(uptime(1_239_999_999, 2)).toBe('1.23 2.47\n');
  expect(uptime(3_600_005_000_000, 4)).toBe('3600.00 14400.02\n');
});

it('follows the virtual clock: k.tick moves it, idle is CPUs x uptime', () => {
  const k = boot({ memory: '64M', cpus: 3 });
  const [a] = k.proc.read('/proc/uptime').split(' ').map(Number);
  k.tick(2.5e9);
  const text = k.proc.read('/proc/uptime');
  expect(text).toMatch(/^\d+\.\d\d \d+\.\d\d\n$/);
  const [b, idle] = text.split(' ').map(Number);
  expect(b! - a!).toBeCloseTo(2.5, 1);
  expect(idle!).toBeCloseTo(b! * 3, 1);
});
