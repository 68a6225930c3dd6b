/**
 * kmem: Linux's memory manager in TypeScript. The public API.
 */

export type { CacheSnapshot, Inspector, PageSnapshot, ZoneSnapshot } from './inspect.js';
export type { KasanGlobal } from './kasan/common.js';
export {
  KASAN_GLOBAL_REDZONE,
  KASAN_GRANULE_SIZE,
  KASAN_PAGE_FREE,
  KASAN_PAGE_REDZONE,
  KASAN_SLAB_FREE,
  KASAN_SLAB_FREE_META,
  KASAN_SLAB_REDZONE,
  KASAN_VMALLOC_INVALID,
  type KasanAccess,
  type KasanReport,
  type KasanTrack,
} from './kasan/kasan.js';
export { type BootOptions, boot, type Kernel, type KmemCache, type RamBuffer, type Task, UTS_RELEASE, type ZoneSizes } from './kernel.js';
export { KernelBug } from './lib/bug.js';
export type { MemAccess } from './memory/access.js';
export { PAGE_SHIFT, PAGE_SIZE } from './memory/memblock.js';
export { Mempool } from './mempool.js';
export * from './page_alloc/gfp.js';
export {
  MAX_NR_ZONES,
  MAX_PAGE_ORDER,
  MIGRATE_HIGHATOMIC,
  MIGRATE_ISOLATE,
  MIGRATE_MOVABLE,
  MIGRATE_RECLAIMABLE,
  MIGRATE_UNMOVABLE,
  NR_PAGE_ORDERS,
  PAGE_ALLOC_COSTLY_ORDER,
  pageblock_order,
  ZONE_DMA,
  ZONE_DMA32,
  ZONE_MOVABLE,
  ZONE_NORMAL,
  zoneNames,
} from './page_alloc/mmzone.js';
export type { KmemCacheArgs } from './slub/slab_common.js';
// The kmem_cache_create() flags, with the kernel's names and bits (include/linux/slab.h).
export {
  SLAB_ACCOUNT,
  SLAB_CACHE_DMA,
  SLAB_CACHE_DMA32,
  SLAB_CONSISTENCY_CHECKS,
  SLAB_FAILSLAB,
  SLAB_HWCACHE_ALIGN,
  SLAB_KMALLOC,
  SLAB_NO_MERGE,
  SLAB_NO_USER_FLAGS,
  SLAB_NOLEAKTRACE,
  SLAB_PANIC,
  SLAB_POISON,
  SLAB_RECLAIM_ACCOUNT,
  SLAB_RED_ZONE,
  SLAB_STORE_USER,
  SLAB_TEMPORARY,
  SLAB_TRACE,
  SLAB_TYPESAFE_BY_RCU,
} from './slub/slab_flags.js';
// The ftrace kmem:* event parser (what `kmem replay` and the browser view read traces with).
export { isPageEvent, isSlabAlloc, isSlabFree, type KmemEvent } from './trace/events.js';
export { parseFtraceLine } from './trace/ftrace.js';
