/**
 * Every public entry point, every argument, every kind of bad value: each
 * call throws a TypeError (wrong type) or RangeError (bad value) whose
 * message starts with the argument's name and shows the value readably —
 * never an engine error ("Cannot mix BigInt", "Cannot read properties"),
 * never a garbled text ("0xundefined", "[object Object]"), never silence.
 * And a rejected call changes nothing: the machine still works after all.
 */
import { describe, expect, it } from 'vitest';
import { boot, GFP_KERNEL, type Kernel } from '../../src/index.js';

type Kind =
  | 'size'
  | 'gfp'
  | 'gfpOptional'
  | 'addr'
  | 'cache'
  | 'order'
  | 'cpu'
  | 'fn'
  | 'addrs'
  | 'out'
  | 'name'
  | 'u8'
  | 'u32'
  | 'u64'
  | 'bytes'
  | 'ns'
  | 'task';

const COMMON: unknown[] = [undefined, null, Number.NaN, Number.POSITIVE_INFINITY, 1.5, '12', {}, [], true, 10n, Symbol('s')];

/** Values that are not valid for an argument of each kind. */
const BAD: Record<Kind, unknown[]> = {
  size: [...COMMON, -1],
  gfp: [...COMMON, -1, 2 ** 31, 0x18 | 0x8 | 0x10],
  /** An optional argument: undefined means the default (GFP_KERNEL), as JavaScript passes it. */
  gfpOptional: [...COMMON.slice(1), -1, 2 ** 31],
  addr: [...COMMON, -1, 2 ** 40],
  cache: [...COMMON, -1, 99999, 2 ** 32],
  order: [...COMMON, -1, 11],
  cpu: [...COMMON, -1, 2],
  fn: [undefined, null, 5, 'f', {}, 10n],
  addrs: [undefined, null, 5, 'abc', 10n, true],
  out: [undefined, null, 5, 'abc', 10n, true],
  name: [undefined, null, 5, {}, 10n, Symbol('n')],
  u8: [undefined, null, Number.NaN, 1.5, '1', {}, 10n, 256, -129],
  u32: [undefined, null, Number.NaN, 1.5, '1', {}, 10n, 2 ** 32],
  u64: [undefined, null, Number.NaN, 1.5, 'abc', '1', {}, 2 ** 64, 2n ** 64n],
  bytes: [undefined, null, 5, 10n, true],
  ns: [undefined, null, Number.NaN, -1, 'abc', 10n],
  task: [undefined, null, 5, 'kmem', { pid: -1 }, { pid: 1.5 }, { comm: 5 }, { pid: 10n }],
};

interface Entry {
  call: string;
  args: [name: string, kind: Kind][];
  run: (k: Kernel, a: unknown[]) => unknown;
  /** Valid arguments, made fresh for each call. */
  valid: (k: Kernel) => unknown[];
}

const cache = (k: Kernel) => k.kmemCacheByName('kmalloc-64');
const obj = (k: Kernel) => k.kmalloc(64, GFP_KERNEL);
const any = (f: (...a: never[]) => unknown) => f as (...a: unknown[]) => unknown;

