/**
 * kernel/panic.c: the taint mask, print_tainted() and add_taint().
 *
 * Every report the kernel prints names the taint state on its "CPU:" line
 * ("Not tainted", or "Tainted: G    B   W" with one column per flag), and
 * the first taint that makes lock debugging unreliable switches it off.
 */

/** include/linux/panic.h TAINT_* bit numbers used by kmem. */
export const TAINT_BAD_PAGE = 5;
export const TAINT_DIE = 7;
export const TAINT_WARN = 9;

/** taint_flags[] (kernel/panic.c, 6.15 .. 6.18): true char, false char, name. */
const TAINT_FLAGS: readonly (readonly [string, string, string])[] = [
  ['P', 'G', 'PROPRIETARY_MODULE'],
  ['F', ' ', 'FORCED_MODULE'],
  ['S', ' ', 'CPU_OUT_OF_SPEC'],
  ['R', ' ', 'FORCED_RMMOD'],
  ['M', ' ', 'MACHINE_CHECK'],
  ['B', ' ', 'BAD_PAGE'],
  ['U', ' ', 'USER'],
  ['D', ' ', 'DIE'],
  ['A', ' ', 'OVERRIDDEN_ACPI_TABLE'],
  ['W', ' ', 'WARN'],
  ['C', ' ', 'CRAP'],
  ['I', ' ', 'FIRMWARE_WORKAROUND'],
  ['O', ' ', 'OOT_MODULE'],
  ['E', ' ', 'UNSIGNED_MODULE'],
  ['L', ' ', 'SOFTLOCKUP'],
  ['K', ' ', 'LIVEPATCH'],
  ['X', ' ', 'AUX'],
  ['T', ' ', 'RANDSTRUCT'],
  ['N', ' ', 'TEST'],
  ['J', ' ', 'FWCTL'],
];

/**
 * print_tainted(): "Not tainted", or "Tainted: " and one character per taint
 * flag, set or not ("Tainted: G    B              " for a bad page).
 */
export function printTainted(mask: number): string {
  if (mask === 0) return 'Not tainted';
  let out = 'Tainted: ';
  TAINT_FLAGS.forEach(([set, unset], i) => {
    out += (mask >>> i) & 1 ? set : unset;
  });
  return out;
}

/** print_tainted_verbose(): "Tainted: [B]=BAD_PAGE, [W]=WARN", as dump_stack() prints it. */
export function printTaintedVerbose(mask: number): string {
  if (mask === 0) return 'Not tainted';
  const parts: string[] = [];
  TAINT_FLAGS.forEach(([c, , name], i) => {
    if ((mask >>> i) & 1) parts.push(`[${c}]=${name}`);
  });
  return `Tainted: ${parts.join(', ')}`;
}

/** tainted_mask and debug_locks of one machine. */
export class Taint {
  /** tainted_mask: TAINT_* bits. */
  mask = 0;
  /** debug_locks: cleared by the first taint that makes lockdep unreliable. */
  debugLocks = true;

  /**
   * add_taint(): set a TAINT_* bit; the first taint that leaves lockdep
   * unreliable (LOCKDEP_NOW_UNRELIABLE) turns lock debugging off, and
   * `say` prints that it did.
   */
  add(flag: number, lockdepUnreliable: boolean, say: (line: string) => void): void {
    if (lockdepUnreliable && this.debugLocks) {
      this.debugLocks = false;
      say('Disabling lock debugging due to kernel taint');
    }
    this.mask |= 1 << flag;
  }
}

/**
 * Thrown when the machine panics (panic(), kernel/panic.c): the message is
 * the panic's first line. The machine is dead after it; nothing may be
 * assumed of its state.
 */
export class KernelPanic extends Error {
  constructor(readonly reason: string) {
    super(`Kernel panic - not syncing: ${reason}`);
    this.name = 'KernelPanic';
  }
}

/**
 * panic()'s lines on x86-64: the reason, dump_stack() (CONFIG_DEBUG_BUGVERBOSE),
 * the panic notifier's "Kernel Offset" (KASLR off in kmem's image), the end marker.
 */
export function panicLines(reason: string, stack: readonly string[]): string[] {
  return [`Kernel panic - not syncing: ${reason}`, ...stack, 'Kernel Offset: disabled', `---[ end Kernel panic - not syncing: ${reason} ]---`];
}
