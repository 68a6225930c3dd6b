/**
 * slub_debug's cost on the kmalloc(64) + kfree pair (issue 15: "debug modes
 * fast enough to leave on", goal for FZP <= 300 ns per pair): every object
 * of a debug cache takes the slow paths under the list lock, with
 * check_slab(), check_object(), on_freelist() and init_object() on each
 * side (and with U, a stack saved per allocation and per free).
 *
 * bench/harness.ts: each contender's loop in a module of its own
 * (slub_debug_off.ts, slub_debug_fzp.ts, slub_debug_fzpu.ts), one machine
 * each, rounds interleaved, min and median; run in two processes.
 * bench/slub_debug_cpu_probe.ts compares builds on the same pairs in CPU
 * time, for a machine shared with other busy processes.
 */
import { boot } from '../src/index.js';
import { interleaved, table, twice } from './harness.js';
import { slubDebugFzpPair } from './slub_debug_fzp.js';
import { slubDebugFzpuPair } from './slub_debug_fzpu.js';
import { slubDebugOffPair } from './slub_debug_off.js';

function pair(): void {
  const off = boot({ memory: '128M', cpus: 2 });
  const fzp = boot({ memory: '128M', cpus: 2, slubDebug: 'FZP' });
  const fzpu = boot({ memory: '128M', cpus: 2, slubDebug: 'FZPU' });
  const rows = interleaved(
    [
      { name: 'kmalloc(64) + kfree, slub_debug off', run: (n) => slubDebugOffPair(off, n) },
      { name: 'kmalloc(64) + kfree, slub_debug=FZP', run: (n) => slubDebugFzpPair(fzp, n) },
      { name: 'kmalloc(64) + kfree, slub_debug=FZPU', run: (n) => slubDebugFzpuPair(fzpu, n) },
    ],
    { rounds: 15, targetMs: 20 },
  );
  table('slub_debug on the kmalloc(64) + kfree pair (goal FZP <= 300 ns)', rows, rows[0]!, 44);
}

export const benches = {
  ...twice('benchSlubDebugPair', pair),
};
