/**
 * The multi-gen LRU's user interface (mm/vmscan.c, Documentation/admin-guide/mm/multigen_lru.rst):
 * /sys/kernel/mm/lru_gen/enabled, /sys/kernel/mm/lru_gen/min_ttl_ms and
 * the debugfs file /sys/kernel/debug/lru_gen.
 *
 * enabled shows the lru_gen_caps bits as 0x%04x: 0x0001 the multi-gen LRU
 * itself, 0x0002 the page-table walk of aging, 0x0004 clearing the accessed
 * bit of non-leaf PMDs (both hardware features x86-64 has); 0x0007 with
 * everything on, 0x0000 off. Writing 'y' or 'n' (the first character, any
 * case) turns every bit on or off; a number (kstrtouint base 0) sets them
 * one by one. min_ttl_ms is kept in jiffies (HZ 250): a write rounds up to
 * a whole jiffy, and reads back as that many ms.
 */
import type { ProcFs } from '../proc/procfs.js';
import { EINVAL, ERANGE, errnoError } from '../proc/sysctl.js';
import { LRU_GEN_CORE, LRU_GEN_MM_WALK, LRU_GEN_NONLEAF_YOUNG, type LruGen, lruGenFromSeq, lruGenOf, NR_LRU_GEN_CAPS } from './lru_gen.js';
import { getSwappiness, runAging, runEviction } from './lru_gen_reclaim.js';
import type { Vm } from './vm.js';
import { MAX_SWAPPINESS, ScanControl } from './vmscan.js';

const ENABLED = '/sys/kernel/mm/lru_gen/enabled';
const MIN_TTL = '/sys/kernel/mm/lru_gen/min_ttl_ms';
const DEBUGFS = '/sys/kernel/debug/lru_gen';
/** Every cap on: what boot({ lruGen: true }) starts with (CONFIG_LRU_GEN_ENABLED) */
export const LRU_GEN_ALL_CAPS = (1 << NR_LRU_GEN_CAPS) - 1;
const MS_PER_JIFFY = 4;
const UINT_MAX = 0xffffffff;

/** kstrtouint(s, 0): a decimal, 0x hex or 0 octal number, with one optional trailing newline; undefined if it is not one. */
function kstrtouint(text: string): number | undefined {
  const s = text.endsWith('\n') ? text.slice(0, -1) : text;
  const m = /^\+?(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)$/.exec(s);
  if (m === null) return undefined;
  const d = m[1]!;
  const v =
    d.length > 1 && (d[1] === 'x' || d[1] === 'X')
      ? Number.parseInt(d.slice(2), 16)
      : d.length > 1 && d[0] === '0'
        ? Number.parseInt(d.slice(1), 8)
        : Number(d);
  return v > UINT_MAX ? undefined : v;
}

/** enabled_show(): the caps; the walk and non-leaf bits only as far as the hardware has them (x86-64: both). */
export function lruGenEnabledShow(g: LruGen | null): string {
  const caps = g === null ? 0 : g.caps & ((1 << LRU_GEN_CORE) | (1 << LRU_GEN_MM_WALK) | (1 << LRU_GEN_NONLEAF_YOUNG));
  return `0x${caps.toString(16).padStart(4, '0')}\n`;
}

/** enabled_store(): the caps one by one; LRU_GEN_CORE switches the LRU lists over (lru_gen_change_state). */
export function lruGenEnabledStore(vm: Vm, text: string): void {
  const c = text.charAt(0).toLowerCase();
  let caps: number | undefined;
  if (c === 'n') caps = 0;
  else if (c === 'y') caps = LRU_GEN_ALL_CAPS;
  else caps = kstrtouint(text);
  if (caps === undefined) throw errnoError(ENABLED, 'EINVAL', EINVAL, 'Invalid argument');
  lruGenSetCaps(vm, caps);
}

/** Set the caps and switch the lists to match the core bit. */
export function lruGenSetCaps(vm: Vm, caps: number): void {
  const g = lruGenOf(vm);
  g.caps = caps & LRU_GEN_ALL_CAPS;
  g.changeState((caps & (1 << LRU_GEN_CORE)) !== 0);
}

/** min_ttl_ms store: msecs_to_jiffies() rounds up. */
export function lruGenMinTtlStore(vm: Vm, text: string): void {
  const ms = kstrtouint(text);
  if (ms === undefined) throw errnoError(MIN_TTL, 'EINVAL', EINVAL, 'Invalid argument');
  lruGenOf(vm).minTtl = Math.ceil(ms / MS_PER_JIFFY);
}

