/**
 * Model-based test of SLUB: random kmalloc/kfree (remote frees included),
 * cache alloc/free on two user caches, bulk alloc/free, shrink and pcp
 * drains, with the allocator's whole state rechecked after every step
 * against a model that only knows what the test allocated:
 *
 *   - no two live objects overlap (an 8-byte-granule paint map);
 *   - every live slab object lies in a slab page owned by its cache, at an
 *     object boundary, and no free object (on any freelist) is live;
 *   - per slab: inuse + |slab->freelist| == objects, and the live objects the
 *     model knows in it == objects - |slab->freelist| - |cpu freelist|;
 *   - a slab is frozen exactly when it is some CPU's cpu slab; node and cpu
 *     partial slabs have free objects; the node partial list is consistent;
 *   - slabinfo's num_objs / num_slabs / active_objs equal a recount over the
 *     slab pages;
 *   - free + pcp + slab pages + large kmalloc pages + boot-allocated pages
 *     == managed pages.
 *
 * The same test runs on a `kernel: '7.0'` machine (sheaves for every cache,
 * no cpu slabs): there no slab is frozen or any CPU's, and the objects held
 * in the sheaves (every CPU's main and spare, the barn's full sheaves) are
 * distinct object starts of their cache, never live, never on a freelist,
 * and count in their slab's inuse: live + in sheaves == objects - free.
 *
 * The model's bookkeeping is incremental (see Sys) so that checking all of
 * this after every one of the 10^5+ steps stays cheap; every FULL_EVERY steps
 * and at the end it is recounted from scratch as well.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { boot, type Kernel } from '../../src/kernel.js';
import { PG_workingset, PGTY_buddy, PGTY_large_kmalloc, PGTY_slab } from '../../src/memory/page.js';
import { GFP_KERNEL } from '../../src/page_alloc/gfp.js';
import { MAX_NR_ZONES, Z_FREE, Z_MANAGED } from '../../src/page_alloc/mmzone.js';
import { slabinfoRows } from '../../src/proc/slabinfo.js';
import { CF, MAX_CACHES } from '../../src/slub/slab.js';
import { SLAB_NO_MERGE } from '../../src/slub/slab_flags.js';
import { sid } from './handle_id.js';

// Imported bindings are getters after the test transform: copy the hot ones.
const _PG_workingset = PG_workingset;
const _PGTY_buddy = PGTY_buddy;
const _PGTY_large_kmalloc = PGTY_large_kmalloc;
const _PGTY_slab = PGTY_slab;
const _MAX_NR_ZONES = MAX_NR_ZONES;
const _Z_FREE = Z_FREE;
const _Z_MANAGED = Z_MANAGED;
const _C_FIELDS = CF.FIELDS;
const _C_NR_PARTIAL = CF.NR_PARTIAL;
const _C_NR_SLABS = CF.NR_SLABS;
const _C_OBJECTS = CF.OBJECTS;
const _C_PARTIAL_HEAD = CF.PARTIAL_HEAD;
const _C_RED_LEFT_PAD = CF.RED_LEFT_PAD;
const _C_SIZE = CF.SIZE;
const _C_TOTAL_OBJECTS = CF.TOTAL_OBJECTS;
const _MAX_CACHES = MAX_CACHES;

const CPUS = 2;
const MEMORY = '32M';

interface Obj {
  addr: number;
  /** User cache index (0/1) or -1 for kmalloc. */
  cache: number;
  size: number;
  /** Head pfn of the slab the object was handed out from, or -1 for a large kmalloc. */
  slab: number;
}

/**
 * The machine and the model. The model keeps its bookkeeping incrementally
 * (a paint map of live granules, live objects per slab and their cache, the
 * pages of large kmallocs), so that the check after every step costs what the
 * step touched plus a walk of the slab pages and lists, not a pass over every
 * live object; every FULL_EVERY steps and at the end the check also recounts
 * everything from scratch and compares it with the bookkeeping.
 */
