#include <gtest/gtest.h>

#include <chrono>
#include <set>
#include <thread>

#include "core/ids.h"
#include "store/sql/migrations.h"
#include "store/sql/query.h"
#include "store_backends.h"

namespace weft {
namespace {

class StoreTest : public ::testing::TestWithParam<testing::Backend> {
  protected:
    void SetUp() override {
        WEFT_REQUIRE_BACKEND(backend_);
        store_ = backend_.Open(2, true);
        a_ = MakePartner("A");
        b_ = MakePartner("B");
    }

    PartnerId MakePartner(const std::string& name) {
        Partner p;
        p.guid = NewGuid(now_);
        p.name = name;
        p.created_at = p.updated_at = now_;
        auto r = store_->CreatePartner(p);
        EXPECT_TRUE(r.ok());
        return r->app_id;
    }

    Account MakeAccount(PartnerId partner, const std::string& externalid, const std::string& name = "Acme") {
        Account a;
        a.partner_id = partner;
        a.guid = NewGuid(now_);
        a.externalid = externalid;
        a.name = name;
        a.created_at = a.updated_at = now_;
        auto r = store_->CreateAccount(a, std::nullopt);
        EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().detail);
        return r.ok() ? *r : Account{};
    }

    testing::TestBackend backend_{GetParam()};
    std::unique_ptr<SqlStore> store_;
    Micros now_ = 1'795'851'521'000'000;
    PartnerId a_ = 0, b_ = 0;
};

TEST_P(StoreTest, FindsAccountByGuidAndByExternalid) {
    const Account acc = MakeAccount(a_, "cust-1");
    auto by_guid = store_->FindAccount(a_, acc.guid);
    ASSERT_TRUE(by_guid.ok());
    EXPECT_EQ(by_guid->externalid, "cust-1");
    auto by_ext = store_->FindAccount(a_, "cust-1");
    ASSERT_TRUE(by_ext.ok());
    EXPECT_EQ(by_ext->guid, acc.guid);
}

TEST_P(StoreTest, AnotherPartnersAccountIsNotFound) {
    const Account acc = MakeAccount(a_, "cust-1");
    EXPECT_EQ(store_->FindAccount(b_, acc.guid).error().code, ErrorCode::kNotFound);
    EXPECT_EQ(store_->FindAccount(b_, "cust-1").error().code, ErrorCode::kNotFound);
    AccountPatch patch;
    patch.name = "stolen";
    EXPECT_EQ(store_->UpdateAccount(b_, acc.id, patch).error().code, ErrorCode::kNotFound);
    EXPECT_EQ(store_->DeleteAccount(b_, acc.id).error().code, ErrorCode::kNotFound);
    EXPECT_EQ(store_->ListAccounts(b_, {}, {}).value().total, 0);
    User u;
    u.account_id = acc.id;
    u.guid = NewGuid(now_);
    EXPECT_EQ(store_->CreateUser(b_, u).error().code, ErrorCode::kNotFound);
    EXPECT_EQ(store_->FindAccount(a_, acc.guid)->name, "Acme");
}

TEST_P(StoreTest, ExternalidIsUniquePerPartnerOnly) {
    MakeAccount(a_, "same");
    Account dup;
    dup.partner_id = a_;
    dup.guid = NewGuid(now_);
    dup.externalid = "same";
    dup.name = "x";
    auto r = store_->CreateAccount(dup, std::nullopt);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, ErrorCode::kConflict);
    MakeAccount(b_, "same");
}

TEST_P(StoreTest, ListPagesAndFilters) {
    for (int i = 0; i < 25; ++i) MakeAccount(a_, "c" + std::to_string(i), i % 5 == 0 ? "Big Corp" : "small shop");
    auto page = store_->ListAccounts(a_, {}, {10, 10});
    ASSERT_TRUE(page.ok());
    EXPECT_EQ(page->total, 25);
    ASSERT_EQ(page->items.size(), 10u);
    EXPECT_EQ(page->items[0].externalid, "c10");
    AccountFilter search;
    search.search = "big";
    EXPECT_EQ(store_->ListAccounts(a_, search, {0, 100})->total, 5);
    AccountFilter ext;
    ext.externalid = "c7";
    auto one = store_->ListAccounts(a_, ext, {0, 100});
    ASSERT_EQ(one->items.size(), 1u);
    EXPECT_EQ(one->items[0].externalid, "c7");
    EXPECT_TRUE(store_->ListAccounts(a_, {}, {100, 100})->items.empty());
}

