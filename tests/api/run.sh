#!/usr/bin/env bash
# Runs the black-box API suite against a built weft binary.
#   tests/api/run.sh [test files...]      (default: every tests/api/*.test.mjs)
# Environment: WEFT_BIN (default <repo>/build/weft), WEFT_KEEP_DATA=1 keeps each server's data folder,
# WEFT_API_STORE=postgres runs every server on a fresh PostgreSQL database of the server WEFT_TEST_PG_URL names
# (without one, a throwaway cluster is started for the run by scripts/pg-test-cluster.sh).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
export WEFT_BIN="${WEFT_BIN:-$repo/build/weft}"
if [[ ! -x "$WEFT_BIN" ]]; then
    echo "run.sh: no weft binary at $WEFT_BIN (build it, or set WEFT_BIN)" >&2
    exit 1
fi
if [[ "${WEFT_API_STORE:-sqlite}" == postgres && -z "${WEFT_TEST_PG_URL:-}" ]]; then
    exec bash "$repo/scripts/pg-test-cluster.sh" "$here/run.sh" "$@"
fi
cd "$here"
if [[ ! -d node_modules/ajv || ! -d node_modules/ajv-formats || ! -x node_modules/.bin/redocly ]]; then
    npm ci --no-audit --no-fund
fi
if [[ $# -eq 0 ]]; then
    # scaleout.test.mjs needs PostgreSQL: it runs in the PostgreSQL pass only.
    for f in ./*.test.mjs; do
        [[ "$f" == ./scaleout.test.mjs && "${WEFT_API_STORE:-sqlite}" != postgres ]] && continue
        set -- "$@" "$f"
    done
fi
exec node --test --test-concurrency="${WEFT_TEST_CONCURRENCY:-2}" --test-timeout=120000 "$@"
