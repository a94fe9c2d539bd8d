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
        // Versions 6 and 8 were reserved for branches in flight; 9 follows.
        {9, "server secrets (export link signing) and run retention", R"sql(
CREATE TABLE server_secrets (
    name       TEXT PRIMARY KEY,
    value      TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX runs_by_stoptime ON runs(stoptime) WHERE stoptime IS NOT NULL;
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
