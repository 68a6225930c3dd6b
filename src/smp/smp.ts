/**
 * The SMP control block: what kmem's CPUs share besides the allocators'
 * own state when each CPU is a worker thread (boot({ smp: 'workers' })).
 * One SharedArrayBuffer of int32 words:
 *
 *   per CPU (CpuWord.STRIDE words each, cpu * STRIDE):
 *     OWNER      0 no thread runs this CPU, 1 a thread is attached to it,
 *                2 another CPU borrowed it to do its work (an offline CPU's
 *                flush or drain, as the kernel's hotplug callbacks do)
 *     HEAD       IPIs this CPU has completed (only the CPU itself writes it)
 *     TAIL       IPIs queued to it (written under RING_LOCK)
 *     RING_LOCK  the lock of the ring below, for the CPUs that queue to it
 *     RING       IPI_SLOTS requests of two words: op, arg
 *   global (Global.* after the per-CPU rows):
 *     ZONE_LOCK    zone->lock, one per zone
 *     LIST_LOCK    kmem_cache_node->list_lock, one per cache id
 *     SLAB_MUTEX   slab_mutex: cache creation and destruction
 *     CACHE_GEN    bumped for each record of the cache table (log below)
 *     LOG_LEN      bytes used of the cache table
 *
 * The cache table is a second buffer: an append-only log of one JSON
 * record per line (a cache created, merged into, or destroyed), written
 * under SLAB_MUTEX. A CPU that meets a cache it has no descriptor for
 * (its slow path sees CACHE_GEN moved) reads the records it has not seen.
 *
 * IPIs: smp_call_function_single() with wait=1. The sender queues op/arg on
 * the target's ring and waits until the target's HEAD passes its ticket,
 * serving its own ring while it waits (two CPUs that IPI each other must not
 * deadlock). The target serves its ring at its next kernel entry that takes
 * a slow path, or when its thread calls poll(). A CPU with no thread
 * attached is quiescent: the sender borrows it (OWNER 0 -> 2) and does the
 * work itself, as the kernel's CPU-dead callbacks flush a dead CPU's caches.
 */
import { MAX_CACHES } from '../slub/slab.js';
import type { CacheRecord } from '../slub/slab_common.js';
import { spinLock, spinUnlock } from './spinlock.js';

export const enum Ipi {
  /** flush_cpu_slab() of cache `arg` (flush_all, kmem_cache_shrink, kmem_cache_destroy). */
  FLUSH_CPU_SLAB = 1,
  /** drain_local_pages(NULL): the CPU's pcp lists of every zone (drain_all_pages). */
  DRAIN_PAGES = 2,
}

const enum CpuWord {
  OWNER = 0,
  HEAD = 1,
  TAIL = 2,
  RING_LOCK = 3,
  RING = 4,
  IPI_SLOTS = 32,
  STRIDE = RING + 2 * IPI_SLOTS,
}

const enum Owner {
  NONE = 0,
  ATTACHED = 1,
  BORROWED = 2,
}

const enum Global {
  ZONE_LOCK = 0,
  LIST_LOCK = 8,
  /** LIST_LOCK + MAX_CACHES (1024) */
  SLAB_MUTEX = LIST_LOCK + 1024,
  CACHE_GEN = SLAB_MUTEX + 1,
  LOG_LEN = CACHE_GEN + 1,
  WORDS = LOG_LEN + 1,
}

/** Bytes of the cache table. */
const LOG_BYTES = 1 << 20;

/**
 * The CPUs this JavaScript thread runs (one per attached kernel): a CPU
 * waiting for an IPI serves the others' rings too, or two kernels of one
 * thread that IPI each other would wait forever.
 */
const thisThread: WeakRef<SmpState>[] = [];

export class SmpState {
  readonly cpus: number;
  /** The control words (layout above). */
  readonly ctl: Int32Array;
  /** The cache table's bytes. */
  readonly log: Uint8Array;
  /** The CPU this thread runs (0 on the thread that booted). */
  cpu = 0;
  /** True on a kernel made by attach(): the VM half is the boot CPU's. */
  attached = false;
  /** Largest Atomics.wait injected at a race window, in µs (0: none): the smpJitter boot option. */
  readonly jitterUs: number;
  /** Bytes of the cache table this CPU has applied. */
  logSeen = 0;
  /** What an IPI does on this CPU (set by the machine). */
  handler: (op: number, arg: number) => void = () => {};
  /** Apply a record of the cache table written by another CPU (set by the machine). */
  applyRecord: (rec: CacheRecord) => void = () => {};
  private rng: number;
  private readonly encoder = new TextEncoder();
  private readonly decoder = new TextDecoder();
  private readonly sleepWord = new Int32Array(new SharedArrayBuffer(4));

