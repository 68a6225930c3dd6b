/**
 * The slab_debug= boot parameter (src/slub/slub_debug_param.ts) against
 * mm/slub.c 6.18: setup_slub_debug() sets the global flags from the blocks
 * without a cache list, kmem_cache_flags() gives a cache the flags of the
 * FIRST block whose list names it (instead of the global ones), globs match a
 * prefix up to the '*', SLAB_NOLEAKTRACE takes U out of the global flags only,
 * and an unknown letter is reported once, at boot, with pr_err().
 *
 * Checked through the boot API and /sys/kernel/slab, as a user sees it.
 */
import { describe, expect, it } from 'vitest';
import { boot, type Kernel } from '../../src/index.js';
import { KERN_ERR } from '../../src/lib/printk.js';
import { CF } from '../../src/slub/slab.js';
import { SLAB_CONSISTENCY_CHECKS, SLAB_FAILSLAB, SLAB_NO_USER_FLAGS, SLAB_NOLEAKTRACE, SLAB_STORE_USER, SLAB_TRACE } from '../../src/slub/slab_flags.js';
import { kmemCacheFlags, parseSlubDebug } from '../../src/slub/slub_debug_param.js';

function machine(slubDebug: string | boolean | undefined): Kernel {
  return boot({ memory: '128M', cpus: 2, slubDebug });
}

/** A cache's slab_debug letters as /sys/kernel/slab shows them ('F', 'Z', 'P', 'U', 'T'; '' for none). */
function letters(k: Kernel, name: string): string {
  const attr = (a: string) => k.sys.read(`/sys/kernel/slab/${name}/${a}`);
  let out = '';
  if (attr('sanity_checks') === '1\n') out += 'F';
  if (attr('red_zone') === '1\n') out += 'Z';
  if (attr('poison') === '1\n') out += 'P';
  if (attr('store_user') === '1\n') out += 'U';
  if (attr('trace') === '1\n') out += 'T';
  return out;
}

/** The letters of several caches at once. */
function lettersOf(k: Kernel, names: string[]): Record<string, string> {
  return Object.fromEntries(names.map((n) => [n, letters(k, n)]));
}

/** dmesg lines without their timestamps. */
function log(k: Kernel): string[] {
  return k.dmesg().map((l) => l.replace(/^\[\s*\d+\.\d{6}\] /, ''));
}

describe('slab_debug=: global blocks', () => {
  it('a bare slab_debug (true) and a flags-only value set every cache', () => {
    const names = ['kmem_cache', 'kmem_cache_node', 'kmalloc-8', 'kmalloc-64', 'kmalloc-rcl-256', 'dma-kmalloc-1k'];
    const all = lettersOf(machine(true), names);
    for (const n of names) expect(all[n]).toBe('FZPU');
    const fz = lettersOf(machine('fz'), names); // letters are case-insensitive
    for (const n of names) expect(fz[n]).toBe('FZ');
  });

  it("no option, false and '' leave debugging off", () => {
    for (const v of [undefined, false, '']) expect(letters(machine(v), 'kmalloc-64')).toBe('');
  });

  it('the last block without a list sets the global flags', () => {
    expect(letters(machine('F;Z'), 'kmalloc-64')).toBe('Z');
    expect(letters(machine('Z;;;F'), 'kmalloc-64')).toBe('F');
  });

  it("'-' clears the letters before it in its block", () => {
    expect(letters(machine('FZ-P'), 'kmalloc-64')).toBe('P');
    expect(letters(machine('FZPU-'), 'kmalloc-64')).toBe('');
  });

  it("empty blocks are skipped: 'FZ;' is FZ, not full debugging; ';' alone turns everything off", () => {
    expect(letters(machine('FZ;'), 'kmalloc-64')).toBe('FZ');
    expect(letters(machine(';'), 'kmalloc-64')).toBe('');
    expect(letters(machine(';;,kmalloc-64'), 'kmalloc-64')).toBe('FZPU');
  });

  it('T traces and A marks the cache for fault injection (SLAB_FAILSLAB)', () => {
    const k = machine('TA');
    expect(letters(k, 'kmalloc-64')).toBe('T');
    const flags = k.slub.cf[k.slab.findByName('kmalloc-64') * CF.FIELDS + CF.FLAGS]!;
    expect(flags & (SLAB_TRACE | SLAB_FAILSLAB)).toBe(SLAB_TRACE | SLAB_FAILSLAB);
  });
});

