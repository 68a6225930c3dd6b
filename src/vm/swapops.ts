/**
 * Swap entries (include/linux/swapops.h) and how x86-64 keeps one in a
 * non-present PTE (arch/x86/include/asm/pgtable_64.h).
 *
 * The arch-independent swp_entry_t is (type << SWP_TYPE_SHIFT) | offset with
 * SWP_TYPE_SHIFT = BITS_PER_XA_VALUE - MAX_SWAPFILES_SHIFT = 63 - 5 = 58.
 * kmem has one swap area, type 0, so an entry's value is its offset.
 *
 * The swap PTE (present and PROT_NONE clear):
 *
 *   63 ..... 59 58 .................................. 9  8  7 .. 4  3   2  1  0
 *   │  type    │  ~offset (50 bits, inverted: L1TF)    │ 0 │ 0  │ EX │ 0 │ 0 │ 0 │
 *
 * __swp_entry(type, offset) shifts the inverted offset up by
 * SWP_OFFSET_SHIFT (14) and back down by SWP_TYPE_BITS (5), so it lands at
 * SWP_OFFSET_FIRST_BIT = _PAGE_BIT_PROTNONE + 1 = 9; the type fills the top
 * 5 bits. Inverting the offset keeps the "PFN" bits of a not-present PTE
 * pointing above any real memory (the L1 Terminal Fault mitigation).
 * _PAGE_SWP_EXCLUSIVE is _PAGE_PWT (bit 3): the swapped-out page was
 * exclusive to this mapping (PageAnonExclusive). This 6.18 is built without
 * CONFIG_MEM_SOFT_DIRTY, so bit 1 (_PAGE_SWP_SOFT_DIRTY) stays 0.
 *
 * In kmem's RAM a PTE is two u32 words: the low word holds bits 9..31 of
 * the entry (~offset's low 23 bits) and the exclusive bit, the high word
 * ~offset's next 27 bits (bits 32..58) and the type (59..63).
 */

import { _PAGE_PRESENT, _PAGE_PROTNONE, _PAGE_PWT } from './pgtable.js';

export const MAX_SWAPFILES_SHIFT = 5;
export const SWP_TYPE_BITS = 5;
/** _PAGE_BIT_PROTNONE + 1 */
export const SWP_OFFSET_FIRST_BIT = 9;
export const SWP_OFFSET_SHIFT = SWP_OFFSET_FIRST_BIT + SWP_TYPE_BITS;
/** _PAGE_SWP_EXCLUSIVE */
export const _PAGE_SWP_EXCLUSIVE = _PAGE_PWT;

const LO_BITS = 32 - SWP_OFFSET_FIRST_BIT; // 23 offset bits in the low word
const LO_MASK = (1 << LO_BITS) - 1;
const HI_BITS = 32 - SWP_TYPE_BITS; // 27 offset bits in the high word
const HI_MASK = (1 << HI_BITS) - 1;
/** The largest offset a swap PTE can hold: 50 bits. */
export const SWP_OFFSET_MAX = 2 ** (LO_BITS + HI_BITS) - 1;

/** __swp_entry() + __swp_entry_to_pte(): the low word of the swap PTE of (type, offset), exclusive or not. */
export function swpEntryToPteLo(offset: number, exclusive: boolean): number {
  return ((~(offset % 2 ** LO_BITS) & LO_MASK) * 2 ** SWP_OFFSET_FIRST_BIT + (exclusive ? _PAGE_SWP_EXCLUSIVE : 0)) >>> 0;
}

/** The high word of the swap PTE of (type, offset). */
export function swpEntryToPteHi(type: number, offset: number): number {
  return ((type << HI_BITS) | (~Math.floor(offset / 2 ** LO_BITS) & HI_MASK)) >>> 0;
}

/** __swp_offset(__pte_to_swp_entry(pte)): the offset a swap PTE names. */
export function pteSwpOffset(lo: number, hi: number): number {
  return (~(lo >>> SWP_OFFSET_FIRST_BIT) & LO_MASK) + (~hi & HI_MASK) * 2 ** LO_BITS;
}

/** __swp_type(): the swap area (type) a swap PTE names. */
export function pteSwpType(hi: number): number {
  return hi >>> HI_BITS;
}

/** pte_swp_exclusive() */
export function pteSwpExclusive(lo: number): boolean {
  return (lo & _PAGE_SWP_EXCLUSIVE) !== 0;
}

/** is_swap_pte(): neither none nor present (present meaning _PAGE_PRESENT or _PAGE_PROTNONE). */
export function isSwapPte(lo: number, hi: number): boolean {
  return (lo !== 0 || hi !== 0) && (lo & (_PAGE_PRESENT | _PAGE_PROTNONE)) === 0;
}

/** The whole 64-bit swap PTE as a BigInt (tests and debugging). */
export function swpEntryToPte(type: number, offset: number, exclusive = false): bigint {
  if (!Number.isInteger(type) || type < 0 || type >= 1 << SWP_TYPE_BITS) throw new RangeError(`type: expected an integer 0..31, got ${String(type)}`);
  if (!Number.isInteger(offset) || offset < 0 || offset > SWP_OFFSET_MAX) throw new RangeError(`offset: expected an integer 0..2^50-1, got ${String(offset)}`);
  return (BigInt(swpEntryToPteHi(type, offset)) << 32n) | BigInt(swpEntryToPteLo(offset, exclusive));
}
