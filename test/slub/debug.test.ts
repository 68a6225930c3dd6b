/**
 * slub_debug (src/slub/debug.ts): the slow paths of debug caches, poison,
 * red zones, tracks, tracing, the consistency checks, validate and the
 * report texts, checked against mm/slub.c's rules (6.18) and against the real
 * reports in test/fixtures/realdata/slub-debug-*.txt (5.4 and 5.11: same lines,
 * older arrangement).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { boot, type Kernel } from '../../src/kernel.js';
import { KernelBug } from '../../src/lib/bug.js';
import { printTainted, printTaintedVerbose, TAINT_BAD_PAGE, TAINT_WARN } from '../../src/lib/panic.js';
import { __GFP_ZERO, GFP_KERNEL } from '../../src/page_alloc/gfp.js';
import { POISON_END, POISON_FREE, POISON_INUSE, SLUB_RED_ACTIVE, SLUB_RED_INACTIVE } from '../../src/slub/debug.js';
import { CF, MAX_CACHES } from '../../src/slub/slab.js';
import { DEBUG_DEFAULT_FLAGS, SLAB_CONSISTENCY_CHECKS, SLAB_POISON, SLAB_RED_ZONE, SLAB_STORE_USER, SLAB_TRACE } from '../../src/slub/slab_flags.js';
import { sid } from './handle_id.js';

const REALDATA = fileURLToPath(new URL('../fixtures/realdata/', import.meta.url));

/** The lines of a realdata report, without the comment header and the timestamps. */
function realdata(name: string): string[] {
  return readFileSync(join(REALDATA, name), 'utf8')
    .split('\n')
    .filter((l) => !l.startsWith('#'))
    .map((l) => l.replace(/^\[\s*\d+\.\d+\] ?/, ''));
}

/** dmesg lines printed since `from`, without timestamps. */
function since(k: Kernel, from: number): string[] {
  return k
    .dmesg()
    .slice(from)
    .map((l) => l.replace(/^\[\s*\d+\.\d{6}\] ?/, ''));
}

function cache(k: Kernel, name: string): number {
  const s = k.kmemCacheByName(name);
  expect(s).toBeGreaterThanOrEqual(0);
  return s;
}

function flagsOf(k: Kernel, name: string): number {
  return k.slub.cf[sid(k, cache(k, name)) * CF.FIELDS + CF.FLAGS]! & DEBUG_DEFAULT_FLAGS;
}

/** The hex bytes of a hex dump line ("Object   ffff...: 6b 6b ...  kkk" -> "6b 6b ...  kkk"). */
function dumpData(line: string): string {
  return line.slice(line.indexOf(': ') + 2);
}

/**
 * A report reduced to the kinds of its lines, for comparing the structure of
 * kmem's reports with real ones: 5.11's "INFO: " prefixes and tab-indented
 * stack entries are taken as 6.x's bare lines and space-indented entries.
 */
function shape(lines: string[]): string[] {
  const out: string[] = [];
  for (const raw of lines) {
    const l = raw.replace(/^INFO: /, '');
    let kind: string;
    if (/^=+$/.test(l)) kind = l.length === 77 ? 'RULE=' : 'rule=?';
    else if (/^-{77}$/.test(l)) kind = 'RULE-';
    else if (l === '') kind = 'BLANK';
    else if (/^BUG \S+ \((Not tainted|Tainted: .+)\): /.test(l)) kind = 'BUG';
    else if (/^(\[.+ overwritten\] )?0x[0-9a-f]{16}-0x[0-9a-f]{16} @offset=\d+\. First byte 0x[0-9a-f]+ instead of 0x[0-9a-f]+$/.test(l)) kind = 'FAULT';
    else if (/^Allocated in .+ age=\d+ cpu=\d+ pid=\d+$/.test(l)) kind = 'ALLOCATED';
    else if (/^Freed in .+ age=\d+ cpu=\d+ pid=\d+$/.test(l)) kind = 'FREED';
    else if (/^(\t| )\S/.test(raw)) kind = 'FRAME';
    else if (/^Slab 0x[0-9a-f]{16} objects=\d+ used=\d+ fp=0x[0-9a-f]{16} flags=0x[0-9a-f]+(\(.*\))?$/.test(l)) kind = 'SLAB';
    else if (/^Object 0x[0-9a-f]{16} @offset=\d+( fp=0x[0-9a-f]{16})?$/.test(l)) kind = 'OBJECT';
    else if (/^(Redzone|Object|Padding|Bytes b4) +[0-9a-f]{16}: /.test(l)) kind = `DUMP ${l.split(' ')[0]}`;
    else if (/^FIX \S+: /.test(l)) kind = 'FIX';
    else if (/^TRACE \S+ (alloc|free) 0x[0-9a-f]{16} inuse=\d+ fp=0x[0-9a-f]{16}$/.test(l)) kind = 'TRACE';
    else if (/^CPU: \d+ /.test(l)) kind = 'CPU';
    else kind = 'OTHER';
    out.push(kind);
  }
  return out;
}

/** A kernel function calling kmem, so that tracks name it. */
function driverAlloc(k: Kernel, size: number): number {
  return k.kmalloc(size, GFP_KERNEL);
}

function driverFree(k: Kernel, p: number): void {
  k.kfree(p);
}

