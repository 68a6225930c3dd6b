/**
 * The built-in workloads by name, as `kmem run --workload NAME` and
 * `kmem top --workload NAME` know them.
 */

import type { Kernel } from '../kernel.js';
import { bootWorkload } from './boot.js';
import { forkExecWorkload } from './fork_exec.js';
import { fragmentWorkload } from './fragment.js';
import { leakWorkload } from './leak.js';
import { type MallocProgram, mallocTraceWorkload } from './malloc_trace.js';
import { networkWorkload } from './network.js';
import { oomWorkload } from './oom.js';
import { pagecacheWorkload } from './pagecache.js';
import { reclaimWorkload } from './reclaim.js';
import { thrashWorkload } from './thrash.js';
import type { Workload } from './workload.js';

export type { Workload } from './workload.js';

export interface WorkloadInfo {
  name: string;
  /** One line for --help. */
  description: string;
  create(k: Kernel, program?: MallocProgram): Workload;
}

export const WORKLOADS: readonly WorkloadInfo[] = [
  { name: 'boot', description: 'a system coming up: dentries, inodes, VMAs, tasks, kmalloc traffic', create: bootWorkload },
  { name: 'fork-exec', description: 'process churn with real processes: spawn, fork, execve, memory touched, exit, wait', create: forkExecWorkload },
  { name: 'network', description: 'packet buffers under load, freed on other CPUs (remote frees)', create: networkWorkload },
  { name: 'fragment', description: 'page-level churn of mixed migratetypes that fragments the buddy allocator', create: fragmentWorkload },
  { name: 'leak', description: 'balanced traffic plus a steady leak in kmalloc-192', create: leakWorkload },
  {
    name: 'malloc-trace',
    description: "a real program's malloc/free trace as kmalloc/kfree (the built-in sample, or --trace FILE)",
    create: (k, program) => mallocTraceWorkload(k, program),
  },
  {
    name: 'pagecache',
    description: 'cat streams a file bigger than RAM twice: readahead, kswapd reclaiming the page cache, refaults',
    create: (k) => pagecacheWorkload(k),
  },
  {
    name: 'reclaim',
    description: 'four processes write anonymous memory past RAM and read every byte back: swap out and in (needs --swap)',
    create: (k) => reclaimWorkload(k),
  },
  { name: 'oom', description: 'anonymous memory past RAM and swap: the OOM killer kills the biggest task, the others carry on', create: (k) => oomWorkload(k) },
  {
    name: 'thrash',
    description: 'a working set a little bigger than RAM touched in a loop: refaults (anonymous with swap, else a file)',
    create: (k) => thrashWorkload(k),
  },
];

export const WORKLOAD_NAMES: readonly string[] = WORKLOADS.map((w) => w.name);

/** The workload called name; throws a RangeError listing the names otherwise. */
export function workloadByName(name: string): WorkloadInfo {
  const w = WORKLOADS.find((x) => x.name === name);
  if (w === undefined) throw new RangeError(`unknown workload '${name}' (expected one of: ${WORKLOAD_NAMES.join(', ')}, none)`);
  return w;
}
