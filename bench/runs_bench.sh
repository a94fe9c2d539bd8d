#!/usr/bin/env bash
# Runs benchmark: sync runs of a trivial automation (input -> output) through POST .../run, and async runs
# accepted and then drained by the workers, with wrk at each connection count. Limits are raised so that the
# server, not the rate limit, is what is measured. Every run is durable: SQLite WAL with synchronous=FULL, or
# PostgreSQL with synchronous_commit=on.
#   bench/runs_bench.sh [--duration 10] [--connections "16 64"] [--server-threads 2]
#                       [--database postgres://user@host:port/db] [--servers 2] [--cases "sync async"]
#                       [--accounts 1]
# --database: an EMPTY PostgreSQL database to run on (default: a SQLite file in a temp folder); --servers N
# starts N server processes on that database (PostgreSQL only) and spreads wrk's connections over them.
# --accounts N spreads the runs over N accounts of the partner, each with the same automation, request by request
# (default 1: every run in one account, whose queue and slots every enqueue then locks in turn).
# Environment: WEFT_BIN (default build/weft).
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bin="${WEFT_BIN:-$repo/build/weft}"
duration=10 connection_counts="16 64" server_threads=2 database="" servers=1 cases="sync async" accounts=1
while [ $# -gt 0 ]; do
    case "$1" in
        --database) database="$2"; shift 2 ;;
        --servers) servers="$2"; shift 2 ;;
        --duration) duration="$2"; shift 2 ;;
        --connections) connection_counts="$2"; shift 2 ;;
        --server-threads) server_threads="$2"; shift 2 ;;
        --cases) cases="$2"; shift 2 ;;
        --accounts) accounts="$2"; shift 2 ;;
        *) echo "unknown option $1" >&2; exit 2 ;;
    esac
done
command -v wrk >/dev/null || { echo "wrk is missing: run scripts/install-deps.sh" >&2; exit 1; }
if [ "$servers" -gt 1 ] && [ -z "$database" ]; then
    echo "--servers needs --database postgres://... (SQLite is one process)" >&2
    exit 2
fi

work="$(mktemp -d)"
server_pids=()
cleanup() {
    for pid in "${server_pids[@]}"; do kill -TERM "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true; done
    rm -rf "$work"
}
trap cleanup EXIT
db_args=(--data "$work")
[ -n "$database" ] && db_args=(--database "$database")
store_name="SQLite synchronous=FULL"
[ -n "$database" ] && store_name="PostgreSQL synchronous_commit=on, $servers server process(es)"

creds="$("$bin" partner create "${db_args[@]}" --name bench --rate-limit 1000000 --queue-cap 1000000 \
    --concurrency 1000 --json)"
app_id="$(echo "$creds" | jq -r .app_id)"
api_key="$(echo "$creds" | jq -r .api_key)"
bases=()
for i in $(seq "$servers"); do
    "$bin" serve "${db_args[@]}" --listen 127.0.0.1:0 --port-file "$work/port$i" --access-log false \
        --threads "$server_threads" --log-level warn ${WEFT_SERVE_ARGS:-} &
    server_pids+=($!)
    for _ in $(seq 100); do [ -s "$work/port$i" ] && break; sleep 0.1; done
    bases+=("http://127.0.0.1:$(cat "$work/port$i")")
done
base="${bases[0]}"
H=(-H "X-App-Id: $app_id" -H "X-Api-Key: $api_key" -H "Content-Type: application/json")
account_ids=()
for a in $(seq "$accounts"); do
    account="bench"
    [ "$accounts" -gt 1 ] && account="bench$a"
    account_ids+=("$account")
    curl -sf "${H[@]}" -X POST "$base/v1/accounts" -d '{"name":"Bench","externalid":"'"$account"'"}' >/dev/null
    curl -sf "${H[@]}" -X POST "$base/v1/accounts/$account/blends" -d '{"name":"echo","definition":{"schema":1,
      "inputs":[{"block_id":"in","flow":"start","field_name":"n","prompt":"n","type":"integer","required":true}],
      "flows":{"start":[{"id":"out","type":"output","value":{"n":"{$.inputs.n}"}}]}}}' >/dev/null
done
lua_accounts="$(printf '"%s",' "${account_ids[@]}")"

