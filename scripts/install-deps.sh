#!/usr/bin/env bash
# Installs every Debian package Weft's build, tests and benchmarks need. Idempotent: safe to re-run.
set -euo pipefail

packages=(
    build-essential cmake ninja-build ccache pkg-config git ca-certificates
    clang-format clang libclang-rt-14-dev
    libboost1.81-dev libboost-json1.81-dev libboost-url1.81-dev
    libssl-dev libsqlite3-dev libpq-dev
    libspdlog-dev libfmt-dev libcli11-dev libre2-dev libhowardhinnant-date-dev tzdata
    libgtest-dev libgmock-dev libbenchmark-dev
    wrk curl jq openssl
    postgresql-15 postgresql-client-15 util-linux
)

# Node.js and npm run the black-box API tests. The machine image may ship them from another source
# (whose nodejs package conflicts with Debian's npm): only install Debian's when absent.
command -v node >/dev/null 2>&1 || packages+=(nodejs)
command -v npm >/dev/null 2>&1 || packages+=(npm)

missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if [ ${#missing[@]} -gt 0 ]; then
    sudo_cmd=""
    [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
    export DEBIAN_FRONTEND=noninteractive
    $sudo_cmd apt-get update -qq
    $sudo_cmd apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# npm packages used by the black-box API tests (OpenAPI validation) and the OpenAPI linter.
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
if [ -f "$here/tests/api/package.json" ] && [ ! -d "$here/tests/api/node_modules" ]; then
    (cd "$here/tests/api" && npm ci --no-audit --no-fund --loglevel=error)
fi