describe('slab_debug=: per-cache blocks', () => {
  it('a list alone leaves the other caches without debugging', () => {
    const k = machine('FZ,kmalloc-64,kmalloc-128');
    expect(lettersOf(k, ['kmalloc-64', 'kmalloc-128', 'kmalloc-32', 'kmalloc-cg-64'])).toEqual({
      'kmalloc-64': 'FZ',
      'kmalloc-128': 'FZ',
      'kmalloc-32': '',
      'kmalloc-cg-64': '',
    });
  });

  it('a block starting with a comma means full debugging for its list', () => {
    expect(lettersOf(machine(',kmalloc-64'), ['kmalloc-64', 'kmalloc-32'])).toEqual({ 'kmalloc-64': 'FZPU', 'kmalloc-32': '' });
  });

  it('the FIRST block whose list names a cache wins', () => {
    expect(letters(machine('FZ,kmalloc-64;PU,kmalloc-64'), 'kmalloc-64')).toBe('FZ');
    // The glob block comes first, so it decides kmalloc-64 too.
    const k = machine('P,kmalloc-*;U,kmalloc-64');
    expect(lettersOf(k, ['kmalloc-64', 'kmalloc-32'])).toEqual({ 'kmalloc-64': 'P', 'kmalloc-32': 'P' });
    const r = machine('U,kmalloc-64;P,kmalloc-*');
    expect(lettersOf(r, ['kmalloc-64', 'kmalloc-32'])).toEqual({ 'kmalloc-64': 'U', 'kmalloc-32': 'P' });
  });

  it("a block's flags replace the global ones for the caches it names, wherever the global block is", () => {
    for (const v of ['FZ;U,kmalloc-64', 'U,kmalloc-64;FZ']) {
      const k = machine(v);
      expect(lettersOf(k, ['kmalloc-64', 'kmalloc-32', 'kmem_cache'])).toEqual({ 'kmalloc-64': 'U', 'kmalloc-32': 'FZ', kmem_cache: 'FZ' });
    }
    expect(letters(machine('FZPU;-,kmalloc-64'), 'kmalloc-64')).toBe('');
  });

  it("'*' matches the prefix before it, wherever it stands in the name; a name without one matches exactly", () => {
    const k = machine('Z,kmalloc-cg-*;P,kmal*64;U,kmalloc-1');
    expect(lettersOf(k, ['kmalloc-cg-64', 'kmalloc-64', 'kmalloc-32', 'kmalloc-1k', 'kmalloc-128', 'dma-kmalloc-64'])).toEqual({
      'kmalloc-cg-64': 'Z',
      'kmalloc-64': 'P',
      'kmalloc-32': 'P', // "kmal*64" is the prefix "kmal": what follows the '*' is not looked at
      'kmalloc-1k': 'P',
      'kmalloc-128': 'P',
      'dma-kmalloc-64': '',
    });
    expect(lettersOf(machine('U,kmalloc-1'), ['kmalloc-128', 'kmalloc-1k'])).toEqual({ 'kmalloc-128': '', 'kmalloc-1k': '' });
    expect(letters(machine('P,*'), 'kmem_cache_node')).toBe('P');
  });

  it('caches created after boot are matched the same way', () => {
    const k = machine('P,drv_*;U,drv_b');
    k.kmemCacheCreate('drv_a', 100);
    k.kmemCacheCreate('drv_b', 200);
    k.kmemCacheCreate('other', 300);
    expect(lettersOf(k, ['drv_a', 'drv_b', 'other'])).toEqual({ drv_a: 'P', drv_b: 'P', other: '' });
  });

  it("'O' in any block, one with a list included, applies to every cache", () => {
    const k = machine('FZPU;O,no_such_cache');
    expect(letters(k, 'kmalloc-4k')).toBe('F');
    expect(letters(k, 'kmalloc-32')).toBe('FZPU');
  });

  it("the kernel's walk quirk: a list before ';;' or a final ';' compares its last name with the ';'", () => {
    // kmem_cache_flags() ends a name one character before the next block, and
    // the next block starts after the last of several ';' (or there is none).
    expect(letters(machine('Z,kmalloc-64;'), 'kmalloc-64')).toBe('');
    expect(letters(machine('Z,kmalloc-64*;'), 'kmalloc-64')).toBe('Z');
    const k = machine('Z,kmalloc-32,kmalloc-64;;P');
    expect(lettersOf(k, ['kmalloc-32', 'kmalloc-64', 'kmalloc-8'])).toEqual({ 'kmalloc-32': 'Z', 'kmalloc-64': 'P', 'kmalloc-8': 'P' });
    expect(letters(machine('Z,kmalloc-64;P'), 'kmalloc-64')).toBe('Z');
  });
});

