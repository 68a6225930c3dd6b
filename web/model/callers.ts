/**
 * The functions that make the machine's calls, one per (call, name).
 *
 * A kernel report names the function that made the bad access and prints
 * the stacks that allocated and freed the object; kmem takes them from the
 * JavaScript stack. So each call runs inside a function whose name is the
 * caller the operation gives (`fn`, a name like kmalloc_oob_right), made
 * once per name with a computed key: V8 puts that name in stack traces.
 */
import type { Kernel } from '../../src/index.js';

export type CallKind = 'alloc' | 'kmalloc' | 'kfree' | 'cachefree' | 'pages' | 'freepages' | 'shrink' | 'read' | 'write';
export type Call = (k: Kernel, a: number, b: number) => number;

const made = new Map<string, Call>();

/** The default caller name of a call. */
export function defaultCaller(kind: CallKind): string {
  return `kmem_view_${kind}`;
}

/** A function named `name` that makes call `kind`. */
export function caller(kind: CallKind, name: string): Call {
  const key = `${kind}:${name}`;
  let f = made.get(key);
  if (f !== undefined) return f;
  const n = /^[A-Za-z_$][\w$]*$/.test(name) ? name : defaultCaller(kind);
  switch (kind) {
    case 'alloc':
      f = { [n]: (k: Kernel, cache: number, gfp: number) => k.kmemCacheAlloc(cache, gfp) }[n]!;
      break;
    case 'kmalloc':
      f = { [n]: (k: Kernel, size: number, gfp: number) => k.kmalloc(size, gfp) }[n]!;
      break;
    case 'kfree':
      f = {
        [n]: (k: Kernel, addr: number) => {
          k.kfree(addr);
          return 0;
        },
      }[n]!;
      break;
    case 'cachefree':
      f = {
        [n]: (k: Kernel, cache: number, addr: number) => {
          k.kmemCacheFree(cache, addr);
          return 0;
        },
      }[n]!;
      break;
    case 'pages':
      f = { [n]: (k: Kernel, order: number, gfp: number) => k.allocPages(order, gfp) }[n]!;
      break;
    case 'freepages':
      f = {
        [n]: (k: Kernel, addr: number, order: number) => {
          k.freePages(addr, order);
          return 0;
        },
      }[n]!;
      break;
    case 'shrink':
      f = {
        [n]: (k: Kernel, cache: number) => {
          k.kmemCacheShrink(cache);
          return 0;
        },
      }[n]!;
      break;
    case 'read':
      f = {
        [n]: (k: Kernel, at: number, size: number) => {
          const m = k.mem;
          if (size === 1) return m.read8(at);
          if (size === 2) return m.read16(at);
          if (size === 4) return m.read32(at);
          return Number(m.read64(at) & 0xffffffffn);
        },
      }[n]!;
      break;
    case 'write':
      f = {
        [n]: (k: Kernel, at: number, size: number) => {
          const m = k.mem;
          if (size === 1) m.write8(at, 0x5a);
          else if (size === 2) m.write16(at, 0x5a5a);
          else if (size === 4) m.write32(at, 0x5a5a5a5a);
          else m.write64(at, 0x5a5a5a5a5a5a5a5an);
          return 0;
        },
      }[n]!;
      break;
  }
  made.set(key, f);
  return f;
}
