#include "store/sql/migrations.h"

#include "store/sql/sql_db.h"

namespace weft::sql {

const std::vector<Migration>& Migrations() {
    static const std::vector<Migration> kMigrations = {
        {1, "partners, api keys, accounts, users", R"sql(
CREATE TABLE partners (
    app_id      INTEGER PRIMARY KEY AUTOINCREMENT,
    guid        TEXT NOT NULL UNIQUE,
    name        TEXT NOT NULL,
    rate_limit  INTEGER NOT NULL,
    queue_cap   INTEGER NOT NULL,
    concurrency INTEGER NOT NULL,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
);
CREATE TABLE api_keys (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    app_id     INTEGER NOT NULL REFERENCES partners(app_id) ON DELETE CASCADE,
    prefix     TEXT NOT NULL,
    hash       TEXT NOT NULL UNIQUE,
    created_at INTEGER NOT NULL,
    revoked_at INTEGER
);
CREATE INDEX api_keys_by_partner ON api_keys(app_id);
CREATE TABLE accounts (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    partner_id  INTEGER NOT NULL REFERENCES partners(app_id) ON DELETE CASCADE,
    guid        TEXT NOT NULL UNIQUE,
    externalid  TEXT NOT NULL,
    name        TEXT NOT NULL,
    expired     INTEGER NOT NULL DEFAULT 0,
    expired_at  INTEGER,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    UNIQUE (partner_id, externalid)
);
CREATE TABLE users (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id  INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    guid        TEXT NOT NULL UNIQUE,
    externalid  TEXT,
    name        TEXT,
    email       TEXT,
    locale      TEXT,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    UNIQUE (account_id, externalid)
);
)sql"},
        {2, "automations, runs and their logs", R"sql(
CREATE TABLE automations (
    id                 INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id         INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    guid               TEXT NOT NULL UNIQUE,
    name               TEXT NOT NULL,
    short_description  TEXT NOT NULL DEFAULT '',
    description        TEXT NOT NULL DEFAULT '',
    icon               TEXT,
    icon2              TEXT,
    icon3              TEXT,
    state              TEXT NOT NULL DEFAULT 'available',
    run_mode           TEXT NOT NULL,
    schedule_start_at  INTEGER,
    schedule_stop_at   INTEGER,
    schedule_interval  INTEGER NOT NULL DEFAULT -1,
    schedule_timezone  TEXT NOT NULL DEFAULT 'UTC',
    definition         TEXT NOT NULL,
    template_guid      TEXT,
    template_version   INTEGER,
    persisted_inputs   TEXT NOT NULL DEFAULT '{}',
    execution_token    TEXT NOT NULL,
    setup_complete     INTEGER NOT NULL DEFAULT 0,
    last_run_at        INTEGER,
    next_fire_at       INTEGER,
    created_at         INTEGER NOT NULL,
    updated_at         INTEGER NOT NULL,
    UNIQUE (account_id, name)
);
CREATE INDEX automations_due ON automations(next_fire_at) WHERE next_fire_at IS NOT NULL;
CREATE INDEX automations_by_name ON automations(name);
CREATE TABLE runs (
    id                 INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id         INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    automation_id      INTEGER NOT NULL REFERENCES automations(id) ON DELETE CASCADE,
    guid               TEXT NOT NULL UNIQUE,
    status             TEXT NOT NULL,
    context            TEXT NOT NULL,
    flow               TEXT NOT NULL DEFAULT 'start',
    inputs             TEXT NOT NULL DEFAULT '{}',
    start_payload      TEXT,
    output             TEXT,
    error              TEXT,
    response           TEXT,
    attempt            INTEGER NOT NULL DEFAULT 1,
    call_depth         INTEGER NOT NULL DEFAULT 0,
    idempotency_key    TEXT,
    schedule_starttime INTEGER,
    starttime          INTEGER,
    stoptime           INTEGER,
    lease_owner        TEXT,
    lease_expires_at   INTEGER,
    created_at         INTEGER NOT NULL,
    updated_at         INTEGER NOT NULL
);
CREATE INDEX runs_queue ON runs(status, id);
CREATE INDEX runs_by_account_status ON runs(account_id, status);
CREATE INDEX runs_by_automation ON runs(automation_id, id);
CREATE UNIQUE INDEX runs_idempotency ON runs(automation_id, idempotency_key) WHERE idempotency_key IS NOT NULL;
CREATE TABLE run_logs (
    run_id  INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    seq     INTEGER NOT NULL,
    entry   TEXT NOT NULL,
    PRIMARY KEY (run_id, seq)
) WITHOUT ROWID;
)sql"},
        {3, "templates, their versions and bundles; bundle automations", R"sql(
CREATE TABLE templates (
    id                 INTEGER PRIMARY KEY AUTOINCREMENT,
    partner_id         INTEGER NOT NULL REFERENCES partners(app_id) ON DELETE CASCADE,
    guid               TEXT NOT NULL UNIQUE,
    name               TEXT NOT NULL,
    short_description  TEXT NOT NULL DEFAULT '',
    description        TEXT NOT NULL DEFAULT '',
    icon               TEXT,
    icon2              TEXT,
    icon3              TEXT,
    status             TEXT NOT NULL DEFAULT 'live',
    isbundle           INTEGER NOT NULL DEFAULT 0,
    groups_json        TEXT NOT NULL DEFAULT '[]',
    schedule_interval  INTEGER NOT NULL DEFAULT -1,
    schedule_timezone  TEXT NOT NULL DEFAULT 'UTC',
    version            INTEGER NOT NULL,
    created_at         INTEGER NOT NULL,
    updated_at         INTEGER NOT NULL
);
CREATE INDEX templates_by_partner ON templates(partner_id, id);
CREATE TABLE template_versions (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    template_id  INTEGER NOT NULL REFERENCES templates(id) ON DELETE CASCADE,
    version      INTEGER NOT NULL,
    definition   TEXT NOT NULL,
    created_at   INTEGER NOT NULL,
    UNIQUE (template_id, version)
);
CREATE TABLE template_bundle_members (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    bundle_id  INTEGER NOT NULL REFERENCES templates(id) ON DELETE CASCADE,
    member_id  INTEGER NOT NULL REFERENCES templates(id) ON DELETE CASCADE,
    ordinal    INTEGER NOT NULL,
    UNIQUE (bundle_id, member_id)
);
CREATE INDEX template_bundle_members_by_member ON template_bundle_members(member_id);
ALTER TABLE automations ADD COLUMN isbundle INTEGER NOT NULL DEFAULT 0;
ALTER TABLE automations ADD COLUMN bundle_id INTEGER REFERENCES automations(id) ON DELETE SET NULL;
CREATE INDEX automations_by_bundle ON automations(bundle_id) WHERE bundle_id IS NOT NULL;
CREATE INDEX automations_by_template ON automations(account_id, template_guid) WHERE template_guid IS NOT NULL;
)sql"},
        {4, "connectors and datasources", R"sql(
CREATE TABLE connectors (
    id                   INTEGER PRIMARY KEY AUTOINCREMENT,
    partner_id           INTEGER NOT NULL REFERENCES partners(app_id) ON DELETE CASCADE,
    guid                 TEXT NOT NULL UNIQUE,
    connector_key        TEXT NOT NULL,
    definition           TEXT NOT NULL,
    is_partner_connector INTEGER NOT NULL DEFAULT 0,
    created_at           INTEGER NOT NULL,
    updated_at           INTEGER NOT NULL,
    UNIQUE (partner_id, connector_key)
);
CREATE TABLE datasources (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id     INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    guid           TEXT NOT NULL UNIQUE,
    name           TEXT NOT NULL,
    connector_guid TEXT NOT NULL,
    params         TEXT NOT NULL DEFAULT '{}',
    sealed         TEXT NOT NULL DEFAULT '',
    is_connected   INTEGER NOT NULL DEFAULT 1,
    redirect_url   TEXT,
    created_at     INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL
);
CREATE INDEX datasources_by_account ON datasources(account_id, id);
CREATE INDEX datasources_by_connector ON datasources(connector_guid);
)sql"},
        {5, "rate-limit windows shared by processes on one database", R"sql(
CREATE TABLE rate_admissions (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    window_key   TEXT NOT NULL,
    admitted_at  INTEGER NOT NULL
);
CREATE INDEX rate_admissions_by_key ON rate_admissions(window_key, admitted_at);
CREATE INDEX rate_admissions_by_time ON rate_admissions(admitted_at);
)sql"},
        {7, "pending OAuth2 authorisations of datasources (the state of the authorization code flow)", R"sql(
CREATE TABLE oauth_states (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    state_hash    TEXT NOT NULL UNIQUE,
    datasource_id INTEGER NOT NULL REFERENCES datasources(id) ON DELETE CASCADE,
    redirect_uri  TEXT NOT NULL,
    expires_at    INTEGER NOT NULL,
    created_at    INTEGER NOT NULL
);
CREATE INDEX oauth_states_by_datasource ON oauth_states(datasource_id);
CREATE INDEX oauth_states_by_expiry ON oauth_states(expires_at);
)sql"},
        // Version 8 is unused. 7 (above) and 6 (below) came after 9: a database already at 9 gets them as missing
        // versions (each version is applied once, in list order).
        {9, "server secrets (export link signing) and run retention", R"sql(
CREATE TABLE server_secrets (
    name       TEXT PRIMARY KEY,
    value      TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX runs_by_stoptime ON runs(stoptime) WHERE stoptime IS NOT NULL;
)sql"},
        // The run hot path without lock convoys.
        // - An automation's last_run_at is read from its runs (the newest start among its ended runs, through a
        //   partial index) instead of being written by every run's end: concurrent ends of one automation's runs
        //   no longer queue for its row.
        // - PostgreSQL's shared rate limiter decides a call in one round trip. The windows are not worth a WAL
        //   flush: the tables are UNLOGGED (emptied by a database crash, which resets every window), and a
        //   counter per key keeps the decision O(1) however many calls are in the window. (SQLite serves one
        //   process, whose limiter is in memory.)
        // - PostgreSQL queues a run in one round trip (weft_enqueue_run): the account row is then locked only
        //   while the server runs the function and commits, not across client round trips.
        {6, "last_run_at from runs; rate limiter with unlogged windows and counters (PostgreSQL)", R"sql(
CREATE INDEX runs_last_ended ON runs(automation_id, starttime) WHERE stoptime IS NOT NULL;
ALTER TABLE automations DROP COLUMN last_run_at;
)sql",
         R"sql(
DROP TABLE rate_admissions;
CREATE UNLOGGED TABLE rate_admissions (
    window_key  TEXT NOT NULL,
    admitted_at BIGINT NOT NULL
);
CREATE INDEX rate_admissions_by_key ON rate_admissions(window_key, admitted_at);
CREATE UNLOGGED TABLE rate_windows (
    window_key       TEXT PRIMARY KEY,
    used             BIGINT NOT NULL,  -- rows of rate_admissions for this key
    last_admitted_at BIGINT NOT NULL
);
-- Decides one call: the key's row stays locked until commit, so a key's calls are decided one at a time.
-- retry_at (when refused): when enough of the oldest admissions have left the window.
CREATE FUNCTION weft_rate_admit(k TEXT, lim BIGINT, now_us BIGINT, window_us BIGINT,
                                OUT allowed BOOLEAN, OUT remaining BIGINT, OUT retry_at BIGINT)
LANGUAGE plpgsql AS $$
DECLARE
    used_now BIGINT;
    expired  BIGINT;
BEGIN
    INSERT INTO rate_windows AS w (window_key, used, last_admitted_at) VALUES (k, 0, 0)
        ON CONFLICT (window_key) DO UPDATE SET used = w.used
        RETURNING w.used INTO used_now;
    DELETE FROM rate_admissions WHERE window_key = k AND admitted_at <= now_us - window_us;
    GET DIAGNOSTICS expired = ROW_COUNT;
    used_now := used_now - expired;
    IF used_now < lim THEN
        INSERT INTO rate_admissions (window_key, admitted_at) VALUES (k, now_us);
        UPDATE rate_windows SET used = used_now + 1, last_admitted_at = GREATEST(last_admitted_at, now_us)
            WHERE window_key = k;
        allowed := true;
        remaining := lim - used_now - 1;
    ELSE
        UPDATE rate_windows SET used = used_now WHERE window_key = k;
        SELECT a.admitted_at INTO retry_at FROM rate_admissions a WHERE a.window_key = k
            ORDER BY a.admitted_at OFFSET used_now - lim LIMIT 1;
        retry_at := COALESCE(retry_at, now_us) + window_us;
        allowed := false;
        remaining := 0;
    END IF;
END $$;
-- Queues a run unless the account's queue is full: SqlStore::EnqueueRun (without an idempotency key) in one
-- round trip. Each statement of a plpgsql function sees what committed before it started, so the count after
-- the lock sees every run queued by the transactions that held the lock before. Returns all NULL when the
-- automation is not the partner's account's, a NULL run_id (with the count) when the queue is full.
CREATE FUNCTION weft_enqueue_run(p_partner BIGINT, p_account BIGINT, p_automation BIGINT, p_guid TEXT,
                                 p_context TEXT, p_flow TEXT, p_inputs TEXT, p_start_payload TEXT,
                                 p_call_depth BIGINT, p_schedule_starttime BIGINT, p_created_at BIGINT,
                                 p_updated_at BIGINT, p_cap BIGINT,
                                 OUT run_id BIGINT, OUT automation_guid TEXT, OUT queued BIGINT)
LANGUAGE plpgsql AS $$
BEGIN
    SELECT b.guid INTO automation_guid FROM automations b JOIN accounts a ON a.id = b.account_id
        WHERE b.id = p_automation AND a.id = p_account AND a.partner_id = p_partner FOR UPDATE OF a;
    IF NOT FOUND THEN
        RETURN;
    END IF;
    SELECT COUNT(*) INTO queued FROM runs WHERE account_id = p_account AND status = 'queued';
    IF queued >= p_cap THEN
        RETURN;
    END IF;
    INSERT INTO runs (account_id, automation_id, guid, status, context, flow, inputs, start_payload, attempt,
                      call_depth, schedule_starttime, created_at, updated_at)
        VALUES (p_account, p_automation, p_guid, 'queued', p_context, p_flow, p_inputs, p_start_payload, 1,
                p_call_depth, p_schedule_starttime, p_created_at, p_updated_at)
        RETURNING id INTO run_id;
END $$;
-- Forgets keys with no call in the window (their admissions all expired), a few hundred at a time. A call on
-- such a key meanwhile either waits for this and starts afresh, or keeps its key (the recheck under the lock).
CREATE FUNCTION weft_rate_sweep(cutoff BIGINT) RETURNS BIGINT LANGUAGE plpgsql AS $$
DECLARE
    k TEXT;
    n BIGINT := 0;
BEGIN
    FOR k IN SELECT window_key FROM rate_windows WHERE last_admitted_at <= cutoff ORDER BY window_key LIMIT 500
    LOOP
        DELETE FROM rate_windows WHERE window_key = k AND last_admitted_at <= cutoff;
        IF FOUND THEN
            DELETE FROM rate_admissions WHERE window_key = k;
            n := n + 1;
        END IF;
    END LOOP;
    RETURN n;
END $$;
)sql"},
        // PostgreSQL: a run whose caller waits for it may start at once in the submitting process (see
        // StartHere in src/domain/store.h). The count of the account's running runs is exact because it is made
        // under the account's row lock, which claims now take too (accounts in id order, after the claim lock).
        {8, "runs that start where they are submitted (PostgreSQL: weft_enqueue_run with a lease)", "", R"sql(
DROP FUNCTION weft_enqueue_run(BIGINT, BIGINT, BIGINT, TEXT, TEXT, TEXT, TEXT, TEXT, BIGINT, BIGINT, BIGINT,
                               BIGINT, BIGINT);
-- Queues a run unless the account's queue is full: SqlStore::EnqueueRun (without an idempotency key) in one
-- round trip. Each statement of a plpgsql function sees what committed before it started, so the counts after
-- the lock see every run queued or started by the transactions that held the lock before. With an owner, a run
-- whose account has fewer than p_concurrency runs running and none queued is created running under that
-- owner's lease instead (started = true). Returns all NULL when the automation is not the partner's account's,
-- a NULL run_id (with the count) when the queue is full.
CREATE FUNCTION weft_enqueue_run(p_partner BIGINT, p_account BIGINT, p_automation BIGINT, p_guid TEXT,
                                 p_context TEXT, p_flow TEXT, p_inputs TEXT, p_start_payload TEXT,
                                 p_call_depth BIGINT, p_schedule_starttime BIGINT, p_created_at BIGINT,
                                 p_updated_at BIGINT, p_cap BIGINT, p_owner TEXT, p_lease_until BIGINT,
                                 p_concurrency BIGINT,
                                 OUT run_id BIGINT, OUT automation_guid TEXT, OUT queued BIGINT,
                                 OUT started BOOLEAN)
LANGUAGE plpgsql AS $$
DECLARE
    running BIGINT;
BEGIN
    started := false;
    SELECT b.guid INTO automation_guid FROM automations b JOIN accounts a ON a.id = b.account_id
        WHERE b.id = p_automation AND a.id = p_account AND a.partner_id = p_partner FOR UPDATE OF a;
    IF NOT FOUND THEN
        RETURN;
    END IF;
    SELECT COUNT(*) INTO queued FROM runs WHERE account_id = p_account AND status = 'queued';
    IF queued >= p_cap THEN
        RETURN;
    END IF;
    IF p_owner IS NOT NULL AND queued = 0 THEN
        SELECT COUNT(*) INTO running FROM runs WHERE account_id = p_account AND status IN ('running', 'must stop');
        started := running < p_concurrency;
    END IF;
    INSERT INTO runs (account_id, automation_id, guid, status, context, flow, inputs, start_payload, attempt,
                      call_depth, schedule_starttime, starttime, lease_owner, lease_expires_at, created_at,
                      updated_at)
        VALUES (p_account, p_automation, p_guid, CASE WHEN started THEN 'running' ELSE 'queued' END, p_context,
                p_flow, p_inputs, p_start_payload, 1, p_call_depth, p_schedule_starttime,
                CASE WHEN started THEN p_created_at END, CASE WHEN started THEN p_owner END,
                CASE WHEN started THEN p_lease_until END, p_created_at, p_updated_at)
        RETURNING id INTO run_id;
END $$;
)sql"},
        // - PostgreSQL decides the concurrent rate-limit calls of one process in one statement: a key's calls
        //   that arrive together are admitted as a group (the first of them up to the limit), so a busy key's
        //   row is locked once per group instead of once per call. weft_rate_admit is left unused.
        // - weft_enqueue_run counts an account's running runs with two equalities: its `status IN (...)` was
        //   planned, in a session that first ran it on a small table, as a filter over all the account's runs.
        // - PostgreSQL records the ends of several claimed runs in one call (weft_end_runs): each run by its
        //   primary key (one UPDATE joined to the input was planned, generically, as a scan of every running
        //   run).
        {10, "rate-limit decisions in groups; run ends in groups; enqueue reads by primary key (PostgreSQL)", "",
         R"sql(
-- The body of migration 8's function but for the count of running runs and the automation and account read
-- by primary key, one after the other (their join was planned, on a small table, as a scan of the account's
-- automations).
CREATE OR REPLACE FUNCTION weft_enqueue_run(p_partner BIGINT, p_account BIGINT, p_automation BIGINT, p_guid TEXT,
                                 p_context TEXT, p_flow TEXT, p_inputs TEXT, p_start_payload TEXT,
                                 p_call_depth BIGINT, p_schedule_starttime BIGINT, p_created_at BIGINT,
                                 p_updated_at BIGINT, p_cap BIGINT, p_owner TEXT, p_lease_until BIGINT,
                                 p_concurrency BIGINT,
                                 OUT run_id BIGINT, OUT automation_guid TEXT, OUT queued BIGINT,
                                 OUT started BOOLEAN)
LANGUAGE plpgsql AS $$
DECLARE
    running BIGINT;
    owner_account BIGINT;
    owner_partner BIGINT;
BEGIN
    started := false;
    SELECT b.guid, b.account_id INTO automation_guid, owner_account FROM automations b WHERE b.id = p_automation;
    IF NOT FOUND OR owner_account <> p_account THEN
        automation_guid := NULL;
        RETURN;
    END IF;
    SELECT a.partner_id INTO owner_partner FROM accounts a WHERE a.id = p_account FOR UPDATE;
    IF NOT FOUND OR owner_partner <> p_partner THEN
        automation_guid := NULL;
        RETURN;
    END IF;
    SELECT COUNT(*) INTO queued FROM runs WHERE account_id = p_account AND status = 'queued';
    IF queued >= p_cap THEN
        RETURN;
    END IF;
    IF p_owner IS NOT NULL AND queued = 0 THEN
        running := (SELECT COUNT(*) FROM runs WHERE account_id = p_account AND status = 'running') +
                   (SELECT COUNT(*) FROM runs WHERE account_id = p_account AND status = 'must stop');
        started := running < p_concurrency;
    END IF;
    INSERT INTO runs (account_id, automation_id, guid, status, context, flow, inputs, start_payload, attempt,
                      call_depth, schedule_starttime, starttime, lease_owner, lease_expires_at, created_at,
                      updated_at)
        VALUES (p_account, p_automation, p_guid, CASE WHEN started THEN 'running' ELSE 'queued' END, p_context,
                p_flow, p_inputs, p_start_payload, 1, p_call_depth, p_schedule_starttime,
                CASE WHEN started THEN p_created_at END, CASE WHEN started THEN p_owner END,
                CASE WHEN started THEN p_lease_until END, p_created_at, p_updated_at)
        RETURNING id INTO run_id;
END $$;
-- Ends the claimed runs id[i] (each when it is still running under owner[i]'s lease, or any lease for a NULL
-- owner, and not a Setup or Delete flow) with their outcomes, appends each one's log_count[i] entries from
-- entries (in order, after seq last_seq[i], or after its last entry when NULL) and, when announce[i], notifies
-- weft_run_finished. Returns the ids of the runs ended.
CREATE FUNCTION weft_end_runs(p_id BIGINT[], p_status TEXT[], p_output TEXT[], p_error TEXT[],
                              p_response TEXT[], p_stoptime BIGINT[], p_owner TEXT[], p_announce BOOLEAN[],
                              p_last_seq BIGINT[], p_log_count BIGINT[], p_entries TEXT[])
RETURNS SETOF BIGINT
LANGUAGE plpgsql AS $$
DECLARE
    i     INT;
    ended BIGINT;
    last  BIGINT;
    off   BIGINT := 0;
BEGIN
    FOR i IN 1 .. COALESCE(array_length(p_id, 1), 0) LOOP
        UPDATE runs SET status = p_status[i], output = p_output[i], error = p_error[i], response = p_response[i],
                        stoptime = p_stoptime[i], lease_owner = NULL, lease_expires_at = NULL,
                        updated_at = p_stoptime[i]
            WHERE id = p_id[i] AND status IN ('running', 'must stop')
              AND (lease_owner = p_owner[i] OR p_owner[i] IS NULL) AND flow NOT IN ('setup', 'delete')
            RETURNING id INTO ended;
        IF FOUND THEN
            IF p_log_count[i] > 0 THEN
                last := p_last_seq[i];
                IF last IS NULL THEN
                    SELECT COALESCE(MAX(seq), 0) INTO last FROM run_logs WHERE run_id = ended;
                END IF;
                INSERT INTO run_logs (run_id, seq, entry)
                    SELECT ended, last + n, p_entries[off + n] FROM generate_series(1, p_log_count[i]) AS n;
            END IF;
            IF p_announce[i] THEN
                PERFORM pg_notify('weft_run_finished', CAST(ended AS TEXT));
            END IF;
            RETURN NEXT ended;
        END IF;
        off := off + p_log_count[i];
    END LOOP;
END $$;
-- Decides n[i] calls on key k[i] with limit lim[i] at now_us[i], for every i; keys are locked in key order (so
-- two processes' groups cannot deadlock), each key's row until commit. Per key: used = admissions in the window
-- before these calls, admitted = how many of the n were admitted (the first ones), retry_at (when some were
-- refused) = when enough of the oldest admissions have left the window for one more.
CREATE FUNCTION weft_rate_admit_many(k TEXT[], lim BIGINT[], n BIGINT[], now_us BIGINT[], window_us BIGINT)
RETURNS TABLE (window_key TEXT, used BIGINT, admitted BIGINT, retry_at BIGINT)
LANGUAGE plpgsql AS $$
DECLARE
    r        RECORD;
    used_now BIGINT;
    expired  BIGINT;
    m        BIGINT;
BEGIN
    FOR r IN SELECT u.k, u.lim, u.n, u.now_us FROM unnest(k, lim, n, now_us) AS u(k, lim, n, now_us) ORDER BY u.k
    LOOP
        INSERT INTO rate_windows AS w (window_key, used, last_admitted_at) VALUES (r.k, 0, 0)
            ON CONFLICT ON CONSTRAINT rate_windows_pkey DO UPDATE SET used = w.used
            RETURNING w.used INTO used_now;
        DELETE FROM rate_admissions a WHERE a.window_key = r.k AND a.admitted_at <= r.now_us - window_us;
        GET DIAGNOSTICS expired = ROW_COUNT;
        used_now := used_now - expired;
        m := LEAST(r.n, GREATEST(r.lim - used_now, 0));
        IF m > 0 THEN
            INSERT INTO rate_admissions (window_key, admitted_at) SELECT r.k, r.now_us FROM generate_series(1, m);
        END IF;
        UPDATE rate_windows w SET used = used_now + m,
                                  last_admitted_at = CASE WHEN m > 0 THEN GREATEST(w.last_admitted_at, r.now_us)
                                                          ELSE w.last_admitted_at END
            WHERE w.window_key = r.k;
        window_key := r.k;
        used := used_now;
        admitted := m;
        retry_at := NULL;
        IF m < r.n THEN
            SELECT a.admitted_at INTO retry_at FROM rate_admissions a WHERE a.window_key = r.k
                ORDER BY a.admitted_at OFFSET used_now + m - r.lim LIMIT 1;
            retry_at := COALESCE(retry_at, r.now_us) + window_us;
        END IF;
        RETURN NEXT;
    END LOOP;
END $$;
)sql"},
        // Lookups kept in memory (sql::LookupCache) read this counter instead of the rows. Every insert, update or
        // delete of a partner, API key, account or automation bumps it, except the scheduler's advance of an
        // automation's next_fire_at alone (at every tick; it changes no column the lookups' callers use). The
        // update triggers name every other column: a later column must be added to them (a test checks).
        {11, "config_epoch: a counter of changes to partners, API keys, accounts and automations", R"sql(
CREATE TABLE config_epoch (
    id    INTEGER PRIMARY KEY,
    epoch INTEGER NOT NULL
);
INSERT INTO config_epoch (id, epoch) VALUES (1, 0);
)sql",
         R"sql(
CREATE FUNCTION weft_bump_config_epoch() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE config_epoch SET epoch = epoch + 1 WHERE id = 1;
    RETURN NULL;
END $$;
CREATE TRIGGER partners_epoch AFTER INSERT OR UPDATE OR DELETE ON partners
    FOR EACH ROW EXECUTE FUNCTION weft_bump_config_epoch();
CREATE TRIGGER api_keys_epoch AFTER INSERT OR UPDATE OR DELETE ON api_keys
    FOR EACH ROW EXECUTE FUNCTION weft_bump_config_epoch();
CREATE TRIGGER accounts_epoch AFTER INSERT OR UPDATE OR DELETE ON accounts
    FOR EACH ROW EXECUTE FUNCTION weft_bump_config_epoch();
CREATE TRIGGER automations_epoch AFTER INSERT OR DELETE ON automations
    FOR EACH ROW EXECUTE FUNCTION weft_bump_config_epoch();
CREATE TRIGGER automations_epoch_update AFTER UPDATE ON automations
    FOR EACH ROW WHEN (NEW.next_fire_at IS NOT DISTINCT FROM OLD.next_fire_at
        OR NEW.id IS DISTINCT FROM OLD.id OR NEW.account_id IS DISTINCT FROM OLD.account_id
        OR NEW.guid IS DISTINCT FROM OLD.guid OR NEW.name IS DISTINCT FROM OLD.name
        OR NEW.short_description IS DISTINCT FROM OLD.short_description
        OR NEW.description IS DISTINCT FROM OLD.description OR NEW.icon IS DISTINCT FROM OLD.icon
        OR NEW.icon2 IS DISTINCT FROM OLD.icon2 OR NEW.icon3 IS DISTINCT FROM OLD.icon3
        OR NEW.state IS DISTINCT FROM OLD.state OR NEW.run_mode IS DISTINCT FROM OLD.run_mode
        OR NEW.schedule_start_at IS DISTINCT FROM OLD.schedule_start_at
        OR NEW.schedule_stop_at IS DISTINCT FROM OLD.schedule_stop_at
        OR NEW.schedule_interval IS DISTINCT FROM OLD.schedule_interval
        OR NEW.schedule_timezone IS DISTINCT FROM OLD.schedule_timezone
        OR NEW.definition IS DISTINCT FROM OLD.definition
        OR NEW.template_guid IS DISTINCT FROM OLD.template_guid
        OR NEW.template_version IS DISTINCT FROM OLD.template_version
        OR NEW.persisted_inputs IS DISTINCT FROM OLD.persisted_inputs
        OR NEW.execution_token IS DISTINCT FROM OLD.execution_token
        OR NEW.setup_complete IS DISTINCT FROM OLD.setup_complete
        OR NEW.created_at IS DISTINCT FROM OLD.created_at OR NEW.updated_at IS DISTINCT FROM OLD.updated_at
        OR NEW.isbundle IS DISTINCT FROM OLD.isbundle OR NEW.bundle_id IS DISTINCT FROM OLD.bundle_id)
    EXECUTE FUNCTION weft_bump_config_epoch();
)sql",
         R"sql(
CREATE TRIGGER partners_epoch_insert AFTER INSERT ON partners BEGIN
    UPDATE config_epoch SET epoch = epoch + 1 WHERE id = 1;
END;
CREATE TRIGGER partners_epoch_update AFTER UPDATE ON partners BEGIN
    UPDATE config_epoch SET epoch = epoch + 1 WHERE id = 1;
END;
CREATE TRIGGER partners_epoch_delete AFTER DELETE ON partners BEGIN
    UPDATE config_epoch SET epoch = epoch + 1 WHERE id = 1;
END;
CREATE TRIGGER api_keys_epoch_insert AFTER INSERT ON api_keys BEGIN
    UPDATE config_epoch SET epoch = epoch + 1 WHERE id = 1;
END;
CREATE TRIGGER api_keys_epoch_update AFTER UPDATE ON api_keys BEGIN
    UPDATE config_epoch SET epoch = epoch + 1 WHERE id = 1;
END;
CREATE TRIGGER api_keys_epoch_delete AFTER DELETE ON api_keys BEGIN
    UPDATE config_epoch SET epoch = epoch + 1 WHERE id = 1;
END;
CREATE TRIGGER accounts_epoch_insert AFTER INSERT ON accounts BEGIN
    UPDATE config_epoch SET epoch = epoch + 1 WHERE id = 1;
END;
CREATE TRIGGER accounts_epoch_update AFTER UPDATE ON accounts BEGIN
    UPDATE config_epoch SET epoch = epoch + 1 WHERE id = 1;
END;
CREATE TRIGGER accounts_epoch_delete AFTER DELETE ON accounts BEGIN
    UPDATE config_epoch SET epoch = epoch + 1 WHERE id = 1;
END;
CREATE TRIGGER automations_epoch_insert AFTER INSERT ON automations BEGIN
    UPDATE config_epoch SET epoch = epoch + 1 WHERE id = 1;
END;
CREATE TRIGGER automations_epoch_delete AFTER DELETE ON automations BEGIN
    UPDATE config_epoch SET epoch = epoch + 1 WHERE id = 1;
END;
CREATE TRIGGER automations_epoch_update AFTER UPDATE ON automations
    WHEN NEW.next_fire_at IS OLD.next_fire_at OR NEW.id IS NOT OLD.id OR NEW.account_id IS NOT OLD.account_id
        OR NEW.guid IS NOT OLD.guid OR NEW.name IS NOT OLD.name
        OR NEW.short_description IS NOT OLD.short_description OR NEW.description IS NOT OLD.description
        OR NEW.icon IS NOT OLD.icon OR NEW.icon2 IS NOT OLD.icon2 OR NEW.icon3 IS NOT OLD.icon3
        OR NEW.state IS NOT OLD.state OR NEW.run_mode IS NOT OLD.run_mode
        OR NEW.schedule_start_at IS NOT OLD.schedule_start_at
        OR NEW.schedule_stop_at IS NOT OLD.schedule_stop_at
        OR NEW.schedule_interval IS NOT OLD.schedule_interval
        OR NEW.schedule_timezone IS NOT OLD.schedule_timezone OR NEW.definition IS NOT OLD.definition
        OR NEW.template_guid IS NOT OLD.template_guid OR NEW.template_version IS NOT OLD.template_version
        OR NEW.persisted_inputs IS NOT OLD.persisted_inputs OR NEW.execution_token IS NOT OLD.execution_token
        OR NEW.setup_complete IS NOT OLD.setup_complete OR NEW.created_at IS NOT OLD.created_at
        OR NEW.updated_at IS NOT OLD.updated_at OR NEW.isbundle IS NOT OLD.isbundle
        OR NEW.bundle_id IS NOT OLD.bundle_id BEGIN
    UPDATE config_epoch SET epoch = epoch + 1 WHERE id = 1;
END;
)sql"},
        // The queue indexes hold only the runs that are queued or hold a slot, not every run ever made: a run's end
        // (and on PostgreSQL its claim) writes fewer index entries, and the indexes stay as small as the queue.
        // The predicate is OR-connected equalities so that SQLite uses the index for `status = 'running'` and the
        // other single statuses (it cannot prove that from an IN list); queries of several statuses name the same
        // OR form or count each status apart.
        {12, "queue indexes of active runs only (partial)", R"sql(
DROP INDEX runs_queue;
DROP INDEX runs_by_account_status;
CREATE INDEX runs_queued ON runs(id) WHERE status = 'queued';
CREATE INDEX runs_active ON runs(status, account_id) WHERE status = 'queued' OR status = 'running' OR status = 'must stop';
)sql"},
        // PostgreSQL claims queued runs in one statement (weft_claim_runs) instead of a transaction of round trips:
        // the claim lock and the accounts' row locks are held only while the server runs the function and commits.
        {13, "claims in one statement (PostgreSQL)", "",
         R"sql(
-- Claims up to p_max queued runs for p_owner, oldest first, skipping accounts whose running runs (claimed ones
-- included) reach their partner's concurrency; FIFO per account (an account's later runs wait too). Reads the
-- queue p_window rows at a time, up to p_scan rows. Serialized across processes by the claim advisory lock; the
-- candidates' accounts are locked in id order (as enqueues lock them) before their running runs are counted.
-- Returns the runs it started (running under p_owner's lease until p_lease_until), oldest first, with what
-- executing them needs of their automations and accounts.
CREATE FUNCTION weft_claim_runs(p_owner TEXT, p_max INTEGER, p_now BIGINT, p_lease_until BIGINT,
                                p_window INTEGER, p_scan INTEGER, p_lock_key BIGINT)
RETURNS TABLE (c_id BIGINT, c_account_id BIGINT, c_automation_id BIGINT, c_guid TEXT, c_automation_guid TEXT,
               c_status TEXT, c_context TEXT, c_flow TEXT, c_inputs TEXT, c_start_payload TEXT, c_output TEXT,
               c_error TEXT, c_attempt BIGINT, c_call_depth BIGINT, c_idempotency_key TEXT,
               c_schedule_starttime BIGINT, c_starttime BIGINT, c_stoptime BIGINT, c_created_at BIGINT,
               c_updated_at BIGINT, c_response TEXT, c_definition TEXT, c_persisted_inputs TEXT,
               c_automation_name TEXT, c_run_mode TEXT, c_account_guid TEXT, c_account_externalid TEXT,
               c_account_name TEXT, c_partner_id BIGINT)
LANGUAGE plpgsql AS $$
DECLARE
    started  BIGINT[];
    ids      BIGINT[];
    accts    BIGINT[];
    concs    BIGINT[];
    fresh    BIGINT[];
    seen     BIGINT[] := '{}';
    running  BIGINT[] := '{}';
    chosen   BIGINT[] := '{}';
    after_id BIGINT := 0;
    scanned  INTEGER := 0;
    win      INTEGER;
    n        INTEGER;
    i        INTEGER;
    k        INTEGER;
BEGIN
    PERFORM pg_advisory_xact_lock(p_lock_key);
    WHILE COALESCE(array_length(chosen, 1), 0) < p_max AND scanned < p_scan LOOP
        win := LEAST(p_scan - scanned, p_window);
        SELECT array_agg(q.id ORDER BY q.id), array_agg(q.account_id ORDER BY q.id),
               array_agg(q.concurrency ORDER BY q.id)
            INTO ids, accts, concs
            FROM (SELECT r.id, r.account_id, p.concurrency FROM runs r JOIN accounts a ON a.id = r.account_id
                  JOIN partners p ON p.app_id = a.partner_id
                  WHERE r.status = 'queued' AND r.id > after_id ORDER BY r.id LIMIT win) q;
        n := COALESCE(array_length(ids, 1), 0);
        EXIT WHEN n = 0;
        SELECT array_agg(DISTINCT x ORDER BY x) INTO fresh FROM unnest(accts) AS x WHERE NOT (x = ANY(seen));
        IF fresh IS NOT NULL THEN
            PERFORM 1 FROM accounts WHERE id = ANY(fresh) ORDER BY id FOR UPDATE;
            FOR i IN 1 .. array_length(fresh, 1) LOOP
                seen := seen || fresh[i];
                running := running ||
                    ((SELECT COUNT(*) FROM runs WHERE account_id = fresh[i] AND status = 'running') +
                     (SELECT COUNT(*) FROM runs WHERE account_id = fresh[i] AND status = 'must stop'));
            END LOOP;
        END IF;
        FOR i IN 1 .. n LOOP
            EXIT WHEN COALESCE(array_length(chosen, 1), 0) >= p_max;
            k := array_position(seen, accts[i]);
            IF running[k] < concs[i] THEN
                running[k] := running[k] + 1;
                chosen := chosen || ids[i];
            END IF;
        END LOOP;
        scanned := scanned + n;
        EXIT WHEN n < win;
        after_id := ids[n];
    END LOOP;
    IF COALESCE(array_length(chosen, 1), 0) = 0 THEN
        RETURN;
    END IF;
    -- A run another transaction holds (a stop request) is skipped, not waited for.
    WITH u AS (
        UPDATE runs SET status = 'running', starttime = p_now, lease_owner = p_owner,
                        lease_expires_at = p_lease_until, updated_at = p_now
            WHERE id IN (SELECT q.id FROM runs q WHERE q.id = ANY(chosen) AND q.status = 'queued'
                         FOR UPDATE SKIP LOCKED)
            RETURNING id)
    SELECT array_agg(u.id) INTO started FROM u;
    IF started IS NULL THEN
        RETURN;
    END IF;
    RETURN QUERY
        SELECT r.id, r.account_id, r.automation_id, r.guid, b.guid, r.status, r.context, r.flow, r.inputs,
               r.start_payload, r.output, r.error, r.attempt, r.call_depth, r.idempotency_key,
               r.schedule_starttime, r.starttime, r.stoptime, r.created_at, r.updated_at, r.response, b.definition,
               b.persisted_inputs, b.name, b.run_mode, a.guid, a.externalid, a.name, a.partner_id
            FROM runs r JOIN automations b ON b.id = r.automation_id JOIN accounts a ON a.id = r.account_id
            WHERE r.id = ANY(started) ORDER BY r.id;
END $$;
)sql"},
        // PostgreSQL queues a batch of runs with a few statements for the whole batch: weft_enqueue_run ran five or
        // six statements per run (and the server's foreign-key checks), each with its executor set up and torn down,
        // which was most of a run's database CPU. weft_end_runs gives way to one statement (sql_runs.cpp).
        {14, "enqueue batches set-wise (PostgreSQL)", "",
         R"sql(
-- Queues the runs i = 1 .. n (or, for a run given an owner, starts it under that owner's lease) exactly as
-- weft_enqueue_run would one after the other: a run whose automation is not its account's, or whose account is
-- not its partner's, gets no automation guid; a run whose account has p_cap[i] runs queued is refused (no id,
-- the count in queued); a run given an owner starts when nothing of its account is queued and fewer than
-- p_concurrency[i] of its runs hold a slot. The accounts' queue locks (and slots locks) are taken before their
-- runs are counted, and held until commit; the runs are inserted in the order given. The calls given a rate-limit
-- window (p_rate_key[i]) are decided first, as weft_rate_admit_many would; a call whose lookups were made at
-- another config epoch (e_stale), or that is refused, queues nothing.
CREATE FUNCTION weft_enqueue_runs(p_partner BIGINT[], p_account BIGINT[], p_automation BIGINT[], p_guid TEXT[],
                                  p_context TEXT[], p_flow TEXT[], p_inputs TEXT[], p_start_payload TEXT[],
                                  p_call_depth BIGINT[], p_schedule_starttime BIGINT[], p_created_at BIGINT[],
                                  p_updated_at BIGINT[], p_cap BIGINT[], p_owner TEXT[], p_lease_until BIGINT[],
                                  p_concurrency BIGINT[], p_rate_key TEXT[], p_rate_limit BIGINT[],
                                  p_rate_now BIGINT[], p_rate_epoch BIGINT[], p_rate_window BIGINT)
RETURNS TABLE (e_run_id BIGINT, e_automation_guid TEXT, e_queued BIGINT, e_started BOOLEAN, e_stale BOOLEAN,
               e_rate_allowed BOOLEAN, e_rate_remaining BIGINT, e_retry_at BIGINT)
LANGUAGE plpgsql AS $$
DECLARE
    cur_epoch BIGINT;
    r_keys    TEXT[];     -- the rate-limit windows of the runs whose call is decided here, in key order
    r_lims    BIGINT[];   -- their limits (their first call's)
    r_ns      BIGINT[];   -- their calls here
    r_nows    BIGINT[];   -- their latest call's time
    d_keys    TEXT[];     -- the decisions: windows, ...
    d_used    BIGINT[];   -- ... admissions in the window before these calls, ...
    d_admit   BIGINT[];   -- ... how many of these calls were admitted (the first ones), ...
    d_retry   BIGINT[];   -- ... and when to retry (some refused)
    taken     BIGINT[];   -- calls of each window seen so far
    kk        INTEGER;
    o_stale   BOOLEAN[] := '{}';
    o_allowed BOOLEAN[] := '{}';
    o_rem     BIGINT[] := '{}';
    o_retry   BIGINT[] := '{}';
    n         INTEGER := COALESCE(array_length(p_account, 1), 0);
    b_guids   TEXT[];     -- per run: its automation's guid when the automation is its account's
    accts     BIGINT[];   -- the accounts of the batch that exist, in id order
    owners    BIGINT[];   -- their partners
    queued    BIGINT[];   -- their queued runs, then counted on as runs are queued
    holding   BIGINT[];   -- their runs holding a slot (running or must stop), then counted on as runs start
    o_guid    TEXT[] := '{}';
    o_queued  BIGINT[] := '{}';
    o_started BOOLEAN[] := '{}';
    o_insert  BOOLEAN[] := '{}';
    k         INTEGER;
    st        BOOLEAN;
    q         BIGINT;
    h         BIGINT;
BEGIN
    IF n = 0 THEN
        RETURN;
    END IF;
    -- The rate decisions of the calls whose lookups from memory are still current (config_epoch as it is now):
    -- their windows' rows are locked first (in key order, before any account: every transaction that takes both
    -- takes them in that order), as the rate limiter's own statement would.
    IF cardinality(array_remove(p_rate_key, NULL)) > 0 THEN
        SELECT c.epoch INTO cur_epoch FROM config_epoch c WHERE c.id = 1;
        SELECT array_agg(g.k ORDER BY g.k), array_agg(g.lim ORDER BY g.k), array_agg(g.cnt ORDER BY g.k),
               array_agg(g.t ORDER BY g.k)
            INTO r_keys, r_lims, r_ns, r_nows
            FROM (SELECT u.k, (array_agg(u.lim ORDER BY u.i))[1] AS lim, COUNT(*) AS cnt, MAX(u.t) AS t
                  FROM unnest(p_rate_key, p_rate_limit, p_rate_now, p_rate_epoch) WITH ORDINALITY AS u(k, lim, t, e, i)
                  WHERE u.k IS NOT NULL AND u.e = cur_epoch GROUP BY u.k) g;
        IF r_keys IS NOT NULL THEN
            SELECT array_agg(a.window_key), array_agg(a.used), array_agg(a.admitted), array_agg(a.retry_at)
                INTO d_keys, d_used, d_admit, d_retry
                FROM weft_rate_admit_many(r_keys, r_lims, r_ns, r_nows, p_rate_window, NULL) AS a;
            taken := array_fill(0, ARRAY[array_length(d_keys, 1)]);
        END IF;
    END IF;
    SELECT array_agg(CASE WHEN b.account_id = u.account THEN b.guid END ORDER BY u.i) INTO b_guids
        FROM unnest(p_automation, p_account) WITH ORDINALITY AS u(automation, account, i)
        LEFT JOIN automations b ON b.id = u.automation;
    -- The accounts' queue locks, and slots locks for runs that may start here (weft_lock_accounts, migration 16;
    -- claims take the slots locks), after the rate-limit rows as every transaction that takes both. The key-share
    -- row lock waits for an account being deleted, which is then not found.
    PERFORM weft_lock_accounts(p_account, 1);
    IF cardinality(array_remove(p_owner, NULL)) > 0 THEN
        PERFORM weft_lock_accounts(p_account, 2);
    END IF;
    SELECT array_agg(l.id ORDER BY l.id), array_agg(l.partner_id ORDER BY l.id) INTO accts, owners
        FROM (SELECT a.id, a.partner_id FROM accounts a WHERE a.id = ANY(p_account) FOR KEY SHARE) l;
    -- After the locks: these statements' snapshots see every run committed before them. (One statement per
    -- account, planned once per session: one statement for all, over the array, kept being planned again at
    -- every call, its plans for an array of known length always looking cheaper than the generic one.)
    queued := '{}';
    holding := '{}';
    FOR k IN 1 .. COALESCE(array_length(accts, 1), 0) LOOP
        SELECT (SELECT COUNT(*) FROM runs r WHERE r.account_id = accts[k] AND r.status = 'queued'),
               (SELECT COUNT(*) FROM runs r WHERE r.account_id = accts[k] AND r.status = 'running') +
               (SELECT COUNT(*) FROM runs r WHERE r.account_id = accts[k] AND r.status = 'must stop')
            INTO q, h;
        queued := queued || q;
        holding := holding || h;
    END LOOP;
    FOR i IN 1 .. n LOOP
        k := array_position(accts, p_account[i]);
        st := false;
        o_stale := o_stale || false;
        IF p_rate_key[i] IS NULL THEN
            o_allowed := o_allowed || CAST(NULL AS BOOLEAN);
            o_rem := o_rem || CAST(NULL AS BIGINT);
            o_retry := o_retry || CAST(NULL AS BIGINT);
        ELSIF p_rate_epoch[i] IS DISTINCT FROM cur_epoch THEN
            -- Its lookups were out of date: nothing decided, nothing queued.
            o_stale[i] := true;
            o_allowed := o_allowed || false;
            o_rem := o_rem || CAST(NULL AS BIGINT);
            o_retry := o_retry || CAST(NULL AS BIGINT);
        ELSE
            kk := array_position(d_keys, p_rate_key[i]);
            taken[kk] := taken[kk] + 1;
            o_allowed := o_allowed || (taken[kk] <= d_admit[kk]);
            o_rem := o_rem || CASE WHEN taken[kk] <= d_admit[kk]
                                   THEN r_lims[array_position(r_keys, p_rate_key[i])] - d_used[kk] - taken[kk]
                                   ELSE 0 END;
            o_retry := o_retry || d_retry[kk];
        END IF;
        IF o_stale[i] OR NOT COALESCE(o_allowed[i], true) THEN
            o_guid := o_guid || CAST(NULL AS TEXT);
            o_queued := o_queued || CAST(NULL AS BIGINT);
            o_insert := o_insert || false;
        ELSIF b_guids[i] IS NULL OR k IS NULL OR owners[k] <> p_partner[i] THEN
            o_guid := o_guid || CAST(NULL AS TEXT);
            o_queued := o_queued || CAST(NULL AS BIGINT);
            o_insert := o_insert || false;
        ELSIF queued[k] >= p_cap[i] THEN
            o_guid := o_guid || b_guids[i];
            o_queued := o_queued || queued[k];
            o_insert := o_insert || false;
        ELSE
            st := p_owner[i] IS NOT NULL AND queued[k] = 0 AND holding[k] < p_concurrency[i];
            o_guid := o_guid || b_guids[i];
            o_queued := o_queued || queued[k];
            o_insert := o_insert || true;
            IF st THEN
                holding[k] := holding[k] + 1;
            ELSE
                queued[k] := queued[k] + 1;
            END IF;
        END IF;
        o_started := o_started || st;
    END LOOP;
    RETURN QUERY
        WITH u AS (
            SELECT * FROM unnest(p_account, p_automation, p_guid, p_context, p_flow, p_inputs, p_start_payload,
                                 p_call_depth, p_schedule_starttime, p_created_at, p_updated_at, p_owner,
                                 p_lease_until, o_guid, o_queued, o_started, o_insert)
                WITH ORDINALITY AS u(account, automation, guid, context, flow, inputs, start_payload, call_depth,
                                     schedule_starttime, created_at, updated_at, owner, lease_until,
                                     automation_guid, queued, started, ins, i)),
        inserted AS (
            INSERT INTO runs (account_id, automation_id, guid, status, context, flow, inputs, start_payload,
                              attempt, call_depth, schedule_starttime, starttime, lease_owner, lease_expires_at,
                              created_at, updated_at)
                SELECT u.account, u.automation, u.guid, CASE WHEN u.started THEN 'running' ELSE 'queued' END,
                       u.context, u.flow, u.inputs, u.start_payload, 1, u.call_depth, u.schedule_starttime,
                       CASE WHEN u.started THEN u.created_at END, CASE WHEN u.started THEN u.owner END,
                       CASE WHEN u.started THEN u.lease_until END, u.created_at, u.updated_at
                    FROM u WHERE u.ins ORDER BY u.i
                RETURNING runs.id, runs.guid)
        SELECT inserted.id, u.automation_guid, u.queued, u.started, o_stale[CAST(u.i AS INTEGER)],
               o_allowed[CAST(u.i AS INTEGER)], o_rem[CAST(u.i AS INTEGER)], o_retry[CAST(u.i AS INTEGER)]
            FROM u LEFT JOIN inserted ON inserted.guid = u.guid AND u.ins ORDER BY u.i;
END $$;
-- The claim's row locks of the candidates' accounts and its read of the claimed runs were planned at every call
-- (plans for arrays of known length looked cheaper than the generic ones). Setting the mode costs ~30 µs a call
-- (pgbench, on this VM), less than the planning.
ALTER FUNCTION weft_claim_runs(TEXT, INTEGER, BIGINT, BIGINT, INTEGER, INTEGER, BIGINT)
    SET plan_cache_mode = force_generic_plan;
DROP FUNCTION weft_enqueue_run(BIGINT, BIGINT, BIGINT, TEXT, TEXT, TEXT, TEXT, TEXT, BIGINT, BIGINT, BIGINT, BIGINT,
                               BIGINT, TEXT, BIGINT, BIGINT);
DROP FUNCTION weft_end_runs(BIGINT[], TEXT[], TEXT[], TEXT[], TEXT[], BIGINT[], TEXT[], BOOLEAN[], BIGINT[],
                            BIGINT[], TEXT[]);
)sql"},
        // PostgreSQL's rate-limit decision in two statements per key instead of five: the calls of a key decided
        // together are one row of rate_admissions (with their count), and the expired admissions' delete, the new
        // admissions' insert and the counter's update are one statement, made after the key's row is locked. The
        // decision also reads config_epoch, and confirms the lookups an API call made from memory (see
        // RateLimiter::AdmitConfirming): a call makes one round trip before its handler, not two.
        {15, "rate-limit admissions counted per group; the decision confirms the config epoch (PostgreSQL)", "",
         R"sql(
ALTER TABLE rate_admissions ADD COLUMN calls BIGINT NOT NULL DEFAULT 1;  -- calls admitted at admitted_at
DROP FUNCTION weft_rate_admit_many(TEXT[], BIGINT[], BIGINT[], BIGINT[], BIGINT);
-- As before: decides n[i] calls on key k[i] with limit lim[i] at now_us[i], for every i, keys locked in key order
-- (so two processes' groups cannot deadlock), each key's row until commit. Per key: used = admissions in the
-- window before these calls, admitted = how many of the n were admitted (the first ones), retry_at (when some
-- were refused) = when enough of the oldest admissions have left the window for one more; every row also has
-- epoch, config_epoch as read first. When p_epoch is given and config_epoch is another, nothing is decided: one
-- row, all NULL but epoch.
CREATE FUNCTION weft_rate_admit_many(k TEXT[], lim BIGINT[], n BIGINT[], now_us BIGINT[], window_us BIGINT,
                                     p_epoch BIGINT)
RETURNS TABLE (window_key TEXT, used BIGINT, admitted BIGINT, retry_at BIGINT, epoch BIGINT)
LANGUAGE plpgsql AS $$
DECLARE
    keys     INTEGER;
    ord      INTEGER[];
    j        INTEGER;
    i        INTEGER;
    used_now BIGINT;
    m        BIGINT;
BEGIN
    SELECT c.epoch INTO epoch FROM config_epoch c WHERE c.id = 1;
    IF p_epoch IS NOT NULL AND epoch IS DISTINCT FROM p_epoch THEN
        RETURN NEXT;
        RETURN;
    END IF;
    keys := COALESCE(array_length(k, 1), 0);
    IF keys = 1 THEN
        ord := ARRAY[1];
    ELSIF keys > 1 THEN
        SELECT array_agg(s.i ORDER BY k[s.i]) INTO ord FROM generate_subscripts(k, 1) AS s(i);
    END IF;
    FOR j IN 1 .. keys LOOP
        i := ord[j];
        -- The lock: the next statement's snapshot, taken after it, sees every admission committed before it.
        INSERT INTO rate_windows AS w (window_key, used, last_admitted_at) VALUES (k[i], 0, 0)
            ON CONFLICT ON CONSTRAINT rate_windows_pkey DO UPDATE SET used = w.used
            RETURNING w.used INTO used_now;
        WITH expired AS (
                DELETE FROM rate_admissions a WHERE a.window_key = k[i] AND a.admitted_at <= now_us[i] - window_us
                    RETURNING a.calls),
            decided AS (
                SELECT d.u, LEAST(n[i], GREATEST(lim[i] - d.u, 0)) AS m
                    FROM (SELECT used_now - COALESCE((SELECT SUM(e.calls) FROM expired e), 0) AS u) d),
            logged AS (
                INSERT INTO rate_admissions (window_key, admitted_at, calls)
                    SELECT k[i], now_us[i], decided.m FROM decided WHERE decided.m > 0),
            counted AS (
                UPDATE rate_windows w SET used = decided.u + decided.m,
                                          last_admitted_at = CASE WHEN decided.m > 0
                                                                  THEN GREATEST(w.last_admitted_at, now_us[i])
                                                                  ELSE w.last_admitted_at END
                    FROM decided WHERE w.window_key = k[i])
        SELECT decided.u, decided.m INTO used_now, m FROM decided;
        window_key := k[i];
        used := used_now;
        admitted := m;
        retry_at := NULL;
        IF m < n[i] THEN
            -- The oldest admissions that must leave the window for one more call: used + m - lim + 1 of them.
            SELECT c.admitted_at INTO retry_at
                FROM (SELECT a.admitted_at, SUM(a.calls) OVER (ORDER BY a.admitted_at ROWS UNBOUNDED PRECEDING) AS s
                      FROM rate_admissions a WHERE a.window_key = k[i]) c
                WHERE c.s >= used_now + m - lim[i] + 1 ORDER BY c.admitted_at LIMIT 1;
            retry_at := COALESCE(retry_at, now_us[i]) + window_us;
        END IF;
        RETURN NEXT;
    END LOOP;
END $$;
)sql"},
        // PostgreSQL: an account's queue and its slots are two locks (transaction-scoped advisory locks), not one
        // row lock. Enqueues add queued runs and take the queue lock (and the slots lock too when a run may start
        // where it is submitted); claims only turn queued runs into running ones and take the slots lock. So an
        // account's claims and its async enqueues no longer wait for each other's commits.
        {16, "an account's queue and slots locked apart (PostgreSQL)", "",
         R"sql(
-- Takes the transaction-scoped advisory lock `kind` (1: an account's queue, 2: its slots) of each account, in one
-- order for every caller (the keys' order), and returns nothing. (An id beyond 2^31 shares its key with another
-- account: the two then only wait for each other more often.)
CREATE FUNCTION weft_lock_accounts(p_accounts BIGINT[], p_kind INTEGER) RETURNS VOID
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_advisory_xact_lock(p_kind, s.k) FROM (
        SELECT DISTINCT CAST(x % 2147483647 AS INTEGER) AS k FROM unnest(p_accounts) AS x ORDER BY 1) s;
END $$;
-- As migration 13's, but the candidates' accounts' slots locks stand for their row locks.
CREATE OR REPLACE FUNCTION weft_claim_runs(p_owner TEXT, p_max INTEGER, p_now BIGINT, p_lease_until BIGINT,
                                p_window INTEGER, p_scan INTEGER, p_lock_key BIGINT)
RETURNS TABLE (c_id BIGINT, c_account_id BIGINT, c_automation_id BIGINT, c_guid TEXT, c_automation_guid TEXT,
               c_status TEXT, c_context TEXT, c_flow TEXT, c_inputs TEXT, c_start_payload TEXT, c_output TEXT,
               c_error TEXT, c_attempt BIGINT, c_call_depth BIGINT, c_idempotency_key TEXT,
               c_schedule_starttime BIGINT, c_starttime BIGINT, c_stoptime BIGINT, c_created_at BIGINT,
               c_updated_at BIGINT, c_response TEXT, c_definition TEXT, c_persisted_inputs TEXT,
               c_automation_name TEXT, c_run_mode TEXT, c_account_guid TEXT, c_account_externalid TEXT,
               c_account_name TEXT, c_partner_id BIGINT)
LANGUAGE plpgsql
SET plan_cache_mode = force_generic_plan
AS $$
DECLARE
    started  BIGINT[];
    ids      BIGINT[];
    accts    BIGINT[];
    concs    BIGINT[];
    fresh    BIGINT[];
    seen     BIGINT[] := '{}';
    running  BIGINT[] := '{}';
    chosen   BIGINT[] := '{}';
    after_id BIGINT := 0;
    scanned  INTEGER := 0;
    win      INTEGER;
    n        INTEGER;
    i        INTEGER;
    k        INTEGER;
BEGIN
    PERFORM pg_advisory_xact_lock(p_lock_key);
    WHILE COALESCE(array_length(chosen, 1), 0) < p_max AND scanned < p_scan LOOP
        win := LEAST(p_scan - scanned, p_window);
        SELECT array_agg(q.id ORDER BY q.id), array_agg(q.account_id ORDER BY q.id),
               array_agg(q.concurrency ORDER BY q.id)
            INTO ids, accts, concs
            FROM (SELECT r.id, r.account_id, p.concurrency FROM runs r JOIN accounts a ON a.id = r.account_id
                  JOIN partners p ON p.app_id = a.partner_id
                  WHERE r.status = 'queued' AND r.id > after_id ORDER BY r.id LIMIT win) q;
        n := COALESCE(array_length(ids, 1), 0);
        EXIT WHEN n = 0;
        SELECT array_agg(DISTINCT x ORDER BY x) INTO fresh FROM unnest(accts) AS x WHERE NOT (x = ANY(seen));
        IF fresh IS NOT NULL THEN
            PERFORM weft_lock_accounts(fresh, 2);
            FOR i IN 1 .. array_length(fresh, 1) LOOP
                seen := seen || fresh[i];
                running := running ||
                    ((SELECT COUNT(*) FROM runs WHERE account_id = fresh[i] AND status = 'running') +
                     (SELECT COUNT(*) FROM runs WHERE account_id = fresh[i] AND status = 'must stop'));
            END LOOP;
        END IF;
        FOR i IN 1 .. n LOOP
            EXIT WHEN COALESCE(array_length(chosen, 1), 0) >= p_max;
            k := array_position(seen, accts[i]);
            IF running[k] < concs[i] THEN
                running[k] := running[k] + 1;
                chosen := chosen || ids[i];
            END IF;
        END LOOP;
        scanned := scanned + n;
        EXIT WHEN n < win;
        after_id := ids[n];
    END LOOP;
    IF COALESCE(array_length(chosen, 1), 0) = 0 THEN
        RETURN;
    END IF;
    -- A run another transaction holds (a stop request) is skipped, not waited for.
    WITH u AS (
        UPDATE runs SET status = 'running', starttime = p_now, lease_owner = p_owner,
                        lease_expires_at = p_lease_until, updated_at = p_now
            WHERE id IN (SELECT q.id FROM runs q WHERE q.id = ANY(chosen) AND q.status = 'queued'
                         FOR UPDATE SKIP LOCKED)
            RETURNING id)
    SELECT array_agg(u.id) INTO started FROM u;
    IF started IS NULL THEN
        RETURN;
    END IF;
    RETURN QUERY
        SELECT r.id, r.account_id, r.automation_id, r.guid, b.guid, r.status, r.context, r.flow, r.inputs,
               r.start_payload, r.output, r.error, r.attempt, r.call_depth, r.idempotency_key,
               r.schedule_starttime, r.starttime, r.stoptime, r.created_at, r.updated_at, r.response, b.definition,
               b.persisted_inputs, b.name, b.run_mode, a.guid, a.externalid, a.name, a.partner_id
            FROM runs r JOIN automations b ON b.id = r.automation_id JOIN accounts a ON a.id = r.account_id
            WHERE r.id = ANY(started) ORDER BY r.id;
END $$;
)sql"},
        // PostgreSQL: the claim's generic plans (see migration 14) are made at a connection's first claim. In a new
        // database the tables are small then, and a sequential scan of runs looked cheapest for the read of the
        // claimed runs: the plan stayed for the connection's life while runs grew (4 ms a claim at 4 000 runs, in
        // `bench/runs_bench.sh --cases async`). Every access of the claim is by an index, so the plans now say so.
        {17, "the claim's plans use indexes however small the tables were when they were made (PostgreSQL)", "",
         R"sql(
ALTER FUNCTION weft_claim_runs(TEXT, INTEGER, BIGINT, BIGINT, INTEGER, INTEGER, BIGINT) SET enable_seqscan = off;
)sql"},
        // PostgreSQL: a rate decision deleted its window's expired admissions with a sequential scan of every
        // admission of every window. Admission times always lie beyond what the table's statistics have seen, so
        // the planner took `admitted_at <= now - window` for all of a key's rows, and a scan for the cheapest way to
        // reach them: 0.19 ms at 3 700 admissions (auto_explain), growing with the number of calls in the last
        // minute over all accounts. Every access of the decision is by an index.
        {18, "rate decisions read admissions by index (PostgreSQL)", "",
         R"sql(
ALTER FUNCTION weft_rate_admit_many(TEXT[], BIGINT[], BIGINT[], BIGINT[], BIGINT, BIGINT) SET enable_seqscan = off;
)sql"},
        // PostgreSQL: the statements inside the enqueue and the rate decision were planned again at every call.
        // Their parameters are arrays (or values from arrays), and the plan cache kept finding a plan made for the
        // call's values cheaper than the generic one, as it did for the claim (migration 14): the nested call of
        // the rate decision alone cost ~120 us of planning per enqueue (pgbench, pg_stat_statements). Their plans are
        // now made once per connection (the enqueue's settings hold in the rate decision it calls; migration 20
        // gives the decision its own); like the claim's (migration 17), they use indexes however small the
        // tables were when they were made. The enqueue's count of an account's queued runs, planned on an empty
        // table, read every queued run of every account (runs_queued, filtered by account): it now counts the
        // account's active runs in one index scan.
        {19,
         "the enqueue and the rate decision planned once per connection; an enqueue counts an account's runs by "
         "index (PostgreSQL)",
         "",
         R"sql(
-- As migration 14's (with 16's locks), but planned once per connection, by index, and the account's runs counted
-- in one statement.
CREATE OR REPLACE FUNCTION weft_enqueue_runs(p_partner BIGINT[], p_account BIGINT[], p_automation BIGINT[], p_guid TEXT[],
                                  p_context TEXT[], p_flow TEXT[], p_inputs TEXT[], p_start_payload TEXT[],
                                  p_call_depth BIGINT[], p_schedule_starttime BIGINT[], p_created_at BIGINT[],
                                  p_updated_at BIGINT[], p_cap BIGINT[], p_owner TEXT[], p_lease_until BIGINT[],
                                  p_concurrency BIGINT[], p_rate_key TEXT[], p_rate_limit BIGINT[],
                                  p_rate_now BIGINT[], p_rate_epoch BIGINT[], p_rate_window BIGINT)
RETURNS TABLE (e_run_id BIGINT, e_automation_guid TEXT, e_queued BIGINT, e_started BOOLEAN, e_stale BOOLEAN,
               e_rate_allowed BOOLEAN, e_rate_remaining BIGINT, e_retry_at BIGINT)
LANGUAGE plpgsql
SET plan_cache_mode = force_generic_plan
SET enable_seqscan = off
AS $$
DECLARE
    cur_epoch BIGINT;
    r_keys    TEXT[];     -- the rate-limit windows of the runs whose call is decided here, in key order
    r_lims    BIGINT[];   -- their limits (their first call's)
    r_ns      BIGINT[];   -- their calls here
    r_nows    BIGINT[];   -- their latest call's time
    d_keys    TEXT[];     -- the decisions: windows, ...
    d_used    BIGINT[];   -- ... admissions in the window before these calls, ...
    d_admit   BIGINT[];   -- ... how many of these calls were admitted (the first ones), ...
    d_retry   BIGINT[];   -- ... and when to retry (some refused)
    taken     BIGINT[];   -- calls of each window seen so far
    kk        INTEGER;
    o_stale   BOOLEAN[] := '{}';
    o_allowed BOOLEAN[] := '{}';
    o_rem     BIGINT[] := '{}';
    o_retry   BIGINT[] := '{}';
    n         INTEGER := COALESCE(array_length(p_account, 1), 0);
    b_guids   TEXT[];     -- per run: its automation's guid when the automation is its account's
    accts     BIGINT[];   -- the accounts of the batch that exist, in id order
    owners    BIGINT[];   -- their partners
    queued    BIGINT[];   -- their queued runs, then counted on as runs are queued
    holding   BIGINT[];   -- their runs holding a slot (running or must stop), then counted on as runs start
    o_guid    TEXT[] := '{}';
    o_queued  BIGINT[] := '{}';
    o_started BOOLEAN[] := '{}';
    o_insert  BOOLEAN[] := '{}';
    k         INTEGER;
    st        BOOLEAN;
BEGIN
    IF n = 0 THEN
        RETURN;
    END IF;
    -- The rate decisions of the calls whose lookups from memory are still current (config_epoch as it is now):
    -- their windows' rows are locked first (in key order, before any account: every transaction that takes both
    -- takes them in that order), as the rate limiter's own statement would.
    IF cardinality(array_remove(p_rate_key, NULL)) > 0 THEN
        SELECT c.epoch INTO cur_epoch FROM config_epoch c WHERE c.id = 1;
        SELECT array_agg(g.k ORDER BY g.k), array_agg(g.lim ORDER BY g.k), array_agg(g.cnt ORDER BY g.k),
               array_agg(g.t ORDER BY g.k)
            INTO r_keys, r_lims, r_ns, r_nows
            FROM (SELECT u.k, (array_agg(u.lim ORDER BY u.i))[1] AS lim, COUNT(*) AS cnt, MAX(u.t) AS t
                  FROM unnest(p_rate_key, p_rate_limit, p_rate_now, p_rate_epoch) WITH ORDINALITY AS u(k, lim, t, e, i)
                  WHERE u.k IS NOT NULL AND u.e = cur_epoch GROUP BY u.k) g;
        IF r_keys IS NOT NULL THEN
            SELECT array_agg(a.window_key), array_agg(a.used), array_agg(a.admitted), array_agg(a.retry_at)
                INTO d_keys, d_used, d_admit, d_retry
                FROM weft_rate_admit_many(r_keys, r_lims, r_ns, r_nows, p_rate_window, NULL) AS a;
            taken := array_fill(0, ARRAY[array_length(d_keys, 1)]);
        END IF;
    END IF;
    SELECT array_agg(CASE WHEN b.account_id = u.account THEN b.guid END ORDER BY u.i) INTO b_guids
        FROM unnest(p_automation, p_account) WITH ORDINALITY AS u(automation, account, i)
        LEFT JOIN automations b ON b.id = u.automation;
    -- The accounts' queue locks, and slots locks for runs that may start here (weft_lock_accounts, migration 16;
    -- claims take the slots locks), after the rate-limit rows as every transaction that takes both. The key-share
    -- row lock waits for an account being deleted, which is then not found.
    PERFORM weft_lock_accounts(p_account, 1);
    IF cardinality(array_remove(p_owner, NULL)) > 0 THEN
        PERFORM weft_lock_accounts(p_account, 2);
    END IF;
    SELECT array_agg(l.id ORDER BY l.id), array_agg(l.partner_id ORDER BY l.id) INTO accts, owners
        FROM (SELECT a.id, a.partner_id FROM accounts a WHERE a.id = ANY(p_account) FOR KEY SHARE) l;
    -- After the locks: this statement's snapshot sees every run committed before it. One index scan per account
    -- of its active runs (the statuses as a list: `status = 'queued'` alone would let a plan made while no run
    -- was queued read every queued run of every account through runs_queued, keeping only this account's).
    SELECT COALESCE(array_agg(c.q ORDER BY x.i), '{}'), COALESCE(array_agg(c.h ORDER BY x.i), '{}')
        INTO queued, holding
        FROM unnest(accts) WITH ORDINALITY AS x(id, i)
        CROSS JOIN LATERAL (
            SELECT COUNT(*) FILTER (WHERE r.status = 'queued') AS q, COUNT(*) FILTER (WHERE r.status <> 'queued') AS h
                FROM runs r WHERE r.account_id = x.id AND r.status IN ('queued', 'running', 'must stop')) c;
    FOR i IN 1 .. n LOOP
        k := array_position(accts, p_account[i]);
        st := false;
        o_stale := o_stale || false;
        IF p_rate_key[i] IS NULL THEN
            o_allowed := o_allowed || CAST(NULL AS BOOLEAN);
            o_rem := o_rem || CAST(NULL AS BIGINT);
            o_retry := o_retry || CAST(NULL AS BIGINT);
        ELSIF p_rate_epoch[i] IS DISTINCT FROM cur_epoch THEN
            -- Its lookups were out of date: nothing decided, nothing queued.
            o_stale[i] := true;
            o_allowed := o_allowed || false;
            o_rem := o_rem || CAST(NULL AS BIGINT);
            o_retry := o_retry || CAST(NULL AS BIGINT);
        ELSE
            kk := array_position(d_keys, p_rate_key[i]);
            taken[kk] := taken[kk] + 1;
            o_allowed := o_allowed || (taken[kk] <= d_admit[kk]);
            o_rem := o_rem || CASE WHEN taken[kk] <= d_admit[kk]
                                   THEN r_lims[array_position(r_keys, p_rate_key[i])] - d_used[kk] - taken[kk]
                                   ELSE 0 END;
            o_retry := o_retry || d_retry[kk];
        END IF;
        IF o_stale[i] OR NOT COALESCE(o_allowed[i], true) THEN
            o_guid := o_guid || CAST(NULL AS TEXT);
            o_queued := o_queued || CAST(NULL AS BIGINT);
            o_insert := o_insert || false;
        ELSIF b_guids[i] IS NULL OR k IS NULL OR owners[k] <> p_partner[i] THEN
            o_guid := o_guid || CAST(NULL AS TEXT);
            o_queued := o_queued || CAST(NULL AS BIGINT);
            o_insert := o_insert || false;
        ELSIF queued[k] >= p_cap[i] THEN
            o_guid := o_guid || b_guids[i];
            o_queued := o_queued || queued[k];
            o_insert := o_insert || false;
        ELSE
            st := p_owner[i] IS NOT NULL AND queued[k] = 0 AND holding[k] < p_concurrency[i];
            o_guid := o_guid || b_guids[i];
            o_queued := o_queued || queued[k];
            o_insert := o_insert || true;
            IF st THEN
                holding[k] := holding[k] + 1;
            ELSE
                queued[k] := queued[k] + 1;
            END IF;
        END IF;
        o_started := o_started || st;
    END LOOP;
    RETURN QUERY
        WITH u AS (
            SELECT * FROM unnest(p_account, p_automation, p_guid, p_context, p_flow, p_inputs, p_start_payload,
                                 p_call_depth, p_schedule_starttime, p_created_at, p_updated_at, p_owner,
                                 p_lease_until, o_guid, o_queued, o_started, o_insert)
                WITH ORDINALITY AS u(account, automation, guid, context, flow, inputs, start_payload, call_depth,
                                     schedule_starttime, created_at, updated_at, owner, lease_until,
                                     automation_guid, queued, started, ins, i)),
        inserted AS (
            INSERT INTO runs (account_id, automation_id, guid, status, context, flow, inputs, start_payload,
                              attempt, call_depth, schedule_starttime, starttime, lease_owner, lease_expires_at,
                              created_at, updated_at)
                SELECT u.account, u.automation, u.guid, CASE WHEN u.started THEN 'running' ELSE 'queued' END,
                       u.context, u.flow, u.inputs, u.start_payload, 1, u.call_depth, u.schedule_starttime,
                       CASE WHEN u.started THEN u.created_at END, CASE WHEN u.started THEN u.owner END,
                       CASE WHEN u.started THEN u.lease_until END, u.created_at, u.updated_at
                    FROM u WHERE u.ins ORDER BY u.i
                RETURNING runs.id, runs.guid)
        SELECT inserted.id, u.automation_guid, u.queued, u.started, o_stale[CAST(u.i AS INTEGER)],
               o_allowed[CAST(u.i AS INTEGER)], o_rem[CAST(u.i AS INTEGER)], o_retry[CAST(u.i AS INTEGER)]
            FROM u LEFT JOIN inserted ON inserted.guid = u.guid AND u.ins ORDER BY u.i;
END $$;
)sql"},
        // PostgreSQL: a rate decision deleted its window's expired admissions with an index scan from the key's
        // oldest entry. Deleted admissions stay in the index until a vacuum, so under steady traffic each decision
        // walked every admission the key had deleted since the last one: 0.43 ms a decision after a few minutes
        // at 700 decisions/s on one key (pgbench), growing until autovacuum came. The window's row now keeps how
        // far its admissions were deleted, and the scan starts there. (An admission is older than that only when
        // the clocks of two processes differ by more than the window; it then stays counted until the window is
        // idle and swept: the limit errs on the strict side.) Its plans are made once per connection also when it is
        // called on its own (as the enqueue's, migration 19).
        {20, "rate decisions skip the admissions they deleted before (PostgreSQL)", "",
         R"sql(
ALTER TABLE rate_windows ADD COLUMN expired_through BIGINT NOT NULL DEFAULT 0;  -- admissions at or before: deleted
DROP FUNCTION weft_rate_admit(TEXT, BIGINT, BIGINT, BIGINT);  -- unused since migration 9, and unaware of it
CREATE OR REPLACE FUNCTION weft_rate_admit_many(k TEXT[], lim BIGINT[], n BIGINT[], now_us BIGINT[], window_us BIGINT,
                                     p_epoch BIGINT)
RETURNS TABLE (window_key TEXT, used BIGINT, admitted BIGINT, retry_at BIGINT, epoch BIGINT)
LANGUAGE plpgsql
SET plan_cache_mode = force_generic_plan
SET enable_seqscan = off
AS $$
DECLARE
    keys     INTEGER;
    ord      INTEGER[];
    j        INTEGER;
    i        INTEGER;
    used_now BIGINT;
    cut      BIGINT;
    m        BIGINT;
BEGIN
    SELECT c.epoch INTO epoch FROM config_epoch c WHERE c.id = 1;
    IF p_epoch IS NOT NULL AND epoch IS DISTINCT FROM p_epoch THEN
        RETURN NEXT;
        RETURN;
    END IF;
    keys := COALESCE(array_length(k, 1), 0);
    IF keys = 1 THEN
        ord := ARRAY[1];
    ELSIF keys > 1 THEN
        SELECT array_agg(s.i ORDER BY k[s.i]) INTO ord FROM generate_subscripts(k, 1) AS s(i);
    END IF;
    FOR j IN 1 .. keys LOOP
        i := ord[j];
        -- The lock: the next statement's snapshot, taken after it, sees every admission committed before it.
        INSERT INTO rate_windows AS w (window_key, used, last_admitted_at) VALUES (k[i], 0, 0)
            ON CONFLICT ON CONSTRAINT rate_windows_pkey DO UPDATE SET used = w.used
            RETURNING w.used, w.expired_through INTO used_now, cut;
        -- Only the admissions that left the window since the last decision: the index scan starts after the
        -- ones deleted before, which stay in the index (dead) until a vacuum.
        WITH expired AS (
                DELETE FROM rate_admissions a
                    WHERE a.window_key = k[i] AND a.admitted_at > cut AND a.admitted_at <= now_us[i] - window_us
                    RETURNING a.calls),
            decided AS (
                SELECT d.u, LEAST(n[i], GREATEST(lim[i] - d.u, 0)) AS m
                    FROM (SELECT used_now - COALESCE((SELECT SUM(e.calls) FROM expired e), 0) AS u) d),
            logged AS (
                INSERT INTO rate_admissions (window_key, admitted_at, calls)
                    SELECT k[i], now_us[i], decided.m FROM decided WHERE decided.m > 0),
            counted AS (
                UPDATE rate_windows w SET used = decided.u + decided.m,
                                          expired_through = GREATEST(w.expired_through, now_us[i] - window_us),
                                          last_admitted_at = CASE WHEN decided.m > 0
                                                                  THEN GREATEST(w.last_admitted_at, now_us[i])
                                                                  ELSE w.last_admitted_at END
                    FROM decided WHERE w.window_key = k[i])
        SELECT decided.u, decided.m INTO used_now, m FROM decided;
        window_key := k[i];
        used := used_now;
        admitted := m;
        retry_at := NULL;
        IF m < n[i] THEN
            -- The oldest admissions that must leave the window for one more call: used + m - lim + 1 of them.
            SELECT c.admitted_at INTO retry_at
                FROM (SELECT a.admitted_at, SUM(a.calls) OVER (ORDER BY a.admitted_at ROWS UNBOUNDED PRECEDING) AS s
                      FROM rate_admissions a
                      WHERE a.window_key = k[i] AND a.admitted_at > GREATEST(cut, now_us[i] - window_us)) c
                WHERE c.s >= used_now + m - lim[i] + 1 ORDER BY c.admitted_at LIMIT 1;
            retry_at := COALESCE(retry_at, now_us[i]) + window_us;
        END IF;
        RETURN NEXT;
    END LOOP;
END $$;
)sql"},
    };
    return kMigrations;
}

int LatestVersion() {
    int latest = 0;
    for (const auto& m : Migrations()) latest = m.version > latest ? m.version : latest;
    return latest;
}

namespace {

void ReplaceAll(std::string& s, std::string_view from, std::string_view to) {
    for (auto pos = s.find(from); pos != std::string::npos; pos = s.find(from, pos + to.size())) {
        s.replace(pos, from.size(), to);
    }
}

}  // namespace

std::string MigrationSql(std::string_view sql, Dialect dialect) {
    std::string out(sql);
    if (dialect != Dialect::kPostgres) return out;
    ReplaceAll(out, "INTEGER PRIMARY KEY AUTOINCREMENT", "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY");
    ReplaceAll(out, "INTEGER", "BIGINT");
    ReplaceAll(out, ") WITHOUT ROWID;", ");");
    ReplaceAll(out, ") WITHOUT ROWID", ")");
    return out;
}

}  // namespace weft::sql