describe('kmalloc-32 under slub_debug=FZPU: the geometry', () => {
  it('6.18 lays out a 160-byte slot, 25 per order-0 slab (5.11 had 416 and 19)', () => {
    const k = boot({ slubDebug: 'FZPU' });
    const attr = (a: string) => k.sys.read(`/sys/kernel/slab/kmalloc-32/${a}`);
    // left red pad ALIGN(8, 32) = 32 | object 32 | right redzone 8 (no slack) | free pointer 8
    // (POISON moves it out) | 2 x struct track 32 (stack depot handle since 5.17) | orig_size 4
    // (kmalloc + U, since 6.1) | redzone word 8 -> 156, ALIGN(.., 32) = 160. 5.11 had a 152-byte
    // track (addrs[16] inline) and no orig_size: 32+32+8+8+304+8 = 392 -> 416, 19 per order-1 slab.
    expect(attr('slab_size')).toBe('160\n');
    expect(attr('objs_per_slab')).toBe('25\n');
    expect(attr('order')).toBe('0\n');
    expect(attr('cpu_partial')).toBe('0\n');
    expect([attr('sanity_checks'), attr('red_zone'), attr('poison'), attr('store_user')]).toEqual(['1\n', '1\n', '1\n', '1\n']);
    // Objects sit at 32 + k * 160 in the slab, as 5.11's sat at 32 + k * 416 (offsets 32, 3776, 5856 in realdata).
    const s = cache(k, 'kmalloc-32');
    const ps = Array.from({ length: 3 }, () => k.kmalloc(32, GFP_KERNEL));
    for (const p of ps) {
      const pfn = k.slub.virtToSlab(p);
      expect(k.pages.slabCache[pfn]).toBe(sid(k, s));
      expect((p - pfn * 4096 - 32) % 160).toBe(0);
    }
    expect(416 % 32).toBe(0);
    expect(Math.floor(8192 / 416)).toBe(19);
  });
});

describe('slub_debug= syntax', () => {
  it("'FZPU': every cache, the boot caches and the kmalloc caches included", () => {
    const k = boot({ slubDebug: 'FZPU' });
    for (const name of ['kmem_cache', 'kmem_cache_node', 'kmalloc-8', 'kmalloc-8k', 'dma-kmalloc-64', 'kmalloc-cg-192']) {
      expect(flagsOf(k, name)).toBe(DEBUG_DEFAULT_FLAGS);
    }
    expect(k.kmemCacheCreate('driver_cache', 100)).toBeGreaterThanOrEqual(0);
    expect(flagsOf(k, 'driver_cache')).toBe(DEBUG_DEFAULT_FLAGS);
  });

  it("'FZ,kmalloc-64': F and Z for kmalloc-64 only", () => {
    const k = boot({ slubDebug: 'FZ,kmalloc-64' });
    expect(flagsOf(k, 'kmalloc-64')).toBe(SLAB_CONSISTENCY_CHECKS | SLAB_RED_ZONE);
    expect(flagsOf(k, 'kmalloc-32')).toBe(0);
    expect(flagsOf(k, 'kmalloc-cg-64')).toBe(0);
    expect(k.slub.cf[sid(k, cache(k, 'kmalloc-32')) * CF.FIELDS + CF.DEBUG]).toBe(0);
  });

  it("'-': no debugging", () => {
    const k = boot({ slubDebug: '-' });
    expect(flagsOf(k, 'kmalloc-64')).toBe(0);
    expect(k.slub.cf[sid(k, cache(k, 'kmalloc-64')) * CF.FIELDS + CF.DEBUG]).toBe(0);
  });

  it("'O' alone turns no flag on; with FZPU it drops Z, P and U where they would raise the order", () => {
    const k = boot({ slubDebug: 'O' });
    expect(flagsOf(k, 'kmalloc-64')).toBe(0);
    const o = boot({ slubDebug: 'FZPUO' });
    expect(flagsOf(o, 'kmalloc-4k')).toBe(SLAB_CONSISTENCY_CHECKS);
    expect(o.sys.read('/sys/kernel/slab/kmalloc-4k/slab_size')).toBe('4096\n');
    expect(flagsOf(o, 'kmalloc-32')).toBe(DEBUG_DEFAULT_FLAGS);
  });

  it("',kmalloc-*': full debugging for every name that starts with kmalloc-", () => {
    const k = boot({ slubDebug: ',kmalloc-*' });
    expect(flagsOf(k, 'kmalloc-64')).toBe(DEBUG_DEFAULT_FLAGS);
    expect(flagsOf(k, 'kmalloc-cg-64')).toBe(DEBUG_DEFAULT_FLAGS); // the glob matches the prefix
    expect(flagsOf(k, 'kmalloc-rcl-8k')).toBe(DEBUG_DEFAULT_FLAGS);
    expect(flagsOf(k, 'dma-kmalloc-64')).toBe(0);
    expect(flagsOf(k, 'kmem_cache')).toBe(0);
  });
});

