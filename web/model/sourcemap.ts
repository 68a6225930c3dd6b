/**
 * Source map version 3, read just enough to turn a position in the bundle
 * into the TypeScript file, line and column it came from (for the stack
 * frames of the reports the page shows).
 */

export interface SourceMapJson {
  version: number;
  sources: string[];
  mappings: string;
  sourceRoot?: string;
  names?: string[];
}

export interface OriginalPosition {
  source: string;
  /** 1-based, as stack traces count. */
  line: number;
  /** 1-based. */
  column: number;
}

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const B64_VALUE = new Int8Array(128).fill(-1);
for (let i = 0; i < B64.length; i++) B64_VALUE[B64.charCodeAt(i)] = i;

/**
 * The decoded mappings: for each generated line, its segments sorted by
 * column, four numbers each (generated column, source index, original line,
 * original column; all 0-based). Segments without a source are left out.
 */
export class SourceMap {
  readonly sources: string[];
  private readonly lines: Int32Array[];

  constructor(json: SourceMapJson) {
    if (json.version !== 3 || typeof json.mappings !== 'string' || !Array.isArray(json.sources)) throw new TypeError('not a version 3 source map');
    const root = json.sourceRoot ? json.sourceRoot.replace(/\/?$/, '/') : '';
    this.sources = json.sources.map((s) => root + s);
    this.lines = decodeMappings(json.mappings);
  }

  /** Where generated line `line`, column `column` (both 1-based) came from; null if nowhere. */
  lookup(line: number, column: number): OriginalPosition | null {
    const segs = this.lines[line - 1];
    if (!segs || segs.length === 0) return null;
    const col = column - 1;
    // The last segment starting at or before the column.
    let lo = 0;
    let hi = segs.length / 4 - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (segs[mid * 4]! <= col) {
        found = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    if (found < 0) return null;
    const source = this.sources[segs[found * 4 + 1]!];
    if (source === undefined) return null;
    return { source, line: segs[found * 4 + 2]! + 1, column: segs[found * 4 + 3]! + 1 };
  }
}

/** The "mappings" field: base64 VLQ, segments by ',' and generated lines by ';'. */
export function decodeMappings(mappings: string): Int32Array[] {
  const lines: Int32Array[] = [];
  let cur: number[] = [];
  let src = 0;
  let oLine = 0;
  let oCol = 0;
  let gCol = 0;
  const fields: number[] = [];
  let value = 0;
  let shift = 0;
  const endSegment = () => {
    if (fields.length === 0) return;
    gCol += fields[0]!;
    if (fields.length >= 4) {
      src += fields[1]!;
      oLine += fields[2]!;
      oCol += fields[3]!;
      cur.push(gCol, src, oLine, oCol);
    }
    fields.length = 0;
  };
  const endLine = () => {
    endSegment();
    // Segments are sorted by column within a line in every map seen; sort anyway if not.
    let sorted = true;
    for (let i = 4; i < cur.length; i += 4) if (cur[i]! < cur[i - 4]!) sorted = false;
    if (!sorted) {
      const segs: number[][] = [];
      for (let i = 0; i < cur.length; i += 4) segs.push(cur.slice(i, i + 4));
      segs.sort((a, b) => a[0]! - b[0]!);
      cur = segs.flat();
    }
    lines.push(Int32Array.from(cur));
    cur = [];
    gCol = 0;
  };
  for (let i = 0; i < mappings.length; i++) {
    const c = mappings.charCodeAt(i);
    if (c === 59 /* ; */) {
      endLine();
      continue;
    }
    if (c === 44 /* , */) {
      endSegment();
      continue;
    }
    const d = c < 128 ? B64_VALUE[c]! : -1;
    if (d < 0) throw new SyntaxError(`source map: bad character '${mappings[i]}' in mappings`);
    value += (d & 31) * 2 ** shift;
    if (d & 32) {
      shift += 5;
      continue;
    }
    fields.push(value % 2 === 1 ? -(value - 1) / 2 : value / 2);
    value = 0;
    shift = 0;
  }
  endLine();
  return lines;
}
