/**
 * Make a long replay trace from the repository's real 6.1 excerpt (or
 * KMEM_TRACE, see replay_real.bench.ts): its header once, then its event
 * lines over and over.
 *
 *   npx tsx bench/make_replay_trace.ts OUT [LINES=5000000]
 *
 * The file is large (5M lines are ~800 MiB): write it outside the repository.
 */
import { makeReplayTrace } from './replay_real.bench.js';

const [out, count] = process.argv.slice(2);
if (out === undefined) {
  console.error('usage: make_replay_trace.ts OUT [LINES]');
  process.exit(2);
}
const lines = count === undefined ? 5_000_000 : Number(count);
if (!Number.isInteger(lines) || lines <= 0) {
  console.error(`LINES: expected a positive whole number, got '${count}'`);
  process.exit(2);
}
const bytes = makeReplayTrace(out, lines);
console.log(`${out}: ${lines} lines, ${(bytes / 2 ** 20).toFixed(0)} MiB`);