describe('debug caches take the slow paths', () => {
  it('no cpu slab, no cpu partial list, no fast path: every object through the node lists', () => {
    const k = boot({ slubDebug: 'FZPU', slubStats: true });
    const s = cache(k, 'kmalloc-64');
    expect(k.slub.cf[sid(k, s) * CF.FIELDS + CF.CPU_PARTIAL]).toBe(0);
    const ps: number[] = [];
    for (let i = 0; i < 100; i++) ps.push(k.kmalloc(64, GFP_KERNEL));
    for (const p of ps.splice(0, 50)) k.kfree(p);
    for (let cpu = 0; cpu < 2; cpu++) {
      expect(k.slub.st.cpuSlab[cpu * MAX_CACHES + sid(k, s)]).toBe(-1);
      expect(k.slub.st.cpuFreelist[cpu * MAX_CACHES + sid(k, s)]).toBe(0);
      expect(k.slub.st.cpuPartial[cpu * MAX_CACHES + sid(k, s)]).toBe(-1);
    }
    const stat = (a: string) => Number(k.sys.read(`/sys/kernel/slab/kmalloc-64/${a}`).split(' ')[0]);
    expect(stat('alloc_fastpath')).toBe(0);
    expect(stat('free_fastpath')).toBe(0);
    expect(stat('alloc_slowpath')).toBe(100);
    expect(stat('free_slowpath')).toBe(50);
    expect(k.slabValidate(s)).toBe(0);
    for (const p of ps) k.kfree(p);
    expect(k.slabValidate(s)).toBe(0);
  });

  it('full slabs of a cache with SLAB_STORE_USER are on the full list; validate walks both lists', () => {
    const k = boot();
    const s = k.kmemCacheCreate('full_list', 500, { flags: SLAB_STORE_USER });
    const per = k.slub.cf[sid(k, s) * CF.FIELDS + CF.OBJECTS]!;
    const ps = Array.from({ length: per * 3 }, () => k.kmemCacheAlloc(s, GFP_KERNEL));
    const r = sid(k, s) * CF.FIELDS;
    expect(k.slub.cf[r + CF.NR_SLABS]).toBe(3);
    expect(k.slub.cf[r + CF.NR_PARTIAL]).toBe(0);
    let full = 0;
    for (let pfn = k.slub.cf[r + CF.FULL_HEAD]!; pfn >= 0; pfn = k.pages.next[pfn]!) full++;
    expect(full).toBe(3);
    k.kmemCacheFree(s, ps[0]!);
    expect(k.slub.cf[r + CF.NR_PARTIAL]).toBe(1);
    expect(k.slabValidate(s)).toBe(0);
    for (const p of ps.slice(1)) k.kmemCacheFree(s, p);
    expect(k.slabValidate(s)).toBe(0);
    expect(k.slub.cf[r + CF.FULL_HEAD]).toBe(-1);
    k.kmemCacheDestroy(s);
    expect(k.kmemCacheByName('full_list')).toBe(-1);
  });

  it('random kmalloc/kfree and bulk alloc/free under FZPU leave every cache valid', () => {
    const k = boot({ slubDebug: 'FZPU', cpus: 2 });
    let seed = 7;
    const rnd = (n: number) => {
      seed = (seed * 1103515245 + 12345) >>> 0;
      return seed % n;
    };
    const live: number[] = [];
    for (let i = 0; i < 3000; i++) {
      if (live.length > 0 && rnd(3) === 0) driverFree(k, live.splice(rnd(live.length), 1)[0]!);
      else {
        const p = k.onCpu(rnd(2), () => driverAlloc(k, 1 + rnd(600)));
        k.phys.u8.fill(0x42, p, p + 1); // the first byte is always requested
        live.push(p);
      }
    }
    const s = cache(k, 'kmalloc-96');
    const out = new Uint32Array(40);
    expect(k.kmemCacheAllocBulk(s, 40, out)).toBe(40);
    k.kmemCacheFreeBulk(s, out);
    for (const name of ['kmalloc-8', 'kmalloc-32', 'kmalloc-96', 'kmalloc-192', 'kmalloc-512', 'kmalloc-1k']) {
      expect(k.slabValidate(cache(k, name))).toBe(0);
    }
    for (const p of live) driverFree(k, p);
    expect(k.slub.debug!.errors).toBe(0);
    expect(k.isTainted).toBe(false);
  });
});

describe('poison, red zones and tracks in the slot', () => {
  it('a new slab: 0x5a padding, free objects 0x6b..0xa5 between 0xbb red zones, tracks zero', () => {
    const k = boot({ slubDebug: 'FZPU' });
    const u8 = k.phys.u8;
    const p = k.kmalloc(20, GFP_KERNEL);
    const slab = k.slub.virtToSlab(p) * 4096;
    const q = p + 160; // the next object, still free
    expect([...u8.subarray(q - 32, q)].every((b) => b === SLUB_RED_INACTIVE)).toBe(true);
    expect([...u8.subarray(q, q + 31)].every((b) => b === POISON_FREE)).toBe(true);
    expect(u8[q + 31]).toBe(POISON_END);
    expect([...u8.subarray(q + 32, q + 40)].every((b) => b === SLUB_RED_INACTIVE)).toBe(true);
    expect([...u8.subarray(q + 48, q + 112)].every((b) => b === 0)).toBe(true); // init_tracking()
    // orig_size is only written by an allocation: still the slab's 0x5a, like the padding after it.
    expect([...u8.subarray(q + 112, q + 128)].every((b) => b === POISON_INUSE)).toBe(true);
    // The 96 bytes after the 25th slot.
    expect([...u8.subarray(slab + 4000, slab + 4096)].every((b) => b === POISON_INUSE)).toBe(true);
  });

  it('kmalloc(20): active red zones 0xcc, the object poisoned up to 20 bytes, the kmalloc redzone after', () => {
    const k = boot({ slubDebug: 'FZPU' });
    const u8 = k.phys.u8;
    const p = driverAlloc(k, 20);
    expect([...u8.subarray(p - 32, p)].every((b) => b === SLUB_RED_ACTIVE)).toBe(true);
    expect([...u8.subarray(p, p + 19)].every((b) => b === POISON_FREE)).toBe(true);
    expect(u8[p + 19]).toBe(POISON_END);
    expect([...u8.subarray(p + 20, p + 40)].every((b) => b === SLUB_RED_ACTIVE)).toBe(true);
    expect(k.slub.u32[(p + 112) >>> 2]).toBe(20); // orig_size after the two tracks
    // ksize() hands the whole object to the caller: orig_size becomes 32, no kmalloc redzone.
    expect(k.ksize(p)).toBe(32);
    expect(k.slub.u32[(p + 112) >>> 2]).toBe(32);
    u8.fill(1, p, p + 32);
    expect(k.slabValidate(cache(k, 'kmalloc-32'))).toBe(0);
  });

  it('the alloc and free tracks: caller, cpu, pid and jiffies in the slot, the stack in the depot', () => {
    const k = boot({ slubDebug: 'U' });
    k.setTask({ pid: 4242, comm: 'driver' });
    k.tick(1_000_000_000);
    const p = k.onCpu(1, () => driverAlloc(k, 64));
    const s = cache(k, 'kmalloc-64');
    // U without Z keeps the free pointer mid-object (6.11+), so the tracks start at inuse = 64.
    expect(k.slub.cf[sid(k, s) * CF.FIELDS + CF.OFFSET]).toBe(32);
    const trackAt = (p + 64) >>> 2;
    const u32 = k.slub.u32;
    expect(u32[trackAt + 1]).toBe(0xffffffff); // the caller's (made-up) text address
    expect(u32[trackAt + 2]).toBeGreaterThan(0); // stack depot handle
    expect(u32[trackAt + 3]).toBe(1); // cpu
    expect(u32[trackAt + 4]).toBe(4242); // pid
    expect(u32[trackAt + 6]).toBeGreaterThanOrEqual(250); // jiffies (HZ=250) after a second
    expect(k.slub.debug!.trackFrames(sid(k, s), p, 'alloc')[0]!.fn).toBe('driverAlloc');
    driverFree(k, p);
    expect(k.slub.debug!.trackFrames(sid(k, s), p, 'free')[0]!.fn).toBe('driverFree');
    expect(u32[trackAt + 8 + 4]).toBe(4242);
  });
});

