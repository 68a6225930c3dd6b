/**
 * mincore(2) (mm/mincore.c): which pages of a range are resident. A present
 * PTE counts (the zero page too); an empty PTE of an anonymous VMA does not;
 * in a file or shmem VMA the page cache decides; a swap PTE counts when its
 * page is in the swap cache.
 */
import type { Task } from './fork.js';
import { EINVAL, ENOMEM } from './mman.js';
import { _PAGE_PRESENT } from './pgtable.js';
import { isSwapPte, pteSwpOffset } from './swapops.js';
import type { Vm } from './vm.js';
import { findVmaIndex } from './vma.js';

const PAGE = 4096;

export function doMincore(vm: Vm, t: Task, start: number, len: number): Uint8Array | number {
  const mm = t.mm!;
  const s = vm.s;
  if (start % PAGE !== 0) return -EINVAL;
  if (start + len > mm.taskSize) return -ENOMEM;
  const pages = Math.ceil(len / PAGE);
  const out = new Uint8Array(pages);
  const u32 = vm.k.phys.u32;
  for (let i = 0; i < pages; i++) {
    const va = start + i * PAGE;
    const vi = findVmaIndex(vm, mm, va);
    if (vi < 0 || s.vmStart(mm.vmas[vi]!) > va) return -ENOMEM;
    const idx = vm.pt.walk(mm.pgd, va);
    if (idx >= 0 && (u32[idx]! & _PAGE_PRESENT) !== 0) {
      out[i] = 1;
      continue;
    }
    // mincore_swap(): a swapped-out page is resident if it is in the swap cache.
    if (idx >= 0 && vm.swap !== null && isSwapPte(u32[idx]!, u32[idx + 1]!)) {
      out[i] = vm.swap.swapCache[pteSwpOffset(u32[idx]!, u32[idx + 1]!)] !== 0 ? 1 : 0;
      continue;
    }
    const v = mm.vmas[vi]!;
    const ino = s.vmFile(v);
    if (ino !== 0) {
      const pgoff = s.vmPgoff(v) + (va - s.vmStart(v)) / PAGE;
      out[i] = vm.pageCache.has(ino * 2 ** 32 + pgoff) ? 1 : 0;
    }
  }
  return out;
}
