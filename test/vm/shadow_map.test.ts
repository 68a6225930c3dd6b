/**
 * ShadowMap (src/vm/workingset.ts) against a plain model: the shadows by
 * index, and per 64-index block (one leaf xa_node's span) the shadows and
 * the page-cache pages in it; shadowOnly must be the blocks holding
 * shadows and no page (the kernel's shadow-only xa_nodes, workingset_nodes),
 * `blocks` those holding shadows in the order they got their first one.
 */
import fc from 'fast-check';
import { expect, test } from 'vitest';
import { ShadowMap } from '../../src/vm/workingset.js';

test('property: ShadowMap agrees with a Map of shadows and a count of pages per block after any sequence of operations', () => {
  const op = fc.oneof(
    fc.record({ k: fc.constant('set' as const), i: fc.nat(300), v: fc.nat(1e6) }),
    fc.record({ k: fc.constant('delete' as const), i: fc.nat(300) }),
    fc.record({ k: fc.constant('add' as const), i: fc.nat(300) }),
    fc.record({ k: fc.constant('remove' as const), i: fc.nat(300) }),
    fc.record({ k: fc.constant('clear' as const) }),
  );
  fc.assert(
    fc.property(fc.array(op, { maxLength: 300 }), (ops) => {
      const m = new ShadowMap();
      const shadows = new Map<number, number>();
      const pages = new Set<number>();
      const order: number[] = [];
      const blockOf = (i: number) => Math.floor(i / 64);
      for (const o of ops) {
        if (o.k === 'set') {
          const b = blockOf(o.i);
          if (![...shadows.keys()].some((i) => blockOf(i) === b)) order.push(b);
          shadows.set(o.i, o.v);
          m.set(o.i, o.v);
        } else if (o.k === 'delete') {
          expect(m.delete(o.i)).toBe(shadows.delete(o.i));
          const b = blockOf(o.i);
          const at = order.indexOf(b);
          if (at >= 0 && ![...shadows.keys()].some((i) => blockOf(i) === b)) order.splice(at, 1);
        } else if (o.k === 'add') {
          if (pages.has(o.i)) continue;
          pages.add(o.i);
          m.pageAdded(o.i);
        } else if (o.k === 'remove') {
          if (!pages.has(o.i)) continue;
          pages.delete(o.i);
          m.pageRemoved(o.i);
        } else {
          shadows.clear();
          order.length = 0;
          m.clear();
        }
        expect(m.size).toBe(shadows.size);
        const pageBlocks = new Set([...pages].map(blockOf));
        expect(m.shadowOnly).toBe(order.filter((b) => !pageBlocks.has(b)).length);
        expect([...m.blocks.keys()]).toEqual(order);
        for (const b of new Set([...order, ...pageBlocks, 0, 1, 2, 3, 4])) expect(m.pages.has(b)).toBe(pageBlocks.has(b));
      }
      expect(new Map(m)).toEqual(shadows);
      for (let i = 0; i <= 300; i++) expect(m.get(i)).toBe(shadows.get(i));
    }),
    { numRuns: 200 },
  );
});