describe('reports, compared with realdata/slub-debug-*.txt', () => {
  it('has the realdata fixtures in the repository', () => {
    expect(existsSync(REALDATA), `${REALDATA} is missing`).toBe(true);
  });

  it('Right Redzone overwritten (slub-debug-1.txt): the same fault line, dumps and FIX, in 6.15+ order', () => {
    const k = boot({ slubDebug: 'FZPU' });
    const s = cache(k, 'kmalloc-32');
    const p = driverAlloc(k, 32);
    expect(p - k.slub.virtToSlab(p) * 4096).toBe(32); // the first object, as in the real report
    k.phys.u8[p + 32] = 0x61; // 'a', one byte past the object
    const from = k.dmesg().length;
    expect(k.slabValidate(s)).toBe(2);
    const ours = since(k, from);
    const real = realdata('slub-debug-1.txt');
    const realBug = real.slice(real.indexOf(real.find((l) => l.startsWith('BUG kmalloc-32'))!) - 1);
    const realEnd = realBug.findIndex((l) => l.startsWith('FIX kmalloc-32'));

    // The fault line: 6.15+ names the region in brackets; the rest is the same text.
    const fault = ours[0]!;
    expect(fault).toMatch(/^\[Right Redzone overwritten\] 0x[0-9a-f]{16}-0x[0-9a-f]{16} @offset=64\. First byte 0x61 instead of 0xcc$/);
    const realFault = realBug.find((l) => l.startsWith('INFO: 0x'))!;
    expect(fault.replace(/0x[0-9a-f]{16}/g, 'P')).toBe(`[Right Redzone overwritten] ${realFault.slice(6).replace(/0x[0-9a-f]{16}/g, 'P')}`);

    // The header: 77 '=' and 77 '-' around "BUG <cache> (<taint>): <reason>".
    expect(ours.slice(1, 5)).toEqual(['='.repeat(77), 'BUG kmalloc-32 (Not tainted): Object corrupt', '-'.repeat(77), '']);
    expect(realBug[0]).toBe(ours[1]);
    expect(realBug[2]).toBe(ours[3]);

    // Then what print_trailer() prints, in the same order as in 5.11.
    const sh = shape(ours);
    const realSh = shape(realBug.slice(0, realEnd + 1));
    const trailer = (x: string[]) => x.filter((t) => ['ALLOCATED', 'SLAB', 'OBJECT'].includes(t) || t.startsWith('DUMP'));
    const dumps = (x: string[]) =>
      x
        .filter((t) => t.startsWith('DUMP'))
        .join(',')
        .replace(/(,DUMP Padding)+/, ',DUMP Padding');
    expect(dumps(sh)).toBe(dumps(realSh));
    expect(trailer(sh).filter((t) => !t.startsWith('DUMP'))).toEqual(['ALLOCATED', 'SLAB', 'OBJECT']);
    expect(ours.find((l) => l.startsWith('Allocated in'))).toMatch(/^Allocated in driverAlloc \(test\/slub\/debug\.test\.ts:\d+\) age=0 cpu=0 pid=1$/);
    const stack = ours.slice(ours.findIndex((l) => l.startsWith('Allocated in')) + 1);
    expect(stack[0]).toMatch(/^ driverAlloc \(test\/slub\/debug\.test\.ts:\d+\)$/); // stack_depot_print(): one space, %pS
    expect(ours.find((l) => l.startsWith('Slab 0x'))).toMatch(
      /^Slab 0xffffea[0-9a-f]{10} objects=25 used=1 fp=0xffff888[0-9a-f]{9} flags=0x[0-9a-f]+\(workingset\|node=0\|zone=1\|lastcpupid=0x1fffff\)$/,
    );
    expect(ours.find((l) => l.startsWith('Object 0x'))).toMatch(/^Object 0xffff888[0-9a-f]{9} @offset=32 fp=0x[0-9a-f]{16}$/);

    // The hex dumps: byte for byte those of the real report, prefixes 9 wide ("Redzone  ").
    const ourDumps = ours.filter((l) => /^(Redzone|Object|Padding) +[0-9a-f]{16}: /.test(l));
    const realDumps = realBug.slice(0, realEnd).filter((l) => /^(Redzone|Object|Padding) [0-9a-f]{16}: /.test(l));
    for (let i = 0; i < 5; i++) {
      expect(ourDumps[i]!.slice(0, 9)).toBe(`${realDumps[i]!.split(' ')[0]!.padEnd(8)} `);
      expect(dumpData(ourDumps[i]!)).toBe(dumpData(realDumps[i]!));
    }
    expect(ourDumps[4]).toMatch(/^Redzone {2}ffff888[0-9a-f]{9}: 61 cc cc cc cc cc cc cc {26}a\.{7}$/);
    // 6.18's slot has 12 bytes of padding after orig_size (5.11: 32 after the tracks).
    expect(ourDumps.slice(5).map(dumpData)).toEqual([`${'5a '.repeat(12).trim()}${' '.repeat(14)}${'Z'.repeat(12)}`]);

    // 6.15+: the taint, then WARN_ON(1) where 5.11 had dump_stack(), then the FIX.
    const warnAt = ours.indexOf('------------[ cut here ]------------');
    expect(ours[warnAt - 1]).toBe('Disabling lock debugging due to kernel taint');
    expect(ours[warnAt + 1]).toBe('WARNING: CPU: 0 PID: 1 at mm/slub.c object_err');
    expect(ours[warnAt + 3]).toBe(`CPU: 0 UID: 0 PID: 1 Comm: kmem Tainted: G    B${' '.repeat(14)} 6.18.0-kmem #1`);
    expect(ours[warnAt + 4]).toBe('Tainted: [B]=BAD_PAGE');
    const fix = ours[ours.length - 1]!;
    expect(fix).toMatch(/^FIX kmalloc-32: Restoring Right Redzone 0x[0-9a-f]{16}-0x[0-9a-f]{16}=0xcc$/);
    expect(fix.replace(/Right Redzone /, '').replace(/0x[0-9a-f]{16}/g, 'P')).toBe(realBug[realEnd]!.replace(/0x[0-9a-f]{16}/g, 'P'));
    expect(k.phys.u8[p + 32]).toBe(SLUB_RED_ACTIVE); // restored
    expect(k.slabValidate(s)).toBe(0);
  });

  it('Left Redzone overwritten (slub-debug-2.txt): @offset=30 two bytes before the first object', () => {
    const k = boot({ slubDebug: 'FZPU' });
    const p = driverAlloc(k, 32);
    k.phys.u8[p - 2] = 0x61;
    const from = k.dmesg().length;
    expect(k.slabValidate(cache(k, 'kmalloc-32'))).toBe(2);
    const ours = since(k, from);
    const real = realdata('slub-debug-2.txt');
    expect(ours[0]!.replace(/^\[Left Redzone overwritten\] /, 'INFO: ').replace(/0x[0-9a-f]{16}/g, 'P')).toBe(
      real.find((l) => l.startsWith('INFO: 0x'))!.replace(/0x[0-9a-f]{16}/g, 'P'),
    );
    const ourDumps = ours.filter((l) => /^Redzone /.test(l)).map(dumpData);
    const realDumps = real.filter((l) => /^Redzone [0-9a-f]{16}: /.test(l)).map(dumpData);
    expect(ourDumps).toEqual(realDumps);
    expect(ours[ours.length - 1]).toMatch(/^FIX kmalloc-32: Restoring Left Redzone 0x[0-9a-f]{16}-0x[0-9a-f]{16}=0xcc$/);
  });

  it('Poison overwritten (slub-debug-3.txt): caught when the object is handed out again, then "Marking all objects used"', () => {
    const k = boot({ slubDebug: 'FZPU' });
    const p = driverAlloc(k, 32);
    driverFree(k, p);
    k.phys.u8[p + 30] = 0x61; // a write after free
    const from = k.dmesg().length;
    const q = driverAlloc(k, 32); // alloc_debug_processing() checks the freelist head: p
    expect(q).not.toBe(p);
    expect(k.slub.debug!.errors).toBe(3); // the region, its FIX, and "Marking all objects used"
    const ours = since(k, from);
    const real = realdata('slub-debug-3.txt');
    expect(
      ours[0]!
        .replace(/^\[Poison overwritten\] /, 'INFO: ')
        .replace(/0x[0-9a-f]{16}/g, 'P')
        .replace(/@offset=\d+/, 'O'),
    ).toBe(
      real
        .find((l) => l.startsWith('INFO: 0x'))!
        .replace(/0x[0-9a-f]{16}/g, 'P')
        .replace(/@offset=\d+/, 'O'),
    );
    expect(ours.find((l) => l.startsWith('Freed in'))).toMatch(/^Freed in driverFree \(test\/slub\/debug\.test\.ts:\d+\) age=0 cpu=0 pid=1$/);
    const ourDumps = ours.filter((l) => /^(Redzone|Object) +[0-9a-f]{16}: /.test(l)).map(dumpData);
    const realDumps = real.filter((l) => /^(Redzone|Object) [0-9a-f]{16}: /.test(l)).map(dumpData);
    expect(ourDumps).toEqual(realDumps); // bb red zones, 6b..61 a5
    const fixes = ours.filter((l) => l.startsWith('FIX '));
    expect(fixes.map((l) => l.replace(/0x[0-9a-f]{16}/g, 'P'))).toEqual([
      'FIX kmalloc-32: Restoring Poison P-P=0x6b',
      'FIX kmalloc-32: Marking all objects used',
    ]);
    expect(real.filter((l) => l.startsWith('FIX ')).map((l) => l.replace(/0x[0-9a-f]{16}/g, 'P'))).toEqual([
      'FIX kmalloc-32: Restoring P-P=0x6b',
      'FIX kmalloc-32: Marking all objects used',
    ]);
    // The slab is marked full and taken off the partial list without going on the full
    // list: validate no longer sees it, but nr_slabs still counts it, as in the kernel.
    const from2 = k.dmesg().length;
    expect(k.slabValidate(cache(k, 'kmalloc-32'))).toBe(1);
    expect(since(k, from2)).toEqual(['SLUB: kmalloc-32 1 slabs counted but counter=2']);
  });

  it('Object already free (slub-debug-4.txt): the double free is refused with "Object at 0x... not freed"', () => {
    const k = boot({ slubDebug: 'FZPU' });
    const p = driverAlloc(k, 32);
    driverAlloc(k, 32);
    driverFree(k, p);
    const from = k.dmesg().length;
    driverFree(k, p);
    expect(k.slub.debug!.errors).toBe(2);
    const ours = since(k, from);
    const real = realdata('slub-debug-4.txt');
    expect(ours.slice(0, 4)).toEqual(['='.repeat(77), 'BUG kmalloc-32 (Not tainted): Object already free', '-'.repeat(77), '']);
    expect(real[1]).toMatch(/^BUG kmalloc-32 \(Tainted: .+\): Object already free$/);
    const keep = ['ALLOCATED', 'FREED', 'SLAB', 'OBJECT', 'BLANK', 'DUMP Redzone', 'DUMP Object', 'DUMP Padding', 'FIX'];
    const squash = (x: string[]) => x.filter((t) => keep.includes(t)).filter((t, i, a) => i === 0 || t !== a[i - 1] || !t.startsWith('DUMP'));
    const realSh = squash(shape(real.slice(0, real.findIndex((l) => l.startsWith('FIX')) + 1)));
    const ourSh = squash(shape(ours));
    expect(ourSh).toEqual(realSh);
    expect(ours[ours.length - 1]).toBe(`FIX kmalloc-32: Object at 0x${ours.find((l) => l.startsWith('Object 0x'))!.slice(9, 25)} not freed`);
    // Still allocated once, freed once: the slab's count is right.
    expect(k.slabValidate(cache(k, 'kmalloc-32'))).toBe(0);
  });

  it('TRACE and Objects remaining (slub-debug-5.txt): the trace lines, then the shutdown report with each object left', () => {
    const k = boot();
    const s = k.kmemCacheCreate('liulangrenaaa_cache', 3000, { flags: DEBUG_DEFAULT_FLAGS | SLAB_TRACE });
    const from = k.dmesg().length;
    const a = k.kmemCacheAlloc(s, GFP_KERNEL);
    const b = k.kmemCacheAlloc(s, GFP_KERNEL);
    const c = k.kmemCacheAlloc(s, GFP_KERNEL);
    k.kmemCacheFree(s, b);
    let ours = since(k, from);
    const real = realdata('slub-debug-5.txt');
    expect(shape([real[0]!])).toEqual(['TRACE']);
    const traces = ours.filter((l) => l.startsWith('TRACE '));
    expect(traces.map((l) => shape([l])[0])).toEqual(['TRACE', 'TRACE', 'TRACE', 'TRACE']);
    expect(traces[0]).toMatch(/^TRACE liulangrenaaa_cache alloc 0x[0-9a-f]{16} inuse=1 fp=0x[0-9a-f]{16}$/);
    expect(traces[3]).toMatch(/^TRACE liulangrenaaa_cache free 0x[0-9a-f]{16} inuse=3 fp=0x[0-9a-f]{16}$/);
    expect(ours[ours.indexOf(traces[0]!) + 1]).toMatch(/^CPU: 0 UID: 0 PID: 1 Comm: kmem Not tainted /);
    expect(ours.some((l) => /^Object ffff888[0-9a-f]{9}: 6b 6b/.test(l))).toBe(true); // the freed object, "Object " prefix

    const from2 = k.dmesg().length;
    k.kmemCacheDestroy(s);
    expect(k.slub.debug!.errors).toBe(3); // the report and the two objects left
    ours = since(k, from2);
    expect(ours[1]).toBe('BUG liulangrenaaa_cache (Not tainted): Objects remaining on __kmem_cache_shutdown()');
    expect(real.find((l) => l.startsWith('BUG '))).toMatch(/Objects remaining in liulangrenaaa_cache on __kmem_cache_shutdown\(\)$/); // before 6.15
    const objs = ours.filter((l) => /^Object 0x[0-9a-f]{16} @offset=\d+$/.test(l));
    expect(objs.length).toBe(2);
    const base = k.slub.virtToSlab(a) * 4096;
    expect(objs.map((l) => Number(l.split('=')[1]))).toEqual([a - base, c - base]);
    expect(real.filter((l) => /^INFO: Object 0x[0-9a-f]{16} @offset=\d+$/.test(l)).length).toBe(2);
    // Each object is followed by its alloc track, as in the real report.
    for (const o of objs) expect(ours[ours.indexOf(o) + 1]).toMatch(/^Allocated in .+ age=\d+ cpu=0 pid=1$/);
    expect(ours.some((l) => /^Slab 0x[0-9a-f]{16} objects=\d+ used=2 /.test(l))).toBe(true);
    expect(ours.some((l) => l.startsWith('kmem_cache_destroy liulangrenaaa_cache: Slab cache still has objects when called from'))).toBe(true);
    expect(real.some((l) => l === 'kmem_cache_destroy liulangrenaaa_cache: Slab cache still has objects')).toBe(true);
  });
});

