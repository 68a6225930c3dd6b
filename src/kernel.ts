/**
 * boot(): wire the layers together the way start_kernel() does: memory and
 * struct pages, zones and the buddy allocator, watermarks and per-CPU
 * pagesets, then the slab allocator on top.
 */
import { KernelBug, type KernelBugKind } from './lib/bug.js';
import { Printk } from './lib/printk.js';
import { captureStack, formatFrame } from './lib/stacktrace.js';
import { MemAccess } from './memory/access.js';
import { MAX_MEMORY, memparse, PAGE_SHIFT, PAGE_SIZE, PhysMem } from './memory/memblock.js';
import { PageArray } from './memory/page.js';
import { dumpPage } from './page_alloc/debug.js';
import { __GFP_ZERO, formatGfpMode } from './page_alloc/gfp.js';
import {
  MAX_DMA_PFN,
  MAX_DMA32_PFN,
  MAX_NR_ZONES,
  MAX_PAGE_ORDER,
  pageblock_nr_pages,
  Z_MANAGED,
  Z_PRESENT,
  Z_SPANNED,
  Z_START_PFN,
  ZONE_DMA,
  ZONE_DMA32,
  ZONE_MOVABLE,
  ZONE_NORMAL,
  zoneNames,
} from './page_alloc/mmzone.js';
import { PageAlloc } from './page_alloc/page_alloc.js';
import { showFreeAreas } from './page_alloc/show_mem.js';
import {
  calculateMinFreeKbytes,
  setupPerZoneLowmemReserve,
  setupPerZoneWmarks,
  zoneSetPagesetHighAndBatch,
} from './page_alloc/watermark.js';
import { ProcFs } from './proc/procfs.js';

/** Zone sizes for a machine laid out by hand (each a byte count or a size string). */
export interface ZoneSizes {
  DMA?: number | string;
  DMA32?: number | string;
  Normal?: number | string;
  Movable?: number | string;
}

export interface BootOptions {
  /** RAM, bytes or a size string ('64M', '1G'). Default 128M. */
  memory?: number | string;
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
}

export interface Task {
  pid: number;
  comm: string;
}

export const UTS_RELEASE = '6.18.0-kmem';

export class Kernel {
  readonly mem: MemAccess;
  readonly phys: PhysMem;
  readonly pages: PageArray;
  readonly pageAlloc: PageAlloc;
  readonly cpus: number;
  readonly seed: number;
  readonly onBug: 'report' | 'throw';
  readonly proc: ProcFs;
  readonly sys: ProcFs;
  readonly printk: Printk;
  minFreeKbytes = 0;
  /** The task every report names ("by task comm/pid"). */
  task: Task = { pid: 1, comm: 'kmem' };
  private tainted = false;

  constructor(opts: BootOptions = {}) {
    const memory = memparse(opts.memory ?? '128M', 'memory');
    const cpus = opts.cpus ?? 2;
    if (typeof cpus !== 'number' || !Number.isInteger(cpus) || cpus < 1 || cpus > 256) {
      throw new RangeError(`cpus: expected an integer 1..256, got ${String(cpus)}`);
    }
    const seed = opts.seed ?? 1;
    if (typeof seed !== 'number' || !Number.isInteger(seed)) throw new TypeError(`seed: expected an integer, got ${String(seed)}`);
    const onBug = opts.onBug ?? 'report';
    if (onBug !== 'report' && onBug !== 'throw') throw new RangeError(`onBug: expected 'report' or 'throw', got ${String(onBug)}`);
    if (memory > MAX_MEMORY) throw new RangeError(`memory: ${memory} bytes is more than kmem supports (${MAX_MEMORY})`);
    this.cpus = cpus;
    this.seed = seed;
    this.onBug = onBug;
    const shared = opts.shared === true;
    const layout = zoneLayout(memory, opts.zones);
    this.phys = new PhysMem(layout.total, shared);
    this.pages = new PageArray(this.phys.nrPages, shared);
    this.printk = new Printk();
    this.mem = new MemAccess(this.phys);
    this.pageAlloc = new PageAlloc(this.phys, this.pages, cpus, shared, {
      postAlloc: null,
      freePrepare: null,
      badPage: (info) => this.badPage(info.pfn, info.reason),
      warnAlloc: (order, gfp) => this.warnAlloc(order, gfp),
    });
    this.proc = new ProcFs(this);
    this.sys = this.proc;
    this.bootPageAlloc(layout.ranges, opts.minFreeKbytes);
  }

  // ───────────────────────── boot ─────────────────────────

