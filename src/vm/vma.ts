/**
 * The VMA tree and VMA surgery (mm/vma.c, mm/rmap.c's anon_vma chains,
 * lib/maple_tree.c's node count).
 *
 * mm->vmas holds the vm_area_struct addresses in address order: the lookup
 * structure. Beside it each mm keeps a maple tree (maple_tree.ts) of the
 * same VMAs and the NULL gaps between them, built by the stores the kernel's
 * operations make, whose nodes are the mm's maple_node objects: after every
 * change syncMapleNodes() stores the ranges that differ.
 */

import { type MapleNodeSource, MapleTree, MT_MAX } from './maple_tree.js';
import { ANON_VMA, AVC, type Mm, VMA } from './mm_types.js';
import { VM } from './mman.js';
import type { Vm } from './vm.js';

/** find_vma(): the first VMA ending above addr (index into mm.vmas), or -1. */
export function findVmaIndex(vm: Vm, mm: Mm, addr: number): number {
  const v = mm.vmas;
  let lo = 0;
  let hi = v.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (vm.s.vmEnd(v[mid]!) <= addr) lo = mid + 1;
    else hi = mid;
  }
  return lo < v.length ? lo : -1;
}

/** find_vma_intersection(): does any VMA overlap [start, end)? */
export function findVmaIntersection(vm: Vm, mm: Mm, start: number, end: number): number {
  const i = findVmaIndex(vm, mm, start);
  if (i < 0) return -1;
  return vm.s.vmStart(mm.vmas[i]!) < end ? i : -1;
}

/** The mm's tree (mm->mm_mt: an allocation range tree in RCU mode), its nodes from the maple_node cache. */
export function mmMapleTree(vm: Vm, mm: Mm): MapleTree {
  let t = mm.mapleTree;
  if (t === null) {
    t = new MapleTree(mapleNodeSource(vm), true);
    mm.mapleTree = t;
  }
  return t;
}

/** kmem_cache_alloc / kmem_cache_free of maple_node for a tree of this machine. */
export function mapleNodeSource(vm: Vm): MapleNodeSource {
  return { alloc: () => vm.alloc(vm.caches.mapleNode), free: (a: number) => vm.k.kmemCacheFree(vm.caches.mapleNode, a) };
}

/** The maple_node objects the mm's tree of VMAs holds now. */
export function mapleNodesFor(_vm: Vm, mm: Mm): number {
  return mm.mapleTree === null ? 0 : mm.mapleTree.nodes;
}

/** __mt_dup() in dup_mmap(): the child's tree starts as a node-for-node copy of the parent's. */
export function mapleDup(vm: Vm, old: Mm, mm: Mm): void {
  if (mm.mapleTree !== null) mm.mapleTree.destroy();
  mm.mapleTree = old.mapleTree === null ? null : old.mapleTree.dup(mapleNodeSource(vm));
}

/**
 * vms_gather_munmap_vmas(): the VMAs a munmap takes out first go into a side
 * tree (mt_detach: no RCU, not an allocation tree), stored at 0, 1, 2, ...;
 * its nodes come from the maple_node cache and go back when the munmap is
 * done. One VMA needs no node (the pointer root).
 */
export function mapleDetach(vm: Vm, count: number): void {
  if (count < 2) return;
  const t = new MapleTree(mapleNodeSource(vm), false, false);
  for (let i = 0; i < count; i++) t.store(i, i, 1);
  t.destroy();
}

// Scratch for syncMapleNodes: the wanted ranges (first, last, entry), and the tree's.
let wantBuf = new Float64Array(3 * 64);
let haveBuf = new Float64Array(3 * 64);
let haveLen = 0;

/** Each tree's ranges as the last syncMapleNodes() left them (first, last, entry; NULLs joined): no walk of the tree to diff. */
const synced = new WeakMap<MapleTree, { buf: Float64Array<ArrayBuffer>; len: number }>();