describe('consistency checks', () => {
  it('a pointer into an object: "Invalid object pointer", not freed', () => {
    const k = boot({ slubDebug: 'FZPU' });
    const p = driverAlloc(k, 32);
    const from = k.dmesg().length;
    k.kfree(p + 8);
    expect(k.slub.debug!.errors).toBe(2); // slab_err and the FIX
    const ours = since(k, from);
    expect(ours[1]).toBe(`BUG kmalloc-32 (Not tainted): Invalid object pointer 0x${ours[1]!.slice(-16)}`);
    expect(ours[4]).toMatch(/^Slab 0x/);
    expect(ours[ours.length - 1]).toMatch(/^FIX kmalloc-32: Object at 0x[0-9a-f]{16} not freed$/);
    driverFree(k, p);
    expect(k.slabValidate(cache(k, 'kmalloc-32'))).toBe(0);
  });

  it('a free object whose free pointer is garbage: "Freechain corrupt", and the free objects cut off look allocated', () => {
    const k = boot({ slubDebug: 'FZPU' });
    const s = cache(k, 'kmalloc-32');
    const p = driverAlloc(k, 32);
    const q = driverAlloc(k, 32);
    driverFree(k, p);
    driverFree(k, q);
    // q heads the freelist, p follows; damage p's pointer (it lives outside the object: offset 40).
    const fp = p + k.slub.cf[sid(k, s) * CF.FIELDS + CF.OFFSET]! + 2;
    k.phys.u8[fp] = k.phys.u8[fp]! ^ 0x10;
    const from = k.dmesg().length;
    k.slabValidate(s);
    const ours = since(k, from);
    // on_freelist() zaps p's pointer; the 23 objects behind it now count as allocated, so
    // check_object() expects 0xcc red zones on the first of them and "restores" its 0xbb
    // ones: the "another error because the object count is now wrong" mm/slub.c warns of.
    expect(ours.filter((l) => l.startsWith('BUG ')).map((l) => l.replace(/\(.*\)/, '(T)'))).toEqual([
      'BUG kmalloc-32 (T): Freechain corrupt',
      'BUG kmalloc-32 (T): Wrong object count. Counter is 0 but counted were 23',
      'BUG kmalloc-32 (T): Object corrupt',
    ]);
    expect(ours.filter((l) => l.startsWith('FIX ')).map((l) => l.replace(/0x[0-9a-f]{16}/g, 'P'))).toEqual([
      'FIX kmalloc-32: Object count adjusted',
      'FIX kmalloc-32: Restoring Left Redzone P-P=0xcc',
      'FIX kmalloc-32: Restoring Right Redzone P-P=0xcc',
    ]);
    expect(k.slub.debug!.errors).toBe(7);
    expect(k.slub.getFreepointer(sid(k, s), p)).toBe(0);
  });

  it('the free pointer of a live object, outside it (POISON): "Freepointer corrupt", zapped to NULL', () => {
    const k = boot();
    const s = k.kmemCacheCreate('fp_outside', 64, { flags: SLAB_POISON });
    expect(k.slub.cf[sid(k, s) * CF.FIELDS + CF.OFFSET]).toBe(64);
    const p = k.kmemCacheAlloc(s, GFP_KERNEL);
    k.phys.u8[p + 64] = k.phys.u8[p + 64]! ^ 0x55; // one byte past the object: its free pointer
    const from = k.dmesg().length;
    expect(k.slabValidate(s)).toBe(1); // object_err() alone
    const ours = since(k, from);
    expect(ours[1]).toBe('BUG fp_outside (Not tainted): Freepointer corrupt');
    expect(ours.some((l) => l.startsWith('Bytes b4 '))).toBe(false); // the first object: nothing before it
    expect(k.slub.getFreepointer(sid(k, s), p)).toBe(0);
    expect(k.slabValidate(s)).toBe(0);
    k.kmemCacheFree(s, p);
  });

  it('a freelist cycle: "Freelist cycle detected", the freelist cleared, the slab still usable', () => {
    const k = boot();
    const s = k.kmemCacheCreate('cycle', 64, { flags: SLAB_POISON });
    const [a, b, c] = [0, 1, 2].map(() => k.kmemCacheAlloc(s, GFP_KERNEL)) as [number, number, number];
    k.kmemCacheFree(s, a);
    k.kmemCacheFree(s, b); // b -> a -> the never used objects
    k.slub.setFreepointer(sid(k, s), a, b); // b -> a -> b -> ...
    const from = k.dmesg().length;
    expect(k.slabValidate(s)).toBe(2);
    expect(since(k, from).filter((l) => /^(BUG|FIX) /.test(l))).toEqual(['BUG cycle (Not tainted): Freelist cycle detected', 'FIX cycle: Freelist cleared']);
    const pfn = k.slub.virtToSlab(c);
    expect(k.slub.slabInuse(pfn)).toBe(k.pages.slabObjects[pfn]);
    expect(k.slub.onNodePartial(pfn)).toBe(true);
    k.kmemCacheFree(s, c); // onto the cleared freelist, the slab stays on the partial list
    expect(k.slub.slabFreelist(sid(k, s), pfn)).toBe(c);
    expect(k.slabValidate(s)).toBe(0);
    expect(k.kmemCacheAlloc(s, GFP_KERNEL)).toBe(c);
    const d = k.kmemCacheAlloc(s, GFP_KERNEL); // nothing left there: the slab counts as full
    expect(k.slub.virtToSlab(d)).not.toBe(pfn);
    expect(k.slub.onNodePartial(pfn)).toBe(false);
    expect(k.slabValidate(s)).toBe(0);
  });

  it('a second free of the only object of a slab: "Slab has 0 allocated objects but 1 are to be freed"', () => {
    const k = boot({ slubDebug: 'FZPU' });
    const p = driverAlloc(k, 32);
    driverFree(k, p);
    const from = k.dmesg().length;
    driverFree(k, p);
    const ours = since(k, from);
    // The format's own "\n" leaves an empty line under the BUG line.
    expect(ours.slice(1, 6)).toEqual(['BUG kmalloc-32 (Not tainted): Slab has 0 allocated objects but 1 are to be freed', '', '-'.repeat(77), '', ours[5]!]);
    expect(ours[5]).toMatch(/^Slab 0x[0-9a-f]{16} objects=25 used=0 /);
    expect(ours[ours.length - 1]).toMatch(/^FIX kmalloc-32: Object at 0x[0-9a-f]{16} not freed$/);
    expect(k.slub.debug!.errors).toBe(2);
  });

  it('object padding and slab padding: both restored to 0x5a', () => {
    const k = boot({ slubDebug: 'FZPU' });
    const s = cache(k, 'kmalloc-32');
    const p = driverAlloc(k, 32);
    const slab = k.slub.virtToSlab(p) * 4096;
    k.phys.u8[p + 120] = 0; // in the 12 bytes of padding after orig_size
    k.phys.u8[slab + 4095] = 0; // the slab's last byte, after the 25th slot
    const from = k.dmesg().length;
    expect(k.slabValidate(s)).toBe(3); // padding: only its FIX counts (slab_bug and __slab_err do not); object padding: 2
    const ours = since(k, from);
    expect(ours[1]).toMatch(/^BUG kmalloc-32 \(Not tainted\): Padding overwritten\. 0x[0-9a-f]{16}-0x[0-9a-f]{16} @offset=4095$/);
    expect(ours.filter((l) => l.startsWith('Padding ffff')).length).toBe(6); // 96 bytes, "Padding " 8 wide
    expect(ours.some((l) => /^\[Object padding overwritten\] 0x[0-9a-f]{16}-0x[0-9a-f]{16} @offset=152\. First byte 0x0 instead of 0x5a$/.test(l))).toBe(true);
    expect(ours.filter((l) => l.startsWith('FIX ')).map((l) => l.replace(/0x[0-9a-f]{16}/g, 'P'))).toEqual([
      'FIX kmalloc-32: Restoring slab padding P-P=0x5a',
      'FIX kmalloc-32: Restoring Object padding P-P=0x5a',
    ]);
    expect(k.slabValidate(s)).toBe(0);
  });

  it('freeing to the wrong cache: the WARN, then the tracks of the object (cache_from_obj)', () => {
    const k = boot();
    const a = k.kmemCacheCreate('cache_a', 64, { flags: SLAB_STORE_USER });
    const b = k.kmemCacheCreate('cache_b', 64, { flags: SLAB_STORE_USER | SLAB_POISON });
    const p = k.kmemCacheAlloc(a, GFP_KERNEL);
    const from = k.dmesg().length;
    k.kmemCacheFree(b, p);
    const ours = since(k, from);
    expect(ours).toContain('cache_from_obj: Wrong slab cache. cache_b but object is from cache_a');
    expect(ours.some((l) => l.startsWith('Allocated in '))).toBe(true);
    expect(k.slabValidate(a)).toBe(0); // freed to cache_a, where it belongs
    k.kmemCacheDestroy(a);
    expect(k.kmemCacheByName('cache_a')).toBe(-1);
  });

  it('onBug: throw ends the operation with a KernelBug holding the whole report, after the FIX', () => {
    const k = boot({ slubDebug: 'FZPU', onBug: 'throw' });
    const s = cache(k, 'kmalloc-64');
    const p = driverAlloc(k, 64);
    const other = driverAlloc(k, 64);
    k.phys.u8[p + 64] = 1;
    let bug: unknown;
    try {
      k.slabValidate(s);
    } catch (e) {
      bug = e;
    }
    expect(bug).toBeInstanceOf(KernelBug);
    const kb = bug as KernelBug;
    expect(kb.kind).toBe('slub');
    expect(kb.message).toMatch(/^\[Right Redzone overwritten\] 0x[0-9a-f]{16}-0x[0-9a-f]{16} @offset=\d+\. First byte 0x1 instead of 0xcc$/);
    expect(kb.report).toContain('BUG kmalloc-64 (Not tainted): Object corrupt');
    expect(kb.report.split('\n').pop()).toMatch(/^FIX kmalloc-64: Restoring Right Redzone /);
    expect(k.slabValidate(s)).toBe(0);
    // A double free throws too, and the object stays freed once.
    driverFree(k, p);
    expect(() => driverFree(k, p)).toThrow(/Object already free/);
    expect(k.slabValidate(s)).toBe(0);
    driverFree(k, other);
  });
});

