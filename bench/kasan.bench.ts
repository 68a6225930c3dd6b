/**
 * KASAN benchmarks: what checked access and the allocator hooks cost, each
 * against the same work on a machine without KASAN, in the same rounds.
 * Goal for checked 8-byte loads and stores: at most 1.73x (AddressSanitizer's
 * average slowdown).
 *
 * bench/harness.ts: each contender's loop in a module of its own
 * (kasan_off.ts, kasan_on.ts, kasan_sampled.ts, kasan_nostacks.ts), rounds interleaved, min and median; every
 * benchmark runs in two processes.
 */
import { readFileSync } from 'node:fs';
import { boot, GFP_KERNEL, type Kernel } from '../src/index.js';
import { interleaved, table, twice } from './harness.js';
import { kasanPairNoStacks } from './kasan_nostacks.js';
import { kasanPairOff, loadStore32Off, loadStore64Off } from './kasan_off.js';
import { kasanPairOn, loadStore32On, loadStore64On } from './kasan_on.js';
import { kasanPairSampled } from './kasan_sampled.js';

const BUFS = 64;

/** process.cpuUsage() as a clock in ns: user and system time of every thread of this process. */
function cpuClock(): bigint {
  const u = process.cpuUsage();
  return BigInt(u.user + u.system) * 1000n;
}

const SCHEDSTAT = '/proc/thread-self/schedstat';

/**
 * The calling (main) thread's time on a CPU in ns, from Linux's schedstat,
 * or null where there is none: the loop's own work and the GC pauses it
 * takes, without the GC's helper threads (their marking and sweeping run
 * beside it, on another core of a quiet machine).
 */
function threadClock(): (() => bigint) | null {
  try {
    readFileSync(SCHEDSTAT, 'utf8');
  } catch {
    return null;
  }
  return () => BigInt(readFileSync(SCHEDSTAT, 'utf8').split(' ')[0]!);
}
/** Pairs run before timing a KASAN machine: more than its quarantine holds (256 MiB / 32 in 128-byte slots). */
const STEADY_PAIRS = 100_000;
const BUF_SIZE = 256;

function buffers(k: Kernel): Float64Array {
  const b = new Float64Array(BUFS);
  for (let i = 0; i < BUFS; i++) b[i] = k.kmalloc(BUF_SIZE, GFP_KERNEL);
  return b;
}

function access(): void {
  const off = boot({ memory: '256M', cpus: 2 });
  const on = boot({ memory: '256M', cpus: 2, kasan: 'generic' });
  const bOff = buffers(off);
  const bOn = buffers(on);
  const rounds = { rounds: 15, targetMs: 20 };
  const r64 = interleaved(
    [
      { name: 'read64 + write64, KASAN off', run: (n) => loadStore64Off(off, bOff, BUF_SIZE, n) },
      { name: 'read64 + write64, KASAN on (checked)', run: (n) => loadStore64On(on, bOn, BUF_SIZE, n) },
    ],
    rounds,
  );
  table('8-byte loads and stores over 64 kmalloc(256) buffers, per access (goal <= 1.73x)', r64, r64[0]!, 52);
  const r32 = interleaved(
    [
      { name: 'read32 + write32, KASAN off', run: (n) => loadStore32Off(off, bOff, BUF_SIZE, n) },
      { name: 'read32 + write32, KASAN on (checked)', run: (n) => loadStore32On(on, bOn, BUF_SIZE, n) },
    ],
    rounds,
  );
  table('4-byte loads and stores (no BigInt), per access', r32, r32[0]!, 52);
}

/**
 * The pair on four machines, each with its loop in its own module: KASAN
 * off; on with both stacks of every object (kasanStacks 'on', the default);
 * 'sampled' (1 allocation in 64 keeps its stacks); 'off' (no stacks). The
 * KASAN machines are timed in steady state: the quarantine full and giving
 * objects back, the stack depot's table of recorded stacks at its budget.
 */
function pair(): void {
  const off = boot({ memory: '256M', cpus: 2 });
  const on = boot({ memory: '256M', cpus: 2, kasan: 'generic' });
  const sampled = boot({ memory: '256M', cpus: 2, kasan: 'generic', kasanStacks: 'sampled' });
  const noStacks = boot({ memory: '256M', cpus: 2, kasan: 'generic', kasanStacks: 'off' });
  // Steady state first, untimed: the quarantine full and giving objects back
  // (RAM / 32 of 128-byte slots is 65536 objects), as in a long run.
  kasanPairOn(on, STEADY_PAIRS);
  kasanPairSampled(sampled, STEADY_PAIRS);
  kasanPairNoStacks(noStacks, STEADY_PAIRS);
  const contenders = [
    { name: 'kmalloc(64) + kfree, KASAN off', run: (n: number) => kasanPairOff(off, n) },
    { name: 'kmalloc(64) + kfree, KASAN on, quarantine, stacks', run: (n: number) => kasanPairOn(on, n) },
    { name: 'kmalloc(64) + kfree, KASAN on, stacks sampled 1/64', run: (n: number) => kasanPairSampled(sampled, n) },
    { name: 'kmalloc(64) + kfree, KASAN on, quarantine, no stacks', run: (n: number) => kasanPairNoStacks(noStacks, n) },
  ];
  const rows = interleaved(contenders, { rounds: 9, targetMs: 20 });
  table('kmalloc(64) then kfree (KASAN: shadow, tracks, quarantine; goal with stacks <= 10 us)', rows, rows[0]!, 52);
  // The same rounds timed in CPU time: what the machine's load does not inflate (the GC's helper threads count).
  const cpu = interleaved(contenders, { rounds: 9, targetMs: 20, clock: cpuClock });
  table('the same, in CPU time of this process (all its threads, the GC helpers too)', cpu, cpu[0]!, 52);
  const thread = threadClock();
  if (thread !== null) {
    // Rounds of 200 ms: schedstat brings a running thread's time up to date at the scheduler's tick only (a few ms).
    const main = interleaved(contenders, { rounds: 5, targetMs: 200, clock: thread });
    table('the same, in CPU time of the main thread (200 ms rounds; the loop and its GC pauses, not the GC helpers)', main, main[0]!, 52);
  }
  // The stacks machine's depot after every round: stacks formatted (none without a report) and recorded ones kept raw.
  const depot = on.kasan!.depot;
  const rec = depot.recorded;
  console.log(`  stack depot, stacks on: ${depot.size} stacks formatted; ${rec.kept} recorded stacks kept raw (at most ${rec.max})`);
}

export const benches = {
  ...twice('benchKasanAccess', access),
  ...twice('benchKasanPair', pair),
};