TEST_P(StoreTest, ExpireAndReactivate) {
    const Account acc = MakeAccount(a_, "e");
    AccountPatch expire;
    expire.expired = true;
    expire.now = now_ + 5;
    auto expired = store_->UpdateAccount(a_, acc.id, expire);
    ASSERT_TRUE(expired.ok());
    EXPECT_TRUE(expired->expired);
    EXPECT_EQ(expired->expired_at, now_ + 5);
    AccountPatch again = expire;
    again.now = now_ + 10;
    EXPECT_EQ(store_->UpdateAccount(a_, acc.id, again)->expired_at, now_ + 5);  // first expiry is kept
    AccountPatch revive;
    revive.expired = false;
    revive.now = now_ + 20;
    auto revived = store_->UpdateAccount(a_, acc.id, revive);
    EXPECT_FALSE(revived->expired);
    EXPECT_FALSE(revived->expired_at.has_value());
}

TEST_P(StoreTest, DeleteCascadesToUsersAndFreesTheExternalid) {
    const Account acc = MakeAccount(a_, "gone");
    User u;
    u.account_id = acc.id;
    u.guid = NewGuid(now_);
    u.externalid = "u1";
    ASSERT_TRUE(store_->CreateUser(a_, u).ok());
    ASSERT_TRUE(store_->DeleteAccount(a_, acc.id).ok());
    EXPECT_EQ(store_->FindUser(a_, acc.id, "u1").error().code, ErrorCode::kNotFound);
    EXPECT_EQ(store_->FindAccount(a_, "gone").error().code, ErrorCode::kNotFound);
    MakeAccount(a_, "gone");
}

TEST_P(StoreTest, RevokedKeysAreNotCredentials) {
    ApiKey k1{0, a_, "aaaaaa", "hash1", now_, std::nullopt};
    ApiKey k2{0, a_, "bbbbbb", "hash2", now_, std::nullopt};
    auto s1 = store_->AddApiKey(k1);
    ASSERT_TRUE(store_->AddApiKey(k2).ok());
    ASSERT_TRUE(store_->RevokeApiKey(a_, s1->id, now_).ok());
    auto creds = store_->GetPartnerCredentials(a_, std::nullopt);
    ASSERT_TRUE(creds.ok());
    EXPECT_EQ(creds->active_key_hashes, std::vector<std::string>{"hash2"});
    EXPECT_EQ(store_->RevokeApiKey(b_, s1->id, now_).error().code, ErrorCode::kNotFound);
}

TEST_P(StoreTest, CredentialsCarryTheAddressedAccountOfThatPartnerOnly) {
    ASSERT_TRUE(store_->AddApiKey({0, a_, "aaaaaa", "hash1", now_, std::nullopt}).ok());
    ASSERT_TRUE(store_->AddApiKey({0, a_, "bbbbbb", "hash2", now_, std::nullopt}).ok());
    const Account acc = MakeAccount(a_, "mine");
    auto own = store_->GetPartnerCredentials(a_, std::string_view("mine"));
    ASSERT_TRUE(own.ok());
    ASSERT_TRUE(own->account.has_value());
    EXPECT_EQ(own->account->guid, acc.guid);
    auto by_guid = store_->GetPartnerCredentials(a_, std::string_view(acc.guid));
    EXPECT_EQ(by_guid->account->externalid, "mine");
    auto other = store_->GetPartnerCredentials(b_, std::string_view(acc.guid));
    ASSERT_TRUE(other.ok());
    EXPECT_FALSE(other->account.has_value());
    EXPECT_EQ(store_->GetPartnerCredentials(999, std::nullopt).error().code, ErrorCode::kNotFound);
    // An account whose externalid is another account's guid: the guid wins, as in FindAccount; every active key
    // is still there once.
    const Account shadow = MakeAccount(a_, acc.guid, "Shadow");
    auto both = store_->GetPartnerCredentials(a_, std::string_view(acc.guid));
    ASSERT_TRUE(both.ok());
    EXPECT_EQ(both->account->id, acc.id);
    EXPECT_EQ(store_->FindAccount(a_, acc.guid)->id, acc.id);
    EXPECT_EQ(both->active_key_hashes, (std::vector<std::string>{"hash1", "hash2"}));
    EXPECT_EQ(own->active_key_hashes, (std::vector<std::string>{"hash1", "hash2"}));
    EXPECT_EQ(store_->GetPartnerCredentials(a_, std::string_view("nobody"))->account, std::nullopt);
    EXPECT_NE(shadow.id, acc.id);
}