function grow(b: Float64Array<ArrayBuffer>, n: number): Float64Array<ArrayBuffer> {
  if (b.length >= n) return b;
  const c = new Float64Array(Math.max(n, b.length * 2));
  c.set(b);
  return c;
}

/** One of the tree's ranges into haveBuf; a NULL range after a NULL range (across two leaves) joins it. */
function pushHave(first: number, last: number, entry: number): void {
  if (entry === 0 && haveLen > 0 && haveBuf[haveLen - 1] === 0) {
    haveBuf[haveLen - 2] = last;
    return;
  }
  if (haveLen + 3 > haveBuf.length) haveBuf = grow(haveBuf, haveLen + 3);
  haveBuf[haveLen++] = first;
  haveBuf[haveLen++] = last;
  haveBuf[haveLen++] = entry;
}

/**
 * Bring the mm's maple tree in line with mm.vmas: the ranges that differ
 * (between the first and the last difference) are stored in address order,
 * VMAs and the NULL gaps between them, as the kernel's vma_iter_store() /
 * vma_iter_clear() calls of the same operation store them. The tree's node
 * count is the maple_node objects the mm holds.
 */
export function syncMapleNodes(vm: Vm, mm: Mm): void {
  const s = vm.s;
  const v = mm.vmas;
  if (v.length === 0) {
    if (mm.mapleTree !== null) {
      mm.mapleTree.destroy();
      mm.mapleTree = null;
    }
    return;
  }
  const t = mmMapleTree(vm, mm);
  // The wanted ranges.
  wantBuf = grow(wantBuf, 3 * (2 * v.length + 1));
  const w = wantBuf;
  let wl = 0;
  let cur = 0;
  for (let i = 0; i < v.length; i++) {
    const a = v[i]!;
    const st = s.vmStart(a);
    const en = s.vmEnd(a);
    if (st > cur) {
      w[wl++] = cur;
      w[wl++] = st - 1;
      w[wl++] = 0;
    }
    w[wl++] = st;
    w[wl++] = en - 1;
    w[wl++] = a;
    cur = en;
  }
  w[wl++] = cur;
  w[wl++] = MT_MAX;
  w[wl++] = 0;
  // The tree's ranges: as last synced, or walked.
  let h: Float64Array<ArrayBuffer>;
  let hl: number;
  const prev = synced.get(t);
  if (prev !== undefined) {
    h = prev.buf;
    hl = prev.len;
  } else {
    haveLen = 0;
    t.forEach(pushHave);
    h = haveBuf;
    hl = haveLen;
  }
  // First and last difference.
  let lo = 0;
  while (lo < wl && lo < hl && w[lo] === h[lo] && w[lo + 1] === h[lo + 1] && w[lo + 2] === h[lo + 2]) lo += 3;
  if (lo < wl || lo < hl) {
    let wi = wl;
    let hi = hl;
    while (wi > lo && hi > lo && w[wi - 3] === h[hi - 3] && w[wi - 2] === h[hi - 2] && w[wi - 1] === h[hi - 1]) {
      wi -= 3;
      hi -= 3;
    }
    // Store the wanted ranges of the window that the tree does not hold as they are.
    let k = lo;
    for (let j = lo; j < wi; j += 3) {
      const first = w[j]!;
      while (k < hi && h[k + 1]! < first) k += 3;
      if (k < hi && h[k] === first && h[k + 1] === w[j + 1] && h[k + 2] === w[j + 2]) continue;
      t.store(first, w[j + 1]!, w[j + 2]!);
    }
  }
  // The wanted ranges are the tree's now: keep them (swapping buffers) for the next diff.
  if (prev !== undefined && prev.buf !== haveBuf) {
    wantBuf = prev.buf;
    prev.buf = w;
    prev.len = wl;
  } else {
    wantBuf = new Float64Array(w.length);
    synced.set(t, { buf: w, len: wl });
  }
}

