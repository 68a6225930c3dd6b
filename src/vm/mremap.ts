/**
 * mremap(2) (mm/mremap.c): shrink in place, grow in place when the space
 * after the VMA is free, else move (MREMAP_MAYMOVE, MREMAP_FIXED): a new VMA
 * with the same vm_pgoff and anon_vma, the page-table entries moved (the
 * pages are not copied), the old range unmapped (unless MREMAP_DONTUNMAP).
 * An old length of 0 duplicates a shared mapping at a new address.
 */
import type { Task } from './fork.js';
import { forEachPte, invalidateTlbPage } from './memory.js';
import { VMA } from './mm_types.js';
import { EFAULT, EINVAL, ENOMEM, MAP_SHARED, MREMAP_DONTUNMAP, MREMAP_FIXED, MREMAP_MAYMOVE, VM } from './mman.js';
import { getUnmappedAreaFor, unmapRange } from './mmap.js';
import type { Vm } from './vm.js';
import { anonVmaClone, findVmaIndex, findVmaIntersection, insertVma, mergeAround, splitVma, syncMapleNodes, vmAreaDup } from './vma.js';

const PAGE = 4096;
/** The machines that printed the private-duplicate warning (pr_warn_once: once a boot) */
const warnedDuplicate = new WeakSet<Vm>();
const pageAlign = (x: number) => Math.ceil(x / PAGE) * PAGE;

