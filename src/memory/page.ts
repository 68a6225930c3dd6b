/**
 * struct page, as struct-of-arrays indexed by page frame number
 * (include/linux/mm_types.h, include/linux/page-flags.h).
 *
 * One record per page frame, spread over typed arrays so that no JavaScript
 * object exists per page and every field can live in a SharedArrayBuffer:
 *
 *   pfn ─┬─ flags        u32  PG_* bits, the kernel's bit numbers
 *        ├─ pageType     u8   PGTY_buddy / PGTY_slab / ... (0 = none)
 *        ├─ order        u8   buddy order while free, compound order on a head
 *        ├─ refcount     i32  _refcount
 *        ├─ mapcount     i32  _mapcount + 1 (0 = unmapped)
 *        ├─ next, prev   i32  lru / pcp_list / slab_list links (pfn, -1 = none)
 *        ├─ head         i32  compound_head: the head's pfn on a tail page, else -1
 *        ├─ index        f64  page->index, an unsigned long: a file offset in pages, or an
 *        │                     anonymous page's linear index (up to 2^35); the pcp migratetype
 *        │                     while on a pcp list, a large kmalloc's size
 *        │   ── slab overlay (struct slab) ──
 *        ├─ slabCache    i32  slab_cache: the owning cache's id, -1 if not a slab
 *        ├─ slabCounters u32  freelist | inuse | frozen in one CAS-able word:
 *        │                     bits  0..14  inuse
 *        │                     bits 15..29  freelist: first free object's index + 1 (0 = NULL)
 *        │                     bit  30      frozen
 *        ├─ slabObjects  u16  objects in this slab (fixed once the slab exists)
 *        ├─ slabNext     i32  next slab on a cpu partial list (pfn, -1 = end)
 *        └─ slabSlabs    i32  length of the cpu partial list, kept on its head
 *
 * Under SLOB (boot({ allocator: 'slob' }), src/slob/slob.ts) a heap page is
 * PGTY_slab with slabCache -1, and its struct slab fields are SLOB's:
 * slabCounters = units (free units), slabObjects = freelist (unit offset of
 * the first free block), next/prev = slab_list, PG_slob_free = PG_private.
 */

// include/linux/page-flags.h, enum pageflags, as Linux 6.18 numbers the bits
// on x86-64 (slab and buddy are page types now, not flags).
/** The bits as a const enum, so compiled hot paths hold the numbers; the PG_* names alias them. */
export const enum PG {
  locked = 0,
  writeback = 1,
  referenced = 2,
  uptodate = 3,
  dirty = 4,
  lru = 5,
  head = 6,
  waiters = 7,
  active = 8,
  workingset = 9,
  owner_priv_1 = 10,
  owner_2 = 11,
  arch_1 = 12,
  reserved = 13,
  private = 14,
  private_2 = 15,
  reclaim = 16,
  swapbacked = 17,
  unevictable = 18,
  dropbehind = 19,
  mlocked = 20,
}
export const PG_locked = PG.locked;
export const PG_writeback = PG.writeback;
export const PG_referenced = PG.referenced;
export const PG_uptodate = PG.uptodate;
export const PG_dirty = PG.dirty;
export const PG_lru = PG.lru;
export const PG_head = PG.head;
export const PG_waiters = PG.waiters;
export const PG_active = PG.active;
export const PG_workingset = PG.workingset;
export const PG_owner_priv_1 = PG.owner_priv_1;
export const PG_owner_2 = PG.owner_2;
export const PG_arch_1 = PG.arch_1;
export const PG_reserved = PG.reserved;
export const PG_private = PG.private;
export const PG_private_2 = PG.private_2;
export const PG_reclaim = PG.reclaim;
export const PG_swapbacked = PG.swapbacked;
export const PG_unevictable = PG.unevictable;
export const PG_dropbehind = PG.dropbehind;
export const PG_mlocked = PG.mlocked;
/** SLOB's "page is on a free list" flag (PG_slob_free = PG_private in 6.3's page-flags.h). */
export const PG_slob_free = PG.private;

/**
 * Names as %pGp prints them, in the order of include/trace/events/mmflags.h's
 * pageflag_names (not bit order: "waiters" comes second).
 */
