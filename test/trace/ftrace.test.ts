import { describe, expect, it } from 'vitest';
import {
  isNullPtr,
  isPageEvent,
  isSlabAlloc,
  isSlabFree,
  type KmemEvent,
  type PageEvent,
  parsePtr,
  type SlabAllocEvent,
  type SlabFreeEvent,
  TraceParseError,
} from '../../src/trace/events.js';
import { parseFtraceLine } from '../../src/trace/ftrace.js';

// Every line below was written for these tests, in the layout each tool
// prints (see the format notes in src/trace/events.ts and ftrace.ts).

function parse(line: string): KmemEvent {
  const e = parseFtraceLine(line, 7);
  if (e === null) throw new Error(`no event in ${JSON.stringify(line)}`);
  return e;
}

function alloc(line: string): SlabAllocEvent {
  const e = parse(line);
  if (!isSlabAlloc(e)) throw new Error(`not a slab alloc: ${e.kind}`);
  return e;
}

function free(line: string): SlabFreeEvent {
  const e = parse(line);
  if (!isSlabFree(e)) throw new Error(`not a slab free: ${e.kind}`);
  return e;
}

function page(line: string): PageEvent {
  const e = parse(line);
  if (!isPageEvent(e)) throw new Error(`not a page event: ${e.kind}`);
  return e;
}

/** The error parseFtraceLine throws for line. */
function errorOf(line: string): TraceParseError {
  try {
    parseFtraceLine(line);
  } catch (err) {
    if (err instanceof TraceParseError) return err;
    throw err;
  }
  throw new Error(`no error for ${JSON.stringify(line)}`);
}

