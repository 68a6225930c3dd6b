/**
 * The oops a corrupt free pointer ends in (arch/x86/kernel/traps.c,
 * arch/x86/mm/fault.c, kernel/exit.c's die()): without slub_debug the
 * kernel takes a free pointer as it finds it, and faults when it first
 * reads through it -- the next allocation from that cpu freelist, or
 * deactivate_slab() walking it. A non-canonical pointer (bits 63..47 not
 * all equal, what a use-after-free write makes of a hardened pointer) is a
 * general protection fault; a canonical one that is no object of the slab
 * is reported as the page fault an unmapped address gives (the kernel,
 * reading mapped memory there, might go on silently: kmem stops).
 */
import { hex } from '../lib/vsprintf.js';
import type { SlubDebugEnv } from './debug.js';

/** TAINT_DIE, the D in the taint string: die() sets it. */
const TAINT_DIE = 7;

/** Is the 64-bit address hi:lo canonical for 4-level paging (bits 63..47 all equal)? */
export function isCanonical(hi: number): boolean {
  const top = hi >> 15;
  return top === 0 || top === -1;
}

/** The lines of the oops for a read through the bad pointer hi:lo, printed and handed to onBug. */
export function freepointerOops(env: SlubDebugEnv, hi: number, lo: number): void {
  const addr = hex(hi >>> 0, 8) + hex(lo >>> 0, 8);
  const lines = isCanonical(hi)
    ? [
        `BUG: unable to handle page fault for address: ${addr}`,
        '#PF: supervisor read access in kernel mode',
        '#PF: error_code(0x0000) - not-present page',
        'Oops: 0000 [#1] PREEMPT SMP NOPTI',
      ]
    : [`Oops: general protection fault, probably for non-canonical address 0x${addr}: 0000 [#1] PREEMPT SMP NOPTI`];
  lines.push(...env.dumpStack(), 'Modules linked in:', '---[ end trace 0000000000000000 ]---');
  // oops_end() taints after the report: its own CPU line still shows the taint before.
  env.addTaint(TAINT_DIE, true);
  env.printk(`${lines.join('\n')}\n`);
  env.bug('bug', lines);
}