class Sys {
  readonly k: Kernel;
  readonly kernel70: boolean;
  /** 7.0: objects in sheaves per slab head pfn, counted in this check (sheafStamp). */
  readonly sheafCnt: Int32Array;
  readonly sheafStamp: Uint32Array;
  readonly caches: number[];
  readonly live: Obj[] = [];
  /** One byte per 8-byte granule of RAM: 1 where a live object is. */
  readonly paint: Uint8Array;
  /** Stamp per address granule for "seen on a freelist in this check". */
  readonly seen: Uint32Array;
  stamp = 0;
  largePages = 0;
  /** Live objects of the model in slabs (not large kmallocs). */
  liveInSlabs = 0;
  /** Pages allocated at boot outside slabs and the buddy/pcp lists. */
  readonly otherPages: number;
  managed = 0;
  steps = 0;
  /** Per slab head pfn: live objects the model has in it, and the cache they came from. */
  readonly liveCnt: Int32Array;
  readonly liveCache: Int32Array;
  /** Per pfn, for the full recount: live objects counted in this check. */
  readonly recount: Int32Array;
  readonly recountStamp: Uint32Array;
  readonly cpuOf: Int32Array;
  readonly cpuStamp: Uint32Array;
  readonly listOf: Uint8Array;
  readonly listStamp: Uint32Array;
  /** Stamp of the last check that found this pfn to be a slab head. */
  readonly headStamp: Uint32Array;
  /**
   * Freelist lengths of a slab as last walked, keyed by what any change to its
   * freelists must change: the counters word (slab->freelist, inuse, frozen),
   * its cache, and the cpu freelist head and tid when it is a cpu slab. A slab
   * that was not a slab head at the previous check is walked afresh, and a
   * full check walks every slab.
   */
  readonly wCounters: Uint32Array;
  readonly wCache: Int32Array;
  readonly wCi: Int32Array;
  readonly wCpuHead: Float64Array;
  readonly wTid: Float64Array;
  readonly wNf: Int32Array;
  readonly wNc: Int32Array;
  /** Slab heads found by the last scan (the first `nHeads`). */
  readonly heads: Int32Array;
  nHeads = 0;
  readonly nodePartialFree = new Int32Array(_MAX_CACHES);
  readonly objsPerCache = new Int32Array(_MAX_CACHES);
  readonly slabsPerCache = new Int32Array(_MAX_CACHES);
  readonly idByName = new Map<string, number>();

  constructor(kernel: '6.18' | '7.0' = '6.18') {
    this.kernel70 = kernel === '7.0';
    this.k = boot({ memory: MEMORY, cpus: CPUS, kernel });
    const k = this.k;
    this.caches = [k.kmemCacheCreate('model_a', 72, { align: 8, flags: SLAB_NO_MERGE }), k.kmemCacheCreate('model_b', 700, { flags: SLAB_NO_MERGE })];
    this.paint = new Uint8Array(k.phys.size >>> 3);
    this.seen = new Uint32Array(k.phys.size >>> 3);
    const nr = k.pages.nr;
    this.liveCnt = new Int32Array(nr);
    this.liveCache = new Int32Array(nr).fill(-1);
    this.recount = new Int32Array(nr);
    this.recountStamp = new Uint32Array(nr);
    this.cpuOf = new Int32Array(nr);
    this.cpuStamp = new Uint32Array(nr);
    this.listOf = new Uint8Array(nr);
    this.listStamp = new Uint32Array(nr);
    this.headStamp = new Uint32Array(nr);
    this.wCounters = new Uint32Array(nr);
    this.wCache = new Int32Array(nr);
    this.wCi = new Int32Array(nr);
    this.wCpuHead = new Float64Array(nr);
    this.wTid = new Float64Array(nr);
    this.wNf = new Int32Array(nr);
    this.wNc = new Int32Array(nr);
    this.heads = new Int32Array(nr);
    this.sheafCnt = new Int32Array(nr);
    this.sheafStamp = new Uint32Array(nr);
    for (let z = 0; z < _MAX_NR_ZONES; z++) this.managed += k.pageAlloc.zones.get(z, _Z_MANAGED);
    this.otherPages = this.managed - this.freeAndPcp() - this.slabPagesScan(true);
  }

  freeAndPcp(): number {
    const pa = this.k.pageAlloc;
    let n = 0;
    for (let z = 0; z < _MAX_NR_ZONES; z++) n += pa.zones.get(z, _Z_FREE) + pa.pcpPages(z);
    return n;
  }