describe('ftrace trace file, 6.x (5 flag columns, node= and accounted=)', () => {
  it('reads kmalloc with every field', () => {
    const line =
      '            bash-4021    [001] .....   123.456789: kmalloc: call_site=load_elf_binary+0x2d1/0x1700 ptr=ffff9a3c41f2e400 bytes_req=112 bytes_alloc=128 gfp_flags=GFP_KERNEL node=-1 accounted=false';
    expect(parse(line)).toEqual({
      kind: 'kmalloc',
      lineNo: 7,
      comm: 'bash',
      pid: 4021,
      cpu: 1,
      timestamp: 123.456789,
      callSite: 'load_elf_binary+0x2d1/0x1700',
      ptr: 'ffff9a3c41f2e400',
      bytesReq: 112,
      bytesAlloc: 128,
      gfp: 'GFP_KERNEL',
      gfpValue: null,
      node: -1,
      accounted: false,
      name: null,
    });
  });

  it('reads kmem_cache_alloc with accounted=true and kmem_cache_free with name=', () => {
    const a = alloc(
      '     kworker/1:3-88      [001] d..1.    77.000001: kmem_cache_alloc: call_site=copy_process+0x1d5/0x1f40 ptr=ffff9a3c40a1b900 bytes_req=136 bytes_alloc=136 gfp_flags=GFP_KERNEL_ACCOUNT|__GFP_ZERO node=-1 accounted=true',
    );
    expect([a.kind, a.comm, a.pid, a.cpu, a.accounted, a.gfp, a.name]).toEqual([
      'kmem_cache_alloc',
      'kworker/1:3',
      88,
      1,
      true,
      'GFP_KERNEL_ACCOUNT|__GFP_ZERO',
      null,
    ]);
    const f = free(
      '     kworker/1:3-88      [001] ..s1.    77.000950: kmem_cache_free: call_site=rcu_core+0x2f4/0x8d0 ptr=ffff9a3c40a1b900 name=vm_area_struct',
    );
    expect(f).toEqual({
      kind: 'kmem_cache_free',
      lineNo: 7,
      comm: 'kworker/1:3',
      pid: 88,
      cpu: 1,
      timestamp: 77.00095,
      callSite: 'rcu_core+0x2f4/0x8d0',
      ptr: 'ffff9a3c40a1b900',
      name: 'vm_area_struct',
    });
  });

  it('reads kmem_cache_alloc with name= after ptr= (6.18)', () => {
    const a = alloc(
      '           mount-901     [000] .....   310.5: kmem_cache_alloc: call_site=alloc_inode+0x5e/0xc0 ptr=ffff8881056c2d00 name=ext4_inode_cache bytes_req=1176 bytes_alloc=1184 gfp_flags=GFP_KERNEL node=-1 accounted=true',
    );
    expect([a.name, a.bytesReq, a.bytesAlloc, a.node]).toEqual(['ext4_inode_cache', 1176, 1184, -1]);
  });

  it('reads kfree of NULL and gfp_flags=none', () => {
    const f = free('              sh-1       [000] .....     0.998: kfree: call_site=free_task+0x1b/0x70 ptr=0000000000000000');
    expect(isNullPtr(f.ptr)).toBe(true);
    const a = alloc(
      '           <idle>-0       [001] ..s1.    10.1: kmalloc: call_site=x+0x1/0x2 ptr=ffff888000002000 bytes_req=8 bytes_alloc=8 gfp_flags=none node=-1 accounted=false',
    );
    expect([a.comm, a.pid, a.gfp, a.gfpValue]).toEqual(['<idle>', 0, 'none', null]);
  });

  it('reads mm_page_alloc / mm_page_free / mm_page_free_batched with hex pfn', () => {
    expect(
      page(
        '         busybox-301     [001] .....    15.2: mm_page_alloc: page=ffffea00001f2c40 pfn=0x7cb1 order=0 migratetype=1 gfp_flags=GFP_HIGHUSER_MOVABLE|__GFP_COMP',
      ),
    ).toEqual({
      kind: 'mm_page_alloc',
      lineNo: 7,
      comm: 'busybox',
      pid: 301,
      cpu: 1,
      timestamp: 15.2,
      page: 'ffffea00001f2c40',
      pfn: 0x7cb1,
      order: 0,
      migratetype: 1,
      gfp: 'GFP_HIGHUSER_MOVABLE|__GFP_COMP',
      gfpValue: null,
      percpuRefill: null,
    });
    const f = page('         busybox-301     [001] .....    15.3: mm_page_free: page=ffffea00001f2c40 pfn=0x7cb1 order=2');
    expect([f.kind, f.pfn, f.order, f.migratetype, f.gfp]).toEqual(['mm_page_free', 0x7cb1, 2, null, null]);
    const b = page('         busybox-301     [001] .....    15.4: mm_page_free_batched: page=ffffea00001f2c80 pfn=0x7cb2 order=0');
    expect([b.kind, b.pfn, b.order]).toEqual(['mm_page_free_batched', 0x7cb2, 0]);
  });

  it('reads mm_page_alloc_zone_locked and mm_page_pcpu_drain', () => {
    const z = page(
      '          <idle>-0       [000] d..3.    2.5: mm_page_alloc_zone_locked: page=ffffea0000043000 pfn=0x10c0 order=0 migratetype=0 percpu_refill=1',
    );
    expect([z.kind, z.pfn, z.order, z.migratetype, z.percpuRefill]).toEqual(['mm_page_alloc_zone_locked', 0x10c0, 0, 0, 1]);
    const d = page('     kworker/0:0-5       [000] d..2.    3.5: mm_page_pcpu_drain: page=ffffea0000043040 pfn=0x10c1 order=0 migratetype=1');
    expect([d.kind, d.pfn, d.migratetype, d.percpuRefill]).toEqual(['mm_page_pcpu_drain', 0x10c1, 1, null]);
  });

  it('reads a bare counter timestamp (trace_clock=counter)', () => {
    const f = free('              sh-1       [000] .....  1234567: kfree: call_site=a+0x1/0x2 ptr=ffff888000003000');
    expect(f.timestamp).toBe(1234567);
  });
});