describe('print_tainted()', () => {
  it('one character per taint flag, 20 in 6.18, and the verbose line dump_stack() adds', () => {
    expect(printTainted(0)).toBe('Not tainted');
    expect(printTainted(1 << TAINT_BAD_PAGE)).toBe(`Tainted: G    B${' '.repeat(14)}`);
    expect(printTainted((1 << TAINT_BAD_PAGE) | (1 << TAINT_WARN))).toBe(`Tainted: G    B   W${' '.repeat(10)}`);
    // 5.11 (realdata): 18 flags, G and O set.
    expect('G           O     '.length).toBe(18);
    expect(printTaintedVerbose((1 << TAINT_BAD_PAGE) | (1 << TAINT_WARN))).toBe('Tainted: [B]=BAD_PAGE, [W]=WARN');
  });

  it('the BUG line shows the taint of earlier reports', () => {
    const k = boot({ slubDebug: 'FZPU' });
    const p = driverAlloc(k, 32);
    k.phys.u8[p + 33] = 7;
    k.slabValidate(cache(k, 'kmalloc-32'));
    k.phys.u8[p + 34] = 7;
    const from = k.dmesg().length;
    k.slabValidate(cache(k, 'kmalloc-32'));
    expect(since(k, from)[2]).toBe(`BUG kmalloc-32 (Tainted: G    B   W${' '.repeat(10)}): Object corrupt`);
  });
});