  /**
   * Find every slab head (into `heads`) and return the pages they span. The
   * full scan looks at every struct page; the quick one steps over free buddy
   * blocks and slab tails by their order (what the full scan, run every
   * FULL_EVERY steps, and the page accounting both vouch for).
   */
  slabPagesScan(full: boolean): number {
    const p = this.k.pages;
    const { pageType, order, head } = p;
    const heads = this.heads;
    const nr = p.nr;
    let n = 0;
    let pages = 0;
    for (let pfn = 0; pfn < nr; ) {
      const t = pageType[pfn]!;
      if (t === _PGTY_slab && head[pfn]! < 0) {
        heads[n++] = pfn;
        const span = 1 << order[pfn]!;
        pages += span;
        if (!full) {
          pfn += span;
          continue;
        }
      } else if (!full && t === _PGTY_buddy) {
        pfn += 1 << order[pfn]!;
        continue;
      }
      pfn++;
    }
    this.nHeads = n;
    return pages;
  }

  /** Put a new object into the model, checking where the kernel put it. */
  add(addr: number, cache: number, size: number): void {
    const k = this.k;
    const p = k.pages;
    const n = k.ksize(addr);
    if (n < size) throw new Error(`ksize(0x${addr.toString(16)}) = ${n} < ${size}`);
    if (addr % 8 !== 0) throw new Error(`0x${addr.toString(16)} is not 8-byte aligned`);
    const paint = this.paint;
    for (let g = addr >>> 3, e = (addr + n) >>> 3; g < e; g++) {
      if (paint[g] !== 0) throw new Error(`0x${addr.toString(16)} (+${n}) overlaps a live object`);
      paint[g] = 1;
    }
    const head = p.compoundHead(addr >>> 12);
    let slab = -1;
    if (p.pageType[head] === _PGTY_large_kmalloc) {
      if (cache !== -1) throw new Error('cache object in a large kmalloc');
      this.largePages += n >>> 12;
    } else {
      if (p.pageType[head] !== _PGTY_slab) throw new Error(`new 0x${addr.toString(16)} is not in a slab page`);
      const s = p.slabCache[head]!;
      this.checkPlace(addr, cache, head, s);
      if (this.liveCnt[head] === 0) this.liveCache[head] = s;
      else if (this.liveCache[head] !== s) throw new Error(`slab ${head} holds live objects of caches ${this.liveCache[head]} and ${s}`);
      this.liveCnt[head]!++;
      this.liveInSlabs++;
      slab = head;
    }
    this.live.push({ addr, cache, size, slab });
  }

  /** A live object in slab `head` of cache `s`: the right cache, at an object start. */
  private checkPlace(addr: number, cache: number, head: number, s: number): void {
    const slub = this.k.slub;
    const cf = slub.cf;
    if (cache >= 0 && s !== sid(this.k, this.caches[cache]!)) throw new Error(`0x${addr.toString(16)} is in a slab of cache ${s}`);
    if (cache === -1 && !slub.caches[s]!.isKmalloc) throw new Error(`kmalloc object 0x${addr.toString(16)} in ${slub.caches[s]!.name}`);
    const size = cf[s * _C_FIELDS + _C_SIZE]!;
    const off = addr - head * 4096 - cf[s * _C_FIELDS + _C_RED_LEFT_PAD]!;
    if (off < 0 || off % size !== 0 || off / size >= this.k.pages.slabObjects[head]!) throw new Error(`0x${addr.toString(16)} is not an object start`);
  }

  /** Take live[i] out of the model (swap-remove) before the kernel frees it. */
  remove(i: number): Obj {
    const o = this.live[i]!;
    const n = this.k.ksize(o.addr);
    this.paint.fill(0, o.addr >>> 3, (o.addr + n) >>> 3);
    if (o.slab < 0) {
      this.largePages -= n >>> 12;
    } else {
      this.liveCnt[o.slab]!--;
      this.liveInSlabs--;
    }
    this.live[i] = this.live[this.live.length - 1]!;
    this.live.pop();
    return o;
  }

  /** Walk a freelist of slab `pfn`, checking each entry; returns its length. */
  private walk(s: number, pfn: number, head: number, limit: number): number {
    const k = this.k;
    const cf = k.slub.cf;
    const base = pfn * 4096 + cf[s * _C_FIELDS + _C_RED_LEFT_PAD]!;
    const size = cf[s * _C_FIELDS + _C_SIZE]!;
    let n = 0;
    for (let o = head; o !== 0; o = k.slub.getFreepointer(s, o)) {
      if (++n > limit) throw new Error(`slab ${pfn}: freelist longer than ${limit} (cycle?)`);
      const off = o - base;
      if (off < 0 || off % size !== 0 || off / size >= k.pages.slabObjects[pfn]!) throw new Error(`slab ${pfn}: bad free pointer 0x${o.toString(16)}`);
      const g = o >>> 3;
      if (this.seen[g] === this.stamp) throw new Error(`slab ${pfn}: 0x${o.toString(16)} is free twice`);
      this.seen[g] = this.stamp;
      if (this.paint[g] !== 0) throw new Error(`slab ${pfn}: live object 0x${o.toString(16)} is on a freelist`);
    }
    return n;
  }

