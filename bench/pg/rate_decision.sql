-- pgbench script: one rate-limit decision (weft_rate_admit_many) of one call on one window key. Run for longer
-- than the window (60 s) to see the decisions of steady traffic, e.g. on any migrated database:
--   PGOPTIONS="-c synchronous_commit=off" pgbench -n -M prepared -T 100 -P 10 -f bench/pg/rate_decision.sql "$URL"
-- (docs/performance.md, session 11: migration 20.)
SELECT count(*) FROM weft_rate_admit_many(ARRAY['steady'], ARRAY[1000000::bigint], ARRAY[1::bigint], ARRAY[(extract(epoch from clock_timestamp())*1000000)::bigint], 60000000, NULL);
