/**
 * `kmem replay --compare`: one trace replayed into several machines at once
 * (replayCompare) must leave each machine as a replay of its own with the
 * same boot options leaves it, and the machines must differ where SLUB's
 * calculate_order() says their geometry differs.
 *
 * calculate_order() by hand for kmalloc-1k (size 1024) on 2 CPUs:
 *   min_objects = 4 * (fls(2) + 1) = 12
 *   slab_max_order=3: max_objects = (4096 << 3) / 1024 = 32, min_objects 12,
 *     min_order = get_order(12 * 1024) = 2; 16384 % 1024 = 0 <= 16384/16,
 *     so order 2, 16 objects a slab
 *   slab_max_order=0: max_objects = 4096 / 1024 = 4, min_objects 4,
 *     min_order = get_order(4096) = 0; 4096 % 1024 = 0: order 0, 4 objects
 * 40 live kmalloc(1000) objects (bytes_alloc=1024) then need at least
 * ceil(40 / 4) = 10 order-0 slabs (10 pages) against ceil(40 / 16) = 3
 * order-2 slabs (12 pages); boot's own kmalloc-1k objects come on top of both.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import type { BootOptions } from '../../src/kernel.js';
import { type CompareConfig, parseCompareSetting, replayCompare } from '../../src/trace/compare.js';
import { replayTraceFile } from '../../src/trace/replay.js';

const EXCERPT = join(__dirname, '../fixtures/trace/linux-6.1-qemu-2cpu-excerpt.txt');
const tmp = mkdtempSync(join(tmpdir(), 'kmem-compare-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const HEADER = '# tracer: nop\n#\n# entries-in-buffer/entries-written: 60/60   #P:2\n#\n';

/** 40 kmalloc(1000) on CPU 0, then the first 20 freed on CPU 1 (6.1's format). */
function kmalloc1kTrace(): string {
  const lines: string[] = [];
  const ptr = (i: number) => `ffff8ad3${(0x04000000 + i * 0x400).toString(16).padStart(8, '0')}`;
  for (let i = 0; i < 40; i++) {
    lines.push(
      `         busybox-771     [000] .....    24.${String(400000 + i).padStart(6, '0')}: kmalloc: call_site=load_elf_phdrs+0x5a/0xb0 ptr=${ptr(i)} bytes_req=1000 bytes_alloc=1024 gfp_flags=GFP_KERNEL node=-1 accounted=false`,
    );
  }
  for (let i = 0; i < 20; i++) {
    lines.push(
      `         busybox-771     [001] .....    24.${String(500000 + i).padStart(6, '0')}: kfree: call_site=load_elf_binary+0xcf0/0x1780 ptr=${ptr(i)}`,
    );
  }
  return `${HEADER}${lines.join('\n')}\n`;
}

const cfg = (label: string, boot: BootOptions): CompareConfig => ({ label, boot });

/** What one machine holds after a replay of its own: Slab: of meminfo, and each cache's slabs and geometry. */
async function alone(path: string, boot: BootOptions) {
  const r = await replayTraceFile(path, { boot });
  const k = r.kernel;
  const kB = Number(/^Slab:\s+(\d+) kB$/m.exec(k.proc.read('/proc/meminfo'))![1]);
  const rep = r.replayer.report();
  const caches = new Map<string, { slabs: number; order: number; objectsPerSlab: number }>();
  for (const c of rep.caches) {
    if (c.slabs === null) continue;
    const line = k.proc
      .read('/proc/slabinfo')
      .split('\n')
      .find((l) => l.startsWith(`${c.name} `));
    if (line === undefined) continue;
    // name active_objs num_objs objsize objperslab pagesperslab : tunables ... : slabdata active_slabs num_slabs sharedavail
    const f = line.split(/\s+/);
    caches.set(c.name, { slabs: Number(f[14]), order: Math.log2(Number(f[5])), objectsPerSlab: Number(f[4]) });
  }
  const slow = rep.caches.reduce((a, c) => a + c.slowpath.alloc, 0);
  return { kB, caches, slow, cpus: k.cpus };
}