  /**
   * Full recount of the model's live objects (every FULL_EVERY steps and at
   * the end): each one still lies in a slab page of its cache at an object
   * start (or in its large kmalloc), and the per-slab counts and large pages
   * the bookkeeping carries equal a count from scratch.
   */
  private recountLive(): void {
    const k = this.k;
    const p = k.pages;
    const stamp = this.stamp;
    const { recount, recountStamp } = this;
    let large = 0;
    let inSlabs = 0;
    for (const o of this.live) {
      const head = p.compoundHead(o.addr >>> 12);
      if (p.pageType[head] === _PGTY_large_kmalloc) {
        if (o.cache !== -1 || o.slab !== -1) throw new Error(`0x${o.addr.toString(16)}: a large kmalloc the model placed in slab ${o.slab}`);
        large += k.ksize(o.addr) >>> 12;
        continue;
      }
      if (p.pageType[head] !== _PGTY_slab) throw new Error(`live 0x${o.addr.toString(16)} is not in a slab page`);
      if (head !== o.slab) throw new Error(`live 0x${o.addr.toString(16)} moved from slab ${o.slab} to ${head}`);
      this.checkPlace(o.addr, o.cache, head, p.slabCache[head]!);
      if (recountStamp[head] !== stamp) {
        recountStamp[head] = stamp;
        recount[head] = 0;
      }
      recount[head]!++;
      inSlabs++;
    }
    if (large !== this.largePages) throw new Error(`large kmalloc pages: ${large} counted, ${this.largePages} booked`);
    if (inSlabs !== this.liveInSlabs) throw new Error(`live slab objects: ${inSlabs} counted, ${this.liveInSlabs} booked`);
    for (let i = 0; i < this.nHeads; i++) {
      const pfn = this.heads[i]!;
      const n = recountStamp[pfn] === stamp ? recount[pfn]! : 0;
      if (n !== this.liveCnt[pfn]) throw new Error(`slab ${pfn}: ${n} live objects counted, ${this.liveCnt[pfn]} booked`);
    }
  }

