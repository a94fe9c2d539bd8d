#include "store/sql/sql_store.h"

#include <chrono>
#include <stdexcept>

#include "core/ids.h"
#include "store/sql/migrations.h"
#include "store/sql/query.h"

namespace weft {

using sql::ConflictOr;
using sql::Connection;
using sql::Count;
using sql::QueryAll;
using sql::QueryOne;
using sql::Statement;

namespace {

constexpr const char* kPartnerColumns =
    "SELECT app_id, guid, name, rate_limit, queue_cap, concurrency, created_at, updated_at FROM partners ";
constexpr const char* kAccountColumns =
    "SELECT id, partner_id, guid, externalid, name, expired, expired_at, created_at, updated_at FROM accounts ";
constexpr const char* kUserColumns =
    "SELECT u.id, u.account_id, u.guid, u.externalid, u.name, u.email, u.locale, u.created_at, u.updated_at "
    "FROM users u JOIN accounts a ON a.id = u.account_id ";

Partner ReadPartner(const Statement& s) {
    Partner p;
    p.app_id = s.Int(0);
    p.guid = s.Text(1);
    p.name = s.Text(2);
    p.limits.rate_limit = static_cast<int>(s.Int(3));
    p.limits.queue_cap = static_cast<int>(s.Int(4));
    p.limits.concurrency = static_cast<int>(s.Int(5));
    p.created_at = s.Int(6);
    p.updated_at = s.Int(7);
    return p;
}

// An account from columns base .. base + 8 (kAccountColumns' order).
Account ReadAccountAt(const Statement& s, int base) {
    Account a;
    a.id = s.Int(base);
    a.partner_id = s.Int(base + 1);
    a.guid = s.Text(base + 2);
    a.externalid = s.Text(base + 3);
    a.name = s.Text(base + 4);
    a.expired = s.Int(base + 5) != 0;
    a.expired_at = s.OptInt(base + 6);
    a.created_at = s.Int(base + 7);
    a.updated_at = s.Int(base + 8);
    return a;
}

Account ReadAccount(const Statement& s) { return ReadAccountAt(s, 0); }

User ReadUser(const Statement& s) {
    User u;
    u.id = s.Int(0);
    u.account_id = s.Int(1);
    u.guid = s.Text(2);
    u.externalid = s.OptText(3);
    u.name = s.OptText(4);
    u.email = s.OptText(5);
    u.locale = s.OptText(6);
    u.created_at = s.Int(7);
    u.updated_at = s.Int(8);
    return u;
}

ApiKey ReadKey(const Statement& s) {
    ApiKey k;
    k.id = s.Int(0);
    k.app_id = s.Int(1);
    k.prefix = s.Text(2);
    k.hash_hex = s.Text(3);
    k.created_at = s.Int(4);
    k.revoked_at = s.OptInt(5);
    return k;
}

Result<Account> FindAccountOn(Connection& c, PartnerId partner, std::string_view key) {
    return sql::QueryByGuidOr<Account>(
        c, std::string(kAccountColumns) + "WHERE partner_id = ? AND ", "guid", "externalid", key,
        [&](Statement& s) { s.Bind(partner); }, ReadAccount, "Account");
}

Result<User> FindUserOn(Connection& c, PartnerId partner, std::int64_t account_id, std::string_view key) {
    return sql::QueryByGuidOr<User>(
        c, std::string(kUserColumns) + "WHERE a.partner_id = ? AND u.account_id = ? AND ", "u.guid", "u.externalid",
        key, [&](Statement& s) { s.Bind(partner).Bind(account_id); }, ReadUser, "User");
}

Result<User> GetUserById(Connection& c, PartnerId partner, std::int64_t account_id, std::int64_t user_id) {
    return QueryOne<User>(
        c, std::string(kUserColumns) + "WHERE a.partner_id = ? AND u.account_id = ? AND u.id = ?",
        [&](Statement& s) { s.Bind(partner).Bind(account_id).Bind(user_id); }, ReadUser, "User");
}

Result<User> InsertUser(Connection& c, const User& u) {
    Statement s(c,
                "INSERT INTO users (account_id, guid, externalid, name, email, locale, created_at, updated_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?)");
    s.Bind(u.account_id).Bind(u.guid).Bind(u.externalid).Bind(u.name).Bind(u.email).Bind(u.locale);
    s.Bind(u.created_at).Bind(u.updated_at);
    if (auto r = s.Run(); !r) return ConflictOr(std::move(r).error(), "A user with this externalid already exists.");
    User out = u;
    out.id = c.LastInsertId();
    return out;
}

}  // namespace

SqlStore::SqlStore(std::unique_ptr<sql::Database> db, bool migrate,
                   std::optional<std::chrono::milliseconds> lookup_recheck)
    : db_(std::move(db)),
      lookups_([this] { return ReadConfigEpoch(); },
               lookup_recheck.value_or(db_->dialect() == sql::Dialect::kSqlite ? kSqliteLookupRecheck
                                                                               : std::chrono::milliseconds(0))),
      enqueues_(kEnqueueGather),
      ends_(kEndGather) {
    EnsureMigrationsTable();
    const int current = SchemaVersion();
    const int known = sql::LatestVersion();
    if (current > known) {
        throw std::runtime_error("the database schema is at version " + std::to_string(current) +
                                 ", newer than this weft binary knows (" + std::to_string(known) + "): upgrade weft");
    }
    if (migrate) Migrate();
}

namespace {

// Serializes schema changes of processes sharing a PostgreSQL database (an arbitrary constant key).
constexpr std::int64_t kMigrationLockKey = 0x77656674'6d696772;  // "weftmigr"

Status LockMigrations(Connection& c) {
    if (c.dialect() != sql::Dialect::kPostgres) return Ok();  // SQLite: writes are serialized anyway
    Statement lock(c, "SELECT pg_advisory_xact_lock(?)");
    lock.Bind(kMigrationLockKey);
    return lock.Run();
}

}  // namespace

void SqlStore::EnsureMigrationsTable() {
    auto r = db_->Write([&](Connection& c) -> Status {
        if (auto l = LockMigrations(c); !l) return l;
        c.Exec(sql::MigrationSql(
            "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, description TEXT NOT NULL, "
            "applied_at INTEGER NOT NULL)",
            c.dialect()));
        return Ok();
    });
    if (!r) throw std::runtime_error("cannot create the schema_migrations table: " + r.error().detail);
}

int SqlStore::SchemaVersion() {
    return db_->Read([](Connection& c) -> int {
        Statement s(c, "SELECT COALESCE(MAX(version), 0) FROM schema_migrations");
        auto row = s.Step();
        if (!row) throw std::runtime_error("cannot read the schema version: " + row.error().detail);
        return *row ? static_cast<int>(s.Int(0)) : 0;
    });
}

int SqlStore::Migrate() {
    int applied = 0;
    const std::int64_t now =
        std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch())
            .count();
    for (const auto& m : sql::Migrations()) {
        auto r = db_->Write([&](Connection& c) -> Result<bool> {
            if (auto l = LockMigrations(c); !l) return std::move(l).error();
            Statement check(c, "SELECT 1 FROM schema_migrations WHERE version = ?");
            check.Bind(m.version);
            auto row = check.Step();
            if (!row) return std::move(row).error();
            if (*row) return false;
            if (*m.sql != '\0') c.Exec(sql::MigrationSql(m.sql, c.dialect()));
            if (c.dialect() == sql::Dialect::kPostgres && *m.postgres_sql != '\0') c.Exec(m.postgres_sql);
            if (c.dialect() == sql::Dialect::kSqlite && *m.sqlite_sql != '\0') c.Exec(m.sqlite_sql);
            Statement rec(c, "INSERT INTO schema_migrations (version, description, applied_at) VALUES (?, ?, ?)");
            rec.Bind(m.version).Bind(m.description).Bind(now);
            if (auto ins = rec.Run(); !ins) return std::move(ins).error();
            return true;
        });
        if (!r) throw std::runtime_error("migration " + std::to_string(m.version) + " failed: " + r.error().detail);
        applied += *r ? 1 : 0;
    }
    return applied;
}