describe('kzalloc and krealloc under FZPU', () => {
  it('kzalloc(20) zeroes the request and keeps the kmalloc redzone', () => {
    const k = boot({ slubDebug: 'FZPU' });
    const p = k.kzalloc(20, GFP_KERNEL);
    expect([...k.phys.u8.subarray(p, p + 20)].every((b) => b === 0)).toBe(true);
    expect([...k.phys.u8.subarray(p + 20, p + 32)].every((b) => b === SLUB_RED_ACTIVE)).toBe(true);
    const q = k.krealloc(p, 30, GFP_KERNEL | __GFP_ZERO);
    expect(q).toBe(p);
    expect([...k.phys.u8.subarray(p, p + 30)].every((b) => b === 0)).toBe(true);
    expect(k.slub.u32[(p + 112) >>> 2]).toBe(30);
    expect(k.slabValidate(cache(k, 'kmalloc-32'))).toBe(0);
    k.phys.u8.fill(0x33, q, q + 30);
    const r = k.krealloc(q, 100, GFP_KERNEL);
    expect(k.pages.slabCache[k.slub.virtToSlab(r)]).toBe(sid(k, cache(k, 'kmalloc-128')));
    expect([...k.phys.u8.subarray(r, r + 30)].every((b) => b === 0x33)).toBe(true); // orig_size bytes copied
    expect(k.slabValidate(cache(k, 'kmalloc-32'))).toBe(0);
    expect(k.slabValidate(cache(k, 'kmalloc-128'))).toBe(0);
    expect(k.slub.debug!.errors).toBe(0);
  });
});

describe('validate', () => {
  it('refuses a cache without slub_debug flags, as validate_store() returns -EINVAL', () => {
    const k = boot({ memory: '32M', cpus: 1 });
    expect(() => k.slabValidate(k.kmemCacheByName('kmalloc-64'))).toThrow(RangeError);
    expect(() => k.slabValidate(k.kmemCacheByName('kmalloc-64'))).toThrow(/cache: kmalloc-64 has no slub_debug flags/);
    const d = boot({ memory: '32M', cpus: 1, slubDebug: 'F,kmalloc-64' });
    expect(d.slabValidate(d.kmemCacheByName('kmalloc-64'))).toBe(0);
  });
});