  check(full = this.steps % FULL_EVERY === 0): void {
    const k = this.k;
    const slub = k.slub;
    const p = k.pages;
    const cf = slub.cf;
    const st = slub.st;
    this.stamp++;
    const stamp = this.stamp;
    const { liveCnt, liveCache, cpuOf, cpuStamp, listOf, listStamp, headStamp } = this;
    // Who owns each slab: cpu slab / cpu partial.
    for (const s of k.slab.slabCaches) {
      for (let cpu = 0; cpu < CPUS; cpu++) {
        const i = cpu * _MAX_CACHES + s;
        const cs = st.cpuSlab[i]!;
        if (cs >= 0) {
          if (cpuStamp[cs] === stamp) throw new Error(`slab ${cs} is the cpu slab of two CPUs`);
          cpuStamp[cs] = stamp;
          cpuOf[cs] = i;
        } else if (st.cpuFreelist[i] !== 0) throw new Error('cpu freelist without a cpu slab');
        let guard = 0;
        for (let sl = st.cpuPartial[i]!; sl >= 0; sl = p.slabNext[sl]!) {
          if (++guard > p.nr || listStamp[sl] === stamp) throw new Error('cpu partial chain cycle');
          if (p.slabCache[sl] !== s) throw new Error(`cpu partial slab ${sl} of another cache`);
          listStamp[sl] = stamp;
          listOf[sl] = 1;
        }
      }
    }
    if (this.kernel70) this.checkSheaves();
    // Node partial lists.
    const { nodePartialFree, objsPerCache, slabsPerCache } = this;
    nodePartialFree.fill(0);
    objsPerCache.fill(0);
    slabsPerCache.fill(0);
    for (const s of k.slab.slabCaches) {
      let n = 0;
      let free = 0;
      for (let sl = cf[s * _C_FIELDS + _C_PARTIAL_HEAD]!; sl >= 0; sl = p.next[sl]!) {
        if (++n > p.nr) throw new Error('node partial cycle');
        if (p.slabCache[sl] !== s || !(p.flags[sl]! & (1 << _PG_workingset))) throw new Error(`bad node partial slab ${sl}`);
        if (listStamp[sl] === stamp) throw new Error(`slab ${sl} on two lists`);
        listStamp[sl] = stamp;
        listOf[sl] = 2;
        free += p.slabObjects[sl]! - slub.slabInuse(sl);
      }
      if (n !== cf[s * _C_FIELDS + _C_NR_PARTIAL])
        throw new Error(`${slub.caches[s]!.name}: nr_partial ${cf[s * _C_FIELDS + _C_NR_PARTIAL]} but ${n} on the list`);
      nodePartialFree[s] = free;
    }
    // Every slab page.
    const pages = this.slabPagesScan(full);
    const { heads, nHeads, wCounters, wCache, wCi, wCpuHead, wTid, wNf, wNc } = this;
    let liveSeen = 0;
    for (let h = 0; h < nHeads; h++) {
      const pfn = heads[h]!;
      const s = p.slabCache[pfn]!;
      if (!slub.caches[s]) throw new Error(`slab ${pfn} of dead cache ${s}`);
      const objects = p.slabObjects[pfn]!;
      const inuse = slub.slabInuse(pfn);
      const isCpu = cpuStamp[pfn] === stamp;
      const ci = isCpu ? cpuOf[pfn]! : -1;
      const onList = listStamp[pfn] === stamp ? listOf[pfn]! : 0;
      const counters = p.slabCounters[pfn]!;
      const cpuHead = isCpu ? st.cpuFreelist[ci]! : 0;
      // Any change to a cpu freelist is an alloc or a free of its cache (kmem has no tid).
      const tid = isCpu ? cf[s * CF.FIELDS + CF.ALLOCS]! + cf[s * CF.FIELDS + CF.FREES]! : 0;
      const wasHead = headStamp[pfn] === stamp - 1;
      headStamp[pfn] = stamp;
      if (full || !wasHead || wCounters[pfn] !== counters || wCache[pfn] !== s || wCi[pfn] !== ci || wCpuHead[pfn] !== cpuHead || wTid[pfn] !== tid) {
        wNf[pfn] = this.walk(s, pfn, slub.slabFreelist(s, pfn), objects);
        wNc[pfn] = isCpu ? this.walk(s, pfn, cpuHead, objects) : 0;
        wCounters[pfn] = counters;
        wCache[pfn] = s;
        wCi[pfn] = ci;
        wCpuHead[pfn] = cpuHead;
        wTid[pfn] = tid;
      }
      const nf = wNf[pfn]!;
      const nc = wNc[pfn]!;
      if (inuse + nf !== objects) throw new Error(`slab ${pfn} (${slub.caches[s]!.name}): inuse ${inuse} + free ${nf} != ${objects}`);
      if (isCpu) {
        if (!slub.slabFrozen(pfn)) throw new Error(`cpu slab ${pfn} not frozen`);
        if (onList !== 0) throw new Error(`cpu slab ${pfn} is on a list`);
      } else {
        if (slub.slabFrozen(pfn)) throw new Error(`slab ${pfn} frozen but no CPU owns it`);
        if (onList !== 0 && nf === 0) throw new Error(`partial slab ${pfn} has no free objects`);
      }
      const liveHere = liveCnt[pfn]!;
      if (liveHere > 0 && liveCache[pfn] !== s)
        throw new Error(`slab ${pfn} now belongs to ${slub.caches[s]!.name}, with live objects of cache ${liveCache[pfn]}`);
      liveSeen += liveHere;
      // The test allocated every object of the user and kmalloc caches; boot caches it doesn't know.
      const known = s === sid(this.k, this.caches[0]!) || s === sid(this.k, this.caches[1]!) || slub.caches[s]!.isKmalloc;
      const inSheaves = this.sheafStamp[pfn] === stamp ? this.sheafCnt[pfn]! : 0;
      if (known && liveHere + inSheaves !== objects - nf - nc) {
        throw new Error(`slab ${pfn} (${slub.caches[s]!.name}): ${liveHere} live + ${inSheaves} in sheaves, but ${objects} - ${nf} - ${nc} by the freelists`);
      }
      objsPerCache[s]! += objects;
      slabsPerCache[s]!++;
    }
    // Every live slab object's slab is still a slab head of its cache (checked above), so they all are.
    if (liveSeen !== this.liveInSlabs) throw new Error(`${this.liveInSlabs - liveSeen} live objects lie outside every slab`);
    if (full) this.recountLive();
    for (const row of slabinfoRows(k.slab)) {
      const s = this.cacheId(row.name);
      if (row.numObjs !== objsPerCache[s] || row.numObjs !== cf[s * _C_FIELDS + _C_TOTAL_OBJECTS]) throw new Error(`${row.name}: num_objs ${row.numObjs}`);
      if (row.numSlabs !== slabsPerCache[s] || row.numSlabs !== cf[s * _C_FIELDS + _C_NR_SLABS]) throw new Error(`${row.name}: num_slabs ${row.numSlabs}`);
      if (row.activeObjs !== row.numObjs - nodePartialFree[s]!) throw new Error(`${row.name}: active_objs ${row.activeObjs}`);
      if (row.objperslab !== cf[s * _C_FIELDS + _C_OBJECTS]) throw new Error(`${row.name}: objperslab`);
    }
    const total = this.freeAndPcp() + pages + this.largePages + this.otherPages;
    if (total !== this.managed) throw new Error(`page accounting: ${total} != managed ${this.managed}`);
    if (slub.slabPagesReclaimable + slub.slabPagesUnreclaimable !== pages + this.largePages) throw new Error('NR_SLAB_* pages disagree with the slab pages');
    this.steps++;
  }