/** vm_area_alloc(): a zeroed vm_area_struct for mm. */
export function vmAreaAlloc(vm: Vm, mm: Mm, start: number, end: number, flags: number, pgoff: number): number {
  const v = vm.alloc(vm.caches.vma);
  vm.k.phys.u8.fill(0, v, v + VMA.SIZE);
  const s = vm.s;
  s.set64(v, VMA.START, start);
  s.set64(v, VMA.END, end);
  s.set64(v, VMA.MM, mm.addr);
  s.setVmFlags(v, flags);
  s.set64(v, VMA.PGOFF, pgoff);
  setPageProt(vm, v);
  vm.rmapGen++;
  return v;
}

/**
 * vma_wants_writenotify(): a shared writable mapping of a file whose pages
 * are written back (not shmem, whose mapping cannot write back) keeps its
 * PTEs read-only until a write fault dirties the page, so that every page
 * written through memory is known dirty (dirty accounting, writeback).
 */
export function vmaWantsWritenotify(vm: Vm, v: number): boolean {
  const f = vm.s.vmFlags(v);
  if ((f & (VM.SHARED | VM.WRITE)) !== (VM.SHARED | VM.WRITE)) return false;
  const ino = vm.s.vmFile(v);
  return ino !== 0 && !vm.isShmem(ino);
}

/**
 * vma_set_page_prot(): vm_get_page_prot(), the x86 protection_map entry for
 * the VMA's flags, into vm_page_prot; without RW when the VMA wants write
 * notification (the entry of its flags less VM_SHARED).
 */
export function setPageProt(vm: Vm, v: number): void {
  const f = vm.s.vmFlags(v);
  let lo: number;
  if ((f & (VM.READ | VM.WRITE | VM.EXEC)) === 0)
    lo = 0x100 | 0x20; // PAGE_NONE: PROTNONE | ACCESSED
  else if ((f & VM.SHARED) !== 0 && (f & VM.WRITE) !== 0 && !vmaWantsWritenotify(vm, v))
    lo = 0x27; // PAGE_SHARED(_EXEC)
  else lo = 0x25; // PAGE_READONLY / PAGE_COPY (and their _EXEC forms)
  const nx = (f & VM.EXEC) === 0 && lo !== 0x120 ? 0x80000000 : 0;
  vm.s.u32[(v + VMA.PAGE_PROT) >>> 2] = lo;
  vm.s.u32[((v + VMA.PAGE_PROT) >>> 2) + 1] = nx;
}

/** vm_area_dup(): a copy of v (its anon_vma chain is the caller's business). */
export function vmAreaDup(vm: Vm, v: number): number {
  const n = vm.alloc(vm.caches.vma);
  vm.k.phys.u8.copyWithin(n, v, v + VMA.SIZE);
  vm.s.set64(n, VMA.CHAIN, 0);
  const ino = vm.s.vmFile(n);
  if (ino !== 0) vm.fileGet(ino, n);
  vm.rmapGen++;
  return n;
}

/**
 * vma->vm_file = get_file(file): the VMA maps inode ino through the struct
 * file numbered fileId (its vm_page_prot then follows vma_wants_writenotify).
 */
export function vmaSetFile(vm: Vm, v: number, ino: number, fileId = 0): void {
  vm.s.set64(v, VMA.FILE, ino);
  vm.s.set64(v, VMA.FILE_ID, fileId);
  vm.fileGet(ino, v);
  setPageProt(vm, v);
  vm.rmapGen++;
}

/** vm_area_free() of a VMA already out of the tree: its chain goes too (unlink_anon_vmas). */
export function vmAreaFree(vm: Vm, v: number): void {
  unlinkAnonVmas(vm, v);
  const ino = vm.s.vmFile(v);
  if (ino !== 0) vm.filePut(ino, v);
  vm.k.kmemCacheFree(vm.caches.vma, v);
  vm.rmapGen++;
}

// ───────────────────────── anon_vma chains (mm/rmap.c) ─────────────────────────