describe('replayCompare', { timeout: 60_000 }, () => {
  it('each machine ends as a replay of its own with those options (the real 6.1 excerpt, slab_max_order 0 and 3)', async () => {
    const configs = [cfg('slubMaxOrder=0', { slubMaxOrder: 0 }), cfg('slubMaxOrder=3', { slubMaxOrder: 3 })];
    const c = await replayCompare(EXCERPT, configs);
    expect(c.rows.map((r) => r.label)).toEqual(['slubMaxOrder=0', 'slubMaxOrder=3']);
    expect(c.read.lines).toBe(2014);
    for (const [i, config] of configs.entries()) {
      const row = c.rows[i]!;
      const one = await alone(EXCERPT, config.boot);
      expect(row.machine.cpus).toBe(2); // the header's #P:2
      expect(row.slab.kB).toBe(one.kB);
      expect(row.slab.pages).toBe(one.kB / 4);
      expect(row.slowpath.alloc).toBe(one.slow);
      for (const cache of row.caches) {
        const o = one.caches.get(cache.name);
        if (o === undefined) continue; // a cache merged under another name in slabinfo
        expect({ name: cache.name, slabs: cache.slabs, order: cache.order, per: cache.objectsPerSlab }).toEqual({
          name: cache.name,
          slabs: o.slabs,
          order: o.order,
          per: o.objectsPerSlab,
        });
      }
    }
    // the larger slab_max_order packs the big caches into fewer, larger slabs
    const k4k = (i: number) => c.rows[i]!.caches.find((x) => x.name === 'kmalloc-4k')!;
    expect(k4k(0)).toMatchObject({ order: 0, objectsPerSlab: 1 });
    expect(k4k(1)).toMatchObject({ order: 3, objectsPerSlab: 8 });
  });

  it('kmalloc-1k: order 0 with 4 objects against order 2 with 16, as calculate_order() gives', async () => {
    const path = join(tmp, 'kmalloc-1k.txt');
    writeFileSync(path, kmalloc1kTrace());
    const c = await replayCompare(path, [cfg('0', { slubMaxOrder: 0 }), cfg('3', { slubMaxOrder: 3 })]);
    const k1 = c.rows.map((r) => r.caches.find((x) => x.name === 'kmalloc-1k')!);
    expect(k1[0]).toMatchObject({ size: 1024, order: 0, objectsPerSlab: 4 });
    expect(k1[1]).toMatchObject({ size: 1024, order: 2, objectsPerSlab: 16 });
    for (const r of c.rows) expect(r.failed).toBe(0);
    // slabs, by hand: CPU 0 fills 40 / 4 = 10 order-0 slabs (or 16 + 16 + 8 in 3 order-2 slabs); CPU 1's
    // frees of objects 0..19 turn the first full slabs partial, each onto CPU 1's cpu partial list
    // (put_cpu_partial; at most cpu_partial_slabs = DIV_ROUND_UP(24 * 2, objects) = 12 or 3 of them),
    // where they stay, empty or not: 5 order-0 slabs with 4 free objects each, 2 order-2 slabs
    // with 16 and 4; the other slabs stay full or on CPU 0
    expect(k1[0]).toMatchObject({ slabs: 10 });
    expect(k1[1]).toMatchObject({ slabs: 3 });
    expect(c.rows[0]!).toMatchObject({ traceSlabPages: 10, partial: { slabs: 5, freeBytes: 20 * 1024 }, waste: { slack: 0 } });
    expect(c.rows[1]!).toMatchObject({ traceSlabPages: 12, partial: { slabs: 2, freeBytes: 20 * 1024 }, waste: { slack: 0 } });
    for (const i of [0, 1]) {
      const one = await alone(path, { slubMaxOrder: i === 0 ? 0 : 3 });
      expect(k1[i]!.slabs).toBe(one.caches.get('kmalloc-1k')!.slabs);
    }
    // internal waste: the 20 live objects each hold 1024 - 1000 bytes unused, whatever the order
    expect(c.rows[0]!.waste.internal).toBe(20 * 24);
    expect(c.rows[1]!.waste.internal).toBe(20 * 24);
  });

  it('machines do not disturb each other: a configuration gives the same figures alone or beside others', async () => {
    const both = await replayCompare(EXCERPT, [cfg('a', { slubMinObjects: 32 }), cfg('b', { cpus: 1, slubMaxOrder: 1 })]);
    const justB = await replayCompare(EXCERPT, [cfg('b', { cpus: 1, slubMaxOrder: 1 })]);
    const strip = ({ seconds: _s, ...r }: (typeof both.rows)[number]) => r;
    expect(strip(both.rows[1]!)).toEqual(strip(justB.rows[0]!));
    expect(both.rows[1]!.machine.cpus).toBe(1);
    expect(both.rows[1]!.machine.cpusFromTrace).toBe(false);
    expect(both.rows[0]!.machine.cpusFromTrace).toBe(true);
  });

  it('an unknown or bad boot option is refused by name', async () => {
    await expect(replayCompare(EXCERPT, [cfg('x', { slubMaxOrdr: 1 } as BootOptions)])).rejects.toThrow(
      /^slubMaxOrdr: unknown boot option \(did you mean 'slubMaxOrder'\?\)$/,
    );
    await expect(replayCompare(EXCERPT, [cfg('x', { slubMaxOrder: 11 })])).rejects.toThrow(/^slubMaxOrder: /);
  });
});

