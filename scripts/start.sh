#!/usr/bin/env bash
# Installs what Weft needs, builds it (Release) and starts `weft serve` on its embedded SQLite default
# (data in ./weft-data, listening on 127.0.0.1:8080). Extra arguments go to `weft serve`.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"
bash scripts/install-deps.sh
cmake -S . -B build-release -G Ninja -DCMAKE_BUILD_TYPE=Release -DWEFT_BUILD_TESTS=OFF -DWEFT_BUILD_BENCH=OFF
cmake --build build-release -j"${WEFT_JOBS:-2}" --target weft
exec build-release/weft serve "$@"
