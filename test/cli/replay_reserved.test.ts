/**
 * Reserved memory (issue 16): the `reserved` boot option keeps memory that
 * memblock reserved at boot present but unmanaged, and `kmem replay
 * --reserved SIZE` (or a `Memory:` line in the trace) gives the replaying
 * machine the traced machine's managed pages. Figures by hand:
 *   512M: present 131071 pages (page 0 is not RAM to kmem), DMA 4095 and
 *   DMA32 126976; reserving 40M = 10240 pages from the top takes them from
 *   DMA32: managed 116736 there, 120831 in all, MemTotal 483324 kB; the
 *   top 10 order-10 blocks of DMA32 are no longer free.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { boot } from '../../src/kernel.js';
import { buildOnce, kmem, kmemJson, root } from './helpers.js';

beforeAll(buildOnce, 180_000);

const EXCERPT = join(root, 'test/fixtures/trace/linux-6.1-qemu-2cpu-excerpt.txt');
const tmp = mkdtempSync(join(tmpdir(), 'kmem-reserved-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const field = (text: string, re: RegExp) => Number(re.exec(text)![1]);
/** The managed/present lines of zone `zone` in /proc/zoneinfo. */
function zone(k: ReturnType<typeof boot>, name: string): { present: number; managed: number } {
  const text = k.proc.read('/proc/zoneinfo');
  const at = text.indexOf(`zone ${name.padStart(8)}`);
  const part = text.slice(at, text.indexOf('Node 0, zone', at + 10));
  return { present: field(part, /present\s+(\d+)/), managed: field(part, /managed\s+(\d+)/) };
}
const order10 = (k: ReturnType<typeof boot>) =>
  Number(
    k.proc
      .read('/proc/buddyinfo')
      .split('\n')
      .find((l) => l.includes('DMA32'))!
      .trim()
      .split(/\s+/)
      .pop(),
  );

describe('the reserved boot option', () => {
  it('40M of a 512M machine: present, not managed, taken from the top of DMA32', () => {
    const plain = boot({ memory: '512M', transparentHugepage: 'never' });
    const k = boot({ memory: '512M', reserved: '40M', transparentHugepage: 'never' });
    expect(k.dmesg().find((l) => l.includes('Memory:'))).toMatch(
      /\] Memory: 483324K\/524284K available \(0K kernel code, 0K rwdata, 0K rodata, 0K init, 0K bss, 40960K reserved, 0K cma-reserved\)$/,
    );
    expect(k.proc.read('/proc/meminfo')).toMatch(/^MemTotal:\s+483324 kB$/m);
    expect(zone(k, 'DMA')).toEqual({ present: 4095, managed: 4095 });
    expect(zone(k, 'DMA32')).toEqual({ present: 126976, managed: 116736 });
    expect(order10(plain) - order10(k)).toBe(10);
    // the reserved pages carry PG_reserved (bit 13)
    const top = 131072 - 10240;
    for (let pfn = top; pfn < 131072; pfn += 997) expect(k.inspect.structPage(pfn).flags & (1 << 13)).not.toBe(0);
  });

  it('refuses what leaves no machine, by name', () => {
    expect(() => boot({ memory: '64M', reserved: '62M' })).toThrow(
      /^reserved: 65011712 bytes leaves less than the minimum of 4194304 bytes of 67108864 bytes$/,
    );
    expect(() => boot({ memory: '64M', reserved: 'x' })).toThrow(/^reserved: /);
  });
});

describe.concurrent('kmem replay --reserved', { timeout: 150_000 }, () => {
  it('--reserved 40M on --mem 512M: the machine manages 120831 pages', async () => {
    const r = await kmemJson<{ machine: { managedPages: number; reserved: unknown } }>(['replay', EXCERPT, '--mem', '512M', '--reserved', '40M']);
    expect(r.machine.managedPages).toBe(120831);
    expect(r.machine.reserved).toEqual({ bytes: 40 * 2 ** 20, from: 'option' });
  });

  it("a Memory: line in the trace's header: the traced machine's managed pages and RAM", async () => {
    // 445000K managed of 524142K present: kmem's 512M (524142K rounded up to a MiB) less page 0
    // is 536866816 bytes; less 445000K = 81186816 bytes = 19821 pages reserved; 131071 - 19821 = 111250
    const text = readFileSync(EXCERPT, 'latin1').replace(
      '# tracer: nop\n',
      '# tracer: nop\n# [    0.331000] Memory: 445000K/524142K available (12288K kernel code, 2048K rwdata, 4096K rodata, 2048K init, 1024K bss, 79142K reserved, 0K cma-reserved)\n',
    );
    const path = join(tmp, 'with-memory-line.txt');
    writeFileSync(path, text, 'latin1');
    const r = await kmemJson<{ machine: { memory: number; managedPages: number; reserved: unknown } }>(['replay', path]);
    expect(r.machine).toMatchObject({ memory: 512 * 2 ** 20, managedPages: 111250, reserved: { bytes: 81186816, from: 'trace' } });
    const c = await kmemJson<{ configurations: { boot: { reserved?: number; memory?: number }; machine: { managedPages: number } }[] }>([
      'replay',
      path,
      '--compare',
      'default',
      'reserved=0',
    ]);
    expect(c.configurations.map((x) => [x.boot.memory, x.boot.reserved, x.machine.managedPages])).toEqual([
      [512 * 2 ** 20, 81186816, 111250],
      [512 * 2 ** 20, 0, 131071],
    ]);
  });

  it('bad sizes: one line naming --reserved, exit 2', async () => {
    const bad = await kmem(['replay', EXCERPT, '--reserved', 'x']);
    expect([bad.code, bad.stderr]).toEqual([2, "kmem: --reserved: cannot parse size 'x' (expected e.g. '128M', '1G' or a byte count)\n"]);
    const big = await kmem(['replay', EXCERPT, '--reserved', '1G']);
    expect([big.code, big.stderr]).toEqual([2, 'kmem: --reserved: 1073741824 bytes leaves less than the minimum of 4194304 bytes of 134217728 bytes\n']);
  });
});