const ENTRIES: Entry[] = [
  {
    call: 'kmalloc',
    args: [
      ['size', 'size'],
      ['gfp', 'gfp'],
    ],
    run: (k, a) => any(k.kmalloc).apply(k, a),
    valid: () => [64, GFP_KERNEL],
  },
  {
    call: 'kzalloc',
    args: [
      ['size', 'size'],
      ['gfp', 'gfp'],
    ],
    run: (k, a) => any(k.kzalloc).apply(k, a),
    valid: () => [64, GFP_KERNEL],
  },
  {
    call: 'kcalloc',
    args: [
      ['n', 'size'],
      ['size', 'size'],
      ['gfp', 'gfp'],
    ],
    run: (k, a) => any(k.kcalloc).apply(k, a),
    valid: () => [2, 32, GFP_KERNEL],
  },
  {
    call: 'kmallocArray',
    args: [
      ['n', 'size'],
      ['size', 'size'],
      ['gfp', 'gfp'],
    ],
    run: (k, a) => any(k.kmallocArray).apply(k, a),
    valid: () => [2, 32, GFP_KERNEL],
  },
  {
    call: 'krealloc',
    args: [
      ['addr', 'addr'],
      ['newSize', 'size'],
      ['gfp', 'gfp'],
    ],
    run: (k, a) => any(k.krealloc).apply(k, a),
    valid: (k) => [obj(k), 128, GFP_KERNEL],
  },
  { call: 'kfree', args: [['addr', 'addr']], run: (k, a) => any(k.kfree).apply(k, a), valid: (k) => [obj(k)] },
  { call: 'kfreeSensitive', args: [['addr', 'addr']], run: (k, a) => any(k.kfreeSensitive).apply(k, a), valid: (k) => [obj(k)] },
  { call: 'ksize', args: [['addr', 'addr']], run: (k, a) => any(k.ksize).apply(k, a), valid: (k) => [obj(k)] },
  {
    call: 'kmemdup',
    args: [
      ['src', 'addr'],
      ['len', 'size'],
      ['gfp', 'gfp'],
    ],
    run: (k, a) => any(k.kmemdup).apply(k, a),
    valid: (k) => [obj(k), 16, GFP_KERNEL],
  },
  { call: 'kmallocSizeRoundup', args: [['n', 'size']], run: (k, a) => any(k.kmallocSizeRoundup).apply(k, a), valid: () => [100] },
  {
    call: 'kasanCheckRead',
    args: [
      ['addr', 'addr'],
      ['size', 'size'],
    ],
    run: (k, a) => any(k.kasanCheckRead).apply(k, a),
    valid: (k) => [obj(k), 8],
  },
  {
    call: 'kasanCheckWrite',
    args: [
      ['addr', 'addr'],
      ['size', 'size'],
    ],
    run: (k, a) => any(k.kasanCheckWrite).apply(k, a),
    valid: (k) => [obj(k), 8],
  },
  {
    call: 'kmemCacheAlloc',
    args: [
      ['cache', 'cache'],
      ['gfp', 'gfp'],
    ],
    run: (k, a) => any(k.kmemCacheAlloc).apply(k, a),
    valid: (k) => [cache(k), GFP_KERNEL],
  },
  {
    call: 'kmemCacheFree',
    args: [
      ['cache', 'cache'],
      ['addr', 'addr'],
    ],
    run: (k, a) => any(k.kmemCacheFree).apply(k, a),
    valid: (k) => [cache(k), obj(k)],
  },
  {
    call: 'kmemCacheAllocBulk',
    args: [
      ['cache', 'cache'],
      ['n', 'size'],
      ['out', 'out'],
      ['gfp', 'gfpOptional'],
    ],
    run: (k, a) => any(k.kmemCacheAllocBulk).apply(k, a),
    valid: (k) => [cache(k), 2, [], GFP_KERNEL],
  },
  {
    call: 'kmemCacheFreeBulk',
    args: [
      ['cache', 'cache'],
      ['addrs', 'addrs'],
    ],
    run: (k, a) => any(k.kmemCacheFreeBulk).apply(k, a),
    valid: (k) => [cache(k), [obj(k)]],
  },
  { call: 'kmemCacheShrink', args: [['cache', 'cache']], run: (k, a) => any(k.kmemCacheShrink).apply(k, a), valid: (k) => [cache(k)] },
  { call: 'kmemCacheByName', args: [['name', 'name']], run: (k, a) => any(k.kmemCacheByName).apply(k, a), valid: () => ['kmalloc-64'] },
  {
    call: 'allocPages',
    args: [
      ['order', 'order'],
      ['gfp', 'gfp'],
    ],
    run: (k, a) => any(k.allocPages).apply(k, a),
    valid: () => [0, GFP_KERNEL],
  },
  {
    call: 'getFreePages',
    args: [
      ['gfp', 'gfp'],
      ['order', 'order'],
    ],
    run: (k, a) => any(k.getFreePages).apply(k, a),
    valid: () => [GFP_KERNEL, 0],
  },
  { call: 'getZeroedPage', args: [['gfp', 'gfp']], run: (k, a) => any(k.getZeroedPage).apply(k, a), valid: () => [GFP_KERNEL] },
  {
    call: 'freePages',
    args: [
      ['addr', 'addr'],
      ['order', 'order'],
    ],
    run: (k, a) => any(k.freePages).apply(k, a),
    valid: (k) => [k.allocPages(0, GFP_KERNEL), 0],
  },
  {
    call: 'onCpu',
    args: [
      ['cpu', 'cpu'],
      ['fn', 'fn'],
    ],
    run: (k, a) => any(k.onCpu).apply(k, a),
    valid: () => [1, () => 0],
  },
  { call: 'setTask', args: [['task', 'task']], run: (k, a) => any(k.setTask).apply(k, a), valid: () => [{ pid: 5, comm: 'x' }] },
  { call: 'tick', args: [['ns', 'ns']], run: (k, a) => any(k.tick).apply(k, a), valid: () => [1000] },
  { call: 'mem.read8', args: [['addr', 'addr']], run: (k, a) => any(k.mem.read8).apply(k.mem, a), valid: (k) => [obj(k)] },
  { call: 'mem.read64', args: [['addr', 'addr']], run: (k, a) => any(k.mem.read64).apply(k.mem, a), valid: (k) => [obj(k)] },
  {
    call: 'mem.write8',
    args: [
      ['addr', 'addr'],
      ['v', 'u8'],
    ],
    run: (k, a) => any(k.mem.write8).apply(k.mem, a),
    valid: (k) => [obj(k), 1],
  },
  {
    call: 'mem.write32',
    args: [
      ['addr', 'addr'],
      ['v', 'u32'],
    ],
    run: (k, a) => any(k.mem.write32).apply(k.mem, a),
    valid: (k) => [obj(k), 1],
  },
  {
    call: 'mem.write64',
    args: [
      ['addr', 'addr'],
      ['v', 'u64'],
    ],
    run: (k, a) => any(k.mem.write64).apply(k.mem, a),
    valid: (k) => [obj(k), 1n],
  },
  {
    call: 'mem.memset',
    args: [
      ['addr', 'addr'],
      ['c', 'u32'],
      ['n', 'size'],
    ],
    run: (k, a) => any(k.mem.memset).apply(k.mem, a),
    valid: (k) => [obj(k), 0, 8],
  },
  {
    call: 'mem.memcpy',
    args: [
      ['dst', 'addr'],
      ['src', 'addr'],
      ['n', 'size'],
    ],
    run: (k, a) => any(k.mem.memcpy).apply(k.mem, a),
    valid: (k) => [obj(k), obj(k), 8],
  },
  {
    call: 'mem.readBytes',
    args: [
      ['addr', 'addr'],
      ['n', 'size'],
    ],
    run: (k, a) => any(k.mem.readBytes).apply(k.mem, a),
    valid: (k) => [obj(k), 8],
  },
  {
    call: 'mem.writeBytes',
    args: [
      ['addr', 'addr'],
      ['bytes', 'bytes'],
    ],
    run: (k, a) => any(k.mem.writeBytes).apply(k.mem, a),
    valid: (k) => [obj(k), [1, 2]],
  },
];

