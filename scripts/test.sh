#!/usr/bin/env bash
# Builds Weft and runs the whole test suite (unit tests, black-box API tests, OpenAPI lint) with ctest.
#   scripts/test.sh                 normal build in build/
#   WEFT_SANITIZE=1 scripts/test.sh AddressSanitizer + UndefinedBehaviorSanitizer build in build-asan/
# Extra arguments go to ctest (e.g. -R api, -L unit).
# Every store test and the black-box suite also run on PostgreSQL: ctest runs inside a throwaway PostgreSQL 15
# cluster (scripts/pg-test-cluster.sh) unless WEFT_TEST_PG_URL already names a server.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"
bash scripts/install-deps.sh

build_dir=build
cmake_args=(-G Ninja -DWEFT_WERROR="${WEFT_WERROR:-ON}")
if [ "${WEFT_SANITIZE:-0}" = 1 ]; then
    build_dir=build-asan
    cmake_args+=(-DWEFT_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug -DWEFT_BUILD_BENCH=OFF)
    export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:strict_string_checks=1}"
    export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
fi
cmake -S . -B "$build_dir" "${cmake_args[@]}"
cmake --build "$build_dir" -j"${WEFT_JOBS:-2}"
cd "$build_dir"
# The PostgreSQL cases fail rather than skip when no server is configured.
export WEFT_TEST_PG_REQUIRED=1
if [ -n "${WEFT_TEST_PG_URL:-}" ]; then
    ctest --output-on-failure -j"${WEFT_JOBS:-2}" "$@"
else
    bash "$repo/scripts/pg-test-cluster.sh" ctest --output-on-failure -j"${WEFT_JOBS:-2}" "$@"
fi