TEST_P(StoreTest, ReopeningAppliesNothingTwiceAndPingIsReady) {
    EXPECT_TRUE(store_->Ping().ok());
    MakeAccount(a_, "kept");
    store_.reset();
    store_ = backend_.Open(1, true);
    EXPECT_EQ(store_->Migrate(), 0);
    EXPECT_TRUE(store_->FindAccount(a_, "kept").ok());
}

TEST_P(StoreTest, RefusesASchemaNewerThanTheBinary) {
    auto w = store_->database().Write([](sql::Connection& c) -> Status {
        c.Exec("INSERT INTO schema_migrations (version, description, applied_at) VALUES (9999, 'future', 0)");
        return Ok();
    });
    ASSERT_TRUE(w.ok());
    store_.reset();
    EXPECT_THROW(backend_.Open(1, true), std::runtime_error);
}

TEST_P(StoreTest, UnmigratedDatabaseIsNotReady) {
    auto fresh = backend_.Open(1, false, "fresh");
    EXPECT_FALSE(fresh->Ping().ok());
    EXPECT_EQ(fresh->Migrate(), static_cast<int>(sql::Migrations().size()));
    EXPECT_TRUE(fresh->Ping().ok());
}

// --- Lookups kept in memory (sql::LookupCache) ---

Automation NewAutomation(std::int64_t account, Micros now, const std::string& name) {
    Automation b;
    b.account_id = account;
    b.guid = NewGuid(now);
    b.name = name;
    b.run_mode = "on demand";
    b.definition = "{\"v\":1}";
    b.execution_token = "t";
    b.created_at = b.updated_at = now;
    return b;
}

// Each lookup is made twice, so that a value kept in memory is what answers.
Result<PartnerCredentials> CredentialsTwice(SqlStore& store, PartnerId partner, const char* account) {
    (void)store.GetPartnerCredentials(partner, std::string_view(account));
    return store.GetPartnerCredentials(partner, std::string_view(account));
}

std::string DefinitionTwice(SqlStore& store, PartnerId partner, std::int64_t account, const std::string& key) {
    (void)store.FindAutomationToRun(partner, account, key);
    auto b = store.FindAutomationToRun(partner, account, key);
    return b ? b->definition : "(" + b.error().message + ")";
}

