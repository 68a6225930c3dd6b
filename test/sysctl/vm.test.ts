/**
 * /proc/sys/vm/* and /proc/sys/kernel/randomize_va_space through
 * k.proc.read / k.proc.write: the kernel's defaults (this machine's real
 * 6.18 prints 0, 50, 0, 65530, 10 and 2 for overcommit_memory,
 * overcommit_ratio, overcommit_kbytes, max_map_count,
 * watermark_scale_factor, randomize_va_space), the bounds of their
 * proc_handler (mm/util.c, mm/mmap.c, mm/page_alloc.c, fs/drop_caches.c,
 * kernel/sysctl.c) with -EINVAL for a refused value that changes nothing,
 * and the handlers' side effects.
 */
import { describe, expect, it } from 'vitest';
import { boot, type Kernel } from '../../src/index.js';
import { Z_BOOST } from '../../src/page_alloc/mmzone.js';
import { ENOMEM, MAP_ANONYMOUS, MAP_PRIVATE, PROT_READ, PROT_WRITE } from '../../src/vm/mman.js';
import { buildElf } from '../vm/helpers.js';

const VM = '/proc/sys/vm';

function rejects(k: Kernel, path: string, text: string, code = 'EINVAL', errno = 22): void {
  const before = path.endsWith('drop_caches') ? null : k.proc.read(path);
  let err: (Error & { code?: string; errno?: number }) | undefined;
  try {
    k.proc.write(path, text);
  } catch (e) {
    err = e as Error & { code?: string; errno?: number };
  }
  expect(err?.code, `${path} <- ${JSON.stringify(text)}`).toBe(code);
  expect(err?.errno).toBe(errno);
  if (before !== null) expect(k.proc.read(path)).toBe(before);
}

function zoneWmarks(k: Kernel) {
  const out: { name: string; min: number; low: number; high: number; managed: number; protection: string; highMin: number; batch: number }[] = [];
  for (const block of k.proc
    .read('/proc/zoneinfo')
    .split(/^Node 0, zone/m)
    .slice(1)) {
    const num = (re: RegExp) => Number(re.exec(block)?.[1] ?? -1);
    out.push({
      name: block.slice(0, 9).trim(),
      min: num(/\n\s+min\s+(\d+)/),
      low: num(/\n\s+low\s+(\d+)/),
      high: num(/\n\s+high\s+(\d+)/),
      managed: num(/\n\s+managed\s+(\d+)/),
      protection: /protection: \(([^)]*)\)/.exec(block)![1]!,
      highMin: num(/high_min:\s+(\d+)/),
      batch: num(/batch:\s+(\d+)/),
    });
  }
  return out;
}

