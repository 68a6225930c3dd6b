/**
 * The slub_debug= boot parameter (mm/slub.c parse_slub_debug_flags,
 * setup_slub_debug, kmem_cache_flags):
 *
 *   slub_debug[=<flags>[,<slab>[,<slab>...]][;<flags>,<slab>...]]
 *
 * A block without a slab list sets the flags for every cache; a block with
 * one applies to the named caches (a trailing '*' matches a prefix). An empty
 * flag set before the first ',' means full debugging (F, Z, P, U).
 */
import {
  DEBUG_DEFAULT_FLAGS,
  SLAB_CONSISTENCY_CHECKS,
  SLAB_FAILSLAB,
  SLAB_NOLEAKTRACE,
  SLAB_POISON,
  SLAB_RED_ZONE,
  SLAB_STORE_USER,
  SLAB_TRACE,
} from './slab_flags.js';

export interface SlubDebugConfig {
  /** Flags for every cache not named in a block. */
  globalFlags: number;
  /** Per-name blocks, in order: the last matching one wins, as the kernel's scan does. */
  blocks: { flags: number; names: string[] }[];
  /** 'O': drop metadata debugging from caches whose minimum order would grow. */
  disableHigherOrderDebug: boolean;
  /** Messages for unknown letters, as the kernel prints them. */
  warnings: string[];
}

function parseFlags(s: string, cfg: SlubDebugConfig): number {
  if (s.length === 0) return DEBUG_DEFAULT_FLAGS;
  let flags = 0;
  for (const ch of s) {
    switch (ch.toLowerCase()) {
      case '-':
        flags = 0;
        break;
      case 'f':
        flags |= SLAB_CONSISTENCY_CHECKS;
        break;
      case 'z':
        flags |= SLAB_RED_ZONE;
        break;
      case 'p':
        flags |= SLAB_POISON;
        break;
      case 'u':
        flags |= SLAB_STORE_USER;
        break;
      case 't':
        flags |= SLAB_TRACE;
        break;
      case 'a':
        flags |= SLAB_FAILSLAB;
        break;
      case 'o':
        cfg.disableHigherOrderDebug = true;
        break;
      default:
        cfg.warnings.push(`slub_debug option '${ch}' unknown. skipped`);
    }
  }
  return flags;
}

/** Parse a slub_debug= value ('' or undefined: no debugging; true: full debugging). */
export function parseSlubDebug(value: string | boolean | undefined): SlubDebugConfig {
  const cfg: SlubDebugConfig = { globalFlags: 0, blocks: [], disableHigherOrderDebug: false, warnings: [] };
  if (value === undefined || value === false) return cfg;
  if (value === true) {
    cfg.globalFlags = DEBUG_DEFAULT_FLAGS;
    return cfg;
  }
  if (typeof value !== 'string') throw new TypeError(`slubDebug: expected a string like 'FZPU' or 'FZ,kmalloc-64', got ${typeof value}`);
  for (const block of value.split(';')) {
    const comma = block.indexOf(',');
    if (comma < 0) {
      cfg.globalFlags = parseFlags(block, cfg);
    } else {
      const flags = parseFlags(block.slice(0, comma), cfg);
      const names = block.slice(comma + 1).split(',').filter((n) => n.length > 0);
      cfg.blocks.push({ flags, names });
    }
  }
  return cfg;
}

function nameMatches(pattern: string, name: string): boolean {
  if (pattern.endsWith('*')) return name.startsWith(pattern.slice(0, -1));
  return pattern === name;
}

/** kmem_cache_flags(): the debug flags a cache of this name gets, added to its own. */
export function kmemCacheFlags(cfg: SlubDebugConfig, name: string, flags: number): number {
  let debug = cfg.globalFlags;
  for (const b of cfg.blocks) {
    if (b.names.some((n) => nameMatches(n, name))) debug = b.flags;
  }
  if (flags & SLAB_NOLEAKTRACE) debug &= ~SLAB_STORE_USER;
  return flags | debug;
}