export const pageflagNames: readonly (readonly [number, string])[] = [
  [PG_locked, 'locked'],
  [PG_waiters, 'waiters'],
  [PG_referenced, 'referenced'],
  [PG_uptodate, 'uptodate'],
  [PG_dirty, 'dirty'],
  [PG_lru, 'lru'],
  [PG_active, 'active'],
  [PG_workingset, 'workingset'],
  [PG_owner_priv_1, 'owner_priv_1'],
  [PG_owner_2, 'owner_2'],
  [PG_arch_1, 'arch_1'],
  [PG_reserved, 'reserved'],
  [PG_private, 'private'],
  [PG_private_2, 'private_2'],
  [PG_writeback, 'writeback'],
  [PG_head, 'head'],
  [PG_reclaim, 'reclaim'],
  [PG_swapbacked, 'swapbacked'],
  [PG_unevictable, 'unevictable'],
  [PG_dropbehind, 'dropbehind'],
  [PG_mlocked, 'mlocked'],
];

// include/linux/page-flags.h, enum pagetype (6.12+): the top byte of page_type.
/** A const enum for the hot paths; the PGTY_* names alias it. */
export const enum PGTY {
  NONE = 0,
  buddy = 0xf0,
  offline = 0xf1,
  table = 0xf2,
  guard = 0xf3,
  hugetlb = 0xf4,
  slab = 0xf5,
  zsmalloc = 0xf6,
  unaccepted = 0xf7,
  large_kmalloc = 0xf8,
}
export const PGTY_NONE = PGTY.NONE;
export const PGTY_buddy = PGTY.buddy;
export const PGTY_offline = PGTY.offline;
export const PGTY_table = PGTY.table;
export const PGTY_guard = PGTY.guard;
export const PGTY_hugetlb = PGTY.hugetlb;
export const PGTY_slab = PGTY.slab;
export const PGTY_zsmalloc = PGTY.zsmalloc;
export const PGTY_unaccepted = PGTY.unaccepted;
export const PGTY_large_kmalloc = PGTY.large_kmalloc;

export const pageTypeNames: Record<number, string> = {
  [PGTY_buddy]: 'buddy',
  [PGTY_offline]: 'offline',
  [PGTY_table]: 'table',
  [PGTY_guard]: 'guard',
  [PGTY_hugetlb]: 'hugetlb',
  [PGTY_slab]: 'slab',
  [PGTY_zsmalloc]: 'zsmalloc',
  [PGTY_unaccepted]: 'unaccepted',
  [PGTY_large_kmalloc]: 'large_kmalloc',
};

/** slab->counters and slab->freelist packed in one u32 (slabCounters): inuse, freelist index + 1, frozen. */
export const enum SlabWord {
  INUSE_MASK = 0x7fff,
  FREELIST_SHIFT = 15,
  FREELIST_MASK = 0x7fff << 15,
  FROZEN = 1 << 30,
}
export const SLAB_INUSE_MASK = SlabWord.INUSE_MASK;
export const SLAB_FREELIST_SHIFT = SlabWord.FREELIST_SHIFT;
export const SLAB_FREELIST_MASK = SlabWord.FREELIST_MASK;
export const SLAB_FROZEN = SlabWord.FROZEN;

/** Every struct page field, one typed array each, indexed by pfn. */
export class PageArray {
  readonly nr: number;
  readonly flags: Uint32Array;
  readonly pageType: Uint8Array;
  readonly order: Uint8Array;
  readonly refcount: Int32Array;
  readonly mapcount: Int32Array;
  readonly next: Int32Array;
  readonly prev: Int32Array;
  readonly head: Int32Array;
  readonly index: Float64Array;
  readonly slabCache: Int32Array;
  readonly slabCounters: Uint32Array;
  readonly slabObjects: Uint16Array;
  readonly slabNext: Int32Array;
  readonly slabSlabs: Int32Array;

  constructor(nrPages: number, shared: boolean) {
    this.nr = nrPages;
    const B = shared ? SharedArrayBuffer : ArrayBuffer;
    const i32 = () => new Int32Array(new B(nrPages * 4));
    this.flags = new Uint32Array(new B(nrPages * 4));
    this.pageType = new Uint8Array(new B(nrPages));
    this.order = new Uint8Array(new B(nrPages));
    this.refcount = i32();
    this.mapcount = i32();
    this.next = i32().fill(-1);
    this.prev = i32().fill(-1);
    this.head = i32().fill(-1);
    this.index = new Float64Array(new B(nrPages * 8));
    this.slabCache = i32().fill(-1);
    this.slabCounters = new Uint32Array(new B(nrPages * 4));
    this.slabObjects = new Uint16Array(new B(nrPages * 2));
    this.slabNext = i32().fill(-1);
    this.slabSlabs = i32();
  }

  /** compound_head(): the head page's pfn for a tail page, else pfn itself. */
  compoundHead(pfn: number): number {
    const h = this.head[pfn]!;
    return h < 0 ? pfn : h;
  }
}
