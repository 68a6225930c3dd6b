/**
 * How a second CPU's thread comes to share the first one's memory: it boots
 * the same machine from the same options (boot is deterministic), which
 * rebuilds every immutable descriptor -- cache names, sizes, geometry,
 * hooks -- and then every view of a SharedArrayBuffer that boot made is
 * pointed at the boot CPU's buffer instead. The buffers are found by
 * walking the machine's objects in a fixed order, so the nth buffer found
 * on one thread is the nth on the other.
 *
 * Only what is reachable through object properties, arrays and Maps is
 * seen: a closure holding a typed array of its own would be missed, which
 * is why kmem's layers keep their state in fields.
 */

type Visit = (holder: object, key: PropertyKey | null, mapKey: unknown, value: ArrayBufferView) => void;

/** Every ArrayBufferView reachable from root, depth first in property order. */
function walk(root: object, visit: Visit): void {
  const seen = new Set<object>();
  const stack: object[] = [root];
  seen.add(root);
  while (stack.length > 0) {
    const obj = stack.pop()!;
    const push = (holder: object, key: PropertyKey | null, mapKey: unknown, v: unknown) => {
      if (typeof v !== 'object' || v === null) return;
      if (ArrayBuffer.isView(v)) {
        visit(holder, key, mapKey, v);
        return;
      }
      if (seen.has(v)) return;
      seen.add(v);
      stack.push(v);
    };
    if (obj instanceof Map) {
      for (const [k, v] of obj) push(obj, null, k, v);
    } else if (obj instanceof Set || obj instanceof WeakMap || obj instanceof WeakSet || obj instanceof Promise) {
      // no state of the allocators lives in these
    } else if (Array.isArray(obj)) {
      for (let i = obj.length - 1; i >= 0; i--) push(obj, i, undefined, obj[i]);
    } else {
      const keys = Object.keys(obj);
      for (let i = keys.length - 1; i >= 0; i--) push(obj, keys[i]!, undefined, (obj as Record<string, unknown>)[keys[i]!]);
    }
  }
}

/** The SharedArrayBuffers reachable from root, in walk order, each once. */
export function collectShared(root: object): SharedArrayBuffer[] {
  const out: SharedArrayBuffer[] = [];
  const seen = new Set<SharedArrayBuffer>();
  walk(root, (_h, _k, _m, v) => {
    const b = v.buffer;
    if (b instanceof SharedArrayBuffer && !seen.has(b)) {
      seen.add(b);
      out.push(b);
    }
  });
  return out;
}

type ViewCtor = new (buffer: SharedArrayBuffer, byteOffset: number, length: number) => ArrayBufferView;

/**
 * Point every view of from[i] reachable from root at to[i] (same offset and
 * length). The lists must match buffer for buffer: a mismatch means the two
 * machines were not booted alike, and is an Error.
 */
export function rebind(root: object, from: SharedArrayBuffer[], to: SharedArrayBuffer[]): void {
  if (from.length !== to.length) throw new Error(`attach: the handle has ${to.length} shared buffers, this machine ${from.length} (not booted alike)`);
  const map = new Map<SharedArrayBuffer, SharedArrayBuffer>();
  for (let i = 0; i < from.length; i++) {
    if (from[i]!.byteLength !== to[i]!.byteLength) {
      throw new Error(`attach: shared buffer ${i} is ${to[i]!.byteLength} bytes in the handle, ${from[i]!.byteLength} here (not booted alike)`);
    }
    map.set(from[i]!, to[i]!);
  }
  const done = new Map<ArrayBufferView, ArrayBufferView>();
  walk(root, (holder, key, mapKey, v) => {
    const target = v.buffer instanceof SharedArrayBuffer ? map.get(v.buffer) : undefined;
    if (target === undefined) return;
    let nv = done.get(v);
    if (nv === undefined) {
      if (v instanceof DataView) nv = new DataView(target, v.byteOffset, v.byteLength);
      else nv = new (v.constructor as ViewCtor)(target, v.byteOffset, (v as unknown as { length: number }).length);
      done.set(v, nv);
    }
    if (holder instanceof Map) holder.set(mapKey, nv);
    else (holder as Record<PropertyKey, unknown>)[key!] = nv;
  });
}
