/**
 * boot()'s options are checked as a whole: an unknown option names itself
 * and the option it most likely meant, a value of the wrong type or range
 * names its option, and the machine's size comes from exactly what was
 * given (memory, zones, or a buffer), never a silent default.
 */
import { describe, expect, it } from 'vitest';
import { boot } from '../../src/index.js';

describe('boot options', () => {
  it('an unknown option is a RangeError naming it and the likely one', () => {
    expect(() => boot({ memroy: '16M' } as never)).toThrow(new RangeError("memroy: unknown boot option (did you mean 'memory'?)"));
    expect(() => boot({ kasanMultishot: true } as never)).toThrow(/^kasanMultishot: unknown boot option \(did you mean 'kasanMultiShot'\?\)$/);
    expect(() => boot({ frobnicate: 1 } as never)).toThrow(/^frobnicate: unknown boot option$/);
  });

  it('boot(null), boot(5) and boot([]) are TypeErrors naming opts', () => {
    for (const bad of [null, 5, 'x', []]) expect(() => boot(bad as never)).toThrow(/^opts: expected an object of boot options/);
    expect(() => boot(null as never)).toThrow(TypeError);
  });

  it('flags must be booleans; strings name their option', () => {
    expect(() => boot({ memory: '16M', slubStats: 'yes' as never })).toThrow(new TypeError('slubStats: expected true or false, got "yes"'));
    expect(() => boot({ memory: '16M', onBug: 'panic' as never })).toThrow(/^onBug: expected 'report', 'throw', got "panic"$/);
    expect(() => boot({ memory: '16M', slubDebug: 7 as never })).toThrow(/^slubDebug: /);
    expect(() => boot({ memory: '16M', cpus: 0 })).toThrow(/^cpus: expected an integer 1\.\.256, got 0$/);
    expect(() => boot({ memory: '16M', slubMinOrder: 99 })).toThrow(/^slubMinOrder: expected an integer 0\.\.10, got 99$/);
  });

  it('kernel and allocator accept only what is built', () => {
    expect(boot({ memory: '16M', kernel: '6.18', allocator: 'slub' }).kmalloc(8, 0xcc0)).toBeGreaterThan(0);
    expect(boot({ memory: '16M', kernel: '7.0' }).kmalloc(8, 0xcc0)).toBeGreaterThan(0);
    expect(boot({ memory: '16M', kernel: '6.1' }).kmalloc(8, 0xcc0)).toBeGreaterThan(0);
    expect(() => boot({ memory: '16M', kernel: '7.1' as never })).toThrow(/^kernel: expected '6\.18', '7\.0', '6\.1', got "7\.1"$/);
  });

  it('memory below the minimum names the size as given (1 byte, not 0)', () => {
    expect(() => boot({ memory: 1 })).toThrow(new RangeError('memory: 1 byte is below the minimum of 4194304 bytes'));
    expect(() => boot({ memory: '5G' })).toThrow(/^memory: 5368709120 bytes is more than kmem supports/);
  });

  it('zones alone size the machine; zones that disagree with a given memory are an error, never a silent 16 MiB', () => {
    const k = boot({ zones: { DMA: '16M', DMA32: '16M' } });
    expect(k.inspect.memory).toBe(32 * 1024 * 1024);
    expect(() => boot({ memory: '128M', zones: { DMA: '16M' } })).toThrow(/^zones: sizes add up to 16777216 bytes but memory is 134217728$/);
    expect(boot({ memory: '16M', zones: { DMA: '16M' } }).inspect.memory).toBe(16 * 1024 * 1024);
  });

  it('a min_free_kbytes that would fail every allocation is refused; a large sane one is kept', () => {
    expect(() => boot({ memory: '128M', minFreeKbytes: 1e9 })).toThrow(/^minFreeKbytes: 1000000000 kB is more than half of this machine's lowmem \(65534 kB\)/);
    const k = boot({ memory: '128M', minFreeKbytes: 16384 });
    expect(k.minFreeKbytes).toBe(16384);
    expect(k.kmalloc(64, 0xcc0)).toBeGreaterThan(0);
    expect(() => boot({ memory: '128M', minFreeKbytes: -1 })).toThrow(RangeError);
  });
});
