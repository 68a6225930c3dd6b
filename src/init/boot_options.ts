/**
 * The kernel command line of a kmem machine: boot()'s options, checked as a
 * whole before anything is built. An unknown option is an error that names
 * it (and the option it most likely meant), so a typo never boots a
 * different machine than the one asked for.
 */
import { checkInteger, closest, describe } from '../lib/argcheck.js';
import { MAX_MEMORY, MIN_MEMORY, memparse, PAGE_SIZE } from '../memory/memblock.js';
import { MAX_DMA_PFN, MAX_DMA32_PFN, MAX_NR_ZONES, pageblock_nr_pages, ZONE_DMA, ZONE_DMA32, ZONE_MOVABLE, ZONE_NORMAL } from '../page_alloc/mmzone.js';

/** Zone sizes for a machine laid out by hand (each a byte count or a size string). */
export interface ZoneSizes {
  DMA?: number | string;
  DMA32?: number | string;
  Normal?: number | string;
  Movable?: number | string;
}

/** A WebAssembly.Memory, as far as kmem uses it (typed here so no DOM or Node typings are needed). */
export interface WasmMemory {
  readonly buffer: ArrayBuffer | SharedArrayBuffer;
  grow(delta: number): number;
}

/** What boot() accepts as physical memory the caller owns. */
export type RamBuffer = ArrayBuffer | SharedArrayBuffer | WasmMemory;

