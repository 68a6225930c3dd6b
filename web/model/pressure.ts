/**
 * The memory-pressure view's model: a small machine of its own (64 MiB,
 * one CPU, the page's seed) whose guided scenarios read files, dirty them
 * and fill memory with real Task calls, sampling k.inspect as they go so the
 * view can draw free pages against the watermarks over the step, with the
 * moments kswapd woke marked.
 *
 * It reads the machine only through k.inspect and the public API.
 */
import { boot, type Kernel } from '../../src/index.js';
import type { ReclaimSnapshot } from '../../src/inspect.js';
import { DEMO_PATH, demoElf } from './elf.js';
import type { VmTask } from './processes.js';

export const PROT_READ = 1;
export const PROT_WRITE = 2;
export const MAP_PRIVATE = 0x02;
export const MAP_ANONYMOUS = 0x20;
const O_RDONLY = 0;
const O_RDWR = 2;
/** touchAnon()'s mapping size */
const PIECE = 8 << 20;

/** One sample of the machine, taken while a step runs. */
export interface PressureSample {
  /** The step it was taken in (0 = before the first). */
  step: number;
  /** Free pages of the zone the chart follows. */
  free: number;
  /** kswapd's runs so far */
  kswapdRuns: number;
  pgsteal: number;
  /** Pages on each LRU list (enum lru_list order). */
  lists: number[];
}

/** What the machine was booted with. */
export interface PressureConfig {
  memory: string;
  /** Swap size, when the kmem in the page has swap ('' = none). */
  swap: string;
}

/** What a scenario step can use: the machine, its tasks and files, and the samples. */
export class PressureLab {
  readonly k: Kernel;
  readonly tasks = new Map<string, VmTask>();
  readonly samples: PressureSample[] = [];
  /** The inode the scenario follows (its pages are outlined), 0 for none. */
  focusIno = 0;
  /** The zone the chart follows: the largest populated one. */
  readonly zone: number;
  step = 0;
  /** Swap was asked for and the machine has it. */
  readonly hasSwap: boolean;
  /** A step's error (an allocation that failed with no OOM killer to help), for its text. */
  failure = '';
  /** A user buffer per task for read() */
  private readonly bufs = new Map<string, number>();

  constructor(
    seed = 1,
    readonly cfg: PressureConfig = { memory: '64M', swap: '' },
  ) {
    let k: Kernel;
    let swap = false;
    if (cfg.swap !== '') {
      try {
        k = boot({ memory: cfg.memory, cpus: 1, seed, swap: cfg.swap } as Parameters<typeof boot>[0]);
        swap = true;
      } catch {
        k = boot({ memory: cfg.memory, cpus: 1, seed });
      }
    } else k = boot({ memory: cfg.memory, cpus: 1, seed });
    this.k = k;
    this.k.fs.writeFile(DEMO_PATH, demoElf());
    const zs = this.k.inspect.zones();
    this.zone = zs.reduce((a, z) => (z.managed > a.managed ? z : a), zs[0]!).zone;
    this.hasSwap = swap && this.swapTotal() > 0;
    this.sample();
  }

  /** Swap slots, 0 without swap (read from /proc/swaps, which every kmem with swap has). */
  swapTotal(): number {
    return this.swapUsage()[0];
  }

  /** [total, used] swap pages from /proc/swaps ([0, 0] without swap). */
  swapUsage(): [number, number] {
    let text = '';
    try {
      text = this.k.proc.read('/proc/swaps');
    } catch {
      return [0, 0];
    }
    let total = 0;
    let used = 0;
    for (const l of text.split('\n').slice(1)) {
      const f = l.trim().split(/\s+/);
      if (f.length >= 4) {
        total += Number(f[2]) / 4;
        used += Number(f[3]) / 4;
      }
    }
    return [total, used];
  }

