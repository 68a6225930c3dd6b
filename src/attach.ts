/**
 * attach(): run one of a machine's CPUs on this thread. The machine was
 * booted elsewhere with boot({ smp: 'workers' }) and its `k.handle` posted
 * here; the kernel returned is bound to `cpu` and has the same API
 * (kmalloc, kfree, kmemCache*, allocPages, mem, proc), on the same memory.
 *
 * How: this thread boots the same machine from the same options -- boot is
 * deterministic, so every immutable descriptor (the caches' names and
 * geometry, the hooks) comes out the same -- and then points every view of
 * a shared buffer at the handle's (src/smp/rebind.ts). The caches created
 * since boot come from the shared cache table. The VM half (tasks, files)
 * stays the boot CPU's.
 */

import { boot, type Kernel, type SmpHandle } from './kernel.js';
import { checkInteger, describe } from './lib/argcheck.js';
import { rebind } from './smp/rebind.js';

export function attach(handle: SmpHandle, opts: { cpu: number }): Kernel {
  if (typeof handle !== 'object' || handle === null || handle.kmemSmp !== 1 || !Array.isArray(handle.buffers)) {
    throw new TypeError(`handle: expected k.handle of a machine booted with smp: 'workers', got ${describe(handle)}`);
  }
  if (typeof opts !== 'object' || opts === null) throw new TypeError(`opts: expected { cpu }, got ${describe(opts)}`);
  const cpus = handle.options.cpus ?? 2;
  checkInteger(opts.cpu, 'opts.cpu', 0, cpus - 1);
  const k = boot(handle.options);
  const m = k.machine;
  rebind(k, m.smpBuffers, handle.buffers);
  m.smpBuffers = handle.buffers;
  const smp = m.smp!;
  smp.claim(opts.cpu);
  smp.attached = true;
  k.pageAlloc.cpu = opts.cpu;
  k.slub.setCpu(opts.cpu);
  smp.syncCaches();
  return k;
}