describe('ftrace trace file, 4.x / 5.x', () => {
  it('reads hashed pointers, 4 flag columns and no node=/accounted=', () => {
    const a = alloc(
      '   systemd-udevd-311   [000] ...1    42.001337: kmem_cache_alloc: call_site=__alloc_file+0x21/0xf0 ptr=00000000a1b2c3d4 bytes_req=232 bytes_alloc=256 gfp_flags=GFP_KERNEL|__GFP_ZERO',
    );
    expect([a.comm, a.pid, a.cpu, a.ptr, a.node, a.accounted]).toEqual(['systemd-udevd', 311, 0, '00000000a1b2c3d4', null, null]);
    expect(parsePtr(a.ptr)).toBe(0xa1b2c3d4n);
  });

  it('reads kmalloc_node and kmem_cache_alloc_node', () => {
    const a = alloc(
      '     ksoftirqd/2-20    [002] ..s.  9100.5: kmalloc_node: call_site=__alloc_skb+0x4e/0x1b0 ptr=00000000deadbeef bytes_req=640 bytes_alloc=1024 gfp_flags=GFP_ATOMIC|__GFP_NOWARN node=0',
    );
    expect([a.kind, a.node, a.accounted]).toEqual(['kmalloc_node', 0, null]);
    const c = alloc(
      '     ksoftirqd/2-20    [002] ..s.  9100.6: kmem_cache_alloc_node: call_site=__alloc_skb+0x3a/0x1b0 ptr=0000000012345678 bytes_req=232 bytes_alloc=256 gfp_flags=GFP_ATOMIC node=-1 accounted=false',
    );
    expect([c.kind, c.node, c.accounted]).toEqual(['kmem_cache_alloc_node', -1, false]);
  });

  it('reads a module symbol in call_site', () => {
    const a = alloc(
      '           <...>-5150  [003] ....  1000.25: kmem_cache_alloc: call_site=ext4_alloc_io_end+0x1c/0x60 [ext4] ptr=00000000f00dfeed bytes_req=72 bytes_alloc=72 gfp_flags=GFP_NOFS',
    );
    expect([a.comm, a.callSite, a.ptr, a.gfp]).toEqual(['<...>', 'ext4_alloc_io_end+0x1c/0x60 [ext4]', '00000000f00dfeed', 'GFP_NOFS']);
  });

  it('reads a decimal pfn (before 5.x) and skips nr_free= (a vendor field)', () => {
    const p = page(
      '            java-7001  [002] ....   600.000010: mm_page_alloc: page=00000000c0ffee00 pfn=1048577 order=3 migratetype=0 nr_free=512 gfp_flags=GFP_KERNEL|__GFP_COMP',
    );
    expect([p.pfn, p.order, p.migratetype, p.gfp]).toEqual([1048577, 3, 0, 'GFP_KERNEL|__GFP_COMP']);
  });

  it('reads the (tgid) column', () => {
    const f = free('           <...>-2210  ( 2201) [003] d..2  7001.120003: kfree: call_site=kvfree+0x2b/0x30 ptr=000000009f8e7d6c');
    expect([f.comm, f.pid, f.cpu]).toEqual(['<...>', 2210, 3]);
    const g = free('          <idle>-0     (-------) [000] ..s1  7001.2: kfree: call_site=kvfree+0x2b/0x30 ptr=000000009f8e7d6d');
    expect([g.comm, g.pid, g.cpu]).toEqual(['<idle>', 0, 0]);
  });

  it('reads a task name with blanks and dashes', () => {
    const f = free(' Web Content-x-2345  [001] ....   88.8: kfree: call_site=a+0x1/0x2 ptr=00000000aaaa0000');
    expect([f.comm, f.pid]).toEqual(['Web Content-x', 2345]);
  });
});

