/**
 * What a built-in workload is: a seeded, deterministic program of allocator
 * calls that can be run a few operations at a time (`kmem top` runs a slice
 * between two screen refreshes) or all at once (`kmem run`).
 *
 * Each workload is written as a generator that yields after every allocator
 * call, so `run(n)` performs exactly n calls. Every random choice comes from
 * the machine's own seeded generator (k.rand32()), so the same --seed gives
 * the same machine state.
 */

import type { Kernel } from '../kernel.js';

export interface Workload {
  readonly name: string;
  /** Perform up to n allocator operations; returns how many ran (fewer once the workload has ended). */
  run(n: number): number;
  /** True once a finite workload (a trace) has nothing left to do. */
  readonly finished: boolean;
  /** Operations performed so far. */
  readonly ops: number;
}

/** A step of a workload's generator: one allocator call has happened. */
export type WorkloadSteps = Generator<void, void, undefined>;

/** Wrap a generator into a Workload. */
export function generatorWorkload(name: string, gen: WorkloadSteps): Workload {
  let finished = false;
  let ops = 0;
  return {
    name,
    run(n: number): number {
      let done = 0;
      while (done < n && !finished) {
        if (gen.next().done === true) finished = true;
        else done++;
      }
      ops += done;
      return done;
    },
    get finished() {
      return finished;
    },
    get ops() {
      return ops;
    },
  };
}

/** A uniform number in [0, 1) from the machine's seeded generator. */
export function rnd(k: Kernel): number {
  return k.rand32() / 2 ** 32;
}

/** A uniform integer in [0, n). */
export function rndInt(k: Kernel, n: number): number {
  return Math.floor(rnd(k) * n);
}

/** Remove and return a random element of a list (order not kept). */
export function takeRandom<T>(k: Kernel, list: T[]): T {
  const at = rndInt(k, list.length);
  const v = list[at]!;
  list[at] = list[list.length - 1]!;
  list.pop();
  return v;
}

/**
 * Run a sub-generator's steps with `cpu` as the running CPU. Each step runs
 * inside k.onCpu, so the caller's CPU is back between steps (whoever runs
 * the workload may do other things in between).
 */
export function* onCpuSteps<T>(k: Kernel, cpu: number, gen: Generator<void, T, undefined>): Generator<void, T, undefined> {
  for (;;) {
    const r = k.onCpu(cpu, () => gen.next());
    if (r.done === true) return r.value;
    yield;
  }
}
