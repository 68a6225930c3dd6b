/**
 * `kmem replay FILE --compare SETTING...` and `--cpus LIST`: the built
 * command, run as a user runs it. Each configuration's slabs must be what
 * `kmem replay FILE` with the same machine options gives on its own; bad
 * settings are one-line errors naming them, exit code 2.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildOnce, kmem, kmemJson, root } from './helpers.js';

beforeAll(buildOnce, 180_000);

const EXCERPT = join(root, 'test/fixtures/trace/linux-6.1-qemu-2cpu-excerpt.txt');

interface Compare {
  lines: number;
  events: number;
  configurations: {
    label: string;
    boot: Record<string, unknown>;
    machine: { cpus: number; cpusFromTrace: boolean };
    slab: { pages: number; kB: number };
    caches: { name: string; order: number; objectsPerSlab: number; slabs: number }[];
  }[];
}

/** num_slabs, objperslab and pagesperslab of each cache in a /proc/slabinfo text. */
function slabinfo(text: string): Map<string, { slabs: number; per: number; pages: number }> {
  const out = new Map<string, { slabs: number; per: number; pages: number }>();
  for (const l of text.split('\n').slice(2)) {
    const f = l.split(/\s+/);
    if (f.length < 16) continue;
    out.set(f[0]!, { slabs: Number(f[14]), per: Number(f[4]), pages: Number(f[5]) });
  }
  return out;
}

describe.concurrent('kmem replay --compare', { timeout: 150_000 }, () => {
  it("slab_max_order 0 and 3: each configuration's slabs are those of a replay of its own", async () => {
    const c = await kmemJson<Compare>(['replay', EXCERPT, '--compare', 'slubMaxOrder=0', 'slub-max-order=3']);
    expect(c.lines).toBe(2014);
    expect(c.configurations.map((x) => [x.label, x.boot.slubMaxOrder, x.machine.cpus])).toEqual([
      ['slubMaxOrder=0', 0, 2],
      ['slub-max-order=3', 3, 2],
    ]);
    for (const [i, order] of ['0', '3'].entries()) {
      const one = await kmemJson<{ slabinfo: string }>(['replay', EXCERPT, '--slub-max-order', order]);
      const info = slabinfo(one.slabinfo);
      let checked = 0;
      for (const cache of c.configurations[i]!.caches) {
        const s = info.get(cache.name);
        if (s === undefined) continue;
        expect([cache.name, cache.slabs, cache.objectsPerSlab, 2 ** cache.order]).toEqual([cache.name, s.slabs, s.per, s.pages]);
        checked++;
      }
      expect(checked).toBeGreaterThan(20);
    }
    // kmalloc-4k (size 4096): slab_max_order=0 leaves 1 object an order-0 slab; 3 allows order 3, 8 objects
    const k4k = c.configurations.map((x) => x.caches.find((y) => y.name === 'kmalloc-4k'));
    expect(k4k.map((x) => [x?.order, x?.objectsPerSlab])).toEqual([
      [0, 1],
      [3, 8],
    ]);
  });

  it('--cpus 1,2,8 is an axis: alone it compares CPU counts, with settings it multiplies them', async () => {
    const alone = await kmemJson<Compare>(['replay', EXCERPT, '--cpus', '1,2,8']);
    expect(alone.configurations.map((x) => [x.label, x.machine.cpus, x.machine.cpusFromTrace])).toEqual([
      ['cpus=1', 1, false],
      ['cpus=2', 2, false],
      ['cpus=8', 8, false],
    ]);
    const both = await kmemJson<Compare>(['replay', EXCERPT, '--compare', 'slubMaxOrder=0', 'slubMinObjects=8 cpus=4', 'default', '--cpus', '1,2']);
    expect(both.configurations.map((x) => [x.label, x.machine.cpus])).toEqual([
      ['slubMaxOrder=0 cpus=1', 1],
      ['slubMaxOrder=0 cpus=2', 2],
      ['slubMinObjects=8 cpus=4', 4],
      ['cpus=1', 1],
      ['cpus=2', 2],
    ]);
  });

  it('prints one row per configuration, and the caches whose slabs differ', async () => {
    const r = await kmem(['replay', EXCERPT, '--compare', 'slubMaxOrder=0', 'slubMaxOrder=3', '--top', '3']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const lines = r.stdout.split('\n');
    expect(lines[0]).toMatch(/^.*linux-6\.1-qemu-2cpu-excerpt\.txt: 2014 lines, 2000 events; read and parsed once in [\d.]+ s, replayed into 2 machines$/);
    expect(lines[2]).toMatch(
      /^CONFIGURATION\s+CPUS\s+SLAB PAGES\s+SLAB kB\s+TRACE PAGES\s+WASTE INT\s+SLACK\s+SLOW ALLOC\s+SLOW FREE\s+PARTIAL FREE \(SLABS\)\s+FAILED\s+SECONDS$/,
    );
    expect(lines[3]).toMatch(/^slubMaxOrder=0\s+2\s+\d+/);
    expect(lines[4]).toMatch(/^slubMaxOrder=3\s+2\s+\d+/);
    const at = lines.findIndex((l) => l.startsWith('== caches whose slabs differ (top 3 of '));
    expect(at).toBeGreaterThan(4);
    expect(lines[at + 1]).toMatch(/^CACHE\s+slubMaxOrder=0\s+slubMaxOrder=3$/);
    expect(lines.slice(at + 2, at + 5).every((l) => /^\S+\s+\d+x\d+\/o\d\s+\d+x\d+\/o\d$/.test(l))).toBe(true);
  });

  it('the file may follow the settings', async () => {
    const c = await kmemJson<Compare>(['replay', '--compare', 'slubMaxOrder=1', EXCERPT]);
    expect(c.configurations.map((x) => x.label)).toEqual(['slubMaxOrder=1']);
  });

  it('bad settings: one line naming the setting and the option, exit 2, before the trace is read', async () => {
    const cases: [string[], string][] = [
      [['--compare', 'slubMaxOrdr=1'], "kmem: --compare 'slubMaxOrdr=1': slubMaxOrdr: unknown boot option (did you mean 'slubMaxOrder'?)\n"],
      [['--compare', 'slubMaxOrder=x'], "kmem: --compare 'slubMaxOrder=x': slubMaxOrder: expected a whole number, got 'x'\n"],
      [['--compare', 'slubMaxOrder=11'], "kmem: --compare 'slubMaxOrder=11': slubMaxOrder: expected an integer 0..10, got 11\n"],
      [['--compare', 'slubMaxOrder'], "kmem: --compare 'slubMaxOrder': 'slubMaxOrder' is not NAME=VALUE (a boot option such as slubMaxOrder=1)\n"],
      [['--compare', 'cpus=0'], "kmem: --compare 'cpus=0': cpus: expected an integer 1..256, got 0\n"],
      [['--cpus', '1,two'], "kmem: --cpus: expected a whole number or a list of them such as 1,2,8, got '1,two'\n"],
      [['--compare', 'default', '--slub-max-order', '12'], 'kmem: --slub-max-order: expected an integer 0..10, got 12\n'],
    ];
    for (const [args, err] of cases) {
      const r = await kmem(['replay', EXCERPT, ...args]);
      expect([args, r.code, r.stderr, r.stdout]).toEqual([args, 2, err, '']);
    }
    const missing = await kmem(['replay', join(root, 'no-such-trace.txt'), '--compare', 'slubMaxOrder=1']);
    expect([missing.code, missing.stderr]).toEqual([2, `kmem: ${join(root, 'no-such-trace.txt')}: no such file or directory\n`]);
  });

  it('standard input: copied to a temporary file, the same figures as the file; its errors name standard input', async () => {
    const text = readFileSync(EXCERPT, 'latin1');
    const r = await kmem(['replay', '-', '--compare', 'slubMaxOrder=1', '--json'], { input: text });
    expect([r.code, r.stderr]).toEqual([0, '']);
    const piped = JSON.parse(r.stdout) as Compare;
    const file = await kmemJson<Compare>(['replay', EXCERPT, '--compare', 'slubMaxOrder=1']);
    expect(piped.lines).toBe(2014);
    expect(piped.configurations[0]!.caches).toEqual(file.configurations[0]!.caches);
    expect(piped.configurations[0]!.slab).toEqual(file.configurations[0]!.slab);
    const bad = await kmem(['replay', '-', '--compare', 'slubMaxOrder=1'], { input: `${text}kmalloc: call_site=x ptr=(nul\n` });
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/^kmem: \(standard input\):2015: /);
  });
});

