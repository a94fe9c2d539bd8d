#!/usr/bin/env bash
# Builds the libFuzzer targets with clang (ASan+UBSan, fuzzer coverage on all of the engine) and runs each for
# a bounded time from the seed corpus in fuzz/corpus. A crash, a hang (-timeout) or running out of memory
# (-rss_limit_mb) fails the script and leaves the reproducer in build-fuzz/.
#   scripts/fuzz.sh [seconds per target, default 60]
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"
seconds="${1:-60}"
CXXFLAGS="-fsanitize=fuzzer-no-link" cmake -S . -B build-fuzz -G Ninja -DCMAKE_CXX_COMPILER=clang++ \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo -DWEFT_FUZZ=ON -DWEFT_SANITIZE=ON -DWEFT_BUILD_TESTS=OFF \
    -DWEFT_BUILD_BENCH=OFF >/dev/null
cmake --build build-fuzz -j"${WEFT_JOBS:-2}" --target weft_definition_fuzz weft_expression_fuzz
for target in definition expression; do
    work="build-fuzz/corpus-$target"
    mkdir -p "$work"
    echo "== fuzzing the $target parser for ${seconds}s"
    (cd build-fuzz && ./fuzz/weft_${target}_fuzz -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
        -max_len=65536 -print_final_stats=1 "corpus-$target" "$repo/fuzz/corpus/$target" 2>&1 | tail -n 12)
done
