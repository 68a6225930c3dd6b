import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeMappings, SourceMap } from '../../web/model/sourcemap.js';
import { inlineSourceMap, installStackMapping, mapFrame } from '../../web/model/stackmap.js';

/** Base64 VLQ, as source map writers encode it. */
function vlq(n: number): string {
  const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
  let v = n < 0 ? (-n << 1) | 1 : n << 1;
  let out = '';
  do {
    let d = v & 31;
    v >>>= 5;
    if (v > 0) d |= 32;
    out += B64[d];
  } while (v > 0);
  return out;
}

/** Mappings text for absolute segments [genCol, src, line, col] per generated line. */
function encode(lines: number[][][]): string {
  let src = 0;
  let line = 0;
  let col = 0;
  return lines
    .map((segs) => {
      let gcol = 0;
      return segs
        .map(([g, s, l, c]) => {
          const t = vlq(g! - gcol) + vlq(s! - src) + vlq(l! - line) + vlq(c! - col);
          gcol = g!;
          src = s!;
          line = l!;
          col = c!;
          return t;
        })
        .join(',');
    })
    .join(';');
}

describe('source maps', () => {
  it('decodes base64 VLQ mappings', () => {
    // Line 1: columns 0 and 2 from source 0 line 1 columns 1 and 3; line 2: column 16 from line 2 column 17.
    expect(decodeMappings('AAAA,EAAE;gBACA').map((l) => Array.from(l))).toEqual([
      [0, 0, 0, 0, 2, 0, 0, 2],
      [16, 0, 1, 2],
    ]);
    // A segment with only a generated column maps to nothing; negative deltas; segments out of order are sorted.
    expect(decodeMappings('A,CAAC,DAAD').map((l) => Array.from(l))).toEqual([[0, 0, 0, 0, 1, 0, 0, 1]]);
    expect(() => decodeMappings('A!')).toThrow(/bad character/);
  });

  it('finds the segment at or before a column, for any mappings', () => {
    const seg = fc.tuple(fc.nat(5000), fc.nat(3), fc.nat(2000), fc.nat(300));
    fc.assert(
      fc.property(fc.array(fc.uniqueArray(seg, { selector: (s) => s[0], maxLength: 12 }), { minLength: 1, maxLength: 6 }), fc.nat(6000), (raw, probe) => {
        const lines = raw.map((segs) => segs.slice().sort((a, b) => a[0] - b[0]));
        const map = new SourceMap({ version: 3, sources: ['a.ts', 'b.ts', 'c.ts', 'd.ts'], mappings: encode(lines) });
        for (let i = 0; i < lines.length; i++) {
          const before = lines[i]!.filter((s) => s[0] <= probe);
          const want = before.length ? before[before.length - 1]! : null;
          const got = map.lookup(i + 1, probe + 1);
          expect(got).toEqual(want ? { source: ['a.ts', 'b.ts', 'c.ts', 'd.ts'][want[1]], line: want[2] + 1, column: want[3] + 1 } : null);
        }
        expect(map.lookup(lines.length + 1, 1)).toBeNull();
      }),
    );
  });

  it('formats stack frames with the bundle’s positions replaced by the sources’', () => {
    const map = new SourceMap({
      version: 3,
      sources: ['web/model/callers.ts'],
      mappings: encode([
        [
          [0, 0, 0, 0],
          [100, 0, 73, 28],
        ],
      ]),
    });
    const maps = new Map([['http://h/assets/index-x.js', map]]);
    const site = (file: string, line: number, col: number, text: string) =>
      ({ getFileName: () => file, getLineNumber: () => line, getColumnNumber: () => col, toString: () => text }) as unknown as NodeJS.CallSite;
    expect(mapFrame(site('http://h/assets/index-x.js', 1, 120, 'kmalloc_oob_right (http://h/assets/index-x.js:1:120)'), maps)).toBe(
      'kmalloc_oob_right (web/model/callers.ts:74:29)',
    );
    // Another bundle (kmem's own chunk) is left as it is.
    const k = 'http://h/assets/dist/kernel/kernel-y.js';
    expect(mapFrame(site(k, 1, 5, `Kernel.kfree (${k}:1:5)`), maps)).toBe(`Kernel.kfree (${k}:1:5)`);

    // Installed, it formats real stacks (here no frame is in the bundle: they pass through).
    const undo = installStackMapping(maps);
    try {
      const stack = new Error('boom').stack!;
      expect(stack.split('\n')[0]).toBe('Error: boom');
      expect(stack.split('\n')[1]).toMatch(/^ {4}at .*sourcemap\.test\.ts:\d+:\d+\)?$/);
    } finally {
      undo();
    }
  });

  it('reads the inline map the dev server ends a module with', () => {
    const json = { version: 3, sources: ['callers.ts'], mappings: 'AAAA', sourcesContent: ['// ‘quoted’'] };
    const code = `export const x = 1;\n//# sourceMappingURL=data:application/json;base64,${Buffer.from(JSON.stringify(json)).toString('base64')}\n`;
    expect(inlineSourceMap(code)).toEqual(json);
    expect(inlineSourceMap('export const x = 1;\n')).toBeNull();
  });
});
