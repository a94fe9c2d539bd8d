#include "store/sqlite/migrations.h"

namespace weft::sqlite {

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
    };
    return kMigrations;
}

}  // namespace weft::sqlite
