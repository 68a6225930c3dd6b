/**
 * The stacks behind KASAN's and slub_debug's tracks thousands of saves after
 * they were recorded (lib/stackdepot.ts keeps them unformatted in a table
 * that starts at 1024 entries and grows up to its budget): a track saved
 * thousands of allocations before the report still prints its own caller's
 * functions. And kasanStacks:
 * 'sampled' (1 allocation in N keeps its stacks and its free's): what the
 * reports print for the sampled objects and for the others.
 *
 * Expectations are the kernel's describe_object_stacks()/print_track()
 * output: "Allocated by task <pid>:", the frames, a blank line (KASAN);
 * "Allocated in <caller> age=.. cpu=.. pid=.." then the frames (SLUB).
 */
import { describe, expect, it } from 'vitest';
import { boot, GFP_KERNEL, type Kernel } from '../../src/index.js';

/** The function of a stack line (" fn (file:line)"). */
const fnOf = (line: string | undefined) => line?.trim().split(' ')[0];

const NOT_SAMPLED_4 = "(stack is not available: not sampled, kasanStacks 'sampled' keeps 1 allocation in 4)";

function allocVictim(k: Kernel): number {
  return k.kmalloc(200, GFP_KERNEL);
}
function freeVictim(k: Kernel, p: number): void {
  k.kfree(p);
}
/** Allocations and frees in between, from a function of their own (another cache than the victim's). */
function churn(k: Kernel, n: number): void {
  for (let i = 0; i < n; i++) k.kfree(k.kmalloc(64, GFP_KERNEL));
}
function outerTest(k: Kernel): number {
  return allocVictim(k);
}

describe('stacks after the depot ring has wrapped', () => {
  it('KASAN: a use-after-free of an object allocated 5000 allocations earlier prints its own alloc and free stacks', () => {
    // 256M: the quarantine (RAM / 32, less 1 MiB per CPU) keeps the victim freed through 5000 more frees of 64 bytes.
    const k = boot({ memory: '256M', cpus: 2, kasan: 'generic', kasanMultiShot: true });
    const p = outerTest(k);
    churn(k, 5000);
    freeVictim(k, p);
    churn(k, 5000);
    k.mem.read8(p + 8);
    const r = k.kasan!.reports().at(-1)!;
    expect(r.bugType).toBe('slab-use-after-free');
    expect(fnOf(r.alloc?.stack[0])).toBe('allocVictim');
    expect(fnOf(r.alloc?.stack[1])).toBe('outerTest');
    expect(fnOf(r.free?.stack[0])).toBe('freeVictim');
    expect(r.alloc!.stack.some((l) => l.includes('churn'))).toBe(false);
    // describe_object_stacks(): each track, its frames, a blank line.
    const at = r.lines.indexOf('Allocated by task 1:');
    expect(at).toBeGreaterThan(0);
    expect(r.lines[at + 1]).toMatch(/^ allocVictim \(test\/kasan\/stacks_sampled\.test\.ts:\d+\)$/);
    const freed = r.lines.indexOf('Freed by task 1:');
    expect(freed).toBe(at + 1 + r.alloc!.stack.length + 1);
    expect(r.lines[freed + 1]).toMatch(/^ freeVictim \(test\/kasan\/stacks_sampled\.test\.ts:\d+\)$/);
    expect(r.lines[freed + 1 + r.free!.stack.length]).toBe('');
  });

  it('slub_debug U: the tracks of a double free 5000 allocations later name the allocating and freeing functions', () => {
    const k = boot({ memory: '128M', cpus: 2, slubDebug: 'FZPU' });
    const p = outerTest(k);
    k.kmalloc(200, GFP_KERNEL); // keeps the slab in use: the double free is then "Object already free"
    freeVictim(k, p);
    churn(k, 5000);
    const from = k.dmesg().length;
    freeVictim(k, p); // Object already free
    const lines = k
      .dmesg()
      .slice(from)
      .flatMap((l) => l.replace(/^\[[ \d.]+\] /, '').split('\n'));
    expect(lines).toContain('BUG kmalloc-256 (Not tainted): Object already free');
    const a = lines.findIndex((l) => l.startsWith('Allocated in '));
    expect(lines[a]).toMatch(/^Allocated in allocVictim \(test\/kasan\/stacks_sampled\.test\.ts:\d+\) age=\d+ cpu=0 pid=1$/);
    expect(fnOf(lines[a + 1])).toBe('allocVictim');
    expect(fnOf(lines[a + 2])).toBe('outerTest');
    const f = lines.findIndex((l) => l.startsWith('Freed in '));
    expect(lines[f]).toMatch(/^Freed in freeVictim \(test\/kasan\/stacks_sampled\.test\.ts:\d+\) age=\d+ cpu=0 pid=1$/);
  });
});