TEST_P(StoreTest, LookupsThatRunsMakeSeeEveryChangeAtOnceWhoeverMakesItWhenTheyCheckEachTime) {
    // `other` is another process on the same database (a server, while `store_` is a CLI command, say), which
    // reads config_epoch at every lookup (PostgreSQL's default).
    auto other = backend_.Open(1, false, "main", std::chrono::milliseconds(0));
    auto creds = [&](const char* account) { return CredentialsTwice(*other, a_, account); };
    auto definition = [&](std::int64_t account, const std::string& key) {
        return DefinitionTwice(*other, a_, account, key);
    };
    auto key = store_->AddApiKey({0, a_, "aaaaaa", "hash1", now_, std::nullopt});
    ASSERT_TRUE(key.ok());
    const Account acc = MakeAccount(a_, "cust");
    EXPECT_EQ(creds("cust")->active_key_hashes, std::vector<std::string>{"hash1"});

    ASSERT_TRUE(store_->AddApiKey({0, a_, "bbbbbb", "hash2", now_, std::nullopt}).ok());
    EXPECT_EQ(creds("cust")->active_key_hashes, (std::vector<std::string>{"hash1", "hash2"}));
    ASSERT_TRUE(store_->RevokeApiKey(a_, key->id, now_).ok());
    EXPECT_EQ(creds("cust")->active_key_hashes, std::vector<std::string>{"hash2"});
    EXPECT_EQ(other->GetPartnerCredentials(a_, std::nullopt)->active_key_hashes, std::vector<std::string>{"hash2"});

    ASSERT_TRUE(store_->UpdateAccount(a_, acc.id, AccountPatch{std::nullopt, std::nullopt, true, now_}).ok());
    EXPECT_TRUE(creds("cust")->account->expired);
    ASSERT_TRUE(other->UpdateAccount(a_, acc.id, AccountPatch{std::nullopt, std::nullopt, false, now_}).ok());
    EXPECT_FALSE(creds("cust")->account->expired) << "its own change too";
    ASSERT_TRUE(store_->UpdatePartnerLimits(a_, PartnerLimits{7, 8, 9}, now_).ok());
    EXPECT_EQ(creds("cust")->partner.limits.rate_limit, 7);

    auto b = store_->CreateAutomation(a_, NewAutomation(acc.id, now_, "sync"));
    ASSERT_TRUE(b.ok()) << b.error().detail;
    EXPECT_EQ(definition(acc.id, "sync"), "{\"v\":1}");
    Automation changed = *b;
    changed.definition = "{\"v\":2}";
    changed.updated_at = now_ + 1;
    ASSERT_TRUE(store_->SaveAutomation(a_, changed).ok());
    EXPECT_EQ(definition(acc.id, "sync"), "{\"v\":2}");
    EXPECT_EQ(definition(acc.id, b->guid), "{\"v\":2}");
    ASSERT_TRUE(store_->DeleteAutomation(a_, acc.id, b->id).ok());
    EXPECT_EQ(definition(acc.id, "sync"), "(Automation not found.)");

    // Lookups of what does not exist yet find it once it does.
    EXPECT_FALSE(creds("later")->account.has_value());
    MakeAccount(a_, "later");
    EXPECT_TRUE(creds("later")->account.has_value());
    ASSERT_TRUE(store_->DeleteAccount(a_, acc.id).ok());
    EXPECT_FALSE(creds("cust")->account.has_value());
}

TEST_P(StoreTest, LookupsSeeThisProcesssOwnChangesAtOnceWithoutReadingTheEpoch) {
    // A store that would not read the epoch again for an hour: only its own writes can refresh what it keeps.
    auto store = backend_.Open(2, false, "main", std::chrono::hours(1));
    auto creds = [&](const char* account) { return CredentialsTwice(*store, a_, account); };
    auto definition = [&](std::int64_t account, const std::string& key) {
        return DefinitionTwice(*store, a_, account, key);
    };
    auto key = store->AddApiKey({0, a_, "aaaaaa", "hash1", now_, std::nullopt});
    ASSERT_TRUE(store->AddApiKey({0, a_, "bbbbbb", "hash2", now_, std::nullopt}).ok());
    auto acc = store->CreateAccount(Account{0, a_, NewGuid(now_), "cust", "Acme", false, std::nullopt, now_, now_},
                                    std::nullopt);
    ASSERT_TRUE(acc.ok());
    EXPECT_EQ(creds("cust")->active_key_hashes.size(), 2u);
    ASSERT_TRUE(store->RevokeApiKey(a_, key->id, now_).ok());
    EXPECT_EQ(creds("cust")->active_key_hashes, std::vector<std::string>{"hash2"});
    ASSERT_TRUE(store->UpdateAccount(a_, acc->id, AccountPatch{std::nullopt, std::nullopt, true, now_}).ok());
    EXPECT_TRUE(creds("cust")->account->expired);
    ASSERT_TRUE(store->UpdatePartnerLimits(a_, PartnerLimits{7, 8, 9}, now_).ok());
    EXPECT_EQ(creds("cust")->partner.limits.rate_limit, 7);
    auto b = store->CreateAutomation(a_, NewAutomation(acc->id, now_, "sync"));
    ASSERT_TRUE(b.ok());
    EXPECT_EQ(definition(acc->id, "sync"), "{\"v\":1}");
    Automation changed = *b;
    changed.definition = "{\"v\":2}";
    changed.updated_at = now_ + 1;
    ASSERT_TRUE(store->SaveAutomation(a_, changed).ok());
    EXPECT_EQ(definition(acc->id, "sync"), "{\"v\":2}");
    ASSERT_TRUE(store->DeleteAutomation(a_, acc->id, b->id).ok());
    EXPECT_EQ(definition(acc->id, "sync"), "(Automation not found.)");
    ASSERT_TRUE(store->DeleteAccount(a_, acc->id).ok());
    EXPECT_FALSE(creds("cust")->account.has_value());
    // Another process's change, on the other hand, waits for the next read of the epoch.
    const Account later = MakeAccount(a_, "later");
    EXPECT_TRUE(creds("later")->account.has_value());
    ASSERT_TRUE(
        store_->UpdateAccount(a_, later.id, AccountPatch{std::nullopt, std::string("Renamed"), std::nullopt, now_})
            .ok());
    EXPECT_EQ(creds("later")->account->name, "Acme") << "kept in memory for the hour";
}