  private bootPageAlloc(ranges: [number, number][], userMinFree: number | undefined): void {
    const pa = this.pageAlloc;
    const pk = (s: string) => this.printk.printk(`${s}\n`);
    const hexAddr = (n: number) => `0x${n.toString(16).padStart(16, '0')}`;
    pk('Zone ranges:');
    for (let z = 0; z < MAX_NR_ZONES; z++) {
      if (z === ZONE_MOVABLE) continue;
      const [s, e] = ranges[z]!;
      const name = zoneNames[z]!.padEnd(8);
      pk(e > s ? `  ${name} [mem ${hexAddr(s * PAGE_SIZE)}-${hexAddr(e * PAGE_SIZE - 1)}]` : `  ${name} empty`);
    }
    pk('Movable zone start for each node');
    pk('Early memory node ranges');
    pk(`  node   0: [mem ${hexAddr(PAGE_SIZE)}-${hexAddr(this.phys.size - 1)}]`);
    pk(`Initmem setup node 0 [mem ${hexAddr(PAGE_SIZE)}-${hexAddr(this.phys.size - 1)}]`);
    for (let z = 0; z < MAX_NR_ZONES; z++) {
      const [s, e] = ranges[z]!;
      if (e > s) pa.initZone(z, s, e);
    }
    let totalManaged = 0;
    let totalPresent = 0;
    let lowmem = 0;
    for (let z = 0; z < MAX_NR_ZONES; z++) {
      totalManaged += pa.zones.get(z, Z_MANAGED);
      totalPresent += pa.zones.get(z, Z_PRESENT);
      if (z !== ZONE_MOVABLE) lowmem += pa.zones.get(z, Z_MANAGED);
    }
    let policy = 0;
    for (let z = ZONE_NORMAL; z >= 0; z--) {
      if (pa.zones.populated(z)) {
        policy = z;
        break;
      }
    }
    pk(`Built 1 zonelists, mobility grouping on.  Total pages: ${totalManaged}`);
    pk(`Policy zone: ${zoneNames[policy]}`);
    const reservedK = (this.phys.nrPages - totalManaged) * 4;
    pk(
      `Memory: ${totalManaged * 4}K/${totalPresent * 4}K available (0K kernel code, 0K rwdata, 0K rodata, 0K init, 0K bss, ${reservedK}K reserved, 0K cma-reserved)`,
    );
    let minFree = calculateMinFreeKbytes(lowmem);
    if (userMinFree !== undefined) {
      if (!Number.isInteger(userMinFree) || userMinFree < 0) {
        throw new RangeError(`minFreeKbytes: expected a non-negative integer, got ${userMinFree}`);
      }
      if (userMinFree > minFree) minFree = userMinFree;
    }
    this.minFreeKbytes = minFree;
    setupPerZoneWmarks(pa.zones, minFree);
    setupPerZoneLowmemReserve(pa.zones);
    for (let z = 0; z < MAX_NR_ZONES; z++) zoneSetPagesetHighAndBatch(pa.zones, z, this.cpus);
    pa.setupPagesets();
  }

  // ───────────────────────── CPUs and tasks ─────────────────────────

  /** The CPU that runs now: whose per-CPU lists allocations use. */
  get currentCpu(): number {
    return this.pageAlloc.cpu;
  }

  /** Run fn as CPU n and return its result; the previous CPU is restored after. */
  onCpu<T>(n: number, fn: () => T): T {
    if (typeof n !== 'number' || !Number.isInteger(n) || n < 0 || n >= this.cpus) {
      throw new RangeError(`cpu: expected an integer 0..${this.cpus - 1}, got ${String(n)}`);
    }
    if (typeof fn !== 'function') throw new TypeError('fn: expected a function');
    const prev = this.pageAlloc.cpu;
    this.setCpu(n);
    try {
      return fn();
    } finally {
      this.setCpu(prev);
    }
  }

  /** Switch the running CPU (layers above keep their own copy in sync). */
  protected setCpu(n: number): void {
    this.pageAlloc.cpu = n;
  }

  setTask(task: Partial<Task>): void {
    if (task.pid !== undefined && (!Number.isInteger(task.pid) || task.pid < 0)) {
      throw new RangeError(`task.pid: expected a non-negative integer, got ${String(task.pid)}`);
    }
    if (task.comm !== undefined && typeof task.comm !== 'string') throw new TypeError('task.comm: expected a string');
    this.task = { pid: task.pid ?? this.task.pid, comm: (task.comm ?? this.task.comm).slice(0, 15) };
  }

  // ───────────────────────── printk and bugs ─────────────────────────

  /** Every line in the printk ring, with timestamps. */
  dmesg(): string[] {
    return this.printk.dmesg();
  }

  /** Advance the virtual clock by ns nanoseconds. */
  tick(ns: number): void {
    this.printk.advance(ns);
  }

  /** The CPU/Hardware/Call Trace block of dump_stack(). */
  dumpStack(): string[] {
    const lines = [
      `CPU: ${this.currentCpu} UID: 0 PID: ${this.task.pid} Comm: ${this.task.comm} ${this.tainted ? 'Tainted: G    B' : 'Not tainted'} ${UTS_RELEASE} #1`,
      'Hardware name: kmem virtual machine, BIOS kmem 01/01/2026',
      'Call Trace:',
      ' <TASK>',
    ];
    for (const f of captureStack()) lines.push(formatFrame(f));
    lines.push(' </TASK>');
    return lines;
  }