export interface BootOptions {
  /** RAM, bytes or a size string ('64M', '1G'). Default 128M, or the size of `buffer`. */
  memory?: number | string;
  /**
   * The caller's own memory to use as RAM: an ArrayBuffer, a
   * SharedArrayBuffer or a WebAssembly.Memory (its buffer as it is at boot;
   * growing the Memory afterwards detaches it from kmem). Physical address
   * N is byte N of the buffer; page frame 0 (bytes 0..4095) is reserved and
   * never handed out, so a wasm module's first page stays its own.
   */
  buffer?: RamBuffer;
  /** Number of CPUs. Default 2. */
  cpus?: number;
  /** Zone sizes; default: the x86-64 layout (DMA below 16M, DMA32 below 4G). */
  zones?: ZoneSizes;
  /** Back RAM and all allocator state with SharedArrayBuffers. */
  shared?: boolean;
  /** Seed for every random choice the kernel makes. Default 1. */
  seed?: number;
  /** What a caught bug does after its report: 'report' (default) or 'throw'. */
  onBug?: 'report' | 'throw';
  /** vm.min_free_kbytes set by the user (wins over the computed value if larger). */
  minFreeKbytes?: number;
  /**
   * transparent_hugepage= (default 'madvise', as distributions ship it):
   * unless 'never', and if the machine has at least 512 MiB (hugepage_init),
   * khugepaged raises min_free_kbytes to keep free pageblocks for huge pages
   * (set_recommended_min_free_kbytes).
   */
  transparentHugepage?: 'always' | 'madvise' | 'never';
  /** slab_min_order= */
  slubMinOrder?: number;
  /** slab_max_order= (default PAGE_ALLOC_COSTLY_ORDER, 3) */
  slubMaxOrder?: number;
  /** slab_min_objects= (0: from the CPU count) */
  slubMinObjects?: number;
  /** slab_nomerge */
  slabNomerge?: boolean;
  /** slub_debug= ('FZPU', 'FZ,kmalloc-64', '-', 'O', ...) */
  slubDebug?: string | boolean;
  /** CONFIG_SLUB_STATS */
  slubStats?: boolean;
  /** CONFIG_SLAB_FREELIST_HARDENED (default on, as distributions ship it) */
  freelistHardened?: boolean;
  /** CONFIG_SLAB_FREELIST_RANDOM (default off) */
  freelistRandom?: boolean;
  /** CONFIG_KASAN_GENERIC: shadow memory, checked `k.mem`, quarantine, reports. Default off. */
  kasan?: 'generic' | false;
  /** kasan_multi_shot: print every KASAN report, not only the first. */
  kasanMultiShot?: boolean;
  /**
   * KASAN's alloc and free stacks: 'on' (the default, kasan.stacktrace=on)
   * records both for every object, a few microseconds per call (V8's stack
   * capture); 'off' (kasan.stacktrace=off) records none; 'sampled', for long
   * runs, records them for 1 allocation in `kasanStackSample` (and its free):
   * the others keep pid and cpu, and reports print "(stack is not
   * available: not sampled, ...)" where the frames would be.
   */
  kasanStacks?: 'on' | 'off' | 'sampled';
  /** kasanStacks: 'sampled': 1 allocation in this many keeps its stacks (default 64). */
  kasanStackSample?: number;
  /**
   * randomize_va_space (the norandmaps/sysctl knob): 0 no randomization
   * (as `setarch -R`), 1 stack, mmap base, vDSO and PIE base, 2 also the
   * heap (brk). Default 2, as the kernel's. Random choices follow `seed`.
   */
  aslr?: 0 | 1 | 2;
  /**
   * Swap: a swap partition of this size (bytes or a size string, '256M')
   * on the machine's disk, swapon'd at boot. 0 or absent: no swap.
   */
  swap?: number | string;
  /**
   * The multi-gen LRU (CONFIG_LRU_GEN_ENABLED): true puts the evictable
   * folios on generations instead of the active/inactive lists, and
   * /sys/kernel/mm/lru_gen/enabled reads 0x0007; default false (the
   * classic LRU, enabled 0x0000). Writing 'y'/'n' there switches later.
   */
  lruGen?: boolean;
  /**
   * The kernel generation to model: '6.18' (the default); '7.0' (sheaves
   * for every cache, no kmem_cache_cpu); or '6.1', which gives SLUB 6.1's
   * geometry (kmem_cache and kmem_cache_node sizes, kmalloc-96/192 aligned
   * to 8, 6.1's calculate_order) beside the rest of the 6.18 machine.
   */
  kernel?: '6.18' | '7.0' | '6.1';
  /**
   * The slab allocator design: 'slub' (the default), or 'slob', which models
   * mm/slob.c as Linux 6.3 had it (its last version: SLOB was removed in
   * 6.4), beside the rest of the 6.18 machine; a kernel built with
   * CONFIG_SLOB had no kmalloc caches, no /proc/slabinfo and no
   * /sys/kernel/slab. SLOB cannot be combined with what it never had:
   * `kasan` (CONFIG_KASAN needs SLAB or SLUB), `slubDebug`, `slubStats`,
   * `slubMinOrder`/`slubMaxOrder`/`slubMinObjects`, `freelistRandom`, or
   * `freelistHardened: true` (those depend on SLAB || SLUB): each is a
   * RangeError naming the option. 'slab' models mm/slab.c (to 6.4):
   * per-CPU head arrays, the shared array, colouring, /proc/slabinfo with
   * writable tunables; the same options are refused with it (kmem models
   * neither CONFIG_DEBUG_SLAB nor KASAN over SLAB).
   */
  allocator?: 'slub' | 'slab' | 'slob';
  /**
   * Memory memblock reserved at boot (the kernel image, struct pages, page
   * tables, firmware areas: the `reserved` of the `Memory:` boot line), bytes
   * or a size string. Present but never managed: MemTotal, the watermarks and
   * the pcp lists follow what is left. Taken from the top of memory down, as
   * memblock allocates. Default 0.
   */
  reserved?: number | string;
  /**
   * The block device the root file system lives on: its size (bytes or a
   * size string; default '16G'), the time each request takes before its
   * transfer (latencyUs, default 100) and the transfer rate (mbps, MB/s,
   * default 500). A request of n bytes costs latencyUs + n / mbps µs of
   * virtual time; files hold at most `size` bytes (-ENOSPC past it).
   */
  disk?: DiskOptions;
  /**
   * 'workers': every CPU is a thread of its own (Node worker_threads, Web
   * Workers) sharing one set of SharedArrayBuffers (implies `shared`). The
   * booting thread is CPU 0; `k.handle` goes to a worker by postMessage and
   * `attach(handle, { cpu })` there binds it to another CPU (src/smp/).
   * Default 'off': one thread, k.onCpu() switches CPUs.
   */
  smp?: 'off' | 'workers';
  /**
   * Test builds: the longest Atomics.wait (µs, 0..10000) injected at SLUB's
   * race windows with smp: 'workers', on one pass in four. Default 0.
   */
  smpJitter?: number;
}