  /**
   * 7.0: every object in a sheaf (each CPU's main and spare, the barn's full
   * sheaves) is an object start of a slab of its cache, in one sheaf only,
   * not live; counted per slab in sheafCnt. No CPU has a cpu slab.
   */
  private checkSheaves(): void {
    const k = this.k;
    const sv = k.slub.sheaves;
    const p = k.pages;
    const stamp = this.stamp;
    for (const s of k.slab.slabCaches) {
      for (let cpu = 0; cpu < CPUS; cpu++) {
        const i = cpu * _MAX_CACHES + s;
        if (k.slub.st.cpuSlab[i]! >= 0 || k.slub.st.cpuPartial[i]! >= 0) throw new Error(`7.0 cache ${k.slub.caches[s]!.name} has a cpu slab`);
      }
      const sh = sv.caches[s];
      if (sh === undefined) {
        if (sv.cap[s] !== 0) throw new Error(`${k.slub.caches[s]!.name}: capacity without sheaves`);
        continue;
      }
      const ids: number[] = [];
      for (let cpu = 0; cpu < CPUS; cpu++) {
        ids.push(sh.main[cpu]!);
        if (sh.spare[cpu]! >= 0) ids.push(sh.spare[cpu]!);
      }
      if (sh.nrFull > 10) throw new Error(`${k.slub.caches[s]!.name}: ${sh.nrFull} full sheaves in the barn`);
      for (let j = 0; j < sh.nrFull; j++) ids.push(sh.barnFull[j]!);
      for (const id of ids) {
        const n = sv.sheafSize(s, id);
        if (n < 0 || n > sh.capacity) throw new Error(`${k.slub.caches[s]!.name}: sheaf of ${n} objects`);
        for (let j = 0; j < n; j++) {
          const o = sv.sheafObject(s, id, j);
          const head = p.compoundHead(o >>> 12);
          if (p.pageType[head] !== _PGTY_slab || p.slabCache[head] !== s)
            throw new Error(`sheaf object 0x${o.toString(16)} is not in a slab of ${k.slub.caches[s]!.name}`);
          this.checkPlace(o, -2, head, s);
          const g = o >>> 3;
          if (this.paint[g] !== 0) throw new Error(`live object 0x${o.toString(16)} is in a sheaf`);
          if (this.seen[g] === stamp) throw new Error(`0x${o.toString(16)} is in two sheaves`);
          this.seen[g] = stamp;
          if (this.sheafStamp[head] !== stamp) {
            this.sheafStamp[head] = stamp;
            this.sheafCnt[head] = 0;
          }
          this.sheafCnt[head]!++;
        }
      }
    }
  }

