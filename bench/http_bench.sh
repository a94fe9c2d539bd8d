#!/usr/bin/env bash
# HTTP benchmark: authenticated GET /v1/accounts/{account} (spread over 1 000 accounts, partner rate limit
# raised) against GET /healthz, in one run, with wrk. Prints requests/s and latency percentiles of both and
# the ratio of their throughputs.
#   bench/http_bench.sh [--connections 32] [--duration 15] [--threads 2] [--server-threads 2]
# Environment: WEFT_BIN (default build/weft). Build with the default RelWithDebInfo type first.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bin="${WEFT_BIN:-$repo/build/weft}"
connections=32 duration=15 threads=2 server_threads=2 accounts=1000
while [ $# -gt 0 ]; do
    case "$1" in
        --connections) connections="$2"; shift 2 ;;
        --duration) duration="$2"; shift 2 ;;
        --threads) threads="$2"; shift 2 ;;
        --server-threads) server_threads="$2"; shift 2 ;;
        --accounts) accounts="$2"; shift 2 ;;
        *) echo "unknown option $1" >&2; exit 2 ;;
    esac
done
command -v wrk >/dev/null || { echo "wrk is missing: run scripts/install-deps.sh" >&2; exit 1; }
[ -x "$bin" ] || { echo "no weft binary at $bin" >&2; exit 1; }

work="$(mktemp -d)"
server_pid=""
cleanup() {
    [ -n "$server_pid" ] && kill -TERM "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

creds="$("$bin" partner create --data "$work" --name bench --rate-limit 1000000 --json)"
app_id="$(echo "$creds" | jq -r .app_id)"
api_key="$(echo "$creds" | jq -r .api_key)"
"$bin" serve --data "$work" --listen 127.0.0.1:0 --port-file "$work/port" --access-log false \
    --threads "$server_threads" --log-level warn &
server_pid=$!
for _ in $(seq 100); do [ -s "$work/port" ] && break; sleep 0.1; done
port="$(cat "$work/port")"
base="http://127.0.0.1:$port"

echo "creating $accounts accounts..."
seq "$accounts" | xargs -P 4 -I{} curl -sf -o /dev/null -X POST "$base/v1/accounts" \
    -H "X-App-Id: $app_id" -H "X-Api-Key: $api_key" -H 'Content-Type: application/json' \
    -d '{"name":"Bench customer {}","externalid":"bench-{}"}'
seq "$accounts" | sed 's/^/bench-/' > "$work/accounts.txt"

cat > "$work/accounts.lua" <<LUA
local ids = {}
for line in io.lines("$work/accounts.txt") do ids[#ids + 1] = line end
local n = 0
wrk.headers["X-App-Id"] = "$app_id"
wrk.headers["X-Api-Key"] = "$api_key"
request = function()
    n = n + 1
    return wrk.format("GET", "/v1/accounts/" .. ids[(n % #ids) + 1])
end
done = function(summary, latency, requests)
    local errors = summary.errors.status + summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout
    io.write(string.format("errors %d\n", errors))
end
LUA

run() {  # name, wrk args...
    local name="$1"; shift
    local out
    out="$(wrk -t"$threads" -c"$connections" -d"${duration}s" --latency "$@")"
    local rps p50 p90 p99 errors
    rps="$(echo "$out" | awk '/Requests\/sec/ {print $2}')"
    p50="$(echo "$out" | awk '$1 == "50%" {print $2}')"
    p90="$(echo "$out" | awk '$1 == "90%" {print $2}')"
    p99="$(echo "$out" | awk '$1 == "99%" {print $2}')"
    errors="$(echo "$out" | awk '/^errors/ {print $2}')"
    non2xx="$(echo "$out" | awk '/Non-2xx/ {print $5}')"
    printf '%-28s %10s req/s   p50 %-9s p90 %-9s p99 %-9s non-2xx %s\n' "$name" "$rps" "$p50" "$p90" "$p99" "${non2xx:-0}"
    echo "$rps" > "$work/$name.rps"
}

echo "wrk: $threads threads, $connections connections, ${duration}s each; server: $server_threads I/O threads"
curl -sf "$base/v1/accounts/bench-1" -H "X-App-Id: $app_id" -H "X-Api-Key: $api_key" >/dev/null
run healthz "$base/healthz"
run account_get -s "$work/accounts.lua" "$base"
ratio="$(awk -v a="$(cat "$work/account_get.rps")" -v h="$(cat "$work/healthz.rps")" 'BEGIN {printf "%.2f", a / h}')"
echo "authenticated read / healthz throughput ratio: $ratio"