export interface DiskOptions {
  size?: number | string;
  latencyUs?: number;
  mbps?: number;
}

/** The disk as boot() set it up. */
export interface DiskConfig {
  sizeBytes: number;
  latencyUs: number;
  mbps: number;
}

/** checkBootOptions()'s part for `disk`: each field checked, the defaults filled in. */
export function checkDisk(v: unknown): DiskConfig {
  const d: DiskConfig = { sizeBytes: 16 * 2 ** 30, latencyUs: 100, mbps: 500 };
  if (v === undefined) return d;
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new TypeError(`disk: expected an object { size, latencyUs, mbps }, got ${describe(v)}`);
  const o = v as Record<string, unknown>;
  for (const key of Object.keys(o)) {
    if (!['size', 'latencyUs', 'mbps'].includes(key)) throw new RangeError(`disk.${key}: unknown disk option (expected size, latencyUs, mbps)`);
  }
  if (o.size !== undefined) {
    if (typeof o.size !== 'number' && typeof o.size !== 'string')
      throw new TypeError(`disk.size: expected a number of bytes or a size string, got ${describe(o.size)}`);
    d.sizeBytes = memparse(o.size, 'disk.size');
    if (d.sizeBytes < 4096) throw new RangeError(`disk.size: ${d.sizeBytes} bytes is less than one 4096-byte block`);
  }
  for (const [key, min] of [
    ['latencyUs', 0],
    ['mbps', Number.MIN_VALUE],
  ] as const) {
    const x = o[key];
    if (x === undefined) continue;
    if (typeof x !== 'number') throw new TypeError(`disk.${key}: expected a number, got ${describe(x)}`);
    if (!Number.isFinite(x) || x < min)
      throw new RangeError(`disk.${key}: expected a finite number ${key === 'mbps' ? 'above 0' : 'of 0 or more'}, got ${describe(x)}`);
    d[key] = x;
  }
  return d;
}

/** Every option boot() knows, for the unknown-option check. */
const KNOWN: readonly (keyof BootOptions)[] = [
  'memory',
  'buffer',
  'cpus',
  'zones',
  'shared',
  'seed',
  'onBug',
  'minFreeKbytes',
  'transparentHugepage',
  'slubMinOrder',
  'slubMaxOrder',
  'slubMinObjects',
  'slabNomerge',
  'slubDebug',
  'slubStats',
  'freelistHardened',
  'freelistRandom',
  'kasan',
  'kasanMultiShot',
  'kasanStacks',
  'kasanStackSample',
  'kernel',
  'allocator',
  'aslr',
  'reserved',
  'disk',
  'swap',
  'lruGen',
  'smp',
  'smpJitter',
];

const BOOLEANS: readonly (keyof BootOptions)[] = ['shared', 'slabNomerge', 'slubStats', 'freelistHardened', 'freelistRandom', 'kasanMultiShot', 'lruGen'];

function oneOf<T extends string>(v: unknown, name: string, values: readonly T[], dflt: T): T {
  if (v === undefined) return dflt;
  if (typeof v !== 'string' || !(values as readonly string[]).includes(v)) {
    throw new RangeError(`${name}: expected ${values.map((x) => `'${x}'`).join(', ')}, got ${describe(v)}`);
  }
  return v as T;
}

/** boot()'s options, checked and with their defaults. */
export interface CheckedOptions {
  opts: BootOptions;
  memory: number;
  buffer: ArrayBuffer | SharedArrayBuffer | null;
  shared: boolean;
  cpus: number;
  seed: number;
  onBug: 'report' | 'throw';
  thp: 'always' | 'madvise' | 'never';
  /** the swap partition's size in bytes, whole pages (0: no swap) */
  swap: number;
  layout: { total: number; ranges: [number, number][] };
  /** Pages memblock reserved at boot (the reserved option). */
  reservedPages: number;
  disk: DiskConfig;
  /** smp: 'workers' */
  smp: boolean;
  /** smpJitter in µs */
  smpJitter: number;
}

