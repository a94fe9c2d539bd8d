#!/usr/bin/env bash
# Instructions the engine executes per block, counted by callgrind: unlike wall-clock time, the count does not
# depend on what else the machine is doing, so it shows whether a change made the engine cheaper.
#
#   bench/engine/per_block_callgrind.sh [build dir]        (default: build)
#
# For each per-block benchmark at N = 1000 it runs one iteration under callgrind, counting only inside
# Engine::Step, and prints per block: all instructions, those inside Executor::Execute (the block's own work:
# templates, the variable operation, the input summary) and the rest (the engine around the block: walking the
# sequence, limit checks, the clock, the log entry, storing the block's output, freeing the outcome).
set -euo pipefail
build="${1:-build}"
bench="$build/bench/engine/weft_engine_bench"
[[ -x "$bench" ]] || { echo "no $bench: build it first" >&2; exit 1; }
command -v valgrind >/dev/null || { echo "valgrind is not installed" >&2; exit 1; }
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
n=1000
printf '%-36s %12s %12s %12s\n' benchmark 'Ir/block' 'block work' 'engine'
for case in BM_PerBlockSetConstant BM_PerBlockSetConstantNoLog BM_PerBlockSetConstantInLoop BM_PerBlockDisabled; do
    file="$out/$case.out"
    valgrind --tool=callgrind --toggle-collect='weft::engine::Engine::Step*' --callgrind-out-file="$file" \
        "$bench" --benchmark_filter="^$case/$n\$" --benchmark_min_time=0.01 >/dev/null 2>&1
    steps=$(callgrind_annotate --tree=caller "$file" | grep -oP 'Engine::Step\(.*\) const \(\K[0-9,]+(?=x\))' |
        sed -n 1p | tr -d ,)
    total=$(callgrind_annotate "$file" | awk '/PROGRAM TOTALS/ {gsub(",", "", $1); print $1}')
    execute=$(callgrind_annotate --inclusive=yes "$file" |
        awk '/Executor::Execute\(weft::engine::Block const&\) \[/ && !seen {gsub(",", "", $1); print $1; seen = 1}')
    execute=${execute:-0}
    blocks=$((steps * n))
    printf '%-36s %12d %12d %12d\n' "$case/$n" $((total / blocks)) $((execute / blocks)) $(((total - execute) / blocks))
done