function avcAlloc(vm: Vm, v: number, av: number): number {
  const c = vm.alloc(vm.caches.avc);
  const s = vm.s;
  s.set64(c, AVC.VMA, v);
  s.set64(c, AVC.ANON_VMA, av);
  // Append to the VMA's same_vma list (keep it in the order the kernel adds entries).
  let last = 0;
  for (let e = s.get64(v, VMA.CHAIN); e !== 0; e = s.get64(e, AVC.NEXT)) last = e;
  s.set64(c, AVC.NEXT, 0);
  if (last === 0) s.set64(v, VMA.CHAIN, c);
  else s.set64(last, AVC.NEXT, c);
  s.set32(av, ANON_VMA.REFCOUNT, s.get32(av, ANON_VMA.REFCOUNT) + 1);
  vm.rmapGen++;
  return c;
}

function anonVmaAlloc(vm: Vm, root: number): number {
  const av = vm.alloc(vm.caches.anonVma);
  vm.k.phys.u8.fill(0, av, av + ANON_VMA.SIZE);
  vm.s.set64(av, ANON_VMA.ROOT, root === 0 ? av : root);
  return av;
}

/** anon_vma_prepare(): give the VMA an anon_vma before its first anonymous page; false on out of memory. */
export function anonVmaPrepare(vm: Vm, v: number): boolean {
  if (vm.s.anonVma(v) !== 0) return true;
  const av = anonVmaAlloc(vm, 0);
  avcAlloc(vm, v, av);
  vm.s.set64(v, VMA.ANON_VMA, av);
  return true;
}

/** anon_vma_clone(): dst gets a chain entry for every anon_vma in src's chain. */
export function anonVmaClone(vm: Vm, dst: number, src: number): void {
  const s = vm.s;
  for (let e = s.get64(src, VMA.CHAIN); e !== 0; e = s.get64(e, AVC.NEXT)) avcAlloc(vm, dst, s.get64(e, AVC.ANON_VMA));
}

/**
 * anon_vma_fork(): the child VMA shares the parent's anon_vmas and gets one
 * of its own, whose root is the parent's root. (The kernel may instead reuse
 * an idle anon_vma of the chain; kmem always makes a new one.)
 */
export function anonVmaFork(vm: Vm, child: number, parent: number): void {
  const s = vm.s;
  s.set64(child, VMA.ANON_VMA, 0);
  const pav = s.anonVma(parent);
  if (pav === 0) return;
  anonVmaClone(vm, child, parent);
  const av = anonVmaAlloc(vm, s.get64(pav, ANON_VMA.ROOT));
  s.set32(pav, ANON_VMA.NUM_CHILDREN, s.get32(pav, ANON_VMA.NUM_CHILDREN) + 1);
  avcAlloc(vm, child, av);
  s.set64(child, VMA.ANON_VMA, av);
}

/** unlink_anon_vmas(): free the VMA's chain, and each anon_vma nothing else points at. */
export function unlinkAnonVmas(vm: Vm, v: number): void {
  const s = vm.s;
  let e = s.get64(v, VMA.CHAIN);
  while (e !== 0) {
    const next = s.get64(e, AVC.NEXT);
    const av = s.get64(e, AVC.ANON_VMA);
    const rc = s.get32(av, ANON_VMA.REFCOUNT) - 1;
    s.set32(av, ANON_VMA.REFCOUNT, rc);
    if (rc === 0) vm.k.kmemCacheFree(vm.caches.anonVma, av);
    vm.k.kmemCacheFree(vm.caches.avc, e);
    e = next;
  }
  s.set64(v, VMA.CHAIN, 0);
  s.set64(v, VMA.ANON_VMA, 0);
  vm.rmapGen++;
}

function chainLength(vm: Vm, v: number): number {
  let n = 0;
  for (let e = vm.s.get64(v, VMA.CHAIN); e !== 0; e = vm.s.get64(e, AVC.NEXT)) n++;
  return n;
}

// ───────────────────────── merging (mm/vma.c) ─────────────────────────