TEST_P(StoreTest, ByDefaultAnotherProcesssChangeIsSeenOnSqliteOnceTheRecheckHasPassedAndOnPostgresAtOnce) {
    const Account acc = MakeAccount(a_, "cust");
    auto server = backend_.Open(1, false);  // the default for this store
    EXPECT_FALSE(server->GetPartnerCredentials(a_, std::string_view("cust"))->account->expired);
    EXPECT_FALSE(server->GetPartnerCredentials(a_, std::string_view("cust"))->account->expired);
    ASSERT_TRUE(store_->UpdateAccount(a_, acc.id, AccountPatch{std::nullopt, std::nullopt, true, now_}).ok());
    if (GetParam() == testing::Backend::kPostgres) {
        EXPECT_TRUE(server->GetPartnerCredentials(a_, std::string_view("cust"))->account->expired);
        return;
    }
    // On SQLite, at most kSqliteLookupRecheck later (the wait only bounds the time from below).
    std::this_thread::sleep_for(SqlStore::kSqliteLookupRecheck + std::chrono::milliseconds(20));
    EXPECT_TRUE(server->GetPartnerCredentials(a_, std::string_view("cust"))->account->expired);
}

TEST_P(StoreTest, LookupsAreLocalOnlyOnSqlite) {
    // The run route is handled on the I/O thread only where a call's lookups never wait for another process.
    EXPECT_EQ(store_->LookupsLocal(), GetParam() == testing::Backend::kSqlite);
}