describe("kasanStacks: 'sampled'", () => {
  function sampledMachine(): Kernel {
    return boot({ memory: '64M', cpus: 2, kasan: 'generic', kasanMultiShot: true, kasanStacks: 'sampled', kasanStackSample: 4 });
  }
  function sampledAlloc(k: Kernel): number {
    return k.kmalloc(40, GFP_KERNEL);
  }
  function sampledFree(k: Kernel, p: number): void {
    k.kfree(p);
  }

  it('keeps the stacks of 1 allocation in 4, and of its free; the others print that they were not sampled', () => {
    const k = sampledMachine();
    const ps: number[] = [];
    for (let i = 0; i < 12; i++) ps.push(sampledAlloc(k));
    for (const p of ps) sampledFree(k, p);
    const sampled: number[] = [];
    ps.forEach((p, i) => {
      k.mem.read8(p);
      const r = k.kasan!.reports().at(-1)!;
      expect(r.bugType).toBe('slab-use-after-free');
      const a = r.lines.indexOf('Allocated by task 1:');
      const f = r.lines.indexOf('Freed by task 1:');
      expect(a).toBeGreaterThan(0);
      expect(f).toBeGreaterThan(a);
      if (r.alloc!.stack[0] === NOT_SAMPLED_4) {
        // print_track() with no frames, then the blank line; the free was not sampled either.
        expect(r.lines.slice(a, a + 3)).toEqual(['Allocated by task 1:', NOT_SAMPLED_4, '']);
        expect(r.lines.slice(f, f + 3)).toEqual(['Freed by task 1:', NOT_SAMPLED_4, '']);
      } else {
        sampled.push(i);
        expect(fnOf(r.alloc!.stack[0])).toBe('sampledAlloc');
        expect(fnOf(r.free!.stack[0])).toBe('sampledFree');
        expect(r.lines[a + 1]).toMatch(/^ sampledAlloc \(test\/kasan\/stacks_sampled\.test\.ts:\d+\)$/);
      }
    });
    // Every fourth allocation, wherever the count stood when the test began.
    expect(sampled.length).toBe(3);
    expect(sampled[1]! - sampled[0]!).toBe(4);
    expect(sampled[2]! - sampled[1]!).toBe(4);
  });

  it("kasanStacks: 'off' (kasan.stacktrace=off) prints no track at all, as the kernel does for a track without a stack", () => {
    const k = boot({ memory: '64M', cpus: 2, kasan: 'generic', kasanStacks: 'off' });
    const p = sampledAlloc(k);
    sampledFree(k, p);
    k.mem.read8(p);
    const r = k.kasan!.reports().at(-1)!;
    expect(r.bugType).toBe('slab-use-after-free');
    expect(r.lines.some((l) => l.startsWith('Allocated by task') || l.startsWith('Freed by task'))).toBe(false);
    expect(r.alloc ?? null).toBeNull();
  });

  it('bad options are errors that name the option', () => {
    expect(() => boot({ kasan: 'generic', kasanStacks: 'some' as never })).toThrow(/^kasanStacks: expected 'on', 'off', 'sampled', got /);
    expect(() => boot({ kasan: 'generic', kasanStacks: 'sampled', kasanStackSample: 0 })).toThrow(RangeError);
    expect(() => boot({ kasan: 'generic', kasanStacks: 'sampled', kasanStackSample: 0 })).toThrow(/^kasanStackSample/);
    expect(() => boot({ kasan: 'generic', kasanStacks: 'sampled', kasanStackSample: 1.5 })).toThrow(/^kasanStackSample/);
    expect(() => boot({ kasan: 'generic', kasanStackSample: 8 })).toThrow(/^kasanStackSample: only with kasanStacks: 'sampled'/);
  });
});
