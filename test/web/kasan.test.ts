/**
 * The KASAN panel's view-model: shadow bytes and their names, the grid in
 * the kernel's own row format, reports parsed and linked to their object.
 */
import { describe, expect, it } from 'vitest';
import { GFP_KERNEL } from '../../src/page_alloc/gfp.js';
import { accessibleBytes, cacheDetail, O_QUARANTINE } from '../../web/model/caches.js';
import { fromPx, px } from '../../web/model/format.js';
import { kasanReports, parseKasanReports, shadowMeaning, shadowOf, shadowRows, shadowText } from '../../web/model/kasan.js';
import { Session } from '../../web/model/session.js';

const REPORT = `[    1.000000] ==================================================================
[    1.000000] BUG: KASAN: slab-out-of-bounds in kmalloc_oob_right+0x6d/0x2a0
[    1.000000] Read of size 1 at addr ffff888001007064 by task kmem/1
[    1.000000] 
[    1.000000] The buggy address belongs to the object at ffff888001007000
[    1.000000]  which belongs to the cache kmalloc-128 of size 128
[    1.000000] The buggy address is located 0 bytes to the right of
[    1.000000]  allocated 100-byte region [ffff888001007000, ffff888001007064)
[    1.000000] ==================================================================
[    2.000000] ==================================================================
[    2.000000] BUG: KASAN: double-free in kfree+0x10/0x20
[    2.000000] Free of addr ffff888001008000 by task kmem/1
[    2.000000] ==================================================================`.split('\n');

describe('reports from dmesg', () => {
  it('finds each report with its access, object, cache and place', () => {
    const r = parseKasanReports(REPORT);
    expect(r).toHaveLength(2);
    expect(r[0]).toMatchObject({
      type: 'slab-out-of-bounds',
      where: 'kmalloc_oob_right+0x6d/0x2a0',
      access: 'Read',
      size: 1,
      addr: 0x1007064,
      object: 0x1007000,
      cache: 'kmalloc-128',
      objectSize: 128,
      location: '0 bytes to the right of allocated 100-byte region',
    });
    expect(r[1]).toMatchObject({ type: 'double-free', access: 'Free', addr: 0x1008000, object: -1 });
  });
});

describe('shadow', () => {
  it('names every kind of shadow byte', () => {
    expect(shadowMeaning(0).cls).toBe('ok');
    expect(shadowMeaning(4)).toEqual({ name: 'partially accessible (first 4 bytes)', cls: 'partial' });
    expect(shadowMeaning(0xfc).name).toMatch(/^KASAN_SLAB_REDZONE/);
    expect(shadowMeaning(0xfb).name).toMatch(/^KASAN_SLAB_FREE/);
    expect(shadowMeaning(0xfa).name).toMatch(/^KASAN_SLAB_FREE_META/);
    expect(shadowMeaning(0xfe).name).toMatch(/^KASAN_PAGE_REDZONE/);
    expect(shadowMeaning(0xff).name).toMatch(/^KASAN_PAGE_FREE/);
  });

  it('lays rows out as the report does: 16 shadow bytes, 128 bytes of memory each', () => {
    const sh = new Uint8Array(1024).fill(0xfc);
    sh.fill(0, 0x1000 >>> 3, (0x1000 + 96) >>> 3);
    sh[(0x1000 + 96) >>> 3] = 4;
    const rows = shadowRows(sh, 0x1064, 1, 3, 8192);
    expect(rows.map((r) => r.addr)).toEqual([0xf80, 0x1000, 0x1080]);
    expect(rows[1]!.bytes.slice(11, 14)).toEqual([0, 4, 0xfc]);
    const text = shadowText(rows, 0x1064);
    expect(text[1]).toBe('>ffff888000001000: 00 00 00 00 00 00 00 00 00 00 00 00 04 fc fc fc');
    expect(text[0]!.startsWith(' ffff888000000f80:')).toBe(true);
    expect(accessibleBytes(sh, 0x1000, 128)).toBe(100);
    expect(fromPx(px(0x1064))).toBe(0x1064);
  });
});

describe('on a KASAN machine', () => {
  it('shows a kmalloc(100) object as 100 accessible bytes, and a freed one as quarantined', () => {
    const s = new Session({ memory: '32M', cpus: 1, seed: 1, kasan: true }, null, [
      { t: 'kmalloc', cpu: 0, size: 100, h: 1 },
      { t: 'kmalloc', cpu: 0, size: 64, h: 2 },
      { t: 'free', cpu: 0, h: 2 },
      { t: 'access', cpu: 0, h: 1, offset: 100, size: 1, write: false, fn: 'kmalloc_oob_right' },
      { t: 'access', cpu: 0, h: 2, offset: 0, size: 8, write: false, fn: 'kmalloc_uaf' },
    ]);
    s.seek(3);
    const sh = shadowOf(s.k)!;
    expect(sh).not.toBeNull();
    const p = s.addrOf(1);
    expect(accessibleBytes(sh, p, 128)).toBe(100);
    const d = cacheDetail(s.k, s.k.kmemCacheByName('kmalloc-64'));
    const q = d.cpus[0]!.slab!;
    expect(Array.from(q.states).filter((x) => x === O_QUARANTINE)).toHaveLength(1);
    expect(d.totals.quarantined).toBe(1);
    expect(s.rec.bits[2]! & (1 << 23)).toBeTruthy();
    s.seek(5);
    const reports = kasanReports(s.k);
    expect(reports.map((r) => [r.type, r.where, r.cache])).toEqual([
      ['slab-out-of-bounds', 'kmalloc_oob_right', 'kmalloc-128'],
      ['slab-use-after-free', 'kmalloc_uaf', 'kmalloc-64'],
    ]);
    expect(reports[0]!.addr).toBe(p + 100);
    expect(reports[0]!.object).toBe(p);
    expect(reports[0]!.location).toBe('0 bytes to the right of allocated 100-byte region');
    // The same reports are in dmesg, in the kernel's words.
    expect(parseKasanReports(s.k.dmesg()).map((r) => r.type)).toEqual(['slab-out-of-bounds', 'slab-use-after-free']);
    expect(s.k.kmalloc(8, GFP_KERNEL)).toBeGreaterThan(0);
  });
});

describe('a machine booted without KASAN', () => {
  it('has no shadow and no reports', () => {
    const s = new Session({ memory: '32M', cpus: 1, seed: 1, kasan: false });
    expect(shadowOf(s.k)).toBeNull();
    expect(kasanReports(s.k)).toEqual([]);
  });
});
