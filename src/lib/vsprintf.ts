/**
 * The few printf conversions of the kernel (lib/vsprintf.c) that kmem's text
 * formats need, written out by hand: no printf library, no format-string
 * parser. Each helper names the conversion it stands for.
 *
 *   %6lu, %-17s      padLeft / padRight (a width is a minimum, never a cut)
 *   %08x, %016lx     hex(n, width)      lowercase, zero-filled
 *   %#x, %#lx        hexPrefixed(n)     "0x" always, so 0 prints "0x0"
 *   %px              formatPx(addr)     16 lowercase hex digits
 *   %pGg / %pGv      formatFlags(...)   format_flags(): names joined by '|'
 *   %pGp             formatPageFlags()  0x<flags>(<names>|node=..|zone=..)
 *
 * The kernel's number() always writes the "0x" of a '#' hex conversion, even
 * for zero: `%#x` of 0 is "0x0" (glibc would print "0"). Real logs agree:
 * "page allocation failure: order:0, mode:0x0(), nodemask=(null)".
 */

/** x86-64 PAGE_OFFSET with 4-level paging and no KASLR: the direct map base. */
export const DIRECT_MAP_BASE = 0xffff888000000000n;

/** Largest physical address the direct map covers (64 TiB with 4-level paging). */
const DIRECT_MAP_SIZE = 2 ** 46;

const TWO32 = 2 ** 32;
const U64_MASK = (1n << 64n) - 1n;

/** `%*s` / `%*lu`: right-align in a field of at least `width` characters. */
export function padLeft(value: string | number | bigint, width: number, fill = ' '): string {
  return String(value).padStart(width, fill);
}

/** `%-*s` / `%-*lu`: left-align in a field of at least `width` characters. */
export function padRight(value: string | number | bigint, width: number): string {
  return String(value).padEnd(width, ' ');
}

/**
 * `%0*x` / `%0*lx`: lowercase hex without prefix, zero-filled to `width`.
 * A number must be a non-negative safe integer; use a bigint above 2^53.
 */
export function hex(n: number | bigint, width = 0): string {
  if (typeof n === 'bigint') {
    if (n < 0n) throw new RangeError(`n must not be negative, got ${n}`);
    return n.toString(16).padStart(width, '0');
  }
  if (!Number.isSafeInteger(n) || n < 0) {
    throw new RangeError(`n must be a non-negative safe integer, got ${n}`);
  }
  return n.toString(16).padStart(width, '0');
}

/** `%#x` / `%#lx`: "0x" then lowercase hex; zero prints "0x0" as in the kernel. */
export function hexPrefixed(n: number | bigint): string {
  return `0x${hex(n)}`;
}

/**
 * The direct-map virtual address of a kmem physical address:
 * ffff888000000000 + phys.
 */
export function directMapAddress(phys: number): bigint {
  if (!Number.isSafeInteger(phys) || phys < 0 || phys >= DIRECT_MAP_SIZE) {
    throw new RangeError(`phys must be an integer in [0, 2^46), got ${phys}`);
  }
  return DIRECT_MAP_BASE + BigInt(phys);
}

/**
 * `%px`: an address as 16 lowercase hex digits.
 *
 * A number is a kmem physical address and is shown where the direct map puts
 * it (ffff888000000000 + phys); a bigint is taken as the virtual address
 * itself (reduced to 64 bits).
 */
export function formatPx(addr: number | bigint): string {
  if (typeof addr === 'bigint') return (addr & U64_MASK).toString(16).padStart(16, '0');
  if (!Number.isSafeInteger(addr) || addr < 0 || addr >= DIRECT_MAP_SIZE) {
    throw new RangeError(`addr must be an integer in [0, 2^46), got ${addr}`);
  }
  // The base's low 32 bits are zero, so the two halves add without a carry
  // out of the low word; the high word grows by at most 0x3fff.
  const high = 0xffff8880 + Math.floor(addr / TWO32);
  const low = addr % TWO32;
  return high.toString(16) + low.toString(16).padStart(8, '0');
}

/** One entry of a flag-name table: the mask and the name printed for it. */
export type FlagName = readonly [mask: number, name: string];

/**
 * format_flags(): walk `names` in table order; every entry whose whole mask
 * is set prints its name and clears its bits; names are joined by '|', and
 * bits no entry claimed print last as `%#lx`. Zero prints nothing.
 * Masks and flags must be below 2^32.
 */