describe('old ftrace / trace-cmd (2.6.3x-3.x)', () => {
  it('reads hex call_site, 0x pointers and no flags column', () => {
    const a = alloc(
      '      kworker/0:1-12    [000]  5123.000100: kmalloc: call_site=ffffffff8112a3b4 ptr=0xffff88007c2e1a00 bytes_req=96 bytes_alloc=96 gfp_flags=GFP_KERNEL|GFP_ZERO',
    );
    expect([a.comm, a.pid, a.cpu, a.timestamp, a.callSite, a.ptr, a.gfp]).toEqual([
      'kworker/0:1',
      12,
      0,
      5123.0001,
      'ffffffff8112a3b4',
      '0xffff88007c2e1a00',
      'GFP_KERNEL|GFP_ZERO',
    ]);
    const f = free('             cat-3001  [001]  5123.000200: kfree: call_site=ffffffff8112a3ff ptr=0x0');
    expect(isNullPtr(f.ptr)).toBe(true);
    expect(isNullPtr('(null)')).toBe(true);
  });

  it("maps mm_page_free_direct and mm_pagevec_free to today's names", () => {
    const d = page('             cat-3001  [001]  5123.3: mm_page_free_direct: page=ffffea0001b6c040 pfn=449233 order=0');
    expect([d.kind, d.pfn, d.order]).toEqual(['mm_page_free', 449233, 0]);
    const v = page('             cat-3001  [001]  5123.4: mm_pagevec_free: page=ffffea0001b6c080 pfn=449234 order=0 cold=1');
    expect([v.kind, v.pfn, v.order]).toEqual(['mm_page_free_batched', 449234, 0]);
  });
});

describe('trace-cmd report', () => {
  it("reads the kmem plugin's (sym+off) prefix, padded event names and hex gfp_flags", () => {
    const a = alloc(
      '       mkfs.xfs-771   [001]   812.004411: kmalloc:              (xfs_buf_get_map+0x5c) call_site=ffffffff81302e6c ptr=0xffff88003a5b1c00 bytes_req=320 bytes_alloc=512 gfp_flags=GFP_NOFS|GFP_ZERO',
    );
    expect([a.comm, a.pid, a.callSite, a.ptr, a.bytesReq]).toEqual(['mkfs.xfs', 771, 'xfs_buf_get_map+0x5c', '0xffff88003a5b1c00', 320]);
    const b = alloc(
      'gcc-30500 [002] d..1. 4100.000070: kmem_cache_alloc:     call_site=xas_alloc+0x9f ptr=0xffff888104ab3c70 bytes_req=576 bytes_alloc=584 gfp_flags=0x402800 node=-1 accounted=true',
    );
    expect([b.comm, b.callSite, b.gfp, b.gfpValue, b.accounted]).toEqual(['gcc', 'xas_alloc+0x9f', '0x402800', 0x402800, true]);
    const p = page('gcc-30500 [002] ..... 4100.000080: mm_page_alloc:        page=0xffffea00000a1b2c pfn=0xa1b2c order=0 migratetype=1 gfp_flags=0x152c4a');
    expect([p.page, p.pfn, p.gfpValue]).toEqual(['0xffffea00000a1b2c', 0xa1b2c, 0x152c4a]);
  });

  it('keeps the symbol after call_site when both are symbols', () => {
    const a = alloc(
      'gcc-30500 [002] ..... 4100.1: kmalloc:              (alloc_bprm+0x32) call_site=alloc_bprm+0x32 ptr=0xffff888100002000 bytes_req=416 bytes_alloc=512 gfp_flags=GFP_KERNEL',
    );
    expect(a.callSite).toBe('alloc_bprm+0x32');
  });

  it('reads "bytes_req=56bytes_alloc=64" (a trace-cmd rendering with a missing blank)', () => {
    const a = alloc(
      'make-4242 [000] ...1. 2319.000878: kmalloc:              call_site=virtio_fs_enqueue_req+0x131 ptr=0xffff888101a9d9c0 bytes_req=56bytes_alloc=64 gfp_flags=0x820 node=-1 accounted=false',
    );
    expect([a.bytesReq, a.bytesAlloc, a.gfpValue, a.node]).toEqual([56, 64, 0x820, -1]);
  });
});