Status SqlStore::Ping() {
    // Ready when every migration this binary knows is applied (versions need not be contiguous).
    const auto known = static_cast<std::int64_t>(sql::Migrations().size());
    return db_->Read([&](Connection& c) -> Status {
        Statement s(c, "SELECT COUNT(*) FROM schema_migrations WHERE version <= ?");
        s.Bind(sql::LatestVersion());
        auto row = s.Step();
        if (!row) return std::move(row).error();
        if (!*row || s.Int(0) != known) return Error::Unavailable("schema migrations are not applied");
        return Ok();
    });
}

Result<Partner> SqlStore::CreatePartner(const Partner& p) {
    return ConfigWrite([&](Connection& c) -> Result<Partner> {
        Statement s(c,
                    "INSERT INTO partners (guid, name, rate_limit, queue_cap, concurrency, created_at, updated_at) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?)");
        s.Bind(p.guid).Bind(p.name).Bind(p.limits.rate_limit).Bind(p.limits.queue_cap).Bind(p.limits.concurrency);
        s.Bind(p.created_at).Bind(p.updated_at);
        if (auto r = s.Run(); !r) return std::move(r).error();
        Partner out = p;
        out.app_id = c.LastInsertId();
        return out;
    });
}

Result<Partner> SqlStore::UpdatePartnerLimits(PartnerId app_id, const PartnerLimits& limits, Micros now) {
    return ConfigWrite([&](Connection& c) -> Result<Partner> {
        Statement s(c,
                    "UPDATE partners SET rate_limit = ?, queue_cap = ?, concurrency = ?, updated_at = ? "
                    "WHERE app_id = ?");
        s.Bind(limits.rate_limit).Bind(limits.queue_cap).Bind(limits.concurrency).Bind(now).Bind(app_id);
        if (auto r = s.Run(); !r) return std::move(r).error();
        if (c.Changes() == 0) return Error::NotFound("Partner not found.");
        return QueryOne<Partner>(
            c, std::string(kPartnerColumns) + "WHERE app_id = ?", [&](Statement& q) { q.Bind(app_id); }, ReadPartner,
            "Partner");
    });
}