describe('parseCompareSetting', () => {
  it('NAME=VALUE pairs, by spaces or commas; a comma inside a value stays in it', () => {
    expect(parseCompareSetting('slubMaxOrder=1')).toEqual({ slubMaxOrder: 1 });
    expect(parseCompareSetting('slubMaxOrder=1 slubMinObjects=8')).toEqual({ slubMaxOrder: 1, slubMinObjects: 8 });
    expect(parseCompareSetting('slubMaxOrder=1,slubMinObjects=8')).toEqual({ slubMaxOrder: 1, slubMinObjects: 8 });
    expect(parseCompareSetting('slubDebug=FZ,kmalloc-64 cpus=4')).toEqual({ slubDebug: 'FZ,kmalloc-64', cpus: 4 });
    expect(parseCompareSetting('slub-min-order=1 mem=256M slab-nomerge=true')).toEqual({ slubMinOrder: 1, memory: '256M', slabNomerge: true });
    expect(parseCompareSetting('default')).toEqual({});
    expect(parseCompareSetting('  ')).toEqual({});
    expect(parseCompareSetting('kasan=false')).toEqual({ kasan: false });
    expect(parseCompareSetting('reserved=0 memory=536870912')).toEqual({ reserved: 0, memory: 536870912 });
    expect(parseCompareSetting('reserved=40M')).toEqual({ reserved: '40M' });
  });

  it('refuses what is not NAME=VALUE, a value of the wrong kind, and a name given twice', () => {
    expect(() => parseCompareSetting('slubMaxOrder')).toThrow(RangeError);
    expect(() => parseCompareSetting('slubMaxOrder')).toThrow(/^'slubMaxOrder' is not NAME=VALUE/);
    expect(() => parseCompareSetting('slubMaxOrder=x')).toThrow(/^slubMaxOrder: expected a whole number, got 'x'$/);
    expect(() => parseCompareSetting('slabNomerge=yes')).toThrow(/^slabNomerge: expected true or false, got 'yes'$/);
    expect(() => parseCompareSetting('cpus=1 cpus=2')).toThrow(/^cpus: given twice$/);
    expect(() => parseCompareSetting('cpus=')).toThrow(/^cpus: no value$/);
    // an unknown name is left for boot() to name with its likely spelling
    expect(parseCompareSetting('slubMaxOrdr=1')).toEqual({ slubMaxOrdr: '1' });
  });
});

describe('replayCompare, model-based', () => {
  type Op = { op: 'alloc'; size: number; cpu: number } | { op: 'free'; pick: number; cpu: number };
  /** A trace of kmalloc/kfree events (6.1's format): sizes, CPUs and which live object each free takes drawn by fast-check. */
  const traceArb: fc.Arbitrary<Op[]> = fc.array(
    fc.oneof(
      fc.record({ op: fc.constant('alloc' as const), size: fc.integer({ min: 1, max: 8192 }), cpu: fc.integer({ min: 0, max: 3 }) }),
      fc.record({ op: fc.constant('free' as const), pick: fc.nat(), cpu: fc.integer({ min: 0, max: 3 }) }),
    ),
    { minLength: 1, maxLength: 300 },
  );
  const configArb = fc.record(
    {
      slubMaxOrder: fc.integer({ min: 0, max: 3 }),
      slubMinObjects: fc.constantFrom(0, 4, 16),
      cpus: fc.integer({ min: 1, max: 4 }),
      slabNomerge: fc.boolean(),
    },
    { requiredKeys: [] },
  );

  function render(ops: Op[]): string {
    const live: string[] = [];
    const lines: string[] = [];
    let t = 0;
    let next = 0;
    for (const o of ops) {
      const ts = `24.${String(100000 + t++).padStart(6, '0')}`;
      if (o.op === 'alloc') {
        const ptr = `ffff8ad3${(0x01000000 + next++ * 0x4000).toString(16).padStart(8, '0')}`;
        const slot = o.size <= 8 ? 8 : 2 ** Math.ceil(Math.log2(o.size));
        lines.push(
          `           sh-90      [00${o.cpu}] .....    ${ts}: kmalloc: call_site=do_sys_openat2+0x8a/0x150 ptr=${ptr} bytes_req=${o.size} bytes_alloc=${slot} gfp_flags=GFP_KERNEL node=-1 accounted=false`,
        );
        live.push(ptr);
      } else if (live.length > 0) {
        const [ptr] = live.splice(o.pick % live.length, 1);
        lines.push(`           sh-90      [00${o.cpu}] .....    ${ts}: kfree: call_site=do_sys_openat2+0x10c/0x150 ptr=${ptr}`);
      }
    }
    return `# tracer: nop\n#\n# entries-in-buffer/entries-written: ${lines.length}/${lines.length}   #P:4\n#\n${lines.join('\n')}\n`;
  }

  it('every machine of a comparison ends as it would replayed alone', async () => {
    let run = 0;
    await fc.assert(
      fc.asyncProperty(traceArb, fc.array(configArb, { minLength: 2, maxLength: 3 }), async (ops, boots) => {
        const path = join(tmp, `model-${run++}.txt`);
        writeFileSync(path, render(ops));
        const all = await replayCompare(
          path,
          boots.map((b, i) => cfg(String(i), b)),
        );
        for (const [i, b] of boots.entries()) {
          const one = await replayCompare(path, [cfg(String(i), b)]);
          const { seconds: _a, ...got } = all.rows[i]!;
          const { seconds: _b, ...want } = one.rows[0]!;
          expect(got).toEqual(want);
        }
      }),
      { numRuns: 12 },
    );
  }, 120_000);
});