/** Check every option and work out the machine's size and zone layout. */
export function checkBootOptions(opts: unknown): CheckedOptions {
  if (opts === undefined) opts = {};
  if (typeof opts !== 'object' || opts === null || Array.isArray(opts)) throw new TypeError(`opts: expected an object of boot options, got ${describe(opts)}`);
  const o = opts as BootOptions;
  for (const key of Object.keys(o)) {
    if (!(KNOWN as readonly string[]).includes(key)) {
      const near = closest(key, KNOWN);
      throw new RangeError(`${key}: unknown boot option${near !== undefined ? ` (did you mean '${near}'?)` : ''}`);
    }
  }
  for (const key of BOOLEANS) {
    const v = o[key];
    if (v !== undefined && typeof v !== 'boolean') throw new TypeError(`${key}: expected true or false, got ${describe(v)}`);
  }
  oneOf(o.kernel, 'kernel', ['6.18', '7.0', '6.1'], '6.18');
  const allocator = oneOf(o.allocator, 'allocator', ['slub', 'slab', 'slob'], 'slub');
  if (allocator !== 'slub') checkSlobOptions(o, allocator);
  const cpus = o.cpus ?? 2;
  checkInteger(cpus, 'cpus', 1, 256);
  const seed = o.seed ?? 1;
  if (typeof seed !== 'number' || !Number.isInteger(seed)) throw new TypeError(`seed: expected an integer, got ${describe(seed)}`);
  const onBug = oneOf(o.onBug, 'onBug', ['report', 'throw'], 'report');
  const thp = oneOf(o.transparentHugepage, 'transparentHugepage', ['always', 'madvise', 'never'], 'madvise');
  if (o.kasan !== undefined && o.kasan !== false && o.kasan !== 'generic') throw new RangeError(`kasan: expected 'generic' or false, got ${describe(o.kasan)}`);
  const kasanStacks = oneOf(o.kasanStacks, 'kasanStacks', ['on', 'off', 'sampled'], 'on');
  if (o.kasanStackSample !== undefined) {
    checkInteger(o.kasanStackSample, 'kasanStackSample', 1, 2 ** 30);
    if (kasanStacks !== 'sampled') throw new RangeError(`kasanStackSample: only with kasanStacks: 'sampled', got kasanStacks ${describe(kasanStacks)}`);
  }
  if (o.slubDebug !== undefined && typeof o.slubDebug !== 'string' && typeof o.slubDebug !== 'boolean') {
    throw new TypeError(`slubDebug: expected a slub_debug= string such as 'FZPU', or true/false, got ${describe(o.slubDebug)}`);
  }
  if (o.aslr !== undefined) checkInteger(o.aslr, 'aslr', 0, 2);
  if (o.minFreeKbytes !== undefined) checkInteger(o.minFreeKbytes, 'minFreeKbytes', 0, Number.MAX_SAFE_INTEGER);
  const disk = checkDisk(o.disk);
  const smp = oneOf(o.smp, 'smp', ['off', 'workers'], 'off') === 'workers';
  const smpJitter = o.smpJitter ?? 0;
  checkInteger(smpJitter, 'smpJitter', 0, 10000);
  if (smp) checkSmpOptions(o);

  // The RAM: the caller's buffer, or one of `memory` bytes.
  let buffer: ArrayBuffer | SharedArrayBuffer | null = null;
  if (o.buffer !== undefined) buffer = ramBuffer(o.buffer);
  let memory: number;
  if (o.memory !== undefined) {
    memory = memparse(o.memory, 'memory');
    if (buffer !== null && memory !== buffer.byteLength - (buffer.byteLength % PAGE_SIZE)) {
      throw new RangeError(`memory: ${memory} bytes, but buffer holds ${buffer.byteLength} (give one of them, or the same size)`);
    }
  } else if (buffer !== null) {
    memory = buffer.byteLength - (buffer.byteLength % PAGE_SIZE);
  } else {
    memory = o.zones !== undefined ? -1 : 128 * 1024 * 1024;
  }
  const shared = smp || o.shared === true || (buffer !== null && typeof SharedArrayBuffer !== 'undefined' && buffer instanceof SharedArrayBuffer);
  if (o.shared === true && buffer !== null && !(buffer instanceof SharedArrayBuffer)) {
    throw new RangeError('shared: true needs a SharedArrayBuffer (or a shared WebAssembly.Memory) as buffer');
  }
  if (memory !== -1 && memory < MIN_MEMORY) throw new RangeError(`memory: ${sizeText(memory)} is below the minimum of ${sizeText(MIN_MEMORY)}`);
  if (memory > MAX_MEMORY) throw new RangeError(`memory: ${sizeText(memory)} is more than kmem supports (${sizeText(MAX_MEMORY)})`);
  const layout = zoneLayout(memory, o.zones);
  if (layout.total < MIN_MEMORY) throw new RangeError(`memory: ${sizeText(layout.total)} is below the minimum of ${sizeText(MIN_MEMORY)}`);
  if (layout.total > MAX_MEMORY) throw new RangeError(`memory: ${sizeText(layout.total)} is more than kmem supports (${sizeText(MAX_MEMORY)})`);
  let reservedPages = 0;
  if (o.reserved !== undefined) {
    const bytes = memparse(o.reserved, 'reserved');
    // what is left must still boot a machine
    if (bytes > layout.total - MIN_MEMORY) {
      throw new RangeError(`reserved: ${sizeText(bytes)} leaves less than the minimum of ${sizeText(MIN_MEMORY)} of ${sizeText(layout.total)}`);
    }
    reservedPages = Math.ceil(bytes / PAGE_SIZE);
  }
  return { opts: o, memory: layout.total, buffer, shared, cpus, seed, onBug, thp, swap: swapSize(o.swap), layout, reservedPages, disk, smp, smpJitter };
}