export function doMremap(vm: Vm, t: Task, addr: number, oldLen: number, newLen: number, flags: number, newAddr: number): number {
  const mm = t.mm!;
  const s = vm.s;
  // check_mremap_params()
  if ((flags & ~(MREMAP_FIXED | MREMAP_MAYMOVE | MREMAP_DONTUNMAP)) !== 0) return -EINVAL;
  if ((flags & MREMAP_FIXED) !== 0 && (flags & MREMAP_MAYMOVE) === 0) return -EINVAL;
  if ((flags & MREMAP_DONTUNMAP) !== 0 && ((flags & MREMAP_MAYMOVE) === 0 || oldLen !== newLen)) return -EINVAL;
  if (addr % PAGE !== 0) return -EINVAL;
  oldLen = pageAlign(oldLen);
  newLen = pageAlign(newLen);
  if (newLen === 0) return -EINVAL;
  if (newLen > mm.taskSize || addr > mm.taskSize - oldLen) return -EINVAL;
  if ((flags & MREMAP_FIXED) !== 0) {
    if (newAddr % PAGE !== 0) return -EINVAL;
    if (newAddr > mm.taskSize - newLen) return -EINVAL;
    // The ranges may not overlap.
    if (addr + oldLen > newAddr && newAddr + newLen > addr) return -EINVAL;
  }
  // vma_lookup(), resize_is_valid()
  let i = findVmaIndex(vm, mm, addr);
  if (i < 0 || s.vmStart(mm.vmas[i]!) > addr) return -EFAULT;
  let v = mm.vmas[i]!;
  // An old_len of 0 "duplicates" a shared mapping; a private one may not be.
  if (oldLen === 0 && (s.vmFlags(v) & (VM.SHARED | VM.MAYSHARE)) === 0) {
    if (!warnedDuplicate.has(vm)) vm.k.log([`${t.comm} (${t.pid}): attempted to duplicate a private mapping with mremap.  This is not supported.`]);
    warnedDuplicate.add(vm);
    return -EINVAL;
  }
  if (oldLen > s.vmEnd(v) - addr) return -EFAULT;
  if (newLen > oldLen && (s.vmFlags(v) & (VM.DONTEXPAND | VM.PFNMAP)) !== 0) return -EFAULT;
  // vrm_charge(): growing an accounted mapping charges the difference.
  if (newLen > oldLen && (s.vmFlags(v) & VM.ACCOUNT) !== 0 && !vm.enoughMemory(t, (newLen - oldLen) / PAGE)) return -ENOMEM;
  if ((flags & (MREMAP_FIXED | MREMAP_DONTUNMAP)) === 0) {
    if (newLen <= oldLen) {
      if (newLen < oldLen) unmapRange(vm, mm, addr + newLen, addr + oldLen);
      return addr;
    }
    // Grow in place when the range ends the VMA and the space after it is free.
    const delta = newLen - oldLen;
    if (s.vmEnd(v) === addr + oldLen && findVmaIntersection(vm, mm, s.vmEnd(v), s.vmEnd(v) + delta) < 0 && s.vmEnd(v) + delta <= mm.taskSize) {
      if (mm.vmas.length > vm.maxMapCount) return -ENOMEM;
      s.set64(v, VMA.END, s.vmEnd(v) + delta);
      vm.statAccount(mm, s.vmFlags(v), delta / PAGE);
      mm.updateHiwaterVm();
      mergeAround(vm, mm, i);
      syncMapleNodes(vm, mm);
      return addr;
    }
    if ((flags & MREMAP_MAYMOVE) === 0) return -ENOMEM;
  }
  // Where to: the fixed address (its old contents unmapped) or a new area.
  let dst: number;
  if ((flags & MREMAP_FIXED) !== 0) {
    unmapRange(vm, mm, newAddr, newAddr + newLen);
    dst = newAddr;
    i = findVmaIndex(vm, mm, addr);
    v = mm.vmas[i]!;
  } else {
    // vrm_set_new_addr(): the mapping's own get_unmapped_area at its file offset, MAP_SHARED for a shared one.
    const pgoff = s.vmPgoff(v) + (addr - s.vmStart(v)) / PAGE;
    dst = getUnmappedAreaFor(vm, mm, s.vmFile(v), 0, newLen, pgoff, (s.vmFlags(v) & VM.MAYSHARE) !== 0 ? MAP_SHARED : 0);
    if (dst < 0) return dst;
  }
  if (newLen < oldLen) {
    unmapRange(vm, mm, addr + newLen, addr + oldLen);
    oldLen = newLen;
    i = findVmaIndex(vm, mm, addr);
    v = mm.vmas[i]!;
  }
  if (mm.vmas.length + 3 > vm.maxMapCount) return -ENOMEM;
  if (oldLen === 0) {
    // copy_vma() of nothing: a new VMA over the same file pages from addr's offset on, no PTE moved, nothing unmapped.
    const n = vmAreaDup(vm, v);
    anonVmaClone(vm, n, v);
    s.set64(n, VMA.START, dst);
    s.set64(n, VMA.END, dst + newLen);
    s.set64(n, VMA.PGOFF, s.vmPgoff(v) + (addr - s.vmStart(v)) / PAGE);
    const ni = insertVma(vm, mm, n);
    vm.statAccount(mm, s.vmFlags(n), newLen / PAGE);
    mergeAround(vm, mm, ni);
    mm.updateHiwaterVm();
    syncMapleNodes(vm, mm);
    return dst;
  }
  // move_vma(): isolate [addr, addr + oldLen) as one VMA, copy it to dst, move the PTEs.
  if (s.vmStart(v) < addr) {
    splitVma(vm, mm, i, addr);
    i++;
  }
  if (s.vmEnd(mm.vmas[i]!) > addr + oldLen) splitVma(vm, mm, i, addr + oldLen);
  const old = mm.vmas[i]!;
  const n = vmAreaDup(vm, old);
  anonVmaClone(vm, n, old);
  s.set64(n, VMA.START, dst);
  s.set64(n, VMA.END, dst + newLen);
  const u32 = vm.k.phys.u32;
  let oom = false;
  forEachPte(vm, mm.pgd, addr, addr + oldLen, (idx, va) => {
    if (oom) return;
    const d = vm.pt.walkAlloc(mm.pgd, dst + (va - addr), mm);
    if (d < 0) {
      oom = true;
      return;
    }
    u32[d] = u32[idx]!;
    u32[d + 1] = u32[idx + 1]!;
    u32[idx] = 0;
    u32[idx + 1] = 0;
    invalidateTlbPage(mm, Math.floor(va / PAGE));
  });
  mm.flushTlb();
  if (oom) throw new Error('kmem: out of memory moving page tables in mremap');
  const ni = insertVma(vm, mm, n);
  vm.statAccount(mm, s.vmFlags(n), newLen / PAGE);
  mergeAround(vm, mm, ni);
  if ((flags & MREMAP_DONTUNMAP) === 0) unmapRange(vm, mm, addr, addr + oldLen);
  mm.updateHiwaterVm();
  syncMapleNodes(vm, mm);
  return dst;
}
