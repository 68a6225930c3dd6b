/**
 * Processes (kernel/fork.c, kernel/exit.c): the Task API, fork with
 * dup_mmap(), exit with exit_mmap(), wait. Loads and stores of a task go
 * through its page tables, with a software TLB in front of the walk.
 */

import { KernelPanic } from '../lib/panic.js';
import { execve } from './binfmt_elf.js';
import { BusError, Killed, Segfault, signalMsg } from './fault.js';
import { copyPageRange, doAnonymousWriteFast, doUserAddrFault, FAST_FAULT_NA, VM_FAULT_OOM, VM_FAULT_SIGBUS, zapRange } from './memory.js';
import { Mm, TASK_SIZE, VMA } from './mm_types.js';
import { writebackTaskExit } from './page-writeback.js';
import {
  closeAll,
  dupFds,
  type FdTable,
  sysClose,
  sysFadvise,
  sysFsync,
  sysFtruncate,
  sysLseek,
  sysOpen,
  sysPread,
  sysPwrite,
  sysRead,
  sysRename,
  sysSync,
  sysSyncfs,
  sysUnlink,
  sysWrite,
} from './read_write.js';

const VMA_ANON_VMA = VMA.ANON_VMA;

import { doMincore } from './mincore.js';
import { doMlock, doMunlock } from './mlock.js';
import { ECHILD, ENOMEM, VM } from './mman.js';
import { doBrk, doMadvise, doMmap, doMprotect, doMunmap } from './mmap.js';
import { doMremap } from './mremap.js';
import { doMsync } from './msync.js';
import { exitOomVictims, pagefaultOutOfMemory, SIGKILL } from './oom_kill.js';
import { _PAGE_ACCESSED, _PAGE_DIRTY, _PAGE_PRESENT, _PAGE_RW, _PAGE_SOFT_DIRTY } from './pgtable.js';
import { pagemap, procPidAuxv } from './task_mmu.js';
import type { Vm } from './vm.js';
import { anonVmaFork, mapleDup, syncMapleNodes, vmAreaDup, vmAreaFree } from './vma.js';

const TASK_RUNNING = 0;
const PF_FORKNOEXEC = 0x40;
const EXIT_ZOMBIE = 1;
const EXIT_DEAD = 2;

/** A TLB that never hits: what an exited task's loads and stores see. */
const NO_TLB = new Float64Array(256).fill(-1);
const NO_PHYS = new Int32Array(256);

export class Task {
  comm: string;
  private mmRef: Mm | null = null;
  /** The mm's software TLB, held here so a load reads one field less. */
  private tlbTagR: Float64Array = NO_TLB;
  private tlbPhysR: Int32Array = NO_PHYS;
  private tlbTagW: Float64Array = NO_TLB;
  private tlbPhysW: Int32Array = NO_PHYS;
  private readonly u32: Uint32Array;
  parent: Task | null;
  readonly children: Task[] = [];
  /** min_flt, maj_flt, and the reaped children's (signal->cmin_flt, cmaj_flt) */
  minFlt = 0;
  majFlt = 0;
  cminFlt = 0;
  cmajFlt = 0;
  /** PF_* flags /proc/PID/stat shows: PF_FORKNOEXEC (0x40) from fork until execve */
  flags = 0;
  /** start_time in ns of the machine's clock */
  readonly startNs: number;
  state = TASK_RUNNING;
  /** wait status (exit code << 8, or the killing signal) */
  exitCode = 0;
  /** the status of the last child wait() reaped */
  wstatus = 0;
  /** the task_struct and struct pid objects */
  readonly taskStruct: number;
  readonly pidObj: number;
  private readonly u8: Uint8Array;
  private readonly dv: DataView;
  /** files_struct: the open files by fd */
  fdt: FdTable = [];
  /** signal->oom_score_adj_min: the floor an unprivileged writer may not go below (kmem's writer is root) */
  oomScoreAdjMin = 0;
  private adj = 0;
  /** fatal_signal_pending(): a SIGKILL not yet acted on */
  sigkillPending = false;
  /** tsk_is_oom_victim(): the OOM killer chose this task */
  oomVictim = false;

