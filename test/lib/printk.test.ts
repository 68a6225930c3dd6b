import { describe, expect, it } from 'vitest';
import { DEFAULT_LOG_BUF_LEN, formatTimestamp, KERN_CONT, KERN_ERR, KERN_INFO, Printk } from '../../src/lib/printk.js';

describe('print_time', () => {
  it('prints [%5lu.%06lu]', () => {
    expect(formatTimestamp(0)).toBe('[    0.000000]');
    expect(formatTimestamp(53_424_083_000)).toBe('[   53.424083]'); // realdata/slub-debug-1.txt
    expect(formatTimestamp(366_491_414_999)).toBe('[  366.491414]'); // cut, not rounded
    expect(formatTimestamp(99_999_999_999_999)).toBe('[99999.999999]');
    expect(formatTimestamp(38_535_644_718_700_000)).toBe('[38535644.718700]'); // grows past 5
    expect(formatTimestamp(1500)).toBe('[    0.000001]');
  });
});

describe('Printk', () => {
  it('stamps each line with the clock at the printk', () => {
    const log = new Printk();
    log.printk('Linux version 6.18.0\n');
    log.advance(53_424_083_000);
    log.printk('BUG kmalloc-32 (Not tainted): Redzone overwritten\n');
    expect(log.dmesg()).toEqual(['[    0.000000] Linux version 6.18.0', '[   53.424083] BUG kmalloc-32 (Not tainted): Redzone overwritten']);
    expect(log.seconds).toBeCloseTo(53.424083, 9);
    expect(log.nowNs).toBe(53_424_083_000);
  });

  it('gives every line of a multi-line text the same stamp, blank lines too', () => {
    const log = new Printk({ startNs: 368_556_946_000 });
    log.printk('==================================================================\nBUG: KASAN: double-free\n\nCPU: 0\n');
    expect(log.dmesg()).toEqual([
      '[  368.556946] ==================================================================',
      '[  368.556946] BUG: KASAN: double-free',
      '[  368.556946] ', // realdata/kasan-double-free-1.txt keeps the space
      '[  368.556946] CPU: 0',
    ]);
    expect(log.length).toBe(4);
  });

  it('takes KERN_* levels off the text and appends KERN_CONT to an open line', () => {
    const log = new Printk();
    log.printk(`${KERN_ERR}Redzone: `);
    log.advance(1000);
    log.printk(`${KERN_CONT}cc cc\n`);
    log.cont('orphan\n'); // nothing open: a line of its own
    log.printk(`${KERN_INFO}a\nb`);
    log.cont(' c\nd\n');
    expect(log.lines()).toEqual(['Redzone: cc cc', 'orphan', 'a', 'b c', 'd']);
    expect(log.records().map((r) => r.level)).toEqual([3, 4, 6, 6, 6]);
    expect(log.records()[0]!.ns).toBe(0);
    log.printk('plain\n');
    expect(log.records()[5]!.level).toBe(4);
    log.printk('');
    expect(log.length).toBe(6);
  });

  it('drops the oldest lines when the ring is full, keeping the newest', () => {
    expect(DEFAULT_LOG_BUF_LEN).toBe(1 << 20);
    const log = new Printk({ logBufLen: 20 });
    log.printk('123456789\n'); // 10 with its newline
    log.printk('abcdefghi\n'); // 20
    expect(log.lines()).toEqual(['123456789', 'abcdefghi']);
    log.printk('x\n');
    expect(log.lines()).toEqual(['abcdefghi', 'x']);
    log.printk('a line far longer than the whole ring\n');
    expect(log.lines()).toEqual(['a line far longer than the whole ring']);
    for (let i = 0; i < 5000; i++) log.printk(`${i % 10}\n`);
    expect(log.length).toBe(10);
    expect(log.lines()[9]).toBe('9');
  });

  it('clears the ring but not the clock', () => {
    const log = new Printk();
    log.advance(2_000_000_000);
    log.printk('a\n');
    log.clear();
    expect(log.dmesg()).toEqual([]);
    log.printk('b\n');
    expect(log.dmesg()).toEqual(['[    2.000000] b']);
  });

  it('moves the clock only forward', () => {
    const log = new Printk();
    log.setClock(5_000);
    expect(() => log.setClock(4_000)).toThrow(RangeError);
    expect(() => log.advance(-1)).toThrow(/ns must be/);
    expect(() => log.advance(Number.NaN)).toThrow(RangeError);
    expect(() => new Printk({ logBufLen: 0 })).toThrow(/logBufLen/);
  });
});