/**
 * lru_gen_seq_show() without the full statistics: the root memcg (kmem
 * has no other), node 0, and a line per generation from the oldest of
 * either type to max_seq: its sequence number, its age in ms, its anon and
 * file pages.
 */
export function lruGenDebugfsShow(g: LruGen): string {
  const out = ['memcg     1 /', ' node     0'];
  const now = g.jiffies();
  for (let seq = Math.min(g.minSeq[0]!, g.minSeq[1]!); seq <= g.maxSeq; seq++) {
    const birth = g.timestamps[lruGenFromSeq(seq)]!;
    let line = ` ${String(seq).padStart(10)} ${String((now - birth) * MS_PER_JIFFY).padStart(10)}`;
    for (let type = 0; type < 2; type++) line += ` ${String(g.genSize(seq, type)).padStart(10)} `;
    out.push(line);
  }
  return `${out.join('\n')}\n`;
}

/**
 * Serve the three files. The vm half may not exist yet: the sysfs files
 * then read as the boot left them (the lists are empty), and a write
 * brings it up.
 */
export function registerLruGenSysfs(proc: ProcFs, vmIfAny: () => Vm | null, vm: () => Vm): void {
  proc.register(ENABLED, () => {
    const v = vmIfAny();
    return lruGenEnabledShow(v === null ? null : lruGenOf(v));
  });
  proc.registerWrite(ENABLED, (text) => lruGenEnabledStore(vm(), text));
  proc.register(MIN_TTL, () => {
    const v = vmIfAny();
    return `${v === null ? 0 : lruGenOf(v).minTtl * MS_PER_JIFFY}\n`;
  });
  proc.registerWrite(MIN_TTL, (text) => lruGenMinTtlStore(vm(), text));
  proc.register(DEBUGFS, () => lruGenDebugfsShow(lruGenOf(vm())));
  proc.registerWrite(DEBUGFS, (text) => lruGenDebugfsWrite(vm(), text));
}

/**
 * lru_gen_seq_write(): commands separated by ',', ';' or newlines, each
 * `+ memcg_id node_id max_gen_nr [swappiness [force_scan]]` (aging) or
 * `- memcg_id node_id min_gen_nr [swappiness [nr_to_reclaim]]` (eviction).
 * kmem's only memcg is the root (id 1), its only node 0; swappiness 'max'
 * (anon only) is not modelled. The first failing command ends the write
 * with its errno.
 */
export function lruGenDebugfsWrite(vm: Vm, text: string): void {
  for (const part of text.split(/[,;\n]/)) {
    const cur = part.trim();
    if (cur === '') continue;
    const m = /^(\S)\s*(\d+)\s+(\d+)\s+(\d+)(?:\s+(\S{1,4}))?(?:\s+(\d+))?$/.exec(cur);
    if (m === null) throw errnoError(DEBUGFS, 'EINVAL', EINVAL, 'Invalid argument');
    const [, cmd, memcgId, nid, seqText, swapText, optText] = m;
    let swappiness = -1;
    if (swapText !== undefined) {
      const v = kstrtouint(swapText);
      if (v === undefined) throw errnoError(DEBUGFS, 'EINVAL', EINVAL, 'Invalid argument');
      swappiness = v;
    }
    const opt = optText === undefined ? -1 : Number(optText);
    if (Number(memcgId) !== 1 || Number(nid) !== 0) throw errnoError(DEBUGFS, 'EINVAL', EINVAL, 'Invalid argument');
    const seq = Number(seqText);
    let err: number;
    if (cmd === '+') {
      const sc = new ScanControl();
      sc.maySwap = true;
      if (swappiness < 0 || swappiness > MAX_SWAPPINESS) swappiness = getSwappiness(vm, sc);
      err = runAging(vm, seq, swappiness, opt !== 0);
    } else if (cmd === '-') err = runEviction(vm, seq, swappiness, opt < 0 ? Number.MAX_SAFE_INTEGER : opt);
    else err = -EINVAL;
    if (err === -ERANGE) throw errnoError(DEBUGFS, 'ERANGE', ERANGE, 'Numerical result out of range');
    if (err !== 0) throw errnoError(DEBUGFS, 'EINVAL', EINVAL, 'Invalid argument');
  }
}