describe('slab_debug=: SLAB_NOLEAKTRACE and SLAB_NO_USER_FLAGS caches', () => {
  it('a SLAB_NOLEAKTRACE cache loses U from the global flags only', () => {
    const k = machine('FZPU');
    k.kmemCacheCreate('leak_meta', 64, { flags: SLAB_NOLEAKTRACE });
    expect(letters(k, 'leak_meta')).toBe('FZP');
    const named = machine('FZPU;FU,leak_meta');
    named.kmemCacheCreate('leak_meta', 64, { flags: SLAB_NOLEAKTRACE });
    expect(letters(named, 'leak_meta')).toBe('FU');
    const listOnly = machine('U,leak_*');
    listOnly.kmemCacheCreate('leak_meta', 64, { flags: SLAB_NOLEAKTRACE });
    expect(letters(listOnly, 'leak_meta')).toBe('U');
  });

  it('a SLAB_NO_USER_FLAGS cache gets nothing, named or not', () => {
    const k = machine('FZPU;T,quiet');
    k.kmemCacheCreate('quiet', 64, { flags: SLAB_NO_USER_FLAGS });
    expect(letters(k, 'quiet')).toBe('');
  });
});

describe('slab_debug=: unknown letters', () => {
  it("print 6.18's pr_err line once per letter at boot, before SLUB's banner", () => {
    const k = machine('FZxQ,kmalloc-64;P!');
    const lines = log(k);
    const warn = lines.filter((l) => l.includes('unknown. skipped'));
    expect(warn).toEqual(["slab_debug option 'x' unknown. skipped", "slab_debug option 'Q' unknown. skipped", "slab_debug option '!' unknown. skipped"]);
    expect(lines.indexOf(warn[2]!)).toBeLessThan(lines.findIndex((l) => l.startsWith('SLUB: HWalign=')));
    // pr_err(): KERN_ERR.
    const recs = k.printk.records().filter((r) => r.text.includes('unknown. skipped'));
    expect(recs.map((r) => r.level)).toEqual([3, 3, 3]);
    // The letters around them still count; caches created later print nothing again.
    expect(lettersOf(k, ['kmalloc-64', 'kmalloc-32'])).toEqual({ 'kmalloc-64': 'FZ', 'kmalloc-32': 'P' });
    k.kmemCacheCreate('late', 64);
    expect(log(k).filter((l) => l.includes('unknown. skipped'))).toHaveLength(3);
  });

  it('the parser hands the lines over as pr_err() texts', () => {
    expect(parseSlubDebug('Fy').warnings).toEqual([`${KERN_ERR}slab_debug option 'y' unknown. skipped`]);
    expect(parseSlubDebug('FZPU').warnings).toEqual([]);
  });
});

describe('kmemCacheFlags()', () => {
  it('adds to the creation flags, never removes', () => {
    const cfg = parseSlubDebug('-,x');
    expect(kmemCacheFlags(cfg, 'x', SLAB_STORE_USER)).toBe(SLAB_STORE_USER);
    expect(kmemCacheFlags(parseSlubDebug('F'), 'y', SLAB_STORE_USER | SLAB_NOLEAKTRACE)).toBe(SLAB_STORE_USER | SLAB_NOLEAKTRACE | SLAB_CONSISTENCY_CHECKS);
  });

  it('rejects what is not a string or a boolean', () => {
    expect(() => parseSlubDebug(3 as unknown as string)).toThrow(TypeError);
  });
});
