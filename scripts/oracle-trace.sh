#!/bin/bash
# Make a complete kmem:* trace of a real Linux 6.1 machine with the project's
# qemu oracle (../shared/oracle beside the repository, or $ORACLE), as the
# replay fidelity fixtures were made: 2 CPUs, 512M, the kmem events from
# boot to the end of the oracle's workload, a trace buffer large enough that
# no event is lost (checked: trace-stats.txt must show no overrun). The
# committed fixture was made with the oracle's six default events; this
# script adds mm_page_free_batched (EVENTS= overrides).
#
#   scripts/oracle-trace.sh OUTDIR [--fixture]
#
# OUTDIR gets the oracle's files (trace.txt or trace.txt.gz, slabinfo.txt,
# vmstat.txt, buddyinfo.txt, meminfo.txt, sys-kernel-slab.tsv, ...). Minutes
# under qemu TCG. Then `npx tsx test/trace/oracle_match.ts OUTDIR` measures
# how closely kmem's replay matches. With --fixture it also writes the
# repository's fixtures from it: test/fixtures/oracle-6.1-2cpu-512M/* and
# test/fixtures/trace/linux-6.1-qemu-2cpu-512M-full.txt.br (brotli, as
# test/trace/replay61_fidelity.test.ts reads it), and regenerates
# src/slub/known_caches_6_1.ts. A new run is another boot: its figures differ
# a little from the committed ones, so the tests' exact counts must follow.
set -euo pipefail
OUT=${1:?usage: scripts/oracle-trace.sh OUTDIR [--fixture]}
HERE=$(cd "$(dirname "$0")/.." && pwd)
ORACLE=${ORACLE:-$HERE/../shared/oracle}
[ -x "$ORACLE/run.sh" ] || { echo "no oracle at $ORACLE (set ORACLE=...)" >&2; exit 1; }
# mm_page_free_batched too: 6.1 frees LRU pages in batches (release_pages) with that event
# alone, so without it pages freed that way stay allocated in the replay
EVENTS=${EVENTS:-kmem:kmalloc,kmem:kfree,kmem:kmem_cache_alloc,kmem:kmem_cache_free,kmem:mm_page_alloc,kmem:mm_page_free,kmem:mm_page_free_batched} \
  TRACE_BUF=${TRACE_BUF:-16M} "$ORACLE/run.sh" 2 512M "$OUT"
if grep -q '^overrun: [1-9]' "$OUT/trace-stats.txt" || grep -q '^dropped events: [1-9]' "$OUT/trace-stats.txt"; then
  echo "$OUT: events were lost (see trace-stats.txt): run again with a larger TRACE_BUF" >&2
  exit 1
fi
if [ "${2:-}" = --fixture ]; then
  FIX=$HERE/test/fixtures/oracle-6.1-2cpu-512M
  mkdir -p "$FIX"
  for f in slabinfo.txt sys-kernel-slab.tsv sys-kernel-slab-aliases.txt vmstat.txt meminfo.txt buddyinfo.txt zoneinfo.txt trace-stats.txt run-info.txt; do
    cp "$OUT/$f" "$FIX/"
  done
  T=$OUT/trace.txt
  [ -e "$T" ] || { gunzip -k "$OUT/trace.txt.gz"; }
  node -e "
    const z = require('zlib'), fs = require('fs');
    const b = fs.readFileSync(process.argv[1]);
    const p = { [z.constants.BROTLI_PARAM_QUALITY]: 11, [z.constants.BROTLI_PARAM_LGWIN]: 24, [z.constants.BROTLI_PARAM_SIZE_HINT]: b.length };
    fs.writeFileSync(process.argv[2], z.brotliCompressSync(b, { params: p }));
  " "$T" "$HERE/test/fixtures/trace/linux-6.1-qemu-2cpu-512M-full.txt.br"
  (cd "$HERE" && npx tsx scripts/gen-known-caches-6.1.ts && npx biome format --write src/slub/known_caches_6_1.ts >/dev/null)
fi
