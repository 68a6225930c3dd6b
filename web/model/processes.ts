/**
 * The process view's model: a small machine of its own whose processes the
 * guided scenarios drive through real Task calls (mmap, loads and stores,
 * fork, exit), and the address space laid out to scale for drawing.
 *
 * It reads the machine only through k.inspect and the public API.
 */
import { boot, type Kernel } from '../../src/index.js';
import type { LayoutSnapshot, PageWalk, VmaSnapshot } from '../../src/inspect.js';
import { DEMO_DATA, DEMO_PATH, DEMO_TEXT, demoElf } from './elf.js';

/** A process, as k.spawn() and Task.fork() give it. */
export type VmTask = ReturnType<Kernel['spawn']>;

export const PROT_READ = 1;
export const PROT_WRITE = 2;
export const MAP_PRIVATE = 0x02;
export const MAP_ANONYMOUS = 0x20;

/** What a scenario step can use: the machine, its tasks by name, and where to look. */
export class ProcLab {
  readonly k: Kernel;
  readonly tasks = new Map<string, VmTask>();
  /** The task the map shows. */
  shown: VmTask | null = null;
  /** The address whose page is picked (the walk's address), or -1. */
  pick = -1;
  /** Addresses a step names, by name (the mapping a scenario made, say). */
  readonly addrs = new Map<string, number>();
  /** A segfault a step caught: its message. */
  fault = '';

  constructor(seed = 1) {
    this.k = boot({ memory: '64M', cpus: 1, seed });
    this.k.fs.writeFile(DEMO_PATH, demoElf());
  }

  spawn(name: string): VmTask {
    const t = this.k.spawn(DEMO_PATH, [name]);
    this.tasks.set(name, t);
    this.shown = t;
    return t;
  }

  task(name: string): VmTask {
    const t = this.tasks.get(name);
    if (t === undefined) throw new Error(`no task ${name}`);
    return t;
  }

  addr(name: string): number {
    const a = this.addrs.get(name);
    if (a === undefined) throw new Error(`no address ${name}`);
    return a;
  }

  vmas(t: VmTask | null = this.shown): VmaSnapshot[] {
    return t === null ? [] : this.k.inspect.vmas(t);
  }

  vmaAt(t: VmTask, va: number): VmaSnapshot | undefined {
    return this.vmas(t).find((v) => v.start <= va && va < v.end);
  }

  walk(t: VmTask | null = this.shown, va = this.pick): PageWalk | null {
    return t === null || va < 0 ? null : this.k.inspect.walk(t, va);
  }

  /** The last dmesg lines that match. */
  dmesgLines(re: RegExp): string[] {
    return this.k.dmesg().filter((l) => re.test(l));
  }
}

export interface ProcStep {
  /** Real Task calls. */
  run: (lab: ProcLab) => void;
  /** The sentence, written after the step ran. */
  text: (lab: ProcLab) => string;
}

export interface ProcScenario {
  id: string;
  title: string;
  about: string;
  steps: ProcStep[];
}

export const hexa = (a: number): string => `0x${a.toString(16)}`;
const pageState = (lab: ProcLab, t: VmTask, va: number): number => lab.k.inspect.userPages(t, va, va + 4096)[0]!;
const pfnOf = (lab: ProcLab, t: VmTask, va: number): number => lab.k.inspect.walk(t, va)?.levels[3]?.pfn ?? -1;
const stateName = ['not present', 'the zero page', 'a private anonymous page', 'a shared copy-on-write page', 'a file page'];

