/** One line of text per operation, as the op log and the "now running" line show it. */
import { formatGfp } from '../../src/index.js';
import { px } from './format.js';
import type { Op } from './ops.js';
import { type PathChip, pathChips } from './paths.js';
import type { Session } from './session.js';

/** The operation that allocated handle h before operation i, or null. */
export function allocatorOf(ops: readonly Op[], i: number, h: number): Op | null {
  for (let j = Math.min(i, ops.length) - 1, n = 0; j >= 0 && n < 200000; j--, n++) {
    const op = ops[j]!;
    if ((op.t === 'alloc' || op.t === 'kmalloc' || op.t === 'pages') && op.h === h) return op;
  }
  return null;
}

/** The call, in the kernel's words, with its result when it has run. */
export function describeOp(s: Session, i: number): string {
  const op = s.ops[i];
  if (op === undefined) return '';
  const ran = i < s.rec.n;
  const addr = ran ? s.rec.addr[i]! : 0;
  const cacheId = ran ? s.rec.cache[i]! : -1;
  const cacheName = cacheId >= 0 ? (s.k.inspect.cacheName(cacheId) ?? '') : '';
  const res = (a: number) => (ran ? (a === 0 ? ' = NULL' : ` = ${px(a)}`) : '');
  const inCache = cacheName ? ` [${cacheName}]` : '';
  switch (op.t) {
    case 'create':
      return `kmem_cache_create("${op.name}", ${op.size})`;
    case 'alloc':
      return `CPU${op.cpu} kmem_cache_alloc(${op.cache})${res(addr)}`;
    case 'kmalloc':
      return `CPU${op.cpu} kmalloc(${op.size}${op.gfp !== undefined ? `, ${formatGfp(op.gfp)}` : ''})${res(addr)}${inCache}`;
    case 'free': {
      const by = allocatorOf(s.ops, i, op.h);
      // Before it runs, the object is named by the operation that allocated it.
      const obj = ran ? px(addr) : `object #${op.h}`;
      if (by?.t === 'alloc') return `CPU${op.cpu} kmem_cache_free(${by.cache}, ${obj})`;
      if (by?.t === 'pages') return `CPU${op.cpu} __free_pages(${ran ? `pfn ${Math.floor(addr / 4096).toString(16)}` : `block #${op.h}`}, order ${by.order})`;
      return `CPU${op.cpu} kfree(${ran ? (addr ? px(addr) : 'NULL') : obj})${inCache}`;
    }
    case 'pages': {
      const where = ran ? (addr === 0 ? ' = NULL' : ` = pfn ${Math.floor(addr / 4096).toString(16)}`) : '';
      return `CPU${op.cpu} alloc_pages(${formatGfp(op.gfp)}, order ${op.order})${where}`;
    }
    case 'freepages':
      return `CPU${op.cpu} __free_pages(${ran ? `pfn ${Math.floor(addr / 4096).toString(16)}` : `block #${op.h}`})`;
    case 'shrink':
      return `CPU${op.cpu} kmem_cache_shrink(${op.cache})`;
    case 'drain':
      return 'drain_all_pages()';
    case 'access':
      return `CPU${op.cpu} ${op.write ? 'write' : 'read'} of ${op.size} byte${op.size > 1 ? 's' : ''} at ${addr ? px(addr) : `object #${op.h}`}${addr ? ` (object + ${op.offset})` : ` + ${op.offset}`}${inCache}${op.fn ? ` in ${op.fn}()` : ''}`;
  }
}

/** The chips of operation i's path (empty if it has not run). */
export function opChips(s: Session, i: number): PathChip[] {
  if (i < 0 || i >= s.rec.n) return [];
  const chips = pathChips({ bits: s.rec.bits[i]!, splitFrom: s.rec.splitFrom[i]!, mergeTo: s.rec.mergeTo[i]!, pcpMoved: s.rec.pcpMoved[i]! });
  const owner = s.rec.owner[i]!;
  for (const c of chips) if (c.id === 'remote-free' && owner >= 0) c.label = `remote free to slab->freelist (CPU${owner}’s cpu slab)`;
  return chips;
}