  spawn(name: string): VmTask {
    // The program is copied under the task's name, so comm (and the kernel's reports) name it.
    const path = `/bin/${name}`;
    if (this.k.fs.lookup(path) === undefined) this.k.fs.writeFile(path, demoElf());
    const t = this.k.spawn(path, [name]);
    this.tasks.set(name, t);
    this.bufs.set(name, t.mmap(0, 1 << 16, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
    return t;
  }

  task(name: string): VmTask {
    const t = this.tasks.get(name);
    if (t === undefined) throw new Error(`no task ${name}`);
    return t;
  }

  /** A file of `bytes` on disk (not cached yet). */
  makeFile(path: string, bytes: number, fill = 0x61): number {
    this.k.fs.writeFile(path, new Uint8Array(bytes).fill(fill));
    return this.k.fs.lookup(path)!.ino;
  }

  /** read() a file from start to end in 64 KiB pieces, sampling every `every` pieces. */
  readFile(task: string, path: string, every = 16): number {
    const t = this.task(task);
    const buf = this.bufs.get(task)!;
    const fd = t.open(path, O_RDONLY);
    if (fd < 0) throw new Error(`open ${path}: error ${-fd}`);
    let total = 0;
    for (let i = 1; ; i++) {
      const n = t.read(fd, buf, 1 << 16);
      if (n <= 0) break;
      total += n;
      if (i % every === 0) this.sample();
    }
    t.close(fd);
    this.sample();
    return total;
  }

  /**
   * Write one byte into each page of a new anonymous mapping of `bytes`
   * (each a first-touch fault), sampling every `every` pages. Stops at the
   * first failure (the task killed or the fault failed), recorded in `failure`.
   */
  touchAnon(task: string, bytes: number, every = 256): number {
    const t = this.task(task);
    let done = 0;
    try {
      // 8 MiB mappings: each passes the heuristic overcommit check on its own, as a program's mallocs would.
      for (let left = bytes; left > 0 && !t.exited; left -= PIECE) {
        const len = Math.min(PIECE, left);
        const a = t.mmap(0, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (a < 0) {
          this.failure = `mmap() of ${len >> 20} MiB returned ${a} (ENOMEM)`;
          break;
        }
        for (let off = 0; off < len; off += 4096) {
          if (t.exited) break;
          t.write8(a + off, ((off >>> 12) & 0xff) | 1);
          done++;
          if (done % every === 0) this.sample();
        }
      }
    } catch (e) {
      this.failure = (e as Error).message;
    }
    this.sample();
    return done;
  }

  /** write() `bytes` to a new file in 64 KiB pieces (each page dirtied in the page cache). */
  writeFile(task: string, path: string, bytes: number, fill = 0x77): number {
    const t = this.task(task);
    const buf = this.bufs.get(task)!;
    t.writeBytes(buf, new Uint8Array(1 << 16).fill(fill));
    this.k.fs.writeFile(path, new Uint8Array(0));
    const fd = t.open(path, O_RDWR);
    if (fd < 0) throw new Error(`open ${path}: error ${-fd}`);
    let total = 0;
    while (total < bytes) {
      const n = t.write(fd, buf, Math.min(1 << 16, bytes - total));
      if (n <= 0) break;
      total += n;
    }
    t.close(fd);
    this.sample();
    return total;
  }

  /** A /proc/meminfo field in kB (-1 when it is not there). */
  meminfo(field: string): number {
    const m = new RegExp(`^${field.replace(/[()]/g, '\\$&')}:\\s+(\\d+) kB`, 'm').exec(this.k.proc.read('/proc/meminfo'));
    return m === null ? -1 : Number(m[1]);
  }

  /** Does this kmem write dirty pages back on its own (the flusher on the virtual clock, sync())? */
  get hasWriteback(): boolean {
    return typeof (this.k as unknown as { sync?: unknown }).sync === 'function';
  }

  /** Let virtual time pass (the flusher and the disk's completions run on the way), sampling each second. */
  sleep(seconds: number): void {
    for (let i = 0; i < seconds; i++) {
      this.k.tick(1e9);
      this.sample();
    }
  }

  /** sync(2) */
  sync(): void {
    (this.k as unknown as { sync(): void }).sync();
    this.sample();
  }

  sample(): void {
    const z = this.k.inspect.zones().find((x) => x.zone === this.zone)!;
    const r = this.k.inspect.reclaim();
    this.samples.push({
      step: this.step,
      free: z.free,
      kswapdRuns: r?.kswapdRuns ?? 0,
      pgsteal: r === null ? 0 : r.pgstealKswapd + r.pgstealDirect,
      lists: this.k.inspect.lruLists(0).map((l) => l.count),
    });
  }

  reclaim(): ReclaimSnapshot {
    return this.k.inspect.reclaim()!;
  }

  /** The dmesg lines that match. */
  dmesgLines(re: RegExp): string[] {
    return this.k.dmesg().filter((l) => re.test(l));
  }

  /** The kernel's OOM report: from the "invoked oom-killer" line to the "Killed process" line (the last report). */
  oomReport(): string[] {
    const d = this.k.dmesg();
    let from = -1;
    for (let i = d.length - 1; i >= 0; i--) {
      if (/invoked oom-killer/.test(d[i]!)) {
        from = i;
        break;
      }
    }
    if (from < 0) return d.filter((l) => /Out of memory|Killed process|oom-kill/.test(l));
    return d.slice(from).filter((l, i, all) => i <= all.findIndex((x) => /Killed process/.test(x)) || /oom_reaper/.test(l));
  }
}

export interface PressureStep {
  run: (lab: PressureLab) => void;
  text: (lab: PressureLab) => string;
}

export interface PressureScenario {
  id: string;
  title: string;
  about: string;
  config: PressureConfig;
  /** Only where this kmem writes dirty pages back on its own (the flusher, sync()). */
  needsWriteback?: boolean;
  steps: PressureStep[];
}

const KiB = 1024;
const MiB = 1024 * 1024;

function fileLine(lab: PressureLab, path: string): string {
  const f = lab.k.inspect.pageCache().find((x) => x.path === path);
  if (f === undefined) return `${path} has no page in the cache`;
  const referenced = Array.from(f.bits).filter((b) => (b & 1) !== 0).length;
  return `${path}: ${f.nrpages} pages cached, ${f.active} active, ${referenced} referenced, ${f.dirty} dirty`;
}

export const PRESSURE_SCENARIOS: PressureScenario[] = [
  {
    id: 'read-twice',
    title: 'A file read twice',
    about:
      'the page cache’s two-touch rule: one read leaves a file’s pages inactive and referenced, a second read activates them, and active pages outlive a stream',
    config: { memory: '64M', swap: '' },
    steps: [
      {
        run: (lab) => {
          lab.spawn('reader');
          lab.focusIno = lab.makeFile('/data/notes', 64 * KiB);
          lab.readFile('reader', '/data/notes');
        },
        text: (lab) =>
          `read() of /data/notes (64 KiB) missed the page cache: readahead allocated its 16 pages, added them to the inactive file list (folio_add_lru, at the head) and folio_mark_accessed() set PG_referenced on each as read() copied it. ${fileLine(lab, '/data/notes')}. One touch is not enough to be promoted.`,
      },
      {
        run: (lab) => lab.readFile('reader', '/data/notes'),
        text: (lab) =>
          `The second read() found every page cached (no I/O) and folio_mark_accessed() saw PG_referenced already set on an inactive page: folio_activate() moved each to the head of the active file list and cleared PG_referenced (/proc/vmstat pgactivate is now ${lab.reclaim().pgactivate}). ${fileLine(lab, '/data/notes')}.`,
      },
      {
        run: (lab) => {
          lab.makeFile('/data/stream', 72 * MiB, 0x62);
          lab.readFile('reader', '/data/stream');
        },
        text: (lab) => {
          const r = lab.reclaim();
          return `A 72 MiB file streamed through read(), more than the machine’s RAM: its pages filled the inactive file list, free pages fell to the low watermark and kswapd woke (${r.kswapdRuns} runs so far), reclaiming from the inactive list’s tail (pgsteal_kswapd ${r.pgstealKswapd}). The active list is only aged when the inactive one is too small next to it (inactive_is_low), so /data/notes survived: ${fileLine(lab, '/data/notes')}.`;
        },
      },
    ],
  },
  {
    id: 'writeback',
    title: 'Dirty pages written back',
    about: 'write() only dirties pages in the page cache; the flusher writes them to disk once they are 30 s old, and sync() at once',
    config: { memory: '64M', swap: '' },
    needsWriteback: true,
    steps: [
      {
        run: (lab) => {
          lab.spawn('editor');
          lab.writeFile('editor', '/data/draft', 2 * MiB);
          lab.focusIno = lab.k.fs.lookup('/data/draft')!.ino;
        },
        text: (lab) =>
          `editor wrote 2 MiB to /data/draft: write() copied the bytes into new page-cache pages and marked each dirty (PG_dirty, the xarray's PAGECACHE_TAG_DIRTY); nothing went to the disk. ${fileLine(lab, '/data/draft')}; /proc/meminfo Dirty: ${lab.meminfo('Dirty')} kB, well under the background threshold (dirty_background_ratio 10% of available memory), so nothing hurries the flusher.`,
      },
      {
        run: (lab) => lab.sleep(10),
        text: (lab) =>
          `10 s of virtual time passed. The flusher thread woke every 5 s (dirty_writeback_centisecs 500) and looked for inodes dirtied more than 30 s ago (dirty_expire_centisecs 3000): none yet, so ${fileLine(lab, '/data/draft')}; Dirty: ${lab.meminfo('Dirty')} kB.`,
      },
      {
        run: (lab) => lab.sleep(25),
        text: (lab) =>
          `25 s more: at its first wake-up after the pages turned 30 s old, the flusher's periodic writeback (wb_check_old_data_flush) wrote /data/draft out: each page went from dirty to writeback to clean as the disk completed it. ${fileLine(lab, '/data/draft')}; Dirty: ${lab.meminfo('Dirty')} kB, Writeback: ${lab.meminfo('Writeback')} kB. Clean pages are the cheapest to reclaim: dropped without I/O.`,
      },
      {
        run: (lab) => {
          lab.writeFile('editor', '/data/draft2', 1 * MiB, 0x78);
          lab.focusIno = lab.k.fs.lookup('/data/draft2')!.ino;
          lab.sync();
        },
        text: (lab) =>
          `editor wrote 1 MiB more to /data/draft2 and called sync(): every dirty page of every file was written at once and sync() returned when the disk had completed them. ${fileLine(lab, '/data/draft2')}; Dirty: ${lab.meminfo('Dirty')} kB.`,
      },
    ],
  },
  {
    id: 'memory-runs-out',
    title: 'Memory runs out: reclaim, swap, OOM',
    about:
      'the page cache is reclaimed for anonymous memory, anonymous pages go to swap when there is swap, and when nothing is left the OOM killer picks a victim',
    config: { memory: '64M', swap: '32M' },
    steps: [
      {
        run: (lab) => {
          lab.spawn('cat');
          lab.makeFile('/data/log', 80 * MiB, 0x63);
          lab.readFile('cat', '/data/log');
        },
        text: (lab) => {
          const r = lab.reclaim();
          return `cat read an 80 MiB log: the page cache filled RAM; each time no zone was above its low watermark the allocator woke kswapd, which reclaimed clean file pages from the inactive list’s tail until a zone was above high (${r.kswapdRuns} runs, pgscan_kswapd ${r.pgscanKswapd}, pgsteal_kswapd ${r.pgstealKswapd}). The free pages saw-tooth between low and high.`;
        },
      },
      {
        run: (lab) => {
          lab.spawn('hog');
          lab.touchAnon('hog', 40 * MiB);
        },
        text: (lab) => {
          const lists = lab.k.inspect.lruLists(0);
          return `hog mapped 40 MiB of anonymous memory and wrote to every page: each first touch allocated a page for the inactive anon list, and reclaim made room by taking the page cache (file lists now ${lists[2]!.count + lists[3]!.count} pages, anon ${lists[0]!.count + lists[1]!.count}). ${lab.hasSwap ? 'With swap, anonymous pages can be reclaimed too.' : 'Without swap, anonymous pages cannot be reclaimed at all: get_scan_count() scans the file lists only.'}`;
        },
      },
      {
        run: (lab) => {
          lab.touchAnon('hog', 24 * MiB);
        },
        text: (lab) => {
          const [total, used] = lab.swapUsage();
          const ooms = lab.oomReport();
          if (ooms.length > 0)
            return `hog asked for 24 MiB more, past what RAM can hold: ${lab.hasSwap ? `swap filled (${used} of ${total} slots)` : 'there is no swap'}, reclaim found nothing left, and the OOM killer ran: “${ooms.find((l) => /Killed process/.test(l)) ?? ooms[0]}”.`;
          if (lab.hasSwap)
            return `hog asked for 24 MiB more than RAM could hold beside it: reclaim now scans the anon lists too (swappiness 60), writes the oldest anonymous pages to swap (add_to_swap, pageout) and frees them; ${used} of ${total} swap slots are in use.`;
          return `hog asked for 24 MiB more: ${lab.failure ? `the fault failed (${lab.failure})` : 'reclaim kept up'}.`;
        },
      },
      {
        run: (lab) => {
          lab.touchAnon('hog', 64 * MiB);
        },
        text: (lab) => {
          const ooms = lab.oomReport();
          const killed = ooms.find((l) => /Killed process/.test(l));
          if (killed !== undefined)
            return `hog kept going. Reclaim could free nothing more (${lab.hasSwap ? 'swap is full' : 'no swap'}; the file cache is down to what is mapped), so the allocator’s slow path called out_of_memory(): the kernel logged its report and “${killed}”. The victim’s memory went back to the free lists.`;
          return `hog kept going until an allocation failed: ${lab.failure || 'it did not fail'}.`;
        },
      },
    ],
  },
];

export function pressureScenarioById(id: string): PressureScenario | undefined {
  return PRESSURE_SCENARIOS.find((s) => s.id === id);
}
