/**
 * ALLOC_* flags (mm/internal.h): how hard one allocation attempt may dig.
 * The low two bits pick the watermark. ALLOC_MIN_RESERVE and ALLOC_KSWAPD
 * share their bit with __GFP_HIGH and __GFP_KSWAPD_RECLAIM, as in the kernel.
 * kmem translates ALLOC_MIN_RESERVE bit by bit; the allocation fast path copies
 * __GFP_KSWAPD_RECLAIM straight into ALLOC_KSWAPD as the kernel does, which
 * page_alloc.ts checks at load (the kernel's BUILD_BUG_ON).
 *
 * A const enum, so the compiled hot paths hold the numbers; the ALLOC_* names
 * alias it for code off the hot paths.
 */
export const enum ALLOC {
  WMARK_MIN = 0,
  WMARK_LOW = 1,
  WMARK_HIGH = 2,
  NO_WATERMARKS = 0x04,
  WMARK_MASK = NO_WATERMARKS - 1,
  OOM = 0x08,
  NON_BLOCK = 0x10,
  MIN_RESERVE = 0x20,
  CPUSET = 0x40,
  CMA = 0x80,
  NOFRAGMENT = 0x100,
  HIGHATOMIC = 0x200,
  KSWAPD = 0x800,
  RESERVES = NON_BLOCK | MIN_RESERVE | HIGHATOMIC | OOM,
}
export const ALLOC_WMARK_MIN: number = ALLOC.WMARK_MIN;
export const ALLOC_WMARK_LOW: number = ALLOC.WMARK_LOW;
export const ALLOC_WMARK_HIGH: number = ALLOC.WMARK_HIGH;
export const ALLOC_NO_WATERMARKS: number = ALLOC.NO_WATERMARKS;
export const ALLOC_WMARK_MASK: number = ALLOC.WMARK_MASK;
export const ALLOC_OOM: number = ALLOC.OOM;
export const ALLOC_NON_BLOCK: number = ALLOC.NON_BLOCK;
export const ALLOC_MIN_RESERVE: number = ALLOC.MIN_RESERVE;
export const ALLOC_CPUSET: number = ALLOC.CPUSET;
export const ALLOC_CMA: number = ALLOC.CMA;
export const ALLOC_NOFRAGMENT: number = ALLOC.NOFRAGMENT;
export const ALLOC_HIGHATOMIC: number = ALLOC.HIGHATOMIC;
export const ALLOC_KSWAPD: number = ALLOC.KSWAPD;
export const ALLOC_RESERVES: number = ALLOC.RESERVES;