describe('options/fields (raw field values)', () => {
  it('takes the (decimal) after each value', () => {
    const a = alloc(
      '  811.2: kmem_cache_alloc: call_site=0xffffffff81d0ab10 (-2116998384) ptr=0xffff888003c1e000 (-131941328658432) bytes_req=0x1000 (4096) bytes_alloc=0x1000 (4096) gfp_flags=0xcc0 (3264) node=0xffffffff (-1) accounted=(0)',
    );
    expect([a.comm, a.pid, a.cpu, a.callSite, a.ptr, a.bytesReq, a.bytesAlloc, a.gfp, a.gfpValue, a.node, a.accounted]).toEqual([
      '',
      -1,
      -1,
      '0xffffffff81d0ab10',
      '0xffff888003c1e000',
      4096,
      4096,
      '0xcc0',
      3264,
      -1,
      false,
    ]);
    const f = free('  811.3: kmem_cache_free: call_site=0xffffffff81d0b220 (-2116996576) ptr=0xffff888003c1e000 (-131941328658432) name=names_cache');
    expect([f.ptr, f.name]).toEqual(['0xffff888003c1e000', 'names_cache']);
  });
});

describe('perf script', () => {
  it('reads "comm pid [cpu] ts: kmem:event:"', () => {
    const a = alloc(
      'kworker/u4:2  1234 [001]  4711.123456: kmem:kmalloc: call_site=c000000000412a30 ptr=0xc000000ffe001200 bytes_req=192 bytes_alloc=192 gfp_flags=GFP_NOFS|GFP_ZERO',
    );
    expect([a.kind, a.comm, a.pid, a.cpu, a.timestamp, a.callSite]).toEqual(['kmalloc', 'kworker/u4:2', 1234, 1, 4711.123456, 'c000000000412a30']);
  });

  it('reads padded event names, pid/tid, task names with blanks, and no CPU column', () => {
    const p = page('perf  6001/6003 [000]    22.5:             kmem:mm_page_alloc: page=0x176a17 pfn=1534487 order=0 migratetype=0 gfp_flags=GFP_KERNEL');
    expect([p.comm, p.pid, p.cpu, p.pfn]).toEqual(['perf', 6001, 0, 1534487]);
    const f = free('Web Content 2345 [003]  88.000001: kmem:kfree: call_site=ffffffff81234567 ptr=0xffff888000004000');
    expect([f.comm, f.pid, f.cpu]).toEqual(['Web Content', 2345, 3]);
    const g = free('sshd 777  88.5: kmem:kfree: call_site=ffffffff81234567 ptr=0xffff888000005000');
    expect([g.comm, g.pid, g.cpu]).toEqual(['sshd', 777, -1]);
  });

  it('skips callchain lines and other subsystems', () => {
    expect(parseFtraceLine('	ffffffff81277f5a __kmalloc+0x16a (/lib/modules/6.1.0/build/vmlinux)')).toBeNull();
    expect(parseFtraceLine('                  27f1dc .__kmalloc (/boot/vmlinux)')).toBeNull();
    expect(parseFtraceLine('perf  6001 [000]    22.6: sched:sched_switch: prev_comm=perf prev_pid=6001')).toBeNull();
    expect(parseFtraceLine('perf  6001 [000]    22.6: skb:kfree_skb: skbaddr=0xffff888000001000 protocol=0')).toBeNull();
    expect(parseFtraceLine('perf  6001 [000]    22.6: kmem:ion_heap_shrink: heap_name=system len=4096')).toBeNull();
    expect(parseFtraceLine('perf  6001 [000]    22.6: kmem:rss_stat: mm_id=1 curr=1 type=MM_ANONPAGES size=4096B')).toBeNull();
  });
});