export const PROC_SCENARIOS: ProcScenario[] = [
  {
    id: 'first-touch',
    title: 'First touch of a page',
    about: 'mmap gives addresses, not memory: the first read maps the shared zero page, the first write a fresh page of its own.',
    steps: [
      {
        run: (lab) => {
          const t = lab.spawn('demo');
          t.brk(t.brk(0) + 2 * 4096);
          const a = t.mmap(0, 4 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
          lab.addrs.set('a', a);
          lab.pick = a;
        },
        text: (lab) => {
          const t = lab.task('demo');
          const a = lab.addr('a');
          return `execve loaded ${DEMO_PATH} into pid ${t.pid} (text at ${hexa(DEMO_TEXT)}, data at ${hexa(DEMO_DATA)}, bss after it); brk() grew the heap to ${hexa(t.brk(0))}; mmap(NULL, 16 KiB, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS) returned ${hexa(a)}, placed top-down below mmap_base. The VMA exists, but its 4 pages are ${stateName[pageState(lab, t, a)]}: no page table entry yet (RSS ${lab.k.inspect.processes().find((p) => p.pid === t.pid)?.rss ?? 0} pages).`;
        },
      },
      {
        run: (lab) => {
          lab.task('demo').read8(lab.addr('a'));
          lab.pick = lab.addr('a');
        },
        text: (lab) => {
          const t = lab.task('demo');
          const a = lab.addr('a');
          return `read8(${hexa(a)}) faulted (minflt ${t.minFlt}): do_anonymous_page() saw a read and mapped the shared zero page (pfn ${pfnOf(lab, t, a)}) read-only: the page is now ${stateName[pageState(lab, t, a)]}, and RSS did not grow. Click the page to walk the tables.`;
        },
      },
      {
        run: (lab) => {
          lab.task('demo').write8(lab.addr('a') + 4096, 0x2a);
          lab.pick = lab.addr('a') + 4096;
        },
        text: (lab) => {
          const t = lab.task('demo');
          const b = lab.addr('a') + 4096;
          return `write8(${hexa(b)}, 0x2a) faulted: a write gets a newly allocated zeroed page (pfn ${pfnOf(lab, t, b)}), mapped present|rw|user; the page is ${stateName[pageState(lab, t, b)]}. The walk below ends at the byte the store wrote.`;
        },
      },
    ],
  },
  {
    id: 'fork-cow',
    title: 'Fork and copy-on-write',
    about: 'fork copies page tables, not pages: both processes share each private page read-only until one writes.',
    steps: [
      {
        run: (lab) => {
          const t = lab.spawn('parent');
          const a = t.mmap(0, 2 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
          t.write32(a, 0x11111111);
          t.write32(a + 4096, 0x22222222);
          lab.addrs.set('a', a);
          lab.pick = a;
        },
        text: (lab) => {
          const t = lab.task('parent');
          const a = lab.addr('a');
          return `pid ${t.pid} mapped two anonymous pages at ${hexa(a)} and wrote to both: each is ${stateName[pageState(lab, t, a)]} (pfn ${pfnOf(lab, t, a)} and ${pfnOf(lab, t, a + 4096)}).`;
        },
      },
      {
        run: (lab) => {
          const c = lab.task('parent').fork();
          lab.tasks.set('child', c);
          lab.shown = c;
        },
        text: (lab) => {
          const p = lab.task('parent');
          const c = lab.task('child');
          const a = lab.addr('a');
          return `fork(): dup_mmap() copied the VMAs and the page tables of pid ${p.pid} into pid ${c.pid}, write-protecting the private pages in both. Both PTEs name pfn ${pfnOf(lab, c, a)}: the page is ${stateName[pageState(lab, c, a)]}, its mapcount 2.`;
        },
      },
      {
        run: (lab) => {
          lab.task('child').write32(lab.addr('a'), 0xc0ffee);
        },
        text: (lab) => {
          const p = lab.task('parent');
          const c = lab.task('child');
          const a = lab.addr('a');
          return `The child wrote to ${hexa(a)}: a write fault on a read-only PTE, do_wp_page() copied the page to pfn ${pfnOf(lab, c, a)} for the child (now ${stateName[pageState(lab, c, a)]}); the parent keeps pfn ${pfnOf(lab, p, a)}, no longer shared (${stateName[pageState(lab, p, a)]}), its bytes unchanged (0x${p.read32(a).toString(16)}). The second page is still ${stateName[pageState(lab, c, a + 4096)]}.`;
        },
      },
      {
        run: (lab) => {
          lab.shown = lab.task('parent');
        },
        text: (lab) => {
          const p = lab.task('parent');
          const a = lab.addr('a');
          p.write32(a, 0x33333333);
          return `The parent wrote to its page too: its PTE was read-only since the fork, but the page had one mapping left, so do_wp_page() reused it in place (no copy) — pfn ${pfnOf(lab, p, a)} is ${stateName[pageState(lab, p, a)]}.`;
        },
      },
    ],
  },
  {
    id: 'stack-grows',
    title: 'The stack grows',
    about: 'A store below the stack VMA, within RLIMIT_STACK, makes the kernel extend the VMA downwards instead of killing the task.',
    steps: [
      {
        run: (lab) => {
          const t = lab.spawn('demo');
          const s = lab.vmas(t).find((v) => v.name === '[stack]')!;
          lab.addrs.set('stack', s.start);
          lab.pick = s.end - 4096;
        },
        text: (lab) => {
          const t = lab.task('demo');
          const s = lab.vmas(t).find((v) => v.name === '[stack]')!;
          return `execve set up the stack VMA [${hexa(s.start)}, ${hexa(s.end)}): ${(s.end - s.start) / 1024} KiB (setup_arg_pages: 128 KiB plus the argument pages), argv and the auxv in its top page.`;
        },
      },
      {
        run: (lab) => {
          const t = lab.task('demo');
          const va = lab.addr('stack') - 3 * 4096 + 64;
          t.write64(va, 0xdeadbeefn);
          lab.addrs.set('below', va);
          lab.pick = va;
        },
        text: (lab) => {
          const t = lab.task('demo');
          const s = lab.vmas(t).find((v) => v.name === '[stack]')!;
          const old = lab.addr('stack');
          return `write64(${hexa(lab.addr('below'))}) landed 3 pages below the stack VMA: no VMA held it, but the one above is VM_GROWSDOWN, so expand_stack() moved vm_start from ${hexa(old)} down to ${hexa(s.start)} (${(old - s.start) / 4096} pages), then the fault mapped ${stateName[pageState(lab, t, lab.addr('below'))]}.`;
        },
      },
    ],
  },
  {
    id: 'segfault',
    title: 'A segfault',
    about: 'An access no VMA allows: the fault handler finds no VMA and sends SIGSEGV.',
    steps: [
      {
        run: (lab) => {
          lab.spawn('demo');
          lab.pick = 0x10;
        },
        text: (lab) => {
          const w = lab.walk();
          const stop = w?.levels.find((l) => !l.present)?.level ?? 'PTE';
          return `pid ${lab.task('demo').pid} runs ${DEMO_PATH}. Its lowest mapping is the text at ${hexa(DEMO_TEXT)}; nothing is mapped below it (mmap_min_addr keeps the first 64 KiB out of reach). The walk of 0x10 below stops at the ${stop}: no entry there, so the MMU would raise a page fault.`;
        },
      },
      {
        run: (lab) => {
          const t = lab.task('demo');
          try {
            t.read8(0x10);
          } catch (e) {
            lab.fault = (e as Error).message;
          }
        },
        text: (lab) => {
          const line = lab.dmesgLines(/segfault at/).at(-1) ?? '';
          return `read8(0x10) (a NULL pointer plus 16) faulted; no VMA covers it, so the fault handler sent SIGSEGV and the task ${lab.task('demo').exited ? 'died: its address space is gone' : 'kept running'}. The kernel logged “${line}” (error 4: a user-mode read of a page not present).`;
        },
      },
      {
        run: (lab) => {
          const t = lab.spawn('demo2');
          t.read8(DEMO_TEXT);
          lab.pick = DEMO_TEXT;
        },
        text: (lab) =>
          `A second process (pid ${lab.task('demo2').pid}) read its text at ${hexa(DEMO_TEXT)}: the fault mapped ${stateName[pageState(lab, lab.task('demo2'), DEMO_TEXT)]} from the page cache, read-only (the PTE below has no rw bit).`,
      },
      {
        run: (lab) => {
          lab.fault = '';
          try {
            lab.task('demo2').write8(DEMO_TEXT, 0x90);
          } catch (e) {
            lab.fault = (e as Error).message;
          }
        },
        text: (lab) => {
          const line = lab.dmesgLines(/segfault at/).at(-1) ?? '';
          return `Then it wrote there: the VMA is r-x, so the write is refused too and pid ${lab.task('demo2').pid} dies: “${line}” (error 7: a user-mode write that hit a present page — a protection fault, not a missing one).`;
        },
      },
    ],
  },
];

export function procScenarioById(id: string): ProcScenario | undefined {
  return PROC_SCENARIOS.find((s) => s.id === id);
}

// ───────────────────────── the address space to scale ─────────────────────────

/** One band of the drawn address space: a VMA or the gap between two. */
export interface Band {
  kind: 'vma' | 'gap';
  start: number;
  end: number;
  vma?: VmaSnapshot;
  /** Which of Duarte's parts it is. */
  part: 'text' | 'data' | 'bss' | 'heap' | 'mmap' | 'stack' | 'special' | 'gap' | 'kernel';
  /** Pixels from the top (the top is the highest address). */
  y: number;
  h: number;
}

/** Pixels for a span of `bytes`: a log-like scale, so a 4 KiB page and a 100 TiB gap both show. */
export function bandHeight(bytes: number, kind: 'vma' | 'gap'): number {
  const pages = Math.max(1, bytes / 4096);
  return kind === 'vma' ? 18 + 5 * Math.log2(pages) : 8 + 1.6 * Math.log2(pages);
}

export function partOf(v: VmaSnapshot, l: LayoutSnapshot | null): Band['part'] {
  if (v.name === '[heap]') return 'heap';
  if (v.name === '[stack]') return 'stack';
  if (v.name.startsWith('[')) return 'special';
  if (l !== null && v.ino !== 0 && v.start <= l.startCode && l.startCode < v.end) return 'text';
  if (l !== null && v.start < l.startBrk && v.end > l.startData && v.start >= l.startCode) {
    if (v.ino !== 0) return 'data';
    return v.start >= l.endData - (l.endData % 4096) ? 'bss' : 'data';
  }
  return 'mmap';
}

/** Pixels above the first band. */
export const TOP_MARGIN = 10;

/** The bands from the top of user space (TASK_SIZE) down to 0, with their heights. */
export function layoutBands(vmas: VmaSnapshot[], l: LayoutSnapshot | null, taskSize = 0x7ffffffff000): Band[] {
  const out: Band[] = [];
  /** Room above TASK_SIZE for its mark. */
  let y = TOP_MARGIN;
  let top = taskSize;
  const sorted = [...vmas].sort((a, b) => b.start - a.start);
  const push = (b: Omit<Band, 'y' | 'h'>) => {
    const hgt = bandHeight(b.end - b.start, b.kind);
    out.push({ ...b, y, h: hgt });
    y += hgt;
  };
  for (const v of sorted) {
    if (v.end > taskSize) continue;
    if (v.end < top) push({ kind: 'gap', start: v.end, end: top, part: 'gap' });
    push({ kind: 'vma', start: v.start, end: v.end, vma: v, part: partOf(v, l) });
    top = v.start;
  }
  if (top > 0) push({ kind: 'gap', start: 0, end: top, part: 'gap' });
  return out;
}

/** The y of an address inside the bands (interpolated within its band, log-like inside gaps). */
export function yOf(bands: Band[], va: number): number {
  for (const b of bands) {
    if (va >= b.start && va <= b.end) {
      const f = b.end === b.start ? 0 : (b.end - va) / (b.end - b.start);
      return b.y + f * b.h;
    }
  }
  return bands.length === 0 ? 0 : bands[bands.length - 1]!.y + bands[bands.length - 1]!.h;
}

/** Human size: 4 KiB, 128 MiB, 127 TiB. */
export function sizeStr(bytes: number): string {
  const u = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  let v = bytes;
  while (v >= 1024 && i < u.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v >= 100 || Number.isInteger(v) ? Math.round(v) : v.toFixed(1)} ${u[i]}`;
}