describe('/proc/sys/vm', () => {
  it("reads the kernel's defaults, as text with a newline", () => {
    const k = boot({ memory: '128M' });
    expect(k.proc.read(`${VM}/overcommit_memory`)).toBe('0\n');
    expect(k.proc.read(`${VM}/overcommit_ratio`)).toBe('50\n');
    expect(k.proc.read(`${VM}/overcommit_kbytes`)).toBe('0\n');
    expect(k.proc.read(`${VM}/max_map_count`)).toBe('65530\n');
    expect(k.proc.read(`${VM}/watermark_scale_factor`)).toBe('10\n');
    expect(k.proc.read(`${VM}/min_free_kbytes`)).toBe(`${k.minFreeKbytes}\n`);
    expect(k.proc.read('/proc/sys/kernel/randomize_va_space')).toBe('2\n');
  });

  it('overcommit_memory takes 0..2 (proc_dointvec_minmax), in C notation, and -EINVAL for anything else', () => {
    const k = boot({ memory: '64M' });
    k.proc.write(`${VM}/overcommit_memory`, '2\n');
    expect(k.proc.read(`${VM}/overcommit_memory`)).toBe('2\n');
    k.proc.write(`${VM}/overcommit_memory`, ' 0x1');
    expect(k.proc.read(`${VM}/overcommit_memory`)).toBe('1\n');
    for (const bad of ['3', '-1', 'abc', ' \n', '1x', '1.5', '99999999999']) rejects(k, `${VM}/overcommit_memory`, bad);
    // A write of nothing is no write (overcommit_policy_handler: new_policy stays -1).
    k.proc.write(`${VM}/overcommit_memory`, '');
    expect(k.proc.read(`${VM}/overcommit_memory`)).toBe('1\n');
  });

  it('overcommit_ratio clears overcommit_kbytes and the reverse; CommitLimit follows; kbytes is unsigned', () => {
    const k = boot({ memory: '64M' });
    k.proc.write(`${VM}/overcommit_kbytes`, '8192');
    expect(k.proc.read(`${VM}/overcommit_ratio`)).toBe('0\n');
    expect(k.proc.read('/proc/meminfo')).toContain('CommitLimit:        8192 kB\n');
    k.proc.write(`${VM}/overcommit_ratio`, '100');
    expect(k.proc.read(`${VM}/overcommit_kbytes`)).toBe('0\n');
    const total = Number(/MemTotal:\s+(\d+)/.exec(k.proc.read('/proc/meminfo'))![1]);
    expect(Number(/CommitLimit:\s+(\d+)/.exec(k.proc.read('/proc/meminfo'))![1])).toBe(total);
    rejects(k, `${VM}/overcommit_kbytes`, '-5');
  });

  it('overcommit_memory 2 written as text makes a charge above CommitLimit -ENOMEM', () => {
    const k = boot({ memory: '64M', aslr: 0 });
    k.fs.writeFile('/bin/p', buildElf([{ vaddr: 0x401000, flags: 5, data: new Uint8Array(16) }]));
    const t = k.spawn('/bin/p');
    const total = Number(/MemTotal:\s+(\d+)/.exec(k.proc.read('/proc/meminfo'))![1]) * 1024;
    expect(t.mmap(0, total * 0.75, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)).toBeGreaterThan(0);
    k.proc.write(`${VM}/overcommit_memory`, '2');
    expect(t.mmap(0, total * 0.75, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)).toBe(-ENOMEM);
  });

  it('max_map_count: 0 or more; a process with more VMAs than it gets -ENOMEM from mmap', () => {
    const k = boot({ memory: '64M', aslr: 0 });
    rejects(k, `${VM}/max_map_count`, '-1');
    k.fs.writeFile('/bin/p', buildElf([{ vaddr: 0x401000, flags: 5, data: new Uint8Array(16) }]));
    const t = k.spawn('/bin/p');
    k.proc.write(`${VM}/max_map_count`, '0');
    expect(t.mmap(0, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)).toBe(-ENOMEM);
    k.proc.write(`${VM}/max_map_count`, '65530');
    expect(t.mmap(0, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)).toBeGreaterThan(0);
  });

  it('min_free_kbytes: setup_per_zone_wmarks() and the pcp limits follow a write; lowmem_reserve does not change', () => {
    const k = boot({ memory: '256M', cpus: 2 });
    const before = zoneWmarks(k);
    rejects(k, `${VM}/min_free_kbytes`, '-1');
    k.proc.write(`${VM}/min_free_kbytes`, '16384');
    expect(k.proc.read(`${VM}/min_free_kbytes`)).toBe('16384\n');
    expect(k.minFreeKbytes).toBe(16384);
    const after = zoneWmarks(k);
    const lowmem = after.filter((z) => z.name !== 'Movable').reduce((s, z) => s + Math.max(0, z.managed), 0);
    for (const [i, z] of after.entries()) {
      if (z.managed <= 0 || z.name === 'Movable') continue;
      // Each zone's share of min_free_kbytes in pages, by managed pages; low and high a quarter of it more each (0.1% is smaller here).
      const min = Math.floor(((16384 / 4) * z.managed) / lowmem);
      const step = Math.max(min >> 2, Math.floor((z.managed * 10) / 10000));
      expect([z.min, z.low, z.high]).toEqual([min, min + step, min + 2 * step]);
      expect(z.protection).toBe(before[i]!.protection);
      // zone_highsize(): the low watermark over the CPUs, at least 4 batches.
      if (z.highMin >= 0) expect(z.highMin).toBe(Math.max(Math.floor(z.low / 2), z.batch * 4));
    }
    // MemAvailable uses the new high watermarks (totalreserve_pages).
    expect(after.some((z, i) => z.high !== before[i]!.high)).toBe(true);
  });

  it('a write drops any watermark boost (__setup_per_zone_wmarks sets watermark_boost to 0)', () => {
    const k = boot({ memory: '256M' });
    const zones = k.pageAlloc.zones;
    const boosted = /boost\s+(\d+)/g;
    for (let z = 0; z < 5; z++) if (zones.populated(z)) zones.set(z, Z_BOOST, 64);
    expect([...k.proc.read('/proc/zoneinfo').matchAll(boosted)].some((m) => m[1] === '64')).toBe(true);
    k.proc.write(`${VM}/min_free_kbytes`, `${k.minFreeKbytes}`);
    expect([...k.proc.read('/proc/zoneinfo').matchAll(boosted)].every((m) => m[1] === '0')).toBe(true);
  });

  it('watermark_scale_factor: 1..3000; a larger factor spreads low and high by managed * factor / 10000', () => {
    const k = boot({ memory: '256M' });
    rejects(k, `${VM}/watermark_scale_factor`, '0');
    rejects(k, `${VM}/watermark_scale_factor`, '3001');
    k.proc.write(`${VM}/watermark_scale_factor`, '1000');
    for (const z of zoneWmarks(k)) {
      if (z.managed <= 0) continue;
      expect(z.low - z.min).toBe(Math.max(z.min >> 2, Math.floor((z.managed * 1000) / 10000)));
      expect(z.high - z.low).toBe(z.low - z.min);
    }
  });

  it('drop_caches: write-only, 1..4; counts drop_pagecache and drop_slab; says who did it unless 4 was written', () => {
    const k = boot({ memory: '64M' });
    rejects(k, `${VM}/drop_caches`, '0');
    rejects(k, `${VM}/drop_caches`, '5');
    let err: (Error & { code?: string }) | undefined;
    try {
      k.proc.read(`${VM}/drop_caches`);
    } catch (e) {
      err = e as Error & { code?: string };
    }
    expect(err?.code).toBe('EACCES');
    k.setTask({ pid: 321, comm: 'sh' });
    k.proc.write(`${VM}/drop_caches`, '3');
    const v = k.proc.read('/proc/vmstat');
    expect(v).toContain('\ndrop_pagecache 1\n');
    expect(v).toContain('\ndrop_slab 1\n');
    expect(k.dmesg().some((l) => l.endsWith('sh (321): drop_caches: 3'))).toBe(true);
    k.proc.write(`${VM}/drop_caches`, '2');
    expect(k.proc.read('/proc/vmstat')).toContain('\ndrop_pagecache 1\ndrop_slab 2\n');
    k.proc.write(`${VM}/drop_caches`, '4');
    const n = k.dmesg().filter((l) => l.includes('drop_caches:')).length;
    k.proc.write(`${VM}/drop_caches`, '1');
    expect(k.dmesg().filter((l) => l.includes('drop_caches:')).length).toBe(n);
  });

  it('drop_caches 1 drops the page cache no process maps', () => {
    const k = boot({ memory: '64M', aslr: 0 });
    k.fs.writeFile('/bin/p', buildElf([{ vaddr: 0x401000, flags: 5, data: new Uint8Array(16) }]));
    const t = k.spawn('/bin/p');
    t.read8(0x401000); // the CPU fetching the first instruction: a file page fault
    const cached = () => Number(/Cached:\s+(\d+)/.exec(k.proc.read('/proc/meminfo'))![1]);
    expect(cached()).toBeGreaterThan(0);
    const mapped = Number(/Mapped:\s+(\d+)/.exec(k.proc.read('/proc/meminfo'))![1]);
    k.proc.write(`${VM}/drop_caches`, '1');
    // Only the mapped pages stay.
    expect(cached()).toBe(mapped);
    t.exit(0);
    k.proc.write(`${VM}/drop_caches`, '1');
    expect(cached()).toBe(0);
  });

  it('a file without a write method is -EIO, an unknown one ENOENT', () => {
    const k = boot({ memory: '64M' });
    rejects(k, '/proc/meminfo', '1', 'EIO', 5);
    expect(() => k.proc.write('/proc/sys/vm/nope', '1')).toThrow(expect.objectContaining({ code: 'ENOENT' }));
  });
});