describe.concurrent('kmem replay --help', { timeout: 60_000 }, () => {
  it('says what --lookahead, --cpus and --compare do now', async () => {
    const r = await kmem(['replay', '--help']);
    expect(r.code).toBe(0);
    const flat = r.stdout.replace(/\s+/g, ' ');
    // the window is for pipes only: a file is read twice, names learned over all of it
    expect(flat).toContain('--lookahead <n> standard input and pipes only: kmem_cache_alloc events held back to learn their cache from a later free');
    expect(flat).toContain('(a file is read twice and learns from all of it)');
    expect(flat).toContain(
      "--cpus <n> number of CPUs, or a list such as 1,2,8 to compare them (default: the trace header's #P:N, else the CPUs its events use)",
    );
    expect(flat).toContain('--cpus 1,2,8 is an axis of its own');
    expect(flat).toContain("kmem replay trace.txt --compare 'slubMaxOrder=0' 'slubMaxOrder=3' --cpus 1,2,8");
    expect(flat).not.toContain('events held back to learn kmem_cache_alloc cache names from later frees');
  });
});

describe.concurrent('kmem replay --lookahead', { timeout: 60_000 }, () => {
  it('on a file: a note on stderr that the window is for pipes (the report is the same)', async () => {
    const r = await kmem(['replay', EXCERPT, '--lookahead', '8', '--json']);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('kmem replay: --lookahead applies to standard input and pipes only: a file is read twice, its names learned from all of it\n');
    const plain = await kmemJson<{ slabinfo: string }>(['replay', EXCERPT]);
    expect((JSON.parse(r.stdout) as { slabinfo: string }).slabinfo).toBe(plain.slabinfo);
    const piped = await kmem(['replay', '-', '--lookahead', '8', '--json'], { input: readFileSync(EXCERPT, 'latin1') });
    expect([piped.code, piped.stderr]).toEqual([0, '']);
  });
});
