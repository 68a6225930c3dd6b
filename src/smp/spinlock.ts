/**
 * spin_lock() for kmem's CPUs when each is a worker thread on one
 * SharedArrayBuffer (include/linux/spinlock.h, kernel/locking/qspinlock.c
 * in spirit; the algorithm is the three-state futex mutex every JavaScript
 * Atomics lock uses).
 *
 * A lock is one int32 word of a shared Int32Array:
 *
 *   0  unlocked
 *   1  locked, nobody waits
 *   2  locked, and a CPU may sleep in Atomics.wait() on the word
 *
 * Memory ordering: Atomics operations are sequentially consistent, so the
 * compareExchange that takes the lock is an acquire (no load or store of
 * the critical section moves above it) and the exchange that drops it a
 * release (every store of the critical section is visible to the next
 * CPU that takes the lock). That is the ordering spin_lock()/spin_unlock()
 * give the kernel.
 *
 * A CPU spins a little before it sleeps: the kernel's critical sections
 * under n->list_lock and zone->lock are short, and a futex sleep costs
 * microseconds. Where Atomics.wait is not allowed (a browser's main thread)
 * it only spins.
 */

/** What the allocators call: a real lock with SMP, no-op functions without (chosen at boot). */
export interface Lock {
  lock(): void;
  unlock(): void;
}

/** The lock of a uniprocessor build: spin_lock() compiles to nothing. */
export const NO_LOCK: Lock = {
  lock(): void {},
  unlock(): void {},
};

/** Spins before a CPU sleeps on a contended lock. */
const SPINS = 64;

let canWait: boolean | null = null;

/** Can this thread block in Atomics.wait()? (Not on a browser's main thread.) */
function waitAllowed(): boolean {
  if (canWait === null) {
    try {
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 1, 0);
      canWait = true;
    } catch {
      canWait = false;
    }
  }
  return canWait;
}

/** spin_lock(): take the lock word a[i]. */
export function spinLock(a: Int32Array, i: number): void {
  const c = Atomics.compareExchange(a, i, 0, 1);
  if (c === 0) return;
  spinLockSlow(a, i, c);
}

function spinLockSlow(a: Int32Array, i: number, c: number): void {
  for (let n = 0; n < SPINS; n++) {
    if (c === 0) {
      c = Atomics.compareExchange(a, i, 0, 1);
      if (c === 0) return;
    } else {
      c = Atomics.load(a, i);
    }
  }
  const sleep = waitAllowed();
  // From here the word says 2 while we hold it: unlock must wake someone.
  if (c !== 2) c = Atomics.exchange(a, i, 2);
  while (c !== 0) {
    if (sleep) Atomics.wait(a, i, 2);
    c = Atomics.exchange(a, i, 2);
  }
}

/** spin_unlock(): drop the lock word a[i], waking one sleeper if any may wait. */
export function spinUnlock(a: Int32Array, i: number): void {
  if (Atomics.exchange(a, i, 0) === 2) Atomics.notify(a, i, 1);
}

/** spin_trylock() */
export function spinTrylock(a: Int32Array, i: number): boolean {
  return Atomics.compareExchange(a, i, 0, 1) === 0;
}

/** A lock word as a Lock object (the zone lock, a cache's list_lock). */
export class SpinLock implements Lock {
  readonly a: Int32Array;
  readonly i: number;
  constructor(a: Int32Array, i: number) {
    this.a = a;
    this.i = i;
  }
  lock(): void {
    spinLock(this.a, this.i);
  }
  unlock(): void {
    spinUnlock(this.a, this.i);
  }
}
