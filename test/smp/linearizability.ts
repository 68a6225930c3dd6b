/**
 * A linearizability checker for small histories of one slab's freelist
 * (Wing and Gong's search): a history is linearizable when its operations
 * can be put in one order that respects real time (an operation that
 * returned before another was called comes first) and that a sequential
 * freelist explains: free(x) pushes x; take() (get_freelist) returns the
 * whole list, most recent first, and leaves it empty.
 */
export type Op = { kind: 'free'; obj: number; call: number; ret: number } | { kind: 'take'; result: number[]; call: number; ret: number };

/** A witness order of ops (indexes), or null when none exists. */
export function linearize(ops: Op[], initial: number[] = []): number[] | null {
  const done = new Array<boolean>(ops.length).fill(false);
  const order: number[] = [];
  const search = (stack: number[]): boolean => {
    if (order.length === ops.length) return true;
    // The earliest return among pending ops: only ops called before it can go next.
    let minRet = Number.POSITIVE_INFINITY;
    for (let i = 0; i < ops.length; i++) if (!done[i] && ops[i]!.ret < minRet) minRet = ops[i]!.ret;
    for (let i = 0; i < ops.length; i++) {
      const op = ops[i]!;
      if (done[i] || op.call > minRet) continue;
      let next: number[];
      if (op.kind === 'free') {
        next = [...stack, op.obj];
      } else {
        const expected = [...stack].reverse();
        if (expected.length !== op.result.length || expected.some((x, j) => x !== op.result[j])) continue;
        next = [];
      }
      done[i] = true;
      order.push(i);
      if (search(next)) return true;
      order.pop();
      done[i] = false;
    }
    return false;
  };
  return search(initial) ? order : null;
}
