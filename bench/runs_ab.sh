#!/usr/bin/env bash
# Interleaved A/B runs of bench/runs_bench.sh for two or more weft binaries: round 1 runs each binary in turn,
# then round 2, and so on, so that the VM's slow and fast phases fall on every binary alike. On this machine the
# same binary's throughput moves by a third from minute to minute; only interleaved pairs compare binaries.
#   bench/runs_ab.sh [--rounds 3] [--duration 8] [--connections "16"] [--cases "sync async"]
#                    [--server postgres://user@host:port/db] [--stores "sqlite postgres"] BIN BIN...
# --server: a PostgreSQL server (any database on it) where each run gets a fresh database, dropped afterwards.
# --stores: the stores each round runs, in this order, every binary on each (default: postgres when --server is
# given, else sqlite); "sqlite postgres" compares the two stores round by round, as docs/performance.md does.
# Prints, per run, the store, the binary, the time and the sync and async "completed" lines of runs_bench.sh
# (throughput, latency, CPU per run).
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
rounds=3 duration=8 connections=16 server="" stores="" cases="sync async"
while [ $# -gt 0 ]; do
    case "$1" in
        --rounds) rounds="$2"; shift 2 ;;
        --duration) duration="$2"; shift 2 ;;
        --connections) connections="$2"; shift 2 ;;
        --cases) cases="$2"; shift 2 ;;
        --server) server="$2"; shift 2 ;;
        --stores) stores="$2"; shift 2 ;;
        --*) echo "unknown option $1" >&2; exit 2 ;;
        *) break ;;
    esac
done
[ $# -ge 1 ] || { echo "usage: bench/runs_ab.sh [options] BIN BIN..." >&2; exit 2; }
for bin in "$@"; do [ -x "$bin" ] || { echo "not an executable: $bin" >&2; exit 2; }; done
[ -n "$stores" ] || stores="$([ -n "$server" ] && echo postgres || echo sqlite)"
for store in $stores; do
    case "$store" in
        sqlite) ;;
        postgres) [ -n "$server" ] || { echo "--stores postgres needs --server postgres://..." >&2; exit 2; } ;;
        *) echo "unknown store $store (sqlite or postgres)" >&2; exit 2 ;;
    esac
done

for round in $(seq "$rounds"); do
    for store in $stores; do
        for bin in "$@"; do
            db_args=()
            db=""
            if [ "$store" = postgres ]; then
                db="weft_ab_$(date +%s%N)"
                psql -q "$server" -c "CREATE DATABASE $db"
                db_args=(--database "${server%/*}/$db")
            fi
            out="$(WEFT_BIN="$bin" "$repo/bench/runs_bench.sh" --duration "$duration" --connections "$connections" \
                --cases "$cases" "${db_args[@]}" 2>&1 | grep -E '^(sync|async)' | grep -Ev 'c=[0-9]+ +accepted' |
                sed -E 's/ +/ /g')"
            [ -n "$db" ] && psql -q "$server" -c "DROP DATABASE $db"
            echo "== round $round $store $bin $(date +%H:%M:%S)"
            echo "$out"
        done
    done
done