Result<Partner> SqlStore::GetPartner(PartnerId app_id) {
    return db_->Read([&](Connection& c) {
        return QueryOne<Partner>(
            c, std::string(kPartnerColumns) + "WHERE app_id = ?", [&](Statement& s) { s.Bind(app_id); }, ReadPartner,
            "Partner");
    });
}

Result<std::vector<Partner>> SqlStore::ListPartners() {
    return db_->Read([&](Connection& c) {
        return QueryAll<Partner>(
            c, std::string(kPartnerColumns) + "ORDER BY app_id", [](Statement&) {}, ReadPartner);
    });
}

Result<ApiKey> SqlStore::AddApiKey(const ApiKey& key) {
    return ConfigWrite([&](Connection& c) -> Result<ApiKey> {
        Statement s(c, "INSERT INTO api_keys (app_id, prefix, hash, created_at) VALUES (?, ?, ?, ?)");
        s.Bind(key.app_id).Bind(key.prefix).Bind(key.hash_hex).Bind(key.created_at);
        if (auto r = s.Run(); !r) return std::move(r).error();
        ApiKey out = key;
        out.id = c.LastInsertId();
        return out;
    });
}

Status SqlStore::RevokeApiKey(PartnerId app_id, std::int64_t key_id, Micros now) {
    return ConfigWrite([&](Connection& c) -> Status {
        Statement s(c, "UPDATE api_keys SET revoked_at = COALESCE(revoked_at, ?) WHERE app_id = ? AND id = ?");
        s.Bind(now).Bind(app_id).Bind(key_id);
        if (auto r = s.Run(); !r) return r;
        if (c.Changes() == 0) return Error::NotFound("API key not found for this partner.");
        return Ok();
    });
}

Result<std::vector<ApiKey>> SqlStore::ListApiKeys(PartnerId app_id) {
    return db_->Read([&](Connection& c) {
        return QueryAll<ApiKey>(
            c, "SELECT id, app_id, prefix, hash, created_at, revoked_at FROM api_keys WHERE app_id = ? ORDER BY id",
            [&](Statement& s) { s.Bind(app_id); }, ReadKey);
    });
}