  constructor(
    readonly vm: Vm,
    readonly pid: number,
    comm: string,
    parent: Task | null,
  ) {
    this.comm = comm.slice(0, 15);
    this.parent = parent;
    this.taskStruct = vm.alloc(vm.caches.taskStruct);
    this.pidObj = vm.alloc(vm.caches.pid);
    vm.k.syncClock();
    this.startNs = vm.k.printk.nowNs;
    this.u8 = vm.k.phys.u8;
    this.u32 = vm.k.phys.u32;
    this.dv = vm.k.phys.dv;
  }

  /**
   * signal->oom_score_adj (-1000..1000, inherited by fork): what
   * /proc/PID/oom_score_adj reads and writes. -1000 makes the task
   * unkillable by the OOM killer, 1000 its first choice.
   */
  get oomScoreAdj(): number {
    return this.adj;
  }

  set oomScoreAdj(v: number) {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < -1000 || v > 1000)
      throw new RangeError(`oomScoreAdj: expected an integer in -1000..1000, got ${String(v)}`);
    this.adj = v;
  }

  /** task->mm */
  get mm(): Mm | null {
    return this.mmRef;
  }

  set mm(mm: Mm | null) {
    this.mmRef = mm;
    this.tlbTagR = mm === null ? NO_TLB : mm.tlbTagR;
    this.tlbPhysR = mm === null ? NO_PHYS : mm.tlbPhysR;
    this.tlbTagW = mm === null ? NO_TLB : mm.tlbTagW;
    this.tlbPhysW = mm === null ? NO_PHYS : mm.tlbPhysW;
  }

  // ───────────────────────── loads and stores ─────────────────────────

  read8(va: number): number {
    const vpn = Math.floor(va / 4096);
    const s = vpn & 255;
    if (this.tlbTagR[s] === vpn) return this.u8[this.tlbPhysR[s]! + (va - vpn * 4096)]!;
    return this.u8[this.translate(va, false)]!;
  }

  write8(va: number, v: number): void {
    const vpn = Math.floor(va / 4096);
    const s = vpn & 255;
    if (this.tlbTagW[s] === vpn) this.u8[this.tlbPhysW[s]! + (va - vpn * 4096)] = v;
    else this.u8[this.writeMiss(va) * 4096 + (va - vpn * 4096)] = v;
  }

  read16(va: number): number {
    return this.sameP(va, 2) ? this.dv.getUint16(this.phys(va, false), true) : this.read8(va) | (this.read8(va + 1) << 8);
  }

  read32(va: number): number {
    const vpn = Math.floor(va / 4096);
    const s = vpn & 255;
    const off = va - vpn * 4096;
    if (this.tlbTagR[s] === vpn && (off & 3) === 0) return this.u32[(this.tlbPhysR[s]! + off) >>> 2]!;
    if (this.sameP(va, 4)) return this.dv.getUint32(this.translate(va, false), true);
    return (this.read16(va) | (this.read16(va + 2) << 16)) >>> 0;
  }

  read64(va: number): bigint {
    if (this.sameP(va, 8)) return this.dv.getBigUint64(this.phys(va, false), true);
    return BigInt(this.read32(va)) | (BigInt(this.read32(va + 4)) << 32n);
  }

  write16(va: number, v: number): void {
    if (this.sameP(va, 2)) this.dv.setUint16(this.phys(va, true), v, true);
    else {
      this.write8(va, v & 0xff);
      this.write8(va + 1, (v >>> 8) & 0xff);
    }
  }

  write32(va: number, v: number): void {
    const vpn = Math.floor(va / 4096);
    const s = vpn & 255;
    const off = va - vpn * 4096;
    if (this.tlbTagW[s] === vpn && (off & 3) === 0) this.u32[(this.tlbPhysW[s]! + off) >>> 2] = v;
    else if (this.sameP(va, 4)) this.dv.setUint32(this.writeMiss(va) * 4096 + off, v, true);
    else {
      this.write16(va, v & 0xffff);
      this.write16(va + 2, (v >>> 16) & 0xffff);
    }
  }

  write64(va: number, v: bigint | number): void {
    const b = BigInt.asUintN(64, BigInt(v));
    if (this.sameP(va, 8)) this.dv.setBigUint64(this.phys(va, true), b, true);
    else {
      this.write32(va, Number(b & 0xffffffffn));
      this.write32(va + 4, Number(b >> 32n));
    }
  }

  readBytes(va: number, n: number): Uint8Array {
    checkLen(n);
    const out = new Uint8Array(n);
    let done = 0;
    while (done < n) {
      const a = va + done;
      const chunk = Math.min(n - done, 4096 - (a % 4096));
      const p = this.translate(a, false);
      out.set(this.u8.subarray(p, p + chunk), done);
      done += chunk;
    }
    return out;
  }

  writeBytes(va: number, bytes: ArrayLike<number>): void {
    const n = bytes.length;
    let done = 0;
    const src = bytes instanceof Uint8Array ? bytes : Uint8Array.from(bytes);
    while (done < n) {
      const a = va + done;
      const chunk = Math.min(n - done, 4096 - (a % 4096));
      const p = this.translate(a, true);
      this.u8.set(src.subarray(done, done + chunk), p);
      done += chunk;
    }
  }

  private sameP(va: number, n: number): boolean {
    return typeof va === 'number' && va % 4096 <= 4096 - n;
  }

  private phys(va: number, write: boolean): number {
    return this.translate(va, write);
  }

  /**
   * The MMU: the physical address of the byte at va for a load or a store,
   * through the TLB, else a walk of the page tables, else a page fault.
   */
  translate(va: number, write: boolean): number {
    const mm = this.live();
    if (typeof va !== 'number' || !Number.isInteger(va) || va < 0 || va >= 2 ** 64) {
      throw new TypeError(`va: expected an integer address, got ${String(va)}`);
    }
    return this.walkFault(mm, va, write, 0);
  }

  /**
   * A store that missed the TLB. The first store to an empty PTE of the VMA
   * the last fault found, when nothing is pending that live() would act on
   * (a panic, a queued OOM exit, a SIGKILL), is doAnonymousWriteFast taken
   * from here with translate()'s steps around it in translate()'s order;
   * everything else, and an OOM after the fast path's allocation (from the
   * retry on, as translate() would go on), is translate()'s. The state after
   * it is the same as after translate(). Returns the frame stored into (a
   * small integer: no number is boxed on the way back).
   */
  private writeMiss(va: number): number {
    const mm = this.mmRef;
    const vm = this.vm;
    if (mm === null || this.state !== TASK_RUNNING || this.sigkillPending || vm.oom.panicked !== null || vm.oom.pendingExits.length !== 0)
      return this.writePfn(va);
    if (typeof va !== 'number' || !(va >= 0 && va < TASK_SIZE) || Math.floor(va) !== va) return this.writePfn(va);
    const u32 = this.u32;
    const idx = vm.pt.walk(mm.pgd, va);
    if (idx < 0 || u32[idx] !== 0 || u32[idx + 1] !== 0) return Math.floor(this.walkFault(mm, va, true, 0) / 4096);
    const caller = vm.current;
    vm.current = this;
    const pfn = doAnonymousWriteFast(vm, this, mm, va, idx);
    vm.current = caller;
    if (pfn === FAST_FAULT_NA) return Math.floor(this.walkFault(mm, va, true, 0) / 4096);
    if (pfn === VM_FAULT_OOM) {
      pagefaultOutOfMemory(vm, this);
      if (this.sigkillPending) this.sigkillExit();
      exitOomVictims(vm);
      return Math.floor(this.walkFault(mm, va, true, 1) / 4096);
    }
    if (this.sigkillPending) this.sigkillExit();
    exitOomVictims(vm);
    const vpn = Math.floor(va / 4096);
    const s = vpn & 255;
    mm.tlbTagW[s] = vpn;
    mm.tlbPhysW[s] = pfn * 4096;
    mm.tlbTagR[s] = vpn;
    mm.tlbPhysR[s] = pfn * 4096;
    return pfn;
  }

  /** translate(va, true)'s frame number. */
  private writePfn(va: number): number {
    return Math.floor(this.translate(va, true) / 4096);
  }

  /** translate() after live() and the argument check: the walk and the faults, from try `first` of three. */
  private walkFault(mm: Mm, va: number, write: boolean, first: number): number {
    const vm = this.vm;
    const u32 = vm.k.phys.u32;
    const vpn = Math.floor(va / 4096);
    const off = va - vpn * 4096;
    for (let tries = first; tries < 3; tries++) {
      const idx = va < TASK_SIZE ? vm.pt.walk(mm.pgd, va) : -1;
      if (idx >= 0) {
        const lo = u32[idx]!;
        if ((lo & _PAGE_PRESENT) !== 0 && (!write || (lo & _PAGE_RW) !== 0)) {
          const page = (lo & ~0xfff) >>> 0;
          const s = vpn & 255;
          // The CPU sets accessed, and dirty on a store, as it fills its TLB.
          if (write) {
            u32[idx] = (lo | _PAGE_ACCESSED | _PAGE_DIRTY | _PAGE_SOFT_DIRTY) >>> 0;
            mm.tlbTagW[s] = vpn;
            mm.tlbPhysW[s] = page;
          } else {
            u32[idx] = (lo | _PAGE_ACCESSED) >>> 0;
          }
          mm.tlbTagR[s] = vpn;
          mm.tlbPhysR[s] = page;
          return page + off;
        }
      }
      const caller = vm.current;
      vm.current = this;
      // The first store to an anonymous page: the fault written out, then the TLB fill.
      const e = write && idx >= 0 && u32[idx] === 0 && u32[idx + 1] === 0 ? doAnonymousWriteFast(vm, this, mm, va, idx) : FAST_FAULT_NA;
      if (e >= 0) {
        vm.current = caller;
        if (this.sigkillPending) this.sigkillExit();
        exitOomVictims(vm);
        const page = e * 4096;
        const s = vpn & 255;
        mm.tlbTagW[s] = vpn;
        mm.tlbPhysW[s] = page;
        mm.tlbTagR[s] = vpn;
        mm.tlbPhysR[s] = page;
        return page + off;
      }
      const r = e === VM_FAULT_OOM ? VM_FAULT_OOM : doUserAddrFault(vm, this, va, write, idx);
      vm.current = caller;
      // The way back to user mode: a pending SIGKILL (the OOM killer's) is delivered.
      if (r === VM_FAULT_OOM) pagefaultOutOfMemory(vm, this);
      if (this.sigkillPending) this.sigkillExit();
      exitOomVictims(vm);
      if (r === VM_FAULT_SIGBUS) this.sigbus(va);
      if (r > 0) this.segv(va, r);
    }
    throw new Error('kmem: a fault did not make progress');
  }

  /** do_sigbus(): force_sig_fault(SIGBUS, BUS_ADRERR) with no message; the task dies, the caller gets a BusError. */
  private sigbus(va: number): never {
    this.doExit(7);
    throw new BusError(this.pid, this.comm, va);
  }

  /** force_sig_fault(SIGSEGV): the message, the task dies, the caller gets a Segfault. */
  private segv(va: number, error: number): never {
    const k = this.vm.k;
    k.log(signalMsg(this.comm, this.pid, va, error, k.currentCpu));
    this.doExit(11);
    throw new Segfault(this.pid, this.comm, va, error);
  }

  // ───────────────────────── signals ─────────────────────────

  /**
   * send SIGKILL (do_send_sig_info + mark_oom_victim): from now on every
   * load and store misses the TLB and reaches translate(), where the task dies.
   */
  sigkill(): void {
    this.sigkillPending = true;
    this.oomVictim = true;
    this.tlbTagR = NO_TLB;
    this.tlbTagW = NO_TLB;
  }

  /** The SIGKILL delivered: do_exit(SIGKILL) if not done yet, and the caller gets Killed. */
  private sigkillExit(): never {
    this.sigkillPending = false;
    if (!this.exited) this.doExit(SIGKILL);
    throw new Killed(this.pid, this.comm);
  }

  // ───────────────────────── system calls ─────────────────────────

  /** The task's mm, once pending exits of OOM victims are done; a dead task's caller learns how it died (or that the machine panicked). */
  private live(): Mm {
    const vm = this.vm;
    if (vm.oom.panicked !== null) throw new KernelPanic(vm.oom.panicked);
    exitOomVictims(vm);
    if (this.sigkillPending || (this.exited && this.oomVictim)) this.sigkillExit();
    if (this.mm === null) throw new Error(`${this.comm}[${this.pid}]: the task has exited`);
    return this.mm;
  }

  /** Entering a system call: as live(), and this task is current until ret(). */
  private alive(): Mm {
    const mm = this.live();
    this.vm.current = this;
    return mm;
  }

  /** Leaving a system call: a SIGKILL that arrived during it is delivered now. */
  private ret<T>(v: T): T {
    this.vm.current = null;
    if (this.sigkillPending) this.sigkillExit();
    exitOomVictims(this.vm);
    return v;
  }

  mmap(addr: number, len: number, prot: number, flags: number, fd: number, off: number): number {
    this.alive();
    for (const [n, v] of [
      ['addr', addr],
      ['len', len],
      ['prot', prot],
      ['flags', flags],
      ['fd', fd],
      ['off', off],
    ] as const)
      checkInt(n, v);
    return this.ret(doMmap(this.vm, this, addr, len, prot, flags, fd, off));
  }

  munmap(addr: number, len: number): number {
    this.alive();
    checkInt('addr', addr);
    checkInt('len', len);
    return this.ret(doMunmap(this.vm, this, addr, len));
  }

  mprotect(addr: number, len: number, prot: number): number {
    this.alive();
    checkInt('addr', addr);
    checkInt('len', len);
    checkInt('prot', prot);
    return this.ret(doMprotect(this.vm, this, addr, len, prot));
  }

  madvise(addr: number, len: number, advice: number): number {
    this.alive();
    checkInt('addr', addr);
    checkInt('len', len);
    checkInt('advice', advice);
    return this.ret(doMadvise(this.vm, this, addr, len, advice));
  }

  /** mremap(2): the new address, or -errno. */
  mremap(addr: number, oldLen: number, newLen: number, flags: number, newAddr = 0): number {
    this.alive();
    for (const [n, v] of [
      ['addr', addr],
      ['oldLen', oldLen],
      ['newLen', newLen],
      ['flags', flags],
      ['newAddr', newAddr],
    ] as const)
      checkInt(n, v);
    return this.ret(doMremap(this.vm, this, addr, oldLen, newLen, flags, newAddr));
  }

  /** mlock(2) */
  mlock(addr: number, len: number): number {
    this.alive();
    checkInt('addr', addr);
    checkInt('len', len);
    return this.ret(doMlock(this.vm, this, addr, len, 0));
  }

  /** mlock2(2): flags 0 or MLOCK_ONFAULT */
  mlock2(addr: number, len: number, flags: number): number {
    this.alive();
    checkInt('addr', addr);
    checkInt('len', len);
    checkInt('flags', flags);
    return this.ret(doMlock(this.vm, this, addr, len, flags));
  }

  /** munlock(2) */
  munlock(addr: number, len: number): number {
    this.alive();
    checkInt('addr', addr);
    checkInt('len', len);
    return this.ret(doMunlock(this.vm, this, addr, len));
  }

  /** msync(2): 0 or -errno (MS_SYNC writes the shared file mappings' dirty pages of the range to the disk). */
  msync(addr: number, len: number, flags: number): number {
    this.alive();
    checkInt('addr', addr);
    checkInt('len', len);
    checkInt('flags', flags);
    return doMsync(this.vm, this, addr, len, flags);
  }

  /** mincore(2): one byte per page of [addr, addr + len), 1 where resident; -EINVAL or -ENOMEM. */
  mincore(addr: number, len: number): Uint8Array | number {
    this.alive();
    checkInt('addr', addr);
    checkInt('len', len);
    return this.ret(doMincore(this.vm, this, addr, len));
  }

  /** The /proc/PID/pagemap entries of n pages from addr (the kernel's 64-bit format). */
  pagemap(addr: number, n: number): BigUint64Array {
    checkInt('addr', addr);
    checkLen(n);
    return pagemap(this.vm, this, addr, n);
  }

  /** /proc/PID/auxv: the auxiliary vector exec gave this task (u64 pairs, AT_NULL included), as bytes. */
  auxv(): Uint8Array {
    return procPidAuxv(this);
  }

  brk(addr: number): number {
    this.alive();
    checkInt('addr', addr);
    return this.ret(doBrk(this.vm, this, addr));
  }

  /** fork(2): the child Task (copy-on-write). When the commit limit refuses the copy (fork's -ENOMEM), throws an Error with errno. */
  fork(): Task {
    const mm = this.alive();
    const vm = this.vm;
    const child = new Task(vm, vm.nextPid++, this.comm, this);
    child.flags = PF_FORKNOEXEC;
    child.oomScoreAdj = this.oomScoreAdj;
    child.oomScoreAdjMin = this.oomScoreAdjMin;
    vm.tasks.set(child.pid, child);
    this.children.push(child);
    // dup_mmap() charges the child's accounted VMAs.
    let charge = 0;
    for (const v of mm.vmas) {
      const f = vm.s.vmFlags(v);
      if ((f & VM.ACCOUNT) !== 0 && (f & VM.DONTCOPY) === 0) charge += (vm.s.vmEnd(v) - vm.s.vmStart(v)) / 4096;
    }
    if (charge > 0 && !vm.enoughMemory(this, charge)) {
      child.release();
      vm.nextPid--;
      const err = new Error(`fork: ${this.comm}[${this.pid}]: error ${ENOMEM}`) as Error & { errno: number };
      err.errno = ENOMEM;
      throw err;
    }
    child.mm = dupMmap(vm, mm);
    child.fdt = dupFds(this.fdt);
    this.mm!.flushTlb();
    return this.ret(child);
  }

  /** execve(2): 0, or -errno (ENOENT, ENOEXEC, EIO) with the old image kept. */
  execve(path: string, argv: string[] = [path], envp: string[] = []): number {
    this.alive();
    return this.ret(execve(this.vm, this, path, argv, envp));
  }

  /** exit(2) */
  exit(code: number): void {
    this.alive();
    checkInt('code', code);
    this.doExit((code & 0xff) << 8);
  }

  /** do_exit(): the address space goes at once; the task stays a zombie until its parent waits. */
  doExit(status: number): void {
    const vm = this.vm;
    closeAll(vm, this.fdt);
    writebackTaskExit(vm, this);
    if (this.mm !== null) {
      exitMmap(vm, this.mm);
      this.mm = null;
    }
    this.exitCode = status;
    this.state = EXIT_ZOMBIE;
    if (vm.current === this) vm.current = null;
    // Orphans go to init, which reaps zombies at once.
    for (const c of this.children.splice(0)) {
      c.parent = vm.init;
      if (c.state === EXIT_ZOMBIE) c.release();
      else vm.init.children.push(c);
    }
    if (this.parent === null || this.parent === vm.init || this.parent.state !== TASK_RUNNING) this.release();
  }

  /** wait(2): reap one exited child; its pid, or -ECHILD. The status is in wstatus. */
  wait(): number {
    exitOomVictims(this.vm);
    const z = this.children.find((c) => c.state === EXIT_ZOMBIE);
    if (z === undefined) return -ECHILD;
    this.wstatus = z.exitCode;
    // wait_task_zombie(): the child's faults and its children's add to ours.
    this.cminFlt += z.minFlt + z.cminFlt;
    this.cmajFlt += z.majFlt + z.cmajFlt;
    z.release();
    return z.pid;
  }

  /** release_task(): the task_struct and pid go back to their caches. */
  release(): void {
    if (this.state === EXIT_DEAD) return;
    const vm = this.vm;
    this.state = EXIT_DEAD;
    if (this.parent !== null) {
      const i = this.parent.children.indexOf(this);
      if (i >= 0) this.parent.children.splice(i, 1);
    }
    vm.tasks.delete(this.pid);
    vm.k.kmemCacheFree(vm.caches.taskStruct, this.taskStruct);
    vm.k.kmemCacheFree(vm.caches.pid, this.pidObj);
  }

  // ───────────────────────── file system calls ─────────────────────────

  /**
   * The kernel's access to user memory (copy_to_user / copy_from_user): the
   * physical address of the byte at va for a kernel store (write) or load,
   * faulting the page in as the user would; -1 where the user's access would
   * fault (the system call's -EFAULT; no signal).
   */
  userPhys(va: number, write: boolean): number {
    const mm = this.mm;
    if (mm === null || va < 0 || va >= TASK_SIZE) return -1;
    const vm = this.vm;
    const u32 = vm.k.phys.u32;
    for (let tries = 0; tries < 3; tries++) {
      const idx = vm.pt.walk(mm.pgd, va);
      if (idx >= 0) {
        const lo = u32[idx]!;
        if ((lo & _PAGE_PRESENT) !== 0 && (!write || (lo & _PAGE_RW) !== 0)) {
          u32[idx] = (lo | _PAGE_ACCESSED | (write ? _PAGE_DIRTY | _PAGE_SOFT_DIRTY : 0)) >>> 0;
          return ((lo & ~0xfff) >>> 0) + (va % 4096);
        }
      }
      const r = doUserAddrFault(vm, this, va, write, idx);
      // A uaccess fault that ran out of memory or hit a SIGBUS: -EFAULT for the system call (the SIGKILL waits for its end).
      if (r === VM_FAULT_OOM || r === VM_FAULT_SIGBUS || r > 0) return -1;
    }
    return -1;
  }

  /** open(2): the lowest free fd, or -errno. mode is accepted (kmem has no permissions yet). */
  open(path: string, flags: number, mode = 0o666): number {
    this.alive();
    if (typeof path !== 'string') throw new TypeError(`path: expected a string, got ${typeof path}`);
    checkInt('flags', flags);
    checkInt('mode', mode);
    return this.ret(sysOpen(this.vm, this.fdt, path, flags, mode));
  }

  /** close(2) */
  close(fd: number): number {
    this.alive();
    checkInt('fd', fd);
    return this.ret(sysClose(this.vm, this.fdt, fd));
  }

  /** read(2) into user memory at addr: bytes read, 0 at the end, or -errno. */
  read(fd: number, addr: number, n: number): number {
    this.alive();
    for (const [k, v] of [
      ['fd', fd],
      ['addr', addr],
      ['n', n],
    ] as const)
      checkInt(k, v);
    return this.ret(sysRead(this.vm, this, this.fdt, fd, addr, n));
  }

  /** write(2) from user memory at addr: bytes written or -errno. */
  write(fd: number, addr: number, n: number): number {
    this.alive();
    for (const [k, v] of [
      ['fd', fd],
      ['addr', addr],
      ['n', n],
    ] as const)
      checkInt(k, v);
    return this.ret(sysWrite(this.vm, this, this.fdt, fd, addr, n));
  }

  /** pread64(2) */
  pread(fd: number, addr: number, n: number, off: number): number {
    this.alive();
    for (const [k, v] of [
      ['fd', fd],
      ['addr', addr],
      ['n', n],
      ['off', off],
    ] as const)
      checkInt(k, v);
    return this.ret(sysPread(this.vm, this, this.fdt, fd, addr, n, off));
  }

  /** pwrite64(2) */
  pwrite(fd: number, addr: number, n: number, off: number): number {
    this.alive();
    for (const [k, v] of [
      ['fd', fd],
      ['addr', addr],
      ['n', n],
      ['off', off],
    ] as const)
      checkInt(k, v);
    return this.ret(sysPwrite(this.vm, this, this.fdt, fd, addr, n, off));
  }

  /** lseek(2): the new offset or -errno. */
  lseek(fd: number, off: number, whence: number): number {
    this.alive();
    for (const [k, v] of [
      ['fd', fd],
      ['off', off],
      ['whence', whence],
    ] as const)
      checkInt(k, v);
    return this.ret(sysLseek(this.vm, this.fdt, fd, off, whence));
  }

  /** ftruncate(2) */
  ftruncate(fd: number, len: number): number {
    this.alive();
    checkInt('fd', fd);
    checkInt('len', len);
    return this.ret(sysFtruncate(this.vm, this.fdt, fd, len));
  }

  /** fsync(2): the file's dirty pages are written to the disk. */
  fsync(fd: number): number {
    this.alive();
    checkInt('fd', fd);
    return this.ret(sysFsync(this.vm, this.fdt, fd));
  }

  /** sync(2): every dirty page of every file written; returns when the disk has completed them. */
  sync(): void {
    this.alive();
    sysSync(this.vm);
  }

  /** syncfs(2): 0 or -EBADF. */
  syncfs(fd: number): number {
    this.alive();
    checkInt('fd', fd);
    return sysSyncfs(this.vm, this.fdt, fd);
  }

  /** fdatasync(2) (kmem keeps no metadata apart: as fsync) */
  fdatasync(fd: number): number {
    return this.fsync(fd);
  }

  /** fadvise64(2) (posix_fadvise's system call): 0 or -errno. */
  posixFadvise(fd: number, off: number, len: number, advice: number): number {
    this.alive();
    for (const [k, v] of [
      ['fd', fd],
      ['off', off],
      ['len', len],
      ['advice', advice],
    ] as const)
      checkInt(k, v);
    return this.ret(sysFadvise(this.vm, this.fdt, fd, off, len, advice));
  }

  /** unlink(2) */
  unlink(path: string): number {
    this.alive();
    if (typeof path !== 'string') throw new TypeError(`path: expected a string, got ${typeof path}`);
    return this.ret(sysUnlink(this.vm, path));
  }

  /** rename(2) */
  rename(from: string, to: string): number {
    this.alive();
    if (typeof from !== 'string' || typeof to !== 'string') throw new TypeError('rename: expected two path strings');
    return this.ret(sysRename(this.vm, from, to));
  }

  get exited(): boolean {
    return this.state !== TASK_RUNNING;
  }
}

