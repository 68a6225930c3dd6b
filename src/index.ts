/**
 * kmem: Linux's memory manager in TypeScript. The public API.
 */

export { Kasan, type KasanGlobal } from './kasan/common.js';
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
export { type BootOptions, boot, Kernel, type Task, UTS_RELEASE, type ZoneSizes } from './kernel.js';
export { KernelBug } from './lib/bug.js';
export { MemAccess } from './memory/access.js';
export { KasanMemAccess } from './memory/kasan_access.js';
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