  /** A cache's id by name (as /proc/slabinfo names it), looked up once. */
  private cacheId(name: string): number {
    let s = this.idByName.get(name);
    if (s === undefined || this.k.slub.caches[s]?.name !== name) {
      s = this.k.slab.findByName(name);
      this.idByName.set(name, s);
    }
    return s;
  }

  /** Indices of live objects of a user cache (or -1 = kmalloc). */
  pick(cache: number, r: number): number {
    const n = this.live.length;
    for (let j = 0; j < n; j++) {
      const i = (r + j) % n;
      if (this.live[i]!.cache === cache) return i;
    }
    return -1;
  }
}

type Cmd = fc.Command<object, Sys>;
const LIVE_CAP = 1500;
const FULL_EVERY = 500;

class Kmalloc implements Cmd {
  constructor(
    readonly size: number,
    readonly cpu: number,
  ) {}
  check = () => true;
  run(_: object, r: Sys): void {
    if (r.live.length >= LIVE_CAP) return;
    const a = r.k.onCpu(this.cpu, () => r.k.kmalloc(this.size, GFP_KERNEL));
    if (a === 0) throw new Error(`kmalloc(${this.size}) failed`);
    r.add(a, -1, this.size);
    r.check();
  }
  toString = () => `kmalloc(${this.size})@${this.cpu}`;
}

class Kfree implements Cmd {
  constructor(
    readonly r: number,
    readonly cpu: number,
  ) {}
  check = () => true;
  run(_: object, s: Sys): void {
    const i = s.pick(-1, this.r);
    if (i >= 0) {
      const o = s.remove(i);
      s.k.onCpu(this.cpu, () => s.k.kfree(o.addr));
    }
    s.check();
  }
  toString = () => `kfree(#${this.r})@${this.cpu}`;
}

class CacheAlloc implements Cmd {
  constructor(
    readonly c: number,
    readonly cpu: number,
  ) {}
  check = () => true;
  run(_: object, s: Sys): void {
    if (s.live.length >= LIVE_CAP) return;
    const a = s.k.onCpu(this.cpu, () => s.k.kmemCacheAlloc(s.caches[this.c]!, GFP_KERNEL));
    if (a === 0) throw new Error('kmemCacheAlloc failed');
    s.add(a, this.c, 1);
    s.check();
  }
  toString = () => `cacheAlloc(${this.c})@${this.cpu}`;
}

class CacheFree implements Cmd {
  constructor(
    readonly c: number,
    readonly r: number,
    readonly cpu: number,
  ) {}
  check = () => true;
  run(_: object, s: Sys): void {
    const i = s.pick(this.c, this.r);
    if (i >= 0) {
      const o = s.remove(i);
      s.k.onCpu(this.cpu, () => s.k.kmemCacheFree(s.caches[this.c]!, o.addr));
    }
    s.check();
  }
  toString = () => `cacheFree(${this.c}, #${this.r})@${this.cpu}`;
}

class BulkAlloc implements Cmd {
  constructor(
    readonly c: number,
    readonly n: number,
    readonly cpu: number,
  ) {}
  check = () => true;
  run(_: object, s: Sys): void {
    if (s.live.length + this.n > LIVE_CAP) return;
    const out: number[] = [];
    const got = s.k.onCpu(this.cpu, () => s.k.kmemCacheAllocBulk(s.caches[this.c]!, this.n, out, GFP_KERNEL));
    if (got !== this.n) throw new Error('bulk alloc failed');
    for (const a of out) s.add(a, this.c, 1);
    s.check();
  }
  toString = () => `bulkAlloc(${this.c}, ${this.n})@${this.cpu}`;
}

class BulkFree implements Cmd {
  constructor(
    readonly c: number,
    readonly n: number,
    readonly r: number,
    readonly cpu: number,
  ) {}
  check = () => true;
  run(_: object, s: Sys): void {
    const addrs: number[] = [];
    for (let j = 0; j < this.n; j++) {
      const i = s.pick(this.c, this.r + j);
      if (i < 0) break;
      addrs.push(s.remove(i).addr);
    }
    s.k.onCpu(this.cpu, () => s.k.kmemCacheFreeBulk(s.caches[this.c]!, addrs));
    s.check();
  }
  toString = () => `bulkFree(${this.c}, ${this.n})@${this.cpu}`;
}

