/**
 * The text of a KASAN report (mm/kasan/report.c, report_generic.c): the bug
 * type by the shadow byte, the object description and the shadow rows.
 *
 *   ==================================================================        start_report()
 *   BUG: KASAN: slab-out-of-bounds in kmalloc_oob_right                        print_error_description()
 *   Write of size 1 at addr ffff888003c1e273 by task kmem/1
 *                                                                               (blank)
 *   CPU: 0 UID: 0 PID: 1 Comm: kmem Not tainted 6.18.0-kmem #1                 dump_stack_lvl()
 *   ...Call Trace: <TASK> frames </TASK>
 *                                                                               (blank)
 *   Allocated by task 1: / frames / (blank)                                    describe_object_stacks()
 *   Freed by task 1: / frames / (blank)          only while the free meta is valid (0xFA)
 *   The buggy address belongs to the object at ffff888003c1e200                describe_object_addr()
 *    which belongs to the cache kmalloc-128 of size 128
 *   The buggy address is located 0 bytes to the right of
 *    allocated 115-byte region [ffff888003c1e200, ffff888003c1e273)
 *                                                                               (blank)
 *   The buggy address belongs to the physical page:                            dump_page()
 *   page: refcount:1 ...
 *                                                                               (blank)
 *   Memory state around the buggy address:                                     print_memory_metadata()
 *    ffff888003c1e100: fc fc ...                  5 rows of 16 shadow bytes,
 *   >ffff888003c1e200: 00 00 ... 00 03 fc ...     '>' on the row of the first bad granule
 *                                             ^   '^' under that granule's shadow byte
 *   ==================================================================        end_report()
 */
import { formatPx } from '../lib/vsprintf.js';
import {
  KASAN_ALLOCA_LEFT,
  KASAN_ALLOCA_RIGHT,
  KASAN_GLOBAL_REDZONE,
  KASAN_GRANULE_SIZE,
  KASAN_PAGE_FREE,
  KASAN_PAGE_REDZONE,
  KASAN_SLAB_FREE,
  KASAN_SLAB_FREE_META,
  KASAN_SLAB_REDZONE,
  KASAN_STACK_LEFT,
  KASAN_STACK_MID,
  KASAN_STACK_PARTIAL,
  KASAN_STACK_RIGHT,
  KASAN_VMALLOC_INVALID,
  META_BYTES_PER_ROW,
  META_MEM_BYTES_PER_ROW,
  META_ROWS_AROUND_ADDR,
} from './kasan.js';
import type { Shadow } from './shadow.js';

/** The 66-character rule that opens and closes every report. */
export const REPORT_RULE = '='.repeat(66);

const PAGE_SIZE = 4096;
/** Addresses %px can show as direct-map addresses. */
const DIRECT_MAP_LIMIT = 2 ** 46;

/**
 * %px of an address: a kmem physical address at its direct-map address;
 * an address in the NULL page as the small number it is.
 */
export function px(addr: number): string {
  if (addr < PAGE_SIZE && addr >= 0) return formatPx(BigInt(addr));
  if (addr >= 0 && addr < DIRECT_MAP_LIMIT && Number.isSafeInteger(addr)) return formatPx(addr);
  return formatPx(0xffff888000000000n + BigInt(Math.trunc(addr)));
}

/** get_shadow_bug_type(): the bug type the shadow byte of the first bad granule names. */
export function shadowBugType(shadow: Shadow, firstBadAddr: number): string {
  let s = shadow.get(firstBadAddr);
  // A partial granule: the next shadow byte says what lies beyond it.
  if (s > 0 && s < KASAN_GRANULE_SIZE) s = shadow.get(firstBadAddr + KASAN_GRANULE_SIZE);
  if (s < KASAN_GRANULE_SIZE) return 'out-of-bounds';
  switch (s) {
    case KASAN_PAGE_REDZONE:
    case KASAN_SLAB_REDZONE:
      return 'slab-out-of-bounds';
    case KASAN_GLOBAL_REDZONE:
      return 'global-out-of-bounds';
    case KASAN_STACK_LEFT:
    case KASAN_STACK_MID:
    case KASAN_STACK_RIGHT:
    case KASAN_STACK_PARTIAL:
      return 'stack-out-of-bounds';
    case KASAN_PAGE_FREE:
      return 'use-after-free';
    case KASAN_SLAB_FREE:
    case KASAN_SLAB_FREE_META:
      return 'slab-use-after-free';
    case KASAN_ALLOCA_LEFT:
    case KASAN_ALLOCA_RIGHT:
      return 'alloca-out-of-bounds';
    case KASAN_VMALLOC_INVALID:
      return 'vmalloc-out-of-bounds';
    default:
      return 'unknown-crash';
  }
}

/** get_wild_bug_type(): an address with no shadow. Every kmem address is a kernel address. */
export function wildBugType(addr: number): string {
  if (addr < PAGE_SIZE) return 'null-ptr-deref';
  return 'wild-memory-access';
}

/** print_memory_metadata(): the five shadow rows around the first bad address and the '^' line. */
export function memoryStateLines(shadow: Shadow, addr: number): string[] {
  const lines = ['Memory state around the buggy address:'];
  let row = addr - (addr % META_MEM_BYTES_PER_ROW) - META_ROWS_AROUND_ADDR * META_MEM_BYTES_PER_ROW;
  for (let i = -META_ROWS_AROUND_ADDR; i <= META_ROWS_AROUND_ADDR; i++) {
    const bytes: string[] = [];
    for (let j = 0; j < META_BYTES_PER_ROW; j++) {
      const a = row + j * KASAN_GRANULE_SIZE;
      bytes.push((a < 0 ? 0 : shadow.get(a)).toString(16).padStart(2, '0'));
    }
    lines.push(`${i === 0 ? '>' : ' '}${px(Math.max(row, 0))}: ${bytes.join(' ')}`);
    if (row <= addr && addr < row + META_MEM_BYTES_PER_ROW) {
      // pr_err("%*c\n", 3 + 2 * sizeof(long) + granule * 3 + 1, '^')
      const width = 3 + 16 + Math.floor((addr - row) / KASAN_GRANULE_SIZE) * 3 + 1;
      lines.push(`${' '.repeat(width - 1)}^`);
    }
    row += META_MEM_BYTES_PER_ROW;
  }
  return lines;
}