Result<std::int64_t> SqlStore::ReadConfigEpoch() {
    return db_->Read(
        [&](Connection& c) { return sql::Count(c, "SELECT epoch FROM config_epoch WHERE id = 1", [](Statement&) {}); });
}

Result<PartnerCredentials> SqlStore::GetPartnerCredentials(PartnerId app_id,
                                                           std::optional<std::string_view> account_key, bool fresh,
                                                           bool defer_check) {
    std::string key = std::to_string(app_id);
    if (account_key) key.append(":").append(*account_key);
    const auto begun = defer_check ? lookups_.BeginDeferred() : sql::LookupCache::Deferred{lookups_.Begin(), {}};
    const std::uint64_t generation = begun.generation;
    auto found = fresh ? std::nullopt : lookups_.FindCredentials(key);
    if (found) {
        found->from_memory = true;
    } else {
        auto read = ReadPartnerCredentials(app_id, account_key);
        if (!read) return read;
        found = std::move(*read);
        // Not kept: an account key that names no account (callers may name any; this bounds what they fill).
        if (!account_key || found->account) lookups_.PutCredentials(key, *found, generation);
    }
    found->lookup_token = generation;
    found->unconfirmed_epoch = begun.epoch;
    return std::move(*found);
}

Result<PartnerCredentials> SqlStore::ReadPartnerCredentials(PartnerId app_id,
                                                            std::optional<std::string_view> account_key) {
    // The hot path of every API call: one statement for the partner, its keys and the addressed account (by
    // guid, else by externalid: the same rule as FindAccount), one row per active key.
    static constexpr const char* kWithAccount =
        "SELECT p.app_id, p.guid, p.name, p.rate_limit, p.queue_cap, p.concurrency, p.created_at, p.updated_at, "
        "k.hash, ag.id, ag.partner_id, ag.guid, ag.externalid, ag.name, ag.expired, ag.expired_at, ag.created_at, "
        "ag.updated_at, ae.id, ae.partner_id, ae.guid, ae.externalid, ae.name, ae.expired, ae.expired_at, "
        "ae.created_at, ae.updated_at FROM partners p LEFT JOIN api_keys k ON k.app_id = p.app_id AND "
        "k.revoked_at IS NULL LEFT JOIN accounts ag ON ag.partner_id = p.app_id AND ag.guid = ?1 "
        "LEFT JOIN accounts ae ON ae.partner_id = p.app_id AND ae.externalid = ?1 WHERE p.app_id = ?2 ORDER BY k.id";
    return db_->Read([&](Connection& c) -> Result<PartnerCredentials> {
        Statement s(c, account_key ? std::string_view(kWithAccount)
                                   : "SELECT p.app_id, p.guid, p.name, p.rate_limit, p.queue_cap, p.concurrency, "
                                     "p.created_at, p.updated_at, k.hash FROM partners p LEFT JOIN api_keys k ON "
                                     "k.app_id = p.app_id AND k.revoked_at IS NULL WHERE p.app_id = ? ORDER BY k.id");
        if (account_key) s.Bind(*account_key);
        s.Bind(app_id);
        PartnerCredentials creds;
        bool found = false;
        while (true) {
            auto row = s.Step();
            if (!row) return std::move(row).error();
            if (!*row) break;
            if (!found) {
                creds.partner = ReadPartner(s);
                // An account whose guid is the key comes first; else the one whose externalid is.
                if (account_key && !s.IsNull(9)) {
                    creds.account = ReadAccountAt(s, 9);
                } else if (account_key && !s.IsNull(18)) {
                    creds.account = ReadAccountAt(s, 18);
                }
            }
            found = true;
            if (!s.IsNull(8)) creds.active_key_hashes.push_back(s.Text(8));
        }
        if (!found) return Error::NotFound("Partner not found.");
        return creds;
    });
}