class Shrink implements Cmd {
  constructor(readonly which: number) {}
  check = () => true;
  run(_: object, s: Sys): void {
    const caches = s.k.inspect.cacheIds();
    s.k.kmemCacheShrink(this.which < 2 ? s.caches[this.which]! : caches[this.which % caches.length]!);
    s.check();
  }
  toString = () => `shrink(${this.which})`;
}

class Drain implements Cmd {
  check = () => true;
  run(_: object, s: Sys): void {
    s.k.drainAllPages();
    s.check();
  }
  toString = () => 'drainAllPages';
}

const cpu = fc.integer({ min: 0, max: CPUS - 1 });
const anyInt = fc.nat({ max: 1 << 20 });
const commands = [
  fc.tuple(fc.integer({ min: 1, max: 10000 }), cpu).map(([n, c]) => new Kmalloc(n, c)),
  fc.tuple(fc.integer({ min: 1, max: 512 }), cpu).map(([n, c]) => new Kmalloc(n, c)),
  fc.tuple(anyInt, cpu).map(([r, c]) => new Kfree(r, c)),
  fc.tuple(anyInt, cpu).map(([r, c]) => new Kfree(r, c)),
  fc.tuple(fc.integer({ min: 0, max: 1 }), cpu).map(([c, p]) => new CacheAlloc(c, p)),
  fc.tuple(fc.integer({ min: 0, max: 1 }), cpu).map(([c, p]) => new CacheAlloc(c, p)),
  fc.tuple(fc.integer({ min: 0, max: 1 }), anyInt, cpu).map(([c, r, p]) => new CacheFree(c, r, p)),
  fc.tuple(fc.integer({ min: 0, max: 1 }), anyInt, cpu).map(([c, r, p]) => new CacheFree(c, r, p)),
  fc.tuple(fc.integer({ min: 0, max: 1 }), fc.integer({ min: 1, max: 64 }), cpu).map(([c, n, p]) => new BulkAlloc(c, n, p)),
  fc.tuple(fc.integer({ min: 0, max: 1 }), fc.integer({ min: 1, max: 64 }), anyInt, cpu).map(([c, n, r, p]) => new BulkFree(c, n, r, p)),
  fc.integer({ min: 0, max: 60 }).map((w) => new Shrink(w)),
  fc.constant(new Drain()),
];

/** boot, then shrink every cache and drain: the free page count a clean machine returns to. */
function cleanFree(k: Kernel): number {
  for (const s of k.inspect.cacheIds()) k.kmemCacheShrink(s);
  k.drainAllPages();
  let n = 0;
  for (let z = 0; z < _MAX_NR_ZONES; z++) n += k.pageAlloc.zones.get(z, _Z_FREE);
  return n;
}

describe('SLUB model', () => {
  it.each(['6.18', '7.0'] as const)(
    'kernel %s: keeps every invariant over random operations and returns every page',
    (kernel) => {
      let total = 0;
      const baseline = cleanFree(boot({ memory: MEMORY, cpus: CPUS, kernel }));
      fc.assert(
        fc.property(fc.commands(commands, { maxCommands: 5000, size: 'max' }), (cmds) => {
          const sys = new Sys(kernel);
          sys.check();
          fc.modelRun(() => ({ model: {}, real: sys }), cmds);
          total += sys.steps;
          // Free everything, on alternating CPUs.
          const k = sys.k;
          let n = 0;
          while (sys.live.length > 0) {
            const o = sys.remove(sys.live.length - 1);
            k.onCpu(n++ % CPUS, () => (o.cache < 0 ? k.kfree(o.addr) : k.kmemCacheFree(sys.caches[o.cache]!, o.addr)));
          }
          sys.check(true);
          for (const s of sys.caches) k.kmemCacheShrink(s);
          sys.check(true);
          for (const s of sys.caches) k.kmemCacheDestroy(s);
          expect(k.dmesg().join('\n')).not.toMatch(/BUG|WARNING|Objects remaining/);
          expect(k.slab.slabCaches.some((s) => k.slub.caches[s]!.name.startsWith('model_'))).toBe(false);
          expect(cleanFree(k)).toBe(baseline);
          expect(k.slub.slabPagesReclaimable + k.slub.slabPagesUnreclaimable).toBe(sys.slabPagesScan(true));
        }),
        { numRuns: 42, seed: 20260101 },
      );
      expect(total).toBeGreaterThanOrEqual(100_000);
    },
    180_000,
  );
});