const VM_SPECIAL = VM.IO | VM.DONTEXPAND | VM.PFNMAP | VM.MIXEDMAP;

/**
 * Can `a` (below) and `b` (right above it, a.end === b.start) become one
 * VMA? is_mergeable_vma() + is_mergeable_anon_vma() + the pgoff check of
 * can_vma_merge_after().
 */
export function canMerge(vm: Vm, a: number, b: number): boolean {
  const s = vm.s;
  if (s.vmEnd(a) !== s.vmStart(b)) return false;
  const fa = s.vmFlags(a);
  const fb = s.vmFlags(b);
  if (((fa ^ fb) & ~VM.IGNORE_MERGE) !== 0) return false;
  if ((fa & VM_SPECIAL) !== 0) return false;
  if (s.vmFile(a) !== s.vmFile(b) || s.get64(a, VMA.FILE_ID) !== s.get64(b, VMA.FILE_ID) || s.vmOps(a) !== s.vmOps(b)) return false;
  if (s.vmPgoff(a) + (s.vmEnd(a) - s.vmStart(a)) / 4096 !== s.vmPgoff(b)) return false;
  const ava = s.anonVma(a);
  const avb = s.anonVma(b);
  if (ava === avb) return true;
  if (ava === 0) return chainLength(vm, b) === 1;
  if (avb === 0) return chainLength(vm, a) === 1;
  return false;
}

/**
 * Merge mm.vmas[i] with mm.vmas[i + 1]: the lower one grows over the upper,
 * which is freed (its anon_vma moves to the survivor if only it had one).
 */
export function mergeWithNext(vm: Vm, mm: Mm, i: number): void {
  const s = vm.s;
  const a = mm.vmas[i]!;
  const b = mm.vmas[i + 1]!;
  if (s.anonVma(a) === 0 && s.anonVma(b) !== 0) {
    anonVmaClone(vm, a, b);
    s.set64(a, VMA.ANON_VMA, s.anonVma(b));
  }
  s.set64(a, VMA.END, s.vmEnd(b));
  // VM_SOFTDIRTY is sticky on the merged VMA.
  s.setVmFlags(a, s.vmFlags(a) | (s.vmFlags(b) & VM.SOFTDIRTY));
  mm.vmas.splice(i + 1, 1);
  vmAreaFree(vm, b);
}

/** Try merging vmas[i] with its neighbours; returns the index the merged VMA ends at. */
export function mergeAround(vm: Vm, mm: Mm, i: number): number {
  if (i + 1 < mm.vmas.length && canMerge(vm, mm.vmas[i]!, mm.vmas[i + 1]!)) mergeWithNext(vm, mm, i);
  if (i > 0 && canMerge(vm, mm.vmas[i - 1]!, mm.vmas[i]!)) {
    mergeWithNext(vm, mm, i - 1);
    return i - 1;
  }
  return i;
}

/**
 * __split_vma(): cut vmas[i] at addr; the new VMA (the part above addr) is
 * inserted after it. Both share the anon_vmas (anon_vma_clone).
 */
export function splitVma(vm: Vm, mm: Mm, i: number, addr: number): void {
  const s = vm.s;
  const v = mm.vmas[i]!;
  const n = vmAreaDup(vm, v);
  anonVmaClone(vm, n, v);
  s.set64(n, VMA.START, addr);
  s.set64(n, VMA.PGOFF, s.vmPgoff(v) + (addr - s.vmStart(v)) / 4096);
  s.set64(v, VMA.END, addr);
  mm.vmas.splice(i + 1, 0, n);
  vm.rmapGen++;
}

/** vma_link(): insert a new VMA in address order. Returns its index. */
export function insertVma(vm: Vm, mm: Mm, v: number): number {
  const start = vm.s.vmStart(v);
  let i = findVmaIndex(vm, mm, start);
  if (i < 0) i = mm.vmas.length;
  mm.vmas.splice(i, 0, v);
  vm.rmapGen++;
  return i;
}