describe('excerpts with columns cut away', () => {
  it('reads "[cpu] flags ts: event:", "ts: event:" and "event:" lines', () => {
    const a = free('[002] ....   808.188897: kmem_cache_free: call_site=putname+0x41/0x60 ptr=00000000abcdef01');
    expect([a.comm, a.pid, a.cpu, a.timestamp]).toEqual(['', -1, 2, 808.188897]);
    const b = free('  4582.5: kfree: call_site=a+0x1/0x2 ptr=00000000abcdef02');
    expect([b.cpu, b.timestamp]).toEqual([-1, 4582.5]);
    const c = free('kfree: call_site=a+0x1/0x2 ptr=00000000abcdef03');
    expect([c.comm, c.pid, c.cpu, c.timestamp]).toEqual(['', -1, -1, Number.NaN]);
  });

  it('reads a line ending in CR LF', () => {
    expect(free('  1.5: kfree: call_site=a+0x1/0x2 ptr=00000000abcdef04\r').ptr).toBe('00000000abcdef04');
  });
});

describe('lines that are not kmem events', () => {
  it.each([
    '',
    '   ',
    '# tracer: nop',
    '#           TASK-PID     CPU#  |||||  TIMESTAMP  FUNCTION',
    '##### CPU 1 buffer started ####',
    'CPU 0 is empty',
    'cpus=2',
    'version = 6',
    'sh@box[root]:/sys/kernel/tracing# echo 1 > events/kmem/enable',
    'root       41112  0.0  0.0      0     0 ?        S    14:36   0:00 [memleak]',
    '          <idle>-0     [000] d..2.  100.0: sched_switch: prev_comm=swapper/0 prev_pid=0 prev_prio=120 prev_state=R ==> next_comm=sh next_pid=1',
    '              sh-1     [000] ....   100.1: kfree <-security_cred_free',
    '              sh-1     [000] ....   100.2: kfree_skb: skbaddr=000000001234 protocol=2048 location=0xffffffff81000000',
    '              sh-1     [000] ....   100.3: mm_page_alloc_extfrag: page=ffffea0000010000 pfn=0x400 alloc_order=0 fallback_order=9',
    '              sh-1     [000] ....   100.4: rss_stat: mm_id=3 curr=1 type=MM_FILEPAGES size=8192B',
    '    bytes_req=2312 bytes_alloc=4096 gfp_flags=GFP_KERNEL|__GFP_ZERO node=-1',
  ])('%j', (line) => {
    expect(parseFtraceLine(line)).toBeNull();
  });
});

