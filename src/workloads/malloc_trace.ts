/**
 * The built-in "malloc-trace" workload: a real program's malloc/free trace
 * (the `Alloc(<size>),` / `Free(<index>),` text of wee_alloc's test traces)
 * replayed as kmalloc/kfree.
 *
 * Each Alloc becomes kmalloc(size, GFP_KERNEL) (sizes above 8 KiB become
 * large kmallocs straight from the page allocator), each Free a kfree of the
 * block that Alloc returned. A program runs on one CPU at a time; the
 * scheduler moves it now and then (a seeded choice), so some frees land on
 * another CPU than their allocation. The workload ends with the trace; what
 * the program never freed stays allocated.
 *
 * Without a file the built-in sample is used (src/trace/samples/).
 */

import type { Kernel } from '../kernel.js';
import { GFP_KERNEL } from '../page_alloc/gfp.js';
import { type MallocOp, parseMallocTrace, readMallocTraceBatches } from '../trace/malloc_trace.js';
import { MALLOC_SAMPLE_NAME, MALLOC_SAMPLE_TEXT } from '../trace/samples/malloc_sample.js';
import type { ReadTraceOptions } from '../trace/stream.js';
import { generatorWorkload, rnd, rndInt, type Workload, type WorkloadSteps } from './workload.js';

/**
 * A malloc trace as a compact program: op >= 0 allocates op bytes,
 * op < 0 frees the block of Alloc number -op - 1.
 */
export interface MallocProgram {
  name: string;
  ops: Float64Array;
  allocs: number;
}

function compile(name: string, chunks: MallocOp[][]): MallocProgram {
  let n = 0;
  for (const c of chunks) n += c.length;
  const ops = new Float64Array(n);
  let i = 0;
  let allocs = 0;
  for (const c of chunks) {
    for (const op of c) {
      if (op.op === 'alloc') {
        ops[i++] = op.size;
        allocs++;
      } else ops[i++] = -op.index - 1;
    }
  }
  return { name, ops, allocs };
}

/** The built-in sample. */
export function sampleMallocProgram(): MallocProgram {
  return compile(MALLOC_SAMPLE_NAME, [parseMallocTrace(MALLOC_SAMPLE_TEXT, MALLOC_SAMPLE_NAME)]);
}

/** Read and check a malloc trace file (plain or gzip'd). Errors name the file and line. */
export async function loadMallocProgram(path: string, opts: ReadTraceOptions = {}): Promise<MallocProgram> {
  const chunks: MallocOp[][] = [];
  const it = readMallocTraceBatches(path, opts);
  for (;;) {
    const r = await it.next();
    if (r.done === true) break;
    chunks.push(r.value);
  }
  return compile(path, chunks);
}

export interface MallocTraceStats {
  allocs: number;
  frees: number;
  /** kmalloc returned NULL (the machine ran out, or the size is above KMALLOC_MAX_SIZE). */
  failed: number;
}

export function* mallocTraceSteps(k: Kernel, prog: MallocProgram, stats: MallocTraceStats = { allocs: 0, frees: 0, failed: 0 }): WorkloadSteps {
  const addrs = new Float64Array(prog.allocs);
  const ops = prog.ops;
  let next = 0;
  let cpu = rndInt(k, k.cpus);
  for (let i = 0; i < ops.length; i++) {
    if (rnd(k) < 1 / 2000) cpu = rndInt(k, k.cpus);
    const op = ops[i]!;
    if (op >= 0) {
      const addr = k.onCpu(cpu, () => k.kmalloc(op, GFP_KERNEL));
      addrs[next++] = addr;
      stats.allocs++;
      if (addr === 0) stats.failed++;
    } else {
      const at = -op - 1;
      const addr = addrs[at]!;
      if (addr !== 0) k.onCpu(cpu, () => k.kfree(addr));
      addrs[at] = 0;
      stats.frees++;
    }
    k.tick(500);
    yield;
  }
}

export function mallocTraceWorkload(k: Kernel, prog: MallocProgram = sampleMallocProgram()): Workload {
  return generatorWorkload('malloc-trace', mallocTraceSteps(k, prog));
}
