/**
 * A minimal static ELF64 x86-64 executable, built byte by byte so the process
 * scenarios need nothing from the host: the ELF header and program headers,
 * one PT_LOAD R+X (text at 0x401000) and one PT_LOAD R+W (data at 0x403000,
 * a bss after it).
 */

import { buildStaticElf } from '../../src/index.js';

export const DEMO_TEXT = 0x401000;
export const DEMO_DATA = 0x403000;
/** Bytes of data in the file, and the data segment's memsz (data + bss). */
export const DEMO_DATA_FILESZ = 0x40;
export const DEMO_DATA_MEMSZ = 0x3000;
export const DEMO_PATH = '/bin/demo';

/** The demo program: 'hlt'-filled text, data bytes 1..64, bss to 0x406000. */
export function demoElf(): Uint8Array {
  const text = new Uint8Array(128).fill(0xf4);
  const data = new Uint8Array(DEMO_DATA_FILESZ).map((_, i) => i + 1);
  return buildStaticElf(
    [
      { vaddr: DEMO_TEXT, flags: 5, data: text, memsz: text.length },
      { vaddr: DEMO_DATA, flags: 6, data, memsz: DEMO_DATA_MEMSZ },
    ],
    DEMO_TEXT,
  );
}