describe('malformed kmem lines', () => {
  const HEAD = '            bash-4021    [001] .....   123.456789: ';
  const cases: Array<[string, string]> = [
    [
      `${HEAD}kmalloc: call_site=a+0x1/0x2 ptr=ffff888000001000 bytes_req=8 gfp_flags=GFP_KERNEL node=-1 accounted=false`,
      'malformed kmem:kmalloc line: "            bash-4021    [001] .....   123.456789: kmalloc: call_site=a+0x1/0x2 ptr=ffff888000001000 bytes_req=8 gfp_flags=GFP_KERNEL node=-1 accounted=false" (no bytes_alloc= field)',
    ],
    [`${HEAD}kfree: call_site=a+0x1/0x2`, `malformed kmem:kfree line: "${HEAD}kfree: call_site=a+0x1/0x2" (no ptr= field)`],
    [`${HEAD}kfree: ptr=ffff888000001000`, `malformed kmem:kfree line: "${HEAD}kfree: ptr=ffff888000001000" (no call_site= field)`],
    [
      `${HEAD}kmalloc: call_site=a+0x1/0x2 ptr=ffff888000001000 bytes_re`,
      `malformed kmem:kmalloc line: "${HEAD}kmalloc: call_site=a+0x1/0x2 ptr=ffff888000001000 bytes_re" (truncated at "bytes_re")`,
    ],
    [
      `${HEAD}kmalloc: call_site=a+0x1/0x2 ptr=ffff888000001000 bytes_req=`,
      `malformed kmem:kmalloc line: "${HEAD}kmalloc: call_site=a+0x1/0x2 ptr=ffff888000001000 bytes_req=" (bad bytes_req= value "")`,
    ],
    [
      `${HEAD}kmalloc: call_site=a+0x1/0x2 ptr=ffff888000001000 bytes_req=12x4 bytes_alloc=16 gfp_flags=GFP_KERNEL`,
      `malformed kmem:kmalloc line: "${HEAD}kmalloc: call_site=a+0x1/0x2 ptr=ffff888000001000 bytes_req=12x4 bytes_alloc=16 gfp_flags=GFP_KERNEL" (bad bytes_req= value "12x4")`,
    ],
    [
      `${HEAD}kmalloc: call_site=a+0x1/0x2 ptr=ffff888000001000 bytes_req=8 bytes_alloc=-8 gfp_flags=GFP_KERNEL`,
      `malformed kmem:kmalloc line: "${HEAD}kmalloc: call_site=a+0x1/0x2 ptr=ffff888000001000 bytes_req=8 bytes_alloc=-8 gfp_flags=GFP_KERNEL" (bad bytes_alloc= value "-8")`,
    ],
    [
      `${HEAD}kmalloc: call_site=a+0x1/0x2 ptr=ffff888000001000 bytes_req=99999999999999999999 bytes_alloc=8 gfp_flags=GFP_KERNEL`,
      `malformed kmem:kmalloc line: "${HEAD}kmalloc: call_site=a+0x1/0x2 ptr=ffff888000001000 bytes_req=99999999999999999999 bytes_alloc=8 gfp_flags=GFP_KERNEL" (bad bytes_req= value "99999999999999999999")`,
    ],
    [
      `${HEAD}kmalloc: call_site=a+0x1/0x2 ptr=ffff888000001000 bytes_req=8 bytes_alloc=8 gfp_flags=GFP_KERNEL node=-1 accounted=maybe`,
      `malformed kmem:kmalloc line: "${HEAD}kmalloc: call_site=a+0x1/0x2 ptr=ffff888000001000 bytes_req=8 bytes_alloc=8 gfp_flags=GFP_KERNEL node=-1 accounted=maybe" (bad accounted= value "maybe")`,
    ],
    [`${HEAD}kfree: call_site=a+0x1/0x2 ??? ptr=0`, `malformed kmem:kfree line: "${HEAD}kfree: call_site=a+0x1/0x2 ??? ptr=0" (unexpected "???")`],
    [`${HEAD}kfree: (a+0x1 call_site=a ptr=0`, `malformed kmem:kfree line: "${HEAD}kfree: (a+0x1 call_site=a ptr=0" (unterminated "(")`],
    [
      `${HEAD}mm_page_alloc: page=ffffea0000010000 order=0 migratetype=0 gfp_flags=GFP_KERNEL`,
      `malformed kmem:mm_page_alloc line: "${HEAD}mm_page_alloc: page=ffffea0000010000 order=0 migratetype=0 gfp_flags=GFP_KERNEL" (no pfn= field)`,
    ],
    [
      `${HEAD}mm_page_free: page=ffffea0000010000 pfn=0xzz order=0`,
      `malformed kmem:mm_page_free line: "${HEAD}mm_page_free: page=ffffea0000010000 pfn=0xzz order=0" (bad pfn= value "0xzz")`,
    ],
    [
      `${HEAD}mm_page_free: page=ffffea0000010000 pfn=0x400`,
      `malformed kmem:mm_page_free line: "${HEAD}mm_page_free: page=ffffea0000010000 pfn=0x400" (no order= field)`,
    ],
    [
      `${HEAD}mm_page_alloc_zone_locked: page=ffffea0000010000 pfn=0x400 order=0 migratetype=1`,
      `malformed kmem:mm_page_alloc_zone_locked line: "${HEAD}mm_page_alloc_zone_locked: page=ffffea0000010000 pfn=0x400 order=0 migratetype=1" (no percpu_refill= field)`,
    ],
    [
      'bash-1 [0x1] .... 1.0: kfree: call_site=a+0x1/0x2 ptr=0',
      'malformed kmem:kfree line: "bash-1 [0x1] .... 1.0: kfree: call_site=a+0x1/0x2 ptr=0" (bad CPU column "[0x1]")',
    ],
    [
      'bash [001] .... 1.0: kfree: call_site=a+0x1/0x2 ptr=0',
      'malformed kmem:kfree line: "bash [001] .... 1.0: kfree: call_site=a+0x1/0x2 ptr=0" (bad task-pid column "bash")',
    ],
    [`${HEAD}kmem_cache_al`, `malformed trace line: "${HEAD}kmem_cache_al" (truncated event name)`],
    [
      `${HEAD}kmalloc_large: call_site=a+0x1/0x2 ptr=0 size=8192`,
      `unknown kmem event kmem:kmalloc_large: "${HEAD}kmalloc_large: call_site=a+0x1/0x2 ptr=0 size=8192"`,
    ],
    [`${HEAD}mm_page_free_bulk: pfn=0x10 nr=4`, `unknown kmem event kmem:mm_page_free_bulk: "${HEAD}mm_page_free_bulk: pfn=0x10 nr=4"`],
    ['perf 1 [000] 1.0: kmem:kfree_bulk: nr=3', 'unknown kmem event kmem:kfree_bulk: "perf 1 [000] 1.0: kmem:kfree_bulk: nr=3"'],
    [`${HEAD}kfree: call_site=a+0x1/0x2 ptr=0\u0000\u0000`, `malformed trace line: "${HEAD}kfree: call_site=a+0x1/0x2 ptr=0\\u0000\\u0000" (NUL byte)`],
    [`${HEAD}kfree: call_site=a\uFFFD+0x1/0x2 ptr=0`, `malformed trace line: "${HEAD}kfree: call_site=a\uFFFD+0x1/0x2 ptr=0" (invalid UTF-8)`],
  ];
  it.each(cases)('%j', (line, message) => {
    const err = errorOf(line);
    expect(err.message).toBe(message);
    expect(err.line).toBe(line);
    expect(err.file).toBeNull();
  });

  it('gives reason and event separately', () => {
    const err = errorOf(`${HEAD}kfree: call_site=a+0x1/0x2`);
    expect([err.reason, err.event, err.dialect]).toEqual(['no ptr= field', 'kfree', 'kmem']);
    expect(err.at('trace.txt', 1234).message).toBe(`trace.txt:1234: malformed kmem:kfree line: "${HEAD}kfree: call_site=a+0x1/0x2" (no ptr= field)`);
  });

  it('cuts a very long line in the message', () => {
    const line = `${HEAD}kfree: call_site=${'x'.repeat(500)}`;
    const err = errorOf(line);
    expect(err.line).toBe(line);
    expect(err.message).toBe(`malformed kmem:kfree line: ${JSON.stringify(`${line.slice(0, 200)}...`)} (no ptr= field)`);
  });
});

describe('helpers', () => {
  it('parsePtr reads raw, 0x and hashed pointers', () => {
    expect(parsePtr('ffff888000001000')).toBe(0xffff888000001000n);
    expect(parsePtr('0xFFFF888000001000')).toBe(0xffff888000001000n);
    expect(parsePtr('00000000deadbeef')).toBe(0xdeadbeefn);
    expect(parsePtr('(null)')).toBeNull();
    expect(parsePtr('(____ptrval____)')).toBeNull();
    expect(parsePtr('')).toBeNull();
  });

  it('parses non-ASCII task names', () => {
    const f = free('       café-bär-77    [000] ....  1.25: kfree: call_site=a+0x1/0x2 ptr=00000000abcdef05');
    expect([f.comm, f.pid]).toEqual(['café-bär', 77]);
  });
});