TEST_P(StoreTest, EveryChangeToWhatLookupsKeepBumpsTheEpochButTheSchedulersAdvance) {
    SqlStore& store = *store_;
    const Micros now = now_;
    auto epoch = [&] {
        auto e = store.database().Read([](sql::Connection& c) {
            return sql::Count(c, "SELECT epoch FROM config_epoch WHERE id = 1", [](auto&) {});
        });
        EXPECT_TRUE(e.ok());
        return e.ok() ? *e : -1;
    };
    std::int64_t last = epoch();
    auto bumped = [&](const char* what) {
        const std::int64_t e = epoch();
        EXPECT_GT(e, last) << what;
        last = e;
    };
    MakePartner("C");
    bumped("partner created");
    ASSERT_TRUE(store.UpdatePartnerLimits(a_, PartnerLimits{7, 8, 9}, now).ok());
    bumped("partner limits");
    auto key = store.AddApiKey({0, a_, "aaaaaa", "hash1", now, std::nullopt});
    bumped("key added");
    ASSERT_TRUE(store.RevokeApiKey(a_, key->id, now).ok());
    bumped("key revoked");
    const Account acc = MakeAccount(a_, "cust");
    bumped("account created");
    ASSERT_TRUE(
        store.UpdateAccount(a_, acc.id, AccountPatch{std::nullopt, std::string("New"), std::nullopt, now}).ok());
    bumped("account renamed");
    Automation b = NewAutomation(acc.id, now, "every hour");
    b.run_mode = "scheduled";
    b.next_fire_at = now;
    auto created = store.CreateAutomation(a_, b);
    ASSERT_TRUE(created.ok()) << created.error().detail;
    bumped("automation created");
    created->persisted_inputs = "{\"n\":1}";
    created->updated_at = now + 1;
    ASSERT_TRUE(store.SaveAutomation(a_, *created).ok());
    bumped("automation saved");
    // A tick moves next_fire_at alone, at every interval of every scheduled automation: it changes nothing the
    // lookups keep, and must not empty every process's cache each time.
    auto fired = store.FireSchedule(created->id, now, now + 3'600'000'000, std::nullopt, 200);
    ASSERT_TRUE(fired.ok()) << fired.error().detail;
    EXPECT_EQ(fired->outcome, FireOutcome::kAdvanced);
    EXPECT_EQ(epoch(), last) << "the scheduler's advance";
    // Any other column changed, even without updated_at (as the Setup flow's end sets setup_complete).
    ASSERT_TRUE(store.database()
                    .Write([&](sql::Connection& c) -> Status {
                        c.Exec("UPDATE automations SET state = 'disabled', next_fire_at = NULL WHERE id = " +
                               std::to_string(created->id));
                        return Ok();
                    })
                    .ok());
    bumped("state and next_fire_at, updated_at kept");
    ASSERT_TRUE(store.DeleteAutomation(a_, acc.id, created->id).ok());
    bumped("automation deleted");
    ASSERT_TRUE(store.DeleteAccount(a_, acc.id).ok());
    bumped("account deleted");
}

TEST_P(StoreTest, TheAutomationsUpdateTriggerNamesEveryColumnButNextFireAt) {
    // A column added later and left out of the trigger would change without the epoch moving.
    const bool pg = store_->database().dialect() == sql::Dialect::kPostgres;
    auto r =
        store_->database().Read([&](sql::Connection& c) -> Result<std::pair<std::string, std::vector<std::string>>> {
            sql::Statement t(c, pg ? "SELECT lower(pg_get_triggerdef(oid)) FROM pg_trigger WHERE tgname = "
                                     "'automations_epoch_update'"
                                   : "SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = "
                                     "'automations_epoch_update'");
            auto row = t.Step();
            if (!row) return std::move(row).error();
            if (!*row) return Error::NotFound("no automations_epoch_update trigger");
            std::pair<std::string, std::vector<std::string>> out{t.Text(0), {}};
            sql::Statement cols(c, pg ? "SELECT column_name FROM information_schema.columns WHERE table_name = "
                                        "'automations' AND table_schema = current_schema()"
                                      : "SELECT name FROM pragma_table_info('automations')");
            while (true) {
                auto next = cols.Step();
                if (!next) return std::move(next).error();
                if (!*next) break;
                out.second.push_back(cols.Text(0));
            }
            return out;
        });
    ASSERT_TRUE(r.ok()) << r.error().message << r.error().detail;
    const auto& [trigger, columns] = *r;
    ASSERT_GT(columns.size(), 20u);
    for (const auto& col : columns) {
        if (col == "next_fire_at") continue;
        const std::string wanted =
            pg ? "new." + col + " is distinct from old." + col + ")" : "NEW." + col + " IS NOT OLD." + col;
        EXPECT_NE(trigger.find(wanted), std::string::npos) << col << " in " << trigger;
    }
}

TEST(MigrationsTest, VersionsAreOneToNEachOnce) {
    // A repeated version would be skipped as applied on every database that has the first one.
    std::set<int> versions;
    for (const auto& m : sql::Migrations()) EXPECT_TRUE(versions.insert(m.version).second) << m.version;
    ASSERT_FALSE(versions.empty());
    EXPECT_EQ(*versions.begin(), 1);
    EXPECT_EQ(*versions.rbegin(), static_cast<int>(versions.size()));
    EXPECT_EQ(sql::LatestVersion(), static_cast<int>(versions.size()));
}

INSTANTIATE_TEST_SUITE_P(Backends, StoreTest, ::testing::Values(testing::Backend::kSqlite, testing::Backend::kPostgres),
                         testing::BackendName);

}  // namespace
}  // namespace weft
