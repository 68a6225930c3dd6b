/**
 * Generic KASAN's constants and shared types (mm/kasan/kasan.h).
 *
 * The shadow mapping. One shadow byte describes one 8-byte granule of RAM:
 *
 *   RAM      | g0 ........ | g1 ........ | g2 ........ | ...   granule = 8 bytes
 *   shadow   |     00      |     03      |     fc      | ...   shadow[addr >> 3]
 *
 *   0x00        all 8 bytes of the granule are accessible
 *   0x01..0x07  only the first k bytes are (the partial last granule of an object)
 *   0x80..0xff  nothing is; the value says why (the table below)
 *
 * kmem's shadow is one Uint8Array of RAM / 8 bytes, indexed by physical
 * address >> 3: the kernel's `(addr >> 3) + KASAN_SHADOW_OFFSET` with the
 * offset folded into the array base.
 */

/** KASAN_SHADOW_SCALE_SHIFT: log2 of the granule. */
export const KASAN_SHADOW_SCALE_SHIFT = 3;
/** KASAN_GRANULE_SIZE: bytes of RAM per shadow byte. */
export const KASAN_GRANULE_SIZE = 1 << KASAN_SHADOW_SCALE_SHIFT;
export const KASAN_GRANULE_MASK = KASAN_GRANULE_SIZE - 1;

// Shadow values of generic KASAN (mm/kasan/kasan.h, 6.3+ names).
/** A page freed to the buddy allocator. */
export const KASAN_PAGE_FREE = 0xff;
/** The tail of a large kmalloc's pages past the requested size. */
export const KASAN_PAGE_REDZONE = 0xfe;
/** A slab's redzone: between objects, and after a kmalloc's requested size. */
export const KASAN_SLAB_REDZONE = 0xfc;
/** A freed slab object. */
export const KASAN_SLAB_FREE = 0xfb;
/** The first granule of a freed slab object whose free metadata (free track) is valid. */
export const KASAN_SLAB_FREE_META = 0xfa;
/** The compiler's redzone after a global variable. */
export const KASAN_GLOBAL_REDZONE = 0xf9;
/** Unallocated space in a vmapped page. */
export const KASAN_VMALLOC_INVALID = 0xf8;
// Compiler ABI values for stack and alloca redzones.
export const KASAN_STACK_LEFT = 0xf1;
export const KASAN_STACK_MID = 0xf2;
export const KASAN_STACK_RIGHT = 0xf3;
export const KASAN_STACK_PARTIAL = 0xf4;
export const KASAN_ALLOCA_LEFT = 0xca;
export const KASAN_ALLOCA_RIGHT = 0xcb;

/** Shadow bytes per row of "Memory state around the buggy address". */
export const META_BYTES_PER_ROW = 16;
/** RAM bytes one row covers. */
export const META_MEM_BYTES_PER_ROW = META_BYTES_PER_ROW * KASAN_GRANULE_SIZE;
/** Rows printed above and below the row of the bad address. */
export const META_ROWS_AROUND_ADDR = 2;

// mm/kasan/quarantine.c
/** A CPU's quarantine queue moves to the global ring once it holds more than this. */
export const QUARANTINE_PERCPU_SIZE = 1 << 20;
/** The quarantine may hold 1/QUARANTINE_FRACTION of RAM. */
export const QUARANTINE_FRACTION = 32;

/** The access a report is about. 'free' marks invalid-free and double-free reports. */
export type KasanAccess = 'read' | 'write' | 'free';

/** One saved alloc or free track (struct kasan_track with CONFIG_KASAN_EXTRA_INFO). */
export interface KasanTrack {
  pid: number;
  cpu: number;
  /** local_clock() when it was saved, in nanoseconds. */
  timestampNs: number;
  /** The stack as report lines (" fn (file:line)"); empty when stack collection was off. */
  stack: string[];
}

/** What k.kasan.reports() returns for each bug KASAN caught. */
export interface KasanReport {
  /** "slab-out-of-bounds", "slab-use-after-free", "double-free", ... */
  bugType: string;
  access: KasanAccess;
  /**
   * Bytes accessed (0 for a free). A size that wrapped around the address
   * space (a negative length given to memmove) is the size_t the kernel
   * prints, as a bigint.
   */
  size: number | bigint;
  /** The accessed (or freed) address. */
  addr: number;
  /** The first granule in the access whose shadow is not 0 (where `^` points). */
  firstBadAddr: number;
  /** The function the BUG line names. */
  fn: string;
  /** The slab cache the address lies in, or null. */
  cache: string | null;
  /** The nearest object's address, or null outside slabs. */
  object: number | null;
  /** cache->object_size, or null. */
  objectSize: number | null;
  /** The allocation size the shadow says the object has (the kmalloc request), else object_size. */
  allocSize: number | null;
  /** addr - object (negative to the left), or null. */
  offset: number | null;
  /** "to the left", "to the right" or "inside", with its byte count, as the report words it. */
  relation: 'to the left' | 'to the right' | 'inside' | null;
  relBytes: number | null;
  /** The global variable the address belongs to (global-out-of-bounds). */
  global: string | null;
  alloc: KasanTrack | null;
  free: KasanTrack | null;
  /** "Last potentially related work creation" and the one before. */
  aux: string[][];
  /** Whether the report was printed (only the first is, unless multi-shot). */
  printed: boolean;
  /** The report's lines as printed (without timestamps). */
  lines: string[];
}