lua() {  # async flag -> script
    cat > "$work/run_$1.lua" <<LUA
wrk.method = "POST"
wrk.headers["X-App-Id"] = "$app_id"
wrk.headers["X-Api-Key"] = "$api_key"
wrk.headers["Content-Type"] = "application/json"
local accounts = {${lua_accounts%,}}
local n = 0
request = function()
    n = n + 1
    return wrk.format(nil, "/v1/accounts/" .. accounts[n % #accounts + 1] .. "/blends/echo/run", nil,
                      '{"async":$1,"inputs":{"n":' .. n .. '}}')
end
LUA
}
lua true
lua false

count_runs() {  # over every account
    local a total=0
    for a in "${account_ids[@]}"; do
        total=$(( total + $(curl -sf "${H[@]}" "$base/v1/accounts/$a/blends/echo/runs?per_page=1${1:-}" | jq .meta.total) ))
    done
    echo "$total"
}

# CPU time (user + system, in clock ticks) the server processes have used so far: the cost of a case is the
# difference, which varies far less between runs than throughput on a shared VM.
server_ticks() {
    local pid total=0
    for pid in "${server_pids[@]}"; do
        total=$(( total + $(awk '{print $14 + $15}' "/proc/$pid/stat") ))
    done
    echo "$total"
}
# The same for a PostgreSQL server on this machine (every process titled "postgres: ..."); nothing when the
# database is SQLite or elsewhere.
db_ticks() {
    local total=0 f
    if [ -n "$database" ]; then
        for f in /proc/[0-9]*; do
            case "$(head -c 9 "$f/cmdline" 2>/dev/null | tr '\0' ' ')" in
                "postgres:") total=$(( total + $(awk '{print $14 + $15}' "$f/stat" 2>/dev/null || echo 0) )) ;;
            esac
        done
    fi
    echo "$total"
}
cpu_per_run() {  # ticks before, ticks after, runs
    awk -v t="$(( $2 - $1 ))" -v hz="$(getconf CLK_TCK)" -v n="$3" 'BEGIN {printf "%.0f", (n > 0 ? t / hz * 1e6 / n : 0)}'
}

report() {  # name, wrk output
    local rps p50 p99 non2xx
    rps="$(echo "$2" | awk '/Requests\/sec/ {print $2}')"
    p50="$(echo "$2" | awk '$1 == "50%" {print $2}')"
    p99="$(echo "$2" | awk '$1 == "99%" {print $2}')"
    non2xx="$(echo "$2" | awk '/Non-2xx/ {print $5}')"
    printf '%-22s %10s runs/s   p50 %-9s p99 %-9s non-2xx %-6s %s\n' "$1" "$rps" "$p50" "$p99" "${non2xx:-0}" "${3:-}"
}

# wrk on every server at once, the connections split between them; prints the outputs with the summed rate.
run_wrk() {  # connections, script
    local per=$(( $1 / servers )) i
    for i in "${!bases[@]}"; do
        wrk -t2 -c"$per" -d"${duration}s" --latency -s "$2" "${bases[$i]}" >"$work/wrk$i.out" &
    done
    wait  # (run_wrk runs in a $(...) subshell: its only children are these wrk processes)
    local total
    total="$(cat "$work"/wrk*.out | awk '/Requests\/sec/ {s += $2} END {printf "%.2f", s}')"
    echo "Requests/sec: $total"
    cat "$work/wrk0.out" | grep -v "Requests/sec"
    rm -f "$work"/wrk*.out
}

echo "wrk ${duration}s per case; server: $server_threads I/O threads; $store_name; $accounts account(s)"
for c in $connection_counts; do
    [[ " $cases " == *" sync "* ]] || break
    before="$(count_runs)"
    ticks="$(server_ticks)" dbt="$(db_ticks)"
    out="$(run_wrk "$c" "$work/run_false.lua")"
    n=$(( $(count_runs) - before ))
    cpu="server CPU $(cpu_per_run "$ticks" "$(server_ticks)" "$n") us/run"
    [ -n "$database" ] && cpu="$cpu, database CPU $(cpu_per_run "$dbt" "$(db_ticks)" "$n") us/run"
    report "sync  c=$c" "$out" "$cpu"
done
for c in $connection_counts; do
    [[ " $cases " == *" async "* ]] || break
    before="$(count_runs)"
    ticks="$(server_ticks)" dbt="$(db_ticks)"
    start=$(date +%s.%N)
    out="$(run_wrk "$c" "$work/run_true.lua")"
    report "async c=$c accepted" "$out"
    # Drained: every accepted run has ended.
    while [ "$(count_runs '&status=queued')" != 0 ] || [ "$(count_runs '&status=running')" != 0 ]; do sleep 0.2; done
    end=$(date +%s.%N)
    total=$(( $(count_runs) - before ))
    cpu="$(cpu_per_run "$ticks" "$(server_ticks)" "$total")"
    [ -n "$database" ] && cpu="$cpu us/run, database CPU $(cpu_per_run "$dbt" "$(db_ticks)" "$total")"
    awk -v n="$total" -v s="$start" -v e="$end" -v cpu="$cpu" \
        'BEGIN {printf "async c=%-3s completed  %10.0f runs/s   (%d runs accepted and finished in %.1f s; server CPU %s us/run)\n", "'"$c"'", n / (e - s), n, e - s, cpu}'
done