/** What smp: 'workers' does not run on several threads yet: each a RangeError naming the option. */
function checkSmpOptions(o: BootOptions): void {
  const refuse = (name: string, why: string) => {
    throw new RangeError(`${name}: not available with smp: 'workers' (${why})`);
  };
  if (o.allocator !== undefined && o.allocator !== 'slub') refuse('allocator', 'only SLUB runs on several threads');
  if (o.kernel !== undefined && o.kernel !== '6.18') refuse('kernel', "only 6.18's SLUB runs on several threads");
  if (o.shared === false) refuse('shared', 'every CPU thread needs the SharedArrayBuffers');
  if (o.buffer !== undefined) refuse('buffer', 'the CPU threads share the RAM boot allocates');
  if (o.swap !== undefined) refuse('swap', 'the VM half runs on CPU 0 only');
  if (o.lruGen === true) refuse('lruGen', 'the VM half runs on CPU 0 only');
}

/** mkswap's smallest swap area (10 pages) and kmem's largest. */
export const MIN_SWAP = 40 * 1024;
export const MAX_SWAP = 16 * 2 ** 30;

/** The `swap` option: 0 (none), or a size of at least MIN_SWAP, rounded down to whole pages. */
function swapSize(v: unknown): number {
  if (v === undefined) return 0;
  if (typeof v !== 'number' && typeof v !== 'string') throw new TypeError(`swap: expected a number of bytes or a size string, got ${describe(v)}`);
  const bytes = memparse(v, 'swap');
  if (bytes === 0) return 0;
  if (bytes < MIN_SWAP) throw new RangeError(`swap: ${sizeText(bytes)} is below mkswap's minimum of ${sizeText(MIN_SWAP)} (10 pages)`);
  if (bytes > MAX_SWAP) throw new RangeError(`swap: ${sizeText(bytes)} is more than kmem supports (${sizeText(MAX_SWAP)})`);
  return bytes - (bytes % PAGE_SIZE);
}

/** The options a CONFIG_SLOB (or, as kmem models it, CONFIG_SLAB) kernel has no code for: each a RangeError naming it. */
function checkSlobOptions(o: BootOptions, allocator: 'slab' | 'slob'): void {
  const refuse = (name: string, why: string) => {
    throw new RangeError(`${name}: not available with allocator: '${allocator}' (${why})`);
  };
  const slob = allocator === 'slob';
  if (o.kernel === '7.0') refuse('kernel', 'SLAB went in 6.8 and SLOB in 6.4: 7.0 has only SLUB');
  if (o.kasan !== undefined && o.kasan !== false) refuse('kasan', slob ? 'CONFIG_KASAN depends on SLAB or SLUB' : 'kmem models KASAN over SLUB only');
  if (o.slubDebug !== undefined && o.slubDebug !== false) refuse('slubDebug', "slub_debug is SLUB's");
  if (o.slubStats === true) refuse('slubStats', "CONFIG_SLUB_STATS is SLUB's");
  if (o.slubMinOrder !== undefined) refuse('slubMinOrder', slob ? 'SLOB takes single pages' : "slab_min_order is SLUB's");
  if (o.slubMaxOrder !== undefined) refuse('slubMaxOrder', slob ? 'SLOB takes single pages' : 'kmem does not model slab_max_order= under SLAB');
  if (o.slubMinObjects !== undefined) refuse('slubMinObjects', slob ? 'SLOB has no slabs of objects' : "slab_min_objects is SLUB's");
  if (o.freelistRandom === true) refuse('freelistRandom', slob ? 'CONFIG_SLAB_FREELIST_RANDOM depends on SLAB || SLUB' : 'kmem does not model it under SLAB');
  if (o.freelistHardened === true && slob) refuse('freelistHardened', 'CONFIG_SLAB_FREELIST_HARDENED depends on SLAB || SLUB');
}