function checkInt(name: string, v: unknown): void {
  if (typeof v !== 'number' || !Number.isInteger(v)) throw new TypeError(`${name}: expected an integer, got ${String(v)}`);
}

function checkLen(n: number): void {
  if (!Number.isInteger(n) || n < 0) throw new RangeError(`n: expected a non-negative integer, got ${String(n)}`);
}

/** mm_alloc() + mm_init(): an mm_struct with an empty PGD. */
export function mmAlloc(vm: Vm): Mm {
  const mm = new Mm(vm.alloc(vm.caches.mmStruct));
  const pgd = vm.pt.allocPgd();
  if (pgd < 0) throw new Error('kmem: out of memory for a page table');
  mm.pgd = pgd;
  vm.mms.set(mm.addr, mm);
  vm.rmapGen++;
  return mm;
}

/** dup_mmap(): the child's mm, a copy of every VMA (but VM_DONTCOPY ones) and of the page tables of those with anonymous pages. */
export function dupMmap(vm: Vm, old: Mm): Mm {
  const s = vm.s;
  const mm = mmAlloc(vm);
  for (const k of [
    'mmapBase',
    'taskSize',
    'startCode',
    'endCode',
    'startData',
    'endData',
    'startBrk',
    'brk',
    'startStack',
    'argStart',
    'argEnd',
    'envStart',
    'envEnd',
    'totalVm',
    'dataVm',
    'execVm',
    'stackVm',
    'stackRlimit',
  ] as const)
    mm[k] = old[k];
  mm.savedAuxv = old.savedAuxv;
  for (const v of old.vmas) {
    const flags = s.vmFlags(v);
    if ((flags & VM.DONTCOPY) !== 0) {
      vm.statAccount(mm, flags, -(s.vmEnd(v) - s.vmStart(v)) / 4096);
      continue;
    }
    const n = vmAreaDup(vm, v);
    s.set64(n, 0x10, mm.addr);
    // Memory locks are not inherited.
    s.setVmFlags(n, s.vmFlags(n) & ~(VM.LOCKED | VM.LOCKONFAULT));
    // MADV_WIPEONFORK: the child's copy starts empty, with no anon_vma.
    if ((flags & VM.WIPEONFORK) !== 0) s.set64(n, VMA_ANON_VMA, 0);
    else anonVmaFork(vm, n, v);
    mm.vmas.push(n);
    vm.rmapGen++;
    // copy_page_range() only where the pages cannot be found again by faulting: anonymous ones.
    if (s.anonVma(v) !== 0 && (flags & VM.WIPEONFORK) === 0) {
      if (!copyPageRange(vm, mm, old, v)) throw new Error('kmem: out of memory in fork');
    }
  }
  mapleDup(vm, old, mm);
  // dup_mm(): hiwater_vm once the VM_DONTCOPY VMAs are off total_vm.
  mm.hiwaterVm = mm.totalVm;
  syncMapleNodes(vm, mm);
  return mm;
}

/** exit_mmap(): unmap every page, free every VMA, page table and the mm itself. */
export function exitMmap(vm: Vm, mm: Mm): void {
  const s = vm.s;
  for (const v of mm.vmas) zapRange(vm, mm, s.vmStart(v), s.vmEnd(v));
  vm.pt.freeAll(mm.pgd, mm);
  for (const v of mm.vmas) vmAreaFree(vm, v);
  mm.vmas.length = 0;
  syncMapleNodes(vm, mm);
  vm.mms.delete(mm.addr);
  vm.rmapGen++;
  vm.k.kmemCacheFree(vm.caches.mmStruct, mm.addr);
  mm.pgd = 0;
}
