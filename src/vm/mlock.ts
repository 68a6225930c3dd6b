/**
 * mlock(2), mlock2(2), munlock(2) (mm/mlock.c): set or clear VM_LOCKED on
 * the VMAs of a range (splitting and merging them), count mm->locked_vm
 * (VmLck), and fault the locked range in (__mm_populate). kmem's tasks run as
 * root (CAP_IPC_LOCK), so RLIMIT_MEMLOCK does not limit them. Pages faulted
 * into a locked VMA are mlocked at once (folio_add_lru_vma); pages already
 * mapped are mlocked by mlock_vma_pages_range() and munlocked by munlock
 * (src/vm/swap.ts mlockFolio / munlockFolio), moving between the
 * unevictable list and their evictable one.
 */
import type { Task } from './fork.js';
import { forEachPte, populateRange } from './memory.js';
import { EINVAL, ENOMEM, MLOCK_ONFAULT, VM } from './mman.js';
import { _PAGE_PRESENT, _PAGE_SPECIAL } from './pgtable.js';
import { mlockFolio, munlockFolio } from './swap.js';
import type { Vm } from './vm.js';
import { findVmaIndex, mergeAround, splitVma, syncMapleNodes } from './vma.js';

const PAGE = 4096;

/** apply_vma_lock_flags() + mlock_fixup(): 0 or -ENOMEM at the first hole (after locking what comes before it). */
function applyLockFlags(vm: Vm, t: Task, start: number, end: number, set: number): number {
  const mm = t.mm!;
  const s = vm.s;
  let i = findVmaIndex(vm, mm, start);
  if (i < 0 || s.vmStart(mm.vmas[i]!) > start) return -ENOMEM;
  let pos = start;
  while (pos < end) {
    i = findVmaIndex(vm, mm, pos);
    if (i < 0 || s.vmStart(mm.vmas[i]!) > pos) {
      syncMapleNodes(vm, mm);
      return -ENOMEM;
    }
    let v = mm.vmas[i]!;
    const old = s.vmFlags(v);
    const b = Math.min(end, s.vmEnd(v));
    const nf = (old & ~(VM.LOCKED | VM.LOCKONFAULT)) | set;
    // VM_SPECIAL mappings and the vDSO's cannot be locked: they stay as they are.
    const special = (old & (VM.IO | VM.DONTEXPAND | VM.PFNMAP | VM.MIXEDMAP)) !== 0;
    if (nf !== old && !special) {
      if (s.vmStart(v) < pos) {
        splitVma(vm, mm, i, pos);
        i++;
      }
      v = mm.vmas[i]!;
      if (s.vmEnd(v) > b) splitVma(vm, mm, i, b);
      const pages = (b - pos) / PAGE;
      if ((old & VM.LOCKED) === 0 && (set & VM.LOCKED) !== 0) mm.lockedVm += pages;
      else if ((old & VM.LOCKED) !== 0 && (set & VM.LOCKED) === 0) mm.lockedVm -= pages;
      s.setVmFlags(v, nf);
      // mlock_vma_pages_range(): the pages mapped there now become (un)evictable.
      if (((old ^ nf) & VM.LOCKED) !== 0) {
        const u32 = vm.k.phys.u32;
        forEachPte(vm, mm.pgd, pos, b, (idx) => {
          const lo = u32[idx]!;
          if ((lo & _PAGE_PRESENT) === 0 || (lo & _PAGE_SPECIAL) !== 0) return;
          if ((nf & VM.LOCKED) !== 0) mlockFolio(vm, lo >>> 12);
          else munlockFolio(vm, lo >>> 12);
        });
      }
      mergeAround(vm, mm, i);
    }
    pos = b;
  }
  syncMapleNodes(vm, mm);
  return 0;
}

/** mlock2(start, len, flags) */
export function doMlock(vm: Vm, t: Task, start: number, len: number, flags: number): number {
  if ((flags & ~MLOCK_ONFAULT) !== 0) return -EINVAL;
  const end = Math.ceil((len + (start % PAGE)) / PAGE) * PAGE + (start - (start % PAGE));
  start -= start % PAGE;
  if (end === start) return 0;
  const set = VM.LOCKED | (flags & MLOCK_ONFAULT ? VM.LOCKONFAULT : 0);
  const r = applyLockFlags(vm, t, start, end, set);
  if (r < 0) return r;
  if ((flags & MLOCK_ONFAULT) === 0) populateRange(vm, t, start, end);
  return 0;
}

/** munlock(start, len) */
export function doMunlock(vm: Vm, t: Task, start: number, len: number): number {
  const end = Math.ceil((len + (start % PAGE)) / PAGE) * PAGE + (start - (start % PAGE));
  start -= start % PAGE;
  if (end === start) return 0;
  return applyLockFlags(vm, t, start, end, 0);
}
