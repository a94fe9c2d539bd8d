-- pgbench script: one call of weft_enqueue_runs with :n runs (and a rate decision on window :key when :rate is 1),
-- then the started runs marked ended so that the account's counts stay small. Needs a database that
-- bench/runs_bench.sh has run on (its partner, account and automation are id 1), e.g.
--   bench/runs_bench.sh --duration 1 --connections 16 --cases sync --database "$URL"
--   PGOPTIONS="-c synchronous_commit=off" pgbench -n -r -M prepared -T 5 -D n=5 -D rate=1 -D key=k$RANDOM \
--       -f bench/pg/enqueue.sql "$URL"
-- With pg_stat_statements (track = all) the cost of each statement inside the function shows (docs/performance.md,
-- session 11).
SELECT count(*) FROM weft_enqueue_runs(array_fill(1::bigint, ARRAY[:n::int]), array_fill(1::bigint, ARRAY[:n::int]), array_fill(1::bigint, ARRAY[:n::int]), (SELECT array_agg(md5(random()::text)) FROM generate_series(1,:n::int)), array_fill('api_sync'::text, ARRAY[:n::int]), array_fill('start'::text, ARRAY[:n::int]), array_fill('{"n":5}'::text, ARRAY[:n::int]), array_fill(NULL::text, ARRAY[:n::int]), array_fill(0::bigint, ARRAY[:n::int]), array_fill(NULL::bigint, ARRAY[:n::int]), array_fill(1::bigint, ARRAY[:n::int]), array_fill(1::bigint, ARRAY[:n::int]), array_fill(1000000::bigint, ARRAY[:n::int]), array_fill('o'::text, ARRAY[:n::int]), array_fill(9::bigint, ARRAY[:n::int]), array_fill(1000000::bigint, ARRAY[:n::int]), array_fill(CASE WHEN :rate::int = 1 THEN :key END::text, ARRAY[:n::int]), array_fill(1000000::bigint, ARRAY[:n::int]), array_fill((extract(epoch from clock_timestamp())*1000000)::bigint, ARRAY[:n::int]), (SELECT array_fill(epoch, ARRAY[:n::int]) FROM config_epoch), 60000000);
UPDATE runs SET status = 'finished' WHERE status = 'running';