  constructor(cpus: number, jitterUs: number) {
    if (MAX_CACHES !== 1024) throw new Error('smp.ts: Global.SLAB_MUTEX no longer matches MAX_CACHES');
    this.cpus = cpus;
    this.ctl = new Int32Array(new SharedArrayBuffer((cpus * CpuWord.STRIDE + Global.WORDS) * 4));
    this.log = new Uint8Array(new SharedArrayBuffer(LOG_BYTES));
    this.jitterUs = jitterUs;
    this.rng = 0x2545f491;
    // The thread that boots is CPU 0.
    this.ctl[CpuWord.OWNER] = Owner.ATTACHED;
    thisThread.push(new WeakRef(this));
  }

  private g(word: number): number {
    return this.cpus * CpuWord.STRIDE + word;
  }

  /** The word index of zone z's lock in ctl. */
  zoneLockWord(z: number): number {
    return this.g(Global.ZONE_LOCK + z);
  }

  /** The word index of cache s's n->list_lock in ctl. */
  listLockWord(s: number): number {
    return this.g(Global.LIST_LOCK + s);
  }

  /** Bind this thread to cpu: an Error if a thread already runs it. */
  claim(cpu: number): void {
    const at = cpu * CpuWord.STRIDE + CpuWord.OWNER;
    for (;;) {
      const o = Atomics.compareExchange(this.ctl, at, Owner.NONE, Owner.ATTACHED);
      if (o === Owner.NONE) break;
      if (o === Owner.ATTACHED) throw new Error(`cpu: CPU ${cpu} already has a thread attached (one thread per CPU)`);
      Atomics.wait(this.ctl, at, o, 1);
    }
    this.cpu = cpu;
    this.rng = (0x2545f491 ^ Math.imul(cpu + 1, 0x9e3779b9)) | 1;
  }

  /**
   * Take this CPU offline: serve what is queued, then release it, under
   * the ring lock so no sender queues to a CPU nobody serves any more.
   */
  release(): void {
    const base = this.cpu * CpuWord.STRIDE;
    spinLock(this.ctl, base + CpuWord.RING_LOCK);
    this.serve();
    Atomics.store(this.ctl, base + CpuWord.OWNER, Owner.NONE);
    spinUnlock(this.ctl, base + CpuWord.RING_LOCK);
    Atomics.notify(this.ctl, base + CpuWord.OWNER);
    const at = thisThread.findIndex((r) => r.deref() === this);
    if (at >= 0) thisThread.splice(at, 1);
  }

  /** While waiting for another CPU: serve this CPU's ring and those of the other CPUs of this machine this thread runs. */
  private pollWaiting(): void {
    this.poll();
    for (const r of thisThread) {
      const o = r.deref();
      if (o !== undefined && o !== this && o.ctl.buffer === this.ctl.buffer) o.poll();
    }
  }

  /** Is a thread attached to cpu? */
  online(cpu: number): boolean {
    return Atomics.load(this.ctl, cpu * CpuWord.STRIDE + CpuWord.OWNER) === Owner.ATTACHED;
  }

  /**
   * poll(): serve the IPIs queued to this CPU. The check is one load; the
   * Atomics.load of TAIL orders the sender's stores of the slot before our
   * reads of it (the sender stored the slot, then TAIL, both seq-cst).
   */
  poll(): void {
    const base = this.cpu * CpuWord.STRIDE;
    if (Atomics.load(this.ctl, base + CpuWord.TAIL) !== this.ctl[base + CpuWord.HEAD]) this.serve();
  }

  private serve(): void {
    const ctl = this.ctl;
    const base = this.cpu * CpuWord.STRIDE;
    let head = ctl[base + CpuWord.HEAD]!;
    while (head !== Atomics.load(ctl, base + CpuWord.TAIL)) {
      const slot = base + CpuWord.RING + 2 * (head % CpuWord.IPI_SLOTS);
      this.handler(ctl[slot]!, ctl[slot + 1]!);
      head++;
      // Release: the work's stores are visible to the sender before it sees HEAD pass its ticket.
      Atomics.store(ctl, base + CpuWord.HEAD, head);
      Atomics.notify(ctl, base + CpuWord.HEAD);
    }
  }

