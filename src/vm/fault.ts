/**
 * A user access the kernel answers with SIGSEGV (arch/x86/mm/fault.c:
 * bad_area -> __bad_area_nosemaphore -> show_signal_msg + force_sig_fault)
 * or SIGBUS (mm_fault_error -> do_sigbus -> force_sig_fault).
 */

/** Thrown to the JavaScript caller of a load or store that killed its task with SIGSEGV. */
export class Segfault extends Error {
  readonly signal = 11;
  constructor(
    readonly pid: number,
    readonly comm: string,
    readonly address: number,
    readonly errorCode: number,
  ) {
    super(`${comm}[${pid}]: segfault at ${address.toString(16)} error ${errorCode}`);
    this.name = 'Segfault';
  }
}

/**
 * Thrown to the JavaScript caller of a load or store that killed its task
 * with SIGBUS (BUS_ADRERR): a mapping of a file touched at a page wholly
 * past the file's end. x86's do_sigbus() prints nothing.
 */
export class BusError extends Error {
  readonly signal = 7;
  constructor(
    readonly pid: number,
    readonly comm: string,
    readonly address: number,
  ) {
    super(`${comm}[${pid}]: bus error at ${address.toString(16)}`);
    this.name = 'BusError';
  }
}

/**
 * show_signal_msg()'s lines. kmem runs no instructions, so ip and sp are 0:
 * no VMA holds ip (print_vma_addr prints nothing) and the opcode bytes at
 * ip - 42 cannot be read.
 */
export function signalMsg(comm: string, pid: number, address: number, error: number, cpu: number): string[] {
  return [
    `${comm}[${pid}]: segfault at ${address.toString(16)} ip 0000000000000000 sp 0000000000000000 error ${error} likely on CPU ${cpu} (core ${cpu}, socket 0)`,
    'Code: Unable to access opcode bytes at 0xffffffffffffffd6.',
  ];
}

/**
 * Thrown to the JavaScript caller running as a task that SIGKILL killed (the
 * OOM killer's victim): at the fault or system call during which it died,
 * and at every later call of that task.
 */
export class Killed extends Error {
  readonly signal = 9;
  constructor(
    readonly pid: number,
    readonly comm: string,
  ) {
    super(`${comm}[${pid}]: killed by signal 9 (SIGKILL)`);
    this.name = 'Killed';
  }
}