  /** Print a report for a bug the kernel catches, then follow onBug. */
  reportBug(kind: KernelBugKind, lines: string[]): void {
    this.printk.printk(`${lines.join('\n')}\n`);
    const first = !this.tainted;
    this.tainted = true;
    if (first) this.printk.printk('Disabling lock debugging due to kernel taint\n');
    if (this.onBug === 'throw') throw new KernelBug(kind, lines);
  }

  get isTainted(): boolean {
    return this.tainted;
  }

  /** bad_page(): "BUG: Bad page state" with the page dump and the stack. */
  private badPage(pfn: number, reason: string): void {
    const zone = this.pageAlloc.pageZone(pfn);
    const lines = [`BUG: Bad page state in process ${this.task.comm}  pfn:${pfn.toString(16).padStart(5, '0')}`];
    lines.push(...dumpPage(this.pages, pfn, zone, reason));
    lines.push('Modules linked in:');
    lines.push(...this.dumpStack());
    this.reportBug('bad_page', lines);
  }

  /** warn_alloc(): the allocation-failure warning and the Mem-Info summary. */
  private warnAlloc(order: number, gfp: number): void {
    const lines = [
      `${this.task.comm}: page allocation failure: order:${order}, mode:${formatGfpMode(gfp)}, nodemask=(null)`,
      ...this.dumpStack(),
      ...showFreeAreas(this.pageAlloc, this.slabPages(true), this.slabPages(false)),
    ];
    this.printk.printk(`${lines.join('\n')}\n`);
  }

  /** Pages held by slabs (reclaimable or not); the slab layer overrides this. */
  slabPages(_reclaimable: boolean): number {
    return 0;
  }

  // ───────────────────────── the page allocator API ─────────────────────────

  /** alloc_pages(gfp, order): the physical address of a 2^order block, or 0. */
  allocPages(order: number, gfp: number): number {
    checkOrder(order);
    checkGfp(gfp);
    const pfn = this.pageAlloc.allocPagesPfn(order, gfp);
    return pfn < 0 ? 0 : pfn * PAGE_SIZE;
  }

  /** __free_pages() by address: the block allocPages returned, with its order. */
  freePages(addr: number, order: number): void {
    checkOrder(order);
    if (typeof addr !== 'number' || !Number.isInteger(addr)) throw new TypeError(`addr: expected an integer address, got ${String(addr)}`);
    if (addr === 0) return;
    if (addr < 0 || addr >= this.phys.size) throw new RangeError(`addr: 0x${addr.toString(16)} is outside physical memory`);
    const pfn = Math.floor(addr / PAGE_SIZE);
    if (addr % PAGE_SIZE !== 0) {
      this.badPage(pfn, 'free_pages: address is not page-aligned');
      return;
    }
    this.pageAlloc.freePagesPfn(pfn, order);
  }

  /** __get_free_pages(): the same as allocPages for kmem's direct-mapped RAM. */
  getFreePages(gfp: number, order: number): number {
    return this.allocPages(order, gfp);
  }

  /** get_zeroed_page(gfp). */
  getZeroedPage(gfp: number): number {
    return this.allocPages(0, gfp | __GFP_ZERO);
  }

  /** free_pages(addr, order). */
  freePagesAddr(addr: number, order: number): void {
    this.freePages(addr, order);
  }

  /** drain_all_pages(): every CPU's pcp lists back to the zones. */
  drainAllPages(): void {
    this.pageAlloc.drainAllPages();
  }
}

function checkOrder(order: unknown): asserts order is number {
  if (typeof order !== 'number') throw new TypeError(`order: expected a number, got ${typeof order}`);
  if (!Number.isInteger(order) || order < 0 || order > MAX_PAGE_ORDER) {
    throw new RangeError(`order: expected an integer 0..${MAX_PAGE_ORDER}, got ${order}`);
  }
}

function checkGfp(gfp: unknown): asserts gfp is number {
  if (typeof gfp !== 'number') throw new TypeError(`gfp: expected GFP flags (a number), got ${typeof gfp}`);
  if (!Number.isInteger(gfp) || gfp < 0 || gfp > 0x7fffffff) throw new RangeError(`gfp: invalid GFP flags ${gfp}`);
}

/**
 * The zones' pfn ranges: x86-64's fixed boundaries, or sizes given by hand
 * laid out in zone order. Pfn 0 is reserved and belongs to no zone.
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
  if (typeof sizes !== 'object' || sizes === null) throw new TypeError('zones: expected an object of zone sizes');
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
  if (memory !== pfn * PAGE_SIZE && memory !== 128 * 1024 * 1024) {
    throw new RangeError(`zones: sizes add up to ${pfn * PAGE_SIZE} bytes but memory is ${memory}`);
  }
  return { total: pfn * PAGE_SIZE, ranges };
}

/** Start a machine. */
export function boot(opts: BootOptions = {}): Kernel {
  return new Kernel(opts);
}

export { PAGE_SHIFT, PAGE_SIZE, Z_SPANNED, Z_START_PFN };