  /**
   * smp_call_function_single(target, op, arg, wait=1): run the IPI on
   * target and return once it is done. `direct` does the same work from
   * this thread for a CPU no thread runs.
   */
  runOn(target: number, op: number, arg: number, direct: () => void): void {
    if (target === this.cpu) {
      this.handler(op, arg);
      return;
    }
    const ctl = this.ctl;
    const base = target * CpuWord.STRIDE;
    for (;;) {
      const o = Atomics.compareExchange(ctl, base + CpuWord.OWNER, Owner.NONE, Owner.BORROWED);
      if (o === Owner.NONE) {
        try {
          direct();
        } finally {
          Atomics.store(ctl, base + CpuWord.OWNER, Owner.NONE);
          Atomics.notify(ctl, base + CpuWord.OWNER);
        }
        return;
      }
      if (o === Owner.ATTACHED) {
        const ticket = this.queue(target, op, arg);
        if (ticket < 0) continue; // went offline meanwhile: borrow it
        while (Atomics.load(ctl, base + CpuWord.HEAD) - ticket < 0) {
          this.pollWaiting();
          Atomics.wait(ctl, base + CpuWord.HEAD, Atomics.load(ctl, base + CpuWord.HEAD), 1);
        }
        return;
      }
      // Another CPU borrowed it: serve our own ring while it finishes.
      this.pollWaiting();
      Atomics.wait(ctl, base + CpuWord.OWNER, o, 1);
    }
  }

  /** Queue op/arg to an online target: the ticket its HEAD must reach, or -1 if it went offline. */
  private queue(target: number, op: number, arg: number): number {
    const ctl = this.ctl;
    const base = target * CpuWord.STRIDE;
    for (;;) {
      spinLock(ctl, base + CpuWord.RING_LOCK);
      if (Atomics.load(ctl, base + CpuWord.OWNER) !== Owner.ATTACHED) {
        spinUnlock(ctl, base + CpuWord.RING_LOCK);
        return -1;
      }
      const tail = ctl[base + CpuWord.TAIL]!;
      if (tail - Atomics.load(ctl, base + CpuWord.HEAD) < CpuWord.IPI_SLOTS) {
        const slot = base + CpuWord.RING + 2 * (tail % CpuWord.IPI_SLOTS);
        ctl[slot] = op;
        ctl[slot + 1] = arg;
        // seq-cst store: the slot's words are visible before the new TAIL.
        Atomics.store(ctl, base + CpuWord.TAIL, tail + 1);
        spinUnlock(ctl, base + CpuWord.RING_LOCK);
        return tail + 1;
      }
      spinUnlock(ctl, base + CpuWord.RING_LOCK);
      this.pollWaiting();
      Atomics.wait(ctl, base + CpuWord.HEAD, Atomics.load(ctl, base + CpuWord.HEAD), 1);
    }
  }

  // ───────────────────────── the cache table ─────────────────────────

  /** mutex_lock(&slab_mutex), then catch up with the cache table. */
  slabMutexLock(): void {
    spinLock(this.ctl, this.g(Global.SLAB_MUTEX));
    this.syncCaches();
  }

  slabMutexUnlock(): void {
    spinUnlock(this.ctl, this.g(Global.SLAB_MUTEX));
  }

  /** Append a record (under slab_mutex); this CPU has applied it already. */
  publish(rec: CacheRecord): void {
    const bytes = this.encoder.encode(`${JSON.stringify(rec)}\n`);
    const at = this.ctl[this.g(Global.LOG_LEN)]!;
    if (at + bytes.length > this.log.length) throw new RangeError('kmemCacheCreate: the shared cache table is full');
    this.log.set(bytes, at);
    // Release: the record's bytes before the new length; then the generation.
    Atomics.store(this.ctl, this.g(Global.LOG_LEN), at + bytes.length);
    Atomics.add(this.ctl, this.g(Global.CACHE_GEN), 1);
    this.logSeen = at + bytes.length;
  }

  /** The generation of the cache table (records written so far). */
  get generation(): number {
    return Atomics.load(this.ctl, this.g(Global.CACHE_GEN));
  }

  /** Apply the records other CPUs wrote since this CPU last looked. The Atomics.load of LOG_LEN is the acquire. */
  syncCaches(): void {
    const end = Atomics.load(this.ctl, this.g(Global.LOG_LEN));
    if (end === this.logSeen) return;
    const text = this.decoder.decode(this.log.slice(this.logSeen, end));
    this.logSeen = end;
    for (const line of text.split('\n')) if (line !== '') this.applyRecord(JSON.parse(line) as CacheRecord);
  }

  // ───────────────────────── test builds ─────────────────────────

  /**
   * An Atomics.wait of up to jitterUs at a race window (smpJitter), on one
   * call in four, so that the other CPUs run into the window. Nothing when
   * the option is off.
   */
  jitter(): void {
    if (this.jitterUs === 0) return;
    let x = this.rng;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.rng = x;
    if ((x & 3) !== 0) return;
    Atomics.wait(this.sleepWord, 0, 0, (((x >>> 2) & 1023) / 1024) * (this.jitterUs / 1000));
  }
}