/** "1 byte", "4096 bytes". */
function sizeText(n: number): string {
  return n === 1 ? '1 byte' : `${n} bytes`;
}

function ramBuffer(v: unknown): ArrayBuffer | SharedArrayBuffer {
  const Memory = (globalThis as { WebAssembly?: { Memory?: abstract new (...a: never[]) => WasmMemory } }).WebAssembly?.Memory;
  if (Memory !== undefined && v instanceof Memory) return v.buffer;
  if (v instanceof ArrayBuffer) return v;
  if (typeof SharedArrayBuffer !== 'undefined' && v instanceof SharedArrayBuffer) return v;
  throw new TypeError(`buffer: expected an ArrayBuffer, a SharedArrayBuffer or a WebAssembly.Memory, got ${describe(v)}`);
}

/**
 * The zones' pfn ranges: x86-64's fixed boundaries, or sizes given by hand
 * laid out in zone order. Pfn 0 is reserved and belongs to no zone.
 * `memory` -1 means "not given": the zones' sizes decide.
 */
export function zoneLayout(memory: number, sizes?: ZoneSizes): { total: number; ranges: [number, number][] } {
  const ranges: [number, number][] = [];
  for (let z = 0; z < MAX_NR_ZONES; z++) ranges.push([0, 0]);
  if (sizes === undefined) {
    const nr = Math.floor(memory / PAGE_SIZE);
    ranges[ZONE_DMA] = [1, Math.min(MAX_DMA_PFN, nr)];
    if (nr > MAX_DMA_PFN) ranges[ZONE_DMA32] = [MAX_DMA_PFN, Math.min(MAX_DMA32_PFN, nr)];
    if (nr > MAX_DMA32_PFN) ranges[ZONE_NORMAL] = [MAX_DMA32_PFN, nr];
    return { total: nr * PAGE_SIZE, ranges };
  }
  if (typeof sizes !== 'object' || sizes === null) throw new TypeError(`zones: expected an object of zone sizes, got ${describe(sizes)}`);
  const order: [keyof ZoneSizes, number][] = [
    ['DMA', ZONE_DMA],
    ['DMA32', ZONE_DMA32],
    ['Normal', ZONE_NORMAL],
    ['Movable', ZONE_MOVABLE],
  ];
  for (const k of Object.keys(sizes)) {
    if (!order.some(([n]) => n === k)) throw new RangeError(`zones: unknown zone '${k}' (expected DMA, DMA32, Normal, Movable)`);
  }
  let pfn = 0;
  for (const [name, z] of order) {
    const v = sizes[name];
    if (v === undefined) continue;
    const bytes = memparse(v, `zones.${name}`);
    if (bytes % (pageblock_nr_pages * PAGE_SIZE) !== 0) {
      throw new RangeError(`zones.${name}: ${bytes} bytes is not a whole number of 2 MiB pageblocks`);
    }
    const start = pfn === 0 ? 1 : pfn;
    pfn += bytes / PAGE_SIZE;
    if (bytes > 0) ranges[z] = [start, pfn];
  }
  if (pfn === 0) throw new RangeError('zones: at least one zone must have memory');
  if (memory !== -1 && memory !== pfn * PAGE_SIZE) {
    throw new RangeError(`zones: sizes add up to ${pfn * PAGE_SIZE} bytes but memory is ${memory}`);
  }
  return { total: pfn * PAGE_SIZE, ranges };
}