/** Fails with a readable reason unless `f` throws a Type/RangeError naming `name`. */
function rejection(f: () => unknown, name: string): string | null {
  try {
    f();
  } catch (e) {
    if (!(e instanceof TypeError) && !(e instanceof RangeError)) return `threw ${(e as Error)?.name}: ${(e as Error)?.message}`;
    const m = e.message;
    if (!m.startsWith(`${name}`)) return `message does not start with '${name}': ${m}`;
    if (/0xundefined|0xNaN|\[object |Cannot (mix|read|convert)|is not a function/.test(m)) return `garbled message: ${m}`;
    return null;
  }
  return 'accepted';
}

function show(v: unknown): string {
  if (typeof v === 'bigint') return `${v}n`;
  if (typeof v === 'symbol') return v.toString();
  if (typeof v === 'function') return 'function';
  try {
    return JSON.stringify(v) ?? String(v);
  } catch {
    return String(v);
  }
}

describe.each(['plain', 'kasan'] as const)('every argument of every entry point (%s machine)', (mode) => {
  it.each(ENTRIES.map((e) => [e.call, e] as const))('%s', (_call, e) => {
    const k = boot({ memory: '32M', kasan: mode === 'kasan' ? 'generic' : false });
    const failures: string[] = [];
    e.args.forEach(([name, kind], i) => {
      for (const bad of BAD[kind]) {
        const args = e.valid(k);
        args[i] = bad;
        const why = rejection(() => e.run(k, args), name);
        if (why !== null) failures.push(`${e.call} ${name}=${show(bad)}: ${why}`);
      }
    });
    expect(failures).toEqual([]);
    // Nothing was corrupted: the valid call still works.
    expect(() => e.run(k, e.valid(k))).not.toThrow();
    // A KASAN machine reports an access outside RAM (wild-memory-access, as
    // the kernel's KASAN would for a non-canonical pointer) and a mem* call
    // with a negative length (a huge size_t: out-of-bounds) before the
    // RangeError; nothing else may have been reported.
    const bugs = k.dmesg().filter((l) => /\] (BUG|WARNING|kernel BUG)/.test(l));
    expect(bugs.filter((l) => !/BUG: KASAN: (wild-memory-access|out-of-bounds)/.test(l))).toEqual([]);
    if (mode === 'plain') expect(k.isTainted).toBe(false);
  });
});
