/**
 * The page's URL parameters (?mem=256M&cpus=4&seed=3...), checked the way
 * the kmem command checks its options: a bad value is a one-line message
 * naming the parameter, and the machine boots with that parameter's default
 * instead, so the page still comes up.
 */
import { MAX_MEMORY, MIN_MEMORY, memparse } from '../../src/inspect.js';
import { DEFAULT_CONFIG, type MachineConfig } from './session.js';

/** The most CPUs a machine may have (boot() refuses more). */
export const MAX_CPUS = 256;

/** A whole number from a parameter's text, or a message saying what was wrong. */
function wholeNumber(name: string, v: string, min: number, max: number): number | string {
  if (!/^\d+$/.test(v.trim())) return `${name}: expected a whole number, got '${v}'`;
  const n = Number(v.trim());
  if (n < min || n > max) return `${name}: expected ${min}..${max}, got '${v}'`;
  return n;
}

/** RAM size from a parameter's text ('128M', '1G', bytes), or a message. */
export function checkMemory(v: string, name = 'mem'): string | null {
  let bytes: number;
  try {
    bytes = memparse(v, name);
  } catch (e) {
    return (e as Error).message;
  }
  if (bytes < MIN_MEMORY) return `${name}: '${v}' is less than kmem supports (at least ${MIN_MEMORY >> 20}M)`;
  if (bytes > MAX_MEMORY) return `${name}: '${v}' is more than kmem supports (at most ${Math.floor(MAX_MEMORY / 1024)}K, 4G less a page)`;
  return null;
}

export function checkCpus(v: string, name = 'cpus'): number | string {
  return wholeNumber(name, v, 1, MAX_CPUS);
}

export function checkSeed(v: string, name = 'seed'): number | string {
  // The kernel takes any integer; the form and the URL take what a person types: 0 and up.
  return wholeNumber(name, v, 0, Number.MAX_SAFE_INTEGER);
}

export interface ParsedParams {
  cfg: MachineConfig;
  /** One line per parameter that was not understood (its default was used). */
  problems: string[];
}

/** The machine the URL asks for; `kasan` only when this kmem has it. */
export function machineFromParams(params: URLSearchParams, kasanAvailable: boolean, shared: boolean): ParsedParams {
  const problems: string[] = [];
  const cfg: MachineConfig = { ...DEFAULT_CONFIG, slubDebug: '', shared };
  const mem = params.get('mem');
  if (mem !== null) {
    const bad = checkMemory(mem);
    if (bad) problems.push(bad);
    else cfg.memory = mem.trim();
  }
  const cpus = params.get('cpus');
  if (cpus !== null) {
    const n = checkCpus(cpus);
    if (typeof n === 'string') problems.push(n);
    else cfg.cpus = n;
  }
  const seed = params.get('seed');
  if (seed !== null) {
    const n = checkSeed(seed);
    if (typeof n === 'string') problems.push(n);
    else cfg.seed = n;
  }
  const kasan = params.get('kasan');
  if (kasan !== null) {
    if (kasan !== '0' && kasan !== '1') problems.push(`kasan: expected 0 or 1, got '${kasan}'`);
    else if (kasan === '1' && !kasanAvailable) problems.push('kasan: this kmem has no KASAN; booted without it');
    else cfg.kasan = kasan === '1';
  }
  const debug = params.get('slub_debug');
  if (debug !== null) cfg.slubDebug = debug;
  return { cfg, problems };
}

/** A value the page offers in a list (workload, scenario, tab): null if absent or known, else a message. */
export function checkChoice(name: string, v: string | null, known: readonly string[]): string | null {
  if (v === null || known.includes(v)) return null;
  return `${name}: no ${name} '${v}' (one of ${known.join(', ')})`;
}
