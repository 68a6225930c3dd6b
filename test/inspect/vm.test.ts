/** The Inspector's view of processes: tasks, VMAs, page states, layout, the page-table walk. */
import { describe, expect, it } from 'vitest';
import { UPAGE_FILE, UPAGE_NONE, UPAGE_PRIVATE, UPAGE_SHARED_COW, UPAGE_ZERO } from '../../src/inspect.js';
import { boot } from '../../src/kernel.js';
import { DEMO_DATA, DEMO_PATH, DEMO_TEXT, demoElf } from '../../web/model/elf.js';

const PROT_RW = 3;
const MAP_PRIVATE_ANON = 0x22;

function machine() {
  const k = boot({ memory: '64M', cpus: 2, seed: 1, aslr: 0 });
  k.fs.writeFile(DEMO_PATH, demoElf());
  return k;
}

/** The PFN field of a /proc/PID/pagemap entry (bits 0-54). */
const pagemapPfn = (e: bigint) => Number(e & ((1n << 55n) - 1n));

describe('k.inspect: processes', () => {
  it('does not create the vm half of a machine that has none', () => {
    const k = boot({ memory: '64M', cpus: 1, seed: 1 });
    const free = k.inspect.zones().reduce((n, z) => n + z.free, 0);
    expect(k.inspect.processes()).toEqual([]);
    expect(k.inspect.zeroPagePfn()).toBe(-1);
    expect(k.inspect.vmas(1)).toEqual([]);
    expect(k.inspect.walk(1, 0x1000)).toBeNull();
    expect(k.inspect.zones().reduce((n, z) => n + z.free, 0)).toBe(free);
  });

  it('lists init and the spawned task with its parent', () => {
    const k = machine();
    const t = k.spawn(DEMO_PATH, ['demo']);
    // Until the Kernel hands the Inspector its vm half, the first Task passed in introduces it.
    k.inspect.vmas(t);
    const ps = k.inspect.processes();
    expect(ps.map((p) => [p.pid, p.comm, p.ppid])).toEqual([
      [1, 'init', 0],
      [t.pid, 'demo', 1],
    ]);
  });

  it('names the VMAs as /proc/PID/maps does', () => {
    const k = machine();
    const t = k.spawn(DEMO_PATH, ['demo']);
    t.brk(t.brk(0) + 0x2000);
    const vmas = k.inspect.vmas(t);
    const maps = k.proc.read(`/proc/${t.pid}/maps`).trim().split('\n');
    // every line of maps but the vsyscall page, in order, with the same bounds, perms and name
    const lines = maps.filter((l) => !l.includes('[vsyscall]'));
    expect(vmas.length).toBe(lines.length);
    vmas.forEach((v, i) => {
      const f = lines[i]!.split(/\s+/);
      expect(`${v.start.toString(16).padStart(8, '0')}-${v.end.toString(16).padStart(8, '0')}`).toBe(f[0]);
      expect(v.perms).toBe(f[1]);
      expect(v.name).toBe(f[5] ?? '');
    });
    expect(vmas[0]).toMatchObject({ start: DEMO_TEXT, perms: 'r-xp', name: DEMO_PATH, pgoff: 1 });
    expect(vmas.map((v) => v.name)).toEqual(expect.arrayContaining(['[heap]', '[stack]', '[vvar]', '[vdso]']));
  });

  it('a read of untouched anonymous memory maps the zero page; a write, a private page', () => {
    const k = machine();
    const t = k.spawn(DEMO_PATH, ['demo']);
    const a = t.mmap(0, 3 * 4096, PROT_RW, MAP_PRIVATE_ANON, -1, 0);
    expect(Array.from(k.inspect.userPages(t, a, a + 3 * 4096))).toEqual([UPAGE_NONE, UPAGE_NONE, UPAGE_NONE]);
    expect(t.read8(a)).toBe(0);
    t.write8(a + 4096 + 5, 9);
    expect(Array.from(k.inspect.userPages(t, a, a + 3 * 4096))).toEqual([UPAGE_ZERO, UPAGE_PRIVATE, UPAGE_NONE]);
    // an unaligned range counts every page it touches
    expect(Array.from(k.inspect.userPages(t, a + 4095, a + 4097))).toEqual([UPAGE_ZERO, UPAGE_PRIVATE]);
    // copies: changing a result changes nothing, and a later fault changes no earlier result
    const before = k.inspect.userPages(t, a, a + 3 * 4096);
    const vmas = k.inspect.vmas(t);
    vmas[0]!.start = 0;
    before[0] = UPAGE_FILE;
    t.write8(a + 2 * 4096, 1);
    expect(before[2]).toBe(UPAGE_NONE);
    expect(k.inspect.vmas(t)[0]!.start).toBe(DEMO_TEXT);
    expect(k.inspect.userPages(t, a, a + 4096)[0]).toBe(UPAGE_ZERO);
    // the zero page is what the walk finds too
    const w = k.inspect.walk(t, a + 17)!;
    expect(w.levels.at(-1)!.pfn).toBe(k.inspect.zeroPagePfn());
    expect(w.levels.at(-1)!.bits).not.toContain('rw');
    // the text is file-backed once read
    t.read8(DEMO_TEXT);
    expect(k.inspect.userPages(t, DEMO_TEXT, DEMO_TEXT + 4096)[0]).toBe(UPAGE_FILE);
  });

  it('after fork and a write by the child, the child page is private and the parent no longer shares it', () => {
    const k = machine();
    const p = k.spawn(DEMO_PATH, ['demo']);
    const a = p.mmap(0, 4096, PROT_RW, MAP_PRIVATE_ANON, -1, 0);
    p.write32(a, 0x11223344);
    const c = p.fork();
    expect(k.inspect.userPages(p, a, a + 4096)[0]).toBe(UPAGE_SHARED_COW);
    expect(k.inspect.userPages(c, a, a + 4096)[0]).toBe(UPAGE_SHARED_COW);
    expect(k.inspect.walk(p, a)!.levels[3]!.bits).not.toContain('rw');
    c.write32(a, 0x55667788);
    expect(k.inspect.userPages(c, a, a + 4096)[0]).toBe(UPAGE_PRIVATE);
    expect(k.inspect.userPages(p, a, a + 4096)[0]).toBe(UPAGE_PRIVATE);
    const pw = k.inspect.walk(p, a)!;
    const cw = k.inspect.walk(c, a)!;
    expect(pw.levels[3]!.pfn).not.toBe(cw.levels[3]!.pfn);
    expect(pw.byte).toBe(0x44);
    expect(cw.byte).toBe(0x88);
    expect(k.inspect.processes().find((x) => x.pid === c.pid)!.ppid).toBe(p.pid);
  });

  it('walks CR3 -> PGD -> PUD -> PMD -> PTE to the byte a load reads', () => {
    const k = machine();
    const t = k.spawn(DEMO_PATH, ['demo']);
    const a = t.mmap(0, 4096, PROT_RW, MAP_PRIVATE_ANON, -1, 0);
    t.write8(a + 0x123, 0xab);
    const w = k.inspect.walk(t, a + 0x123)!;
    expect(w.levels.map((l) => l.level)).toEqual(['PGD', 'PUD', 'PMD', 'PTE']);
    expect(w.levels[0]!.table).toBe(w.cr3);
    const idx = [39, 30, 21, 12].map((s) => Math.floor((a + 0x123) / 2 ** s) & 511);
    expect(w.levels.map((l) => l.index)).toEqual(idx);
    // each level's entry names the next level's table
    for (let i = 0; i < 3; i++) expect(w.levels[i]!.pfn * 4096).toBe(w.levels[i + 1]!.table);
    const pte = w.levels[3]!;
    expect(pte.bits).toEqual(expect.arrayContaining(['present', 'rw', 'user', 'accessed', 'dirty']));
    expect(pte.bits).toContain('nx');
    expect(Number(pte.entry & 7n)).toBe(7);
    const pfn = pagemapPfn(t.pagemap(a, 1)[0]!);
    expect(pte.pfn).toBe(pfn);
    expect(w.phys).toBe(pfn * 4096 + 0x123);
    expect(w.byte).toBe(0xab);
    expect(w.byte).toBe(t.read8(a + 0x123));
    // a copy: changing the result changes nothing
    w.levels[3]!.bits.length = 0;
    expect(k.inspect.walk(t, a + 0x123)!.levels[3]!.bits).toContain('present');
  });

  it('an unmapped address ends the walk at the first missing table', () => {
    const k = machine();
    const t = k.spawn(DEMO_PATH, ['demo']);
    const w = k.inspect.walk(t, 0x100000000000)!;
    expect(w.levels.length).toBe(1);
    expect(w.levels[0]!.present).toBe(false);
    expect(w.phys).toBe(-1);
    expect(w.byte).toBe(-1);
  });

  it('gives the layout and its random offsets', () => {
    const k = machine();
    const t = k.spawn(DEMO_PATH, ['demo']);
    const l = k.inspect.layout(t)!;
    expect(l.startCode).toBe(DEMO_TEXT);
    expect(l.startData).toBe(DEMO_DATA);
    expect(l.randomized).toBe(false);
    expect(l.stackRnd).toBe(0);
    expect(l.mmapRnd).toBe(0);
    expect(l.stackTop).toBe(0x7ffffffff000);
    // mmap_base = TASK_SIZE - (8 MiB rlimit + 1 MiB guard gap), clamped up to 128 MiB
    expect(l.mmapBase).toBe(0x7ffffffff000 - 128 * 1024 * 1024);
    expect(l.pieBase).toBeNull();
    expect(l.startBrk).toBe(0x406000);
  });

  it('gives the random offsets execve chose with randomize_va_space 2', () => {
    const k = machine();
    const first = k.spawn(DEMO_PATH, ['demo']);
    // The boot option does not reach the vm half yet: set randomize_va_space as sysctl would.
    first.vm.aslr = 2;
    const t = k.spawn(DEMO_PATH, ['demo']);
    const l = k.inspect.layout(t)!;
    expect(l.randomized).toBe(true);
    const stack = k.inspect.vmas(t).find((v) => v.name === '[stack]')!;
    expect(l.stackTop).toBe(stack.end);
    expect(l.stackRnd).toBe(0x7ffffffff000 - stack.end);
    expect(l.stackRnd).toBeGreaterThan(0);
    // mmap_base = PAGE_ALIGN(TASK_SIZE - gap - rnd), gap = 8 MiB rlimit + 1 MiB guard + STACK_RND_MASK pages
    const gap = 8 * 2 ** 20 + 2 ** 20 + 0x3fffff * 4096;
    expect(l.mmapBase + l.mmapRnd).toBe(0x7ffffffff000 - gap);
    expect(l.mmapRnd % 4096).toBe(0);
    // the vdso sits below mmap_base, the brk a random distance above the bss
    expect(k.inspect.vmas(t).find((v) => v.name === '[vdso]')!.end).toBeLessThanOrEqual(l.mmapBase);
    expect(l.startBrk).toBeGreaterThanOrEqual(0x406000);
  });

  it('refuses a task of another machine and an address past user space', () => {
    const k = machine();
    const other = machine();
    const t = other.spawn(DEMO_PATH, ['demo']);
    expect(() => k.inspect.vmas(t)).toThrow(RangeError);
    const mine = k.spawn(DEMO_PATH, ['demo']);
    expect(() => k.inspect.walk(mine, 2 ** 48)).toThrow(RangeError);
    expect(() => k.inspect.walk(mine, -1)).toThrow(RangeError);
  });
});
