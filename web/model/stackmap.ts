/**
 * Stack frames in the page's reports name the TypeScript files.
 *
 * kmem writes a report's call trace from the JavaScript stack (new
 * Error().stack, formatted by V8 through Error.prepareStackTrace when one is
 * set). In the built page every frame is in a minified bundle
 * (assets/index-1a2b.js:1:48213); with the bundle's source map installed
 * here, V8's formatting gives web/model/callers.ts:41:7 instead. Only the
 * bundles whose maps are given are mapped: kmem's own chunk
 * (assets/dist/kernel/...) stays as it is, since kmem drops its own frames by
 * that path.
 */
import { SourceMap, type SourceMapJson } from './sourcemap.js';

type CallSite = NodeJS.CallSite;
type Prepare = (error: unknown, sites: CallSite[]) => unknown;

/** The first line of a formatted stack, as V8 writes it ("Error: message"). */
function header(error: unknown): string {
  try {
    return Error.prototype.toString.call(error);
  } catch {
    return 'Error';
  }
}

/** One frame as V8 prints it, with its bundle position replaced by the source's. */
export function mapFrame(site: CallSite, maps: ReadonlyMap<string, SourceMap>): string {
  let text: string;
  try {
    text = site.toString();
  } catch {
    return '<unknown>';
  }
  try {
    const file = site.getFileName();
    const line = site.getLineNumber();
    const col = site.getColumnNumber();
    if (!file || !line || !col) return text;
    const map = maps.get(file);
    const o = map?.lookup(line, col);
    if (!o) return text;
    const loc = `${file}:${line}:${col}`;
    const at = text.lastIndexOf(loc);
    if (at < 0) return text;
    return `${text.slice(0, at)}${o.source}:${o.line}:${o.column}${text.slice(at + loc.length)}`;
  } catch {
    return text;
  }
}

/**
 * Format stacks through the maps (bundle URL → its source map) from now on.
 * Returns a function that puts back the Error.prepareStackTrace there was.
 * Does nothing where the engine has no V8 stack API.
 */
export function installStackMapping(maps: ReadonlyMap<string, SourceMap>): () => void {
  const E = Error as unknown as { prepareStackTrace?: Prepare; captureStackTrace?: unknown };
  if (typeof E.captureStackTrace !== 'function') return () => {};
  const before = E.prepareStackTrace;
  const prepare: Prepare = (error, sites) => {
    let out = header(error);
    for (const s of sites) out += `\n    at ${mapFrame(s, maps)}`;
    return out;
  };
  E.prepareStackTrace = prepare;
  return () => {
    if (E.prepareStackTrace === prepare) E.prepareStackTrace = before;
  };
}

/**
 * Fetch the source map of a bundle (`<url>.map`, as vite writes it) and map
 * that bundle's frames. Resolves false, mapping nothing, when there is no map
 * or it does not arrive within `timeoutMs`.
 */
export async function mapStacksOf(bundleUrl: string, timeoutMs = 3000): Promise<boolean> {
  const ctl = new AbortController();
  const timer = setTimeout(() => ctl.abort(), timeoutMs);
  try {
    const res = await fetch(`${bundleUrl}.map`, { signal: ctl.signal });
    if (!res.ok) return false;
    const map = new SourceMap((await res.json()) as SourceMapJson);
    installStackMapping(new Map([[bundleUrl, map]]));
    return true;
  } catch {
    return false;
  } finally {
    clearTimeout(timer);
  }
}