Result<Account> SqlStore::CreateAccount(const Account& a, const std::optional<User>& first_user) {
    return ConfigWrite([&](Connection& c) -> Result<Account> {
        Statement s(c,
                    "INSERT INTO accounts (partner_id, guid, externalid, name, expired, expired_at, created_at, "
                    "updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)");
        s.Bind(a.partner_id).Bind(a.guid).Bind(a.externalid).Bind(a.name).Bind(a.expired).Bind(a.expired_at);
        s.Bind(a.created_at).Bind(a.updated_at);
        if (auto r = s.Run(); !r) {
            return ConflictOr(std::move(r).error(), "An account with this externalid already exists.");
        }
        Account out = a;
        out.id = c.LastInsertId();
        if (first_user) {
            User u = *first_user;
            u.account_id = out.id;
            if (auto r = InsertUser(c, u); !r) return std::move(r).error();
        }
        return out;
    });
}

Result<Account> SqlStore::FindAccount(PartnerId partner, std::string_view key) {
    return db_->Read([&](Connection& c) { return FindAccountOn(c, partner, key); });
}

Result<Page<Account>> SqlStore::ListAccounts(PartnerId partner, const AccountFilter& filter, const PageRequest& page) {
    // Optional filters as "(... OR ? IS NULL)" keep one prepared statement for every combination (the typed
    // use first: PostgreSQL takes a parameter's type from its first use).
    static constexpr const char* kWhere =
        "WHERE partner_id = ?1 AND (externalid = ?2 OR ?2 IS NULL) "
        "AND (instr(lower(name), lower(?3)) > 0 OR ?3 IS NULL) ";
    // PostgreSQL spells instr() strpos(); everything else is shared.
    static const std::string kWherePg = [] {
        std::string w = kWhere;
        w.replace(w.find("instr("), 6, "strpos(");
        return w;
    }();
    return db_->Read([&](Connection& c) -> Result<Page<Account>> {
        const std::string where = c.dialect() == sql::Dialect::kPostgres ? kWherePg : kWhere;
        auto bind = [&](Statement& s) { s.Bind(partner).Bind(filter.externalid).Bind(filter.search); };
        auto total = Count(c, "SELECT COUNT(*) FROM accounts " + where, bind);
        if (!total) return std::move(total).error();
        auto items = QueryAll<Account>(
            c, kAccountColumns + where + "ORDER BY id LIMIT ?4 OFFSET ?5",
            [&](Statement& s) { bind(s), s.Bind(page.limit).Bind(page.offset); }, ReadAccount);
        if (!items) return std::move(items).error();
        return Page<Account>{std::move(*items), *total};
    });
}

Result<Account> SqlStore::UpdateAccount(PartnerId partner, std::int64_t account_id, const AccountPatch& patch) {
    return ConfigWrite([&](Connection& c) -> Result<Account> {
        // expired_at records when the account was expired; re-activating clears it.
        Statement s(c,
                    "UPDATE accounts SET externalid = COALESCE(?1, externalid), name = COALESCE(?2, name), "
                    "expired = COALESCE(?3, expired), "
                    "expired_at = CASE WHEN ?3 IS NULL THEN expired_at WHEN ?3 = 0 THEN NULL "
                    "ELSE COALESCE(expired_at, ?4) END, updated_at = ?4 WHERE partner_id = ?5 AND id = ?6");
        s.Bind(patch.externalid).Bind(patch.name);
        if (patch.expired) {
            s.Bind(*patch.expired);
        } else {
            s.BindNull();
        }
        s.Bind(patch.now).Bind(partner).Bind(account_id);
        if (auto r = s.Run(); !r) {
            return ConflictOr(std::move(r).error(), "An account with this externalid already exists.");
        }
        if (c.Changes() == 0) return Error::NotFound("Account not found.");
        return QueryOne<Account>(
            c, std::string(kAccountColumns) + "WHERE partner_id = ? AND id = ?",
            [&](Statement& q) { q.Bind(partner).Bind(account_id); }, ReadAccount, "Account");
    });
}

Status SqlStore::DeleteAccount(PartnerId partner, std::int64_t account_id) {
    return ConfigWrite([&](Connection& c) -> Status {
        Statement s(c, "DELETE FROM accounts WHERE partner_id = ? AND id = ?");
        s.Bind(partner).Bind(account_id);
        if (auto r = s.Run(); !r) return r;
        if (c.Changes() == 0) return Error::NotFound("Account not found.");
        return Ok();
    });
}

