import { describe, expect, it } from 'vitest';
import { KernelBug } from '../../src/lib/bug.js';

describe('KernelBug', () => {
  it('takes its message from the first line that says something', () => {
    const report = [
      '==================================================================',
      'BUG: KASAN: slab-use-after-free in lock_timer_base+0x1d9/0x220',
      'Read of size 4 at addr ffff88804c251150 by task kworker/0:4/5994',
      '==================================================================',
    ];
    const bug = new KernelBug('kasan', report);
    expect(bug).toBeInstanceOf(Error);
    expect(bug).toBeInstanceOf(KernelBug);
    expect(bug.name).toBe('KernelBug');
    expect(bug.kind).toBe('kasan');
    expect(bug.message).toBe('BUG: KASAN: slab-use-after-free in lock_timer_base+0x1d9/0x220');
    expect(bug.report).toBe(report.join('\n'));
  });

  it('skips SLUB rules and blank lines too', () => {
    const text =
      '\n=============================================================================\n' +
      'BUG kmalloc-32 (Not tainted): Redzone overwritten\n' +
      '-----------------------------------------------------------------------------\n';
    const bug = new KernelBug('slub', text);
    expect(bug.message).toBe('BUG kmalloc-32 (Not tainted): Redzone overwritten');
    expect(bug.report).toBe(text);
    expect(() => {
      throw bug;
    }).toThrow(KernelBug);
    expect(new KernelBug('bad_page', 'BUG: Bad page state in process a.out  pfn:12345').message).toBe('BUG: Bad page state in process a.out  pfn:12345');
  });
});