export function formatFlags(flags: number, names: readonly FlagName[]): string {
  let rest = flags >>> 0;
  if (rest !== flags) throw new RangeError(`flags must be an integer in [0, 2^32), got ${flags}`);
  let out = '';
  for (let i = 0; rest !== 0 && i < names.length; i++) {
    const entry = names[i]!;
    const mask = entry[0] >>> 0;
    if ((rest & mask) >>> 0 !== mask) continue;
    out += entry[1];
    rest = (rest & ~mask) >>> 0;
    if (rest !== 0) out += '|';
  }
  if (rest !== 0) out += hexPrefixed(rest);
  return out;
}

/**
 * The fields that %pGp prints after the flag names, in the kernel's order,
 * each only if present (the kernel prints those whose width in page->flags
 * is not zero). section, node and zone print in decimal, lastcpupid and
 * kasantag as `%#x`. A typical x86-64 distro kernel (SPARSEMEM_VMEMMAP,
 * NUMA_BALANCING, no tag-based KASAN) prints node, zone and lastcpupid.
 */
export interface PageFlagFields {
  section?: number;
  node?: number;
  zone?: number;
  lastcpupid?: number;
  kasantag?: number;
}

/**
 * Page flag names for %pGp: either a list indexed by PG_ bit number (printed
 * in bit order; empty entries are skipped), or [bit, name] pairs in the order
 * the kernel's pageflag_names table prints them (include/trace/events/mmflags.h,
 * which is not bit order: "waiters" comes second).
 */
export type PageFlagNames = readonly string[] | readonly (readonly [bit: number, name: string])[];

/**
 * `%pGp` (format_page_flags): the whole page->flags word as `%#lx`, then in
 * parentheses the names of the set flags among the low `nrPageflags` bits
 * (format_flags), then `name=value` for each field, all joined by '|'.
 * A page with no flag and no field prints `0x0()`.
 *
 * `raw` is the full word the kernel would print (node, zone and lastcpupid
 * live in its top bits, so it may need a bigint); `nrPageflags` defaults to
 * one past the highest bit in `names`.
 *
 *   formatPageFlags(names, 0x57ff00000000000n, { node: 1, zone: 2, lastcpupid: 0x7ff })
 *     → "0x57ff00000000000(node=1|zone=2|lastcpupid=0x7ff)"
 */
export function formatPageFlags(names: PageFlagNames, raw: number | bigint, fields: PageFlagFields = {}, nrPageflags?: number): string {
  const table: FlagName[] = [];
  let maxBit = -1;
  names.forEach((entry, index) => {
    const [bit, name] = typeof entry === 'string' ? [index, entry] : entry;
    if (name === '') return;
    if (!Number.isInteger(bit) || bit < 0 || bit > 31) {
      throw new RangeError(`names: bit must be an integer in [0, 31], got ${bit}`);
    }
    table.push([2 ** bit, name]);
    if (bit > maxBit) maxBit = bit;
  });
  const nr = nrPageflags ?? maxBit + 1;
  if (!Number.isInteger(nr) || nr < 0 || nr > 32) {
    throw new RangeError(`nrPageflags must be an integer in [0, 32], got ${nrPageflags}`);
  }
  let word: bigint;
  if (typeof raw === 'bigint') {
    word = raw & U64_MASK;
  } else {
    if (!Number.isSafeInteger(raw) || raw < 0) {
      throw new RangeError(`raw must be a non-negative safe integer or a bigint, got ${raw}`);
    }
    word = BigInt(raw);
  }
  const main = Number(word & ((1n << BigInt(nr)) - 1n));

  const parts: string[] = [];
  if (main !== 0) parts.push(formatFlags(main, table));
  if (fields.section !== undefined) parts.push(`section=${fields.section}`);
  if (fields.node !== undefined) parts.push(`node=${fields.node}`);
  if (fields.zone !== undefined) parts.push(`zone=${fields.zone}`);
  if (fields.lastcpupid !== undefined) parts.push(`lastcpupid=${hexPrefixed(fields.lastcpupid)}`);
  if (fields.kasantag !== undefined) parts.push(`kasantag=${hexPrefixed(fields.kasantag)}`);
  return `${hexPrefixed(word)}(${parts.join('|')})`;
}
