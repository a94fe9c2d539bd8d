#!/usr/bin/env bash
# A throwaway PostgreSQL 15 cluster for the tests: initdb in a temp folder, a free port on 127.0.0.1, trust
# authentication, torn down afterwards.
#   scripts/pg-test-cluster.sh CMD [ARGS...]   runs CMD with WEFT_TEST_PG_URL set, then removes the cluster
#                                              (exits with CMD's status)
#   scripts/pg-test-cluster.sh start           starts one and prints `export WEFT_TEST_PG_URL=...;
#                                              export WEFT_TEST_PG_DIR=...` (for eval)
#   scripts/pg-test-cluster.sh stop DIR        stops and removes the cluster started in DIR
# Run as root (CI), the server runs as the unprivileged `postgres` user. Needs Debian's postgresql-15.
# WEFT_PG_DURABLE=1 keeps fsync and full_page_writes on (PostgreSQL's defaults), for benchmarks; the tests turn
# them off because their data is thrown away.
set -euo pipefail
bin="${WEFT_PG_BIN:-/usr/lib/postgresql/15/bin}"
if [[ ! -x "$bin/initdb" ]]; then
    echo "pg-test-cluster.sh: no PostgreSQL 15 in $bin (apt-get install postgresql-15, or set WEFT_PG_BIN)" >&2
    exit 1
fi

as_server_user() {
    if [[ "$(id -u)" -eq 0 ]]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

# A random high port; a taken one makes the server fail to start, and another is tried.
free_port() {
    echo $((20000 + (RANDOM * 32768 + RANDOM) % 40000))
}

start() {
    local dir port
    dir="$(mktemp -d "${TMPDIR:-/tmp}/weft-pg-XXXXXX")"
    chmod 700 "$dir"
    [[ "$(id -u)" -eq 0 ]] && chown postgres: "$dir"
    as_server_user "$bin/initdb" -D "$dir/data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 \
        >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; exit 1; }
    # fsync off: a test cluster's data is thrown away (weft's sessions still ask for synchronous commits).
    local durability="-c fsync=off -c full_page_writes=off -c shared_buffers=64MB"
    [[ "${WEFT_PG_DURABLE:-0}" == 1 ]] && durability="-c fsync=on -c full_page_writes=on -c shared_buffers=256MB"
    for _ in 1 2 3 4 5 6 7 8; do
        port="$(free_port)"
        if as_server_user "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 start \
            -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c max_connections=300 $durability" >/dev/null; then
            echo "$port" >"$dir/port"
            echo "export WEFT_TEST_PG_URL=postgres://postgres@127.0.0.1:$port/postgres; export WEFT_TEST_PG_DIR=$dir"
            return 0
        fi
    done
    cat "$dir/server.log" >&2
    exit 1
}

stop() {
    local dir="$1"
    [[ -d "$dir/data" ]] && as_server_user "$bin/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
    rm -rf "$dir"
}

case "${1:-}" in
start) start ;;
stop) stop "${2:?usage: pg-test-cluster.sh stop DIR}" ;;
"") echo "usage: pg-test-cluster.sh CMD [ARGS...] | start | stop DIR" >&2; exit 2 ;;
*)
    eval "$(start)"
    trap 'stop "$WEFT_TEST_PG_DIR"' EXIT
    echo "pg-test-cluster.sh: PostgreSQL test cluster at $WEFT_TEST_PG_URL" >&2
    set +e
    "$@"
    status=$?
    set -e
    exit $status
    ;;
esac