Result<User> SqlStore::CreateUser(PartnerId partner, const User& user) {
    return db_->Write([&](Connection& c) -> Result<User> {
        auto owner = Count(c, "SELECT COUNT(*) FROM accounts WHERE partner_id = ? AND id = ?",
                           [&](Statement& s) { s.Bind(partner).Bind(user.account_id); });
        if (!owner) return std::move(owner).error();
        if (*owner == 0) return Error::NotFound("Account not found.");
        return InsertUser(c, user);
    });
}

Result<User> SqlStore::FindUser(PartnerId partner, std::int64_t account_id, std::string_view key) {
    return db_->Read([&](Connection& c) { return FindUserOn(c, partner, account_id, key); });
}

Result<Page<User>> SqlStore::ListUsers(PartnerId partner, std::int64_t account_id, const PageRequest& page) {
    return db_->Read([&](Connection& c) -> Result<Page<User>> {
        auto bind = [&](Statement& s) { s.Bind(partner).Bind(account_id); };
        auto total =
            Count(c,
                  "SELECT COUNT(*) FROM users u JOIN accounts a ON a.id = u.account_id WHERE a.partner_id = ? AND "
                  "u.account_id = ?",
                  bind);
        if (!total) return std::move(total).error();
        auto items = QueryAll<User>(
            c, std::string(kUserColumns) + "WHERE a.partner_id = ? AND u.account_id = ? ORDER BY u.id LIMIT ? OFFSET ?",
            [&](Statement& s) { bind(s), s.Bind(page.limit).Bind(page.offset); }, ReadUser);
        if (!items) return std::move(items).error();
        return Page<User>{std::move(*items), *total};
    });
}

Result<User> SqlStore::UpdateUser(PartnerId partner, std::int64_t account_id, std::int64_t user_id,
                                  const UserPatch& patch) {
    return db_->Write([&](Connection& c) -> Result<User> {
        auto current = GetUserById(c, partner, account_id, user_id);
        if (!current) return current;
        User u = *current;
        if (patch.externalid) u.externalid = *patch.externalid;
        if (patch.name) u.name = *patch.name;
        if (patch.email) u.email = *patch.email;
        if (patch.locale) u.locale = *patch.locale;
        u.updated_at = patch.now;
        Statement s(c, "UPDATE users SET externalid = ?, name = ?, email = ?, locale = ?, updated_at = ? WHERE id = ?");
        s.Bind(u.externalid).Bind(u.name).Bind(u.email).Bind(u.locale).Bind(u.updated_at).Bind(u.id);
        if (auto r = s.Run(); !r)
            return ConflictOr(std::move(r).error(), "A user with this externalid already exists.");
        return u;
    });
}

Status SqlStore::DeleteUser(PartnerId partner, std::int64_t account_id, std::int64_t user_id) {
    return db_->Write([&](Connection& c) -> Status {
        Statement s(c,
                    "DELETE FROM users WHERE id = ? AND account_id = ? AND account_id IN "
                    "(SELECT id FROM accounts WHERE partner_id = ?)");
        s.Bind(user_id).Bind(account_id).Bind(partner);
        if (auto r = s.Run(); !r) return r;
        if (c.Changes() == 0) return Error::NotFound("User not found.");
        return Ok();
    });
}

Result<std::string> SqlStore::ServerSecret(std::string_view name, std::string_view fresh, Micros now) {
    return db_->Write([&](Connection& c) -> Result<std::string> {
        Statement insert(c,
                         "INSERT INTO server_secrets (name, value, created_at) VALUES (?, ?, ?) "
                         "ON CONFLICT (name) DO NOTHING");
        insert.Bind(name).Bind(fresh).Bind(now);
        if (auto r = insert.Run(); !r) return std::move(r).error();
        return sql::QueryOne<std::string>(
            c, "SELECT value FROM server_secrets WHERE name = ?", [&](Statement& s) { s.Bind(name); },
            [](const Statement& s) { return s.Text(0); }, "Server secret");
    });
}

}  // namespace weft
