/**
 * The page allocator with real CPUs (boot({ smp: 'workers' })): zone->lock
 * around the buddy allocator's entry points, the per-CPU page lists left to
 * their CPU. The pcp fast paths (rmqueue_pcplist, free_unref_page_commit)
 * are PageAlloc's own: each touches only this CPU's pcp lists, which no
 * other thread writes -- drain_all_pages() asks each CPU to drain its own
 * (an IPI), as the kernel queues drain_local_pages_wq on every CPU.
 *
 * Memory ordering: zone->lock is an Atomics lock (src/smp/spinlock.ts): its
 * acquire and release order the free lists, the buddy bits in struct page
 * and NR_FREE_PAGES. struct page fields of a block taken off a list are the
 * taking CPU's alone until it frees it again. vm events (PGALLOC, PGFREE)
 * are plain adds of shared counters: another CPU's add can be lost, as
 * kmem does not split them per CPU yet.
 */

import { MAX_NR_ZONES } from '../page_alloc/mmzone.js';
import { PageAlloc } from '../page_alloc/page_alloc.js';
import { Ipi, type SmpState } from './smp.js';
import { spinLock, spinUnlock } from './spinlock.js';

export class PageAllocSmp extends PageAlloc {
  smp!: SmpState;
  private ctl!: Int32Array;
  private lockBase = 0;

  attachSmp(smp: SmpState): void {
    this.smp = smp;
    this.ctl = smp.ctl;
    this.lockBase = smp.zoneLockWord(0);
  }

  /** spin_lock(&zone->lock) */
  zoneLock(zone: number): void {
    spinLock(this.ctl, this.lockBase + zone);
  }

  /** spin_unlock(&zone->lock) */
  zoneUnlock(zone: number): void {
    spinUnlock(this.ctl, this.lockBase + zone);
  }

  /** rmqueue_bulk() takes zone->lock once for the whole batch. */
  protected override rmqueueBulk(zone: number, order: number, count: number, li: number, mt: number, allocFlags: number): number {
    this.zoneLock(zone);
    try {
      return super.rmqueueBulk(zone, order, count, li, mt, allocFlags);
    } finally {
      this.zoneUnlock(zone);
    }
  }

  /** rmqueue_buddy(): spin_lock_irqsave(&zone->lock) around __rmqueue. */
  protected override rmqueueBuddy(zone: number, order: number, mt: number, allocFlags: number): number {
    this.zoneLock(zone);
    try {
      return super.rmqueueBuddy(zone, order, mt, allocFlags);
    } finally {
      this.zoneUnlock(zone);
    }
  }

  /** free_pcppages_bulk(): the pages of one CPU's lists back to the zone under zone->lock. */
  protected override freePcppagesBulk(cpu: number, zone: number, count: number, pindex: number): void {
    this.zoneLock(zone);
    try {
      super.freePcppagesBulk(cpu, zone, count, pindex);
    } finally {
      this.zoneUnlock(zone);
    }
  }

  /** free_one_page() of __free_pages_ok() (orders past the pcp lists). */
  protected override freePagesZone(pfn: number, zone: number, order: number, mt: number): void {
    this.zoneLock(zone);
    try {
      super.freePagesZone(pfn, zone, order, mt);
    } finally {
      this.zoneUnlock(zone);
    }
  }

  /** drain_all_pages(NULL): every CPU drains its own pcp lists (an IPI; a CPU no thread runs is drained from here). */
  override drainAllPages(): void {
    for (let cpu = 0; cpu < this.cpus; cpu++) {
      this.smp.runOn(cpu, Ipi.DRAIN_PAGES, 0, () => this.drainCpu(cpu));
    }
  }

  /** drain_pages(cpu): one CPU's lists, every zone. */
  drainCpu(cpu: number): void {
    for (let z = 0; z < MAX_NR_ZONES; z++) this.drainPagesZone(cpu, z);
  }
}
