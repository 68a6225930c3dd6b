/**
 * The slab_debug= boot parameter (mm/slub.c parse_slub_debug_flags,
 * setup_slub_debug, kmem_cache_flags; 6.18). Linux 6.8 renamed it from
 * slub_debug=; 6.18 still accepts both names with the same handler and prints
 * "slab_debug" in its messages. kmem's boot option `slubDebug` carries the
 * value after the '=':
 *
 *   slab_debug[=<flags>[,<slab>[,<slab>...]][;<flags>[,<slab>...]]...]
 *
 * The value is a sequence of ';'-separated blocks (runs of ';' count as one).
 * A block without a ',' sets the flags for every cache (the last such block
 * wins); a block with one applies its flags only to the caches in its list. A
 * block that starts with ',' means full debugging (F, Z, P, U) for its list.
 * Letters are case-insensitive; '-' clears what came before it in the block.
 *
 * A cache takes the flags of the FIRST block whose list names it, instead of
 * the global flags: the kernel keeps the whole value (slub_debug_string) and
 * walks it block by block for every cache it creates, returning at the first
 * name that matches. A name matches exactly, or up to its first '*' as a
 * prefix ("kmalloc-*", and "kmal*oc" matches every name starting "kmal").
 *
 * Quirks of that walk kept here as the kernel has them: when a list is
 * followed by more than one ';', or the value ends in ';', its last name takes
 * the extra ';' into the comparison and so matches only with a '*' in it.
 */
import { KERN_ERR } from '../lib/printk.js';
import {
  DEBUG_DEFAULT_FLAGS,
  SLAB_CONSISTENCY_CHECKS,
  SLAB_FAILSLAB,
  SLAB_NO_USER_FLAGS,
  SLAB_NOLEAKTRACE,
  SLAB_POISON,
  SLAB_RED_ZONE,
  SLAB_STORE_USER,
  SLAB_TRACE,
} from './slab_flags.js';

export interface SlubDebugConfig {
  /** slub_debug: the flags of every cache no block's list names. */
  globalFlags: number;
  /** slub_debug_string: the whole value when some block has a cache list, else null. */
  debugString: string | null;
  /** 'O' in any block: drop metadata debugging from caches whose minimum order would grow. */
  disableHigherOrderDebug: boolean;
  /** The printk() texts setup printed (log level included), one per unknown letter. */
  warnings: string[];
}

interface Block {
  flags: number;
  /** Index of the block's cache list in the value, or -1 when it has none. */
  list: number;
  /** Index of the next block, or -1 at the end of the value. */
  next: number;
}

function lowerAscii(c: string): string {
  return c >= 'A' && c <= 'Z' ? String.fromCharCode(c.charCodeAt(0) + 32) : c;
}

/**
 * parse_slub_debug_flags(): the block starting at `pos`. With `cfg` (boot-time
 * parsing) unknown letters are reported and 'O' takes effect; without it (the
 * per-cache walk) the block is only read.
 */
function parseBlock(str: string, pos: number, cfg: SlubDebugConfig | null): Block {
  const n = str.length;
  let i = pos;
  while (i < n && str[i] === ';') i++;
  let flags = 0;
  let higherOrderDisable = false;
  if (i < n && str[i] === ',') {
    // No letters, only a cache list: full debugging for those caches.
    flags = DEBUG_DEFAULT_FLAGS;
  } else {
    for (; i < n && str[i] !== ',' && str[i] !== ';'; i++) {
      const c = str[i]!;
      switch (lowerAscii(c)) {
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
          higherOrderDisable = true;
          break;
        default:
          cfg?.warnings.push(`${KERN_ERR}slab_debug option '${c}' unknown. skipped`);
      }
    }
  }
  let list = -1;
  if (i < n && str[i] === ',') list = ++i;
  while (i < n && str[i] !== ';') i++;
  while (i < n && str[i] === ';') i++;
  if (cfg !== null && higherOrderDisable) cfg.disableHigherOrderDebug = true;
  return { flags, list, next: i < n ? i : -1 };
}

/**
 * Parse a slubDebug boot option: a string is the slab_debug= value, `true` a
 * bare `slab_debug` (full debugging); undefined, false and '' leave debugging
 * off (kmem's way of saying "not given": the kernel's empty `slab_debug=`
 * would mean full debugging).
 */
export function parseSlubDebug(value: string | boolean | undefined): SlubDebugConfig {
  const cfg: SlubDebugConfig = { globalFlags: 0, debugString: null, disableHigherOrderDebug: false, warnings: [] };
  if (value === undefined || value === false || value === '') return cfg;
  if (value === true) {
    cfg.globalFlags = DEBUG_DEFAULT_FLAGS;
    return cfg;
  }
  if (typeof value !== 'string') throw new TypeError(`slubDebug: expected a string like 'FZPU' or 'FZ,kmalloc-64', got ${typeof value}`);
  // A C string ends at its first NUL.
  const nul = value.indexOf('\0');
  const str = nul >= 0 ? value.slice(0, nul) : value;
  let global = DEBUG_DEFAULT_FLAGS;
  let globalChanged = false;
  let listGiven = false;
  for (let pos = 0; pos >= 0; ) {
    const b = parseBlock(str, pos, cfg);
    pos = b.next;
    if (b.list < 0) {
      global = b.flags;
      globalChanged = true;
    } else {
      listGiven = true;
    }
  }
  if (listGiven) {
    // Only per-cache blocks: the global flags stay what they were (0, no
    // CONFIG_SLUB_DEBUG_ON), so "FZ,kmalloc-64" debugs kmalloc-64 alone.
    if (!globalChanged) global = 0;
    cfg.debugString = str;
  }
  cfg.globalFlags = global;
  return cfg;
}

/** strncmp(a, b + off, n) === 0, both read as NUL-terminated strings. */
function strncmpEq(a: string, b: string, off: number, n: number): boolean {
  for (let i = 0; i < n; i++) {
    const ca = i < a.length ? a.charCodeAt(i) : 0;
    const cb = off + i < b.length ? b.charCodeAt(off + i) : 0;
    if (ca !== cb) return false;
    if (ca === 0) return true;
  }
  return true;
}

/**
 * kmem_cache_flags(): a cache's creation flags with the slab_debug flags it
 * gets added: those of the first block whose list names it, else the global
 * ones, without SLAB_STORE_USER for a SLAB_NOLEAKTRACE cache (only the global
 * flags lose it: a block naming such a cache can still turn U on for it).
 * SLAB_NO_USER_FLAGS caches get nothing.
 */
export function kmemCacheFlags(cfg: SlubDebugConfig, name: string, flags: number): number {
  if (flags & SLAB_NO_USER_FLAGS) return flags;
  let global = cfg.globalFlags;
  if (flags & SLAB_NOLEAKTRACE) global &= ~SLAB_STORE_USER;
  const str = cfg.debugString;
  if (str !== null) {
    const n = str.length;
    for (let next = 0; next >= 0; ) {
      const b = parseBlock(str, next, null);
      next = b.next;
      if (b.list < 0) continue;
      for (let it = b.list; it < n; ) {
        // This name runs to the next ',' but never into the next block: it
        // stops one before that block's start (a ';' ... or the last of several).
        let end = str.indexOf(',', it);
        if (end < 0) end = n;
        if (next >= 0 && next < end) end = next - 1;
        const star = str.indexOf('*', it);
        const len = star >= 0 && star < end ? star - it : Math.max(name.length, end - it);
        if (strncmpEq(name, str, it, len)) return flags | b.flags;
        if (end >= n || str[end] === ';') break;
        it = end + 1;
      }
    }
  }
  return flags | global;
}
