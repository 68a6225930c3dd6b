/**
 * Argument checks for the public API: every bad argument becomes a
 * TypeError (wrong type) or RangeError (right type, bad value) whose message
 * starts with the argument's name and shows the value readably, whatever
 * the value is (a Symbol, a BigInt, a Proxy, null).
 */

/** A value as an error message shows it: 'abc' quoted, 10n, Symbol(x), an object, NaN. */
export function describe(v: unknown): string {
  switch (typeof v) {
    case 'string':
      return JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v);
    case 'bigint':
      return `${v.toString()}n`;
    case 'symbol':
      return v.toString();
    case 'function':
      return 'a function';
    case 'object':
      if (v === null) return 'null';
      if (Array.isArray(v)) return 'an array';
      return 'an object';
    default:
      return String(v);
  }
}

/** An integer in lo..hi, else TypeError (not a number) or RangeError naming `name`. */
export function checkInteger(v: unknown, name: string, lo: number, hi: number): asserts v is number {
  if (typeof v !== 'number') throw new TypeError(`${name}: expected an integer, got ${describe(v)}`);
  if (!Number.isInteger(v) || v < lo || v > hi) throw new RangeError(`${name}: expected an integer ${lo}..${hi}, got ${describe(v)}`);
}

/** A function, else TypeError naming `name`. */
export function checkFunction(v: unknown, name: string): asserts v is (...args: never[]) => unknown {
  if (typeof v !== 'function') throw new TypeError(`${name}: expected a function, got ${describe(v)}`);
}

/** A string, else TypeError naming `name`. */
export function checkString(v: unknown, name: string): asserts v is string {
  if (typeof v !== 'string') throw new TypeError(`${name}: expected a string, got ${describe(v)}`);
}

/** The Levenshtein distance of two short strings (for "did you mean"). */
function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0] as number;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cur = row[j] as number;
      row[j] = Math.min(cur + 1, (row[j - 1] as number) + 1, prev + (a[i - 1]?.toLowerCase() === b[j - 1]?.toLowerCase() ? 0 : 1));
      prev = cur;
    }
  }
  return row[b.length] as number;
}

/** The closest of `names` to `word`, when close enough to be a likely typo. */
export function closest(word: string, names: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestD = Number.POSITIVE_INFINITY;
  for (const n of names) {
    const d = distance(word, n);
    if (d < bestD) {
      bestD = d;
      best = n;
    }
  }
  return bestD <= Math.max(2, Math.floor(word.length / 3)) ? best : undefined;
}