describe('randomize_va_space and the aslr boot option', () => {
  const layout = (k: Kernel) => {
    k.fs.writeFile('/bin/p', buildElf([{ vaddr: 0x401000, flags: 6, data: new Uint8Array(16), memsz: 0x2000 }]));
    const t = k.spawn('/bin/p');
    return k.proc.read(`/proc/${t.pid}/maps`);
  };

  it('boots with 2 by default; aslr 0/1/2 sets it; anything else is refused at boot', () => {
    expect(boot({ memory: '32M', aslr: 0 }).proc.read('/proc/sys/kernel/randomize_va_space')).toBe('0\n');
    expect(boot({ memory: '32M', aslr: 1 }).proc.read('/proc/sys/kernel/randomize_va_space')).toBe('1\n');
    expect(() => boot({ memory: '32M', aslr: 3 as 2 })).toThrow(RangeError);
    expect(() => boot({ memory: '32M', aslr: '2' as unknown as 2 })).toThrow(/aslr/);
  });

  it('2 moves the stack between seeds; writing 0 gives the fixed layout of aslr: 0', () => {
    const fixed = layout(boot({ memory: '32M', seed: 1, aslr: 0 }));
    expect(layout(boot({ memory: '32M', seed: 1 }))).not.toBe(layout(boot({ memory: '32M', seed: 2 })));
    expect(layout(boot({ memory: '32M', seed: 1 }))).not.toBe(fixed);
    const k = boot({ memory: '32M', seed: 2 });
    k.proc.write('/proc/sys/kernel/randomize_va_space', '0');
    expect(layout(k)).toBe(fixed);
    expect(fixed).toContain('7ffffffde000-7ffffffff000 rw-p 00000000 00:00 0                          [stack]');
  });
});
