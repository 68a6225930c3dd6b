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
 * that path. Under the dev server each module is its own .ts file already;
 * its inline map corrects the lines (the types stripped from it moved them).
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

/** A module's inline source map (vite's dev server ends each module with one), or null. */
export function inlineSourceMap(code: string): SourceMapJson | null {
  const m = /\/\/# sourceMappingURL=data:application\/json;(?:charset=utf-8;)?base64,([A-Za-z0-9+/=]+)\s*$/.exec(code);
  if (!m) return null;
  const bytes = Uint8Array.from(atob(m[1]!), (c) => c.charCodeAt(0));
  return JSON.parse(new TextDecoder().decode(bytes)) as SourceMapJson;
}

/** One script's map: a bundle's `<url>.map` (as vite builds it), else the script's inline map. */
async function mapOf(url: string, signal: AbortSignal): Promise<SourceMap | null> {
  try {
    if (/\.js$/.test(new URL(url).pathname)) {
      const res = await fetch(`${url}.map`, { signal });
      return res.ok ? new SourceMap((await res.json()) as SourceMapJson) : null;
    }
    const res = await fetch(url, { signal });
    const json = res.ok ? inlineSourceMap(await res.text()) : null;
    // A module served as itself (the dev server): keep its address, correct its lines.
    return json ? new SourceMap({ ...json, sourceRoot: undefined, sources: json.sources.map(() => url) }) : null;
  } catch {
    return null;
  }
}

/**
 * Fetch the source maps of these scripts and map their frames from now on.
 * Resolves to how many maps were found; those that do not arrive within
 * `timeoutMs` are left out.
 */
export async function mapStacksOf(urls: string[], timeoutMs = 3000): Promise<number> {
  const ctl = new AbortController();
  const timer = setTimeout(() => ctl.abort(), timeoutMs);
  try {
    const maps = new Map<string, SourceMap>();
    const found = await Promise.all(urls.map((u) => mapOf(u, ctl.signal)));
    urls.forEach((u, i) => {
      const m = found[i];
      if (m) maps.set(u, m);
    });
    if (maps.size > 0) installStackMapping(maps);
    return maps.size;
  } finally {
    clearTimeout(timer);
  }
}
